// Benchmark-only reference Worker: the gate written the way a Worker usually does it, with jose
// (WebCrypto) verifying the token and ONE KV read per request applying edge-revoke's revocation
// rule (README, "The revocation rule and the KV layout"), on the very same KV entries:
// - the user entry `rev/v1/u/<pool>/<sub>`: revoked iff `auth_time` (else `iat`) × 1000 is at or
//   before its `revoked_at` (ms);
// - the session entry `rev/v1/s/<pool>/<origin_jti>`: revoked iff it exists.
// Both keys are read in one bulk `get`, with the same `cacheTtl` as ours. It answers like our
// `GET /api/me` (the verified claims) or a 401, so `make bench` can time both side by side in one
// workerd. It does what a reference needs and no more: one pool, access tokens, no CORS, no
// configuration checks. Never deployed.
import { createLocalJWKSet, jwtVerify } from "jose";

const MAX_PLAIN_ID_BYTES = 200;
let pool; // parsed once per isolate, from env.JOSE_POOL: { id, issuer, jwks, client_id, algorithms }

/** edge-revoke's key component: the id as written, or `h:` and its SHA-256 when long. */
async function keyComponent(id) {
  const bytes = new TextEncoder().encode(id);
  if (bytes.length <= MAX_PLAIN_ID_BYTES) return id;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `h:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function refuse(message) {
  return Response.json(
    { __type: "NotAuthorizedException", message },
    { status: 401, headers: { "www-authenticate": `Bearer error="invalid_token", error_description="${message}"` } },
  );
}

/** The gate's decision for `token`: its claims, or a refusal's message (a 503 if KV fails). */
async function check(token, env) {
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, pool.keys, { issuer: pool.issuer, algorithms: pool.algorithms }));
  } catch {
    return { refused: "Invalid Access Token" };
  }
  if (claims.token_use !== "access" || claims.client_id !== pool.client_id) return { refused: "Invalid Access Token" };

  const userKey = `rev/v1/u/${pool.id}/${await keyComponent(claims.sub)}`;
  const keys = [userKey];
  if (typeof claims.origin_jti === "string") keys.push(`rev/v1/s/${pool.id}/${await keyComponent(claims.origin_jti)}`);
  let entries;
  try {
    entries = await env.REVOCATIONS.get(keys, { type: "json", cacheTtl: 30 });
  } catch {
    return { fault: true };
  }
  const authenticatedAtMs = (claims.auth_time ?? claims.iat) * 1000;
  const user = entries.get(userKey);
  if (user && authenticatedAtMs <= user.revoked_at) return { refused: "Access Token has been revoked" };
  if (keys.length > 1 && entries.get(keys[1]) != null) return { refused: "Access Token has been revoked" };
  return { claims };
}

/** `check` on every token of the body, one after another (the bench's in-isolate loop). */
async function checkAll(request, env) {
  const { tokens } = await request.json();
  let ok = 0;
  let refused = 0;
  for (const token of tokens) {
    if ((await check(token, env)).claims) ok += 1;
    else refused += 1;
  }
  return Response.json({ ok, refused });
}

export default {
  async fetch(request, env) {
    if (!pool) {
      const config = JSON.parse(env.JOSE_POOL);
      pool = { ...config, keys: createLocalJWKSet(config.jwks) };
    }
    if (new URL(request.url).pathname === "/__bench/verify") return checkAll(request, env);
    const token = request.headers.get("authorization")?.match(/^Bearer (\S+)$/)?.[1];
    if (!token) return refuse("Access Token is missing");
    const outcome = await check(token, env);
    if (outcome.fault) {
      return Response.json({ __type: "InternalErrorException", message: "Internal server error." }, { status: 503 });
    }
    return outcome.claims ? Response.json(outcome.claims) : refuse(outcome.refused);
  },
};
