// The log check (scripts/check-logs.mjs, the last step of `make test`) can fail: a Worker that
// leaks on purpose (tests/soak/leak-entry.js, test-only) logs one secret of each kind through the
// same log sink every tier uses, into a directory of its own, and the check names each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check } from "../../scripts/check-logs.mjs";
import { startWorker, keyFor, pool, accessClaims, sign, bearer, ADMIN } from "../worker/support.mjs";

test("the log check finds a planted token, refresh token, password, secret key, transmitter secret, username and email, and passes hashed lines", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-revoke-logs-"));
  process.env.EDGE_REVOKE_LOG_DIR = `${dir}/`;
  const key = await keyFor("RS256");
  const worker = await startWorker({ POOLS: JSON.stringify([pool("us-east-1_LeakPool1", [key])]) }, { entry: "tests/soak/leak-entry.js" });
  try {
    const token = await sign(key, accessClaims("us-east-1_LeakPool1"));
    const plants = {
      "token (JWS/JWT)": `Authorization: Bearer ${token}`,
      // A local pool's refresh token is a JWE: five segments.
      "token (JWS/JWT)#refresh": "refresh eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..bXVzdC1ub3QtbGVhaw.Y2lwaGVydGV4dA.dGFn",
      password: "signing in with Correct-Horse-1!",
      "secret key": `using ${ADMIN.secretAccessKey}`,
      // A Shared Signals transmitter's push secret, and a poll endpoint's bearer token.
      "secret key#push": "push from story with story-push-secret-0123456789abcdef-0001",
      "secret key#poll": "polled with Bearer story-poll-token-0001",
      username: "user alice signed out",
      // A name the freshness harness gives its users.
      "username#freshness": "signed out user-3 via loc-1/isolate-0",
      "email address": "code sent to qz9@example.net",
    };
    // A clean line first: kinds and hashes only.
    const clean = await worker.fetch("/api/me", bearer(token));
    assert.equal(clean.status, 200);
    assert.deepEqual(check(dir).findings, [], "the product's own lines, with a token accepted, leak nothing");
    for (const [kind, line] of Object.entries(plants)) {
      const seen = check(dir).lines;
      const res = await worker.fetch("/api/me", { headers: { ...bearer(token).headers, "x-plant-leak": line } });
      await res.arrayBuffer();
      const found = check(dir).findings.filter((f) => f.line > seen).map((f) => f.kind);
      assert.deepEqual(found, [kind.split("#")[0]], `the planted ${kind} is caught, as that and nothing else`);
    }
    // A masked destination and a hashed key are not leaks.
    const other = mkdtempSync(join(tmpdir(), "edge-revoke-logs-"));
    writeFileSync(join(other, "clean.log"), "DEV_MODE: SIGN_UP code for alice in us-east-1_X (would go to a***@e***): 123456\nkv user/v1/us-east-1_X/name/#0a1b2c3d4e5f unreadable\n");
    assert.deepEqual(check(other).findings, []);
    rmSync(other, { recursive: true, force: true });
  } finally {
    await worker.dispose();
    delete process.env.EDGE_REVOKE_LOG_DIR;
    rmSync(dir, { recursive: true, force: true });
  }
});
