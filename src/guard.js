// The last resort against a trap. A trap (a Rust panic, or running out of memory) leaves the wasm
// instance unusable for every later request in the isolate, so the entry re-instantiates the
// module, logs it, and answers with a Cognito-shaped fault instead of an opaque exception.

/** Wraps `call` (an export of `wasm`) so a trap resets the instance and becomes a fault. */
export function guard(wasm, call) {
  return async (...args) => {
    try {
      return await call(...args);
    } catch (err) {
      if (!(err instanceof WebAssembly.RuntimeError)) throw err;
      console.error("edge-revoke: wasm trapped; re-instantiating", err);
      wasm.__wbg_reset_state();
      const fault = new Error("Internal server error.");
      fault.name = "InternalErrorException";
      throw fault;
    }
  };
}

/** The fault as the Worker's answer. */
export function faultResponse(err) {
  const body = JSON.stringify({ __type: err.name, message: err.message });
  return new Response(body, {
    status: 500,
    headers: { "content-type": "application/json", "x-amzn-errortype": err.name },
  });
}
