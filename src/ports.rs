//! The small traits through which the core reaches the outside: KV, HTTP fetch, rate limits.
//!
//! The Worker adapter implements them over Workers bindings; [`MemoryStore`] implements the
//! store in memory for native tests, with switches that make reads or writes fail so tests can
//! show fail-closed behaviour. Futures are boxed and not `Send`: wasm has one thread, and boxing
//! keeps the traits usable as `&dyn` without a macro crate.

use core::{cell::RefCell, future::Future, pin::Pin};
use std::collections::BTreeMap;

use sha2::Digest as _;

use crate::error::StoreError;

/// A boxed, single-threaded future.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Workers KV, as the core uses it.
pub trait Store {
    /// Reads several keys in one round trip; the result has one entry per key, in order.
    /// `cache_ttl_s` is KV's edge cache lifetime for these reads (`None`: KV's default).
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
        cache_ttl_s: Option<u64>,
    ) -> LocalFuture<'a, Result<Vec<Option<String>>, StoreError>>;

    /// Writes one key, expiring after `ttl_s` seconds if given (KV's minimum is 60).
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl_s: Option<u64>,
    ) -> LocalFuture<'a, Result<(), StoreError>>;

    /// Deletes one key; deleting a missing key succeeds.
    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>>;

    /// One page of up to `limit` keys starting with `prefix`, in key order, with their
    /// expiration (KV `list`), from `cursor` (a previous page's [`KeyList::cursor`]; `None`: the
    /// first page). Names and expirations only, never values. A store that cannot list says so:
    /// an error, never an empty list.
    fn list<'a>(
        &'a self,
        prefix: &'a str,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> LocalFuture<'a, Result<KeyList, StoreError>> {
        let _ = (cursor, limit);
        Box::pin(async move {
            Err(StoreError::Read(format!(
                "this store cannot list keys ({})",
                key_for_log(prefix)
            )))
        })
    }
}

/// One key as [`Store::list`] answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedKey {
    /// The key.
    pub name: String,
    /// When it expires, seconds since the epoch (`None`: never, or not known).
    pub expiration_s: Option<u64>,
}

/// What [`Store::list`] found: one page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyList {
    /// The keys, in key order.
    pub keys: Vec<ListedKey>,
    /// Whether these are all the keys with the prefix from the cursor on (`false`: the limit
    /// cut the list).
    pub complete: bool,
    /// Where the next page starts when the list is not complete.
    pub cursor: Option<String>,
}

/// A KV key as the log may show it: its kind (the fixed segments and the pool id) and a short
/// SHA-256 of the whole key, never the user id, username or email it ends in. The hash lets
/// lines about one key be matched up; the key itself stays out of the log.
pub fn key_for_log(key: &str) -> String {
    // `rev/v1/<u|s>/<pool>/<id>`, `user/v1/<pool>/<sub|name|email>/<id>`: four fixed segments.
    // `jwks/v1/<sha256 of a URL>` holds nothing personal. Anything else: the hash alone.
    let kept = match key.split('/').next() {
        Some("rev" | "user") => 4,
        Some("jwks") => return key.to_owned(),
        _ => 0,
    };
    let prefix: String = key
        .split_inclusive('/')
        .take(kept)
        .collect::<Vec<_>>()
        .concat();
    let digest = hex::encode(sha2::Sha256::digest(key.as_bytes()));
    format!("{prefix}#{}", digest.get(..12).unwrap_or_default())
}

/// `text` (a binding's error message) with every one of `keys` in it replaced by its
/// [`key_for_log`] form, for a binding that names the key it failed on.
pub fn scrub_keys<'k>(text: &str, keys: impl IntoIterator<Item = &'k str>) -> String {
    keys.into_iter()
        .filter(|key| !key.is_empty())
        .fold(text.to_owned(), |text, key| {
            text.replace(key, &key_for_log(key))
        })
}

/// Reads one key through [`Store::get_many`].
pub async fn get_one(
    store: &dyn Store,
    key: &str,
    cache_ttl_s: Option<u64>,
) -> Result<Option<String>, StoreError> {
    let keys = [key.to_owned()];
    let mut values = store.get_many(&keys, cache_ttl_s).await?;
    Ok(values.pop().flatten())
}

/// A request the core sends out: a `POST` to a pool's upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// The absolute URL.
    pub url: String,
    /// Header pairs, names lowercase; `host` is set by the platform from the URL.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// What came back for an [`Outbound`] request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The HTTP status.
    pub status: u16,
    /// Header pairs, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body, read up to the cap.
    pub body: Vec<u8>,
}

impl Inbound {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Outbound HTTP: GET for JWKS documents, POST for pools' upstreams.
pub trait Fetcher {
    /// Fetches `url` without following redirects (a 3xx is a failure, so the URL fetched is the
    /// one configured); answers the status and body text, or why the request failed. A body
    /// over `max_bytes` is a failure, found without reading past the cap.
    fn get_text<'a>(
        &'a self,
        url: &'a str,
        max_bytes: usize,
    ) -> LocalFuture<'a, Result<(u16, String), String>>;

    /// Sends `request` as a `POST`, without following redirects (a 3xx is answered as it is),
    /// giving up after `timeout_ms`; answers the status, headers and body, or why it failed. A
    /// body over `max_bytes` is a failure, found without reading past the cap. A fetcher that
    /// cannot send (the default) fails every request.
    fn post<'a>(
        &'a self,
        request: &'a Outbound,
        max_bytes: usize,
        timeout_ms: u32,
    ) -> LocalFuture<'a, Result<Inbound, String>> {
        let _ = (max_bytes, timeout_ms);
        Box::pin(async move { Err(format!("sending is disabled ({})", request.url)) })
    }

    /// Resolves after about `ms`, letting other requests of the isolate run meanwhile (a timer
    /// in the Worker). The default yields once and resolves: native tests run on no clock.
    fn pause(&self, ms: u32) -> LocalFuture<'_, ()> {
        let _ = ms;
        Box::pin(YieldOnce(false))
    }
}

/// A future that is pending once (waking itself at once), then ready: lets other futures of the
/// same executor run.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut core::task::Context<'_>) -> core::task::Poll<()> {
        if self.0 {
            return core::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        core::task::Poll::Pending
    }
}

/// A rate limiter keyed by caller.
pub trait RateLimiter {
    /// Whether one more request from `key` is allowed now.
    fn allow<'a>(&'a self, key: &'a str) -> LocalFuture<'a, bool>;
}

/// A rate limiter that allows everything (when no binding is configured).
#[derive(Debug, Default, Clone, Copy)]
pub struct Unlimited;

impl RateLimiter for Unlimited {
    fn allow<'a>(&'a self, _key: &'a str) -> LocalFuture<'a, bool> {
        Box::pin(async { true })
    }
}

/// A fetcher that fails every request (when nothing may be fetched, and in tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoFetch;

impl Fetcher for NoFetch {
    fn get_text<'a>(
        &'a self,
        url: &'a str,
        _max_bytes: usize,
    ) -> LocalFuture<'a, Result<(u16, String), String>> {
        Box::pin(async move { Err(format!("fetching is disabled ({url})")) })
    }
}

/// An in-memory [`Store`] for native tests. Named for what it is: a fake of Workers KV.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RefCell<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    values: BTreeMap<String, (String, Option<u64>)>,
    fail_reads: bool,
    fail_writes: bool,
    reads: usize,
    writes: usize,
    written: Vec<String>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every later read fail (or succeed again).
    pub fn fail_reads(&self, fail: bool) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.fail_reads = fail;
        }
    }

    /// Makes every later write fail (or succeed again).
    pub fn fail_writes(&self, fail: bool) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.fail_writes = fail;
        }
    }

    /// The stored value and TTL of `key`, bypassing the failure switches.
    pub fn peek(&self, key: &str) -> Option<(String, Option<u64>)> {
        self.inner.try_borrow().ok()?.values.get(key).cloned()
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<String> {
        self.inner
            .try_borrow()
            .map(|inner| inner.values.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// How many `get_many` calls and `put`/`delete` calls were made.
    pub fn counts(&self) -> (usize, usize) {
        self.inner
            .try_borrow()
            .map(|inner| (inner.reads, inner.writes))
            .unwrap_or_default()
    }

    /// The keys of every `put`/`delete` call, in order.
    pub fn written(&self) -> Vec<String> {
        self.inner
            .try_borrow()
            .map(|inner| inner.written.clone())
            .unwrap_or_default()
    }

    /// How many `put`/`delete` calls were made on keys starting with `prefix`.
    pub fn writes_under(&self, prefix: &str) -> usize {
        self.inner.try_borrow().map_or(0, |inner| {
            inner
                .written
                .iter()
                .filter(|key| key.starts_with(prefix))
                .count()
        })
    }

    /// Writes a value directly, as another location would (no failure switch applies).
    pub fn seed(&self, key: &str, value: &str) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner
                .values
                .insert(key.to_owned(), (value.to_owned(), None));
        }
    }
}

impl Store for MemoryStore {
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
        _cache_ttl_s: Option<u64>,
    ) -> LocalFuture<'a, Result<Vec<Option<String>>, StoreError>> {
        Box::pin(async move {
            let mut inner = self
                .inner
                .try_borrow_mut()
                .map_err(|_| StoreError::Read("store busy".into()))?;
            inner.reads += 1;
            if inner.fail_reads {
                return Err(StoreError::Read("injected read failure".into()));
            }
            Ok(keys
                .iter()
                .map(|k| inner.values.get(k).map(|(v, _)| v.clone()))
                .collect())
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl_s: Option<u64>,
    ) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut inner = self
                .inner
                .try_borrow_mut()
                .map_err(|_| StoreError::Write("store busy".into()))?;
            inner.writes += 1;
            inner.written.push(key.to_owned());
            if inner.fail_writes {
                return Err(StoreError::Write("injected write failure".into()));
            }
            if ttl_s.is_some_and(|ttl| ttl < 60) {
                return Err(StoreError::Write("expiration ttl under 60 seconds".into()));
            }
            inner
                .values
                .insert(key.to_owned(), (value.to_owned(), ttl_s));
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut inner = self
                .inner
                .try_borrow_mut()
                .map_err(|_| StoreError::Write("store busy".into()))?;
            inner.writes += 1;
            inner.written.push(key.to_owned());
            if inner.fail_writes {
                return Err(StoreError::Write("injected write failure".into()));
            }
            inner.values.remove(key);
            Ok(())
        })
    }

    /// Lists as KV does; the fake has no clock, so no key has a known expiration.
    /// Pages of `limit` keys, so callers meet more than one page; the cursor is the last key of
    /// the page. Expirations are not known here (the store keeps TTLs, not times).
    fn list<'a>(
        &'a self,
        prefix: &'a str,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> LocalFuture<'a, Result<KeyList, StoreError>> {
        Box::pin(async move {
            let mut inner = self
                .inner
                .try_borrow_mut()
                .map_err(|_| StoreError::Read("store busy".into()))?;
            inner.reads += 1;
            if inner.fail_reads {
                return Err(StoreError::Read("injected read failure".into()));
            }
            let after = |k: &&String| cursor.is_none_or(|c| k.as_str() > c);
            let mut keys: Vec<ListedKey> = inner
                .values
                .keys()
                .filter(|k| k.starts_with(prefix))
                .filter(after)
                .take(limit.saturating_add(1))
                .map(|name| ListedKey {
                    name: name.clone(),
                    expiration_s: None,
                })
                .collect();
            let complete = keys.len() <= limit;
            keys.truncate(limit);
            let cursor = (!complete)
                .then(|| keys.last().map(|k| k.name.clone()))
                .flatten();
            Ok(KeyList {
                keys,
                complete,
                cursor,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_in_the_log_shows_its_kind_and_a_hash_never_the_name_or_email() {
        let cases = [
            (
                "rev/v1/u/us-east-1_A1/alice@example.com",
                "rev/v1/u/us-east-1_A1/#",
            ),
            (
                "rev/v1/s/us-east-1_A1/0a1b-origin-jti",
                "rev/v1/s/us-east-1_A1/#",
            ),
            (
                "user/v1/us-east-1_A1/email/alice@example.com",
                "user/v1/us-east-1_A1/email/#",
            ),
            (
                "user/v1/us-east-1_A1/name/alice/with/slashes",
                "user/v1/us-east-1_A1/name/#",
            ),
            ("alice@example.com", "#"),
        ];
        for (key, kind) in cases {
            let shown = key_for_log(key);
            assert!(shown.starts_with(kind), "{shown}");
            assert_eq!(shown.len(), kind.len() + 12, "{shown}");
            assert!(
                !shown.contains("alice") && !shown.contains("origin"),
                "{shown}"
            );
        }
        assert_ne!(
            key_for_log("rev/v1/u/p_1/alice"),
            key_for_log("rev/v1/u/p_1/bob"),
            "lines about different keys can be told apart"
        );
        assert_eq!(key_for_log("jwks/v1/abc123"), "jwks/v1/abc123");
    }

    #[test]
    fn a_binding_error_naming_a_key_is_scrubbed() {
        let key = "rev/v1/u/us-east-1_A1/alice@example.com";
        let text = scrub_keys(&format!("KV GET failed for {key}: 503"), [key, ""]);
        assert!(!text.contains("alice"), "{text}");
        assert!(
            text.contains(&key_for_log(key)) && text.ends_with(": 503"),
            "{text}"
        );
    }
}
