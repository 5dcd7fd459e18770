//! Helpers: parse text as `gw.toml`, and write key/certificate fixtures.

use std::path::{Path, PathBuf};

use agentmint_config::{Diagnostic, Diagnostics, Loaded, ParseOptions, parse};

/// The origin used for text-only tests.
pub const ORIGIN: &str = "/etc/agentmint/gw.toml";

/// A tenant, Blueprint and Agent Identity that pass validation.
pub const TENANT: &str = "72f988bf-0000-4000-8000-000000000001";
pub const GUID_A: &str = "4c3d9a10-0000-4000-8000-000000000002";
pub const GUID_B: &str = "9b1e7f22-0000-4000-8000-000000000003";
pub const SHA: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

/// Parses without touching the filesystem or the environment.
pub fn structure(source: &str) -> Result<Loaded, Diagnostics> {
    parse(
        source,
        Path::new(ORIGIN),
        &|_| None,
        &ParseOptions { check_files: false },
    )
}

/// The errors of a source that must be refused.
pub fn errors(source: &str) -> Vec<Diagnostic> {
    match structure(source) {
        Ok(_) => panic!("expected errors, the source was accepted"),
        Err(d) => d.errors().cloned().collect(),
    }
}

/// The (line, message) of each error, for exact assertions.
pub fn error_lines(source: &str) -> Vec<(usize, String)> {
    errors(source)
        .into_iter()
        .map(|d| (d.line, d.message))
        .collect()
}

/// Asserts exactly one error, on `line`, whose message contains `needle`; returns it.
#[track_caller]
pub fn one_error(source: &str, line: usize, needle: &str) -> Diagnostic {
    let errs = errors(source);
    assert_eq!(errs.len(), 1, "expected one error, got:\n{}", render(&errs));
    let d = errs.into_iter().next().unwrap();
    assert_eq!(d.line, line, "wrong line:\n{d}");
    assert!(d.message.contains(needle), "message lacks {needle:?}:\n{d}");
    d
}

/// Asserts the errors of `source`, in order: each on its line, its message containing its needle.
#[track_caller]
pub fn errors_at(source: &str, expected: &[(usize, &str)]) {
    let errs = error_lines(source);
    assert_eq!(errs.len(), expected.len(), "{errs:?}");
    for ((line, message), (want_line, needle)) in errs.iter().zip(expected) {
        assert_eq!(line, want_line, "{errs:?}");
        assert!(message.contains(needle), "{needle:?}: {errs:?}");
    }
}

/// Asserts that the first error of `source` is on `line` and its message contains `needle`.
#[track_caller]
pub fn first_error(source: &str, line: usize, needle: &str) {
    let errs = error_lines(source);
    assert_eq!(errs[0].0, line, "{errs:?}");
    assert!(errs[0].1.contains(needle), "{needle:?}: {errs:?}");
}

pub fn render(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| format!("{d}\n")).collect()
}

/// A provider with an agent user, its credential and scopes given by the caller.
pub fn agent_provider(credential: &str) -> String {
    format!(
        r#"[[provider]]
name = "mail-agent"
tenant = "{TENANT}"
blueprint_client_id = "{GUID_A}"
agent_identity_client_id = "{GUID_B}"
agent_user = {{ upn = "agent@contoso.com" }}

[provider.credential]
{credential}

[provider.scopes]
app_allowed = ["https://graph.microsoft.com/.default"]
user_allowed = ["https://graph.microsoft.com/Mail.Read"]

[[sandbox]]
name = "sbx-1"
credential_sha256 = "{SHA}"
providers = ["mail-agent"]
"#
    )
}

/// A directory holding a config file and the files it names.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `contents` at `name` (mode 600 on Unix).
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        path
    }

    /// Parses `source` as `gateway.toml` in this directory, files checked.
    pub fn parse(&self, source: &str) -> Result<Loaded, Diagnostics> {
        self.parse_with_env(source, &|_| None)
    }

    pub fn parse_with_env(
        &self,
        source: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Loaded, Diagnostics> {
        let origin = self.write("gateway.toml", source);
        parse(source, &origin, env, &ParseOptions { check_files: true })
    }

    /// The one error of [`agent_provider`] with `credential` as its credential table, files checked.
    #[track_caller]
    pub fn credential_error(&self, credential: &str) -> Diagnostic {
        let errs = self.errors(&agent_provider(credential));
        assert_eq!(errs.len(), 1, "{}", render(&errs));
        errs.into_iter().next().unwrap()
    }

    #[track_caller]
    pub fn errors(&self, source: &str) -> Vec<Diagnostic> {
        match self.parse(source) {
            Ok(_) => panic!("expected errors, the source was accepted"),
            Err(d) => d.errors().cloned().collect(),
        }
    }
}
