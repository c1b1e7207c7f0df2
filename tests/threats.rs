//! The threat catalogue, `../shared/reference/jwt-threats.md` §1.1 rows 1–32, run against the
//! whole verification pipeline.
//!
//! Every attack goes through `App::authenticate` (the path the Worker's gate takes) or, for a
//! few rows, `App::handle` end to end, and must fail closed: an `Error::Token` that maps to 401
//! `NotAuthorizedException` with a Cognito message, never a 5xx and never a panic. Where the
//! variant shows which check fired, the test names it. Every attack has a legitimate control
//! next to it (the same token before the mutation, accepted), so no test passes merely because
//! everything is refused. The rows the catalogue says to accept (18, 21, 25, and 13 by policy)
//! are accepted.
//!
//! Keys are the fixed ones of `../shared/vectors` (RFC 7515 A.1–A.3, RFC 8037 A.4, RFC 7520
//! "bilbo.baggins", Wycheproof `json_web_key_test.json`), so nothing is generated and every
//! token is reproducible; tokens are assembled by hand so any header or payload byte can be
//! chosen. The clock is pinned at [`NOW_MS`].

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::{Cell, RefCell},
    panic::{catch_unwind, AssertUnwindSafe},
    path::PathBuf,
    sync::OnceLock,
};

use base64::{
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD},
    Engine as _,
};
use edge_revoke::{
    app::{App, Io, Outcome},
    auth::{Authenticated, Candidate, Expect},
    config::{Config, PoolKeys},
    crypto::{RustCrypto, SignatureVerifier},
    error::{Error, Surface, TokenError, TokenKind},
    http::{Request, Response},
    jwk::{parse_key, Alg, AlgSet, BadKeys, KeySet, VerifyingKey},
    ports::{Fetcher, LocalFuture, MemoryStore, NoFetch, Unlimited},
    token::{UntrustedToken, MAX_TOKEN_BYTES},
};
use hmac::{Hmac, Mac};
use jwt_compact::{
    alg::{Ed25519, Es256, Rsa, RsaPrivateKey},
    jwk::JsonWebKey,
    Algorithm, AlgorithmSignature,
};
use rsa::{
    pkcs1::EncodeRsaPublicKey,
    pkcs8::EncodePublicKey,
    traits::{PrivateKeyParts, PublicKeyParts},
    BigUint, RsaPublicKey,
};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------
// The pinned clock and the configured pools

/// 2025-06-15T15:06:40Z, the request's clock.
const NOW_S: u64 = 1_750_000_000;
const NOW_MS: u64 = NOW_S * 1000;
/// Tokens were issued five minutes ago, after a sign-in fifteen minutes ago, for an hour.
const IAT: u64 = NOW_S - 300;
const AUTH_TIME: u64 = IAT - 600;
const EXP: u64 = IAT + 3600;

/// The Cognito-shaped pool: two RS256 keys (access and ID tokens are signed by different keys,
/// as Cognito does), two app clients, access and ID tokens accepted at the gate.
const RS_POOL: &str = "us-east-1_AbC123";
/// One pool per other algorithm.
const PS_POOL: &str = "us-east-1_Ps256";
const ES_POOL: &str = "us-east-1_Es256";
const ED_POOL: &str = "us-east-1_EdDsa";
const HS_POOL: &str = "us-east-1_Hs256";
/// RS256 + PS256 + ES256 + HS256 allowed, an RSA key bound to RS256 and an EC key bound to
/// ES256: the header's `alg` is in the allow-list, so only the key binding can refuse confusion.
const MULTI_POOL: &str = "us-east-1_Multi";
/// RS256 and HS256 allowed, a single RSA key with neither `kid` nor `alg` (bound to RS256 as
/// the only RSA algorithm allowed): the textbook CVE-2016-10555 set-up.
const RSHS_POOL: &str = "us-east-1_RsHs";
/// Access tokens only at the gate (no `token_use` setting: the default).
const ACCESS_ONLY_POOL: &str = "us-east-1_AccessOnly";
/// RS256 with a public exponent of 3 (allowed: RFC 7518 asks e ≥ 3), for the e=3 forgery.
const E3_POOL: &str = "us-east-1_Exp3";
/// A pool whose keys are fetched from [`REMOTE_JWKS_URI`].
const REMOTE_POOL: &str = "us-east-1_Remote";
const REMOTE_JWKS_URI: &str = "https://keys.example.com/us-east-1_Remote/jwks.json";

const SUB: &str = "8b5f7c52-3b1e-4d8a-9c3e-2f6a1d4e5b70";
const JTI: &str = "f0e1d2c3-b4a5-4687-9809-a1b2c3d4e5f6";
const ORIGIN_JTI: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const EVENT_ID: &str = "c63a0d0d-1111-4222-8333-944455556666";

fn issuer(pool: &str) -> String {
    format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}")
}

/// Messages Cognito answers for a refused bearer token.
const COGNITO_MESSAGES: [&str; 4] = [
    "Invalid Access Token",
    "Invalid ID Token",
    "Access Token has expired",
    "ID Token has expired",
];

// ---------------------------------------------------------------------------------------
// Keys from ../shared/vectors

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors")
}

fn read_json(relative: &str) -> Value {
    let path = vectors().join(relative);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The RFC 7515 / RFC 8037 appendix vector with this id.
fn rfc_vector(id: &str) -> Value {
    read_json("rfc/rfc7515_appendixA_rfc8037.json")["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id}"))
        .clone()
}

/// The first private key of `json_web_key_test.json` with this `kid` and `alg`.
fn wycheproof_private_key(kid: &str, alg: &str) -> Value {
    let file = read_json("wycheproof/json_web_key_test.json");
    file["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["private"]["keys"].as_array().cloned().unwrap_or_default())
        .find(|k| k["kid"] == kid && k["alg"] == alg)
        .unwrap_or_else(|| panic!("no wycheproof key {kid}/{alg}"))
}

/// The public group key of the Wycheproof JWK test `tc_id`, or its private key where the group
/// has only that (symmetric keys).
fn wycheproof_jwk_case(tc_id: u64) -> Value {
    let file = read_json("wycheproof/json_web_key_test.json");
    let group = file["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| {
            g["tests"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["tcId"] == tc_id)
        })
        .unwrap_or_else(|| panic!("no tcId {tc_id}"))
        .clone();
    if group["public"].is_object() {
        group["public"].clone()
    } else {
        group["private"].clone()
    }
}

/// `jwk` with only the given members.
fn only(jwk: &Value, members: &[&str]) -> Value {
    let map: Map<String, Value> = members
        .iter()
        .filter_map(|m| jwk.get(*m).map(|v| ((*m).to_owned(), v.clone())))
        .collect();
    Value::Object(map)
}

/// `jwk` with extra members (`kid`, `alg`, `use`, …).
fn with(jwk: &Value, extra: Value) -> Value {
    let mut jwk = jwk.clone();
    for (k, v) in extra.as_object().unwrap() {
        jwk.as_object_mut().unwrap().insert(k.clone(), v.clone());
    }
    jwk
}

fn rsa_private_key(jwk: &Value) -> RsaPrivateKey {
    let parsed: JsonWebKey<'static> =
        serde_json::from_value(only(jwk, &["kty", "n", "e", "d", "p", "q"])).unwrap();
    RsaPrivateKey::try_from(&parsed).unwrap()
}

struct Keys {
    /// RFC 7515 A.2, 2048-bit.
    rsa: RsaPrivateKey,
    rsa_jwk: Value,
    /// RFC 7520 §3.4 "bilbo.baggins", 2048-bit.
    bilbo: RsaPrivateKey,
    bilbo_jwk: Value,
    /// Wycheproof `kid-rsa-sign`, 2048-bit: configured nowhere, the attacker's key.
    attacker_rsa: RsaPrivateKey,
    attacker_rsa_jwk: Value,
    /// Wycheproof `RS256_1024`: too small to be configured.
    rsa_1024: RsaPrivateKey,
    rsa_1024_jwk: Value,
    /// RFC 7515 A.2's primes with e = 3.
    rsa_e3: RsaPrivateKey,
    rsa_e3_jwk: Value,
    /// RFC 7515 A.3, P-256.
    ec: <Es256 as Algorithm>::SigningKey,
    ec_jwk: Value,
    /// RFC 8037 A.4, Ed25519.
    ed: <Ed25519 as Algorithm>::SigningKey,
    ed_jwk: Value,
    /// RFC 7515 A.1, a 64-byte HMAC secret.
    hs: Vec<u8>,
    hs_jwk: Value,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let a2 = rfc_vector("rfc7515-A.2")["key"].clone();
        let bilbo = read_json("jose-cookbook/jwk_3_4.rsa_private_key.json");
        let attacker = wycheproof_private_key("kid-rsa-sign", "RS256");
        let small = wycheproof_private_key("RS256_1024", "RS256");
        let a3 = rfc_vector("rfc7515-A.3")["key"].clone();
        let ed = rfc_vector("rfc8037-A.4")["key"].clone();
        let a1 = rfc_vector("rfc7515-A.1")["key"].clone();

        let ec_jwk: JsonWebKey<'static> =
            serde_json::from_value(only(&a3, &["kty", "crv", "x", "y", "d"])).unwrap();
        let ed_jwk: JsonWebKey<'static> =
            serde_json::from_value(only(&ed, &["kty", "crv", "x", "d"])).unwrap();
        let rsa = rsa_private_key(&a2);
        let (rsa_e3, rsa_e3_jwk) = e3_key(&rsa);
        Keys {
            rsa_jwk: only(&a2, &["kty", "n", "e"]),
            rsa,
            bilbo_jwk: only(&bilbo, &["kty", "n", "e"]),
            bilbo: rsa_private_key(&bilbo),
            attacker_rsa_jwk: only(&attacker, &["kty", "n", "e"]),
            attacker_rsa: rsa_private_key(&attacker),
            rsa_1024_jwk: only(&small, &["kty", "n", "e"]),
            rsa_1024: rsa_private_key(&small),
            rsa_e3,
            rsa_e3_jwk,
            ec: (&ec_jwk).try_into().unwrap(),
            ec_jwk: only(&a3, &["kty", "crv", "x", "y"]),
            ed: (&ed_jwk).try_into().unwrap(),
            ed_jwk: only(&ed, &["kty", "crv", "x"]),
            hs: URL_SAFE_NO_PAD.decode(a1["k"].as_str().unwrap()).unwrap(),
            hs_jwk: only(&a1, &["kty", "k"]),
        }
    })
}

/// RFC 7515 A.2's primes are both 2 mod 3, so 3 is invertible mod φ(n): the same modulus with
/// e = 3 and d = (2φ + 1) / 3 (φ ≡ 1 mod 3) is a valid key pair.
fn e3_key(a2: &RsaPrivateKey) -> (RsaPrivateKey, Value) {
    let primes = a2.primes().to_vec();
    let one = BigUint::from(1u32);
    let phi = (&primes[0] - &one) * (&primes[1] - &one);
    assert_eq!(&phi % BigUint::from(3u32), one.clone(), "φ ≡ 1 (mod 3)");
    let d = (phi * BigUint::from(2u32) + &one) / BigUint::from(3u32);
    let key =
        RsaPrivateKey::from_components(a2.n().clone(), BigUint::from(3u32), d, primes).unwrap();
    let jwk = json!({"kty": "RSA", "n": b64(a2.n().to_bytes_be()), "e": "Aw"});
    (key, jwk)
}

// ---------------------------------------------------------------------------------------
// Configuration

fn pool(id: &str, algorithms: &[&str], keys: Vec<Value>, token_use: Option<&[&str]>) -> Value {
    let mut pool = json!({
        "id": id,
        "jwks": {"keys": keys},
        "algorithms": algorithms,
        "clients": [{"id": "client1"}, {"id": "client2"}],
    });
    if let Some(uses) = token_use {
        pool["token_use"] = json!(uses);
    }
    pool
}

fn pools_json() -> Value {
    let k = keys();
    let both: &[&str] = &["access", "id"];
    json!([
        pool(
            RS_POOL,
            &["RS256"],
            vec![
                with(
                    &k.rsa_jwk,
                    json!({"kid": "rsa-access", "alg": "RS256", "use": "sig"})
                ),
                with(
                    &k.bilbo_jwk,
                    json!({"kid": "rsa-id", "alg": "RS256", "use": "sig"})
                ),
            ],
            Some(both),
        ),
        pool(
            PS_POOL,
            &["PS256"],
            vec![with(&k.rsa_jwk, json!({"kid": "ps-1"}))],
            Some(both)
        ),
        pool(
            ES_POOL,
            &["ES256"],
            vec![with(&k.ec_jwk, json!({"kid": "ec-1"}))],
            Some(both)
        ),
        pool(
            ED_POOL,
            &["EdDSA"],
            vec![with(&k.ed_jwk, json!({"kid": "ed-1"}))],
            Some(both)
        ),
        pool(
            HS_POOL,
            &["HS256"],
            vec![with(&k.hs_jwk, json!({"kid": "hs-1"}))],
            Some(both)
        ),
        pool(
            MULTI_POOL,
            &["RS256", "PS256", "ES256", "HS256"],
            vec![
                with(&k.bilbo_jwk, json!({"kid": "multi-rsa", "alg": "RS256"})),
                with(&k.ec_jwk, json!({"kid": "multi-ec", "alg": "ES256"})),
            ],
            Some(both),
        ),
        pool(
            RSHS_POOL,
            &["RS256", "HS256"],
            vec![k.rsa_jwk.clone()],
            Some(both)
        ),
        pool(
            ACCESS_ONLY_POOL,
            &["RS256"],
            vec![with(&k.bilbo_jwk, json!({"kid": "acc-1"}))],
            None,
        ),
        pool(
            E3_POOL,
            &["RS256"],
            vec![with(&k.rsa_e3_jwk, json!({"kid": "e3"}))],
            Some(both)
        ),
    ])
}

fn vars(pools: Value) -> Map<String, Value> {
    let mut vars = Map::new();
    vars.insert("POOLS".into(), pools);
    vars
}

fn config() -> Config {
    Config::from_env(&vars(pools_json())).unwrap()
}

/// The same pools, with accepted requests forwarded upstream (to see the identity headers).
fn config_with_origin() -> Config {
    let mut vars = vars(pools_json());
    vars.insert("ORIGIN_URL".into(), json!("https://upstream.example.com"));
    Config::from_env(&vars).unwrap()
}

/// One pool whose keys are fetched from [`REMOTE_JWKS_URI`].
fn remote_config() -> Config {
    let pools = json!([{
        "id": REMOTE_POOL,
        "jwks_uri": REMOTE_JWKS_URI,
        "clients": [{"id": "client1"}],
        "token_use": ["access", "id"],
    }]);
    Config::from_env(&vars(pools)).unwrap()
}

fn inline_keys<'c>(config: &'c Config, pool: &str) -> &'c KeySet {
    match &config.pool(pool).unwrap().keys {
        PoolKeys::Inline(keys) => keys,
        other => panic!("{pool} has no inline keys: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Tokens

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Clone, Copy)]
enum Signer<'a> {
    Rs256(&'a RsaPrivateKey),
    Ps256(&'a RsaPrivateKey),
    Es256,
    EdDsa,
    /// HMAC-SHA256 with any key bytes, empty included.
    Hs256(&'a [u8]),
}

fn sign(signer: Signer<'_>, input: &[u8]) -> Vec<u8> {
    match signer {
        Signer::Rs256(key) => Rsa::rs256().sign(key, input).as_bytes().into_owned(),
        Signer::Ps256(key) => Rsa::ps256().sign(key, input).as_bytes().into_owned(),
        Signer::Es256 => Es256.sign(&keys().ec, input).as_bytes().into_owned(),
        Signer::EdDsa => Ed25519.sign(&keys().ed, input).as_bytes().into_owned(),
        Signer::Hs256(secret) => hmac_sha256(secret, input),
    }
}

fn hmac_sha256(secret: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// `B64(header).B64(payload).B64(signature over the first two)`, from raw bytes.
fn jws_bytes(header: &[u8], payload: &[u8], signer: Signer<'_>) -> String {
    signed(&format!("{}.{}", b64(header), b64(payload)), signer)
}

fn jws(header: &str, payload: &str, signer: Signer<'_>) -> String {
    jws_bytes(header.as_bytes(), payload.as_bytes(), signer)
}

/// `signing_input.B64(signature over signing_input)`: the signing input is taken as given, so
/// malformed segments are signed exactly as sent.
fn signed(signing_input: &str, signer: Signer<'_>) -> String {
    let signature = sign(signer, signing_input.as_bytes());
    format!("{signing_input}.{}", b64(signature))
}

/// `signing_input.B64(signature)`.
fn with_signature(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", b64(signature))
}

fn header(alg: &str, kid: &str) -> String {
    format!(r#"{{"kid":"{kid}","alg":"{alg}"}}"#)
}

/// Splits a compact token into signing input and decoded signature.
fn split(token: &str) -> (&str, Vec<u8>) {
    let (input, signature) = token.rsplit_once('.').unwrap();
    (input, URL_SAFE_NO_PAD.decode(signature).unwrap())
}

/// A Cognito access token's claims (cognito.md §4.2) for `pool`.
fn access_claims(pool: &str) -> Map<String, Value> {
    let claims = json!({
        "sub": SUB,
        "iss": issuer(pool),
        "client_id": "client1",
        "origin_jti": ORIGIN_JTI,
        "event_id": EVENT_ID,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": AUTH_TIME,
        "iat": IAT,
        "exp": EXP,
        "jti": JTI,
        "username": "alice",
    });
    claims.as_object().unwrap().clone()
}

/// A Cognito ID token's claims (cognito.md §4.3) for `pool`.
fn id_claims(pool: &str) -> Map<String, Value> {
    let claims = json!({
        "sub": SUB,
        "aud": "client1",
        "iss": issuer(pool),
        "token_use": "id",
        "cognito:username": "alice",
        "auth_time": AUTH_TIME,
        "iat": IAT,
        "exp": EXP,
        "jti": JTI,
        "origin_jti": ORIGIN_JTI,
        "event_id": EVENT_ID,
        "email": "alice@example.com",
    });
    claims.as_object().unwrap().clone()
}

fn text(claims: &Map<String, Value>) -> String {
    serde_json::to_string(claims).unwrap()
}

/// Access claims for `pool` with `name` set to `value`.
fn access_with(pool: &str, name: &str, value: Value) -> String {
    let mut claims = access_claims(pool);
    claims.insert(name.into(), value);
    text(&claims)
}

/// Access claims for `pool` without `name`.
fn access_without(pool: &str, name: &str) -> String {
    let mut claims = access_claims(pool);
    assert!(claims.remove(name).is_some());
    text(&claims)
}

/// `text` with the single occurrence of `from` replaced by `to` (raw JSON edits: escapes,
/// duplicates, number spellings).
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} must occur once in {text}"
    );
    text.replacen(from, to, 1)
}

/// A valid access token for the Cognito-shaped pool.
fn rs_access() -> String {
    jws(
        &header("RS256", "rsa-access"),
        &text(&access_claims(RS_POOL)),
        Signer::Rs256(&keys().rsa),
    )
}

/// A valid access token with `payload`, signed like [`rs_access`].
fn rs_token(payload: &str) -> String {
    jws(
        &header("RS256", "rsa-access"),
        payload,
        Signer::Rs256(&keys().rsa),
    )
}

/// A valid ID token for the Cognito-shaped pool (signed by the ID-token key).
fn rs_id() -> String {
    jws(
        &header("RS256", "rsa-id"),
        &text(&id_claims(RS_POOL)),
        Signer::Rs256(&keys().bilbo),
    )
}

fn es_access() -> String {
    jws(
        &header("ES256", "ec-1"),
        &text(&access_claims(ES_POOL)),
        Signer::Es256,
    )
}

fn ed_access() -> String {
    jws(
        &header("EdDSA", "ed-1"),
        &text(&access_claims(ED_POOL)),
        Signer::EdDsa,
    )
}

fn hs_access() -> String {
    jws(
        &header("HS256", "hs-1"),
        &text(&access_claims(HS_POOL)),
        Signer::Hs256(&keys().hs),
    )
}

// ---------------------------------------------------------------------------------------
// Running the pipeline

/// A signature backend that counts its calls, to show a refusal came before any crypto.
#[derive(Default)]
struct CountingVerifier {
    calls: Cell<usize>,
}

impl SignatureVerifier for CountingVerifier {
    fn verify(&self, key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
        self.calls.set(self.calls.get() + 1);
        RustCrypto.verify(key, message, signature)
    }
}

/// A fetcher that serves one document and records every URL asked for.
struct RecordingFetcher {
    body: String,
    urls: RefCell<Vec<String>>,
}

impl RecordingFetcher {
    fn serving(jwks: Value) -> Self {
        Self {
            body: jwks.to_string(),
            urls: RefCell::new(Vec::new()),
        }
    }

    fn urls(&self) -> Vec<String> {
        self.urls.borrow().clone()
    }
}

impl Fetcher for RecordingFetcher {
    fn get_text<'a>(
        &'a self,
        url: &'a str,
        _max_bytes: usize,
    ) -> LocalFuture<'a, Result<(u16, String), String>> {
        self.urls.borrow_mut().push(url.to_owned());
        let body = self.body.clone();
        Box::pin(async move { Ok((200, body)) })
    }
}

/// Everything one request may use, with switches for the tests that watch them.
struct World<'a> {
    app: App,
    store: MemoryStore,
    fetcher: &'a dyn Fetcher,
    verifier: &'a dyn SignatureVerifier,
    now_ms: u64,
}

impl<'a> World<'a> {
    fn new() -> Self {
        Self {
            app: App::new(),
            store: MemoryStore::new(),
            fetcher: &NoFetch,
            verifier: &RustCrypto,
            now_ms: NOW_MS,
        }
    }

    fn fetching(fetcher: &'a dyn Fetcher) -> Self {
        Self {
            fetcher,
            ..Self::new()
        }
    }

    fn verifying_with(verifier: &'a dyn SignatureVerifier) -> Self {
        Self {
            verifier,
            ..Self::new()
        }
    }

    fn io(&self) -> Io<'_> {
        Io {
            store: &self.store,
            fetcher: self.fetcher,
            limiter: &Unlimited,
            verifier: self.verifier,
            now_ms: self.now_ms,
            request_id: "t",
            log: &|_| {},
        }
    }

    fn authenticate(&self, config: &Config, token: &str) -> Result<Authenticated, Error> {
        self.authenticate_expecting(config, token, &Expect::default())
    }

    fn authenticate_expecting(
        &self,
        config: &Config,
        token: &str,
        expect: &Expect<'_>,
    ) -> Result<Authenticated, Error> {
        pollster::block_on(self.app.authenticate(config, token, expect, &self.io()))
    }

    /// `GET /api/me` with `Authorization: Bearer <token>`, through the whole Worker.
    fn gate(&self, config: &Config, token: &str) -> Outcome {
        let request = Request {
            method: "GET".into(),
            path: "/api/me".into(),
            headers: vec![("authorization".into(), format!("Bearer {token}"))],
            ..Default::default()
        };
        pollster::block_on(self.app.handle(Ok(config), &request, &self.io()))
    }
}

fn authenticate(config: &Config, token: &str) -> Result<Authenticated, Error> {
    World::new().authenticate(config, token)
}

/// Checks a refusal is a 401 NotAuthorizedException with a Cognito message, and returns which
/// check refused it.
#[track_caller]
fn refused(result: Result<Authenticated, Error>) -> TokenError {
    refused_kind(result).1
}

#[track_caller]
fn refused_kind(result: Result<Authenticated, Error>) -> (TokenKind, TokenError) {
    let err = match result {
        Ok(auth) => panic!(
            "attack accepted (pool {}): {:?}",
            auth.pool_id(),
            auth.claims().all
        ),
        Err(err) => err,
    };
    let wire = err.wire(Surface::Gate);
    assert_eq!(wire.status, 401, "{err} answered {wire:?}");
    assert_eq!(wire.error_type, "NotAuthorizedException", "{err}");
    assert!(
        COGNITO_MESSAGES.contains(&wire.message.as_str()),
        "{err}: message {:?}",
        wire.message
    );
    match err {
        Error::Token { kind, error } => {
            let expired = matches!(error, TokenError::Expired);
            let expected = match (kind, expired) {
                (TokenKind::Access, false) => "Invalid Access Token",
                (TokenKind::Id, false) => "Invalid ID Token",
                (TokenKind::Access, true) => "Access Token has expired",
                (TokenKind::Id, true) => "ID Token has expired",
            };
            assert_eq!(wire.message, expected);
            (kind, error)
        }
        other => panic!("refused, but not as a token error: {other}"),
    }
}

#[track_caller]
fn refused_as(result: Result<Authenticated, Error>, expected: TokenError) {
    assert_eq!(refused(result), expected);
}

#[track_caller]
fn refused_malformed(result: Result<Authenticated, Error>) {
    let error = refused(result);
    assert!(matches!(error, TokenError::Malformed(_)), "{error:?}");
}

#[track_caller]
fn accepted(result: Result<Authenticated, Error>) -> Authenticated {
    match result {
        Ok(auth) => auth,
        Err(err) => panic!("legitimate token refused: {err} ({err:?})"),
    }
}

#[track_caller]
fn respond(outcome: Outcome) -> Response {
    match outcome {
        Outcome::Respond(response) => response,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[track_caller]
fn assert_gate_refuses(outcome: Outcome) -> Value {
    let response = respond(outcome);
    assert_eq!(response.status, 401);
    let challenge = response.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "www-authenticate: {challenge:?}"
    );
    assert_eq!(
        response.header("x-amzn-errortype"),
        Some("NotAuthorizedException")
    );
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["__type"], "NotAuthorizedException");
    assert!(
        COGNITO_MESSAGES.contains(&body["message"].as_str().unwrap()),
        "{body}"
    );
    body
}

// ---------------------------------------------------------------------------------------
// Byte-level helpers for signatures

/// The order of P-256.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// The order L of the Ed25519 base point, little-endian.
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// `a - b` for 32-byte big-endian numbers, `a ≥ b`.
fn sub_be(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    assert_eq!(borrow, 0);
    out
}

/// `a + b` for 32-byte little-endian numbers whose sum fits.
fn add_le(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    assert_eq!(carry, 0);
    out
}

/// An ECDSA `(r, s)` as ASN.1 DER, as `openssl dgst -sign` would write it.
fn ecdsa_der(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        if matches!(v.first(), None | Some(0x80..)) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    }
    let body = [integer(r), integer(s)].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

/// DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// `00 ‖ block_type ‖ fill… ‖ 00 ‖ tail`, 256 bytes.
fn pkcs1_block(block_type: u8, fill: u8, tail: &[u8]) -> Vec<u8> {
    let fill_len = 256 - 3 - tail.len();
    let mut em = vec![0x00, block_type];
    em.resize(2 + fill_len, fill);
    em.push(0x00);
    em.extend_from_slice(tail);
    assert_eq!(em.len(), 256);
    em
}

/// The RSA private-key operation on an arbitrary encoded message: a "signature" whose
/// arithmetic is right whatever the encoding says.
fn rsa_raw_sign(key: &RsaPrivateKey, em: &[u8]) -> Vec<u8> {
    let m = BigUint::from_bytes_be(em);
    let s = m.modpow(key.d(), key.n()).to_bytes_be();
    left_pad(&s, key.size())
}

fn left_pad(bytes: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len - bytes.len()];
    out.extend_from_slice(bytes);
    out
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// `segment` (canonical, with spare bits in its last character) with the lowest spare bit set.
fn with_spare_bits(segment: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_ne!(segment.len() % 4, 0, "a segment with spare bits");
    let last = *segment.as_bytes().last().unwrap();
    let value = ALPHABET.iter().position(|c| *c == last).unwrap();
    let spare_mask = if segment.len() % 4 == 2 { 0x0f } else { 0x03 };
    assert_eq!(value & spare_mask, 0, "canonical: spare bits are zero");
    format!(
        "{}{}",
        &segment[..segment.len() - 1],
        ALPHABET[value | 1] as char
    )
}

// =======================================================================================
// Row 1: alg "none"

#[test]
fn alg_none_in_every_spelling_is_refused_with_or_without_a_signature() {
    let config = config();
    let counting = CountingVerifier::default();
    let world = World::verifying_with(&counting);
    accepted(world.authenticate(&config, &rs_access()));
    assert_eq!(counting.calls.get(), 1);

    let payload = text(&access_claims(RS_POOL));
    let (_, leftover) = split(&rs_access());
    for alg in ["none", "None", "NONE", "nOnE"] {
        for head in [
            format!(r#"{{"alg":"{alg}"}}"#),
            format!(r#"{{"kid":"rsa-access","alg":"{alg}"}}"#),
            format!(r#"{{"typ":"JWT","alg":"{alg}"}}"#),
        ] {
            let input = format!("{}.{}", b64(&head), b64(&payload));
            // jwt_tool -X a: no signature at all.
            let unsigned = format!("{input}.");
            assert_eq!(
                refused(world.authenticate(&config, &unsigned)),
                TokenError::Malformed("empty signature")
            );
            // With the signature of the legitimate token left in place.
            refused_as(
                world.authenticate(&config, &with_signature(&input, &leftover)),
                TokenError::AlgorithmNotAllowed,
            );
            // With an arbitrary one.
            refused_as(
                world.authenticate(&config, &with_signature(&input, b"x")),
                TokenError::AlgorithmNotAllowed,
            );
            // Two segments.
            refused_malformed(world.authenticate(&config, &input));
        }
    }
    assert_eq!(
        counting.calls.get(),
        1,
        "no unsecured token reached the signature step"
    );

    // RFC 7515 A.5, the unsecured JWS example, verbatim.
    let a5 = rfc_vector("rfc7515-A.5")["jws"]
        .as_str()
        .unwrap()
        .to_owned();
    refused_malformed(world.authenticate(&config, &a5));
}

#[test]
fn a_pool_cannot_be_configured_to_accept_alg_none() {
    for alg in ["none", "None"] {
        let mut pools = pools_json();
        pools[0]["algorithms"] = json!([alg]);
        let err = Config::from_env(&vars(pools)).unwrap_err();
        assert_eq!(err.field, "POOLS[0].algorithms");
    }
}

// =======================================================================================
// Row 2: RS → HS key confusion

/// An RSA public key, in every form a confused verifier might use as an HMAC secret: jwt_tool
/// `-X k` uses the PEM file's bytes; PyJWT, python-jose and fast-jwt were each bypassed with
/// another encoding (CVE-2017-11424, CVE-2022-29217, CVE-2024-33663, CVE-2023-48223).
fn rsa_public_key_forms(key: &RsaPrivateKey, jwk: &Value) -> Vec<(&'static str, Vec<u8>)> {
    let public = RsaPublicKey::from(key);
    let spki_der = public.to_public_key_der().unwrap().as_bytes().to_vec();
    let pkcs1_der = public.to_pkcs1_der().unwrap().as_bytes().to_vec();
    // Byte-identical to `openssl pkey -pubin -outform PEM` (64-column base64, final newline).
    let spki_pem = pem("PUBLIC KEY", &spki_der);
    let pkcs1_pem = pem("RSA PUBLIC KEY", &pkcs1_der);
    let (n, e) = (jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap());
    // RFC 7638 thumbprint input: required members, lexicographic order, no whitespace.
    let canonical_jwk = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    vec![
        (
            "SPKI PEM with trailing newline",
            spki_pem.clone().into_bytes(),
        ),
        (
            "SPKI PEM without trailing newline",
            spki_pem.trim_end().as_bytes().to_vec(),
        ),
        (
            "SPKI PEM with CRLF line ends",
            spki_pem.replace('\n', "\r\n").into_bytes(),
        ),
        (
            "SPKI PEM after leading whitespace",
            format!(" \n{spki_pem}").into_bytes(),
        ),
        (
            "PKCS#1 PEM with trailing newline",
            pkcs1_pem.clone().into_bytes(),
        ),
        (
            "PKCS#1 PEM without trailing newline",
            pkcs1_pem.trim_end().as_bytes().to_vec(),
        ),
        ("SPKI DER", spki_der),
        ("PKCS#1 DER", pkcs1_der),
        ("JWK JSON as configured", jwk.to_string().into_bytes()),
        ("JWK JSON, RFC 7638 form", canonical_jwk.into_bytes()),
        ("raw modulus", public.n().to_bytes_be()),
        ("modulus as base64url text", n.as_bytes().to_vec()),
        ("empty key", Vec::new()),
    ]
}

#[test]
fn hs256_keyed_with_the_rsa_public_key_is_refused() {
    let config = config();
    let counting = CountingVerifier::default();
    let world = World::verifying_with(&counting);
    let k = keys();
    let rs_payload = text(&access_claims(RS_POOL));
    let rshs_payload = text(&access_claims(RSHS_POOL));
    let multi_payload = text(&access_claims(MULTI_POOL));
    // Controls: each RSA key verifies RS256 where it is configured, and HS256 works in the pool
    // configured with an HMAC secret.
    accepted(world.authenticate(&config, &rs_access()));
    accepted(world.authenticate(&config, &rs_id()));
    let rshs = jws(r#"{"alg":"RS256"}"#, &rshs_payload, Signer::Rs256(&k.rsa));
    accepted(world.authenticate(&config, &rshs));
    let multi = jws(
        &header("RS256", "multi-rsa"),
        &multi_payload,
        Signer::Rs256(&k.bilbo),
    );
    accepted(world.authenticate(&config, &multi));
    accepted(world.authenticate(&config, &hs_access()));
    let calls = counting.calls.get();

    // RFC 7515 A.2's key: RS_POOL's access key and RSHS_POOL's only key.
    let a2_jwk = with(
        &k.rsa_jwk,
        json!({"kid": "rsa-access", "alg": "RS256", "use": "sig"}),
    );
    for (form, secret) in rsa_public_key_forms(&k.rsa, &a2_jwk) {
        let hs = Signer::Hs256(&secret);
        // The Cognito-shaped pool allows RS256 only.
        for head in [
            header("HS256", "rsa-access"),
            r#"{"alg":"HS256"}"#.to_owned(),
        ] {
            let error = refused(world.authenticate(&config, &jws(&head, &rs_payload, hs)));
            assert_eq!(error, TokenError::AlgorithmNotAllowed, "{form}");
        }
        // A pool that allows HS256 too, holding only this RSA key, without kid or alg
        // (CVE-2016-10555's set-up): the key was bound to RS256 when loaded.
        let token = jws(r#"{"alg":"HS256"}"#, &rshs_payload, hs);
        let error = refused(world.authenticate(&config, &token));
        assert_eq!(error, TokenError::KeyAlgorithmMismatch, "{form}");
    }
    // The bilbo key: RS_POOL's ID-token key and MULTI_POOL's RSA key.
    let bilbo_jwk = with(&k.bilbo_jwk, json!({"kid": "multi-rsa", "alg": "RS256"}));
    for (form, secret) in rsa_public_key_forms(&k.bilbo, &bilbo_jwk) {
        let hs = Signer::Hs256(&secret);
        let token = jws(&header("HS256", "rsa-id"), &text(&id_claims(RS_POOL)), hs);
        let error = refused(world.authenticate(&config, &token));
        assert_eq!(error, TokenError::AlgorithmNotAllowed, "{form}");
        // HS256 is in the mixed pool's allow-list; the kid names the RSA key bound to RS256.
        let token = jws(&header("HS256", "multi-rsa"), &multi_payload, hs);
        let error = refused(world.authenticate(&config, &token));
        assert_eq!(error, TokenError::KeyAlgorithmMismatch, "{form}");
    }
    assert_eq!(
        counting.calls.get(),
        calls,
        "no confused token reached the signature step"
    );
}

#[test]
fn an_ec_or_okp_public_key_is_never_an_hmac_secret() {
    // Wycheproof JWS tcId 31 shape: the EC public key's bytes as the MAC key.
    let config = config();
    let world = World::new();
    accepted(world.authenticate(&config, &es_access()));
    accepted(world.authenticate(&config, &ed_access()));
    let ec = &keys().ec_jwk;
    let x = URL_SAFE_NO_PAD.decode(ec["x"].as_str().unwrap()).unwrap();
    let y = URL_SAFE_NO_PAD.decode(ec["y"].as_str().unwrap()).unwrap();
    let ec_forms = vec![
        [vec![4u8], x.clone(), y.clone()].concat(),
        x,
        ec.to_string().into_bytes(),
    ];
    for secret in &ec_forms {
        let es = jws(
            &header("HS256", "ec-1"),
            &text(&access_claims(ES_POOL)),
            Signer::Hs256(secret),
        );
        refused_as(
            world.authenticate(&config, &es),
            TokenError::AlgorithmNotAllowed,
        );
        let multi = jws(
            &header("HS256", "multi-ec"),
            &text(&access_claims(MULTI_POOL)),
            Signer::Hs256(secret),
        );
        refused_as(
            world.authenticate(&config, &multi),
            TokenError::KeyAlgorithmMismatch,
        );
    }
    let ed_x = URL_SAFE_NO_PAD
        .decode(keys().ed_jwk["x"].as_str().unwrap())
        .unwrap();
    for secret in [ed_x, keys().ed_jwk.to_string().into_bytes()] {
        let token = jws(
            &header("HS256", "ed-1"),
            &text(&access_claims(ED_POOL)),
            Signer::Hs256(&secret),
        );
        refused_as(
            world.authenticate(&config, &token),
            TokenError::AlgorithmNotAllowed,
        );
    }
}

#[test]
fn hs256_with_a_blank_or_guessed_secret_is_refused() {
    // jwt_tool -X b (blank password) and a dictionary guess, against the HMAC pool itself.
    let config = config();
    accepted(authenticate(&config, &hs_access()));
    let payload = text(&access_claims(HS_POOL));
    for secret in [
        &b""[..],
        b"secret",
        b"your-256-bit-secret",
        b"hs-1",
        &[0u8; 64],
    ] {
        let token = jws(&header("HS256", "hs-1"), &payload, Signer::Hs256(secret));
        refused_as(authenticate(&config, &token), TokenError::BadSignature);
    }
}

// =======================================================================================
// Row 3: a valid signature under another algorithm

#[test]
fn a_valid_signature_under_another_algorithm_of_the_key_family_is_refused() {
    let config = config();
    let world = World::new();
    let k = keys();
    // Controls: PS256 by the A.2 key verifies in the PS256 pool; RS256 and ES256 verify in the
    // mixed pool under their own kids.
    let ps_token = jws(
        &header("PS256", "ps-1"),
        &text(&access_claims(PS_POOL)),
        Signer::Ps256(&k.rsa),
    );
    accepted(world.authenticate(&config, &ps_token));
    let multi = text(&access_claims(MULTI_POOL));
    accepted(world.authenticate(
        &config,
        &jws(
            &header("RS256", "multi-rsa"),
            &multi,
            Signer::Rs256(&k.bilbo),
        ),
    ));
    accepted(world.authenticate(
        &config,
        &jws(&header("ES256", "multi-ec"), &multi, Signer::Es256),
    ));

    // PS256 on an RS256 key: allowed by the mixed pool, refused by the key's binding.
    let token = jws(
        &header("PS256", "multi-rsa"),
        &multi,
        Signer::Ps256(&k.bilbo),
    );
    refused_as(
        world.authenticate(&config, &token),
        TokenError::KeyAlgorithmMismatch,
    );
    // …and not allowed at all in the RS256-only pool.
    let rs = text(&access_claims(RS_POOL));
    let token = jws(&header("PS256", "rsa-access"), &rs, Signer::Ps256(&k.rsa));
    refused_as(
        world.authenticate(&config, &token),
        TokenError::AlgorithmNotAllowed,
    );
    // ES256 on an RSA kid, RS256 on an EC kid.
    let token = jws(&header("ES256", "multi-rsa"), &multi, Signer::Es256);
    refused_as(
        world.authenticate(&config, &token),
        TokenError::KeyAlgorithmMismatch,
    );
    let token = jws(
        &header("RS256", "multi-ec"),
        &multi,
        Signer::Rs256(&k.bilbo),
    );
    refused_as(
        world.authenticate(&config, &token),
        TokenError::KeyAlgorithmMismatch,
    );
    // Names are case-sensitive (RFC 7515 §4.1.1) and exact; unimplemented algorithms are no
    // names at all. The signature is a valid RS256 one each time.
    for alg in [
        "rs256",
        "Rs256",
        "RS256 ",
        " RS256",
        "RS256\u{0}",
        "RS384",
        "RS512",
        "PS384",
        "ES384",
        "ES512",
        "HS512",
        "EdDSA",
        "ed25519",
    ] {
        let head = json!({"kid": "rsa-access", "alg": alg}).to_string();
        let token = jws(&head, &rs, Signer::Rs256(&k.rsa));
        assert_eq!(
            refused(world.authenticate(&config, &token)),
            TokenError::AlgorithmNotAllowed,
            "{alg:?}"
        );
    }
    // An `alg` that is missing or not a string.
    for head in [
        r#"{"kid":"rsa-access"}"#,
        r#"{"kid":"rsa-access","alg":null}"#,
        r#"{"kid":"rsa-access","alg":256}"#,
        r#"{"kid":"rsa-access","alg":["RS256"]}"#,
    ] {
        refused_malformed(world.authenticate(&config, &jws(head, &rs, Signer::Rs256(&k.rsa))));
    }
}

// =======================================================================================
// Row 4: kid injection

/// jwt_tool's playbook kids and their relatives.
const INJECTED_KIDS: [&str; 14] = [
    "",
    "../../../../../../dev/null",
    "/dev/null",
    "..\\..\\..\\windows\\win.ini",
    "|sleep 10",
    "$(sleep 10)",
    "`id`",
    "x' UNION SELECT '1';--",
    "rsa-access' OR '1'='1",
    "rsa-access\u{0}",
    "rsa-access ",
    "RSA-ACCESS",
    "%72sa-access",
    "https://attacker.example.com/key.pem",
];

#[test]
fn kid_injection_strings_are_opaque_unknown_keys() {
    // The catalogue's "no timing change" cannot be measured reliably in a unit test (lookups
    // are a linear scan over configured kids, compared as plain strings, with no I/O); the
    // functional part is tested: every such kid is an unknown map key, nothing is read from KV,
    // nothing is fetched and no key material is tried.
    let config = config();
    let counting = CountingVerifier::default();
    let world = World::verifying_with(&counting);
    accepted(world.authenticate(&config, &rs_access()));

    let payload = text(&access_claims(RS_POOL));
    let long_kid = "k".repeat(256);
    let kids = INJECTED_KIDS.iter().copied().chain([long_kid.as_str()]);
    for kid in kids {
        // Signed with the right key: only the kid is wrong.
        let head = json!({"kid": kid, "alg": "RS256"}).to_string();
        let token = jws(&head, &payload, Signer::Rs256(&keys().rsa));
        assert_eq!(
            refused(world.authenticate(&config, &token)),
            TokenError::UnknownKey,
            "{kid:?}"
        );
    }
    // Not a string: refused as malformed, never coerced.
    for kid in [
        json!(7),
        json!(null),
        json!(true),
        json!({}),
        json!(["rsa-access"]),
        json!({"$ne": ""}),
    ] {
        let head = json!({"kid": kid, "alg": "RS256"}).to_string();
        let token = jws(&head, &payload, Signer::Rs256(&keys().rsa));
        refused_malformed(world.authenticate(&config, &token));
    }
    // Over the kid cap, and over the token cap.
    let head = json!({"kid": "k".repeat(257), "alg": "RS256"}).to_string();
    let token = jws(&head, &payload, Signer::Rs256(&keys().rsa));
    refused_as(
        world.authenticate(&config, &token),
        TokenError::Malformed("kid too long"),
    );
    let head = json!({"kid": "k".repeat(64 * 1024), "alg": "RS256"}).to_string();
    let token = jws(&head, &payload, Signer::Rs256(&keys().rsa));
    refused_as(world.authenticate(&config, &token), TokenError::TooLarge);

    assert_eq!(
        counting.calls.get(),
        1,
        "only the control reached the signature step"
    );
    assert_eq!(world.store.counts(), (0, 0), "no KV access for inline keys");
}

#[test]
fn kid_injection_against_a_remote_pool_fetches_only_the_configured_jwks_uri() {
    let config = remote_config();
    let jwks = json!({"keys": [with(&keys().rsa_jwk, json!({"kid": "remote-1", "alg": "RS256", "use": "sig"}))]});
    let fetcher = RecordingFetcher::serving(jwks);
    let world = World::fetching(&fetcher);
    let payload = text(&access_claims(REMOTE_POOL));
    let legit = jws(
        &header("RS256", "remote-1"),
        &payload,
        Signer::Rs256(&keys().rsa),
    );
    accepted(world.authenticate(&config, &legit));

    for kid in INJECTED_KIDS {
        let head = json!({"kid": kid, "alg": "RS256"}).to_string();
        let token = jws(&head, &payload, Signer::Rs256(&keys().rsa));
        assert_eq!(
            refused(world.authenticate(&config, &token)),
            TokenError::UnknownKey,
            "{kid:?}"
        );
    }
    // One fetch, of the configured URI: unknown kids within the cooldown do not refetch, and no
    // kid ever becomes part of a URL or a KV key.
    assert_eq!(fetcher.urls(), vec![REMOTE_JWKS_URI.to_owned()]);
    for key in world.store.keys() {
        assert!(key.starts_with("jwks/v1/"), "{key}");
        assert!(
            !INJECTED_KIDS
                .iter()
                .any(|kid| !kid.is_empty() && key.contains(kid)),
            "{key}"
        );
    }
}

// =======================================================================================
// Row 5: keys embedded in or pointed at by the header

#[test]
fn an_embedded_jwk_header_is_refused_even_with_a_known_kid() {
    let config = config();
    let world = World::new();
    let k = keys();
    let payload = text(&access_claims(RS_POOL));
    accepted(world.authenticate(&config, &rs_access()));

    let attacker_jwk = with(&k.attacker_rsa_jwk, json!({"kid": "rsa-access"}));
    let legit_jwk = with(&k.rsa_jwk, json!({"kid": "rsa-access"}));
    let cases = [
        // CVE-2018-0114: the attacker's key, signed with it, naming a configured kid.
        (
            json!({"alg": "RS256", "kid": "rsa-access", "jwk": attacker_jwk}),
            Signer::Rs256(&k.attacker_rsa),
        ),
        // …and naming no kid.
        (
            json!({"alg": "RS256", "jwk": k.attacker_rsa_jwk}),
            Signer::Rs256(&k.attacker_rsa),
        ),
        // …with a kid of its own.
        (
            json!({"alg": "RS256", "kid": "attacker", "jwk": with(&k.attacker_rsa_jwk, json!({"kid": "attacker"}))}),
            Signer::Rs256(&k.attacker_rsa),
        ),
        // The configured key itself, embedded, signed by it: refused all the same (policy:
        // a header-supplied key is never looked at).
        (
            json!({"alg": "RS256", "kid": "rsa-access", "jwk": legit_jwk}),
            Signer::Rs256(&k.rsa),
        ),
        (
            json!({"alg": "RS256", "kid": "rsa-access", "jwk": null}),
            Signer::Rs256(&k.rsa),
        ),
    ];
    for (head, signer) in cases {
        let token = jws(&head.to_string(), &payload, signer);
        refused_as(
            world.authenticate(&config, &token),
            TokenError::ForbiddenHeader("jwk"),
        );
    }
}

#[test]
fn a_jku_x5u_or_x5c_header_is_refused_and_nothing_is_fetched() {
    let k = keys();
    // The fetcher serves the legitimate key set and records every URL asked for.
    let legit_jwks =
        json!({"keys": [with(&k.rsa_jwk, json!({"kid": "rsa-access", "alg": "RS256"}))]});
    // A self-signed certificate's content is irrelevant: the parameter is refused by its name.
    let x5c = json!([STANDARD.encode(b"self-signed certificate for rsa-access")]);
    let cases: [(&str, Value); 3] = [
        (
            "jku",
            json!("https://attacker.example.com/.well-known/jwks.json"),
        ),
        ("x5u", json!("https://attacker.example.com/cert.pem")),
        ("x5c", x5c),
    ];
    for (config, pool) in [(config(), RS_POOL), (remote_config(), REMOTE_POOL)] {
        let fetcher = RecordingFetcher::serving(legit_jwks.clone());
        let world = World::fetching(&fetcher);
        let payload = text(&access_claims(pool));
        for (name, value) in &cases {
            let mut head = json!({"alg": "RS256", "kid": "rsa-access"});
            head[*name] = value.clone();
            for signer in [Signer::Rs256(&k.attacker_rsa), Signer::Rs256(&k.rsa)] {
                let token = jws(&head.to_string(), &payload, signer);
                let error = refused(world.authenticate(&config, &token));
                assert_eq!(
                    error,
                    TokenError::ForbiddenHeader(name),
                    "{name} against {pool}"
                );
            }
        }
        assert_eq!(
            fetcher.urls(),
            Vec::<String>::new(),
            "{pool}: refused before any fetch"
        );
        // Controls: the attacker's key without the header is just a bad signature, and the
        // legitimate token verifies (fetching, for the remote pool, only the configured URI).
        let attacker = jws(
            &header("RS256", "rsa-access"),
            &payload,
            Signer::Rs256(&k.attacker_rsa),
        );
        refused_as(
            world.authenticate(&config, &attacker),
            TokenError::BadSignature,
        );
        let legit = jws(
            &header("RS256", "rsa-access"),
            &payload,
            Signer::Rs256(&k.rsa),
        );
        accepted(world.authenticate(&config, &legit));
        assert!(
            fetcher.urls().iter().all(|u| u == REMOTE_JWKS_URI),
            "{:?}",
            fetcher.urls()
        );
    }
}

// =======================================================================================
// Rows 6–8: crit and b64

#[test]
fn crit_in_any_form_is_refused() {
    let config = config();
    accepted(authenticate(&config, &rs_access()));
    let payload = text(&access_claims(RS_POOL));
    for crit in [
        json!(["x-unknown"]),
        json!([]),
        json!("b64"),
        json!(["exp"]),
        json!(["kid"]),
        json!(null),
        json!({}),
    ] {
        let head = json!({"kid": "rsa-access", "alg": "RS256", "crit": crit, "x-unknown": true})
            .to_string();
        let token = jws(&head, &payload, Signer::Rs256(&keys().rsa));
        assert_eq!(
            refused(authenticate(&config, &token)),
            TokenError::ForbiddenHeader("crit"),
            "{crit}"
        );
    }
}

#[test]
fn b64_false_with_crit_is_refused() {
    let config = config();
    accepted(authenticate(&config, &hs_access()));
    let payload = text(&access_claims(HS_POOL));
    let head = r#"{"alg":"HS256","kid":"hs-1","b64":false,"crit":["b64"]}"#;
    // Signed as RFC 7797 says (over the unencoded payload), sent with the payload encoded.
    let unencoded_input = format!("{}.{payload}", b64(head));
    let mac = hmac_sha256(&keys().hs, unencoded_input.as_bytes());
    let token = format!("{}.{}.{}", b64(head), b64(&payload), b64(&mac));
    refused_as(
        authenticate(&config, &token),
        TokenError::ForbiddenHeader("crit"),
    );
    // Signed over the encoded payload.
    refused_as(
        authenticate(&config, &jws(head, &payload, Signer::Hs256(&keys().hs))),
        TokenError::ForbiddenHeader("crit"),
    );
    // Sent unencoded, as RFC 7797 compact form: the claims' dots make it more than three segments.
    refused_malformed(authenticate(
        &config,
        &format!("{}.{payload}.{}", b64(head), b64(&mac)),
    ));

    // The RFC 7797 cookbook token (valid HMAC under RFC 7515 A.1's key, which HS_POOL holds).
    let cookbook = read_json("jose-cookbook/rfc7797_hmac-sha2_b64_false.json");
    let compact = cookbook["output"]["compact"].as_str().unwrap();
    refused_malformed(authenticate(&config, compact));
    assert!(UntrustedToken::parse(compact).is_err());
}

#[test]
fn b64_false_without_crit_is_refused_not_reinterpreted() {
    // Policy (catalogue row 8 allows ignoring or refusing): refused, so the payload is never
    // read as unencoded. `b64: true` is RFC 7797's default meaning and is accepted.
    let config = config();
    let payload = text(&access_claims(RS_POOL));
    let ok = r#"{"kid":"rsa-access","alg":"RS256","b64":true}"#;
    accepted(authenticate(
        &config,
        &jws(ok, &payload, Signer::Rs256(&keys().rsa)),
    ));
    for b64_value in ["false", r#""false""#, "0", "null"] {
        let head = format!(r#"{{"kid":"rsa-access","alg":"RS256","b64":{b64_value}}}"#);
        let token = jws(&head, &payload, Signer::Rs256(&keys().rsa));
        refused_as(
            authenticate(&config, &token),
            TokenError::ForbiddenHeader("b64"),
        );
    }
}

// =======================================================================================
// Row 9: empty and stripped signatures

#[test]
fn an_empty_or_stripped_signature_is_refused() {
    let config = config();
    let world = World::new();
    for token in [rs_access(), hs_access(), es_access(), ed_access()] {
        accepted(world.authenticate(&config, &token));
        let (input, signature) = split(&token);
        refused_as(
            world.authenticate(&config, &format!("{input}.")),
            TokenError::Malformed("empty signature"),
        );
        refused_malformed(world.authenticate(&config, input));
        refused_as(
            world.authenticate(&config, &with_signature(input, &[0])),
            TokenError::BadSignature,
        );
        // Every proper prefix of the real signature, and one byte too many (CVE-2020-28042 compared
        // over the received length).
        for len in 1..signature.len() {
            let error =
                refused(world.authenticate(&config, &with_signature(input, &signature[..len])));
            assert_eq!(error, TokenError::BadSignature, "prefix of {len} bytes");
        }
        let longer = [&signature[..], &[0]].concat();
        refused_as(
            world.authenticate(&config, &with_signature(input, &longer)),
            TokenError::BadSignature,
        );
    }
}

// =======================================================================================
// Row 10: segment counts, JWE and JSON serialization

#[test]
fn wrong_segment_counts_jwe_shapes_and_json_serialization_are_refused() {
    let config = config();
    let token = rs_access();
    accepted(authenticate(&config, &token));
    let (input, signature) = split(&token);
    let (h, p) = input.split_once('.').unwrap();
    let s = b64(&signature);
    let malformed = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "....".into(),
        h.into(),
        format!("{token}."),
        format!("{token}.{s}"),
        format!("{h}.{p}.{s}.{s}.{s}"),
        format!(".{token}"),
        format!("{h}..{s}"),
        format!("{token}\n"),
        format!(" {token}"),
    ];
    for bad in &malformed {
        refused_malformed(authenticate(&config, bad));
    }
    // A Cognito refresh token's shape (JWE, five parts).
    let jwe_header = b64(r#"{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}"#);
    let jwe = format!(
        "{jwe_header}.{}.{}.{}.{}",
        b64([1u8; 256]),
        b64([2u8; 12]),
        b64(text(&access_claims(RS_POOL))),
        b64([3u8; 16])
    );
    refused_malformed(authenticate(&config, &jwe));
    // A JWE header in a three-part token, signed by the configured key.
    let payload = text(&access_claims(RS_POOL));
    for (head, name) in [
        (
            r#"{"kid":"rsa-access","alg":"RS256","enc":"A256GCM"}"#,
            "enc",
        ),
        (r#"{"kid":"rsa-access","alg":"RS256","cty":"JWT"}"#, "cty"),
        (r#"{"kid":"rsa-access","alg":"RS256","zip":"DEF"}"#, "zip"),
    ] {
        refused_as(
            authenticate(&config, &jws(head, &payload, Signer::Rs256(&keys().rsa))),
            TokenError::ForbiddenHeader(name),
        );
    }
    let head = r#"{"kid":"rsa-access","alg":"RSA-OAEP","enc":"A256GCM"}"#;
    refused(authenticate(
        &config,
        &jws(head, &payload, Signer::Rs256(&keys().rsa)),
    ));
    // JWS JSON serialization, general and flattened, of the valid token (CVE-2022-39227).
    let general =
        json!({"payload": p, "signatures": [{"protected": h, "signature": s}]}).to_string();
    let flattened = json!({"payload": p, "protected": h, "signature": s}).to_string();
    for bad in [general, flattened] {
        refused_malformed(authenticate(&config, &bad));
    }
}

// =======================================================================================
// Rows 11–13: ECDSA signature encodings

#[test]
fn psychic_and_out_of_range_es256_signatures_are_refused() {
    let config = config();
    let token = es_access();
    accepted(authenticate(&config, &token));
    let (input, signature) = split(&token);
    let (r, s) = signature.split_at(32);
    let zero = [0u8; 32];
    let n = P256_N.to_vec();
    let n_minus_1 = sub_be(&P256_N, &{
        let mut one = [0u8; 32];
        one[31] = 1;
        one
    });
    let ones = [0xffu8; 32];
    let cases: [(&str, Vec<u8>); 9] = [
        ("r = s = 0 (CVE-2022-21449)", [zero, zero].concat()),
        ("r = s = n", [n.clone(), n.clone()].concat()),
        ("r = 0", [&zero[..], s].concat()),
        ("s = 0", [r, &zero[..]].concat()),
        ("r = n", [&n[..], s].concat()),
        ("s = n", [r, &n[..]].concat()),
        ("r = s = n - 1", [n_minus_1.clone(), n_minus_1].concat()),
        ("r = s = 2^256 - 1", [ones, ones].concat()),
        ("r and s swapped", [s, r].concat()),
    ];
    for (what, bad) in cases {
        let error = refused(authenticate(&config, &with_signature(input, &bad)));
        assert_eq!(error, TokenError::BadSignature, "{what}");
    }
}

#[test]
fn es256_signatures_that_are_not_64_byte_r_s_are_refused() {
    let config = config();
    let token = es_access();
    accepted(authenticate(&config, &token));
    let (input, signature) = split(&token);
    let (r, s) = signature.split_at(32);
    let cases: [(&str, Vec<u8>); 5] = [
        ("ASN.1 DER", ecdsa_der(r, s)),
        ("63 bytes", signature[..63].to_vec()),
        (
            "65 bytes, trailing garbage",
            [&signature[..], &[0]].concat(),
        ),
        (
            "65 bytes, leading zero",
            [&[0][..], &signature[..]].concat(),
        ),
        (
            "128 bytes, zero-padded r and s",
            [&[0; 32][..], r, &[0; 32][..], s].concat(),
        ),
    ];
    for (what, bad) in cases {
        let error = refused(authenticate(&config, &with_signature(input, &bad)));
        assert_eq!(error, TokenError::BadSignature, "{what}");
    }
}

#[test]
fn high_s_es256_is_accepted_because_revocation_keys_on_claims() {
    // Policy (catalogue row 13): (r, n − s) is as valid as (r, s) (Wycheproof P1363 tcId 1 is
    // "valid"), and no low-S rule is documented, so both are accepted. That is safe because
    // nothing is keyed on token bytes: revocation decides from `sub`, `origin_jti`/`jti` and the
    // time of authentication, which the two variants share. (This snapshot has no revocation
    // module yet; the test pins the inputs any revocation rule takes.)
    let config = config();
    let token = es_access();
    let (input, signature) = split(&token);
    let (r, s) = signature.split_at(32);
    let flipped = [r, &sub_be(&P256_N, s)[..]].concat();
    let malleated = with_signature(input, &flipped);
    assert_ne!(token, malleated);

    let world = World::new();
    let original = accepted(world.authenticate(&config, &token));
    let variant = accepted(world.authenticate(&config, &malleated));
    let (a, b) = (original.claims(), variant.claims());
    assert_eq!(a.sub, b.sub);
    assert_eq!(a.jti, b.jti);
    assert_eq!(a.origin_jti, b.origin_jti);
    assert_eq!(a.authenticated_at_ms(), b.authenticated_at_ms());
    assert_eq!(a.iat, b.iat);
    assert_eq!(a.all, b.all);
    assert_eq!(original.pool_id(), variant.pool_id());
    // The gate answers the same body for both and writes nothing keyed by either token.
    let body = |t: &str| respond(world.gate(&config, t)).body;
    assert_eq!(body(&token), body(&malleated));
    assert_eq!(world.store.keys(), Vec::<String>::new());
}

// =======================================================================================
// Row 14: Ed25519

#[test]
fn malleable_or_malformed_ed25519_signatures_are_refused() {
    let config = config();
    let token = ed_access();
    accepted(authenticate(&config, &token));
    let (input, signature) = split(&token);
    let (r, s) = signature.split_at(32);
    let mut s_high_bit = s.to_vec();
    s_high_bit[31] |= 0x80;
    // y = p + 1 (p = 2^255 − 19): a non-canonical encoding of y = 1, the identity point.
    let mut noncanonical_r = [0xffu8; 32];
    noncanonical_r[0] = 0xee;
    noncanonical_r[31] = 0x7f;
    let cases: [(&str, Vec<u8>); 8] = [
        (
            "S + L (same scalar mod L)",
            [r, &add_le(s, &ED25519_L)[..]].concat(),
        ),
        ("S with the top bit set", [r, &s_high_bit[..]].concat()),
        ("S = L", [r, &ED25519_L[..]].concat()),
        ("non-canonical R", [&noncanonical_r[..], s].concat()),
        ("all zero", vec![0; 64]),
        ("trailing garbage", [&signature[..], b"garbage"].concat()),
        ("one byte short", signature[..63].to_vec()),
        ("R only", r.to_vec()),
    ];
    for (what, bad) in cases {
        let error = refused(authenticate(&config, &with_signature(input, &bad)));
        assert_eq!(error, TokenError::BadSignature, "{what}");
    }
}

// =======================================================================================
// Rows 15–16: RSA encodings and lengths

#[test]
fn lenient_pkcs1_v15_encodings_are_refused() {
    let config = config();
    let key = &keys().rsa;
    let payload = text(&access_claims(RS_POOL));
    let input = format!("{}.{}", b64(header("RS256", "rsa-access")), b64(&payload));
    let hash = Sha256::digest(input.as_bytes());
    let digest_info = [&SHA256_DIGEST_INFO[..], &hash[..]].concat();

    // Control: the raw private-key operation on the correct encoding is the RS256 signature.
    let good = rsa_raw_sign(key, &pkcs1_block(0x01, 0xff, &digest_info));
    assert_eq!(good, split(&rs_token(&payload)).1);
    accepted(authenticate(&config, &with_signature(&input, &good)));

    let mut long_form_outer = vec![0x30, 0x81, 0x31];
    long_form_outer.extend_from_slice(&SHA256_DIGEST_INFO[2..]);
    long_form_outer.extend_from_slice(&hash);
    let mut long_form_digest = SHA256_DIGEST_INFO[..17].to_vec();
    long_form_digest.extend_from_slice(&[0x04, 0x81, 0x20]);
    long_form_digest[1] = 0x32;
    long_form_digest.extend_from_slice(&hash);
    let mut missing_null = vec![0x30, 0x2f, 0x30, 0x0b];
    missing_null.extend_from_slice(&SHA256_DIGEST_INFO[4..15]);
    missing_null.extend_from_slice(&[0x04, 0x20]);
    missing_null.extend_from_slice(&hash);
    let garbage_after = [&digest_info[..], &[0x5a; 16]].concat();
    let mut wrong_oid = digest_info.clone();
    wrong_oid[14] = 0x03; // SHA-512's arc
    let other_hash = [
        &SHA256_DIGEST_INFO[..],
        &Sha256::digest(b"another message")[..],
    ]
    .concat();

    let cases: [(&str, Vec<u8>); 9] = [
        (
            "BER long-form SEQUENCE length",
            pkcs1_block(0x01, 0xff, &long_form_outer),
        ),
        (
            "BER long-form digest length",
            pkcs1_block(0x01, 0xff, &long_form_digest),
        ),
        (
            "missing NULL parameters",
            pkcs1_block(0x01, 0xff, &missing_null),
        ),
        (
            "garbage after DigestInfo",
            pkcs1_block(0x01, 0xff, &garbage_after),
        ),
        ("wrong hash OID", pkcs1_block(0x01, 0xff, &wrong_oid)),
        ("block type 02", pkcs1_block(0x02, 0xab, &digest_info)),
        ("padding of 0xfe", pkcs1_block(0x01, 0xfe, &digest_info)),
        ("padding of zeros", pkcs1_block(0x01, 0x00, &digest_info)),
        (
            "hash of another message",
            pkcs1_block(0x01, 0xff, &other_hash),
        ),
    ];
    for (what, em) in cases {
        let forged = rsa_raw_sign(key, &em);
        let error = refused(authenticate(&config, &with_signature(&input, &forged)));
        assert_eq!(error, TokenError::BadSignature, "{what}");
    }
}

#[test]
fn a_bleichenbacher_e3_forgery_is_refused() {
    // CVE-2006-4339 class: with e = 3 and a parser that stops after the hash, a cube root of
    // `00 01 FF 00 DigestInfo H garbage` passes without the private key.
    let config = config();
    let payload = text(&access_claims(E3_POOL));
    let head = header("RS256", "e3");
    accepted(authenticate(
        &config,
        &jws(&head, &payload, Signer::Rs256(&keys().rsa_e3)),
    ));

    let input = format!("{}.{}", b64(&head), b64(&payload));
    let hash = Sha256::digest(input.as_bytes());
    let prefix = [
        &[0x00, 0x01, 0xff, 0x00][..],
        &SHA256_DIGEST_INFO[..],
        &hash[..],
    ]
    .concat();
    let garbage_bits = (256 - prefix.len()) * 8;
    let target = BigUint::from_bytes_be(&prefix) << garbage_bits;
    let mut root = target.cbrt();
    if &root * &root * &root < target {
        root += BigUint::from(1u32);
    }
    let cube = (&root * &root * &root).to_bytes_be();
    let cube = left_pad(&cube, 256);
    assert_eq!(
        &cube[..prefix.len()],
        &prefix[..],
        "the forgery fools a prefix-only parser"
    );
    let forged = left_pad(&root.to_bytes_be(), 256);
    refused_as(
        authenticate(&config, &with_signature(&input, &forged)),
        TokenError::BadSignature,
    );
}

#[test]
fn rsa_and_hmac_signatures_of_the_wrong_length_are_refused() {
    let config = config();
    let rs = rs_access();
    accepted(authenticate(&config, &rs));
    let (input, signature) = split(&rs);
    assert_eq!(signature.len(), 256);
    // 257 bytes with a leading zero: the same integer, the wrong length (RFC 8017 §8.2.2).
    let leading_zero = [&[0][..], &signature[..]].concat();
    refused_as(
        authenticate(&config, &with_signature(input, &leading_zero)),
        TokenError::BadSignature,
    );
    refused_as(
        authenticate(&config, &with_signature(input, &signature[..255])),
        TokenError::BadSignature,
    );
    refused_as(
        authenticate(&config, &with_signature(input, &signature[1..])),
        TokenError::BadSignature,
    );

    let hs = hs_access();
    accepted(authenticate(&config, &hs));
    let (input, mac) = split(&hs);
    // HMAC-SHA256-128 (the Wycheproof tagSize 128 groups): truncated, so invalid for HS256.
    refused_as(
        authenticate(&config, &with_signature(input, &mac[..16])),
        TokenError::BadSignature,
    );
    let padded = [&[0][..], &mac[..]].concat();
    refused_as(
        authenticate(&config, &with_signature(input, &padded)),
        TokenError::BadSignature,
    );
}

/// Found by the differential fuzz target: `s + n` is `s` modulo `n`, and the rsa crate's PSS
/// path (unlike its PKCS#1 v1.5 one) did not refuse a representative at or above the modulus, so
/// every PS256 token had a second, equally accepted signature.
#[test]
fn a_pss_signature_plus_the_modulus_is_refused() {
    let config = config();
    let world = World::new();
    let payload = text(&access_claims(PS_POOL));
    let n = keys().rsa.to_public_key().n().clone();
    // PSS salts are random: sign until s + n still fits in the modulus's 256 bytes (about three
    // signatures in five do for this modulus).
    let (token, input, shifted) = (0..64)
        .find_map(|_| {
            let token = jws(
                &header("PS256", "ps-1"),
                &payload,
                Signer::Ps256(&keys().rsa),
            );
            let (input, signature) = split(&token);
            let shifted = (BigUint::from_bytes_be(&signature) + &n).to_bytes_be();
            (shifted.len() == signature.len()).then(|| (token.clone(), input.to_owned(), shifted))
        })
        .expect("a PSS signature s with s + n under 2^2048");
    accepted(world.authenticate(&config, &token));
    refused_as(
        world.authenticate(&config, &with_signature(&input, &shifted)),
        TokenError::BadSignature,
    );
}

// =======================================================================================
// Row 17: base64url strictness

#[test]
fn non_canonical_base64url_is_refused_even_when_signed_raw() {
    let config = config();
    let payload = text(&access_claims(RS_POOL));
    let head = header("RS256", "rsa-access");
    let rsa = Signer::Rs256(&keys().rsa);
    let hs_head = header("HS256", "hs-1");
    let hs = Signer::Hs256(&keys().hs);
    accepted(authenticate(&config, &jws(&head, &payload, rsa)));

    // The signature segment with its unused trailing bits set: 256 bytes leave 4 spare bits.
    let token = rs_access();
    let (input, signature) = split(&token);
    let sig_b64 = b64(&signature);
    let noncanonical = with_spare_bits(&sig_b64);
    assert_eq!(URL_SAFE_NO_PAD.decode(&noncanonical).ok(), None);
    refused_malformed(authenticate(&config, &format!("{input}.{noncanonical}")));
    // Padding, and the standard alphabet, in the signature.
    refused_malformed(authenticate(
        &config,
        &format!("{input}.{}", URL_SAFE.encode(&signature)),
    ));
    refused_malformed(authenticate(&config, &format!("{input}.{}=", sig_b64)));
    refused_malformed(authenticate(
        &config,
        &format!("{input}.{}", STANDARD_NO_PAD.encode(&signature)),
    ));

    // Header and payload segments that are malformed but signed exactly as sent, so only the
    // strict decoder can refuse them. The payloads are chosen so each malformation exists
    // (a length that needs padding, bytes whose standard encoding has `+` or `/`), and each
    // verifies when sent canonically.
    let h = b64(&head);
    let padded = payload_encoding_to(RS_POOL, |p| URL_SAFE.encode(p).ends_with('='));
    let plus_slash =
        payload_encoding_to(RS_POOL, |p| STANDARD_NO_PAD.encode(p).contains(['+', '/']));
    let p = b64(&padded);
    for payload in [&padded, &plus_slash] {
        accepted(authenticate(&config, &jws(&head, payload, rsa)));
    }
    let raw_inputs = [
        format!("{h}.{}", URL_SAFE.encode(&padded)),
        format!("{h}.{p}="),
        format!("{h}=.{p}"),
        format!("{h}.{}", STANDARD_NO_PAD.encode(&plus_slash)),
        format!("{h}.{}", with_spare_bits(&p)),
        format!("{}.{p}", with_spare_bits(&h)),
        format!("{h}.{} {}", &p[..20], &p[20..]),
        format!("{h}.{}#{}", &p[..20], &p[20..]),
        format!("{h}.{}?{}", &p[..20], &p[20..]),
        format!("{h}.{}\n{}", &p[..20], &p[20..]),
        format!("{h}.{p}%3D"),
    ];
    for raw in &raw_inputs {
        refused_malformed(authenticate(&config, &signed(raw, rsa)));
    }
    // Wycheproof's HS256 cases 365–375 have this shape: an HMAC over the raw malformed bytes.
    let hs_padded = payload_encoding_to(HS_POOL, |p| URL_SAFE.encode(p).ends_with('='));
    accepted(authenticate(&config, &jws(&hs_head, &hs_padded, hs)));
    let (hh, hp) = (b64(&hs_head), b64(&hs_padded));
    for raw in [
        format!("{hh}.{} {}", &hp[..10], &hp[10..]),
        format!("{hh}.{hp}="),
        format!("{hh}.{}", URL_SAFE.encode(&hs_padded)),
        format!("{hh}.{}?{}", &hp[..10], &hp[10..]),
        format!("{hh}.{}#{}", &hp[..10], &hp[10..]),
        format!("{hh}.{}", with_spare_bits(&hp)),
    ] {
        refused_malformed(authenticate(&config, &signed(&raw, hs)));
    }
}

/// Access claims for `pool`, with a filler claim grown until `wanted` holds for their text.
fn payload_encoding_to(pool: &str, wanted: impl Fn(&[u8]) -> bool) -> String {
    let mut claims = access_claims(pool);
    let mut filler = String::new();
    while !wanted(text(&claims).as_bytes()) {
        filler.push('?');
        claims.insert("filler".into(), json!(filler));
        assert!(filler.len() < 64, "no filler gives the wanted encoding");
    }
    text(&claims)
}

// =======================================================================================
// Row 18: whitespace inside the JSON

#[test]
fn whitespace_inside_header_json_is_accepted() {
    let config = config();
    let payload = text(&access_claims(RS_POOL));
    for head in [
        "{\r\n \"kid\" : \"rsa-access\",\r\n \"alg\" : \"RS256\"\r\n}",
        "\t{\"kid\":\t\"rsa-access\" , \"alg\":\"RS256\" }\n",
        " {\"typ\":\"JWT\",\r\n \"alg\":\"RS256\",\"kid\":\"rsa-access\"} ",
    ] {
        accepted(authenticate(
            &config,
            &jws(head, &payload, Signer::Rs256(&keys().rsa)),
        ));
    }
    // Pretty-printed claims too.
    let pretty = serde_json::to_string_pretty(&access_claims(RS_POOL)).unwrap();
    accepted(authenticate(&config, &rs_token(&pretty)));
}

#[test]
fn the_rfc_7515_examples_verify_over_their_exact_bytes_and_then_fail_their_claims() {
    // A.1 has CRLF in its header JSON; A.1–A.3 verify at the signature layer with the keys the
    // pools hold, then the full pipeline refuses them for their claims (iss "joe", exp 2011).
    let config = config();
    for (id, pool, alg) in [
        ("rfc7515-A.1", HS_POOL, Alg::Hs256),
        ("rfc7515-A.2", RSHS_POOL, Alg::Rs256),
        ("rfc7515-A.3", ES_POOL, Alg::Es256),
    ] {
        let jws = rfc_vector(id)["jws"].as_str().unwrap().to_owned();
        let token = UntrustedToken::parse(&jws).unwrap();
        token
            .verify_signature(inline_keys(&config, pool), AlgSet::only(alg), &RustCrypto)
            .unwrap_or_else(|err| panic!("{id}: {err}"));
        refused_as(authenticate(&config, &jws), TokenError::UnknownIssuer);
        // The same bytes with one payload character changed no longer verify.
        let (input, signature) = split(&jws);
        let at = input.find('.').unwrap() + 5;
        let swapped = if &input[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{swapped}{}", &input[..at], &input[at + 1..]);
        let tampered = with_signature(&tampered, &signature);
        let token = UntrustedToken::parse(&tampered).unwrap();
        let err =
            token.verify_signature(inline_keys(&config, pool), AlgSet::only(alg), &RustCrypto);
        assert_eq!(err.err(), Some(TokenError::BadSignature), "{id} tampered");
    }
}

// =======================================================================================
// Row 19: duplicate members

#[test]
fn duplicate_members_are_refused_not_resolved() {
    let config = config();
    let rsa = Signer::Rs256(&keys().rsa);
    let payload = text(&access_claims(RS_POOL));
    accepted(authenticate(&config, &rs_token(&payload)));
    for head in [
        r#"{"alg":"none","alg":"RS256","kid":"rsa-access"}"#,
        r#"{"alg":"RS256","alg":"HS256","kid":"rsa-access"}"#,
        r#"{"alg":"RS256","kid":"rsa-access","alg":"RS256"}"#,
        r#"{"alg":"RS256","kid":"attacker","kid":"rsa-access"}"#,
        r#"{"alg":"RS256","\u0061lg":"none","kid":"rsa-access"}"#,
        r#"{"alg":"RS256","kid":"rsa-access","x":{"y":1,"y":2}}"#,
    ] {
        refused_malformed(authenticate(&config, &jws(head, &payload, rsa)));
    }
    let sub = format!(r#""sub":"{SUB}""#);
    let client = r#""client_id":"client1""#;
    let iss = format!(r#""iss":"{}""#, issuer(RS_POOL));
    for doubled in [
        replace_once(&payload, &sub, &format!(r#""sub":"someone-else",{sub}"#)),
        replace_once(
            &payload,
            &sub,
            &format!(r#"{sub},"s\u0075b":"someone-else""#),
        ),
        replace_once(&payload, client, &format!(r#"{client},"client_id":"evil""#)),
        replace_once(
            &payload,
            &iss,
            &format!(r#"{iss},"iss":"{}""#, issuer(ES_POOL)),
        ),
        replace_once(
            &payload,
            r#""token_use":"access""#,
            r#""token_use":"id","token_use":"access""#,
        ),
        replace_once(
            &payload,
            &format!(r#""exp":{EXP}"#),
            &format!(r#""exp":{EXP},"exp":9999999999"#),
        ),
        replace_once(
            &payload,
            client,
            &format!(r#"{client},"custom":{{"a":1,"a":2}}"#),
        ),
        replace_once(
            &payload,
            client,
            &format!(r#"{client},"cognito:groups":[{{"g":1,"g":2}}]"#),
        ),
    ] {
        refused_malformed(authenticate(&config, &rs_token(&doubled)));
    }
}

// =======================================================================================
// Rows 20–23: NumericDates

#[test]
fn exp_of_the_wrong_type_is_refused_not_ignored() {
    // CVE-2026-25537: a wrong-typed exp read as absent, so never expiring.
    let config = config();
    accepted(authenticate(
        &config,
        &rs_token(&access_with(RS_POOL, "exp", json!(EXP))),
    ));
    for bad in [
        json!(EXP.to_string()),
        json!("never"),
        json!(null),
        json!(true),
        json!(false),
        json!([EXP]),
        json!({"$date": EXP}),
    ] {
        let token = rs_token(&access_with(RS_POOL, "exp", bad.clone()));
        assert_eq!(
            refused(authenticate(&config, &token)),
            TokenError::InvalidClaim("exp"),
            "exp {bad}"
        );
    }
}

#[test]
fn nbf_iat_and_auth_time_of_the_wrong_type_are_refused_not_ignored() {
    let config = config();
    accepted(authenticate(
        &config,
        &rs_token(&access_with(RS_POOL, "nbf", json!(IAT))),
    ));
    for name in ["nbf", "iat", "auth_time"] {
        for bad in [
            json!((NOW_S + 86_400).to_string()),
            json!("never"),
            json!(null),
            json!(false),
            json!([IAT]),
        ] {
            let token = rs_token(&access_with(RS_POOL, name, bad.clone()));
            assert_eq!(
                refused(authenticate(&config, &token)),
                TokenError::InvalidClaim(name),
                "{name} {bad}"
            );
        }
    }
}

#[test]
fn a_fractional_or_exponent_exp_is_accepted() {
    let config = config();
    let payload = text(&access_claims(RS_POOL));
    let exp = format!(r#""exp":{EXP}"#);
    for spelled in [
        format!("{EXP}.5"),
        format!("{EXP}.0"),
        "1.7500033e9".to_owned(),
        "1.7500033E+9".to_owned(),
        "17500033e2".to_owned(),
        "1e10".to_owned(),
    ] {
        let token = rs_token(&replace_once(
            &payload,
            &exp,
            &format!(r#""exp":{spelled}"#),
        ));
        let auth = accepted(authenticate(&config, &token));
        assert!(auth.claims().exp.as_millis() > NOW_MS, "{spelled}");
    }
    // Fractional nbf/iat in the past are fine; a fraction does not stretch a dead token.
    let token = rs_token(&access_with(RS_POOL, "nbf", json!(IAT as f64 + 0.25)));
    accepted(authenticate(&config, &token));
    let token = rs_token(&access_with(RS_POOL, "exp", json!(NOW_S as f64 - 0.5)));
    refused_as(authenticate(&config, &token), TokenError::Expired);
}

#[test]
fn huge_negative_or_overflowing_exp_is_refused_without_panicking() {
    let config = config();
    let payload = text(&access_claims(RS_POOL));
    let exp = format!(r#""exp":{EXP}"#);
    let spelled = |n: &str| rs_token(&replace_once(&payload, &exp, &format!(r#""exp":{n}"#)));
    // Not a number serde_json can hold: the payload is not JSON.
    for n in [
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        "0x7fffffff",
        "+1",
        "01750003300",
    ] {
        refused_malformed(authenticate(&config, &spelled(n)));
    }
    // Numbers, but impossible dates.
    for n in [
        "18446744073709551616",
        "18446744073709551615",
        "9223372036854775808",
        "-1",
        "-9223372036854775808",
        "100000000001",
        "1e300",
        "9007199254740993",
    ] {
        assert_eq!(
            refused(authenticate(&config, &spelled(n))),
            TokenError::InvalidClaim("exp"),
            "exp {n}"
        );
    }
    // Zero and negative zero are dates, long past.
    for n in ["0", "-0", "0.0"] {
        assert_eq!(
            refused(authenticate(&config, &spelled(n))),
            TokenError::Expired,
            "exp {n}"
        );
    }
}

#[test]
fn a_missing_exp_an_expired_token_or_a_future_nbf_is_refused() {
    let config = config();
    accepted(authenticate(
        &config,
        &rs_token(&access_with(RS_POOL, "exp", json!(NOW_S + 1))),
    ));
    accepted(authenticate(
        &config,
        &rs_token(&access_with(RS_POOL, "nbf", json!(NOW_S))),
    ));

    refused_as(
        authenticate(&config, &rs_token(&access_without(RS_POOL, "exp"))),
        TokenError::MissingClaim("exp"),
    );
    refused_as(
        authenticate(&config, &rs_token(&access_without(RS_POOL, "iat"))),
        TokenError::MissingClaim("iat"),
    );
    for exp in [NOW_S, NOW_S - 1, IAT, 1_300_819_380] {
        let token = rs_token(&access_with(RS_POOL, "exp", json!(exp)));
        assert_eq!(
            refused(authenticate(&config, &token)),
            TokenError::Expired,
            "exp {exp}"
        );
    }
    for nbf in [NOW_S + 1, EXP - 1] {
        let token = rs_token(&access_with(RS_POOL, "nbf", json!(nbf)));
        assert_eq!(
            refused(authenticate(&config, &token)),
            TokenError::NotYetValid,
            "nbf {nbf}"
        );
    }
    // Expired ID tokens say so in Cognito's words.
    let mut id = id_claims(RS_POOL);
    id.insert("exp".into(), json!(NOW_S - 1));
    let token = jws(
        &header("RS256", "rsa-id"),
        &text(&id),
        Signer::Rs256(&keys().bilbo),
    );
    let err = authenticate(&config, &token).unwrap_err();
    assert_eq!(err.wire(Surface::Gate).message, "ID Token has expired");
    assert_eq!(refused_kind(Err(err)), (TokenKind::Id, TokenError::Expired));
}

/// Before: a token whose `auth_time` was a day ahead survived every sign-out until then (the
/// rule is `auth_time ≤ revoked_at`), and one with a future `iat` was accepted.
#[test]
fn an_iat_or_auth_time_beyond_the_clock_skew_is_refused() {
    let config = config();
    let skew_s = edge_revoke::auth::MAX_CLOCK_SKEW_MS / 1000;
    assert_eq!(skew_s, 60);
    // Controls: at the edge of the skew, both are accepted (an issuer's clock may run fast).
    for name in ["iat", "auth_time"] {
        accepted(authenticate(
            &config,
            &rs_token(&access_with(RS_POOL, name, json!(NOW_S + skew_s))),
        ));
    }
    for (name, when) in [
        ("iat", json!(NOW_S + skew_s + 1)),
        ("iat", json!(NOW_S as f64 + skew_s as f64 + 0.5)),
        ("auth_time", json!(NOW_S + skew_s + 1)),
        ("auth_time", json!(NOW_S + 86_400)),
        ("auth_time", json!(99_999_999_999u64)),
    ] {
        assert_eq!(
            refused(authenticate(
                &config,
                &rs_token(&access_with(RS_POOL, name, when.clone()))
            )),
            TokenError::IssuedInFuture(if name == "iat" { "iat" } else { "auth_time" }),
            "{name} {when}"
        );
    }
    // ID tokens too, in their own words.
    let mut id = id_claims(RS_POOL);
    id.insert("auth_time".into(), json!(NOW_S + 86_400));
    let token = jws(
        &header("RS256", "rsa-id"),
        &text(&id),
        Signer::Rs256(&keys().bilbo),
    );
    assert_eq!(
        refused_kind(authenticate(&config, &token)),
        (TokenKind::Id, TokenError::IssuedInFuture("auth_time"))
    );
}

// =======================================================================================
// Rows 24–25: iss

#[test]
fn issuer_lookalikes_are_refused() {
    let config = config();
    accepted(authenticate(&config, &rs_access()));
    let iss = issuer(RS_POOL);
    let lookalikes = [
        format!("{iss}/"),
        format!("{iss} "),
        format!(" {iss}"),
        format!("{iss}\u{0}"),
        format!("{iss}\u{200b}"),
        iss.replacen("cognito", "\u{0441}ognito", 1), // Cyrillic es
        iss.replacen("amazonaws", "amazonavvs", 1),
        iss.to_uppercase(),
        iss.replacen("https://", "http://", 1),
        iss.replacen("us-east-1_AbC123", "us-east-1_abc123", 1),
        iss.replacen(
            "/us-east-1_AbC123",
            "/us-east-1_AbC123/../us-east-1_AbC123",
            1,
        ),
        iss.replacen("us-east-1.", "us-east-1.evil.", 1),
        issuer("us-east-1_Other9"),
        "https://cognito-idp.us-east-1.amazonaws.com".to_owned(),
        String::new(),
    ];
    for bad in lookalikes {
        let token = rs_token(&access_with(RS_POOL, "iss", json!(bad)));
        let error = refused(authenticate(&config, &token));
        assert!(
            matches!(
                error,
                TokenError::UnknownIssuer | TokenError::InvalidClaim("iss")
            ),
            "{bad:?}: {error:?}"
        );
    }
    // Not a string, or absent.
    for bad in [json!([iss]), json!({"iss": iss}), json!(null), json!(1)] {
        refused(authenticate(
            &config,
            &rs_token(&access_with(RS_POOL, "iss", bad)),
        ));
    }
    refused_as(
        authenticate(&config, &rs_token(&access_without(RS_POOL, "iss"))),
        TokenError::MissingClaim("iss"),
    );
}

#[test]
fn a_token_signed_for_one_pool_cannot_claim_another_configured_pool() {
    let config = config();
    let k = keys();
    // Signed by the Cognito-shaped pool's keys, claiming other pools.
    let for_pool = |pool: &str, kid: &str, key: &RsaPrivateKey| {
        jws(
            &header("RS256", kid),
            &text(&access_claims(pool)),
            Signer::Rs256(key),
        )
    };
    refused_as(
        authenticate(&config, &for_pool(ACCESS_ONLY_POOL, "rsa-access", &k.rsa)),
        TokenError::UnknownKey,
    );
    refused_as(
        authenticate(&config, &for_pool(ACCESS_ONLY_POOL, "rsa-id", &k.bilbo)),
        TokenError::UnknownKey,
    );
    refused_as(
        authenticate(&config, &for_pool(ES_POOL, "rsa-access", &k.rsa)),
        TokenError::AlgorithmNotAllowed,
    );
    refused_as(
        authenticate(&config, &for_pool(E3_POOL, "e3", &k.rsa)),
        TokenError::BadSignature,
    );
    // Control: the other pool's own key works.
    accepted(authenticate(
        &config,
        &for_pool(ACCESS_ONLY_POOL, "acc-1", &k.bilbo),
    ));
}

#[test]
fn an_iss_with_json_escapes_equal_to_the_pool_is_accepted() {
    let config = config();
    let payload = text(&access_claims(RS_POOL));
    let plain = format!(r#""iss":"{}""#, issuer(RS_POOL));
    for escaped in [
        // As real Cognito tokens write it.
        r#""iss":"https:\/\/cognito-idp.us-east-1.amazonaws.com\/us-east-1_AbC123""#,
        r#""iss":"https:\/\/\u0063ognito-idp.us-east-1.amazonaws.com\/us-east-1_AbC123""#,
        r#""\u0069ss":"\u0068ttps://cognito-idp.us-east-1.amazonaws.com/us-east-1_\u0041bC123""#,
    ] {
        let auth = accepted(authenticate(
            &config,
            &rs_token(&replace_once(&payload, &plain, escaped)),
        ));
        assert_eq!(auth.claims().iss, issuer(RS_POOL));
        assert_eq!(auth.pool_id(), RS_POOL);
    }
    // An escape that decodes to something else is something else.
    let other = r#""iss":"https:\/\/\u0441ognito-idp.us-east-1.amazonaws.com\/us-east-1_AbC123""#;
    refused_as(
        authenticate(&config, &rs_token(&replace_once(&payload, &plain, other))),
        TokenError::UnknownIssuer,
    );
}

// =======================================================================================
// Row 26: cross-token confusion

/// Before: the gate sent `x-edge-auth-client-id` from an ID token's unchecked `client_id`
/// claim, so a token issued to one app could name another to the origin.
#[test]
fn the_client_id_header_of_an_id_token_is_its_checked_aud_never_a_client_id_claim() {
    let config = config_with_origin();
    let world = World::new();
    let client_header = |token: &str| match world.gate(&config, token) {
        Outcome::Forward { identity, .. } => identity
            .into_iter()
            .find(|(name, _)| name == "x-edge-auth-client-id")
            .map(|(_, value)| value),
        other => panic!("expected a forward, got {other:?}"),
    };
    let mut id = id_claims(RS_POOL);
    id.insert("client_id".into(), json!("admin-console"));
    let token = jws(
        &header("RS256", "rsa-id"),
        &text(&id),
        Signer::Rs256(&keys().bilbo),
    );
    assert_eq!(client_header(&token).as_deref(), Some("client1"));
    // Controls: an ID token without the claim, and an access token's checked client_id.
    assert_eq!(client_header(&rs_id()).as_deref(), Some("client1"));
    assert_eq!(client_header(&rs_access()).as_deref(), Some("client1"));
}

#[test]
fn an_id_token_is_refused_where_an_access_token_is_expected() {
    let config = config();
    let world = World::new();
    accepted(world.authenticate_expecting(&config, &rs_access(), &Expect::ACCESS));
    accepted(world.authenticate(&config, &rs_id()));
    let (kind, error) =
        refused_kind(world.authenticate_expecting(&config, &rs_id(), &Expect::ACCESS));
    assert_eq!(
        (kind, error),
        (TokenKind::Access, TokenError::WrongTokenUse)
    );
    // At the gate of a pool that accepts access tokens only.
    let mut id = id_claims(ACCESS_ONLY_POOL);
    id.insert("aud".into(), json!("client1"));
    let token = jws(
        &header("RS256", "acc-1"),
        &text(&id),
        Signer::Rs256(&keys().bilbo),
    );
    let (kind, error) = refused_kind(world.authenticate(&config, &token));
    assert_eq!((kind, error), (TokenKind::Id, TokenError::WrongTokenUse));
    let access = jws(
        &header("RS256", "acc-1"),
        &text(&access_claims(ACCESS_ONLY_POOL)),
        Signer::Rs256(&keys().bilbo),
    );
    accepted(world.authenticate(&config, &access));
    // Kinds that are not kinds.
    for token_use in [
        json!("refresh"),
        json!("ID"),
        json!("Access"),
        json!(""),
        json!(["access"]),
        json!(null),
    ] {
        refused(world.authenticate(
            &config,
            &rs_token(&access_with(RS_POOL, "token_use", token_use)),
        ));
    }
    refused_as(
        world.authenticate(&config, &rs_token(&access_without(RS_POOL, "token_use"))),
        TokenError::MissingClaim("token_use"),
    );
}

#[test]
fn a_token_for_another_or_an_ambiguous_client_is_refused() {
    let config = config();
    let world = World::new();
    accepted(world.authenticate(
        &config,
        &rs_token(&access_with(RS_POOL, "client_id", json!("client2"))),
    ));
    let only_client1 = Expect {
        client_id: Some("client1"),
        ..Expect::default()
    };
    accepted(world.authenticate_expecting(&config, &rs_access(), &only_client1));

    let wrong = rs_token(&access_with(RS_POOL, "client_id", json!("evil-client")));
    refused_as(world.authenticate(&config, &wrong), TokenError::WrongClient);
    let other = rs_token(&access_with(RS_POOL, "client_id", json!("client2")));
    refused_as(
        world.authenticate_expecting(&config, &other, &only_client1),
        TokenError::WrongClient,
    );
    // CVE-2020-26160 shape: an array where a string belongs.
    for bad in [
        json!(["client1"]),
        json!(["client1", "evil"]),
        json!({"id": "client1"}),
        json!(null),
    ] {
        refused_as(
            world.authenticate(&config, &rs_token(&access_with(RS_POOL, "client_id", bad))),
            TokenError::InvalidClaim("client_id"),
        );
    }
    // An access token names its client in client_id, never in aud.
    let mut claims = access_claims(RS_POOL);
    claims.remove("client_id");
    claims.insert("aud".into(), json!("client1"));
    refused_as(
        world.authenticate(&config, &rs_token(&text(&claims))),
        TokenError::MissingClaim("client_id"),
    );

    // ID tokens name it in aud.
    let id_token = |claims: &Map<String, Value>| {
        jws(
            &header("RS256", "rsa-id"),
            &text(claims),
            Signer::Rs256(&keys().bilbo),
        )
    };
    let mut claims = id_claims(RS_POOL);
    claims.insert("aud".into(), json!("evil-client"));
    claims.insert("client_id".into(), json!("client1"));
    refused_as(
        world.authenticate(&config, &id_token(&claims)),
        TokenError::WrongClient,
    );
    for bad in [json!(["client1"]), json!(["client1", "evil"])] {
        claims.insert("aud".into(), bad);
        refused_as(
            world.authenticate(&config, &id_token(&claims)),
            TokenError::InvalidClaim("aud"),
        );
    }
    claims.remove("aud");
    refused_as(
        world.authenticate(&config, &id_token(&claims)),
        TokenError::MissingClaim("aud"),
    );
}

// =======================================================================================
// Row 27: Unicode usernames

#[test]
fn unicode_usernames_keep_their_exact_bytes() {
    // NFC "José" and NFD "José" are different strings; the claims and the identity headers keep
    // the bytes the token carried. (Revocation keys spell both alike: `src/identity.rs`.)
    let nfc = "Jos\u{e9}";
    let nfd = "Jose\u{301}";
    assert_ne!(nfc.as_bytes(), nfd.as_bytes());
    let config = config_with_origin();
    let world = World::new();
    let mut identities = Vec::new();
    for name in [nfc, nfd] {
        let token = rs_token(&access_with(RS_POOL, "username", json!(name)));
        let auth = accepted(world.authenticate(&config, &token));
        assert_eq!(
            auth.claims().username.as_deref().map(str::as_bytes),
            Some(name.as_bytes())
        );
        assert_eq!(auth.claims().all["username"], json!(name));
        assert_eq!(auth.claims().sub, SUB);
        match world.gate(&config, &token) {
            Outcome::Forward { identity, .. } => identities.push(identity),
            other => panic!("expected a forward, got {other:?}"),
        }
        // ID tokens carry it as cognito:username.
        let mut id = id_claims(RS_POOL);
        id.insert("cognito:username".into(), json!(name));
        let token = jws(
            &header("RS256", "rsa-id"),
            &text(&id),
            Signer::Rs256(&keys().bilbo),
        );
        let auth = accepted(world.authenticate(&config, &token));
        assert_eq!(auth.claims().username.as_deref(), Some(name));
    }
    let header_value = |identity: &[(String, String)], name: &str| {
        identity
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header_value(&identities[0], "x-edge-auth-username").as_deref(),
        Some("Jos%C3%A9")
    );
    assert_eq!(
        header_value(&identities[1], "x-edge-auth-username").as_deref(),
        Some("Jose%CC%81")
    );
    assert_eq!(
        header_value(&identities[0], "x-edge-auth-sub"),
        header_value(&identities[1], "x-edge-auth-sub")
    );
}

// =======================================================================================
// Rows 28–30: size, dots, nesting

#[test]
fn a_megabyte_token_or_a_64_kib_kid_is_refused_before_json_or_crypto() {
    let config = config();
    let counting = CountingVerifier::default();
    let world = World::verifying_with(&counting);
    let big_claim = access_with(RS_POOL, "padding", json!("x".repeat(1 << 20)));
    let megabyte = rs_token(&big_claim);
    refused_as(world.authenticate(&config, &megabyte), TokenError::TooLarge);
    let head = json!({"kid": "k".repeat(64 * 1024), "alg": "RS256"}).to_string();
    let big_kid = jws(
        &head,
        &text(&access_claims(RS_POOL)),
        Signer::Rs256(&keys().rsa),
    );
    refused_as(world.authenticate(&config, &big_kid), TokenError::TooLarge);
    // Garbage of the same size is refused the same way, without being decoded.
    refused_as(
        world.authenticate(&config, &"\u{fffd}".repeat(1 << 18)),
        TokenError::TooLarge,
    );
    assert_eq!(counting.calls.get(), 0);
    let response = respond(world.gate(&config, &megabyte));
    assert_eq!(response.status, 401);
}

#[test]
fn the_size_cap_admits_a_token_of_exactly_the_cap() {
    // Boundary control for row 28: the cap refuses only what is over it.
    let config = config();
    let build = |spaces: usize, filler: usize| {
        let head = format!(
            "{{{}\"kid\":\"rsa-access\",\"alg\":\"RS256\"}}",
            " ".repeat(spaces)
        );
        jws(
            &head,
            &access_with(RS_POOL, "padding", json!("x".repeat(filler))),
            Signer::Rs256(&keys().rsa),
        )
    };
    let base = build(0, 0).len();
    let target = MAX_TOKEN_BYTES;
    let mut exact = None;
    'search: for spaces in 0..3 {
        let approx = (target - base) * 3 / 4;
        for filler in approx.saturating_sub(8)..approx + 8 {
            let token = build(spaces, filler);
            if token.len() == target {
                exact = Some((spaces, filler));
                break 'search;
            }
        }
    }
    let (spaces, filler) = exact.expect("a token of exactly the cap");
    accepted(authenticate(&config, &build(spaces, filler)));
    let over = build(spaces, filler + 1);
    assert!(over.len() > target);
    refused_as(authenticate(&config, &over), TokenError::TooLarge);
}

/// Counts this thread's heap allocations, to show refusals do not allocate per dot.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

fn note_allocation(bytes: usize) {
    let _ = ALLOCATIONS.try_with(|count| {
        let (n, total) = count.get();
        count.set((n + 1, total + bytes));
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only a
// const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations (count, bytes) made on this thread by `f`.
fn allocations<T>(f: impl FnOnce() -> T) -> ((usize, usize), T) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    let after = ALLOCATIONS.with(Cell::get);
    ((after.0 - before.0, after.1 - before.1), out)
}

#[test]
fn twenty_thousand_dots_are_refused_without_panicking() {
    let config = config();
    let world = World::new();
    accepted(world.authenticate(&config, &rs_access()));
    refused_as(
        world.authenticate(&config, &".".repeat(20_000)),
        TokenError::TooLarge,
    );
    let response = respond(world.gate(&config, &".".repeat(20_000)));
    assert_eq!(response.status, 401);
    // Under the size cap, the segment count refuses them.
    refused_malformed(world.authenticate(&config, &".".repeat(MAX_TOKEN_BYTES)));
    refused_malformed(
        world.authenticate(&config, &format!("{}{}", rs_access(), ".".repeat(10_000))),
    );
    refused_malformed(world.authenticate(&config, &"a.".repeat(MAX_TOKEN_BYTES / 2)));

    // O(1) allocations: refusing 16 384 dots costs what refusing 16 costs (golang-jwt
    // CVE-2025-30204 allocated per dot).
    let (probe, _) = allocations(|| vec![0u8; 100]);
    assert_eq!(probe, (1, 100), "the counting allocator is installed");
    let few = ".".repeat(16);
    let many = ".".repeat(MAX_TOKEN_BYTES);
    let (small, _) = allocations(|| world.authenticate(&config, &few).is_err());
    let (large, _) = allocations(|| world.authenticate(&config, &many).is_err());
    assert_eq!(
        small.0, large.0,
        "allocation count grows with dots: {small:?} vs {large:?}"
    );
    assert!(
        large.1 <= small.1 + 64,
        "allocated bytes grow with dots: {small:?} vs {large:?}"
    );
    let (parse, _) = allocations(|| UntrustedToken::parse(&many).is_err());
    assert!(parse.1 < 1024, "{parse:?}");
}

/// A signed access token whose `nest` claim is `depth` levels of `open … core … close`.
fn nested_token(open: &str, core: &str, close: &str, depth: usize) -> String {
    let mut claims = text(&access_claims(RS_POOL));
    claims.pop();
    let nested = format!("{}{core}{}", open.repeat(depth), close.repeat(depth));
    rs_token(&format!(r#"{claims},"nest":{nested}}}"#))
}

#[test]
fn a_deeply_nested_claim_is_refused_without_overflow() {
    // Run on a 1 MiB stack, the size of a Workers isolate's, so unbounded recursion would show.
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            let config = config();
            accepted(authenticate(&config, &nested_token("[", "", "]", 64)));
            accepted(authenticate(
                &config,
                &nested_token(r#"{"a":"#, "1", "}", 64),
            ));
            let arrays = nested_token("[", "", "]", 5000);
            assert!(
                arrays.len() <= MAX_TOKEN_BYTES,
                "under the cap, so JSON parsing is reached"
            );
            refused_malformed(authenticate(&config, &arrays));
            refused_malformed(authenticate(
                &config,
                &nested_token(r#"{"a":"#, "1", "}", 1500),
            ));
            refused_malformed(authenticate(&config, &nested_token("[", "", "]", 200)));
            // In the header too.
            let head = format!(
                r#"{{"kid":"rsa-access","alg":"RS256","x":{}{}}}"#,
                "[".repeat(5000),
                "]".repeat(5000)
            );
            let token = jws(
                &head,
                &text(&access_claims(RS_POOL)),
                Signer::Rs256(&keys().rsa),
            );
            refused_malformed(authenticate(&config, &token));
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
}

// =======================================================================================
// Row 31: not an object, not UTF-8

#[test]
fn a_header_or_payload_that_is_not_a_json_object_is_refused() {
    let config = config();
    let rsa = Signer::Rs256(&keys().rsa);
    let head = header("RS256", "rsa-access");
    let payload = text(&access_claims(RS_POOL));
    accepted(authenticate(&config, &jws(&head, &payload, rsa)));
    let not_objects: [&[u8]; 11] = [
        b"[]",
        b"\"RS256\"",
        b"1",
        b"null",
        b"true",
        b"",
        b"{",
        b"\xef\xbb\xbf{}",
        b"{\"a\":\"\xff\"}",
        b"{\"a\":\"\xc0\xaf\"}",
        b"{} {}",
    ];
    for bad in not_objects {
        refused_malformed(authenticate(&config, &jws_bytes(head.as_bytes(), bad, rsa)));
        refused_malformed(authenticate(
            &config,
            &jws_bytes(bad, payload.as_bytes(), rsa),
        ));
    }
    // Valid objects with invalid text inside.
    let sub = format!(r#""sub":"{SUB}""#);
    for bad in [
        replace_once(&payload, &sub, r#""sub":"\ud800""#),
        replace_once(&payload, &sub, "\"sub\":\"a\u{0}\""),
        replace_once(&payload, &sub, "\"sub\":\"a\nb\""),
        format!("{payload} x"),
    ] {
        refused_malformed(authenticate(&config, &rs_token(&bad)));
    }
    let mut bytes = payload.clone().into_bytes();
    let at = payload.find(SUB).unwrap();
    bytes[at] = 0xff;
    refused_malformed(authenticate(
        &config,
        &jws_bytes(head.as_bytes(), &bytes, rsa),
    ));
    // The claims the pipeline needs, absent or empty.
    for name in ["sub", "iss", "token_use", "exp", "iat"] {
        refused(authenticate(
            &config,
            &rs_token(&access_without(RS_POOL, name)),
        ));
    }
    refused_as(
        authenticate(&config, &rs_token(&access_with(RS_POOL, "sub", json!("")))),
        TokenError::InvalidClaim("sub"),
    );
}

// =======================================================================================
// Row 32: weak and odd keys

#[track_caller]
fn refused_at_load(jwks: Value, algorithms: &[&str]) -> String {
    let pools = json!([{
        "id": RS_POOL,
        "jwks": jwks,
        "algorithms": algorithms,
        "clients": [{"id": "client1"}],
    }]);
    let err = Config::from_env(&vars(pools)).expect_err("weak key set accepted");
    assert_eq!(err.field, "POOLS[0].jwks", "{err}");
    err.problem
}

#[track_caller]
fn loads(jwks: Value, algorithms: &[&str]) {
    let pools = json!([{
        "id": RS_POOL,
        "jwks": jwks,
        "algorithms": algorithms,
        "clients": [{"id": "client1"}],
    }]);
    Config::from_env(&vars(pools)).unwrap_or_else(|err| panic!("{err}"));
}

#[test]
fn weak_keys_in_a_configured_jwks_are_refused_at_load() {
    let k = keys();
    let one = |key: Value| json!({"keys": [key]});
    // Controls: the same shapes with sound keys load.
    loads(
        one(with(
            &k.rsa_jwk,
            json!({"kid": "a", "alg": "RS256", "use": "sig"}),
        )),
        &["RS256"],
    );
    loads(
        one(with(&k.hs_jwk, json!({"kid": "h", "alg": "HS256"}))),
        &["HS256"],
    );
    loads(wycheproof_jwk_case(2), &["HS256"]);
    loads(wycheproof_jwk_case(5), &["RS256"]);
    loads(wycheproof_jwk_case(13), &["HS256"]);
    loads(one(with(&k.rsa_e3_jwk, json!({"kid": "e3"}))), &["RS256"]);

    let short_hs = json!({"kty": "oct", "kid": "h", "alg": "HS256", "k": b64([7u8; 31])});
    let cases: Vec<(&str, Value, &[&str])> = vec![
        ("HS256 secret of 31 bytes", one(short_hs), &["HS256"]),
        (
            "Wycheproof 10: HS256 secret of 31 bytes",
            wycheproof_jwk_case(10),
            &["HS256"],
        ),
        (
            "Wycheproof 16: empty HS256 secret",
            wycheproof_jwk_case(16),
            &["HS256"],
        ),
        ("Wycheproof 8: RSA 1024", wycheproof_jwk_case(8), &["RS256"]),
        ("RSA 1024, no alg", one(k.rsa_1024_jwk.clone()), &["RS256"]),
        ("Wycheproof 9: e = 1", wycheproof_jwk_case(9), &["RS256"]),
        (
            "e = 2",
            one(with(&k.rsa_jwk, json!({"e": "Ag"}))),
            &["RS256"],
        ),
        (
            "Wycheproof 7: ROCA-flagged key (2049-bit modulus)",
            wycheproof_jwk_case(7),
            &["RS256"],
        ),
        (
            "Wycheproof 1: mixed symmetric and asymmetric",
            wycheproof_jwk_case(1),
            &["HS256", "ES256"],
        ),
        (
            "Wycheproof 4: duplicate kid",
            wycheproof_jwk_case(4),
            &["HS256"],
        ),
        (
            "duplicate kid, RSA",
            json!({"keys": [with(&k.rsa_jwk, json!({"kid": "a"})), with(&k.bilbo_jwk, json!({"kid": "a"}))]}),
            &["RS256"],
        ),
        ("Wycheproof 6: use enc", wycheproof_jwk_case(6), &["RS256"]),
        (
            "Wycheproof 21: use enc, EC",
            wycheproof_jwk_case(21),
            &["ES256"],
        ),
        (
            "key_ops without verify",
            one(with(&k.rsa_jwk, json!({"key_ops": ["encrypt"]}))),
            &["RS256"],
        ),
        (
            "Wycheproof 19: alg ES521",
            wycheproof_jwk_case(19),
            &["ES256"],
        ),
        (
            "Wycheproof 20: alg ES224",
            wycheproof_jwk_case(20),
            &["ES256"],
        ),
        (
            "Wycheproof 22: point off the curve",
            wycheproof_jwk_case(22),
            &["ES256"],
        ),
        (
            "Wycheproof 23: wrong curve",
            wycheproof_jwk_case(23),
            &["ES256"],
        ),
        (
            "Wycheproof 24: wrong kty",
            wycheproof_jwk_case(24),
            &["ES256"],
        ),
        (
            "Wycheproof 25: AES-GCM key",
            wycheproof_jwk_case(25),
            &["HS256"],
        ),
        (
            "Wycheproof 26: AES-KW key",
            wycheproof_jwk_case(26),
            &["HS256"],
        ),
        (
            "private RSA key in a public set",
            one(read_json("jose-cookbook/jwk_3_4.rsa_private_key.json")),
            &["RS256"],
        ),
        (
            "RSA key bound to HS256",
            one(with(&k.rsa_jwk, json!({"alg": "HS256"}))),
            &["RS256", "HS256"],
        ),
        (
            "HMAC key in an RS256 pool",
            one(k.hs_jwk.clone()),
            &["RS256"],
        ),
        (
            "alg none on a key",
            one(with(&k.rsa_jwk, json!({"alg": "none"}))),
            &["RS256"],
        ),
        ("empty set", json!({"keys": []}), &["RS256"]),
    ];
    for (what, jwks, algorithms) in cases {
        let pools = json!([{"id": RS_POOL, "jwks": jwks, "algorithms": algorithms, "clients": [{"id": "client1"}]}]);
        match Config::from_env(&vars(pools)) {
            Ok(_) => panic!("{what}: accepted"),
            Err(err) => assert_eq!(err.field, "POOLS[0].jwks", "{what}: {err}"),
        }
    }
    // And the message names the problem, never the key.
    let problem = refused_at_load(
        one(json!({"kty": "oct", "kid": "h", "alg": "HS256", "k": b64(b"shortsecret")})),
        &["HS256"],
    );
    assert!(!problem.contains(&b64(b"shortsecret")), "{problem}");
}

/// The primes of the ROCA fingerprint (Nemec et al., CCS 2017; crocs-muni/roca `detect.py`).
const ROCA_PRIMES: [u32; 38] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

/// Whether `n mod p` lies in the subgroup generated by 65537 for every fingerprint prime: the
/// test that flags moduli made of Infineon RSALib primes.
fn roca_fingerprint(n: &BigUint) -> bool {
    ROCA_PRIMES.iter().all(|&p| {
        let residue = n
            .to_bytes_be()
            .iter()
            .fold(0u32, |r, b| (r * 256 + u32::from(*b)) % p);
        let mut power = 1u32;
        loop {
            if power == residue {
                return true;
            }
            power = power * (65_537 % p) % p;
            if power == 1 {
                return false;
            }
        }
    })
}

fn jwk_modulus(jwk: &Value) -> BigUint {
    BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap())
}

#[test]
fn a_roca_fingerprinted_2048_bit_key_is_refused_at_load() {
    // The fingerprint flags Wycheproof's ROCA key and not RFC 7515 A.2's.
    let wycheproof_roca = &wycheproof_jwk_case(7)["keys"][0];
    assert!(roca_fingerprint(&jwk_modulus(wycheproof_roca)));
    assert_eq!(jwk_modulus(wycheproof_roca).bits(), 2049);
    assert!(!roca_fingerprint(&jwk_modulus(&keys().rsa_jwk)));
    // A 2048-bit odd modulus ≡ 65537² (mod every fingerprint prime), as the product of two
    // RSALib primes 65537^a and 65537^b would be.
    let m = ROCA_PRIMES
        .iter()
        .fold(BigUint::from(1u32), |m, p| m * BigUint::from(*p));
    let residue = BigUint::from(65_537u32).modpow(&BigUint::from(2u32), &m);
    let low = BigUint::from(1u32) << 2047;
    let mut n = (&low - &residue) / &m * &m + &residue;
    while n < low || n.to_bytes_be().last().unwrap() % 2 == 0 {
        n += &m;
    }
    assert_eq!(n.bits(), 2048);
    assert!(roca_fingerprint(&n));
    let jwk = json!({"kty": "RSA", "kid": "roca", "alg": "RS256", "use": "sig", "n": b64(n.to_bytes_be()), "e": "AQAB"});
    refused_at_load(json!({"keys": [jwk]}), &["RS256"]);
}

#[test]
fn weak_keys_in_a_fetched_jwks_are_skipped_so_their_tokens_are_unknown() {
    let k = keys();
    let jwks = json!({"keys": [
        with(&k.rsa_1024_jwk, json!({"kid": "weak", "alg": "RS256"})),
        with(&k.rsa_jwk, json!({"kid": "enc", "alg": "RS256", "use": "enc"})),
        with(&k.rsa_jwk, json!({"kid": "good", "alg": "RS256", "use": "sig"})),
    ]});
    let fetcher = RecordingFetcher::serving(jwks);
    let world = World::fetching(&fetcher);
    let config = remote_config();
    let payload = text(&access_claims(REMOTE_POOL));
    accepted(world.authenticate(
        &config,
        &jws(&header("RS256", "good"), &payload, Signer::Rs256(&k.rsa)),
    ));
    let weak = jws(
        &header("RS256", "weak"),
        &payload,
        Signer::Rs256(&k.rsa_1024),
    );
    refused_as(world.authenticate(&config, &weak), TokenError::UnknownKey);
    let enc = jws(&header("RS256", "enc"), &payload, Signer::Rs256(&k.rsa));
    refused_as(world.authenticate(&config, &enc), TokenError::UnknownKey);
}

// =======================================================================================
// The gate, end to end

#[test]
fn the_gate_answers_401_invalid_token_for_attacks() {
    let config = config();
    let world = World::new();
    let payload = text(&access_claims(RS_POOL));
    let legit = rs_access();
    let (input, _) = split(&legit);
    let spki = RsaPublicKey::from(&keys().rsa).to_public_key_der().unwrap();
    let attacks = [
        (
            "alg none",
            format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(&payload)),
        ),
        (
            "HS256 with the PEM",
            jws(
                &header("HS256", "rsa-access"),
                &payload,
                Signer::Hs256(pem("PUBLIC KEY", spki.as_bytes()).as_bytes()),
            ),
        ),
        (
            "jku",
            jws(
                r#"{"alg":"RS256","kid":"rsa-access","jku":"https://attacker.example.com/k"}"#,
                &payload,
                Signer::Rs256(&keys().attacker_rsa),
            ),
        ),
        (
            "crit",
            jws(
                r#"{"alg":"RS256","kid":"rsa-access","crit":["exp"]}"#,
                &payload,
                Signer::Rs256(&keys().rsa),
            ),
        ),
        ("stripped signature", input.to_owned()),
        (
            "expired",
            rs_token(&access_with(RS_POOL, "exp", json!(NOW_S - 1))),
        ),
        (
            "string exp",
            rs_token(&access_with(RS_POOL, "exp", json!("never"))),
        ),
        (
            "wrong client",
            rs_token(&access_with(RS_POOL, "client_id", json!("evil"))),
        ),
        ("20,000 dots", ".".repeat(20_000)),
        ("deep nesting", nested_token("[", "", "]", 5000)),
    ];
    for (what, token) in attacks {
        let body = assert_gate_refuses(world.gate(&config, &token));
        assert!(body.get("sub").is_none(), "{what}: no claims in a refusal");
    }
    // An expired token is told so.
    let body = assert_gate_refuses(world.gate(
        &config,
        &rs_token(&access_with(RS_POOL, "exp", json!(NOW_S - 1))),
    ));
    assert_eq!(body["message"], "Access Token has expired");
    // An ID token's refusal speaks of ID tokens.
    let mut id = id_claims(RS_POOL);
    id.insert("aud".into(), json!("evil"));
    let token = jws(
        &header("RS256", "rsa-id"),
        &text(&id),
        Signer::Rs256(&keys().bilbo),
    );
    let body = assert_gate_refuses(world.gate(&config, &token));
    assert_eq!(body["message"], "Invalid ID Token");
}

#[test]
fn the_gate_answers_200_with_the_claims_for_a_valid_token() {
    let config = config();
    let world = World::new();
    for (token, claims) in [
        (rs_access(), access_claims(RS_POOL)),
        (rs_id(), id_claims(RS_POOL)),
        (es_access(), access_claims(ES_POOL)),
        (ed_access(), access_claims(ED_POOL)),
        (hs_access(), access_claims(HS_POOL)),
    ] {
        let response = respond(world.gate(&config, &token));
        assert_eq!(
            response.status,
            200,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body, Value::Object(claims));
    }
}

#[test]
fn candidate_verify_with_the_pool_keys_agrees_with_the_app() {
    // The lower-level API the Worker's gate is built on, for the same pipeline.
    let config = config();
    let keyset = inline_keys(&config, RS_POOL);
    let verify = |token: &str| {
        Candidate::parse(token, &config, &Expect::default())
            .and_then(|c| c.verify(keyset, &RustCrypto, &Expect::default(), NOW_MS))
    };
    assert_eq!(accepted(verify(&rs_access())).claims().sub, SUB);
    let payload = text(&access_claims(RS_POOL));
    refused_as(
        verify(&format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(&payload))),
        TokenError::Malformed("empty signature"),
    );
    refused_as(
        verify(&jws(
            &header("HS256", "rsa-access"),
            &payload,
            Signer::Hs256(b""),
        )),
        TokenError::AlgorithmNotAllowed,
    );
    refused_as(
        verify(&rs_token(&access_with(RS_POOL, "exp", json!("2000000000")))),
        TokenError::InvalidClaim("exp"),
    );
}

// =======================================================================================
// Never a panic, never anything but 401

#[test]
fn no_single_character_mutation_of_a_valid_token_panics_or_answers_other_than_401() {
    let config = config();
    let world = World::new();
    for token in [rs_access(), es_access(), ed_access(), hs_access(), rs_id()] {
        accepted(world.authenticate(&config, &token));
        let bytes = token.as_bytes();
        let mut mutants = Vec::new();
        for i in 0..bytes.len() {
            for replacement in [b'.', b'=', b'+', b' ', b'A', b'_'] {
                if bytes[i] != replacement {
                    let mut m = bytes.to_vec();
                    m[i] = replacement;
                    mutants.push(String::from_utf8(m).unwrap());
                }
            }
            mutants.push(token[..i].to_owned());
        }
        for mutant in mutants {
            let result = catch_unwind(AssertUnwindSafe(|| world.authenticate(&config, &mutant)));
            let result = result.unwrap_or_else(|_| panic!("panicked on {mutant}"));
            refused(result);
        }
    }
}

// =======================================================================================
// The public vectors the catalogue cites (rows 3, 5, 9–17, 32)

fn hex_bytes(text: &Value) -> Vec<u8> {
    hex::decode(text.as_str().unwrap()).unwrap()
}

#[test]
fn wycheproof_signature_primitives_agree_with_their_labels() {
    // Rows 11–16 (and PS256 for row 3) on Wycheproof's primitive suites, through the crate's
    // own key loader and signature backend: P1363 r/s edge cases and high-S (valid), Ed25519
    // malleability and encodings, PKCS#1 v1.5 padding forgeries. "acceptable" (RS256 tcId 8,
    // missing NULL) is held to the catalogue's preference: refused.
    let mut mismatches = Vec::new();
    let mut counted = 0;
    for (file, member, alg) in [
        ("rsa_signature_2048_sha256_test.json", "keyJwk", Alg::Rs256),
        (
            "ecdsa_secp256r1_sha256_p1363_test.json",
            "publicKeyJwk",
            Alg::Es256,
        ),
        ("ed25519_test.json", "publicKeyJwk", Alg::EdDsa),
        (
            "rsa_pss_2048_sha256_mgf1_32_test.json",
            "publicKeyJwk",
            Alg::Ps256,
        ),
    ] {
        let suite = read_json(&format!("wycheproof/{file}"));
        for group in suite["testGroups"].as_array().unwrap() {
            let jwk = match group.get(member) {
                Some(Value::Object(jwk)) => jwk.clone(),
                // Nine P-256 groups carry only the coordinates.
                _ => {
                    let coordinate = |name: &str| {
                        let bytes = hex_bytes(&group["publicKey"][name]);
                        let bytes: Vec<u8> =
                            bytes.iter().copied().skip_while(|b| *b == 0).collect();
                        b64(left_pad(&bytes, 32))
                    };
                    let jwk = json!({"kty": "EC", "crv": "P-256", "x": coordinate("wx"), "y": coordinate("wy")});
                    jwk.as_object().unwrap().clone()
                }
            };
            let key = parse_key(&jwk, AlgSet::only(alg));
            for test in group["tests"].as_array().unwrap() {
                counted += 1;
                let verified = match &key {
                    Ok(key) => {
                        RustCrypto.verify(key, &hex_bytes(&test["msg"]), &hex_bytes(&test["sig"]))
                    }
                    Err(_) => false,
                };
                if verified != (test["result"] == "valid") {
                    mismatches.push(format!(
                        "{file} tcId {} ({}, {}): verified {verified}, key {:?}",
                        test["tcId"],
                        test["result"],
                        test["comment"],
                        key.as_ref().err()
                    ));
                }
            }
        }
    }
    assert_eq!(counted, 259 + 262 + 151 + 108);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn wycheproof_jws_vectors_fail_closed_at_the_signature_layer() {
    // ../shared/vectors/README.md §2.3: run through the JWS-signature layer with the group key;
    // `valid` must verify there, `invalid` must fail at both layers.
    let config = config();
    let suite = read_json("wycheproof/json_web_signature_test.json");
    let mut all = AlgSet::empty();
    for alg in Alg::ALL {
        all.insert(alg);
    }
    let mut mismatches = Vec::new();
    for group in suite["testGroups"].as_array().unwrap() {
        let jwk = if group["public"].is_object() {
            &group["public"]
        } else {
            &group["private"]
        };
        let set = json!({"keys": [jwk]});
        let keys = KeySet::parse(&set, all, BadKeys::Refuse, &mut Vec::new());
        for test in group["tests"].as_array().unwrap() {
            let id = test["tcId"].as_u64().unwrap();
            let jws = test["jws"].as_str().unwrap();
            let verified = match &keys {
                Ok(keys) => UntrustedToken::parse(jws)
                    .and_then(|t| t.verify_signature(keys, all, &RustCrypto).map(|_| ()))
                    .map_err(|err| err.to_string()),
                Err(err) => Err(format!("key refused at load: {err}")),
            };
            // Whatever the signature layer says, the payloads are not Cognito claims, so the
            // full pipeline refuses every one with a 401.
            refused(authenticate(&config, jws));
            let expected = match id {
                // ../shared/vectors/README.md §2.4 errata: 367 and 370 are byte-identical to
                // the valid 357; 372 and 373 carry a `?` inside a segment.
                367 | 370 => true,
                372 | 373 => false,
                // RFC 7520 Figure 20 is PS384 but Wycheproof gave its key `alg: PS256`: by
                // the rule of tcIds 331–340 (and row 3) the key's algorithm wins, so refused.
                346 | 350 => false,
                // RFC 7520 Figure 27 is ES512 (P-521), outside what this verifier implements.
                347 | 351 => false,
                _ => test["result"] == "valid",
            };
            if verified.is_ok() != expected {
                mismatches.push(format!(
                    "tcId {id} ({}, {}): {:?}",
                    test["result"], test["comment"], verified
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
