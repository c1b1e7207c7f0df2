//! An operation's input as it reads it: members with type checks (a wrong JSON type is Coral's
//! SerializationException, naming the member), Cognito's validation as one
//! InvalidParameterException, and `{}`.
//!
//! AWS JSON 1.1 lets a client write `null` for anything it leaves out, and the browser libraries
//! do (amazon-cognito-identity-js sends `"DEVICE_KEY": null` in a refresh's `AuthParameters`).
//! Cognito reads a `null` member, a `null` map value and a `null` list element as absent, so
//! they are dropped here; only a value of another type is an error.

use serde_json::{Map, Value};

use crate::{
    error::{ApiError, Error},
    validate::Violations,
};

/// A `{Name, Value}` attribute as given (either part may be missing).
pub type AttributePair<'a> = (Option<&'a str>, Option<&'a str>);

/// An operation's input members, read with type checks.
#[derive(Clone, Copy)]
pub struct Input<'a>(pub(super) &'a Map<String, Value>);

/// Longest member path echoed in a SerializationException (map keys are the caller's text).
const MAX_PATH_CHARS: usize = 80;

/// JSON's name for the type a value has, as the message reports it.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Coral's SerializationException for `path` holding `found` where `expected` belongs.
fn wrong_type(path: &str, expected: &str, found: &Value) -> Error {
    let path: String = path.chars().take(MAX_PATH_CHARS).collect();
    ApiError::Serialization(format!(
        "Unexpected field type at '{path}': expected {expected}, got {}",
        type_name(found)
    ))
    .into()
}

impl<'a> Input<'a> {
    /// A string member; absent or null is `None`.
    pub fn string(self, name: &str) -> Result<Option<&'a str>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(name, "a string", other)),
        }
    }

    /// A boolean member; absent or null is `None`.
    pub fn bool(self, name: &str) -> Result<Option<bool>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(name, "a boolean", other)),
        }
    }

    /// A map of strings to strings; absent or null is `None`, and an entry whose value is null
    /// is left out.
    pub fn string_map(self, name: &str) -> Result<Option<Vec<(&'a str, &'a str)>>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.as_str(), s.as_str())),
                    other => Err(wrong_type(&format!("{name}.{k}"), "a string", other)),
                })
                .collect::<Result<Vec<_>, Error>>()
                .map(Some),
            Some(other) => Err(wrong_type(name, "a map of strings", other)),
        }
    }

    /// A list of `{Name, Value}` attributes; absent or null is `None`, null elements are left
    /// out.
    pub fn attributes(self, name: &str) -> Result<Option<Vec<AttributePair<'a>>>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter(|(_, item)| !item.is_null())
                .map(|(index, item)| {
                    let path = format!("{name}[{index}]");
                    let item = Input(
                        item.as_object()
                            .ok_or_else(|| wrong_type(&path, "an attribute object", item))?,
                    );
                    let field = |member: &str| {
                        item.string(member).map_err(|_| {
                            let found = item.0.get(member).unwrap_or(&Value::Null);
                            wrong_type(&format!("{path}.{member}"), "a string", found)
                        })
                    };
                    Ok((field("Name")?, field("Value")?))
                })
                .collect::<Result<Vec<_>, Error>>()
                .map(Some),
            Some(other) => Err(wrong_type(name, "a list of attributes", other)),
        }
    }

    /// A list of strings; absent or null is `None`, null elements are left out.
    pub fn strings(self, name: &str) -> Result<Option<Vec<&'a str>>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.is_null())
                .map(|(index, v)| {
                    v.as_str()
                        .ok_or_else(|| wrong_type(&format!("{name}[{index}]"), "a string", v))
                })
                .collect::<Result<Vec<_>, Error>>()
                .map(Some),
            Some(other) => Err(wrong_type(name, "a list of strings", other)),
        }
    }

    /// A structure member (`AnalyticsMetadata`, `UserContextData`): absent or null is `None`.
    pub fn object(self, name: &str) -> Result<Option<Input<'a>>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Input(map))),
            Some(other) => Err(wrong_type(name, "an object", other)),
        }
    }
}

/// Turns collected violations into Cognito's InvalidParameterException.
pub fn validated(violations: &Violations) -> Result<(), Error> {
    match violations.message() {
        Some(message) => Err(ApiError::InvalidParameter(message).into()),
        None => Ok(()),
    }
}

/// An empty success: `{}`.
pub fn empty() -> Value {
    Value::Object(Map::new())
}
