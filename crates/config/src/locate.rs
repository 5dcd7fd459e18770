//! Where a key is written in a config file, as `file:line`, for messages about a valid config (a
//! reload that changed `[gateway] listen` is valid, but needs a restart: the operator is told where).

use std::path::Path;

use toml::de::{DeTable, DeValue};

use crate::spans::LineIndex;

/// `file:line` of the key at `key` (`["gateway", "tls", "cert_file"]`) in the file at `file`, or of
/// the deepest table on the way that is written (a removed key points at its table; a removed
/// table at line 1).
pub fn locate(file: &Path, key: &[&str]) -> String {
    let line = std::fs::read_to_string(file)
        .ok()
        .map_or(1, |source| line_of(&source, key));
    format!("{}:{line}", file.display())
}

/// The 1-based line of `key` in `source` (see [`locate`]).
fn line_of(source: &str, key: &[&str]) -> usize {
    let (root, _) = DeTable::parse_recoverable(source);
    let mut table = root.get_ref();
    let mut offset = None;
    for segment in key {
        let Some((k, value)) = table.get_key_value(*segment) else {
            break;
        };
        offset = Some(k.span().start);
        match value.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => break,
        }
    }
    offset.map_or(1, |offset| LineIndex::new(source).line(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_key_or_the_deepest_table_written() {
        let src = "# c\n[gateway]\nlisten = \"127.0.0.1:1\"\n\n[gateway.tls]\ncert_file = \"c\"\n";
        assert_eq!(line_of(src, &["gateway", "listen"]), 3);
        assert_eq!(line_of(src, &["gateway", "tls", "cert_file"]), 6);
        assert_eq!(line_of(src, &["gateway", "admin_listen"]), 2);
        assert_eq!(line_of(src, &["gateway", "tls", "key_file"]), 5);
        assert_eq!(line_of("", &["gateway", "listen"]), 1);
    }
}
