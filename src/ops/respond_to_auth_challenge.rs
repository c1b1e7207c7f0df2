//! RespondToAuthChallenge for local pools: PASSWORD_VERIFIER (SRP's proof), SELECT_CHALLENGE
//! (`USER_AUTH`'s choice of PASSWORD or PASSWORD_SRP) and NEW_PASSWORD_REQUIRED (a permanent
//! password in place of a temporary one). Other challenges are never issued here and are refused
//! with the ones that are.

use serde_json::Value;

use super::{
    account::set_password,
    signin::{
        authentication_result, check_secret_hash, find_client, missing, new_session,
        open_challenge_session, param, password_sign_in, signing_keys,
    },
    srp_flow, validated, Ctx, Input,
};
use crate::{
    config::{Client, Pool},
    error::{ApiError, Error},
    identity::{CaseRule, UserId},
    local::users::UserStatus,
    validate::{
        Violations, CHALLENGE_NAME, CHALLENGE_RESPONSES, CLIENT_ID, CLIENT_METADATA, SESSION,
    },
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let client_id = input.string("ClientId")?;
    let challenge = input.string("ChallengeName")?;
    let session_token = input.string("Session")?;
    let responses = input.string_map("ChallengeResponses")?;
    let metadata = input.string_map("ClientMetadata")?;
    input.object("AnalyticsMetadata")?;
    input.object("UserContextData")?;
    validated(
        Violations::new()
            .string("clientId", client_id, &CLIENT_ID, true)
            .string("challengeName", challenge, &CHALLENGE_NAME, true)
            .string("session", session_token, &SESSION, false)
            .map(
                "challengeResponses",
                responses.clone(),
                &CHALLENGE_RESPONSES,
                false,
            )
            .map("clientMetadata", metadata, &CLIENT_METADATA, false),
    )?;
    let (pool, client) = find_client(ctx, client_id.unwrap_or_default())?;
    signing_keys(ctx, pool)?;
    let responses = responses.unwrap_or_default();
    match challenge.unwrap_or_default() {
        // Both libraries echo a Session if one came with the challenge; none does, and any sent
        // is ignored: the state is in SECRET_BLOCK.
        "PASSWORD_VERIFIER" => srp_flow::verify(ctx, pool, client, &responses).await,
        "SELECT_CHALLENGE" => select_challenge(ctx, pool, client, session_token, &responses).await,
        "NEW_PASSWORD_REQUIRED" => {
            new_password(ctx, pool, client, session_token, &responses).await
        }
        other => Err(ApiError::InvalidParameter(format!(
            "{other} is not a challenge this pool issues: local pools issue PASSWORD_VERIFIER, \
             SELECT_CHALLENGE and NEW_PASSWORD_REQUIRED."
        ))
        .into()),
    }
}

/// `USER_AUTH`'s SELECT_CHALLENGE answered: `ANSWER` PASSWORD (with `PASSWORD`) signs in as
/// USER_PASSWORD_AUTH does; PASSWORD_SRP (with `SRP_A`) answers the PASSWORD_VERIFIER challenge
/// as USER_SRP_AUTH does. The user is the one InitiateAuth named.
async fn select_challenge(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    session: Option<&str>,
    responses: &[(&str, &str)],
) -> Result<Value, Error> {
    let opened = open_challenge_session(ctx, pool, client, "select", session)?;
    let username = opened
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let given = param(responses, "USERNAME").ok_or_else(|| missing("USERNAME"))?;
    if pool.user_id(given) != pool.user_id(username) {
        return Err(ApiError::NotAuthorized(
            "Invalid session for the user, session is expired.".into(),
        )
        .into());
    }
    check_secret_hash(client, &[given], param(responses, "SECRET_HASH"))?;
    match param(responses, "ANSWER") {
        Some("PASSWORD") => {
            let password = param(responses, "PASSWORD").ok_or_else(|| missing("PASSWORD"))?;
            password_sign_in(ctx, pool, client, username, password).await
        }
        Some("PASSWORD_SRP") => {
            srp_flow::start(ctx, pool, client, username, param(responses, "SRP_A")).await
        }
        Some(other) => Err(ApiError::InvalidParameter(format!(
            "{} is not an available challenge: choose PASSWORD or PASSWORD_SRP.",
            other.chars().take(32).collect::<String>()
        ))
        .into()),
        None => Err(missing("ANSWER")),
    }
}

/// NEW_PASSWORD_REQUIRED answered with a permanent password.
async fn new_password(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    session: Option<&str>,
    responses: &[(&str, &str)],
) -> Result<Value, Error> {
    let expired =
        || ApiError::NotAuthorized("Invalid session for the user, session is expired.".into());
    let opened = open_challenge_session(ctx, pool, client, "new-password", session)?;
    let username = param(responses, "USERNAME").ok_or_else(|| missing("USERNAME"))?;
    let new_password = param(responses, "NEW_PASSWORD").ok_or_else(|| missing("NEW_PASSWORD"))?;
    check_secret_hash(client, &[username], param(responses, "SECRET_HASH"))?;
    let directory = ctx.directory(pool)?;
    let sub = opened.get("sub").and_then(Value::as_str).unwrap_or_default();
    let mut user = directory.find_by_sub(sub).await?.ok_or_else(expired)?;
    // The same spelling rule as every lookup (`crate::identity`).
    let given = pool.user_id(username);
    let named = [user.username.as_str(), user.sub.as_str()]
        .iter()
        .any(|n| pool.user_id(n) == given)
        || user.attribute("email").is_some_and(|e| {
            UserId::new(e, CaseRule::Insensitive) == UserId::new(username, CaseRule::Insensitive)
        });
    if !named || !user.enabled || user.status != UserStatus::ForceChangePassword {
        return Err(expired().into());
    }
    set_password(ctx, pool, &mut user, new_password)?;
    user.status = UserStatus::Confirmed;
    directory.save(&user).await?;
    let session = new_session(ctx, pool, &user, client).await?;
    authentication_result(ctx, pool, &user, &session, true)
}
