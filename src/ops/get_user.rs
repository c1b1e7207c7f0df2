//! GetUser: the caller's profile (access token in the body). A local pool answers from its user
//! directory; an external pool answers from the verified claims.

use serde_json::{json, Value};

use super::{validated, Ctx, Input};
use crate::{
    auth::Expect,
    error::{ApiError, Error, TokenError},
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
    let claims = auth.claims();
    if !claims.has_scope(ADMIN_SCOPE) {
        return Err(auth.refuse(TokenError::MissingScope));
    }
    let pool = ctx.pool(auth.pool_id())?;
    if pool.local.is_none() {
        return Ok(json!({
            "Username": claims.username.as_deref().unwrap_or(&claims.sub),
            "UserAttributes": [{"Name": "sub", "Value": claims.sub}],
        }));
    }
    let user = ctx
        .directory(pool)?
        .find_by_sub(&claims.sub)
        .await?
        .ok_or_else(|| ApiError::NotAuthorized("User does not exist.".into()))?;
    if !user.enabled {
        return Err(ApiError::NotAuthorized("User is disabled.".into()).into());
    }
    Ok(json!({"Username": user.username, "UserAttributes": user.attributes_json()}))
}
