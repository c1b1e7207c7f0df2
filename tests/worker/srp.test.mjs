// SRP sign-in in real workerd: the built wasm (its 3072-bit arithmetic on 32-bit limbs, where the
// native tests run 64-bit) answering amazon-cognito-identity-js's own SRP helper, over HTTP, with
// the AWS SDK v3 carrying the calls. Many rounds, so the encodings that differ from round to
// round (an odd-length SRP_A one time in sixteen, SRP_B and S with or without a sign byte, u and
// salt lengths) all pass through the Worker; a wrong password and a name nobody has are refused
// alike. The recorded client vectors run natively (src/local/srp/tests.rs): their SECRET_BLOCKs
// were sealed by another server, so only the arithmetic, not this HTTP path, can take them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { InitiateAuthCommand, RespondToAuthChallengeCommand } from "@aws-sdk/client-cognito-identity-provider";
import cognitoJs from "amazon-cognito-identity-js";
import cognitoBigInteger from "amazon-cognito-identity-js/lib/BigInteger.js";
import { startWorker, localPool, signingKeys, adminCredentials, ADMIN, cognito, createUser, decodeJwt } from "./support.mjs";

const { AuthenticationHelper, DateHelper } = cognitoJs;
const BigInteger = cognitoBigInteger.default;
const POOL = "us-east-1_SrpWorker1";
const CLIENT = "srpclient";
const PASSWORD = "Correct-Horse-1!";
const ROUNDS = 24;

let worker, client;

before(async () => {
  worker = await startWorker({
    POOLS: JSON.stringify([localPool(POOL, CLIENT)]),
    SIGNING_KEYS: signingKeys(),
    ADMIN_CREDENTIALS: adminCredentials(ADMIN),
  });
  client = cognito(worker);
  await createUser(client, POOL, "srp-user", PASSWORD);
});
after(() => worker?.dispose());

/** One sign-in as amazon-cognito-identity-js computes it; answers what was sent and got. */
async function signIn(username, password) {
  const helper = new AuthenticationHelper(POOL.split("_")[1]);
  const a = await new Promise((resolve, reject) => helper.getLargeAValue((err, value) => (err ? reject(err) : resolve(value))));
  const srpA = a.toString(16);
  const challenge = await client.send(
    new InitiateAuthCommand({ AuthFlow: "USER_SRP_AUTH", ClientId: CLIENT, AuthParameters: { USERNAME: username, SRP_A: srpA } }),
  );
  assert.equal(challenge.ChallengeName, "PASSWORD_VERIFIER");
  assert.equal(challenge.Session, undefined);
  const p = challenge.ChallengeParameters;
  const key = await new Promise((resolve, reject) =>
    helper.getPasswordAuthenticationKey(p.USER_ID_FOR_SRP, password, new BigInteger(p.SRP_B, 16), new BigInteger(p.SALT, 16), (err, k) => (err ? reject(err) : resolve(k))),
  );
  const timestamp = new DateHelper().getNowString();
  const message = Buffer.concat([Buffer.from(POOL.split("_")[1]), Buffer.from(p.USER_ID_FOR_SRP), Buffer.from(p.SECRET_BLOCK, "base64"), Buffer.from(timestamp)]);
  const signature = createHmac("sha256", Buffer.from(key)).update(message).digest("base64");
  const respond = () =>
    client.send(
      new RespondToAuthChallengeCommand({
        ChallengeName: "PASSWORD_VERIFIER",
        ClientId: CLIENT,
        ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: signature },
      }),
    );
  let outcome;
  try {
    outcome = { tokens: (await respond()).AuthenticationResult };
  } catch (err) {
    outcome = { error: `${err.name}: ${err.message}` };
  }
  return { srpA, srpB: p.SRP_B, salt: p.SALT, id: p.USER_ID_FOR_SRP, respond, ...outcome };
}

test("amazon-cognito-identity-js's SRP signs in to the Worker in workerd, round after round", async () => {
  const classes = { oddA: 0, oddB: 0, bTopBitSet: 0 };
  for (let i = 0; i < ROUNDS; i += 1) {
    const round = await signIn("srp-user", PASSWORD);
    assert.ok(round.tokens, `round ${i}: ${round.error} (A ${round.srpA.length} digits, B ${round.srpB.length})`);
    assert.equal(decodeJwt(round.tokens.AccessToken).username, "srp-user");
    if (round.srpA.length % 2) classes.oddA += 1;
    if (round.srpB.length % 2) classes.oddB += 1;
    if (round.srpB.length === 768 && parseInt(round.srpB[0], 16) >= 8) classes.bTopBitSet += 1;
  }
  // B's top bit is set about half the time: the padHex sign byte went both ways.
  assert.ok(classes.bTopBitSet > 0 && classes.bTopBitSet < ROUNDS, JSON.stringify(classes));
});

test("an SRP_A of odd length (A.toString(16), one time in sixteen) is read as the integer it is", async () => {
  for (let tries = 0; tries < 200; tries += 1) {
    const round = await signIn("srp-user", PASSWORD);
    assert.ok(round.tokens, round.error);
    if (round.srpA.length % 2) return;
  }
  assert.fail("no odd-length SRP_A in 200 rounds");
});

test("in workerd a wrong password and a name nobody has are refused alike, and a block answers once", async () => {
  const wrong = await signIn("srp-user", "Wrong-Horse-1!");
  const nobody = await signIn("nobody-here", PASSWORD);
  for (const round of [wrong, nobody]) {
    assert.equal(round.error, "NotAuthorizedException: Incorrect username or password.");
    assert.match(round.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(round.salt.length, 32);
  }
  const right = await signIn("srp-user", PASSWORD);
  assert.ok(right.tokens, right.error);
  await assert.rejects(right.respond(), (err) => err.name === "NotAuthorizedException" && err.message === "Incorrect username or password.");
});
