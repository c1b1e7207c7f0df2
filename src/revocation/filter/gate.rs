//! The filter as a gate isolate holds it: which base it has, whether base and feed are complete,
//! and what a check may skip.
//!
//! # Completeness
//! [`GateFilter::completeness`] is [`Completeness::Complete`] only when all of these hold:
//! - a base is held, in the feed's epoch;
//! - the feed is fresh (refreshed within `FRESHNESS_S`);
//! - the feed holds every entry after the base's `seq` ([`FeedStatus::complete_after`] ≤ the
//!   base's `seq`): the authority keeps entries for KV's window only, so a base older than that
//!   is incomplete until a newer one comes;
//! - no write made without the authority is newer than what the base covers
//!   ([`FeedStatus::taint_ms`] ≤ the base's `taint_covered_ms`);
//! - the feed was not stale within KV's window ([`GateFilter::feed_failed`]): while the
//!   authority is down for everyone, writes go straight to KV, and the taint they leave may reach
//!   the authority only as late as KV's propagation.
//!
//! Anything else is [`Completeness::Incomplete`] with the reason, and every key is read from KV
//! (a check as without a filter). A complete filter answers
//! [`Answer::CertainlyNotRevoked`] for a set of keys only if neither the feed nor the base may
//! hold any of them.

use std::rc::Rc;

use super::{FilterBase, Malformed};

/// What the isolate's copy of the authority's feed says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedStatus {
    /// The epoch of the authority's numbering.
    pub epoch: String,
    /// The copy holds every entry committed after this sequence number (up to its head);
    /// older ones may have left it.
    pub complete_after: u64,
    /// The copy is within `FRESHNESS_S` of the authority's reading.
    pub fresh: bool,
    /// The newest write the authority knows was made without it (the taint), ms; 0: none.
    pub taint_ms: u64,
}

/// Why the filter may not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incomplete {
    /// No filter is configured (`REVOCATION_FILTER_MAX_ENTRIES` = 0) or the authority has none.
    NoFilter,
    /// No base has been taken yet.
    NoBase,
    /// The feed could not be refreshed within `FRESHNESS_S`.
    FeedStale,
    /// The base belongs to another epoch than the feed.
    OtherEpoch,
    /// The feed no longer holds every entry after the base's `seq`.
    BaseTooOld {
        /// The base's `seq`.
        base_seq: u64,
        /// What the feed holds entries after.
        complete_after: u64,
    },
    /// Revocations were written without the authority after the base was built.
    WrittenWithoutAuthority {
        /// The newest such write, ms.
        taint_ms: u64,
    },
    /// The feed was stale recently: incomplete until then.
    RecentlyStale {
        /// When the filter may answer again, ms.
        until_ms: u64,
    },
}

impl core::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Incomplete::NoFilter => f.write_str("no filter"),
            Incomplete::NoBase => f.write_str("no filter taken yet"),
            Incomplete::FeedStale => f.write_str("the feed is stale"),
            Incomplete::OtherEpoch => f.write_str("the filter is from another epoch"),
            Incomplete::BaseTooOld {
                base_seq,
                complete_after,
            } => write!(
                f,
                "the filter (seq {base_seq}) is older than the feed holds (after {complete_after})"
            ),
            Incomplete::WrittenWithoutAuthority { taint_ms } => write!(
                f,
                "revocations written without the authority at {taint_ms} are not in the filter yet"
            ),
            Incomplete::RecentlyStale { until_ms } => {
                write!(
                    f,
                    "the feed was stale recently; KV decides until {until_ms}"
                )
            }
        }
    }
}

/// Whether the filter may answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// Base and feed hold every revocation KV holds (up to the feed's freshness).
    Complete,
    /// Every key is read from KV.
    Incomplete(Incomplete),
}

/// What the filter answers for a check's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// No key has an active revocation: the check needs no KV read.
    CertainlyNotRevoked,
    /// Some key may have one (the feed or the base holds it, or a false positive): read KV.
    Maybe,
    /// The filter may not answer: read KV.
    Incomplete(Incomplete),
}

/// The outcome of offering a base to [`GateFilter::adopt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adopted {
    /// Taken: it replaces the one held.
    Taken,
    /// Not newer than the one held in the same epoch: kept the one held.
    NotNewer,
    /// Refused: malformed. The one held stays.
    Refused(Malformed),
}

/// The filter one isolate holds.
#[derive(Debug, Clone, Default)]
pub struct GateFilter {
    base: Option<Rc<FilterBase>>,
    stale_until_ms: u64,
}

impl GateFilter {
    /// An isolate's filter before any base.
    pub fn new() -> Self {
        Self::default()
    }

    /// The base held, if any.
    pub fn base(&self) -> Option<&Rc<FilterBase>> {
        self.base.as_ref()
    }

    /// Offers an encoded base: taken if well formed and newer than the one held (another epoch
    /// always replaces it).
    pub fn adopt(&mut self, bytes: &[u8]) -> Adopted {
        match FilterBase::decode(bytes) {
            Ok(base) => self.adopt_base(Rc::new(base)),
            Err(why) => Adopted::Refused(why),
        }
    }

    /// Offers a decoded base (see [`GateFilter::adopt`]).
    pub fn adopt_base(&mut self, base: Rc<FilterBase>) -> Adopted {
        let newer = self.base.as_ref().is_none_or(|held| {
            held.meta.epoch != base.meta.epoch || held.meta.version < base.meta.version
        });
        if newer {
            self.base = Some(base);
            Adopted::Taken
        } else {
            Adopted::NotNewer
        }
    }

    /// Notes that the feed could not be refreshed at `now_ms`: the filter stays incomplete until
    /// `window_ms` (KV's window) after the last such moment.
    pub fn feed_failed(&mut self, now_ms: u64, window_ms: u64) {
        self.stale_until_ms = self.stale_until_ms.max(now_ms.saturating_add(window_ms));
    }

    /// Whether base and feed may answer at `now_ms` (see the module doc).
    pub fn completeness(&self, feed: &FeedStatus, now_ms: u64) -> Completeness {
        let incomplete = |why| Completeness::Incomplete(why);
        let Some(base) = &self.base else {
            return incomplete(Incomplete::NoBase);
        };
        if !feed.fresh {
            return incomplete(Incomplete::FeedStale);
        }
        if now_ms < self.stale_until_ms {
            return incomplete(Incomplete::RecentlyStale {
                until_ms: self.stale_until_ms,
            });
        }
        if base.meta.epoch != feed.epoch {
            return incomplete(Incomplete::OtherEpoch);
        }
        if base.meta.seq < feed.complete_after {
            return incomplete(Incomplete::BaseTooOld {
                base_seq: base.meta.seq,
                complete_after: feed.complete_after,
            });
        }
        if feed.taint_ms > base.meta.taint_covered_ms {
            return incomplete(Incomplete::WrittenWithoutAuthority {
                taint_ms: feed.taint_ms,
            });
        }
        Completeness::Complete
    }

    /// The answer for a check of `keys` at `now_ms`. `in_feed` says whether the feed holds an
    /// entry under a key (entries after the base's `seq` are exactly there).
    pub fn answer(
        &self,
        keys: &[String],
        feed: &FeedStatus,
        in_feed: impl Fn(&str) -> bool,
        now_ms: u64,
    ) -> Answer {
        let base = match (self.completeness(feed, now_ms), &self.base) {
            (Completeness::Incomplete(why), _) => return Answer::Incomplete(why),
            (Completeness::Complete, None) => return Answer::Incomplete(Incomplete::NoBase),
            (Completeness::Complete, Some(base)) => base,
        };
        if keys.iter().any(|k| in_feed(k) || base.may_contain(k)) {
            Answer::Maybe
        } else {
            Answer::CertainlyNotRevoked
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation::filter::{bloom::Bloom, BaseMeta};

    fn base(version: u64, epoch: &str, seq: u64, taint: u64, keys: &[&str]) -> Rc<FilterBase> {
        let mut bloom = Bloom::new(version, 1 << 12, 7);
        keys.iter().for_each(|k| bloom.insert(k));
        Rc::new(FilterBase {
            meta: BaseMeta {
                version,
                epoch: epoch.into(),
                seq,
                built_at_ms: 0,
                taint_covered_ms: taint,
                count: keys.len() as u64,
            },
            bloom,
        })
    }

    fn feed(epoch: &str, complete_after: u64, fresh: bool, taint_ms: u64) -> FeedStatus {
        FeedStatus {
            epoch: epoch.into(),
            complete_after,
            fresh,
            taint_ms,
        }
    }

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| (*k).to_owned()).collect()
    }

    const NONE: fn(&str) -> bool = |_| false;

    #[test]
    fn a_complete_filter_skips_kv_only_for_keys_neither_base_nor_feed_holds() {
        let mut gate = GateFilter::new();
        gate.adopt_base(base(1, "e", 10, 0, &["rev/v1/u/p/alice"]));
        let f = feed("e", 3, true, 0);
        assert_eq!(gate.completeness(&f, 0), Completeness::Complete);
        assert_eq!(
            gate.answer(&keys(&["rev/v1/u/p/bob"]), &f, NONE, 0),
            Answer::CertainlyNotRevoked
        );
        assert_eq!(
            gate.answer(&keys(&["rev/v1/u/p/bob", "rev/v1/u/p/alice"]), &f, NONE, 0),
            Answer::Maybe
        );
        let carol_in_feed = |k: &str| k == "rev/v1/s/p/o-carol";
        assert_eq!(
            gate.answer(
                &keys(&["rev/v1/u/p/carol", "rev/v1/s/p/o-carol"]),
                &f,
                carol_in_feed,
                0
            ),
            Answer::Maybe
        );
    }

    #[test]
    fn without_a_base_every_check_reads_kv() {
        let gate = GateFilter::new();
        assert_eq!(
            gate.answer(&keys(&["k"]), &feed("e", 0, true, 0), NONE, 0),
            Answer::Incomplete(Incomplete::NoBase)
        );
    }

    #[test]
    fn a_stale_feed_makes_the_filter_incomplete() {
        let mut gate = GateFilter::new();
        gate.adopt_base(base(1, "e", 10, 0, &[]));
        assert_eq!(
            gate.answer(&keys(&["k"]), &feed("e", 0, false, 0), NONE, 0),
            Answer::Incomplete(Incomplete::FeedStale)
        );
    }

    #[test]
    fn after_a_stale_feed_the_filter_waits_kvs_window_before_answering_again() {
        let mut gate = GateFilter::new();
        gate.adopt_base(base(1, "e", 10, 0, &[]));
        gate.feed_failed(1_000, 95_000);
        let f = feed("e", 0, true, 0);
        assert_eq!(
            gate.completeness(&f, 95_999),
            Completeness::Incomplete(Incomplete::RecentlyStale { until_ms: 96_000 })
        );
        assert_eq!(gate.completeness(&f, 96_000), Completeness::Complete);
    }

    #[test]
    fn a_base_of_another_epoch_is_incomplete() {
        let mut gate = GateFilter::new();
        gate.adopt_base(base(9, "old", 10, 0, &[]));
        assert_eq!(
            gate.completeness(&feed("new", 0, true, 0), 0),
            Completeness::Incomplete(Incomplete::OtherEpoch)
        );
    }

    #[test]
    fn a_base_older_than_the_feed_holds_is_incomplete() {
        let mut gate = GateFilter::new();
        gate.adopt_base(base(1, "e", 10, 0, &[]));
        assert_eq!(
            gate.completeness(&feed("e", 10, true, 0), 0),
            Completeness::Complete
        );
        assert_eq!(
            gate.completeness(&feed("e", 11, true, 0), 0),
            Completeness::Incomplete(Incomplete::BaseTooOld {
                base_seq: 10,
                complete_after: 11
            })
        );
    }

    #[test]
    fn a_write_without_the_authority_after_the_build_is_incomplete_until_a_base_covers_it() {
        let mut gate = GateFilter::new();
        gate.adopt_base(base(1, "e", 10, 500, &[]));
        assert_eq!(
            gate.completeness(&feed("e", 0, true, 500), 0),
            Completeness::Complete
        );
        let tainted = feed("e", 0, true, 501);
        assert_eq!(
            gate.completeness(&tainted, 0),
            Completeness::Incomplete(Incomplete::WrittenWithoutAuthority { taint_ms: 501 })
        );
        gate.adopt_base(base(2, "e", 12, 501, &[]));
        assert_eq!(gate.completeness(&tainted, 0), Completeness::Complete);
    }

    #[test]
    fn only_a_newer_base_or_another_epochs_replaces_the_one_held() {
        let mut gate = GateFilter::new();
        assert_eq!(gate.adopt_base(base(5, "e", 10, 0, &[])), Adopted::Taken);
        assert_eq!(gate.adopt_base(base(4, "e", 99, 0, &[])), Adopted::NotNewer);
        assert_eq!(gate.adopt_base(base(5, "e", 99, 0, &[])), Adopted::NotNewer);
        assert_eq!(gate.base().unwrap().meta.seq, 10);
        assert_eq!(gate.adopt_base(base(1, "e2", 0, 0, &[])), Adopted::Taken);
        assert_eq!(gate.base().unwrap().meta.epoch, "e2");
    }

    #[test]
    fn a_malformed_base_is_refused_and_the_held_one_stays() {
        let mut gate = GateFilter::new();
        let good = base(5, "e", 10, 0, &["rev/v1/u/p/alice"]);
        gate.adopt_base(good.clone());
        let mut bytes = base(6, "e", 11, 0, &[]).encode();
        bytes.truncate(bytes.len() - 1);
        assert_eq!(gate.adopt(&bytes), Adopted::Refused(Malformed::Truncated));
        assert_eq!(gate.base(), Some(&good));
        assert_eq!(
            gate.adopt(&base(6, "e", 11, 0, &[]).encode()),
            Adopted::Taken
        );
    }

    #[test]
    fn a_malformed_base_offered_first_leaves_the_filter_incomplete() {
        let mut gate = GateFilter::new();
        let mut bytes = base(1, "e", 0, 0, &[]).encode();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(gate.adopt(&bytes), Adopted::Refused(Malformed::Digest));
        assert_eq!(
            gate.answer(&keys(&["k"]), &feed("e", 0, true, 0), NONE, 0),
            Answer::Incomplete(Incomplete::NoBase)
        );
    }
}
