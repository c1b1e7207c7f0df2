//! SRP sign-in inputs (`src/local/srp.rs`): `SRP_A` (InitiateAuth USER_SRP_AUTH), and
//! `SECRET_BLOCK`, `USERNAME`, `TIMESTAMP` and `PASSWORD_CLAIM_SIGNATURE` (RespondToAuthChallenge
//! PASSWORD_VERIFIER), plus a stored verifier, against the first Cognito SRP vector (its pool,
//! user, password, salt and server exponent `b`, at its clock).
//!
//! Input: fields separated by `0xff` — flags (and 8 bytes of an instant), SRP_A, SECRET_BLOCK
//! (`$BLOCK`: the real one), USERNAME, TIMESTAMP, signature (`$VALID`: the right one for this
//! TIMESTAMP, computed from the vector's HKDF key), stored verifier (`$VERIFIER`: the real one).
//!
//! Beyond "no panic": only the real SECRET_BLOCK and stored verifier open; a proof is accepted
//! exactly when the user, a canonical in-window TIMESTAMP and the right signature come together;
//! every instant's TIMESTAMP, as the clients write it, passes at that instant; a challenge that
//! `start` makes opens.
#![no_main]

use base64::{engine::general_purpose::STANDARD, Engine as _};
use edge_revoke::{
    local::srp::{self, Challenge, Verifier, B_BYTES, SALT_BYTES},
    signing::SigningKeys,
};
use edge_revoke_fuzz::{fields, signing_keys_json};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const POOL_ID: &str = "us-east-1_Rf3dVz9Qx";
const POOL_NAME: &str = "Rf3dVz9Qx";
const CLIENT_ID: &str = "3n4b5urk1ft4fl3mg5e62d9ado";
const USER: &str = "alice";
const PASSWORD: &str = "Correct-Horse-9";
const SALT: &str = "5f1c2b9d7e34a0c8b6d2e4f10a9b3c7d";
const B: &str = "6760d2856b61c292ee2bc74ce75f9a3764cc44eef108dafb8d784b4b0bf9076f";
const HKDF_KEY: &str = "6f7deb6a3d985a057ef4e11ede6fc1a2";
const SRP_A: &str = concat!(
    "120c96dfc83bb444f0474d594d19b1f1bcaa4ec95408445fe23393d003be6aa09d034c8dcf459a6ab0934953",
    "960b0f3b8b6454faf4f19d1998d0e1a67a6e2d71470375a302066f8193693418849f78b07db7d07637200b2e",
    "92bbe394b96f0d5a326f4540ebce58fd953a2d6301f786cff2a1c17c71a36f148b2bfee40cfbc6a560a5340f",
    "a3f1c820c37ad0daa9cecd99d06b5a599ac80c60d71a71fc9eba7fd80dc8d902eb8f2453ad0b017a23462999",
    "7590e7162cf606cbd1040fe511cddc4dc14d40a6654c92f4988096ab9aef22c3f657c55237b7df350fabe8e5",
    "d79cf7972c7e4ea4dab298bab65d033025cedc0842222ebd9b9b715fe1e1c43564f564c90e1c8579f9d4f9d1",
    "68880574e9e0ab163952f6ce57fdc2d916958e9100e59cbcd686a8652b8eb6989518da6899eba55212b3e19c",
    "e0df1665651d75bb56815f049592dfa2056e62964e95956be89890ab01e557f982213a56caf6c42b757c437e",
    "0163758a811bd64dc0e26cab210f9bc7a3b14cebff2a0ec9b2b08c9b2eab5fc",
);
/// Tue Mar 5 09:07:03 UTC 2024, the vector's TIMESTAMP.
const NOW_MS: u64 = 1_709_629_623_000;
/// The last instant of year 9999, the last a four-digit TIMESTAMP year can write.
const LAST_WRITABLE_MS: u64 = 253_402_300_799_999;

struct Fixture {
    keys: SigningKeys,
    verifier: Verifier,
    sealed_verifier: String,
    challenge: Challenge,
    block: Vec<u8>,
    b: [u8; B_BYTES],
}

impl Fixture {
    fn new() -> Self {
        let keys = SigningKeys::parse(&signing_keys_json()).expect("signing keys");
        let salt: [u8; SALT_BYTES] = hex(SALT).try_into().expect("16-byte salt");
        let verifier = Verifier::new(POOL_ID, USER, PASSWORD, salt).expect("verifier");
        let sealed_verifier = verifier.seal(&keys).expect("sealed verifier");
        let mut b = [0u8; B_BYTES];
        let short = hex(B);
        b[B_BYTES - short.len()..].copy_from_slice(&short);
        let challenge = srp::start(&keys, CLIENT_ID, &verifier, SRP_A, &b, NOW_MS).expect("start");
        let block = STANDARD
            .decode(&challenge.secret_block)
            .expect("base64 block");
        Self {
            keys,
            verifier,
            sealed_verifier,
            challenge,
            block,
            b,
        }
    }

    /// The signature the clients send for `timestamp`, with the vector's HKDF key.
    fn valid_signature(&self, user: &str, timestamp: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&hex(HKDF_KEY)).expect("hmac key");
        for part in [
            POOL_NAME.as_bytes(),
            user.as_bytes(),
            &self.block,
            timestamp.as_bytes(),
        ] {
            mac.update(part);
        }
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .filter_map(|i| text.get(i..i + 2))
        .filter_map(|pair| u8::from_str_radix(pair, 16).ok())
        .collect()
}

thread_local! {
    static FIXTURE: Fixture = Fixture::new();
}

fuzz_target!(|data: &[u8]| {
    let [flags, srp_a, block, username, timestamp, signature, stored] = fields::<7>(data);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    FIXTURE.with(|f| {
        run(
            f,
            flags,
            &text(srp_a),
            &text(block),
            &text(username),
            &text(timestamp),
            &text(signature),
            &text(stored),
        )
    });
});

#[allow(clippy::too_many_arguments)]
fn run(
    f: &Fixture,
    flags: &[u8],
    srp_a: &str,
    block: &str,
    username: &str,
    timestamp: &str,
    signature: &str,
    stored: &str,
) {
    // Every instant a TIMESTAMP can write passes at that instant.
    if let Some(bytes) = flags.get(1..9) {
        let ms = u64::from_be_bytes(bytes.try_into().unwrap_or_default()) % (LAST_WRITABLE_MS + 1);
        let written = srp::format_timestamp(ms);
        assert_eq!(
            srp::check_timestamp(&written, ms),
            Ok(()),
            "{written} at {ms}"
        );
    }
    let timestamp_ok = srp::check_timestamp(timestamp, NOW_MS).is_ok();
    let _ = srp::pool_name(username);

    // The stored verifier.
    let stored = if stored == "$VERIFIER" {
        f.sealed_verifier.as_str()
    } else {
        stored
    };
    let opened = Verifier::open_sealed(&f.keys, stored, POOL_ID, username);
    if stored != f.sealed_verifier {
        assert!(
            opened.is_err(),
            "a stored verifier this process never sealed opened"
        );
    } else if username == USER {
        assert_eq!(opened.as_ref().ok(), Some(&f.verifier));
    }

    // SECRET_BLOCK, then the proof.
    let block = if block == "$BLOCK" {
        f.challenge.secret_block.as_str()
    } else {
        block
    };
    let expected = f.valid_signature(username, timestamp);
    let signature = if signature == "$VALID" {
        expected.as_str()
    } else {
        signature
    };
    match srp::open(&f.keys, block, POOL_ID, CLIENT_ID, NOW_MS) {
        Ok(open) => {
            assert_eq!(STANDARD.decode(block).ok().as_deref(), Some(&f.block[..]));
            assert_eq!(open.challenge_id(), f.challenge.challenge_id);
            let verdict = open.verify(username, &f.verifier, timestamp, signature, NOW_MS);
            let right_signature = STANDARD.decode(signature).ok()
                == STANDARD.decode(&expected).ok()
                && STANDARD.decode(signature).is_ok();
            let deserved = username == USER && timestamp_ok && right_signature;
            assert_eq!(
                verdict.is_ok(),
                deserved,
                "user {username:?}, TIMESTAMP {timestamp:?}, signature {signature:?}: {verdict:?}"
            );
        }
        Err(_) => assert_ne!(
            STANDARD.decode(block).ok().as_deref(),
            Some(&f.block[..]),
            "the real SECRET_BLOCK was refused"
        ),
    }

    // SRP_A, only when asked (each valid one costs two 3072-bit exponentiations).
    if flags.first().is_some_and(|b| b & 1 == 1) {
        if let Ok(challenge) = srp::start(&f.keys, CLIENT_ID, &f.verifier, srp_a, &f.b, NOW_MS) {
            assert!(
                srp::open(&f.keys, &challenge.secret_block, POOL_ID, CLIENT_ID, NOW_MS).is_ok()
            );
        }
    }
}
