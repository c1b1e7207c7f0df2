//! AdminListRevocations: a pool's latest revocations with who wrote each and why, for the
//! console's admin panel. Signed by an admin key whose allow-list names the action; latest
//! first; every kind of writer recorded as it wrote.

mod support;

use serde_json::{json, Value};
use support::*;

fn list(w: &World, body: Value) -> Value {
    w.admin("AdminListRevocations", body).ok()
}

#[test]
fn the_latest_revocations_are_listed_first_with_who_wrote_each_and_why() {
    let w = World::new();
    w.create_user(LOCAL, "ann", "ann@example.com");
    w.create_user(LOCAL, "bob", "bob@example.com");
    let bob_sub = w.create_user(LOCAL, "cid", "cid@example.com");
    let ann = w.sign_in(PUBLIC, "ann");
    let bob = w.sign_in(PUBLIC, "bob");
    w.advance(1_000);
    w.admin_sign_out(LOCAL, "cid@example.com").ok();
    w.advance(1_000);
    w.global_sign_out(&ann.access).ok();
    w.advance(1_000);
    w.revoke(&bob.refresh, PUBLIC).ok();
    w.create_user(LOCAL2, "dee", "dee@example.com");
    w.admin_sign_out(LOCAL2, "dee").ok();

    let out = list(&w, json!({"UserPoolId": LOCAL}));
    let rows = out["Revocations"].as_array().unwrap();
    assert_eq!(out["Complete"], true);
    let reasons: Vec<&str> = rows.iter().map(|r| r["Reason"].as_str().unwrap()).collect();
    assert_eq!(
        reasons,
        ["RevokeToken", "GlobalSignOut", "AdminUserGlobalSignOut"],
        "latest first"
    );
    assert_eq!(rows[0]["Kind"], "session");
    assert_eq!(rows[1]["Kind"], "user");
    assert!(rows[1]["By"].as_str().unwrap().starts_with("user:"));
    assert_eq!(rows[2]["By"], ADMIN_KEY);
    assert_eq!(
        rows[2]["Subject"],
        bob_sub.as_str(),
        "keyed by sub, whatever alias was given"
    );
    let at = rows[2]["RevokedAt"].as_f64().unwrap();
    assert!((at * 1000.0 - (T0_MS + 1_000) as f64).abs() < 1.0, "{at}");
    assert!(rows
        .iter()
        .all(|r| r["RequestId"].as_str().is_some_and(|id| !id.is_empty())));

    let one = list(&w, json!({"UserPoolId": LOCAL, "Limit": 1}));
    assert_eq!(one["Revocations"].as_array().unwrap().len(), 1);
    assert_eq!(one["Revocations"][0]["Reason"], "RevokeToken");
    let other = list(&w, json!({"UserPoolId": LOCAL2}));
    let other = other["Revocations"].as_array().unwrap();
    assert_eq!(other.len(), 1, "each pool lists its own entries");
    assert_eq!(other[0]["Reason"], "AdminUserGlobalSignOut");
}

#[test]
fn listing_needs_a_signature_an_allowed_action_a_known_pool_and_a_limit_from_1_to_60() {
    let w = World::new();
    let unsigned = w.call("AdminListRevocations", json!({"UserPoolId": LOCAL}));
    assert_eq!(
        unsigned.body["__type"],
        "MissingAuthenticationTokenException"
    );
    let limited = Signer {
        key: LIMITED_KEY,
        secret: LIMITED_SECRET,
        ..ADMIN
    };
    let denied = w.admin_as(
        limited,
        "AdminListRevocations",
        json!({"UserPoolId": LOCAL}),
    );
    assert_eq!(denied.body["__type"], "AccessDeniedException");
    w.admin(
        "AdminListRevocations",
        json!({"UserPoolId": "us-east-1_Nope1"}),
    )
    .refused(
        "ResourceNotFoundException",
        "User pool us-east-1_Nope1 does not exist.",
    );
    for (limit, constraint) in [
        (json!(0), "greater than or equal to 1"),
        (json!(61), "less than or equal to 60"),
        (json!(-5), "greater than or equal to 1"),
    ] {
        let refused = w.admin(
            "AdminListRevocations",
            json!({"UserPoolId": LOCAL, "Limit": limit}),
        );
        assert_eq!(
            refused.body["__type"], "InvalidParameterException",
            "{limit}"
        );
        assert!(
            refused.body["message"]
                .as_str()
                .unwrap()
                .ends_with(constraint),
            "{limit}: {}",
            refused.body
        );
    }
    for limit in [json!("5"), json!(2.5), json!(true)] {
        let refused = w.admin(
            "AdminListRevocations",
            json!({"UserPoolId": LOCAL, "Limit": limit}),
        );
        assert_eq!(refused.body["__type"], "SerializationException", "{limit}");
    }
    let bad_pool = w.admin("AdminListRevocations", json!({"UserPoolId": "no pool"}));
    assert_eq!(bad_pool.body["__type"], "InvalidParameterException");
}

#[test]
fn a_store_that_cannot_be_read_fails_the_listing_rather_than_answering_an_empty_list() {
    let w = World::new();
    w.store.fail_reads(true);
    w.admin("AdminListRevocations", json!({"UserPoolId": LOCAL}))
        .internal_error();
}
