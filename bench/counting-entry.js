// Benchmark-only Worker entry: the real Worker with a KV binding wrapped by a counting FAKE, so
// the benchmark can report KV operations per request, plus routes that run the public JS API in a
// loop inside this isolate (the time per call is taken from outside, by the bench). Never deployed.
import { handleRequest, verifyToken } from "../src/entry.js";
import { signRequest } from "../pkg/edge_revoke.js";

// The revocation authority's class, for the bench Worker that binds it.
export { RevocationAuthority } from "../src/entry.js";

const counts = { get: 0, put: 0, delete: 0 };

function counting(kv) {
  return {
    get: (...args) => { counts.get += 1; return kv.get(...args); },
    put: (...args) => { counts.put += 1; return kv.put(...args); },
    delete: (...args) => { counts.delete += 1; return kv.delete(...args); },
  };
}

/** `verifyToken` on every token of the body, one after another: {ok, refused}. */
async function verifyAll(request, env) {
  const { tokens } = await request.json();
  let ok = 0;
  let refused = 0;
  for (const token of tokens) {
    try {
      await verifyToken(env, token, { clientId: "client1" });
      ok += 1;
    } catch {
      refused += 1;
    }
  }
  return Response.json({ ok, refused });
}

const SIGNED = {
  method: "POST", url: "https://cognito-idp.us-east-1.amazonaws.com/", region: "us-east-1",
  headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSCognitoIdentityProviderService.AdminUserGlobalSignOut" },
  body: '{"UserPoolId":"us-east-1_Bench1","Username":"alice"}', accessKeyId: "AKIABENCHBENCH0001",
  secretAccessKey: "bench-secret-bench-secret-0001", amzDate: "20250615T150640Z",
};

/** SigV4 signing `n` times in the wasm (the public `signRequest`: hashing and five HMACs). */
function sigv4Wasm(n) {
  let last;
  for (let i = 0; i < n; i += 1) last = signRequest(SIGNED);
  return Response.json({ n, authorization: last?.authorization.slice(0, 24) });
}

/** The HMAC-SHA256 chain of the same signature (signing key, then signature) on WebCrypto. */
async function sigv4WebCrypto(n) {
  const text = new TextEncoder();
  const hmac = async (key, data) => {
    const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", k, text.encode(data)));
  };
  let last;
  for (let i = 0; i < n; i += 1) {
    const hashed = new Uint8Array(await crypto.subtle.digest("SHA-256", text.encode(SIGNED.body)));
    const date = await hmac(text.encode(`AWS4${SIGNED.secretAccessKey}`), "20250615");
    const region = await hmac(date, "us-east-1");
    const service = await hmac(region, "cognito-idp");
    const signing = await hmac(service, "aws4_request");
    last = await hmac(signing, `AWS4-HMAC-SHA256\n${SIGNED.amzDate}\n20250615/us-east-1/cognito-idp/aws4_request\n${hashed[0]}`);
  }
  return Response.json({ n, last: last?.[0] });
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const bench = { ...env, REVOCATIONS: counting(env.REVOCATIONS) };
    switch (url.pathname) {
      case "/__bench/kv-counts":
        return Response.json(counts);
      case "/__bench/verify":
        return verifyAll(request, bench);
      case "/__bench/sigv4-wasm":
        return sigv4Wasm(Number(url.searchParams.get("n")));
      case "/__bench/sigv4-webcrypto":
        return sigv4WebCrypto(Number(url.searchParams.get("n")));
      default:
        return handleRequest(request, bench, ctx);
    }
  },
};
