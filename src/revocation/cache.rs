//! The per-isolate cache of revocation lookups: bounded, least recently used out first, each
//! lookup (a miss too) reused for `REVOCATION_CACHE_TTL_S`.

use core::cell::RefCell;
use std::collections::BTreeMap;

use super::Entry;

/// Entries the per-isolate cache holds at most.
pub const CACHE_CAPACITY: usize = 10_000;

/// A bounded cache of lookups, per isolate: when full, the entry used least recently goes
/// first (a lookup that hits counts as a use; one past its lifetime does not).
pub struct RevocationCache {
    capacity: usize,
    inner: RefCell<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    /// Key → (what the lookup found, when it was fetched, its last use).
    entries: BTreeMap<String, (Option<Entry>, u64, u64)>,
    /// Last use → key: the first is the least recently used.
    by_use: BTreeMap<u64, String>,
    /// Counts uses; strictly increasing, so no two entries share one.
    clock: u64,
}

impl CacheInner {
    /// Marks `key` (last used at `previous`) as used now.
    fn touch(&mut self, key: &str, previous: Option<u64>) -> u64 {
        if let Some(previous) = previous {
            self.by_use.remove(&previous);
        }
        self.clock += 1;
        self.by_use.insert(self.clock, key.to_owned());
        self.clock
    }
}

impl Default for RevocationCache {
    fn default() -> Self {
        Self::with_capacity(CACHE_CAPACITY)
    }
}

impl RevocationCache {
    /// An empty cache of [`CACHE_CAPACITY`] lookups.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cache of at most `capacity` lookups.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
            inner: RefCell::default(),
        }
    }

    pub(super) fn get(&self, key: &str, now_ms: u64, ttl_ms: u64) -> Option<Option<Entry>> {
        let mut inner = self.inner.try_borrow_mut().ok()?;
        let (entry, fetched_at, used) = inner.entries.get(key)?;
        if now_ms.saturating_sub(*fetched_at) >= ttl_ms {
            return None;
        }
        let (entry, used) = (entry.clone(), *used);
        let now_used = inner.touch(key, Some(used));
        if let Some(slot) = inner.entries.get_mut(key) {
            slot.2 = now_used;
        }
        Some(entry)
    }

    pub(super) fn put(&self, key: &str, entry: Option<Entry>, now_ms: u64) {
        let Ok(mut inner) = self.inner.try_borrow_mut() else {
            return;
        };
        let previous = inner.entries.get(key).map(|(_, _, used)| *used);
        let used = inner.touch(key, previous);
        inner.entries.insert(key.to_owned(), (entry, now_ms, used));
        while inner.entries.len() > self.capacity {
            match inner.by_use.pop_first() {
                Some((_, least_recent)) => {
                    inner.entries.remove(&least_recent);
                }
                None => break,
            }
        }
    }

    /// How many lookups are cached.
    pub fn len(&self) -> usize {
        self.inner
            .try_borrow()
            .map(|i| i.entries.len())
            .unwrap_or(0)
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: u64 = 1_700_000_000_500;

    fn cached_entry(at_ms: u64) -> Option<Entry> {
        Some(Entry {
            revoked_at_ms: at_ms,
            by: "test".into(),
            reason: "AdminUserGlobalSignOut".into(),
            request_id: "r".into(),
        })
    }

    #[test]
    fn a_full_cache_evicts_the_least_recently_used_lookup_not_the_oldest() {
        let cache = RevocationCache::with_capacity(2);
        let ttl = 60_000;
        cache.put("a", cached_entry(1), NOW_MS);
        cache.put("b", cached_entry(2), NOW_MS);
        // `a` is the oldest, but it is used again: `b` is now the least recently used.
        assert_eq!(cache.get("a", NOW_MS, ttl), Some(cached_entry(1)));
        cache.put("c", None, NOW_MS);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("b", NOW_MS, ttl), None, "b was evicted");
        assert_eq!(cache.get("a", NOW_MS, ttl), Some(cached_entry(1)));
        assert_eq!(cache.get("c", NOW_MS, ttl), Some(None));
        // Rewriting a key is a use too, and never counts it twice.
        cache.put("a", cached_entry(3), NOW_MS);
        cache.put("d", None, NOW_MS);
        assert_eq!(
            cache.get("c", NOW_MS, ttl),
            None,
            "c was the least recently used"
        );
        assert_eq!(cache.get("a", NOW_MS, ttl), Some(cached_entry(3)));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn a_lookup_past_its_lifetime_is_a_miss_and_not_a_use() {
        let cache = RevocationCache::with_capacity(2);
        cache.put("a", cached_entry(1), NOW_MS);
        cache.put("b", cached_entry(2), NOW_MS + 10);
        assert_eq!(cache.get("a", NOW_MS + 1_000, 1_000), None, "stale");
        cache.put("c", None, NOW_MS + 1_000);
        assert_eq!(cache.get("a", NOW_MS + 1_000, 60_000), None, "a went first");
        assert_eq!(
            cache.get("b", NOW_MS + 1_000, 60_000),
            Some(cached_entry(2))
        );
    }
}
