//! The signature step, and local pools' crypto, behind small traits.
//!
//! The core awaits [`AsyncSignatureVerifier::verify_async`]: is `signature` valid for `message`
//! under `key`, with the algorithm the key is bound to? The answer is a future because a
//! platform's own crypto answers with promises (WebCrypto's `crypto.subtle.verify`), so the
//! WebCrypto backend (`src/wasm/webcrypto.rs`) is one type implementing that trait, handed to
//! the core in `Io::verifier`. Every backend runs [`signature_fits`] first: the checks that are
//! ours, not the arithmetic's (exact signature lengths, the canonical `S` of Ed25519, the
//! small-order keys Ed25519 refuses), so that a more lenient library cannot widen what verifies.
//!
//! [`SignatureVerifier`] is a backend that answers at once; every one is also an
//! `AsyncSignatureVerifier` whose future is ready immediately. [`RustCrypto`] is one, with
//! jwt-compact's pure-Rust algorithms, in the native build only: the Worker and the browser
//! build carry no RSA, P-256 or Ed25519 arithmetic of their own.
//!
//! [`LocalPoolCrypto`] is what local pools ask of the platform: RS256 signatures for the tokens
//! they issue, PBKDF2 for passwords, HKDF and AES-256-GCM for sealed tokens. Those functions
//! (`local::tokens`, `local::password`, `local::seal`) keep their arguments and reach the port
//! through [`local_pool_crypto`]: the adapter installs WebCrypto once per isolate
//! ([`install_local_pool_crypto`]); natively it is `RustCrypto` unless a test installs a fake.

use core::cell::Cell;

use crate::{
    alg::Alg,
    jwk::{KeyMaterial, VerifyingKey},
    ports::LocalFuture,
    signing::SigningKey,
};

#[cfg(not(target_arch = "wasm32"))]
mod rust;
#[cfg(not(target_arch = "wasm32"))]
pub use rust::RustCrypto;

/// Checks one signature, answering later. Implementations must not panic on any input, must
/// run [`signature_fits`] before anything else, and must answer `false` (never hang) when the
/// platform fails.
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

/// The order of the Ed25519 group, `L = 2^252 + 27742317777372353535851937790883648493`,
/// little-endian as signatures encode `S`.
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The encodings of Ed25519's points of small order (the eight torsion points, and those that
/// encode them again with an x sign bit or a y at or above p), as libsodium's blocklist lists
/// them. A signature under such a key can verify for many messages at once.
const ED25519_SMALL_ORDER: [[u8; 32]; 7] = [
    // 0 (order 4)
    [0; 32],
    // 1 (order 1)
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    // 2707385501144840649318225287225658788936804267575313519463743609750303402022 (order 8)
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    // 55188659117513257062467267217118295137698188065244968500265048394206261417927 (order 8)
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    // p - 1 (order 2)
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // p (= 0, non-canonical)
    [
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // p + 1 (= 1, non-canonical)
    [
        0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
];

/// Whether an Ed25519 public key or `R` is a canonical encoding (y below p = 2^255 - 19, RFC
/// 8032 §5.1.3 step 1) of a point that is not of small order (the sign bit aside).
fn ed25519_point_fits(encoded: &[u8]) -> bool {
    let Ok(mut point) = <[u8; 32]>::try_from(encoded) else {
        return false;
    };
    point[31] &= 0x7f;
    // y >= p: the low byte at least 0xed and every other bit of y set.
    let at_least_p =
        point[0] >= 0xed && point[1..31].iter().all(|b| *b == 0xff) && point[31] == 0x7f;
    !at_least_p && !ED25519_SMALL_ORDER.contains(&point)
}

/// Whether a little-endian scalar is below the group order L (RFC 8032 §5.1.7 step 1).
fn ed25519_canonical_scalar(s: &[u8]) -> bool {
    for (byte, bound) in s.iter().rev().zip(ED25519_L.iter().rev()) {
        if byte != bound {
            return byte < bound;
        }
    }
    false
}

/// The checks that run before any signature arithmetic, in every backend: the signature has the
/// one length the key's algorithm allows (an RSA signature is exactly as long as the modulus,
/// RFC 8017 §8.2.2; ES256 is the 64-byte `R || S` of RFC 7518 §3.4, never DER; Ed25519 is 64
/// bytes; HS256 the full 32-byte MAC); an RSA signature's representative is below the modulus
/// (RSAVP1, RFC 8017 §5.2.2 step 1: otherwise `s + n` would verify as `s` wherever a library
/// skips the check, as the `rsa` crate does on the PSS path, a second spelling of a signed
/// token); an Ed25519 signature has a canonical `S` (RFC 8032 §5.1.7), and its key and `R` are
/// canonical encodings of points not of small order. The key must be the kind its algorithm
/// needs (bound when loaded, so a mismatch is a bug, refused).
pub fn signature_fits(key: &VerifyingKey, signature: &[u8]) -> bool {
    match (key.alg(), key.material()) {
        (
            Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512,
            KeyMaterial::Rsa(public),
        ) => signature.len() == public.size() && signature < public.modulus(),
        (Alg::Es256, KeyMaterial::P256(_)) => signature.len() == 64,
        (Alg::EdDsa, KeyMaterial::Ed25519(public)) => {
            signature.len() == 64
                && ed25519_point_fits(public)
                && signature
                    .split_at_checked(32)
                    .is_some_and(|(r, s)| ed25519_point_fits(r) && ed25519_canonical_scalar(s))
        }
        (Alg::Hs256, KeyMaterial::Hmac(_)) => signature.len() == 32,
        _ => false,
    }
}

/// Why a platform crypto call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The platform does not run this (PBKDF2 above the count it allows).
    Unsupported(String),
    /// The platform refused or failed (a key it could not import, a rejected promise).
    Failed(String),
}

impl core::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unsupported(what) => write!(f, "not supported here: {what}"),
            Self::Failed(what) => write!(f, "crypto failed: {what}"),
        }
    }
}

/// How a sealing key is derived: HKDF-SHA256 (RFC 5869) from the signing key's private
/// exponent, with this salt and info, to a 32-byte AES-256-GCM key.
#[derive(Debug, Clone, Copy)]
pub struct SealKey<'a> {
    /// HKDF's salt.
    pub salt: &'a [u8],
    /// HKDF's info: which purpose (and key) the derived key serves.
    pub info: &'a str,
}

/// Local pools' crypto: signing issued tokens, hashing passwords, sealing refresh tokens and
/// sessions. Implementations must not panic, and must answer (never hang) when the platform
/// fails.
pub trait LocalPoolCrypto {
    /// An RS256 (RSASSA-PKCS1-v1_5, SHA-256) signature of `message` with `key`.
    fn sign_rs256<'a>(
        &'a self,
        key: &'a SigningKey,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>>;

    /// PBKDF2-HMAC-SHA256 of `password` and `salt`, 32 bytes. May answer
    /// [`CryptoError::Unsupported`] above the count the platform runs (workerd: 100 000).
    fn pbkdf2_sha256<'a>(
        &'a self,
        password: &'a [u8],
        salt: &'a [u8],
        iterations: u32,
    ) -> LocalFuture<'a, Result<[u8; 32], CryptoError>>;

    /// AES-256-GCM of `plaintext` with the key `derivation` makes from `key`: the ciphertext
    /// followed by the 16-byte tag.
    fn seal<'a>(
        &'a self,
        key: &'a SigningKey,
        derivation: SealKey<'a>,
        iv: &'a [u8; 12],
        plaintext: &'a [u8],
        aad: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>>;

    /// The plaintext of `sealed` (ciphertext and tag), or `None` when it does not authenticate.
    fn open<'a>(
        &'a self,
        key: &'a SigningKey,
        derivation: SealKey<'a>,
        iv: &'a [u8; 12],
        sealed: &'a [u8],
        aad: &'a [u8],
    ) -> LocalFuture<'a, Option<Vec<u8>>>;
}

thread_local! {
    /// The installed backend (a Worker isolate has one thread).
    static LOCAL_POOL_CRYPTO: Cell<Option<&'static dyn LocalPoolCrypto>> = const { Cell::new(None) };
}

/// Makes `backend` the local-pool crypto of this thread (of this isolate, in a Worker).
pub fn install_local_pool_crypto(backend: &'static dyn LocalPoolCrypto) {
    LOCAL_POOL_CRYPTO.with(|cell| cell.set(Some(backend)));
}

/// The local-pool crypto of this thread: the installed backend; natively [`RustCrypto`] when
/// none is; in a wasm build without one, a backend that refuses every call.
pub fn local_pool_crypto() -> &'static dyn LocalPoolCrypto {
    match LOCAL_POOL_CRYPTO.with(Cell::get) {
        Some(backend) => backend,
        #[cfg(not(target_arch = "wasm32"))]
        None => &RustCrypto,
        #[cfg(target_arch = "wasm32")]
        None => &NoLocalPoolCrypto,
    }
}

/// What a wasm build answers before the adapter installs its backend: a refusal, never a guess.
#[cfg(target_arch = "wasm32")]
struct NoLocalPoolCrypto;

#[cfg(target_arch = "wasm32")]
impl LocalPoolCrypto for NoLocalPoolCrypto {
    fn sign_rs256<'a>(
        &'a self,
        _key: &'a SigningKey,
        _message: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(async { Err(CryptoError::Failed("no platform crypto installed".into())) })
    }

    fn pbkdf2_sha256<'a>(
        &'a self,
        _password: &'a [u8],
        _salt: &'a [u8],
        _iterations: u32,
    ) -> LocalFuture<'a, Result<[u8; 32], CryptoError>> {
        Box::pin(async { Err(CryptoError::Failed("no platform crypto installed".into())) })
    }

    fn seal<'a>(
        &'a self,
        _key: &'a SigningKey,
        _derivation: SealKey<'a>,
        _iv: &'a [u8; 12],
        _plaintext: &'a [u8],
        _aad: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(async { Err(CryptoError::Failed("no platform crypto installed".into())) })
    }

    fn open<'a>(
        &'a self,
        _key: &'a SigningKey,
        _derivation: SealKey<'a>,
        _iv: &'a [u8; 12],
        _sealed: &'a [u8],
        _aad: &'a [u8],
    ) -> LocalFuture<'a, Option<Vec<u8>>> {
        Box::pin(async { None })
    }
}
