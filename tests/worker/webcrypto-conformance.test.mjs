// The shipped signature path passes the same conformance as the native one. The native suites
// (tests/conformance.rs: Wycheproof JWS, JWK, RSA PKCS#1 and PSS, ECDSA P1363 and DER, Ed25519,
// HMAC, the JOSE cookbook, RFC 7515/8037; tests/threats.rs: every row of the JWT threat
// catalogue) run with their backend recording each signature question it answers (key as
// loaded, message, signature, verdict: tests/support/backend_cases.rs). Every question is then
// put to the WebCrypto backend the Worker ships, inside real workerd (tests/worker/
// backend-entry.js), and must get the native verdict.
//
// The same questions also go to plain WebCrypto (BoringSSL, none of our checks): where it is
// more lenient than our rule, the Rust checks that run first close the gap, and the last test
// lists those cases.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, startWorker } from "./support.mjs";

/** Questions each suite must have asked at least: a suite that went missing fails loudly. */
const AT_LEAST = {
  every_wycheproof_jws_case_gets_its_expected_verdict: 300,
  every_wycheproof_jwk_case_gets_its_expected_verdict: 4,
  every_wycheproof_rs256_case_gets_its_expected_verdict: 259,
  every_wycheproof_ps256_case_gets_its_expected_verdict: 108,
  every_wycheproof_es256_p1363_case_gets_its_expected_verdict: 262,
  no_der_encoded_ecdsa_signature_verifies_as_es256: 484,
  every_wycheproof_ed25519_case_gets_its_expected_verdict: 151,
  every_wycheproof_hmac_sha256_case_gets_its_expected_verdict: 160,
  rfc7515_and_rfc8037_examples_verify_or_are_refused_as_documented: 4,
  jose_cookbook_examples_verify_or_are_refused_as_documented: 5,
  // Threat catalogue rows that reach the signature step.
  a_bleichenbacher_e3_forgery_is_refused: 2,
  lenient_pkcs1_v15_encodings_are_refused: 10,
  psychic_and_out_of_range_es256_signatures_are_refused: 10,
  malleable_or_malformed_ed25519_signatures_are_refused: 9,
  an_ed25519_key_of_small_order_verifies_no_signature: 2,
  high_s_es256_is_accepted_because_revocation_keys_on_claims: 2,
  hs256_keyed_with_the_rsa_public_key_is_refused: 5,
  an_ec_or_okp_public_key_is_never_an_hmac_secret: 2,
  rsa_and_hmac_signatures_of_the_wrong_length_are_refused: 7,
  es256_signatures_that_are_not_64_byte_r_s_are_refused: 6,
  an_empty_or_stripped_signature_is_refused: 400,
  no_single_character_mutation_of_a_valid_token_panics_or_answers_other_than_401: 3000,
};

let dir;
let cases; // [{ test, alg, jwk, message, signature, valid }]
let worker;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "edge-revoke-backend-cases-"));
  execFileSync("cargo", ["test", "--quiet", "--test", "conformance", "--test", "threats"], {
    cwd: ROOT,
    env: { ...process.env, EDGE_REVOKE_BACKEND_CASES: dir },
    stdio: ["ignore", "ignore", "inherit"],
  });
  cases = readdirSync(dir)
    .filter((name) => name.endsWith(".jsonl"))
    .flatMap((name) => readFileSync(join(dir, name), "utf8").trim().split("\n").map((line) => JSON.parse(line)));
  worker = await startWorker({}, { entry: "tests/worker/backend-entry.js" });
});

after(async () => {
  await worker?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every case's answer from `route` of the test Worker, in batches. */
async function ask(route, list) {
  const answers = [];
  for (let i = 0; i < list.length; i += 400) {
    const res = await worker.fetch(route, { method: "POST", body: JSON.stringify(list.slice(i, i + 400)) });
    assert.equal(res.status, 200, `${route} answered ${res.status}`);
    answers.push(...(await res.json()));
  }
  return answers;
}

const describe = (c) => `${c.test}: ${c.alg} key ${c.jwk.kid ?? "(no kid)"}, ${c.signature.length} signature chars`;

test("every suite that reaches the signature step asked the backend its questions", () => {
  const asked = {};
  for (const c of cases) asked[c.test] = (asked[c.test] ?? 0) + 1;
  const short = Object.entries(AT_LEAST).filter(([name, min]) => (asked[name] ?? 0) < min);
  assert.deepEqual(short.map(([name, min]) => `${name}: ${asked[name] ?? 0} < ${min}`), []);
  const algs = new Set(cases.map((c) => c.alg));
  for (const alg of ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "EdDSA", "HS256"]) {
    assert.ok(algs.has(alg), `no ${alg} question`);
  }
  assert.ok(cases.some((c) => c.valid) && cases.some((c) => !c.valid), "both verdicts occur");
});

test("the WebCrypto backend in workerd gives every native verdict", async () => {
  const answers = await ask("/backend", cases);
  const differ = cases
    .map((c, i) => [c, answers[i]])
    .filter(([c, answer]) => answer !== c.valid)
    .map(([c, answer]) => `${describe(c)}: native ${c.valid}, workerd ${answer}`);
  assert.deepEqual(differ.slice(0, 20), [], `${differ.length} of ${cases.length} differ`);
  const accepted = answers.filter((a) => a === true).length;
  assert.equal(accepted, cases.filter((c) => c.valid).length);
});

test("where plain WebCrypto is more lenient than our rule, the Rust checks close the gap", async () => {
  const refused = cases.filter((c) => !c.valid);
  const plain = await ask("/plain-webcrypto", refused);
  const lenient = refused.filter((_, i) => plain[i] === true);
  // BoringSSL accepts these; the shipped backend refuses every one (the test above), because
  // the checks in crypto::signature_fits run before WebCrypto sees them.
  const kinds = [...new Set(lenient.map((c) => `${c.test} (${c.alg})`))].sort();
  // An Ed25519 key of small order: BoringSSL's cofactorless check accepts R = identity, S = 0
  // for every message (tests/threats.rs, an_ed25519_key_of_small_order_verifies_no_signature).
  assert.ok(kinds.includes("an_ed25519_key_of_small_order_verifies_no_signature (EdDSA)"), kinds.join(", "));
  const backend = await ask("/backend", lenient);
  assert.deepEqual(backend.filter((a) => a !== false), [], "the shipped backend refuses them all");
  console.log(`plain WebCrypto accepts ${lenient.length} signatures our rule refuses:\n  ${kinds.join("\n  ")}`);
});
