//! Pure-Rust crypto for the native build: jwt-compact's algorithms (RustCrypto `rsa`, `p256`,
//! `ed25519-compact`, `hmac`) for signatures, `pbkdf2`, `hkdf` and `aes-gcm` for local pools.

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use hkdf::Hkdf;
use jwt_compact::{
    alg::{Ed25519, Es256, Hs256, Rsa, RsaPublicKey},
    jwk::JsonWebKey,
    Algorithm, AlgorithmSignature,
};
use sha2::Sha256;

use super::{signature_fits, CryptoError, LocalPoolCrypto, SealKey, SignatureVerifier};
use crate::{
    alg::Alg,
    jwk::{KeyMaterial, VerifyingKey},
    ports::LocalFuture,
    signing::SigningKey,
};

/// Pure-Rust signatures through jwt-compact, and local pools' crypto, for the native build.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCrypto;

impl SignatureVerifier for RustCrypto {
    fn verify(&self, key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
        if !signature_fits(key, signature) {
            return false;
        }
        match (key.alg(), key.material()) {
            (alg, KeyMaterial::Rsa(public)) => {
                let jwk = JsonWebKey::Rsa {
                    modulus: public.modulus().into(),
                    public_exponent: public.exponent().into(),
                    private_parts: None,
                };
                let Ok(public) = RsaPublicKey::try_from(&jwk) else {
                    return false;
                };
                let rsa = match alg {
                    Alg::Rs256 => Rsa::rs256(),
                    Alg::Rs384 => Rsa::rs384(),
                    Alg::Rs512 => Rsa::rs512(),
                    Alg::Ps256 => Rsa::ps256(),
                    Alg::Ps384 => Rsa::ps384(),
                    Alg::Ps512 => Rsa::ps512(),
                    _ => return false,
                };
                check(&rsa, &public, message, signature)
            }
            (Alg::Es256, KeyMaterial::P256(public)) => {
                let Ok(public) =
                    <Es256 as Algorithm>::VerifyingKey::from_sec1_bytes(&public.sec1())
                else {
                    return false;
                };
                check(&Es256, &public, message, signature)
            }
            (Alg::EdDsa, KeyMaterial::Ed25519(public)) => {
                let public = <Ed25519 as Algorithm>::VerifyingKey::new(*public);
                check(&Ed25519, &public, message, signature)
            }
            (Alg::Hs256, KeyMaterial::Hmac(secret)) => check(&Hs256, secret, message, signature),
            // A key is bound to its algorithm when loaded, so this arm means a bug: refuse.
            _ => false,
        }
    }
}

/// Runs one jwt-compact algorithm on a signature whose length `signature_fits` checked.
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

fn cipher(key: &SigningKey, derivation: SealKey<'_>) -> Option<Aes256Gcm> {
    let hkdf = Hkdf::<Sha256>::new(Some(derivation.salt), key.private_exponent());
    let mut aes_key = [0u8; 32];
    hkdf.expand(derivation.info.as_bytes(), &mut aes_key).ok()?;
    Aes256Gcm::new_from_slice(&aes_key).ok()
}

impl LocalPoolCrypto for RustCrypto {
    fn sign_rs256<'a>(
        &'a self,
        key: &'a SigningKey,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        let signature = Rsa::rs256().sign(key.rsa_private_key(), message);
        Box::pin(async move { Ok(signature.as_bytes().into_owned()) })
    }

    fn pbkdf2_sha256<'a>(
        &'a self,
        password: &'a [u8],
        salt: &'a [u8],
        iterations: u32,
    ) -> LocalFuture<'a, Result<[u8; 32], CryptoError>> {
        let mut hash = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut hash);
        Box::pin(async move { Ok(hash) })
    }

    fn seal<'a>(
        &'a self,
        key: &'a SigningKey,
        derivation: SealKey<'a>,
        iv: &'a [u8; 12],
        plaintext: &'a [u8],
        aad: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        let sealed = cipher(key, derivation)
            .ok_or_else(|| CryptoError::Failed("key derivation failed".into()))
            .and_then(|cipher| {
                cipher
                    .encrypt(
                        &Nonce::from(*iv),
                        Payload {
                            msg: plaintext,
                            aad,
                        },
                    )
                    .map_err(|_| CryptoError::Failed("encryption failed".into()))
            });
        Box::pin(async move { sealed })
    }

    fn open<'a>(
        &'a self,
        key: &'a SigningKey,
        derivation: SealKey<'a>,
        iv: &'a [u8; 12],
        sealed: &'a [u8],
        aad: &'a [u8],
    ) -> LocalFuture<'a, Option<Vec<u8>>> {
        let plaintext = cipher(key, derivation).and_then(|cipher| {
            cipher
                .decrypt(&Nonce::from(*iv), Payload { msg: sealed, aad })
                .ok()
        });
        Box::pin(async move { plaintext })
    }
}
