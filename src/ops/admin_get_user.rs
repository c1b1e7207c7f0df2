//! AdminGetUser: a local user's record (SigV4).

use serde_json::{json, Value};

use super::{validated, Ctx, Input, Operation};
use crate::{
    error::Error,
    validate::{Violations, USERNAME, USER_POOL_ID},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let pool_id = input.string("UserPoolId")?;
    let username = input.string("Username")?;
    validated(
        Violations::new()
            .string("userPoolId", pool_id, &USER_POOL_ID, true)
            .string("username", username, &USERNAME, true),
    )?;
    let (pool_id, username) = (pool_id.unwrap_or_default(), username.unwrap_or_default());
    ctx.require_permission(Operation::AdminGetUser, pool_id)?;
    let pool = ctx.pool(pool_id)?;
    let user = ctx.user(pool, username).await?;
    Ok(json!({
        "Username": user.username,
        "UserAttributes": user.attributes_json(),
        "UserCreateDate": user.created_ms as f64 / 1000.0,
        "UserLastModifiedDate": user.modified_ms as f64 / 1000.0,
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    }))
}
