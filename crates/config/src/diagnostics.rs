//! What `config check` prints: one line per mistake, `file:line:col: error: message (hint: ...)`.
//!
//! The format is the one compilers use, so editors and CI annotate the right line. Messages name
//! keys, paths and positions, never the contents of a file (a key or a secret could be in it).

use std::fmt;
use std::path::PathBuf;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The file is refused.
    Error,
    /// The file is accepted, but something needs attention soon (a certificate about to expire, a
    /// provider no sandbox can use).
    Warning,
}

/// One finding at one position (1-based line and column; columns count characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.severity,
            self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// Every finding of one load, sorted by position: the errors that refused the file, and the
/// warnings found alongside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// Sorts by position; findings at the same position keep their order.
    pub(crate) fn new(mut items: Vec<Diagnostic>) -> Self {
        items.sort_by_key(|d| (d.line, d.column));
        Self(items)
    }

    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }
}

impl std::ops::Deref for Diagnostics {
    type Target = [Diagnostic];
    fn deref(&self) -> &[Diagnostic] {
        &self.0
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize, hint: Option<&str>) -> Diagnostic {
        Diagnostic {
            file: PathBuf::from("gw.toml"),
            line,
            column,
            severity: Severity::Error,
            message: format!("m{line}"),
            hint: hint.map(str::to_owned),
        }
    }

    #[test]
    fn display_prints_one_line_per_finding_sorted_by_position() {
        let d = Diagnostics::new(vec![at(9, 1, None), at(2, 5, Some("do this"))]);
        assert_eq!(
            d.to_string(),
            "gw.toml:2:5: error: m2 (hint: do this)\ngw.toml:9:1: error: m9"
        );
    }
}
