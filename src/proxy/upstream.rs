//! Sending one call to a pool's upstream: the request built from nothing the caller sent but
//! the body and the operation name, signed with the Worker's own credentials where Cognito
//! wants a signature, and the answer turned back into a response.

use super::{Route, Signing};
use crate::{
    config::UpstreamCredentials,
    error::Error,
    http::Response,
    ports::{Inbound, Outbound},
    services::Io,
    sigv4::{self, RequestParts},
};

/// The protocol's content type.
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// The `X-Amz-Target` prefix of Cognito user-pool operations.
const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
/// The SigV4 service name of Cognito user pools.
const SERVICE: &str = "cognito-idp";
/// How long the upstream may take to answer, in ms. Cognito answers in tens of milliseconds;
/// past this the caller is told InternalErrorException, which SDKs retry.
pub const TIMEOUT_MS: u32 = 10_000;
/// Largest upstream answer read, in bytes. Cognito's largest pages (ListUsers, 60 users with
/// their attributes) are far below it.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// The answer headers passed back to the caller: Cognito's protocol needs no others.
const ANSWER_HEADERS: [&str; 4] = [
    "content-type",
    "x-amzn-requestid",
    "x-amzn-errortype",
    "x-amzn-errormessage",
];

/// Sends calls for one routed request.
pub struct Sender<'a> {
    /// Where to.
    pub route: &'a Route<'a>,
    /// The Worker's own credentials.
    pub credentials: &'a UpstreamCredentials,
    /// The request's I/O.
    pub io: &'a Io<'a>,
}

impl Sender<'_> {
    /// Sends operation `name` (signed as Cognito wants it) with `body` to the route's endpoint.
    /// A refused connection, a timeout, a redirect or an oversized answer is an
    /// [`Error::Internal`] (InternalErrorException), with the reason in the log only.
    pub async fn call(&self, name: &str, body: &[u8]) -> Result<Inbound, Error> {
        let signing = super::operations::lookup(name)
            .map(|(_, signing)| signing)
            .ok_or_else(|| Error::Internal(format!("{name} is not a Cognito operation")))?;
        let mut headers = vec![
            ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
            ("x-amz-target".to_owned(), format!("{TARGET_PREFIX}{name}")),
        ];
        if signing == Signing::Signed {
            headers = self.signed(headers, body)?;
        }
        let request = Outbound {
            url: format!("{}/", self.route.upstream.endpoint),
            headers,
            body: body.to_vec(),
        };
        let answer = self
            .io
            .fetcher
            .post(&request, MAX_ANSWER_BYTES, TIMEOUT_MS)
            .await
            .map_err(|why| {
                Error::Internal(format!(
                    "upstream of pool {} unreachable: {why}",
                    self.route.pool.id
                ))
            })?;
        if (300..400).contains(&answer.status) {
            return Err(Error::Internal(format!(
                "upstream of pool {} answered a redirect ({}); redirects are not followed",
                self.route.pool.id, answer.status
            )));
        }
        Ok(answer)
    }

    /// `headers` plus `host`-bound SigV4 headers by `UPSTREAM_CREDENTIALS` for the pool's region.
    fn signed(
        &self,
        mut headers: Vec<(String, String)>,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, Error> {
        let host = self.route.upstream.endpoint_host().to_owned();
        let mut to_sign = headers.clone();
        to_sign.push(("host".to_owned(), host));
        let parts = RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: &to_sign,
            body,
        };
        let added = sigv4::sign(
            &parts,
            &self.credentials.access_key_id,
            &self.credentials.secret_access_key,
            &self.route.pool.region,
            SERVICE,
            &sigv4::format_amz_date(self.io.now_ms),
            self.credentials.session_token.as_deref(),
            false,
        )
        .map_err(|e| Error::Internal(format!("signing for the upstream: {e}")))?;
        headers.extend(added);
        Ok(headers)
    }
}

/// `X-Amzn-ErrorType` as clients read it: before any `:`, after any `#`.
pub fn bare_error_type(value: &str) -> &str {
    let value = value.split(':').next().unwrap_or(value);
    value.rsplit('#').next().unwrap_or(value)
}

/// Cognito's answer as the caller's response: its status, its protocol headers and its body.
/// An error answer without `x-amzn-ErrorType` did not come from Cognito (a load balancer's page,
/// a gateway's 502): the caller gets InternalErrorException instead, and the log the status.
pub fn to_response(answer: Inbound, io: &Io<'_>) -> Result<Response, Error> {
    if answer.status >= 400 && answer.header("x-amzn-errortype").is_none() {
        (io.log)(&format!(
            "upstream answered {} without x-amzn-ErrorType",
            answer.status
        ));
        return Err(Error::Internal(format!(
            "upstream answered {} that is not Cognito's",
            answer.status
        )));
    }
    let headers = answer
        .headers
        .into_iter()
        .filter(|(name, _)| ANSWER_HEADERS.contains(&name.as_str()))
        .collect();
    Ok(Response {
        status: answer.status,
        headers,
        body: answer.body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_read_as_clients_read_them() {
        assert_eq!(
            bare_error_type("UserNotFoundException"),
            "UserNotFoundException"
        );
        assert_eq!(
            bare_error_type("UserNotFoundException:http://internal.amazon.com/"),
            "UserNotFoundException"
        );
        assert_eq!(
            bare_error_type("com.amazon.coral.service#MissingAuthenticationTokenException:"),
            "MissingAuthenticationTokenException"
        );
    }
}
