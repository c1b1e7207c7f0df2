//! AdminDeleteUser: deletes a local user (SigV4). Their tokens are revoked first, so a failure
//! part-way leaves them signed out rather than deleted with live tokens.

use serde_json::Value;

use super::{empty, validated, Ctx, Input, Operation};
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
    ctx.require_permission(Operation::AdminDeleteUser, pool_id)?;
    let pool = ctx.pool(pool_id)?;
    let user = ctx.user(pool, username).await?;
    let actor = ctx.actor(Operation::AdminDeleteUser, ctx.caller_name());
    ctx.revocations()
        .revoke_user(pool, &user.sub, &actor)
        .await?;
    ctx.directory(pool)?.delete(&user, ctx.io.log).await?;
    Ok(empty())
}
