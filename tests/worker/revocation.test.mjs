// The whole sign-out story over HTTP, in real workerd with local KV: local pools sign users in,
// AdminUserGlobalSignOut / GlobalSignOut / RevokeToken write the revocation list, and every token
// that predates a revocation is refused — at the gate, by GetUser and by refresh — while other
// users, other sessions and later sign-ins live. Also: a revocation written straight into KV
// (as another edge location would) is honoured within REVOCATION_CACHE_TTL_S, the JavaScript API
// rejects with Cognito's exceptions, and the Rate Limiting binding answers TooManyRequestsException.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  AdminUserGlobalSignOutCommand,
  GlobalSignOutCommand,
  GetUserCommand,
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
  ADMIN_2,
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
  kvExpiration,
  sleep,
  now,
} from "./support.mjs";

const LOCAL = "us-east-1_RevLocal1";
const LOCAL_CLIENT = "revlocalclient1";
const EXTERNAL = "us-east-1_RevExt1";
// Non-default lifetimes, so the TTL formula (refresh + the longer of access/ID + 300 s) is checked
// with distinct numbers: 86400 + max(900, 1800) + 300.
const LOCAL_LIFETIMES = { refresh_token_validity_s: 86_400, access_token_validity_s: 900, id_token_validity_s: 1_800 };
const LOCAL_TTL_S = 86_400 + 1_800 + 300;
const DEFAULT_TTL_S = 2_592_000 + 3_600 + 300;
const CACHE_TTL_MS = 2_000;

let worker, client, extKey;
const unique = (prefix) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
const userKey = (poolId, id) => `rev/v1/u/${poolId}/${id}`;
const sessionKey = (poolId, originJti) => `rev/v1/s/${poolId}/${originJti}`;
const emptyOutput = (out) => {
  const { $metadata, ...rest } = out;
  assert.equal($metadata.httpStatusCode, 200);
  assert.deepEqual(rest, {});
};

before(async () => {
  extKey = await keyFor("RS256", "ext-rs256");
  worker = await startWorker({
    POOLS: JSON.stringify([localPool(LOCAL, LOCAL_CLIENT, LOCAL_LIFETIMES), pool(EXTERNAL, [extKey])]),
    SIGNING_KEYS: signingKeys(),
    ADMIN_CREDENTIALS: adminCredentials(ADMIN),
    REVOCATION_CACHE_TTL_S: String(CACHE_TTL_MS / 1000),
  });
  client = cognito(worker);
});
after(() => worker?.dispose());

async function me(token) {
  const res = await worker.fetch("/api/me", bearer(token));
  return { status: res.status, body: await res.json() };
}

async function assertPasses(token, what = "token") {
  const { status, body } = await me(token);
  assert.equal(status, 200, `${what} should pass the gate: ${JSON.stringify(body)}`);
  assert.equal(body.jti, decodeJwt(token).jti);
  return body;
}

const signOut = (poolId, username) => client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: poolId, Username: username }));

/** Waits until early in a wall-clock second, so a short sequence of calls fits in one second. */
async function startOfASecond() {
  const into = Date.now() % 1000;
  if (into > 50) await sleep(1000 - into + 5);
}

test("a global sign-out refuses the user's access and ID tokens, GetUser and refresh, and leaves other users alone", async () => {
  const [a, b] = [unique("alice"), unique("bob")];
  await Promise.all([createUser(client, LOCAL, a), createUser(client, LOCAL, b)]);
  const [A, B] = await Promise.all([signIn(client, LOCAL_CLIENT, a), signIn(client, LOCAL_CLIENT, b)]);
  for (const [token, what] of [[A.AccessToken, "A access"], [A.IdToken, "A id"], [B.AccessToken, "B access"], [B.IdToken, "B id"]]) {
    await assertPasses(token, what);
  }

  emptyOutput(await signOut(LOCAL, a));

  await assertGateRefusal(await worker.fetch("/api/me", bearer(A.AccessToken)), "Access Token has been revoked");
  await assertGateRefusal(await worker.fetch("/api/me", bearer(A.IdToken)), "ID Token has been revoked");
  assertAwsError(await rejection(client.send(new GetUserCommand({ AccessToken: A.AccessToken }))), "NotAuthorizedException", "Access Token has been revoked");
  assertAwsError(await rejection(client.send(new GlobalSignOutCommand({ AccessToken: A.AccessToken }))), "NotAuthorizedException", "Access Token has been revoked");
  assertAwsError(await rejection(refresh(client, LOCAL_CLIENT, A.RefreshToken)), "NotAuthorizedException", "Refresh Token has been revoked");

  // B is untouched: gate, GetUser and refresh all still work, and the refreshed tokens pass.
  await assertPasses(B.AccessToken, "B access after A's sign-out");
  await assertPasses(B.IdToken, "B id after A's sign-out");
  assert.equal((await client.send(new GetUserCommand({ AccessToken: B.AccessToken }))).Username, b);
  const refreshed = await refresh(client, LOCAL_CLIENT, B.RefreshToken);
  await assertPasses(refreshed.AccessToken, "B refreshed access");
  assert.equal(decodeJwt(refreshed.AccessToken).origin_jti, decodeJwt(B.AccessToken).origin_jti);

  // Signing out again is success with an empty output (idempotent), and A stays refused.
  emptyOutput(await signOut(LOCAL, a));
  await assertGateRefusal(await worker.fetch("/api/me", bearer(A.AccessToken)), "Access Token has been revoked");
});

test("signing in again in the same second as the sign-out gives tokens that live", async () => {
  const name = unique("carol");
  await createUser(client, LOCAL, name);
  const old = await signIn(client, LOCAL_CLIENT, name);
  await startOfASecond();
  await signOut(LOCAL, name);
  const fresh = await signIn(client, LOCAL_CLIENT, name);

  const entry = JSON.parse(await worker.kv.get(userKey(LOCAL, decodeJwt(old.AccessToken).sub)));
  const claims = decodeJwt(fresh.AccessToken);
  assert.equal(claims.iat, Math.floor(entry.revoked_at / 1000), "the sign-in fell in the sign-out's second (the case under test)");
  assert.ok(claims.auth_time * 1000 > entry.revoked_at, "the new session is authenticated after the sign-out");

  await assertPasses(fresh.AccessToken, "fresh access");
  await assertPasses(fresh.IdToken, "fresh id");
  assert.equal((await client.send(new GetUserCommand({ AccessToken: fresh.AccessToken }))).Username, name);
  await assertPasses((await refresh(client, LOCAL_CLIENT, fresh.RefreshToken)).AccessToken, "fresh, refreshed");
  await assertGateRefusal(await worker.fetch("/api/me", bearer(old.AccessToken)), "Access Token has been revoked");
  assertAwsError(await rejection(refresh(client, LOCAL_CLIENT, old.RefreshToken)), "NotAuthorizedException", "Refresh Token has been revoked");
});

test("signing in again a second after the sign-out gives tokens that live", async () => {
  const name = unique("dave");
  await createUser(client, LOCAL, name);
  const old = await signIn(client, LOCAL_CLIENT, name);
  await signOut(LOCAL, name);
  await sleep(1_100);
  const fresh = await signIn(client, LOCAL_CLIENT, name);

  const entry = JSON.parse(await worker.kv.get(userKey(LOCAL, decodeJwt(old.AccessToken).sub)));
  assert.ok(decodeJwt(fresh.AccessToken).auth_time > Math.floor(entry.revoked_at / 1000));
  await assertPasses(fresh.AccessToken, "fresh access");
  await assertPasses(fresh.IdToken, "fresh id");
  await assertPasses((await refresh(client, LOCAL_CLIENT, fresh.RefreshToken)).AccessToken, "fresh, refreshed");
  await assertGateRefusal(await worker.fetch("/api/me", bearer(old.IdToken)), "ID Token has been revoked");
});

test(
  "a sign-out in the same second as a sign-in that followed an earlier sign-out still revokes that sign-in",
  async () => {
    const name = unique("erin");
    await createUser(client, LOCAL, name);
    await startOfASecond();
    const second = Math.floor(Date.now() / 1000);
    await signOut(LOCAL, name);
    const between = await signIn(client, LOCAL_CLIENT, name);
    await signOut(LOCAL, name); // an admin reacting to the sign-in: it predates this call
    assert.equal(Math.floor(Date.now() / 1000), second, "all three calls fell in one second (the case under test)");
    await assertGateRefusal(await worker.fetch("/api/me", bearer(between.AccessToken)), "Access Token has been revoked");
    assertAwsError(await rejection(refresh(client, LOCAL_CLIENT, between.RefreshToken)), "NotAuthorizedException", "Refresh Token has been revoked");
  },
);

test("the sign-out's KV entry says when, who and why, and expires after the longest token lifetime plus leeway", async () => {
  const name = unique("frank");
  const sub = await createUser(client, LOCAL, name);
  const tokens = await signIn(client, LOCAL_CLIENT, name);
  assert.equal(decodeJwt(tokens.AccessToken).sub, sub);

  const startedAt = Date.now();
  const out = await signOut(LOCAL, name);
  const endedAt = Date.now();

  const key = userKey(LOCAL, sub);
  const entry = JSON.parse(await worker.kv.get(key));
  assert.deepEqual(Object.keys(entry).sort(), ["by", "reason", "request_id", "revoked_at"]);
  assert.ok(Number.isInteger(entry.revoked_at));
  assert.ok(entry.revoked_at >= startedAt - 50 && entry.revoked_at <= endedAt + 50, `revoked_at ${entry.revoked_at} within the call [${startedAt}, ${endedAt}]`);
  assert.equal(entry.reason, "AdminUserGlobalSignOut");
  assert.equal(entry.by, ADMIN.accessKeyId);
  assert.equal(entry.request_id, out.$metadata.requestId);

  const expiration = await kvExpiration(worker.kv, key);
  const expected = Math.floor(entry.revoked_at / 1000) + LOCAL_TTL_S;
  assert.ok(Math.abs(expiration - expected) <= 2, `expiration ${expiration} ≈ ${expected} (revoked_at + ${LOCAL_TTL_S} s)`);

  // An external pool (default lifetimes, no user directory) keys the entry by Username as given.
  const extUser = unique("ext-user");
  const extStarted = Date.now();
  await signOut(EXTERNAL, extUser);
  const extKeyName = userKey(EXTERNAL, extUser);
  assert.equal(JSON.parse(await worker.kv.get(extKeyName)).reason, "AdminUserGlobalSignOut");
  const extExpiration = await kvExpiration(worker.kv, extKeyName);
  assert.ok(Math.abs(extExpiration - (Math.floor(extStarted / 1000) + DEFAULT_TTL_S)) <= 2, `expiration ${extExpiration} ≈ now + ${DEFAULT_TTL_S} s`);
});

test("GlobalSignOut with the user's own access token writes the entry as the user and revokes the session", async () => {
  const name = unique("grace");
  const sub = await createUser(client, LOCAL, name);
  const tokens = await signIn(client, LOCAL_CLIENT, name);
  emptyOutput(await client.send(new GlobalSignOutCommand({ AccessToken: tokens.AccessToken })));

  const entry = JSON.parse(await worker.kv.get(userKey(LOCAL, sub)));
  assert.equal(entry.reason, "GlobalSignOut");
  assert.equal(entry.by, `user:${sub}`);
  await assertGateRefusal(await worker.fetch("/api/me", bearer(tokens.AccessToken)), "Access Token has been revoked");
  assertAwsError(await rejection(client.send(new GlobalSignOutCommand({ AccessToken: tokens.AccessToken }))), "NotAuthorizedException", "Access Token has been revoked");
  assertAwsError(await rejection(refresh(client, LOCAL_CLIENT, tokens.RefreshToken)), "NotAuthorizedException", "Refresh Token has been revoked");
});

// A write made behind the Worker's back (another edge location's sign-out landing in KV) is seen
// by this isolate once its cached lookup expires: within REVOCATION_CACHE_TTL_S (2 s here). Local
// KV in Miniflare has no edge cache and is read-after-write consistent (the test reads the entry
// back at once), so the only thing between the write and the refusal is the isolate's cache.
async function pollUntilRefused(token, since, limitMs) {
  let requests = 0;
  for (;;) {
    const res = await worker.fetch("/api/me", bearer(token));
    requests++;
    const delay = performance.now() - since;
    if (res.status !== 200) return { res, delay, requests };
    await res.arrayBuffer();
    assert.ok(delay <= limitMs, `still accepted ${Math.round(delay)} ms after the KV write`);
    await sleep(20);
  }
}

async function revocationWrittenBehindTheWorkersBack(t, { token, key, message }) {
  // Before the write the token passes; this also warms the isolate's cache with "not revoked".
  const warmedAt = performance.now();
  await assertPasses(token, "before the write");
  const writtenAt = performance.now();
  await worker.kv.put(key, JSON.stringify({ revoked_at: Date.now(), by: "another-edge-location", reason: "AdminUserGlobalSignOut", request_id: "test" }), { expirationTtl: 3600 });
  assert.ok(await worker.kv.get(key), "KV itself answers the entry at once");

  // Proof of the cache without counting KV reads (Miniflare cannot count them): KV already holds
  // the revocation, yet the very next request passes — so it was decided without reading KV.
  const next = await me(token);
  assert.equal(next.status, 200, "the next request is served from the isolate's cache");

  const { res, delay, requests } = await pollUntilRefused(token, writtenAt, CACHE_TTL_MS + 1_500);
  await assertGateRefusal(res, message);
  const line = `refused ${Math.round(delay)} ms after the KV write (cache warmed at most ${Math.round(writtenAt - warmedAt)} ms before it; ${requests} polls; bound ${CACHE_TTL_MS} + 1500 ms)`;
  t.diagnostic(line);
  console.log(`[measured] ${key.split("/").slice(0, 3).join("/")}: ${line}`);
  assert.ok(delay <= CACHE_TTL_MS + 1_500);
  return delay;
}

test("a user entry written straight into KV is enforced within REVOCATION_CACHE_TTL_S, and not before the write", async (t) => {
  const sub = crypto.randomUUID();
  const token = await sign(extKey, accessClaims(EXTERNAL, { sub, username: unique("kv-user") }));
  await revocationWrittenBehindTheWorkersBack(t, { token, key: userKey(EXTERNAL, sub), message: "Access Token has been revoked" });
  // An ID token of the same user authenticated before the entry is refused too.
  const id = await sign(extKey, idClaims(EXTERNAL, { sub, auth_time: Math.floor(Date.now() / 1000) - 60 }));
  await assertGateRefusal(await worker.fetch("/api/me", bearer(id)), "ID Token has been revoked");
});

test("a session entry written straight into KV is enforced within REVOCATION_CACHE_TTL_S, for that session only", async (t) => {
  const sub = crypto.randomUUID();
  const originJti = crypto.randomUUID();
  const token = await sign(extKey, accessClaims(EXTERNAL, { sub, origin_jti: originJti, username: unique("kv-session") }));
  await revocationWrittenBehindTheWorkersBack(t, { token, key: sessionKey(EXTERNAL, originJti), message: "Access Token has been revoked" });
  const otherSession = await sign(extKey, accessClaims(EXTERNAL, { sub, origin_jti: crypto.randomUUID(), username: "kv-session-2" }));
  await assertPasses(otherSession, "the user's other session");
});

test("RevokeToken revokes one session: its tokens and its refresh token, not the user's other session", async () => {
  const name = unique("heidi");
  const sub = await createUser(client, LOCAL, name);
  const one = await signIn(client, LOCAL_CLIENT, name);
  const two = await signIn(client, LOCAL_CLIENT, name);
  const [jti1, jti2] = [decodeJwt(one.AccessToken).origin_jti, decodeJwt(two.AccessToken).origin_jti];
  assert.notEqual(jti1, jti2);
  assert.equal(decodeJwt(one.IdToken).origin_jti, jti1);

  const out = await client.send(new RevokeTokenCommand({ Token: one.RefreshToken, ClientId: LOCAL_CLIENT }));
  emptyOutput(out);

  await assertGateRefusal(await worker.fetch("/api/me", bearer(one.AccessToken)), "Access Token has been revoked");
  await assertGateRefusal(await worker.fetch("/api/me", bearer(one.IdToken)), "ID Token has been revoked");
  assertAwsError(await rejection(client.send(new GetUserCommand({ AccessToken: one.AccessToken }))), "NotAuthorizedException", "Access Token has been revoked");
  assertAwsError(await rejection(refresh(client, LOCAL_CLIENT, one.RefreshToken)), "NotAuthorizedException", "Refresh Token has been revoked");

  await assertPasses(two.AccessToken, "session 2 access");
  await assertPasses(two.IdToken, "session 2 id");
  assert.equal((await client.send(new GetUserCommand({ AccessToken: two.AccessToken }))).Username, name);
  const refreshed = await refresh(client, LOCAL_CLIENT, two.RefreshToken);
  assert.equal(decodeJwt(refreshed.AccessToken).origin_jti, jti2);
  await assertPasses(refreshed.AccessToken, "session 2 refreshed");

  const entry = JSON.parse(await worker.kv.get(sessionKey(LOCAL, jti1)));
  assert.equal(entry.reason, "RevokeToken");
  assert.equal(entry.by, LOCAL_CLIENT);
  assert.equal(entry.request_id, out.$metadata.requestId);
  assert.equal(await worker.kv.get(userKey(LOCAL, sub)), null, "no user-wide entry");
  assert.equal(await worker.kv.get(sessionKey(LOCAL, jti2)), null);
  emptyOutput(await client.send(new RevokeTokenCommand({ Token: one.RefreshToken, ClientId: LOCAL_CLIENT })));
});

// ---------------------------------------------------------------------------------------------
// Before: a sign-out by another case or Unicode form of an external user's name wrote a key the
// token never reads, answered {}, and the gate kept passing the token.
test("an external sign-out by another case or Unicode form of the name refuses the user's tokens at the gate", async () => {
  const tag = crypto.randomUUID().slice(0, 6);
  const nfc = `ren\u00e9e-${tag}`;
  const nfd = `rene\u0301e-${tag}`;
  for (const [given, inToken] of [
    [`EXT-ALICE-${tag}`, `ext-alice-${tag}`],
    [`Ext-Bob-${tag}`, `ext-bob-${tag}`],
    [`carol-${tag}`, `CAROL-${tag}`],
    [nfc, nfd],
    [`REN\u00c9E-${tag}-2`, `${nfd}-2`],
  ]) {
    const token = await sign(extKey, accessClaims(EXTERNAL, { sub: crypto.randomUUID(), username: inToken, auth_time: now() - 5 }));
    const bystander = await sign(extKey, accessClaims(EXTERNAL, { sub: crypto.randomUUID(), username: unique("bystander") }));
    await assertPasses(token, `${inToken} before`);
    emptyOutput(await signOut(EXTERNAL, given));
    await assertGateRefusal(await worker.fetch("/api/me", bearer(token)), "Access Token has been revoked");
    assertAwsError(await rejection(client.send(new GetUserCommand({ AccessToken: token }))), "NotAuthorizedException", "Access Token has been revoked");
    await assertPasses(bystander, "another user");
  }
});

test("an email given for an external pool is refused, not answered {} for a sign-out that does nothing", async () => {
  const token = await sign(extKey, accessClaims(EXTERNAL, { sub: crypto.randomUUID(), username: unique("dave") }));
  const err = await rejection(signOut(EXTERNAL, "dave@example.com"));
  assertAwsError(
    err,
    "InvalidParameterException",
    `Username looks like an email address or phone number, which tokens of user pool ${EXTERNAL} do not carry: pass the user's username, or their sub if the pool signs users in by email or phone number`,
  );
  await assertPasses(token, "nothing was signed out");
});

test("an entry written under the exact bytes of a username before the canonical spelling still refuses its tokens", async () => {
  const name = `Legacy-${crypto.randomUUID().slice(0, 6)}`;
  const token = await sign(extKey, accessClaims(EXTERNAL, { sub: crypto.randomUUID(), username: name, auth_time: now() - 5 }));
  await worker.kv.put(userKey(EXTERNAL, name), JSON.stringify({ revoked_at: Date.now(), by: "old", reason: "AdminUserGlobalSignOut", request_id: "r" }));
  await assertGateRefusal(await worker.fetch("/api/me", bearer(token)), "Access Token has been revoked");
});

// ---------------------------------------------------------------------------------------------
// The JavaScript API, called inside workerd through a test-only entry (tests/worker/api-entry.js).
test("the JavaScript API verifies, signs out and rejects with Cognito's exceptions", async (t) => {
  const jsLocal = "us-east-1_JsLocal1";
  const jsExternal = "us-east-1_JsExt1";
  const key = await keyFor("ES256", "js-es256");
  const api = await startWorker(
    {
      POOLS: JSON.stringify([localPool(jsLocal, "jslocalclient1"), pool(jsExternal, [key], { clients: [{ id: "jsclient1" }] })]),
      SIGNING_KEYS: signingKeys(),
      ADMIN_CREDENTIALS: adminCredentials(ADMIN),
    },
    { entry: "tests/worker/api-entry.js" },
  );
  const call = async (name, ...args) => {
    const res = await api.fetch("/__test/js-api", { method: "POST", body: JSON.stringify({ call: name, args }) });
    assert.equal(res.status, 200, "the test route answered");
    return res.json();
  };
  // A call that revoked resolves to its receipt alone: by when every location refuses what it
  // revoked. No revocation authority is bound here, so KV's window: 60 + 30 + 5 s (± 1 s of clock).
  const receipted = async (name, ...args) => {
    const before = Date.now();
    const out = await call(name, ...args);
    const after = Date.now();
    assert.deepEqual(Object.keys(out.resolved ?? {}), ["enforcedBy"], JSON.stringify(out));
    const { enforcedBy } = out.resolved;
    assert.ok(enforcedBy >= before + 94_000 && enforcedBy <= after + 96_000, `${enforcedBy - before} ms after the call`);
  };
  try {
    const sub = crypto.randomUUID();
    const token = await sign(key, accessClaims(jsExternal, { sub, client_id: "jsclient1", username: "js-user" }));

    await t.test("verifyToken resolves to the verified claims", async () => {
      const { resolved } = await call("verifyToken", token, { tokenUse: "access", clientId: "jsclient1" });
      assert.equal(resolved.sub, sub);
      assert.equal(resolved.username, "js-user");
      assert.equal(resolved.token_use, "access");
      assert.deepEqual(await call("verifyToken", token, { tokenUse: "access", clientId: "someone-else" }), {
        rejected: { isError: true, name: "NotAuthorizedException", message: "Invalid Access Token" },
      });
    });

    await t.test("globalSignOut resolves its receipt and verifyToken then rejects the token as revoked", async () => {
      await receipted("globalSignOut", { UserPoolId: jsExternal, Username: sub });
      assert.deepEqual(await call("verifyToken", token, { tokenUse: "access", clientId: "jsclient1" }), {
        rejected: { isError: true, name: "NotAuthorizedException", message: "Access Token has been revoked" },
      });
      await assertGateRefusal(await api.fetch("/api/me", bearer(token)), "Access Token has been revoked");
      const entry = JSON.parse(await api.kv.get(userKey(jsExternal, sub)));
      assert.equal(entry.by, "js-api");
      assert.equal(entry.reason, "AdminUserGlobalSignOut");
    });

    await t.test("globalSignOut by another case of an external username revokes the user's tokens", async () => {
      const other = await sign(key, accessClaims(jsExternal, { sub: crypto.randomUUID(), client_id: "jsclient1", username: "Js-Mixed-Case", auth_time: now() - 5 }));
      assert.equal((await call("verifyToken", other, { tokenUse: "access" })).resolved.username, "Js-Mixed-Case");
      await receipted("globalSignOut", { UserPoolId: jsExternal, Username: "JS-MIXED-CASE" });
      assert.deepEqual(await call("verifyToken", other, { tokenUse: "access" }), {
        rejected: { isError: true, name: "NotAuthorizedException", message: "Access Token has been revoked" },
      });
      assert.deepEqual(await call("globalSignOut", { UserPoolId: jsExternal, Username: "js@example.com" }), {
        rejected: {
          isError: true,
          name: "InvalidParameterException",
          message: `Username looks like an email address or phone number, which tokens of user pool ${jsExternal} do not carry: pass the user's username, or their sub if the pool signs users in by email or phone number`,
        },
      });
    });

    await t.test("globalSignOut of a local user by username revokes the tokens it issued", async () => {
      const jsClient = cognito(api);
      const name = unique("ivan");
      const userSub = await createUser(jsClient, jsLocal, name);
      const tokens = await signIn(jsClient, "jslocalclient1", name);
      assert.equal((await call("verifyToken", tokens.IdToken, { tokenUse: "id", clientId: "jslocalclient1" })).resolved.sub, userSub);
      await receipted("globalSignOut", { UserPoolId: jsLocal, Username: name });
      assert.deepEqual(await call("verifyToken", tokens.IdToken, { tokenUse: "id" }), {
        rejected: { isError: true, name: "NotAuthorizedException", message: "ID Token has been revoked" },
      });
      assert.ok(await api.kv.get(userKey(jsLocal, userSub)), "keyed by the user's sub, not the username");
    });

    await t.test("revokeToken resolves its receipt and revokes that session only", async () => {
      const jsClient = cognito(api);
      const name = unique("judy");
      await createUser(jsClient, jsLocal, name);
      const [one, two] = [await signIn(jsClient, "jslocalclient1", name), await signIn(jsClient, "jslocalclient1", name)];
      await receipted("revokeToken", { Token: one.RefreshToken, ClientId: "jslocalclient1" });
      assert.deepEqual(await call("verifyToken", one.AccessToken, { tokenUse: "access" }), {
        rejected: { isError: true, name: "NotAuthorizedException", message: "Access Token has been revoked" },
      });
      assert.equal((await call("verifyToken", two.AccessToken, { tokenUse: "access" })).resolved.username, name);
      assert.deepEqual(await call("revokeToken", { Token: one.AccessToken, ClientId: "jslocalclient1" }), {
        rejected: { isError: true, name: "UnsupportedTokenTypeException", message: "Only refresh tokens can be revoked" },
      });
    });

    await t.test("globalSignOut rejects an unknown user of a local pool with UserNotFoundException", async () => {
      assert.deepEqual(await call("globalSignOut", { UserPoolId: jsLocal, Username: "nobody-here" }), {
        rejected: { isError: true, name: "UserNotFoundException", message: "User does not exist." },
      });
    });

    await t.test("globalSignOut rejects bad input with Cognito's validation message", async () => {
      assert.deepEqual(await call("globalSignOut", { UserPoolId: "n/a", Username: "x" }), {
        rejected: {
          isError: true,
          name: "InvalidParameterException",
          message: "1 validation error detected: Value 'n/a' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+",
        },
      });
      assert.deepEqual(await call("globalSignOut", { UserPoolId: "us-east-1_Nope99", Username: "x" }), {
        rejected: { isError: true, name: "ResourceNotFoundException", message: "User pool us-east-1_Nope99 does not exist." },
      });
    });
  } finally {
    await api.dispose();
  }
});

// ---------------------------------------------------------------------------------------------
// TooManyRequestsException through Miniflare's Rate Limiting emulation (the `ratelimits` option;
// Miniflare counts per key in fixed windows aligned to the period, i.e. floor(now / 60 s)).
test("a caller over the rate limit gets TooManyRequestsException, and other callers do not", async (t) => {
  const limitedPool = "us-east-1_RateLim1";
  const key = await keyFor("RS256", "rate-rs256");
  const limited = await startWorker(
    { POOLS: JSON.stringify([pool(limitedPool, [key])]), ADMIN_CREDENTIALS: adminCredentials(ADMIN, ADMIN_2) },
    { ratelimits: { RATE_LIMITER: { simple: { limit: 3, period: 60 } } } },
  );
  try {
    // All the calls of this test must fall in one 60-second window of the emulated limiter.
    const leftInWindow = 60_000 - (Date.now() % 60_000);
    if (leftInWindow < 5_000) await sleep(leftInWindow + 50);
    const windowAtStart = Math.floor(Date.now() / 60_000);

    await t.test("admin calls are limited per access key", async () => {
      const first = cognito(limited, ADMIN);
      for (let i = 1; i <= 3; i++) {
        emptyOutput(await first.send(new AdminUserGlobalSignOutCommand({ UserPoolId: limitedPool, Username: `rate-user-${i}` })));
      }
      const err = await rejection(first.send(new AdminUserGlobalSignOutCommand({ UserPoolId: limitedPool, Username: "rate-user-4" })));
      assertAwsError(err, "TooManyRequestsException", "Rate exceeded", 400);
      assert.equal(await limited.kv.get(userKey(limitedPool, "rate-user-4")), null, "the limited call wrote nothing");
      emptyOutput(await cognito(limited, ADMIN_2).send(new AdminUserGlobalSignOutCommand({ UserPoolId: limitedPool, Username: "rate-user-4" })));
    });

    await t.test("token-authorised calls are limited per client IP (cf-connecting-ip)", async () => {
      const token = await sign(key, accessClaims(limitedPool, { username: "rate-caller" }));
      const getUser = (ip) =>
        limited.fetch("/", {
          method: "POST",
          headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.GetUser", "cf-connecting-ip": ip },
          body: JSON.stringify({ AccessToken: token }),
        });
      for (let i = 1; i <= 3; i++) {
        const res = await getUser("203.0.113.7");
        assert.equal(res.status, 200, `call ${i}`);
        assert.equal((await res.json()).Username, "rate-caller");
      }
      const res = await getUser("203.0.113.7");
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("x-amzn-errortype"), "TooManyRequestsException");
      assert.ok(res.headers.get("x-amzn-requestid"));
      assert.deepEqual(await res.json(), { __type: "TooManyRequestsException", message: "Rate exceeded" });
      const other = await getUser("198.51.100.9");
      assert.equal(other.status, 200, "another client IP is not limited");
      assert.equal((await other.json()).Username, "rate-caller");
    });

    assert.equal(Math.floor(Date.now() / 60_000), windowAtStart, "the test stayed within one limiter window");
  } finally {
    await limited.dispose();
  }
});
