//! The Worker's behaviour as plain values: route a [`Request`] to an [`Outcome`].
//!
//! [`App`] holds what an isolate keeps between requests (the JWKS cache, the revocation cache);
//! [`Io`] carries what one request may use (KV, fetch, the rate limiter, the clock). The adapter
//! turns the outcome into a Workers `Response`, a proxied `fetch`, or a static-asset lookup.

use std::rc::Rc;

use percent_encoding::{percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value};

use crate::{
    auth::{Authenticated, Candidate, Expect},
    config::{BrokenConfig, Config, PoolKeys},
    crypto::SignatureVerifier,
    error::{Error, Surface},
    http::{Request, Response},
    jwk::KeySet,
    jwks::{JwksCache, JwksIo},
    ports::{Fetcher, RateLimiter, Store},
    replay::UsedSignatures,
    revocation::{NotRevoked, RevocationCache, Revocations},
    sigv4::{self, RequestParts},
};

/// Prefix of the identity headers set on forwarded requests; the client's own are removed.
pub const IDENTITY_HEADER_PREFIX: &str = "x-edge-auth-";

/// Whether a client's header would pass for one of our identity headers, and so must not reach
/// the origin: its name, lowercased and with `_` read as `-`, begins with `x-edge-auth-`.
/// Servers that map headers to CGI-style variables (`HTTP_X_EDGE_AUTH_USERNAME`: PHP, WSGI,
/// Rack, many proxies) make `x_edge_auth_username` and `X-Edge-Auth-Username` the same header.
pub fn is_identity_header(name: &str) -> bool {
    let prefix = IDENTITY_HEADER_PREFIX.as_bytes();
    name.len() >= prefix.len()
        && name.bytes().zip(prefix).all(|(byte, want)| {
            let byte = if byte == b'_' { b'-' } else { byte };
            byte.to_ascii_lowercase() == *want
        })
}

/// The console's Content-Security-Policy: its own script, style, images and wasm (compiling
/// wasm needs `'wasm-unsafe-eval'`, nothing else `eval`s), requests to its own origin only, no
/// inline code, no plugins, no framing (the admin panel signs requests), no form posts elsewhere.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// Headers the adapter adds to every static asset (the console).
pub const ASSET_HEADERS: [(&str, &str); 3] = [
    ("content-security-policy", CONSOLE_CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
];

/// What an isolate keeps between requests.
#[derive(Default)]
pub struct App {
    jwks: JwksCache,
    revocations: RevocationCache,
    signatures: UsedSignatures,
}

/// What one request may use.
pub struct Io<'a> {
    /// Workers KV (`REVOCATIONS`).
    pub store: &'a dyn Store,
    /// Outbound HTTP (JWKS).
    pub fetcher: &'a dyn Fetcher,
    /// The rate limiter for `POST /`.
    pub limiter: &'a dyn RateLimiter,
    /// The signature backend.
    pub verifier: &'a dyn SignatureVerifier,
    /// The request's clock, read once by the adapter, in ms.
    pub now_ms: u64,
    /// This request's id (`x-amzn-RequestId`).
    pub request_id: &'a str,
    /// Where diagnostics go.
    pub log: &'a dyn Fn(&str),
}

/// What the adapter does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answer with this response.
    Respond(Response),
    /// Send the original request to `url`, with every header the client sent that
    /// [`is_identity_header`] matches removed and `identity` set instead; add `cors` to the
    /// upstream's response.
    Forward {
        /// The upstream URL.
        url: String,
        /// Verified identity headers.
        identity: Vec<(String, String)>,
        /// CORS headers for the caller's origin.
        cors: Vec<(String, String)>,
    },
    /// Serve the request from the static assets (the console), with [`ASSET_HEADERS`] added.
    Assets,
}

/// Which handler a request goes to; decided before the body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /healthz`.
    Health,
    /// `POST /`: the Cognito API. The only route whose body the Worker reads.
    Api,
    /// `GET /<poolId>/.well-known/jwks.json` or `…/openid-configuration`.
    WellKnown,
    /// A path under a protected prefix.
    Gate,
    /// Anything else: static assets.
    Assets,
}

impl Route {
    /// Whether the adapter must read the body for this route.
    pub fn needs_body(self) -> bool {
        self == Route::Api
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

    /// Handles one request. `config` is the parsed environment, or why it could not be parsed.
    pub async fn handle(
        &self,
        config: Result<&Config, &BrokenConfig>,
        request: &Request,
        io: &Io<'_>,
    ) -> Outcome {
        let route = route(config.ok(), &request.method, &request.path);
        let config = match config {
            Ok(config) => config,
            Err(broken) => {
                // The details go to the log; callers hear only that the configuration is bad.
                (io.log)(&format!("configuration error: {}", broken.error));
                let response = match route {
                    Route::Health => self.broken_health(broken, request, io).await,
                    Route::Gate => Response::aws_error(
                        &Error::Config(broken.error.clone()),
                        Surface::Gate,
                        "application/json",
                    ),
                    Route::Api => Response::aws_error(
                        &Error::Config(broken.error.clone()),
                        Surface::Api,
                        crate::api::CONTENT_TYPE,
                    ),
                    _ => Response::aws_error(
                        &Error::Config(broken.error.clone()),
                        Surface::Api,
                        "application/json",
                    ),
                };
                return Outcome::Respond(self.finish(response, io));
            }
        };
        if crate::cors::is_preflight(request) && crate::cors::applies(config, &request.path) {
            return Outcome::Respond(self.finish(crate::cors::preflight(config, request), io));
        }
        // Every answer below gets the request id and the caller's CORS headers, here, once.
        let cors = crate::cors::response_headers(config, request);
        match self.route_to(route, config, request, io).await {
            Outcome::Respond(response) => {
                let mut response = self.finish(response, io);
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

    async fn route_to(
        &self,
        route: Route,
        config: &Config,
        request: &Request,
        io: &Io<'_>,
    ) -> Outcome {
        match route {
            Route::Health => Outcome::Respond(self.health(config, io).await),
            Route::Api => Outcome::Respond(crate::api::handle(self, config, request, io).await),
            Route::Gate => match self.gate(config, request, io).await {
                Ok(outcome) => outcome,
                Err(err) => {
                    (io.log)(&format!(
                        "gate refused {} {}: {err}",
                        request.method, request.path
                    ));
                    Outcome::Respond(gate_refusal(&err))
                }
            },
            Route::WellKnown => Outcome::Respond(discovery(config, &request.path)),
            Route::Assets => Outcome::Assets,
        }
    }

    /// Adds the headers every answer carries.
    fn finish(&self, response: Response, io: &Io<'_>) -> Response {
        response.with_header("x-amzn-requestid", io.request_id)
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
                crate::api::SIGV4_SERVICE,
                io.now_ms,
                crate::api::SIGV4_SKEW_MS,
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

    /// One KV read, to tell whether KV answers.
    async fn probe_kv(&self, io: &Io<'_>) -> Result<(), ()> {
        match io.store.get_many(&["healthz".to_owned()], None).await {
            Ok(_) => Ok(()),
            Err(err) => {
                (io.log)(&format!("healthz: {err}"));
                Err(())
            }
        }
    }

    async fn health(&self, config: &Config, io: &Io<'_>) -> Response {
        let kv = self.probe_kv(io).await;
        let pools: Vec<Value> = config
            .pools
            .iter()
            .map(|p| Value::from(p.id.clone()))
            .collect();
        match kv {
            // `dev_mode` tells the console it may take admin keys from its link (make dev).
            Ok(()) if config.dev_mode => Response::json(
                200,
                &json!({"status": "ok", "config": "ok", "kv": "ok", "pools": pools, "dev_mode": true}),
            ),
            Ok(()) => Response::json(
                200,
                &json!({"status": "ok", "config": "ok", "kv": "ok", "pools": pools}),
            ),
            Err(()) => Response::json(
                503,
                &json!({"status": "error", "config": "ok", "kv": "unreachable", "pools": pools}),
            ),
        }
    }

    /// Verifies a bearer token: signature with the pool's keys (fetched if remote), then claims.
    pub async fn authenticate(
        &self,
        config: &Config,
        token: &str,
        expect: &Expect<'_>,
        io: &Io<'_>,
    ) -> Result<Authenticated, Error> {
        let candidate = Candidate::parse(token, config, expect)?;
        let pool = candidate.pool();
        let keys: Rc<KeySet> = match &pool.keys {
            PoolKeys::Inline(keys) | PoolKeys::Local(keys) => keys.clone(),
            PoolKeys::Remote(uri) => {
                let jwks_io = JwksIo {
                    store: io.store,
                    fetcher: io.fetcher,
                    now_ms: io.now_ms,
                    log: io.log,
                };
                self.jwks
                    .keys(uri, candidate.kid(), pool.algorithms, &jwks_io)
                    .await?
            }
        };
        candidate.verify(&keys, io.verifier, expect, io.now_ms)
    }

    /// The SigV4 signatures this isolate has accepted (each is accepted once).
    pub fn used_signatures(&self) -> &UsedSignatures {
        &self.signatures
    }

    /// The revocation list as this request sees it.
    pub fn revocations<'a>(&'a self, config: &Config, io: &Io<'a>) -> Revocations<'a> {
        Revocations {
            store: io.store,
            cache: &self.revocations,
            cache_ttl_s: config.revocation_cache_ttl_s,
            kv_cache_ttl_s: config.kv_cache_ttl_s,
            now_ms: io.now_ms,
        }
    }

    /// Verifies a bearer token and checks it against the revocation list.
    pub async fn authorize(
        &self,
        config: &Config,
        token: &str,
        expect: &Expect<'_>,
        io: &Io<'_>,
    ) -> Result<NotRevoked, Error> {
        let auth = self.authenticate(config, token, expect, io).await?;
        self.revocations(config, io).check(auth).await
    }

    async fn gate(
        &self,
        config: &Config,
        request: &Request,
        io: &Io<'_>,
    ) -> Result<Outcome, Error> {
        let token = bearer_token(request).ok_or(Error::MissingBearer)?;
        let caller = self
            .authorize(config, token, &Expect::default(), io)
            .await?;
        let auth = caller.auth();
        if let Some(origin) = &config.origin_url {
            let mut url = format!("{origin}{}", request.path);
            if !request.query.is_empty() {
                url.push('?');
                url.push_str(&request.query);
            }
            return Ok(Outcome::Forward {
                url,
                identity: identity_headers(auth),
                cors: Vec::new(),
            });
        }
        let is_me = config
            .protected_prefixes
            .iter()
            .any(|prefix| request.path == format!("{prefix}me"));
        let response = if is_me && request.method == "GET" {
            Response::json(200, &Value::Object(auth.claims().all.clone()))
        } else {
            Response::json(
                404,
                &json!({"__type": "ResourceNotFoundException",
                        "message": "No upstream is configured (ORIGIN_URL); only GET /api/me is answered here."}),
            )
        };
        Ok(Outcome::Respond(response))
    }
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
        Response::json(
            404,
            &json!({"__type": "ResourceNotFoundException", "message": "No local pool with this id."}),
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

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235 §2.1).
fn bearer_token(request: &Request) -> Option<&str> {
    let value = request.header("authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A gate refusal: 401 with `WWW-Authenticate` (RFC 6750 §3), or 503 when the Worker could not
/// decide (KV or JWKS down: fail closed).
fn gate_refusal(err: &Error) -> Response {
    let response = Response::aws_error(err, Surface::Gate, "application/json");
    match err {
        Error::MissingBearer => response.with_header("www-authenticate", "Bearer"),
        Error::Token { .. } => {
            let wire = err.wire(Surface::Gate);
            response.with_header(
                "www-authenticate",
                format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    wire.message
                ),
            )
        }
        _ => response.with_header("retry-after", "1"),
    }
}

/// The verified identity as headers for the upstream. Values are UTF-8 with every byte outside
/// printable ASCII, and `%` itself, percent-encoded, so any username survives HTTP headers and
/// plain ASCII values arrive unchanged.
fn identity_headers(auth: &Authenticated) -> Vec<(String, String)> {
    let claims = auth.claims();
    let mut headers = vec![
        ("sub", Some(claims.sub.as_str())),
        ("username", claims.username.as_deref()),
        // The client the token was checked against (`aud` for ID tokens), never an unchecked
        // `client_id` claim an ID token may also carry.
        ("client-id", Some(auth.client_id())),
        ("token-use", Some(claims.token_use.as_str())),
        ("scope", claims.scope.as_deref()),
        ("pool", Some(auth.pool_id())),
    ];
    headers
        .drain(..)
        .filter_map(|(name, value)| {
            value.map(|v| (format!("{IDENTITY_HEADER_PREFIX}{name}"), header_safe(v)))
        })
        .collect()
}

/// Bytes of an identity header value sent as `%XX`: controls, DEL, `%` itself (and every byte
/// outside ASCII, which percent-encoding always escapes).
const NOT_HEADER_SAFE: &AsciiSet = &CONTROLS.add(b'%');

fn header_safe(value: &str) -> String {
    percent_encode(value.as_bytes(), NOT_HEADER_SAFE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(auth: Option<&str>) -> Request {
        Request {
            method: "GET".into(),
            path: "/api/me".into(),
            headers: auth
                .map(|v| vec![("authorization".into(), v.into())])
                .unwrap_or_default(),
            ..Request::default()
        }
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer_token(&request(Some("Bearer abc"))), Some("abc"));
        assert_eq!(bearer_token(&request(Some("bearer   abc"))), Some("abc"));
        assert_eq!(bearer_token(&request(Some("Basic abc"))), None);
        assert_eq!(bearer_token(&request(Some("Bearer "))), None);
        assert_eq!(bearer_token(&request(Some("Bearer"))), None);
        assert_eq!(bearer_token(&request(None)), None);
    }

    #[test]
    fn identity_headers_are_recognised_in_every_case_and_with_underscores() {
        for name in [
            "x-edge-auth-username",
            "X-Edge-Auth-Sub",
            "x_edge_auth_username",
            "X_EDGE_AUTH_POOL",
            "x-edge_auth-scope",
            "X_Edge-Auth_client-id",
            "x-edge-auth-",
            "x_edge_auth_",
        ] {
            assert!(is_identity_header(name), "{name} must be stripped");
        }
        for name in [
            "x-edge-auth",
            "x_edge_auth",
            "x-edge-authz",
            "x-edge-revoke-enforced-by",
            "authorization",
            "x-edge-aut-sub",
            "xx-edge-auth-sub",
            "",
        ] {
            assert!(!is_identity_header(name), "{name} is not ours");
        }
    }

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
    fn identity_header_values_keep_ascii_and_encode_the_rest() {
        assert_eq!(header_safe("alice@example.com"), "alice@example.com");
        assert_eq!(header_safe("100%"), "100%25");
        assert_eq!(header_safe("zoë\r\nx"), "zo%C3%AB%0D%0Ax");
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
    }
}
