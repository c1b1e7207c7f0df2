// TEST-ONLY Worker entry for the freshness harness (tests/freshness/harness.mjs) — never deploy
// this. One isolate of one simulated location: the product's real entry (src/entry.js) with
//   - REVOCATIONS: this location's FAKE lagging view of KV (fake-kv.js);
//   - REVOCATION_AUTHORITY (only when the harness gives an AUTHORITY service): a FAKE namespace
//     whose stub forwards to the one real RevocationAuthority Durable Object, which runs in
//     another workerd (the authority's Miniflare instance), through the harness, which counts the
//     calls per location and can kill the authority.
// Everything else — the gate, the feed, the Cache API of this location — is the product's.
//
// Test-only route: POST /__harness/sign-out {UserPoolId, Username} → {"resolved": receipt} or
// {"rejected": {name, message}}, through the JavaScript API's globalSignOut.
import { handleRequest, globalSignOut } from "../../src/entry.js";
import { FakeLaggingKv } from "./fake-kv.js";

class RemoteAuthority {
  constructor(service, location) {
    this.service = service;
    this.location = location;
  }

  idFromName(name) {
    return name;
  }

  get(name) {
    return {
      fetch: (url, init = {}) =>
        this.service.fetch(url, {
          ...init,
          headers: { ...(init.headers ?? {}), "x-harness-location": this.location, "x-harness-object": name },
        }),
    };
  }
}

let wrapped;

function envOf(env) {
  if (!wrapped) {
    wrapped = { ...env, REVOCATIONS: new FakeLaggingKv(env.FAKE_KV, env.LOCATION) };
    if (env.AUTHORITY) wrapped.REVOCATION_AUTHORITY = new RemoteAuthority(env.AUTHORITY, env.LOCATION);
    delete wrapped.FAKE_KV;
    delete wrapped.AUTHORITY;
  }
  return wrapped;
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/__harness/sign-out" && request.method === "POST") {
      try {
        return Response.json({ resolved: await globalSignOut(envOf(env), await request.json()) });
      } catch (err) {
        return Response.json({ rejected: { name: err?.name, message: err?.message } });
      }
    }
    return handleRequest(request, envOf(env), ctx);
  },
};
