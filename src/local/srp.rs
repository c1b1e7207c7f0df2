//! SRP sign-in for local pools, server side: Cognito's `USER_SRP_AUTH` → `PASSWORD_VERIFIER`,
//! computed exactly as amazon-cognito-identity-js, Amplify and pycognito compute it.
//!
//! Sans-I/O: nothing here reads a clock, KV or the network; the caller passes the time, the
//! server's random exponent and the stored verifier.
//!
//! # The exchange
//! - When a password is set (any path), [`Verifier::generate`] makes the salt and verifier
//!   `v = g^x mod N`, and [`Verifier::seal`] turns them into the string stored beside the PBKDF2
//!   hash; [`Verifier::open_sealed`] reads it back.
//! - `InitiateAuth USER_SRP_AUTH`: [`start`] validates `SRP_A`, computes `B = k·v + g^b` from the
//!   caller's fresh random `b` ([`B_BYTES`] bytes) and returns the [`Challenge`] parameters. No
//!   `Session` is returned (pycognito never echoes one), so the whole state (A, B, b, pool, client,
//!   user, issue time) travels in `SECRET_BLOCK`, sealed with `seal.rs` (HKDF from the current
//!   signing key + AES-256-GCM), valid for [`SECRET_BLOCK_LIFETIME_S`].
//! - `RespondToAuthChallenge PASSWORD_VERIFIER`: [`open`] authenticates `SECRET_BLOCK` and checks
//!   its pool, client and lifetime; the caller then consumes [`OpenChallenge::challenge_id`] (one
//!   guess per challenge), resolves `ChallengeResponses.USERNAME` to the user's immutable username
//!   and calls [`OpenChallenge::verify`] with that name and the user's current verifier. It checks
//!   the user, the `TIMESTAMP` (grammar, canonical rendering, ±[`TIMESTAMP_SKEW_S`]), refuses
//!   `u = 0`, recomputes `S`, the HKDF key and the HMAC, and compares in constant time.
//! - Every refusal of the proof is [`SrpError::Refused`] (NotAuthorizedException `Incorrect
//!   username or password.`); only a malformed `SRP_A` or `TIMESTAMP` is InvalidParameterException.
//!
//! # Arithmetic
//! `crypto-bigint` (already in the tree through `p256`): fixed-size 3072-bit Montgomery
//! arithmetic whose exponentiation runs a fixed window over every bit of the exponent with a
//! constant-time table lookup, so the time of `g^b` and `(A·v^u)^b` does not depend on the secret
//! `b` (nor `g^x` on the password-derived `x`).
//!
//! # The verifier at rest
//! `v` is a password equivalent against offline guessing: one guess costs two SHA-256 and one
//! 3072-bit exponentiation with a 256-bit exponent, far less than the PBKDF2 hash stored beside it
//! (100,000 iterations by default). Stored in the clear, it would make the verifier, not PBKDF2,
//! the cheapest way to test passwords from a copy of KV. So it is stored sealed (AES-256-GCM under
//! a key derived from `SIGNING_KEYS`, bound to pool and user): a KV dump, backup or read-only KV
//! token yields nothing to guess against without the signing keys, and whoever holds those can
//! mint tokens anyway, so no new secret is added. The costs: one AES-GCM open per SRP sign-in
//! (microseconds), and the verifier is tied to the key that sealed it. A key removed from
//! `SIGNING_KEYS` makes the verifiers it sealed unreadable (SRP sign-in then fails for that user
//! until a password is set again), so a key is retired only after every verifier has been sealed
//! again under the current one: [`Verifier::sealed_with_current_key`] says when to do that, for
//! example after any sign-in that had the password in hand.

use std::sync::OnceLock;

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use crypto_bigint::{
    modular::runtime_mod::{DynResidue, DynResidueParams},
    Encoding, U256, U3072, U384,
};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    error::{ApiError, Error},
    local::seal::{self, Purpose},
    signing::SigningKeys,
    sigv4::{civil_from_days, days_from_civil, days_in_month},
};

/// The 3072-bit MODP prime of RFC 3526 (RFC 5054 group 3072), as the clients hold it.
const N_HEX: &str = concat!(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404dd",
    "ef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed",
    "ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f",
    "83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b",
    "e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa0510",
    "15728e5a8aaac42dad33170d04507a33a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7",
    "abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200c",
    "bbe117577a615d6c770988c0bad946e208e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff",
);
const N: U3072 = U3072::from_be_hex(N_HEX);
/// Bytes of an integer mod N.
const N_BYTES: usize = 384;
/// The generator.
const G: U3072 = U3072::from_u8(2);

/// Bytes of the server's secret exponent `b` (384 bits, the size RFC 3526 §8 suggests for this
/// group). The caller draws them fresh per InitiateAuth; a shorter test value is left-padded.
pub const B_BYTES: usize = 48;
/// Bytes of a salt (Cognito's recorded SALT is 16 bytes).
pub const SALT_BYTES: usize = 16;
/// How long a `SECRET_BLOCK` is accepted, in seconds (Cognito's default AuthSessionValidity).
pub const SECRET_BLOCK_LIFETIME_S: u64 = 180;
/// How far `TIMESTAMP` may be from the server's clock, in seconds, either way.
pub const TIMESTAMP_SKEW_S: u64 = 300;
/// Cognito's answer to every failed proof.
pub const INCORRECT_MESSAGE: &str = "Incorrect username or password.";
/// Cognito's answer to a `TIMESTAMP` it cannot parse.
pub const TIMESTAMP_FORMAT_MESSAGE: &str =
    "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.";

/// Longest `SRP_A` read, in hex digits (385 bytes with a sign byte, plus slack; bounds the work).
const MAX_SRP_A_DIGITS: usize = 770;
/// Longest `SECRET_BLOCK` read, in base64 characters (ours are about 2,600).
const MAX_SECRET_BLOCK_CHARS: usize = 8192;
/// Longest `PASSWORD_CLAIM_SIGNATURE` read (a padded HMAC-SHA256 is 44 characters).
const MAX_SIGNATURE_CHARS: usize = 64;
/// Longest `TIMESTAMP` read (the longest valid one is 28 characters).
const MAX_TIMESTAMP_CHARS: usize = 64;
/// The HKDF info string both client libraries use.
const HKDF_INFO: &[u8] = b"Caldera Derived Key";
/// Bytes of the HKDF output (the HMAC key of the claim).
const HKDF_KEY_BYTES: usize = 16;

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

type Residue = DynResidue<{ U3072::LIMBS }>;

// ---------------------------------------------------------------------------------------------
// Errors

/// Why a proof was refused. Every variant is answered the same way on the wire (see
/// [`SrpError::Refused`]); the distinction is for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `SECRET_BLOCK` is not base64, not sealed by one of our keys for this purpose, or altered.
    SecretBlock,
    /// `SECRET_BLOCK` has outlived [`SECRET_BLOCK_LIFETIME_S`].
    Expired,
    /// `SECRET_BLOCK` (or the verifier) belongs to another pool.
    OtherPool,
    /// `SECRET_BLOCK` was issued to another app client.
    OtherClient,
    /// `SECRET_BLOCK` (or the verifier) belongs to another user.
    OtherUser,
    /// `TIMESTAMP` parses but is not how the clients render that instant (a leading zero on the
    /// day, a weekday that does not match the date).
    TimestampNotCanonical,
    /// `TIMESTAMP` is more than [`TIMESTAMP_SKEW_S`] from the server's clock.
    TimestampOutOfWindow,
    /// `PASSWORD_CLAIM_SIGNATURE` is not padded standard base64 of 32 bytes.
    SignatureEncoding,
    /// The scrambling parameter `u` is 0 (SRP-6a forbids it).
    ZeroU,
    /// The signature is not the one the verifier gives: a wrong password.
    SignatureMismatch,
    /// The stored verifier cannot be opened (altered, or sealed by a key no longer configured).
    StoredVerifier,
}

/// What the SRP core refuses or fails with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrpError {
    /// `SRP_A` is missing, not hexadecimal, too long, 0 mod N or not below N:
    /// InvalidParameterException with this message.
    InvalidSrpA(&'static str),
    /// `TIMESTAMP` does not match `EEE MMM d HH:mm:ss UTC yyyy`: InvalidParameterException
    /// [`TIMESTAMP_FORMAT_MESSAGE`].
    TimestampFormat,
    /// The proof is refused: NotAuthorizedException [`INCORRECT_MESSAGE`].
    Refused(Refusal),
    /// The pool id has no `_`-separated name to hash (the clients hash `id.split('_')[1]`).
    PoolId,
    /// No randomness, or sealing failed: a fault, not the client's.
    Internal(String),
}

impl core::fmt::Display for SrpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidSrpA(why) => f.write_str(why),
            Self::TimestampFormat => f.write_str(TIMESTAMP_FORMAT_MESSAGE),
            Self::Refused(why) => write!(f, "SRP proof refused: {why:?}"),
            Self::PoolId => f.write_str("pool id has no name after its region for SRP"),
            Self::Internal(why) => write!(f, "SRP: {why}"),
        }
    }
}

impl From<SrpError> for Error {
    fn from(err: SrpError) -> Self {
        match err {
            SrpError::InvalidSrpA(why) => ApiError::InvalidParameter(why.to_owned()).into(),
            SrpError::TimestampFormat => {
                ApiError::InvalidParameter(TIMESTAMP_FORMAT_MESSAGE.to_owned()).into()
            }
            SrpError::Refused(_) => ApiError::NotAuthorized(INCORRECT_MESSAGE.to_owned()).into(),
            SrpError::PoolId => Error::Internal(err.to_string()),
            SrpError::Internal(why) => Error::Internal(why),
        }
    }
}

fn internal(why: &str) -> SrpError {
    SrpError::Internal(why.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Encodings and the group

thread_local! {
    /// Modular exponentiations run on this thread (a Worker isolate has one).
    static EXPONENTIATIONS: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

fn count_exponentiations(n: u64) {
    EXPONENTIATIONS.with(|count| count.set(count.get().saturating_add(n)));
}

/// How many 3072-bit modular exponentiations this thread has run: lets tests prove that an SRP
/// sign-in does the same work for a user who exists and one who does not, without timing it.
pub fn exponentiations_run_on_this_thread() -> u64 {
    EXPONENTIATIONS.with(core::cell::Cell::get)
}

/// Montgomery parameters for N, computed once per isolate (under a millisecond).
fn params() -> DynResidueParams<{ U3072::LIMBS }> {
    static PARAMS: OnceLock<DynResidueParams<{ U3072::LIMBS }>> = OnceLock::new();
    // N is odd, so `new` accepts it.
    *PARAMS.get_or_init(|| DynResidueParams::new(&N))
}

fn residue(n: &U3072) -> Residue {
    DynResidue::new(n, params())
}

/// padHex as the clients hash it: the minimal big-endian bytes of the integer (one `00` for
/// zero), with a `00` byte in front when the top bit of the first byte is set.
fn pad_hex(big_endian: &[u8]) -> Vec<u8> {
    let first = big_endian
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(big_endian.len());
    let minimal = big_endian.get(first..).unwrap_or_default();
    let mut out = Vec::with_capacity(minimal.len().saturating_add(1));
    if minimal.first().is_none_or(|byte| *byte >= 0x80) {
        out.push(0);
    }
    out.extend_from_slice(minimal);
    out
}

/// The integer's lowercase hex without leading zeros (`0` for zero): SALT and SRP_B on the wire.
fn minimal_hex(big_endian: &[u8]) -> String {
    let hex = hex::encode(big_endian);
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// `k = H(padHex(N) || padHex(g))`.
fn k() -> U3072 {
    let digest = sha256(&[&pad_hex(&N.to_be_bytes()), &pad_hex(&G.to_be_bytes())]);
    U256::from_be_bytes(digest).resize()
}

/// The text the clients hash as the pool's name: `pool_id.split('_')[1]`.
pub fn pool_name(pool_id: &str) -> Result<&str, SrpError> {
    pool_id
        .split('_')
        .nth(1)
        .filter(|name| !name.is_empty())
        .ok_or(SrpError::PoolId)
}

/// Reads `SRP_A`: hex digits only (either case; the integer is what is hashed), at most
/// [`MAX_SRP_A_DIGITS`], and `0 < A < N` (SRP-6a's `A mod N ≠ 0`; no client sends `A ≥ N`).
fn parse_srp_a(text: &str) -> Result<U3072, SrpError> {
    if text.is_empty() {
        return Err(SrpError::InvalidSrpA("Missing required parameter SRP_A"));
    }
    if text.len() > MAX_SRP_A_DIGITS {
        return Err(SrpError::InvalidSrpA(
            "SRP_A must be at most 770 hexadecimal digits.",
        ));
    }
    if !text.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(SrpError::InvalidSrpA(
            "SRP_A must be a hexadecimal integer.",
        ));
    }
    let digits = text.trim_start_matches('0');
    if digits.len() > N_BYTES.saturating_mul(2) {
        return Err(SrpError::InvalidSrpA("SRP_A must be less than N."));
    }
    let padded = format!("{digits:0>768}");
    let bytes: [u8; N_BYTES] = hex::decode(padded)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SrpError::InvalidSrpA(
            "SRP_A must be a hexadecimal integer.",
        ))?;
    let a = U3072::from_be_bytes(bytes);
    if a == U3072::ZERO || a == N {
        return Err(SrpError::InvalidSrpA("SRP_A must not be 0 modulo N."));
    }
    if a > N {
        return Err(SrpError::InvalidSrpA("SRP_A must be less than N."));
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// The verifier

/// `x = H(padHex(salt) || H(poolName || user_id_for_srp || ":" || password))`.
fn private_key(pool_name: &str, user_id_for_srp: &str, password: &str, salt: &[u8]) -> U256 {
    let inner = sha256(&[
        pool_name.as_bytes(),
        user_id_for_srp.as_bytes(),
        b":",
        password.as_bytes(),
    ]);
    U256::from_be_bytes(sha256(&[&pad_hex(salt), &inner]))
}

/// A user's SRP salt and verifier, bound to the pool and the immutable username they were made
/// for. The verifier is a password equivalent: `Debug` shows neither it nor the salt.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    pool_id: String,
    user_id_for_srp: String,
    salt: [u8; SALT_BYTES],
    v: U3072,
}

impl core::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Verifier")
            .field("pool_id", &self.pool_id)
            .field("user_id_for_srp", &self.user_id_for_srp)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// The verifier for `password` with this salt:
    /// `x = H(padHex(salt) || H(poolName || user_id_for_srp || ":" || password))`, `v = g^x mod N`.
    ///
    /// `user_id_for_srp` is the user's immutable username (never an alias): the clients put the
    /// challenge's `USER_ID_FOR_SRP` in `x`, so the value sent later must be this one.
    pub fn new(
        pool_id: &str,
        user_id_for_srp: &str,
        password: &str,
        salt: [u8; SALT_BYTES],
    ) -> Result<Self, SrpError> {
        let x = private_key(pool_name(pool_id)?, user_id_for_srp, password, &salt);
        count_exponentiations(1);
        let v = residue(&G).pow(&x).retrieve();
        Ok(Self {
            pool_id: pool_id.to_owned(),
            user_id_for_srp: user_id_for_srp.to_owned(),
            salt,
            v,
        })
    }

    /// A verifier with a fresh random salt, for every path that sets a password. The salt's first
    /// byte is in `10..=7f`, so SALT is always 32 hex digits with no leading zero and no sign
    /// byte, and every client (pycognito hashes SALT as sent) hashes the same 16 bytes.
    pub fn generate(
        pool_id: &str,
        user_id_for_srp: &str,
        password: &str,
    ) -> Result<Self, SrpError> {
        let mut salt = [0u8; SALT_BYTES];
        getrandom::getrandom(&mut salt)
            .map_err(|e| SrpError::Internal(format!("no randomness for a salt: {e}")))?;
        if let Some(first) = salt.first_mut() {
            *first = 0x10 + *first % 0x70;
        }
        Self::new(pool_id, user_id_for_srp, password, salt)
    }

    /// The `SALT` challenge parameter: the salt as an integer, lowercase hex, no leading zeros.
    pub fn salt(&self) -> String {
        minimal_hex(&self.salt)
    }

    /// The pool this verifier was made for.
    pub fn pool_id(&self) -> &str {
        &self.pool_id
    }

    /// The immutable username this verifier was made for (`USER_ID_FOR_SRP`).
    pub fn user_id_for_srp(&self) -> &str {
        &self.user_id_for_srp
    }

    /// The stored form: sealed with the current signing key (see the module's notes on the
    /// verifier at rest). Never log it, never return it.
    pub fn seal(&self, keys: &SigningKeys) -> Result<String, SrpError> {
        let claims = json!({
            "pool": self.pool_id,
            "user": self.user_id_for_srp,
            "salt": hex::encode(self.salt),
            "v": URL_SAFE_NO_PAD.encode(self.v.to_be_bytes()),
        });
        let Value::Object(claims) = claims else {
            return Err(internal("verifier claims are not an object"));
        };
        seal::seal(keys, Purpose::SrpVerifier, &claims).map_err(SrpError::Internal)
    }

    /// Reads a stored verifier back, refusing one sealed for another pool or user, altered, or
    /// sealed by a key no longer in `keys`: [`Refusal::StoredVerifier`] or the binding's refusal.
    pub fn open_sealed(
        keys: &SigningKeys,
        sealed: &str,
        pool_id: &str,
        user_id_for_srp: &str,
    ) -> Result<Self, SrpError> {
        let refused = SrpError::Refused(Refusal::StoredVerifier);
        let claims = seal::open(keys, Purpose::SrpVerifier, sealed).ok_or(refused.clone())?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if text("pool") != Some(pool_id) {
            return Err(SrpError::Refused(Refusal::OtherPool));
        }
        if text("user") != Some(user_id_for_srp) {
            return Err(SrpError::Refused(Refusal::OtherUser));
        }
        let salt: [u8; SALT_BYTES] = text("salt")
            .and_then(|s| hex::decode(s).ok())
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(refused.clone())?;
        let v: [u8; N_BYTES] = text("v")
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(refused.clone())?;
        let v = U3072::from_be_bytes(v);
        if v == U3072::ZERO || v >= N {
            return Err(refused);
        }
        Ok(Self {
            pool_id: pool_id.to_owned(),
            user_id_for_srp: user_id_for_srp.to_owned(),
            salt,
            v,
        })
    }

    /// What an InitiateAuth for a name nobody has is answered with, so that it is answered
    /// exactly as a user with a wrong password (PreventUserExistenceErrors `ENABLED`): a user id
    /// in the shape of a `sub` (UUID v4) and a salt, each a keyed pseudonym of the pool and the
    /// name's canonical spelling under a key derived from `SIGNING_KEYS`
    /// ([`seal::pseudonym`]), so the same name gets the same salt and id on every attempt while
    /// the signing key stays current, and nobody without the key can tell them from a real
    /// user's; and a verifier that is a pseudonym of that id ([`Verifier::stand_in_by_id`]).
    /// The verifier is no one's (no password gives it), so every proof against it is refused.
    /// Deriving it costs hashes only; the exchange that follows does the same modular
    /// exponentiations as for a real user.
    pub fn stand_in(
        keys: &SigningKeys,
        pool_id: &str,
        canonical_name: &str,
    ) -> Result<Self, SrpError> {
        let id = stand_in_seed(keys, b"id", pool_id, canonical_name)?;
        let mut uuid: [u8; 16] = id
            .get(..16)
            .and_then(|b| b.try_into().ok())
            .unwrap_or_default();
        uuid[6] = (uuid[6] & 0x0f) | 0x40;
        uuid[8] = (uuid[8] & 0x3f) | 0x80;
        let hex = hex::encode(uuid);
        let user_id = format!(
            "{}-{}-{}-{}-{}",
            hex.get(0..8).unwrap_or_default(),
            hex.get(8..12).unwrap_or_default(),
            hex.get(12..16).unwrap_or_default(),
            hex.get(16..20).unwrap_or_default(),
            hex.get(20..32).unwrap_or_default()
        );
        let mut salt: [u8; SALT_BYTES] = stand_in_seed(keys, b"salt", pool_id, canonical_name)?
            .get(..SALT_BYTES)
            .and_then(|b| b.try_into().ok())
            .unwrap_or_default();
        if let Some(first) = salt.first_mut() {
            *first = 0x10 + *first % 0x70;
        }
        let mut verifier = Self::stand_in_by_id(keys, pool_id, &user_id)?;
        verifier.salt = salt;
        Ok(verifier)
    }

    /// The stand-in verifier for a stand-in user id ([`Verifier::stand_in`]), as the answer to
    /// its challenge needs it: the id is all that SECRET_BLOCK carries, and the check of a
    /// proof does not use the salt.
    pub fn stand_in_by_id(
        keys: &SigningKeys,
        pool_id: &str,
        user_id_for_srp: &str,
    ) -> Result<Self, SrpError> {
        let v_seed = stand_in_seed(keys, b"verifier", pool_id, user_id_for_srp)?;
        let mut v_bytes = [0u8; N_BYTES];
        for (index, chunk) in v_bytes.chunks_mut(32).enumerate() {
            let block = sha256(&[&v_seed, &(index as u64).to_be_bytes()]);
            for (byte, from) in chunk.iter_mut().zip(block) {
                *byte = from;
            }
        }
        // Top bit clear: below 2^3071 < N, so a valid residue; odd, so never zero.
        if let Some(first) = v_bytes.first_mut() {
            *first &= 0x7f;
        }
        if let Some(last) = v_bytes.last_mut() {
            *last |= 1;
        }
        Ok(Self {
            pool_id: pool_id.to_owned(),
            user_id_for_srp: user_id_for_srp.to_owned(),
            salt: [0; SALT_BYTES],
            v: U3072::from_be_bytes(v_bytes),
        })
    }

    /// Whether a stored verifier was sealed by the current signing key; when not, seal it again
    /// (with the password in hand, or from the opened verifier) before that key is retired.
    pub fn sealed_with_current_key(keys: &SigningKeys, sealed: &str) -> bool {
        seal::kid_of(sealed).as_deref() == Some(keys.current().kid())
    }
}

/// A keyed pseudonym for a stand-in's `what` ([`Verifier::stand_in`]).
fn stand_in_seed(
    keys: &SigningKeys,
    what: &[u8],
    pool_id: &str,
    name: &str,
) -> Result<[u8; 32], SrpError> {
    seal::pseudonym(
        keys,
        &[
            b"srp stand-in v1",
            what,
            pool_id.as_bytes(),
            name.as_bytes(),
        ],
    )
    .map_err(SrpError::Internal)
}

// ---------------------------------------------------------------------------------------------
// The exchange (math only)

/// One exchange's public values and the server's secret exponent.
#[derive(Clone)]
struct Exchange {
    a: U3072,
    b: U384,
    big_b: U3072,
}

impl core::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Exchange").finish_non_exhaustive()
    }
}

impl Exchange {
    /// Validates `SRP_A` and computes `B = (k·v + g^b) mod N`.
    fn new(verifier: &Verifier, srp_a: &str, b: &[u8; B_BYTES]) -> Result<Self, SrpError> {
        let a = parse_srp_a(srp_a)?;
        let b = U384::from_be_bytes(*b);
        if b == U384::ZERO {
            return Err(internal("the server exponent b is zero"));
        }
        count_exponentiations(1);
        let big_b = (residue(&k()) * residue(&verifier.v) + residue(&G).pow(&b)).retrieve();
        if big_b == U3072::ZERO {
            return Err(internal("B is 0 mod N"));
        }
        Ok(Self { a, b, big_b })
    }

    /// `u = H(padHex(A) || padHex(B))`.
    fn u(&self) -> U256 {
        U256::from_be_bytes(sha256(&[
            &pad_hex(&self.a.to_be_bytes()),
            &pad_hex(&self.big_b.to_be_bytes()),
        ]))
    }

    /// `S = (A · v^u)^b mod N`; `u = 0` is refused.
    fn premaster(&self, v: &U3072, u: &U256) -> Result<U3072, SrpError> {
        if *u == U256::ZERO {
            return Err(SrpError::Refused(Refusal::ZeroU));
        }
        count_exponentiations(2);
        Ok((residue(&self.a) * residue(v).pow(u))
            .pow(&self.b)
            .retrieve())
    }

    /// The signature the client must send: HMAC-SHA256 under the HKDF key of `S` and `u`.
    fn expected_signature(
        &self,
        verifier: &Verifier,
        secret_block: &[u8],
        timestamp: &str,
    ) -> Result<[u8; 32], SrpError> {
        let u = self.u();
        let s = self.premaster(&verifier.v, &u)?;
        let key = hkdf_key(&u, &s)?;
        let message = message(
            pool_name(&verifier.pool_id)?,
            &verifier.user_id_for_srp,
            secret_block,
            timestamp,
        );
        claim_signature(&key, &message)
    }

    /// Checks `TIMESTAMP` and `PASSWORD_CLAIM_SIGNATURE` for this exchange. `secret_block` is the
    /// base64-decoded `SECRET_BLOCK`, exactly as the client signed it.
    fn verify(
        &self,
        verifier: &Verifier,
        secret_block: &[u8],
        timestamp: &str,
        signature: &str,
        now_ms: u64,
    ) -> Result<(), SrpError> {
        check_timestamp(timestamp, now_ms)?;
        let given = decode_signature(signature)?;
        let expected = self.expected_signature(verifier, secret_block, timestamp)?;
        if bool::from(expected.ct_eq(&given)) {
            Ok(())
        } else {
            Err(SrpError::Refused(Refusal::SignatureMismatch))
        }
    }
}

/// `HKDF-SHA256(salt = padHex(u), ikm = padHex(S), info = "Caldera Derived Key")`, 16 bytes.
fn hkdf_key(u: &U256, s: &U3072) -> Result<[u8; HKDF_KEY_BYTES], SrpError> {
    let salt = pad_hex(&u.to_be_bytes());
    let ikm = pad_hex(&s.to_be_bytes());
    let mut key = [0u8; HKDF_KEY_BYTES];
    Hkdf::<Sha256>::new(Some(&salt), &ikm)
        .expand(HKDF_INFO, &mut key)
        .map_err(|_| internal("HKDF refused a 16-byte output"))?;
    Ok(key)
}

/// `poolName || USER_ID_FOR_SRP || SECRET_BLOCK bytes || TIMESTAMP`.
fn message(
    pool_name: &str,
    user_id_for_srp: &str,
    secret_block: &[u8],
    timestamp: &str,
) -> Vec<u8> {
    [
        pool_name.as_bytes(),
        user_id_for_srp.as_bytes(),
        secret_block,
        timestamp.as_bytes(),
    ]
    .concat()
}

fn claim_signature(key: &[u8], message: &[u8]) -> Result<[u8; 32], SrpError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| internal("HMAC key refused"))?;
    mac.update(message);
    Ok(mac.finalize().into_bytes().into())
}

/// `PASSWORD_CLAIM_SIGNATURE`: padded standard base64 of exactly 32 bytes, nothing else.
fn decode_signature(signature: &str) -> Result<[u8; 32], SrpError> {
    let refused = SrpError::Refused(Refusal::SignatureEncoding);
    if signature.len() > MAX_SIGNATURE_CHARS {
        return Err(refused);
    }
    STANDARD
        .decode(signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(refused)
}

// ---------------------------------------------------------------------------------------------
// TIMESTAMP

/// How the clients render an instant: `EEE MMM d HH:mm:ss UTC yyyy` in English, the day without
/// a leading zero (`Tue Mar 5 09:07:03 UTC 2024`).
pub fn format_timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let days = secs / 86_400;
    let sod = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let weekday = usize::try_from(days.saturating_add(4) % 7)
        .ok()
        .and_then(|i| WEEKDAYS.get(i))
        .unwrap_or(&"Sun");
    let month = usize::try_from(month.saturating_sub(1))
        .ok()
        .and_then(|i| MONTHS.get(i))
        .unwrap_or(&"Jan");
    format!(
        "{weekday} {month} {day} {:02}:{:02}:{:02} UTC {year:04}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Parses the grammar `EEE MMM d HH:mm:ss UTC yyyy` strictly (English names, case-sensitive;
/// one or two day digits; two-digit time fields; the literal `UTC`; four-digit year; single
/// spaces; a real date). Seconds since the epoch, or `None` for a valid date before 1970.
fn parse_timestamp(text: &str) -> Result<Option<u64>, SrpError> {
    let malformed = SrpError::TimestampFormat;
    if text.len() > MAX_TIMESTAMP_CHARS || !text.is_ascii() {
        return Err(malformed);
    }
    let fields: Vec<&str> = text.split(' ').collect();
    let [weekday, month, day, time, zone, year] = fields.as_slice() else {
        return Err(malformed);
    };
    let number = |field: &str, min_len: usize, max_len: usize| -> Option<u64> {
        if field.len() < min_len || field.len() > max_len {
            return None;
        }
        field.bytes().try_fold(0u64, |acc, c| {
            let digit = u64::from(c.checked_sub(b'0').filter(|d| *d <= 9)?);
            acc.checked_mul(10)?.checked_add(digit)
        })
    };
    let mut clock = time.split(':');
    let (Some(hour), Some(minute), Some(second), None) =
        (clock.next(), clock.next(), clock.next(), clock.next())
    else {
        return Err(malformed);
    };
    let month_index = MONTHS.iter().position(|name| name == month);
    let fields = (
        WEEKDAYS.contains(weekday),
        month_index.and_then(|i| u64::try_from(i).ok()),
        number(day, 1, 2),
        number(hour, 2, 2),
        number(minute, 2, 2),
        number(second, 2, 2),
        *zone == "UTC",
        number(year, 4, 4),
    );
    let (true, Some(month0), Some(day), Some(hour), Some(minute), Some(second), true, Some(year)) =
        fields
    else {
        return Err(malformed);
    };
    let month = month0.saturating_add(1);
    if day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59 {
        return Err(malformed);
    }
    let Some(days) = days_from_civil(year, month, day) else {
        return Ok(None);
    };
    Ok(days
        .checked_mul(86_400)
        .and_then(|s| s.checked_add(hour * 3600 + minute * 60 + second)))
}

/// Checks a `TIMESTAMP` as Cognito does: unparsable → [`SrpError::TimestampFormat`]; parsable but
/// not the clients' rendering of that instant, or more than [`TIMESTAMP_SKEW_S`] from `now_ms`
/// → refused. The signature is then checked over the string as sent.
pub fn check_timestamp(text: &str, now_ms: u64) -> Result<(), SrpError> {
    let Some(secs) = parse_timestamp(text)? else {
        return Err(SrpError::Refused(Refusal::TimestampOutOfWindow));
    };
    if format_timestamp(secs.saturating_mul(1000)) != text {
        return Err(SrpError::Refused(Refusal::TimestampNotCanonical));
    }
    if secs.abs_diff(now_ms / 1000) > TIMESTAMP_SKEW_S {
        return Err(SrpError::Refused(Refusal::TimestampOutOfWindow));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The challenge and SECRET_BLOCK

/// The `PASSWORD_VERIFIER` challenge to send back from InitiateAuth (no `Session`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `SALT`: the salt as an integer, lowercase hex without leading zeros.
    pub salt: String,
    /// `SRP_B`: B, lowercase hex without leading zeros.
    pub srp_b: String,
    /// `SECRET_BLOCK`: the sealed exchange state, standard base64 with padding.
    pub secret_block: String,
    /// `USER_ID_FOR_SRP` and `USERNAME`: the immutable username.
    pub user_id_for_srp: String,
    /// Identifies this challenge for the one-use rule (also inside the block).
    pub challenge_id: String,
}

impl Challenge {
    /// `ChallengeParameters` as Cognito sends them (every value a string).
    pub fn parameters(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("SALT".into(), Value::from(self.salt.as_str()));
        map.insert(
            "SECRET_BLOCK".into(),
            Value::from(self.secret_block.as_str()),
        );
        map.insert("SRP_B".into(), Value::from(self.srp_b.as_str()));
        map.insert(
            "USERNAME".into(),
            Value::from(self.user_id_for_srp.as_str()),
        );
        map.insert(
            "USER_ID_FOR_SRP".into(),
            Value::from(self.user_id_for_srp.as_str()),
        );
        map
    }
}

/// The id of the challenge drawn with exponent `b`: a hash of it (b is fresh per attempt, so the
/// id is unique; the hash reveals nothing of b).
fn challenge_id(b: &[u8; B_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(sha256(&[b"edge-revoke srp challenge v1", b]))
}

/// InitiateAuth `USER_SRP_AUTH`: validates `SRP_A`, computes B with the caller's fresh random
/// `b`, and seals the exchange into `SECRET_BLOCK`, bound to the verifier's pool and user and to
/// `client_id`, for [`SECRET_BLOCK_LIFETIME_S`] from `now_ms`.
pub fn start(
    keys: &SigningKeys,
    client_id: &str,
    verifier: &Verifier,
    srp_a: &str,
    b: &[u8; B_BYTES],
    now_ms: u64,
) -> Result<Challenge, SrpError> {
    let exchange = Exchange::new(verifier, srp_a, b)?;
    let now_s = now_ms / 1000;
    let id = challenge_id(b);
    let claims = json!({
        "pool": verifier.pool_id,
        "client": client_id,
        "user": verifier.user_id_for_srp,
        "iat": now_s,
        "exp": now_s.saturating_add(SECRET_BLOCK_LIFETIME_S),
        "jti": id,
        "A": URL_SAFE_NO_PAD.encode(exchange.a.to_be_bytes()),
        "B": URL_SAFE_NO_PAD.encode(exchange.big_b.to_be_bytes()),
        "b": URL_SAFE_NO_PAD.encode(exchange.b.to_be_bytes()),
    });
    let Value::Object(claims) = claims else {
        return Err(internal("challenge claims are not an object"));
    };
    let sealed = seal::seal(keys, Purpose::SrpChallenge, &claims).map_err(SrpError::Internal)?;
    Ok(Challenge {
        salt: verifier.salt(),
        srp_b: minimal_hex(&exchange.big_b.to_be_bytes()),
        secret_block: STANDARD.encode(sealed),
        user_id_for_srp: verifier.user_id_for_srp.clone(),
        challenge_id: id,
    })
}

/// An authenticated, unexpired `SECRET_BLOCK` for this pool and client, ready to check a proof.
#[derive(Clone)]
pub struct OpenChallenge {
    pool_id: String,
    user_id_for_srp: String,
    challenge_id: String,
    issued_at_s: u64,
    exchange: Exchange,
    raw_block: Vec<u8>,
}

impl core::fmt::Debug for OpenChallenge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpenChallenge")
            .field("pool_id", &self.pool_id)
            .field("user_id_for_srp", &self.user_id_for_srp)
            .field("challenge_id", &self.challenge_id)
            .finish_non_exhaustive()
    }
}

fn read_integer<const LEN: usize>(claims: &Map<String, Value>, name: &str) -> Option<[u8; LEN]> {
    let text = claims.get(name)?.as_str()?;
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

/// RespondToAuthChallenge `PASSWORD_VERIFIER`, first step: authenticates `SECRET_BLOCK`
/// (`PASSWORD_CLAIM_SECRET_BLOCK`) and checks it was issued for this pool and client less than
/// [`SECRET_BLOCK_LIFETIME_S`] ago. The caller then consumes [`OpenChallenge::challenge_id`]
/// whatever the outcome, and calls [`OpenChallenge::verify`].
pub fn open(
    keys: &SigningKeys,
    secret_block: &str,
    pool_id: &str,
    client_id: &str,
    now_ms: u64,
) -> Result<OpenChallenge, SrpError> {
    let bad = SrpError::Refused(Refusal::SecretBlock);
    if secret_block.len() > MAX_SECRET_BLOCK_CHARS {
        return Err(bad);
    }
    let raw_block = STANDARD.decode(secret_block).map_err(|_| bad.clone())?;
    let sealed = core::str::from_utf8(&raw_block).map_err(|_| bad.clone())?;
    let claims = seal::open(keys, Purpose::SrpChallenge, sealed).ok_or(bad.clone())?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    let (Some(pool), Some(client), Some(user), Some(id), Some(iat), Some(exp)) = (
        text("pool"),
        text("client"),
        text("user"),
        text("jti"),
        number("iat"),
        number("exp"),
    ) else {
        return Err(bad);
    };
    let (Some(a), Some(big_b), Some(b)) = (
        read_integer::<N_BYTES>(&claims, "A"),
        read_integer::<N_BYTES>(&claims, "B"),
        read_integer::<B_BYTES>(&claims, "b"),
    ) else {
        return Err(bad);
    };
    if pool != pool_id {
        return Err(SrpError::Refused(Refusal::OtherPool));
    }
    if client != client_id {
        return Err(SrpError::Refused(Refusal::OtherClient));
    }
    if now_ms / 1000 >= exp {
        return Err(SrpError::Refused(Refusal::Expired));
    }
    Ok(OpenChallenge {
        pool_id: pool.to_owned(),
        user_id_for_srp: user.to_owned(),
        challenge_id: id.to_owned(),
        issued_at_s: iat,
        exchange: Exchange {
            a: U3072::from_be_bytes(a),
            b: U384::from_be_bytes(b),
            big_b: U3072::from_be_bytes(big_b),
        },
        raw_block,
    })
}

impl OpenChallenge {
    /// The challenge's id: record it as used before answering, whatever the answer.
    pub fn challenge_id(&self) -> &str {
        &self.challenge_id
    }

    /// The immutable username the challenge was issued for.
    pub fn user_id_for_srp(&self) -> &str {
        &self.user_id_for_srp
    }

    /// When the challenge was issued, in seconds since the epoch.
    pub fn issued_at_s(&self) -> u64 {
        self.issued_at_s
    }

    /// Checks the proof. `user_id_for_srp` is what `ChallengeResponses.USERNAME` resolved to (the
    /// user's immutable username); `verifier` is that user's current verifier. Refuses another
    /// user, then checks `TIMESTAMP` and the signature (constant-time comparison).
    pub fn verify(
        &self,
        user_id_for_srp: &str,
        verifier: &Verifier,
        timestamp: &str,
        signature: &str,
        now_ms: u64,
    ) -> Result<(), SrpError> {
        if verifier.pool_id != self.pool_id {
            return Err(SrpError::Refused(Refusal::OtherPool));
        }
        if user_id_for_srp != self.user_id_for_srp
            || verifier.user_id_for_srp != self.user_id_for_srp
        {
            return Err(SrpError::Refused(Refusal::OtherUser));
        }
        self.exchange
            .verify(verifier, &self.raw_block, timestamp, signature, now_ms)
    }
}

#[cfg(test)]
mod tests;
