//! Raw JavaScript declarations: the Workers bindings as duck types, so any object with the right
//! methods works (a plain JS object stands in for KV in fault-injection tests).

use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A Workers KV namespace binding (`env.REVOCATIONS`).
    pub type KvNamespace;

    /// `get(keys[], {type, cacheTtl})` → `Promise<Map<string, string | null>>`.
    #[wasm_bindgen(method, catch, js_name = get)]
    pub fn get_bulk(
        this: &KvNamespace,
        keys: &js_sys::Array,
        options: &JsValue,
    ) -> Result<Promise, JsValue>;

    /// `put(key, value, {expirationTtl})` → `Promise<void>`.
    #[wasm_bindgen(method, catch)]
    pub fn put(
        this: &KvNamespace,
        key: &str,
        value: &str,
        options: &JsValue,
    ) -> Result<Promise, JsValue>;

    /// `delete(key)` → `Promise<void>`.
    #[wasm_bindgen(method, catch)]
    pub fn delete(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;

    /// `list({prefix, limit, cursor?})` → `Promise<{keys: {name, expiration?}[], list_complete, cursor?}>`.
    #[wasm_bindgen(method, catch)]
    pub fn list(this: &KvNamespace, options: &JsValue) -> Result<Promise, JsValue>;

    /// A Rate Limiting binding (`env.RATE_LIMITER`).
    pub type RateLimitBinding;

    /// `limit({key})` → `Promise<{success: boolean}>`.
    #[wasm_bindgen(method, catch)]
    pub fn limit(this: &RateLimitBinding, options: &JsValue) -> Result<Promise, JsValue>;

    /// The static-assets binding (`env.ASSETS`).
    pub type AssetsBinding;

    /// `fetch(request)` → `Promise<Response>`.
    #[wasm_bindgen(method, catch)]
    pub fn fetch(this: &AssetsBinding, request: &web_sys::Request) -> Result<Promise, JsValue>;

    /// A `ReadableStreamDefaultReader` (a request's or response's body, read chunk by chunk).
    pub type BodyReader;

    /// A `ReadableStream`, with the one method used here declared to catch (a locked or
    /// disturbed stream throws), so a JS exception becomes a Rust error.
    pub type BodyStream;

    /// `getReader()`.
    #[wasm_bindgen(method, catch, js_name = getReader)]
    pub fn get_reader(this: &BodyStream) -> Result<BodyReader, JsValue>;

    /// `read()` → `Promise<{done, value: Uint8Array}>`.
    #[wasm_bindgen(method, catch)]
    pub fn read(this: &BodyReader) -> Result<Promise, JsValue>;

    /// `cancel()` → `Promise<void>`: stops the stream, so the rest is never transferred.
    #[wasm_bindgen(method, catch)]
    pub fn cancel(this: &BodyReader) -> Result<Promise, JsValue>;

    /// The global `fetch`.
    #[wasm_bindgen(catch, js_name = fetch)]
    pub fn global_fetch(request: &web_sys::Request) -> Result<Promise, JsValue>;

    /// WebCrypto's `SubtleCrypto` (`crypto.subtle`, in Workers and secure browser contexts).
    #[derive(Clone)]
    pub type SubtleCrypto;

    /// `crypto.subtle`, read once per isolate, at first use (never at module load).
    #[wasm_bindgen(thread_local_v2, js_namespace = crypto, js_name = subtle)]
    pub static SUBTLE: Option<SubtleCrypto>;

    /// `importKey(format, keyData, algorithm, extractable, usages)` → `Promise<CryptoKey>`.
    #[wasm_bindgen(method, catch, js_name = importKey)]
    pub fn import_key(
        this: &SubtleCrypto,
        format: &str,
        key_data: &JsValue,
        algorithm: &JsValue,
        extractable: bool,
        usages: &js_sys::Array,
    ) -> Result<Promise, JsValue>;

    /// `verify(algorithm, key, signature, data)` → `Promise<boolean>`.
    #[wasm_bindgen(method, catch)]
    pub fn verify(
        this: &SubtleCrypto,
        algorithm: &JsValue,
        key: &JsValue,
        signature: &js_sys::Uint8Array,
        data: &js_sys::Uint8Array,
    ) -> Result<Promise, JsValue>;

    /// `sign(algorithm, key, data)` → `Promise<ArrayBuffer>`.
    #[wasm_bindgen(method, catch)]
    pub fn sign(
        this: &SubtleCrypto,
        algorithm: &JsValue,
        key: &JsValue,
        data: &js_sys::Uint8Array,
    ) -> Result<Promise, JsValue>;

    /// `deriveBits(algorithm, baseKey, length)` → `Promise<ArrayBuffer>`.
    #[wasm_bindgen(method, catch, js_name = deriveBits)]
    pub fn derive_bits(
        this: &SubtleCrypto,
        algorithm: &JsValue,
        base_key: &JsValue,
        length: u32,
    ) -> Result<Promise, JsValue>;

    /// `deriveKey(algorithm, baseKey, derivedKeyType, extractable, usages)` → `Promise<CryptoKey>`.
    #[wasm_bindgen(method, catch, js_name = deriveKey)]
    pub fn derive_key(
        this: &SubtleCrypto,
        algorithm: &JsValue,
        base_key: &JsValue,
        derived_key_type: &JsValue,
        extractable: bool,
        usages: &js_sys::Array,
    ) -> Result<Promise, JsValue>;

    /// `encrypt(algorithm, key, data)` → `Promise<ArrayBuffer>`.
    #[wasm_bindgen(method, catch)]
    pub fn encrypt(
        this: &SubtleCrypto,
        algorithm: &JsValue,
        key: &JsValue,
        data: &js_sys::Uint8Array,
    ) -> Result<Promise, JsValue>;

    /// `decrypt(algorithm, key, data)` → `Promise<ArrayBuffer>`.
    #[wasm_bindgen(method, catch)]
    pub fn decrypt(
        this: &SubtleCrypto,
        algorithm: &JsValue,
        key: &JsValue,
        data: &js_sys::Uint8Array,
    ) -> Result<Promise, JsValue>;

    /// `console.log` / `console.error`.
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    pub fn console_log(message: &str);
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub fn console_error(message: &str);
}

#[wasm_bindgen]
extern "C" {
    /// A Durable Object namespace binding (`env.REVOCATION_AUTHORITY`).
    pub type DurableObjectNamespace;

    /// `idFromName(name)` → a `DurableObjectId`.
    #[wasm_bindgen(method, catch, js_name = idFromName)]
    pub fn id_from_name(this: &DurableObjectNamespace, name: &str) -> Result<JsValue, JsValue>;

    /// `get(id)` → a stub.
    #[wasm_bindgen(method, catch)]
    pub fn get(this: &DurableObjectNamespace, id: &JsValue) -> Result<DurableObjectStub, JsValue>;

    /// A Durable Object stub.
    pub type DurableObjectStub;

    /// `fetch(url, init)` → `Promise<Response>`.
    #[wasm_bindgen(method, catch)]
    pub fn fetch(this: &DurableObjectStub, url: &str, init: &JsValue) -> Result<Promise, JsValue>;

    /// A Cache API cache (`caches.default`).
    pub type WorkersCache;

    /// `match(url)` → `Promise<Response | undefined>`.
    #[wasm_bindgen(method, catch, js_name = match)]
    pub fn match_url(this: &WorkersCache, url: &str) -> Result<Promise, JsValue>;

    /// `put(url, response)` → `Promise<void>`.
    #[wasm_bindgen(method, catch)]
    pub fn put(
        this: &WorkersCache,
        url: &str,
        response: &web_sys::Response,
    ) -> Result<Promise, JsValue>;

    /// A SQLite-backed Durable Object's `ctx.storage.sql`.
    pub type SqlStorage;

    /// `exec(query, ...bindings)` → a cursor; called through `Function.apply` for the bindings.
    #[wasm_bindgen(method, getter)]
    pub fn exec(this: &SqlStorage) -> JsValue;

    /// A cursor of `exec`.
    pub type SqlCursor;

    /// `toArray()` → the rows, as objects.
    #[wasm_bindgen(method, catch, js_name = toArray)]
    pub fn to_array(this: &SqlCursor) -> Result<js_sys::Array, JsValue>;
}

thread_local! {
    /// Property names read on every call (settings, bindings, options), each as a JS string made
    /// once per isolate.
    static NAMES: core::cell::RefCell<Vec<(&'static str, JsValue)>> =
        const { core::cell::RefCell::new(Vec::new()) };
}

/// `target[name]` (`undefined` if reading it throws). `name`'s JS string is made once per
/// isolate: a call reads some twenty such names, and making each anew cost a string decode and
/// a boundary crossing apiece on the hot path of a cached `verifyToken`.
pub fn get_named(target: &JsValue, name: &'static str) -> JsValue {
    NAMES.with(|names| {
        let Ok(mut names) = names.try_borrow_mut() else {
            return js_sys::Reflect::get(target, &JsValue::from_str(name))
                .unwrap_or(JsValue::UNDEFINED);
        };
        let index = match names.iter().position(|(known, _)| *known == name) {
            Some(index) => index,
            None => {
                names.push((name, JsValue::from_str(name)));
                names.len() - 1
            }
        };
        names.get(index).map_or(JsValue::UNDEFINED, |(_, key)| {
            js_sys::Reflect::get(target, key).unwrap_or(JsValue::UNDEFINED)
        })
    })
}
