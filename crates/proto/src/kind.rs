//! The one spelling of a [`TokenKind`] in logs, metric labels and benchmark figures.
//!
//! The gateway labels its mint counter with it, the sandbox its request log line, the benchmarks
//! their figure rows; one definition keeps the three agreeing.

use crate::TokenKind;

impl TokenKind {
    /// `app_only`, `user_principal` or `unspecified`: lower-case, stable, bounded.
    pub const fn label(self) -> &'static str {
        match self {
            TokenKind::AppOnly => "app_only",
            TokenKind::UserPrincipal => "user_principal",
            TokenKind::Unspecified => "unspecified",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_label() {
        assert_eq!(TokenKind::AppOnly.label(), "app_only");
        assert_eq!(TokenKind::UserPrincipal.label(), "user_principal");
        assert_eq!(TokenKind::Unspecified.label(), "unspecified");
    }
}
