//! Signing a request, as the browser console and the tests do.

use sha2::{Digest, Sha256};

use super::{
    canonical::{
        canonical_request, credential_scope, hmac_sha256, string_to_sign, try_signing_key,
    },
    date::parse_amz_date,
    has_header, is_scope_element, RequestParts, SigV4Error, ALGORITHM, MAX_SIGNED_HEADERS,
};

/// Sign `req`; returns the headers to add: ("x-amz-date", ..), optionally ("x-amz-security-token", ..),
/// ("x-amz-content-sha256", ..) only when `include_content_sha256`, and ("authorization", ..).
/// Signs `host` plus every header present in `req.headers` (lowercased, sorted), plus the added x-amz-* ones.
///
/// Any `authorization`, `x-amz-date`, `x-amz-security-token` or `x-amz-content-sha256`
/// already in `req.headers` is ignored: this function decides those, and the caller must
/// replace (not append to) them with the returned ones. `req.headers` must contain `host`
/// even where the platform sets it itself (a browser's `fetch`). The path is normalised as
/// for every non-S3 service. At most 64 distinct headers are signed, the most [`verify`](super::verify())
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
