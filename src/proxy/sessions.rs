//! The edge's part of a forwarded call, done before it is forwarded: the revocation entry of a
//! call that ends sessions, the revocation check of an access token.
//!
//! Order: the edge entry is written first, then the call is forwarded (see the module doc of
//! `proxy`). A failed edge write stops the call before anything reaches Cognito; a failed
//! forward leaves the edge entry standing, and the caller retries.

use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::{memory, upstream::Sender, Route};
use crate::{
    auth::Expect,
    config::{Config, Pool},
    error::{Error, TokenError},
    http::Response,
    identity::{looks_like_email_or_phone, UserId},
    local::tokens::ADMIN_SCOPE,
    ops::Caller,
    revocation::{Actor, Receipt, Revocations},
    services::{Io, Services},
    validate::{self, Violations},
};

/// Does the edge's part of the call `send` sends. `Some(response)` ends the call there
/// (Cognito's answer that the user does not exist); `None` lets it be forwarded. The edge's
/// revocations are written through the authority, if one is bound, and note `receipt`.
pub async fn edge_first(
    services: &Services,
    config: &Config,
    caller: Caller<'_>,
    body: &Map<String, Value>,
    send: &Sender<'_>,
    receipt: &Receipt,
    io: &Io<'_>,
) -> Result<Option<Response>, Error> {
    let route = send.route;
    let member = |name: &str| body.get(name).and_then(Value::as_str);
    let edge = services.revocations_noting(config, io, receipt);
    match route.name {
        "GlobalSignOut" | "DeleteUser" => {
            sign_out_caller(services, config, &edge, route, member("AccessToken"), io).await?;
            Ok(None)
        }
        "AdminUserGlobalSignOut" | "AdminDisableUser" | "AdminDeleteUser" => {
            sign_out_user(&edge, route, caller, body, send, io).await
        }
        "RevokeToken" => {
            revoke_session(&edge, route, body, io).await?;
            Ok(None)
        }
        _ => {
            if let Some(token) = member("AccessToken") {
                // Verified and checked against the edge's list before Cognito sees it.
                services
                    .authorize(config, token, &Expect::ACCESS, io)
                    .await?;
            }
            Ok(None)
        }
    }
}

fn actor<'a>(by: &'a str, route: &Route<'_>, io: &'a Io<'_>) -> Actor<'a> {
    Actor {
        by,
        reason: route.name,
        request_id: io.request_id,
    }
}

/// GlobalSignOut, DeleteUser: the access token's user is signed out at the edge, unless the
/// edge already refuses this token (a retry after a failed forward): then the call is only
/// forwarded, so a revoked token cannot move the user's sign-out time forward.
async fn sign_out_caller(
    services: &Services,
    config: &Config,
    edge: &Revocations<'_>,
    route: &Route<'_>,
    token: Option<&str>,
    io: &Io<'_>,
) -> Result<(), Error> {
    crate::ops::validated(Violations::new().string(
        "accessToken",
        token,
        &validate::TOKEN_MODEL,
        true,
    ))?;
    let auth = services
        .authenticate(config, token.unwrap_or_default(), &Expect::ACCESS, io)
        .await?;
    if !auth.claims().has_scope(ADMIN_SCOPE) {
        return Err(auth.refuse(TokenError::MissingScope));
    }
    let sub = auth.claims().sub.clone();
    match edge.check(auth).await {
        Ok(_) => {}
        Err(Error::Token {
            error: TokenError::Revoked,
            ..
        }) => return Ok(()),
        Err(err) => return Err(err),
    }
    let who = format!("user:{sub}");
    edge.revoke_user(
        route.pool,
        &route.pool.user_id(&sub),
        &actor(&who, route, io),
    )
    .await?;
    Ok(())
}

/// AdminUserGlobalSignOut, AdminDisableUser, AdminDeleteUser: the user is found at Cognito
/// (AdminGetUser, signed by the Worker), so a username, an alias or an email all reach the
/// user's `sub`, and the edge entry is written under it. Cognito's UserNotFoundException ends
/// the call. If the lookup fails otherwise, the entry is written under the name given, as for a
/// pool without an upstream (a name shaped like an email is refused unless the pool says
/// usernames may be); the call is forwarded either way.
async fn sign_out_user(
    edge: &Revocations<'_>,
    route: &Route<'_>,
    caller: Caller<'_>,
    body: &Map<String, Value>,
    send: &Sender<'_>,
    io: &Io<'_>,
) -> Result<Option<Response>, Error> {
    let username = body.get("Username").and_then(Value::as_str);
    crate::ops::validated(Violations::new().string(
        "username",
        username,
        &validate::USERNAME,
        true,
    ))?;
    let username = username.unwrap_or_default();
    let pool = route.pool;
    let user_id = match look_up_sub(pool, username, send).await {
        Lookup::Found(sub) => pool.user_id(&sub),
        Lookup::NotFound(answer) => return super::upstream::to_response(answer, io).map(Some),
        Lookup::Failed(why) => {
            (io.log)(&format!(
                "{}: AdminGetUser on pool {} failed ({why}); the edge entry is keyed on the name given",
                route.name, pool.id
            ));
            name_as_given(pool, username)?
        }
    };
    let who = match caller {
        Caller::Admin { credential, .. } => credential.access_key_id.clone(),
        Caller::Trusted => "js-api".to_owned(),
        Caller::Anonymous => "anonymous".to_owned(),
    };
    edge.revoke_user(pool, &user_id, &actor(&who, route, io))
        .await?;
    Ok(None)
}

/// What AdminGetUser said.
enum Lookup {
    /// The user's `sub` (or, without one, Cognito's username).
    Found(String),
    /// Cognito's UserNotFoundException, to be passed on.
    NotFound(crate::ports::Inbound),
    /// Anything else.
    Failed(String),
}

async fn look_up_sub(pool: &Pool, username: &str, send: &Sender<'_>) -> Lookup {
    let request = serde_json::json!({"UserPoolId": pool.id, "Username": username}).to_string();
    let answer = match send.call("AdminGetUser", request.as_bytes()).await {
        Ok(answer) => answer,
        Err(err) => return Lookup::Failed(err.to_string()),
    };
    let error_type = answer
        .header("x-amzn-errortype")
        .map(super::upstream::bare_error_type);
    if answer.status == 400 && error_type == Some("UserNotFoundException") {
        return Lookup::NotFound(answer);
    }
    if answer.status != 200 {
        return Lookup::Failed(format!(
            "HTTP {} {}",
            answer.status,
            error_type.unwrap_or_default()
        ));
    }
    let Ok(parsed) = crate::json::parse_value(&answer.body) else {
        return Lookup::Failed("answer is not JSON".into());
    };
    let sub = parsed
        .get("UserAttributes")
        .and_then(Value::as_array)
        .and_then(|attributes| {
            attributes
                .iter()
                .find(|a| a.get("Name").and_then(Value::as_str) == Some("sub"))
        })
        .and_then(|a| a.get("Value"))
        .and_then(Value::as_str);
    match sub.or_else(|| parsed.get("Username").and_then(Value::as_str)) {
        Some(id) if !id.is_empty() => Lookup::Found(id.to_owned()),
        _ => Lookup::Failed("answer names no sub and no username".into()),
    }
}

/// The issue-8 rule for a name the upstream could not resolve: kept as given, unless it looks
/// like an email or phone number that no token of the pool carries.
fn name_as_given(pool: &Pool, username: &str) -> Result<UserId, Error> {
    if looks_like_email_or_phone(username) && !pool.username_may_be_email_or_phone {
        return Err(Error::Internal(format!(
            "pool {}: an email-shaped Username could not be resolved at the upstream",
            pool.id
        )));
    }
    Ok(pool.user_id(username))
}

/// RevokeToken: a refresh token the Worker saw is tied to its session, whose entry is written
/// before the call goes on; the client must be the one the token was issued to, with its
/// secret where the configuration lists one. A token never seen is forwarded only.
async fn revoke_session(
    edge: &Revocations<'_>,
    route: &Route<'_>,
    body: &Map<String, Value>,
    io: &Io<'_>,
) -> Result<(), Error> {
    let member = |name: &str| body.get(name).and_then(Value::as_str);
    let (Some(token), Some(client_id)) = (member("Token"), member("ClientId")) else {
        return Ok(());
    };
    let Some(client) = route.pool.client(client_id) else {
        return Ok(());
    };
    if !client.token_revocation {
        return Ok(());
    }
    if let Some(secret) = &client.secret {
        let given = member("ClientSecret").unwrap_or_default();
        if !bool::from(secret.as_bytes().ct_eq(given.as_bytes())) {
            // Cognito refuses it; the edge writes nothing for a caller it cannot trust.
            return Ok(());
        }
    }
    revoke_remembered(edge, route.pool, token, client_id, route.name, io).await
}

/// Writes the session entry of a refresh token the Worker saw, issued to `client_id`, into
/// `edge`.
pub async fn revoke_remembered(
    edge: &Revocations<'_>,
    pool: &Pool,
    token: &str,
    client_id: &str,
    reason: &'static str,
    io: &Io<'_>,
) -> Result<(), Error> {
    let Some(session) = memory::recall(pool, token, io).await? else {
        (io.log)(&format!(
            "{reason}: pool {}: a refresh token the Worker never saw is revoked at the upstream only",
            pool.id
        ));
        return Ok(());
    };
    if session.client_id != client_id {
        return Ok(());
    }
    let actor = Actor {
        by: client_id,
        reason,
        request_id: io.request_id,
    };
    edge.revoke_session(pool, &session.origin_jti, &actor)
        .await?;
    Ok(())
}
