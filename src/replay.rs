//! Each SigV4 signature is accepted for one moment, not for its whole life.
//!
//! A signature stays valid while its `X-Amz-Date` is within [`crate::api::SIGV4_SKEW_MS`]
//! (15 minutes, AWS's window). Without a record of what was used, a captured
//! AdminUserGlobalSignOut replayed 13 minutes later would sign out a session begun after the
//! original call, and a captured AdminEnableUser would undo a later AdminDisableUser. So a
//! verified signature is remembered, with when it was first used, until it expires:
//!
//! - in the isolate, at once, before any await;
//! - in KV under `sigv4/v1/<signature>` (value: the first use, in ms), expiring with the
//!   signature (at least KV's 60 s), for every other isolate and location: one KV read and one
//!   write per signed call (admin calls are rare).
//!
//! A copy is accepted within [`DUPLICATE_GRACE_MS`] of the first use and refused after that.
//! The grace is for honest duplicates: boto3 signs with a one-second clock and adds its
//! invocation-id and attempt headers after signing, so two identical calls, or a retry, within
//! one second of its clock carry the same signature, and reach the Worker a moment apart. A copy
//! within the grace repeats the call of that same moment; later, it is a replay. (The AWS SDK for
//! JavaScript v3 signs its attempt header, so its retries never share a signature.)
//!
//! What this does not promise: KV is eventually consistent, so a copy replayed in another
//! location within about a minute of the original may still be accepted once. After that, and in
//! the same isolate at once, it is refused. Fail closed: if KV cannot be read or written, the
//! call is refused (InternalErrorException).

use core::cell::RefCell;

use crate::{
    error::Error,
    ports::{get_one, Store},
    sigv4::SigV4Error,
};

/// KV key prefix of used signatures.
pub const KEY_PREFIX: &str = "sigv4/v1/";
/// How long after its first use a signature is still accepted (an honest duplicate), in ms.
pub const DUPLICATE_GRACE_MS: u64 = 5_000;
/// Most signatures an isolate remembers itself (about 100 bytes each: admin calls are rare, and
/// wasm memory never shrinks); beyond this the soonest to expire is forgotten (KV still
/// remembers it).
pub const MAX_REMEMBERED: usize = 1_000;
/// KV's shortest expiration, in seconds.
const KV_MIN_TTL_S: u64 = 60;
/// KV `cacheTtl` for the lookup: the least KV allows, so a miss cached in this location is
/// forgotten soonest.
const LOOKUP_CACHE_TTL_S: u64 = 30;

#[derive(Debug, Clone)]
struct Use {
    signature: String,
    first_ms: u64,
    valid_until_ms: u64,
}

/// The signatures this isolate has accepted: when each was first used and when it stops
/// verifying. A plain list: it holds at most [`MAX_REMEMBERED`], and is scanned once per
/// signed call.
#[derive(Default)]
pub struct UsedSignatures {
    uses: RefCell<Vec<Use>>,
}

/// What the isolate knows of a signature.
enum Known {
    /// First seen now.
    New,
    /// Seen before, within the grace.
    Duplicate,
    /// Seen before, past the grace.
    Replay,
}

impl UsedSignatures {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `signature` if it was never used, or first used less than
    /// [`DUPLICATE_GRACE_MS`] ago, recording it until `valid_until_ms`;
    /// [`SigV4Error::SignatureReused`] otherwise.
    pub async fn first_use(
        &self,
        signature: &str,
        valid_until_ms: u64,
        store: &dyn Store,
        now_ms: u64,
    ) -> Result<(), Error> {
        match self.remember(signature, now_ms, valid_until_ms) {
            Known::Replay => return Err(SigV4Error::SignatureReused.into()),
            // The first use wrote (or is writing) the KV record.
            Known::Duplicate => return Ok(()),
            Known::New => {}
        }
        let key = format!("{KEY_PREFIX}{signature}");
        if let Some(text) = get_one(store, &key, Some(LOOKUP_CACHE_TTL_S)).await? {
            // A record that does not read as a time counts as a use long ago (fail closed).
            let first_ms = text.trim().parse::<u64>().unwrap_or(0);
            self.set_first_use(signature, first_ms);
            if now_ms.saturating_sub(first_ms) > DUPLICATE_GRACE_MS {
                return Err(SigV4Error::SignatureReused.into());
            }
            return Ok(());
        }
        let ttl_s = valid_until_ms
            .saturating_sub(now_ms)
            .div_ceil(1_000)
            .max(KV_MIN_TTL_S);
        store.put(&key, &now_ms.to_string(), Some(ttl_s)).await?;
        Ok(())
    }

    /// Looks `signature` up in the isolate, recording it if new.
    fn remember(&self, signature: &str, now_ms: u64, valid_until_ms: u64) -> Known {
        let Ok(mut uses) = self.uses.try_borrow_mut() else {
            // Unreachable (no borrow is held across an await); KV still decides.
            return Known::New;
        };
        uses.retain(|used| used.valid_until_ms >= now_ms);
        if let Some(used) = uses.iter().find(|used| used.signature == signature) {
            return if now_ms.saturating_sub(used.first_ms) > DUPLICATE_GRACE_MS {
                Known::Replay
            } else {
                Known::Duplicate
            };
        }
        if uses.len() >= MAX_REMEMBERED {
            let soonest = uses
                .iter()
                .enumerate()
                .min_by_key(|(_, used)| used.valid_until_ms)
                .map(|(at, _)| at);
            if let Some(at) = soonest {
                uses.swap_remove(at);
            }
        }
        uses.push(Use {
            signature: signature.to_owned(),
            first_ms: now_ms,
            valid_until_ms,
        });
        Known::New
    }

    /// Corrects the isolate's first use of `signature` to the one KV remembers.
    fn set_first_use(&self, signature: &str, first_ms: u64) {
        if let Ok(mut uses) = self.uses.try_borrow_mut() {
            if let Some(used) = uses.iter_mut().find(|used| used.signature == signature) {
                used.first_ms = used.first_ms.min(first_ms);
            }
        }
    }

    /// How many signatures the isolate remembers.
    pub fn len(&self) -> usize {
        self.uses.try_borrow().map_or(0, |uses| uses.len())
    }

    /// Whether the isolate remembers none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MemoryStore;

    const SIG: &str = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    const NOW: u64 = 1_750_000_000_000;
    const VALID_FOR: u64 = 15 * 60 * 1000;

    fn run<T>(f: impl core::future::Future<Output = T>) -> T {
        pollster::block_on(f)
    }

    fn reused(result: Result<(), Error>) -> bool {
        matches!(result, Err(Error::SigV4(SigV4Error::SignatureReused)))
    }

    #[test]
    fn a_signature_is_refused_once_past_the_grace_and_remembered_in_kv_until_it_expires() {
        let store = MemoryStore::new();
        let used = UsedSignatures::new();
        assert!(run(used.first_use(SIG, NOW + VALID_FOR, &store, NOW)).is_ok());
        let past_grace = NOW + DUPLICATE_GRACE_MS + 1;
        assert!(reused(run(used.first_use(
            SIG,
            NOW + VALID_FOR,
            &store,
            past_grace
        ))));
        let (value, ttl) = store.peek(&format!("{KEY_PREFIX}{SIG}")).unwrap();
        assert_eq!(value, NOW.to_string());
        assert_eq!(ttl, Some(VALID_FOR / 1000));
    }

    #[test]
    fn an_identical_call_within_the_grace_is_an_honest_duplicate() {
        let store = MemoryStore::new();
        let used = UsedSignatures::new();
        run(used.first_use(SIG, NOW + VALID_FOR, &store, NOW)).unwrap();
        let within = NOW + DUPLICATE_GRACE_MS;
        assert!(run(used.first_use(SIG, NOW + VALID_FOR, &store, within)).is_ok());
        // Another isolate reads the first use from KV.
        assert!(run(UsedSignatures::new().first_use(SIG, NOW + VALID_FOR, &store, within)).is_ok());
        assert_eq!(store.counts().1, 1, "only the first use writes");
    }

    #[test]
    fn another_isolate_refuses_a_signature_used_elsewhere_minutes_ago() {
        let store = MemoryStore::new();
        run(UsedSignatures::new().first_use(SIG, NOW + VALID_FOR, &store, NOW)).unwrap();
        let later = NOW + 13 * 60 * 1000;
        let other = UsedSignatures::new();
        assert!(reused(run(other.first_use(
            SIG,
            NOW + VALID_FOR,
            &store,
            later
        ))));
        // It learnt the first use: refused again without asking KV.
        store.fail_reads(true);
        assert!(reused(run(other.first_use(
            SIG,
            NOW + VALID_FOR,
            &store,
            later
        ))));
    }

    #[test]
    fn an_unreadable_kv_record_counts_as_an_old_use() {
        let store = MemoryStore::new();
        store.seed(&format!("{KEY_PREFIX}{SIG}"), "not a time");
        assert!(reused(run(UsedSignatures::new().first_use(
            SIG,
            NOW + VALID_FOR,
            &store,
            NOW
        ))));
    }

    #[test]
    fn the_kv_record_lives_at_least_kvs_minimum() {
        let store = MemoryStore::new();
        run(UsedSignatures::new().first_use(SIG, NOW + 5_000, &store, NOW)).unwrap();
        let (_, ttl) = store.peek(&format!("{KEY_PREFIX}{SIG}")).unwrap();
        assert_eq!(ttl, Some(60));
    }

    #[test]
    fn kv_failures_refuse_the_call() {
        let store = MemoryStore::new();
        store.fail_reads(true);
        let first = run(UsedSignatures::new().first_use(SIG, NOW + VALID_FOR, &store, NOW));
        assert!(matches!(first, Err(Error::Store(_))));
        store.fail_reads(false);
        store.fail_writes(true);
        let second = run(UsedSignatures::new().first_use(SIG, NOW + VALID_FOR, &store, NOW));
        assert!(matches!(second, Err(Error::Store(_))));
    }

    #[test]
    fn the_isolate_forgets_expired_signatures_and_stays_bounded() {
        let used = UsedSignatures::new();
        let far = NOW + DUPLICATE_GRACE_MS + 1;
        for i in 0..MAX_REMEMBERED + 5 {
            let sig = format!("{i:064x}");
            assert!(matches!(
                used.remember(&sig, NOW, far + 1_000 + i as u64),
                Known::New
            ));
        }
        assert_eq!(used.len(), MAX_REMEMBERED);
        // The soonest to expire were forgotten first; the latest are still remembered.
        let newest = format!("{:064x}", MAX_REMEMBERED + 4);
        assert!(matches!(
            used.remember(&newest, far, far + 1),
            Known::Replay
        ));
        let oldest = format!("{:064x}", 0);
        assert!(matches!(used.remember(&oldest, far, far + 1), Known::New));
        // Once past their validity, all are forgotten.
        assert!(matches!(
            used.remember(SIG, far + 10_000_000, far + 20_000_000),
            Known::New
        ));
        assert_eq!(used.len(), 1);
    }
}
