// The console's list of recent revocations, in Debian's Chromium: an admin sign-out and a sign-out
// pushed by an identity provider over Shared Signals both appear, latest first, with who wrote each
// and why, read with AdminListRevocations SigV4-signed in the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import * as jose from "jose";
import { AdminUserGlobalSignOutCommand } from "@aws-sdk/client-cognito-identity-provider";
import { launchBrowser, outputDir } from "./support.mjs";
import { startWorker, keyFor, localPool, signingKeys, cognito, createUser, ADMIN, adminCredentials, sleep } from "../worker/support.mjs";

const POOL = "us-east-1_ConsoleRev1";
const ISSUER = "https://idp.console.example";
const AUDIENCE = "https://edge.console.example/ssf";
const SECRET = "console-push-secret-0123456789abcdef-01";
let worker, browser, txKey, out;

before(async () => {
  out = outputDir();
  txKey = await keyFor("RS256", "console-tx-1");
  worker = await startWorker({
    POOLS: JSON.stringify([localPool(POOL, "consoleclient1")]),
    SIGNING_KEYS: signingKeys(),
    ADMIN_CREDENTIALS: adminCredentials(ADMIN),
    SSF_TRANSMITTERS: JSON.stringify([{ id: "okta", issuer: ISSUER, jwks: { keys: [txKey.publicJwk] }, audience: AUDIENCE, push_secret: SECRET, pool: POOL }]),
  }, { assets: { directory: "www", binding: "ASSETS", routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true } } });
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await worker?.dispose();
});

/** Pushes a CAEP session-revoked for `username` (an opaque subject the pool's directory resolves). */
async function pushSessionRevoked(username) {
  const claims = {
    iss: ISSUER, jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000), aud: AUDIENCE,
    sub_id: { format: "opaque", id: username },
    events: { "https://schemas.openid.net/secevent/caep/event-type/session-revoked": { event_timestamp: Math.floor(Date.now() / 1000) } },
  };
  const set = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: "RS256", typ: "secevent+jwt", kid: txKey.kid })
    .sign(txKey.privateKey);
  const res = await worker.fetch("/ssf/events/okta", { method: "POST", headers: { "content-type": "application/secevent+jwt", authorization: `Bearer ${SECRET}` }, body: set });
  assert.equal(res.status, 202, await res.text());
  return claims.jti;
}

/** The table's rows, as text. */
const rows = (page) =>
  page.$$eval("#revocations-table tbody tr", (trs) =>
    trs.map((tr) => ({ kind: tr.dataset.kind, by: tr.dataset.by, cells: [...tr.querySelectorAll("td")].map((td) => td.textContent.trim()) })));

test("the admin panel lists recent revocations latest first, Shared Signals ones labelled, with who and why", async () => {
  const admin = cognito(worker);
  const annSub = await createUser(admin, POOL, "ann");
  const bobSub = await createUser(admin, POOL, "bob");
  await admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: POOL, Username: "ann" }));
  // A SET's event time is in whole seconds: a second later, it is the latest.
  await sleep(1_100);
  const jti = await pushSessionRevoked("bob");

  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(`${new URL(worker.url).origin}/`);
  await page.waitForSelector("html[data-ready='true']");
  await page.fill("#pool-id", POOL);
  await page.fill("#access-key-id", ADMIN.accessKeyId);

  // A wrong secret is refused, and nothing is listed.
  await page.fill("#secret-access-key", `${ADMIN.secretAccessKey}x`);
  await page.click("#list-revocations");
  await page.waitForSelector("#revocations-result .outcome.error");
  assert.equal(await page.textContent("#revocations-result .error-type"), "InvalidSignatureException");
  assert.equal(await page.$("#revocations-table"), null);

  await page.fill("#secret-access-key", ADMIN.secretAccessKey);
  await page.click("#list-revocations");
  await page.waitForSelector("#revocations-table");
  const listed = await rows(page);
  assert.equal(listed.length, 2, JSON.stringify(listed));
  const [ssf, signOut] = listed;
  assert.equal(ssf.by, "ssf:okta", "the later revocation comes first");
  assert.equal(ssf.cells[2], bobSub);
  assert.match(ssf.cells[3], /^Shared Signals\s+ssf:okta$/);
  assert.match(ssf.cells[4], /caep session-revoked/);
  assert.ok(ssf.cells[4].includes(jti), "the reason names the SET");
  assert.equal(signOut.by, ADMIN.accessKeyId);
  assert.equal(signOut.cells[1], "user");
  assert.equal(signOut.cells[2], annSub);
  assert.equal(signOut.cells[4], "AdminUserGlobalSignOut");
  assert.match(signOut.cells[0], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
  assert.doesNotMatch(await page.textContent("#revocations-result"), /null|undefined/);
  await page.screenshot({ path: join(out, "20-recent-revocations.png"), fullPage: true });

  // Signing a user out from the panel refreshes the list: the new entry comes first (a second
  // later, so it is not the same second as ann's first sign-out, which would leave it as it is).
  await sleep(1_000);
  await page.fill("#admin-username", "ann");
  await page.click("#admin-sign-out");
  await page.waitForFunction(() => document.querySelectorAll("#revocations-table tbody tr").length === 2
    && document.querySelector("#revocations-table tbody tr").dataset.by !== "ssf:okta");
  const [latest] = await rows(page);
  assert.equal(latest.by, ADMIN.accessKeyId);
  assert.equal(latest.cells[2], annSub, "ann's entry moved up, one entry per user");
  assert.deepEqual(errors, []);
});
