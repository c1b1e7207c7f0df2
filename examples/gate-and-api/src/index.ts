// The edge-revoke Worker as it is. `satisfies` checks, at compile time, that the Env `wrangler
// types` generates from wrangler.toml fits what edge-revoke reads.
import edgeRevoke from "edge-revoke";

// The revocation authority's Durable Object class, hosted by this Worker (wrangler.toml).
export { RevocationAuthority } from "edge-revoke";

export default edgeRevoke satisfies ExportedHandler<Env>;
