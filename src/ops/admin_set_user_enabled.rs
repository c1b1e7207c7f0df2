//! AdminDisableUser and AdminEnableUser (SigV4). Disabling revokes like a sign-out: the
//! revocation is written first, so a failure leaves the user signed out, never disabled with
//! live tokens.

use serde_json::Value;

use super::{admin_target, empty, Ctx, Input, Operation};
use crate::error::Error;

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>, enable: bool) -> Result<Value, Error> {
    let operation = if enable {
        Operation::AdminEnableUser
    } else {
        Operation::AdminDisableUser
    };
    let (pool, username) = admin_target(input, ctx, operation)?;
    let mut user = ctx.user(pool, username).await?;
    if !enable {
        let actor = ctx.actor(operation, ctx.caller_name());
        ctx.revocations()
            .revoke_user(pool, &pool.user_id(&user.sub), &actor)
            .await?;
    }
    if user.enabled != enable {
        user.enabled = enable;
        ctx.directory(pool)?.save(&user).await?;
    }
    Ok(empty())
}
