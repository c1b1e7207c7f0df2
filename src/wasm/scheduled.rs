//! The Worker's `scheduled` handler (a Cron Trigger): the Shared Signals poll (RFC 8936). Each
//! transmitter configured with a `poll` stream is asked for its SETs, which are applied as pushed
//! ones are and acknowledged only once applied (`ssf::receive`).

use wasm_bindgen::prelude::*;

use super::{
    exports::js_error,
    isolate::{isolate, Call},
};

/// `handleScheduled(controller, env, ctx)`: polls every poll stream once; resolves to one line
/// per transmitter (what was applied, refused and acknowledged), rejects if the configuration
/// is broken.
#[wasm_bindgen(js_name = handleScheduled, unchecked_return_type = "string[]")]
pub async fn handle_scheduled(
    _controller: JsValue,
    #[wasm_bindgen(unchecked_param_type = "EdgeRevokeEnv")] env: JsValue,
    _ctx: JsValue,
) -> Result<JsValue, JsValue> {
    let (app, config) = isolate(&env);
    let call = Call::new(&env);
    let lines = app
        .poll(config.as_ref().as_ref(), &call.io())
        .await
        .map_err(|err| js_error(&err))?;
    let array = js_sys::Array::new();
    for line in lines {
        array.push(&JsValue::from_str(&line));
    }
    Ok(array.into())
}
