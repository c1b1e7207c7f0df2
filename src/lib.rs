//! edge-revoke: Cognito-style global sign-out enforced at the edge.
//!
//! # Layout
//! - A sans-I/O core, built and tested natively with `cargo test`:
//!   - `token` splits an untrusted compact JWS; `jwk` binds keys to algorithms; `crypto` checks
//!     signatures behind a trait; `claims` reads claims with type checks; `auth` chains them into
//!     an `Authenticated` caller.
//!   - `config` parses the environment once into strong types; `error` holds one error enum per
//!     phase and the one mapping to the wire; `validate` reproduces Cognito's validation messages;
//!     `sigv4` verifies and signs AWS Signature Version 4.
//!   - `app` routes plain `http` values to outcomes (the gate, `/healthz`, the API).
//!   - `ports` declares the traits the core reaches the outside through (KV, fetch, rate limits),
//!     with in-memory fakes for tests; `jwks` caches remote key sets.
//!   - `local` holds local pools: signing keys, users and the tokens this Worker issues.
//!   - `ssf` receives OpenID Shared Signals: Security Event Tokens from CAEP and RISC
//!     transmitters, verified like access tokens, turned into revocation actions.
//! - `wasm`: the only module that touches wasm-bindgen, js-sys and web-sys. It reads the
//!   environment, wraps the KV binding and `fetch`, converts Workers requests and responses, and
//!   exports the JavaScript API.
//!
//! # Design choices
//! - A token becomes trusted through one path: `UntrustedToken` → `SignatureValid` →
//!   `Authenticated` (claims checked). The header never chooses the algorithm: each key is bound
//!   to one when loaded.
//! - Nothing panics on input: a panic traps the wasm instance and poisons the isolate. Untrusted
//!   input is length-capped before parsing; JSON is parsed strictly (no duplicate members).
//! - Time is an input: the adapter reads the clock once per request.

pub mod api;
pub mod app;
pub mod auth;
pub mod claims;
pub mod config;
pub mod cors;
pub mod crypto;
pub mod error;
pub mod http;
pub mod json;
pub mod jwk;
pub mod jwks;
pub mod local;
pub mod ops;
pub mod ports;
pub mod revocation;
pub mod sigv4;
pub mod ssf;
pub mod token;
pub mod validate;

#[cfg(target_arch = "wasm32")]
mod wasm;
