// `make soak`: the Worker under fire, in real workerd (Miniflare), with every verdict checked.
//   1. load: SOAK_SECONDS (default 60) of valid, revoked, expired, forged, other-client and garbage
//      tokens at the gate, with sign-outs (AdminUserGlobalSignOut, GlobalSignOut, RevokeToken)
//      during the run; counts wrong verdicts and 5xx;
//   2. the fault matrix: KV slow, failing, throttled, failing mid-sign-out; the JWKS endpoint slow,
//      5xx, garbage, huge, redirecting; the revocation authority unreachable and not answering
//      (tests/soak/faults.mjs);
//   3. a stampede of cold requests on a slow JWKS endpoint, then a flood of SOAK_FLOOD (default
//      1 000 000) distinct users, sessions, tokens and origins, as many unknown kids, and sign-outs
//      past the written-here bound with the authority unreachable, with every per-isolate cache's
//      size and the wasm memory before and after (tests/soak/flood.mjs).
// Every Worker runs with the revocation authority (a Durable Object) bound, as it deploys.
// Exits non-zero on any wrong verdict, 5xx outside a documented fault answer, or broken bound.
// The short version of each part runs in `make test` (tests/soak/soak.test.mjs).
import { setup, runLoad } from "../tests/soak/harness.mjs";
import { runFaults, assertMatrix, AUTHORITY_RECEIPT_MS } from "../tests/soak/faults.mjs";
import { runFlood, assertFlood, runStampede, WRITTEN_HERE_CAPACITY } from "../tests/soak/flood.mjs";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const FLOOD = Number(process.env.SOAK_FLOOD ?? 1_000_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 8);
const SIGN_OUT_EVERY_MS = 2000;
const ms = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "–");
const failures = [];

// 1. Load with every verdict checked.
const signOuts = Math.ceil((SECONDS * 1000) / SIGN_OUT_EVERY_MS);
const product = await setup({ extUsers: 40, remoteUsers: 10, localUsers: 2 * Math.ceil(signOuts / 3) + 2 });
console.log(`soak: ${SECONDS} s, ${CONCURRENCY} connections, a sign-out every ${SIGN_OUT_EVERY_MS / 1000} s, ${product.tokens.length} tokens`);
const load = await runLoad(product, { seconds: SECONDS, concurrency: CONCURRENCY, signOutEveryMs: SIGN_OUT_EVERY_MS });
await product.stop();
const landed = load.signOuts.filter((e) => e.ok).length;
const receipts = load.signOuts.map((e) => e.receiptMs).filter((r) => r !== null).sort((a, b) => a - b);
console.log(`
| requests | req/s | p50 | p99 | wrong verdicts | 5xx | sign-outs during the run | their receipts (answer → enforced everywhere) |
|---:|---:|---:|---:|---:|---:|---|---|
| ${load.requests} | ${load.rps.toFixed(0)} | ${ms(load.p50)} | ${ms(load.p99)} | ${load.wrong} | ${load.fiveXx} | ${landed} of ${load.signOuts.length} landed (${["AdminUserGlobalSignOut", "GlobalSignOut", "RevokeToken"].map((op) => `${load.signOuts.filter((e) => e.op === op).length} ${op}`).join(", ")}) | ${receipts.length} of ${load.signOuts.length}, ${ms(receipts[0])} – ${ms(receipts.at(-1))} |

| kind | passed (200) | refused (401) | other |
|---|---:|---:|---:|`);
for (const [cls, row] of Object.entries(load.byClass).sort()) console.log(`| ${cls} | ${row.pass} | ${row.refuse} | ${row.fault + row.other} |`);
if (load.wrong || load.fiveXx || landed !== load.signOuts.length) failures.push(`load: ${load.wrong} wrong, ${load.fiveXx} 5xx, ${JSON.stringify(load.samples)}`);
if (receipts.length !== load.signOuts.length || receipts.at(-1) > AUTHORITY_RECEIPT_MS + 50) failures.push(`load: receipts ${JSON.stringify(receipts)}`);

// 2. The fault matrix.
const faulty = await setup({ entry: "tests/soak/soak-entry.js", vars: { REVOCATION_CACHE_TTL_S: "0" }, extUsers: 16, remoteUsers: 2, localUsers: 0 });
const rows = await runFaults(faulty, { faultMs: 5000, afterMs: 3000, authorityFaultMs: 10_000, concurrency: CONCURRENCY });
await faulty.stop();
const statuses = (s) => Object.entries(s).map(([code, n]) => `${n}× ${code}`).join(", ");
console.log(`
Fault matrix (REVOCATION_CACHE_TTL_S=0: every gated request reads KV; JWKS faults on a cold pool)

| fault | while it lasts: answers | wrong | p50 / p99 | sign-out during it | recovered (bound) | JWKS fetches |
|---|---|---:|---|---|---|---:|`);
const receipt = (r) => (r === null || r === undefined ? "" : `, receipt ${(r / 1000).toFixed(1)} s`);
for (const row of rows) {
  const signOut = row.signOut
    ? `${row.signOut.status}${row.signOut.error ? ` ${row.signOut.error}` : ""}${receipt(row.signOut.receiptMs)}${row.retried ? `; nothing written; again after: ${row.retried.status}` : ""}`
    : "–";
  const recovered = `${row.recovery.recoveryMs === null ? "no" : `${row.recovery.recoveryMs.toFixed(0)} ms`} (${row.recovery.boundMs} ms)`;
  console.log(
    `| ${row.name} | ${statuses(row.during.statuses)} | ${row.during.wrong + row.after.wrong} | ${ms(row.during.p50)} / ${ms(row.during.p99)} | ${signOut} | ${recovered} | ${row.fetchesDuring ?? "–"} |`,
  );
}
const authorityRows = rows.filter((row) => row.authority);
console.log(`
The revocation authority's rows: the sign-out during the fault, the signed-out user's tokens sent
right after its answer, /healthz while it lasts, and after the authority is back

| fault | sign-out during it | its user's tokens after the answer | /healthz while it lasts | degraded after | fresh again (bound) | next sign-out | calls failed |
|---|---|---|---|---:|---|---|---:|`);
for (const row of authorityRows) {
  const seen = [...new Set(row.health.during.map((h) => `${h.http} ${h.status}${h.fallback ? ` (${h.feed}, fallback ${h.fallback}, within ${h.within} s)` : ""}`))].join("; ");
  const tried = Object.entries(row.triedAfterAnswer.reduce((m, v) => ({ ...m, [v]: (m[v] ?? 0) + 1 }), {})).map(([v, n]) => `${n}× ${v}`).join(", ");
  console.log(
    `| ${row.name} | ${row.signOut.status} in ${ms(row.signOut.ms)}${receipt(row.signOut.receiptMs)}, entry in KV: ${row.entry ? "yes" : "no"} | ${tried} | ${seen} | ${row.health.degradedAfterMs.toFixed(0)} ms | ${row.healthRecovery.recoveryMs === null ? "no" : `${row.healthRecovery.recoveryMs.toFixed(0)} ms`} (${row.healthRecovery.boundMs} ms) | ${row.signOutAfter.status}${receipt(row.signOutAfter.receiptMs)} | ${row.authority === "down" ? row.calls.failed : row.calls.hung} |`,
  );
}
try {
  assertMatrix(rows);
} catch (err) {
  failures.push(`fault matrix: ${err.message}`);
}

// 3. Stampede and flood.
const flooded = await setup({ entry: "tests/soak/soak-entry.js", extUsers: 3, remoteUsers: 1, localUsers: 0, preRevoked: 1 });
const stampede = await runStampede(flooded, { n: 32, delayMs: 1000 });
console.log(`\nstampede: ${stampede.n} concurrent cold requests, JWKS endpoint answering after 1 s: ${stampede.fetches} fetch, statuses ${[...new Set(stampede.statuses)]}`);
if (stampede.fetches !== 1 || stampede.statuses.some((s) => s !== 200)) failures.push(`stampede: ${JSON.stringify(stampede)}`);
let last = 0;
const flood = await runFlood(flooded, {
  users: FLOOD,
  kids: FLOOD,
  signOuts: WRITTEN_HERE_CAPACITY + 5_000,
  chunk: 50_000,
  onChunk: (kind, done, out) => {
    if (performance.now() - last > 30_000 || done === FLOOD) {
      last = performance.now();
      console.log(`flood: ${kind} ${done}, revocation cache ${out.caches.revocation_lookups}, wasm memory ${out.caches.wasm_memory_bytes} B`);
    }
  },
});
await flooded.stop();
const mib = (b) => `${(b / 1048576).toFixed(2)} MiB`;
console.log(`
| cache | bound (from the code) | before the flood | after ${FLOOD} users, ${FLOOD} kids and ${flood.signOuts} sign-outs | at its fullest |
|---|---:|---:|---:|---:|
| revocation lookups | ${flood.after.revocation_lookups_bound} | ${flood.before.revocation_lookups} | ${flood.after.revocation_lookups} | ${flood.peak.revocation_lookups} |
| used SigV4 signatures | ${flood.after.used_signatures_bound} | ${flood.before.used_signatures} | ${flood.after.used_signatures} | ${flood.peak.used_signatures} |
| JWKS key sets (one per URI) | remote pools configured | ${flood.before.jwks_uris} | ${flood.after.jwks_uris} | ${flood.peak.jwks_uris} |
| revocations written here | ${flood.after.written_here_bound} | ${flood.before.written_here} | ${flood.after.written_here} | ${flood.peak.written_here} |
| the feed's recent set (the authority's window) | – | ${flood.before.feed_entries} | ${flood.after.feed_entries} | ${flood.peak.feed_entries} |
| wasm memory | (never shrinks) | ${mib(flood.before.wasm_memory_bytes)} | ${mib(flood.after.wasm_memory_bytes)} | ${mib(flood.peak.wasm_memory_bytes)} |

users flood: ${JSON.stringify(flood.statuses)} in ${(flood.timing.usersMs / 1000).toFixed(0)} s; kid flood: ${JSON.stringify(flood.refusals)} in ${(flood.timing.kidsMs / 1000).toFixed(0)} s, ${flood.kidFetches} JWKS fetches (bound ${flood.kidFetchBound}); sign-out flood (authority unreachable): ${JSON.stringify(flood.outcomes)} in ${(flood.timing.signOutsMs / 1000).toFixed(0)} s`);
try {
  assertFlood(flood);
} catch (err) {
  failures.push(`flood: ${err.message}`);
}

if (failures.length) {
  console.error(`\nsoak FAILED:\n${failures.join("\n")}`);
  process.exit(1);
}
console.log("\nsoak passed: no wrong verdict, no unexpected 5xx, every cache within its bound");
