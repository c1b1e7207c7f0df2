// The gate and the foundation, in real workerd: every algorithm signed by jose passes, every
// refusal is a Cognito-shaped 401, configuration errors are clear 500s, JWKS URIs are fetched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, startServer, keyFor, pool, accessClaims, idClaims, sign, bearer, now } from "./support.mjs";

const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "EdDSA"];
const POOL = "us-east-1_Gate01";
const HS_POOL = "us-east-1_Hmac01";
let worker, keys, hsKey;

before(async () => {
  keys = Object.fromEntries(await Promise.all(ASYMMETRIC.map(async (alg) => [alg, await keyFor(alg)])));
  hsKey = await keyFor("HS256");
  worker = await startWorker({
    POOLS: JSON.stringify([pool(POOL, Object.values(keys)), pool(HS_POOL, [hsKey], { clients: [{ id: "client2" }] })]),
  });
});
after(() => worker?.dispose());

async function expectRefusal(res, message) {
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), `Bearer error="invalid_token", error_description="${message}"`);
  assert.equal(res.headers.get("x-amzn-errortype"), "NotAuthorizedException");
  assert.ok(res.headers.get("x-amzn-requestid"));
  assert.deepEqual(await res.json(), { __type: "NotAuthorizedException", message });
}

test("healthz reports a valid configuration and reachable KV", async () => {
  const res = await worker.fetch("/healthz");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, "ok");
  assert.deepEqual(body.pools, [POOL, HS_POOL]);
});

for (const alg of [...ASYMMETRIC, "HS256"]) {
  test(`an access token signed by jose with ${alg} passes the gate`, async () => {
    const key = alg === "HS256" ? hsKey : keys[alg];
    const poolId = alg === "HS256" ? HS_POOL : POOL;
    const claims = accessClaims(poolId, { username: `user-${alg}`, client_id: alg === "HS256" ? "client2" : "client1" });
    const res = await worker.fetch("/api/me", bearer(await sign(key, claims)));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.username, `user-${alg}`);
    assert.equal(body.sub, claims.sub);
  });
}

test("an id token passes when the pool accepts id tokens", async () => {
  const res = await worker.fetch("/api/me", bearer(await sign(keys.RS256, idClaims(POOL))));
  assert.equal(res.status, 200);
  assert.equal((await res.json())["cognito:username"], "alice");
});

test("a request without a bearer token is refused with a plain challenge", async () => {
  const res = await worker.fetch("/api/me");
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), "Bearer");
  assert.equal((await res.json()).__type, "NotAuthorizedException");
});

test("an expired token is refused with Cognito's words", async () => {
  const claims = accessClaims(POOL, { iat: now() - 7200, exp: now() - 10 });
  await expectRefusal(await worker.fetch("/api/me", bearer(await sign(keys.ES256, claims))), "Access Token has expired");
});

test("an expired id token says ID Token", async () => {
  const claims = idClaims(POOL, { iat: now() - 7200, exp: now() - 10 });
  await expectRefusal(await worker.fetch("/api/me", bearer(await sign(keys.ES256, claims))), "ID Token has expired");
});

test("a tampered payload is refused", async () => {
  const token = await sign(keys.RS256, accessClaims(POOL));
  const [h, p, s] = token.split(".");
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url")), username: "admin" })).toString("base64url");
  await expectRefusal(await worker.fetch("/api/me", bearer(`${h}.${forged}.${s}`)), "Invalid Access Token");
});

test("a token signed by a key the pool does not know is refused", async () => {
  const stranger = await keyFor("RS256", "kid-rs256");
  await expectRefusal(await worker.fetch("/api/me", bearer(await sign(stranger, accessClaims(POOL)))), "Invalid Access Token");
});

test("a token for another client is refused", async () => {
  const token = await sign(keys.RS256, accessClaims(POOL, { client_id: "someone-else" }));
  await expectRefusal(await worker.fetch("/api/me", bearer(token)), "Invalid Access Token");
});

test("alg none is refused", async () => {
  const claims = Buffer.from(JSON.stringify(accessClaims(POOL))).toString("base64url");
  const header = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
  await expectRefusal(await worker.fetch("/api/me", bearer(`${header}.${claims}.`)), "Invalid Access Token");
});

test("an HS256 token keyed with an RSA public key is refused", async () => {
  const spki = await crypto.subtle.exportKey("spki", await crypto.subtle.importKey("jwk", keys.RS256.publicJwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]));
  const pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(spki).toString("base64").match(/.{1,64}/g).join("\n")}\n-----END PUBLIC KEY-----\n`;
  const confused = { alg: "HS256", kid: keys.RS256.kid, privateKey: new TextEncoder().encode(pem) };
  await expectRefusal(await worker.fetch("/api/me", bearer(await sign(confused, accessClaims(POOL)))), "Invalid Access Token");
});

test("a sixteen kilobyte token is refused without a 5xx", async () => {
  const token = await sign(keys.RS256, accessClaims(POOL, { padding: "x".repeat(20_000) }));
  await expectRefusal(await worker.fetch("/api/me", bearer(token)), "Invalid Access Token");
});

test("garbage bearer strings never produce a 5xx", async () => {
  for (const junk of ["a", "a.b.c", "....", ".".repeat(5000), "é.é.é", "eyJ.eyJ.eyJ", "%00", "Bearer"]) {
    const res = await worker.fetch("/api/me", bearer(junk));
    assert.equal(res.status, 401, junk);
  }
});

test("paths outside the protected prefixes need no token", async () => {
  const res = await worker.fetch("/not-protected");
  assert.notEqual(res.status, 401);
  assert.ok(res.status < 500);
});

test("an invalid configuration is a 500 on every request that names no field to the caller", async () => {
  const broken = await startWorker({ POOLS: JSON.stringify([{ id: "us-east-1_Bad1", isuer: "x", allow_any_client: true }]) });
  try {
    for (const path of ["/api/me", "/"]) {
      const res = await broken.fetch(path, { method: path === "/" ? "POST" : "GET" });
      assert.equal(res.status, 500, path);
      const body = await res.json();
      assert.deepEqual(body, { __type: "InternalErrorException", message: "The Worker's configuration is invalid; the details are in its log." });
    }
    const health = await broken.fetch("/healthz");
    assert.equal(health.status, 500);
    const text = await health.text();
    assert.deepEqual(JSON.parse(text), { status: "error", config: "error", kv: "ok" });
    assert.doesNotMatch(text, /isuer|POOLS/);
  } finally {
    await broken.dispose();
  }
});

test("the JavaScript API tells the Worker's own code which setting is wrong", async () => {
  const broken = await startWorker({ POOLS: JSON.stringify([{ id: "us-east-1_Bad1", isuer: "x", allow_any_client: true }]) }, { entry: "tests/worker/api-entry.js" });
  try {
    const res = await broken.fetch("/__test/js-api", { method: "POST", body: JSON.stringify({ call: "verifyToken", args: ["x.y.z"] }) });
    const { rejected } = await res.json();
    assert.equal(rejected.name, "InternalErrorException");
    assert.match(rejected.message, /^Configuration error: POOLS\[0\]\.isuer: /);
  } finally {
    await broken.dispose();
  }
});

test("accepted requests are proxied with verified identity headers and forged ones removed", async () => {
  const origin = await startServer(() => ({ status: 200, body: "upstream ok" }));
  const proxy = await startWorker({ POOLS: JSON.stringify([pool(POOL, [keys.RS256])]), ORIGIN_URL: origin.url });
  try {
    const token = await sign(keys.RS256, accessClaims(POOL, { username: "zoë" }));
    const res = await proxy.fetch("/api/orders?x=1", {
      method: "POST",
      body: "payload",
      headers: { authorization: `Bearer ${token}`, "x-edge-auth-sub": "forged", "x-edge-auth-admin": "true" },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "upstream ok");
    const seen = origin.requests.at(-1);
    assert.equal(seen.method, "POST");
    assert.equal(seen.url, "/api/orders?x=1");
    assert.equal(seen.body, "payload");
    assert.equal(seen.headers["x-edge-auth-sub"], "7d0a5c2e-1111-4aaa-8bbb-000000000001");
    assert.equal(seen.headers["x-edge-auth-username"], "zo%C3%AB");
    assert.equal(seen.headers["x-edge-auth-client-id"], "client1");
    assert.equal(seen.headers["x-edge-auth-token-use"], "access");
    assert.equal(seen.headers["x-edge-auth-scope"], "aws.cognito.signin.user.admin");
    assert.equal(seen.headers["x-edge-auth-admin"], undefined);
    const refused = await proxy.fetch("/api/orders", { headers: { "x-edge-auth-sub": "forged" } });
    assert.equal(refused.status, 401);
    assert.equal(origin.requests.length, 1, "a refused request never reaches the origin");
  } finally {
    await proxy.dispose();
    await origin.close();
  }
});

test("identity headers spelled with underscores or in any case never reach the origin", async () => {
  const origin = await startServer(() => ({ status: 200, body: "upstream ok" }));
  const proxy = await startWorker({ POOLS: JSON.stringify([pool(POOL, [keys.RS256])]), ORIGIN_URL: origin.url });
  // CGI-style servers read each of these as HTTP_X_EDGE_AUTH_<NAME>, the same as our own headers.
  const forged = {
    x_edge_auth_username: "admin",
    "X-Edge-Auth-Sub": "forged-sub",
    X_EDGE_AUTH_POOL: "us-east-1_Other",
    "x-edge_auth-scope": "admin:all",
    "X_Edge-Auth_client-id": "forged-client",
    x_edge_auth_admin: "true",
  };
  try {
    const token = await sign(keys.RS256, accessClaims(POOL, { username: "alice" }));
    const res = await proxy.fetch("/api/orders", { headers: { authorization: `Bearer ${token}`, ...forged } });
    assert.equal(res.status, 200);
    const seen = origin.requests.at(-1).headers;
    for (const [name, value] of Object.entries(forged)) {
      assert.ok(!Object.values(seen).includes(value), `${name}: ${value} reached the origin`);
    }
    const ours = Object.keys(seen).filter((name) => name.replaceAll("_", "-").startsWith("x-edge-auth-")).sort();
    assert.deepEqual(ours, ["x-edge-auth-client-id", "x-edge-auth-pool", "x-edge-auth-scope", "x-edge-auth-sub", "x-edge-auth-token-use", "x-edge-auth-username"]);
    assert.equal(seen["x-edge-auth-username"], "alice");
    assert.equal(seen["x-edge-auth-sub"], "7d0a5c2e-1111-4aaa-8bbb-000000000001");
    assert.equal(seen["x-edge-auth-pool"], POOL);
    assert.equal(seen["x-edge-auth-client-id"], "client1");
    assert.equal(seen["x-edge-auth-scope"], "aws.cognito.signin.user.admin");
  } finally {
    await proxy.dispose();
    await origin.close();
  }
});

// The refetch once the cooldown has passed is proven natively with a pinned clock (src/jwks.rs).
test("a pool with a jwks_uri fetches its keys inside a request, then serves them from the isolate", async () => {
  const first = await keyFor("RS256", "rotating-1");
  const second = await keyFor("RS256", "rotating-2");
  let served = [first.publicJwk];
  const issuer = await startServer(() => ({ body: JSON.stringify({ keys: served }) }));
  const id = "us-east-1_Remote1";
  const remote = await startWorker({ POOLS: JSON.stringify([{ ...pool(id, []), algorithms: ["RS256"], jwks: undefined, jwks_uri: `${issuer.url}/jwks.json` }]) });
  try {
    assert.equal(issuer.requests.length, 0, "nothing is fetched at module load");
    assert.equal((await remote.fetch("/api/me", bearer(await sign(first, accessClaims(id))))).status, 200);
    assert.equal((await remote.fetch("/api/me", bearer(await sign(first, accessClaims(id))))).status, 200);
    assert.equal(issuer.requests.length, 1, "the second request is served from the isolate cache");
    served = [first.publicJwk, second.publicJwk];
    await expectRefusal(await remote.fetch("/api/me", bearer(await sign(second, accessClaims(id)))), "Invalid Access Token");
    await expectRefusal(await remote.fetch("/api/me", bearer(await sign(second, accessClaims(id)))), "Invalid Access Token");
    assert.equal(issuer.requests.length, 1, "within the cooldown an unknown kid does not refetch");
  } finally {
    await remote.dispose();
    await issuer.close();
  }
});

test("an unreachable jwks_uri fails closed with a 503, never a pass", async () => {
  const id = "us-east-1_Remote2";
  const key = await keyFor("RS256");
  const remote = await startWorker({ POOLS: JSON.stringify([{ ...pool(id, []), algorithms: ["RS256"], jwks: undefined, jwks_uri: "http://127.0.0.1:9/jwks.json" }]) });
  try {
    const res = await remote.fetch("/api/me", bearer(await sign(key, accessClaims(id))));
    assert.equal(res.status, 503);
    assert.equal((await res.json()).__type, "InternalErrorException");
  } finally {
    await remote.dispose();
  }
});

// Before: an ID token's own `client_id` claim (never checked) became x-edge-auth-client-id.
test("an id token's client id header is its checked aud, never a client_id claim it carries", async () => {
  const origin = await startServer(() => ({ status: 200, body: "upstream ok" }));
  const proxy = await startWorker({ POOLS: JSON.stringify([pool(POOL, [keys.RS256])]), ORIGIN_URL: origin.url });
  try {
    const token = await sign(keys.RS256, idClaims(POOL, { client_id: "admin-console" }));
    const res = await proxy.fetch("/api/orders", bearer(token));
    assert.equal(res.status, 200);
    const seen = origin.requests.at(-1);
    assert.equal(seen.headers["x-edge-auth-token-use"], "id");
    assert.equal(seen.headers["x-edge-auth-client-id"], "client1");
  } finally {
    await proxy.dispose();
    await origin.close();
  }
});

// Before: a token authenticated a day ahead survived every sign-out until then.
test("a token whose iat or auth_time is more than 60 seconds ahead is refused", async () => {
  for (const claim of ["iat", "auth_time"]) {
    const ahead = await sign(keys.RS256, accessClaims(POOL, { [claim]: now() + 86_400 }));
    await expectRefusal(await worker.fetch("/api/me", bearer(ahead)), "Invalid Access Token");
    const skewed = await sign(keys.RS256, accessClaims(POOL, { [claim]: now() + 30 }));
    assert.equal((await worker.fetch("/api/me", bearer(skewed))).status, 200, `${claim} within the skew`);
  }
});
