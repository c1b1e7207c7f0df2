//! `make bench`: the revocation filter's size, false-positive rate and memory at 10 000 and
//! 1 000 000 active revocations, measured on built filters (not computed from formulas).
//!
//! For each count: the encoded base's size (what an isolate fetches when the version changes and
//! holds in memory), bits a key, hashes a key, the measured rate of "maybe" for keys that were
//! never revoked, and the share of gated checks of never-revoked users that would read KV (a
//! check asks about its user keys by `sub` and `username` and its session key, as
//! `revocation::Revocations::check` does).
//!
//! Run alone: `cargo run --example revocation_filter` (sizes and rates do not depend on the
//! optimisation level; no timings are printed).

use edge_revoke::{
    config::RevocationFilterSettings,
    identity::CaseRule,
    revocation::{
        filter::{
            bloom,
            build::{FilterKeeper, FilterKeys},
        },
        session_key, user_keys_to_check,
    },
};

const POOL: &str = "us-east-1_AbCdEf123";

fn user(i: u64) -> (String, String) {
    (
        format!(
            "{:08x}-7c1d-4e2f-9a3b-{i:012x}",
            i.wrapping_mul(2_654_435_761) as u32
        ),
        format!("user-{i}@example.com"),
    )
}

fn main() {
    let probes: u64 = 200_000;
    println!("## Revocation filter (Bloom, SHA-256 double hashing, seed per version)\n");
    println!(
        "| active entries | REVOCATION_FILTER_FP_RATE | base size | as fetched (base64) | bits / key | \
         hashes / key | measured false positives / key | never-revoked checks reading KV |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for count in [10_000u64, 1_000_000] {
        for fp_rate in [0.01, 0.001] {
            let settings = RevocationFilterSettings {
                fp_rate,
                ..RevocationFilterSettings::default()
            };
            // Half user entries (by sub), half session entries, as sign-outs and RevokeToken
            // leave them.
            let mut keys = FilterKeys::new();
            for i in 0..count {
                let key = if i % 2 == 0 {
                    let (sub, _) = user(i);
                    user_keys_to_check(POOL, &[&sub], CaseRule::Insensitive).swap_remove(0)
                } else {
                    session_key(POOL, &format!("origin-{i}"))
                };
                keys.note(&key, u64::MAX);
            }
            let mut keeper = FilterKeeper::new(1);
            let Some(base) = keeper.build(&mut keys, "bench", count, 1, 0x5eed, &settings) else {
                println!("| {count} | {fp_rate} | no filter (over the entry limit) | | | | | |");
                continue;
            };
            let (bits, hashes) = bloom::sizing(count, fp_rate);
            // Keys of users never signed out, and checks of them.
            let mut hits = 0u64;
            let mut checks_reading_kv = 0u64;
            for j in 0..probes {
                let (sub, name) = user(10_000_000 + j);
                let mut check = user_keys_to_check(POOL, &[&sub, &name], CaseRule::Insensitive);
                check.push(session_key(POOL, &format!("fresh-origin-{j}")));
                hits += u64::from(base.may_contain(&check[0]));
                checks_reading_kv += u64::from(check.iter().any(|k| base.may_contain(k)));
            }
            let encoded = base.encode().len();
            let text = base.to_text().len();
            println!(
                "| {count} | {fp_rate} | {} | {} | {:.2} | {hashes} | {:.5} | {:.5} ({} keys a check) |",
                human(encoded),
                human(text),
                bits as f64 / count as f64,
                hits as f64 / probes as f64,
                checks_reading_kv as f64 / probes as f64,
                user_keys_to_check(POOL, &[&user(1).0, &user(1).1], CaseRule::Insensitive).len()
                    + 1,
            );
        }
    }
    let default = RevocationFilterSettings::default();
    let (bits, _) = bloom::sizing(default.max_entries, default.fp_rate);
    println!(
        "\nMemory per isolate: one base, its size above, plus the feed's recent entries. While a \
         new version is taken (once per version: from the location's Cache API, or the authority), \
         its text, its bytes, its bits and the old base are held at once for a moment (about four \
         times the size). The authority holds its current base's text (4/3 of the size); its keys \
         stay in its SQLite storage. At the defaults (REVOCATION_FILTER_FP_RATE {}, REVOCATION_FILTER_MAX_ENTRIES {}) the \
         largest base is {}, of an isolate's 128 MB.",
        default.fp_rate,
        default.max_entries,
        human((bits / 8) as usize)
    );
}

fn human(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.2} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.1} KB", bytes as f64 / 1e3)
    }
}
