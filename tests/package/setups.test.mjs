// The wrangler.toml set-ups in examples/ (gate in front of an origin, the Cognito API only, both):
// each installs the packed package, deploys its default export as it is, type-checks against
// `wrangler types`, bundles, and runs under `wrangler dev` doing what its comments promise.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import {
  CognitoIdentityProviderClient,
  AdminUserGlobalSignOutCommand,
  GetUserCommand,
  GlobalSignOutCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { keyFor, pool, accessClaims, sign, bearer, now, startServer, ADMIN, adminCredentials } from "../worker/support.mjs";
import { ROOT, example, installPackage, typeCheck, bundle, wranglerDev, run, POOL_ID, CLIENT_ID } from "./support.mjs";

const ALICE = "a11ce000-0000-4000-8000-000000000001";
const BOB = "b0b00000-0000-4000-8000-000000000002";
const APP = "https://app.example.com";
let key;

before(async () => {
  key = await keyFor("RS256");
});

/** The example's pool with the test's key inline, so tokens signed here verify offline. */
const testPools = () => [{ ...pool(POOL_ID, [key]), clients: [{ id: CLIENT_ID }] }];
/** An access token of `sub`, authenticated a minute ago. */
const tokenOf = (sub, username) =>
  sign(key, accessClaims(POOL_ID, { sub, username, client_id: CLIENT_ID, auth_time: now() - 60, iat: now() - 60 }));
const sdk = (worker, credentials) =>
  new CognitoIdentityProviderClient({ endpoint: worker.url, region: "us-east-1", credentials, maxAttempts: 1 });
const adminKeys = { accessKeyId: ADMIN.accessKeyId, secretAccessKey: ADMIN.secretAccessKey };
const anonymous = { accessKeyId: "unused", secretAccessKey: "unused" };

/** What every set-up must pass before it runs: wrangler types + tsc, and the deploy bundle. */
async function checksAndBundles(dir) {
  await installPackage(dir);
  const tsc = await typeCheck(dir);
  assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
  const { outdir, upload } = await bundle(dir);
  assert.ok(readdirSync(outdir).some((f) => f.endsWith("-edge_revoke_bg.wasm")), "the .wasm is bundled");
  assert.match(upload, /KiB/);
}

describe("examples/gate: a gate in front of an origin", () => {
  const dir = example("gate");
  let origin;
  let worker;
  after(async () => {
    await worker?.stop();
    await origin?.close();
  });

  test("its wrangler.toml type-checks against the package and bundles with the .wasm", () => checksAndBundles(dir));

  test("a valid token reaches the origin with the verified identity; a missing or revoked one is refused", async () => {
    origin = await startServer(() => ({ status: 200, body: JSON.stringify({ orders: [] }) }));
    // Bob was signed out by another Worker sharing the namespace: his entry is already in KV.
    const signedOut = JSON.stringify({ revoked_at: Date.now(), by: "cognito-api", reason: "AdminUserGlobalSignOut" });
    worker = await wranglerDev(dir, { POOLS: testPools(), ORIGIN_URL: origin.url }, { kv: { [`rev/v1/u/${POOL_ID}/${BOB}`]: signedOut } });

    const res = await worker.fetch("/api/orders?page=2", { headers: { authorization: `Bearer ${await tokenOf(ALICE, "alice")}`, "x-edge-auth-sub": "forged" } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { orders: [] });
    assert.equal(origin.requests.length, 1);
    const forwarded = origin.requests[0];
    assert.equal(forwarded.url, "/api/orders?page=2");
    assert.equal(forwarded.headers["x-edge-auth-sub"], ALICE, "the verified sub, never the client's");
    assert.equal(forwarded.headers["x-edge-auth-client-id"], CLIENT_ID);

    const missing = await worker.fetch("/api/orders");
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get("www-authenticate"), /^Bearer/);

    const revoked = await worker.fetch("/api/orders", bearer(await tokenOf(BOB, "bob")));
    assert.equal(revoked.status, 401);
    assert.equal(revoked.headers.get("www-authenticate"), 'Bearer error="invalid_token", error_description="Access Token has been revoked"');
    assert.equal(origin.requests.length, 1, "nothing refused reached the origin");
  });
});

describe("examples/cognito-api: the Cognito API only", () => {
  const dir = example("cognito-api");
  let worker;
  after(() => worker?.stop());

  test("its wrangler.toml type-checks against the package and bundles with the .wasm", () => checksAndBundles(dir));

  test("the AWS SDK signs users out through it, and it gates nothing", async () => {
    worker = await wranglerDev(dir, { POOLS: testPools(), ADMIN_CREDENTIALS: adminCredentials(ADMIN) });

    const admin = await sdk(worker, adminKeys).send(new AdminUserGlobalSignOutCommand({ UserPoolId: POOL_ID, Username: ALICE }));
    assert.equal(admin.$metadata.httpStatusCode, 200);

    const bob = await tokenOf(BOB, "bob");
    const app = sdk(worker, anonymous);
    assert.equal((await app.send(new GlobalSignOutCommand({ AccessToken: bob }))).$metadata.httpStatusCode, 200);
    const err = await app.send(new GetUserCommand({ AccessToken: bob })).catch((e) => e);
    assert.equal(err.name, "NotAuthorizedException");
    assert.equal(err.message, "Access Token has been revoked");

    const notGated = await worker.fetch("/api/orders");
    assert.equal(notGated.status, 404, "PROTECTED_PREFIXES is empty: no path asks for a token");
    assert.equal(notGated.headers.get("www-authenticate"), null);
  });

  test("a browser on the app's origin may call it; another origin may not", async () => {
    const preflight = (origin) => worker.fetch("/", {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-amz-target" },
    });
    assert.equal((await preflight(APP)).headers.get("access-control-allow-origin"), APP);
    assert.equal((await preflight("https://evil.example")).headers.get("access-control-allow-origin"), null);
  });
});

describe("examples/gate-and-api: both on one hostname", () => {
  const dir = example("gate-and-api");
  let origin;
  let worker;
  after(async () => {
    await worker?.stop();
    await origin?.close();
  });

  test("its wrangler.toml type-checks against the package and bundles with the .wasm", () => checksAndBundles(dir));

  test("a sign-out through its API is refused by its gate at once", async () => {
    origin = await startServer(() => ({ status: 200, body: "{}" }));
    worker = await wranglerDev(dir, { POOLS: testPools(), ORIGIN_URL: origin.url, ADMIN_CREDENTIALS: adminCredentials(ADMIN) });
    const alice = await tokenOf(ALICE, "alice");

    assert.equal((await worker.fetch("/v1/profile", bearer(alice))).status, 200);
    assert.equal((await worker.fetch("/api/orders")).status, 404, "only /v1/ is gated here");
    await sdk(worker, adminKeys).send(new AdminUserGlobalSignOutCommand({ UserPoolId: POOL_ID, Username: ALICE }));
    const refused = await worker.fetch("/v1/profile", bearer(alice));
    assert.equal(refused.status, 401);
    assert.deepEqual(await refused.json(), { __type: "NotAuthorizedException", message: "Access Token has been revoked" });
    assert.deepEqual(origin.requests.map((r) => r.url), ["/v1/profile"], "the origin saw only the request before the sign-out");
  });
});

describe("the repository's own wrangler.toml", () => {
  test("its Env (wrangler types: KV, rate limit, static assets, vars) is what the Worker entry takes", async () => {
    const dir = `${ROOT}.wrangler/typecheck-root/`;
    mkdirSync(dir, { recursive: true });
    await run("wrangler", ["types", `${dir}worker-configuration.d.ts`], { cwd: ROOT });
    const generated = readFileSync(`${dir}worker-configuration.d.ts`, "utf8");
    for (const binding of ["REVOCATIONS: KVNamespace", "RATE_LIMITER: RateLimit", "ASSETS: Fetcher", "POOLS: ["]) {
      assert.ok(generated.includes(binding), binding);
    }
    writeFileSync(`${dir}check.ts`, 'import worker from "../../src/entry.js";\nexport default worker satisfies ExportedHandler<Env>;\n');
    writeFileSync(`${dir}tsconfig.json`, JSON.stringify({
      extends: "../../examples/worker/tsconfig.json",
      include: ["worker-configuration.d.ts", "check.ts"],
    }));
    const tsc = await run("tsc", ["-p", dir], { cwd: ROOT, allowFailure: true });
    assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
  });
});
