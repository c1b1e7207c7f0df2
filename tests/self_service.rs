//! The operations an app's sign-in screen calls, through `POST /` on local pools: SignUp,
//! ConfirmSignUp, ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword, ChangePassword,
//! UpdateUserAttributes, GetUserAttributeVerificationCode, VerifyUserAttribute, DeleteUser,
//! GetTokensFromRefreshToken (with rotation), AdminConfirmSignUp and where codes go
//! (AdminGetConfirmationCodes, the log in DEV_MODE). Which of them end sessions, and how.

mod support;

use edge_revoke::local::password::iterations_run_on_this_thread;
use serde_json::{json, Map, Value};
use support::*;

const INCORRECT: &str = "Incorrect username or password.";
const MISMATCH: &str = "Invalid verification code provided, please try again.";

fn sign_up(w: &World, username: &str, email: &str) -> Value {
    w.call(
        "SignUp",
        json!({"ClientId": PUBLIC, "Username": username, "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": email}]}),
    )
    .ok()
}

fn confirm(w: &World, username: &str, code: &str) -> Reply {
    w.call(
        "ConfirmSignUp",
        json!({"ClientId": PUBLIC, "Username": username, "ConfirmationCode": code}),
    )
}

fn other_code(code: &str) -> String {
    let digit = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{digit}{}", &code[1..])
}

fn with_local(settings: Value) -> World {
    let mut vars = vars();
    let mut pools = vars["POOLS"].as_array().unwrap().clone();
    pools[0]["local"] = settings;
    vars.insert("POOLS".into(), Value::Array(pools));
    World::with(&vars)
}

fn attribute(user: &Value, name: &str) -> Option<String> {
    user["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == name)
        .map(|a| str_of(&a["Value"]))
}

// ---------------------------------------------------------------------------------------
// Sign-up

#[test]
fn sign_up_answers_an_unconfirmed_user_and_where_the_code_went_never_the_code() {
    let w = World::new();
    let reply = w.call(
        "SignUp",
        json!({"ClientId": PUBLIC, "Username": "erin", "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "erin@example.com"}]}),
    );
    let body = reply.ok();
    let sub = str_of(&body["UserSub"]);
    assert_eq!(
        body,
        json!({"UserConfirmed": false, "UserSub": sub,
               "CodeDeliveryDetails": {"Destination": "e***@e***", "DeliveryMedium": "EMAIL",
                                       "AttributeName": "email"}})
    );
    let code = w.code(LOCAL, "erin", "SIGN_UP");
    assert!(!reply.text.contains(&code));
    let user = w
        .admin(
            "AdminGetUser",
            json!({"UserPoolId": LOCAL, "Username": "erin"}),
        )
        .ok();
    assert_eq!(user["UserStatus"], "UNCONFIRMED");
}

#[test]
fn confirming_with_the_code_verifies_the_email_and_lets_the_user_sign_in_by_it() {
    let w = World::new();
    sign_up(&w, "erin", "erin@example.com");
    w.password_auth(PUBLIC, "erin@example.com", PASSWORD)
        .refused("NotAuthorizedException", INCORRECT);
    let code = w.code(LOCAL, "erin", "SIGN_UP");
    confirm(&w, "erin", &other_code(&code)).refused("CodeMismatchException", MISMATCH);
    confirm(&w, "ERIN", &code).ok();
    let user = w
        .admin(
            "AdminGetUser",
            json!({"UserPoolId": LOCAL, "Username": "erin"}),
        )
        .ok();
    assert_eq!(user["UserStatus"], "CONFIRMED");
    assert_eq!(attribute(&user, "email_verified").as_deref(), Some("true"));
    w.sign_in(PUBLIC, "erin@example.com");
    w.srp_sign_in(LOCAL, PUBLIC, "erin@example.com", PASSWORD)
        .ok();
    // The code is spent.
    confirm(&w, "erin", &code).refused("CodeMismatchException", MISMATCH);
}

#[test]
fn a_taken_username_a_weak_password_an_email_shaped_username_and_a_self_verified_email_are_refused()
{
    let w = World::new();
    sign_up(&w, "erin", "erin@example.com");
    w.call(
        "SignUp",
        json!({"ClientId": PUBLIC, "Username": "ERIN", "Password": PASSWORD}),
    )
    .refused("UsernameExistsException", "User already exists");
    let weak = w.call(
        "SignUp",
        json!({"ClientId": PUBLIC, "Username": "frank", "Password": "password"}),
    );
    assert_eq!(weak.body["__type"], "InvalidPasswordException");
    w.call(
        "SignUp",
        json!({"ClientId": PUBLIC, "Username": "frank@example.com", "Password": PASSWORD}),
    )
    .refused(
        "InvalidParameterException",
        "Username cannot be of email format, since user pool is configured for email alias.",
    );
    w.call(
        "SignUp",
        json!({"ClientId": PUBLIC, "Username": "frank", "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "f@example.com"},
                                  {"Name": "email_verified", "Value": "true"}]}),
    )
    .refused(
        "NotAuthorizedException",
        "A client attempted to write unauthorized attribute",
    );
    w.call(
        "SignUp",
        json!({"ClientId": SECRET_CLIENT, "Username": "frank", "Password": PASSWORD}),
    )
    .refused(
        "NotAuthorizedException",
        &format!("Unable to verify secret hash for client {SECRET_CLIENT}"),
    );
}

#[test]
fn signing_up_with_someone_elses_email_takes_nothing_from_them() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    sign_up(&w, "mallory", "alice@example.com");
    w.sign_in(PUBLIC, "alice@example.com");
    let code = w.code(LOCAL, "mallory", "SIGN_UP");
    confirm(&w, "mallory", &code).refused(
        "AliasExistsException",
        "An account with the given email already exists.",
    );
    let tokens = w.sign_in(PUBLIC, "alice@example.com");
    assert_eq!(claims(&tokens.access)["username"], "alice");
    // Deleting the unconfirmed user leaves alice's alias alone.
    w.admin(
        "AdminDeleteUser",
        json!({"UserPoolId": LOCAL, "Username": "mallory"}),
    )
    .ok();
    w.sign_in(PUBLIC, "alice@example.com");
}

#[test]
fn confirm_sign_up_for_a_name_nobody_has_or_a_confirmed_user_is_a_wrong_code_after_the_same_work() {
    let w = World::new();
    sign_up(&w, "erin", "erin@example.com");
    w.create_user(LOCAL, "alice", "alice@example.com");
    let mut costs = Vec::new();
    for name in ["erin", "nobody", "alice"] {
        let before = w.store.counts();
        confirm(&w, name, "000000").refused("CodeMismatchException", MISMATCH);
        let after = w.store.counts();
        costs.push((after.0 - before.0, after.1 - before.1));
    }
    assert!(costs.iter().all(|c| *c == costs[0]), "{costs:?}");
}

#[test]
fn a_code_takes_five_wrong_answers_then_a_new_code_is_needed() {
    let w = World::new();
    sign_up(&w, "erin", "erin@example.com");
    let code = w.code(LOCAL, "erin", "SIGN_UP");
    for _ in 0..5 {
        confirm(&w, "erin", &other_code(&code)).refused("CodeMismatchException", MISMATCH);
    }
    confirm(&w, "erin", &code).refused(
        "LimitExceededException",
        "Attempt limit exceeded, please try after some time.",
    );
    let resent = w
        .call(
            "ResendConfirmationCode",
            json!({"ClientId": PUBLIC, "Username": "erin"}),
        )
        .ok();
    assert_eq!(resent["CodeDeliveryDetails"]["Destination"], "e***@e***");
    confirm(&w, "erin", &w.code(LOCAL, "erin", "SIGN_UP")).ok();
}

#[test]
fn resending_to_a_name_nobody_has_is_answered_like_a_real_resend() {
    let w = World::new();
    sign_up(&w, "erin", "erin@example.com");
    let mut shapes = Vec::new();
    for name in ["erin", "nobody"] {
        let before = w.store.counts();
        let reply = w
            .call(
                "ResendConfirmationCode",
                json!({"ClientId": PUBLIC, "Username": name}),
            )
            .ok();
        let after = w.store.counts();
        let details = reply["CodeDeliveryDetails"].as_object().unwrap();
        let mut keys: Vec<&String> = details.keys().collect();
        keys.sort();
        shapes.push((keys.len(), after.0 - before.0, after.1 - before.1));
        assert_eq!(details["Destination"].as_str().unwrap().len(), 9, "{name}");
    }
    assert_eq!(shapes[0], shapes[1]);
}

#[test]
fn resend_serves_only_unconfirmed_users_and_forgot_password_only_confirmed_enabled_ones() {
    let w = World::new();
    sign_up(&w, "erin", "erin@example.com");
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.create_user(LOCAL, "dora", "dora@example.com");
    w.admin(
        "AdminDisableUser",
        json!({"UserPoolId": LOCAL, "Username": "dora"}),
    )
    .ok();
    // Every call is answered alike; only an eligible user gets a code of the operation's kind.
    for name in ["erin", "alice", "dora"] {
        for operation in ["ResendConfirmationCode", "ForgotPassword"] {
            w.call(operation, json!({"ClientId": PUBLIC, "Username": name}))
                .ok();
        }
    }
    let count = |name: &str, purpose: &str| {
        w.codes(LOCAL, name)
            .iter()
            .filter(|c| c["Purpose"] == purpose)
            .count()
    };
    assert!(
        count("erin", "SIGN_UP") >= 1,
        "an unconfirmed user gets a sign-up code"
    );
    assert_eq!(
        count("erin", "FORGOT_PASSWORD"),
        0,
        "nor a reset before confirming"
    );
    assert_eq!(
        count("alice", "SIGN_UP"),
        0,
        "a confirmed user gets no sign-up code"
    );
    assert_eq!(count("alice", "FORGOT_PASSWORD"), 1, "but a reset code");
    assert_eq!(
        count("dora", "FORGOT_PASSWORD"),
        0,
        "a disabled user gets no reset code"
    );
}

#[test]
fn an_auto_confirming_pool_confirms_at_sign_up_without_a_code() {
    let w = with_local(json!({"password_iterations": 1000, "auto_confirm_sign_up": true}));
    let reply = w
        .call(
            "SignUp",
            json!({"ClientId": PUBLIC, "Username": "erin", "Password": PASSWORD,
                   "UserAttributes": [{"Name": "email", "Value": "erin@example.com"}]}),
        )
        .ok();
    assert_eq!(reply["UserConfirmed"], true);
    assert!(reply.get("CodeDeliveryDetails").is_none());
    w.srp_sign_in(LOCAL, PUBLIC, "erin", PASSWORD).ok();
    // The email was never verified, so it does not sign in until it is.
    w.password_auth(PUBLIC, "erin@example.com", PASSWORD)
        .refused("NotAuthorizedException", INCORRECT);
}

#[test]
fn admin_confirm_sign_up_confirms_without_a_code_and_only_once() {
    let w = World::new();
    sign_up(&w, "erin", "erin@example.com");
    w.admin(
        "AdminConfirmSignUp",
        json!({"UserPoolId": LOCAL, "Username": "erin"}),
    )
    .ok();
    w.sign_in(PUBLIC, "erin");
    w.admin(
        "AdminConfirmSignUp",
        json!({"UserPoolId": LOCAL, "Username": "erin"}),
    )
    .refused(
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is CONFIRMED",
    );
    let unsigned = w.call(
        "AdminGetConfirmationCodes",
        json!({"UserPoolId": LOCAL, "Username": "erin"}),
    );
    assert_eq!(
        unsigned.body["__type"],
        "MissingAuthenticationTokenException"
    );
}

#[test]
fn in_dev_mode_a_code_is_written_to_the_log_and_otherwise_never() {
    let w = World::new();
    sign_up(&w, "erin", "erin@example.com");
    let code = w.code(LOCAL, "erin", "SIGN_UP");
    assert!(!w.logged(&code), "no code in the log outside DEV_MODE");
    let mut vars = vars();
    vars.insert("DEV_MODE".into(), Value::from("true"));
    let dev = World::with(&vars);
    sign_up(&dev, "erin", "erin@example.com");
    let code = dev.code(LOCAL, "erin", "SIGN_UP");
    assert!(dev.logged(&format!(
        "DEV_MODE: SIGN_UP code for erin in {LOCAL} (would go to e***@e***): {code}"
    )));
}

// ---------------------------------------------------------------------------------------
// Passwords

#[test]
fn forgot_password_answers_a_name_nobody_has_as_a_real_user_with_the_same_work() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let mut seen = Vec::new();
    for name in ["alice", "nobody"] {
        let before = w.store.counts();
        let reply = w
            .call(
                "ForgotPassword",
                json!({"ClientId": PUBLIC, "Username": name}),
            )
            .ok();
        let after = w.store.counts();
        let details = &reply["CodeDeliveryDetails"];
        assert_eq!(details["DeliveryMedium"], "EMAIL");
        assert_eq!(details["AttributeName"], "email");
        seen.push((after.0 - before.0, after.1 - before.1));
    }
    assert_eq!(seen[0], seen[1]);
    let pbkdf2 = iterations_run_on_this_thread();
    w.call(
        "ConfirmForgotPassword",
        json!({"ClientId": PUBLIC, "Username": "nobody", "ConfirmationCode": "123456",
               "Password": "Reset-Pass-1"}),
    )
    .refused("CodeMismatchException", MISMATCH);
    assert_eq!(iterations_run_on_this_thread(), pbkdf2);
}

#[test]
fn a_reset_sets_the_password_and_by_default_ends_no_session_as_in_cognito() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let before = w.sign_in(PUBLIC, "alice");
    w.call(
        "ForgotPassword",
        json!({"ClientId": PUBLIC, "Username": "alice"}),
    )
    .ok();
    let code = w.code(LOCAL, "alice", "FORGOT_PASSWORD");
    let weak = w.call(
        "ConfirmForgotPassword",
        json!({"ClientId": PUBLIC, "Username": "alice", "ConfirmationCode": code,
               "Password": "weak"}),
    );
    assert_eq!(
        weak.body["__type"], "InvalidPasswordException",
        "checked before the code"
    );
    w.call(
        "ConfirmForgotPassword",
        json!({"ClientId": PUBLIC, "Username": "alice", "ConfirmationCode": code,
               "Password": "Reset-Pass-1"}),
    )
    .ok();
    w.password_auth(PUBLIC, "alice", PASSWORD)
        .refused("NotAuthorizedException", INCORRECT);
    w.password_auth(PUBLIC, "alice", "Reset-Pass-1").ok();
    w.gate(&before.access).passes();
    w.refresh(PUBLIC, &before.refresh).ok();
}

#[test]
fn a_pool_that_signs_out_on_password_change_ends_every_session_on_a_reset_or_change() {
    let w = with_local(json!({"password_iterations": 1000, "sign_out_on_password_change": true}));
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let first = w.sign_in(PUBLIC, "alice");
    w.call(
        "ForgotPassword",
        json!({"ClientId": PUBLIC, "Username": "alice"}),
    )
    .ok();
    let code = w.code(LOCAL, "alice", "FORGOT_PASSWORD");
    w.call(
        "ConfirmForgotPassword",
        json!({"ClientId": PUBLIC, "Username": "alice", "ConfirmationCode": code,
               "Password": "Reset-Pass-1"}),
    )
    .ok();
    w.gate(&first.access).gate_refused(REVOKED);
    w.refresh(PUBLIC, &first.refresh)
        .refused("NotAuthorizedException", "Refresh Token has been revoked");
    w.advance(1_000);
    let second = w.password_auth(PUBLIC, "alice", "Reset-Pass-1").ok()["AuthenticationResult"]
        ["AccessToken"]
        .clone();
    w.call(
        "ChangePassword",
        json!({"AccessToken": second, "PreviousPassword": "Reset-Pass-1",
               "ProposedPassword": "Changed-Pass-1"}),
    )
    .ok();
    w.gate(&str_of(&second)).gate_refused(REVOKED);
    let entry = w
        .revocations()
        .into_iter()
        .find(|(key, _, _)| key.starts_with("rev/v1/u/"))
        .unwrap();
    assert_eq!(entry.1["reason"], "ChangePassword");
}

#[test]
fn change_password_checks_the_previous_password_and_keeps_sessions_as_cognito_does() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let tokens = w.sign_in(PUBLIC, "alice");
    let change = |previous: &str, proposed: &str| {
        w.call(
            "ChangePassword",
            json!({"AccessToken": tokens.access, "PreviousPassword": previous,
                   "ProposedPassword": proposed}),
        )
    };
    change("Wrong-Horse-1", "Changed-Pass-1").refused("NotAuthorizedException", INCORRECT);
    assert_eq!(
        change(PASSWORD, "short").body["__type"],
        "InvalidPasswordException"
    );
    change(PASSWORD, "Changed-Pass-1").ok();
    w.password_auth(PUBLIC, "alice", "Changed-Pass-1").ok();
    w.gate(&tokens.access).passes();
    w.global_sign_out(&tokens.access).ok();
    change("Changed-Pass-1", "Again-Pass-1").refused("NotAuthorizedException", REVOKED);
}

// ---------------------------------------------------------------------------------------
// Attributes

#[test]
fn updating_attributes_shows_in_get_user_and_in_the_next_id_token() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let tokens = w.sign_in(PUBLIC, "alice");
    let reply = w
        .call(
            "UpdateUserAttributes",
            json!({"AccessToken": tokens.access,
                   "UserAttributes": [{"Name": "name", "Value": "Alice A."},
                                      {"Name": "custom:team", "Value": "blue"}]}),
        )
        .ok();
    assert_eq!(reply, json!({}));
    let user = w.get_user(&tokens.access).ok();
    assert_eq!(attribute(&user, "name").as_deref(), Some("Alice A."));
    let refreshed = w.refresh(PUBLIC, &tokens.refresh).ok();
    let id = claims(&str_of(&refreshed["AuthenticationResult"]["IdToken"]));
    assert_eq!(id["name"], "Alice A.");
    assert_eq!(id["custom:team"], "blue");
    for (body, error) in [
        (
            json!([{"Name": "sub", "Value": "x"}]),
            "InvalidParameterException",
        ),
        (
            json!([{"Name": "email_verified", "Value": "true"}]),
            "NotAuthorizedException",
        ),
        (
            json!([{"Name": "shoe_size", "Value": "9"}]),
            "InvalidParameterException",
        ),
    ] {
        let reply = w.call(
            "UpdateUserAttributes",
            json!({"AccessToken": tokens.access, "UserAttributes": body}),
        );
        assert_eq!(reply.body["__type"], error, "{body}");
    }
}

#[test]
fn a_changed_email_signs_in_only_once_verified_with_its_code() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let tokens = w.sign_in(PUBLIC, "alice");
    let reply = w
        .call(
            "UpdateUserAttributes",
            json!({"AccessToken": tokens.access,
                   "UserAttributes": [{"Name": "email", "Value": "alice@new.example"}]}),
        )
        .ok();
    assert_eq!(
        reply,
        json!({"CodeDeliveryDetailsList": [{"Destination": "a***@n***", "DeliveryMedium": "EMAIL",
                                            "AttributeName": "email"}]})
    );
    let user = w.get_user(&tokens.access).ok();
    assert_eq!(attribute(&user, "email_verified").as_deref(), Some("false"));
    for email in ["alice@example.com", "alice@new.example"] {
        w.password_auth(PUBLIC, email, PASSWORD)
            .refused("NotAuthorizedException", INCORRECT);
    }
    let verify = |code: &str| {
        w.call(
            "VerifyUserAttribute",
            json!({"AccessToken": tokens.access, "AttributeName": "email", "Code": code}),
        )
    };
    let code = w.code(LOCAL, "alice", "VERIFY_EMAIL");
    verify(&other_code(&code)).refused("CodeMismatchException", MISMATCH);
    // A new code replaces the old one.
    w.call(
        "GetUserAttributeVerificationCode",
        json!({"AccessToken": tokens.access, "AttributeName": "email"}),
    )
    .ok();
    let fresh = w.code(LOCAL, "alice", "VERIFY_EMAIL");
    if fresh != code {
        verify(&code).refused("CodeMismatchException", MISMATCH);
    }
    verify(&fresh).ok();
    let user = w.get_user(&tokens.access).ok();
    assert_eq!(attribute(&user, "email_verified").as_deref(), Some("true"));
    w.sign_in(PUBLIC, "alice@new.example");
    w.call(
        "GetUserAttributeVerificationCode",
        json!({"AccessToken": tokens.access, "AttributeName": "phone_number"}),
    )
    .refused(
        "InvalidParameterException",
        "phone_number cannot be verified here: local pools send no SMS; an administrator sets phone_number_verified.",
    );
}

// ---------------------------------------------------------------------------------------
// Deleting

#[test]
fn delete_user_revokes_every_token_then_deletes_the_user() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let tokens = w.sign_in(PUBLIC, "alice");
    let other = w.sign_in(PUBLIC, "alice");
    w.call("DeleteUser", json!({"AccessToken": tokens.access}))
        .ok();
    for access in [&tokens.access, &other.access] {
        w.gate(access).gate_refused(REVOKED);
        w.get_user(access)
            .refused("NotAuthorizedException", REVOKED);
    }
    w.refresh(PUBLIC, &other.refresh)
        .refused("NotAuthorizedException", "Refresh Token has been revoked");
    w.admin(
        "AdminGetUser",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused("UserNotFoundException", "User does not exist.");
    let entry = w
        .revocations()
        .into_iter()
        .find(|(key, _, _)| key.starts_with("rev/v1/u/"))
        .unwrap();
    assert_eq!(entry.1["reason"], "DeleteUser");
}

// ---------------------------------------------------------------------------------------
// GetTokensFromRefreshToken

fn get_tokens(w: &World, client: &str, refresh: &str) -> Reply {
    w.call(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": refresh}),
    )
}

fn refresh_of(reply: &Value) -> String {
    str_of(&reply["AuthenticationResult"]["RefreshToken"])
}

#[test]
fn get_tokens_from_refresh_token_answers_new_tokens_of_the_same_session() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let tokens = w.sign_in(PUBLIC, "alice");
    w.advance(5_000);
    let reply = get_tokens(&w, PUBLIC, &tokens.refresh).ok();
    let result = reply["AuthenticationResult"].as_object().unwrap();
    let mut keys: Vec<&str> = result.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["AccessToken", "ExpiresIn", "IdToken", "TokenType"],
        "no rotation here"
    );
    assert!(reply.get("ChallengeParameters").is_none());
    let access = claims(&str_of(&result["AccessToken"]));
    let before = claims(&tokens.access);
    assert_eq!(access["origin_jti"], before["origin_jti"]);
    assert_eq!(access["auth_time"], before["auth_time"]);
    assert_ne!(access["jti"], before["jti"]);
    w.global_sign_out(&tokens.access).ok();
    get_tokens(&w, PUBLIC, &tokens.refresh)
        .refused("NotAuthorizedException", "Refresh Token has been revoked");
    get_tokens(&w, PUBLIC, "not.a.refresh.token.x")
        .refused("NotAuthorizedException", "Invalid Refresh Token");
}

#[test]
fn get_tokens_from_refresh_token_needs_the_client_secret_of_a_client_with_one() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let tokens = w.sign_in(SECRET_CLIENT, "alice");
    let refused = format!("Unable to verify client secret for client {SECRET_CLIENT}");
    get_tokens(&w, SECRET_CLIENT, &tokens.refresh).refused("NotAuthorizedException", &refused);
    w.call(
        "GetTokensFromRefreshToken",
        json!({"ClientId": SECRET_CLIENT, "RefreshToken": tokens.refresh,
               "ClientSecret": "Not_The_Secret_0123456789"}),
    )
    .refused("NotAuthorizedException", &refused);
    w.call(
        "GetTokensFromRefreshToken",
        json!({"ClientId": SECRET_CLIENT, "RefreshToken": tokens.refresh,
               "ClientSecret": CLIENT_SECRET, "DeviceKey": null}),
    )
    .ok();
}

#[test]
fn a_rotating_client_gets_a_new_refresh_token_and_the_old_one_only_within_the_grace_period() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(ROTATING, "alice");
    let first = get_tokens(&w, ROTATING, &tokens.refresh).ok();
    let second_token = refresh_of(&first);
    assert_ne!(second_token, tokens.refresh);
    // A retry within the 10-second grace gets the same generation again.
    w.advance(5_000);
    let retry = get_tokens(&w, ROTATING, &tokens.refresh).ok();
    let third = get_tokens(&w, ROTATING, &refresh_of(&retry)).ok();
    let third_token = refresh_of(&third);
    // REFRESH_TOKEN_AUTH would refresh around the rotation: refused for this client.
    let initiate = w.refresh(ROTATING, &third_token);
    assert_eq!(initiate.body["__type"], "InvalidParameterException");
    // The second generation, past its grace: reuse, and the whole session is revoked.
    w.advance(11_000);
    get_tokens(&w, ROTATING, &second_token).refused(
        "RefreshTokenReuseException",
        "Refresh token has been reused; the session is revoked.",
    );
    get_tokens(&w, ROTATING, &third_token)
        .refused("NotAuthorizedException", "Refresh Token has been revoked");
    let access = str_of(&third["AuthenticationResult"]["AccessToken"]);
    w.gate(&access).gate_refused(REVOKED);
    w.gate(&tokens.access).gate_refused(REVOKED);
    // A new sign-in is a new session.
    let fresh = w.sign_in(ROTATING, "alice");
    get_tokens(&w, ROTATING, &fresh.refresh).ok();
}

#[test]
fn rotation_is_for_local_pools_only() {
    let mut vars = vars();
    let mut pools = vars["POOLS"].as_array().unwrap().clone();
    pools[2]["clients"] =
        json!([{"id": EXT_CLIENT, "refresh_token_rotation": {"retry_grace_period_s": 5}}]);
    vars.insert("POOLS".into(), Value::Array(pools));
    let err = edge_revoke::config::Config::from_env(&vars).unwrap_err();
    assert_eq!(err.field, "POOLS[2].clients[0].refresh_token_rotation");
}

// ---------------------------------------------------------------------------------------
// CORS for the browser libraries

#[test]
fn a_preflight_with_the_browser_libraries_headers_is_allowed_and_a_refused_one_is_logged() {
    let mut vars: Map<String, Value> = vars();
    vars.insert(
        "ALLOWED_ORIGINS".into(),
        Value::from("http://app.localhost:5173"),
    );
    let w = World::with(&vars);
    let preflight = |origin: &str, headers: &str| edge_revoke::http::Request {
        method: "OPTIONS".into(),
        path: "/".into(),
        headers: vec![
            ("origin".into(), origin.into()),
            ("access-control-request-method".into(), "POST".into()),
            ("access-control-request-headers".into(), headers.into()),
        ],
        ..Default::default()
    };
    let amplify = "amz-sdk-invocation-id,amz-sdk-request,cache-control,content-type,x-amz-target,x-amz-user-agent";
    let reply = w.send(&preflight("http://app.localhost:5173", amplify));
    assert_eq!(reply.status, 204);
    let allowed = reply.header("access-control-allow-headers").unwrap();
    for header in amplify.split(',') {
        assert!(allowed.contains(header), "{header}");
    }
    assert!(!w.logged("preflight"));
    w.send(&preflight(
        "http://app.localhost:5173",
        "content-type,x-my-header",
    ));
    assert!(w.logged("CORS preflight for / refused: request header \"x-my-header\" not allowed"));
    let foreign = w.send(&preflight("http://elsewhere:3000", amplify));
    assert_eq!(foreign.status, 403);
    assert!(w.logged("origin \"http://elsewhere:3000\" is not in ALLOWED_ORIGINS"));
}

#[test]
fn self_service_answers_that_revoke_carry_the_receipt_and_a_reused_refresh_tokens_refusal_too() {
    // KV's window with the default settings (no revocation authority bound): 60 + 30 + 5 s.
    let receipt = |w: &World| Some((w.now() + 95_000).to_string());
    let header = |reply: &Reply| reply.header("x-edge-revoke-enforced-by").map(str::to_owned);
    let w = with_local(json!({"password_iterations": 1000, "sign_out_on_password_change": true}));
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    let changed = w.call(
        "ChangePassword",
        json!({"AccessToken": tokens.access, "PreviousPassword": PASSWORD,
               "ProposedPassword": "Changed-Pass-1"}),
    );
    assert_eq!(changed.ok(), json!({}), "the body stays Cognito's");
    assert_eq!(header(&changed), receipt(&w));
    // Control: a pool that keeps sessions on a password change revokes nothing, says nothing.
    let keeps = World::new();
    keeps.create_user(LOCAL, "bob", "bob@example.com");
    let bob = keeps.sign_in(PUBLIC, "bob");
    let kept = keeps.call(
        "ChangePassword",
        json!({"AccessToken": bob.access, "PreviousPassword": PASSWORD,
               "ProposedPassword": "Changed-Pass-1"}),
    );
    assert_eq!(kept.ok(), json!({}));
    assert_eq!(header(&kept), None);
    // Rotation: a second generation reused past its grace revokes the session; the refusal
    // says when that is enforced everywhere.
    w.advance(1_000);
    let rotating = w.password_auth(ROTATING, "alice", "Changed-Pass-1").ok();
    let first = str_of(&rotating["AuthenticationResult"]["RefreshToken"]);
    let next = get_tokens(&w, ROTATING, &first);
    assert_eq!(header(&next), None, "a rotation revokes nothing");
    let second = refresh_of(&next.ok());
    get_tokens(&w, ROTATING, &second).ok();
    w.advance(11_000);
    let reused = get_tokens(&w, ROTATING, &second);
    assert_eq!(reused.body["__type"], "RefreshTokenReuseException");
    assert_eq!(header(&reused), receipt(&w));
    w.advance(1_000);
    let last = w.password_auth(PUBLIC, "alice", "Changed-Pass-1").ok();
    let deleted = w.call(
        "DeleteUser",
        json!({"AccessToken": last["AuthenticationResult"]["AccessToken"]}),
    );
    assert_eq!(deleted.ok(), json!({}));
    assert_eq!(header(&deleted), receipt(&w));
}
