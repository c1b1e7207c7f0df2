//! The filter as the revocation authority keeps it: the active keys, when to build a new base,
//! and what a build covers.
//!
//! # Active keys
//! [`FilterKeys`] holds every revocation key with an active entry and when its KV entry expires
//! (the authority notes each commit, [`FilterKeys::note`]). A build leaves out keys whose
//! expiry, plus [`EXPIRY_MARGIN_MS`], has passed: their tokens have expired too (an entry lives
//! as long as the pool's longest token).
//!
//! # Writes without the authority: the taint
//! A revocation written straight to KV (the authority unreachable) first raises the KV key
//! [`TAINT_KEY`] to its clock (ms) and only then writes the entry. The authority reads the taint
//! and passes it to readers with its feed; a gate whose base covers less is incomplete. The
//! authority's own start counts as a taint too ([`FilterKeeper::new`]): entries already in KV
//! before it existed (a first deploy, older versions still running) were written without it.
//! Only a rebuild from a KV listing covers a taint, and only a listing started when KV is
//! certain to show every entry written up to the taint ([`FilterKeeper::listing_covers`]: the
//! taint plus KV's window plus [`DIRECT_WRITE_ALLOWANCE_MS`]).
//!
//! # When to rebuild ([`FilterKeeper::due`])
//! - a taint newer than the base covers, once a listing can cover it: from a listing;
//! - no base yet: from the active keys (complete only once a listing covers the start);
//! - revocations after the base's `seq` and a base older than half the feed's window (readers'
//!   copies of the feed keep only that window: after it the base no longer joins their copy);
//! - a base older than [`MAX_BASE_AGE_MS`] with entries in it, so expired ones leave.

use core::cell::RefCell;
use std::collections::BTreeMap;

use super::{bloom, BaseMeta, FilterBase, MAX_EPOCH_BYTES};
use serde_json::{json, Value};

use crate::{config::RevocationFilterSettings, error::StoreError, ports::Store};

/// The KV key a write made without the authority raises before it writes its entry; its value
/// is the writer's clock in ms, as decimal text.
pub const TAINT_KEY: &str = "rev/v1/filter/taint";
/// Kept past an entry's KV expiry before it leaves the filter, in ms: KV's expiry is in whole
/// seconds and its deletion not instant.
pub const EXPIRY_MARGIN_MS: u64 = 60_000;
/// Time a write made without the authority may take between raising the taint and writing its
/// entry, with clocks that disagree, in ms.
pub const DIRECT_WRITE_ALLOWANCE_MS: u64 = 30_000;
/// The largest base built, in bytes of bits (32 MB, a quarter of an isolate's memory): settings
/// that would need more build none, and checks read KV.
pub const MAX_BASE_BYTES: u64 = 32 * 1024 * 1024;
/// The shortest time after the taint a KV listing is trusted, in ms, whatever
/// `REVOCATION_FILTER_LISTING_DELAY_S` says: a write may reuse a taint raised up to
/// [`crate::revocation::feed::TAINT_REUSE_MS`] (5 s) before it starts, and take 10 s to land.
pub const MIN_LISTING_DELAY_MS: u64 = 15_000;
/// A base older than this is rebuilt, so expired entries leave it, in ms (an hour).
pub const MAX_BASE_AGE_MS: u64 = 3_600_000;

/// One key of a KV listing (`list()` answers names and, for entries written with a TTL, their
/// expiration in seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The KV key.
    pub key: String,
    /// Its expiration, s since the epoch (`None`: none).
    pub expiration_s: Option<u64>,
}

/// The value a write made without the authority stores under [`TAINT_KEY`]: its clock.
pub fn taint_text(now_ms: u64) -> String {
    now_ms.to_string()
}

/// The taint as read from KV at `now_ms`: no key is no taint (0); a value that is not a time
/// counts as a taint now (an unreadable taint must never read as none).
pub fn read_taint(text: Option<&str>, now_ms: u64) -> u64 {
    match text {
        None => 0,
        Some(text) => text.trim().parse().unwrap_or(now_ms),
    }
}

/// The prefixes a listing reads: user entries, then session entries.
pub const LISTED_PREFIXES: [&str; 2] = ["rev/v1/u/", "rev/v1/s/"];

/// Keys a listing asks KV for in one page (KV's largest page).
pub const LIST_PAGE_KEYS: usize = 1000;

/// Every revocation key KV lists, with its expiration, following the pages' cursors, `page`
/// keys a page ([`LIST_PAGE_KEYS`]). A failed page fails the whole listing (a partial one must
/// never be taken to cover the taint).
pub async fn list_revocation_keys(
    store: &dyn Store,
    page: usize,
) -> Result<Vec<Listed>, StoreError> {
    let mut listed = Vec::new();
    for prefix in LISTED_PREFIXES {
        let mut cursor: Option<String> = None;
        loop {
            let found = store.list(prefix, cursor.as_deref(), page).await?;
            listed.extend(found.keys.into_iter().map(|key| Listed {
                key: key.name,
                expiration_s: key.expiration_s,
            }));
            if found.complete {
                break;
            }
            match found.cursor {
                Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                _ => {
                    return Err(StoreError::Read(
                        "the listing's cursor did not move on".into(),
                    ))
                }
            }
        }
    }
    Ok(listed)
}

/// Whether `key` names a revocation entry (a user or a session entry).
pub fn is_revocation_key(key: &str) -> bool {
    key.starts_with("rev/v1/u/") || key.starts_with("rev/v1/s/")
}

/// The active revocation keys and when each expires, in ms (`u64::MAX`: never).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterKeys {
    keys: BTreeMap<String, u64>,
}

impl FilterKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes an entry under `key` that KV keeps until `expires_ms` (a later expiry wins).
    pub fn note(&mut self, key: &str, expires_ms: u64) {
        let slot = self.keys.entry(key.to_owned()).or_insert(expires_ms);
        *slot = (*slot).max(expires_ms);
    }

    /// Adds the revocation keys of a KV listing (other keys are skipped); answers how many
    /// were not held yet.
    pub fn merge_listing(&mut self, listing: impl IntoIterator<Item = Listed>) -> usize {
        let before = self.keys.len();
        for listed in listing.into_iter().filter(|l| is_revocation_key(&l.key)) {
            let expires_ms = listed
                .expiration_s
                .map_or(u64::MAX, |s| s.saturating_mul(1000));
            self.note(&listed.key, expires_ms);
        }
        self.keys.len() - before
    }

    /// Drops the keys expired at `now_ms` (past their expiry plus [`EXPIRY_MARGIN_MS`]);
    /// answers how many.
    pub fn drop_expired(&mut self, now_ms: u64) -> usize {
        let before = self.keys.len();
        self.keys
            .retain(|_, expires_ms| expires_ms.saturating_add(EXPIRY_MARGIN_MS) > now_ms);
        before - self.keys.len()
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys held.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}

/// An empty Bloom filter sized for `meta.count` keys, or `None` if the settings allow no filter
/// of that size (more entries than `REVOCATION_FILTER_MAX_ENTRIES`, or more than
/// [`MAX_BASE_BYTES`]).
fn sized_bloom(
    meta: &BaseMeta,
    seed: u64,
    settings: &RevocationFilterSettings,
) -> Option<bloom::Bloom> {
    let allowed = settings.max_entries > 0 && meta.count <= settings.max_entries;
    if !allowed || meta.epoch.len() > MAX_EPOCH_BYTES {
        return None;
    }
    let (bits, hashes) = bloom::sizing(meta.count, settings.fp_rate);
    if bits / 8 > MAX_BASE_BYTES {
        return None;
    }
    Some(bloom::Bloom::new(seed, bits, hashes))
}

/// Builds a base of `meta.count` keys (the number the filter is sized for; more only fill it
/// fuller). `None` if the settings allow no filter of that size (more entries than
/// `REVOCATION_FILTER_MAX_ENTRIES`, or more than [`MAX_BASE_BYTES`]).
pub fn build_base<'k>(
    meta: BaseMeta,
    seed: u64,
    settings: &RevocationFilterSettings,
    keys: impl IntoIterator<Item = &'k str>,
) -> Option<FilterBase> {
    let mut bloom = sized_bloom(&meta, seed, settings)?;
    let mut inserted = 0u64;
    for key in keys {
        bloom.insert(key);
        inserted += 1;
    }
    Some(FilterBase {
        meta: BaseMeta {
            count: inserted,
            ..meta
        },
        bloom,
    })
}

/// Keys a build reads from a [`KeyTable`] at a time.
pub const BUILD_PAGE_KEYS: usize = 5_000;

/// Where the authority keeps its active keys and their expiries: its SQLite table (a million
/// keys do not fit an object's memory), or [`FilterKeys`] in memory.
pub trait KeyTable {
    /// Notes an entry under `key` that KV keeps until `expires_ms` (a later expiry wins).
    fn note_key(&self, key: &str, expires_ms: u64) -> Result<(), StoreError>;
    /// Drops the keys past their expiry plus [`EXPIRY_MARGIN_MS`] at `now_ms`.
    fn drop_expired_keys(&self, now_ms: u64) -> Result<(), StoreError>;
    /// How many keys are held.
    fn key_count(&self) -> Result<u64, StoreError>;
    /// Up to `limit` keys after `after` (`""`: from the first), in order.
    fn keys_after(&self, after: &str, limit: usize) -> Result<Vec<String>, StoreError>;
}

impl KeyTable for RefCell<FilterKeys> {
    fn note_key(&self, key: &str, expires_ms: u64) -> Result<(), StoreError> {
        let mut keys = self
            .try_borrow_mut()
            .map_err(|_| StoreError::Write("filter keys busy".into()))?;
        keys.note(key, expires_ms);
        Ok(())
    }

    fn drop_expired_keys(&self, now_ms: u64) -> Result<(), StoreError> {
        let mut keys = self
            .try_borrow_mut()
            .map_err(|_| StoreError::Write("filter keys busy".into()))?;
        keys.drop_expired(now_ms);
        Ok(())
    }

    fn key_count(&self) -> Result<u64, StoreError> {
        let keys = self
            .try_borrow()
            .map_err(|_| StoreError::Read("filter keys busy".into()))?;
        Ok(keys.len() as u64)
    }

    fn keys_after(&self, after: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        let keys = self
            .try_borrow()
            .map_err(|_| StoreError::Read("filter keys busy".into()))?;
        Ok(keys
            .keys
            .range::<str, _>((
                core::ops::Bound::Excluded(after),
                core::ops::Bound::Unbounded,
            ))
            .take(limit)
            .map(|(k, _)| k.clone())
            .collect())
    }
}

/// How the next base is to be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuild {
    /// From the active keys.
    FromKeys,
    /// From a KV listing merged into the active keys: it covers the taint.
    FromListing,
}

/// The timings a rebuild decision needs, in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// How long readers' copies of the feed keep an entry.
    pub feed_window_ms: u64,
    /// How long after the taint a KV listing is trusted to show every entry written up to it
    /// (`REVOCATION_FILTER_LISTING_DELAY_S`; by default KV's window plus
    /// [`DIRECT_WRITE_ALLOWANCE_MS`]).
    pub listing_delay_ms: u64,
}

/// The authority's filter bookkeeping: the taint and what the last base covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterKeeper {
    /// The newest write known to be made without the authority (its own start counts), ms.
    pub taint_ms: u64,
    /// The taint the active keys cover (a listing made late enough merged in), ms.
    pub taint_covered_ms: u64,
    /// The last base built, if any (or attempted: see `built`).
    pub last: Option<BaseMeta>,
    /// Whether the last attempt built a base (`false`: the settings allowed none of its size).
    pub built: bool,
}

impl FilterKeeper {
    /// The bookkeeping of an authority whose storage starts at `born_ms`: anything in KV before
    /// then was written without it (a start at 0 counts as 1 ms: 0 is no taint).
    pub fn new(born_ms: u64) -> Self {
        Self {
            taint_ms: born_ms.max(1),
            taint_covered_ms: 0,
            last: None,
            built: false,
        }
    }

    /// The bookkeeping as JSON text, for the authority's storage.
    pub fn encode(&self) -> String {
        let last = self.last.as_ref().map(|m| {
            json!({"version": m.version, "epoch": m.epoch, "seq": m.seq,
                   "built_at_ms": m.built_at_ms, "taint_covered_ms": m.taint_covered_ms,
                   "count": m.count})
        });
        json!({"taint_ms": self.taint_ms, "taint_covered_ms": self.taint_covered_ms,
               "last": last, "built": self.built})
        .to_string()
    }

    /// Bookkeeping as [`FilterKeeper::encode`] wrote it; `None` for anything else (the
    /// authority then starts over, as on its first start: nothing is covered).
    pub fn decode(text: &str) -> Option<Self> {
        let value = crate::json::parse_value(text.as_bytes()).ok()?;
        let number = |v: &Value, name: &str| v.get(name).and_then(Value::as_u64);
        let last = match value.get("last")? {
            Value::Null => None,
            m => Some(BaseMeta {
                version: number(m, "version")?,
                epoch: m.get("epoch")?.as_str()?.to_owned(),
                seq: number(m, "seq")?,
                built_at_ms: number(m, "built_at_ms")?,
                taint_covered_ms: number(m, "taint_covered_ms")?,
                count: number(m, "count")?,
            }),
        };
        Some(Self {
            taint_ms: number(&value, "taint_ms")?,
            taint_covered_ms: number(&value, "taint_covered_ms")?,
            last,
            built: value.get("built")?.as_bool()?,
        })
    }

    /// Notes the taint read from KV ([`TAINT_KEY`]); it never goes back.
    pub fn saw_taint(&mut self, taint_ms: u64) {
        self.taint_ms = self.taint_ms.max(taint_ms);
    }

    /// Whether a listing started at `started_ms` shows every entry written up to the taint.
    pub fn listing_covers(&self, started_ms: u64, timings: &Timings) -> bool {
        let delay = timings.listing_delay_ms.max(MIN_LISTING_DELAY_MS);
        started_ms >= self.taint_ms.saturating_add(delay)
    }

    /// Notes a listing started at `started_ms` merged into the active keys: it covers the
    /// taint if it started late enough.
    pub fn listed(&mut self, started_ms: u64, timings: &Timings) {
        if self.listing_covers(started_ms, timings) {
            self.taint_covered_ms = self.taint_ms;
        }
    }

    /// Whether a base is due at `now_ms` with the feed's head at `head`, and from what.
    pub fn due(&self, head: u64, now_ms: u64, timings: &Timings) -> Option<Rebuild> {
        if self.taint_ms > self.taint_covered_ms && self.listing_covers(now_ms, timings) {
            return Some(Rebuild::FromListing);
        }
        let Some(last) = &self.last else {
            return Some(Rebuild::FromKeys);
        };
        let age_ms = now_ms.saturating_sub(last.built_at_ms);
        let behind = last.seq < head && age_ms >= timings.feed_window_ms / 2;
        let expiring = last.count > 0 && age_ms >= MAX_BASE_AGE_MS;
        (behind || expiring).then_some(Rebuild::FromKeys)
    }

    /// Builds the next base of `keys` (expired ones dropped first) in `epoch` as of `head`, at
    /// `now_ms`, and remembers it. `None` if the settings allow no filter of that size.
    pub fn build(
        &mut self,
        keys: &mut FilterKeys,
        epoch: &str,
        head: u64,
        now_ms: u64,
        seed: u64,
        settings: &RevocationFilterSettings,
    ) -> Option<FilterBase> {
        let table = RefCell::new(core::mem::take(keys));
        let base = self.build_from(&table, epoch, head, now_ms, seed, settings);
        *keys = table.into_inner();
        base.ok().flatten()
    }

    /// [`FilterKeeper::build`] over a [`KeyTable`], read a page at a time. The keys are read
    /// after `head` was: a key committed up to `head` is in the table, and one committed later
    /// only fills the base fuller.
    pub fn build_from(
        &mut self,
        table: &dyn KeyTable,
        epoch: &str,
        head: u64,
        now_ms: u64,
        seed: u64,
        settings: &RevocationFilterSettings,
    ) -> Result<Option<FilterBase>, StoreError> {
        table.drop_expired_keys(now_ms)?;
        let version = self
            .last
            .as_ref()
            .map_or(1, |l| l.version.saturating_add(1));
        let meta = BaseMeta {
            version,
            epoch: epoch.to_owned(),
            seq: head,
            built_at_ms: now_ms,
            taint_covered_ms: self.taint_covered_ms,
            count: table.key_count()?,
        };
        // A refusal is remembered too, so the next attempt waits as a rebuild would.
        self.last = Some(meta.clone());
        self.built = false;
        let Some(mut bloom) = sized_bloom(&meta, seed, settings) else {
            return Ok(None);
        };
        let mut inserted = 0u64;
        let mut after = String::new();
        loop {
            let page = table.keys_after(&after, BUILD_PAGE_KEYS)?;
            for key in &page {
                bloom.insert(key);
            }
            inserted += page.len() as u64;
            match page.last() {
                Some(last) if page.len() >= BUILD_PAGE_KEYS => after = last.clone(),
                _ => break,
            }
        }
        self.built = true;
        let meta = BaseMeta {
            count: inserted,
            ..meta
        };
        self.last = Some(meta.clone());
        Ok(Some(FilterBase { meta, bloom }))
    }
}

/// The authority's filter upkeep at `now_ms`, with the feed's head at `head`: reads the taint
/// from KV, and if a base is due (or `force`) builds it (after a listing of KV when that is what
/// is due). Answers the new base, if one was built. A failed taint read or listing builds
/// nothing and is an error: the last base stays, and readers stay as complete as it makes them.
#[allow(clippy::too_many_arguments)]
pub async fn upkeep(
    keeper: &mut FilterKeeper,
    keys: &mut FilterKeys,
    kv: &dyn Store,
    epoch: &str,
    head: u64,
    now_ms: u64,
    seed: u64,
    settings: &RevocationFilterSettings,
    timings: &Timings,
) -> Result<Option<FilterBase>, StoreError> {
    let table = RefCell::new(core::mem::take(keys));
    let head = move || Ok(head);
    let base = upkeep_table(
        keeper, &table, kv, epoch, &head, now_ms, seed, settings, timings, false,
    )
    .await;
    *keys = table.into_inner();
    base
}

/// [`upkeep`] over a [`KeyTable`]; `head` is read after the listing, just before the keys.
#[allow(clippy::too_many_arguments)]
pub async fn upkeep_table(
    keeper: &mut FilterKeeper,
    table: &dyn KeyTable,
    kv: &dyn Store,
    epoch: &str,
    head: &dyn Fn() -> Result<u64, StoreError>,
    now_ms: u64,
    seed: u64,
    settings: &RevocationFilterSettings,
    timings: &Timings,
    force: bool,
) -> Result<Option<FilterBase>, StoreError> {
    let taint_key = [TAINT_KEY.to_owned()];
    let taint = kv.get_many(&taint_key, None).await?.pop().flatten();
    keeper.saw_taint(read_taint(taint.as_deref(), now_ms));
    let due = match keeper.due(head()?, now_ms, timings) {
        None if force => Some(Rebuild::FromKeys),
        due => due,
    };
    let Some(how) = due else {
        return Ok(None);
    };
    if how == Rebuild::FromListing {
        let listed = list_revocation_keys(kv, LIST_PAGE_KEYS).await?;
        for key in listed.into_iter().filter(|l| is_revocation_key(&l.key)) {
            let expires_ms = key
                .expiration_s
                .map_or(u64::MAX, |s| s.saturating_mul(1000));
            table.note_key(&key.key, expires_ms)?;
        }
        keeper.listed(now_ms, timings);
    }
    keeper.build_from(table, epoch, head()?, now_ms, seed, settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMINGS: Timings = Timings {
        feed_window_ms: 155_000,
        listing_delay_ms: 95_000 + DIRECT_WRITE_ALLOWANCE_MS,
    };

    fn settings() -> RevocationFilterSettings {
        RevocationFilterSettings::default()
    }

    #[test]
    fn a_build_drops_entries_past_their_expiry_and_keeps_the_rest() {
        let mut keys = FilterKeys::new();
        keys.note("rev/v1/u/p/old", 1_000);
        keys.note("rev/v1/u/p/new", 500_000);
        let mut keeper = FilterKeeper::new(0);
        let base = keeper
            .build(&mut keys, "e", 2, 1_000 + EXPIRY_MARGIN_MS, 1, &settings())
            .unwrap();
        assert_eq!(base.meta.count, 1);
        assert!(base.may_contain("rev/v1/u/p/new"));
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["rev/v1/u/p/new"]);
        // Just before the margin ends, an entry past its expiry stays.
        let mut keys = FilterKeys::new();
        keys.note("rev/v1/u/p/old", 1_000);
        assert_eq!(keys.drop_expired(1_000 + EXPIRY_MARGIN_MS - 1), 0);
    }

    #[test]
    fn a_later_write_extends_a_keys_expiry() {
        let mut keys = FilterKeys::new();
        keys.note("rev/v1/u/p/a", 500_000);
        keys.note("rev/v1/u/p/a", 1_000);
        assert_eq!(keys.drop_expired(400_000), 0);
    }

    #[test]
    fn a_listing_adds_only_revocation_keys_with_their_expirations() {
        let mut keys = FilterKeys::new();
        keys.note("rev/v1/u/p/a", 10_000_000);
        let added = keys.merge_listing([
            Listed {
                key: "rev/v1/u/p/a".into(),
                expiration_s: Some(1),
            },
            Listed {
                key: "rev/v1/s/p/o1".into(),
                expiration_s: Some(2_000),
            },
            Listed {
                key: "rev/v1/u/p/forever".into(),
                expiration_s: None,
            },
            Listed {
                key: TAINT_KEY.into(),
                expiration_s: None,
            },
            Listed {
                key: "jwks/us-east-1_P".into(),
                expiration_s: None,
            },
        ]);
        assert_eq!(added, 2);
        assert_eq!(keys.drop_expired(2_000_000 + EXPIRY_MARGIN_MS), 1);
        assert_eq!(
            keys.keys().collect::<Vec<_>>(),
            ["rev/v1/u/p/a", "rev/v1/u/p/forever"]
        );
    }

    #[test]
    fn a_listing_follows_every_page_of_both_prefixes_and_nothing_else() {
        use crate::ports::MemoryStore;
        let store = MemoryStore::new();
        for key in [
            "rev/v1/u/p/a",
            "rev/v1/u/p/b",
            "rev/v1/u/p/c",
            "rev/v1/s/p/o1",
            "rev/v1/s/p/o2",
            "rev/v1/s/p/o3",
            "rev/v1/s/p/o4",
            "jwks/v1/x",
            TAINT_KEY,
        ] {
            store.seed(key, "{}");
        }
        let listed = pollster::block_on(list_revocation_keys(&store, 2)).unwrap();
        let keys: Vec<&str> = listed.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "rev/v1/u/p/a",
                "rev/v1/u/p/b",
                "rev/v1/u/p/c",
                "rev/v1/s/p/o1",
                "rev/v1/s/p/o2",
                "rev/v1/s/p/o3",
                "rev/v1/s/p/o4"
            ]
        );
        assert_eq!(store.counts().0, 4, "two pages of each prefix");
    }

    #[test]
    fn an_unreadable_taint_counts_as_one_now_and_an_absent_one_as_none() {
        assert_eq!(read_taint(None, 500), 0);
        assert_eq!(read_taint(Some(&taint_text(123)), 500), 123);
        assert_eq!(read_taint(Some(" 123\n"), 500), 123);
        for bad in ["", "-1", "1.5", "soon", "99999999999999999999999"] {
            assert_eq!(read_taint(Some(bad), 500), 500, "{bad}");
        }
    }

    #[test]
    fn the_keepers_bookkeeping_survives_its_text_form_and_damage_starts_it_over() {
        let mut keeper = FilterKeeper::new(5);
        assert_eq!(FilterKeeper::decode(&keeper.encode()), Some(keeper.clone()));
        keeper.saw_taint(77);
        keeper.build(&mut FilterKeys::new(), "e", 3, 9, 1, &settings());
        assert!(keeper.built);
        assert_eq!(FilterKeeper::decode(&keeper.encode()), Some(keeper.clone()));
        for bad in ["", "{}", "[1]", r#"{"taint_ms":-1}"#] {
            assert_eq!(FilterKeeper::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_refused_build_is_remembered_so_it_is_not_retried_at_once() {
        let mut keeper = FilterKeeper::new(1);
        let mut keys = FilterKeys::new();
        (0..3).for_each(|i| keys.note(&format!("rev/v1/u/p/{i}"), u64::MAX));
        let small = RevocationFilterSettings {
            max_entries: 2,
            ..settings()
        };
        assert!(keeper.build(&mut keys, "e", 4, 10, 1, &small).is_none());
        assert!(!keeper.built);
        assert_eq!(keeper.due(5, 11, &TIMINGS), None);
    }

    #[test]
    fn upkeep_reads_the_taint_lists_kv_once_it_can_cover_it_and_builds() {
        use crate::ports::MemoryStore;
        let kv = MemoryStore::new();
        kv.seed("rev/v1/u/p/before-the-authority", "{}");
        let mut keeper = FilterKeeper::new(1_000);
        let mut keys = FilterKeys::new();
        let run = |keeper: &mut FilterKeeper, keys: &mut FilterKeys, now| {
            pollster::block_on(upkeep(
                keeper,
                keys,
                &kv,
                "e",
                0,
                now,
                7,
                &settings(),
                &TIMINGS,
            ))
        };
        let first = run(&mut keeper, &mut keys, 2_000).unwrap().unwrap();
        assert_eq!(
            first.meta.taint_covered_ms, 0,
            "too early for a listing to cover the start"
        );
        assert!(!first.may_contain("rev/v1/u/p/before-the-authority"));
        let late = 1_000 + TIMINGS.listing_delay_ms;
        let listed = run(&mut keeper, &mut keys, late).unwrap().unwrap();
        assert_eq!(listed.meta.taint_covered_ms, 1_000);
        assert!(listed.may_contain("rev/v1/u/p/before-the-authority"));
        // A write straight to KV raises the taint: the next base waits for a listing to cover it.
        kv.seed(TAINT_KEY, &taint_text(late + 5));
        kv.seed("rev/v1/s/p/direct", "{}");
        assert!(run(&mut keeper, &mut keys, late + 10).unwrap().is_none());
        assert_eq!(keeper.taint_ms, late + 5);
        let covered = late + 5 + TIMINGS.listing_delay_ms;
        let next = run(&mut keeper, &mut keys, covered).unwrap().unwrap();
        assert_eq!(next.meta.taint_covered_ms, late + 5);
        assert!(next.may_contain("rev/v1/s/p/direct"));
        // A listing that fails builds nothing and covers nothing.
        kv.seed(TAINT_KEY, &taint_text(covered + 1));
        kv.fail_reads(true);
        assert!(run(&mut keeper, &mut keys, covered * 2).is_err());
        assert_eq!(keeper.taint_covered_ms, late + 5);
    }

    #[test]
    fn a_listing_that_fails_part_way_is_an_error_not_a_shorter_listing() {
        use crate::ports::MemoryStore;
        let store = MemoryStore::new();
        store.seed("rev/v1/u/p/a", "{}");
        store.fail_reads(true);
        assert!(pollster::block_on(list_revocation_keys(&store, 2)).is_err());
    }

    #[test]
    fn no_filter_is_built_past_the_entry_limit_or_with_the_limit_at_zero() {
        let mut keys = FilterKeys::new();
        (0..11).for_each(|i| keys.note(&format!("rev/v1/u/p/{i}"), u64::MAX));
        let mut keeper = FilterKeeper::new(0);
        let mut limited = settings();
        limited.max_entries = 10;
        assert!(keeper.build(&mut keys, "e", 0, 0, 1, &limited).is_none());
        limited.max_entries = 0;
        assert!(keeper
            .build(&mut FilterKeys::new(), "e", 0, 0, 1, &limited)
            .is_none());
        limited.max_entries = 11;
        assert!(keeper.build(&mut keys, "e", 0, 0, 1, &limited).is_some());
        // Entries and a rate whose bits would pass the size cap build none either (43 bits a
        // key at 1e-9: 7 million keys need 38 MB).
        let tiny_rate = RevocationFilterSettings {
            fp_rate: 1e-9,
            max_entries: 20_000_000,
        };
        let meta = |count| BaseMeta {
            version: 1,
            epoch: "e".into(),
            seq: 0,
            built_at_ms: 0,
            taint_covered_ms: 0,
            count,
        };
        assert!(build_base(meta(7_000_000), 1, &tiny_rate, []).is_none());
        assert!(build_base(meta(5_000_000), 1, &tiny_rate, []).is_some());
    }

    #[test]
    fn versions_count_up_and_each_base_records_its_seq_and_covered_taint() {
        let mut keys = FilterKeys::new();
        let mut keeper = FilterKeeper::new(1_000);
        let first = keeper
            .build(&mut keys, "e", 4, 2_000, 1, &settings())
            .unwrap();
        assert_eq!((first.meta.version, first.meta.seq), (1, 4));
        assert_eq!(
            first.meta.taint_covered_ms, 0,
            "the start is not covered yet"
        );
        keeper.listed(1_000 + 95_000 + DIRECT_WRITE_ALLOWANCE_MS, &TIMINGS);
        let second = keeper
            .build(&mut keys, "e", 9, 200_000, 2, &settings())
            .unwrap();
        assert_eq!((second.meta.version, second.meta.seq), (2, 9));
        assert_eq!(second.meta.taint_covered_ms, 1_000);
    }

    #[test]
    fn a_listing_covers_the_taint_only_once_kv_shows_every_write_up_to_it() {
        let mut keeper = FilterKeeper::new(0);
        keeper.saw_taint(10_000);
        keeper.saw_taint(5_000);
        assert_eq!(keeper.taint_ms, 10_000, "the taint never goes back");
        let soon = 10_000 + TIMINGS.listing_delay_ms - 1;
        keeper.listed(soon, &TIMINGS);
        assert_eq!(keeper.taint_covered_ms, 0);
        keeper.listed(soon + 1, &TIMINGS);
        assert_eq!(keeper.taint_covered_ms, 10_000);
    }

    #[test]
    fn rebuilds_come_due_for_a_taint_a_first_base_a_lagging_base_and_age() {
        let mut keeper = FilterKeeper::new(0);
        assert_eq!(keeper.due(0, 1, &TIMINGS), Some(Rebuild::FromKeys));
        let late = 1 + TIMINGS.listing_delay_ms;
        assert_eq!(keeper.due(0, late, &TIMINGS), Some(Rebuild::FromListing));
        keeper.listed(late, &TIMINGS);
        let mut keys = FilterKeys::new();
        keys.note("rev/v1/u/p/a", u64::MAX);
        keeper
            .build(&mut keys, "e", 5, late, 1, &settings())
            .unwrap();
        assert_eq!(
            keeper.due(5, late + 10 * 60_000, &TIMINGS),
            None,
            "nothing new"
        );
        assert_eq!(
            keeper.due(6, late + 1_000, &TIMINGS),
            None,
            "new, but recent"
        );
        assert_eq!(
            keeper.due(6, late + TIMINGS.feed_window_ms / 2, &TIMINGS),
            Some(Rebuild::FromKeys)
        );
        assert_eq!(
            keeper.due(5, late + MAX_BASE_AGE_MS, &TIMINGS),
            Some(Rebuild::FromKeys),
            "entries may have expired"
        );
        keeper.saw_taint(late + 1);
        assert_eq!(keeper.due(5, late + 2, &TIMINGS), None, "too early to list");
        assert_eq!(
            keeper.due(5, late + late, &TIMINGS),
            Some(Rebuild::FromListing)
        );
    }
}
