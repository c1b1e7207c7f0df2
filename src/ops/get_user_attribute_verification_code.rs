//! GetUserAttributeVerificationCode: a code to verify the caller's email (access token; local
//! pools), which goes where local pools' codes go (`AdminGetConfirmationCodes`, the log in
//! `DEV_MODE`).

use serde_json::{json, Value};

use super::{
    account::{send_code, signed_in_user, verifiable},
    validated, Ctx, Input,
};
use crate::{
    error::{ApiError, Error},
    validate::{Violations, ATTRIBUTE_NAME, CLIENT_METADATA, TOKEN_MODEL},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let token = input.string("AccessToken")?;
    let name = input.string("AttributeName")?;
    let metadata = input.string_map("ClientMetadata")?;
    validated(
        Violations::new()
            .string("accessToken", token, &TOKEN_MODEL, true)
            .string("attributeName", name, &ATTRIBUTE_NAME, true)
            .map("clientMetadata", metadata, &CLIENT_METADATA, false),
    )?;
    let purpose = verifiable(name.unwrap_or_default())?;
    let (pool, user) = signed_in_user(input, ctx).await?;
    if user.email().is_none() {
        return Err(ApiError::InvalidParameter(
            "The user has no email to verify.".into(),
        )
        .into());
    }
    let delivery = send_code(ctx, pool, Some(&user), &user.sub, purpose).await?;
    Ok(json!({"CodeDeliveryDetails": delivery.to_json()}))
}
