//! ConfirmForgotPassword: a new password with a reset code (local pools). The password policy
//! is checked first (so a weak password does not spend the code), then the code: a name nobody
//! has and a wrong code get the same answer after the same work (`local::codes`). The new
//! password gets its SRP verifier like every other. A user with a temporary password is
//! confirmed by it. Sessions go on, as in Cognito, unless the pool sets
//! `sign_out_on_password_change`.

use serde_json::Value;

use super::{
    account::{after_password_change, code_holder, codes, set_password},
    empty,
    signin::{check_secret_hash, find_client, signing_keys},
    validated, Ctx, Input,
};
use crate::{
    error::{ApiError, Error},
    local::{codes::CodePurpose, password::check_policy, users::UserStatus},
    validate::{
        Violations, CLIENT_ID, CLIENT_METADATA, CONFIRMATION_CODE, PASSWORD, SECRET_HASH,
        USERNAME,
    },
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let client_id = input.string("ClientId")?;
    let secret_hash = input.string("SecretHash")?;
    let username = input.string("Username")?;
    let code = input.string("ConfirmationCode")?;
    let password = input.string("Password")?;
    input.object("AnalyticsMetadata")?;
    input.object("UserContextData")?;
    let metadata = input.string_map("ClientMetadata")?;
    validated(
        Violations::new()
            .string("clientId", client_id, &CLIENT_ID, true)
            .string("secretHash", secret_hash, &SECRET_HASH, false)
            .string("username", username, &USERNAME, true)
            .string("confirmationCode", code, &CONFIRMATION_CODE, true)
            .string("password", password, &PASSWORD, true)
            .map("clientMetadata", metadata, &CLIENT_METADATA, false),
    )?;
    let (pool, client) = find_client(ctx, client_id.unwrap_or_default())?;
    signing_keys(ctx, pool)?;
    let (username, code, password) = (
        username.unwrap_or_default(),
        code.unwrap_or_default(),
        password.unwrap_or_default(),
    );
    check_secret_hash(client, &[username], secret_hash)?;
    check_policy(password).map_err(ApiError::InvalidPassword)?;
    let directory = ctx.directory(pool)?;
    let user = directory
        .find(username)
        .await?
        .filter(|user| user.enabled && user.status != UserStatus::Unconfirmed);
    let holder = code_holder(ctx, pool, username, user.as_ref())?;
    codes(ctx, pool)?
        .check(CodePurpose::ForgotPassword, &holder, code)
        .await?;
    let mut user = user.ok_or(ApiError::CodeMismatch)?;
    set_password(ctx, pool, &mut user, password)?;
    user.status = UserStatus::Confirmed;
    directory.save(&user).await?;
    let who = format!("user:{}", user.sub);
    after_password_change(ctx, pool, &user, &who).await?;
    Ok(empty())
}
