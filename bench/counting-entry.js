// Benchmark-only Worker entry: the real Worker with a KV binding wrapped by a counting FAKE, so
// the benchmark can report KV operations per request. Never deployed.
import { handleRequest } from "../src/entry.js";

// The revocation authority's class, for the bench Worker that binds it.
export { RevocationAuthority } from "../src/entry.js";

const counts = { get: 0, put: 0, delete: 0 };

function counting(kv) {
  return {
    get: (...args) => { counts.get += 1; return kv.get(...args); },
    put: (...args) => { counts.put += 1; return kv.put(...args); },
    delete: (...args) => { counts.delete += 1; return kv.delete(...args); },
  };
}

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/kv-counts") {
      return Response.json(counts);
    }
    return handleRequest(request, { ...env, REVOCATIONS: counting(env.REVOCATIONS) }, ctx);
  },
};
