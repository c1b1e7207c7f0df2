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
    proxy,
    revocation::{Receipt, ENFORCED_BY_HEADER},
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
    // Every answer of a call that wrote a revocation carries its receipt, an error too (the
    // revocation stands: an upstream that failed after the edge wrote, say).
    let receipt = Receipt::new();
    let response = match call(services, config, request, target, &receipt, io).await {
        Ok(Reply::Local(output)) => Response::json_with(200, CONTENT_TYPE, &output),
        Ok(Reply::Upstream(response)) => response,
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
    };
    match receipt.enforced_by_ms() {
        Some(ms) => response.with_header(ENFORCED_BY_HEADER, ms.to_string()),
        None => response,
    }
}

/// What a call answers: an operation's output, or a pool's upstream's answer as it came.
enum Reply {
    Local(Value),
    Upstream(Response),
}

async fn call(
    services: &Services,
    config: &Config,
    request: &Request,
    target: &str,
    receipt: &Receipt,
    io: &Io<'_>,
) -> Result<Reply, Error> {
    let unknown = || ApiError::UnknownOperation(unknown_operation(target));
    let name = target.strip_prefix(TARGET_PREFIX).ok_or_else(unknown)?;
    let operation = Operation::from_name(name);
    // A Cognito operation this Worker does not serve itself may still be forwarded to a pool's
    // upstream; it is authenticated as Cognito would before its body says where it goes.
    let signed = match (operation, proxy::operations::lookup(name)) {
        (Some(operation), _) => matches!(operation.auth(), Auth::SigV4 { .. }),
        (None, Some((_, signing))) if proxy::any_upstream(config) => {
            signing == proxy::Signing::Signed
        }
        (None, _) => return Err(unknown().into()),
    };
    let admin = if signed {
        let (credential, verified) = authenticate_admin(config, request, io)?;
        first_use_of_signature(services, request, &verified, io).await?;
        Some((credential, verified.region))
    } else {
        None
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
    if let Some(route) = proxy::route(config, name, &body) {
        let raw = &request.body;
        return proxy::forward(services, config, &route, caller, raw, &body, receipt, io)
            .await
            .map(Reply::Upstream);
    }
    let operation = operation.ok_or_else(unknown)?;
    run_here(services, config, operation, &body, caller, receipt, io)
        .await
        .map(Reply::Local)
}

/// Runs `operation` on `body` for `caller`, whose credential has been checked as far as the
/// operation's [`Auth`] asks before the body is read (a SigV4 signature, or nothing: a trusted
/// caller, or a token or client the operation checks itself).
///
/// Every call of an operation passes here with its operation and input in hand, and this is
/// where a call addressed to a pool with an upstream is forwarded instead of run (`proxy`).
/// HTTP calls make that decision a step earlier, in [`handle`], to pass Cognito's answer on
/// as it came; the JavaScript API's calls make it here.
pub async fn invoke(
    services: &Services,
    config: &Config,
    operation: Operation,
    body: &Map<String, Value>,
    caller: Caller<'_>,
    io: &Io<'_>,
) -> Result<Answer, Error> {
    let receipt = Receipt::new();
    let output = match (proxy::route(config, operation.name(), body), caller) {
        (Some(route), Caller::Trusted) => {
            proxy::forward_trusted(services, config, &route, body, &receipt, io).await?
        }
        _ => run_here(services, config, operation, body, caller, &receipt, io).await?,
    };
    Ok(Answer {
        output,
        enforced_by_ms: receipt.enforced_by_ms(),
    })
}

async fn run_here(
    services: &Services,
    config: &Config,
    operation: Operation,
    body: &Map<String, Value>,
    caller: Caller<'_>,
    receipt: &Receipt,
    io: &Io<'_>,
) -> Result<Value, Error> {
    let ctx = Ctx {
        operation,
        services,
        config,
        io,
        caller,
        receipt,
    };
    ops::dispatch(body, &ctx).await
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

/// Cognito operations this endpoint does not serve, each with what to use instead. A name
/// here is answered UnknownOperationException all the same (the SDKs read it as "not served"),
/// with a message a developer can act on.
const NOT_SERVED: &[(&str, &str)] = &[
    ("AdminInitiateAuth", "sign in with InitiateAuth (USER_SRP_AUTH, USER_PASSWORD_AUTH or USER_AUTH)"),
    ("AdminRespondToAuthChallenge", "answer challenges with RespondToAuthChallenge"),
    ("AdminResetUserPassword", "set a password with AdminSetUserPassword, or let the user call ForgotPassword"),
    ("AdminUpdateUserAttributes", "users update their own attributes with UpdateUserAttributes"),
    ("AdminDeleteUserAttributes", "users update their own attributes with UpdateUserAttributes"),
    ("DeleteUserAttributes", "set attributes with UpdateUserAttributes"),
    ("ListUsers", "read one user with AdminGetUser"),
    ("AdminListGroupsForUser", "local pools have no groups"),
    ("AdminAddUserToGroup", "local pools have no groups"),
    ("AdminRemoveUserFromGroup", "local pools have no groups"),
    ("ConfirmDevice", "local pools do not track devices (no NewDeviceMetadata is issued, so the libraries never call this)"),
    ("ForgetDevice", "local pools do not track devices"),
    ("GetDevice", "local pools do not track devices"),
    ("ListDevices", "local pools do not track devices"),
    ("UpdateDeviceStatus", "local pools do not track devices"),
    ("AdminListDevices", "local pools do not track devices"),
    ("AdminForgetDevice", "local pools do not track devices"),
    ("AssociateSoftwareToken", "local pools have no MFA"),
    ("VerifySoftwareToken", "local pools have no MFA"),
    ("SetUserMFAPreference", "local pools have no MFA"),
    ("AdminSetUserMFAPreference", "local pools have no MFA"),
    ("GetUserAuthFactors", "local pools offer PASSWORD and PASSWORD_SRP (USER_AUTH)"),
    ("StartWebAuthnRegistration", "local pools have no passkeys"),
    ("ListWebAuthnCredentials", "local pools have no passkeys"),
    ("DescribeUserPool", "pools are configured in POOLS"),
    ("DescribeUserPoolClient", "app clients are configured in POOLS"),
    ("ListUserPools", "pools are configured in POOLS"),
    ("CreateUserPool", "pools are configured in POOLS"),
    ("CreateUserPoolClient", "app clients are configured in POOLS"),
    ("UpdateUserPoolClient", "app clients are configured in POOLS"),
];

/// UnknownOperationException's message for `target`: the target, and for a Cognito operation
/// not served here, that it is not, what to use instead, and what is served.
pub fn unknown_operation(target: &str) -> String {
    let shown: String = target.chars().take(128).collect();
    let name = target.strip_prefix(TARGET_PREFIX).unwrap_or_default();
    match NOT_SERVED.iter().find(|(op, _)| *op == name) {
        Some((op, instead)) => {
            let served: Vec<&str> = Operation::ALL.iter().map(|op| op.name()).collect();
            format!(
                "Unknown operation: {shown}. {op} is a Cognito operation this endpoint does not \
                 serve: {instead}. Served here: {}.",
                served.join(", ")
            )
        }
        None => format!("Unknown operation: {shown}"),
    }
}

/// The request body as a JSON object. Smithy: servers must accept an empty body as `{}`.
fn parse_body(body: &[u8]) -> Result<Map<String, Value>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match crate::json::parse_value(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(ApiError::Serialization("Expected map or null".into()).into()),
        Err(_) => {
            Err(ApiError::Serialization("Could not parse request body into json".into()).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cognito_operation_not_served_says_what_to_use_instead() {
        let message = unknown_operation("AWSCognitoIdentityProviderService.AdminInitiateAuth");
        assert!(message.starts_with(
            "Unknown operation: AWSCognitoIdentityProviderService.AdminInitiateAuth. "
        ));
        assert!(message.contains("InitiateAuth (USER_SRP_AUTH"), "{message}");
        assert!(message.contains("GetTokensFromRefreshToken"), "{message}");
        assert_eq!(
            unknown_operation("AWSCognitoIdentityProviderService.NoSuchOp"),
            "Unknown operation: AWSCognitoIdentityProviderService.NoSuchOp"
        );
    }

    #[test]
    fn no_operation_said_to_be_not_served_is_served() {
        for (name, _) in NOT_SERVED {
            assert_eq!(Operation::from_name(name), None, "{name}");
        }
    }

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
