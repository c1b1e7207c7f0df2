//! The receiver with its ports: a SET from push or poll delivery, verified with the
//! transmitter's keys (inline, or through the JWKS cache), its events applied through the
//! revocation list (the same writes as a Cognito sign-out), and each transmitter's status kept
//! for `/healthz`.
//!
//! # Applying
//! Nothing is written unless every check passed and every event mapped ([`super::actions`]).
//! Then each action is applied in order: a user revocation through
//! [`Revocations::revoke_user_at`] at the event time, a session revocation through
//! [`Revocations::revoke_session`], an alias (local pools) through the pool's directory first
//! (username, email or sub; the directory has no phone-number index, so a phone number names
//! nobody and is logged). The entry records `ssf:<transmitter id>` as `by` and the event and
//! SET as `reason`. Writes only move a time forward, so a SET applied twice (a retried push, a
//! poll whose acknowledgement was lost) changes nothing the second time.
//!
//! # Failing closed
//! A SET at fault is refused ([`Failure::Refused`], 400 on push, `setErrs` on poll). Storage
//! that cannot be read or written, or keys that cannot be fetched, is [`Failure::Unavailable`]:
//! 503 on push and no acknowledgement on poll, so the transmitter delivers again and the retry
//! completes what was not written.
//!
//! # Status
//! Each transmitter's last event, last error, verification and stream status are kept under
//! [`status_key`] (best effort: a failed status write is logged, never fails the SET).
//!
//! # Verification requests (SSF §8.1.4)
//! For a transmitter configured with `verification`, the scheduled handler
//! ([`Receiver::request_verifications`]) asks for a verification event at most every
//! `interval_s` (a failed request is tried again after [`VERIFY_RETRY_S`], or the interval if
//! shorter): it draws a fresh random `state`, stores it under [`verification_key`] (with the
//! time asked, expiring after the interval) *before* sending `POST endpoint {stream_id, state}`
//! (no redirects followed, the answer capped at [`VERIFY_MAX_BYTES`]), so an answer that comes
//! back at once finds it. A verification event's `state` passes only if it is the last one asked
//! and came back within `timeout_s`; any other (an older one, a guessed one, a late one) is
//! `invalid_state`. A verification without `state` (the transmitter verifying on its own) is
//! accepted and does not answer a request. The status record says `verification`: `requested`
//! (`unanswered` once `timeout_s` has passed, computed when the status is read), `verified`,
//! `invalid_state` or `request_failed`.

use serde_json::{json, Map, Value};

use super::{
    config::{PollStream, VerificationStream, DEFAULT_VERIFY_TIMEOUT_S},
    events::check_verification_state,
    push::{self, PushRequest},
    Action, Alias, PendingAlias, SsfError, Transmitter, TransmitterKeys, Transmitters,
    UntrustedSet,
};
use crate::{
    config::{Config, Pool},
    crypto::AsyncSignatureVerifier,
    http::Response,
    jwks::{JwksCache, JwksIo},
    local::users::Directory,
    ports::{get_one, Fetcher, Outbound, Store},
    revocation::{Actor, Revocations},
};

/// Most SETs asked for in one poll request (RFC 8936 `maxEvents`).
pub const POLL_MAX_EVENTS: u64 = 25;
/// Most poll requests to one transmitter per scheduled run.
pub const POLL_MAX_ROUNDS: usize = 8;
/// Largest poll response read, in bytes.
pub const POLL_MAX_BYTES: usize = 1024 * 1024;
/// How long one poll request may take, in ms.
pub const POLL_TIMEOUT_MS: u32 = 10_000;
/// Seconds a transmitter is told to wait before retrying a push answered 503.
pub const RETRY_AFTER_S: u64 = 5;
/// Largest answer read from a verification endpoint, in bytes (its body is not used).
pub const VERIFY_MAX_BYTES: usize = 4 * 1024;
/// How long one verification request may take, in ms.
pub const VERIFY_TIMEOUT_MS: u32 = 10_000;
/// Seconds before a failed verification request is sent again (the interval, if shorter).
pub const VERIFY_RETRY_S: u64 = 300;
/// Random bytes in a verification `state` (base64url, 22 characters).
pub const STATE_BYTES: usize = 16;

/// The KV key of a transmitter's status record.
pub fn status_key(transmitter_id: &str) -> String {
    format!("ssf/v1/status/{transmitter_id}")
}

/// The KV key of the verification this receiver last asked a transmitter for: JSON
/// `{"state", "requested_ms", "failed"?}`.
pub fn verification_key(transmitter_id: &str) -> String {
    format!("ssf/v1/verify/{transmitter_id}")
}

/// The verification this receiver last asked a transmitter for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingVerification {
    /// The random `state` sent.
    pub state: String,
    /// When it was asked for, ms.
    pub requested_ms: u64,
    /// Whether the request failed (sent again sooner).
    pub failed: bool,
}

impl PendingVerification {
    /// The record as KV holds it.
    pub fn encode(&self) -> String {
        let mut value = json!({"state": self.state, "requested_ms": self.requested_ms});
        if self.failed {
            value["failed"] = Value::Bool(true);
        }
        value.to_string()
    }

    /// The record KV holds; `None` for anything else (treated as never asked).
    pub fn decode(text: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(text).ok()?;
        Some(Self {
            state: value.get("state")?.as_str()?.to_owned(),
            requested_ms: value.get("requested_ms")?.as_u64()?,
            failed: value
                .get("failed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// The state, while an answer to it is still accepted: until `timeout_s` after it was
    /// asked for.
    pub fn live_state(&self, timeout_s: u64, now_ms: u64) -> Option<&str> {
        let until = self
            .requested_ms
            .saturating_add(timeout_s.saturating_mul(1000));
        (now_ms <= until).then_some(self.state.as_str())
    }
}

/// A fresh verification `state`: [`STATE_BYTES`] random bytes, base64url. Drawn per request
/// (never at module load, where Workers forbid randomness).
pub fn new_state() -> Result<String, String> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let mut bytes = [0u8; STATE_BYTES];
    getrandom::getrandom(&mut bytes).map_err(|err| format!("no randomness: {err}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What happened to a stream's verification, for its status record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verification {
    /// A request was sent.
    Requested,
    /// A request could not be sent, or the endpoint refused it.
    RequestFailed,
    /// A verification event carried a state this receiver did not ask for (or no longer
    /// accepts).
    InvalidState,
}

impl Verification {
    fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::RequestFailed => "request_failed",
            Self::InvalidState => "invalid_state",
        }
    }
}

/// Why a SET was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The SET or the push is at fault: refused with its code, never retried with success.
    Refused(SsfError),
    /// Storage or the transmitter's keys could not be reached: nothing is acknowledged, and
    /// the transmitter's retry completes it. The text is for the log and the admin status.
    Unavailable(String),
}

impl From<SsfError> for Failure {
    fn from(error: SsfError) -> Self {
        Self::Refused(error)
    }
}

/// What one SET did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    /// The SET's `jti`.
    pub jti: String,
    /// Its event types, short names (`session-revoked`, …).
    pub events: Vec<String>,
    /// Revocation entries written (or found already covering the event).
    pub revocations: usize,
    /// A verification event: the `state` echoed (`None` when the transmitter verified on its own).
    pub verified: Option<Option<String>>,
    /// A stream-updated event: the new status and the reason given.
    pub stream_status: Option<(String, Option<String>)>,
}

/// What the receiver saw of one transmitter in one request or one scheduled poll, for its
/// status record.
#[derive(Debug, Clone, Default)]
struct Observation {
    received: Vec<Received>,
    error: Option<String>,
    polled: bool,
    verification: Option<Verification>,
}

impl Observation {
    /// Notes a refused SET: its error, and a failed verification if that is why.
    fn refused(&mut self, error: &SsfError) {
        self.error = Some(error.to_string());
        if *error == SsfError::InvalidState {
            self.verification = Some(Verification::InvalidState);
        }
    }
}

/// The receiver as one request (or one scheduled run) sees it.
pub struct Receiver<'a> {
    /// The configuration (the transmitters' pools).
    pub config: &'a Config,
    /// The transmitters.
    pub transmitters: &'a Transmitters,
    /// The revocation list, written like a Cognito sign-out.
    pub revocations: &'a Revocations<'a>,
    /// The isolate's JWKS cache (transmitters with a `jwks_uri`).
    pub key_cache: &'a JwksCache,
    /// Where fetched key sets are persisted.
    pub key_sets: &'a dyn Store,
    /// Local pools' users (aliases).
    pub users: &'a dyn Store,
    /// Status records and pending verification states.
    pub streams: &'a dyn Store,
    /// Outbound HTTP (JWKS, poll endpoints).
    pub fetcher: &'a dyn Fetcher,
    /// The signature backend.
    pub verifier: &'a dyn AsyncSignatureVerifier,
    /// The clock, ms: the time of receipt.
    pub now_ms: u64,
    /// The request id, recorded in every entry written.
    pub request_id: &'a str,
    /// Where diagnostics go.
    pub log: &'a dyn Fn(&str),
}

impl Receiver<'_> {
    /// Answers a push (RFC 8935) to `transmitter_id`: 202 with an empty body, 400 (405, 404,
    /// 413) with `{"err","description"}`, or 503 when storage or keys are unavailable.
    pub async fn push(&self, transmitter_id: &str, request: &PushRequest<'_>) -> Response {
        let admitted = match push::admit(self.transmitters, transmitter_id, request) {
            Ok(admitted) => admitted,
            Err(error) => {
                (self.log)(&format!("ssf push refused before the SET: {error}"));
                // Only a transmitter that authenticated may change its status record.
                if matches!(error, SsfError::InvalidRequest(_)) {
                    if let Some(transmitter) = self.transmitters.by_id(transmitter_id) {
                        let seen = Observation {
                            error: Some(error.to_string()),
                            ..Observation::default()
                        };
                        self.record(transmitter, &seen).await;
                    }
                }
                return push::rejected(&error);
            }
        };
        let transmitter = admitted.transmitter;
        let outcome = self.receive(transmitter, admitted.token).await;
        let mut seen = Observation::default();
        let response = match outcome {
            Ok(received) => {
                seen.received.push(received);
                push::accepted()
            }
            Err(Failure::Refused(error)) => {
                (self.log)(&format!(
                    "ssf push from {} refused: {error}",
                    transmitter.id
                ));
                seen.refused(&error);
                push::rejected(&error)
            }
            Err(Failure::Unavailable(why)) => {
                (self.log)(&format!(
                    "ssf push from {} not applied, answered 503 for a retry: {why}",
                    transmitter.id
                ));
                seen.error = Some(format!("not applied, retry requested: {why}"));
                unavailable()
            }
        };
        self.record(transmitter, &seen).await;
        response
    }

    /// Verifies one SET from `transmitter` and applies its events.
    pub async fn receive(
        &self,
        transmitter: &Transmitter,
        token: &str,
    ) -> Result<Received, Failure> {
        let set = UntrustedSet::parse(token, transmitter)?;
        let keys = match &transmitter.keys {
            TransmitterKeys::Inline(keys) => keys.clone(),
            TransmitterKeys::Remote(uri) => {
                let io = JwksIo {
                    store: self.key_sets,
                    fetcher: self.fetcher,
                    now_ms: self.now_ms,
                    log: self.log,
                };
                self.key_cache
                    .keys(uri, set.kid(), transmitter.algorithms, &io)
                    .await
                    .map_err(|err| {
                        Failure::Unavailable(format!(
                            "keys of transmitter {}: {err}",
                            transmitter.id
                        ))
                    })?
            }
        };
        let signed = set
            .verify_signature(&keys, transmitter, self.verifier)
            .await?;
        let verified = signed.check_claims(transmitter, self.now_ms)?;
        let pool = self.pool(&transmitter.pool)?;
        let actions = super::actions(&verified, transmitter, pool, self.now_ms)?;
        let mut received = Received {
            jti: verified.jti().to_owned(),
            events: verified
                .events()
                .iter()
                .map(|(uri, _)| short_event(uri))
                .collect(),
            ..Received::default()
        };
        if actions
            .iter()
            .any(|a| matches!(a, Action::Verification { state: Some(_), .. }))
        {
            let pending = self.pending_states(transmitter).await?;
            let pending: Vec<&str> = pending.iter().map(String::as_str).collect();
            for action in &actions {
                if let Action::Verification { state, .. } = action {
                    check_verification_state(state.as_deref(), &pending)?;
                }
            }
        }
        for action in actions {
            self.apply(action, &mut received).await?;
        }
        Ok(received)
    }

    fn pool(&self, id: &str) -> Result<&Pool, Failure> {
        // The configuration refuses a transmitter whose pool is not configured.
        self.config
            .pool(id)
            .ok_or_else(|| Failure::Unavailable(format!("pool {id} is not configured")))
    }

    async fn apply(&self, action: Action, received: &mut Received) -> Result<(), Failure> {
        match action {
            Action::RevokeUser {
                pool,
                user_id,
                at_ms,
                by,
                reason,
            } => {
                self.revoke_user(&pool, &user_id, at_ms, &by, &reason)
                    .await?;
                received.revocations += 1;
            }
            Action::RevokeSession {
                pool,
                origin_jti,
                by,
                reason,
                ..
            } => {
                let pool = self.pool(&pool)?;
                let actor = Actor {
                    by: &by,
                    reason: &reason,
                    request_id: self.request_id,
                };
                self.revocations
                    .revoke_session(pool, &origin_jti, &actor)
                    .await
                    .map_err(|err| Failure::Unavailable(err.to_string()))?;
                received.revocations += 1;
            }
            Action::ResolveAlias(pending) => {
                if self.resolve(pending, received).await? == 0 {
                    (self.log)(
                        "ssf: no alias of the subject names a user of the pool; nothing revoked",
                    );
                }
            }
            Action::Verification { state, .. } => received.verified = Some(state),
            Action::StreamStatus { status, reason, .. } => {
                received.stream_status = Some((status.as_str().to_owned(), reason));
            }
            Action::Ignore { why } => (self.log)(&format!("ssf: ignored: {why}")),
        }
        Ok(())
    }

    async fn revoke_user(
        &self,
        pool_id: &str,
        user_id: &str,
        at_ms: u64,
        by: &str,
        reason: &str,
    ) -> Result<(), Failure> {
        let pool = self.pool(pool_id)?;
        let actor = Actor {
            by,
            reason,
            request_id: self.request_id,
        };
        self.revocations
            .revoke_user_at(pool, &pool.user_id(user_id), &actor, at_ms)
            .await
            .map_err(|err| Failure::Unavailable(err.to_string()))?;
        Ok(())
    }

    /// Finds the user an alias names in the pool's directory (the first alias found wins) and
    /// revokes them; answers how many users were revoked (0 or 1).
    async fn resolve(
        &self,
        pending: PendingAlias,
        received: &mut Received,
    ) -> Result<usize, Failure> {
        let pool = self.pool(&pending.pool)?;
        let directory = Directory::new(pool, self.users, self.now_ms);
        let mut found = None;
        for alias in &pending.aliases {
            let name = match alias {
                Alias::Email(name) | Alias::Name(name) => name,
                Alias::Phone(_) => {
                    (self.log)(
                        "ssf: a phone-number subject cannot be resolved: the user directory has no phone-number index",
                    );
                    continue;
                }
            };
            let user = directory
                .find(name)
                .await
                .map_err(|err| Failure::Unavailable(err.to_string()))?;
            if let Some(user) = user {
                found = Some(user.sub);
                break;
            }
        }
        let Some(sub) = found else {
            return Ok(0);
        };
        if let Action::RevokeUser {
            pool,
            user_id,
            at_ms,
            by,
            reason,
        } = pending.resolved(&sub)
        {
            self.revoke_user(&pool, &user_id, at_ms, &by, &reason)
                .await?;
            received.revocations += 1;
        }
        Ok(1)
    }

    /// The verification states this receiver accepts from `transmitter` now: the last one it
    /// asked for, while its answer is not late.
    async fn pending_states(&self, transmitter: &Transmitter) -> Result<Vec<String>, Failure> {
        let timeout_s = transmitter
            .verification
            .as_ref()
            .map_or(DEFAULT_VERIFY_TIMEOUT_S, |v| v.timeout_s);
        Ok(self
            .pending_verification(transmitter)
            .await
            .map_err(Failure::Unavailable)?
            .and_then(|pending| {
                pending
                    .live_state(timeout_s, self.now_ms)
                    .map(str::to_owned)
            })
            .into_iter()
            .collect())
    }

    async fn pending_verification(
        &self,
        transmitter: &Transmitter,
    ) -> Result<Option<PendingVerification>, String> {
        let text = get_one(self.streams, &verification_key(&transmitter.id), None)
            .await
            .map_err(|err| err.to_string())?;
        Ok(text.and_then(|text| PendingVerification::decode(&text)))
    }

    /// Asks every transmitter configured with `verification` whose request is due for a
    /// verification event (SSF §8.1.4.2). Answers one line per request sent or failed, for the
    /// log (a transmitter whose request is not due says nothing).
    pub async fn request_verifications(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for transmitter in self.transmitters.iter() {
            if let (Some(stream), Some(stream_id)) =
                (&transmitter.verification, &transmitter.stream_id)
            {
                if let Some(line) = self
                    .request_verification(transmitter, stream, stream_id)
                    .await
                {
                    (self.log)(&line);
                    lines.push(line);
                }
            }
        }
        lines
    }

    async fn request_verification(
        &self,
        transmitter: &Transmitter,
        stream: &VerificationStream,
        stream_id: &str,
    ) -> Option<String> {
        let id = &transmitter.id;
        let last = match self.pending_verification(transmitter).await {
            Ok(last) => last,
            Err(why) => return Some(format!("ssf verification of {id}: not requested: {why}")),
        };
        if let Some(last) = last {
            let wait_s = if last.failed {
                VERIFY_RETRY_S.min(stream.interval_s)
            } else {
                stream.interval_s
            };
            let due_ms = last
                .requested_ms
                .saturating_add(wait_s.saturating_mul(1000));
            if self.now_ms < due_ms {
                return None;
            }
        }
        let mut seen = Observation::default();
        let outcome = self.send_verification(transmitter, stream, stream_id).await;
        let line = match outcome {
            Ok(()) => {
                seen.verification = Some(Verification::Requested);
                format!("ssf verification of {id}: requested")
            }
            Err(why) => {
                seen.verification = Some(Verification::RequestFailed);
                seen.error = Some(format!("verification request failed: {why}"));
                format!("ssf verification of {id}: request failed: {why}")
            }
        };
        self.record(transmitter, &seen).await;
        Some(line)
    }

    /// Stores a fresh state, then sends it; on a failed send the state is marked failed (so the
    /// request is tried again sooner) but still accepted if the transmitter answers it.
    async fn send_verification(
        &self,
        transmitter: &Transmitter,
        stream: &VerificationStream,
        stream_id: &str,
    ) -> Result<(), String> {
        let key = verification_key(&transmitter.id);
        let mut pending = PendingVerification {
            state: new_state()?,
            requested_ms: self.now_ms,
            failed: false,
        };
        // Stored first: the transmitter may send the event before its answer reaches us.
        self.streams
            .put(&key, &pending.encode(), Some(stream.interval_s))
            .await
            .map_err(|err| format!("the state could not be stored: {err}"))?;
        let request = Outbound {
            url: stream.endpoint.clone(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("accept".into(), "application/json".into()),
                ("authorization".into(), stream.authorization.clone()),
            ],
            body: json!({"stream_id": stream_id, "state": pending.state})
                .to_string()
                .into_bytes(),
        };
        let sent = match self
            .fetcher
            .post(&request, VERIFY_MAX_BYTES, VERIFY_TIMEOUT_MS)
            .await
        {
            Ok(answer) if (200..300).contains(&answer.status) => Ok(()),
            Ok(answer) => Err(format!(
                "the verification endpoint answered {}",
                answer.status
            )),
            Err(why) => Err(why),
        };
        if sent.is_err() {
            pending.failed = true;
            if let Err(err) = self
                .streams
                .put(&key, &pending.encode(), Some(stream.interval_s))
                .await
            {
                (self.log)(&format!(
                    "ssf verification of {}: failure not stored: {err}",
                    transmitter.id
                ));
            }
        }
        sent
    }

    /// Polls every transmitter with a poll stream (RFC 8936), applying what each delivers and
    /// acknowledging only what was applied. Answers one line per transmitter, for the log.
    pub async fn poll_all(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for transmitter in self.transmitters.iter() {
            if let Some(stream) = &transmitter.poll {
                let line = self.poll(transmitter, stream).await;
                (self.log)(&line);
                lines.push(line);
            }
        }
        lines
    }

    async fn poll(&self, transmitter: &Transmitter, stream: &PollStream) -> String {
        let mut seen = Observation {
            polled: true,
            ..Observation::default()
        };
        let mut ack: Vec<String> = Vec::new();
        let mut errs = Map::new();
        let (mut applied, mut refused, mut acknowledged) = (0usize, 0usize, 0usize);
        for _ in 0..POLL_MAX_ROUNDS {
            // Each request acknowledges what the previous answer delivered and was applied.
            let answer = match self
                .poll_request(stream, POLL_MAX_EVENTS, &ack, &errs)
                .await
            {
                Ok(answer) => answer,
                Err(why) => {
                    // Whatever this request acknowledged is delivered again and re-applied,
                    // which changes nothing.
                    seen.error = Some(format!("poll failed: {why}"));
                    ack.clear();
                    errs.clear();
                    break;
                }
            };
            acknowledged += ack.len();
            ack.clear();
            errs.clear();
            let mut stop = !answer.more;
            for (jti, token) in answer.sets {
                match self.receive(transmitter, &token).await {
                    Ok(received) => {
                        applied += 1;
                        seen.received.push(received);
                        ack.push(jti);
                    }
                    Err(Failure::Refused(error)) => {
                        refused += 1;
                        seen.refused(&error);
                        errs.insert(
                            jti,
                            json!({"err": error.code(), "description": error.description()}),
                        );
                    }
                    Err(Failure::Unavailable(why)) => {
                        // Not acknowledged: the transmitter delivers it again next time.
                        seen.error = Some(format!("not applied, left for the next poll: {why}"));
                        stop = true;
                        break;
                    }
                }
            }
            if stop {
                break;
            }
        }
        if !ack.is_empty() || !errs.is_empty() {
            match self.poll_request(stream, 0, &ack, &errs).await {
                Ok(_) => acknowledged += ack.len(),
                Err(why) => seen.error = Some(format!("acknowledging failed: {why}")),
            }
        }
        self.record(transmitter, &seen).await;
        format!(
            "ssf poll of {}: {applied} applied, {refused} refused, {acknowledged} acknowledged{}",
            transmitter.id,
            seen.error
                .as_deref()
                .map(|e| format!("; {e}"))
                .unwrap_or_default()
        )
    }

    async fn poll_request(
        &self,
        stream: &PollStream,
        max_events: u64,
        ack: &[String],
        errs: &Map<String, Value>,
    ) -> Result<PollAnswer, String> {
        let mut body = json!({"maxEvents": max_events, "returnImmediately": true, "ack": ack});
        if !errs.is_empty() {
            body["setErrs"] = Value::Object(errs.clone());
        }
        let request = Outbound {
            url: stream.endpoint.clone(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("accept".into(), "application/json".into()),
                ("authorization".into(), stream.authorization.clone()),
            ],
            body: body.to_string().into_bytes(),
        };
        let inbound = self
            .fetcher
            .post(&request, POLL_MAX_BYTES, POLL_TIMEOUT_MS)
            .await?;
        if inbound.status != 200 {
            return Err(format!("the poll endpoint answered {}", inbound.status));
        }
        PollAnswer::parse(&inbound.body)
    }

    /// Updates `transmitter`'s status record with what was seen (best effort).
    async fn record(&self, transmitter: &Transmitter, seen: &Observation) {
        let key = status_key(&transmitter.id);
        let mut record = match get_one(self.streams, &key, None).await {
            Ok(text) => text
                .and_then(|t| serde_json::from_str::<Map<String, Value>>(&t).ok())
                .unwrap_or_default(),
            Err(err) => {
                (self.log)(&format!("ssf status of {} not read: {err}", transmitter.id));
                return;
            }
        };
        let now = Value::from(self.now_ms);
        for received in &seen.received {
            record.insert("last_event_ms".into(), now.clone());
            record.insert("last_event".into(), Value::from(received.events.join(" ")));
            record.insert("last_jti".into(), Value::from(received.jti.clone()));
            if let Some(state) = &received.verified {
                record.insert("verified_ms".into(), now.clone());
                record.insert("verified_state".into(), json!(state));
                // Only an echoed state answers a request; one the transmitter sent on its own
                // says the stream works when nothing was asked.
                if state.is_some() || !record.contains_key("verification") {
                    record.insert("verification".into(), Value::from("verified"));
                }
                if state.is_some() {
                    record.insert("verification_answered_ms".into(), now.clone());
                }
            }
            if let Some((status, reason)) = &received.stream_status {
                record.insert("stream_status".into(), Value::from(status.clone()));
                record.insert("stream_status_reason".into(), json!(reason));
                record.insert("stream_status_ms".into(), now.clone());
            }
        }
        if let Some(error) = &seen.error {
            record.insert("last_error_ms".into(), now.clone());
            record.insert("last_error".into(), Value::from(error.clone()));
        }
        if seen.polled {
            record.insert("last_poll_ms".into(), now.clone());
        }
        match seen.verification {
            Some(Verification::Requested) => {
                record.insert("verification_requested_ms".into(), now.clone());
                // An answer may already be in (the transmitter sent it while we waited for its
                // endpoint's reply): it is later than this run's clock and stands.
                let answered = record
                    .get("verification_answered_ms")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                if answered < self.now_ms {
                    record.insert("verification".into(), Value::from("requested"));
                }
            }
            Some(other) => {
                record.insert("verification".into(), Value::from(other.as_str()));
            }
            None => {}
        }
        if let Err(err) = self
            .streams
            .put(&key, &Value::Object(record).to_string(), None)
            .await
        {
            (self.log)(&format!(
                "ssf status of {} not written: {err}",
                transmitter.id
            ));
        }
    }

    /// Every transmitter's status record, in configuration order: `{id, delivery, …record}`.
    pub async fn statuses(&self) -> Result<Vec<Value>, crate::error::StoreError> {
        let keys: Vec<String> = self
            .transmitters
            .iter()
            .map(|t| status_key(&t.id))
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let found = self.streams.get_many(&keys, None).await?;
        Ok(self
            .transmitters
            .iter()
            .zip(found)
            .map(|(transmitter, text)| {
                let mut status = text
                    .and_then(|t| serde_json::from_str::<Map<String, Value>>(&t).ok())
                    .unwrap_or_default();
                let delivery = match (
                    transmitter.push_secret().is_some(),
                    transmitter.poll.is_some(),
                ) {
                    (true, true) => "push, poll",
                    (false, true) => "poll",
                    _ => "push",
                };
                // A request nobody answered within the timeout is shown as such when read.
                if let Some(stream) = &transmitter.verification {
                    let asked = status
                        .get("verification_requested_ms")
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    let late =
                        self.now_ms > asked.saturating_add(stream.timeout_s.saturating_mul(1000));
                    if status.get("verification").and_then(Value::as_str) == Some("requested")
                        && late
                    {
                        status.insert("verification".into(), Value::from("unanswered"));
                    }
                }
                status.insert("id".into(), Value::from(transmitter.id.clone()));
                status.insert("delivery".into(), Value::from(delivery));
                Value::Object(status)
            })
            .collect())
    }
}

/// 503 with `Retry-After`: the SET was not applied; the transmitter's retry completes it.
pub fn unavailable() -> Response {
    Response::json(
        503,
        &json!({"err": "temporarily_unavailable",
                "description": "the receiver could not store the events; retry later"}),
    )
    .with_header("content-language", "en")
    .with_header("retry-after", RETRY_AFTER_S.to_string())
}

/// An event type's last path segment (`session-revoked`), for the status record.
fn short_event(uri: &str) -> String {
    let name = uri.rsplit('/').next().unwrap_or(uri);
    name.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A poll response (RFC 8936 §2.3): `sets` (`jti` → SET) and `moreAvailable`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollAnswer {
    /// The SETs delivered, by `jti`, in the order the transmitter listed them.
    pub sets: Vec<(String, String)>,
    /// Whether more are waiting.
    pub more: bool,
}

impl PollAnswer {
    /// Parses a poll response body; anything but an object whose `sets` is an object of strings
    /// is an error (and nothing is acknowledged).
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| "the poll response is not JSON".to_owned())?;
        let object = value
            .as_object()
            .ok_or_else(|| "the poll response is not a JSON object".to_owned())?;
        let sets = match object.get("sets") {
            None => Vec::new(),
            Some(Value::Object(sets)) => {
                let mut out = Vec::with_capacity(sets.len());
                for (jti, set) in sets {
                    let set = set
                        .as_str()
                        .ok_or_else(|| "a SET in the poll response is not a string".to_owned())?;
                    out.push((jti.clone(), set.to_owned()));
                }
                out
            }
            Some(_) => return Err("the poll response's sets is not an object".to_owned()),
        };
        let more = match object.get("moreAvailable") {
            None => false,
            Some(Value::Bool(more)) => *more,
            Some(_) => return Err("the poll response's moreAvailable is not a boolean".to_owned()),
        };
        Ok(Self { sets, more })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_answer_lists_its_sets_and_whether_more_wait() {
        let answer = PollAnswer::parse(
            br#"{"sets": {"j1": "a.b.c", "j2": "d.e.f"}, "moreAvailable": true}"#,
        )
        .unwrap();
        assert_eq!(answer.sets.len(), 2);
        assert!(answer.more);
        let empty = PollAnswer::parse(br#"{"sets": {}}"#).unwrap();
        assert!(empty.sets.is_empty() && !empty.more);
    }

    #[test]
    fn a_malformed_poll_answer_is_an_error_and_acknowledges_nothing() {
        for body in [
            &b"not json"[..],
            br#"[]"#,
            br#"{"sets": []}"#,
            br#"{"sets": {"j1": 7}}"#,
            br#"{"sets": {}, "moreAvailable": "yes"}"#,
        ] {
            assert!(
                PollAnswer::parse(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn event_names_in_the_status_are_short_and_printable() {
        assert_eq!(
            short_event("https://schemas.openid.net/secevent/caep/event-type/session-revoked"),
            "session-revoked"
        );
        assert_eq!(short_event("x\ny"), "x?y");
    }

    #[test]
    fn a_pending_verification_round_trips_and_its_state_is_accepted_only_until_the_timeout() {
        let pending = PendingVerification {
            state: "s-1".into(),
            requested_ms: 10_000,
            failed: false,
        };
        assert_eq!(
            PendingVerification::decode(&pending.encode()),
            Some(pending.clone())
        );
        let failed = PendingVerification {
            failed: true,
            ..pending.clone()
        };
        assert_eq!(PendingVerification::decode(&failed.encode()), Some(failed));
        assert_eq!(pending.live_state(5, 15_000), Some("s-1"));
        assert_eq!(
            pending.live_state(5, 15_001),
            None,
            "a late answer is refused"
        );
        for text in [
            "[\"s-1\"]",
            "{\"state\": 7, \"requested_ms\": 1}",
            "{\"state\": \"s\"}",
            "x",
        ] {
            assert_eq!(PendingVerification::decode(text), None, "{text}");
        }
    }

    #[test]
    fn each_verification_state_is_fresh_and_url_safe() {
        let a = new_state().unwrap();
        let b = new_state().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
