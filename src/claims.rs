//! Claims of a verified token, read with explicit type checks.
//!
//! Every registered claim this verifier uses is type-checked when present. A claim of the wrong
//! type is an error, never "absent" (Rust `jsonwebtoken` < 10.3 read a string `exp` as missing:
//! CVE-2026-25537). NumericDates may be fractional (RFC 7519 §2) but must be finite, non-negative
//! and below year 5000, so millisecond arithmetic cannot overflow.

use serde_json::{Map, Value};

use crate::{error::TokenError, json};

/// Largest NumericDate accepted, in seconds (year 5138): keeps `* 1000` far from overflow.
const MAX_NUMERIC_DATE_S: f64 = 1e11;

/// A JWT NumericDate: seconds since the epoch, possibly fractional.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct NumericDate(f64);

impl NumericDate {
    /// A date from whole seconds.
    pub fn from_secs(secs: u64) -> Self {
        NumericDate(secs as f64)
    }

    /// The date in whole milliseconds, rounded down.
    pub fn as_millis(self) -> u64 {
        // In range by construction: 0 ≤ self.0 ≤ 1e11, so the product is below 2^53.
        (self.0 * 1000.0).floor() as u64
    }

    /// The date in seconds as a JSON number (an integer when it is whole).
    pub fn to_json(self) -> Value {
        if self.0.fract() == 0.0 {
            Value::from(self.0 as u64)
        } else {
            Value::from(self.0)
        }
    }

    fn read(claims: &Map<String, Value>, name: &'static str) -> Result<Option<Self>, TokenError> {
        match claims.get(name) {
            None => Ok(None),
            Some(Value::Number(number)) => match number.as_f64() {
                Some(secs) if secs.is_finite() && (0.0..=MAX_NUMERIC_DATE_S).contains(&secs) => {
                    Ok(Some(NumericDate(secs)))
                }
                _ => Err(TokenError::InvalidClaim(name)),
            },
            Some(_) => Err(TokenError::InvalidClaim(name)),
        }
    }
}

/// What a Cognito token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// `token_use: access`: authorises API calls; carries `client_id` and `scope`.
    Access,
    /// `token_use: id`: identifies the user to the app; carries `aud`.
    Id,
}

impl TokenUse {
    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenUse::Access => "access",
            TokenUse::Id => "id",
        }
    }

    /// Parses a claim value.
    pub fn from_claim(value: &str) -> Option<Self> {
        match value {
            "access" => Some(TokenUse::Access),
            "id" => Some(TokenUse::Id),
            _ => None,
        }
    }
}

/// The claims of a token, type-checked. Built only from a payload whose signature verified.
#[derive(Debug, Clone)]
pub struct Claims {
    /// `iss`.
    pub iss: String,
    /// `sub`: the user's stable id; revocation entries are keyed by it.
    pub sub: String,
    /// `token_use`.
    pub token_use: TokenUse,
    /// `client_id` (access tokens).
    pub client_id: Option<String>,
    /// `aud` (ID tokens); a single string, as Cognito issues it.
    pub aud: Option<String>,
    /// `exp`.
    pub exp: NumericDate,
    /// `nbf`, if present.
    pub nbf: Option<NumericDate>,
    /// `iat`.
    pub iat: NumericDate,
    /// `auth_time`: when the user authenticated; unchanged by refresh.
    pub auth_time: Option<NumericDate>,
    /// `jti`.
    pub jti: Option<String>,
    /// `origin_jti`: the session this token descends from.
    pub origin_jti: Option<String>,
    /// `username` (access) or `cognito:username` (ID).
    pub username: Option<String>,
    /// `scope`, space-separated.
    pub scope: Option<String>,
    /// Every claim as received, for callers that want the rest (`/api/me`, `verifyToken`).
    pub all: Map<String, Value>,
}

impl Claims {
    /// Reads and type-checks a claims set. `exp`, `iat`, `iss`, `sub` and `token_use` are
    /// required: revocation needs `sub` and a time of authentication, and Cognito always sets
    /// the others.
    pub fn parse(payload: &[u8]) -> Result<Self, TokenError> {
        let all = json::parse_object(payload).map_err(|_| {
            TokenError::Malformed("payload is not a JSON object without duplicates")
        })?;
        let exp = NumericDate::read(&all, "exp")?.ok_or(TokenError::MissingClaim("exp"))?;
        let iat = NumericDate::read(&all, "iat")?.ok_or(TokenError::MissingClaim("iat"))?;
        let nbf = NumericDate::read(&all, "nbf")?;
        let auth_time = NumericDate::read(&all, "auth_time")?;
        let iss = required_string(&all, "iss")?;
        let sub = required_string(&all, "sub")?;
        let token_use = TokenUse::from_claim(&required_string(&all, "token_use")?)
            .ok_or(TokenError::WrongTokenUse)?;
        let client_id = optional_string(&all, "client_id")?;
        let aud = optional_string(&all, "aud")?;
        let jti = optional_string(&all, "jti")?;
        let origin_jti = optional_string(&all, "origin_jti")?;
        let scope = optional_string(&all, "scope")?;
        let username = match token_use {
            TokenUse::Access => optional_string(&all, "username")?,
            TokenUse::Id => optional_string(&all, "cognito:username")?,
        };
        Ok(Self {
            iss,
            sub,
            token_use,
            client_id,
            aud,
            exp,
            nbf,
            iat,
            auth_time,
            jti,
            origin_jti,
            username,
            scope,
            all,
        })
    }

    /// When the user authenticated, in ms: `auth_time`, else `iat`. The revocation rule
    /// compares this with the time of the last sign-out.
    pub fn authenticated_at_ms(&self) -> u64 {
        self.auth_time.unwrap_or(self.iat).as_millis()
    }

    /// Whether the space-separated `scope` contains `wanted` exactly.
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scope
            .as_deref()
            .is_some_and(|scope| scope.split(' ').any(|s| s == wanted))
    }
}

fn optional_string(
    all: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, TokenError> {
    match all.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TokenError::InvalidClaim(name)),
    }
}

fn required_string(all: &Map<String, Value>, name: &'static str) -> Result<String, TokenError> {
    match optional_string(all, name)? {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(TokenError::InvalidClaim(name)),
        None => Err(TokenError::MissingClaim(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"iss":"https://issuer","sub":"u-1","token_use":"access","client_id":"c",
               "exp":2000000000,"iat":1700000000,"auth_time":1699999000,"scope":"a b"})
    }

    fn parse(v: &Value) -> Result<Claims, TokenError> {
        Claims::parse(v.to_string().as_bytes())
    }

    #[test]
    fn a_cognito_access_token_payload_parses() {
        let claims = parse(&base()).unwrap();
        assert_eq!(claims.sub, "u-1");
        assert_eq!(claims.token_use, TokenUse::Access);
        assert_eq!(claims.authenticated_at_ms(), 1_699_999_000_000);
        assert!(claims.has_scope("b"));
        assert!(!claims.has_scope("a b"));
    }

    #[test]
    fn iat_stands_in_when_auth_time_is_absent() {
        let mut v = base();
        v.as_object_mut().unwrap().remove("auth_time");
        assert_eq!(parse(&v).unwrap().authenticated_at_ms(), 1_700_000_000_000);
    }

    #[test]
    fn exp_of_the_wrong_type_is_invalid_not_absent() {
        for bad in [
            json!("2000000000"),
            json!("never"),
            json!(null),
            json!(true),
            json!([1]),
        ] {
            let mut v = base();
            v["exp"] = bad;
            assert_eq!(parse(&v).unwrap_err(), TokenError::InvalidClaim("exp"));
        }
    }

    #[test]
    fn nbf_of_the_wrong_type_is_invalid() {
        let mut v = base();
        v["nbf"] = json!("1");
        assert_eq!(parse(&v).unwrap_err(), TokenError::InvalidClaim("nbf"));
    }

    #[test]
    fn huge_and_negative_dates_are_invalid() {
        for bad in [json!(-1), json!(18446744073709551615u64), json!(1e300)] {
            let mut v = base();
            v["exp"] = bad;
            assert_eq!(parse(&v).unwrap_err(), TokenError::InvalidClaim("exp"));
        }
    }

    #[test]
    fn fractional_and_exponent_dates_are_accepted() {
        let mut v = base();
        v["exp"] = json!(2000000000.5);
        assert_eq!(parse(&v).unwrap().exp.as_millis(), 2_000_000_000_500);
        let text = base().to_string().replace("2000000000", "2e9");
        assert_eq!(
            Claims::parse(text.as_bytes()).unwrap().exp.as_millis(),
            2_000_000_000_000
        );
    }

    #[test]
    fn missing_exp_iat_sub_iss_or_token_use_is_refused() {
        for name in ["exp", "iat", "sub", "iss", "token_use"] {
            let mut v = base();
            v.as_object_mut().unwrap().remove(name);
            assert_eq!(
                parse(&v).unwrap_err(),
                TokenError::MissingClaim(name),
                "{name}"
            );
        }
    }

    #[test]
    fn a_client_id_array_is_invalid() {
        let mut v = base();
        v["client_id"] = json!(["c"]);
        assert_eq!(
            parse(&v).unwrap_err(),
            TokenError::InvalidClaim("client_id")
        );
    }

    #[test]
    fn an_unknown_token_use_is_refused() {
        let mut v = base();
        v["token_use"] = json!("refresh");
        assert_eq!(parse(&v).unwrap_err(), TokenError::WrongTokenUse);
    }

    #[test]
    fn a_duplicate_sub_is_refused() {
        let text = r#"{"iss":"i","sub":"a","sub":"b","token_use":"access","exp":2,"iat":1}"#;
        assert!(matches!(
            Claims::parse(text.as_bytes()),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn an_id_token_reads_cognito_username() {
        let v = json!({"iss":"i","sub":"s","token_use":"id","aud":"c","exp":2,"iat":1,
                       "cognito:username":"alice","username":"ignored"});
        assert_eq!(parse(&v).unwrap().username.as_deref(), Some("alice"));
    }

    #[test]
    fn a_json_escaped_issuer_decodes_to_the_plain_string() {
        let text =
            r#"{"iss":"https:\/\/\u0063ognito","sub":"s","token_use":"access","exp":2,"iat":1}"#;
        assert_eq!(
            Claims::parse(text.as_bytes()).unwrap().iss,
            "https://cognito"
        );
    }
}
