// An app's sign-in code with Amplify v6 (aws-amplify, unmodified, default options): what a web
// app writes, pointed at edge-revoke with `userPoolEndpoint`. The same module runs bundled by
// esbuild in Chromium and imported in Node; every step answers plain data (errors as
// {error: {name, message}}) so a test can drive it across the page boundary.
import { Amplify } from "aws-amplify";
import {
  confirmResetPassword,
  confirmSignUp,
  deleteUser,
  fetchAuthSession,
  fetchUserAttributes,
  getCurrentUser,
  resetPassword,
  signIn,
  signOut,
  signUp,
  updatePassword,
  updateUserAttributes,
} from "aws-amplify/auth";

const plain = async (work) => {
  try {
    return (await work()) ?? {};
  } catch (err) {
    return { error: { name: err?.name, message: err?.message } };
  }
};

export function createApp({ endpoint, userPoolId, userPoolClientId }) {
  // The whole configuration an app gives: the pool, the client, and where Cognito is.
  Amplify.configure({ Auth: { Cognito: { userPoolId, userPoolClientId, userPoolEndpoint: endpoint } } });
  const tokens = async (options) => {
    const session = await fetchAuthSession(options);
    return {
      access: session.tokens?.accessToken?.toString(),
      id: session.tokens?.idToken?.toString(),
      sub: session.userSub,
    };
  };
  return {
    library: "aws-amplify",
    signUp: (username, password, email) =>
      plain(() => signUp({ username, password, options: { userAttributes: { email } } })),
    confirmSignUp: (username, code) => plain(() => confirmSignUp({ username, confirmationCode: code })),
    signIn: (username, password) => plain(() => signIn({ username, password })),
    signInWith: (username, password, authFlowType, preferredChallenge) =>
      plain(() => signIn({ username, password, options: { authFlowType, preferredChallenge } })),
    currentUser: () => plain(() => getCurrentUser()),
    tokens: () => plain(() => tokens()),
    forceRefresh: () => plain(() => tokens({ forceRefresh: true })),
    callApi: () =>
      plain(async () => {
        const { access } = await tokens();
        const res = await fetch(`${endpoint}/api/me`, { headers: { authorization: `Bearer ${access}` } });
        return { status: res.status, body: await res.json() };
      }),
    attributes: () => plain(() => fetchUserAttributes()),
    updateAttributes: (userAttributes) => plain(() => updateUserAttributes({ userAttributes })),
    changePassword: (oldPassword, newPassword) => plain(() => updatePassword({ oldPassword, newPassword })),
    forgotPassword: (username) => plain(() => resetPassword({ username })),
    confirmForgotPassword: (username, code, newPassword) =>
      plain(() => confirmResetPassword({ username, confirmationCode: code, newPassword })),
    signOut: () => plain(() => signOut()),
    signOutGlobally: () => plain(() => signOut({ global: true })),
    deleteUser: () => plain(() => deleteUser()),
  };
}
