//! Settings, parsed once into strong types.
//!
//! The Worker's environment arrives as a map of names to JSON values: a JSON-valued setting
//! (`POOLS`, `ADMIN_CREDENTIALS`, `SIGNING_KEYS`) may be a JSON string (`.dev.vars`, secrets) or
//! a structured value (`[vars]` in wrangler.toml), and both are accepted. Every missing or
//! malformed field is a [`ConfigError`] naming it; nothing falls back to a default silently, and
//! an unknown field is an error too, so a typo (`isuer`) cannot quietly switch a check off.

use std::rc::Rc;

use serde_json::{Map, Value};

use crate::{
    alg::{Alg, AlgSet},
    claims::TokenUse,
    error::ConfigError,
    identity::{CaseRule, UserId},
    jwk::{BadKeys, KeySet},
    signing::SigningKeys,
    validate,
};

/// The settings the Worker reads from its environment, by name.
pub const SETTING_NAMES: [&str; 16] = [
    "POOLS",
    "ADMIN_CREDENTIALS",
    "UPSTREAM_CREDENTIALS",
    "SIGNING_KEYS",
    "ALLOWED_ORIGINS",
    "PROTECTED_PREFIXES",
    "ORIGIN_URL",
    "REVOCATION_CACHE_TTL_S",
    "KV_CACHE_TTL_S",
    "DEV_MODE",
    "FRESHNESS_S",
    "FEED_FAIL_CLOSED_AFTER_S",
    "SSF_TRANSMITTERS",
    "REVOCATION_FILTER_FP_RATE",
    "REVOCATION_FILTER_MAX_ENTRIES",
    "REVOCATION_FILTER_LISTING_DELAY_S",
];

/// Default lifetime of access and ID tokens (Cognito's default), in seconds.
pub const DEFAULT_TOKEN_VALIDITY_S: u64 = 3600;
/// Default refresh-token lifetime (Cognito's default, 30 days), in seconds.
pub const DEFAULT_REFRESH_TOKEN_VALIDITY_S: u64 = 2_592_000;
/// Default in-isolate cache lifetime of revocation lookups, in seconds.
pub const DEFAULT_REVOCATION_CACHE_TTL_S: u64 = 5;
/// Default KV `cacheTtl`, in seconds; also the smallest KV accepts.
pub const DEFAULT_KV_CACHE_TTL_S: u64 = 30;
/// Default `REVOCATION_FILTER_FP_RATE`: the share of keys with no revocation that the
/// revocation filter answers "maybe" for (each costs a KV read). A gated check asks about two to
/// four keys, so about 0.3% of checks of never-revoked users read KV.
pub const DEFAULT_REVOCATION_FILTER_FP_RATE: f64 = 0.001;
/// Default `REVOCATION_FILTER_MAX_ENTRIES`: above this many active revocations no filter is
/// built and every check reads KV (at the default rate, 3.6 MB of filter per isolate).
pub const DEFAULT_REVOCATION_FILTER_MAX_ENTRIES: u64 = 2_000_000;
/// The largest `REVOCATION_FILTER_MAX_ENTRIES` accepted (a filter of about 90 MB at 0.001 would
/// not fit an isolate's 128 MB).
pub const MAX_REVOCATION_FILTER_ENTRIES: u64 = 20_000_000;
/// The smallest `REVOCATION_FILTER_FP_RATE` accepted (44 bits a key).
pub const MIN_REVOCATION_FILTER_FP_RATE: f64 = 1e-9;
/// The largest `REVOCATION_FILTER_FP_RATE` accepted: above it the filter saves little.
pub const MAX_REVOCATION_FILTER_FP_RATE: f64 = 0.5;

/// Default `FRESHNESS_S`: how old an isolate's copy of the recent-revocations feed may be
/// before it asks again, in seconds. With the one-second clock allowance of
/// [`crate::revocation::authority`], receipts then promise 3 s, inside the 5 s goal.
pub const DEFAULT_FRESHNESS_S: u64 = 2;
/// How long KV takes to show a write in other locations, as Cloudflare states it ("up to 60
/// seconds or more"), in seconds. Every bound that relies on KV alone counts it.
pub const KV_PROPAGATION_S: u64 = 60;
/// Default PBKDF2-HMAC-SHA256 iterations for local-pool passwords (see README, "Local pools").
pub const DEFAULT_PASSWORD_ITERATIONS: u32 = 100_000;
/// The most PBKDF2 iterations a pool may ask for new password hashes: workerd's WebCrypto runs
/// PBKDF2 up to 100 000 and refuses more, and a slower pure-Rust hash on every sign-in is not a
/// setting to offer. Stored hashes with more still verify (`local::password`).
pub const MAX_PASSWORD_ITERATIONS: u32 = 100_000;

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The user pools whose tokens are verified.
    pub pools: Vec<Pool>,
    /// Credentials accepted on SigV4-signed admin operations.
    pub admin_credentials: Vec<AdminCredential>,
    /// The Worker's own AWS credentials, which sign what it forwards to pools' upstreams
    /// (`UPSTREAM_CREDENTIALS`); required when a pool has an upstream.
    pub upstream_credentials: Option<UpstreamCredentials>,
    /// Private keys local pools sign with; `None` when no pool is local.
    pub signing_keys: Option<SigningKeys>,
    /// Origins allowed to call from a browser (CORS), exact.
    pub allowed_origins: Vec<String>,
    /// Path prefixes that need a bearer token.
    pub protected_prefixes: Vec<String>,
    /// Where accepted requests under a protected prefix are forwarded, if anywhere.
    pub origin_url: Option<String>,
    /// How long an isolate reuses a revocation lookup, in seconds (0: never).
    pub revocation_cache_ttl_s: u64,
    /// KV `cacheTtl` for revocation reads, in seconds.
    pub kv_cache_ttl_s: u64,
    /// A local development run (`make dev` sets `DEV_MODE=true`): the console may take admin
    /// keys from its link. Off unless set.
    pub dev_mode: bool,
    /// The revocation filter's sizing ([`crate::revocation::filter`]).
    pub revocation_filter: RevocationFilterSettings,
    /// How old an isolate's copy of the revocation authority's feed may be before it asks
    /// again, in seconds (`FRESHNESS_S`). Used only with the `REVOCATION_AUTHORITY` binding.
    pub freshness_s: u64,
    /// Once an isolate's copy of the feed is older than this (the authority unreachable), refuse
    /// every token instead of falling back to KV alone (`FEED_FAIL_CLOSED_AFTER_S`). `None`:
    /// fall back to KV alone.
    pub feed_fail_closed_after_s: Option<u64>,
}

/// How the revocation filter is sized: from the number of active revocations and the share of
/// other keys it may answer "maybe" for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RevocationFilterSettings {
    /// `REVOCATION_FILTER_FP_RATE`: the false-positive rate the filter is sized for, in
    /// [`MIN_REVOCATION_FILTER_FP_RATE`, `MAX_REVOCATION_FILTER_FP_RATE`].
    pub fp_rate: f64,
    /// `REVOCATION_FILTER_MAX_ENTRIES`: above this many active revocations no filter is built
    /// (0: never build one); checks then read KV as without a filter.
    pub max_entries: u64,
}

impl Default for RevocationFilterSettings {
    fn default() -> Self {
        Self {
            fp_rate: DEFAULT_REVOCATION_FILTER_FP_RATE,
            max_entries: DEFAULT_REVOCATION_FILTER_MAX_ENTRIES,
        }
    }
}

impl RevocationFilterSettings {
    /// Reads the two settings, with their defaults when absent or empty.
    pub fn from_env(vars: &Map<String, Value>) -> Result<Self, ConfigError> {
        const RATE: &str = "REVOCATION_FILTER_FP_RATE";
        const ENTRIES: &str = "REVOCATION_FILTER_MAX_ENTRIES";
        let fp_rate = match vars.get(RATE) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.trim().is_empty() => None,
            Some(Value::String(text)) => Some(text.trim().parse::<f64>().ok()),
            Some(Value::Number(n)) => Some(n.as_f64()),
            Some(_) => Some(None),
        };
        let fp_rate = match fp_rate {
            None => DEFAULT_REVOCATION_FILTER_FP_RATE,
            Some(Some(rate))
                if (MIN_REVOCATION_FILTER_FP_RATE..=MAX_REVOCATION_FILTER_FP_RATE)
                    .contains(&rate) =>
            {
                rate
            }
            Some(_) => {
                return Err(ConfigError::new(
                    RATE,
                    format!(
                        "must be a number from {MIN_REVOCATION_FILTER_FP_RATE} to {MAX_REVOCATION_FILTER_FP_RATE}, such as 0.001 (one key in a thousand)"
                    ),
                ))
            }
        };
        let max_entries = match vars.get(ENTRIES) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.trim().is_empty() => None,
            Some(Value::String(text)) => Some(text.trim().parse::<u64>().ok()),
            Some(Value::Number(n)) => Some(whole_number(n)),
            Some(_) => Some(None),
        };
        let max_entries = match max_entries {
            None => DEFAULT_REVOCATION_FILTER_MAX_ENTRIES,
            Some(Some(n)) if n <= MAX_REVOCATION_FILTER_ENTRIES => n,
            Some(_) => {
                return Err(ConfigError::new(
                    ENTRIES,
                    format!(
                        "must be a whole number of entries from 0 (no filter) to {MAX_REVOCATION_FILTER_ENTRIES}"
                    ),
                ))
            }
        };
        Ok(Self {
            fp_rate,
            max_entries,
        })
    }

    /// `REVOCATION_FILTER_LISTING_DELAY_S` in ms: how long after a write straight to KV (or the
    /// authority's first start) a KV listing is trusted to show it, 15–86400 s. Absent:
    /// `default_ms` (KV's window plus an allowance for the writer).
    pub fn listing_delay_ms(
        vars: &Map<String, Value>,
        default_ms: u64,
    ) -> Result<u64, ConfigError> {
        const NAME: &str = "REVOCATION_FILTER_LISTING_DELAY_S";
        let unset = match vars.get(NAME) {
            None | Some(Value::Null) => true,
            Some(Value::String(text)) => text.trim().is_empty(),
            Some(_) => false,
        };
        if unset {
            return Ok(default_ms);
        }
        Ok(int_setting(vars, NAME, 0, 15, 86_400)? * 1000)
    }
}

/// The two cache lifetimes that, with KV's propagation, bound how long KV alone takes to
/// enforce a revocation everywhere. The revocation authority keeps an entry in its recent set
/// at least that long ([`KvTimings::window_ms`]); it reads them from its own environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvTimings {
    /// KV's edge `cacheTtl` (`KV_CACHE_TTL_S`), in seconds.
    pub kv_cache_ttl_s: u64,
    /// The isolate's reuse of a lookup (`REVOCATION_CACHE_TTL_S`), in seconds.
    pub revocation_cache_ttl_s: u64,
}

impl KvTimings {
    /// Reads the two settings alone, with the same rules and defaults as [`Config::from_env`].
    pub fn from_env(vars: &Map<String, Value>) -> Result<Self, ConfigError> {
        Ok(Self {
            kv_cache_ttl_s: kv_cache_ttl_setting(vars)?,
            revocation_cache_ttl_s: revocation_cache_ttl_setting(vars)?,
        })
    }

    /// The longest KV alone may take to make a write refused in every isolate of every
    /// location, in ms: KV's propagation, plus a lookup (a miss too) cached at KV's edge, plus
    /// the isolate's reuse of it. With the defaults 60 + 30 + 5 = 95 s.
    pub fn window_ms(&self) -> u64 {
        (KV_PROPAGATION_S + self.kv_cache_ttl_s + self.revocation_cache_ttl_s) * 1000
    }
}

/// Where a pool's verification keys come from.
#[derive(Debug, Clone)]
pub enum PoolKeys {
    /// An inline JWKS from the configuration.
    Inline(Rc<KeySet>),
    /// A JWKS fetched from this URL, cached per isolate and in KV.
    Remote(String),
    /// The public halves of `SIGNING_KEYS` (local pools).
    Local(Rc<KeySet>),
}

/// Which app clients' tokens a pool accepts.
#[derive(Debug, Clone)]
pub enum Clients {
    /// Only these.
    Listed(Vec<Client>),
    /// Any client (`"allow_any_client": true`): the client check is off, by explicit choice.
    Any,
}

/// An app client of a pool.
#[derive(Debug, Clone)]
pub struct Client {
    /// The client id (`client_id` in access tokens, `aud` in ID tokens).
    pub id: String,
    /// The client secret, for RevokeToken and SECRET_HASH; `None` for public clients.
    pub secret: Option<String>,
    /// Whether RevokeToken is enabled for this client (Cognito's EnableTokenRevocation).
    pub token_revocation: bool,
    /// Refresh-token rotation (Cognito's `RefreshTokenRotation`), local pools only: when set,
    /// GetTokensFromRefreshToken answers a new refresh token and honours the one it replaces
    /// for this many seconds more (0 to 60, Cognito's `RetryGracePeriodSeconds`).
    pub refresh_token_rotation_grace_s: Option<u64>,
}

/// A local pool's own settings.
#[derive(Debug, Clone)]
pub struct LocalPool {
    /// PBKDF2-HMAC-SHA256 iterations for new password hashes.
    pub password_iterations: u32,
    /// SignUp confirms the user at once (`auto_confirm_sign_up`; default false): no code, as a
    /// Cognito pool whose pre-sign-up trigger sets `autoConfirmUser`.
    pub auto_confirm_sign_up: bool,
    /// ChangePassword, ConfirmForgotPassword and AdminSetUserPassword also sign the user out
    /// everywhere (`sign_out_on_password_change`; default false, as Cognito, which ends no
    /// session when a password changes).
    pub sign_out_on_password_change: bool,
}

/// A user pool.
#[derive(Debug, Clone)]
pub struct Pool {
    /// The pool id, e.g. `us-east-1_AbC123`.
    pub id: String,
    /// The region part of the id, e.g. `us-east-1`.
    pub region: String,
    /// The exact `iss` of the pool's tokens.
    pub issuer: String,
    /// Where the verification keys come from.
    pub keys: PoolKeys,
    /// Algorithms accepted (each key is bound to one of them).
    pub algorithms: AlgSet,
    /// App clients whose tokens are accepted.
    pub clients: Clients,
    /// Whether access tokens are accepted at the gate.
    pub accept_access_tokens: bool,
    /// Whether ID tokens are accepted at the gate.
    pub accept_id_tokens: bool,
    /// Access-token lifetime, in seconds.
    pub access_token_validity_s: u64,
    /// ID-token lifetime, in seconds.
    pub id_token_validity_s: u64,
    /// Refresh-token lifetime, in seconds.
    pub refresh_token_validity_s: u64,
    /// Present when this Worker owns the pool's users and signs its tokens.
    pub local: Option<LocalPool>,
    /// Whether user ids differ by case (`username_case_sensitive`; default: they do not, as in
    /// new Cognito pools). See `crate::identity`.
    pub username_case: CaseRule,
    /// External pools: whether a `Username` shaped like an email or phone number may be the
    /// username itself (`username_may_be_email_or_phone`). By default it is taken for an alias,
    /// which this Worker cannot tie to a token, and refused.
    pub username_may_be_email_or_phone: bool,
    /// External pools: the real user pool every Cognito call for this pool is forwarded to
    /// (`upstream`); see `crate::proxy`.
    pub upstream: Option<Upstream>,
}

/// Where an external pool's Cognito calls are forwarded (`upstream: {endpoint?, domain?}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// Cognito's API endpoint, scheme and authority only, default port left out (so it is the
    /// `host` that is signed and the one `fetch` sends): by default
    /// `https://cognito-idp.<region>.amazonaws.com`.
    pub endpoint: String,
    /// The pool's hosted-UI domain (`https://<prefix>.auth.<region>.amazoncognito.com` or a
    /// custom one), whose `/oauth2/token` and `/oauth2/revoke` the Worker serves under
    /// `/<pool id>/oauth2/`; `None`: those paths answer 404 for this pool.
    pub domain: Option<String>,
}

impl Upstream {
    /// The `host` header of the endpoint (authority as `fetch` sends it).
    pub fn endpoint_host(&self) -> &str {
        authority_of(&self.endpoint)
    }
}

/// The authority (`host[:port]`) of a URL normalised by [`parse_upstream_url`].
fn authority_of(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

/// The Worker's own AWS credentials for its upstreams (`UPSTREAM_CREDENTIALS`). Never logged,
/// never sent anywhere but into a signature: `Debug` shows the access key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// A session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl core::fmt::Debug for UpstreamCredentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UpstreamCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Pool {
    /// The app client with this id.
    pub fn client(&self, id: &str) -> Option<&Client> {
        match &self.clients {
            Clients::Listed(clients) => clients.iter().find(|c| c.id == id),
            Clients::Any => None,
        }
    }

    /// PBKDF2 iterations for new password hashes of this (local) pool.
    pub fn password_iterations(&self) -> u32 {
        self.local
            .as_ref()
            .map_or(DEFAULT_PASSWORD_ITERATIONS, |local| {
                local.password_iterations
            })
    }

    /// `id` (a username, alias or sub) spelled as this pool keys it: see `crate::identity`.
    pub fn user_id(&self, id: &str) -> UserId {
        UserId::new(id, self.username_case)
    }

    /// Whether tokens issued to `client_id` are accepted.
    pub fn accepts_client(&self, client_id: &str) -> bool {
        match &self.clients {
            Clients::Listed(clients) => clients.iter().any(|c| c.id == client_id),
            Clients::Any => true,
        }
    }

    /// Whether the gate accepts this kind of token.
    pub fn accepts_at_gate(&self, token_use: TokenUse) -> bool {
        match token_use {
            TokenUse::Access => self.accept_access_tokens,
            TokenUse::Id => self.accept_id_tokens,
        }
    }

    /// How long a revocation entry must live, in seconds: long enough to outlast every token
    /// issued before it, including access and ID tokens minted from a refresh token of that
    /// time. Never under KV's 60-second minimum.
    pub fn revocation_ttl_s(&self) -> u64 {
        let longest = self.access_token_validity_s.max(self.id_token_validity_s);
        (self.refresh_token_validity_s + longest + REVOCATION_LEEWAY_S).max(60)
    }
}

/// Slack added to revocation TTLs for clock differences between the issuer and the edge.
pub const REVOCATION_LEEWAY_S: u64 = 300;

/// The region part of a pool id: `us-east-1` of `us-east-1_AbC123` (the id after the last `_`
/// is letters and digits only).
pub fn region_of(pool_id: &str) -> &str {
    pool_id
        .rsplit_once('_')
        .map_or(pool_id, |(region, _)| region)
}

/// A credential accepted on SigV4-signed admin operations.
#[derive(Debug, Clone)]
pub struct AdminCredential {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// Actions allowed (`cognito-idp:AdminUserGlobalSignOut`, `cognito-idp:Admin*`, `*`); `None`:
    /// all. Evaluated in [`crate::iam`].
    pub allow: Option<Vec<String>>,
    /// Pools allowed, as ids or ARN patterns with `*`; `None`: all.
    pub resources: Option<Vec<String>>,
    /// The account shown in ARNs and AccessDeniedException messages.
    pub account_id: String,
}

/// Settings that did not parse: why, and the admin credentials if `ADMIN_CREDENTIALS` parses on
/// its own, so that `/healthz` can tell a SigV4-signed admin request which field is wrong while
/// telling everyone else only that the configuration is in error.
#[derive(Debug, Clone)]
pub struct BrokenConfig {
    /// What is wrong.
    pub error: ConfigError,
    /// The admin credentials, or none if they are what is broken.
    pub admin_credentials: Vec<AdminCredential>,
}

impl BrokenConfig {
    /// A broken configuration with no admin credentials to show the details to.
    pub fn new(error: ConfigError) -> Self {
        Self {
            error,
            admin_credentials: Vec::new(),
        }
    }
}

impl Config {
    /// Parses the settings as [`Config::from_env`] does, keeping on failure what `/healthz`
    /// needs to show the details to an admin.
    pub fn load(vars: &Map<String, Value>) -> Result<Self, BrokenConfig> {
        Self::from_env(vars).map_err(|error| BrokenConfig {
            error,
            admin_credentials: json_setting(vars, "ADMIN_CREDENTIALS")
                .ok()
                .flatten()
                .and_then(|value| parse_admin_credentials(&value).ok())
                .unwrap_or_default(),
        })
    }

    /// Parses the settings. `vars` maps setting names to their values as the Worker saw them.
    pub fn from_env(vars: &Map<String, Value>) -> Result<Self, ConfigError> {
        let signing_keys = match json_setting(vars, "SIGNING_KEYS")? {
            Some(value) => Some(
                SigningKeys::parse(&value)
                    .map_err(|problem| ConfigError::new("SIGNING_KEYS", problem))?,
            ),
            None => None,
        };
        let pools_value = json_setting(vars, "POOLS")?
            .ok_or_else(|| ConfigError::new("POOLS", "missing: set it to a JSON array of pools"))?;
        let pools_list = pools_value
            .as_array()
            .ok_or_else(|| ConfigError::new("POOLS", "must be a JSON array"))?;
        if pools_list.is_empty() {
            return Err(ConfigError::new("POOLS", "must list at least one pool"));
        }
        let mut pools: Vec<Pool> = Vec::with_capacity(pools_list.len());
        for (index, value) in pools_list.iter().enumerate() {
            let path = format!("POOLS[{index}]");
            let pool = parse_pool(&path, value, signing_keys.as_ref())?;
            if pools.iter().any(|p| p.id == pool.id) {
                return Err(ConfigError::new(
                    format!("{path}.id"),
                    "two pools share this id",
                ));
            }
            if let Clients::Listed(clients) = &pool.clients {
                for client in clients {
                    // InitiateAuth and RevokeToken find a local pool by client id, so a local
                    // pool's client must be nobody else's. External pools may share ids.
                    // A pool with an upstream is found by client id for calls that name no pool
                    // (InitiateAuth, SignUp, …), so its clients must be nobody else's either.
                    let routed = |p: &Pool| p.local.is_some() || p.upstream.is_some();
                    let clash = pools
                        .iter()
                        .find(|p| p.client(&client.id).is_some() && (routed(p) || routed(&pool)));
                    if let Some(other) = clash {
                        return Err(ConfigError::new(
                            format!("{path}.clients"),
                            format!("client id {} is also a client of pool {}, and one of them is local or has an upstream", client.id, other.id),
                        ));
                    }
                }
            }
            if pools.iter().any(|p| p.issuer == pool.issuer) {
                return Err(ConfigError::new(
                    format!("{path}.issuer"),
                    "two pools share this issuer",
                ));
            }
            pools.push(pool);
        }

        let admin_credentials = match json_setting(vars, "ADMIN_CREDENTIALS")? {
            Some(value) => parse_admin_credentials(&value)?,
            None => Vec::new(),
        };
        let upstream_credentials = match json_setting(vars, "UPSTREAM_CREDENTIALS")? {
            Some(value) => Some(parse_upstream_credentials(&value)?),
            None => None,
        };
        if let Some(index) = pools.iter().position(|p| p.upstream.is_some()) {
            if upstream_credentials.is_none() {
                return Err(ConfigError::new(
                    "UPSTREAM_CREDENTIALS",
                    format!("missing: POOLS[{index}] has an upstream, and what the Worker forwards is signed with these ({{\"access_key_id\", \"secret_access_key\", \"session_token\"?}})"),
                ));
            }
        }
        let allowed_origins = match text_setting(vars, "ALLOWED_ORIGINS")? {
            Some(text) => parse_origins(&text)?,
            None => Vec::new(),
        };
        let protected_prefixes = match text_setting(vars, "PROTECTED_PREFIXES")? {
            Some(text) => parse_prefixes(&text)?,
            None => vec!["/api/".to_owned()],
        };
        let origin_url = match text_setting(vars, "ORIGIN_URL")? {
            Some(text) if text.trim().is_empty() => None,
            Some(text) => Some(
                parse_url("ORIGIN_URL", text.trim())?
                    .trim_end_matches('/')
                    .to_owned(),
            ),
            None => None,
        };
        let revocation_cache_ttl_s = revocation_cache_ttl_setting(vars)?;
        let kv_cache_ttl_s = kv_cache_ttl_setting(vars)?;
        let dev_mode = bool_setting(vars, "DEV_MODE")?;
        let revocation_filter = RevocationFilterSettings::from_env(vars)?;
        RevocationFilterSettings::listing_delay_ms(vars, 0)?;
        let freshness_s = int_setting(vars, "FRESHNESS_S", DEFAULT_FRESHNESS_S, 1, 60)?;
        let feed_fail_closed_after_s =
            match int_setting(vars, "FEED_FAIL_CLOSED_AFTER_S", 0, 1, 86_400) {
                Ok(0) => None,
                Ok(limit) if limit < freshness_s => {
                    return Err(ConfigError::new(
                        "FEED_FAIL_CLOSED_AFTER_S",
                        format!("must be at least FRESHNESS_S ({freshness_s})"),
                    ))
                }
                Ok(limit) => Some(limit),
                Err(err) => return Err(err),
            };

        Ok(Self {
            pools,
            admin_credentials,
            upstream_credentials,
            signing_keys,
            allowed_origins,
            protected_prefixes,
            origin_url,
            revocation_cache_ttl_s,
            kv_cache_ttl_s,
            dev_mode,
            revocation_filter,
            freshness_s,
            feed_fail_closed_after_s,
        })
    }

    /// The cache lifetimes that bound KV's window ([`KvTimings::window_ms`]).
    pub fn kv_timings(&self) -> KvTimings {
        KvTimings {
            kv_cache_ttl_s: self.kv_cache_ttl_s,
            revocation_cache_ttl_s: self.revocation_cache_ttl_s,
        }
    }

    /// The pool with this id.
    pub fn pool(&self, id: &str) -> Option<&Pool> {
        self.pools.iter().find(|p| p.id == id)
    }

    /// The pool whose tokens carry this exact `iss`.
    pub fn pool_by_issuer(&self, issuer: &str) -> Option<&Pool> {
        self.pools.iter().find(|p| p.issuer == issuer)
    }

    /// The admin credential with this access key id.
    pub fn admin_credential(&self, access_key_id: &str) -> Option<&AdminCredential> {
        self.admin_credentials
            .iter()
            .find(|c| c.access_key_id == access_key_id)
    }

    /// Whether `path` is under a protected prefix.
    pub fn is_protected(&self, path: &str) -> bool {
        self.protected_prefixes
            .iter()
            .any(|p| path.starts_with(p.as_str()))
    }

    /// Whether `origin` may call from a browser.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }
}

/// A JSON-valued setting: a JSON string is parsed, a structured value is taken as is.
pub(crate) fn json_setting(
    vars: &Map<String, Value>,
    name: &str,
) -> Result<Option<Value>, ConfigError> {
    match vars.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => crate::json::parse_value(text.as_bytes())
            .map(Some)
            .map_err(|err| ConfigError::new(name, format!("not valid JSON ({err})"))),
        Some(value) => Ok(Some(value.clone())),
    }
}

fn text_setting(vars: &Map<String, Value>, name: &str) -> Result<Option<String>, ConfigError> {
    match vars.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(|items| Some(items.join(",")))
            .ok_or_else(|| ConfigError::new(name, "must be a string or a list of strings")),
        Some(_) => Err(ConfigError::new(name, "must be a string")),
    }
}

fn int_setting(
    vars: &Map<String, Value>,
    name: &str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let value = match vars.get(name) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => whole_number(n),
        Some(Value::String(text)) if text.trim().is_empty() => return Ok(default),
        Some(Value::String(text)) => text.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    match value {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ConfigError::new(
            name,
            format!("must be a whole number of seconds from {min} to {max}"),
        )),
    }
}

fn revocation_cache_ttl_setting(vars: &Map<String, Value>) -> Result<u64, ConfigError> {
    int_setting(
        vars,
        "REVOCATION_CACHE_TTL_S",
        DEFAULT_REVOCATION_CACHE_TTL_S,
        0,
        300,
    )
}

fn kv_cache_ttl_setting(vars: &Map<String, Value>) -> Result<u64, ConfigError> {
    int_setting(vars, "KV_CACHE_TTL_S", DEFAULT_KV_CACHE_TTL_S, 30, 86_400)
}

/// `true` or `false`, as a JSON boolean (`[vars]`) or the text `true` / `false`; absent is false.
fn bool_setting(vars: &Map<String, Value>, name: &str) -> Result<bool, ConfigError> {
    match vars.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(text)) => match text.trim() {
            "" | "false" => Ok(false),
            "true" => Ok(true),
            _ => Err(ConfigError::new(name, "must be true or false")),
        },
        Some(_) => Err(ConfigError::new(name, "must be true or false")),
    }
}

/// A non-negative whole number, whether JSON wrote it as `30` or (from JavaScript) `30.0`.
fn whole_number(n: &serde_json::Number) -> Option<u64> {
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..9e15).contains(f))
            .map(|f| f as u64)
    })
}

/// Reads one JSON object's fields, remembering which were read so leftovers can be refused.
/// Shared with `crate::ssf::config`, so `SSF_TRANSMITTERS` reads fields the same way.
pub(crate) struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
    read: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(path: &str, value: &'a Value) -> Result<Self, ConfigError> {
        let map = value
            .as_object()
            .ok_or_else(|| ConfigError::new(path, "must be a JSON object"))?;
        Ok(Self {
            path: path.to_owned(),
            map,
            read: Vec::new(),
        })
    }

    pub(crate) fn field(&self, name: &str) -> String {
        format!("{}.{}", self.path, name)
    }

    pub(crate) fn error(&self, name: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::new(self.field(name), problem)
    }

    pub(crate) fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.read.push(name);
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn string(&mut self, name: &'static str) -> Result<Option<&'a str>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(name, "must be a string")),
        }
    }

    pub(crate) fn required_string(&mut self, name: &'static str) -> Result<&'a str, ConfigError> {
        self.string(name)?
            .ok_or_else(|| self.error(name, "missing"))
    }

    fn bool(&mut self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.error(name, "must be true or false")),
        }
    }

    pub(crate) fn int(
        &mut self,
        name: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Number(n)) => match whole_number(n) {
                Some(v) if (min..=max).contains(&v) => Ok(v),
                _ => Err(self.error(name, format!("must be a whole number from {min} to {max}"))),
            },
            Some(_) => Err(self.error(name, format!("must be a whole number from {min} to {max}"))),
        }
    }

    pub(crate) fn strings(
        &mut self,
        name: &'static str,
    ) -> Result<Option<Vec<&'a str>>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(Value::as_str)
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| self.error(name, "must be a list of strings")),
            Some(_) => Err(self.error(name, "must be a list of strings")),
        }
    }

    /// Refuses fields that were never read: a misspelt field must not be ignored.
    pub(crate) fn finish(self) -> Result<(), ConfigError> {
        match self.map.keys().find(|k| !self.read.contains(&k.as_str())) {
            Some(unknown) => Err(ConfigError::new(
                format!(
                    "{}.{}",
                    self.path,
                    unknown.chars().take(64).collect::<String>()
                ),
                format!("unknown field; known fields are {}", self.read.join(", ")),
            )),
            None => Ok(()),
        }
    }
}

fn parse_pool(
    path: &str,
    value: &Value,
    signing_keys: Option<&SigningKeys>,
) -> Result<Pool, ConfigError> {
    let mut f = Fields::new(path, value)?;
    let id = f.required_string("id")?;
    if !validate::is_user_pool_id(id) {
        return Err(f.error(
            "id",
            "must look like a Cognito pool id: region_Letters123 (pattern [\\w-]+_[0-9a-zA-Z]+, at most 55 characters)",
        ));
    }
    let region = region_of(id).to_owned();
    let is_local = match f.get("local") {
        None => None,
        Some(local) => Some(parse_local(&f.field("local"), local)?),
    };

    let issuer = match f.string("issuer")? {
        Some(issuer) => parse_url(&f.field("issuer"), issuer)?.to_owned(),
        None if is_local.is_some() => {
            return Err(f.error(
                "issuer",
                "required for a local pool: the Worker's public URL followed by /<id>, e.g. https://auth.example.com/us-east-1_AbC123",
            ))
        }
        None => format!("https://cognito-idp.{region}.amazonaws.com/{id}"),
    };

    let mut algorithms = AlgSet::empty();
    match f.strings("algorithms")? {
        None => algorithms.insert(Alg::Rs256),
        Some(names) => {
            for name in names {
                let alg = Alg::from_name(name).ok_or_else(|| {
                    f.error(
                        "algorithms",
                        format!(
                            "`{}` is not supported; use {}",
                            name.chars().take(16).collect::<String>(),
                            Alg::ALL.map(Alg::name).join(", ")
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
    let keys = match (&is_local, inline, uri) {
        (Some(_), None, None) => {
            let signing = signing_keys.ok_or_else(|| {
                ConfigError::new(
                    "SIGNING_KEYS",
                    format!("missing: {path} is a local pool and signs its tokens with these keys"),
                )
            })?;
            if !algorithms.contains(Alg::Rs256) {
                return Err(f.error(
                    "algorithms",
                    "a local pool signs with RS256, so it must allow RS256",
                ));
            }
            PoolKeys::Local(Rc::new(signing.verifying_keys()))
        }
        (Some(_), _, _) => {
            return Err(f.error(
                "jwks",
                "a local pool takes its keys from SIGNING_KEYS; remove jwks / jwks_uri",
            ))
        }
        (None, Some(_), Some(_)) => return Err(f.error("jwks", "give jwks or jwks_uri, not both")),
        (None, Some(set), None) => {
            let keys = KeySet::parse(set, algorithms, BadKeys::Refuse, &mut Vec::new())
                .map_err(|err| f.error("jwks", err.to_string()))?;
            PoolKeys::Inline(Rc::new(keys))
        }
        // An HS256 key is a shared secret: whoever can read it can sign. Published at a URL,
        // it lets anyone forge tokens, so HMAC keys come only inline.
        (None, None, Some(_)) if algorithms.contains(Alg::Hs256) => {
            return Err(f.error(
                "jwks_uri",
                "HS256 keys are secrets: give them inline in jwks, never at a URL (or remove HS256 from algorithms)",
            ))
        }
        (None, None, None) if algorithms.contains(Alg::Hs256) => {
            return Err(f.error(
                "jwks",
                "missing: HS256 needs its secret inline in jwks; it is never fetched from a URL",
            ))
        }
        (None, None, Some(uri)) => {
            PoolKeys::Remote(parse_url(&f.field("jwks_uri"), uri)?.to_owned())
        }
        (None, None, None) => PoolKeys::Remote(format!("{issuer}/.well-known/jwks.json")),
    };

    let allow_any = f.bool("allow_any_client")?.unwrap_or(false);
    let clients = match (f.get("clients"), allow_any) {
        (Some(_), true) => return Err(f.error("clients", "give clients or allow_any_client, not both")),
        (None, true) if is_local.is_some() => {
            return Err(f.error("allow_any_client", "a local pool must list the clients it issues tokens to"))
        }
        (None, true) => Clients::Any,
        (None, false) => {
            return Err(f.error(
                "clients",
                "missing: list the app clients whose tokens are accepted ([{\"id\": \"...\"}]), or set \"allow_any_client\": true to skip the client check",
            ))
        }
        (Some(list), false) => Clients::Listed(parse_clients(&f.field("clients"), list)?),
    };
    if let (None, Clients::Listed(listed)) = (&is_local, &clients) {
        if let Some(index) = listed
            .iter()
            .position(|c| c.refresh_token_rotation_grace_s.is_some())
        {
            return Err(ConfigError::new(
                format!("{}[{index}].refresh_token_rotation", f.field("clients")),
                "only for local pools: an external pool's refresh tokens are rotated by its issuer",
            ));
        }
    }

    let (mut accept_access_tokens, mut accept_id_tokens) = (false, false);
    match f.strings("token_use")? {
        None => accept_access_tokens = true,
        Some(uses) => {
            for value in uses {
                match TokenUse::from_claim(value) {
                    Some(TokenUse::Access) => accept_access_tokens = true,
                    Some(TokenUse::Id) => accept_id_tokens = true,
                    None => {
                        return Err(f.error("token_use", "entries must be \"access\" or \"id\""))
                    }
                }
            }
        }
    }
    if !accept_access_tokens && !accept_id_tokens {
        return Err(f.error("token_use", "must name at least one of \"access\", \"id\""));
    }

    // Cognito's ranges: access/ID 5 minutes to 1 day, refresh 1 hour to 10 years.
    let access_token_validity_s = f.int(
        "access_token_validity_s",
        DEFAULT_TOKEN_VALIDITY_S,
        300,
        86_400,
    )?;
    let id_token_validity_s =
        f.int("id_token_validity_s", DEFAULT_TOKEN_VALIDITY_S, 300, 86_400)?;
    let refresh_token_validity_s = f.int(
        "refresh_token_validity_s",
        DEFAULT_REFRESH_TOKEN_VALIDITY_S,
        3_600,
        315_360_000,
    )?;
    let username_case = match f.bool("username_case_sensitive")? {
        Some(true) => CaseRule::Sensitive,
        Some(false) | None => CaseRule::Insensitive,
    };
    let username_may_be_email_or_phone = match f.bool("username_may_be_email_or_phone")? {
        Some(_) if is_local.is_some() => return Err(f.error(
            "username_may_be_email_or_phone",
            "only for external pools: a local pool finds users by username, email or sub itself",
        )),
        value => value.unwrap_or(false),
    };
    let upstream = match f.get("upstream") {
        None => None,
        Some(_) if is_local.is_some() => {
            return Err(f.error(
                "upstream",
                "only for external pools: a local pool's users live in this Worker",
            ))
        }
        Some(_) if matches!(clients, Clients::Any) => {
            return Err(f.error(
                "upstream",
                "a pool with an upstream must list its clients: calls that name no pool (InitiateAuth, SignUp, …) are routed by client id",
            ))
        }
        Some(value) => Some(parse_upstream(&f.field("upstream"), value, &region)?),
    };
    f.finish()?;
    Ok(Pool {
        id: id.to_owned(),
        region,
        issuer,
        keys,
        algorithms,
        clients,
        accept_access_tokens,
        accept_id_tokens,
        access_token_validity_s,
        id_token_validity_s,
        refresh_token_validity_s,
        local: is_local,
        username_case,
        username_may_be_email_or_phone,
        upstream,
    })
}

fn parse_upstream(path: &str, value: &Value, region: &str) -> Result<Upstream, ConfigError> {
    let mut f = Fields::new(path, value)?;
    let endpoint = match f.string("endpoint")? {
        Some(url) => parse_upstream_url(&f.field("endpoint"), url)?,
        None => format!("https://cognito-idp.{region}.amazonaws.com"),
    };
    let domain = match f.string("domain")? {
        Some(url) => Some(parse_upstream_url(&f.field("domain"), url)?),
        None => None,
    };
    f.finish()?;
    Ok(Upstream { endpoint, domain })
}

/// An upstream's base URL: `https://host[:port]`, or `http://` for a loopback host only; no
/// user info, path, query or fragment (a trailing `/` is dropped), the default port left out.
/// Host names are letters, digits, `-` and `.` (or `[::1]`), so nothing can smuggle another
/// authority past the check (`http://127.0.0.1:80@evil.example`).
pub fn parse_upstream_url(field: &str, url: &str) -> Result<String, ConfigError> {
    let bad = || {
        ConfigError::new(
            field,
            "must be https://host[:port] with no path (http:// only for 127.0.0.1, localhost or [::1])",
        )
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    // `host[:port]`; an IPv6 literal only as `[::1]`.
    let (host, port) = match authority.strip_prefix("[::1]") {
        Some("") => ("[::1]", None),
        Some(after) => ("[::1]", Some(after.strip_prefix(':').ok_or_else(bad)?)),
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = match port {
        None => None,
        Some(digits)
            if (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(digits.parse::<u16>().map_err(|_| bad())?)
        }
        Some(_) => return Err(bad()),
    };
    let host_ok = host == "[::1]"
        || (!host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !host.starts_with(['.', '-']));
    if !host_ok {
        return Err(bad());
    }
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    let default_port = match scheme {
        "https" => 443,
        "http" if loopback => 80,
        _ => return Err(bad()),
    };
    let host = host.to_ascii_lowercase();
    Ok(match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

fn parse_upstream_credentials(value: &Value) -> Result<UpstreamCredentials, ConfigError> {
    let mut f = Fields::new("UPSTREAM_CREDENTIALS", value)?;
    let access_key_id = f.required_string("access_key_id")?;
    if !(16..=128).contains(&access_key_id.len())
        || !access_key_id.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(f.error("access_key_id", "must be 16 to 128 letters and digits"));
    }
    let secret_access_key = f.required_string("secret_access_key")?;
    if secret_access_key.len() < 16 || !secret_access_key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(f.error(
            "secret_access_key",
            "must be at least 16 printable characters",
        ));
    }
    let session_token = f.string("session_token")?;
    if session_token.is_some_and(|t| t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic())) {
        return Err(f.error("session_token", "must be printable ASCII"));
    }
    f.finish()?;
    Ok(UpstreamCredentials {
        access_key_id: access_key_id.to_owned(),
        secret_access_key: secret_access_key.to_owned(),
        session_token: session_token.map(str::to_owned),
    })
}

fn parse_local(path: &str, value: &Value) -> Result<LocalPool, ConfigError> {
    let mut f = Fields::new(path, value)?;
    let password_iterations = f.int(
        "password_iterations",
        u64::from(DEFAULT_PASSWORD_ITERATIONS),
        1_000,
        u64::from(MAX_PASSWORD_ITERATIONS),
    )
    .map_err(|mut err| {
        err.problem.push_str(
            " (workerd's WebCrypto runs PBKDF2 up to 100000 iterations; hashes stored with more still verify)",
        );
        err
    })?;
    let auto_confirm_sign_up = f.bool("auto_confirm_sign_up")?.unwrap_or(false);
    let sign_out_on_password_change = f.bool("sign_out_on_password_change")?.unwrap_or(false);
    f.finish()?;
    Ok(LocalPool {
        password_iterations: u32::try_from(password_iterations)
            .unwrap_or(DEFAULT_PASSWORD_ITERATIONS),
        auto_confirm_sign_up,
        sign_out_on_password_change,
    })
}

fn parse_clients(path: &str, value: &Value) -> Result<Vec<Client>, ConfigError> {
    let list = value
        .as_array()
        .ok_or_else(|| ConfigError::new(path, "must be a list of {\"id\": ...} objects"))?;
    if list.is_empty() {
        return Err(ConfigError::new(
            path,
            "must list at least one client (or use allow_any_client)",
        ));
    }
    let mut clients: Vec<Client> = Vec::with_capacity(list.len());
    for (index, item) in list.iter().enumerate() {
        let mut f = Fields::new(&format!("{path}[{index}]"), item)?;
        let id = f.required_string("id")?;
        if !validate::is_client_id(id) {
            return Err(f.error("id", "must match [\\w+]+ and be 1 to 128 characters"));
        }
        if clients.iter().any(|c| c.id == id) {
            return Err(f.error("id", "two clients share this id"));
        }
        let secret = f.string("secret")?;
        if let Some(secret) = secret {
            if !validate::is_client_secret(secret) {
                return Err(f.error("secret", "must match [\\w+]+ and be 24 to 64 characters"));
            }
        }
        let token_revocation = f.bool("token_revocation")?.unwrap_or(true);
        let refresh_token_rotation_grace_s = match f.get("refresh_token_rotation") {
            None => None,
            Some(rotation) => {
                let mut r = Fields::new(&f.field("refresh_token_rotation"), rotation)?;
                let grace = r.int("retry_grace_period_s", 0, 0, 60)?;
                r.finish()?;
                Some(grace)
            }
        };
        f.finish()?;
        clients.push(Client {
            id: id.to_owned(),
            secret: secret.map(str::to_owned),
            token_revocation,
            refresh_token_rotation_grace_s,
        });
    }
    Ok(clients)
}

fn parse_admin_credentials(value: &Value) -> Result<Vec<AdminCredential>, ConfigError> {
    let list = value
        .as_array()
        .ok_or_else(|| ConfigError::new("ADMIN_CREDENTIALS", "must be a JSON array"))?;
    let mut credentials: Vec<AdminCredential> = Vec::with_capacity(list.len());
    for (index, item) in list.iter().enumerate() {
        let mut f = Fields::new(&format!("ADMIN_CREDENTIALS[{index}]"), item)?;
        let access_key_id = f.required_string("access_key_id")?;
        if !(16..=128).contains(&access_key_id.len())
            || !access_key_id.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(f.error("access_key_id", "must be 16 to 128 letters and digits"));
        }
        if credentials.iter().any(|c| c.access_key_id == access_key_id) {
            return Err(f.error("access_key_id", "two credentials share this access key id"));
        }
        let secret_access_key = f.required_string("secret_access_key")?;
        if secret_access_key.len() < 16 {
            return Err(f.error("secret_access_key", "must be at least 16 characters"));
        }
        let allow = f.strings("allow")?;
        if let Some(allow) = &allow {
            for pattern in allow {
                let action = pattern.strip_prefix("cognito-idp:").unwrap_or(pattern);
                if action.is_empty() || !action.chars().all(|c| c.is_ascii_alphabetic() || c == '*')
                {
                    return Err(f.error("allow", "entries are actions such as \"cognito-idp:AdminUserGlobalSignOut\", \"cognito-idp:Admin*\" or \"*\""));
                }
            }
        }
        let resources = f.strings("resources")?;
        let account_id = f.string("account_id")?.unwrap_or("000000000000");
        if account_id.len() != 12 || !account_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(f.error("account_id", "must be 12 digits"));
        }
        f.finish()?;
        credentials.push(AdminCredential {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            allow: allow.map(|v| v.into_iter().map(str::to_owned).collect()),
            resources: resources.map(|v| v.into_iter().map(str::to_owned).collect()),
            account_id: account_id.to_owned(),
        });
    }
    Ok(credentials)
}

fn parse_origins(text: &str) -> Result<Vec<String>, ConfigError> {
    let mut origins = Vec::new();
    for origin in text.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
            && origin.split_once("://").is_some_and(|(_, host)| {
                !host.is_empty() && !host.contains('/') && !host.contains('*')
            });
        if !valid {
            return Err(ConfigError::new(
                "ALLOWED_ORIGINS",
                "entries must be exact origins such as https://app.example.com (scheme and host, no path, no wildcard)",
            ));
        }
        origins.push(origin.to_owned());
    }
    Ok(origins)
}

fn parse_prefixes(text: &str) -> Result<Vec<String>, ConfigError> {
    let mut prefixes = Vec::new();
    for prefix in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if !prefix.starts_with('/') {
            return Err(ConfigError::new(
                "PROTECTED_PREFIXES",
                "entries must be paths starting with /, e.g. /api/",
            ));
        }
        prefixes.push(prefix.to_owned());
    }
    Ok(prefixes)
}

/// An absolute http(s) URL. Plain http only for loopback hosts (local development and tests).
pub(crate) fn parse_url<'a>(field: &str, url: &'a str) -> Result<&'a str, ConfigError> {
    let bad = || {
        ConfigError::new(
            field,
            "must be an https:// URL (http:// only for localhost), with no user info",
        )
    };
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Err(bad());
    }
    // The scheme and authority are held to the upstream rule (host names only, no user info),
    // so `http://127.0.0.1:80@evil.example` cannot pass as a loopback URL.
    let authority_at = url.find("://").ok_or_else(bad)? + 3;
    let end = url
        .get(authority_at..)
        .and_then(|rest| rest.find(['/', '?', '#']))
        .map_or(url.len(), |at| authority_at + at);
    let base = url.get(..end).ok_or_else(bad)?;
    parse_upstream_url(field, base).map_err(|_| bad())?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pools: Value) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("POOLS".into(), pools);
        m
    }

    fn external() -> Value {
        json!([{"id":"us-east-1_AbC123","clients":[{"id":"client1"}]}])
    }

    #[test]
    fn a_url_with_user_info_or_another_authority_trick_is_refused() {
        for url in [
            "http://127.0.0.1:80@evil.example/jwks.json",
            "http://localhost@evil.example",
            "https://user:pass@issuer.example/jwks.json",
            "https://issuer.example\\@evil.example/",
            "http://127.0.0.1.evil.example/",
            "http://[::1]@evil.example/",
            "https://",
            "https:///jwks.json",
            "ftp://issuer.example/",
            "https://issuer.example /jwks.json",
        ] {
            assert!(parse_url("POOLS[0].jwks_uri", url).is_err(), "{url}");
        }
        for url in [
            "https://issuer.example/jwks.json",
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_A1/.well-known/jwks.json",
            "https://issuer.example:8443/a?b=c@d",
            "http://127.0.0.1:8787/us-east-1_DemoPool",
            "http://localhost/jwks.json",
            "http://[::1]:9000/x",
        ] {
            assert_eq!(parse_url("POOLS[0].jwks_uri", url).ok(), Some(url), "{url}");
        }
    }

    #[test]
    fn a_minimal_cognito_pool_gets_cognitos_issuer_and_jwks_uri() {
        let config = Config::from_env(&vars(external())).unwrap();
        let pool = &config.pools[0];
        assert_eq!(
            pool.issuer,
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"
        );
        assert!(
            matches!(&pool.keys, PoolKeys::Remote(uri) if uri == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/.well-known/jwks.json")
        );
        assert!(pool.algorithms.contains(Alg::Rs256));
        assert!(pool.accept_access_tokens && !pool.accept_id_tokens);
        assert_eq!(config.protected_prefixes, vec!["/api/"]);
        assert_eq!(
            (config.revocation_cache_ttl_s, config.kv_cache_ttl_s),
            (5, 30)
        );
    }

    #[test]
    fn pools_may_arrive_as_a_json_string() {
        let config = Config::from_env(&vars(Value::String(external().to_string()))).unwrap();
        assert_eq!(config.pools.len(), 1);
    }

    #[test]
    fn missing_pools_is_an_error_naming_the_setting() {
        let err = Config::from_env(&Map::new()).unwrap_err();
        assert_eq!(err.field, "POOLS");
    }

    #[test]
    fn a_misspelt_field_is_refused_not_ignored() {
        let pools = json!([{"id":"us-east-1_AbC123","clients":[{"id":"c"}],"isuer":"https://x"}]);
        let err = Config::from_env(&vars(pools)).unwrap_err();
        assert_eq!(err.field, "POOLS[0].isuer");
    }

    #[test]
    fn a_pool_without_clients_must_opt_out_explicitly() {
        let err = Config::from_env(&vars(json!([{"id":"us-east-1_AbC123"}]))).unwrap_err();
        assert_eq!(err.field, "POOLS[0].clients");
        let ok = Config::from_env(&vars(
            json!([{"id":"us-east-1_AbC123","allow_any_client":true}]),
        ))
        .unwrap();
        assert!(ok.pools[0].accepts_client("anything"));
    }

    #[test]
    fn a_bad_pool_id_is_refused() {
        let err =
            Config::from_env(&vars(json!([{"id":"n/a","allow_any_client":true}]))).unwrap_err();
        assert_eq!(err.field, "POOLS[0].id");
    }

    #[test]
    fn an_unsupported_algorithm_is_refused_by_name() {
        let pools =
            json!([{"id":"us-east-1_AbC123","allow_any_client":true,"algorithms":["ES512"]}]);
        let err = Config::from_env(&vars(pools)).unwrap_err();
        assert_eq!(err.field, "POOLS[0].algorithms");
        assert!(err.problem.contains("ES512"));
    }

    #[test]
    fn an_http_jwks_uri_is_refused_unless_loopback() {
        let pools = json!([{"id":"us-east-1_AbC123","allow_any_client":true,"jwks_uri":"http://evil.example/jwks"}]);
        assert_eq!(
            Config::from_env(&vars(pools)).unwrap_err().field,
            "POOLS[0].jwks_uri"
        );
        let pools = json!([{"id":"us-east-1_AbC123","allow_any_client":true,"jwks_uri":"http://127.0.0.1:9999/jwks"}]);
        assert!(Config::from_env(&vars(pools)).is_ok());
    }

    #[test]
    fn hs256_with_a_fetched_jwks_uri_is_refused_naming_the_field() {
        let pools = json!([{"id":"us-east-1_AbC123","allow_any_client":true,"algorithms":["HS256"],
                            "jwks_uri":"https://issuer.example/jwks.json"}]);
        let err = Config::from_env(&vars(pools)).unwrap_err();
        assert_eq!(err.field, "POOLS[0].jwks_uri");
        assert!(err.problem.contains("HS256"), "{}", err.problem);
        // The default jwks_uri (<issuer>/.well-known/jwks.json) is a URL too.
        let pools = json!([{"id":"us-east-1_AbC123","allow_any_client":true,"algorithms":["RS256","HS256"]}]);
        assert_eq!(
            Config::from_env(&vars(pools)).unwrap_err().field,
            "POOLS[0].jwks"
        );
        // Control: the same algorithm with an inline secret, and RS256 at a URL, load.
        let inline = json!([{"id":"us-east-1_AbC123","allow_any_client":true,"algorithms":["HS256"],
                             "jwks":{"keys":[{"kty":"oct","k":"ZXh0ZXJuYWwtcG9vbC1oczI1Ni1rZXktMzItYnl0ZXM"}]}}]);
        assert!(Config::from_env(&vars(inline)).is_ok());
        let remote = json!([{"id":"us-east-1_AbC123","allow_any_client":true,
                             "jwks_uri":"https://issuer.example/jwks.json"}]);
        assert!(Config::from_env(&vars(remote)).is_ok());
    }

    #[test]
    fn usernames_are_case_insensitive_unless_the_pool_says_otherwise() {
        let config = Config::from_env(&vars(external())).unwrap();
        assert_eq!(config.pools[0].username_case, CaseRule::Insensitive);
        assert!(!config.pools[0].username_may_be_email_or_phone);
        let pools = json!([{"id":"us-east-1_AbC123","clients":[{"id":"c"}],
                            "username_case_sensitive":true,"username_may_be_email_or_phone":true}]);
        let config = Config::from_env(&vars(pools)).unwrap();
        assert_eq!(config.pools[0].username_case, CaseRule::Sensitive);
        assert!(config.pools[0].username_may_be_email_or_phone);
        let pools = json!([{"id":"us-east-1_AbC123","clients":[{"id":"c"}],"username_case_sensitive":"yes"}]);
        assert_eq!(
            Config::from_env(&vars(pools)).unwrap_err().field,
            "POOLS[0].username_case_sensitive"
        );
    }

    #[test]
    fn a_pool_asking_for_more_pbkdf2_iterations_than_workerd_runs_is_refused_by_name() {
        let local = |iterations: u64| {
            let pools = json!([{"id":"us-east-1_Local1","local":{"password_iterations": iterations},
                "issuer":"http://127.0.0.1:8787/us-east-1_Local1","clients":[{"id":"c"}]}]);
            let mut v = vars(pools);
            v.insert(
                "SIGNING_KEYS".into(),
                crate::signing::test_keys::signing_keys_json(),
            );
            Config::from_env(&v)
        };
        let at_cap = local(100_000).unwrap();
        assert_eq!(at_cap.pools[0].password_iterations(), 100_000);
        let err = local(100_001).unwrap_err();
        assert_eq!(err.field, "POOLS[0].local.password_iterations");
        assert!(
            err.problem.contains("from 1000 to 100000"),
            "{}",
            err.problem
        );
        assert!(err.problem.contains("workerd"), "{}", err.problem);
        assert!(local(999).is_err());
    }

    #[test]
    fn a_local_pool_refuses_the_external_alias_setting() {
        let pools = json!([{"id":"us-east-1_Local1","local":{},"issuer":"http://127.0.0.1:8787/us-east-1_Local1",
                            "clients":[{"id":"c"}],"username_may_be_email_or_phone":true}]);
        let mut v = vars(pools);
        v.insert(
            "SIGNING_KEYS".into(),
            crate::signing::test_keys::signing_keys_json(),
        );
        assert_eq!(
            Config::from_env(&v).unwrap_err().field,
            "POOLS[0].username_may_be_email_or_phone"
        );
    }

    #[test]
    fn dev_mode_is_off_unless_set_to_true_and_anything_else_is_refused() {
        let mut v = vars(external());
        assert!(!Config::from_env(&v).unwrap().dev_mode);
        for (value, on) in [
            (json!("true"), true),
            (json!(true), true),
            (json!("false"), false),
            (json!(false), false),
        ] {
            v.insert("DEV_MODE".into(), value);
            assert_eq!(Config::from_env(&v).unwrap().dev_mode, on);
        }
        for value in [json!("yes"), json!("1"), json!("TRUE"), json!(1)] {
            v.insert("DEV_MODE".into(), value);
            assert_eq!(Config::from_env(&v).unwrap_err().field, "DEV_MODE");
        }
    }

    #[test]
    fn a_kv_cache_ttl_under_kvs_minimum_is_refused() {
        let mut v = vars(external());
        v.insert("KV_CACHE_TTL_S".into(), json!("10"));
        assert_eq!(Config::from_env(&v).unwrap_err().field, "KV_CACHE_TTL_S");
        v.insert("KV_CACHE_TTL_S".into(), json!(60));
        assert_eq!(Config::from_env(&v).unwrap().kv_cache_ttl_s, 60);
    }

    #[test]
    fn the_revocation_filter_settings_default_and_accept_numbers_or_text() {
        let mut v = vars(external());
        let filter = Config::from_env(&v).unwrap().revocation_filter;
        assert_eq!(filter, RevocationFilterSettings::default());
        assert_eq!(filter.fp_rate, 0.001);
        v.insert("REVOCATION_FILTER_FP_RATE".into(), json!("1e-4"));
        v.insert("REVOCATION_FILTER_MAX_ENTRIES".into(), json!(50_000));
        let filter = Config::from_env(&v).unwrap().revocation_filter;
        assert_eq!((filter.fp_rate, filter.max_entries), (0.0001, 50_000));
        v.insert("REVOCATION_FILTER_FP_RATE".into(), json!(0.02));
        v.insert("REVOCATION_FILTER_MAX_ENTRIES".into(), json!(" 0 "));
        let filter = Config::from_env(&v).unwrap().revocation_filter;
        assert_eq!((filter.fp_rate, filter.max_entries), (0.02, 0));
    }

    #[test]
    fn a_revocation_filter_rate_outside_its_range_or_not_a_number_is_refused_by_name() {
        for bad in [
            json!("0"),
            json!(0),
            json!("-0.01"),
            json!("0.6"),
            json!(1),
            json!("NaN"),
            json!("inf"),
            json!("1%"),
            json!("1e-10"),
            json!(true),
            json!([0.01]),
        ] {
            let mut v = vars(external());
            v.insert("REVOCATION_FILTER_FP_RATE".into(), bad.clone());
            let err = Config::from_env(&v).unwrap_err();
            assert_eq!(err.field, "REVOCATION_FILTER_FP_RATE", "{bad}");
            assert!(err.problem.contains("0.001"), "{}", err.problem);
        }
        for bad in [json!("-1"), json!(1.5), json!("lots"), json!(20_000_001)] {
            let mut v = vars(external());
            v.insert("REVOCATION_FILTER_MAX_ENTRIES".into(), bad.clone());
            let err = Config::from_env(&v).unwrap_err();
            assert_eq!(err.field, "REVOCATION_FILTER_MAX_ENTRIES", "{bad}");
            assert!(
                err.problem.contains("whole number of entries"),
                "{}",
                err.problem
            );
        }
    }

    #[test]
    fn the_listing_delay_defaults_to_what_the_authority_computes_and_is_at_least_15_seconds() {
        let mut v = vars(external());
        assert_eq!(
            RevocationFilterSettings::listing_delay_ms(&v, 125_000),
            Ok(125_000)
        );
        v.insert("REVOCATION_FILTER_LISTING_DELAY_S".into(), json!("15"));
        assert_eq!(
            RevocationFilterSettings::listing_delay_ms(&v, 125_000),
            Ok(15_000)
        );
        assert!(Config::from_env(&v).is_ok());
        for bad in [
            json!("14"),
            json!(0),
            json!("soon"),
            json!(86_401),
            json!(1.5),
        ] {
            v.insert("REVOCATION_FILTER_LISTING_DELAY_S".into(), bad.clone());
            let err = Config::from_env(&v).unwrap_err();
            assert_eq!(err.field, "REVOCATION_FILTER_LISTING_DELAY_S", "{bad}");
        }
    }

    #[test]
    fn freshness_defaults_to_two_seconds_and_the_fail_closed_limit_is_off_unless_set() {
        let mut v = vars(external());
        let config = Config::from_env(&v).unwrap();
        assert_eq!(
            (config.freshness_s, config.feed_fail_closed_after_s),
            (DEFAULT_FRESHNESS_S, None)
        );
        assert_eq!(config.kv_timings().window_ms(), 95_000);
        v.insert("FRESHNESS_S".into(), json!("1"));
        v.insert("FEED_FAIL_CLOSED_AFTER_S".into(), json!(30));
        let config = Config::from_env(&v).unwrap();
        assert_eq!(
            (config.freshness_s, config.feed_fail_closed_after_s),
            (1, Some(30))
        );
        for bad in [json!("0"), json!(61), json!("soon"), json!(1.5)] {
            v.insert("FRESHNESS_S".into(), bad);
            assert_eq!(Config::from_env(&v).unwrap_err().field, "FRESHNESS_S");
        }
        v.insert("FRESHNESS_S".into(), json!(10));
        for bad in [json!(5), json!(0), json!("off")] {
            v.insert("FEED_FAIL_CLOSED_AFTER_S".into(), bad);
            assert_eq!(
                Config::from_env(&v).unwrap_err().field,
                "FEED_FAIL_CLOSED_AFTER_S"
            );
        }
    }

    #[test]
    fn the_authority_reads_its_cache_lifetimes_without_the_rest_of_the_configuration() {
        let mut v = Map::new();
        assert_eq!(
            KvTimings::from_env(&v),
            Ok(KvTimings {
                kv_cache_ttl_s: 30,
                revocation_cache_ttl_s: 5
            })
        );
        v.insert("KV_CACHE_TTL_S".into(), json!("3600"));
        assert_eq!(KvTimings::from_env(&v).unwrap().window_ms(), 3_665_000);
        v.insert("KV_CACHE_TTL_S".into(), json!("1"));
        assert_eq!(KvTimings::from_env(&v).unwrap_err().field, "KV_CACHE_TTL_S");
    }

    #[test]
    fn a_wildcard_origin_is_refused() {
        let mut v = vars(external());
        v.insert("ALLOWED_ORIGINS".into(), json!("*"));
        assert_eq!(Config::from_env(&v).unwrap_err().field, "ALLOWED_ORIGINS");
        v.insert(
            "ALLOWED_ORIGINS".into(),
            json!("https://a.example, http://127.0.0.1:8787"),
        );
        let config = Config::from_env(&v).unwrap();
        assert!(config.allows_origin("http://127.0.0.1:8787"));
        assert!(!config.allows_origin("http://127.0.0.1:8788"));
    }

    #[test]
    fn a_local_pool_needs_an_issuer_and_signing_keys() {
        let pools = json!([{"id":"us-east-1_Local1","local":{},"clients":[{"id":"c"}]}]);
        assert_eq!(
            Config::from_env(&vars(pools)).unwrap_err().field,
            "POOLS[0].issuer"
        );
        let pools = json!([{"id":"us-east-1_Local1","local":{},"issuer":"http://127.0.0.1:8787/us-east-1_Local1","clients":[{"id":"c"}]}]);
        assert_eq!(
            Config::from_env(&vars(pools)).unwrap_err().field,
            "SIGNING_KEYS"
        );
    }

    #[test]
    fn revocation_ttl_outlives_refresh_tokens_and_is_never_under_a_minute() {
        let config = Config::from_env(&vars(external())).unwrap();
        assert_eq!(config.pools[0].revocation_ttl_s(), 2_592_000 + 3_600 + 300);
    }
}
