// The end-to-end story of a sign-out at an identity provider becoming a refusal at the edge, told
// by a FAKE transmitter that behaves as the public ones do (nevzatcirak/sharedsignals, the Duo
// reference, Okta): it sends a verification event first, retries a push answered 5xx with
// backoff, and in poll mode hands out SETs in batches and forgets only what is acknowledged.
// The receiver runs in real workerd (Miniflare), with the KV fault injector of
// tests/worker/fault-entry.js where a storage failure is part of the story.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as jose from "jose";
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { startWorker, startServer, keyFor, pool, accessClaims, sign, bearer, assertGateRefusal, sleep, ADMIN, adminCredentials } from "./support.mjs";

const EXT_POOL = "us-east-1_SsfStory1";
const ISSUER = "https://idp.story.example";
const AUDIENCE = "https://edge.story.example/ssf";
const SECRET = "story-push-secret-0123456789abcdef-0001";
const POLL_AUTH = "Bearer story-poll-token-0001";
const STREAM = "stream-story-1";
const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
const SSF = "https://schemas.openid.net/secevent/ssf/event-type/";
const VERIFY_AUTH = "Bearer story-verify-token-0001";

/**
 * A FAKE Shared Signals transmitter: signs SETs with its own key, pushes them (retrying 5xx
 * answers up to `attempts` times with a short backoff, never a 4xx), and serves a poll endpoint
 * (RFC 8936) from a queue, `maxEvents` at a time, dropping a SET only when it is acknowledged.
 */
class FakeTransmitter {
  constructor(key, receiverUrl, { attempts = 5, backoffMs = 20 } = {}) {
    Object.assign(this, { key, receiverUrl, attempts, backoffMs });
    this.queue = new Map(); // jti -> SET, in order
    this.acked = [];
    this.errors = {};
    this.polls = [];
    this.failNextPolls = 0;
    this.verifyRequests = [];
    this.verifyPushes = [];
  }

  async set(event, payload, subId) {
    const jti = crypto.randomUUID();
    const claims = { iss: ISSUER, jti, iat: Math.floor(Date.now() / 1000), aud: AUDIENCE, txn: crypto.randomUUID(), sub_id: subId, events: { [event]: payload } };
    const token = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: "RS256", typ: "secevent+jwt", kid: this.key.kid })
      .sign(this.key.privateKey);
    return { jti, token };
  }

  /** Pushes one SET; retries a 5xx (and a network failure), as the public transmitters do. */
  async push({ token }, onAttempt = () => {}) {
    const answers = [];
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      await onAttempt(attempt);
      const res = await fetch(this.receiverUrl, {
        method: "POST",
        headers: { "content-type": "application/secevent+jwt", accept: "application/json", authorization: `Bearer ${SECRET}` },
        body: token,
      });
      answers.push({ status: res.status, body: await res.text(), at: Date.now() });
      if (res.status < 500) break;
      await sleep(this.backoffMs * 2 ** (attempt - 1));
    }
    return answers;
  }

  /**
   * The verification endpoint (SSF §8.1.4.2): records the request, answers 204 at once, and a
   * moment later sends the verification event with the state `reply` makes of the one asked for
   * (the state itself by default; `undefined`: sends nothing).
   */
  verification(headers, body, reply = (state) => state) {
    const request = JSON.parse(body);
    this.verifyRequests.push({ headers, request });
    if (headers.authorization !== VERIFY_AUTH) return { status: 401 };
    const state = reply(request.state);
    if (state !== undefined) {
      this.verifyPushes.push(
        sleep(10).then(async () => (await this.push(await this.set(`${SSF}verification`, { state }, { format: "opaque", id: request.stream_id })))[0]),
      );
    }
    return { status: 204 };
  }

  /** Sends the verification event a transmitter sends when a stream starts (no state asked). */
  async verify() {
    return this.push(await this.set(`${SSF}verification`, {}, { format: "opaque", id: STREAM }));
  }

  enqueue(set) {
    this.queue.set(set.jti, set.token);
  }

  /** The poll endpoint's handler. */
  poll(headers, body) {
    const request = JSON.parse(body);
    this.polls.push({ headers, request });
    if (headers.authorization !== POLL_AUTH) return { status: 401 };
    if (this.failNextPolls > 0) {
      this.failNextPolls--;
      return { status: 500, body: "injected" };
    }
    for (const jti of request.ack ?? []) {
      this.acked.push(jti);
      this.queue.delete(jti);
    }
    for (const [jti, err] of Object.entries(request.setErrs ?? {})) {
      this.errors[jti] = err;
      this.queue.delete(jti);
    }
    const batch = [...this.queue].slice(0, request.maxEvents ?? 0);
    return { body: JSON.stringify({ sets: Object.fromEntries(batch), moreAvailable: this.queue.size > batch.length }) };
  }
}

// otherKey: a key under the transmitter's kid that the receiver does not have.
let worker, faulty, server, txKey, otherKey, poolKey, pushTx, pollTx;

const userKey = (id) => `rev/v1/u/${EXT_POOL}/${id}`;
const subject = (sub) => ({ format: "iss_sub", iss: `https://cognito-idp.us-east-1.amazonaws.com/${EXT_POOL}`, sub });
const sessionRevoked = (tx, sub, at = Math.floor(Date.now() / 1000)) =>
  tx.set(`${CAEP}session-revoked`, { event_timestamp: at, initiating_entity: "admin", reason_admin: { en: "signed out at the IdP" } }, subject(sub));
const fakeKv = (w, changes) => w.fetch("/__fake-kv", { method: "POST", body: JSON.stringify(changes) }).then((r) => r.json());
const scheduled = async (w) => (await w.mf.getWorker()).scheduled({ cron: "* * * * *" });
const me = (w, token) => w.fetch("/api/me", bearer(token));

before(async () => {
  txKey = await keyFor("RS256", "story-tx-1");
  otherKey = await keyFor("RS256", "story-tx-1");
  poolKey = await keyFor("RS256", "story-pool-1");
  server = await startServer((req, body) => (req.url === "/poll" ? pollTx.poll(req.headers, body) : { status: 404 }));
  const transmitters = [
    { id: "story", issuer: ISSUER, jwks: { keys: [txKey.publicJwk] }, audience: AUDIENCE, push_secret: SECRET, pool: EXT_POOL, stream_id: STREAM },
    { id: "story-poll", issuer: ISSUER, jwks: { keys: [txKey.publicJwk] }, audience: AUDIENCE, pool: EXT_POOL, poll: { endpoint: `${server.url}/poll`, authorization: POLL_AUTH } },
  ];
  const vars = { POOLS: JSON.stringify([pool(EXT_POOL, [poolKey])]), SSF_TRANSMITTERS: JSON.stringify(transmitters), REVOCATION_CACHE_TTL_S: "0" };
  worker = await startWorker(vars);
  faulty = await startWorker(vars, { entry: "tests/worker/fault-entry.js" });
  pushTx = new FakeTransmitter(txKey, new URL("/ssf/events/story", worker.url));
  pollTx = new FakeTransmitter(txKey, null);
});
after(async () => {
  await worker?.dispose();
  await faulty?.dispose();
  await server?.close();
});

test("a sign-out pushed by the identity provider refuses the user's valid access token at the next gated request", async () => {
  const sub = crypto.randomUUID();
  const token = await sign(poolKey, accessClaims(EXT_POOL, { sub, username: `user-${sub.slice(0, 8)}`, auth_time: Math.floor(Date.now() / 1000) - 30 }));
  assert.equal((await me(worker, token)).status, 200, "the token is valid before the sign-out");

  const verification = await pushTx.verify();
  assert.deepEqual(verification.map((a) => a.status), [202], "the stream's verification event is accepted first");

  const set = await sessionRevoked(pushTx, sub);
  const pushedAt = performance.now();
  const answers = await pushTx.push(set);
  const acceptedAt = performance.now();
  assert.deepEqual(answers.map((a) => a.status), [202]);
  const refusal = await me(worker, token);
  const refusedAt = performance.now();
  await assertGateRefusal(refusal, "Access Token has been revoked");
  console.log(`push-to-refusal, writing isolate: push answered in ${(acceptedAt - pushedAt).toFixed(1)} ms, refused ${(refusedAt - pushedAt).toFixed(1)} ms after the push began`);

  const entry = await worker.kv.get(userKey(sub), "json");
  assert.equal(entry.by, "ssf:story");
  assert.match(entry.reason, /caep session-revoked/);
  assert.ok(entry.reason.includes(set.jti));

  // A sign-in after the event lives; the status shows the stream's verification and last event.
  const later = await sign(poolKey, accessClaims(EXT_POOL, { sub, auth_time: Math.floor(Date.now() / 1000) + 1, iat: Math.floor(Date.now() / 1000) + 1 }));
  assert.equal((await me(worker, later)).status, 200, "a later sign-in is not revoked by the past event");
  const status = await worker.kv.get("ssf/v1/status/story", "json");
  assert.ok(status.verified_ms > 0 && status.last_event === "session-revoked");
});

test("a push answered 503 because storage failed is retried by the transmitter and the retry revokes", async () => {
  const sub = crypto.randomUUID();
  const token = await sign(poolKey, accessClaims(EXT_POOL, { sub, auth_time: Math.floor(Date.now() / 1000) - 30 }));
  assert.equal((await me(faulty, token)).status, 200);
  const tx = new FakeTransmitter(txKey, new URL("/ssf/events/story", faulty.url));
  const set = await sessionRevoked(tx, sub);
  const answers = await tx.push(set, async (attempt) => {
    await fakeKv(faulty, { failWrites: attempt === 1 });
  });
  assert.deepEqual(answers.map((a) => a.status), [503, 202], JSON.stringify(answers));
  assert.equal(JSON.parse(answers[0].body).err, "temporarily_unavailable");
  await assertGateRefusal(await me(faulty, token), "Access Token has been revoked");
  // The retried SET, delivered once more, changes nothing and is answered 202 again.
  const before = await faulty.kv.get(userKey(sub));
  assert.deepEqual((await tx.push(set)).map((a) => a.status), [202]);
  assert.equal(await faulty.kv.get(userKey(sub)), before);
});

test("a 4xx is final: the transmitter does not retry a refused SET", async () => {
  const tx = new FakeTransmitter(otherKey, new URL("/ssf/events/story", worker.url));
  const answers = await tx.push(await sessionRevoked(tx, crypto.randomUUID()));
  assert.deepEqual(answers.map((a) => a.status), [400]);
  assert.equal(JSON.parse(answers[0].body).err, "invalid_key");
});

test("the scheduled poll applies batches, acknowledges what it applied, reports what it refused, and re-polls nothing twice", async () => {
  const subs = Array.from({ length: 30 }, () => crypto.randomUUID());
  for (const sub of subs) pollTx.enqueue(await sessionRevoked(pollTx, sub));
  const forged = await new FakeTransmitter(otherKey, null).set(`${CAEP}session-revoked`, {}, subject(crypto.randomUUID()));
  pollTx.enqueue(forged);

  const outcome = await scheduled(worker);
  assert.equal(outcome.outcome, "ok");
  for (const sub of subs) assert.ok(await worker.kv.get(userKey(sub)), `revoked ${sub}`);
  assert.equal(pollTx.queue.size, 0, "everything delivered was acknowledged or reported");
  assert.equal(pollTx.acked.length, 30, "each applied SET acknowledged once");
  assert.equal(new Set(pollTx.acked).size, 30);
  assert.ok(!pollTx.acked.includes(forged.jti));
  assert.equal(pollTx.errors[forged.jti].err, "invalid_key");
  assert.ok(pollTx.polls.length >= 2, "31 SETs came in batches of at most 25");
  assert.ok(pollTx.polls.every((p) => p.request.maxEvents <= 25 && p.request.returnImmediately === true));

  const polls = pollTx.polls.length;
  await scheduled(worker);
  assert.equal(pollTx.polls.length, polls + 1, "an empty queue is one request");
  assert.deepEqual(pollTx.polls.at(-1).request.ack, []);
});

test("a failed poll loses nothing, and a SET whose revocation could not be stored is not acknowledged", async () => {
  const first = crypto.randomUUID();
  pollTx.enqueue(await sessionRevoked(pollTx, first));
  pollTx.failNextPolls = 1;
  await scheduled(faulty);
  assert.equal(await faulty.kv.get(userKey(first)), null);
  assert.equal(pollTx.queue.size, 1, "still queued after the failed poll");

  // Storage fails: the SET is delivered but not acknowledged.
  await fakeKv(faulty, { failWrites: true });
  await scheduled(faulty);
  await fakeKv(faulty, { failWrites: false });
  assert.equal(pollTx.queue.size, 1, "not acknowledged while it could not be stored");
  assert.equal(await faulty.kv.get(userKey(first)), null);

  await scheduled(faulty);
  assert.equal(pollTx.queue.size, 0);
  assert.ok(await faulty.kv.get(userKey(first)), "the next poll completes it");
  const status = await faulty.kv.get("ssf/v1/status/story-poll", "json");
  assert.ok(status.last_poll_ms > 0);
});

test("a SET pushed to one Worker is refused by a second Worker sharing its KV", async () => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(`${tmpdir()}/edge-revoke-kv-`);
  const vars = {
    POOLS: JSON.stringify([pool(EXT_POOL, [poolKey])]),
    SSF_TRANSMITTERS: JSON.stringify([{ id: "story", issuer: ISSUER, jwks: { keys: [txKey.publicJwk] }, audience: AUDIENCE, push_secret: SECRET, pool: EXT_POOL }]),
    REVOCATION_CACHE_TTL_S: "0",
  };
  const a = await startWorker(vars, { kvPersist: dir });
  const b = await startWorker(vars, { kvPersist: dir });
  try {
    const sub = crypto.randomUUID();
    const token = await sign(poolKey, accessClaims(EXT_POOL, { sub, auth_time: Math.floor(Date.now() / 1000) - 30 }));
    assert.equal((await me(b, token)).status, 200);
    const tx = new FakeTransmitter(txKey, new URL("/ssf/events/story", a.url));
    const set = await sessionRevoked(tx, sub);
    const start = performance.now();
    assert.deepEqual((await tx.push(set)).map((x) => x.status), [202]);
    let refusedAfter;
    for (let i = 0; i < 200; i++) {
      if ((await me(b, token)).status === 401) {
        refusedAfter = performance.now() - start;
        break;
      }
      await sleep(25);
    }
    assert.ok(refusedAfter !== undefined, "the second Worker refuses within 5 s");
    console.log(`push-to-refusal, second Worker sharing the KV directory: ${refusedAfter.toFixed(1)} ms`);
  } finally {
    await a.dispose();
    await b.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** SHA-256 and HMAC-SHA256 as @smithy/signature-v4 takes them, from node:crypto. */
class Sha256 {
  constructor(secret) {
    this.hash = secret ? createHmac("sha256", secret) : createHash("sha256");
  }
  update(data) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/** `GET /healthz` SigV4-signed by an admin key: the transmitters' statuses, by id. */
async function adminStatuses(w) {
  const url = new URL("/healthz", w.url);
  const signer = new SignatureV4({ service: "cognito-idp", region: "us-east-1", credentials: ADMIN, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign({ method: "GET", protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: "/healthz", headers: { host: url.host } });
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== "host"));
  const body = await (await w.fetch("/healthz", { headers })).json();
  return { ssf: body.ssf, byId: Object.fromEntries((body.ssf.status ?? []).map((s) => [s.id, s])) };
}

test("the Cron Trigger asks for verification with a fresh state; an echo verifies, a wrong or late state is invalid_state, silence shows as unanswered", async () => {
  const modes = {
    "verify-echo": (state) => state,
    "verify-wrong": () => "c3RhdGUtbm90LWFza2VkLWZvcg",
    "verify-silent": () => undefined,
  };
  const fakes = {};
  const hits = [];
  const endpoint = await startServer((req, body) => {
    const id = req.url.split("/").at(-1);
    hits.push(req.url);
    if (req.url.startsWith("/redirect/")) return { status: 302, headers: { location: `/verify/verify-echo` } };
    if (req.url.startsWith("/huge/")) return { status: 200, body: "x".repeat(64 * 1024) };
    return fakes[id] ? fakes[id].verification(req.headers, body, modes[id]) : { status: 404 };
  });
  const verifying = (id, path, timeout_s = 1) => ({
    id, issuer: ISSUER, jwks: { keys: [txKey.publicJwk] }, audience: AUDIENCE, push_secret: SECRET, pool: EXT_POOL,
    stream_id: `stream-${id}`, verification: { endpoint: `${endpoint.url}/${path}/${id}`, authorization: VERIFY_AUTH, interval_s: 60, timeout_s },
  });
  const transmitters = [
    verifying("verify-echo", "verify", 60),
    verifying("verify-wrong", "verify", 60),
    verifying("verify-silent", "verify", 1),
    verifying("verify-redirect", "redirect"),
    verifying("verify-huge", "huge"),
  ];
  const w = await startWorker({
    POOLS: JSON.stringify([pool(EXT_POOL, [poolKey])]),
    SSF_TRANSMITTERS: JSON.stringify(transmitters),
    ADMIN_CREDENTIALS: adminCredentials(ADMIN),
  });
  try {
    for (const id of Object.keys(modes)) fakes[id] = new FakeTransmitter(txKey, new URL(`/ssf/events/${id}`, w.url));
    assert.equal((await scheduled(w)).outcome, "ok");
    await Promise.all(Object.values(fakes).flatMap((f) => f.verifyPushes));

    const states = [];
    for (const [id, fake] of Object.entries(fakes)) {
      assert.equal(fake.verifyRequests.length, 1, `${id}: one request on the cron`);
      const { headers, request } = fake.verifyRequests[0];
      assert.equal(headers.authorization, VERIFY_AUTH);
      assert.match(headers["content-type"], /^application\/json/);
      assert.deepEqual(Object.keys(request).sort(), ["state", "stream_id"]);
      assert.equal(request.stream_id, `stream-${id}`);
      assert.match(request.state, /^[A-Za-z0-9_-]{22}$/);
      states.push(request.state);
    }
    assert.equal(new Set(states).size, states.length, "every state is fresh");
    assert.equal((await fakes["verify-echo"].verifyPushes[0]).status, 202, "the echoed state is accepted");
    const wrong = await fakes["verify-wrong"].verifyPushes[0];
    assert.equal(wrong.status, 400);
    assert.equal(JSON.parse(wrong.body).err, "invalid_state");
    assert.equal(hits.filter((h) => h === "/verify/verify-echo").length, 1, "a redirect is never followed");

    let { ssf, byId } = await adminStatuses(w);
    assert.equal(byId["verify-echo"].verification, "verified");
    assert.equal(byId["verify-wrong"].verification, "invalid_state");
    assert.equal(byId["verify-silent"].verification, "requested", "still within its timeout");
    assert.equal(byId["verify-redirect"].verification, "request_failed");
    assert.match(byId["verify-redirect"].last_error, /answered 302/);
    assert.equal(byId["verify-huge"].verification, "request_failed", "an answer over the cap is a failure");
    assert.equal(ssf.failing, 3, "wrong state, redirect and oversized answer");

    // At most once per interval: the next run sends nothing.
    await scheduled(w);
    for (const fake of Object.values(fakes)) assert.equal(fake.verifyRequests.length, 1);

    // The silent transmitter's timeout passes: unanswered, and its state is no longer accepted.
    await sleep(1_100);
    ({ ssf, byId } = await adminStatuses(w));
    assert.equal(byId["verify-silent"].verification, "unanswered");
    assert.equal(byId["verify-echo"].verification, "verified");
    assert.equal(ssf.failing, 4);
    const silent = fakes["verify-silent"];
    const [late] = await silent.push(await silent.set(`${SSF}verification`, { state: silent.verifyRequests[0].request.state }, { format: "opaque", id: "stream-verify-silent" }));
    assert.equal(late.status, 400);
    assert.equal(JSON.parse(late.body).err, "invalid_state", "a late answer is an old state");
    // A verification without a state (the transmitter's own) is accepted but answers no request.
    const [own] = await silent.push(await silent.set(`${SSF}verification`, {}, { format: "opaque", id: "stream-verify-silent" }));
    assert.equal(own.status, 202);
    ({ byId } = await adminStatuses(w));
    assert.equal(byId["verify-silent"].verification, "invalid_state");
  } finally {
    await w.dispose();
    await endpoint.close();
  }
});
