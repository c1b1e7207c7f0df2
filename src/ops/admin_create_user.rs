//! AdminCreateUser: creates a user of a local pool with a temporary password (SigV4).
//!
//! No message is ever sent (there is no mail or SMS here): `MessageAction` SUPPRESS and the
//! default behave alike, and a missing `TemporaryPassword` is generated and never shown, so the
//! user can only sign in after AdminSetUserPassword.

use serde_json::{json, Value};

use super::{
    account::{set_password, user_attributes, Writer},
    validated, Ctx, Input,
};
use crate::{
    error::{ApiError, Error},
    local::{
        tokens::uuid_v4,
        users::{User, UserStatus},
    },
    validate::{
        Violations, CLIENT_METADATA, DESIRED_DELIVERY_MEDIUMS, MESSAGE_ACTION, PASSWORD, USERNAME,
        USER_POOL_ID,
    },
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let pool_id = input.string("UserPoolId")?;
    let username = input.string("Username")?;
    let attributes = input.attributes("UserAttributes")?;
    let validation_data = input.attributes("ValidationData")?;
    let temporary = input.string("TemporaryPassword")?;
    input.bool("ForceAliasCreation")?;
    let action = input.string("MessageAction")?;
    let mediums = input.strings("DesiredDeliveryMediums")?;
    let metadata = input.string_map("ClientMetadata")?;
    validated(
        Violations::new()
            .string("userPoolId", pool_id, &USER_POOL_ID, true)
            .string("username", username, &USERNAME, true)
            .attributes("userAttributes", attributes.clone(), false)
            .attributes("validationData", validation_data, false)
            .string("temporaryPassword", temporary, &PASSWORD, false)
            .string("messageAction", action, &MESSAGE_ACTION, false)
            .string_list(
                "desiredDeliveryMediums",
                mediums,
                &DESIRED_DELIVERY_MEDIUMS,
                false,
            )
            .map("clientMetadata", metadata, &CLIENT_METADATA, false),
    )?;
    let (pool_id, username) = (pool_id.unwrap_or_default(), username.unwrap_or_default());
    ctx.require_permission(pool_id)?;
    let pool = ctx.pool(pool_id)?;
    let directory = ctx.directory(pool)?;

    if action == Some("RESEND") {
        // Nothing to resend without a mailer; answer with the existing user as Cognito does.
        let user = directory
            .find(username)
            .await?
            .ok_or(ApiError::UserNotFound)?;
        return Ok(json!({"User": user.to_cognito("Attributes")}));
    }

    let pairs = user_attributes(attributes.unwrap_or_default(), Writer::Admin)?;

    let password = match temporary {
        Some(given) => given.to_owned(),
        None => generated_password()?,
    };
    let now = ctx.io.now_ms;
    let mut user = User {
        sub: uuid_v4()?,
        username: username.to_owned(),
        attributes: pairs,
        status: UserStatus::ForceChangePassword,
        enabled: true,
        password: None,
        srp_verifier: None,
        created_ms: now,
        modified_ms: now,
    };
    set_password(ctx, pool, &mut user, &password)?;
    directory.create(&user).await?;
    Ok(json!({"User": user.to_cognito("Attributes")}))
}

/// A random temporary password that meets the default policy.
fn generated_password() -> Result<String, Error> {
    let mut bytes = [0u8; 18];
    getrandom::getrandom(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    Ok(format!("Tmp-{}-9a", URL_SAFE_NO_PAD.encode(bytes)))
}
