// `make bench`, the proxy's table: what a call through the Worker to a pool's upstream costs over
// calling the upstream directly. moto's Cognito (tests/clients/moto_upstream.py, from the venv)
// is the upstream; the Worker runs in workerd (Miniflare, local KV); everything over loopback.
// Each round calls moto directly, then the same operation through the Worker, interleaved so
// drift on a shared machine hits both alike. "added" is the difference of the two quantiles.
//
// moto is Python and slow next to Cognito; the added figure is the Worker's share (routing,
// the edge's token check with its KV read, SigV4 verification and re-signing, the outbound
// fetch), which does not depend on how fast the upstream is.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { randomUUID } from "node:crypto";
import {
  CognitoIdentityProviderClient,
  AdminConfirmSignUpCommand,
  ListUsersCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { ROOT, startWorker } from "../tests/worker/support.mjs";
import { quantile } from "./chart.mjs";

const RUNS = Number(process.env.PROXY_BENCH_RUNS ?? 300);
const ADMIN = { accessKeyId: "AKIABENCHPROXY000001", secretAccessKey: "bench-proxy-secret-access-key-01" };

const moto = spawn(`${ROOT}.venv/bin/python`, [`${ROOT}tests/clients/moto_upstream.py`, "1"], { stdio: ["pipe", "pipe", "ignore"] });
const up = await new Promise((resolve, reject) => {
  moto.on("exit", (code) => reject(new Error(`moto exited with ${code}`)));
  createInterface({ input: moto.stdout }).on("line", (line) => {
    if (line.startsWith("READY ")) resolve(JSON.parse(line.slice(6)));
  });
});
const pool = up.pools[0];
const worker = await startWorker({
  POOLS: JSON.stringify([{ id: pool.id, jwks_uri: `${up.url}/${pool.id}/.well-known/jwks.json`, clients: [{ id: pool.client }], upstream: { endpoint: up.url } }]),
  ADMIN_CREDENTIALS: JSON.stringify([{ access_key_id: ADMIN.accessKeyId, secret_access_key: ADMIN.secretAccessKey }]),
  UPSTREAM_CREDENTIALS: JSON.stringify({ access_key_id: up.key_id, secret_access_key: up.secret }),
}, { host: "127.0.0.1", port: 0, onLog: () => {} });
const edge = String(worker.url);

try {
  const sdk = (endpoint, credentials) =>
    new CognitoIdentityProviderClient({ endpoint, region: "us-east-1", maxAttempts: 1, ...(credentials ? { credentials } : {}) });
  const direct = { anon: sdk(up.url), admin: sdk(up.url, { accessKeyId: up.key_id, secretAccessKey: up.secret }) };
  const via = { anon: sdk(edge), admin: sdk(edge, ADMIN) };

  const email = `bench-${randomUUID().slice(0, 8)}@example.com`;
  const password = "Bench-Pass-1!";
  await via.anon.send(new SignUpCommand({ ClientId: pool.client, Username: email, Password: password }));
  await via.admin.send(new AdminConfirmSignUpCommand({ UserPoolId: pool.id, Username: email }));

  // Raw JSON calls, so the client's own cost is the same on both sides.
  const call = async (origin, target, body) => {
    const res = await fetch(new URL("/", origin), {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `AWSCognitoIdentityProviderService.${target}` },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${target} at ${origin}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const signIn = (origin) => call(origin, "InitiateAuth", { AuthFlow: "USER_PASSWORD_AUTH", ClientId: pool.client, AuthParameters: { USERNAME: email, PASSWORD: password } });
  const { AccessToken: access } = (await signIn(edge)).AuthenticationResult;

  const probes = [
    ["GetUser (access token checked at the edge, forwarded)", () => call(up.url, "GetUser", { AccessToken: access }), () => call(edge, "GetUser", { AccessToken: access })],
    ["InitiateAuth (forwarded; refresh token learnt: one KV write)", () => signIn(up.url), () => signIn(edge)],
    ["ListUsers (caller's SigV4 verified, re-signed)", () => direct.admin.send(new ListUsersCommand({ UserPoolId: pool.id, Limit: 1 })), () => via.admin.send(new ListUsersCommand({ UserPoolId: pool.id, Limit: 1 }))],
  ];
  for (const [, a, b] of probes) { await a(); await b(); } // warm both sides
  const rows = [];
  for (const [name, viaMoto, viaEdge] of probes) {
    const samples = [[], []];
    for (let i = 0; i < RUNS; i += 1) {
      for (const [side, fn] of [viaMoto, viaEdge].entries()) {
        const start = performance.now();
        await fn();
        samples[side].push(performance.now() - start);
      }
    }
    const [d, w] = samples.map((s) => [...s].sort((x, y) => x - y));
    rows.push([name, RUNS, quantile(d, 0.5), quantile(d, 0.99), quantile(w, 0.5), quantile(w, 0.99)]);
  }
  const ms = (v) => `${v.toFixed(2)} ms`;
  console.log("\nProxied calls over loopback (moto's Cognito as the upstream):\n");
  console.log("| operation | runs | moto direct p50 | p99 | through the Worker p50 | p99 | added p50 | added p99 |\n|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const [name, n, dp50, dp99, wp50, wp99] of rows) {
    console.log(`| ${name} | ${n} | ${ms(dp50)} | ${ms(dp99)} | ${ms(wp50)} | ${ms(wp99)} | ${ms(wp50 - dp50)} | ${ms(wp99 - dp99)} |`);
  }
} finally {
  await worker.dispose();
  moto.stdin.end();
}
