//! ConfirmSignUp: a signed-up user confirms with their code (local pools). The code went to
//! their email, so confirming verifies it (`email_verified`), and the email becomes a sign-in
//! alias (AliasExistsException if a confirmed user already holds it). A name nobody has, a user
//! already confirmed and a wrong code get the same answer (CodeMismatchException), after the
//! same work (`local::codes`).

use serde_json::Value;

use super::{
    account::{code_holder, codes},
    empty,
    signin::{check_secret_hash, find_client, signing_keys},
    validated, Ctx, Input,
};
use crate::{
    error::{ApiError, Error},
    local::{codes::CodePurpose, users::UserStatus},
    validate::{
        Violations, CLIENT_ID, CLIENT_METADATA, CONFIRMATION_CODE, SECRET_HASH, SESSION, USERNAME,
    },
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let client_id = input.string("ClientId")?;
    let secret_hash = input.string("SecretHash")?;
    let username = input.string("Username")?;
    let code = input.string("ConfirmationCode")?;
    input.bool("ForceAliasCreation")?;
    input.object("AnalyticsMetadata")?;
    input.object("UserContextData")?;
    let metadata = input.string_map("ClientMetadata")?;
    let session = input.string("Session")?;
    validated(
        Violations::new()
            .string("clientId", client_id, &CLIENT_ID, true)
            .string("secretHash", secret_hash, &SECRET_HASH, false)
            .string("username", username, &USERNAME, true)
            .string("confirmationCode", code, &CONFIRMATION_CODE, true)
            .map("clientMetadata", metadata, &CLIENT_METADATA, false)
            .string("session", session, &SESSION, false),
    )?;
    let (pool, client) = find_client(ctx, client_id.unwrap_or_default())?;
    signing_keys(ctx, pool)?;
    let (username, code) = (username.unwrap_or_default(), code.unwrap_or_default());
    check_secret_hash(client, &[username], secret_hash)?;
    let directory = ctx.directory(pool)?;
    let user = directory
        .find(username)
        .await?
        .filter(|user| user.status == UserStatus::Unconfirmed);
    let holder = code_holder(ctx, pool, username, user.as_ref())?;
    codes(ctx, pool)?
        .check(CodePurpose::SignUp, &holder, code)
        .await?;
    let mut user = user.ok_or(ApiError::CodeMismatch)?;
    user.status = UserStatus::Confirmed;
    if user.email().is_some() {
        user.set_attribute("email_verified", "true");
    }
    directory.claim_verified_email(&user).await?;
    directory.save(&user).await?;
    Ok(empty())
}
