//! The index of one level of a tree: prefix to node.

use super::FastMap;

/// Prefix to node id at one level: a vector in prefix order while nodes
/// are made in that order (a sorted feed, which then needs no hashing, and
/// lookups by binary search), a hash map once they are not.
#[derive(Debug, Clone)]
pub(super) enum LevelIndex {
    /// Nodes in ascending prefix order.
    Sorted(Vec<(u128, u32)>),
    /// Nodes in any order.
    Hashed(FastMap<u128, u32>),
}

impl Default for LevelIndex {
    fn default() -> LevelIndex {
        LevelIndex::Sorted(Vec::new())
    }
}

impl LevelIndex {
    /// The node of `prefix`.
    #[inline]
    pub(super) fn get(&self, prefix: u128) -> Option<u32> {
        match self {
            LevelIndex::Sorted(v) => v
                .binary_search_by_key(&prefix, |&(p, _)| p)
                .ok()
                .map(|i| v[i].1),
            LevelIndex::Hashed(m) => m.get(&prefix).copied(),
        }
    }

    /// Adds the node `id` of `prefix`; while sorted, `prefix` must be
    /// larger than every prefix added before.
    #[inline]
    pub(super) fn push(&mut self, prefix: u128, id: u32) {
        match self {
            LevelIndex::Sorted(v) => {
                debug_assert!(v.last().map_or(true, |&(p, _)| p < prefix));
                v.push((prefix, id));
            }
            LevelIndex::Hashed(m) => {
                m.insert(prefix, id);
            }
        }
    }

    /// Turns a sorted index into a hash map, for nodes made out of order.
    pub(super) fn make_hashed(&mut self) {
        if let LevelIndex::Sorted(v) = self {
            let mut m = FastMap::default();
            m.reserve(v.len());
            m.extend(v.drain(..));
            *self = LevelIndex::Hashed(m);
        }
    }

    /// Makes room for `n` more nodes.
    pub(super) fn reserve(&mut self, n: usize) {
        match self {
            LevelIndex::Sorted(v) => v.reserve(n),
            LevelIndex::Hashed(m) => m.reserve(n),
        }
    }

    /// Approximate heap bytes.
    pub(super) fn approx_bytes(&self) -> usize {
        match self {
            LevelIndex::Sorted(v) => v.capacity() * std::mem::size_of::<(u128, u32)>(),
            // A slot per capacity plus one control byte.
            LevelIndex::Hashed(m) => m.capacity() * (std::mem::size_of::<(u128, u32)>() + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_hashed_find_the_same_nodes() {
        let mut index = LevelIndex::default();
        for (i, p) in [3u128, 9, 40, 41, 1000].into_iter().enumerate() {
            index.push(p, i as u32);
        }
        let found = |index: &LevelIndex| {
            (0..1100)
                .filter_map(|p| index.get(p).map(|n| (p, n)))
                .collect::<Vec<_>>()
        };
        let sorted = found(&index);
        assert_eq!(sorted, [(3, 0), (9, 1), (40, 2), (41, 3), (1000, 4)]);
        index.make_hashed();
        index.push(5, 5);
        let mut hashed = found(&index);
        hashed.sort_unstable();
        assert_eq!(
            hashed,
            [(3, 0), (5, 5), (9, 1), (40, 2), (41, 3), (1000, 4)]
        );
    }
}
