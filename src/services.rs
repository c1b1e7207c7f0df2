//! What the front door and the operations call back into: token verification with the JWKS
//! cache, the revocation list with its cache, the record of used SigV4 signatures.
//!
//! [`Services`] is what an isolate keeps between requests; [`Io`] is what one request may use
//! (storage, fetch, the rate limiter, the signature backend, the clock). Neither knows about
//! routes or operations: `app` and `api` sit above this module, `ops` calls into it.
//!
//! [`Storage`] gives each kind of record its own port: the revocation list, local users,
//! copies of fetched key sets, used signatures, learnt refresh tokens. A KV namespace is all of them at once; an
//! adapter that keeps one kind elsewhere implements `Storage` for its own bindings.

use std::rc::Rc;

use crate::{
    auth::{Authenticated, Candidate, Expect},
    config::{Config, Pool, PoolKeys},
    crypto::AsyncSignatureVerifier,
    error::Error,
    error::StoreError,
    jwk::KeySet,
    jwks::{JwksCache, JwksIo},
    ports::{Fetcher, LocalFuture, RateLimiter, Store},
    replay::UsedSignatures,
    revocation::{
        authority::{seed_of, Authority, AuthorityPorts, FeedSettings},
        kv::KvRevocations,
        Enforcement, NotRevoked, Receipt, RecentSet, RevocationCache, RevocationStore, Revocations,
    },
};

/// Where the core keeps its records, one port per kind.
pub trait Storage {
    /// The revocation list's entries, read and raised by `revocation` (KV's implementation
    /// takes its edge cache lifetime from `config`).
    fn revocations<'a>(&'a self, config: &Config) -> Box<dyn RevocationStore + 'a>;
    /// Local pools' users (`local::users`) and their sign-in state: codes waiting to be entered
    /// (`local::codes`), used SRP challenges and refresh-token generations (`ops`).
    fn users(&self) -> &dyn Store;
    /// Copies of fetched key sets, for isolates that start cold (`jwks`).
    fn key_sets(&self) -> &dyn Store;
    /// SigV4 signatures already accepted (`replay`).
    fn signatures(&self) -> &dyn Store;
    /// What the proxy learnt of upstream refresh tokens: SHA-256(token) → session
    /// (`proxy::memory`).
    fn refresh_tokens(&self) -> &dyn Store;
    /// One read, to tell whether storage answers (`/healthz`).
    fn probe(&self) -> LocalFuture<'_, Result<(), StoreError>>;
    /// Shared Signals transmitters' status records and pending verification states
    /// (`ssf::receive`); by default where local users are kept.
    fn streams(&self) -> &dyn Store {
        self.users()
    }

    /// The revocation authority and the location's shared copy of its feed, if one is bound
    /// (`REVOCATION_AUTHORITY`). `None`: revocations are written to and read from KV alone.
    fn authority(&self) -> Option<AuthorityPorts<'_>> {
        None
    }
}

/// A KV namespace keeps every kind of record.
impl<T: Store> Storage for T {
    fn revocations<'a>(&'a self, config: &Config) -> Box<dyn RevocationStore + 'a> {
        Box::new(KvRevocations::new(self, config.kv_cache_ttl_s))
    }

    fn users(&self) -> &dyn Store {
        self
    }

    fn key_sets(&self) -> &dyn Store {
        self
    }

    fn signatures(&self) -> &dyn Store {
        self
    }

    fn refresh_tokens(&self) -> &dyn Store {
        self
    }

    fn probe(&self) -> LocalFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.get_many(&["healthz".to_owned()], None).await?;
            Ok(())
        })
    }
}

/// What one request may use.
pub struct Io<'a> {
    /// Storage (`REVOCATIONS`, a KV namespace, in the Worker).
    pub store: &'a dyn Storage,
    /// Outbound HTTP (JWKS).
    pub fetcher: &'a dyn Fetcher,
    /// The rate limiter for `POST /`.
    pub limiter: &'a dyn RateLimiter,
    /// The signature backend (RustCrypto; a WebCrypto backend implements the same trait).
    pub verifier: &'a dyn AsyncSignatureVerifier,
    /// The request's clock, read once by the adapter, in ms.
    pub now_ms: u64,
    /// This request's id (`x-amzn-RequestId`).
    pub request_id: &'a str,
    /// Where diagnostics go.
    pub log: &'a dyn Fn(&str),
}

/// What an isolate keeps between requests, and the checks that use it.
#[derive(Default)]
pub struct Services {
    jwks: JwksCache,
    revocations: RevocationCache,
    recent: RecentSet,
    signatures: UsedSignatures,
}

impl Services {
    /// A fresh isolate's state.
    pub fn new() -> Self {
        Self::default()
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
                    store: io.store.key_sets(),
                    fetcher: io.fetcher,
                    now_ms: io.now_ms,
                    log: io.log,
                };
                self.jwks
                    .keys(uri, candidate.kid(), pool.algorithms, &jwks_io)
                    .await?
            }
        };
        candidate
            .verify_async(&keys, io.verifier, expect, io.now_ms)
            .await
    }

    /// A pool's verification keys: inline or local ones as configured, remote ones through the
    /// JWKS cache (fetched if the isolate has none).
    pub async fn pool_keys(&self, pool: &Pool, io: &Io<'_>) -> Result<Rc<KeySet>, Error> {
        match &pool.keys {
            PoolKeys::Inline(keys) | PoolKeys::Local(keys) => Ok(keys.clone()),
            PoolKeys::Remote(uri) => {
                let jwks_io = JwksIo {
                    store: io.store.key_sets(),
                    fetcher: io.fetcher,
                    now_ms: io.now_ms,
                    log: io.log,
                };
                self.jwks.keys(uri, None, pool.algorithms, &jwks_io).await
            }
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

    /// The revocation list as this request sees it: KV, the isolate's caches, and the
    /// revocation authority if one is bound.
    pub fn revocations<'a>(&'a self, config: &Config, io: &Io<'a>) -> Revocations<'a> {
        let authority = io.store.authority().map(|ports| Authority {
            ports,
            recent: &self.recent,
            settings: FeedSettings::of(config),
            now_ms: io.now_ms,
            seed: seed_of(io.request_id),
            log: io.log,
        });
        Revocations {
            store: io.store.revocations(config),
            cache: &self.revocations,
            cache_ttl_s: config.revocation_cache_ttl_s,
            now_ms: io.now_ms,
            recent: &self.recent,
            authority,
            kv_window_ms: config.kv_timings().window_ms(),
            receipt: None,
            log: io.log,
        }
    }

    /// [`Services::revocations`], its writes noting when they are enforced everywhere in
    /// `receipt` (the answer's `x-edge-revoke-enforced-by`).
    pub fn revocations_noting<'a>(
        &'a self,
        config: &Config,
        io: &Io<'a>,
        receipt: &'a Receipt,
    ) -> Revocations<'a> {
        Revocations {
            receipt: Some(receipt),
            ..self.revocations(config, io)
        }
    }

    /// How revocations are enforced from this isolate (`/healthz`).
    pub async fn enforcement(&self, config: &Config, io: &Io<'_>) -> Enforcement {
        self.revocations(config, io).enforcement().await
    }

    /// The isolate's cache of remote key sets (pools' and Shared Signals transmitters').
    pub fn key_cache(&self) -> &JwksCache {
        &self.jwks
    }

    /// The SigV4 signatures this isolate has accepted (each is accepted once).
    pub fn used_signatures(&self) -> &UsedSignatures {
        &self.signatures
    }
}
