//! From the parsed TOML tree to a [`Config`], recording every mistake on the way.
//!
//! Each record is checked on its own (`gateway`, `provider`, `credential`, `scopes`, `sandbox`),
//! then the records against each other (`references`). A check that fails records a finding and
//! yields `None`; the others carry on, so one pass finds everything.

mod certificate;
mod certs;
mod credential;
mod endpoints;
mod gateway;
mod ids;
mod provider;
mod references;
mod sandbox;
mod scopes;
mod service_account;

use std::path::PathBuf;
use std::time::SystemTime;

use toml::de::DeTable;

use crate::files::{self, Paths};
use crate::reader::{At, Table};
use crate::report::Report;
use crate::schema::Config;

/// Everything a check needs besides the table it reads.
pub(crate) struct Ctx<'s> {
    pub report: Report<'s>,
    pub paths: Paths,
    pub env: &'s dyn Fn(&str) -> Option<String>,
    pub check_files: bool,
    pub now: SystemTime,
}

impl Ctx<'_> {
    /// Applies an identifier check to `at`, reporting `` `key` <why> `` at the value.
    pub(crate) fn id<T>(
        &mut self,
        key: &str,
        at: At<&str>,
        check: impl FnOnce(&str) -> Result<T, ids::IdError>,
        hint: &str,
    ) -> Option<T> {
        match check(at.value) {
            Ok(value) => Some(value),
            Err(err) => {
                self.report
                    .error(at.span(), format!("`{key}` {err}"))
                    .hint(hint.to_owned());
                None
            }
        }
    }

    /// A path as written, made absolute against the config file's directory (or
    /// `$CREDENTIALS_DIRECTORY`, see `credentials_dir`).
    pub(crate) fn path(&mut self, key: &str, at: At<&str>) -> Option<PathBuf> {
        if at.value.trim().is_empty() {
            self.report.error(at.span(), format!("`{key}` is empty"));
            return None;
        }
        Some(self.paths.resolve(at.value))
    }

    /// Reads a file the config names (bounded), reporting why it cannot be read. The report shows
    /// the resolved path, never what the file holds.
    pub(crate) fn read(
        &mut self,
        key: &str,
        at: At<&str>,
        path: &std::path::Path,
    ) -> Option<Vec<u8>> {
        match files::read_bounded(path) {
            Ok(bytes) => Some(bytes),
            Err(err) => {
                let finding = self.report.error(
                    at.span(),
                    format!("cannot read `{key}` {}: {err}", path.display()),
                );
                if std::path::Path::new(at.value).is_relative() {
                    finding.hint(crate::credentials_dir::relative_hint(
                        self.paths.base(),
                        self.paths.in_credentials(),
                    ));
                }
                None
            }
        }
    }

    /// Reads a file holding one secret (a client secret, a sandbox credential): an empty one is an
    /// error whose hint says what `holds`, a world-readable one a warning.
    pub(crate) fn read_secret(
        &mut self,
        key: &str,
        at: At<&str>,
        path: &std::path::Path,
        holds: &str,
    ) -> Option<Vec<u8>> {
        let bytes = self.read(key, at, path)?;
        if bytes.trim_ascii().is_empty() {
            self.report
                .error(at.span(), format!("`{key}` {} is empty", path.display()))
                .hint(format!("it should hold {holds}"));
            return None;
        }
        self.warn_if_world_readable(key, at, path);
        Some(bytes)
    }

    /// Warns when a file holding a key or secret is readable by every user on the machine.
    pub(crate) fn warn_if_world_readable(
        &mut self,
        key: &str,
        at: At<&str>,
        path: &std::path::Path,
    ) {
        if files::readable_by_others(path) {
            self.report
                .warning(
                    at.span(),
                    format!("`{key}` {} is readable by every user", path.display()),
                )
                .hint("chmod 600 it (on Kubernetes: defaultMode: 0400 on the volume)");
        }
    }
}

/// Validates the whole tree. `None` when a record could not be built; the caller refuses the file
/// whenever any error was recorded, built or not.
pub(crate) fn config(root: &DeTable<'_>, ctx: &mut Ctx<'_>) -> Option<Config> {
    let root = Table::root(root);
    root.check_keys(&["gateway", "provider", "sandbox"], &mut ctx.report);

    let gateway = gateway::settings(root.table("gateway", &mut ctx.report).as_ref(), ctx);
    let default_authority = gateway
        .as_ref()
        .map_or(crate::schema::DEFAULT_AUTHORITY_HOST, |g| {
            g.authority_host.as_str()
        })
        .to_owned();

    let provider_tables = root.tables("provider", &mut ctx.report);
    if provider_tables.is_empty() && !root.has("provider") {
        ctx.report
            .error(0..0, "the file declares no provider")
            .hint("add a [[provider]] table per Entra agent or app; config/gateway.example.toml shows each kind")
            .consequential();
    }
    let providers: Vec<provider::Checked> = provider_tables
        .iter()
        .map(|t| provider::read(t, &default_authority, ctx))
        .collect();

    let sandbox_tables = root.tables("sandbox", &mut ctx.report);
    if sandbox_tables.is_empty() && !root.has("sandbox") {
        ctx.report
            .warning(
                0..0,
                "the file declares no sandbox, so no caller can mint a token",
            )
            .hint("add a [[sandbox]] table with credential_sha256 and providers")
            .consequential();
    }
    let sandboxes: Vec<sandbox::Checked> = sandbox_tables
        .iter()
        .map(|t| sandbox::read(t, ctx))
        .collect();

    references::check(&providers, &sandboxes, &mut ctx.report);

    Some(Config {
        gateway: gateway?,
        providers: providers
            .into_iter()
            .map(|p| p.provider)
            .collect::<Option<_>>()?,
        sandboxes: sandboxes
            .into_iter()
            .map(|s| s.sandbox)
            .collect::<Option<_>>()?,
    })
}
