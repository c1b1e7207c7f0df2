//! AdminSetUserPassword: sets a local user's password, permanent or temporary (SigV4).

use serde_json::Value;

use super::{empty, validated, Ctx, Input};
use crate::{
    error::{ApiError, Error},
    local::{
        password::{check_policy, PasswordHash},
        users::UserStatus,
    },
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
    check_policy(password).map_err(ApiError::InvalidPassword)?;
    let iterations = pool.password_iterations();
    user.password = Some(PasswordHash::new(password, iterations)
            .await
            .map_err(Error::Internal)?);
    user.status = if permanent {
        UserStatus::Confirmed
    } else {
        UserStatus::ForceChangePassword
    };
    ctx.directory(pool)?.save(&user).await?;
    Ok(empty())
}
