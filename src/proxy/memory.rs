//! What the Worker learns of an upstream pool's refresh tokens: SHA-256(refresh token) → the
//! session's `origin_jti` and the client it was issued to.
//!
//! Cognito's refresh tokens are encrypted for Cognito alone, so the Worker cannot tell which
//! session one belongs to. It sees each one it forwards beside the access token minted with it
//! (a sign-in's answer, a refresh's request and answer, the token endpoint's), and keeps the
//! pair under `rt/v1/<pool id>/<hex SHA-256 of the token>` for the pool's refresh-token
//! lifetime. The token itself is never stored or logged: the key holds its hash, and the value
//! `{"origin_jti", "client_id"}`. The access token is verified before anything is learnt from
//! it; one the edge would not accept (another client, no `origin_jti`) teaches nothing.
//!
//! A write that fails fails the sign-in (InternalErrorException): tokens the edge could not
//! tie to their session are not handed out.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::Route;
use crate::{
    auth::Expect,
    config::{Config, Pool},
    error::{Error, StoreError},
    ports::{get_one, Inbound},
    services::{Io, Services},
};

/// Operations whose success carries `AuthenticationResult` with tokens.
const SIGN_INS: [&str; 5] = [
    "InitiateAuth",
    "RespondToAuthChallenge",
    "AdminInitiateAuth",
    "AdminRespondToAuthChallenge",
    "GetTokensFromRefreshToken",
];

/// A session the Worker saw a refresh token for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    /// The session's `origin_jti`.
    pub origin_jti: String,
    /// The client the token was issued to.
    pub client_id: String,
}

/// The KV key for `refresh_token` in `pool_id`.
pub fn key(pool_id: &str, refresh_token: &str) -> String {
    format!(
        "rt/v1/{pool_id}/{}",
        hex::encode(Sha256::digest(refresh_token.as_bytes()))
    )
}

/// The session a refresh token of `pool` belongs to, if the Worker saw it. A failed read is an
/// error (the caller decides nothing from it).
pub async fn recall(
    pool: &Pool,
    refresh_token: &str,
    io: &Io<'_>,
) -> Result<Option<Remembered>, Error> {
    let Some(text) = get_one(
        io.store.refresh_tokens(),
        &key(&pool.id, refresh_token),
        None,
    )
    .await?
    else {
        return Ok(None);
    };
    let value = crate::json::parse_value(text.as_bytes())
        .map_err(|_| StoreError::Corrupt("refresh-token record is not JSON".into()))?;
    let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    match (field("origin_jti"), field("client_id")) {
        (Some(origin_jti), Some(client_id)) => Ok(Some(Remembered {
            origin_jti,
            client_id,
        })),
        _ => Err(StoreError::Corrupt("refresh-token record lacks a field".into()).into()),
    }
}

/// Learns from a forwarded call's 200 answer: a sign-in's or refresh's `AuthenticationResult`.
pub async fn learn_from_answer(
    services: &Services,
    config: &Config,
    route: &Route<'_>,
    body: &Map<String, Value>,
    answer: &Inbound,
    io: &Io<'_>,
) -> Result<(), Error> {
    if !SIGN_INS.contains(&route.name) {
        return Ok(());
    }
    let Ok(Value::Object(parsed)) = crate::json::parse_value(&answer.body) else {
        return Ok(());
    };
    let Some(result) = parsed.get("AuthenticationResult") else {
        return Ok(());
    };
    let Some(access) = text(result.get("AccessToken")) else {
        return Ok(());
    };
    // The refresh token presented (a refresh) and the one handed out (a sign-in, a rotation).
    let presented = text(body.get("RefreshToken")).or_else(|| {
        text(
            body.get("AuthParameters")
                .and_then(|p| p.get("REFRESH_TOKEN")),
        )
    });
    let issued = text(result.get("RefreshToken"));
    let tokens: Vec<&str> = [issued, presented].into_iter().flatten().collect();
    learn(services, config, route.pool, access, &tokens, io).await
}

/// Remembers each of `refresh_tokens` as belonging to the session of `access_token` (verified
/// first; one the edge would not accept teaches nothing).
pub async fn learn(
    services: &Services,
    config: &Config,
    pool: &Pool,
    access_token: &str,
    refresh_tokens: &[&str],
    io: &Io<'_>,
) -> Result<(), Error> {
    if refresh_tokens.is_empty() {
        return Ok(());
    }
    let auth = match services
        .authenticate(config, access_token, &Expect::ACCESS, io)
        .await
    {
        Ok(auth) => auth,
        Err(err @ Error::Token { .. }) => {
            (io.log)(&format!(
                "pool {}: nothing learnt from a sign-in whose access token the edge refuses ({err})",
                pool.id
            ));
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    if auth.pool_id() != pool.id {
        return Ok(());
    }
    let Some(origin_jti) = &auth.claims().origin_jti else {
        return Ok(());
    };
    let record = json!({"origin_jti": origin_jti, "client_id": auth.client_id()}).to_string();
    for token in refresh_tokens {
        io.store
            .refresh_tokens()
            .put(
                &key(&pool.id, token),
                &record,
                Some(pool.refresh_token_validity_s),
            )
            .await?;
    }
    Ok(())
}

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_holds_the_tokens_hash_never_the_token() {
        let token = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.secret";
        let key = key("us-east-1_P1", token);
        assert!(key.starts_with("rt/v1/us-east-1_P1/"));
        assert!(!key.contains("secret") && !key.contains("eyJ"));
        assert_eq!(key.len(), "rt/v1/us-east-1_P1/".len() + 64);
        assert_ne!(key, super::key("us-east-1_P1", "another-token"));
    }
}
