//! The revocation list in Workers KV (the `REVOCATIONS` namespace).
//!
//! # Values
//! Each key holds `{"revoked_at": ms, "by": …, "reason": …, "request_id": …}` as JSON text; a
//! value that does not parse is [`StoreError::Corrupt`], which refuses the token (fail closed).
//!
//! # KV's ways, kept here
//! - Reads pass `cacheTtl` (`KV_CACHE_TTL_S`): KV's edge keeps a lookup, a miss too, that long.
//! - Writes ask for at least 60 s of life, KV's minimum `expirationTtl`.
//! - KV has no compare-and-set, so a [`Raise`] reads, decides, then writes: two locations
//!   writing the same key at once both win in turn, and the entry may end a few milliseconds
//!   lower than the later of the two. A repeated sign-out in the same second decides to write
//!   nothing, which also keeps it under KV's one-write-per-second-per-key limit; a write KV
//!   refuses for that limit (429) is retried once by the adapter's KV binding.

use serde_json::{json, Value};

use super::{
    listing::{Kind, Listed, RecentRevocations, READ_KEYS, SCAN_KEYS},
    Decision, Entry, Raise, RevocationStore,
};
use crate::{
    error::StoreError,
    json,
    ports::{key_for_log, LocalFuture, Store},
};

/// KV's smallest `expirationTtl`, in seconds.
pub const MIN_TTL_S: u64 = 60;

/// Revocation entries in a KV namespace.
pub struct KvRevocations<'a> {
    kv: &'a dyn Store,
    cache_ttl_s: u64,
}

impl<'a> KvRevocations<'a> {
    /// Entries in `kv`, read with KV's edge `cacheTtl` of `cache_ttl_s` seconds.
    pub fn new(kv: &'a dyn Store, cache_ttl_s: u64) -> Self {
        Self { kv, cache_ttl_s }
    }
}

impl RevocationStore for KvRevocations<'_> {
    fn read<'b>(
        &'b self,
        keys: &'b [String],
    ) -> LocalFuture<'b, Result<Vec<Option<Entry>>, StoreError>> {
        Box::pin(async move {
            let values = self.kv.get_many(keys, Some(self.cache_ttl_s)).await?;
            keys.iter()
                .zip(values)
                .map(|(key, text)| text.map(|text| decode(key, &text)).transpose())
                .collect()
        })
    }

    fn raise<'b>(
        &'b self,
        key: &'b str,
        raise: &'b Raise,
    ) -> LocalFuture<'b, Result<Entry, StoreError>> {
        Box::pin(async move {
            // Read KV directly (never the isolate's cache), as fresh as KV allows.
            let keys = [key.to_owned()];
            let stored = self
                .kv
                .get_many(&keys, Some(self.cache_ttl_s))
                .await?
                .pop()
                .flatten()
                .map(|text| decode(key, &text))
                .transpose()?;
            match raise.decide(stored) {
                Decision::Keep(entry) => Ok(entry),
                Decision::Write(entry) => {
                    let ttl_s = raise.ttl_s.max(MIN_TTL_S);
                    self.kv.put(key, &encode(&entry), Some(ttl_s)).await?;
                    Ok(entry)
                }
            }
        })
    }

    fn mark_direct_write(&self, now_ms: u64) -> LocalFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let text = super::filter::build::taint_text(now_ms);
            self.kv
                .put(super::filter::build::TAINT_KEY, &text, None)
                .await
        })
    }

    fn recent<'b>(
        &'b self,
        pool_id: &'b str,
        limit: usize,
    ) -> LocalFuture<'b, Result<RecentRevocations, StoreError>> {
        Box::pin(async move {
            // KV lists in key order: scan a page of each kind, keep the latest to expire.
            let mut listed: Vec<(Kind, String, Option<u64>)> = Vec::new();
            let mut complete = true;
            for kind in [Kind::User, Kind::Session] {
                let prefix = kind.prefix(pool_id);
                let page = self.kv.list(&prefix, None, SCAN_KEYS).await?;
                complete &= page.complete;
                listed.extend(
                    page.keys
                        .into_iter()
                        .map(|key| (kind, key.name, key.expiration_s)),
                );
            }
            listed.sort_by_key(|(_, _, expiration_s)| core::cmp::Reverse(*expiration_s));
            // Read more than asked (one bulk read's worth): expirations rank writes only
            // roughly (pools' lifetimes differ by kind of entry, and a fake store has none).
            listed.truncate(READ_KEYS.max(limit));
            let keys: Vec<String> = listed.iter().map(|(_, key, _)| key.clone()).collect();
            let values = if keys.is_empty() {
                Vec::new()
            } else {
                self.kv.get_many(&keys, None).await?
            };
            let mut entries = Vec::with_capacity(keys.len());
            for ((kind, key, _), text) in listed.into_iter().zip(values) {
                // Expired between the list and the read: nothing to show.
                let Some(text) = text else { continue };
                let entry = decode(&key, &text)?;
                let subject = key
                    .strip_prefix(kind.prefix(pool_id).as_str())
                    .unwrap_or_default()
                    .to_owned();
                entries.push(Listed {
                    kind,
                    subject,
                    entry,
                });
            }
            Ok(RecentRevocations::latest_first(entries, limit, complete))
        })
    }
}

/// An entry as KV holds it.
pub fn encode(entry: &Entry) -> String {
    to_value(entry).to_string()
}

/// An entry as a JSON value: `{"revoked_at", "by", "reason", "request_id"}` (KV's text, and
/// the revocation authority's wire).
pub fn to_value(entry: &Entry) -> Value {
    json!({
        "revoked_at": entry.revoked_at_ms,
        "by": entry.by,
        "reason": entry.reason,
        "request_id": entry.request_id,
    })
}

/// The entry in a JSON value as [`to_value`] writes it; `None` without a numeric `revoked_at`.
pub fn from_value(value: &Value) -> Option<Entry> {
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Some(Entry {
        revoked_at_ms: value.get("revoked_at").and_then(Value::as_u64)?,
        by: field("by"),
        reason: field("reason"),
        request_id: field("request_id"),
    })
}

/// The entry KV holds under `key`; the error names the key only as the log may show it.
pub fn decode(key: &str, text: &str) -> Result<Entry, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("{}: not a revocation entry", key_for_log(key)));
    let value = json::parse_object(text.as_bytes()).map_err(|_| corrupt())?;
    from_value(&Value::Object(value)).ok_or_else(corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MemoryStore;

    fn entry(at_ms: u64) -> Entry {
        Entry {
            revoked_at_ms: at_ms,
            by: "AKIA".into(),
            reason: "AdminUserGlobalSignOut".into(),
            request_id: "r-1".into(),
        }
    }

    fn raise(at_ms: u64, ttl_s: u64) -> Raise {
        Raise {
            entry: entry(at_ms),
            by_time: true,
            local_pool: false,
            ttl_s,
        }
    }

    #[test]
    fn an_entry_round_trips_through_its_kv_text() {
        let text = encode(&entry(1_700_000_000_123));
        assert_eq!(
            decode("rev/v1/u/p/alice", &text),
            Ok(entry(1_700_000_000_123))
        );
        assert!(matches!(
            decode("rev/v1/u/p/alice", r#"{"revoked_at":"soon"}"#),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn a_raise_writes_at_least_kvs_minimum_ttl_and_keeps_a_covering_entry() {
        let kv = MemoryStore::new();
        let store = KvRevocations::new(&kv, 30);
        let written = pollster::block_on(store.raise("k", &raise(5_000, 10))).unwrap();
        assert_eq!(written, entry(5_000));
        assert_eq!(kv.peek("k").unwrap().1, Some(MIN_TTL_S));
        // Later in the same second: the stored entry covers it; nothing is written.
        let kept = pollster::block_on(store.raise("k", &raise(5_900, 3_600))).unwrap();
        assert_eq!(kept, entry(5_000));
        assert_eq!(kv.counts().1, 1);
        let read = pollster::block_on(store.read(&["k".to_owned(), "missing".to_owned()]));
        assert_eq!(read, Ok(vec![Some(entry(5_000)), None]));
    }
}
