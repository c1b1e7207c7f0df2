//! Tokens a local pool issues, shaped like Cognito's (reference/cognito.md §4).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jwt_compact::{alg::Rsa, Algorithm, AlgorithmSignature};
use serde_json::{json, Map, Value};

use crate::{
    config::Pool,
    error::Error,
    local::{seal, users::User},
    signing::SigningKeys,
};

/// The scope Cognito grants tokens from its user-pool API sign-in; token-authorised user
/// operations (GetUser, GlobalSignOut) require it.
pub const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// A signed-in session: what a refresh token carries and every token of the session repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user's sub.
    pub sub: String,
    /// The app client the session belongs to.
    pub client_id: String,
    /// The session's id: `origin_jti` in every token it yields.
    pub origin_jti: String,
    /// The authentication event's id (`event_id`).
    pub event_id: String,
    /// When the user authenticated, in seconds; refreshes keep it.
    pub auth_time_s: u64,
}

/// Tokens issued for a session.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The access token.
    pub access_token: String,
    /// The ID token.
    pub id_token: String,
    /// The access token's lifetime, in seconds.
    pub expires_in: u64,
}

/// A fresh UUID v4, or an error when no randomness is available.
pub fn uuid_v4() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

fn sign(keys: &SigningKeys, claims: &Value) -> String {
    let key = keys.current();
    // Cognito's header: kid, then alg; no typ.
    let header = format!(r#"{{"kid":{},"alg":"RS256"}}"#, Value::from(key.kid()));
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = Rsa::rs256().sign(key.private(), signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_bytes())
    )
}

/// Issues an access token and an ID token for `session`.
pub fn issue(
    pool: &Pool,
    keys: &SigningKeys,
    user: &User,
    session: &Session,
    now_ms: u64,
) -> Result<Issued, Error> {
    let now = now_ms / 1000;
    let access = json!({
        "sub": user.sub,
        "iss": pool.issuer,
        "client_id": session.client_id,
        "origin_jti": session.origin_jti,
        "event_id": session.event_id,
        "token_use": "access",
        "scope": ADMIN_SCOPE,
        "auth_time": session.auth_time_s,
        "exp": now + pool.access_token_validity_s,
        "iat": now,
        "jti": uuid_v4()?,
        "username": user.username,
    });
    let mut id = Map::new();
    id.insert("sub".into(), Value::from(user.sub.clone()));
    for (name, value) in &user.attributes {
        // Cognito puts boolean attributes in the ID token as JSON booleans.
        let value = match (name.as_str(), value.as_str()) {
            ("email_verified" | "phone_number_verified", "true") => Value::Bool(true),
            ("email_verified" | "phone_number_verified", "false") => Value::Bool(false),
            _ => Value::from(value.clone()),
        };
        id.insert(name.clone(), value);
    }
    for (name, value) in [
        ("iss", Value::from(pool.issuer.clone())),
        ("cognito:username", Value::from(user.username.clone())),
        ("origin_jti", Value::from(session.origin_jti.clone())),
        ("aud", Value::from(session.client_id.clone())),
        ("event_id", Value::from(session.event_id.clone())),
        ("token_use", Value::from("id")),
        ("auth_time", Value::from(session.auth_time_s)),
        ("exp", Value::from(now + pool.id_token_validity_s)),
        ("iat", Value::from(now)),
        ("jti", Value::from(uuid_v4()?)),
    ] {
        id.insert(name.into(), value);
    }
    Ok(Issued {
        access_token: sign(keys, &access),
        id_token: sign(keys, &Value::Object(id)),
        expires_in: pool.access_token_validity_s,
    })
}

/// Seals a refresh token for `session`, valid for the pool's refresh-token lifetime.
pub fn refresh_token(
    pool: &Pool,
    keys: &SigningKeys,
    session: &Session,
    now_ms: u64,
) -> Result<String, Error> {
    rotated_refresh_token(pool, keys, session, None, now_ms)
}

/// Seals a refresh token for `session` carrying `rotation_id`, the id a client with
/// refresh-token rotation tells its generations apart by (GetTokensFromRefreshToken).
pub fn rotated_refresh_token(
    pool: &Pool,
    keys: &SigningKeys,
    session: &Session,
    rotation_id: Option<&str>,
    now_ms: u64,
) -> Result<String, Error> {
    let mut claims = json!({
        "pool": pool.id,
        "sub": session.sub,
        "client_id": session.client_id,
        "origin_jti": session.origin_jti,
        "event_id": session.event_id,
        "auth_time": session.auth_time_s,
        "exp": now_ms / 1000 + pool.refresh_token_validity_s,
    });
    if let Some(id) = rotation_id {
        claims["rt"] = Value::from(id);
    }
    let Value::Object(claims) = claims else {
        return Err(Error::Internal("refresh claims are not an object".into()));
    };
    seal::seal(keys, seal::Purpose::Refresh, &claims).map_err(Error::Internal)
}

/// What an opened refresh token says.
#[derive(Debug, Clone)]
pub struct RefreshClaims {
    /// The pool that issued it.
    pub pool: String,
    /// The session.
    pub session: Session,
    /// When it expires, in seconds.
    pub exp_s: u64,
    /// Its generation under refresh-token rotation; `None` for a token issued at sign-in.
    pub rotation_id: Option<String>,
}

/// Opens a refresh token sealed by one of `keys`; `None` if it is not one.
pub fn open_refresh_token(keys: &SigningKeys, token: &str) -> Option<RefreshClaims> {
    let claims = seal::open(keys, seal::Purpose::Refresh, token)?;
    let string = |name: &str| claims.get(name)?.as_str().map(str::to_owned);
    let number = |name: &str| claims.get(name)?.as_u64();
    Some(RefreshClaims {
        pool: string("pool")?,
        session: Session {
            sub: string("sub")?,
            client_id: string("client_id")?,
            origin_jti: string("origin_jti")?,
            event_id: string("event_id")?,
            auth_time_s: number("auth_time")?,
        },
        exp_s: number("exp")?,
        rotation_id: string("rt"),
    })
}
