//! The stamp printed with every table: which machine, which build, which revision.
//!
//! Benchmark figures are ratios measured in the same run, but a reader still needs to know whether a
//! table came from 2 shared cores or 32 idle ones, from a release build or a debug one, and from which
//! commit, before comparing two tables.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

/// The machine and build a report was produced on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Machine {
    /// Logical cores available to this process.
    pub cores: usize,
    /// The first `model name` of /proc/cpuinfo, or "unknown".
    pub cpu_model: String,
    /// `git rev-parse --short HEAD` of the checkout, with `-dirty` when the work tree has changes;
    /// "unknown" outside a git checkout.
    pub git_revision: String,
    /// "release" or "debug": figures from a debug build say little about the daemon.
    pub profile: &'static str,
    pub os: &'static str,
    pub arch: &'static str,
}

impl Machine {
    /// Reads the stamp of the machine this process runs on.
    pub fn detect() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model(&text))
            .unwrap_or_else(|| "unknown".to_owned());
        Self {
            cores,
            cpu_model,
            git_revision: git_revision(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
        }
    }

    /// One line for the head of a table.
    pub fn line(&self) -> String {
        format!(
            "machine: {} cores, {} ({}/{}); build: {}; revision: {}",
            self.cores, self.cpu_model, self.os, self.arch, self.profile, self.git_revision
        )
    }
}

/// The first `model name` value of a /proc/cpuinfo text.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// The checkout's short revision. Asked in this crate's source directory first (the binary usually
/// runs from the checkout it was built from), then in the working directory.
fn git_revision() -> String {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [Some(source).filter(|p| p.exists()), None] {
        if let Some(rev) = git(dir, &["rev-parse", "--short", "HEAD"]) {
            let dirty = git(dir, &["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            return if dirty { format!("{rev}-dirty") } else { rev };
        }
    }
    "unknown".to_owned()
}

/// Runs a read-only git command; `None` when git is missing or fails.
fn git(dir: Option<&Path>, args: &[&str]) -> Option<String> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command.args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_is_the_first_model_name() {
        let text = "processor\t: 0\nmodel name\t: Example CPU @ 2.0GHz\n\nprocessor\t: 1\nmodel name\t: Other\n";
        assert_eq!(cpu_model(text).as_deref(), Some("Example CPU @ 2.0GHz"));
        assert_eq!(cpu_model("processor : 0\n"), None);
    }

    #[test]
    fn detect_reports_at_least_one_core() {
        let machine = Machine::detect();
        assert!(machine.cores >= 1);
        assert!(!machine.git_revision.is_empty());
        assert!(machine.line().contains("cores"));
    }
}
