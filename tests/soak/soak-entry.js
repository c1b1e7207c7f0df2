// TEST-ONLY Worker entry — never deploy this. It runs the product's real handleRequest and
// verifyToken with env.REVOCATIONS replaced by a FAKE KV namespace over the real (local,
// Miniflare) one, which can be told to be slow, to fail or be throttled on reads, or to fail
// writes, so the fault matrix can run under load; and it floods the product from inside the
// isolate (no sockets in between) to show its caches stay within their bounds.
// The revocation authority is the product's RevocationAuthority class, over the same FAKE KV (KV
// failing fails for the authority too), reached through a FAKE namespace in front of the real
// Durable Object binding that can be told to be unreachable or to answer nothing.
//
// Test-only control routes (handled here, never reach the product):
//   POST /__soak/kv {"readDelayMs": n, "failReads": bool, "readError": "<message>",
//                    "failPutsAfter": n | null, "spare": null | "<prefix>", "emptyReads": bool,
//                    "reset": true}
//     readDelayMs: every read waits n ms first (KV slow).
//     failReads: every read rejects with readError ("KV GET failed: 503 injected" by default;
//       "KV GET failed: 429 Too Many Requests" for a throttled namespace).
//     failPutsAfter: let n more puts through, then fail every later put and delete.
//     spare: puts of keys under the prefix go straight through, uncounted by failPutsAfter.
//     emptyReads: every read answers every key absent without asking the local KV, and puts
//       are dropped (a flood of a million distinct users must not fill Miniflare's store).
//   POST /__soak/authority {"mode": "up" | "down" | "hang", "reset": true} → {mode, counters}
//     down: every call to the authority's stub rejects, as an unreachable object would.
//     hang: every call never answers (the product gives up after its own timeout).
//   GET /__soak/stats → {caches: isolateStats(), counters}: the product's cache sizes and wasm
//     memory, and what the fake was asked.
//   POST /__soak/flood {"kind": "users" | "kids", "from": n, "count": n, "secret": "<base64url>",
//                       "pool": "<id>", "issuer": "<iss>", "client": "<id>"}
//     users: `count` requests through handleRequest, each with its own user, session, token
//       (HS256 with `secret`, signed here with WebCrypto) and Origin; answers the statuses.
//     kids: `count` tokens of `pool` (a remote-JWKS pool) each with its own unknown kid, through
//       verifyToken; answers how each was refused.
//     signouts: `count` distinct users of `pool` signed out through globalSignOut; answers how
//       each came out (its receipt's distance from now, rounded to seconds, or the error).
import { handleRequest, verifyToken, globalSignOut, RevocationAuthority as ProductAuthority } from "../../src/entry.js";
import { isolateStats } from "../../pkg/edge_revoke.js";

const HEALTHY = { readDelayMs: 0, failReads: false, readError: "KV GET failed: 503 injected", failPutsAfter: null, spare: null, emptyReads: false };
const config = { ...HEALTHY };
const counters = { gets: 0, keysRead: 0, failedGets: 0, puts: 0, failedPuts: 0, sparedPuts: 0, deletes: 0, traps: 0 };
const authority = { mode: "up", calls: 0, failed: 0, hung: 0 };

const consoleError = console.error.bind(console);
console.error = (...args) => {
  if (args.some((a) => typeof a === "string" && a.includes("wasm trapped"))) counters.traps++;
  consoleError(...args);
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A FAKE KV namespace over `real`: the same interface, with the faults above on demand. */
function fakeKv(real) {
  const failWrite = (kind) => {
    counters.failedPuts++;
    return Promise.reject(new Error(`KV ${kind} failed: 503 injected`));
  };
  const writeBudgetSpent = () => {
    if (config.failPutsAfter === null) return false;
    if (config.failPutsAfter <= 0) return true;
    config.failPutsAfter--;
    return false;
  };
  return {
    async get(keys, options) {
      counters.gets++;
      counters.keysRead += Array.isArray(keys) ? keys.length : 1;
      if (config.readDelayMs > 0) await sleep(config.readDelayMs);
      if (config.failReads) {
        counters.failedGets++;
        throw new Error(config.readError);
      }
      if (config.emptyReads) return Array.isArray(keys) ? new Map(keys.map((key) => [key, null])) : null;
      return real.get(keys, options);
    },
    getWithMetadata: (key, options) => real.getWithMetadata(key, options),
    list: (options) => real.list(options),
    put(key, value, options) {
      if (config.spare !== null && key.startsWith(config.spare)) {
        counters.sparedPuts++;
        return real.put(key, value, options);
      }
      counters.puts++;
      if (writeBudgetSpent()) return failWrite("PUT");
      if (config.emptyReads) return Promise.resolve();
      return real.put(key, value, options);
    },
    delete(key) {
      counters.deletes++;
      if (config.failPutsAfter !== null && config.failPutsAfter <= 0) return failWrite("DELETE");
      return real.delete(key);
    },
  };
}

/** A FAKE Durable Object namespace over `real`: the same interface, unreachable or silent on demand. */
function fakeAuthority(real) {
  return {
    idFromName: (name) => real.idFromName(name),
    get(id) {
      const stub = real.get(id);
      return {
        fetch(...args) {
          authority.calls++;
          if (authority.mode === "down") {
            authority.failed++;
            return Promise.reject(new Error("Durable Object unreachable (injected)"));
          }
          if (authority.mode === "hang") {
            authority.hung++;
            return new Promise(() => {});
          }
          return stub.fetch(...args);
        },
      };
    },
  };
}

/** The product's authority over the FAKE KV: a KV fault is the authority's fault too. */
export class RevocationAuthority extends ProductAuthority {
  constructor(ctx, env) {
    super(ctx, { ...env, REVOCATIONS: fakeKv(env.REVOCATIONS) });
  }
}

async function floodSignOuts(env, { from, count, pool }) {
  const outcomes = {};
  for (let i = from; i < from + count; i++) {
    let outcome;
    try {
      const { enforcedBy } = await globalSignOut(env, { UserPoolId: pool, Username: `flood-out-${i}` });
      outcome = `receipt ${Math.round((enforcedBy - Date.now()) / 1000)} s`;
    } catch (err) {
      outcome = `${err.name}: ${err.message}`;
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  return { outcomes };
}

const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const b64urlText = (text) => b64url(new TextEncoder().encode(text));
const fromB64url = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

async function floodUsers(env, ctx, { from, count, secret, pool, issuer, client }) {
  const key = await crypto.subtle.importKey("raw", fromB64url(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const header = b64urlText(JSON.stringify({ alg: "HS256", kid: "flood-hs256", typ: "JWT" }));
  const now = Math.floor(Date.now() / 1000);
  const statuses = {};
  for (let i = from; i < from + count; i++) {
    const claims = {
      sub: `flood-user-${i}`,
      iss: issuer,
      client_id: client,
      origin_jti: `flood-session-${i}`,
      token_use: "access",
      scope: "aws.cognito.signin.user.admin",
      auth_time: now - 60,
      iat: now - 60,
      exp: now + 3600,
      jti: `flood-token-${i}`,
      username: `flood-name-${i}`,
    };
    const input = `${header}.${b64urlText(JSON.stringify(claims))}`;
    const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)));
    const request = new Request("https://soak.invalid/api/me", {
      headers: { authorization: `Bearer ${input}.${b64url(signature)}`, origin: `https://o${i}.flood.invalid` },
    });
    const response = await handleRequest(request, env, ctx);
    await response.arrayBuffer();
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
  }
  return { statuses };
}

async function floodKids(env, { from, count, pool, issuer, client }) {
  const now = Math.floor(Date.now() / 1000);
  const payload = b64urlText(
    JSON.stringify({ sub: "flood-kid-user", iss: issuer, client_id: client, token_use: "access", iat: now, exp: now + 3600, auth_time: now, jti: "k" }),
  );
  const signature = b64url(new Uint8Array(256).fill(7));
  const refusals = {};
  for (let i = from; i < from + count; i++) {
    const header = b64urlText(JSON.stringify({ alg: "RS256", kid: `flood-kid-${i}` }));
    try {
      await verifyToken(env, `${header}.${payload}.${signature}`, { tokenUse: "access", clientId: client });
      refusals.accepted = (refusals.accepted ?? 0) + 1;
    } catch (err) {
      const why = `${err.name}: ${err.message}`;
      refusals[why] = (refusals[why] ?? 0) + 1;
    }
  }
  return { refusals, pool };
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    const fakeEnv = {
      ...env,
      REVOCATIONS: fakeKv(env.REVOCATIONS),
      ...(env.REVOCATION_AUTHORITY ? { REVOCATION_AUTHORITY: fakeAuthority(env.REVOCATION_AUTHORITY) } : {}),
    };
    if (pathname === "/__soak/authority") {
      if (request.method === "POST") {
        const { reset, ...changes } = await request.json();
        Object.assign(authority, changes);
        if (reset) Object.assign(authority, { calls: 0, failed: 0, hung: 0 });
      }
      return Response.json(authority);
    }
    if (pathname === "/__soak/kv") {
      if (request.method === "POST") {
        const { reset, healthy, ...changes } = await request.json();
        if (healthy) Object.assign(config, HEALTHY);
        Object.assign(config, changes);
        if (reset) for (const name of Object.keys(counters)) counters[name] = 0;
      }
      return Response.json({ config, counters });
    }
    if (pathname === "/__soak/stats") return Response.json({ caches: isolateStats(), counters, authority });
    if (pathname === "/__soak/flood" && request.method === "POST") {
      const order = await request.json();
      const started = Date.now();
      const result =
        order.kind === "kids"
          ? await floodKids(fakeEnv, order)
          : order.kind === "signouts"
            ? await floodSignOuts(fakeEnv, order)
            : await floodUsers(fakeEnv, ctx, order);
      return Response.json({ ...result, ms: Date.now() - started, caches: isolateStats() });
    }
    return handleRequest(request, fakeEnv, ctx);
  },
};
