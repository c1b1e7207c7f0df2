// A proxied pool's upstream as workerd's fetch sees it: what goes out (only the headers Cognito
// needs, the body's bytes, a re-signature), and what comes back is read with a cap, chunk by
// chunk, with no redirect followed. The upstream here is a plain local HTTP server standing in
// for Cognito (a fake); the client tier runs the same Worker against moto.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startWorker, startServer } from "./support.mjs";

const POOL = "us-east-1_Proxy1";
const CLIENT = "proxyclient";
const UPSTREAM_KEY = { access_key_id: "AKIAWORKERUPSTREAM01", secret_access_key: "worker-upstream-secret-access-key" };
const MIB = 1024 * 1024;
let upstream, worker, answer;

/** The upstream answers whatever `answer` says next; by default a Cognito-shaped success. */
before(async () => {
  upstream = await startServer(async (req, body) => (answer ? answer(req, body) : {
    headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "upstream-1", "x-amzn-trace-id": "internal" },
    body: JSON.stringify({ UserSub: "s-1", UserConfirmed: false }),
  }));
  worker = await startWorker({
    POOLS: JSON.stringify([{ id: POOL, clients: [{ id: CLIENT }], algorithms: ["HS256"],
      jwks: { keys: [{ kty: "oct", kid: "k", alg: "HS256", k: "cHJveHktcG9vbC1oczI1Ni1rZXktMzItYnl0ZXMtbG9uZw" }] },
      upstream: { endpoint: upstream.url } }]),
    UPSTREAM_CREDENTIALS: JSON.stringify(UPSTREAM_KEY),
  });
});
after(async () => {
  await worker?.dispose();
  await upstream?.close();
});

const cognito = (target, body, headers = {}) => worker.fetch("/", {
  method: "POST",
  headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `AWSCognitoIdentityProviderService.${target}`, ...headers },
  body,
});
const signUp = (headers) => cognito("SignUp", JSON.stringify({ ClientId: CLIENT, Username: "u", Password: "p" }), headers);

test("an unsigned call reaches the upstream with its body's bytes and only the headers Cognito needs", async () => {
  answer = null;
  const body = `{"ClientId":"${CLIENT}",  "Username":"u","Password":"p"}`;
  const res = await cognito("SignUp", body, { cookie: "session=1", authorization: "AWS4-HMAC-SHA256 Credential=AKIAcaller/x", "x-forwarded-for": "203.0.113.9" });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { UserSub: "s-1", UserConfirmed: false });
  assert.equal(res.headers.get("x-amzn-requestid"), "upstream-1");
  assert.equal(res.headers.get("x-amzn-trace-id"), null);
  const seen = upstream.requests.at(-1);
  assert.equal(seen.body, body);
  assert.equal(seen.headers["x-amz-target"], "AWSCognitoIdentityProviderService.SignUp");
  for (const name of ["cookie", "authorization", "x-forwarded-for"]) assert.equal(seen.headers[name], undefined, name);
});

test("a redirect from the upstream is not followed: InternalErrorException, and the target is never asked", async () => {
  const target = await startServer(() => ({ body: "{}" }));
  try {
    answer = () => ({ status: 307, headers: { location: `${target.url}/` } });
    const res = await signUp();
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("x-amzn-errortype"), "InternalErrorException");
    assert.equal(target.requests.length, 0);
  } finally {
    await target.close();
  }
});

test("an answer declared larger than the cap is refused unread", async () => {
  answer = () => ({ headers: { "content-type": "application/x-amz-json-1.1", "content-length": String(2 * MIB) }, body: "x".repeat(2 * MIB) });
  const res = await signUp();
  assert.equal(res.status, 500);
  assert.equal((await res.json()).__type, "InternalErrorException");
});

test("a chunked answer past the cap is cut off while it streams", async () => {
  const seen = { written: 0, closedEarly: false };
  const TOTAL = 96 * MIB;
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "big" });
    res.on("close", () => (seen.closedEarly = !res.writableFinished));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    // More than loopback's socket buffers can hold (tcp_rmem max is 32 MiB here, wmem 4 MiB): an
    // upstream that writes all of it was never stopped, whatever the machine's load.
    const pump = () => {
      while (seen.written < TOTAL) {
        seen.written += chunk.length;
        if (!res.write(chunk)) return res.once("drain", pump);
      }
      res.end("{}");
    };
    pump();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const big = await startWorker({
    POOLS: JSON.stringify([{ id: POOL, clients: [{ id: CLIENT }], upstream: { endpoint: `http://127.0.0.1:${server.address().port}` } }]),
    UPSTREAM_CREDENTIALS: JSON.stringify(UPSTREAM_KEY),
  });
  try {
    const res = await big.fetch("/", { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.SignUp" }, body: JSON.stringify({ ClientId: CLIENT }) });
    assert.equal(res.status, 500);
    assert.equal((await res.json()).__type, "InternalErrorException");
    assert.ok(seen.written < TOTAL, `the upstream was stopped early (${seen.written} bytes written)`);
  } finally {
    await big.dispose();
    await new Promise((r) => server.close(r));
  }
});

test("an error without Cognito's error type is InternalErrorException; Cognito's own error passes as it came", async () => {
  answer = () => ({ status: 502, headers: { "content-type": "text/html" }, body: "<h1>Bad Gateway</h1>" });
  let res = await signUp();
  assert.deepEqual([res.status, (await res.json()).__type], [500, "InternalErrorException"]);
  answer = () => ({ status: 400, headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": "UsernameExistsException:http://internal.amazon.com/", "x-amzn-requestid": "upstream-2" },
    body: JSON.stringify({ __type: "UsernameExistsException", message: "User already exists" }) });
  res = await signUp();
  assert.equal(res.status, 400);
  assert.equal(res.headers.get("x-amzn-errortype"), "UsernameExistsException:http://internal.amazon.com/");
  assert.equal(res.headers.get("x-amzn-requestid"), "upstream-2");
  assert.deepEqual(await res.json(), { __type: "UsernameExistsException", message: "User already exists" });
});
