//! What the fuzz targets share: the fixed keys and clock, the test harness of `tests/support`,
//! and thin helpers around every call into the signature backend.
//!
//! Every target calls the verifier through [`verify_signature`], [`verify_candidate`] and
//! [`block_on`], never through `SignatureVerifier` directly, so a change of that trait's shape
//! (say, `verify` returning a future) is an edit in this file only.

use edge_revoke::{
    auth::{Authenticated, Candidate, Expect},
    crypto::RustCrypto,
    error::{Error, TokenError},
    jwk::{parse_key, Alg, AlgSet, KeySet},
    token::{SignatureValid, UntrustedToken},
};
use serde_json::{json, Map, Value};

/// The API harness of the native tests (`World`, the configuration, request signing), shared
/// so that the fuzzer drives exactly what `tests/api.rs` drives.
#[path = "../../tests/support/mod.rs"]
#[allow(clippy::new_without_default)] // As in the test binaries, where it is not exported.
pub mod support;

pub mod api;
pub mod http;
pub mod signer;
pub mod ssf;

/// The clock of the token targets: 2025-06-15T15:06:40.250Z, as the API tests.
pub const NOW_MS: u64 = support::T0_MS;

/// RFC 7515 Appendix A.1's HMAC key.
pub const HMAC_JWK: &str = r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#;
/// RFC 7515 Appendix A.3's P-256 key (with `d`: the differential target signs with it).
pub const EC_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#;
/// RFC 8037 Appendix A's Ed25519 key (with `d`).
pub const ED_JWK: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#;

/// RFC 7515 Appendix A.2's RSA key, private (the local pools' signing key in the tests).
pub fn rsa_private_jwk() -> Map<String, Value> {
    support::signing_keys()["keys"][0]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// A JWK's public members only.
pub fn public_part(jwk: &Map<String, Value>) -> Map<String, Value> {
    jwk.iter()
        .filter(|(name, _)| !["d", "p", "q", "dp", "dq", "qi", "oth"].contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

fn object(text: &str) -> Map<String, Value> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The private JWK the fixed key of `alg` is made from.
pub fn private_jwk(alg: Alg) -> Map<String, Value> {
    match alg {
        Alg::Es256 => object(EC_JWK),
        Alg::EdDsa => object(ED_JWK),
        Alg::Hs256 => object(HMAC_JWK),
        _ => rsa_private_jwk(),
    }
}

/// The fixed public JWK for `alg`, with `kid` (if any) and `alg` set.
pub fn public_jwk(alg: Alg, kid: Option<&str>) -> Map<String, Value> {
    let mut jwk = private_jwk(alg);
    if alg != Alg::Hs256 {
        jwk = public_part(&jwk);
    }
    jwk.remove("kid");
    if let Some(kid) = kid {
        jwk.insert("kid".into(), Value::from(kid));
    }
    jwk.insert("alg".into(), Value::from(alg.name()));
    jwk
}

/// Every algorithm.
pub fn all_algs() -> AlgSet {
    let mut set = AlgSet::empty();
    for alg in Alg::ALL {
        set.insert(alg);
    }
    set
}

/// The kid of the fixed key bound to `alg` in [`asymmetric_keys`] and [`hmac_keys`].
pub fn kid_for(alg: Alg) -> String {
    format!("fuzz-{}", alg.name())
}

/// Every asymmetric algorithm, each bound to its own kid (one RSA key under six kids).
pub fn asymmetric_keys() -> KeySet {
    let keys = Alg::ALL
        .into_iter()
        .filter(|alg| *alg != Alg::Hs256)
        .filter_map(|alg| parse_key(&public_jwk(alg, Some(&kid_for(alg))), all_algs()).ok())
        .collect();
    KeySet::new(keys).unwrap_or_default()
}

/// The HMAC key, with its kid (symmetric and asymmetric keys never share a set).
pub fn hmac_keys() -> KeySet {
    let keys = parse_key(
        &public_jwk(Alg::Hs256, Some(&kid_for(Alg::Hs256))),
        all_algs(),
    )
    .into_iter()
    .collect();
    KeySet::new(keys).unwrap_or_default()
}

/// One key bound to `alg` without a kid, alone in its set: what a token without `kid` finds
/// (the RFC 7515 and RFC 8037 example tokens have none).
pub fn single_key(alg: Alg) -> KeySet {
    let keys = parse_key(&public_jwk(alg, None), all_algs())
        .into_iter()
        .collect();
    KeySet::new(keys).unwrap_or_default()
}

/// The issuer of the fuzz configuration's pool for `alg`'s key set.
pub fn issuer_for(name: &str) -> String {
    format!("https://issuer.example/{name}")
}

/// A configuration with one external pool per key set above (every algorithm allowed, client
/// `fuzzclient`, access and ID tokens at the gate), so tokens reach the claims checks.
pub fn token_config() -> Map<String, Value> {
    let mut pools = Vec::new();
    let mut asym: Vec<Value> = Alg::ALL
        .into_iter()
        .filter(|alg| *alg != Alg::Hs256)
        .map(|alg| Value::Object(public_jwk(alg, Some(&kid_for(alg)))))
        .collect();
    asym.retain(|v| v.is_object());
    pools.push(json!({"id": "us-east-1_Asym", "issuer": issuer_for("asym"),
        "algorithms": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "EdDSA"],
        "clients": [{"id": "fuzzclient"}], "token_use": ["access", "id"],
        "jwks": {"keys": asym}}));
    pools.push(json!({"id": "us-east-1_Hmac", "issuer": issuer_for("hmac"),
        "algorithms": ["HS256"], "clients": [{"id": "fuzzclient"}], "token_use": ["access", "id"],
        "jwks": {"keys": [public_jwk(Alg::Hs256, Some(&kid_for(Alg::Hs256)))]}}));
    json!({"POOLS": pools})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// Verifies `token`'s signature with a key of `keys` (the one call the targets make into the
/// signature step).
pub fn verify_signature<'t, 'k>(
    token: &'t UntrustedToken<'_>,
    keys: &'k KeySet,
    allowed: AlgSet,
) -> Result<SignatureValid<'t, 'k>, TokenError> {
    token.verify_signature(keys, allowed, &RustCrypto)
}

/// Verifies a candidate token's signature, then its claims at `now_ms`.
pub fn verify_candidate(
    candidate: Candidate<'_, '_>,
    keys: &KeySet,
    expect: &Expect<'_>,
    now_ms: u64,
) -> Result<Authenticated, Error> {
    candidate.verify(keys, &RustCrypto, expect, now_ms)
}

/// Runs a future of the core to completion (the core's futures complete without a reactor:
/// every port in the harness answers at once).
pub fn block_on<F: core::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}

/// Splits fuzz input into up to `N` fields at `0xff` bytes (never valid UTF-8, so a field holds
/// any text); missing fields are empty.
pub fn fields<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&data[..0]; N];
    let mut rest = data;
    for (i, slot) in out.iter_mut().enumerate() {
        if i + 1 == N {
            *slot = rest;
            break;
        }
        match rest.iter().position(|b| *b == 0xff) {
            Some(at) => {
                *slot = &rest[..at];
                rest = &rest[at + 1..];
            }
            None => {
                *slot = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    out
}

/// Joins fields as [`fields`] splits them (for seeds).
pub fn join_fields(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(0xff);
        }
        out.extend_from_slice(part);
    }
    out
}

/// RFC 7520 §3.4's RSA private key (kid `bilbo.baggins@hobbiton.example`): a second signing key,
/// for rotation.
pub const COOKBOOK_RSA_JWK: &str =
    include_str!("../../../shared/vectors/jose-cookbook/jwk_3_4.rsa_private_key.json");

/// Local-pool signing keys: the tests' key (current) and the cookbook key (older).
pub fn signing_keys_json() -> Value {
    let cookbook: Value = serde_json::from_str(COOKBOOK_RSA_JWK).unwrap_or(Value::Null);
    json!({"keys": [rsa_private_jwk(), cookbook]})
}
