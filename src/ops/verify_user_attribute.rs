//! VerifyUserAttribute: the caller verifies their email with its code (access token; local
//! pools). The email becomes verified and a sign-in alias (AliasExistsException if another user
//! holds it).

use serde_json::Value;

use super::{
    account::{codes, signed_in_user, verifiable},
    empty, validated, Ctx, Input,
};
use crate::{
    error::Error,
    validate::{Violations, ATTRIBUTE_NAME, CONFIRMATION_CODE, TOKEN_MODEL},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let token = input.string("AccessToken")?;
    let name = input.string("AttributeName")?;
    let code = input.string("Code")?;
    validated(
        Violations::new()
            .string("accessToken", token, &TOKEN_MODEL, true)
            .string("attributeName", name, &ATTRIBUTE_NAME, true)
            .string("code", code, &CONFIRMATION_CODE, true),
    )?;
    let purpose = verifiable(name.unwrap_or_default())?;
    let (pool, mut user) = signed_in_user(input, ctx).await?;
    codes(ctx, pool)?
        .check(purpose, &user.sub, code.unwrap_or_default())
        .await?;
    user.set_attribute("email_verified", "true");
    let directory = ctx.directory(pool)?;
    directory.claim_verified_email(&user).await?;
    directory.save(&user).await?;
    Ok(empty())
}
