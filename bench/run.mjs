// `make bench`: latency of the product's hot paths in real workerd (Miniflare, local KV), side by
// side with a jose reference Worker in the same workerd; KV operations per request; the deploy
// size; then the freshness harness's headline run (tests/freshness/: how long after a sign-out
// every location refuses, with the revocation authority and with KV alone; about four minutes).
// Prints Markdown tables and writes the charts listed in CHARTS (SVG, embedded in the README).
//
// Local workerd is not Cloudflare's edge: latencies here are this machine's, over loopback, with
// local KV (no edge cache, no network). Use them to compare changes, not to predict production.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync, constants } from "node:zlib";
import { Miniflare } from "miniflare";
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

// --- the workers: edge-revoke twice (isolate cache on, and off) and the jose reference -------------

// wrangler bundles the reference (jose from node_modules) exactly as it would deploy it.
const joseOut = `${ROOT}.wrangler/bench/jose/`;
execFileSync("wrangler", ["deploy", "--dry-run", "-c", "bench/jose-reference.wrangler.toml",
  "--compatibility-date", COMPATIBILITY_DATE, "--outdir", joseOut], { cwd: ROOT, stdio: "ignore" });

const rs256 = await keyFor("RS256");
const es256 = await keyFor("ES256");
const external = pool(EXTERNAL, [rs256, es256]);
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
const kv = { REVOCATIONS: { type: "kv", id: "REVOCATIONS" } }; // one namespace, shared by all three
const socket = [{ host: "127.0.0.1", port: 0 }]; // each Worker on its own socket: the same path for all
const worker = (name, config) => ({
  config: { name, compatibilityDate: COMPATIBILITY_DATE, ...config },
  dev: { rootPath: ROOT, unsafeDirectSockets: socket },
});

const mf = new Miniflare({
  enableDevRegistry: false,
  logRequests: false,
  workers: [
    worker("edge-revoke", { manifest: manifest("bench/counting-entry.js", PRODUCT_MODULES), env: { ...kv, ...ours() } }),
    worker("edge-revoke-kv", {
      manifest: manifest("bench/counting-entry.js", PRODUCT_MODULES),
      env: { ...kv, ...ours({ REVOCATION_CACHE_TTL_S: "0" }) },
    }),
    worker("edge-revoke-authority", {
      manifest: manifest("bench/counting-entry.js", PRODUCT_MODULES),
      exports: AUTHORITY_EXPORTS,
      // A fresh namespace: nothing was written without the authority, so a listing is trusted as soon as allowed (15 s).
      env: { ...kv, REVOCATION_AUTHORITY: authorityBinding("edge-revoke-authority"), ...ours({ REVOCATION_FILTER_LISTING_DELAY_S: "15" }) },
    }),
    worker("jose-reference", {
      manifest: manifest("jose-entry.js", [], joseOut),
      env: { ...kv, ...varBindings({ JOSE_POOL: JSON.stringify({ id: EXTERNAL, issuer: external.issuer, jwks: external.jwks, client_id: "client1", algorithms: ["RS256", "ES256"] }) }) },
    }),
  ],
});
await mf.ready;
const url = async (name) => String(await mf.unsafeGetDirectURL(name));
const base = { ours: await url("edge-revoke"), oursKv: await url("edge-revoke-kv"), jose: await url("jose-reference") };
const withAuthority = await url("edge-revoke-authority");
const get = (origin, path, init) => fetch(new URL(path, origin), init);
const kvStore = await mf.getKVNamespace("REVOCATIONS");

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

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

const rows = [];
let gatedSeries;
let filterReads;

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
  const revoked = await sign(rs256, accessClaims(EXTERNAL, { sub: "bench-filter-revoked", auth_time: old, iat: old }));
  const repeat = await sign(rs256, accessClaims(EXTERNAL, { sub: "bench-filter-repeat" }));
  const out = {};
  for (const [name, origin] of [["before", base.ours], ["filter", withAuthority]]) {
    const fresh = await Promise.all(Array.from({ length: N }, (_, i) => sign(rs256, accessClaims(EXTERNAL, { sub: `bench-${name}-fresh-${i}` }))));
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
  const signedOutUser = await sign(rs256, accessClaims(EXTERNAL, { sub: "bench-signed-out", auth_time: old, iat: old }));
  const newSession = await sign(rs256, accessClaims(EXTERNAL, { sub: "bench-signed-out" }));
  const revokedSession = accessClaims(EXTERNAL, { sub: "bench-session" });
  await kvStore.put(`rev/v1/u/${EXTERNAL}/bench-signed-out`, JSON.stringify({ revoked_at: (now() - 60) * 1000, by: "bench", reason: "bench" }));
  await kvStore.put(`rev/v1/s/${EXTERNAL}/${revokedSession.origin_jti}`, JSON.stringify({ revoked_at: Date.now(), by: "bench", reason: "bench" }));
  const sessionToken = await sign(rs256, revokedSession);
  for (const origin of [base.oursKv, base.jose]) {
    const got = [await status(origin, signedOutUser), await status(origin, newSession), await status(origin, sessionToken)];
    if (got.join() !== "401,200,401") throw new Error(`${origin} disagrees on the revocation rule: ${got}`);
  }

  const rsToken = await sign(rs256, accessClaims(EXTERNAL));
  const esToken = await sign(es256, accessClaims(EXTERNAL, { sub: "es-user" }));
  const probe = (origin, token) => () => get(origin, "/api/me", bearer(token)).then((r) => r.arrayBuffer());
  for (let i = 0; i < 20; i += 1) {
    for (const origin of Object.values(base)) await Promise.all([probe(origin, rsToken)(), probe(origin, esToken)()]);
  }

  const floor = await timed(GATED, () => get(base.ours, "/no-such-asset").then((r) => r.arrayBuffer()));
  rows.push(["floor: a request the Worker answers without token work", percentiles(floor), "transport + wasm call"]);

  const before = { ours: await kvCounts(base.ours), oursKv: await kvCounts(base.oursKv) };
  const [rsOurs, rsOursKv, rsJose, esOurs, esJose] = await interleaved(GATED, [
    probe(base.ours, rsToken),
    probe(base.oursKv, rsToken),
    probe(base.jose, rsToken),
    probe(base.ours, esToken),
    probe(base.jose, esToken),
  ]);
  const after = { ours: await kvCounts(base.ours), oursKv: await kvCounts(base.oursKv) };
  const reads = (k) => `${((after[k].get - before[k].get) / (2 * GATED)).toFixed(3)} KV reads/request`;
  const readsKv = `${((after.oursKv.get - before.oursKv.get) / GATED).toFixed(3)} KV reads/request`;
  rows.push(["gated request, RS256, revocation cache warm", percentiles(rsOurs), reads("ours")]);
  rows.push(["gated request, RS256, isolate cache off (KV every time)", percentiles(rsOursKv), readsKv]);
  rows.push(["jose reference, RS256 (1 bulk KV read per request)", percentiles(rsJose), "jose 6 + WebCrypto"]);
  rows.push(["gated request, ES256, revocation cache warm", percentiles(esOurs), ""]);
  rows.push(["jose reference, ES256 (1 bulk KV read per request)", percentiles(esJose), "jose 6 + WebCrypto"]);
  gatedSeries = { rsOurs, rsOursKv, rsJose, esOurs, esJose };

  const client = new CognitoIdentityProviderClient({
    endpoint: base.ours.replace(/\/$/, ""),
    region: "us-east-1",
    credentials: { accessKeyId: ADMIN.access_key_id, secretAccessKey: ADMIN.secret_access_key },
  });
  const b0 = await kvCounts(base.ours);
  const signOut = await timed(200, (i) => client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: EXTERNAL, Username: `user-${i}` })));
  const b1 = await kvCounts(base.ours);
  rows.push(["AdminUserGlobalSignOut (SigV4, external pool)", percentiles(signOut), `${((b1.get - b0.get) / 200).toFixed(2)} reads + ${((b1.put - b0.put) / 200).toFixed(2)} writes/call`]);
  const viaAuthority = new CognitoIdentityProviderClient({
    endpoint: withAuthority.replace(/\/$/, ""),
    region: "us-east-1",
    credentials: { accessKeyId: ADMIN.access_key_id, secretAccessKey: ADMIN.secret_access_key },
  });
  const signOutDo = await timed(200, (i) => viaAuthority.send(new AdminUserGlobalSignOutCommand({ UserPoolId: EXTERNAL, Username: `do-user-${i}` })));
  rows.push(["AdminUserGlobalSignOut through the revocation authority", percentiles(signOutDo), "Durable Object: lock, KV read + write, SQLite"]);
  const doToken = await sign(rs256, accessClaims(EXTERNAL, { sub: "do-gated" }));
  for (let i = 0; i < 20; i += 1) await get(withAuthority, "/api/me", bearer(doToken)).then((r) => r.arrayBuffer());
  const gatedDo = await timed(GATED, () => get(withAuthority, "/api/me", bearer(doToken)).then((r) => r.arrayBuffer()));
  rows.push(["gated request, RS256, with the revocation authority's feed", percentiles(gatedDo), "feed read from the Cache API or the authority every FRESHNESS_S"]);

  // --- KV reads per gated request, with and without the revocation filter ---------------------
  filterReads = await kvReadsPerRequest({ signOut: viaAuthority });

  await client.send(new AdminCreateUserCommand({ UserPoolId: LOCAL, Username: "bench", TemporaryPassword: "Bench-Pass-1", MessageAction: "SUPPRESS" }));
  await client.send(new AdminSetUserPasswordCommand({ UserPoolId: LOCAL, Username: "bench", Password: "Bench-Pass-1", Permanent: true }));
  let refreshToken;
  const signIn = await timed(20, async () => {
    const out = await client.send(new InitiateAuthCommand({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: "benchclient", AuthParameters: { USERNAME: "bench", PASSWORD: "Bench-Pass-1" } }));
    refreshToken = out.AuthenticationResult.RefreshToken;
  });
  rows.push(["sign-in, local pool (PBKDF2 100 000 + 2 RS256 signatures)", percentiles(signIn), ""]);
  const refresh = await timed(50, () => client.send(new InitiateAuthCommand({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: "benchclient", AuthParameters: { REFRESH_TOKEN: refreshToken } })));
  rows.push(["refresh, local pool (2 RS256 signatures)", percentiles(refresh), ""]);
  const g0 = await kvCounts(base.ours);
  const getTokens = await timed(50, () => client.send(new GetTokensFromRefreshTokenCommand({ ClientId: "benchclient", RefreshToken: refreshToken })));
  const g1 = await kvCounts(base.ours);
  rows.push(["GetTokensFromRefreshToken (Amplify's refresh)", percentiles(getTokens), `${((g1.get - g0.get) / 50).toFixed(2)} reads/call`]);
  let rotating = (await client.send(new InitiateAuthCommand({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: "rotating", AuthParameters: { USERNAME: "bench", PASSWORD: "Bench-Pass-1" } }))).AuthenticationResult.RefreshToken;
  const r0 = await kvCounts(base.ours);
  const rotated = await timed(50, async () => {
    const out = await client.send(new GetTokensFromRefreshTokenCommand({ ClientId: "rotating", RefreshToken: rotating }));
    rotating = out.AuthenticationResult.RefreshToken;
  });
  const r1 = await kvCounts(base.ours);
  rows.push(["GetTokensFromRefreshToken, rotating client (+ a sealed refresh token)", percentiles(rotated), `${((r1.get - r0.get) / 50).toFixed(2)} reads + ${((r1.put - r0.put) / 50).toFixed(2)} writes/call`]);

  // SRP sign-in (USER_SRP_AUTH → PASSWORD_VERIFIER), the browser libraries' default. The client's
  // work (amazon-cognito-identity-js's helper) happens between the timed calls.
  const { AuthenticationHelper, DateHelper } = cognitoJs;
  const BigInteger = cognitoBigInteger.default;
  const poolName = LOCAL.split("_")[1];
  const srpRound = async (username, password) => {
    const helper = new AuthenticationHelper(poolName);
    const a = await new Promise((resolve, reject) => helper.getLargeAValue((err, value) => (err ? reject(err) : resolve(value))));
    const t0 = performance.now();
    const challenge = await client.send(new InitiateAuthCommand({ AuthFlow: "USER_SRP_AUTH", ClientId: "benchclient", AuthParameters: { USERNAME: username, SRP_A: a.toString(16) } }));
    const initiate = performance.now() - t0;
    const p = challenge.ChallengeParameters;
    const key = await new Promise((resolve, reject) =>
      helper.getPasswordAuthenticationKey(p.USER_ID_FOR_SRP, password, new BigInteger(p.SRP_B, 16), new BigInteger(p.SALT, 16), (err, k) => (err ? reject(err) : resolve(k))));
    const timestamp = new DateHelper().getNowString();
    const message = Buffer.concat([Buffer.from(poolName), Buffer.from(p.USER_ID_FOR_SRP), Buffer.from(p.SECRET_BLOCK, "base64"), Buffer.from(timestamp)]);
    const signature = createHmac("sha256", Buffer.from(key)).update(message).digest("base64");
    const t1 = performance.now();
    let outcome = "signed in";
    try {
      await client.send(new RespondToAuthChallengeCommand({
        ChallengeName: "PASSWORD_VERIFIER",
        ClientId: "benchclient",
        ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature },
      }));
    } catch (err) {
      outcome = err.name;
    }
    return { initiate, respond: performance.now() - t1, outcome };
  };
  for (const [label, username, password, expected] of [
    ["SRP", "bench", "Bench-Pass-1", "signed in"],
    ["SRP, a wrong password", "bench", "Wrong-Pass-1", "NotAuthorizedException"],
    ["SRP, a name nobody has", "nobody-at-all", "Bench-Pass-1", "NotAuthorizedException"],
  ]) {
    const c0 = await kvCounts(base.ours);
    const rounds = [];
    for (let i = 0; i < 20; i += 1) rounds.push(await srpRound(username, password));
    const c1 = await kvCounts(base.ours);
    if (rounds.some((r) => r.outcome !== expected)) throw new Error(`${label}: ${rounds.map((r) => r.outcome)}`);
    const perRound = `${((c1.get - c0.get) / 20).toFixed(1)} reads + ${((c1.put - c0.put) / 20).toFixed(1)} writes per sign-in`;
    rows.push([`${label}: InitiateAuth USER_SRP_AUTH (1 exponentiation, 3072-bit)`, percentiles(rounds.map((r) => r.initiate)), perRound]);
    rows.push([`${label}: RespondToAuthChallenge PASSWORD_VERIFIER (2 exponentiations${expected === "signed in" ? " + 2 RS256 signatures" : ", refused"})`, percentiles(rounds.map((r) => r.respond)), ""]);
  }
} finally {
  await mf.dispose();
}

// --- sizes -----------------------------------------------------------------------------------------
const wasm = readFileSync(`${ROOT}pkg/edge_revoke_bg.wasm`);
const gz = gzipSync(wasm, { level: constants.Z_BEST_COMPRESSION }).length;
let upload = "";
try {
  const out = execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", ".wrangler/bench-dry-run"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  upload = out.match(/Total Upload: ([^\n]+)/)?.[1] ?? "";
} catch (err) {
  upload = `dry run failed: ${err.message.split("\n")[0]}`;
}

// --- the freshness harness: the headline run ---------------------------------------------------------
const freshness = await runFreshness({ ...HEADLINE, log: (line) => console.error(`freshness: ${line}`) });

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
    ], {
      title: "A gated request: verify the token, apply the revocation list, answer",
      subtitle: [
        `make bench: ${GATED} requests each, interleaved, all five in one workerd (compatibility date ${COMPATIBILITY_DATE}).`,
        "Bars: how the samples spread. Box: p25 to p75, the line is the median. Whiskers: p5 to p95. (+n): slower than the axis.",
      ],
    }),
  },
  { path: FRESHNESS_CHART, svg: freshnessChartSvg(freshness) },
];
for (const chart of CHARTS) writeFileSync(`${ROOT}${chart.path}`, chart.svg);

const ms = (v) => `${v.toFixed(2)} ms`;
console.log("\n| path | runs | p50 | p99 | notes |\n|---|---:|---:|---:|---|");
for (const [name, stats, notes] of rows) console.log(`| ${name} | ${stats.n} | ${ms(stats.p50)} | ${ms(stats.p99)} | ${notes} |`);
if (filterReads) {
  const f = (x) => x.toFixed(3);
  console.log("\n| KV reads per gated request | jose + KV (reference) | edge-revoke, KV + isolate cache | edge-revoke, revocation filter complete |\n|---|---:|---:|---:|");
  for (const [label, k] of [["fresh token, user never signed out (a new user each request)", "fresh"], ["the same token again and again", "repeat"], ["token of a signed-out user (refused)", "revoked"]]) {
    console.log(`| ${label} | 1 | ${f(filterReads.before[k])} | ${f(filterReads.filter[k])} |`);
  }
}
console.log(`\n| size | bytes |\n|---|---|\n| wasm (wasm-opt -Oz) | ${wasm.length} raw, ${gz} gzip -9 |\n| wrangler deploy --dry-run | ${upload} |`);
console.log(`\n${freshnessTables(freshness)}`);
console.log(`\ncharts: ${CHARTS.map((c) => c.path).join(", ")}`);
