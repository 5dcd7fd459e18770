//! Per-provider scope policy: which scopes each token kind may carry and which it gets by default.

use agentmint_entra::{ScopeError, ScopeSet, is_exchange_scope};

/// The scope policy of one token kind of one provider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KindPolicy {
    /// Every scope a caller may ask for. `None`: the kind is not available.
    pub allowed: Option<ScopeSet>,
    /// What an empty request gets. `None`: callers must name their scopes.
    pub default: Option<ScopeSet>,
}

/// Why a requested scope set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("invalid scopes: {0}")]
    Invalid(#[from] ScopeError),
    #[error("no scopes were requested and the provider has no default scopes for this kind")]
    NoDefault,
    #[error("the provider allows no scopes for this kind")]
    NothingAllowed,
    #[error("scope {0:?} is not allowed for this provider and kind")]
    NotAllowed(String),
    #[error("scope {0:?} is Entra's token-exchange scope: exchange tokens never leave the gateway")]
    ExchangeScope(String),
}

impl KindPolicy {
    /// Builds a policy from config lists; empty lists mean "none".
    pub fn from_lists(allowed: &[String], default: &[String]) -> Result<Self, ScopeError> {
        let allowed = if allowed.is_empty() {
            None
        } else {
            Some(ScopeSet::new(allowed)?)
        };
        let default = if default.is_empty() {
            None
        } else {
            Some(ScopeSet::new(default)?)
        };
        Ok(Self { allowed, default })
    }

    /// Normalises the requested scopes (or picks the default) and checks them against the allowlist.
    /// Scope matching is exact and case-sensitive after normalisation, as Entra's scope strings are.
    pub fn resolve(&self, requested: &[String]) -> Result<ScopeSet, PolicyError> {
        let allowed = self.allowed.as_ref().ok_or(PolicyError::NothingAllowed)?;
        let scopes = if requested.iter().all(|s| s.trim().is_empty()) {
            self.default.clone().ok_or(PolicyError::NoDefault)?
        } else {
            ScopeSet::new(requested)?
        };
        // Defence in depth: `config check` refuses the exchange scope in every list, and the chain
        // refuses it too; a policy never lets it through, whatever it was built from.
        if let Some(exchange) = scopes.as_slice().iter().find(|s| is_exchange_scope(s)) {
            return Err(PolicyError::ExchangeScope(truncate(exchange)));
        }
        if let Some(outside) = scopes
            .as_slice()
            .iter()
            .find(|s| !allowed.as_slice().contains(s))
        {
            return Err(PolicyError::NotAllowed(truncate(outside)));
        }
        Ok(scopes)
    }
}

/// Scope strings come from callers: keep what is echoed back short.
fn truncate(scope: &str) -> String {
    scope.chars().take(128).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &[&str], default: &[&str]) -> KindPolicy {
        let a: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        let d: Vec<String> = default.iter().map(|s| s.to_string()).collect();
        KindPolicy::from_lists(&a, &d).unwrap()
    }

    #[test]
    fn empty_request_gets_the_default() {
        let p = policy(&["g/.default", "x"], &["g/.default"]);
        assert_eq!(p.resolve(&[]).unwrap().as_slice(), ["g/.default"]);
    }

    #[test]
    fn scope_outside_allowlist_is_refused() {
        let p = policy(&["g/.default"], &[]);
        assert_eq!(
            p.resolve(&["g/.default".into(), "evil".into()]),
            Err(PolicyError::NotAllowed("evil".into()))
        );
    }

    #[test]
    fn scopes_are_not_matched_by_prefix_or_case() {
        let p = policy(&["https://graph.microsoft.com/Mail.Read"], &[]);
        assert!(
            p.resolve(&["https://graph.microsoft.com/mail.read".into()])
                .is_err()
        );
        assert!(
            p.resolve(&["https://graph.microsoft.com/Mail".into()])
                .is_err()
        );
    }

    #[test]
    fn the_exchange_scope_is_refused_even_when_a_policy_allows_it() {
        for scope in [
            "api://AzureADTokenExchange/.default",
            "api://AzureADTokenExchangeUSGov/.default",
            "api://AzureADTokenExchangeChina/.default",
            "fb60f99c-7a34-4190-8149-302f77469936/.default",
        ] {
            let p = policy(&[scope, "g/.default"], &[scope]);
            assert!(
                matches!(
                    p.resolve(&[scope.into()]),
                    Err(PolicyError::ExchangeScope(_))
                ),
                "{scope}"
            );
            assert!(
                matches!(p.resolve(&[]), Err(PolicyError::ExchangeScope(_))),
                "{scope} as a default"
            );
        }
    }

    #[test]
    fn missing_default_and_missing_kind_are_distinct_errors() {
        assert_eq!(
            policy(&["a"], &[]).resolve(&[]),
            Err(PolicyError::NoDefault)
        );
        assert_eq!(
            KindPolicy::default().resolve(&["a".into()]),
            Err(PolicyError::NothingAllowed)
        );
    }
}
