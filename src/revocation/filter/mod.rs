//! The revocation filter: a compact set of every active revocation key (user and session
//! entries of every pool), so a gated check of a user nobody signed out reads no KV.
//!
//! # What it answers
//! A [`FilterBase`] is a Bloom filter ([`bloom`]) of the keys active when the revocation
//! authority built it, with the authority's sequence number at that moment (`seq`). With the
//! authority's feed (every revocation committed after `seq`, exactly) it answers, for the keys a
//! token would be checked under, "certainly not revoked" or "maybe" ([`gate::GateFilter`]). Only
//! "certainly not revoked" skips KV; "maybe" reads KV as a check without a filter does. The base
//! answers "maybe" for a key it does not hold at the rate it was sized for
//! (`REVOCATION_FILTER_FP_RATE`), never "certainly not" for one it holds.
//!
//! # When it may answer at all
//! The filter is *complete* only when base and feed together are known to hold every
//! revocation KV holds ([`gate::Completeness`]): same epoch, a feed that is fresh and holds every
//! entry after the base's `seq`, no revocation written without the authority that the base does
//! not cover (the *taint*: a write that went straight to KV marks it first, see
//! [`build`]), and no recent spell when the feed could not be refreshed. Anything else is
//! incomplete, and every key is read from KV.
//!
//! # Building and expiry
//! The authority builds a base from its set of active keys, sized for their number
//! ([`build::FilterKeys`]); an entry leaves the set on a rebuild after its KV TTL has passed.
//! A rebuild from a KV listing (keys and their expirations) adds what KV holds that the
//! authority never saw: entries written before it existed, or while it was unreachable.
//!
//! # Wire form
//! [`FilterBase::encode`] writes a compact binary form ending in a SHA-256 of everything before
//! it; [`FilterBase::decode`] refuses anything else (truncated, padded, another format, a digest
//! that does not match, parameters that do not agree), so a damaged base is never used: the gate
//! then stays incomplete and reads KV.

pub mod bloom;
pub mod build;
pub mod gate;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use sha2::{Digest, Sha256};

use bloom::Bloom;

/// The first bytes of an encoded base.
pub const MAGIC: &[u8; 4] = b"ERF\0";
/// The format [`FilterBase::encode`] writes and [`FilterBase::decode`] reads. A change to the
/// layout or to how keys are hashed takes a new number: a base in an old format is refused.
pub const FORMAT: u8 = 1;
/// The longest epoch a base carries, in bytes.
pub const MAX_EPOCH_BYTES: usize = 64;
/// Bytes of an encoded base before its bits: magic 4, format 1, version 8, epoch length 1 (and
/// the epoch), seq 8, built_at_ms 8, taint_covered_ms 8, count 8, seed 8, hashes 1, bits 8.
const FIXED_HEADER: usize = 4 + 1 + 8 + 1 + 8 + 8 + 8 + 8 + 8 + 1 + 8;
const DIGEST: usize = 32;

/// What a base was built from and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseMeta {
    /// Counts the authority's builds in `epoch`: a gate takes a base only if it is newer.
    pub version: u64,
    /// The epoch of the authority's numbering (its storage), as the feed names it.
    pub epoch: String,
    /// The authority's last sequence number when the keys were read: the base holds every
    /// revocation committed up to it that had not expired.
    pub seq: u64,
    /// When it was built, ms (the authority's clock).
    pub built_at_ms: u64,
    /// The newest write made without the authority that the base holds (the taint it
    /// covers), ms; 0: none.
    pub taint_covered_ms: u64,
    /// How many keys it holds.
    pub count: u64,
}

/// A built filter: its provenance and its bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterBase {
    /// Provenance.
    pub meta: BaseMeta,
    /// The keys.
    pub bloom: Bloom,
}

/// Why an encoded base was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// Shorter than its header says.
    Truncated,
    /// Not the magic bytes.
    NotAFilter,
    /// A format this build does not read.
    Format(u8),
    /// Parameters that do not agree (bits, hashes, epoch).
    Parameters,
    /// Longer or shorter than its parameters make it.
    Length,
    /// The digest does not match the bytes.
    Digest,
}

impl core::fmt::Display for Malformed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Malformed::Truncated => f.write_str("truncated"),
            Malformed::NotAFilter => f.write_str("not a revocation filter"),
            Malformed::Format(v) => write!(f, "format {v}, this build reads {FORMAT}"),
            Malformed::Parameters => f.write_str("parameters that do not agree"),
            Malformed::Length => f.write_str("a length its parameters do not give"),
            Malformed::Digest => f.write_str("a digest that does not match"),
        }
    }
}

impl FilterBase {
    /// Whether the base may hold `key` (`false`: it certainly does not).
    pub fn may_contain(&self, key: &str) -> bool {
        self.bloom.may_contain(key)
    }

    /// The size of [`FilterBase::encode`]'s answer, in bytes.
    pub fn encoded_len(&self) -> usize {
        FIXED_HEADER + self.meta.epoch.len() + self.bloom.words().len() * 8 + DIGEST
    }

    /// The binary form: header, bits (64 to a little-endian word), SHA-256 of all before.
    pub fn encode(&self) -> Vec<u8> {
        let meta = &self.meta;
        let epoch = &meta.epoch.as_bytes()[..meta.epoch.len().min(MAX_EPOCH_BYTES)];
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(MAGIC);
        out.push(FORMAT);
        out.extend_from_slice(&meta.version.to_le_bytes());
        out.push(epoch.len() as u8);
        out.extend_from_slice(epoch);
        for n in [
            meta.seq,
            meta.built_at_ms,
            meta.taint_covered_ms,
            meta.count,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(&self.bloom.seed().to_le_bytes());
        out.push(self.bloom.hashes());
        out.extend_from_slice(&self.bloom.bits().to_le_bytes());
        for word in self.bloom.words() {
            out.extend_from_slice(&word.to_le_bytes());
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// The base as text (standard base64 of [`FilterBase::encode`]), for the links and caches
    /// that carry text.
    pub fn to_text(&self) -> String {
        STANDARD.encode(self.encode())
    }

    /// A base as [`FilterBase::to_text`] writes it; anything else is refused.
    pub fn from_text(text: &str) -> Result<Self, Malformed> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| Malformed::NotAFilter)?;
        Self::decode(&bytes)
    }

    /// A base as [`FilterBase::encode`] writes it; anything else is refused.
    pub fn decode(bytes: &[u8]) -> Result<Self, Malformed> {
        let mut r = Reader(bytes);
        if r.take(MAGIC.len())? != MAGIC {
            return Err(Malformed::NotAFilter);
        }
        let format = r.byte()?;
        if format != FORMAT {
            return Err(Malformed::Format(format));
        }
        let version = r.u64()?;
        let epoch_len = usize::from(r.byte()?);
        if epoch_len > MAX_EPOCH_BYTES {
            return Err(Malformed::Parameters);
        }
        let epoch = core::str::from_utf8(r.take(epoch_len)?)
            .map_err(|_| Malformed::Parameters)?
            .to_owned();
        let (seq, built_at_ms, taint_covered_ms, count) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
        let (seed, hashes, bits) = (r.u64()?, r.byte()?, r.u64()?);
        if !(1..=bloom::MAX_HASHES).contains(&hashes)
            || !(64..=bloom::MAX_BITS).contains(&bits)
            || bits % 64 != 0
        {
            return Err(Malformed::Parameters);
        }
        let words = (bits / 64) as usize;
        let body_len = FIXED_HEADER + epoch_len + words * 8;
        if bytes.len() != body_len + DIGEST {
            return Err(if bytes.len() < body_len + DIGEST {
                Malformed::Truncated
            } else {
                Malformed::Length
            });
        }
        let (body, digest) = bytes.split_at(body_len);
        if Sha256::digest(body)[..] != *digest {
            return Err(Malformed::Digest);
        }
        let words: Vec<u64> = r
            .take(words * 8)?
            .chunks_exact(8)
            .map(|c| {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                u64::from_le_bytes(w)
            })
            .collect();
        let bloom = Bloom::from_parts(seed, bits, hashes, words).ok_or(Malformed::Parameters)?;
        Ok(Self {
            meta: BaseMeta {
                version,
                epoch,
                seq,
                built_at_ms,
                taint_covered_ms,
                count,
            },
            bloom,
        })
    }
}

/// Reads an encoded base front to back; every read checks the length.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.0.len() < n {
            return Err(Malformed::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }

    fn u64(&mut self) -> Result<u64, Malformed> {
        let mut w = [0u8; 8];
        w.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{CaseRule, UserId};
    use crate::revocation::{session_key, user_key};

    fn base(keys: &[String]) -> FilterBase {
        let (bits, hashes) = bloom::sizing(keys.len() as u64, 0.01);
        let mut bloom = Bloom::new(0xfeed, bits, hashes);
        keys.iter().for_each(|k| bloom.insert(k));
        FilterBase {
            meta: BaseMeta {
                version: 3,
                epoch: "e-1".into(),
                seq: 41,
                built_at_ms: 1_700_000_000_000,
                taint_covered_ms: 7,
                count: keys.len() as u64,
            },
            bloom,
        }
    }

    fn keys() -> Vec<String> {
        (0..300)
            .map(|i| {
                user_key(
                    "us-east-1_P",
                    &UserId::new(&format!("u{i}"), CaseRule::Insensitive),
                )
            })
            .chain((0..50).map(|i| session_key("us-east-1_P", &format!("o{i}"))))
            .collect()
    }

    #[test]
    fn a_base_survives_encoding_and_still_holds_every_key() {
        let keys = keys();
        let original = base(&keys);
        let bytes = original.encode();
        assert_eq!(bytes.len(), original.encoded_len());
        let decoded = FilterBase::decode(&bytes).unwrap();
        assert_eq!(decoded, original);
        assert!(keys.iter().all(|k| decoded.may_contain(k)));
    }

    #[test]
    fn a_base_survives_its_text_form_and_damaged_text_is_refused() {
        let original = base(&keys());
        let text = original.to_text();
        assert_eq!(FilterBase::from_text(&text).unwrap(), original);
        assert_eq!(
            FilterBase::from_text("not base64 at all!"),
            Err(Malformed::NotAFilter)
        );
        let short = &text[..text.len() - 8];
        assert!(FilterBase::from_text(short).is_err());
        let mut flipped = text.into_bytes();
        flipped[40] = if flipped[40] == b'A' { b'B' } else { b'A' };
        assert!(FilterBase::from_text(&String::from_utf8(flipped).unwrap()).is_err());
    }

    #[test]
    fn every_truncation_of_a_base_is_refused() {
        let bytes = base(&keys()).encode();
        for len in 0..bytes.len() {
            assert!(FilterBase::decode(&bytes[..len]).is_err(), "{len} bytes");
        }
    }

    #[test]
    fn a_base_with_bytes_added_is_refused() {
        let mut bytes = base(&keys()).encode();
        bytes.push(0);
        assert_eq!(FilterBase::decode(&bytes), Err(Malformed::Length));
        let mut doubled = base(&keys()).encode();
        doubled.extend(base(&keys()).encode());
        assert!(FilterBase::decode(&doubled).is_err());
    }

    #[test]
    fn every_single_flipped_bit_of_a_base_is_refused() {
        let bytes = base(&keys()[..20]).encode();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[i] ^= 1 << bit;
                assert!(
                    FilterBase::decode(&damaged).is_err(),
                    "byte {i} bit {bit} flipped was taken"
                );
            }
        }
    }

    #[test]
    fn another_format_or_magic_is_refused_by_name() {
        let bytes = base(&keys()).encode();
        let mut other = bytes.clone();
        other[4] = FORMAT + 1;
        assert_eq!(
            FilterBase::decode(&other),
            Err(Malformed::Format(FORMAT + 1))
        );
        let mut not_ours = bytes.clone();
        not_ours[0] = b'X';
        assert_eq!(FilterBase::decode(&not_ours), Err(Malformed::NotAFilter));
        assert_eq!(
            FilterBase::decode(b"{\"json\":1}"),
            Err(Malformed::NotAFilter)
        );
    }

    /// A header whose parameters are re-hashed so the digest matches: the parameters themselves
    /// must be refused (a bit count the words do not fill, no hashes, too many).
    #[test]
    fn parameters_that_disagree_are_refused_even_under_a_matching_digest() {
        let original = base(&keys());
        let bytes = original.encode();
        let epoch_len = original.meta.epoch.len();
        let hashes_at = 4 + 1 + 8 + 1 + epoch_len + 8 * 5;
        let bits_at = hashes_at + 1;
        let redigest = |mut body: Vec<u8>| {
            body.truncate(body.len() - DIGEST);
            let digest = Sha256::digest(&body);
            body.extend_from_slice(&digest);
            body
        };
        for hashes in [0u8, 33, 255] {
            let mut b = bytes.clone();
            b[hashes_at] = hashes;
            assert_eq!(FilterBase::decode(&redigest(b)), Err(Malformed::Parameters));
        }
        for bits in [
            0u64,
            63,
            original.bloom.bits() + 1,
            original.bloom.bits() + 64,
            u64::MAX,
        ] {
            let mut b = bytes.clone();
            b[bits_at..bits_at + 8].copy_from_slice(&bits.to_le_bytes());
            assert!(FilterBase::decode(&redigest(b)).is_err(), "{bits} bits");
        }
        let mut b = bytes.clone();
        b[4 + 1 + 8] = 200;
        assert!(FilterBase::decode(&redigest(b)).is_err(), "epoch too long");
    }

    #[test]
    fn random_bytes_are_never_a_base() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2_000 {
            let len = (next() % 300) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if next() % 2 == 0 && bytes.len() > 5 {
                bytes[..4].copy_from_slice(MAGIC);
                bytes[4] = FORMAT;
            }
            assert!(FilterBase::decode(&bytes).is_err());
        }
    }
}
