//! The revocation list: who was signed out when, and which sessions were revoked.
//!
//! # Rule
//! A token is revoked iff
//! - a **user entry** for its pool and its `sub` (or its `username`, for pools without a user
//!   directory) holds a time `revoked_at` with `auth_time` (else `iat`, in ms) ≤ `revoked_at`: so
//!   tokens minted later from an old session by a refresh die too (they keep `auth_time`), and a
//!   new sign-in lives; or
//! - a **session entry** exists for its pool and its `origin_jti` (RevokeToken).
//!
//! # Keys
//! - `rev/v1/u/<pool id>/<user id>`: a user entry
//! - `rev/v1/s/<pool id>/<origin_jti>`: a session entry
//!
//! A user id is keyed in its pool's canonical spelling ([`crate::identity`]: NFC, case folded
//! unless the pool is case sensitive), so every spelling of a name reaches one entry. An id
//! longer than [`crate::identity::MAX_PLAIN_ID_BYTES`], or one that itself begins with `h:`, is
//! replaced by `h:` and its SHA-256 in hex: a key never exceeds KV's 512-byte limit, and a plain
//! id can never spell a hashed one (the two key spaces are disjoint). Keys are built from
//! claims, never from token bytes or their hash (ECDSA signatures are malleable). Entries
//! expire after the pool's longest token lifetime plus leeway
//! ([`crate::config::Pool::revocation_ttl_s`]).
//!
//! Entries written before ids were spelled canonically sit under the exact bytes given. A check
//! also reads the exact spelling of the token's `sub` and `username` when it differs from the
//! canonical one (in the same bulk read), so those entries keep working until they expire —
//! except for ids beginning with `h:`, whose old plain key is the ambiguous one.
//!
//! # Writes
//! Monotonic ([`Raise`]): a write never lowers `revoked_at`, and a second sign-out within the
//! same second as the stored one writes nothing (tokens carry whole seconds, so every token of
//! that second is already covered), which keeps repeated sign-outs idempotent.
//!
//! # Reads
//! Each isolate keeps lookups for `REVOCATION_CACHE_TTL_S` ([`RevocationCache`]: bounded, least
//! recently used out first). The isolate that writes remembers its own writes for KV's whole
//! window ([`RecentSet`]), so it refuses at once and keeps refusing. A failed read refuses the
//! token: nothing is accepted unchecked.
//!
//! # The revocation authority
//! With the `REVOCATION_AUTHORITY` binding, writes go through the authority ([`ledger`]: a
//! Durable Object that serialises the writes of each key, writes KV and keeps the recent
//! revocations in order), and every check also consults the isolate's copy of the authority's
//! recent set, refreshed every `FRESHNESS_S` ([`authority`]). A token is refused if the recent
//! set *or* KV says so. If the authority cannot be reached, a write goes to KV directly and
//! checks fall back to KV (see [`authority`] for `FEED_FAIL_CLOSED_AFTER_S`).
//!
//! # Receipts
//! Every write notes when it will be enforced everywhere ([`Receipt`]): through the authority,
//! its commit time plus `FRESHNESS_S` and a clock allowance; through KV alone, now plus KV's
//! window ([`crate::config::KvTimings::window_ms`]).
//!
//! # Stores
//! Entries are kept behind the [`RevocationStore`] port: the rule above decides what to read and
//! what a write must not lower; a store keeps entries and applies a [`Raise`] as atomically as it
//! can. [`kv::KvRevocations`] keeps them in Workers KV, with KV's own workarounds (its edge
//! `cacheTtl`, its 60-second minimum TTL, JSON text values, read-then-write without
//! compare-and-set); the adapter retries a write KV refuses for its one-write-per-second limit.
//! The authority applies a [`Raise`] under a per-key lock, which KV cannot.

pub mod authority;
mod cache;
pub mod feed;
pub mod filter;
pub mod kv;
pub mod ledger;
pub mod listing;

pub use cache::{RevocationCache, CACHE_CAPACITY};
pub use feed::RecentSet;
pub use listing::{Listed, RecentRevocations};

use core::cell::Cell;

use authority::{Authority, FeedState};
use feed::FeedCopy;

use crate::{
    auth::Authenticated,
    config::Pool,
    error::{Error, StoreError, TokenError},
    identity::{key_component, CaseRule, UserId, HASHED_PREFIX},
    ports::LocalFuture,
};

/// One revocation: when, by whom, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The revocation time, ms since the epoch.
    pub revoked_at_ms: u64,
    /// Who asked: an access key id, `user:<sub>`, `js-api`, …
    pub by: String,
    /// The operation: `AdminUserGlobalSignOut`, `GlobalSignOut`, `RevokeToken`, …
    pub reason: String,
    /// The request that wrote it.
    pub request_id: String,
}

/// Where revocation entries are kept. The rule (this module) decides what to look up and what
/// a write may not lower; a store keeps entries under the keys it is given.
pub trait RevocationStore {
    /// The entries under `keys`, one per key, in order (`None`: no entry), in one round trip
    /// where the store allows. A read that cannot be trusted is an error, never `None`.
    fn read<'a>(
        &'a self,
        keys: &'a [String],
    ) -> LocalFuture<'a, Result<Vec<Option<Entry>>, StoreError>>;

    /// Applies `raise` to the entry under `key` ([`Raise::decide`] on what is stored) and
    /// answers the entry that stands afterwards. A store with transactions applies it
    /// atomically; one without (KV) reads, decides, then writes. A failed write changes nothing.
    fn raise<'a>(
        &'a self,
        key: &'a str,
        raise: &'a Raise,
    ) -> LocalFuture<'a, Result<Entry, StoreError>>;

    /// The latest entries of `pool_id`, at most `limit`, latest first, for an administrator
    /// ([`listing`]). A store that cannot list says so: an error, never an empty list.
    fn recent<'a>(
        &'a self,
        pool_id: &'a str,
        limit: usize,
    ) -> LocalFuture<'a, Result<RecentRevocations, StoreError>> {
        let _ = (pool_id, limit);
        Box::pin(async {
            Err(StoreError::Read(
                "this store cannot list its entries".into(),
            ))
        })
    }

    /// Marks that a revocation is about to be written without the revocation authority at
    /// `now_ms` (the taint, [`filter::build::TAINT_KEY`]): until a rebuild from a listing covers
    /// it, no gate trusts the revocation filter. Written before the entry; a failure stops the
    /// write. A store the filter is never built from has nothing to mark.
    fn mark_direct_write(&self, now_ms: u64) -> LocalFuture<'_, Result<(), StoreError>> {
        let _ = now_ms;
        Box::pin(async { Ok(()) })
    }
}

impl<S: RevocationStore + ?Sized> RevocationStore for &S {
    fn read<'a>(
        &'a self,
        keys: &'a [String],
    ) -> LocalFuture<'a, Result<Vec<Option<Entry>>, StoreError>> {
        (**self).read(keys)
    }

    fn raise<'a>(
        &'a self,
        key: &'a str,
        raise: &'a Raise,
    ) -> LocalFuture<'a, Result<Entry, StoreError>> {
        (**self).raise(key, raise)
    }

    fn recent<'a>(
        &'a self,
        pool_id: &'a str,
        limit: usize,
    ) -> LocalFuture<'a, Result<RecentRevocations, StoreError>> {
        (**self).recent(pool_id, limit)
    }

    fn mark_direct_write(&self, now_ms: u64) -> LocalFuture<'_, Result<(), StoreError>> {
        (**self).mark_direct_write(now_ms)
    }
}

/// A write that never lowers an entry: the entry proposed now, and what decides whether the
/// stored one already covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raise {
    /// The entry to store, revoking at the request's time.
    pub entry: Entry,
    /// A user entry revokes by time; a session entry by existing.
    pub by_time: bool,
    /// The pool is local: it moves a sign-in that follows a sign-out in the same second to the
    /// next second (see `ops::signin`), so a repeated sign-out in that second must too.
    pub local_pool: bool,
    /// How long the entry must live, in seconds.
    pub ttl_s: u64,
}

/// What a [`Raise`] does to the stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The stored entry covers every token the new one would: write nothing, keep it.
    Keep(Entry),
    /// Store this entry.
    Write(Entry),
}

impl Raise {
    /// The decision over `stored`. Tokens carry `auth_time` in whole seconds, so a stored time
    /// in the current second covers every token an external issuer has made up to now; for a
    /// local pool a repeated sign-out in that second moves the time to the start of the next
    /// second, to cover a sign-in moved there. Local sign-ins after it move past it again, so
    /// they live.
    pub fn decide(&self, stored: Option<Entry>) -> Decision {
        let now_ms = self.entry.revoked_at_ms;
        let second_start = now_ms - now_ms % 1000;
        let next_second = second_start + 1000;
        match stored {
            Some(stored) if !self.by_time => Decision::Keep(stored),
            Some(stored) if stored.revoked_at_ms >= next_second => Decision::Keep(stored),
            Some(stored) if stored.revoked_at_ms >= second_start => {
                if self.local_pool {
                    Decision::Write(Entry {
                        revoked_at_ms: next_second,
                        ..self.entry.clone()
                    })
                } else {
                    Decision::Keep(stored)
                }
            }
            _ => Decision::Write(self.entry.clone()),
        }
    }
}

/// The KV key of a user entry.
pub fn user_key(pool_id: &str, user_id: &UserId) -> String {
    format!("rev/v1/u/{pool_id}/{}", key_component(user_id.as_str()))
}

/// The keys that may hold a user entry for any of `ids` (as a token or a session carries them):
/// each id's canonical key, then the key of its exact bytes where an entry written before ids
/// were spelled canonically may sit (see the module doc). No duplicates.
pub fn user_keys_to_check(pool_id: &str, ids: &[&str], case: CaseRule) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(ids.len() * 2);
    let mut push = |key: String| {
        if !keys.contains(&key) {
            keys.push(key);
        }
    };
    for id in ids {
        push(user_key(pool_id, &UserId::new(id, case)));
    }
    for id in ids.iter().filter(|id| !id.starts_with(HASHED_PREFIX)) {
        push(format!("rev/v1/u/{pool_id}/{}", key_component(id)));
    }
    keys
}

/// The KV key of a session entry.
pub fn session_key(pool_id: &str, origin_jti: &str) -> String {
    format!("rev/v1/s/{pool_id}/{}", key_component(origin_jti))
}

/// Proof that a token passed the revocation check. Made only by [`Revocations::check`].
#[derive(Debug, Clone)]
pub struct NotRevoked {
    auth: Authenticated,
}

impl NotRevoked {
    /// The verified, unrevoked caller.
    pub fn auth(&self) -> &Authenticated {
        &self.auth
    }
}

/// The revocation list as one request sees it.
pub struct Revocations<'a> {
    /// Where entries are kept.
    pub store: Box<dyn RevocationStore + 'a>,
    /// The isolate's cache.
    pub cache: &'a RevocationCache,
    /// How long the isolate reuses a lookup, in seconds.
    pub cache_ttl_s: u64,
    /// The request's clock, in ms.
    pub now_ms: u64,
    /// The isolate's copy of the feed and its own writes.
    pub recent: &'a RecentSet,
    /// The revocation authority, if one is bound (`None`: KV alone).
    pub authority: Option<Authority<'a>>,
    /// How long KV alone takes to enforce a write everywhere, in ms
    /// ([`crate::config::KvTimings::window_ms`]).
    pub kv_window_ms: u64,
    /// Where this request's writes note when they are enforced everywhere.
    pub receipt: Option<&'a Receipt>,
    /// Where diagnostics go.
    pub log: &'a dyn Fn(&str),
}

/// The header of every answer that wrote a revocation: when every location refuses the
/// revoked tokens, in ms since the epoch. The body stays Cognito's (or the upstream's).
pub const ENFORCED_BY_HEADER: &str = "x-edge-revoke-enforced-by";

/// When the revocations a request wrote are enforced in every location: the latest of its
/// writes' promises. The operation's answer carries it (`x-edge-revoke-enforced-by`).
#[derive(Debug, Default)]
pub struct Receipt {
    enforced_by_ms: Cell<Option<u64>>,
}

impl Receipt {
    /// No write yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes a write enforced everywhere by `ms`.
    pub fn note(&self, ms: u64) {
        let latest = self.enforced_by_ms.get().map_or(ms, |held| held.max(ms));
        self.enforced_by_ms.set(Some(latest));
    }

    /// When every write noted is enforced everywhere, ms since the epoch (`None`: no write).
    pub fn enforced_by_ms(&self) -> Option<u64> {
        self.enforced_by_ms.get()
    }
}

/// How revocations are enforced from this isolate, for `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enforcement {
    /// Whether a revocation authority is bound.
    pub authority: bool,
    /// The feed's state (with an authority).
    pub feed: Option<FeedState>,
    /// Whether tokens are being refused because the feed is too old (`FEED_FAIL_CLOSED_AFTER_S`).
    pub refusing: bool,
    /// Within how long a sign-out answered now is refused everywhere, in ms.
    pub bound_ms: u64,
    /// The revocation filter, with an authority and the filter on.
    pub filter: Option<FilterReport>,
}

/// The revocation filter as this isolate holds it (`/healthz`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterReport {
    /// `None`: complete (checks of keys it does not hold read no KV); else why every check
    /// reads KV.
    pub incomplete: Option<String>,
    /// The base held: its provenance and encoded size in bytes.
    pub base: Option<(filter::BaseMeta, usize)>,
}

/// Who revokes and why, recorded in the entry.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    /// Who asked.
    pub by: &'a str,
    /// The operation.
    pub reason: &'a str,
    /// The request id.
    pub request_id: &'a str,
}

impl Revocations<'_> {
    /// Reads `keys`, from the isolate's cache where fresh and from the store (one bulk read)
    /// otherwise.
    async fn lookup(&self, keys: &[String]) -> Result<Vec<Option<Entry>>, Error> {
        let ttl_ms = self.cache_ttl_s * 1000;
        let mut found: Vec<Option<Option<Entry>>> = keys
            .iter()
            .map(|k| self.cache.get(k, self.now_ms, ttl_ms))
            .collect();
        let missing: Vec<String> = keys
            .iter()
            .zip(&found)
            .filter(|(_, hit)| hit.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        if !missing.is_empty() {
            let entries = self.store.read(&missing).await?;
            let mut entries = missing.iter().zip(entries);
            for slot in found.iter_mut().filter(|slot| slot.is_none()) {
                let Some((key, entry)) = entries.next() else {
                    return Err(StoreError::Read("bulk read answered too few values".into()).into());
                };
                if ttl_ms > 0 {
                    self.cache.put(key, entry.clone(), self.now_ms);
                }
                *slot = Some(entry);
            }
        }
        Ok(found.into_iter().map(Option::flatten).collect())
    }

    /// The entries under `keys`: the later of what KV says (through the cache), what the
    /// isolate wrote itself, and what the authority's recent set says (its copy refreshed first
    /// if due). A revocation any of them knows counts.
    async fn entries(&self, keys: &[String]) -> Result<Vec<Option<Entry>>, Error> {
        let copy = match &self.authority {
            Some(authority) => {
                let (copy, state) = authority.copy().await?;
                if authority.settings.filter
                    && self
                        .filter_says_not_revoked(authority, copy.as_deref(), &state, keys)
                        .await
                {
                    return Ok(vec![None; keys.len()]);
                }
                copy
            }
            None => None,
        };
        let mut entries = self.lookup(keys).await?;
        for (key, slot) in keys.iter().zip(entries.iter_mut()) {
            let known = [
                self.recent.written(key, self.now_ms, self.kv_window_ms),
                copy.as_ref().and_then(|c| c.entry(key)),
            ];
            for entry in known.into_iter().flatten() {
                if slot
                    .as_ref()
                    .is_none_or(|held| held.revoked_at_ms < entry.revoked_at_ms)
                {
                    *slot = Some(entry);
                }
            }
        }
        Ok(entries)
    }

    /// Whether the revocation filter alone answers "certainly not revoked" for `keys` (no KV
    /// read then). A stale feed marks the filter incomplete for KV's window; a fresh copy that
    /// names a newer base takes it first.
    async fn filter_says_not_revoked(
        &self,
        authority: &Authority<'_>,
        copy: Option<&FeedCopy>,
        state: &FeedState,
        keys: &[String],
    ) -> bool {
        let fresh = matches!(state, FeedState::Fresh { .. });
        if !fresh {
            self.recent
                .filter_feed_failed(self.now_ms, self.kv_window_ms);
        }
        let Some(copy) = copy else { return false };
        if fresh {
            authority.ensure_filter(copy).await;
        }
        let answer = self.recent.filter_answer(keys, copy, fresh, self.now_ms);
        answer == filter::gate::Answer::CertainlyNotRevoked
    }

    /// The filter's state for `/healthz` (taking a newer base first, as a check would).
    async fn filter_report(
        &self,
        authority: &Authority<'_>,
        copy: Option<&FeedCopy>,
        state: &FeedState,
    ) -> Option<FilterReport> {
        if !authority.settings.filter {
            return None;
        }
        let fresh = matches!(state, FeedState::Fresh { .. });
        if !fresh {
            self.recent
                .filter_feed_failed(self.now_ms, self.kv_window_ms);
        }
        let incomplete = match copy {
            None => Some(filter::gate::Incomplete::NoBase.to_string()),
            Some(copy) => {
                if fresh {
                    authority.ensure_filter(copy).await;
                }
                match self.recent.filter_completeness(copy, fresh, self.now_ms) {
                    filter::gate::Completeness::Complete => None,
                    filter::gate::Completeness::Incomplete(why) => Some(why.to_string()),
                }
            }
        };
        Some(FilterReport {
            incomplete,
            base: self.recent.filter_base(),
        })
    }

    /// Checks a verified token against the list: one bulk read for its user entries (by `sub`
    /// and by `username`, each in its pool's canonical spelling and, where different, as
    /// written) and its session entry (by `origin_jti`).
    pub async fn check(&self, auth: Authenticated) -> Result<NotRevoked, Error> {
        let claims = auth.claims();
        let pool = auth.pool_id();
        let mut ids = vec![claims.sub.as_str()];
        ids.extend(claims.username.as_deref());
        let user_keys = user_keys_to_check(pool, &ids, auth.username_case());
        let mut keys = user_keys.clone();
        if let Some(origin_jti) = &claims.origin_jti {
            keys.push(session_key(pool, origin_jti));
        }
        let entries = self.entries(&keys).await?;
        let authenticated_at = claims.authenticated_at_ms();
        let user_revoked = entries[..user_keys.len()]
            .iter()
            .flatten()
            .any(|entry| authenticated_at <= entry.revoked_at_ms);
        let session_revoked = entries[user_keys.len()..].iter().any(Option::is_some);
        if user_revoked || session_revoked {
            return Err(auth.refuse(TokenError::Revoked));
        }
        Ok(NotRevoked { auth })
    }

    /// Whether a refresh of a session that authenticated at `authenticated_at_ms` is refused.
    pub async fn session_is_revoked(
        &self,
        pool: &Pool,
        user_ids: &[&str],
        origin_jti: &str,
        authenticated_at_ms: u64,
    ) -> Result<bool, Error> {
        let mut keys = user_keys_to_check(&pool.id, user_ids, pool.username_case);
        let users = keys.len();
        keys.push(session_key(&pool.id, origin_jti));
        let entries = self.entries(&keys).await?;
        Ok(entries[..users]
            .iter()
            .flatten()
            .any(|e| authenticated_at_ms <= e.revoked_at_ms)
            || entries[users..].iter().any(Option::is_some))
    }

    /// The latest entries of `pool`, at most `limit`, latest first, for an administrator:
    /// the store's (never the isolate's cache), and with an authority its recent set on top
    /// (the writes KV may not serve everywhere yet, each as the authority holds it). An
    /// authority that does not answer leaves the store's list, and the log says so.
    pub async fn recent(&self, pool: &Pool, limit: usize) -> Result<RecentRevocations, Error> {
        let stored = self.store.recent(&pool.id, limit).await?;
        let Some(authority) = &self.authority else {
            return Ok(stored);
        };
        match authority.recent(&pool.id, limit).await {
            Ok(rows) => Ok(stored.with_newer(
                &pool.id,
                rows.into_iter().map(|row| (row.key, row.entry)),
                limit,
            )),
            Err(why) => {
                (self.log)(&format!(
                    "revocation authority unreachable for the recent list ({why}); listing KV alone"
                ));
                Ok(stored)
            }
        }
    }

    /// The last sign-out of a user, if any (read through the caches).
    pub async fn user_entry(
        &self,
        pool_id: &str,
        user_id: &UserId,
    ) -> Result<Option<Entry>, Error> {
        let keys = [user_key(pool_id, user_id)];
        Ok(self.entries(&keys).await?.pop().flatten())
    }

    /// Signs a user out everywhere: every token authenticated up to now is revoked.
    pub async fn revoke_user(
        &self,
        pool: &Pool,
        user_id: &UserId,
        actor: &Actor<'_>,
    ) -> Result<Entry, Error> {
        self.revoke_user_at(pool, user_id, actor, self.now_ms).await
    }

    /// Signs a user out as of `at_ms` (an event's time, for a receiver of security events):
    /// every token authenticated up to then is revoked. A time in the future counts as now (it
    /// would revoke sign-ins yet to come), and, like every write, it never lowers an entry.
    pub async fn revoke_user_at(
        &self,
        pool: &Pool,
        user_id: &UserId,
        actor: &Actor<'_>,
        at_ms: u64,
    ) -> Result<Entry, Error> {
        let key = user_key(&pool.id, user_id);
        self.write_monotonic(&key, pool, actor, true, at_ms.min(self.now_ms))
            .await
    }

    /// Revokes one session: every token carrying this `origin_jti`.
    pub async fn revoke_session(
        &self,
        pool: &Pool,
        origin_jti: &str,
        actor: &Actor<'_>,
    ) -> Result<Entry, Error> {
        let key = session_key(&pool.id, origin_jti);
        self.write_monotonic(&key, pool, actor, false, self.now_ms)
            .await
    }

    /// Raises the entry under `key` to `at_ms` (see [`Raise`]): through the authority if one is
    /// bound and answers, else straight into KV. Caches what stands and remembers it as written
    /// here (the writing isolate refuses at once), and notes the receipt.
    async fn write_monotonic(
        &self,
        key: &str,
        pool: &Pool,
        actor: &Actor<'_>,
        by_time: bool,
        at_ms: u64,
    ) -> Result<Entry, Error> {
        let raise = Raise {
            entry: Entry {
                revoked_at_ms: at_ms,
                by: actor.by.to_owned(),
                reason: actor.reason.to_owned(),
                request_id: actor.request_id.to_owned(),
            },
            by_time,
            // The second-bump covers sign-ins moved past a sign-out made now; an event time in
            // the past (a security event's) has none to cover.
            local_pool: pool.local.is_some() && at_ms == self.now_ms,
            ttl_s: pool.revocation_ttl_s(),
        };
        // A write that falls back to KV after the authority failed may land up to its call
        // timeout after the request's clock: the receipt counts KV's window from then.
        let mut kv_write_after_ms = 0;
        let through_authority = match &self.authority {
            Some(authority) => match authority.raise(key, &raise).await {
                Ok(committed) => Some((committed.entry, authority.enforced_by(committed.at_ms))),
                Err(why) => {
                    (self.log)(&format!(
                        "revocation authority unreachable for a write ({why}); writing KV directly, enforced everywhere within KV's window"
                    ));
                    // The taint first: until a listing covers it no gate trusts the filter.
                    if self.recent.needs_taint(self.now_ms) {
                        self.store.mark_direct_write(self.now_ms).await?;
                        self.recent.taint_written(self.now_ms);
                    }
                    kv_write_after_ms = authority::CALL_TIMEOUT_MS;
                    None
                }
            },
            None => None,
        };
        let (entry, enforced_by_ms) = match through_authority {
            Some(done) => done,
            None => (
                self.store.raise(key, &raise).await?,
                self.now_ms
                    .saturating_add(kv_write_after_ms)
                    .saturating_add(self.kv_window_ms),
            ),
        };
        self.cache.put(key, Some(entry.clone()), self.now_ms);
        self.recent
            .written_here(key, &entry, self.now_ms, self.kv_window_ms);
        if let Some(receipt) = self.receipt {
            receipt.note(enforced_by_ms);
        }
        Ok(entry)
    }

    /// How revocations are enforced from this isolate now; refreshes the feed if it is due.
    pub async fn enforcement(&self) -> Enforcement {
        let Some(authority) = &self.authority else {
            return Enforcement {
                authority: false,
                feed: None,
                refusing: false,
                bound_ms: self.kv_window_ms,
                filter: None,
            };
        };
        match authority.copy().await {
            Ok((copy, state @ FeedState::Fresh { .. })) => Enforcement {
                authority: true,
                filter: self.filter_report(authority, copy.as_deref(), &state).await,
                feed: Some(state),
                refusing: false,
                bound_ms: authority.settings.bound_ms(),
            },
            Ok((copy, state)) => Enforcement {
                authority: true,
                filter: self.filter_report(authority, copy.as_deref(), &state).await,
                feed: Some(state),
                refusing: false,
                bound_ms: self.kv_window_ms,
            },
            Err(_) => {
                let failing = self.recent.failing();
                let (copy, _) = self.recent.copy();
                Enforcement {
                    authority: true,
                    feed: Some(FeedState::Stale {
                        age_ms: copy.map(|c| self.now_ms.saturating_sub(c.as_of_ms)),
                        since_ms: failing.as_ref().map_or(self.now_ms, |f| f.since_ms),
                        reason: failing.map(|f| f.reason).unwrap_or_default(),
                    }),
                    refusing: true,
                    bound_ms: 0,
                    filter: authority.settings.filter.then(|| FilterReport {
                        incomplete: Some(filter::gate::Incomplete::FeedStale.to_string()),
                        base: self.recent.filter_base(),
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::MAX_PLAIN_ID_BYTES;
    use crate::{
        auth::{Candidate, Expect},
        config::Config,
        crypto::SignatureVerifier,
        jwk::{KeySet, VerifyingKey},
        ports::MemoryStore,
    };
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    use core::cell::{Cell, RefCell};
    use std::collections::BTreeMap;

    use serde_json::json;
    use sha2::{Digest, Sha256};

    /// Signatures are not under test here: accept every one.
    struct AcceptAll;
    impl SignatureVerifier for AcceptAll {
        fn verify(&self, _: &VerifyingKey, _: &[u8], _: &[u8]) -> bool {
            true
        }
    }

    const POOL: &str = "us-east-1_Rev1";
    /// A pool with `username_case_sensitive: true`.
    const EXACT: &str = "us-east-1_Exact1";
    const SECOND: u64 = 1_700_000_000;
    const NOW_MS: u64 = SECOND * 1000 + 500;

    fn config() -> Config {
        let mut vars = serde_json::Map::new();
        vars.insert(
            "POOLS".into(),
            json!([{"id": POOL, "clients": [{"id": "c"}], "algorithms": ["HS256"],
                    "jwks": {"keys": [{"kty":"oct","k": URL_SAFE_NO_PAD.encode([7u8; 32])}]}},
                   {"id": "us-east-1_Other", "clients": [{"id": "c2"}], "algorithms": ["HS256"],
                    "jwks": {"keys": [{"kty":"oct","k": URL_SAFE_NO_PAD.encode([8u8; 32])}]}},
                   {"id": EXACT, "clients": [{"id": "c3"}], "algorithms": ["HS256"],
                    "username_case_sensitive": true,
                    "jwks": {"keys": [{"kty":"oct","k": URL_SAFE_NO_PAD.encode([9u8; 32])}]}}]),
        );
        Config::from_env(&vars).unwrap()
    }

    fn id(raw: &str) -> UserId {
        UserId::new(raw, CaseRule::Insensitive)
    }

    fn auth(pool: &str, sub: &str, auth_time: u64, iat: u64, origin_jti: &str) -> Authenticated {
        auth_named(
            pool,
            sub,
            &format!("name-{sub}"),
            auth_time,
            iat,
            origin_jti,
        )
    }

    fn auth_named(
        pool: &str,
        sub: &str,
        username: &str,
        auth_time: u64,
        iat: u64,
        origin_jti: &str,
    ) -> Authenticated {
        let config = config();
        let client = match pool {
            POOL => "c",
            EXACT => "c3",
            _ => "c2",
        };
        let claims = json!({"iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}"),
            "sub": sub, "username": username, "token_use": "access", "client_id": client,
            "auth_time": auth_time, "iat": iat, "exp": SECOND + 3600, "origin_jti": origin_jti});
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode([0u8; 32])
        );
        let candidate = Candidate::parse(&token, &config, &Expect::default()).unwrap();
        let keys = match &candidate.pool().keys {
            crate::config::PoolKeys::Inline(k) => k.as_ref().clone(),
            _ => KeySet::default(),
        };
        // Verified when it was minted at the latest (a future `iat` is refused).
        let verified_at = NOW_MS.max(iat * 1000);
        candidate
            .verify(&keys, &AcceptAll, &Expect::default(), verified_at)
            .unwrap()
    }

    fn no_log(_: &str) {}

    /// The list as one request of an isolate sees it, KV alone (each call a new isolate's
    /// memory of its own writes).
    fn revocations<'a>(
        store: &'a MemoryStore,
        cache: &'a RevocationCache,
        now_ms: u64,
    ) -> Revocations<'a> {
        Revocations {
            store: Box::new(kv::KvRevocations::new(store, 30)),
            cache,
            cache_ttl_s: 5,
            now_ms,
            recent: Box::leak(Box::new(RecentSet::new())),
            authority: None,
            kv_window_ms: 95_000,
            receipt: None,
            log: &no_log,
        }
    }

    const ACTOR: Actor<'static> = Actor {
        by: "test",
        reason: "AdminUserGlobalSignOut",
        request_id: "r1",
    };

    fn run<T>(f: impl core::future::Future<Output = T>) -> T {
        pollster::block_on(f)
    }

    fn is_revoked(result: Result<NotRevoked, Error>) -> bool {
        match result {
            Ok(_) => false,
            Err(Error::Token {
                error: TokenError::Revoked,
                ..
            }) => true,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    /// A FAKE second store (as a Durable Object would be): entries in a map, each raise
    /// applied whole. Counts raises.
    #[derive(Default)]
    struct FakeStore {
        entries: RefCell<BTreeMap<String, Entry>>,
        raises: Cell<usize>,
    }

    impl RevocationStore for FakeStore {
        fn read<'a>(
            &'a self,
            keys: &'a [String],
        ) -> LocalFuture<'a, Result<Vec<Option<Entry>>, StoreError>> {
            let entries = self.entries.borrow();
            let found = keys.iter().map(|k| entries.get(k).cloned()).collect();
            Box::pin(async move { Ok(found) })
        }

        fn raise<'a>(
            &'a self,
            key: &'a str,
            raise: &'a Raise,
        ) -> LocalFuture<'a, Result<Entry, StoreError>> {
            self.raises.set(self.raises.get() + 1);
            let mut entries = self.entries.borrow_mut();
            let entry = match raise.decide(entries.get(key).cloned()) {
                Decision::Keep(entry) => entry,
                Decision::Write(entry) => {
                    entries.insert(key.to_owned(), entry.clone());
                    entry
                }
            };
            Box::pin(async move { Ok(entry) })
        }
    }

    #[test]
    fn the_rule_holds_over_another_store_behind_the_port() {
        let (fake, cache) = (FakeStore::default(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let recent = RecentSet::new();
        let list = Revocations {
            store: Box::new(&fake),
            cache: &cache,
            cache_ttl_s: 0,
            now_ms: NOW_MS,
            recent: &recent,
            authority: None,
            kv_window_ms: 95_000,
            receipt: None,
            log: &no_log,
        };
        run(list.revoke_user(&pool, &id("U1"), &ACTOR)).unwrap();
        run(list.revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        assert_eq!(fake.raises.get(), 2);
        assert_eq!(fake.entries.borrow().len(), 1, "one entry, one spelling");
        assert!(is_revoked(run(list.check(auth(
            POOL,
            "u1",
            SECOND - 60,
            SECOND - 60,
            "o1"
        )))));
        let later = Revocations {
            now_ms: NOW_MS + 2_000,
            ..list
        };
        assert!(!is_revoked(run(later.check(auth(
            POOL,
            "u1",
            SECOND + 1,
            SECOND + 1,
            "o2"
        )))));
    }

    #[test]
    fn a_token_authenticated_before_a_global_sign_out_is_revoked() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let list = revocations(&store, &cache, NOW_MS);
        run(list.revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        assert!(is_revoked(run(list.check(auth(
            POOL,
            "u1",
            SECOND - 60,
            SECOND - 60,
            "o1"
        )))));
    }

    #[test]
    fn a_token_authenticated_in_the_same_second_as_the_sign_out_is_revoked() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let list = revocations(&store, &cache, NOW_MS);
        run(list.revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        // auth_time is whole seconds: SECOND*1000 ≤ NOW_MS, so it is covered.
        assert!(is_revoked(run(
            list.check(auth(POOL, "u1", SECOND, SECOND, "o1"))
        )));
    }

    #[test]
    fn a_sign_in_after_the_sign_out_lives() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        run(revocations(&store, &cache, NOW_MS).revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        let later = revocations(&store, &cache, NOW_MS + 2000);
        assert!(!is_revoked(run(later.check(auth(
            POOL,
            "u1",
            SECOND + 1,
            SECOND + 1,
            "o2"
        )))));
    }

    #[test]
    fn a_token_refreshed_after_the_sign_out_from_an_old_session_is_revoked() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        run(revocations(&store, &cache, NOW_MS).revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        // Minted an hour later (iat) but from a session authenticated before (auth_time).
        let refreshed = auth(POOL, "u1", SECOND - 600, SECOND + 3000, "o1");
        assert!(is_revoked(run(revocations(
            &store,
            &cache,
            NOW_MS + 10_000
        )
        .check(refreshed))));
    }

    #[test]
    fn iat_decides_when_auth_time_is_absent() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let list = revocations(&store, &cache, NOW_MS);
        run(list.revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        let mut token = auth(POOL, "u1", 0, SECOND - 1, "o1");
        token.claims_mut_for_tests().auth_time = None;
        assert!(is_revoked(run(list.check(token))));
    }

    #[test]
    fn other_users_and_other_pools_are_untouched() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let list = revocations(&store, &cache, NOW_MS);
        run(list.revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        assert!(!is_revoked(run(list.check(auth(
            POOL,
            "u2",
            SECOND - 60,
            SECOND - 60,
            "o1"
        )))));
        assert!(!is_revoked(run(list.check(auth(
            "us-east-1_Other",
            "u1",
            SECOND - 60,
            SECOND - 60,
            "o1"
        )))));
    }

    #[test]
    fn an_entry_under_the_username_revokes_tokens_of_that_username() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let list = revocations(&store, &cache, NOW_MS);
        run(list.revoke_user(&pool, &id("name-u1"), &ACTOR)).unwrap();
        assert!(is_revoked(run(list.check(auth(
            POOL,
            "u1",
            SECOND - 60,
            SECOND - 60,
            "o1"
        )))));
        assert_eq!(
            store.counts().0,
            2,
            "one read for the write, one bulk read for the check"
        );
    }

    #[test]
    fn a_revoked_session_revokes_only_tokens_of_that_origin_jti() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let list = revocations(&store, &cache, NOW_MS);
        run(list.revoke_session(&pool, "o1", &ACTOR)).unwrap();
        assert!(is_revoked(run(list.check(auth(
            POOL,
            "u1",
            SECOND + 5,
            SECOND + 5,
            "o1"
        )))));
        assert!(!is_revoked(run(list.check(auth(
            POOL,
            "u1",
            SECOND - 60,
            SECOND - 60,
            "o2"
        )))));
    }

    #[test]
    fn writes_never_lower_the_revocation_time() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        run(revocations(&store, &cache, NOW_MS + 5000).revoke_user(&pool, &id("u1"), &ACTOR))
            .unwrap();
        // A replayed or delayed request carrying an older clock.
        let older =
            run(revocations(&store, &cache, NOW_MS).revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        assert_eq!(older.revoked_at_ms, NOW_MS + 5000);
        let stored = store.peek(&user_key(POOL, &id("u1"))).unwrap().0;
        assert!(stored.contains(&(NOW_MS + 5000).to_string()));
    }

    #[test]
    fn a_repeated_sign_out_in_the_same_second_writes_nothing() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        run(revocations(&store, &cache, NOW_MS).revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        run(revocations(&store, &cache, NOW_MS + 300).revoke_user(&pool, &id("u1"), &ACTOR))
            .unwrap();
        assert_eq!(store.counts().1, 1);
        run(revocations(&store, &cache, NOW_MS + 1000).revoke_user(&pool, &id("u1"), &ACTOR))
            .unwrap();
        assert_eq!(
            store.counts().1,
            2,
            "a sign-out in a later second moves the time forward"
        );
    }

    fn local_pool() -> Pool {
        let mut pool = config().pool(POOL).unwrap().clone();
        pool.local = Some(crate::config::LocalPool {
            password_iterations: 1000,
            auto_confirm_sign_up: false,
            sign_out_on_password_change: false,
        });
        pool
    }

    #[test]
    fn a_repeated_sign_out_in_the_same_second_covers_a_local_sign_in_moved_to_the_next_second() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = local_pool();
        run(revocations(&store, &cache, NOW_MS).revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        // A local sign-in at NOW_MS + 100 got auth_time SECOND + 1 (ops::signin::new_session).
        let moved = || auth(POOL, "u1", SECOND + 1, SECOND, "o2");
        assert!(!is_revoked(run(
            revocations(&store, &cache, NOW_MS + 200).check(moved())
        )));
        let second =
            run(revocations(&store, &cache, NOW_MS + 300).revoke_user(&pool, &id("u1"), &ACTOR))
                .unwrap();
        assert_eq!(second.revoked_at_ms, (SECOND + 1) * 1000);
        assert!(is_revoked(run(
            revocations(&store, &cache, NOW_MS + 400).check(moved())
        )));
        // A third in the same second writes nothing more.
        run(revocations(&store, &cache, NOW_MS + 450).revoke_user(&pool, &id("u1"), &ACTOR))
            .unwrap();
        assert_eq!(store.counts().1, 2);
    }

    #[test]
    fn an_event_time_in_the_future_counts_as_now_and_a_replayed_past_event_changes_nothing() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = local_pool();
        let at = |ms| {
            run(revocations(&store, &cache, NOW_MS).revoke_user_at(&pool, &id("u1"), &ACTOR, ms))
                .unwrap()
                .revoked_at_ms
        };
        assert_eq!(at(NOW_MS + 3_600_000), NOW_MS);
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let past = |ms| {
            run(revocations(&store, &cache, NOW_MS).revoke_user_at(&pool, &id("u1"), &ACTOR, ms))
                .unwrap()
                .revoked_at_ms
        };
        assert_eq!(past(NOW_MS - 65_000), NOW_MS - 65_000);
        // The same event again, even in a local pool, is not moved to the next second.
        assert_eq!(past(NOW_MS - 65_000), NOW_MS - 65_000);
        assert_eq!(past(NOW_MS - 90_000), NOW_MS - 65_000, "never lowered");
        assert_eq!(store.counts().1, 1);
        // A sign-in after the event lives; one before it is revoked.
        let after = auth(POOL, "u1", SECOND - 60, SECOND - 60, "o1");
        let before = auth(POOL, "u1", SECOND - 70, SECOND - 70, "o2");
        assert!(!is_revoked(run(
            revocations(&store, &cache, NOW_MS).check(after)
        )));
        assert!(is_revoked(run(
            revocations(&store, &cache, NOW_MS).check(before)
        )));
    }

    #[test]
    fn entries_expire_after_the_longest_token_lifetime_and_never_under_a_minute() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        run(revocations(&store, &cache, NOW_MS).revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        let ttl = store.peek(&user_key(POOL, &id("u1"))).unwrap().1;
        assert_eq!(ttl, Some(pool.revocation_ttl_s()));
        assert!(pool.revocation_ttl_s() >= 60);
    }

    #[test]
    fn the_writing_isolate_sees_its_write_at_once_and_others_within_the_cache_ttl() {
        let store = MemoryStore::new();
        let (writer, reader) = (RevocationCache::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let token = || auth(POOL, "u1", SECOND - 60, SECOND - 60, "o1");
        // The reader caches "not revoked".
        assert!(!is_revoked(run(
            revocations(&store, &reader, NOW_MS).check(token())
        )));
        run(revocations(&store, &writer, NOW_MS + 10).revoke_user(&pool, &id("u1"), &ACTOR))
            .unwrap();
        assert!(is_revoked(run(
            revocations(&store, &writer, NOW_MS + 20).check(token())
        )));
        assert!(!is_revoked(run(revocations(
            &store,
            &reader,
            NOW_MS + 4_000
        )
        .check(token()))));
        assert!(is_revoked(run(revocations(
            &store,
            &reader,
            NOW_MS + 5_001
        )
        .check(token()))));
    }

    #[test]
    fn a_failed_read_refuses_the_token_and_is_never_cached() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        store.fail_reads(true);
        let result =
            run(revocations(&store, &cache, NOW_MS).check(auth(POOL, "u1", SECOND, SECOND, "o1")));
        assert!(matches!(result, Err(Error::Store(StoreError::Read(_)))));
        assert!(cache.is_empty());
        store.fail_reads(false);
        assert!(!is_revoked(run(
            revocations(&store, &cache, NOW_MS).check(auth(POOL, "u1", SECOND, SECOND, "o1"))
        )));
    }

    #[test]
    fn a_failed_write_leaves_no_entry_and_no_cached_revocation() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        store.fail_writes(true);
        assert!(matches!(
            run(revocations(&store, &cache, NOW_MS).revoke_user(&pool, &id("u1"), &ACTOR)),
            Err(Error::Store(StoreError::Write(_)))
        ));
        assert!(store.keys().is_empty());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_warm_cache_checks_a_token_without_reading_kv() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let list = revocations(&store, &cache, NOW_MS);
        run(list.check(auth(POOL, "u1", SECOND, SECOND, "o1"))).unwrap();
        run(list.check(auth(POOL, "u1", SECOND, SECOND, "o1"))).unwrap();
        assert_eq!(store.counts().0, 1);
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = RevocationCache::new();
        for i in 0..CACHE_CAPACITY + 50 {
            cache.put(&format!("k{i}"), None, 0);
        }
        assert_eq!(cache.len(), CACHE_CAPACITY);
        assert!(cache.get("k0", 0, 1000).is_none(), "the oldest went first");
    }

    #[test]
    fn long_user_ids_are_hashed_to_fit_kv_keys() {
        let key = user_key(POOL, &id(&"é".repeat(128)));
        assert!(key.len() < 512);
        assert!(key.starts_with("rev/v1/u/us-east-1_Rev1/h:"));
        assert_eq!(
            user_key(POOL, &id("alice")),
            "rev/v1/u/us-east-1_Rev1/alice"
        );
    }

    /// Before: a username that is literally `h:` + the hex SHA-256 of a long id had the same key
    /// as that long id, so signing one out signed out the other.
    #[test]
    fn a_plain_id_spelling_a_hashed_key_does_not_reach_the_long_id() {
        let long = "long-".repeat(50);
        assert!(long.len() > MAX_PLAIN_ID_BYTES);
        let spelled = format!("h:{}", hex::encode(Sha256::digest(long.as_bytes())));
        assert_ne!(user_key(POOL, &id(&spelled)), user_key(POOL, &id(&long)));
        assert!(key_component(&spelled).starts_with(HASHED_PREFIX));
        assert_eq!(key_component("alice"), "alice", "plain ids keep their keys");

        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let list = revocations(&store, &cache, NOW_MS);
        run(list.revoke_user(&pool, &id(&spelled), &ACTOR)).unwrap();
        let long_user = auth_named(POOL, "s-long", &long, SECOND - 60, SECOND - 60, "o1");
        assert!(!is_revoked(run(list.check(long_user))));
        let spelled_user = auth_named(POOL, "s-h", &spelled, SECOND - 60, SECOND - 60, "o2");
        assert!(is_revoked(run(list.check(spelled_user))), "control");
    }

    const NFC_NAME: &str = "ext-ren\u{e9}e";
    const NFD_NAME: &str = "ext-rene\u{301}e";

    #[test]
    fn a_sign_out_by_another_case_or_unicode_form_revokes_the_users_tokens() {
        let pool = config().pool(POOL).unwrap().clone();
        let cases = [
            ("EXT-ALICE", "ext-alice"),
            ("Ext-Alice", "ext-alice"),
            ("ext-alice", "EXT-Alice"),
            (NFC_NAME, NFD_NAME),
            (NFD_NAME, NFC_NAME),
            ("EXT-REN\u{c9}E", NFD_NAME),
        ];
        for (signed_out, in_token) in cases {
            let (store, cache) = (MemoryStore::new(), RevocationCache::new());
            let list = revocations(&store, &cache, NOW_MS);
            run(list.revoke_user(&pool, &id(signed_out), &ACTOR)).unwrap();
            let token = auth_named(POOL, "s-1", in_token, SECOND - 60, SECOND - 60, "o1");
            assert!(
                is_revoked(run(list.check(token))),
                "{signed_out} vs {in_token}"
            );
            let other = auth_named(POOL, "s-2", "ext-bob", SECOND - 60, SECOND - 60, "o2");
            assert!(!is_revoked(run(list.check(other))), "control");
        }
    }

    #[test]
    fn a_sign_out_by_the_sub_in_another_case_revokes_the_users_tokens() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let list = revocations(&store, &cache, NOW_MS);
        let sub = "9f1c3a52-0b7e-4c1d-8e2f-3a4b5c6d7e8f";
        run(list.revoke_user(&pool, &id(&sub.to_uppercase()), &ACTOR)).unwrap();
        assert!(is_revoked(run(list.check(auth(
            POOL,
            sub,
            SECOND - 60,
            SECOND - 60,
            "o1"
        )))));
    }

    #[test]
    fn a_case_sensitive_pool_keeps_other_cases_apart_but_joins_unicode_forms() {
        let pool = config().pool(EXACT).unwrap().clone();
        let exact = |raw: &str| UserId::new(raw, CaseRule::Sensitive);
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let list = revocations(&store, &cache, NOW_MS);
        run(list.revoke_user(&pool, &exact("EXT-ALICE"), &ACTOR)).unwrap();
        run(list.revoke_user(&pool, &exact(NFC_NAME), &ACTOR)).unwrap();
        let token = |name: &str| auth_named(EXACT, "s-1", name, SECOND - 60, SECOND - 60, "o1");
        assert!(!is_revoked(run(list.check(token("ext-alice")))));
        assert!(is_revoked(run(list.check(token("EXT-ALICE")))));
        assert!(is_revoked(run(list.check(token(NFD_NAME)))));
    }

    /// Entries written before ids were spelled canonically sit under the exact bytes: a user
    /// signed out that way stays signed out.
    #[test]
    fn an_entry_written_under_the_exact_bytes_before_canonical_spelling_still_revokes() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let entry = Entry {
            revoked_at_ms: NOW_MS - 1000,
            by: "old".into(),
            reason: "AdminUserGlobalSignOut".into(),
            request_id: "r0".into(),
        };
        store.seed(&format!("rev/v1/u/{POOL}/Ext-Alice"), &kv::encode(&entry));
        store.seed(&format!("rev/v1/u/{POOL}/{NFD_NAME}"), &kv::encode(&entry));
        let list = revocations(&store, &cache, NOW_MS);
        for name in ["Ext-Alice", NFD_NAME] {
            let token = auth_named(POOL, "s-1", name, SECOND - 60, SECOND - 60, "o1");
            assert!(is_revoked(run(list.check(token))), "{name}");
        }
        let fresh = auth_named(POOL, "s-1", "Ext-Alice", SECOND, SECOND, "o2");
        assert!(!is_revoked(run(list.check(fresh))), "a later sign-in lives");
        // The old spelling is read in the same bulk read as the canonical one.
        let keys = user_keys_to_check(POOL, &["s-1", "Ext-Alice"], CaseRule::Insensitive);
        assert_eq!(
            keys,
            [
                format!("rev/v1/u/{POOL}/s-1"),
                format!("rev/v1/u/{POOL}/ext-alice"),
                format!("rev/v1/u/{POOL}/Ext-Alice"),
            ]
        );
        assert_eq!(store.counts().0, 3, "one bulk read per check");
        // A canonical name adds no key, and an old plain `h:` key is never read.
        assert_eq!(
            user_keys_to_check(POOL, &["s-1", "alice"], CaseRule::Insensitive).len(),
            2
        );
        assert!(user_keys_to_check(POOL, &["h:ab"], CaseRule::Insensitive)
            .iter()
            .all(|k| k != &format!("rev/v1/u/{POOL}/h:ab")));
    }

    #[test]
    fn a_corrupt_entry_is_reported_without_the_user_id_in_its_key() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        store.seed(&user_key(POOL, &id("name-u1")), "not json");
        let err =
            run(revocations(&store, &cache, NOW_MS).check(auth(POOL, "u1", SECOND, SECOND, "o1")))
                .unwrap_err()
                .to_string();
        assert!(err.contains("not a revocation entry"), "{err}");
        assert!(
            !err.contains("name-u1"),
            "the log line names the key's kind only: {err}"
        );
        assert!(err.contains(&format!("rev/v1/u/{POOL}/#")), "{err}");
    }

    #[test]
    fn a_corrupt_entry_fails_closed() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        store.seed(&user_key(POOL, &id("u1")), "not json");
        let result =
            run(revocations(&store, &cache, NOW_MS).check(auth(POOL, "u1", SECOND, SECOND, "o1")));
        assert!(matches!(result, Err(Error::Store(StoreError::Corrupt(_)))));
    }

    // --- the revocation authority, the feed, receipts ------------------------------------------

    use authority::{
        fake::{FakeAuthority, FakeShare},
        AuthorityPorts, FeedSettings, CLOCK_ALLOWANCE_MS,
    };

    const FEED: FeedSettings = FeedSettings {
        freshness_ms: 2_000,
        fail_closed_after_ms: None,
        window_ms: 155_000,
        filter: true,
    };

    /// One request of an isolate whose location's KV view is `kv` (a FAKE that lags when the
    /// test keeps it empty) and which reaches `fake` as its authority.
    fn with_authority<'a>(
        kv: &'a MemoryStore,
        cache: &'a RevocationCache,
        recent: &'a RecentSet,
        fake: &'a FakeAuthority,
        share: &'a FakeShare,
        now_ms: u64,
    ) -> Revocations<'a> {
        Revocations {
            store: Box::new(kv::KvRevocations::new(kv, 30)),
            cache,
            cache_ttl_s: 5,
            now_ms,
            recent,
            authority: Some(Authority {
                ports: AuthorityPorts { link: fake, share },
                recent,
                settings: FEED,
                now_ms,
                seed: 0,
                log: &no_log,
            }),
            kv_window_ms: 95_000,
            receipt: None,
            log: &no_log,
        }
    }

    #[test]
    fn the_recent_list_shows_a_write_through_the_authority_before_the_listing_locations_kv_has_it()
    {
        let pool = config().pool(POOL).unwrap().clone();
        let fake = FakeAuthority::new(NOW_MS);
        let (a_kv, a_cache, a_recent, a_share) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        run(
            with_authority(&a_kv, &a_cache, &a_recent, &fake, &a_share, NOW_MS).revoke_user(
                &pool,
                &id("u1"),
                &ACTOR,
            ),
        )
        .unwrap();
        // Location B: its KV view lags (it has only an older entry, written straight into KV).
        let (b_kv, b_cache, b_recent, b_share) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let older = Entry {
            revoked_at_ms: NOW_MS - 50_000,
            by: "AKIAOLDER".into(),
            reason: "AdminUserGlobalSignOut".into(),
            request_id: "r-0".into(),
        };
        b_kv.seed(&format!("rev/v1/u/{POOL}/u0"), &kv::encode(&older));
        let b = with_authority(&b_kv, &b_cache, &b_recent, &fake, &b_share, NOW_MS + 10);
        let listed = run(b.recent(&pool, 10)).unwrap();
        let subjects: Vec<&str> = listed.entries.iter().map(|l| l.subject.as_str()).collect();
        assert_eq!(subjects, ["u1", "u0"]);
        assert_eq!(listed.entries[0].entry.by, ACTOR.by);
        assert_eq!(listed.entries[1].entry, older);
        // An authority that does not answer leaves KV's list.
        fake.down.set(true);
        let listed = run(b.recent(&pool, 10)).unwrap();
        assert_eq!(listed.entries.len(), 1);
        assert_eq!(listed.entries[0].subject, "u0");
    }

    #[test]
    fn a_sign_out_through_the_authority_is_refused_in_another_location_before_its_kv_sees_it() {
        let pool = config().pool(POOL).unwrap().clone();
        let fake = FakeAuthority::new(NOW_MS);
        let token = || auth(POOL, "u1", SECOND - 60, SECOND - 60, "o1");
        // Location B: its own KV view (empty: the write has not reached it), cache and copy.
        let (b_kv, b_cache, b_recent, b_share) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let b = |now| with_authority(&b_kv, &b_cache, &b_recent, &fake, &b_share, now);
        assert!(
            !is_revoked(run(b(NOW_MS).check(token()))),
            "caches \"not revoked\""
        );
        // Location A signs the user out through the authority.
        let (a_kv, a_cache, a_recent, a_share) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        fake.clock.set(NOW_MS + 100);
        let receipt = Receipt::new();
        let a = Revocations {
            receipt: Some(&receipt),
            ..with_authority(&a_kv, &a_cache, &a_recent, &fake, &a_share, NOW_MS + 100)
        };
        run(a.revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        assert_eq!(
            a_kv.counts(),
            (0, 0),
            "the authority wrote KV, not the gate"
        );
        assert_eq!(fake.kv.counts().1, 1);
        let enforced_by = receipt.enforced_by_ms().unwrap();
        assert_eq!(enforced_by, NOW_MS + 100 + 2_000 + CLOCK_ALLOWANCE_MS);
        // B's KV still says nothing; its copy comes due within FRESHNESS_S and refuses.
        fake.clock.set(NOW_MS + 2_100);
        assert!(is_revoked(run(b(NOW_MS + 2_100).check(token()))));
        assert!(b_kv.keys().is_empty());
        assert!(enforced_by >= NOW_MS + 2_100);
        // A later sign-in lives.
        assert!(!is_revoked(run(b(NOW_MS + 2_100).check(auth(
            POOL,
            "u1",
            SECOND + 1,
            SECOND + 1,
            "o2"
        )))));
    }

    #[test]
    fn an_unreachable_authority_sends_the_write_to_kv_and_the_receipt_states_kvs_window() {
        let pool = config().pool(POOL).unwrap().clone();
        let fake = FakeAuthority::new(NOW_MS);
        fake.down.set(true);
        let (kv_view, cache, recent, share) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let receipt = Receipt::new();
        let list = Revocations {
            receipt: Some(&receipt),
            ..with_authority(&kv_view, &cache, &recent, &fake, &share, NOW_MS)
        };
        run(list.revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        assert_eq!(
            kv_view.written(),
            [
                filter::build::TAINT_KEY.to_owned(),
                format!("rev/v1/u/{POOL}/u1")
            ],
            "the taint, then the entry, straight into KV"
        );
        assert_eq!(
            receipt.enforced_by_ms(),
            Some(NOW_MS + 95_000 + authority::CALL_TIMEOUT_MS)
        );
        // Checks go on against KV (and the isolate's own write).
        assert!(is_revoked(run(list.check(auth(
            POOL,
            "u1",
            SECOND - 60,
            SECOND - 60,
            "o1"
        )))));
    }

    #[test]
    fn without_an_authority_the_receipt_states_kvs_window() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let receipt = Receipt::new();
        let list = Revocations {
            receipt: Some(&receipt),
            ..revocations(&store, &cache, NOW_MS)
        };
        assert_eq!(receipt.enforced_by_ms(), None, "nothing written yet");
        run(list.revoke_session(&pool, "o1", &ACTOR)).unwrap();
        assert_eq!(receipt.enforced_by_ms(), Some(NOW_MS + 95_000));
    }

    /// Before: the isolate that answered a sign-out refused the tokens for
    /// `REVOCATION_CACHE_TTL_S`, then read its location's KV again; a view of KV that had not
    /// caught up with the write let the tokens back in.
    #[test]
    fn the_writing_isolate_keeps_refusing_after_its_cache_expires_while_its_kv_view_lags() {
        let (store, cache) = (MemoryStore::new(), RevocationCache::new());
        let pool = config().pool(POOL).unwrap().clone();
        let recent = RecentSet::new();
        let at = |now_ms| Revocations {
            recent: &recent,
            ..revocations(&store, &cache, now_ms)
        };
        run(at(NOW_MS).revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        // A lagging view: the location's KV does not have the entry.
        run(crate::ports::Store::delete(
            &store,
            &user_key(POOL, &id("u1")),
        ))
        .unwrap();
        let token = || auth(POOL, "u1", SECOND - 60, SECOND - 60, "o1");
        assert!(is_revoked(run(at(NOW_MS + 6_000).check(token()))));
        assert!(is_revoked(run(at(NOW_MS + 94_000).check(token()))));
        assert!(
            !is_revoked(run(at(NOW_MS + 96_000).check(token()))),
            "control: past KV's window the isolate relies on KV again"
        );
    }

    #[test]
    fn an_event_time_sign_out_through_the_authority_keeps_its_time_and_never_lowers_a_later_one() {
        let pool = config().pool(POOL).unwrap().clone();
        let fake = FakeAuthority::new(NOW_MS);
        let (a_kv, a_cache, a_recent, a_share) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let a = with_authority(&a_kv, &a_cache, &a_recent, &fake, &a_share, NOW_MS);
        let event = run(a.revoke_user_at(&pool, &id("u1"), &ACTOR, NOW_MS - 30_000)).unwrap();
        assert_eq!(
            event.revoked_at_ms,
            NOW_MS - 30_000,
            "the event's time, not now"
        );
        // Another location signs the user out now; an older event arriving at A afterwards
        // (A's own cache still holds its first write) changes nothing at the authority.
        let (b_kv, b_cache, b_recent, b_share) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let b = with_authority(&b_kv, &b_cache, &b_recent, &fake, &b_share, NOW_MS);
        let now = run(b.revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        assert!(now.revoked_at_ms >= NOW_MS);
        let older = run(a.revoke_user_at(&pool, &id("u1"), &ACTOR, NOW_MS - 10_000)).unwrap();
        assert_eq!(older, now, "the authority keeps the later sign-out");
        assert_eq!(fake.kv.counts().1, 2, "two KV writes: the event, then B's");
        // A time in the future is taken as now.
        let future = run(a.revoke_user_at(&pool, &id("u2"), &ACTOR, NOW_MS + 3_600_000)).unwrap();
        assert!(future.revoked_at_ms <= NOW_MS + 1_000, "{future:?}");
    }

    // --- the revocation filter: the authority keeps it, the feed names it, the gate asks it ----

    /// An authority that keeps a filter and trusts a KV listing `delay_ms` after a write
    /// straight to KV (or its own start).
    fn filtering_authority(delay_ms: u64) -> FakeAuthority {
        let fake = FakeAuthority::new(NOW_MS);
        fake.with_filter.set(true);
        fake.listing_delay_ms.set(delay_ms);
        fake
    }

    /// An authority that keeps a filter and has run for a minute: a listing has covered its own
    /// start, so gates may trust its filter from now on.
    fn running_authority() -> FakeAuthority {
        let fake = filtering_authority(filter::build::MIN_LISTING_DELAY_MS);
        fake.clock.set(NOW_MS - 60_000);
        run(authority::AuthorityLink::call(
            &fake, "GET", "/filter", None,
        ))
        .unwrap();
        fake.clock.set(NOW_MS);
        fake.filter_calls.set(0);
        fake
    }

    /// `n` checks of distinct never-revoked users at `now_ms` in one isolate.
    fn check_strangers(list: &Revocations<'_>, n: usize) {
        for i in 0..n {
            let token = auth(
                POOL,
                &format!("stranger-{i}"),
                SECOND - 60,
                SECOND - 60,
                "o",
            );
            assert!(!is_revoked(run(list.check(token))), "stranger-{i}");
        }
    }

    #[test]
    fn with_a_complete_filter_never_revoked_users_are_checked_without_a_kv_read() {
        let fake = running_authority();
        let (kv_view, cache, recent, share) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let list = with_authority(&kv_view, &cache, &recent, &fake, &share, NOW_MS);
        check_strangers(&list, 200);
        assert_eq!(
            kv_view.counts().0,
            0,
            "no KV read for users nobody signed out"
        );
        assert_eq!(fake.filter_calls.get(), 1, "the base was fetched once");
        let report = run(list.enforcement()).filter.unwrap();
        assert_eq!(report.incomplete, None);
        assert_eq!(report.base.unwrap().0.count, 0);
        // Without the filter (REVOCATION_FILTER_MAX_ENTRIES=0 at the gate) every check reads KV.
        let (kv_off, cache_off, recent_off) =
            (MemoryStore::new(), RevocationCache::new(), RecentSet::new());
        let mut off = with_authority(&kv_off, &cache_off, &recent_off, &fake, &share, NOW_MS);
        if let Some(authority) = off.authority.as_mut() {
            authority.settings.filter = false;
        }
        check_strangers(&off, 20);
        assert_eq!(kv_off.counts().0, 20);
    }

    #[test]
    fn a_second_isolate_of_the_location_takes_the_base_from_the_locations_cache() {
        let fake = running_authority();
        let share = FakeShare::default();
        let (kv_a, cache_a, recent_a) =
            (MemoryStore::new(), RevocationCache::new(), RecentSet::new());
        check_strangers(
            &with_authority(&kv_a, &cache_a, &recent_a, &fake, &share, NOW_MS),
            3,
        );
        let (kv_b, cache_b, recent_b) =
            (MemoryStore::new(), RevocationCache::new(), RecentSet::new());
        check_strangers(
            &with_authority(&kv_b, &cache_b, &recent_b, &fake, &share, NOW_MS),
            3,
        );
        assert_eq!(
            fake.filter_calls.get(),
            1,
            "one GET /filter for the location"
        );
        assert_eq!(kv_a.counts().0 + kv_b.counts().0, 0);
        // A damaged shared base is refused. While the first isolate's fetch is recent (its
        // marker in the location's cache), a third waits for it and reads KV meanwhile; once
        // the marker is older than the wait, a fourth asks the authority again.
        *share.filter.borrow_mut() = Some("RVJGAAAA".into());
        let (kv_c, cache_c, recent_c) =
            (MemoryStore::new(), RevocationCache::new(), RecentSet::new());
        check_strangers(
            &with_authority(&kv_c, &cache_c, &recent_c, &fake, &share, NOW_MS + 1),
            3,
        );
        assert_eq!(
            fake.filter_calls.get(),
            1,
            "the location's fetch is under way"
        );
        assert_eq!(kv_c.counts().0, 3, "until then, KV answers");
        let later = NOW_MS + authority::REFRESH_WAIT_MS;
        let (kv_d, cache_d, recent_d) =
            (MemoryStore::new(), RevocationCache::new(), RecentSet::new());
        check_strangers(
            &with_authority(&kv_d, &cache_d, &recent_d, &fake, &share, later),
            3,
        );
        assert_eq!(fake.filter_calls.get(), 2);
        assert_eq!(kv_d.counts().0, 0);
    }

    #[test]
    fn with_the_filter_a_signed_out_user_is_refused_and_read_from_kv() {
        let pool = config().pool(POOL).unwrap().clone();
        let fake = running_authority();
        let token = || auth(POOL, "u1", SECOND - 60, SECOND - 60, "o1");
        let (kv_b, cache_b, recent_b, share_b) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let b = |now| with_authority(&kv_b, &cache_b, &recent_b, &fake, &share_b, now);
        assert!(!is_revoked(run(b(NOW_MS).check(token()))));
        assert_eq!(kv_b.counts().0, 0);
        // Location A signs u1 out through the authority; KV everywhere has it (B's view too).
        let (kv_a, cache_a, recent_a, share_a) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let a = with_authority(&kv_a, &cache_a, &recent_a, &fake, &share_a, NOW_MS + 10);
        fake.clock.set(NOW_MS + 10);
        run(a.revoke_user(&pool, &id("u1"), &ACTOR)).unwrap();
        let written = fake.kv.peek(&format!("rev/v1/u/{POOL}/u1")).unwrap().0;
        kv_b.seed(&format!("rev/v1/u/{POOL}/u1"), &written);
        // The writing isolate refuses at once (its own write counts as "maybe").
        assert!(is_revoked(run(a.check(token()))));
        // B refuses once its copy comes due: the feed holds u1, so the filter says "maybe".
        fake.clock.set(NOW_MS + 2_100);
        assert!(is_revoked(run(b(NOW_MS + 2_100).check(token()))));
        assert!(kv_b.counts().0 >= 1, "a \"maybe\" reads KV");
        // Long after the feed has let u1 go, the rebuilt base holds it: still refused.
        let later = NOW_MS + 400_000;
        fake.clock.set(later);
        let reads = kv_b.counts().0;
        assert!(is_revoked(run(b(later).check(token()))));
        let report = run(b(later).enforcement()).filter.unwrap();
        assert_eq!(report.incomplete, None, "{report:?}");
        let (meta, _) = report.base.unwrap();
        assert!(meta.count >= 1 && meta.version > 1, "{meta:?}");
        assert!(kv_b.counts().0 > reads);
        // Strangers still cost nothing.
        let reads = kv_b.counts().0;
        check_strangers(&b(later), 50);
        assert!(kv_b.counts().0 - reads <= 1, "{}", kv_b.counts().0 - reads);
    }

    #[test]
    fn a_write_straight_to_kv_makes_every_gate_read_kv_until_a_listing_covers_it() {
        let pool = config().pool(POOL).unwrap().clone();
        let delay = 125_000;
        let fake = running_authority();
        let token = || auth(POOL, "u2", SECOND - 60, SECOND - 60, "o2");
        let (kv_b, cache_b, recent_b, share_b) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let b = |now| with_authority(&kv_b, &cache_b, &recent_b, &fake, &share_b, now);
        check_strangers(&b(NOW_MS), 5);
        assert_eq!(kv_b.counts().0, 0, "complete at first");
        fake.listing_delay_ms.set(delay);
        // The authority is unreachable for the writer: the taint, then the entry, into KV.
        fake.down.set(true);
        let t1 = NOW_MS + 10_000;
        let (cache_a, recent_a, share_a) = (
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let a = with_authority(&fake.kv, &cache_a, &recent_a, &fake, &share_a, t1);
        run(a.revoke_user(&pool, &id("u2"), &ACTOR)).unwrap();
        let taint = fake.kv.peek(filter::build::TAINT_KEY).unwrap().0;
        assert_eq!(taint, t1.to_string());
        fake.down.set(false);
        let entry = fake.kv.peek(&format!("rev/v1/u/{POOL}/u2")).unwrap().0;
        kv_b.seed(&format!("rev/v1/u/{POOL}/u2"), &entry);
        // B's next copy carries the taint: incomplete, every check reads KV, u2 is refused.
        let t2 = t1 + 6_000;
        fake.clock.set(t2);
        assert!(is_revoked(run(b(t2).check(token()))));
        let reads = kv_b.counts().0;
        check_strangers(&b(t2), 10);
        assert_eq!(kv_b.counts().0 - reads, 10, "incomplete: KV for everyone");
        let report = run(b(t2).enforcement()).filter.unwrap();
        assert!(
            report
                .incomplete
                .as_deref()
                .unwrap()
                .contains("without the authority"),
            "{report:?}"
        );
        // Once a listing may cover the taint, the authority lists KV and rebuilds: u2 is in the
        // base, strangers read nothing again.
        let t3 = t1 + delay + 1;
        fake.clock.set(t3);
        assert!(is_revoked(run(b(t3).check(token()))));
        let report = run(b(t3).enforcement()).filter.unwrap();
        assert_eq!(report.incomplete, None, "{report:?}");
        let reads = kv_b.counts().0;
        check_strangers(&b(t3), 20);
        assert!(kv_b.counts().0 - reads <= 1);
        assert!(is_revoked(run(b(t3).check(token()))));
    }

    #[test]
    fn entries_in_kv_before_the_authority_are_listed_into_its_first_complete_filter() {
        let delay = 125_000;
        let fake = filtering_authority(delay);
        let key = format!("rev/v1/u/{POOL}/old-timer");
        let old = kv::encode(&Entry {
            revoked_at_ms: NOW_MS - 1_000,
            by: "AKIAOLD".into(),
            reason: "AdminUserGlobalSignOut".into(),
            request_id: "r-old".into(),
        });
        fake.kv.seed(&key, &old);
        let token = || auth(POOL, "old-timer", SECOND - 60, SECOND - 60, "o3");
        let (kv_b, cache_b, recent_b, share_b) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        kv_b.seed(&key, &old);
        let b = |now| with_authority(&kv_b, &cache_b, &recent_b, &fake, &share_b, now);
        // Its own start counts as a write without it: until a listing covers it, KV decides.
        assert!(is_revoked(run(b(NOW_MS).check(token()))));
        check_strangers(&b(NOW_MS), 5);
        assert_eq!(kv_b.counts().0, 6);
        let later = NOW_MS + delay + 10_000;
        fake.clock.set(later);
        let report = run(b(later).enforcement()).filter.unwrap();
        assert_eq!(report.incomplete, None, "{report:?}");
        assert_eq!(report.base.unwrap().0.count, 1, "the listing's one entry");
        let reads = kv_b.counts().0;
        assert!(is_revoked(run(b(later).check(token()))));
        assert_eq!(
            kv_b.counts().0,
            reads + 1,
            "the base holds it: \"maybe\", read KV"
        );
        check_strangers(&b(later), 20);
        assert!(kv_b.counts().0 - reads - 1 <= 1);
    }

    #[test]
    fn a_gate_whose_feed_went_stale_reads_kv_for_kvs_window_after_it_recovers() {
        let fake = running_authority();
        let (kv_b, cache_b, recent_b, share_b) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let b = |now| with_authority(&kv_b, &cache_b, &recent_b, &fake, &share_b, now);
        check_strangers(&b(NOW_MS), 3);
        assert_eq!(kv_b.counts().0, 0);
        fake.down.set(true);
        let t1 = NOW_MS + 3_000;
        fake.clock.set(t1);
        check_strangers(&b(t1), 3);
        assert_eq!(kv_b.counts().0, 3, "stale: KV");
        fake.down.set(false);
        let t2 = t1 + 20_000;
        fake.clock.set(t2);
        check_strangers(&b(t2), 3);
        assert_eq!(kv_b.counts().0, 6, "recently stale: KV");
        let t3 = t1 + 95_000 + 1;
        fake.clock.set(t3);
        check_strangers(&b(t3), 3);
        assert_eq!(kv_b.counts().0, 6, "complete again");
    }

    #[test]
    fn an_authority_without_a_filter_leaves_every_check_reading_kv() {
        let fake = FakeAuthority::new(NOW_MS);
        let (kv_b, cache_b, recent_b, share_b) = (
            MemoryStore::new(),
            RevocationCache::new(),
            RecentSet::new(),
            FakeShare::default(),
        );
        let b = with_authority(&kv_b, &cache_b, &recent_b, &fake, &share_b, NOW_MS);
        check_strangers(&b, 5);
        assert_eq!(kv_b.counts().0, 5);
        assert_eq!(fake.filter_calls.get(), 0);
        let report = run(b.enforcement()).filter.unwrap();
        assert!(report.incomplete.is_some() && report.base.is_none());
    }
}
