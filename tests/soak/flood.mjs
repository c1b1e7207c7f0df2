// Bounded memory under a hostile flood, and no stampede on the JWKS endpoint. The flood runs
// inside the isolate (tests/soak/soak-entry.js, test-only): distinct users, sessions, tokens and
// Origins through the product's handleRequest, distinct unknown kids through verifyToken, and
// distinct users signed out through globalSignOut while the revocation authority is unreachable
// (each then written to KV directly and remembered as written here, the set that must stay
// within WRITTEN_HERE_CAPACITY). The
// FAKE KV answers every key absent for the flood (a million users must not fill Miniflare's
// store); the product's caches are read from isolateStats() after every chunk.
import assert from "node:assert/strict";
import { sign, accessClaims, now, REGION } from "../worker/support.mjs";
import { FLOOD, JWKS_POOLS, REFETCH_COOLDOWN_MS, client, send, sourceConstant } from "./harness.mjs";

export const WRITTEN_HERE_CAPACITY = sourceConstant("src/revocation/feed.rs", "WRITTEN_HERE_CAPACITY");

const issuer = (id) => `https://cognito-idp.${REGION}.amazonaws.com/${id}`;
const stats = async (worker) => (await (await worker.fetch("/__soak/stats")).json()).caches;
const kv = (worker, changes) => worker.fetch("/__soak/kv", { method: "POST", body: JSON.stringify(changes) });

/** A valid token of a remote-JWKS pool (signed with the key its endpoint serves). */
const remoteToken = async (env, pool) => {
  const t = now();
  const sub = crypto.randomUUID();
  const token = await sign(env.keys.remote, accessClaims(pool, { sub, auth_time: t - 60, iat: t - 60 }));
  return { cls: "user", authorization: `Bearer ${token}`, owners: [], sub };
};

/**
 * Floods `users` distinct users (each its own session, token and Origin) and `kids` distinct
 * unknown kids, `chunk` at a time. Answers the caches before, after and at their fullest, the
 * statuses, the refusals, and the JWKS fetches the kid flood caused.
 */
export async function runFlood(env, { users, kids, signOuts = 0, chunk = 25_000, onChunk } = {}) {
  const { worker, jwks } = env;
  // The kid flood's pool has its keys before the flood, as a running isolate would.
  const warm = await remoteToken(env, JWKS_POOLS.kids);
  const pool = client(worker, 1);
  assert.equal((await send(pool, warm)).status, 200, "the kids pool's own token passes");
  await pool.close();
  const before = await stats(worker);
  const peak = { ...before };
  const note = (caches) => {
    for (const [name, value] of Object.entries(caches)) peak[name] = Math.max(peak[name] ?? 0, value);
  };
  const statuses = {};
  const refusals = {};
  const timing = { usersMs: 0, kidsMs: 0 };
  await kv(worker, { emptyReads: true });
  try {
    for (let from = 0; from < users; from += chunk) {
      const count = Math.min(chunk, users - from);
      const res = await worker.fetch("/__soak/flood", {
        method: "POST",
        body: JSON.stringify({ kind: "users", from, count, secret: env.keys.floodSecret, pool: FLOOD, issuer: issuer(FLOOD), client: "client1" }),
      });
      assert.equal(res.status, 200);
      const out = await res.json();
      for (const [status, n] of Object.entries(out.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
      timing.usersMs += out.ms;
      note(out.caches);
      onChunk?.("users", from + count, out);
    }
    const fetchesBefore = jwks.fetches("kids");
    const started = performance.now();
    for (let from = 0; from < kids; from += chunk) {
      const count = Math.min(chunk, kids - from);
      const res = await worker.fetch("/__soak/flood", {
        method: "POST",
        body: JSON.stringify({ kind: "kids", from, count, pool: JWKS_POOLS.kids, issuer: issuer(JWKS_POOLS.kids), client: "client1" }),
      });
      assert.equal(res.status, 200);
      const out = await res.json();
      for (const [why, n] of Object.entries(out.refusals)) refusals[why] = (refusals[why] ?? 0) + n;
      timing.kidsMs += out.ms;
      note(out.caches);
      onChunk?.("kids", from + count, out);
    }
    const kidSeconds = (performance.now() - started) / 1000;
    const kidFetches = jwks.fetches("kids") - fetchesBefore;
    const outcomes = {};
    await worker.fetch("/__soak/authority", { method: "POST", body: JSON.stringify({ mode: "down" }) });
    try {
      const signOutsStarted = performance.now();
      for (let from = 0; from < signOuts; from += chunk) {
        const count = Math.min(chunk, signOuts - from);
        const res = await worker.fetch("/__soak/flood", { method: "POST", body: JSON.stringify({ kind: "signouts", from, count, pool: FLOOD }) });
        assert.equal(res.status, 200);
        const out = await res.json();
        for (const [what, n] of Object.entries(out.outcomes)) outcomes[what] = (outcomes[what] ?? 0) + n;
        note(out.caches);
        onChunk?.("sign-outs", from + count, out);
      }
      timing.signOutsMs = performance.now() - signOutsStarted;
    } finally {
      await worker.fetch("/__soak/authority", { method: "POST", body: JSON.stringify({ mode: "up" }) });
    }
    return {
      users,
      kids,
      signOuts,
      outcomes,
      before,
      after: await stats(worker),
      peak,
      statuses,
      refusals,
      timing,
      kidFetches,
      // One refetch per cooldown at most, and the warm-up fetch began the first cooldown.
      kidFetchBound: 1 + Math.floor((kidSeconds * 1000) / REFETCH_COOLDOWN_MS),
    };
  } finally {
    await kv(worker, { emptyReads: false });
  }
}

/** Asserts what the flood promises: every cache within its bound, every flood token judged right. */
export function assertFlood(out) {
  const { peak, after } = out;
  assert.ok(peak.revocation_lookups <= peak.revocation_lookups_bound, `revocation cache ${peak.revocation_lookups} > ${peak.revocation_lookups_bound}`);
  assert.equal(after.revocation_lookups, after.revocation_lookups_bound, "the flood filled the revocation cache to its bound, no further");
  assert.ok(peak.used_signatures <= peak.used_signatures_bound);
  assert.ok(peak.jwks_uris <= Object.keys(JWKS_POOLS).length, `jwks cache holds ${peak.jwks_uris} URIs`);
  assert.ok(peak.written_here <= peak.written_here_bound, `written here ${peak.written_here} > ${peak.written_here_bound}`);
  if (out.signOuts > WRITTEN_HERE_CAPACITY) assert.equal(after.written_here, after.written_here_bound, "the sign-out flood filled the written-here set to its bound, no further");
  const receipts = Object.keys(out.outcomes);
  assert.equal(Object.values(out.outcomes).reduce((a, b) => a + b, 0), out.signOuts);
  // Every one landed (written to KV directly, the authority unreachable) with KV's window (95 s
  // by default) counted from the end of the authority's 2 s call timeout as its receipt.
  assert.ok(receipts.every((r) => /^receipt (9[5-7]) s$/.test(r)), `sign-out flood: ${JSON.stringify(out.outcomes)}`);
  assert.deepEqual(out.statuses, { 200: out.users }, "every flood user's valid token passed");
  assert.deepEqual(out.refusals, { "NotAuthorizedException: Invalid Access Token": out.kids }, "every unknown kid was refused");
  assert.ok(out.kidFetches <= out.kidFetchBound, `${out.kidFetches} JWKS fetches for the kid flood, bound ${out.kidFetchBound}`);
}

/** `n` concurrent requests to a cold remote pool whose endpoint answers after `delayMs`. */
export async function runStampede(env, { n = 24, delayMs = 500 } = {}) {
  const { worker, jwks } = env;
  jwks.set("stampede", "slow", delayMs);
  const tokens = await Promise.all(Array.from({ length: n }, () => remoteToken(env, JWKS_POOLS.stampede)));
  const pool = client(worker, n);
  const answers = await Promise.all(tokens.map((token) => send(pool, token)));
  await pool.close();
  jwks.set("stampede", "ok");
  return { n, statuses: answers.map((a) => a.status), fetches: jwks.fetches("stampede") };
}
