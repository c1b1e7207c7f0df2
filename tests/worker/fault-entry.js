// TEST-ONLY Worker entry — never deploy this. It runs the product's real handleRequest with
// env.REVOCATIONS replaced by a FAKE KV namespace: the fake delegates to the real (local, Miniflare)
// KV binding, but can be told to fail reads and/or writes, or to answer garbage, so the fault
// tests can show that the Worker fails closed and leaves no half state.
//
// The scheduled handler (Shared Signals polling) runs over the same fake.
//
// Test-only control route (handled here, never reaches the product):
//   POST /__fake-kv {"failReads": bool, "failWrites": bool, "failMode": "reject" | "throw",
//                    "failPutsAfter": n | null, "garbage": null | "not-a-map" | "non-string" | "missing-keys",
//                    "reset": true}
//     failReads / failWrites: every get / every put and delete fails ("KV GET failed: 503 injected").
//     failMode: "reject" (default) answers a rejected promise; "throw" throws synchronously.
//     failPutsAfter: let n more puts through, then fail every later put (deletes still work).
//     garbage: a bulk read answers a non-Map ("not-a-map"), a Map of non-strings ("non-string"),
//       or a Map that leaves out the keys asked for ("missing-keys").
//     rateLimitPuts: n: the next n puts are refused as KV refuses a second write to a key within a
//       second ("KV PUT failed: 429 Too Many Requests"), then puts go through again.
//     spare: null | "<prefix>": puts of keys under the prefix go straight through, uncounted by
//       the other counters and untouched by the failures above (counted in sparedPuts), so a test
//       can aim its faults at the writes it is about (e.g. past the "sigv4/v1/" record of the
//       call's signature, which comes first).
//     reset: zero the counters.
//   GET /__fake-kv → {config, counters} where counters count calls made to the fake by the
//     product (gets, puts, deletes, failed ones) and wasm traps the product's entry recovered from.
import { handleRequest, handleScheduled } from "../../src/entry.js";

const config = { failReads: false, failWrites: false, failMode: "reject", failPutsAfter: null, garbage: null, rateLimitPuts: 0, spare: null };
const counters = { gets: 0, keysRead: 0, puts: 0, deletes: 0, failedGets: 0, failedPuts: 0, failedDeletes: 0, sparedPuts: 0, traps: 0 };

// The product's entry logs "wasm trapped" through console.error when a call traps; count them so
// tests can assert that nothing panicked (a trap would otherwise look like a clean 500).
const consoleError = console.error.bind(console);
console.error = (...args) => {
  if (args.some((a) => typeof a === "string" && a.includes("wasm trapped"))) counters.traps++;
  consoleError(...args);
};

function fail(kind) {
  const err = new Error(`KV ${kind} failed: 503 injected`);
  if (config.failMode === "throw") throw err;
  return Promise.reject(err);
}

/** A fake KV namespace over `real`: same interface, failures on demand. */
function fakeKv(real) {
  return {
    get(keys, options) {
      counters.gets++;
      counters.keysRead += Array.isArray(keys) ? keys.length : 1;
      if (config.failReads) {
        counters.failedGets++;
        return fail("GET");
      }
      if (config.garbage === "not-a-map") return Promise.resolve("garbage, not a Map");
      if (config.garbage === "missing-keys") return Promise.resolve(new Map());
      return real.get(keys, options).then((result) => {
        if (config.garbage === "non-string" && result instanceof Map) {
          for (const key of result.keys()) result.set(key, { garbage: 42 });
        }
        return result;
      });
    },
    getWithMetadata: (key, options) => real.getWithMetadata(key, options),
    list: (options) => real.list(options),
    put(key, value, options) {
      if (config.spare !== null && key.startsWith(config.spare)) {
        counters.sparedPuts++;
        return real.put(key, value, options);
      }
      counters.puts++;
      const budgetSpent = config.failPutsAfter !== null && config.failPutsAfter <= 0;
      if (config.failPutsAfter !== null) config.failPutsAfter--;
      if (config.failWrites || budgetSpent) {
        counters.failedPuts++;
        return fail("PUT");
      }
      if (config.rateLimitPuts > 0) {
        config.rateLimitPuts--;
        counters.failedPuts++;
        return Promise.reject(new Error("KV PUT failed: 429 Too Many Requests"));
      }
      return real.put(key, value, options);
    },
    delete(key) {
      counters.deletes++;
      if (config.failWrites) {
        counters.failedDeletes++;
        return fail("DELETE");
      }
      return real.delete(key);
    },
  };
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/__fake-kv") {
      if (request.method === "POST") {
        const { reset, ...changes } = await request.json();
        Object.assign(config, changes);
        if (reset) for (const name of Object.keys(counters)) counters[name] = 0;
      }
      return Response.json({ config, counters });
    }
    return handleRequest(request, { ...env, REVOCATIONS: fakeKv(env.REVOCATIONS) }, ctx);
  },
  // The Cron Trigger, over the same fake.
  async scheduled(controller, env, ctx) {
    await handleScheduled(controller, { ...env, REVOCATIONS: fakeKv(env.REVOCATIONS) }, ctx);
  },
};
