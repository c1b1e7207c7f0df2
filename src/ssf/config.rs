//! `SSF_TRANSMITTERS`: the Shared Signals transmitters whose events become revocations.
//!
//! A JSON array (string or structured value, like `POOLS`) of
//! `{id, issuer, jwks | jwks_uri, algorithms?, audience, push_secret, pool, stream_id?, poll?}`:
//! - `id`: the push path `/ssf/events/<id>`; letters, digits, `-` and `_`, at most 64.
//! - `issuer`: the exact `iss` of its SETs (https; http only for loopback).
//! - `jwks` (inline key set) or `jwks_uri`: its signing keys, each bound to an algorithm.
//! - `algorithms`: allowed signing algorithms, default `["RS256"]`. HS256 is refused: a SET is
//!   signed with the transmitter's published keys (SSF §4.1.4), never a shared secret.
//! - `audience`: the `aud` its SETs must contain.
//! - `push_secret`: the bearer value it presents on the push endpoint (at least 32 characters
//!   of RFC 6750's `b64token`); required unless the stream is poll-only (`poll` given).
//! - `pool`: the id of the configured pool whose users its subjects name.
//! - `stream_id` (optional): the stream id; verification and stream-updated events naming
//!   another stream are refused.
//! - `poll` (optional, RFC 8936): `{endpoint, authorization}` — the transmitter's poll URL and
//!   the exact `Authorization` value to send there, for the scheduled poller.
//! - `verification` (optional, SSF §8.1.4): `{endpoint, authorization, interval_s?, timeout_s?}`
//!   — the transmitter's verification endpoint and the `Authorization` value to send there; the
//!   scheduled handler asks for a verification event at most every `interval_s` (default
//!   [`DEFAULT_VERIFY_INTERVAL_S`]) and shows the stream as unverified when none with the state
//!   asked for came back within `timeout_s` (default [`DEFAULT_VERIFY_TIMEOUT_S`]). Needs
//!   `stream_id`: the request names the stream.
//!
//! Unknown fields are errors, as everywhere in the configuration.

use std::rc::Rc;

use serde_json::{Map, Value};

use crate::{
    config::{json_setting, parse_url, Config, Fields},
    error::ConfigError,
    jwk::{Alg, AlgSet, BadKeys, KeySet},
};

/// The setting's name.
pub const SETTING: &str = "SSF_TRANSMITTERS";
/// Shortest push secret accepted, in characters.
pub const MIN_PUSH_SECRET_CHARS: usize = 32;
/// Longest transmitter id, in characters.
pub const MAX_ID_CHARS: usize = 64;
/// How often a verification is requested by default, in seconds.
pub const DEFAULT_VERIFY_INTERVAL_S: u64 = 3_600;
/// The shortest `verification.interval_s`: the Cron Trigger runs once a minute, and KV keeps a
/// value at least this long.
pub const MIN_VERIFY_INTERVAL_S: u64 = 60;
/// The longest `verification.interval_s` (a week).
pub const MAX_VERIFY_INTERVAL_S: u64 = 604_800;
/// How long the verification event may take to come back by default, in seconds.
pub const DEFAULT_VERIFY_TIMEOUT_S: u64 = 300;

/// Where a transmitter's verification keys come from.
#[derive(Debug, Clone)]
pub enum TransmitterKeys {
    /// An inline JWKS from the configuration.
    Inline(Rc<KeySet>),
    /// A JWKS fetched from this URL (cached like a pool's).
    Remote(String),
}

/// A poll stream (RFC 8936): where the poller asks for SETs, and how it authenticates there.
#[derive(Clone)]
pub struct PollStream {
    /// The transmitter's poll endpoint.
    pub endpoint: String,
    /// The exact `Authorization` header value to send.
    pub authorization: String,
}

impl core::fmt::Debug for PollStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PollStream")
            .field("endpoint", &self.endpoint)
            .field("authorization", &"<redacted>")
            .finish()
    }
}

/// Verification requests (SSF §8.1.4.2): where the receiver asks the transmitter to send a
/// verification event, and how often.
#[derive(Clone)]
pub struct VerificationStream {
    /// The transmitter's verification endpoint.
    pub endpoint: String,
    /// The exact `Authorization` header value to send.
    pub authorization: String,
    /// Seconds between two requests, at least.
    pub interval_s: u64,
    /// Seconds the verification event has to come back with the state asked for.
    pub timeout_s: u64,
}

impl core::fmt::Debug for VerificationStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerificationStream")
            .field("endpoint", &self.endpoint)
            .field("authorization", &"<redacted>")
            .field("interval_s", &self.interval_s)
            .field("timeout_s", &self.timeout_s)
            .finish()
    }
}

/// One configured transmitter.
#[derive(Clone)]
pub struct Transmitter {
    /// Its id, the last segment of its push path.
    pub id: String,
    /// The exact `iss` of its SETs.
    pub issuer: String,
    /// Its signing keys.
    pub keys: TransmitterKeys,
    /// Algorithms allowed (each key is bound to one of them).
    pub algorithms: AlgSet,
    /// The `aud` its SETs must contain.
    pub audience: String,
    /// The pool whose users its subjects name (a configured pool's id).
    pub pool: String,
    /// The stream id, when known.
    pub stream_id: Option<String>,
    /// The poll stream, for transmitters that deliver by polling.
    pub poll: Option<PollStream>,
    /// Verification requests, for transmitters that offer a verification endpoint.
    pub verification: Option<VerificationStream>,
    push_secret: Option<String>,
}

impl core::fmt::Debug for Transmitter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Transmitter")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("keys", &self.keys)
            .field("audience", &self.audience)
            .field("pool", &self.pool)
            .field("stream_id", &self.stream_id)
            .field("poll", &self.poll)
            .field("verification", &self.verification)
            .field(
                "push_secret",
                &self.push_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Transmitter {
    /// The bearer secret this transmitter presents on the push endpoint; `None` for a
    /// poll-only stream, which no push can authenticate to.
    pub(crate) fn push_secret(&self) -> Option<&str> {
        self.push_secret.as_deref()
    }
}

/// Every configured transmitter.
#[derive(Debug, Clone, Default)]
pub struct Transmitters {
    list: Vec<Transmitter>,
}

impl Transmitters {
    /// Parses `SSF_TRANSMITTERS` from the settings; `config` holds the pools it refers to.
    /// Absent: no transmitters.
    pub fn from_env(vars: &Map<String, Value>, config: &Config) -> Result<Self, ConfigError> {
        let Some(value) = json_setting(vars, SETTING)? else {
            return Ok(Self::default());
        };
        Self::parse(&value, config)
    }

    /// Parses the setting's JSON value.
    pub fn parse(value: &Value, config: &Config) -> Result<Self, ConfigError> {
        let items = value
            .as_array()
            .ok_or_else(|| ConfigError::new(SETTING, "must be a JSON array"))?;
        let mut list: Vec<Transmitter> = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let path = format!("{SETTING}[{index}]");
            let transmitter = parse_transmitter(&path, item, config)?;
            if list.iter().any(|t| t.id == transmitter.id) {
                return Err(ConfigError::new(
                    format!("{path}.id"),
                    "two transmitters share this id",
                ));
            }
            list.push(transmitter);
        }
        Ok(Self { list })
    }

    /// The transmitter with this id.
    pub fn by_id(&self, id: &str) -> Option<&Transmitter> {
        self.list.iter().find(|t| t.id == id)
    }

    /// Every transmitter, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Transmitter> {
        self.list.iter()
    }

    /// Whether none is configured.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

fn is_id(id: &str) -> bool {
    (1..=MAX_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(secret: &str) -> bool {
    let body = secret.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

fn parse_transmitter(
    path: &str,
    value: &Value,
    config: &Config,
) -> Result<Transmitter, ConfigError> {
    let mut f = Fields::new(path, value)?;
    let id = f.required_string("id")?;
    if !is_id(id) {
        return Err(f.error(
            "id",
            format!("must be 1 to {MAX_ID_CHARS} letters, digits, - or _ (it is the push path /ssf/events/<id>)"),
        ));
    }
    let issuer = parse_url(&f.field("issuer"), f.required_string("issuer")?)?.to_owned();

    let mut algorithms = AlgSet::empty();
    match f.strings("algorithms")? {
        None => algorithms.insert(Alg::Rs256),
        Some(names) => {
            for name in names {
                let alg = Alg::from_name(name)
                    .filter(|alg| *alg != Alg::Hs256)
                    .ok_or_else(|| {
                        f.error(
                            "algorithms",
                            format!(
                                "`{}` is not supported for SETs; use {}",
                                name.chars().take(16).collect::<String>(),
                                Alg::ALL
                                    .iter()
                                    .filter(|alg| **alg != Alg::Hs256)
                                    .map(|alg| alg.name())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })?;
                algorithms.insert(alg);
            }
        }
    }
    if algorithms.is_empty() {
        return Err(f.error("algorithms", "must name at least one algorithm"));
    }

    let inline = f.get("jwks");
    let uri = f.string("jwks_uri")?;
    let keys = match (inline, uri) {
        (Some(_), Some(_)) => return Err(f.error("jwks", "give jwks or jwks_uri, not both")),
        (Some(set), None) => {
            let keys = KeySet::parse(set, algorithms, BadKeys::Refuse, &mut Vec::new())
                .map_err(|err| f.error("jwks", err.to_string()))?;
            TransmitterKeys::Inline(Rc::new(keys))
        }
        (None, Some(uri)) => {
            TransmitterKeys::Remote(parse_url(&f.field("jwks_uri"), uri)?.to_owned())
        }
        (None, None) => {
            return Err(f.error(
                "jwks_uri",
                "missing: give the transmitter's jwks_uri (from its /.well-known/ssf-configuration) or an inline jwks",
            ))
        }
    };

    let audience = f.required_string("audience")?;
    if audience.is_empty() {
        return Err(f.error("audience", "must not be empty"));
    }

    let pool = f.required_string("pool")?;
    if config.pool(pool).is_none() {
        return Err(f.error("pool", "names no pool in POOLS"));
    }

    let stream_id = f.string("stream_id")?;
    if stream_id.is_some_and(str::is_empty) {
        return Err(f.error("stream_id", "must not be empty"));
    }

    let poll = match f.get("poll") {
        None => None,
        Some(poll) => Some(parse_poll(&f.field("poll"), poll)?),
    };

    let verification = match f.get("verification") {
        None => None,
        Some(verification) => {
            if stream_id.is_none() {
                return Err(f.error(
                    "stream_id",
                    "missing: verification requests name the stream (SSF §8.1.4.2)",
                ));
            }
            Some(parse_verification(&f.field("verification"), verification)?)
        }
    };

    let push_secret = f.string("push_secret")?;
    match push_secret {
        Some(secret) if secret.chars().count() < MIN_PUSH_SECRET_CHARS || !is_b64token(secret) => {
            return Err(f.error(
                "push_secret",
                format!("must be at least {MIN_PUSH_SECRET_CHARS} characters of A-Z a-z 0-9 - . _ ~ + / (then = only at the end)"),
            ))
        }
        None if poll.is_none() => {
            return Err(f.error(
                "push_secret",
                "missing: the bearer value the transmitter sends on its push endpoint (or configure poll)",
            ))
        }
        _ => {}
    }
    f.finish()?;
    Ok(Transmitter {
        id: id.to_owned(),
        issuer,
        keys,
        algorithms,
        audience: audience.to_owned(),
        pool: pool.to_owned(),
        stream_id: stream_id.map(str::to_owned),
        poll,
        verification,
        push_secret: push_secret.map(str::to_owned),
    })
}

/// The `authorization` member of `poll` and `verification`: a header value, sent as given.
fn authorization<'a>(f: &mut Fields<'a>) -> Result<&'a str, ConfigError> {
    let authorization = f.required_string("authorization")?;
    if authorization.is_empty() || authorization.chars().any(char::is_control) {
        return Err(f.error(
            "authorization",
            "must be the Authorization header value to send, e.g. \"Bearer …\"",
        ));
    }
    Ok(authorization)
}

fn parse_verification(path: &str, value: &Value) -> Result<VerificationStream, ConfigError> {
    let mut f = Fields::new(path, value)?;
    let endpoint = parse_url(&f.field("endpoint"), f.required_string("endpoint")?)?.to_owned();
    let authorization = authorization(&mut f)?.to_owned();
    let interval_s = f.int(
        "interval_s",
        DEFAULT_VERIFY_INTERVAL_S,
        MIN_VERIFY_INTERVAL_S,
        MAX_VERIFY_INTERVAL_S,
    )?;
    let timeout_s = f.int(
        "timeout_s",
        DEFAULT_VERIFY_TIMEOUT_S.min(interval_s),
        1,
        interval_s,
    )?;
    f.finish()?;
    Ok(VerificationStream {
        endpoint,
        authorization,
        interval_s,
        timeout_s,
    })
}

fn parse_poll(path: &str, value: &Value) -> Result<PollStream, ConfigError> {
    let mut f = Fields::new(path, value)?;
    let endpoint = parse_url(&f.field("endpoint"), f.required_string("endpoint")?)?.to_owned();
    let authorization = authorization(&mut f)?;
    f.finish()?;
    Ok(PollStream {
        endpoint,
        authorization: authorization.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "test-push-secret-0123456789abcdef";

    fn config() -> Config {
        let vars = json!({"POOLS": [{"id": "us-east-1_AbC123", "allow_any_client": true,
            "jwks": {"keys": [{"kty": "oct", "kid": "k", "alg": "HS256",
                               "k": "ZXh0ZXJuYWwtcG9vbC1oczI1Ni1rZXktMzItYnl0ZXM"}]},
            "algorithms": ["HS256"]}]});
        Config::from_env(vars.as_object().unwrap()).unwrap()
    }

    fn transmitter() -> Value {
        json!({"id": "tx1", "issuer": "https://ssf.transmitter.example",
               "jwks_uri": "https://ssf.transmitter.example/jwks", "audience": "https://edge.example.com/ssf",
               "push_secret": SECRET, "pool": "us-east-1_AbC123"})
    }

    fn parse(list: Value) -> Result<Transmitters, ConfigError> {
        Transmitters::parse(&list, &config())
    }

    fn with(field: &str, value: Value) -> Value {
        let mut t = transmitter();
        t[field] = value;
        t
    }

    #[test]
    fn a_transmitter_with_the_documented_fields_parses_with_rs256_by_default() {
        let parsed = parse(json!([transmitter()])).unwrap();
        let t = parsed.by_id("tx1").unwrap();
        assert_eq!(t.issuer, "https://ssf.transmitter.example");
        assert!(t.algorithms.contains(Alg::Rs256));
        assert!(!t.algorithms.contains(Alg::Es256));
        assert!(matches!(&t.keys, TransmitterKeys::Remote(uri) if uri.ends_with("/jwks")));
        assert_eq!(t.push_secret(), Some(SECRET));
        assert!(parsed.by_id("tx2").is_none());
    }

    #[test]
    fn the_setting_is_read_as_a_json_string_or_a_structured_value() {
        let list = json!([transmitter()]);
        for value in [Value::String(list.to_string()), list.clone()] {
            let mut vars = Map::new();
            vars.insert(SETTING.into(), value);
            let parsed = Transmitters::from_env(&vars, &config()).unwrap();
            assert_eq!(parsed.iter().count(), 1);
        }
        assert!(Transmitters::from_env(&Map::new(), &config())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn an_unknown_field_is_an_error_naming_it() {
        let err = parse(json!([with("isuer", json!("x"))])).unwrap_err();
        assert_eq!(err.field, "SSF_TRANSMITTERS[0].isuer");
    }

    #[test]
    fn a_pool_that_is_not_configured_is_refused() {
        let err = parse(json!([with("pool", json!("us-east-1_Nope1"))])).unwrap_err();
        assert_eq!(err.field, "SSF_TRANSMITTERS[0].pool");
    }

    #[test]
    fn hs256_and_unknown_algorithms_are_refused() {
        for algs in [
            json!(["HS256"]),
            json!(["none"]),
            json!(["RS256", "rs512"]),
            json!([]),
        ] {
            let err = parse(json!([with("algorithms", algs.clone())])).unwrap_err();
            assert_eq!(err.field, "SSF_TRANSMITTERS[0].algorithms", "{algs}");
        }
        let ok = parse(json!([with("algorithms", json!(["ES256", "RS256"]))])).unwrap();
        assert!(ok.by_id("tx1").unwrap().algorithms.contains(Alg::Es256));
    }

    #[test]
    fn keys_are_required_once() {
        let mut none = transmitter();
        none.as_object_mut().unwrap().remove("jwks_uri");
        assert_eq!(
            parse(json!([none])).unwrap_err().field,
            "SSF_TRANSMITTERS[0].jwks_uri"
        );
        let both = with("jwks", json!({"keys": []}));
        assert_eq!(
            parse(json!([both])).unwrap_err().field,
            "SSF_TRANSMITTERS[0].jwks"
        );
        let plain_http = with("jwks_uri", json!("http://ssf.transmitter.example/jwks"));
        assert_eq!(
            parse(json!([plain_http])).unwrap_err().field,
            "SSF_TRANSMITTERS[0].jwks_uri"
        );
    }

    #[test]
    fn a_short_or_oddly_spelt_push_secret_is_refused() {
        for secret in [
            json!("short"),
            json!(format!("{} ", SECRET)),
            json!(format!("=={SECRET}")),
            json!(7),
        ] {
            let err = parse(json!([with("push_secret", secret.clone())])).unwrap_err();
            assert_eq!(err.field, "SSF_TRANSMITTERS[0].push_secret", "{secret}");
        }
    }

    #[test]
    fn push_secret_is_required_unless_the_stream_is_poll_only() {
        let mut t = transmitter();
        t.as_object_mut().unwrap().remove("push_secret");
        assert_eq!(
            parse(json!([t.clone()])).unwrap_err().field,
            "SSF_TRANSMITTERS[0].push_secret"
        );
        t["poll"] = json!({"endpoint": "https://ssf.transmitter.example/poll", "authorization": "Bearer abc"});
        let parsed = parse(json!([t])).unwrap();
        let tx = parsed.by_id("tx1").unwrap();
        assert_eq!(tx.push_secret(), None);
        assert!(!format!("{tx:?}").contains("Bearer abc"));
    }

    #[test]
    fn ids_are_path_safe_and_unique() {
        for id in ["", "a/b", "tx 1", "tx%31", "ü", &"x".repeat(65)] {
            let err = parse(json!([with("id", json!(id))])).unwrap_err();
            assert_eq!(err.field, "SSF_TRANSMITTERS[0].id", "{id}");
        }
        let err = parse(json!([transmitter(), transmitter()])).unwrap_err();
        assert_eq!(err.field, "SSF_TRANSMITTERS[1].id");
    }

    #[test]
    fn the_push_secret_never_appears_in_debug_output() {
        let parsed = parse(json!([transmitter()])).unwrap();
        assert!(!format!("{parsed:?}").contains(SECRET));
    }

    fn with_verification(verification: Value) -> Value {
        let mut t = with("stream_id", json!("stream-1"));
        t["verification"] = verification;
        t
    }

    #[test]
    fn verification_requests_take_an_endpoint_and_authorization_with_documented_defaults() {
        let parsed = parse(json!([with_verification(json!({
            "endpoint": "https://ssf.transmitter.example/verify", "authorization": "Bearer v-123"}))]))
        .unwrap();
        let v = parsed.by_id("tx1").unwrap().verification.as_ref().unwrap();
        assert_eq!(v.endpoint, "https://ssf.transmitter.example/verify");
        assert_eq!(
            (v.interval_s, v.timeout_s),
            (DEFAULT_VERIFY_INTERVAL_S, DEFAULT_VERIFY_TIMEOUT_S)
        );
        assert!(!format!("{parsed:?}").contains("v-123"));
        let short = parse(json!([with_verification(json!({
            "endpoint": "http://localhost:8080/verify", "authorization": "Bearer v",
            "interval_s": 60, "timeout_s": 2}))]))
        .unwrap();
        let v = short.by_id("tx1").unwrap().verification.as_ref().unwrap();
        assert_eq!((v.interval_s, v.timeout_s), (60, 2));
        assert_eq!(
            parse(json!([with_verification(json!({
                "endpoint": "http://localhost:8080/verify", "authorization": "Bearer v",
                "interval_s": 60}))]))
            .unwrap()
            .by_id("tx1")
            .unwrap()
            .verification
            .as_ref()
            .unwrap()
            .timeout_s,
            60,
            "the default timeout never exceeds the interval"
        );
    }

    #[test]
    fn verification_is_refused_without_a_stream_id_or_with_a_bad_url_or_period() {
        let mut no_stream = transmitter();
        no_stream["verification"] = json!({"endpoint": "https://ssf.transmitter.example/verify", "authorization": "Bearer v"});
        assert_eq!(
            parse(json!([no_stream])).unwrap_err().field,
            "SSF_TRANSMITTERS[0].stream_id"
        );
        let cases = [
            (
                json!({"endpoint": "http://ssf.transmitter.example/verify", "authorization": "Bearer v"}),
                "endpoint",
            ),
            (
                json!({"endpoint": "https://user:pw@ssf.transmitter.example/verify", "authorization": "Bearer v"}),
                "endpoint",
            ),
            (
                json!({"endpoint": "https://ssf.transmitter.example/verify", "authorization": "Bearer\nv"}),
                "authorization",
            ),
            (
                json!({"endpoint": "https://ssf.transmitter.example/verify"}),
                "authorization",
            ),
            (
                json!({"endpoint": "https://ssf.transmitter.example/verify", "authorization": "Bearer v", "interval_s": 59}),
                "interval_s",
            ),
            (
                json!({"endpoint": "https://ssf.transmitter.example/verify", "authorization": "Bearer v", "interval_s": "3600"}),
                "interval_s",
            ),
            (
                json!({"endpoint": "https://ssf.transmitter.example/verify", "authorization": "Bearer v", "interval_s": 60, "timeout_s": 61}),
                "timeout_s",
            ),
            (
                json!({"endpoint": "https://ssf.transmitter.example/verify", "authorization": "Bearer v", "timeout_s": 0}),
                "timeout_s",
            ),
            (
                json!({"endpoint": "https://ssf.transmitter.example/verify", "authorization": "Bearer v", "state": "x"}),
                "state",
            ),
        ];
        for (verification, field) in cases {
            let err = parse(json!([with_verification(verification.clone())])).unwrap_err();
            assert_eq!(
                err.field,
                format!("SSF_TRANSMITTERS[0].verification.{field}"),
                "{verification}"
            );
        }
    }
}
