//! Remote JWKS: fetched inside a request, cached per isolate, persisted in KV for cold isolates.
//!
//! Only results are cached, never an in-flight fetch: a promise made by one request must not be
//! awaited by another in Workers. Yet at most one fetch of a URI is in flight per isolate: a
//! request that finds no keys while another request's fetch is running waits for its result by
//! looking at the cache again every [`IN_FLIGHT_POLL_MS`] (a timer of its own, no shared promise),
//! for as long as that fetch may take ([`IN_FLIGHT_LIMIT_MS`], past the adapter's fetch
//! timeout), and fetches itself only after that. So a burst of cold requests fetches once, and a
//! fetch that hangs allows one more per [`IN_FLIGHT_LIMIT_MS`]. An unknown `kid` triggers a refetch at most once per
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
/// A fetch started this long ago is no longer waited for (the adapter gives up on a fetch after
/// 3 s; a request cancelled mid-fetch leaves its mark behind), in ms.
pub const IN_FLIGHT_LIMIT_MS: u64 = 4_000;
/// How often a request waiting for another request's fetch looks at the cache again, in ms.
pub const IN_FLIGHT_POLL_MS: u32 = 10;

#[derive(Clone)]
struct Entry {
    keys: Option<Rc<KeySet>>,
    fetched_at_ms: u64,
    last_attempt_ms: u64,
    last_failed: bool,
    /// When a request of this isolate started fetching the URI, while it is fetching.
    fetching_since: Option<u64>,
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

    /// How many URIs the isolate holds keys (or a failed attempt) for: at most one per
    /// configured remote pool, since only configured URIs are ever fetched.
    pub fn len(&self) -> usize {
        self.entries.try_borrow().map_or(0, |entries| entries.len())
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
                fetching_since: None,
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
        // How long this request has waited for another request's fetch, in ms.
        let mut waited_ms: u64 = 0;
        loop {
            let mut cached = self.entry(uri);
            if cached.is_none() {
                // A cold isolate: another isolate may have persisted the set.
                if let Some((keys, fetched_at_ms)) = self.load_persisted(uri, allowed, io).await {
                    self.update(uri, |e| {
                        e.keys = Some(keys);
                        e.fetched_at_ms = fetched_at_ms;
                    });
                }
                // Read again after the await: another request may have begun fetching meanwhile.
                cached = self.entry(uri);
            }
            let now = io.now_ms;
            if let Some(entry) = &cached {
                if let Some(keys) = &entry.keys {
                    let fresh = now.saturating_sub(entry.fetched_at_ms) < MAX_AGE_MS;
                    let knows_kid = keys.find(kid).is_some();
                    let may_refetch =
                        now.saturating_sub(entry.last_attempt_ms) >= REFETCH_COOLDOWN_MS;
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
                // Another request is fetching it: wait for that answer instead of asking too.
                let in_flight = entry.fetching_since.is_some_and(|since| {
                    (now + waited_ms).saturating_sub(since) < IN_FLIGHT_LIMIT_MS
                });
                if in_flight {
                    io.fetcher.pause(IN_FLIGHT_POLL_MS).await;
                    waited_ms += u64::from(IN_FLIGHT_POLL_MS);
                    continue;
                }
            }
            return self.fetch_now(uri, allowed, cached, io).await;
        }
    }

    /// Fetches the key set at `uri` now, marked as in flight while it runs.
    async fn fetch_now(
        &self,
        uri: &str,
        allowed: AlgSet,
        cached: Option<Entry>,
        io: &JwksIo<'_>,
    ) -> Result<Rc<KeySet>, Error> {
        let now = io.now_ms;
        self.update(uri, |e| {
            e.last_attempt_ms = now;
            e.fetching_since = Some(now);
        });
        let fetched = self.fetch(uri, allowed, io).await;
        self.update(uri, |e| e.fetching_since = None);
        match fetched {
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
        ports::{LocalFuture, MemoryStore, NoFetch},
    };
    use core::{cell::Cell, future::Future};

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

    /// One request for keys, in flight.
    type Pending<'a> = core::pin::Pin<Box<dyn Future<Output = Result<Rc<KeySet>, Error>> + 'a>>;

    /// A JWKS endpoint whose answers wait until `open` is set: fetches stay in flight.
    struct HeldFetcher {
        open: Cell<bool>,
        calls: Cell<usize>,
    }

    impl Fetcher for HeldFetcher {
        fn get_text<'a>(
            &'a self,
            _url: &'a str,
            _max_bytes: usize,
        ) -> LocalFuture<'a, Result<(u16, String), String>> {
            self.calls.set(self.calls.get() + 1);
            Box::pin(core::future::poll_fn(move |cx| {
                if self.open.get() {
                    core::task::Poll::Ready(Ok((200, jwks("a"))))
                } else {
                    cx.waker().wake_by_ref();
                    core::task::Poll::Pending
                }
            }))
        }
    }

    /// Polls every future in turn until all are done (one isolate's concurrent requests);
    /// `between` runs after each round.
    fn run_together<T>(
        mut futures: Vec<core::pin::Pin<Box<dyn core::future::Future<Output = T> + '_>>>,
        mut between: impl FnMut(usize),
    ) -> Vec<T> {
        let mut done: Vec<Option<T>> = futures.iter().map(|_| None).collect();
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        let mut round = 0;
        while done.iter().any(Option::is_none) {
            assert!(round < 100_000, "the futures never finished");
            for (future, slot) in futures.iter_mut().zip(done.iter_mut()) {
                if slot.is_none() {
                    if let core::task::Poll::Ready(value) = future.as_mut().poll(&mut cx) {
                        *slot = Some(value);
                    }
                }
            }
            round += 1;
            between(round);
        }
        done.into_iter().flatten().collect()
    }

    /// KV whose reads take a turn of the executor, as real reads take time: concurrent
    /// requests interleave around them.
    struct YieldingStore(MemoryStore);

    impl Store for YieldingStore {
        fn get_many<'a>(
            &'a self,
            keys: &'a [String],
            cache_ttl_s: Option<u64>,
        ) -> LocalFuture<'a, Result<Vec<Option<String>>, crate::error::StoreError>> {
            Box::pin(async move {
                NoFetch.pause(0).await;
                self.0.get_many(keys, cache_ttl_s).await
            })
        }

        fn put<'a>(
            &'a self,
            key: &'a str,
            value: &'a str,
            ttl_s: Option<u64>,
        ) -> LocalFuture<'a, Result<(), crate::error::StoreError>> {
            self.0.put(key, value, ttl_s)
        }

        fn delete<'a>(
            &'a self,
            key: &'a str,
        ) -> LocalFuture<'a, Result<(), crate::error::StoreError>> {
            self.0.delete(key)
        }
    }

    #[test]
    fn concurrent_cold_requests_fetch_the_jwks_once_not_once_each() {
        let store = YieldingStore(MemoryStore::new());
        let f = HeldFetcher {
            open: Cell::new(false),
            calls: Cell::new(0),
        };
        let cache = JwksCache::new();
        let allowed = AlgSet::only(Alg::Es256);
        let io = JwksIo {
            store: &store,
            fetcher: &f,
            now_ms: 1_000,
            log: &|_| {},
        };
        let requests: Vec<Pending<'_>> = (0..20)
            .map(|_| Box::pin(cache.keys(URI, Some("a"), allowed, &io)) as _)
            .collect();
        // The endpoint answers after every request has arrived and found the fetch in flight.
        let results = run_together(requests, |round| f.open.set(round >= 5));
        assert_eq!(results.len(), 20);
        assert!(results.iter().all(|keys| keys
            .as_ref()
            .is_ok_and(|keys| keys.find(Some("a")).is_some())));
        assert_eq!(f.calls.get(), 1, "one fetch for twenty cold requests");
    }

    #[test]
    fn a_fetch_in_flight_past_its_limit_is_no_longer_waited_for() {
        let store = MemoryStore::new();
        let f = HeldFetcher {
            open: Cell::new(false),
            calls: Cell::new(0),
        };
        let cache = JwksCache::new();
        let allowed = AlgSet::only(Alg::Es256);
        let io = |now| JwksIo {
            store: &store,
            fetcher: &f,
            now_ms: now,
            log: &|_| {},
        };
        let (early, late) = (io(1_000), io(1_000 + IN_FLIGHT_LIMIT_MS));
        // The first request's fetch never ends (a request cancelled mid-fetch): a request that
        // comes after the limit fetches itself, and one within it waits until the limit too.
        let mut first = Box::pin(cache.keys(URI, Some("a"), allowed, &early));
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert_eq!(f.calls.get(), 1);
        let waiting: Pending<'_> = Box::pin(cache.keys(URI, Some("a"), allowed, &early));
        let after: Pending<'_> = Box::pin(cache.keys(URI, Some("a"), allowed, &late));
        let results = run_together(vec![waiting, after], |round| f.open.set(round >= 300));
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(
            f.calls.get(),
            2,
            "one more fetch once the first is past its limit"
        );
        drop(first);
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
