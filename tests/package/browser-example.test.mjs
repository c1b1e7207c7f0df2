// examples/browser: the packed package's browser build in a plain page (an import map, no
// bundler), served as static files and driven in Debian's Chromium with playwright-core.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { keyFor, accessClaims, sign } from "../worker/support.mjs";
import { launchBrowser, outputDir } from "../browser/support.mjs";
import { example, installPackage, serveStatic, POOL_ID } from "./support.mjs";

const DIR = example("browser");
let key;
let site;
let browser;
let page;
const pageErrors = [];

before(async () => {
  await installPackage(DIR);
  key = await keyFor("RS256");
  const jwks = JSON.stringify({ keys: [key.publicJwk] });
  site = await serveStatic(DIR, { "/jwks.json": () => jwks });
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on("pageerror", (err) => pageErrors.push(err.message));
  await page.goto(`${site.origin}/`);
  await page.locator("#status").filter({ hasText: "ready" }).waitFor({ timeout: 15_000 });
});

after(async () => {
  await browser?.close();
  await site?.close();
});

/** Fills the form, presses Check, answers the verdict shown. */
async function check(token, jwks) {
  await page.evaluate(() => { document.getElementById("verdict").textContent = "—"; });
  await page.fill("#token", token);
  await page.fill("#jwks", jwks);
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.getElementById("verdict").textContent !== "—");
  return page.locator("#verdict").textContent();
}

test("the page loads the browser build and its .wasm from the installed package", () => {
  assert.ok(site.served.includes("/node_modules/edge-revoke/pkg/edge_revoke.js"), site.served.join(" "));
  assert.ok(site.served.includes("/node_modules/edge-revoke/pkg/edge_revoke_bg.wasm"), site.served.join(" "));
});

test("a token signed by the key set's key is shown valid, with its claims decoded", async () => {
  const token = await sign(key, accessClaims(POOL_ID, { username: "alice" }));
  assert.equal(await check(token, JSON.stringify({ keys: [key.publicJwk] })), `valid signature (RS256, key ${key.kid})`);
  const decoded = JSON.parse(await page.locator("#decoded").textContent());
  assert.equal(decoded.payload.username, "alice");
  assert.equal(decoded.header.kid, key.kid);
  await page.screenshot({ path: join(outputDir(), "example-browser-valid.png"), fullPage: true });
});

test("the key set may be given by URL, and is fetched by the page", async () => {
  const token = await sign(key, accessClaims(POOL_ID));
  assert.equal(await check(token, `${site.origin}/jwks.json`), `valid signature (RS256, key ${key.kid})`);
  assert.ok(site.served.includes("/jwks.json"));
});

test("a token whose payload was changed after signing is shown invalid", async () => {
  const [header, , signature] = (await sign(key, accessClaims(POOL_ID, { username: "alice" }))).split(".");
  const forged = Buffer.from(JSON.stringify(accessClaims(POOL_ID, { username: "mallory" }))).toString("base64url");
  const verdict = await check(`${header}.${forged}.${signature}`, JSON.stringify({ keys: [key.publicJwk] }));
  assert.match(verdict, /^invalid signature: \S/);
});

test("a token signed by another key is shown invalid, and what is no token gets the exception's name", async () => {
  const other = await keyFor("RS256");
  const verdict = await check(await sign(other, accessClaims(POOL_ID)), JSON.stringify({ keys: [key.publicJwk] }));
  assert.match(verdict, /^invalid signature: \S/);
  assert.match(await check("not-a-token", JSON.stringify({ keys: [key.publicJwk] })), /^InvalidParameterException: \S/);
});

test("no page error was thrown", () => {
  assert.deepEqual(pageErrors, []);
});
