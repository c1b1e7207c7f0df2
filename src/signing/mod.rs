//! Local pools' signing keys, from the `SIGNING_KEYS` secret.
//!
//! A private RSA JWK set; the first key signs new tokens, every key verifies (so a key can be
//! rotated out: put the new key first and keep the old one until its tokens have expired).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jwt_compact::jwk::{JsonWebKey, RsaPrivateParts};
use serde_json::{Map, Value};

#[cfg(test)]
pub(crate) mod test_keys;

use crate::{
    alg::Alg,
    jwk::{
        rsa_public, without_leading_zeros, BackendSlot, KeyMaterial, KeySet, VerifyingKey,
        MAX_KID_BYTES,
    },
};

/// The members of a private RSA JWK, big-endian without leading zeros.
#[derive(Clone)]
struct PrivateMembers {
    d: Vec<u8>,
    p: Vec<u8>,
    q: Vec<u8>,
    dp: Vec<u8>,
    dq: Vec<u8>,
    qi: Vec<u8>,
}

/// One private signing key with its public half.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    private: PrivateMembers,
    /// The key for the native build's pure-Rust signer.
    #[cfg(not(target_arch = "wasm32"))]
    rust: jwt_compact::alg::RsaPrivateKey,
    public: VerifyingKey,
    /// Where a backend keeps its own form of the private key (and of keys derived from it).
    slot: BackendSlot,
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The key id put in the header of tokens this key signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, as tokens are verified against it.
    pub fn public(&self) -> &VerifyingKey {
        &self.public
    }

    /// The private exponent `d`, big-endian without leading zeros: the input of the keys that
    /// seal tokens (`local::seal`).
    pub fn private_exponent(&self) -> &[u8] {
        &self.private.d
    }

    /// The private key as a JWK (`kty`, `n`, `e`, `d`, `p`, `q`, `dp`, `dq`, `qi`), for a
    /// platform that imports keys from JWKs (WebCrypto). Never log it.
    pub fn private_jwk(&self) -> Map<String, Value> {
        let mut jwk = Map::new();
        let encode = |bytes: &[u8]| Value::String(URL_SAFE_NO_PAD.encode(bytes));
        jwk.insert("kty".into(), Value::from("RSA"));
        if let KeyMaterial::Rsa(public) = self.public.material() {
            jwk.insert("n".into(), encode(public.modulus()));
            jwk.insert("e".into(), encode(public.exponent()));
        }
        let private = &self.private;
        for (name, value) in [
            ("d", &private.d),
            ("p", &private.p),
            ("q", &private.q),
            ("dp", &private.dp),
            ("dq", &private.dq),
            ("qi", &private.qi),
        ] {
            jwk.insert(name.into(), encode(value));
        }
        jwk
    }

    /// Where a backend keeps its own form of this key.
    pub fn slot(&self) -> &BackendSlot {
        &self.slot
    }

    /// The private key for the native build's pure-Rust signer.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn rsa_private_key(&self) -> &jwt_compact::alg::RsaPrivateKey {
        &self.rust
    }
}

/// The keys local pools sign with; the first is current.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    keys: Vec<SigningKey>,
}

impl SigningKeys {
    /// Parses a private JWK set `{"keys": [{kty: RSA, kid, n, e, d, p, q, dp, dq, qi}]}`.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let list = value
            .as_object()
            .and_then(|obj| obj.get("keys"))
            .and_then(Value::as_array)
            .ok_or("must be a private JWK set {\"keys\": [...]}")?;
        let mut keys: Vec<SigningKey> = Vec::with_capacity(list.len());
        for (index, item) in list.iter().enumerate() {
            let key = parse_one(item).map_err(|why| format!("keys[{index}]: {why}"))?;
            if keys.iter().any(|k| k.kid == key.kid) {
                return Err(format!("keys[{index}]: two keys share kid `{}`", key.kid));
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err("must hold at least one key".into());
        }
        Ok(Self { keys })
    }

    /// The key new tokens are signed with.
    pub fn current(&self) -> &SigningKey {
        // `parse` refuses an empty set, so the first key exists.
        &self.keys[0]
    }

    /// The key with this kid.
    pub fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Every key's public half, as the set tokens are verified against.
    pub fn verifying_keys(&self) -> KeySet {
        // Kids are unique and every key is RSA, so `KeySet::new` cannot refuse this set.
        KeySet::new(self.keys.iter().map(|k| k.public.clone()).collect()).unwrap_or_default()
    }
}

fn parse_one(item: &Value) -> Result<SigningKey, String> {
    let obj = item.as_object().ok_or("not a JSON object")?;
    let member = |name: &str| obj.get(name).and_then(Value::as_str);
    if member("kty") != Some("RSA") {
        return Err("kty must be RSA".into());
    }
    match member("alg") {
        None | Some("RS256") => {}
        Some(_) => return Err("alg must be RS256".into()),
    }
    if obj.get("use").is_some_and(|u| u != "sig") {
        return Err("use must be sig".into());
    }
    let kid = member("kid").ok_or("kid is required")?;
    if kid.is_empty() || kid.len() > MAX_KID_BYTES {
        return Err(format!("kid must be 1 to {MAX_KID_BYTES} bytes"));
    }
    let jwk: JsonWebKey<'static> =
        serde_json::from_value(item.clone()).map_err(|err| format!("not an RSA JWK: {err}"))?;
    let JsonWebKey::Rsa {
        modulus,
        public_exponent,
        private_parts: Some(parts),
    } = &jwk
    else {
        return Err("not a private RSA key: it needs d, p, q, dp, dq and qi".into());
    };
    let RsaPrivateParts {
        private_exponent,
        prime_factor_p,
        prime_factor_q,
        p_crt_exponent: Some(dp),
        q_crt_exponent: Some(dq),
        q_crt_coefficient: Some(qi),
        other_prime_factors,
    } = parts
    else {
        return Err("not a private RSA key: it needs d, p, q, dp, dq and qi".into());
    };
    if !other_prime_factors.is_empty() {
        return Err("multi-prime keys (oth) are not supported".into());
    }
    let public = rsa_public(modulus, public_exponent).map_err(|err| format!("refused: {err}"))?;
    let minimal = |bytes: &[u8]| without_leading_zeros(bytes).to_vec();
    let private = PrivateMembers {
        d: minimal(private_exponent),
        p: minimal(prime_factor_p),
        q: minimal(prime_factor_q),
        dp: minimal(dp),
        dq: minimal(dq),
        qi: minimal(qi),
    };
    // The native build checks the key's arithmetic here (n = p·q, d and e inverse); WebCrypto
    // checks it when it imports the key, before the first signature.
    #[cfg(not(target_arch = "wasm32"))]
    let rust = jwt_compact::alg::RsaPrivateKey::try_from(&jwk)
        .map_err(|err| format!("not a private RSA key: {err}"))?;

    let encode = |bytes: &[u8]| Value::String(URL_SAFE_NO_PAD.encode(bytes));
    let mut public_jwk = Map::new();
    public_jwk.insert("kty".into(), Value::from("RSA"));
    public_jwk.insert("kid".into(), Value::from(kid));
    public_jwk.insert("alg".into(), Value::from("RS256"));
    public_jwk.insert("use".into(), Value::from("sig"));
    public_jwk.insert("n".into(), encode(public.modulus()));
    public_jwk.insert("e".into(), encode(public.exponent()));
    let verifying = VerifyingKey::from_parts(
        Some(kid.to_owned()),
        Alg::Rs256,
        KeyMaterial::Rsa(public),
        public_jwk,
    );
    Ok(SigningKey {
        kid: kid.to_owned(),
        private,
        #[cfg(not(target_arch = "wasm32"))]
        rust,
        public: verifying,
        slot: BackendSlot::default(),
    })
}
