// Logs never leak: `make test` ends with this check over every log line its tiers collected in
// tests/output/logs/ (the Worker's console in workerd, the Worker's lines in `make dev`'s output,
// the browser pages' consoles). It fails on any token, refresh token, password, secret key, raw
// username or email address: a log may name a user only by a hash or a kind.
//
//   node scripts/check-logs.mjs [dir]     (default tests/output/logs/)
//
// What counts as a leak:
//   - a JWS or JWT (access, ID tokens: `eyJ….….…`), a JWE (local pools' refresh tokens: five
//     segments, `eyJ…`), a private or secret JWK member (`"d"`, `"k"`, `"p"`, …);
//   - an email address (`local@domain.tld`; a masked one such as `e***@e***` is not one);
//   - every password, secret access key, Shared Signals transmitter secret (push secrets, the
//     bearer tokens of poll and verification endpoints) and username the tests use: harvested from
//     their sources (string literals given as Password/Username/secret/SECRET/…_AUTH, the names
//     `unique("…")` makes, the demo users of scripts/dev.mjs), from ../shared/vectors/ssf/ and a
//     local .dev.vars, plus the names the soak, the flood and the freshness harness make.
// One allowance, documented in README: `DEV_MODE:` lines (dev mode only, never on a deployment)
// name the user a confirmation code is for; they are still checked for everything else.
// The findings name the file, line and kind, never the secret itself.
import { readdirSync, readFileSync, existsSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Source files whose literals name the tests' secrets and users. */
function sources(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "output" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (/\.(mjs|js|py)$/.test(name)) out.push(path);
  }
  return out;
}

/** The needles: [kind, RegExp] pairs. */
export function needles(root = ROOT) {
  const passwords = new Set();
  const secrets = new Set();
  const usernames = new Set();
  const prefixes = new Set();
  const files = [...sources(join(root, "tests")), join(root, "scripts/dev.mjs")].filter((f) => existsSync(f) && !f.endsWith("check-logs.mjs"));
  const literal = /(\w*(?:Password|PASSWORD|password|secret_access_key|secretAccessKey|SecretAccessKey|ClientSecret|secret|SECRET|_AUTH|Username|USERNAME|username))["']?\s*[:=]\s*["'](?:Bearer )?([^"'`\s${}<>]{3,})["']/g;
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const [, key, value] of text.matchAll(literal)) {
      if (/username/i.test(key)) {
        if (/^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u.test(value) && !value.includes("@")) usernames.add(value);
      } else if (/password/i.test(key)) {
        if (value.length >= 6) passwords.add(value);
      } else if (value.length >= 12) {
        secrets.add(value);
      }
    }
    for (const [, prefix] of text.matchAll(/unique\(\s*"([a-z][a-z0-9-]*)"\s*\)/g)) prefixes.add(prefix);
  }
  // The Shared Signals vectors' transmitters: their push secrets.
  const vectors = join(root, "../shared/vectors/ssf");
  if (existsSync(vectors)) {
    for (const name of readdirSync(vectors).filter((n) => n.endsWith(".json"))) {
      for (const [, value] of readFileSync(join(vectors, name), "utf8").matchAll(/"authorization_header"\s*:\s*"Bearer ([^"]+)"/g)) secrets.add(value);
    }
  }
  const devVars = join(root, ".dev.vars");
  if (existsSync(devVars)) {
    for (const [, value] of readFileSync(devVars, "utf8").matchAll(/"secret_access_key"\s*:\s*"([^"]+)"/g)) secrets.add(value);
  }
  const words = (set) => [...set].map((v) => new RegExp(`(?<![\\p{L}\\p{N}_-])${escape(v)}(?![\\p{L}\\p{N}_-])`, "u"));
  return [
    ["token (JWS/JWT)", [/eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){2,4}/]],
    ["private or secret JWK member", [/"(?:d|k|p|q|dp|dq|qi)"\s*:\s*"[A-Za-z0-9_-]{16,}/]],
    ["email address", [/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/]],
    ["password", [...passwords].map((v) => new RegExp(escape(v)))],
    ["secret key", [...secrets].map((v) => new RegExp(escape(v)))],
    [
      "username",
      [
        ...words(usernames),
        ...[...prefixes].map((p) => new RegExp(`(?<![\\w-])${escape(p)}-[0-9a-f]{8}(?![\\w-])`)),
        /\bsoak-[a-z0-9]+-\d+\b/,
        /\bsoak-local-\d+-[0-9a-f]{6}\b/,
        /\bflood-(?:name|user|out)-\d+\b/,
        // The freshness harness's users (tests/freshness/harness.mjs).
        /(?<![\w-])(?:user|control|race|kv-race)-\d+(?![\w-])/,
        /\bjwks-[a-z0-9]+-\d+\b/,
      ],
    ],
  ];
}

/** The findings in `dir`: {file, line, kind}. */
export function check(dir, root = ROOT) {
  const kinds = needles(root);
  const findings = [];
  let lines = 0;
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".log")) : [];
  for (const name of files) {
    const text = readFileSync(join(dir, name), "utf8");
    text.split("\n").forEach((line, i) => {
      if (!line) return;
      lines++;
      for (const [kind, patterns] of kinds) {
        if (kind === "username" && line.includes("DEV_MODE:")) continue;
        if (patterns.some((re) => re.test(line))) findings.push({ file: name, line: i + 1, kind });
      }
    });
  }
  return { files: files.length, lines, findings };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? join(ROOT, "tests/output/logs");
  const { files, lines, findings } = check(dir);
  if (findings.length) {
    for (const f of findings.slice(0, 50)) console.error(`${relative(process.cwd(), join(dir, f.file))}:${f.line}: ${f.kind}`);
    console.error(`log check: ${findings.length} leak(s) in ${lines} lines of ${files} files`);
    process.exit(1);
  }
  if (files === 0) {
    console.error(`log check: no logs in ${dir}: nothing was collected`);
    process.exit(1);
  }
  console.log(`log check: ${lines} lines in ${files} files, no token, password, secret key, username or email`);
}
