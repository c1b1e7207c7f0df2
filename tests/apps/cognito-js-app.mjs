// An app's sign-in code with amazon-cognito-identity-js (unmodified, default options): a
// CognitoUserPool with `endpoint` pointed at edge-revoke. The same module runs bundled by esbuild
// in Chromium and imported in Node; every step answers plain data (errors as
// {error: {name, message}}) so a test can drive it across the page boundary.
import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
} from "amazon-cognito-identity-js";

const plain = async (work) => {
  try {
    return (await work()) ?? {};
  } catch (err) {
    return { error: { name: err?.name ?? err?.code, message: err?.message } };
  }
};

// The library's node-style callbacks, as promises.
const call = (fn) => new Promise((resolve, reject) => fn((err, out) => (err ? reject(err) : resolve(out))));

export function createApp({ endpoint, userPoolId, userPoolClientId }) {
  const pool = new CognitoUserPool({ UserPoolId: userPoolId, ClientId: userPoolClientId, endpoint });
  const user = (username) => new CognitoUser({ Username: username, Pool: pool });
  const current = () => {
    const signedIn = pool.getCurrentUser();
    if (!signedIn) throw Object.assign(new Error("nobody is signed in"), { name: "NoCurrentUser" });
    return signedIn;
  };
  // getSession refreshes (REFRESH_TOKEN_AUTH) when the tokens have expired by the page's clock.
  const session = async () => {
    const signedIn = current();
    const got = await call((cb) => signedIn.getSession(cb));
    return { signedIn, session: got };
  };
  const tokens = (got) => ({
    access: got.getAccessToken().getJwtToken(),
    id: got.getIdToken().getJwtToken(),
    refresh: got.getRefreshToken().getToken(),
    sub: got.getIdToken().payload.sub,
  });
  return {
    library: "amazon-cognito-identity-js",
    signUp: (username, password, email) =>
      plain(async () => {
        const out = await call((cb) => pool.signUp(username, password, [new CognitoUserAttribute({ Name: "email", Value: email })], null, cb));
        return { userConfirmed: out.userConfirmed, userSub: out.userSub, codeDeliveryDetails: out.codeDeliveryDetails };
      }),
    confirmSignUp: (username, code) => plain(() => call((cb) => user(username).confirmRegistration(code, false, cb))),
    signIn: (username, password) =>
      plain(
        () =>
          new Promise((resolve, reject) => {
            user(username).authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
              onSuccess: (got) => resolve({ signedIn: true, username: got.getAccessToken().payload.username }),
              onFailure: reject,
              newPasswordRequired: () => resolve({ nextStep: "NEW_PASSWORD_REQUIRED" }),
            });
          }),
      ),
    currentUser: () => plain(async () => ({ username: current().getUsername() })),
    tokens: () => plain(async () => tokens((await session()).session)),
    forceRefresh: () =>
      plain(async () => {
        const { signedIn, session: got } = await session();
        return tokens(await call((cb) => signedIn.refreshSession(got.getRefreshToken(), cb)));
      }),
    callApi: () =>
      plain(async () => {
        const { access } = tokens((await session()).session);
        const res = await fetch(`${endpoint}/api/me`, { headers: { authorization: `Bearer ${access}` } });
        return { status: res.status, body: await res.json() };
      }),
    attributes: () =>
      plain(async () => {
        const { signedIn } = await session();
        const list = await call((cb) => signedIn.getUserAttributes(cb));
        return Object.fromEntries(list.map((a) => [a.getName(), a.getValue()]));
      }),
    updateAttributes: (attributes) =>
      plain(async () => {
        const { signedIn } = await session();
        const list = Object.entries(attributes).map(([Name, Value]) => new CognitoUserAttribute({ Name, Value }));
        return call((cb) => signedIn.updateAttributes(list, cb));
      }),
    changePassword: (oldPassword, newPassword) =>
      plain(async () => {
        const { signedIn } = await session();
        return call((cb) => signedIn.changePassword(oldPassword, newPassword, cb));
      }),
    forgotPassword: (username) =>
      plain(
        () =>
          new Promise((resolve, reject) => {
            user(username).forgotPassword({ onSuccess: resolve, onFailure: reject, inputVerificationCode: resolve });
          }),
      ),
    confirmForgotPassword: (username, code, newPassword) =>
      plain(
        () =>
          new Promise((resolve, reject) => {
            user(username).confirmPassword(code, newPassword, { onSuccess: () => resolve("SUCCESS"), onFailure: reject });
          }),
      ),
    signOut: () =>
      plain(async () => {
        const { signedIn } = await session();
        return new Promise((resolve, reject) => signedIn.signOut((err) => (err ? reject(err) : resolve({}))));
      }),
    signOutGlobally: () =>
      plain(async () => {
        const { signedIn } = await session();
        return new Promise((resolve, reject) => signedIn.globalSignOut({ onSuccess: resolve, onFailure: reject }));
      }),
    deleteUser: () =>
      plain(async () => {
        const { signedIn } = await session();
        return call((cb) => signedIn.deleteUser(cb));
      }),
  };
}
