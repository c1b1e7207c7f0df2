// TEST-ONLY Worker entry — never deploy this. It runs the product's real entry (src/entry.js, with
// the JavaScript API route of api-entry.js) with env.REVOCATION_AUTHORITY replaced by a FAKE
// namespace: it delegates to the real Durable Object binding, but can be told to fail every call
// to the authority, as an unreachable object or a network partition would.
//
// With "broken", the binding itself throws from idFromName, as a misconfigured binding would.
//
// Test-only control route: POST /__fake-authority {"down": bool, "broken": bool} → the state;
// GET /__fake-authority → the same, without changing anything. Counts are per isolate.
import apiEntry from "./api-entry.js";

export { RevocationAuthority } from "../../src/entry.js";

const state = { down: false, broken: false, calls: 0, failed: 0 };

function fakeNamespace(real) {
  return {
    idFromName(name) {
      if (state.broken) throw new Error("the binding gives no object (injected)");
      return real.idFromName(name);
    },
    get(id) {
      const stub = real.get(id);
      return {
        fetch(...args) {
          state.calls++;
          if (state.down) {
            state.failed++;
            return Promise.reject(new Error("Durable Object unreachable (injected)"));
          }
          return stub.fetch(...args);
        },
      };
    },
  };
}

let wrapped;

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/__fake-authority") {
      if (request.method === "POST") Object.assign(state, await request.json());
      return Response.json(state);
    }
    wrapped ??= { ...env, REVOCATION_AUTHORITY: fakeNamespace(env.REVOCATION_AUTHORITY) };
    return apiEntry.fetch(request, wrapped, ctx);
  },
};
