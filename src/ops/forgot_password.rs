//! ForgotPassword: a password-reset code (local pools). Answered as Cognito answers with
//! PreventUserExistenceErrors `ENABLED`: a name nobody has (or a disabled or unconfirmed user)
//! gets the same kind of `CodeDeliveryDetails`, after the same reads and write, with a code
//! drawn for the name and sent nowhere (`local::codes`). The user's sessions go on: a reset ends
//! none (ConfirmForgotPassword says when it does).

use serde_json::Value;

use super::{account::send_code_to_name, Ctx, Input};
use crate::{
    error::Error,
    local::{codes::CodePurpose, users::UserStatus},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    send_code_to_name(input, ctx, CodePurpose::ForgotPassword, |user| {
        user.enabled && user.status != UserStatus::Unconfirmed
    })
    .await
}
