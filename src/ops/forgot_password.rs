//! ForgotPassword: a password-reset code (local pools). Answered as Cognito answers with
//! PreventUserExistenceErrors `ENABLED`: a name nobody has (or a disabled or unconfirmed user)
//! gets the same kind of `CodeDeliveryDetails`, after the same reads and write, with a code
//! drawn for the name and sent nowhere (`local::codes`). The user's sessions go on: a reset ends
//! none (ConfirmForgotPassword says when it does).

use serde_json::{json, Value};

use super::{
    account::{code_holder, send_code},
    signin::{check_secret_hash, find_client, signing_keys},
    validated, Ctx, Input,
};
use crate::{
    error::Error,
    local::{codes::CodePurpose, users::UserStatus},
    validate::{Violations, CLIENT_ID, CLIENT_METADATA, SECRET_HASH, USERNAME},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let client_id = input.string("ClientId")?;
    let secret_hash = input.string("SecretHash")?;
    input.object("UserContextData")?;
    let username = input.string("Username")?;
    input.object("AnalyticsMetadata")?;
    let metadata = input.string_map("ClientMetadata")?;
    validated(
        Violations::new()
            .string("clientId", client_id, &CLIENT_ID, true)
            .string("secretHash", secret_hash, &SECRET_HASH, false)
            .string("username", username, &USERNAME, true)
            .map("clientMetadata", metadata, &CLIENT_METADATA, false),
    )?;
    let (pool, client) = find_client(ctx, client_id.unwrap_or_default())?;
    signing_keys(ctx, pool)?;
    let username = username.unwrap_or_default();
    check_secret_hash(client, &[username], secret_hash)?;
    let user = ctx
        .directory(pool)?
        .find(username)
        .await?
        .filter(|user| user.enabled && user.status != UserStatus::Unconfirmed);
    let holder = code_holder(ctx, pool, username, user.as_ref())?;
    let delivery =
        send_code(ctx, pool, user.as_ref(), &holder, CodePurpose::ForgotPassword).await?;
    Ok(json!({"CodeDeliveryDetails": delivery.to_json()}))
}
