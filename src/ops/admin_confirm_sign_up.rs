//! AdminConfirmSignUp: an administrator confirms a signed-up user without their code (SigV4;
//! local pools). As in Cognito, the email is not verified by it (it becomes a sign-in alias once
//! verified).

use serde_json::Value;

use super::{admin_target, empty, Ctx, Input};
use crate::{
    error::{ApiError, Error},
    local::users::UserStatus,
    validate::{Violations, CLIENT_METADATA},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let metadata = input.string_map("ClientMetadata")?;
    super::validated(Violations::new().map("clientMetadata", metadata, &CLIENT_METADATA, false))?;
    let (pool, username) = admin_target(input, ctx)?;
    let mut user = ctx.user(pool, username).await?;
    if user.status != UserStatus::Unconfirmed {
        return Err(ApiError::NotAuthorized(format!(
            "User cannot be confirmed. Current status is {}",
            user.status.as_str()
        ))
        .into());
    }
    user.status = UserStatus::Confirmed;
    let directory = ctx.directory(pool)?;
    directory.claim_verified_email(&user).await?;
    directory.save(&user).await?;
    Ok(empty())
}
