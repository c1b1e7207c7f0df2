// TEST-ONLY Worker entry — never deploy this. The product's entry, plus one test route,
// `POST /__test/unicode`: each string of the body's `values` through the wasm package's
// `unicodeSpelling` (the canonical user-id spellings and the username and attribute-name pattern
// checks, as every operation computes them), answered in order. Every other request goes to
// handleRequest.
import { handleRequest } from "../../src/entry.js";
import { unicodeSpelling } from "../../pkg/edge_revoke.js";

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/__test/unicode" && request.method === "POST") {
      const { values } = await request.json();
      return Response.json(values.map((value) => unicodeSpelling(value)));
    }
    return handleRequest(request, env, ctx);
  },
};
