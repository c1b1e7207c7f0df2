//! The revocation authority's own logic: what the `RevocationAuthority` Durable Object decides,
//! over its SQLite table ([`LedgerTable`]) and the KV namespace ([`Store`]).
//!
//! # Writes: a real compare-and-set
//! Every revocation written through the authority takes the lock of its key ([`KeyLocks`]), so
//! writes of one key run one after another, whichever location sent them. Under the lock the
//! stored entry is read (the recent set, or KV for a key not written recently), [`Raise::decide`]
//! decides, KV is written, and then the entry joins the recent set with the next sequence
//! number: the monotonic rule holds against every write, and two locations signing out one
//! user in the same instant write one entry (the second finds the first and keeps it). An
//! entry found in KV only and kept is published as well, so the receipt's promise holds for it.
//! A failed KV write publishes nothing and answers an error: the caller then writes KV itself.
//!
//! # The recent set
//! Kept for [`Ledger::window_ms`]: the longest of the authority's own KV window, any window a
//! reader asked for, plus [`RECENT_MARGIN_MS`]: by then KV serves the entry everywhere, so it
//! can leave. Sequence numbers only grow; the epoch (a random id chosen when the table is first
//! used) tells readers when the numbering started again (a new object, or wiped storage).
//!
//! # Wire
//! `POST /raise` with a [`RaiseRequest`] answers a [`Committed`]; `GET /feed?…` with a
//! [`FeedQuery`] answers a [`FeedPage`]; `GET /recent?pool=<pool id>&limit=<n>` answers a pool's
//! latest rows with their entries ([`RecentRows`], for the console's list of recent
//! revocations). Errors answer a status ≥ 400 and `{"error": …}`.

use core::{
    cell::{Cell, RefCell},
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
};
use serde_json::json;

use std::rc::Rc;

use super::{
    feed::{FeedPage, FeedQuery, FilterNotice, Recent},
    filter::{
        build::{upkeep_table, FilterKeeper, KeyTable, Timings},
        BaseMeta, FilterBase,
    },
    kv,
    listing::Kind,
    Decision, Entry, Raise,
};
use crate::{
    config::{KvTimings, RevocationFilterSettings},
    error::StoreError,
    ports::Store,
};

/// Added to the KV window before an entry leaves the recent set, in ms: KV's "60 seconds or
/// more" is a usual figure, not a promise.
pub const RECENT_MARGIN_MS: u64 = 60_000;
/// Entries one feed page carries at most.
pub const PAGE_LIMIT: usize = 2_000;
/// Pages of the recent set `GET /recent` reads at most.
pub const RECENT_MAX_PAGES: usize = 5;
/// The longest window a reader may ask for, in ms (a day).
pub const MAX_WINDOW_MS: u64 = 86_400_000;
/// The authority reads the taint from KV and checks whether a filter base is due at most this
/// often, in ms (on a feed request: in steady state one KV read per this period).
pub const UPKEEP_EVERY_MS: u64 = 5_000;

/// One row of the recent set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The revocation key.
    pub key: String,
    /// The entry that stands.
    pub entry: Entry,
    /// Its sequence number.
    pub seq: u64,
    /// When it was committed, ms.
    pub at_ms: u64,
}

/// The authority's table (SQLite in the Durable Object): synchronous, so a decision and its
/// commit happen with no other request in between.
pub trait LedgerTable: KeyTable {
    /// The row under `key`, if the recent set holds one.
    fn row(&self, key: &str) -> Result<Option<Row>, StoreError>;
    /// Inserts or replaces the row under `row.key`.
    fn put(&self, row: &Row) -> Result<(), StoreError>;
    /// Up to `limit` rows with a sequence number above `seq`, in order.
    fn after(&self, seq: u64, limit: usize) -> Result<Vec<Row>, StoreError>;
    /// Deletes the rows committed before `before_ms`; answers the highest sequence number
    /// deleted (0: none).
    fn prune(&self, before_ms: u64) -> Result<u64, StoreError>;
    /// A stored setting of the ledger (`epoch`, `head`, `window_ms`).
    fn meta(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Stores a setting of the ledger.
    fn set_meta(&self, name: &str, value: &str) -> Result<(), StoreError>;
}

/// A write sent to the authority: the key and the [`Raise`] to apply to it. On the wire
/// `{"key", "entry": {…as KV holds it…}, "by_time", "local_pool", "ttl_s"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaiseRequest {
    /// The revocation key.
    pub key: String,
    /// What to apply.
    pub raise: Raise,
}

impl RaiseRequest {
    /// The request for `raise` under `key`.
    pub fn new(key: &str, raise: &Raise) -> Self {
        Self {
            key: key.to_owned(),
            raise: raise.clone(),
        }
    }

    /// The request as JSON text.
    pub fn encode(&self) -> String {
        json!({"key": self.key, "entry": kv::to_value(&self.raise.entry),
               "by_time": self.raise.by_time, "local_pool": self.raise.local_pool,
               "ttl_s": self.raise.ttl_s})
        .to_string()
    }

    /// A request as [`RaiseRequest::encode`] writes it; `None` for anything else, and for a key
    /// that is not a revocation key or is past KV's 512-byte limit.
    pub fn decode(body: &[u8]) -> Option<Self> {
        let value = crate::json::parse_value(body).ok()?;
        let key = value.get("key")?.as_str()?.to_owned();
        let revocation_key = key.starts_with("rev/v1/u/") || key.starts_with("rev/v1/s/");
        if !revocation_key || key.len() > 512 {
            return None;
        }
        Some(Self {
            key,
            raise: Raise {
                entry: kv::from_value(value.get("entry")?)?,
                by_time: value.get("by_time")?.as_bool()?,
                local_pool: value.get("local_pool")?.as_bool()?,
                ttl_s: value.get("ttl_s")?.as_u64()?,
            },
        })
    }
}

/// What a write through the authority left standing. On the wire `{"entry", "seq", "at_ms",
/// "written"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The entry that stands under the key.
    pub entry: Entry,
    /// Its sequence number in the recent set.
    pub seq: u64,
    /// When it joined the recent set (the authority's clock), ms: every reader with a fresh
    /// copy refuses by this time plus its freshness.
    pub at_ms: u64,
    /// Whether this write changed the entry (`false`: the stored one already covered it).
    pub written: bool,
}

impl Committed {
    /// The answer as JSON text.
    pub fn encode(&self) -> String {
        json!({"entry": kv::to_value(&self.entry), "seq": self.seq, "at_ms": self.at_ms,
               "written": self.written})
        .to_string()
    }

    /// An answer as [`Committed::encode`] writes it; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let value = crate::json::parse_value(text.as_bytes()).ok()?;
        Some(Self {
            entry: kv::from_value(value.get("entry")?)?,
            seq: value.get("seq")?.as_u64()?,
            at_ms: value.get("at_ms")?.as_u64()?,
            written: value.get("written")?.as_bool()?,
        })
    }
}

/// What `GET /recent` answers: rows of the recent set with their entries, the last committed
/// first. On the wire `{"rows": [{"key", "entry", "seq", "at_ms"}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentRows(pub Vec<Row>);

impl RecentRows {
    /// The answer as JSON text.
    pub fn encode(&self) -> String {
        let rows: Vec<serde_json::Value> = self
            .0
            .iter()
            .map(|row| {
                json!({"key": row.key, "entry": kv::to_value(&row.entry), "seq": row.seq,
                       "at_ms": row.at_ms})
            })
            .collect();
        json!({ "rows": rows }).to_string()
    }

    /// An answer as [`RecentRows::encode`] writes it; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let value = crate::json::parse_value(text.as_bytes()).ok()?;
        let rows = value
            .get("rows")?
            .as_array()?
            .iter()
            .map(|row| {
                Some(Row {
                    key: row.get("key")?.as_str()?.to_owned(),
                    entry: kv::from_value(row.get("entry")?)?,
                    seq: row.get("seq")?.as_u64()?,
                    at_ms: row.get("at_ms")?.as_u64()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self(rows))
    }

    /// The query `pool=<pool id>&limit=<n>`: a pool id of letters, digits, `-` and `_` (as
    /// every configured pool's is), and a limit from 1 to [`PAGE_LIMIT`].
    pub fn query(pool_id: &str, limit: usize) -> Option<String> {
        let plain = !pool_id.is_empty()
            && pool_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (plain && (1..=PAGE_LIMIT).contains(&limit))
            .then(|| format!("pool={pool_id}&limit={limit}"))
    }

    /// Reads a query [`RecentRows::query`] writes.
    pub fn parse_query(query: &str) -> Option<(String, usize)> {
        let (mut pool, mut limit) = (None, None);
        for pair in query.split('&') {
            match pair.split_once('=')? {
                ("pool", value) if pool.is_none() => pool = Some(value.to_owned()),
                ("limit", value) if limit.is_none() => limit = value.parse::<usize>().ok(),
                _ => return None,
            }
        }
        let (pool, limit) = (pool?, limit?);
        Self::query(&pool, limit)?;
        Some((pool, limit))
    }
}

/// Per-key locks: one write of a key at a time. Pure futures (no timers, no I/O): a waiter is
/// woken when the holder's guard drops.
#[derive(Default)]
pub struct KeyLocks {
    /// The keys held, each with the wakers of those waiting for it (a few at a time: a list).
    held: RefCell<Vec<(String, Vec<Waker>)>>,
}

impl KeyLocks {
    /// No key held.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits until no one holds `key`, then holds it until the guard drops.
    pub fn lock<'a>(&'a self, key: &str) -> Lock<'a> {
        Lock {
            locks: self,
            key: key.to_owned(),
        }
    }

    /// How many keys are held now.
    pub fn held(&self) -> usize {
        self.held.try_borrow().map(|h| h.len()).unwrap_or(0)
    }
}

/// The future of [`KeyLocks::lock`].
pub struct Lock<'a> {
    locks: &'a KeyLocks,
    key: String,
}

impl<'a> Future for Lock<'a> {
    type Output = KeyGuard<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(mut held) = self.locks.held.try_borrow_mut() else {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        match held.iter_mut().find(|(key, _)| *key == self.key) {
            Some((_, waiters)) => {
                waiters.push(cx.waker().clone());
                Poll::Pending
            }
            None => {
                held.push((self.key.clone(), Vec::new()));
                Poll::Ready(KeyGuard {
                    locks: self.locks,
                    key: self.key.clone(),
                })
            }
        }
    }
}

/// Holds one key of [`KeyLocks`]; dropping it lets the waiters try again.
pub struct KeyGuard<'a> {
    locks: &'a KeyLocks,
    key: String,
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let waiters = match self.locks.held.try_borrow_mut() {
            Ok(mut held) => match held.iter().position(|(key, _)| *key == self.key) {
                Some(at) => held.swap_remove(at).1,
                None => Vec::new(),
            },
            Err(_) => Vec::new(),
        };
        for waker in waiters {
            waker.wake();
        }
    }
}

/// The authority as one request sees it.
pub struct Ledger<'a> {
    /// Its table.
    pub table: &'a dyn LedgerTable,
    /// The KV namespace it writes (`REVOCATIONS`).
    pub kv: &'a dyn Store,
    /// The per-key locks of this object.
    pub locks: &'a KeyLocks,
    /// The clock, read when needed (it moves across awaits).
    pub clock: &'a dyn Fn() -> u64,
    /// Its own environment's cache lifetimes.
    pub timings: KvTimings,
    /// A fresh random id, taken as the epoch if the table has none yet.
    pub new_epoch: &'a str,
    /// The revocation filter this authority keeps (`None`: none, the feed says so).
    pub filter: Option<LedgerFilter<'a>>,
}

/// The revocation filter as the authority keeps it: its settings, and the current base in the
/// object's memory (built again from the table's keys if the object starts over).
#[derive(Clone, Copy)]
pub struct LedgerFilter<'a> {
    /// The object's memory.
    pub memory: &'a FilterMemory,
    /// `REVOCATION_FILTER_FP_RATE` and `REVOCATION_FILTER_MAX_ENTRIES`.
    pub settings: RevocationFilterSettings,
    /// `REVOCATION_FILTER_LISTING_DELAY_S`, in ms.
    pub listing_delay_ms: u64,
    /// Where diagnostics go.
    pub log: &'a dyn Fn(&str),
}

/// The current base as the object holds it: its provenance and its text (what `GET /filter`
/// answers).
#[derive(Debug, Clone)]
pub struct HeldBase {
    /// Its provenance.
    pub meta: BaseMeta,
    /// [`FilterBase::to_text`].
    pub text: Rc<str>,
    /// Its encoded size, in bytes.
    pub bytes: usize,
}

/// What the authority object keeps in memory for its filter.
#[derive(Default)]
pub struct FilterMemory {
    base: RefCell<Option<HeldBase>>,
    busy: Cell<bool>,
    last_upkeep_ms: Cell<u64>,
}

impl FilterMemory {
    /// Nothing held.
    pub fn new() -> Self {
        Self::default()
    }

    /// The base held.
    pub fn base(&self) -> Option<HeldBase> {
        self.base.try_borrow().ok().and_then(|b| b.clone())
    }

    fn hold(&self, base: Option<&FilterBase>) {
        if let Ok(mut held) = self.base.try_borrow_mut() {
            *held = base.map(|base| {
                let text: Rc<str> = base.to_text().into();
                HeldBase {
                    meta: base.meta.clone(),
                    bytes: base.encoded_len(),
                    text,
                }
            });
        }
    }

    /// Whether an upkeep may start at `now_ms`: none running, none in the last
    /// [`UPKEEP_EVERY_MS`] (unless `force`).
    fn begin(&self, now_ms: u64, force: bool) -> bool {
        let recent = now_ms < self.last_upkeep_ms.get().saturating_add(UPKEEP_EVERY_MS);
        if self.busy.get() || (recent && !force) {
            return false;
        }
        self.busy.set(true);
        self.last_upkeep_ms.set(now_ms);
        true
    }

    fn end(&self) {
        self.busy.set(false);
    }
}

impl Ledger<'_> {
    /// Answers one request: `POST /raise` or `GET /feed`; status and JSON body.
    pub async fn serve(&self, method: &str, path: &str, query: &str, body: &[u8]) -> (u16, String) {
        let outcome = match (method, path) {
            ("POST", "/raise") => match RaiseRequest::decode(body) {
                Some(request) => self.raise(&request).await.map(|c| c.encode()),
                None => return error(400, "not a raise request"),
            },
            ("GET", "/feed") => match FeedQuery::parse(query) {
                Some(query) => {
                    self.filter_upkeep(false).await;
                    self.feed(&query).map(|p| p.encode())
                }
                None => return error(400, "not a feed query"),
            },
            ("GET", "/filter") => {
                self.filter_upkeep(false).await;
                return match self.filter.and_then(|f| f.memory.base()) {
                    Some(base) => (200, base.text.to_string()),
                    None => error(404, "no revocation filter"),
                };
            }
            ("GET", "/recent") => match RecentRows::parse_query(query) {
                Some((pool_id, limit)) => self
                    .recent(&pool_id, limit)
                    .map(|rows| RecentRows(rows).encode()),
                None => return error(400, "not a recent query"),
            },
            _ => return error(404, "no such route"),
        };
        match outcome {
            Ok(text) => (200, text),
            Err(err) => error(503, &err.to_string()),
        }
    }

    /// Applies a write under its key's lock; see the module doc.
    pub async fn raise(&self, request: &RaiseRequest) -> Result<Committed, StoreError> {
        let key = request.key.as_str();
        let _held = self.locks.lock(key).await;
        let window_ms = self.window_ms(0)?;
        self.prune((self.clock)().saturating_sub(window_ms))?;
        let raise = &request.raise;
        if let Some(row) = self.table.row(key)? {
            return match raise.decide(Some(row.entry.clone())) {
                Decision::Keep(_) => Ok(committed(&row, false)),
                Decision::Write(entry) => {
                    self.write_kv(key, &entry, raise.ttl_s).await?;
                    Ok(committed(&self.publish(key, entry, raise.ttl_s)?, true))
                }
            };
        }
        // Not written recently: KV holds whatever stands (written more than a window ago, or
        // straight into KV while the authority was unreachable).
        let keys = [key.to_owned()];
        let stored = self
            .kv
            .get_many(&keys, Some(self.timings.kv_cache_ttl_s))
            .await?
            .pop()
            .flatten()
            .map(|text| kv::decode(key, &text))
            .transpose()?;
        match raise.decide(stored) {
            Decision::Keep(entry) => Ok(committed(&self.publish(key, entry, raise.ttl_s)?, false)),
            Decision::Write(entry) => {
                self.write_kv(key, &entry, raise.ttl_s).await?;
                Ok(committed(&self.publish(key, entry, raise.ttl_s)?, true))
            }
        }
    }

    /// The entries after `query.since` (all of them for another epoch or a new reader).
    pub fn feed(&self, query: &FeedQuery) -> Result<FeedPage, StoreError> {
        let window_ms = self.window_ms(query.window_ms)?;
        let now_ms = (self.clock)();
        self.prune(now_ms.saturating_sub(window_ms))?;
        let epoch = self.epoch()?;
        let full = query.epoch.as_deref() != Some(epoch.as_str());
        let since = if full { 0 } else { query.since };
        let head = self.head()?;
        let rows = self.table.after(since, PAGE_LIMIT)?;
        let more = rows.len() >= PAGE_LIMIT && rows.last().is_some_and(|r| r.seq < head);
        let page_head = match (more, rows.last()) {
            (true, Some(last)) => last.seq,
            _ => head.max(since),
        };
        Ok(FeedPage {
            epoch,
            head: page_head,
            as_of_ms: now_ms,
            window_ms,
            entries: rows
                .into_iter()
                .map(|r| Recent {
                    key: r.key,
                    revoked_at_ms: r.entry.revoked_at_ms,
                    seq: r.seq,
                    at_ms: r.at_ms,
                })
                .collect(),
            more,
            full,
            complete_after: self.pruned()?,
            filter: self.filter_notice()?,
        })
    }

    /// Deletes the rows committed before `before_ms`, remembering the highest sequence number
    /// that left: the recent set holds every entry after it.
    fn prune(&self, before_ms: u64) -> Result<(), StoreError> {
        let dropped = self.table.prune(before_ms)?;
        if dropped > self.pruned()? {
            self.table.set_meta("pruned", &dropped.to_string())?;
        }
        Ok(())
    }

    /// The highest sequence number that has left the recent set (0: none).
    fn pruned(&self) -> Result<u64, StoreError> {
        Ok(self
            .table
            .meta("pruned")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// The filter's bookkeeping; a new one (this moment counts as a write without the
    /// authority) the first time, or if what is stored cannot be read.
    fn keeper(&self, now_ms: u64) -> Result<FilterKeeper, StoreError> {
        let stored = self.table.meta("filter")?;
        match stored.as_deref().and_then(FilterKeeper::decode) {
            Some(keeper) => Ok(keeper),
            None => {
                let keeper = FilterKeeper::new(now_ms);
                self.table.set_meta("filter", &keeper.encode())?;
                Ok(keeper)
            }
        }
    }

    /// What the feed says of the filter: the base held, and the taint (`None`: no base).
    fn filter_notice(&self) -> Result<Option<FilterNotice>, StoreError> {
        let Some(base) = self.filter.and_then(|f| f.memory.base()) else {
            return Ok(None);
        };
        let keeper = self.keeper((self.clock)())?;
        Ok(Some(FilterNotice {
            version: base.meta.version,
            taint_ms: keeper.taint_ms,
        }))
    }

    /// The filter's upkeep (see [`upkeep_table`]): at most every [`UPKEEP_EVERY_MS`], one at a
    /// time. Builds the base again if the object's memory lost it. A failure is logged and
    /// builds nothing: the last base stays.
    pub async fn filter_upkeep(&self, force: bool) {
        let Some(filter) = self.filter else { return };
        let now_ms = (self.clock)();
        if !filter.memory.begin(now_ms, force) {
            return;
        }
        if let Err(err) = self.upkeep_once(&filter, now_ms).await {
            (filter.log)(&format!(
                "revocation filter: upkeep failed ({err}); the last base stays"
            ));
        }
        filter.memory.end();
    }

    async fn upkeep_once(&self, filter: &LedgerFilter<'_>, now_ms: u64) -> Result<(), StoreError> {
        let mut keeper = self.keeper(now_ms)?;
        let epoch = self.epoch()?;
        let timings = Timings {
            feed_window_ms: self.window_ms(0)?,
            listing_delay_ms: filter.listing_delay_ms,
        };
        let held = filter.memory.base().map(|b| b.meta.version);
        // Memory lost (a new instance): build again, a new version.
        let lost = keeper.built && held != keeper.last.as_ref().map(|l| l.version);
        let head = || self.head();
        // A new seed per build (hashing is seeded, not secret): the time, spread.
        let seed = now_ms.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed_f11e_u64;
        let table: &dyn KeyTable = self.table;
        let outcome = upkeep_table(
            &mut keeper,
            table,
            self.kv,
            &epoch,
            &head,
            now_ms,
            seed,
            &filter.settings,
            &timings,
            lost,
        )
        .await;
        self.table.set_meta("filter", &keeper.encode())?;
        match outcome? {
            Some(base) => filter.memory.hold(Some(&base)),
            None if !keeper.built => filter.memory.hold(None),
            None => {}
        }
        Ok(())
    }

    /// The rows of the recent set under `pool_id`'s keys (user and session entries), the last
    /// committed first, at most `limit`.
    pub fn recent(&self, pool_id: &str, limit: usize) -> Result<Vec<Row>, StoreError> {
        let window_ms = self.window_ms(0)?;
        self.prune((self.clock)().saturating_sub(window_ms))?;
        let prefixes = [Kind::User.prefix(pool_id), Kind::Session.prefix(pool_id)];
        let mut found: Vec<Row> = Vec::new();
        let mut since = 0;
        for _ in 0..RECENT_MAX_PAGES {
            let rows = self.table.after(since, PAGE_LIMIT)?;
            let more = rows.len() >= PAGE_LIMIT;
            since = rows.last().map_or(since, |row| row.seq);
            found.extend(
                rows.into_iter()
                    .filter(|row| prefixes.iter().any(|p| row.key.starts_with(p.as_str()))),
            );
            if !more {
                break;
            }
        }
        found.sort_by_key(|row| core::cmp::Reverse(row.seq));
        found.truncate(limit);
        Ok(found)
    }

    /// How long an entry stays in the recent set, in ms: the longest of this object's own KV
    /// window, the largest window a reader has asked for (remembered), plus the margin.
    pub fn window_ms(&self, requested_ms: u64) -> Result<u64, StoreError> {
        let remembered = self
            .table
            .meta("window_ms")?
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let requested = requested_ms.min(MAX_WINDOW_MS);
        if requested > remembered {
            self.table.set_meta("window_ms", &requested.to_string())?;
        }
        Ok(self
            .timings
            .window_ms()
            .max(remembered)
            .max(requested)
            .saturating_add(RECENT_MARGIN_MS))
    }

    fn epoch(&self) -> Result<String, StoreError> {
        match self.table.meta("epoch")? {
            Some(epoch) => Ok(epoch),
            None => {
                self.table.set_meta("epoch", self.new_epoch)?;
                Ok(self.new_epoch.to_owned())
            }
        }
    }

    fn head(&self) -> Result<u64, StoreError> {
        Ok(self
            .table
            .meta("head")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Adds `entry` to the recent set under the next sequence number, now, and its key to the
    /// filter's keys until KV's entry expires (`ttl_s`). Synchronous: the number, the row and
    /// the key are stored together.
    fn publish(&self, key: &str, entry: Entry, ttl_s: u64) -> Result<Row, StoreError> {
        self.epoch()?;
        let expires_ms =
            (self.clock)().saturating_add(ttl_s.max(kv::MIN_TTL_S).saturating_mul(1000));
        self.table.note_key(key, expires_ms)?;
        let seq = self.head()? + 1;
        let row = Row {
            key: key.to_owned(),
            entry,
            seq,
            at_ms: (self.clock)(),
        };
        self.table.put(&row)?;
        self.table.set_meta("head", &seq.to_string())?;
        Ok(row)
    }

    async fn write_kv(&self, key: &str, entry: &Entry, ttl_s: u64) -> Result<(), StoreError> {
        let ttl_s = ttl_s.max(kv::MIN_TTL_S);
        self.kv.put(key, &kv::encode(entry), Some(ttl_s)).await
    }
}

fn committed(row: &Row, written: bool) -> Committed {
    Committed {
        entry: row.entry.clone(),
        seq: row.seq,
        at_ms: row.at_ms,
        written,
    }
}

fn error(status: u16, why: &str) -> (u16, String) {
    (status, json!({ "error": why }).to_string())
}

/// A FAKE of the Durable Object's SQLite table, for the core's tests.
#[cfg(test)]
pub mod fake {
    use super::*;
    use crate::revocation::filter::build::FilterKeys;
    use std::collections::BTreeMap;

    /// A FAKE of the Durable Object's SQLite table: rows and settings in maps.
    #[derive(Default)]
    pub struct FakeTable {
        pub rows: RefCell<BTreeMap<String, Row>>,
        pub meta: RefCell<BTreeMap<String, String>>,
        pub keys: RefCell<FilterKeys>,
    }

    impl KeyTable for FakeTable {
        fn note_key(&self, key: &str, expires_ms: u64) -> Result<(), StoreError> {
            self.keys.note_key(key, expires_ms)
        }
        fn drop_expired_keys(&self, now_ms: u64) -> Result<(), StoreError> {
            self.keys.drop_expired_keys(now_ms)
        }
        fn key_count(&self) -> Result<u64, StoreError> {
            self.keys.key_count()
        }
        fn keys_after(&self, after: &str, limit: usize) -> Result<Vec<String>, StoreError> {
            self.keys.keys_after(after, limit)
        }
    }

    impl LedgerTable for FakeTable {
        fn row(&self, key: &str) -> Result<Option<Row>, StoreError> {
            Ok(self.rows.borrow().get(key).cloned())
        }
        fn put(&self, row: &Row) -> Result<(), StoreError> {
            self.rows.borrow_mut().insert(row.key.clone(), row.clone());
            Ok(())
        }
        fn after(&self, seq: u64, limit: usize) -> Result<Vec<Row>, StoreError> {
            let mut rows: Vec<Row> = self
                .rows
                .borrow()
                .values()
                .filter(|r| r.seq > seq)
                .cloned()
                .collect();
            rows.sort_by_key(|r| r.seq);
            rows.truncate(limit);
            Ok(rows)
        }
        fn prune(&self, before_ms: u64) -> Result<u64, StoreError> {
            let mut dropped = 0;
            self.rows.borrow_mut().retain(|_, r| {
                let keep = r.at_ms >= before_ms;
                if !keep {
                    dropped = dropped.max(r.seq);
                }
                keep
            });
            Ok(dropped)
        }
        fn meta(&self, name: &str) -> Result<Option<String>, StoreError> {
            Ok(self.meta.borrow().get(name).cloned())
        }
        fn set_meta(&self, name: &str, value: &str) -> Result<(), StoreError> {
            self.meta.borrow_mut().insert(name.into(), value.into());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeTable;
    use super::*;
    use crate::ports::{LocalFuture, MemoryStore};
    use core::cell::Cell;

    /// A FAKE KV whose reads and writes wait until the test opens a gate: two writes can be
    /// held at the same point, as two requests in flight are.
    struct GatedKv {
        kv: MemoryStore,
        open: Cell<bool>,
    }

    struct Gate<'a>(&'a Cell<bool>);
    impl Future for Gate<'_> {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if self.0.get() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    impl Store for GatedKv {
        fn get_many<'a>(
            &'a self,
            keys: &'a [String],
            ttl: Option<u64>,
        ) -> LocalFuture<'a, Result<Vec<Option<String>>, StoreError>> {
            Box::pin(async move {
                Gate(&self.open).await;
                self.kv.get_many(keys, ttl).await
            })
        }
        fn put<'a>(
            &'a self,
            key: &'a str,
            value: &'a str,
            ttl: Option<u64>,
        ) -> LocalFuture<'a, Result<(), StoreError>> {
            Box::pin(async move {
                Gate(&self.open).await;
                self.kv.put(key, value, ttl).await
            })
        }
        fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
            self.kv.delete(key)
        }
    }

    const KEY: &str = "rev/v1/u/us-east-1_P1/alice";
    const TIMINGS: KvTimings = KvTimings {
        kv_cache_ttl_s: 30,
        revocation_cache_ttl_s: 5,
    };

    fn request(at_ms: u64, by: &str) -> RaiseRequest {
        RaiseRequest {
            key: KEY.into(),
            raise: Raise {
                entry: Entry {
                    revoked_at_ms: at_ms,
                    by: by.into(),
                    reason: "AdminUserGlobalSignOut".into(),
                    request_id: format!("req-{by}"),
                },
                by_time: true,
                local_pool: false,
                ttl_s: 3_600,
            },
        }
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        pollster::block_on(f)
    }

    fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    fn stored(kv: &MemoryStore) -> Entry {
        kv::decode(KEY, &kv.peek(KEY).unwrap().0).unwrap()
    }

    /// Before: KV has no compare-and-set, so two locations signing one user out at once both
    /// read "nothing", both wrote, and the one written last won even with the earlier time.
    #[test]
    fn two_locations_writing_one_user_at_the_same_instant_leave_the_later_entry_written_once() {
        let table = FakeTable::default();
        let kv = GatedKv {
            kv: MemoryStore::new(),
            open: Cell::new(false),
        };
        let locks = KeyLocks::new();
        let clock = || 1_750_000_000_900;
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: None,
        };
        // Same second: 1_750_000_000_800 (later) arrives first, then …_100 (earlier).
        let later = request(1_750_000_000_800, "iad");
        let earlier = request(1_750_000_000_100, "sin");
        let mut first = Box::pin(ledger.raise(&later));
        let mut second = Box::pin(ledger.raise(&earlier));
        assert!(poll_once(first.as_mut()).is_pending(), "waits on KV");
        assert!(
            poll_once(second.as_mut()).is_pending(),
            "waits on the key's lock"
        );
        assert_eq!(locks.held(), 1);
        kv.open.set(true);
        let a = run(first).unwrap();
        let b = run(second).unwrap();
        assert!(
            a.written && !b.written,
            "the second found the first and kept it"
        );
        assert_eq!(a.entry, b.entry);
        assert_eq!(a.seq, b.seq);
        assert_eq!(stored(&kv.kv).revoked_at_ms, 1_750_000_000_800);
        assert_eq!(kv.kv.counts().1, 1, "one KV write");
        assert_eq!(locks.held(), 0);
    }

    #[test]
    fn a_write_never_lowers_the_entry_even_when_it_arrives_later() {
        let table = FakeTable::default();
        let kv = MemoryStore::new();
        let locks = KeyLocks::new();
        let clock = || 1_750_000_010_000;
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: None,
        };
        let high = run(ledger.raise(&request(1_750_000_005_000, "a"))).unwrap();
        let low = run(ledger.raise(&request(1_750_000_001_000, "b"))).unwrap();
        assert!(high.written && !low.written);
        assert_eq!(low.entry.revoked_at_ms, 1_750_000_005_000);
        let higher = run(ledger.raise(&request(1_750_000_007_000, "c"))).unwrap();
        assert!(higher.written);
        assert_eq!(higher.seq, high.seq + 1);
        assert_eq!(stored(&kv).revoked_at_ms, 1_750_000_007_000);
    }

    #[test]
    fn an_entry_found_only_in_kv_is_kept_and_published_to_the_feed() {
        let table = FakeTable::default();
        let kv = MemoryStore::new();
        let old = Entry {
            revoked_at_ms: 1_750_000_009_000,
            by: "fallback".into(),
            reason: "AdminUserGlobalSignOut".into(),
            request_id: "r0".into(),
        };
        kv.seed(KEY, &kv::encode(&old));
        let locks = KeyLocks::new();
        let clock = || 1_750_000_009_500;
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: None,
        };
        let kept = run(ledger.raise(&request(1_750_000_009_200, "b"))).unwrap();
        assert!(!kept.written);
        assert_eq!(kept.entry, old);
        assert_eq!(kv.counts().1, 0, "nothing written");
        let page = ledger
            .feed(&FeedQuery {
                epoch: None,
                since: 0,
                window_ms: 0,
            })
            .unwrap();
        assert_eq!(page.entries.len(), 1, "but the feed carries it");
        assert_eq!(page.entries[0].revoked_at_ms, old.revoked_at_ms);
    }

    #[test]
    fn a_failed_kv_write_publishes_nothing() {
        let table = FakeTable::default();
        let kv = MemoryStore::new();
        kv.fail_writes(true);
        let locks = KeyLocks::new();
        let clock = || 1_750_000_000_000;
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: None,
        };
        assert!(matches!(
            run(ledger.raise(&request(1_750_000_000_000, "a"))),
            Err(StoreError::Write(_))
        ));
        assert!(table.rows.borrow().is_empty());
        assert_eq!(locks.held(), 0, "the lock is let go on failure too");
    }

    #[test]
    fn the_feed_answers_deltas_in_order_and_everything_to_another_epoch() {
        let table = FakeTable::default();
        let kv = MemoryStore::new();
        let locks = KeyLocks::new();
        let now = Cell::new(1_750_000_000_000u64);
        let clock = || now.get();
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: None,
        };
        for (i, user) in ["a", "b", "c"].iter().enumerate() {
            let mut r = request(now.get(), user);
            r.key = format!("rev/v1/u/us-east-1_P1/{user}");
            run(ledger.raise(&r)).unwrap();
            now.set(now.get() + 1_000 + i as u64);
        }
        let all = ledger
            .feed(&FeedQuery {
                epoch: None,
                since: 0,
                window_ms: 0,
            })
            .unwrap();
        assert!(all.full);
        assert_eq!(all.epoch, "epoch-1");
        assert_eq!(all.head, 3);
        let seqs: Vec<u64> = all.entries.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        let delta = ledger
            .feed(&FeedQuery {
                epoch: Some("epoch-1".into()),
                since: 2,
                window_ms: 0,
            })
            .unwrap();
        assert!(!delta.full);
        assert_eq!(delta.entries.len(), 1);
        assert_eq!(delta.entries[0].key, "rev/v1/u/us-east-1_P1/c");
        let other = ledger
            .feed(&FeedQuery {
                epoch: Some("epoch-0".into()),
                since: 2,
                window_ms: 0,
            })
            .unwrap();
        assert!(other.full);
        assert_eq!(other.entries.len(), 3);
        let none = ledger
            .feed(&FeedQuery {
                epoch: Some("epoch-1".into()),
                since: 3,
                window_ms: 0,
            })
            .unwrap();
        assert!(none.entries.is_empty() && none.head == 3 && !none.more);
    }

    #[test]
    fn the_feed_says_after_which_sequence_number_it_still_holds_every_entry() {
        let table = FakeTable::default();
        let kv = MemoryStore::new();
        let locks = KeyLocks::new();
        let now = Cell::new(1_750_000_000_000u64);
        let clock = || now.get();
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: None,
        };
        let query = FeedQuery {
            epoch: None,
            since: 0,
            window_ms: 0,
        };
        for user in ["a", "b", "c"] {
            let mut r = request(now.get(), user);
            r.key = format!("rev/v1/u/us-east-1_P1/{user}");
            run(ledger.raise(&r)).unwrap();
            now.set(now.get() + 30_000);
        }
        assert_eq!(ledger.feed(&query).unwrap().complete_after, 0);
        // a (seq 1) and b (seq 2) leave the window; c stays.
        let window = ledger.window_ms(0).unwrap();
        now.set(1_750_000_000_000 + 30_000 + window + 1);
        let page = ledger.feed(&query).unwrap();
        assert_eq!(page.complete_after, 2);
        assert_eq!(page.entries.len(), 1);
        assert!(page.filter.is_none(), "no filter kept");
        // The mark never goes back, even once the set is empty.
        now.set(now.get() + window);
        assert_eq!(ledger.feed(&query).unwrap().complete_after, 3);
        assert_eq!(
            table.keys.borrow().len(),
            3,
            "every key written is a filter key"
        );
    }

    #[test]
    fn the_authority_answers_its_filter_base_and_the_feed_names_its_version() {
        let table = FakeTable::default();
        let kv = MemoryStore::new();
        let locks = KeyLocks::new();
        let memory = FilterMemory::new();
        let now = Cell::new(1_750_000_000_000u64);
        let clock = || now.get();
        let log = |_: &str| {};
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: Some(LedgerFilter {
                memory: &memory,
                settings: RevocationFilterSettings::default(),
                listing_delay_ms: 0,
                log: &log,
            }),
        };
        run(ledger.raise(&request(now.get(), "alice"))).unwrap();
        let (status, text) = run(ledger.serve("GET", "/filter", "", b""));
        assert_eq!(status, 200);
        let first = FilterBase::from_text(&text).unwrap();
        assert_eq!(
            first.meta.taint_covered_ms, 0,
            "its own start is not covered yet"
        );
        // Once a listing may cover its start, the next upkeep lists KV and builds again.
        now.set(now.get() + 20_000);
        let (status, text) = run(ledger.serve("GET", "/filter", "", b""));
        assert_eq!(status, 200);
        let base = FilterBase::from_text(&text).unwrap();
        assert!(base.meta.version > first.meta.version);
        assert!(base.may_contain(KEY));
        assert_eq!((base.meta.epoch.as_str(), base.meta.seq), ("epoch-1", 1));
        let (_, page) = run(ledger.serve("GET", "/feed", "since=0&window_ms=0", b""));
        let page = FeedPage::decode(&page).unwrap();
        let notice = page.filter.unwrap();
        assert_eq!(notice.version, base.meta.version);
        assert_eq!(
            notice.taint_ms, base.meta.taint_covered_ms,
            "the start is covered"
        );
        // An object that starts over (memory lost) builds again: a newer version.
        let fresh = FilterMemory::new();
        let again = Ledger {
            filter: ledger.filter.map(|f| LedgerFilter {
                memory: &fresh,
                ..f
            }),
            ..ledger
        };
        let (status, text) = run(again.serve("GET", "/filter", "", b""));
        assert_eq!(status, 200);
        let rebuilt = FilterBase::from_text(&text).unwrap();
        assert!(rebuilt.meta.version > base.meta.version && rebuilt.may_contain(KEY));
        // No filter kept: 404.
        let none = Ledger {
            filter: None,
            ..again
        };
        assert_eq!(run(none.serve("GET", "/filter", "", b"")).0, 404);
    }

    #[test]
    fn recent_answers_one_pools_rows_with_their_entries_last_committed_first() {
        let table = FakeTable::default();
        let kv = MemoryStore::new();
        let locks = KeyLocks::new();
        let t0 = 1_750_000_000_000u64;
        let now = Cell::new(t0);
        let clock = || now.get();
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: None,
        };
        for (key, by) in [
            ("rev/v1/u/us-east-1_P1/alice", "a"),
            ("rev/v1/s/us-east-1_P1/o-1", "b"),
            ("rev/v1/u/us-east-1_P2/alice", "other pool"),
            (
                "rev/v1/u/us-east-1_P10/carol",
                "a pool whose id starts alike",
            ),
            ("rev/v1/u/us-east-1_P1/bob", "c"),
        ] {
            now.set(now.get() + 1_000);
            let mut raise = request(now.get(), by);
            raise.key = key.into();
            run(ledger.raise(&raise)).unwrap();
        }
        let (status, text) = run(ledger.serve("GET", "/recent", "pool=us-east-1_P1&limit=2", b""));
        assert_eq!(status, 200, "{text}");
        let rows = RecentRows::decode(&text).unwrap().0;
        let seen: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.key.as_str(), r.entry.by.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("rev/v1/u/us-east-1_P1/bob", "c"),
                ("rev/v1/s/us-east-1_P1/o-1", "b")
            ]
        );
        assert_eq!(ledger.recent("us-east-1_P1", 10).unwrap().len(), 3);
        for query in [
            "pool=us-east-1_P1",
            "limit=2",
            "pool=us-east-1_P1&limit=0",
            "pool=us-east-1_P1&limit=2&limit=3",
            "pool=../x&limit=2",
            "pool=us-east-1_P1&limit=2&x=1",
        ] {
            assert_eq!(
                run(ledger.serve("GET", "/recent", query, b"")).0,
                400,
                "{query}"
            );
        }
        assert_eq!(RecentRows::decode("{\"rows\": [{\"key\": 1}]}"), None);
    }

    #[test]
    fn entries_leave_the_recent_set_after_the_kv_window_and_margin_and_not_before() {
        let table = FakeTable::default();
        let kv = MemoryStore::new();
        let locks = KeyLocks::new();
        let t0 = 1_750_000_000_000u64;
        let now = Cell::new(t0);
        let clock = || now.get();
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: None,
        };
        run(ledger.raise(&request(t0, "a"))).unwrap();
        let window = TIMINGS.window_ms() + RECENT_MARGIN_MS;
        assert_eq!(ledger.window_ms(0).unwrap(), window);
        let query = FeedQuery {
            epoch: None,
            since: 0,
            window_ms: 0,
        };
        now.set(t0 + window - 1);
        assert_eq!(ledger.feed(&query).unwrap().entries.len(), 1);
        now.set(t0 + window + 1);
        assert_eq!(ledger.feed(&query).unwrap().entries.len(), 0);
        // A reader that needs a longer window gets it, and it is remembered.
        assert_eq!(
            ledger.window_ms(500_000).unwrap(),
            500_000 + RECENT_MARGIN_MS
        );
        assert_eq!(ledger.window_ms(0).unwrap(), 500_000 + RECENT_MARGIN_MS);
    }

    #[test]
    fn a_long_feed_is_answered_in_pages_that_say_more_follows() {
        let table = FakeTable::default();
        let kv = MemoryStore::new();
        let locks = KeyLocks::new();
        let clock = || 1_750_000_000_000;
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: None,
        };
        for i in 0..PAGE_LIMIT + 5 {
            let mut r = request(1_750_000_000_000, "a");
            r.key = format!("rev/v1/s/us-east-1_P1/{i}");
            r.raise.by_time = false;
            run(ledger.raise(&r)).unwrap();
        }
        let first = ledger
            .feed(&FeedQuery {
                epoch: None,
                since: 0,
                window_ms: 0,
            })
            .unwrap();
        assert!(first.more);
        assert_eq!(first.entries.len(), PAGE_LIMIT);
        assert_eq!(first.head, PAGE_LIMIT as u64);
        let rest = ledger
            .feed(&FeedQuery {
                epoch: Some(first.epoch.clone()),
                since: first.head,
                window_ms: 0,
            })
            .unwrap();
        assert!(!rest.more);
        assert_eq!(rest.entries.len(), 5);
    }

    #[test]
    fn the_authority_refuses_what_is_not_a_revocation_write() {
        let table = FakeTable::default();
        let kv = MemoryStore::new();
        let locks = KeyLocks::new();
        let clock = || 1_750_000_000_000;
        let ledger = Ledger {
            table: &table,
            kv: &kv,
            locks: &locks,
            clock: &clock,
            timings: TIMINGS,
            new_epoch: "epoch-1",
            filter: None,
        };
        let mut other_key = request(1, "a");
        other_key.key = "user/v1/us-east-1_P1/name/alice".into();
        for body in [
            b"not json".to_vec(),
            b"{}".to_vec(),
            other_key.encode().into_bytes(),
        ] {
            let (status, _) = run(ledger.serve("POST", "/raise", "", &body));
            assert_eq!(status, 400);
        }
        assert_eq!(run(ledger.serve("GET", "/feed", "since=x", b"")).0, 400);
        assert_eq!(run(ledger.serve("DELETE", "/raise", "", b"")).0, 404);
        assert_eq!(kv.counts(), (0, 0));
        let (status, body) = run(ledger.serve(
            "POST",
            "/raise",
            "",
            request(1_750_000_000_000, "a").encode().as_bytes(),
        ));
        assert_eq!(status, 200, "control: {body}");
    }
}
