// Faults under load: the fault matrix. The Worker runs from tests/soak/soak-entry.js (test-only),
// whose FAKE KV binding is told to misbehave, with REVOCATION_CACHE_TTL_S=0 so every gated
// request reads KV (the isolate's cache would otherwise hide a KV fault for 5 s); the key sets
// come from the FAKE JWKS endpoint (tests/soak/fake-jwks.mjs), one cold URI per JWKS fault.
// Each row: the fault is switched on under load, a sign-out is attempted during it, the fault is
// switched off, and the load goes on until the documented recovery time has passed.
import assert from "node:assert/strict";
import { sign, accessClaims, now, sleep } from "../worker/support.mjs";
import { JWKS_POOLS, FAILURE_BACKOFF_MS, Tally, client, picker, send, judge, verdictOf, signOut, nextTarget, percentile, sourceConstant } from "./harness.mjs";

/** Recovery is judged on requests sent this long after the documented bound (transport, clocks). */
const SLACK_MS = 500;

/** The classes whose requests need KV (valid and revoked users' tokens): a 503 is their documented answer while KV reads fail. */
const NEEDS_KV = new Set(["valid", "revoked-before", "revoked during the run", "race (overlaps a sign-out)"]);

/** The KV rows: what the fake is told, whether a 503 is the documented gate answer, what the sign-out must answer. */
export const KV_FAULTS = [
  { name: "KV reads slow (1 s)", kv: { readDelayMs: 1000 }, gate503: false, signOut: 200 },
  { name: "KV reads failing", kv: { failReads: true }, gate503: true, signOut: 500 },
  { name: "KV reads throttled (429)", kv: { failReads: true, readError: "KV GET failed: 429 Too Many Requests" }, gate503: true, signOut: 500 },
  // The call's signature record (sigv4/v1/…) is written first and spared; the revocation entry's write then fails.
  { name: "KV writes failing mid-sign-out", kv: { failPutsAfter: 0, spare: "sigv4/v1/" }, gate503: false, signOut: 500 },
];

/** The JWKS rows: the fake endpoint's mode for a pool nobody has used yet (a cold isolate's view). */
export const JWKS_FAULTS = [
  { name: "JWKS endpoint slow (1 s)", mode: "slow", gate503: false },
  { name: "JWKS endpoint 5xx", mode: "5xx", gate503: true },
  { name: "JWKS endpoint garbage", mode: "garbage", gate503: true },
  { name: "JWKS endpoint huge (> 64 KiB)", mode: "huge", gate503: true },
  { name: "JWKS endpoint redirecting", mode: "redirect", gate503: true },
];

/**
 * The revocation authority's rows: the FAKE namespace in front of the Durable Object is told to
 * reject every call (unreachable) or never to answer (the product's call times out at 2 s).
 * Documented (README, "Freshness and failure"): sign-outs still land, written to KV directly, and
 * their receipt states KV's window; the gate keeps deciding through KV (no 503); /healthz says
 * "degraded" (200) with the fallback "kv" once the isolate's copy of the feed is due; when the
 * authority is back the feed is fresh again within the longest back-off, and sign-outs go
 * through it again with the short receipt.
 */
export const AUTHORITY_FAULTS = [
  { name: "revocation authority unreachable", mode: "down" },
  { name: "revocation authority not answering (2 s timeout)", mode: "hang" },
];
export const FRESHNESS_MS = 1000 * sourceConstant("src/config.rs", "DEFAULT_FRESHNESS_S");
export const MAX_BACKOFF_MS = sourceConstant("src/revocation/authority.rs", "MAX_BACKOFF_MS");
const CLOCK_ALLOWANCE_MS = sourceConstant("src/revocation/authority.rs", "CLOCK_ALLOWANCE_MS");
const AUTHORITY_CALL_TIMEOUT_MS = sourceConstant("src/revocation/authority.rs", "CALL_TIMEOUT_MS");
const KV_PROPAGATION_S = sourceConstant("src/config.rs", "KV_PROPAGATION_S");
const KV_CACHE_TTL_S = sourceConstant("src/config.rs", "DEFAULT_KV_CACHE_TTL_S");
/** The receipt through the authority: its commit + FRESHNESS_S + the clock allowance. */
export const AUTHORITY_RECEIPT_MS = FRESHNESS_MS + CLOCK_ALLOWANCE_MS;
/** The receipt written to KV directly: KV's window, with the soak's REVOCATION_CACHE_TTL_S. */
export const kvReceiptMs = (revocationCacheTtlS) => (KV_PROPAGATION_S + KV_CACHE_TTL_S + revocationCacheTtlS) * 1000;

const kv = async (worker, changes) => {
  const res = await worker.fetch("/__soak/kv", { method: "POST", body: JSON.stringify(changes) });
  assert.equal(res.status, 200);
  return res.json();
};

/** Latency and verdict figures of a tally, for the matrix. */
function figures(tally) {
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  return { requests: tally.requests, wrong: tally.wrong, statuses: tally.statuses, byClass: tally.byClass, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), samples: tally.samples };
}

/**
 * Recovery after the fault ended at `clearedAt`: `recoveryMs` from then to the first valid request
 * after which every valid request passed; `allPassedAfterBound`: every valid request sent more than
 * `boundMs` (+ slack) after it passed, and there was at least one.
 */
function recovery(answers, clearedAt, boundMs) {
  const after = answers.filter((a) => a.sentAt >= clearedAt).sort((a, b) => a.sentAt - b.sentAt);
  let firstGood = null;
  for (const a of after) {
    if (a.verdict !== "pass") firstGood = null;
    else if (firstGood === null) firstGood = a;
  }
  const late = after.filter((a) => a.sentAt >= clearedAt + boundMs + SLACK_MS);
  return {
    boundMs,
    recoveryMs: firstGood ? Math.max(0, firstGood.sentAt - clearedAt) : null,
    checkedAfterBound: late.length,
    allPassedAfterBound: late.length > 0 && late.every((a) => a.verdict === "pass"),
  };
}

/** One KV row under load. */
async function kvRow(env, row, { faultMs, afterMs, concurrency }) {
  const { worker } = env;
  const pool = client(worker, concurrency);
  const pick = picker(env.tokens);
  const during = new Tally();
  const after = new Tally();
  const valid = [];
  let clearedAt = Infinity;
  // A 503 is allowed only for requests sent while the fault was on (or in flight when it ended).
  const allow = (answer) => (token, cls) => row.gate503 && answer.sentAt < clearedAt && NEEDS_KV.has(cls);
  const onAnswer = (token, answer, judged) => {
    if (judged.cls === "valid") valid.push({ sentAt: answer.sentAt, verdict: judged.verdict });
  };
  const run = (tally, until) =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const token = pick();
          const answer = await send(pool, token);
          const judged = judge(token, answer, allow(answer));
          tally.add(judged.cls, judged.verdict, answer.status, answer.answeredAt - answer.sentAt, judged.wrong, {
            row: row.name,
            cls: judged.cls,
            expect: judged.expect,
            status: answer.status,
            body: answer.text.slice(0, 160),
          });
          onAnswer(token, answer, judged);
        }
      }),
    );

  await kv(worker, { healthy: true, reset: true, ...row.kv });
  const started = performance.now();
  const target = nextTarget(env, "AdminUserGlobalSignOut");
  const [, event] = await Promise.all([
    run(during, started + faultMs),
    (async () => {
      await sleep(faultMs / 3);
      return signOut(env, "AdminUserGlobalSignOut", target);
    })(),
  ]);
  await kv(worker, { healthy: true });
  clearedAt = performance.now();

  // A refused sign-out left nothing behind, and signing out again lands.
  let entryAfterFailure = null;
  let retried = null;
  const afterRun = run(after, clearedAt + afterMs);
  if (!event.ok) {
    entryAfterFailure = await worker.kv.get(`rev/v1/u/${target.pool}/${target.username}`);
    retried = await signOut(env, "AdminUserGlobalSignOut", target);
  }
  await afterRun;
  await pool.close();
  const faultState = (await (await worker.fetch("/__soak/stats")).json()).counters;
  return {
    name: row.name,
    during: figures(during),
    after: figures(after),
    signOut: { status: event.status, error: event.error ?? null, ms: event.answeredAt - event.sentAt, receiptMs: event.receiptMs, expected: row.signOut },
    entryAfterFailure,
    retried: retried && { status: retried.status, ok: retried.ok },
    recovery: recovery(valid, clearedAt, 0),
    traps: faultState.traps,
  };
}

/** The JWKS rows together: each its own cold pool on the fake endpoint, under one load. */
async function jwksRows(env, { faultMs, concurrency }) {
  const { worker, jwks, keys } = env;
  const t = now();
  const tokens = [];
  for (const row of JWKS_FAULTS) {
    const pool = JWKS_POOLS[row.mode];
    jwks.set(row.mode, row.mode);
    for (let i = 0; i < 2; i++) {
      const sub = crypto.randomUUID();
      const user = { events: [] };
      const token = await sign(keys.remote, accessClaims(pool, { sub, username: `jwks-${row.mode}-${i}`, auth_time: t - 300, iat: t - 300 }));
      tokens.push({ cls: "user", authorization: `Bearer ${token}`, owners: [user], sub, row });
    }
    const forged = await sign(keys.impostor, accessClaims(pool, { auth_time: t - 300, iat: t - 300 }), { kid: keys.remote.kid });
    tokens.push({ cls: "forged: other key", authorization: `Bearer ${forged}`, owners: [], sub: null, row });
  }
  const pool = client(worker, concurrency);
  const tallies = new Map(JWKS_FAULTS.map((row) => [row, { during: new Tally(), after: new Tally(), valid: [] }]));
  let clearedAt = Infinity;
  const bound = FAILURE_BACKOFF_MS;
  const run = (phase, until) =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const token = tokens[Math.floor(Math.random() * tokens.length)];
          const answer = await send(pool, token);
          // A 503 is the documented answer while a failing endpoint's keys are unavailable, and
          // until the failure backoff that began before the fault ended has passed.
          const allow = () => token.row.gate503 && answer.sentAt < clearedAt + bound + SLACK_MS;
          const judged = judge(token, answer, allow);
          const slot = tallies.get(token.row);
          slot[phase].add(judged.cls, judged.verdict, answer.status, answer.answeredAt - answer.sentAt, judged.wrong, {
            row: token.row.name,
            cls: judged.cls,
            status: answer.status,
            body: answer.text.slice(0, 160),
          });
          if (judged.cls === "valid") slot.valid.push({ sentAt: answer.sentAt, verdict: judged.verdict });
        }
      }),
    );
  const started = performance.now();
  await run("during", started + faultMs);
  const fetchesDuring = new Map(JWKS_FAULTS.map((row) => [row, jwks.fetches(row.mode)]));
  for (const row of JWKS_FAULTS) jwks.set(row.mode, "ok");
  clearedAt = performance.now();
  await run("after", clearedAt + bound + SLACK_MS + 1500);
  await pool.close();
  return JWKS_FAULTS.map((row) => {
    const slot = tallies.get(row);
    return {
      name: row.name,
      during: figures(slot.during),
      after: figures(slot.after),
      fetchesDuring: fetchesDuring.get(row),
      fetchesBound: row.gate503 ? 1 + Math.floor(faultMs / bound) : 1,
      recovery: recovery(slot.valid, clearedAt, row.gate503 ? bound : 0),
    };
  });
}

const authority = async (worker, changes) => {
  const res = await worker.fetch("/__soak/authority", changes ? { method: "POST", body: JSON.stringify(changes) } : {});
  assert.equal(res.status, 200);
  return res.json();
};

/** /healthz as the matrix records it. */
async function health(worker) {
  const res = await worker.fetch("/healthz");
  const body = await res.json();
  const { feed, fallback, enforced_within_s: within } = body.revocation ?? {};
  return { at: performance.now(), http: res.status, status: body.status, feed, fallback, within };
}

/**
 * One authority row under load: the authority fails for `faultMs` (long enough for the isolate's
 * copy of the feed to come due and fail), a sign-out lands during it, the signed-out user's
 * tokens are tried at once, /healthz is watched throughout; then the authority is back, the load
 * goes on until /healthz says fresh again (or the documented bound has passed), and one more
 * sign-out shows writes go through the authority again.
 */
async function authorityRow(env, row, { faultMs, afterMs, concurrency }) {
  const { worker } = env;
  const pool = client(worker, concurrency);
  const pick = picker(env.tokens);
  const during = new Tally();
  const after = new Tally();
  const valid = [];
  const healthDuring = [];
  const healthAfter = [];
  let clearedAt = Infinity;
  let recoveredAt = null;
  // The hanging row's last call may time out (2 s) after the authority is back, and only then
  // start its back-off.
  const boundMs = MAX_BACKOFF_MS + (row.mode === "hang" ? 2000 : 0);
  const run = (tally, until) =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until()) {
          const token = pick();
          const answer = await send(pool, token);
          // No 503 is documented for an unreachable authority: KV decides.
          const judged = judge(token, answer, () => false);
          tally.add(judged.cls, judged.verdict, answer.status, answer.answeredAt - answer.sentAt, judged.wrong, {
            row: row.name,
            cls: judged.cls,
            expect: judged.expect,
            status: answer.status,
            body: answer.text.slice(0, 160),
          });
          if (judged.cls === "valid") valid.push({ sentAt: answer.sentAt, verdict: judged.verdict });
        }
      }),
    );
  const watch = async (into, until) => {
    while (performance.now() < until()) {
      const seen = await health(worker);
      into.push(seen);
      if (into === healthAfter && recoveredAt === null && seen.status === "ok" && seen.feed === "fresh") recoveredAt = seen.at;
      await sleep(200);
    }
  };

  await kv(worker, { healthy: true });
  await authority(worker, { mode: row.mode, reset: true });
  const started = performance.now();
  const faultEnds = () => started + faultMs;
  const target = nextTarget(env, "AdminUserGlobalSignOut");
  let tried = [];
  const [, , event] = await Promise.all([
    run(during, faultEnds),
    watch(healthDuring, faultEnds),
    (async () => {
      await sleep(faultMs / 3);
      const out = await signOut(env, "AdminUserGlobalSignOut", target);
      // Every token of the user, sent after the answer: each must be refused.
      tried = await Promise.all(
        target.tokens.map(async (token) => {
          const answer = await send(pool, token);
          return verdictOf(answer.status, answer.headers);
        }),
      );
      return out;
    })(),
  ]);
  const calls = await authority(worker, { mode: "up" });
  clearedAt = performance.now();
  const entry = await worker.kv.get(`rev/v1/u/${target.pool}/${target.username}`);

  // After: until /healthz is fresh again and at least `afterMs`, at most the bound (+ slack).
  const afterEnds = () => (recoveredAt !== null && performance.now() >= clearedAt + afterMs ? 0 : clearedAt + boundMs + SLACK_MS + 1000);
  await Promise.all([run(after, afterEnds), watch(healthAfter, afterEnds)]);
  const target2 = nextTarget(env, "AdminUserGlobalSignOut");
  const again = await signOut(env, "AdminUserGlobalSignOut", target2);
  await pool.close();
  const traps = (await (await worker.fetch("/__soak/stats")).json()).counters.traps;
  return {
    name: row.name,
    authority: row.mode,
    during: figures(during),
    after: figures(after),
    signOut: { status: event.status, error: event.error ?? null, ms: event.answeredAt - event.sentAt, receiptMs: event.receiptMs, expected: 200 },
    triedAfterAnswer: tried,
    entry: entry && JSON.parse(entry),
    calls,
    health: {
      during: healthDuring.map(({ http, status, feed, fallback, within }) => ({ http, status, feed, fallback, within })),
      after: healthAfter.map(({ http, status, feed, fallback, within }) => ({ http, status, feed, fallback, within })),
      degradedAfterMs: (healthDuring.find((h) => h.status === "degraded")?.at ?? NaN) - started,
    },
    healthRecovery: { boundMs, recoveryMs: recoveredAt === null ? null : Math.max(0, recoveredAt - clearedAt) },
    recovery: recovery(valid, clearedAt, 0),
    signOutAfter: { status: again.status, receiptMs: again.receiptMs },
    kvReceiptMs: kvReceiptMs(Number(env.vars.REVOCATION_CACHE_TTL_S ?? 5)),
    traps,
  };
}

/** The whole matrix: each KV row in turn, then the JWKS rows together, then the authority's rows. */
export async function runFaults(env, { faultMs = 2000, afterMs = 1500, authorityFaultMs = 8000, concurrency = 6 } = {}) {
  const rows = [];
  for (const row of KV_FAULTS) rows.push(await kvRow(env, row, { faultMs, afterMs, concurrency }));
  rows.push(...(await jwksRows(env, { faultMs, concurrency })));
  for (const row of AUTHORITY_FAULTS) rows.push(await authorityRow(env, row, { faultMs: authorityFaultMs, afterMs, concurrency }));
  return rows;
}

/** What an authority row promises (README, "Freshness and failure"). */
function assertAuthorityRow(row) {
  const label = row.name;
  assert.equal(row.signOut.status, 200, `${label}: the sign-out landed: ${JSON.stringify(row.signOut)}`);
  assert.ok(
    // Counted from when the KV write may land, after the authority's call timeout: never short of
    // KV's window from the answer (but for the answer's own way back), at most the timeout beyond it.
    row.signOut.receiptMs > row.kvReceiptMs - 1500 && row.signOut.receiptMs <= row.kvReceiptMs + AUTHORITY_CALL_TIMEOUT_MS + 50,
    `${label}: the receipt states KV's window (${row.kvReceiptMs} ms) from the write: ${row.signOut.receiptMs}`,
  );
  assert.equal(row.entry?.reason, "AdminUserGlobalSignOut", `${label}: the entry is in KV`);
  assert.ok(row.triedAfterAnswer.length > 0 && row.triedAfterAnswer.every((v) => v === "refuse"), `${label}: the user's tokens refused at once: ${row.triedAfterAnswer}`);
  const felt = row.authority === "down" ? row.calls.failed : row.calls.hung;
  assert.ok(felt > 0, `${label}: the authority was asked and failed: ${JSON.stringify(row.calls)}`);
  assert.ok(row.health.during.every((h) => h.http === 200 && h.status !== "error"), `${label}: /healthz ${JSON.stringify(row.health.during)}`);
  const degraded = row.health.during.filter((h) => h.status === "degraded");
  assert.ok(degraded.length > 0, `${label}: /healthz said degraded: ${JSON.stringify(row.health.during)}`);
  for (const h of degraded) assert.deepEqual([h.feed, h.fallback, h.within], ["stale", "kv", row.kvReceiptMs / 1000], `${label}: ${JSON.stringify(h)}`);
  assert.ok(
    row.healthRecovery.recoveryMs !== null && row.healthRecovery.recoveryMs <= row.healthRecovery.boundMs + SLACK_MS,
    `${label}: /healthz fresh again within ${row.healthRecovery.boundMs} ms: ${JSON.stringify(row.healthRecovery)} ${JSON.stringify(row.health.after.slice(-3))}`,
  );
  assert.equal(row.signOutAfter.status, 200);
  assert.ok(row.signOutAfter.receiptMs > 0 && row.signOutAfter.receiptMs <= AUTHORITY_RECEIPT_MS + 50, `${label}: back through the authority: receipt ${row.signOutAfter.receiptMs} ms`);
  assert.equal(row.traps, 0, `${label}: the wasm instance never trapped`);
}

/** Asserts what the matrix promises: verdicts, statuses, sign-outs, recovery (never timings). */
export function assertMatrix(rows) {
  for (const row of rows) {
    for (const phase of ["during", "after"]) {
      assert.equal(row[phase].wrong, 0, `${row.name} (${phase}): wrong verdicts ${JSON.stringify(row[phase].samples)}`);
      const statuses = Object.keys(row[phase].statuses).map(Number);
      assert.ok(statuses.every((s) => [200, 401, 503].includes(s)), `${row.name} (${phase}): statuses ${statuses}`);
      assert.ok(row[phase].requests > 0, `${row.name} (${phase}): no requests`);
    }
    if (row.authority) {
      assert.equal(Object.values(row.during.byClass).reduce((sum, c) => sum + c.fault, 0), 0, `${row.name}: no 503: KV decides`);
      assert.ok(row.recovery.allPassedAfterBound, `${row.name}: valid tokens pass after it: ${JSON.stringify(row.recovery)}`);
      assertAuthorityRow(row);
      continue;
    }
    const kvRowDef = KV_FAULTS.find((r) => r.name === row.name);
    const jwksRowDef = JWKS_FAULTS.find((r) => r.name === row.name);
    const faulted = Object.values(row.during.byClass).reduce((sum, c) => sum + c.fault, 0);
    if ((kvRowDef ?? jwksRowDef).gate503) assert.ok(faulted > 0, `${row.name}: the fault was felt (503s while it lasted)`);
    else assert.equal(faulted, 0, `${row.name}: no 503 for a fault the Worker rides out`);
    assert.ok(row.recovery.allPassedAfterBound, `${row.name}: recovered within ${row.recovery.boundMs} ms: ${JSON.stringify(row.recovery)}`);
    if (kvRowDef) {
      assert.equal(row.signOut.status, kvRowDef.signOut, `${row.name}: sign-out answered ${row.signOut.status} ${row.signOut.error}`);
      if (kvRowDef.signOut === 500) {
        assert.equal(row.signOut.error, "InternalErrorException");
        assert.equal(row.entryAfterFailure, null, `${row.name}: a refused sign-out wrote nothing`);
        assert.deepEqual(row.retried, { status: 200, ok: true }, `${row.name}: the sign-out, sent again, lands`);
      }
      assert.equal(row.traps, 0, `${row.name}: the wasm instance never trapped`);
    } else {
      assert.ok(row.fetchesDuring <= row.fetchesBound, `${row.name}: ${row.fetchesDuring} fetches, bound ${row.fetchesBound}`);
    }
  }
}
