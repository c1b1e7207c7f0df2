// Test support: the built Worker in real workerd (Miniflare) with local KV, driven over HTTP,
// and tokens signed by jose, an implementation independent of the one under test.
import { Miniflare } from "miniflare";
import * as jose from "jose";
import http from "node:http";
import { readFileSync } from "node:fs";

export const ROOT = new URL("../../", import.meta.url).pathname;

/** wrangler.toml's compatibility date: the tests run the Worker exactly as it deploys. */
export const COMPATIBILITY_DATE = readFileSync(`${ROOT}wrangler.toml`, "utf8").match(/^compatibility_date = "([0-9-]+)"/m)[1];

/** The product's modules (the Worker entry and the wasm package it imports), relative to ROOT. */
export const PRODUCT_MODULES = ["src/entry.js", "src/guard.js", "pkg/edge_revoke.js", "pkg/edge_revoke_bg.wasm"];

/** A Miniflare module manifest: `entry` first, then `modules`, each read from ROOT. */
export function manifest(entry, modules = PRODUCT_MODULES, root = ROOT) {
  const all = [entry, ...modules.filter((m) => m !== entry)];
  return {
    mainModule: entry,
    modulesRoot: root,
    modules: Object.fromEntries(
      all.map((path) => [path, { type: path.endsWith(".wasm") ? "wasm" : "esm", contents: readFileSync(`${root}${path}`) }]),
    ),
  };
}

/** `vars` as Worker bindings: strings stay text, anything else is a JSON value. */
export function varBindings(vars) {
  return Object.fromEntries(
    Object.entries(vars)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, typeof value === "string" ? { type: "text", value } : { type: "json", value }]),
  );
}

/**
 * Starts the Worker with `vars` as its environment, in real workerd (Miniflare) with local,
 * in-memory KV. Options: `entry` (a module under ROOT importing src/entry.js; default the product's
 * own entry), `ratelimits` (binding name -> { simple: { limit, period } }), `assets` ({ directory,
 * binding }: static assets under ROOT, the Worker first, as wrangler.toml binds them), `host`/`port`,
 * `kvPersist` (a directory: KV kept on disk there, so two Workers can share it),
 * `onLog({ level, message })` for the Worker's console (default: Miniflare's, to this process), and
 * `authority: true` for the revocation authority: the entry's RevocationAuthority class as a
 * SQLite-backed Durable Object bound as REVOCATION_AUTHORITY (wrangler.toml's binding and migration);
 * `modules`: more modules under ROOT that `entry` imports.
 */
export async function startWorker(vars = {}, options = {}) {
  const { entry = "src/entry.js", ratelimits = {}, assets, host, port, onLog, kvPersist, authority = false, modules = [] } = options;
  const limits = Object.entries(ratelimits).map(([name, { simple }], i) => [
    name,
    { type: "rate-limit", namespace: String(1001 + i), simple },
  ]);
  const mf = new Miniflare({
    host,
    port,
    enableDevRegistry: false,
    logRequests: false,
    ...(onLog ? { handleStructuredLogs: onLog } : {}),
    ...(kvPersist ? { resourcePersistencePath: kvPersist } : {}),
    workers: [
      {
        config: {
          name: "edge-revoke",
          compatibilityDate: COMPATIBILITY_DATE,
          manifest: manifest(entry, [...PRODUCT_MODULES, ...modules]),
          ...(authority ? { exports: AUTHORITY_EXPORTS } : {}),
          env: {
            REVOCATIONS: { type: "kv", id: "REVOCATIONS" },
            ...(authority ? { REVOCATION_AUTHORITY: authorityBinding("edge-revoke") } : {}),
            ...Object.fromEntries(limits),
            ...(assets ? { [assets.binding]: { type: "assets" } } : {}),
            ...varBindings(vars),
          },
          // As wrangler.toml's [assets] with run_worker_first: the Worker sees every request.
          ...(assets ? { assets: { directory: `${ROOT}${assets.directory}`, hasUserWorker: true, runWorkerFirst: true } } : {}),
        },
        dev: { rootPath: ROOT },
      },
    ],
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

/** The Durable Object class the entry exports, SQLite-backed (wrangler.toml's new_sqlite_classes). */
export const AUTHORITY_EXPORTS = { RevocationAuthority: { type: "durable-object", storage: "sqlite" } };
/** REVOCATION_AUTHORITY bound to the RevocationAuthority class of the Worker named `worker`. */
export const authorityBinding = (worker) => ({ type: "durable-object", worker, exportName: "RevocationAuthority" });

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

// ---------------------------------------------------------------------------------------------
// Local pools, the AWS SDK and KV, for the revocation and fault tiers.
import { generateKeyPairSync } from "node:crypto";
import assert from "node:assert/strict";
import {
  CognitoIdentityProviderClient,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
} from "@aws-sdk/client-cognito-identity-provider";

/** Admin credentials as the SDK takes them; `adminCredentials(...)` makes ADMIN_CREDENTIALS. */
export const ADMIN = { accessKeyId: "AKIAEDGEREVOKETEST01", secretAccessKey: "test-secret-access-key-000001" };
export const ADMIN_2 = { accessKeyId: "AKIAEDGEREVOKETEST02", secretAccessKey: "test-secret-access-key-000002" };
export const adminCredentials = (...creds) =>
  JSON.stringify(creds.map((c) => ({ access_key_id: c.accessKeyId, secret_access_key: c.secretAccessKey })));

/** SIGNING_KEYS for local pools: a fresh RSA-2048 private JWK set made by node:crypto. */
export function signingKeys(kid = "local-test-key-1") {
  const jwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
  return JSON.stringify({ keys: [{ ...jwk, kid, alg: "RS256", use: "sig" }] });
}

/** A local pool entry for POOLS (cheap password hashing so sign-ins are fast). */
export function localPool(id, clientId, extra = {}) {
  return {
    id,
    issuer: `http://127.0.0.1:8787/${id}`,
    local: { password_iterations: 1000 },
    clients: [{ id: clientId }],
    token_use: ["access", "id"],
    ...extra,
  };
}

/** The AWS SDK v3 client pointed at a worker. No retries: every call is exactly one request. */
export function cognito(worker, credentials = ADMIN, extra = {}) {
  return new CognitoIdentityProviderClient({
    endpoint: String(worker.url),
    region: REGION,
    credentials,
    maxAttempts: 1,
    ...extra,
  });
}

/** A JWT's payload, decoded without verification (the test reads what the Worker issued). */
export const decodeJwt = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());

/** Creates a confirmed user with a permanent password; answers the user's sub. */
export async function createUser(client, poolId, username, password = "Correct-Horse-1!") {
  const out = await client.send(
    new AdminCreateUserCommand({
      UserPoolId: poolId,
      Username: username,
      TemporaryPassword: "Temporary-Pass-1!",
      MessageAction: "SUPPRESS",
      UserAttributes: [{ Name: "email", Value: `${username}@example.com` }],
    }),
  );
  await client.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: password, Permanent: true }));
  return out.User.Attributes.find((a) => a.Name === "sub").Value;
}

/** USER_PASSWORD_AUTH; answers the AuthenticationResult. */
export async function signIn(client, clientId, username, password = "Correct-Horse-1!") {
  const out = await client.send(
    new InitiateAuthCommand({ ClientId: clientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: username, PASSWORD: password } }),
  );
  assert.ok(out.AuthenticationResult?.AccessToken, "sign-in answered tokens");
  return out.AuthenticationResult;
}

/** REFRESH_TOKEN_AUTH; answers the AuthenticationResult. */
export async function refresh(client, clientId, refreshToken) {
  const out = await client.send(
    new InitiateAuthCommand({ ClientId: clientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: refreshToken } }),
  );
  return out.AuthenticationResult;
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise) {
  try {
    const value = await promise;
    assert.fail(`expected a rejection, got ${JSON.stringify(value)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return err;
  }
}

/** Asserts an AWS SDK error: exception name, message and HTTP status, and that the Worker answered it
 * (x-amzn-RequestId present, so it is the product's own error, not a trap caught by the entry). */
export function assertAwsError(err, name, message, status = 400) {
  assert.equal(err.name, name, `${err.name}: ${err.message}`);
  assert.equal(err.message, message);
  assert.equal(err.$metadata?.httpStatusCode, status);
  assert.ok(err.$metadata?.requestId, "x-amzn-RequestId is set");
}

/** Asserts a gate refusal: 401, Cognito's words in WWW-Authenticate and in the body. */
export async function assertGateRefusal(res, message) {
  assert.equal(res.status, 401, `expected 401, got ${res.status}`);
  assert.equal(res.headers.get("www-authenticate"), `Bearer error="invalid_token", error_description="${message}"`);
  assert.equal(res.headers.get("x-amzn-errortype"), "NotAuthorizedException");
  assert.ok(res.headers.get("x-amzn-requestid"));
  assert.deepEqual(await res.json(), { __type: "NotAuthorizedException", message });
}

/** Asserts a fail-closed gate answer: 503 InternalErrorException with Retry-After, never a pass. */
export async function assertGateFault(res) {
  assert.equal(res.status, 503, `expected 503, got ${res.status}`);
  assert.equal(res.headers.get("x-amzn-errortype"), "InternalErrorException");
  assert.equal(res.headers.get("retry-after"), "1");
  assert.equal(res.headers.get("www-authenticate"), null);
  assert.ok(res.headers.get("x-amzn-requestid"), "answered by the product, not by the trap guard");
  assert.deepEqual(await res.json(), { __type: "InternalErrorException", message: "Internal server error." });
}

/** A KV key's expiration (epoch seconds) as Miniflare's list reports it. */
export async function kvExpiration(kv, key) {
  const { keys } = await kv.list({ prefix: key });
  const hit = keys.find((k) => k.name === key);
  return hit?.expiration;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
