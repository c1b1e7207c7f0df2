// What the Worker reads besides tokens, in real workerd: request bodies and JWKS answers are read
// chunk by chunk and cut off at their caps (never buffered whole), and a JWKS URL's redirect is
// never followed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startWorker, startServer, keyFor, pool, accessClaims, sign, bearer } from "./support.mjs";

const POOL = "us-east-1_Limits1";
const MIB = 1024 * 1024;
let worker, key;

before(async () => {
  key = await keyFor("RS256");
  worker = await startWorker({ POOLS: JSON.stringify([pool(POOL, [key])]) });
});
after(() => worker?.dispose());

/**
 * POSTs `total` bytes to `url` as a chunked body (no Content-Length), writing only as fast as the
 * Worker reads. Resolves with the answer and how many bytes had been written when it arrived.
 */
function postChunked(url, total, headers = {}) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = http.request({ host: target.hostname, port: target.port, path: "/", method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } });
    req.on("response", (res) => {
      answered = true;
      const writtenAtAnswer = written;
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(), writtenAtAnswer });
      });
    });
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.alloc(64 * 1024, " ");
    const pump = () => {
      while (!answered && written < total) {
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

const API = { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.GetUser" };

test("a chunked POST / body over 64 KiB is refused as too large without being read whole", async () => {
  const total = 64 * MIB;
  const res = await postChunked(worker.url, total, API);
  assert.equal(res.status, 413);
  assert.deepEqual(JSON.parse(res.body), { __type: "SerializationException", Message: "Request body is too large" });
  assert.equal(res.headers["x-amzn-errortype"], "SerializationException");
  assert.ok(res.headers["x-amzn-requestid"]);
  assert.ok(res.writtenAtAnswer < total / 4, `the Worker answered after ${res.writtenAtAnswer} of ${total} bytes: it read the body whole`);
  // The isolate is healthy afterwards.
  assert.equal((await worker.fetch("/api/me", bearer(await sign(key, accessClaims(POOL))))).status, 200);
});

test("a chunked POST / body under the cap is still read", async () => {
  const res = await postChunked(worker.url, 0, API);
  // An empty body is {}: GetUser then asks for its AccessToken.
  assert.equal(res.status, 400);
  assert.equal(JSON.parse(res.body).__type, "InvalidParameterException");
  const small = await worker.fetch("/", { method: "POST", headers: API, body: new Blob([JSON.stringify({ AccessToken: "x".repeat(60 * 1024) })]).stream(), duplex: "half" });
  assert.equal(small.status, 400);
  assert.equal((await small.json()).__type, "NotAuthorizedException", "a 60 KiB chunked body is read and parsed");
});

test("a POST / body declaring more than 64 KiB is refused unread", async () => {
  const res = await worker.fetch("/", { method: "POST", headers: API, body: " ".repeat(64 * 1024 + 1) });
  assert.equal(res.status, 413);
  assert.equal((await res.json()).Message, "Request body is too large");
});

/** A pool whose keys come from `uri`. */
async function remotePool(id, uri) {
  return startWorker({ POOLS: JSON.stringify([{ ...pool(id, []), algorithms: ["RS256"], jwks: undefined, jwks_uri: uri }]) });
}

test("a JWKS URL that redirects is not followed: the gate fails closed and the target is never asked", async () => {
  const good = await startServer(() => ({ body: JSON.stringify({ keys: [key.publicJwk] }) }));
  const redirecting = await startServer(() => ({ status: 302, headers: { location: `${good.url}/jwks.json` } }));
  const id = "us-east-1_Redirect1";
  const remote = await remotePool(id, `${redirecting.url}/jwks.json`);
  try {
    const res = await remote.fetch("/api/me", bearer(await sign(key, accessClaims(id))));
    assert.equal(res.status, 503);
    assert.equal((await res.json()).__type, "InternalErrorException");
    assert.equal(redirecting.requests.length, 1, "the configured URL was asked");
    assert.equal(good.requests.length, 0, "the redirect target was never fetched");
  } finally {
    await remote.dispose();
    await good.close();
    await redirecting.close();
  }
});

/** An issuer that streams `total` bytes of JWKS-looking JSON, chunked, as fast as it is read. */
async function streamingIssuer(total) {
  const seen = { requests: 0, written: 0, finished: false, closedEarly: false };
  const server = http.createServer((req, res) => {
    seen.requests += 1;
    res.writeHead(200, { "content-type": "application/json" });
    res.on("finish", () => (seen.finished = true));
    res.on("close", () => (seen.closedEarly = !seen.finished));
    const filler = Buffer.alloc(64 * 1024, " ");
    res.write('{"keys":[');
    const pump = () => {
      while (seen.written < total) {
        seen.written += filler.length;
        if (!res.write(filler)) {
          res.once("drain", pump);
          return;
        }
      }
      res.end("]}");
    };
    res.on("error", () => {});
    pump();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { seen, url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

test("a JWKS answer that streams a huge body is cut off at the cap and fails closed", async () => {
  const total = 64 * MIB;
  const issuer = await streamingIssuer(total);
  const id = "us-east-1_HugeJwks1";
  const remote = await remotePool(id, `${issuer.url}/jwks.json`);
  try {
    const res = await remote.fetch("/api/me", bearer(await sign(key, accessClaims(id))));
    assert.equal(res.status, 503);
    assert.equal((await res.json()).__type, "InternalErrorException");
    assert.equal(issuer.seen.requests, 1);
    assert.equal(issuer.seen.finished, false, `the Worker read all ${total} bytes`);
    assert.ok(issuer.seen.written < total / 4, `the issuer wrote ${issuer.seen.written} bytes before being cut off`);
  } finally {
    await remote.dispose();
    await issuer.close();
  }
});

test("a JWKS answer declaring a length over the cap is refused unread", async () => {
  const big = JSON.stringify({ keys: [key.publicJwk], pad: " ".repeat(70 * 1024) });
  const issuer = await startServer(() => ({ headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(big)) }, body: big }));
  const id = "us-east-1_BigJwks1";
  const remote = await remotePool(id, `${issuer.url}/jwks.json`);
  try {
    const res = await remote.fetch("/api/me", bearer(await sign(key, accessClaims(id))));
    assert.equal(res.status, 503);
  } finally {
    await remote.dispose();
    await issuer.close();
  }
});
