// The freshness harness: how long after a sign-out's answer every isolate in every location
// refuses the signed-out tokens, with the revocation authority and with KV alone.
//
// Miniflare runs one location with no KV propagation, so this builds the world that has them, in
// real workerd:
//   - LOCATIONS simulated locations, each its own Miniflare instance (its own workerd, so its own
//     Cache API), each running ISOLATES Workers of the product (gate-entry.js: isolates of their
//     own, sharing the location's cache);
//   - one authority: the product's RevocationAuthority Durable Object (SQLite) in a Miniflare
//     instance of its own, reached by every location through a service binding that ends here, in
//     Node, where calls are counted per location and the authority can be killed;
//   - one KV log kept here, of which each location reads a FAKE view that lags the writer by
//     `lagMs` (FakeKvLog below; fake-kv.js in the Workers), as KV looks from another location
//     while a write propagates. The authority, the writer, reads it without lag.
// Load: every isolate is sent gated requests, one after another, `probeEveryMs` apart, cycling
// through the tokens of every user signed out so far and of control users never signed out.
// A verdict is wrong if a control token is refused, if a signed-out token is accepted after the
// same isolate refused it, or if it is accepted by a request sent after the sign-out's receipt
// (`enforcedBy`, the time the product promised).
import { Miniflare } from "miniflare";
import * as jose from "jose";
import { ROOT, COMPATIBILITY_DATE, manifest, varBindings, AUTHORITY_EXPORTS, authorityBinding, REGION } from "../worker/support.mjs";

const POOL = "us-east-1_Fresh1";
const CLIENT = "freshclient";
const AUTHORITY_NAME = "edge-revoke/revocations/v1";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MODULES = ["src/entry.js", "src/guard.js", "pkg/edge_revoke.js", "pkg/edge_revoke_bg.wasm", "tests/freshness/fake-kv.js"];

/** The q-quantile of numbers (nearest rank). */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * FAKE: the KV log as the writer sees it, and each location's view of it, `lagMs` behind. Keeps
 * every version of every key with its write time; a location reads the latest version written at
 * least `lagMs` ago. Counts writes per key.
 */
export class FakeKvLog {
  constructor(lagMs) {
    this.lagMs = lagMs;
    this.versions = new Map();
  }

  lagOf(location) {
    return location === "authority" ? 0 : this.lagMs;
  }

  read(location, key, now = Date.now()) {
    const visible = (this.versions.get(key) ?? []).filter((v) => v.at <= now - this.lagOf(location));
    const last = visible.at(-1);
    if (!last || last.deleted || (last.expiresAt && last.expiresAt <= now)) return null;
    return last.value;
  }

  write(location, key, value, ttl) {
    const at = Date.now();
    const list = this.versions.get(key) ?? [];
    list.push({ at, location, value, deleted: value === null, expiresAt: ttl ? at + ttl * 1000 : null });
    this.versions.set(key, list);
  }

  writesOf(key) {
    return (this.versions.get(key) ?? []).filter((v) => !v.deleted);
  }

  /** The service binding's handler. */
  async handle(request) {
    const { op, location, keys, key, value, ttl } = await request.json();
    if (op === "get") return Response.json({ values: Object.fromEntries(keys.map((k) => [k, this.read(location, k)])) });
    if (op === "put") this.write(location, key, value, ttl);
    else if (op === "delete") this.write(location, key, null, null);
    return Response.json({});
  }
}

/** A world: locations of isolates, the fake KV, and (optionally) the authority. */
export class World {
  constructor({ locations = 3, isolates = 2, lagMs = 60_000, authority = true, vars = {} }) {
    Object.assign(this, { locationCount: locations, isolateCount: isolates, lagMs, withAuthority: authority, extraVars: vars });
    this.kv = new FakeKvLog(lagMs);
    this.authorityCalls = {}; // location → { feed, raise, failed }
    this.killed = false;
  }

  async start() {
    this.key = { kty: "oct", k: jose.base64url.encode(crypto.getRandomValues(new Uint8Array(32))), kid: "fresh-hs", alg: "HS256" };
    this.secret = jose.base64url.decode(this.key.k);
    const vars = varBindings({
      POOLS: JSON.stringify([{
        id: POOL, issuer: `https://cognito-idp.${REGION}.amazonaws.com/${POOL}`, jwks: { keys: [this.key] },
        algorithms: ["HS256"], clients: [{ id: CLIENT }],
      }]),
      ...this.extraVars,
    });
    const fakeKv = { type: "fetcher", handler: (request) => this.kv.handle(request) };
    if (this.withAuthority) {
      this.authority = new Miniflare({
        enableDevRegistry: false,
        logRequests: false,
        workers: [{
          config: {
            name: "authority",
            compatibilityDate: COMPATIBILITY_DATE,
            manifest: manifest("tests/freshness/authority-entry.js", MODULES),
            exports: AUTHORITY_EXPORTS,
            env: { REVOCATION_AUTHORITY: authorityBinding("authority"), FAKE_KV: fakeKv, ...vars },
          },
          dev: { rootPath: ROOT },
        }],
      });
      await this.authority.ready;
    }
    this.locations = [];
    for (let l = 0; l < this.locationCount; l++) {
      const name = `loc-${l}`;
      this.authorityCalls[name] = { feed: 0, raise: 0, failed: 0 };
      const env = {
        FAKE_KV: fakeKv,
        LOCATION: { type: "text", value: name },
        ...(this.withAuthority ? { AUTHORITY: { type: "fetcher", handler: (request) => this.forward(name, request) } } : {}),
        ...vars,
      };
      const mf = new Miniflare({
        enableDevRegistry: false,
        logRequests: false,
        handleStructuredLogs: ({ message }) => this.onLog?.(name, message),
        workers: Array.from({ length: this.isolateCount }, (_, i) => ({
          config: { name: `isolate-${i}`, compatibilityDate: COMPATIBILITY_DATE, manifest: manifest("tests/freshness/gate-entry.js", MODULES), env },
          dev: { rootPath: ROOT },
        })),
      });
      await mf.ready;
      const isolates = [];
      for (let i = 0; i < this.isolateCount; i++) isolates.push({ name: `${name}/isolate-${i}`, location: name, fetcher: await mf.getWorker(`isolate-${i}`) });
      this.locations.push({ name, mf, isolates });
    }
    this.isolates = this.locations.flatMap((l) => l.isolates);
  }

  /** A location's call to the authority: counted, then passed to the authority's workerd. */
  async forward(location, request) {
    const kind = new URL(request.url).pathname === "/feed" ? "feed" : "raise";
    const calls = this.authorityCalls[location];
    calls[kind]++;
    if (this.killed) {
      calls.failed++;
      throw new Error("the revocation authority was killed");
    }
    const body = request.method === "POST" ? await request.text() : undefined;
    return this.authority.dispatchFetch(request.url, { method: request.method, headers: request.headers, body });
  }

  /** Kills the authority: its workerd is stopped; every later call fails. */
  async killAuthority() {
    this.killed = true;
    await this.authority.dispose();
    this.authority = null;
  }

  async stop() {
    await Promise.all([...this.locations.map((l) => l.mf.dispose()), this.authority?.dispose()]);
  }

  /** An access token of `user`, authenticated a minute ago. */
  async token(user) {
    const t = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({ sub: user, username: user, client_id: CLIENT, token_use: "access", auth_time: t - 60, origin_jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "HS256", kid: this.key.kid })
      .setIssuer(`https://cognito-idp.${REGION}.amazonaws.com/${POOL}`)
      .setIssuedAt(t - 60)
      .setExpirationTime(t + 3600)
      .sign(this.secret);
  }

  /** A gated request to one isolate: the HTTP status. */
  async gate(isolate, token) {
    const res = await isolate.fetcher.fetch("http://gate/api/me", { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.status;
  }

  async healthz(isolate) {
    const res = await isolate.fetcher.fetch("http://gate/healthz");
    return { status: res.status, body: await res.json() };
  }

  /** Signs `user` out through one isolate (the JavaScript API); the receipt and the answer's time. */
  async signOut(isolate, user) {
    const started = Date.now();
    const res = await isolate.fetcher.fetch("http://gate/__harness/sign-out", {
      method: "POST",
      body: JSON.stringify({ UserPoolId: POOL, Username: user }),
    });
    const out = await res.json();
    const answeredAt = Date.now();
    if (!out.resolved) throw new Error(`sign-out of ${user} failed: ${JSON.stringify(out)}`);
    return { user, via: isolate.name, started, answeredAt, enforcedBy: out.resolved.enforcedBy };
  }

  keyOf(user) {
    return `rev/v1/u/${POOL}/${user}`;
  }
}

/**
 * Steady load on every isolate while `body(load)` runs: each isolate is sent one gated request
 * after another (`concurrency` such streams), `probeEveryMs` apart, over the tokens in
 * `load.watch` (signed out, with their sign-out) and `load.controls`. Records every verdict.
 */
export async function withLoad(world, { probeEveryMs, concurrency = 1 }, body) {
  const load = { watch: [], controls: [], verdicts: [], requests: {}, running: true };
  for (let c = 0; c < 2; c++) {
    const user = `control-${c}`;
    load.controls.push({ user, token: await world.token(user), control: true });
  }
  const loops = world.isolates.flatMap((isolate, i) => Array.from({ length: concurrency }, (_, c) => [isolate, i + c * 7])).map(async ([isolate, i]) => {
    load.requests[isolate.location] ??= 0;
    const refusedHere = new Set();
    let turn = i;
    while (load.running) {
      // Every other request goes to a token this isolate has not refused yet (so a refusal is
      // seen within a few requests of happening); the rest cycle through the tokens it has
      // refused (which must stay refused) and the controls (which must pass).
      turn += 1;
      const pending = load.watch.filter((w) => !refusedHere.has(w.user));
      const others = [...load.watch.filter((w) => refusedHere.has(w.user)), ...load.controls];
      const target = turn % 2 === 0 && pending.length > 0
        ? pending[(turn / 2) % pending.length]
        : others[turn % others.length];
      const sentAt = Date.now();
      let status;
      try {
        status = await world.gate(isolate, target.token);
      } catch (err) {
        status = `error: ${err.message}`;
      }
      load.requests[isolate.location]++;
      if (status === 401 && !target.control) refusedHere.add(target.user);
      load.verdicts.push({ isolate: isolate.name, user: target.user, sentAt, doneAt: Date.now(), status, control: !!target.control });
      await sleep(probeEveryMs);
    }
  });
  try {
    return await body(load);
  } finally {
    load.running = false;
    await Promise.all(loops);
  }
}

/** Signs `user` out through `isolate` and adds it to the load's watch list. */
export async function signOutWatched(world, load, isolate, user) {
  const token = await world.token(user);
  const entry = { user, token };
  load.watch.push(entry);
  // Probes of this token before the answer are not judged against it.
  entry.signOut = await world.signOut(isolate, user);
  return entry.signOut;
}

/** Waits until every isolate has refused every watched sign-out, or until `deadline`. */
export async function settle(world, load, deadline) {
  while (Date.now() < deadline) {
    const pending = load.watch.some((w) => w.signOut && world.isolates.some((iso) => !firstRefusal(load, iso.name, w)));
    if (!pending) return true;
    await sleep(200);
  }
  return false;
}

function firstRefusal(load, isolate, watched) {
  return load.verdicts.find((v) => v.isolate === isolate && v.user === watched.user && v.status === 401 && v.sentAt >= watched.signOut.started);
}

/**
 * The verdicts judged: per sign-out and isolate, the time from the answer to the first refused
 * request (when the refusal came back), and every wrong verdict.
 */
export function judge(world, load, signOuts) {
  const latencies = [];
  const wrong = [];
  for (const v of load.verdicts) {
    if (v.control && v.status !== 200) wrong.push({ ...v, why: "a control token was not accepted" });
  }
  for (const s of signOuts) {
    const watched = load.watch.find((w) => w.user === s.user);
    for (const iso of world.isolates) {
      const mine = load.verdicts.filter((v) => v.isolate === iso.name && v.user === s.user && v.sentAt >= s.started);
      const first = mine.find((v) => v.status === 401);
      if (first) latencies.push({ user: s.user, isolate: iso.name, ms: Math.max(0, first.doneAt - s.answeredAt), answeredAt: s.answeredAt, enforcedBy: s.enforcedBy, refusedAt: first.doneAt });
      for (const v of mine) {
        if (v.status === 401) continue;
        if (first && v.sentAt > first.doneAt) wrong.push({ ...v, why: "accepted after this isolate had refused it" });
        else if (v.sentAt > s.enforcedBy) wrong.push({ ...v, why: "accepted after the receipt's enforcedBy" });
        else if (v.status !== 200) wrong.push({ ...v, why: `answered ${v.status}` });
      }
      if (!first) wrong.push({ user: s.user, isolate: iso.name, why: "never refused", watched: !!watched });
    }
  }
  return { latencies, wrong };
}

export function summary(latencies) {
  const ms = latencies.map((l) => l.ms);
  return { n: ms.length, p50: quantile(ms, 0.5), p95: quantile(ms, 0.95), max: Math.max(...ms) };
}

/**
 * The whole run. Options: locations, isolates, lagMs, probeEveryMs, signOuts (with the
 * authority), signOutEveryMs, afterKill (sign-outs once the authority is killed), kvAlone (sign-outs
 * with KV alone), races (pairs of same-instant sign-outs from two locations), log (progress lines).
 */
export async function runFreshness(options = {}) {
  const o = {
    locations: 3, isolates: 2, lagMs: 60_000, probeEveryMs: 25, signOuts: 30, signOutEveryMs: 1000,
    afterKill: 5, kvAlone: 10, races: 5, log: () => {}, ...options,
  };
  const result = { options: { ...o, log: undefined } };

  // --- with the authority, then killed mid-run ---------------------------------------------------
  const world = new World({ locations: o.locations, isolates: o.isolates, lagMs: o.lagMs, authority: true });
  await world.start();
  try {
    for (const iso of world.isolates) await world.gate(iso, await world.token("warm-up"));
    // Authority reads per location per second at steady gate loads, no sign-outs.
    result.levels = [];
    for (const level of o.loadLevels ?? []) {
      await withLoad(world, level, async (load) => {
        await sleep(1000);
        const calls0 = structuredClone(world.authorityCalls);
        const requests0 = { ...load.requests };
        const t0 = Date.now();
        await sleep(level.seconds * 1000);
        const seconds = (Date.now() - t0) / 1000;
        const locs = Object.keys(world.authorityCalls);
        const per = (f) => locs.reduce((sum, loc) => sum + f(loc), 0) / locs.length / seconds;
        result.levels.push({
          probeEveryMs: level.probeEveryMs,
          concurrency: level.concurrency ?? 1,
          seconds,
          gatedPerLocationPerSecond: per((loc) => load.requests[loc] - requests0[loc]),
          authorityReadsPerLocationPerSecond: per((loc) => world.authorityCalls[loc].feed - calls0[loc].feed),
          wrong: judge(world, load, []).wrong,
        });
        o.log(`load level: ${JSON.stringify(result.levels.at(-1))}`);
      });
    }
    await withLoad(world, o, async (load) => {
      const calls0 = structuredClone(world.authorityCalls);
      const requests0 = { ...load.requests };
      const t0 = Date.now();
      const signOuts = [];
      for (let n = 0; n < o.signOuts; n++) {
        const iso = world.isolates[n % world.isolates.length];
        signOuts.push(await signOutWatched(world, load, iso, `user-${n}`));
        o.log(`authority: signed out user-${n} via ${iso.name}`);
        await sleep(o.signOutEveryMs);
      }
      const settled = await settle(world, load, Math.max(...signOuts.map((s) => s.enforcedBy)) + 2000);
      const t1 = Date.now();
      const seconds = (t1 - t0) / 1000;
      result.rate = Object.fromEntries(Object.keys(world.authorityCalls).map((loc) => [loc, {
        feedPerSecond: (world.authorityCalls[loc].feed - calls0[loc].feed) / seconds,
        raisesPerSecond: (world.authorityCalls[loc].raise - calls0[loc].raise) / seconds,
        gatedPerSecond: (load.requests[loc] - requests0[loc]) / seconds,
      }]));
      result.rate.seconds = seconds;

      // The same-instant race: two locations sign one user out at once.
      result.races = [];
      for (let r = 0; r < o.races; r++) {
        const user = `race-${r}`;
        const [a, b] = await Promise.all([
          world.signOut(world.locations[0].isolates[0], user),
          world.signOut(world.locations[1 % world.locations.length].isolates[0], user),
        ]);
        const writes = world.kv.writesOf(world.keyOf(user)).map((v) => JSON.parse(v.value).revoked_at);
        result.races.push({ user, writes, receipts: [a.enforcedBy, b.enforcedBy] });
      }

      const healthBefore = await world.healthz(world.isolates.at(-1));
      result.withAuthority = { settled, ...judge(world, load, signOuts), health: healthBefore.body.revocation };
      o.log(`authority: ${JSON.stringify(summary(result.withAuthority.latencies))}`);

      // Kill the authority mid-run: new sign-outs fall back to KV; old ones stay refused.
      await world.killAuthority();
      o.log("authority killed");
      const killedAt = Date.now();
      const after = [];
      for (let n = 0; n < o.afterKill; n++) {
        const iso = world.isolates[(n + 1) % world.isolates.length];
        after.push(await signOutWatched(world, load, iso, `after-kill-${n}`));
        await sleep(o.signOutEveryMs);
      }
      const settledAfter = await settle(world, load, Math.max(...after.map((s) => s.enforcedBy)) + 2000);
      const health = await Promise.all(world.isolates.map((iso) => world.healthz(iso)));
      const judged = judge(world, load, [...signOuts, ...after]);
      result.killed = {
        settled: settledAfter,
        killedAt,
        latencies: judged.latencies.filter((l) => l.user.startsWith("after-kill")),
        wrong: judged.wrong,
        receiptsMs: after.map((s) => s.enforcedBy - s.answeredAt),
        health: health.map((h) => ({ status: h.status, ...h.body.revocation, word: h.body.status })),
        failedCalls: Object.values(world.authorityCalls).reduce((n, c) => n + c.failed, 0),
        verdicts: load.verdicts.filter((v) => v.sentAt >= killedAt).length,
      };
      o.log(`killed: ${JSON.stringify(summary(result.killed.latencies))}`);
    });
  } finally {
    await world.stop();
  }

  // --- KV alone ----------------------------------------------------------------------------------
  if (o.kvAlone > 0) {
    const plain = new World({ locations: o.locations, isolates: o.isolates, lagMs: o.lagMs, authority: false });
    await plain.start();
    try {
      for (const iso of plain.isolates) await plain.gate(iso, await plain.token("warm-up"));
      await withLoad(plain, o, async (load) => {
        const signOuts = [];
        for (let n = 0; n < o.kvAlone; n++) {
          const iso = plain.isolates[n % plain.isolates.length];
          signOuts.push(await signOutWatched(plain, load, iso, `kv-user-${n}`));
          await sleep(o.signOutEveryMs);
        }
        const settled = await settle(plain, load, Math.max(...signOuts.map((s) => s.enforcedBy)) + 2000);
        const races = [];
        for (let r = 0; r < Math.min(o.races, 2); r++) {
          const user = `kv-race-${r}`;
          await Promise.all([
            plain.signOut(plain.locations[0].isolates[0], user),
            plain.signOut(plain.locations[1 % plain.locations.length].isolates[0], user),
          ]);
          races.push({ user, writes: plain.kv.writesOf(plain.keyOf(user)).map((v) => JSON.parse(v.value).revoked_at) });
        }
        result.kvAlone = { settled, ...judge(plain, load, signOuts), races };
        o.log(`KV alone: ${JSON.stringify(summary(result.kvAlone.latencies))}`);
      });
    } finally {
      await plain.stop();
    }
  }
  return result;
}
