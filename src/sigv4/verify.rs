//! Verifying a received request: the Authorization header parsed, then checked in an order that
//! gives the cheapest and least revealing answers first.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{
    canonical::{
        canonical_request, credential_scope, hmac_sha256, string_to_sign, try_signing_key,
    },
    date::{format_amz_date, parse_amz_date},
    has_header, header_values, incomplete, is_token, must_be_signed, single_header, trim_ows,
    RequestParts, SigV4Error, Verified, ALGORITHM, MAX_AUTHORIZATION_LEN, MAX_SIGNED_HEADERS,
    MS_PER_MINUTE, TERMINATOR, UNSIGNED_PAYLOAD,
};

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
