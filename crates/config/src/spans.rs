//! Byte offsets (what the TOML parser records for every key, value and table header) turned into
//! the 1-based line and column an operator's editor shows.

use std::ops::Range;

/// A byte range in the config source.
pub(crate) type Span = Range<usize>;

/// The start offset of every line of one source.
pub(crate) struct LineIndex<'s> {
    text: &'s str,
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(text: &'s str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, starts }
    }

    /// The 1-based (line, column) of `offset`; the column counts characters, not bytes. Offsets past
    /// the end land at the end.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        let column = match self.text.get(start..offset) {
            Some(prefix) => prefix.chars().count(),
            None => offset - start,
        };
        (line, column + 1)
    }

    /// The 1-based line of `offset`.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.position(offset).0
    }

    /// The text of the line holding `offset`, without its line break.
    pub(crate) fn line_text(&self, offset: usize) -> &'s str {
        let line = self.line(offset);
        let start = self.starts[line - 1];
        let end = self
            .starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        self.text.get(start..end).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let idx = LineIndex::new("a = 1\nné = \"x\"\n");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(4), (1, 5));
        assert_eq!(idx.position(6), (2, 1));
        // "né" is three bytes; the `=` after it is the fourth character.
        assert_eq!(idx.position(10), (2, 4));
        assert_eq!(idx.position(1000), (3, 1));
    }
}
