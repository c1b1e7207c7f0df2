// `make bench`: edge-revoke side by side with a jose reference Worker (bench/jose-entry.js: jose
// verifying on WebCrypto, then one bulk KV read applying the same revocation rule), all in one
// workerd (Miniflare, local KV). It prints Markdown tables and writes the charts in CHARTS:
//
// 1. Per token, inside one isolate, through the public JS API: `verifyToken` against jose's
//    `jwtVerify` + one KV read, for fresh tokens (every token new) and repeat tokens (the same
//    tokens again), RS256, ES256 and EdDSA. The Worker loops over a batch of tokens; the time per
//    token is (batch time − empty batch time) / batch size, so the HTTP round trip cancels out.
// 2. One gated request at a time over HTTP (p50, p99), interleaved.
// 3. Under load: wrk, 32 connections over loopback, requests per second and p99.
// 4. Local pools: sign-in and refresh (workerd's CPU time per call, read from /proc, and the
//    latency), AdminUserGlobalSignOut; SigV4's HMAC chain in wasm against WebCrypto.
// 5. Cold start: a fresh workerd and isolate to its first answered gated request.
// 6. Sizes: the wasm raw and gzip, and `wrangler deploy --dry-run`'s total for each Worker.
// 7. The freshness harness's headline run (tests/freshness/: how long after a sign-out every
//    location refuses, with the revocation authority and with KV alone; about four minutes;
//    `BENCH_FRESHNESS=skip` leaves it out).
//
// Local workerd is not Cloudflare's edge: latencies here are this machine's, over loopback, with
// local KV (no edge cache, no network). Use them to compare, not to predict production.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync, constants } from "node:zlib";
import { Miniflare } from "miniflare";
import * as jose from "jose";
import {
  CognitoIdentityProviderClient,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  AdminUserGlobalSignOutCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  GetTokensFromRefreshTokenCommand,
} from "@aws-sdk/client-cognito-identity-provider";
// The SRP client side: amazon-cognito-identity-js's own helper (its BigInteger is not exported).
import cognitoJs from "amazon-cognito-identity-js";
import cognitoBigInteger from "amazon-cognito-identity-js/lib/BigInteger.js";
import { createHmac } from "node:crypto";
import {
  ROOT, COMPATIBILITY_DATE, PRODUCT_MODULES, manifest, varBindings,
  keyFor, pool, accessClaims, sign, bearer, signingKeys, now, AUTHORITY_EXPORTS, authorityBinding,
} from "../tests/worker/support.mjs";
import { runFreshness } from "../tests/freshness/harness.mjs";
import { HEADLINE, FRESHNESS_CHART, freshnessTables, freshnessChartSvg } from "../tests/freshness/report.mjs";
import { latencyChart, quantile } from "./chart.mjs";

const EXTERNAL = "us-east-1_Bench1";
const LOCAL = "us-east-1_Bench2";
const ADMIN = { access_key_id: "AKIABENCHBENCH0001", secret_access_key: "bench-secret-bench-secret-0001" };
const GATED = 500;
/** Tokens per in-isolate batch, batches per measurement, users the tokens belong to. */
const BATCH = 200;
const ROUNDS = 11;
const USERS = 20;
const LOAD_SECONDS = 10;

// --- the workers: edge-revoke twice (isolate cache on, and off) and the jose reference -------------

// wrangler bundles the reference (jose from node_modules) exactly as it would deploy it.
const joseOut = `${ROOT}.wrangler/bench/jose/`;
const joseDryRun = execFileSync("wrangler", ["deploy", "--dry-run", "-c", "bench/jose-reference.wrangler.toml",
  "--compatibility-date", COMPATIBILITY_DATE, "--outdir", joseOut], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });

/** The KV probe: `n` reads (`op=get`) or writes (`op=put`) of a 700-byte value, one after another. */
const KV_PROBE = `export default { async fetch(request, env) {
  const url = new URL(request.url);
  const n = Number(url.searchParams.get("n"));
  const op = url.searchParams.get("op");
  for (let i = 0; i < n; i += 1) {
    if (op === "get") await env.REVOCATIONS.get("bench-probe/present");
    else await env.REVOCATIONS.put("bench-probe/written", "x".repeat(700));
  }
  return new Response("ok");
} }`;

const keys = { RS256: await keyFor("RS256"), ES256: await keyFor("ES256"), EdDSA: await keyFor("EdDSA") };
const external = pool(EXTERNAL, Object.values(keys));
const ours = (extra) => varBindings({
  POOLS: JSON.stringify([
    external,
    { id: LOCAL, issuer: `http://127.0.0.1/${LOCAL}`, local: {}, clients: [
      { id: "benchclient" },
      { id: "rotating", refresh_token_rotation: { retry_grace_period_s: 0 } },
    ] },
  ]),
  SIGNING_KEYS: signingKeys("bench"),
  ADMIN_CREDENTIALS: JSON.stringify([ADMIN]),
  ...extra,
});
const joseEnv = varBindings({
  JOSE_POOL: JSON.stringify({ id: EXTERNAL, issuer: external.issuer, jwks: external.jwks, client_id: "client1", algorithms: Object.keys(keys) }),
});
const kv = { REVOCATIONS: { type: "kv", id: "REVOCATIONS" } }; // one namespace, shared by all three
const socket = [{ host: "127.0.0.1", port: 0 }]; // each Worker on its own socket: the same path for all
const worker = (name, config) => ({
  config: { name, compatibilityDate: COMPATIBILITY_DATE, ...config },
  dev: { rootPath: ROOT, unsafeDirectSockets: socket },
});
const oursWorker = (name, extra) => worker(name, { manifest: manifest("bench/counting-entry.js", PRODUCT_MODULES), env: { ...kv, ...ours(extra) } });
const joseWorker = (name) => worker(name, { manifest: manifest("jose-entry.js", [], joseOut), env: { ...kv, ...joseEnv } });

/** workerd processes under this node process, and their CPU time so far (ms), from /proc. */
function workerdPids() {
  const out = spawnSync("ps", ["-e", "-o", "pid=,ppid=,comm="], { encoding: "utf8" }).stdout;
  const rows = out.trim().split("\n").map((l) => l.trim().split(/\s+/));
  const mine = new Set([String(process.pid)]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of rows) if (mine.has(ppid) && !mine.has(pid)) { mine.add(pid); grew = true; }
  }
  return rows.filter(([pid, , comm]) => mine.has(pid) && comm?.includes("workerd")).map(([pid]) => pid);
}
const TICK_MS = 1000 / Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim() || 100);
function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch { /* exited */ }
  }
  return ticks * TICK_MS;
}

const mf = new Miniflare({
  enableDevRegistry: false,
  logRequests: false,
  workers: [
    oursWorker("edge-revoke"),
    oursWorker("edge-revoke-kv", { REVOCATION_CACHE_TTL_S: "0" }),
    worker("edge-revoke-authority", {
      manifest: manifest("bench/counting-entry.js", PRODUCT_MODULES),
      exports: AUTHORITY_EXPORTS,
      // A fresh namespace: nothing was written without the authority, so a listing is trusted as soon as allowed (15 s).
      env: { ...kv, REVOCATION_AUTHORITY: authorityBinding("edge-revoke-authority"), ...ours({ REVOCATION_FILTER_LISTING_DELAY_S: "15" }) },
    }),
    joseWorker("jose-reference"),
  ],
});
await mf.ready;
const url = async (name) => String(await mf.unsafeGetDirectURL(name));
const base = { ours: await url("edge-revoke"), oursKv: await url("edge-revoke-kv"), jose: await url("jose-reference") };
const withAuthority = await url("edge-revoke-authority");
/** fetch, retried once when a kept-alive socket was closed under it (after wrk's load). */
async function get(origin, path, init) {
  try {
    return await fetch(new URL(path, origin), init);
  } catch (err) {
    if (err.cause?.code !== "UND_ERR_SOCKET") throw err;
    return fetch(new URL(path, origin), init);
  }
}
const kvStore = await mf.getKVNamespace("REVOCATIONS");
let pids = workerdPids();

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}
const median = (values) => quantile([...values].sort((a, b) => a - b), 0.5);

async function timed(runs, fn) {
  const samples = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    await fn(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

/** Times `runs` rounds of every probe in turn (interleaved, so drift on a shared machine hits all alike). */
async function interleaved(runs, probes) {
  const samples = probes.map(() => []);
  for (let i = 0; i < runs; i += 1) {
    for (const [p, probe] of probes.entries()) {
      const start = performance.now();
      await probe();
      samples[p].push(performance.now() - start);
    }
  }
  return samples;
}

const kvCounts = async (origin) => (await get(origin, "/__bench/kv-counts")).json();
const status = async (origin, token) => {
  const res = await get(origin, "/api/me", bearer(token));
  await res.arrayBuffer();
  return res.status;
};

/**
 * Fresh access tokens of `alg`: `count` of them, for USERS users (one session each, as a client
 * refreshing its tokens), each token new (its own jti, iat and signature).
 */
async function freshTokens(alg, count) {
  const tokens = [];
  for (let i = 0; i < count; i += 1) {
    const user = i % USERS;
    tokens.push(await sign(keys[alg], accessClaims(EXTERNAL, { sub: `bench-user-${user}`, origin_jti: `bench-session-${user}` })));
  }
  return tokens;
}

/** Runs a batch of tokens through `origin`'s in-isolate loop: ms for the batch. */
async function batch(origin, tokens) {
  const body = JSON.stringify({ tokens });
  const start = performance.now();
  const res = await get(origin, "/__bench/verify", { method: "POST", body });
  const { ok, refused } = await res.json();
  const ms = performance.now() - start;
  if (ok !== tokens.length) throw new Error(`${origin}: ${refused} of ${tokens.length} tokens refused`);
  return ms;
}

/**
 * µs per token inside one isolate: each round times a batch of fresh tokens (new to every
 * Worker), then the same batch again (repeat tokens), then an empty batch, for every Worker in
 * turn; the figure is the median over rounds of (batch − empty) / BATCH.
 */
async function perToken(alg, origins) {
  const fresh = Object.fromEntries(Object.keys(origins).map((k) => [k, []]));
  const repeat = Object.fromEntries(Object.keys(origins).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    const tokens = await freshTokens(alg, BATCH);
    for (const [name, origin] of Object.entries(origins)) {
      const first = await batch(origin, tokens);
      const again = await batch(origin, tokens);
      const empty = await batch(origin, []);
      fresh[name].push(((first - empty) * 1000) / BATCH);
      repeat[name].push(((again - empty) * 1000) / BATCH);
    }
  }
  const summary = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.max(median(v), 0.1)]));
  return { fresh: summary(fresh), repeat: summary(repeat) };
}

/** wrk against `origin`: {rps, p99 (ms)}. */
function load(origin, token) {
  const out = execFileSync("wrk", ["-t2", "-c32", `-d${LOAD_SECONDS}s`, "--latency", "-H", `Authorization: Bearer ${token}`, new URL("/api/me", origin).href], { encoding: "utf8" });
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const [, value, unit] = out.match(/\s99%\s+([\d.]+)(us|ms|s)/);
  const p99 = Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1];
  if (errors) throw new Error(`wrk saw ${errors} refusals from ${origin}`);
  return { rps, p99 };
}

const tables = { isolate: [], http: [], load: [], local: [], cold: [], size: [] };
let gatedSeries;
let filterReads;
let localKv;
/** The workerd of the local-pool rows (see section 4), and whether the first one is gone. */
let local;
let disposed = false;

/**
 * KV reads per gated request on the gate (`before`: KV and the isolate's cache, no authority;
 * `filter`: with the authority's revocation filter complete) for three kinds of request: a fresh
 * token of a user never signed out (a new user each time, so no isolate cache helps), the same
 * token again and again, and a token of a signed-out user.
 */
async function kvReadsPerRequest({ signOut }) {
  const N = 400;
  for (let i = 0; i < 240; i += 1) {
    const health = await (await get(withAuthority, "/healthz")).json();
    if (health.revocation?.filter === "complete") break;
    if (i === 239) throw new Error(`the filter never became complete: ${JSON.stringify(health.revocation)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await signOut.send(new AdminUserGlobalSignOutCommand({ UserPoolId: EXTERNAL, Username: "bench-filter-revoked" }));
  await kvStore.put(`rev/v1/u/${EXTERNAL}/bench-filter-revoked`, JSON.stringify({ revoked_at: Date.now(), by: "bench", reason: "bench" }), { expirationTtl: 3600 });
  const old = now() - 120;
  const revoked = await sign(keys.RS256, accessClaims(EXTERNAL, { sub: "bench-filter-revoked", auth_time: old, iat: old }));
  const repeat = await sign(keys.RS256, accessClaims(EXTERNAL, { sub: "bench-filter-repeat" }));
  const out = {};
  for (const [name, origin] of [["before", base.ours], ["filter", withAuthority]]) {
    const fresh = await Promise.all(Array.from({ length: N }, (_, i) => sign(keys.RS256, accessClaims(EXTERNAL, { sub: `bench-${name}-fresh-${i}` }))));
    const per = async (tokens, expect) => {
      const c0 = await kvCounts(origin);
      for (const token of tokens) {
        const got = await status(origin, token);
        if (got !== expect) throw new Error(`${name}: ${got}, expected ${expect}`);
      }
      const c1 = await kvCounts(origin);
      return (c1.get - c0.get) / tokens.length;
    };
    out[name] = {
      fresh: await per(fresh, 200),
      repeat: await per(Array(N).fill(repeat), 200),
      revoked: await per(Array(N).fill(revoked), 401),
    };
  }
  return out;
}
try {
  // --- the reference applies the same rule: checked on the same KV entries before any timing ---
  const old = now() - 120;
  const signedOutUser = await sign(keys.RS256, accessClaims(EXTERNAL, { sub: "bench-signed-out", auth_time: old, iat: old }));
  const newSession = await sign(keys.RS256, accessClaims(EXTERNAL, { sub: "bench-signed-out" }));
  const revokedSession = accessClaims(EXTERNAL, { sub: "bench-session" });
  await kvStore.put(`rev/v1/u/${EXTERNAL}/bench-signed-out`, JSON.stringify({ revoked_at: (now() - 60) * 1000, by: "bench", reason: "bench" }));
  await kvStore.put(`rev/v1/s/${EXTERNAL}/${revokedSession.origin_jti}`, JSON.stringify({ revoked_at: Date.now(), by: "bench", reason: "bench" }));
  const sessionToken = await sign(keys.RS256, revokedSession);
  for (const origin of [base.ours, base.oursKv, base.jose]) {
    const got = [await status(origin, signedOutUser), await status(origin, newSession), await status(origin, sessionToken)];
    if (got.join() !== "401,200,401") throw new Error(`${origin} disagrees on the revocation rule: ${got}`);
  }

  // --- 1. per token, in one isolate, through the public JS API ---------------------------------------
  for (const origin of Object.values(base)) await batch(origin, await freshTokens("RS256", 20)); // warm up
  for (const alg of ["RS256", "ES256", "EdDSA"]) {
    const { fresh, repeat } = await perToken(alg, base);
    tables.isolate.push([`${alg}, fresh tokens`, fresh.ours, fresh.jose, fresh.oursKv]);
    tables.isolate.push([`${alg}, repeat tokens`, repeat.ours, repeat.jose, repeat.oursKv]);
  }

  // --- 2. one gated request at a time, over HTTP ---------------------------------------------------
  const tokens = Object.fromEntries(await Promise.all(Object.keys(keys).map(async (alg) => [alg, await sign(keys[alg], accessClaims(EXTERNAL, { sub: `gated-${alg}` }))])));
  const probe = (origin, token) => () => get(origin, "/api/me", bearer(token)).then((r) => r.arrayBuffer());
  for (let i = 0; i < 20; i += 1) {
    for (const origin of Object.values(base)) await Promise.all(Object.values(tokens).map((t) => probe(origin, t)()));
  }
  const floor = await timed(GATED, () => get(base.ours, "/no-such-asset").then((r) => r.arrayBuffer()));
  const before = { ours: await kvCounts(base.ours), oursKv: await kvCounts(base.oursKv) };
  const [rsOurs, rsOursKv, rsJose, esOurs, esJose, edOurs, edJose] = await interleaved(GATED, [
    probe(base.ours, tokens.RS256),
    probe(base.oursKv, tokens.RS256),
    probe(base.jose, tokens.RS256),
    probe(base.ours, tokens.ES256),
    probe(base.jose, tokens.ES256),
    probe(base.ours, tokens.EdDSA),
    probe(base.jose, tokens.EdDSA),
  ]);
  const after = { ours: await kvCounts(base.ours), oursKv: await kvCounts(base.oursKv) };
  const reads = (k, per) => `${((after[k].get - before[k].get) / (per * GATED)).toFixed(3)} KV reads/request`;
  tables.http.push(["floor: a request the Worker answers without token work", percentiles(floor), null, "transport + wasm call"]);
  tables.http.push(["gated request, RS256", percentiles(rsOurs), percentiles(rsJose), reads("ours", 3)]);
  tables.http.push(["gated request, RS256, isolate cache off (KV every time)", percentiles(rsOursKv), percentiles(rsJose), reads("oursKv", 1)]);
  tables.http.push(["gated request, ES256", percentiles(esOurs), percentiles(esJose), ""]);
  tables.http.push(["gated request, EdDSA", percentiles(edOurs), percentiles(edJose), ""]);
  gatedSeries = { rsOurs, rsOursKv, rsJose, esOurs, esJose, edOurs, edJose };
  for (let i = 0; i < 20; i += 1) await probe(withAuthority, tokens.RS256)();
  const gatedDo = await timed(GATED, probe(withAuthority, tokens.RS256));
  tables.http.push(["gated request, RS256, with the revocation authority's feed", percentiles(gatedDo), null, "feed read from the Cache API or the authority every FRESHNESS_S"]);

  // --- 3. under load ------------------------------------------------------------------------------
  const wrk = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  if (wrk.error) {
    tables.load.push(["wrk is not installed (make bench installs it)", null, null]);
  } else {
    for (const [name, origin, token] of [["RS256, revocation cache warm", base.ours, tokens.RS256], ["RS256, isolate cache off", base.oursKv, tokens.RS256]]) {
      const oursLoad = load(origin, token);
      const joseLoad = load(base.jose, tokens.RS256);
      tables.load.push([name, oursLoad, joseLoad]);
    }
  }

  // --- 4. local pools, admin calls, SigV4 ---------------------------------------------------------
  let client = new CognitoIdentityProviderClient({
    endpoint: base.ours.replace(/\/$/, ""),
    region: "us-east-1",
    credentials: { accessKeyId: ADMIN.access_key_id, secretAccessKey: ADMIN.secret_access_key },
  });
  /** Latency, workerd CPU and KV operations (of `counted`'s isolate) per call of `fn`, `runs` times. */
  const measured = async (runs, fn, counted = base.ours) => {
    const k0 = counted && (await kvCounts(counted));
    const cpu0 = cpuMs(pids);
    const samples = await timed(runs, fn);
    const cpu = (cpuMs(pids) - cpu0) / runs;
    const k1 = counted && (await kvCounts(counted));
    return { ...percentiles(samples), cpu, kv: counted && { get: (k1.get - k0.get) / runs, put: (k1.put - k0.put) / runs } };
  };
  const signOut = await measured(200, (i) => client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: EXTERNAL, Username: `user-${i}` })));
  const viaAuthority = new CognitoIdentityProviderClient({
    endpoint: withAuthority.replace(/\/$/, ""),
    region: "us-east-1",
    credentials: { accessKeyId: ADMIN.access_key_id, secretAccessKey: ADMIN.secret_access_key },
  });
  const signOutDo = await measured(200, (i) => viaAuthority.send(new AdminUserGlobalSignOutCommand({ UserPoolId: EXTERNAL, Username: `do-user-${i}` })), null);

  // --- KV reads per gated request, with and without the revocation filter ---------------------
  filterReads = await kvReadsPerRequest({ signOut: viaAuthority });

  // The local-pool rows run in a workerd of their own, with the product and a KV probe only:
  // workerd runs every isolate on one thread, so /proc's CPU would also count the revocation
  // authority's background upkeep and the other Workers' leftovers.
  await mf.dispose();
  disposed = true;
  local = new Miniflare({
    enableDevRegistry: false,
    logRequests: false,
    workers: [
      oursWorker("edge-revoke"),
      // Local KV is simulated by workerd itself (a Worker over SQLite in the same process), so
      // its work shows in workerd's CPU; on Cloudflare a KV read is I/O, not the Worker's CPU
      // time. The probe measures that work per read and per write, so the rows can show it.
      worker("kv-probe", {
        manifest: { mainModule: "probe.js", modules: { "probe.js": { type: "esm", contents: Buffer.from(KV_PROBE) } } },
        env: kv,
      }),
    ],
  });
  await local.ready;
  pids = workerdPids();
  base.ours = String(await local.unsafeGetDirectURL("edge-revoke"));
  const localClient = new CognitoIdentityProviderClient({
    endpoint: base.ours.replace(/\/$/, ""),
    region: "us-east-1",
    credentials: { accessKeyId: ADMIN.access_key_id, secretAccessKey: ADMIN.secret_access_key },
  });
  // workerd's CPU per KV read and per KV write of the local simulation (the probe's calls with
  // n = 10 less those with n = 0, interleaved; median of 5).
  await (await local.getKVNamespace("REVOCATIONS")).put("bench-probe/present", "x".repeat(700));
  const probeBase = String(await local.unsafeGetDirectURL("kv-probe"));
  const probeCpu = async (query) => {
    for (let i = 0; i < 10; i += 1) await (await get(probeBase, `/?${query}`)).arrayBuffer();
    const cpu0 = cpuMs(pids);
    for (let i = 0; i < 40; i += 1) await (await get(probeBase, `/?${query}`)).arrayBuffer();
    return (cpuMs(pids) - cpu0) / 40;
  };
  const perOp = { get: [], put: [] };
  for (let round = 0; round < 5; round += 1) {
    const none = await probeCpu("op=get&n=0");
    perOp.get.push(((await probeCpu("op=get&n=10")) - none) / 10);
    perOp.put.push(((await probeCpu("op=put&n=10")) - none) / 10);
  }
  localKv = { get: median(perOp.get), put: median(perOp.put) };
  for (let i = 0; i < 20; i += 1) await (await get(base.ours, "/no-such-asset")).arrayBuffer(); // warm up
  const floorCpu = await measured(200, () => get(base.ours, "/no-such-asset").then((r) => r.arrayBuffer()));
  client = localClient;
  await client.send(new AdminCreateUserCommand({ UserPoolId: LOCAL, Username: "bench", TemporaryPassword: "Bench-Pass-1", MessageAction: "SUPPRESS" }));
  await client.send(new AdminSetUserPasswordCommand({ UserPoolId: LOCAL, Username: "bench", Password: "Bench-Pass-1", Permanent: true }));
  // Warm up: the isolate's first sign-in and refresh compile their code and import the keys.
  const warm = await client.send(new InitiateAuthCommand({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: "benchclient", AuthParameters: { USERNAME: "bench", PASSWORD: "Bench-Pass-1" } }));
  await client.send(new InitiateAuthCommand({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: "benchclient", AuthParameters: { REFRESH_TOKEN: warm.AuthenticationResult.RefreshToken } }));
  let refreshToken;
  const signIn = await measured(30, async () => {
    const out = await client.send(new InitiateAuthCommand({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: "benchclient", AuthParameters: { USERNAME: "bench", PASSWORD: "Bench-Pass-1" } }));
    refreshToken = out.AuthenticationResult.RefreshToken;
  });
  const refresh = await measured(200, () => client.send(new InitiateAuthCommand({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: "benchclient", AuthParameters: { REFRESH_TOKEN: refreshToken } })));
  tables.local.push(["a request answered without token work (the floor)", floorCpu, ""]);
  tables.local.push(["sign-in, local pool (PBKDF2 100 000 + 2 RS256 signatures + sealing)", signIn, ""]);
  tables.local.push(["refresh, local pool (opening + 2 RS256 signatures)", refresh, ""]);
  tables.local.push(["AdminUserGlobalSignOut (SigV4, external pool)", signOut, ""]);
  tables.local.push(["AdminUserGlobalSignOut through the revocation authority", signOutDo, "Durable Object: lock, KV read + write, SQLite"]);

  const sigv4 = async (route) => {
    const n = 2000;
    const per = [];
    for (let i = 0; i < 5; i += 1) {
      const full = await timed(1, () => get(base.ours, `${route}?n=${n}`).then((r) => r.json()));
      const empty = await timed(1, () => get(base.ours, `${route}?n=0`).then((r) => r.json()));
      per.push(((full[0] - empty[0]) * 1000) / n);
    }
    return median(per);
  };
  tables.local.push(["SigV4 signing in wasm (`signRequest`: SHA-256 + 5 HMAC-SHA256)", { us: await sigv4("/__bench/sigv4-wasm") }, "kept in wasm"]);
  tables.local.push(["the same HMAC chain on WebCrypto (importKey + sign per step)", { us: await sigv4("/__bench/sigv4-webcrypto") }, "for comparison"]);
  const getTokens = await measured(200, () => client.send(new GetTokensFromRefreshTokenCommand({ ClientId: "benchclient", RefreshToken: refreshToken })));
  tables.local.push(["GetTokensFromRefreshToken (Amplify's refresh)", getTokens, ""]);
  let rotating = (await client.send(new InitiateAuthCommand({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: "rotating", AuthParameters: { USERNAME: "bench", PASSWORD: "Bench-Pass-1" } }))).AuthenticationResult.RefreshToken;
  const rotated = await measured(100, async () => {
    const out = await client.send(new GetTokensFromRefreshTokenCommand({ ClientId: "rotating", RefreshToken: rotating }));
    rotating = out.AuthenticationResult.RefreshToken;
  });
  tables.local.push(["GetTokensFromRefreshToken, rotating client (+ a sealed refresh token)", rotated, ""]);

  // SRP sign-in (USER_SRP_AUTH → PASSWORD_VERIFIER), the browser libraries' default: 3072-bit
  // modular exponentiations in Rust (WebCrypto has none). The client's work (amazon-cognito-
  // identity-js's helper, in this node process) happens between the measured calls, so workerd's
  // CPU is read around each call alone.
  const { AuthenticationHelper, DateHelper } = cognitoJs;
  const BigInteger = cognitoBigInteger.default;
  const poolName = LOCAL.split("_")[1];
  const step = async (fn) => {
    const k0 = await kvCounts(base.ours);
    const cpu0 = cpuMs(pids);
    const t0 = performance.now();
    let outcome = "signed in";
    let value;
    try {
      value = await fn();
    } catch (err) {
      outcome = err.name;
    }
    const ms = performance.now() - t0;
    const cpu = cpuMs(pids) - cpu0;
    const k1 = await kvCounts(base.ours);
    return { ms, cpu, kv: { get: k1.get - k0.get, put: k1.put - k0.put }, outcome, value };
  };
  const srpRound = async (username, password) => {
    const helper = new AuthenticationHelper(poolName);
    const a = await new Promise((resolve, reject) => helper.getLargeAValue((err, value) => (err ? reject(err) : resolve(value))));
    const initiate = await step(() => client.send(new InitiateAuthCommand({ AuthFlow: "USER_SRP_AUTH", ClientId: "benchclient", AuthParameters: { USERNAME: username, SRP_A: a.toString(16) } })));
    const p = initiate.value.ChallengeParameters;
    const key = await new Promise((resolve, reject) =>
      helper.getPasswordAuthenticationKey(p.USER_ID_FOR_SRP, password, new BigInteger(p.SRP_B, 16), new BigInteger(p.SALT, 16), (err, k) => (err ? reject(err) : resolve(k))));
    const timestamp = new DateHelper().getNowString();
    const message = Buffer.concat([Buffer.from(poolName), Buffer.from(p.USER_ID_FOR_SRP), Buffer.from(p.SECRET_BLOCK, "base64"), Buffer.from(timestamp)]);
    const signature = createHmac("sha256", Buffer.from(key)).update(message).digest("base64");
    const respond = await step(() => client.send(new RespondToAuthChallengeCommand({
      ChallengeName: "PASSWORD_VERIFIER",
      ClientId: "benchclient",
      ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature },
    })));
    return { initiate, respond, outcome: respond.outcome };
  };
  const SRP_ROUNDS = 30;
  const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const summary = (steps) => ({
    ...percentiles(steps.map((s) => s.ms)),
    cpu: mean(steps.map((s) => s.cpu)),
    kv: { get: mean(steps.map((s) => s.kv.get)), put: mean(steps.map((s) => s.kv.put)) },
  });
  for (const [label, username, password, expected] of [
    ["SRP", "bench", "Bench-Pass-1", "signed in"],
    ["SRP, a wrong password", "bench", "Wrong-Pass-1", "NotAuthorizedException"],
    ["SRP, a name nobody has", "nobody-at-all", "Bench-Pass-1", "NotAuthorizedException"],
  ]) {
    const rounds = [];
    for (let i = 0; i < SRP_ROUNDS; i += 1) rounds.push(await srpRound(username, password));
    if (rounds.some((r) => r.outcome !== expected)) throw new Error(`${label}: ${rounds.map((r) => r.outcome)}`);
    tables.local.push([`${label}: InitiateAuth USER_SRP_AUTH (1 exponentiation, 3072-bit)`, summary(rounds.map((r) => r.initiate)), ""]);
    tables.local.push([`${label}: RespondToAuthChallenge PASSWORD_VERIFIER (2 exponentiations${expected === "signed in" ? " + 2 RS256 signatures" : ", refused"})`, summary(rounds.map((r) => r.respond)), ""]);
  }
} finally {
  if (!disposed) await mf.dispose();
  await local?.dispose();
}

// --- 5. cold start: a fresh workerd with one Worker, to its first answered gated request ----------
async function coldStart(make) {
  const runs = [];
  for (let i = 0; i < 3; i += 1) {
    const t0 = performance.now();
    const cold = new Miniflare({ enableDevRegistry: false, logRequests: false, workers: [make("cold")] });
    await cold.ready;
    const origin = String(await cold.unsafeGetDirectURL("cold"));
    const t1 = performance.now();
    const token = await sign(keys.RS256, accessClaims(EXTERNAL, { sub: "cold-user" }));
    const t2 = performance.now();
    const code = await status(origin, token);
    const t3 = performance.now();
    await cold.dispose();
    if (code !== 200) throw new Error(`cold start answered ${code}`);
    runs.push({ ready: t1 - t0, first: t3 - t2 });
  }
  return { ready: median(runs.map((r) => r.ready)), first: median(runs.map((r) => r.first)) };
}
const coldOurs = await coldStart((name) => oursWorker(name));
const coldJose = await coldStart(joseWorker);
tables.cold.push(["workerd started and the Worker loaded (compile, instantiate)", coldOurs.ready, coldJose.ready]);
tables.cold.push(["then its first gated request (RS256: keys imported, KV read)", coldOurs.first, coldJose.first]);

// --- 6. sizes -------------------------------------------------------------------------------------
const wasm = readFileSync(`${ROOT}pkg/edge_revoke_bg.wasm`);
const gz = gzipSync(wasm, { level: constants.Z_BEST_COMPRESSION }).length;
let upload = "";
try {
  const out = execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", ".wrangler/bench-dry-run"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  upload = out.match(/Total Upload: ([^\n]+)/)?.[1] ?? "";
} catch (err) {
  upload = `dry run failed: ${err.message.split("\n")[0]}`;
}
const joseUpload = joseDryRun.match(/Total Upload: ([^\n]+)/)?.[1] ?? "";

// --- 7. the freshness harness: the headline run -----------------------------------------------------
const freshness = process.env.BENCH_FRESHNESS === "skip"
  ? null
  : await runFreshness({ ...HEADLINE, log: (line) => console.error(`freshness: ${line}`) });

// --- charts: each { path, svg } ---------------------------------------------------------------------
const OURS = "#1f6feb";
const OURS_KV = "#6e9fe6";
const JOSE = "#d4731a";
const CHARTS = [
  {
    path: "docs/bench-gated-latency.svg",
    svg: latencyChart([
      { label: "edge-revoke, RS256", sublabel: "revocation cache warm: no KV read", samples: gatedSeries.rsOurs, color: OURS },
      { label: "edge-revoke, RS256", sublabel: "isolate cache off: 1 KV read", samples: gatedSeries.rsOursKv, color: OURS_KV },
      { label: "jose reference, RS256", sublabel: "WebCrypto + 1 KV read", samples: gatedSeries.rsJose, color: JOSE },
      { label: "edge-revoke, ES256", sublabel: "revocation cache warm", samples: gatedSeries.esOurs, color: OURS },
      { label: "jose reference, ES256", sublabel: "WebCrypto + 1 KV read", samples: gatedSeries.esJose, color: JOSE },
      { label: "edge-revoke, EdDSA", sublabel: "revocation cache warm", samples: gatedSeries.edOurs, color: OURS },
      { label: "jose reference, EdDSA", sublabel: "WebCrypto + 1 KV read", samples: gatedSeries.edJose, color: JOSE },
    ], {
      title: "A gated request: verify the token, apply the revocation list, answer",
      subtitle: [
        `make bench: ${GATED} requests each, interleaved, all in one workerd (compatibility date ${COMPATIBILITY_DATE}).`,
        "Bars: how the samples spread. Box: p25 to p75, the line is the median. Whiskers: p5 to p95. (+n): slower than the axis.",
      ],
    }),
  },
];
if (freshness) CHARTS.push({ path: FRESHNESS_CHART, svg: freshnessChartSvg(freshness) });
for (const chart of CHARTS) writeFileSync(`${ROOT}${chart.path}`, chart.svg);

// --- tables -----------------------------------------------------------------------------------------
const ms = (v) => `${v.toFixed(2)} ms`;
const us = (v) => `${v < 10 ? v.toFixed(1) : v.toFixed(0)} µs`;
const ratio = (jose, ours) => `**${(jose / ours).toFixed(jose / ours < 10 ? 2 : 0)}×**`;

console.log(`\nPer token, inside one isolate, through the public JS API (median of ${ROUNDS} batches of ${BATCH}; ${USERS} users):`);
console.log("\n| tokens | edge-revoke `verifyToken` | jose `jwtVerify` + 1 KV read | speed-up | edge-revoke, isolate cache off |\n|---|---:|---:|---:|---:|");
for (const [name, o, j, k] of tables.isolate) console.log(`| ${name} | ${us(o)} | ${us(j)} | ${ratio(j, o)} | ${us(k)} |`);

console.log("\nOne gated request at a time, over HTTP (`GET /api/me`, interleaved):");
console.log("\n| path | runs | edge-revoke p50 | p99 | jose p50 | p99 | p50 speed-up | notes |\n|---|---:|---:|---:|---:|---:|---:|---|");
for (const [name, o, j, notes] of tables.http) {
  console.log(`| ${name} | ${o.n} | ${ms(o.p50)} | ${ms(o.p99)} | ${j ? ms(j.p50) : ""} | ${j ? ms(j.p99) : ""} | ${j ? ratio(j.p50, o.p50) : ""} | ${notes} |`);
}

console.log(`\nUnder load (wrk, 2 threads, 32 connections, ${LOAD_SECONDS} s, one repeat token, loopback):`);
console.log("\n| edge-revoke | req/s | p99 | jose req/s | jose p99 | throughput ratio |\n|---|---:|---:|---:|---:|---:|");
for (const [name, o, j] of tables.load) {
  console.log(o ? `| ${name} | ${o.rps.toFixed(0)} | ${ms(o.p99)} | ${j.rps.toFixed(0)} | ${ms(j.p99)} | ${ratio(o.rps, j.rps)} |` : `| ${name} | | | | | |`);
}

console.log("\nLocal pools and admin calls (CPU: workerd's user + system time per call, from /proc; the local KV");
console.log(`simulation runs in workerd too, at ${ms(localKv.get)} of CPU per read and ${ms(localKv.put)} per write here, measured by a`);
console.log("probe Worker in the same run: the next column takes it out, as on Cloudflare, where KV is I/O and not the Worker's CPU):");
console.log("\n| path | runs | CPU per call | less local KV | KV reads + writes | p50 | p99 | notes |\n|---|---:|---:|---:|---:|---:|---:|---|");
for (const [name, m, notes] of tables.local) {
  if (m.us !== undefined) console.log(`| ${name} | | ${us(m.us)} | | | | | ${notes} |`);
  else {
    const own = m.kv ? ms(m.cpu - m.kv.get * localKv.get - m.kv.put * localKv.put) : "";
    const ops = m.kv ? `${m.kv.get.toFixed(2)} + ${m.kv.put.toFixed(2)}` : "";
    console.log(`| ${name} | ${m.n} | ${ms(m.cpu)} | ${own} | ${ops} | ${ms(m.p50)} | ${ms(m.p99)} | ${notes} |`);
  }
}

console.log("\nCold start (median of 3; each a fresh workerd with the one Worker):");
console.log("\n| step | edge-revoke | jose reference |\n|---|---:|---:|");
for (const [name, o, j] of tables.cold) console.log(`| ${name} | ${ms(o)} | ${ms(j)} |`);

console.log(`\n| size | edge-revoke | jose reference |\n|---|---|---|\n| wasm (wasm-opt -Oz) | ${wasm.length} raw, ${gz} gzip -9 | |\n| \`wrangler deploy --dry-run\` total | ${upload} | ${joseUpload} |`);
if (filterReads) {
  const f = (x) => x.toFixed(3);
  console.log("\n| KV reads per gated request | jose + KV (reference) | edge-revoke, KV + isolate cache | edge-revoke, revocation filter complete |\n|---|---:|---:|---:|");
  for (const [label, k] of [["fresh token, user never signed out (a new user each request)", "fresh"], ["the same token again and again", "repeat"], ["token of a signed-out user (refused)", "revoked"]]) {
    console.log(`| ${label} | 1 | ${f(filterReads.before[k])} | ${f(filterReads.filter[k])} |`);
  }
}
if (freshness) console.log(`\n${freshnessTables(freshness)}`);
console.log(`\ncharts: ${CHARTS.map((c) => c.path).join(", ")}`);
