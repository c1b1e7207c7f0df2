// The story an app's user lives through, told once and run by every library in every place
// (tests/clients/libraries.test.mjs in Node, tests/browser/libraries.test.mjs in Chromium):
// sign up → confirm → sign in (the library's default: SRP) → call the gate → read and update
// attributes → refresh (forced, then on expiry with the clock moved) → change password → sign out
// globally → every old token refused at the gate and by GetUser → sign in again.
//
// `run(step, ...args)` runs one step of the app (tests/apps/*-app.mjs) wherever it lives;
// `readCode(username, purpose)` is how the test learns a code (the log of `make dev`, or
// AdminGetConfirmationCodes); `moveClock(ms)` moves the app's clock `ms` ahead of real time
// (0: back to real time). Each step is asserted as it happens, and the figures are returned.
import assert from "node:assert/strict";
import { build } from "esbuild";
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac } from "node:crypto";

export const APPS = {
  "aws-amplify": new URL("./amplify-app.mjs", import.meta.url).pathname,
  "amazon-cognito-identity-js": new URL("./cognito-js-app.mjs", import.meta.url).pathname,
};

/**
 * Build settings an app needs for each library, beyond esbuild's defaults. amazon-cognito-identity-js
 * bundles `buffer@4`, which reads Node's `global` at load; webpack 4 provided it, and apps built
 * with esbuild or Vite define it (`define: { global: "globalThis" }`), as that library's users are
 * told to. Nothing in the library is changed.
 */
const BUILD = {
  "aws-amplify": {},
  "amazon-cognito-identity-js": { define: { global: "globalThis" } },
};

/** The app bundled as an app's build bundles it: esbuild (the one wrangler ships). */
export async function bundle(library) {
  const out = await build({
    entryPoints: [APPS[library]],
    bundle: true,
    format: "iife",
    globalName: "storyApp",
    platform: "browser",
    write: false,
    logLevel: "silent",
    ...BUILD[library],
  });
  return out.outputFiles[0].text;
}

const TARGET = "AWSCognitoIdentityProviderService.";
const CONTENT_TYPE = "application/x-amz-json-1.1";

/** SHA-256 and HMAC-SHA256 as @smithy/signature-v4 takes them, from node:crypto. */
class Sha256 {
  constructor(secret) {
    this.hash = secret ? createHmac("sha256", secret) : createHash("sha256");
  }
  update(data) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/** An unsigned Cognito call, as a client without a library makes it: {status, body}. */
export async function cognito(endpoint, operation, body) {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": CONTENT_TYPE, "x-amz-target": `${TARGET}${operation}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** A SigV4-signed admin call (for the operation no SDK has a command for). */
export async function admin(endpoint, credentials, operation, body) {
  const url = new URL(endpoint);
  const text = JSON.stringify(body);
  const signer = new SignatureV4({ service: "cognito-idp", region: "us-east-1", credentials, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign({
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: "/",
    headers: { host: url.host, "content-type": CONTENT_TYPE, "x-amz-target": `${TARGET}${operation}` },
    body: text,
  });
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== "host"));
  const res = await fetch(endpoint, { method: "POST", headers, body: text });
  return { status: res.status, body: await res.json() };
}

/** The payload of a JWT, read without checking it (the server checks). */
export const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

function ok(result, what) {
  assert.ok(result && !result.error, `${what}: ${JSON.stringify(result?.error ?? result)}`);
  return result;
}

/** Runs the whole story; answers what was seen on the way. */
export async function story({ library, run, readCode, moveClock, endpoint, username, email }) {
  const password = "Story-Pass-1";
  const newPassword = "Story-Pass-2";
  const seen = { library };

  // Sign up, then confirm with the code (read the way this setting offers).
  const signedUp = ok(await run("signUp", username, password, email), "signUp");
  if (library === "aws-amplify") {
    assert.equal(signedUp.isSignUpComplete, false);
    assert.equal(signedUp.nextStep.signUpStep, "CONFIRM_SIGN_UP");
    assert.equal(signedUp.nextStep.codeDeliveryDetails.destination, `${email[0]}***@${email.split("@")[1][0]}***`);
  } else {
    assert.equal(signedUp.userConfirmed, false);
    assert.equal(signedUp.codeDeliveryDetails.DeliveryMedium, "EMAIL");
  }
  // Signing in first is answered UserNotConfirmedException, which Amplify turns into a step.
  const before = await run("signIn", username, password);
  if (library === "aws-amplify") assert.equal(before.nextStep?.signInStep, "CONFIRM_SIGN_UP", JSON.stringify(before));
  else assert.equal(before.error?.name, "UserNotConfirmedException", JSON.stringify(before));
  const code = await readCode(username, "SIGN_UP");
  ok(await run("confirmSignUp", username, code), "confirmSignUp");

  // Sign in with the library's default flow (SRP), then call the API behind the gate.
  const signedIn = ok(await run("signIn", username, password), "signIn");
  if (library === "aws-amplify") assert.deepEqual([signedIn.isSignedIn, signedIn.nextStep.signInStep], [true, "DONE"]);
  else assert.equal(signedIn.signedIn, true);
  const current = ok(await run("currentUser"), "currentUser");
  seen.currentUsername = current.username;
  const first = ok(await run("tokens"), "tokens");
  assert.equal(claimsOf(first.access).username, username);
  const api = ok(await run("callApi"), "callApi");
  assert.equal(api.status, 200, JSON.stringify(api.body));
  assert.equal(api.body.sub, first.sub);

  // Attributes: read, update, read again.
  const attributes = ok(await run("attributes"), "attributes");
  assert.equal(attributes.email, email);
  assert.equal(attributes.email_verified, "true", "confirming the sign-up verified the email");
  ok(await run("updateAttributes", { name: "Story Teller" }), "updateAttributes");
  assert.equal(ok(await run("attributes"), "attributes").name, "Story Teller");

  // Refresh: forced, then by expiry with the app's clock an hour and a minute ahead.
  const forced = ok(await run("forceRefresh"), "forceRefresh");
  assert.notEqual(forced.access, first.access);
  assert.equal(claimsOf(forced.access).origin_jti, claimsOf(first.access).origin_jti, "the same session");
  assert.equal(claimsOf(forced.id).name, "Story Teller", "the refreshed ID token has the new attribute");
  await moveClock(61 * 60 * 1000);
  const expired = ok(await run("tokens"), "tokens after the clock moved");
  assert.notEqual(expired.access, forced.access, "an expired access token was refreshed");
  assert.equal(claimsOf(expired.access).origin_jti, claimsOf(first.access).origin_jti);
  assert.equal(ok(await run("callApi"), "callApi after refresh").status, 200);
  await moveClock(0);
  seen.refreshes = 2;

  // Change the password; sessions go on (as in Cognito).
  ok(await run("changePassword", password, newPassword), "changePassword");
  const old = ok(await run("tokens"), "tokens before sign-out");
  assert.equal(ok(await run("callApi"), "callApi after the password change").status, 200);

  // Sign out everywhere: every old token is refused at the gate and by Cognito's own API.
  ok(await run("signOutGlobally"), "signOutGlobally");
  for (const token of [first.access, forced.access, old.access]) {
    const gate = await fetch(`${endpoint}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(gate.status, 401);
    assert.deepEqual(await gate.json(), { __type: "NotAuthorizedException", message: "Access Token has been revoked" });
    const user = await cognito(endpoint, "GetUser", { AccessToken: token });
    assert.deepEqual(user, { status: 400, body: { __type: "NotAuthorizedException", message: "Access Token has been revoked" } });
  }
  const idGate = await fetch(`${endpoint}/api/me`, { headers: { authorization: `Bearer ${old.id}` } });
  assert.equal(idGate.status, 401, "the old ID token too");
  if (old.refresh) {
    const refreshed = await cognito(endpoint, "GetTokensFromRefreshToken", { ClientId: claimsOf(old.access).client_id, RefreshToken: old.refresh });
    assert.deepEqual(refreshed.body, { __type: "NotAuthorizedException", message: "Refresh Token has been revoked" });
  }
  seen.oldTokensRefused = 3;

  // Sign in again, with the new password.
  assert.equal((await run("signIn", username, password)).error?.name, "NotAuthorizedException");
  ok(await run("signIn", username, newPassword), "signIn again");
  const again = ok(await run("tokens"), "tokens again");
  assert.notEqual(claimsOf(again.access).origin_jti, claimsOf(first.access).origin_jti, "a new session");
  assert.equal(ok(await run("callApi"), "callApi again").status, 200);
  return seen;
}
