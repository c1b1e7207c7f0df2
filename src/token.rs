//! Untrusted tokens: the compact JWS, split and decoded, before anything about it is believed.
//!
//! The order follows RFC 8725 §3: size cap, exactly three segments, strict base64url, header is
//! a JSON object without duplicate members, header parameters we refuse, then (elsewhere) the
//! signature over the exact received bytes `B64(header).B64(payload)`, and only then the claims.
//! Nothing here allocates in proportion to the number of dots (golang-jwt CVE-2025-30204).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::{Map, Value};

use crate::{
    alg::{Alg, AlgSet},
    claims::Claims,
    crypto::{AsyncSignatureVerifier, SignatureVerifier},
    error::TokenError,
    json,
    jwk::{KeySet, VerifyingKey, MAX_KID_BYTES},
};

/// Longest token accepted, in bytes. Cognito tokens are usually under 4 KiB; groups and custom
/// attributes can grow an ID token, so the cap leaves room while refusing megabyte payloads
/// before any decoding.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The header parameters this verifier reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    alg: String,
    kid: Option<String>,
    all: Map<String, Value>,
}

impl Header {
    /// The `alg` as written in the token (not yet checked against anything).
    pub fn alg(&self) -> &str {
        &self.alg
    }

    /// The `kid`, at most [`MAX_KID_BYTES`] long.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Every header parameter as received (for display; decisions use the typed accessors).
    pub fn all(&self) -> &Map<String, Value> {
        &self.all
    }
}

/// A token split and decoded, with nothing about it trusted yet.
#[derive(Debug, Clone)]
pub struct UntrustedToken<'a> {
    signing_input: &'a str,
    header: Header,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> UntrustedToken<'a> {
    /// Splits and decodes a compact JWS.
    pub fn parse(token: &'a str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        // At most four pieces, whatever the number of dots.
        let mut parts = token.splitn(4, '.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed("not three dot-separated segments"));
        };
        if header_b64.is_empty() {
            return Err(TokenError::Malformed("empty header"));
        }
        if signature_b64.is_empty() {
            return Err(TokenError::Malformed("empty signature"));
        }
        let header_bytes = decode(header_b64)?;
        let payload = decode(payload_b64)?;
        let signature = decode(signature_b64)?;
        let header = parse_header(&header_bytes)?;
        // The signed bytes are exactly what was received, never a re-encoding.
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
        Ok(Self {
            signing_input,
            header,
            payload,
            signature,
        })
    }

    /// The header parameters.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The decoded signature's length in bytes.
    pub fn signature_len(&self) -> usize {
        self.signature.len()
    }

    /// The decoded payload bytes, NOT verified. The core never reads them: claims come from a
    /// [`SignatureValid`] (whose payload verified) or, where nothing is trusted, from
    /// [`claims_unverified`](Self::claims_unverified). Public for the conformance suites, which
    /// compare payloads of tokens that do not verify.
    #[doc(hidden)]
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload as a claims object, with nothing about it verified: only for choosing which
    /// pool's keys to try (by `iss`), for wording messages (by `token_use`), and for showing a
    /// token to a person (the console's `decodeToken`). Never for a decision.
    pub(crate) fn claims_unverified(&self) -> Option<Map<String, Value>> {
        json::parse_object(&self.payload).ok()
    }

    /// Verifies the signature with a key of `keys`, chosen by `kid`, whose bound algorithm is in
    /// `allowed` and equals the header's `alg`, with a backend that answers at once. Success is
    /// the only way to get a [`SignatureValid`].
    pub fn verify_signature<'k>(
        &self,
        keys: &'k KeySet,
        allowed: AlgSet,
        verifier: &dyn SignatureVerifier,
    ) -> Result<SignatureValid<'_, 'k>, TokenError> {
        let key = self.key_for(keys, allowed)?;
        let valid = verifier.verify(key, self.signing_input.as_bytes(), &self.signature);
        self.proof(key, valid)
    }

    /// [`verify_signature`](Self::verify_signature), awaiting the backend (WebCrypto answers
    /// with promises). The checks before the signature are the same, and run first.
    pub async fn verify_signature_async<'k>(
        &self,
        keys: &'k KeySet,
        allowed: AlgSet,
        verifier: &dyn AsyncSignatureVerifier,
    ) -> Result<SignatureValid<'_, 'k>, TokenError> {
        let key = self.key_for(keys, allowed)?;
        let valid = verifier
            .verify_async(key, self.signing_input.as_bytes(), &self.signature)
            .await;
        self.proof(key, valid)
    }

    /// The key that must verify this token: the header's `alg` is in `allowed`, a key of `keys`
    /// has the header's `kid`, and that key is bound to the header's `alg`. No crypto yet.
    fn key_for<'k>(
        &self,
        keys: &'k KeySet,
        allowed: AlgSet,
    ) -> Result<&'k VerifyingKey, TokenError> {
        let alg = Alg::from_name(&self.header.alg)
            .filter(|alg| allowed.contains(*alg))
            .ok_or(TokenError::AlgorithmNotAllowed)?;
        let key = keys.find(self.header.kid()).ok_or(TokenError::UnknownKey)?;
        if key.alg() != alg {
            return Err(TokenError::KeyAlgorithmMismatch);
        }
        Ok(key)
    }

    fn proof<'k>(
        &self,
        key: &'k VerifyingKey,
        valid: bool,
    ) -> Result<SignatureValid<'_, 'k>, TokenError> {
        if valid {
            Ok(SignatureValid {
                key,
                payload: &self.payload,
            })
        } else {
            Err(TokenError::BadSignature)
        }
    }
}

/// Proof that a token's signature verified, with which key, and the payload it covers. Only
/// [`UntrustedToken::verify_signature`] and its async twin make one, so claims read from it
/// are claims whose signature was checked.
#[derive(Debug)]
pub struct SignatureValid<'t, 'k> {
    key: &'k VerifyingKey,
    payload: &'t [u8],
}

impl SignatureValid<'_, '_> {
    /// The key that verified the token.
    pub fn key(&self) -> &VerifyingKey {
        self.key
    }

    /// The payload the signature covers, as claims (type-checked, not yet validated: the
    /// issuer, times, token use and client are checked by `auth`).
    pub fn claims(&self) -> Result<Claims, TokenError> {
        Claims::parse(self.payload)
    }

    /// The payload the signature covers as a strict JSON object, for tokens whose claims are not
    /// an access or ID token's (a Security Event Token); `None` if it is not one.
    pub fn payload_object(&self) -> Option<Map<String, Value>> {
        json::parse_object(self.payload).ok()
    }
}

/// Whether a JOSE `typ` names a Security Event Token (RFC 8417): `secevent+jwt`, or with the `application/` prefix RFC 7515
/// §4.1.9 allows, ASCII case-insensitively.
pub fn is_set_typ(typ: &str) -> bool {
    let typ = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => typ.get(12..).unwrap_or(""),
        _ => typ,
    };
    typ.eq_ignore_ascii_case("secevent+jwt")
}

/// Strict base64url: URL-safe alphabet, no padding, no whitespace, zero trailing bits.
fn decode(segment: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed("segment is not strict base64url"))
}

/// Header parameters refused outright. `jwk`, `jku`, `x5u` and `x5c` would let the token name
/// its own key; `crit` lists extensions we must understand and we implement none (an empty list
/// is forbidden too, RFC 7515 §4.1.11); `cty` would make the payload something other than
/// claims; `enc` and `zip` belong to JWE.
const REFUSED_HEADER_PARAMETERS: [&str; 8] =
    ["jwk", "jku", "x5u", "x5c", "crit", "cty", "enc", "zip"];

fn parse_header(bytes: &[u8]) -> Result<Header, TokenError> {
    let header = json::parse_object(bytes)
        .map_err(|_| TokenError::Malformed("header is not a JSON object without duplicates"))?;
    for name in REFUSED_HEADER_PARAMETERS {
        if header.contains_key(name) {
            return Err(TokenError::ForbiddenHeader(name));
        }
    }
    // RFC 7797's unencoded payload changes what is signed; we only verify base64url payloads.
    if let Some(b64) = header.get("b64") {
        if b64 != &Value::Bool(true) {
            return Err(TokenError::ForbiddenHeader("b64"));
        }
    }
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.clone(),
        _ => return Err(TokenError::Malformed("header has no string alg")),
    };
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) if kid.len() <= MAX_KID_BYTES => Some(kid.clone()),
        Some(Value::String(_)) => return Err(TokenError::Malformed("kid too long")),
        Some(_) => return Err(TokenError::Malformed("kid is not a string")),
    };
    if let Some(typ) = header.get("typ") {
        if !typ.is_string() {
            return Err(TokenError::Malformed("typ is not a string"));
        }
    }
    Ok(Header {
        alg,
        kid,
        all: header,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(payload), b64("signature"))
    }

    #[test]
    fn a_well_formed_token_splits_into_its_parts() {
        let raw = token(r#"{"alg":"RS256","kid":"k1"}"#, r#"{"sub":"u"}"#);
        let parsed = UntrustedToken::parse(&raw).unwrap();
        assert_eq!(parsed.header().alg(), "RS256");
        assert_eq!(parsed.header().kid(), Some("k1"));
        assert_eq!(parsed.payload(), br#"{"sub":"u"}"#);
        assert_eq!(parsed.signing_input, &raw[..raw.rfind('.').unwrap()]);
    }

    #[test]
    fn a_token_over_the_size_cap_is_refused_before_parsing() {
        let raw = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(
            UntrustedToken::parse(&raw).unwrap_err(),
            TokenError::TooLarge
        );
    }

    #[test]
    fn twenty_thousand_dots_are_refused_as_malformed() {
        let raw = ".".repeat(20_000);
        // Over the cap anyway; under the cap, the segment count check refuses it.
        assert_eq!(
            UntrustedToken::parse(&raw).unwrap_err(),
            TokenError::TooLarge
        );
        let raw = ".".repeat(10_000);
        assert!(matches!(
            UntrustedToken::parse(&raw),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn two_four_and_five_segments_are_refused() {
        let three = token(r#"{"alg":"RS256"}"#, "{}");
        let two = &three[..three.rfind('.').unwrap()];
        for raw in [two.to_owned(), format!("{three}."), format!("{three}.a.b")] {
            assert!(
                matches!(UntrustedToken::parse(&raw), Err(TokenError::Malformed(_))),
                "{raw}"
            );
        }
    }

    #[test]
    fn an_empty_signature_is_refused() {
        let raw = format!("{}.{}.", b64(r#"{"alg":"HS256"}"#), b64("{}"));
        assert_eq!(
            UntrustedToken::parse(&raw).unwrap_err(),
            TokenError::Malformed("empty signature")
        );
    }

    #[test]
    fn padding_plus_slash_and_whitespace_in_segments_are_refused() {
        let good = token(r#"{"alg":"HS256"}"#, r#"{"a":1}"#);
        for bad in [
            format!("{good}="),
            good.replacen('e', "+", 1),
            good.replacen('e', "/", 1),
            good.replacen('e', " e", 1),
        ] {
            assert!(
                matches!(UntrustedToken::parse(&bad), Err(TokenError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn non_canonical_trailing_bits_are_refused() {
        // "YQ" is "a"; "YR" decodes to the same byte only if trailing bits are ignored.
        let raw = format!("{}.YR.{}", b64(r#"{"alg":"HS256"}"#), b64("s"));
        assert!(matches!(
            UntrustedToken::parse(&raw),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn embedded_keys_and_key_urls_are_refused() {
        for name in ["jwk", "jku", "x5u", "x5c"] {
            let raw = token(&format!(r#"{{"alg":"RS256","{name}":{{}}}}"#), "{}");
            assert_eq!(
                UntrustedToken::parse(&raw).unwrap_err(),
                TokenError::ForbiddenHeader(name)
            );
        }
    }

    #[test]
    fn any_crit_header_is_refused() {
        for crit in [r#"["exp"]"#, "[]", r#""b64""#, r#"["x-unknown"]"#] {
            let raw = token(&format!(r#"{{"alg":"HS256","crit":{crit}}}"#), "{}");
            assert_eq!(
                UntrustedToken::parse(&raw).unwrap_err(),
                TokenError::ForbiddenHeader("crit")
            );
        }
    }

    #[test]
    fn an_unencoded_payload_is_refused_even_without_crit() {
        let raw = token(r#"{"alg":"HS256","b64":false}"#, "{}");
        assert_eq!(
            UntrustedToken::parse(&raw).unwrap_err(),
            TokenError::ForbiddenHeader("b64")
        );
    }

    #[test]
    fn a_duplicate_alg_is_refused() {
        let raw = token(r#"{"alg":"none","alg":"RS256"}"#, "{}");
        assert!(matches!(
            UntrustedToken::parse(&raw),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn a_kid_that_is_not_a_short_string_is_refused() {
        let long = "k".repeat(MAX_KID_BYTES + 1);
        for header in [
            r#"{"alg":"RS256","kid":7}"#.to_owned(),
            r#"{"alg":"RS256","kid":null}"#.to_owned(),
            format!(r#"{{"alg":"RS256","kid":"{long}"}}"#),
        ] {
            assert!(matches!(
                UntrustedToken::parse(&token(&header, "{}")),
                Err(TokenError::Malformed(_))
            ));
        }
    }

    #[test]
    fn a_header_that_is_not_an_object_is_refused() {
        for header in ["[]", "\"RS256\"", "{", "\u{ff}"] {
            assert!(matches!(
                UntrustedToken::parse(&token(header, "{}")),
                Err(TokenError::Malformed(_))
            ));
        }
    }

    #[test]
    fn whitespace_inside_header_json_is_accepted() {
        let raw = token("{\r\n \"alg\" : \"HS256\"\r\n}", "{}");
        assert_eq!(UntrustedToken::parse(&raw).unwrap().header().alg(), "HS256");
    }
}
