//! SRP sign-in through `POST /`, as Amplify v6 and amazon-cognito-identity-js run it by default:
//! InitiateAuth `USER_SRP_AUTH` → PASSWORD_VERIFIER → RespondToAuthChallenge, and `USER_AUTH`
//! (PASSWORD, PASSWORD_SRP, SELECT_CHALLENGE). The client side is `support::srp_client`, written
//! from the reference's formulas, not from `local::srp`. The arithmetic itself is checked against
//! the recorded client vectors in `src/local/srp/tests.rs`.

mod support;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use edge_revoke::local::{password::iterations_run_on_this_thread, srp};
use serde_json::{json, Value};
use support::*;

const WRONG: &str = "Wrong-Horse-1";
const INCORRECT: &str = "Incorrect username or password.";

fn is_uuid_v4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && parts[2].starts_with('4')
}

#[test]
fn srp_sign_in_with_the_right_password_answers_tokens_for_the_user() {
    let w = World::new();
    let sub = w.create_user(LOCAL, "alice", "alice@example.com");
    let (client, challenge) = w.srp_initiate(PUBLIC, "ALICE");
    let challenge = challenge.ok();
    let params = &challenge["ChallengeParameters"];
    assert_eq!(challenge["ChallengeName"], "PASSWORD_VERIFIER");
    assert!(
        challenge.get("Session").is_none(),
        "the state is in SECRET_BLOCK"
    );
    let mut names: Vec<&str> = params
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "SALT",
            "SECRET_BLOCK",
            "SRP_B",
            "USERNAME",
            "USER_ID_FOR_SRP"
        ]
    );
    assert_eq!(
        params["USER_ID_FOR_SRP"],
        sub.as_str(),
        "the immutable sub, whatever was typed"
    );
    assert_eq!(params["USERNAME"], sub.as_str());
    let body = w.srp_response(LOCAL, PUBLIC, &client, &challenge, PASSWORD);
    let result = w.call("RespondToAuthChallenge", body).ok();
    assert_eq!(result["ChallengeParameters"], json!({}));
    let access = str_of(&result["AuthenticationResult"]["AccessToken"]);
    assert_eq!(claims(&access)["sub"], sub.as_str());
    assert_eq!(claims(&access)["username"], "alice");
    assert!(result["AuthenticationResult"]["RefreshToken"].is_string());
    w.gate(&access).passes();
}

#[test]
fn srp_sign_in_by_email_alias_and_through_a_client_with_a_secret_works() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let reply = w.srp_sign_in(LOCAL, PUBLIC, "Alice@Example.com", PASSWORD);
    assert!(reply.ok()["AuthenticationResult"]["AccessToken"].is_string());
    let reply = w.srp_sign_in(LOCAL, SECRET_CLIENT, "alice", PASSWORD);
    assert!(reply.ok()["AuthenticationResult"]["AccessToken"].is_string());
}

#[test]
fn a_wrong_password_an_unknown_user_and_a_disabled_user_with_a_wrong_password_are_answered_alike() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.create_user(LOCAL, "dora", "dora@example.com");
    w.admin(
        "AdminDisableUser",
        json!({"UserPoolId": LOCAL, "Username": "dora"}),
    )
    .ok();
    for (name, password) in [("alice", WRONG), ("mallory", PASSWORD), ("dora", WRONG)] {
        let (client, challenge) = w.srp_initiate(PUBLIC, name);
        let challenge = challenge.ok();
        let params = &challenge["ChallengeParameters"];
        assert!(
            is_uuid_v4(&str_of(&params["USER_ID_FOR_SRP"])),
            "{name}: {params}"
        );
        assert_eq!(str_of(&params["SALT"]).len(), 32, "{name}");
        let body = w.srp_response(LOCAL, PUBLIC, &client, &challenge, password);
        w.call("RespondToAuthChallenge", body)
            .refused("NotAuthorizedException", INCORRECT);
    }
}

#[test]
fn a_disabled_user_with_the_right_password_is_told_they_are_disabled() {
    let w = World::new();
    w.create_user(LOCAL, "dora", "dora@example.com");
    w.admin(
        "AdminDisableUser",
        json!({"UserPoolId": LOCAL, "Username": "dora"}),
    )
    .ok();
    w.srp_sign_in(LOCAL, PUBLIC, "dora", PASSWORD)
        .refused("NotAuthorizedException", "User is disabled.");
}

#[test]
fn an_unknown_name_gets_the_same_salt_and_id_every_time_and_another_name_others() {
    let w = World::new();
    let ask = |name: &str| {
        let params = w.srp_initiate(PUBLIC, name).1.ok()["ChallengeParameters"].clone();
        (
            str_of(&params["SALT"]),
            str_of(&params["USER_ID_FOR_SRP"]),
            str_of(&params["SRP_B"]),
        )
    };
    let (salt1, id1, b1) = ask("mallory");
    let (salt2, id2, b2) = ask("MALLORY");
    assert_eq!(
        (&salt1, &id1),
        (&salt2, &id2),
        "one name, one stand-in, in any case"
    );
    assert_ne!(b1, b2, "B is fresh per attempt");
    let (salt3, id3, _) = ask("trudy");
    assert_ne!(salt1, salt3);
    assert_ne!(id1, id3);
    // A real user's salt is stable too, until the password changes.
    w.create_user(LOCAL, "alice", "alice@example.com");
    assert_eq!(ask("alice").0, ask("alice@example.com").0);
}

#[test]
fn an_unknown_user_costs_the_same_exponentiations_and_kv_work_as_a_wrong_password() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let mut costs = Vec::new();
    for name in ["alice", "mallory"] {
        let (modexp, kv) = (srp::exponentiations_run_on_this_thread(), w.store.counts());
        let (client, challenge) = w.srp_initiate(PUBLIC, name);
        let challenge = challenge.ok();
        let initiate = (
            srp::exponentiations_run_on_this_thread() - modexp,
            w.store.counts().0 - kv.0,
            w.store.counts().1 - kv.1,
        );
        let body = w.srp_response(LOCAL, PUBLIC, &client, &challenge, WRONG);
        let (modexp, kv) = (srp::exponentiations_run_on_this_thread(), w.store.counts());
        let pbkdf2 = iterations_run_on_this_thread();
        w.call("RespondToAuthChallenge", body)
            .refused("NotAuthorizedException", INCORRECT);
        let respond = (
            srp::exponentiations_run_on_this_thread() - modexp,
            w.store.counts().0 - kv.0,
            w.store.counts().1 - kv.1,
            iterations_run_on_this_thread() - pbkdf2,
        );
        costs.push((initiate, respond));
    }
    assert_eq!(
        costs[0], costs[1],
        "alice (wrong password) vs mallory (no such user)"
    );
    assert_eq!(costs[0].0 .0, 1, "B: one exponentiation at InitiateAuth");
    assert_eq!(costs[0].1 .0, 2, "S: two at RespondToAuthChallenge");
}

#[test]
fn a_secret_block_is_answered_once_even_with_the_right_proof() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let (client, challenge) = w.srp_initiate(PUBLIC, "alice");
    let body = w.srp_response(LOCAL, PUBLIC, &client, &challenge.ok(), PASSWORD);
    w.call("RespondToAuthChallenge", body.clone()).ok();
    w.call("RespondToAuthChallenge", body)
        .refused("NotAuthorizedException", INCORRECT);
}

#[test]
fn a_wrong_guess_spends_the_challenge_for_the_right_one() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let (client, challenge) = w.srp_initiate(PUBLIC, "alice");
    let challenge = challenge.ok();
    let wrong = w.srp_response(LOCAL, PUBLIC, &client, &challenge, WRONG);
    w.call("RespondToAuthChallenge", wrong)
        .refused("NotAuthorizedException", INCORRECT);
    let right = w.srp_response(LOCAL, PUBLIC, &client, &challenge, PASSWORD);
    w.call("RespondToAuthChallenge", right)
        .refused("NotAuthorizedException", INCORRECT);
}

#[test]
fn a_secret_block_from_another_client_or_past_its_lifetime_is_refused() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let (client, challenge) = w.srp_initiate(PUBLIC, "alice");
    let challenge = challenge.ok();
    let mut body = w.srp_response(LOCAL, NOREVOKE, &client, &challenge, PASSWORD);
    body["ClientId"] = Value::from(NOREVOKE);
    w.call("RespondToAuthChallenge", body)
        .refused("NotAuthorizedException", INCORRECT);
    let (client, challenge) = w.srp_initiate(PUBLIC, "alice");
    w.advance(181_000);
    let body = w.srp_response(LOCAL, PUBLIC, &client, &challenge.ok(), PASSWORD);
    w.call("RespondToAuthChallenge", body)
        .refused("NotAuthorizedException", INCORRECT);
}

#[test]
fn an_answer_naming_another_user_than_the_challenge_is_refused() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.create_user(LOCAL, "bob", "bob@example.com");
    let (client, challenge) = w.srp_initiate(PUBLIC, "alice");
    let mut body = w.srp_response(LOCAL, PUBLIC, &client, &challenge.ok(), PASSWORD);
    body["ChallengeResponses"]["USERNAME"] = Value::from("bob");
    w.call("RespondToAuthChallenge", body)
        .refused("NotAuthorizedException", INCORRECT);
    // Naming the same user by username works (pycognito-style clients may).
    let (client, challenge) = w.srp_initiate(PUBLIC, "alice");
    let mut body = w.srp_response(LOCAL, PUBLIC, &client, &challenge.ok(), PASSWORD);
    body["ChallengeResponses"]["USERNAME"] = Value::from("alice");
    w.call("RespondToAuthChallenge", body).ok();
}

#[test]
fn a_malformed_srp_a_or_timestamp_is_invalid_parameter_exception() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    for (srp_a, message) in [
        ("0", "SRP_A must not be 0 modulo N."),
        ("xyz", "SRP_A must be a hexadecimal integer."),
    ] {
        w.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": PUBLIC,
                   "AuthParameters": {"USERNAME": "alice", "SRP_A": srp_a}}),
        )
        .refused("InvalidParameterException", message);
    }
    w.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": PUBLIC,
               "AuthParameters": {"USERNAME": "alice"}}),
    )
    .refused(
        "InvalidParameterException",
        "Missing required parameter SRP_A",
    );
    let (client, challenge) = w.srp_initiate(PUBLIC, "alice");
    let mut body = w.srp_response(LOCAL, PUBLIC, &client, &challenge.ok(), PASSWORD);
    body["ChallengeResponses"]["TIMESTAMP"] = Value::from("2024-03-05T09:07:03Z");
    w.call("RespondToAuthChallenge", body)
        .refused("InvalidParameterException", srp::TIMESTAMP_FORMAT_MESSAGE);
}

#[test]
fn an_unconfirmed_user_with_the_right_password_is_told_to_confirm() {
    let w = World::new();
    w.call(
        "SignUp",
        json!({"ClientId": PUBLIC, "Username": "erin", "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "erin@example.com"}]}),
    )
    .ok();
    w.srp_sign_in(LOCAL, PUBLIC, "erin", PASSWORD)
        .refused("UserNotConfirmedException", "User is not confirmed.");
    w.srp_sign_in(LOCAL, PUBLIC, "erin", WRONG)
        .refused("NotAuthorizedException", INCORRECT);
    w.password_auth(PUBLIC, "erin", PASSWORD)
        .refused("UserNotConfirmedException", "User is not confirmed.");
}

#[test]
fn a_temporary_password_leads_srp_to_new_password_required_and_the_new_one_signs_in_with_srp() {
    let w = World::new();
    let created = w
        .admin(
            "AdminCreateUser",
            json!({"UserPoolId": LOCAL, "Username": "carol", "TemporaryPassword": "Temp-Pass-1"}),
        )
        .ok();
    let sub = str_of(&created["User"]["Attributes"][0]["Value"]);
    let challenge = w.srp_sign_in(LOCAL, PUBLIC, "carol", "Temp-Pass-1").ok();
    assert_eq!(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    assert_eq!(
        challenge["ChallengeParameters"]["USER_ID_FOR_SRP"],
        sub.as_str()
    );
    // amazon-cognito-identity-js answers with USERNAME = USER_ID_FOR_SRP (the sub).
    w.call(
        "RespondToAuthChallenge",
        json!({"ChallengeName": "NEW_PASSWORD_REQUIRED", "ClientId": PUBLIC,
               "Session": challenge["Session"],
               "ChallengeResponses": {"USERNAME": sub, "NEW_PASSWORD": "Brand-New-Pass-1"}}),
    )
    .ok();
    w.srp_sign_in(LOCAL, PUBLIC, "carol", "Brand-New-Pass-1")
        .ok();
    w.srp_sign_in(LOCAL, PUBLIC, "carol", "Temp-Pass-1")
        .refused("NotAuthorizedException", INCORRECT);
}

fn strip_verifier(w: &World, sub: &str) {
    let key = format!("user/v1/{LOCAL}/sub/{sub}");
    let (text, _) = w.store.peek(&key).unwrap();
    let mut record: Value = serde_json::from_str(&text).unwrap();
    record["srp"] = Value::Null;
    w.store.seed(&key, &record.to_string());
}

#[test]
fn a_password_set_before_srp_is_refused_with_a_pointer_to_user_password_auth_which_then_stores_the_verifier(
) {
    let w = World::new();
    let sub = w.create_user(LOCAL, "alice", "alice@example.com");
    strip_verifier(&w, &sub);
    let (_, reply) = w.srp_initiate(PUBLIC, "alice");
    reply.refused(
        "NotAuthorizedException",
        "SRP sign-in is not set up for this user yet: their password was set before this Worker \
         offered it. Sign in once with USER_PASSWORD_AUTH (or have an administrator set the \
         password again); SRP sign-in works from then on.",
    );
    w.password_auth(PUBLIC, "alice", WRONG)
        .refused("NotAuthorizedException", INCORRECT);
    w.sign_in(PUBLIC, "alice");
    w.srp_sign_in(LOCAL, PUBLIC, "alice", PASSWORD).ok();
}

#[test]
fn the_verifier_is_stored_sealed_beside_the_hash_and_never_in_the_clear() {
    let w = World::new();
    let sub = w.create_user(LOCAL, "alice", "alice@example.com");
    let (text, _) = w.store.peek(&format!("user/v1/{LOCAL}/sub/{sub}")).unwrap();
    let record: Value = serde_json::from_str(&text).unwrap();
    assert!(str_of(&record["password"]).starts_with("pbkdf2-sha256$"));
    let sealed = str_of(&record["srp"]);
    let segments: Vec<&str> = sealed.split('.').collect();
    assert_eq!(segments.len(), 5, "a JWE compact serialisation");
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segments[0]).unwrap()).unwrap();
    assert_eq!(header["typ"], "srp-verifier");
    assert_eq!(
        (header["alg"].clone(), header["enc"].clone()),
        (json!("dir"), json!("A256GCM"))
    );
    // Nothing else in the record is long enough to be a 3072-bit number in hex or base64.
    for (name, value) in record.as_object().unwrap() {
        if name != "srp" {
            assert!(value.to_string().len() < 200, "{name}: {value}");
        }
    }
    let ciphertext = URL_SAFE_NO_PAD.decode(segments[3]).unwrap();
    assert!(serde_json::from_slice::<Value>(&ciphertext).is_err());
}

#[test]
fn every_path_that_sets_a_password_makes_srp_work_with_it() {
    let w = World::new();
    // AdminSetUserPassword (create_user), NEW_PASSWORD_REQUIRED (above), SignUp, ChangePassword,
    // ConfirmForgotPassword: each password signs in with SRP at once.
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.srp_sign_in(LOCAL, PUBLIC, "alice", PASSWORD).ok();
    let tokens = w.sign_in(PUBLIC, "alice");
    w.call(
        "ChangePassword",
        json!({"AccessToken": tokens.access, "PreviousPassword": PASSWORD,
               "ProposedPassword": "Changed-Pass-1"}),
    )
    .ok();
    w.srp_sign_in(LOCAL, PUBLIC, "alice", "Changed-Pass-1").ok();
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
    w.srp_sign_in(LOCAL, PUBLIC, "alice", "Reset-Pass-1").ok();
    w.call(
        "SignUp",
        json!({"ClientId": PUBLIC, "Username": "erin", "Password": "Signed-Up-1"}),
    )
    .ok();
    w.admin(
        "AdminConfirmSignUp",
        json!({"UserPoolId": LOCAL, "Username": "erin"}),
    )
    .ok();
    w.srp_sign_in(LOCAL, PUBLIC, "erin", "Signed-Up-1").ok();
}

// ---------------------------------------------------------------------------------------
// USER_AUTH

#[test]
fn user_auth_with_password_srp_preferred_is_the_srp_exchange() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let client = srp_client::Client::new();
    let challenge = w
        .call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_AUTH", "ClientId": PUBLIC,
                   "AuthParameters": {"USERNAME": "alice", "PREFERRED_CHALLENGE": "PASSWORD_SRP",
                                      "SRP_A": client.srp_a()}}),
        )
        .ok();
    assert_eq!(challenge["ChallengeName"], "PASSWORD_VERIFIER");
    let body = w.srp_response(LOCAL, PUBLIC, &client, &challenge, PASSWORD);
    w.call("RespondToAuthChallenge", body).ok();
}

#[test]
fn user_auth_with_password_preferred_signs_in_like_user_password_auth() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let auth = |password: &str| {
        w.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_AUTH", "ClientId": PUBLIC,
                   "AuthParameters": {"USERNAME": "alice", "PREFERRED_CHALLENGE": "PASSWORD",
                                      "PASSWORD": password}}),
        )
    };
    assert!(auth(PASSWORD).ok()["AuthenticationResult"]["AccessToken"].is_string());
    auth(WRONG).refused("NotAuthorizedException", INCORRECT);
}

#[test]
fn user_auth_without_a_preference_offers_password_and_password_srp_and_either_answer_signs_in() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let select = || {
        w.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_AUTH", "ClientId": PUBLIC,
                   "AuthParameters": {"USERNAME": "alice"}}),
        )
        .ok()
    };
    let offered = select();
    assert_eq!(offered["ChallengeName"], "SELECT_CHALLENGE");
    assert_eq!(
        offered["AvailableChallenges"],
        json!(["PASSWORD", "PASSWORD_SRP"])
    );
    let session = offered["Session"].clone();
    let by_password = w
        .call(
            "RespondToAuthChallenge",
            json!({"ChallengeName": "SELECT_CHALLENGE", "ClientId": PUBLIC, "Session": session,
                   "ChallengeResponses": {"USERNAME": "alice", "ANSWER": "PASSWORD",
                                          "PASSWORD": PASSWORD}}),
        )
        .ok();
    assert!(by_password["AuthenticationResult"]["AccessToken"].is_string());
    let client = srp_client::Client::new();
    let challenge = w
        .call(
            "RespondToAuthChallenge",
            json!({"ChallengeName": "SELECT_CHALLENGE", "ClientId": PUBLIC,
                   "Session": select()["Session"],
                   "ChallengeResponses": {"USERNAME": "alice", "ANSWER": "PASSWORD_SRP",
                                          "SRP_A": client.srp_a()}}),
        )
        .ok();
    assert_eq!(challenge["ChallengeName"], "PASSWORD_VERIFIER");
    let body = w.srp_response(LOCAL, PUBLIC, &client, &challenge, PASSWORD);
    w.call("RespondToAuthChallenge", body).ok();
}

#[test]
fn a_select_challenge_session_is_for_its_own_user_and_is_no_new_password_session() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.create_user(LOCAL, "bob", "bob@example.com");
    let session = w
        .call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_AUTH", "ClientId": PUBLIC,
                   "AuthParameters": {"USERNAME": "alice"}}),
        )
        .ok()["Session"]
        .clone();
    let expired = "Invalid session for the user, session is expired.";
    w.call(
        "RespondToAuthChallenge",
        json!({"ChallengeName": "SELECT_CHALLENGE", "ClientId": PUBLIC, "Session": session,
               "ChallengeResponses": {"USERNAME": "bob", "ANSWER": "PASSWORD",
                                      "PASSWORD": PASSWORD}}),
    )
    .refused("NotAuthorizedException", expired);
    w.call(
        "RespondToAuthChallenge",
        json!({"ChallengeName": "NEW_PASSWORD_REQUIRED", "ClientId": PUBLIC, "Session": session,
               "ChallengeResponses": {"USERNAME": "alice", "NEW_PASSWORD": "Brand-New-Pass-1"}}),
    )
    .refused("NotAuthorizedException", expired);
}

#[test]
fn a_challenge_this_pool_never_issues_is_refused_with_the_ones_it_does() {
    let w = World::new();
    w.call(
        "RespondToAuthChallenge",
        json!({"ChallengeName": "SMS_MFA", "ClientId": PUBLIC, "ChallengeResponses": {}}),
    )
    .refused(
        "InvalidParameterException",
        "SMS_MFA is not a challenge this pool issues: local pools issue PASSWORD_VERIFIER, \
         SELECT_CHALLENGE and NEW_PASSWORD_REQUIRED.",
    );
}
