// The browser libraries Cognito apps sign in with, in Debian's Chromium: Amplify v6 (aws-amplify)
// and amazon-cognito-identity-js, unmodified and with their default options, bundled by esbuild
// as an app bundles them, served from a real HTTP server on another origin (the one make dev's
// DEV_EXTRA_ORIGINS allows), against the Worker as `make dev` runs it. Each lives the whole story
// of tests/apps/story.mjs; sign-up codes are read from the Worker's log, as a developer reads
// them in `make dev`; the expiry refresh moves the page's clock (Playwright's clock API).
// Screenshots of the end of each story go to tests/output/browser/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startDev, launchBrowser, outputDir } from "./support.mjs";
import { story, bundle, APPS } from "../apps/story.mjs";

const POOL = "us-east-1_DemoPool";
const CLIENT = "democlient";

let dev;
let browser;
let site;

/** An app's static files on its own origin: `/<library>/` and its bundle. */
async function startSite(bundles) {
  const server = http.createServer((req, res) => {
    const [, library, file] = req.url.match(/^\/([^/]+)\/(app\.js)?$/) ?? [];
    if (!bundles[library]) {
      res.writeHead(404).end();
      return;
    }
    if (file) {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(bundles[library]);
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${library} app</title></head>
<body><h1>An app signing in with ${library}</h1><p id="state">loading</p>
<script src="/${library}/app.js"></script>
<script>document.getElementById("state").textContent = window.storyApp ? "ready" : "the bundle did not load";</script>
</body></html>`);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

before(async () => {
  const bundles = {};
  for (const library of Object.keys(APPS)) bundles[library] = await bundle(library);
  site = await startSite(bundles);
  [dev, browser] = await Promise.all([startDev({ extraOrigins: [site.origin] }), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await dev?.stop();
  await site?.close();
});

/** The code `make dev` logged for `username` (DEV_MODE), waiting for the line to arrive. */
async function codeFromLog(username, purpose) {
  const line = new RegExp(`DEV_MODE: ${purpose} code for ${username} in ${POOL} \\(would go to [^)]*\\): (\\d{6})`, "g");
  for (let waited = 0; waited < 10_000; waited += 100) {
    const found = [...dev.log().matchAll(line)];
    if (found.length) return found[found.length - 1][1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${purpose} code for ${username} in the log of make dev`);
}

for (const library of Object.keys(APPS)) {
  test(`${library} in Chromium lives the whole story with its defaults`, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const errors = [];
    page.on("pageerror", (err) => errors.push(err.message));
    // Answers the story expects (400 for a wrong password, 404 for the favicon) are logged as
    // failed resources; anything else logged as an error (a CORS refusal) counts.
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(message.text());
    });
    // The page's clock runs as real time until the story moves it.
    await page.clock.install();
    await page.goto(`${site.origin}/${library}/`);
    assert.equal(await page.textContent("#state"), "ready", errors.join("\n"));
    await page.evaluate(
      (config) => {
        window.app = window.storyApp.createApp(config);
      },
      { endpoint: dev.origin, userPoolId: POOL, userPoolClientId: CLIENT },
    );
    const username = `web-${library.split("-")[0]}-${randomBytes(3).toString("hex")}`;
    try {
      await story({
        library,
        run: (step, ...args) => page.evaluate(([name, list]) => window.app[name](...list), [step, args]),
        readCode: codeFromLog,
        moveClock: (ms) => page.clock.setSystemTime(new Date(Date.now() + ms)),
        endpoint: dev.origin,
        username,
        email: `${username}@example.com`,
      });
    } finally {
      await page.screenshot({ path: join(outputDir(), `library-${library}.png`) });
      await context.close();
    }
    assert.deepEqual(errors, [], "nothing failed in the page (no CORS refusal, no exception)");
    assert.ok(!dev.log().includes("CORS preflight"), "no preflight was refused");
  });
}
