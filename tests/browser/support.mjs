// Browser-tier support: the Worker as `make dev` runs it (scripts/dev.mjs → wrangler dev, local KV,
// demo pool and users), Debian's Chromium driven by playwright-core, and tiny page servers on other
// origins for the CORS checks.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { chromium } from "playwright-core";
import { logSink } from "../worker/support.mjs";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const OUTPUT = join(ROOT, "tests/output/browser");
export const CHROMIUM = "/usr/bin/chromium";

/** A TCP port nobody listens on right now. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `node scripts/dev.mjs` (what `make dev` runs after building) on a free port, with a fresh
 * state directory and `extraOrigins` allowed for CORS. Resolves once the banner is printed, with
 * the Worker's origin, the console URL carrying the dev keys, and the keys themselves.
 *
 * wrangler.toml's `[build]` makes `wrangler dev` run `make build`. Like the workerd tier, this tier
 * tests the package already in pkg/ and www/pkg/ (`make test` builds first), so that nested make
 * only prints what it would do (MAKEFLAGS=n) and never starts cargo under a running test.
 */
export async function startDev({ extraOrigins = [] } = {}) {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), "edge-revoke-browser-"));
  const child = spawn(process.execPath, ["scripts/dev.mjs"], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DEV_STATE_DIR: stateDir,
      DEV_EXTRA_ORIGINS: extraOrigins.join(","),
      MAKEFLAGS: "n",
      NO_COLOR: "1",
      FORCE_COLOR: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  // The Worker runs in its own process group; never leave it behind, whatever ends this process.
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const onExit = () => killGroup("SIGKILL");
  const onSignal = (signal) => {
    killGroup("SIGKILL");
    process.exit(128 + (signal === "SIGINT" ? 2 : 15));
  };
  process.once("exit", onExit);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const banner = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner from scripts/dev.mjs within 90 s:\n${log}`)), 90_000);
    const onData = (chunk) => {
      log += chunk;
      const url = log.match(/console \(with the dev admin keys\): (\S+)/);
      if (log.includes("edge-revoke is running at") && url) {
        clearTimeout(timer);
        resolve(url[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`scripts/dev.mjs exited (${code ?? signal}) before its banner:\n${log}`));
    });
  }).catch((err) => {
    killGroup("SIGKILL");
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  });
  const consoleUrl = new URL(banner);
  const keys = consoleUrl.hash.match(/^#dev-keys=([^:]+):(.+)$/);
  if (!keys) {
    killGroup("SIGKILL");
    throw new Error(`the console URL has no #dev-keys=<id>:<secret> fragment: ${banner}`);
  }
  return {
    origin: consoleUrl.origin,
    consoleUrl: banner,
    accessKeyId: keys[1],
    secretAccessKey: keys[2],
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup("SIGTERM");
        const timer = setTimeout(() => killGroup("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      // wrangler may outlive dev.mjs for a moment: take the rest of the group too.
      killGroup("SIGKILL");
      logSink(`browser-dev-${basename(process.argv[1] ?? "node", ".test.mjs")}`)(workerLinesOfDev(log));
      process.off("exit", onExit);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with nothing phoning home. */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
  // Every page's console goes to the log sink too (tests/output/logs/), checked by `make test`.
  const sink = logSink(`browser-pages-${basename(process.argv[1] ?? "node", ".test.mjs")}`);
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => {
    const context = await newContext(...args);
    context.on("console", (message) => sink(`page ${message.type()} ${message.text()}`));
    return context;
  };
  return browser;
}

/**
 * The Worker's lines in scripts/dev.mjs's output, for the log sink: everything but the banner,
 * which is the launcher's own (it prints the dev keys and demo passwords, on purpose, to the
 * developer), not the Worker's.
 */
export function workerLinesOfDev(text) {
  return text.replace(/\n {2}edge-revoke is running at [\s\S]*?--user-pool-id [^\n]*\n/, "\n");
}

/** An HTTP server on a free port answering every GET with `html()`. */
export async function startPageServer(html) {
  const server = http.createServer((req, res) => {
    if (req.url === "/favicon.ico") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(html());
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** The directory for screenshots, created on first use. */
export function outputDir() {
  mkdirSync(OUTPUT, { recursive: true });
  return OUTPUT;
}
