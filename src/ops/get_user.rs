//! GetUser: the caller's profile (access token in the body). A local pool answers from its user
//! directory; an external pool answers from the verified claims.

use serde_json::{json, Value};

use super::{signed_in_caller, Ctx, Input};
use crate::error::{ApiError, Error};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let caller = signed_in_caller(input, ctx).await?;
    let auth = caller.auth();
    let claims = auth.claims();
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
