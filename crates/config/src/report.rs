//! The collector every check writes into, so that one pass reports every mistake at once.
//!
//! Findings are recorded with byte spans and turned into `file:line:col` only at the end.
//!
//! After a syntax error the parser recovers, but what it recovers can be wrong, and a finding about
//! a wrongly recovered tree would send the operator after a mistake they did not make. So when the
//! file has syntax errors:
//! - a finding marked *consequential* (a missing key, a dangling reference) is dropped: it may be the
//!   echo of a line the syntax error swallowed;
//! - a syntax error in a scalar value spoils only its own line, so findings on that line are dropped;
//! - a syntax error that can swallow the lines after it (a broken `[header]`, an unclosed array,
//!   inline table or multi-line string) spoils the rest of the file, so findings after it are dropped
//!   and its hint says the rest is checked once it is fixed.

use std::path::Path;

use crate::diagnostics::{Diagnostic, Severity};
use crate::spans::{LineIndex, Span};

/// One finding before it has a line and column.
pub(crate) struct Finding {
    severity: Severity,
    span: Span,
    message: String,
    hint: Option<String>,
    consequential: bool,
    syntax: bool,
}

impl Finding {
    /// Adds how to fix it.
    pub(crate) fn hint(&mut self, hint: impl Into<String>) -> &mut Self {
        self.hint = Some(hint.into());
        self
    }

    /// Marks it as possibly caused by a syntax error elsewhere.
    pub(crate) fn consequential(&mut self) -> &mut Self {
        self.consequential = true;
        self
    }
}

/// All findings of one parse.
pub(crate) struct Report<'s> {
    lines: LineIndex<'s>,
    findings: Vec<Finding>,
    syntax_errors: bool,
}

impl<'s> Report<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        Self {
            lines: LineIndex::new(source),
            findings: Vec::new(),
            syntax_errors: false,
        }
    }

    pub(crate) fn syntax_error(&mut self, span: Span, message: impl Into<String>) -> &mut Finding {
        self.syntax_errors = true;
        let finding = self.error(span, message);
        finding.syntax = true;
        finding
    }

    pub(crate) fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Finding {
        self.push(Severity::Error, span, message.into())
    }

    pub(crate) fn warning(&mut self, span: Span, message: impl Into<String>) -> &mut Finding {
        self.push(Severity::Warning, span, message.into())
    }

    fn push(&mut self, severity: Severity, span: Span, message: String) -> &mut Finding {
        self.findings.push(Finding {
            severity,
            span,
            message,
            hint: None,
            consequential: false,
            syntax: false,
        });
        let last = self.findings.len() - 1;
        &mut self.findings[last]
    }

    /// The 1-based line of a span, for messages that point at a second position.
    pub(crate) fn line(&self, span: &Span) -> usize {
        self.lines.line(span.start)
    }

    /// The number of errors so far, so a check can tell whether it added any.
    pub(crate) fn error_count(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    /// Every finding that stands, with its position in `file`.
    pub(crate) fn finish(mut self, file: &Path) -> Vec<Diagnostic> {
        if self.syntax_errors {
            self.drop_spoilt();
        }
        let lines = self.lines;
        self.findings
            .into_iter()
            .map(|f| {
                let (line, column) = lines.position(f.span.start);
                Diagnostic {
                    file: file.to_path_buf(),
                    line,
                    column,
                    severity: f.severity,
                    message: f.message,
                    hint: f.hint,
                }
            })
            .collect()
    }

    /// Drops the findings a syntax error may have caused (see the module docs).
    fn drop_spoilt(&mut self) {
        let first_rest = self
            .findings
            .iter()
            .filter(|f| f.syntax)
            .map(|f| f.span.start)
            .filter(|&start| spoils_the_rest(self.lines.line_text(start)))
            .min();
        let spoilt_lines: Vec<usize> = self
            .findings
            .iter()
            .filter(|f| f.syntax)
            .map(|f| self.lines.line(f.span.start))
            .collect();
        let rest_line = first_rest.map(|start| self.lines.line(start));
        let before = self.findings.len();
        let lines = &self.lines;
        self.findings.retain(|f| {
            if f.syntax {
                return true;
            }
            let line = lines.line(f.span.start);
            !(f.consequential
                || spoilt_lines.contains(&line)
                || rest_line.is_some_and(|rest| line > rest))
        });
        let dropped = self.findings.len() < before;
        if let (true, Some(start)) = (dropped, first_rest)
            && let Some(first) = self
                .findings
                .iter_mut()
                .find(|f| f.syntax && f.span.start == start)
        {
            first.hint.get_or_insert_with(|| {
                "the rest of the file is checked once this is fixed".to_owned()
            });
        }
    }
}

/// Whether a syntax error on this line can make the parser swallow the lines after it.
fn spoils_the_rest(line: &str) -> bool {
    let trimmed = line.trim_start();
    let opens =
        |open: char, close: char| trimmed.matches(open).count() > trimmed.matches(close).count();
    trimmed.starts_with('[')
        || opens('[', ']')
        || opens('{', '}')
        || trimmed.contains("\"\"\"")
        || trimmed.contains("'''")
}
