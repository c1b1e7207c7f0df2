//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`): signing requests and verifying
//! received ones the way an AWS JSON-protocol service does.
//!
//! `canonical` builds the canonical request, the string to sign and the signing key (the part
//! both directions share); `verify` parses an Authorization header and checks it; `sign` makes
//! one; `date` reads and writes `X-Amz-Date` (and holds the UTC calendar SRP uses too).
//!
//! The Worker uses [`verify`] to authenticate admin calls sent by unmodified AWS SDKs
//! (service `cognito-idp`); the browser build uses [`sign`]. Only the Authorization-header
//! form is supported: presigned (query-string) requests are out of scope.
//!
//! Everything here is total: no input, however hostile, can panic (a panic traps the wasm
//! instance). The lints below hold the code to that.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::arithmetic_side_effects,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

use core::fmt;

mod canonical;
mod date;
mod sign;
mod verify;

pub use canonical::{canonical_request, signing_key, string_to_sign};
pub(crate) use date::{civil_from_days, days_from_civil, days_in_month};
pub use date::{format_amz_date, parse_amz_date};
pub use sign::sign;
pub use verify::{request_signature, verify};

/// The only signing algorithm accepted and produced.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The fixed last element of a SigV4 credential scope.
const TERMINATOR: &str = "aws4_request";
/// Longest Authorization header we parse; real ones are a few hundred bytes.
const MAX_AUTHORIZATION_LEN: usize = 4096;
/// Most headers a request may sign; SDKs sign fewer than ten.
const MAX_SIGNED_HEADERS: usize = 64;
/// The `x-amz-content-sha256` value that opts out of payload signing (S3 style).
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const MS_PER_SECOND: u64 = 1_000;
const SECONDS_PER_DAY: u64 = 86_400;
const MS_PER_MINUTE: u64 = 60_000;

/// A received or to-be-signed HTTP request, as raw parts.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// HTTP method as sent, e.g. `"POST"`.
    pub method: &'a str,
    /// Raw path as received, e.g. "/" or "/example/../x" (percent-encoding as sent).
    pub path: &'a str,
    /// Raw query string without the leading '?', possibly empty.
    pub query: &'a str,
    /// Header (name, value) pairs as received: any name case, raw values, in order, duplicates allowed.
    pub headers: &'a [(String, String)],
    /// The request body, exactly as sent.
    pub body: &'a [u8],
}

/// Who signed a request that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key id from the credential scope.
    pub access_key_id: String,
    /// The region from the credential scope; not checked by [`verify`], so callers that
    /// care must compare it themselves.
    pub region: String,
    /// The credential scope date, `yyyymmdd`.
    pub date: String,
    /// The signed `X-Amz-Date`, `yyyymmddThhmmssZ`.
    pub amz_date: String,
}

/// Why a request failed verification, or could not be signed.
///
/// [`aws_error_type`](SigV4Error::aws_error_type) and
/// [`aws_message`](SigV4Error::aws_message) give the wire form an AWS JSON service would send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigV4Error {
    /// The request carries no Authorization header.
    MissingAuthenticationToken,
    /// The Authorization header or `X-Amz-Date` is missing, malformed or incomplete; the
    /// text says what is wrong and never repeats the signature.
    IncompleteSignature(String),
    /// The request carries `x-amz-security-token`; this service issues no session credentials.
    SecurityTokenNotAccepted,
    /// The access key id is unknown.
    UnknownAccessKey,
    /// The credential scope names another service than the verifier's.
    WrongService {
        /// The service the verifier answers for.
        expected: String,
    },
    /// The credential scope date is not the day of `X-Amz-Date`.
    ScopeDateMismatch {
        /// The date from the credential scope.
        scope_date: String,
        /// The `yyyymmdd` part of `X-Amz-Date`.
        amz_day: String,
        /// The full `X-Amz-Date`.
        amz_date: String,
    },
    /// `X-Amz-Date` is older than the allowed clock skew.
    SignatureExpired {
        /// The request's `X-Amz-Date`.
        amz_date: String,
        /// The earliest time accepted (now minus skew), as an X-Amz-Date.
        earliest: String,
        /// The verifier's current time, as an X-Amz-Date.
        now: String,
        /// The allowed skew in whole minutes.
        skew_minutes: u64,
    },
    /// `X-Amz-Date` is further in the future than the allowed clock skew.
    SignatureNotYetCurrent {
        /// The request's `X-Amz-Date`.
        amz_date: String,
        /// The latest time accepted (now plus skew), as an X-Amz-Date.
        latest: String,
        /// The verifier's current time, as an X-Amz-Date.
        now: String,
        /// The allowed skew in whole minutes.
        skew_minutes: u64,
    },
    /// The request carries `x-amz-*` or `content-type` headers that the signature does not
    /// cover (lowercase names, sorted).
    HeadersNotSigned(Vec<String>),
    /// The credential scope names another region than the resource's (the pool's).
    WrongRegion {
        /// The region from the credential scope.
        region: String,
    },
    /// This exact signature was already used within its validity window (a replay).
    SignatureReused,
    /// The recomputed signature (or payload hash) differs from the one sent.
    SignatureMismatch,
    /// The request cannot be put in canonical form (bad method, bad header name, a signed
    /// header that is absent).
    MalformedRequest(String),
    /// [`sign`] was given unusable credentials, scope or date.
    InvalidSigningInput(&'static str),
}

impl SigV4Error {
    /// The AWS error type name for the wire, e.g. "InvalidSignatureException".
    pub fn aws_error_type(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::IncompleteSignature(_)
            | Self::HeadersNotSigned(_)
            | Self::MalformedRequest(_)
            | Self::InvalidSigningInput(_) => "IncompleteSignatureException",
            Self::SecurityTokenNotAccepted | Self::UnknownAccessKey => {
                "UnrecognizedClientException"
            }
            Self::WrongService { .. }
            | Self::WrongRegion { .. }
            | Self::SignatureReused
            | Self::ScopeDateMismatch { .. }
            | Self::SignatureExpired { .. }
            | Self::SignatureNotYetCurrent { .. }
            | Self::SignatureMismatch => "InvalidSignatureException",
        }
    }

    /// The AWS message text for the wire.
    pub fn aws_message(&self) -> String {
        match self {
            Self::MissingAuthenticationToken => "Missing Authentication Token".to_owned(),
            Self::IncompleteSignature(m) | Self::MalformedRequest(m) => m.clone(),
            Self::InvalidSigningInput(m) => (*m).to_owned(),
            Self::SecurityTokenNotAccepted | Self::UnknownAccessKey => {
                "The security token included in the request is invalid.".to_owned()
            }
            // The trailing space is in AWS's own message.
            Self::WrongService { expected } => {
                format!("Credential should be scoped to correct service: '{expected}'. ")
            }
            // S3's words (AWS's only published text for this); the names go to the log.
            Self::HeadersNotSigned(_) => {
                "There were headers present in the request which were not signed".to_owned()
            }
            // AWS's words, trailing space included.
            Self::WrongRegion { region } => {
                format!("Credential should be scoped to a valid region, not '{region}'. ")
            }
            // AWS keeps no such record, so there are no AWS words for it.
            Self::SignatureReused => "The request signature has already been used. \
                 Sign every request anew."
                .to_owned(),
            Self::ScopeDateMismatch {
                scope_date,
                amz_day,
                amz_date,
            } => format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '{scope_date}' != '{amz_day}', from '{amz_date}'."
            ),
            Self::SignatureExpired {
                amz_date,
                earliest,
                now,
                skew_minutes,
            } => format!(
                "Signature expired: {amz_date} is now earlier than {earliest} \
                 ({now} - {skew_minutes} min.)"
            ),
            Self::SignatureNotYetCurrent {
                amz_date,
                latest,
                now,
                skew_minutes,
            } => format!(
                "Signature not yet current: {amz_date} is still later than {latest} \
                 ({now} + {skew_minutes} min.)"
            ),
            Self::SignatureMismatch => "The request signature we calculated does not match the \
                 signature you provided. Check your AWS Secret Access Key and signing method. \
                 Consult the service documentation for details."
                .to_owned(),
        }
    }
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Self::HeadersNotSigned(names) = self {
            return write!(f, "headers not signed: {}", names.join(", "));
        }
        f.write_str(match self {
            Self::MissingAuthenticationToken => "missing authentication token",
            Self::IncompleteSignature(_) => "incomplete signature",
            Self::SecurityTokenNotAccepted => "security token not accepted",
            Self::UnknownAccessKey => "unknown access key id",
            Self::WrongService { .. } => "credential scoped to another service",
            Self::ScopeDateMismatch { .. } => "credential scope date mismatch",
            Self::SignatureExpired { .. } => "signature expired",
            Self::SignatureNotYetCurrent { .. } => "signature not yet current",
            Self::SignatureMismatch => "signature mismatch",
            Self::WrongRegion { .. } => "credential scoped to another region",
            Self::SignatureReused => "signature already used",
            Self::HeadersNotSigned(_) => "headers not signed",
            Self::MalformedRequest(_) => "malformed request",
            Self::InvalidSigningInput(_) => "invalid signing input",
        })
    }
}

impl std::error::Error for SigV4Error {}

fn incomplete(message: &str) -> SigV4Error {
    SigV4Error::IncompleteSignature(message.to_owned())
}

// ---------------------------------------------------------------------------------------
// Headers and small predicates

fn header_values<'h>(
    headers: &'h [(String, String)],
    name: &'h str,
) -> impl Iterator<Item = &'h str> + 'h {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether a header must be covered by the signature when present: every `x-amz-*` header
/// (AWS: "You must include the host header and any x-amz-* headers in the signature") and
/// `content-type`, which decides how the body is read. `name` is lowercase.
fn must_be_signed(name: &str) -> bool {
    name.starts_with("x-amz-") || name == "content-type"
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// The header's value if it occurs at most once; `Err` if repeated.
fn single_header<'h>(
    headers: &'h [(String, String)],
    name: &'h str,
) -> Result<Option<&'h str>, ()> {
    let mut values = header_values(headers, name);
    let first = values.next();
    if values.next().is_some() {
        return Err(());
    }
    Ok(first)
}

/// Strip HTTP optional whitespace (spaces and tabs) from both ends.
fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// An RFC 9110 token: what method and header names are made of.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A credential-scope element we are willing to write into an Authorization header.
fn is_scope_element(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b',' | b'=' | b';'))
}
