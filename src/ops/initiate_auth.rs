//! InitiateAuth: sign-in with a password (USER_PASSWORD_AUTH) and refresh
//! (REFRESH_TOKEN_AUTH / REFRESH_TOKEN), for local pools.

use serde_json::{json, Value};

use super::{
    signin::{authentication_result, check_secret_hash, find_client, new_session, signing_keys},
    validated, Ctx, Input,
};
use crate::{
    error::{ApiError, Error},
    local::{
        password::PasswordHash,
        seal::{self, Purpose},
        tokens,
        users::{User, UserStatus},
    },
    validate::{Violations, AUTH_FLOW, AUTH_PARAMETERS, CLIENT_METADATA, INITIATE_AUTH_CLIENT_ID},
};

/// How long a NEW_PASSWORD_REQUIRED session may be answered, in seconds (Cognito: 3 minutes).
pub const CHALLENGE_SESSION_S: u64 = 180;

const BAD_CREDENTIALS: &str = "Incorrect username or password.";

fn missing(name: &str) -> Error {
    ApiError::InvalidParameter(format!("Missing required parameter {name}")).into()
}

fn param<'a>(params: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let flow = input.string("AuthFlow")?;
    let params = input.string_map("AuthParameters")?;
    let metadata = input.string_map("ClientMetadata")?;
    let client_id = input.string("ClientId")?;
    validated(
        Violations::new()
            .string("authFlow", flow, &AUTH_FLOW, true)
            .map("authParameters", params.clone(), &AUTH_PARAMETERS, false)
            .map("clientMetadata", metadata, &CLIENT_METADATA, false)
            .string("clientId", client_id, &INITIATE_AUTH_CLIENT_ID, true),
    )?;
    let params = params.unwrap_or_default();
    let (pool, client) = find_client(ctx, client_id.unwrap_or_default())?;
    signing_keys(ctx, pool)?;
    match flow.unwrap_or_default() {
        "USER_PASSWORD_AUTH" => {
            let username = param(&params, "USERNAME").ok_or_else(|| missing("USERNAME"))?;
            let password = param(&params, "PASSWORD").ok_or_else(|| missing("PASSWORD"))?;
            check_secret_hash(client, &[username], param(&params, "SECRET_HASH"))?;
            let refused = || ApiError::NotAuthorized(BAD_CREDENTIALS.into());
            // One answer, and the same work (two KV reads, one hash of the pool's cost), for an
            // unknown user and a wrong password: neither the message nor the time tells whether
            // the user exists.
            let user = ctx.directory(pool)?.find(username).await?;
            let stored = user.as_ref().and_then(|user| user.password.as_ref());
            let matches =
                PasswordHash::verify_or_decoy(stored, password, pool.password_iterations())
                    .await;
            let user = user.filter(|_| matches).ok_or_else(refused)?;
            if !user.enabled {
                return Err(ApiError::NotAuthorized("User is disabled.".into()).into());
            }
            if user.status == UserStatus::ForceChangePassword {
                return new_password_challenge(ctx, pool.id.as_str(), &client.id, &user).await;
            }
            let session = new_session(ctx, pool, &user, client).await?;
            authentication_result(ctx, pool, &user, &session, true).await
        }
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
            let token = param(&params, "REFRESH_TOKEN").ok_or_else(|| missing("REFRESH_TOKEN"))?;
            let invalid = || ApiError::NotAuthorized("Invalid Refresh Token".into());
            let keys = signing_keys(ctx, pool)?;
            let opened = tokens::open_refresh_token(keys, token)
                .await
                .ok_or_else(invalid)?;
            let session = opened.session;
            if opened.pool != pool.id || session.client_id != client.id {
                return Err(invalid().into());
            }
            if opened.exp_s * 1000 <= ctx.io.now_ms {
                return Err(ApiError::NotAuthorized("Refresh Token has expired".into()).into());
            }
            let user: Option<User> = ctx.directory(pool)?.find_by_sub(&session.sub).await?;
            let username = user.as_ref().map(|u| u.username.as_str());
            let mut names = vec![session.sub.as_str()];
            names.extend(username);
            check_secret_hash(client, &names, param(&params, "SECRET_HASH"))?;
            let revoked = ctx
                .revocations()
                .session_is_revoked(
                    pool,
                    &names,
                    &session.origin_jti,
                    session.auth_time_s * 1000,
                )
                .await?;
            if revoked {
                return Err(
                    ApiError::NotAuthorized("Refresh Token has been revoked".into()).into(),
                );
            }
            let user =
                user.ok_or_else(|| ApiError::NotAuthorized("User does not exist.".into()))?;
            if !user.enabled {
                return Err(ApiError::NotAuthorized("User is disabled.".into()).into());
            }
            authentication_result(ctx, pool, &user, &session, false).await
        }
        other => Err(ApiError::InvalidParameter(format!(
            "{other} flow not enabled for this client"
        ))
        .into()),
    }
}

/// Asks a user with a temporary password to choose a new one.
async fn new_password_challenge(
    ctx: &Ctx<'_>,
    pool_id: &str,
    client_id: &str,
    user: &User,
) -> Result<Value, Error> {
    let keys = ctx
        .config
        .signing_keys
        .as_ref()
        .ok_or_else(|| Error::Internal("local pool without signing keys".into()))?;
    let claims = json!({
        "pool": pool_id,
        "client_id": client_id,
        "sub": user.sub,
        "exp": ctx.io.now_ms / 1000 + CHALLENGE_SESSION_S,
    });
    let Value::Object(claims) = claims else {
        return Err(Error::Internal("session claims are not an object".into()));
    };
    let session = seal::seal(keys, Purpose::Session, &claims)
        .await
        .map_err(Error::Internal)?;
    let attributes: serde_json::Map<String, Value> = user
        .attributes
        .iter()
        .filter(|(name, _)| name != "email_verified")
        .map(|(name, value)| (name.clone(), Value::from(value.clone())))
        .collect();
    Ok(json!({
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "Session": session,
        "ChallengeParameters": {
            "USER_ID_FOR_SRP": user.username,
            "requiredAttributes": "[]",
            "userAttributes": Value::Object(attributes).to_string(),
        },
    }))
}
