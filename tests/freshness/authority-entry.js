// TEST-ONLY Worker entry for the freshness harness (tests/freshness/harness.mjs) — never deploy
// this. The one revocation authority: the product's real RevocationAuthority class (a SQLite-backed
// Durable Object in real workerd), with REVOCATIONS replaced by the writer's view of the FAKE KV
// log (fake-kv.js, no lag). Its fetch handler passes every request to the object named in
// x-harness-object (the name the product's idFromName asked for).
import { RevocationAuthority as Product } from "../../src/entry.js";
import { FakeLaggingKv } from "./fake-kv.js";

export class RevocationAuthority extends Product {
  constructor(ctx, env) {
    super(ctx, { ...env, REVOCATIONS: new FakeLaggingKv(env.FAKE_KV, "authority") });
  }
}

export default {
  fetch(request, env) {
    const namespace = env.REVOCATION_AUTHORITY;
    const name = request.headers.get("x-harness-object");
    return namespace.get(namespace.idFromName(name)).fetch(request);
  },
};
