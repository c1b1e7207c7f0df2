//! One file per Cognito operation, declared in one table with the way its caller is
//! authenticated.
//!
//! Each entry of the `operations!` table below declares an operation's name (as in
//! `X-Amz-Target`), its module (`src/ops/<module>.rs`, whose `pub async fn run(input, ctx)`
//! applies it) and its [`Auth`]. The table generates the [`Operation`] variant, [`Operation::name`],
//! [`Operation::auth`], [`Operation::ALL`], the `mod` declaration and the dispatch, so an
//! operation cannot be served without a declared auth, and forgetting its file or its `run` is a
//! compile error. Names not in the table are answered UnknownOperationException by `api`.
//!
//! Each file reads its input (wrong JSON types are `SerializationException`), validates it with
//! Cognito's grammar (`InvalidParameterException`), checks the caller, and applies it. A SigV4
//! operation names its pool through [`admin_target`] or [`Ctx::require_permission`]; an
//! access-token operation gets its caller from [`signed_in_caller`], a `NotRevoked` that only
//! the token and revocation checks can make.
//!
//! What several operations share lives beside them, not in the table: `signin` (clients,
//! SECRET_HASH, password sign-in, what follows a proof, sessions and tokens), `srp_flow` (the
//! SRP exchange's I/O), `refresh` (both refreshes, rotation) and `account` (setting a password
//! with its verifier, the signed-in user, codes and where they go, ending sessions).

mod account;
mod input;
mod refresh;
mod signin;
mod srp_flow;

use serde_json::{Map, Value};

pub use input::{empty, validated, AttributePair, Input};

use crate::{
    auth::Expect,
    config::{region_of, AdminCredential, Config, Pool},
    error::{ApiError, Error, TokenError},
    iam,
    local::{
        tokens::ADMIN_SCOPE,
        users::{Directory, User},
    },
    revocation::{Actor, NotRevoked, Receipt, Revocations},
    services::{Io, Services},
    sigv4::SigV4Error,
    validate::Violations,
};

/// How the caller of an operation is authenticated; declared beside the operation in
/// `operations!`, never inferred from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// An AWS Signature Version 4 by an admin credential (`ADMIN_CREDENTIALS`) whose IAM policy
    /// allows `action` on the pool. Unsigned callers are refused.
    SigV4 {
        /// The IAM action, `cognito-idp:<Operation>`.
        action: &'static str,
    },
    /// An access token in the body (`AccessToken`), verified, unrevoked and carrying
    /// `aws.cognito.signin.user.admin` ([`signed_in_caller`]).
    AccessToken,
    /// An app client named in the body (`ClientId`), with its secret (or `SECRET_HASH`) where
    /// the client has one.
    AppClient,
}

/// Declares the operations: `Name => module, auth;`. See the module doc.
macro_rules! operations {
    ($( $(#[doc = $doc:literal])* $name:ident => $module:ident, $auth:expr; )*) => {
        $( mod $module; )*

        /// The operations this endpoint serves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation {
            $( $(#[doc = $doc])* $name, )*
        }

        impl Operation {
            /// Every operation, in the order of the table.
            pub const ALL: &'static [Operation] = &[$(Operation::$name),*];

            /// The operation's name, as in `X-Amz-Target`.
            pub fn name(self) -> &'static str {
                match self {
                    $( Operation::$name => stringify!($name), )*
                }
            }

            /// How its caller is authenticated.
            pub fn auth(self) -> Auth {
                match self {
                    $( Operation::$name => $auth, )*
                }
            }
        }

        /// Applies the operation (the caller has been checked against its auth).
        async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
            match ctx.operation {
                $( Operation::$name => $module::run(input, ctx).await, )*
            }
        }
    };
}

operations! {
    /// Signs a user out everywhere.
    AdminUserGlobalSignOut => admin_user_global_sign_out,
        Auth::SigV4 { action: "cognito-idp:AdminUserGlobalSignOut" };
    /// Signs the caller out everywhere.
    GlobalSignOut => global_sign_out, Auth::AccessToken;
    /// The caller's profile.
    GetUser => get_user, Auth::AccessToken;
    /// Revokes one session by its refresh token.
    RevokeToken => revoke_token, Auth::AppClient;
    /// Signs in: SRP, password, choice-based; refreshes (local pools).
    InitiateAuth => initiate_auth, Auth::AppClient;
    /// Answers a sign-in challenge: SRP's proof, a choice, a new password (local pools).
    RespondToAuthChallenge => respond_to_auth_challenge, Auth::AppClient;
    /// Refreshes a session, rotating the refresh token where the client asks (local pools).
    GetTokensFromRefreshToken => get_tokens_from_refresh_token, Auth::AppClient;
    /// Registers a user, unconfirmed unless the pool confirms at once (local pools).
    SignUp => sign_up, Auth::AppClient;
    /// Confirms a signed-up user with their code (local pools).
    ConfirmSignUp => confirm_sign_up, Auth::AppClient;
    /// Issues a new sign-up code (local pools).
    ResendConfirmationCode => resend_confirmation_code, Auth::AppClient;
    /// Issues a password-reset code (local pools).
    ForgotPassword => forgot_password, Auth::AppClient;
    /// Sets a new password with a reset code (local pools).
    ConfirmForgotPassword => confirm_forgot_password, Auth::AppClient;
    /// The caller changes their password (local pools).
    ChangePassword => change_password, Auth::AccessToken;
    /// The caller changes their attributes (local pools).
    UpdateUserAttributes => update_user_attributes, Auth::AccessToken;
    /// Issues a code to verify the caller's email (local pools).
    GetUserAttributeVerificationCode => get_user_attribute_verification_code, Auth::AccessToken;
    /// Verifies the caller's email with its code (local pools).
    VerifyUserAttribute => verify_user_attribute, Auth::AccessToken;
    /// The caller deletes themself; their tokens are revoked (local pools).
    DeleteUser => delete_user, Auth::AccessToken;
    /// Creates a user (local pools).
    AdminCreateUser => admin_create_user, Auth::SigV4 { action: "cognito-idp:AdminCreateUser" };
    /// Sets a user's password (local pools).
    AdminSetUserPassword => admin_set_user_password,
        Auth::SigV4 { action: "cognito-idp:AdminSetUserPassword" };
    /// Reads a user (local pools).
    AdminGetUser => admin_get_user, Auth::SigV4 { action: "cognito-idp:AdminGetUser" };
    /// Disables a user and revokes their tokens (local pools).
    AdminDisableUser => admin_disable_user, Auth::SigV4 { action: "cognito-idp:AdminDisableUser" };
    /// Enables a user (local pools).
    AdminEnableUser => admin_enable_user, Auth::SigV4 { action: "cognito-idp:AdminEnableUser" };
    /// Deletes a user and revokes their tokens (local pools).
    AdminDeleteUser => admin_delete_user, Auth::SigV4 { action: "cognito-idp:AdminDeleteUser" };
    /// Confirms a signed-up user without a code (local pools).
    AdminConfirmSignUp => admin_confirm_sign_up,
        Auth::SigV4 { action: "cognito-idp:AdminConfirmSignUp" };
    /// Reads the codes waiting for a user: where a local pool's codes go instead of mail. Not a
    /// Cognito operation (local pools only).
    AdminGetConfirmationCodes => admin_get_confirmation_codes,
        Auth::SigV4 { action: "cognito-idp:AdminGetConfirmationCodes" };
    /// Lists a pool's latest revocations with who wrote each and why (the console's admin
    /// panel). Not a Cognito operation.
    AdminListRevocations => admin_list_revocations,
        Auth::SigV4 { action: "cognito-idp:AdminListRevocations" };
}

impl Operation {
    /// The operation with this exact name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }
}

/// Who is calling.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// An admin credential whose SigV4 signature verified.
    Admin {
        /// The credential.
        credential: &'a AdminCredential,
        /// The region of the signature's credential scope.
        region: &'a str,
    },
    /// Nobody in particular: the operation authorises by the token or client in its body.
    Anonymous,
    /// Code in the same Worker calling the JavaScript API: already trusted.
    Trusted,
}

/// What an operation may use.
pub struct Ctx<'a> {
    /// The operation being run.
    pub operation: Operation,
    /// Token verification, the revocation list, the isolate's caches.
    pub services: &'a Services,
    /// The configuration.
    pub config: &'a Config,
    /// The request's I/O.
    pub io: &'a Io<'a>,
    /// Who is calling.
    pub caller: Caller<'a>,
    /// When the revocations this call writes are enforced everywhere (the answer's
    /// `x-edge-revoke-enforced-by`).
    pub receipt: &'a Receipt,
}

impl Ctx<'_> {
    /// Refuses a caller the operation's [`Auth`] does not admit on `pool_id`: for a SigV4
    /// operation, an unsigned caller; an admin whose signature is scoped to another region than
    /// `pool_id`'s (a regional endpoint answers for its own region only); an admin whose IAM
    /// policy excludes the action on `pool_id`. Like IAM, before the pool is looked up.
    pub fn require_permission(&self, pool_id: &str) -> Result<(), Error> {
        match self.operation.auth() {
            Auth::SigV4 { action } => permit_signed(self.caller, action, pool_id),
            // The token or client in the body is the credential; the operation checks it.
            Auth::AccessToken | Auth::AppClient => Ok(()),
        }
    }

    /// The pool with this id, or Cognito's ResourceNotFoundException.
    pub fn pool(&self, pool_id: &str) -> Result<&Pool, Error> {
        self.config
            .pool(pool_id)
            .ok_or_else(|| ApiError::PoolNotFound(pool_id.to_owned()).into())
    }

    /// The revocation list; its writes note this call's receipt.
    pub fn revocations(&self) -> Revocations<'_> {
        self.services
            .revocations_noting(self.config, self.io, self.receipt)
    }

    /// The user directory of a local pool.
    pub fn directory<'p>(&'p self, pool: &'p Pool) -> Result<Directory<'p>, Error> {
        if pool.local.is_none() {
            return Err(ApiError::NotLocalPool(pool.id.clone()).into());
        }
        Ok(Directory::new(pool, self.io.store.users(), self.io.now_ms))
    }

    /// Who the revocation entries record as the actor: `who`, for this operation.
    pub fn actor<'s>(&'s self, who: &'s str) -> Actor<'s> {
        Actor {
            by: who,
            reason: self.operation.name(),
            request_id: self.io.request_id,
        }
    }

    /// The caller's name for the record: the access key id, or `js-api`.
    pub fn caller_name(&self) -> &str {
        match self.caller {
            Caller::Admin { credential, .. } => &credential.access_key_id,
            Caller::Trusted => "js-api",
            Caller::Anonymous => "anonymous",
        }
    }

    /// A local pool's user, found by username, email alias or sub; UserNotFoundException if none.
    pub async fn user(&self, pool: &Pool, username: &str) -> Result<User, Error> {
        self.directory(pool)?
            .find(username)
            .await?
            .ok_or_else(|| ApiError::UserNotFound.into())
    }
}

/// Refuses `caller` the IAM `action` on `pool_id` as [`Ctx::require_permission`] does for a
/// SigV4 operation (also for the Cognito operations the proxy forwards without a file here):
/// an unsigned caller; a signature scoped to another region than the pool's; an IAM policy that
/// excludes the action on the pool. A trusted caller passes.
pub fn permit_signed(caller: Caller<'_>, action: &str, pool_id: &str) -> Result<(), Error> {
    match caller {
        Caller::Anonymous => Err(SigV4Error::MissingAuthenticationToken.into()),
        Caller::Admin { region, .. } if region != region_of(pool_id) => {
            Err(SigV4Error::WrongRegion {
                region: region.to_owned(),
            }
            .into())
        }
        Caller::Admin { credential, .. } => {
            if iam::permits(credential, action, pool_id) {
                Ok(())
            } else {
                Err(ApiError::AccessDenied(iam::denial(credential, action, pool_id)).into())
            }
        }
        Caller::Trusted => Ok(()),
    }
}

/// The `UserPoolId` and `Username` every admin user operation takes: read, validated, the
/// caller's permission checked (before the pool is looked up, as IAM is), then the pool found.
pub fn admin_target<'c>(input: Input<'c>, ctx: &'c Ctx<'_>) -> Result<(&'c Pool, &'c str), Error> {
    let pool_id = input.string("UserPoolId")?;
    let username = input.string("Username")?;
    validated(
        Violations::new()
            .string("userPoolId", pool_id, &crate::validate::USER_POOL_ID, true)
            .string("username", username, &crate::validate::USERNAME, true),
    )?;
    let (pool_id, username) = (pool_id.unwrap_or_default(), username.unwrap_or_default());
    ctx.require_permission(pool_id)?;
    Ok((ctx.pool(pool_id)?, username))
}

/// The caller of a token-authorised user operation: `AccessToken` validated, verified, not
/// revoked, and carrying the scope Cognito requires (`aws.cognito.signin.user.admin`).
pub async fn signed_in_caller(input: Input<'_>, ctx: &Ctx<'_>) -> Result<NotRevoked, Error> {
    let token = input.string("AccessToken")?;
    validated(Violations::new().string("accessToken", token, &crate::validate::TOKEN_MODEL, true))?;
    let caller = ctx
        .services
        .authorize(
            ctx.config,
            token.unwrap_or_default(),
            &Expect::ACCESS,
            ctx.io,
        )
        .await?;
    if !caller.auth().claims().has_scope(ADMIN_SCOPE) {
        return Err(caller.auth().refuse(TokenError::MissingScope));
    }
    Ok(caller)
}

/// Runs `ctx.operation` on `body`. A SigV4 operation refuses an unsigned caller here, before its
/// input is read, whatever its file does.
pub async fn dispatch(body: &Map<String, Value>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    if let (Auth::SigV4 { .. }, Caller::Anonymous) = (ctx.operation.auth(), ctx.caller) {
        return Err(SigV4Error::MissingAuthenticationToken.into());
    }
    run(Input(body), ctx).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{crypto::RustCrypto, ports::MemoryStore, ports::NoFetch, ports::Unlimited};

    #[test]
    fn operation_names_round_trip_exactly() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
        }
        assert_eq!(Operation::from_name("adminUserGlobalSignOut"), None);
        assert_eq!(Operation::from_name("ListUsers"), None);
    }

    #[test]
    fn every_sigv4_operation_declares_its_own_iam_action() {
        for op in Operation::ALL {
            if let Auth::SigV4 { action } = op.auth() {
                assert_eq!(action, format!("{}{}", iam::SERVICE_PREFIX, op.name()));
            }
        }
    }

    #[test]
    fn an_anonymous_caller_is_refused_by_every_sigv4_operation_before_it_reads_its_input() {
        let config = Config::from_env(&serde_json::from_value(serde_json::json!({
            "POOLS": [{"id": "us-east-1_A1", "clients": [{"id": "c"}], "algorithms": ["HS256"],
                       "jwks": {"keys": [{"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}}]
        })).unwrap())
        .unwrap();
        let (store, services) = (MemoryStore::new(), Services::new());
        let io = Io {
            store: &store,
            fetcher: &NoFetch,
            limiter: &Unlimited,
            verifier: &RustCrypto,
            now_ms: 1_700_000_000_000,
            request_id: "r",
            log: &|_| {},
        };
        // A body that would pass validation: only the caller can be what refuses it.
        let mut body = Map::new();
        body.insert("UserPoolId".into(), "us-east-1_A1".into());
        body.insert("Username".into(), "alice".into());
        let mut sigv4 = 0;
        for &operation in Operation::ALL {
            let Auth::SigV4 { .. } = operation.auth() else {
                continue;
            };
            sigv4 += 1;
            for caller in [Caller::Anonymous, Caller::Trusted] {
                let ctx = Ctx {
                    operation,
                    services: &services,
                    config: &config,
                    io: &io,
                    caller,
                    receipt: &Receipt::new(),
                };
                let refused = matches!(
                    ctx.require_permission("us-east-1_A1"),
                    Err(Error::SigV4(SigV4Error::MissingAuthenticationToken))
                );
                assert_eq!(
                    refused,
                    matches!(caller, Caller::Anonymous),
                    "{operation:?}"
                );
                if matches!(caller, Caller::Anonymous) {
                    let answer = pollster::block_on(dispatch(&body, &ctx));
                    assert_eq!(
                        answer,
                        Err(Error::SigV4(SigV4Error::MissingAuthenticationToken)),
                        "{operation:?}"
                    );
                }
            }
        }
        assert!(sigv4 >= 7, "the admin operations are declared SigV4");
        assert_eq!(store.counts(), (0, 0), "nothing was read or written");
    }
}
