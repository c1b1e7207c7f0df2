//! Shared Signals SETs, through the receiver's whole pipeline as the Worker runs it: admit the
//! push (method, transmitter, bearer secret, media type, size), parse the SET, verify its
//! signature with the transmitter's keys, check its claims, map its events to actions. Two
//! kinds of input: a push body as the fuzzer writes it (field 0, with the headers from field
//! 1), and a header (empty: the transmitter's own) and payload (fields 2 and 3) the harness
//! signs with the transmitter's key,
//! so the claim checks and the event mapping see signed SETs of every shape.
//!
//! Beyond "no panic": nothing the fuzzer writes verifies unless its signature is exactly the
//! transmitter key's (Ed25519 is deterministic); a push without the exact bearer secret is
//! never admitted; a SET whose claims pass names this receiver in `aud`, came from the
//! transmitter's `iss` and carries a `jti`; every revocation an event maps to is for the
//! transmitter's pool, by `ssf:<id>`, at a time no later than receipt.
#![no_main]

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use edge_revoke::{
    config::Config,
    jwk::Alg,
    ssf::{
        self,
        push::{self, PushRequest},
        Action, Transmitter, TransmitterKeys, Transmitters, UntrustedSet,
    },
};
use edge_revoke_fuzz::{
    block_on, fields, public_jwk, signer,
    ssf::{AUDIENCE, ID, ISSUER, KID, SECRET},
    support, NOW_MS,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

struct Fixture {
    config: Config,
    transmitters: Transmitters,
    keys: signer::Keys,
}

impl Fixture {
    fn new() -> Self {
        let config = Config::from_env(&support::vars()).expect("the test configuration parses");
        let list = json!([{
            "id": ID, "issuer": ISSUER, "audience": AUDIENCE, "push_secret": SECRET,
            "pool": support::EXT, "algorithms": ["EdDSA"],
            "jwks": {"keys": [Value::Object(public_jwk(Alg::EdDsa, Some(KID)))]},
        }]);
        let transmitters =
            Transmitters::parse(&list, &config).expect("the fuzz transmitter parses");
        Self {
            config,
            transmitters,
            keys: signer::Keys::new(),
        }
    }

    fn transmitter(&self) -> &Transmitter {
        self.transmitters.by_id(ID).expect("the fuzz transmitter")
    }
}

thread_local! {
    static FIXTURE: Fixture = Fixture::new();
}

fuzz_target!(|data: &[u8]| {
    let [body, headers, header, payload] = fields::<4>(data);
    FIXTURE.with(|fixture| {
        push_as_written(fixture, body, headers);
        let (Ok(header), Ok(payload)) = (std::str::from_utf8(header), std::str::from_utf8(payload))
        else {
            return;
        };
        if payload.is_empty() {
            return;
        }
        // An empty header field stands for the transmitter's own header.
        let canonical = header.is_empty();
        let header = if canonical {
            format!(r#"{{"alg":"EdDSA","kid":"{KID}","typ":"secevent+jwt"}}"#)
        } else {
            header.to_owned()
        };
        let token = signer::token(&fixture.keys, Alg::EdDsa, &header, payload);
        let signed = run(fixture, &token);
        // With the transmitter's own header, its key's signature over a SET that parses always
        // verifies; what fails after that is the claims' or the events' business.
        if canonical && UntrustedSet::parse(&token, fixture.transmitter()).is_ok() {
            assert!(
                signed,
                "a SET signed with the transmitter's key did not verify"
            );
        }
    });
});

/// Field 1's first line is the method, the second the `Authorization` value, the third the
/// content type; field 0 is the body.
fn push_as_written(fixture: &Fixture, body: &[u8], headers: &[u8]) {
    let text = String::from_utf8_lossy(headers);
    let mut lines = text.split('\n');
    let method = lines.next().unwrap_or("");
    let authorization = lines.next();
    let content_type = lines.next();
    let request = PushRequest {
        method,
        authorization,
        content_type,
        body,
    };
    let Ok(admitted) = push::admit(&fixture.transmitters, ID, &request) else {
        return;
    };
    let presented = authorization
        .and_then(|a| a.split_once(' '))
        .map(|(_, s)| s);
    assert_eq!(presented, Some(SECRET), "admitted without the exact secret");
    assert_eq!(method, "POST");
    if run(fixture, admitted.token) {
        // Only a signature the key itself makes verifies.
        let (input, signature) = admitted
            .token
            .rsplit_once('.')
            .expect("a verified SET has three parts");
        let expected = signer::sign(&fixture.keys, Alg::EdDsa, input.as_bytes(), None);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(signature).ok(),
            Some(expected),
            "a SET verified with a signature the transmitter's key did not make"
        );
    }
}

/// The pipeline after admission; whether the signature verified.
fn run(fixture: &Fixture, token: &str) -> bool {
    let transmitter = fixture.transmitter();
    let Ok(set) = UntrustedSet::parse(token, transmitter) else {
        return false;
    };
    let _ = set.kid();
    let TransmitterKeys::Inline(keys) = &transmitter.keys else {
        panic!("the fuzz transmitter's keys are inline");
    };
    let verifier = edge_revoke::crypto::RustCrypto;
    let Ok(signed) = block_on(set.verify_signature(keys, transmitter, &verifier)) else {
        return false;
    };
    let Ok(verified) = signed.check_claims(transmitter, NOW_MS) else {
        return true;
    };
    assert!(!verified.jti().is_empty(), "a SET without a jti passed");
    assert!(
        verified.iat_ms() <= NOW_MS + ssf::set::IAT_FUTURE_SKEW_S * 1000,
        "a future iat passed"
    );
    let Some(pool) = fixture.config.pool(&transmitter.pool) else {
        panic!("the transmitter's pool is configured");
    };
    let Ok(actions) = ssf::actions(&verified, transmitter, pool, NOW_MS) else {
        return true;
    };
    let by = format!("ssf:{ID}");
    for action in actions {
        match action {
            Action::RevokeUser {
                pool: p,
                at_ms,
                by: who,
                user_id,
                ..
            } => {
                assert_eq!(p, support::EXT);
                assert_eq!(who, by);
                assert!(at_ms <= NOW_MS, "a revocation later than receipt");
                assert!(!user_id.is_empty(), "a revocation of nobody");
            }
            Action::RevokeSession {
                pool: p,
                at_ms,
                by: who,
                origin_jti,
                ..
            } => {
                assert_eq!(p, support::EXT);
                assert_eq!(who, by);
                assert!(at_ms <= NOW_MS, "a revocation later than receipt");
                assert!(!origin_jti.is_empty(), "a revocation of no session");
            }
            Action::ResolveAlias(pending) => {
                let resolved = pending.resolved("00000000-0000-4000-8000-000000000000");
                if let Action::RevokeUser { pool: p, at_ms, .. } = resolved {
                    assert_eq!(p, support::EXT);
                    assert!(at_ms <= NOW_MS);
                }
            }
            Action::Verification { transmitter: t, .. }
            | Action::StreamStatus { transmitter: t, .. } => assert_eq!(t, ID),
            Action::Ignore { .. } => {}
        }
    }
    true
}
