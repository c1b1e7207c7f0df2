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
    crypto::SignatureVerifier,
    error::{Error, TokenError, TokenKind},
    jwk::KeySet,
    token::UntrustedToken,
};

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
            .peek_claims()
            .ok_or_else(|| refuse(kind, TokenError::Malformed("payload is not a JSON object")))?;
        // RFC 8417 §4.3: a Security Event Token is never a bearer token, whoever signed it.
        let typed_as_set = token
            .header()
            .all()
            .get("typ")
            .and_then(|v| v.as_str())
            .is_some_and(crate::ssf::set::is_set_typ);
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

    /// Verifies the signature with `keys`, then the claims at `now_ms`.
    pub fn verify(
        self,
        keys: &KeySet,
        verifier: &dyn SignatureVerifier,
        expect: &Expect<'_>,
        now_ms: u64,
    ) -> Result<Authenticated, Error> {
        let kind = self.kind;
        let refuse = |error| Error::Token { kind, error };
        let pool = self.pool;
        self.token
            .verify_signature(keys, pool.algorithms, verifier)
            .map_err(refuse)?;
        let claims = Claims::parse(self.token.payload()).map_err(refuse)?;
        if claims.iss != pool.issuer {
            return Err(refuse(TokenError::UnknownIssuer));
        }
        if now_ms >= claims.exp.as_millis() {
            return Err(refuse(TokenError::Expired));
        }
        if claims.nbf.is_some_and(|nbf| now_ms < nbf.as_millis()) {
            return Err(refuse(TokenError::NotYetValid));
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
        Ok(Authenticated {
            pool_id: pool.id.clone(),
            claims,
        })
    }
}

/// A token whose signature and claims verified. Made only by [`Candidate::verify`].
#[derive(Debug, Clone)]
pub struct Authenticated {
    pool_id: String,
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
