//! The Cognito-compatible API (`POST /`) and the gate, driven end to end through `App::handle`:
//! the protocol, SigV4 and the IAM allow-list, validation, the three sign-out operations and
//! their effects, fail-closed behaviour. Local-pool user management and token shapes are in
//! `tests/local_pool.rs`; the shared harness is `tests/support/mod.rs`.
//!
//! Every test builds a fresh isolate (`App`), a fresh in-memory KV and a pinned clock, then
//! speaks the wire protocol: AWS JSON 1.1 requests in, status + headers + JSON body out. Time
//! only moves when a test moves it. Scenario numbers refer to `shared/reference/cognito.md` §9.
//!
//! Where the crate departs from documented Cognito behaviour, the test keeps the strict
//! assertion and was `#[ignore = "DEFECT: ..."]` until fixed.

mod support;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use edge_revoke::{
    app::App,
    config::{BrokenConfig, Config},
    http::Request,
    replay::DUPLICATE_GRACE_MS,
};
use serde_json::{json, Value};
use support::*;

// ---------------------------------------------------------------------------------------
// Protocol (§9 scenarios 1, 3, 4, 5)

#[test]
fn an_unknown_target_is_unknown_operation_exception() {
    let w = World::new();
    let reply = w.call("NoSuchOp", json!({}));
    reply.refused(
        "UnknownOperationException",
        "Unknown operation: AWSCognitoIdentityProviderService.NoSuchOp",
    );
}

#[test]
fn a_missing_target_is_unknown_operation_exception() {
    let w = World::new();
    w.send(&api_request(None, b"{}"))
        .refused("UnknownOperationException", "Unknown operation: ");
}

#[test]
fn a_target_without_the_service_prefix_or_in_another_case_is_unknown() {
    let w = World::new();
    for target in [
        "AdminUserGlobalSignOut",
        "AWSCognitoIdentityProviderService.adminUserGlobalSignOut",
        "awscognitoidentityproviderservice.GetUser",
        "AWSCognitoIdentityProviderService.",
    ] {
        w.send(&api_request(Some(target), b"{}")).refused(
            "UnknownOperationException",
            &format!("Unknown operation: {target}"),
        );
    }
}

#[test]
fn a_body_that_is_not_json_is_serialization_exception_with_a_capital_message() {
    let w = World::new();
    // Scenario 3: a signed admin call.
    let request = w.sign(
        api_request(Some(&target("AdminUserGlobalSignOut")), b"not json"),
        ADMIN,
    );
    w.send(&request).refused(
        "SerializationException",
        "Could not parse request body into json",
    );
    // And an unsigned token operation.
    w.send(&api_request(Some(&target("GetUser")), b"{\"AccessToken\":"))
        .refused(
            "SerializationException",
            "Could not parse request body into json",
        );
}

#[test]
fn a_body_that_is_not_an_object_is_serialization_exception() {
    let w = World::new();
    for body in [
        &b"[]"[..],
        b"[{\"AccessToken\":\"x\"}]",
        b"\"x\"",
        b"42",
        b"true",
    ] {
        w.send(&api_request(Some(&target("GetUser")), body))
            .refused("SerializationException", "Expected map or null");
    }
}

#[test]
fn a_body_with_a_duplicate_member_is_serialization_exception() {
    let w = World::new();
    let body = br#"{"AccessToken":"a.b.c","AccessToken":"d.e.f"}"#;
    w.send(&api_request(Some(&target("GetUser")), body))
        .refused(
            "SerializationException",
            "Could not parse request body into json",
        );
}

#[test]
fn an_empty_or_null_body_reads_as_an_empty_object() {
    let w = World::new();
    let null_token = validation(&[violation(None, "accessToken", "Member must not be null")]);
    for body in [&b""[..], b"  \n", b"{}", b"null"] {
        w.send(&api_request(Some(&target("GetUser")), body))
            .refused("InvalidParameterException", &null_token);
    }
}

#[test]
fn a_member_of_the_wrong_json_type_is_serialization_exception_naming_the_member() {
    let w = World::new();
    w.call("GetUser", json!({"AccessToken": 5})).refused(
        "SerializationException",
        "Unexpected field type at 'AccessToken': expected a string, got a number",
    );
    w.call("GlobalSignOut", json!({"AccessToken": {"a": 1}}))
        .refused(
            "SerializationException",
            "Unexpected field type at 'AccessToken': expected a string, got an object",
        );
    w.admin(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": LOCAL, "Username": ["alice"]}),
    )
    .refused(
        "SerializationException",
        "Unexpected field type at 'Username': expected a string, got a list",
    );
    w.admin(
        "AdminSetUserPassword",
        json!({"UserPoolId": LOCAL, "Username": "alice", "Password": PASSWORD,
               "Permanent": "yes"}),
    )
    .refused(
        "SerializationException",
        "Unexpected field type at 'Permanent': expected a boolean, got a string",
    );
    w.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": PUBLIC,
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": 1}}),
    )
    .refused(
        "SerializationException",
        "Unexpected field type at 'AuthParameters.PASSWORD': expected a string, got a number",
    );
    w.admin(
        "AdminCreateUser",
        json!({"UserPoolId": LOCAL, "Username": "carol",
               "UserAttributes": [{"Name": "email", "Value": 7}]}),
    )
    .refused(
        "SerializationException",
        "Unexpected field type at 'UserAttributes[0].Value': expected a string, got a number",
    );
}

/// amazon-cognito-identity-js refreshes with `"DEVICE_KEY": null` in `AuthParameters`; that
/// was a SerializationException, retried six times, and every refresh failed.
#[test]
fn null_members_map_values_and_list_elements_read_as_absent() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let tokens = w.sign_in(PUBLIC, "alice");
    let refreshed = w
        .call(
            "InitiateAuth",
            json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": PUBLIC,
                   "AuthParameters": {"REFRESH_TOKEN": tokens.refresh, "DEVICE_KEY": null,
                                      "SECRET_HASH": null},
                   "ClientMetadata": null, "AnalyticsMetadata": null, "UserContextData": null}),
        )
        .ok();
    assert!(refreshed["AuthenticationResult"]["AccessToken"].is_string());
    w.call(
        "UpdateUserAttributes",
        json!({"AccessToken": tokens.access,
               "UserAttributes": [null, {"Name": "name", "Value": "Alice"}],
               "ClientMetadata": {"a": null}}),
    )
    .ok();
    let user = w.get_user(&tokens.access).ok();
    assert!(user["UserAttributes"]
        .as_array()
        .unwrap()
        .contains(&json!({"Name": "name", "Value": "Alice"})));
}

#[test]
fn a_successful_call_answers_an_empty_object_as_json_1_1_with_a_request_id() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let reply = w.admin_sign_out(LOCAL, "alice");
    assert_eq!(reply.ok(), json!({}));
    assert_eq!(reply.text, "{}");
    assert_eq!(reply.request_id, format!("req-{}", w.requests.get()));
}

/// KV's window with the default settings: 60 s of propagation, 30 s of `cacheTtl`, 5 s of the
/// isolate's cache.
const KV_WINDOW_MS: u64 = 95_000;

#[test]
fn every_answer_that_writes_a_revocation_says_when_every_location_enforces_it() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.create_user(LOCAL, "bob", "bob@example.com");
    let enforced_by = (w.now() + KV_WINDOW_MS).to_string();
    let tokens = w.sign_in(PUBLIC, "alice");
    let writes = [
        w.admin_sign_out(LOCAL, "alice"),
        w.admin_sign_out(EXT, "ext-carol"),
        w.revoke(&tokens.refresh, PUBLIC),
        w.admin(
            "AdminDisableUser",
            json!({"UserPoolId": LOCAL, "Username": "bob"}),
        ),
        w.admin(
            "AdminDeleteUser",
            json!({"UserPoolId": LOCAL, "Username": "bob"}),
        ),
    ];
    for reply in &writes {
        assert_eq!(reply.ok(), json!({}), "the body stays Cognito's");
        assert_eq!(
            reply.header("x-edge-revoke-enforced-by"),
            Some(enforced_by.as_str()),
            "{}",
            reply.text
        );
    }
    let fresh = w.sign_in(PUBLIC, "alice");
    let out = w.global_sign_out(&fresh.access);
    assert_eq!(out.ok(), json!({}));
    assert_eq!(
        out.header("x-edge-revoke-enforced-by"),
        Some(enforced_by.as_str())
    );
    // Control: answers that revoke nothing carry no receipt, and neither do refusals.
    let read = w.admin(
        "AdminGetUser",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    );
    assert_eq!(read.status, 200);
    assert_eq!(read.header("x-edge-revoke-enforced-by"), None);
    let refused = w.admin_sign_out(LOCAL, "nobody");
    assert_eq!(refused.status, 400);
    assert_eq!(refused.header("x-edge-revoke-enforced-by"), None);
}

#[test]
fn healthz_without_a_revocation_authority_says_kv_alone_and_its_window() {
    let w = World::new();
    let reply = w.send(&healthz());
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["status"], "ok");
    assert_eq!(
        reply.body["revocation"],
        json!({"authority": "none", "enforced_within_s": 95})
    );
}

const CONFIG_MESSAGE: &str = "The Worker's configuration is invalid; the details are in its log.";

fn broken_pools() -> BrokenConfig {
    let mut bad = vars();
    bad.insert("POOLS".into(), json!([{"id": "not-a-pool-id"}]));
    Config::load(&bad).expect_err("a bad pool id is refused")
}

#[test]
fn a_bad_configuration_answers_a_generic_internal_error_and_logs_the_field() {
    let w = World::new();
    let broken = broken_pools();
    assert_eq!(broken.error.field, "POOLS[0].id");
    for request in [
        api_request(Some(&target("GetUser")), b"{}"),
        Request {
            method: "GET".into(),
            path: "/api/me".into(),
            headers: vec![("authorization".into(), "Bearer abc".into())],
            ..Request::default()
        },
    ] {
        let reply = w.send_with(Err(&broken), &request);
        assert_eq!(reply.status, 500);
        assert_eq!(
            reply.body,
            json!({"__type": "InternalErrorException", "message": CONFIG_MESSAGE})
        );
        assert!(!reply.text.contains("POOLS"), "{}", reply.text);
        assert_eq!(
            reply.header("x-amzn-errortype"),
            Some("InternalErrorException")
        );
        assert_eq!(
            reply.header("x-amzn-requestid"),
            Some(reply.request_id.as_str())
        );
    }
    let logged = format!("configuration error: {}", broken.error);
    assert!(logged.contains("POOLS[0].id: "));
    assert!(w.logs.borrow().contains(&logged));
}

#[test]
fn a_configuration_error_on_post_root_keeps_the_protocol_content_type() {
    let w = World::new();
    let mut bad = vars();
    bad.insert("POOLS".into(), json!([]));
    let broken = Config::load(&bad).expect_err("an empty POOLS is refused");
    let reply = w.send_with(Err(&broken), &api_request(Some(&target("GetUser")), b"{}"));
    assert_eq!(reply.status, 500);
    assert_eq!(reply.header("content-type"), Some(CONTENT_TYPE));
}

fn healthz() -> Request {
    Request {
        method: "GET".into(),
        path: "/healthz".into(),
        headers: vec![("host".into(), "127.0.0.1:8787".into())],
        ..Request::default()
    }
}

#[test]
fn healthz_says_config_error_without_naming_the_field() {
    let w = World::new();
    let reply = w.send_with(Err(&broken_pools()), &healthz());
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.body,
        json!({"status": "error", "config": "error", "kv": "ok"})
    );
}

#[test]
fn healthz_names_the_broken_field_to_a_request_signed_by_an_admin_key() {
    let w = World::new();
    let broken = broken_pools();
    let reply = w.send_with(Err(&broken), &w.sign(healthz(), ADMIN));
    assert_eq!(reply.status, 500);
    assert_eq!(reply.body["config"], "error");
    assert_eq!(
        reply.body["config_error"],
        json!(broken.error.to_string()),
        "{}",
        reply.text
    );
    assert!(reply.body["config_error"]
        .as_str()
        .unwrap()
        .starts_with("POOLS[0].id: "));
    // A wrong secret or an unknown key learns nothing more, and is told why.
    let wrong = Signer {
        secret: "not-the-secret-access-key",
        ..ADMIN
    };
    let refused = w.send_with(Err(&broken), &w.sign(healthz(), wrong));
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["__type"], "InvalidSignatureException");
    assert!(refused.body.get("config_error").is_none());
    assert!(!refused.text.contains("POOLS"));
    // With ADMIN_CREDENTIALS itself broken, no key can be checked: nobody sees the details.
    let mut bad = vars();
    bad.insert("ADMIN_CREDENTIALS".into(), json!([{"access_key_id": "x"}]));
    let no_admins = Config::load(&bad).expect_err("a bad admin credential is refused");
    assert!(no_admins.admin_credentials.is_empty());
    let unknown = w.send_with(Err(&no_admins), &w.sign(healthz(), ADMIN));
    assert_eq!(unknown.body["__type"], "UnrecognizedClientException");
    assert!(!unknown.text.contains("ADMIN_CREDENTIALS"));
}

// ---------------------------------------------------------------------------------------
// SigV4 on admin operations (§9 scenarios 6–11) and the IAM allow-list

#[test]
fn an_unsigned_admin_call_is_missing_authentication_token_before_anything_else() {
    let w = World::new();
    // Scenario 6; the signature is checked before the body is even parsed or validated.
    for body in [
        json!({"UserPoolId": LOCAL, "Username": "alice"}).to_string(),
        "not json".to_owned(),
        json!({"UserPoolId": "n/a"}).to_string(),
    ] {
        w.send(&api_request(
            Some(&target("AdminUserGlobalSignOut")),
            body.as_bytes(),
        ))
        .refused(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        );
    }
    assert!(
        w.limiter.keys.borrow().is_empty(),
        "refused before the rate limit"
    );
}

#[test]
fn an_unknown_access_key_is_unrecognized_client() {
    let w = World::new();
    let signer = Signer {
        key: "AKIDUNKNOWN00000",
        ..ADMIN
    };
    w.admin_as(
        signer,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    );
}

#[test]
fn a_session_token_is_unrecognized_client() {
    let w = World::new();
    let signer = Signer {
        token: Some("FwoGZXIvYXdzEXAMPLE"),
        ..ADMIN
    };
    w.admin_as(
        signer,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    );
}

const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the \
    signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
    service documentation for details.";

#[test]
fn a_wrong_secret_is_invalid_signature() {
    let w = World::new();
    let signer = Signer {
        secret: "not-the-secret-access-key",
        ..ADMIN
    };
    w.admin_as(
        signer,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused("InvalidSignatureException", SIGNATURE_MISMATCH);
}

#[test]
fn a_body_changed_after_signing_is_invalid_signature() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.create_user(LOCAL, "bob", "bob@example.com");
    let body = json!({"UserPoolId": LOCAL, "Username": "alice"}).to_string();
    let mut request = w.sign(
        api_request(Some(&target("AdminUserGlobalSignOut")), body.as_bytes()),
        ADMIN,
    );
    request.body = json!({"UserPoolId": LOCAL, "Username": "bob"})
        .to_string()
        .into_bytes();
    w.send(&request)
        .refused("InvalidSignatureException", SIGNATURE_MISMATCH);
    assert!(w.revocations().is_empty());
}

const NOT_SIGNED: &str = "There were headers present in the request which were not signed";

#[test]
fn a_captured_request_signed_without_its_target_cannot_be_replayed_as_another_operation() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let body = json!({"UserPoolId": LOCAL, "Username": "alice"}).to_string();
    // Signed over content-type;host;x-amz-date: the target is set after signing.
    let mut captured = w.sign(api_request(None, body.as_bytes()), ADMIN);
    let authorization = captured.header("authorization").unwrap();
    assert!(authorization.contains("content-type;host;x-amz-date,"));
    assert!(!authorization.contains("x-amz-target"));
    captured
        .headers
        .push(("x-amz-target".into(), target("AdminGetUser")));
    w.send(&captured)
        .refused("IncompleteSignatureException", NOT_SIGNED);
    // The replay of the report: the same signature, the target changed to AdminDeleteUser.
    let mut replayed = captured.clone();
    for (name, value) in &mut replayed.headers {
        if name == "x-amz-target" {
            *value = target("AdminDeleteUser");
        }
    }
    w.send(&replayed)
        .refused("IncompleteSignatureException", NOT_SIGNED);
    assert!(w
        .logs
        .borrow()
        .iter()
        .any(|line| line.contains("headers not signed: x-amz-target")));
    // Alice is still there, and a request that signs its target works.
    w.admin(
        "AdminGetUser",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .ok();
}

#[test]
fn an_unsigned_content_type_or_x_amz_header_in_any_case_is_refused() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let body = json!({"UserPoolId": LOCAL, "Username": "alice"}).to_string();
    for (name, value) in [
        ("Content-Type", CONTENT_TYPE),
        ("X-Amz-Meta-Note", "added later"),
        ("x-amz-user-agent", "added later"),
        ("X-AMZ-CONTENT-SHA256", "UNSIGNED-PAYLOAD"),
    ] {
        let mut request = api_request(Some(&target("AdminUserGlobalSignOut")), body.as_bytes());
        request
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        let mut request = w.sign(request, ADMIN);
        request.headers.push((name.into(), value.into()));
        w.send(&request)
            .refused("IncompleteSignatureException", NOT_SIGNED);
    }
    assert!(w.revocations().is_empty());
    // Headers outside the rule may go unsigned, as the SDKs leave them.
    let mut request = w.sign(
        api_request(Some(&target("AdminUserGlobalSignOut")), body.as_bytes()),
        ADMIN,
    );
    request
        .headers
        .push(("x-amzn-trace-id".into(), "Root=1-abc".into()));
    request.headers.push(("user-agent".into(), "test".into()));
    w.send(&request).ok();
}

const SIGNATURE_REUSED: &str =
    "The request signature has already been used. Sign every request anew.";

#[test]
fn a_captured_admin_sign_out_replayed_thirteen_minutes_later_cannot_sign_out_a_later_session() {
    let mut w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let body = json!({"UserPoolId": LOCAL, "Username": "alice"}).to_string();
    let captured = w.sign(
        api_request(Some(&target("AdminUserGlobalSignOut")), body.as_bytes()),
        ADMIN,
    );
    assert_eq!(w.send(&captured).ok(), json!({}));
    // The same bytes within the grace are an honest duplicate (boto3 signs to the second).
    w.advance(DUPLICATE_GRACE_MS);
    assert_eq!(w.send(&captured).ok(), json!({}));
    // Alice signs in again after the sign-out; the same bytes are now a replay.
    w.advance(1_000);
    let later = w.sign_in(PUBLIC, "alice");
    w.gate(&later.access).passes();
    w.send(&captured)
        .refused("InvalidSignatureException", SIGNATURE_REUSED);
    w.gate(&later.access).passes();
    // Thirteen minutes on, still inside the 15-minute skew, in another isolate.
    w.advance(13 * 60 * 1000);
    w.app = App::new();
    w.send(&captured)
        .refused("InvalidSignatureException", SIGNATURE_REUSED);
    w.gate(&later.access).passes();
    let entries = w.revocations();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].1["revoked_at"],
        T0_MS + 1_000 + DUPLICATE_GRACE_MS,
        "the duplicate counted, the replay did not"
    );
}

#[test]
fn a_request_signed_for_another_region_is_refused_for_a_pool_of_this_region() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let eu = Signer {
        region: "eu-west-1",
        ..ADMIN
    };
    let wrong_region = "Credential should be scoped to a valid region, not 'eu-west-1'. ";
    w.admin_as(
        eu,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused("InvalidSignatureException", wrong_region);
    w.admin_as(
        eu,
        "AdminCreateUser",
        json!({"UserPoolId": LOCAL, "Username": "mallory", "MessageAction": "SUPPRESS"}),
    )
    .refused("InvalidSignatureException", wrong_region);
    // Checked before the pool is looked up, as IAM is.
    w.admin_as(
        eu,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": "us-east-1_NoSuchPool", "Username": "alice"}),
    )
    .refused("InvalidSignatureException", wrong_region);
    assert!(w.revocations().is_empty());
    // Signed for the pool's region, the same call works; and an eu-west-1 pool wants eu-west-1.
    w.admin_as(
        ADMIN,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .ok();
    w.admin_as(
        ADMIN,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": "eu-west-1_Elsewhere", "Username": "alice"}),
    )
    .refused(
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'us-east-1'. ",
    );
}

#[test]
fn a_signature_sixteen_minutes_old_has_expired() {
    let w = World::new();
    let signer = Signer {
        skew_ms: -16 * 60 * 1000,
        ..ADMIN
    };
    // Scenario 9. Server clock 20250615T150640Z; signed at 14:50:40.
    w.admin_as(
        signer,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused(
        "InvalidSignatureException",
        "Signature expired: 20250615T145040Z is now earlier than 20250615T145140Z \
         (20250615T150640Z - 15 min.)",
    );
}

#[test]
fn a_signature_sixteen_minutes_ahead_is_not_yet_current() {
    let w = World::new();
    let signer = Signer {
        skew_ms: 16 * 60 * 1000,
        ..ADMIN
    };
    // cognito.md §7 quotes "+ 5 min." from a non-Cognito capture; Cognito's own future window
    // is [unverified]. The crate allows 15 minutes each way, and says so.
    w.admin_as(
        signer,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused(
        "InvalidSignatureException",
        "Signature not yet current: 20250615T152240Z is still later than 20250615T152140Z \
         (20250615T150640Z + 15 min.)",
    );
}

#[test]
fn a_signature_fourteen_minutes_off_either_way_is_accepted() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    for skew_ms in [-14 * 60 * 1000, 14 * 60 * 1000] {
        w.advance(1_000);
        let signer = Signer { skew_ms, ..ADMIN };
        let reply = w.admin_as(
            signer,
            "AdminUserGlobalSignOut",
            json!({"UserPoolId": LOCAL, "Username": "alice"}),
        );
        assert_eq!(reply.ok(), json!({}));
    }
}

#[test]
fn a_credential_scoped_to_another_service_is_invalid_signature() {
    let w = World::new();
    let signer = Signer {
        service: "s3",
        ..ADMIN
    };
    // Scenario 10; AWS's message ends in a space.
    w.admin_as(
        signer,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused(
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'cognito-idp'. ",
    );
}

#[test]
fn token_operations_need_no_signature_and_accept_one() {
    let w = World::new();
    let sub = w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    // Scenario 11: unsigned.
    assert_eq!(w.get_user(&tokens.access).ok()["Username"], "alice");
    // Signed by an SDK that has credentials: still fine.
    let profile = w
        .admin_as(ADMIN, "GetUser", json!({"AccessToken": tokens.access}))
        .ok();
    assert_eq!(
        profile["UserAttributes"][0],
        json!({"Name": "sub", "Value": sub})
    );
    let other = w.sign_in(PUBLIC, "alice");
    assert_eq!(
        w.admin_as(
            ADMIN,
            "RevokeToken",
            json!({"Token": other.refresh, "ClientId": PUBLIC})
        )
        .ok(),
        json!({})
    );
    assert_eq!(w.revoke(&tokens.refresh, PUBLIC).ok(), json!({}));
    let third = w.sign_in(PUBLIC, "alice");
    assert_eq!(w.global_sign_out(&third.access).ok(), json!({}));
}

fn limited() -> Signer<'static> {
    Signer {
        key: LIMITED_KEY,
        secret: LIMITED_SECRET,
        ..ADMIN
    }
}

fn denial(action: &str, pool: &str) -> String {
    format!(
        "User: arn:aws:iam::{ACCOUNT}:user/{LIMITED_KEY} is not authorized to perform: \
         cognito-idp:{action} on resource: arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/{pool}"
    )
}

#[test]
fn an_allow_list_denies_other_actions_in_aws_words() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.admin_as(
        limited(),
        "AdminDeleteUser",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused("AccessDeniedException", &denial("AdminDeleteUser", LOCAL));
    w.admin_as(
        limited(),
        "AdminDisableUser",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused("AccessDeniedException", &denial("AdminDisableUser", LOCAL));
    // Nothing happened to alice.
    let user = w
        .admin(
            "AdminGetUser",
            json!({"UserPoolId": LOCAL, "Username": "alice"}),
        )
        .ok();
    assert_eq!(user["Enabled"], true);
}

#[test]
fn an_allow_list_is_checked_before_the_pool_is_looked_up() {
    let w = World::new();
    // An unknown pool outside the allow-list is denied, not reported missing: IAM comes first.
    w.admin_as(
        limited(),
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": "us-east-1_Nope99", "Username": "alice"}),
    )
    .refused(
        "AccessDeniedException",
        &denial("AdminUserGlobalSignOut", "us-east-1_Nope99"),
    );
    // An existing pool outside the allow-list is denied too.
    w.admin_as(
        limited(),
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": LOCAL2, "Username": "alice"}),
    )
    .refused(
        "AccessDeniedException",
        &denial("AdminUserGlobalSignOut", LOCAL2),
    );
}

#[test]
fn an_allow_list_permits_its_actions_on_its_pools() {
    let w = World::new();
    let sub = w.create_user(LOCAL, "alice", "alice@example.com");
    assert_eq!(
        w.admin_as(
            limited(),
            "AdminUserGlobalSignOut",
            json!({"UserPoolId": LOCAL, "Username": "alice"})
        )
        .ok(),
        json!({})
    );
    // `cognito-idp:AdminGet*` covers AdminGetUser.
    let user = w
        .admin_as(
            limited(),
            "AdminGetUser",
            json!({"UserPoolId": LOCAL, "Username": "alice"}),
        )
        .ok();
    assert_eq!(user["Username"], "alice");
    let entries = w.revocations();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, format!("rev/v1/u/{LOCAL}/{sub}"));
    assert_eq!(entries[0].1["by"], LIMITED_KEY);
}

// ---------------------------------------------------------------------------------------
// Validation (§9 scenarios 2, 12–15, 29)

#[test]
fn an_admin_call_with_no_members_reports_both_as_null() {
    let w = World::new();
    // Scenario 2 (member order is the model's; Cognito's own is [unverified]).
    w.admin("AdminUserGlobalSignOut", json!({})).refused(
        "InvalidParameterException",
        &validation(&[
            "Value null at 'userPoolId' failed to satisfy constraint: Member must not be null"
                .into(),
            violation(None, "username", "Member must not be null"),
        ]),
    );
}

#[test]
fn explicit_null_members_are_reported_as_must_not_be_null() {
    let w = World::new();
    w.admin(
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": null, "Username": "alice"}),
    )
    .refused(
        "InvalidParameterException",
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: \
         Member must not be null",
    );
    w.call("GlobalSignOut", json!({"AccessToken": null}))
        .refused(
            "InvalidParameterException",
            &validation(&[violation(None, "accessToken", "Member must not be null")]),
        );
}

#[test]
fn a_pool_id_outside_the_pattern_is_echoed_in_the_message() {
    let w = World::new();
    // Scenario 12.
    w.admin_sign_out("n/a", "u").refused(
        "InvalidParameterException",
        &validation(&[violation(
            Some("n/a"),
            "userPoolId",
            &pattern(USER_POOL_ID_PATTERN),
        )]),
    );
}

#[test]
fn a_pool_id_of_56_characters_is_too_long_and_one_of_55_is_looked_up() {
    let w = World::new();
    // Scenario 13.
    let long = format!("us-east-1_{}", "A".repeat(46));
    assert_eq!(long.len(), 56);
    w.admin_sign_out(&long, "u").refused(
        "InvalidParameterException",
        &validation(&[violation(
            Some(&long),
            "userPoolId",
            "Member must have length less than or equal to 55",
        )]),
    );
    let longest = &long[..55];
    w.admin_sign_out(longest, "u").refused(
        "ResourceNotFoundException",
        &format!("User pool {longest} does not exist."),
    );
}

#[test]
fn a_username_of_129_characters_is_too_long_and_is_not_echoed() {
    let w = World::new();
    // Scenario 14.
    let long = "u".repeat(129);
    let reply = w.admin_sign_out(LOCAL, &long);
    reply.refused(
        "InvalidParameterException",
        &validation(&[violation(
            None,
            "username",
            "Member must have length less than or equal to 128",
        )]),
    );
    assert!(!reply.text.contains(&long));
    // 128 passes validation and reaches the user lookup.
    w.admin_sign_out(LOCAL, &long[..128])
        .refused("UserNotFoundException", "User does not exist.");
}

#[test]
fn a_username_with_a_space_breaks_the_pattern_and_is_not_echoed() {
    let w = World::new();
    // Scenario 15.
    let reply = w.admin_sign_out(LOCAL, "a b");
    reply.refused(
        "InvalidParameterException",
        &validation(&[violation(None, "username", &pattern(USERNAME_PATTERN))]),
    );
    assert!(!reply.text.contains("a b"));
}

#[test]
fn two_violations_are_reported_together_in_member_order() {
    let w = World::new();
    w.admin_sign_out("n/a", "a b").refused(
        "InvalidParameterException",
        &validation(&[
            violation(Some("n/a"), "userPoolId", &pattern(USER_POOL_ID_PATTERN)),
            violation(None, "username", &pattern(USERNAME_PATTERN)),
        ]),
    );
    w.call("RevokeToken", json!({})).refused(
        "InvalidParameterException",
        &validation(&[
            violation(None, "token", "Member must not be null"),
            violation(None, "clientId", "Member must not be null"),
        ]),
    );
}

#[test]
fn an_access_token_outside_the_token_pattern_is_invalid_parameter_and_not_echoed() {
    let w = World::new();
    // Scenario 29 (moto answers NotAuthorizedException here; Coral validates first).
    let expected = validation(&[violation(None, "accessToken", &pattern(TOKEN_PATTERN))]);
    for op in ["GlobalSignOut", "GetUser"] {
        let reply = w.call(op, json!({"AccessToken": "n/a"}));
        reply.refused("InvalidParameterException", &expected);
        assert!(!reply.text.contains("n/a"));
    }
    w.call("GlobalSignOut", json!({"AccessToken": "abc def"}))
        .refused("InvalidParameterException", &expected);
}

#[test]
fn sensitive_members_are_never_echoed_in_messages_or_logs() {
    let w = World::new();
    let reply = w.call(
        "RevokeToken",
        json!({"Token": "tok en", "ClientId": "bad client", "ClientSecret": "short"}),
    );
    reply.refused(
        "InvalidParameterException",
        &validation(&[
            violation(None, "token", &pattern(TOKEN_PATTERN)),
            violation(None, "clientId", &pattern(r"[\w+]+")),
            violation(
                None,
                "clientSecret",
                "Member must have length greater than or equal to 24",
            ),
        ]),
    );
    for secret in ["tok en", "bad client", "short"] {
        assert!(!reply.text.contains(secret), "{secret} echoed");
        assert!(!w.logged(secret), "{secret} logged");
    }
    // A wrong password is not logged either.
    w.password_auth(PUBLIC, "alice", "Wrong-Password-9")
        .refused("NotAuthorizedException", "Incorrect username or password.");
    assert!(!w.logged("Wrong-Password-9"));
}

#[test]
fn initiate_auth_echoes_its_client_id_and_lists_the_auth_flow_enum() {
    let w = World::new();
    // InitiateAuth echoes ClientId although the model marks it sensitive (observed on real
    // Cognito, see validate.rs INITIATE_AUTH_CLIENT_ID).
    w.call(
        "InitiateAuth",
        json!({"AuthFlow": "NOPE", "ClientId": "bad id"}),
    )
    .refused(
        "InvalidParameterException",
        &validation(&[
            violation(
                Some("NOPE"),
                "authFlow",
                "Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, \
                 REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, \
                 ADMIN_USER_PASSWORD_AUTH, USER_AUTH]",
            ),
            violation(Some("bad id"), "clientId", &pattern(r"[\w+]+")),
        ]),
    );
}

// ---------------------------------------------------------------------------------------
// AdminUserGlobalSignOut (§9 scenarios 16–21, 27)

#[test]
fn admin_sign_out_of_an_unknown_pool_is_resource_not_found() {
    let w = World::new();
    // Scenario 16.
    w.admin_sign_out("us-east-1_Nope99", "u").refused(
        "ResourceNotFoundException",
        "User pool us-east-1_Nope99 does not exist.",
    );
}

#[test]
fn admin_sign_out_of_an_unknown_user_is_user_not_found() {
    let w = World::new();
    // Scenario 17.
    w.admin_sign_out(LOCAL, "nobody")
        .refused("UserNotFoundException", "User does not exist.");
    assert!(w.revocations().is_empty());
}

#[test]
fn admin_sign_out_answers_an_empty_object_and_records_the_user_entry() {
    let w = World::new();
    let sub = w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    // Scenario 18.
    let reply = w.admin_sign_out(LOCAL, "alice");
    assert_eq!(reply.ok(), json!({}));
    assert_eq!(
        w.revocations(),
        vec![(
            format!("rev/v1/u/{LOCAL}/{sub}"),
            json!({"revoked_at": T0_MS + 1_000, "by": ADMIN_KEY,
                   "reason": "AdminUserGlobalSignOut", "request_id": reply.request_id}),
            Some(REVOCATION_TTL_S),
        )]
    );
}

#[test]
fn a_second_admin_sign_out_in_the_same_second_covers_the_rest_of_it_once_then_writes_nothing() {
    let w = World::new();
    let sub = w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    assert_eq!(w.admin_sign_out(LOCAL, "alice").ok(), json!({}));
    // Revocation entries only: each signed call also records its signature (src/replay.rs).
    let writes = w.store.writes_under("rev/");
    w.advance(500);
    // Scenario 19. A local pool moves a sign-in that follows a sign-out in the same second to the
    // next second, so the repeat raises the entry to that second's start, once.
    assert_eq!(w.admin_sign_out(LOCAL, "alice").ok(), json!({}));
    assert_eq!(
        w.store.writes_under("rev/"),
        writes + 1,
        "one write to cover the rest of the second"
    );
    let second_start = (T0_MS + 1_500) / 1_000 * 1_000;
    let entries = w.revocations();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, format!("rev/v1/u/{LOCAL}/{sub}"));
    assert_eq!(entries[0].1["revoked_at"], second_start + 1_000);
    w.advance(200);
    assert_eq!(w.admin_sign_out(LOCAL, "alice").ok(), json!({}));
    assert_eq!(
        w.store.writes_under("rev/"),
        writes + 1,
        "a third in the same second writes nothing"
    );
}

#[test]
fn a_second_external_sign_out_in_the_same_second_writes_nothing() {
    let w = World::new();
    w.advance(1_000);
    assert_eq!(w.admin_sign_out(EXT, "ext-alice").ok(), json!({}));
    // Revocation entries only: each signed call also records its signature (src/replay.rs).
    let writes = w.store.writes_under("rev/");
    w.advance(500);
    // An external issuer's auth_time is whole seconds: the stored time already covers them all.
    assert_eq!(w.admin_sign_out(EXT, "ext-alice").ok(), json!({}));
    assert_eq!(
        w.store.writes_under("rev/"),
        writes,
        "no KV write in the same second"
    );
    assert_eq!(w.revocations()[0].1["revoked_at"], T0_MS + 1_000);
}

#[test]
fn a_second_admin_sign_out_in_a_later_second_raises_the_entry() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    w.admin_sign_out(LOCAL, "alice").ok();
    // Revocation entries only: each signed call also records its signature (src/replay.rs).
    let writes = w.store.writes_under("rev/");
    w.advance(1_000);
    assert_eq!(w.admin_sign_out(LOCAL, "alice").ok(), json!({}));
    assert_eq!(w.store.writes_under("rev/"), writes + 1);
    assert_eq!(w.revocations()[0].1["revoked_at"], T0_MS + 2_000);
}

#[test]
fn a_user_is_addressed_by_username_email_or_sub_in_any_case() {
    let w = World::new();
    let sub = w.create_user(LOCAL, "alice", "Alice@Example.com");
    let bob = w.create_user(LOCAL, "bob", "bob@example.com");
    // Scenario 20: every name resolves to alice's one entry, keyed by sub.
    for name in [
        "alice",
        "ALICE",
        "alice@example.com",
        "ALICE@EXAMPLE.COM",
        &sub,
    ] {
        w.advance(1_000);
        assert_eq!(w.admin_sign_out(LOCAL, name).ok(), json!({}), "{name}");
        let entries = w.revocations();
        assert_eq!(entries.len(), 1, "{name}");
        assert_eq!(entries[0].0, format!("rev/v1/u/{LOCAL}/{sub}"), "{name}");
        assert_eq!(entries[0].1["revoked_at"], w.now(), "{name}");
    }
    assert!(w
        .revocations()
        .iter()
        .all(|(key, _, _)| !key.contains(&bob)));
}

#[test]
fn a_disabled_user_can_still_be_signed_out() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    w.admin(
        "AdminDisableUser",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .ok();
    w.advance(1_000);
    // Scenario 21 ([unverified] for AWS; moto answers 200).
    assert_eq!(w.admin_sign_out(LOCAL, "alice").ok(), json!({}));
    assert_eq!(w.revocations()[0].1["reason"], "AdminUserGlobalSignOut");
}

#[test]
fn an_external_pool_records_the_username_given_and_the_gate_refuses_its_tokens() {
    let w = World::new();
    let alice = ext_access("sub-alice-0001", "ext-alice", T0_S - 60);
    let alice_no_auth_time = {
        let mut c = ext_claims("sub-alice-0001", "ext-alice", T0_S - 30);
        c.as_object_mut().map(|m| m.remove("auth_time"));
        ext_token(&c, EXT_KID)
    };
    let bob = ext_access("sub-bob-0002", "ext-bob", T0_S - 60);
    assert_eq!(w.gate(&alice).passes()["username"], "ext-alice");
    assert_eq!(w.gate(&bob).passes()["username"], "ext-bob");

    w.advance(1_000);
    let reply = w.admin_sign_out(EXT, "ext-alice");
    assert_eq!(reply.ok(), json!({}));
    let entries = w.revocations();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, format!("rev/v1/u/{EXT}/ext-alice"));
    assert_eq!(entries[0].1["revoked_at"], T0_MS + 1_000);

    // Refused by its `username` claim; `iat` stands in for a missing `auth_time`.
    w.gate(&alice).gate_refused(REVOKED);
    w.gate(&alice_no_auth_time).gate_refused(REVOKED);
    w.get_user(&alice)
        .refused("NotAuthorizedException", REVOKED);
    // Another user of the pool passes.
    assert_eq!(w.gate(&bob).passes()["sub"], "sub-bob-0002");
    // A later sign-in of the same user passes.
    w.advance(1_000);
    let fresh = ext_access("sub-alice-0001", "ext-alice", w.now() / 1000);
    assert_eq!(w.gate(&fresh).passes()["username"], "ext-alice");
}

/// Before: AdminUserGlobalSignOut wrote the exact bytes given, so a sign-out by another case
/// or Unicode form of the name answered `{}` and the gate, GetUser and GlobalSignOut kept
/// accepting the user's tokens.
#[test]
fn an_external_sign_out_by_another_case_or_unicode_form_refuses_the_users_tokens() {
    let nfc = "ext-ren\u{e9}e";
    let nfd = "ext-rene\u{301}e";
    for (given, in_token) in [
        ("EXT-ALICE", "ext-alice"),
        ("Ext-Alice", "ext-alice"),
        ("ext-alice", "Ext-ALICE"),
        (nfc, nfd),
        (nfd, nfc),
        ("EXT-REN\u{c9}E", nfd),
        ("SUB-ALICE-0001", "ext-alice"),
    ] {
        let w = World::new();
        let alice = ext_access("sub-alice-0001", in_token, T0_S - 60);
        let bob = ext_access("sub-bob-0002", "ext-bob", T0_S - 60);
        w.gate(&alice).passes();
        w.advance(1_000);
        assert_eq!(w.admin_sign_out(EXT, given).ok(), json!({}), "{given:?}");
        w.gate(&alice).gate_refused(REVOKED);
        w.get_user(&alice)
            .refused("NotAuthorizedException", REVOKED);
        w.global_sign_out(&alice)
            .refused("NotAuthorizedException", REVOKED);
        w.gate(&bob).passes();
    }
}

#[test]
fn a_case_sensitive_external_pool_signs_out_only_the_exact_case() {
    let mut vars = vars();
    vars["POOLS"][2]["username_case_sensitive"] = json!(true);
    let w = World::with(&vars);
    let upper = ext_access("sub-upper-0001", "EXT-ALICE", T0_S - 60);
    let lower = ext_access("sub-lower-0002", "ext-alice", T0_S - 60);
    let nfd = ext_access("sub-nfd-0003", "ext-rene\u{301}e", T0_S - 60);
    w.advance(1_000);
    w.admin_sign_out(EXT, "EXT-ALICE").ok();
    w.admin_sign_out(EXT, "ext-ren\u{e9}e").ok();
    w.gate(&upper).gate_refused(REVOKED);
    w.gate(&lower).passes();
    w.gate(&nfd).gate_refused(REVOKED);
}

/// Before: an email given for an external pool (whose access tokens carry no email) answered
/// `{}` and signed nobody out.
#[test]
fn an_email_or_phone_given_for_an_external_pool_is_refused_not_answered_empty() {
    let w = World::new();
    let alice = ext_access("sub-alice-0001", "ext-alice", T0_S - 60);
    w.advance(1_000);
    for alias in ["alice@example.com", "ALICE@EXAMPLE.COM", "+15555550100"] {
        w.admin_sign_out(EXT, alias).refused(
            "InvalidParameterException",
            &format!("Username looks like an email address or phone number, which tokens of user pool {EXT} do not carry: pass the user's username, or their sub if the pool signs users in by email or phone number"),
        );
    }
    assert!(w.revocations().is_empty(), "nothing written");
    w.gate(&alice).passes();
    // A pool whose usernames really are email addresses says so, and then they match.
    let mut vars = vars();
    vars["POOLS"][2]["username_may_be_email_or_phone"] = json!(true);
    let w = World::with(&vars);
    let mailbox = ext_access("sub-mail-0003", "Alice@Example.com", T0_S - 60);
    w.advance(1_000);
    assert_eq!(w.admin_sign_out(EXT, "alice@example.com").ok(), json!({}));
    w.gate(&mailbox).gate_refused(REVOKED);
}

/// A user signed out before ids were spelled canonically (an entry under the exact bytes of the
/// token's username) stays signed out.
#[test]
fn an_entry_written_under_the_exact_username_before_the_change_still_refuses_tokens() {
    let w = World::new();
    let alice = ext_access("sub-alice-0001", "Ext-Alice", T0_S - 60);
    w.store.seed(
        &format!("rev/v1/u/{EXT}/Ext-Alice"),
        &json!({"revoked_at": T0_MS - 1_000, "by": "k", "reason": "AdminUserGlobalSignOut",
                "request_id": "r"})
        .to_string(),
    );
    w.gate(&alice).gate_refused(REVOKED);
    let later = ext_access("sub-alice-0001", "Ext-Alice", T0_S);
    w.gate(&later).passes();
}

#[test]
fn a_token_authenticated_in_the_millisecond_of_the_sign_out_is_revoked_and_one_later_is_not() {
    let w = World::new();
    // The rule is `auth_time ≤ revoked_at`, in ms: a sign-out at exactly S.000 covers auth_time S.
    let at_sign_out = ext_access("sub-alice-0001", "ext-alice", T0_S + 1);
    let after = ext_access("sub-alice-0001", "ext-alice", T0_S + 2);
    w.now.set((T0_S + 1) * 1000);
    assert_eq!(w.admin_sign_out(EXT, "ext-alice").ok(), json!({}));
    w.advance(1_500);
    w.gate(&at_sign_out).gate_refused(REVOKED);
    w.gate(&after).passes();
}

#[test]
fn an_external_pool_signed_out_by_sub_refuses_tokens_carrying_that_sub() {
    let w = World::new();
    let alice = ext_access("sub-alice-0001", "ext-alice", T0_S - 60);
    let bob = ext_access("sub-bob-0002", "ext-bob", T0_S - 60);
    w.advance(1_000);
    assert_eq!(w.admin_sign_out(EXT, "sub-alice-0001").ok(), json!({}));
    w.gate(&alice).gate_refused(REVOKED);
    w.gate(&bob).passes();
}

#[test]
fn tokens_of_other_users_and_of_the_same_name_in_another_pool_still_pass() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.create_user(LOCAL, "bob", "bob@example.com");
    w.create_user(LOCAL2, "alice", "alice@example.com");
    w.advance(1_000);
    let alice = w.sign_in(PUBLIC, "alice");
    let bob = w.sign_in(PUBLIC, "bob");
    let alice_elsewhere = w.sign_in(LOCAL2_CLIENT, "alice");
    let ext_alice = ext_access("sub-alice-0001", "alice", T0_S);
    w.advance(1_000);
    w.admin_sign_out(LOCAL, "alice").ok();
    // Scenario 27.
    w.gate(&alice.access).gate_refused(REVOKED);
    for token in [
        &bob.access,
        &bob.id,
        &alice_elsewhere.access,
        &alice_elsewhere.id,
        &ext_alice,
    ] {
        w.gate(token).passes();
    }
    w.get_user(&alice_elsewhere.access).ok();
    w.refresh(LOCAL2_CLIENT, &alice_elsewhere.refresh).ok();
    w.refresh(PUBLIC, &bob.refresh).ok();
}

// ---------------------------------------------------------------------------------------
// The sign-out story (§9 scenarios 22–28, 40)

#[test]
fn the_sign_out_story_revokes_every_token_of_the_user_and_spares_everyone_else() {
    let w = World::new();
    let alice_sub = w.create_user(LOCAL, "alice", "alice@example.com");
    let bob_sub = w.create_user(LOCAL, "bob", "bob@example.com");
    w.advance(1_000);
    let first = w.sign_in(PUBLIC, "alice");
    let bob = w.sign_in(PUBLIC, "bob");
    assert_eq!(
        w.get_user(&first.access).ok(),
        json!({"Username": "alice", "UserAttributes": [
            {"Name": "sub", "Value": alice_sub},
            {"Name": "email", "Value": "alice@example.com"}]})
    );

    // Refresh: same session (origin_jti, auth_time), new tokens (jti, iat).
    w.advance(1_000);
    let result = w.refresh(PUBLIC, &first.refresh).ok();
    assert_eq!(result["ChallengeParameters"], json!({}));
    let refreshed = &result["AuthenticationResult"];
    assert_eq!(refreshed["TokenType"], "Bearer");
    assert_eq!(refreshed["ExpiresIn"], 3600);
    assert!(
        refreshed.get("RefreshToken").is_none(),
        "refresh keeps its token"
    );
    let (refreshed_access, refreshed_id) = (
        str_of(&refreshed["AccessToken"]),
        str_of(&refreshed["IdToken"]),
    );
    for (old, new) in [
        (&first.access, &refreshed_access),
        (&first.id, &refreshed_id),
    ] {
        let (old, new) = (claims(old), claims(new));
        assert_eq!(new["origin_jti"], old["origin_jti"]);
        assert_eq!(new["auth_time"], old["auth_time"]);
        assert_eq!(new["auth_time"], T0_S + 1);
        assert_ne!(new["jti"], old["jti"]);
        assert_eq!(new["iat"], T0_S + 2);
    }
    w.get_user(&refreshed_access).ok();

    // The admin signs alice out.
    w.advance(1_000);
    assert_eq!(w.admin_sign_out(LOCAL, "alice").ok(), json!({}));
    w.advance(100);
    for access in [&first.access, &refreshed_access] {
        // Scenarios 23, 24, 25.
        w.get_user(access)
            .refused("NotAuthorizedException", REVOKED);
        w.global_sign_out(access)
            .refused("NotAuthorizedException", REVOKED);
        w.gate(access).gate_refused(REVOKED);
    }
    for id in [&first.id, &refreshed_id] {
        // Scenario 26.
        w.gate(id).gate_refused("ID Token has been revoked");
    }
    // Scenario 22.
    w.refresh(PUBLIC, &first.refresh)
        .refused("NotAuthorizedException", "Refresh Token has been revoked");

    // Bob is untouched (scenario 27).
    assert_eq!(w.get_user(&bob.access).ok()["Username"], "bob");
    assert_eq!(w.gate(&bob.access).passes()["sub"], bob_sub);
    assert_eq!(w.gate(&bob.id).passes()["cognito:username"], "bob");
    w.refresh(PUBLIC, &bob.refresh).ok();

    // Alice signs in again in a later second (scenario 28): everything works.
    w.advance(2_000);
    let second = w.sign_in(PUBLIC, "alice");
    assert_ne!(
        claims(&second.access)["origin_jti"],
        claims(&first.access)["origin_jti"]
    );
    assert_eq!(w.get_user(&second.access).ok()["Username"], "alice");
    assert_eq!(w.gate(&second.access).passes()["sub"], alice_sub);
    assert_eq!(w.gate(&second.id).passes()["sub"], alice_sub);
    let again = w.refresh(PUBLIC, &second.refresh).ok();
    w.gate(&str_of(&again["AuthenticationResult"]["AccessToken"]))
        .passes();
    // The old session stays dead.
    w.gate(&first.access).gate_refused(REVOKED);
    w.refresh(PUBLIC, &first.refresh)
        .refused("NotAuthorizedException", "Refresh Token has been revoked");
    // Bob was never written about.
    assert_eq!(w.revocations().len(), 1);
}

#[test]
fn a_sign_in_in_the_same_second_right_after_a_sign_out_yields_tokens_that_pass() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let old = w.sign_in(PUBLIC, "alice");
    w.advance(100);
    w.admin_sign_out(LOCAL, "alice").ok();
    w.advance(100);
    let fresh = w.sign_in(PUBLIC, "alice");
    // auth_time moves to the next second so `auth_time ≤ revoked_at` does not catch it.
    let access = claims(&fresh.access);
    assert_eq!(access["iat"], T0_S + 1);
    assert_eq!(access["auth_time"], T0_S + 2);
    assert_eq!(claims(&fresh.id)["auth_time"], T0_S + 2);
    w.advance(100);
    w.get_user(&fresh.access).ok();
    w.gate(&fresh.access).passes();
    w.gate(&fresh.id).passes();
    w.refresh(PUBLIC, &fresh.refresh).ok();
    w.gate(&old.access).gate_refused(REVOKED);
}

#[test]
fn a_sign_out_in_the_same_second_as_a_sign_in_that_followed_a_sign_out_revokes_it() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    w.sign_in(PUBLIC, "alice");
    w.advance(100);
    w.admin_sign_out(LOCAL, "alice").ok();
    w.advance(100);
    let fresh = w.sign_in(PUBLIC, "alice");
    w.advance(100);
    // The user signs out everywhere with the very token; it must die.
    assert_eq!(w.global_sign_out(&fresh.access).ok(), json!({}));
    w.advance(100);
    w.get_user(&fresh.access)
        .refused("NotAuthorizedException", REVOKED);
    w.gate(&fresh.access).gate_refused(REVOKED);
    w.refresh(PUBLIC, &fresh.refresh)
        .refused("NotAuthorizedException", "Refresh Token has been revoked");
}

#[test]
fn disabling_a_user_in_the_same_second_as_their_sign_in_after_a_sign_out_revokes_it() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    w.admin_sign_out(LOCAL, "alice").ok();
    w.advance(100);
    let fresh = w.sign_in(PUBLIC, "alice");
    w.advance(100);
    let disable = json!({"UserPoolId": LOCAL, "Username": "alice"});
    assert_eq!(w.admin("AdminDisableUser", disable).ok(), json!({}));
    w.advance(100);
    w.gate(&fresh.access).gate_refused(REVOKED);
    w.gate(&fresh.id).gate_refused("ID Token has been revoked");
}

#[test]
fn a_sign_out_written_by_another_isolate_is_seen_once_the_isolate_cache_expires() {
    let w = World::new();
    let sub = w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    w.gate(&tokens.access).passes();
    // Another location writes the entry behind this isolate's back.
    w.store.seed(
        &format!("rev/v1/u/{LOCAL}/{sub}"),
        &json!({"revoked_at": w.now() + 100, "by": "elsewhere",
                "reason": "AdminUserGlobalSignOut", "request_id": "r"})
        .to_string(),
    );
    // Within REVOCATION_CACHE_TTL_S (default 5 s) the isolate's lookup still stands.
    w.advance(4_000);
    w.gate(&tokens.access).passes();
    // Past it, the write is seen.
    w.advance(1_000);
    w.gate(&tokens.access).gate_refused(REVOKED);
    w.get_user(&tokens.access)
        .refused("NotAuthorizedException", REVOKED);
}

// ---------------------------------------------------------------------------------------
// GlobalSignOut (§9 scenarios 29–34)

#[test]
fn global_sign_out_with_a_garbage_or_forged_jwt_is_invalid_access_token() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    // A payload swapped under a valid signature.
    let parts: Vec<&str> = tokens.access.split('.').collect();
    let mut forged_claims = claims(&tokens.access);
    forged_claims["username"] = Value::from("bob");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged_claims.to_string()),
        parts[2]
    );
    let mut foreign_issuer = ext_claims("s", "u", T0_S);
    foreign_issuer["iss"] = Value::from("https://issuer.example.com/pool");
    // Scenario 30.
    for token in [
        "aaa.bbb.ccc".to_owned(),
        "abc".to_owned(),
        forged,
        ext_token(&ext_claims("s", "u", T0_S), "unknown-kid"),
        ext_token(&foreign_issuer, EXT_KID),
        tokens.refresh.clone(),
    ] {
        w.global_sign_out(&token)
            .refused("NotAuthorizedException", "Invalid Access Token");
        w.get_user(&token)
            .refused("NotAuthorizedException", "Invalid Access Token");
        w.gate(&token).gate_refused("Invalid Access Token");
    }
    assert!(w.revocations().is_empty());
}

#[test]
fn global_sign_out_with_an_expired_token_says_it_has_expired() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    let exp = claims(&tokens.access)["exp"].as_u64().unwrap_or_default();
    assert_eq!(exp, T0_S + 1 + 3600);
    // One millisecond before `exp` it is valid; at `exp` it has expired (scenario 31).
    w.now.set(exp * 1000 - 1);
    w.get_user(&tokens.access).ok();
    w.now.set(exp * 1000);
    w.global_sign_out(&tokens.access)
        .refused("NotAuthorizedException", "Access Token has expired");
    w.get_user(&tokens.access)
        .refused("NotAuthorizedException", "Access Token has expired");
    w.gate(&tokens.access)
        .gate_refused("Access Token has expired");
    w.gate(&tokens.id).gate_refused("ID Token has expired");
    assert!(w.revocations().is_empty());
}

#[test]
fn global_sign_out_with_an_id_token_is_not_authorized() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    // Scenario 32: the type is documented; the message is [unverified] for AWS.
    w.global_sign_out(&tokens.id)
        .refused("NotAuthorizedException", "Invalid Access Token");
    w.get_user(&tokens.id)
        .refused("NotAuthorizedException", "Invalid Access Token");
    assert!(w.revocations().is_empty());
}

#[test]
fn global_sign_out_without_the_admin_scope_lacks_required_scopes() {
    let w = World::new();
    let mut openid = ext_claims("sub-alice-0001", "ext-alice", T0_S);
    openid["scope"] = Value::from("openid email");
    let mut none = ext_claims("sub-alice-0001", "ext-alice", T0_S);
    none.as_object_mut().map(|m| m.remove("scope"));
    // Scenario 33.
    for claims in [openid, none] {
        let token = ext_token(&claims, EXT_KID);
        w.global_sign_out(&token).refused(
            "NotAuthorizedException",
            "Access Token does not have required scopes",
        );
        w.get_user(&token).refused(
            "NotAuthorizedException",
            "Access Token does not have required scopes",
        );
        // The gate does not require the scope.
        w.gate(&token).passes();
    }
    assert!(w.revocations().is_empty());
}

#[test]
fn global_sign_out_revokes_the_callers_tokens_everywhere() {
    let w = World::new();
    let sub = w.create_user(LOCAL, "alice", "alice@example.com");
    w.create_user(LOCAL, "bob", "bob@example.com");
    w.advance(1_000);
    let laptop = w.sign_in(PUBLIC, "alice");
    let phone = w.sign_in(PUBLIC, "alice");
    let bob = w.sign_in(PUBLIC, "bob");
    w.advance(1_000);
    // Scenario 34.
    let reply = w.global_sign_out(&laptop.access);
    assert_eq!(reply.ok(), json!({}));
    assert_eq!(
        w.revocations(),
        vec![(
            format!("rev/v1/u/{LOCAL}/{sub}"),
            json!({"revoked_at": T0_MS + 2_000, "by": format!("user:{sub}"),
                   "reason": "GlobalSignOut", "request_id": reply.request_id}),
            Some(REVOCATION_TTL_S),
        )]
    );
    for tokens in [&laptop, &phone] {
        w.refresh(PUBLIC, &tokens.refresh)
            .refused("NotAuthorizedException", "Refresh Token has been revoked");
        w.get_user(&tokens.access)
            .refused("NotAuthorizedException", REVOKED);
        w.global_sign_out(&tokens.access)
            .refused("NotAuthorizedException", REVOKED);
        w.gate(&tokens.id).gate_refused("ID Token has been revoked");
    }
    w.gate(&bob.access).passes();
}

#[test]
fn global_sign_out_on_an_external_pool_revokes_by_sub() {
    let w = World::new();
    let token = ext_access("sub-alice-0001", "ext-alice", T0_S - 10);
    let other_device = ext_access("sub-alice-0001", "ext-alice", T0_S - 20);
    let bob = ext_access("sub-bob-0002", "ext-bob", T0_S - 10);
    assert_eq!(w.global_sign_out(&token).ok(), json!({}));
    let entries = w.revocations();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, format!("rev/v1/u/{EXT}/sub-alice-0001"));
    w.gate(&other_device).gate_refused(REVOKED);
    w.global_sign_out(&token)
        .refused("NotAuthorizedException", REVOKED);
    w.gate(&bob).passes();
}

// ---------------------------------------------------------------------------------------
// RevokeToken (§9 scenarios 35–39)

#[test]
fn revoking_one_session_leaves_the_users_other_session_alive() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let revoked = w.sign_in(PUBLIC, "alice");
    w.advance(1_000);
    let kept = w.sign_in(PUBLIC, "alice");
    w.advance(1_000);
    let revoked_refreshed =
        str_of(&w.refresh(PUBLIC, &revoked.refresh).ok()["AuthenticationResult"]["AccessToken"]);
    // Scenario 35.
    let reply = w.revoke(&revoked.refresh, PUBLIC);
    assert_eq!(reply.ok(), json!({}));
    let origin_jti = str_of(&claims(&revoked.access)["origin_jti"]);
    assert_eq!(
        w.revocations(),
        vec![(
            format!("rev/v1/s/{LOCAL}/{origin_jti}"),
            json!({"revoked_at": T0_MS + 3_000, "by": PUBLIC, "reason": "RevokeToken",
                   "request_id": reply.request_id}),
            Some(REVOCATION_TTL_S),
        )]
    );
    for access in [&revoked.access, &revoked_refreshed] {
        w.get_user(access)
            .refused("NotAuthorizedException", REVOKED);
        w.gate(access).gate_refused(REVOKED);
    }
    w.gate(&revoked.id)
        .gate_refused("ID Token has been revoked");
    w.refresh(PUBLIC, &revoked.refresh)
        .refused("NotAuthorizedException", "Refresh Token has been revoked");
    // The other session lives on, even in the same second.
    w.get_user(&kept.access).ok();
    w.gate(&kept.access).passes();
    w.gate(&kept.id).passes();
    w.refresh(PUBLIC, &kept.refresh).ok();
}

#[test]
fn revoking_the_same_refresh_token_again_answers_an_empty_object() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    assert_eq!(w.revoke(&tokens.refresh, PUBLIC).ok(), json!({}));
    let (_, writes) = w.store.counts();
    // Scenario 36 ([unverified] for the API op; the revocation endpoint answers 200).
    assert_eq!(w.revoke(&tokens.refresh, PUBLIC).ok(), json!({}));
    assert_eq!(w.store.counts().1, writes, "same second: nothing rewritten");
    w.advance(1_000);
    assert_eq!(w.revoke(&tokens.refresh, PUBLIC).ok(), json!({}));
    assert_eq!(w.revocations().len(), 1);
}

#[test]
fn an_access_or_id_token_given_to_revoke_token_is_unsupported_token_type() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    // Scenario 37.
    for token in [&tokens.access, &tokens.id] {
        w.revoke(token, PUBLIC).refused(
            "UnsupportedTokenTypeException",
            "Only refresh tokens can be revoked",
        );
    }
    w.get_user(&tokens.access).ok();
}

#[test]
fn a_client_without_token_revocation_is_unsupported_operation() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(NOREVOKE, "alice");
    // Scenario 38; AWS's exact message is [unverified].
    w.revoke(&tokens.refresh, NOREVOKE).refused(
        "UnsupportedOperationException",
        "Token revocation is not enabled for this app client",
    );
    w.refresh(NOREVOKE, &tokens.refresh).ok();
}

#[test]
fn a_wrong_or_missing_client_secret_is_unauthorized() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(SECRET_CLIENT, "alice");
    let unauthorized = "Unable to authenticate the client with the given client secret";
    // Scenario 39.
    w.revoke(&tokens.refresh, SECRET_CLIENT)
        .refused("UnauthorizedException", unauthorized);
    w.call(
        "RevokeToken",
        json!({"Token": tokens.refresh, "ClientId": SECRET_CLIENT,
               "ClientSecret": "WrongClientSecret_0123456789"}),
    )
    .refused("UnauthorizedException", unauthorized);
    assert!(w.revocations().is_empty());
    assert_eq!(
        w.call(
            "RevokeToken",
            json!({"Token": tokens.refresh, "ClientId": SECRET_CLIENT,
                   "ClientSecret": CLIENT_SECRET})
        )
        .ok(),
        json!({})
    );
    w.gate(&tokens.access).gate_refused(REVOKED);
}

#[test]
fn a_refresh_token_revoked_through_another_client_is_unauthorized() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    w.call(
        "RevokeToken",
        json!({"Token": tokens.refresh, "ClientId": SECRET_CLIENT,
               "ClientSecret": CLIENT_SECRET}),
    )
    .refused(
        "UnauthorizedException",
        "Unable to authenticate the client with the given client secret",
    );
    w.revoke(&tokens.refresh, LOCAL2_CLIENT).refused(
        "UnauthorizedException",
        "Unable to authenticate the client with the given client secret",
    );
    assert!(w.revocations().is_empty());
    w.gate(&tokens.access).passes();
}

#[test]
fn revoke_token_for_an_unknown_client_is_unauthorized() {
    let w = World::new();
    // RevokeToken declares no ResourceNotFoundException; the crate answers UnauthorizedException.
    w.revoke("a.b.c.d.e", "nosuchclient").refused(
        "UnauthorizedException",
        "Unable to authenticate the client with the given client secret",
    );
}

#[test]
fn a_refresh_token_that_is_not_ours_has_nothing_left_to_revoke() {
    let w = World::new();
    // RFC 7009 §2.2: an invalid token answers success.
    let junk = format!(
        "{}..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"dir","enc":"A256GCM"}"#)
    );
    assert_eq!(w.revoke(&junk, PUBLIC).ok(), json!({}));
    assert!(w.revocations().is_empty());
}

#[test]
fn revoke_token_for_an_external_pool_client_is_unsupported_operation() {
    let w = World::new();
    w.revoke("a.b.c.d.e", EXT_CLIENT).refused(
        "UnsupportedOperationException",
        &format!("User pool {EXT} is not a local pool: revoke its refresh tokens at its issuer"),
    );
}

// ---------------------------------------------------------------------------------------
// Fail closed

#[test]
fn when_kv_cannot_be_read_no_token_is_accepted() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    w.gate(&tokens.access).passes();
    // Past the isolate cache, so the check needs KV.
    w.advance(10_000);
    w.store.fail_reads(true);
    for token in [&tokens.access, &tokens.id] {
        let reply = w.gate(token);
        assert_eq!(
            (reply.status, &reply.body),
            (
                503,
                &json!({"__type": "InternalErrorException", "message": "Internal server error."})
            )
        );
        assert_eq!(
            reply.header("x-amzn-errortype"),
            Some("InternalErrorException")
        );
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert_eq!(
            reply.header("x-amzn-requestid"),
            Some(reply.request_id.as_str())
        );
    }
    w.get_user(&tokens.access).internal_error();
    w.global_sign_out(&tokens.access).internal_error();
    w.refresh(PUBLIC, &tokens.refresh).internal_error();
    w.password_auth(PUBLIC, "alice", PASSWORD).internal_error();
    w.admin_sign_out(LOCAL, "alice").internal_error();
    w.revoke(&tokens.refresh, PUBLIC).internal_error();
    // The cause reaches the log only: every body above was asserted whole.
    assert!(w.logged("kv read failed: injected read failure"));
    w.store.fail_reads(false);
    w.gate(&tokens.access).passes();
    assert!(w.revocations().is_empty());
}

#[test]
fn when_kv_cannot_be_written_a_sign_out_fails_and_leaves_no_half_state() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    w.advance(1_000);
    let tokens = w.sign_in(PUBLIC, "alice");
    w.advance(1_000);
    w.store.fail_writes(true);
    w.admin_sign_out(LOCAL, "alice").internal_error();
    w.global_sign_out(&tokens.access).internal_error();
    w.revoke(&tokens.refresh, PUBLIC).internal_error();
    w.admin(
        "AdminDisableUser",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .internal_error();
    assert!(w.revocations().is_empty());
    w.store.fail_writes(false);
    // Nothing was recorded, so nothing is refused; the user is still enabled.
    w.gate(&tokens.access).passes();
    w.get_user(&tokens.access).ok();
    w.refresh(PUBLIC, &tokens.refresh).ok();
    // Once writes work, the sign-out takes.
    assert_eq!(w.admin_sign_out(LOCAL, "alice").ok(), json!({}));
    w.gate(&tokens.access).gate_refused(REVOKED);
}

#[test]
fn when_kv_cannot_be_written_no_user_is_half_created() {
    let w = World::new();
    w.store.fail_writes(true);
    w.admin(
        "AdminCreateUser",
        json!({"UserPoolId": LOCAL, "Username": "alice",
               "UserAttributes": [{"Name": "email", "Value": "alice@example.com"}]}),
    )
    .internal_error();
    w.store.fail_writes(false);
    assert!(w.store.keys().is_empty());
    w.admin(
        "AdminGetUser",
        json!({"UserPoolId": LOCAL, "Username": "alice"}),
    )
    .refused("UserNotFoundException", "User does not exist.");
    w.create_user(LOCAL, "alice", "alice@example.com");
}

#[test]
fn a_rate_limited_caller_gets_too_many_requests_before_its_body_is_read() {
    let w = World::new();
    w.limiter.remaining.set(2);
    w.admin_sign_out(LOCAL, "nobody")
        .refused("UserNotFoundException", "User does not exist.");
    let mut request = api_request(Some(&target("GetUser")), b"{}");
    request
        .headers
        .push(("cf-connecting-ip".into(), "203.0.113.9".into()));
    w.send(&request).refused(
        "InvalidParameterException",
        &validation(&[violation(None, "accessToken", "Member must not be null")]),
    );
    // The third is denied, whatever its body.
    request.body = b"not json".to_vec();
    w.send(&request)
        .refused("TooManyRequestsException", "Rate exceeded");
    w.admin_sign_out(LOCAL, "nobody")
        .refused("TooManyRequestsException", "Rate exceeded");
    w.call("GetUser", json!({}))
        .refused("TooManyRequestsException", "Rate exceeded");
    assert_eq!(
        *w.limiter.keys.borrow(),
        vec![
            format!("key:{ADMIN_KEY}"),
            "ip:203.0.113.9".to_owned(),
            "ip:203.0.113.9".to_owned(),
            format!("key:{ADMIN_KEY}"),
            "ip:unknown".to_owned(),
        ]
    );
}
