// TEST-ONLY Worker entry — never deploy this. It LEAKS on purpose: it logs what it is told to
// (a token, a password, an email…) before handing the request to the product, so
// tests/soak/logs.test.mjs can show that the log check catches each kind of leak.
import { handleRequest } from "../../src/entry.js";

export default {
  async fetch(request, env, ctx) {
    const leak = request.headers.get("x-plant-leak");
    if (leak) console.log(`planted: ${leak}`);
    return handleRequest(request, env, ctx);
  },
};
