//! AdminEnableUser (SigV4): the user may sign in again. Tokens revoked when they were disabled
//! stay revoked.

use serde_json::Value;

use super::{admin_target, empty, Ctx, Input};
use crate::error::Error;

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let (pool, username) = admin_target(input, ctx)?;
    let mut user = ctx.user(pool, username).await?;
    if !user.enabled {
        user.enabled = true;
        ctx.directory(pool)?.save(&user).await?;
    }
    Ok(empty())
}
