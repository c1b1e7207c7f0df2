//! The gate: every path under `PROTECTED_PREFIXES` needs `Authorization: Bearer <token>`, a
//! token that verifies and is not revoked. Accepted requests go to `ORIGIN_URL` with the
//! verified identity as `x-edge-auth-*` headers (any the client sent are stripped); with no
//! origin, `GET /api/me` answers the verified claims. Refusals are 401 with
//! `WWW-Authenticate` (RFC 6750 §3), or 503 when the Worker could not decide.

use percent_encoding::{percent_encode, AsciiSet, CONTROLS};
use serde_json::Value;

use crate::{
    auth::{Authenticated, Expect},
    config::Config,
    error::{Error, Surface},
    http::{Outcome, Request, Response},
    services::{Io, Services},
};

/// Prefix of the identity headers set on forwarded requests; the client's own are removed.
pub const IDENTITY_HEADER_PREFIX: &str = "x-edge-auth-";

/// Whether a client's header would pass for one of our identity headers, and so must not reach
/// the origin: its name, lowercased and with `_` read as `-`, begins with `x-edge-auth-`.
/// Servers that map headers to CGI-style variables (`HTTP_X_EDGE_AUTH_USERNAME`: PHP, WSGI,
/// Rack, many proxies) make `x_edge_auth_username` and `X-Edge-Auth-Username` the same header.
pub fn is_identity_header(name: &str) -> bool {
    let prefix = IDENTITY_HEADER_PREFIX.as_bytes();
    name.len() >= prefix.len()
        && name.bytes().zip(prefix).all(|(byte, want)| {
            let byte = if byte == b'_' { b'-' } else { byte };
            byte.to_ascii_lowercase() == *want
        })
}

/// Answers a request under a protected prefix.
pub async fn handle(
    services: &Services,
    config: &Config,
    request: &Request,
    io: &Io<'_>,
) -> Outcome {
    match pass(services, config, request, io).await {
        Ok(outcome) => outcome,
        Err(err) => {
            (io.log)(&format!(
                "gate refused {} {}: {err}",
                request.method, request.path
            ));
            Outcome::Respond(refusal(&err))
        }
    }
}

async fn pass(
    services: &Services,
    config: &Config,
    request: &Request,
    io: &Io<'_>,
) -> Result<Outcome, Error> {
    let token = bearer_token(request).ok_or(Error::MissingBearer)?;
    let caller = services
        .authorize(config, token, &Expect::default(), io)
        .await?;
    let auth = caller.auth();
    if let Some(origin) = &config.origin_url {
        let mut url = format!("{origin}{}", request.path);
        if !request.query.is_empty() {
            url.push('?');
            url.push_str(&request.query);
        }
        return Ok(Outcome::Forward {
            url,
            identity: identity_headers(auth),
            cors: Vec::new(),
        });
    }
    let is_me = config
        .protected_prefixes
        .iter()
        .any(|prefix| request.path == format!("{prefix}me"));
    let response = if is_me && request.method == "GET" {
        Response::json(200, &Value::Object(auth.claims().all.clone()))
    } else {
        Response::aws_error(
            &Error::NotFound(
                "No upstream is configured (ORIGIN_URL); only GET /api/me is answered here.",
            ),
            Surface::Gate,
            "application/json",
        )
    };
    Ok(Outcome::Respond(response))
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235 §2.1).
fn bearer_token(request: &Request) -> Option<&str> {
    let value = request.header("authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A gate refusal: 401 with `WWW-Authenticate` (RFC 6750 §3), or 503 when the Worker could not
/// decide (KV or JWKS down: fail closed).
fn refusal(err: &Error) -> Response {
    let response = Response::aws_error(err, Surface::Gate, "application/json");
    match err {
        Error::MissingBearer => response.with_header("www-authenticate", "Bearer"),
        Error::Token { .. } => {
            let wire = err.wire(Surface::Gate);
            response.with_header(
                "www-authenticate",
                format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    wire.message
                ),
            )
        }
        _ => response.with_header("retry-after", "1"),
    }
}

/// The verified identity as headers for the upstream. Values are UTF-8 with every byte outside
/// printable ASCII, and `%` itself, percent-encoded, so any username survives HTTP headers and
/// plain ASCII values arrive unchanged.
fn identity_headers(auth: &Authenticated) -> Vec<(String, String)> {
    let claims = auth.claims();
    let mut headers = vec![
        ("sub", Some(claims.sub.as_str())),
        ("username", claims.username.as_deref()),
        // The client the token was checked against (`aud` for ID tokens), never an unchecked
        // `client_id` claim an ID token may also carry.
        ("client-id", Some(auth.client_id())),
        ("token-use", Some(claims.token_use.as_str())),
        ("scope", claims.scope.as_deref()),
        ("pool", Some(auth.pool_id())),
    ];
    headers
        .drain(..)
        .filter_map(|(name, value)| {
            value.map(|v| (format!("{IDENTITY_HEADER_PREFIX}{name}"), header_safe(v)))
        })
        .collect()
}

/// Bytes of an identity header value sent as `%XX`: controls, DEL, `%` itself (and every byte
/// outside ASCII, which percent-encoding always escapes).
const NOT_HEADER_SAFE: &AsciiSet = &CONTROLS.add(b'%');

fn header_safe(value: &str) -> String {
    percent_encode(value.as_bytes(), NOT_HEADER_SAFE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(auth: Option<&str>) -> Request {
        Request {
            method: "GET".into(),
            path: "/api/me".into(),
            headers: auth
                .map(|v| vec![("authorization".into(), v.into())])
                .unwrap_or_default(),
            ..Request::default()
        }
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer_token(&request(Some("Bearer abc"))), Some("abc"));
        assert_eq!(bearer_token(&request(Some("bearer   abc"))), Some("abc"));
        assert_eq!(bearer_token(&request(Some("Basic abc"))), None);
        assert_eq!(bearer_token(&request(Some("Bearer "))), None);
        assert_eq!(bearer_token(&request(Some("Bearer"))), None);
        assert_eq!(bearer_token(&request(None)), None);
    }

    #[test]
    fn identity_headers_are_recognised_in_every_case_and_with_underscores() {
        for name in [
            "x-edge-auth-username",
            "X-Edge-Auth-Sub",
            "x_edge_auth_username",
            "X_EDGE_AUTH_POOL",
            "x-edge_auth-scope",
            "X_Edge-Auth_client-id",
            "x-edge-auth-",
            "x_edge_auth_",
        ] {
            assert!(is_identity_header(name), "{name} must be stripped");
        }
        for name in [
            "x-edge-auth",
            "x_edge_auth",
            "x-edge-authz",
            "x-edge-revoke-enforced-by",
            "authorization",
            "x-edge-aut-sub",
            "xx-edge-auth-sub",
            "",
        ] {
            assert!(!is_identity_header(name), "{name} is not ours");
        }
    }

    #[test]
    fn identity_header_values_keep_ascii_and_encode_the_rest() {
        assert_eq!(header_safe("alice@example.com"), "alice@example.com");
        assert_eq!(header_safe("100%"), "100%25");
        assert_eq!(header_safe("zoë\r\nx"), "zo%C3%AB%0D%0Ax");
        assert_eq!(header_safe("a\u{7f}b"), "a%7Fb");
    }
}
