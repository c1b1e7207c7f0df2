//! Sealed tokens: local refresh tokens, sign-in challenge sessions, SRP challenge state and SRP
//! verifiers at rest.
//!
//! Like Cognito's refresh tokens they are JWE compact serialisations (five segments, `dir` +
//! A256GCM, RFC 7516), opaque to clients: the session they stand for (user, client, `origin_jti`,
//! `auth_time`) is encrypted and authenticated, so nothing needs storing per session and a client
//! can neither read nor alter it. The AES key is derived with HKDF-SHA256 from the signing key's
//! private exponent, separately per purpose and key id, so a challenge session cannot be replayed
//! as a refresh token and rotating the signing key retires old refresh tokens with it.

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rsa::traits::PrivateKeyParts;
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::signing::{SigningKey, SigningKeys};

/// What a sealed token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A refresh token (REFRESH_TOKEN_AUTH, RevokeToken).
    Refresh,
    /// A challenge session (NEW_PASSWORD_REQUIRED).
    Session,
    /// The state of one SRP exchange, carried in PASSWORD_VERIFIER's `SECRET_BLOCK`.
    SrpChallenge,
    /// A user's SRP salt and verifier, as stored beside the password hash.
    SrpVerifier,
    /// A confirmation or verification code waiting to be entered (`local::codes`).
    Code,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::Refresh => "refresh",
            Purpose::Session => "session",
            Purpose::SrpChallenge => "srp-challenge",
            Purpose::SrpVerifier => "srp-verifier",
            Purpose::Code => "code",
        }
    }
}

/// Longest sealed token read, in bytes (Cognito's TokenModelType has no limit; ours are ~500).
const MAX_SEALED_BYTES: usize = 4096;

/// A 32-byte key for `label`, derived with HKDF-SHA256 from the signing key's private exponent.
fn derive(key: &SigningKey, label: &str) -> Option<[u8; 32]> {
    let secret = key.private().d().to_bytes_be();
    let hkdf = Hkdf::<Sha256>::new(Some(b"edge-revoke seal v1"), &secret);
    let mut out = [0u8; 32];
    let info = format!("{label}:{}", key.kid());
    hkdf.expand(info.as_bytes(), &mut out).ok()?;
    Some(out)
}

fn cipher(key: &SigningKey, purpose: Purpose) -> Option<Aes256Gcm> {
    Aes256Gcm::new_from_slice(&derive(key, purpose.label())?).ok()
}

/// A keyed pseudonym: HMAC-SHA256, under a key derived from the current signing key for this
/// use alone, of `parts` (each length-prefixed, so no two lists collide). Stable for the same
/// parts while the signing key stays current, unpredictable without it: what stands in for a
/// user who does not exist (an SRP salt and verifier, an id), so that they are answered exactly
/// as one who does.
pub fn pseudonym(keys: &SigningKeys, parts: &[&[u8]]) -> Result<[u8; 32], String> {
    let key = derive(keys.current(), "stand-in").ok_or("key derivation failed")?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .map_err(|_| "HMAC refused a 32-byte key".to_owned())?;
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// Seals `claims` with the current signing key.
pub fn seal(
    keys: &SigningKeys,
    purpose: Purpose,
    claims: &Map<String, Value>,
) -> Result<String, String> {
    let key = keys.current();
    let header = json!({"alg": "dir", "enc": "A256GCM", "kid": key.kid(), "typ": purpose.label()});
    let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
    let mut iv = [0u8; 12];
    getrandom::getrandom(&mut iv).map_err(|e| format!("no randomness for an IV: {e}"))?;
    let cipher = cipher(key, purpose).ok_or("key derivation failed")?;
    let plaintext = Value::Object(claims.clone()).to_string();
    let sealed = cipher
        .encrypt(
            &Nonce::from(iv),
            Payload {
                msg: plaintext.as_bytes(),
                aad: header_b64.as_bytes(),
            },
        )
        .map_err(|_| "encryption failed".to_owned())?;
    // aes-gcm appends the 16-byte tag to the ciphertext; JWE carries it as its own segment.
    let (ciphertext, tag) = sealed.split_at(sealed.len().saturating_sub(16));
    Ok(format!(
        "{header_b64}..{}.{}.{}",
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(ciphertext),
        URL_SAFE_NO_PAD.encode(tag)
    ))
}

/// Opens a sealed token of `purpose`; `None` for anything not sealed by one of `keys` for it.
pub fn open(keys: &SigningKeys, purpose: Purpose, token: &str) -> Option<Map<String, Value>> {
    if token.len() > MAX_SEALED_BYTES {
        return None;
    }
    let mut parts = token.splitn(6, '.');
    let (Some(header_b64), Some(""), Some(iv), Some(ciphertext), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let header = crate::json::parse_object(&URL_SAFE_NO_PAD.decode(header_b64).ok()?).ok()?;
    let member = |name: &str| header.get(name).and_then(Value::as_str);
    if member("alg") != Some("dir")
        || member("enc") != Some("A256GCM")
        || member("typ") != Some(purpose.label())
        || header.len() != 4
    {
        return None;
    }
    let key = keys.by_kid(member("kid")?)?;
    let iv: [u8; 12] = URL_SAFE_NO_PAD.decode(iv).ok()?.try_into().ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    if tag.len() != 16 {
        return None;
    }
    let mut sealed = URL_SAFE_NO_PAD.decode(ciphertext).ok()?;
    sealed.extend_from_slice(&tag);
    let plaintext = cipher(key, purpose)?
        .decrypt(
            &Nonce::from(iv),
            Payload {
                msg: &sealed,
                aad: header_b64.as_bytes(),
            },
        )
        .ok()?;
    crate::json::parse_object(&plaintext).ok()
}

/// The `kid` a sealed token names, read without opening it: only a hint (for example, whether
/// a stored value should be sealed again under the current key), never a reason to trust it.
pub fn kid_of(token: &str) -> Option<String> {
    if token.len() > MAX_SEALED_BYTES {
        return None;
    }
    let header_b64 = token.split('.').next()?;
    let header = crate::json::parse_object(&URL_SAFE_NO_PAD.decode(header_b64).ok()?).ok()?;
    header.get("kid")?.as_str().map(str::to_owned)
}

/// Whether `token` has the shape of a sealed token (five segments) rather than a JWS.
pub fn looks_sealed(token: &str) -> bool {
    token.split('.').take(6).count() == 5
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::test_keys::signing_keys_json;

    fn keys() -> SigningKeys {
        SigningKeys::parse(&signing_keys_json()).unwrap()
    }

    fn claims() -> Map<String, Value> {
        json!({"sub": "s-1", "origin_jti": "o-1", "client_id": "c"})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn a_sealed_token_opens_to_its_claims() {
        let keys = keys();
        let token = seal(&keys, Purpose::Refresh, &claims()).unwrap();
        assert!(looks_sealed(&token));
        assert!(!token.contains("s-1"), "claims are not readable");
        assert_eq!(open(&keys, Purpose::Refresh, &token), Some(claims()));
    }

    #[test]
    fn a_token_sealed_for_one_purpose_does_not_open_for_another() {
        let keys = keys();
        let session = seal(&keys, Purpose::Session, &claims()).unwrap();
        assert_eq!(open(&keys, Purpose::Refresh, &session), None);
    }

    #[test]
    fn every_purpose_seals_under_its_own_key() {
        let keys = keys();
        let all = [
            Purpose::Refresh,
            Purpose::Session,
            Purpose::SrpChallenge,
            Purpose::SrpVerifier,
        ];
        for sealed_for in all {
            let token = seal(&keys, sealed_for, &claims()).unwrap();
            for opened_as in all {
                let opened = open(&keys, opened_as, &token);
                assert_eq!(
                    opened.is_some(),
                    sealed_for == opened_as,
                    "{sealed_for:?} as {opened_as:?}"
                );
            }
        }
    }

    #[test]
    fn the_kid_of_a_sealed_token_names_the_key_that_sealed_it() {
        let keys = keys();
        let token = seal(&keys, Purpose::SrpVerifier, &claims()).unwrap();
        assert_eq!(kid_of(&token).as_deref(), Some(keys.current().kid()));
        assert_eq!(kid_of("not-a-token"), None);
    }

    #[test]
    fn any_altered_byte_makes_the_token_unopenable() {
        let keys = keys();
        let token = seal(&keys, Purpose::Refresh, &claims()).unwrap();
        for at in (0..token.len()).step_by(7) {
            let mut bytes = token.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            if altered != token {
                assert_eq!(open(&keys, Purpose::Refresh, &altered), None, "byte {at}");
            }
        }
    }

    #[test]
    fn junk_never_opens_and_never_panics() {
        let keys = keys();
        for junk in [
            "",
            "....",
            "a.b.c.d.e",
            "a..b.c.d",
            &"x.".repeat(3000),
            "é.é.é.é.é",
        ] {
            assert_eq!(open(&keys, Purpose::Refresh, junk), None);
        }
    }
}
