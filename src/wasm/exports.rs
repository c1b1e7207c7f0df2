//! The JavaScript API: `handleRequest` (the Worker's `fetch`), `verifyToken`, `globalSignOut`
//! and `revokeToken`, with their TypeScript types. The last three enter the core through the
//! same front door as HTTP requests (`App::call`), as a trusted caller; a Rust error becomes a
//! JS `Error` whose `name` is the Cognito exception and whose `message` is Cognito's text.

use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

use super::{
    fetch,
    isolate::{isolate, Call},
};
use crate::{
    app::TrustedCall,
    auth::Expect,
    claims::TokenUse,
    error::{Error, Surface},
    ops::Operation,
};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The Worker's environment: the bindings and settings edge-revoke reads. No index signature, so
 *  the `Env` interface `wrangler types` generates (with any other bindings) is assignable to it. */
export interface EdgeRevokeEnv {
  REVOCATIONS: { get: Function; put: Function; delete: Function };
  POOLS: string | object[];
  ADMIN_CREDENTIALS?: string | object[];
  SIGNING_KEYS?: string | object;
  UPSTREAM_CREDENTIALS?: string | { access_key_id: string; secret_access_key: string; session_token?: string };
  ALLOWED_ORIGINS?: string;
  PROTECTED_PREFIXES?: string;
  ORIGIN_URL?: string;
  REVOCATION_CACHE_TTL_S?: string | number;
  KV_CACHE_TTL_S?: string | number;
  FRESHNESS_S?: string | number;
  FEED_FAIL_CLOSED_AFTER_S?: string | number;
  DEV_MODE?: string | boolean;
  SSF_TRANSMITTERS?: string | object[];
  REVOCATION_FILTER_FP_RATE?: string | number;
  REVOCATION_FILTER_MAX_ENTRIES?: string | number;
  /** The revocation authority (class `RevocationAuthority`); without it, KV alone. */
  REVOCATION_AUTHORITY?: { idFromName(name: string): unknown; get(id: any): { fetch(input: any, init?: any): Promise<Response> } };
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
/** The receipt of a call that revoked: by when every location refuses the revoked tokens, in ms
 *  since the epoch (over HTTP, the header `x-edge-revoke-enforced-by`). */
export interface RevocationReceipt { enforcedBy: number }
"#;

/// The Worker's `fetch` handler.
#[wasm_bindgen(js_name = handleRequest)]
pub async fn handle_request(
    request: web_sys::Request,
    #[wasm_bindgen(unchecked_param_type = "EdgeRevokeEnv")] env: JsValue,
    _ctx: JsValue,
) -> Result<web_sys::Response, JsValue> {
    fetch::handle(request, env).await
}

/// `verifyToken(env, token, { tokenUse?, clientId? })`: the verified claims of a token that is
/// not revoked, or a rejection with Cognito's exception name and message.
#[wasm_bindgen(js_name = verifyToken, unchecked_return_type = "Claims")]
pub async fn verify_token(
    #[wasm_bindgen(unchecked_param_type = "EdgeRevokeEnv")] env: JsValue,
    token: String,
    #[wasm_bindgen(unchecked_param_type = "VerifyOptions | undefined")] options: JsValue,
) -> Result<JsValue, JsValue> {
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
    trusted(
        &env,
        TrustedCall::VerifyToken {
            token: &token,
            expect,
        },
    )
    .await
}

/// `globalSignOut(env, { UserPoolId, Username })`: signs the user out of every session
/// (AdminUserGlobalSignOut without SigV4: the calling Worker is trusted); answers the receipt.
#[wasm_bindgen(js_name = globalSignOut, unchecked_return_type = "RevocationReceipt")]
pub async fn global_sign_out(
    #[wasm_bindgen(unchecked_param_type = "EdgeRevokeEnv")] env: JsValue,
    #[wasm_bindgen(unchecked_param_type = "GlobalSignOutInput")] input: JsValue,
) -> Result<JsValue, JsValue> {
    let input = input_object(input)?;
    trusted(
        &env,
        TrustedCall::Operation {
            operation: Operation::AdminUserGlobalSignOut,
            input: &input,
        },
    )
    .await
}

/// `revokeToken(env, { Token, ClientId, ClientSecret? })`: revokes one session by its refresh
/// token (local pools); answers the receipt.
#[wasm_bindgen(js_name = revokeToken, unchecked_return_type = "RevocationReceipt")]
pub async fn revoke_token(
    #[wasm_bindgen(unchecked_param_type = "EdgeRevokeEnv")] env: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RevokeTokenInput")] input: JsValue,
) -> Result<JsValue, JsValue> {
    let input = input_object(input)?;
    trusted(
        &env,
        TrustedCall::Operation {
            operation: Operation::RevokeToken,
            input: &input,
        },
    )
    .await
}

/// Runs a trusted call through the front door and converts its answer.
async fn trusted(env: &JsValue, call: TrustedCall<'_>) -> Result<JsValue, JsValue> {
    let (app, config) = isolate(env);
    let bindings = Call::new(env);
    let output = app
        .call(config.as_ref().as_ref(), call, &bindings.io())
        .await
        .map_err(|err| js_error(&err))?;
    to_js(&output)
}

/// An operation's input: a plain object, as the wire protocol's JSON body.
fn input_object(input: JsValue) -> Result<Map<String, Value>, JsValue> {
    match serde_wasm_bindgen::from_value::<Value>(input) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(js_sys::TypeError::new("the input must be an object").into()),
    }
}

/// A Rust error as a JS `Error` whose `name` is the Cognito exception and whose `message` is
/// Cognito's text (as [`Error::wire`] words it for the JavaScript API).
pub fn js_error(err: &Error) -> JsValue {
    let wire = err.wire(Surface::JsApi);
    let error = js_sys::Error::new(&wire.message);
    error.set_name(wire.error_type);
    error.into()
}

fn option_string(options: &JsValue, name: &'static str) -> Result<Option<String>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let value = super::bindings::get_named(options, name);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| {
        let error = js_sys::TypeError::new(&format!("{name} must be a string"));
        error.into()
    })
}

/// A JSON value as a plain JS value (objects, not Maps, so `claims.sub` works): serialised
/// once and handed to `JSON.parse`, which builds the object natively, instead of one boundary
/// crossing per member (a claims set has a dozen).
pub fn to_js(value: &Value) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(&value.to_string())
}
