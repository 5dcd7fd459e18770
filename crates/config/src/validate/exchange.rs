//! Entra's token-exchange scope, in every cloud's spelling. `config check` refuses it in any scope
//! list: an exchange token (T1/T2) only mints further tokens, so it must never reach a caller.
//!
//! The same rule guards the gateway at mint time (`agentmint_entra::is_exchange_scope`); the config
//! crate keeps its own copy because it depends on no client-side crate.

/// Every cloud's exchange resource (public, US Government, China) and the exchange app's id.
const EXCHANGE_RESOURCES: [&str; 4] = [
    "api://AzureADTokenExchange",
    "api://AzureADTokenExchangeUSGov",
    "api://AzureADTokenExchangeChina",
    "fb60f99c-7a34-4190-8149-302f77469936",
];

/// True when `scope` names an exchange resource, bare or with any `/permission`, in any case.
pub(super) fn is_exchange_scope(scope: &str) -> bool {
    let scope = scope.trim();
    EXCHANGE_RESOURCES.iter().any(|resource| {
        scope
            .get(..resource.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(resource))
            && matches!(scope.as_bytes().get(resource.len()), None | Some(b'/'))
    })
}
