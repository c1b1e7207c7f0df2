//! SignUp: a user registers themself in a local pool. Unconfirmed until ConfirmSignUp with the
//! code (which goes where local pools' codes go: `AdminGetConfirmationCodes`, and the log in
//! `DEV_MODE`), AdminConfirmSignUp, or at once where the pool sets `auto_confirm_sign_up`. A
//! taken username is UsernameExistsException, as in Cognito (which never hides it); the email
//! becomes a sign-in alias only once verified, so signing up with someone's email takes nothing
//! from them.

use serde_json::{json, Value};

use super::{
    account::{send_code, set_password, user_attributes, Writer},
    signin::{check_secret_hash, find_client, signing_keys},
    validated, Ctx, Input,
};
use crate::{
    error::{ApiError, Error},
    identity::looks_like_email_or_phone,
    local::{
        codes::CodePurpose,
        tokens::uuid_v4,
        users::{User, UserStatus},
    },
    validate::{Violations, CLIENT_ID, CLIENT_METADATA, PASSWORD, SECRET_HASH, USERNAME},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let client_id = input.string("ClientId")?;
    let secret_hash = input.string("SecretHash")?;
    let username = input.string("Username")?;
    let password = input.string("Password")?;
    let attributes = input.attributes("UserAttributes")?;
    let validation_data = input.attributes("ValidationData")?;
    input.object("AnalyticsMetadata")?;
    input.object("UserContextData")?;
    let metadata = input.string_map("ClientMetadata")?;
    validated(
        Violations::new()
            .string("clientId", client_id, &CLIENT_ID, true)
            .string("secretHash", secret_hash, &SECRET_HASH, false)
            .string("username", username, &USERNAME, true)
            .string("password", password, &PASSWORD, false)
            .attributes("userAttributes", attributes.clone(), false)
            .attributes("validationData", validation_data, false)
            .map("clientMetadata", metadata, &CLIENT_METADATA, false),
    )?;
    let (pool, client) = find_client(ctx, client_id.unwrap_or_default())?;
    signing_keys(ctx, pool)?;
    let username = username.unwrap_or_default();
    check_secret_hash(client, &[username], secret_hash)?;
    let password = password.ok_or_else(|| {
        ApiError::InvalidParameter(
            "Password is required: local pools sign users in with a password.".into(),
        )
    })?;
    // A local pool signs users in by email too: a username shaped like an email (or phone
    // number) could shadow someone's alias, so it is refused, as Cognito refuses it in a pool
    // with an email alias.
    if looks_like_email_or_phone(username) {
        return Err(ApiError::InvalidParameter(
            "Username cannot be of email format, since user pool is configured for email alias."
                .into(),
        )
        .into());
    }
    let mut attributes = user_attributes(attributes.unwrap_or_default(), Writer::User)?;
    if attributes.iter().any(|(name, _)| name == "email") {
        // Unverified until the code comes back (ConfirmSignUp, VerifyUserAttribute).
        attributes.push(("email_verified".into(), "false".into()));
    }
    let auto_confirm = pool
        .local
        .as_ref()
        .is_some_and(|local| local.auto_confirm_sign_up);
    let now = ctx.io.now_ms;
    let mut user = User {
        sub: uuid_v4()?,
        username: username.to_owned(),
        attributes,
        status: if auto_confirm {
            UserStatus::Confirmed
        } else {
            UserStatus::Unconfirmed
        },
        enabled: true,
        password: None,
        srp_verifier: None,
        created_ms: now,
        modified_ms: now,
    };
    set_password(ctx, pool, &mut user, password)?;
    ctx.directory(pool)?
        .create(&user)
        .await
        .map_err(|err| match err {
            Error::Api(ApiError::UsernameExists) => ApiError::SignUpUsernameExists.into(),
            other => other,
        })?;
    if auto_confirm {
        return Ok(json!({"UserConfirmed": true, "UserSub": user.sub}));
    }
    let delivery = send_code(ctx, pool, Some(&user), &user.sub, CodePurpose::SignUp).await?;
    Ok(json!({
        "UserConfirmed": false,
        "CodeDeliveryDetails": delivery.to_json(),
        "UserSub": user.sub,
    }))
}
