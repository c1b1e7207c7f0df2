//! Plain HTTP values: what the adapter hands the core and what the core hands back.

use serde_json::Value;

use crate::error::{Error, Surface};

/// A request, as plain values. Header names are lowercased by the adapter.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, percent-encoded as received.
    pub path: String,
    /// The query string without `?`.
    pub query: String,
    /// Header pairs, names lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// The body; read only for routes that need it.
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response, as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Header pairs.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response with `content_type`.
    pub fn json_with(status: u16, content_type: &str, value: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: value.to_string().into_bytes(),
        }
    }

    /// An `application/json` response.
    pub fn json(status: u16, value: &Value) -> Self {
        Self::json_with(status, "application/json", value)
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// An error in the AWS JSON shape: `{"__type", "message"}` and a matching `x-amzn-ErrorType`.
    pub fn aws_error(error: &Error, surface: Surface, content_type: &str) -> Self {
        let wire = error.wire(surface);
        let key = if wire.capital_message_key {
            "Message"
        } else {
            "message"
        };
        let mut body = serde_json::Map::new();
        body.insert("__type".into(), Value::from(wire.error_type));
        body.insert(key.into(), Value::from(wire.message));
        Self::json_with(wire.status, content_type, &Value::Object(body))
            .with_header("x-amzn-errortype", wire.error_type)
    }
}
