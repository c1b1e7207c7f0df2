//! Every Cognito operation's JSON request through the native wire-protocol entry
//! (`App::handle`, as `tests/api.rs` drives it): a fresh isolate and an in-memory KV with two
//! users per input, the fixed clock, unsigned, admin-signed, allow-list-signed or forged
//! requests, up to four in a row (see `edge_revoke_fuzz::api` for the input format).
//!
//! Beyond "no panic": never a 5xx (the KV never fails here); every `POST /` answer has the
//! protocol's content type and a JSON object body, and an error's `x-amzn-ErrorType` is its
//! `__type`; after GlobalSignOut with alice's access token, or AdminUserGlobalSignOut of alice,
//! succeeds, neither the gate nor GetUser accepts that token and her refresh token refreshes
//! nothing; after RevokeToken succeeds with her refresh token, the same holds for it and for the
//! access token issued with it.
#![no_main]

use edge_revoke_fuzz::{
    api::{calls, request, Base, API_CONTENT_TYPE},
    support::LOCAL,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

thread_local! {
    static BASE: Base = Base::new();
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    BASE.with(|base| run(base, text));
});

fn run(base: &Base, text: &str) {
    let world = base.world();
    let access = base.value("$ACCESS");
    let refresh = base.value("$REFRESH");
    let mut signed_out = false;
    let mut refresh_revoked = false;
    for call in calls(text) {
        let req = request(&world, base, &call);
        let reply = world.send(&req);
        assert!(
            reply.status < 500,
            "{} answered {}: {}\nlog: {:?}",
            call.target,
            reply.status,
            reply.text,
            world.logs.borrow()
        );
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        if req.path == "/" && req.method == "POST" {
            assert_eq!(reply.header("content-type"), Some(API_CONTENT_TYPE));
            assert!(reply.body.is_object(), "not a JSON object: {}", reply.text);
            if reply.status != 200 {
                assert_eq!(
                    reply.header("x-amzn-errortype"),
                    reply.body["__type"].as_str(),
                    "{}",
                    reply.text
                );
            }
        }
        let member = |name: &str| body.get(name).and_then(Value::as_str);
        let op = call.target.as_str();
        let ok = reply.status == 200;
        // What it must not do once alice is signed out or her refresh token revoked.
        let presents_access = match op {
            "GATE" => base.expand(&call.body) == access,
            "GetUser" | "GlobalSignOut" => member("AccessToken") == Some(access),
            _ => false,
        };
        assert!(
            !((signed_out || refresh_revoked) && presents_access && ok),
            "{op} accepted a signed-out access token: {}",
            reply.text
        );
        let refreshes = op == "InitiateAuth"
            && matches!(
                member("AuthFlow"),
                Some("REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN")
            )
            && body["AuthParameters"]["REFRESH_TOKEN"].as_str() == Some(refresh);
        assert!(
            !((refresh_revoked || signed_out) && refreshes && ok),
            "a revoked refresh token refreshed: {}",
            reply.text
        );
        // Then what this call did to alice's session, if it succeeded.
        if ok && op == "GlobalSignOut" && member("AccessToken") == Some(access) {
            signed_out = true;
        }
        if ok
            && op == "AdminUserGlobalSignOut"
            && member("UserPoolId") == Some(LOCAL)
            && member("Username") == Some("alice")
        {
            signed_out = true;
        }
        if ok && op == "RevokeToken" && member("Token") == Some(refresh) {
            refresh_revoked = true;
        }
    }
}
