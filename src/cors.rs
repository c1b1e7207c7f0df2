//! CORS for browser callers of `POST /` and the gate.
//!
//! Only origins listed in `ALLOWED_ORIGINS`, compared exactly, get CORS headers; any other origin
//! gets none, so the browser blocks it. Preflights are answered here (they carry no token, so the
//! gate would refuse them) with every request header the Cognito clients send: the AWS SDK for
//! JavaScript v3, Amplify v6 and amazon-cognito-identity-js (both of which add `Cache-Control:
//! no-store` to every call). A preflight the browser will refuse (an origin not listed, a header
//! or method not allowed) is logged with what failed, since the page itself only hears a network
//! error. No credentials mode: callers authenticate with bearer tokens and SigV4, never cookies.

use crate::{
    config::Config,
    http::{Request, Response},
};

/// Request headers a browser may send, lower case: what the AWS SDK v3 (`x-amz-*`,
/// `amz-sdk-*`, `authorization`), Amplify v6 and amazon-cognito-identity-js (`x-amz-target`,
/// `x-amz-user-agent`, `cache-control`) and a bearer-token app need, plus the CORS-safelisted
/// request headers a browser may list anyway.
pub const ALLOWED_HEADER_NAMES: [&str; 15] = [
    "content-type",
    "x-amz-target",
    "x-amz-date",
    "authorization",
    "x-amz-user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "cache-control",
    "x-amzn-trace-id",
    "pragma",
    "accept",
    "accept-language",
    "content-language",
];
/// [`ALLOWED_HEADER_NAMES`] as the preflight answers them.
pub const ALLOWED_HEADERS: &str = "content-type, x-amz-target, x-amz-date, authorization, \
    x-amz-user-agent, amz-sdk-invocation-id, amz-sdk-request, x-amz-content-sha256, \
    x-amz-security-token, cache-control, x-amzn-trace-id, pragma, accept, accept-language, \
    content-language";
/// Response headers a browser script may read: the request id, the error type, the challenge.
pub const EXPOSED_HEADERS: &str =
    "x-amzn-requestid, x-amzn-errortype, x-amzn-errormessage, www-authenticate";
/// Methods allowed cross-origin.
pub const ALLOWED_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
/// How long a browser may cache a preflight, in seconds.
const MAX_AGE_S: u32 = 600;
/// Longest origin or header name quoted in the log (they are the caller's text).
const MAX_LOGGED_CHARS: usize = 100;

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

fn quoted(text: &str) -> String {
    let cut: String = text.chars().take(MAX_LOGGED_CHARS).collect();
    format!("{cut:?}")
}

/// Why the browser will refuse the request this preflight asks about, for the log: the origin
/// is not in `ALLOWED_ORIGINS`, or it asks for a method or request headers not allowed. `None`
/// when it will go through.
pub fn refusal(config: &Config, request: &Request) -> Option<String> {
    let origin = request.header("origin").unwrap_or_default();
    if !config.allows_origin(origin) {
        return Some(format!(
            "origin {} is not in ALLOWED_ORIGINS",
            quoted(origin)
        ));
    }
    let method = request
        .header("access-control-request-method")
        .unwrap_or_default();
    if !ALLOWED_METHODS
        .split(", ")
        .any(|allowed| allowed == method.trim())
    {
        return Some(format!(
            "method {} is not allowed cross-origin (allowed: {ALLOWED_METHODS})",
            quoted(method)
        ));
    }
    let refused: Vec<String> = request
        .header("access-control-request-headers")
        .unwrap_or_default()
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty() && !ALLOWED_HEADER_NAMES.contains(&name.as_str()))
        .map(|name| quoted(&name))
        .collect();
    if refused.is_empty() {
        None
    } else {
        Some(format!(
            "request header {} not allowed (allowed: {ALLOWED_HEADERS}); origin {}",
            refused.join(", "),
            quoted(origin)
        ))
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
            "cache-control",
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

    #[test]
    fn the_allowed_header_list_and_its_answer_name_the_same_headers() {
        let answered: Vec<&str> = ALLOWED_HEADERS.split(", ").collect();
        assert_eq!(answered, ALLOWED_HEADER_NAMES);
    }

    fn asking(origin: &str, method: &str, headers: &str) -> Request {
        let mut request = request("OPTIONS", "/", origin);
        request.headers = vec![
            ("origin".into(), origin.into()),
            ("access-control-request-method".into(), method.into()),
            ("access-control-request-headers".into(), headers.into()),
        ];
        request
    }

    #[test]
    fn a_preflight_with_every_header_the_cognito_libraries_send_is_not_refused() {
        // Amplify v6 (cache-control, amz-sdk-*, x-amz-user-agent), amazon-cognito-identity-js
        // (Cache-Control, X-Amz-User-Agent, as the browser lists them: lower case), SDK v3.
        for headers in [
            "amz-sdk-invocation-id,amz-sdk-request,cache-control,content-type,x-amz-target,x-amz-user-agent",
            "cache-control,content-type,x-amz-target,x-amz-user-agent",
            "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-content-sha256,x-amz-date,x-amz-security-token,x-amz-target,x-amz-user-agent",
            "Cache-Control, X-Amz-Target",
            "",
        ] {
            let request = asking("https://app.example", "POST", headers);
            assert_eq!(refusal(&config(), &request), None, "{headers}");
            assert_eq!(preflight(&config(), &request).status, 204);
        }
    }

    #[test]
    fn a_refused_preflight_names_the_header_or_origin_that_failed() {
        let config = config();
        let header = refusal(
            &config,
            &asking("https://app.example", "POST", "content-type,x-custom-thing"),
        )
        .unwrap();
        assert!(header.contains("\"x-custom-thing\""), "{header}");
        assert!(!header.contains("\"content-type\""), "{header}");
        let origin = refusal(&config, &asking("https://evil.example", "POST", "")).unwrap();
        assert!(origin.contains("\"https://evil.example\""), "{origin}");
        assert!(origin.contains("ALLOWED_ORIGINS"), "{origin}");
        let method = refusal(&config, &asking("https://app.example", "TRACE", "")).unwrap();
        assert!(method.contains("\"TRACE\""), "{method}");
    }
}
