//! Verification keys and key sets.
//!
//! Every key is bound to exactly one algorithm when it is loaded, from its JWK `alg` or, if the
//! JWK has none, from the only algorithm the pool allows for its key type. A token's header never
//! chooses the algorithm: it can only name one, and the verifier refuses it unless it equals the
//! key's. A key set is refused as a whole when it is ambiguous (two keys with one `kid`) or mixes
//! symmetric and asymmetric keys (Wycheproof `json_web_key_test.json` tcIds 1 and 4).
//!
//! Loading is the same code in every build: jwt-compact's `JsonWebKey` reads the members, and
//! the strength rules below (RSA sizes and exponent, ROCA, P-256 points on the curve, HMAC
//! length) decide on the bytes. The key is kept as bytes, ready for whichever signature backend
//! runs (`crypto::RustCrypto` natively, WebCrypto in a Worker or a browser), and each key has a
//! [`BackendSlot`] where a backend keeps its own form of it, made once per isolate.

use core::{any::Any, cell::RefCell, fmt};
use std::rc::{Rc, Weak};

use crypto_bigint::{
    modular::runtime_mod::{DynResidue, DynResidueParams},
    U256,
};
use jwt_compact::{alg::Hs256Key, jwk::JsonWebKey};
use serde_json::{Map, Value};

pub use crate::alg::{Alg, AlgSet, KeyFamily};

/// Longest `kid` looked up; a longer one is refused before any lookup.
pub const MAX_KID_BYTES: usize = 256;

/// Shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size).
pub const MIN_HMAC_KEY_BYTES: usize = 32;

/// RSA modulus sizes accepted, in bits: jwt-compact's `ModulusBits` (RFC 7518 §3.3 asks at least
/// 2048). Restated here because jwt-compact's own check lives in its `rsa` feature, which would
/// bring the pure-Rust RSA arithmetic into a Worker that verifies with WebCrypto; a native test
/// holds the two rules together.
pub const RSA_MODULUS_BITS: [usize; 3] = [2048, 3072, 4096];

/// Largest RSA public exponent accepted: 2^33 - 1, the `rsa` crate's bound.
const MAX_RSA_EXPONENT: u64 = (1 << 33) - 1;

/// An RSA public key: modulus and exponent, big-endian, without leading zero bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublic {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl RsaPublic {
    /// The modulus, big-endian, without leading zeros.
    pub fn modulus(&self) -> &[u8] {
        &self.n
    }

    /// The public exponent, big-endian, without leading zeros.
    pub fn exponent(&self) -> &[u8] {
        &self.e
    }

    /// The modulus length in bytes: the exact length of every signature (RFC 8017 §8.2.2).
    pub fn size(&self) -> usize {
        self.n.len()
    }
}

/// A P-256 public key: a point on the curve, both coordinates big-endian.
#[derive(Clone, PartialEq, Eq)]
pub struct P256Public {
    x: [u8; 32],
    y: [u8; 32],
}

impl P256Public {
    /// The uncompressed SEC1 encoding, `04 || x || y`.
    pub fn sec1(&self) -> [u8; 65] {
        let mut out = [4u8; 65];
        out[1..33].copy_from_slice(&self.x);
        out[33..].copy_from_slice(&self.y);
        out
    }
}

/// Key material in the form every signature backend starts from.
#[derive(Clone)]
pub enum KeyMaterial {
    /// An RSA public key of 2048, 3072 or 4096 bits.
    Rsa(RsaPublic),
    /// A P-256 public key (a point on the curve).
    P256(P256Public),
    /// An Ed25519 public key (32 bytes; the point is decoded by the backend).
    Ed25519([u8; 32]),
    /// An HMAC secret of at least [`MIN_HMAC_KEY_BYTES`].
    Hmac(Hs256Key),
}

/// Where a signature backend keeps its own form of a key (WebCrypto's `CryptoKey`), so the key
/// is imported once per isolate. Every clone of a key shares its slot, and the slot goes when
/// the last clone does: a key that leaves its key set leaves the backend's cache with it.
#[derive(Clone, Default)]
pub struct BackendSlot(Rc<RefCell<Option<Rc<dyn Any>>>>);

impl BackendSlot {
    /// What the backend stored, if it is of type `T`.
    pub fn get<T: 'static>(&self) -> Option<Rc<T>> {
        let held = self.0.try_borrow().ok()?.clone()?;
        held.downcast::<T>().ok()
    }

    /// Stores the backend's form of the key, replacing any other.
    pub fn set<T: 'static>(&self, value: Rc<T>) {
        if let Ok(mut slot) = self.0.try_borrow_mut() {
            *slot = Some(value);
        }
    }

    /// Whether two keys are one loaded key (clones of it), not merely equal bytes.
    pub fn same(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// A handle that names this key without keeping it (or its backend's form) alive.
    pub fn downgrade(&self) -> WeakSlot {
        WeakSlot(Rc::downgrade(&self.0))
    }
}

/// Names one loaded key without keeping it alive: see [`BackendSlot::downgrade`].
#[derive(Clone)]
pub struct WeakSlot(Weak<RefCell<Option<Rc<dyn Any>>>>);

impl WeakSlot {
    /// Whether `slot` is the slot of the key this handle names.
    pub fn is(&self, slot: &BackendSlot) -> bool {
        Weak::ptr_eq(&self.0, &Rc::downgrade(&slot.0))
    }
}

impl fmt::Debug for WeakSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WeakSlot")
    }
}

/// A verification key bound to one algorithm.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: Option<String>,
    alg: Alg,
    material: KeyMaterial,
    /// The JWK's public members, re-served by local pools and shown in diagnostics.
    public_jwk: Map<String, Value>,
    /// The backend's form of this key, shared by every clone.
    slot: BackendSlot,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material: an HMAC secret would end up in logs.
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// The key id, if the JWK had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key verifies.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The key material.
    pub fn material(&self) -> &KeyMaterial {
        &self.material
    }

    /// The JWK as loaded, minus any secret member (`k` of an HMAC key is dropped).
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.public_jwk
    }

    /// Where a signature backend keeps its own form of this key.
    pub fn slot(&self) -> &BackendSlot {
        &self.slot
    }

    /// Builds a key from parts the caller has already checked (local pools' own signing keys).
    pub(crate) fn from_parts(
        kid: Option<String>,
        alg: Alg,
        material: KeyMaterial,
        public_jwk: Map<String, Value>,
    ) -> Self {
        Self {
            kid,
            alg,
            material,
            public_jwk,
            slot: BackendSlot::default(),
        }
    }
}

/// Why a JWK or a key set was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwkError {
    /// The set is not `{"keys": [...]}`.
    NotAKeySet,
    /// A key is not a JSON object.
    NotAnObject,
    /// A member is missing or has the wrong JSON type.
    BadMember(&'static str),
    /// `kty` is not RSA, EC, OKP or oct.
    UnsupportedKeyType(String),
    /// `use` is present and not `sig`.
    NotForSignatures,
    /// `key_ops` is present and does not allow `verify`.
    KeyOpsExcludeVerify,
    /// `alg` is not an algorithm this verifier implements.
    UnsupportedAlgorithm(String),
    /// `alg` is implemented but not in the pool's allow-list.
    AlgorithmNotAllowed(Alg),
    /// `alg` needs another key type or curve than the JWK has.
    AlgorithmKeyMismatch(Alg),
    /// No `alg` and the allow-list has no algorithm, or more than one, for this key type.
    AmbiguousAlgorithm,
    /// A public key set carries private key material.
    PrivateMaterial,
    /// The key is malformed or too weak (RSA other than 2048/3072/4096 bits, e < 3, short HMAC secret, point off the curve).
    WeakOrInvalid(String),
    /// Two keys share a `kid`.
    DuplicateKid(String),
    /// The set mixes symmetric and asymmetric keys.
    MixedSymmetry,
    /// A `kid` is longer than [`MAX_KID_BYTES`].
    KidTooLong,
    /// The set has no usable key.
    Empty,
    /// Key `index` of a set was refused for `reason`.
    InSet {
        /// The key's position in `keys`.
        index: usize,
        /// Why it was refused.
        reason: Box<JwkError>,
    },
}

impl fmt::Display for JwkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAKeySet => f.write_str("not a JWK set: expected {\"keys\": [...]}"),
            Self::NotAnObject => f.write_str("key is not a JSON object"),
            Self::BadMember(name) => write!(f, "member `{name}` is missing or has the wrong type"),
            Self::UnsupportedKeyType(kty) => write!(f, "unsupported kty `{kty}`"),
            Self::NotForSignatures => f.write_str("`use` is not \"sig\""),
            Self::KeyOpsExcludeVerify => f.write_str("`key_ops` does not include \"verify\""),
            Self::UnsupportedAlgorithm(alg) => write!(f, "unsupported alg `{alg}`"),
            Self::AlgorithmNotAllowed(alg) => write!(f, "alg {alg} is not in the pool's algorithms"),
            Self::AlgorithmKeyMismatch(alg) => write!(f, "alg {alg} does not fit this key type"),
            Self::AmbiguousAlgorithm => f.write_str(
                "key has no `alg` and the pool's algorithms do not name exactly one for its key type; set `alg` on the key",
            ),
            Self::PrivateMaterial => f.write_str("key carries private key material"),
            Self::WeakOrInvalid(why) => write!(f, "key refused: {why}"),
            Self::DuplicateKid(kid) => write!(f, "two keys share kid `{kid}`"),
            Self::MixedSymmetry => f.write_str("key set mixes symmetric and asymmetric keys"),
            Self::KidTooLong => write!(f, "kid longer than {MAX_KID_BYTES} bytes"),
            Self::Empty => f.write_str("key set has no usable key"),
            Self::InSet { index, reason } => write!(f, "keys[{index}]: {reason}"),
        }
    }
}

/// Members that only a private JWK has (RFC 7518 §6.3.2, §6.2.2, RFC 8037).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

/// Loads one verification key from a JWK, binding it to one algorithm of `allowed`.
pub fn parse_key(jwk: &Map<String, Value>, allowed: AlgSet) -> Result<VerifyingKey, JwkError> {
    let kty = string_member(jwk, "kty")?.ok_or(JwkError::BadMember("kty"))?;
    let family = match kty {
        "RSA" => KeyFamily::Rsa,
        "EC" => match string_member(jwk, "crv")? {
            Some("P-256") => KeyFamily::P256,
            Some(crv) => return Err(JwkError::UnsupportedKeyType(format!("EC {crv}"))),
            None => return Err(JwkError::BadMember("crv")),
        },
        "OKP" => match string_member(jwk, "crv")? {
            Some("Ed25519") => KeyFamily::Ed25519,
            Some(crv) => return Err(JwkError::UnsupportedKeyType(format!("OKP {crv}"))),
            None => return Err(JwkError::BadMember("crv")),
        },
        "oct" => KeyFamily::Symmetric,
        other => return Err(JwkError::UnsupportedKeyType(truncated(other))),
    };
    if let Some(usage) = string_member(jwk, "use")? {
        if usage != "sig" {
            return Err(JwkError::NotForSignatures);
        }
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops.as_array().ok_or(JwkError::BadMember("key_ops"))?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Err(JwkError::KeyOpsExcludeVerify);
        }
    }
    let kid = match string_member(jwk, "kid")? {
        Some(kid) if kid.len() > MAX_KID_BYTES => return Err(JwkError::KidTooLong),
        Some(kid) => Some(kid.to_owned()),
        None => None,
    };
    if family != KeyFamily::Symmetric && PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(JwkError::PrivateMaterial);
    }
    let alg = bind_algorithm(jwk, family, allowed)?;
    let material = load_material(jwk, family)?;

    let mut public_jwk = jwk.clone();
    public_jwk.remove("k");
    public_jwk.insert("alg".into(), Value::from(alg.name()));
    Ok(VerifyingKey {
        kid,
        alg,
        material,
        public_jwk,
        slot: BackendSlot::default(),
    })
}

/// The key's algorithm: its own `alg`, or the single allowed algorithm of its family.
fn bind_algorithm(
    jwk: &Map<String, Value>,
    family: KeyFamily,
    allowed: AlgSet,
) -> Result<Alg, JwkError> {
    match string_member(jwk, "alg")? {
        Some(name) => {
            let alg = Alg::from_name(name)
                .ok_or_else(|| JwkError::UnsupportedAlgorithm(truncated(name)))?;
            if alg.family() != family {
                return Err(JwkError::AlgorithmKeyMismatch(alg));
            }
            if !allowed.contains(alg) {
                return Err(JwkError::AlgorithmNotAllowed(alg));
            }
            Ok(alg)
        }
        None => {
            let mut fitting = allowed.iter().filter(|alg| alg.family() == family);
            match (fitting.next(), fitting.next()) {
                (Some(alg), None) => Ok(alg),
                _ => Err(JwkError::AmbiguousAlgorithm),
            }
        }
    }
}

fn load_material(jwk: &Map<String, Value>, family: KeyFamily) -> Result<KeyMaterial, JwkError> {
    let parsed: JsonWebKey<'static> = serde_json::from_value(Value::Object(jwk.clone()))
        .map_err(|err| JwkError::WeakOrInvalid(err.to_string()))?;
    let weak = |why: &str| JwkError::WeakOrInvalid(why.to_owned());
    match (family, &parsed) {
        (
            KeyFamily::Rsa,
            JsonWebKey::Rsa {
                modulus,
                public_exponent,
                ..
            },
        ) => rsa_public(modulus, public_exponent).map(KeyMaterial::Rsa),
        (KeyFamily::P256, JsonWebKey::EllipticCurve { curve, x, y, .. }) => {
            if curve != "P-256" {
                return Err(weak("curve is not P-256"));
            }
            let x: [u8; 32] = x[..].try_into().map_err(|_| weak("x is not 32 bytes"))?;
            let y: [u8; 32] = y[..].try_into().map_err(|_| weak("y is not 32 bytes"))?;
            if !on_p256(&x, &y) {
                return Err(weak("the point is not on the P-256 curve"));
            }
            Ok(KeyMaterial::P256(P256Public { x, y }))
        }
        (KeyFamily::Ed25519, JsonWebKey::KeyPair { curve, x, .. }) => {
            if curve != "Ed25519" {
                return Err(weak("curve is not Ed25519"));
            }
            let x: [u8; 32] = x[..].try_into().map_err(|_| weak("x is not 32 bytes"))?;
            Ok(KeyMaterial::Ed25519(x))
        }
        (KeyFamily::Symmetric, JsonWebKey::Symmetric { secret }) => {
            if secret.len() < MIN_HMAC_KEY_BYTES {
                return Err(JwkError::WeakOrInvalid(format!(
                    "HMAC secret shorter than {MIN_HMAC_KEY_BYTES} bytes"
                )));
            }
            Ok(KeyMaterial::Hmac(Hs256Key::new(secret)))
        }
        (KeyFamily::Symmetric, _) => Err(JwkError::BadMember("k")),
        _ => Err(weak("members do not fit the key type")),
    }
}

/// An RSA public key from its JWK members, if it passes the strength rules: a modulus of
/// [`RSA_MODULUS_BITS`], odd; an odd exponent from 3 to 2^33 - 1; no ROCA fingerprint.
pub(crate) fn rsa_public(modulus: &[u8], exponent: &[u8]) -> Result<RsaPublic, JwkError> {
    let weak = |why: &str| JwkError::WeakOrInvalid(why.to_owned());
    let n = without_leading_zeros(modulus);
    let e = without_leading_zeros(exponent);
    let bits = n
        .first()
        .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize);
    if !RSA_MODULUS_BITS.contains(&bits) {
        return Err(weak(
            "unsupported bit length of RSA modulus; only lengths 2048, 3072 and 4096 are supported",
        ));
    }
    if n.last().is_some_and(|low| low % 2 == 0) {
        return Err(weak("the RSA modulus is even"));
    }
    if e.len() > 8 {
        return Err(weak("public exponent too large"));
    }
    let exponent = e
        .iter()
        .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
    // RSA with e = 1 "signs" by identity; the rule refuses 2 as well (RFC 7518 asks e >= 3).
    if exponent < 3 {
        return Err(weak("public exponent below 3"));
    }
    if exponent % 2 == 0 {
        return Err(weak("public exponent is even"));
    }
    if exponent > MAX_RSA_EXPONENT {
        return Err(weak("public exponent too large"));
    }
    if has_roca_fingerprint(n) {
        return Err(weak(
            "modulus has the ROCA fingerprint (CVE-2017-15361): the key is factorable",
        ));
    }
    Ok(RsaPublic {
        n: n.to_vec(),
        e: e.to_vec(),
    })
}

/// `bytes` without its leading zero bytes (a big-endian integer's minimal form).
pub(crate) fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// The field prime of P-256 and the curve's `b` (SEC 2 §2.4.2; the curve is y² = x³ - 3x + b).
const P256_P: U256 =
    U256::from_be_hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
const P256_B: U256 =
    U256::from_be_hex("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");

/// Whether (x, y) is a point of P-256: both coordinates below p, and y² = x³ - 3x + b mod p.
/// (The point at infinity has no affine coordinates, so it cannot be written here.)
fn on_p256(x: &[u8; 32], y: &[u8; 32]) -> bool {
    let (x, y) = (U256::from_be_slice(x), U256::from_be_slice(y));
    if x >= P256_P || y >= P256_P {
        return false;
    }
    let params = DynResidueParams::new(&P256_P);
    let (x, y) = (DynResidue::new(&x, params), DynResidue::new(&y, params));
    let three = DynResidue::new(&U256::from_u8(3), params);
    let b = DynResidue::new(&P256_B, params);
    let right = x.square() * x - three * x + b;
    y.square().retrieve() == right.retrieve()
}

/// The primes of the ROCA fingerprint (Nemec et al., CCS 2017, and their detector).
const ROCA_PRIMES: [u32; 38] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

/// Whether the modulus was made from Infineon RSALib primes (CVE-2017-15361): for every
/// fingerprint prime p, `n mod p` lies in the subgroup generated by 65537. A random modulus
/// passes all 38 with probability about 2^-154.
fn has_roca_fingerprint(modulus: &[u8]) -> bool {
    ROCA_PRIMES.iter().all(|&p| {
        let residue = modulus
            .iter()
            .fold(0u32, |r, byte| (r * 256 + u32::from(*byte)) % p);
        let generator = 65_537 % p;
        let mut power = 1u32;
        loop {
            if power == residue {
                return true;
            }
            power = power * generator % p;
            if power == 1 {
                return false;
            }
        }
    })
}

fn string_member<'a>(
    jwk: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, JwkError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(JwkError::BadMember(name)),
    }
}

fn truncated(text: &str) -> String {
    text.chars().take(32).collect()
}

/// A pool's verification keys, looked up by `kid`.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

/// What a key set loader does with a key it cannot use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadKeys {
    /// Refuse the whole set: for sets written into the configuration, where a bad key is a typo.
    Refuse,
    /// Drop the key and keep the rest: for sets fetched from an issuer, which may publish
    /// encryption keys or algorithms this pool does not use next to the signing keys.
    Skip,
}

impl KeySet {
    /// Builds a set from keys already loaded, refusing duplicate kids and mixed symmetry.
    pub fn new(keys: Vec<VerifyingKey>) -> Result<Self, JwkError> {
        let symmetric = keys
            .iter()
            .filter(|k| k.alg.family() == KeyFamily::Symmetric)
            .count();
        if symmetric != 0 && symmetric != keys.len() {
            return Err(JwkError::MixedSymmetry);
        }
        for (i, key) in keys.iter().enumerate() {
            if let Some(kid) = &key.kid {
                if keys[..i]
                    .iter()
                    .any(|other| other.kid.as_ref() == Some(kid))
                {
                    return Err(JwkError::DuplicateKid(truncated(kid)));
                }
            }
        }
        Ok(Self { keys })
    }

    /// Parses `{"keys": [...]}`. `dropped` receives a description of each key skipped under
    /// [`BadKeys::Skip`], for the log.
    pub fn parse(
        set: &Value,
        allowed: AlgSet,
        bad_keys: BadKeys,
        dropped: &mut Vec<String>,
    ) -> Result<Self, JwkError> {
        let list = set
            .as_object()
            .and_then(|obj| obj.get("keys"))
            .and_then(Value::as_array)
            .ok_or(JwkError::NotAKeySet)?;
        let mut keys = Vec::with_capacity(list.len());
        for (index, jwk) in list.iter().enumerate() {
            let loaded = jwk
                .as_object()
                .ok_or(JwkError::NotAnObject)
                .and_then(|obj| parse_key(obj, allowed));
            match (loaded, bad_keys) {
                (Ok(key), _) => keys.push(key),
                (Err(err), BadKeys::Skip) => dropped.push(format!("keys[{index}]: {err}")),
                (Err(err), BadKeys::Refuse) => {
                    return Err(JwkError::InSet {
                        index,
                        reason: Box::new(err),
                    })
                }
            }
        }
        if keys.is_empty() {
            return Err(JwkError::Empty);
        }
        Self::new(keys)
    }

    /// The key for a token's `kid`. Without a `kid`, only a set of exactly one key answers.
    pub fn find(&self, kid: Option<&str>) -> Option<&VerifyingKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }

    /// Every key.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// The set as a public JWKS document (no secrets).
    pub fn to_public_jwks(&self) -> Value {
        let keys = self
            .keys
            .iter()
            .filter(|k| !matches!(k.material, KeyMaterial::Hmac(_)))
            .map(|k| Value::Object(k.public_jwk.clone()))
            .collect();
        let mut doc = Map::new();
        doc.insert("keys".into(), Value::Array(keys));
        Value::Object(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    // RFC 7515 A.3's P-256 key (public part).
    fn ec_jwk() -> Value {
        json!({"kty":"EC","crv":"P-256",
               "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
               "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})
    }

    #[test]
    fn algorithm_names_are_case_sensitive() {
        assert_eq!(Alg::from_name("RS256"), Some(Alg::Rs256));
        assert_eq!(Alg::from_name("rs256"), None);
        assert_eq!(Alg::from_name("none"), None);
        assert_eq!(Alg::from_name("None"), None);
        assert_eq!(Alg::from_name("EdDSA"), Some(Alg::EdDsa));
    }

    #[test]
    fn a_key_without_alg_binds_to_the_single_fitting_allowed_algorithm() {
        let mut allowed = AlgSet::only(Alg::Es256);
        allowed.insert(Alg::Rs256);
        let key = parse_key(&obj(ec_jwk()), allowed).unwrap();
        assert_eq!(key.alg(), Alg::Es256);
    }

    #[test]
    fn a_key_without_alg_is_refused_when_its_family_has_two_allowed_algorithms() {
        let mut allowed = AlgSet::only(Alg::Rs256);
        allowed.insert(Alg::Ps256);
        let jwk = json!({"kty":"RSA","n":"AQAB","e":"AQAB"});
        assert_eq!(
            parse_key(&obj(jwk), allowed).unwrap_err(),
            JwkError::AmbiguousAlgorithm
        );
    }

    #[test]
    fn a_key_whose_alg_is_not_allowed_is_refused() {
        let mut jwk = ec_jwk();
        jwk["alg"] = json!("ES256");
        assert_eq!(
            parse_key(&obj(jwk), AlgSet::only(Alg::Rs256)).unwrap_err(),
            JwkError::AlgorithmNotAllowed(Alg::Es256)
        );
    }

    #[test]
    fn an_alg_that_does_not_fit_the_key_type_is_refused() {
        let mut jwk = ec_jwk();
        jwk["alg"] = json!("RS256");
        assert_eq!(
            parse_key(&obj(jwk), AlgSet::only(Alg::Rs256)).unwrap_err(),
            JwkError::AlgorithmKeyMismatch(Alg::Rs256)
        );
    }

    #[test]
    fn an_encryption_key_is_refused() {
        let mut jwk = ec_jwk();
        jwk["use"] = json!("enc");
        assert_eq!(
            parse_key(&obj(jwk), AlgSet::only(Alg::Es256)).unwrap_err(),
            JwkError::NotForSignatures
        );
        let mut jwk = ec_jwk();
        jwk["key_ops"] = json!(["encrypt"]);
        assert_eq!(
            parse_key(&obj(jwk), AlgSet::only(Alg::Es256)).unwrap_err(),
            JwkError::KeyOpsExcludeVerify
        );
    }

    #[test]
    fn private_material_in_a_public_key_is_refused() {
        let mut jwk = ec_jwk();
        jwk["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
        assert_eq!(
            parse_key(&obj(jwk), AlgSet::only(Alg::Es256)).unwrap_err(),
            JwkError::PrivateMaterial
        );
    }

    #[test]
    fn a_short_hmac_secret_is_refused() {
        let jwk =
            json!({"kty":"oct","alg":"HS256","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg"});
        assert!(matches!(
            parse_key(&obj(jwk), AlgSet::only(Alg::Hs256)),
            Err(JwkError::WeakOrInvalid(_))
        ));
    }

    #[test]
    fn a_point_off_the_curve_is_refused() {
        let mut jwk = ec_jwk();
        jwk["y"] = json!("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1");
        assert!(matches!(
            parse_key(&obj(jwk), AlgSet::only(Alg::Es256)),
            Err(JwkError::WeakOrInvalid(_))
        ));
    }

    #[test]
    fn a_set_with_two_keys_of_one_kid_is_refused() {
        let mut a = ec_jwk();
        a["kid"] = json!("k");
        let set = json!({"keys":[a.clone(), a]});
        let err =
            KeySet::parse(&set, AlgSet::only(Alg::Es256), BadKeys::Skip, &mut vec![]).unwrap_err();
        assert_eq!(err, JwkError::DuplicateKid("k".into()));
    }

    #[test]
    fn a_fetched_set_skips_keys_it_cannot_use_and_reports_them() {
        let mut enc = ec_jwk();
        enc["use"] = json!("enc");
        enc["kid"] = json!("e");
        let mut sig = ec_jwk();
        sig["kid"] = json!("s");
        let set = json!({"keys":[enc, sig]});
        let mut dropped = vec![];
        let keys =
            KeySet::parse(&set, AlgSet::only(Alg::Es256), BadKeys::Skip, &mut dropped).unwrap();
        assert_eq!(keys.keys().len(), 1);
        assert_eq!(dropped.len(), 1);
        assert!(keys.find(Some("s")).is_some());
        assert!(keys.find(Some("e")).is_none());
    }

    #[test]
    fn a_configured_set_refuses_any_bad_key() {
        let mut enc = ec_jwk();
        enc["use"] = json!("enc");
        let set = json!({"keys":[enc]});
        assert!(
            KeySet::parse(&set, AlgSet::only(Alg::Es256), BadKeys::Refuse, &mut vec![]).is_err()
        );
    }

    #[test]
    fn a_token_without_kid_finds_a_key_only_in_a_set_of_one() {
        let mut a = ec_jwk();
        a["kid"] = json!("a");
        let one = KeySet::parse(
            &json!({"keys":[a.clone()]}),
            AlgSet::only(Alg::Es256),
            BadKeys::Refuse,
            &mut vec![],
        )
        .unwrap();
        assert!(one.find(None).is_some());
        let mut b = ec_jwk();
        b["kid"] = json!("b");
        let two = KeySet::parse(
            &json!({"keys":[a, b]}),
            AlgSet::only(Alg::Es256),
            BadKeys::Refuse,
            &mut vec![],
        )
        .unwrap();
        assert!(two.find(None).is_none());
    }

    #[test]
    fn the_public_jwks_never_contains_an_hmac_secret() {
        let jwk = json!({"kty":"oct","alg":"HS256","kid":"h","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"});
        let set = KeySet::parse(
            &json!({"keys":[jwk]}),
            AlgSet::only(Alg::Hs256),
            BadKeys::Refuse,
            &mut vec![],
        )
        .unwrap();
        assert_eq!(set.to_public_jwks(), json!({"keys": []}));
        assert!(!format!("{:?}", set).contains("AyM1"));
    }
}
