//! Every operation's declared auth, over the wire protocol (`App::handle`, as `tests/api.rs`).
//! The tests walk `Operation::ALL`, so an operation added to the table in `src/ops/mod.rs` is
//! covered here without a line added.

mod support;

use edge_revoke::ops::{Auth, Operation};
use serde_json::{json, Value};
use support::*;

/// A KV key with its value and lifetime, if any.
type Stored = (String, Option<(String, Option<u64>)>);

/// Everything KV holds, values and lifetimes: what an unsigned call must leave as it was.
fn snapshot(w: &World) -> Vec<Stored> {
    w.store
        .keys()
        .into_iter()
        .map(|key| {
            let value = w.store.peek(&key);
            (key, value)
        })
        .collect()
}

/// An input every SigV4 operation accepts from a signed admin: the pool, the user, and the
/// members the user operations need.
fn admin_input() -> Value {
    json!({"UserPoolId": LOCAL, "Username": "alice", "Password": "New-Horse-2",
           "Permanent": true, "MessageAction": "SUPPRESS"})
}

fn sigv4_operations() -> Vec<Operation> {
    Operation::ALL
        .iter()
        .copied()
        .filter(|op| matches!(op.auth(), Auth::SigV4 { .. }))
        .collect()
}

#[test]
fn an_unsigned_call_of_every_sigv4_operation_is_refused_and_changes_nothing() {
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    let before = snapshot(&w);
    let operations = sigv4_operations();
    assert!(
        !operations.is_empty(),
        "the table declares SigV4 operations"
    );
    for op in &operations {
        w.call(op.name(), admin_input()).refused(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        );
        // Signed with an empty Authorization header, or with a bearer token: still unsigned.
        for authorization in ["", "Bearer x"] {
            let mut request = api_request(
                Some(&target(op.name())),
                admin_input().to_string().as_bytes(),
            );
            request
                .headers
                .push(("authorization".into(), authorization.into()));
            let reply = w.send(&request);
            assert_eq!(reply.status, 400, "{op:?} with {authorization:?}");
            assert!(
                matches!(
                    reply.header("x-amzn-errortype"),
                    Some("MissingAuthenticationTokenException" | "IncompleteSignatureException")
                ),
                "{op:?} with {authorization:?}: {}",
                reply.text
            );
        }
    }
    assert_eq!(snapshot(&w), before, "an unsigned call wrote something");
}

#[test]
fn a_signed_call_of_every_sigv4_operation_gets_past_authentication() {
    // The control for the test above: the same inputs, signed, are not refused for who sent
    // them, so the refusals above come from the missing signature.
    let w = World::new();
    w.create_user(LOCAL, "alice", "alice@example.com");
    for op in sigv4_operations() {
        let reply = w.admin(op.name(), admin_input());
        let refused_for_auth = matches!(
            reply.header("x-amzn-errortype"),
            Some(
                "MissingAuthenticationTokenException"
                    | "IncompleteSignatureException"
                    | "InvalidSignatureException"
                    | "UnrecognizedClientException"
                    | "AccessDeniedException"
                    | "NotAuthorizedException"
            )
        );
        assert!(!refused_for_auth, "{op:?}: {}", reply.text);
    }
}

#[test]
fn operations_not_declared_sigv4_ignore_a_signature_and_read_their_credential_from_the_body() {
    // An access-token or app-client operation, signed by an admin but with no token or client
    // in its body, is refused for the missing member: the signature grants nothing.
    let w = World::new();
    for op in Operation::ALL {
        let member = match op.auth() {
            Auth::SigV4 { .. } => continue,
            Auth::AccessToken => "accessToken",
            Auth::AppClient => "clientId",
        };
        let reply = w.admin(op.name(), json!({}));
        assert_eq!(reply.status, 400, "{op:?}: {}", reply.text);
        assert_eq!(
            reply.header("x-amzn-errortype"),
            Some("InvalidParameterException"),
            "{op:?}: {}",
            reply.text
        );
        assert!(reply.text.contains(member), "{op:?}: {}", reply.text);
    }
}
