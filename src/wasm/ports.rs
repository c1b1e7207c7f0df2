//! The core's ports over Workers bindings: KV, outbound fetch, the rate limiter.
//! JavaScript errors become Rust errors here and nowhere else.

use js_sys::{Array, Map, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::bindings::{global_fetch, BodyStream, KvNamespace, RateLimitBinding};
use crate::{
    error::StoreError,
    http::{CappedBody, TooLarge},
    ports::{
        key_for_log, scrub_keys, Fetcher, Inbound, KeyList, ListedKey, LocalFuture, Outbound,
        RateLimiter, Store,
    },
};

/// How long to wait before retrying a KV write refused for the per-key write rate, in ms.
const KV_RETRY_AFTER_MS: i32 = 1_100;

/// Resolves after `ms` (a timer inside a request, which Workers allow).
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let global = js_sys::global();
        if let Ok(set_timeout) = Reflect::get(&global, &JsValue::from_str("setTimeout")) {
            if let Ok(set_timeout) = set_timeout.dyn_into::<js_sys::Function>() {
                let _ = set_timeout.call2(&global, &resolve, &JsValue::from(ms));
                return;
            }
        }
        let _ = resolve.call0(&JsValue::UNDEFINED);
    });
    let _ = JsFuture::from(promise).await;
}

/// How long a JWKS fetch may take before it counts as failed, in ms.
const FETCH_TIMEOUT_MS: u32 = 3_000;

/// Why a capped read stopped.
pub enum ReadError {
    /// The body went past the cap; the stream was cancelled there.
    TooLarge,
    /// The stream failed (or was not a byte stream).
    Failed(String),
}

/// The headers of a request or a response, names in lower case.
pub fn headers_of(headers: &web_sys::Headers) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(headers) {
        for entry in iter.flatten() {
            let entry = Array::from(&entry);
            if let (Some(name), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string())
            {
                pairs.push((name.to_ascii_lowercase(), value));
            }
        }
    }
    pairs
}

/// An outbound call's answer body, at most `max_bytes`: one declared longer is refused unread
/// (its stream cancelled), one that runs longer is refused as soon as it passes the cap. `what`
/// names it in the refusal ("document", "answer").
async fn body_capped(
    response: &web_sys::Response,
    max_bytes: usize,
    what: &str,
) -> Result<Vec<u8>, String> {
    let too_large = || format!("{what} larger than {max_bytes} bytes");
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > max_bytes) {
        if let Some(stream) = response.body() {
            let _ = stream.cancel();
        }
        return Err(too_large());
    }
    match response.body() {
        None => Ok(Vec::new()),
        Some(stream) => match read_capped(&stream, max_bytes).await {
            Ok(bytes) => Ok(bytes),
            Err(ReadError::TooLarge) => Err(too_large()),
            Err(ReadError::Failed(why)) => Err(why),
        },
    }
}

/// Reads `stream` chunk by chunk into at most `cap` bytes. A chunk that would go past the cap is
/// never copied into wasm memory: the stream is cancelled and the read refused, however much
/// more the sender had (a chunked body declares no length up front).
pub async fn read_capped(
    stream: &web_sys::ReadableStream,
    cap: usize,
) -> Result<Vec<u8>, ReadError> {
    let failed = |e: JsValue| ReadError::Failed(describe(&e));
    let reader = stream
        .unchecked_ref::<BodyStream>()
        .get_reader()
        .map_err(failed)?;
    let mut body = CappedBody::new(cap);
    loop {
        let step = JsFuture::from(reader.read().map_err(failed)?)
            .await
            .map_err(failed)?;
        if Reflect::get(&step, &JsValue::from_str("done"))
            .map_err(failed)?
            .as_bool()
            .unwrap_or(true)
        {
            return Ok(body.into_bytes());
        }
        let chunk: Uint8Array = Reflect::get(&step, &JsValue::from_str("value"))
            .map_err(failed)?
            .dyn_into()
            .map_err(|_| ReadError::Failed("a body chunk was not a Uint8Array".into()))?;
        let room = match body.reserve_chunk(chunk.length() as usize) {
            Ok(room) => room,
            Err(TooLarge) => {
                // Stop the transfer; a failure to cancel changes nothing about the answer.
                if let Ok(promise) = reader.cancel() {
                    let _ = JsFuture::from(promise).await;
                }
                return Err(ReadError::TooLarge);
            }
        };
        chunk.copy_to(room);
    }
}

/// A JS exception as text for the log.
pub fn describe(err: &JsValue) -> String {
    if let Some(err) = err.dyn_ref::<js_sys::Error>() {
        return format!(
            "{}: {}",
            String::from(err.name()),
            String::from(err.message())
        );
    }
    err.as_string().unwrap_or_else(|| format!("{err:?}"))
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object.into()
}

/// `env.REVOCATIONS`, or a stand-in that fails every call when the binding is missing, so a
/// missing binding fails closed instead of looking like an empty list.
pub enum Kv {
    /// The binding.
    Bound(KvNamespace),
    /// No binding named REVOCATIONS.
    Missing,
}

impl Kv {
    /// Reads the binding from `env`.
    pub fn from_env(env: &JsValue) -> Self {
        let value = super::bindings::get_named(env, "REVOCATIONS");
        if value.is_object() {
            Kv::Bound(value.unchecked_into())
        } else {
            Kv::Missing
        }
    }
}

const MISSING: &str = "no KV binding named REVOCATIONS";

impl Store for Kv {
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
        cache_ttl_s: Option<u64>,
    ) -> LocalFuture<'a, Result<Vec<Option<String>>, StoreError>> {
        Box::pin(async move {
            let Kv::Bound(kv) = self else {
                return Err(StoreError::Read(MISSING.into()));
            };
            let list: Array = keys.iter().map(|k| JsValue::from_str(k)).collect();
            let mut opts = vec![("type", JsValue::from_str("text"))];
            if let Some(ttl) = cache_ttl_s {
                opts.push(("cacheTtl", JsValue::from_f64(ttl as f64)));
            }
            // Keys hold usernames and emails: the log gets their kind and a hash only.
            let failed = |e: JsValue| {
                StoreError::Read(scrub_keys(&describe(&e), keys.iter().map(String::as_str)))
            };
            let promise = kv.get_bulk(&list, &options(&opts)).map_err(failed)?;
            let result = JsFuture::from(promise).await.map_err(failed)?;
            let map: Map = result
                .dyn_into()
                .map_err(|_| StoreError::Read("bulk get did not answer a Map".into()))?;
            keys.iter()
                .map(|key| {
                    let key_js = JsValue::from_str(key);
                    // A well-behaved binding answers every key asked for; a missing one means
                    // the answer cannot be trusted, not that the key is absent.
                    if !map.has(&key_js) {
                        return Err(StoreError::Read(format!(
                            "bulk get answered without {}",
                            key_for_log(key)
                        )));
                    }
                    let value = map.get(&key_js);
                    if value.is_null() || value.is_undefined() {
                        Ok(None)
                    } else {
                        value.as_string().map(Some).ok_or_else(|| {
                            StoreError::Corrupt(format!("{}: not text", key_for_log(key)))
                        })
                    }
                })
                .collect()
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl_s: Option<u64>,
    ) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let Kv::Bound(kv) = self else {
                return Err(StoreError::Write(MISSING.into()));
            };
            let opts = match ttl_s {
                Some(ttl) => options(&[("expirationTtl", JsValue::from_f64(ttl as f64))]),
                None => options(&[]),
            };
            let mut attempt = 0;
            loop {
                attempt += 1;
                let outcome = match kv.put(key, value, &opts) {
                    Ok(promise) => JsFuture::from(promise).await.map(|_| ()),
                    Err(err) => Err(err),
                };
                match outcome {
                    Ok(()) => return Ok(()),
                    // KV allows one write per second per key: wait it out once, as SDKs retry.
                    Err(err) if attempt == 1 && describe(&err).contains("429") => {
                        sleep_ms(KV_RETRY_AFTER_MS).await;
                    }
                    Err(err) => return Err(StoreError::Write(scrub_keys(&describe(&err), [key]))),
                }
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let Kv::Bound(kv) = self else {
                return Err(StoreError::Write(MISSING.into()));
            };
            let failed = |e: JsValue| StoreError::Write(scrub_keys(&describe(&e), [key]));
            let promise = kv.delete(key).map_err(failed)?;
            JsFuture::from(promise).await.map(|_| ()).map_err(failed)
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> LocalFuture<'a, Result<KeyList, StoreError>> {
        Box::pin(async move {
            let Kv::Bound(kv) = self else {
                return Err(StoreError::Read(MISSING.into()));
            };
            let failed = |e: JsValue| StoreError::Read(scrub_keys(&describe(&e), [prefix]));
            let mut opts = vec![
                ("prefix", JsValue::from_str(prefix)),
                ("limit", JsValue::from_f64(limit as f64)),
            ];
            if let Some(cursor) = cursor {
                opts.push(("cursor", JsValue::from_str(cursor)));
            }
            let promise = kv.list(&options(&opts)).map_err(failed)?;
            let result = JsFuture::from(promise).await.map_err(failed)?;
            let not_a_list =
                || StoreError::Read("list did not answer {keys, list_complete}".into());
            let keys: Array = Reflect::get(&result, &JsValue::from_str("keys"))
                .map_err(|_| not_a_list())?
                .dyn_into()
                .map_err(|_| not_a_list())?;
            let complete = Reflect::get(&result, &JsValue::from_str("list_complete"))
                .map_err(|_| not_a_list())?
                .as_bool()
                .ok_or_else(not_a_list)?;
            let mut listed = Vec::with_capacity(keys.length() as usize);
            for key in keys.iter() {
                let name = Reflect::get(&key, &JsValue::from_str("name"))
                    .ok()
                    .and_then(|name| name.as_string())
                    .ok_or_else(not_a_list)?;
                // A key outside the prefix, or more keys than asked for: not an answer to trust.
                if !name.starts_with(prefix) || listed.len() >= limit {
                    return Err(not_a_list());
                }
                let expiration_s = Reflect::get(&key, &JsValue::from_str("expiration"))
                    .ok()
                    .and_then(|at| at.as_f64())
                    .filter(|at| at.is_finite() && *at >= 0.0)
                    .map(|at| at as u64);
                listed.push(ListedKey { name, expiration_s });
            }
            // Not complete: the next page's cursor, which must be there.
            let cursor = if complete {
                None
            } else {
                Some(
                    Reflect::get(&result, &JsValue::from_str("cursor"))
                        .ok()
                        .and_then(|c| c.as_string())
                        .filter(|c| !c.is_empty())
                        .ok_or_else(not_a_list)?,
                )
            };
            Ok(KeyList {
                keys: listed,
                complete,
                cursor,
            })
        })
    }
}

/// Outbound GET through the global `fetch`, with a timeout, no redirects and a size cap.
pub struct Fetch;

impl Fetcher for Fetch {
    fn pause(&self, ms: u32) -> LocalFuture<'_, ()> {
        Box::pin(sleep_ms(i32::try_from(ms).unwrap_or(i32::MAX)))
    }

    fn get_text<'a>(
        &'a self,
        url: &'a str,
        max_bytes: usize,
    ) -> LocalFuture<'a, Result<(u16, String), String>> {
        Box::pin(async move {
            let init = web_sys::RequestInit::new();
            init.set_method("GET");
            // A redirect is answered as it is (a 3xx), never followed: the URL checked against
            // the https rule at config load must be the one whose answer is trusted.
            init.set_redirect(web_sys::RequestRedirect::Manual);
            init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
                FETCH_TIMEOUT_MS,
            )));
            let request =
                web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| describe(&e))?;
            let promise = global_fetch(&request).map_err(|e| describe(&e))?;
            let response: web_sys::Response = JsFuture::from(promise)
                .await
                .map_err(|e| describe(&e))?
                .dyn_into()
                .map_err(|_| "fetch did not answer a Response".to_owned())?;
            let status = response.status();
            if (300..400).contains(&status) {
                return Err(format!("HTTP {status}: redirects are not followed"));
            }
            let bytes = body_capped(&response, max_bytes, "document").await?;
            let text = String::from_utf8(bytes).map_err(|_| "document is not UTF-8".to_owned())?;
            Ok((status, text))
        })
    }

    fn post<'a>(
        &'a self,
        request: &'a Outbound,
        max_bytes: usize,
        timeout_ms: u32,
    ) -> LocalFuture<'a, Result<Inbound, String>> {
        Box::pin(async move {
            let headers = web_sys::Headers::new().map_err(|e| describe(&e))?;
            for (name, value) in &request.headers {
                headers.append(name, value).map_err(|e| describe(&e))?;
            }
            let init = web_sys::RequestInit::new();
            init.set_method("POST");
            init.set_headers(&headers);
            // Never followed: the configured upstream is the only place a call may go.
            init.set_redirect(web_sys::RequestRedirect::Manual);
            init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(timeout_ms)));
            init.set_body(&Uint8Array::from(request.body.as_slice()).into());
            let outbound = web_sys::Request::new_with_str_and_init(&request.url, &init)
                .map_err(|e| describe(&e))?;
            let promise = global_fetch(&outbound).map_err(|e| describe(&e))?;
            let response: web_sys::Response = JsFuture::from(promise)
                .await
                .map_err(|e| describe(&e))?
                .dyn_into()
                .map_err(|_| "fetch did not answer a Response".to_owned())?;
            let status = response.status();
            let pairs = headers_of(&response.headers());
            let body = body_capped(&response, max_bytes, "answer").await?;
            Ok(Inbound {
                status,
                headers: pairs,
                body,
            })
        })
    }
}

/// `env.RATE_LIMITER`, or no limit when the binding is absent.
pub enum Limiter {
    /// The binding.
    Bound(RateLimitBinding),
    /// No binding: every request is allowed.
    Unbound,
}

impl Limiter {
    /// Reads the binding from `env`.
    pub fn from_env(env: &JsValue) -> Self {
        let value = super::bindings::get_named(env, "RATE_LIMITER");
        if value.is_object() {
            Limiter::Bound(value.unchecked_into())
        } else {
            Limiter::Unbound
        }
    }
}

impl RateLimiter for Limiter {
    fn allow<'a>(&'a self, key: &'a str) -> LocalFuture<'a, bool> {
        Box::pin(async move {
            let Limiter::Bound(binding) = self else {
                return true;
            };
            let outcome = match binding.limit(&options(&[("key", JsValue::from_str(key))])) {
                Ok(promise) => JsFuture::from(promise).await,
                Err(err) => Err(err),
            };
            match outcome {
                Ok(result) => Reflect::get(&result, &JsValue::from_str("success"))
                    .map(|v| v.as_bool() != Some(false))
                    .unwrap_or(true),
                // The limiter is a guard against abuse, not a source of truth: if it fails,
                // serve the request rather than refuse every caller.
                Err(err) => {
                    super::bindings::console_error(&format!(
                        "rate limiter failed: {}",
                        describe(&err)
                    ));
                    true
                }
            }
        })
    }
}
