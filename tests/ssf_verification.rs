//! Verification requests to Shared Signals transmitters (SSF §8.1.4), from the scheduled
//! handler, with a FAKE transmitter endpoint: when a request is due, what it carries, that a
//! state is stored before it is sent (and never sent if it cannot be), and how failures show.

use core::cell::{Cell, RefCell};

use edge_revoke::{
    app::{App, Io},
    crypto::RustCrypto,
    ports::{Fetcher, Inbound, LocalFuture, MemoryStore, Outbound, Unlimited},
    ssf::receive::{status_key, verification_key, PendingVerification},
};
use serde_json::{json, Map, Value};

const T0_MS: u64 = 1_750_000_000_000;
const POOL: &str = "us-east-1_Verify1";
const AUTH: &str = "Bearer verify-token-1";

/// A FAKE transmitter's verification endpoint: records each request, answers `status`.
struct FakeEndpoint {
    status: Cell<u16>,
    requests: RefCell<Vec<Outbound>>,
}

impl Fetcher for FakeEndpoint {
    fn get_text<'a>(
        &'a self,
        url: &'a str,
        _max_bytes: usize,
    ) -> LocalFuture<'a, Result<(u16, String), String>> {
        Box::pin(async move { Err(format!("no GET here ({url})")) })
    }

    fn post<'a>(
        &'a self,
        request: &'a Outbound,
        _max_bytes: usize,
        _timeout_ms: u32,
    ) -> LocalFuture<'a, Result<Inbound, String>> {
        Box::pin(async move {
            self.requests.borrow_mut().push(request.clone());
            Ok(Inbound {
                status: self.status.get(),
                headers: Vec::new(),
                body: Vec::new(),
            })
        })
    }
}

fn vars() -> Map<String, Value> {
    let env = json!({
        "POOLS": [{"id": POOL, "algorithms": ["HS256"], "allow_any_client": true,
                   "jwks": {"keys": [{"kty": "oct", "kid": "k", "alg": "HS256",
                                      "k": "ZXh0ZXJuYWwtcG9vbC1oczI1Ni1rZXktMzItYnl0ZXM"}]}}],
        "SSF_TRANSMITTERS": [{"id": "tx", "issuer": "https://tx.example",
            "jwks_uri": "https://tx.example/jwks", "audience": "https://edge.example/ssf",
            "push_secret": "verify-push-secret-0123456789abcdef", "pool": POOL,
            "stream_id": "stream-1",
            "verification": {"endpoint": "https://tx.example/verify", "authorization": AUTH,
                             "interval_s": 3600, "timeout_s": 60}}],
    });
    env.as_object().cloned().unwrap_or_default()
}

struct Run {
    app: App,
    store: MemoryStore,
    endpoint: FakeEndpoint,
}

impl Run {
    fn new() -> Self {
        Self {
            app: App::new(),
            store: MemoryStore::new(),
            endpoint: FakeEndpoint {
                status: Cell::new(204),
                requests: RefCell::new(Vec::new()),
            },
        }
    }

    /// One run of the Cron Trigger at `now_ms`; answers its log lines.
    fn scheduled(&self, now_ms: u64) -> Vec<String> {
        let config = self.app.load(&vars()).expect("configuration parses");
        let log = |_: &str| {};
        let io = Io {
            store: &self.store,
            fetcher: &self.endpoint,
            limiter: &Unlimited,
            verifier: &RustCrypto,
            now_ms,
            request_id: "cron",
            log: &log,
        };
        pollster::block_on(self.app.poll(Ok(&config), &io)).expect("the run completes")
    }

    fn sent(&self) -> usize {
        self.endpoint.requests.borrow().len()
    }

    fn pending(&self) -> Option<PendingVerification> {
        PendingVerification::decode(&self.store.peek(&verification_key("tx"))?.0)
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.store.peek(&status_key("tx")).unwrap().0).unwrap()
    }
}

#[test]
fn a_request_carries_the_stream_and_a_stored_fresh_state_and_is_sent_at_most_once_per_interval() {
    let run = Run::new();
    assert_eq!(run.scheduled(T0_MS), ["ssf verification of tx: requested"]);
    let request = run.endpoint.requests.borrow()[0].clone();
    assert_eq!(request.url, "https://tx.example/verify");
    assert!(request
        .headers
        .contains(&("authorization".to_owned(), AUTH.to_owned())));
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let pending = run.pending().unwrap();
    assert_eq!(
        body,
        json!({"stream_id": "stream-1", "state": pending.state})
    );
    assert_eq!(pending.requested_ms, T0_MS);
    assert_eq!(
        run.store.peek(&verification_key("tx")).unwrap().1,
        Some(3600),
        "expires after the interval"
    );
    assert_eq!(run.status()["verification"], "requested");

    assert!(
        run.scheduled(T0_MS + 3_599_999).is_empty(),
        "not due within the interval"
    );
    assert_eq!(run.sent(), 1);
    run.scheduled(T0_MS + 3_600_000);
    assert_eq!(run.sent(), 2);
    assert_ne!(
        run.pending().unwrap().state,
        pending.state,
        "each request draws a new state"
    );
}

#[test]
fn a_refused_request_shows_as_failed_and_is_tried_again_after_five_minutes() {
    let run = Run::new();
    run.endpoint.status.set(302);
    let lines = run.scheduled(T0_MS);
    assert!(
        lines[0].contains("request failed: the verification endpoint answered 302"),
        "{lines:?}"
    );
    assert_eq!(run.status()["verification"], "request_failed");
    assert!(run.pending().unwrap().failed);
    run.endpoint.status.set(204);
    run.scheduled(T0_MS + 299_999);
    assert_eq!(run.sent(), 1);
    run.scheduled(T0_MS + 300_000);
    assert_eq!(run.sent(), 2);
    assert_eq!(run.status()["verification"], "requested");
    assert!(!run.pending().unwrap().failed);
}

#[test]
fn a_state_that_cannot_be_stored_is_never_sent() {
    let run = Run::new();
    run.store.fail_writes(true);
    let lines = run.scheduled(T0_MS);
    assert!(
        lines[0].contains("the state could not be stored"),
        "{lines:?}"
    );
    assert_eq!(
        run.sent(),
        0,
        "a state the receiver could not check is never asked for"
    );
}
