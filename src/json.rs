//! Strict JSON for untrusted input: an object that names a member twice is refused at any depth.
//!
//! RFC 7515 §4 and RFC 7519 §4 let a parser either reject duplicate member names or keep the
//! last one. Keeping one silently is how parser differentials happen (CVE-2022-39227: one layer
//! reads the first `alg`, another the last), so every token header, claims set, JWK and API
//! request body goes through [`parse_object`]. serde_json's recursion limit (128) stays on, so a
//! deeply nested document is an error, not a stack overflow.

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// Not valid JSON (syntax, encoding, nesting depth or an out-of-range number).
    Syntax(String),
    /// Valid JSON, but the top level is not an object.
    NotAnObject,
    /// An object names the same member twice.
    DuplicateMember(String),
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(detail) => write!(f, "invalid json: {detail}"),
            Self::NotAnObject => f.write_str("json is not an object"),
            Self::DuplicateMember(name) => write!(f, "duplicate member `{name}`"),
        }
    }
}

/// Parses `bytes` as a JSON object with no duplicate member names at any depth.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    match parse_value(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::NotAnObject),
    }
}

/// Parses `bytes` as any JSON value with no duplicate member names at any depth.
pub fn parse_value(bytes: &[u8]) -> Result<Value, JsonError> {
    match serde_json::from_slice::<Strict>(bytes) {
        Ok(Strict(value)) => Ok(value),
        Err(err) => {
            let text = err.to_string();
            // The visitor reports duplicates through a custom error; recover the member name.
            match text.strip_prefix(DUPLICATE_PREFIX) {
                Some(rest) => Err(JsonError::DuplicateMember(
                    rest.split(" at line").next().unwrap_or(rest).to_owned(),
                )),
                None => Err(JsonError::Syntax(text)),
            }
        }
    }
}

const DUPLICATE_PREFIX: &str = "duplicate member ";

/// A `serde_json::Value` built by a visitor that refuses duplicate member names.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element::<Strict>()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!("{DUPLICATE_PREFIX}{key}")));
            }
            let Strict(value) = access.next_value::<Strict>()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_object_parses() {
        let map = parse_object(br#"{"a":1,"b":[true,null,"x"],"c":{"d":2.5}}"#).unwrap();
        assert_eq!(map.len(), 3);
        assert_eq!(map["c"]["d"], Value::from(2.5));
    }

    #[test]
    fn a_duplicate_top_level_member_is_refused_with_its_name() {
        let err = parse_object(br#"{"alg":"none","alg":"RS256"}"#).unwrap_err();
        assert_eq!(err, JsonError::DuplicateMember("alg".into()));
    }

    #[test]
    fn a_duplicate_member_in_a_nested_object_is_refused() {
        let err = parse_object(br#"{"a":[{"x":1,"x":2}]}"#).unwrap_err();
        assert_eq!(err, JsonError::DuplicateMember("x".into()));
    }

    #[test]
    fn members_that_differ_only_by_escaping_are_duplicates() {
        // "\u0061lg" decodes to "alg": the comparison is on decoded names.
        let err = parse_object(br#"{"alg":"HS256","\u0061lg":"none"}"#).unwrap_err();
        assert_eq!(err, JsonError::DuplicateMember("alg".into()));
    }

    #[test]
    fn a_non_object_top_level_is_refused() {
        assert_eq!(parse_object(b"[1]").unwrap_err(), JsonError::NotAnObject);
        assert_eq!(parse_object(b"\"s\"").unwrap_err(), JsonError::NotAnObject);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let mut doc = String::from("{\"a\":");
        doc.push_str(&"[".repeat(5000));
        doc.push_str(&"]".repeat(5000));
        doc.push('}');
        assert!(matches!(
            parse_object(doc.as_bytes()),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn an_out_of_range_number_is_a_syntax_error() {
        assert!(matches!(
            parse_object(br#"{"exp":1e400}"#),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn invalid_utf8_is_a_syntax_error() {
        assert!(matches!(
            parse_object(b"{\"a\":\"\xff\"}"),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn trailing_input_is_refused() {
        assert!(matches!(
            parse_object(br#"{"a":1} x"#),
            Err(JsonError::Syntax(_))
        ));
    }
}
