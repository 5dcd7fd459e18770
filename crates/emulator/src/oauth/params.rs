//! The form body of a token request. Unknown fields are tolerated (Entra ignores them); an empty
//! value counts as absent, as it does for Entra.

use super::error::OAuthError;

/// Decoded `application/x-www-form-urlencoded` fields, in order.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes a form body.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        serde_urlencoded::from_bytes(body)
            .map(Self)
            .map_err(|_| OAuthError::malformed("The body is not a valid form."))
    }

    /// The first non-empty value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The value of a parameter Entra requires (AADSTS900144 when missing).
    pub(crate) fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::missing_parameter(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_missing() {
        let params = Params::parse(b"grant_type=&scope=a%20b").unwrap();
        assert_eq!(params.get("grant_type"), None);
        assert_eq!(params.get("scope"), Some("a b"));
        assert_eq!(params.require("grant_type").unwrap_err().code, 900144);
    }
}
