//! Differential: the verifier's accept/refuse against an independent reference on valid tokens
//! and their mutations. Any token one accepts and the other refuses is a finding.
//!
//! The harness signs the input's header and payload with a fixed key of the input's choice
//! (every algorithm: RSA PKCS#1 v1.5 and PSS with SHA-256/384/512, ES256, EdDSA, HS256), so
//! most tokens carry a real signature; then it applies one mutation: a flipped bit, the other
//! valid-looking form of the same signature (ECDSA `n − s`, Ed25519 `S + L`, RSA `s + n`), a
//! truncation or extension, a leading zero, padded or non-canonical base64url, a header or
//! payload segment signed exactly as written (any text), a DER-encoded ECDSA signature, PSS
//! with another salt length or PKCS#1 v1.5 with another hash, or a segment added or removed.
//!
//! The reference is written from the RFCs and calls RustCrypto directly (`rsa`'s PKCS#1 v1.5
//! and PSS verifying keys, `p256::ecdsa`, `hmac`) and ed25519-dalek's `verify_strict` (another
//! Ed25519 implementation than the ed25519-compact behind jwt-compact). The rules where this
//! verifier is deliberately stricter than RFC 7515 requires are encoded in [`reference`] one by
//! one, each with a comment saying so.
#![no_main]

use std::{
    cell::RefCell,
    collections::{HashMap, HashSet},
};

use base64::{
    alphabet,
    engine::{
        general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD, URL_SAFE_NO_PAD},
        DecodePaddingMode,
    },
    Engine as _,
};
use edge_revoke::{
    jwk::{Alg, KeyFamily, KeySet},
    token::UntrustedToken,
};
use edge_revoke_fuzz::{
    all_algs, asymmetric_keys, fields, hmac_keys, kid_for,
    signer::{sign, Keys},
    single_key, verify_signature,
};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use p256::ecdsa::signature::Verifier as _;
use rsa::{pkcs1v15, pss, traits::PublicKeyParts, BigUint};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use sha2::{Sha256, Sha384, Sha512};

/// The order of the Ed25519 group, little-endian.
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Which key set the token is checked against, and the reference's copy of it.
struct Choice {
    ours: KeySet,
    /// (kid, the one algorithm the key is bound to).
    table: Vec<(Option<String>, Alg)>,
}

fn choices() -> Vec<Choice> {
    let asymmetric: Vec<_> = Alg::ALL
        .into_iter()
        .filter(|alg| *alg != Alg::Hs256)
        .map(|alg| (Some(kid_for(alg)), alg))
        .collect();
    let mut out = vec![
        Choice {
            ours: asymmetric_keys(),
            table: asymmetric,
        },
        Choice {
            ours: hmac_keys(),
            table: vec![(Some(kid_for(Alg::Hs256)), Alg::Hs256)],
        },
    ];
    for alg in Alg::ALL {
        out.push(Choice {
            ours: single_key(alg),
            table: vec![(None, alg)],
        });
    }
    out
}

/// RSA signatures already made, by (algorithm, variant, signing input): a private-key operation
/// under the fuzzer's instrumentation costs tens of milliseconds, and most mutations keep the
/// signing input. Only speed depends on it: the same input always gives the same token.
type RsaCache = RefCell<HashMap<(Alg, Option<u8>, String), Vec<u8>>>;
const RSA_CACHE_ENTRIES: usize = 20_000;

struct Fixture {
    reference: Keys,
    choices: Vec<Choice>,
    rsa_cache: RsaCache,
}

thread_local! {
    static FIXTURE: Fixture = Fixture {
        reference: Keys::new(),
        choices: choices(),
        rsa_cache: RefCell::new(HashMap::new()),
    };
}

// ---------------------------------------------------------------------------------------------
// Making tokens

fn alg_name(alg: Alg) -> &'static str {
    match alg {
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

/// The other signature that is the same value modulo the group order (or modulus).
fn malleate(r: &Keys, alg: Alg, signature: &[u8]) -> Vec<u8> {
    match alg {
        Alg::Es256 => match p256::ecdsa::Signature::from_slice(signature) {
            Ok(sig) => {
                let (r_part, s_part) = sig.split_scalars();
                let negated = -*s_part.as_ref();
                p256::ecdsa::Signature::from_scalars(r_part.to_bytes(), negated.to_bytes())
                    .map(|s| s.to_vec())
                    .unwrap_or_else(|_| signature.to_vec())
            }
            Err(_) => signature.to_vec(),
        },
        Alg::EdDsa if signature.len() == 64 => {
            let mut out = signature.to_vec();
            let mut carry = 0u16;
            for (i, l) in ED25519_L.iter().enumerate() {
                let sum = u16::from(out[32 + i]) + u16::from(*l) + carry;
                out[32 + i] = sum as u8;
                carry = sum >> 8;
            }
            out
        }
        Alg::Hs256 | Alg::EdDsa => signature.to_vec(),
        _ => (BigUint::from_bytes_be(signature) + r.rsa_public.n()).to_bytes_be(),
    }
}

fn der(alg: Alg, signature: &[u8]) -> Vec<u8> {
    match (alg, p256::ecdsa::Signature::from_slice(signature)) {
        (Alg::Es256, Ok(sig)) => sig.to_der().as_bytes().to_vec(),
        _ => signature.to_vec(),
    }
}

/// Base64url spellings of `bytes` that decode to the same bytes under a lenient decoder.
fn spell(bytes: &[u8], how: u8) -> String {
    let canonical = URL_SAFE_NO_PAD.encode(bytes);
    match how % 4 {
        0 => {
            let padded = STANDARD.encode(bytes);
            let pad = padded.len() - padded.trim_end_matches('=').len();
            format!("{canonical}{}", "=".repeat(pad.max(1)))
        }
        1 => STANDARD.encode(bytes).trim_end_matches('=').to_owned(),
        2 => {
            // Set the spare low bits of the last character, if it has any.
            let spare = match bytes.len() % 3 {
                1 => 0b1111,
                2 => 0b11,
                _ => 0,
            };
            let mut chars: Vec<u8> = canonical.clone().into_bytes();
            if let Some(last) = chars.last_mut() {
                let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                if let Some(index) = alphabet.iter().position(|c| c == last) {
                    *last = alphabet[index | spare];
                }
            }
            String::from_utf8(chars).unwrap_or(canonical)
        }
        _ => format!("{canonical}\n"),
    }
}

struct Made {
    token: String,
    what: String,
}

/// The signing algorithm for the first control byte. A private RSA operation costs tens of
/// milliseconds under the fuzzer's instrumentation, an HMAC microseconds, and the header and
/// encoding rules are the same for every algorithm: each RSA algorithm gets one slot in 64,
/// ES256 and EdDSA 14 each, HS256 the other 30.
fn signer_of(byte: u8) -> Alg {
    match byte % 64 {
        0 => Alg::Rs256,
        1 => Alg::Rs384,
        2 => Alg::Rs512,
        3 => Alg::Ps256,
        4 => Alg::Ps384,
        5 => Alg::Ps512,
        6..=19 => Alg::Es256,
        20..=33 => Alg::EdDsa,
        _ => Alg::Hs256,
    }
}

fn make(f: &Fixture, ctrl: &[u8], header: &[u8], payload: &[u8], extra: &[u8]) -> Made {
    let r = &f.reference;
    let byte = |i: usize| ctrl.get(i).copied().unwrap_or(0);
    let signer = signer_of(byte(0));
    let with_kid = byte(1) % 11 < 2;
    let op = byte(2) % 12;
    let (p, q) = (byte(3), byte(4));
    let default_header;
    let header = if header.is_empty() {
        default_header = if with_kid {
            format!(
                r#"{{"alg":"{}","kid":"{}"}}"#,
                alg_name(signer),
                kid_for(signer)
            )
        } else {
            format!(r#"{{"alg":"{}"}}"#, alg_name(signer))
        };
        default_header.as_bytes()
    } else {
        header
    };
    let extra_text = std::str::from_utf8(extra).ok();
    let header_segment = match (op, extra_text) {
        (7, Some(text)) => text.to_owned(),
        _ => URL_SAFE_NO_PAD.encode(header),
    };
    let payload_segment = match (op, extra_text) {
        (8, Some(text)) => text.to_owned(),
        _ => URL_SAFE_NO_PAD.encode(payload),
    };
    let input = format!("{header_segment}.{payload_segment}");
    let variant = (op == 10).then_some(p);
    let mut signature = if signer.family() == KeyFamily::Rsa {
        let key = (signer, variant, input.clone());
        let cached = f.rsa_cache.borrow().get(&key).cloned();
        cached.unwrap_or_else(|| {
            let made = sign(r, signer, input.as_bytes(), variant);
            let mut cache = f.rsa_cache.borrow_mut();
            if cache.len() >= RSA_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(key, made.clone());
            made
        })
    } else {
        sign(r, signer, input.as_bytes(), variant)
    };
    match op {
        1 if !signature.is_empty() => {
            let at = (usize::from(p) << 8 | usize::from(q)) % signature.len();
            signature[at] ^= 1 << (q % 8);
        }
        2 => signature = malleate(r, signer, &signature),
        3 => signature.truncate(signature.len().saturating_sub(usize::from(p % 8) + 1)),
        4 => signature.extend_from_slice(extra),
        5 => signature.insert(0, 0),
        9 => signature = der(signer, &signature),
        _ => {}
    }
    let signature_segment = if op == 6 {
        spell(&signature, p)
    } else {
        URL_SAFE_NO_PAD.encode(&signature)
    };
    let token = match (op, p % 3) {
        (11, 0) => format!("{input}.{signature_segment}."),
        (11, 1) => format!("{input}.{signature_segment}.{}", extra_text.unwrap_or("")),
        (11, _) => input,
        _ => format!("{input}.{signature_segment}"),
    };
    Made {
        token,
        what: format!("signed {signer:?}, mutation {op} ({p}, {q})"),
    }
}

// ---------------------------------------------------------------------------------------------
// The reference

/// Decodes base64url leniently: with or without padding, spare bits ignored.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A JSON value, read only to learn whether some object names a member twice.
struct NoDuplicates;

impl<'de> Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoDuplicates, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoDuplicates, A::Error> {
        let mut seen = HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if !seen.insert(name) {
                return Err(de::Error::custom("duplicate member"));
            }
            map.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

fn alg_of(name: &str) -> Option<Alg> {
    Some(match name {
        "RS256" => Alg::Rs256,
        "RS384" => Alg::Rs384,
        "RS512" => Alg::Rs512,
        "PS256" => Alg::Ps256,
        "PS384" => Alg::Ps384,
        "PS512" => Alg::Ps512,
        "ES256" => Alg::Es256,
        "EdDSA" => Alg::EdDsa,
        "HS256" => Alg::Hs256,
        _ => return None,
    })
}

/// RFC 7515 §5.2 validation with RustCrypto and ed25519-dalek, plus our stricter rules.
fn reference(r: &Keys, table: &[(Option<String>, Alg)], token: &str) -> Result<(), String> {
    // Stricter: tokens over 16 KiB are refused before anything is decoded.
    if token.len() > 16 * 1024 {
        return Err("over 16 KiB".into());
    }
    // RFC 7515 §7.1: the compact serialisation is exactly three segments.
    let segments: Vec<&str> = token.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = segments[..] else {
        return Err("not three segments".into());
    };
    // Stricter: an empty header or signature segment is refused outright (`alg: none`, the only
    // algorithm with an empty signature, is never accepted).
    if header_b64.is_empty() || signature_b64.is_empty() {
        return Err("empty header or signature".into());
    }
    let mut decoded = Vec::new();
    for segment in [header_b64, payload_b64, signature_b64] {
        let bytes = LENIENT
            .decode(segment)
            .map_err(|e| format!("not base64url: {e}"))?;
        // Stricter: base64url exactly as RFC 7515 §2 writes it, one spelling per value: no
        // padding, no spare bits set (so a signature cannot be re-spelled), no whitespace.
        if URL_SAFE_NO_PAD.encode(&bytes) != segment {
            return Err("not canonical base64url".into());
        }
        decoded.push(bytes);
    }
    let [header, _payload, signature] = &decoded[..] else {
        return Err("unreachable".into());
    };
    let Ok(Value::Object(header_map)) = serde_json::from_slice::<Value>(header) else {
        return Err("header is not a JSON object".into());
    };
    // Stricter: a member named twice at any depth is refused (RFC 7515 §4 allows either
    // refusing or last-wins; last-wins is how parser differentials happen).
    if serde_json::from_slice::<NoDuplicates>(header).is_err() {
        return Err("duplicate member".into());
    }
    // Stricter: header parameters that would let the token choose its key or change what is
    // signed are refused, understood or not: jwk, jku, x5u, x5c (RFC 8725 §3.10), crit (we
    // implement no extension, RFC 7515 §4.1.11), cty, enc, zip (not a JWT's claims or a JWS).
    for name in ["jwk", "jku", "x5u", "x5c", "crit", "cty", "enc", "zip"] {
        if header_map.contains_key(name) {
            return Err(format!("refused header {name}"));
        }
    }
    // Stricter: RFC 7797's unencoded payload is not supported; `b64: true` is the default.
    if header_map
        .get("b64")
        .is_some_and(|b64| b64 != &Value::Bool(true))
    {
        return Err("b64 is not true".into());
    }
    let Some(Value::String(alg_text)) = header_map.get("alg") else {
        return Err("no string alg".into());
    };
    let kid = match header_map.get("kid") {
        None => None,
        // Stricter: a kid over 256 bytes is refused before any lookup.
        Some(Value::String(kid)) if kid.len() <= 256 => Some(kid.as_str()),
        Some(_) => return Err("kid not a string of at most 256 bytes".into()),
    };
    // Stricter: a `typ` that is not a string is malformed (RFC 7515 §4.1.9 says it is one).
    if header_map.get("typ").is_some_and(|typ| !typ.is_string()) {
        return Err("typ not a string".into());
    }
    let alg = alg_of(alg_text).ok_or("unknown alg")?;
    // The key: by kid; with no kid, only a set of exactly one key answers (stricter than trying
    // every key).
    let key = match kid {
        Some(kid) => table.iter().find(|(k, _)| k.as_deref() == Some(kid)),
        None if table.len() == 1 => table.first(),
        None => None,
    };
    let (_, key_alg) = key.ok_or("no key")?;
    // RFC 8725 §3.1: each key is bound to one algorithm; the header must name it.
    if *key_alg != alg {
        return Err("alg is not the key's".into());
    }
    let message = format!("{header_b64}.{payload_b64}");
    let message = message.as_bytes();
    let good = match alg {
        Alg::Rs256 | Alg::Rs384 | Alg::Rs512 => {
            // Stricter (and RFC 8017 §8.2.2 step 1): exactly as long as the modulus.
            if signature.len() != r.rsa_public.size() {
                return Err("RSA signature length".into());
            }
            let Ok(sig) = pkcs1v15::Signature::try_from(&signature[..]) else {
                return Err("RSA signature".into());
            };
            let key = r.rsa_public.clone();
            match alg {
                Alg::Rs256 => pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(message, &sig),
                Alg::Rs384 => pkcs1v15::VerifyingKey::<Sha384>::new(key).verify(message, &sig),
                _ => pkcs1v15::VerifyingKey::<Sha512>::new(key).verify(message, &sig),
            }
            .is_ok()
        }
        Alg::Ps256 | Alg::Ps384 | Alg::Ps512 => {
            if signature.len() != r.rsa_public.size() {
                return Err("RSA signature length".into());
            }
            let Ok(sig) = pss::Signature::try_from(&signature[..]) else {
                return Err("RSA signature".into());
            };
            let key = r.rsa_public.clone();
            // RFC 7518 §3.5: the salt is as long as the hash (the verifying keys' default).
            match alg {
                Alg::Ps256 => pss::VerifyingKey::<Sha256>::new(key).verify(message, &sig),
                Alg::Ps384 => pss::VerifyingKey::<Sha384>::new(key).verify(message, &sig),
                _ => pss::VerifyingKey::<Sha512>::new(key).verify(message, &sig),
            }
            .is_ok()
        }
        Alg::Es256 => {
            // RFC 7518 §3.4: R‖S, 64 bytes; DER is not a JWS encoding.
            let Ok(sig) = p256::ecdsa::Signature::from_slice(signature) else {
                return Err("not a 64-byte P-256 R‖S".into());
            };
            r.ec_verifying.verify(message, &sig).is_ok()
        }
        Alg::EdDsa => {
            let Ok(bytes) = <[u8; 64]>::try_from(&signature[..]) else {
                return Err("Ed25519 signature length".into());
            };
            let sig = ed25519_dalek::Signature::from_bytes(&bytes);
            // Stricter than RFC 8032's cofactored equation: canonical S, no small-order R or
            // A (RFC 8037 leaves this to the verifier; both implementations check it).
            r.ed_verifying.verify_strict(message, &sig).is_ok()
        }
        Alg::Hs256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(&r.hmac_key).map_err(|e| e.to_string())?;
            mac.update(message);
            // The whole 32-byte tag: a truncated one is not HS256.
            mac.verify_slice(signature).is_ok()
        }
    };
    if good {
        Ok(())
    } else {
        Err("signature does not verify".into())
    }
}

// ---------------------------------------------------------------------------------------------

fuzz_target!(|data: &[u8]| {
    let [ctrl, header, payload, extra] = fields::<4>(data);
    FIXTURE.with(|f| {
        let made = make(f, ctrl, header, payload, extra);
        let choice = &f.choices[usize::from(ctrl.get(1).copied().unwrap_or(0)) % f.choices.len()];
        let ours = UntrustedToken::parse(&made.token)
            .and_then(|token| verify_signature(&token, &choice.ours, all_algs()).map(|_| ()));
        let theirs = reference(&f.reference, &choice.table, &made.token);
        assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "the verifier and the reference disagree ({}): ours {ours:?}, reference {theirs:?}\n\
             token: {}",
            made.what,
            made.token
        );
    });
});
