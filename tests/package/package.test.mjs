// The npm package `edge-revoke` as `make package` packs it: exactly the files it lists, the build's
// bytes, one version with the crate, exports that resolve, and a publish that would pass.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT, TARBALL, VERSION, example, installPackage, run } from "./support.mjs";

const manifest = JSON.parse(readFileSync(`${ROOT}npm/package.json`, "utf8"));
let unpacked;

before(async () => {
  unpacked = mkdtempSync(join(tmpdir(), "edge-revoke-tarball-"));
  await run("tar", ["-xzf", TARBALL, "-C", unpacked]);
  await installPackage(example("worker"));
});

after(() => rmSync(unpacked, { recursive: true, force: true }));

test("the tarball holds exactly the files package.json lists, and package.json", async () => {
  const { stdout } = await run("tar", ["-tzf", TARBALL]);
  const shipped = stdout.trim().split("\n").map((p) => p.replace(/^package\//, "")).sort();
  assert.deepEqual(shipped, [...manifest.files, "package.json"].sort());
  // Nothing heavy rides along: the packed package is the compressed .wasm plus a few small files.
  const size = statSync(TARBALL).size;
  const wasm = gzipSync(readFileSync(`${ROOT}pkg/edge_revoke_bg.wasm`), { level: 9 }).length;
  assert.ok(size < wasm + 64_000, `packed size ${size} B, the .wasm alone ${wasm} B gzipped`);
  console.log(`# packed ${size} B, ${shipped.length} files`);
});

test("what ships is the repository's entry and the build's wasm package, byte for byte", () => {
  for (const file of manifest.files.filter((f) => f.startsWith("src/") || f.startsWith("pkg/"))) {
    assert.deepEqual(readFileSync(join(unpacked, "package", file)), readFileSync(`${ROOT}${file}`), file);
  }
  assert.deepEqual(readFileSync(join(unpacked, "package/LICENSE")), readFileSync(`${ROOT}LICENSE`));
  assert.match(readFileSync(`${ROOT}LICENSE`, "utf8"), /Apache License\s+Version 2\.0, January 2004/);
});

test("the package, the crate and the changelog carry one version, under the crate's licence", () => {
  const cargo = readFileSync(`${ROOT}Cargo.toml`, "utf8");
  assert.equal(manifest.version, VERSION);
  assert.equal(manifest.license, cargo.match(/^license = "([^"]+)"/m)[1]);
  assert.equal(manifest.name, "edge-revoke");
  assert.equal(manifest.private, undefined, "publishable");
  assert.match(readFileSync(`${ROOT}CHANGELOG.md`, "utf8"), new RegExp(`^## ${VERSION.replaceAll(".", "\\.")}\\b`, "m"));
});

test("npm publish --dry-run passes, offline", async () => {
  // The dry run packs and validates the manifest; --offline proves it needs no registry.
  const { stdout, stderr } = await run("npm", ["publish", "--dry-run", "--offline", "--json"], { cwd: `${ROOT}target/npm/edge-revoke` });
  const report = JSON.parse(stdout);
  const result = report["edge-revoke"] ?? report;
  assert.equal(result.name, "edge-revoke");
  assert.equal(result.version, VERSION);
  assert.equal(result.entryCount, manifest.files.length + 1);
  assert.doesNotMatch(stderr, /npm error/);
});

test("the exports resolve from a project that installed the tarball, and nothing else does", () => {
  const installed = `${example("worker")}node_modules/edge-revoke/`;
  const { resolve } = createRequire(`${example("worker")}package.json`);
  assert.equal(resolve("edge-revoke"), `${installed}src/entry.js`);
  assert.equal(resolve("edge-revoke/browser"), `${installed}pkg/edge_revoke.js`);
  assert.equal(resolve("edge-revoke/edge_revoke_bg.wasm"), `${installed}pkg/edge_revoke_bg.wasm`);
  assert.equal(resolve("edge-revoke/package.json"), `${installed}package.json`);
  assert.throws(() => resolve("edge-revoke/src/guard.js"), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" });
  const { exports } = manifest;
  assert.equal(manifest.types, exports["."].types);
  for (const types of [exports["."].types, exports["./browser"].types]) {
    assert.ok(statSync(join(installed, types)).isFile(), types);
  }
});

test("the browser export works in plain JavaScript: initialised from the shipped .wasm, it decodes a token", async () => {
  const installed = `${example("worker")}node_modules/edge-revoke/`;
  const browser = await import(`${installed}pkg/edge_revoke.js`);
  browser.initSync({ module: readFileSync(`${installed}pkg/edge_revoke_bg.wasm`) });
  const token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJhbGljZSJ9.c2ln";
  assert.deepEqual(browser.decodeToken(token).payload, { sub: "alice" });
  assert.throws(() => browser.decodeToken("a.b"), (e) => e.name === "InvalidParameterException");
});
