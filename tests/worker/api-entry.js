// TEST-ONLY Worker entry — never deploy this. It wraps the product's real entry (src/entry.js)
// and adds one test route, `POST /__test/js-api`, so tests driving workerd over HTTP can call the
// JavaScript API exports (verifyToken, globalSignOut, revokeToken) inside the Worker, with the
// Worker's real `env` (KV binding and settings). Every other request goes to handleRequest.
//
// Body: {"call": "verifyToken" | "globalSignOut" | "revokeToken", "args": [...]} — args after env.
// Answer: {"resolved": value} or {"rejected": {isError, name, message}} (always HTTP 200: the
// outcome of the call is the payload; a 500 here means the test route itself broke).
import { handleRequest, verifyToken, globalSignOut, revokeToken } from "../../src/entry.js";

// The revocation authority's class, for tests that bind it (REVOCATION_AUTHORITY).
export { RevocationAuthority } from "../../src/entry.js";

const EXPORTS = { verifyToken, globalSignOut, revokeToken };

async function callExport(request, env) {
  const { call, args = [] } = await request.json();
  const fn = EXPORTS[call];
  if (!fn) return Response.json({ testRouteError: `no export ${call}` }, { status: 400 });
  try {
    return Response.json({ resolved: await fn(env, ...args) });
  } catch (err) {
    return Response.json({
      rejected: { isError: err instanceof Error, name: err?.name, message: err?.message },
    });
  }
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/__test/js-api" && request.method === "POST") return callExport(request, env);
    return handleRequest(request, env, ctx);
  },
};
