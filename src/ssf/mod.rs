//! OpenID Shared Signals receiver core: Security Event Tokens (RFC 8417) from CAEP and RISC
//! transmitters, turned into revocation actions. No I/O happens here.
//!
//! # Pipeline (push, RFC 8935; first failure wins)
//! 1. [`push::admit`]: `POST` only (405), a transmitter with this path id (404), the body cap
//!    (413), the bearer secret compared in constant time (`authentication_failed`), the media
//!    type `application/secevent+jwt` (`invalid_request`).
//! 2. [`UntrustedSet::parse`]: the compact JWS through the same splitter as access tokens
//!    ([`crate::token::UntrustedToken`]: size cap, strict base64url, no duplicate members,
//!    `jku`/`x5u`/`jwk`/`x5c` refused), an unsigned token (`invalid_key`), `typ`
//!    `secevent+jwt` (`invalid_request`), the untrusted `iss` equal to the transmitter's
//!    (`invalid_issuer`).
//! 3. The caller fetches the transmitter's keys ([`Transmitter::keys`]) and calls
//!    [`UntrustedSet::verify_signature`]: the key is found by `kid` among configured or fetched
//!    keys only, and bound to its algorithm (`invalid_key`). This is the one step that becomes
//!    `async` when the signature verifier does.
//! 4. [`SignedSet::check_claims`]: `aud` (`invalid_audience`); no `exp`, `sub` or `token_use`,
//!    a `jti`, an `iat` at most [`set::IAT_FUTURE_SKEW_S`] ahead, a non-empty `events` object, a
//!    well-formed `sub_id` (`invalid_request`). The result is a [`VerifiedSet`].
//! 5. [`events::actions`]: each event becomes [`Action`]s — revoke a user, revoke a session,
//!    resolve an alias through the pool's directory first, record a verification or a stream
//!    status, or ignore — at the event's time clamped to the time of receipt. A malformed event
//!    of a known type is `invalid_request`; nothing is written unless every event passed.
//! 6. The caller applies the actions: aliases through the directory, revocations through the
//!    revocation authority (writes only move a revocation time forward, so a repeated SET is
//!    answered 202 again and changes nothing, without a `jti` store), a verification `state`
//!    through [`events::check_verification_state`] (`invalid_state`). Then [`push::accepted`]
//!    or [`push::rejected`].
//!
//! [`receive::Receiver`] runs these steps with the ports (the JWKS cache, the revocation list,
//! the user directory, KV for the transmitters' status) for push and for poll delivery
//! (RFC 8936, from the scheduled handler).
//!
//! # Design choices
//! - One verifier: SETs and access tokens share the splitter, the key binding and the
//!   [`crate::crypto::SignatureVerifier`]; only the claims rules differ. SET keys belong to a
//!   transmitter, never to a pool.
//! - No token confusion: a SET needs `typ` `secevent+jwt` and `events` and refuses `exp`, `sub`
//!   and `token_use`, so an access or ID token is never a SET; the gate refuses anything typed
//!   as a SET or carrying `events` (`crate::auth`), so a SET is never a bearer token.
//! - SETs are statements, not commands: an unknown event type or an unresolvable subject is
//!   acknowledged (202) and does nothing; nothing ever lowers or deletes a revocation
//!   (`account-enabled` is accepted and ignored).
//! - Over-revoking is the safe failure: a session the receiver cannot map falls back to the
//!   user, and a subject with several resolvable aliases revokes each.

pub mod config;
pub mod events;
pub mod push;
pub mod receive;
pub mod set;
pub mod subject;

use core::fmt;

pub use config::{Transmitter, TransmitterKeys, Transmitters};
pub use events::{actions, Action, PendingAlias, StreamStatus};
pub use set::{SignedSet, UntrustedSet, VerifiedSet};
pub use subject::{external_pool_user_id, Alias, Subject};

/// Why a push or a SET was refused. [`SsfError::code`] and [`SsfError::status`] are the only
/// mapping to the wire (RFC 8935 §2.3–2.4 and the IANA "Security Event Token Error Codes").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SsfError {
    /// The push used another method than `POST`.
    MethodNotAllowed,
    /// No transmitter has this push path.
    UnknownStream,
    /// The body is larger than [`push::MAX_BODY_BYTES`].
    BodyTooLarge,
    /// The `Authorization` header is missing or does not carry the transmitter's push secret.
    AuthenticationFailed,
    /// Not a SET: content type, compact form, JSON, `typ`, a missing or mistyped claim, a claim
    /// a SET must not carry, an event that does not conform to its definition, a malformed
    /// subject.
    InvalidRequest(&'static str),
    /// The SET's `iss` is not this transmitter's issuer.
    InvalidIssuer,
    /// The signature cannot be accepted: unsigned, algorithm not allowed, unknown `kid`, a key
    /// bound to another algorithm, a header that names its own key, or a bad signature.
    InvalidKey(&'static str),
    /// The SET's `aud` does not name this receiver.
    InvalidAudience,
    /// A verification event's `state` is not one this receiver asked for.
    InvalidState,
}

impl SsfError {
    /// The registered error code (`err` member of a 400 body).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed | Self::UnknownStream | Self::BodyTooLarge => "invalid_request",
            Self::AuthenticationFailed => "authentication_failed",
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidIssuer => "invalid_issuer",
            Self::InvalidKey(_) => "invalid_key",
            Self::InvalidAudience => "invalid_audience",
            Self::InvalidState => "invalid_state",
        }
    }

    /// The HTTP status: general HTTP problems keep their usual codes (RFC 8935 §2.3), a SET
    /// that fails parsing, validation or authentication is 400.
    pub fn status(&self) -> u16 {
        match self {
            Self::MethodNotAllowed => 405,
            Self::UnknownStream => 404,
            Self::BodyTooLarge => 413,
            _ => 400,
        }
    }

    /// Human text for the `description` member. Fixed text only: nothing from the request is
    /// echoed.
    pub fn description(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed => "push delivery uses POST",
            Self::UnknownStream => "no stream is configured at this path",
            Self::BodyTooLarge => "the body exceeds the size cap",
            Self::AuthenticationFailed => "the transmitter could not be authenticated",
            Self::InvalidRequest(why) | Self::InvalidKey(why) => why,
            Self::InvalidIssuer => "the SET issuer is not this stream's transmitter",
            Self::InvalidAudience => "the SET audience does not name this receiver",
            Self::InvalidState => "the verification state is not one this receiver requested",
        }
    }
}

impl fmt::Display for SsfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.description())
    }
}
