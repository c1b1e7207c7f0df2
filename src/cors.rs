//! CORS for browser callers of `POST /` and the gate.
//!
//! Only origins listed in `ALLOWED_ORIGINS`, compared exactly, get CORS headers; any other origin
//! gets none, so the browser blocks it. Preflights are answered here (they carry no token, so the
//! gate would refuse them) with the headers the AWS SDK for JavaScript v3 sends. No credentials
//! mode: callers authenticate with bearer tokens and SigV4, never cookies.

use crate::{
    config::Config,
    http::{Request, Response},
};

/// Request headers a browser may send: what the AWS SDK v3 and a bearer-token app need.
pub const ALLOWED_HEADERS: &str = "content-type, x-amz-target, x-amz-date, authorization, \
    x-amz-user-agent, amz-sdk-invocation-id, amz-sdk-request, x-amz-content-sha256, \
    x-amz-security-token";
/// Response headers a browser script may read: the request id, the error type, the challenge.
pub const EXPOSED_HEADERS: &str =
    "x-amzn-requestid, x-amzn-errortype, x-amzn-errormessage, www-authenticate";
/// Methods allowed cross-origin.
pub const ALLOWED_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
/// How long a browser may cache a preflight, in seconds.
const MAX_AGE_S: u32 = 600;

/// Whether `request` is a CORS preflight.
pub fn is_preflight(request: &Request) -> bool {
    request.method == "OPTIONS"
        && request.header("origin").is_some()
        && request.header("access-control-request-method").is_some()
}

/// Whether CORS applies to this path: the API and the gated paths.
pub fn applies(config: &Config, path: &str) -> bool {
    path == "/" || config.is_protected(path) || crate::proxy::oauth::endpoint(path).is_some()
}

/// The answer to a preflight: 204 with the allowances for a listed origin, 403 with no CORS
/// headers for any other.
pub fn preflight(config: &Config, request: &Request) -> Response {
    let origin = request.header("origin").unwrap_or_default();
    if !config.allows_origin(origin) {
        return Response {
            status: 403,
            headers: vec![("vary".into(), "Origin".into())],
            body: Vec::new(),
        };
    }
    Response {
        status: 204,
        headers: vec![
            ("access-control-allow-origin".into(), origin.to_owned()),
            (
                "access-control-allow-methods".into(),
                ALLOWED_METHODS.into(),
            ),
            (
                "access-control-allow-headers".into(),
                ALLOWED_HEADERS.into(),
            ),
            ("access-control-max-age".into(), MAX_AGE_S.to_string()),
            ("vary".into(), "Origin".into()),
        ],
        body: Vec::new(),
    }
}

/// Headers for an actual response to `request`: the allowance for a listed origin, and
/// `Vary: Origin` whenever an origin was sent (the answer depends on it).
pub fn response_headers(config: &Config, request: &Request) -> Vec<(String, String)> {
    let Some(origin) = request.header("origin") else {
        return Vec::new();
    };
    let mut headers = vec![("vary".to_owned(), "Origin".to_owned())];
    if applies(config, &request.path) && config.allows_origin(origin) {
        headers.push(("access-control-allow-origin".into(), origin.to_owned()));
        headers.push((
            "access-control-expose-headers".into(),
            EXPOSED_HEADERS.into(),
        ));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> Config {
        let mut vars = serde_json::Map::new();
        vars.insert(
            "POOLS".into(),
            json!([{"id":"us-east-1_A1","allow_any_client":true}]),
        );
        vars.insert("ALLOWED_ORIGINS".into(), json!("https://app.example"));
        Config::from_env(&vars).unwrap()
    }

    fn request(method: &str, path: &str, origin: &str) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            headers: vec![
                ("origin".into(), origin.into()),
                ("access-control-request-method".into(), "POST".into()),
                (
                    "access-control-request-headers".into(),
                    "content-type,x-amz-target".into(),
                ),
            ],
            ..Request::default()
        }
    }

    #[test]
    fn a_listed_origin_gets_a_preflight_with_the_sdk_headers() {
        let response = preflight(&config(), &request("OPTIONS", "/", "https://app.example"));
        assert_eq!(response.status, 204);
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some("https://app.example")
        );
        for header in [
            "x-amz-target",
            "x-amz-date",
            "authorization",
            "amz-sdk-invocation-id",
            "amz-sdk-request",
            "x-amz-user-agent",
            "content-type",
        ] {
            assert!(
                response
                    .header("access-control-allow-headers")
                    .unwrap()
                    .contains(header),
                "{header}"
            );
        }
    }

    #[test]
    fn any_other_origin_gets_no_cors_headers() {
        let config = config();
        let foreign = request("OPTIONS", "/", "https://evil.example");
        let response = preflight(&config, &foreign);
        assert_eq!(response.status, 403);
        assert!(response.header("access-control-allow-origin").is_none());
        let headers = response_headers(&config, &request("POST", "/", "https://evil.example"));
        assert!(headers
            .iter()
            .all(|(n, _)| !n.starts_with("access-control")));
        // Exact comparison: no suffix, scheme or port games.
        for near in [
            "https://app.example.evil",
            "http://app.example",
            "https://app.example:444",
            "null",
        ] {
            assert_eq!(
                preflight(&config, &request("OPTIONS", "/", near)).status,
                403,
                "{near}"
            );
        }
    }

    #[test]
    fn actual_responses_expose_the_request_id_and_error_type() {
        let headers = response_headers(
            &config(),
            &request("POST", "/api/me", "https://app.example"),
        );
        let expose = headers
            .iter()
            .find(|(n, _)| n == "access-control-expose-headers")
            .unwrap();
        assert!(expose.1.contains("x-amzn-requestid") && expose.1.contains("x-amzn-errortype"));
        assert!(headers.iter().any(|(n, v)| n == "vary" && v == "Origin"));
    }

    #[test]
    fn cors_covers_the_api_and_the_gate_only() {
        let config = config();
        assert!(applies(&config, "/"));
        assert!(applies(&config, "/api/orders"));
        assert!(!applies(&config, "/healthz"));
        let headers = response_headers(&config, &request("GET", "/healthz", "https://app.example"));
        assert!(headers
            .iter()
            .all(|(n, _)| !n.starts_with("access-control")));
    }
}
