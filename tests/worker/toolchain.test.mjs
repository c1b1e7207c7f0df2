// The tool chain every tier runs on is the one package.json pins: Node 22 from the npm registry
// (the `node` package, first on make's PATH), and one workerd shared by wrangler and Miniflare, so
// what the tests run is what `make dev` and `wrangler deploy` run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { ROOT, COMPATIBILITY_DATE } from "./support.mjs";

const require = createRequire(`${ROOT}package.json`);
const pinned = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")).devDependencies;
const installed = (name) => require(`${name}/package.json`).version;

test("the tests run on the pinned Node 22 from node_modules, not the machine's", () => {
  assert.match(pinned.node, /^22\.\d+\.\d+$/, "package.json pins an exact Node 22");
  assert.equal(process.version, `v${pinned.node}`);
  assert.equal(realpathSync(process.execPath), realpathSync(`${ROOT}node_modules/node/bin/node`));
});

test("wrangler, Miniflare, the AWS SDK and playwright-core are the pinned releases", () => {
  for (const name of ["wrangler", "miniflare", "@aws-sdk/client-cognito-identity-provider", "playwright-core", "jose", "typescript"]) {
    assert.match(pinned[name], /^\d+\.\d+\.\d+(-[\w.]+)?$/, `${name} is pinned exactly`);
    assert.equal(installed(name), pinned[name], name);
  }
  const wrangler = require("wrangler/package.json");
  assert.ok(process.versions.node.localeCompare(wrangler.engines.node.replace(/^>=/, ""), undefined, { numeric: true }) >= 0,
    `Node ${process.versions.node} satisfies wrangler's ${wrangler.engines.node}`);
});

test("wrangler and the tests share one Miniflare and one workerd, which supports wrangler.toml's date", () => {
  const wrangler = require("wrangler/package.json");
  assert.equal(wrangler.dependencies.miniflare, pinned.miniflare, "the tests' Miniflare is wrangler's own");
  const workerd = require("workerd/package.json").version;
  assert.equal(wrangler.dependencies.workerd, workerd);
  assert.equal(createRequire(require.resolve("miniflare"))("workerd/package.json").version, workerd);
  const supported = require("workerd").compatibilityDate;
  assert.match(COMPATIBILITY_DATE, /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(COMPATIBILITY_DATE <= supported, `${COMPATIBILITY_DATE} is not after workerd's ${supported}`);
});
