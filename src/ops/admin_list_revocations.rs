//! AdminListRevocations: a pool's latest revocations, with who wrote each and why (SigV4). Not
//! a Cognito operation: it is what the console's admin panel shows, Shared Signals revocations
//! (`by` `ssf:<transmitter id>`) among the others.
//!
//! Input: `{"UserPoolId", "Limit"?}` (`Limit` 1 to 60, default 60).
//! Output: `{"Revocations": [{"Kind": "user" | "session", "Subject", "RevokedAt" (epoch
//! seconds, with milliseconds), "By", "Reason", "RequestId"}], "Complete"}`, latest first.
//! `Subject` is the user id (or `origin_jti`) as keyed; `Complete` is `false` when the store
//! could consider only part of the pool's entries (`crate::revocation::listing`).

use serde_json::{json, Value};

use super::{validated, Ctx, Input};
use crate::{
    error::{ApiError, Error},
    revocation::listing::MAX_LISTED,
    validate::Violations,
};

pub async fn run(input: Input<'_>, ctx: &Ctx<'_>) -> Result<Value, Error> {
    let pool_id = input.string("UserPoolId")?;
    let limit = limit(input)?;
    validated(Violations::new().string(
        "userPoolId",
        pool_id,
        &crate::validate::USER_POOL_ID,
        true,
    ))?;
    let pool_id = pool_id.unwrap_or_default();
    ctx.require_permission(pool_id)?;
    let pool = ctx.pool(pool_id)?;
    let recent = ctx.revocations().recent(pool, limit).await?;
    let list: Vec<Value> = recent
        .entries
        .iter()
        .map(|listed| {
            json!({
                "Kind": listed.kind.as_str(),
                "Subject": listed.subject,
                "RevokedAt": listed.entry.revoked_at_ms as f64 / 1000.0,
                "By": listed.entry.by,
                "Reason": listed.entry.reason,
                "RequestId": listed.entry.request_id,
            })
        })
        .collect();
    Ok(json!({"Revocations": list, "Complete": recent.complete}))
}

/// `Limit`: a whole number from 1 to [`MAX_LISTED`]; absent, [`MAX_LISTED`].
fn limit(input: Input<'_>) -> Result<usize, Error> {
    let value = match input.0.get("Limit") {
        None | Some(Value::Null) => return Ok(MAX_LISTED),
        Some(value) => value,
    };
    let Some(n) = value.as_i64() else {
        let found = match value {
            Value::Number(_) => "a fractional number",
            Value::String(_) => "a string",
            Value::Bool(_) => "a boolean",
            Value::Array(_) => "a list",
            _ => "an object",
        };
        return Err(ApiError::Serialization(format!(
            "Unexpected field type at 'Limit': expected an integer, got {found}"
        ))
        .into());
    };
    let constraint = if n < 1 {
        "greater than or equal to 1".to_owned()
    } else if n > MAX_LISTED as i64 {
        format!("less than or equal to {MAX_LISTED}")
    } else {
        return Ok(usize::try_from(n).unwrap_or(MAX_LISTED));
    };
    Err(ApiError::InvalidParameter(format!(
        "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value {constraint}"
    ))
    .into())
}
