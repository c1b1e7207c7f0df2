//! AdminDisableUser and AdminEnableUser (SigV4). Disabling revokes like a sign-out: the
//! revocation is written first, so a failure leaves the user signed out, never disabled with
//! live tokens.

use serde_json::Value;

use super::{empty, validated, Ctx, Input, Operation};
use crate::{
    error::Error,
    validate::{Violations, USERNAME, USER_POOL_ID},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>, enable: bool) -> Result<Value, Error> {
    let operation = if enable {
        Operation::AdminEnableUser
    } else {
        Operation::AdminDisableUser
    };
    let pool_id = input.string("UserPoolId")?;
    let username = input.string("Username")?;
    validated(
        Violations::new()
            .string("userPoolId", pool_id, &USER_POOL_ID, true)
            .string("username", username, &USERNAME, true),
    )?;
    let (pool_id, username) = (pool_id.unwrap_or_default(), username.unwrap_or_default());
    ctx.require_permission(operation, pool_id)?;
    let pool = ctx.pool(pool_id)?;
    let mut user = ctx.user(pool, username).await?;
    if !enable {
        let actor = ctx.actor(operation, ctx.caller_name());
        ctx.revocations()
            .revoke_user(pool, &user.sub, &actor)
            .await?;
    }
    if user.enabled != enable {
        user.enabled = enable;
        ctx.directory(pool)?.save(&user).await?;
    }
    Ok(empty())
}
