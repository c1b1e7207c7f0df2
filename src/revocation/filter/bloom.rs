//! A Bloom filter over revocation keys: `hashes` bit positions per key in a bit array of `bits`
//! bits, from one SHA-256 of the version's seed and the key (double hashing, Kirsch and
//! Mitzenmacher: position i is `h1 + i·h2` modulo `bits`). A key that was added always finds its
//! bits set; another key finds them all set with the probability the filter was sized for.

use sha2::{Digest, Sha256};

/// The most bit positions a key sets (a rate of 1e-9 needs 30).
pub const MAX_HASHES: u8 = 32;
/// The most bits a filter may have (512 MiB of bits): far above any setting's need, it bounds
/// what a decoder allocates.
pub const MAX_BITS: u64 = 1 << 32;

/// The sizing for `count` keys at false-positive rate `fp_rate`: the number of bits (a multiple
/// of 64, at least 64) and of hashes. The optimum is `bits = -n·ln p / (ln 2)²`,
/// `hashes = bits/n · ln 2`.
pub fn sizing(count: u64, fp_rate: f64) -> (u64, u8) {
    let n = count.max(1) as f64;
    let rate = if fp_rate.is_finite() {
        fp_rate.clamp(1e-12, 0.5)
    } else {
        0.5
    };
    let ln2 = core::f64::consts::LN_2;
    let ideal = (-n * rate.ln() / (ln2 * ln2)).ceil();
    let bits = if ideal.is_finite() && ideal > 0.0 {
        (ideal as u64).clamp(64, MAX_BITS).div_ceil(64) * 64
    } else {
        64
    };
    let hashes = (bits as f64 / n * ln2).round();
    let hashes = if hashes.is_finite() {
        hashes.clamp(1.0, f64::from(MAX_HASHES)) as u8
    } else {
        1
    };
    (bits, hashes)
}

/// The two hashes a key's positions derive from.
fn hash_pair(seed: u64, key: &str) -> (u64, u64) {
    let digest = Sha256::new()
        .chain_update(seed.to_le_bytes())
        .chain_update(key.as_bytes())
        .finalize();
    let mut h1 = [0u8; 8];
    let mut h2 = [0u8; 8];
    h1.copy_from_slice(&digest[..8]);
    h2.copy_from_slice(&digest[8..16]);
    // An odd step never repeats a position early when `bits` is a power of two.
    (u64::from_le_bytes(h1), u64::from_le_bytes(h2) | 1)
}

/// A Bloom filter's bits and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bloom {
    seed: u64,
    hashes: u8,
    bits: u64,
    words: Vec<u64>,
}

impl Bloom {
    /// An empty filter of `bits` bits (rounded up to a multiple of 64, at least 64, at most
    /// [`MAX_BITS`]) setting `hashes` positions a key (1 to [`MAX_HASHES`]).
    pub fn new(seed: u64, bits: u64, hashes: u8) -> Self {
        let bits = bits.clamp(64, MAX_BITS).div_ceil(64) * 64;
        Self {
            seed,
            hashes: hashes.clamp(1, MAX_HASHES),
            bits,
            words: vec![0; (bits / 64) as usize],
        }
    }

    /// A filter from its parts as stored; `None` unless they are consistent (as
    /// [`Bloom::new`] would make them, with one word per 64 bits).
    pub fn from_parts(seed: u64, bits: u64, hashes: u8, words: Vec<u64>) -> Option<Self> {
        let consistent = (1..=MAX_HASHES).contains(&hashes)
            && (64..=MAX_BITS).contains(&bits)
            && bits % 64 == 0
            && words.len() as u64 == bits / 64;
        consistent.then_some(Self {
            seed,
            hashes,
            bits,
            words,
        })
    }

    /// The seed the positions are hashed with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The number of positions a key sets.
    pub fn hashes(&self) -> u8 {
        self.hashes
    }

    /// The number of bits.
    pub fn bits(&self) -> u64 {
        self.bits
    }

    /// The bits, 64 to a word, bit `i` in word `i / 64` at `1 << (i % 64)`.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    fn positions(&self, key: &str) -> impl Iterator<Item = (usize, u64)> + '_ {
        let (h1, h2) = hash_pair(self.seed, key);
        let bits = self.bits;
        (0..u64::from(self.hashes)).map(move |i| {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) % bits;
            ((bit / 64) as usize, 1u64 << (bit % 64))
        })
    }

    /// Adds `key`.
    pub fn insert(&mut self, key: &str) {
        let positions: Vec<(usize, u64)> = self.positions(key).collect();
        for (word, mask) in positions {
            if let Some(w) = self.words.get_mut(word) {
                *w |= mask;
            }
        }
    }

    /// Whether `key` may have been added: `false` only if it certainly was not.
    pub fn may_contain(&self, key: &str) -> bool {
        // A position past the words (impossible by construction) answers "maybe": never a
        // false "certainly not".
        self.positions(key)
            .all(|(word, mask)| self.words.get(word).is_none_or(|w| w & mask != 0))
    }

    /// The share of bits set (a filter overfilled past its sizing answers "maybe" more).
    pub fn fill(&self) -> f64 {
        let set: u64 = self.words.iter().map(|w| u64::from(w.count_ones())).sum();
        set as f64 / self.bits as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_added_key_is_found() {
        let (bits, hashes) = sizing(5_000, 0.01);
        let mut bloom = Bloom::new(7, bits, hashes);
        for i in 0..5_000 {
            bloom.insert(&format!("rev/v1/u/pool/user-{i}"));
        }
        assert!((0..5_000).all(|i| bloom.may_contain(&format!("rev/v1/u/pool/user-{i}"))));
    }

    #[test]
    fn the_false_positive_rate_is_near_what_it_was_sized_for() {
        for rate in [0.01, 0.001] {
            let (bits, hashes) = sizing(20_000, rate);
            let mut bloom = Bloom::new(11, bits, hashes);
            for i in 0..20_000 {
                bloom.insert(&format!("rev/v1/u/pool/user-{i}"));
            }
            let probes = 200_000;
            let hits = (0..probes)
                .filter(|i| bloom.may_contain(&format!("rev/v1/u/pool/other-{i}")))
                .count();
            let measured = hits as f64 / f64::from(probes);
            assert!(
                measured < rate * 1.5 && measured > rate / 3.0,
                "sized for {rate}, measured {measured}"
            );
        }
    }

    #[test]
    fn another_seed_puts_the_same_key_elsewhere() {
        let mut a = Bloom::new(1, 1 << 16, 7);
        let mut b = Bloom::new(2, 1 << 16, 7);
        a.insert("rev/v1/u/pool/alice");
        b.insert("rev/v1/u/pool/alice");
        assert_ne!(a.words(), b.words());
    }

    #[test]
    fn sizing_follows_the_textbook_optimum_and_stays_in_bounds() {
        let (bits, hashes) = sizing(1_000_000, 0.001);
        assert_eq!(bits, 14_377_600, "about 14.4 bits a key");
        assert_eq!(hashes, 10);
        assert_eq!(sizing(0, 0.01), (64, 32));
        assert_eq!(sizing(1_000_000, f64::NAN).1, 1);
        assert!(sizing(u64::MAX, 1e-12).0 <= MAX_BITS);
    }

    #[test]
    fn parts_that_do_not_agree_are_refused() {
        assert!(Bloom::from_parts(1, 128, 3, vec![0, 0]).is_some());
        assert!(Bloom::from_parts(1, 128, 3, vec![0]).is_none());
        assert!(Bloom::from_parts(1, 100, 3, vec![0, 0]).is_none());
        assert!(Bloom::from_parts(1, 128, 0, vec![0, 0]).is_none());
        assert!(Bloom::from_parts(1, 128, 33, vec![0, 0]).is_none());
        assert!(Bloom::from_parts(1, 0, 3, vec![]).is_none());
    }
}
