// `make bench`: latency of the product's hot paths in real workerd (Miniflare, local KV), KV
// operations per request, and the deploy size. Prints a Markdown table.
//
// Local workerd is not Cloudflare's edge: latencies here are this machine's, over loopback, with
// local KV (no edge cache, no network). Use them to compare changes, not to predict production.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gzipSync, constants } from "node:zlib";
import {
  CognitoIdentityProviderClient,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  AdminUserGlobalSignOutCommand,
  InitiateAuthCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { startWorker, keyFor, pool, accessClaims, sign, bearer, signingKeys } from "../tests/worker/support.mjs";

const EXTERNAL = "us-east-1_Bench1";
const LOCAL = "us-east-1_Bench2";
const ADMIN = { access_key_id: "AKIABENCHBENCH0001", secret_access_key: "bench-secret-bench-secret-0001" };

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p99: at(0.99) };
}

async function timed(runs, fn) {
  const samples = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    await fn(i);
    samples.push(performance.now() - start);
  }
  return percentiles(samples);
}

async function kvCounts(worker) {
  return (await worker.fetch("/__bench/kv-counts")).json();
}

const rs256 = await keyFor("RS256");
const es256 = await keyFor("ES256");
const vars = (extra = {}) => ({
  POOLS: JSON.stringify([
    pool(EXTERNAL, [rs256, es256]),
    { id: LOCAL, issuer: `http://127.0.0.1/${LOCAL}`, local: {}, clients: [{ id: "benchclient" }] },
  ]),
  SIGNING_KEYS: signingKeys("bench"),
  ADMIN_CREDENTIALS: JSON.stringify([ADMIN]),
  ...extra,
});

const rows = [];
const worker = await startWorker(vars(), { entry: "bench/counting-entry.js" });
try {
  const rsToken = await sign(rs256, accessClaims(EXTERNAL));
  const esToken = await sign(es256, accessClaims(EXTERNAL, { sub: "es-user" }));
  for (let i = 0; i < 20; i += 1) await worker.fetch("/api/me", bearer(rsToken)); // warm up

  const floor = await timed(500, () => worker.fetch("/no-such-asset").then((r) => r.arrayBuffer()));
  rows.push(["floor: a request the Worker answers without token work", floor, "transport + wasm call"]);
  const before = await kvCounts(worker);
  const gated = await timed(500, () => worker.fetch("/api/me", bearer(rsToken)).then((r) => r.arrayBuffer()));
  const after = await kvCounts(worker);
  rows.push(["gated request, RS256, revocation cache warm", gated, `${((after.get - before.get) / 500).toFixed(3)} KV reads/request`]);
  const es = await timed(500, () => worker.fetch("/api/me", bearer(esToken)).then((r) => r.arrayBuffer()));
  rows.push(["gated request, ES256, revocation cache warm", es, ""]);

  const client = new CognitoIdentityProviderClient({
    endpoint: worker.url.toString().replace(/\/$/, ""),
    region: "us-east-1",
    credentials: { accessKeyId: ADMIN.access_key_id, secretAccessKey: ADMIN.secret_access_key },
  });
  const b0 = await kvCounts(worker);
  const signOut = await timed(200, (i) => client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: EXTERNAL, Username: `user-${i}` })));
  const b1 = await kvCounts(worker);
  rows.push(["AdminUserGlobalSignOut (SigV4, external pool)", signOut, `${((b1.get - b0.get) / 200).toFixed(2)} reads + ${((b1.put - b0.put) / 200).toFixed(2)} writes/call`]);

  await client.send(new AdminCreateUserCommand({ UserPoolId: LOCAL, Username: "bench", TemporaryPassword: "Bench-Pass-1", MessageAction: "SUPPRESS" }));
  await client.send(new AdminSetUserPasswordCommand({ UserPoolId: LOCAL, Username: "bench", Password: "Bench-Pass-1", Permanent: true }));
  let refreshToken;
  const signIn = await timed(20, async () => {
    const out = await client.send(new InitiateAuthCommand({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: "benchclient", AuthParameters: { USERNAME: "bench", PASSWORD: "Bench-Pass-1" } }));
    refreshToken = out.AuthenticationResult.RefreshToken;
  });
  rows.push(["sign-in, local pool (PBKDF2 100 000 + 2 RS256 signatures)", signIn, ""]);
  const refresh = await timed(50, () => client.send(new InitiateAuthCommand({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: "benchclient", AuthParameters: { REFRESH_TOKEN: refreshToken } })));
  rows.push(["refresh, local pool (2 RS256 signatures)", refresh, ""]);
} finally {
  await worker.dispose();
}

const cold = await startWorker(vars({ REVOCATION_CACHE_TTL_S: "0" }), { entry: "bench/counting-entry.js" });
try {
  const token = await sign(rs256, accessClaims(EXTERNAL));
  for (let i = 0; i < 20; i += 1) await cold.fetch("/api/me", bearer(token));
  const before = await kvCounts(cold);
  const gated = await timed(500, () => cold.fetch("/api/me", bearer(token)).then((r) => r.arrayBuffer()));
  const after = await kvCounts(cold);
  rows.push(["gated request, RS256, isolate cache off (KV every time)", gated, `${((after.get - before.get) / 500).toFixed(3)} KV reads/request`]);
} finally {
  await cold.dispose();
}

const wasm = readFileSync("pkg/edge_revoke_bg.wasm");
const gz = gzipSync(wasm, { level: constants.Z_BEST_COMPRESSION }).length;
let upload = "";
try {
  const out = execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", ".wrangler/bench-dry-run"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  upload = out.match(/Total Upload: ([^\n]+)/)?.[1] ?? "";
} catch (err) {
  upload = `dry run failed: ${err.message.split("\n")[0]}`;
}

const ms = (v) => `${v.toFixed(2)} ms`;
console.log("\n| path | runs | p50 | p99 | notes |\n|---|---:|---:|---:|---|");
for (const [name, stats, notes] of rows) console.log(`| ${name} | ${stats.n} | ${ms(stats.p50)} | ${ms(stats.p99)} | ${notes} |`);
console.log(`\n| size | bytes |\n|---|---|\n| wasm (wasm-opt -Oz) | ${wasm.length} raw, ${gz} gzip -9 |\n| wrangler deploy --dry-run | ${upload} |`);
