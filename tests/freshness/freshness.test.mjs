// The freshness harness, short (make test): 3 simulated locations × 2 isolates in real workerd,
// one revocation authority (the product's Durable Object), each location's KV view a FAKE lagging
// the writer by 3 s. No timing is asserted against the clock of this machine: what is asserted is
// that every isolate refused every sign-out and that no verdict was wrong — no control token
// refused, no signed-out token accepted after its isolate refused it or after the sign-out's own
// receipt said every location would refuse it. The headline run (60 s lag, many sign-outs, the
// figures the README quotes) is `make freshness`.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { runFreshness } from "./harness.mjs";
import { freshnessTables } from "./report.mjs";

const FRESHNESS_MS = 2000; // the default FRESHNESS_S
let r;

before(async () => {
  r = await runFreshness({
    locations: 3, isolates: 2, lagMs: 3000, probeEveryMs: 50,
    signOuts: 4, signOutEveryMs: 700, afterKill: 2, kvAlone: 2, races: 2, loadLevels: [],
  });
  console.log(freshnessTables(r).split("\n").map((l) => `# ${l}`).join("\n"));
});

test("with the authority every isolate of every location refuses each sign-out by its receipt, which is within FRESHNESS_S and a second", () => {
  assert.deepEqual(r.withAuthority.wrong, []);
  assert.ok(r.withAuthority.settled);
  assert.equal(r.withAuthority.latencies.length, 4 * 6, "4 sign-outs × 6 isolates refused");
  for (const l of r.withAuthority.latencies) {
    assert.ok(l.enforcedBy - l.answeredAt <= FRESHNESS_MS + 1000, `receipt ${l.enforcedBy - l.answeredAt} ms`);
  }
  assert.equal(r.withAuthority.health.feed, "fresh");
  assert.equal(r.withAuthority.health.enforced_within_s, 3);
});

test("the authority is read about once per location per FRESHNESS_S, not once per gated request", () => {
  for (const [location, rate] of Object.entries(r.rate).filter(([k]) => k !== "seconds")) {
    // Two isolates, each refreshing at most once per 3/4 of FRESHNESS_S, plus one cold read.
    const ceiling = 2 / (0.75 * (FRESHNESS_MS / 1000)) + 2 / r.rate.seconds;
    assert.ok(rate.feedPerSecond <= ceiling, `${location}: ${rate.feedPerSecond.toFixed(2)} reads/s`);
    assert.ok(rate.gatedPerSecond >= 5 * rate.feedPerSecond, `${location}: ${rate.gatedPerSecond.toFixed(1)} gated/s`);
  }
});

test("two locations signing one user out at the same instant leave one entry that never goes down", () => {
  for (const race of r.races) {
    assert.ok(race.writes.length >= 1, race.user);
    for (let i = 1; i < race.writes.length; i++) assert.ok(race.writes[i] >= race.writes[i - 1], `${race.user}: ${race.writes}`);
    // The authority writes a second entry only for a sign-out in a later second.
    if (race.writes.length === 2) assert.notEqual(Math.floor(race.writes[0] / 1000), Math.floor(race.writes[1] / 1000));
  }
});

test("with the authority killed mid-run sign-outs fall back to KV with KV's window as receipt, every isolate reports the degraded bound, and no token is wrongly accepted", () => {
  assert.deepEqual(r.killed.wrong, [], "no wrong verdict before or after the kill");
  assert.ok(r.killed.settled);
  assert.equal(r.killed.latencies.length, 2 * 6);
  // KV's window from the latest the write can land (after the authority's 2 s call timeout).
  for (const receipt of r.killed.receiptsMs) assert.ok(receipt >= 94_000 && receipt <= 97_000, `${receipt}`);
  assert.ok(r.killed.failedCalls > 0);
  for (const h of r.killed.health) {
    assert.deepEqual(
      { status: h.status, word: h.word, feed: h.feed, fallback: h.fallback, within: h.enforced_within_s },
      { status: 200, word: "degraded", feed: "stale", fallback: "kv", within: 95 },
    );
  }
});

test("with KV alone every isolate refuses each sign-out within KV's window and no verdict is wrong", () => {
  assert.deepEqual(r.kvAlone.wrong, []);
  assert.ok(r.kvAlone.settled);
  assert.equal(r.kvAlone.latencies.length, 2 * 6);
});
