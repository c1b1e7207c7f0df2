//! What InitiateAuth and RespondToAuthChallenge share: finding the app client, checking
//! SECRET_HASH, opening a session and answering with tokens.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::Ctx;
use crate::{
    config::{Client, Pool},
    error::{ApiError, Error},
    local::{
        tokens::{self, Session},
        users::User,
    },
    signing::SigningKeys,
};

/// The pool and client with this client id.
pub fn find_client<'c>(ctx: &'c Ctx<'_>, client_id: &str) -> Result<(&'c Pool, &'c Client), Error> {
    ctx.config
        .pools
        .iter()
        .find_map(|pool| pool.client(client_id).map(|client| (pool, client)))
        .ok_or_else(|| ApiError::ClientNotFound(client_id.to_owned()).into())
}

/// The signing keys of a local pool (configuration guarantees them).
pub fn signing_keys<'c>(ctx: &'c Ctx<'_>, pool: &Pool) -> Result<&'c SigningKeys, Error> {
    if pool.local.is_none() {
        return Err(ApiError::NotLocalPool(pool.id.clone()).into());
    }
    ctx.config
        .signing_keys
        .as_ref()
        .ok_or_else(|| Error::Internal("local pool without signing keys".into()))
}

/// Checks SECRET_HASH = Base64(HMAC-SHA256(client secret, username + client id)) for a client
/// with a secret. Any of `names` may have been used (Cognito accepts the username, and for
/// refreshes the sub).
pub fn check_secret_hash(
    client: &Client,
    names: &[&str],
    given: Option<&str>,
) -> Result<(), Error> {
    let Some(secret) = &client.secret else {
        return Ok(());
    };
    let refused = || {
        ApiError::NotAuthorized(format!(
            "Unable to verify secret hash for client {}",
            client.id
        ))
    };
    let given = given.ok_or_else(refused)?;
    let matches = names.iter().any(|name| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(name.as_bytes());
        mac.update(client.id.as_bytes());
        let expected = STANDARD.encode(mac.finalize().into_bytes());
        bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
    });
    if matches {
        Ok(())
    } else {
        Err(refused().into())
    }
}

/// A fresh session for `user` on `client`. If the user was signed out earlier in this same
/// second, `auth_time` is moved to the next second: `auth_time` has whole-second precision and
/// the revocation rule is `auth_time ≤ revoked_at`, so a sign-in right after a sign-out would
/// otherwise be revoked with the old sessions.
pub async fn new_session(
    ctx: &Ctx<'_>,
    pool: &Pool,
    user: &User,
    client: &Client,
) -> Result<Session, Error> {
    let now_s = ctx.io.now_ms / 1000;
    let last_sign_out = ctx
        .revocations()
        .user_entry(&pool.id, &pool.user_id(&user.sub))
        .await?;
    let auth_time_s = match last_sign_out {
        Some(entry) if entry.revoked_at_ms >= now_s * 1000 => entry.revoked_at_ms / 1000 + 1,
        _ => now_s,
    };
    Ok(Session {
        sub: user.sub.clone(),
        client_id: client.id.clone(),
        origin_jti: tokens::uuid_v4()?,
        event_id: tokens::uuid_v4()?,
        auth_time_s,
    })
}

/// `{AuthenticationResult, ChallengeParameters}` with tokens for `session`; a refresh token
/// too when `with_refresh` (sign-in, not refresh).
pub async fn authentication_result(
    ctx: &Ctx<'_>,
    pool: &Pool,
    user: &User,
    session: &Session,
    with_refresh: bool,
) -> Result<Value, Error> {
    let keys = signing_keys(ctx, pool)?;
    let issued = tokens::issue(pool, keys, user, session, ctx.io.now_ms).await?;
    let mut result = json!({
        "AccessToken": issued.access_token,
        "ExpiresIn": issued.expires_in,
        "TokenType": "Bearer",
        "IdToken": issued.id_token,
    });
    if with_refresh {
        result["RefreshToken"] =
            Value::from(tokens::refresh_token(pool, keys, session, ctx.io.now_ms).await?);
    }
    Ok(json!({"AuthenticationResult": result, "ChallengeParameters": {}}))
}
