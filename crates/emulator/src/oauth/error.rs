//! Entra's error answers: the OAuth `error`, the HTTP status that goes with it, the `AADSTS` code
//! and message. One constructor per situation, named for the situation, so handlers read as rules
//! and the codes live in one place.

use serde_json::{Value, json};

use crate::clock::entra_timestamp;

/// An error answer of the token endpoint.
#[derive(Debug, Clone)]
pub(crate) struct OAuthError {
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) code: u32,
    pub(crate) message: String,
    pub(crate) suberror: Option<&'static str>,
    pub(crate) retry_after: Option<u64>,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            code,
            message: message.into(),
            suberror: None,
            retry_after: None,
        }
    }

    fn invalid_request(code: u32, message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", code, message)
    }

    fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        Self::new(401, "invalid_client", code, message)
    }

    fn invalid_grant(code: u32, message: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", code, message)
    }

    pub(crate) fn missing_parameter(name: &str) -> Self {
        Self::invalid_request(
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    pub(crate) fn malformed(detail: &str) -> Self {
        Self::invalid_request(
            9002313,
            format!("Invalid request. Request is malformed or invalid. {detail}"),
        )
    }

    pub(crate) fn post_only() -> Self {
        Self::invalid_request(
            900561,
            "The endpoint only accepts POST, OPTIONS requests. Received a GET request.",
        )
    }

    pub(crate) fn tenant_not_found(tenant: &str) -> Self {
        Self::invalid_request(
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                 and are signing into the correct cloud."
            ),
        )
    }

    /// The discovery documents' variant of 90002.
    pub(crate) fn invalid_tenant(tenant: &str) -> Self {
        let mut e = Self::tenant_not_found(tenant);
        e.error = "invalid_tenant";
        e
    }

    pub(crate) fn unsupported_grant(grant: &str) -> Self {
        Self::new(
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        )
    }

    pub(crate) fn user_fic_not_agent_identity(client_id: &str) -> Self {
        Self::new(
            400,
            "unsupported_grant_type",
            70003,
            format!(
                "The app requested an unsupported grant type 'user_fic'. Application \
                 '{client_id}' is not an agent identity."
            ),
        )
    }

    pub(crate) fn client_not_found(client_id: &str, tenant: &str) -> Self {
        Self::new(
            400,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory \
                 '{tenant}'. This can happen if the application has not been installed by the \
                 administrator of the tenant or consented to by any user in the tenant. You may \
                 have sent your authentication request to the wrong tenant."
            ),
        )
    }

    pub(crate) fn no_credential() -> Self {
        Self::invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'.",
        )
    }

    pub(crate) fn bad_secret(client_id: &str) -> Self {
        Self::invalid_client(
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is \
                 the client secret value, not the client secret ID, for a secret added to app \
                 '{client_id}'."
            ),
        )
    }

    pub(crate) fn assertion_type(found: &str) -> Self {
        Self::invalid_request(
            9002313,
            format!(
                "Invalid request. Request is malformed or invalid. client_assertion_type \
                 '{found}' is not 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'."
            ),
        )
    }

    pub(crate) fn malformed_assertion() -> Self {
        Self::invalid_client(50027, "JWT token is invalid or malformed.")
    }

    /// The assertion's key is unknown, expired, of the wrong algorithm, or its signature is bad.
    pub(crate) fn assertion_signature(client_id: &str, reason: &str) -> Self {
        Self::invalid_client(
            700027,
            format!(
                "Client assertion failed signature validation. [Reason - {reason}, Please visit \
                 the Azure Portal, Graph Explorer or directly use MS Graph to see configured \
                 keys for app Id '{client_id}'.]"
            ),
        )
    }

    pub(crate) fn assertion_time(now: u64, nbf: Option<f64>, exp: Option<f64>) -> Self {
        let show =
            |t: Option<f64>| t.map_or("none".to_string(), |t| entra_timestamp(t.max(0.0) as u64));
        Self::invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, \
                 assertion valid from {}, expiry time of assertion {}.",
                entra_timestamp(now),
                show(nbf),
                show(exp)
            ),
        )
    }

    pub(crate) fn assertion_audience() -> Self {
        Self::invalid_client(
            700023,
            "Client assertion audience claim does not match Realm issuer. The audience must be \
             the token endpoint URL.",
        )
    }

    pub(crate) fn assertion_client_mismatch() -> Self {
        Self::invalid_client(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        )
    }

    pub(crate) fn no_matching_federation(issuer: &str, subject: &str, audience: &str) -> Self {
        Self::invalid_request(
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion \
                 Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: \
                 '{audience}'."
            ),
        )
    }

    pub(crate) fn federated_token_not_app() -> Self {
        Self::invalid_request(
            700229,
            "ForbiddenTokenType: only app-only tokens can be used as federated identity \
             credentials for the Microsoft Entra ID issuer.",
        )
    }

    pub(crate) fn fmi_path(message: impl Into<String>) -> Self {
        Self::invalid_request(700211, message)
    }

    pub(crate) fn invalid_scope(scope: &str, reason: &str) -> Self {
        Self::new(
            400,
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope \
                 '{scope}' is not valid. {reason}"
            ),
        )
    }

    pub(crate) fn resource_not_found(resource: &str, tenant: &str) -> Self {
        Self::new(
            400,
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named \
                 {tenant}. This can happen if the application has not been installed by the \
                 administrator of the tenant or consented to by any user in the tenant. You \
                 might have sent your authentication request to the wrong tenant."
            ),
        )
    }

    pub(crate) fn consent_required(client_id: &str, scopes: &str) -> Self {
        let mut e = Self::invalid_grant(
            65001,
            format!(
                "The user or administrator has not consented to use the application with ID \
                 '{client_id}'. Send an interactive authorization request for this user and \
                 resource. Missing scopes: {scopes}."
            ),
        );
        e.suberror = Some("consent_required");
        e
    }

    pub(crate) fn user_not_found(user: &str, tenant: &str) -> Self {
        Self::invalid_grant(
            50034,
            format!("The user account {user} does not exist in the {tenant} directory."),
        )
    }

    pub(crate) fn user_not_bound(user: &str, agent_identity: &str) -> Self {
        Self::invalid_grant(
            50034,
            format!(
                "The user account {user} is not an agent user of agent identity \
                 '{agent_identity}'."
            ),
        )
    }

    pub(crate) fn user_assertion_signature() -> Self {
        Self::invalid_grant(50013, "Assertion failed signature validation.")
    }

    pub(crate) fn user_assertion_time(now: u64, exp: Option<f64>) -> Self {
        let exp = exp.map_or("none".to_string(), |t| entra_timestamp(t.max(0.0) as u64));
        Self::invalid_grant(
            500133,
            format!(
                "Assertion is not within its valid time range. Ensure that the access token is \
                 not expired before using it for user assertion, or request a new token. \
                 Current time: {}, expiry time of assertion {exp}.",
                entra_timestamp(now)
            ),
        )
    }

    pub(crate) fn user_assertion_mismatch(issuer: &str, subject: &str, audience: &str) -> Self {
        let mut e = Self::no_matching_federation(issuer, subject, audience);
        e.error = "invalid_grant";
        e
    }

    pub(crate) fn throttled(retry_after: u64) -> Self {
        let mut e = Self::new(
            429,
            "temporarily_unavailable",
            90055,
            "TenantThrottlingThreshold: the number of requests has exceeded the throttling \
             threshold. Retry after the interval in the Retry-After header.",
        );
        e.retry_after = Some(retry_after);
        e
    }

    pub(crate) fn unavailable() -> Self {
        Self::new(
            503,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
        )
    }

    pub(crate) fn internal(detail: &str) -> Self {
        Self::new(
            500,
            "server_error",
            50000,
            format!("There was an error issuing a token. {detail}"),
        )
    }

    /// The JSON body Entra sends, with trace and correlation ids embedded in the description.
    pub(crate) fn body(&self, trace_id: &str, correlation_id: &str, now: u64) -> Value {
        let timestamp = entra_timestamp(now);
        let mut body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.code, self.message
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        if let Some(suberror) = self.suberror {
            body["suberror"] = json!(suberror);
        }
        body
    }
}
