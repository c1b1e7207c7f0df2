//! Signing with the fixed keys, through the RustCrypto crates and ed25519-dalek directly (not
//! through edge-revoke or jwt-compact): the differential target's tokens and the seeds' tokens.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use ed25519_dalek::Signer as _;
use edge_revoke::jwk::Alg;
use hmac::{Hmac, Mac};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
use rsa::{
    pkcs1v15, pss,
    signature::{RandomizedSigner as _, SignatureEncoding as _},
    BigUint, RsaPrivateKey, RsaPublicKey,
};
use serde_json::{Map, Value};
use sha2::{Sha256, Sha384, Sha512};

use crate::private_jwk;

/// The fixed keys, loaded with the RustCrypto crates and ed25519-dalek directly.
pub struct Keys {
    pub rsa_private: RsaPrivateKey,
    pub rsa_public: RsaPublicKey,
    pub ec_signing: p256::ecdsa::SigningKey,
    pub ec_verifying: p256::ecdsa::VerifyingKey,
    pub ed_signing: ed25519_dalek::SigningKey,
    pub ed_verifying: ed25519_dalek::VerifyingKey,
    pub hmac_key: Vec<u8>,
}

/// A base64url member of a JWK, decoded.
pub fn member(jwk: &Map<String, Value>, name: &str) -> Vec<u8> {
    jwk.get(name)
        .and_then(Value::as_str)
        .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
        .unwrap_or_default()
}

impl Keys {
    /// Loads every fixed key from its JWK.
    pub fn new() -> Self {
        let rsa = private_jwk(Alg::Rs256);
        let big = |name: &str| BigUint::from_bytes_be(&member(&rsa, name));
        let rsa_private =
            RsaPrivateKey::from_components(big("n"), big("e"), big("d"), vec![big("p"), big("q")])
                .expect("the RSA key");
        let ec = private_jwk(Alg::Es256);
        let ec_signing = p256::ecdsa::SigningKey::from_slice(&member(&ec, "d")).expect("P-256 d");
        let ed = private_jwk(Alg::EdDsa);
        let ed_seed: [u8; 32] = member(&ed, "d").try_into().expect("Ed25519 d");
        let ed_signing = ed25519_dalek::SigningKey::from_bytes(&ed_seed);
        let ed_x: [u8; 32] = member(&ed, "x").try_into().expect("Ed25519 x");
        let ed_verifying = ed25519_dalek::VerifyingKey::from_bytes(&ed_x).expect("Ed25519 x");
        assert_eq!(ed_verifying, ed_signing.verifying_key());
        Self {
            rsa_public: rsa_private.to_public_key(),
            rsa_private,
            ec_verifying: *ec_signing.verifying_key(),
            ec_signing,
            ed_signing,
            ed_verifying,
            hmac_key: member(&private_jwk(Alg::Hs256), "k"),
        }
    }
}

fn rsa_pkcs1(key: &RsaPrivateKey, hash: u8, message: &[u8]) -> Vec<u8> {
    let key = key.clone();
    match hash % 3 {
        0 => pkcs1v15::SigningKey::<Sha256>::new(key)
            .sign(message)
            .to_vec(),
        1 => pkcs1v15::SigningKey::<Sha384>::new(key)
            .sign(message)
            .to_vec(),
        _ => pkcs1v15::SigningKey::<Sha512>::new(key)
            .sign(message)
            .to_vec(),
    }
}

fn rsa_pss(key: &RsaPrivateKey, hash: u8, salt_len: usize, message: &[u8]) -> Vec<u8> {
    let key = key.clone();
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    match hash % 3 {
        0 => pss::SigningKey::<Sha256>::new_with_salt_len(key, salt_len)
            .sign_with_rng(&mut rng, message)
            .to_vec(),
        1 => pss::SigningKey::<Sha384>::new_with_salt_len(key, salt_len)
            .sign_with_rng(&mut rng, message)
            .to_vec(),
        _ => pss::SigningKey::<Sha512>::new_with_salt_len(key, salt_len)
            .sign_with_rng(&mut rng, message)
            .to_vec(),
    }
}

/// Signs as `alg` does; `variant` (mutation 10) picks another hash (PKCS#1 v1.5) or another
/// salt length (PSS).
pub fn sign(r: &Keys, alg: Alg, message: &[u8], variant: Option<u8>) -> Vec<u8> {
    let hash = |own: u8| variant.map_or(own, |v| v % 3);
    match alg {
        Alg::Rs256 => rsa_pkcs1(&r.rsa_private, hash(0), message),
        Alg::Rs384 => rsa_pkcs1(&r.rsa_private, hash(1), message),
        Alg::Rs512 => rsa_pkcs1(&r.rsa_private, hash(2), message),
        Alg::Ps256 | Alg::Ps384 | Alg::Ps512 => {
            let (own, len) = match alg {
                Alg::Ps256 => (0, 32),
                Alg::Ps384 => (1, 48),
                _ => (2, 64),
            };
            let salt_len = variant.map_or(len, |v| usize::from(v % 80));
            rsa_pss(&r.rsa_private, own, salt_len, message)
        }
        Alg::Es256 => {
            let signature: p256::ecdsa::Signature = r.ec_signing.sign(message);
            signature.to_vec()
        }
        Alg::EdDsa => r.ed_signing.sign(message).to_bytes().to_vec(),
        Alg::Hs256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(&r.hmac_key).expect("an HMAC key");
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
    }
}

impl Default for Keys {
    fn default() -> Self {
        Self::new()
    }
}

/// A compact JWS of `header` and `payload` (JSON texts) signed with the fixed key of `alg`.
pub fn token(keys: &Keys, alg: Alg, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = sign(keys, alg, input.as_bytes(), None);
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
