// A Worker of your own that uses edge-revoke's JavaScript API. `Env` comes from `wrangler types`
// (worker-configuration.d.ts), and edge-revoke accepts it as it is.
import { globalSignOut, verifyToken } from "edge-revoke";

const json = (status: number, body: unknown) => Response.json(body, { status });

export default {
  async fetch(request, env): Promise<Response> {
    const token = request.headers.get("authorization")?.match(/^Bearer (\S+)$/)?.[1];
    if (!token) return json(401, { error: "NotAuthorizedException", message: "Missing bearer token" });

    // Signature, expiry, issuer, client and the revocation list: one call. A refusal rejects with
    // an Error whose name is Cognito's exception and whose message is Cognito's text.
    let claims;
    try {
      claims = await verifyToken(env, token, { tokenUse: "access", clientId: env.APP_CLIENT_ID });
    } catch (err) {
      const { name, message } = err as Error;
      return json(name === "InternalErrorException" ? 503 : 401, { error: name, message });
    }

    const { pathname } = new URL(request.url);
    if (pathname === "/me" && request.method === "GET") {
      return json(200, { sub: claims.sub, username: claims.username });
    }
    if (pathname === "/sign-out-everywhere" && request.method === "POST") {
      // Every token of every earlier session of this user is refused from now on, here and in
      // every Worker reading the same REVOCATIONS namespace.
      // The receipt says by when every location refuses them (epoch ms): within 3 s through the
      // revocation authority, KV's window (~95 s) if it cannot be reached.
      const { enforcedBy } = await globalSignOut(env, { UserPoolId: env.USER_POOL_ID, Username: claims.sub });
      return json(200, { signedOut: claims.sub, enforcedBy });
    }
    return json(404, { error: "ResourceNotFoundException", message: "Not found" });
  },
} satisfies ExportedHandler<Env>;
