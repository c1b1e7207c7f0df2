//! What the two refreshes share: InitiateAuth `REFRESH_TOKEN_AUTH` (amazon-cognito-identity-js)
//! and GetTokensFromRefreshToken (Amplify v6). A refresh token opens only for its pool and
//! client, unexpired; a session signed out (the user's entry) or revoked (RevokeToken) is
//! refused with `Refresh Token has been revoked`; the user must still exist and be enabled.
//!
//! # Rotation
//! A client with `refresh_token_rotation` (Cognito's RefreshTokenRotation) gets a new refresh
//! token from every GetTokensFromRefreshToken, and the one it replaces is honoured for the
//! client's `retry_grace_period_s` more (a retry that lost the first answer gets the same new
//! generation again). After that, the replaced token is refused with RefreshTokenReuseException
//! and, since a second holder of a refresh token is what rotation exists to catch, the session
//! is revoked through the revocation list (every token of it dies, as after RevokeToken). The
//! generation in use is kept per session in KV (`user/v1/<pool>/rt/<origin_jti>`), read then
//! written: two refreshes with one token at two locations within KV's propagation time can both
//! succeed. InitiateAuth `REFRESH_TOKEN_AUTH` is refused for such a client, as Cognito does, so
//! that no path refreshes around the rotation.

use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use super::{
    signin::{authentication_result, check_secret_hash, signing_keys},
    Ctx,
};
use crate::{
    config::{Client, Pool},
    error::{ApiError, Error},
    local::tokens::{self, uuid_v4},
};

/// How the caller proves it is the client, per operation.
#[derive(Debug, Clone, Copy)]
pub enum ClientProof<'a> {
    /// InitiateAuth: `AuthParameters.SECRET_HASH` (over the username or the sub).
    SecretHash(Option<&'a str>),
    /// GetTokensFromRefreshToken: `ClientSecret` itself.
    ClientSecret(Option<&'a str>),
}

/// Which operation refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// InitiateAuth `REFRESH_TOKEN_AUTH` / `REFRESH_TOKEN`.
    InitiateAuth,
    /// GetTokensFromRefreshToken.
    GetTokens,
}

/// Refreshes the session `token` stands for: new access and ID tokens, and a new refresh token
/// where the client rotates them.
pub async fn refresh(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    token: &str,
    proof: ClientProof<'_>,
    via: Via,
) -> Result<Value, Error> {
    let invalid = || ApiError::NotAuthorized("Invalid Refresh Token".into());
    if via == Via::InitiateAuth && client.refresh_token_rotation_grace_s.is_some() {
        return Err(ApiError::InvalidParameter(
            "Refresh token rotation is enabled for this client: refresh with GetTokensFromRefreshToken."
                .into(),
        )
        .into());
    }
    let keys = signing_keys(ctx, pool)?;
    let opened = tokens::open_refresh_token(keys, token).ok_or_else(invalid)?;
    let session = opened.session.clone();
    if opened.pool != pool.id || session.client_id != client.id {
        return Err(invalid().into());
    }
    if opened.exp_s * 1000 <= ctx.io.now_ms {
        return Err(ApiError::NotAuthorized("Refresh Token has expired".into()).into());
    }
    let user = ctx.directory(pool)?.find_by_sub(&session.sub).await?;
    let username = user.as_ref().map(|u| u.username.as_str());
    let mut names = vec![session.sub.as_str()];
    names.extend(username);
    match proof {
        ClientProof::SecretHash(given) => check_secret_hash(client, &names, given)?,
        ClientProof::ClientSecret(given) => check_client_secret(client, given)?,
    }
    let revoked = ctx
        .revocations()
        .session_is_revoked(
            pool,
            &names,
            &session.origin_jti,
            session.auth_time_s * 1000,
        )
        .await?;
    if revoked {
        return Err(ApiError::NotAuthorized("Refresh Token has been revoked".into()).into());
    }
    let user = user.ok_or_else(|| ApiError::NotAuthorized("User does not exist.".into()))?;
    if !user.enabled {
        return Err(ApiError::NotAuthorized("User is disabled.".into()).into());
    }
    let mut answer = authentication_result(ctx, pool, &user, &session, false)?;
    if let (Via::GetTokens, Some(grace_s)) = (via, client.refresh_token_rotation_grace_s) {
        let generation = rotate(ctx, pool, client, &opened, grace_s).await?;
        answer["AuthenticationResult"]["RefreshToken"] = Value::from(
            tokens::rotated_refresh_token(pool, keys, &session, Some(&generation), ctx.io.now_ms)?,
        );
    }
    if via == Via::GetTokens {
        // GetTokensFromRefreshToken's output has no ChallengeParameters.
        if let Some(object) = answer.as_object_mut() {
            object.remove("ChallengeParameters");
        }
    }
    Ok(answer)
}

/// GetTokensFromRefreshToken's `ClientSecret`, for a client that has a secret.
fn check_client_secret(client: &Client, given: Option<&str>) -> Result<(), Error> {
    let Some(secret) = &client.secret else {
        return Ok(());
    };
    let matches = given.is_some_and(|given| bool::from(secret.as_bytes().ct_eq(given.as_bytes())));
    if matches {
        Ok(())
    } else {
        Err(ApiError::NotAuthorized(format!(
            "Unable to verify client secret for client {}",
            client.id
        ))
        .into())
    }
}

/// Moves the session to its next generation and answers it, or answers the current one to a
/// retry with the token it replaced within the grace period; refuses (and revokes the
/// session) any other generation. See the module doc.
async fn rotate(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    opened: &tokens::RefreshClaims,
    grace_s: u64,
) -> Result<String, Error> {
    let store = ctx.io.store.users();
    let key = format!(
        "user/v1/{}/rt/{}",
        pool.id,
        crate::identity::key_component(&opened.session.origin_jti)
    );
    let state = match crate::ports::get_one(store, &key, None).await? {
        Some(text) => Some(
            crate::json::parse_object(text.as_bytes())
                .map_err(|_| Error::Internal("unreadable refresh-token rotation state".into()))?,
        ),
        None => None,
    };
    let presented = opened.rotation_id.as_deref();
    if let Some(state) = &state {
        let current = state.get("current").and_then(Value::as_str);
        let previous = state.get("previous").and_then(Value::as_str);
        let rotated_at_ms = state.get("rotated_at").and_then(Value::as_u64).unwrap_or(0);
        let within_grace = ctx.io.now_ms <= rotated_at_ms.saturating_add(grace_s * 1000);
        if presented != current {
            if presented == previous && within_grace {
                if let Some(current) = current {
                    return Ok(current.to_owned());
                }
            }
            let actor = ctx.actor(&client.id);
            ctx.revocations()
                .revoke_session(pool, &opened.session.origin_jti, &actor)
                .await?;
            (ctx.io.log)(&format!(
                "refresh token reused after rotation: session {} of {} revoked",
                opened.session.origin_jti, pool.id
            ));
            return Err(ApiError::RefreshTokenReuse.into());
        }
    }
    let next = uuid_v4()?;
    let record = json!({"current": next, "previous": presented, "rotated_at": ctx.io.now_ms});
    let ttl = pool.refresh_token_validity_s.saturating_add(60);
    store.put(&key, &record.to_string(), Some(ttl)).await?;
    Ok(next)
}
