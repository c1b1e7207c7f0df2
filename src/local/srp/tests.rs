//! The SRP core against `shared/vectors/cognito-srp/` (signatures the real clients produced), an
//! independent client-side computation, and hostile input.

use std::path::PathBuf;

use crypto_bigint::{U1024, U2048, U4096};
use serde_json::{Map, Value};

use pollster::block_on;

use super::*;
use crate::signing::test_keys::signing_keys_json;

// The exchange's sealing steps are async (the platform's crypto); these tests wait for them.

fn start(
    keys: &SigningKeys,
    client_id: &str,
    verifier: &Verifier,
    srp_a: &str,
    b: &[u8; B_BYTES],
    now_ms: u64,
) -> Result<Challenge, SrpError> {
    block_on(super::start(keys, client_id, verifier, srp_a, b, now_ms))
}

fn open(
    keys: &SigningKeys,
    secret_block: &str,
    pool_id: &str,
    client_id: &str,
    now_ms: u64,
) -> Result<OpenChallenge, SrpError> {
    block_on(super::open(keys, secret_block, pool_id, client_id, now_ms))
}

mod seal {
    pub use crate::local::seal::Purpose;
    use crate::signing::SigningKeys;
    use serde_json::{Map, Value};

    pub fn seal(
        keys: &SigningKeys,
        purpose: Purpose,
        claims: &Map<String, Value>,
    ) -> Result<String, String> {
        pollster::block_on(crate::local::seal::seal(keys, purpose, claims))
    }
}

// ---------------------------------------------------------------------------------------------
// Vector files

/// Files the vector folder must hold; each is read by a test below.
const VECTOR_FILES: [&str; 9] = [
    "01-username-plain.json",
    "02-alias-signin-sign-bytes.json",
    "03-email-username-short-values.json",
    "04-unicode-short-S-short-salt.json",
    "05-wrong-password.json",
    "README.md",
    "constants.json",
    "padhex.json",
    "timestamps.json",
];
/// Rows of `padhex.json`.
const PADHEX_CASES: usize = 17;
/// `timestamps.json`: instants rendered by the clients, and strings with a strict server's answer.
const CLIENT_TIMESTAMPS: usize = 11;
const SERVER_TIMESTAMP_CHECKS: usize = 13;
/// RespondToAuthChallenge requests per vector (cognito-identity-js and Amplify).
const REQUESTS_PER_VECTOR: usize = 2;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/cognito-srp")
}

fn load(name: &str) -> Map<String, Value> {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err} (the SRP vectors are required)", path.display()));
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => map,
        other => panic!("{}: not a JSON object: {other:?}", path.display()),
    }
}

fn text<'a>(map: &'a Map<String, Value>, name: &str) -> &'a str {
    map.get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("member {name} missing or not a string"))
}

fn object<'a>(map: &'a Map<String, Value>, name: &str) -> &'a Map<String, Value> {
    map.get(name)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("member {name} missing or not an object"))
}

/// Minimal lowercase hex of a big-endian integer, as the vectors write bare integers.
fn int_hex(big_endian: &[u8]) -> String {
    minimal_hex(big_endian)
}

fn ms_of(timestamp: &str) -> u64 {
    parse_timestamp(timestamp)
        .expect("vector timestamps parse")
        .expect("after 1970")
        * 1000
}

fn left_pad<const LEN: usize>(hex_digits: &str) -> [u8; LEN] {
    let padded = format!("{hex_digits:0>width$}", width = LEN * 2);
    hex::decode(padded).unwrap().try_into().unwrap()
}

fn u3072(hex_digits: &str) -> U3072 {
    U3072::from_be_bytes(left_pad::<N_BYTES>(hex_digits))
}

// ---------------------------------------------------------------------------------------------
// An independent client: the formulas the libraries run (`S = (B − k·g^x)^(a + u·x)`).

struct TestClient {
    a: U1024,
    big_a: U3072,
}

impl TestClient {
    fn new(a_hex: &str) -> Self {
        let a = U1024::from_be_bytes(left_pad::<128>(a_hex));
        let big_a = residue(&G).pow(&a).retrieve();
        Self { a, big_a }
    }

    fn srp_a(&self) -> String {
        int_hex(&self.big_a.to_be_bytes())
    }

    /// The PASSWORD_CLAIM_SIGNATURE a client sends for this challenge.
    #[allow(clippy::too_many_arguments)]
    fn sign(
        &self,
        pool_id: &str,
        user_id_for_srp: &str,
        password: &str,
        salt_hex: &str,
        srp_b: &str,
        secret_block_b64: &str,
        timestamp: &str,
    ) -> String {
        let big_b = u3072(srp_b);
        let salt = hex::decode(format!(
            "{}{salt_hex}",
            if salt_hex.len() % 2 == 1 { "0" } else { "" }
        ))
        .unwrap();
        let name = pool_name(pool_id).unwrap();
        let x = private_key(name, user_id_for_srp, password, &salt);
        let u = U256::from_be_bytes(sha256(&[
            &pad_hex(&self.big_a.to_be_bytes()),
            &pad_hex(&big_b.to_be_bytes()),
        ]));
        let exponent = self.a.resize::<{ U2048::LIMBS }>().wrapping_add(
            &u.resize::<{ U2048::LIMBS }>()
                .wrapping_mul(&x.resize::<{ U2048::LIMBS }>()),
        );
        let base = residue(&big_b) - residue(&k()) * residue(&G).pow(&x);
        let s = base.pow(&exponent).retrieve();
        let key = hkdf_key(&u, &s).unwrap();
        let block = STANDARD.decode(secret_block_b64).unwrap();
        STANDARD.encode(
            claim_signature(&key, &message(name, user_id_for_srp, &block, timestamp)).unwrap(),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The vectors

#[test]
fn every_srp_vector_file_is_present_and_nothing_unexpected_is_there() {
    let mut present: Vec<String> = std::fs::read_dir(vectors_dir())
        .unwrap_or_else(|err| panic!("{}: {err}", vectors_dir().display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    let mut expected: Vec<String> = VECTOR_FILES.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(
        present, expected,
        "the vector folder changed: read the new files"
    );
}

#[test]
fn k_and_padhex_of_n_and_g_match_constants_json() {
    let constants = load("constants.json");
    assert_eq!(text(&constants, "N"), N_HEX);
    assert_eq!(text(&constants, "g"), "2");
    assert_eq!(
        hex::encode(pad_hex(&N.to_be_bytes())),
        text(&constants, "padhex_N")
    );
    assert_eq!(pad_hex(&N.to_be_bytes()).len(), 385);
    assert_eq!(
        hex::encode(pad_hex(&G.to_be_bytes())),
        text(&constants, "padhex_g")
    );
    assert_eq!(int_hex(&k().to_be_bytes()), text(&constants, "k"));
    let info = [HKDF_INFO, &[1u8]].concat();
    assert_eq!(hex::encode(info), text(&constants, "hkdf_info_hex"));
    assert_eq!(constants["hkdf_output_bytes"], HKDF_KEY_BYTES);
    assert_eq!(constants["salt_bytes"], SALT_BYTES);
}

#[test]
fn pad_hex_matches_what_both_libraries_return_for_every_padhex_json_row() {
    let file = load("padhex.json");
    let cases = file["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), PADHEX_CASES);
    for case in cases {
        let case = case.as_object().unwrap();
        let input = text(case, "input_hex");
        let even = if input.len() % 2 == 1 {
            format!("0{input}")
        } else {
            input.to_owned()
        };
        let bytes = hex::decode(even).unwrap();
        assert_eq!(
            hex::encode(pad_hex(&bytes)),
            text(case, "padHex"),
            "input {input}"
        );
    }
}

/// One vector, rebuilt from its inputs: every intermediate, then the recorded requests.
fn check_vector(name: &str, expect_success: bool) -> usize {
    let v = load(name);
    let pool_id = text(&v, "pool_id");
    let user = text(&v, "user_id_for_srp");
    let pool = pool_name(pool_id).unwrap();
    assert_eq!(pool, text(&v, "pool_name"), "{name}: pool name");

    // Salt, x and verifier.
    let salt: [u8; SALT_BYTES] = left_pad(text(&v, "salt_bytes_hex"));
    let verifier = Verifier::new(pool_id, user, text(&v, "password"), salt).unwrap();
    assert_eq!(verifier.salt(), text(&v, "salt"), "{name}: SALT");
    assert_eq!(
        hex::encode(pad_hex(&salt)),
        text(&v, "salt_padhex"),
        "{name}: padHex(salt)"
    );
    let x = private_key(pool, user, text(&v, "password"), &salt);
    assert_eq!(int_hex(&x.to_be_bytes()), text(&v, "x"), "{name}: x");
    assert_eq!(
        int_hex(&verifier.v.to_be_bytes()),
        text(&v, "verifier"),
        "{name}: v"
    );

    // B from the vector's b, for the SRP_A each library sent.
    let wire = object(&v, "wire");
    let b: [u8; B_BYTES] = left_pad(text(&v, "b"));
    let mut exchanges = Vec::new();
    for request in [
        "InitiateAuth_request_cognito_identity_js",
        "InitiateAuth_request_amplify",
    ] {
        let srp_a = text(object(object(wire, request), "AuthParameters"), "SRP_A");
        exchanges.push(Exchange::new(&verifier, srp_a, &b).unwrap());
    }
    let exchange = exchanges.first().unwrap().clone();
    assert!(
        exchanges.iter().all(|e| e.a == exchange.a),
        "{name}: both libraries sent one A"
    );
    assert_eq!(
        int_hex(&exchange.a.to_be_bytes()),
        text(&v, "A"),
        "{name}: A"
    );
    assert_eq!(
        hex::encode(pad_hex(&exchange.a.to_be_bytes())),
        text(&v, "A_padhex")
    );
    assert_eq!(
        int_hex(&exchange.big_b.to_be_bytes()),
        text(&v, "B"),
        "{name}: B"
    );
    assert_eq!(
        hex::encode(pad_hex(&exchange.big_b.to_be_bytes())),
        text(&v, "B_padhex")
    );
    let answer = object(object(wire, "InitiateAuth_response"), "ChallengeParameters");
    assert_eq!(
        minimal_hex(&exchange.big_b.to_be_bytes()),
        text(answer, "SRP_B"),
        "{name}: SRP_B"
    );
    assert_eq!(verifier.salt(), text(answer, "SALT"), "{name}: SALT sent");

    // u, S, the HKDF key, the message and the signature.
    let u = exchange.u();
    assert_eq!(int_hex(&u.to_be_bytes()), text(&v, "u"), "{name}: u");
    assert_eq!(hex::encode(pad_hex(&u.to_be_bytes())), text(&v, "u_padhex"));
    let s = exchange.premaster(&verifier.v, &u).unwrap();
    assert_eq!(int_hex(&s.to_be_bytes()), text(&v, "S"), "{name}: S");
    assert_eq!(hex::encode(pad_hex(&s.to_be_bytes())), text(&v, "S_padhex"));
    assert_eq!(
        hex::encode(hkdf_key(&u, &s).unwrap()),
        text(&v, "hkdf_key"),
        "{name}: key"
    );
    let block = STANDARD.decode(text(&v, "secret_block")).unwrap();
    let timestamp = text(&v, "timestamp");
    assert_eq!(
        hex::encode(message(pool, user, &block, timestamp)),
        text(&v, "message_hex"),
        "{name}: message"
    );
    let expected = exchange
        .expected_signature(&verifier, &block, timestamp)
        .unwrap();
    assert_eq!(
        STANDARD.encode(expected),
        text(&v, "password_claim_signature"),
        "{name}: signature"
    );

    // The independent client reproduces what the libraries sent.
    let client = TestClient::new(text(&v, "a"));
    assert_eq!(client.srp_a(), text(&v, "A"), "{name}: client A");

    // The recorded RespondToAuthChallenge requests, with the clock at the vector's TIMESTAMP.
    let mut verdicts = 0;
    for request in [
        "RespondToAuthChallenge_request_cognito_identity_js",
        "RespondToAuthChallenge_request_amplify",
    ] {
        let responses = object(object(wire, request), "ChallengeResponses");
        assert_eq!(
            text(responses, "USERNAME"),
            user,
            "{name}: {request} USERNAME"
        );
        let sent_block = text(responses, "PASSWORD_CLAIM_SECRET_BLOCK");
        let signature = text(responses, "PASSWORD_CLAIM_SIGNATURE");
        assert_eq!(
            client.sign(
                pool_id,
                user,
                text(&v, "client_password"),
                text(answer, "SALT"),
                text(answer, "SRP_B"),
                sent_block,
                text(responses, "TIMESTAMP"),
            ),
            signature,
            "{name}: the test client signs as {request} did"
        );
        let verdict = exchange.verify(
            &verifier,
            &STANDARD.decode(sent_block).unwrap(),
            text(responses, "TIMESTAMP"),
            signature,
            ms_of(timestamp),
        );
        if expect_success {
            assert_eq!(verdict, Ok(()), "{name}: {request}");
        } else {
            assert_eq!(
                verdict,
                Err(SrpError::Refused(Refusal::SignatureMismatch)),
                "{name}: {request}"
            );
            let answer: Error = verdict.unwrap_err().into();
            assert_eq!(
                answer,
                Error::Api(ApiError::NotAuthorized(
                    "Incorrect username or password.".into()
                ))
            );
        }
        verdicts += 1;
    }
    verdicts
}

#[test]
fn vector_01_plain_username_with_odd_length_a_and_b_signs_in() {
    assert_eq!(
        check_vector("01-username-plain.json", true),
        REQUESTS_PER_VECTOR
    );
}

#[test]
fn vector_02_alias_sign_in_signs_in_when_a_b_s_u_and_salt_need_a_sign_byte() {
    assert_eq!(
        check_vector("02-alias-signin-sign-bytes.json", true),
        REQUESTS_PER_VECTOR
    );
}

#[test]
fn vector_03_uuid_username_signs_in_when_a_b_and_u_are_short() {
    assert_eq!(
        check_vector("03-email-username-short-values.json", true),
        REQUESTS_PER_VECTOR
    );
}

#[test]
fn vector_04_utf8_names_sign_in_with_a_short_s_and_a_salt_starting_with_a_zero_byte() {
    assert_eq!(
        check_vector("04-unicode-short-S-short-salt.json", true),
        REQUESTS_PER_VECTOR
    );
}

#[test]
fn vector_05_wrong_password_is_refused_as_incorrect_username_or_password() {
    assert_eq!(
        check_vector("05-wrong-password.json", false),
        REQUESTS_PER_VECTOR
    );
    let v = load("05-wrong-password.json");
    let wrong = object(&v, "client_side_wrong_password");
    assert_ne!(
        text(wrong, "password_claim_signature"),
        text(&v, "password_claim_signature")
    );
}

#[test]
fn every_client_generated_timestamp_is_rendered_identically() {
    let file = load("timestamps.json");
    let cases = file["client_generated"]
        .as_array()
        .expect("client_generated");
    assert_eq!(cases.len(), CLIENT_TIMESTAMPS);
    for case in cases {
        let case = case.as_object().unwrap();
        let ms = case["epoch_ms"].as_u64().unwrap();
        let sent = text(case, "TIMESTAMP");
        assert_eq!(format_timestamp(ms), sent, "{}", text(case, "utc"));
        assert_eq!(check_timestamp(sent, ms), Ok(()), "{sent}");
    }
}

#[test]
fn every_timestamp_check_gets_the_strict_servers_answer() {
    let file = load("timestamps.json");
    let cases = file["server_checks"].as_array().expect("server_checks");
    assert_eq!(cases.len(), SERVER_TIMESTAMP_CHECKS);
    for case in cases {
        let case = case.as_object().unwrap();
        let sent = text(case, "TIMESTAMP");
        let verdict = check_timestamp(sent, ms_of(text(case, "server_now")));
        let ok = match text(case, "expect") {
            "accept" => verdict == Ok(()),
            "NotAuthorizedException" => matches!(verdict, Err(SrpError::Refused(_))),
            "InvalidParameterException" => verdict == Err(SrpError::TimestampFormat),
            other => panic!("unknown expectation {other}"),
        };
        assert!(ok, "{sent:?}: {verdict:?} ({})", text(case, "why"));
    }
}

#[test]
fn the_invalid_timestamp_answer_is_cognitos_invalid_parameter_message() {
    let answer: Error = SrpError::TimestampFormat.into();
    assert_eq!(
        answer,
        Error::Api(ApiError::InvalidParameter(
            "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.".into()
        ))
    );
}

#[test]
fn timestamps_spelled_differently_are_refused() {
    let now = ms_of("Tue Mar 5 09:07:03 UTC 2024");
    for (sent, expected) in [
        ("Tue Mar 5 09:07:03 UTC 2024 ", SrpError::TimestampFormat),
        (" Tue Mar 5 09:07:03 UTC 2024", SrpError::TimestampFormat),
        ("Tue Mar 5 09:07:03 utc 2024", SrpError::TimestampFormat),
        ("Tue Mar 5 09:07:03 UTC 24", SrpError::TimestampFormat),
        ("Tue Mar 5 09:07:03 UTC +2024", SrpError::TimestampFormat),
        ("Tue Mar 5 09:07:03.000 UTC 2024", SrpError::TimestampFormat),
        ("Tue Mar 5 24:00:00 UTC 2024", SrpError::TimestampFormat),
        ("Tue Mar 5 09:60:03 UTC 2024", SrpError::TimestampFormat),
        ("Tue Mar 5 09:07:60 UTC 2024", SrpError::TimestampFormat),
        ("Tue Mar 0 09:07:03 UTC 2024", SrpError::TimestampFormat),
        ("Tue Mar 005 09:07:03 UTC 2024", SrpError::TimestampFormat),
        ("Tue Mar +5 09:07:03 UTC 2024", SrpError::TimestampFormat),
        ("Tue Mar ５ 09:07:03 UTC 2024", SrpError::TimestampFormat),
        ("Tuesday Mar 5 09:07:03 UTC 2024", SrpError::TimestampFormat),
        ("Tue March 5 09:07:03 UTC 2024", SrpError::TimestampFormat),
        ("Tue\tMar 5 09:07:03 UTC 2024", SrpError::TimestampFormat),
        ("Thu Feb 29 00:00:00 UTC 2023", SrpError::TimestampFormat),
        (
            "Mon Mar 5 09:07:03 UTC 2024",
            SrpError::Refused(Refusal::TimestampNotCanonical),
        ),
        (
            "Wed Dec 31 23:59:59 UTC 1969",
            SrpError::Refused(Refusal::TimestampOutOfWindow),
        ),
        (
            "Sun Mar 5 09:07:03 UTC 2124",
            SrpError::Refused(Refusal::TimestampOutOfWindow),
        ),
    ] {
        assert_eq!(check_timestamp(sent, now), Err(expected), "{sent:?}");
    }
    assert_eq!(
        check_timestamp(&"x".repeat(10_000), now),
        Err(SrpError::TimestampFormat)
    );
    let whole = "Wed Oct 9 14:30:00 UTC 2024";
    for end in 0..whole.len() {
        assert_eq!(
            check_timestamp(&whole[..end], now),
            Err(SrpError::TimestampFormat),
            "{end}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// SRP_A

/// A verifier and an exchange for hostile-input tests (vector 01's user).
fn alice() -> Verifier {
    Verifier::new(
        "us-east-1_Rf3dVz9Qx",
        "alice",
        "Correct-Horse-9",
        [0x5f; SALT_BYTES],
    )
    .unwrap()
}

fn b_fixed() -> [u8; B_BYTES] {
    let mut b = [0u8; B_BYTES];
    b[0] = 0x42;
    b[B_BYTES - 1] = 0x17;
    b
}

fn refused_a(srp_a: &str) -> bool {
    matches!(
        Exchange::new(&alice(), srp_a, &b_fixed()),
        Err(SrpError::InvalidSrpA(_))
    )
}

#[test]
fn srp_a_of_zero_is_refused_however_it_is_spelled() {
    for zero in ["0", "00", &"0".repeat(768), &"0".repeat(770)] {
        assert!(refused_a(zero), "{} zeros", zero.len());
    }
    assert!(!refused_a("1"), "control: A = 1 is a valid group element");
}

#[test]
fn srp_a_equal_to_n_or_a_multiple_of_it_is_refused() {
    let two_n = {
        let wide = N.resize::<{ U4096::LIMBS }>();
        let doubled = wide.wrapping_add(&wide);
        minimal_hex(&doubled.to_be_bytes())
    };
    assert_eq!(two_n.len(), 769);
    for multiple in [
        N_HEX.to_owned(),
        format!("00{N_HEX}"),
        N_HEX.to_uppercase(),
        two_n,
    ] {
        assert!(refused_a(&multiple), "{}…", &multiple[..8]);
    }
}

#[test]
fn srp_a_at_or_above_n_is_refused_and_n_minus_one_is_accepted() {
    let n_plus_one = minimal_hex(&N.wrapping_add(&U3072::ONE).to_be_bytes());
    let n_minus_one = minimal_hex(&N.wrapping_sub(&U3072::ONE).to_be_bytes());
    assert!(refused_a(&n_plus_one));
    assert!(refused_a(&"f".repeat(768)));
    assert!(refused_a(&format!("1{}", "0".repeat(768))));
    assert!(!refused_a(&n_minus_one), "control");
}

#[test]
fn srp_a_that_is_not_plain_hex_digits_is_refused() {
    for junk in [
        "", "0x12", "-1", "+1", " 12", "12 ", "1_2", "12\n", "g", "é", "١٢", "１２", "1.0", "12,",
    ] {
        assert!(refused_a(junk), "{junk:?}");
    }
}

#[test]
fn srp_a_longer_than_770_digits_is_refused_even_when_its_value_is_small() {
    let a = TestClient::new("abc123").srp_a();
    let padded_770 = format!("{a:0>770}");
    let padded_771 = format!("{a:0>771}");
    assert!(!refused_a(&padded_770), "control: 770 digits");
    assert!(refused_a(&padded_771));
    assert!(refused_a(&"1".repeat(100_000)));
}

#[test]
fn srp_a_with_leading_zeros_or_upper_case_is_the_same_integer_and_hashes_the_same() {
    let client = TestClient::new("0123456789abcdef");
    let plain = Exchange::new(&alice(), &client.srp_a(), &b_fixed()).unwrap();
    for spelling in [
        format!("{:0>770}", client.srp_a()),
        client.srp_a().to_uppercase(),
    ] {
        let other = Exchange::new(&alice(), &spelling, &b_fixed()).unwrap();
        assert_eq!(other.a, plain.a);
        assert_eq!(other.u(), plain.u(), "u hashes the integer, not the string");
    }
}

#[test]
fn missing_srp_a_gets_cognitos_missing_parameter_message() {
    let answer: Error = Exchange::new(&alice(), "", &b_fixed()).unwrap_err().into();
    assert_eq!(
        answer,
        Error::Api(ApiError::InvalidParameter(
            "Missing required parameter SRP_A".into()
        ))
    );
}

// ---------------------------------------------------------------------------------------------
// Guards inside the math

#[test]
fn u_of_zero_is_refused() {
    let exchange = Exchange::new(&alice(), &TestClient::new("77").srp_a(), &b_fixed()).unwrap();
    assert_eq!(
        exchange.premaster(&alice().v, &U256::ZERO),
        Err(SrpError::Refused(Refusal::ZeroU))
    );
    assert!(
        exchange.premaster(&alice().v, &U256::ONE).is_ok(),
        "control"
    );
}

#[test]
fn a_server_exponent_of_zero_is_a_fault_not_a_challenge() {
    let srp_a = TestClient::new("77").srp_a();
    assert!(matches!(
        Exchange::new(&alice(), &srp_a, &[0u8; B_BYTES]),
        Err(SrpError::Internal(_))
    ));
}

#[test]
fn pool_name_is_the_text_between_the_first_and_second_underscore() {
    assert_eq!(pool_name("us-east-1_Rf3dVz9Qx"), Ok("Rf3dVz9Qx"));
    assert_eq!(pool_name("a_b_c"), Ok("b"), "as the clients' split('_')[1]");
    assert_eq!(pool_name("no-underscore"), Err(SrpError::PoolId));
    assert_eq!(pool_name("trailing_"), Err(SrpError::PoolId));
}

// ---------------------------------------------------------------------------------------------
// The sealed exchange, end to end with the test client

const POOL: &str = "us-east-1_Rf3dVz9Qx";
const CLIENT_ID: &str = "3n4b5urk1ft4fl3mg5e62d9ado";
const PASSWORD: &str = "Correct-Horse-9";
/// Tue Mar 5 09:07:03 UTC 2024.
const NOW_MS: u64 = 1_709_629_623_000;

fn keys() -> SigningKeys {
    SigningKeys::parse(&signing_keys_json()).unwrap()
}

struct Story {
    keys: SigningKeys,
    verifier: Verifier,
    client: TestClient,
    challenge: Challenge,
}

impl Story {
    fn new(user: &str) -> Self {
        let keys = keys();
        let verifier = Verifier::generate(POOL, user, PASSWORD).unwrap();
        let client = TestClient::new("5eed0fa11ce");
        let challenge = start(
            &keys,
            CLIENT_ID,
            &verifier,
            &client.srp_a(),
            &b_fixed(),
            NOW_MS,
        )
        .unwrap();
        Self {
            keys,
            verifier,
            client,
            challenge,
        }
    }

    fn signature(&self, password: &str, timestamp: &str) -> String {
        self.client.sign(
            POOL,
            &self.challenge.user_id_for_srp,
            password,
            &self.challenge.salt,
            &self.challenge.srp_b,
            &self.challenge.secret_block,
            timestamp,
        )
    }

    fn open(&self, now_ms: u64) -> Result<OpenChallenge, SrpError> {
        open(
            &self.keys,
            &self.challenge.secret_block,
            POOL,
            CLIENT_ID,
            now_ms,
        )
    }

    /// The whole RespondToAuthChallenge check, with the right password at `now_ms`.
    fn respond(&self, now_ms: u64) -> Result<(), SrpError> {
        let timestamp = format_timestamp(now_ms);
        let signature = self.signature(PASSWORD, &timestamp);
        self.open(now_ms)?
            .verify("alice", &self.verifier, &timestamp, &signature, now_ms)
    }
}

#[test]
fn a_proof_over_our_own_secret_block_signs_in() {
    let story = Story::new("alice");
    assert_eq!(story.respond(NOW_MS + 2_000), Ok(()));
    let opened = story.open(NOW_MS).unwrap();
    assert_eq!(opened.user_id_for_srp(), "alice");
    assert_eq!(opened.challenge_id(), story.challenge.challenge_id);
    assert_eq!(opened.issued_at_s(), NOW_MS / 1000);
}

#[test]
fn a_wrong_password_over_our_own_secret_block_is_refused() {
    let story = Story::new("alice");
    let timestamp = format_timestamp(NOW_MS);
    let signature = story.signature("Correct-Horse-8", &timestamp);
    let verdict = story.open(NOW_MS).unwrap().verify(
        "alice",
        &story.verifier,
        &timestamp,
        &signature,
        NOW_MS,
    );
    assert_eq!(verdict, Err(SrpError::Refused(Refusal::SignatureMismatch)));
}

#[test]
fn the_challenge_parameters_are_what_the_clients_read() {
    let story = Story::new("alice");
    let params = story.challenge.parameters();
    let names: Vec<&str> = params.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "SALT",
            "SECRET_BLOCK",
            "SRP_B",
            "USERNAME",
            "USER_ID_FOR_SRP"
        ]
    );
    assert!(params.values().all(Value::is_string));
    assert_eq!(params["USERNAME"], params["USER_ID_FOR_SRP"]);
    assert_eq!(params["SALT"], story.verifier.salt());
    let srp_b = story.challenge.srp_b.as_str();
    assert!(
        !srp_b.starts_with('0')
            && srp_b
                .bytes()
                .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
    );
    let block = story.challenge.secret_block.as_str();
    assert_eq!(block.len() % 4, 0, "padded");
    assert!(STANDARD.decode(block).is_ok(), "standard alphabet");
    assert!(block.len() <= MAX_SECRET_BLOCK_CHARS);
}

#[test]
fn a_secret_block_with_any_altered_character_is_refused() {
    let story = Story::new("alice");
    let block = story.challenge.secret_block.clone();
    let mut altered_count = 0;
    for at in (0..block.len()).step_by(13) {
        let mut bytes = block.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        let verdict = open(&story.keys, &altered, POOL, CLIENT_ID, NOW_MS);
        assert_eq!(
            verdict.unwrap_err(),
            SrpError::Refused(Refusal::SecretBlock),
            "at {at}"
        );
        altered_count += 1;
    }
    assert!(altered_count > 100);
    assert!(
        story.open(NOW_MS).is_ok(),
        "control: the unaltered block opens"
    );
}

#[test]
fn a_secret_block_respelled_in_another_base64_is_refused() {
    let story = Story::new("alice");
    let raw = STANDARD.decode(&story.challenge.secret_block).unwrap();
    for respelled in [
        URL_SAFE_NO_PAD.encode(&raw),
        story
            .challenge
            .secret_block
            .trim_end_matches('=')
            .to_owned(),
        format!(" {}", story.challenge.secret_block),
        String::from_utf8(raw.clone()).unwrap(),
    ] {
        if respelled == story.challenge.secret_block {
            continue;
        }
        assert_eq!(
            open(&story.keys, &respelled, POOL, CLIENT_ID, NOW_MS).unwrap_err(),
            SrpError::Refused(Refusal::SecretBlock)
        );
    }
}

#[test]
fn junk_secret_blocks_are_refused_without_panicking() {
    let keys = keys();
    let refresh = seal::seal(&keys, Purpose::Refresh, &Map::new()).unwrap();
    for junk in [
        String::new(),
        "====".to_owned(),
        STANDARD.encode("a.b.c.d.e"),
        STANDARD.encode([0xff, 0xfe, 0x00]),
        STANDARD.encode(&refresh),
        "A".repeat(MAX_SECRET_BLOCK_CHARS + 4),
    ] {
        assert_eq!(
            open(&keys, &junk, POOL, CLIENT_ID, NOW_MS).unwrap_err(),
            SrpError::Refused(Refusal::SecretBlock),
            "{}",
            &junk[..junk.len().min(20)]
        );
    }
}

#[test]
fn a_secret_block_with_the_right_key_but_missing_state_is_refused() {
    let keys = keys();
    let mut claims = Map::new();
    for (name, value) in [
        ("pool", POOL),
        ("client", CLIENT_ID),
        ("user", "alice"),
        ("jti", "x"),
    ] {
        claims.insert(name.into(), Value::from(value));
    }
    claims.insert("iat".into(), Value::from(NOW_MS / 1000));
    claims.insert("exp".into(), Value::from(NOW_MS / 1000 + 60));
    let sealed = seal::seal(&keys, Purpose::SrpChallenge, &claims).unwrap();
    assert_eq!(
        open(&keys, &STANDARD.encode(sealed), POOL, CLIENT_ID, NOW_MS).unwrap_err(),
        SrpError::Refused(Refusal::SecretBlock)
    );
}

#[test]
fn an_expired_secret_block_is_refused() {
    let story = Story::new("alice");
    let last_second = NOW_MS + (SECRET_BLOCK_LIFETIME_S - 1) * 1000;
    assert_eq!(
        story.respond(last_second),
        Ok(()),
        "control: within its lifetime"
    );
    let expiry = NOW_MS + SECRET_BLOCK_LIFETIME_S * 1000;
    assert_eq!(
        story.respond(expiry),
        Err(SrpError::Refused(Refusal::Expired))
    );
    assert_eq!(
        story.respond(expiry + 86_400_000),
        Err(SrpError::Refused(Refusal::Expired))
    );
}

#[test]
fn a_secret_block_for_another_pool_or_client_is_refused() {
    let story = Story::new("alice");
    let block = &story.challenge.secret_block;
    assert_eq!(
        open(&story.keys, block, "us-east-1_Other1", CLIENT_ID, NOW_MS).unwrap_err(),
        SrpError::Refused(Refusal::OtherPool)
    );
    assert_eq!(
        open(&story.keys, block, "US-EAST-1_RF3DVZ9QX", CLIENT_ID, NOW_MS).unwrap_err(),
        SrpError::Refused(Refusal::OtherPool)
    );
    assert_eq!(
        open(&story.keys, block, POOL, "another-client", NOW_MS).unwrap_err(),
        SrpError::Refused(Refusal::OtherClient)
    );
}

#[test]
fn a_secret_block_for_another_user_is_refused() {
    let story = Story::new("alice");
    let mallory = Verifier::generate(POOL, "mallory", "mallory-knows-this").unwrap();
    let timestamp = format_timestamp(NOW_MS);
    let opened = story.open(NOW_MS).unwrap();
    // Mallory answers alice's challenge as herself, with her own password and verifier.
    let as_mallory = story.client.sign(
        POOL,
        "mallory",
        "mallory-knows-this",
        &mallory.salt(),
        &story.challenge.srp_b,
        &story.challenge.secret_block,
        &timestamp,
    );
    assert_eq!(
        opened.verify("mallory", &mallory, &timestamp, &as_mallory, NOW_MS),
        Err(SrpError::Refused(Refusal::OtherUser))
    );
    // The caller resolved USERNAME to alice but passes another user's verifier: refused too.
    assert_eq!(
        opened.verify("alice", &mallory, &timestamp, &as_mallory, NOW_MS),
        Err(SrpError::Refused(Refusal::OtherUser))
    );
    // A user name spelled differently is another user here: resolution is the caller's job.
    let right = story.signature(PASSWORD, &timestamp);
    assert_eq!(
        opened.verify("Alice", &story.verifier, &timestamp, &right, NOW_MS),
        Err(SrpError::Refused(Refusal::OtherUser))
    );
    assert_eq!(
        opened.verify("alice", &story.verifier, &timestamp, &right, NOW_MS),
        Ok(())
    );
}

#[test]
fn a_verifier_from_another_pool_cannot_check_the_proof() {
    let story = Story::new("alice");
    let elsewhere = Verifier::generate("us-east-1_Other1", "alice", PASSWORD).unwrap();
    let timestamp = format_timestamp(NOW_MS);
    let signature = story.signature(PASSWORD, &timestamp);
    assert_eq!(
        story
            .open(NOW_MS)
            .unwrap()
            .verify("alice", &elsewhere, &timestamp, &signature, NOW_MS),
        Err(SrpError::Refused(Refusal::OtherPool))
    );
}

#[test]
fn a_signature_of_the_wrong_length_or_spelling_is_refused() {
    let story = Story::new("alice");
    let timestamp = format_timestamp(NOW_MS);
    let right = story.signature(PASSWORD, &timestamp);
    let raw = STANDARD.decode(&right).unwrap();
    let opened = story.open(NOW_MS).unwrap();
    let verdict =
        |signature: &str| opened.verify("alice", &story.verifier, &timestamp, signature, NOW_MS);
    assert_eq!(verdict(&right), Ok(()), "control");
    for wrong in [
        String::new(),
        STANDARD.encode(&raw[..31]),
        STANDARD.encode([raw.as_slice(), &[0]].concat()),
        STANDARD.encode([raw.as_slice(), &raw].concat()),
        right.trim_end_matches('=').to_owned(),
        URL_SAFE_NO_PAD.encode(&raw),
        format!("{right} "),
        format!(" {right}"),
        hex::encode(&raw),
        "A".repeat(10_000),
    ] {
        if wrong == right {
            continue;
        }
        assert_eq!(
            verdict(&wrong),
            Err(SrpError::Refused(Refusal::SignatureEncoding)),
            "{wrong:?}"
        );
    }
}

#[test]
fn a_signature_with_one_flipped_bit_is_refused() {
    let story = Story::new("alice");
    let timestamp = format_timestamp(NOW_MS);
    let mut raw = STANDARD
        .decode(story.signature(PASSWORD, &timestamp))
        .unwrap();
    raw[31] ^= 1;
    assert_eq!(
        story.open(NOW_MS).unwrap().verify(
            "alice",
            &story.verifier,
            &timestamp,
            &STANDARD.encode(&raw),
            NOW_MS
        ),
        Err(SrpError::Refused(Refusal::SignatureMismatch))
    );
}

#[test]
fn a_proof_signed_over_another_timestamp_than_the_one_sent_is_refused() {
    let story = Story::new("alice");
    let signed = format_timestamp(NOW_MS);
    let sent = format_timestamp(NOW_MS + 1000);
    let signature = story.signature(PASSWORD, &signed);
    assert_eq!(
        story
            .open(NOW_MS)
            .unwrap()
            .verify("alice", &story.verifier, &sent, &signature, NOW_MS),
        Err(SrpError::Refused(Refusal::SignatureMismatch))
    );
}

#[test]
fn a_proof_with_a_stale_timestamp_is_refused() {
    let story = Story::new("alice");
    let stale = format_timestamp(NOW_MS - (TIMESTAMP_SKEW_S + 1) * 1000);
    let signature = story.signature(PASSWORD, &stale);
    assert_eq!(
        story
            .open(NOW_MS)
            .unwrap()
            .verify("alice", &story.verifier, &stale, &signature, NOW_MS),
        Err(SrpError::Refused(Refusal::TimestampOutOfWindow))
    );
}

#[test]
fn a_new_password_makes_an_open_challenge_fail() {
    let story = Story::new("alice");
    let timestamp = format_timestamp(NOW_MS);
    let signature = story.signature(PASSWORD, &timestamp);
    let changed = Verifier::generate(POOL, "alice", "a-new-password").unwrap();
    assert_eq!(
        story
            .open(NOW_MS)
            .unwrap()
            .verify("alice", &changed, &timestamp, &signature, NOW_MS),
        Err(SrpError::Refused(Refusal::SignatureMismatch))
    );
}

#[test]
fn each_b_gives_its_own_challenge_id_and_srp_b() {
    let keys = keys();
    let verifier = alice();
    let srp_a = TestClient::new("77").srp_a();
    let mut other_b = b_fixed();
    other_b[20] ^= 0x80;
    let one = start(&keys, CLIENT_ID, &verifier, &srp_a, &b_fixed(), NOW_MS).unwrap();
    let two = start(&keys, CLIENT_ID, &verifier, &srp_a, &other_b, NOW_MS).unwrap();
    let again = start(&keys, CLIENT_ID, &verifier, &srp_a, &b_fixed(), NOW_MS).unwrap();
    assert_ne!(one.challenge_id, two.challenge_id);
    assert_ne!(one.srp_b, two.srp_b);
    assert_eq!(
        one.challenge_id, again.challenge_id,
        "the id is a function of b"
    );
    assert_ne!(one.secret_block, again.secret_block, "a fresh IV each time");
}

#[test]
fn srp_errors_answer_as_cognito_does() {
    let incorrect = Error::Api(ApiError::NotAuthorized(
        "Incorrect username or password.".into(),
    ));
    for refusal in [
        Refusal::SecretBlock,
        Refusal::Expired,
        Refusal::OtherPool,
        Refusal::OtherClient,
        Refusal::OtherUser,
        Refusal::TimestampNotCanonical,
        Refusal::TimestampOutOfWindow,
        Refusal::SignatureEncoding,
        Refusal::ZeroU,
        Refusal::SignatureMismatch,
        Refusal::StoredVerifier,
    ] {
        assert_eq!(
            Error::from(SrpError::Refused(refusal)),
            incorrect,
            "{refusal:?}"
        );
    }
    assert!(matches!(
        Error::from(SrpError::InvalidSrpA("SRP_A must be less than N.")),
        Error::Api(ApiError::InvalidParameter(_))
    ));
    assert!(matches!(
        Error::from(SrpError::Internal("x".into())),
        Error::Internal(_)
    ));
}

// ---------------------------------------------------------------------------------------------
// The verifier at rest

#[test]
fn a_generated_salt_never_needs_a_sign_byte_or_loses_a_leading_zero() {
    for _ in 0..32 {
        let verifier = Verifier::generate(POOL, "alice", PASSWORD).unwrap();
        assert!(
            (0x10..=0x7f).contains(&verifier.salt[0]),
            "{:02x}",
            verifier.salt[0]
        );
        assert_eq!(verifier.salt(), hex::encode(verifier.salt));
        assert_eq!(pad_hex(&verifier.salt), verifier.salt);
    }
}

#[test]
fn a_sealed_verifier_opens_to_the_same_verifier_and_hides_it() {
    let keys = keys();
    let verifier = Verifier::generate(POOL, "alice", PASSWORD).unwrap();
    let sealed = block_on(verifier.seal(&keys)).unwrap();
    assert_eq!(
        block_on(Verifier::open_sealed(&keys, &sealed, POOL, "alice")),
        Ok(verifier.clone())
    );
    let v_hex = hex::encode(verifier.v.to_be_bytes());
    let v_b64 = URL_SAFE_NO_PAD.encode(verifier.v.to_be_bytes());
    assert!(!sealed.contains(&v_hex[..16]) && !sealed.contains(&v_b64[..16]));
    assert!(!sealed.contains(&verifier.salt()));
    assert!(Verifier::sealed_with_current_key(&keys, &sealed));
    assert!(!Verifier::sealed_with_current_key(&keys, "junk"));
}

#[test]
fn a_sealed_verifier_opens_only_for_its_pool_and_user() {
    let keys = keys();
    let sealed = block_on(alice().seal(&keys)).unwrap();
    assert_eq!(
        block_on(Verifier::open_sealed(&keys, &sealed, POOL, "mallory")),
        Err(SrpError::Refused(Refusal::OtherUser))
    );
    assert_eq!(
        block_on(Verifier::open_sealed(
            &keys,
            &sealed,
            "us-east-1_Other1",
            "alice"
        )),
        Err(SrpError::Refused(Refusal::OtherPool))
    );
}

#[test]
fn an_altered_or_foreign_sealed_verifier_is_refused() {
    let keys = keys();
    let sealed = block_on(alice().seal(&keys)).unwrap();
    let mut bytes = sealed.clone().into_bytes();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(bytes).unwrap();
    let challenge_sealed = seal::seal(&keys, Purpose::SrpChallenge, &Map::new()).unwrap();
    for wrong in [altered.as_str(), challenge_sealed.as_str(), "", "junk"] {
        assert_eq!(
            block_on(Verifier::open_sealed(&keys, wrong, POOL, "alice")),
            Err(SrpError::Refused(Refusal::StoredVerifier))
        );
    }
}

#[test]
fn debug_output_shows_neither_verifier_nor_salt_nor_b() {
    let story = Story::new("alice");
    let shown = format!("{:?} {:?}", story.verifier, story.open(NOW_MS).unwrap());
    let v_hex = hex::encode(story.verifier.v.to_be_bytes());
    assert!(!shown.contains(&v_hex[..12]), "{shown}");
    assert!(!shown.contains(&story.verifier.salt()), "{shown}");
    assert!(!shown.contains(&hex::encode(b_fixed())[..12]), "{shown}");
    assert!(shown.contains("alice"), "control: {shown}");
}
