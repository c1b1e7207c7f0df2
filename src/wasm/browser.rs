//! Exports that need no KV, for browsers (and any JavaScript): decode a token, check its
//! signature against a JWKS (on the browser's WebCrypto, so it answers a promise), sign an AWS
//! request with SigV4.

use js_sys::{Object, Reflect};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use super::{
    exports::{js_error, to_js},
    webcrypto::WebCrypto,
};
use crate::{
    alg::{Alg, AlgSet},
    error::ApiError,
    jwk::{BadKeys, KeySet},
    sigv4::{self, RequestParts},
    token::UntrustedToken,
};

#[wasm_bindgen(typescript_custom_section)]
const BROWSER_TYPES: &'static str = r#"
/** A token split and decoded, nothing verified. */
export interface DecodedToken { header: Record<string, unknown>; payload: Record<string, unknown> | null; signatureBytes: number }
/** The outcome of checking a token's signature against a JWKS. */
export interface SignatureCheck { valid: boolean; alg?: string; kid?: string; reason?: string }
/** What signRequest signs. */
export interface SignRequestInput {
  method: string; url: string; headers?: Record<string, string>; body?: string;
  accessKeyId: string; secretAccessKey: string; sessionToken?: string;
  region: string; service?: string; amzDate?: string;
}
"#;

/// Cognito's InvalidParameterException, as a JS error (worded by `Error::wire`).
fn invalid(message: impl Into<String>) -> JsValue {
    js_error(&ApiError::InvalidParameter(message.into()).into())
}

/// `decodeToken(token)`: the header and payload of a compact JWS, decoded but NOT verified.
#[wasm_bindgen(js_name = decodeToken, unchecked_return_type = "DecodedToken")]
pub fn decode_token(token: &str) -> Result<JsValue, JsValue> {
    let parsed = UntrustedToken::parse(token).map_err(|err| invalid(err.to_string()))?;
    let payload = parsed
        .claims_unverified()
        .map(Value::Object)
        .unwrap_or(Value::Null);
    to_js(&json!({
        "header": Value::Object(parsed.header().all().clone()),
        "payload": payload,
        "signatureBytes": parsed.signature_len(),
    }))
}

/// `verifySignature(token, jwks)`: whether the token's signature verifies with a key of `jwks`
/// (chosen by `kid`; each key bound to its own `alg`), checked by WebCrypto after the same Rust
/// checks as the Worker's. Claims are not checked. Answers a promise.
#[wasm_bindgen(js_name = verifySignature, unchecked_return_type = "SignatureCheck")]
pub async fn verify_signature(
    token: String,
    #[wasm_bindgen(unchecked_param_type = "{ keys: object[] } | string")] jwks: JsValue,
) -> Result<JsValue, JsValue> {
    let set: Value = match jwks.as_string() {
        Some(text) => {
            crate::json::parse_value(text.as_bytes()).map_err(|e| invalid(format!("jwks: {e}")))?
        }
        None => serde_wasm_bindgen::from_value(jwks).map_err(|e| invalid(format!("jwks: {e}")))?,
    };
    let mut allowed = AlgSet::empty();
    for alg in Alg::ALL {
        allowed.insert(alg);
    }
    let outcome = async {
        let parsed = UntrustedToken::parse(&token)?;
        let keys = KeySet::parse(&set, allowed, BadKeys::Skip, &mut Vec::new())
            .map_err(|_| crate::error::TokenError::UnknownKey)?;
        parsed
            .verify_signature_async(&keys, allowed, &WebCrypto)
            .await
            .map(|valid| (valid.key().alg(), valid.key().kid().map(str::to_owned)))
    }
    .await;
    to_js(&match outcome {
        Ok((alg, kid)) => json!({"valid": true, "alg": alg.name(), "kid": kid}),
        Err(reason) => json!({"valid": false, "reason": reason.to_string()}),
    })
}

/// `signRequest({method, url, headers, body, accessKeyId, secretAccessKey, region, service?})`:
/// the headers to add (`x-amz-date`, `authorization`, …) to send the request SigV4-signed.
#[wasm_bindgen(js_name = signRequest, unchecked_return_type = "Record<string, string>")]
pub fn sign_request(
    #[wasm_bindgen(unchecked_param_type = "SignRequestInput")] input: JsValue,
) -> Result<JsValue, JsValue> {
    let field = |name: &str| {
        Reflect::get(&input, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
    };
    let required = |name: &str| field(name).ok_or_else(|| invalid(format!("{name} is required")));
    let method = required("method")?;
    let url = required("url")?;
    let (host, path, query) = split_url(&url).ok_or_else(|| invalid("url must be absolute"))?;
    let mut headers = vec![("host".to_owned(), host)];
    if let Ok(given) = Reflect::get(&input, &JsValue::from_str("headers")) {
        if given.is_object() {
            let given_object: &Object = given.unchecked_ref();
            for key in Object::keys(given_object).iter() {
                if let (Some(name), Some(value)) = (
                    key.as_string(),
                    Reflect::get(&given, &key).ok().and_then(|v| v.as_string()),
                ) {
                    if !name.eq_ignore_ascii_case("host") {
                        headers.push((name.to_ascii_lowercase(), value));
                    }
                }
            }
        }
    }
    let body = field("body").unwrap_or_default();
    let amz_date =
        field("amzDate").unwrap_or_else(|| sigv4::format_amz_date(js_sys::Date::now() as u64));
    let parts = RequestParts {
        method: &method,
        path: &path,
        query: &query,
        headers: &headers,
        body: body.as_bytes(),
    };
    let signed = sigv4::sign(
        &parts,
        &required("accessKeyId")?,
        &required("secretAccessKey")?,
        &required("region")?,
        &field("service").unwrap_or_else(|| "cognito-idp".into()),
        &amz_date,
        field("sessionToken").as_deref(),
        false,
    )
    .map_err(|e| js_error(&e.into()))?;
    let out = Object::new();
    for (name, value) in signed {
        Reflect::set(&out, &JsValue::from_str(&name), &JsValue::from_str(&value))?;
    }
    Ok(out.into())
}

/// Host, path and query of an absolute URL.
fn split_url(url: &str) -> Option<(String, String, String)> {
    let (_, rest) = url.split_once("://")?;
    let (authority, path_query) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let path_query = path_query.split('#').next().unwrap_or("/");
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    (!authority.is_empty()).then(|| (authority.to_owned(), path.to_owned(), query.to_owned()))
}
