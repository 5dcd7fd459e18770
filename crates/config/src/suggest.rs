//! "Did you mean ...?": the closest known name by edit distance, for misspelt keys and references.

/// The candidate closest to `word`, if it is close enough to be a plausible typo (at most a third
/// of the word's length in edits, and at least one edit allowed).
pub(crate) fn closest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let budget = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= budget)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters, with ASCII case differences costing nothing (so
/// `Tenant` suggests `tenant`).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_suggests_the_known_key() {
        let known = ["tenant", "name", "blueprint_client_id"];
        assert_eq!(closest("tennant", known), Some("tenant"));
        assert_eq!(
            closest("blueprint_clientid", known),
            Some("blueprint_client_id")
        );
        assert_eq!(closest("Name", known), Some("name"));
    }

    #[test]
    fn an_unrelated_word_suggests_nothing() {
        assert_eq!(closest("colour", ["tenant", "name"]), None);
    }
}
