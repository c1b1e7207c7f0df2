//! AdminUserGlobalSignOut: signs a user out of every session (SigV4, IAM allow-list).
//!
//! Local pools resolve `Username` (username, email alias or sub) to the user's sub. An external
//! pool has no user directory here: the entry is stored under `Username` as given, and tokens
//! are checked against both their `sub` and their `username` claim.

use serde_json::Value;

use super::{admin_target, empty, Ctx, Input, Operation};
use crate::error::Error;

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let (pool, username) = admin_target(input, ctx, Operation::AdminUserGlobalSignOut)?;
    let user_id = match pool.local {
        Some(_) => ctx.user(pool, username).await?.sub,
        None => username.to_owned(),
    };
    let actor = ctx.actor(Operation::AdminUserGlobalSignOut, ctx.caller_name());
    ctx.revocations()
        .revoke_user(pool, &user_id, &actor)
        .await?;
    Ok(empty())
}
