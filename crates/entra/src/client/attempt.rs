//! One upstream attempt: send, read the body within its bound, and turn the answer into a token or
//! a classified error. Retrying is the request loop's business, not this module's.

use std::time::SystemTime;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use super::EntraClient;
use crate::classify::{managed_identity_error, token_endpoint_error, transport_error};
use crate::credential::ManagedIdentityRequest;
use crate::error::{EntraError, ErrorClass, Reason};
use crate::hop::Hop;
use crate::response::{
    BodyError, parse_error_body, parse_managed_identity, parse_token, read_bounded,
};
use crate::retry_after;
use crate::token::IssuedToken;

/// MSAL's per-request GUID, which Entra records as the correlation id.
const CLIENT_REQUEST_ID: &str = "client-request-id";
/// Asks Entra to echo `client-request-id` back.
const RETURN_CLIENT_REQUEST_ID: &str = "return-client-request-id";
/// The Azure SDKs' request-id header, sent to managed-identity endpoints.
const MS_CLIENT_REQUEST_ID: &str = "x-ms-client-request-id";

impl EntraClient {
    /// One POST of `body` (an encoded form) to the token endpoint, with MSAL's request-id headers.
    pub(crate) async fn post_form_once(
        &self,
        hop: Hop,
        endpoint: &str,
        body: String,
        request_id: String,
    ) -> Result<(u16, IssuedToken), EntraError> {
        let mut response = self
            .inner
            .http
            .post(endpoint)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .header(CLIENT_REQUEST_ID, request_id)
            .header(RETURN_CLIENT_REQUEST_ID, "true")
            .body(body)
            .send()
            .await
            .map_err(|e| transport_error(hop, &e))?;
        let status = response.status().as_u16();
        let retry_after = retry_after_of(response.headers());
        let body = read_bounded(&mut response, self.inner.max_body_bytes).await;
        if (200..300).contains(&status) {
            let body = self.body_or_error(hop, status, body)?;
            return parse_token(hop, status, &body).map(|t| (status, t));
        }
        let err = match body {
            Ok(bytes) => {
                token_endpoint_error(hop, status, parse_error_body(&bytes).as_ref(), retry_after)
            }
            // Throttling and server errors are judged by their status, whatever became of the body.
            Err(e) => match token_endpoint_error(hop, status, None, retry_after) {
                err if err.is_transient() => err,
                _ => self.unreadable_body(hop, status, e),
            },
        };
        Err(err)
    }

    /// One GET of a managed-identity token, with the Azure SDKs' request-id header.
    pub(crate) async fn get_managed_identity_once(
        &self,
        request: &ManagedIdentityRequest,
        request_id: String,
    ) -> Result<(u16, IssuedToken), EntraError> {
        let hop = Hop::ManagedIdentity;
        let mut builder = self
            .inner
            .managed_identity_http
            .get(request.url.clone())
            .header(ACCEPT, "application/json")
            .header(MS_CLIENT_REQUEST_ID, request_id);
        for (name, value) in &request.headers {
            let mut value = HeaderValue::from_str(value.expose()).map_err(|_| {
                EntraError::new(
                    hop,
                    ErrorClass::Permanent,
                    Reason::Credential,
                    format!("the managed-identity header {name} holds characters not allowed in a header"),
                )
            })?;
            value.set_sensitive(true);
            builder = builder.header(*name, value);
        }
        let mut response = builder.send().await.map_err(|e| transport_error(hop, &e))?;
        let status = response.status().as_u16();
        let retry_after = retry_after_of(response.headers());
        let body = read_bounded(&mut response, self.inner.max_body_bytes).await;
        if (200..300).contains(&status) {
            let body = self.body_or_error(hop, status, body)?;
            return parse_managed_identity(status, &body, SystemTime::now()).map(|t| (status, t));
        }
        let parsed = body.as_ref().ok().and_then(|b| parse_error_body(b));
        Err(managed_identity_error(status, parsed.as_ref(), retry_after))
    }

    fn body_or_error(
        &self,
        hop: Hop,
        status: u16,
        body: Result<bytes::Bytes, BodyError>,
    ) -> Result<bytes::Bytes, EntraError> {
        body.map_err(|e| self.unreadable_body(hop, status, e))
    }

    fn unreadable_body(&self, hop: Hop, status: u16, err: BodyError) -> EntraError {
        match err {
            BodyError::Transport(e) => transport_error(hop, &e).with_status(status),
            BodyError::TooLarge => EntraError::new(
                hop,
                ErrorClass::Permanent,
                Reason::InvalidResponse,
                format!(
                    "the upstream body is larger than {} bytes; it was not read",
                    self.inner.max_body_bytes
                ),
            )
            .with_status(status),
        }
    }
}

fn retry_after_of(headers: &HeaderMap) -> Option<std::time::Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    retry_after::parse(value, SystemTime::now())
}
