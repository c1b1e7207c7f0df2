//! The recent-revocations feed: what the revocation authority answers, what an isolate keeps
//! of it, and the revocations an isolate wrote itself.
//!
//! # The feed
//! The authority ([`super::ledger`]) gives every revocation it commits a sequence number and
//! keeps it in its *recent set* for a window at least as long as KV takes to serve it everywhere
//! ([`crate::config::KvTimings::window_ms`], plus a margin). `GET /feed?since=<seq>` answers a
//! [`FeedPage`]: the entries committed after `since`, the head sequence number, the authority's
//! clock (`as_of_ms`), and the epoch of its storage (a new epoch means "start again": a page for
//! another epoch replaces a copy instead of adding to it).
//!
//! # An isolate's copy
//! [`FeedCopy`] is the recent set as of `as_of_ms`: every entry committed up to then and still
//! within the window. A copy is refreshed from a newer one (the location's shared copy) or by a
//! delta page on top of it, never by guessing: an entry leaves a copy only when the window the
//! authority states for it has passed, when KV is certain to serve it.
//!
//! # Written here
//! [`RecentSet`] also remembers, for KV's whole window, the entries this isolate wrote itself:
//! the isolate that answered a sign-out keeps refusing the tokens even if its location's view of
//! KV lags behind its own write (KV does not promise read-your-writes) and the authority is
//! unreachable.

use core::cell::RefCell;
use std::{
    collections::{BTreeMap, BTreeSet},
    rc::Rc,
};

use serde_json::{json, Value};

use super::{
    filter::{
        gate::{Adopted, Answer, Completeness, FeedStatus, GateFilter},
        BaseMeta, FilterBase,
    },
    Entry,
};

/// Entries a [`RecentSet`] remembers as written here, at most; the oldest go first.
pub const WRITTEN_HERE_CAPACITY: usize = 10_000;

/// One revocation as the feed carries it: its key, its time, its place in the authority's
/// order, and when the authority committed it (on the authority's clock). On the wire a JSON
/// array `[key, revoked_at_ms, seq, at_ms]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    /// The revocation key (`rev/v1/u/…` or `rev/v1/s/…`).
    pub key: String,
    /// The entry's time, ms since the epoch.
    pub revoked_at_ms: u64,
    /// Its sequence number in the authority's order.
    pub seq: u64,
    /// When the authority committed it, ms since the epoch.
    pub at_ms: u64,
}

impl Recent {
    fn to_value(&self) -> Value {
        json!([self.key, self.revoked_at_ms, self.seq, self.at_ms])
    }

    fn from_value(value: &Value) -> Option<Self> {
        match value.as_array()?.as_slice() {
            [key, revoked_at_ms, seq, at_ms] => Some(Self {
                key: key.as_str()?.to_owned(),
                revoked_at_ms: revoked_at_ms.as_u64()?,
                seq: seq.as_u64()?,
                at_ms: at_ms.as_u64()?,
            }),
            _ => None,
        }
    }
}

/// A list of [`Recent`] from a JSON array; `None` if any member is not one.
fn recents(value: Option<&Value>) -> Option<Vec<Recent>> {
    value?.as_array()?.iter().map(Recent::from_value).collect()
}

/// What the authority answers to `GET /feed`. On the wire, JSON with these member names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    /// The epoch of the authority's storage.
    pub epoch: String,
    /// The last sequence number this page covers: ask from here next time.
    pub head: u64,
    /// The authority's clock when it read the page.
    pub as_of_ms: u64,
    /// How long the authority keeps an entry in its recent set, in ms.
    pub window_ms: u64,
    /// The entries committed after the query's `since`, in sequence order.
    pub entries: Vec<Recent>,
    /// Whether more entries follow `head` (the page was cut at its size limit).
    pub more: bool,
    /// Whether the page starts from the beginning of the recent set (a new reader, or another
    /// epoch): it replaces a copy instead of adding to it.
    pub full: bool,
    /// The highest sequence number that has left the recent set: the set holds every entry
    /// committed after it. An answer without it (an older authority) counts as `u64::MAX`: no
    /// revocation filter can be joined to it.
    pub complete_after: u64,
    /// The authority's revocation filter, if it has one ([`crate::revocation::filter`]).
    pub filter: Option<FilterNotice>,
}

/// What the feed says of the authority's revocation filter: the version of its current base
/// (fetched from the authority, through the location's Cache API, only when it changes) and the
/// newest write the authority knows was made without it (the taint). On the wire
/// `{"version", "taint_ms"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterNotice {
    /// The current base's version.
    pub version: u64,
    /// The newest write made without the authority, ms; 0: none.
    pub taint_ms: u64,
}

impl FilterNotice {
    fn to_value(self) -> Value {
        json!({"version": self.version, "taint_ms": self.taint_ms})
    }

    /// `None` for null or anything malformed: a gate then reads KV for every key.
    fn from_value(value: Option<&Value>) -> Option<Self> {
        let value = value?;
        Some(Self {
            version: value.get("version")?.as_u64()?,
            taint_ms: value.get("taint_ms")?.as_u64()?,
        })
    }
}

/// `complete_after` as a page or copy states it; missing or malformed: `u64::MAX` (incomplete).
fn complete_after_of(value: &Value) -> u64 {
    value
        .get("complete_after")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX)
}

fn notice_value(notice: Option<FilterNotice>) -> Value {
    notice.map_or(Value::Null, FilterNotice::to_value)
}

impl FeedPage {
    /// The page as JSON text.
    pub fn encode(&self) -> String {
        let entries: Vec<Value> = self.entries.iter().map(Recent::to_value).collect();
        json!({"epoch": self.epoch, "head": self.head, "as_of_ms": self.as_of_ms,
               "window_ms": self.window_ms, "entries": entries, "more": self.more,
               "full": self.full, "complete_after": self.complete_after,
               "filter": notice_value(self.filter)})
        .to_string()
    }

    /// A page as [`FeedPage::encode`] writes it; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let value = crate::json::parse_value(text.as_bytes()).ok()?;
        Some(Self {
            epoch: value.get("epoch")?.as_str()?.to_owned(),
            head: value.get("head")?.as_u64()?,
            as_of_ms: value.get("as_of_ms")?.as_u64()?,
            window_ms: value.get("window_ms")?.as_u64()?,
            entries: recents(value.get("entries"))?,
            more: value.get("more")?.as_bool()?,
            full: value.get("full")?.as_bool()?,
            complete_after: complete_after_of(&value),
            filter: FilterNotice::from_value(value.get("filter")),
        })
    }
}

/// A `GET /feed` query: entries after `since` in `epoch` (none: from the beginning), and the
/// window the reader needs the authority to keep entries for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    /// The epoch the reader's copy belongs to.
    pub epoch: Option<String>,
    /// The last sequence number the reader has.
    pub since: u64,
    /// The reader's own KV window plus margin, in ms.
    pub window_ms: u64,
}

impl FeedQuery {
    /// The request path with its query string.
    pub fn path(&self) -> String {
        let epoch = self
            .epoch
            .as_deref()
            .map(|e| {
                format!(
                    "&epoch={}",
                    percent_encoding::utf8_percent_encode(e, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .unwrap_or_default();
        format!(
            "/feed?since={}&window_ms={}{epoch}",
            self.since, self.window_ms
        )
    }

    /// Reads a query string as [`FeedQuery::path`] writes it; `None` for anything else.
    pub fn parse(query: &str) -> Option<Self> {
        let mut since = None;
        let mut window_ms = None;
        let mut epoch = None;
        for pair in query.trim_start_matches('?').split('&') {
            let (name, value) = pair.split_once('=')?;
            match name {
                "since" if since.is_none() => since = Some(value.parse().ok()?),
                "window_ms" if window_ms.is_none() => window_ms = Some(value.parse().ok()?),
                "epoch" if epoch.is_none() => {
                    epoch = Some(
                        percent_encoding::percent_decode_str(value)
                            .decode_utf8()
                            .ok()?
                            .into_owned(),
                    )
                }
                _ => return None,
            }
        }
        Some(Self {
            epoch,
            since: since?,
            window_ms: window_ms?,
        })
    }
}

/// A complete copy of the authority's recent set as of `as_of_ms`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedCopy {
    /// The epoch it belongs to.
    pub epoch: String,
    /// The last sequence number it holds.
    pub head: u64,
    /// The authority's clock when the newest page in it was read.
    pub as_of_ms: u64,
    /// How long an entry stays, in ms (the authority's window, or the reader's if longer).
    pub window_ms: u64,
    /// The entries, by key.
    pub entries: BTreeMap<String, Recent>,
    /// The copy holds every entry committed after this sequence number: the authority's own
    /// `complete_after`, raised by what the copy dropped itself.
    pub complete_after: u64,
    /// The authority's revocation filter as the newest page stated it.
    pub filter: Option<FilterNotice>,
}

impl FeedCopy {
    /// This copy with `page` applied: a page of another epoch, or a full one, replaces it; a
    /// delta adds to it (an entry that is already there keeps the later time). Entries whose
    /// window has passed at `now_ms` leave. `reader_window_ms`: the reader's own window, kept
    /// if longer than the authority's.
    pub fn apply(&self, page: &FeedPage, reader_window_ms: u64, now_ms: u64) -> FeedCopy {
        let mut next = if page.full || page.epoch != self.epoch {
            FeedCopy {
                epoch: page.epoch.clone(),
                ..FeedCopy::default()
            }
        } else {
            self.clone()
        };
        for recent in &page.entries {
            match next.entries.get_mut(&recent.key) {
                Some(held) if held.revoked_at_ms >= recent.revoked_at_ms => {
                    held.at_ms = held.at_ms.max(recent.at_ms);
                    held.seq = held.seq.max(recent.seq);
                }
                _ => {
                    next.entries.insert(recent.key.clone(), recent.clone());
                }
            }
        }
        next.head = page.head.max(if page.full { 0 } else { next.head });
        next.complete_after = if page.full || page.epoch != self.epoch {
            page.complete_after
        } else {
            next.complete_after.max(page.complete_after)
        };
        next.filter = page.filter;
        next.as_of_ms = page.as_of_ms;
        next.window_ms = page.window_ms.max(reader_window_ms);
        next.prune(now_ms);
        next
    }

    /// Drops the entries whose window has passed; the copy then holds every entry after the
    /// highest sequence number dropped.
    pub fn prune(&mut self, now_ms: u64) {
        let window = self.window_ms;
        let mut dropped = 0;
        self.entries.retain(|_, r| {
            let keep = r.at_ms.saturating_add(window) > now_ms;
            if !keep {
                dropped = dropped.max(r.seq);
            }
            keep
        });
        self.complete_after = self.complete_after.max(dropped);
    }

    /// Whether this copy is newer than `other`: another epoch counts as newer when it was read
    /// later; the same epoch, when it reaches further.
    pub fn newer_than(&self, other: &FeedCopy) -> bool {
        if self.epoch == other.epoch {
            (self.head, self.as_of_ms) > (other.head, other.as_of_ms)
        } else {
            self.as_of_ms > other.as_of_ms
        }
    }

    /// The copy as the location's shared copy holds it (JSON, a page's members).
    pub fn encode(&self) -> String {
        let entries: Vec<Value> = self.entries.values().map(Recent::to_value).collect();
        json!({"epoch": self.epoch, "head": self.head, "as_of_ms": self.as_of_ms,
               "window_ms": self.window_ms, "entries": entries,
               "complete_after": self.complete_after, "filter": notice_value(self.filter)})
        .to_string()
    }

    /// A shared copy as [`FeedCopy::encode`] wrote it; `None` for anything else (it is then
    /// not used, and the authority is asked instead).
    pub fn decode(text: &str) -> Option<FeedCopy> {
        let value = crate::json::parse_value(text.as_bytes()).ok()?;
        Some(FeedCopy {
            epoch: value.get("epoch")?.as_str()?.to_owned(),
            head: value.get("head")?.as_u64()?,
            as_of_ms: value.get("as_of_ms")?.as_u64()?,
            window_ms: value.get("window_ms")?.as_u64()?,
            entries: recents(value.get("entries"))?
                .into_iter()
                .map(|r| (r.key.clone(), r))
                .collect(),
            complete_after: complete_after_of(&value),
            filter: FilterNotice::from_value(value.get("filter")),
        })
    }

    /// The entry under `key`, as an [`Entry`] (the feed carries the time alone).
    pub fn entry(&self, key: &str) -> Option<Entry> {
        self.entries.get(key).map(|r| Entry {
            revoked_at_ms: r.revoked_at_ms,
            by: "revocation-authority".into(),
            reason: "feed".into(),
            request_id: String::new(),
        })
    }
}

/// Why an isolate's copy could not be refreshed, since when, and when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    /// The first failure of this run of failures.
    pub since_ms: u64,
    /// Don't ask the authority again before this.
    pub retry_at_ms: u64,
    /// Failures in a row.
    pub failures: u32,
    /// The last failure, for the log.
    pub reason: String,
}

#[derive(Default)]
struct SetState {
    copy: Option<Rc<FeedCopy>>,
    refresh_at_ms: u64,
    failing: Option<Failing>,
    /// A request of this isolate is refreshing the copy, since this time (its clock).
    refreshing_since: Option<u64>,
    /// The entries this isolate wrote, by key, with when it wrote them (`at_ms`); the same
    /// shape as a copy's entries.
    written: BTreeMap<String, Recent>,
    /// `written`'s keys by when they were written (`at_ms`, then key): the oldest first, so
    /// that expiring and evicting cost a lookup each, not a scan of the set.
    written_order: BTreeSet<(u64, String)>,
    /// The revocation filter's base this isolate holds.
    filter: GateFilter,
    /// A request of this isolate is fetching a newer base, since this time.
    filter_fetching_since: Option<u64>,
    /// When this isolate last raised the taint (a write straight to KV), ms.
    taint_written_ms: Option<u64>,
}

/// Whether a request may take a turn that `since` says another started: yes (and the turn is
/// now its own, from `now_ms`) unless one started less than `wait_ms` ago. A turn that never
/// ends (its request cancelled) is taken over after `wait_ms`.
fn take_turn(since: &mut Option<u64>, now_ms: u64, wait_ms: u64) -> bool {
    match *since {
        Some(started) if now_ms < started.saturating_add(wait_ms) => false,
        _ => {
            *since = Some(now_ms);
            true
        }
    }
}

/// Time a write made straight to KV may reuse the taint its isolate raised before, in ms: a
/// burst of degraded writes costs one taint write per isolate per period. A listing is trusted
/// no sooner than [`crate::revocation::filter::build::MIN_LISTING_DELAY_MS`] after the taint,
/// which leaves a reusing write 10 s to land.
pub const TAINT_REUSE_MS: u64 = 5_000;

/// What an isolate keeps: its copy of the feed (if an authority is bound), when to refresh it,
/// whether refreshing fails, and the entries it wrote itself.
#[derive(Default)]
pub struct RecentSet {
    state: RefCell<SetState>,
}

impl RecentSet {
    /// An empty set: no copy yet, nothing written.
    pub fn new() -> Self {
        Self::default()
    }

    /// The copy, and when it must be refreshed.
    pub fn copy(&self) -> (Option<Rc<FeedCopy>>, u64) {
        self.state
            .try_borrow()
            .map(|s| (s.copy.clone(), s.refresh_at_ms))
            .unwrap_or((None, 0))
    }

    /// How many entries the set holds: written here (at most [`WRITTEN_HERE_CAPACITY`]), and in
    /// its copy of the feed (the authority's recent set: bounded by its window, not a count).
    pub fn sizes(&self) -> (usize, usize) {
        self.state.try_borrow().map_or((0, 0), |s| {
            (
                s.written.len(),
                s.copy.as_ref().map_or(0, |copy| copy.entries.len()),
            )
        })
    }

    /// The current run of failures, if any.
    pub fn failing(&self) -> Option<Failing> {
        self.state.try_borrow().ok().and_then(|s| s.failing.clone())
    }

    /// Whether this request may refresh the copy: `true` (and it is now the isolate's refresher)
    /// unless another request of the isolate started one less than `wait_ms` ago. A refresher
    /// that never finishes (its request cancelled) is taken over after `wait_ms`.
    pub fn begin_refresh(&self, now_ms: u64, wait_ms: u64) -> bool {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return true;
        };
        take_turn(&mut state.refreshing_since, now_ms, wait_ms)
    }

    /// The isolate's refresher is done (whether it succeeded or not).
    pub fn end_refresh(&self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.refreshing_since = None;
        }
    }

    /// Keeps `copy`, to be refreshed at `refresh_at_ms`, unless the copy held is already newer;
    /// ends a run of failures.
    pub fn adopt(&self, copy: Rc<FeedCopy>, refresh_at_ms: u64) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            let keep_held = state
                .copy
                .as_ref()
                .is_some_and(|held| held.newer_than(&copy));
            if !keep_held {
                state.copy = Some(copy);
                state.refresh_at_ms = refresh_at_ms;
            }
            state.failing = None;
        }
    }

    /// Notes a failed refresh at `now_ms`; the next attempt waits `backoff_ms` (the caller
    /// doubles it per failure).
    pub fn fail(&self, now_ms: u64, reason: &str, backoff: impl Fn(u32) -> u64) -> Failing {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return Failing {
                since_ms: now_ms,
                retry_at_ms: now_ms,
                failures: 1,
                reason: reason.to_owned(),
            };
        };
        let (since_ms, failures) = match &state.failing {
            Some(f) => (f.since_ms, f.failures.saturating_add(1)),
            None => (now_ms, 1),
        };
        let failing = Failing {
            since_ms,
            retry_at_ms: now_ms.saturating_add(backoff(failures)),
            failures,
            reason: reason.to_owned(),
        };
        state.failing = Some(failing.clone());
        failing
    }

    /// Whether the feed's filter notice names a base newer than the one held (or of another
    /// epoch).
    pub fn filter_wants(&self, epoch: &str, version: u64) -> bool {
        let Ok(state) = self.state.try_borrow() else {
            return false;
        };
        state
            .filter
            .base()
            .is_none_or(|held| held.meta.epoch != epoch || held.meta.version < version)
    }

    /// Whether this request may fetch a base: `true` (and it is now the fetcher) unless another
    /// request of the isolate started one less than `wait_ms` ago.
    pub fn begin_filter_fetch(&self, now_ms: u64, wait_ms: u64) -> bool {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return false;
        };
        take_turn(&mut state.filter_fetching_since, now_ms, wait_ms)
    }

    /// The fetcher is done.
    pub fn end_filter_fetch(&self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.filter_fetching_since = None;
        }
    }

    /// Offers a base to the isolate's filter.
    pub fn adopt_filter(&self, base: Rc<FilterBase>) -> Adopted {
        match self.state.try_borrow_mut() {
            Ok(mut state) => state.filter.adopt_base(base),
            Err(_) => Adopted::NotNewer,
        }
    }

    /// The provenance and encoded size of the base held.
    pub fn filter_base(&self) -> Option<(BaseMeta, usize)> {
        let state = self.state.try_borrow().ok()?;
        let base = state.filter.base()?;
        Some((base.meta.clone(), base.encoded_len()))
    }

    /// Notes that the feed could not be refreshed at `now_ms`: the filter may not answer until
    /// `window_ms` (KV's window) later.
    pub fn filter_feed_failed(&self, now_ms: u64, window_ms: u64) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.filter.feed_failed(now_ms, window_ms);
        }
    }

    fn feed_status(copy: &FeedCopy, fresh: bool) -> FeedStatus {
        FeedStatus {
            epoch: copy.epoch.clone(),
            complete_after: copy.complete_after,
            fresh,
            // No notice: the authority keeps no filter now; count it as written without it.
            taint_ms: copy.filter.map_or(u64::MAX, |n| n.taint_ms),
        }
    }

    /// Whether the isolate's filter may answer with `copy` (`fresh`: refreshed within
    /// `FRESHNESS_S`).
    pub fn filter_completeness(&self, copy: &FeedCopy, fresh: bool, now_ms: u64) -> Completeness {
        match self.state.try_borrow() {
            Ok(state) => state
                .filter
                .completeness(&Self::feed_status(copy, fresh), now_ms),
            Err(_) => Completeness::Incomplete(super::filter::gate::Incomplete::NoBase),
        }
    }

    /// The filter's answer for `keys`: the copy's entries and every entry this isolate wrote
    /// itself count as "maybe".
    pub fn filter_answer(
        &self,
        keys: &[String],
        copy: &FeedCopy,
        fresh: bool,
        now_ms: u64,
    ) -> Answer {
        let Ok(state) = self.state.try_borrow() else {
            return Answer::Incomplete(super::filter::gate::Incomplete::NoBase);
        };
        let in_feed = |key: &str| copy.entries.contains_key(key) || state.written.contains_key(key);
        state
            .filter
            .answer(keys, &Self::feed_status(copy, fresh), in_feed, now_ms)
    }

    /// Whether a write straight to KV at `now_ms` must raise the taint first (this isolate has
    /// not raised it within [`TAINT_REUSE_MS`]).
    pub fn needs_taint(&self, now_ms: u64) -> bool {
        self.state.try_borrow().map_or(true, |state| {
            state
                .taint_written_ms
                .is_none_or(|at| now_ms >= at.saturating_add(TAINT_REUSE_MS) || now_ms < at)
        })
    }

    /// Notes that this isolate raised the taint at `now_ms`.
    pub fn taint_written(&self, now_ms: u64) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.taint_written_ms = Some(now_ms);
        }
    }

    /// Remembers an entry this isolate wrote at `now_ms`, for `window_ms`; past
    /// [`WRITTEN_HERE_CAPACITY`] entries, the oldest is forgotten.
    pub fn written_here(&self, key: &str, entry: &Entry, now_ms: u64, window_ms: u64) {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return;
        };
        let state = &mut *state;
        // Entries past the window are a prefix of the order (at_ms + window_ms <= now_ms).
        while let Some((at_ms, _)) = state.written_order.first() {
            if at_ms.saturating_add(window_ms) > now_ms {
                break;
            }
            if let Some((_, old)) = state.written_order.pop_first() {
                state.written.remove(&old);
            }
        }
        let keep = match state.written.get(key) {
            Some(held) => held.revoked_at_ms < entry.revoked_at_ms,
            None => true,
        };
        if keep {
            let recent = Recent {
                key: key.to_owned(),
                revoked_at_ms: entry.revoked_at_ms,
                seq: 0,
                at_ms: now_ms,
            };
            if let Some(replaced) = state.written.insert(key.to_owned(), recent) {
                state.written_order.remove(&(replaced.at_ms, replaced.key));
            }
            state.written_order.insert((now_ms, key.to_owned()));
        }
        while state.written.len() > WRITTEN_HERE_CAPACITY {
            match state.written_order.pop_first() {
                Some((_, oldest)) => {
                    state.written.remove(&oldest);
                }
                None => break,
            }
        }
    }

    /// The entry this isolate wrote under `key` within `window_ms` of `now_ms`, if any (its
    /// time; the rule needs nothing else).
    pub fn written(&self, key: &str, now_ms: u64, window_ms: u64) -> Option<Entry> {
        let state = self.state.try_borrow().ok()?;
        let recent = state.written.get(key)?;
        (recent.at_ms.saturating_add(window_ms) > now_ms).then(|| Entry {
            revoked_at_ms: recent.revoked_at_ms,
            by: "written-here".into(),
            reason: String::new(),
            request_id: String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recent(key: &str, revoked_at_ms: u64, seq: u64, at_ms: u64) -> Recent {
        Recent {
            key: key.into(),
            revoked_at_ms,
            seq,
            at_ms,
        }
    }

    fn page(epoch: &str, head: u64, entries: Vec<Recent>) -> FeedPage {
        FeedPage {
            epoch: epoch.into(),
            head,
            as_of_ms: 10_000 + head,
            window_ms: 1_000,
            entries,
            more: false,
            full: false,
            complete_after: 0,
            filter: None,
        }
    }

    #[test]
    fn a_copy_holds_every_entry_after_the_highest_one_dropped_by_it_or_the_authority() {
        let mut full = page(
            "e",
            3,
            vec![
                recent("k1", 1, 1, 0),
                recent("k2", 2, 2, 500),
                recent("k3", 3, 3, 900),
            ],
        );
        full.full = true;
        full.complete_after = 0;
        let copy = FeedCopy::default().apply(&full, 1_000, 1_001);
        assert_eq!(
            (copy.complete_after, copy.entries.len()),
            (1, 2),
            "k1 left the window"
        );
        let mut delta = page("e", 4, vec![recent("k4", 4, 4, 1_200)]);
        delta.complete_after = 2;
        let copy = copy.apply(&delta, 1_000, 1_300);
        assert_eq!(copy.complete_after, 2, "the authority's mark");
        let shared = FeedCopy::decode(&copy.encode()).unwrap();
        assert_eq!(shared.complete_after, 2);
        // A page or a shared copy that does not say is never taken as complete.
        let old = r#"{"epoch":"e","head":1,"as_of_ms":1,"window_ms":1,"entries":[],"more":false,"full":true}"#;
        assert_eq!(FeedPage::decode(old).unwrap().complete_after, u64::MAX);
        let old_copy = r#"{"epoch":"e","head":1,"as_of_ms":1,"window_ms":1,"entries":[]}"#;
        assert_eq!(FeedCopy::decode(old_copy).unwrap().complete_after, u64::MAX);
        let bad_notice = r#"{"epoch":"e","head":1,"as_of_ms":1,"window_ms":1,"entries":[],"more":false,"full":true,"complete_after":0,"filter":{"version":"1"}}"#;
        assert_eq!(FeedPage::decode(bad_notice).unwrap().filter, None);
    }

    #[test]
    fn a_delta_page_adds_to_a_copy_and_a_later_time_wins() {
        let copy = FeedCopy::default().apply(
            &FeedPage {
                full: true,
                ..page(
                    "e1",
                    2,
                    vec![recent("a", 100, 1, 9_900), recent("b", 200, 2, 9_950)],
                )
            },
            0,
            10_000,
        );
        let next = copy.apply(
            &page(
                "e1",
                4,
                vec![recent("a", 300, 3, 9_990), recent("c", 50, 4, 9_995)],
            ),
            0,
            10_000,
        );
        assert_eq!(next.head, 4);
        assert_eq!(next.entries.len(), 3);
        assert_eq!(next.entries["a"].revoked_at_ms, 300);
        // An older time for a key never lowers it (a replayed page, say).
        let again = next.apply(&page("e1", 5, vec![recent("a", 10, 5, 9_999)]), 0, 10_000);
        assert_eq!(again.entries["a"].revoked_at_ms, 300);
        assert_eq!(again.head, 5);
    }

    #[test]
    fn a_page_of_another_epoch_replaces_the_copy() {
        let copy = FeedCopy::default().apply(
            &FeedPage {
                full: true,
                ..page("e1", 9, vec![recent("a", 100, 9, 9_900)])
            },
            0,
            10_000,
        );
        let next = copy.apply(&page("e2", 1, vec![recent("b", 5, 1, 9_990)]), 0, 10_000);
        assert_eq!(next.epoch, "e2");
        assert_eq!(next.head, 1);
        assert!(!next.entries.contains_key("a"));
    }

    #[test]
    fn entries_leave_a_copy_only_after_the_longer_of_the_two_windows() {
        let full = FeedPage {
            full: true,
            ..page("e1", 1, vec![recent("a", 100, 1, 5_000)])
        };
        // The authority keeps 1 s; the reader needs 3 s: the reader's window holds.
        let copy = FeedCopy::default().apply(&full, 3_000, 7_000);
        assert!(copy.entries.contains_key("a"));
        let mut later = copy.clone();
        later.prune(7_999);
        assert!(later.entries.contains_key("a"));
        later.prune(8_000);
        assert!(!later.entries.contains_key("a"));
    }

    #[test]
    fn a_copy_round_trips_through_its_shared_text_and_junk_is_refused() {
        let copy = FeedCopy::default().apply(
            &FeedPage {
                full: true,
                ..page(
                    "e1",
                    2,
                    vec![recent("a", 100, 1, 9_900), recent("b", 200, 2, 9_950)],
                )
            },
            0,
            10_000,
        );
        assert_eq!(FeedCopy::decode(&copy.encode()), Some(copy));
        for junk in ["", "{}", "[]", r#"{"epoch":1}"#, "not json"] {
            assert_eq!(FeedCopy::decode(junk), None, "{junk}");
        }
    }

    #[test]
    fn a_feed_query_round_trips_and_anything_else_is_refused() {
        let query = FeedQuery {
            epoch: Some("9f1c-ab&x=1".into()),
            since: 42,
            window_ms: 155_000,
        };
        let path = query.path();
        let (_, qs) = path.split_once('?').unwrap();
        assert_eq!(FeedQuery::parse(qs), Some(query));
        let fresh = FeedQuery {
            epoch: None,
            since: 0,
            window_ms: 1,
        };
        assert_eq!(
            FeedQuery::parse(fresh.path().split_once('?').unwrap().1),
            Some(fresh)
        );
        for bad in [
            "since=1",
            "since=x&window_ms=1",
            "since=1&window_ms=1&since=2",
            "since=1&window_ms=1&other=3",
        ] {
            assert_eq!(FeedQuery::parse(bad), None, "{bad}");
        }
    }

    /// A revocation entry at `revoked_at_ms`.
    fn entry(revoked_at_ms: u64) -> Entry {
        Entry {
            revoked_at_ms,
            by: "t".into(),
            reason: "r".into(),
            request_id: "q".into(),
        }
    }

    #[test]
    fn an_isolate_keeps_its_own_writes_for_the_window_and_never_lowers_them() {
        let set = RecentSet::new();
        set.written_here("k", &entry(500), 1_000, 95_000);
        set.written_here("k", &entry(400), 1_100, 95_000);
        assert_eq!(
            set.written("k", 50_000, 95_000).map(|e| e.revoked_at_ms),
            Some(500)
        );
        assert_eq!(set.written("k", 96_000, 95_000), None, "past the window");
        assert_eq!(set.written("other", 1_000, 95_000), None);
    }

    #[test]
    fn past_its_capacity_an_isolate_forgets_its_oldest_writes_first_and_expired_ones_go() {
        let set = RecentSet::new();
        let window = 95_000;
        // "k0" is written first, then written again (a later sign-out) after everyone else:
        // it is then the newest, and "k1" the oldest.
        for i in 0..WRITTEN_HERE_CAPACITY as u64 {
            set.written_here(&format!("k{i}"), &entry(i), 1_000 + i, window);
        }
        let last = 1_000 + WRITTEN_HERE_CAPACITY as u64;
        set.written_here("k0", &entry(last), last, window);
        assert_eq!(set.sizes().0, WRITTEN_HERE_CAPACITY);
        set.written_here("new-1", &entry(last), last + 1, window);
        set.written_here("new-2", &entry(last), last + 2, window);
        assert_eq!(set.sizes().0, WRITTEN_HERE_CAPACITY, "held at the bound");
        let held = |key: &str| set.written(key, last + 2, window).is_some();
        assert!(!held("k1") && !held("k2"), "the two oldest went");
        assert!(held("k0") && held("k3") && held("new-1") && held("new-2"));
        // Past the window of everything but "k0", "new-1" and "new-2", one write clears the rest.
        let later = 1_000 + WRITTEN_HERE_CAPACITY as u64 - 1 + window;
        set.written_here("late", &entry(later), later, window);
        assert_eq!(set.sizes().0, 4, "k0, new-1, new-2 and late");
        assert!(set.written("k0", later, window).is_some());
    }

    #[test]
    fn adopting_an_older_copy_keeps_the_newer_one_held() {
        let set = RecentSet::new();
        let newer = Rc::new(FeedCopy {
            epoch: "e".into(),
            head: 5,
            as_of_ms: 2_000,
            ..FeedCopy::default()
        });
        let older = Rc::new(FeedCopy {
            epoch: "e".into(),
            head: 3,
            as_of_ms: 1_000,
            ..FeedCopy::default()
        });
        set.adopt(newer.clone(), 4_000);
        set.adopt(older, 3_000);
        assert_eq!(set.copy(), (Some(newer), 4_000));
    }
}
