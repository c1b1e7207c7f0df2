// The Shared Signals receiver in real workerd, driven as a transmitter drives it: every case of
// ../shared/vectors/ssf/ signed here with a fresh RS256 key (published at a jwks_uri on a local
// server, so the keys come through the Worker's JWKS cache), its verdict over HTTP and the
// revocation it leaves in KV; then hostile pushes at the HTTP level, each refused with its code
// and never a 5xx. The vectors pin their clock to 2026-01-01; every time in them is moved by the
// same amount to the real clock, so "5 s ago" and "10 minutes ahead" keep their meaning.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import http from "node:http";
import * as jose from "jose";
import {
  ROOT,
  startWorker,
  startServer,
  keyFor,
  pool,
  accessClaims,
  sign,
  bearer,
  ADMIN,
  adminCredentials,
  signingKeys,
  cognito,
  createUser,
  signIn,
  assertGateRefusal,
} from "./support.mjs";

const VECTORS = `${ROOT}../shared/vectors/ssf/`;
const CONFIG = JSON.parse(readFileSync(`${VECTORS}config.json`, "utf8"));
const TX = CONFIG.transmitters[0];
const POOL = CONFIG.pools[0];
const VECTOR_SUB = POOL.users[0].sub;
const SECRET = TX.authorization_header.replace(/^Bearer /, "");
const EXT_POOL = "us-east-1_SsfExt1";
const CLIENT = "ssfclient1";

let worker, server, txKey, attackerKey, poolKey, sub;

before(async () => {
  txKey = await keyFor("RS256", TX.jwks_kids[0]);
  attackerKey = await keyFor("RS256", TX.jwks_kids[0]);
  poolKey = await keyFor("RS256", "ssf-ext-pool");
  server = await startServer((req) =>
    req.url === "/jwks" ? { body: JSON.stringify({ keys: [txKey.publicJwk] }) } : { status: 404 },
  );
  worker = await startWorker({
    POOLS: JSON.stringify([
      { id: POOL.id, issuer: POOL.issuer, local: { password_iterations: 1000 }, clients: [{ id: CLIENT }] },
      pool(EXT_POOL, [poolKey]),
    ]),
    SIGNING_KEYS: signingKeys(),
    ADMIN_CREDENTIALS: adminCredentials(ADMIN),
    REVOCATION_CACHE_TTL_S: "0",
    SSF_TRANSMITTERS: JSON.stringify([
      {
        id: TX.id,
        issuer: TX.issuer,
        jwks_uri: `${server.url}/jwks`,
        algorithms: TX.allowed_algs,
        audience: TX.audience,
        push_secret: SECRET,
        pool: POOL.id,
        stream_id: TX.stream_id,
      },
    ]),
  });
  // Alice, as the vectors describe her; the Worker chooses her sub, which replaces the vectors'.
  const admin = cognito(worker);
  sub = await createUser(admin, POOL.id, POOL.users[0].username);
  // The state the vectors expect echoed, as the receiver stores the verification it asked for.
  await worker.kv.put(`ssf/v1/verify/${TX.id}`, JSON.stringify({ state: TX.pending_verification_states[0], requested_ms: Date.now() }));
});
after(async () => {
  await worker?.dispose();
  await server?.close();
});

const b64 = (value) => jose.base64url.encode(typeof value === "string" ? value : JSON.stringify(value));

async function signSet(header, payload, key = txKey) {
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header).sign(key.privateKey);
}

function push(body, headers = CONFIG.default_request_headers, path = TX.push_path) {
  return worker.fetch(path, { method: "POST", headers, body });
}

/** The vector with alice's real sub and every time moved from the vectors' clock to now. */
function relive(vector, nowS) {
  const shift = nowS - CONFIG.now;
  const v = JSON.parse(JSON.stringify(vector).replaceAll(VECTOR_SUB, sub));
  for (const claim of ["iat", "toe", "exp"]) if (typeof v.payload[claim] === "number") v.payload[claim] += shift;
  for (const event of Object.values(v.payload.events ?? {})) {
    if (typeof event?.event_timestamp === "number") event.event_timestamp += event.event_timestamp >= 1e11 ? shift * 1000 : shift;
  }
  for (const entry of v.prior_state?.user_revocations ?? []) entry.revoked_at_ms += shift * 1000;
  for (const effect of v.expect.effects) if (typeof effect.revoked_at_ms === "number") effect.revoked_at_ms += shift * 1000;
  return v;
}

const userKey = (poolId, id) => `rev/v1/u/${poolId}/${id}`;
const sessionKey = (poolId, originJti) => `rev/v1/s/${poolId}/${originJti}`;
const vectorFiles = () => readdirSync(VECTORS).filter((f) => f.endsWith(".json") && f !== "config.json").sort();

test("every Shared Signals vector gets its verdict and leaves its revocation, through real workerd", async () => {
  const files = vectorFiles();
  assert.equal(files.length, 28);
  let accepted = 0;
  for (const file of files) {
    const nowS = Math.floor(Date.now() / 1000);
    const vector = relive(JSON.parse(readFileSync(`${VECTORS}${file}`, "utf8")), nowS);
    // The store as the vector's prior_state has it, and no status left by the previous vector.
    const keys = [userKey(POOL.id, sub)];
    for (const e of vector.expect.effects) if (e.kind === "revoke_session") keys.push(sessionKey(e.pool, e.origin_jti));
    for (const key of [...keys, `ssf/v1/status/${TX.id}`]) await worker.kv.delete(key);
    for (const prior of vector.prior_state?.user_revocations ?? []) {
      await worker.kv.put(userKey(prior.pool, prior.sub), JSON.stringify({ revoked_at: prior.revoked_at_ms, by: "prior", reason: "prior", request_id: "prior" }));
    }
    const before = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await worker.kv.get(k, "json")])));

    const body = vector.signing === "none" ? `${b64(vector.header)}.${b64(vector.payload)}.` : await signSet(vector.header, vector.payload);
    const res = await push(body, vector.request_headers ?? CONFIG.default_request_headers);
    const text = await res.text();
    const { expect } = vector;
    assert.equal(res.status, expect.status, `${file}: ${res.status} ${text}`);
    if (expect.verdict === "accept") {
      assert.equal(text, "", `${file}: a 202 has an empty body`);
      accepted++;
    } else {
      assert.equal(res.headers.get("content-type"), "application/json", file);
      assert.equal(res.headers.get("content-language"), "en", file);
      const json = JSON.parse(text);
      assert.deepEqual(Object.keys(json).sort(), ["description", "err"], file);
      assert.equal(json.err, expect.err, `${file}: ${text}`);
    }

    // Revocations: the prior state plus the effects, max() per key; nothing else written.
    const expected = { ...before };
    for (const effect of expect.effects) {
      const key = effect.kind === "revoke_user" ? userKey(effect.pool, effect.sub) : effect.kind === "revoke_session" ? sessionKey(effect.pool, effect.origin_jti) : null;
      if (key) expected[key] = { at: Math.max(expected[key]?.revoked_at ?? 0, effect.revoked_at_ms), clamped: effect.revoked_at_ms === nowS * 1000 };
    }
    for (const key of keys) {
      const stored = await worker.kv.get(key, "json");
      const want = expected[key];
      if (want === null || want === undefined) {
        assert.equal(stored, null, `${file}: ${key} should not be written`);
      } else if (want.at === undefined) {
        assert.deepEqual(stored, want, `${file}: ${key} should be unchanged`);
      } else {
        assert.ok(stored, `${file}: ${key} should be written`);
        if (want.clamped) {
          // Clamped to the time of receipt: after the vector's "now", within the test's run.
          assert.ok(stored.revoked_at >= want.at && stored.revoked_at <= Date.now(), `${file}: ${stored.revoked_at} vs ${want.at}`);
        } else if (key.startsWith("rev/v1/s/")) {
          // A session entry revokes by existing; it is written at the time of receipt.
          assert.ok(stored.revoked_at >= want.at && stored.revoked_at <= Date.now(), `${file}: ${key}`);
        } else {
          assert.equal(stored.revoked_at, want.at, `${file}: ${key}`);
        }
        if (before[key]?.revoked_at !== stored.revoked_at) {
          const event = Object.keys(vector.payload.events)[0].split("/").pop();
          assert.equal(stored.by, `ssf:${TX.id}`, file);
          assert.ok(stored.reason.includes(event) && stored.reason.includes(vector.payload.jti), `${file}: ${stored.reason}`);
        }
      }
    }

    // Control events land in the transmitter's status record.
    const status = await worker.kv.get(`ssf/v1/status/${TX.id}`, "json");
    for (const effect of expect.effects) {
      if (effect.kind === "verification_ok") {
        assert.ok(status?.verified_ms >= nowS * 1000, `${file}: verified`);
        assert.equal(status.verified_state, effect.state, file);
      }
      if (effect.kind === "stream_status") assert.equal(status?.stream_status, effect.status, file);
    }
    if (!expect.effects.some((e) => e.kind === "verification_ok")) assert.equal(status?.verified_ms, undefined, `${file}: not a verification`);
  }
  assert.equal(accepted, 16, "the vectors accept 16 SETs and refuse 12");
});

// ---------------------------------------------------------------------------------------------
// Hostile pushes. Each beside a control that passes, so a receiver refusing everything fails.

function setFor(userSub = sub, overrides = {}, event = "https://schemas.openid.net/secevent/caep/event-type/session-revoked") {
  const t = Math.floor(Date.now() / 1000);
  return {
    iss: TX.issuer,
    jti: crypto.randomUUID(),
    iat: t,
    aud: TX.audience,
    sub_id: { format: "iss_sub", iss: POOL.issuer, sub: userSub },
    events: { [event]: { event_timestamp: t } },
    ...overrides,
  };
}
const SET_HEADER = { alg: "RS256", typ: "secevent+jwt", kid: TX.jwks_kids[0] };

/** POSTs `total` bytes to `url` chunked (no Content-Length, in 4 KiB chunks). */
function postChunked(url, total, headers) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } });
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    for (let written = 0; written < total; written += 4096) req.write(Buffer.alloc(4096, "a"));
    req.end();
  });
}

async function assertRefused(res, status, err) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(JSON.parse(text).err, err, text);
  assert.equal(res.headers.get("content-language"), "en");
}

test("a control SET is accepted, so the refusals below are about what each changes", async () => {
  const res = await push(await signSet(SET_HEADER, setFor(crypto.randomUUID())));
  assert.equal(res.status, 202, await res.text());
});

test("a SET signed with another key under the transmitter's kid is invalid_key", async () => {
  await assertRefused(await push(await signSet(SET_HEADER, setFor(), attackerKey)), 400, "invalid_key");
});

test("an unsigned SET and one whose header names its own key are invalid_key or invalid_request, never accepted", async () => {
  await assertRefused(await push(`${b64({ ...SET_HEADER, alg: "none" })}.${b64(setFor())}.`), 400, "invalid_key");
  const embedded = await signSet({ ...SET_HEADER, jwk: attackerKey.publicJwk }, setFor(), attackerKey);
  const res = await push(embedded);
  assert.equal(res.status, 400, await res.text());
});

test("an access token posted as a SET is refused, and a SET presented at the gate is refused", async () => {
  const access = await sign(poolKey, accessClaims(EXT_POOL));
  const gatePasses = await worker.fetch("/api/me", bearer(access));
  assert.equal(gatePasses.status, 200, "the access token itself is good at the gate");
  await assertRefused(await push(access), 400, "invalid_request");
  // Signed by the transmitter's key with its kid, typed as a SET: the gate knows no such key.
  const set = await signSet(SET_HEADER, setFor());
  const atGate = await worker.fetch("/api/me", bearer(set));
  assert.equal(atGate.status, 401);
  assert.equal((await atGate.json()).__type, "NotAuthorizedException");
  // Signed with the pool's own key and shaped as a SET: refused at the gate for what it is.
  const setByPool = await signSet({ alg: "RS256", typ: "secevent+jwt", kid: poolKey.kid }, { ...accessClaims(EXT_POOL), events: setFor().events });
  const res = await worker.fetch("/api/me", bearer(setByPool));
  assert.equal(res.status, 401);
  assert.equal((await res.json()).__type, "NotAuthorizedException");
});

test("a SET issued beyond the clock skew is invalid_request and one within it is accepted", async () => {
  const t = Math.floor(Date.now() / 1000);
  await assertRefused(await push(await signSet(SET_HEADER, setFor(sub, { iat: t + 600 }))), 400, "invalid_request");
  const res = await push(await signSet(SET_HEADER, setFor(crypto.randomUUID(), { iat: t + 60 })));
  assert.equal(res.status, 202);
});

test("huge, chunked and malformed bodies are refused with their codes, never a 5xx", async () => {
  const huge = "a".repeat(70 * 1024);
  await assertRefused(await push(huge), 413, "invalid_request");
  // No length declared: the body arrives in chunks and is cut off at the cap (the reader that
  // stops there is the one POST / uses, tests/worker/limits.test.mjs).
  const chunked = await postChunked(`${worker.url}${TX.push_path.slice(1)}`, 80 * 1024, CONFIG.default_request_headers);
  assert.equal(chunked.status, 413, chunked.body);
  assert.equal(JSON.parse(chunked.body).err, "invalid_request");
  for (const body of ["", "not a jwt", "a.b.c", "....", "\u0000\u0001", `${b64("{")}.${b64("{}")}.${b64("x")}`, "e30.e30.e30.e30.e30"]) {
    const res = await push(body);
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.status}`);
    assert.ok(["invalid_request", "invalid_key"].includes((await res.json()).err));
  }
});

test("a missing, wrong or oddly spelt bearer secret is authentication_failed", async () => {
  const set = await signSet(SET_HEADER, setFor());
  const type = { "content-type": "application/secevent+jwt" };
  for (const authorization of [undefined, "Bearer wrong-secret-0123456789abcdef-xx", `Basic ${SECRET}`, `Bearer  ${SECRET}`, `Bearer ${SECRET}x`, `Bearer ${SECRET.toUpperCase()}`, SECRET]) {
    const headers = authorization === undefined ? type : { ...type, authorization };
    await assertRefused(await push(set, headers), 400, "authentication_failed");
  }
  // The header's name and scheme are case-insensitive; `_` does not spell `-`.
  const fresh = await signSet(SET_HEADER, setFor(crypto.randomUUID()));
  assert.equal((await push(fresh, { ...type, AUTHORIZATION: `bearer ${SECRET}` })).status, 202);
  await assertRefused(await push(set, { ...type, authorization_: `Bearer ${SECRET}` }), 400, "authentication_failed");
});

test("the content type must be application/secevent+jwt, in any case, parameters ignored; content_type is not it", async () => {
  const auth = { authorization: `Bearer ${SECRET}` };
  await assertRefused(await push(await signSet(SET_HEADER, setFor()), { ...auth, "content-type": "application/jwt" }), 400, "invalid_request");
  await assertRefused(await push(await signSet(SET_HEADER, setFor()), { ...auth, content_type: "application/secevent+jwt" }), 400, "invalid_request");
  const res = await push(await signSet(SET_HEADER, setFor(crypto.randomUUID())), { ...auth, "Content-Type": "Application/SecEvent+JWT; charset=utf-8" });
  assert.equal(res.status, 202);
});

test("another method and an unknown stream get plain HTTP codes", async () => {
  const get = await worker.fetch(TX.push_path);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  await assertRefused(await push(await signSet(SET_HEADER, setFor()), CONFIG.default_request_headers, "/ssf/events/nope"), 404, "invalid_request");
});

test("healthz counts the transmitters for everyone and names them only to a signed admin", async () => {
  const res = await worker.fetch("/healthz");
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.equal(body.ssf.transmitters, 1);
  assert.equal(body.ssf.status, undefined);
  assert.ok(!JSON.stringify(body).includes(TX.id), "no transmitter id without a signature");
  const forged = await worker.fetch("/healthz", { headers: { authorization: "AWS4-HMAC-SHA256 Credential=AKIAFORGED/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=00" } });
  assert.notEqual(forged.status, 200);
});

test("an external pool's user is revoked under the pool's spelling of the name, which the gate matches", async () => {
  // The external pool's tokens carry username "alice" (support's accessClaims); a transmitter
  // for that pool names the user "ALICE".
  const extTx = await keyFor("RS256", "ext-tx-1");
  const ext = await startWorker({
    POOLS: JSON.stringify([pool(EXT_POOL, [poolKey])]),
    SSF_TRANSMITTERS: JSON.stringify([
      { id: "ext", issuer: "https://idp.example", jwks: { keys: [extTx.publicJwk] }, audience: TX.audience, push_secret: SECRET, pool: EXT_POOL },
    ]),
  });
  try {
    const token = await sign(poolKey, accessClaims(EXT_POOL, { auth_time: Math.floor(Date.now() / 1000) - 10 }));
    assert.equal((await ext.fetch("/api/me", bearer(token))).status, 200);
    const set = await new jose.CompactSign(
      new TextEncoder().encode(JSON.stringify({ ...setFor(), iss: "https://idp.example", sub_id: { format: "opaque", id: "ALICE" } })),
    )
      .setProtectedHeader({ alg: "RS256", typ: "secevent+jwt", kid: extTx.kid })
      .sign(extTx.privateKey);
    const res = await ext.fetch("/ssf/events/ext", { method: "POST", headers: CONFIG.default_request_headers, body: set });
    assert.equal(res.status, 202, await res.text());
    assert.ok(await ext.kv.get(userKey(EXT_POOL, "alice")), "the entry is keyed by the pool's spelling");
    await assertGateRefusal(await ext.fetch("/api/me", bearer(token)), "Access Token has been revoked");
  } finally {
    await ext.dispose();
  }
});

test("an email subject of a local pool is found in the directory; a phone number is not, and nothing is revoked", async () => {
  const admin = cognito(worker);
  const bobSub = await createUser(admin, POOL.id, "bob-ssf");
  const session = await signIn(admin, CLIENT, "bob-ssf");
  await worker.kv.delete(userKey(POOL.id, bobSub));
  const phone = setFor(bobSub, { sub_id: { format: "phone_number", phone_number: "+12065550199" } });
  assert.equal((await push(await signSet(SET_HEADER, phone))).status, 202);
  assert.equal(await worker.kv.get(userKey(POOL.id, bobSub)), null);
  assert.equal((await worker.fetch("/api/me", bearer(session.AccessToken))).status, 200);
  const email = setFor(bobSub, { sub_id: { format: "email", email: "Bob-SSF@EXAMPLE.com" } });
  assert.equal((await push(await signSet(SET_HEADER, email))).status, 202);
  assert.ok(await worker.kv.get(userKey(POOL.id, bobSub)));
  await assertGateRefusal(await worker.fetch("/api/me", bearer(session.AccessToken)), "Access Token has been revoked");
});
