//! What the sign-in operations share: finding the app client, checking SECRET_HASH, signing in
//! with a password, what follows any proof of the password (the account's state, a new
//! password, tokens), opening a session and answering with tokens.

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
        password::PasswordHash,
        seal::{self, Purpose},
        srp::Verifier,
        tokens::{self, Session},
        users::{User, UserStatus},
    },
    signing::SigningKeys,
};

/// How long a challenge `Session` (NEW_PASSWORD_REQUIRED, SELECT_CHALLENGE) may be answered, in
/// seconds (Cognito: 3 minutes).
pub const CHALLENGE_SESSION_S: u64 = 180;

/// Cognito's answer to a wrong password, an unknown user, and any refused proof.
pub const BAD_CREDENTIALS: &str = "Incorrect username or password.";

/// Cognito's InvalidParameterException for a required parameter left out.
pub fn missing(name: &str) -> Error {
    ApiError::InvalidParameter(format!("Missing required parameter {name}")).into()
}

/// The value of `name` among `AuthParameters` or `ChallengeResponses`.
pub fn param<'a>(params: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

/// Signs in with a password (USER_PASSWORD_AUTH, and USER_AUTH's PASSWORD): one answer, and
/// the same work (two KV reads, one hash of the pool's cost), for an unknown user and a wrong
/// password, so neither the message nor the time tells whether the user exists. A user whose
/// password predates SRP sign-in (no verifier stored, or one sealed by a key being retired) gets
/// its verifier now, while the password is in hand.
pub async fn password_sign_in(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    username: &str,
    password: &str,
) -> Result<Value, Error> {
    let refused = || ApiError::NotAuthorized(BAD_CREDENTIALS.into());
    let directory = ctx.directory(pool)?;
    let user = directory.find(username).await?;
    let stored = user.as_ref().and_then(|user| user.password.as_ref());
    let matches = PasswordHash::verify_or_decoy(stored, password, pool.password_iterations());
    let mut user = user.filter(|_| matches).ok_or_else(refused)?;
    let keys = signing_keys(ctx, pool)?;
    let stale = user
        .srp_verifier
        .as_deref()
        .is_none_or(|sealed| !Verifier::sealed_with_current_key(keys, sealed));
    if stale {
        user.srp_verifier = Some(Verifier::generate(&pool.id, &user.sub, password)?.seal(keys)?);
        directory.save(&user).await?;
    }
    let user_id_for_srp = user.username.clone();
    after_authentication(ctx, pool, client, &user, &user_id_for_srp).await
}

/// What follows a proof of the password, whichever flow made it: a disabled user is refused
/// (`User is disabled.`), an unconfirmed one is told so (UserNotConfirmedException, which the
/// libraries turn into "confirm sign-up"), one with a temporary password must choose another
/// (NEW_PASSWORD_REQUIRED, naming them as `user_id_for_srp`), anyone else gets tokens.
pub async fn after_authentication(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    user: &User,
    user_id_for_srp: &str,
) -> Result<Value, Error> {
    if !user.enabled {
        return Err(ApiError::NotAuthorized("User is disabled.".into()).into());
    }
    match user.status {
        UserStatus::Unconfirmed => Err(ApiError::UserNotConfirmed.into()),
        UserStatus::ForceChangePassword => {
            new_password_challenge(ctx, pool, client, user, user_id_for_srp)
        }
        UserStatus::Confirmed => {
            let session = new_session(ctx, pool, user, client).await?;
            authentication_result(ctx, pool, user, &session, true)
        }
    }
}

/// A sealed challenge `Session`: `claims` plus pool, client, kind and expiry.
pub fn challenge_session(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    kind: &str,
    mut claims: serde_json::Map<String, Value>,
) -> Result<String, Error> {
    let keys = signing_keys(ctx, pool)?;
    claims.insert("kind".into(), Value::from(kind));
    claims.insert("pool".into(), Value::from(pool.id.as_str()));
    claims.insert("client_id".into(), Value::from(client.id.as_str()));
    claims.insert(
        "exp".into(),
        Value::from(ctx.io.now_ms / 1000 + CHALLENGE_SESSION_S),
    );
    seal::seal(keys, Purpose::Session, &claims).map_err(Error::Internal)
}

/// Opens a challenge `Session` of `kind` issued for this pool and client, unexpired; otherwise
/// Cognito's `Invalid session for the user, session is expired.`
pub fn open_challenge_session(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    kind: &str,
    session: Option<&str>,
) -> Result<serde_json::Map<String, Value>, Error> {
    let expired =
        || ApiError::NotAuthorized("Invalid session for the user, session is expired.".into());
    let keys = signing_keys(ctx, pool)?;
    let opened = session
        .and_then(|token| seal::open(keys, Purpose::Session, token))
        .ok_or_else(expired)?;
    let field = |name: &str| opened.get(name).and_then(Value::as_str);
    let fresh = opened
        .get("exp")
        .and_then(Value::as_u64)
        .is_some_and(|exp| exp * 1000 > ctx.io.now_ms);
    if field("kind") != Some(kind)
        || field("pool") != Some(pool.id.as_str())
        || field("client_id") != Some(client.id.as_str())
        || !fresh
    {
        return Err(expired().into());
    }
    Ok(opened)
}

/// Asks a user with a temporary password to choose a new one.
fn new_password_challenge(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    user: &User,
    user_id_for_srp: &str,
) -> Result<Value, Error> {
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), Value::from(user.sub.as_str()));
    let session = challenge_session(ctx, pool, client, "new-password", claims)?;
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
            "USER_ID_FOR_SRP": user_id_for_srp,
            "requiredAttributes": "[]",
            "userAttributes": Value::Object(attributes).to_string(),
        },
    }))
}

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
pub fn authentication_result(
    ctx: &Ctx<'_>,
    pool: &Pool,
    user: &User,
    session: &Session,
    with_refresh: bool,
) -> Result<Value, Error> {
    let keys = signing_keys(ctx, pool)?;
    let issued = tokens::issue(pool, keys, user, session, ctx.io.now_ms)?;
    let mut result = json!({
        "AccessToken": issued.access_token,
        "ExpiresIn": issued.expires_in,
        "TokenType": "Bearer",
        "IdToken": issued.id_token,
    });
    if with_refresh {
        result["RefreshToken"] =
            Value::from(tokens::refresh_token(pool, keys, session, ctx.io.now_ms)?);
    }
    Ok(json!({"AuthenticationResult": result, "ChallengeParameters": {}}))
}
