//! SigV4: a raw HTTP request (the suites' `.sreq` form) verified with the suites' credential
//! and clock, its `Authorization` header read on its own, and the same request signed and
//! verified again.
//!
//! Beyond "no panic": a request that verifies names the suite's key, a signature whose scope
//! date is the `X-Amz-Date` day; whatever `sign` signs, `verify` accepts (same key, region,
//! service, within the skew), and a different secret does not verify it.
#![no_main]

use edge_revoke::sigv4::{format_amz_date, request_signature, sign, verify};
use edge_revoke_fuzz::http::RawRequest;
use libfuzzer_sys::fuzz_target;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const SERVICE: &str = "service";
/// 2015-08-30T12:36:00Z, the suites' signing time.
const SUITE_MS: u64 = 1_440_938_160_000;
const SKEW_MS: u64 = 15 * 60_000;

fn lookup(akid: &str) -> Option<String> {
    (akid == AKID).then(|| SECRET.to_owned())
}

fn wrong_secret(akid: &str) -> Option<String> {
    (akid == AKID).then(|| "another-secret".to_owned())
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = RawRequest::parse(data) else {
        return;
    };
    let _ = request_signature(&request.headers);
    if let Ok(verified) = verify(&request.parts(), SERVICE, SUITE_MS, SKEW_MS, &lookup) {
        assert_eq!(verified.access_key_id, AKID);
        assert_eq!(
            verified.date,
            verified.amz_date.get(..8).unwrap_or_default()
        );
        assert!(verify(&request.parts(), SERVICE, SUITE_MS, SKEW_MS, &wrong_secret).is_err());
    }

    // Sign the request as a client would (replacing what it decides), then verify it.
    let mut unsigned = request.clone();
    unsigned.headers.retain(|(name, _)| {
        ![
            "authorization",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-content-sha256",
        ]
        .contains(&name.to_ascii_lowercase().as_str())
    });
    let amz_date = format_amz_date(SUITE_MS);
    for include_content_sha256 in [false, true] {
        let Ok(added) = sign(
            &unsigned.parts(),
            AKID,
            SECRET,
            REGION,
            SERVICE,
            &amz_date,
            None,
            include_content_sha256,
        ) else {
            continue;
        };
        let mut signed = unsigned.clone();
        signed.headers.extend(added);
        let verified = verify(&signed.parts(), SERVICE, SUITE_MS, SKEW_MS, &lookup);
        assert!(
            verified.is_ok(),
            "a request sign() signed does not verify: {verified:?}\n{signed:?}"
        );
        assert!(verify(&signed.parts(), SERVICE, SUITE_MS, SKEW_MS, &wrong_secret).is_err());
    }
});
