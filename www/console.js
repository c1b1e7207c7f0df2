// The edge-revoke console: sign in to a local pool, look at the tokens, call the gated API, refresh,
// sign out everywhere, and (dev only) sign a user out with SigV4-signed AdminUserGlobalSignOut and
// list the pool's recent revocations with who and why (AdminListRevocations).
// Plain ES module, no framework. The wasm package decodes tokens, checks signatures and signs
// admin requests in the page. Each tab keeps its own session (sessionStorage): one tab, one device.
import init, { decodeToken, verifySignature, signRequest } from "/pkg/edge_revoke.js";

const ENDPOINT = `${location.origin}/`;
const TARGET_PREFIX = "AWSCognitoIdentityProviderService";
const SESSION_KEY = "edge-revoke.session";
const DEV_KEYS_KEY = "edge-revoke.dev-keys";

// --- What each rejection means -------------------------------------------------------------------
// One table: `type` (Cognito's __type) and, where it matters, the exact `message` (or a prefix);
// the first match wins, so exact messages come before the type-wide lines.

const EXPLANATIONS = [
  { type: "NotAuthorizedException", message: "Access Token has been revoked",
    meaning: "This session was signed out (on another device, or by an administrator). Sign in again." },
  { type: "NotAuthorizedException", message: "ID Token has been revoked",
    meaning: "This session was signed out (on another device, or by an administrator). Sign in again." },
  { type: "NotAuthorizedException", message: "Refresh Token has been revoked",
    meaning: "This session was signed out everywhere, so its refresh token no longer works. Sign in again." },
  { type: "NotAuthorizedException", message: "Access Token has expired",
    meaning: "The access token is past its expiry time. Refresh to get a new one." },
  { type: "NotAuthorizedException", message: "ID Token has expired",
    meaning: "The ID token is past its expiry time. Refresh to get a new one." },
  { type: "NotAuthorizedException", message: "Refresh Token has expired",
    meaning: "The refresh token is too old to use. Sign in again." },
  { type: "NotAuthorizedException", message: "Invalid Access Token",
    meaning: "The access token is malformed, not signed by this pool's keys, or for another pool or app client. Sign in again." },
  { type: "NotAuthorizedException", message: "Invalid ID Token",
    meaning: "The ID token is malformed, not signed by this pool's keys, or for another pool or app client. Sign in again." },
  { type: "NotAuthorizedException", message: "Invalid Refresh Token",
    meaning: "This refresh token was not issued by this pool for this app client. Sign in again." },
  { type: "NotAuthorizedException", message: "Access Token does not have required scopes",
    meaning: "The access token lacks the aws.cognito.signin.user.admin scope this operation needs." },
  { type: "NotAuthorizedException", message: "Incorrect username or password.",
    meaning: "The username or password is wrong. Check both and try again (the demo users are listed under the form)." },
  { type: "NotAuthorizedException", message: "User is disabled.",
    meaning: "An administrator disabled this account. It cannot sign in or refresh until it is enabled again." },
  { type: "NotAuthorizedException", message: "Invalid session for the user, session is expired.",
    meaning: "The new-password step took longer than 3 minutes, or its session is not valid. Sign in again." },
  { type: "NotAuthorizedException", message: "Missing Authorization header with a Bearer token",
    meaning: "The request carried no access token. Sign in first." },
  { type: "NotAuthorizedException",
    meaning: "The Worker refused these credentials. Sign in again." },
  { type: "InvalidSignatureException", message: "Signature expired",
    meaning: "The request was signed with a clock more than 15 minutes away from the Worker's. Fix this computer's clock." },
  { type: "InvalidSignatureException", message: "Signature not yet current",
    meaning: "The request was signed with a clock ahead of the Worker's. Fix this computer's clock." },
  { type: "InvalidSignatureException",
    meaning: "The signature does not match: the secret access key is wrong for this access key ID. Use the dev keys that make dev printed." },
  { type: "UnrecognizedClientException",
    meaning: "The Worker does not know this access key ID. Use the dev keys that make dev printed (ADMIN_CREDENTIALS in .dev.vars)." },
  { type: "MissingAuthenticationTokenException",
    meaning: "The admin request was not signed. Enter the access key ID and secret." },
  { type: "IncompleteSignatureException",
    meaning: "The request's signature is malformed. Check the access key ID and secret for stray characters." },
  { type: "AccessDeniedException",
    meaning: "These keys are not allowed this action on this pool (see allow and resources in ADMIN_CREDENTIALS)." },
  { type: "UserNotFoundException",
    meaning: "No user with this name in the pool. Check the spelling (a username, an email alias or a sub)." },
  { type: "ResourceNotFoundException",
    meaning: "The user pool or app client does not exist on this Worker. Check the pool ID and client ID." },
  { type: "InvalidPasswordException",
    meaning: "The new password does not meet the pool's password policy; the message says which rule." },
  { type: "InvalidParameterException",
    meaning: "A field is missing or has the wrong format; the message names it." },
  { type: "TooManyRequestsException",
    meaning: "Too many requests from this caller in the last minute. Wait a little and try again." },
  { type: "InternalErrorException",
    meaning: "The Worker could not decide (for example, KV was unreachable) and accepted nothing. Try again shortly." },
  { type: "NetworkError",
    meaning: "No answer reached this page: the Worker is not running, or the browser blocked the response (CORS: this page's origin is not in ALLOWED_ORIGINS). Check that make dev is running, then look at the browser's developer console." },
  { type: "ConsoleError",
    meaning: "The console could not do this in the page." },
];

/** The plain-language line for a rejection. */
function explain(type, message = "") {
  const hit = EXPLANATIONS.find((e) => e.type === type && (e.message === undefined || message.startsWith(e.message)));
  return hit?.meaning ?? "The Worker refused the request. The type and message above say why.";
}

/** A rejection as the console shows it: Cognito's type and message, the request id, the status. */
class Rejection extends Error {
  constructor({ type, message, requestId = null, status = null }) {
    super(message);
    this.type = type;
    this.requestId = requestId;
    this.status = status;
  }
}

// --- Small DOM helpers ---------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/** Builds an element: el("p", {class: "x"}, "text", child, …). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function show(regionId, ...nodes) {
  $(regionId).replaceChildren(...nodes);
}

function busy(regionId, text) {
  show(regionId, el("p", { class: "pending" }, text));
}

/** A success box. */
function success(title, ...body) {
  return el("div", { class: "outcome ok" },
    el("p", { class: "outcome-title" }, el("span", { class: "icon", "aria-hidden": "true" }, "✓"), el("span", { class: "title-text" }, title)),
    ...body);
}

/** Notes in this tab's session that the Worker refused its tokens as revoked. */
function noteRevocation(err) {
  const revoked = err instanceof Rejection && err.type === "NotAuthorizedException" && / Token has been revoked$/.test(err.message);
  if (revoked && session && !session.signedOut && !session.revoked) saveSession({ ...session, revoked: true });
}

/** A rejection box: type, message, what it means, the request id and status. */
function rejection(err) {
  const r = err instanceof Rejection ? err : new Rejection({ type: "ConsoleError", message: String(err?.message ?? err) });
  return el("div", { class: "outcome error", "data-error-type": r.type },
    el("p", { class: "outcome-title" }, el("span", { class: "icon", "aria-hidden": "true" }, "✕"), el("span", { class: "error-type" }, r.type)),
    el("p", { class: "error-message" }, r.message || "(no message)"),
    el("p", { class: "error-meaning" }, explain(r.type, r.message)),
    el("dl", { class: "meta" },
      el("div", {}, el("dt", {}, "x-amzn-RequestId"), el("dd", {}, el("code", { class: "request-id" }, r.requestId ?? "— (no answer)"))),
      r.status !== null ? el("div", {}, el("dt", {}, "HTTP status"), el("dd", {}, el("code", {}, String(r.status)))) : null,
    ),
  );
}

function pre(value) {
  return el("pre", { class: "json" }, typeof value === "string" ? value : JSON.stringify(value, null, 2));
}

// --- Talking to the Worker -----------------------------------------------------------------------

/** The error type as clients read it: `__type`, without a `…#` prefix or a `:…` suffix. */
function errorType(body, headers) {
  const raw = body?.__type ?? body?.code ?? headers.get("x-amzn-errortype") ?? "UnknownError";
  return String(raw).split(":")[0].split("#").pop();
}

/** Sends `fetch`, turning a failure to get any answer into a NetworkError rejection. */
async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch (err) {
    throw new Rejection({ type: "NetworkError", message: `${err.name}: ${err.message}` });
  }
}

/** Reads a response: the parsed body (or text), and a Rejection when the status is not 2xx. */
async function read(res) {
  const requestId = res.headers.get("x-amzn-requestid");
  const text = await res.text();
  let body = text;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    // Not JSON: keep the text.
  }
  if (!res.ok) {
    const parsed = body !== null && typeof body === "object" ? body : null;
    throw new Rejection({
      type: errorType(parsed, res.headers),
      message: (parsed ? parsed.message ?? parsed.Message : text) ?? "",
      requestId,
      status: res.status,
    });
  }
  return { body, requestId, status: res.status };
}

/** Calls an operation of the Cognito API on this Worker (`POST /`, AWS JSON 1.1). */
async function cognito(operation, input) {
  const headers = {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": `${TARGET_PREFIX}.${operation}`,
  };
  return read(await send(ENDPOINT, { method: "POST", headers, body: JSON.stringify(input) }));
}

/** Calls an admin operation, SigV4-signed in the page by the wasm package. */
async function cognitoSigned(operation, input, { accessKeyId, secretAccessKey, region }) {
  const headers = {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": `${TARGET_PREFIX}.${operation}`,
  };
  const body = JSON.stringify(input);
  let signed;
  try {
    await wasmReady;
    signed = signRequest({ method: "POST", url: ENDPOINT, headers, body, accessKeyId, secretAccessKey, region, service: "cognito-idp" });
  } catch (err) {
    throw new Rejection({ type: err.name && err.name !== "Error" ? err.name : "ConsoleError", message: err.message });
  }
  // The browser sets Host itself (from the URL, as signed).
  const added = Object.fromEntries(Object.entries(signed).filter(([name]) => name.toLowerCase() !== "host"));
  return read(await send(ENDPOINT, { method: "POST", headers: { ...headers, ...added }, body }));
}

/** The region of a pool id (`us-east-1_AbC` → `us-east-1`), as the Worker reads it: before the last `_`. */
function regionOf(poolId) {
  return poolId.includes("_") ? poolId.slice(0, poolId.lastIndexOf("_")) : "";
}

// --- The tab's session ---------------------------------------------------------------------------

let session = loadSession();

// The wasm package: instantiated once; everything that decodes, verifies or signs waits for it.
const wasmReady = (async () => {
  performance.mark("wasm-init-start");
  await init();
  performance.mark("wasm-init-end");
  return performance.measure("wasm-init", "wasm-init-start", "wasm-init-end").duration;
})();

function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY)) ?? null;
  } catch {
    return null;
  }
}

function saveSession(next) {
  session = next;
  if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(SESSION_KEY);
  renderWho();
  renderTokens();
}

function renderWho() {
  const who = $("who");
  if (!session) {
    who.textContent = "Not signed in";
    who.className = "";
  } else if (session.signedOut) {
    who.textContent = `${session.username}: signed out of all devices (old tokens kept to show they fail)`;
    who.className = "who-signed-out";
  } else if (session.revoked) {
    who.textContent = `${session.username}: this session was signed out elsewhere; sign in again`;
    who.className = "who-signed-out";
  } else {
    who.textContent = `Signed in as ${session.username}`;
    who.className = "who-signed-in";
  }
}

function requireSession(regionId) {
  if (session?.accessToken) return true;
  show(regionId, el("p", { class: "pending" }, "Not signed in in this tab: sign in first (section 1)."));
  return false;
}

// --- Tokens view ---------------------------------------------------------------------------------

const jwksCache = new Map();

/** The pool's public keys, from the Worker's discovery endpoint (once per pool per page). */
function jwksFor(poolId) {
  if (!jwksCache.has(poolId)) {
    const keys = send(`/${encodeURIComponent(poolId)}/.well-known/jwks.json`).then(read).then((r) => r.body);
    keys.catch(() => jwksCache.delete(poolId)); // a failure is not cached
    jwksCache.set(poolId, keys);
  }
  return jwksCache.get(poolId);
}

function formatCountdown(expS) {
  // Whole seconds left, rounded down like any countdown: a fresh one-hour token shows 59m 59s.
  const left = Math.floor(expS - Date.now() / 1000);
  const abs = Math.abs(left);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  const text = `${h ? `${h}h ` : ""}${String(m).padStart(h ? 2 : 1, "0")}m ${String(s).padStart(2, "0")}s`;
  return left > 0 ? { text: `expires in ${text}`, expired: false } : { text: `expired ${text} ago`, expired: true };
}

function timeOf(s) {
  return typeof s === "number" ? new Date(s * 1000).toLocaleTimeString([], { hour12: false }) : "—";
}

function tokenCard(kind, label, token, check) {
  let decoded;
  try {
    decoded = decodeToken(token);
  } catch (err) {
    return el("article", { class: "token", "data-token": kind },
      el("h3", {}, label),
      rejection(new Rejection({ type: err.name || "ConsoleError", message: err.message })));
  }
  const claims = decoded.payload ?? {};
  const username = claims.username ?? claims["cognito:username"] ?? "—";
  const countdown = formatCountdown(claims.exp);
  const signature = check === undefined
    ? el("span", { class: "sig pending" }, "checking…")
    : check.valid
      ? el("span", { class: "sig valid" }, `✓ valid (${check.alg}, key ${check.kid ?? "—"})`)
      : el("span", { class: "sig invalid" }, `✕ not valid: ${check.reason ?? check.error ?? "unknown reason"}`);
  return el("article", { class: "token", "data-token": kind },
    el("h3", {}, label),
    el("dl", { class: "facts" },
      el("div", {}, el("dt", {}, "token_use"), el("dd", { class: "fact-token-use" }, el("code", {}, String(claims.token_use ?? "—")))),
      el("div", {}, el("dt", {}, "username"), el("dd", { class: "fact-username" }, el("code", {}, String(username)))),
      el("div", {}, el("dt", {}, "expiry"), el("dd", {},
        el("span", { class: `countdown${countdown.expired ? " expired" : ""}`, role: "timer", "data-exp": claims.exp }, countdown.text),
        el("span", { class: "muted" }, ` (at ${timeOf(claims.exp)})`))),
      el("div", {}, el("dt", {}, "signature"), el("dd", { class: "fact-signature" }, signature)),
    ),
    // Open beside the facts on a wide screen; one tap away on a narrow one.
    el("details", { class: "raw", open: matchMedia("(min-width: 1080px)").matches },
      el("summary", {}, `Header and claims (${decoded.signatureBytes}-byte signature)`),
      el("div", { class: "json-pair" },
        el("div", {}, el("h4", {}, "Header"), pre(decoded.header)),
        el("div", {}, el("h4", {}, "Claims"), pre(claims)),
      ),
    ),
  );
}

let tokensRender = 0;

/** Draws the tokens of this tab; signature checks fill in when the JWKS arrives. */
async function renderTokens() {
  const view = $("tokens-view");
  const render = ++tokensRender;
  if (!session) {
    view.replaceChildren(el("p", { class: "empty" }, "No tokens yet: sign in first."));
    return;
  }
  try {
    await wasmReady;
  } catch {
    view.replaceChildren(el("p", { class: "empty" }, "The wasm package did not load, so the tokens cannot be decoded here."));
    return;
  }
  if (render !== tokensRender || !session) return;
  const draw = (checks = {}) => {
    const refreshSegments = session.refreshToken ? session.refreshToken.split(".").length : 0;
    const children = [
      session.signedOut
        ? el("p", { class: "notice" }, "This session was signed out of all devices. These tokens are kept only to show that the Worker now refuses them; sign in again for a new session.")
        : session.revoked
          ? el("p", { class: "notice" }, "The Worker refused these tokens as revoked: this session was signed out on another device or by an administrator. They still decode and their signatures are still valid; the revocation list is what stops them. Sign in again for a new session.")
          : null,
      el("div", { class: "token-grid" },
        tokenCard("access", "Access token", session.accessToken, checks.access),
        tokenCard("id", "ID token", session.idToken, checks.id),
      ),
      el("article", { class: "token refresh-token", "data-token": "refresh" },
        el("h3", {}, "Refresh token"),
        !session.refreshToken
          ? el("p", {}, "None in this tab.")
          : refreshSegments === 5
            ? el("p", {}, "Opaque: an encrypted JWE (", String(refreshSegments), " segments) that only the Worker can open. ",
              el("span", { class: "refresh-length" }, `${session.refreshToken.length} characters`), ".")
            // A proxied pool's: Cognito issued it; the Worker saw it pass and kept its SHA-256.
            : el("p", {}, "Opaque: issued by the pool's upstream (Cognito), which alone can read it; the Worker keeps only its SHA-256, to revoke its session at the edge too. ",
              el("span", { class: "refresh-length" }, `${session.refreshToken.length} characters`), "."),
      ),
    ].filter(Boolean);
    view.replaceChildren(...children);
  };
  draw();
  performance.mark("tokens-shown");
  try {
    const jwks = await jwksFor(session.poolId);
    const check = (token) => {
      try {
        return verifySignature(token, jwks);
      } catch (err) {
        return { valid: false, reason: err.message };
      }
    };
    if (render !== tokensRender || !session) return;
    draw({ access: check(session.accessToken), id: check(session.idToken) });
  } catch (err) {
    if (render !== tokensRender || !session) return;
    const failed = { valid: false, reason: `the pool's JWKS could not be read (${err.type ?? ""} ${err.message})` };
    draw({ access: failed, id: failed });
  }
}

/** Ticks every countdown once a second. */
function tick() {
  for (const node of document.querySelectorAll(".countdown[data-exp]")) {
    const c = formatCountdown(Number(node.dataset.exp));
    if (node.textContent !== c.text) node.textContent = c.text;
    node.classList.toggle("expired", c.expired);
  }
}

// --- Actions -------------------------------------------------------------------------------------

function signedIn(result, { poolId, clientId, username }) {
  const auth = result.AuthenticationResult;
  // What the other sections showed was about the previous session.
  for (const region of ["api-result", "refresh-result", "signout-result"]) show(region);
  saveSession({
    poolId,
    clientId,
    username,
    accessToken: auth.AccessToken,
    idToken: auth.IdToken,
    refreshToken: auth.RefreshToken,
    signedOut: false,
  });
}

let challenge = null;

async function onSignIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const poolId = form.poolId.value.trim();
  const clientId = form.clientId.value.trim();
  const username = form.username.value.trim();
  busy("signin-result", `Signing in as ${username}…`);
  try {
    const { body, requestId } = await cognito("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: clientId,
      AuthParameters: { USERNAME: username, PASSWORD: form.password.value },
    });
    form.password.value = "";
    if (body.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      challenge = { poolId, clientId, username: body.ChallengeParameters?.USER_ID_FOR_SRP ?? username, session: body.Session };
      $("new-password-form").username.value = challenge.username;
      $("new-password-form").hidden = false;
      show("signin-result", success("A new password is needed",
        el("p", {}, `${username} has a temporary password. Choose a permanent one above.`),
        el("p", { class: "muted" }, `x-amzn-RequestId ${requestId}`)));
      $("new-password").focus();
      return;
    }
    if (!body.AuthenticationResult) {
      throw new Rejection({ type: "ConsoleError", message: `unexpected answer: ${body.ChallengeName ?? "no tokens"}`, requestId });
    }
    signedIn(body, { poolId, clientId, username });
    show("signin-result", success(`Signed in as ${username}`,
      el("p", {}, "The new access, ID and refresh tokens are in section 2."),
      el("p", { class: "muted" }, "x-amzn-RequestId ", el("code", {}, requestId))));
  } catch (err) {
    show("signin-result", rejection(err));
  }
}

async function onNewPassword(event) {
  event.preventDefault();
  if (!challenge) return;
  const form = event.currentTarget;
  busy("signin-result", "Setting the new password…");
  try {
    const { body, requestId } = await cognito("RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: challenge.clientId,
      Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: form.newPassword.value },
    });
    form.newPassword.value = "";
    form.hidden = true;
    signedIn(body, challenge);
    show("signin-result", success(`Password set; signed in as ${challenge.username}`,
      el("p", { class: "muted" }, "x-amzn-RequestId ", el("code", {}, requestId))));
    challenge = null;
  } catch (err) {
    show("signin-result", rejection(err));
  }
}

async function onCallApi() {
  if (!requireSession("api-result")) return;
  busy("api-result", "Calling GET /api/me…");
  try {
    const { body, requestId, status } = await read(await send("/api/me", { headers: { authorization: `Bearer ${session.accessToken}` } }));
    show("api-result", success(`${status} OK: the Worker accepted the token`,
      el("p", { class: "muted" }, "x-amzn-RequestId ", el("code", { class: "request-id" }, requestId ?? "—")),
      el("p", { class: "caption" }, "Verified claims:"),
      pre(body)));
  } catch (err) {
    noteRevocation(err);
    show("api-result", rejection(err));
  }
}

async function onRefresh() {
  if (!requireSession("refresh-result")) return;
  busy("refresh-result", "Refreshing…");
  try {
    const { body, requestId } = await cognito("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: session.clientId,
      AuthParameters: { REFRESH_TOKEN: session.refreshToken },
    });
    const auth = body.AuthenticationResult;
    saveSession({ ...session, accessToken: auth.AccessToken, idToken: auth.IdToken, refreshToken: auth.RefreshToken ?? session.refreshToken });
    show("refresh-result", success("New access and ID tokens",
      el("p", {}, "Section 2 shows them; the refresh token is unchanged."),
      el("p", { class: "muted" }, "x-amzn-RequestId ", el("code", {}, requestId))));
  } catch (err) {
    noteRevocation(err);
    show("refresh-result", rejection(err));
  }
}

async function onGlobalSignOut() {
  if (!requireSession("signout-result")) return;
  busy("signout-result", "Signing out of all devices…");
  try {
    const { requestId } = await cognito("GlobalSignOut", { AccessToken: session.accessToken });
    saveSession({ ...session, signedOut: true });
    show("signout-result", success("Signed out of all devices",
      el("p", {}, "Every token issued to this user until now is refused, on every device. This tab keeps its old tokens so you can watch them fail: call the API or refresh. Sign in again for a new session."),
      el("p", { class: "muted" }, "x-amzn-RequestId ", el("code", {}, requestId))));
  } catch (err) {
    noteRevocation(err);
    show("signout-result", rejection(err));
  }
}

function onForget() {
  saveSession(null);
  show("signout-result", el("p", { class: "pending" }, "This tab's tokens were removed (nothing was sent to the Worker)."));
}

async function onAdminSignOut(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const poolId = $("pool-id").value.trim();
  const keys = {
    accessKeyId: form.accessKeyId.value.trim(),
    secretAccessKey: form.secretAccessKey.value.trim(),
    region: regionOf(poolId),
  };
  sessionStorage.setItem(DEV_KEYS_KEY, JSON.stringify({ accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey }));
  const username = form.username.value.trim();
  busy("admin-result", `Signing ${username} out of all devices…`);
  try {
    const { requestId } = await cognitoSigned("AdminUserGlobalSignOut", { UserPoolId: poolId, Username: username }, keys);
    show("admin-result", success(`${username} is signed out of all devices`,
      el("p", {}, `Every token issued to ${username} until now is refused, and their refresh tokens no longer work.`),
      el("p", { class: "muted" }, "x-amzn-RequestId ", el("code", {}, requestId))));
    await onListRevocations();
  } catch (err) {
    show("admin-result", rejection(err));
  }
}

/** The admin panel's keys, from its form, for the pool in the pool field. */
function adminKeys() {
  const form = $("admin-form");
  const poolId = $("pool-id").value.trim();
  return {
    poolId,
    keys: { accessKeyId: form.accessKeyId.value.trim(), secretAccessKey: form.secretAccessKey.value.trim(), region: regionOf(poolId) },
  };
}

/** Who wrote a revocation, as the table shows it: Shared Signals transmitters are labelled. */
function revokedBy(by) {
  if (by.startsWith("ssf:")) return [el("span", { class: "badge ssf" }, "Shared Signals"), " ", el("code", {}, by)];
  return el("code", {}, by);
}

/** Lists the pool's recent revocations (AdminListRevocations) into the table. */
async function onListRevocations() {
  const { poolId, keys } = adminKeys();
  if (!keys.accessKeyId || !keys.secretAccessKey) {
    show("revocations-result", rejection(new Rejection({ type: "MissingAuthenticationTokenException", message: "Enter the access key ID and secret first." })));
    return;
  }
  busy("revocations-result", `Reading the recent revocations of ${poolId}…`);
  try {
    const { body, requestId } = await cognitoSigned("AdminListRevocations", { UserPoolId: poolId }, keys);
    const rows = body.Revocations ?? [];
    if (rows.length === 0) {
      show("revocations-result", el("p", { class: "muted", id: "revocations-empty" }, `No revocations in ${poolId} yet.`));
      return;
    }
    const table = el("table", { class: "revocations", id: "revocations-table" },
      el("thead", {}, el("tr", {}, ["When (UTC)", "Kind", "Subject", "By", "Why"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows.map((r) => el("tr", { "data-kind": r.Kind, "data-by": r.By },
        el("td", {}, el("time", { datetime: new Date(r.RevokedAt * 1000).toISOString() }, new Date(r.RevokedAt * 1000).toISOString().replace("T", " ").replace("Z", ""))),
        el("td", {}, r.Kind),
        el("td", { class: "subject" }, el("code", {}, r.Subject)),
        el("td", { class: "by" }, revokedBy(r.By)),
        el("td", { class: "why" }, r.Reason)))));
    const partial = body.Complete === false
      ? [el("p", { class: "muted" }, "The pool has more entries than one listing reads: these are the latest of the part read.")]
      : [];
    show("revocations-result", table, ...partial, el("p", { class: "muted" }, "x-amzn-RequestId ", el("code", {}, requestId)));
  } catch (err) {
    show("revocations-result", rejection(err));
  }
}

function renderAdminScope() {
  const poolId = $("pool-id").value.trim();
  $("admin-scope").textContent = `pool ${poolId || "—"} · region ${regionOf(poolId) || "—"} · service cognito-idp`;
}

/** Whether the Worker says it runs in dev mode (`make dev` sets DEV_MODE; /healthz tells). */
async function workerInDevMode() {
  try {
    const res = await fetch("/healthz", { cache: "no-store" });
    return (await res.json()).dev_mode === true;
  } catch {
    return false;
  }
}

/**
 * Takes the dev keys from `#dev-keys=<id>:<secret>` into sessionStorage — only where the Worker
 * runs in dev mode, so a link can never plant keys in a deployed console — and always takes the
 * fragment off the address bar.
 */
async function adoptDevKeys() {
  const match = location.hash.match(/^#dev-keys=([^:]+):(.+)$/);
  if (match) history.replaceState(null, "", location.pathname + location.search);
  const adopted = match !== null && (await workerInDevMode());
  if (adopted) {
    sessionStorage.setItem(DEV_KEYS_KEY, JSON.stringify({ accessKeyId: decodeURIComponent(match[1]), secretAccessKey: decodeURIComponent(match[2]) }));
  }
  let keys = null;
  try {
    keys = JSON.parse(sessionStorage.getItem(DEV_KEYS_KEY));
  } catch {
    keys = null;
  }
  if (keys) {
    $("access-key-id").value = keys.accessKeyId ?? "";
    $("secret-access-key").value = keys.secretAccessKey ?? "";
    $("admin-keys-source").textContent = adopted
      ? "Keys taken from the link make dev printed, kept in this tab, and removed from the address bar."
      : "Keys kept in this tab from earlier.";
  } else if (match) {
    $("admin-keys-source").textContent = "The keys in the link were ignored: this Worker is not running in dev mode (make dev).";
  } else {
    $("admin-keys-source").textContent = "Open the console link that make dev prints to fill these in.";
  }
}

// --- Start ---------------------------------------------------------------------------------------

async function start() {
  $("endpoint").textContent = location.origin;
  const devKeys = adoptDevKeys();
  renderAdminScope();
  renderWho();
  $("pool-id").addEventListener("input", renderAdminScope);
  $("signin-form").addEventListener("submit", onSignIn);
  $("new-password-form").addEventListener("submit", onNewPassword);
  $("call-api").addEventListener("click", onCallApi);
  $("refresh-tokens").addEventListener("click", onRefresh);
  $("global-sign-out").addEventListener("click", onGlobalSignOut);
  $("forget-session").addEventListener("click", onForget);
  $("admin-form").addEventListener("submit", onAdminSignOut);
  $("list-revocations").addEventListener("click", onListRevocations);

  await devKeys;
  let duration;
  try {
    duration = await wasmReady;
  } catch (err) {
    $("wasm-status").textContent = `The wasm package did not load: ${err.message}`;
    $("wasm-status").className = "wasm-failed";
    return;
  }
  const status = $("wasm-status");
  status.textContent = `wasm package ready (init ${duration.toFixed(1)} ms)`;
  status.dataset.initMs = duration.toFixed(1);
  document.documentElement.dataset.ready = "true";
  renderTokens();
  setInterval(tick, 1000);
}

start();
