//! What the front door and the operations call back into: token verification with the JWKS
//! cache, the revocation list with its cache, the record of used SigV4 signatures.
//!
//! [`Services`] is what an isolate keeps between requests; [`Io`] is what one request may use
//! (storage, fetch, the rate limiter, the signature backend, the clock). Neither knows about
//! routes or operations: `app` and `api` sit above this module, `ops` calls into it.

use std::rc::Rc;

use crate::{
    auth::{Authenticated, Candidate, Expect},
    config::{Config, PoolKeys},
    crypto::AsyncSignatureVerifier,
    error::Error,
    jwk::KeySet,
    jwks::{JwksCache, JwksIo},
    ports::{Fetcher, RateLimiter, Store},
    replay::UsedSignatures,
    revocation::{NotRevoked, RevocationCache, Revocations},
};

/// What one request may use.
pub struct Io<'a> {
    /// Workers KV (`REVOCATIONS`).
    pub store: &'a dyn Store,
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
        candidate
            .verify_async(&keys, io.verifier, expect, io.now_ms)
            .await
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

    /// The SigV4 signatures this isolate has accepted (each is accepted once).
    pub fn used_signatures(&self) -> &UsedSignatures {
        &self.signatures
    }
}
