//! The local pool's sealed tokens (JWE compact, `dir` + A256GCM): refresh tokens above all,
//! and the same opener for sessions and SRP state. Three kinds of input: any text opened as
//! a token; claims the harness seals and opens again; and a real refresh token with one of its
//! five segments replaced.
//!
//! Beyond "no panic": nothing opens that this process did not seal (the fuzzer cannot forge
//! the AEAD); a sealed token opens only for its purpose and with its key, to exactly the claims
//! sealed (as JSON writes them); a refresh token with any segment changed opens to nothing.
#![no_main]

use edge_revoke::{
    config::Config,
    json,
    local::{
        seal::{self, Purpose},
        tokens::{open_refresh_token, refresh_token, Session},
    },
    signing::SigningKeys,
};
use edge_revoke_fuzz::{fields, signing_keys_json, support, NOW_MS};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const PURPOSES: [Purpose; 4] = [
    Purpose::Refresh,
    Purpose::Session,
    Purpose::SrpChallenge,
    Purpose::SrpVerifier,
];

struct Fixture {
    keys: SigningKeys,
    /// The older key alone: what remains once the current key is removed from `SIGNING_KEYS`.
    older_only: SigningKeys,
    valid: String,
}

impl Fixture {
    fn new() -> Self {
        let all = signing_keys_json();
        let keys = SigningKeys::parse(&all).expect("signing keys parse");
        let older_only =
            SigningKeys::parse(&json!({"keys": [all["keys"][1].clone()]})).expect("older key");
        let mut vars = support::vars();
        vars.insert("SIGNING_KEYS".into(), all);
        let config = Config::from_env(&vars).expect("the test configuration parses");
        let pool = config.pool(support::LOCAL).expect("the local pool");
        let session = Session {
            sub: "8d2f1c3e-0000-4000-8000-000000000001".into(),
            client_id: support::PUBLIC.into(),
            origin_jti: "origin-jti-1".into(),
            event_id: "event-1".into(),
            auth_time_s: NOW_MS / 1000,
        };
        let valid = refresh_token(pool, &keys, &session, NOW_MS).expect("a refresh token");
        Self {
            keys,
            older_only,
            valid,
        }
    }
}

thread_local! {
    static FIXTURE: Fixture = Fixture::new();
}

fuzz_target!(|data: &[u8]| {
    let [mode, a, b] = fields::<3>(data);
    FIXTURE.with(|fixture| run(fixture, mode.first().copied().unwrap_or(0), a, b));
});

fn opens_nowhere(fixture: &Fixture, token: &str) {
    for purpose in PURPOSES {
        assert!(
            seal::open(&fixture.keys, purpose, token).is_none(),
            "{purpose:?} opened a token this process never sealed: {token}"
        );
    }
    assert!(open_refresh_token(&fixture.keys, token).is_none());
}

fn run(fixture: &Fixture, mode: u8, a: &[u8], b: &[u8]) {
    if let Ok(text) = std::str::from_utf8(a) {
        let _ = seal::kid_of(text);
        let _ = seal::looks_sealed(text);
        if text != fixture.valid {
            opens_nowhere(fixture, text);
        }
    }
    match mode % 3 {
        1 => {
            let Ok(claims) = json::parse_object(b) else {
                return;
            };
            let sealed = seal::seal(&fixture.keys, Purpose::Refresh, &claims).expect("sealing");
            // The opener reads at most 4096 bytes; the Worker seals only small claims sets.
            if sealed.len() > 4096 {
                opens_nowhere(fixture, &sealed);
                return;
            }
            // Sealing writes the claims as JSON text and opening parses that text back: what
            // comes out is the claims as that text reads (a number with more digits than an f64
            // holds may come back one ulp away from the input's reading).
            let written = json::parse_object(Value::Object(claims.clone()).to_string().as_bytes())
                .expect("serde_json reads what it writes");
            assert_eq!(
                seal::open(&fixture.keys, Purpose::Refresh, &sealed).as_ref(),
                Some(&written)
            );
            for purpose in &PURPOSES[1..] {
                assert!(seal::open(&fixture.keys, *purpose, &sealed).is_none());
            }
            assert!(seal::open(&fixture.older_only, Purpose::Refresh, &sealed).is_none());
            let opened = open_refresh_token(&fixture.keys, &sealed);
            let text = |name: &str| written.get(name).and_then(Value::as_str);
            let number = |name: &str| written.get(name).and_then(Value::as_u64);
            let complete = ["pool", "sub", "client_id", "origin_jti", "event_id"]
                .iter()
                .all(|name| text(name).is_some())
                && number("auth_time").is_some()
                && number("exp").is_some();
            assert_eq!(opened.is_some(), complete);
            if let Some(opened) = opened {
                assert_eq!(Some(opened.pool.as_str()), text("pool"));
                assert_eq!(Some(opened.session.sub.as_str()), text("sub"));
                assert_eq!(Some(opened.session.auth_time_s), number("auth_time"));
                assert_eq!(Some(opened.exp_s), number("exp"));
            }
        }
        2 => {
            let Ok(replacement) = std::str::from_utf8(b) else {
                return;
            };
            let mut segments: Vec<&str> = fixture.valid.split('.').collect();
            let index = usize::from(mode / 3) % segments.len();
            segments[index] = replacement;
            let mutated = segments.join(".");
            if mutated != fixture.valid {
                opens_nowhere(fixture, &mutated);
            } else {
                assert!(open_refresh_token(&fixture.keys, &mutated).is_some());
            }
        }
        _ => {}
    }
}
