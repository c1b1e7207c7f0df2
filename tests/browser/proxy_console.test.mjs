// The console with a proxied pool (a pool with `upstream`), in Debian's Chromium: sign in through
// the Worker to moto's Cognito, see the tokens decoded and signature-checked, sign out of all
// devices, and see both sides refuse: the edge the access token, Cognito the refresh token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { randomUUID } from "node:crypto";
import {
  CognitoIdentityProviderClient, AdminConfirmSignUpCommand, SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { ROOT, launchBrowser, outputDir } from "./support.mjs";
import { startWorker } from "../worker/support.mjs";

const ADMIN = { accessKeyId: "AKIABROWSERPROXY0001", secretAccessKey: "browser-proxy-secret-access-key1" };
let moto, up, worker, browser, out;

before(async () => {
  out = outputDir();
  moto = spawn(join(ROOT, ".venv/bin/python"), [join(ROOT, "tests/clients/moto_upstream.py"), "1"], { stdio: ["pipe", "pipe", "ignore"] });
  up = await new Promise((resolve, reject) => {
    moto.on("exit", (code) => reject(new Error(`moto exited with ${code}`)));
    createInterface({ input: moto.stdout }).on("line", (line) => {
      if (line.startsWith("READY ")) resolve(JSON.parse(line.slice(6)));
    });
  });
  const pool = up.pools[0];
  worker = await startWorker({
    POOLS: JSON.stringify([{ id: pool.id, jwks_uri: `${up.url}/${pool.id}/.well-known/jwks.json`, clients: [{ id: pool.client }], token_use: ["access", "id"], upstream: { endpoint: up.url } }]),
    ADMIN_CREDENTIALS: JSON.stringify([{ access_key_id: ADMIN.accessKeyId, secret_access_key: ADMIN.secretAccessKey }]),
    UPSTREAM_CREDENTIALS: JSON.stringify({ access_key_id: up.key_id, secret_access_key: up.secret }),
  }, { assets: { directory: "www", binding: "ASSETS", routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true } } });
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await worker?.dispose();
  moto?.stdin.end();
});

async function outcome(page, region) {
  await page.waitForSelector(`#${region} .outcome`);
  return page.$eval(`#${region} .outcome`, (box) => ({
    ok: box.classList.contains("ok"),
    title: box.querySelector(".title-text")?.textContent.trim(),
    type: box.querySelector(".error-type")?.textContent.trim(),
    message: box.querySelector(".error-message")?.textContent.trim(),
  }));
}

test("a proxied pool signs in, shows its tokens, and after a sign-out both sides refuse the session", async () => {
  const pool = up.pools[0];
  const origin = new URL(worker.url).origin;
  const email = `console-${randomUUID().slice(0, 8)}@example.com`;
  const password = `Pw-${randomUUID().slice(0, 8)}-Aa1!`;
  const sdk = (credentials) => new CognitoIdentityProviderClient({ endpoint: origin, region: "us-east-1", maxAttempts: 1, ...(credentials ? { credentials } : {}) });
  await sdk().send(new SignUpCommand({ ClientId: pool.client, Username: email, Password: password }));
  await sdk(ADMIN).send(new AdminConfirmSignUpCommand({ UserPoolId: pool.id, Username: email }));

  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(`${origin}/`);
  await page.waitForSelector("html[data-ready='true']");
  await page.fill("#pool-id", pool.id);
  await page.fill("#client-id", pool.client);
  await page.fill("#username", email);
  await page.fill("#password", password);
  await page.click("#signin-button");
  const signedIn = await outcome(page, "signin-result");
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn));

  // moto's tokens, checked against the pool's keys the Worker serves (moto's key id is "dummy").
  await page.waitForSelector("[data-token=access] .sig:not(.pending)");
  const signature = await page.textContent("[data-token=access] .fact-signature");
  assert.match(signature.trim(), /^✓ valid \(RS256, key dummy\)$/);
  assert.match(await page.textContent("[data-token=refresh]"), /issued by the pool's upstream \(Cognito\)/);
  await page.click("#call-api");
  assert.equal((await outcome(page, "api-result")).ok, true);
  await page.screenshot({ path: join(out, "proxy-01-signed-in.png"), fullPage: true });

  await page.click("#global-sign-out");
  assert.equal((await outcome(page, "signout-result")).title, "Signed out of all devices");
  // The edge refuses the access token …
  await page.click("#call-api");
  const api = await outcome(page, "api-result");
  assert.deepEqual([api.ok, api.type, api.message], [false, "NotAuthorizedException", "Access Token has been revoked"]);
  // … and Cognito (moto) the refresh token, through the Worker.
  await page.click("#refresh-tokens");
  const refreshed = await outcome(page, "refresh-result");
  assert.deepEqual([refreshed.ok, refreshed.type, refreshed.message], [false, "NotAuthorizedException", "Refresh Token has been revoked"]);
  await page.screenshot({ path: join(out, "proxy-02-both-sides-refuse.png"), fullPage: true });
  assert.deepEqual(errors, []);
});
