//! GetTokensFromRefreshToken: Amplify v6's refresh (local pools). New access and ID tokens for
//! the session; a new refresh token too where the client rotates them (`ops::refresh`). A
//! `DeviceKey` is accepted and ignored: local pools track no devices.

use serde_json::Value;

use super::{
    refresh::{self, ClientProof, Via},
    signin::{find_client, signing_keys},
    validated, Ctx, Input,
};
use crate::{
    error::Error,
    validate::{Violations, CLIENT_ID, CLIENT_METADATA, CLIENT_SECRET, TOKEN_MODEL},
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let token = input.string("RefreshToken")?;
    let client_id = input.string("ClientId")?;
    let client_secret = input.string("ClientSecret")?;
    input.string("DeviceKey")?;
    let metadata = input.string_map("ClientMetadata")?;
    validated(
        Violations::new()
            .string("refreshToken", token, &TOKEN_MODEL, true)
            .string("clientId", client_id, &CLIENT_ID, true)
            .string("clientSecret", client_secret, &CLIENT_SECRET, false)
            .map("clientMetadata", metadata, &CLIENT_METADATA, false),
    )?;
    let (pool, client) = find_client(ctx, client_id.unwrap_or_default())?;
    signing_keys(ctx, pool)?;
    refresh::refresh(
        ctx,
        pool,
        client,
        token.unwrap_or_default(),
        ClientProof::ClientSecret(client_secret),
        Via::GetTokens,
    )
    .await
}
