//! DeleteUser: the caller deletes themself (access token; local pools). As AdminDeleteUser, the
//! user's tokens are revoked first, through the revocation list, so a failure part-way leaves
//! them signed out rather than deleted with live tokens.

use serde_json::Value;

use super::{account::signed_in_user, empty, validated, Ctx, Input};
use crate::{
    error::Error,
    validate::{Violations, TOKEN_MODEL},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let token = input.string("AccessToken")?;
    validated(Violations::new().string("accessToken", token, &TOKEN_MODEL, true))?;
    let (pool, user) = signed_in_user(input, ctx).await?;
    let who = format!("user:{}", user.sub);
    let actor = ctx.actor(&who);
    ctx.revocations()
        .revoke_user(pool, &pool.user_id(&user.sub), &actor)
        .await?;
    ctx.directory(pool)?.delete(&user, ctx.io.log).await?;
    Ok(empty())
}
