//! One file per Cognito operation, behind one dispatcher.
//!
//! Each file reads its input (wrong JSON types are `SerializationException`), validates it with
//! Cognito's grammar (`InvalidParameterException`), checks the caller, and applies it. Names not
//! listed in [`Operation`] are answered `UnknownOperationException` by the protocol layer.

mod admin_create_user;
mod admin_delete_user;
mod admin_get_user;
mod admin_set_user_enabled;
mod admin_set_user_password;
mod admin_user_global_sign_out;
mod get_user;
mod global_sign_out;
mod initiate_auth;
mod respond_to_auth_challenge;
mod revoke_token;
mod signin;

use serde_json::{Map, Value};

use crate::{
    app::{App, Io},
    auth::Expect,
    config::{region_of, AdminCredential, Config, Pool},
    error::{ApiError, Error, TokenError},
    iam,
    local::{
        tokens::ADMIN_SCOPE,
        users::{Directory, User},
    },
    revocation::{Actor, NotRevoked, Revocations},
    sigv4::SigV4Error,
    validate::Violations,
};

/// The operations this endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Signs a user out everywhere (SigV4).
    AdminUserGlobalSignOut,
    /// Signs the caller out everywhere (access token).
    GlobalSignOut,
    /// The caller's profile (access token).
    GetUser,
    /// Revokes one session by its refresh token.
    RevokeToken,
    /// Signs in (local pools).
    InitiateAuth,
    /// Answers a sign-in challenge (local pools).
    RespondToAuthChallenge,
    /// Creates a user (local pools, SigV4).
    AdminCreateUser,
    /// Sets a user's password (local pools, SigV4).
    AdminSetUserPassword,
    /// Reads a user (local pools, SigV4).
    AdminGetUser,
    /// Disables a user and revokes their tokens (local pools, SigV4).
    AdminDisableUser,
    /// Enables a user (local pools, SigV4).
    AdminEnableUser,
    /// Deletes a user and revokes their tokens (local pools, SigV4).
    AdminDeleteUser,
}

impl Operation {
    const ALL: [Operation; 12] = [
        Operation::AdminUserGlobalSignOut,
        Operation::GlobalSignOut,
        Operation::GetUser,
        Operation::RevokeToken,
        Operation::InitiateAuth,
        Operation::RespondToAuthChallenge,
        Operation::AdminCreateUser,
        Operation::AdminSetUserPassword,
        Operation::AdminGetUser,
        Operation::AdminDisableUser,
        Operation::AdminEnableUser,
        Operation::AdminDeleteUser,
    ];

    /// The operation's name, as in `X-Amz-Target` and IAM actions.
    pub fn name(self) -> &'static str {
        match self {
            Operation::AdminUserGlobalSignOut => "AdminUserGlobalSignOut",
            Operation::GlobalSignOut => "GlobalSignOut",
            Operation::GetUser => "GetUser",
            Operation::RevokeToken => "RevokeToken",
            Operation::InitiateAuth => "InitiateAuth",
            Operation::RespondToAuthChallenge => "RespondToAuthChallenge",
            Operation::AdminCreateUser => "AdminCreateUser",
            Operation::AdminSetUserPassword => "AdminSetUserPassword",
            Operation::AdminGetUser => "AdminGetUser",
            Operation::AdminDisableUser => "AdminDisableUser",
            Operation::AdminEnableUser => "AdminEnableUser",
            Operation::AdminDeleteUser => "AdminDeleteUser",
        }
    }

    /// The operation with this exact name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Whether callers authenticate with SigV4 (the IAM-authorised admin operations); the
    /// others are authorised by the token or client in their body.
    pub fn needs_sigv4(self) -> bool {
        self.name().starts_with("Admin")
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
    /// Nobody in particular: the operation authorises by token or client.
    Anonymous,
    /// Code in the same Worker calling the JavaScript API: already trusted.
    Trusted,
}

/// What an operation may use.
pub struct Ctx<'a> {
    /// The isolate's state.
    pub app: &'a App,
    /// The configuration.
    pub config: &'a Config,
    /// The request's I/O.
    pub io: &'a Io<'a>,
    /// Who is calling.
    pub caller: Caller<'a>,
}

impl Ctx<'_> {
    /// Refuses an admin caller whose signature is scoped to another region than `pool_id`'s
    /// (a regional endpoint answers for its own region only), or whose allow-list excludes
    /// `operation` on `pool_id`. Like IAM, before the pool is looked up.
    pub fn require_permission(&self, operation: Operation, pool_id: &str) -> Result<(), Error> {
        match self.caller {
            Caller::Admin { region, .. } if region != region_of(pool_id) => {
                Err(SigV4Error::WrongRegion {
                    region: region.to_owned(),
                }
                .into())
            }
            Caller::Admin { credential, .. }
                if !iam::permits(
                    credential,
                    &format!("cognito-idp:{}", operation.name()),
                    pool_id,
                ) =>
            {
                Err(ApiError::AccessDenied(iam::denial(
                    credential,
                    &format!("cognito-idp:{}", operation.name()),
                    pool_id,
                ))
                .into())
            }
            _ => Ok(()),
        }
    }

    /// The pool with this id, or Cognito's ResourceNotFoundException.
    pub fn pool(&self, pool_id: &str) -> Result<&Pool, Error> {
        self.config
            .pool(pool_id)
            .ok_or_else(|| ApiError::PoolNotFound(pool_id.to_owned()).into())
    }

    /// The revocation list.
    pub fn revocations(&self) -> Revocations<'_> {
        self.app.revocations(self.config, self.io)
    }

    /// The user directory of a local pool.
    pub fn directory<'p>(&'p self, pool: &'p Pool) -> Result<Directory<'p>, Error> {
        if pool.local.is_none() {
            return Err(ApiError::NotLocalPool(pool.id.clone()).into());
        }
        Ok(Directory::new(pool, self.io.store, self.io.now_ms))
    }

    /// Who the revocation entries record as the actor.
    pub fn actor<'s>(&'s self, operation: Operation, who: &'s str) -> Actor<'s> {
        Actor {
            by: who,
            reason: operation.name(),
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

/// The `UserPoolId` and `Username` every admin user operation takes: read, validated, the
/// caller's permission checked (before the pool is looked up, as IAM is), then the pool found.
pub fn admin_target<'c>(
    input: Input<'c>,
    ctx: &'c Ctx<'_>,
    operation: Operation,
) -> Result<(&'c Pool, &'c str), Error> {
    let pool_id = input.string("UserPoolId")?;
    let username = input.string("Username")?;
    validated(
        Violations::new()
            .string("userPoolId", pool_id, &crate::validate::USER_POOL_ID, true)
            .string("username", username, &crate::validate::USERNAME, true),
    )?;
    let (pool_id, username) = (pool_id.unwrap_or_default(), username.unwrap_or_default());
    ctx.require_permission(operation, pool_id)?;
    Ok((ctx.pool(pool_id)?, username))
}

/// The caller of a token-authorised user operation: `AccessToken` validated, verified, not
/// revoked, and carrying the scope Cognito requires (`aws.cognito.signin.user.admin`).
pub async fn signed_in_caller(input: Input<'_>, ctx: &Ctx<'_>) -> Result<NotRevoked, Error> {
    let token = input.string("AccessToken")?;
    validated(Violations::new().string("accessToken", token, &crate::validate::TOKEN_MODEL, true))?;
    let caller = ctx
        .app
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

/// Runs `operation` on `body`.
pub async fn dispatch(
    operation: Operation,
    body: &Map<String, Value>,
    ctx: &Ctx<'_>,
) -> Result<Value, Error> {
    let input = Input(body);
    match operation {
        Operation::AdminUserGlobalSignOut => admin_user_global_sign_out::run(input, ctx).await,
        Operation::GlobalSignOut => global_sign_out::run(input, ctx).await,
        Operation::GetUser => get_user::run(input, ctx).await,
        Operation::RevokeToken => revoke_token::run(input, ctx).await,
        Operation::InitiateAuth => initiate_auth::run(input, ctx).await,
        Operation::RespondToAuthChallenge => respond_to_auth_challenge::run(input, ctx).await,
        Operation::AdminCreateUser => admin_create_user::run(input, ctx).await,
        Operation::AdminSetUserPassword => admin_set_user_password::run(input, ctx).await,
        Operation::AdminGetUser => admin_get_user::run(input, ctx).await,
        Operation::AdminDisableUser => admin_set_user_enabled::run(input, ctx, false).await,
        Operation::AdminEnableUser => admin_set_user_enabled::run(input, ctx, true).await,
        Operation::AdminDeleteUser => admin_delete_user::run(input, ctx).await,
    }
}

/// A `{Name, Value}` attribute as given (either part may be missing).
pub type AttributePair<'a> = (Option<&'a str>, Option<&'a str>);

/// An operation's input members, read with type checks.
#[derive(Clone, Copy)]
pub struct Input<'a>(&'a Map<String, Value>);

/// Coral's message for a member of the wrong JSON type.
const WRONG_TYPE: &str = "Unexpected field type";

impl<'a> Input<'a> {
    /// A string member; absent or null is `None`.
    pub fn string(self, name: &str) -> Result<Option<&'a str>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::Serialization(WRONG_TYPE).into()),
        }
    }

    /// A boolean member; absent or null is `None`.
    pub fn bool(self, name: &str) -> Result<Option<bool>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::Serialization(WRONG_TYPE).into()),
        }
    }

    /// A map of strings to strings; absent or null is `None`.
    pub fn string_map(self, name: &str) -> Result<Option<Vec<(&'a str, &'a str)>>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.as_str(), s.as_str())),
                    _ => Err(ApiError::Serialization(WRONG_TYPE).into()),
                })
                .collect::<Result<Vec<_>, Error>>()
                .map(Some),
            Some(_) => Err(ApiError::Serialization(WRONG_TYPE).into()),
        }
    }

    /// A list of `{Name, Value}` attributes; absent or null is `None`.
    pub fn attributes(self, name: &str) -> Result<Option<Vec<AttributePair<'a>>>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    let item = Input(
                        item.as_object()
                            .ok_or(ApiError::Serialization(WRONG_TYPE))?,
                    );
                    Ok((item.string("Name")?, item.string("Value")?))
                })
                .collect::<Result<Vec<_>, Error>>()
                .map(Some),
            Some(_) => Err(ApiError::Serialization(WRONG_TYPE).into()),
        }
    }

    /// A list of strings; absent or null is `None`.
    pub fn strings(self, name: &str) -> Result<Option<Vec<&'a str>>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| ApiError::Serialization(WRONG_TYPE).into())
                })
                .collect::<Result<Vec<_>, Error>>()
                .map(Some),
            Some(_) => Err(ApiError::Serialization(WRONG_TYPE).into()),
        }
    }
}

/// Turns collected violations into Cognito's InvalidParameterException.
pub fn validated(violations: &Violations) -> Result<(), Error> {
    match violations.message() {
        Some(message) => Err(ApiError::InvalidParameter(message).into()),
        None => Ok(()),
    }
}

/// An empty success: `{}`.
pub fn empty() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_round_trip_and_admin_ones_need_sigv4() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
        }
        assert!(Operation::AdminUserGlobalSignOut.needs_sigv4());
        assert!(!Operation::GlobalSignOut.needs_sigv4());
        assert!(!Operation::RevokeToken.needs_sigv4());
        assert_eq!(Operation::from_name("adminUserGlobalSignOut"), None);
        assert_eq!(Operation::from_name("ListUsers"), None);
    }
}
