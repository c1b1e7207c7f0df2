// The Worker entry: instantiate the wasm package once, route fetch to it, and re-instantiate if a
// call traps (src/guard.js). Worker authors can import the API from here, and the revocation
// authority's Durable Object class (bind it as REVOCATION_AUTHORITY; see the README).
import { DurableObject } from "cloudflare:workers";
import module from "../pkg/edge_revoke_bg.wasm";
import * as wasm from "../pkg/edge_revoke.js";
import { guard, faultResponse } from "./guard.js";

wasm.initSync({ module });

export const verifyToken = guard(wasm, wasm.verifyToken);
export const globalSignOut = guard(wasm, wasm.globalSignOut);
export const revokeToken = guard(wasm, wasm.revokeToken);
const handle = guard(wasm, wasm.handleRequest);
const authority = guard(wasm, wasm.authorityFetch);
// The Cron Trigger: polls the Shared Signals transmitters configured with a poll stream.
export const handleScheduled = guard(wasm, wasm.handleScheduled);

export async function scheduled(controller, env, ctx) {
  for (const line of await handleScheduled(controller, env, ctx)) console.log(`edge-revoke ${line}`);
}

export async function handleRequest(request, env, ctx) {
  try {
    return await handle(request, env, ctx);
  } catch (err) {
    if (err?.name === "InternalErrorException") return faultResponse(err);
    throw err;
  }
}

/** The revocation authority: serialises every revocation write per key, writes KV, and serves the
 *  recent revocations to every isolate (SQLite storage: declare it in `new_sqlite_classes`). */
export class RevocationAuthority extends DurableObject {
  async fetch(request) {
    try {
      return await authority(this.ctx, this.env, request);
    } catch (err) {
      if (err?.name === "InternalErrorException") return faultResponse(err);
      throw err;
    }
  }
}

export default { fetch: handleRequest, scheduled };
