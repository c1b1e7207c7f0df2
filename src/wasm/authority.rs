//! The revocation authority as a Worker reaches it: the Durable Object behind
//! `REVOCATION_AUTHORITY` ([`DurableLink`]) and the location's shared copy of its feed in the
//! Cache API ([`CacheShare`]). The object's own side is `ledger`. What is decided is decided in
//! `revocation::authority`; this file carries values across.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;

use super::{
    bindings::{DurableObjectNamespace, DurableObjectStub, WorkersCache},
    ports::{describe, read_capped, sleep_ms, ReadError},
};
use crate::{
    ports::LocalFuture,
    revocation::authority::{self, AuthorityLink, FeedShare, Slot},
};

/// The name of the one authority object (`idFromName`).
pub const AUTHORITY_NAME: &str = "edge-revoke/revocations/v1";
/// How long a call to the authority may take before it counts as failed, in ms.
const CALL_TIMEOUT_MS: i32 = authority::CALL_TIMEOUT_MS as i32;
/// Largest answer of the authority a Worker reads, in bytes: a revocation filter base of the
/// largest size built (`MAX_BASE_BYTES`, 32 MB) as base64 text, with room to spare.
const MAX_ANSWER_BYTES: usize = 48 * 1024 * 1024;

/// `env.REVOCATION_AUTHORITY`, if it is bound: the stub of the one authority object and the
/// cache key of the location's shared copy of its feed (per object, so two deployments in one
/// zone never read each other's copy).
pub fn from_env(env: &JsValue, host: Option<&str>) -> Option<(DurableLink, CacheShare)> {
    let namespace = Reflect::get(env, &JsValue::from_str("REVOCATION_AUTHORITY")).ok()?;
    if !namespace.is_object() {
        return None;
    }
    let namespace: DurableObjectNamespace = namespace.unchecked_into();
    // A binding that cannot give its object is bound all the same: every call fails, so the
    // isolate runs degraded (and says so) instead of as if no authority were configured.
    let id = namespace
        .id_from_name(AUTHORITY_NAME)
        .map_err(|e| describe(&e));
    let id_text = id.as_ref().ok().and_then(|id| {
        id.as_string().or_else(|| {
            Reflect::get(id, &JsValue::from_str("toString"))
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
                .and_then(|f| f.call0(id).ok())
                .and_then(|v| v.as_string())
        })
    });
    let stub = id.and_then(|id| namespace.get(&id).map_err(|e| describe(&e)));
    let host = host.unwrap_or("edge-revoke.internal");
    let url = format!(
        "https://{host}/.edge-revoke/revocation-feed/{}",
        id_text.unwrap_or_else(|| AUTHORITY_NAME.replace('/', "-"))
    );
    Some((DurableLink { stub }, CacheShare { url }))
}

/// The authority's stub.
pub struct DurableLink {
    stub: Result<DurableObjectStub, String>,
}

/// Rejects after `ms`: raced against a call, so a hanging authority costs a request at most that.
fn timeout(ms: i32) -> Promise {
    Promise::new(&mut |_resolve, reject| {
        let global = js_sys::global();
        let fire = Closure::once_into_js(move || {
            let _ = reject.call1(
                &JsValue::UNDEFINED,
                &js_sys::Error::new("the revocation authority did not answer in time").into(),
            );
        });
        if let Ok(set_timeout) = Reflect::get(&global, &JsValue::from_str("setTimeout")) {
            if let Ok(set_timeout) = set_timeout.dyn_into::<Function>() {
                let _ = set_timeout.call2(&global, &fire, &JsValue::from(ms));
            }
        }
    })
}

impl AuthorityLink for DurableLink {
    fn call<'a>(
        &'a self,
        method: &'a str,
        path: &'a str,
        body: Option<&'a str>,
    ) -> LocalFuture<'a, Result<(u16, String), String>> {
        Box::pin(async move {
            let init = Object::new();
            let _ = Reflect::set(&init, &"method".into(), &JsValue::from_str(method));
            if let Some(body) = body {
                let _ = Reflect::set(&init, &"body".into(), &JsValue::from_str(body));
                let headers = Object::new();
                let _ = Reflect::set(&headers, &"content-type".into(), &"application/json".into());
                let _ = Reflect::set(&init, &"headers".into(), &headers);
            }
            let url = format!("https://revocation-authority{path}");
            let stub = self.stub.as_ref().map_err(|why| {
                format!("the REVOCATION_AUTHORITY binding gives no object ({why})")
            })?;
            let call = stub.fetch(&url, &init).map_err(|e| describe(&e))?;
            let raced = Promise::race(&Array::of2(&call, &timeout(CALL_TIMEOUT_MS)));
            let response: web_sys::Response = JsFuture::from(raced)
                .await
                .map_err(|e| describe(&e))?
                .dyn_into()
                .map_err(|_| "the authority did not answer a Response".to_owned())?;
            let status = response.status();
            let text = match response.body() {
                None => String::new(),
                Some(stream) => match read_capped(&stream, MAX_ANSWER_BYTES).await {
                    Ok(bytes) => String::from_utf8(bytes)
                        .map_err(|_| "the authority's answer is not UTF-8".to_owned())?,
                    Err(ReadError::TooLarge) => {
                        return Err("the authority's answer is too large".into())
                    }
                    Err(ReadError::Failed(why)) => return Err(why),
                },
            };
            Ok((status, text))
        })
    }
}

/// What the location shares about the feed, in `caches.default`: the copy under one URL, who is
/// refreshing it under another.
pub struct CacheShare {
    url: String,
}

impl CacheShare {
    fn url(&self, slot: Slot) -> String {
        match slot {
            Slot::Copy => format!("{}/copy", self.url),
            Slot::Refresh => format!("{}/refresh", self.url),
            Slot::Filter => format!("{}/filter", self.url),
            Slot::FilterFetch => format!("{}/filter-fetch", self.url),
        }
    }
}

fn default_cache() -> Result<WorkersCache, String> {
    let caches =
        Reflect::get(&js_sys::global(), &JsValue::from_str("caches")).map_err(|e| describe(&e))?;
    let cache = Reflect::get(&caches, &JsValue::from_str("default")).map_err(|e| describe(&e))?;
    if cache.is_object() {
        Ok(cache.unchecked_into())
    } else {
        Err("no Cache API here".into())
    }
}

impl FeedShare for CacheShare {
    fn load(&self, slot: Slot) -> LocalFuture<'_, Result<Option<String>, String>> {
        Box::pin(async move {
            let cache = default_cache()?;
            let found = JsFuture::from(cache.match_url(&self.url(slot)).map_err(|e| describe(&e))?)
                .await
                .map_err(|e| describe(&e))?;
            if found.is_undefined() || found.is_null() {
                return Ok(None);
            }
            let response: web_sys::Response = found
                .dyn_into()
                .map_err(|_| "the cache did not answer a Response".to_owned())?;
            let text = JsFuture::from(response.text().map_err(|e| describe(&e))?)
                .await
                .map_err(|e| describe(&e))?;
            Ok(text.as_string())
        })
    }

    fn store<'a>(
        &'a self,
        slot: Slot,
        text: &'a str,
        max_age_s: u64,
    ) -> LocalFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let cache = default_cache()?;
            let init = web_sys::ResponseInit::new();
            let headers = web_sys::Headers::new().map_err(|e| describe(&e))?;
            headers
                .set("content-type", "application/json")
                .map_err(|e| describe(&e))?;
            headers
                .set("cache-control", &format!("max-age={}", max_age_s.max(1)))
                .map_err(|e| describe(&e))?;
            init.set_headers(&headers);
            let response = web_sys::Response::new_with_opt_str_and_init(Some(text), &init)
                .map_err(|e| describe(&e))?;
            JsFuture::from(
                cache
                    .put(&self.url(slot), &response)
                    .map_err(|e| describe(&e))?,
            )
            .await
            .map_err(|e| describe(&e))?;
            Ok(())
        })
    }

    fn wait(&self, ms: u64) -> LocalFuture<'_, ()> {
        Box::pin(sleep_ms(i32::try_from(ms).unwrap_or(i32::MAX)))
    }
}
