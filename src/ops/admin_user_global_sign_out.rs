//! AdminUserGlobalSignOut: signs a user out of every session (SigV4, IAM allow-list).
//!
//! Local pools resolve `Username` (username, email alias or sub) to the user's sub. An external
//! pool has no user directory here: the entry is stored under `Username` in the pool's canonical
//! spelling (`crate::identity`), and tokens are checked against both their `sub` and their
//! `username` claim, spelled the same way. An external pool's access tokens carry no email or
//! phone number, so a `Username` of that shape could never match one: it is refused with
//! InvalidParameterException rather than answered `{}` for a sign-out that would do nothing
//! (unless the pool declares `username_may_be_email_or_phone`).

use serde_json::Value;

use super::{admin_target, empty, Ctx, Input};
use crate::{error::ApiError, error::Error, identity::looks_like_email_or_phone};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let (pool, username) = admin_target(input, ctx)?;
    let user_id = match pool.local {
        Some(_) => pool.user_id(&ctx.user(pool, username).await?.sub),
        None if looks_like_email_or_phone(username) && !pool.username_may_be_email_or_phone => {
            // The value is not echoed: Cognito treats usernames as sensitive in messages.
            return Err(ApiError::InvalidParameter(format!(
                "Username looks like an email address or phone number, which tokens of user pool {} do not carry: pass the user's username, or their sub if the pool signs users in by email or phone number",
                pool.id
            ))
            .into());
        }
        None => pool.user_id(username),
    };
    let actor = ctx.actor(ctx.caller_name());
    ctx.revocations()
        .revoke_user(pool, &user_id, &actor)
        .await?;
    Ok(empty())
}
