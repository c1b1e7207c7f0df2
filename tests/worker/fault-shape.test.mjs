// The guard's fault (src/guard.js) is the shape the core gives an internal error: the real wasm
// package, asked to sign a user out while its KV binding fails, rejects with the same name and
// message as the guard's fault, and the guard answers them with the API's fault status, 500.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { FAULT, guard, faultResponse } from "../../src/guard.js";
import * as pkg from "../../pkg/edge_revoke.js";

const POOL = "us-east-1_FaultShape1";

/** A FAKE KV namespace whose every call fails, as a KV outage does. */
const downKv = {
  get: () => Promise.reject(new Error("KV GET failed: 503 injected")),
  put: () => Promise.reject(new Error("KV PUT failed: 503 injected")),
  delete: () => Promise.reject(new Error("KV DELETE failed: 503 injected")),
};

test("the guard's fault is the core's InternalErrorException, word for word", async () => {
  pkg.initSync({ module: readFileSync(new URL("../../pkg/edge_revoke_bg.wasm", import.meta.url)) });
  const env = {
    REVOCATIONS: downKv,
    POOLS: JSON.stringify([{ id: POOL, clients: [{ id: "faultshapeclient" }], algorithms: ["HS256"],
      jwks: { keys: [{ kty: "oct", kid: "k1", k: Buffer.alloc(32, 7).toString("base64url") }] } }]),
  };
  const core = await pkg.globalSignOut(env, { UserPoolId: POOL, Username: "alice" }).catch((e) => e);
  assert.ok(core instanceof Error, "the sign-out must fail while KV is down");
  assert.equal(core.name, FAULT.type);
  assert.equal(core.message, FAULT.message);

  // The guard's own fault, from a FAKE wasm call that traps.
  const original = console.error;
  console.error = () => {};
  try {
    const trapping = { __wbg_reset_state: () => {}, call: async () => { throw new WebAssembly.RuntimeError("unreachable"); } };
    const fault = await guard(trapping, trapping.call)().catch((e) => e);
    assert.deepEqual([fault.name, fault.message], [core.name, core.message]);
    const response = faultResponse(fault);
    assert.equal(response.status, 500);
    assert.deepEqual(await response.json(), { __type: core.name, message: core.message });
  } finally {
    console.error = original;
  }
});
