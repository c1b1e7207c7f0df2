//! Conformance: the public suites in `shared/vectors/` (see `shared/vectors/README.md`) run
//! through every signature path edge-revoke ships.
//!
//! Three layers, each fed the suites it can run:
//! - the primitive layer, `RustCrypto.verify(key, message, signature)` with keys loaded by
//!   `parse_key`: the Wycheproof RS256, PS256, ES256 (P1363 and DER), Ed25519 and HMAC-SHA256
//!   files;
//! - the JWS layer, `UntrustedToken::parse` then `verify_signature` against a `KeySet`: the
//!   Wycheproof JWS and JWK files, RFC 7515 Appendix A, RFC 8037 A.4 and the JOSE cookbook;
//! - the JWT layer, `Claims::parse` on the payload of a verified token: none of those payloads
//!   is a Cognito claims set, so every case must end there in an error (never a panic).
//!
//! The backend is RustCrypto through `backend_cases::Recorded`, which can write every question
//! it answers to a file; the worker tier replays them through the WebCrypto backend the Worker
//! ships, in real workerd, and expects the same verdicts (`tests/worker/
//! webcrypto-conformance.test.mjs`).
//!
//! Every case gets a verdict. A case whose label we do not follow is listed below with its
//! reason (README errata, a label conflict found here, an algorithm we deliberately do not
//! ship, a key refused by policy), and each list's length is asserted, so it cannot grow
//! silently. Each test collects every unexpected verdict and fails once with all of them.

#[path = "support/backend_cases.rs"]
mod backend_cases;

use backend_cases::Recorded;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use edge_revoke::{
    claims::Claims,
    crypto::SignatureVerifier,
    error::TokenError,
    jwk::{parse_key, Alg, AlgSet, BadKeys, JwkError, KeySet, VerifyingKey},
    token::UntrustedToken,
};
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------------------------------
// Case counts: each suite must execute exactly this many cases (and the file must say so).

const WYCHEPROOF_JWS_CASES: usize = 401;
const WYCHEPROOF_JWK_CASES: usize = 26;
const RS256_CASES: usize = 259;
const PS256_CASES: usize = 108;
const ES256_P1363_CASES: usize = 262;
const ES256_DER_CASES: usize = 484;
const ED25519_CASES: usize = 151;
const HMAC_SHA256_CASES: usize = 174;
/// RFC 7515 A.1–A.5 and RFC 8037 A.4.
const RFC_EXAMPLES: usize = 6;
/// The cookbook's JWS, RFC 7797 and Ed25519 files.
const COOKBOOK_FILES: usize = 11;

// ---------------------------------------------------------------------------------------
// Cases whose label we do not follow. Each entry says why; each list's length is asserted.

/// `json_web_signature_test.json` labels that are wrong (`shared/vectors/README.md` §2.4),
/// with the verdict a correct verifier gives.
const JWS_README_ERRATA: &[(u64, Label, &str)] = &[
    (
        367,
        Label::Valid,
        "invalidBase64Padding is byte-identical to the valid tcId 357 (padding lost in generation)",
    ),
    (
        370,
        Label::Valid,
        "invalidBase64PaddingInPayload is byte-identical to the valid tcId 357",
    ),
    (
        372,
        Label::Invalid,
        "'?' inside the header segment; the MAC is over the unmodified input",
    ),
    (
        373,
        Label::Invalid,
        "'?' inside the payload segment; the MAC is over the unmodified input",
    ),
];

/// `json_web_signature_test.json` cases labelled `valid` whose key is bound to another
/// algorithm than the token's header names. Not in the README errata: found here. Wycheproof
/// added `alg: PS256` to the RFC 7520 key, but Figure 20 is a PS384 signature. The key's `alg`
/// wins (RFC 8725 §3.1; Wycheproof's own tcIds 331–340 expect exactly that), so a correct
/// verifier refuses them. The suite also checks that the signature verifies once the key is
/// bound to PS384, so this is a labelling conflict and not a bad signature.
const JWS_KEY_ALG_CONFLICTS: &[(u64, &str)] = &[
    (
        346,
        "RFC 7520 Figure 20 is PS384, the group's key says alg PS256",
    ),
    (
        350,
        "RFC 7520 Figure 20 is PS384, the group's key (with key_ops) says alg PS256",
    ),
];

/// `json_web_signature_test.json` cases that need an algorithm we deliberately do not ship.
/// They must be refused as an unsupported key or algorithm, not for any other reason.
const JWS_UNSUPPORTED: &[(u64, &str)] = &[
    (
        347,
        "RFC 7520 Figure 27: ES512 with a P-521 key (JWK alg \"ES521\"); P-521 is not supported",
    ),
    (
        351,
        "RFC 7520 Figure 27 again, key with key_ops; P-521 is not supported",
    ),
];

/// `json_web_key_test.json` cases labelled `valid` that need an algorithm we deliberately do
/// not ship. They must be refused at key load as an unsupported algorithm.
const JWK_UNSUPPORTED: &[(u64, &str)] = &[
    (14, "HS384 key (long_hs384_key): only HS256 is supported"),
    (15, "HS512 key (long_hs512_key): only HS256 is supported"),
];

/// `json_web_signature_test.json` invalid cases whose refusal must come from a specific check,
/// not just any failure (README §2.3; `jwt-threats.md` rows 2, 3, 5).
fn jws_required_refusal(tc_id: u64, pool: Pool, verdict: &Verdict) -> Option<bool> {
    let refused = |wanted: fn(&TokenError) -> bool| match verdict {
        Verdict::TokenRefused(error) => wanted(error),
        _ => false,
    };
    Some(match tc_id {
        // Keys marked for encryption are refused when loaded, whatever the pool allows.
        353 | 354 => matches!(verdict, Verdict::KeyRefused(JwkError::NotForSignatures)),
        355 | 356 => matches!(verdict, Verdict::KeyRefused(JwkError::KeyOpsExcludeVerify)),
        // A header-embedded key is never used.
        32 => refused(|e| matches!(e, TokenError::ForbiddenHeader("jwk"))),
        // The header names another algorithm than the key is bound to (HS256 on the EC key;
        // RS256/384/512, PS256/384 on the PS512 key). With the key's alg as the only allowed
        // one the allow-list refuses; with every alg allowed the key's binding must.
        31 | 332 | 334 | 336 | 338 | 340 => match pool {
            Pool::BoundAlgorithms => refused(|e| matches!(e, TokenError::AlgorithmNotAllowed)),
            Pool::EveryAlgorithm => refused(|e| matches!(e, TokenError::KeyAlgorithmMismatch)),
        },
        _ => return None,
    })
}

/// Cases where the crate gives a wrong verdict, kept visible while a fix lands:
/// `(suite, tcId, diagnosis)`. A listed case that stops failing fails the suite (stale entry).
const KNOWN_DEFECTS: &[(&str, u64, &str)] = &[];

// ---------------------------------------------------------------------------------------
// Loading

fn vectors_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors")
}

fn load(relative: &str) -> Value {
    let path = vectors_root().join(relative);
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn object(value: &Value) -> &Map<String, Value> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("expected a JSON object, got {value}"))
}

fn text<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("missing string `{name}` in {value}"))
}

fn hex_member(value: &Value, name: &str) -> Vec<u8> {
    hex::decode(text(value, name)).unwrap_or_else(|err| panic!("`{name}` is not hex: {err}"))
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A Wycheproof label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    Valid,
    Invalid,
    Acceptable,
}

/// One Wycheproof test.
struct Case<'a> {
    tc_id: u64,
    comment: &'a str,
    label: Label,
    test: &'a Value,
}

fn groups(file: &Value) -> &[Value] {
    file["testGroups"].as_array().expect("testGroups")
}

fn cases(group: &Value) -> impl Iterator<Item = Case<'_>> {
    group["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .map(|test| Case {
            tc_id: test["tcId"].as_u64().expect("tcId"),
            comment: test["comment"].as_str().unwrap_or(""),
            label: match text(test, "result") {
                "valid" => Label::Valid,
                "invalid" => Label::Invalid,
                "acceptable" => Label::Acceptable,
                other => panic!("unknown result {other:?}"),
            },
            test,
        })
}

fn number_of_tests(file: &Value) -> usize {
    file["numberOfTests"].as_u64().expect("numberOfTests") as usize
}

// ---------------------------------------------------------------------------------------
// Keys

/// Members only a private JWK has (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

/// The verification key for a JWK the suites give. An asymmetric private JWK loses its private
/// members first: a public key set must not carry them, and `parse_key` rightly refuses one
/// that does (`PrivateMaterial`), so loading the private JWK as given would test nothing. An
/// `oct` JWK is its own verification key and stays whole.
fn verification_jwk(jwk: &Value) -> Map<String, Value> {
    let mut jwk = object(jwk).clone();
    if jwk.get("kty").and_then(Value::as_str) != Some("oct") {
        for member in PRIVATE_MEMBERS {
            jwk.remove(member);
        }
    }
    jwk
}

/// The one algorithm this product would configure for a key type, for JWKs without `alg`.
fn default_alg(jwk: &Map<String, Value>) -> Option<Alg> {
    match jwk.get("kty").and_then(Value::as_str)? {
        "RSA" => Some(Alg::Rs256),
        "EC" => Some(Alg::Es256),
        "OKP" => Some(Alg::EdDsa),
        "oct" => Some(Alg::Hs256),
        _ => None,
    }
}

/// A pool's allow-list for a set of JWKs: the algorithm each key is bound to, its own `alg`
/// when we implement it, else the default for its type. An `alg` we do not implement adds
/// nothing; `parse_key` then refuses that key as unsupported.
fn bound_algorithms(jwks: &[Map<String, Value>]) -> AlgSet {
    let mut allowed = AlgSet::empty();
    for jwk in jwks {
        let alg = match jwk.get("alg").and_then(Value::as_str) {
            Some(name) => Alg::from_name(name),
            None => default_alg(jwk),
        };
        if let Some(alg) = alg {
            allowed.insert(alg);
        }
    }
    allowed
}

fn every_algorithm() -> AlgSet {
    let mut all = AlgSet::empty();
    for alg in Alg::ALL {
        all.insert(alg);
    }
    all
}

/// Loads a configured key set (`BadKeys::Refuse`). `KeySet::parse` reports a refused key as
/// `WeakOrInvalid("keys[i]: …")`; the typed error comes from `parse_key`, so that exclusions
/// can assert *why* a key was refused.
fn load_key_set(jwks: &[Map<String, Value>], allowed: AlgSet) -> Result<KeySet, JwkError> {
    let document = json!({ "keys": jwks });
    let loaded = KeySet::parse(&document, allowed, BadKeys::Refuse, &mut Vec::new());
    let key_error = jwks.iter().find_map(|jwk| parse_key(jwk, allowed).err());
    match (loaded, key_error) {
        (Ok(set), None) => Ok(set),
        (Err(_), Some(key_error)) => Err(key_error),
        (Err(set_error), None) => Err(set_error),
        (Ok(_), Some(key_error)) => panic!(
            "KeySet::parse(BadKeys::Refuse) loaded a set with a key parse_key refuses: {key_error:?}"
        ),
    }
}

fn is_unsupported_key_or_alg(error: &JwkError) -> bool {
    matches!(
        error,
        JwkError::UnsupportedKeyType(_) | JwkError::UnsupportedAlgorithm(_)
    )
}

/// Big-endian unsigned bytes without leading zeros (RSA `n`/`e` in a JWK, RFC 7518 §6.3.1).
fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// A P-256 coordinate as exactly 32 bytes (RFC 7518 §6.2.1.2).
fn coordinate(bytes: &[u8]) -> Vec<u8> {
    let significant = unsigned(bytes);
    assert!(significant.len() <= 32, "coordinate longer than 32 bytes");
    let mut out = vec![0; 32 - significant.len()];
    out.extend_from_slice(significant);
    out
}

/// The RSA JWK for a Wycheproof `publicKey{modulus, publicExponent}`.
fn rsa_jwk(public_key: &Value) -> Map<String, Value> {
    let n = hex_member(public_key, "modulus");
    let e = hex_member(public_key, "publicExponent");
    let jwk = json!({"kty": "RSA", "n": b64url(unsigned(&n)), "e": b64url(unsigned(&e))});
    object(&jwk).clone()
}

/// The P-256 JWK for a Wycheproof `publicKey{wx, wy}`.
fn p256_jwk(public_key: &Value) -> Map<String, Value> {
    assert_eq!(text(public_key, "curve"), "secp256r1");
    let x = coordinate(&hex_member(public_key, "wx"));
    let y = coordinate(&hex_member(public_key, "wy"));
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64url(&x), "y": b64url(&y)});
    object(&jwk).clone()
}

/// Checks that the JWK the file gives and the one built from its raw fields agree on `members`.
fn same_key(
    suite: &mut Suite,
    group: &str,
    given: &Map<String, Value>,
    built: &Map<String, Value>,
    members: &[&str],
) {
    for member in members {
        if given.get(*member) != built.get(*member) {
            suite.mismatch(
                0,
                group,
                format!("the group's JWK and its raw key agree on `{member}`"),
                format!("{:?} vs {:?}", given.get(*member), built.get(*member)),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Verdicts and bookkeeping

/// What the JWS layer made of a case.
#[derive(Debug)]
enum Verdict {
    Accepted,
    KeyRefused(JwkError),
    TokenRefused(TokenError),
}

impl Verdict {
    fn accepted(&self) -> bool {
        matches!(self, Verdict::Accepted)
    }
}

/// Runs `jws` through the JWS layer. Returns the verdict and, if the token parsed, its payload.
fn verify_jws(
    keys: &Result<KeySet, JwkError>,
    allowed: AlgSet,
    jws: &str,
) -> (Verdict, Option<Vec<u8>>) {
    let keys = match keys {
        Ok(keys) => keys,
        Err(error) => return (Verdict::KeyRefused(error.clone()), None),
    };
    let token = match UntrustedToken::parse(jws) {
        Ok(token) => token,
        Err(error) => return (Verdict::TokenRefused(error), None),
    };
    let verdict = match token.verify_signature(keys, allowed, &Recorded) {
        Ok(_) => Verdict::Accepted,
        Err(error) => Verdict::TokenRefused(error),
    };
    (verdict, Some(token.payload().to_vec()))
}

#[derive(Debug)]
#[allow(dead_code)] // Read through Debug in the failure message.
struct Mismatch {
    suite: &'static str,
    tc_id: u64,
    comment: String,
    expected: String,
    got: String,
}

#[derive(Debug, Default)]
struct Tally {
    executed: usize,
    valid_accepted: usize,
    invalid_refused: usize,
    acceptable_accepted: usize,
    acceptable_refused: usize,
    /// Cases judged under a corrected label, by reason.
    relabelled: BTreeMap<&'static str, usize>,
    /// Cases that must be refused whatever their label, by reason, and were.
    excluded: BTreeMap<&'static str, usize>,
    known_defects: usize,
}

/// One suite's tally and unexpected verdicts.
struct Suite {
    name: &'static str,
    tally: Tally,
    mismatches: Vec<Mismatch>,
    defects_seen: Vec<u64>,
}

impl Suite {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            tally: Tally::default(),
            mismatches: Vec::new(),
            defects_seen: Vec::new(),
        }
    }

    /// A case judged by a label: valid must be accepted, invalid refused, acceptable either.
    fn judge(&mut self, tc_id: u64, comment: &str, label: Label, accepted: bool, got: &dyn Debug) {
        self.tally.executed += 1;
        match (label, accepted) {
            (Label::Valid, true) => self.tally.valid_accepted += 1,
            (Label::Invalid, false) => self.tally.invalid_refused += 1,
            (Label::Acceptable, true) => self.tally.acceptable_accepted += 1,
            (Label::Acceptable, false) => self.tally.acceptable_refused += 1,
            (Label::Valid, false) => self.mismatch(tc_id, comment, "accepted", format!("{got:?}")),
            (Label::Invalid, true) => self.mismatch(tc_id, comment, "refused", format!("{got:?}")),
        }
    }

    /// [`Suite::judge`] under a corrected label, counted under `reason`.
    fn judge_relabelled(
        &mut self,
        tc_id: u64,
        comment: &str,
        label: Label,
        reason: &'static str,
        accepted: bool,
        got: &dyn Debug,
    ) {
        *self.tally.relabelled.entry(reason).or_default() += 1;
        self.judge(tc_id, comment, label, accepted, got);
    }

    /// A case that must be refused for `reason`, whatever its label; `refused_rightly` says
    /// whether it was refused, and for that reason.
    fn refuse(
        &mut self,
        tc_id: u64,
        comment: &str,
        reason: &'static str,
        refused_rightly: bool,
        got: &dyn Debug,
    ) {
        self.tally.executed += 1;
        if refused_rightly {
            *self.tally.excluded.entry(reason).or_default() += 1;
        } else {
            self.mismatch(
                tc_id,
                comment,
                format!("refused: {reason}"),
                format!("{got:?}"),
            );
        }
    }

    fn mismatch(&mut self, tc_id: u64, comment: &str, expected: impl Into<String>, got: String) {
        let known = KNOWN_DEFECTS
            .iter()
            .find(|(suite, id, _)| *suite == self.name && *id == tc_id);
        if let Some((_, _, diagnosis)) = known {
            eprintln!(
                "{} tcId {tc_id}: KNOWN DEFECT ({diagnosis}); got {got}",
                self.name
            );
            // One case can fail more than one check; it is one known defect.
            if !self.defects_seen.contains(&tc_id) {
                self.tally.known_defects += 1;
                self.defects_seen.push(tc_id);
            }
            return;
        }
        self.mismatches.push(Mismatch {
            suite: self.name,
            tc_id,
            comment: comment.to_owned(),
            expected: expected.into(),
            got,
        });
    }

    /// Prints the tally and fails on any unexpected verdict, a stale known defect, a case
    /// not accounted for, or a case count other than `expected_cases`.
    fn finish(mut self, expected_cases: usize) -> Tally {
        for (suite, tc_id, diagnosis) in KNOWN_DEFECTS {
            if *suite == self.name && !self.defects_seen.contains(tc_id) {
                self.mismatches.push(Mismatch {
                    suite: self.name,
                    tc_id: *tc_id,
                    comment: format!("stale KNOWN_DEFECTS entry: {diagnosis}"),
                    expected: "the defect to still show".into(),
                    got: "the expected verdict".into(),
                });
            }
        }
        let t = &self.tally;
        eprintln!(
            "{}: executed {}; valid accepted {}; invalid refused {}; acceptable accepted {} / refused {}; \
             relabelled {:?}; refused whatever the label {:?}; known defects {}",
            self.name,
            t.executed,
            t.valid_accepted,
            t.invalid_refused,
            t.acceptable_accepted,
            t.acceptable_refused,
            t.relabelled,
            t.excluded,
            t.known_defects,
        );
        let mismatches = &self.mismatches;
        assert!(mismatches.is_empty(), "{mismatches:#?}");
        let accounted = t.valid_accepted
            + t.invalid_refused
            + t.acceptable_accepted
            + t.acceptable_refused
            + t.excluded.values().sum::<usize>()
            + t.known_defects;
        assert_eq!(
            accounted, t.executed,
            "{}: every case has one verdict",
            self.name
        );
        assert!(
            t.executed >= expected_cases,
            "{}: only {} cases ran, expected {expected_cases}",
            self.name,
            t.executed
        );
        assert_eq!(t.executed, expected_cases, "{}: case count", self.name);
        self.tally
    }
}

fn list_count(list_len: usize, applied: usize, what: &str) {
    assert_eq!(
        applied, list_len,
        "{what}: every listed case applied exactly once"
    );
}

// ---------------------------------------------------------------------------------------
// Wycheproof JWS end to end

/// Which allow-list the pool of a Wycheproof group has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pool {
    /// The algorithm(s) the group's key is bound to.
    BoundAlgorithms,
    /// Every algorithm we implement: the key's own binding must still decide.
    EveryAlgorithm,
}

/// What a JWS case must give, after errata and exclusions; each carries its list entry's reason.
enum JwsExpectation {
    Label(Label),
    /// Judged under the corrected label of a README erratum.
    Relabelled(Label, &'static str),
    /// Refused by the key/algorithm binding: a key alg conflict found here.
    KeyAlgConflict(&'static str),
    /// Refused as an unsupported key or algorithm.
    Unsupported(&'static str),
}

fn jws_expectation(case: &Case<'_>) -> JwsExpectation {
    if let Some((_, label, why)) = JWS_README_ERRATA.iter().find(|e| e.0 == case.tc_id) {
        return JwsExpectation::Relabelled(*label, why);
    }
    if let Some((_, why)) = JWS_KEY_ALG_CONFLICTS.iter().find(|e| e.0 == case.tc_id) {
        return JwsExpectation::KeyAlgConflict(why);
    }
    if let Some((_, why)) = JWS_UNSUPPORTED.iter().find(|e| e.0 == case.tc_id) {
        return JwsExpectation::Unsupported(why);
    }
    JwsExpectation::Label(case.label)
}

struct GroupLine {
    index: usize,
    comment: String,
    cases: usize,
    accepted: usize,
    refused: usize,
    /// Cases relabelled or refused whatever their label (the lists above).
    special: usize,
}

struct JwsRun {
    tally: Tally,
    groups: Vec<GroupLine>,
    /// Tokens that parsed, and how many of them the claims layer refused.
    parsed: usize,
    claims_refused: usize,
    /// Tokens the JWS layer accepted (all must fail at the claims layer).
    signature_valid: usize,
}

fn run_wycheproof_jws(pool: Pool, name: &'static str) -> JwsRun {
    let file = load("wycheproof/json_web_signature_test.json");
    assert_eq!(number_of_tests(&file), WYCHEPROOF_JWS_CASES);
    let mut suite = Suite::new(name);
    let mut lines = Vec::new();
    let (mut parsed, mut claims_refused, mut signature_valid) = (0, 0, 0);
    let mut jws_by_tc_id = BTreeMap::new();
    for group in groups(&file) {
        for case in cases(group) {
            jws_by_tc_id.insert(case.tc_id, text(case.test, "jws"));
        }
    }

    for (index, group) in groups(&file).iter().enumerate() {
        let jwk = verification_jwk(group.get("public").unwrap_or(&group["private"]));
        let allowed = match pool {
            Pool::BoundAlgorithms => bound_algorithms(std::slice::from_ref(&jwk)),
            Pool::EveryAlgorithm => every_algorithm(),
        };
        let keys = load_key_set(std::slice::from_ref(&jwk), allowed);
        let mut line = GroupLine {
            index,
            comment: group["comment"].as_str().unwrap_or("").to_owned(),
            cases: 0,
            accepted: 0,
            refused: 0,
            special: 0,
        };

        for case in cases(group) {
            let jws = text(case.test, "jws");
            let (verdict, payload) = verify_jws(&keys, allowed, jws);
            line.cases += 1;
            if verdict.accepted() {
                line.accepted += 1;
                signature_valid += 1;
            } else {
                line.refused += 1;
            }
            // The JWT layer: no Wycheproof payload is a claims set, signed or not.
            if let Some(payload) = payload {
                parsed += 1;
                match Claims::parse(&payload) {
                    Err(_) => claims_refused += 1,
                    Ok(claims) => suite.mismatch(
                        case.tc_id,
                        case.comment,
                        "the claims layer refuses a non-claims payload",
                        format!("{claims:?}"),
                    ),
                }
            }

            let accepted = verdict.accepted();
            match jws_expectation(&case) {
                JwsExpectation::Label(label) => {
                    suite.judge(case.tc_id, case.comment, label, accepted, &verdict);
                    if jws_required_refusal(case.tc_id, pool, &verdict) == Some(false) {
                        suite.mismatch(
                            case.tc_id,
                            case.comment,
                            "refused by the check this case targets",
                            format!("{verdict:?}"),
                        );
                    }
                }
                JwsExpectation::Relabelled(label, why) => {
                    line.special += 1;
                    eprintln!(
                        "{name} tcId {}: judged {label:?} ({why}): {verdict:?}",
                        case.tc_id
                    );
                    suite.judge_relabelled(
                        case.tc_id,
                        case.comment,
                        label,
                        "README §2.4 errata",
                        accepted,
                        &verdict,
                    );
                    // The erratum must still describe the data, or the relabelling is stale.
                    let still_true = match case.tc_id {
                        367 | 370 => Some(jws) == jws_by_tc_id.get(&357).copied(),
                        372 => jws.split('.').next().is_some_and(|h| h.contains('?')),
                        373 => jws.split('.').nth(1).is_some_and(|p| p.contains('?')),
                        _ => false,
                    };
                    if !still_true {
                        suite.mismatch(
                            case.tc_id,
                            case.comment,
                            "README erratum still matches the data",
                            jws.to_owned(),
                        );
                    }
                }
                JwsExpectation::KeyAlgConflict(why) => {
                    line.special += 1;
                    eprintln!(
                        "{name} tcId {}: must be refused ({why}): {verdict:?}",
                        case.tc_id
                    );
                    let rightly = matches!(
                        verdict,
                        Verdict::TokenRefused(
                            TokenError::AlgorithmNotAllowed | TokenError::KeyAlgorithmMismatch
                        )
                    );
                    suite.refuse(
                        case.tc_id,
                        case.comment,
                        "key alg conflicts with the token's alg (found here)",
                        rightly,
                        &verdict,
                    );
                    // Diagnosis check: bound to the header's algorithm, the key verifies it.
                    let header_alg = UntrustedToken::parse(jws)
                        .ok()
                        .and_then(|t| Alg::from_name(t.header().alg()));
                    let rebound = header_alg.map(|alg| {
                        let mut jwk = jwk.clone();
                        jwk.insert("alg".into(), Value::from(alg.name()));
                        let allowed = AlgSet::only(alg);
                        verify_jws(&load_key_set(&[jwk], allowed), allowed, jws).0
                    });
                    if !matches!(rebound, Some(Verdict::Accepted)) {
                        suite.mismatch(
                            case.tc_id,
                            case.comment,
                            "accepted once the key is bound to the header's alg",
                            format!("{rebound:?}"),
                        );
                    }
                }
                JwsExpectation::Unsupported(why) => {
                    line.special += 1;
                    eprintln!(
                        "{name} tcId {}: must be refused ({why}): {verdict:?}",
                        case.tc_id
                    );
                    let rightly = match &verdict {
                        Verdict::KeyRefused(error) => is_unsupported_key_or_alg(error),
                        Verdict::TokenRefused(error) => {
                            matches!(error, TokenError::AlgorithmNotAllowed)
                        }
                        Verdict::Accepted => false,
                    };
                    suite.refuse(
                        case.tc_id,
                        case.comment,
                        "unsupported algorithm (ES512/P-521)",
                        rightly,
                        &verdict,
                    );
                }
            }
        }
        lines.push(line);
    }

    let tally = suite.finish(WYCHEPROOF_JWS_CASES);
    JwsRun {
        tally,
        groups: lines,
        parsed,
        claims_refused,
        signature_valid,
    }
}

fn check_jws_lists(run: &JwsRun) {
    assert_eq!(
        JWS_README_ERRATA.len(),
        4,
        "README §2.4 lists four JWS errata"
    );
    assert_eq!(JWS_KEY_ALG_CONFLICTS.len(), 2);
    assert_eq!(JWS_UNSUPPORTED.len(), 2);
    list_count(
        JWS_README_ERRATA.len(),
        run.tally.relabelled.values().sum(),
        "JWS_README_ERRATA",
    );
    list_count(
        JWS_KEY_ALG_CONFLICTS.len() + JWS_UNSUPPORTED.len(),
        run.tally.excluded.values().sum(),
        "JWS_KEY_ALG_CONFLICTS + JWS_UNSUPPORTED",
    );
}

#[test]
fn every_wycheproof_jws_case_gets_its_expected_verdict() {
    let run = run_wycheproof_jws(Pool::BoundAlgorithms, "wycheproof JWS");
    check_jws_lists(&run);
    eprintln!("group  comment                 cases accepted refused listed");
    for line in &run.groups {
        eprintln!(
            "{:>5}  {:<22} {:>5} {:>8} {:>7} {:>6}",
            line.index, line.comment, line.cases, line.accepted, line.refused, line.special
        );
    }
    assert_eq!(run.groups.len(), 23, "the file has 23 groups");
    assert_eq!(
        run.groups.iter().map(|g| g.cases).sum::<usize>(),
        WYCHEPROOF_JWS_CASES
    );
    assert_eq!(
        run.groups.iter().map(|g| g.accepted).sum::<usize>(),
        run.signature_valid
    );
}

#[test]
fn wycheproof_jws_verdicts_hold_when_the_pool_allows_every_algorithm() {
    // The key's binding, not the pool's allow-list, must refuse a token whose alg differs
    // from its key's (tcIds 31, 331–340): this pass reaches `KeyAlgorithmMismatch`.
    let run = run_wycheproof_jws(Pool::EveryAlgorithm, "wycheproof JWS, every alg allowed");
    check_jws_lists(&run);
}

#[test]
fn no_wycheproof_jws_payload_passes_the_claims_layer_even_when_signed() {
    let run = run_wycheproof_jws(Pool::BoundAlgorithms, "wycheproof JWS, claims layer");
    eprintln!(
        "claims layer: {} tokens parsed, {} refused by Claims::parse; {} had a valid signature",
        run.parsed, run.claims_refused, run.signature_valid
    );
    assert_eq!(run.claims_refused, run.parsed);
    // 46 cases are labelled valid; minus 346, 347, 350, 351 (refused) and 372, 373
    // (relabelled invalid), plus 367 and 370 (relabelled valid): 42 signatures verify.
    assert_eq!(run.signature_valid, 42);
    assert_eq!(run.signature_valid, run.tally.valid_accepted);
    assert!(run.parsed >= 340, "{} parsed", run.parsed);
}

// ---------------------------------------------------------------------------------------
// Wycheproof JWK sets

#[test]
fn every_wycheproof_jwk_case_gets_its_expected_verdict() {
    let file = load("wycheproof/json_web_key_test.json");
    assert_eq!(number_of_tests(&file), WYCHEPROOF_JWK_CASES);
    assert_eq!(JWK_UNSUPPORTED.len(), 2);
    let mut suite = Suite::new("wycheproof JWK");
    for group in groups(&file) {
        let set = group.get("public").unwrap_or(&group["private"]);
        let jwks: Vec<_> = set["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(verification_jwk)
            .collect();
        let allowed = bound_algorithms(&jwks);
        let keys = load_key_set(&jwks, allowed);
        for case in cases(group) {
            let (verdict, _) = verify_jws(&keys, allowed, text(case.test, "jws"));
            eprintln!(
                "JWK tcId {:>2} {:<8} {:<40} -> {verdict:?}",
                case.tc_id,
                format!("{:?}", case.label),
                case.comment
            );
            if let Some((_, why)) = JWK_UNSUPPORTED.iter().find(|e| e.0 == case.tc_id) {
                eprintln!("JWK tcId {}: must be refused ({why})", case.tc_id);
                let rightly =
                    matches!(&verdict, Verdict::KeyRefused(e) if is_unsupported_key_or_alg(e));
                suite.refuse(
                    case.tc_id,
                    case.comment,
                    "unsupported algorithm (HS384/HS512)",
                    rightly,
                    &verdict,
                );
            } else {
                suite.judge(
                    case.tc_id,
                    case.comment,
                    case.label,
                    verdict.accepted(),
                    &verdict,
                );
            }
        }
    }
    let tally = suite.finish(WYCHEPROOF_JWK_CASES);
    list_count(
        JWK_UNSUPPORTED.len(),
        tally.excluded.values().sum(),
        "JWK_UNSUPPORTED",
    );
}

// ---------------------------------------------------------------------------------------
// Wycheproof primitive suites through `RustCrypto.verify` (recorded: `backend_cases`)

fn load_primitive_key(
    suite: &mut Suite,
    group_name: &str,
    jwk: &Map<String, Value>,
    alg: Alg,
) -> Option<VerifyingKey> {
    match parse_key(jwk, AlgSet::only(alg)) {
        Ok(key) if key.alg() == alg => Some(key),
        other => {
            suite.mismatch(
                0,
                group_name,
                format!("the group's key loads as {alg}"),
                format!("{other:?}"),
            );
            None
        }
    }
}

/// Runs every case of a group as `msg`/`sig` through `key`, judged by its label.
fn judge_group(suite: &mut Suite, group: &Value, key: Option<&VerifyingKey>) {
    for case in cases(group) {
        let Some(key) = key else {
            suite.mismatch(case.tc_id, case.comment, "a loaded key", "none".into());
            suite.tally.executed += 1;
            continue;
        };
        let ok = Recorded.verify(
            key,
            &hex_member(case.test, "msg"),
            &hex_member(case.test, "sig"),
        );
        suite.judge(case.tc_id, case.comment, case.label, ok, &ok);
    }
}

#[test]
fn every_wycheproof_rs256_case_gets_its_expected_verdict() {
    let file = load("wycheproof/rsa_signature_2048_sha256_test.json");
    assert_eq!(number_of_tests(&file), RS256_CASES);
    let mut suite = Suite::new("wycheproof RS256");
    for (index, group) in groups(&file).iter().enumerate() {
        assert_eq!(text(group, "sha"), "SHA-256");
        let name = format!("group {index}");
        // The group gives `keyJwk`; it must be the same key as `publicKey{modulus, publicExponent}`.
        let jwk = object(&group["keyJwk"]).clone();
        same_key(
            &mut suite,
            &name,
            &jwk,
            &rsa_jwk(&group["publicKey"]),
            &["n", "e"],
        );
        let key = load_primitive_key(&mut suite, &name, &jwk, Alg::Rs256);
        judge_group(&mut suite, group, key.as_ref());
    }
    let tally = suite.finish(RS256_CASES);
    // tcId 8 (MissingNull) is the one acceptable case; a strict verifier refuses it.
    assert_eq!(tally.acceptable_accepted + tally.acceptable_refused, 1);
}

#[test]
fn every_wycheproof_ps256_case_gets_its_expected_verdict() {
    let file = load("wycheproof/rsa_pss_2048_sha256_mgf1_32_test.json");
    assert_eq!(number_of_tests(&file), PS256_CASES);
    let mut suite = Suite::new("wycheproof PS256");
    let mut other_groups = 0;
    for (index, group) in groups(&file).iter().enumerate() {
        let name = format!("group {index}");
        let is_ps256 = text(group, "sha") == "SHA-256"
            && text(group, "mgf") == "MGF1"
            && text(group, "mgfSha") == "SHA-256"
            && group["sLen"].as_u64() == Some(32);
        let mut jwk = object(&group["publicKeyJwk"]).clone();
        same_key(
            &mut suite,
            &name,
            &jwk,
            &rsa_jwk(&group["publicKey"]),
            &["n", "e"],
        );
        if is_ps256 {
            let key = load_primitive_key(&mut suite, &name, &jwk, Alg::Ps256);
            judge_group(&mut suite, group, key.as_ref());
        } else {
            // Other hash, MGF hash or salt length: not PS256, so nothing in the group may
            // verify as PS256, whatever its label. The key is bound to PS256 by force.
            other_groups += 1;
            jwk.remove("alg");
            let Some(key) = load_primitive_key(&mut suite, &name, &jwk, Alg::Ps256) else {
                continue;
            };
            for case in cases(group) {
                let ok = Recorded.verify(
                    &key,
                    &hex_member(case.test, "msg"),
                    &hex_member(case.test, "sig"),
                );
                suite.refuse(
                    case.tc_id,
                    case.comment,
                    "group parameters are not PS256",
                    !ok,
                    &ok,
                );
            }
        }
    }
    eprintln!("PS256: {other_groups} groups with other PSS parameters");
    suite.finish(PS256_CASES);
}

#[test]
fn every_wycheproof_es256_p1363_case_gets_its_expected_verdict() {
    let file = load("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json");
    assert_eq!(number_of_tests(&file), ES256_P1363_CASES);
    let mut suite = Suite::new("wycheproof ES256 (P1363)");
    let mut built_only = 0;
    for (index, group) in groups(&file).iter().enumerate() {
        assert_eq!(text(group, "sha"), "SHA-256");
        let name = format!("group {index}");
        // 9 groups give no JWK; every group's key is built from `wx`/`wy` and, where the file
        // has `publicKeyJwk`, checked against it.
        let jwk = p256_jwk(&group["publicKey"]);
        match group.get("publicKeyJwk") {
            Some(given) => same_key(&mut suite, &name, object(given), &jwk, &["crv", "x", "y"]),
            None => built_only += 1,
        }
        let key = load_primitive_key(&mut suite, &name, &jwk, Alg::Es256);
        judge_group(&mut suite, group, key.as_ref());
    }
    eprintln!("ES256 (P1363): {built_only} groups without publicKeyJwk, key built from wx/wy");
    assert!(built_only > 0, "the builder was exercised");
    suite.finish(ES256_P1363_CASES);
}

#[test]
fn no_der_encoded_ecdsa_signature_verifies_as_es256() {
    // RFC 7518 §3.4: an ES256 signature is the 64-octet R‖S; "if it is not a 64-octet
    // sequence, the validation has failed". So every DER signature fails, valid or not.
    let file = load("wycheproof/ecdsa_secp256r1_sha256_test.json");
    assert_eq!(number_of_tests(&file), ES256_DER_CASES);
    let mut suite = Suite::new("wycheproof ES256 (DER)");
    let mut labelled_valid = 0;
    for (index, group) in groups(&file).iter().enumerate() {
        let name = format!("group {index}");
        let jwk = p256_jwk(&group["publicKey"]);
        let Some(key) = load_primitive_key(&mut suite, &name, &jwk, Alg::Es256) else {
            continue;
        };
        for case in cases(group) {
            labelled_valid += usize::from(case.label == Label::Valid);
            let ok = Recorded.verify(
                &key,
                &hex_member(case.test, "msg"),
                &hex_member(case.test, "sig"),
            );
            suite.refuse(
                case.tc_id,
                case.comment,
                "DER is not the JWS ES256 encoding",
                !ok,
                &ok,
            );
        }
    }
    eprintln!("ES256 (DER): {labelled_valid} of the refused signatures are labelled valid as DER");
    assert!(labelled_valid >= 170, "valid DER signatures were tried");
    suite.finish(ES256_DER_CASES);
}

#[test]
fn every_wycheproof_ed25519_case_gets_its_expected_verdict() {
    let file = load("wycheproof/ed25519_test.json");
    assert_eq!(number_of_tests(&file), ED25519_CASES);
    let mut suite = Suite::new("wycheproof Ed25519");
    for (index, group) in groups(&file).iter().enumerate() {
        let name = format!("group {index}");
        let jwk = object(&group["publicKeyJwk"]).clone();
        let built = json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(&hex_member(&group["publicKey"], "pk"))});
        same_key(
            &mut suite,
            &name,
            &jwk,
            object(&built),
            &["kty", "crv", "x"],
        );
        let key = load_primitive_key(&mut suite, &name, &jwk, Alg::EdDsa);
        judge_group(&mut suite, group, key.as_ref());
    }
    suite.finish(ED25519_CASES);
}

#[test]
fn every_wycheproof_hmac_sha256_case_gets_its_expected_verdict() {
    let file = load("wycheproof/hmac_sha256_test.json");
    assert_eq!(number_of_tests(&file), HMAC_SHA256_CASES);
    let mut suite = Suite::new("wycheproof HMAC-SHA256");
    for group in groups(&file) {
        let tag_bits = group["tagSize"].as_u64().expect("tagSize");
        for case in cases(group) {
            let secret = hex_member(case.test, "key");
            let jwk = json!({"kty": "oct", "alg": "HS256", "k": b64url(&secret)});
            let loaded = parse_key(object(&jwk), AlgSet::only(Alg::Hs256));
            let msg = hex_member(case.test, "msg");
            let tag = hex_member(case.test, "tag");
            if secret.len() < 32 {
                // RFC 7518 §3.2: an HS256 key is at least 32 bytes. Our policy refuses a
                // shorter one when it is loaded, so these (valid as HMAC) cases never reach
                // a verify call.
                let rightly = matches!(loaded, Err(JwkError::WeakOrInvalid(_)));
                suite.refuse(
                    case.tc_id,
                    case.comment,
                    "HMAC key shorter than 32 bytes, refused at key load",
                    rightly,
                    &loaded,
                );
                continue;
            }
            let key = match loaded {
                Ok(key) => key,
                Err(error) => {
                    suite.tally.executed += 1;
                    suite.mismatch(
                        case.tc_id,
                        case.comment,
                        "the key loads",
                        format!("{error:?}"),
                    );
                    continue;
                }
            };
            let ok = Recorded.verify(&key, &msg, &tag);
            if tag_bits == 256 {
                suite.judge(case.tc_id, case.comment, case.label, ok, &ok);
            } else {
                // A truncated tag is an HMAC-SHA256-128 tag, never an HS256 one.
                suite.refuse(
                    case.tc_id,
                    case.comment,
                    "truncated 128-bit tag is not HS256",
                    !ok,
                    &ok,
                );
            }
        }
    }
    suite.finish(HMAC_SHA256_CASES);
}

// ---------------------------------------------------------------------------------------
// RFC 7515 Appendix A and RFC 8037 A.4

enum Example {
    /// Verifies at the JWS layer with its key bound to this algorithm.
    Verifies(Alg),
    /// Needs an algorithm we do not ship: its key and its token are refused.
    Unsupported,
    /// An unsecured JWS (`alg: none`): refused.
    Unsecured,
}

const RFC_EXAMPLES_EXPECTED: &[(&str, Example)] = &[
    ("rfc7515-A.1", Example::Verifies(Alg::Hs256)),
    ("rfc7515-A.2", Example::Verifies(Alg::Rs256)),
    ("rfc7515-A.3", Example::Verifies(Alg::Es256)),
    ("rfc7515-A.4", Example::Unsupported),
    ("rfc7515-A.5", Example::Unsecured),
    ("rfc8037-A.4", Example::Verifies(Alg::EdDsa)),
];

/// 2011-03-22T18:43:00Z, the `exp` of RFC 7515 A.1–A.3.
const RFC7515_EXP: u64 = 1_300_819_380;

#[test]
fn rfc7515_and_rfc8037_examples_verify_or_are_refused_as_documented() {
    let file = load("rfc/rfc7515_appendixA_rfc8037.json");
    let examples = file["vectors"].as_array().expect("vectors");
    let mut suite = Suite::new("RFC 7515 A / RFC 8037 A.4");
    let every = every_algorithm();
    let es256_key = examples
        .iter()
        .find(|v| v["id"] == "rfc7515-A.3")
        .map(|v| verification_jwk(&v["key"]))
        .expect("A.3");

    for example in examples {
        let id = text(example, "id");
        let jws = text(example, "jws");
        let Some((_, expected)) = RFC_EXAMPLES_EXPECTED.iter().find(|(known, _)| *known == id)
        else {
            suite.mismatch(0, id, "an expectation for every example", "none".into());
            continue;
        };
        match expected {
            Example::Verifies(alg) => {
                let allowed = AlgSet::only(*alg);
                let keys = load_key_set(&[verification_jwk(&example["key"])], allowed);
                let (verdict, payload) = verify_jws(&keys, allowed, jws);
                suite.judge(0, id, Label::Valid, verdict.accepted(), &verdict);
                // The JWT layer: A.1–A.3 are JWTs, but not Cognito ones (no `iat`, `sub`,
                // `token_use`), and their `exp` is in 2011, so they could never pass with a
                // real clock; RFC 8037's payload is prose. All are refused.
                let payload = payload.unwrap_or_default();
                let claims = Claims::parse(&payload);
                eprintln!("{id}: JWS layer {verdict:?}; claims layer {claims:?}");
                if claims.is_ok() {
                    suite.mismatch(0, id, "claims layer refuses", format!("{claims:?}"));
                }
                if id.starts_with("rfc7515") {
                    let exp = serde_json::from_slice::<Value>(&payload)
                        .ok()
                        .map(|v| v["exp"].clone());
                    if exp != Some(Value::from(RFC7515_EXP)) {
                        suite.mismatch(0, id, "exp 1300819380 (2011)", format!("{exp:?}"));
                    }
                }
            }
            Example::Unsupported => {
                // The key is refused, and so is the token against a P-256 key with every
                // algorithm allowed: ES512 is not a name this verifier knows.
                let key = parse_key(&verification_jwk(&example["key"]), every);
                let keys = load_key_set(std::slice::from_ref(&es256_key), every);
                let (verdict, _) = verify_jws(&keys, every, jws);
                eprintln!("{id}: key {key:?}; token against a P-256 key: {verdict:?}");
                let rightly = matches!(&key, Err(e) if is_unsupported_key_or_alg(e))
                    && matches!(
                        verdict,
                        Verdict::TokenRefused(TokenError::AlgorithmNotAllowed)
                    );
                suite.refuse(
                    0,
                    id,
                    "ES512 (P-521) is not supported",
                    rightly,
                    &(key, verdict),
                );
            }
            Example::Unsecured => {
                assert_eq!(Alg::from_name("none"), None);
                let keys = load_key_set(std::slice::from_ref(&es256_key), every);
                let (verdict, _) = verify_jws(&keys, every, jws);
                eprintln!("{id}: {verdict:?}");
                suite.refuse(0, id, "alg none", !verdict.accepted(), &verdict);
            }
        }
    }
    for (id, _) in RFC_EXAMPLES_EXPECTED {
        if !examples.iter().any(|v| v["id"] == *id) {
            suite.mismatch(0, id, "the example is in the file", "missing".into());
        }
    }
    suite.finish(RFC_EXAMPLES);
}

// ---------------------------------------------------------------------------------------
// JOSE cookbook (RFC 7520), RFC 8037 and RFC 7797 examples

enum Cookbook {
    /// `output.compact` verifies at the JWS layer with `input.key` bound to this algorithm.
    Verifies(Alg),
    /// Needs an algorithm we do not ship (ES512 on P-521).
    Unsupported,
    /// `header..signature`: the payload travels elsewhere. We verify only attached payloads,
    /// so the signature is checked over `header.` and fails.
    Detached,
    /// The file has no compact serialization at all (JSON serialization only).
    JsonOnly,
    /// `b64: false` (RFC 7797): the compact form carries the raw payload.
    UnencodedPayload,
}

const COOKBOOK_EXPECTED: &[(&str, Cookbook)] = &[
    (
        "jws_4_1.rsa_v15_signature.json",
        Cookbook::Verifies(Alg::Rs256),
    ),
    (
        "jws_4_2.rsa-pss_signature.json",
        Cookbook::Verifies(Alg::Ps384),
    ),
    ("jws_4_3.ecdsa_signature.json", Cookbook::Unsupported),
    (
        "jws_4_4.hmac-sha2_integrity_protection.json",
        Cookbook::Verifies(Alg::Hs256),
    ),
    (
        "jws_4_5.signature_with_detached_content.json",
        Cookbook::Detached,
    ),
    // The `kid` sits in the unprotected header: JSON serialization only.
    (
        "jws_4_6.protecting_specific_header_fields.json",
        Cookbook::JsonOnly,
    ),
    // No protected header at all: JSON serialization only.
    ("jws_4_7.protecting_content_only.json", Cookbook::JsonOnly),
    // Three signatures (RS256, ES512, HS256) over one payload: general JSON serialization only.
    ("jws_4_8.multiple_signatures.json", Cookbook::JsonOnly),
    ("curve25519_jws.json", Cookbook::Verifies(Alg::EdDsa)),
    ("rfc7797_4.2.hmac-sha2_b64_false.json", Cookbook::JsonOnly),
    (
        "rfc7797_hmac-sha2_b64_false.json",
        Cookbook::UnencodedPayload,
    ),
];

#[test]
fn jose_cookbook_examples_verify_or_are_refused_as_documented() {
    assert_eq!(COOKBOOK_EXPECTED.len(), COOKBOOK_FILES);
    let dir = vectors_root().join("jose-cookbook");
    let mut suite = Suite::new("JOSE cookbook");
    let mut present: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| {
            entry
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| {
            name.starts_with("jws_") || name.starts_with("rfc7797") || name == "curve25519_jws.json"
        })
        .collect();
    present.sort();
    for name in &present {
        if !COOKBOOK_EXPECTED.iter().any(|(known, _)| known == name) {
            suite.mismatch(
                0,
                name,
                "an expectation for every JWS example",
                "none".into(),
            );
        }
    }
    let bilbo_rs256 =
        verification_jwk(&load("jose-cookbook/jws_4_1.rsa_v15_signature.json")["input"]["key"]);
    let mut json_forms = 0;

    for (name, expected) in COOKBOOK_EXPECTED {
        let example = load(&format!("jose-cookbook/{name}"));
        let output = &example["output"];
        let compact = output.get("compact").and_then(Value::as_str);

        // Whatever the example, a JWS JSON serialization is not a bearer token (RFC 8725
        // §3.11; python-jwt CVE-2022-39227 mixed the two). Each one is refused on parsing.
        for form in ["json", "json_flat"] {
            if let Some(document) = output.get(form) {
                json_forms += 1;
                let serialized = document.to_string();
                let parsed = UntrustedToken::parse(&serialized).map(|_| ());
                let rightly = matches!(parsed, Err(TokenError::Malformed(_)));
                suite.refuse(
                    0,
                    name,
                    "JSON serialization is not a compact token",
                    rightly,
                    &parsed,
                );
            }
        }

        match expected {
            Cookbook::Verifies(alg) => {
                let allowed = AlgSet::only(*alg);
                let keys = load_key_set(&[verification_jwk(&example["input"]["key"])], allowed);
                let (verdict, payload) = verify_jws(&keys, allowed, compact.unwrap_or(""));
                suite.judge(0, name, Label::Valid, verdict.accepted(), &verdict);
                // The payloads are prose: refused at the claims layer.
                let claims = Claims::parse(&payload.unwrap_or_default());
                if claims.is_ok() {
                    suite.mismatch(0, name, "claims layer refuses", format!("{claims:?}"));
                }
            }
            Cookbook::Unsupported => {
                let every = every_algorithm();
                let key = parse_key(&verification_jwk(&example["input"]["key"]), every);
                // Same kid as the RS256 key of §4.1: the token names ES512, which no key binds.
                let allowed = AlgSet::only(Alg::Rs256);
                let keys = load_key_set(std::slice::from_ref(&bilbo_rs256), allowed);
                let (verdict, _) = verify_jws(&keys, allowed, compact.unwrap_or(""));
                eprintln!("{name}: key {key:?}; token against the §4.1 key: {verdict:?}");
                let rightly = matches!(&key, Err(e) if is_unsupported_key_or_alg(e))
                    && matches!(
                        verdict,
                        Verdict::TokenRefused(TokenError::AlgorithmNotAllowed)
                    );
                suite.refuse(
                    0,
                    name,
                    "ES512 (P-521) is not supported",
                    rightly,
                    &(key, verdict),
                );
            }
            Cookbook::Detached => {
                let allowed = AlgSet::only(Alg::Hs256);
                let keys = load_key_set(&[verification_jwk(&example["input"]["key"])], allowed);
                let token = compact.unwrap_or("");
                let (verdict, _) = verify_jws(&keys, allowed, token);
                eprintln!("{name}: {verdict:?}");
                let rightly = token.contains("..")
                    && matches!(verdict, Verdict::TokenRefused(TokenError::BadSignature));
                suite.refuse(
                    0,
                    name,
                    "detached payload is not supported",
                    rightly,
                    &verdict,
                );
            }
            Cookbook::JsonOnly => {
                suite.refuse(
                    0,
                    name,
                    "JSON serialization only",
                    compact.is_none(),
                    &compact,
                );
            }
            Cookbook::UnencodedPayload => {
                // As published: the raw payload ("This is the payload string!") is not
                // base64url, and segments are decoded strictly before the header is read, so
                // it is refused as malformed. Re-encoded, the same header is refused for what
                // it is: `crit`/`b64` are parameters we refuse.
                let token = compact.unwrap_or("");
                let as_published = UntrustedToken::parse(token).map(|_| ());
                let mut parts = token.split('.');
                let (header, payload, signature) = (
                    parts.next().unwrap_or(""),
                    parts.next().unwrap_or(""),
                    parts.next().unwrap_or(""),
                );
                let reencoded = format!("{header}.{}.{signature}", b64url(payload.as_bytes()));
                let with_b64url_payload = UntrustedToken::parse(&reencoded).map(|_| ());
                eprintln!("{name}: as published {as_published:?}; payload re-encoded {with_b64url_payload:?}");
                let rightly = matches!(as_published, Err(TokenError::Malformed(_)))
                    && matches!(with_b64url_payload, Err(TokenError::ForbiddenHeader(_)));
                suite.refuse(
                    0,
                    name,
                    "b64=false (RFC 7797) is not supported",
                    rightly,
                    &(as_published, with_b64url_payload),
                );
            }
        }
    }
    eprintln!("cookbook: {json_forms} JSON serializations refused");
    assert!(json_forms >= 21, "{json_forms} JSON serializations found");
    suite.finish(COOKBOOK_FILES + json_forms);
}
