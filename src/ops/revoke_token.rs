//! RevokeToken: revokes one session by its refresh token; every access and ID token carrying the
//! session's `origin_jti` dies with it, and the refresh token stops refreshing.
//!
//! Order as Cognito's: the client and its secret, then whether revocation is enabled for the
//! client, then the token. A well-formed refresh token that is not ours, or no longer valid,
//! answers success (RFC 7009 §2.2: there is nothing left to revoke).

use serde_json::Value;
use subtle::ConstantTimeEq;

use super::{empty, signin::signing_keys, validated, Ctx, Input};
use crate::{
    error::{ApiError, Error},
    local::{seal, tokens},
    validate::{Violations, CLIENT_ID, CLIENT_SECRET, REVOKE_ASSOCIATED_SESSIONS, TOKEN_MODEL},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let token = input.string("Token")?;
    let client_id = input.string("ClientId")?;
    let client_secret = input.string("ClientSecret")?;
    let associated = input.string("RevokeAssociatedSessions")?;
    validated(
        Violations::new()
            .string("token", token, &TOKEN_MODEL, true)
            .string("clientId", client_id, &CLIENT_ID, true)
            .string("clientSecret", client_secret, &CLIENT_SECRET, false)
            .string(
                "revokeAssociatedSessions",
                associated,
                &REVOKE_ASSOCIATED_SESSIONS,
                false,
            ),
    )?;
    let (token, client_id) = (token.unwrap_or_default(), client_id.unwrap_or_default());
    let (pool, client) = ctx
        .config
        .pools
        .iter()
        .find_map(|pool| pool.client(client_id).map(|client| (pool, client)))
        .ok_or(ApiError::Unauthorized)?;
    if let Some(secret) = &client.secret {
        let given = client_secret.unwrap_or_default();
        if !bool::from(secret.as_bytes().ct_eq(given.as_bytes())) {
            return Err(ApiError::Unauthorized.into());
        }
    }
    if !client.token_revocation {
        return Err(ApiError::UnsupportedOperation(
            "Token revocation is not enabled for this app client".into(),
        )
        .into());
    }
    if !seal::looks_sealed(token) {
        return Err(ApiError::UnsupportedTokenType.into());
    }
    let keys = match signing_keys(ctx, pool) {
        Ok(keys) => keys,
        Err(_) => {
            return Err(ApiError::UnsupportedOperation(format!(
                "User pool {} is not a local pool: revoke its refresh tokens at its issuer",
                pool.id
            ))
            .into())
        }
    };
    let Some(opened) = tokens::open_refresh_token(keys, token).await else {
        return Ok(empty());
    };
    if opened.pool != pool.id || opened.session.client_id != client.id {
        // The token was issued to another client (RFC 7009 §2.1: refuse).
        return Err(ApiError::Unauthorized.into());
    }
    let actor = ctx.actor(&client.id);
    ctx.revocations()
        .revoke_session(pool, &opened.session.origin_jti, &actor)
        .await?;
    Ok(empty())
}
