//! ResendConfirmationCode: a new sign-up code for a user who has not confirmed (local pools).
//! A name nobody has, or a user already confirmed, is answered the same way, with a code drawn
//! for the name and sent nowhere (`local::codes`).

use serde_json::Value;

use super::{account::send_code_to_name, Ctx, Input};
use crate::{
    error::Error,
    local::{codes::CodePurpose, users::UserStatus},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    send_code_to_name(input, ctx, CodePurpose::SignUp, |user| {
        user.status == UserStatus::Unconfirmed
    })
    .await
}
