//! AdminDeleteUser: deletes a local user (SigV4). Their tokens are revoked first, so a failure
//! part-way leaves them signed out rather than deleted with live tokens.

use serde_json::Value;

use super::{admin_target, empty, Ctx, Input};
use crate::error::Error;

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let (pool, username) = admin_target(input, ctx)?;
    let user = ctx.user(pool, username).await?;
    let actor = ctx.actor(ctx.caller_name());
    ctx.revocations()
        .revoke_user(pool, &pool.user_id(&user.sub), &actor)
        .await?;
    ctx.directory(pool)?.delete(&user, ctx.io.log).await?;
    Ok(empty())
}
