// Package-tier support: the packed tarball (`make package`) installed into the projects under
// examples/ as a Workers developer would, type-checked against `wrangler types`, bundled by
// `wrangler deploy --dry-run` and run by `wrangler dev` (real workerd, local KV).
import { spawn } from "node:child_process";
import net from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const VERSION = readFileSync(`${ROOT}Cargo.toml`, "utf8").match(/^version = "([^"]+)"/m)[1];
export const TARBALL = `${ROOT}target/npm/edge-revoke-${VERSION}.tgz`;
export const example = (name) => `${ROOT}examples/${name}/`;

// The examples' own pool and app client (their wrangler.toml); the tests keep them and give the
// pool an inline key set, so tokens signed here by jose verify with no network.
export const POOL_ID = "us-east-1_AbC123";
export const CLIENT_ID = "1example23456789";

/** Runs a command; resolves with its output, rejects with it on a non-zero exit. */
export function run(command, args, { cwd = ROOT, env = {}, allowFailure = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => { stdout += c; });
    child.stderr.on("data", (c) => { stderr += c; });
    child.on("error", reject);
    child.on("close", (code) => {
      const out = { code, stdout, stderr };
      if (code === 0 || allowFailure) resolve(out);
      else reject(new Error(`${command} ${args.join(" ")} (in ${cwd}) exited ${code}:\n${stdout}\n${stderr}`));
    });
  });
}

/** `npm install <tarball>` into an example, as a user would (wrangler and tsc come from the repo). */
export async function installPackage(dir) {
  await run("npm", ["install", "--no-save", "--no-package-lock", "--omit=dev", "--prefer-offline",
    "--no-audit", "--no-fund", TARBALL], { cwd: dir });
}

/** `wrangler types` then `tsc`, in the example; resolves with tsc's result (code and output). */
export async function typeCheck(dir) {
  await run("wrangler", ["types"], { cwd: dir });
  return run("tsc", ["-p", "."], { cwd: dir, allowFailure: true });
}

/** `wrangler deploy --dry-run`: the bundle wrangler would upload, and its reported size. */
export async function bundle(dir) {
  const outdir = join(dir, ".wrangler/dry-run");
  rmSync(outdir, { recursive: true, force: true });
  const { stdout } = await run("wrangler", ["deploy", "--dry-run", "--outdir", outdir], { cwd: dir });
  return { outdir, upload: stdout.match(/Total Upload: ([^\n]+)/)?.[1] };
}

/** A TCP port nobody listens on right now (the OS picks it). */
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `wrangler dev` in the example on a port the OS picks, with local KV in a fresh directory and
 * `vars` overriding wrangler.toml's (`--var`). `kv` entries are written into the local
 * REVOCATIONS namespace first, with `wrangler kv key put --local`, as an operator would.
 * Resolves once wrangler says it is ready.
 *
 * With `routes` in wrangler.toml, wrangler dev hands the Worker requests addressed to the route's
 * host; `--local-upstream` keeps them addressed to the local server instead, so SigV4 signatures
 * made for the URL the test calls still match.
 */
export async function wranglerDev(dir, vars = {}, { kv = {} } = {}) {
  const state = mkdtempSync(join(tmpdir(), "edge-revoke-example-"));
  const port = await freePort();
  for (const [key, value] of Object.entries(kv)) {
    await run("wrangler", ["kv", "key", "put", "--local", "--persist-to", state, "--binding", "REVOCATIONS", key, value], { cwd: dir });
  }
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--local-upstream", `127.0.0.1:${port}`,
    "--persist-to", state, "--show-interactive-dev-session=false"];
  for (const [name, value] of Object.entries(vars)) {
    args.push("--var", `${name}:${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  // wrangler, esbuild and workerd share one process group, stopped together.
  const child = spawn("wrangler", args, {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const onExit = () => killGroup("SIGKILL");
  process.once("exit", onExit);
  let log = "";
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev not ready within 60 s:\n${log}`)), 60_000);
    const onData = (chunk) => {
      log += chunk;
      const ready = log.match(/Ready on (http:\/\/127\.0\.0\.1:\d+)/);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`wrangler dev exited (${code}) before it was ready:\n${log}`));
    });
  }).catch((err) => {
    killGroup("SIGKILL");
    rmSync(state, { recursive: true, force: true });
    throw err;
  });
  return {
    url,
    state,
    log: () => log,
    fetch: (path, init) => fetch(new URL(path, url), init),
    async stop() {
      killGroup("SIGTERM");
      const timer = setTimeout(() => killGroup("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      killGroup("SIGKILL");
      process.off("exit", onExit);
      rmSync(state, { recursive: true, force: true });
    },
  };
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

/**
 * A plain static file server for `dir` on a port the OS picks (what `python3 -m http.server`
 * would do for the browser example), plus `extra` in-memory routes. Records every path served.
 */
export async function serveStatic(dir, extra = {}) {
  const { createServer } = await import("node:http");
  const { readFile } = await import("node:fs/promises");
  const { extname, normalize } = await import("node:path");
  const served = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    served.push(path);
    if (extra[path]) {
      res.writeHead(200, { "content-type": "application/json" }).end(extra[path]());
      return;
    }
    const file = normalize(join(dir, path === "/" ? "index.html" : path));
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    served,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
