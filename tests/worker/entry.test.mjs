// The JS entry's last resort: a trap re-instantiates the wasm module. The guard is exercised with
// a FAKE wasm API that traps on demand (shipped code has no panic path to trigger); the reset it
// calls is exercised on the real package, which must work again after it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { guard, faultResponse } from "../../src/guard.js";
import * as pkg from "../../pkg/edge_revoke.js";

test("a trap resets the instance, is logged, and becomes a Cognito-shaped 500", async () => {
  let resets = 0;
  let trapNext = true;
  const fakeWasm = {
    __wbg_reset_state: () => { resets += 1; },
    call: async (x) => {
      if (trapNext) { trapNext = false; throw new WebAssembly.RuntimeError("unreachable executed"); }
      return x * 2;
    },
  };
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args.join(" "));
  try {
    const guarded = guard(fakeWasm, fakeWasm.call);
    const err = await guarded(1).catch((e) => e);
    assert.equal(err.name, "InternalErrorException");
    assert.equal(err.message, "Internal server error.");
    assert.equal(resets, 1);
    assert.match(logged.join("\n"), /wasm trapped; re-instantiating/);
    assert.equal(await guarded(21), 42, "the next call is served");
    const response = faultResponse(err);
    assert.equal(response.status, 500);
    assert.equal(response.headers.get("x-amzn-errortype"), "InternalErrorException");
    assert.deepEqual(await response.json(), { __type: "InternalErrorException", message: "Internal server error." });
  } finally {
    console.error = original;
  }
});

test("ordinary rejections pass through the guard untouched", async () => {
  let resets = 0;
  const fakeWasm = { __wbg_reset_state: () => { resets += 1; } };
  const cognito = Object.assign(new Error("User does not exist."), { name: "UserNotFoundException" });
  const guarded = guard(fakeWasm, async () => { throw cognito; });
  assert.equal(await guarded().catch((e) => e), cognito);
  assert.equal(resets, 0);
});

test("the real package works again after a reset", () => {
  pkg.initSync({ module: readFileSync(new URL("../../pkg/edge_revoke_bg.wasm", import.meta.url)) });
  const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
  assert.equal(pkg.decodeToken(token).payload.sub, "a");
  pkg.__wbg_reset_state();
  assert.equal(pkg.decodeToken(token).header.alg, "HS256");
  assert.throws(() => pkg.decodeToken("not a token"), (e) => e.name === "InvalidParameterException");
});
