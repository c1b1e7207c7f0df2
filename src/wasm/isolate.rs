//! The isolate's state and what one call may use: the parsed configuration (re-parsed only
//! when the environment's values change), the core's [`App`], and the bindings, request id and
//! clock of each call, read here once.

use std::{cell::RefCell, rc::Rc};

use js_sys::Reflect;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;

use super::{
    authority::{CacheShare, DurableLink},
    bindings::{console_error, console_log},
    ports::{Fetch, Kv, Limiter},
};
use crate::{
    app::{App, Io},
    config::{BrokenConfig, Config, SETTING_NAMES},
    crypto::RustCrypto,
    error::StoreError,
    ports::{LocalFuture, Store},
    revocation::{authority::AuthorityPorts, RevocationStore},
    services::Storage,
};

/// The configuration as parsed from the environment, or why it could not be.
pub type ParsedConfig = Rc<Result<Config, BrokenConfig>>;

/// What an isolate keeps: the parsed configuration (with the raw JS values it came from, so a
/// changed environment is noticed) and the core's state.
struct Isolate {
    app: Rc<App>,
    config: Option<(Vec<JsValue>, ParsedConfig)>,
}

thread_local! {
    static ISOLATE: RefCell<Isolate> = RefCell::new(Isolate { app: Rc::new(App::new()), config: None });
}

/// The raw setting values, as JS values, in [`SETTING_NAMES`] order.
fn raw_settings(env: &JsValue) -> Vec<JsValue> {
    SETTING_NAMES
        .iter()
        .map(|name| Reflect::get(env, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED))
        .collect()
}

/// The settings of `env` as plain JSON values (for the revocation authority, which reads a few
/// of them and keeps no configuration).
pub fn settings_of(env: &JsValue) -> Map<String, Value> {
    to_settings(&raw_settings(env))
}

/// The settings as plain JSON values.
fn to_settings(raw: &[JsValue]) -> Map<String, Value> {
    let mut settings = Map::new();
    for (name, value) in SETTING_NAMES.iter().zip(raw) {
        if value.is_undefined() || value.is_null() {
            continue;
        }
        let json = match value.as_string() {
            Some(text) => Value::String(text),
            // A structured [vars] value; anything unconvertible becomes a type error in config.
            None => serde_wasm_bindgen::from_value(value.clone()).unwrap_or(Value::Bool(false)),
        };
        settings.insert((*name).to_owned(), json);
    }
    settings
}

/// The same settings as last time? Strings compare by value, objects by identity: the
/// environment's values are the same objects request after request, so the common case costs
/// no conversion at all.
fn same_settings(a: &[JsValue], b: &[JsValue]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| match (x.as_string(), y.as_string()) {
                (Some(x), Some(y)) => x == y,
                (None, None) => js_sys::Object::is(x, y),
                _ => false,
            })
}

/// The isolate's state, with the configuration parsed if the settings changed (or on first use).
pub fn isolate(env: &JsValue) -> (Rc<App>, ParsedConfig) {
    let raw = raw_settings(env);
    ISOLATE.with(|cell| {
        let Ok(mut isolate) = cell.try_borrow_mut() else {
            // Unreachable in practice (no borrow is held across an await); parse without caching.
            let app = Rc::new(App::new());
            let config = Rc::new(app.load(&to_settings(&raw)));
            return (app, config);
        };
        let cached = match &isolate.config {
            Some((seen, config)) if same_settings(seen, &raw) => Some(config.clone()),
            _ => None,
        };
        let config = cached.unwrap_or_else(|| {
            // The app keeps `SSF_TRANSMITTERS`, parsed here with the rest.
            let parsed = Rc::new(isolate.app.load(&to_settings(&raw)));
            if let Err(broken) = parsed.as_ref() {
                console_error(&format!(
                    "edge-revoke: configuration error: {}",
                    broken.error
                ));
            }
            isolate.config = Some((raw, parsed.clone()));
            parsed
        });
        (isolate.app.clone(), config)
    })
}

/// Where a call keeps each kind of record: every kind in the KV namespace `REVOCATIONS`, and
/// revocations also through the revocation authority (`REVOCATION_AUTHORITY`, a Durable
/// Object) when it is bound, with the location's shared copy of its feed in the Cache API.
struct Bindings {
    kv: Kv,
    authority: Option<(DurableLink, CacheShare)>,
}

impl Storage for Bindings {
    fn revocations<'a>(&'a self, config: &Config) -> Box<dyn RevocationStore + 'a> {
        self.kv.revocations(config)
    }

    fn authority(&self) -> Option<AuthorityPorts<'_>> {
        self.authority
            .as_ref()
            .map(|(link, share)| AuthorityPorts { link, share })
    }

    fn users(&self) -> &dyn Store {
        &self.kv
    }

    fn key_sets(&self) -> &dyn Store {
        &self.kv
    }

    fn signatures(&self) -> &dyn Store {
        &self.kv
    }

    fn refresh_tokens(&self) -> &dyn Store {
        &self.kv
    }

    fn probe(&self) -> LocalFuture<'_, Result<(), StoreError>> {
        self.kv.probe()
    }
}

/// What one call may use: the bindings, its id, its clock. The clock is read once, here.
pub struct Call {
    store: Bindings,
    limiter: Limiter,
    request_id: String,
    now_ms: u64,
    log: Box<dyn Fn(&str)>,
}

impl Call {
    /// The bindings of `env` for one call of the JavaScript API.
    pub fn new(env: &JsValue) -> Self {
        Self::for_host(env, None)
    }

    /// The bindings of `env` for one request to `host` (the location's shared copy of the feed
    /// is cached under the Worker's own hostname, as the Cache API asks).
    pub fn for_host(env: &JsValue, host: Option<&str>) -> Self {
        let request_id = request_id();
        let tag = request_id.clone();
        Self {
            store: Bindings {
                kv: Kv::from_env(env),
                authority: super::authority::from_env(env, host),
            },
            limiter: Limiter::from_env(env),
            request_id,
            now_ms: js_sys::Date::now() as u64,
            log: Box::new(move |line| console_log(&format!("edge-revoke [{tag}] {line}"))),
        }
    }

    /// The core's view of this call.
    pub fn io(&self) -> Io<'_> {
        Io {
            store: &self.store,
            fetcher: &Fetch,
            limiter: &self.limiter,
            verifier: &RustCrypto,
            now_ms: self.now_ms,
            request_id: &self.request_id,
            log: &*self.log,
        }
    }
}

/// A fresh request id (a UUID v4 from `crypto.getRandomValues`, only ever called in a request).
fn request_id() -> String {
    crate::local::tokens::uuid_v4()
        .unwrap_or_else(|_| format!("req-{}", js_sys::Date::now() as u64))
}
