// TEST-ONLY Worker entry — never deploy this. It exposes the signature backend the Worker ships
// (the wasm package's hidden `__verifyWithBackend`: Rust's checks, then WebCrypto) and, for
// comparison, plain WebCrypto with none of our checks, so tests/worker/webcrypto-conformance
// can put every signature question of the native suites to both, inside real workerd.
//
// POST /backend and POST /plain-webcrypto, body [{jwk, message, signature}] (message and
// signature base64url, jwk as loaded natively, `alg` set): answer [true | false | "error"].
import module from "../../pkg/edge_revoke_bg.wasm";
import * as wasm from "../../pkg/edge_revoke.js";

wasm.initSync({ module });

const bytes = (b64url) => {
  const text = atob(b64url.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
};

/** How WebCrypto names each JOSE algorithm: [import algorithm, verify algorithm]. */
const WEBCRYPTO = {
  RS256: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "RSASSA-PKCS1-v1_5" }],
  RS384: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" }, { name: "RSASSA-PKCS1-v1_5" }],
  RS512: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }, { name: "RSASSA-PKCS1-v1_5" }],
  PS256: [{ name: "RSA-PSS", hash: "SHA-256" }, { name: "RSA-PSS", saltLength: 32 }],
  PS384: [{ name: "RSA-PSS", hash: "SHA-384" }, { name: "RSA-PSS", saltLength: 48 }],
  PS512: [{ name: "RSA-PSS", hash: "SHA-512" }, { name: "RSA-PSS", saltLength: 64 }],
  ES256: [{ name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-256" }],
  EdDSA: [{ name: "Ed25519" }, { name: "Ed25519" }],
  HS256: [{ name: "HMAC", hash: "SHA-256" }, { name: "HMAC" }],
};

/** The same question to WebCrypto alone: the key imported as the JWK says, no checks of ours. */
async function plain({ jwk, message, signature }) {
  const [importAs, verifyAs] = WEBCRYPTO[jwk.alg];
  const { kty, n, e, crv, x, y, k } = jwk;
  const key = await crypto.subtle.importKey("jwk", { kty, n, e, crv, x, y, k }, importAs, false, ["verify"]);
  return crypto.subtle.verify(verifyAs, key, bytes(signature), bytes(message));
}

async function backend({ jwk, message, signature }) {
  return wasm.__verifyWithBackend(JSON.stringify(jwk), bytes(message), bytes(signature));
}

async function answer(request, ask) {
  const cases = await request.json();
  const verdicts = [];
  for (const one of cases) verdicts.push(await ask(one).catch((err) => `error: ${err?.message ?? err}`));
  return Response.json(verdicts);
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname === "/backend") return answer(request, backend);
    if (request.method === "POST" && pathname === "/plain-webcrypto") return answer(request, plain);
    return new Response("not found", { status: 404 });
  },
};
