//! Entra's token-exchange scope, in every cloud's spelling: the one rule `config check` (refusing it
//! in any scope list), the gateway's policy and the entra chain (refusing to mint it for a caller)
//! all apply. An exchange token (T1/T2) only mints further tokens, so it never leaves the gateway.

/// The public cloud's token-exchange resource.
pub const EXCHANGE_RESOURCE: &str = "api://AzureADTokenExchange";

/// The token-exchange resource of every cloud: public, US Government, China.
pub const EXCHANGE_RESOURCES: [&str; 3] = [
    EXCHANGE_RESOURCE,
    "api://AzureADTokenExchangeUSGov",
    "api://AzureADTokenExchangeChina",
];

/// The token exchange app's id: the `aud` of exchange tokens, and another way to name its scope.
pub const TOKEN_EXCHANGE_APP_ID: &str = "fb60f99c-7a34-4190-8149-302f77469936";

/// True when `scope` asks for an exchange token, in any cloud's form: the `api://` resource or the
/// exchange app's id, bare or with any `/permission` suffix, in any letter case (Entra matches
/// resource identifiers case-insensitively, so `API://azureadtokenexchange/.default` is the same).
pub fn is_exchange_scope(scope: &str) -> bool {
    let scope = scope.trim();
    EXCHANGE_RESOURCES
        .iter()
        .chain(std::iter::once(&TOKEN_EXCHANGE_APP_ID))
        .any(|resource| {
            scope
                .get(..resource.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(resource))
                && matches!(scope.as_bytes().get(resource.len()), None | Some(b'/'))
        })
}
