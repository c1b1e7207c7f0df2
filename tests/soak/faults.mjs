// Faults under load: the fault matrix. The Worker runs from tests/soak/soak-entry.js (test-only),
// whose FAKE KV binding is told to misbehave, with REVOCATION_CACHE_TTL_S=0 so every gated
// request reads KV (the isolate's cache would otherwise hide a KV fault for 5 s); the key sets
// come from the FAKE JWKS endpoint (tests/soak/fake-jwks.mjs), one cold URI per JWKS fault.
// Each row: the fault is switched on under load, a sign-out is attempted during it, the fault is
// switched off, and the load goes on until the documented recovery time has passed.
import assert from "node:assert/strict";
import { sign, accessClaims, now, sleep } from "../worker/support.mjs";
import { JWKS_POOLS, FAILURE_BACKOFF_MS, Tally, client, picker, send, judge, signOut, nextTarget, percentile } from "./harness.mjs";

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

/** The row left for the revocation authority (a Durable Object), which is not built yet. */
export const AUTHORITY_ROW = { name: "revocation authority down", pending: "no authority yet: its row joins when the Durable Object does" };

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
    signOut: { status: event.status, error: event.error ?? null, ms: event.answeredAt - event.sentAt, expected: row.signOut },
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

/** The whole matrix: each KV row in turn, then the JWKS rows together. */
export async function runFaults(env, { faultMs = 2000, afterMs = 1500, concurrency = 6 } = {}) {
  const rows = [];
  for (const row of KV_FAULTS) rows.push(await kvRow(env, row, { faultMs, afterMs, concurrency }));
  rows.push(...(await jwksRows(env, { faultMs, concurrency })));
  rows.push(AUTHORITY_ROW);
  return rows;
}

/** Asserts what the matrix promises: verdicts, statuses, sign-outs, recovery (never timings). */
export function assertMatrix(rows) {
  for (const row of rows) {
    if (row.pending) continue;
    for (const phase of ["during", "after"]) {
      assert.equal(row[phase].wrong, 0, `${row.name} (${phase}): wrong verdicts ${JSON.stringify(row[phase].samples)}`);
      const statuses = Object.keys(row[phase].statuses).map(Number);
      assert.ok(statuses.every((s) => [200, 401, 503].includes(s)), `${row.name} (${phase}): statuses ${statuses}`);
      assert.ok(row[phase].requests > 0, `${row.name} (${phase}): no requests`);
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
