//! AdminSetUserPassword: sets a local user's password, permanent or temporary (SigV4), with its
//! SRP verifier. Ends the user's sessions only where the pool sets
//! `sign_out_on_password_change` (Cognito ends none).

use serde_json::Value;

use super::{
    account::{after_password_change, set_password},
    empty, validated, Ctx, Input,
};
use crate::{
    error::Error,
    local::users::UserStatus,
    validate::{Violations, PASSWORD, USERNAME, USER_POOL_ID},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let pool_id = input.string("UserPoolId")?;
    let username = input.string("Username")?;
    let password = input.string("Password")?;
    let permanent = input.bool("Permanent")?.unwrap_or(false);
    validated(
        Violations::new()
            .string("userPoolId", pool_id, &USER_POOL_ID, true)
            .string("username", username, &USERNAME, true)
            .string("password", password, &PASSWORD, true),
    )?;
    let (pool_id, username, password) = (
        pool_id.unwrap_or_default(),
        username.unwrap_or_default(),
        password.unwrap_or_default(),
    );
    ctx.require_permission(pool_id)?;
    let pool = ctx.pool(pool_id)?;
    let mut user = ctx.user(pool, username).await?;
    set_password(ctx, pool, &mut user, password)?;
    let was_unconfirmed = user.status == UserStatus::Unconfirmed;
    user.status = if permanent {
        UserStatus::Confirmed
    } else {
        UserStatus::ForceChangePassword
    };
    let directory = ctx.directory(pool)?;
    directory.save(&user).await?;
    if was_unconfirmed {
        // Setting a password confirms a signed-up user, as in Cognito: a verified email
        // becomes an alias now.
        directory.claim_verified_email(&user).await?;
    }
    after_password_change(ctx, pool, &user, ctx.caller_name()).await?;
    Ok(empty())
}
