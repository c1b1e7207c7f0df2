//! From a bearer string to [`Authenticated`]: parse, pick the pool, verify, check the claims.
//!
//! Two steps, so that no I/O happens here: [`Candidate::parse`] splits the token and finds the
//! pool by its (not yet trusted) `iss`; the caller obtains that pool's keys (inline, local, or
//! through the JWKS cache) and calls [`Candidate::verify`]. The only way to get an
//! [`Authenticated`] is through `verify`, and the revocation check (`crate::revocation`) takes an
//! `Authenticated` to make a `NotRevoked`, so an operation that needs a signed-in caller cannot
//! be written without both checks.

use crate::{
    claims::{Claims, TokenUse},
    config::{Config, Pool},
    crypto::{AsyncSignatureVerifier, SignatureVerifier},
    error::{Error, TokenError, TokenKind},
    identity::CaseRule,
    jwk::KeySet,
    token::{SignatureValid, UntrustedToken},
};

/// How far ahead of this Worker's clock a token's `iat` or `auth_time` may be: 60 s, for an
/// issuer whose clock runs a little fast. A later time is refused: `auth_time` decides which
/// sign-outs cover a token (`auth_time ≤ revoked_at`), so a token claiming to be authenticated
/// a day ahead would survive every sign-out until then.
pub const MAX_CLOCK_SKEW_MS: u64 = 60_000;

/// What the caller accepts, beyond the pool's own rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect<'a> {
    /// The one token kind accepted; `None`: whatever the pool accepts at the gate.
    pub token_use: Option<TokenUse>,
    /// The one app client accepted; `None`: any client the pool lists.
    pub client_id: Option<&'a str>,
}

impl Expect<'_> {
    /// Access tokens only, of any listed client: Cognito's token-authorised operations.
    pub const ACCESS: Expect<'static> = Expect {
        token_use: Some(TokenUse::Access),
        client_id: None,
    };
}

fn kind(token_use: TokenUse) -> TokenKind {
    match token_use {
        TokenUse::Access => TokenKind::Access,
        TokenUse::Id => TokenKind::Id,
    }
}

/// A token split and matched to a pool, not yet verified.
pub struct Candidate<'t, 'c> {
    token: UntrustedToken<'t>,
    pool: &'c Pool,
    kind: TokenKind,
}

impl<'t, 'c> Candidate<'t, 'c> {
    /// Parses `token` and finds the pool named by its `iss`.
    pub fn parse(token: &'t str, config: &'c Config, expect: &Expect<'_>) -> Result<Self, Error> {
        // Cognito words errors by token kind. Before verification the claimed `token_use` only
        // chooses words, never a decision.
        let mut kind = expect.token_use.map_or(TokenKind::Access, self::kind);
        let refuse = |kind, error| Error::Token { kind, error };
        let token = UntrustedToken::parse(token).map_err(|e| refuse(kind, e))?;
        let peeked = token
            .claims_unverified()
            .ok_or_else(|| refuse(kind, TokenError::Malformed("payload is not a JSON object")))?;
        // RFC 8417 §4.3: a Security Event Token is never a bearer token, whoever signed it.
        let typed_as_set = token
            .header()
            .all()
            .get("typ")
            .and_then(|v| v.as_str())
            .is_some_and(crate::token::is_set_typ);
        if typed_as_set || peeked.contains_key("events") {
            return Err(refuse(
                kind,
                TokenError::Malformed("a Security Event Token is not a bearer token"),
            ));
        }
        if expect.token_use.is_none()
            && peeked.get("token_use").and_then(|v| v.as_str()) == Some("id")
        {
            kind = TokenKind::Id;
        }
        let issuer = match peeked.get("iss") {
            Some(serde_json::Value::String(issuer)) => issuer,
            Some(_) => return Err(refuse(kind, TokenError::InvalidClaim("iss"))),
            None => return Err(refuse(kind, TokenError::MissingClaim("iss"))),
        };
        let pool = config
            .pool_by_issuer(issuer)
            .ok_or_else(|| refuse(kind, TokenError::UnknownIssuer))?;
        Ok(Self { token, pool, kind })
    }

    /// The pool whose keys must verify this token.
    pub fn pool(&self) -> &'c Pool {
        self.pool
    }

    /// The header's `kid`, for choosing keys.
    pub fn kid(&self) -> Option<&str> {
        self.token.header().kid()
    }

    /// The kind of token, as far as the message wording goes.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// Verifies the signature with `keys` and a backend that answers at once, then the claims
    /// at `now_ms`.
    pub fn verify(
        self,
        keys: &KeySet,
        verifier: &dyn SignatureVerifier,
        expect: &Expect<'_>,
        now_ms: u64,
    ) -> Result<Authenticated, Error> {
        let proof = self
            .token
            .verify_signature(keys, self.pool.algorithms, verifier)
            .map_err(|error| self.refuse(error))?;
        self.accept(&proof, expect, now_ms)
    }

    /// [`verify`](Self::verify), awaiting the signature backend: the path the Worker takes.
    pub async fn verify_async(
        self,
        keys: &KeySet,
        verifier: &dyn AsyncSignatureVerifier,
        expect: &Expect<'_>,
        now_ms: u64,
    ) -> Result<Authenticated, Error> {
        let proof = self
            .token
            .verify_signature_async(keys, self.pool.algorithms, verifier)
            .await
            .map_err(|error| self.refuse(error))?;
        self.accept(&proof, expect, now_ms)
    }

    fn refuse(&self, error: TokenError) -> Error {
        Error::Token {
            kind: self.kind,
            error,
        }
    }

    /// The claims checks, on claims read from the signature proof (never from the token).
    fn accept(
        &self,
        proof: &SignatureValid<'_, '_>,
        expect: &Expect<'_>,
        now_ms: u64,
    ) -> Result<Authenticated, Error> {
        let refuse = |error| self.refuse(error);
        let pool = self.pool;
        let claims = proof.claims().map_err(refuse)?;
        if claims.iss != pool.issuer {
            return Err(refuse(TokenError::UnknownIssuer));
        }
        if now_ms >= claims.exp.as_millis() {
            return Err(refuse(TokenError::Expired));
        }
        if claims.nbf.is_some_and(|nbf| now_ms < nbf.as_millis()) {
            return Err(refuse(TokenError::NotYetValid));
        }
        let latest_ms = now_ms.saturating_add(MAX_CLOCK_SKEW_MS);
        for (name, date) in [("iat", Some(claims.iat)), ("auth_time", claims.auth_time)] {
            if date.is_some_and(|date| date.as_millis() > latest_ms) {
                return Err(refuse(TokenError::IssuedInFuture(name)));
            }
        }
        let accepted_use = match expect.token_use {
            Some(wanted) => claims.token_use == wanted,
            None => pool.accepts_at_gate(claims.token_use),
        };
        if !accepted_use {
            return Err(refuse(TokenError::WrongTokenUse));
        }
        // Access tokens name their client in `client_id`, ID tokens in `aud` (Cognito docs).
        let (client, claim) = match claims.token_use {
            TokenUse::Access => (claims.client_id.as_deref(), "client_id"),
            TokenUse::Id => (claims.aud.as_deref(), "aud"),
        };
        let client = client.ok_or(refuse(TokenError::MissingClaim(claim)))?;
        let client_ok = match expect.client_id {
            Some(wanted) => client == wanted,
            None => pool.accepts_client(client),
        };
        if !client_ok {
            return Err(refuse(TokenError::WrongClient));
        }
        let client_id = client.to_owned();
        Ok(Authenticated {
            pool_id: pool.id.clone(),
            username_case: pool.username_case,
            client_id,
            claims,
        })
    }
}

/// A token whose signature and claims verified. Made only by [`Candidate::verify`] and
/// [`Candidate::verify_async`], from the claims of a [`SignatureValid`].
#[derive(Debug, Clone)]
pub struct Authenticated {
    pool_id: String,
    username_case: CaseRule,
    client_id: String,
    claims: Claims,
}

impl Authenticated {
    /// The pool that issued the token.
    pub fn pool_id(&self) -> &str {
        &self.pool_id
    }

    /// The verified claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Whether the issuing pool tells user ids apart by case (`crate::identity`).
    pub fn username_case(&self) -> CaseRule {
        self.username_case
    }

    /// The app client the token was checked against: `client_id` for access tokens, `aud` for
    /// ID tokens. Never an unchecked claim (an ID token may carry a `client_id` of its own).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The kind of token, for message wording.
    pub fn kind(&self) -> TokenKind {
        kind(self.claims.token_use)
    }

    /// Mutable claims, for tests that need a shape no real token has.
    #[cfg(test)]
    pub(crate) fn claims_mut_for_tests(&mut self) -> &mut Claims {
        &mut self.claims
    }

    /// The same caller, refused for `error` (e.g. a missing scope), worded for its kind.
    pub fn refuse(&self, error: TokenError) -> Error {
        Error::Token {
            kind: self.kind(),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use core::{
        cell::Cell,
        future::Future,
        pin::Pin,
        task::{Context, Poll},
    };

    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    use hmac::{Hmac, Mac};
    use serde_json::json;
    use sha2::Sha256;

    use super::*;
    use crate::{crypto::RustCrypto, jwk::VerifyingKey, ports::LocalFuture};

    const POOL: &str = "us-east-1_Async1";
    const SECRET: [u8; 32] = [7; 32];
    const NOW_S: u64 = 1_700_000_000;

    fn config() -> Config {
        let vars = json!({"POOLS": [{"id": POOL, "clients": [{"id": "c"}], "algorithms": ["HS256"],
            "jwks": {"keys": [{"kty": "oct", "kid": "k1", "k": URL_SAFE_NO_PAD.encode(SECRET)}]}}]});
        Config::from_env(vars.as_object().unwrap()).unwrap()
    }

    fn token(alg: &str, sub: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": "k1"}).to_string());
        let claims = json!({"iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}"),
            "sub": sub, "token_use": "access", "client_id": "c", "iat": NOW_S, "exp": NOW_S + 60});
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut mac = Hmac::<Sha256>::new_from_slice(&SECRET).unwrap();
        mac.update(input.as_bytes());
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// A FAKE of a promise-based backend (WebCrypto): answers RustCrypto's verdict, but only
    /// on the second poll, and counts its calls.
    #[derive(Default)]
    struct FakePromiseVerifier {
        calls: Cell<usize>,
    }

    /// Pending once (waking itself), then ready.
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                Poll::Ready(())
            } else {
                self.0 = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    impl AsyncSignatureVerifier for FakePromiseVerifier {
        fn verify_async<'a>(
            &'a self,
            key: &'a VerifyingKey,
            message: &'a [u8],
            signature: &'a [u8],
        ) -> LocalFuture<'a, bool> {
            self.calls.set(self.calls.get() + 1);
            Box::pin(async move {
                YieldOnce(false).await;
                SignatureVerifier::verify(&RustCrypto, key, message, signature)
            })
        }
    }

    fn verify_async(token: &str, backend: &FakePromiseVerifier) -> Result<Authenticated, Error> {
        let config = config();
        let candidate = Candidate::parse(token, &config, &Expect::default())?;
        let keys = match &candidate.pool().keys {
            crate::config::PoolKeys::Inline(keys) => keys.clone(),
            _ => unreachable!("an inline key set"),
        };
        pollster::block_on(candidate.verify_async(&keys, backend, &Expect::default(), NOW_S * 1000))
    }

    #[test]
    fn a_backend_that_answers_later_is_awaited_and_its_verdict_decides() {
        let backend = FakePromiseVerifier::default();
        let accepted = verify_async(&token("HS256", "alice"), &backend).unwrap();
        assert_eq!(accepted.claims().sub, "alice");
        let good = token("HS256", "alice");
        let (input, _) = good.rsplit_once('.').unwrap();
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode([0u8; 32]));
        let refused = verify_async(&forged, &backend).unwrap_err();
        assert!(matches!(
            refused,
            Error::Token {
                error: TokenError::BadSignature,
                ..
            }
        ));
        assert_eq!(backend.calls.get(), 2);
    }

    #[test]
    fn the_checks_before_the_signature_run_before_the_backend_is_asked() {
        let backend = FakePromiseVerifier::default();
        let refused = verify_async(&token("RS256", "alice"), &backend).unwrap_err();
        assert!(matches!(
            refused,
            Error::Token {
                error: TokenError::AlgorithmNotAllowed,
                ..
            }
        ));
        assert_eq!(backend.calls.get(), 0, "no crypto for a refused algorithm");
    }

    #[test]
    fn the_sync_and_async_paths_agree() {
        let config = config();
        for token in [token("HS256", "bob"), token("HS384", "bob")] {
            let sync = Candidate::parse(&token, &config, &Expect::default()).and_then(|c| {
                let keys = match &c.pool().keys {
                    crate::config::PoolKeys::Inline(keys) => keys.clone(),
                    _ => unreachable!("an inline key set"),
                };
                c.verify(&keys, &RustCrypto, &Expect::default(), NOW_S * 1000)
            });
            let later = verify_async(&token, &FakePromiseVerifier::default());
            assert_eq!(
                sync.map(|a| a.claims().sub.clone()),
                later.map(|a| a.claims().sub.clone())
            );
        }
    }
}
