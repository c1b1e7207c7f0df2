// The AWS SDK for JavaScript v3 (@aws-sdk/client-cognito-identity-provider), unmodified, against
// the Worker's Cognito endpoint: the sign-out story, with the SDK's exception classes, names,
// messages and statuses asserted exactly. The Worker runs in Miniflare through serve.mjs (the
// launcher the boto3 tier uses); its SIGNING_KEYS are generated there (`generate_signing_keys`).
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
  CognitoIdentityProviderServiceException,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  AdminUserGlobalSignOutCommand,
  GetUserCommand,
  GlobalSignOutCommand,
  InitiateAuthCommand,
  RevokeTokenCommand,
  NotAuthorizedException,
  UserNotFoundException,
  ResourceNotFoundException,
  InvalidParameterException,
  TooManyRequestsException,
} from "@aws-sdk/client-cognito-identity-provider";

const SERVE = new URL("./serve.mjs", import.meta.url).pathname;
const REGION = "us-east-1";
const POOL = "us-east-1_SdkTier1";
const CLIENT = "sdkclient";
const ADMIN = { accessKeyId: "AKIASDKTIER000000001", secretAccessKey: "sdk-tier-secret-access-key-0001" };
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RATE_LIMIT = 2;

const workdir = mkdtempSync(join(tmpdir(), "edge-revoke-sdk-"));
const children = [];

/** Starts serve.mjs with `config`; resolves to the Worker's URL once it prints READY. */
async function serve(name, config) {
  const path = join(workdir, `${name}.json`);
  writeFileSync(path, JSON.stringify(config));
  const child = spawn(process.execPath, [SERVE, path], { stdio: ["pipe", "pipe", "ignore"] });
  children.push(child);
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no READY line within 30 s`)), 30_000);
    child.on("exit", (code) => reject(new Error(`${name}: serve.mjs exited with ${code} before READY`)));
    lines.on("line", (line) => {
      if (!line.startsWith("READY ")) return;
      clearTimeout(timer);
      resolve(line.slice("READY ".length).trim());
    });
  });
}

function workerConfig(extra = {}) {
  return {
    generate_signing_keys: true,
    vars: {
      POOLS: JSON.stringify([{ id: POOL, issuer: `https://auth.edge-revoke.test/${POOL}`, local: { password_iterations: 1000 }, clients: [{ id: CLIENT }] }]),
      ADMIN_CREDENTIALS: JSON.stringify([{ access_key_id: ADMIN.accessKeyId, secret_access_key: ADMIN.secretAccessKey }]),
      REVOCATION_CACHE_TTL_S: "2",
    },
    ...extra,
  };
}

// maxAttempts 1: the SDK retries throttling and 5xx; every assertion is about the first answer.
const client = (endpoint, credentials) =>
  new CognitoIdentityProviderClient({ endpoint, region: REGION, maxAttempts: 1, ...(credentials ? { credentials } : {}) });

let url, admin, anon, throttledUrl;

before(async () => {
  [url, throttledUrl] = await Promise.all([
    serve("main", workerConfig()),
    // Miniflare's rate-limit emulation (RatelimitOptionsSchema): binding -> { simple: { limit, period } }.
    serve("throttled", workerConfig({ ratelimits: { RATE_LIMITER: { simple: { limit: RATE_LIMIT, period: 60 } } } })),
  ]);
  admin = client(url, ADMIN);
  anon = client(url); // no credentials: the token operations are noAuth and go unsigned
});

after(async () => {
  for (const child of children) {
    child.stdin.end(); // serve.mjs stops when stdin closes
    if (child.exitCode === null) await new Promise((r) => { child.once("exit", r); setTimeout(() => { child.kill("SIGKILL"); r(); }, 10_000).unref(); });
  }
  rmSync(workdir, { recursive: true, force: true });
});

async function newUser() {
  const user = { username: `sdk-${randomUUID().slice(0, 8)}`, password: `Pw-${randomUUID().slice(0, 8)}-Aa1!` };
  await admin.send(new AdminCreateUserCommand({ UserPoolId: POOL, Username: user.username, MessageAction: "SUPPRESS", TemporaryPassword: "Temp-Pass-1!" }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: POOL, Username: user.username, Password: user.password, Permanent: true }));
  return user;
}

async function signIn(user) {
  const out = await anon.send(new InitiateAuthCommand({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: CLIENT, AuthParameters: { USERNAME: user.username, PASSWORD: user.password } }));
  return out.AuthenticationResult;
}

const refresh = (refreshToken) =>
  anon.send(new InitiateAuthCommand({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: CLIENT, AuthParameters: { REFRESH_TOKEN: refreshToken } }));

/** `promise` rejects with an instance of `type`, named `name`, with this message and status. */
async function rejectsWith(promise, type, name, message, status = 400) {
  const err = await promise.then(
    () => assert.fail(`expected ${name}`),
    (e) => e,
  );
  assert.ok(err instanceof type, `${err.name} is not a ${type.name}`);
  assert.ok(err instanceof CognitoIdentityProviderServiceException);
  assert.equal(err.name, name);
  assert.equal(err.message, message);
  assert.equal(err.$fault, status >= 500 ? "server" : "client");
  assert.equal(err.$metadata.httpStatusCode, status);
  assert.match(err.$metadata.requestId, REQUEST_ID);
  return err;
}

test("admin sign-out revokes the access token and the refresh token, and a new sign-in works", async () => {
  const user = await newUser();
  const tokens = await signIn(user);
  const refreshed = (await refresh(tokens.RefreshToken)).AuthenticationResult;
  assert.equal((await anon.send(new GetUserCommand({ AccessToken: refreshed.AccessToken }))).Username, user.username);

  const out = await admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: POOL, Username: user.username }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.deepEqual(Object.keys(out), ["$metadata"]);

  for (const token of [tokens.AccessToken, refreshed.AccessToken]) {
    await rejectsWith(anon.send(new GetUserCommand({ AccessToken: token })), NotAuthorizedException, "NotAuthorizedException", "Access Token has been revoked");
  }
  await rejectsWith(anon.send(new GlobalSignOutCommand({ AccessToken: tokens.AccessToken })), NotAuthorizedException, "NotAuthorizedException", "Access Token has been revoked");
  await rejectsWith(refresh(tokens.RefreshToken), NotAuthorizedException, "NotAuthorizedException", "Refresh Token has been revoked");

  const again = await signIn(user);
  assert.equal((await anon.send(new GetUserCommand({ AccessToken: again.AccessToken }))).Username, user.username);
});

test("RevokeToken ends one session and leaves the other", async () => {
  const user = await newUser();
  const [first, second] = [await signIn(user), await signIn(user)];
  await anon.send(new RevokeTokenCommand({ Token: first.RefreshToken, ClientId: CLIENT }));
  await rejectsWith(anon.send(new GetUserCommand({ AccessToken: first.AccessToken })), NotAuthorizedException, "NotAuthorizedException", "Access Token has been revoked");
  await rejectsWith(refresh(first.RefreshToken), NotAuthorizedException, "NotAuthorizedException", "Refresh Token has been revoked");
  assert.equal((await anon.send(new GetUserCommand({ AccessToken: second.AccessToken }))).Username, user.username);
});

test("an unknown user is UserNotFoundException", async () => {
  await rejectsWith(admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: POOL, Username: "nobody-here" })), UserNotFoundException, "UserNotFoundException", "User does not exist.");
});

test("an unknown pool is ResourceNotFoundException", async () => {
  await rejectsWith(admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: "us-east-1_Nope99", Username: "u" })), ResourceNotFoundException, "ResourceNotFoundException", "User pool us-east-1_Nope99 does not exist.");
});

test("a malformed pool id is InvalidParameterException with Coral's text", async () => {
  await rejectsWith(
    admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: "n/a", Username: "u" })),
    InvalidParameterException,
    "InvalidParameterException",
    "1 validation error detected: Value 'n/a' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+",
  );
});

test("a wrong secret key is InvalidSignatureException, an unmodelled service exception", async () => {
  const wrong = client(url, { ...ADMIN, secretAccessKey: `${ADMIN.secretAccessKey}x` });
  await rejectsWith(
    wrong.send(new AdminUserGlobalSignOutCommand({ UserPoolId: POOL, Username: "u" })),
    CognitoIdentityProviderServiceException,
    "InvalidSignatureException",
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  );
});

test("an unknown X-Amz-Target is UnknownOperationException in body and header", async () => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.NoSuchOp" },
    body: "{}",
  });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get("content-type"), "application/x-amz-json-1.1");
  assert.equal(res.headers.get("x-amzn-errortype"), "UnknownOperationException");
  assert.match(res.headers.get("x-amzn-requestid"), REQUEST_ID);
  assert.deepEqual(await res.json(), { __type: "UnknownOperationException", message: "Unknown operation: AWSCognitoIdentityProviderService.NoSuchOp" });
});

test("past the rate limit the SDK gets TooManyRequestsException", async () => {
  // Anonymous calls are limited per client IP, so every call here shares one budget.
  const throttled = client(throttledUrl);
  const getUser = () => throttled.send(new GetUserCommand({ AccessToken: "not.a.token" }));
  for (let i = 0; i < RATE_LIMIT; i += 1) {
    await rejectsWith(getUser(), NotAuthorizedException, "NotAuthorizedException", "Invalid Access Token");
  }
  await rejectsWith(getUser(), TooManyRequestsException, "TooManyRequestsException", "Rate exceeded");
});
