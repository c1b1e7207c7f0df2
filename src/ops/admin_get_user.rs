//! AdminGetUser: a local user's record (SigV4).

use serde_json::Value;

use super::{admin_target, Ctx, Input};
use crate::error::Error;

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let (pool, username) = admin_target(input, ctx)?;
    Ok(ctx.user(pool, username).await?.to_cognito("UserAttributes"))
}
