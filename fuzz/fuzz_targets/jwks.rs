//! JWK and JWKS documents: each key loaded and bound to one algorithm of an allow-list the
//! input chooses, whole sets under both bad-key policies, and the remote path (fetched through
//! a fake fetcher that answers the input, persisted to KV, read back by a cold isolate).
//!
//! Beyond "no panic": every loaded key is bound to an allowed algorithm of its key type, its
//! public JWK carries no secret, a set never mixes HMAC with public keys nor repeats a kid, a
//! set refused as a whole is never half-loaded when keys are skipped instead, and the persisted
//! copy reloads to the same keys.
#![no_main]

use std::cell::RefCell;

use edge_revoke::{
    json,
    jwk::{parse_key, AlgSet, BadKeys, KeyFamily, KeySet},
    jwks::{JwksCache, JwksIo},
    ports::{Fetcher, LocalFuture, MemoryStore},
};
use edge_revoke_fuzz::{block_on, NOW_MS};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A fake JWKS endpoint: answers every request with the fuzz input, status 200.
struct FakeJwksEndpoint {
    body: String,
    calls: RefCell<usize>,
}

impl Fetcher for FakeJwksEndpoint {
    fn get_text<'a>(
        &'a self,
        _url: &'a str,
        max_bytes: usize,
    ) -> LocalFuture<'a, Result<(u16, String), String>> {
        *self.calls.borrow_mut() += 1;
        let answer = if self.body.len() > max_bytes {
            Err("body over the cap".to_owned())
        } else {
            Ok((200, self.body.clone()))
        };
        Box::pin(async move { answer })
    }
}

const URI: &str = "https://issuer.example/.well-known/jwks.json";

fuzz_target!(|data: &[u8]| {
    let [selector, document] = edge_revoke_fuzz::fields::<2>(data);
    // The allow-list: one bit per algorithm in `Alg::ALL` order, the low seven bits of the first
    // byte, then of the second (0xff separates fields).
    let byte = |i: usize| u16::from(selector.get(i).copied().unwrap_or(0) & 0x7f);
    let bits = byte(0) | byte(1) << 7;
    let mut allowed = AlgSet::empty();
    for (i, alg) in edge_revoke::jwk::Alg::ALL.into_iter().enumerate() {
        if bits & (1 << i) != 0 {
            allowed.insert(alg);
        }
    }
    if let Ok(value) = json::parse_value(document) {
        check_document(&value, allowed);
    }
    if let Ok(text) = std::str::from_utf8(document) {
        check_remote(text, allowed);
    }
});

fn check_key_set(set: &KeySet, allowed: AlgSet) {
    let keys = set.keys();
    let symmetric = keys
        .iter()
        .filter(|k| k.alg().family() == KeyFamily::Symmetric)
        .count();
    assert!(symmetric == 0 || symmetric == keys.len(), "mixed symmetry");
    for (i, key) in keys.iter().enumerate() {
        assert!(
            allowed.contains(key.alg()),
            "a key bound outside the allow-list"
        );
        if let Some(kid) = key.kid() {
            assert!(
                keys[..i].iter().all(|k| k.kid() != Some(kid)),
                "duplicate kid"
            );
            assert!(std::ptr::eq(set.find(Some(kid)).expect("kid found"), key));
        }
    }
    let public = set.to_public_jwks();
    for jwk in public["keys"].as_array().expect("a keys array") {
        assert!(jwk.get("k").is_none(), "an HMAC secret in the public JWKS");
        if jwk["kty"] != "oct" {
            for member in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
                assert!(
                    jwk.get(member).is_none(),
                    "private member {member} published"
                );
            }
        }
    }
}

fn check_document(value: &Value, allowed: AlgSet) {
    // Single keys: wherever an object appears as the document or in `keys`.
    let candidates = match value {
        Value::Object(obj) => match obj.get("keys") {
            Some(Value::Array(list)) => list.iter().collect(),
            _ => vec![value],
        },
        Value::Array(list) => list.iter().collect(),
        _ => Vec::new(),
    };
    for candidate in candidates {
        if let Some(obj) = candidate.as_object() {
            if let Ok(key) = parse_key(obj, allowed) {
                assert!(allowed.contains(key.alg()));
                let family = match obj.get("kty").and_then(Value::as_str) {
                    Some("RSA") => KeyFamily::Rsa,
                    Some("EC") => KeyFamily::P256,
                    Some("OKP") => KeyFamily::Ed25519,
                    Some("oct") => KeyFamily::Symmetric,
                    other => panic!("a key loaded from kty {other:?}"),
                };
                assert_eq!(key.alg().family(), family);
                if let Some(alg) = obj.get("alg").and_then(Value::as_str) {
                    assert_eq!(alg, key.alg().name(), "the JWK's alg was overridden");
                }
                assert!(key.public_jwk().get("k").is_none());
            }
        }
    }
    let refused = KeySet::parse(value, allowed, BadKeys::Refuse, &mut Vec::new());
    let mut dropped = Vec::new();
    let skipped = KeySet::parse(value, allowed, BadKeys::Skip, &mut dropped);
    if let Ok(set) = &refused {
        check_key_set(set, allowed);
        // With every key good, skipping changes nothing.
        let skipped = skipped
            .as_ref()
            .expect("a set good as a whole loads when skipping");
        assert!(dropped.is_empty());
        assert_eq!(kids_and_algs(set), kids_and_algs(skipped));
    }
    if let Ok(set) = &skipped {
        check_key_set(set, allowed);
    }
}

fn kids_and_algs(set: &KeySet) -> Vec<(Option<String>, &'static str)> {
    set.keys()
        .iter()
        .map(|k| (k.kid().map(str::to_owned), k.alg().name()))
        .collect()
}

fn check_remote(body: &str, allowed: AlgSet) {
    let store = MemoryStore::new();
    let endpoint = FakeJwksEndpoint {
        body: body.to_owned(),
        calls: RefCell::new(0),
    };
    let log = |_: &str| {};
    let io = JwksIo {
        store: &store,
        fetcher: &endpoint,
        now_ms: NOW_MS,
        log: &log,
    };
    let fetched = block_on(JwksCache::new().keys(URI, None, allowed, &io));
    assert_eq!(*endpoint.calls.borrow(), 1);
    if let Ok(keys) = &fetched {
        check_key_set(keys, allowed);
        // A cold isolate reads the persisted copy instead of fetching, and gets the same keys
        // (asked for a kid the set has, so that nothing sends it back to the issuer).
        let kid = keys.keys().first().and_then(|k| k.kid());
        if keys.find(kid).is_some() {
            let cold = block_on(JwksCache::new().keys(URI, kid, allowed, &io));
            let cold = cold.expect("the persisted copy loads");
            assert_eq!(*endpoint.calls.borrow(), 1, "a cold isolate fetched again");
            assert_eq!(kids_and_algs(keys), kids_and_algs(&cold));
        }
    }
}
