// AdminListRevocations in real workerd over its local KV: KV's own `list` (key order, with
// expirations) and bulk read, every writer recorded as it wrote (an admin key, a user, a Shared
// Signals transmitter), latest first, `Limit` honoured, and nothing without an admin signature.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import * as jose from "jose";
import { GlobalSignOutCommand, AdminUserGlobalSignOutCommand } from "@aws-sdk/client-cognito-identity-provider";
import { startWorker, keyFor, localPool, signingKeys, cognito, createUser, signIn, ADMIN, adminCredentials, sleep } from "./support.mjs";

const POOL = "us-east-1_RecentRev1";
const CLIENT = "recentclient1";
const ISSUER = "https://idp.recent.example";
const AUDIENCE = "https://edge.recent.example/ssf";
const SECRET = "recent-push-secret-0123456789abcdef-01";
let worker, txKey;

before(async () => {
  txKey = await keyFor("RS256", "recent-tx-1");
  worker = await startWorker({
    POOLS: JSON.stringify([localPool(POOL, CLIENT)]),
    SIGNING_KEYS: signingKeys(),
    ADMIN_CREDENTIALS: adminCredentials(ADMIN),
    SSF_TRANSMITTERS: JSON.stringify([{ id: "idp", issuer: ISSUER, jwks: { keys: [txKey.publicJwk] }, audience: AUDIENCE, push_secret: SECRET, pool: POOL }]),
    REVOCATION_CACHE_TTL_S: "0",
  });
});
after(() => worker?.dispose());

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

/** AdminListRevocations, SigV4-signed by `credentials` (or unsigned with `null`). */
async function listRevocations(input, credentials = ADMIN, target = worker) {
  const url = new URL(target.url);
  const headers = { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.AdminListRevocations" };
  const body = JSON.stringify(input);
  let sent = headers;
  if (credentials) {
    const signer = new SignatureV4({ service: "cognito-idp", region: "us-east-1", credentials, sha256: Sha256, applyChecksum: false });
    const signed = await signer.sign({ method: "POST", protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: "/", headers: { host: url.host, ...headers }, body });
    sent = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== "host"));
  }
  const res = await target.fetch("/", { method: "POST", headers: sent, body });
  return { status: res.status, body: await res.json() };
}

/** Pushes a CAEP session-revoked for `username` to `target`; answers the SET's jti and the answer. */
async function pushSessionRevoked(username, target = worker) {
  const claims = {
    iss: ISSUER, jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000), aud: AUDIENCE,
    sub_id: { format: "email", email: `${username}@example.com` },
    events: { "https://schemas.openid.net/secevent/caep/event-type/session-revoked": {} },
  };
  const set = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: "RS256", typ: "secevent+jwt", kid: txKey.kid })
    .sign(txKey.privateKey);
  const res = await target.fetch("/ssf/events/idp", { method: "POST", headers: { "content-type": "application/secevent+jwt", authorization: `Bearer ${SECRET}` }, body: set });
  assert.equal(res.status, 202, await res.text());
  return { jti: claims.jti, res };
}

test("recent revocations come from KV latest first with who wrote each and why, Shared Signals ones included", async () => {
  const admin = cognito(worker);
  const subs = {};
  for (const name of ["zed", "amy", "kim"]) subs[name] = await createUser(admin, POOL, name);
  const amy = await signIn(admin, CLIENT, "amy");
  // Written in an order that is not the keys' order.
  await admin.send(new AdminUserGlobalSignOutCommand({ UserPoolId: POOL, Username: "zed" }));
  await sleep(10);
  await admin.send(new GlobalSignOutCommand({ AccessToken: amy.AccessToken }));
  // A SET's event time is in whole seconds (its iat here): a second later, it is the latest.
  await sleep(1_100);
  const { jti, res: pushed } = await pushSessionRevoked("kim");
  // KV alone: the receipt promises KV's window (its cacheTtl plus propagation).
  const enforcedBy = Number(pushed.headers.get("x-edge-revoke-enforced-by"));
  assert.ok(enforcedBy > Date.now() + 30_000 && enforcedBy < Date.now() + 300_000, `${enforcedBy}`);

  const { status, body } = await listRevocations({ UserPoolId: POOL });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.Complete, true);
  const rows = body.Revocations;
  assert.deepEqual(rows.map((r) => r.Subject), [subs.kim, subs.amy, subs.zed], "latest first");
  assert.deepEqual(rows.map((r) => r.Kind), ["user", "user", "user"]);
  assert.equal(rows[0].By, "ssf:idp");
  assert.equal(rows[0].Reason, `caep session-revoked (SET ${jti})`);
  assert.equal(rows[1].By, `user:${subs.amy}`);
  assert.equal(rows[1].Reason, "GlobalSignOut");
  assert.equal(rows[2].By, ADMIN.accessKeyId);
  assert.equal(rows[2].Reason, "AdminUserGlobalSignOut");
  assert.ok(rows[0].RevokedAt >= rows[1].RevokedAt && rows[1].RevokedAt >= rows[2].RevokedAt);
  assert.ok(Math.abs(rows[0].RevokedAt * 1000 - Date.now()) < 60_000, "epoch seconds");

  const limited = await listRevocations({ UserPoolId: POOL, Limit: 2 });
  assert.deepEqual(limited.body.Revocations.map((r) => r.Subject), [subs.kim, subs.amy]);
});

test("listing revocations needs an admin signature and a limit from 1 to 60", async () => {
  const unsigned = await listRevocations({ UserPoolId: POOL }, null);
  assert.equal(unsigned.status, 400);
  assert.equal(unsigned.body.__type, "MissingAuthenticationTokenException");
  const forged = await listRevocations({ UserPoolId: POOL }, { ...ADMIN, secretAccessKey: "not-the-secret" });
  assert.equal(forged.body.__type, "InvalidSignatureException");
  const tooMany = await listRevocations({ UserPoolId: POOL, Limit: 61 });
  assert.equal(tooMany.body.__type, "InvalidParameterException");
  assert.ok(!JSON.stringify([unsigned, forged, tooMany]).includes("Revocations"));
});

test("with the revocation authority bound, a push that revokes answers its receipt, and the list shows the entry", async () => {
  const bound = await startWorker({
    POOLS: JSON.stringify([localPool(POOL, CLIENT)]),
    SIGNING_KEYS: signingKeys(),
    ADMIN_CREDENTIALS: adminCredentials(ADMIN),
    SSF_TRANSMITTERS: JSON.stringify([{ id: "idp", issuer: ISSUER, jwks: { keys: [txKey.publicJwk] }, audience: AUDIENCE, push_secret: SECRET, pool: POOL }]),
  }, { authority: true });
  try {
    const sub = await createUser(cognito(bound), POOL, "lee");
    const before = Date.now();
    const { jti, res } = await pushSessionRevoked("lee", bound);
    const enforcedBy = Number(res.headers.get("x-edge-revoke-enforced-by"));
    assert.ok(enforcedBy >= before && enforcedBy <= Date.now() + 10_000, `enforced by ${enforcedBy}, within seconds through the authority`);

    // A push that writes nothing carries no receipt.
    const claims = { iss: ISSUER, jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000), aud: AUDIENCE, sub_id: { format: "email", email: "nobody@example.com" },
      events: { "https://schemas.openid.net/secevent/caep/event-type/session-revoked": {} } };
    const set = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: "RS256", typ: "secevent+jwt", kid: txKey.kid }).sign(txKey.privateKey);
    const nobody = await bound.fetch("/ssf/events/idp", { method: "POST", headers: { "content-type": "application/secevent+jwt", authorization: `Bearer ${SECRET}` }, body: set });
    assert.equal(nobody.status, 202);
    assert.equal(nobody.headers.get("x-edge-revoke-enforced-by"), null);

    const { body } = await listRevocations({ UserPoolId: POOL }, ADMIN, bound);
    assert.equal(body.Revocations[0].Subject, sub);
    assert.equal(body.Revocations[0].By, "ssf:idp");
    assert.equal(body.Revocations[0].Reason, `caep session-revoked (SET ${jti})`);
  } finally {
    await bound.dispose();
  }
});
