//! AdminGetConfirmationCodes: the codes waiting for a user of a local pool (SigV4). Not a
//! Cognito operation: local pools send no mail and no SMS, so this is where a sign-up,
//! password-reset or email-verification code goes, for an administrator (or a test) to hand
//! on. Codes are never in an answer to the caller who asked for them.
//!
//! Output: `{"Username", "Codes": [{"Purpose": "SIGN_UP" | "FORGOT_PASSWORD" | "VERIFY_EMAIL",
//! "Code", "ExpiresAt" (epoch seconds), "Attempts"}]}`.

use serde_json::{json, Value};

use super::{account::codes, admin_target, Ctx, Input};
use crate::error::Error;

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let (pool, username) = admin_target(input, ctx)?;
    let user = ctx.user(pool, username).await?;
    let pending = codes(ctx, pool)?.pending(&user.sub).await?;
    let list: Vec<Value> = pending
        .iter()
        .map(|p| {
            json!({
                "Purpose": p.purpose.label(),
                "Code": p.code,
                "ExpiresAt": p.expires_s,
                "Attempts": p.attempts,
            })
        })
        .collect();
    Ok(json!({"Username": user.username, "Codes": list}))
}
