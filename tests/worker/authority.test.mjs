// The revocation authority in real workerd (Miniflare): the entry's RevocationAuthority class as a
// SQLite-backed Durable Object bound as REVOCATION_AUTHORITY. Receipts over HTTP (through the
// unmodified AWS SDK) and from the JavaScript API, /healthz, a sign-out reaching another isolate
// through the feed long before its KV cache would, and what happens when the authority cannot be
// reached. The multi-location proof (several locations, lagging KV, kill mid-run) is
// tests/freshness/ (`make freshness`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { AdminUserGlobalSignOutCommand } from "@aws-sdk/client-cognito-identity-provider";
import {
  ROOT, COMPATIBILITY_DATE, manifest, varBindings, AUTHORITY_EXPORTS, authorityBinding,
  startWorker, keyFor, pool, accessClaims, sign, bearer, now, sleep,
  ADMIN, adminCredentials, localPool, cognito, createUser, signIn, signingKeys,
  assertGateRefusal, assertGateFault, logSink,
} from "./support.mjs";

const EXTERNAL = "us-east-1_Auth1";
const LOCAL = "us-east-1_AuthLocal1";
const CLIENT = "authclient";
const REVOKED = "Access Token has been revoked";
const FAULT_ENTRY = { entry: "tests/worker/authority-fault-entry.js", modules: ["tests/worker/api-entry.js"], authority: true };
let key;
let worker;
let vars;

before(async () => {
  key = await keyFor("HS256");
  vars = {
    POOLS: JSON.stringify([pool(EXTERNAL, [key]), localPool(LOCAL, CLIENT)]),
    ADMIN_CREDENTIALS: adminCredentials(ADMIN),
    SIGNING_KEYS: signingKeys(),
  };
  worker = await startWorker(vars, FAULT_ENTRY);
});

after(async () => {
  await worker?.dispose();
});

const tokenOf = (sub, username = sub) =>
  sign(key, accessClaims(EXTERNAL, { sub, username, auth_time: now() - 60, iat: now() - 60 }));

async function jsApi(target, call, ...args) {
  const res = await target.fetch("/__test/js-api", { method: "POST", body: JSON.stringify({ call, args }) });
  return res.json();
}

async function fakeAuthority(change) {
  const res = await worker.fetch("/__fake-authority", change ? { method: "POST", body: JSON.stringify(change) } : {});
  return res.json();
}

/** The SDK's client with a middleware that keeps the last raw answer's headers. */
function sdkWithHeaders() {
  const client = cognito(worker);
  const seen = {};
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      seen.headers = out.response.headers;
      return out;
    },
    { step: "deserialize", name: "keepHeaders" },
  );
  return { client, seen };
}

test("with the authority bound /healthz says its feed is fresh and sign-outs are enforced within 3 s", async () => {
  const res = await worker.fetch("/healthz");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, "ok");
  assert.equal(body.revocation.authority, "bound");
  assert.equal(body.revocation.feed, "fresh");
  assert.equal(body.revocation.enforced_within_s, 3);
  assert.ok(body.revocation.feed_age_ms >= 0 && body.revocation.feed_age_ms < 2000);
});

test("AdminUserGlobalSignOut through the AWS SDK answers {} with a receipt within 3 s, and the authority writes KV", async () => {
  const { client, seen } = sdkWithHeaders();
  const user = "ext-receipt-1";
  const token = await tokenOf(user);
  assert.equal((await worker.fetch("/api/me", bearer(token))).status, 200);
  const started = Date.now();
  const out = await client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: EXTERNAL, Username: user }));
  const answered = Date.now();
  assert.equal(out.$metadata.httpStatusCode, 200);
  const enforcedBy = Number(seen.headers["x-edge-revoke-enforced-by"]);
  assert.ok(enforcedBy >= started + 3000 - 50 && enforcedBy <= answered + 3000 + 50, `${enforcedBy} vs ${started}..${answered}`);
  const entry = JSON.parse(await worker.kv.get(`rev/v1/u/${EXTERNAL}/${user}`));
  assert.equal(entry.reason, "AdminUserGlobalSignOut");
  assert.equal(entry.by, ADMIN.accessKeyId);
  await assertGateRefusal(await worker.fetch("/api/me", bearer(token)), REVOKED);
});

test("globalSignOut and revokeToken answer their receipt as enforcedBy", async () => {
  const started = Date.now();
  const out = await jsApi(worker, "globalSignOut", { UserPoolId: EXTERNAL, Username: "ext-receipt-2" });
  assert.deepEqual(Object.keys(out.resolved), ["enforcedBy"], JSON.stringify(out));
  assert.ok(out.resolved.enforcedBy >= started + 3000 - 50 && out.resolved.enforcedBy <= Date.now() + 3000 + 50);

  const admin = cognito(worker);
  await createUser(admin, LOCAL, "receipt-local");
  const tokens = await signIn(admin, CLIENT, "receipt-local");
  const revoked = await jsApi(worker, "revokeToken", { Token: tokens.RefreshToken, ClientId: CLIENT });
  assert.equal(typeof revoked.resolved.enforcedBy, "number", JSON.stringify(revoked));
  await assertGateRefusal(await worker.fetch("/api/me", bearer(tokens.AccessToken)), REVOKED);
});

test("a sign-out in one isolate is refused by another within the receipt, long before the other's KV cache expires", async () => {
  // Two Workers (two isolates) sharing one KV namespace and one authority; the second caches
  // revocation lookups for 300 s, so without the feed it would accept the token for 5 minutes.
  const isolate = (name) => ({
    config: {
      name,
      compatibilityDate: COMPATIBILITY_DATE,
      manifest: manifest("tests/worker/api-entry.js"),
      ...(name === "writer" ? { exports: AUTHORITY_EXPORTS } : {}),
      env: {
        REVOCATIONS: { type: "kv", id: "REVOCATIONS" },
        REVOCATION_AUTHORITY: authorityBinding("writer"),
        ...varBindings({ ...vars, REVOCATION_CACHE_TTL_S: "300" }),
      },
    },
    dev: { rootPath: ROOT },
  });
  const log = logSink();
  const mf = new Miniflare({
    enableDevRegistry: false,
    logRequests: false,
    handleStructuredLogs: ({ level, message }) => log(`${level} ${message}`),
    workers: [isolate("writer"), isolate("reader")],
  });
  try {
    await mf.ready;
    const writer = await mf.getWorker("writer");
    const reader = await mf.getWorker("reader");
    const at = (target) => ({ fetch: (path, init) => target.fetch(`http://localhost${path}`, init) });
    const token = await tokenOf("ext-two-isolates");
    assert.equal((await at(reader).fetch("/api/me", bearer(token))).status, 200, "the reader caches: not revoked");
    const out = await jsApi(at(writer), "globalSignOut", { UserPoolId: EXTERNAL, Username: "ext-two-isolates" });
    const answered = Date.now();
    let refusedAt;
    while (!refusedAt && Date.now() < out.resolved.enforcedBy + 2000) {
      const res = await at(reader).fetch("/api/me", bearer(token));
      if (res.status === 401) refusedAt = Date.now();
      else await sleep(50);
    }
    assert.ok(refusedAt, "the reader refused the token");
    assert.ok(refusedAt <= out.resolved.enforcedBy, `refused ${refusedAt - answered} ms after the answer, receipt ${out.resolved.enforcedBy - answered} ms`);
  } finally {
    await mf.dispose();
  }
});

test("with the authority unreachable a sign-out goes to KV with KV's window as its receipt, and /healthz says degraded until it is back", async () => {
  const token = await tokenOf("ext-down-1");
  await fakeAuthority({ down: true });
  try {
    const started = Date.now();
    const out = await jsApi(worker, "globalSignOut", { UserPoolId: EXTERNAL, Username: "ext-down-1" });
    assert.ok(out.resolved, JSON.stringify(out));
    // KV's window counted from the latest the write can land: after the authority's 2 s call timeout.
    assert.ok(out.resolved.enforcedBy >= started + 2_000 + 95_000 - 50 && out.resolved.enforcedBy <= Date.now() + 2_000 + 95_000 + 50, `${out.resolved.enforcedBy - started}`);
    assert.ok(await worker.kv.get(`rev/v1/u/${EXTERNAL}/ext-down-1`), "written straight into KV");
    await assertGateRefusal(await worker.fetch("/api/me", bearer(token)), REVOKED);
    // The copy of the feed comes due within FRESHNESS_S; refreshing it then fails.
    await sleep(2100);
    const health = await worker.fetch("/healthz");
    assert.equal(health.status, 200);
    const body = await health.json();
    assert.equal(body.status, "degraded");
    assert.equal(body.revocation.feed, "stale");
    assert.equal(body.revocation.fallback, "kv");
    assert.equal(body.revocation.enforced_within_s, 95);
    const control = await tokenOf("ext-down-control");
    assert.equal((await worker.fetch("/api/me", bearer(control))).status, 200, "KV still decides: others pass");
    assert.ok((await fakeAuthority()).failed > 0);
  } finally {
    await fakeAuthority({ down: false });
  }
  // The back-off is at most 10 s; the feed is fresh again after it.
  let fresh;
  for (let i = 0; i < 60 && !fresh; i++) {
    const body = await (await worker.fetch("/healthz")).json();
    if (body.revocation.feed === "fresh") fresh = body;
    else await sleep(250);
  }
  assert.ok(fresh, "fresh again");
  assert.equal(fresh.status, "ok");
});

test("a binding that throws when asked for its object counts as an unreachable authority, not as none: the sign-out lands in KV and /healthz says degraded", async () => {
  const token = await tokenOf("ext-broken-1");
  await fakeAuthority({ broken: true });
  try {
    const started = Date.now();
    const out = await jsApi(worker, "globalSignOut", { UserPoolId: EXTERNAL, Username: "ext-broken-1" });
    assert.ok(out.resolved, JSON.stringify(out));
    assert.ok(out.resolved.enforcedBy >= started + 95_000 - 50, `receipt ${out.resolved.enforcedBy - started} ms: KV's window`);
    assert.ok(await worker.kv.get(`rev/v1/u/${EXTERNAL}/ext-broken-1`), "written straight into KV");
    await assertGateRefusal(await worker.fetch("/api/me", bearer(token)), REVOKED);
    await sleep(2100);
    const body = await (await worker.fetch("/healthz")).json();
    assert.equal(body.status, "degraded", JSON.stringify(body));
    assert.equal(body.revocation.fallback, "kv");
    assert.notEqual(body.revocation.authority, "none", JSON.stringify(body.revocation));
  } finally {
    await fakeAuthority({ broken: false });
  }
  let fresh;
  for (let i = 0; i < 60 && !fresh; i++) {
    const body = await (await worker.fetch("/healthz")).json();
    if (body.revocation.feed === "fresh") fresh = body;
    else await sleep(250);
  }
  assert.ok(fresh, "fresh again once the binding gives its object");
});

test("with FEED_FAIL_CLOSED_AFTER_S every token is refused once the feed is older than the limit, and /healthz answers 503", async () => {
  const strict = await startWorker(
    { ...vars, FEED_FAIL_CLOSED_AFTER_S: "3" },
    FAULT_ENTRY,
  );
  try {
    const token = await tokenOf("ext-strict-1");
    assert.equal((await strict.fetch("/api/me", bearer(token))).status, 200);
    await strict.fetch("/__fake-authority", { method: "POST", body: JSON.stringify({ down: true }) });
    await sleep(3100);
    await assertGateFault(await strict.fetch("/api/me", bearer(token)));
    const health = await strict.fetch("/healthz");
    assert.equal(health.status, 503);
    const body = await health.json();
    assert.equal(body.status, "error");
    assert.deepEqual(
      { feed: body.revocation.feed, fallback: body.revocation.fallback, within: body.revocation.enforced_within_s },
      { feed: "stale", fallback: "refuse", within: undefined },
    );
    await strict.fetch("/__fake-authority", { method: "POST", body: JSON.stringify({ down: false }) });
    let passed = false;
    for (let i = 0; i < 60 && !passed; i++) {
      passed = (await strict.fetch("/api/me", bearer(token))).status === 200;
      if (!passed) await sleep(250);
    }
    assert.ok(passed, "tokens pass again once the feed is back");
  } finally {
    await strict.dispose();
  }
});
