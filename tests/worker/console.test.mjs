// What the Worker tells and sends the console, in real workerd with the static assets bound as
// wrangler binds them (the Worker runs first): the console's files carry a Content-Security-Policy,
// and /healthz says dev mode only where DEV_MODE is true (make dev), the one place the console may
// take admin keys from its link.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, keyFor, pool } from "./support.mjs";

const POOL = "us-east-1_Console1";
const CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
// As wrangler.toml binds them: www/ as ASSETS, with the Worker in front of every request.
const ASSETS = { assets: { directory: "www", binding: "ASSETS" } };
let key, worker;

before(async () => {
  key = await keyFor("RS256");
  worker = await startWorker({ POOLS: JSON.stringify([pool(POOL, [key])]) }, ASSETS);
});
after(() => worker?.dispose());

test("the console's files are served with a Content-Security-Policy, nosniff and no referrer", async () => {
  for (const [path, type] of [["/", /^text\/html/], ["/console.js", /javascript/], ["/pkg/edge_revoke.js", /javascript/], ["/console.css", /^text\/css/]]) {
    const res = await worker.fetch(path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get("content-type"), type, path);
    assert.equal(res.headers.get("content-security-policy"), CSP, path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer", path);
    await res.arrayBuffer();
  }
  // The page itself has no inline script or style for the policy to break.
  const html = await (await worker.fetch("/")).text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
});

test("healthz says dev mode only where DEV_MODE is true", async () => {
  const plain = await (await worker.fetch("/healthz")).json();
  assert.equal(plain.status, "ok");
  assert.equal("dev_mode" in plain, false);
  const dev = await startWorker({ POOLS: JSON.stringify([pool(POOL, [key])]), DEV_MODE: "true" }, ASSETS);
  try {
    assert.equal((await (await dev.fetch("/healthz")).json()).dev_mode, true);
  } finally {
    await dev.dispose();
  }
  const off = await startWorker({ POOLS: JSON.stringify([pool(POOL, [key])]), DEV_MODE: "false" }, ASSETS);
  try {
    assert.equal("dev_mode" in (await (await off.fetch("/healthz")).json()), false);
  } finally {
    await off.dispose();
  }
});
