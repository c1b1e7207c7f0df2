// A FAKE JWKS endpoint: a real local HTTP server that serves one public key set under
// /p/<name>/jwks.json and can be told, per name, to misbehave as an issuer's endpoint might.
// It counts every fetch per name, so tests can bound how often an isolate asks.
import http from "node:http";

/** What each mode answers (`delayMs` delays any of them). */
export const MODES = {
  ok: "the key set",
  slow: "the key set, after delayMs (default 1 s)",
  "5xx": "503 Service Unavailable",
  garbage: "200 with a body that is not JSON",
  huge: "200 with a valid key set padded past 64 KiB",
  redirect: "302 to the same key set elsewhere (the Worker must not follow it)",
};

/** Starts the server with `jwks` (a {keys: [...]} document). */
export async function startFakeJwks(jwks) {
  const modes = new Map(); // name -> { mode, delayMs }
  const fetches = new Map(); // name -> count
  const body = JSON.stringify(jwks);
  const huge = JSON.stringify({ ...jwks, padding: "x".repeat(70 * 1024) });
  const server = http.createServer(async (req, res) => {
    const match = req.url.match(/^\/p\/([A-Za-z0-9-]+)\/jwks\.json$/) ?? req.url.match(/^\/elsewhere\/([A-Za-z0-9-]+)$/);
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const name = match[1];
    if (req.url.startsWith("/elsewhere/")) {
      res.writeHead(200, { "content-type": "application/json" }).end(body);
      return;
    }
    fetches.set(name, (fetches.get(name) ?? 0) + 1);
    const { mode = "ok", delayMs = mode === "slow" ? 1000 : 0 } = modes.get(name) ?? {};
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    switch (mode) {
      case "5xx":
        res.writeHead(503, { "content-type": "text/plain" }).end("unavailable");
        break;
      case "garbage":
        res.writeHead(200, { "content-type": "application/json" }).end("<html>not a key set</html>");
        break;
      case "huge":
        res.writeHead(200, { "content-type": "application/json" }).end(huge);
        break;
      case "redirect":
        res.writeHead(302, { location: `/elsewhere/${name}` }).end();
        break;
      default:
        res.writeHead(200, { "content-type": "application/json" }).end(body);
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    uri: (name) => `${url}/p/${name}/jwks.json`,
    set: (name, mode, delayMs) => modes.set(name, { mode, ...(delayMs === undefined ? {} : { delayMs }) }),
    fetches: (name) => fetches.get(name) ?? 0,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
