//! The API target's world: the native tests' configuration and harness (`tests/support`), with
//! users and tokens made once, and a text format for a short sequence of requests.
//!
//! An input is up to [`MAX_REQUESTS`] requests separated by a line `%%`. Each request is a first
//! line `<target> [signer]` and a body:
//! - `<target>` is an operation name (`GetUser`; prefixed with the service, as SDKs send it),
//!   any other text with a dot (sent as `X-Amz-Target` unchanged), `GATE` (the body is a bearer
//!   token for `GET /api/me`) or `HEALTHZ`;
//! - `[signer]` is `admin`, `limited` (the allow-listed credential) or `forged` (the admin key
//!   with a wrong secret); absent, the request is unsigned;
//! - in the body, `$ACCESS`, `$ID`, `$REFRESH` (alice's tokens from a password sign-in),
//!   `$SESSION` (bob's NEW_PASSWORD_REQUIRED session), `$SECRET_BLOCK` (alice's SRP challenge),
//!   `$EXT_ACCESS` (an external pool's access token), `$SUB` (alice's sub) and `$TIMESTAMP` (the
//!   clock as SRP clients write it) become those values.

use std::cell::{Cell, RefCell};

use edge_revoke::{app::App, config::Config, http::Request, local::srp, ports::MemoryStore, sigv4};
use serde_json::{json, Value};

use crate::support::{
    self, api_request, ext_access, target, Limiter, Signer, World, ADMIN, LIMITED_KEY,
    LIMITED_SECRET, LOCAL, PUBLIC, T0_MS, T0_S,
};

/// Most requests run per input.
pub const MAX_REQUESTS: usize = 4;

/// SRP_A of the first Cognito SRP vector (`shared/vectors/cognito-srp/01-username-plain.json`).
pub const SRP_A: &str = concat!(
    "120c96dfc83bb444f0474d594d19b1f1bcaa4ec95408445fe23393d003be6aa09d034c8dcf459a6ab0934953",
    "960b0f3b8b6454faf4f19d1998d0e1a67a6e2d71470375a302066f8193693418849f78b07db7d07637200b2e",
    "92bbe394b96f0d5a326f4540ebce58fd953a2d6301f786cff2a1c17c71a36f148b2bfee40cfbc6a560a5340f",
    "a3f1c820c37ad0daa9cecd99d06b5a599ac80c60d71a71fc9eba7fd80dc8d902eb8f2453ad0b017a23462999",
    "7590e7162cf606cbd1040fe511cddc4dc14d40a6654c92f4988096ab9aef22c3f657c55237b7df350fabe8e5",
    "d79cf7972c7e4ea4dab298bab65d033025cedc0842222ebd9b9b715fe1e1c43564f564c90e1c8579f9d4f9d1",
    "68880574e9e0ab163952f6ce57fdc2d916958e9100e59cbcd686a8652b8eb6989518da6899eba55212b3e19c",
    "e0df1665651d75bb56815f049592dfa2056e62964e95956be89890ab01e557f982213a56caf6c42b757c437e",
    "0163758a811bd64dc0e26cab210f9bc7a3b14cebff2a0ec9b2b08c9b2eab5fc",
);

/// What every input starts from.
pub struct Base {
    pub config: Config,
    pub kv: Vec<(String, String)>,
    pub values: Vec<(&'static str, String)>,
}

impl Base {
    /// Alice signed in with a password (tokens), bob created with a temporary password and
    /// stopped at NEW_PASSWORD_REQUIRED (session), alice's SRP challenge open; then the KV.
    pub fn new() -> Self {
        let w = World::new();
        let sub = w.create_user(LOCAL, "alice", "alice@example.com");
        let tokens = w.sign_in(PUBLIC, "alice");
        w.admin(
            "AdminCreateUser",
            json!({"UserPoolId": LOCAL, "Username": "bob", "TemporaryPassword": "Temp-Pass-1",
                   "MessageAction": "SUPPRESS"}),
        )
        .ok();
        let challenge = w.password_auth(PUBLIC, "bob", "Temp-Pass-1").ok();
        let session = challenge["Session"].as_str().unwrap_or_default().to_owned();
        // Empty while USER_SRP_AUTH is not enabled for the client: the target then drives its
        // refusal.
        let srp_challenge = w.call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": PUBLIC,
                   "AuthParameters": {"USERNAME": "alice", "SRP_A": SRP_A}}),
        );
        let secret_block = srp_challenge.body["ChallengeParameters"]["SECRET_BLOCK"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let kv = w
            .store
            .keys()
            .into_iter()
            .filter_map(|key| w.store.peek(&key).map(|(value, _)| (key, value)))
            .collect();
        let values = vec![
            ("$ACCESS", tokens.access),
            ("$ID", tokens.id),
            ("$REFRESH", tokens.refresh),
            ("$SESSION", session),
            ("$SECRET_BLOCK", secret_block),
            ("$EXT_ACCESS", ext_access("ext-alice", "ext-alice", T0_S)),
            ("$SUB", sub),
            ("$TIMESTAMP", srp::format_timestamp(T0_MS)),
        ];
        Self {
            config: w.config,
            kv,
            values,
        }
    }

    /// A fresh isolate over a copy of the KV, at the fixed clock.
    pub fn world(&self) -> World {
        let store = MemoryStore::new();
        for (key, value) in &self.kv {
            store.seed(key, value);
        }
        World {
            app: App::new(),
            config: self.config.clone(),
            store,
            limiter: Limiter {
                remaining: Cell::new(usize::MAX),
                keys: RefCell::new(Vec::new()),
            },
            now: Cell::new(T0_MS),
            requests: Cell::new(0),
            invocations: Cell::new(0),
            logs: RefCell::new(Vec::new()),
        }
    }

    /// `text` with every placeholder replaced.
    pub fn expand(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (name, value) in &self.values {
            if out.contains(name) {
                out = out.replace(name, value);
            }
        }
        out
    }

    /// The value a placeholder stands for.
    pub fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

impl Default for Base {
    fn default() -> Self {
        Self::new()
    }
}

/// One request of an input.
#[derive(Debug, Clone)]
pub struct Call {
    pub target: String,
    pub signer: Option<String>,
    pub body: String,
}

/// Splits an input into calls.
pub fn calls(text: &str) -> Vec<Call> {
    text.split("\n%%\n")
        .take(MAX_REQUESTS)
        .map(|part| {
            let (first, body) = part.split_once('\n').unwrap_or((part, ""));
            let (target, signer) = match first.split_once(' ') {
                Some((target, signer)) => (target, Some(signer.to_owned())),
                None => (first, None),
            };
            Call {
                target: target.to_owned(),
                signer,
                body: body.to_owned(),
            }
        })
        .collect()
}

/// Formats calls as [`calls`] reads them (for seeds).
pub fn format_calls(calls: &[(&str, Option<&str>, Value)]) -> String {
    calls
        .iter()
        .map(|(target, signer, body)| match signer {
            Some(signer) => format!("{target} {signer}\n{body}"),
            None => format!("{target}\n{body}"),
        })
        .collect::<Vec<_>>()
        .join("\n%%\n")
}

/// The request a call stands for, signed as it asks.
pub fn request(world: &World, base: &Base, call: &Call) -> Request {
    let body = base.expand(&call.body);
    let request = match call.target.as_str() {
        "GATE" => Request {
            method: "GET".into(),
            path: "/api/me".into(),
            headers: vec![
                ("authorization".into(), format!("Bearer {body}")),
                ("host".into(), "127.0.0.1:8787".into()),
            ],
            ..Request::default()
        },
        "HEALTHZ" => Request {
            method: "GET".into(),
            path: "/healthz".into(),
            headers: vec![("host".into(), "127.0.0.1:8787".into())],
            ..Request::default()
        },
        name if name.contains('.') => api_request(Some(name), body.as_bytes()),
        name => api_request(Some(&target(name)), body.as_bytes()),
    };
    let signer = match call.signer.as_deref() {
        Some("admin") => ADMIN,
        Some("limited") => Signer {
            key: LIMITED_KEY,
            secret: LIMITED_SECRET,
            ..ADMIN
        },
        Some("forged") => Signer {
            secret: "not-the-admin-secret",
            ..ADMIN
        },
        _ => return request,
    };
    sign(world, request, signer)
}

/// Signs as `World::sign` does (a fresh, signed `amz-sdk-invocation-id`), leaving the request
/// unsigned where `sigv4::sign` refuses it, so that the server judges it.
fn sign(world: &World, mut request: Request, signer: Signer<'_>) -> Request {
    world.invocations.set(world.invocations.get() + 1);
    request.headers.push((
        "amz-sdk-invocation-id".into(),
        format!("invocation-{}", world.invocations.get()),
    ));
    let parts = sigv4::RequestParts {
        method: &request.method,
        path: &request.path,
        query: &request.query,
        headers: &request.headers,
        body: &request.body,
    };
    if let Ok(added) = sigv4::sign(
        &parts,
        signer.key,
        signer.secret,
        signer.region,
        signer.service,
        &sigv4::format_amz_date(world.now()),
        signer.token,
        false,
    ) {
        request.headers.extend(added);
    }
    request
}

/// Re-exported for the target's checks.
pub use support::CONTENT_TYPE as API_CONTENT_TYPE;
