//! ChangePassword: the caller changes their password (access token; local pools). The previous
//! password is checked as a sign-in checks it; the new one gets its SRP verifier like every
//! other. Sessions go on, as in Cognito (which ends none when a password changes), unless the
//! pool sets `sign_out_on_password_change`, which signs the user out everywhere, this session
//! included.

use serde_json::Value;

use super::{
    account::{after_password_change, set_password, signed_in_user},
    empty,
    signin::BAD_CREDENTIALS,
    validated, Ctx, Input,
};
use crate::{
    error::{ApiError, Error},
    local::password::{check_policy, PasswordHash},
    validate::{Violations, PASSWORD, TOKEN_MODEL},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let previous = input.string("PreviousPassword")?;
    let proposed = input.string("ProposedPassword")?;
    let token = input.string("AccessToken")?;
    validated(
        Violations::new()
            .string("previousPassword", previous, &PASSWORD, true)
            .string("proposedPassword", proposed, &PASSWORD, true)
            .string("accessToken", token, &TOKEN_MODEL, true),
    )?;
    let (previous, proposed) = (previous.unwrap_or_default(), proposed.unwrap_or_default());
    let (pool, mut user) = signed_in_user(input, ctx).await?;
    let matches =
        PasswordHash::verify_or_decoy(user.password.as_ref(), previous, pool.password_iterations());
    if !matches {
        return Err(ApiError::NotAuthorized(BAD_CREDENTIALS.into()).into());
    }
    check_policy(proposed).map_err(ApiError::InvalidPassword)?;
    set_password(ctx, pool, &mut user, proposed)?;
    ctx.directory(pool)?.save(&user).await?;
    let who = format!("user:{}", user.sub);
    after_password_change(ctx, pool, &user, &who).await?;
    Ok(empty())
}
