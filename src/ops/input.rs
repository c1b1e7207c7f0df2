//! An operation's input as it reads it: members with type checks (a wrong JSON type is Coral's
//! SerializationException), Cognito's validation as one InvalidParameterException, and `{}`.

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

/// Coral's message for a member of the wrong JSON type.
const WRONG_TYPE: &str = "Unexpected field type";

impl<'a> Input<'a> {
    /// A string member; absent or null is `None`.
    pub fn string(self, name: &str) -> Result<Option<&'a str>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::Serialization(WRONG_TYPE).into()),
        }
    }

    /// A boolean member; absent or null is `None`.
    pub fn bool(self, name: &str) -> Result<Option<bool>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::Serialization(WRONG_TYPE).into()),
        }
    }

    /// A map of strings to strings; absent or null is `None`.
    pub fn string_map(self, name: &str) -> Result<Option<Vec<(&'a str, &'a str)>>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.as_str(), s.as_str())),
                    _ => Err(ApiError::Serialization(WRONG_TYPE).into()),
                })
                .collect::<Result<Vec<_>, Error>>()
                .map(Some),
            Some(_) => Err(ApiError::Serialization(WRONG_TYPE).into()),
        }
    }

    /// A list of `{Name, Value}` attributes; absent or null is `None`.
    pub fn attributes(self, name: &str) -> Result<Option<Vec<AttributePair<'a>>>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    let item = Input(
                        item.as_object()
                            .ok_or(ApiError::Serialization(WRONG_TYPE))?,
                    );
                    Ok((item.string("Name")?, item.string("Value")?))
                })
                .collect::<Result<Vec<_>, Error>>()
                .map(Some),
            Some(_) => Err(ApiError::Serialization(WRONG_TYPE).into()),
        }
    }

    /// A list of strings; absent or null is `None`.
    pub fn strings(self, name: &str) -> Result<Option<Vec<&'a str>>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| ApiError::Serialization(WRONG_TYPE).into())
                })
                .collect::<Result<Vec<_>, Error>>()
                .map(Some),
            Some(_) => Err(ApiError::Serialization(WRONG_TYPE).into()),
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
