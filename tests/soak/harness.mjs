// The soak harness: the built Worker in real workerd (Miniflare, as tests/worker/support.mjs
// starts it) driven by a keep-alive load client (undici) with a mix of tokens whose verdict is
// known, sign-outs during the run, faults injected through a FAKE KV binding
// (tests/soak/soak-entry.js) and a FAKE JWKS endpoint (tests/soak/fake-jwks.mjs), and floods
// run inside the isolate. `make soak` (scripts/soak.mjs) runs it long; tests/soak/*.test.mjs
// run it short and assert only on verdicts, statuses and counts, never on timings.
//
// The verdict rule, for a token of a user or session that is signed out during the run
// (every time is the load client's own clock):
//   - a request sent after the sign-out's answer arrived must be refused (401): Miniflare runs
//     one isolate, the isolate that wrote, which refuses at once (README, "Freshness");
//   - a request whose answer arrived before the sign-out was sent must pass (200);
//   - a request that overlaps the sign-out in time may go either way (counted as "race").
// A sign-out that failed (answered an error) revokes nothing: requests sent after its answer
// must pass. Every other token's verdict is fixed: valid ones pass, revoked-before-the-run,
// expired, forged, other-client and garbage ones are refused.
import { readFileSync } from "node:fs";
import { Pool } from "undici";
import * as jose from "jose";
import { AdminUserGlobalSignOutCommand, GlobalSignOutCommand, RevokeTokenCommand } from "@aws-sdk/client-cognito-identity-provider";
import {
  ROOT,
  REGION,
  startWorker,
  keyFor,
  accessClaims,
  idClaims,
  sign,
  ADMIN,
  adminCredentials,
  signingKeys,
  localPool,
  cognito,
  createUser,
  signIn,
  now,
  sleep,
} from "../worker/support.mjs";
import { startFakeJwks } from "./fake-jwks.mjs";

export const EXT = "us-east-1_SoakExt1";
export const LOCAL = "us-east-1_SoakLocal1";
export const LOCAL_CLIENT = "soaklocalclient1";
export const FLOOD = "us-east-1_SoakFlood1";
/** One remote-JWKS pool per use, each with its own URI on the fake endpoint (so each starts cold). */
export const JWKS_POOLS = {
  main: "us-east-1_SoakJwksMain",
  slow: "us-east-1_SoakJwksSlow",
  "5xx": "us-east-1_SoakJwks5xx",
  garbage: "us-east-1_SoakJwksGarbage",
  huge: "us-east-1_SoakJwksHuge",
  redirect: "us-east-1_SoakJwksRedirect",
  kids: "us-east-1_SoakJwksKids",
  stampede: "us-east-1_SoakJwksStampede",
};
const CLIENT = "client1";
const issuer = (id) => `https://cognito-idp.${REGION}.amazonaws.com/${id}`;

/** A constant of the Rust source, so the documented bounds the tests hold are the code's own. */
export function sourceConstant(file, name) {
  const text = readFileSync(`${ROOT}${file}`, "utf8");
  const match = text.match(new RegExp(`pub const ${name}: \\w+ = ([0-9_]+);`));
  if (!match) throw new Error(`${name} not found in ${file}`);
  return Number(match[1].replace(/_/g, ""));
}
export const FAILURE_BACKOFF_MS = sourceConstant("src/jwks.rs", "FAILURE_BACKOFF_MS");
export const REFETCH_COOLDOWN_MS = sourceConstant("src/jwks.rs", "REFETCH_COOLDOWN_MS");
export const CACHE_CAPACITY = sourceConstant("src/revocation/cache.rs", "CACHE_CAPACITY");

// ---------------------------------------------------------------------------------------------
// Set-up: keys, pools, the Worker, the fake JWKS endpoint, users and their tokens.

/**
 * Starts a Worker (the product's entry, or `entry`) with every soak pool, and mints the token
 * population: `extUsers` external users (3 tokens each), `remoteUsers` users of the remote-JWKS
 * pool, `localUsers` local users signed in twice (2 sessions), `preRevoked` external users signed
 * out before the run, and the fixed-verdict tokens.
 */
export async function setup({ entry, vars = {}, extUsers = 24, remoteUsers = 6, localUsers = 4, preRevoked = 3, onLog, authority = true } = {}) {
  const rs = await keyFor("RS256", "soak-rs256");
  const es = await keyFor("ES256", "soak-es256");
  const impostor = await keyFor("RS256", "soak-rs256"); // the same kid, another key
  const remote = await keyFor("RS256", "soak-remote");
  const floodSecret = jose.base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  const jwks = await startFakeJwks({ keys: [remote.publicJwk] });
  const externalPool = (id, keys) => ({ id, issuer: issuer(id), ...keys, clients: [{ id: CLIENT }], token_use: ["access", "id"] });
  const pools = [
    externalPool(EXT, { jwks: { keys: [rs.publicJwk, es.publicJwk] }, algorithms: ["RS256", "ES256"] }),
    ...Object.entries(JWKS_POOLS).map(([name, id]) => externalPool(id, { jwks_uri: jwks.uri(name), algorithms: ["RS256"] })),
    externalPool(FLOOD, { jwks: { keys: [{ kty: "oct", k: floodSecret, kid: "flood-hs256", alg: "HS256" }] }, algorithms: ["HS256"] }),
    localPool(LOCAL, LOCAL_CLIENT),
  ];
  const worker = await startWorker(
    { POOLS: JSON.stringify(pools), SIGNING_KEYS: signingKeys(), ADMIN_CREDENTIALS: adminCredentials(ADMIN), ...vars },
    // With the revocation authority bound, as it deploys (wrangler.toml) and as the worker tier runs it.
    { ...(entry ? { entry } : {}), ...(onLog ? { onLog } : {}), authority },
  );
  const admin = cognito(worker);
  const t = now();
  const before = { auth_time: t - 300, iat: t - 300 };

  // External users: tokens minted here (jose), all from a session begun before any sign-out.
  const users = [];
  const tokens = [];
  const addToken = (cls, authorization, owners = [], sub = null) => {
    const token = { cls, authorization, owners, sub };
    tokens.push(token);
    return token;
  };
  const mintExternal = async (pool, key, i, extraKeys = []) => {
    const user = { pool, username: `soak-${pool.slice(-6).toLowerCase()}-${i}`, sub: crypto.randomUUID(), events: [], tokens: [] };
    const claims = { sub: user.sub, username: user.username, ...before };
    for (const k of [key, ...extraKeys]) {
      user.tokens.push(addToken("user", `Bearer ${await sign(k, accessClaims(pool, claims))}`, [user], user.sub));
    }
    if (pool === EXT) {
      const id = await sign(key, idClaims(pool, { sub: user.sub, "cognito:username": user.username, ...before }));
      user.tokens.push(addToken("user", `Bearer ${id}`, [user], user.sub));
    }
    users.push(user);
    return user;
  };
  for (let i = 0; i < extUsers; i++) await mintExternal(EXT, rs, i, [es]);
  for (let i = 0; i < remoteUsers; i++) await mintExternal(JWKS_POOLS.main, remote, i);

  // Local users: two sessions each, signed in through the Worker.
  const locals = [];
  for (let i = 0; i < localUsers; i++) {
    const username = `soak-local-${i}-${crypto.randomUUID().slice(0, 6)}`;
    const sub = await createUser(admin, LOCAL, username);
    const user = { pool: LOCAL, username, sub, events: [], sessions: [] };
    for (let s = 0; s < 2; s++) {
      const result = await signIn(admin, LOCAL_CLIENT, username);
      const session = { events: [], refresh: result.RefreshToken, access: result.AccessToken };
      addToken("user", `Bearer ${result.AccessToken}`, [user, session], sub);
      addToken("user", `Bearer ${result.IdToken}`, [user, session], sub);
      user.sessions.push(session);
    }
    locals.push(user);
  }

  // Users signed out before the run: their tokens are revoked from the first request on.
  for (const user of users.filter((u) => u.pool === EXT).slice(0, preRevoked)) {
    await admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: user.pool, Username: user.username }));
    user.signedOut = true;
    for (const token of user.tokens) token.cls = "revoked-before";
  }

  // Tokens whose verdict is fixed: refused, always.
  const victim = users.find((u) => u.pool === EXT && !u.signedOut);
  const valid = await sign(rs, accessClaims(EXT, { sub: victim.sub, username: victim.username, ...before }));
  const [h, p, s] = valid.split(".");
  const flip = (text, at) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
  const pem = await jose.exportSPKI(await jose.importJWK(rs.publicJwk, "RS256"));
  const expiredClaims = { sub: victim.sub, username: victim.username, auth_time: t - 7200, iat: t - 7200, exp: t - 600 };
  addToken("expired", `Bearer ${await sign(rs, accessClaims(EXT, expiredClaims))}`);
  addToken("expired", `Bearer ${await sign(es, idClaims(EXT, { sub: victim.sub, ...expiredClaims }))}`);
  addToken("forged: bad signature", `Bearer ${h}.${p}.${flip(s, 40)}`);
  addToken("forged: bad signature", `Bearer ${h}.${flip(p, 10)}.${s}`);
  addToken("forged: alg none", `Bearer ${jose.base64url.encode(JSON.stringify({ alg: "none", kid: rs.kid }))}.${p}.`);
  addToken("forged: alg none", `Bearer ${jose.base64url.encode(JSON.stringify({ alg: "None" }))}.${p}.`);
  addToken("forged: other key", `Bearer ${await sign(impostor, accessClaims(EXT, { sub: victim.sub, ...before }))}`);
  addToken("forged: other key", `Bearer ${await sign(impostor, accessClaims(JWKS_POOLS.main, before), { kid: remote.kid })}`);
  const confused = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(accessClaims(EXT, before))))
    .setProtectedHeader({ alg: "HS256", kid: rs.kid })
    .sign(new TextEncoder().encode(pem));
  addToken("forged: RS→HS confusion", `Bearer ${confused}`);
  addToken("other client", `Bearer ${await sign(rs, accessClaims(EXT, { client_id: "someone-else", ...before }))}`);
  addToken("other client", `Bearer ${await sign(rs, idClaims(EXT, { aud: "someone-else", ...before }))}`);
  for (const garbage of [
    null,
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "Bearer not-a-token",
    "Bearer a.b.c",
    `Bearer ${h}.${p}`,
    `Bearer ${h}.${p}.${s}.${s}`,
    `Bearer ${"A".repeat(20_000)}`,
    `Bearer ${".".repeat(20_000)}`,
    `Bearer eyJ${"x".repeat(200)}.eyJ.e30`,
  ]) {
    addToken("garbage", garbage);
  }

  return {
    worker,
    vars,
    admin,
    jwks,
    keys: { rs, es, remote, impostor, floodSecret },
    users,
    locals,
    tokens,
    async stop() {
      await worker.dispose();
      await jwks.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The load client and the judge.

/** What a request's verdict must be, decided from its send and answer times (rule above). */
export function expectation(token, sentAt, answeredAt) {
  if (token.cls !== "user") return "refuse";
  const events = token.owners.flatMap((owner) => owner.events);
  if (events.some((e) => e.ok && e.answeredAt !== undefined && e.answeredAt <= sentAt)) return "refuse";
  const overlapping = events.some((e) => e.sentAt <= answeredAt && !(e.answeredAt !== undefined && e.answeredAt <= sentAt));
  return overlapping ? "either" : "pass";
}

/** The verdict an answer gives: pass (200), refuse (401), fault (503 as documented), other. */
export function verdictOf(status, headers) {
  if (status === 200) return "pass";
  if (status === 401 && headers["x-amzn-errortype"] === "NotAuthorizedException") return "refuse";
  if (status === 503 && headers["x-amzn-errortype"] === "InternalErrorException" && headers["retry-after"] === "1") return "fault";
  return "other";
}

export const percentile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

/** Counters for one stretch of load. */
export class Tally {
  constructor() {
    this.requests = 0;
    this.wrong = 0;
    this.fiveXx = 0;
    this.latencies = [];
    this.byClass = {};
    this.statuses = {};
    this.samples = [];
  }

  add(cls, verdict, status, ms, wrong, detail) {
    this.requests++;
    this.latencies.push(ms);
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    if (status >= 500) this.fiveXx++;
    const row = (this.byClass[cls] ??= { pass: 0, refuse: 0, fault: 0, other: 0 });
    row[verdict]++;
    if (wrong) {
      this.wrong++;
      if (this.samples.length < 10) this.samples.push(detail);
    }
  }

  summary(seconds) {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      requests: this.requests,
      seconds,
      rps: this.requests / seconds,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      wrong: this.wrong,
      fiveXx: this.fiveXx,
      statuses: this.statuses,
      byClass: this.byClass,
      samples: this.samples,
    };
  }
}

/** A keep-alive connection pool to the Worker. */
export const client = (worker, connections) => new Pool(worker.url.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });

/** Sends one gated request with `token`; answers what came back and when. */
export async function send(pool, token) {
  const headers = token.authorization === null ? {} : { authorization: token.authorization };
  const sentAt = performance.now();
  const res = await pool.request({ path: "/api/me", method: "GET", headers });
  const text = await res.body.text();
  const answeredAt = performance.now();
  return { status: res.statusCode, headers: res.headers, text, sentAt, answeredAt };
}

/**
 * Judges one answer: the class it counts under, its verdict, and whether it is wrong (a token
 * that must be refused accepted, one that must pass refused, or a 200 carrying another user).
 * `allowFault`: the classes for which a 503 is the documented answer under the current fault.
 */
export function judge(token, answer, allowFault = () => false) {
  const expect = expectation(token, answer.sentAt, answer.answeredAt);
  const verdict = verdictOf(answer.status, answer.headers);
  let cls = token.cls;
  if (cls === "user") cls = { pass: "valid", refuse: "revoked during the run", either: "race (overlaps a sign-out)" }[expect];
  let wrong = false;
  if (verdict === "pass") wrong = expect === "refuse" || JSON.parse(answer.text).sub !== token.sub;
  else if (verdict === "refuse") wrong = expect === "pass";
  else if (verdict === "fault") wrong = !allowFault(token, cls);
  else wrong = true;
  return { cls, verdict, wrong, expect };
}

/** Picks tokens: half users' (valid, or revoked during the run), the rest spread over the kinds. */
export function picker(tokens) {
  const byKind = new Map();
  for (const token of tokens) {
    const kind = token.cls === "user" || token.cls === "revoked-before" ? token.cls : token.cls.split(":")[0];
    if (!byKind.has(kind)) byKind.set(kind, []);
    byKind.get(kind).push(token);
  }
  const weights = { user: 50, "revoked-before": 10, expired: 8, forged: 14, "other client": 6, garbage: 12 };
  const kinds = [...byKind.keys()];
  const total = kinds.reduce((sum, kind) => sum + (weights[kind] ?? 5), 0);
  return () => {
    let r = Math.random() * total;
    for (const kind of kinds) {
      r -= weights[kind] ?? 5;
      if (r <= 0) {
        const list = byKind.get(kind);
        return list[Math.floor(Math.random() * list.length)];
      }
    }
    return tokens[0];
  };
}

/** Runs `concurrency` request loops until `until`, judging every answer into `tally`. */
export async function loops({ pool, pick, until, concurrency, tally, allowFault, onAnswer }) {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const token = pick();
        const answer = await send(pool, token);
        const judged = judge(token, answer, allowFault);
        const detail = { cls: judged.cls, expect: judged.expect, status: answer.status, body: answer.text.slice(0, 160) };
        tally.add(judged.cls, judged.verdict, answer.status, answer.answeredAt - answer.sentAt, judged.wrong, detail);
        onAnswer?.(token, answer, judged);
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Sign-outs during the run.

/** Signs one target out with `op` (AdminUserGlobalSignOut, GlobalSignOut or RevokeToken), recording the event. */
export async function signOut(env, op, target) {
  const event = { op, sentAt: performance.now() };
  let command;
  if (op === "AdminUserGlobalSignOut") {
    target.events.push(event);
    command = new AdminUserGlobalSignOutCommand({ UserPoolId: target.pool, Username: target.username });
  } else if (op === "GlobalSignOut") {
    target.events.push(event);
    command = new GlobalSignOutCommand({ AccessToken: target.sessions[0].access });
  } else {
    target.sessions[1].events.push(event);
    command = new RevokeTokenCommand({ Token: target.sessions[1].refresh, ClientId: LOCAL_CLIENT });
  }
  // The receipt: the answer's x-edge-revoke-enforced-by header (ms since the epoch).
  let headers = {};
  command.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      headers = out.response.headers;
      return out;
    },
    { step: "deserialize", name: "soakReceipt" },
  );
  try {
    const out = await env.admin.send(command);
    event.ok = out.$metadata.httpStatusCode === 200;
    event.status = out.$metadata.httpStatusCode;
  } catch (err) {
    event.ok = false;
    event.status = err.$metadata?.httpStatusCode;
    event.error = err.name;
  }
  event.answeredAt = performance.now();
  const enforcedBy = headers["x-edge-revoke-enforced-by"];
  // How far past the answer the receipt promises enforcement everywhere, in ms (null: none).
  event.receiptMs = enforcedBy === undefined ? null : Number(enforcedBy) - Date.now();
  return event;
}

/** The next target for `op` nobody has signed out yet (null when none is left). */
export function nextTarget(env, op) {
  if (op === "AdminUserGlobalSignOut") {
    const user = env.users.find((u) => !u.signedOut && !u.reserved);
    if (user) user.signedOut = true;
    return user ?? null;
  }
  const user = env.locals.find((u) => !u.used);
  if (user) user.used = true;
  return user ?? null;
}

const OPS = ["AdminUserGlobalSignOut", "GlobalSignOut", "RevokeToken"];

/** Signs someone out every `everyMs` until `until`, rotating the three operations. */
async function signOuts(env, { until, everyMs, events }) {
  for (let k = 0; performance.now() + everyMs < until; k++) {
    await sleep(everyMs);
    const op = OPS[k % OPS.length];
    const target = nextTarget(env, op);
    if (target) events.push(await signOut(env, op, target));
  }
}

/** The main load: `seconds` of the token mix with sign-outs every `signOutEveryMs`. */
export async function runLoad(env, { seconds, concurrency = 8, signOutEveryMs = 2000 }) {
  const pool = client(env.worker, concurrency);
  const tally = new Tally();
  const events = [];
  const pick = picker(env.tokens);
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all([loops({ pool, pick, until, concurrency, tally }), signOuts(env, { until, everyMs: signOutEveryMs, events })]);
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return { ...tally.summary(elapsed), signOuts: events };
}
