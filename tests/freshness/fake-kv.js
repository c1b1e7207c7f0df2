// TEST-ONLY, for the freshness harness (tests/freshness/harness.mjs) — never deploy this.
//
// A FAKE Workers KV namespace: this location's view of one KV log that the harness keeps in Node,
// reached through a service binding. Reads answer what the log held `lag` ms ago for this
// location (the writer's own view, the authority's, has no lag), which is how KV looks from
// another location while a write propagates: "up to 60 seconds or more". Same interface as the
// binding edge-revoke uses: get(keys[], {type, cacheTtl}) → Map, put(key, value, {expirationTtl}),
// delete(key).
export class FakeLaggingKv {
  constructor(service, location) {
    this.service = service;
    this.location = location;
  }

  async call(body) {
    const res = await this.service.fetch("http://fake-kv/", {
      method: "POST",
      body: JSON.stringify({ location: this.location, ...body }),
    });
    if (!res.ok) throw new Error(`KV ${body.op.toUpperCase()} failed: ${res.status} ${await res.text()}`);
    return res.json();
  }

  async get(keys) {
    const { values } = await this.call({ op: "get", keys: Array.isArray(keys) ? keys : [keys] });
    return new Map(Object.entries(values));
  }

  async put(key, value, options = {}) {
    await this.call({ op: "put", key, value, ttl: options.expirationTtl ?? null });
  }

  async delete(key) {
    await this.call({ op: "delete", key });
  }
}
