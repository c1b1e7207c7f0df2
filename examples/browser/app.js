// The browser build: `init()` fetches and instantiates the .wasm beside the JS glue, then
// decodeToken and verifySignature run in the page. signRequest (SigV4) is there too.
import init, { decodeToken, verifySignature } from "edge-revoke/browser";

const $ = (id) => document.getElementById(id);

async function keySet(text) {
  const value = text.trim();
  if (!value.startsWith("http")) return value; // the JWKS itself; verifySignature parses it
  const res = await fetch(value);
  if (!res.ok) throw new Error(`fetching the key set answered ${res.status}`);
  return res.text();
}

async function check(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  const verdict = $("verdict");
  try {
    const decoded = decodeToken(token);
    $("decoded").textContent = JSON.stringify({ header: decoded.header, payload: decoded.payload }, null, 2);
    // The browser's WebCrypto checks the signature, so the answer is a promise.
    const result = await verifySignature(token, await keySet($("jwks").value));
    verdict.className = result.valid ? "valid" : "invalid";
    verdict.textContent = result.valid
      ? `valid signature (${result.alg}, key ${result.kid})`
      : `invalid signature: ${result.reason}`;
  } catch (err) {
    // A malformed token or key set: the error's name is the Cognito-style exception.
    verdict.className = "invalid";
    verdict.textContent = `${err.name}: ${err.message}`;
  }
}

await init();
$("check").addEventListener("submit", check);
$("status").textContent = "ready";
