//! Shared Signals receiver core, as a transmitter would drive it: every case of
//! `../shared/vectors/ssf/` signed with keys generated here, then the hostile inputs, each beside
//! a legitimate control that must pass.
//!
//! The pipeline runs as the Worker will run it (see `edge_revoke::ssf`): admit the push, parse
//! the SET, verify its signature with the transmitter's keys, check its claims, map its events
//! to actions, check a verification `state`, then apply the actions to a store that keeps the
//! later time per key (the revocation store's rule) and to a fake directory for aliases.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use edge_revoke::{
    auth::{Candidate, Expect},
    config::Config,
    crypto::RustCrypto,
    error::{Error, TokenError},
    http::Response,
    ssf::{
        self,
        events::check_verification_state,
        push::{self, PushRequest},
        Action, Alias, SsfError, TransmitterKeys, Transmitters, UntrustedSet,
    },
};
use hmac::{Hmac, Mac};
use jwt_compact::{alg::Rsa, Algorithm, AlgorithmSignature};
use rsa::{
    rand_core::OsRng,
    traits::{PrivateKeyParts, PublicKeyParts},
    RsaPrivateKey,
};
use serde_json::{json, Map, Value};
use sha2::Sha256;

/// Vector files in `../shared/vectors/ssf/` (besides `config.json` and `README.md`).
const VECTOR_COUNT: usize = 28;

const KID: &str = "tx-test-rs256-1";
const POOL_KID: &str = "pool-rsa-1";
const EXT_POOL: &str = "us-east-1_Ext1";
const EXT_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ext1";
const EXT_TX_ISSUER: &str = "https://ssf.ext-idp.example";
const EXT_TX_SECRET: &str = "ext-push-secret-0123456789abcdef0123";
const CLIENT: &str = "edgeclient";
const EXT_CLIENT: &str = "extclient";

// ---------------------------------------------------------------------------------------
// Vectors and keys

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/ssf")
}

fn read_json(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn vector_config() -> &'static Value {
    static CONFIG: OnceLock<Value> = OnceLock::new();
    CONFIG.get_or_init(|| read_json(&vectors_dir().join("config.json")))
}

fn vectors() -> Vec<(String, Value)> {
    let mut found: Vec<(String, Value)> = std::fs::read_dir(vectors_dir())
        .unwrap_or_else(|e| panic!("{}: {e}", vectors_dir().display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".json") && name != "config.json"
        })
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, read_json(&path))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

struct Keys {
    transmitter: RsaPrivateKey,
    attacker: RsaPrivateKey,
    pool: RsaPrivateKey,
}

/// Three RSA-2048 key pairs generated for this run: the transmitter's, an attacker's, and the
/// pools' (which sign access tokens, never SETs).
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let generate = || RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
        Keys {
            transmitter: generate(),
            attacker: generate(),
            pool: generate(),
        }
    })
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn public_jwk(key: &RsaPrivateKey, kid: &str) -> Value {
    json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
           "n": b64(key.n().to_bytes_be()), "e": b64(key.e().to_bytes_be())})
}

fn private_jwk(key: &RsaPrivateKey, kid: &str) -> Value {
    let mut jwk = public_jwk(key, kid);
    jwk["d"] = json!(b64(key.d().to_bytes_be()));
    jwk["p"] = json!(b64(key.primes()[0].to_bytes_be()));
    jwk["q"] = json!(b64(key.primes()[1].to_bytes_be()));
    jwk
}

/// `b64(header).b64(payload).b64(RS256 signature)`.
fn sign(key: &RsaPrivateKey, header: &Value, payload: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(payload.to_string()));
    let signature = Rsa::rs256().sign(key, input.as_bytes());
    format!("{input}.{}", b64(signature.as_bytes()))
}

fn hs256(secret: &[u8], header: &Value, payload: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(payload.to_string()));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(mac.finalize().into_bytes()))
}

fn set_header() -> Value {
    json!({"alg": "RS256", "typ": "secevent+jwt", "kid": KID})
}

// ---------------------------------------------------------------------------------------
// The receiver: configuration, store, directory

struct Receiver {
    config: Config,
    transmitters: Transmitters,
    /// `(kind, pool, id)` → revocation time in ms, plus who/why of the last write.
    store: BTreeMap<(String, String, String), (u64, String, String)>,
    /// Recorded verifications `(stream_id, state)` and stream statuses `(stream_id, status)`.
    control: Vec<Value>,
    /// The local pool's directory: lowercase username, email, phone or sub → sub.
    directory: BTreeMap<String, String>,
    pending_states: Vec<String>,
    now_ms: u64,
}

fn tx_config() -> &'static Value {
    &vector_config()["transmitters"][0]
}

fn vector_pool() -> &'static Value {
    &vector_config()["pools"][0]
}

impl Receiver {
    fn new() -> Self {
        let tx = tx_config();
        let pool = vector_pool();
        let secret = tx["authorization_header"]
            .as_str()
            .unwrap()
            .strip_prefix("Bearer ")
            .unwrap();
        let vars = json!({
            "POOLS": [
                {"id": pool["id"], "issuer": pool["issuer"], "local": {}, "clients": [{"id": CLIENT}]},
                {"id": EXT_POOL, "clients": [{"id": EXT_CLIENT}],
                 "jwks": {"keys": [public_jwk(&keys().pool, POOL_KID)]}},
            ],
            "SIGNING_KEYS": {"keys": [private_jwk(&keys().pool, POOL_KID)]},
            "SSF_TRANSMITTERS": [
                {"id": tx["id"], "issuer": tx["issuer"], "algorithms": tx["allowed_algs"],
                 "jwks": {"keys": [public_jwk(&keys().transmitter, KID)]},
                 "audience": tx["audience"], "push_secret": secret, "pool": pool["id"],
                 "stream_id": tx["stream_id"]},
                {"id": "ext", "issuer": EXT_TX_ISSUER,
                 "jwks": {"keys": [public_jwk(&keys().transmitter, KID)]},
                 "audience": tx["audience"], "push_secret": EXT_TX_SECRET, "pool": EXT_POOL},
            ],
        });
        let vars = vars.as_object().unwrap();
        let config = Config::from_env(vars).unwrap();
        let transmitters = Transmitters::from_env(vars, &config).unwrap();
        let mut directory = BTreeMap::new();
        for user in pool["users"].as_array().unwrap() {
            let sub = user["sub"].as_str().unwrap().to_owned();
            for name in ["sub", "username", "email", "phone_number"] {
                directory.insert(user[name].as_str().unwrap().to_lowercase(), sub.clone());
            }
        }
        Self {
            config,
            transmitters,
            store: BTreeMap::new(),
            control: Vec::new(),
            directory,
            pending_states: tx["pending_verification_states"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect(),
            now_ms: vector_config()["now"].as_u64().unwrap() * 1000,
        }
    }

    /// Receives one push: every step of the pipeline, then the writes. Nothing is written
    /// unless every check passed.
    fn push(&mut self, id: &str, headers: &Map<String, Value>, body: &[u8]) -> Response {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
        };
        let request = PushRequest {
            method: "POST",
            authorization: header("authorization"),
            content_type: header("content-type"),
            body,
        };
        match self.decide(id, &request) {
            Ok(actions) => {
                for action in actions {
                    self.apply(action);
                }
                push::accepted()
            }
            Err(error) => push::rejected(&error),
        }
    }

    fn decide(&self, id: &str, request: &PushRequest<'_>) -> Result<Vec<Action>, SsfError> {
        let admitted = push::admit(&self.transmitters, id, request)?;
        let transmitter = admitted.transmitter;
        let set = UntrustedSet::parse(admitted.token, transmitter)?;
        let TransmitterKeys::Inline(keys) = &transmitter.keys else {
            panic!("the test transmitters have inline keys");
        };
        let signed = pollster::block_on(set.verify_signature(keys, transmitter, &RustCrypto))?;
        let verified = signed.check_claims(transmitter, self.now_ms)?;
        let pool = self.config.pool(&transmitter.pool).unwrap();
        let actions = ssf::actions(&verified, transmitter, pool, self.now_ms)?;
        let pending: Vec<&str> = self.pending_states.iter().map(String::as_str).collect();
        for action in &actions {
            if let Action::Verification { state, .. } = action {
                check_verification_state(state.as_deref(), &pending)?;
            }
        }
        Ok(actions)
    }

    fn write(
        &mut self,
        kind: &str,
        pool: String,
        id: String,
        at_ms: u64,
        by: String,
        reason: String,
    ) {
        let slot = self.store.entry((kind.to_owned(), pool, id)).or_insert((
            0,
            String::new(),
            String::new(),
        ));
        if at_ms > slot.0 {
            *slot = (at_ms, by, reason);
        }
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::RevokeUser {
                pool,
                user_id,
                at_ms,
                by,
                reason,
            } => self.write("user", pool, user_id, at_ms, by, reason),
            Action::RevokeSession {
                pool,
                origin_jti,
                at_ms,
                by,
                reason,
            } => self.write("session", pool, origin_jti, at_ms, by, reason),
            Action::ResolveAlias(pending) => {
                let found = pending.aliases.iter().find_map(|alias| {
                    let (Alias::Email(name) | Alias::Phone(name) | Alias::Name(name)) = alias;
                    self.directory.get(&name.to_lowercase()).cloned()
                });
                if let Some(sub) = found {
                    self.apply(pending.resolved(&sub));
                }
            }
            Action::Verification {
                stream_id, state, ..
            } => self
                .control
                .push(json!({"kind": "verification_ok", "stream_id": stream_id, "state": state})),
            Action::StreamStatus {
                stream_id, status, ..
            } => self.control.push(
                json!({"kind": "stream_status", "stream_id": stream_id, "status": status.as_str()}),
            ),
            Action::Ignore { .. } => {}
        }
    }

    /// Revocation times only, for comparing states.
    fn times(&self) -> BTreeMap<(String, String, String), u64> {
        self.store.iter().map(|(k, v)| (k.clone(), v.0)).collect()
    }

    fn default_headers() -> Map<String, Value> {
        vector_config()["default_request_headers"]
            .as_object()
            .unwrap()
            .clone()
    }

    /// Pushes `body` to tx1 with the default headers.
    fn push_tx1(&mut self, body: &str) -> Response {
        self.push("tx1", &Self::default_headers(), body.as_bytes())
    }
}

fn body_json(response: &Response) -> Value {
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}

/// Asserts a 400 (or `status`) with the registered shape and this `err`.
fn assert_refused(response: &Response, status: u16, err: &str) {
    assert_eq!(
        response.status,
        status,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("content-language"), Some("en"));
    let body = body_json(response);
    assert_eq!(body["err"], err, "{body}");
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()));
}

fn assert_accepted(response: &Response) {
    assert_eq!(
        response.status,
        202,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert!(response.body.is_empty());
}

/// A store key for a vector effect or prior entry.
fn key(kind: &str, pool: &Value, id: &Value) -> (String, String, String) {
    (
        kind.to_owned(),
        pool.as_str().unwrap().to_owned(),
        id.as_str().unwrap().to_owned(),
    )
}

/// The body a vector describes, signed with the transmitter's key (or unsigned).
fn vector_body(vector: &Value) -> String {
    let (header, payload) = (&vector["header"], &vector["payload"]);
    match vector["signing"].as_str() {
        Some("valid") => sign(&keys().transmitter, header, payload),
        Some("none") => format!("{}.{}.", b64(header.to_string()), b64(payload.to_string())),
        other => panic!("unknown signing {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// The vectors

#[test]
fn the_ssf_vector_folder_holds_every_expected_case() {
    let found = vectors();
    assert_eq!(
        found.len(),
        VECTOR_COUNT,
        "{:?}",
        found.iter().map(|v| &v.0).collect::<Vec<_>>()
    );
    for (stem, vector) in &found {
        assert_eq!(vector["name"], stem.as_str());
        assert_eq!(vector["now"], vector_config()["now"], "{stem}");
    }
}

#[test]
fn every_ssf_vector_gets_its_verdict_and_its_effect() {
    let mut failures = Vec::new();
    let mut accepted = 0;
    for (name, vector) in vectors() {
        let mut rx = Receiver::new();
        let prior = &vector["prior_state"];
        for entry in prior["user_revocations"].as_array().into_iter().flatten() {
            rx.write(
                "user",
                entry["pool"].as_str().unwrap().into(),
                entry["sub"].as_str().unwrap().into(),
                entry["revoked_at_ms"].as_u64().unwrap(),
                "prior".into(),
                "prior".into(),
            );
        }
        let mut expected = rx.times();
        let before = rx.times();
        let headers = vector["request_headers"]
            .as_object()
            .cloned()
            .unwrap_or_else(Receiver::default_headers);
        let path = tx_config()["push_path"].as_str().unwrap();
        let id = push::transmitter_id(path).unwrap();
        let response = rx.push(id, &headers, vector_body(&vector).as_bytes());

        let expect = &vector["expect"];
        let mut expected_control = Vec::new();
        for effect in expect["effects"].as_array().unwrap() {
            let (k, at) = match effect["kind"].as_str().unwrap() {
                "revoke_user" => (
                    key("user", &effect["pool"], &effect["sub"]),
                    &effect["revoked_at_ms"],
                ),
                "revoke_session" => (
                    key("session", &effect["pool"], &effect["origin_jti"]),
                    &effect["revoked_at_ms"],
                ),
                _ => {
                    let mut control = effect.clone();
                    control.as_object_mut().unwrap().remove("kind");
                    let mut with_kind = json!({"kind": effect["kind"]});
                    for (k, v) in control.as_object().unwrap() {
                        with_kind[k] = v.clone();
                    }
                    expected_control.push(with_kind);
                    continue;
                }
            };
            let at = at.as_u64().unwrap();
            let slot = expected.entry(k).or_insert(0);
            *slot = (*slot).max(at);
        }

        let verdict_ok = match expect["verdict"].as_str().unwrap() {
            "accept" => response.status == 202 && response.body.is_empty(),
            _ => {
                let body = body_json(&response);
                response.status == expect["status"].as_u64().unwrap() as u16
                    && body["err"] == expect["err"]
                    && response.header("content-type") == Some("application/json")
                    && response.header("content-language") == Some("en")
            }
        };
        if !verdict_ok {
            failures.push(format!(
                "{name}: answered {} {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            ));
            continue;
        }
        if rx.times() != expected {
            failures.push(format!(
                "{name}: store {:?}, expected {expected:?}",
                rx.times()
            ));
        }
        if rx.control != expected_control {
            failures.push(format!(
                "{name}: control effects {:?}, expected {expected_control:?}",
                rx.control
            ));
        }
        // Every entry this push wrote records the transmitter and the event.
        for (k, (at, by, reason)) in &rx.store {
            if before.get(k) != Some(at) {
                let event = vector["payload"]["events"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .next()
                    .unwrap();
                let short = event.rsplit('/').next().unwrap();
                if by != "ssf:tx1"
                    || !reason.contains(short)
                    || !reason.contains(vector["payload"]["jti"].as_str().unwrap())
                {
                    failures.push(format!("{name}: entry {k:?} says by={by} reason={reason}"));
                }
            }
        }
        if response.status == 202 {
            accepted += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The vectors accept 16 SETs and refuse 12; a receiver refusing everything fails above.
    assert_eq!(accepted, 16);
}

#[test]
fn a_repeated_set_is_answered_202_again_and_changes_nothing() {
    let (_, vector) = vectors()
        .into_iter()
        .find(|(n, _)| n.starts_with("01-"))
        .unwrap();
    let body = vector_body(&vector);
    let mut rx = Receiver::new();
    assert_accepted(&rx.push_tx1(&body));
    let after_first = rx.store.clone();
    assert_eq!(after_first.len(), 1);
    assert_accepted(&rx.push_tx1(&body));
    assert_eq!(rx.store, after_first);
}

#[test]
fn a_later_event_moves_the_revocation_forward_and_an_older_one_never_back() {
    let mut rx = Receiver::new();
    let sub = vector_pool()["users"][0]["sub"].clone();
    let at = |secs: u64, jti: &str| {
        let mut p = payload_for_alice();
        p["jti"] = json!(jti);
        p["events"] = json!({"https://schemas.openid.net/secevent/caep/event-type/session-revoked":
                             {"event_timestamp": secs}});
        sign(&keys().transmitter, &set_header(), &p)
    };
    let now_s = rx.now_ms / 1000;
    let user = key("user", &vector_pool()["id"], &sub);
    assert_accepted(&rx.push_tx1(&at(now_s - 60, "a")));
    assert_eq!(rx.times()[&user], (now_s - 60) * 1000);
    assert_accepted(&rx.push_tx1(&at(now_s - 30, "b")));
    assert_eq!(rx.times()[&user], (now_s - 30) * 1000);
    assert_accepted(&rx.push_tx1(&at(now_s - 3600, "c")));
    assert_eq!(rx.times()[&user], (now_s - 30) * 1000);
}

// ---------------------------------------------------------------------------------------
// Hostile input, each beside a control

/// A valid SET naming alice by `iss_sub`, from tx1, issued 5 s before now.
fn payload_for_alice() -> Value {
    let pool = vector_pool();
    json!({"iss": tx_config()["issuer"], "jti": "hostile-1", "iat": vector_config()["now"].as_u64().unwrap() - 5,
           "aud": tx_config()["audience"],
           "sub_id": {"format": "iss_sub", "iss": pool["issuer"], "sub": pool["users"][0]["sub"]},
           "events": {"https://schemas.openid.net/secevent/caep/event-type/session-revoked": {}}})
}

fn control_is_accepted() {
    let mut rx = Receiver::new();
    assert_accepted(&rx.push_tx1(&sign(
        &keys().transmitter,
        &set_header(),
        &payload_for_alice(),
    )));
    assert_eq!(rx.store.len(), 1);
}

#[test]
fn a_set_signed_with_another_key_under_the_same_kid_is_invalid_key() {
    control_is_accepted();
    let mut rx = Receiver::new();
    let forged = sign(&keys().attacker, &set_header(), &payload_for_alice());
    assert_refused(&rx.push_tx1(&forged), 400, "invalid_key");
    assert!(rx.store.is_empty());
}

#[test]
fn unsigned_and_algorithm_swapped_sets_are_invalid_key() {
    control_is_accepted();
    let payload = payload_for_alice();
    let mut rx = Receiver::new();
    // alg none, with an empty and with a non-empty signature part.
    let none = json!({"alg": "none", "typ": "secevent+jwt", "kid": KID});
    let unsigned = format!("{}.{}.", b64(none.to_string()), b64(payload.to_string()));
    assert_refused(&rx.push_tx1(&unsigned), 400, "invalid_key");
    assert_refused(&rx.push_tx1(&format!("{unsigned}c2ln")), 400, "invalid_key");
    // HS256 keyed with the transmitter's public key (the RS/HS confusion).
    let hs = json!({"alg": "HS256", "typ": "secevent+jwt", "kid": KID});
    let public = public_jwk(&keys().transmitter, KID).to_string();
    assert_refused(
        &rx.push_tx1(&hs256(public.as_bytes(), &hs, &payload)),
        400,
        "invalid_key",
    );
    // An allowed-looking algorithm the transmitter does not use, and an unknown kid.
    let ps = json!({"alg": "PS256", "typ": "secevent+jwt", "kid": KID});
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &ps, &payload)),
        400,
        "invalid_key",
    );
    let other_kid = json!({"alg": "RS256", "typ": "secevent+jwt", "kid": "rotated-away"});
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &other_kid, &payload)),
        400,
        "invalid_key",
    );
    assert!(rx.store.is_empty());
}

#[test]
fn a_set_that_names_its_own_key_is_refused_before_any_key_is_used() {
    control_is_accepted();
    let mut rx = Receiver::new();
    let attacker_jwk = public_jwk(&keys().attacker, KID);
    for (name, value) in [
        ("jwk", attacker_jwk),
        ("jku", json!("https://evil.example/jwks")),
        ("x5u", json!("https://evil.example/cert")),
        ("x5c", json!(["MIIB"])),
    ] {
        let mut header = set_header();
        header[name] = value;
        let forged = sign(&keys().attacker, &header, &payload_for_alice());
        assert_refused(&rx.push_tx1(&forged), 400, "invalid_key");
    }
    let mut crit = set_header();
    crit["crit"] = json!(["exp"]);
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &crit, &payload_for_alice())),
        400,
        "invalid_request",
    );
    assert!(rx.store.is_empty());
}

/// A Cognito-shaped access token of the external pool, signed by the pool's key.
fn access_claims() -> Value {
    let now = vector_config()["now"].as_u64().unwrap();
    json!({"iss": EXT_ISSUER, "sub": "ext-sub-1", "username": "ext-alice", "token_use": "access",
           "client_id": EXT_CLIENT, "scope": "aws.cognito.signin.user.admin",
           "auth_time": now - 60, "iat": now - 60, "exp": now + 3600, "jti": "at-1",
           "origin_jti": "origin-1"})
}

fn pool_header() -> Value {
    json!({"kid": POOL_KID, "alg": "RS256"})
}

#[test]
fn an_access_token_posted_as_a_set_is_refused() {
    control_is_accepted();
    let mut rx = Receiver::new();
    // As issued: no typ, the pool's key, the pool's issuer.
    let token = sign(&keys().pool, &pool_header(), &access_claims());
    assert_refused(&rx.push_tx1(&token), 400, "invalid_request");
    // Dressed up: typ and the transmitter's issuer, still the pool's key.
    let mut claims = access_claims();
    claims["iss"] = tx_config()["issuer"].clone();
    claims["aud"] = tx_config()["audience"].clone();
    let typed = json!({"kid": KID, "alg": "RS256", "typ": "secevent+jwt"});
    assert_refused(
        &rx.push_tx1(&sign(&keys().pool, &typed, &claims)),
        400,
        "invalid_key",
    );
    // Worst case, an issuer that signs both with one key: the SET rules still refuse it, for
    // its exp, its sub, its token_use, and its missing events, each on its own.
    claims["events"] = payload_for_alice()["events"].clone();
    for (drop, present) in [
        (vec!["sub", "token_use"], "exp"),
        (vec!["exp", "token_use"], "sub"),
        (vec!["exp", "sub"], "token_use"),
    ] {
        let mut one = claims.clone();
        for name in drop {
            one.as_object_mut().unwrap().remove(name);
        }
        let response = rx.push_tx1(&sign(&keys().transmitter, &typed, &one));
        assert_refused(&response, 400, "invalid_request");
        assert!(
            body_json(&response)["description"]
                .as_str()
                .unwrap()
                .contains(present)
                || present == "token_use"
        );
    }
    let mut no_events = payload_for_alice();
    no_events.as_object_mut().unwrap().remove("events");
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &typed, &no_events)),
        400,
        "invalid_request",
    );
    assert!(rx.store.is_empty());
}

#[test]
fn a_set_presented_as_a_bearer_token_at_the_gate_is_refused() {
    let rx = Receiver::new();
    let gate = Expect::default();
    let verify = |token: &str| -> Result<(), Error> {
        let candidate = Candidate::parse(token, &rx.config, &gate)?;
        let keys = match &candidate.pool().keys {
            edge_revoke::config::PoolKeys::Inline(keys) => keys.clone(),
            other => panic!("unexpected keys {other:?}"),
        };
        candidate
            .verify(&keys, &RustCrypto, &gate, rx.now_ms)
            .map(|_| ())
    };
    // Control: the pool's access token passes the gate's verifier.
    verify(&sign(&keys().pool, &pool_header(), &access_claims())).unwrap();

    // A SET as transmitters send it: typed as a SET, and from no pool.
    let set = sign(&keys().transmitter, &set_header(), &payload_for_alice());
    assert!(matches!(
        verify(&set),
        Err(Error::Token {
            error: TokenError::Malformed(_),
            ..
        })
    ));
    let untyped = sign(
        &keys().transmitter,
        &json!({"alg": "RS256", "kid": KID}),
        &payload_for_alice(),
    );
    assert!(matches!(verify(&untyped), Err(Error::Token { .. })));

    // A SET from an issuer that is also the pool, signed with the pool's key, carrying every
    // claim an access token needs: refused for being typed as a SET, or for carrying events.
    let mut claims = access_claims();
    claims["events"] = payload_for_alice()["events"].clone();
    let typed = json!({"kid": POOL_KID, "alg": "RS256", "typ": "secevent+jwt"});
    for (header, payload) in [
        (typed.clone(), claims.clone()),
        (
            json!({"kid": POOL_KID, "alg": "RS256", "typ": "application/SECEVENT+jwt"}),
            access_claims(),
        ),
        (pool_header(), claims.clone()),
    ] {
        let token = sign(&keys().pool, &header, &payload);
        assert!(
            matches!(
                verify(&token),
                Err(Error::Token {
                    error: TokenError::Malformed(_),
                    ..
                })
            ),
            "{header} {payload}"
        );
    }
    // Without exp or token_use, as SETs are, the claims check refuses it too.
    let mut bare = payload_for_alice();
    bare["iss"] = json!(EXT_ISSUER);
    bare["events"] = json!(null);
    bare.as_object_mut().unwrap().remove("events");
    assert!(matches!(
        verify(&sign(&keys().pool, &pool_header(), &bare)),
        Err(Error::Token {
            error: TokenError::MissingClaim("exp"),
            ..
        })
    ));
}

#[test]
fn an_iat_beyond_the_skew_is_refused_and_one_within_it_is_accepted() {
    let now_s = vector_config()["now"].as_u64().unwrap();
    let skew = tx_config()["iat_future_skew_s"].as_u64().unwrap();
    assert_eq!(skew, ssf::set::IAT_FUTURE_SKEW_S);
    let mut rx = Receiver::new();
    let mut payload = payload_for_alice();
    payload["iat"] = json!(now_s + skew);
    assert_accepted(&rx.push_tx1(&sign(&keys().transmitter, &set_header(), &payload)));
    // The event time of a SET from a clock ahead is the time of receipt, not iat.
    assert_eq!(rx.store.values().next().unwrap().0, now_s * 1000);
    let mut rx = Receiver::new();
    payload["iat"] = json!(now_s + skew + 1);
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &set_header(), &payload)),
        400,
        "invalid_request",
    );
    payload["iat"] = json!(format!("{now_s}"));
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &set_header(), &payload)),
        400,
        "invalid_request",
    );
    assert!(rx.store.is_empty());
}

#[test]
fn huge_and_malformed_bodies_are_refused_with_the_right_code_and_never_a_5xx() {
    control_is_accepted();
    let mut rx = Receiver::new();
    let huge = "a".repeat(push::MAX_BODY_BYTES + 1);
    assert_refused(&rx.push_tx1(&huge), 413, "invalid_request");
    // Under the body cap but over the token cap.
    let mut padded = payload_for_alice();
    padded["pad"] = json!("x".repeat(20_000));
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &set_header(), &padded)),
        400,
        "invalid_request",
    );
    let good = sign(&keys().transmitter, &set_header(), &payload_for_alice());
    let parts: Vec<&str> = good.split('.').collect();
    let payload_b64 = |payload: &str| format!("{}.{}.{}", parts[0], b64(payload), parts[2]);
    for body in [
        String::new(),
        "not a jwt".into(),
        ".".repeat(20_000),
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.x.y"),
        format!("{good}="),
        good.replacen('e', "+", 1),
        format!("{} .{}.{}", parts[0], parts[1], parts[2]),
        payload_b64("[]"),
        payload_b64("{\"iss\":"),
        format!(
            "{}.{}.{}",
            b64("{\"alg\":\"RS256\",\"alg\":\"none\",\"typ\":\"secevent+jwt\"}"),
            parts[1],
            parts[2]
        ),
    ] {
        let response = rx.push_tx1(&body);
        assert!(
            response.status == 400 || response.status == 413,
            "{body:.80}: {}",
            response.status
        );
        assert!(body_json(&response)["err"].is_string());
    }
    // A non-UTF-8 body.
    let response = rx.push("tx1", &Receiver::default_headers(), b"\xff\xfe.\x00.");
    assert_refused(&response, 400, "invalid_request");
    assert!(rx.store.is_empty());
}

#[test]
fn duplicate_claims_and_mistyped_claims_are_refused_after_the_signature() {
    control_is_accepted();
    let mut rx = Receiver::new();
    let sub = vector_pool()["users"][0]["sub"].as_str().unwrap();
    let text = format!(
        r#"{{"iss":"{iss}","iss":"https://evil.example","jti":"d","iat":1767225595,"aud":"{aud}","sub_id":{{"format":"opaque","id":"{sub}"}},"events":{{}}}}"#,
        iss = tx_config()["issuer"].as_str().unwrap(),
        aud = tx_config()["audience"].as_str().unwrap(),
    );
    let input = format!("{}.{}", b64(set_header().to_string()), b64(&text));
    let signature = Rsa::rs256().sign(&keys().transmitter, input.as_bytes());
    let duplicate = format!("{input}.{}", b64(signature.as_bytes()));
    assert_refused(&rx.push_tx1(&duplicate), 400, "invalid_request");
    for (name, value) in [
        ("events", json!([])),
        ("events", json!({})),
        (
            "events",
            json!({"https://schemas.openid.net/secevent/caep/event-type/session-revoked": "x"}),
        ),
        ("jti", json!("")),
        ("jti", json!(7)),
        ("jti", json!("j".repeat(257))),
        ("aud", json!(7)),
        ("aud", json!([7])),
        ("toe", json!("yesterday")),
        ("txn", json!(1)),
        ("sub_id", json!({"format": "iss_sub"})),
    ] {
        let mut payload = payload_for_alice();
        payload[name] = value.clone();
        let response = rx.push_tx1(&sign(&keys().transmitter, &set_header(), &payload));
        assert_refused(&response, 400, "invalid_request");
        let _ = (name, value);
    }
    let mut no_aud = payload_for_alice();
    no_aud.as_object_mut().unwrap().remove("aud");
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &set_header(), &no_aud)),
        400,
        "invalid_audience",
    );
    assert!(rx.store.is_empty());
}

#[test]
fn a_missing_or_wrong_bearer_secret_is_authentication_failed() {
    control_is_accepted();
    let body = sign(&keys().transmitter, &set_header(), &payload_for_alice());
    let mut rx = Receiver::new();
    let secret = tx_config()["authorization_header"].as_str().unwrap();
    for authorization in [
        None,
        Some(format!("{secret}0")),
        Some(secret.replace("test-push", "TEST-PUSH")),
        Some(format!("Bearer {EXT_TX_SECRET}")),
        Some(secret.replace("Bearer ", "Basic ")),
    ] {
        let mut headers = Receiver::default_headers();
        match &authorization {
            Some(value) => headers.insert("Authorization".into(), json!(value)),
            None => headers.remove("Authorization"),
        };
        assert_refused(
            &rx.push("tx1", &headers, body.as_bytes()),
            400,
            "authentication_failed",
        );
    }
    // The scheme is case-insensitive; the secret is not.
    let mut headers = Receiver::default_headers();
    headers.insert(
        "authorization".into(),
        json!(secret.replace("Bearer", "BEARER")),
    );
    headers.remove("Authorization");
    assert_accepted(&rx.push("tx1", &headers, body.as_bytes()));
}

#[test]
fn the_bearer_secret_and_the_set_issuer_must_name_the_same_transmitter() {
    let body = sign(&keys().transmitter, &set_header(), &payload_for_alice());
    let mut rx = Receiver::new();
    let mut headers = Receiver::default_headers();
    headers.insert(
        "Authorization".into(),
        json!(format!("Bearer {EXT_TX_SECRET}")),
    );
    // tx1's SET on the ext stream, with the ext stream's secret.
    assert_refused(
        &rx.push("ext", &headers, body.as_bytes()),
        400,
        "invalid_issuer",
    );
    // Unknown stream path.
    assert_eq!(rx.push("tx9", &headers, body.as_bytes()).status, 404);
    assert!(rx.store.is_empty());
}

#[test]
fn a_wrong_content_type_is_an_invalid_request() {
    let body = sign(&keys().transmitter, &set_header(), &payload_for_alice());
    let mut rx = Receiver::new();
    for content_type in ["application/jwt", "application/json", "text/plain"] {
        let mut headers = Receiver::default_headers();
        headers.insert("Content-Type".into(), json!(content_type));
        assert_refused(
            &rx.push("tx1", &headers, body.as_bytes()),
            400,
            "invalid_request",
        );
    }
    let mut headers = Receiver::default_headers();
    headers.insert(
        "Content-Type".into(),
        json!("application/SECEVENT+jwt; charset=utf-8"),
    );
    assert_accepted(&rx.push("tx1", &headers, body.as_bytes()));
}

// ---------------------------------------------------------------------------------------
// Subjects and events beyond the vectors

fn ext_set(sub_id: Value, event: &str, payload: Value) -> String {
    let now = vector_config()["now"].as_u64().unwrap();
    let claims = json!({"iss": EXT_TX_ISSUER, "jti": "ext-1", "iat": now - 5, "aud": tx_config()["audience"],
                        "sub_id": sub_id, "events": {event: payload}});
    sign(&keys().transmitter, &set_header(), &claims)
}

fn push_ext(rx: &mut Receiver, body: &str) -> Response {
    let mut headers = Receiver::default_headers();
    headers.insert(
        "Authorization".into(),
        json!(format!("Bearer {EXT_TX_SECRET}")),
    );
    rx.push("ext", &headers, body.as_bytes())
}

#[test]
fn an_external_pool_user_is_revoked_under_the_name_the_gate_matches() {
    let session_revoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
    let cases = [
        (
            json!({"format": "iss_sub", "iss": EXT_ISSUER, "sub": "ext-sub-1"}),
            "ext-sub-1",
        ),
        (
            json!({"format": "email", "email": "ext-alice@example.com"}),
            "ext-alice@example.com",
        ),
        (json!({"format": "opaque", "id": "ext-alice"}), "ext-alice"),
        (
            json!({"format": "account", "uri": "acct:ext-alice@example.com"}),
            "ext-alice",
        ),
    ];
    for (sub_id, user_id) in cases {
        let mut rx = Receiver::new();
        assert_accepted(&push_ext(
            &mut rx,
            &ext_set(sub_id.clone(), session_revoked, json!({})),
        ));
        let expected = (
            "user".to_owned(),
            EXT_POOL.to_owned(),
            ssf::external_pool_user_id(rx.config.pool(EXT_POOL).unwrap(), user_id),
        );
        assert_eq!(
            rx.store.keys().collect::<Vec<_>>(),
            vec![&expected],
            "{sub_id}"
        );
        assert_eq!(rx.store[&expected].1, "ssf:ext");
    }
    // The local pool's issuer does not name an external pool user.
    let mut rx = Receiver::new();
    let foreign = json!({"format": "iss_sub", "iss": vector_pool()["issuer"], "sub": "ext-sub-1"});
    assert_accepted(&push_ext(
        &mut rx,
        &ext_set(foreign, session_revoked, json!({})),
    ));
    assert!(rx.store.is_empty());
}

#[test]
fn events_that_end_sessions_revoke_and_the_others_are_acknowledged_and_ignored() {
    let sub_id = json!({"format": "iss_sub", "iss": EXT_ISSUER, "sub": "ext-sub-1"});
    let caep = "https://schemas.openid.net/secevent/caep/event-type/";
    let risc = "https://schemas.openid.net/secevent/risc/event-type/";
    let revoking = [
        (format!("{caep}session-revoked"), json!({})),
        (
            format!("{caep}credential-change"),
            json!({"credential_type": "fido2-roaming", "change_type": "revoke"}),
        ),
        (
            format!("{risc}account-disabled"),
            json!({"reason": "bulk-account"}),
        ),
        (format!("{risc}account-purged"), json!({})),
        (
            format!("{risc}credential-compromise"),
            json!({"credential_type": "password"}),
        ),
        (format!("{risc}sessions-revoked"), json!({})),
        (
            "https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked".to_owned(),
            json!({}),
        ),
    ];
    for (event, payload) in &revoking {
        let mut rx = Receiver::new();
        assert_accepted(&push_ext(
            &mut rx,
            &ext_set(sub_id.clone(), event, payload.clone()),
        ));
        assert_eq!(rx.store.len(), 1, "{event}");
        let reason = &rx.store.values().next().unwrap().2;
        assert!(
            reason.contains(event.rsplit('/').next().unwrap()),
            "{reason}"
        );
    }
    let ignored = [
        (
            format!("{caep}credential-change"),
            json!({"credential_type": "fido2-platform", "change_type": "create"}),
        ),
        (
            format!("{caep}token-claims-change"),
            json!({"claims": {"role": "x"}}),
        ),
        (
            format!("{caep}assurance-level-change"),
            json!({"namespace": "NIST-AAL", "current_level": "nist-aal1"}),
        ),
        (
            format!("{caep}device-compliance-change"),
            json!({"previous_status": "compliant", "current_status": "not-compliant"}),
        ),
        (
            format!("{caep}risk-level-change"),
            json!({"principal": "USER", "current_level": "HIGH"}),
        ),
        (format!("{caep}session-established"), json!({})),
        (format!("{risc}account-enabled"), json!({})),
        (format!("{risc}identifier-recycled"), json!({})),
        (
            format!("{risc}account-credential-change-required"),
            json!({}),
        ),
        (format!("{risc}opt-out-effective"), json!({})),
    ];
    for (event, payload) in &ignored {
        let mut rx = Receiver::new();
        assert_accepted(&push_ext(
            &mut rx,
            &ext_set(sub_id.clone(), event, payload.clone()),
        ));
        assert!(rx.store.is_empty(), "{event}");
    }
    // A known revoking event that does not conform to its definition is refused.
    for (event, payload) in [
        (
            format!("{caep}credential-change"),
            json!({"credential_type": "password"}),
        ),
        (format!("{risc}credential-compromise"), json!({})),
        (
            format!("{caep}session-revoked"),
            json!({"event_timestamp": "now"}),
        ),
        (
            format!("{caep}session-revoked"),
            json!({"event_timestamp": -1}),
        ),
    ] {
        let mut rx = Receiver::new();
        assert_refused(
            &push_ext(&mut rx, &ext_set(sub_id.clone(), &event, payload)),
            400,
            "invalid_request",
        );
        assert!(rx.store.is_empty());
    }
}

#[test]
fn the_event_time_is_event_timestamp_then_toe_then_iat_clamped_to_receipt() {
    let now_s = vector_config()["now"].as_u64().unwrap();
    let user = key(
        "user",
        &vector_pool()["id"],
        &vector_pool()["users"][0]["sub"],
    );
    let cases = [
        (
            json!({"event_timestamp": now_s - 100}),
            Some(now_s - 200),
            (now_s - 100) * 1000,
        ),
        (
            json!({"event_timestamp": (now_s - 100) as f64 + 0.25}),
            None,
            (now_s - 100) * 1000 + 250,
        ),
        (
            json!({"event_timestamp": (now_s - 100) * 1000 + 7}),
            None,
            (now_s - 100) * 1000 + 7,
        ),
        (json!({}), Some(now_s - 200), (now_s - 200) * 1000),
        (json!({}), Some(now_s + 3600), now_s * 1000),
        (json!({}), None, (now_s - 5) * 1000),
        (json!({"event_timestamp": 1e15}), None, now_s * 1000),
    ];
    for (event, toe, expected) in cases {
        let mut rx = Receiver::new();
        let mut payload = payload_for_alice();
        payload["events"] =
            json!({"https://schemas.openid.net/secevent/caep/event-type/session-revoked": event});
        if let Some(toe) = toe {
            payload["toe"] = json!(toe);
        }
        assert_accepted(&rx.push_tx1(&sign(&keys().transmitter, &set_header(), &payload)));
        assert_eq!(rx.times()[&user], expected, "{payload}");
    }
}

#[test]
fn verification_and_stream_events_for_another_stream_are_refused() {
    let mut rx = Receiver::new();
    let mut payload = payload_for_alice();
    payload["sub_id"] = json!({"format": "opaque", "id": "another-stream"});
    payload["events"] =
        json!({"https://schemas.openid.net/secevent/ssf/event-type/verification": {}});
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &set_header(), &payload)),
        400,
        "invalid_request",
    );
    payload["sub_id"] = json!({"format": "opaque", "id": tx_config()["stream_id"]});
    assert_accepted(&rx.push_tx1(&sign(&keys().transmitter, &set_header(), &payload)));
    payload["events"] = json!({"https://schemas.openid.net/secevent/ssf/event-type/stream-updated": {"status": "on"}});
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &set_header(), &payload)),
        400,
        "invalid_request",
    );
    assert_eq!(rx.control.len(), 1);
}

#[test]
fn a_legacy_google_subject_type_in_the_event_is_understood() {
    let mut rx = Receiver::new();
    let mut payload = payload_for_alice();
    payload.as_object_mut().unwrap().remove("sub_id");
    payload["events"] = json!({"https://schemas.openid.net/secevent/risc/event-type/account-disabled":
        {"subject": {"subject_type": "iss-sub", "iss": vector_pool()["issuer"], "sub": vector_pool()["users"][0]["sub"]},
         "reason": "hijacking"}});
    assert_accepted(&rx.push_tx1(&sign(&keys().transmitter, &set_header(), &payload)));
    assert_eq!(rx.store.len(), 1);
    // No subject anywhere: a revoking event cannot conform.
    payload["events"] =
        json!({"https://schemas.openid.net/secevent/risc/event-type/account-disabled": {}});
    let mut rx = Receiver::new();
    assert_refused(
        &rx.push_tx1(&sign(&keys().transmitter, &set_header(), &payload)),
        400,
        "invalid_request",
    );
}
