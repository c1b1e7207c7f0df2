// Fail closed, and no half state, in real workerd — through a FAKE KV binding. The Worker runs
// from tests/worker/fault-entry.js (test-only), which hands the product a fake REVOCATIONS
// namespace over the real local KV; the fake fails reads, writes, or answers garbage on demand
// (POST /__fake-kv). When KV cannot be read no token is accepted; when a write fails the caller is
// told (InternalErrorException) and nothing is left behind; nothing traps the wasm instance.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminUserGlobalSignOutCommand,
  GetUserCommand,
  GlobalSignOutCommand,
  RevokeTokenCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import {
  startWorker,
  keyFor,
  pool,
  accessClaims,
  idClaims,
  sign,
  bearer,
  ADMIN,
  adminCredentials,
  signingKeys,
  localPool,
  cognito,
  decodeJwt,
  createUser,
  signIn,
  refresh,
  rejection,
  assertAwsError,
  assertGateRefusal,
  assertGateFault,
} from "./support.mjs";

const LOCAL = "us-east-1_FaultLocal1";
const LOCAL_CLIENT = "faultlocalclient1";
const EXTERNAL = "us-east-1_FaultExt1";
const HEALTHY = { failReads: false, failWrites: false, failMode: "reject", failPutsAfter: null, garbage: null, rateLimitPuts: 0, spare: null };
// Each SigV4-signed call first records its signature (src/replay.rs); tests that aim a fault at a
// later write let that record through.
const SIGNATURE_RECORDS = "sigv4/v1/";

let worker, client, extKey;
const unique = (prefix) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

before(async () => {
  extKey = await keyFor("RS256", "fault-rs256");
  worker = await startWorker(
    {
      POOLS: JSON.stringify([localPool(LOCAL, LOCAL_CLIENT), pool(EXTERNAL, [extKey])]),
      SIGNING_KEYS: signingKeys(),
      ADMIN_CREDENTIALS: adminCredentials(ADMIN),
    },
    { entry: "tests/worker/fault-entry.js" },
  );
  client = cognito(worker);
});
after(() => worker?.dispose());
afterEach(async () => {
  await fake(HEALTHY);
});

/** Tells the fake KV how to behave; answers its state. */
async function fake(changes) {
  const res = await worker.fetch("/__fake-kv", { method: "POST", body: JSON.stringify(changes) });
  assert.equal(res.status, 200);
  return res.json();
}
const fakeState = async () => (await worker.fetch("/__fake-kv")).json();

/** A fresh external-pool token: its sub and origin_jti are new, so no lookup of it is cached. */
const freshToken = (overrides = {}) =>
  sign(extKey, accessClaims(EXTERNAL, { sub: crypto.randomUUID(), username: unique("ext"), ...overrides }));

async function assertPasses(token, what = "token") {
  const res = await worker.fetch("/api/me", bearer(token));
  const body = await res.json();
  assert.equal(res.status, 200, `${what} should pass: ${JSON.stringify(body)}`);
  assert.equal(body.jti, decodeJwt(token).jti);
}

async function assertNoTraps() {
  assert.equal((await fakeState()).counters.traps, 0, "the wasm instance never trapped");
}

test("with KV reads failing a valid token is refused with a 503, never passed, and passes once KV is back", async () => {
  const access = await freshToken();
  const id = await sign(extKey, idClaims(EXTERNAL, { sub: decodeJwt(access).sub, origin_jti: crypto.randomUUID() }));
  await fake({ failReads: true, reset: true });

  await assertGateFault(await worker.fetch("/api/me", bearer(access)));
  await assertGateFault(await worker.fetch("/api/me", bearer(id)));
  await assertGateFault(await worker.fetch("/api/me", bearer(access)));
  const { counters } = await fakeState();
  assert.equal(counters.failedGets, 3, "each request asked the fake, and a failed read was not cached");

  await fake({ failReads: false });
  await assertPasses(access, "the same access token after recovery");
  await assertPasses(id, "the same id token after recovery");
  await assertNoTraps();
});

test("a KV binding that throws instead of rejecting fails closed the same way", async () => {
  const access = await freshToken();
  await fake({ failReads: true, failMode: "throw", reset: true });
  await assertGateFault(await worker.fetch("/api/me", bearer(access)));
  assertAwsError(await rejection(client.send(new GetUserCommand({ AccessToken: access }))), "InternalErrorException", "Internal server error.", 500);
  assert.equal((await fakeState()).counters.failedGets, 2);
  await fake({ failReads: false });
  await assertPasses(access, "after recovery");
  await assertNoTraps();
});

test("with KV reads failing /healthz answers 503 and names KV as unreachable", async () => {
  await fake({ failReads: true });
  const res = await worker.fetch("/healthz");
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), {
    status: "error", config: "ok", kv: "unreachable", pools: [LOCAL, EXTERNAL],
    revocation: { authority: "none", enforced_within_s: 95 },
  });
  await fake({ failReads: false });
  const healthy = await worker.fetch("/healthz");
  assert.equal(healthy.status, 200);
  assert.equal((await healthy.json()).kv, "ok");
});

test("with KV reads failing GetUser answers InternalErrorException 500, and works again after", async () => {
  const name = unique("gina");
  await createUser(client, LOCAL, name);
  const local = await signIn(client, LOCAL_CLIENT, name);
  const external = await freshToken();
  await fake({ failReads: true, reset: true });

  assertAwsError(await rejection(client.send(new GetUserCommand({ AccessToken: local.AccessToken }))), "InternalErrorException", "Internal server error.", 500);
  assertAwsError(await rejection(client.send(new GetUserCommand({ AccessToken: external }))), "InternalErrorException", "Internal server error.", 500);
  assertAwsError(await rejection(refresh(client, LOCAL_CLIENT, local.RefreshToken)), "InternalErrorException", "Internal server error.", 500);
  assertAwsError(await rejection(signIn(client, LOCAL_CLIENT, name)), "InternalErrorException", "Internal server error.", 500);

  await fake({ failReads: false });
  assert.equal((await client.send(new GetUserCommand({ AccessToken: local.AccessToken }))).Username, name);
  assert.equal((await client.send(new GetUserCommand({ AccessToken: external }))).Username, decodeJwt(external).username);
  await assertNoTraps();
});

test("with KV writes failing AdminUserGlobalSignOut answers 500 and leaves no half state", async () => {
  const name = unique("hank");
  const sub = await createUser(client, LOCAL, name);
  const tokens = await signIn(client, LOCAL_CLIENT, name);
  await assertPasses(tokens.AccessToken, "before");
  await fake({ failWrites: true, reset: true });

  const err = await rejection(client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: LOCAL, Username: name })));
  assertAwsError(err, "InternalErrorException", "Internal server error.", 500);
  assert.equal((await fakeState()).counters.failedPuts, 1, "the sign-out tried to write once");

  await fake({ failWrites: false });
  const key = `rev/v1/u/${LOCAL}/${sub}`;
  assert.equal(await worker.kv.get(key), null, "no revocation entry in KV");
  assert.deepEqual((await worker.kv.list({ prefix: `rev/v1/u/${LOCAL}/` })).keys.filter((k) => k.name === key), []);
  // Nor a revocation remembered by the isolate: the user's tokens still work everywhere.
  await assertPasses(tokens.AccessToken, "access after the failed sign-out");
  await assertPasses(tokens.IdToken, "id after the failed sign-out");
  assert.equal((await client.send(new GetUserCommand({ AccessToken: tokens.AccessToken }))).Username, name);
  await assertPasses((await refresh(client, LOCAL_CLIENT, tokens.RefreshToken)).AccessToken, "refreshed after the failed sign-out");

  // The next sign-out succeeds and takes effect.
  const out = await client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: LOCAL, Username: name }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.equal(JSON.parse(await worker.kv.get(key)).request_id, out.$metadata.requestId);
  await assertGateRefusal(await worker.fetch("/api/me", bearer(tokens.AccessToken)), "Access Token has been revoked");
  await assertNoTraps();
});

test("a write KV refuses for its per-key rate (429) is retried once after a second, and the sign-out lands", async () => {
  const name = unique("ivy");
  const sub = await createUser(client, LOCAL, name);
  const tokens = await signIn(client, LOCAL_CLIENT, name);
  await fake({ rateLimitPuts: 1, spare: SIGNATURE_RECORDS, reset: true });
  const started = Date.now();
  const out = await client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: LOCAL, Username: name }));
  const took = Date.now() - started;
  assert.equal(out.$metadata.httpStatusCode, 200);
  const { counters } = await fakeState();
  assert.equal(counters.puts, 2, "one refused put, one retried put");
  assert.equal(counters.failedPuts, 1);
  assert.equal(counters.sparedPuts, 1, "the call's signature was recorded");
  assert.ok(took >= 1000, `the retry waited out KV's one-second window (${took} ms)`);
  assert.equal(JSON.parse(await worker.kv.get(`rev/v1/u/${LOCAL}/${sub}`)).request_id, out.$metadata.requestId);
  await assertGateRefusal(await worker.fetch("/api/me", bearer(tokens.AccessToken)), "Access Token has been revoked");
  await assertNoTraps();
});

test("a write refused for its rate twice answers 500 and leaves no entry", async () => {
  const name = unique("jude");
  const sub = await createUser(client, LOCAL, name);
  await fake({ rateLimitPuts: 2, spare: SIGNATURE_RECORDS, reset: true });
  const err = await rejection(client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: LOCAL, Username: name })));
  assertAwsError(err, "InternalErrorException", "Internal server error.", 500);
  assert.equal(await worker.kv.get(`rev/v1/u/${LOCAL}/${sub}`), null);
  await assertNoTraps();
});

test("with KV writes failing GlobalSignOut and RevokeToken answer 500 and revoke nothing", async () => {
  const name = unique("iris");
  const sub = await createUser(client, LOCAL, name);
  const one = await signIn(client, LOCAL_CLIENT, name);
  const two = await signIn(client, LOCAL_CLIENT, name);
  await fake({ failWrites: true });

  assertAwsError(await rejection(client.send(new GlobalSignOutCommand({ AccessToken: one.AccessToken }))), "InternalErrorException", "Internal server error.", 500);
  assertAwsError(await rejection(client.send(new RevokeTokenCommand({ Token: two.RefreshToken, ClientId: LOCAL_CLIENT }))), "InternalErrorException", "Internal server error.", 500);

  await fake({ failWrites: false });
  assert.equal(await worker.kv.get(`rev/v1/u/${LOCAL}/${sub}`), null);
  assert.equal(await worker.kv.get(`rev/v1/s/${LOCAL}/${decodeJwt(two.AccessToken).origin_jti}`), null);
  await assertPasses(one.AccessToken, "session 1");
  await assertPasses(two.AccessToken, "session 2");
  await assertPasses((await refresh(client, LOCAL_CLIENT, two.RefreshToken)).AccessToken, "session 2 refreshed");

  await client.send(new RevokeTokenCommand({ Token: two.RefreshToken, ClientId: LOCAL_CLIENT }));
  await assertGateRefusal(await worker.fetch("/api/me", bearer(two.AccessToken)), "Access Token has been revoked");
  await assertPasses(one.AccessToken, "session 1 after session 2 was revoked");
  await assertNoTraps();
});

const userKeys = async () => (await worker.kv.list({ prefix: `user/v1/${LOCAL}/` })).keys.map((k) => k.name).sort();
const createGhost = (name) =>
  client.send(
    new AdminCreateUserCommand({
      UserPoolId: LOCAL,
      Username: name,
      TemporaryPassword: "Temporary-Pass-1!",
      UserAttributes: [{ Name: "email", Value: `${name}@example.com` }],
    }),
  );

test("with KV writes failing AdminCreateUser answers 500 and creates nobody", async () => {
  const name = unique("ghost");
  const before = await userKeys();
  await fake({ failWrites: true });
  assertAwsError(await rejection(createGhost(name)), "InternalErrorException", "Internal server error.", 500);
  await fake({ failWrites: false });

  assert.deepEqual(await userKeys(), before, "no user record or index was written");
  assertAwsError(await rejection(client.send(new AdminGetUserCommand({ UserPoolId: LOCAL, Username: name }))), "UserNotFoundException", "User does not exist.");
  const created = await createGhost(name);
  assert.equal(created.User.Username, name, "the name is free");
  await assertNoTraps();
});

test("an AdminCreateUser whose username index write fails rolls its record back", async () => {
  const name = unique("ghost");
  const before = await userKeys();
  await fake({ failPutsAfter: 1, spare: SIGNATURE_RECORDS, reset: true }); // the record is written, the username index is not
  assertAwsError(await rejection(createGhost(name)), "InternalErrorException", "Internal server error.", 500);
  const { counters } = await fakeState();
  assert.deepEqual([counters.puts, counters.failedPuts, counters.deletes], [2, 1, 1], "record put, index put failed, record deleted");
  await fake({ failPutsAfter: null });

  assert.deepEqual(await userKeys(), before, "the record was rolled back");
  assertAwsError(await rejection(client.send(new AdminGetUserCommand({ UserPoolId: LOCAL, Username: name }))), "UserNotFoundException", "User does not exist.");
  await createGhost(name);
  await assertNoTraps();
});

test("an AdminCreateUser whose email index write fails leaves no reachable user and the name and email free", async () => {
  const name = unique("ghost");
  const recordsBefore = (await userKeys()).filter((k) => k.includes("/sub/"));
  await fake({ failPutsAfter: 2, spare: SIGNATURE_RECORDS, reset: true }); // record and username index written, email index not
  assertAwsError(await rejection(createGhost(name)), "InternalErrorException", "Internal server error.", 500);
  const { counters } = await fakeState();
  assert.deepEqual([counters.puts, counters.failedPuts, counters.deletes], [3, 1, 1], "record and name index put, email index failed, record deleted");
  await fake({ failPutsAfter: null });
  const records = (await userKeys()).filter((k) => k.includes("/sub/"));
  assert.deepEqual(records, recordsBefore, "the user record was rolled back (a stale username index may remain: it points at nothing)");

  for (const alias of [name, `${name}@example.com`]) {
    assertAwsError(await rejection(client.send(new AdminGetUserCommand({ UserPoolId: LOCAL, Username: alias }))), "UserNotFoundException", "User does not exist.");
  }
  const created = await createGhost(name);
  assert.equal(created.User.Username, name, "neither the username nor the email is taken");
  await assertNoTraps();
});

test("a revocation entry that is not a revocation entry refuses the token (fail closed)", async () => {
  for (const [label, garbage, keyOf] of [
    ["user entry 'not json'", "not json", (c) => `rev/v1/u/${EXTERNAL}/${c.sub}`],
    ["session entry 'not json'", "not json", (c) => `rev/v1/s/${EXTERNAL}/${c.origin_jti}`],
    ["user entry with a string revoked_at", JSON.stringify({ revoked_at: "yesterday" }), (c) => `rev/v1/u/${EXTERNAL}/${c.sub}`],
  ]) {
    const token = await freshToken();
    const key = keyOf(decodeJwt(token));
    await worker.kv.put(key, garbage);
    const res = await worker.fetch("/api/me", bearer(token));
    assert.equal(res.status, 503, label);
    await assertGateFault(res);
    assertAwsError(await rejection(client.send(new GetUserCommand({ AccessToken: token }))), "InternalErrorException", "Internal server error.", 500);
    await worker.kv.delete(key);
    await assertPasses(token, `${label}, once the entry is gone`);
  }
  await assertNoTraps();
});

test("a bulk read that answers garbage refuses the token (fail closed)", async () => {
  for (const garbage of ["not-a-map", "non-string"]) {
    const token = await freshToken();
    await fake({ garbage });
    await assertGateFault(await worker.fetch("/api/me", bearer(token)));
    assertAwsError(await rejection(client.send(new GetUserCommand({ AccessToken: token }))), "InternalErrorException", "Internal server error.", 500);
    await fake({ garbage: null });
    await assertPasses(token, `after the ${garbage} answers stop`);
  }
  await assertNoTraps();
});

// Workers KV's bulk get answers every key asked for (null when absent). An answer that leaves a
// key out is not "absent": the binding broke its contract, and nothing can be decided from it.
test(
  "a bulk read that leaves out the keys asked for refuses the token (fail closed)",
  async () => {
    const token = await freshToken();
    const key = `rev/v1/u/${EXTERNAL}/${decodeJwt(token).sub}`;
    await worker.kv.put(key, JSON.stringify({ revoked_at: Date.now(), by: "test", reason: "AdminUserGlobalSignOut", request_id: "t" }));
    await fake({ garbage: "missing-keys" });
    await assertGateFault(await worker.fetch("/api/me", bearer(token)));
    await fake({ garbage: null });
    await assertGateRefusal(await worker.fetch("/api/me", bearer(token)), "Access Token has been revoked");
  },
);

// The fake counts what the product asks of KV, so here the cache is shown directly: one bulk read
// (sub, username and origin_jti keys together) for the first request, none for the next ones.
test("with the isolate's cache warm, gated requests do not read KV", async () => {
  const token = await freshToken();
  await fake({ reset: true });
  await assertPasses(token, "first");
  const first = (await fakeState()).counters;
  assert.deepEqual([first.gets, first.keysRead], [1, 3], "one bulk read of the sub, username and session keys");
  for (let i = 0; i < 5; i++) await assertPasses(token, `request ${i + 2}`);
  assert.equal((await fakeState()).counters.gets, 1, "no further KV reads");
});
