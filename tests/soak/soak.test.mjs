// The short soak (`make test`; `make soak` runs the long one): load with every verdict judged and
// sign-outs during the run, the fault matrix, a flood against the caches' bounds, and a stampede
// of cold requests on the JWKS endpoint, all in real workerd. Assertions are on verdicts,
// statuses and counts only, never on timings.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setup, runLoad, judge, Tally, CACHE_CAPACITY } from "./harness.mjs";
import { runFaults, assertMatrix, KV_FAULTS, JWKS_FAULTS, AUTHORITY_FAULTS, AUTHORITY_RECEIPT_MS } from "./faults.mjs";
import { runFlood, assertFlood, runStampede, WRITTEN_HERE_CAPACITY } from "./flood.mjs";

let product, faulty, flooded;

before(async () => {
  // The product's own entry with its defaults, and the test-only entry with the fake KV and
  // every gated request reading KV (REVOCATION_CACHE_TTL_S=0) so KV faults are felt; each with
  // the revocation authority bound (a Durable Object), as it deploys.
  product = await setup({ extUsers: 16, remoteUsers: 4, localUsers: 4 });
  faulty = await setup({ entry: "tests/soak/soak-entry.js", vars: { REVOCATION_CACHE_TTL_S: "0" }, extUsers: 12, remoteUsers: 2, localUsers: 0 });
  // The flood's Worker keeps the default revocation cache, the one it must fill to its bound.
  flooded = await setup({ entry: "tests/soak/soak-entry.js", extUsers: 3, remoteUsers: 1, localUsers: 0, preRevoked: 1 });
});
after(async () => {
  await product?.stop();
  await faulty?.stop();
  await flooded?.stop();
});

test("the judge counts a revoked or forged token's pass and a valid token's refusal as wrong", () => {
  const user = { events: [{ ok: true, sentAt: 10, answeredAt: 20 }] };
  const token = { cls: "user", owners: [user], sub: "s" };
  const ok = { "x-amzn-errortype": "NotAuthorizedException" };
  const pass = (sentAt, answeredAt) => ({ status: 200, headers: {}, text: '{"sub":"s"}', sentAt, answeredAt });
  const refuse = (sentAt, answeredAt) => ({ status: 401, headers: ok, text: "{}", sentAt, answeredAt });
  assert.equal(judge(token, pass(21, 25)).wrong, true, "passed after the sign-out was answered");
  assert.equal(judge(token, refuse(1, 5)).wrong, true, "refused before the sign-out was sent");
  assert.equal(judge(token, pass(15, 25)).wrong, false, "a request overlapping the sign-out may pass");
  assert.equal(judge(token, refuse(15, 25)).wrong, false, "or be refused");
  assert.equal(judge({ cls: "forged: alg none", owners: [] }, pass(1, 2)).wrong, true);
  assert.equal(judge({ cls: "garbage", owners: [] }, { status: 500, headers: {}, text: "", sentAt: 1, answeredAt: 2 }).wrong, true);
  const failed = { cls: "user", owners: [{ events: [{ ok: false, sentAt: 10, answeredAt: 20 }] }], sub: "s" };
  assert.equal(judge(failed, refuse(21, 25)).wrong, true, "a failed sign-out revokes nothing");
  const tally = new Tally();
  tally.add("valid", "refuse", 401, 1, true, {});
  assert.equal(tally.summary(1).wrong, 1);
});

test("a short soak with sign-outs during the run accepts no revoked or forged token, refuses no valid one and answers no 5xx", async () => {
  const out = await runLoad(product, { seconds: 10, concurrency: 6, signOutEveryMs: 1200 });
  console.log(`# soak: ${out.requests} requests, ${out.rps.toFixed(0)} req/s, p50 ${out.p50.toFixed(1)} ms, p99 ${out.p99.toFixed(1)} ms, wrong ${out.wrong}, 5xx ${out.fiveXx}`);
  assert.equal(out.wrong, 0, `wrong verdicts: ${JSON.stringify(out.samples)}`);
  assert.equal(out.fiveXx, 0);
  assert.deepEqual(Object.keys(out.statuses).sort(), ["200", "401"]);
  const ops = out.signOuts.map((e) => `${e.op} ${e.status}`);
  for (const op of ["AdminUserGlobalSignOut", "GlobalSignOut", "RevokeToken"]) assert.ok(ops.includes(`${op} 200`), `${op} ran and landed: ${ops}`);
  assert.ok(out.signOuts.every((e) => e.ok), `every sign-out landed: ${ops}`);
  // Through the authority, each answer's receipt promises enforcement everywhere within FRESHNESS_S + 1 s.
  for (const e of out.signOuts) assert.ok(e.receiptMs > 0 && e.receiptMs <= AUTHORITY_RECEIPT_MS + 50, `${e.op}: receipt ${e.receiptMs} ms`);
  // Each kind was sent, and sign-outs during the run turned valid tokens into refused ones.
  for (const cls of ["valid", "revoked during the run", "revoked-before", "expired", "forged: bad signature", "forged: alg none", "forged: other key", "other client", "garbage"]) {
    assert.ok(out.byClass[cls], `${cls} was sent`);
  }
  assert.ok(out.byClass["revoked during the run"].refuse > 0);
  assert.equal(out.byClass.valid.refuse, 0);
});

test("under every KV, JWKS and authority fault no token is wrongly accepted, the documented codes are answered, no sign-out is lost or half-applied, and it recovers in the documented time", async () => {
  const rows = await runFaults(faulty, { faultMs: 2000, afterMs: 1500, authorityFaultMs: 8000 });
  for (const row of rows) {
    const health = row.healthRecovery ? `, /healthz degraded after ${row.health.degradedAfterMs.toFixed(0)} ms, fresh again ${row.healthRecovery.recoveryMs?.toFixed(0)} ms after, receipt ${row.signOut.receiptMs} ms` : "";
    console.log(`# ${row.name}: during ${JSON.stringify(row.during.statuses)}, after ${JSON.stringify(row.after.statuses)}, recovery ${row.recovery.recoveryMs?.toFixed(0)} ms${health}`);
  }
  assert.deepEqual(
    rows.map((r) => r.name),
    [...KV_FAULTS, ...JWKS_FAULTS, ...AUTHORITY_FAULTS].map((r) => r.name),
  );
  assertMatrix(rows);
});

test("concurrent cold requests fetch the JWKS once, and all pass", async () => {
  const out = await runStampede(flooded, { n: 24, delayMs: 500 });
  assert.deepEqual(out.statuses, Array(24).fill(200));
  assert.equal(out.fetches, 1, "one fetch for 24 cold requests");
});

test("a flood of distinct users, sessions, tokens, origins, unknown kids and sign-outs keeps every cache within its bound", async () => {
  const users = CACHE_CAPACITY + 5_000; // three lookups per token: past the bound several times over
  const out = await runFlood(flooded, { users, kids: 10_000, signOuts: WRITTEN_HERE_CAPACITY + 500, chunk: 5_000 });
  console.log(`# flood: wasm memory ${out.before.wasm_memory_bytes} -> ${out.after.wasm_memory_bytes} bytes, revocation cache ${out.after.revocation_lookups}/${out.after.revocation_lookups_bound}, written here ${out.after.written_here}/${out.after.written_here_bound}, kid-flood JWKS fetches ${out.kidFetches}, sign-outs ${JSON.stringify(out.outcomes)}`);
  assertFlood(out);
});
