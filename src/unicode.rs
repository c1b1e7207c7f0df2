//! The two Unicode questions the core asks: canonical normalization (NFD and NFC, for the one
//! spelling of user ids in `crate::identity`) and whether every character of a value is a
//! Letter, Mark, Symbol, Number or Punctuation (Cognito's `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`
//! patterns in `crate::validate`).
//!
//! Both need Unicode Character Database tables (about 100 KB). The JS engine a Worker or a
//! browser runs already has them (ICU), so the wasm32 build asks it (`String.prototype.normalize`
//! and a `RegExp` with the `u` flag, in `js`) and links no tables; the native build (tests, fuzz,
//! tools) keeps the `unicode-normalization` and `unicode-general-category` crates (`tables`).
//! Both answer the same: `tests/unicode_fixture.rs` writes the native answers for every
//! character the tables treat specially into `tests/fixtures/unicode-spellings.json`, and the
//! worker tier (`tests/worker/unicode.test.mjs`) puts each through the built module in workerd.
//! The Worker therefore follows the Unicode version of its JS engine (see the README).
//!
//! ASCII text never leaves wasm: it is already NFD and NFC, and its classes are known (every
//! printable ASCII character is L, N, P or S; controls are Cc, the space is Zs).
//!
//! These are pure functions of their input, not I/O: the one place outside `wasm` that touches
//! the JS engine, by the engine's own built-ins only.

/// The platform could not answer (wasm32 only: a JS engine without `normalize` or Unicode
/// property escapes; none that runs a Worker or a current browser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

/// Whether the platform answers the normalization questions (always, natively; in wasm32,
/// whether the JS engine normalizes, probed once per isolate on first use). The app refuses to
/// load its configuration where it does not.
pub fn available() -> bool {
    imp::available()
}

/// `s` in Normalization Form D: canonical decomposition, then canonical ordering.
pub fn nfd(s: &str) -> Result<String, Unavailable> {
    if s.is_ascii() {
        return imp::available().then(|| s.to_owned()).ok_or(Unavailable);
    }
    imp::nfd(s)
}

/// `s` in Normalization Form C: NFD, then canonical composition.
pub fn nfc(s: &str) -> Result<String, Unavailable> {
    if s.is_ascii() {
        return imp::available().then(|| s.to_owned()).ok_or(Unavailable);
    }
    imp::nfc(s)
}

/// Whether every character of `value` is in `[\p{L}\p{M}\p{S}\p{N}\p{P}]`, or with `spaces`,
/// in `[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]`. True for the empty string. False when the
/// platform cannot answer: a value that cannot be checked is refused.
pub fn all_lmsnp(value: &str, spaces: bool) -> bool {
    if value.is_ascii() {
        return value.bytes().all(|b| {
            b.is_ascii_graphic() || (spaces && matches!(b, b'\t' | b'\n' | b'\r' | b' '))
        });
    }
    imp::all_lmsnp(value, spaces)
}

#[cfg(not(target_arch = "wasm32"))]
use tables as imp;

#[cfg(target_arch = "wasm32")]
use js as imp;

/// The native build: the Unicode Character Database from crates.
#[cfg(not(target_arch = "wasm32"))]
mod tables {
    use super::Unavailable;
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    use unicode_normalization::char::{canonical_combining_class, compose, decompose_canonical};

    pub fn available() -> bool {
        true
    }

    // NFD and NFC from the UCD primitives of `unicode-normalization` (decomposition, combining
    // class, composition pairs) rather than its string iterators: those choose canonical or
    // compatibility tables at run time and so link both. The tests check both against them.

    pub fn nfd(s: &str) -> Result<String, Unavailable> {
        Ok(decompose(s).into_iter().collect())
    }

    pub fn nfc(s: &str) -> Result<String, Unavailable> {
        Ok(recompose(decompose(s)))
    }

    /// Canonical decomposition followed by canonical ordering (UAX #15 §1.3 and §3.11).
    pub(super) fn decompose(s: &str) -> Vec<char> {
        let mut out = Vec::new();
        for c in s.chars() {
            decompose_canonical(c, |d| out.push(d));
        }
        // Each run of non-starters is ordered by combining class; the sort is stable, as required.
        let mut start = 0;
        while start < out.len() {
            let run = out.get(start..).map_or(0, |rest| {
                rest.iter()
                    .take_while(|&&c| canonical_combining_class(c) != 0)
                    .count()
            });
            if let Some(slice) = out.get_mut(start..start + run) {
                slice.sort_by_key(|&c| canonical_combining_class(c));
            }
            start += run.max(1);
        }
        out
    }

    /// Canonical composition of a decomposed, ordered sequence (UAX #15 §1.3, D117).
    pub(super) fn recompose(decomposed: Vec<char>) -> String {
        let mut out: Vec<char> = Vec::with_capacity(decomposed.len());
        // Where in `out` the last starter is, and the combining class of the last character
        // kept after it (`None`: nothing in between, so the next one is adjacent to the starter).
        let mut starter: Option<usize> = None;
        let mut last_class: Option<u8> = None;
        for c in decomposed {
            let class = canonical_combining_class(c);
            let blocked = last_class.is_some_and(|last| last == 0 || last >= class);
            if let (Some(at), false) = (starter, blocked) {
                if let Some(slot) = out.get_mut(at) {
                    if let Some(composed) = compose(*slot, c) {
                        *slot = composed;
                        continue;
                    }
                }
            }
            if class == 0 {
                starter = Some(out.len());
                last_class = None;
            } else {
                last_class = Some(class);
            }
            out.push(c);
        }
        out.into_iter().collect()
    }

    pub fn all_lmsnp(value: &str, spaces: bool) -> bool {
        value
            .chars()
            .all(|c| is_lmsnp(c) || (spaces && matches!(c, '\t' | '\n' | '\r' | ' ')))
    }

    /// Letter, Mark, Symbol, Number or Punctuation: anything but separators (Z*) and "other"
    /// (controls, format, surrogates, private use, unassigned).
    pub(super) fn is_lmsnp(c: char) -> bool {
        // Listed positively: the enum is non_exhaustive, and a category added later must not
        // slip in.
        matches!(
            get_general_category(c),
            G::UppercaseLetter
                | G::LowercaseLetter
                | G::TitlecaseLetter
                | G::ModifierLetter
                | G::OtherLetter
                | G::NonspacingMark
                | G::SpacingMark
                | G::EnclosingMark
                | G::MathSymbol
                | G::CurrencySymbol
                | G::ModifierSymbol
                | G::OtherSymbol
                | G::DecimalNumber
                | G::LetterNumber
                | G::OtherNumber
                | G::ConnectorPunctuation
                | G::DashPunctuation
                | G::OpenPunctuation
                | G::ClosePunctuation
                | G::InitialPunctuation
                | G::FinalPunctuation
                | G::OtherPunctuation
        )
    }
}

/// The wasm32 build: the JS engine's own Unicode data, through its built-ins. Every call that
/// could throw is declared `catch`, so an exception becomes `Unavailable` (or a refused value),
/// never an exception unwinding through wasm.
#[cfg(target_arch = "wasm32")]
mod js {
    use super::Unavailable;
    use std::cell::OnceCell;
    use wasm_bindgen::{prelude::*, JsCast};

    #[wasm_bindgen]
    extern "C" {
        /// A JS string.
        #[wasm_bindgen(js_name = String)]
        type Text;

        /// `String.prototype.normalize(form)`: throws only for an unknown form.
        #[wasm_bindgen(method, catch, js_class = "String")]
        fn normalize(this: &Text, form: &str) -> Result<String, JsValue>;

        /// A `RegExp`.
        #[wasm_bindgen(js_name = RegExp)]
        type Regex;

        /// `new RegExp(source, flags)`: throws where the engine lacks a feature the source uses.
        #[wasm_bindgen(constructor, catch, js_class = "RegExp")]
        fn new(source: &str, flags: &str) -> Result<Regex, JsValue>;

        /// `test(text)`.
        #[wasm_bindgen(method, catch)]
        fn test(this: &Regex, text: &str) -> Result<bool, JsValue>;
    }

    /// The model's patterns, anchored, as the engine compiles them (`u`: Unicode property
    /// escapes, code points rather than UTF-16 units). `$` without the `m` flag is the end of
    /// the input only.
    const LMSNP: &str = r"^[\p{L}\p{M}\p{S}\p{N}\p{P}]*$";
    const LMSNP_OR_SPACE: &str = r"^[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]*$";

    thread_local! {
        /// Whether the engine normalizes, checked once per isolate on first use (never at
        /// module load).
        static NORMALIZES: OnceCell<bool> = const { OnceCell::new() };
        /// The two patterns, compiled on first use; `None` if the engine refused them.
        static CLASSES: OnceCell<Option<(Regex, Regex)>> = const { OnceCell::new() };
    }

    fn normalized(s: &str, form: &str) -> Result<String, Unavailable> {
        JsValue::from_str(s)
            .unchecked_into::<Text>()
            .normalize(form)
            .map_err(|_| Unavailable)
    }

    /// The engine decomposes and composes a known pair both ways. Normalizing only ever throws
    /// for an unknown form, so an engine that passes this answers every later call; one that
    /// fails it (or lacks `normalize`) answers none, ASCII included (see `crate::identity`).
    pub fn available() -> bool {
        NORMALIZES.with(|cell| {
            *cell.get_or_init(|| {
                normalized("e\u{301}", "NFC").is_ok_and(|s| s == "\u{e9}")
                    && normalized("\u{e9}", "NFD").is_ok_and(|s| s == "e\u{301}")
            })
        })
    }

    pub fn nfd(s: &str) -> Result<String, Unavailable> {
        if !available() {
            return Err(Unavailable);
        }
        normalized(s, "NFD")
    }

    pub fn nfc(s: &str) -> Result<String, Unavailable> {
        if !available() {
            return Err(Unavailable);
        }
        normalized(s, "NFC")
    }

    pub fn all_lmsnp(value: &str, spaces: bool) -> bool {
        CLASSES.with(|cell| {
            let compiled = cell.get_or_init(|| {
                Some((
                    Regex::new(LMSNP, "u").ok()?,
                    Regex::new(LMSNP_OR_SPACE, "u").ok()?,
                ))
            });
            compiled.as_ref().is_some_and(|(lmsnp, or_space)| {
                let pattern = if spaces { or_space } else { lmsnp };
                // A pattern the engine cannot run refuses the value.
                pattern.test(value).unwrap_or(false)
            })
        })
    }
}

/// Test inputs for normalization: bases that compose, marks of several combining classes in
/// every order, Hangul jamo (composed algorithmically), and starters that compose with each
/// other, three marks after each base.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) fn combining_sequences() -> Vec<String> {
    let bases = [
        "a", "A", "e", "o", "u", "\u{3b1}", "\u{399}", "\u{1100}", "\u{ac00}", "\u{130}",
        "\u{1fb3}",
    ];
    let marks = [
        "\u{301}", "\u{300}", "\u{308}", "\u{323}", "\u{345}", "\u{327}", "\u{1161}", "\u{11a8}",
        "\u{315}", "\u{334}", "e",
    ];
    let mut out = Vec::new();
    for base in bases {
        for m1 in marks {
            for m2 in marks {
                for m3 in marks {
                    out.push(format!("{base}{m1}{m2}{m3}x"));
                }
            }
        }
    }
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    #[test]
    fn nfd_and_nfc_agree_with_the_crates_iterators_on_every_scalar_value() {
        let mut checked = 0;
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let one = c.to_string();
            assert_eq!(nfd(&one), Ok(one.nfd().collect()), "nfd U+{:04X}", c as u32);
            assert_eq!(nfc(&one), Ok(one.nfc().collect()), "nfc U+{:04X}", c as u32);
            checked += 1;
        }
        assert!(checked > 1_100_000);
    }

    #[test]
    fn nfd_and_nfc_agree_with_the_crates_iterators_on_combining_sequences() {
        let sequences = combining_sequences();
        assert_eq!(sequences.len(), 11 * 11 * 11 * 11);
        for s in sequences {
            assert_eq!(nfd(&s), Ok(s.nfd().collect()), "{s:?}");
            assert_eq!(nfc(&s), Ok(s.nfc().collect()), "{s:?}");
        }
    }

    #[test]
    fn the_ascii_shortcut_gives_what_the_tables_give_for_every_ascii_char() {
        for b in 0..=0x7Fu8 {
            let c = char::from(b);
            let s = format!("{c}{c}");
            assert_eq!(nfd(&s).ok(), tables::nfd(&s).ok(), "U+{b:04X}");
            assert_eq!(nfc(&s).ok(), tables::nfc(&s).ok(), "U+{b:04X}");
            for spaces in [false, true] {
                assert_eq!(
                    all_lmsnp(&s, spaces),
                    tables::all_lmsnp(&s, spaces),
                    "U+{b:04X} spaces={spaces}"
                );
            }
        }
    }

    #[test]
    fn one_character_outside_the_classes_fails_the_whole_value() {
        assert!(all_lmsnp("Ünïcødé_名前-١٢٣😀e\u{301}", false));
        assert!(!all_lmsnp("Ünïcødé\u{200b}", false), "zero width space, Cf");
        assert!(!all_lmsnp("é é", false));
        assert!(all_lmsnp("é é\t\n\r", true));
        assert!(
            !all_lmsnp("é\u{a0}é", true),
            "no-break space is Zs, not ' '"
        );
        assert!(
            !all_lmsnp("é\u{b}", true),
            "vertical tab is not among the spaces allowed"
        );
        assert!(!all_lmsnp("\u{378}é", false), "unassigned");
    }
}
