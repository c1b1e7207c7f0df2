//! The native answers the Worker's Unicode must give: `tests/fixtures/unicode-spellings.json`.
//!
//! In a Worker, NFD and NFC and the username pattern's Unicode classes come from the JS engine
//! (`src/unicode.rs`); natively, from the `unicode-normalization` and `unicode-general-category`
//! tables. This test computes, with the native build, each case's canonical user-id spelling
//! (case-insensitive and case-sensitive) and whether it matches the username and attribute-name
//! patterns, and fails if the committed fixture says anything else. The worker tier
//! (`tests/worker/unicode.test.mjs`) puts every case through the built module in workerd and
//! compares. Regenerate after a deliberate change with
//! `UPDATE_UNICODE_FIXTURE=1 cargo test --test unicode_fixture`.
//!
//! The cases: every scalar value with a canonical decomposition (and its NFD), a nonzero
//! combining class (alone, after a base, out of canonical order) or a full case folding other
//! than itself; Hangul jamo and syllables, composed and not; both sides of every boundary
//! between General Categories; and spellings an attacker would try (NFD against NFC, fullwidth
//! forms that NFKC would fold but the canonical spelling must not, zero-width joiners, format
//! characters, unassigned and private-use code points, case-folding specials).

use std::collections::HashSet;

use caseless::Caseless;
use edge_revoke::identity::{CaseRule, UserId};
use edge_revoke::validate::Pattern;
use unicode_general_category::get_general_category;
use unicode_normalization::char::{canonical_combining_class, decompose_canonical};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/unicode-spellings.json"
);

/// Strings an attacker (or a confused client) would try, beside the systematic cases.
const SPELLINGS: &[&str] = &[
    // One name, NFC and NFD, in either case.
    "ren\u{e9}e",
    "rene\u{301}e",
    "REN\u{c9}E",
    "RENE\u{301}E",
    // Marks out of canonical order, repeated, on a non-letter.
    "a\u{301}\u{323}",
    "a\u{323}\u{301}",
    "e\u{301}\u{301}",
    "\u{301}",
    "1\u{301}",
    // Fullwidth and compatibility forms: NFKC would fold them, the canonical spelling must not.
    "\u{ff21}\u{ff2c}\u{ff29}\u{ff23}\u{ff25}",
    "\u{ff41}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}",
    "\u{ff45}\u{301}",
    "x\u{b2}",
    "\u{2168}",
    "\u{fb01}le",
    "\u{fb00}",
    "\u{2126}hm",
    "\u{212a}elvin",
    "\u{212b}ngstr\u{f6}m",
    "\u{37e}",
    // Case folding's specials.
    "stra\u{df}e",
    "STRASSE",
    "\u{1e9e}",
    "\u{3a3}\u{391}\u{3a3}",
    "\u{3c3}\u{3b1}\u{3c2}",
    "\u{130}stanbul",
    "i\u{307}",
    "\u{131}",
    "\u{1c5}",
    "\u{1c4}",
    "\u{1c6}",
    "\u{390}",
    "\u{3b9}\u{308}\u{301}",
    "\u{1fb3}",
    "\u{1fbc}",
    "\u{345}",
    "\u{13a0}\u{13f8}",
    "\u{ab70}\u{13f0}",
    "\u{10400}",
    "\u{1e900}",
    // Joiners, format characters, separators.
    "a\u{200d}b",
    "a\u{200c}b",
    "\u{200d}",
    "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}",
    "\u{feff}alice",
    "alice\u{200b}",
    "a\u{ad}b",
    "a\u{2060}b",
    "a\u{202e}b",
    "a b",
    "a\tb",
    "a\u{a0}b",
    "a\u{3000}b",
    "a\u{2028}b",
    "a\u{85}b",
    // Unassigned, noncharacters, private use, the last scalar value.
    "a\u{378}",
    "\u{e000}",
    "\u{f8ff}",
    "\u{fffe}",
    "\u{ffff}",
    "\u{10ffff}",
    "\u{e0001}",
    "\u{e007f}",
    // Emoji and mixed scripts.
    "bob\u{1f600}",
    "\u{dc}n\u{ef}c\u{f8}d\u{e9}_\u{540d}\u{524d}-\u{661}\u{662}\u{663}",
    "",
];

/// Every case, each once, in a fixed order.
fn cases() -> Vec<String> {
    let mut cases = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |s: String| {
        if seen.insert(s.clone()) {
            cases.push(s);
        }
    };
    for s in SPELLINGS {
        add((*s).to_owned());
    }
    // Every ASCII character, alone (the module answers these without the JS engine).
    for b in 0..=0x7Fu8 {
        add(char::from(b).to_string());
    }
    let scalars = || (0..=0x10FFFFu32).filter_map(char::from_u32);
    let hangul = |c: char| ('\u{ac00}'..='\u{d7a3}').contains(&c);
    for c in scalars() {
        let one = c.to_string();
        // A canonical decomposition: the character and its decomposed spelling.
        let mut decomposed = String::new();
        decompose_canonical(c, |d| decomposed.push(d));
        if decomposed != one && !hangul(c) {
            add(one.clone());
            add(decomposed);
        }
        // A nonzero combining class: alone, after a base, and out of order with classes 230
        // (acute) and 220 (grave below) so the engine has to reorder.
        if canonical_combining_class(c) != 0 {
            add(one.clone());
            add(format!("a{c}"));
            add(format!("A{c}\u{301}\u{316}"));
            add(format!("e\u{316}{c}\u{301}"));
        }
        // Full case folding other than the character itself (then NFC, in the engine).
        if one.chars().default_case_fold().collect::<String>() != one {
            add(one.clone());
            add(format!("{one}\u{301}"));
        }
    }
    // Hangul: every jamo, some of every syllable kind composed and decomposed, and the
    // sequences that must not compose.
    for c in ('\u{1100}'..='\u{11ff}')
        .chain('\u{a960}'..='\u{a97f}')
        .chain('\u{d7b0}'..='\u{d7ff}')
    {
        add(c.to_string());
    }
    for (i, c) in ('\u{ac00}'..='\u{d7a3}').enumerate() {
        if i % 7 == 0 || i < 28 || c == '\u{d7a3}' {
            let mut decomposed = String::new();
            decompose_canonical(c, |d| decomposed.push(d));
            add(c.to_string());
            add(decomposed);
        }
    }
    for s in [
        "\u{1100}\u{1161}\u{11a8}",
        "\u{1112}\u{1175}\u{11c2}",
        "\u{ac00}\u{11a7}",
        "\u{ac00}\u{11c3}",
        "\u{ac01}\u{11a8}",
        "\u{1100}\u{1176}",
        "\u{1113}\u{1161}",
        "\u{1100}\u{301}\u{1161}",
        "\u{ac00}\u{11a8}\u{301}",
    ] {
        add(s.to_owned());
    }
    // Both sides of every boundary between General Categories (so the first and last of each
    // range and the values just outside it), and the ends of the scalar values.
    let mut previous: Option<char> = None;
    for c in scalars() {
        if let Some(p) = previous {
            if get_general_category(p) != get_general_category(c) || (c as u32) != (p as u32) + 1 {
                add(p.to_string());
                add(c.to_string());
            }
        }
        previous = Some(c);
    }
    add('\u{0}'.to_string());
    add('\u{10ffff}'.to_string());
    cases
}

/// One case's line: `[input, insensitive, sensitive, patterns]`, a spelling `null` where it is
/// the input itself, `patterns` "UA" (username and attribute name), "A" (attribute name only)
/// or "" (neither).
fn line(input: &str) -> String {
    let same = |s: String| (s != input).then_some(s);
    let insensitive = same(
        UserId::new(input, CaseRule::Insensitive)
            .as_str()
            .to_owned(),
    );
    let sensitive = same(UserId::new(input, CaseRule::Sensitive).as_str().to_owned());
    let patterns = match (
        Pattern::Username.is_match(input),
        Pattern::AttributeName.is_match(input),
    ) {
        (true, true) => "UA",
        (true, false) => "U",
        (false, true) => "A",
        (false, false) => "",
    };
    serde_json::to_string(&(input, insensitive, sensitive, patterns)).unwrap()
}

fn fixture() -> String {
    let lines: Vec<String> = cases().iter().map(|c| line(c)).collect();
    format!(
        "{{\n\"about\": \"Native answers (tests/unicode_fixture.rs): [input, case-insensitive spelling or null if the input, case-sensitive spelling or null, patterns matched: U username, A attribute name]. Regenerate: UPDATE_UNICODE_FIXTURE=1 cargo test --test unicode_fixture\",\n\"cases\": [\n{}\n]\n}}\n",
        lines.join(",\n")
    )
}

#[test]
fn the_unicode_fixture_holds_what_the_native_build_answers_now() {
    let now = fixture();
    if std::env::var_os("UPDATE_UNICODE_FIXTURE").is_some() {
        std::fs::write(FIXTURE, &now).unwrap();
    }
    let committed = std::fs::read_to_string(FIXTURE).unwrap_or_default();
    if committed != now {
        let differing = committed
            .lines()
            .zip(now.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("committed {a}\n      now {b}"))
            .unwrap_or_else(|| "a different number of cases".to_owned());
        panic!(
            "{FIXTURE} is not what the native build answers now (first difference:\n{differing}\n).\n\
             If the change is deliberate, regenerate it: \
             UPDATE_UNICODE_FIXTURE=1 cargo test --test unicode_fixture"
        );
    }
}

#[test]
fn the_fixture_covers_every_kind_of_case_it_promises() {
    let cases = cases();
    let has = |s: &str| cases.iter().any(|c| c == s);
    // A decomposition, a combining mark out of order, a case-folding special, Hangul both
    // ways, a category boundary on either side, attacker spellings.
    for s in [
        "\u{e9}",
        "e\u{301}",
        "A\u{323}\u{301}\u{316}",
        "\u{1e9e}",
        "\u{ac00}",
        "\u{1100}\u{1161}",
        "\u{377}",
        "\u{378}",
        "\u{ff21}\u{ff2c}\u{ff29}\u{ff23}\u{ff25}",
        "a\u{200d}b",
    ] {
        assert!(has(s), "{s:?} is not among the cases");
    }
    // The patterns say both yes and no, and spellings both keep and change their input.
    let lines: Vec<String> = cases.iter().take(2000).map(|c| line(c)).collect();
    assert!(lines.iter().any(|l| l.ends_with(",\"UA\"]")));
    assert!(lines.iter().any(|l| l.ends_with(",\"\"]")));
    assert!(lines.iter().any(|l| l.ends_with(",\"A\"]")));
    assert!(lines.iter().any(|l| l.contains(",null,null,")));
    assert!(lines.iter().any(|l| !l.contains(",null,")));
}
