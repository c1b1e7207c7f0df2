//! The Workers adapter: the only module that touches wasm-bindgen, js-sys and web-sys.
//!
//! It reads the environment into plain values, keeps the isolate's state (parsed configuration,
//! caches), converts requests and responses, and exports the JavaScript API. Everything that
//! decides lives in the core; this module only carries values across the boundary, and converts
//! JavaScript errors into Rust ones (and Rust errors into `Error` objects whose `name` is the
//! Cognito exception).

mod bindings;
mod browser;
mod ports;

use std::{cell::RefCell, rc::Rc};

use js_sys::Reflect;
use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;

use crate::{
    app::{self, App, Io, Outcome},
    auth::Expect,
    claims::TokenUse,
    config::{BrokenConfig, Config, SETTING_NAMES},
    crypto::RustCrypto,
    error::{Error, Surface},
    http::{Request, Response},
    ops::{self, Caller, Ctx, Operation},
};
use bindings::{console_error, console_log, AssetsBinding};
use ports::{read_capped, Fetch, Kv, Limiter, ReadError};

/// Largest `POST /` body read, in bytes. Cognito requests are small; a larger body is refused
/// before it is read.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The configuration as parsed from the environment, or why it could not be.
type ParsedConfig = Rc<Result<Config, BrokenConfig>>;

/// What an isolate keeps: the parsed configuration (with the raw JS values it came from, so a
/// changed environment is noticed) and the core's caches.
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
fn isolate(env: &JsValue) -> (Rc<App>, ParsedConfig) {
    let raw = raw_settings(env);
    ISOLATE.with(|cell| {
        let Ok(mut isolate) = cell.try_borrow_mut() else {
            // Unreachable in practice (no borrow is held across an await); parse without caching.
            return (
                Rc::new(App::new()),
                Rc::new(Config::load(&to_settings(&raw))),
            );
        };
        let cached = match &isolate.config {
            Some((seen, config)) if same_settings(seen, &raw) => Some(config.clone()),
            _ => None,
        };
        let config = cached.unwrap_or_else(|| {
            let parsed = Rc::new(Config::load(&to_settings(&raw)));
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

/// What one call may use: the bindings, its id, its clock. The clock is read once, here.
struct Call {
    store: Kv,
    limiter: Limiter,
    request_id: String,
    now_ms: u64,
    log: Box<dyn Fn(&str)>,
}

impl Call {
    /// A call of the Worker's fetch handler (rate-limited when the binding exists).
    fn for_request(env: &JsValue) -> Self {
        let request_id = request_id();
        let tag = request_id.clone();
        Self {
            store: Kv::from_env(env),
            limiter: Limiter::from_env(env),
            request_id,
            now_ms: js_sys::Date::now() as u64,
            log: Box::new(move |line| console_log(&format!("edge-revoke [{tag}] {line}"))),
        }
    }

    /// A call of the JavaScript API by code in the same Worker (not rate-limited).
    fn for_api(env: &JsValue) -> Self {
        Self {
            limiter: Limiter::Unbound,
            ..Self::for_request(env)
        }
    }

    fn io(&self) -> Io<'_> {
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

/// Splits a request URL into path and query.
fn path_and_query(url: &str) -> (String, String) {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let from_path = after_scheme.find('/').map_or("/", |at| &after_scheme[at..]);
    let without_fragment = from_path.split('#').next().unwrap_or(from_path);
    match without_fragment.split_once('?') {
        Some((path, query)) => (path.to_owned(), query.to_owned()),
        None => (without_fragment.to_owned(), String::new()),
    }
}

fn headers_of(headers: &web_sys::Headers) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(headers) {
        for entry in iter.flatten() {
            let entry = js_sys::Array::from(&entry);
            if let (Some(name), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string())
            {
                pairs.push((name.to_ascii_lowercase(), value));
            }
        }
    }
    pairs
}

fn to_js_response(response: &Response) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &response.headers {
        headers.append(name, value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(response.status);
    init.set_headers(&headers);
    let mut body = response.body.clone();
    web_sys::Response::new_with_opt_u8_array_and_init(Some(&mut body), &init)
}

/// The `POST /` body, read chunk by chunk and refused as soon as it passes [`MAX_BODY_BYTES`]:
/// a declared length over the cap is refused unread, and a chunked body (no length) is never
/// buffered past the cap.
async fn read_body(request: &web_sys::Request) -> Result<Vec<u8>, Error> {
    let declared = request
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(Error::Api(crate::error::ApiError::PayloadTooLarge));
    }
    let Some(stream) = request.body() else {
        return Ok(Vec::new());
    };
    match read_capped(&stream, MAX_BODY_BYTES).await {
        Ok(bytes) => Ok(bytes),
        Err(ReadError::TooLarge) => Err(Error::Api(crate::error::ApiError::PayloadTooLarge)),
        Err(ReadError::Failed(why)) => Err(Error::Internal(format!("reading the body: {why}"))),
    }
}

/// Sends the original request upstream with the verified identity instead of any the client sent.
async fn forward(
    original: &web_sys::Request,
    url: &str,
    identity: &[(String, String)],
) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new_with_headers(&original.headers())?;
    for (name, _) in headers_of(&original.headers()) {
        if app::is_identity_header(&name) {
            headers.delete(&name)?;
        }
    }
    for (name, value) in identity {
        headers.set(name, value)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(&original.method());
    init.set_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if let Some(body) = original.body() {
        init.set_body(&body);
    }
    let upstream = web_sys::Request::new_with_str_and_init(url, &init)?;
    let promise = bindings::global_fetch(&upstream)?;
    JsFuture::from(promise).await?.dyn_into()
}

/// The upstream's response with `extra` headers added (its own headers are immutable).
fn with_headers(
    response: web_sys::Response,
    extra: &[(String, String)],
) -> Result<web_sys::Response, JsValue> {
    if extra.is_empty() {
        return Ok(response);
    }
    let headers = web_sys::Headers::new_with_headers(&response.headers())?;
    for (name, value) in extra {
        headers.append(name, value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(response.status());
    init.set_status_text(&response.status_text());
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_readable_stream_and_init(response.body().as_ref(), &init)
}

async fn serve_asset(
    env: &JsValue,
    request: &web_sys::Request,
) -> Result<web_sys::Response, JsValue> {
    match Reflect::get(env, &JsValue::from_str("ASSETS")) {
        Ok(assets) if assets.is_object() => {
            let assets: AssetsBinding = assets.unchecked_into();
            JsFuture::from(assets.fetch(request)?).await?.dyn_into()
        }
        _ => to_js_response(&Response::json(
            404,
            &serde_json::json!({"__type": "ResourceNotFoundException", "message": "Not found"}),
        )),
    }
}

/// The Worker's `fetch` handler.
#[wasm_bindgen(js_name = handleRequest)]
pub async fn handle_request(
    request: web_sys::Request,
    #[wasm_bindgen(unchecked_param_type = "EdgeRevokeEnv")] env: JsValue,
    _ctx: JsValue,
) -> Result<web_sys::Response, JsValue> {
    let call = Call::for_request(&env);
    let (app, config) = isolate(&env);
    let (path, query) = path_and_query(&request.url());
    let method = request.method();
    let mut plain = Request {
        method: method.clone(),
        path,
        query,
        headers: headers_of(&request.headers()),
        body: Vec::new(),
    };
    let route = app::route(config.as_ref().as_ref().ok(), &method, &plain.path);
    if route.needs_body() {
        match read_body(&request).await {
            Ok(body) => plain.body = body,
            Err(err) => {
                return to_js_response(
                    &Response::aws_error(&err, Surface::Api, "application/x-amz-json-1.1")
                        .with_header("x-amzn-requestid", call.request_id.as_str()),
                )
            }
        }
    }
    match app
        .handle(config.as_ref().as_ref(), &plain, &call.io())
        .await
    {
        Outcome::Respond(response) => to_js_response(&response),
        Outcome::Forward {
            url,
            identity,
            cors,
        } => with_headers(forward(&request, &url, &identity).await?, &cors),
        Outcome::Assets => {
            let extra: Vec<(String, String)> = app::ASSET_HEADERS
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect();
            with_headers(serve_asset(&env, &request).await?, &extra)
        }
    }
}

/// A Rust error as a JS `Error` whose `name` is the Cognito exception and whose `message` is
/// Cognito's text.
fn js_error(err: &Error) -> JsValue {
    let wire = err.wire(Surface::Api);
    // The JavaScript API answers code of the same Worker, which may read which setting is wrong
    // (HTTP callers are told only that the configuration is invalid).
    let message = match err {
        Error::Config(config) => format!("Configuration error: {config}"),
        _ => wire.message,
    };
    let error = js_sys::Error::new(&message);
    error.set_name(wire.error_type);
    error.into()
}

fn option_string(options: &JsValue, name: &str) -> Result<Option<String>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let value = Reflect::get(options, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| {
        let error = js_sys::TypeError::new(&format!("{name} must be a string"));
        error.into()
    })
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The Worker's environment: the bindings and settings edge-revoke reads. No index signature, so
 *  the `Env` interface `wrangler types` generates (with any other bindings) is assignable to it. */
export interface EdgeRevokeEnv {
  REVOCATIONS: { get: Function; put: Function; delete: Function };
  POOLS: string | object[];
  ADMIN_CREDENTIALS?: string | object[];
  SIGNING_KEYS?: string | object;
  ALLOWED_ORIGINS?: string;
  PROTECTED_PREFIXES?: string;
  ORIGIN_URL?: string;
  REVOCATION_CACHE_TTL_S?: string | number;
  KV_CACHE_TTL_S?: string | number;
  DEV_MODE?: string | boolean;
  RATE_LIMITER?: { limit(options: { key: string }): Promise<{ success: boolean }> };
  ASSETS?: { fetch(request: Request): Promise<Response> };
}
/** Options of verifyToken: which token kind and which app client to accept. */
export interface VerifyOptions { tokenUse?: "access" | "id"; clientId?: string }
/** A verified token's claims. */
export type Claims = { sub: string; iss: string; token_use: "access" | "id"; exp: number; iat: number; [claim: string]: unknown };
/** AdminUserGlobalSignOut's input. */
export interface GlobalSignOutInput { UserPoolId: string; Username: string }
/** RevokeToken's input. */
export interface RevokeTokenInput { Token: string; ClientId: string; ClientSecret?: string }
"#;

/// `verifyToken(env, token, { tokenUse?, clientId? })`: the verified claims of a token that is
/// not revoked, or a rejection with Cognito's exception name and message.
#[wasm_bindgen(js_name = verifyToken, unchecked_return_type = "Claims")]
pub async fn verify_token(
    #[wasm_bindgen(unchecked_param_type = "EdgeRevokeEnv")] env: JsValue,
    token: String,
    #[wasm_bindgen(unchecked_param_type = "VerifyOptions | undefined")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let (app, config) = isolate(&env);
    let config = config
        .as_ref()
        .as_ref()
        .map_err(|broken| js_error(&Error::Config(broken.error.clone())))?;
    let token_use = match option_string(&options, "tokenUse")?.as_deref() {
        None => None,
        Some(value) => Some(TokenUse::from_claim(value).ok_or_else(|| {
            JsValue::from(js_sys::TypeError::new(
                "tokenUse must be \"access\" or \"id\"",
            ))
        })?),
    };
    let client_id = option_string(&options, "clientId")?;
    let expect = Expect {
        token_use,
        client_id: client_id.as_deref(),
    };
    let call = Call::for_api(&env);
    let io = call.io();
    let caller = app
        .authorize(config, &token, &expect, &io)
        .await
        .map_err(|err| js_error(&err))?;
    to_js(&Value::Object(caller.auth().claims().all.clone()))
}

/// Runs a Cognito operation for trusted Worker code (no SigV4): same validation and errors.
async fn trusted_call(
    env: &JsValue,
    operation: Operation,
    input: JsValue,
) -> Result<JsValue, JsValue> {
    let (app, config) = isolate(env);
    let config = config
        .as_ref()
        .as_ref()
        .map_err(|broken| js_error(&Error::Config(broken.error.clone())))?;
    let body = match serde_wasm_bindgen::from_value::<Value>(input) {
        Ok(Value::Object(map)) => map,
        _ => return Err(js_sys::TypeError::new("the input must be an object").into()),
    };
    let call = Call::for_api(env);
    let io = call.io();
    let ctx = Ctx {
        app: &app,
        config,
        io: &io,
        caller: Caller::Trusted,
    };
    let output = ops::dispatch(operation, &body, &ctx)
        .await
        .map_err(|err| js_error(&err))?;
    to_js(&output)
}

/// `globalSignOut(env, { UserPoolId, Username })`: signs the user out of every session
/// (AdminUserGlobalSignOut without SigV4: the calling Worker is trusted).
#[wasm_bindgen(js_name = globalSignOut, unchecked_return_type = "{}")]
pub async fn global_sign_out(
    #[wasm_bindgen(unchecked_param_type = "EdgeRevokeEnv")] env: JsValue,
    #[wasm_bindgen(unchecked_param_type = "GlobalSignOutInput")] input: JsValue,
) -> Result<JsValue, JsValue> {
    trusted_call(&env, Operation::AdminUserGlobalSignOut, input).await
}

/// `revokeToken(env, { Token, ClientId, ClientSecret? })`: revokes one session by its refresh
/// token (local pools).
#[wasm_bindgen(js_name = revokeToken, unchecked_return_type = "{}")]
pub async fn revoke_token(
    #[wasm_bindgen(unchecked_param_type = "EdgeRevokeEnv")] env: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RevokeTokenInput")] input: JsValue,
) -> Result<JsValue, JsValue> {
    trusted_call(&env, Operation::RevokeToken, input).await
}

/// A JSON value as a plain JS value (objects, not Maps, so `claims.sub` works).
fn to_js(value: &Value) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))
}
