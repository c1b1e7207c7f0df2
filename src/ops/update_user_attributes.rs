//! UpdateUserAttributes: the caller changes their attributes (access token; local pools). A
//! changed email is unverified until VerifyUserAttribute (a code is issued for it, and the old
//! address stops signing in), as in a Cognito pool that does not keep the old value until the
//! new one is verified; a changed phone number is unverified (local pools send no SMS). Users
//! may not mark their own attributes verified. No session ends.

use serde_json::{json, Value};

use super::{
    account::{send_code, signed_in_user, user_attributes, Writer},
    validated, Ctx, Input,
};
use crate::{
    error::Error,
    local::codes::CodePurpose,
    validate::{Violations, CLIENT_METADATA, TOKEN_MODEL},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let attributes = input.attributes("UserAttributes")?;
    let token = input.string("AccessToken")?;
    let metadata = input.string_map("ClientMetadata")?;
    validated(
        Violations::new()
            .attributes("userAttributes", attributes.clone(), true)
            .string("accessToken", token, &TOKEN_MODEL, true)
            .map("clientMetadata", metadata, &CLIENT_METADATA, false),
    )?;
    let changes = user_attributes(attributes.unwrap_or_default(), Writer::User)?;
    let (pool, mut user) = signed_in_user(input, ctx).await?;
    let directory = ctx.directory(pool)?;
    let old_email = user.email().map(str::to_owned);
    let mut email_changed = false;
    for (name, value) in &changes {
        let changed = user.attribute(name) != Some(value.as_str());
        user.set_attribute(name, value);
        match name.as_str() {
            "email" if changed => {
                user.set_attribute("email_verified", "false");
                email_changed = true;
            }
            "phone_number" if changed => user.set_attribute("phone_number_verified", "false"),
            _ => {}
        }
    }
    if let (true, Some(old)) = (email_changed, &old_email) {
        directory.release_email(&user, old).await?;
    }
    directory.save(&user).await?;
    let mut deliveries = Vec::new();
    if email_changed {
        let delivery =
            send_code(ctx, pool, Some(&user), &user.sub, CodePurpose::VerifyEmail).await?;
        deliveries.push(delivery.to_json());
    }
    if deliveries.is_empty() {
        Ok(json!({}))
    } else {
        Ok(json!({"CodeDeliveryDetailsList": deliveries}))
    }
}
