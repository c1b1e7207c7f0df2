//! Plain HTTP values: what the adapter hands the core ([`Request`]) and what the core hands
//! back ([`Response`], or an [`Outcome`] that may forward or serve an asset instead).

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

/// A body read chunk by chunk that stops at a cap: the reader asks [`fits`](Self::fits) before
/// copying a chunk, so nothing past the cap is ever copied into wasm memory (which never
/// shrinks: one oversized body would keep the isolate's memory high for its whole life).
#[derive(Debug)]
pub struct CappedBody {
    cap: usize,
    bytes: Vec<u8>,
}

/// A body went past its cap; what was read is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

impl CappedBody {
    /// An empty body that may grow to `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            bytes: Vec::new(),
        }
    }

    /// Whether `len` more bytes still fit under the cap.
    pub fn fits(&self, len: usize) -> bool {
        self.bytes
            .len()
            .checked_add(len)
            .is_some_and(|total| total <= self.cap)
    }

    /// Room for a chunk of `len` bytes, to be filled by the caller (zeroed until then), or
    /// [`TooLarge`] without growing.
    pub fn reserve_chunk(&mut self, len: usize) -> Result<&mut [u8], TooLarge> {
        if !self.fits(len) {
            return Err(TooLarge);
        }
        let start = self.bytes.len();
        self.bytes.resize(start + len, 0);
        self.bytes.get_mut(start..).ok_or(TooLarge)
    }

    /// Appends a chunk, or refuses it without growing.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        self.reserve_chunk(chunk.len())?.copy_from_slice(chunk);
        Ok(())
    }

    /// The bytes read.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// What the adapter does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answer with this response.
    Respond(Response),
    /// Send the original request to `url`, with every header the client sent that
    /// `gate::is_identity_header` matches removed and `identity` set instead; add `cors` to the
    /// upstream's response.
    Forward {
        /// The upstream URL.
        url: String,
        /// Verified identity headers.
        identity: Vec<(String, String)>,
        /// CORS headers for the caller's origin.
        cors: Vec<(String, String)>,
    },
    /// Serve the request from the static assets (the console), with `app::ASSET_HEADERS` added.
    Assets,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_body_takes_chunks_up_to_the_cap_and_no_further() {
        let mut body = CappedBody::new(10);
        assert_eq!(body.push(b"hello"), Ok(()));
        assert_eq!(body.push(b"world"), Ok(()));
        assert!(!body.fits(1));
        assert_eq!(body.push(b"!"), Err(TooLarge));
        assert_eq!(body.into_bytes(), b"helloworld");
    }

    #[test]
    fn a_chunk_past_the_cap_is_refused_before_anything_is_copied() {
        let mut body = CappedBody::new(8);
        body.push(b"abc").unwrap();
        assert_eq!(body.reserve_chunk(6), Err(TooLarge));
        assert_eq!(body.reserve_chunk(usize::MAX), Err(TooLarge));
        assert_eq!(
            body.into_bytes(),
            b"abc",
            "a refused chunk leaves the body as it was"
        );
    }
}
