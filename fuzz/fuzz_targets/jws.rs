//! Compact JWS: split and decode, verify against a fixed key set of every algorithm family,
//! read the claims, and authenticate through a configuration (issuer, expiry, token use,
//! client) at a fixed clock.
//!
//! Beyond "no panic": a signature that verifies was made with a key bound to the header's
//! `alg` and found by the header's `kid`; a token that authenticates also verifies with the
//! same keys on its own, and its claims passed every rule (issuer, expiry, issued-at, client).
#![no_main]

use edge_revoke::{
    auth::{Candidate, Expect},
    claims::{Claims, TokenUse},
    config::{Config, PoolKeys},
    jwk::{Alg, KeySet},
    token::UntrustedToken,
};
use edge_revoke_fuzz::{
    all_algs, asymmetric_keys, hmac_keys, issuer_for, single_key, token_config, verify_candidate,
    verify_signature, NOW_MS,
};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    sets: Vec<KeySet>,
    config: Option<Config>,
}

thread_local! {
    static FIXTURE: Fixture = Fixture {
        sets: [asymmetric_keys(), hmac_keys()]
            .into_iter()
            .chain(Alg::ALL.into_iter().map(single_key))
            .collect(),
        config: Config::from_env(&token_config()).ok(),
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    FIXTURE.with(|fixture| run(fixture, text));
});

fn run(fixture: &Fixture, text: &str) {
    // Which sets verified the signature (the pools' keys are the first two sets).
    let mut verified = vec![false; fixture.sets.len()];
    if let Ok(token) = UntrustedToken::parse(text) {
        let _ = Claims::parse(token.payload());
        for (i, set) in fixture.sets.iter().enumerate() {
            if let Ok(valid) = verify_signature(&token, set, all_algs()) {
                assert_eq!(valid.key().alg().name(), token.header().alg());
                let found = set.find(token.header().kid()).map(|k| k.alg());
                assert_eq!(found, Some(valid.key().alg()));
                verified[i] = true;
            }
        }
    }
    let Some(config) = &fixture.config else {
        panic!("the fuzz configuration must parse");
    };
    // One expectation per input (each costs a signature check), chosen by its length.
    let expect = match text.len() % 3 {
        0 => Expect::default(),
        1 => Expect::ACCESS,
        _ => Expect {
            token_use: Some(TokenUse::Id),
            client_id: Some("fuzzclient"),
        },
    };
    let Ok(candidate) = Candidate::parse(text, config, &expect) else {
        return;
    };
    let pool = candidate.pool();
    let keys = match &pool.keys {
        PoolKeys::Inline(keys) | PoolKeys::Local(keys) => keys.clone(),
        PoolKeys::Remote(_) => panic!("the fuzz configuration has no remote keys"),
    };
    let issuer = pool.issuer.clone();
    let set_index = usize::from(issuer != issuer_for("asym"));
    if let Ok(authenticated) = verify_candidate(candidate, &keys, &expect, NOW_MS) {
        // The pools hold the same keys as the first two sets, with their algorithms allowed.
        assert!(
            verified[set_index],
            "authenticated without a signature its key set verifies"
        );
        let claims = authenticated.claims();
        assert_eq!(claims.iss, issuer);
        assert!(NOW_MS < claims.exp.as_millis());
        assert!(claims.iat.as_millis() <= NOW_MS + 60_000);
        assert_eq!(authenticated.client_id(), "fuzzclient");
        if let Some(wanted) = expect.token_use {
            assert_eq!(claims.token_use, wanted);
        }
    }
}
