//! SRP sign-in for local pools, as the operations run it: `USER_SRP_AUTH` (and `USER_AUTH`'s
//! `PASSWORD_SRP`) → `PASSWORD_VERIFIER`. The arithmetic, `SECRET_BLOCK` and the verifier at
//! rest are `local::srp`'s; this is the I/O around them.
//!
//! - **Who is named.** `USER_ID_FOR_SRP` (and `USERNAME` in the challenge) is the user's `sub`,
//!   whatever name or email they typed: immutable, as the verifier needs, and the same shape for
//!   a name nobody has, which gets a stand-in id, salt and verifier (`Verifier::stand_in`) and
//!   the same modular exponentiations, so that InitiateAuth and RespondToAuthChallenge answer and
//!   cost the same whether or not the user exists. Cognito does the same for pools whose users
//!   sign in by email (there the username is a UUID).
//! - **One answer per challenge.** `SECRET_BLOCK` carries the whole exchange (no `Session` is
//!   returned). Its id is marked used in KV (`user/v1/<pool>/srp-used/<id>`, kept as long as a
//!   block lives) before the proof is checked, whatever the outcome, so a captured answer cannot
//!   be replayed and each challenge takes one guess. KV is eventually consistent: at one
//!   location the rule is exact; a copy sent to another location within KV's propagation time
//!   (up to about a minute) may be checked once more there, within the block's 180 seconds.
//! - **Passwords from before SRP.** A user whose password was set before this Worker stored SRP
//!   verifiers (or whose verifier was sealed by a signing key since removed) has none to check
//!   against. InitiateAuth tells them so (NotAuthorizedException naming USER_PASSWORD_AUTH):
//!   one sign-in with USER_PASSWORD_AUTH, or a password set by any path, stores the verifier,
//!   and SRP works from then on. The message says the user exists, for those users only.

use serde_json::{json, Value};

use super::{
    signin::{after_authentication, check_secret_hash, missing, param, signing_keys},
    Ctx,
};
use crate::{
    config::{Client, Pool},
    error::{ApiError, Error},
    local::srp::{self, Verifier, B_BYTES, SECRET_BLOCK_LIFETIME_S},
};

/// NotAuthorizedException's text for a user with no usable verifier.
pub const NO_VERIFIER: &str = "SRP sign-in is not set up for this user yet: their password was \
    set before this Worker offered it. Sign in once with USER_PASSWORD_AUTH (or have an \
    administrator set the password again); SRP sign-in works from then on.";

/// InitiateAuth `USER_SRP_AUTH` (or `USER_AUTH` with `PASSWORD_SRP`): the PASSWORD_VERIFIER
/// challenge for `username`, with a fresh server exponent.
pub async fn start(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    username: &str,
    srp_a: Option<&str>,
) -> Result<Value, Error> {
    let srp_a = srp_a.ok_or_else(|| missing("SRP_A"))?;
    let keys = signing_keys(ctx, pool)?;
    let user = ctx.directory(pool)?.find(username).await?;
    let verifier = match &user {
        Some(user) => user
            .srp_verifier
            .as_deref()
            .and_then(|sealed| Verifier::open_sealed(keys, sealed, &pool.id, &user.sub).ok())
            .ok_or_else(|| ApiError::NotAuthorized(NO_VERIFIER.into()))?,
        None => Verifier::stand_in(keys, &pool.id, pool.user_id(username).as_str())?,
    };
    let mut b = [0u8; B_BYTES];
    getrandom::getrandom(&mut b)
        .map_err(|e| Error::Internal(format!("no randomness for SRP: {e}")))?;
    if let Some(last) = b.last_mut() {
        // b is never 0 (a 2^-384 event otherwise): the core refuses it.
        *last |= 1;
    }
    let challenge = srp::start(keys, &client.id, &verifier, srp_a, &b, ctx.io.now_ms)?;
    Ok(json!({
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeParameters": Value::Object(challenge.parameters()),
    }))
}

fn refused() -> Error {
    ApiError::NotAuthorized(srp::INCORRECT_MESSAGE.into()).into()
}

/// RespondToAuthChallenge `PASSWORD_VERIFIER`, in the reference's order: the members, the
/// block (authenticated, unexpired, this pool and client, and used now), the user it names,
/// SECRET_HASH, then `TIMESTAMP` and the signature, and only then the account's state.
pub async fn verify(
    ctx: &Ctx<'_>,
    pool: &Pool,
    client: &Client,
    responses: &[(&str, &str)],
) -> Result<Value, Error> {
    let username = param(responses, "USERNAME").ok_or_else(|| missing("USERNAME"))?;
    let block = param(responses, "PASSWORD_CLAIM_SECRET_BLOCK")
        .ok_or_else(|| missing("PASSWORD_CLAIM_SECRET_BLOCK"))?;
    let timestamp = param(responses, "TIMESTAMP").ok_or_else(|| missing("TIMESTAMP"))?;
    let signature = param(responses, "PASSWORD_CLAIM_SIGNATURE")
        .ok_or_else(|| missing("PASSWORD_CLAIM_SIGNATURE"))?;
    let keys = signing_keys(ctx, pool)?;
    let opened = srp::open(keys, block, &pool.id, &client.id, ctx.io.now_ms)?;
    use_once(ctx, pool, opened.challenge_id()).await?;
    let id = opened.user_id_for_srp();
    let directory = ctx.directory(pool)?;
    let user = directory.find_by_sub(id).await?;
    // The clients send USER_ID_FOR_SRP back; a name or email of the same user will do too.
    // Whoever is named, the same reads and exponentiations follow, so the time never tells
    // whether the name or the id belongs to anyone.
    let by_name = if username == id {
        None
    } else {
        directory.find(username).await?
    };
    let named = username == id || by_name.is_some_and(|found| found.sub == id);
    check_secret_hash(client, &[username], param(responses, "SECRET_HASH"))?;
    let verifier = match (&user, named) {
        (Some(user), true) => user
            .srp_verifier
            .as_deref()
            .and_then(|sealed| Verifier::open_sealed(keys, sealed, &pool.id, &user.sub).ok()),
        _ => None,
    };
    let verifier = match verifier {
        Some(verifier) => verifier,
        // Nobody, someone else, or a verifier gone since the challenge: the same work, then
        // the same refusal.
        None => Verifier::stand_in_by_id(keys, &pool.id, id)?,
    };
    opened.verify(id, &verifier, timestamp, signature, ctx.io.now_ms)?;
    let user = user.filter(|_| named).ok_or_else(refused)?;
    after_authentication(ctx, pool, client, &user, id).await
}

/// Marks a challenge used, refusing one already used (see the module doc).
async fn use_once(ctx: &Ctx<'_>, pool: &Pool, challenge_id: &str) -> Result<(), Error> {
    let store = ctx.io.store.users();
    let key = format!("user/v1/{}/srp-used/{challenge_id}", pool.id);
    if crate::ports::get_one(store, &key, None).await?.is_some() {
        return Err(refused());
    }
    store
        .put(&key, "1", Some(SECRET_BLOCK_LIFETIME_S.max(60) + 60))
        .await?;
    Ok(())
}
