//! A drop-in Cognito endpoint: every Cognito call addressed to a pool with an `upstream` is
//! forwarded to the real user pool, and the calls that end sessions end them at the edge too.
//!
//! # Routing
//! A call goes upstream when it is addressed to a pool with an upstream ([`route`]): by its
//! `UserPoolId`; an unsigned operation without one by its `ClientId` (each such pool's clients
//! are its own, checked at load), then by the issuer of its `AccessToken`. A SigV4 operation is
//! routed by `UserPoolId` only: account-wide operations (ListUserPools, CreateUserPool,
//! TagResource, …) name no configured pool and are never forwarded. Only Cognito's own
//! operation names ([`operations`]) go out, only to the pool's configured endpoint, with a
//! body the adapter has already capped, and answers are read with a cap, a time limit and no
//! redirects: the Worker is not a relay for anything else.
//!
//! # Forwarding
//! An unsigned operation goes out as it came, with only `content-type` and `x-amz-target`. A
//! SigV4 operation is forwarded only after the caller's own signature, replay check and IAM
//! allow-list have passed (`api`, [`ops::permit_signed`]), then re-signed with
//! `UPSTREAM_CREDENTIALS` for the pool's region: the caller's credentials never leave the
//! Worker. An access token in the body is verified and checked against the revocation list
//! first, so a token revoked at the edge is refused here with Cognito's words. Cognito's answer
//! comes back as it was: status, `x-amzn-RequestId`, `x-amzn-ErrorType`, body. An answer that
//! is not Cognito's (no `x-amzn-ErrorType` on an error, a redirect, a timeout, a refused
//! connection, an oversized body) becomes InternalErrorException, which SDKs retry.
//!
//! # Both sides of a sign-out
//! GlobalSignOut, DeleteUser, AdminUserGlobalSignOut, AdminDisableUser, AdminDeleteUser and
//! RevokeToken write the edge entry **first**, then forward ([`sessions`]). If the edge write
//! fails, nothing is forwarded (InternalErrorException; nothing changed anywhere). If the
//! forward fails after the edge write, the caller gets InternalErrorException (or Cognito's own
//! 5xx) and the tokens are already refused at the edge: a failure leaves more revoked, never
//! less. A retry is safe: edge writes never lower an entry, and Cognito's sign-outs are
//! idempotent. A GlobalSignOut retried with a token the first attempt revoked at the edge is
//! forwarded without a second edge write, so a revoked token cannot push a user's sign-out
//! time forward.
//!
//! # Refresh tokens
//! Cognito's refresh tokens are opaque to the Worker. When it forwards a sign-in or a refresh
//! and sees one with the access token minted beside it, it remembers SHA-256(refresh token) →
//! the session's `origin_jti` ([`memory`]; the hash only, never the token), so a RevokeToken
//! through the Worker can revoke that session at the edge too. A refresh token the Worker never
//! saw is forwarded only.

mod memory;
pub mod oauth;
pub mod operations;
mod sessions;
mod upstream;

use serde_json::{Map, Value};

pub use operations::Signing;

use crate::{
    auth::{Candidate, Expect},
    config::{Config, Pool, Upstream},
    error::{ApiError, Error},
    http::Response,
    iam::SERVICE_PREFIX,
    ops::{self, Caller},
    revocation::Receipt,
    services::{Io, Services},
};

/// A call addressed to a pool with an upstream.
#[derive(Debug, Clone, Copy)]
pub struct Route<'c> {
    /// The Cognito operation, as in `X-Amz-Target`.
    pub name: &'static str,
    /// Whether Cognito wants it signed.
    pub signing: Signing,
    /// The pool it is addressed to.
    pub pool: &'c Pool,
    /// That pool's upstream.
    pub upstream: &'c Upstream,
}

/// The pool with an upstream that the call `name` with `body` is addressed to, if any (see
/// the module doc); `None` for a name that is not Cognito's.
pub fn route<'c>(config: &'c Config, name: &str, body: &Map<String, Value>) -> Option<Route<'c>> {
    let (name, signing) = operations::lookup(name)?;
    let member = |key: &str| body.get(key).and_then(Value::as_str);
    let pool = match (member("UserPoolId"), signing) {
        (Some(pool_id), _) => config.pool(pool_id)?,
        (None, Signing::Signed) => return None,
        (None, Signing::Unsigned) => match (member("ClientId"), member("AccessToken")) {
            (Some(client_id), _) => config
                .pools
                .iter()
                .find(|p| p.upstream.is_some() && p.client(client_id).is_some())?,
            (None, Some(token)) => Candidate::parse(token, config, &Expect::ACCESS)
                .ok()?
                .pool(),
            (None, None) => return None,
        },
    };
    let upstream = pool.upstream.as_ref()?;
    Some(Route {
        name,
        signing,
        pool,
        upstream,
    })
}

/// Whether any pool forwards to an upstream.
pub fn any_upstream(config: &Config) -> bool {
    config.pools.iter().any(|p| p.upstream.is_some())
}

/// Forwards a routed call whose caller passed the checks `api` makes before the body (SigV4
/// and replay for signed operations): checks the caller's IAM allow-list for a signed one,
/// does the edge's part (a sign-out's entry, an access token's check), sends `raw` (the body
/// as received) upstream, learns from a sign-in's answer, and answers Cognito's answer. The
/// edge's revocations note `receipt`.
#[allow(clippy::too_many_arguments)] // the call, its caller and the request's context
pub async fn forward(
    services: &Services,
    config: &Config,
    route: &Route<'_>,
    caller: Caller<'_>,
    raw: &[u8],
    body: &Map<String, Value>,
    receipt: &Receipt,
    io: &Io<'_>,
) -> Result<Response, Error> {
    if route.signing == Signing::Signed {
        let action = format!("{SERVICE_PREFIX}{}", route.name);
        ops::permit_signed(caller, &action, &route.pool.id)?;
    }
    let credentials = config.upstream_credentials.as_ref().ok_or_else(|| {
        Error::Internal("a pool has an upstream but UPSTREAM_CREDENTIALS is not set".into())
    })?;
    let send = upstream::Sender {
        route,
        credentials,
        io,
    };
    if let Some(early) =
        sessions::edge_first(services, config, caller, body, &send, receipt, io).await?
    {
        return Ok(early);
    }
    let answer = send.call(route.name, raw).await?;
    if answer.status == 200 {
        memory::learn_from_answer(services, config, route, body, &answer, io).await?;
    }
    (io.log)(&format!(
        "{} forwarded for pool {}: {} (upstream request {})",
        route.name,
        route.pool.id,
        answer.status,
        answer
            .header("x-amzn-requestid")
            .map(|id| id.chars().take(64).collect::<String>())
            .unwrap_or_default()
    ));
    upstream::to_response(answer, io)
}

/// [`forward`] for the JavaScript API (`globalSignOut`, `revokeToken` on a pool with an
/// upstream): Cognito's success as a value, its error as an [`Error`] with Cognito's name and
/// message.
pub async fn forward_trusted(
    services: &Services,
    config: &Config,
    route: &Route<'_>,
    body: &Map<String, Value>,
    receipt: &Receipt,
    io: &Io<'_>,
) -> Result<Value, Error> {
    let raw = serde_json::to_vec(body).map_err(|e| Error::Internal(e.to_string()))?;
    let response = forward(
        services,
        config,
        route,
        Caller::Trusted,
        &raw,
        body,
        receipt,
        io,
    )
    .await?;
    let parsed = if response.body.iter().all(u8::is_ascii_whitespace) {
        Some(Value::Object(Map::new()))
    } else {
        crate::json::parse_value(&response.body).ok()
    };
    if response.status == 200 {
        return parsed.ok_or_else(|| Error::Internal("upstream answered 200 with no JSON".into()));
    }
    let named = response
        .header("x-amzn-errortype")
        .map(upstream::bare_error_type)
        .and_then(operations::exception)
        .unwrap_or("InternalErrorException");
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("message").or_else(|| v.get("Message")))
        .and_then(Value::as_str)
        .unwrap_or("Internal server error.")
        .chars()
        .take(512)
        .collect();
    Err(ApiError::Upstream {
        status: response.status,
        error_type: named,
        message,
    }
    .into())
}
