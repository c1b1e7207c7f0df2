//! CAEP, RISC and SSF events → actions.
//!
//! | event | action |
//! |---|---|
//! | CAEP `session-revoked` | revoke the user, or only the session a complex subject names |
//! | CAEP `credential-change`, `change_type` `revoke`/`delete`, or `password`/`pin` `update` | revoke the user |
//! | RISC `account-disabled`, `account-purged`, `credential-compromise`, `sessions-revoked`; OAuth `tokens-revoked` | revoke the user |
//! | CAEP `credential-change` otherwise, `token-claims-change`, `assurance-level-change`, `device-compliance-change`, `risk-level-change`, `session-established`, `session-presented` | ignore |
//! | RISC `account-enabled` (never lifts a revocation), `account-credential-change-required`, `identifier-changed`, `identifier-recycled`, `opt-*`, `recovery-*`; OAuth `token-revoked` | ignore |
//! | SSF `verification` | [`Action::Verification`]; the caller checks `state` ([`check_verification_state`]) |
//! | SSF `stream-updated` | [`Action::StreamStatus`] |
//! | anything else | ignore |
//!
//! Event time: the event's `event_timestamp` (seconds, or milliseconds when ≥ 10^11 as Okta
//! sends it), else the SET's `toe`, else its `iat`; never later than the time of receipt, so a
//! sign-in after the SET arrived is never revoked by it. The action carries the time; the store
//! keeps the later of it and what it holds, so nothing here can lower a revocation.

use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::{
    config::Transmitter,
    set::{numeric_date_ms, VerifiedSet},
    subject::{Alias, Subject, Target},
    SsfError,
};
use crate::config::Pool;

const CAEP: &str = "https://schemas.openid.net/secevent/caep/event-type/";
const RISC: &str = "https://schemas.openid.net/secevent/risc/event-type/";
const SSF: &str = "https://schemas.openid.net/secevent/ssf/event-type/";
/// SSE drafts (before Feb 2023) named the control events here.
const SSE: &str = "https://schemas.openid.net/secevent/sse/event-type/";
const OAUTH: &str = "https://schemas.openid.net/secevent/oauth/event-type/";

/// An `event_timestamp` at or above this is in milliseconds (10^11 s is the year 5138).
pub const EVENT_TIMESTAMP_MS_THRESHOLD: f64 = 1e11;

/// What the receiver does with one kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Ends the user's sessions; a complex subject's session narrows it to that session.
    RevokeSession,
    /// Ends all of the user's sessions.
    RevokeUser,
    /// CAEP credential-change: revokes or not by `credential_type` / `change_type`.
    CredentialChange,
    /// RISC credential-compromise: revokes; `credential_type` is required.
    CredentialCompromise,
    /// Accepted and ignored.
    Ignore,
    /// SSF verification.
    Verification,
    /// SSF stream-updated.
    StreamUpdated,
}

/// Every event type this receiver knows: (base, name, rule).
const KNOWN: &[(&str, &str, Rule)] = &[
    (CAEP, "session-revoked", Rule::RevokeSession),
    (CAEP, "credential-change", Rule::CredentialChange),
    (CAEP, "token-claims-change", Rule::Ignore),
    (CAEP, "assurance-level-change", Rule::Ignore),
    (CAEP, "device-compliance-change", Rule::Ignore),
    (CAEP, "risk-level-change", Rule::Ignore),
    (CAEP, "session-established", Rule::Ignore),
    (CAEP, "session-presented", Rule::Ignore),
    (RISC, "account-disabled", Rule::RevokeUser),
    (RISC, "account-purged", Rule::RevokeUser),
    (RISC, "credential-compromise", Rule::CredentialCompromise),
    (RISC, "sessions-revoked", Rule::RevokeUser),
    (RISC, "account-enabled", Rule::Ignore),
    (RISC, "account-credential-change-required", Rule::Ignore),
    (RISC, "identifier-changed", Rule::Ignore),
    (RISC, "identifier-recycled", Rule::Ignore),
    (RISC, "opt-in", Rule::Ignore),
    (RISC, "opt-out-initiated", Rule::Ignore),
    (RISC, "opt-out-cancelled", Rule::Ignore),
    (RISC, "opt-out-effective", Rule::Ignore),
    (RISC, "recovery-activated", Rule::Ignore),
    (RISC, "recovery-information-changed", Rule::Ignore),
    (RISC, "verification", Rule::Verification),
    (OAUTH, "tokens-revoked", Rule::RevokeUser),
    (OAUTH, "token-revoked", Rule::Ignore),
    (SSF, "verification", Rule::Verification),
    (SSF, "stream-updated", Rule::StreamUpdated),
    (SSE, "verification", Rule::Verification),
    (SSE, "stream-updated", Rule::StreamUpdated),
];

/// A stream's status as the transmitter reports it (SSF §8.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    /// Events are delivered.
    Enabled,
    /// Events are held and delivered later.
    Paused,
    /// Nothing is delivered or held.
    Disabled,
}

impl StreamStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Paused => "paused",
            Self::Disabled => "disabled",
        }
    }
}

/// A revocation waiting for the pool's directory to turn a name into a `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAlias {
    /// The pool whose directory to ask.
    pub pool: String,
    /// The names to try, in order; the first the directory finds wins.
    pub aliases: Vec<Alias>,
    /// The revocation time, ms.
    pub at_ms: u64,
    /// Who: `ssf:<transmitter id>`.
    pub by: String,
    /// Why: the event and the SET.
    pub reason: String,
}

impl PendingAlias {
    /// The revocation, once the directory found the user `sub`.
    pub fn resolved(self, sub: &str) -> Action {
        Action::RevokeUser {
            pool: self.pool,
            user_id: sub.to_owned(),
            at_ms: self.at_ms,
            by: self.by,
            reason: self.reason,
        }
    }
}

/// One thing to do because of a SET. Revocations only ever move a time forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Revoke every token of this user authenticated at or before `at_ms`.
    RevokeUser {
        /// The pool id.
        pool: String,
        /// The id the user entry is keyed by.
        user_id: String,
        /// The event time, ms, clamped to the time of receipt.
        at_ms: u64,
        /// Who: `ssf:<transmitter id>`.
        by: String,
        /// Why: the event and the SET.
        reason: String,
    },
    /// Revoke every token of this session (`origin_jti`).
    RevokeSession {
        /// The pool id.
        pool: String,
        /// The session's `origin_jti`.
        origin_jti: String,
        /// The event time, ms, clamped to the time of receipt.
        at_ms: u64,
        /// Who: `ssf:<transmitter id>`.
        by: String,
        /// Why: the event and the SET.
        reason: String,
    },
    /// Find the user in the pool's directory, then revoke ([`PendingAlias::resolved`]); a
    /// name the directory does not know revokes nobody.
    ResolveAlias(PendingAlias),
    /// The transmitter answered a verification request (`state` echoed) or verified on its own
    /// (`state` `None`).
    Verification {
        /// The transmitter id.
        transmitter: String,
        /// The stream the event names (`sub_id` opaque id), if any.
        stream_id: Option<String>,
        /// The state echoed.
        state: Option<String>,
    },
    /// The transmitter changed the stream's status.
    StreamStatus {
        /// The transmitter id.
        transmitter: String,
        /// The stream the event names, if any.
        stream_id: Option<String>,
        /// The new status.
        status: StreamStatus,
        /// The transmitter's reason, if given (capped).
        reason: Option<String>,
    },
    /// Nothing to do, and why (for the log).
    Ignore {
        /// Why.
        why: String,
    },
}

/// The actions for every event of `set`, received at `now_ms` from `transmitter`, whose
/// subjects name users of `pool`. Fails as a whole: a malformed known event refuses the SET
/// and nothing is applied.
pub fn actions(
    set: &VerifiedSet,
    transmitter: &Transmitter,
    pool: &Pool,
    now_ms: u64,
) -> Result<Vec<Action>, SsfError> {
    let mut out: Vec<Action> = Vec::new();
    for (uri, payload) in set.events() {
        let known = KNOWN
            .iter()
            .find(|(base, name, _)| uri.strip_prefix(base) == Some(name));
        let Some((base, name, rule)) = known else {
            out.push(Action::Ignore {
                why: format!("unknown event type {}", printable(uri, 128)),
            });
            continue;
        };
        let label = format!("{} {name}", family(base));
        for action in event_actions(set, transmitter, pool, now_ms, *rule, &label, payload)? {
            if !out.contains(&action) {
                out.push(action);
            }
        }
    }
    Ok(out)
}

fn family(base: &str) -> &'static str {
    match base {
        CAEP => "caep",
        RISC => "risc",
        OAUTH => "oauth",
        SSE => "sse",
        _ => "ssf",
    }
}

fn event_actions(
    set: &VerifiedSet,
    transmitter: &Transmitter,
    pool: &Pool,
    now_ms: u64,
    rule: Rule,
    label: &str,
    payload: &Map<String, Value>,
) -> Result<Vec<Action>, SsfError> {
    let session_scoped = match rule {
        Rule::Ignore => {
            return Ok(vec![Action::Ignore {
                why: format!("{label} does not end sessions"),
            }])
        }
        Rule::Verification => return verification(set, transmitter, payload),
        Rule::StreamUpdated => return stream_updated(set, transmitter, payload),
        Rule::CredentialChange => {
            if !credential_change_revokes(payload)? {
                return Ok(vec![Action::Ignore {
                    why: format!("{label} of this kind does not end sessions"),
                }]);
            }
            false
        }
        Rule::CredentialCompromise => {
            required_string(payload, "credential_type")?;
            false
        }
        Rule::RevokeUser => false,
        Rule::RevokeSession => true,
    };
    let at_ms = event_time_ms(set, payload, now_ms)?;
    let legacy;
    let subject = match (set.sub_id(), payload.get("subject")) {
        (Some(subject), _) => subject,
        (None, Some(value)) => {
            legacy = Subject::parse_legacy(value)?;
            &legacy
        }
        (None, None) => return Err(SsfError::InvalidRequest("the event has no subject")),
    };
    let targets = match subject.resolve(pool, session_scoped) {
        Ok(targets) => targets,
        Err(why) => {
            return Ok(vec![Action::Ignore {
                why: format!("{label}: {why}"),
            }])
        }
    };
    let by = format!("ssf:{}", transmitter.id);
    let reason = format!("{label} (SET {})", printable(set.jti(), 64));
    let mut out = Vec::new();
    let mut aliases = Vec::new();
    for target in targets {
        match target {
            Target::User(user_id) => out.push(Action::RevokeUser {
                pool: pool.id.clone(),
                user_id,
                at_ms,
                by: by.clone(),
                reason: reason.clone(),
            }),
            Target::Session(origin_jti) => out.push(Action::RevokeSession {
                pool: pool.id.clone(),
                origin_jti,
                at_ms,
                by: by.clone(),
                reason: reason.clone(),
            }),
            Target::Lookup(alias) => aliases.push(alias),
        }
    }
    if !aliases.is_empty() {
        out.push(Action::ResolveAlias(PendingAlias {
            pool: pool.id.clone(),
            aliases,
            at_ms,
            by,
            reason,
        }));
    }
    Ok(out)
}

/// CAEP §3.3: `credential_type` and `change_type` are required. A revoked or deleted
/// credential, or an updated password or PIN, ends sessions; a new factor does not. Unknown
/// `credential_type` values (Okta sends `ALL_FACTORS`, …) are judged by `change_type`.
fn credential_change_revokes(payload: &Map<String, Value>) -> Result<bool, SsfError> {
    let credential_type = required_string(payload, "credential_type")?;
    let change_type = required_string(payload, "change_type")?;
    match change_type {
        "revoke" | "delete" => Ok(true),
        "update" => Ok(matches!(credential_type, "password" | "pin")),
        "create" => Ok(false),
        _ => Err(SsfError::InvalidRequest(
            "credential-change needs change_type create, revoke, update or delete",
        )),
    }
}

fn required_string<'p>(payload: &'p Map<String, Value>, name: &str) -> Result<&'p str, SsfError> {
    match payload.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(SsfError::InvalidRequest(
            "the event lacks a claim its definition requires",
        )),
    }
}

/// The event time in ms: `event_timestamp` → `toe` → `iat`, at most `now_ms`.
pub fn event_time_ms(
    set: &VerifiedSet,
    payload: &Map<String, Value>,
    now_ms: u64,
) -> Result<u64, SsfError> {
    let at = match payload.get("event_timestamp") {
        Some(value) => {
            let bad = SsfError::InvalidRequest("event_timestamp is not a non-negative number");
            let number = value
                .as_f64()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or(bad)?;
            if number >= EVENT_TIMESTAMP_MS_THRESHOLD {
                // `as` saturates; anything this far ahead is clamped below anyway.
                number.floor() as u64
            } else {
                numeric_date_ms(value).unwrap_or(now_ms)
            }
        }
        None => set.toe_ms().unwrap_or(set.iat_ms()),
    };
    Ok(at.min(now_ms))
}

fn stream_id(set: &VerifiedSet, transmitter: &Transmitter) -> Result<Option<String>, SsfError> {
    let named = match set.sub_id() {
        None => None,
        Some(Subject::Opaque(id)) => Some(id.clone()),
        Some(_) => {
            return Err(SsfError::InvalidRequest(
                "a stream event's sub_id must be the opaque stream id",
            ))
        }
    };
    match (&transmitter.stream_id, &named) {
        (Some(ours), Some(named)) if ours != named => {
            Err(SsfError::InvalidRequest("the event names another stream"))
        }
        _ => Ok(named),
    }
}

fn verification(
    set: &VerifiedSet,
    transmitter: &Transmitter,
    payload: &Map<String, Value>,
) -> Result<Vec<Action>, SsfError> {
    let stream_id = stream_id(set, transmitter)?;
    let state = match payload.get("state") {
        None => None,
        Some(Value::String(state)) => Some(state.clone()),
        Some(_) => return Err(SsfError::InvalidRequest("state is not a string")),
    };
    Ok(vec![Action::Verification {
        transmitter: transmitter.id.clone(),
        stream_id,
        state,
    }])
}

fn stream_updated(
    set: &VerifiedSet,
    transmitter: &Transmitter,
    payload: &Map<String, Value>,
) -> Result<Vec<Action>, SsfError> {
    let stream_id = stream_id(set, transmitter)?;
    let status = match payload.get("status").and_then(Value::as_str) {
        Some("enabled") => StreamStatus::Enabled,
        Some("paused") => StreamStatus::Paused,
        Some("disabled") => StreamStatus::Disabled,
        _ => {
            return Err(SsfError::InvalidRequest(
                "stream-updated needs status enabled, paused or disabled",
            ))
        }
    };
    let reason = match payload.get("reason") {
        None => None,
        Some(Value::String(reason)) => Some(printable(reason, 256)),
        Some(_) => return Err(SsfError::InvalidRequest("reason is not a string")),
    };
    Ok(vec![Action::StreamStatus {
        transmitter: transmitter.id.clone(),
        stream_id,
        status,
        reason,
    }])
}

/// Checks a verification event's `state` against the states this receiver asked for and has
/// not seen answered (`pending`). No `state`: the transmitter verified on its own (SSF
/// §8.1.4.1), which is fine. Compared in constant time: a state is a nonce.
pub fn check_verification_state(state: Option<&str>, pending: &[&str]) -> Result<(), SsfError> {
    let Some(state) = state else {
        return Ok(());
    };
    let mut found = subtle::Choice::from(0);
    for candidate in pending {
        found |= candidate.as_bytes().ct_eq(state.as_bytes());
    }
    if bool::from(found) {
        Ok(())
    } else {
        Err(SsfError::InvalidState)
    }
}

/// At most `max` characters of `text`, control characters replaced, for logs and entries.
fn printable(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_known_event_type_is_listed_once() {
        for (i, (base, name, _)) in KNOWN.iter().enumerate() {
            assert!(
                !KNOWN[..i].iter().any(|(b, n, _)| b == base && n == name),
                "{base}{name}"
            );
        }
    }

    #[test]
    fn credential_changes_revoke_by_change_type_and_password_or_pin_updates() {
        let case = |credential: &str, change: &str| {
            credential_change_revokes(
                json!({"credential_type": credential, "change_type": change})
                    .as_object()
                    .unwrap(),
            )
        };
        assert_eq!(case("password", "update"), Ok(true));
        assert_eq!(case("pin", "update"), Ok(true));
        assert_eq!(case("fido2-roaming", "revoke"), Ok(true));
        assert_eq!(case("ALL_FACTORS", "delete"), Ok(true));
        assert_eq!(case("fido2-platform", "update"), Ok(false));
        assert_eq!(case("password", "create"), Ok(false));
        assert!(case("password", "UPDATE").is_err());
        assert!(
            credential_change_revokes(json!({"change_type": "revoke"}).as_object().unwrap())
                .is_err()
        );
    }

    #[test]
    fn a_verification_state_must_be_pending_unless_absent() {
        assert_eq!(check_verification_state(None, &[]), Ok(()));
        assert_eq!(check_verification_state(Some("s1"), &["s0", "s1"]), Ok(()));
        assert_eq!(
            check_verification_state(Some("s1"), &[]),
            Err(SsfError::InvalidState)
        );
        assert_eq!(
            check_verification_state(Some("S1"), &["s1"]),
            Err(SsfError::InvalidState)
        );
        assert_eq!(
            check_verification_state(Some("s"), &["s1"]),
            Err(SsfError::InvalidState)
        );
        assert_eq!(
            check_verification_state(Some(""), &["s1"]),
            Err(SsfError::InvalidState)
        );
    }

    #[test]
    fn printable_caps_length_and_replaces_control_characters() {
        assert_eq!(printable("a\nb\u{7}c", 10), "a?b?c");
        assert_eq!(printable("abcdef", 3), "abc");
    }
}
