// The AWS SDK for JavaScript v3, unmodified, pointed at the Worker in front of moto's Cognito
// (a pool with `upstream`): sign-up, sign-in, refresh, sign-out, and after the sign-out nothing
// of the session works on either side. moto runs from the project's venv
// (tests/clients/moto_upstream.py), the Worker through serve.mjs, each on a port of its own.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { randomUUID } from "node:crypto";
import {
  CognitoIdentityProviderClient,
  AdminConfirmSignUpCommand,
  GetUserCommand,
  GlobalSignOutCommand,
  InitiateAuthCommand,
  NotAuthorizedException,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";

const ROOT = new URL("../../", import.meta.url).pathname;
const SERVE = new URL("./serve.mjs", import.meta.url).pathname;
const MOTO = new URL("./moto_upstream.py", import.meta.url).pathname;
const REGION = "us-east-1";
const ADMIN = { accessKeyId: "AKIASDKPROXY00000001", secretAccessKey: "sdk-proxy-secret-access-key-0001" };

const workdir = mkdtempSync(join(tmpdir(), "edge-revoke-sdk-proxy-"));
const children = [];

/** Spawns `command`; resolves to what follows `READY ` on its first such stdout line. */
function ready(name, command, args) {
  const child = spawn(command, args, { cwd: ROOT, stdio: ["pipe", "pipe", "ignore"] });
  children.push(child);
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no READY line within 60 s`)), 60_000);
    child.on("exit", (code) => reject(new Error(`${name} exited with ${code} before READY`)));
    lines.on("line", (line) => {
      if (!line.startsWith("READY ")) return;
      clearTimeout(timer);
      resolve(line.slice("READY ".length).trim());
    });
  });
}

const client = (endpoint, credentials) =>
  new CognitoIdentityProviderClient({ endpoint, region: REGION, maxAttempts: 1, ...(credentials ? { credentials } : {}) });

let url, moto, pool, anon, admin, direct;

before(async () => {
  moto = JSON.parse(await ready("moto", join(ROOT, ".venv/bin/python"), [MOTO, "1"]));
  pool = moto.pools[0];
  const config = {
    vars: {
      POOLS: JSON.stringify([{
        id: pool.id, jwks_uri: `${moto.url}/${pool.id}/.well-known/jwks.json`, clients: [{ id: pool.client }],
        token_use: ["access", "id"], upstream: { endpoint: moto.url },
      }]),
      ADMIN_CREDENTIALS: JSON.stringify([{ access_key_id: ADMIN.accessKeyId, secret_access_key: ADMIN.secretAccessKey }]),
      UPSTREAM_CREDENTIALS: JSON.stringify({ access_key_id: moto.key_id, secret_access_key: moto.secret }),
    },
  };
  const path = join(workdir, "proxy.json");
  writeFileSync(path, JSON.stringify(config));
  url = await ready("worker", process.execPath, [SERVE, path]);
  anon = client(url);
  admin = client(url, ADMIN);
  direct = client(moto.url);
});

after(async () => {
  for (const child of children) {
    child.stdin.end(); // both stop when stdin closes
    if (child.exitCode === null) await new Promise((r) => { child.once("exit", r); setTimeout(() => { child.kill("SIGKILL"); r(); }, 10_000).unref(); });
  }
  rmSync(workdir, { recursive: true, force: true });
});

const signIn = (via, user) =>
  via.send(new InitiateAuthCommand({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: pool.client, AuthParameters: { USERNAME: user.email, PASSWORD: user.password } }));
const refresh = (via, token) =>
  via.send(new InitiateAuthCommand({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: pool.client, AuthParameters: { REFRESH_TOKEN: token } }));

async function rejectsWith(promise, message) {
  const err = await promise.then(() => assert.fail(`expected ${message}`), (e) => e);
  assert.ok(err instanceof NotAuthorizedException, `${err.name}: ${err.message}`);
  assert.equal(err.message, message);
  assert.equal(err.$metadata.httpStatusCode, 400);
}

test("the SDK signs up, signs in, refreshes and signs out through the Worker, and then nothing of the session works on either side", async () => {
  const user = { email: `sdk-${randomUUID().slice(0, 8)}@example.com`, password: `Pw-${randomUUID().slice(0, 8)}-Aa1!` };
  await anon.send(new SignUpCommand({ ClientId: pool.client, Username: user.email, Password: user.password, UserAttributes: [{ Name: "email", Value: user.email }] }));
  await admin.send(new AdminConfirmSignUpCommand({ UserPoolId: pool.id, Username: user.email }));
  const tokens = (await signIn(anon, user)).AuthenticationResult;
  const refreshed = (await refresh(anon, tokens.RefreshToken)).AuthenticationResult;
  const me = await anon.send(new GetUserCommand({ AccessToken: refreshed.AccessToken }));
  assert.ok(me.UserAttributes.some((a) => a.Name === "email" && a.Value === user.email));

  const out = await anon.send(new GlobalSignOutCommand({ AccessToken: tokens.AccessToken }));
  assert.equal(out.$metadata.httpStatusCode, 200);

  // Cognito (moto) refuses the refresh token, through the Worker and directly …
  await rejectsWith(refresh(anon, tokens.RefreshToken), "Refresh Token has been revoked");
  await rejectsWith(refresh(direct, tokens.RefreshToken), "Refresh Token has been revoked");
  // … and the edge refuses every access token of the session, with Cognito's words.
  for (const token of [tokens.AccessToken, refreshed.AccessToken]) {
    await rejectsWith(anon.send(new GetUserCommand({ AccessToken: token })), "Access Token has been revoked");
    const gate = await fetch(new URL("/api/me", url), { headers: { authorization: `Bearer ${token}` } });
    assert.equal(gate.status, 401);
  }
  const idGate = await fetch(new URL("/api/me", url), { headers: { authorization: `Bearer ${tokens.IdToken}` } });
  assert.deepEqual(await idGate.json(), { __type: "NotAuthorizedException", message: "ID Token has been revoked" });

  // Tokens carry whole seconds: a sign-in in the sign-out's second is covered by it.
  await new Promise((r) => setTimeout(r, 1050 - (Date.now() % 1000)));
  const again = (await signIn(anon, user)).AuthenticationResult;
  assert.ok((await anon.send(new GetUserCommand({ AccessToken: again.AccessToken }))).Username);
});
