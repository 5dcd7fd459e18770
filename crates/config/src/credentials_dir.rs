//! Relative paths under systemd's `LoadCredential=`: resolved against `$CREDENTIALS_DIRECTORY`.
//!
//! systemd copies each `LoadCredential=NAME:SOURCE` file into a private directory readable only by
//! the service (also with `DynamicUser=yes`) and names it in `$CREDENTIALS_DIRECTORY`. The rule:
//!
//! **A relative path in the config resolves against `$CREDENTIALS_DIRECTORY` when that variable is
//! set and not empty, and against the config file's directory otherwise. Absolute paths are used
//! as written.**
//!
//! So `key_file = "mail-agent.key.pem"` with `LoadCredential=mail-agent.key.pem:/etc/agentmint/...`
//! reads the service's private copy. The gateway and `agentmint config check` apply the same rule
//! from the same environment; to check a config written for the unit from a shell, run
//! `CREDENTIALS_DIRECTORY=/etc/agentmint/credentials agentmint config check gateway.toml` (where the
//! sources sit under the same names), or under the unit's own credentials with `systemd-run`.

use std::path::{Path, PathBuf};

/// The environment variable systemd sets for a service with credentials.
pub const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// The directory relative paths resolve against: `$CREDENTIALS_DIRECTORY` when set, else `None`
/// (the config file's directory).
pub(crate) fn base(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env(CREDENTIALS_DIRECTORY)
        .filter(|dir| !dir.trim().is_empty())
        .map(PathBuf::from)
}

/// The hint for a relative path that cannot be read: which rule applied.
pub(crate) fn relative_hint(base: &Path, from_credentials: bool) -> String {
    if from_credentials {
        format!(
            "relative paths are relative to $CREDENTIALS_DIRECTORY (systemd LoadCredential=), {}",
            base.display()
        )
    } else {
        format!(
            "relative paths are relative to the config file's directory, {}",
            base.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ParseOptions, parse};

    const CONFIG: &str = r#"
[[sandbox]]
name = "sbx"
credential_file = "sbx.credential"
providers = []
"#;

    fn parse_with(dir: Option<&Path>) -> Result<crate::Loaded, crate::Diagnostics> {
        let dir = dir.map(|d| d.display().to_string());
        let env = move |name: &str| {
            (name == CREDENTIALS_DIRECTORY)
                .then(|| dir.clone())
                .flatten()
        };
        parse(
            CONFIG,
            Path::new("/nonexistent/etc/gateway.toml"),
            &env,
            &ParseOptions::default(),
        )
    }

    #[test]
    fn unset_or_empty_means_the_config_files_directory() {
        assert_eq!(base(&|_| None), None);
        assert_eq!(base(&|_| Some(" ".to_owned())), None);
        let err = parse_with(None).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/etc/sbx.credential"), "{err}");
        assert!(err.contains("config file's directory"), "{err}");
    }

    #[test]
    fn relative_paths_resolve_in_the_credentials_directory() {
        let creds = tempfile::tempdir().unwrap();
        let err = parse_with(Some(creds.path())).unwrap_err().to_string();
        let expected = creds.path().join("sbx.credential");
        assert!(err.contains(&expected.display().to_string()), "{err}");
        assert!(err.contains("$CREDENTIALS_DIRECTORY"), "{err}");
        std::fs::write(
            &expected,
            "a-sandbox-credential-of-enough-length-0123456789",
        )
        .unwrap();
        let text = match parse_with(Some(creds.path())) {
            Ok(loaded) => format!("{loaded:?}"),
            Err(diagnostics) => diagnostics.to_string(),
        };
        assert!(!text.contains("cannot read"), "{text}");
        assert!(
            !text.contains("a-sandbox-credential"),
            "secret leaked: {text}"
        );
    }
}
