//! The harness the API test binaries share (`tests/api.rs`, `tests/local_pool.rs`): one
//! configuration with two local pools and an external one, a `World` per test (isolate, KV,
//! rate limiter, pinned clock) that speaks the wire protocol, and assertions that check a whole
//! answer at once: status, body, `x-amzn-ErrorType`, `x-amzn-RequestId`, content type.
//!
//! Each binary uses a different part of it.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use edge_revoke::{
    app::{App, Io, Outcome},
    config::{BrokenConfig, Config},
    crypto::RustCrypto,
    http::Request,
    ports::{LocalFuture, MemoryStore, NoFetch, RateLimiter},
    sigv4::{self, RequestParts},
};
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

// ---------------------------------------------------------------------------------------
// Fixtures

/// 2025-06-15T15:06:40.250Z: a quarter into a second, so "same second" and "next second" differ.
pub const T0_MS: u64 = 1_750_000_000_250;
pub const T0_S: u64 = T0_MS / 1000;

pub const LOCAL: &str = "us-east-1_Local1";
pub const LOCAL_ISSUER: &str = "http://127.0.0.1:8787/us-east-1_Local1";
pub const LOCAL2: &str = "us-east-1_Local2";
pub const LOCAL2_ISSUER: &str = "http://127.0.0.1:8787/us-east-1_Local2";
pub const EXT: &str = "us-east-1_Ext1";
pub const EXT_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ext1";

pub const PUBLIC: &str = "publicclient";
pub const SECRET_CLIENT: &str = "secretclient";
pub const CLIENT_SECRET: &str = "SecretClientSecret_0123456789";
pub const NOREVOKE: &str = "norevoke";
pub const ROTATING: &str = "rotatingclient";
pub const LOCAL2_CLIENT: &str = "otherpoolclient";
pub const EXT_CLIENT: &str = "extclient";
pub const EXT_KID: &str = "ext-hs-1";
pub const EXT_KEY: &[u8; 32] = b"external-pool-hs256-key-32-bytes";

pub const ADMIN_KEY: &str = "AKIDADMIN0000001";
pub const ADMIN_SECRET: &str = "admin-secret-access-key-0001";
pub const LIMITED_KEY: &str = "AKIDLIMITED00001";
pub const LIMITED_SECRET: &str = "limited-secret-access-key-01";
pub const ACCOUNT: &str = "123456789012";

pub const PASSWORD: &str = "Correct-Horse-1";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
pub const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";
pub const REVOKED: &str = "Access Token has been revoked";
pub const USER_POOL_ID_PATTERN: &str = r"[\w-]+_[0-9a-zA-Z]+";
pub const USERNAME_PATTERN: &str = r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+";
pub const TOKEN_PATTERN: &str = "[A-Za-z0-9-_=.]+";
/// A pool's revocation TTL: refresh validity + longest token validity + 300 s leeway.
pub const REVOCATION_TTL_S: u64 = 2_592_000 + 3_600 + 300;

/// RFC 7515 Appendix A.2's RSA key (as `src/local/test_keys.rs`, which is `cfg(test)`-only).
pub fn signing_keys() -> Value {
    json!({"keys": [{"kty": "RSA", "kid": "test-rsa-1", "alg": "RS256", "e": "AQAB",
        "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
        "d": "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
        "p": "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
        "q": "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
        "dp": "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
        "dq": "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
        "qi": "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"}]})
}

pub fn vars() -> Map<String, Value> {
    let local = |id: &str, issuer: &str, clients: Value| {
        json!({"id": id, "issuer": issuer, "local": {"password_iterations": 1000},
               "clients": clients, "token_use": ["access", "id"]})
    };
    let env = json!({
        "POOLS": [
            local(LOCAL, LOCAL_ISSUER, json!([
                {"id": PUBLIC},
                {"id": SECRET_CLIENT, "secret": CLIENT_SECRET},
                {"id": NOREVOKE, "token_revocation": false},
                {"id": ROTATING, "refresh_token_rotation": {"retry_grace_period_s": 10}},
            ])),
            local(LOCAL2, LOCAL2_ISSUER, json!([{"id": LOCAL2_CLIENT}])),
            {"id": EXT, "algorithms": ["HS256"], "clients": [{"id": EXT_CLIENT}],
             "jwks": {"keys": [{"kty": "oct", "kid": EXT_KID, "alg": "HS256",
                                "k": URL_SAFE_NO_PAD.encode(EXT_KEY)}]}},
        ],
        "ADMIN_CREDENTIALS": [
            {"access_key_id": ADMIN_KEY, "secret_access_key": ADMIN_SECRET},
            {"access_key_id": LIMITED_KEY, "secret_access_key": LIMITED_SECRET,
             "account_id": ACCOUNT,
             "allow": ["cognito-idp:AdminUserGlobalSignOut", "cognito-idp:AdminGet*"],
             "resources": [format!("arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/{LOCAL}")]},
        ],
        "SIGNING_KEYS": signing_keys(),
    });
    env.as_object().cloned().unwrap_or_default()
}

/// A limiter that allows `remaining` more requests, then denies; it records every key asked.
pub struct Limiter {
    pub remaining: Cell<usize>,
    pub keys: RefCell<Vec<String>>,
}

impl RateLimiter for Limiter {
    fn allow<'a>(&'a self, key: &'a str) -> LocalFuture<'a, bool> {
        self.keys.borrow_mut().push(key.to_owned());
        let left = self.remaining.get();
        self.remaining.set(left.saturating_sub(1));
        Box::pin(async move { left > 0 })
    }
}

/// Who signs an admin request, and how.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    pub key: &'a str,
    pub secret: &'a str,
    pub service: &'a str,
    /// The credential scope's region.
    pub region: &'a str,
    /// Signing time offset from the server clock, in ms.
    pub skew_ms: i64,
    pub token: Option<&'a str>,
}

pub const ADMIN: Signer<'static> = Signer {
    key: ADMIN_KEY,
    secret: ADMIN_SECRET,
    service: "cognito-idp",
    region: "us-east-1",
    skew_ms: 0,
    token: None,
};

/// One isolate, one KV namespace, one clock.
pub struct World {
    pub app: App,
    pub config: Config,
    pub store: MemoryStore,
    pub limiter: Limiter,
    pub now: Cell<u64>,
    pub requests: Cell<u32>,
    pub invocations: Cell<u32>,
    pub logs: RefCell<Vec<String>>,
}

/// A response, decoded.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub body: Value,
    pub request_id: String,
}

pub struct Tokens {
    pub access: String,
    pub id: String,
    pub refresh: String,
}

impl World {
    pub fn new() -> Self {
        Self::with(&vars())
    }

    pub fn with(vars: &Map<String, Value>) -> Self {
        Self {
            app: App::new(),
            config: Config::from_env(vars).expect("test configuration parses"),
            store: MemoryStore::new(),
            limiter: Limiter {
                remaining: Cell::new(usize::MAX),
                keys: RefCell::new(Vec::new()),
            },
            now: Cell::new(T0_MS),
            requests: Cell::new(0),
            invocations: Cell::new(0),
            logs: RefCell::new(Vec::new()),
        }
    }

    pub fn now(&self) -> u64 {
        self.now.get()
    }

    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }

    pub fn send(&self, request: &Request) -> Reply {
        self.send_with(Ok(&self.config), request)
    }

    /// Sends `request` to an isolate whose environment parsed to `config` (or failed to).
    pub fn send_with(&self, config: Result<&Config, &BrokenConfig>, request: &Request) -> Reply {
        self.requests.set(self.requests.get() + 1);
        let request_id = format!("req-{}", self.requests.get());
        let log = |line: &str| self.logs.borrow_mut().push(line.to_owned());
        let io = Io {
            store: &self.store,
            fetcher: &NoFetch,
            limiter: &self.limiter,
            verifier: &RustCrypto,
            now_ms: self.now(),
            request_id: &request_id,
            log: &log,
        };
        match pollster::block_on(self.app.handle(config, request, &io)) {
            Outcome::Respond(response) => Reply::new(response, request_id),
            other => panic!("expected a response, got {other:?}"),
        }
    }

    /// Signs `request` as an AWS SDK does: with a fresh `amz-sdk-invocation-id` (signed), so two
    /// calls never share a signature, however alike (each signature is accepted once).
    pub fn sign(&self, mut request: Request, signer: Signer<'_>) -> Request {
        self.invocations.set(self.invocations.get() + 1);
        request.headers.push((
            "amz-sdk-invocation-id".into(),
            format!("invocation-{}", self.invocations.get()),
        ));
        let at = self.now().saturating_add_signed(signer.skew_ms);
        let parts = RequestParts {
            method: &request.method,
            path: &request.path,
            query: &request.query,
            headers: &request.headers,
            body: &request.body,
        };
        let added = sigv4::sign(
            &parts,
            signer.key,
            signer.secret,
            signer.region,
            signer.service,
            &sigv4::format_amz_date(at),
            signer.token,
            false,
        )
        .expect("signable");
        request.headers.extend(added);
        request
    }

    /// An unsigned call.
    pub fn call(&self, op: &str, body: Value) -> Reply {
        self.send(&api_request(Some(&target(op)), body.to_string().as_bytes()))
    }

    /// A call signed with the full-access admin credential.
    pub fn admin(&self, op: &str, body: Value) -> Reply {
        self.admin_as(ADMIN, op, body)
    }

    pub fn admin_as(&self, signer: Signer<'_>, op: &str, body: Value) -> Reply {
        let request = api_request(Some(&target(op)), body.to_string().as_bytes());
        self.send(&self.sign(request, signer))
    }

    /// `GET /api/me` with a bearer token.
    pub fn gate(&self, token: &str) -> Reply {
        self.send(&Request {
            method: "GET".into(),
            path: "/api/me".into(),
            headers: vec![("authorization".into(), format!("Bearer {token}"))],
            ..Request::default()
        })
    }

    /// AdminCreateUser + AdminSetUserPassword (permanent); answers the new user's sub.
    pub fn create_user(&self, pool: &str, username: &str, email: &str) -> String {
        let created = self
            .admin(
                "AdminCreateUser",
                json!({"UserPoolId": pool, "Username": username, "MessageAction": "SUPPRESS",
                       "UserAttributes": [{"Name": "email", "Value": email}]}),
            )
            .ok();
        let sub = created["User"]["Attributes"][0]["Value"]
            .as_str()
            .expect("sub")
            .to_owned();
        self.admin(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": username, "Password": PASSWORD,
                   "Permanent": true}),
        )
        .ok();
        sub
    }

    pub fn password_auth(&self, client: &str, username: &str, password: &str) -> Reply {
        let mut params = json!({"USERNAME": username, "PASSWORD": password});
        if client == SECRET_CLIENT {
            params["SECRET_HASH"] = Value::from(secret_hash(username, client));
        }
        self.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client, "AuthParameters": params}),
        )
    }

    #[track_caller]
    pub fn sign_in(&self, client: &str, username: &str) -> Tokens {
        let result = self.password_auth(client, username, PASSWORD).ok();
        let tokens = &result["AuthenticationResult"];
        Tokens {
            access: str_of(&tokens["AccessToken"]),
            id: str_of(&tokens["IdToken"]),
            refresh: str_of(&tokens["RefreshToken"]),
        }
    }

    pub fn refresh(&self, client: &str, refresh_token: &str) -> Reply {
        self.call(
            "InitiateAuth",
            json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
                   "AuthParameters": {"REFRESH_TOKEN": refresh_token}}),
        )
    }

    pub fn get_user(&self, access_token: &str) -> Reply {
        self.call("GetUser", json!({"AccessToken": access_token}))
    }

    pub fn global_sign_out(&self, access_token: &str) -> Reply {
        self.call("GlobalSignOut", json!({"AccessToken": access_token}))
    }

    pub fn admin_sign_out(&self, pool: &str, username: &str) -> Reply {
        self.admin(
            "AdminUserGlobalSignOut",
            json!({"UserPoolId": pool, "Username": username}),
        )
    }

    pub fn revoke(&self, token: &str, client: &str) -> Reply {
        self.call("RevokeToken", json!({"Token": token, "ClientId": client}))
    }

    /// The revocation entries in KV, by key.
    pub fn revocations(&self) -> Vec<(String, Value, Option<u64>)> {
        self.store
            .keys()
            .into_iter()
            .filter(|k| k.starts_with("rev/"))
            .map(|k| {
                let (text, ttl) = self.store.peek(&k).expect("listed key");
                let value = serde_json::from_str(&text).expect("entry is JSON");
                (k, value, ttl)
            })
            .collect()
    }

    pub fn logged(&self, needle: &str) -> bool {
        self.logs.borrow().iter().any(|line| line.contains(needle))
    }
}

impl Reply {
    pub fn new(response: edge_revoke::http::Response, request_id: String) -> Self {
        let text = String::from_utf8_lossy(&response.body).into_owned();
        Self {
            status: response.status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            headers: response.headers,
            text,
            request_id,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A success on `POST /`: 200, the protocol's content type, the request id, no error type.
    #[track_caller]
    pub fn ok(&self) -> Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.text);
        assert_eq!(self.header("content-type"), Some(CONTENT_TYPE));
        assert_eq!(
            self.header("x-amzn-requestid"),
            Some(self.request_id.as_str())
        );
        assert_eq!(self.header("x-amzn-errortype"), None);
        self.body.clone()
    }

    /// An error on `POST /`: exactly `{"__type", "message"}` (`Message` for
    /// SerializationException), `x-amzn-ErrorType` equal to `__type`, and the request id.
    #[track_caller]
    pub fn error(&self, status: u16, error_type: &str, message: &str) {
        let key = if error_type == "SerializationException" {
            "Message"
        } else {
            "message"
        };
        let mut expected = Map::new();
        expected.insert("__type".into(), Value::from(error_type));
        expected.insert(key.into(), Value::from(message));
        assert_eq!(
            (self.status, &self.body),
            (status, &Value::Object(expected)),
            "raw body: {}",
            self.text
        );
        assert_eq!(self.header("x-amzn-errortype"), Some(error_type));
        assert_eq!(self.header("content-type"), Some(CONTENT_TYPE));
        assert_eq!(
            self.header("x-amzn-requestid"),
            Some(self.request_id.as_str())
        );
    }

    /// A client error: HTTP 400.
    #[track_caller]
    pub fn refused(&self, error_type: &str, message: &str) {
        self.error(400, error_type, message);
    }

    #[track_caller]
    pub fn internal_error(&self) {
        self.error(500, "InternalErrorException", "Internal server error.");
    }

    /// The gate let the token through: 200 with the verified claims.
    #[track_caller]
    pub fn passes(&self) -> Value {
        assert_eq!(self.status, 200, "gate refused: {}", self.text);
        assert_eq!(
            self.header("x-amzn-requestid"),
            Some(self.request_id.as_str())
        );
        self.body.clone()
    }

    /// The gate refused the token: 401, Cognito's words, RFC 6750's `WWW-Authenticate`.
    #[track_caller]
    pub fn gate_refused(&self, message: &str) {
        assert_eq!(
            (self.status, &self.body),
            (
                401,
                &json!({"__type": "NotAuthorizedException", "message": message})
            ),
            "raw body: {}",
            self.text
        );
        assert_eq!(
            self.header("x-amzn-errortype"),
            Some("NotAuthorizedException")
        );
        let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{message}\"");
        assert_eq!(self.header("www-authenticate"), Some(challenge.as_str()));
        assert_eq!(
            self.header("x-amzn-requestid"),
            Some(self.request_id.as_str())
        );
    }
}

pub fn target(op: &str) -> String {
    format!("AWSCognitoIdentityProviderService.{op}")
}

pub fn api_request(target: Option<&str>, body: &[u8]) -> Request {
    let mut headers = vec![
        ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
        ("host".to_owned(), "127.0.0.1:8787".to_owned()),
    ];
    if let Some(target) = target {
        headers.push(("x-amz-target".to_owned(), target.to_owned()));
    }
    Request {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers,
        body: body.to_vec(),
    }
}

#[track_caller]
pub fn str_of(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

pub fn segment_json(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).expect("segment");
    let bytes = URL_SAFE_NO_PAD.decode(segment).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A JWT's payload, decoded without verification (the tests inspect what was issued).
pub fn claims(token: &str) -> Value {
    segment_json(token, 1)
}

pub fn secret_hash(username: &str, client_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("hmac key");
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// An HS256 token of the external pool, signed with its key.
pub fn ext_token(claims: &Value, kid: &str) -> String {
    let header = json!({"alg": "HS256", "kid": kid});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(EXT_KEY).expect("hmac key");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// An external access token's claims, authenticated (and issued) at `auth_time_s`.
pub fn ext_claims(sub: &str, username: &str, auth_time_s: u64) -> Value {
    json!({"sub": sub, "iss": EXT_ISSUER, "client_id": EXT_CLIENT, "token_use": "access",
           "scope": ADMIN_SCOPE, "auth_time": auth_time_s, "iat": auth_time_s,
           "exp": auth_time_s + 3600, "jti": format!("jti-{sub}-{auth_time_s}"),
           "username": username})
}

pub fn ext_access(sub: &str, username: &str, auth_time_s: u64) -> String {
    ext_token(&ext_claims(sub, username, auth_time_s), EXT_KID)
}

pub fn validation(violations: &[String]) -> String {
    let n = violations.len();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", violations.join("; "))
}

pub fn violation(value: Option<&str>, member: &str, constraint: &str) -> String {
    let value = match value {
        Some(v) => format!("Value '{v}' at '{member}'"),
        None => format!("Value at '{member}'"),
    };
    format!("{value} failed to satisfy constraint: {constraint}")
}

pub fn pattern(p: &str) -> String {
    format!("Member must satisfy regular expression pattern: {p}")
}

// ---------------------------------------------------------------------------------------
// An SRP client, written from the reference's formulas (shared/reference/cognito-srp.md §3),
// as amazon-cognito-identity-js and Amplify compute: independent of `local::srp`.

pub mod srp_client {
    use base64::{engine::general_purpose::STANDARD, Engine as _};
    use crypto_bigint::{
        modular::runtime_mod::{DynResidue, DynResidueParams},
        Encoding, U1024, U2048, U256, U3072,
    };
    use hkdf::Hkdf;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};

    const N_HEX: &str = concat!(
        "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404dd",
        "ef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed",
        "ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f",
        "83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b",
        "e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa0510",
        "15728e5a8aaac42dad33170d04507a33a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7",
        "abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200c",
        "bbe117577a615d6c770988c0bad946e208e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff",
    );

    type R = DynResidue<{ U3072::LIMBS }>;

    fn residue(n: &U3072) -> R {
        DynResidue::new(n, DynResidueParams::new(&U3072::from_be_hex(N_HEX)))
    }

    fn sha(parts: &[&[u8]]) -> [u8; 32] {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }

    /// padHex: minimal big-endian bytes, a `00` in front when the top bit is set.
    fn pad(be: &[u8]) -> Vec<u8> {
        let first = be.iter().position(|b| *b != 0).unwrap_or(be.len());
        let mut out = be[first..].to_vec();
        if out.first().is_none_or(|b| *b >= 0x80) {
            out.insert(0, 0);
        }
        out
    }

    fn int(hex_digits: &str) -> U3072 {
        let padded = format!("{hex_digits:0>768}");
        U3072::from_be_bytes(hex::decode(padded).unwrap().try_into().unwrap())
    }

    /// One client's side of one exchange.
    pub struct Client {
        a: U1024,
        pub big_a: U3072,
    }

    impl Client {
        /// A client with a random 1024-bit `a`, as the libraries draw it.
        pub fn new() -> Self {
            let mut bytes = [0u8; 128];
            getrandom::getrandom(&mut bytes).unwrap();
            let a = U1024::from_be_bytes(bytes);
            let big_a = residue(&U3072::from_u8(2)).pow(&a).retrieve();
            Self { a, big_a }
        }

        /// `SRP_A` as the libraries send it: `A.toString(16)`.
        pub fn srp_a(&self) -> String {
            let hex = hex::encode(self.big_a.to_be_bytes());
            hex.trim_start_matches('0').to_owned()
        }

        /// The PASSWORD_CLAIM_SIGNATURE for a PASSWORD_VERIFIER challenge's parameters.
        #[allow(clippy::too_many_arguments)]
        pub fn signature(
            &self,
            pool_id: &str,
            user_id_for_srp: &str,
            password: &str,
            salt_hex: &str,
            srp_b: &str,
            secret_block: &str,
            timestamp: &str,
        ) -> String {
            let n_g = (U3072::from_be_hex(N_HEX), U3072::from_u8(2));
            let k = U256::from_be_bytes(sha(&[
                &pad(&n_g.0.to_be_bytes()),
                &pad(&n_g.1.to_be_bytes()),
            ]))
            .resize::<{ U3072::LIMBS }>();
            let pool_name = pool_id.split('_').nth(1).unwrap();
            let salt = int(salt_hex).to_be_bytes();
            let inner = sha(&[
                pool_name.as_bytes(),
                user_id_for_srp.as_bytes(),
                b":",
                password.as_bytes(),
            ]);
            let x = U256::from_be_bytes(sha(&[&pad(&salt), &inner]));
            let big_b = int(srp_b);
            let u = U256::from_be_bytes(sha(&[
                &pad(&self.big_a.to_be_bytes()),
                &pad(&big_b.to_be_bytes()),
            ]));
            let exponent = self.a.resize::<{ U2048::LIMBS }>().wrapping_add(
                &u.resize::<{ U2048::LIMBS }>()
                    .wrapping_mul(&x.resize::<{ U2048::LIMBS }>()),
            );
            let base = residue(&big_b) - residue(&k) * residue(&n_g.1).pow(&x);
            let s = base.pow(&exponent).retrieve();
            let mut key = [0u8; 16];
            Hkdf::<Sha256>::new(Some(&pad(&u.to_be_bytes())), &pad(&s.to_be_bytes()))
                .expand(b"Caldera Derived Key", &mut key)
                .unwrap();
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
            mac.update(pool_name.as_bytes());
            mac.update(user_id_for_srp.as_bytes());
            mac.update(&STANDARD.decode(secret_block).unwrap());
            mac.update(timestamp.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        }
    }
}

impl World {
    /// InitiateAuth USER_SRP_AUTH for `username`: the client and the answer.
    pub fn srp_initiate(&self, client_id: &str, username: &str) -> (srp_client::Client, Reply) {
        let client = srp_client::Client::new();
        let mut params = json!({"USERNAME": username, "SRP_A": client.srp_a()});
        if client_id == SECRET_CLIENT {
            params["SECRET_HASH"] = Value::from(secret_hash(username, client_id));
        }
        let reply = self.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": client_id, "AuthParameters": params}),
        );
        (client, reply)
    }

    /// The RespondToAuthChallenge PASSWORD_VERIFIER body a client sends for `challenge`
    /// (InitiateAuth's answer) with `password`, at the server's clock.
    pub fn srp_response(
        &self,
        pool: &str,
        client_id: &str,
        client: &srp_client::Client,
        challenge: &Value,
        password: &str,
    ) -> Value {
        let params = &challenge["ChallengeParameters"];
        let id = str_of(&params["USER_ID_FOR_SRP"]);
        let timestamp = edge_revoke::local::srp::format_timestamp(self.now());
        let signature = client.signature(
            pool,
            &id,
            password,
            &str_of(&params["SALT"]),
            &str_of(&params["SRP_B"]),
            &str_of(&params["SECRET_BLOCK"]),
            &timestamp,
        );
        let mut responses = json!({"USERNAME": id, "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
                                   "TIMESTAMP": timestamp, "PASSWORD_CLAIM_SIGNATURE": signature});
        if client_id == SECRET_CLIENT {
            responses["SECRET_HASH"] = Value::from(secret_hash(&id, client_id));
        }
        json!({"ChallengeName": "PASSWORD_VERIFIER", "ClientId": client_id,
               "ChallengeResponses": responses})
    }

    /// USER_SRP_AUTH all the way: InitiateAuth, then the proof with `password`.
    pub fn srp_sign_in(
        &self,
        pool: &str,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> Reply {
        let (client, challenge) = self.srp_initiate(client_id, username);
        let challenge = challenge.ok();
        let body = self.srp_response(pool, client_id, &client, &challenge, password);
        self.call("RespondToAuthChallenge", body)
    }

    /// The codes waiting for `username` (AdminGetConfirmationCodes), by purpose.
    pub fn code(&self, pool: &str, username: &str, purpose: &str) -> String {
        let codes = self.codes(pool, username);
        codes
            .iter()
            .find(|c| c["Purpose"] == purpose)
            .map(|c| str_of(&c["Code"]))
            .unwrap_or_else(|| panic!("no {purpose} code for {username}: {codes:?}"))
    }

    /// Every code `AdminGetConfirmationCodes` holds for `username`.
    pub fn codes(&self, pool: &str, username: &str) -> Vec<Value> {
        let codes = self
            .admin(
                "AdminGetConfirmationCodes",
                json!({"UserPoolId": pool, "Username": username}),
            )
            .ok();
        codes["Codes"].as_array().unwrap().clone()
    }
}
