//! The JWS algorithms this verifier implements, their key families, and sets of them (a pool's
//! allow-list). The signatures themselves are checked in `crypto`; keys are bound to one of these
//! in `jwk`.

use core::fmt;

/// A JWS algorithm this verifier implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256, 64-byte R‖S signatures.
    Es256,
    /// EdDSA on Ed25519.
    EdDsa,
    /// HMAC with SHA-256; only with a configured secret of at least 32 bytes.
    Hs256,
}

/// The family of key an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    /// `kty: RSA`.
    Rsa,
    /// `kty: EC`, `crv: P-256`.
    P256,
    /// `kty: OKP`, `crv: Ed25519`.
    Ed25519,
    /// `kty: oct`.
    Symmetric,
}

impl Alg {
    /// Every algorithm, in a stable order.
    pub const ALL: [Alg; 9] = [
        Alg::Rs256,
        Alg::Rs384,
        Alg::Rs512,
        Alg::Ps256,
        Alg::Ps384,
        Alg::Ps512,
        Alg::Es256,
        Alg::EdDsa,
        Alg::Hs256,
    ];

    /// The JWS name (`RS256`, …).
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Rs384 => "RS384",
            Alg::Rs512 => "RS512",
            Alg::Ps256 => "PS256",
            Alg::Ps384 => "PS384",
            Alg::Ps512 => "PS512",
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
            Alg::Hs256 => "HS256",
        }
    }

    /// The algorithm with exactly this JWS name. Names are case-sensitive (RFC 7515 §4.1.1), so
    /// `rs256` and `None` are not names of anything.
    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The key family this algorithm verifies with.
    pub fn family(self) -> KeyFamily {
        match self {
            Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512 => {
                KeyFamily::Rsa
            }
            Alg::Es256 => KeyFamily::P256,
            Alg::EdDsa => KeyFamily::Ed25519,
            Alg::Hs256 => KeyFamily::Symmetric,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of algorithms (a pool's allow-list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgSet(u16);

impl AlgSet {
    /// The empty set.
    pub const fn empty() -> Self {
        AlgSet(0)
    }

    /// Just `alg`.
    pub const fn only(alg: Alg) -> Self {
        AlgSet(1 << alg as u16)
    }

    /// Adds `alg`.
    pub fn insert(&mut self, alg: Alg) {
        self.0 |= 1 << alg as u16;
    }

    /// Whether `alg` is in the set.
    pub fn contains(self, alg: Alg) -> bool {
        self.0 & (1 << alg as u16) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in [`Alg::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Alg> {
        Alg::ALL.into_iter().filter(move |alg| self.contains(*alg))
    }
}
