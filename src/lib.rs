//! edge-revoke: Cognito-style global sign-out enforced at the edge.
//!
//! # Layout
//! From the front door down; a module uses only its own floor and those below it (checked by
//! `tests/module_graph.rs`, which also fails on any import circle). `ARCHITECTURE.md` draws the
//! floors and says which files to touch to add an operation, a signature backend or a
//! revocation store.
//! - `wasm` (wasm32 only): the only module that touches wasm-bindgen, js-sys and web-sys (but
//!   for `unicode`'s two JS built-ins, below). Raw bindings, the core's ports over them, the
//!   isolate's state, request conversion, exports.
//! - `app`: the front door. Routes each request once (`route`), answers `/healthz` and a local
//!   pool's discovery documents, hands the rest on, and runs the JavaScript API's calls as a
//!   trusted caller through the same paths.
//! - `api`: `POST /`, Cognito's AWS JSON 1.1 protocol (target, SigV4, rate limit, body), and
//!   `api::invoke`, the one way into the operations. `gate`: bearer tokens in front of the
//!   origin. `cors`: preflights and response headers. `proxy`: a pool with an `upstream` has
//!   its Cognito calls forwarded to the real user pool, sign-outs done on both sides.
//! - `ops`: one file per Cognito operation, declared in one table with its `Auth`.
//! - `services`: what operations call back into: token verification with the JWKS cache, the
//!   revocation list with its cache, used SigV4 signatures; `Io` and the `Storage` ports.
//! - `revocation`: the revocation rule behind the `RevocationStore` port (KV's implementation in
//!   `revocation::kv`), and the revocation authority every write goes through when it is bound
//!   (`ledger`: what the Durable Object decides; `feed`: its recent set as an isolate keeps it;
//!   `authority`: how a request reaches both). `replay` accepts each SigV4 signature once. `jwks`
//!   caches remote key sets. `verified` caches what the signature step proved for tokens seen
//!   before. `local` holds local pools: users, passwords, SRP, codes, sealed sessions, issued
//!   tokens.
//!   `ssf` receives OpenID Shared Signals: Security Event Tokens from CAEP and RISC transmitters,
//!   verified like access tokens, turned into revocation actions.
//! - `auth` chains `token` (an untrusted compact JWS), `crypto` (the signature step, awaited)
//!   and `claims` into an `Authenticated` caller.
//! - `config` parses the environment once into strong types; `iam` evaluates an admin
//!   credential's allow-lists; `signing` holds local pools' signing keys; `jwk` binds keys to
//!   the algorithms of `alg`.
//! - Leaves: `error` (one enum per phase, one mapping to the wire), `http` (plain request,
//!   response, outcome), `ports` (KV, fetch, rate limits, with in-memory fakes), `sigv4`
//!   (AWS Signature Version 4), `validate` (Cognito's validation messages), `identity` (one
//!   spelling of user ids per pool, for every key written or read), `json` (strict parsing),
//!   `unicode` (NFD, NFC and Cognito's Unicode classes: the JS engine's in wasm32, pure calls
//!   to `String.prototype.normalize` and `RegExp`; the UCD crates natively).
//!
//! # Design choices
//! - A token becomes trusted through one path: `UntrustedToken` → `SignatureValid` (which
//!   carries the payload it covers; claims are read from it) → `Authenticated` (claims
//!   checked) → `NotRevoked`. The header never chooses the algorithm: each key is bound to one
//!   when loaded.
//! - How an operation's caller is authenticated is declared beside the operation, never
//!   inferred; every SigV4 operation refuses an unsigned caller.
//! - Nothing panics on input: a panic traps the wasm instance and poisons the isolate. Untrusted
//!   input is length-capped before parsing; JSON is parsed strictly (no duplicate members).
//! - Time is an input: the adapter reads the clock once per request.

pub mod alg;
pub mod api;
pub mod app;
pub mod auth;
pub mod claims;
pub mod config;
pub mod cors;
pub mod crypto;
pub mod error;
pub mod gate;
pub mod http;
pub mod iam;
pub mod identity;
pub mod json;
pub mod jwk;
pub mod jwks;
pub mod local;
pub mod ops;
pub mod ports;
pub mod proxy;
pub mod replay;
pub mod revocation;
pub mod services;
pub mod signing;
pub mod sigv4;
pub mod ssf;
pub mod token;
pub mod unicode;
pub mod validate;
pub mod verified;

#[cfg(target_arch = "wasm32")]
mod wasm;
