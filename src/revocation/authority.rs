//! The revocation authority as a Worker isolate reaches it: its writes, its feed, and the
//! location's shared copy of the feed. The ports are implemented over the Durable Object
//! binding and the Cache API in the adapter (`src/wasm/authority.rs`).
//!
//! # Reading the feed
//! An isolate keeps a copy of the recent set ([`RecentSet`]) and uses it until `FRESHNESS_S`
//! after the authority read it (less a jitter of up to a quarter of that, drawn per refresh
//! from the request id, so the isolates of a location do not all come due at once). A copy
//! that is due is refreshed in the request that finds it due:
//! 1. the location's shared copy ([`FeedShare`], the Cache API) is read; if it is newer than the
//!    isolate's and not due, it is taken and the authority is not asked at all;
//! 2. if another isolate of the location says it is asking the authority now (the `Refresh`
//!    slot, written just before it asks), the request waits for that isolate's copy, looking
//!    every [`POLL_MS`] for at most [`REFRESH_WAIT_MS`]: a refresh costs the location one read
//!    however many isolates come due in the same round trip;
//! 3. otherwise the isolate says it is asking, asks the authority for the entries after the
//!    newest copy at hand (a delta, a few entries; everything only for a new location or a new
//!    epoch), keeps the result and writes it back as the location's shared copy.
//!
//! Within an isolate, one request refreshes and the others that come due meanwhile wait for it
//! ([`RecentSet::begin_refresh`]). So the authority sees about one read per location per
//! `FRESHNESS_S`, whatever the traffic and however many isolates the location runs. Two isolates can still both ask when they come due
//! within one Cache API round trip of each other (the slot is not a lock); the jitter makes that
//! rare. On `*.workers.dev` the Cache API does nothing: every isolate then asks for itself.
//!
//! # When it fails
//! A refresh that fails (the authority unreachable, a timeout, an unreadable answer) is logged,
//! shared with the location for `FRESHNESS_S` (so its other isolates do not all ask a dead
//! authority), and the isolate falls back to KV, keeping the copy it has (revocations never un-happen, so an
//! old copy is still right about what it holds); it asks again after a back-off (`FRESHNESS_S`,
//! doubling, at most [`MAX_BACKOFF_MS`]). With `FEED_FAIL_CLOSED_AFTER_S` set, a copy older than
//! that (or none at all) refuses every token instead ([`StoreError::Read`], as an unreadable KV
//! does).
//!
//! # Receipts
//! A write committed by the authority is refused by every isolate with a fresh copy by
//! `at_ms + FRESHNESS_S + CLOCK_ALLOWANCE_MS` ([`Authority::enforced_by`]); `at_ms` is the
//! authority's clock when it committed, [`CLOCK_ALLOWANCE_MS`] covers clocks that disagree.

use std::rc::Rc;

use super::{
    feed::{FeedCopy, FeedPage, FeedQuery, RecentSet},
    filter::FilterBase,
    ledger::{Committed, RaiseRequest, RecentRows, Row, RECENT_MARGIN_MS},
    Raise,
};
use crate::{config::Config, error::StoreError, ports::LocalFuture};

/// How long a call to the authority may take before it counts as failed, in ms: a write that
/// falls back to KV after it may land this much later than the request's clock says.
pub const CALL_TIMEOUT_MS: u64 = 2_000;
/// Slack for clocks that disagree between the authority and an isolate, in ms.
pub const CLOCK_ALLOWANCE_MS: u64 = 1_000;
/// Pages one refresh reads at most before giving up (a very long gap: the copy is then due
/// again, and the next request continues).
pub const MAX_PAGES: usize = 8;
/// The longest wait between two attempts while the authority fails, in ms.
pub const MAX_BACKOFF_MS: u64 = 10_000;

/// Requests to the authority (the Durable Object's `fetch`).
pub trait AuthorityLink {
    /// Sends `method path` with `body`; answers the status and the body text, or why no answer
    /// came (unreachable, timed out).
    fn call<'a>(
        &'a self,
        method: &'a str,
        path: &'a str,
        body: Option<&'a str>,
    ) -> LocalFuture<'a, Result<(u16, String), String>>;
}

/// What the location shares (the Cache API): two texts, each kept for a while, and a pause.
pub trait FeedShare {
    /// The text in `slot`, if the location has one.
    fn load(&self, slot: Slot) -> LocalFuture<'_, Result<Option<String>, String>>;
    /// Replaces the text in `slot`; the location keeps it at most `max_age_s`.
    fn store<'a>(
        &'a self,
        slot: Slot,
        text: &'a str,
        max_age_s: u64,
    ) -> LocalFuture<'a, Result<(), String>>;
    /// Resolves after `ms` (a timer, inside the request).
    fn wait(&self, ms: u64) -> LocalFuture<'_, ()>;
}

/// What a location shares about the feed and the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The newest copy of the feed ([`FeedCopy::encode`]).
    Copy,
    /// Who is asking the authority now, or failed to: `refreshing <ms>` / `failed <ms> <why>`.
    Refresh,
    /// The newest base of the revocation filter the location has ([`FilterBase::to_text`]).
    Filter,
    /// Who is fetching a newer base now: `fetching <version> <ms>`, kept for
    /// [`REFRESH_WAIT_MS`], so that the other isolates of the location wait for the shared base
    /// instead of each asking the authority for it.
    FilterFetch,
}

/// How long an isolate waits for another isolate's refresh before asking the authority itself,
/// in ms (a refresh that takes longer has failed: the adapter's call times out at 2 s).
pub const REFRESH_WAIT_MS: u64 = 2_000;
/// How often a waiting isolate looks for the new copy, in ms.
pub const POLL_MS: u64 = 25;

/// The `FilterFetch` slot, read: the version being fetched and since when.
fn decode_filter_fetch(text: &str) -> Option<(u64, u64)> {
    let mut words = text.strip_prefix("fetching ")?.split(' ');
    let version = words.next()?.parse().ok()?;
    let since_ms = words.next()?.parse().ok()?;
    words.next().is_none().then_some((version, since_ms))
}

/// The `Refresh` slot, read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Marker {
    Refreshing(u64),
    Failed(u64, String),
}

impl Marker {
    fn encode(&self) -> String {
        match self {
            Marker::Refreshing(at) => format!("refreshing {at}"),
            Marker::Failed(at, why) => format!("failed {at} {why}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, ' ');
        let kind = parts.next()?;
        let at = parts.next()?.parse().ok()?;
        match kind {
            "refreshing" => Some(Marker::Refreshing(at)),
            "failed" => Some(Marker::Failed(
                at,
                parts.next().unwrap_or_default().to_owned(),
            )),
            _ => None,
        }
    }
}

/// The authority's ports, as storage hands them out (`Storage::authority`).
#[derive(Clone, Copy)]
pub struct AuthorityPorts<'a> {
    /// The Durable Object.
    pub link: &'a dyn AuthorityLink,
    /// The location's shared copy.
    pub share: &'a dyn FeedShare,
}

/// The feed's settings, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedSettings {
    /// `FRESHNESS_S`, in ms.
    pub freshness_ms: u64,
    /// `FEED_FAIL_CLOSED_AFTER_S`, in ms.
    pub fail_closed_after_ms: Option<u64>,
    /// How long this isolate needs an entry kept: its KV window plus the margin, in ms.
    pub window_ms: u64,
    /// Whether checks may consult the authority's revocation filter
    /// (`REVOCATION_FILTER_MAX_ENTRIES` > 0).
    pub filter: bool,
}

impl FeedSettings {
    /// The settings of `config`.
    pub fn of(config: &Config) -> Self {
        Self {
            freshness_ms: config.freshness_s * 1000,
            fail_closed_after_ms: config.feed_fail_closed_after_s.map(|s| s * 1000),
            window_ms: config.kv_timings().window_ms() + RECENT_MARGIN_MS,
            filter: config.revocation_filter.max_entries > 0,
        }
    }

    /// How long after the authority commits a write every isolate with a fresh copy refuses
    /// its tokens, in ms.
    pub fn bound_ms(&self) -> u64 {
        self.freshness_ms + CLOCK_ALLOWANCE_MS
    }
}

/// How an isolate's copy of the feed stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedState {
    /// Within `FRESHNESS_S` of the authority's reading.
    Fresh {
        /// How old the copy is, in ms.
        age_ms: u64,
    },
    /// Due, and the authority cannot be reached: KV decides, with the old copy's help.
    Stale {
        /// How old the copy is, in ms (`None`: there is none).
        age_ms: Option<u64>,
        /// Since when refreshing fails.
        since_ms: u64,
        /// The last failure.
        reason: String,
    },
}

/// The authority as one request sees it.
pub struct Authority<'a> {
    /// Its ports.
    pub ports: AuthorityPorts<'a>,
    /// The isolate's copy of the feed.
    pub recent: &'a RecentSet,
    /// The feed's settings.
    pub settings: FeedSettings,
    /// The request's clock, in ms.
    pub now_ms: u64,
    /// A random number of this request (from its id), for the refresh jitter.
    pub seed: u64,
    /// Where diagnostics go.
    pub log: &'a dyn Fn(&str),
}

impl Authority<'_> {
    /// The isolate's copy of the feed, refreshed first if it is due (see the module doc), and
    /// how it stands. Fails only when `FEED_FAIL_CLOSED_AFTER_S` says to refuse.
    pub async fn copy(&self) -> Result<(Option<Rc<FeedCopy>>, FeedState), StoreError> {
        let (held, refresh_at_ms) = self.recent.copy();
        if let Some(copy) = &held {
            if self.now_ms < refresh_at_ms {
                let age_ms = self.now_ms.saturating_sub(copy.as_of_ms);
                return Ok((held, FeedState::Fresh { age_ms }));
            }
        }
        if let Some(failing) = self.recent.failing() {
            if self.now_ms < failing.retry_at_ms {
                return self.stale(held, failing.since_ms, failing.reason);
            }
        }
        if !self.recent.begin_refresh(self.now_ms, REFRESH_WAIT_MS) {
            // Another request of this isolate is refreshing: wait for its copy.
            let mut waited = 0;
            while waited < REFRESH_WAIT_MS {
                self.ports.share.wait(POLL_MS).await;
                waited += POLL_MS;
                let (copy, refresh_at_ms) = self.recent.copy();
                if let Some(copy) = copy.filter(|_| self.now_ms < refresh_at_ms) {
                    let age_ms = self.now_ms.saturating_sub(copy.as_of_ms);
                    return Ok((Some(copy), FeedState::Fresh { age_ms }));
                }
                if let Some(failing) = self.recent.failing() {
                    if self.now_ms < failing.retry_at_ms {
                        return self.stale(held, failing.since_ms, failing.reason);
                    }
                }
            }
            self.recent
                .begin_refresh(self.now_ms.saturating_add(waited), REFRESH_WAIT_MS);
        }
        let refreshed = self.refresh(held.clone()).await;
        self.recent.end_refresh();
        match refreshed {
            Ok(copy) => {
                let age_ms = self.now_ms.saturating_sub(copy.as_of_ms);
                Ok((Some(copy), FeedState::Fresh { age_ms }))
            }
            Err(why) => {
                let freshness_ms = self.settings.freshness_ms.max(1);
                let failing = self.recent.fail(self.now_ms, &why, |failures| {
                    (freshness_ms << failures.saturating_sub(1).min(8)).min(MAX_BACKOFF_MS)
                });
                let age = held
                    .as_ref()
                    .map(|c| format!("{} ms old", self.now_ms.saturating_sub(c.as_of_ms)))
                    .unwrap_or_else(|| "none yet".into());
                let fallback = match self.settings.fail_closed_after_ms {
                    Some(limit) => format!(
                        "KV alone until the copy is {limit} ms old, then refusing every token"
                    ),
                    None => "KV alone".into(),
                };
                (self.log)(&format!(
                    "revocation feed: cannot refresh ({why}); failing since {} ({} in a row), copy {age}; checking against the copy and {fallback}",
                    failing.since_ms, failing.failures
                ));
                self.stale(held, failing.since_ms, failing.reason)
            }
        }
    }

    fn stale(
        &self,
        held: Option<Rc<FeedCopy>>,
        since_ms: u64,
        reason: String,
    ) -> Result<(Option<Rc<FeedCopy>>, FeedState), StoreError> {
        let age_ms = held
            .as_ref()
            .map(|c| self.now_ms.saturating_sub(c.as_of_ms));
        if let Some(limit) = self.settings.fail_closed_after_ms {
            if age_ms.is_none_or(|age| age >= limit) {
                return Err(StoreError::Read(format!(
                    "the revocation feed could not be refreshed since {since_ms} ({reason}) and FEED_FAIL_CLOSED_AFTER_S refuses tokens now"
                )));
            }
        }
        Ok((
            held,
            FeedState::Stale {
                age_ms,
                since_ms,
                reason,
            },
        ))
    }

    /// When a copy read by the authority at `as_of_ms` comes due, for this request.
    fn due_at(&self, as_of_ms: u64) -> u64 {
        let freshness = self.settings.freshness_ms;
        let jitter = self.seed % (freshness / 4 + 1);
        // An authority clock ahead of ours never stretches a copy past FRESHNESS_S from now.
        as_of_ms.min(self.now_ms) + freshness - jitter
    }

    async fn shared_copy(&self) -> Option<FeedCopy> {
        match self.ports.share.load(Slot::Copy).await {
            Ok(Some(text)) => FeedCopy::decode(&text),
            Ok(None) => None,
            Err(why) => {
                (self.log)(&format!("revocation feed: shared copy unreadable ({why})"));
                None
            }
        }
    }

    async fn marker(&self) -> Option<Marker> {
        match self.ports.share.load(Slot::Refresh).await {
            Ok(Some(text)) => Marker::decode(&text),
            _ => None,
        }
    }

    async fn set_marker(&self, marker: Marker) {
        let max_age_s = REFRESH_WAIT_MS.div_ceil(1000);
        if let Err(why) = self
            .ports
            .share
            .store(Slot::Refresh, &marker.encode(), max_age_s)
            .await
        {
            (self.log)(&format!(
                "revocation feed: cannot share the refresh ({why})"
            ));
        }
    }

    /// Takes `copy` if it is not due yet; answers it.
    fn take_if_fresh(&self, copy: &Rc<FeedCopy>) -> bool {
        let due_at = self.due_at(copy.as_of_ms);
        let fresh = self.now_ms < due_at;
        if fresh {
            self.recent.adopt(copy.clone(), due_at);
        }
        fresh
    }

    /// Refreshes the isolate's copy: from the location's shared copy if it is not due; else
    /// by waiting for the isolate of this location that is asking the authority now, if one
    /// is; else by asking the authority and sharing what it answers.
    async fn refresh(&self, held: Option<Rc<FeedCopy>>) -> Result<Rc<FeedCopy>, String> {
        let base = match (held, self.shared_copy().await) {
            (Some(held), Some(shared)) if shared.newer_than(&held) => Some(Rc::new(shared)),
            (Some(held), _) => Some(held),
            (None, shared) => shared.map(Rc::new),
        };
        if let Some(base) = base.as_ref().filter(|b| self.take_if_fresh(b)) {
            return Ok(base.clone());
        }
        match self.marker().await {
            Some(Marker::Refreshing(at)) if self.now_ms < at.saturating_add(REFRESH_WAIT_MS) => {
                let mut waited = at.min(self.now_ms).abs_diff(self.now_ms);
                while waited < REFRESH_WAIT_MS {
                    self.ports.share.wait(POLL_MS).await;
                    waited += POLL_MS;
                    if let Some(copy) = self.shared_copy().await {
                        let copy = Rc::new(copy);
                        let newer = base.as_ref().is_none_or(|b| copy.newer_than(b));
                        if newer && self.take_if_fresh(&copy) {
                            return Ok(copy);
                        }
                    }
                    if let Some(Marker::Failed(_, why)) = self.marker().await {
                        return Err(format!(
                            "another isolate of this location could not refresh: {why}"
                        ));
                    }
                }
            }
            Some(Marker::Failed(at, why))
                if self.now_ms < at.saturating_add(self.settings.freshness_ms) =>
            {
                return Err(format!(
                    "another isolate of this location could not refresh: {why}"
                ));
            }
            _ => {}
        }
        self.set_marker(Marker::Refreshing(self.now_ms)).await;
        match self.ask(base).await {
            Ok(copy) => {
                if let Err(why) = self
                    .ports
                    .share
                    .store(Slot::Copy, &copy.encode(), self.settings.window_ms / 1000)
                    .await
                {
                    (self.log)(&format!("revocation feed: cannot share the copy ({why})"));
                }
                self.recent.adopt(copy.clone(), self.due_at(copy.as_of_ms));
                Ok(copy)
            }
            Err(why) => {
                self.set_marker(Marker::Failed(self.now_ms, brief(&why)))
                    .await;
                Err(why)
            }
        }
    }

    /// Asks the authority for what came after `base` (everything, without one).
    async fn ask(&self, base: Option<Rc<FeedCopy>>) -> Result<Rc<FeedCopy>, String> {
        let mut copy: FeedCopy = base.map(|b| (*b).clone()).unwrap_or_default();
        for _ in 0..MAX_PAGES {
            let query = FeedQuery {
                epoch: (!copy.epoch.is_empty()).then(|| copy.epoch.clone()),
                since: copy.head,
                window_ms: self.settings.window_ms,
            };
            let (status, body) = self.ports.link.call("GET", &query.path(), None).await?;
            if status != 200 {
                return Err(format!("the authority answered {status}: {}", brief(&body)));
            }
            let page = FeedPage::decode(&body).ok_or("the authority's feed page is unreadable")?;
            copy = copy.apply(&page, self.settings.window_ms, self.now_ms);
            if !page.more {
                return Ok(Rc::new(copy));
            }
        }
        Err(format!(
            "the feed is longer than {MAX_PAGES} pages; continuing next time"
        ))
    }

    /// Takes the authority's newer filter base if the feed names one this isolate does not
    /// hold: from the location's shared copy (Cache API) if that one is new enough, else from
    /// the authority (`GET /filter`), then shared. One request of the isolate fetches at a
    /// time; the others go on with what is held (or read KV). A failure is logged; the filter
    /// stays as it was.
    pub async fn ensure_filter(&self, copy: &FeedCopy) {
        let Some(notice) = copy.filter else { return };
        if !self.settings.filter || !self.recent.filter_wants(&copy.epoch, notice.version) {
            return;
        }
        if !self.recent.begin_filter_fetch(self.now_ms, REFRESH_WAIT_MS) {
            return;
        }
        let outcome = self.fetch_filter(&copy.epoch, notice.version).await;
        self.recent.end_filter_fetch();
        if let Err(why) = outcome {
            (self.log)(&format!(
                "revocation filter: cannot take base {} ({why}); checks read KV until then",
                notice.version
            ));
        }
    }

    async fn fetch_filter(&self, epoch: &str, version: u64) -> Result<(), String> {
        if let Ok(Some(text)) = self.ports.share.load(Slot::Filter).await {
            if let Ok(base) = FilterBase::from_text(&text) {
                if base.meta.epoch == epoch && base.meta.version >= version {
                    self.recent.adopt_filter(Rc::new(base));
                    return Ok(());
                }
            }
        }
        // Another isolate of the location is fetching this version (or a newer one): it will
        // share it. Until then this isolate keeps what it holds (its checks read KV as needed).
        if let Ok(Some(text)) = self.ports.share.load(Slot::FilterFetch).await {
            if let Some((fetching, since_ms)) = decode_filter_fetch(&text) {
                let recent = since_ms <= self.now_ms
                    && self.now_ms < since_ms.saturating_add(REFRESH_WAIT_MS);
                if fetching >= version && recent {
                    return Ok(());
                }
            }
        }
        let marker = format!("fetching {version} {}", self.now_ms);
        if let Err(why) = self
            .ports
            .share
            .store(Slot::FilterFetch, &marker, REFRESH_WAIT_MS.div_ceil(1000))
            .await
        {
            (self.log)(&format!(
                "revocation filter: cannot share the fetch ({why})"
            ));
        }
        let (status, text) = self.ports.link.call("GET", "/filter", None).await?;
        if status != 200 {
            return Err(format!("the authority answered {status}: {}", brief(&text)));
        }
        let base = FilterBase::from_text(&text)
            .map_err(|why| format!("the authority's base is malformed: {why}"))?;
        if let Err(why) = self
            .ports
            .share
            .store(Slot::Filter, &text, self.settings.window_ms / 1000)
            .await
        {
            (self.log)(&format!("revocation filter: cannot share the base ({why})"));
        }
        self.recent.adopt_filter(Rc::new(base));
        Ok(())
    }

    /// Applies `raise` to `key` through the authority.
    pub async fn raise(&self, key: &str, raise: &Raise) -> Result<Committed, String> {
        let body = RaiseRequest::new(key, raise).encode();
        let (status, text) = self.ports.link.call("POST", "/raise", Some(&body)).await?;
        if status != 200 {
            return Err(format!("the authority answered {status}: {}", brief(&text)));
        }
        Committed::decode(&text).ok_or_else(|| "the authority's answer is unreadable".to_owned())
    }

    /// The authority's latest rows under `pool_id`'s keys, with their entries, the last
    /// committed first (`GET /recent`).
    pub async fn recent(&self, pool_id: &str, limit: usize) -> Result<Vec<Row>, String> {
        let query = RecentRows::query(pool_id, limit)
            .ok_or_else(|| "the pool id or limit cannot be asked for".to_owned())?;
        let path = format!("/recent?{query}");
        let (status, text) = self.ports.link.call("GET", &path, None).await?;
        if status != 200 {
            return Err(format!("the authority answered {status}: {}", brief(&text)));
        }
        RecentRows::decode(&text)
            .map(|rows| rows.0)
            .ok_or_else(|| "the authority's answer is unreadable".to_owned())
    }

    /// When every isolate with a fresh copy refuses what the authority committed at `at_ms`.
    pub fn enforced_by(&self, at_ms: u64) -> u64 {
        at_ms.saturating_add(self.settings.bound_ms())
    }
}

/// The start of an answer, for the log.
fn brief(text: &str) -> String {
    text.chars().take(200).collect()
}

/// A number drawn from a request id (a random UUID), for the refresh jitter.
pub fn seed_of(request_id: &str) -> u64 {
    request_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
pub mod fake {
    //! FAKES of the adapter's ports: the Durable Object (a real [`Ledger`] over a fake table and
    //! an in-memory KV, reached by a call that can be made to fail) and the Cache API.

    use core::cell::{Cell, RefCell};

    use super::*;
    use crate::{
        config::KvTimings,
        ports::MemoryStore,
        revocation::ledger::{fake::FakeTable, FilterMemory, KeyLocks, Ledger, LedgerFilter},
    };

    /// A FAKE authority: the ledger's own logic, answered in-process; counts calls.
    pub struct FakeAuthority {
        pub table: FakeTable,
        pub kv: MemoryStore,
        pub locks: KeyLocks,
        pub clock: Cell<u64>,
        pub down: Cell<bool>,
        /// While set, calls wait (an authority slow to answer).
        pub hold: Cell<bool>,
        pub feed_calls: Cell<usize>,
        pub raise_calls: Cell<usize>,
        /// Calls of `GET /filter`.
        pub filter_calls: Cell<usize>,
        /// The filter's memory, when the authority keeps one (`with_filter`).
        pub memory: FilterMemory,
        pub with_filter: Cell<bool>,
        /// `REVOCATION_FILTER_LISTING_DELAY_S`, in ms.
        pub listing_delay_ms: Cell<u64>,
    }

    /// Pending while `hold` is set.
    struct Held<'a>(&'a Cell<bool>);

    impl core::future::Future for Held<'_> {
        type Output = ();
        fn poll(
            self: core::pin::Pin<&mut Self>,
            cx: &mut core::task::Context<'_>,
        ) -> core::task::Poll<()> {
            if self.0.get() {
                cx.waker().wake_by_ref();
                core::task::Poll::Pending
            } else {
                core::task::Poll::Ready(())
            }
        }
    }

    impl FakeAuthority {
        pub fn new(now_ms: u64) -> Self {
            Self {
                table: FakeTable::default(),
                kv: MemoryStore::new(),
                locks: KeyLocks::new(),
                clock: Cell::new(now_ms),
                down: Cell::new(false),
                hold: Cell::new(false),
                feed_calls: Cell::new(0),
                raise_calls: Cell::new(0),
                filter_calls: Cell::new(0),
                memory: FilterMemory::new(),
                with_filter: Cell::new(false),
                listing_delay_ms: Cell::new(125_000),
            }
        }
    }

    impl AuthorityLink for FakeAuthority {
        fn call<'a>(
            &'a self,
            method: &'a str,
            path: &'a str,
            body: Option<&'a str>,
        ) -> LocalFuture<'a, Result<(u16, String), String>> {
            Box::pin(async move {
                if self.down.get() {
                    return Err("connection refused".into());
                }
                Held(&self.hold).await;
                let (route, query) = path.split_once('?').unwrap_or((path, ""));
                let counter = match route {
                    "/feed" => &self.feed_calls,
                    "/filter" => &self.filter_calls,
                    _ => &self.raise_calls,
                };
                counter.set(counter.get() + 1);
                let clock = || self.clock.get();
                let log = |_: &str| {};
                let filter = LedgerFilter {
                    memory: &self.memory,
                    settings: crate::config::RevocationFilterSettings::default(),
                    listing_delay_ms: self.listing_delay_ms.get(),
                    log: &log,
                };
                let ledger = Ledger {
                    table: &self.table,
                    kv: &self.kv,
                    locks: &self.locks,
                    clock: &clock,
                    timings: KvTimings {
                        kv_cache_ttl_s: 30,
                        revocation_cache_ttl_s: 5,
                    },
                    new_epoch: "epoch-1",
                    filter: self.with_filter.get().then_some(filter),
                };
                Ok(ledger
                    .serve(method, route, query, body.unwrap_or_default().as_bytes())
                    .await)
            })
        }
    }

    /// A FAKE of one location's Cache API: a text per slot. `on_wait` runs at each pause (to
    /// play another isolate finishing its refresh meanwhile); pauses are counted.
    #[derive(Default)]
    pub struct FakeShare {
        pub text: RefCell<Option<String>>,
        pub marker: RefCell<Option<String>>,
        pub filter: RefCell<Option<String>>,
        pub filter_fetch: RefCell<Option<String>>,
        pub fail: Cell<bool>,
        pub waits: Cell<usize>,
        #[allow(clippy::type_complexity)]
        pub on_wait: RefCell<Option<Box<dyn Fn(&FakeShare)>>>,
    }

    impl FakeShare {
        fn slot(&self, slot: Slot) -> &RefCell<Option<String>> {
            match slot {
                Slot::Copy => &self.text,
                Slot::Refresh => &self.marker,
                Slot::Filter => &self.filter,
                Slot::FilterFetch => &self.filter_fetch,
            }
        }
    }

    impl FeedShare for FakeShare {
        fn load(&self, slot: Slot) -> LocalFuture<'_, Result<Option<String>, String>> {
            let out = if self.fail.get() {
                Err("cache unavailable".into())
            } else {
                Ok(self.slot(slot).borrow().clone())
            };
            Box::pin(async move { out })
        }

        fn store<'a>(
            &'a self,
            slot: Slot,
            text: &'a str,
            _max_age_s: u64,
        ) -> LocalFuture<'a, Result<(), String>> {
            if !self.fail.get() {
                *self.slot(slot).borrow_mut() = Some(text.to_owned());
            }
            Box::pin(async { Ok(()) })
        }

        fn wait(&self, _ms: u64) -> LocalFuture<'_, ()> {
            self.waits.set(self.waits.get() + 1);
            if let Some(hook) = self.on_wait.borrow().as_ref() {
                hook(self);
            }
            Box::pin(YieldOnce(false))
        }
    }

    /// Pending once (waking itself), then ready: a pause other futures can run in.
    struct YieldOnce(bool);

    impl core::future::Future for YieldOnce {
        type Output = ();
        fn poll(
            mut self: core::pin::Pin<&mut Self>,
            cx: &mut core::task::Context<'_>,
        ) -> core::task::Poll<()> {
            if self.0 {
                core::task::Poll::Ready(())
            } else {
                self.0 = true;
                cx.waker().wake_by_ref();
                core::task::Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{FakeAuthority, FakeShare};
    use super::*;
    use crate::revocation::{ledger::RaiseRequest, Entry};

    const T0: u64 = 1_750_000_000_000;
    const SETTINGS: FeedSettings = FeedSettings {
        freshness_ms: 2_000,
        fail_closed_after_ms: None,
        window_ms: 155_000,
        filter: true,
    };

    fn no_log(_: &str) {}

    fn gate<'a>(
        authority: &'a FakeAuthority,
        share: &'a FakeShare,
        recent: &'a RecentSet,
        now_ms: u64,
        seed: u64,
    ) -> Authority<'a> {
        Authority {
            ports: AuthorityPorts {
                link: authority,
                share,
            },
            recent,
            settings: SETTINGS,
            now_ms,
            seed,
            log: &no_log,
        }
    }

    fn run<T>(f: impl core::future::Future<Output = T>) -> T {
        pollster::block_on(f)
    }

    fn sign_out(authority: &FakeAuthority, user: &str) -> Committed {
        let raise = Raise {
            entry: Entry {
                revoked_at_ms: authority.clock.get(),
                by: "t".into(),
                reason: "AdminUserGlobalSignOut".into(),
                request_id: "r".into(),
            },
            by_time: true,
            local_pool: false,
            ttl_s: 3_600,
        };
        let body = RaiseRequest::new(&format!("rev/v1/u/us-east-1_P1/{user}"), &raise).encode();
        let (status, text) = run(authority.call("POST", "/raise", Some(&body))).unwrap();
        assert_eq!(status, 200, "{text}");
        Committed::decode(&text).unwrap()
    }

    fn holds(copy: &FeedCopy, user: &str) -> bool {
        copy.entries
            .contains_key(&format!("rev/v1/u/us-east-1_P1/{user}"))
    }

    #[test]
    fn an_isolate_sees_a_sign_out_from_another_location_once_its_copy_comes_due() {
        let authority = FakeAuthority::new(T0);
        let (share, recent) = (FakeShare::default(), RecentSet::new());
        let (copy, state) = run(gate(&authority, &share, &recent, T0, 0).copy()).unwrap();
        assert_eq!(state, FeedState::Fresh { age_ms: 0 });
        assert!(copy.unwrap().entries.is_empty());
        authority.clock.set(T0 + 500);
        let committed = sign_out(&authority, "alice");
        // Within FRESHNESS_S of the last reading the copy is used as it is…
        let (copy, _) = run(gate(&authority, &share, &recent, T0 + 1_999, 0).copy()).unwrap();
        assert!(!holds(&copy.unwrap(), "alice"));
        // … and by the receipt's time it holds the sign-out.
        let by = gate(&authority, &share, &recent, T0, 0).enforced_by(committed.at_ms);
        assert_eq!(by, T0 + 500 + 2_000 + CLOCK_ALLOWANCE_MS);
        authority.clock.set(T0 + 2_000);
        let (copy, _) = run(gate(&authority, &share, &recent, T0 + 2_000, 0).copy()).unwrap();
        assert!(holds(&copy.unwrap(), "alice"));
        assert_eq!(authority.feed_calls.get(), 2);
    }

    #[test]
    fn the_isolates_of_a_location_share_one_authority_read_per_refresh() {
        let authority = FakeAuthority::new(T0);
        let share = FakeShare::default();
        let isolates: Vec<RecentSet> = (0..10).map(|_| RecentSet::new()).collect();
        let mut now = T0;
        for round in 0..20u64 {
            authority.clock.set(now);
            if round % 3 == 0 {
                sign_out(&authority, &format!("user-{round}"));
            }
            for (i, recent) in isolates.iter().enumerate() {
                // Requests in every isolate, every 100 ms of a 2 s period.
                for step in 0..20u64 {
                    let at = now + step * 100 + i as u64;
                    authority.clock.set(at);
                    run(gate(&authority, &share, recent, at, round * 31 + i as u64).copy())
                        .unwrap();
                }
            }
            now += 2_000;
        }
        // 20 periods of 2 s, 10 isolates, 4000 checks: about one read per period (a due copy
        // is at most 2 s old, less a jitter of up to 0.5 s, so a little more than 20).
        let reads = authority.feed_calls.get();
        assert!((20..=30).contains(&reads), "{reads} authority reads");
        for recent in &isolates {
            assert!(holds(&recent.copy().0.unwrap(), "user-18"));
        }
    }

    #[test]
    fn a_refresh_asks_only_for_what_came_after_the_copy_at_hand() {
        let authority = FakeAuthority::new(T0);
        let (share, recent) = (FakeShare::default(), RecentSet::new());
        for user in ["a", "b", "c"] {
            sign_out(&authority, user);
        }
        run(gate(&authority, &share, &recent, T0, 0).copy()).unwrap();
        sign_out(&authority, "d");
        authority.clock.set(T0 + 3_000);
        // Another isolate of the location starts cold: it takes the shared copy as a base.
        let cold = RecentSet::new();
        let (copy, _) = run(gate(&authority, &share, &cold, T0 + 3_000, 0).copy()).unwrap();
        let copy = copy.unwrap();
        assert_eq!(copy.head, 4);
        assert!(holds(&copy, "a") && holds(&copy, "d"));
        let page = authority
            .table
            .rows
            .borrow()
            .values()
            .filter(|r| r.seq > 3)
            .count();
        assert_eq!(page, 1, "the delta it needed was one entry");
    }

    #[test]
    fn an_unreachable_authority_leaves_the_old_copy_in_use_and_backs_off() {
        let authority = FakeAuthority::new(T0);
        let (share, recent) = (FakeShare::default(), RecentSet::new());
        sign_out(&authority, "alice");
        run(gate(&authority, &share, &recent, T0, 0).copy()).unwrap();
        authority.down.set(true);
        let (copy, state) = run(gate(&authority, &share, &recent, T0 + 5_000, 0).copy()).unwrap();
        assert!(
            holds(&copy.unwrap(), "alice"),
            "revocations never un-happen"
        );
        assert!(matches!(
            state,
            FeedState::Stale {
                age_ms: Some(5_000),
                since_ms,
                ..
            } if since_ms == T0 + 5_000
        ));
        // No new attempt before the back-off, then one, then longer back-offs.
        run(gate(&authority, &share, &recent, T0 + 6_000, 0).copy()).unwrap();
        assert_eq!(recent.failing().unwrap().failures, 1);
        run(gate(&authority, &share, &recent, T0 + 7_000, 0).copy()).unwrap();
        let failing = recent.failing().unwrap();
        assert_eq!(failing.failures, 2);
        assert_eq!(failing.retry_at_ms, T0 + 7_000 + 4_000);
        authority.down.set(false);
        authority.clock.set(T0 + 11_000);
        let (_, state) = run(gate(&authority, &share, &recent, T0 + 11_000, 0).copy()).unwrap();
        assert_eq!(state, FeedState::Fresh { age_ms: 0 });
        assert_eq!(recent.failing(), None);
    }

    #[test]
    fn with_feed_fail_closed_after_s_a_copy_past_the_limit_refuses() {
        let authority = FakeAuthority::new(T0);
        let (share, recent) = (FakeShare::default(), RecentSet::new());
        let strict = |now_ms| Authority {
            settings: FeedSettings {
                fail_closed_after_ms: Some(10_000),
                ..SETTINGS
            },
            ..gate(&authority, &share, &recent, now_ms, 0)
        };
        run(strict(T0).copy()).unwrap();
        authority.down.set(true);
        assert!(
            run(strict(T0 + 9_999).copy()).is_ok(),
            "within the limit: KV"
        );
        assert!(matches!(
            run(strict(T0 + 10_000).copy()),
            Err(StoreError::Read(_))
        ));
        // An isolate that never had a copy (and finds no shared one) refuses at once.
        *share.text.borrow_mut() = None;
        let cold = RecentSet::new();
        let cold_gate = Authority {
            recent: &cold,
            ..strict(T0 + 1)
        };
        assert!(run(cold_gate.copy()).is_err());
    }

    #[test]
    fn a_shared_copy_that_is_not_due_spares_the_authority_and_a_broken_one_is_ignored() {
        let authority = FakeAuthority::new(T0);
        let share = FakeShare::default();
        run(gate(&authority, &share, &RecentSet::new(), T0, 0).copy()).unwrap();
        assert_eq!(authority.feed_calls.get(), 1);
        run(gate(&authority, &share, &RecentSet::new(), T0 + 1_000, 0).copy()).unwrap();
        assert_eq!(
            authority.feed_calls.get(),
            1,
            "the second isolate took the shared copy"
        );
        *share.text.borrow_mut() = Some("{\"epoch\": 3}".into());
        run(gate(&authority, &share, &RecentSet::new(), T0 + 1_000, 0).copy()).unwrap();
        assert_eq!(authority.feed_calls.get(), 2, "a broken copy is not used");
        share.fail.set(true);
        let (_, state) =
            run(gate(&authority, &share, &RecentSet::new(), T0 + 1_000, 0).copy()).unwrap();
        assert_eq!(state, FeedState::Fresh { age_ms: 1_000 });
        assert_eq!(
            authority.feed_calls.get(),
            3,
            "without a cache, each isolate asks"
        );
    }

    #[test]
    fn an_isolate_that_finds_another_asking_waits_for_its_copy_instead_of_asking_too() {
        let authority = FakeAuthority::new(T0);
        let share = FakeShare::default();
        run(gate(&authority, &share, &RecentSet::new(), T0, 0).copy()).unwrap();
        assert_eq!(authority.feed_calls.get(), 1);
        sign_out(&authority, "alice");
        // At T0 + 2 s isolate A is asking (its marker is up); B comes due in the same instant.
        authority.clock.set(T0 + 2_000);
        *share.marker.borrow_mut() = Some(format!("refreshing {}", T0 + 2_000));
        *share.on_wait.borrow_mut() = Some(Box::new(move |share: &FakeShare| {
            // A finishes on B's third look.
            if share.waits.get() == 3 {
                let fresh = FeedCopy::decode(share.text.borrow().as_deref().unwrap())
                    .unwrap()
                    .apply(
                        &FeedPage {
                            epoch: "epoch-1".into(),
                            head: 1,
                            as_of_ms: T0 + 2_050,
                            window_ms: 155_000,
                            entries: vec![crate::revocation::feed::Recent {
                                key: "rev/v1/u/us-east-1_P1/alice".into(),
                                revoked_at_ms: T0,
                                seq: 1,
                                at_ms: T0,
                            }],
                            more: false,
                            full: false,
                            complete_after: 0,
                            filter: None,
                        },
                        155_000,
                        T0 + 2_050,
                    );
                *share.text.borrow_mut() = Some(fresh.encode());
            }
        }));
        let b = RecentSet::new();
        let (copy, state) = run(gate(&authority, &share, &b, T0 + 2_000, 0).copy()).unwrap();
        assert!(holds(&copy.unwrap(), "alice"));
        assert_eq!(state, FeedState::Fresh { age_ms: 0 });
        assert_eq!(share.waits.get(), 3);
        assert_eq!(authority.feed_calls.get(), 1, "B never asked the authority");
    }

    #[test]
    fn requests_of_one_isolate_that_come_due_together_share_one_refresh() {
        use core::task::{Context, Poll, Waker};
        let authority = FakeAuthority::new(T0);
        let (share, recent) = (FakeShare::default(), RecentSet::new());
        let poll = |f: core::pin::Pin<&mut dyn core::future::Future<Output = _>>| {
            f.poll(&mut Context::from_waker(Waker::noop()))
        };
        authority.hold.set(true);
        let (first, second) = (
            gate(&authority, &share, &recent, T0, 1),
            gate(&authority, &share, &recent, T0, 2),
        );
        let mut first = Box::pin(first.copy());
        let mut second = Box::pin(second.copy());
        assert!(poll(first.as_mut()).is_pending(), "asking the authority");
        assert!(poll(second.as_mut()).is_pending(), "waiting for the first");
        authority.hold.set(false);
        let Poll::Ready(Ok((Some(a), _))) = poll(first.as_mut()) else {
            panic!("the first refresh finishes")
        };
        let (b, state) = run(second).unwrap();
        assert_eq!(b, Some(a));
        assert!(matches!(state, FeedState::Fresh { .. }));
        assert_eq!(authority.feed_calls.get(), 1);
    }

    #[test]
    fn a_refresh_that_never_lands_is_waited_for_at_most_the_wait_limit_then_asked_for() {
        let authority = FakeAuthority::new(T0);
        let share = FakeShare::default();
        *share.marker.borrow_mut() = Some(format!("refreshing {T0}"));
        authority.clock.set(T0 + 500);
        let (_, state) =
            run(gate(&authority, &share, &RecentSet::new(), T0 + 500, 0).copy()).unwrap();
        assert_eq!(state, FeedState::Fresh { age_ms: 0 });
        assert_eq!(
            share.waits.get() as u64,
            (REFRESH_WAIT_MS - 500).div_ceil(POLL_MS),
            "waited out what was left of the limit"
        );
        assert_eq!(authority.feed_calls.get(), 1);
        assert_eq!(
            share.marker.borrow().as_deref(),
            Some(format!("refreshing {}", T0 + 500).as_str())
        );
    }

    #[test]
    fn a_failure_is_shared_so_the_other_isolates_of_the_location_do_not_ask_a_dead_authority() {
        let authority = FakeAuthority::new(T0);
        let share = FakeShare::default();
        authority.down.set(true);
        let (_, state) = run(gate(&authority, &share, &RecentSet::new(), T0, 0).copy()).unwrap();
        assert!(matches!(state, FeedState::Stale { .. }));
        assert_eq!(authority.feed_calls.get(), 0, "the call itself failed");
        assert!(share
            .marker
            .borrow()
            .as_deref()
            .unwrap()
            .starts_with(&format!("failed {T0} ")));
        authority.down.set(false);
        let (_, state) =
            run(gate(&authority, &share, &RecentSet::new(), T0 + 1_000, 0).copy()).unwrap();
        assert!(
            matches!(&state, FeedState::Stale { reason, .. } if reason.contains("another isolate")),
            "{state:?}"
        );
        assert_eq!(authority.feed_calls.get(), 0);
        // Once FRESHNESS_S has passed since the failure, the next isolate asks again.
        authority.clock.set(T0 + 2_000);
        let (_, state) =
            run(gate(&authority, &share, &RecentSet::new(), T0 + 2_000, 0).copy()).unwrap();
        assert_eq!(state, FeedState::Fresh { age_ms: 0 });
        assert_eq!(authority.feed_calls.get(), 1);
    }

    #[test]
    fn the_refresh_jitter_brings_a_copy_due_up_to_a_quarter_early_never_late() {
        let authority = FakeAuthority::new(T0);
        let share = FakeShare::default();
        let mut dues = Vec::new();
        for seed in [0u64, 1, 250, 499, 500, 501, 12_345] {
            let recent = RecentSet::new();
            run(gate(&authority, &share, &recent, T0, seed).copy()).unwrap();
            *share.text.borrow_mut() = None;
            dues.push(recent.copy().1);
        }
        assert!(
            dues.iter().all(|d| (T0 + 1_500..=T0 + 2_000).contains(d)),
            "{dues:?}"
        );
        assert!(dues.iter().any(|d| *d < T0 + 2_000));
        assert_ne!(seed_of("a"), seed_of("b"));
    }
}
