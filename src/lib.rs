//! edge-revoke: Cognito-style global sign-out enforced at the edge.
//!
//! # Layout
//! - A sans-I/O core, built and tested natively with `cargo test`:
//!   - `token` splits an untrusted compact JWS; `jwk` binds keys to algorithms; `crypto` checks
//!     signatures behind a trait; `claims` reads claims with type checks; `auth` chains them into
//!     an `Authenticated` caller.
//!   - `config` parses the environment once into strong types; `error` holds one error enum per
//!     phase and the one mapping to the wire; `validate` reproduces Cognito's validation messages;
//!     `sigv4` verifies and signs AWS Signature Version 4; `replay` accepts each signature once.
//!   - `app` routes plain `http` values to outcomes (the gate, `/healthz`, the API).
//!   - `identity` spells user ids one way per pool (NFC, case folded unless the pool is case
//!     sensitive), for every KV key written or read.
//!   - `ports` declares the traits the core reaches the outside through (KV, fetch, rate limits),
//!     with in-memory fakes for tests; `jwks` caches remote key sets.
//!   - `local` holds local pools: signing keys, users and the tokens this Worker issues.
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
pub mod replay;
pub mod revocation;
pub mod services;
pub mod signing;
pub mod sigv4;
pub mod token;
pub mod validate;

#[cfg(target_arch = "wasm32")]
mod wasm;
