//! Recent revocations, listed for an administrator (the console's admin panel, through
//! `AdminListRevocations`): each entry's kind, subject, time, and who wrote it and why.
//!
//! A store lists what it can: Workers KV lists keys in key order, not by time, so
//! [`super::kv::KvRevocations`] lists up to [`SCAN_KEYS`] keys of each kind for the pool, takes
//! the [`READ_KEYS`] whose expiration is latest (entries of a pool live the same time, so the
//! latest to expire were written last), reads them in one bulk read, orders them by revocation
//! time and keeps `limit`. When the pool has more keys than the scan reads, the answer says it
//! is not complete.
//!
//! With a revocation authority bound, its recent set (the writes of the last few minutes, which
//! KV may not serve everywhere yet, in the order it committed them) is laid over the store's
//! list ([`RecentRevocations::with_newer`]): the console shows a revocation as soon as it is
//! written, from any location.

use super::Entry;

/// Keys of each kind (user, session) a KV listing reads at most: one page of KV `list`.
pub const SCAN_KEYS: usize = 1000;
/// Entries a KV listing reads at most, in one bulk read (KV's bulk `get` takes up to 100 keys).
pub const READ_KEYS: usize = 100;
/// Entries listed at most (and the default).
pub const MAX_LISTED: usize = 60;

/// Which kind of entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A user entry (`rev/v1/u/…`): every token authenticated up to its time.
    User,
    /// A session entry (`rev/v1/s/…`): one session's tokens.
    Session,
}

impl Kind {
    /// The kind's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Session => "session",
        }
    }

    /// The key prefix of this kind's entries of `pool_id`.
    pub fn prefix(self, pool_id: &str) -> String {
        match self {
            Kind::User => format!("rev/v1/u/{pool_id}/"),
            Kind::Session => format!("rev/v1/s/{pool_id}/"),
        }
    }
}

/// One listed revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// User or session.
    pub kind: Kind,
    /// The user id or `origin_jti`, as keyed (an id too long for a key is `h:` and its hash).
    pub subject: String,
    /// The entry: time, by, reason, request id.
    pub entry: Entry,
}

/// What a store found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentRevocations {
    /// The entries, latest first.
    pub entries: Vec<Listed>,
    /// Whether every entry of the pool was considered (`false`: the store saw only part).
    pub complete: bool,
}

impl RecentRevocations {
    /// These entries with the authority's recent ones of `pool_id` (`(key, entry)`) over them:
    /// the authority's entry of a key replaces the listed one (it is the one that stands), then
    /// latest first, `limit` kept.
    pub fn with_newer(
        self,
        pool_id: &str,
        newer: impl IntoIterator<Item = (String, Entry)>,
        limit: usize,
    ) -> Self {
        let mut entries = self.entries;
        for (key, entry) in newer {
            let Some((kind, subject)) = [Kind::User, Kind::Session].iter().find_map(|kind| {
                let subject = key.strip_prefix(kind.prefix(pool_id).as_str())?;
                Some((*kind, subject.to_owned()))
            }) else {
                continue;
            };
            entries.retain(|listed| !(listed.kind == kind && listed.subject == subject));
            entries.push(Listed {
                kind,
                subject,
                entry,
            });
        }
        Self::latest_first(entries, limit, self.complete)
    }

    /// Orders `entries` latest first (then by kind and subject, so the order is stable) and
    /// keeps `limit`.
    pub fn latest_first(mut entries: Vec<Listed>, limit: usize, complete: bool) -> Self {
        entries.sort_by(|a, b| {
            b.entry
                .revoked_at_ms
                .cmp(&a.entry.revoked_at_ms)
                .then_with(|| a.kind.as_str().cmp(b.kind.as_str()))
                .then_with(|| a.subject.cmp(&b.subject))
        });
        entries.truncate(limit);
        Self { entries, complete }
    }
}
