// examples/worker: a Worker of one's own that installs the packed edge-revoke, imports its API by
// the package name, is type-checked against `wrangler types`, bundled by wrangler and run in
// workerd: a token is verified, its user signed out everywhere, and the token refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keyFor, pool, accessClaims, sign, bearer, now } from "../worker/support.mjs";
import { example, installPackage, typeCheck, bundle, wranglerDev, run, POOL_ID, CLIENT_ID } from "./support.mjs";

const DIR = example("worker");
let key;
let worker;

before(async () => {
  await installPackage(DIR);
  key = await keyFor("RS256");
});

after(async () => {
  await worker?.stop();
});

const token = (overrides = {}) => sign(key, accessClaims(POOL_ID, { client_id: CLIENT_ID, ...overrides }));

test("the example type-checks: the Env wrangler types generates is what verifyToken and globalSignOut take", async () => {
  const tsc = await typeCheck(DIR);
  assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
  const generated = readFileSync(join(DIR, "worker-configuration.d.ts"), "utf8");
  assert.match(generated, /REVOCATIONS: KVNamespace;/, "the Env has the KV binding");
  assert.match(generated, /APP_CLIENT_ID: "1example23456789";/, "and the vars, as literal types");
});

test("the types refuse an Env without the REVOCATIONS binding, and options of the wrong shape", async () => {
  // A control for the check above: the same compiler and types, given what must not compile.
  const dir = join(DIR, ".wrangler/typecheck");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "wrong.ts"), [
    'import { verifyToken } from "edge-revoke";',
    'declare const env: Omit<Env, "REVOCATIONS">;',
    'export const a = verifyToken(env, "token");',
    'declare const full: Env;',
    'export const b = verifyToken(full, "token", { tokenUse: "refresh" });',
    "",
  ].join("\n"));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    extends: "../../tsconfig.json",
    include: ["../../worker-configuration.d.ts", "wrong.ts"],
  }));
  const tsc = await run("tsc", ["-p", dir], { cwd: DIR, allowFailure: true });
  assert.notEqual(tsc.code, 0, "tsc refuses it");
  assert.match(tsc.stdout, /wrong\.ts\(3,\d+\): error TS\d+: Property 'REVOCATIONS' is missing in type 'Omit<Env, "REVOCATIONS">' but required in type 'EdgeRevokeEnv'/);
  assert.match(tsc.stdout, /wrong\.ts\(5,\d+\): error TS2322: Type '"refresh"' is not assignable/);
});

test("wrangler bundles the package's .wasm as a module of the Worker", async () => {
  const { outdir, upload } = await bundle(DIR);
  const files = readdirSync(outdir);
  const wasm = files.find((f) => f.endsWith("-edge_revoke_bg.wasm"));
  assert.ok(wasm, `a .wasm module in ${files.join(", ")}`);
  assert.match(readFileSync(join(outdir, "index.js"), "utf8"), new RegExp(`from "\\./${wasm}"`));
  assert.deepEqual(readFileSync(join(outdir, wasm)), readFileSync(join(DIR, "node_modules/edge-revoke/pkg/edge_revoke_bg.wasm")));
  assert.match(upload, /KiB \/ gzip: [\d.]+ KiB/);
  console.log(`# examples/worker bundle: ${upload}`);
});

test("the example Worker verifies a token, signs its user out everywhere, then refuses the token", async () => {
  worker = await wranglerDev(DIR, { POOLS: [{ ...pool(POOL_ID, [key]), clients: [{ id: CLIENT_ID }] }] });
  const before = await token({ auth_time: now() - 60, iat: now() - 60 });

  const me = await worker.fetch("/me", bearer(before));
  assert.equal(me.status, 200, await me.clone().text());
  assert.deepEqual(await me.json(), { sub: "7d0a5c2e-1111-4aaa-8bbb-000000000001", username: "alice" });

  const sent = Date.now();
  const out = await worker.fetch("/sign-out-everywhere", { method: "POST", ...bearer(before) });
  const answered = Date.now();
  assert.equal(out.status, 200, await out.clone().text());
  const { enforcedBy, ...rest } = await out.json();
  assert.deepEqual(rest, { signedOut: "7d0a5c2e-1111-4aaa-8bbb-000000000001" });
  // The receipt: the revocation authority the example binds lives in another Worker ("auth"),
  // not running here, so the sign-out went to KV directly and promises KV's window (95 s) from the
  // end of the failed call's 2 s timeout: 97 s.
  assert.ok(enforcedBy >= sent + 96_000 && enforcedBy <= answered + 98_000, `${enforcedBy - sent} ms`);

  const refused = await worker.fetch("/me", bearer(before));
  assert.equal(refused.status, 401);
  assert.deepEqual(await refused.json(), { error: "NotAuthorizedException", message: "Access Token has been revoked" });

  // A sign-in after the sign-out is a new session, and it lives.
  const after = await token({ auth_time: now() + 1, iat: now() + 1 });
  assert.equal((await worker.fetch("/me", bearer(after))).status, 200);
});

test("the example Worker refuses a token for another app client with Cognito's words", async () => {
  const other = await token({ client_id: "someoneelse" });
  const res = await worker.fetch("/me", bearer(other));
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: "NotAuthorizedException", message: "Invalid Access Token" });
});
