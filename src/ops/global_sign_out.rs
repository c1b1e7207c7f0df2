//! GlobalSignOut: the caller signs themself out of every session (access token in the body).

use serde_json::Value;

use super::{empty, validated, Ctx, Input, Operation};
use crate::{
    auth::Expect,
    error::{Error, TokenError},
    local::tokens::ADMIN_SCOPE,
    validate::{Violations, TOKEN_MODEL},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let token = input.string("AccessToken")?;
    validated(Violations::new().string("accessToken", token, &TOKEN_MODEL, true))?;
    let caller = ctx
        .app
        .authorize(
            ctx.config,
            token.unwrap_or_default(),
            &Expect::ACCESS,
            ctx.io,
        )
        .await?;
    let auth = caller.auth();
    if !auth.claims().has_scope(ADMIN_SCOPE) {
        return Err(auth.refuse(TokenError::MissingScope));
    }
    let pool = ctx.pool(auth.pool_id())?;
    let who = format!("user:{}", auth.claims().sub);
    let actor = ctx.actor(Operation::GlobalSignOut, &who);
    ctx.revocations()
        .revoke_user(pool, &auth.claims().sub, &actor)
        .await?;
    Ok(empty())
}
