//! The canonical request, the string to sign and the signing key: what a signature is computed
//! over, the same in both directions. Percent-encoding is the `percent-encoding` crate's, with
//! RFC 3986's unreserved set.

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use super::{header_values, is_token, RequestParts, SigV4Error, ALGORITHM, TERMINATOR};

type HmacSha256 = Hmac<Sha256>;

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

/// What stays as it is in a URI-encoded component: RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`); everything else becomes `%XX`, uppercase.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The same, keeping `/` (a path as a whole, when it is not normalised segment by segment).
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

fn uri_encode(bytes: &[u8]) -> String {
    percent_encode(bytes, UNRESERVED).to_string()
}

fn uri_encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    let set = if keep_slash {
        UNRESERVED_AND_SLASH
    } else {
        UNRESERVED
    };
    out.extend(percent_encode(bytes, set));
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays a literal byte.
fn percent_decode(s: &str) -> Vec<u8> {
    percent_decode_str(s).collect()
}

pub(super) fn credential_scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/{TERMINATOR}")
}

// ---------------------------------------------------------------------------------------
// Crypto

pub(super) fn hmac_sha256(key: &[u8], data: &[u8]) -> Option<[u8; 32]> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(data);
    Some(mac.finalize().into_bytes().into())
}

pub(super) fn try_signing_key(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
) -> Option<[u8; 32]> {
    let mut k_secret = Vec::with_capacity(secret.len().saturating_add(4));
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.as_bytes());
    let k_date = hmac_sha256(&k_secret, date.as_bytes())?;
    let k_region = hmac_sha256(&k_date, region.as_bytes())?;
    let k_service = hmac_sha256(&k_region, service.as_bytes())?;
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}
