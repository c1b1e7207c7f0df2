//! The hosted-UI OAuth endpoints of a pool with an upstream domain, served under the pool's id:
//! `POST /<pool id>/oauth2/token` and `POST /<pool id>/oauth2/revoke`, forwarded to
//! `<upstream.domain>/oauth2/token` and `/oauth2/revoke` with the rules of the API's proxy.
//!
//! - `/oauth2/token`: the `authorization_code` and `refresh_token` grants (the ones that carry a
//!   user's session) are forwarded; any other grant is `unsupported_grant_type`. A success that
//!   carries a refresh token teaches the Worker its session (`memory`), as a proxied sign-in does.
//! - `/oauth2/revoke`: a refresh token the Worker saw has its session revoked at the edge first
//!   (the client being the one it was issued to, with its secret where the configuration lists
//!   one), then the call is forwarded.
//!
//! Only `content-type` and a Basic `authorization` (the client's credentials, which Cognito
//! checks) go out; the answer's status, `content-type` and body come back. Errors of the
//! Worker's own are RFC 6749's shape: `{"error": "..."}`.

use std::borrow::Cow;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use super::{memory, sessions, upstream};
use crate::{
    config::{Config, Pool},
    error::{Error, Surface},
    http::{Request, Response},
    ports::Outbound,
    revocation::{Receipt, ENFORCED_BY_HEADER},
    services::{Io, Services},
};

/// Which endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/oauth2/token`.
    Token,
    /// `/oauth2/revoke`.
    Revoke,
}

/// The pool id and endpoint of a `/<pool id>/oauth2/<token|revoke>` path.
pub fn endpoint(path: &str) -> Option<(&str, Endpoint)> {
    let rest = path.strip_prefix('/')?;
    let (pool_id, name) = rest.split_once("/oauth2/")?;
    if pool_id.is_empty() || pool_id.contains('/') {
        return None;
    }
    match name {
        "token" => Some((pool_id, Endpoint::Token)),
        "revoke" => Some((pool_id, Endpoint::Revoke)),
        _ => None,
    }
}

fn oauth_error(status: u16, error: &str) -> Response {
    Response::json(status, &json!({ "error": error })).with_header("cache-control", "no-store")
}

/// Answers a `POST` to a hosted-UI path of [`endpoint`].
pub async fn handle(
    services: &Services,
    config: &Config,
    request: &Request,
    io: &Io<'_>,
) -> Response {
    let Some((pool_id, endpoint)) = endpoint(&request.path) else {
        return not_found();
    };
    let Some((pool, domain)) = config.pool(pool_id).and_then(|pool| {
        let domain = pool.upstream.as_ref()?.domain.as_deref()?;
        Some((pool, domain))
    }) else {
        return not_found();
    };
    match serve(services, config, pool, domain, endpoint, request, io).await {
        Ok(response) => response,
        Err(err) => {
            (io.log)(&format!("oauth2 for pool {}: {err}", pool.id));
            oauth_error(503, "temporarily_unavailable")
        }
    }
}

fn not_found() -> Response {
    Response::aws_error(
        &Error::NotFound("No hosted-UI domain is configured for this pool."),
        Surface::Api,
        "application/json",
    )
}

async fn serve(
    services: &Services,
    config: &Config,
    pool: &Pool,
    domain: &str,
    endpoint: Endpoint,
    request: &Request,
    io: &Io<'_>,
) -> Result<Response, Error> {
    let form_type = request.header("content-type").is_some_and(|value| {
        value.split(';').next().is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    if !form_type {
        return Ok(oauth_error(400, "invalid_request"));
    }
    let Some(form) = Form::parse(&request.body) else {
        return Ok(oauth_error(400, "invalid_request"));
    };
    let basic = request.header("authorization").and_then(basic_credentials);
    let receipt = Receipt::new();
    match endpoint {
        Endpoint::Token => {
            if !matches!(
                form.get("grant_type"),
                Some("refresh_token" | "authorization_code")
            ) {
                return Ok(oauth_error(400, "unsupported_grant_type"));
            }
        }
        Endpoint::Revoke => {
            let client_id = form
                .get("client_id")
                .or(basic.as_ref().map(|(id, _)| id.as_str()));
            if let (Some(token), Some(client_id)) = (form.get("token"), client_id) {
                let secret = basic.as_ref().map(|(_, secret)| secret.as_str());
                if client_may_revoke(pool, client_id, secret) {
                    sessions::revoke_remembered(
                        &services.revocations_noting(config, io, &receipt),
                        pool,
                        token,
                        client_id,
                        "oauth2/revoke",
                        io,
                    )
                    .await?;
                }
            }
        }
    }
    let path = match endpoint {
        Endpoint::Token => "/oauth2/token",
        Endpoint::Revoke => "/oauth2/revoke",
    };
    let mut headers = vec![(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    if let Some(authorization) = request
        .header("authorization")
        .filter(|value| basic_credentials(value).is_some())
    {
        headers.push(("authorization".to_owned(), authorization.to_owned()));
    }
    let outbound = Outbound {
        url: format!("{domain}{path}"),
        headers,
        body: request.body.clone(),
    };
    let answer = io
        .fetcher
        .post(&outbound, upstream::MAX_ANSWER_BYTES, upstream::TIMEOUT_MS)
        .await
        .map_err(|why| Error::Internal(format!("upstream domain unreachable: {why}")))?;
    if (300..400).contains(&answer.status) || answer.status >= 500 {
        return Err(Error::Internal(format!(
            "upstream domain answered {}",
            answer.status
        )));
    }
    if endpoint == Endpoint::Token && answer.status == 200 {
        if let Ok(Value::Object(tokens)) = crate::json::parse_value(&answer.body) {
            let text = |name: &str| tokens.get(name).and_then(Value::as_str);
            if let Some(access) = text("access_token") {
                let presented = form.get("refresh_token");
                let refresh: Vec<&str> = [text("refresh_token"), presented]
                    .into_iter()
                    .flatten()
                    .collect();
                memory::learn(services, config, pool, access, &refresh, io).await?;
            }
        }
    }
    (io.log)(&format!(
        "oauth2{path} forwarded for pool {}: {}",
        pool.id, answer.status
    ));
    let headers = answer
        .headers
        .into_iter()
        .filter(|(name, _)| matches!(name.as_str(), "content-type" | "cache-control" | "pragma"))
        .collect();
    let response = Response {
        status: answer.status,
        headers,
        body: answer.body,
    };
    // A revocation written at the edge: when every location refuses the session's tokens.
    Ok(match receipt.enforced_by_ms() {
        Some(ms) => response.with_header(ENFORCED_BY_HEADER, ms.to_string()),
        None => response,
    })
}

/// Whether `client_id` of `pool` may have its session revoked at the edge: a listed client
/// with token revocation on, and its secret given where the configuration lists one.
fn client_may_revoke(pool: &Pool, client_id: &str, secret: Option<&str>) -> bool {
    let Some(client) = pool.client(client_id) else {
        return false;
    };
    client.token_revocation
        && client.secret.as_ref().is_none_or(|expected| {
            bool::from(
                expected
                    .as_bytes()
                    .ct_eq(secret.unwrap_or_default().as_bytes()),
            )
        })
}

/// `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 §2.3.1, form-encoded parts).
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |part: &str| -> String {
        form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((decode(id), decode(secret)))
}

/// A form body whose every parameter appears once (RFC 6749 §3.1).
struct Form<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Form<'a> {
    fn parse(body: &'a [u8]) -> Option<Self> {
        let pairs: Vec<_> = form_urlencoded::parse(body).collect();
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs.iter().take(i).any(|(earlier, _)| earlier == name) {
                return None;
            }
        }
        Some(Self { pairs })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_pools_token_and_revoke_paths_are_hosted_ui_paths() {
        assert_eq!(
            endpoint("/us-east-1_A1/oauth2/token"),
            Some(("us-east-1_A1", Endpoint::Token))
        );
        assert_eq!(
            endpoint("/us-east-1_A1/oauth2/revoke"),
            Some(("us-east-1_A1", Endpoint::Revoke))
        );
        for path in [
            "/oauth2/token",
            "/us-east-1_A1/oauth2/authorize",
            "/a/b/oauth2/token",
            "/us-east-1_A1/oauth2/token/",
            "//oauth2/token",
        ] {
            assert_eq!(endpoint(path), None, "{path}");
        }
    }

    #[test]
    fn a_repeated_form_parameter_is_refused() {
        assert!(Form::parse(b"token=a&client_id=c").is_some());
        assert!(Form::parse(b"token=a&token=b").is_none());
    }

    #[test]
    fn basic_credentials_are_read_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20client:s3cr%2Bt"));
        assert_eq!(
            basic_credentials(&header),
            Some(("my client".to_owned(), "s3cr+t".to_owned()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }
}
