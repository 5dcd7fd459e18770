//! Normalised scope sets: trimmed, deduplicated, sorted. Two requests that differ only in order,
//! spacing or repetition share one cache entry; sets that concatenate alike stay apart because the
//! set is a list of strings, never a joined string.

use std::fmt;

/// Entra's token-exchange scope, requested at hop 1 and for T2.
pub const EXCHANGE_SCOPE: &str = "api://AzureADTokenExchange/.default";
/// The public cloud's exchange resource, every cloud's, the exchange app's id and the one rule
/// that recognises them (shared with `config check` through agentmint-base).
pub use agentmint_base::exchange::{
    EXCHANGE_RESOURCE, EXCHANGE_RESOURCES, TOKEN_EXCHANGE_APP_ID, is_exchange_scope,
};
/// The OIDC scopes MSAL adds to the `user_fic` hop.
pub const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

/// A normalised, non-empty set of scopes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeSet(Vec<String>);

/// Why a list of scopes was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("no scope was given")]
    Empty,
    #[error("a scope contains whitespace or a control character")]
    BadCharacter,
    #[error("a scope is longer than {max} bytes")]
    TooLong { max: usize },
    #[error("more than {max} scopes were given")]
    TooMany { max: usize },
}

impl ScopeSet {
    /// The longest single scope accepted.
    pub const MAX_SCOPE_LEN: usize = 512;
    /// The most scopes accepted in one request.
    pub const MAX_SCOPES: usize = 32;

    /// Normalises `scopes`. A single entry may hold several space-separated scopes, as OAuth's
    /// `scope` parameter does.
    pub fn new<I, S>(scopes: I) -> Result<Self, ScopeError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out: Vec<String> = Vec::new();
        for entry in scopes {
            for scope in entry.as_ref().split(' ') {
                let scope = scope.trim_matches(|c: char| c == '\t' || c == ' ');
                if scope.is_empty() {
                    continue;
                }
                if scope.chars().any(|c| c.is_control() || c.is_whitespace()) {
                    return Err(ScopeError::BadCharacter);
                }
                if scope.len() > Self::MAX_SCOPE_LEN {
                    return Err(ScopeError::TooLong {
                        max: Self::MAX_SCOPE_LEN,
                    });
                }
                out.push(scope.to_owned());
                if out.len() > Self::MAX_SCOPES * 4 {
                    return Err(ScopeError::TooMany {
                        max: Self::MAX_SCOPES,
                    });
                }
            }
        }
        out.sort();
        out.dedup();
        if out.is_empty() {
            return Err(ScopeError::Empty);
        }
        if out.len() > Self::MAX_SCOPES {
            return Err(ScopeError::TooMany {
                max: Self::MAX_SCOPES,
            });
        }
        Ok(Self(out))
    }

    /// The exchange scope set of the cloud whose exchange resource is `resource` (hop 1 and T2).
    pub fn exchange(resource: &str) -> Self {
        Self(vec![format!("{resource}/.default")])
    }

    /// True when any scope asks for an exchange token ([`is_exchange_scope`]).
    pub fn contains_exchange(&self) -> bool {
        self.0.iter().any(|s| is_exchange_scope(s))
    }

    /// The scopes, sorted.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// True when every scope of `self` is in `allowed`.
    pub fn is_subset_of(&self, allowed: &ScopeSet) -> bool {
        self.0.iter().all(|s| allowed.0.binary_search(s).is_ok())
    }

    /// The OAuth `scope` form value: space-separated.
    pub fn to_form_value(&self) -> String {
        self.0.join(" ")
    }

    /// The `scope` form value for hop 3: the resource scopes plus the OIDC scopes MSAL sends.
    pub fn with_oidc_form_value(&self) -> String {
        let mut all: Vec<&str> = self.0.iter().map(String::as_str).collect();
        for oidc in OIDC_SCOPES {
            if !all.contains(&oidc) {
                all.push(oidc);
            }
        }
        all.join(" ")
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_form_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_order_spacing_and_duplicates() {
        let a = ScopeSet::new(["b", " a ", "b"]).unwrap();
        let b = ScopeSet::new(["a b"]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_slice(), ["a", "b"]);
    }

    #[test]
    fn sets_that_concatenate_alike_stay_apart() {
        let a = ScopeSet::new(["ab", "cd"]).unwrap();
        let b = ScopeSet::new(["a", "bcd"]).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn rejects_empty_control_and_oversized() {
        assert_eq!(ScopeSet::new([" "]), Err(ScopeError::Empty));
        assert_eq!(ScopeSet::new(["a\nb"]), Err(ScopeError::BadCharacter));
        assert_eq!(ScopeSet::new(["a\0"]), Err(ScopeError::BadCharacter));
        let long = "x".repeat(ScopeSet::MAX_SCOPE_LEN + 1);
        assert!(matches!(
            ScopeSet::new([long]),
            Err(ScopeError::TooLong { .. })
        ));
        let many: Vec<String> = (0..40).map(|i| format!("s{i}")).collect();
        assert!(matches!(
            ScopeSet::new(many),
            Err(ScopeError::TooMany { .. })
        ));
    }

    #[test]
    fn every_clouds_exchange_scope_is_recognised_in_every_spelling() {
        for scope in [
            "api://AzureADTokenExchange/.default",
            "api://AzureADTokenExchange",
            "api://AzureADTokenExchange/",
            "API://azureadtokenexchange/.DEFAULT",
            "api://AzureADTokenExchangeUSGov/.default",
            "api://AzureADTokenExchangeChina/.default",
            "api://AzureADTokenExchange/user_impersonation",
            "api://AzureADTokenExchange/a/b",
            "fb60f99c-7a34-4190-8149-302f77469936/.default",
            "FB60F99C-7A34-4190-8149-302F77469936",
        ] {
            assert!(is_exchange_scope(scope), "{scope}");
            assert!(
                ScopeSet::new([scope]).unwrap().contains_exchange(),
                "{scope}"
            );
        }
    }

    #[test]
    fn resource_scopes_are_not_exchange_scopes() {
        for scope in [
            "https://graph.microsoft.com/.default",
            "api://AzureADTokenExchangeX/.default",
            "api://my-api/AzureADTokenExchange",
            "https://AzureADTokenExchange/.default",
            "api://",
            "",
            "api://AzureADTokenExchangé",
        ] {
            assert!(!is_exchange_scope(scope), "{scope}");
        }
        let graph = ScopeSet::new(["https://graph.microsoft.com/.default", "openid"]).unwrap();
        assert!(!graph.contains_exchange());
    }

    #[test]
    fn oidc_scopes_are_appended_once() {
        let s = ScopeSet::new(["https://graph.microsoft.com/.default", "openid"]).unwrap();
        assert_eq!(
            s.with_oidc_form_value(),
            "https://graph.microsoft.com/.default openid profile offline_access"
        );
    }
}
