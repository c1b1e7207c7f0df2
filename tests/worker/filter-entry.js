// TEST-ONLY Worker entry — never deploy this. The product's real entry (src/entry.js, with the
// JavaScript API route of api-entry.js) and its real RevocationAuthority Durable Object, with two
// FAKES on the gate's side only:
//   - REVOCATIONS wrapped by a FAKE that counts the gate's KV reads (get) and writes (put), so a
//     test can tell whether a gated request read KV at all; the authority keeps the real binding;
//   - REVOCATION_AUTHORITY wrapped by a FAKE namespace that can be told to fail every call (an
//     unreachable object), so a sign-out takes the degraded path straight to KV.
//
// Test-only control route: POST /__fake {"down": bool, "reset": bool} → {"down", "gets", "puts"};
// GET /__fake → the same, without changing anything. Counts are per isolate.
import apiEntry from "./api-entry.js";

export { RevocationAuthority } from "../../src/entry.js";

const state = { down: false, gets: 0, puts: 0 };

function countingKv(real) {
  return {
    get: (...args) => {
      state.gets++;
      return real.get(...args);
    },
    put: (...args) => {
      state.puts++;
      return real.put(...args);
    },
    delete: (...args) => real.delete(...args),
    list: (...args) => real.list(...args),
  };
}

function fakeNamespace(real) {
  return {
    idFromName: (name) => real.idFromName(name),
    get(id) {
      const stub = real.get(id);
      return {
        fetch(...args) {
          if (state.down) return Promise.reject(new Error("Durable Object unreachable (injected)"));
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
    if (pathname === "/__fake") {
      if (request.method === "POST") {
        const { down, reset } = await request.json();
        if (typeof down === "boolean") state.down = down;
        if (reset) Object.assign(state, { gets: 0, puts: 0 });
      }
      return Response.json(state);
    }
    wrapped ??= {
      ...env,
      REVOCATIONS: countingKv(env.REVOCATIONS),
      REVOCATION_AUTHORITY: fakeNamespace(env.REVOCATION_AUTHORITY),
    };
    return apiEntry.fetch(request, wrapped, ctx);
  },
};
