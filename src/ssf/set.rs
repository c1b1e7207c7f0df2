//! Security Event Tokens: parse, verify the signature, check the SET claims (RFC 8417 as
//! profiled by SSF §4.1).
//!
//! Three types, each made only by the step before it: [`UntrustedSet`] (split, typed, issuer
//! matched), [`SignedSet`] (signature verified with the transmitter's key), [`VerifiedSet`]
//! (claims checked). The splitting and the signature check are the access tokens' own
//! ([`UntrustedToken`]); only the claims rules are the SET's.

use serde_json::{Map, Value};

use super::{config::Transmitter, subject::Subject, SsfError};
use crate::{
    crypto::AsyncSignatureVerifier, error::TokenError, jwk::KeySet, token::UntrustedToken,
};

/// How far ahead of the receiver's clock `iat` may be, in seconds.
pub const IAT_FUTURE_SKEW_S: u64 = 300;
/// Longest `jti` accepted, in bytes.
pub const MAX_JTI_BYTES: usize = 256;
/// Most events (keys of `events`) in one SET. SSF wants one; several only as aliases.
pub const MAX_EVENTS: usize = 8;
/// Largest NumericDate accepted, in seconds (as for access tokens: year 5138).
const MAX_NUMERIC_DATE_S: f64 = 1e11;

/// A SET split and matched to its transmitter, nothing about it trusted yet.
#[derive(Debug)]
pub struct UntrustedSet<'a> {
    token: UntrustedToken<'a>,
}

/// A SET whose signature verified with a key of the transmitter: its claims, read from the
/// signature's proof. Made only by [`UntrustedSet::verify_signature`].
#[derive(Debug)]
pub struct SignedSet {
    claims: Map<String, Value>,
}

/// A SET whose signature and claims verified. Made only by [`SignedSet::check_claims`].
#[derive(Debug, Clone)]
pub struct VerifiedSet {
    jti: String,
    iat_ms: u64,
    toe_ms: Option<u64>,
    txn: Option<String>,
    sub_id: Option<Subject>,
    events: Vec<(String, Map<String, Value>)>,
}

pub use crate::token::is_set_typ;

impl<'a> UntrustedSet<'a> {
    /// Splits `token` with the access tokens' splitter, then checks what can be checked
    /// before the signature: signed at all, `typ`, and the issuer this transmitter signs as.
    pub fn parse(token: &'a str, transmitter: &Transmitter) -> Result<Self, SsfError> {
        // `header.payload.` is an unsigned JWS (`alg: none`): an unacceptable key, whatever the
        // header says (RFC 8417 §5.1).
        if token.ends_with('.') && token.bytes().filter(|b| *b == b'.').count() == 2 {
            return Err(SsfError::InvalidKey("the SET is not signed"));
        }
        let token = UntrustedToken::parse(token).map_err(parse_error)?;
        match token.header().all().get("typ") {
            Some(Value::String(typ)) if is_set_typ(typ) => {}
            _ => {
                return Err(SsfError::InvalidRequest(
                    "the JOSE header's typ must be secevent+jwt",
                ))
            }
        }
        let claims = token.claims_unverified().ok_or(SsfError::InvalidRequest(
            "the SET payload is not a JSON object without duplicate members",
        ))?;
        match claims.get("iss") {
            Some(Value::String(iss)) if *iss == transmitter.issuer => Ok(Self { token }),
            Some(Value::String(_)) => Err(SsfError::InvalidIssuer),
            _ => Err(SsfError::InvalidRequest("the SET has no string iss")),
        }
    }

    /// The header's `kid`, for choosing (or refetching) keys.
    pub fn kid(&self) -> Option<&str> {
        self.token.header().kid()
    }

    /// Verifies the signature with `keys` (the transmitter's, found by `kid`, each bound to its
    /// algorithm, which must be in the transmitter's allow-list and equal the header's `alg`).
    pub async fn verify_signature(
        self,
        keys: &KeySet,
        transmitter: &Transmitter,
        verifier: &dyn AsyncSignatureVerifier,
    ) -> Result<SignedSet, SsfError> {
        let valid = self
            .token
            .verify_signature_async(keys, transmitter.algorithms, verifier)
            .await
            .map_err(signature_error)?;
        let claims = valid.payload_object().ok_or(SsfError::InvalidRequest(
            "the SET payload is not a JSON object without duplicate members",
        ))?;
        Ok(SignedSet { claims })
    }
}

impl SignedSet {
    /// Checks the SET claims at `now_ms`: `aud` names this receiver; `iss` is the
    /// transmitter's; no `exp`, `sub` or `token_use` (an access or ID token is not a SET); a
    /// `jti`; an `iat` no more than [`IAT_FUTURE_SKEW_S`] ahead (old ones are fine: paused
    /// streams deliver late by design); `toe` and `txn` well typed; `events` a non-empty object
    /// of objects; `sub_id`, when present, a well-formed subject identifier.
    pub fn check_claims(
        self,
        transmitter: &Transmitter,
        now_ms: u64,
    ) -> Result<VerifiedSet, SsfError> {
        let claims = self.claims;
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => *aud == transmitter.audience,
            Some(Value::Array(list)) => {
                if !list.iter().all(Value::is_string) {
                    return Err(SsfError::InvalidRequest(
                        "aud is not a string or an array of strings",
                    ));
                }
                list.iter()
                    .any(|aud| aud.as_str() == Some(transmitter.audience.as_str()))
            }
            None => false,
            Some(_) => {
                return Err(SsfError::InvalidRequest(
                    "aud is not a string or an array of strings",
                ))
            }
        };
        if !audience_ok {
            return Err(SsfError::InvalidAudience);
        }
        if claims.get("iss").and_then(Value::as_str) != Some(transmitter.issuer.as_str()) {
            return Err(SsfError::InvalidIssuer);
        }
        for (name, why) in [
            ("exp", "a SET must not carry exp (SSF §4.1.7)"),
            (
                "sub",
                "a SET must not carry sub; the subject is sub_id (SSF §4.1.2)",
            ),
            ("token_use", "an access or ID token is not a SET"),
        ] {
            if claims.contains_key(name) {
                return Err(SsfError::InvalidRequest(why));
            }
        }
        let jti = match claims.get("jti") {
            Some(Value::String(jti)) if !jti.is_empty() && jti.len() <= MAX_JTI_BYTES => {
                jti.clone()
            }
            _ => {
                return Err(SsfError::InvalidRequest(
                    "the SET needs a jti of 1 to 256 bytes",
                ))
            }
        };
        let iat_ms = match claims.get("iat") {
            Some(value) => numeric_date_ms(value)
                .ok_or(SsfError::InvalidRequest("iat is not a NumericDate"))?,
            None => return Err(SsfError::InvalidRequest("the SET needs an iat")),
        };
        if iat_ms > now_ms.saturating_add(IAT_FUTURE_SKEW_S * 1000) {
            return Err(SsfError::InvalidRequest("iat is in the future"));
        }
        let toe_ms = match claims.get("toe") {
            None => None,
            Some(value) => Some(
                numeric_date_ms(value)
                    .ok_or(SsfError::InvalidRequest("toe is not a NumericDate"))?,
            ),
        };
        let txn = match claims.get("txn") {
            None => None,
            Some(Value::String(txn)) => Some(txn.clone()),
            Some(_) => return Err(SsfError::InvalidRequest("txn is not a string")),
        };
        let events = match claims.get("events") {
            Some(Value::Object(events)) if !events.is_empty() && events.len() <= MAX_EVENTS => {
                events
            }
            Some(Value::Object(events)) if !events.is_empty() => {
                return Err(SsfError::InvalidRequest("the SET carries too many events"))
            }
            _ => {
                return Err(SsfError::InvalidRequest(
                    "the SET needs a non-empty events object",
                ))
            }
        };
        let events = events
            .iter()
            .map(|(uri, payload)| match payload {
                Value::Object(payload) => Ok((uri.clone(), payload.clone())),
                _ => Err(SsfError::InvalidRequest(
                    "an event payload is not a JSON object",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sub_id = claims.get("sub_id").map(Subject::parse).transpose()?;
        Ok(VerifiedSet {
            jti,
            iat_ms,
            toe_ms,
            txn,
            sub_id,
            events,
        })
    }
}

impl VerifiedSet {
    /// `jti`: the SET's id, for the log (repeats are harmless, see the module doc of `ssf`).
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// `iat` in ms.
    pub fn iat_ms(&self) -> u64 {
        self.iat_ms
    }

    /// `toe` (time of event) in ms, if sent.
    pub fn toe_ms(&self) -> Option<u64> {
        self.toe_ms
    }

    /// `txn`, for the log.
    pub fn txn(&self) -> Option<&str> {
        self.txn.as_deref()
    }

    /// The top-level subject (`sub_id`), if sent.
    pub fn sub_id(&self) -> Option<&Subject> {
        self.sub_id.as_ref()
    }

    /// The events: type URI and payload, in the order received.
    pub fn events(&self) -> &[(String, Map<String, Value>)] {
        &self.events
    }
}

/// A NumericDate (RFC 7519 §2: seconds, possibly fractional) in whole ms; `None` unless a
/// finite number from 0 to [`MAX_NUMERIC_DATE_S`].
pub(crate) fn numeric_date_ms(value: &Value) -> Option<u64> {
    let secs = value.as_f64()?;
    if secs.is_finite() && (0.0..=MAX_NUMERIC_DATE_S).contains(&secs) {
        // Below 2^53 after the product, so the conversion is exact and cannot saturate.
        Some((secs * 1000.0).floor() as u64)
    } else {
        None
    }
}

fn parse_error(error: TokenError) -> SsfError {
    match error {
        TokenError::TooLarge => SsfError::InvalidRequest("the SET exceeds the size cap"),
        TokenError::ForbiddenHeader("jwk" | "jku" | "x5u" | "x5c") => SsfError::InvalidKey(
            "the SET header names its own key; keys come from the transmitter's configuration only",
        ),
        TokenError::ForbiddenHeader(_) => {
            SsfError::InvalidRequest("the SET header carries a parameter this receiver refuses")
        }
        _ => SsfError::InvalidRequest("the body is not a compact JWS"),
    }
}

fn signature_error(error: TokenError) -> SsfError {
    SsfError::InvalidKey(match error {
        TokenError::AlgorithmNotAllowed => "the algorithm is not allowed for this transmitter",
        TokenError::UnknownKey => "no key of the transmitter has this kid",
        TokenError::KeyAlgorithmMismatch => "the key is bound to another algorithm",
        _ => "the signature does not verify",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_typ_is_matched_with_or_without_the_application_prefix_in_any_case() {
        for typ in [
            "secevent+jwt",
            "SecEvent+JWT",
            "application/secevent+jwt",
            "APPLICATION/secevent+jwt",
        ] {
            assert!(is_set_typ(typ), "{typ}");
        }
        for typ in [
            "JWT",
            "at+jwt",
            "secevent",
            "application/jwt",
            "secevent+jwt ",
            "application/application/secevent+jwt",
            "text/secevent+jwt",
            "é",
        ] {
            assert!(!is_set_typ(typ), "{typ}");
        }
    }

    #[test]
    fn numeric_dates_are_finite_non_negative_seconds() {
        assert_eq!(numeric_date_ms(&serde_json::json!(1.5)), Some(1500));
        assert_eq!(
            numeric_date_ms(&serde_json::json!(1767225600)),
            Some(1_767_225_600_000)
        );
        for bad in [
            serde_json::json!(-1),
            serde_json::json!("1"),
            serde_json::json!(1e12),
            serde_json::json!(null),
        ] {
            assert_eq!(numeric_date_ms(&bad), None, "{bad}");
        }
    }
}
