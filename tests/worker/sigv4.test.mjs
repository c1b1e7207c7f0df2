// SigV4 admin calls in real workerd, against replays: every x-amz-* header and content-type must be
// signed, a signature is accepted for 5 s from its first use (honest duplicates) and refused after,
// and a signature scoped to another region is refused.
// Requests are signed by the AWS SDK v3 (and, for the request the SDK would never make, by its
// own signer, @smithy/signature-v4, told to leave X-Amz-Target unsigned).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { AdminGetUserCommand, AdminUserGlobalSignOutCommand, GetUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import {
  startWorker,
  ADMIN,
  adminCredentials,
  signingKeys,
  localPool,
  cognito,
  createUser,
  signIn,
  rejection,
  assertAwsError,
} from "./support.mjs";

const LOCAL = "us-east-1_SigLocal1";
const CLIENT = "siglocalclient1";
const TARGET = "AWSCognitoIdentityProviderService";
const REUSED = "The request signature has already been used. Sign every request anew.";
const NOT_SIGNED = "There were headers present in the request which were not signed";
let worker, admin;

before(async () => {
  worker = await startWorker({
    POOLS: JSON.stringify([localPool(LOCAL, CLIENT)]),
    SIGNING_KEYS: signingKeys(),
    ADMIN_CREDENTIALS: adminCredentials(ADMIN),
  });
  admin = cognito(worker);
});
after(() => worker?.dispose());

const unique = (prefix) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** An SDK client that records every request as it goes on the wire, signed. */
function recordingClient() {
  const client = cognito(worker);
  const sent = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      sent.push({ headers: { ...args.request.headers }, body: args.request.body });
      return next(args);
    },
    { step: "deserialize", name: "recordSignedRequest" },
  );
  return { client, sent };
}

/** Sends a recorded request again, byte for byte (fetch sets Host and Content-Length itself). */
async function resend(recorded, changes = {}) {
  const headers = Object.fromEntries(Object.entries({ ...recorded.headers, ...changes }).filter(([name]) => !["host", "content-length"].includes(name.toLowerCase())));
  const res = await worker.fetch("/", { method: "POST", headers, body: recorded.body });
  return { status: res.status, errorType: res.headers.get("x-amzn-errortype"), body: await res.json() };
}

test("a captured AdminUserGlobalSignOut replayed byte for byte is refused and signs no later session out", async () => {
  const username = unique("replayed");
  await createUser(admin, LOCAL, username);
  const { client, sent } = recordingClient();
  await client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: LOCAL, Username: username }));
  assert.equal(sent.length, 1);
  // At once, the same bytes are an honest duplicate (boto3 signs to the second): accepted.
  const duplicate = await resend(sent[0]);
  assert.equal(duplicate.status, 200);
  // The user signs in again after the sign-out; past the 5 s grace the same bytes are a replay.
  await new Promise((r) => setTimeout(r, 1_100));
  const later = await signIn(admin, CLIENT, username);
  await new Promise((r) => setTimeout(r, 4_500));
  const replay = await resend(sent[0]);
  assert.equal(replay.status, 400);
  assert.equal(replay.errorType, "InvalidSignatureException");
  assert.deepEqual(replay.body, { __type: "InvalidSignatureException", message: REUSED });
  const user = await admin.send(new GetUserCommand({ AccessToken: later.AccessToken }));
  assert.equal(user.Username, username, "the session begun after the original call lives");
});

test("SDK calls that look alike are each accepted: every call carries its own signature", async () => {
  const username = unique("twice");
  await createUser(admin, LOCAL, username);
  for (let i = 0; i < 3; i += 1) {
    const out = await admin.send(new AdminGetUserCommand({ UserPoolId: LOCAL, Username: username }));
    assert.equal(out.Username, username);
  }
});

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

/** Signs a request to `target` (a worker) with the SDK's own signer; answers its headers. */
async function smithySign(target, { method = "POST", path = "/", headers = {}, body, credentials = ADMIN, unsignable = [] }) {
  const signer = new SignatureV4({ service: "cognito-idp", region: "us-east-1", credentials, sha256: Sha256, applyChecksum: false });
  const url = new URL(target.url);
  const signed = await signer.sign(
    { method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path, headers: { host: url.host, ...headers }, body },
    { unsignableHeaders: new Set(unsignable) },
  );
  // fetch sets Host itself, from the URL that was signed.
  return Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== "host"));
}

test("a request signed over content-type;host;x-amz-date cannot have its target changed", async () => {
  const username = unique("target");
  await createUser(admin, LOCAL, username);
  const body = JSON.stringify({ UserPoolId: LOCAL, Username: username });
  const signed = {
    headers: await smithySign(worker, {
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `${TARGET}.AdminGetUser` },
      body,
      unsignable: ["x-amz-target"],
    }),
  };
  assert.match(signed.headers.authorization, /SignedHeaders=content-type;host;x-amz-date,/);
  for (const op of ["AdminGetUser", "AdminDeleteUser"]) {
    const res = await resend({ headers: signed.headers, body }, { "x-amz-target": `${TARGET}.${op}` });
    assert.equal(res.status, 400, op);
    assert.deepEqual(res.body, { __type: "IncompleteSignatureException", message: NOT_SIGNED }, op);
  }
  const still = await admin.send(new AdminGetUserCommand({ UserPoolId: LOCAL, Username: username }));
  assert.equal(still.Username, username, "the user was not deleted");
});

test("a request signed for eu-west-1 does not act on a us-east-1 pool", async () => {
  const username = unique("region");
  await createUser(admin, LOCAL, username);
  const tokens = await signIn(admin, CLIENT, username);
  const eu = cognito(worker, ADMIN, { region: "eu-west-1" });
  const err = await rejection(eu.send(new AdminUserGlobalSignOutCommand({ UserPoolId: LOCAL, Username: username })));
  assertAwsError(err, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'eu-west-1'. ");
  const user = await admin.send(new GetUserCommand({ AccessToken: tokens.AccessToken }));
  assert.equal(user.Username, username, "nobody was signed out");
});

test("healthz names a broken configuration's field only to a request signed by an admin key", async () => {
  const broken = await startWorker({ POOLS: JSON.stringify([{ id: "us-east-1_Bad1", isuer: "x", allow_any_client: true }]), ADMIN_CREDENTIALS: adminCredentials(ADMIN) });
  try {
    const plain = await broken.fetch("/healthz");
    assert.deepEqual(await plain.json(), { status: "error", config: "error", kv: "ok" });
    const signed = await broken.fetch("/healthz", { headers: await smithySign(broken, { method: "GET", path: "/healthz" }) });
    assert.equal(signed.status, 500);
    const body = await signed.json();
    assert.equal(body.config, "error");
    assert.match(body.config_error, /^POOLS\[0\]\.isuer: /);
    const forged = await broken.fetch("/healthz", {
      headers: await smithySign(broken, { method: "GET", path: "/healthz", credentials: { ...ADMIN, secretAccessKey: "not-the-secret-access-key" } }),
    });
    assert.equal(forged.status, 400);
    const refusal = await forged.text();
    assert.equal(JSON.parse(refusal).__type, "InvalidSignatureException");
    assert.doesNotMatch(refusal, /isuer|POOLS/);
  } finally {
    await broken.dispose();
  }
});
