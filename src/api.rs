//! `POST /`: Cognito's AWS JSON 1.1 protocol, so boto3 and the AWS SDKs work unchanged.
//!
//! The order follows Coral: operation from `X-Amz-Target` (UnknownOperationException), SigV4 for
//! the operations that declare it (`ops::Auth::SigV4`), the caller's rate limit, the JSON body
//! (SerializationException), then the operation itself (validation, IAM allow-list, pool, user).
//! Every answer carries `x-amzn-RequestId`; errors carry `{"__type", "message"}` and a matching
//! `x-amzn-ErrorType`.
//!
//! [`invoke`] is the one way into the operations: HTTP calls reach it here, once their caller is
//! known; the JavaScript API reaches it from `app` with a trusted caller.

use serde_json::{Map, Value};

use crate::{
    config::{AdminCredential, Config},
    error::{ApiError, Error, Surface},
    http::{Request, Response},
    ops::{self, Auth, Caller, Ctx, Operation},
    revocation::Receipt,
    services::{Io, Services},
    sigv4::{self, RequestParts},
};

/// The `X-Amz-Target` prefix of every Cognito user-pool operation.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
/// The protocol's content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// SigV4 clock skew allowed each way (AWS: 15 minutes).
pub const SIGV4_SKEW_MS: u64 = 15 * 60 * 1000;
/// The SigV4 service name of Cognito user pools.
pub const SIGV4_SERVICE: &str = "cognito-idp";
/// The header of every answer that wrote a revocation: when every location refuses the
/// revoked tokens, in ms since the epoch. The body stays Cognito's.
pub const ENFORCED_BY_HEADER: &str = "x-edge-revoke-enforced-by";

/// What an operation answered, and when the revocations it wrote (if any) are enforced in
/// every location.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The operation's output, Cognito's body.
    pub output: Value,
    /// When every location refuses what it revoked, ms since the epoch; `None`: it revoked
    /// nothing.
    pub enforced_by_ms: Option<u64>,
}

/// Handles one `POST /` call.
pub async fn handle(
    services: &Services,
    config: &Config,
    request: &Request,
    io: &Io<'_>,
) -> Response {
    let target = request.header("x-amz-target").unwrap_or_default();
    match call(services, config, request, target, io).await {
        Ok(Answer {
            output,
            enforced_by_ms: Some(enforced_by_ms),
        }) => Response::json_with(200, CONTENT_TYPE, &output)
            .with_header(ENFORCED_BY_HEADER, enforced_by_ms.to_string()),
        Ok(Answer { output, .. }) => Response::json_with(200, CONTENT_TYPE, &output),
        Err(err) => {
            let wire = err.wire(Surface::Api);
            let operation = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
            let operation: String = operation.chars().take(64).collect();
            if wire.status >= 500 {
                (io.log)(&format!("{operation} failed: {err}"));
            } else {
                (io.log)(&format!(
                    "{operation} refused: {} {}",
                    wire.error_type, wire.message
                ));
            }
            Response::aws_error(&err, Surface::Api, CONTENT_TYPE)
        }
    }
}

async fn call(
    services: &Services,
    config: &Config,
    request: &Request,
    target: &str,
    io: &Io<'_>,
) -> Result<Answer, Error> {
    let operation = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(Operation::from_name)
        .ok_or_else(|| ApiError::UnknownOperation(target.to_owned()))?;
    let admin = match operation.auth() {
        Auth::SigV4 { .. } => {
            let (credential, verified) = authenticate_admin(config, request, io)?;
            first_use_of_signature(services, request, &verified, io).await?;
            Some((credential, verified.region))
        }
        Auth::AccessToken | Auth::AppClient => None,
    };
    let caller = match &admin {
        Some((credential, region)) => Caller::Admin {
            credential,
            region: region.as_str(),
        },
        None => Caller::Anonymous,
    };
    let limit_key = match &caller {
        Caller::Admin { credential, .. } => format!("key:{}", credential.access_key_id),
        _ => format!(
            "ip:{}",
            request.header("cf-connecting-ip").unwrap_or("unknown")
        ),
    };
    if !io.limiter.allow(&limit_key).await {
        return Err(ApiError::TooManyRequests.into());
    }
    let body = parse_body(&request.body)?;
    invoke(services, config, operation, &body, caller, io).await
}

/// Runs `operation` on `body` for `caller`, whose credential has been checked as far as the
/// operation's [`Auth`] asks before the body is read (a SigV4 signature, or nothing: a trusted
/// caller, or a token or client the operation checks itself).
///
/// Every call of an operation passes here with its operation and input in hand, so a decision
/// to forward a pool's calls to an upstream instead of running them belongs here.
pub async fn invoke(
    services: &Services,
    config: &Config,
    operation: Operation,
    body: &Map<String, Value>,
    caller: Caller<'_>,
    io: &Io<'_>,
) -> Result<Answer, Error> {
    let ctx = Ctx {
        operation,
        services,
        config,
        io,
        caller,
        receipt: Receipt::new(),
    };
    let output = ops::dispatch(body, &ctx).await?;
    Ok(Answer {
        output,
        enforced_by_ms: ctx.receipt.enforced_by_ms(),
    })
}

/// Verifies the SigV4 signature of an admin call and returns the credential that made it.
fn authenticate_admin<'c>(
    config: &'c Config,
    request: &Request,
    io: &Io<'_>,
) -> Result<(&'c AdminCredential, sigv4::Verified), Error> {
    let parts = RequestParts {
        method: &request.method,
        path: &request.path,
        query: &request.query,
        headers: &request.headers,
        body: &request.body,
    };
    let lookup = |access_key_id: &str| {
        config
            .admin_credential(access_key_id)
            .map(|c| c.secret_access_key.clone())
    };
    let verified = sigv4::verify(&parts, SIGV4_SERVICE, io.now_ms, SIGV4_SKEW_MS, &lookup)
        .inspect_err(|err| {
            // The wire message is AWS's and names no header; the log does.
            if matches!(err, sigv4::SigV4Error::HeadersNotSigned(_)) {
                (io.log)(&format!("sigv4 refused: {err}"));
            }
        })?;
    let credential = config
        .admin_credential(&verified.access_key_id)
        .ok_or_else(|| Error::Internal("verified key vanished from the configuration".into()))?;
    Ok((credential, verified))
}

/// Accepts a verified signature once: a copy replayed while it is still within the clock skew
/// is refused (see `replay`).
async fn first_use_of_signature(
    services: &Services,
    request: &Request,
    verified: &sigv4::Verified,
    io: &Io<'_>,
) -> Result<(), Error> {
    let (Some(signature), Some(signed_at_ms)) = (
        sigv4::request_signature(&request.headers),
        sigv4::parse_amz_date(&verified.amz_date),
    ) else {
        return Err(Error::Internal(
            "a verified request has no readable signature".into(),
        ));
    };
    services
        .used_signatures()
        .first_use(
            &signature,
            signed_at_ms.saturating_add(SIGV4_SKEW_MS),
            io.store.signatures(),
            io.now_ms,
        )
        .await
}

/// The request body as a JSON object. Smithy: servers must accept an empty body as `{}`.
fn parse_body(body: &[u8]) -> Result<Map<String, Value>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match crate::json::parse_value(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(ApiError::Serialization("Expected map or null").into()),
        Err(_) => Err(ApiError::Serialization("Could not parse request body into json").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_body_is_an_empty_object() {
        assert!(parse_body(b"").unwrap().is_empty());
        assert!(parse_body(b"  ").unwrap().is_empty());
        assert!(parse_body(b"null").unwrap().is_empty());
    }

    #[test]
    fn a_body_that_is_not_an_object_is_a_serialization_error() {
        for body in [&b"[]"[..], b"\"x\"", b"not json", b"{\"a\":1,\"a\":2}"] {
            let err = parse_body(body).unwrap_err();
            assert_eq!(err.wire(Surface::Api).error_type, "SerializationException");
        }
    }
}
