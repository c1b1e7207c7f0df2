//! A pool with an `upstream`: every Cognito call forwarded to the real user pool, sign-outs on
//! both sides, refresh tokens learnt and revoked. Native, over the wire protocol, against a
//! recording upstream (`FakeCognito`: a fake, as no Cognito runs here; the client tier runs the
//! same story against moto).

mod support;

use std::{cell::RefCell, collections::VecDeque};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use edge_revoke::{
    app::{App, Io, Outcome, TrustedCall},
    config::Config,
    crypto::RustCrypto,
    http::Request,
    ops::Operation,
    ports::{Fetcher, Inbound, LocalFuture, Outbound},
    sigv4::{self, RequestParts},
};
use serde_json::{json, Map, Value};
use support::*;

const UP: &str = "us-east-1_Up1";
const UP_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Up1";
const UP_CLIENT: &str = "upclient";
const UP_SECRET_CLIENT: &str = "upsecretclient";
const UP_CLIENT_SECRET: &str = "UpClientSecret_0123456789ab";
const UP_KID: &str = "up-hs-1";
const UP_KEY: &[u8; 32] = b"upstream-pool-hs256-key-32-bytes";
const ENDPOINT: &str = "http://127.0.0.1:4566";
const DOMAIN: &str = "https://auth.example.test";
const UP_KEY_ID: &str = "AKIAUPSTREAMWORKER01";
const UP_SECRET: &str = "upstream-worker-secret-access-key-01";
const SUB: &str = "5b0b7a3c-0000-4000-8000-00000000c0de";
const NAME: &str = "carol";

/// A recording Cognito: every request the Worker sends out, and answers scripted per call
/// (the default answer is `200 {}`). A fake: no real Cognito can run in the native tier.
#[derive(Default)]
struct FakeCognito {
    seen: RefCell<Vec<Outbound>>,
    script: RefCell<VecDeque<Result<Inbound, String>>>,
}

impl FakeCognito {
    fn then(&self, answer: Result<Inbound, String>) -> &Self {
        self.script.borrow_mut().push_back(answer);
        self
    }

    fn targets(&self) -> Vec<String> {
        self.seen
            .borrow()
            .iter()
            .map(|r| {
                header(&r.headers, "x-amz-target")
                    .unwrap_or(&r.url)
                    .trim_start_matches("AWSCognitoIdentityProviderService.")
                    .to_owned()
            })
            .collect()
    }
}

impl Fetcher for FakeCognito {
    fn get_text<'a>(
        &'a self,
        url: &'a str,
        _: usize,
    ) -> LocalFuture<'a, Result<(u16, String), String>> {
        Box::pin(async move { Err(format!("no GET in these tests ({url})")) })
    }

    fn post<'a>(
        &'a self,
        request: &'a Outbound,
        _max_bytes: usize,
        _timeout_ms: u32,
    ) -> LocalFuture<'a, Result<Inbound, String>> {
        self.seen.borrow_mut().push(request.clone());
        let answer = self
            .script
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| Ok(cognito(200, json!({}))));
        Box::pin(async move { answer })
    }
}

/// A forwarded success: 200 and Cognito's own request id (the Worker's is in its log).
trait Forwarded {
    fn fine(&self) -> Value;
}

impl Forwarded for Reply {
    #[track_caller]
    fn fine(&self) -> Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.text);
        assert_eq!(self.header("x-amzn-requestid"), Some("cognito-request-1"));
        assert_eq!(self.header("x-amzn-errortype"), None);
        self.body.clone()
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A Cognito-shaped answer: JSON body, its own request id, and an error type for errors.
fn cognito(status: u16, body: Value) -> Inbound {
    let mut headers = vec![
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        (
            "x-amzn-requestid".to_owned(),
            "cognito-request-1".to_owned(),
        ),
        ("x-amzn-trace-id".to_owned(), "not-for-callers".to_owned()),
    ];
    if let Some(kind) = body.get("__type").and_then(Value::as_str) {
        headers.push(("x-amzn-errortype".to_owned(), kind.to_owned()));
    }
    Inbound {
        status,
        headers,
        body: body.to_string().into_bytes(),
    }
}

fn up_token(claims: &Value) -> String {
    use hmac::{Hmac, Mac};
    let header = json!({"alg": "HS256", "kid": UP_KID});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(UP_KEY).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// An access token of the proxied pool, as Cognito would mint it, of session `origin_jti`.
fn up_access(auth_time_s: u64, origin_jti: &str) -> String {
    up_token(
        &json!({"sub": SUB, "iss": UP_ISSUER, "client_id": UP_CLIENT, "token_use": "access",
        "scope": ADMIN_SCOPE, "auth_time": auth_time_s, "iat": auth_time_s,
        "exp": auth_time_s + 3600, "jti": format!("jti-{auth_time_s}"), "origin_jti": origin_jti,
        "username": NAME}),
    )
}

fn sign_in_answer(access: &str, refresh: Option<&str>) -> Inbound {
    let mut result = json!({"AccessToken": access, "IdToken": "id.token.x", "ExpiresIn": 3600,
                            "TokenType": "Bearer"});
    if let Some(refresh) = refresh {
        result["RefreshToken"] = Value::from(refresh);
    }
    cognito(
        200,
        json!({"AuthenticationResult": result, "ChallengeParameters": {}}),
    )
}

fn proxy_vars() -> Map<String, Value> {
    let mut vars = support::vars();
    let pools = vars["POOLS"].as_array_mut().unwrap();
    pools.push(json!({"id": UP, "algorithms": ["HS256"],
        "clients": [{"id": UP_CLIENT}, {"id": UP_SECRET_CLIENT, "secret": UP_CLIENT_SECRET}],
        "jwks": {"keys": [{"kty": "oct", "kid": UP_KID, "alg": "HS256", "k": URL_SAFE_NO_PAD.encode(UP_KEY)}]},
        "upstream": {"endpoint": ENDPOINT, "domain": DOMAIN}}));
    vars.insert(
        "UPSTREAM_CREDENTIALS".into(),
        json!({"access_key_id": UP_KEY_ID, "secret_access_key": UP_SECRET}),
    );
    vars
}

/// The harness's `World` with a recording upstream instead of no network.
struct Proxied {
    world: World,
    upstream: FakeCognito,
}

impl Proxied {
    fn new() -> Self {
        Self {
            world: World::with(&proxy_vars()),
            upstream: FakeCognito::default(),
        }
    }

    fn io<'a>(&'a self, request_id: &'a str, log: &'a dyn Fn(&str)) -> Io<'a> {
        Io {
            store: &self.world.store,
            fetcher: &self.upstream,
            limiter: &self.world.limiter,
            verifier: &RustCrypto,
            now_ms: self.world.now(),
            request_id,
            log,
        }
    }

    fn send(&self, request: &Request) -> Reply {
        let w = &self.world;
        w.requests.set(w.requests.get() + 1);
        let request_id = format!("req-{}", w.requests.get());
        let log = |line: &str| w.logs.borrow_mut().push(line.to_owned());
        match pollster::block_on(
            w.app
                .handle(Ok(&w.config), request, &self.io(&request_id, &log)),
        ) {
            Outcome::Respond(response) => Reply::new(response, request_id),
            other => panic!("expected a response, got {other:?}"),
        }
    }

    fn call(&self, op: &str, body: Value) -> Reply {
        self.send(&api_request(Some(&target(op)), body.to_string().as_bytes()))
    }

    fn admin_as(&self, signer: Signer<'_>, op: &str, body: Value) -> Reply {
        let request = api_request(Some(&target(op)), body.to_string().as_bytes());
        self.send(&self.world.sign(request, signer))
    }

    fn admin(&self, op: &str, body: Value) -> Reply {
        self.admin_as(ADMIN, op, body)
    }

    fn form(&self, path: &str, body: &str, authorization: Option<&str>) -> Reply {
        let mut headers = vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        if let Some(value) = authorization {
            headers.push(("authorization".to_owned(), value.to_owned()));
        }
        self.send(&Request {
            method: "POST".into(),
            path: path.into(),
            headers,
            body: body.as_bytes().to_vec(),
            ..Request::default()
        })
    }

    /// Signs in through the Worker; Cognito (the fake) answers with `access` and `refresh`.
    fn sign_in(&self, access: &str, refresh: &str) -> Reply {
        self.upstream
            .then(Ok(sign_in_answer(access, Some(refresh))));
        self.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": UP_CLIENT,
                   "AuthParameters": {"USERNAME": NAME, "PASSWORD": PASSWORD}}),
        )
    }

    fn user_entry(&self, id: &str) -> Option<Value> {
        let key = format!("rev/v1/u/{UP}/{id}");
        self.world
            .store
            .peek(&key)
            .map(|(text, _)| serde_json::from_str(&text).unwrap())
    }

    fn session_entry(&self, origin_jti: &str) -> Option<Value> {
        let key = format!("rev/v1/s/{UP}/{origin_jti}");
        self.world
            .store
            .peek(&key)
            .map(|(text, _)| serde_json::from_str(&text).unwrap())
    }
}

/// The re-signed request verifies with the Worker's upstream secret, by our own verifier.
fn verify_resigned(request: &Outbound, now_ms: u64) -> sigv4::Verified {
    let mut headers = request.headers.clone();
    headers.push(("host".into(), ENDPOINT.trim_start_matches("http://").into()));
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: &request.body,
    };
    let lookup = |key: &str| (key == UP_KEY_ID).then(|| UP_SECRET.to_owned());
    sigv4::verify(&parts, "cognito-idp", now_ms, 60_000, &lookup)
        .unwrap_or_else(|e| panic!("re-signed request verifies: {e:?}"))
}

// ---------------------------------------------------------------------------------------
// Configuration

fn pool_with(upstream: Value) -> Map<String, Value> {
    let mut vars = Map::new();
    vars.insert(
        "POOLS".into(),
        json!([{"id": "us-east-1_AbC1", "clients": [{"id": "c1"}], "upstream": upstream}]),
    );
    vars.insert(
        "UPSTREAM_CREDENTIALS".into(),
        json!({"access_key_id": UP_KEY_ID, "secret_access_key": UP_SECRET}),
    );
    vars
}

#[test]
fn an_upstream_without_an_endpoint_is_cognitos_regional_endpoint() {
    let config = Config::from_env(&pool_with(json!({}))).unwrap();
    let upstream = config.pools[0].upstream.as_ref().unwrap();
    assert_eq!(
        upstream.endpoint,
        "https://cognito-idp.us-east-1.amazonaws.com"
    );
    assert_eq!(upstream.domain, None);
}

#[test]
fn an_upstream_endpoint_is_https_or_loopback_http_with_no_other_authority_hidden_in_it() {
    for good in [
        "https://cognito.example.com",
        "https://cognito.example.com:8443/",
        "http://127.0.0.1:5000",
        "http://localhost:1",
        "http://[::1]:9",
    ] {
        assert!(
            Config::from_env(&pool_with(json!({"endpoint": good}))).is_ok(),
            "{good}"
        );
    }
    for bad in [
        "http://cognito.example.com",
        "http://127.0.0.1:80@evil.example",
        "https://a@evil.example",
        "https://cognito.example.com/path",
        "https://x.example?q",
        "ftp://x.example",
        "http://127.0.0.1.evil.example",
        "https://",
        "http://[::2]:1",
        "https://x.example:99999",
        "https://x .example",
    ] {
        let err = Config::from_env(&pool_with(json!({"endpoint": bad}))).unwrap_err();
        assert_eq!(err.field, "POOLS[0].upstream.endpoint", "{bad}");
    }
    let normalised = Config::from_env(&pool_with(json!({"endpoint": "HTTPS://X.Example:443/"})));
    assert!(normalised.is_err(), "the scheme is lowercase");
    let config =
        Config::from_env(&pool_with(json!({"endpoint": "https://X.Example:443/"}))).unwrap();
    assert_eq!(
        config.pools[0].upstream.as_ref().unwrap().endpoint,
        "https://x.example"
    );
}

#[test]
fn an_unknown_upstream_field_is_refused_not_ignored() {
    let err = Config::from_env(&pool_with(json!({"endpont": "https://x.example"}))).unwrap_err();
    assert_eq!(err.field, "POOLS[0].upstream.endpont");
    let mut vars = pool_with(json!({}));
    vars.insert(
        "UPSTREAM_CREDENTIALS".into(),
        json!({"access_key_id": UP_KEY_ID, "secret_access_key": UP_SECRET, "region": "x"}),
    );
    assert_eq!(
        Config::from_env(&vars).unwrap_err().field,
        "UPSTREAM_CREDENTIALS.region"
    );
}

#[test]
fn an_upstream_needs_upstream_credentials_and_a_client_list_and_an_external_pool() {
    let mut vars = pool_with(json!({}));
    vars.remove("UPSTREAM_CREDENTIALS");
    assert_eq!(
        Config::from_env(&vars).unwrap_err().field,
        "UPSTREAM_CREDENTIALS"
    );
    let mut vars = pool_with(json!({}));
    vars.insert(
        "POOLS".into(),
        json!([{"id": "us-east-1_AbC1", "allow_any_client": true, "upstream": {}}]),
    );
    assert_eq!(
        Config::from_env(&vars).unwrap_err().field,
        "POOLS[0].upstream"
    );
    let mut vars = proxy_vars();
    let pools = vars["POOLS"].as_array_mut().unwrap();
    pools[0]["upstream"] = json!({});
    assert_eq!(
        Config::from_env(&vars).unwrap_err().field,
        "POOLS[0].upstream"
    );
}

#[test]
fn two_pools_may_not_share_a_client_when_one_has_an_upstream() {
    let mut vars = proxy_vars();
    let pools = vars["POOLS"].as_array_mut().unwrap();
    pools[2]["clients"] = json!([{"id": UP_CLIENT}]);
    let err = Config::from_env(&vars).unwrap_err();
    assert!(err.field.ends_with(".clients"), "{err}");
}

#[test]
fn the_upstream_secret_never_shows_in_debug_output_or_configuration_errors() {
    let config = Config::from_env(&proxy_vars()).unwrap();
    let shown = format!("{config:?}");
    assert!(
        shown.contains(UP_KEY_ID) && !shown.contains(UP_SECRET),
        "{shown}"
    );
    let mut vars = proxy_vars();
    vars.insert(
        "UPSTREAM_CREDENTIALS".into(),
        json!({"access_key_id": "short", "secret_access_key": UP_SECRET}),
    );
    let err = Config::from_env(&vars).unwrap_err().to_string();
    assert!(!err.contains(UP_SECRET) && !err.contains("short"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Pass-through

#[test]
fn an_unsigned_call_goes_out_as_it_came_with_only_the_headers_cognito_needs() {
    let p = Proxied::new();
    let body = br#"{"ClientId":"upclient","Username":"dave","Password":"Pw-1234567!"  }"#;
    p.upstream.then(Ok(cognito(
        200,
        json!({"UserConfirmed": false, "UserSub": "s-1"}),
    )));
    let mut request = api_request(Some(&target("SignUp")), body);
    request.headers.push((
        "authorization".into(),
        "AWS4-HMAC-SHA256 Credential=AKIAcaller/x".into(),
    ));
    request.headers.push(("cookie".into(), "session=1".into()));
    let reply = p.send(&request);
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({"UserConfirmed": false, "UserSub": "s-1"})
    );
    assert_eq!(
        reply.header("x-amzn-requestid"),
        Some("cognito-request-1"),
        "Cognito's own id"
    );
    assert_eq!(
        reply
            .headers
            .iter()
            .filter(|(n, _)| n == "x-amzn-requestid")
            .count(),
        1
    );
    assert_eq!(reply.header("x-amzn-trace-id"), None);
    let seen = p.upstream.seen.borrow();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].url, format!("{ENDPOINT}/"));
    assert_eq!(seen[0].body, body.to_vec(), "the body's bytes as they came");
    let names: Vec<&str> = seen[0].headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["content-type", "x-amz-target"]);
    assert_eq!(
        header(&seen[0].headers, "x-amz-target"),
        Some("AWSCognitoIdentityProviderService.SignUp")
    );
}

#[test]
fn cognitos_error_comes_back_unchanged() {
    let p = Proxied::new();
    p.upstream.then(Ok(cognito(
        400,
        json!({"__type": "UsernameExistsException", "message": "User already exists"}),
    )));
    let reply = p.call(
        "SignUp",
        json!({"ClientId": UP_CLIENT, "Username": "dave", "Password": "x"}),
    );
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.header("x-amzn-errortype"),
        Some("UsernameExistsException")
    );
    assert_eq!(reply.body["message"], "User already exists");
    assert_eq!(reply.header("x-amzn-requestid"), Some("cognito-request-1"));
}

#[test]
fn a_signed_call_is_resigned_with_the_workers_credentials_never_the_callers() {
    let p = Proxied::new();
    p.upstream.then(Ok(cognito(200, json!({"Users": []}))));
    let reply = p.admin("ListUsers", json!({"UserPoolId": UP, "Limit": 1}));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let seen = p.upstream.seen.borrow();
    let authorization = header(&seen[0].headers, "authorization").unwrap();
    assert!(
        authorization.contains(UP_KEY_ID) && !authorization.contains(ADMIN_KEY),
        "{authorization}"
    );
    let verified = verify_resigned(&seen[0], p.world.now());
    assert_eq!(
        (verified.access_key_id.as_str(), verified.region.as_str()),
        (UP_KEY_ID, "us-east-1")
    );
    assert_eq!(
        seen[0].body,
        json!({"UserPoolId": UP, "Limit": 1})
            .to_string()
            .into_bytes()
    );
}

#[test]
fn a_session_token_of_the_upstream_credentials_is_signed_along() {
    let mut vars = proxy_vars();
    vars.insert("UPSTREAM_CREDENTIALS".into(),
        json!({"access_key_id": UP_KEY_ID, "secret_access_key": UP_SECRET, "session_token": "FwoGZXIvYXdzEJr"}));
    let p = Proxied {
        world: World::with(&vars),
        upstream: FakeCognito::default(),
    };
    p.admin("ListUsers", json!({"UserPoolId": UP})).fine();
    let seen = p.upstream.seen.borrow();
    assert_eq!(
        header(&seen[0].headers, "x-amz-security-token"),
        Some("FwoGZXIvYXdzEJr")
    );
    let authorization = header(&seen[0].headers, "authorization").unwrap();
    assert!(
        authorization.contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        ),
        "{authorization}"
    );
}

#[test]
fn a_signed_operation_is_never_forwarded_for_an_unsigned_or_disallowed_caller() {
    let p = Proxied::new();
    p.call("ListUsers", json!({"UserPoolId": UP})).error(
        400,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    );
    let limited = Signer {
        key: LIMITED_KEY,
        secret: LIMITED_SECRET,
        ..ADMIN
    };
    let reply = p.admin_as(
        limited,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": UP, "Username": NAME}),
    );
    assert_eq!(
        reply.header("x-amzn-errortype"),
        Some("AccessDeniedException"),
        "{}",
        reply.text
    );
    let wrong_region = Signer {
        region: "eu-west-1",
        ..ADMIN
    };
    let reply = p.admin_as(wrong_region, "ListUsers", json!({"UserPoolId": UP}));
    assert_eq!(
        reply.header("x-amzn-errortype"),
        Some("InvalidSignatureException"),
        "{}",
        reply.text
    );
    assert!(p.upstream.seen.borrow().is_empty());
    assert!(p.world.revocations().is_empty());
    // The control: the full admin gets through.
    p.admin("ListUsers", json!({"UserPoolId": UP})).fine();
    assert_eq!(p.upstream.targets(), ["ListUsers"]);
}

#[test]
fn the_worker_is_no_open_relay() {
    let p = Proxied::new();
    // Not Cognito's operations, in any spelling.
    for target in [
        "AWSCognitoIdentityProviderService.AssumeRole",
        "AWSCognitoIdentityProviderService.listUsers",
        "AmazonS3.GetObject",
        "AWSCognitoIdentityService.GetId",
    ] {
        let reply = p.send(&p.world.sign(
            api_request(Some(target), br#"{"UserPoolId":"us-east-1_Up1"}"#),
            ADMIN,
        ));
        assert_eq!(
            reply.header("x-amzn-errortype"),
            Some("UnknownOperationException"),
            "{target}"
        );
    }
    // Account-wide operations name no configured pool.
    for op in ["ListUserPools", "CreateUserPool", "DescribeUserPoolDomain"] {
        let reply = p.admin(op, json!({"MaxResults": 1, "PoolName": "x", "Domain": "d"}));
        assert_eq!(
            reply.header("x-amzn-errortype"),
            Some("UnknownOperationException"),
            "{op}"
        );
    }
    // Pools that are not configured, or have no upstream, are not forwarded.
    let reply = p.admin("ListUsers", json!({"UserPoolId": "us-east-1_Elsewhere1"}));
    assert_eq!(
        reply.header("x-amzn-errortype"),
        Some("UnknownOperationException")
    );
    // SignUp is served here for local pools; an external pool without an upstream has no
    // users here to sign up, and nothing goes out.
    let reply = p.call(
        "SignUp",
        json!({"ClientId": EXT_CLIENT, "Username": "x", "Password": "y"}),
    );
    assert_eq!(
        reply.header("x-amzn-errortype"),
        Some("InvalidParameterException")
    );
    assert!(reply.text.contains("is not a local pool"), "{}", reply.text);
    assert!(p.upstream.seen.borrow().is_empty());
    // The control: a Cognito operation for the proxied pool goes out.
    p.call(
        "SignUp",
        json!({"ClientId": UP_CLIENT, "Username": "x", "Password": "y"}),
    )
    .fine();
    assert_eq!(p.upstream.targets(), ["SignUp"]);
}

#[test]
fn calls_for_local_and_external_pools_without_an_upstream_run_here_as_before() {
    let p = Proxied::new();
    p.world.create_user(LOCAL, "erin", "erin@example.com");
    let local = p.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": PUBLIC,
        "AuthParameters": {"USERNAME": "erin", "PASSWORD": PASSWORD}}),
    );
    local.ok();
    p.admin(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": EXT, "Username": "frank"}),
    )
    .ok();
    assert!(p.upstream.seen.borrow().is_empty());
}

#[test]
fn an_upstream_that_is_down_redirects_or_is_not_cognito_gives_internal_error_exception() {
    let p = Proxied::new();
    let not_cognito = Inbound {
        status: 502,
        headers: vec![("content-type".into(), "text/html".into())],
        body: b"<html>Bad Gateway</html>".to_vec(),
    };
    let redirect = Inbound {
        status: 307,
        headers: vec![("location".into(), "https://evil.example/".into())],
        body: Vec::new(),
    };
    for answer in [
        Err("connection refused".to_owned()),
        Err("The operation was aborted due to timeout".to_owned()),
        Ok(not_cognito),
        Ok(redirect),
    ] {
        p.upstream.then(answer);
        let reply = p.call(
            "SignUp",
            json!({"ClientId": UP_CLIENT, "Username": "x", "Password": "y"}),
        );
        reply.internal_error();
    }
    assert_eq!(
        p.upstream.seen.borrow().len(),
        4,
        "a redirect is not followed"
    );
    // Cognito's own 5xx is its answer, passed on.
    p.upstream.then(Ok(cognito(
        500,
        json!({"__type": "InternalErrorException", "message": "boom"}),
    )));
    let reply = p.call(
        "SignUp",
        json!({"ClientId": UP_CLIENT, "Username": "x", "Password": "y"}),
    );
    assert_eq!(
        (reply.status, reply.body["message"].as_str()),
        (500, Some("boom"))
    );
}

#[test]
fn an_access_token_revoked_at_the_edge_is_refused_before_cognito_sees_it() {
    let p = Proxied::new();
    let token = up_access(T0_S - 60, "sess-1");
    p.upstream.then(Ok(cognito(
        200,
        json!({"Username": NAME, "UserAttributes": []}),
    )));
    p.call("GetUser", json!({"AccessToken": token})).fine();
    p.admin(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": UP, "Username": NAME}),
    );
    let before = p.upstream.seen.borrow().len();
    p.call("GetUser", json!({"AccessToken": token}))
        .refused("NotAuthorizedException", REVOKED);
    p.call("ListDevices", json!({"AccessToken": token}))
        .refused("NotAuthorizedException", REVOKED);
    assert_eq!(p.upstream.seen.borrow().len(), before);
}

// ---------------------------------------------------------------------------------------
// Sign-outs on both sides

#[test]
fn global_sign_out_writes_the_edge_entry_then_forwards() {
    let p = Proxied::new();
    let token = up_access(T0_S - 60, "sess-1");
    p.call("GlobalSignOut", json!({"AccessToken": token}))
        .fine();
    assert_eq!(p.upstream.targets(), ["GlobalSignOut"]);
    assert_eq!(p.user_entry(SUB).unwrap()["reason"], "GlobalSignOut");
    let gate = p.send(&Request {
        method: "GET".into(),
        path: "/api/me".into(),
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
        ..Request::default()
    });
    gate.gate_refused(REVOKED);
}

#[test]
fn a_proxied_sign_out_answers_cognitos_body_with_the_edges_receipt_and_a_refused_one_without() {
    let p = Proxied::new();
    let reply = p.call(
        "GlobalSignOut",
        json!({"AccessToken": up_access(T0_S - 60, "sess-1")}),
    );
    assert_eq!((reply.status, reply.text.as_str()), (200, "{}"));
    assert_eq!(
        reply.header("x-edge-revoke-enforced-by"),
        Some((p.world.now() + 95_000).to_string().as_str()),
        "no authority bound: KV's window"
    );
    // Cognito failing after the edge wrote: the entry stands, and the answer says so.
    p.world.advance(5_000);
    p.upstream.then(Err("connection refused".into()));
    let failed = p.call(
        "GlobalSignOut",
        json!({"AccessToken": up_access(T0_S + 2, "sess-2")}),
    );
    assert_eq!(failed.status, 500);
    assert!(failed.header("x-edge-revoke-enforced-by").is_some());
    // A user Cognito does not know: nothing written at the edge, no receipt.
    p.upstream.then(Ok(cognito(
        400,
        json!({"__type": "UserNotFoundException", "message": "User does not exist."}),
    )));
    let unknown = p.admin(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": UP, "Username": "nobody"}),
    );
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.header("x-edge-revoke-enforced-by"), None);
}

#[test]
fn a_failed_forward_after_the_edge_write_leaves_more_revoked_and_a_retry_completes_it() {
    let p = Proxied::new();
    let token = up_access(T0_S - 60, "sess-1");
    p.upstream.then(Err("connection refused".into()));
    p.call("GlobalSignOut", json!({"AccessToken": token}))
        .internal_error();
    let first = p.user_entry(SUB).expect("the edge entry stands");
    p.world.advance(5_000);
    p.call("GlobalSignOut", json!({"AccessToken": token}))
        .fine();
    assert_eq!(p.upstream.targets(), ["GlobalSignOut", "GlobalSignOut"]);
    assert_eq!(
        p.user_entry(SUB).unwrap(),
        first,
        "a revoked token does not move the sign-out time"
    );
}

#[test]
fn a_failed_edge_write_stops_the_sign_out_before_cognito_sees_it() {
    let p = Proxied::new();
    p.world.store.fail_writes(true);
    p.call(
        "GlobalSignOut",
        json!({"AccessToken": up_access(T0_S - 60, "s")}),
    )
    .internal_error();
    p.admin(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": UP, "Username": NAME}),
    )
    .internal_error();
    // (The signed call stops even earlier: its signature cannot be recorded as used.)
    assert!(p.upstream.seen.borrow().is_empty());
}

#[test]
fn an_admin_sign_out_by_email_revokes_the_users_sub_found_at_cognito() {
    let p = Proxied::new();
    p.upstream.then(Ok(cognito(200, json!({"Username": NAME, "Enabled": true,
        "UserAttributes": [{"Name": "email", "Value": "carol@example.com"}, {"Name": "sub", "Value": SUB}]}))));
    p.admin(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": UP, "Username": "Carol@Example.com"}),
    )
    .fine();
    assert_eq!(
        p.upstream.targets(),
        ["AdminGetUser", "AdminUserGlobalSignOut"]
    );
    let seen = p.upstream.seen.borrow();
    assert_eq!(
        serde_json::from_slice::<Value>(&seen[0].body).unwrap(),
        json!({"UserPoolId": UP, "Username": "Carol@Example.com"})
    );
    for request in seen.iter() {
        verify_resigned(request, p.world.now());
    }
    assert_eq!(p.user_entry(SUB).unwrap()["by"], ADMIN_KEY);
    let token = up_access(T0_S - 60, "sess-9");
    p.call("GetUser", json!({"AccessToken": token}))
        .refused("NotAuthorizedException", REVOKED);
}

#[test]
fn disabling_and_deleting_a_proxied_user_revoke_at_the_edge_too() {
    for op in ["AdminDisableUser", "AdminDeleteUser"] {
        let p = Proxied::new();
        p.upstream.then(Ok(cognito(
            200,
            json!({"Username": NAME, "UserAttributes": [{"Name": "sub", "Value": SUB}]}),
        )));
        p.admin(op, json!({"UserPoolId": UP, "Username": NAME}))
            .fine();
        assert_eq!(p.upstream.targets(), ["AdminGetUser", op]);
        assert_eq!(p.user_entry(SUB).unwrap()["reason"], op);
    }
}

#[test]
fn a_user_cognito_does_not_know_gets_cognitos_answer_and_nothing_is_written() {
    let p = Proxied::new();
    p.upstream.then(Ok(cognito(
        400,
        json!({"__type": "UserNotFoundException", "message": "User does not exist."}),
    )));
    let reply = p.admin(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": UP, "Username": "nobody@example.com"}),
    );
    assert_eq!(
        (reply.status, reply.header("x-amzn-errortype")),
        (400, Some("UserNotFoundException"))
    );
    assert_eq!(reply.body["message"], "User does not exist.");
    assert_eq!(p.upstream.targets(), ["AdminGetUser"]);
    assert!(p.world.revocations().is_empty());
}

#[test]
fn when_the_lookup_fails_the_entry_is_keyed_on_the_name_given_and_the_call_still_goes_out() {
    let p = Proxied::new();
    p.upstream.then(Ok(cognito(
        400,
        json!({"__type": "AccessDeniedException", "message": "not allowed"}),
    )));
    p.admin(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": UP, "Username": NAME}),
    )
    .fine();
    assert_eq!(
        p.upstream.targets(),
        ["AdminGetUser", "AdminUserGlobalSignOut"]
    );
    assert!(p.user_entry(NAME).is_some());
    // An email cannot be keyed on: the caller is told to retry, nothing goes out.
    p.upstream.then(Err("connection refused".into()));
    p.admin(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": UP, "Username": "x@example.com"}),
    )
    .internal_error();
    assert_eq!(p.upstream.targets().len(), 3);
}

#[test]
fn the_javascript_api_signs_out_a_proxied_user_on_both_sides() {
    let p = Proxied::new();
    p.upstream.then(Ok(cognito(
        200,
        json!({"Username": NAME, "UserAttributes": [{"Name": "sub", "Value": SUB}]}),
    )));
    let input = json!({"UserPoolId": UP, "Username": NAME});
    let log = |_: &str| {};
    let io = p.io("js-1", &log);
    let call = TrustedCall::Operation {
        operation: Operation::AdminUserGlobalSignOut,
        input: input.as_object().unwrap(),
    };
    let answer = pollster::block_on(p.world.app.call(Ok(&p.world.config), call, &io));
    // Cognito's empty answer, with the edge's receipt: KV's window, as no authority is bound.
    assert_eq!(answer, Ok(json!({"enforcedBy": p.world.now() + 95_000})));
    assert_eq!(
        p.upstream.targets(),
        ["AdminGetUser", "AdminUserGlobalSignOut"]
    );
    assert_eq!(p.user_entry(SUB).unwrap()["by"], "js-api");
    // Cognito's refusal reaches the caller with Cognito's name and words.
    p.upstream.then(Ok(cognito(
        400,
        json!({"__type": "UserNotFoundException", "message": "User does not exist."}),
    )));
    let err = pollster::block_on(p.world.app.call(Ok(&p.world.config), call, &io)).unwrap_err();
    let wire = err.wire(edge_revoke::error::Surface::JsApi);
    assert_eq!(
        (wire.error_type, wire.message.as_str()),
        ("UserNotFoundException", "User does not exist.")
    );
}

// ---------------------------------------------------------------------------------------
// Refresh tokens

#[test]
fn a_proxied_sign_in_teaches_the_refresh_tokens_session_by_its_hash_only() {
    let p = Proxied::new();
    let refresh = "opaque-refresh-token-one";
    p.sign_in(&up_access(T0_S, "sess-A"), refresh).fine();
    let keys: Vec<String> = p
        .world
        .store
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("rt/"))
        .collect();
    assert_eq!(keys.len(), 1);
    let (value, ttl) = p.world.store.peek(&keys[0]).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&value).unwrap(),
        json!({"origin_jti": "sess-A", "client_id": UP_CLIENT})
    );
    assert_eq!(ttl, Some(2_592_000));
    for key in p.world.store.keys() {
        let (value, _) = p.world.store.peek(&key).unwrap();
        assert!(!key.contains(refresh) && !value.contains(refresh), "{key}");
    }
    assert!(!p.world.logs.borrow().iter().any(|l| l.contains(refresh)));
}

#[test]
fn revoke_token_revokes_a_learnt_session_at_the_edge_then_at_cognito() {
    let p = Proxied::new();
    let access = up_access(T0_S, "sess-A");
    p.sign_in(&access, "refresh-A").fine();
    p.call("GetUser", json!({"AccessToken": access})).fine();
    p.call(
        "RevokeToken",
        json!({"Token": "refresh-A", "ClientId": UP_CLIENT}),
    )
    .fine();
    assert_eq!(
        p.upstream.targets(),
        ["InitiateAuth", "GetUser", "RevokeToken"]
    );
    assert_eq!(p.session_entry("sess-A").unwrap()["reason"], "RevokeToken");
    p.call("GetUser", json!({"AccessToken": access}))
        .refused("NotAuthorizedException", REVOKED);
    // Another session of the same user lives.
    p.call("GetUser", json!({"AccessToken": up_access(T0_S, "sess-B")}))
        .fine();
}

#[test]
fn a_refresh_teaches_the_presented_and_the_rotated_token() {
    let p = Proxied::new();
    let access = up_access(T0_S - 100, "sess-R");
    p.upstream
        .then(Ok(sign_in_answer(&access, Some("rotated-R"))));
    p.call(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": UP_CLIENT,
        "AuthParameters": {"REFRESH_TOKEN": "seen-first-at-refresh"}}),
    )
    .fine();
    for token in ["seen-first-at-refresh", "rotated-R"] {
        p.call(
            "RevokeToken",
            json!({"Token": token, "ClientId": UP_CLIENT}),
        )
        .fine();
    }
    assert!(p.session_entry("sess-R").is_some());
    p.upstream.then(Ok(sign_in_answer(
        &up_access(T0_S - 100, "sess-G"),
        Some("from-get-tokens"),
    )));
    p.call(
        "GetTokensFromRefreshToken",
        json!({"RefreshToken": "presented-G", "ClientId": UP_CLIENT}),
    )
    .fine();
    p.call(
        "RevokeToken",
        json!({"Token": "presented-G", "ClientId": UP_CLIENT}),
    )
    .fine();
    assert!(p.session_entry("sess-G").is_some());
}

#[test]
fn a_refresh_token_the_worker_never_saw_is_revoked_at_cognito_only() {
    let p = Proxied::new();
    p.call(
        "RevokeToken",
        json!({"Token": "never-seen", "ClientId": UP_CLIENT}),
    )
    .fine();
    assert_eq!(p.upstream.targets(), ["RevokeToken"]);
    assert!(p.world.revocations().is_empty());
    assert!(p.world.logged("never saw"));
}

#[test]
fn revoke_token_writes_nothing_for_another_client_or_a_wrong_secret() {
    let p = Proxied::new();
    p.sign_in(&up_access(T0_S, "sess-A"), "refresh-A").fine();
    p.upstream.then(Ok(cognito(
        400,
        json!({"__type": "UnauthorizedException", "message": "no"}),
    )));
    p.call("RevokeToken", json!({"Token": "refresh-A", "ClientId": UP_SECRET_CLIENT, "ClientSecret": UP_CLIENT_SECRET}));
    p.upstream.then(Ok(cognito(
        400,
        json!({"__type": "UnauthorizedException", "message": "no"}),
    )));
    p.call(
        "RevokeToken",
        json!({"Token": "refresh-A", "ClientId": UP_SECRET_CLIENT, "ClientSecret": "wrong"}),
    );
    assert!(p.session_entry("sess-A").is_none());
    assert_eq!(
        p.upstream.targets(),
        ["InitiateAuth", "RevokeToken", "RevokeToken"]
    );
}

#[test]
fn a_sign_in_whose_session_cannot_be_remembered_is_not_handed_out() {
    let p = Proxied::new();
    p.world.store.fail_writes(true);
    p.sign_in(&up_access(T0_S, "sess-A"), "refresh-A")
        .internal_error();
}

#[test]
fn a_sign_in_whose_access_token_the_edge_refuses_teaches_nothing() {
    let p = Proxied::new();
    let forged = up_access(T0_S, "sess-F").replace('.', ".x");
    p.sign_in(&forged, "refresh-F");
    assert!(p.world.store.keys().iter().all(|k| !k.starts_with("rt/")));
}

// ---------------------------------------------------------------------------------------
// The hosted-UI endpoints

fn oauth_answer(access: &str, refresh: Option<&str>) -> Inbound {
    let mut body = json!({"access_token": access, "id_token": "x", "token_type": "Bearer", "expires_in": 3600});
    if let Some(refresh) = refresh {
        body["refresh_token"] = Value::from(refresh);
    }
    Inbound {
        status: 200,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("set-cookie".into(), "XSRF-TOKEN=1".into()),
        ],
        body: body.to_string().into_bytes(),
    }
}

#[test]
fn the_token_endpoint_forwards_a_refresh_grant_and_learns_its_session() {
    let p = Proxied::new();
    p.upstream
        .then(Ok(oauth_answer(&up_access(T0_S - 10, "sess-O"), None)));
    let body =
        format!("grant_type=refresh_token&client_id={UP_CLIENT}&refresh_token=hosted-refresh");
    let reply = p.form(&format!("/{UP}/oauth2/token"), &body, None);
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("set-cookie"), None);
    let seen = p.upstream.seen.borrow().clone();
    assert_eq!(seen[0].url, format!("{DOMAIN}/oauth2/token"));
    assert_eq!(seen[0].body, body.as_bytes());
    drop(seen);
    let reply = p.form(
        &format!("/{UP}/oauth2/revoke"),
        &format!("token=hosted-refresh&client_id={UP_CLIENT}"),
        None,
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        p.upstream.seen.borrow()[1].url,
        format!("{DOMAIN}/oauth2/revoke")
    );
    assert_eq!(
        p.session_entry("sess-O").unwrap()["reason"],
        "oauth2/revoke"
    );
    assert_eq!(
        reply.header("x-edge-revoke-enforced-by"),
        Some((p.world.now() + 95_000).to_string().as_str())
    );
}

#[test]
fn the_revoke_endpoint_checks_a_configured_client_secret_from_basic_auth() {
    use base64::engine::general_purpose::STANDARD;
    let p = Proxied::new();
    p.upstream.then(Ok(oauth_answer(
        &up_access(T0_S - 10, "sess-S"),
        Some("code-refresh"),
    )));
    p.form(
        &format!("/{UP}/oauth2/token"),
        "grant_type=authorization_code&code=abc&redirect_uri=x",
        None,
    );
    let wrong = format!(
        "Basic {}",
        STANDARD.encode(format!("{UP_SECRET_CLIENT}:nope"))
    );
    p.form(
        &format!("/{UP}/oauth2/revoke"),
        "token=code-refresh",
        Some(&wrong),
    );
    assert!(p.session_entry("sess-S").is_none());
    // The token was learnt for UP_CLIENT (its access token's client), so only it may revoke.
    let right = format!(
        "Basic {}",
        STANDARD.encode(format!("{UP_SECRET_CLIENT}:{UP_CLIENT_SECRET}"))
    );
    p.form(
        &format!("/{UP}/oauth2/revoke"),
        "token=code-refresh",
        Some(&right),
    );
    assert!(p.session_entry("sess-S").is_none());
    p.form(
        &format!("/{UP}/oauth2/revoke"),
        &format!("token=code-refresh&client_id={UP_CLIENT}"),
        None,
    );
    assert!(p.session_entry("sess-S").is_some());
    let seen = p.upstream.seen.borrow();
    assert_eq!(
        header(&seen[2].headers, "authorization"),
        Some(right.as_str()),
        "Cognito checks the client"
    );
}

#[test]
fn the_token_endpoint_refuses_other_grants_other_bodies_and_pools_without_a_domain() {
    let p = Proxied::new();
    let reply = p.form(
        &format!("/{UP}/oauth2/token"),
        "grant_type=client_credentials&scope=x",
        None,
    );
    assert_eq!(
        (reply.status, reply.body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let reply = p.form(
        &format!("/{UP}/oauth2/token"),
        "grant_type=refresh_token&grant_type=refresh_token",
        None,
    );
    assert_eq!(
        (reply.status, reply.body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let reply = p.form(
        &format!("/{EXT}/oauth2/token"),
        "grant_type=refresh_token",
        None,
    );
    assert_eq!(reply.status, 404);
    assert!(p.upstream.seen.borrow().is_empty());
    p.upstream.then(Err("timeout".into()));
    let reply = p.form(
        &format!("/{UP}/oauth2/token"),
        "grant_type=refresh_token&refresh_token=r",
        None,
    );
    assert_eq!(
        (reply.status, reply.body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
}

#[test]
fn nothing_the_worker_logs_or_sends_back_carries_the_upstream_secret() {
    let p = Proxied::new();
    p.admin("ListUsers", json!({"UserPoolId": UP})).fine();
    p.upstream.then(Err("connection refused".into()));
    let reply = p.admin("ListUsers", json!({"UserPoolId": UP}));
    assert!(!reply.text.contains(UP_SECRET));
    assert!(!p
        .world
        .logs
        .borrow()
        .iter()
        .any(|l| l.contains(UP_SECRET) || l.contains("Signature=")));
    let _ = App::new();
}

#[test]
fn a_proxied_pools_key_set_is_served_for_the_console_without_its_secrets() {
    let p = Proxied::new();
    let reply = p.send(&Request {
        method: "GET".into(),
        path: format!("/{UP}/.well-known/jwks.json"),
        ..Request::default()
    });
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({"keys": []}),
        "the pool's only key is an HMAC secret"
    );
    let reply = p.send(&Request {
        method: "GET".into(),
        path: format!("/{EXT}/.well-known/jwks.json"),
        ..Request::default()
    });
    assert_eq!(
        reply.status, 404,
        "a pool without an upstream is not served"
    );
}

#[test]
fn delete_user_signs_the_caller_out_at_the_edge_then_forwards() {
    let p = Proxied::new();
    let token = up_access(T0_S - 60, "sess-D");
    p.call("DeleteUser", json!({"AccessToken": token})).fine();
    assert_eq!(p.upstream.targets(), ["DeleteUser"]);
    assert_eq!(p.user_entry(SUB).unwrap()["reason"], "DeleteUser");
}

#[test]
fn a_sign_out_with_a_token_cognito_would_refuse_writes_nothing_and_goes_nowhere() {
    let p = Proxied::new();
    let mut claims = json!({"sub": SUB, "iss": UP_ISSUER, "client_id": UP_CLIENT, "token_use": "access",
        "scope": "openid", "auth_time": T0_S - 60, "iat": T0_S - 60, "exp": T0_S + 3600, "username": NAME});
    p.call("GlobalSignOut", json!({"AccessToken": up_token(&claims)}))
        .refused(
            "NotAuthorizedException",
            "Access Token does not have required scopes",
        );
    claims["scope"] = Value::from(ADMIN_SCOPE);
    claims["client_id"] = Value::from("someoneelse");
    p.call("GlobalSignOut", json!({"AccessToken": up_token(&claims)}))
        .refused("NotAuthorizedException", "Invalid Access Token");
    assert!(p.upstream.seen.borrow().is_empty());
    assert!(p.world.revocations().is_empty());
}
