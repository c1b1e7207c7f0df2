//! The revocation filter never lets through a token KV says is revoked.
//!
//! A seeded random walk over one authority, three gate isolates and a model of KV (consistent:
//! what is written is read). Each step is one of: a sign-out or a session revocation through
//! the authority; one written straight to KV (the degraded path: the taint first, then the
//! entry, possibly several steps later, or aborted when too late); the authority going down or
//! coming back; the authority's storage starting over (a new epoch); the authority's upkeep
//! (reading the taint, pruning its recent set, rebuilding the base from its keys or from a KV
//! listing when due); a gate refreshing its copy of the feed and its base; the stored base
//! damaged; the clock moving (entries expire); and a check of a random token in a random gate.
//!
//! The property, after every check the filter answered alone ("certainly not revoked", no KV
//! read): no KV entry revokes the token, except one written after that gate's last refresh while
//! that refresh is within `FRESHNESS_S` (the feed's own bound). Every other answer reads KV, and
//! the model decides it exactly. The walk also counts how often the filter answered alone, so a
//! filter that always said "read KV" fails too.
//!
//! The gates' feed is modelled as the authority's feed is specified (`revocation::feed`): a
//! copy holds the entries after its head that the authority still keeps; entries leave after the
//! feed's window, and the copy then no longer holds everything after the oldest ones.

use std::{collections::BTreeMap, sync::OnceLock};

use edge_revoke::{
    config::RevocationFilterSettings,
    identity::{CaseRule, UserId},
    revocation::{
        feed::TAINT_REUSE_MS,
        filter::{
            build::{
                FilterKeeper, FilterKeys, Listed, Rebuild, Timings, DIRECT_WRITE_ALLOWANCE_MS,
                MIN_LISTING_DELAY_MS,
            },
            gate::{Adopted, Answer, FeedStatus, GateFilter, Incomplete},
            FilterBase,
        },
        session_key, user_key, user_keys_to_check,
    },
};

const POOL: &str = "us-east-1_Filter";
const FRESHNESS_MS: u64 = 2_000;
/// KV's window with the default settings: propagation, `cacheTtl`, the isolate's reuse.
const KV_WINDOW_MS: u64 = 95_000;
const DEFAULT_TIMINGS: Timings = Timings {
    feed_window_ms: 155_000,
    listing_delay_ms: KV_WINDOW_MS + DIRECT_WRITE_ALLOWANCE_MS,
};
/// A direct write whose entry would land later than this after its taint is abandoned (the
/// writer gives up and answers an error), so a listing's allowance holds.
const DIRECT_WRITE_GIVE_UP_MS: u64 = 10_000;
const USERS: u64 = 24;
/// How long KV may still serve an entry after its expiry.
const EXPIRED_READABLE_MS: u64 = 30_000;
const SESSIONS: u64 = 3;

/// xorshift64*: reproducible from the case's seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, per_thousand: u64) -> bool {
        self.below(1000) < per_thousand
    }
}

#[derive(Debug, Clone)]
struct KvEntry {
    revoked_at_ms: u64,
    expires_ms: u64,
    /// When reads stop finding it.
    gone_ms: u64,
    /// The step of the walk that wrote it (steps order events within one millisecond).
    written_step: u64,
}

/// KV as the model holds it: entries (gone once expired) and the taint.
#[derive(Default)]
struct ModelKv {
    entries: BTreeMap<String, KvEntry>,
    taint_ms: u64,
}

impl ModelKv {
    /// KV's deletion of an expired entry is not instant: it may still be read for a while
    /// (up to [`EXPIRED_READABLE_MS`], decided per write).
    fn get(&self, key: &str, now_ms: u64) -> Option<&KvEntry> {
        self.entries.get(key).filter(|e| e.gone_ms > now_ms)
    }

    /// The monotonic write: never lowers the time; a write resets the TTL.
    fn raise(&mut self, key: &str, now_ms: u64, ttl_ms: u64, step: u64, lag_ms: u64) {
        let revoked_at_ms = self
            .get(key, now_ms)
            .map_or(now_ms, |e| e.revoked_at_ms.max(now_ms));
        self.entries.insert(
            key.to_owned(),
            KvEntry {
                revoked_at_ms,
                expires_ms: now_ms + ttl_ms,
                gone_ms: now_ms + ttl_ms + lag_ms,
                written_step: step,
            },
        );
    }

    /// `list()`: the live keys with their expiration in whole seconds, rounded down.
    fn listing(&self, now_ms: u64) -> Vec<Listed> {
        self.entries
            .iter()
            .filter(|(_, e)| e.gone_ms > now_ms)
            .map(|(k, e)| Listed {
                key: k.clone(),
                expiration_s: Some(e.expires_ms / 1000),
            })
            .collect()
    }
}

struct Row {
    seq: u64,
    key: String,
    at_ms: u64,
}

/// The authority: its recent set, its filter keys and bookkeeping, the base it published.
struct Authority {
    up: bool,
    epoch: String,
    head: u64,
    pruned_through: u64,
    rows: Vec<Row>,
    keys: FilterKeys,
    keeper: FilterKeeper,
    published: Option<Vec<u8>>,
    /// What was published, undamaged.
    built: Option<Vec<u8>>,
    published_version: Option<(String, u64)>,
}

impl Authority {
    fn new(epoch: String, now_ms: u64) -> Self {
        Self {
            up: true,
            epoch,
            head: 0,
            pruned_through: 0,
            rows: Vec::new(),
            keys: FilterKeys::new(),
            keeper: FilterKeeper::new(now_ms),
            published: None,
            built: None,
            published_version: None,
        }
    }

    fn prune(&mut self, now_ms: u64) {
        let window = DEFAULT_TIMINGS.feed_window_ms;
        while let Some(first) = self.rows.first() {
            if first.at_ms + window > now_ms {
                break;
            }
            self.pruned_through = first.seq;
            self.rows.remove(0);
        }
    }
}

/// A gate isolate's copy of the feed.
#[derive(Default)]
struct Copy {
    epoch: String,
    head: u64,
    complete_after: u64,
    entries: BTreeMap<String, (u64, u64)>,
    taint_ms: u64,
}

struct Gate {
    filter: GateFilter,
    copy: Copy,
    refreshed_ms: Option<u64>,
    refreshed_step: u64,
    failing: bool,
}

impl Gate {
    fn status(&self, now_ms: u64) -> FeedStatus {
        FeedStatus {
            epoch: self.copy.epoch.clone(),
            complete_after: self.copy.complete_after,
            fresh: !self.failing && self.refreshed_ms.is_some_and(|r| now_ms < r + FRESHNESS_MS),
            taint_ms: self.copy.taint_ms,
        }
    }
}

struct Pending {
    key: String,
    ttl_ms: u64,
    /// When the writer started the write (it gives up if it would land later than
    /// [`DIRECT_WRITE_GIVE_UP_MS`] after): the taint it raised then, or reused.
    started_ms: u64,
}

#[derive(Default)]
struct Tally {
    checks: u64,
    alone: u64,
    kv_reads: u64,
    revoked: u64,
    listings: u64,
    builds: u64,
    refused_bases: u64,
    degraded: u64,
    incomplete: BTreeMap<&'static str, u64>,
}

struct World {
    rng: Rng,
    now_ms: u64,
    step: u64,
    kv: ModelKv,
    authority: Authority,
    gates: Vec<Gate>,
    pending: Vec<Pending>,
    /// When the degraded writer last raised the taint: as an isolate does, it reuses it for
    /// `TAINT_REUSE_MS` instead of writing it again.
    taint_raised_ms: Option<u64>,
    /// The feed's window and the listing delay: the default, or the shortest accepted.
    timings: Timings,
    settings: RevocationFilterSettings,
    epochs: u64,
    /// How often each kind of step comes, for this walk: authority write, direct write, a
    /// direct write landing, outage toggle, new epoch, upkeep, refresh, damage, clock, check.
    weights: [u64; 10],
    trace: Vec<String>,
    tally: Tally,
}

/// Every key a walk may write, and the user keys each user's tokens are checked under,
/// spelled once (canonical spelling is not what is under test).
struct Keys {
    written: Vec<String>,
    checked: Vec<Vec<String>>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let id = |raw: &str| UserId::new(raw, CaseRule::Insensitive);
        let mut written = Vec::new();
        for user in 0..USERS {
            written.push(user_key(POOL, &id(&format!("sub-{user}"))));
            written.push(user_key(POOL, &id(&format!("Name-{user}"))));
            written.extend((0..SESSIONS).map(|s| session_key(POOL, &format!("o-{user}-{s}"))));
        }
        let checked = (0..4 * USERS)
            .map(|u| {
                let (sub, name) = (format!("sub-{u}"), format!("Name-{u}"));
                user_keys_to_check(POOL, &[&sub, &name], CaseRule::Insensitive)
            })
            .collect();
        Keys { written, checked }
    })
}

fn random_key(rng: &mut Rng) -> String {
    let written = &keys().written;
    written[rng.below(written.len() as u64) as usize].clone()
}

impl World {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let now_ms = 1_700_000_000_000 + rng.below(1_000_000);
        let settings = RevocationFilterSettings {
            fp_rate: [0.01, 0.001, 0.2][rng.below(3) as usize],
            max_entries: [2_000_000, 2_000_000, 2_000_000, 30, 0][rng.below(5) as usize],
        };
        let timings = if rng.below(2) == 0 {
            DEFAULT_TIMINGS
        } else {
            Timings {
                listing_delay_ms: MIN_LISTING_DELAY_MS,
                ..DEFAULT_TIMINGS
            }
        };
        let mut pick = |options: &[u64]| options[rng.below(options.len() as u64) as usize];
        let weights = [
            pick(&[30, 120]),
            pick(&[0, 0, 5, 30]),
            30,
            pick(&[2, 20]),
            pick(&[0, 2]),
            100,
            200,
            5,
            100,
            300,
        ];
        let mut kv = ModelKv::default();
        // Entries already in KV before the authority existed.
        for _ in 0..rng.below(8) {
            let key = random_key(&mut rng);
            let ttl = 60_000 + rng.below(600_000);
            let lag = rng.below(EXPIRED_READABLE_MS);
            kv.raise(&key, now_ms - rng.below(50_000), ttl, 0, lag);
        }
        let gates = (0..3)
            .map(|_| Gate {
                filter: GateFilter::new(),
                copy: Copy::default(),
                refreshed_ms: None,
                refreshed_step: 0,
                failing: false,
            })
            .collect();
        Self {
            rng,
            now_ms,
            step: 0,
            kv,
            authority: Authority::new("epoch-0".into(), now_ms),
            gates,
            pending: Vec::new(),
            taint_raised_ms: None,
            timings,
            settings,
            epochs: 0,
            weights,
            trace: Vec::new(),
            tally: Tally::default(),
        }
    }

    fn note(&mut self, what: String) {
        if self.trace.len() >= 80 {
            self.trace.drain(..40);
        }
        self.trace
            .push(format!("t+{} {what}", self.now_ms % 10_000_000));
    }

    fn ttl(&mut self) -> u64 {
        // Short lifetimes, so entries expire within a walk.
        [60_000, 180_000, 900_000][self.rng.below(3) as usize]
    }

    fn write_through_authority(&mut self) {
        let key = random_key(&mut self.rng);
        let ttl = self.ttl();
        if !self.authority.up {
            return self.write_directly(key, ttl);
        }
        let now = self.now_ms;
        let lag = self.rng.below(EXPIRED_READABLE_MS);
        self.kv.raise(&key, now, ttl, self.step, lag);
        let a = &mut self.authority;
        a.head += 1;
        a.rows.push(Row {
            seq: a.head,
            key: key.clone(),
            at_ms: now,
        });
        a.keys.note(&key, now + ttl);
        let seq = a.head;
        self.note(format!("authority write {key} seq {seq}"));
    }

    fn write_directly(&mut self, key: String, ttl_ms: u64) {
        self.tally.degraded += 1;
        // The taint first (KV keeps the last value written), unless this writer raised it less
        // than TAINT_REUSE_MS ago.
        let now = self.now_ms;
        match self.taint_raised_ms {
            Some(raised) if now < raised + TAINT_REUSE_MS => {
                self.note(format!("direct write of {key} reuses taint {raised}"));
            }
            _ => {
                self.kv.taint_ms = now;
                self.taint_raised_ms = Some(now);
            }
        }
        if self.rng.chance(100) {
            self.note(format!(
                "direct write of {key}: taint written, write abandoned"
            ));
            return;
        }
        self.note(format!("direct write of {key}: taint {}", self.now_ms));
        self.pending.push(Pending {
            key,
            ttl_ms,
            started_ms: self.now_ms,
        });
        if self.rng.chance(500) {
            self.flush_pending();
        }
    }

    fn flush_pending(&mut self) {
        let now = self.now_ms;
        for p in std::mem::take(&mut self.pending) {
            if now <= p.started_ms + DIRECT_WRITE_GIVE_UP_MS {
                let lag = self.rng.below(EXPIRED_READABLE_MS);
                self.kv.raise(&p.key, now, p.ttl_ms, self.step, lag);
                self.note(format!("direct write of {} lands", p.key));
            } else {
                self.note(format!("direct write of {} given up", p.key));
            }
        }
    }

    fn upkeep(&mut self) {
        if !self.authority.up {
            return;
        }
        let now = self.now_ms;
        let taint = self.kv.taint_ms;
        let a = &mut self.authority;
        a.keeper.saw_taint(taint);
        a.prune(now);
        let Some(how) = a.keeper.due(a.head, now, &self.timings) else {
            return;
        };
        if how == Rebuild::FromListing {
            a.keys.merge_listing(self.kv.listing(now));
            a.keeper.listed(now, &self.timings);
            self.tally.listings += 1;
        }
        let seed = self.rng.next();
        let (epoch, head) = (a.epoch.clone(), a.head);
        let built = a
            .keeper
            .build(&mut a.keys, &epoch, head, now, seed, &self.settings);
        if let Some(base) = built {
            a.published_version = Some((epoch, base.meta.version));
            a.published = Some(base.encode());
            a.built = a.published.clone();
            self.tally.builds += 1;
            self.note(format!(
                "base v{} seq {} ({:?}, {} keys, covers taint {})",
                base.meta.version, base.meta.seq, how, base.meta.count, base.meta.taint_covered_ms
            ));
        } else {
            self.note(format!("no base ({:?}): too many keys", how));
        }
    }

    fn restart_authority(&mut self) {
        self.epochs += 1;
        let epoch = format!("epoch-{}", self.epochs);
        self.note(format!("authority storage starts over as {epoch}"));
        self.authority = Authority::new(epoch, self.now_ms);
    }

    fn refresh(&mut self, g: usize) {
        let now = self.now_ms;
        if !self.authority.up {
            let gate = &mut self.gates[g];
            gate.failing = true;
            gate.filter.feed_failed(now, KV_WINDOW_MS);
            self.note(format!("gate {g}: refresh failed"));
            return;
        }
        // Serving the feed, the authority reads the taint KV holds.
        let taint = self.kv.taint_ms;
        self.authority.keeper.saw_taint(taint);
        self.authority.prune(now);
        let a = &self.authority;
        let gate = &mut self.gates[g];
        let full = gate.copy.epoch != a.epoch;
        if full {
            gate.copy = Copy {
                epoch: a.epoch.clone(),
                ..Copy::default()
            };
        }
        for row in a.rows.iter().filter(|r| r.seq > gate.copy.head) {
            gate.copy
                .entries
                .insert(row.key.clone(), (row.seq, row.at_ms));
        }
        gate.copy.head = a.head;
        gate.copy.complete_after = gate.copy.complete_after.max(a.pruned_through);
        // Entries leave the copy after the window, as the authority's do.
        let window = DEFAULT_TIMINGS.feed_window_ms;
        let gone: Vec<(String, u64)> = gate
            .copy
            .entries
            .iter()
            .filter(|(_, (_, at))| at + window <= now)
            .map(|(k, (seq, _))| (k.clone(), *seq))
            .collect();
        for (key, seq) in gone {
            gate.copy.entries.remove(&key);
            gate.copy.complete_after = gate.copy.complete_after.max(seq);
        }
        gate.copy.taint_ms = a.keeper.taint_ms;
        gate.refreshed_ms = Some(now);
        gate.refreshed_step = self.step;
        gate.failing = false;
        // The base is fetched only when the feed names another version.
        let held = gate
            .filter
            .base()
            .map(|b| (b.meta.epoch.clone(), b.meta.version));
        if let (Some(bytes), true) = (&a.published, a.published_version != held) {
            let outcome = gate.filter.adopt(bytes);
            if matches!(outcome, Adopted::Refused(_)) {
                self.tally.refused_bases += 1;
            }
        }
        self.note(format!("gate {g}: refreshed, head {}", a.head));
    }

    fn damage_base(&mut self) {
        let cut = self.rng.below(3);
        let flip = self.rng.next();
        if let Some(bytes) = self.authority.published.as_mut().filter(|b| !b.is_empty()) {
            match cut {
                0 => bytes.truncate(flip as usize % bytes.len()),
                1 => {
                    let i = flip as usize % bytes.len();
                    bytes[i] ^= 1 << (flip % 8);
                }
                _ => bytes.push(flip as u8),
            }
            // A damaged base must be refused, not used (two damages may undo each other).
            let undone = self.authority.built.as_ref() == Some(bytes);
            assert!(undone || FilterBase::decode(bytes).is_err());
            self.note("stored base damaged".into());
        }
    }

    fn check(&mut self, g: usize) {
        let now = self.now_ms;
        // The request that finds the copy due refreshes it first (mostly: another request of
        // the isolate may be refreshing, and this one goes on with what it has).
        if !self.gates[g].status(now).fresh && self.rng.chance(900) {
            self.refresh(g);
        }
        // Most users checked were never signed out.
        let user = self.rng.below(4 * USERS);
        let auth_time_ms = now - self.rng.below(400_000);
        let origin = format!("o-{user}-{}", self.rng.below(SESSIONS));
        let mut keys = keys().checked[user as usize].clone();
        let user_keys = keys.len();
        keys.push(session_key(POOL, &origin));
        let revoking: Vec<(String, KvEntry)> = keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| {
                let e = self.kv.get(k, now)?;
                let revokes = i >= user_keys || auth_time_ms <= e.revoked_at_ms;
                revokes.then(|| (k.clone(), e.clone()))
            })
            .collect();
        let gate = &self.gates[g];
        let status = gate.status(now);
        let answer = gate
            .filter
            .answer(&keys, &status, |k| gate.copy.entries.contains_key(k), now);
        self.tally.checks += 1;
        if !revoking.is_empty() {
            self.tally.revoked += 1;
        }
        match answer {
            Answer::CertainlyNotRevoked => {
                self.tally.alone += 1;
                let refreshed = gate.refreshed_ms.unwrap_or(0);
                for (key, entry) in &revoking {
                    let within_feed_bound =
                        entry.written_step > gate.refreshed_step && now < refreshed + FRESHNESS_MS;
                    if !within_feed_bound {
                        let trace = self.trace[self.trace.len().saturating_sub(40)..].join("\n");
                        panic!(
                            "gate {g} accepted a token KV revokes: key {key}, entry {entry:?}, \
                             gate refreshed at {refreshed}, now {now}, status {status:?}, \
                             settings {:?}\nlast steps:\n{trace}",
                            self.settings
                        );
                    }
                }
            }
            Answer::Maybe => self.tally.kv_reads += 1,
            Answer::Incomplete(why) => {
                self.tally.kv_reads += 1;
                let name = match why {
                    Incomplete::NoFilter => "no filter",
                    Incomplete::NoBase => "no base",
                    Incomplete::FeedStale => "feed stale",
                    Incomplete::OtherEpoch => "other epoch",
                    Incomplete::BaseTooOld { .. } => "base too old",
                    Incomplete::WrittenWithoutAuthority { .. } => "written without authority",
                    Incomplete::RecentlyStale { .. } => "recently stale",
                };
                *self.tally.incomplete.entry(name).or_default() += 1;
            }
        }
    }

    fn step(&mut self) {
        self.step += 1;
        let mut roll = self.rng.below(self.weights.iter().sum());
        let mut event = 0;
        while roll >= self.weights[event] {
            roll -= self.weights[event];
            event += 1;
        }
        match event {
            0 => self.write_through_authority(),
            1 => {
                let key = random_key(&mut self.rng);
                let ttl = self.ttl();
                self.write_directly(key, ttl);
            }
            2 => self.flush_pending(),
            3 => {
                // Outages are shorter than the spells between them.
                if self.authority.up && !self.rng.chance(250) {
                    return;
                }
                self.authority.up = !self.authority.up;
                let up = self.authority.up;
                self.note(format!("authority {}", if up { "back" } else { "down" }));
            }
            4 => self.restart_authority(),
            5 => self.upkeep(),
            6 => {
                let g = self.rng.below(3) as usize;
                self.refresh(g);
            }
            7 => self.damage_base(),
            8 => {
                let big = self.rng.chance(60);
                let dt = if big {
                    30_000 + self.rng.below(300_000)
                } else {
                    self.rng.below(2_500)
                };
                self.now_ms += dt;
                // A direct write too late after its taint is given up by its writer.
                let now = self.now_ms;
                let (late, kept): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
                    .into_iter()
                    .partition(|p| now > p.started_ms + DIRECT_WRITE_GIVE_UP_MS);
                self.pending = kept;
                for p in late {
                    self.note(format!("direct write of {} given up", p.key));
                }
                self.note(format!("clock +{dt}"));
            }
            _ => {
                let g = self.rng.below(3) as usize;
                self.check(g);
            }
        }
    }
}

#[test]
fn no_random_interleaving_of_writes_outages_expiries_and_refreshes_lets_a_revoked_token_past_the_filter(
) {
    let cases = 2_000;
    let mut total = Tally::default();
    for seed in 0..cases {
        let mut world = World::new(seed);
        for _ in 0..600 {
            world.step();
        }
        let t = world.tally;
        total.checks += t.checks;
        total.alone += t.alone;
        total.kv_reads += t.kv_reads;
        total.revoked += t.revoked;
        total.listings += t.listings;
        total.builds += t.builds;
        total.refused_bases += t.refused_bases;
        total.degraded += t.degraded;
        for (why, n) in t.incomplete {
            *total.incomplete.entry(why).or_default() += n;
        }
    }
    println!(
        "{cases} walks: {} checks, {} answered by the filter alone, {} read KV, {} of revoked \
         tokens; {} bases built ({} from a listing), {} damaged bases refused, {} direct writes",
        total.checks,
        total.alone,
        total.kv_reads,
        total.revoked,
        total.builds,
        total.listings,
        total.refused_bases,
        total.degraded
    );
    println!("incomplete: {:?}", total.incomplete);
    // The walk must reach every part: otherwise the property holds by not being tested.
    assert!(
        total.alone * 8 > total.checks,
        "the filter rarely answered alone"
    );
    assert!(
        total.revoked * 20 > total.checks,
        "too few revoked tokens checked"
    );
    assert!(total.listings > cases / 2, "listings rarely ran");
    assert!(
        total.refused_bases > 10,
        "damaged bases never reached a gate"
    );
    assert!(total.degraded > cases, "direct writes rarely ran");
}
