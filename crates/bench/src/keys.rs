//! Many distinct cache keys from few scopes.
//!
//! A user-token cache key is (tenant, Agent Identity, user, scope set). The scenarios that need
//! thousands of keys on one provider ask for distinct *sets* of a few consented scopes, because a
//! provider record may allow at most 32 scopes per kind (config check refuses more): 24 scopes taken
//! 4 at a time already give 10,626 keys.

use crate::error::BenchError;
use crate::stack::extra_user_scope;

/// Extra scopes a provider may allow besides the default user scope (32 per kind in all).
pub const MAX_EXTRA_SCOPES: usize = 31;

/// `keys` distinct scope sets over the first `scopes` extra scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySets {
    /// How many extra scopes the provider must allow (and the user must have consented to).
    pub scopes: usize,
    pub sets: Vec<Vec<String>>,
}

/// The smallest sets (fewest scopes per set, then fewest scopes in all) giving `keys` distinct keys.
pub fn key_sets(keys: usize) -> Result<KeySets, BenchError> {
    for k in 1..=MAX_EXTRA_SCOPES {
        if let Some(m) = (k..=MAX_EXTRA_SCOPES).find(|&m| binomial(m, k) >= keys as u128) {
            let sets = Combinations::new(m, k)
                .take(keys)
                .map(|set| set.into_iter().map(extra_user_scope).collect())
                .collect();
            return Ok(KeySets { scopes: m, sets });
        }
    }
    Err(BenchError::Invalid(format!(
        "{keys} distinct keys do not fit in {MAX_EXTRA_SCOPES} scopes"
    )))
}

fn binomial(n: usize, k: usize) -> u128 {
    (0..k).fold(1u128, |acc, i| acc * (n - i) as u128 / (i as u128 + 1))
}

/// The `k`-element subsets of `0..n` in lexicographic order.
struct Combinations {
    n: usize,
    next: Option<Vec<usize>>,
}

impl Combinations {
    fn new(n: usize, k: usize) -> Self {
        Self {
            n,
            next: (k <= n).then(|| (0..k).collect()),
        }
    }
}

impl Iterator for Combinations {
    type Item = Vec<usize>;

    fn next(&mut self) -> Option<Vec<usize>> {
        let current = self.next.take()?;
        let k = current.len();
        let mut following = current.clone();
        // The rightmost position that can still move right, then everything after it packed tight.
        if let Some(i) = (0..k).rev().find(|&i| following[i] < self.n - k + i) {
            following[i] += 1;
            for j in i + 1..k {
                following[j] = following[j - 1] + 1;
            }
            self.next = Some(following);
        }
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ten_thousand_keys_take_four_of_twenty_four_scopes() {
        let sets = key_sets(10_000).unwrap();
        assert_eq!(sets.scopes, 24);
        assert_eq!(sets.sets.len(), 10_000);
        assert!(sets.sets.iter().all(|s| s.len() == 4));
        let distinct: HashSet<_> = sets.sets.iter().collect();
        assert_eq!(distinct.len(), 10_000);
    }

    #[test]
    fn few_keys_use_one_scope_each() {
        let sets = key_sets(25).unwrap();
        assert_eq!(sets.scopes, 25);
        assert!(sets.sets.iter().all(|s| s.len() == 1));
        assert_eq!(key_sets(100).unwrap().scopes, 15);
    }

    #[test]
    fn combinations_are_every_subset_once() {
        let all: Vec<_> = Combinations::new(5, 3).collect();
        assert_eq!(all.len(), 10);
        assert_eq!(all[0], [0, 1, 2]);
        assert_eq!(all[9], [2, 3, 4]);
        assert_eq!(Combinations::new(2, 3).count(), 0);
    }
}
