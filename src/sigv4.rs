//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`): signing requests and verifying
//! received ones the way an AWS JSON-protocol service does.
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
use core::fmt::Write as _;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

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

/// Verify `req` as an AWS service named `service` would (Authorization-header form only).
/// `lookup` maps an access key id to its secret access key (None: unknown key).
/// `now_ms`: current time; `max_skew_ms`: allowed clock skew each way (the caller passes 15 minutes).
///
/// Checks run in this order, so that the cheapest and least revealing answers come first:
/// presence and format, session token, scope service, scope date, clock skew, key lookup,
/// signature. The path is normalised (non-S3 rules) and the payload hash is always computed
/// from the body: a request signed with `UNSIGNED-PAYLOAD` does not verify. The scope's
/// region is not checked; compare [`Verified::region`] where it matters.
pub fn verify(
    req: &RequestParts<'_>,
    service: &str,
    now_ms: u64,
    max_skew_ms: u64,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Verified, SigV4Error> {
    // Presence and format.
    let authorization = match single_header(req.headers, "authorization") {
        Err(()) => {
            return Err(incomplete(
                "Request has more than one Authorization header.",
            ))
        }
        Ok(None) => return Err(SigV4Error::MissingAuthenticationToken),
        Ok(Some(v)) if trim_ows(v).is_empty() => {
            return Err(SigV4Error::MissingAuthenticationToken)
        }
        Ok(Some(v)) => v,
    };
    let auth = parse_authorization(authorization)?;
    let amz_date = match single_header(req.headers, "x-amz-date") {
        Err(()) => return Err(incomplete("Request has more than one X-Amz-Date header.")),
        Ok(None) => {
            return Err(incomplete(
                "Authorization header requires existence of a 'X-Amz-Date' header.",
            ))
        }
        Ok(Some(v)) => trim_ows(v),
    };
    let Some(amz_ms) = parse_amz_date(amz_date) else {
        return Err(incomplete(
            "X-Amz-Date must be an ISO-8601 basic date-time: yyyyMMdd'T'HHmmss'Z'.",
        ));
    };
    if !auth.signed_headers.contains(&"host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    for name in &auth.signed_headers {
        if !has_header(req.headers, name) {
            // Names were checked to be lowercase tokens, so echoing one is safe.
            return Err(incomplete(&format!(
                "Signed header '{name}' is not present in the request."
            )));
        }
    }

    // Session token: we never issue session credentials, so any token is foreign.
    if has_header(req.headers, "x-amz-security-token") {
        return Err(SigV4Error::SecurityTokenNotAccepted);
    }

    // An unsigned header can be changed by whoever holds the request: a captured AdminGetUser
    // signed over `content-type;host;x-amz-date` would otherwise replay as AdminDeleteUser.
    let mut unsigned: Vec<String> = req
        .headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .filter(|name| must_be_signed(name) && !auth.signed_headers.contains(&name.as_str()))
        .collect();
    if !unsigned.is_empty() {
        unsigned.sort();
        unsigned.dedup();
        return Err(SigV4Error::HeadersNotSigned(unsigned));
    }
    // Credential scope.
    if auth.service != service {
        return Err(SigV4Error::WrongService {
            expected: service.to_owned(),
        });
    }
    let amz_day = amz_date.get(..8).unwrap_or_default();
    if auth.date != amz_day {
        return Err(SigV4Error::ScopeDateMismatch {
            scope_date: auth.date.to_owned(),
            amz_day: amz_day.to_owned(),
            amz_date: amz_date.to_owned(),
        });
    }

    // Clock skew.
    let skew_minutes = max_skew_ms.checked_div(MS_PER_MINUTE).unwrap_or_default();
    let earliest = now_ms.saturating_sub(max_skew_ms);
    let latest = now_ms.saturating_add(max_skew_ms);
    if amz_ms < earliest {
        return Err(SigV4Error::SignatureExpired {
            amz_date: amz_date.to_owned(),
            earliest: format_amz_date(earliest),
            now: format_amz_date(now_ms),
            skew_minutes,
        });
    }
    if amz_ms > latest {
        return Err(SigV4Error::SignatureNotYetCurrent {
            amz_date: amz_date.to_owned(),
            latest: format_amz_date(latest),
            now: format_amz_date(now_ms),
            skew_minutes,
        });
    }

    // Key lookup.
    let Some(secret) = lookup(auth.access_key_id) else {
        return Err(SigV4Error::UnknownAccessKey);
    };

    // Payload: a declared hash must be the body's; a lie is a forged signature.
    let payload_hash = hex::encode(Sha256::digest(req.body));
    let mut declared = header_values(req.headers, "x-amz-content-sha256");
    if let Some(first) = declared.next() {
        let first = trim_ows(first);
        if declared.next().is_some() || (first != UNSIGNED_PAYLOAD && first != payload_hash) {
            return Err(SigV4Error::SignatureMismatch);
        }
    }

    // Signature.
    let signed: Vec<String> = auth
        .signed_headers
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let creq = canonical_request(req, &signed, true)?;
    let scope = credential_scope(auth.date, auth.region, auth.service);
    let sts = string_to_sign(amz_date, &scope, &creq);
    // Fail closed if HMAC could ever refuse a key, rather than signing with a dummy one.
    let key = try_signing_key(&secret, auth.date, auth.region, auth.service)
        .ok_or(SigV4Error::SignatureMismatch)?;
    let expected = hmac_sha256(&key, sts.as_bytes())
        .map(hex::encode)
        .ok_or(SigV4Error::SignatureMismatch)?;
    let given = auth.signature.as_bytes();
    let matches = expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given));
    if !matches {
        return Err(SigV4Error::SignatureMismatch);
    }
    Ok(Verified {
        access_key_id: auth.access_key_id.to_owned(),
        region: auth.region.to_owned(),
        date: auth.date.to_owned(),
        amz_date: amz_date.to_owned(),
    })
}

/// The signature of a well-formed Authorization header in `headers`: what a replay carries
/// unchanged, however the rest of the header is spelled.
pub fn request_signature(headers: &[(String, String)]) -> Option<String> {
    let value = single_header(headers, "authorization").ok()??;
    parse_authorization(value)
        .ok()
        .map(|auth| auth.signature.to_owned())
}

/// Sign `req`; returns the headers to add: ("x-amz-date", ..), optionally ("x-amz-security-token", ..),
/// ("x-amz-content-sha256", ..) only when `include_content_sha256`, and ("authorization", ..).
/// Signs `host` plus every header present in `req.headers` (lowercased, sorted), plus the added x-amz-* ones.
///
/// Any `authorization`, `x-amz-date`, `x-amz-security-token` or `x-amz-content-sha256`
/// already in `req.headers` is ignored: this function decides those, and the caller must
/// replace (not append to) them with the returned ones. `req.headers` must contain `host`
/// even where the platform sets it itself (a browser's `fetch`). The path is normalised as
/// for every non-S3 service. At most 64 distinct headers are signed, the most [`verify`]
/// accepts.
#[allow(clippy::too_many_arguments)] // The shape is the public contract.
pub fn sign(
    req: &RequestParts<'_>,
    access_key_id: &str,
    secret_access_key: &str,
    region: &str,
    service: &str,
    amz_date: &str,
    session_token: Option<&str>,
    include_content_sha256: bool,
) -> Result<Vec<(String, String)>, SigV4Error> {
    if parse_amz_date(amz_date).is_none() {
        return Err(SigV4Error::InvalidSigningInput(
            "amz_date must be yyyyMMdd'T'HHmmss'Z'",
        ));
    }
    for part in [access_key_id, region, service] {
        if !is_scope_element(part) {
            return Err(SigV4Error::InvalidSigningInput(
                "access key id, region and service must be non-empty printable ASCII without \
                 '/', ',', '=' or spaces",
            ));
        }
    }
    if let Some(token) = session_token {
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SigV4Error::InvalidSigningInput(
                "session token must be non-empty printable ASCII",
            ));
        }
    }
    let date = amz_date.get(..8).unwrap_or_default();
    let payload_hash = hex::encode(Sha256::digest(req.body));

    const MANAGED: [&str; 4] = [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ];
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(name, _)| !MANAGED.iter().any(|m| name.eq_ignore_ascii_case(m)))
        .cloned()
        .collect();
    if !has_header(&headers, "host") {
        return Err(SigV4Error::InvalidSigningInput(
            "request needs a host header to be signed",
        ));
    }
    let mut added: Vec<(String, String)> = vec![("x-amz-date".to_owned(), amz_date.to_owned())];
    if let Some(token) = session_token {
        added.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    if include_content_sha256 {
        added.push(("x-amz-content-sha256".to_owned(), payload_hash));
    }
    headers.extend(added.iter().cloned());

    let mut names: Vec<String> = headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    if names.len() > MAX_SIGNED_HEADERS {
        return Err(SigV4Error::InvalidSigningInput(
            "too many headers to sign (a verifier accepts at most 64)",
        ));
    }
    let signing_req = RequestParts {
        headers: &headers,
        ..*req
    };
    let creq = canonical_request(&signing_req, &names, true)?;
    let scope = credential_scope(date, region, service);
    let sts = string_to_sign(amz_date, &scope, &creq);
    let key = try_signing_key(secret_access_key, date, region, service).ok_or(
        SigV4Error::InvalidSigningInput("secret access key rejected by HMAC"),
    )?;
    let signature = hmac_sha256(&key, sts.as_bytes()).map(hex::encode).ok_or(
        SigV4Error::InvalidSigningInput("signing key rejected by HMAC"),
    )?;
    let authorization = format!(
        "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={signature}",
        names.join(";")
    );
    added.push(("authorization".to_owned(), authorization));
    Ok(added)
}

/// Build the SigV4 canonical request for `req`, signing the headers named in
/// `signed_headers` (any case, any order: they are lowercased, sorted and deduplicated).
///
/// With `normalize_path`, dot segments and empty segments are removed first (every service
/// but S3). The path is then URI-encoded as sent, so an already percent-encoded path is
/// encoded a second time, as AWS does for non-S3 services. The payload hash is always
/// hex(SHA-256(body)). Fails if the method or a header name is not an HTTP token, or a
/// signed header is absent from `req.headers`.
pub fn canonical_request(
    req: &RequestParts<'_>,
    signed_headers: &[String],
    normalize_path: bool,
) -> Result<String, SigV4Error> {
    if !is_token(req.method) {
        return Err(SigV4Error::MalformedRequest(
            "The HTTP method is not a valid token.".to_owned(),
        ));
    }
    let mut names: Vec<String> = signed_headers
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();

    let mut out = String::new();
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_uri(req.path, normalize_path));
    out.push('\n');
    out.push_str(&canonical_query(req.query));
    out.push('\n');
    for name in &names {
        if !is_token(name) {
            return Err(SigV4Error::MalformedRequest(
                "A signed header name is not a valid token.".to_owned(),
            ));
        }
        let values: Vec<String> = header_values(req.headers, name)
            .map(canonical_header_value)
            .collect();
        if values.is_empty() {
            return Err(SigV4Error::MalformedRequest(format!(
                "Signed header '{name}' is not present in the request."
            )));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&names.join(";"));
    out.push('\n');
    out.push_str(&hex::encode(Sha256::digest(req.body)));
    Ok(out)
}

/// Build the SigV4 string to sign from the request time, the credential scope
/// (`date/region/service/aws4_request`) and the canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Derive the SigV4 signing key: HMAC chain over date, region, service and `aws4_request`,
/// keyed by `"AWS4" + secret`.
pub fn signing_key(secret_access_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    // HMAC takes keys of any length, so the fallback is never used; it only keeps this
    // function total. `verify` and `sign` use the fallible form and fail closed instead.
    try_signing_key(secret_access_key, date, region, service).unwrap_or([0u8; 32])
}

/// Format a time in ms since the Unix epoch as an X-Amz-Date string (yyyymmddThhmmssZ).
///
/// Years past 9999 print with more digits rather than failing.
pub fn format_amz_date(ms: u64) -> String {
    let secs = ms.checked_div(MS_PER_SECOND).unwrap_or_default();
    let days = secs.checked_div(SECONDS_PER_DAY).unwrap_or_default();
    let sod = secs.checked_rem(SECONDS_PER_DAY).unwrap_or_default();
    let (year, month, day) = civil_from_days(days);
    let hour = sod.checked_div(3600).unwrap_or_default();
    let minute = sod
        .checked_rem(3600)
        .and_then(|s| s.checked_div(60))
        .unwrap_or_default();
    let second = sod.checked_rem(60).unwrap_or_default();
    format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z")
}

/// Parse an X-Amz-Date string (yyyymmddThhmmssZ) back to ms since the Unix epoch.
///
/// None if malformed, not a real calendar time, or before 1970.
pub fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u64> {
        s.get(from..to)?.bytes().try_fold(0u64, |acc, c| {
            let digit = u64::from(c.checked_sub(b'0').filter(|d| *d <= 9)?);
            acc.checked_mul(10)?.checked_add(digit)
        })
    };
    let year = num(0, 4)?;
    let month = num(4, 6)?;
    let day = num(6, 8)?;
    let hour = num(9, 11)?;
    let minute = num(11, 13)?;
    let second = num(13, 15)?;
    if year < 1970
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    days.checked_mul(SECONDS_PER_DAY)?
        .checked_add(hour.checked_mul(3600)?)?
        .checked_add(minute.checked_mul(60)?)?
        .checked_add(second)?
        .checked_mul(MS_PER_SECOND)
}

// ---------------------------------------------------------------------------------------
// Authorization header

/// The parts of a well-formed `AWS4-HMAC-SHA256` Authorization header.
struct Authorization<'h> {
    access_key_id: &'h str,
    date: &'h str,
    region: &'h str,
    service: &'h str,
    signed_headers: Vec<&'h str>,
    signature: &'h str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, SigV4Error> {
    // Bound the work before looking inside.
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(incomplete("Authorization header is too long."));
    }
    if !value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Err(incomplete("Authorization header must be printable ASCII."));
    }
    let value = trim_ows(value);
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.is_empty() || r.starts_with([' ', '\t']))
        .ok_or_else(|| {
            incomplete("Authorization header must use the 'AWS4-HMAC-SHA256' algorithm.")
        })?;
    let rest = trim_ows(rest);

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    // A bare algorithm name falls through to the missing-parameters message.
    for param in rest.split(',').filter(|_| !rest.is_empty()) {
        let param = trim_ows(param);
        let Some((name, val)) = param.split_once('=') else {
            return Err(incomplete(
                "Authorization header parameters must be written name=value, separated by commas.",
            ));
        };
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(incomplete("Authorization header has an unknown parameter.")),
        };
        if slot.replace(val).is_some() {
            return Err(incomplete(&format!(
                "Authorization header repeats the '{name}' parameter."
            )));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        // AWS lists every missing parameter in one message.
        let missing: Vec<String> = [
            ("Credential", credential.is_none()),
            ("Signature", signature.is_none()),
            ("SignedHeaders", signed_headers.is_none()),
        ]
        .iter()
        .filter(|(_, absent)| *absent)
        .map(|(p, _)| format!("Authorization header requires '{p}' parameter."))
        .collect();
        return Err(incomplete(&missing.join(" ")));
    };

    let mut parts = credential.split('/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(incomplete(
            "Credential must have exactly 5 slash-separated elements: \
             <key id>/<yyyymmdd>/<region>/<service>/aws4_request.",
        ));
    };
    if [access_key_id, date, region, service, terminator]
        .iter()
        .any(|p| p.is_empty() || p.contains([' ', '\t']))
    {
        return Err(incomplete(
            "Credential elements must be non-empty and contain no spaces.",
        ));
    }
    if terminator != TERMINATOR {
        return Err(incomplete(
            "Credential should be scoped with a valid terminator: 'aws4_request'.",
        ));
    }

    // Count before collecting so a huge list costs nothing.
    if signed_headers.split(';').nth(MAX_SIGNED_HEADERS).is_some() {
        return Err(incomplete("SignedHeaders lists too many headers."));
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names
        .iter()
        .all(|n| is_token(n) && !n.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Err(incomplete(
            "SignedHeaders must be lowercase header names separated by ';'.",
        ));
    }
    if !names.windows(2).all(|w| matches!(w, [a, b] if a < b)) {
        return Err(incomplete(
            "SignedHeaders must be sorted and without duplicates.",
        ));
    }

    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(incomplete(
            "Signature must be 64 lowercase hexadecimal digits.",
        ));
    }

    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: names,
        signature,
    })
}

// ---------------------------------------------------------------------------------------
// Canonical forms

fn canonical_uri(path: &str, normalize: bool) -> String {
    let mut out = String::with_capacity(path.len().saturating_add(1));
    if normalize {
        // RFC 3986 dot-segment removal plus collapsing empty segments, as aws-c-auth and the
        // SDKs do for non-S3 services; a trailing slash survives unless nothing is left.
        let mut segments: Vec<&str> = Vec::new();
        for segment in path.split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    segments.pop();
                }
                s => segments.push(s),
            }
        }
        out.push('/');
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            uri_encode_into(&mut out, segment.as_bytes(), false);
        }
        if !segments.is_empty() && path.ends_with('/') {
            out.push('/');
        }
    } else {
        if !path.starts_with('/') {
            out.push('/');
        }
        uri_encode_into(&mut out, path.as_bytes(), true);
    }
    out
}

fn canonical_query(query: &str) -> String {
    // Decode then re-encode so that equivalent spellings sign alike; '+' is kept literal,
    // as SigV4 encoders never produce it for a space. `a` and `a=` both mean an empty value.
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(query.len());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Trim and collapse whitespace runs (including folded-line breaks) to one space, as
/// botocore, the JS SDK v3 and aws-c-auth do.
fn canonical_header_value(value: &str) -> String {
    value
        .split([' ', '\t', '\r', '\n', '\u{b}', '\u{c}'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn uri_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    uri_encode_into(&mut out, bytes, false);
    out
}

/// RFC 3986 unreserved characters stay, everything else becomes `%XX` (uppercase).
fn uri_encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Decode `%XX` escapes; a '%' not followed by two hex digits is kept as a literal byte.
fn percent_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let mut ahead = bytes.clone();
            if let (Some(hi), Some(lo)) = (
                ahead.next().and_then(hex_value),
                ahead.next().and_then(hex_value),
            ) {
                out.push(hi.wrapping_shl(4) | lo);
                bytes = ahead;
                continue;
            }
        }
        out.push(b);
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

fn credential_scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/{TERMINATOR}")
}

// ---------------------------------------------------------------------------------------
// Crypto

fn hmac_sha256(key: &[u8], data: &[u8]) -> Option<[u8; 32]> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(data);
    Some(mac.finalize().into_bytes().into())
}

fn try_signing_key(secret: &str, date: &str, region: &str, service: &str) -> Option<[u8; 32]> {
    let mut k_secret = Vec::with_capacity(secret.len().saturating_add(4));
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.as_bytes());
    let k_date = hmac_sha256(&k_secret, date.as_bytes())?;
    let k_region = hmac_sha256(&k_date, region.as_bytes())?;
    let k_service = hmac_sha256(&k_region, service.as_bytes())?;
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
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

// ---------------------------------------------------------------------------------------
// Calendar (proleptic Gregorian, UTC), after Howard Hinnant's `days_from_civil`.

fn is_leap(year: u64) -> bool {
    year.checked_rem(4) == Some(0)
        && (year.checked_rem(100) != Some(0) || year.checked_rem(400) == Some(0))
}

pub(crate) fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a date with year >= 1970 (checked arithmetic throughout).
pub(crate) fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    // Shift the year to start in March so the leap day is last.
    let y = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = y.checked_div(400)?;
    let yoe = y.checked_rem(400)?;
    let mp = if month > 2 {
        month.checked_sub(3)?
    } else {
        month.checked_add(9)?
    };
    let doy = mp
        .checked_mul(153)?
        .checked_add(2)?
        .checked_div(5)?
        .checked_add(day)?
        .checked_sub(1)?;
    let doe = yoe
        .checked_mul(365)?
        .checked_add(yoe.checked_div(4)?)?
        .checked_sub(yoe.checked_div(100)?)?
        .checked_add(doy)?;
    era.checked_mul(146_097)?
        .checked_add(doe)?
        .checked_sub(719_468)
}

/// (year, month, day) for a count of days since 1970-01-01.
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // `days` is at most u64::MAX / 86_400_000 (about 2.1e11), so none of these saturate;
    // saturating ops only keep the function total.
    let z = days.saturating_add(719_468);
    let era = z.checked_div(146_097).unwrap_or_default();
    let doe = z.checked_rem(146_097).unwrap_or_default();
    let yoe = doe
        .saturating_sub(doe.checked_div(1_460).unwrap_or_default())
        .saturating_add(doe.checked_div(36_524).unwrap_or_default())
        .saturating_sub(doe.checked_div(146_096).unwrap_or_default())
        .checked_div(365)
        .unwrap_or_default();
    let doy = doe.saturating_sub(
        yoe.saturating_mul(365)
            .saturating_add(yoe.checked_div(4).unwrap_or_default())
            .saturating_sub(yoe.checked_div(100).unwrap_or_default()),
    );
    let mp = doy
        .saturating_mul(5)
        .saturating_add(2)
        .checked_div(153)
        .unwrap_or_default();
    let day = doy
        .saturating_sub(
            mp.saturating_mul(153)
                .saturating_add(2)
                .checked_div(5)
                .unwrap_or_default(),
        )
        .saturating_add(1);
    let month = if mp < 10 {
        mp.saturating_add(3)
    } else {
        mp.saturating_sub(9)
    };
    let year = era
        .saturating_mul(400)
        .saturating_add(yoe)
        .saturating_add(u64::from(month <= 2));
    (year, month, day)
}
