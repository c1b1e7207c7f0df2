// The Worker's Unicode is the JS engine's: in wasm32, NFD and NFC come from
// String.prototype.normalize and the username pattern's classes from a RegExp with Unicode
// property escapes (src/unicode.rs). Here every case of tests/fixtures/unicode-spellings.json
// (the native build's answers, checked by tests/unicode_fixture.rs) goes through the built
// module in workerd, and each answer must be the native one, but for the exceptions listed
// below with their reason.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { AdminGetUserCommand, SignUpCommand } from "@aws-sdk/client-cognito-identity-provider";
import { startWorker, ROOT, ADMIN, adminCredentials, signingKeys, localPool, cognito, rejection } from "./support.mjs";

const LOCAL = "us-east-1_Unicode1";
const CLIENT = "unicodeclient1";

const { cases } = JSON.parse(readFileSync(`${ROOT}tests/fixtures/unicode-spellings.json`, "utf8"));

/** Expands "1ACF-1ADD" and "088F" into code points. */
const codePoints = (...items) => items.flatMap((item) => {
  const [first, last = first] = item.split("-").map((h) => parseInt(h, 16));
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
});

/**
 * Where the engine's Unicode and the native tables disagree: characters assigned after one side's
 * Unicode version. A case is excused only if it holds one of these characters and differs only
 * in the answers named (`fields`: 0 and 1 the spellings, 2 and 3 the patterns), the way given.
 * workerd's V8 (ICU) is on Unicode 17.0; natively unicode-normalization is on 18.0 and
 * unicode-general-category on 16.0.
 */
const EXCEPTIONS = [
  {
    reason: "combining marks new in Unicode 18.0: the native tables order them among other marks; "
      + "to the engine (17.0) they are unassigned, combining class 0, so they stay where they are",
    codePoints: codePoints("05C8-05C9", "10ECB-10ECF", "10EF0-10EF9", "1ADE-1ADF", "1AEC-1AF0", "1D127-1D128",
      "1D250-1D252", "1D25B-1D25C", "1D25F", "1D280-1D281"),
    fields: [0, 1],
  },
  {
    reason: "characters new in Unicode 17.0: the engine's \\p{L}/\\p{M}/\\p{S}/\\p{N}/\\p{P} include them, "
      + "unicode-general-category (16.0) calls them unassigned, so the native patterns refuse them",
    codePoints: codePoints("088F", "0C5C", "0CDC", "10940", "10EC5", "10EFA-10EFB", "16FF2", "187F8", "187FF", "18D09",
      "1ACF-1ADD", "1AE0-1AEB", "1CCFA", "1E6E3", "1E6E6", "1E6EE-1E6EF", "1E6F5", "1F6D8", "1F777", "1F77A",
      "1FA54", "1FA8A", "1FA8E", "1FACD", "1FAEA", "1FAEF", "1FBFA", "20C1", "2B73A", "2B73F", "2B96", "2CEA2",
      "323B0", "A7CE-A7CF", "A7D2", "A7D4", "A7F1", "FBC3", "FBD2", "FD90-FD91", "FDC8", "FDCE"),
    fields: [2, 3],
    engineSays: true,
  },
];

let worker;
before(async () => {
  worker = await startWorker({}, { entry: "tests/worker/unicode-entry.js" });
});
after(() => worker?.dispose());

/** The module's answers for `values`, in order, in batches. */
async function spellings(values) {
  const answers = [];
  for (let at = 0; at < values.length; at += 2000) {
    const res = await worker.fetch("/__test/unicode", { method: "POST", body: JSON.stringify({ values: values.slice(at, at + 2000) }) });
    assert.equal(res.status, 200);
    answers.push(...(await res.json()));
  }
  return answers;
}

const hex = (s) => [...s].map((c) => `U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`).join(" ");

test("the Worker spells and checks every fixture case as the native build does, but for the listed exceptions", async () => {
  assert.ok(cases.length > 15_000, `${cases.length} cases`);
  const answers = await spellings(cases.map(([input]) => input));
  const unexpected = [];
  const used = new Set();
  cases.forEach(([input, insensitive, sensitive, patterns], i) => {
    const expected = [insensitive ?? input, sensitive ?? input, patterns.includes("U"), patterns.includes("A")];
    const got = answers[i].slice(0, 4);
    const fields = [0, 1, 2, 3].filter((k) => got[k] !== expected[k]);
    if (fields.length === 0) return;
    const inputPoints = [...input].map((c) => c.codePointAt(0));
    const excuse = EXCEPTIONS.find((e) => fields.every((k) => e.fields.includes(k))
      && (e.engineSays === undefined || fields.every((k) => got[k] === e.engineSays))
      && inputPoints.some((cp) => e.codePoints.includes(cp)));
    if (excuse) {
      for (const cp of inputPoints) if (excuse.codePoints.includes(cp)) used.add(cp);
    } else {
      unexpected.push({ input: hex(input), fields, expected, got: got.map((v) => (typeof v === "string" ? hex(v) : v)) });
    }
  });
  assert.deepEqual(unexpected, [], `${unexpected.length} cases differ from the native answers`);
  // Every listed character still makes a difference: a list that outlives its reason would hide
  // a new disagreement.
  const stale = EXCEPTIONS.flatMap((e) => e.codePoints).filter((cp) => !used.has(cp)).map((cp) => cp.toString(16));
  assert.deepEqual(stale, [], "listed characters on which the engine now agrees: remove them");
});

test("attacker spellings get the canonical spelling and no more: NFD is NFC, fullwidth stays fullwidth, joiners stay and fail the pattern", async () => {
  const [nfc, nfd, fullwidth, joined, ligature, kelvin, dotted] = await spellings(
    ["REN\u00c9E", "rene\u0301e", "\uff21\uff2c\uff29\uff23\uff25", "ali\u200dce", "\ufb00", "\u212a", "\u0130"],
  );
  assert.equal(nfc[0], "ren\u00e9e");
  assert.equal(nfd[0], "ren\u00e9e", "NFD and NFC are one id");
  assert.equal(nfd[1], "rene\u0301e".normalize("NFC"), "and one id in a case-sensitive pool too");
  assert.deepEqual(fullwidth.slice(0, 2), ["\uff41\uff4c\uff49\uff43\uff45", "\uff21\uff2c\uff29\uff23\uff25"], "no NFKC: fullwidth is not ASCII");
  assert.deepEqual(joined, ["ali\u200dce", "ali\u200dce", false, false], "a zero-width joiner is kept and refused as a name");
  assert.equal(ligature[0], "ff", "full case folding (in Rust), not NFKC, makes the ligature ff");
  assert.equal(kelvin[0], "k", "the Kelvin sign is K canonically, and folds");
  assert.equal(dotted[0], "i\u0307", "İ folds to i + combining dot, which does not compose");
});

test("an engine that cannot normalize spells every id alike and refuses every name it cannot check (fails closed)", async () => {
  const broken = await startWorker({}, { entry: "tests/worker/unicode-fault-entry.js", modules: ["tests/worker/unicode-entry.js"] });
  try {
    const res = await broken.fetch("/__test/unicode", { method: "POST", body: JSON.stringify({ values: ["alice", "bob", "ren\u00e9e", "rene\u0301e", "\u212a", "k"] }) });
    assert.equal(res.status, 200);
    const [alice, bob, nfc, nfd, kelvin, k] = await res.json();
    // Every id is one spelling, ASCII included: a sign-out reaches everyone, nobody is split
    // from another spelling of their name (the Kelvin sign is K to a working engine).
    for (const answer of [alice, bob, nfc, nfd, kelvin, k]) assert.deepEqual(answer.slice(0, 2), ["\uffff", "\uffff"]);
    // ASCII names are checked without the engine; any other name cannot be, and is refused.
    assert.deepEqual([alice[2], bob[2], nfc[2], nfd[2], kelvin[2]], [true, true, false, false, false]);
    assert.deepEqual([nfc[3], nfd[3]], [false, false]);
  } finally {
    await broken.dispose();
  }
});

test("a Worker on an engine that cannot normalize refuses to run: its configuration counts as broken", async () => {
  const broken = await startWorker(
    { POOLS: JSON.stringify([localPool(LOCAL, CLIENT)]), SIGNING_KEYS: signingKeys(), ADMIN_CREDENTIALS: adminCredentials(ADMIN) },
    { entry: "tests/worker/unicode-fault-entry.js", modules: ["tests/worker/unicode-entry.js"] },
  );
  try {
    const health = await broken.fetch("/healthz");
    assert.deepEqual(await health.json(), { status: "error", config: "error", kv: "ok" });
    const err = await rejection(cognito(broken).send(new AdminGetUserCommand({ UserPoolId: LOCAL, Username: "alice" })));
    assert.equal(err.$metadata.httpStatusCode, 500, `${err.name}: ${err.message}`);
    const signUp = await rejection(cognito(broken).send(new SignUpCommand({ ClientId: CLIENT, Username: "alice", Password: "Alice-Pass-1" })));
    assert.equal(signUp.$metadata.httpStatusCode, 500, `${signUp.name}: ${signUp.message}`);
  } finally {
    await broken.dispose();
  }
});
