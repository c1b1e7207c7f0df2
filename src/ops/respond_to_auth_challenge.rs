//! RespondToAuthChallenge: answers NEW_PASSWORD_REQUIRED with a permanent password (local pools).

use serde_json::Value;

use super::{
    signin::{authentication_result, check_secret_hash, find_client, new_session, signing_keys},
    validated, Ctx, Input,
};
use crate::{
    error::{ApiError, Error},
    identity::{CaseRule, UserId},
    local::{
        password::{check_policy, PasswordHash},
        seal::{self, Purpose},
        users::UserStatus,
    },
    validate::{
        Violations, CHALLENGE_NAME, CHALLENGE_RESPONSES, CLIENT_ID, CLIENT_METADATA, SESSION,
    },
};

fn missing(name: &str) -> Error {
    ApiError::InvalidParameter(format!("Missing required parameter {name}")).into()
}

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let client_id = input.string("ClientId")?;
    let challenge = input.string("ChallengeName")?;
    let session_token = input.string("Session")?;
    let responses = input.string_map("ChallengeResponses")?;
    let metadata = input.string_map("ClientMetadata")?;
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
    let keys = signing_keys(ctx, pool)?;
    if challenge != Some("NEW_PASSWORD_REQUIRED") {
        return Err(ApiError::InvalidParameter(format!(
            "{} is not a challenge this pool issues",
            challenge.unwrap_or_default()
        ))
        .into());
    }
    let responses = responses.unwrap_or_default();
    let response = |name: &str| responses.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let expired =
        || ApiError::NotAuthorized("Invalid session for the user, session is expired.".into());
    let opened = match session_token {
        Some(token) => seal::open(keys, Purpose::Session, token).await,
        None => None,
    }
    .ok_or_else(expired)?;
    let field = |name: &str| opened.get(name).and_then(Value::as_str);
    let fresh = opened
        .get("exp")
        .and_then(Value::as_u64)
        .is_some_and(|exp| exp * 1000 > ctx.io.now_ms);
    if field("pool") != Some(pool.id.as_str())
        || field("client_id") != Some(client.id.as_str())
        || !fresh
    {
        return Err(expired().into());
    }
    let username = response("USERNAME").ok_or_else(|| missing("USERNAME"))?;
    let new_password = response("NEW_PASSWORD").ok_or_else(|| missing("NEW_PASSWORD"))?;
    check_secret_hash(client, &[username], response("SECRET_HASH"))?;
    let directory = ctx.directory(pool)?;
    let mut user = directory
        .find_by_sub(field("sub").unwrap_or_default())
        .await?
        .ok_or_else(expired)?;
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
    check_policy(new_password).map_err(ApiError::InvalidPassword)?;
    let iterations = pool.password_iterations();
    user.password = Some(PasswordHash::new(new_password, iterations)
            .await
            .map_err(Error::Internal)?);
    user.status = UserStatus::Confirmed;
    directory.save(&user).await?;
    let session = new_session(ctx, pool, &user, client).await?;
    authentication_result(ctx, pool, &user, &session, true).await
}
