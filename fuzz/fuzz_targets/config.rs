//! Configuration: the Worker's environment as a JSON object of settings (`POOLS`,
//! `ADMIN_CREDENTIALS`, `SIGNING_KEYS`, `ALLOWED_ORIGINS`, `PROTECTED_PREFIXES`, `ORIGIN_URL`,
//! `REVOCATION_CACHE_TTL_S`, `KV_CACHE_TTL_S`, `DEV_MODE`), parsed as the Worker parses it.
//!
//! Beyond "no panic": `Config::load` and `Config::from_env` agree; a JSON-valued setting means
//! the same written as a structured value or as a JSON string (`[vars]` or a secret); a
//! configuration that loads has at least one pool, no two pools sharing an id or an issuer,
//! cache lifetimes within their documented bounds, and a local pool only with signing keys.
#![no_main]

use edge_revoke::config::{Config, PoolKeys};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(vars) = serde_json::from_slice::<Map<String, Value>>(data) else {
        return;
    };
    let parsed = Config::from_env(&vars);
    let loaded = Config::load(&vars);
    assert_eq!(parsed.is_ok(), loaded.is_ok());
    if let (Err(parsed), Err(loaded)) = (&parsed, &loaded) {
        assert_eq!(parsed.to_string(), loaded.error.to_string());
    }
    if let Ok(config) = &parsed {
        check(config);
    }
    for name in ["POOLS", "ADMIN_CREDENTIALS", "SIGNING_KEYS"] {
        let Some(value) = vars.get(name) else {
            continue;
        };
        if value.is_string() || value.is_null() {
            continue;
        }
        let mut as_text = vars.clone();
        as_text.insert(name.to_owned(), Value::String(value.to_string()));
        let again = Config::from_env(&as_text);
        assert_eq!(
            parsed.as_ref().map(|_| ()).map_err(ToString::to_string),
            again.as_ref().map(|_| ()).map_err(ToString::to_string),
            "{name} means something else written as a JSON string"
        );
    }
});

fn check(config: &Config) {
    assert!(!config.pools.is_empty());
    for (i, pool) in config.pools.iter().enumerate() {
        for other in &config.pools[..i] {
            assert_ne!(pool.id, other.id);
            assert_ne!(pool.issuer, other.issuer);
        }
        assert!(!pool.algorithms.is_empty(), "a pool with no algorithm");
        if pool.local.is_some() {
            assert!(
                config.signing_keys.is_some(),
                "a local pool without signing keys"
            );
            assert!(matches!(pool.keys, PoolKeys::Local(_)));
        }
        if let PoolKeys::Inline(keys) | PoolKeys::Local(keys) = &pool.keys {
            for key in keys.keys() {
                assert!(
                    pool.algorithms.contains(key.alg()),
                    "a key outside the pool's algorithms"
                );
            }
        }
    }
    assert!(config.revocation_cache_ttl_s <= 300);
    assert!((30..=86_400).contains(&config.kv_cache_ttl_s));
}
