//! InitiateAuth for local pools: sign-in with SRP (`USER_SRP_AUTH`, the default of Amplify and
//! amazon-cognito-identity-js), with a password (`USER_PASSWORD_AUTH`), choice-based
//! (`USER_AUTH`: `PASSWORD` or `PASSWORD_SRP`, or SELECT_CHALLENGE to choose), and refresh
//! (`REFRESH_TOKEN_AUTH` / `REFRESH_TOKEN`). Other flows are refused with what to use instead.

use serde_json::{json, Value};

use super::{
    refresh::{self, ClientProof, Via},
    signin::{
        challenge_session, check_secret_hash, find_client, missing, param, password_sign_in,
        signing_keys,
    },
    srp_flow, validated, Ctx, Input,
};
use crate::{
    error::{ApiError, Error},
    validate::{Violations, AUTH_FLOW, AUTH_PARAMETERS, CLIENT_METADATA, INITIATE_AUTH_CLIENT_ID},
};

/// The first factors a local pool offers to `USER_AUTH`, as SELECT_CHALLENGE lists them.
pub const AVAILABLE_CHALLENGES: [&str; 2] = ["PASSWORD", "PASSWORD_SRP"];

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let flow = input.string("AuthFlow")?;
    let params = input.string_map("AuthParameters")?;
    let metadata = input.string_map("ClientMetadata")?;
    let client_id = input.string("ClientId")?;
    input.object("AnalyticsMetadata")?;
    input.object("UserContextData")?;
    input.string("Session")?;
    validated(
        Violations::new()
            .string("authFlow", flow, &AUTH_FLOW, true)
            .map("authParameters", params.clone(), &AUTH_PARAMETERS, false)
            .map("clientMetadata", metadata, &CLIENT_METADATA, false)
            .string("clientId", client_id, &INITIATE_AUTH_CLIENT_ID, true),
    )?;
    let params = params.unwrap_or_default();
    let (pool, client) = find_client(ctx, client_id.unwrap_or_default())?;
    signing_keys(ctx, pool)?;
    let username = || param(&params, "USERNAME").ok_or_else(|| missing("USERNAME"));
    let secret_hash = param(&params, "SECRET_HASH");
    match flow.unwrap_or_default() {
        "USER_SRP_AUTH" => {
            let username = username()?;
            check_secret_hash(client, &[username], secret_hash)?;
            srp_flow::start(ctx, pool, client, username, param(&params, "SRP_A")).await
        }
        "USER_PASSWORD_AUTH" => {
            let username = username()?;
            let password = param(&params, "PASSWORD").ok_or_else(|| missing("PASSWORD"))?;
            check_secret_hash(client, &[username], secret_hash)?;
            password_sign_in(ctx, pool, client, username, password).await
        }
        "USER_AUTH" => {
            let username = username()?;
            check_secret_hash(client, &[username], secret_hash)?;
            match param(&params, "PREFERRED_CHALLENGE") {
                Some("PASSWORD_SRP") => {
                    srp_flow::start(ctx, pool, client, username, param(&params, "SRP_A")).await
                }
                Some("PASSWORD") => {
                    let password =
                        param(&params, "PASSWORD").ok_or_else(|| missing("PASSWORD"))?;
                    password_sign_in(ctx, pool, client, username, password).await
                }
                // No preference, or one this pool does not offer: the user chooses, as Cognito
                // answers a preference it cannot meet. Nobody is looked up, so the answer is
                // the same for every name.
                _ => {
                    let mut claims = serde_json::Map::new();
                    claims.insert("username".into(), Value::from(username));
                    let session = challenge_session(ctx, pool, client, "select", claims)?;
                    Ok(json!({
                        "ChallengeName": "SELECT_CHALLENGE",
                        "Session": session,
                        "ChallengeParameters": {},
                        "AvailableChallenges": AVAILABLE_CHALLENGES,
                    }))
                }
            }
        }
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
            let token = param(&params, "REFRESH_TOKEN").ok_or_else(|| missing("REFRESH_TOKEN"))?;
            refresh::refresh(
                ctx,
                pool,
                client,
                token,
                ClientProof::SecretHash(secret_hash),
                Via::InitiateAuth,
            )
            .await
        }
        "CUSTOM_AUTH" => Err(unsupported(
            "CUSTOM_AUTH",
            "local pools have no Lambda triggers to run a custom challenge",
        )),
        admin @ ("ADMIN_NO_SRP_AUTH" | "ADMIN_USER_PASSWORD_AUTH") => Err(unsupported(
            admin,
            "it belongs to AdminInitiateAuth, which this endpoint does not serve",
        )),
        other => Err(ApiError::InvalidParameter(format!(
            "{other} flow not enabled for this client"
        ))
        .into()),
    }
}

/// InvalidParameterException for a flow Cognito has and local pools do not, with what to use.
fn unsupported(flow: &str, why: &str) -> Error {
    ApiError::InvalidParameter(format!(
        "{flow} flow not enabled for this client: {why}. Local pools sign in with USER_SRP_AUTH, \
         USER_PASSWORD_AUTH or USER_AUTH (PASSWORD, PASSWORD_SRP) and refresh with \
         REFRESH_TOKEN_AUTH or GetTokensFromRefreshToken."
    ))
    .into()
}
