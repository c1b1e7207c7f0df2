// Types of the Worker entry (src/entry.js): the JavaScript API, the default fetch handler and the
// revocation authority's Durable Object class. The shapes come from the wasm package's generated
// .d.ts, so the two cannot drift apart.
import type { DurableObject } from "cloudflare:workers";
import type {
  Claims,
  EdgeRevokeEnv,
  GlobalSignOutInput,
  RevocationReceipt,
  RevokeTokenInput,
  VerifyOptions,
} from "../pkg/edge_revoke.js";

export type { Claims, EdgeRevokeEnv, GlobalSignOutInput, RevocationReceipt, RevokeTokenInput, VerifyOptions };

/** The verified claims of a token that is not revoked; rejects with Cognito's exception name and message. */
export function verifyToken(env: EdgeRevokeEnv, token: string, options?: VerifyOptions): Promise<Claims>;
/** AdminUserGlobalSignOut for trusted Worker code (no SigV4): every earlier session of the user ends (for a proxied pool, at Cognito too).
 *  Answers by when every location refuses the user's earlier tokens (`enforcedBy`, epoch ms). */
export function globalSignOut(env: EdgeRevokeEnv, input: GlobalSignOutInput): Promise<RevocationReceipt>;
/** RevokeToken for trusted Worker code: one session ends (local pools; for a proxied pool, at Cognito and, for a refresh token the Worker saw, at the edge).
 *  Answers its receipt (`enforcedBy` is absent when nothing was revoked at the edge). */
export function revokeToken(env: EdgeRevokeEnv, input: RevokeTokenInput): Promise<RevocationReceipt>;
/** The Worker's fetch handler: the Cognito API on POST /, the gate, discovery documents, /healthz. */
export function handleRequest(request: Request, env: EdgeRevokeEnv, ctx?: unknown): Promise<Response>;

/** The Worker's scheduled handler (Cron Trigger): polls every Shared Signals transmitter configured with a poll stream; resolves to one log line per transmitter. */
export function handleScheduled(controller: unknown, env: EdgeRevokeEnv, ctx?: unknown): Promise<string[]>;
/** The Worker's `scheduled` export: handleScheduled, its lines logged. */
export function scheduled(controller: unknown, env: EdgeRevokeEnv, ctx?: unknown): Promise<void>;

/** The revocation authority (a SQLite-backed Durable Object): bind it as `REVOCATION_AUTHORITY`,
 *  declare it in a `new_sqlite_classes` migration, and export it from the Worker that hosts it. */
export declare class RevocationAuthority extends DurableObject<EdgeRevokeEnv> {
  fetch(request: Request): Promise<Response>;
}

/** The edge-revoke Worker: `export { default } from "edge-revoke"` deploys it as it is. */
declare const worker: { fetch: typeof handleRequest; scheduled: typeof scheduled };
export default worker;
