// Test support: the built Worker in real workerd (Miniflare) with local KV, driven over HTTP,
// and tokens signed by jose, an implementation independent of the one under test.
import { Miniflare } from "miniflare";
import * as jose from "jose";
import http from "node:http";

export const ROOT = new URL("../../", import.meta.url).pathname;

/** Starts the Worker with `vars` as its environment. Extra Miniflare options may be given. */
export async function startWorker(vars = {}, options = {}) {
  const mf = new Miniflare({
    modules: true,
    rootPath: ROOT,
    scriptPath: "src/entry.js",
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2026-04-01",
    kvNamespaces: ["REVOCATIONS"],
    bindings: vars,
    ...options,
  });
  const url = await mf.ready;
  const kv = await mf.getKVNamespace("REVOCATIONS");
  return {
    mf,
    url,
    kv,
    fetch: (path, init) => fetch(new URL(path, url), init),
    dispose: () => mf.dispose(),
  };
}

export const REGION = "us-east-1";
export const now = () => Math.floor(Date.now() / 1000);

/** A key pair for `alg` as jose makes it, with its public JWK (kid and alg set). */
export async function keyFor(alg, kid = `kid-${alg.toLowerCase()}`) {
  if (alg === "HS256") {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const jwk = { kty: "oct", k: jose.base64url.encode(secret), kid, alg };
    return { alg, kid, privateKey: secret, publicJwk: jwk };
  }
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, crv: alg === "EdDSA" ? "Ed25519" : undefined });
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, publicJwk };
}

/** A pool entry for POOLS. */
export function pool(id, keys, extra = {}) {
  return {
    id,
    issuer: `https://cognito-idp.${REGION}.amazonaws.com/${id}`,
    jwks: { keys: keys.map((k) => k.publicJwk) },
    algorithms: [...new Set(keys.map((k) => k.alg))],
    clients: [{ id: "client1" }],
    token_use: ["access", "id"],
    ...extra,
  };
}

/** Cognito-shaped access-token claims. */
export function accessClaims(poolId, overrides = {}) {
  const t = now();
  return {
    sub: "7d0a5c2e-1111-4aaa-8bbb-000000000001",
    iss: `https://cognito-idp.${REGION}.amazonaws.com/${poolId}`,
    client_id: "client1",
    origin_jti: crypto.randomUUID(),
    event_id: crypto.randomUUID(),
    token_use: "access",
    scope: "aws.cognito.signin.user.admin",
    auth_time: t,
    iat: t,
    exp: t + 3600,
    jti: crypto.randomUUID(),
    username: "alice",
    ...overrides,
  };
}

/** Cognito-shaped ID-token claims. */
export function idClaims(poolId, overrides = {}) {
  const t = now();
  return {
    sub: "7d0a5c2e-1111-4aaa-8bbb-000000000001",
    aud: "client1",
    iss: `https://cognito-idp.${REGION}.amazonaws.com/${poolId}`,
    token_use: "id",
    "cognito:username": "alice",
    email: "alice@example.com",
    auth_time: t,
    iat: t,
    exp: t + 3600,
    jti: crypto.randomUUID(),
    origin_jti: crypto.randomUUID(),
    ...overrides,
  };
}

/** Signs `claims` with `key` (jose), header `{alg, kid}` plus `header`. */
export async function sign(key, claims, header = {}) {
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** A local HTTP server; `handler(req, body)` returns {status, headers, body}. */
export async function startServer(handler) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString();
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const out = await handler(req, body);
      res.writeHead(out.status ?? 200, out.headers ?? { "content-type": "application/json" });
      res.end(out.body ?? "");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

export const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } });
