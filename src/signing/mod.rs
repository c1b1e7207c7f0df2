//! Local pools' signing keys, from the `SIGNING_KEYS` secret.
//!
//! A private RSA JWK set; the first key signs new tokens, every key verifies (so a key can be
//! rotated out: put the new key first and keep the old one until its tokens have expired).

use jwt_compact::{
    alg::{RsaPrivateKey, StrongKey},
    jwk::JsonWebKey,
};
use rsa::traits::PublicKeyParts;
use serde_json::{Map, Value};

#[cfg(test)]
pub(crate) mod test_keys;

use crate::{
    alg::Alg,
    jwk::{KeyMaterial, KeySet, VerifyingKey, MAX_KID_BYTES},
};

/// One private signing key with its public half.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    private: RsaPrivateKey,
    public: VerifyingKey,
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

    /// The private key.
    pub fn private(&self) -> &RsaPrivateKey {
        &self.private
    }
}

/// The keys local pools sign with; the first is current.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    keys: Vec<SigningKey>,
}

impl SigningKeys {
    /// Parses a private JWK set `{"keys": [{kty: RSA, kid, n, e, d, p, q, ...}]}`.
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
    let private =
        RsaPrivateKey::try_from(&jwk).map_err(|err| format!("not a private RSA key: {err}"))?;
    let private = StrongKey::try_from(private)
        .map_err(|err| format!("refused: {err}"))?
        .into_inner();
    let public = private.to_public_key();

    let encode = |bytes: Vec<u8>| {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
        Value::String(URL_SAFE_NO_PAD.encode(bytes))
    };
    let mut public_jwk = Map::new();
    public_jwk.insert("kty".into(), Value::from("RSA"));
    public_jwk.insert("kid".into(), Value::from(kid));
    public_jwk.insert("alg".into(), Value::from("RS256"));
    public_jwk.insert("use".into(), Value::from("sig"));
    public_jwk.insert("n".into(), encode(public.n().to_bytes_be()));
    public_jwk.insert("e".into(), encode(public.e().to_bytes_be()));
    let verifying = VerifyingKey::from_parts(
        Some(kid.to_owned()),
        Alg::Rs256,
        KeyMaterial::Rsa(public),
        public_jwk,
    );
    Ok(SigningKey {
        kid: kid.to_owned(),
        private,
        public: verifying,
    })
}
