//! agentmint-config: the gateway's provider records and sandboxes, parsed and validated.
//!
//! The gateway refuses to start on an invalid file and keeps serving the previous one when a reload
//! finds a broken one, so every mistake must be found here, at once, with a position an operator
//! can jump to: `file:line:col: error: message (hint: ...)`. The file format is documented in
//! `docs/config.md`; `config/gateway.example.toml` shows every kind of record.
//!
//! - [`schema`]: the validated, typed config (no secrets: only paths and hashes).
//! - [`diagnostics`]: what is reported when it is not valid.
//! - `reader`, `spans`, `report`: reading the span-preserving TOML tree and collecting findings.
//! - `validate`: one module per record kind, then the cross-record checks.
//! - `files`: the files the config names (their PEM blocks are read by `agentmint_base::pem`, the
//!   same reader the gateway's credential loader uses).
//!
//! This crate is pure configuration: it knows nothing of Entra's wire protocol, and the gateway maps
//! its types onto its own.

#![forbid(unsafe_code)]

mod credentials_dir;
pub mod diagnostics;
mod files;
mod locate;
mod reader;
mod report;
pub mod schema;
mod spans;
mod suggest;
mod validate;

use std::path::Path;
use std::time::SystemTime;

use toml::de::DeTable;

pub use credentials_dir::CREDENTIALS_DIRECTORY;
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use locate::locate;
pub use schema::{
    AgentUser, CacheSettings, Config, CredentialSpec, DEFAULT_ADMIN_LISTEN, DEFAULT_AUTHORITY_HOST,
    DEFAULT_DRAIN_GRACE_SECONDS, DEFAULT_LISTEN, Fingerprint, GatewaySettings, ManagedIdentityId,
    Provider, ProviderKind, Sandbox, SandboxCredentialSpec, ScopePolicy, ServiceAccountSpec,
    SigningAlgorithm, TlsSettings,
};

/// How much of the outside world a parse looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Read every file the config names: keys, certificates (expiry included), secrets, tokens,
    /// sandbox credentials, the CA. `false` checks the file's structure alone (an example file, or
    /// a config meant for another machine); sandboxes with a `credential_file` then come back
    /// [`SandboxCredentialSpec::Unread`].
    pub check_files: bool,
}

impl Default for ParseOptions {
    /// Everything checked, as the gateway and `agentmint config check` do.
    fn default() -> Self {
        Self { check_files: true }
    }
}

/// A valid config, and what deserves attention although it is valid (a certificate expiring within
/// a week, a provider no sandbox uses). Warnings print like errors, with `warning:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

/// Reads and validates the config file at `path`, checking every file it names, with the process
/// environment as the gateway sees it.
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    load_with(path, &ParseOptions::default())
}

/// [`load`] with the given options: `check_files: false` checks the file's structure alone, for a
/// config written for another machine (or the annotated example, whose files do not exist here).
pub fn load_with(path: &Path, options: &ParseOptions) -> Result<Loaded, Diagnostics> {
    let env = |name: &str| std::env::var(name).ok();
    let whole_file = |message: String| {
        Diagnostics::new(vec![Diagnostic {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            severity: Severity::Error,
            message,
            hint: None,
        }])
    };
    let bytes = files::read_bounded(path)
        .map_err(|err| whole_file(format!("cannot read the config file: {err}")))?;
    let source = match String::from_utf8(bytes) {
        Ok(source) => source,
        Err(err) => {
            let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
            let (line, column) = match std::str::from_utf8(valid) {
                Ok(prefix) => spans::LineIndex::new(prefix).position(prefix.len()),
                Err(_) => (1, 1),
            };
            let mut diagnostics =
                whole_file("the config file is not valid UTF-8".to_owned()).into_vec();
            diagnostics[0].line = line;
            diagnostics[0].column = column;
            return Err(Diagnostics::new(diagnostics));
        }
    };
    parse(&source, path, &env, options)
}

/// Validates config text. `origin` names the file in diagnostics and anchors relative paths, unless
/// `CREDENTIALS_DIRECTORY` is set (systemd `LoadCredential=`, see `credentials_dir`); `env` is the
/// only way the environment is consulted (for `AZURE_FEDERATED_TOKEN_FILE` and `CREDENTIALS_DIRECTORY`).
pub fn parse(
    source: &str,
    origin: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    options: &ParseOptions,
) -> Result<Loaded, Diagnostics> {
    let mut report = report::Report::new(source);
    let (root, syntax_errors) = DeTable::parse_recoverable(source);
    for err in &syntax_errors {
        report.syntax_error(err.span().unwrap_or(0..0), err.message());
    }
    let mut ctx = validate::Ctx {
        report,
        paths: match credentials_dir::base(env) {
            Some(dir) => files::Paths::in_credentials_dir(&dir),
            None => files::Paths::new(origin),
        },
        env,
        check_files: options.check_files,
        now: SystemTime::now(),
    };
    let config = validate::config(root.get_ref(), &mut ctx);
    let mut findings = ctx.report.finish(origin);
    match config {
        Some(config) if !findings.iter().any(Diagnostic::is_error) => {
            findings.sort_by_key(|d| (d.line, d.column));
            Ok(Loaded {
                config,
                warnings: findings,
            })
        }
        _ => Err(Diagnostics::new(findings)),
    }
}
