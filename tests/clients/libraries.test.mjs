// The browser libraries Cognito apps sign in with, in Node: Amplify v6 (aws-amplify) and
// amazon-cognito-identity-js, unmodified and with their default options, through the whole story
// of tests/apps/story.mjs against the Worker in Miniflare (serve.mjs, as the other client tests).
// Codes are read with AdminGetConfirmationCodes. The app's clock is moved by giving this process
// a Date that runs ahead of real time (the libraries read the time from Date; nothing in them is
// patched); the Worker, in workerd, keeps real time.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { randomBytes } from "node:crypto";
import { story, admin, cognito, APPS } from "../apps/story.mjs";

const SERVE = new URL("./serve.mjs", import.meta.url).pathname;
const POOL = "us-east-1_AppStory1";
const CLIENT = "storyclient";
const ADMIN = { accessKeyId: "AKIAAPPSTORY0000001", secretAccessKey: "app-story-secret-access-key-0001" };

const workdir = mkdtempSync(join(tmpdir(), "edge-revoke-apps-"));
let child;
let endpoint;

// A Date that can run ahead of real time: the app's clock, moved for the expiry refresh.
const RealDate = Date;
let offsetMs = 0;
class AppClock extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offsetMs;
  }
}

before(async () => {
  const config = {
    generate_signing_keys: true,
    vars: {
      POOLS: JSON.stringify([
        { id: POOL, issuer: `https://auth.edge-revoke.test/${POOL}`, local: { password_iterations: 1000 }, clients: [{ id: CLIENT }], token_use: ["access", "id"] },
      ]),
      ADMIN_CREDENTIALS: JSON.stringify([{ access_key_id: ADMIN.accessKeyId, secret_access_key: ADMIN.secretAccessKey }]),
    },
  };
  const path = join(workdir, "config.json");
  writeFileSync(path, JSON.stringify(config));
  child = spawn(process.execPath, [SERVE, path], { stdio: ["pipe", "pipe", "ignore"] });
  const lines = createInterface({ input: child.stdout });
  endpoint = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("serve.mjs: no READY line within 30 s")), 30_000);
    child.on("exit", (code) => reject(new Error(`serve.mjs exited with ${code} before READY`)));
    lines.on("line", (line) => {
      if (!line.startsWith("READY ")) return;
      clearTimeout(timer);
      resolve(line.slice("READY ".length).trim());
    });
  });
});

after(() => {
  globalThis.Date = RealDate;
  child?.kill("SIGTERM");
  rmSync(workdir, { recursive: true, force: true });
});

async function readCode(username, purpose) {
  const out = await admin(endpoint, ADMIN, "AdminGetConfirmationCodes", { UserPoolId: POOL, Username: username });
  assert.equal(out.status, 200, JSON.stringify(out.body));
  const found = out.body.Codes.find((c) => c.Purpose === purpose);
  assert.ok(found, `no ${purpose} code for ${username}: ${JSON.stringify(out.body)}`);
  return found.Code;
}

for (const library of Object.keys(APPS)) {
  test(`${library} in Node lives the whole story with its defaults`, async () => {
    const { createApp } = await import(APPS[library]);
    const app = createApp({ endpoint, userPoolId: POOL, userPoolClientId: CLIENT });
    const username = `node-${library.split("-")[0]}-${randomBytes(3).toString("hex")}`;
    globalThis.Date = AppClock;
    try {
      const seen = await story({
        library,
        run: (step, ...args) => app[step](...args),
        readCode,
        moveClock: async (ms) => {
          offsetMs = ms;
        },
        endpoint,
        username,
        email: `${username}@example.com`,
      });
      assert.equal(seen.refreshes, 2);
    } finally {
      offsetMs = 0;
      globalThis.Date = RealDate;
    }
  });
}

test("a password reset from the app works with each library, and an unknown name is answered alike", async () => {
  for (const library of Object.keys(APPS)) {
    const { createApp } = await import(APPS[library]);
    const app = createApp({ endpoint, userPoolId: POOL, userPoolClientId: CLIENT });
    await app.signOutGlobally(); // whoever the story left signed in (nobody is fine too)
    const username = `reset-${library.split("-")[0]}-${randomBytes(3).toString("hex")}`;
    const created = await admin(endpoint, ADMIN, "AdminCreateUser", {
      UserPoolId: POOL,
      Username: username,
      MessageAction: "SUPPRESS",
      UserAttributes: [{ Name: "email", Value: `${username}@example.com` }, { Name: "email_verified", Value: "true" }],
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    await admin(endpoint, ADMIN, "AdminSetUserPassword", { UserPoolId: POOL, Username: username, Password: "Before-Reset-1", Permanent: true });
    const asked = await app.forgotPassword(username);
    assert.ok(!asked.error, JSON.stringify(asked));
    const nobody = await app.forgotPassword(`nobody-${randomBytes(3).toString("hex")}`);
    assert.ok(!nobody.error, `an unknown name is answered as a known one: ${JSON.stringify(nobody)}`);
    const code = await readCode(username, "FORGOT_PASSWORD");
    const done = await app.confirmForgotPassword(username, code, "After-Reset-1");
    assert.ok(!done.error, JSON.stringify(done));
    assert.ok(!(await app.signIn(username, "After-Reset-1")).error, library);
    const deleted = await app.deleteUser();
    assert.ok(!deleted.error, JSON.stringify(deleted));
    const gone = await cognito(endpoint, "InitiateAuth", { AuthFlow: "USER_PASSWORD_AUTH", ClientId: CLIENT, AuthParameters: { USERNAME: username, PASSWORD: "After-Reset-1" } });
    assert.deepEqual(gone.body, { __type: "NotAuthorizedException", message: "Incorrect username or password." });
  }
});

test("Amplify's choice-based sign-in (USER_AUTH) works with PASSWORD_SRP and PASSWORD", async () => {
  const { createApp } = await import(APPS["aws-amplify"]);
  const app = createApp({ endpoint, userPoolId: POOL, userPoolClientId: CLIENT });
  const username = `userauth-${randomBytes(3).toString("hex")}`;
  await admin(endpoint, ADMIN, "AdminCreateUser", { UserPoolId: POOL, Username: username, MessageAction: "SUPPRESS" });
  await admin(endpoint, ADMIN, "AdminSetUserPassword", { UserPoolId: POOL, Username: username, Password: "User-Auth-1", Permanent: true });
  for (const preferred of ["PASSWORD_SRP", "PASSWORD"]) {
    const signedIn = await app.signInWith(username, "User-Auth-1", "USER_AUTH", preferred);
    assert.deepEqual([signedIn.isSignedIn, signedIn.nextStep?.signInStep], [true, "DONE"], `${preferred}: ${JSON.stringify(signedIn)}`);
    assert.equal((await app.callApi()).status, 200);
    assert.ok(!(await app.signOutGlobally()).error);
  }
});

test("each library's default sign-out revokes its session at the edge (RevokeToken), the other sessions live", async () => {
  for (const library of Object.keys(APPS)) {
    const { createApp } = await import(APPS[library]);
    const app = createApp({ endpoint, userPoolId: POOL, userPoolClientId: CLIENT });
    await app.signOutGlobally(); // whoever an earlier test left signed in
    const username = `signout-${library.split("-")[0]}-${randomBytes(3).toString("hex")}`;
    await admin(endpoint, ADMIN, "AdminCreateUser", { UserPoolId: POOL, Username: username, MessageAction: "SUPPRESS" });
    await admin(endpoint, ADMIN, "AdminSetUserPassword", { UserPoolId: POOL, Username: username, Password: "Sign-Out-1", Permanent: true });
    const elsewhere = await cognito(endpoint, "InitiateAuth", { AuthFlow: "USER_PASSWORD_AUTH", ClientId: CLIENT, AuthParameters: { USERNAME: username, PASSWORD: "Sign-Out-1" } });
    assert.ok(!(await app.signIn(username, "Sign-Out-1")).error, library);
    const { access } = await app.tokens();
    assert.ok(!(await app.signOut()).error, library);
    const gate = await fetch(`${endpoint}/api/me`, { headers: { authorization: `Bearer ${access}` } });
    assert.deepEqual([gate.status, await gate.json()], [401, { __type: "NotAuthorizedException", message: "Access Token has been revoked" }], library);
    const other = await fetch(`${endpoint}/api/me`, { headers: { authorization: `Bearer ${elsewhere.body.AuthenticationResult.AccessToken}` } });
    assert.equal(other.status, 200, `${library}: a session on another device lives`);
  }
});
