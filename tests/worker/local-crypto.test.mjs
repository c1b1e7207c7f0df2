// Local pools on workerd's WebCrypto: passwords (PBKDF2, and its 100 000-iteration cap), issued
// tokens (RS256) and sealed refresh tokens (HKDF + AES-256-GCM), each checked against an
// independent implementation (node:crypto, jose) so the formats are the documented ones, not
// merely ones the Worker agrees with itself on.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, hkdfSync, pbkdf2Sync, randomBytes } from "node:crypto";
import * as jose from "jose";
import {
  startWorker, localPool, signingKeys, cognito, adminCredentials, ADMIN,
  createUser, signIn, refresh, rejection, assertAwsError, decodeJwt,
} from "./support.mjs";

const POOL = "us-east-1_LocalCrypto1";
const CLIENT = "localcryptoclient1";
const KID = "local-crypto-key-1";
const keysJson = signingKeys(KID);
const privateJwk = JSON.parse(keysJson).keys[0];

let worker;
let client;

before(async () => {
  worker = await startWorker({
    POOLS: JSON.stringify([localPool(POOL, CLIENT)]),
    SIGNING_KEYS: keysJson,
    ADMIN_CREDENTIALS: adminCredentials(ADMIN),
  });
  client = cognito(worker);
});

after(async () => {
  await worker?.dispose();
});

/** The user record of `username` in KV (local users are JSON records under `user/v1/<pool>/`). */
async function userRecord(username) {
  const { keys } = await worker.kv.list({ prefix: `user/v1/${POOL}/` });
  for (const { name } of keys) {
    const text = await worker.kv.get(name);
    const record = text?.startsWith("{") ? JSON.parse(text) : null;
    if (record?.username === username && record.password) return { name, record };
  }
  throw new Error(`no record for ${username}`);
}

test("a password hash stored with more iterations than workerd's PBKDF2 runs still signs its user in", async () => {
  await createUser(client, POOL, "old-hash-user");
  const { name, record } = await userRecord("old-hash-user");
  // Written as a pool asking for 150 000 iterations once did (node:crypto's PBKDF2).
  const salt = randomBytes(16);
  const hash = pbkdf2Sync("Older-Horse-7!", salt, 150_000, 32, "sha256");
  record.password = `pbkdf2-sha256$150000$${salt.toString("base64url")}$${hash.toString("base64url")}`;
  await worker.kv.put(name, JSON.stringify(record));

  const tokens = await signIn(client, CLIENT, "old-hash-user", "Older-Horse-7!");
  assert.equal(decodeJwt(tokens.AccessToken).username, "old-hash-user");
  const wrong = await rejection(signIn(client, CLIENT, "old-hash-user", "Older-Horse-8!"));
  assertAwsError(wrong, "NotAuthorizedException", "Incorrect username or password.");
});

test("a new password is hashed at the pool's count by WebCrypto, in the documented format", async () => {
  await createUser(client, POOL, "fresh-hash-user", "Fresh-Horse-3!");
  const { record } = await userRecord("fresh-hash-user");
  const [scheme, iterations, salt, hash] = record.password.split("$");
  assert.deepEqual([scheme, iterations], ["pbkdf2-sha256", "1000"]);
  const expected = pbkdf2Sync("Fresh-Horse-3!", Buffer.from(salt, "base64url"), 1000, 32, "sha256");
  assert.equal(hash, expected.toString("base64url"));
});

test("a pool asking for more PBKDF2 iterations than workerd runs is refused, naming the field", async () => {
  const logs = [];
  const capped = await startWorker(
    {
      POOLS: JSON.stringify([localPool(POOL, CLIENT, { local: { password_iterations: 150_000 } })]),
      SIGNING_KEYS: keysJson,
    },
    { onLog: ({ message }) => logs.push(message) },
  );
  try {
    const res = await capped.fetch("/healthz");
    assert.equal(res.status, 500);
    assert.equal((await res.json()).config, "error");
    const logged = logs.join("\n");
    assert.match(logged, /POOLS\[0\]\.local\.password_iterations: must be a whole number from 1000 to 100000/);
    assert.match(logged, /workerd's WebCrypto runs PBKDF2 up to 100000 iterations/);
  } finally {
    await capped.dispose();
  }
});

test("tokens signed on WebCrypto verify with jose against the pool's published JWKS", async () => {
  await createUser(client, POOL, "jose-checks-me");
  const tokens = await signIn(client, CLIENT, "jose-checks-me");
  const jwks = await (await worker.fetch(`/${POOL}/.well-known/jwks.json`)).json();
  const keys = jose.createLocalJWKSet(jwks);
  for (const token of [tokens.AccessToken, tokens.IdToken]) {
    const { protectedHeader, payload } = await jose.jwtVerify(token, keys, { algorithms: ["RS256"] });
    assert.equal(protectedHeader.kid, KID);
    assert.equal(payload["cognito:username"] ?? payload.username, "jose-checks-me");
  }
});

// --- sealed refresh tokens: JWE `dir` + A256GCM, the key HKDF-SHA256(d, "edge-revoke seal v1", "refresh:<kid>")

const unpadded = (b64url) => {
  const bytes = Buffer.from(b64url, "base64url");
  const first = bytes.findIndex((b) => b !== 0);
  return bytes.subarray(first);
};
const sealKey = Buffer.from(hkdfSync("sha256", unpadded(privateJwk.d), "edge-revoke seal v1", `refresh:${KID}`, 32));

function open(token) {
  const [header, , iv, ciphertext, tag] = token.split(".");
  const decipher = createDecipheriv("aes-256-gcm", sealKey, Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(header));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return JSON.parse(Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString());
}

function seal(claims) {
  const header = Buffer.from(JSON.stringify({ alg: "dir", enc: "A256GCM", kid: KID, typ: "refresh" })).toString("base64url");
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealKey, iv);
  cipher.setAAD(Buffer.from(header));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(claims)), cipher.final()]);
  return [header, "", iv, ciphertext, cipher.getAuthTag()].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
}

test("refresh tokens sealed on WebCrypto open with node:crypto, and node's open in the Worker", async () => {
  await createUser(client, POOL, "sealed-user");
  const tokens = await signIn(client, CLIENT, "sealed-user");
  const claims = open(tokens.RefreshToken);
  assert.equal(claims.pool, POOL);
  assert.equal(claims.client_id, CLIENT);
  assert.equal(claims.sub, decodeJwt(tokens.AccessToken).sub);
  assert.equal(claims.origin_jti, decodeJwt(tokens.AccessToken).origin_jti);

  const resealed = seal(claims);
  assert.notEqual(resealed, tokens.RefreshToken);
  const refreshed = await refresh(client, CLIENT, resealed);
  assert.equal(decodeJwt(refreshed.AccessToken).origin_jti, claims.origin_jti);

  const altered = seal({ ...claims, pool: "us-east-1_Other9" });
  assertAwsError(await rejection(refresh(client, CLIENT, altered)), "NotAuthorizedException", "Invalid Refresh Token");
});
