//! How a user id is spelled: one canonical form per pool, used wherever an id is written to or
//! read from KV.
//!
//! # Rule
//! - **Unicode form.** Every id is put in NFC, so `é` written as `e` + U+0301 (NFD) and as U+00E9
//!   (NFC) are one id.
//! - **Case.** Unless the pool sets `username_case_sensitive: true`, ids are compared by Unicode
//!   default case folding (full folding: `ALICE`/`alice`, `STRASSE`/`straße`, `ΣΑΣ`/`σας` match),
//!   as Cognito compares usernames in new pools. The canonical form is NFC(fold(NFD(id))):
//!   Unicode's canonical caseless match (§3.13, D145), ending in NFC rather than NFD for shorter
//!   keys (two strings have the same NFC iff they have the same NFD).
//! - **Both sides.** A [`UserId`] is made only by [`UserId::new`], and the KV key of a user entry
//!   only from a `UserId`: the write (AdminUserGlobalSignOut, GlobalSignOut, `globalSignOut()`,
//!   AdminDisableUser) and the read (a token's `sub` and `username`, a refresh's session) go
//!   through the same function, so they cannot disagree.
//!
//! Folding can only join ids, never split one: a sign-out by one spelling covers every spelling
//! Cognito would treat as the same user (and, for exotic pairs such as `ß`/`ss` that Cognito may
//! keep apart, a few more: a sign-out that reaches too far fails safe).

use sha2::{Digest, Sha256};

use crate::unicode;

/// Whether a pool tells user ids apart by case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaseRule {
    /// `ALICE` and `alice` are one user (Cognito's default for new pools).
    #[default]
    Insensitive,
    /// `ALICE` and `alice` are two users (`username_case_sensitive: true`).
    Sensitive,
}

/// A user id (username, email or sub) in its pool's canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(String);

impl UserId {
    /// `id` in the canonical spelling for a pool with this case rule.
    pub fn new(id: &str, case: CaseRule) -> Self {
        let canonical = match case {
            // NFC(NFD(fold(NFD(id)))): `unicode::nfc` decomposes before it composes.
            CaseRule::Insensitive => unicode::nfd(id).and_then(|d| unicode::nfc(&case_fold(&d))),
            CaseRule::Sensitive => unicode::nfc(id),
        };
        // Only a JS engine that cannot normalize at all fails (`unicode::Unavailable`), and
        // then it fails for every id, ASCII included. Keeping the id as written would split
        // a user (a sign-out by `e` + U+0301 missing the token's `é`, or by `K` missing the
        // Kelvin sign); every id is instead one spelling, so the pool's ids are all one user:
        // a sign-out reaches everyone and nobody is split from another spelling of their name
        // (fails closed). No request gets this far there: the app refuses to load its
        // configuration on such an engine (`App::load`), so this is the last resort of a
        // caller that skipped it, such as the package's own `unicodeSpelling`.
        Self(canonical.unwrap_or_else(|_| UNNORMALIZABLE.to_owned()))
    }

    /// The canonical spelling.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

mod fold;

/// What every id is spelled as on an engine that cannot normalize (see [`UserId::new`]): a
/// noncharacter, so the username pattern refuses it as a name.
const UNNORMALIZABLE: &str = "\u{FFFF}";

/// Unicode default case folding (full), char by char (`fold`).
fn case_fold(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        fold::fold_into(c, &mut out);
    }
    out.into_iter().collect()
}

/// Whether `name` has the shape of an email address or an E.164 phone number: the shapes of
/// Cognito's alias and username attributes, which an external pool's access tokens do not carry.
pub fn looks_like_email_or_phone(name: &str) -> bool {
    let phone = name
        .strip_prefix('+')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
    name.contains('@') || phone
}

/// User ids up to this many bytes go into KV keys as written; longer ones are hashed.
pub const MAX_PLAIN_ID_BYTES: usize = 200;
/// What a hashed key component begins with; a plain id never does (it is hashed too).
pub const HASHED_PREFIX: &str = "h:";

/// A KV key component for `id`: as written, or `h:` and its SHA-256 in hex when it is long (KV
/// keys are at most 512 bytes) or itself begins with `h:` (so no plain id spells a hashed one).
pub fn key_component(id: &str) -> String {
    if id.len() <= MAX_PLAIN_ID_BYTES && !id.starts_with(HASHED_PREFIX) {
        id.to_owned()
    } else {
        format!(
            "{HASHED_PREFIX}{}",
            hex::encode(Sha256::digest(id.as_bytes()))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(id: &str) -> String {
        UserId::new(id, CaseRule::Insensitive).0
    }

    fn exact(id: &str) -> String {
        UserId::new(id, CaseRule::Sensitive).0
    }

    const NFC_E: &str = "ren\u{e9}e";
    const NFD_E: &str = "rene\u{301}e";

    #[test]
    fn case_insensitive_pools_join_every_case_of_a_name() {
        for spelling in ["ext-alice", "EXT-ALICE", "Ext-Alice", "eXt-aLiCe"] {
            assert_eq!(folded(spelling), "ext-alice", "{spelling}");
        }
        assert_eq!(folded("STRASSE"), folded("straße"));
        assert_eq!(folded("ΣΑΣ"), folded("σας"));
        assert_eq!(folded("ＡＬＩＣＥ"), "ａｌｉｃｅ", "width is not case");
        assert_ne!(folded("alice"), folded("alicf"));
    }

    #[test]
    fn nfd_and_nfc_spellings_are_one_id_in_either_case_rule() {
        assert_ne!(NFC_E, NFD_E);
        assert_eq!(folded(NFC_E), folded(NFD_E));
        assert_eq!(exact(NFC_E), exact(NFD_E));
        assert_eq!(exact(NFD_E), NFC_E);
        assert_eq!(
            folded("REN\u{c9}E"),
            folded(NFD_E),
            "upper-case NFC vs lower-case NFD"
        );
        // U+0130 (dotted capital I) folds to i + U+0307, which has no composed form.
        assert_eq!(folded("\u{130}"), folded("i\u{307}"));
    }

    #[test]
    fn case_sensitive_pools_keep_case_apart() {
        assert_eq!(exact("Ext-Alice"), "Ext-Alice");
        assert_ne!(exact("EXT-ALICE"), exact("ext-alice"));
    }

    #[test]
    fn the_canonical_spelling_is_stable_when_applied_again() {
        for id in [
            "Ext-Alice",
            NFD_E,
            "STRASSE",
            "\u{130}stanbul",
            "ΣΑΣ",
            "\u{1fc3}",
            "h:ABC",
            "",
        ] {
            let once = folded(id);
            assert_eq!(folded(&once), once, "{id}");
            assert_eq!(exact(&exact(id)), exact(id), "{id}");
        }
    }

    /// The oracle: `unicode-normalization`'s own string iterators (not linked into the Worker).
    fn oracle(id: &str, case: CaseRule) -> String {
        use caseless::Caseless;
        use unicode_normalization::UnicodeNormalization;
        match case {
            CaseRule::Insensitive => id.chars().nfd().default_case_fold().nfc().collect(),
            CaseRule::Sensitive => id.nfc().collect(),
        }
    }

    #[test]
    fn the_canonical_spelling_agrees_with_the_crates_iterators_on_every_scalar_value() {
        let mut checked = 0;
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let one = c.to_string();
            for case in [CaseRule::Insensitive, CaseRule::Sensitive] {
                assert_eq!(
                    UserId::new(&one, case).0,
                    oracle(&one, case),
                    "U+{:04X}",
                    c as u32
                );
            }
            checked += 1;
        }
        assert!(checked > 1_100_000);
    }

    #[test]
    fn the_canonical_spelling_agrees_with_the_crates_iterators_on_combining_sequences() {
        let sequences = crate::unicode::combining_sequences();
        assert!(sequences.len() > 10_000);
        for id in sequences {
            for case in [CaseRule::Insensitive, CaseRule::Sensitive] {
                assert_eq!(UserId::new(&id, case).0, oracle(&id, case), "{id:?}");
            }
        }
    }

    #[test]
    fn email_and_phone_shapes_are_recognised_and_plain_names_are_not() {
        for alias in [
            "alice@example.com",
            "ALICE@EXAMPLE.COM",
            "@x",
            "+15555550100",
        ] {
            assert!(looks_like_email_or_phone(alias), "{alias}");
        }
        for name in ["alice", "ext-alice", "+", "+1-555", "a+b", "0015555550100"] {
            assert!(!looks_like_email_or_phone(name), "{name}");
        }
    }
}
