//! Entra's wire constants as PROTOCOL.md names them, for tests on both sides of the wire (the
//! emulator's and the client's): one spelling, so a test cannot disagree with another about what
//! Entra expects.

/// `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The scope Blueprints and Agent Identities ask for T1 and T2 with.
pub const EXCHANGE_SCOPE: &str = "api://AzureADTokenExchange/.default";
/// The audience (`aud`) of T1 and T2: the token exchange app's id.
pub const EXCHANGE_APP_ID: &str = "fb60f99c-7a34-4190-8149-302f77469936";
/// Microsoft Graph, app-only.
pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
/// Microsoft Graph, one delegated scope.
pub const USER_READ: &str = "https://graph.microsoft.com/User.Read";
/// The IMDS token path with its api-version; a request appends `&resource=…`.
pub const IMDS_TOKEN: &str = "/metadata/identity/oauth2/token?api-version=2018-02-01";
