//! AdminGetUser: a local user's record (SigV4).

use serde_json::{json, Value};

use super::{admin_target, Ctx, Input, Operation};
use crate::error::Error;

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let (pool, username) = admin_target(input, ctx, Operation::AdminGetUser)?;
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
