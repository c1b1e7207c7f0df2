//! GlobalSignOut: the caller signs themself out of every session (access token in the body).

use serde_json::Value;

use super::{empty, signed_in_caller, Ctx, Input};
use crate::error::Error;

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let caller = signed_in_caller(input, ctx).await?;
    let auth = caller.auth();
    let pool = ctx.pool(auth.pool_id())?;
    let sub = &auth.claims().sub;
    let who = format!("user:{sub}");
    let actor = ctx.actor(&who);
    ctx.revocations()
        .revoke_user(pool, &pool.user_id(sub), &actor)
        .await?;
    Ok(empty())
}
