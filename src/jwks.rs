//! Remote JWKS: fetched inside a request, cached per isolate, persisted in KV for cold isolates.
//!
//! Only results are cached, never an in-flight fetch: a promise made by one request must not be
//! awaited by another in Workers. Two concurrent requests of a cold isolate may both fetch; that
//! is cheaper than the alternative. An unknown `kid` triggers a refetch at most once per
//! [`REFETCH_COOLDOWN_MS`]; a failed fetch is retried no sooner than [`FAILURE_BACKOFF_MS`];
//! keys older than [`MAX_AGE_MS`] are refetched, and on failure the old keys keep serving for
//! up to [`STALE_LIMIT_MS`] (issuers such as Cognito rarely rotate, and refusing every user
//! because the issuer's endpoint blinked would be worse).

use core::cell::RefCell;
use std::{collections::BTreeMap, rc::Rc};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    alg::AlgSet,
    error::Error,
    jwk::{BadKeys, KeySet},
    ports::{get_one, Fetcher, Store},
};

/// Fresh keys are reused this long before a refetch, in ms.
pub const MAX_AGE_MS: u64 = 3_600_000;
/// An unknown `kid` refetches at most this often per URI, in ms.
pub const REFETCH_COOLDOWN_MS: u64 = 30_000;
/// After a failed fetch, wait this long before trying again, in ms.
pub const FAILURE_BACKOFF_MS: u64 = 5_000;
/// Keys past their age keep serving this long when refetching fails, in ms.
pub const STALE_LIMIT_MS: u64 = 86_400_000;
/// KV lifetime of a persisted JWKS, in seconds.
const PERSIST_TTL_S: u64 = 86_400;
/// Largest JWKS document accepted, in bytes.
const MAX_JWKS_BYTES: usize = 64 * 1024;

#[derive(Clone)]
struct Entry {
    keys: Option<Rc<KeySet>>,
    fetched_at_ms: u64,
    last_attempt_ms: u64,
    last_failed: bool,
}

/// A per-isolate cache of remote key sets, by URI.
#[derive(Default)]
pub struct JwksCache {
    entries: RefCell<BTreeMap<String, Entry>>,
}

/// Where the cache reaches out, and when.
pub struct JwksIo<'a> {
    /// KV, for the persisted copy.
    pub store: &'a dyn Store,
    /// HTTP, for the issuer's JWKS URI.
    pub fetcher: &'a dyn Fetcher,
    /// The request's clock, in ms.
    pub now_ms: u64,
    /// Where diagnostics go.
    pub log: &'a dyn Fn(&str),
}

impl JwksCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&self, uri: &str) -> Option<Entry> {
        self.entries.try_borrow().ok()?.get(uri).cloned()
    }

    fn update(&self, uri: &str, change: impl FnOnce(&mut Entry)) {
        if let Ok(mut entries) = self.entries.try_borrow_mut() {
            let entry = entries.entry(uri.to_owned()).or_insert(Entry {
                keys: None,
                fetched_at_ms: 0,
                last_attempt_ms: 0,
                last_failed: false,
            });
            change(entry);
        }
    }

    /// The key set at `uri` for a token with `kid`, fetching if the cache cannot answer.
    pub async fn keys(
        &self,
        uri: &str,
        kid: Option<&str>,
        allowed: AlgSet,
        io: &JwksIo<'_>,
    ) -> Result<Rc<KeySet>, Error> {
        let mut cached = self.entry(uri);
        if cached.is_none() {
            // A cold isolate: another isolate may have persisted the set.
            if let Some((keys, fetched_at_ms)) = self.load_persisted(uri, allowed, io).await {
                self.update(uri, |e| {
                    e.keys = Some(keys);
                    e.fetched_at_ms = fetched_at_ms;
                });
                cached = self.entry(uri);
            }
        }
        let now = io.now_ms;
        if let Some(entry) = &cached {
            if let Some(keys) = &entry.keys {
                let fresh = now.saturating_sub(entry.fetched_at_ms) < MAX_AGE_MS;
                let knows_kid = keys.find(kid).is_some();
                let may_refetch = now.saturating_sub(entry.last_attempt_ms) >= REFETCH_COOLDOWN_MS;
                if (fresh && knows_kid) || !may_refetch {
                    return Ok(keys.clone());
                }
            } else if entry.last_failed
                && now.saturating_sub(entry.last_attempt_ms) < FAILURE_BACKOFF_MS
            {
                return Err(Error::KeysUnavailable(format!(
                    "{uri}: last fetch failed less than {FAILURE_BACKOFF_MS} ms ago"
                )));
            }
        }

        self.update(uri, |e| e.last_attempt_ms = now);
        match self.fetch(uri, allowed, io).await {
            Ok((keys, document)) => {
                let keys = Rc::new(keys);
                self.update(uri, |e| {
                    e.keys = Some(keys.clone());
                    e.fetched_at_ms = now;
                    e.last_failed = false;
                });
                self.persist(uri, &document, io).await;
                Ok(keys)
            }
            Err(why) => {
                (io.log)(&format!("jwks fetch from {uri} failed: {why}"));
                self.update(uri, |e| e.last_failed = true);
                match cached.and_then(|e| {
                    let usable = now.saturating_sub(e.fetched_at_ms) < STALE_LIMIT_MS;
                    e.keys.filter(|_| usable)
                }) {
                    Some(stale) => Ok(stale),
                    None => Err(Error::KeysUnavailable(format!("{uri}: {why}"))),
                }
            }
        }
    }

    async fn fetch(
        &self,
        uri: &str,
        allowed: AlgSet,
        io: &JwksIo<'_>,
    ) -> Result<(KeySet, Value), String> {
        let (status, body) = io.fetcher.get_text(uri, MAX_JWKS_BYTES).await?;
        // Anything but 200 is a failure, a redirect included: it is never followed.
        if status != 200 {
            return Err(format!("HTTP {status}"));
        }
        if body.len() > MAX_JWKS_BYTES {
            return Err(format!("document larger than {MAX_JWKS_BYTES} bytes"));
        }
        let document = crate::json::parse_value(body.as_bytes()).map_err(|e| e.to_string())?;
        let mut dropped = Vec::new();
        let keys = KeySet::parse(&document, allowed, BadKeys::Skip, &mut dropped)
            .map_err(|e| e.to_string())?;
        for why in dropped {
            (io.log)(&format!("jwks {uri}: skipped {why}"));
        }
        Ok((keys, document))
    }

    async fn load_persisted(
        &self,
        uri: &str,
        allowed: AlgSet,
        io: &JwksIo<'_>,
    ) -> Option<(Rc<KeySet>, u64)> {
        let text = match get_one(io.store, &persist_key(uri), None).await {
            Ok(text) => text?,
            Err(err) => {
                (io.log)(&format!("jwks {uri}: persisted copy unreadable: {err}"));
                return None;
            }
        };
        let record = crate::json::parse_object(text.as_bytes()).ok()?;
        let fetched_at_ms = record.get("fetched_at")?.as_u64()?;
        let keys =
            KeySet::parse(record.get("jwks")?, allowed, BadKeys::Skip, &mut Vec::new()).ok()?;
        Some((Rc::new(keys), fetched_at_ms))
    }

    async fn persist(&self, uri: &str, document: &Value, io: &JwksIo<'_>) {
        let record = serde_json::json!({ "fetched_at": io.now_ms, "jwks": document });
        if let Err(err) = io
            .store
            .put(&persist_key(uri), &record.to_string(), Some(PERSIST_TTL_S))
            .await
        {
            // Only the next cold isolate pays for this: it fetches instead of reading KV.
            (io.log)(&format!("jwks {uri}: could not persist: {err}"));
        }
    }
}

/// KV key of a persisted JWKS: a hash of its URI, so any URI fits KV's 512-byte key limit.
fn persist_key(uri: &str) -> String {
    format!("jwks/v1/{}", hex::encode(Sha256::digest(uri.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        alg::Alg,
        ports::{LocalFuture, MemoryStore},
    };
    use core::cell::Cell;

    struct CountingFetcher {
        body: RefCell<Result<(u16, String), String>>,
        calls: Cell<usize>,
    }

    impl Fetcher for CountingFetcher {
        fn get_text<'a>(
            &'a self,
            _url: &'a str,
            _max_bytes: usize,
        ) -> LocalFuture<'a, Result<(u16, String), String>> {
            self.calls.set(self.calls.get() + 1);
            let answer = self.body.borrow().clone();
            Box::pin(async move { answer })
        }
    }

    fn jwks(kid: &str) -> String {
        serde_json::json!({"keys":[{"kty":"EC","crv":"P-256","kid":kid,"alg":"ES256",
            "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})
        .to_string()
    }

    fn fetcher(body: Result<(u16, String), String>) -> CountingFetcher {
        CountingFetcher {
            body: RefCell::new(body),
            calls: Cell::new(0),
        }
    }

    fn run<T>(f: impl core::future::Future<Output = T>) -> T {
        pollster::block_on(f)
    }

    const URI: &str = "https://issuer.example/jwks";

    #[test]
    fn keys_are_fetched_once_and_then_served_from_the_isolate() {
        let store = MemoryStore::new();
        let f = fetcher(Ok((200, jwks("a"))));
        let cache = JwksCache::new();
        let allowed = AlgSet::only(Alg::Es256);
        for now in [0, 1_000, 2_000] {
            let io = JwksIo {
                store: &store,
                fetcher: &f,
                now_ms: now,
                log: &|_| {},
            };
            assert!(run(cache.keys(URI, Some("a"), allowed, &io))
                .unwrap()
                .find(Some("a"))
                .is_some());
        }
        assert_eq!(f.calls.get(), 1);
    }

    #[test]
    fn an_unknown_kid_refetches_at_most_once_per_cooldown() {
        let store = MemoryStore::new();
        let f = fetcher(Ok((200, jwks("a"))));
        let cache = JwksCache::new();
        let allowed = AlgSet::only(Alg::Es256);
        let io = |now| JwksIo {
            store: &store,
            fetcher: &f,
            now_ms: now,
            log: &|_| {},
        };
        run(cache.keys(URI, Some("a"), allowed, &io(0))).unwrap();
        for now in [1, 10, 100, REFETCH_COOLDOWN_MS - 1] {
            run(cache.keys(URI, Some("zzz"), allowed, &io(now))).unwrap();
        }
        assert_eq!(f.calls.get(), 1);
        run(cache.keys(URI, Some("zzz"), allowed, &io(REFETCH_COOLDOWN_MS))).unwrap();
        assert_eq!(f.calls.get(), 2);
    }

    #[test]
    fn a_cold_isolate_reads_the_persisted_copy_instead_of_fetching() {
        let store = MemoryStore::new();
        let f = fetcher(Ok((200, jwks("a"))));
        let io = JwksIo {
            store: &store,
            fetcher: &f,
            now_ms: 0,
            log: &|_| {},
        };
        run(JwksCache::new().keys(URI, Some("a"), AlgSet::only(Alg::Es256), &io)).unwrap();
        let second = fetcher(Err("must not be called".into()));
        let io = JwksIo {
            store: &store,
            fetcher: &second,
            now_ms: 10,
            log: &|_| {},
        };
        let keys =
            run(JwksCache::new().keys(URI, Some("a"), AlgSet::only(Alg::Es256), &io)).unwrap();
        assert!(keys.find(Some("a")).is_some());
        assert_eq!(second.calls.get(), 0);
    }

    #[test]
    fn a_failed_fetch_without_keys_is_unavailable_and_backs_off() {
        let store = MemoryStore::new();
        let f = fetcher(Ok((503, String::new())));
        let cache = JwksCache::new();
        let io = |now| JwksIo {
            store: &store,
            fetcher: &f,
            now_ms: now,
            log: &|_| {},
        };
        assert!(matches!(
            run(cache.keys(URI, None, AlgSet::only(Alg::Es256), &io(0))),
            Err(Error::KeysUnavailable(_))
        ));
        assert!(matches!(
            run(cache.keys(URI, None, AlgSet::only(Alg::Es256), &io(10))),
            Err(Error::KeysUnavailable(_))
        ));
        assert_eq!(f.calls.get(), 1);
    }

    #[test]
    fn stale_keys_keep_serving_when_the_issuer_is_down() {
        let store = MemoryStore::new();
        let f = fetcher(Ok((200, jwks("a"))));
        let cache = JwksCache::new();
        let allowed = AlgSet::only(Alg::Es256);
        let io = |now| JwksIo {
            store: &store,
            fetcher: &f,
            now_ms: now,
            log: &|_| {},
        };
        run(cache.keys(URI, Some("a"), allowed, &io(0))).unwrap();
        *f.body.borrow_mut() = Err("connection refused".into());
        let keys = run(cache.keys(URI, Some("a"), allowed, &io(MAX_AGE_MS + 1))).unwrap();
        assert!(keys.find(Some("a")).is_some());
        assert_eq!(f.calls.get(), 2);
    }
}
