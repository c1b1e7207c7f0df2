//! The per-isolate cache of verified tokens: a repeat token skips parsing and the signature.
//!
//! Clients resend one token for its whole life (an hour, for Cognito's access tokens), so most
//! requests an isolate sees carry a token it has verified before. This cache keeps what the
//! signature step proved for each ([`Verified`]: the pool, the key, the claims it covers), under
//! the SHA-256 of the token's exact bytes: a token that differs in any byte (an ECDSA signature
//! made again, a segment spelled another way) is another token, verified from scratch.
//!
//! What it never skips: the claims checks that depend on the clock or on the caller
//! ([`Verified::accept`]: expiry, not-before, token use, client), and the revocation check, which
//! the caller runs on every request through the revocation cache, so a sign-out is never
//! delayed by this cache. Revocation stays keyed on claims (`sub`, `origin_jti`), never on these
//! digests.
//!
//! An entry ends when its token expires; when the key that verified it is no longer its pool's
//! key for that `kid` (a JWKS fetched again without it, a changed configuration), which the
//! caller checks on every hit by the identity of the loaded key; or when it is evicted, least
//! recently used first, past [`MAX_ENTRIES`] tokens or [`MAX_BYTES`] of them. An entry names its
//! key weakly, so it never keeps a key (or the `CryptoKey` imported for it) alive.
//!
//! The bounds: an isolate serves a few thousand users within one token lifetime at most, and a
//! Cognito access token is about 1 KB (an ID token with groups, a few), so 4 096 tokens or 4 MiB
//! of them, whichever comes first, keeps every active user's token while costing a few
//! megabytes of an isolate's 128 MB (the parsed claims take about as much again).

use core::cell::RefCell;
use std::{collections::BTreeMap, rc::Rc};

use sha2::{Digest, Sha256};

use crate::{auth::Verified, token::MAX_TOKEN_BYTES};

/// Tokens the cache holds at most.
pub const MAX_ENTRIES: usize = 4_096;
/// Bytes of tokens the cache holds at most.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// The SHA-256 of a token's exact bytes: the cache's key.
pub type TokenDigest = [u8; 32];

struct Entry {
    verified: Rc<Verified>,
    exp_ms: u64,
    bytes: usize,
    used: u64,
}

#[derive(Default)]
struct Inner {
    entries: BTreeMap<TokenDigest, Entry>,
    /// Last use → key: the first is the least recently used.
    by_use: BTreeMap<u64, TokenDigest>,
    /// Counts uses; strictly increasing, so no two entries share one.
    clock: u64,
    bytes: usize,
}

impl Inner {
    fn remove(&mut self, digest: &TokenDigest) {
        if let Some(entry) = self.entries.remove(digest) {
            self.by_use.remove(&entry.used);
            self.bytes = self.bytes.saturating_sub(entry.bytes);
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

/// The cache of verified tokens of one isolate.
pub struct VerifiedTokens {
    max_entries: usize,
    max_bytes: usize,
    inner: RefCell<Inner>,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self::with_bounds(MAX_ENTRIES, MAX_BYTES)
    }
}

impl VerifiedTokens {
    /// An empty cache of [`MAX_ENTRIES`] tokens and [`MAX_BYTES`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cache of at most `max_entries` tokens and `max_bytes` of them.
    pub fn with_bounds(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            max_entries,
            max_bytes,
            inner: RefCell::default(),
        }
    }

    /// The cache key of `token`; `None` for a token too long to be accepted at all (it is
    /// refused by the parser before anything is hashed).
    pub fn digest(token: &str) -> Option<TokenDigest> {
        (token.len() <= MAX_TOKEN_BYTES).then(|| Sha256::digest(token.as_bytes()).into())
    }

    /// What the signature step proved for this token, if it is cached and has not expired at
    /// `now_ms` (an expired entry is dropped). The caller still checks that the key is its
    /// pool's, then runs [`Verified::accept`].
    pub fn get(&self, digest: &TokenDigest, now_ms: u64) -> Option<Rc<Verified>> {
        let mut inner = self.inner.try_borrow_mut().ok()?;
        let (exp_ms, used) = inner.entries.get(digest).map(|e| (e.exp_ms, e.used))?;
        if now_ms >= exp_ms {
            inner.remove(digest);
            return None;
        }
        inner.by_use.remove(&used);
        let now_used = inner.tick();
        inner.by_use.insert(now_used, *digest);
        let entry = inner.entries.get_mut(digest)?;
        entry.used = now_used;
        Some(entry.verified.clone())
    }

    /// Keeps `verified` for the token of `digest`, `bytes` long, until its `exp`; evicts the
    /// least recently used tokens past the bounds. A token already expired is not kept.
    pub fn put(&self, digest: TokenDigest, verified: Verified, bytes: usize, now_ms: u64) {
        let exp_ms = verified.claims().exp.as_millis();
        if now_ms >= exp_ms || bytes > self.max_bytes {
            return;
        }
        let Ok(mut inner) = self.inner.try_borrow_mut() else {
            return;
        };
        inner.remove(&digest);
        let used = inner.tick();
        inner.by_use.insert(used, digest);
        inner.bytes = inner.bytes.saturating_add(bytes);
        inner.entries.insert(
            digest,
            Entry {
                verified: Rc::new(verified),
                exp_ms,
                bytes,
                used,
            },
        );
        while inner.entries.len() > self.max_entries || inner.bytes > self.max_bytes {
            let Some((_, least_recent)) = inner.by_use.pop_first() else {
                break;
            };
            if let Some(entry) = inner.entries.remove(&least_recent) {
                inner.bytes = inner.bytes.saturating_sub(entry.bytes);
            }
        }
    }

    /// Forgets the token of `digest` (its key left its pool).
    pub fn remove(&self, digest: &TokenDigest) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.remove(digest);
        }
    }

    /// How many tokens are cached.
    pub fn len(&self) -> usize {
        self.inner.try_borrow().map_or(0, |i| i.entries.len())
    }

    /// Whether no token is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    use hmac::{Hmac, Mac};
    use serde_json::json;

    use super::*;
    use crate::{
        auth::{Candidate, Expect},
        config::{Config, PoolKeys},
        crypto::RustCrypto,
    };

    const POOL: &str = "us-east-1_Bounds1";
    const SECRET: [u8; 32] = [9; 32];
    const NOW_MS: u64 = 1_700_000_000_000;

    fn config() -> Config {
        let vars = json!({"POOLS": [{"id": POOL, "clients": [{"id": "c"}], "algorithms": ["HS256"],
            "jwks": {"keys": [{"kty": "oct", "kid": "k1", "k": URL_SAFE_NO_PAD.encode(SECRET)}]}}]});
        Config::from_env(vars.as_object().unwrap()).unwrap()
    }

    /// A verified token of `sub`, expiring at `exp_s`, and its bytes.
    fn verified(config: &Config, sub: &str, exp_s: u64) -> (String, Verified) {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"k1"}"#);
        let claims = json!({"iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}"),
            "sub": sub, "token_use": "access", "client_id": "c", "iat": NOW_MS / 1000,
            "exp": exp_s});
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut mac = Hmac::<Sha256>::new_from_slice(&SECRET).unwrap();
        mac.update(input.as_bytes());
        let token = format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        );
        let candidate = Candidate::parse(&token, config, &Expect::default()).unwrap();
        let PoolKeys::Inline(keys) = &candidate.pool().keys else {
            panic!("an inline key set");
        };
        let verified =
            pollster::block_on(candidate.verify_signature_async(keys, &RustCrypto)).unwrap();
        (token, verified)
    }

    fn put(cache: &VerifiedTokens, config: &Config, sub: &str) -> TokenDigest {
        let (token, verified) = verified(config, sub, NOW_MS / 1000 + 3600);
        let digest = VerifiedTokens::digest(&token).unwrap();
        cache.put(digest, verified, token.len(), NOW_MS);
        digest
    }

    #[test]
    fn past_its_count_the_cache_drops_the_least_recently_used_token() {
        let config = config();
        let cache = VerifiedTokens::with_bounds(2, MAX_BYTES);
        let a = put(&cache, &config, "a");
        let b = put(&cache, &config, "b");
        assert!(
            cache.get(&a, NOW_MS).is_some(),
            "a used again: b is the oldest use"
        );
        let c = put(&cache, &config, "c");
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&b, NOW_MS).is_none(), "b went");
        assert_eq!(cache.get(&a, NOW_MS).unwrap().claims().sub, "a");
        assert_eq!(cache.get(&c, NOW_MS).unwrap().claims().sub, "c");
    }

    #[test]
    fn past_its_bytes_the_cache_drops_tokens_until_it_fits() {
        let config = config();
        let (token, _) = verified(&config, "a", NOW_MS / 1000 + 3600);
        // Room for two tokens of this length, not three.
        let cache = VerifiedTokens::with_bounds(100, 2 * token.len() + token.len() / 2);
        let a = put(&cache, &config, "a");
        let b = put(&cache, &config, "b");
        let c = put(&cache, &config, "c");
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&a, NOW_MS).is_none());
        assert!(cache.get(&b, NOW_MS).is_some() && cache.get(&c, NOW_MS).is_some());
    }

    #[test]
    fn a_token_past_its_exp_is_neither_kept_nor_answered() {
        let config = config();
        let cache = VerifiedTokens::new();
        let (token, expired) = verified(&config, "old", NOW_MS / 1000);
        cache.put(
            VerifiedTokens::digest(&token).unwrap(),
            expired,
            token.len(),
            NOW_MS,
        );
        assert!(cache.is_empty(), "expired when it arrived");
        let (token, fresh) = verified(&config, "new", NOW_MS / 1000 + 60);
        let digest = VerifiedTokens::digest(&token).unwrap();
        cache.put(digest, fresh, token.len(), NOW_MS);
        assert!(cache.get(&digest, NOW_MS + 59_999).is_some());
        assert!(cache.get(&digest, NOW_MS + 60_000).is_none());
        assert!(cache.is_empty(), "the entry went at exp");
    }

    #[test]
    fn a_token_longer_than_any_accepted_is_never_hashed() {
        assert!(VerifiedTokens::digest(&"a".repeat(MAX_TOKEN_BYTES + 1)).is_none());
        assert!(VerifiedTokens::digest(&"a".repeat(MAX_TOKEN_BYTES)).is_some());
    }
}
