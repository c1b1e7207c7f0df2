// The last resort against a trap. A trap (a Rust panic, or running out of memory) leaves the wasm
// instance unusable for every later request in the isolate, so the entry re-instantiates the
// module, logs it, and answers with a Cognito-shaped fault instead of an opaque exception.

/**
 * The fault, as the core words an internal error (`Error::wire` in src/error.rs): the one place
 * the guard takes its shape from. tests/worker/fault-shape.test.mjs holds the two together.
 */
export const FAULT = Object.freeze({ status: 500, type: "InternalErrorException", message: "Internal server error." });

/** Wraps `call` (an export of `wasm`) so a trap resets the instance and becomes a fault. */
export function guard(wasm, call) {
  return async (...args) => {
    try {
      return await call(...args);
    } catch (err) {
      if (!(err instanceof WebAssembly.RuntimeError)) throw err;
      console.error("edge-revoke: wasm trapped; re-instantiating", err);
      wasm.__wbg_reset_state();
      const fault = new Error(FAULT.message);
      fault.name = FAULT.type;
      throw fault;
    }
  };
}

/** The fault as the Worker's answer: `{"__type", "message"}` and `x-amzn-ErrorType`. */
export function faultResponse(err) {
  const body = JSON.stringify({ __type: err.name, message: err.message });
  return new Response(body, {
    status: FAULT.status,
    headers: { "content-type": "application/json", "x-amzn-errortype": err.name },
  });
}
