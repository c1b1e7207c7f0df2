//! The Worker's `fetch` handler as conversions: a Workers `Request` into a plain one (the URL
//! parsed by the platform's own `URL`, the body read only for the route that needs it, capped),
//! the core's [`Outcome`] back into a `Response`, a forwarded `fetch` or a static asset.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{
    bindings::{self, AssetsBinding},
    isolate::{isolate, Call},
    ports::{headers_of, read_capped, ReadError},
};
use crate::{
    app::{self, Outcome},
    error::{ApiError, Error, Surface},
    gate,
    http::{Request, Response},
};

/// Largest `POST /` body read, in bytes. Cognito requests are small; a larger body is refused
/// before it is read.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Answers one request: route it once, read its body if the route needs one, let the core
/// decide, then carry the decision out.
pub async fn handle(request: web_sys::Request, env: JsValue) -> Result<web_sys::Response, JsValue> {
    // One parse of the URL per request (the platform's `URL` is among a request's larger costs).
    let url = web_sys::Url::new(&request.url())?;
    let call = Call::for_host(&env, Some(&url.host()));
    let io = call.io();
    let (app, config) = isolate(&env);
    let config = config.as_ref().as_ref();
    let mut plain = Request {
        method: request.method(),
        headers: headers_of(&request.headers()),
        ..Request::default()
    };
    (plain.path, plain.query) = path_and_query(&url);
    let route = app::route(config.ok(), &plain.method, &plain.path);
    if route.needs_body() {
        match read_body(&request).await {
            Ok(body) => plain.body = body,
            Err(err) => return to_js_response(&app.refuse_unread(config, &plain, &err, &io)),
        }
    }
    match app.serve(route, config, &plain, &io).await {
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

/// The path (percent-encoded as received) and the query without `?`, from the platform's URL
/// parser: the same parse the runtime made of the request, so nothing is split by hand.
fn path_and_query(url: &web_sys::Url) -> (String, String) {
    let search = url.search();
    let query = search.strip_prefix('?').unwrap_or(&search).to_owned();
    (url.pathname(), query)
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
        return Err(ApiError::PayloadTooLarge.into());
    }
    let Some(stream) = request.body() else {
        return Ok(Vec::new());
    };
    match read_capped(&stream, MAX_BODY_BYTES).await {
        Ok(bytes) => Ok(bytes),
        Err(ReadError::TooLarge) => Err(ApiError::PayloadTooLarge.into()),
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
        if gate::is_identity_header(&name) {
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
        _ => to_js_response(&Response::aws_error(
            &Error::NotFound("Not found"),
            Surface::Api,
            "application/json",
        )),
    }
}
