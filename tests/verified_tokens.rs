//! The verified-token cache (`src/verified.rs`) through the isolate's front door: a repeat token
//! skips the signature, and nothing else.
//!
//! Every test counts the signature backend's calls (a counting wrapper around RustCrypto), so a
//! cache that never hits fails the first test and a cache that hits when it must not fails the
//! others. The clock is pinned; the revocation list is an in-memory store (a fake of KV).

use std::cell::{Cell, RefCell};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use edge_revoke::{
    app::{App, Io, TrustedCall},
    auth::Expect,
    claims::TokenUse,
    config::Config,
    crypto::{RustCrypto, SignatureVerifier},
    error::{Error, TokenError},
    jwk::VerifyingKey,
    jwks::MAX_AGE_MS,
    ops::Operation,
    ports::{Fetcher, LocalFuture, MemoryStore, Unlimited},
};
use hmac::{Hmac, Mac};
use jwt_compact::{alg::Es256, jwk::JsonWebKey, Algorithm, AlgorithmSignature};
use serde_json::{json, Map, Value};
use sha2::Sha256;

const NOW_S: u64 = 1_750_000_000;
const POOL: &str = "us-east-1_Cache1";
const REMOTE: &str = "us-east-1_Cache2";
const JWKS_URI: &str = "https://keys.example.com/cache2/jwks.json";
const SECRET: [u8; 32] = [42; 32];
const OTHER_SECRET: [u8; 32] = [43; 32];

fn issuer(pool: &str) -> String {
    format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}")
}

fn oct(kid: &str, secret: &[u8]) -> Value {
    json!({"kty": "oct", "kid": kid, "alg": "HS256", "k": URL_SAFE_NO_PAD.encode(secret)})
}

fn config(inline_secret: &[u8]) -> Config {
    let vars = json!({"POOLS": [
        {"id": POOL, "algorithms": ["HS256"], "token_use": ["access", "id"],
         "clients": [{"id": "appA"}, {"id": "appB"}],
         "jwks": {"keys": [oct("k1", inline_secret)]}},
        {"id": REMOTE, "algorithms": ["ES256"], "clients": [{"id": "appA"}],
         "jwks_uri": JWKS_URI},
    ]});
    Config::from_env(vars.as_object().unwrap()).unwrap()
}

/// An HS256 token with `header` (as written) and these claims over the defaults.
fn token_with_header(header: &str, secret: &[u8], pool: &str, claims: Value) -> String {
    let mut payload = json!({"iss": issuer(pool), "sub": "user-1", "token_use": "access",
        "client_id": "appA", "origin_jti": "session-1", "iat": NOW_S - 60,
        "auth_time": NOW_S - 60, "exp": NOW_S + 3 * 3600});
    for (name, value) in claims.as_object().cloned().unwrap_or_default() {
        payload[name] = value;
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn token(secret: &[u8], pool: &str, claims: Value) -> String {
    token_with_header(r#"{"alg":"HS256","kid":"k1"}"#, secret, pool, claims)
}

/// RFC 7515 A.3's P-256 key, the remote pool's: the private JWK.
fn ec_key() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/rfc/rfc7515_appendixA_rfc8037.json"
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vector = file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "rfc7515-A.3");
    vector.unwrap()["key"].clone()
}

/// The remote pool's JWKS: A.3's public key under `kid`.
fn ec_jwks(kid: &str) -> Value {
    let key = ec_key();
    json!({"keys": [{"kty": "EC", "crv": "P-256", "x": key["x"], "y": key["y"], "kid": kid, "alg": "ES256"}]})
}

/// An ES256 access token of the remote pool, signed with A.3's key (kid `k1`).
fn remote_token() -> String {
    let key = ec_key();
    let jwk: JsonWebKey<'static> = serde_json::from_value(
        json!({"kty": "EC", "crv": "P-256", "x": key["x"], "y": key["y"], "d": key["d"]}),
    )
    .unwrap();
    let signing_key = <Es256 as Algorithm>::SigningKey::try_from(&jwk).unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"k1"}"#);
    let payload = json!({"iss": issuer(REMOTE), "sub": "user-2", "token_use": "access",
        "client_id": "appA", "iat": NOW_S - 60, "exp": NOW_S + 3 * 3600});
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload.to_string()));
    let signature = Es256.sign(&signing_key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_bytes()))
}

/// RustCrypto, counting the signatures it is asked to check.
#[derive(Default)]
struct Counting {
    calls: Cell<usize>,
}

impl SignatureVerifier for Counting {
    fn verify(&self, key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
        self.calls.set(self.calls.get() + 1);
        RustCrypto.verify(key, message, signature)
    }
}

/// Serves whatever JWKS it holds now (a FAKE of the issuer's endpoint).
struct Issuer {
    jwks: RefCell<Value>,
    fetches: Cell<usize>,
}

impl Fetcher for Issuer {
    fn get_text<'a>(
        &'a self,
        _url: &'a str,
        _max_bytes: usize,
    ) -> LocalFuture<'a, Result<(u16, String), String>> {
        self.fetches.set(self.fetches.get() + 1);
        let body = self.jwks.borrow().to_string();
        Box::pin(async move { Ok((200, body)) })
    }
}

/// One isolate: its state, its KV, its clock, its issuer.
struct Isolate {
    app: App,
    store: MemoryStore,
    verifier: Counting,
    issuer: Issuer,
    now_ms: Cell<u64>,
}

impl Isolate {
    fn new() -> Self {
        Self {
            app: App::new(),
            store: MemoryStore::new(),
            verifier: Counting::default(),
            issuer: Issuer {
                jwks: RefCell::new(ec_jwks("k1")),
                fetches: Cell::new(0),
            },
            now_ms: Cell::new(NOW_S * 1000),
        }
    }

    fn io(&self) -> Io<'_> {
        Io {
            store: &self.store,
            fetcher: &self.issuer,
            limiter: &Unlimited,
            verifier: &self.verifier,
            now_ms: self.now_ms.get(),
            request_id: "req-cache",
            log: &|_| {},
        }
    }

    /// `verifyToken`: signature, claims and the revocation list; the verified `sub`.
    fn verify(&self, config: &Config, token: &str, expect: Expect<'_>) -> Result<String, Error> {
        let call = TrustedCall::VerifyToken { token, expect };
        let claims = pollster::block_on(self.app.call(Ok(config), call, &self.io()))?;
        Ok(claims["sub"].as_str().unwrap_or_default().to_owned())
    }

    fn sign_out(&self, config: &Config, username: &str) {
        let input: Map<String, Value> = json!({"UserPoolId": POOL, "Username": username})
            .as_object()
            .cloned()
            .unwrap();
        let call = TrustedCall::Operation {
            operation: Operation::AdminUserGlobalSignOut,
            input: &input,
        };
        pollster::block_on(self.app.call(Ok(config), call, &self.io())).unwrap();
    }

    fn signatures_checked(&self) -> usize {
        self.verifier.calls.get()
    }
}

fn refused_with(result: Result<String, Error>, expected: TokenError) {
    match result {
        Err(Error::Token { error, .. }) => assert_eq!(error, expected),
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

#[test]
fn a_repeat_token_skips_the_signature_and_gets_the_same_answer() {
    let isolate = Isolate::new();
    let config = config(&SECRET);
    let token = token(&SECRET, POOL, json!({}));
    assert_eq!(
        isolate.verify(&config, &token, Expect::default()).unwrap(),
        "user-1"
    );
    assert_eq!(isolate.signatures_checked(), 1);
    for _ in 0..5 {
        assert_eq!(
            isolate.verify(&config, &token, Expect::default()).unwrap(),
            "user-1"
        );
    }
    assert_eq!(
        isolate.signatures_checked(),
        1,
        "five repeats, no signature"
    );
    assert_eq!(isolate.app.verified_tokens(), 1);
}

#[test]
fn a_sign_out_refuses_a_cached_token_at_once() {
    let isolate = Isolate::new();
    let config = config(&SECRET);
    let token = token(&SECRET, POOL, json!({}));
    assert!(isolate.verify(&config, &token, Expect::default()).is_ok());
    isolate.now_ms.set(isolate.now_ms.get() + 1_000);
    isolate.sign_out(&config, "user-1");
    refused_with(
        isolate.verify(&config, &token, Expect::default()),
        TokenError::Revoked,
    );
    assert_eq!(
        isolate.signatures_checked(),
        1,
        "the token itself came from the cache"
    );
}

#[test]
fn the_checks_that_depend_on_the_caller_run_on_every_hit() {
    let isolate = Isolate::new();
    let config = config(&SECRET);
    let token = token(&SECRET, POOL, json!({}));
    let client = |id| Expect {
        token_use: None,
        client_id: Some(id),
    };
    assert!(isolate.verify(&config, &token, client("appA")).is_ok());
    refused_with(
        isolate.verify(&config, &token, client("appB")),
        TokenError::WrongClient,
    );
    let id_only = Expect {
        token_use: Some(TokenUse::Id),
        client_id: None,
    };
    refused_with(
        isolate.verify(&config, &token, id_only),
        TokenError::WrongTokenUse,
    );
    assert!(isolate.verify(&config, &token, client("appA")).is_ok());
    assert_eq!(isolate.signatures_checked(), 1);
}

#[test]
fn a_cached_token_ends_at_its_exp() {
    let isolate = Isolate::new();
    let config = config(&SECRET);
    let token = token(&SECRET, POOL, json!({"exp": NOW_S + 60}));
    assert!(isolate.verify(&config, &token, Expect::default()).is_ok());
    assert_eq!(isolate.app.verified_tokens(), 1);
    isolate.now_ms.set((NOW_S + 60) * 1000);
    refused_with(
        isolate.verify(&config, &token, Expect::default()),
        TokenError::Expired,
    );
    assert_eq!(isolate.app.verified_tokens(), 0, "the entry went at exp");
}

#[test]
fn a_token_whose_key_left_the_jwks_is_verified_again_and_refused() {
    let isolate = Isolate::new();
    let config = config(&SECRET);
    let token = remote_token();
    assert!(isolate.verify(&config, &token, Expect::default()).is_ok());
    assert!(isolate.verify(&config, &token, Expect::default()).is_ok());
    assert_eq!(
        (isolate.signatures_checked(), isolate.issuer.fetches.get()),
        (1, 1)
    );
    // The issuer rotates k1 out; once the cached set is old, it is fetched again.
    *isolate.issuer.jwks.borrow_mut() = ec_jwks("k2");
    isolate.now_ms.set(isolate.now_ms.get() + MAX_AGE_MS);
    refused_with(
        isolate.verify(&config, &token, Expect::default()),
        TokenError::UnknownKey,
    );
    assert_eq!(isolate.issuer.fetches.get(), 2);
    assert_eq!(isolate.app.verified_tokens(), 0);
}

#[test]
fn a_key_fetched_again_with_the_same_bytes_is_another_key_and_verifies_again() {
    let isolate = Isolate::new();
    let config = config(&SECRET);
    let token = remote_token();
    assert!(isolate.verify(&config, &token, Expect::default()).is_ok());
    isolate.now_ms.set(isolate.now_ms.get() + MAX_AGE_MS);
    assert!(isolate.verify(&config, &token, Expect::default()).is_ok());
    assert_eq!(isolate.issuer.fetches.get(), 2);
    assert_eq!(
        isolate.signatures_checked(),
        2,
        "the new set's key checked it once more"
    );
    assert!(isolate.verify(&config, &token, Expect::default()).is_ok());
    assert_eq!(isolate.signatures_checked(), 2);
}

#[test]
fn a_changed_configuration_verifies_a_cached_token_again() {
    let isolate = Isolate::new();
    let token = token(&SECRET, POOL, json!({}));
    assert!(isolate
        .verify(&config(&SECRET), &token, Expect::default())
        .is_ok());
    // The same key, parsed again (the environment changed): the cache does not vouch for it.
    assert!(isolate
        .verify(&config(&SECRET), &token, Expect::default())
        .is_ok());
    assert_eq!(isolate.signatures_checked(), 2);
    // A configuration whose key changed refuses the token the cache once held.
    refused_with(
        isolate.verify(&config(&OTHER_SECRET), &token, Expect::default()),
        TokenError::BadSignature,
    );
}

#[test]
fn two_spellings_of_one_token_are_two_entries_each_verified() {
    let isolate = Isolate::new();
    let config = config(&SECRET);
    let one = token_with_header(r#"{"alg":"HS256","kid":"k1"}"#, &SECRET, POOL, json!({}));
    let two = token_with_header(r#"{"kid":"k1","alg":"HS256"}"#, &SECRET, POOL, json!({}));
    assert!(isolate.verify(&config, &one, Expect::default()).is_ok());
    assert!(isolate.verify(&config, &two, Expect::default()).is_ok());
    assert_eq!(isolate.signatures_checked(), 2);
    assert_eq!(isolate.app.verified_tokens(), 2);
}

#[test]
fn a_refused_token_is_never_cached() {
    let isolate = Isolate::new();
    let config = config(&SECRET);
    let forged = token(&OTHER_SECRET, POOL, json!({}));
    for _ in 0..2 {
        refused_with(
            isolate.verify(&config, &forged, Expect::default()),
            TokenError::BadSignature,
        );
    }
    assert_eq!(isolate.signatures_checked(), 2);
    assert_eq!(isolate.app.verified_tokens(), 0);
}
