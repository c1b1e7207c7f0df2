//! The signature backend the conformance and threat suites run, recording every question it is
//! asked, so the same questions can be put to the WebCrypto backend in real workerd.
//!
//! [`Recorded`] is RustCrypto's verdict, unchanged. When `EDGE_REVOKE_BACKEND_CASES` names a
//! directory, each call also appends one JSON line to `<dir>/<test>.jsonl` (the test's name is
//! its thread's): the key as loaded (its JWK, with an HMAC secret put back, so the Worker loads
//! the very same key), the message, the signature and the verdict. `tests/worker/
//! webcrypto-conformance.test.mjs` runs these suites so, then replays every line through the
//! shipped backend and expects the same verdicts.

use std::{fs::OpenOptions, io::Write, path::PathBuf};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use edge_revoke::{
    crypto::{RustCrypto, SignatureVerifier},
    jwk::{KeyMaterial, VerifyingKey},
};
use serde_json::{json, Value};

/// Where the cases go, if anywhere.
fn directory() -> Option<PathBuf> {
    std::env::var_os("EDGE_REVOKE_BACKEND_CASES").map(PathBuf::from)
}

/// RustCrypto, recording each question and its answer when asked to.
#[derive(Debug, Default, Clone, Copy)]
pub struct Recorded;

impl SignatureVerifier for Recorded {
    fn verify(&self, key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
        let valid = RustCrypto.verify(key, message, signature);
        if let Some(dir) = directory() {
            record(&dir, key, message, signature, valid);
        }
        valid
    }
}

fn record(
    dir: &std::path::Path,
    key: &VerifyingKey,
    message: &[u8],
    signature: &[u8],
    valid: bool,
) {
    let mut jwk = key.public_jwk().clone();
    if let KeyMaterial::Hmac(secret) = key.material() {
        jwk.insert(
            "k".into(),
            Value::from(URL_SAFE_NO_PAD.encode(secret.as_ref())),
        );
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .replace("::", "-");
    let line = json!({
        "test": test,
        "alg": key.alg().name(),
        "jwk": jwk,
        "message": URL_SAFE_NO_PAD.encode(message),
        "signature": URL_SAFE_NO_PAD.encode(signature),
        "valid": valid,
    });
    let path = dir.join(format!("{test}.jsonl"));
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    writeln!(file, "{line}").unwrap();
}
