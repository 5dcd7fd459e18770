//! Typed reads from the parsed TOML tree, each remembering where its value came from.
//!
//! The tree is `toml`'s span-preserving `DeTable`, not a serde struct: serde stops at the first
//! error, and the point of `config check` is to report every mistake at once. Each read that finds
//! the wrong type records an error at the value and returns `None`, so the caller simply carries on.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::report::Report;
use crate::spans::Span;
use crate::suggest;

/// Keys that would put a secret inline. They get their own message: the fix is a file, not a
/// spelling.
pub(crate) const INLINE_SECRET_KEYS: [&str; 5] = [
    "secret",
    "client_secret",
    "password",
    "value",
    "private_key",
];

/// A value and the span it came from. The span is a (start, end) pair rather than a `Range` so
/// that `At<&str>` is `Copy` and can be handed to several checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<T> {
    pub value: T,
    pub span: (usize, usize),
}

impl<T> At<T> {
    pub(crate) fn new(value: T, span: Span) -> Self {
        Self {
            value,
            span: (span.start, span.end),
        }
    }

    pub(crate) fn span(&self) -> Span {
        self.span.0..self.span.1
    }
}

/// One TOML table (a `[header]` table, an `[[array]]` element, an inline `{ ... }` or the top
/// level) and the name it is reported under.
pub(crate) struct Table<'a, 'i> {
    entries: &'a DeTable<'i>,
    span: Span,
    /// The dotted path from the top level (`provider.credential`); empty for the top level.
    path: String,
    /// Messages name it `[path]`, or `[[path]]` for an element of an array of tables.
    label: String,
}

impl<'a, 'i> Table<'a, 'i> {
    /// The top level of the file.
    pub(crate) fn root(entries: &'a DeTable<'i>) -> Self {
        Self {
            entries,
            span: 0..0,
            path: String::new(),
            label: "the top level".to_owned(),
        }
    }

    /// Where the table starts: its header, or the `{` of an inline table.
    pub(crate) fn span(&self) -> Span {
        self.span.clone()
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The span of `key` itself (not its value), to point at a key that should not be there.
    pub(crate) fn key_span(&self, key: &str) -> Option<Span> {
        self.entries.get_key_value(key).map(|(k, _)| k.span())
    }

    fn get(&self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.entries.get(key)
    }

    /// Reports every key not in `known`, suggesting the closest known one.
    pub(crate) fn check_keys(&self, known: &[&str], report: &mut Report<'_>) {
        for (key, _) in self.entries.iter() {
            let name: &str = key.get_ref();
            if known.contains(&name) {
                continue;
            }
            if INLINE_SECRET_KEYS.contains(&name) {
                report
                    .error(key.span(), format!("`{name}` would put a secret inline; secrets are never inline"))
                    .hint("put the secret in a file only the gateway can read, then use type = \"client_secret\" with secret_file = \"...\"");
                continue;
            }
            let finding = report.error(
                key.span(),
                format!("unknown key `{}` in {}", shorten(name), self.label),
            );
            match suggest::closest(name, known.iter().copied()) {
                Some(close) => finding.hint(format!("did you mean `{close}`?")),
                None => finding.hint(format!("known keys here: {}", known.join(", "))),
            };
        }
    }

    /// Records that the required `key` is absent, at the table's header.
    pub(crate) fn missing(&self, key: &str, hint: &str, report: &mut Report<'_>) {
        report
            .error(self.span(), format!("{} has no `{key}`", self.label))
            .hint(hint.to_owned())
            .consequential();
    }

    /// An optional string.
    pub(crate) fn string(&self, key: &str, report: &mut Report<'_>) -> Option<At<&'a str>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::String(s) => Some(At::new(s.as_ref(), value.span())),
            other => {
                wrong_type(key, "a string", other, value.span(), report);
                None
            }
        }
    }

    /// A required string; its absence is reported with `hint`.
    pub(crate) fn required_string(
        &self,
        key: &str,
        hint: &str,
        report: &mut Report<'_>,
    ) -> Option<At<&'a str>> {
        if !self.has(key) {
            self.missing(key, hint, report);
            return None;
        }
        self.string(key, report)
    }

    /// An optional non-negative integer.
    pub(crate) fn unsigned(&self, key: &str, report: &mut Report<'_>) -> Option<At<u64>> {
        let value = self.get(key)?;
        let DeValue::Integer(integer) = value.get_ref() else {
            wrong_type(key, "an integer", value.get_ref(), value.span(), report);
            return None;
        };
        match u64::from_str_radix(integer.as_str(), integer.radix()) {
            Ok(n) => Some(At::new(n, value.span())),
            Err(_) => {
                report.error(
                    value.span(),
                    format!("`{key}` must be a non-negative integer that fits in 64 bits"),
                );
                None
            }
        }
    }

    /// An optional array of strings. Non-string items are reported one by one and skipped.
    pub(crate) fn strings(
        &self,
        key: &str,
        report: &mut Report<'_>,
    ) -> Option<At<Vec<At<&'a str>>>> {
        let value = self.get(key)?;
        let DeValue::Array(array) = value.get_ref() else {
            wrong_type(
                key,
                "an array of strings",
                value.get_ref(),
                value.span(),
                report,
            );
            return None;
        };
        let mut items = Vec::with_capacity(array.len());
        for item in array.iter() {
            match item.get_ref() {
                DeValue::String(s) => items.push(At::new(s.as_ref(), item.span())),
                other => {
                    report.error(
                        item.span(),
                        format!(
                            "every item of `{key}` must be a string, found {}",
                            other.type_str()
                        ),
                    );
                }
            }
        }
        Some(At::new(items, value.span()))
    }

    /// An optional sub-table, written as `[parent.key]`, dotted keys or an inline `{ ... }`.
    pub(crate) fn table(&self, key: &str, report: &mut Report<'_>) -> Option<Table<'a, 'i>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Table(entries) => {
                let path = self.child_path(key);
                Some(Table {
                    entries,
                    span: value.span(),
                    label: format!("[{path}]"),
                    path,
                })
            }
            other => {
                let path = self.child_path(key);
                wrong_type(key, "a table", other, value.span(), report).hint(format!(
                    "write it as a [{path}] section or as {key} = {{ ... }}"
                ));
                None
            }
        }
    }

    /// An array of tables, written as `[[key]]` (or an array of inline tables).
    pub(crate) fn tables(&self, key: &str, report: &mut Report<'_>) -> Vec<Table<'a, 'i>> {
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        let DeValue::Array(array) = value.get_ref() else {
            wrong_type(
                key,
                "an array of tables",
                value.get_ref(),
                value.span(),
                report,
            )
            .hint(format!("write each entry under its own [[{key}]] header"));
            return Vec::new();
        };
        let path = self.child_path(key);
        let label = format!("[[{path}]]");
        array
            .iter()
            .filter_map(|item| match item.get_ref() {
                DeValue::Table(entries) => Some(Table {
                    entries,
                    span: item.span(),
                    path: path.clone(),
                    label: label.clone(),
                }),
                other => {
                    report.error(
                        item.span(),
                        format!(
                            "every `{key}` entry must be a table, found {}",
                            other.type_str()
                        ),
                    );
                    None
                }
            })
            .collect()
    }

    /// The dotted path of a child, for labels: `provider` + `credential` → `provider.credential`.
    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }
}

fn wrong_type<'r>(
    key: &str,
    expected: &str,
    found: &DeValue<'_>,
    span: Span,
    report: &'r mut Report<'_>,
) -> &'r mut crate::report::Finding {
    report.error(
        span,
        format!("`{key}` must be {expected}, found {}", found.type_str()),
    )
}

/// Names come from the file: keep what is echoed back short.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 64;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}...")
    }
}
