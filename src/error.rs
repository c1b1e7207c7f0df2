//! Errors, one enum per phase, and the one function that maps every error to the wire.
//!
//! Each phase has its own enum (`TokenError` for verification, `ConfigError` for settings,
//! `StoreError` for KV, `ApiError` for the Cognito protocol). [`Error`] gathers them, and
//! [`Error::wire`] is the only place that chooses an HTTP status, an AWS `__type` and a message.
//! Internal detail (which check failed, what KV said) goes to the log through `Display`, never to
//! the response body.

use core::fmt;

use crate::sigv4::SigV4Error;

/// Which kind of token a message speaks of: Cognito words its errors per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// An access token (`token_use: access`).
    Access,
    /// An ID token (`token_use: id`).
    Id,
}

impl TokenKind {
    fn word(self) -> &'static str {
        match self {
            Self::Access => "Access",
            Self::Id => "ID",
        }
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// Longer than the size cap; refused before any parsing.
    TooLarge,
    /// Not a JWS in compact form with strict base64url segments and JSON object parts.
    Malformed(&'static str),
    /// The header carries a parameter this verifier refuses (`crit`, `jwk`, `jku`, `x5u`, …).
    ForbiddenHeader(&'static str),
    /// The header's `alg` is not an algorithm this pool accepts.
    AlgorithmNotAllowed,
    /// No key of the pool has the token's `kid`.
    UnknownKey,
    /// The key chosen by `kid` is bound to a different algorithm than the header names.
    KeyAlgorithmMismatch,
    /// The signature does not verify.
    BadSignature,
    /// No configured pool has the token's issuer.
    UnknownIssuer,
    /// A claim this verifier requires is absent.
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type or an impossible value.
    InvalidClaim(&'static str),
    /// `exp` is in the past.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` or `auth_time` is later than now plus [`crate::auth::MAX_CLOCK_SKEW_MS`].
    IssuedInFuture(&'static str),
    /// `token_use` is not one the caller accepts.
    WrongTokenUse,
    /// `client_id` (access) or `aud` (ID) is not an accepted app client.
    WrongClient,
    /// The access token lacks a scope the operation needs.
    MissingScope,
    /// The user or the session was signed out after this token's authentication.
    Revoked,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => f.write_str("token exceeds the size cap"),
            Self::Malformed(why) => write!(f, "malformed token: {why}"),
            Self::ForbiddenHeader(name) => write!(f, "header parameter `{name}` is refused"),
            Self::AlgorithmNotAllowed => f.write_str("algorithm not allowed for this pool"),
            Self::UnknownKey => f.write_str("no key with this kid"),
            Self::KeyAlgorithmMismatch => f.write_str("key is bound to another algorithm"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::UnknownIssuer => f.write_str("issuer is not a configured pool"),
            Self::MissingClaim(name) => write!(f, "missing claim `{name}`"),
            Self::InvalidClaim(name) => write!(f, "invalid claim `{name}`"),
            Self::Expired => f.write_str("token expired"),
            Self::NotYetValid => f.write_str("token not yet valid"),
            Self::IssuedInFuture(name) => write!(f, "claim `{name}` is in the future"),
            Self::WrongTokenUse => f.write_str("token_use not accepted"),
            Self::WrongClient => f.write_str("client not accepted"),
            Self::MissingScope => f.write_str("required scope missing"),
            Self::Revoked => f.write_str("token revoked"),
        }
    }
}

/// A setting that is missing or malformed. Names the setting and the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where: `POOLS[0].issuer`, `KV_CACHE_TTL_S`, …
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// A KV (or other binding) call that failed. Never means "not found": that is `Ok(None)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// A read failed; nothing can be decided from it.
    Read(String),
    /// A write failed; nothing was changed by this request.
    Write(String),
    /// A stored value could not be decoded.
    Corrupt(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(why) => write!(f, "kv read failed: {why}"),
            Self::Write(why) => write!(f, "kv write failed: {why}"),
            Self::Corrupt(why) => write!(f, "kv value unreadable: {why}"),
        }
    }
}

/// Errors of the Cognito protocol and its operations, with Cognito's own names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiError {
    /// `X-Amz-Target` names no operation this endpoint serves; the text says so and what to use
    /// instead (`api::unknown_operation`).
    UnknownOperation(String),
    /// The body is not JSON, not an object, or a member has the wrong JSON type (the message
    /// names the member).
    Serialization(String),
    /// A member breaks a model constraint; the text is Coral's full message.
    InvalidParameter(String),
    /// The pool does not exist.
    PoolNotFound(String),
    /// The app client does not exist in the pool.
    ClientNotFound(String),
    /// The user does not exist.
    UserNotFound,
    /// The user already exists (AdminCreateUser).
    UsernameExists,
    /// Another user already has this email (AdminCreateUser).
    AliasExists,
    /// Authentication failed with a Cognito message (wrong password, disabled user, bad refresh token, …).
    NotAuthorized(String),
    /// The caller's credentials are valid but not allowed this action on this pool.
    AccessDenied(String),
    /// The caller exceeded its request rate.
    TooManyRequests,
    /// RevokeToken was given something other than a refresh token.
    UnsupportedTokenType,
    /// RevokeToken's client secret is wrong or missing.
    Unauthorized,
    /// The operation is switched off for this client (token revocation disabled).
    UnsupportedOperation(String),
    /// The new password breaks the pool's password policy.
    InvalidPassword(String),
    /// The request body is larger than this endpoint accepts.
    PayloadTooLarge,
    /// The pool is not one whose users this Worker owns (local-pool operations on an external pool).
    NotLocalPool(String),
    /// A pool's upstream (the real Cognito) refused a call forwarded for the JavaScript API:
    /// its status, its exception (one of Cognito's names) and its message.
    Upstream {
        /// The upstream's HTTP status.
        status: u16,
        /// Cognito's exception name.
        error_type: &'static str,
        /// Cognito's message.
        message: String,
    },
    /// A confirmation or verification code that is not the one sent.
    CodeMismatch,
    /// A confirmation or verification code past its lifetime.
    ExpiredCode,
    /// Too many wrong codes: the code is spent.
    LimitExceeded,
    /// The user signed up and has not confirmed.
    UserNotConfirmed,
    /// A rotated-out refresh token used after its grace period.
    RefreshTokenReuse,
    /// SignUp with a username that is taken.
    SignUpUsernameExists,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (_, kind, message) = self.parts();
        write!(f, "{kind}: {message}")
    }
}

impl ApiError {
    /// Status, `__type` and message, as Cognito sends them.
    fn parts(&self) -> (u16, &'static str, String) {
        match self {
            Self::UnknownOperation(text) => (400, "UnknownOperationException", text.clone()),
            Self::Serialization(why) => (400, "SerializationException", why.clone()),
            Self::InvalidParameter(text) => (400, "InvalidParameterException", text.clone()),
            Self::PoolNotFound(id) => (
                400,
                "ResourceNotFoundException",
                format!("User pool {} does not exist.", truncate(id, 64)),
            ),
            Self::ClientNotFound(id) => (
                400,
                "ResourceNotFoundException",
                format!("User pool client {} does not exist.", truncate(id, 128)),
            ),
            Self::UserNotFound => (400, "UserNotFoundException", "User does not exist.".into()),
            Self::UsernameExists => (
                400,
                "UsernameExistsException",
                "User account already exists".into(),
            ),
            Self::AliasExists => (
                400,
                "AliasExistsException",
                "An account with the given email already exists.".into(),
            ),
            Self::NotAuthorized(text) => (400, "NotAuthorizedException", text.clone()),
            Self::AccessDenied(text) => (400, "AccessDeniedException", text.clone()),
            Self::TooManyRequests => (400, "TooManyRequestsException", "Rate exceeded".into()),
            Self::UnsupportedTokenType => (
                400,
                "UnsupportedTokenTypeException",
                "Only refresh tokens can be revoked".into(),
            ),
            Self::Unauthorized => (
                400,
                "UnauthorizedException",
                "Unable to authenticate the client with the given client secret".into(),
            ),
            Self::UnsupportedOperation(text) => {
                (400, "UnsupportedOperationException", text.clone())
            }
            Self::InvalidPassword(text) => (400, "InvalidPasswordException", text.clone()),
            Self::PayloadTooLarge => (
                413,
                "SerializationException",
                "Request body is too large".into(),
            ),
            Self::CodeMismatch => (
                400,
                "CodeMismatchException",
                "Invalid verification code provided, please try again.".into(),
            ),
            Self::ExpiredCode => (
                400,
                "ExpiredCodeException",
                "Invalid code provided, please request a code again.".into(),
            ),
            Self::LimitExceeded => (
                400,
                "LimitExceededException",
                "Attempt limit exceeded, please try after some time.".into(),
            ),
            Self::UserNotConfirmed => (
                400,
                "UserNotConfirmedException",
                "User is not confirmed.".into(),
            ),
            Self::RefreshTokenReuse => (
                400,
                "RefreshTokenReuseException",
                "Refresh token has been reused; the session is revoked.".into(),
            ),
            Self::SignUpUsernameExists => {
                (400, "UsernameExistsException", "User already exists".into())
            }
            Self::NotLocalPool(id) => (
                400,
                "InvalidParameterException",
                format!(
                    "User pool {} is not a local pool: its users live with its issuer.",
                    truncate(id, 64)
                ),
            ),
            Self::Upstream {
                status,
                error_type,
                message,
            } => (*status, error_type, truncate(message, 512).to_owned()),
        }
    }
}

/// Every error the product can answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A bearer token was refused; `kind` picks Cognito's wording.
    Token {
        /// Which kind of token the caller presented or was expected to present.
        kind: TokenKind,
        /// What was wrong with it.
        error: TokenError,
    },
    /// The gate found no `Authorization: Bearer` header.
    MissingBearer,
    /// A Cognito protocol or operation error.
    Api(ApiError),
    /// SigV4 authentication of an admin call failed.
    SigV4(SigV4Error),
    /// KV failed; the request is refused rather than decided without it (fail closed).
    Store(StoreError),
    /// A JWKS needed to verify the token could not be fetched.
    KeysUnavailable(String),
    /// The Worker's settings are invalid; every request answers this until they are fixed.
    Config(ConfigError),
    /// Nothing is served at this path (no such local pool, no origin, no asset); the text
    /// says what is missing.
    NotFound(&'static str),
    /// A bug or an impossible state; details in the log only.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token { error, .. } => write!(f, "token refused: {error}"),
            Self::MissingBearer => f.write_str("no bearer token"),
            Self::Api(err) => write!(f, "{err}"),
            Self::SigV4(err) => write!(f, "sigv4: {err}"),
            Self::Store(err) => write!(f, "{err}"),
            Self::KeysUnavailable(why) => write!(f, "jwks unavailable: {why}"),
            Self::Config(err) => write!(f, "configuration error: {err}"),
            Self::NotFound(what) => write!(f, "not found: {what}"),
            Self::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}

impl From<ApiError> for Error {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<SigV4Error> for Error {
    fn from(err: SigV4Error) -> Self {
        Self::SigV4(err)
    }
}

impl From<ConfigError> for Error {
    fn from(err: ConfigError) -> Self {
        Self::Config(err)
    }
}

/// Where an error is answered: the surfaces word the same failure differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `POST /`, the Cognito wire protocol: client errors are 400, faults 500.
    Api,
    /// The bearer-token gate in front of the API: refusals are 401, faults 503.
    Gate,
    /// The JavaScript API (`globalSignOut`, `revokeToken`, `verifyToken`): code of the same
    /// Worker, which may read which setting is wrong. Worded as the Cognito API.
    JsApi,
}

/// An error as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// HTTP status.
    pub status: u16,
    /// The AWS error type, sent as `__type` and `x-amzn-ErrorType`.
    pub error_type: &'static str,
    /// The human-readable message.
    pub message: String,
    /// Coral sends `Message` (capital M) for SerializationException and `message` otherwise.
    pub capital_message_key: bool,
}

const INTERNAL_MESSAGE: &str = "Internal server error.";
/// What every caller is told while the configuration is invalid.
pub const CONFIG_MESSAGE: &str =
    "The Worker's configuration is invalid; the details are in its log.";

impl Error {
    /// The one mapping from errors to status, `__type` and message.
    pub fn wire(&self, surface: Surface) -> WireError {
        let refused = match surface {
            Surface::Api | Surface::JsApi => 400,
            Surface::Gate => 401,
        };
        let fault = match surface {
            Surface::Api | Surface::JsApi => 500,
            Surface::Gate => 503,
        };
        let (status, error_type, message) = match self {
            Self::Token { kind, error } => {
                let message = match error {
                    TokenError::Expired => format!("{} Token has expired", kind.word()),
                    TokenError::Revoked => format!("{} Token has been revoked", kind.word()),
                    TokenError::MissingScope => {
                        "Access Token does not have required scopes".to_owned()
                    }
                    _ => format!("Invalid {} Token", kind.word()),
                };
                (refused, "NotAuthorizedException", message)
            }
            Self::MissingBearer => (
                refused,
                "NotAuthorizedException",
                "Missing Authorization header with a Bearer token".to_owned(),
            ),
            Self::Api(err) => err.parts(),
            Self::SigV4(err) => (400, err.aws_error_type(), err.aws_message()),
            Self::Store(_) | Self::KeysUnavailable(_) | Self::Internal(_) => {
                (fault, "InternalErrorException", INTERNAL_MESSAGE.to_owned())
            }
            // Which setting is wrong, and how, is for the log, for admins (`/healthz` signed
            // with an admin key) and for the Worker's own code, never for whoever happens to
            // call over HTTP.
            Self::Config(err) if surface == Surface::JsApi => (
                500,
                "InternalErrorException",
                format!("Configuration error: {err}"),
            ),
            Self::Config(_) => (500, "InternalErrorException", CONFIG_MESSAGE.to_owned()),
            Self::NotFound(what) => (404, "ResourceNotFoundException", (*what).to_owned()),
        };
        WireError {
            status,
            error_type,
            message,
            capital_message_key: error_type == "SerializationException",
        }
    }
}

/// Cuts untrusted text echoed in a message to at most `max` characters.
fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(kind: TokenKind, error: TokenError) -> Error {
        Error::Token { kind, error }
    }

    #[test]
    fn an_expired_access_token_reads_as_cognito_words_it() {
        let wire = token(TokenKind::Access, TokenError::Expired).wire(Surface::Gate);
        assert_eq!(wire.status, 401);
        assert_eq!(wire.error_type, "NotAuthorizedException");
        assert_eq!(wire.message, "Access Token has expired");
    }

    #[test]
    fn a_revoked_token_is_401_at_the_gate_and_400_on_the_api() {
        let err = token(TokenKind::Access, TokenError::Revoked);
        assert_eq!(err.wire(Surface::Gate).status, 401);
        assert_eq!(err.wire(Surface::Api).status, 400);
        assert_eq!(
            err.wire(Surface::Api).message,
            "Access Token has been revoked"
        );
    }

    #[test]
    fn every_other_token_failure_reads_invalid_token() {
        for error in [
            TokenError::TooLarge,
            TokenError::Malformed("x"),
            TokenError::BadSignature,
            TokenError::UnknownKey,
            TokenError::WrongClient,
            TokenError::MissingClaim("exp"),
        ] {
            let wire = token(TokenKind::Access, error).wire(Surface::Gate);
            assert_eq!(wire.message, "Invalid Access Token");
        }
        let wire = token(TokenKind::Id, TokenError::BadSignature).wire(Surface::Gate);
        assert_eq!(wire.message, "Invalid ID Token");
    }

    #[test]
    fn store_failures_are_faults_that_reveal_nothing() {
        let err = Error::Store(StoreError::Read("binding said: secret detail".into()));
        let gate = err.wire(Surface::Gate);
        assert_eq!(
            (gate.status, gate.error_type),
            (503, "InternalErrorException")
        );
        assert_eq!(gate.message, "Internal server error.");
        assert_eq!(err.wire(Surface::Api).status, 500);
    }

    #[test]
    fn a_config_error_names_no_field_on_any_surface() {
        let err = Error::Config(ConfigError::new("POOLS[0].issuer", "must be a string"));
        for surface in [Surface::Api, Surface::Gate] {
            let wire = err.wire(surface);
            assert_eq!(wire.status, 500);
            assert_eq!(wire.error_type, "InternalErrorException");
            assert_eq!(wire.message, CONFIG_MESSAGE);
            assert!(!wire.message.contains("POOLS") && !wire.message.contains("issuer"));
        }
    }

    #[test]
    fn only_the_javascript_api_hears_which_setting_is_wrong() {
        let err = Error::Config(ConfigError::new("POOLS[0].issuer", "must be a string"));
        let wire = err.wire(Surface::JsApi);
        assert_eq!(wire.error_type, "InternalErrorException");
        assert_eq!(
            wire.message,
            "Configuration error: POOLS[0].issuer: must be a string"
        );
        let store = Error::Store(StoreError::Read("detail".into())).wire(Surface::JsApi);
        assert_eq!(store.message, "Internal server error.");
    }

    #[test]
    fn a_missing_resource_is_a_404_on_every_surface() {
        for surface in [Surface::Api, Surface::Gate, Surface::JsApi] {
            let wire = Error::NotFound("No local pool with this id.").wire(surface);
            assert_eq!(
                (wire.status, wire.error_type, wire.message.as_str()),
                (
                    404,
                    "ResourceNotFoundException",
                    "No local pool with this id."
                )
            );
        }
    }

    #[test]
    fn serialization_errors_use_the_capital_message_key() {
        let wire =
            Error::Api(ApiError::Serialization("Unexpected field type".into())).wire(Surface::Api);
        assert!(wire.capital_message_key);
        let wire = Error::Api(ApiError::UserNotFound).wire(Surface::Api);
        assert!(!wire.capital_message_key);
        assert_eq!(wire.message, "User does not exist.");
    }

    #[test]
    fn echoed_identifiers_are_truncated() {
        let long = "x".repeat(10_000);
        let wire = Error::Api(ApiError::PoolNotFound(long.clone())).wire(Surface::Api);
        assert!(wire.message.len() < 200);
        let wire = Error::Api(ApiError::ClientNotFound(long)).wire(Surface::Api);
        assert!(wire.message.len() < 200);
    }
}
