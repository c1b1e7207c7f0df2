// The Worker entry: instantiate the wasm package once, route fetch to it, and re-instantiate if a
// call traps (a trap leaves the instance unusable). Worker authors can import the API from here.
import module from "../pkg/edge_revoke_bg.wasm";
import * as wasm from "../pkg/edge_revoke.js";

wasm.initSync({ module });

const guard = (call) => async (...args) => {
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

export const verifyToken = guard(wasm.verifyToken);
export const globalSignOut = guard(wasm.globalSignOut);
export const revokeToken = guard(wasm.revokeToken);

export async function handleRequest(request, env, ctx) {
  try {
    return await guard(wasm.handleRequest)(request, env, ctx);
  } catch (err) {
    if (err?.name !== "InternalErrorException") throw err;
    const body = JSON.stringify({ __type: err.name, message: err.message });
    return new Response(body, { status: 500, headers: { "content-type": "application/json", "x-amzn-errortype": err.name } });
  }
}

export default { fetch: handleRequest };
