//! The Workers adapter: the only module that touches wasm-bindgen, js-sys and web-sys (but for
//! `crate::unicode`'s calls to two JS built-ins).
//!
//! Everything that decides lives in the core; this module only carries values across the
//! boundary, in layers: `bindings` declares the raw JavaScript types (duck-typed, so a plain
//! object stands in for a binding in tests); `ports` implements the core's ports over them (JS
//! errors become Rust errors there and nowhere else); `isolate` keeps the isolate's state and
//! builds each call's `Io`; `fetch` converts a Workers request into a plain one and the core's
//! outcome back; `exports` is the JavaScript API; `scheduled` is the Cron Trigger's handler;
//! `browser` holds the exports that need no KV; `stats` reports how full the isolate's caches and
//! memory are; `unicode` shows what the module makes of a string's Unicode; `authority` is the
//! revocation authority as a Worker reaches it (the Durable Object and the Cache API's shared
//! copy of its feed); `ledger` is the object's own `fetch` over its SQLite table; `webcrypto` is
//! the platform's crypto (`crypto.subtle`) behind the core's crypto ports.

mod authority;
mod bindings;
mod browser;
mod exports;
mod fetch;
mod isolate;
mod ledger;
mod ports;
mod scheduled;
mod stats;
mod unicode;
mod webcrypto;
