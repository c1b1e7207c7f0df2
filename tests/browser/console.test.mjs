// The console in Debian's Chromium against the Worker as `make dev` runs it. Every browser context
// is one device: alice on A and B, bob on C. A global sign-out on A kills B's tokens, the admin
// panel (SigV4 signed in the page) kills bob's, and pages on other origins show what CORS lets
// through. Screenshots of every step go to tests/output/browser/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { CognitoIdentityProviderClient, AdminCreateUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import { ROOT, startDev, launchBrowser, startPageServer, outputDir } from "./support.mjs";
import { startWorker, keyFor, pool } from "../worker/support.mjs";

const POOL = "us-east-1_DemoPool";
const CLIENT = "democlient";
const ALICE = ["alice", "Alice-Demo-1"];
const BOB = ["bob", "Bob-Demo-1"];
const VIEWPORT = { width: 1280, height: 800 };

// The console's plain-language lines (its table in www/console.js), asserted word for word.
const MEANS = {
  accessRevoked: "This session was signed out (on another device, or by an administrator). Sign in again.",
  refreshRevoked: "This session was signed out everywhere, so its refresh token no longer works. Sign in again.",
  badPassword: "The username or password is wrong. Check both and try again (the demo users are listed under the form).",
  badSignature: "The signature does not match: the secret access key is wrong for this access key ID. Use the dev keys that make dev printed.",
  unknownKey: "The Worker does not know this access key ID. Use the dev keys that make dev printed (ADMIN_CREDENTIALS in .dev.vars).",
};
// Cognito's messages (shared/reference/cognito.md §1.4 and the SigV4 table).
const SAYS = {
  accessRevoked: "Access Token has been revoked",
  refreshRevoked: "Refresh Token has been revoked",
  badPassword: "Incorrect username or password.",
  badSignature: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  unknownKey: "The security token included in the request is invalid.",
};
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let dev;
let browser;
let allowedSite;
let foreignSite;
let out;
const devices = {};
const figures = {};
// What the CORS pages use; set before they are opened.
const corsPage = { worker: "", token: "" };

// --- helpers -------------------------------------------------------------------------------------

async function screenshot(page, name) {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
}

/** A fresh browser context: a separate device with its own sessionStorage. */
async function newDevice(name, viewport = VIEWPORT) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  // A Content-Security-Policy violation is logged, not thrown: count it as an error too.
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) errors.push(message.text());
  });
  devices[name] = { context, page, errors };
  return page;
}

async function openConsole(page, url = `${dev.origin}/`) {
  await page.goto(url);
  await page.waitForSelector("html[data-ready='true']");
}

async function signIn(page, [username, password]) {
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("#signin-button");
  return outcome(page, "signin-result");
}

/** Clicks `button` and reads the outcome it shows in `region`. */
async function act(page, button, region) {
  await page.click(button);
  return outcome(page, region);
}

/** The success or rejection box of a result region, as text. */
async function outcome(page, region) {
  await page.waitForSelector(`#${region} .outcome`);
  return page.$eval(`#${region} .outcome`, (box) => {
    const text = (selector) => box.querySelector(selector)?.textContent.trim() ?? null;
    const status = [...box.querySelectorAll(".meta > div")].find((row) => row.querySelector("dt")?.textContent === "HTTP status");
    return {
      ok: box.classList.contains("ok"),
      title: text(".title-text"),
      type: text(".error-type"),
      message: text(".error-message"),
      meaning: text(".error-meaning"),
      requestId: text(".request-id"),
      status: status ? status.querySelector("dd").textContent.trim() : null,
      json: text("pre.json"),
    };
  });
}

/** The decoded view of one token (access, id). */
async function tokenFacts(page, kind) {
  await page.waitForSelector(`[data-token=${kind}] .sig:not(.pending)`);
  return page.$eval(`[data-token=${kind}]`, (card) => ({
    tokenUse: card.querySelector(".fact-token-use").textContent.trim(),
    username: card.querySelector(".fact-username").textContent.trim(),
    countdown: card.querySelector(".countdown").textContent.trim(),
    signature: card.querySelector(".fact-signature").textContent.trim(),
  }));
}

function assertRejected(result, { type, message, meaning, status }) {
  assert.equal(result.ok, false, `expected a rejection, got: ${result.title}`);
  assert.equal(result.type, type);
  assert.equal(result.message, message);
  assert.equal(result.meaning, meaning);
  assert.match(result.requestId, REQUEST_ID);
  if (status) assert.equal(result.status, status);
}

// --- the CORS pages ------------------------------------------------------------------------------

/** A page on another origin that calls the Worker and writes what it could read into itself. */
function corsProbe(label) {
  return () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${label}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 62rem; line-height: 1.5; color: #1b1f24; }
  h1 { font-size: 1.4rem; } .line { font-size: 1.05rem; margin: .4rem 0; }
  .ok { color: #116329; font-weight: 600; } .blocked { color: #a40e26; font-weight: 600; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f3f5f8; border: 1px solid #d0d7de; border-radius: 6px; padding: 1rem; font-size: .85rem; }
</style></head>
<body>
<h1>${label}</h1>
<p>This page: <code id="origin"></code> · the Worker: <code>${corsPage.worker}</code></p>
<div id="summary"><p class="line">running…</p></div>
<pre id="out"></pre>
<script type="module">
const worker = ${JSON.stringify(corsPage.worker)};
const token = ${JSON.stringify(corsPage.token)};
document.getElementById("origin").textContent = location.origin;
async function attempt(run) {
  try { return await run(); } catch (err) { return { ok: false, error: err.name + ": " + err.message }; }
}
async function answer(r) {
  return { ok: true, status: r.status, requestId: r.headers.get("x-amzn-requestid"), errorType: r.headers.get("x-amzn-errortype"), body: await r.json() };
}
const cognito = (target, body) => fetch(worker + "/", {
  method: "POST",
  headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService." + target },
  body: JSON.stringify(body),
});
const me = () => fetch(worker + "/api/me", { headers: { authorization: "Bearer " + token } });
const results = {};
results["GET /api/me"] = await attempt(async () => answer(await me()));
results["POST / InitiateAuth"] = await attempt(async () => answer(await cognito("InitiateAuth",
  { AuthFlow: "USER_PASSWORD_AUTH", ClientId: "${CLIENT}", AuthParameters: { USERNAME: "alice", PASSWORD: "Alice-Demo-1" } })));
results["POST / GlobalSignOut"] = await attempt(async () => answer(await cognito("GlobalSignOut", { AccessToken: token })));
results["GET /api/me after the sign-out"] = await attempt(async () => answer(await me()));
window.results = results;
const shorten = (key, value) => typeof value === "string" && value.length > 60 ? value.slice(0, 24) + "… (" + value.length + " chars)" : value;
document.getElementById("summary").replaceChildren(...Object.entries(results).map(([call, r]) => {
  const p = document.createElement("p");
  p.className = "line " + (r.ok ? "ok" : "blocked");
  p.textContent = call + ": " + (r.ok ? "read the answer: HTTP " + r.status + ", x-amzn-requestid " + r.requestId : "blocked, " + r.error);
  return p;
}));
document.getElementById("out").textContent = JSON.stringify(results, shorten, 2);
document.body.dataset.done = "true";
</script>
</body></html>`;
}

// --- setup ---------------------------------------------------------------------------------------

before(async () => {
  out = outputDir();
  allowedSite = await startPageServer(corsProbe("An app on an allowed origin"));
  foreignSite = await startPageServer(corsProbe("A page on a foreign origin"));
  dev = await startDev({ extraOrigins: [allowedSite.origin] });
  corsPage.worker = dev.origin;
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await dev?.stop();
  await allowedSite?.close();
  await foreignSite?.close();
});

// --- the scenario --------------------------------------------------------------------------------

test("two devices of alice sign in and see their tokens decoded and signature-checked", async () => {
  const a = await newDevice("A");
  const started = Date.now();
  await openConsole(a, dev.consoleUrl);
  // The dev keys came in the fragment, stay in this tab, and left the address bar.
  assert.equal(a.url(), `${dev.origin}/`);
  assert.equal(await a.inputValue("#access-key-id"), dev.accessKeyId);
  assert.equal(await a.inputValue("#secret-access-key"), dev.secretAccessKey);
  assert.match(await a.evaluate(() => sessionStorage.getItem("edge-revoke.dev-keys")), new RegExp(dev.accessKeyId));

  const signedIn = await signIn(a, ALICE);
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn));
  assert.equal(signedIn.title, "Signed in as alice");
  const access = await tokenFacts(a, "access");
  figures.wallToDecodedMs = Date.now() - started;
  Object.assign(figures, await a.evaluate(() => {
    const fetches = performance.getEntriesByType("resource");
    return {
      navToDecodedMs: performance.getEntriesByName("tokens-shown").at(-1).startTime,
      initMs: performance.getEntriesByName("wasm-init")[0].duration,
      wasmFetchMs: fetches.find((e) => e.name.endsWith("/pkg/edge_revoke_bg.wasm"))?.duration,
      signInMs: fetches.filter((e) => e.initiatorType === "fetch" && new URL(e.name).pathname === "/").at(-1)?.duration,
    };
  }));
  const id = await tokenFacts(a, "id");
  assert.equal(access.tokenUse, "access");
  assert.equal(access.username, "alice");
  assert.match(access.signature, /^✓ valid \(RS256, key dev-[0-9a-f]+\)$/);
  assert.equal(id.tokenUse, "id");
  assert.equal(id.username, "alice");
  assert.match(id.signature, /^✓ valid \(RS256, key dev-[0-9a-f]+\)$/);
  assert.match(access.countdown, /^expires in 59m \d\ds$/);
  // The countdown ticks: it changes within a couple of seconds.
  await a.waitForFunction(
    (before) => document.querySelector("[data-token=access] .countdown").textContent.trim() !== before,
    access.countdown,
    { timeout: 3_000 },
  );
  const later = await tokenFacts(a, "access");
  assert.match(later.countdown, /^expires in \d+m \d\ds$/);
  assert.notEqual(later.countdown, access.countdown);
  // The refresh token is opaque: its length only.
  const refresh = await a.textContent("[data-token=refresh]");
  assert.match(refresh, /encrypted JWE \(5 segments\)/);
  assert.match(refresh, /\d{3,} characters/);
  await screenshot(a, "01-a-signed-in");

  const b = await newDevice("B");
  await openConsole(b);
  // No fragment, no keys: this is another device.
  assert.equal(await b.inputValue("#access-key-id"), "");
  assert.equal((await signIn(b, ALICE)).ok, true);
  assert.equal((await tokenFacts(b, "access")).username, "alice");
  await screenshot(b, "02-b-signed-in");
  const tokenOf = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem("edge-revoke.session")).accessToken);
  assert.notEqual(await tokenOf(a), await tokenOf(b), "two devices, two sessions");

  const c = await newDevice("C");
  await openConsole(c);
  assert.equal((await signIn(c, BOB)).ok, true);
  assert.equal((await tokenFacts(c, "access")).username, "bob");
});

test("both devices call the protected API", async () => {
  for (const [name, user, shot] of [["A", "alice", "03-a-api-ok"], ["B", "alice", "04-b-api-ok"], ["C", "bob", null]]) {
    const { page } = devices[name];
    const result = await act(page, "#call-api", "api-result");
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(result.title, "200 OK: the Worker accepted the token");
    assert.match(result.requestId, REQUEST_ID);
    const claims = JSON.parse(result.json);
    assert.equal(claims.username, user);
    assert.equal(claims.token_use, "access");
    assert.equal(claims.client_id, CLIENT);
    if (shot) await screenshot(page, shot);
  }
});

test("signing out of all devices on A revokes B's access and refresh tokens", async () => {
  const a = devices.A.page;
  const b = devices.B.page;
  const signedOut = await act(a, "#global-sign-out", "signout-result");
  assert.equal(signedOut.ok, true, JSON.stringify(signedOut));
  assert.equal(signedOut.title, "Signed out of all devices");
  await screenshot(a, "05-a-signed-out-everywhere");

  assertRejected(await act(b, "#call-api", "api-result"), {
    type: "NotAuthorizedException", message: SAYS.accessRevoked, meaning: MEANS.accessRevoked, status: "401",
  });
  // B's tab now knows its session is dead.
  assert.equal(await b.textContent("#who"), "alice: this session was signed out elsewhere; sign in again");
  await screenshot(b, "06-b-api-revoked");
  assertRejected(await act(b, "#refresh-tokens", "refresh-result"), {
    type: "NotAuthorizedException", message: SAYS.refreshRevoked, meaning: MEANS.refreshRevoked, status: "400",
  });
  await screenshot(b, "07-b-refresh-revoked");
  // A's own old token is dead too.
  assertRejected(await act(a, "#call-api", "api-result"), {
    type: "NotAuthorizedException", message: SAYS.accessRevoked, meaning: MEANS.accessRevoked, status: "401",
  });
});

test("A signs in again and its new session works", async () => {
  const a = devices.A.page;
  assert.equal((await signIn(a, ALICE)).ok, true);
  assert.equal(await a.textContent("#who"), "Signed in as alice");
  assert.equal(await a.textContent("#signout-result"), "", "the old session's results are cleared");
  const result = await act(a, "#call-api", "api-result");
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.equal(JSON.parse(result.json).username, "alice");
  // And it refreshes.
  const refreshed = await act(a, "#refresh-tokens", "refresh-result");
  assert.equal(refreshed.ok, true, JSON.stringify(refreshed));
  assert.equal(refreshed.title, "New access and ID tokens");
  await screenshot(a, "08-a-new-session-works");
});

test("the admin panel signs bob out with a request SigV4-signed in the page", async () => {
  const a = devices.A.page;
  const c = devices.C.page;
  await a.fill("#admin-username", "bob");
  assert.equal(await a.textContent("#admin-scope"), `pool ${POOL} · region us-east-1 · service cognito-idp`);

  await a.fill("#secret-access-key", `${dev.secretAccessKey}x`);
  assertRejected(await act(a, "#admin-sign-out", "admin-result"), {
    type: "InvalidSignatureException", message: SAYS.badSignature, meaning: MEANS.badSignature, status: "400",
  });
  await screenshot(a, "09-admin-wrong-secret");
  await a.fill("#access-key-id", "AKIANOTAKEY000000000");
  assertRejected(await act(a, "#admin-sign-out", "admin-result"), {
    type: "UnrecognizedClientException", message: SAYS.unknownKey, meaning: MEANS.unknownKey, status: "400",
  });

  await a.fill("#access-key-id", dev.accessKeyId);
  await a.fill("#secret-access-key", dev.secretAccessKey);
  const done = await act(a, "#admin-sign-out", "admin-result");
  assert.equal(done.ok, true, JSON.stringify(done));
  assert.equal(done.title, "bob is signed out of all devices");
  // The list of recent revocations follows: bob's sign-out first, by the dev key; alice's own
  // sign-out on A among the others, by her.
  await a.waitForSelector("#revocations-table");
  const listed = await a.$$eval("#revocations-table tbody tr", (trs) => trs.map((tr) => ({ by: tr.dataset.by, why: tr.querySelector("td.why").textContent })));
  assert.deepEqual(listed[0], { by: dev.accessKeyId, why: "AdminUserGlobalSignOut" });
  assert.ok(listed.some((r) => r.by.startsWith("user:") && r.why === "GlobalSignOut"), JSON.stringify(listed));
  await screenshot(a, "10-admin-signed-out-bob");

  assertRejected(await act(c, "#call-api", "api-result"), {
    type: "NotAuthorizedException", message: SAYS.accessRevoked, meaning: MEANS.accessRevoked, status: "401",
  });
  await screenshot(c, "11-c-bob-api-revoked");
  // alice's new session on A is not bob's: it still works.
  assert.equal((await act(a, "#call-api", "api-result")).ok, true);
});

test("the sign-in form works from the keyboard and explains a wrong password", async () => {
  const d = await newDevice("D");
  await openConsole(d);
  await d.focus("#username");
  await d.keyboard.type("alice");
  await d.keyboard.press("Tab");
  assert.equal(await d.evaluate(() => document.activeElement.id), "password");
  await d.keyboard.type("not-her-password");
  await d.keyboard.press("Enter");
  assertRejected(await outcome(d, "signin-result"), {
    type: "NotAuthorizedException", message: SAYS.badPassword, meaning: MEANS.badPassword, status: "400",
  });
  await screenshot(d, "12-wrong-password");
});

test("a user with a temporary password sets a new one in the page", async () => {
  const admin = new CognitoIdentityProviderClient({
    endpoint: dev.origin,
    region: "us-east-1",
    credentials: { accessKeyId: dev.accessKeyId, secretAccessKey: dev.secretAccessKey },
  });
  await admin.send(new AdminCreateUserCommand({
    UserPoolId: POOL, Username: "carol", TemporaryPassword: "Carol-Temp-1", MessageAction: "SUPPRESS",
    UserAttributes: [{ Name: "email", Value: "carol@example.com" }],
  }));
  const d = devices.D.page;
  const challenged = await signIn(d, ["carol", "Carol-Temp-1"]);
  assert.equal(challenged.title, "A new password is needed");
  assert.equal(await d.isVisible("#new-password-form"), true);
  assert.equal(await d.evaluate(() => document.activeElement.id), "new-password");
  await d.keyboard.type("Carol-Perm-2!");
  await d.keyboard.press("Enter");
  await d.waitForSelector("#new-password-form", { state: "hidden" });
  const done = await outcome(d, "signin-result");
  assert.equal(done.title, "Password set; signed in as carol");
  const access = await tokenFacts(d, "access");
  assert.equal(access.username, "carol");
  assert.match(access.signature, /^✓ valid/);
  await screenshot(d, "13-new-password-set");
});

test("the console fits a narrow viewport", async () => {
  const n = await newDevice("N", { width: 390, height: 844 });
  await openConsole(n);
  assert.equal((await signIn(n, ["carol", "Carol-Perm-2!"])).ok, true);
  await tokenFacts(n, "access");
  assert.equal((await act(n, "#call-api", "api-result")).ok, true);
  const width = await n.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width}px wide on a 390px screen`);
  await screenshot(n, "14-narrow-viewport");
});

test("a request that gets no answer is shown as a network failure", async () => {
  const page = devices.N.page;
  await page.setViewportSize(VIEWPORT);
  await page.route("**/api/me", (route) => route.abort("connectionrefused"));
  const failed = await act(page, "#call-api", "api-result");
  await page.unroute("**/api/me");
  assert.equal(failed.ok, false);
  assert.equal(failed.type, "NetworkError");
  assert.equal(failed.message, "TypeError: Failed to fetch");
  assert.match(failed.meaning, /^No answer reached this page: the Worker is not running, or the browser blocked the response \(CORS/);
  assert.equal(failed.requestId, "— (no answer)");
  await page.locator("#api").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(out, "15-network-error.png") });
});

test("the console is served with a Content-Security-Policy that its pages run under", async () => {
  const res = await fetch(`${dev.origin}/`);
  const policy = res.headers.get("content-security-policy");
  assert.match(policy, /default-src 'none'/);
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(policy, /frame-ancestors 'none'/);
  await res.text();
  // Every device above loaded the wasm, signed in, signed requests and called the API under it;
  // "no page threw" below counts any violation the browser reported.
  const seen = await devices.A.page.evaluate(async () => (await fetch("/", { cache: "no-store" })).headers.get("content-security-policy"));
  assert.equal(seen, policy);
});

test("a console on a Worker not in dev mode ignores keys in its link and takes them off the address bar", async () => {
  // The Worker alone with its static assets, as deployed: DEV_MODE is not set.
  const key = await keyFor("RS256");
  const deployed = await startWorker(
    { POOLS: JSON.stringify([pool("us-east-1_Deployed1", [key])]) },
    { assets: { directory: "www", binding: "ASSETS", routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true } } },
  );
  try {
    const page = await newDevice("D");
    const origin = new URL(deployed.url).origin;
    await openConsole(page, `${origin}/#dev-keys=AKIAPLANTEDKEY000001:planted-secret-access-key`);
    assert.equal(page.url(), `${origin}/`, "the fragment left the address bar");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("edge-revoke.dev-keys")), null);
    assert.equal(await page.inputValue("#access-key-id"), "");
    assert.equal(await page.inputValue("#secret-access-key"), "");
    assert.equal(
      await page.textContent("#admin-keys-source"),
      "The keys in the link were ignored: this Worker is not running in dev mode (make dev).",
    );
    await screenshot(page, "18-dev-keys-ignored-outside-dev-mode");
    await devices.D.context.close();
  } finally {
    await deployed.dispose();
  }
});

test("CORS: an allowed origin uses the gate and GlobalSignOut and reads the answers, a foreign origin is blocked", async () => {
  const res = await fetch(`${dev.origin}/`, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth" },
    body: JSON.stringify({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: CLIENT, AuthParameters: { USERNAME: ALICE[0], PASSWORD: ALICE[1] } }),
  });
  assert.equal(res.status, 200);
  corsPage.token = (await res.json()).AuthenticationResult.AccessToken;

  const page = await newDevice("cors");
  await page.goto(`${allowedSite.origin}/`);
  await page.waitForSelector("body[data-done='true']");
  const allowed = await page.evaluate(() => window.results);
  const me = allowed["GET /api/me"];
  assert.equal(me.ok, true, JSON.stringify(me));
  assert.equal(me.status, 200);
  assert.equal(me.body.username, "alice");
  assert.equal(me.body.token_use, "access");
  assert.match(me.requestId ?? "", REQUEST_ID, "x-amzn-requestid is readable cross-origin");
  const auth = allowed["POST / InitiateAuth"];
  assert.equal(auth.ok, true, JSON.stringify(auth));
  assert.equal(auth.status, 200);
  assert.equal(auth.body.AuthenticationResult.TokenType, "Bearer");
  assert.match(auth.body.AuthenticationResult.AccessToken, /^eyJ/);
  assert.match(auth.requestId ?? "", REQUEST_ID, "x-amzn-requestid is readable cross-origin");
  const signOut = allowed["POST / GlobalSignOut"];
  assert.equal(signOut.ok, true, JSON.stringify(signOut));
  assert.equal(signOut.status, 200);
  assert.deepEqual(signOut.body, {});
  const after = allowed["GET /api/me after the sign-out"];
  assert.equal(after.ok, true, JSON.stringify(after));
  assert.equal(after.status, 401);
  assert.equal(after.errorType, "NotAuthorizedException", "x-amzn-errortype is readable cross-origin");
  assert.deepEqual(after.body, { __type: "NotAuthorizedException", message: "Access Token has been revoked" });
  await screenshot(page, "16-cors-allowed-origin");

  // A fresh session for the foreign page: its sign-out attempt must never reach the Worker.
  const again = await fetch(`${dev.origin}/`, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth" },
    body: JSON.stringify({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: CLIENT, AuthParameters: { USERNAME: ALICE[0], PASSWORD: ALICE[1] } }),
  });
  corsPage.token = (await again.json()).AuthenticationResult.AccessToken;
  await page.goto(`${foreignSite.origin}/`);
  await page.waitForSelector("body[data-done='true']");
  const foreign = await page.evaluate(() => window.results);
  for (const call of ["GET /api/me", "POST / InitiateAuth", "POST / GlobalSignOut", "GET /api/me after the sign-out"]) {
    assert.equal(foreign[call].ok, false, `${call} from a foreign origin must be blocked: ${JSON.stringify(foreign[call])}`);
    assert.match(foreign[call].error, /^TypeError: Failed to fetch/);
  }
  const stillSignedIn = await fetch(`${dev.origin}/api/me`, { headers: { authorization: `Bearer ${corsPage.token}` } });
  assert.equal(stillSignedIn.status, 200, "the foreign page's GlobalSignOut never reached the Worker (its preflight was refused)");
  await screenshot(page, "17-cors-foreign-origin");
});

test("no page threw, and the figures", () => {
  for (const [name, { errors }] of Object.entries(devices)) assert.deepEqual(errors, [], `uncaught errors on ${name}`);
  const wasm = readFileSync(join(ROOT, "www/pkg/edge_revoke_bg.wasm"));
  const gzip = gzipSync(wasm, { level: 9 }).length;
  const ms = (v) => (v === undefined ? "n/a" : `${Math.round(v)} ms`);
  console.log(
    `browser figures: wasm ${wasm.length} B raw, ${gzip} B gzip | page load → decoded token ${ms(figures.navToDecodedMs)} ` +
    `(navigation start → decoded view, in the page; ${ms(figures.wallToDecodedMs)} from goto, by the test; ` +
    `of which the InitiateAuth round trip ${ms(figures.signInMs)}) | wasm init() ${ms(figures.initMs)} ` +
    `(of which fetching the .wasm ${ms(figures.wasmFetchMs)})`,
  );
});
