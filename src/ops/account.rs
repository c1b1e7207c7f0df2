//! What the self-service operations share: setting a password (hash and SRP verifier, one
//! path), the user behind an access token, codes and where they go, and ending sessions.

use serde_json::{json, Value};

use super::{
    signed_in_caller,
    signin::{check_secret_hash, find_client, signing_keys},
    validated, AttributePair, Ctx, Input,
};
use crate::{
    config::Pool,
    error::{ApiError, Error},
    local::{
        codes::{CodePurpose, Codes, Delivery},
        password::check_policy,
        seal,
        users::User,
    },
    validate::{Violations, CLIENT_ID, CLIENT_METADATA, SECRET_HASH, USERNAME},
};

/// Standard attributes a local pool accepts (OpenID Connect's, as Cognito's default schema),
/// besides `custom:` ones.
pub const STANDARD_ATTRIBUTES: [&str; 19] = [
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

/// Who writes attributes: an administrator may set anything in the schema; a user (SignUp,
/// UpdateUserAttributes) may not mark their own email or phone verified, as an app client may
/// not by default in Cognito.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// AdminCreateUser.
    Admin,
    /// SignUp, UpdateUserAttributes.
    User,
}

/// `UserAttributes` as given, checked against the schema: no `sub`, only standard and
/// `custom:` names, an email with an `@`; a later value for a name replaces an earlier one.
pub fn user_attributes(
    given: Vec<AttributePair<'_>>,
    writer: Writer,
) -> Result<Vec<(String, String)>, Error> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, value) in given {
        let (name, value) = (name.unwrap_or_default(), value.unwrap_or_default());
        if name == "sub" {
            return Err(ApiError::InvalidParameter(
                "Cannot modify the non-mutable attribute sub".into(),
            )
            .into());
        }
        if !STANDARD_ATTRIBUTES.contains(&name) && !name.starts_with("custom:") {
            return Err(ApiError::InvalidParameter(format!(
                "Attributes did not conform to the schema: {name}: Attribute does not exist in the schema."
            ))
            .into());
        }
        if writer == Writer::User && name.ends_with("_verified") {
            return Err(ApiError::NotAuthorized(
                "A client attempted to write unauthorized attribute".into(),
            )
            .into());
        }
        if name == "email" && !value.contains('@') {
            return Err(ApiError::InvalidParameter("Invalid email address format.".into()).into());
        }
        pairs.retain(|(n, _)| n != name);
        pairs.push((name.to_owned(), value.to_owned()));
    }
    Ok(pairs)
}

/// Sets `user`'s password after Cognito's policy check: the PBKDF2 hash and, beside it, the
/// sealed SRP verifier (`User::set_password`). Every operation that sets a password calls this.
pub async fn set_password(
    ctx: &Ctx<'_>,
    pool: &Pool,
    user: &mut User,
    password: &str,
) -> Result<(), Error> {
    check_policy(password).map_err(ApiError::InvalidPassword)?;
    let keys = signing_keys(ctx, pool)?;
    user.set_password(&pool.id, keys, password, pool.password_iterations())
        .await
}

/// The signed-in caller of a local pool's self-service operation, and their record: the access
/// token verified and unrevoked (`signed_in_caller`), the user still there and enabled.
pub async fn signed_in_user<'c>(
    input: Input<'_>,
    ctx: &'c Ctx<'_>,
) -> Result<(&'c Pool, User), Error> {
    let caller = signed_in_caller(input, ctx).await?;
    let pool = ctx.pool(caller.auth().pool_id())?;
    let user = ctx
        .directory(pool)?
        .find_by_sub(&caller.auth().claims().sub)
        .await?
        .ok_or_else(|| ApiError::NotAuthorized("User does not exist.".into()))?;
    if !user.enabled {
        return Err(ApiError::NotAuthorized("User is disabled.".into()).into());
    }
    Ok((pool, user))
}

/// The codes of a local pool.
pub fn codes<'c>(ctx: &'c Ctx<'_>, pool: &'c Pool) -> Result<Codes<'c>, Error> {
    Ok(Codes::new(
        pool,
        ctx.io.store.users(),
        signing_keys(ctx, pool)?,
        ctx.io.now_ms,
    ))
}

/// Whose codes a name's codes are: the user's `sub`, or for a name nobody has a stand-in id (a
/// keyed pseudonym of the name's canonical spelling), so that unknown names are answered as
/// known ones are (see `local::codes`).
pub fn code_holder(
    ctx: &Ctx<'_>,
    pool: &Pool,
    name: &str,
    user: Option<&User>,
) -> Result<String, Error> {
    if let Some(user) = user {
        return Ok(user.sub.clone());
    }
    let keys = signing_keys(ctx, pool)?;
    let canonical = pool.user_id(name);
    let mac = seal::pseudonym(
        keys,
        &[
            b"code holder v1",
            pool.id.as_bytes(),
            canonical.as_str().as_bytes(),
        ],
    )
    .map_err(Error::Internal)?;
    Ok(format!(
        "x-{}",
        hex::encode(mac.get(..16).unwrap_or_default())
    ))
}

/// Where a code for `user` goes: their email, masked; for a name nobody has, a stand-in derived
/// from the holder id, in the same shape.
pub fn delivery(user: Option<&User>, holder: &str) -> Delivery {
    match user.and_then(User::email) {
        Some(email) => Delivery::email(email),
        None => {
            // Two letters from the holder's pseudonym: stable per name, no one's address.
            let letter = |at: usize| {
                let byte = holder.as_bytes().get(at).copied().unwrap_or(b'0');
                char::from(b'a' + byte % 26)
            };
            Delivery {
                destination: format!("{}***@{}***", letter(2), letter(3)),
                medium: "EMAIL",
                attribute: "email",
            }
        }
    }
}

/// Draws a code for `holder` and "sends" it: local pools send nothing; the code waits for an
/// administrator (`AdminGetConfirmationCodes`) and, in a development run (`DEV_MODE`), is
/// written to the Worker's log. A code for a name nobody has goes nowhere.
pub async fn send_code(
    ctx: &Ctx<'_>,
    pool: &Pool,
    user: Option<&User>,
    holder: &str,
    purpose: CodePurpose,
) -> Result<Delivery, Error> {
    let code = codes(ctx, pool)?.issue(purpose, holder).await?;
    let delivery = delivery(user, holder);
    if let (Some(user), true) = (user, ctx.config.dev_mode) {
        (ctx.io.log)(&format!(
            "DEV_MODE: {} code for {} in {} (would go to {}): {code}",
            purpose.label(),
            user.username,
            pool.id,
            delivery.destination
        ));
    }
    Ok(delivery)
}

/// ForgotPassword and ResendConfirmationCode: the same input, checks and answer. A code is
/// drawn for the user named when `eligible` says the operation applies to them; for anyone else
/// (or a name nobody has) it is drawn for the name's stand-in and sent nowhere, after the same
/// reads and write, so the answer does not tell the two apart.
pub async fn send_code_to_name(
    input: Input<'_>,
    ctx: &Ctx<'_>,
    purpose: CodePurpose,
    eligible: fn(&User) -> bool,
) -> Result<Value, Error> {
    let client_id = input.string("ClientId")?;
    let secret_hash = input.string("SecretHash")?;
    input.object("UserContextData")?;
    let username = input.string("Username")?;
    input.object("AnalyticsMetadata")?;
    let metadata = input.string_map("ClientMetadata")?;
    validated(
        Violations::new()
            .string("clientId", client_id, &CLIENT_ID, true)
            .string("secretHash", secret_hash, &SECRET_HASH, false)
            .string("username", username, &USERNAME, true)
            .map("clientMetadata", metadata, &CLIENT_METADATA, false),
    )?;
    let (pool, client) = find_client(ctx, client_id.unwrap_or_default())?;
    signing_keys(ctx, pool)?;
    let username = username.unwrap_or_default();
    check_secret_hash(client, &[username], secret_hash)?;
    let user = ctx.directory(pool)?.find(username).await?.filter(eligible);
    let holder = code_holder(ctx, pool, username, user.as_ref())?;
    let delivery = send_code(ctx, pool, user.as_ref(), &holder, purpose).await?;
    Ok(json!({"CodeDeliveryDetails": delivery.to_json()}))
}

/// After a password change or reset: signs the user out everywhere when the pool says so
/// (`sign_out_on_password_change`), through the revocation list like every sign-out. Cognito
/// ends no session here, and neither does a pool that does not ask.
pub async fn after_password_change(
    ctx: &Ctx<'_>,
    pool: &Pool,
    user: &User,
    who: &str,
) -> Result<bool, Error> {
    let sign_out = pool
        .local
        .as_ref()
        .is_some_and(|local| local.sign_out_on_password_change);
    if sign_out {
        let actor = ctx.actor(who);
        ctx.revocations()
            .revoke_user(pool, &pool.user_id(&user.sub), &actor)
            .await?;
    }
    Ok(sign_out)
}

/// The code purpose that verifies attribute `name`, or Cognito's refusal for one that cannot be
/// verified here.
pub fn verifiable(name: &str) -> Result<CodePurpose, Error> {
    match name {
        "email" => Ok(CodePurpose::VerifyEmail),
        "phone_number" => Err(ApiError::InvalidParameter(
            "phone_number cannot be verified here: local pools send no SMS; an administrator sets phone_number_verified.".into(),
        )
        .into()),
        _ => Err(ApiError::InvalidParameter(format!(
            "Attribute {} cannot be verified: only email and phone_number are verified.",
            name.chars().take(32).collect::<String>()
        ))
        .into()),
    }
}
