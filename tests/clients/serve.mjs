// Starts the built Worker (src/entry.js + pkg/) in Miniflare (real workerd) for the real-client
// tests, then prints one line `READY <url>` to stdout. Stops on SIGTERM/SIGINT or when stdin
// closes, so a test runner that dies never leaves a workerd behind.
//
//   node tests/clients/serve.mjs <config.json>
//
// The config file:
//   {
//     "vars": { "POOLS": ..., "ADMIN_CREDENTIALS": ..., "SIGNING_KEYS": ..., ... },
//     "generate_signing_keys": true,          // optional: an RSA-2048 key made here with
//                                             // node:crypto becomes SIGNING_KEYS
//     "ratelimits": { "RATE_LIMITER": { "simple": { "limit": 3, "period": 60 } } }  // optional
//   }
// `vars` are the Worker's bindings as given (JSON-valued settings may be strings or structures;
// the Worker accepts both). `ratelimits` is Miniflare's rate-limit emulation: binding name ->
// { simple: { limit, period: 10 | 60 } } (tests/worker/support.mjs makes it a binding).
// Worker logs go to stderr, so stdout carries only the READY line.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { startWorker, signingKeys } from "../worker/support.mjs";

const path = process.argv[2];
if (!path) {
  console.error("usage: node tests/clients/serve.mjs <config.json>");
  process.exit(2);
}
const config = JSON.parse(readFileSync(path, "utf8"));
const vars = { ...(config.vars ?? {}) };
if (config.generate_signing_keys) vars.SIGNING_KEYS = signingKeys(`test-${randomBytes(4).toString("hex")}`);

// The same Worker set-up as the worker tier (tests/worker/support.mjs), served on a real port.
let worker;
let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  try {
    await worker?.dispose();
  } finally {
    process.exit(code);
  }
}
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => stop(0));
process.stdin.on("end", () => stop(0));
process.stdin.on("close", () => stop(0));
process.stdin.resume();

try {
  worker = await startWorker(vars, {
    host: "127.0.0.1",
    port: 0,
    ...(config.ratelimits ? { ratelimits: config.ratelimits } : {}),
    onLog: ({ message }) => process.stderr.write(`${message}\n`),
  });
  process.stdout.write(`READY ${worker.url.origin}\n`);
} catch (err) {
  console.error(`serve.mjs: the Worker did not start: ${err.stack ?? err}`);
  await stop(1);
}
