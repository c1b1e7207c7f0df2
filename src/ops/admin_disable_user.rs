//! AdminDisableUser (SigV4): disabling revokes like a sign-out. The revocation is written
//! first, so a failure leaves the user signed out, never disabled with live tokens.

use serde_json::Value;

use super::{admin_target, empty, Ctx, Input};
use crate::error::Error;

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let (pool, username) = admin_target(input, ctx)?;
    let mut user = ctx.user(pool, username).await?;
    let actor = ctx.actor(ctx.caller_name());
    ctx.revocations()
        .revoke_user(pool, &pool.user_id(&user.sub), &actor)
        .await?;
    if user.enabled {
        user.enabled = false;
        ctx.directory(pool)?.save(&user).await?;
    }
    Ok(empty())
}
