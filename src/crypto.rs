//! The signature step, behind two small traits.
//!
//! The core awaits [`AsyncSignatureVerifier::verify_async`]: is `signature` valid for `message`
//! under `key`, with the algorithm the key is bound to? The answer is a future because a
//! platform's own crypto answers with promises (WebCrypto's `crypto.subtle.verify`), so a
//! WebCrypto backend is one type implementing that trait, handed to the core in `Io::verifier`.
//!
//! [`SignatureVerifier`] is a backend that answers at once; every one is also an
//! `AsyncSignatureVerifier` whose future is ready immediately. [`RustCrypto`] is one, with
//! jwt-compact's pure-Rust algorithms, here and in the Worker.

use jwt_compact::{
    alg::{Ed25519, Es256, Hs256, Rsa},
    Algorithm, AlgorithmSignature,
};
use rsa::traits::PublicKeyParts;

use crate::{
    alg::Alg,
    jwk::{KeyMaterial, VerifyingKey},
    ports::LocalFuture,
};

/// Checks one signature, answering later. Implementations must not panic on any input, and
/// must answer `false` (never hang) when the platform fails.
pub trait AsyncSignatureVerifier {
    /// Whether `signature` is a valid `key.alg()` signature of `message` under `key`.
    fn verify_async<'a>(
        &'a self,
        key: &'a VerifyingKey,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, bool>;
}

/// Checks one signature at once. Implementations must not panic on any input.
pub trait SignatureVerifier: AsyncSignatureVerifier {
    /// Whether `signature` is a valid `key.alg()` signature of `message` under `key`.
    fn verify(&self, key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool;
}

impl<T: SignatureVerifier> AsyncSignatureVerifier for T {
    fn verify_async<'a>(
        &'a self,
        key: &'a VerifyingKey,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, bool> {
        let valid = SignatureVerifier::verify(self, key, message, signature);
        Box::pin(async move { valid })
    }
}

/// Pure-Rust signatures through jwt-compact (RustCrypto `rsa`, `p256`, `ed25519-compact`, `hmac`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCrypto;

impl SignatureVerifier for RustCrypto {
    fn verify(&self, key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
        match (key.alg(), key.material()) {
            (alg, KeyMaterial::Rsa(public)) => {
                // A signature is exactly as long as the modulus (RFC 8017 §8.2.2 step 1); a
                // 257-byte signature with a leading zero or a truncated one is not valid.
                if signature.len() != public.size() {
                    return false;
                }
                // RSAVP1 (RFC 8017 §5.2.2 step 1): a representative at or above the modulus is
                // out of range. The rsa crate checks this for PKCS#1 v1.5 but not on the PSS path
                // jwt-compact takes, where `s + n` would verify as `s`: a second spelling of a
                // signed token.
                if rsa::BigUint::from_bytes_be(signature) >= *public.n() {
                    return false;
                }
                let rsa = match alg {
                    Alg::Rs256 => Rsa::rs256(),
                    Alg::Rs384 => Rsa::rs384(),
                    Alg::Rs512 => Rsa::rs512(),
                    Alg::Ps256 => Rsa::ps256(),
                    Alg::Ps384 => Rsa::ps384(),
                    Alg::Ps512 => Rsa::ps512(),
                    _ => return false,
                };
                check(&rsa, public, message, signature)
            }
            (Alg::Es256, KeyMaterial::P256(public)) => check(&Es256, public, message, signature),
            (Alg::EdDsa, KeyMaterial::Ed25519(public)) => {
                check(&Ed25519, public, message, signature)
            }
            (Alg::Hs256, KeyMaterial::Hmac(secret)) => check(&Hs256, secret, message, signature),
            // A key is bound to its algorithm when loaded, so this arm means a bug: refuse.
            _ => false,
        }
    }
}

/// Runs one jwt-compact algorithm, refusing wrong-length signatures before they reach
/// `try_from_slice` (HS256's would panic on a wrong length; ES256 needs exactly 64-byte R‖S,
/// so a DER signature is refused here, RFC 7518 §3.4).
fn check<A: Algorithm>(alg: &A, key: &A::VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    if let Some(len) = <A::Signature as AlgorithmSignature>::LENGTH {
        if signature.len() != len.get() {
            return false;
        }
    }
    match A::Signature::try_from_slice(signature) {
        Ok(signature) => alg.verify_signature(&signature, key, message),
        Err(_) => false,
    }
}
