//! Push delivery (RFC 8935): `POST /ssf/events/<transmitter id>` with
//! `Content-Type: application/secevent+jwt`, `Authorization: Bearer <push_secret>` and the SET
//! as the body. The answer is 202 with an empty body, or 400 (405, 404, 413 for plain HTTP
//! problems) with `{"err", "description"}`, `Content-Type: application/json` and
//! `Content-Language: en`.

use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{
    config::{Transmitter, Transmitters},
    SsfError,
};
use crate::http::{Request, Response};

/// The push endpoint's path prefix; the transmitter id follows.
pub const PATH_PREFIX: &str = "/ssf/events/";
/// Largest body read, in bytes (a SET is far smaller; the token splitter caps it again).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The SET media type (RFC 8417 §7.2).
pub const MEDIA_TYPE: &str = "application/secevent+jwt";

/// The parts of a push request this module reads.
#[derive(Debug, Clone, Copy)]
pub struct PushRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> PushRequest<'a> {
    /// The push parts of a plain request (header names are lowercase there).
    pub fn from_http(request: &'a Request) -> Self {
        Self {
            method: &request.method,
            authorization: request.header("authorization"),
            content_type: request.header("content-type"),
            body: &request.body,
        }
    }
}

/// The transmitter id of a push path, `None` for any other path.
pub fn transmitter_id(path: &str) -> Option<&str> {
    path.strip_prefix(PATH_PREFIX).filter(|id| !id.is_empty())
}

/// A push whose transmitter authenticated, carrying a candidate SET.
#[derive(Debug)]
pub struct Admitted<'a, 'c> {
    /// The transmitter that authenticated.
    pub transmitter: &'c Transmitter,
    /// The body as text, surrounding ASCII whitespace removed: the candidate SET.
    pub token: &'a str,
}

/// Checks everything about a push that comes before the SET: method, stream, size, the
/// transmitter's bearer secret, the media type.
pub fn admit<'a, 'c>(
    transmitters: &'c Transmitters,
    transmitter_id: &str,
    request: &PushRequest<'a>,
) -> Result<Admitted<'a, 'c>, SsfError> {
    if request.method != "POST" {
        return Err(SsfError::MethodNotAllowed);
    }
    let transmitter = transmitters
        .by_id(transmitter_id)
        .ok_or(SsfError::UnknownStream)?;
    if request.body.len() > MAX_BODY_BYTES {
        return Err(SsfError::BodyTooLarge);
    }
    if !authenticates(transmitter, request.authorization) {
        return Err(SsfError::AuthenticationFailed);
    }
    if !request.content_type.is_some_and(is_set_media_type) {
        return Err(SsfError::InvalidRequest(
            "the content type must be application/secevent+jwt",
        ));
    }
    let token = core::str::from_utf8(request.body)
        .map_err(|_| SsfError::InvalidRequest("the body is not a compact JWS"))?
        .trim_matches(|c: char| c.is_ascii_whitespace());
    Ok(Admitted { transmitter, token })
}

/// Whether `authorization` is `Bearer <the transmitter's push secret>`. The scheme is
/// case-insensitive (RFC 7235 §2.1); the secret is compared as SHA-256 digests in constant
/// time, so neither its bytes nor its length leak through timing. A poll-only transmitter has
/// no push secret and authenticates nothing.
fn authenticates(transmitter: &Transmitter, authorization: Option<&str>) -> bool {
    let (Some(secret), Some(authorization)) = (transmitter.push_secret(), authorization) else {
        return false;
    };
    let Some((scheme, presented)) = authorization.split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let expected: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    bool::from(presented.ct_eq(&expected))
}

/// `application/secevent+jwt`, case-insensitive, parameters ignored.
fn is_set_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("");
    essence
        .trim_matches(|c: char| c == ' ' || c == '\t')
        .eq_ignore_ascii_case(MEDIA_TYPE)
}

/// 202 Accepted with an empty body (RFC 8935 §2.2).
pub fn accepted() -> Response {
    Response {
        status: 202,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// The error answer for `error` (RFC 8935 §2.3): its status, `{"err", "description"}`,
/// `Content-Language: en`.
pub fn rejected(error: &SsfError) -> Response {
    let body = json!({"err": error.code(), "description": error.description()});
    let mut response = Response::json(error.status(), &body).with_header("content-language", "en");
    if matches!(error, SsfError::MethodNotAllowed) {
        response = response.with_header("allow", "POST");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::{json, Value};

    const SECRET: &str = "test-push-secret-0123456789abcdef";

    fn transmitters() -> Transmitters {
        let vars = json!({"POOLS": [{"id": "us-east-1_AbC123", "allow_any_client": true,
            "jwks": {"keys": [{"kty": "oct", "kid": "k", "alg": "HS256",
                               "k": "ZXh0ZXJuYWwtcG9vbC1oczI1Ni1rZXktMzItYnl0ZXM"}]},
            "algorithms": ["HS256"]}]});
        let config = Config::from_env(vars.as_object().unwrap()).unwrap();
        let list = json!([
            {"id": "tx1", "issuer": "https://ssf.transmitter.example",
             "jwks_uri": "https://ssf.transmitter.example/jwks", "audience": "https://edge.example.com/ssf",
             "push_secret": SECRET, "pool": "us-east-1_AbC123"},
            {"id": "pollonly", "issuer": "https://poll.example",
             "jwks_uri": "https://poll.example/jwks", "audience": "https://edge.example.com/ssf",
             "poll": {"endpoint": "https://poll.example/poll", "authorization": "Bearer x"},
             "pool": "us-east-1_AbC123"}]);
        Transmitters::parse(&list, &config).unwrap()
    }

    fn request<'a>(
        authorization: Option<&'a str>,
        content_type: Option<&'a str>,
        body: &'a [u8],
    ) -> PushRequest<'a> {
        PushRequest {
            method: "POST",
            authorization,
            content_type,
            body,
        }
    }

    fn admit_err(id: &str, request: PushRequest<'_>) -> SsfError {
        admit(&transmitters(), id, &request).unwrap_err()
    }

    const BEARER: &str = "Bearer test-push-secret-0123456789abcdef";

    #[test]
    fn a_push_with_the_secret_and_media_type_is_admitted_with_its_body_trimmed() {
        let t = transmitters();
        let body = b"  a.b.c\r\n";
        for (auth, ct) in [
            (BEARER, MEDIA_TYPE),
            (
                "bearer test-push-secret-0123456789abcdef",
                "Application/SecEvent+JWT; charset=utf-8",
            ),
        ] {
            let admitted = admit(&t, "tx1", &request(Some(auth), Some(ct), body)).unwrap();
            assert_eq!(admitted.token, "a.b.c");
            assert_eq!(admitted.transmitter.id, "tx1");
        }
    }

    #[test]
    fn a_missing_or_wrong_bearer_secret_fails_authentication() {
        let wrong = format!("{BEARER}x");
        let truncated = &BEARER[..BEARER.len() - 1];
        let basic = format!("Basic {SECRET}");
        let two_spaces = format!("Bearer  {SECRET}");
        let bare = SECRET.to_owned();
        for auth in [
            None,
            Some(wrong.as_str()),
            Some(truncated),
            Some(basic.as_str()),
            Some(two_spaces.as_str()),
            Some(bare.as_str()),
            Some("Bearer "),
            Some(""),
        ] {
            assert_eq!(
                admit_err("tx1", request(auth, Some(MEDIA_TYPE), b"a.b.c")),
                SsfError::AuthenticationFailed,
                "{auth:?}"
            );
        }
    }

    #[test]
    fn a_poll_only_transmitter_authenticates_no_push() {
        for auth in [None, Some("Bearer "), Some("Bearer x")] {
            assert_eq!(
                admit_err("pollonly", request(auth, Some(MEDIA_TYPE), b"a.b.c")),
                SsfError::AuthenticationFailed
            );
        }
    }

    #[test]
    fn another_media_type_is_an_invalid_request() {
        for ct in [
            None,
            Some("application/jwt"),
            Some("application/json"),
            Some("application/secevent+jwt2"),
            Some("text/plain; x=application/secevent+jwt"),
        ] {
            assert!(
                matches!(
                    admit_err("tx1", request(Some(BEARER), ct, b"a.b.c")),
                    SsfError::InvalidRequest(_)
                ),
                "{ct:?}"
            );
        }
    }

    #[test]
    fn method_stream_and_size_are_checked_before_the_secret() {
        let mut get = request(None, None, b"");
        get.method = "GET";
        assert_eq!(admit_err("tx1", get), SsfError::MethodNotAllowed);
        assert_eq!(
            admit_err("tx9", request(Some(BEARER), Some(MEDIA_TYPE), b"")),
            SsfError::UnknownStream
        );
        let huge = vec![b'a'; MAX_BODY_BYTES + 1];
        assert_eq!(
            admit_err("tx1", request(None, None, &huge)),
            SsfError::BodyTooLarge
        );
        let at_cap = vec![b'a'; MAX_BODY_BYTES];
        assert!(admit(
            &transmitters(),
            "tx1",
            &request(Some(BEARER), Some(MEDIA_TYPE), &at_cap)
        )
        .is_ok());
    }

    #[test]
    fn a_body_that_is_not_utf8_is_an_invalid_request() {
        assert!(matches!(
            admit_err("tx1", request(Some(BEARER), Some(MEDIA_TYPE), b"\xff.b.c")),
            SsfError::InvalidRequest(_)
        ));
    }

    #[test]
    fn the_push_path_names_the_transmitter() {
        assert_eq!(transmitter_id("/ssf/events/tx1"), Some("tx1"));
        assert_eq!(transmitter_id("/ssf/events/"), None);
        assert_eq!(transmitter_id("/ssf/event/tx1"), None);
    }

    #[test]
    fn answers_are_202_empty_or_the_registered_error_shape() {
        let ok = accepted();
        assert_eq!((ok.status, ok.body.len()), (202, 0));
        for (error, status, code) in [
            (SsfError::AuthenticationFailed, 400, "authentication_failed"),
            (SsfError::InvalidKey("x"), 400, "invalid_key"),
            (SsfError::InvalidState, 400, "invalid_state"),
            (SsfError::BodyTooLarge, 413, "invalid_request"),
        ] {
            let answer = rejected(&error);
            assert_eq!(answer.status, status);
            assert_eq!(answer.header("content-type"), Some("application/json"));
            assert_eq!(answer.header("content-language"), Some("en"));
            let body: Value = serde_json::from_slice(&answer.body).unwrap();
            assert_eq!(body["err"], code);
            assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()));
        }
        assert_eq!(
            rejected(&SsfError::MethodNotAllowed).header("allow"),
            Some("POST")
        );
    }
}
