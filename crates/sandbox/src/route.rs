//! The local URL layout and its strict matcher.
//!
//! ```text
//! /{secret}/providers/{provider}/token        app-only token
//! /{secret}/providers/{provider}/user-token   Agent User token
//! /{secret}/msi/token                         App Service-style managed-identity endpoint
//! /readyz                                     readiness: 503 once the resolver drains
//! ```
//!
//! Matching is on the raw path, byte for byte: no case folding, no percent-decoding, no dot-segment
//! or slash normalisation. Anything that is not exactly one of these shapes is "not found", so no
//! spelling of a path can reach a handler it was not written for.

use agentmint_proto::TokenKind;

use crate::secret::secret_eq;

const PROVIDERS: &str = "providers";
const APP_TOKEN: &str = "token";
const USER_TOKEN: &str = "user-token";
const MSI: &str = "msi";
const MSI_TOKEN: &str = "token";
/// The one path without the secret: it tells only whether the resolver is draining.
const READYZ: &str = "/readyz";

/// The longest path considered at all.
const MAX_PATH_LEN: usize = 1024;

/// Where a request path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    Token { provider: &'a str, kind: TokenKind },
    ManagedIdentity,
    Ready,
    NotFound,
}

/// The path of a provider's token URL.
pub(crate) fn token_path(secret: &str, provider: &str, kind: TokenKind) -> String {
    let leaf = match kind {
        TokenKind::UserPrincipal => USER_TOKEN,
        _ => APP_TOKEN,
    };
    format!("/{secret}/{PROVIDERS}/{provider}/{leaf}")
}

/// The path of the managed-identity endpoint.
pub(crate) fn managed_identity_path(secret: &str) -> String {
    format!("/{secret}/{MSI}/{MSI_TOKEN}")
}

/// Matches a raw request path (no query) against the layout. `providers` are the attached ones;
/// `managed_identity` says whether that endpoint exists.
pub(crate) fn route<'a>(
    path: &'a str,
    secret: &str,
    providers: &[String],
    managed_identity: bool,
) -> Route<'a> {
    if path.len() > MAX_PATH_LEN || path.contains('%') {
        return Route::NotFound;
    }
    if path == READYZ {
        return Route::Ready;
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Route::NotFound;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Route::NotFound;
    }
    if !secret_eq(segments[0].as_bytes(), secret.as_bytes()) {
        return Route::NotFound;
    }
    match segments[1..] {
        [PROVIDERS, provider, leaf] if providers.iter().any(|p| p.as_str() == provider) => {
            match leaf {
                APP_TOKEN => Route::Token {
                    provider,
                    kind: TokenKind::AppOnly,
                },
                USER_TOKEN => Route::Token {
                    provider,
                    kind: TokenKind::UserPrincipal,
                },
                _ => Route::NotFound,
            }
        }
        [MSI, MSI_TOKEN] if managed_identity => Route::ManagedIdentity,
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "0123456789abcdef0123456789abcdef";

    fn r(path: &str) -> Route<'_> {
        route(path, S, &["agent".to_owned()], true)
    }

    #[test]
    fn the_built_paths_route_to_their_handlers() {
        let app = token_path(S, "agent", TokenKind::AppOnly);
        let user = token_path(S, "agent", TokenKind::UserPrincipal);
        let mi = managed_identity_path(S);
        assert_eq!(
            r(&app),
            Route::Token {
                provider: "agent",
                kind: TokenKind::AppOnly
            }
        );
        assert_eq!(
            r(&user),
            Route::Token {
                provider: "agent",
                kind: TokenKind::UserPrincipal
            }
        );
        assert_eq!(r(&mi), Route::ManagedIdentity);
        assert_eq!(r("/readyz"), Route::Ready);
    }

    #[test]
    fn every_variant_spelling_is_not_found() {
        let upper = S.to_uppercase();
        for path in [
            format!("/{upper}/providers/agent/token"),
            format!("/{S}/Providers/agent/token"),
            format!("/{S}/providers/Agent/token"),
            format!("//{S}/providers/agent/token"),
            format!("/{S}//providers/agent/token"),
            format!("/{S}/providers/agent/token/"),
            format!("/{S}/./providers/agent/token"),
            format!("/{S}/providers/../providers/agent/token"),
            format!("/{S}/providers/agent%2Ftoken"),
            format!("/{S}%2Fproviders/agent/token"),
            format!("/{S}/providers/other/token"),
            format!("/{S}/providers/agent/TOKEN"),
            format!("/{S}x/providers/agent/token"),
            format!("/{S}/msi/token/"),
            "/readyz/".to_owned(),
            "//readyz".to_owned(),
            "/READYZ".to_owned(),
            format!("/{S}/readyz"),
            "/".to_owned(),
            String::new(),
            "*".to_owned(),
        ] {
            assert_eq!(r(&path), Route::NotFound, "{path}");
        }
    }

    #[test]
    fn the_managed_identity_endpoint_exists_only_when_enabled() {
        let mi = managed_identity_path(S);
        assert_eq!(route(&mi, S, &[], false), Route::NotFound);
    }

    proptest::proptest! {
        #[test]
        fn route_never_panics(path in ".{0,300}") {
            let _ = r(&path);
        }

        #[test]
        fn only_exact_paths_match(suffix in "[a-z/.%-]{0,40}") {
            let path = format!("/{S}/{suffix}");
            let expected = matches!(
                suffix.as_str(),
                "providers/agent/token" | "providers/agent/user-token" | "msi/token"
            );
            proptest::prop_assert_eq!(r(&path) != Route::NotFound, expected);
        }
    }
}
