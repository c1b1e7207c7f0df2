//! The front door: every request is routed here, once, and every call of the JavaScript API
//! enters here too, as a trusted caller.
//!
//! [`route`] decides from the method and path alone which handler a request goes to, so the
//! adapter knows whether to read the body before anything else happens; [`App::serve`] then
//! answers it: `/healthz`, `POST /` (`api`), the gate (`gate`), a local pool's discovery
//! documents, or the static assets. Every answer leaves with the request id and the caller's
//! CORS headers, added in one place. [`App::call`] runs the JavaScript API's calls through the
//! same `api::invoke` (operations) and `Services::authorize` (tokens) as HTTP callers.
//!
//! The adapter turns the [`Outcome`] into a Workers `Response`, a proxied `fetch`, or a
//! static-asset lookup.

use std::{cell::RefCell, rc::Rc};

use serde_json::{json, Map, Value};

pub use crate::http::Outcome;
pub use crate::services::Io;
use crate::{
    api,
    auth::{Authenticated, Expect},
    config::{BrokenConfig, Config, PoolKeys},
    cors,
    error::{ConfigError, Error, Surface},
    gate,
    http::{Request, Response},
    ops::{Caller, Operation},
    proxy,
    revocation::{authority::FeedState, Enforcement, FilterReport, Receipt, ENFORCED_BY_HEADER},
    services::Services,
    sigv4::{self, RequestParts},
    ssf::{
        self,
        push::{self as ssf_push, PushRequest},
        receive::Receiver,
        SsfError, Transmitters,
    },
};

/// The console's Content-Security-Policy: its own script, style, images and wasm (compiling
/// wasm needs `'wasm-unsafe-eval'`, nothing else `eval`s), requests to its own origin only, no
/// inline code, no plugins, no framing (the admin panel signs requests), no form posts elsewhere.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The field of the JavaScript API's result that says when every location refuses what a call
/// revoked, in ms since the epoch (`x-edge-revoke-enforced-by` over HTTP).
pub const ENFORCED_BY_FIELD: &str = "enforcedBy";

/// Headers the adapter adds to every static asset (the console).
pub const ASSET_HEADERS: [(&str, &str); 3] = [
    ("content-security-policy", CONSOLE_CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
];

/// The Worker, as plain values: what an isolate keeps between requests, behind the front door.
#[derive(Default)]
pub struct App {
    services: Services,
    /// `SSF_TRANSMITTERS`, parsed with the configuration by [`App::load`].
    transmitters: RefCell<Rc<Transmitters>>,
}

/// A call of the JavaScript API by code in the same Worker: trusted (no SigV4, no rate limit),
/// with the same validation, checks and errors as the HTTP API.
#[derive(Debug, Clone, Copy)]
pub enum TrustedCall<'a> {
    /// Run a Cognito operation (`globalSignOut`: AdminUserGlobalSignOut, `revokeToken`:
    /// RevokeToken).
    Operation {
        /// The operation.
        operation: Operation,
        /// Its input, as the wire protocol's JSON body.
        input: &'a Map<String, Value>,
    },
    /// Verify a token and check it is not revoked (`verifyToken`); answers its claims.
    VerifyToken {
        /// The compact JWS.
        token: &'a str,
        /// Which token kind and client to accept.
        expect: Expect<'a>,
    },
}

/// Which handler a request goes to; decided before the body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /healthz`.
    Health,
    /// `POST /`: the Cognito API. Its body is read (capped), as `OAuth`'s is.
    Api,
    /// `GET /<poolId>/.well-known/jwks.json` or `…/openid-configuration`.
    WellKnown,
    /// `POST /<poolId>/oauth2/token` or `…/revoke`: a pool's hosted-UI endpoints, forwarded
    /// to its upstream domain (`proxy::oauth`).
    OAuth,
    /// `/ssf/events/<transmitter id>`: Shared Signals push delivery (RFC 8935). Its body is
    /// read (capped) too.
    SsfPush,
    /// A path under a protected prefix.
    Gate,
    /// Anything else: static assets.
    Assets,
}

impl Route {
    /// Whether the adapter must read the body for this route.
    pub fn needs_body(self) -> bool {
        matches!(self, Route::Api | Route::OAuth | Route::SsfPush)
    }
}

/// Decides the route from the method and path alone.
pub fn route(config: Option<&Config>, method: &str, path: &str) -> Route {
    if path == "/healthz" {
        return Route::Health;
    }
    if path == "/" && method == "POST" {
        return Route::Api;
    }
    if method == "GET" && well_known(path).is_some() {
        return Route::WellKnown;
    }
    if method == "POST" && proxy::oauth::endpoint(path).is_some() {
        return Route::OAuth;
    }
    if path.starts_with(ssf::push::PATH_PREFIX) {
        return Route::SsfPush;
    }
    let protected = match config {
        Some(config) => config.is_protected(path),
        None => path.starts_with("/api/"),
    };
    if protected {
        Route::Gate
    } else {
        Route::Assets
    }
}

impl App {
    /// A fresh isolate's state.
    pub fn new() -> Self {
        Self::default()
    }

    /// How full the isolate's caches are, beside their bounds (counts only).
    pub fn cache_sizes(&self) -> crate::services::CacheSizes {
        self.services.cache_sizes()
    }

    /// Parses the settings: the configuration, then `SSF_TRANSMITTERS` against it (kept here
    /// for the push route and the scheduled poll). Either failing is a broken configuration.
    pub fn load(&self, vars: &Map<String, Value>) -> Result<Config, BrokenConfig> {
        let config = Config::load(vars)?;
        if !crate::unicode::available() {
            // Ids could not be put in one spelling: the Worker refuses to run rather than let
            // `crate::identity`'s last-resort spelling join every user of a pool into one.
            return Err(BrokenConfig {
                error: ConfigError::new(
                    "runtime",
                    "this JavaScript engine cannot normalize Unicode (String.prototype.normalize), so user ids cannot be compared safely; every request is refused",
                ),
                admin_credentials: config.admin_credentials,
            });
        }
        match Transmitters::from_env(vars, &config) {
            Ok(transmitters) => {
                if let Ok(mut held) = self.transmitters.try_borrow_mut() {
                    *held = Rc::new(transmitters);
                }
                Ok(config)
            }
            Err(error) => Err(BrokenConfig {
                error,
                admin_credentials: config.admin_credentials,
            }),
        }
    }

    /// The Shared Signals transmitters of the last [`App::load`].
    pub fn transmitters(&self) -> Rc<Transmitters> {
        self.transmitters
            .try_borrow()
            .map(|held| held.clone())
            .unwrap_or_default()
    }

    /// Routes and answers one request whose body (if its route needs one) is read.
    /// `config` is the parsed environment, or why it could not be parsed.
    pub async fn handle(
        &self,
        config: Result<&Config, &BrokenConfig>,
        request: &Request,
        io: &Io<'_>,
    ) -> Outcome {
        let route = route(config.ok(), &request.method, &request.path);
        self.serve(route, config, request, io).await
    }

    /// Answers a request already routed by [`route`] (the adapter routes first, to know whether
    /// to read the body).
    pub async fn serve(
        &self,
        route: Route,
        config: Result<&Config, &BrokenConfig>,
        request: &Request,
        io: &Io<'_>,
    ) -> Outcome {
        let config = match config {
            Ok(config) => config,
            Err(broken) => {
                // The details go to the log; callers hear only that the configuration is bad.
                (io.log)(&format!("configuration error: {}", broken.error));
                let error = Error::Config(broken.error.clone());
                let response = match route {
                    Route::Health => self.broken_health(broken, request, io).await,
                    Route::Gate => Response::aws_error(&error, Surface::Gate, "application/json"),
                    Route::Api => Response::aws_error(&error, Surface::Api, api::CONTENT_TYPE),
                    _ => Response::aws_error(&error, Surface::Api, "application/json"),
                };
                return Outcome::Respond(finish(response, io));
            }
        };
        if cors::is_preflight(request) && cors::applies(config, &request.path) {
            if let Some(why) = cors::refusal(config, request) {
                (io.log)(&format!(
                    "CORS preflight for {} refused: {why}",
                    request.path
                ));
            }
            return Outcome::Respond(finish(cors::preflight(config, request), io));
        }
        // Every answer below gets the request id and the caller's CORS headers, here, once.
        let cors = cors::response_headers(config, request);
        let outcome = match route {
            Route::Health => Outcome::Respond(self.health(config, request, io).await),
            Route::Api => Outcome::Respond(api::handle(&self.services, config, request, io).await),
            Route::Gate => gate::handle(&self.services, config, request, io).await,
            Route::WellKnown => Outcome::Respond(match upstream_jwks(config, &request.path) {
                Some(pool) => self.proxied_keys(pool, io).await,
                None => discovery(config, &request.path),
            }),
            Route::OAuth => {
                Outcome::Respond(proxy::oauth::handle(&self.services, config, request, io).await)
            }
            Route::SsfPush => Outcome::Respond(self.ssf_push(config, request, io).await),
            Route::Assets => Outcome::Assets,
        };
        match outcome {
            Outcome::Respond(response) => {
                let mut response = finish(response, io);
                response.headers.extend(cors);
                Outcome::Respond(response)
            }
            Outcome::Forward { url, identity, .. } => Outcome::Forward {
                url,
                identity,
                cors,
            },
            Outcome::Assets => Outcome::Assets,
        }
    }

    /// Answers a `POST /` whose body the adapter could not read (too large, or a broken stream)
    /// with `error`, finished as every answer is.
    pub fn refuse_unread(
        &self,
        config: Result<&Config, &BrokenConfig>,
        request: &Request,
        error: &Error,
        io: &Io<'_>,
    ) -> Response {
        let refused = if route(config.ok(), &request.method, &request.path) == Route::SsfPush {
            // A push whose body could not be read is the sender's problem, never a 5xx.
            ssf_push::rejected(&match error {
                Error::Api(crate::error::ApiError::PayloadTooLarge) => SsfError::BodyTooLarge,
                _ => SsfError::InvalidRequest("the body could not be read"),
            })
        } else {
            Response::aws_error(error, Surface::Api, api::CONTENT_TYPE)
        };
        let mut response = finish(refused, io);
        if let Ok(config) = config {
            response
                .headers
                .extend(cors::response_headers(config, request));
        }
        response
    }

    /// Runs a call of the JavaScript API: the operation through `api::invoke` with a trusted
    /// caller, or the token through the same checks as the gate's. Errors are worded for
    /// [`Surface::JsApi`].
    pub async fn call(
        &self,
        config: Result<&Config, &BrokenConfig>,
        call: TrustedCall<'_>,
        io: &Io<'_>,
    ) -> Result<Value, Error> {
        let config = config.map_err(|broken| Error::Config(broken.error.clone()))?;
        match call {
            TrustedCall::Operation { operation, input } => {
                let answer = api::invoke(
                    &self.services,
                    config,
                    operation,
                    input,
                    Caller::Trusted,
                    io,
                )
                .await?;
                // The JavaScript API's receipt is a field of its result (over HTTP, a header).
                let mut output = answer.output;
                if let (Some(ms), Value::Object(fields)) = (answer.enforced_by_ms, &mut output) {
                    fields.insert(ENFORCED_BY_FIELD.into(), Value::from(ms));
                }
                Ok(output)
            }
            TrustedCall::VerifyToken { token, expect } => {
                let caller = self.services.authorize(config, token, &expect, io).await?;
                Ok(Value::Object(caller.auth().claims().all.clone()))
            }
        }
    }

    /// How many verified tokens this isolate keeps (`crate::verified`), for tests and
    /// diagnostics.
    pub fn verified_tokens(&self) -> usize {
        self.services.verified_tokens()
    }

    /// Runs the scheduled Shared Signals work: verification requests that are due (SSF
    /// §8.1.4.2), then the poll (RFC 8936): every transmitter with a `poll` stream is asked for
    /// its SETs, which are applied as pushed ones are and acknowledged only once applied.
    /// Answers one line per request and per polled transmitter.
    pub async fn poll(
        &self,
        config: Result<&Config, &BrokenConfig>,
        io: &Io<'_>,
    ) -> Result<Vec<String>, Error> {
        let config = config.map_err(|broken| Error::Config(broken.error.clone()))?;
        let transmitters = self.transmitters();
        let revocations = self.services.revocations(config, io);
        let receiver = self.receiver(config, &transmitters, &revocations, io);
        let mut lines = receiver.request_verifications().await;
        lines.extend(receiver.poll_all().await);
        Ok(lines)
    }

    /// `POST /ssf/events/<transmitter id>`.
    /// A push whose events wrote a revocation answers with its receipt
    /// (`x-edge-revoke-enforced-by`), as a Cognito sign-out does.
    async fn ssf_push(&self, config: &Config, request: &Request, io: &Io<'_>) -> Response {
        let transmitters = self.transmitters();
        let receipt = Receipt::new();
        let revocations = self.services.revocations_noting(config, io, &receipt);
        let id = ssf_push::transmitter_id(&request.path).unwrap_or_default();
        let response = self
            .receiver(config, &transmitters, &revocations, io)
            .push(id, &PushRequest::from_http(request))
            .await;
        match receipt.enforced_by_ms() {
            Some(ms) => response.with_header(ENFORCED_BY_HEADER, ms.to_string()),
            None => response,
        }
    }

    fn receiver<'r>(
        &'r self,
        config: &'r Config,
        transmitters: &'r Transmitters,
        revocations: &'r crate::revocation::Revocations<'r>,
        io: &'r Io<'r>,
    ) -> Receiver<'r> {
        Receiver {
            config,
            transmitters,
            revocations,
            key_cache: self.services.key_cache(),
            key_sets: io.store.key_sets(),
            users: io.store.users(),
            streams: io.store.streams(),
            fetcher: io.fetcher,
            verifier: io.verifier,
            now_ms: io.now_ms,
            request_id: io.request_id,
            log: io.log,
        }
    }

    /// Verifies a bearer token (signature and claims, not the revocation list): the first half
    /// of what the gate and `verifyToken` check.
    pub async fn authenticate(
        &self,
        config: &Config,
        token: &str,
        expect: &Expect<'_>,
        io: &Io<'_>,
    ) -> Result<Authenticated, Error> {
        self.services.authenticate(config, token, expect, io).await
    }

    /// `/healthz` while the configuration is invalid: `config: error`, and which field is wrong
    /// only for a request SigV4-signed (service `cognito-idp`, any region) by a key of
    /// `ADMIN_CREDENTIALS`; a request whose signature fails gets the SigV4 error.
    async fn broken_health(
        &self,
        broken: &BrokenConfig,
        request: &Request,
        io: &Io<'_>,
    ) -> Response {
        let kv = match self.probe_kv(io).await {
            Ok(()) => "ok",
            Err(()) => "unreachable",
        };
        let mut body = json!({"status": "error", "config": "error", "kv": kv});
        if request.header("authorization").is_some() {
            let parts = RequestParts {
                method: &request.method,
                path: &request.path,
                query: &request.query,
                headers: &request.headers,
                body: &request.body,
            };
            let lookup = |access_key_id: &str| {
                broken
                    .admin_credentials
                    .iter()
                    .find(|c| c.access_key_id == access_key_id)
                    .map(|c| c.secret_access_key.clone())
            };
            match sigv4::verify(
                &parts,
                api::SIGV4_SERVICE,
                io.now_ms,
                api::SIGV4_SKEW_MS,
                &lookup,
            ) {
                Ok(verified) => {
                    (io.log)(&format!(
                        "healthz: configuration error shown to {}",
                        verified.access_key_id
                    ));
                    body["config_error"] = Value::from(broken.error.to_string());
                }
                Err(err) => {
                    return Response::aws_error(&err.into(), Surface::Api, "application/json")
                }
            }
        }
        Response::json(500, &body)
    }

    /// A proxied pool's public keys, as this Worker verifies its tokens with them (the JWKS
    /// cache's copy of its `jwks_uri`).
    async fn proxied_keys(&self, pool: &crate::config::Pool, io: &Io<'_>) -> Response {
        match self.services.pool_keys(pool, io).await {
            Ok(keys) => Response::json(200, &keys.to_public_jwks())
                .with_header("cache-control", "public, max-age=300"),
            Err(err) => {
                (io.log)(&format!("keys of pool {}: {err}", pool.id));
                Response::aws_error(&err, Surface::Api, "application/json")
            }
        }
    }

    /// One KV read, to tell whether KV answers.
    async fn probe_kv(&self, io: &Io<'_>) -> Result<(), ()> {
        match io.store.probe().await {
            Ok(_) => Ok(()),
            Err(err) => {
                (io.log)(&format!("healthz: {err}"));
                Err(())
            }
        }
    }

    /// `/healthz`: the configuration, KV, the pools, and how revocations are enforced from this
    /// isolate (`revocation`: whether an authority is bound, its feed's state, within how many
    /// seconds a sign-out answered now is refused everywhere). A feed that cannot be refreshed
    /// makes the status `degraded` (KV decides, with KV's window); one past
    /// `FEED_FAIL_CLOSED_AFTER_S` makes it `error` and 503, as every token is refused then.
    async fn health(&self, config: &Config, request: &Request, io: &Io<'_>) -> Response {
        let kv = self.probe_kv(io).await;
        let enforcement = self.services.enforcement(config, io).await;
        let pools: Vec<Value> = config
            .pools
            .iter()
            .map(|p| Value::from(p.id.clone()))
            .collect();
        let (status, word) = match (&kv, &enforcement) {
            (Err(()), _) | (_, Enforcement { refusing: true, .. }) => (503, "error"),
            (
                Ok(()),
                Enforcement {
                    feed: Some(FeedState::Stale { .. }),
                    ..
                },
            ) => (200, "degraded"),
            (Ok(()), _) => (200, "ok"),
        };
        let kv_word = if kv.is_ok() { "ok" } else { "unreachable" };
        let mut body = json!({"status": word, "config": "ok", "kv": kv_word, "pools": pools,
                              "revocation": enforcement_json(&enforcement)});
        // An admin (a request SigV4-signed by a key of ADMIN_CREDENTIALS) sees the details.
        let admin = request.header("authorization").map(|_| {
            let lookup = |access_key_id: &str| {
                config
                    .admin_credentials
                    .iter()
                    .find(|c| c.access_key_id == access_key_id)
                    .map(|c| c.secret_access_key.clone())
            };
            admin_signature(request, &lookup, io)
        });
        if let (Some(Ok(())), Some(filter)) = (&admin, &enforcement.filter) {
            body["revocation"]["filter_detail"] = filter_detail(filter);
        }
        // `dev_mode` tells the console it may take admin keys from its link (make dev).
        if config.dev_mode && kv.is_ok() {
            body["dev_mode"] = Value::Bool(true);
        }
        let transmitters = self.transmitters();
        if !transmitters.is_empty() && kv.is_ok() {
            // Everyone sees how many transmitters there are and how many last failed; only an
            // admin (a request SigV4-signed by a key of ADMIN_CREDENTIALS) sees which, and why.
            let revocations = self.services.revocations(config, io);
            let receiver = self.receiver(config, &transmitters, &revocations, io);
            match receiver.statuses().await {
                Ok(statuses) => {
                    let failing = statuses.iter().filter(|s| is_failing(s)).count();
                    body["ssf"] = json!({"transmitters": statuses.len(), "failing": failing});
                    match admin {
                        Some(Ok(())) => body["ssf"]["status"] = Value::Array(statuses),
                        Some(Err(err)) => {
                            return Response::aws_error(&err, Surface::Api, "application/json")
                        }
                        None => {}
                    }
                }
                Err(err) => (io.log)(&format!("healthz: ssf status: {err}")),
            }
        }
        Response::json(status, &body)
    }
}

/// The `revocation` member of `/healthz`.
fn enforcement_json(enforcement: &Enforcement) -> Value {
    let mut out = json!({
        "authority": if enforcement.authority { "bound" } else { "none" },
    });
    match &enforcement.feed {
        Some(FeedState::Fresh { age_ms }) => {
            out["feed"] = "fresh".into();
            out["feed_age_ms"] = (*age_ms).into();
        }
        Some(FeedState::Stale {
            age_ms, since_ms, ..
        }) => {
            out["feed"] = "stale".into();
            out["feed_age_ms"] = age_ms.map_or(Value::Null, Value::from);
            out["failing_since"] = (*since_ms).into();
            out["fallback"] = if enforcement.refusing { "refuse" } else { "kv" }.into();
        }
        None => {}
    }
    if !enforcement.refusing {
        out["enforced_within_s"] = enforcement.bound_ms.div_ceil(1000).into();
    }
    if let Some(filter) = &enforcement.filter {
        out["filter"] = if filter.incomplete.is_none() {
            "complete"
        } else {
            "incomplete"
        }
        .into();
    }
    out
}

/// The revocation filter's details, for an admin: why it is incomplete, and the base held
/// (version, entries, encoded bytes, when the authority built it).
fn filter_detail(filter: &FilterReport) -> Value {
    let mut out = json!({ "incomplete_because": filter.incomplete });
    if let Some((meta, bytes)) = &filter.base {
        out["version"] = meta.version.into();
        out["entries"] = meta.count.into();
        out["bytes"] = (*bytes as u64).into();
        out["built_at_ms"] = meta.built_at_ms.into();
        out["seq"] = meta.seq.into();
    }
    out
}

/// Whether a transmitter's status record shows an error later than its last event, or a
/// verification that failed or went unanswered.
fn is_failing(status: &Value) -> bool {
    let at = |name: &str| status.get(name).and_then(Value::as_u64).unwrap_or(0);
    let unverified = matches!(
        status.get("verification").and_then(Value::as_str),
        Some("unanswered" | "invalid_state" | "request_failed")
    );
    unverified || (status.get("last_error").is_some() && at("last_error_ms") >= at("last_event_ms"))
}

/// Checks that `request` is SigV4-signed (service `cognito-idp`, any region) by a key
/// `lookup` knows.
fn admin_signature(
    request: &Request,
    lookup: &dyn Fn(&str) -> Option<String>,
    io: &Io<'_>,
) -> Result<(), Error> {
    let parts = RequestParts {
        method: &request.method,
        path: &request.path,
        query: &request.query,
        headers: &request.headers,
        body: &request.body,
    };
    let verified = sigv4::verify(
        &parts,
        api::SIGV4_SERVICE,
        io.now_ms,
        api::SIGV4_SKEW_MS,
        lookup,
    )?;
    (io.log)(&format!(
        "healthz: details shown to {}",
        verified.access_key_id
    ));
    Ok(())
}

/// The pool with an upstream whose key set `path` asks for (`/<poolId>/.well-known/jwks.json`):
/// the console checks a proxied pool's token signatures with it, as it does a local pool's.
fn upstream_jwks<'c>(config: &'c Config, path: &str) -> Option<&'c crate::config::Pool> {
    let (pool_id, document) = well_known(path)?;
    let pool = config.pool(pool_id)?;
    (document == "jwks.json" && pool.upstream.is_some()).then_some(pool)
}

/// Adds the headers every answer carries: the request id, unless the answer is an upstream's
/// and carries Cognito's own (passed on as it came; the log ties the two together).
fn finish(response: Response, io: &Io<'_>) -> Response {
    if response.header("x-amzn-requestid").is_some() {
        return response;
    }
    response.with_header("x-amzn-requestid", io.request_id)
}

/// The pool id and document name of a `/<poolId>/.well-known/<document>` path.
fn well_known(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('/')?;
    let (pool_id, document) = rest.split_once("/.well-known/")?;
    let known = matches!(document, "jwks.json" | "openid-configuration");
    (known && !pool_id.is_empty() && !pool_id.contains('/')).then_some((pool_id, document))
}

/// A local pool's discovery documents, so any OIDC verifier can check its tokens.
fn discovery(config: &Config, path: &str) -> Response {
    let not_found = || {
        Response::aws_error(
            &Error::NotFound("No local pool with this id."),
            Surface::Api,
            "application/json",
        )
    };
    let Some((pool_id, document)) = well_known(path) else {
        return not_found();
    };
    let Some(pool) = config.pool(pool_id).filter(|p| p.local.is_some()) else {
        return not_found();
    };
    let PoolKeys::Local(keys) = &pool.keys else {
        return not_found();
    };
    let body = match document {
        "jwks.json" => keys.to_public_jwks(),
        _ => json!({
            "issuer": pool.issuer,
            "jwks_uri": format!("{}/.well-known/jwks.json", pool.issuer),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "token"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "token_use",
                                 "cognito:username", "email", "email_verified", "origin_jti", "jti"],
        }),
    };
    // Keys rotate rarely; verifiers may cache for an hour (they refetch on an unknown kid).
    Response::json(200, &body)
        .with_header("cache-control", "public, max-age=3600")
        .with_header("access-control-allow-origin", "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_policy_allows_its_own_code_and_wasm_and_nothing_inline_or_foreign() {
        let directives: Vec<&str> = CONSOLE_CSP.split("; ").collect();
        for wanted in [
            "default-src 'none'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(directives.contains(&wanted), "{wanted}");
        }
        assert!(!CONSOLE_CSP.contains("unsafe-inline") && !CONSOLE_CSP.contains("'unsafe-eval'"));
        assert!(!CONSOLE_CSP.contains('*') && !CONSOLE_CSP.contains("  "));
        assert_eq!(ASSET_HEADERS[0], ("content-security-policy", CONSOLE_CSP));
    }

    #[test]
    fn a_bad_ssf_transmitters_setting_breaks_the_configuration_naming_the_field() {
        let vars = json!({
            "POOLS": [{"id": "us-east-1_A1", "allow_any_client": true,
                       "jwks_uri": "https://idp.example/jwks"}],
            "SSF_TRANSMITTERS": [{"id": "tx1", "issuer": "https://tx.example",
                "jwks_uri": "https://tx.example/jwks", "audience": "https://edge.example",
                "push_secret": "test-push-secret-0123456789abcdef", "pool": "us-east-1_Nope"}],
        });
        let app = App::new();
        let broken = app.load(vars.as_object().unwrap()).unwrap_err();
        assert_eq!(broken.error.field, "SSF_TRANSMITTERS[0].pool");
        let mut good = vars.clone();
        good["SSF_TRANSMITTERS"][0]["pool"] = json!("us-east-1_A1");
        assert!(app.load(good.as_object().unwrap()).is_ok());
        assert!(app.transmitters().by_id("tx1").is_some());
        good.as_object_mut().unwrap().remove("SSF_TRANSMITTERS");
        assert!(app.load(good.as_object().unwrap()).is_ok());
        assert!(
            app.transmitters().is_empty(),
            "a reload forgets removed transmitters"
        );
    }

    #[test]
    fn routes_are_decided_by_method_and_path() {
        assert_eq!(route(None, "GET", "/healthz"), Route::Health);
        assert_eq!(route(None, "POST", "/"), Route::Api);
        assert_eq!(route(None, "GET", "/"), Route::Assets);
        assert_eq!(route(None, "GET", "/api/me"), Route::Gate);
        assert_eq!(
            route(None, "GET", "/us-east-1_A1/.well-known/jwks.json"),
            Route::WellKnown
        );
        assert_eq!(
            route(
                None,
                "GET",
                "/us-east-1_A1/.well-known/openid-configuration"
            ),
            Route::WellKnown
        );
        assert_eq!(
            route(None, "GET", "/a/b/.well-known/jwks.json"),
            Route::Assets
        );
        assert_eq!(
            route(None, "POST", "/us-east-1_A1/.well-known/jwks.json"),
            Route::Assets
        );
        assert_eq!(route(None, "DELETE", "/api/x"), Route::Gate);
        assert!(Route::Api.needs_body() && !Route::Gate.needs_body());
        assert_eq!(
            route(None, "POST", "/us-east-1_A1/oauth2/token"),
            Route::OAuth
        );
        assert_eq!(
            route(None, "GET", "/us-east-1_A1/oauth2/token"),
            Route::Assets
        );
        assert!(Route::OAuth.needs_body());
        assert_eq!(route(None, "POST", "/ssf/events/tx1"), Route::SsfPush);
        assert_eq!(route(None, "GET", "/ssf/events/tx1"), Route::SsfPush);
        assert!(Route::SsfPush.needs_body());
    }
}
