//! The index of one level of a tree: prefix to node.

use super::{FastMap, Node};

/// Prefix to node id at one level: the ids in prefix order while nodes are
/// made in that order (a sorted feed, which then needs no hashing, and
/// lookups by binary search over the nodes' prefixes; 4 bytes a node), a
/// hash map once they are not.
#[derive(Debug, Clone)]
pub(super) enum LevelIndex {
    /// Node ids in ascending prefix order.
    Sorted(Vec<u32>),
    /// Nodes in any order.
    Hashed(FastMap<u128, u32>),
}

impl Default for LevelIndex {
    fn default() -> LevelIndex {
        LevelIndex::Sorted(Vec::new())
    }
}

impl LevelIndex {
    /// The node of `prefix` among `nodes`.
    #[inline]
    pub(super) fn get(&self, prefix: u128, nodes: &[Node]) -> Option<u32> {
        match self {
            LevelIndex::Sorted(ids) => ids
                .binary_search_by_key(&prefix, |&id| nodes[id as usize].prefix())
                .ok()
                .map(|i| ids[i]),
            LevelIndex::Hashed(m) => m.get(&prefix).copied(),
        }
    }

    /// Adds the node `id` of `prefix`; while sorted, `prefix` must be
    /// larger than every prefix added before.
    #[inline]
    pub(super) fn push(&mut self, prefix: u128, id: u32) {
        match self {
            LevelIndex::Sorted(ids) => ids.push(id),
            LevelIndex::Hashed(m) => {
                m.insert(prefix, id);
            }
        }
    }

    /// Turns a sorted index into a hash map, for nodes made out of order.
    pub(super) fn make_hashed(&mut self, nodes: &[Node]) {
        if let LevelIndex::Sorted(ids) = self {
            let mut m = FastMap::default();
            m.reserve(ids.len());
            m.extend(ids.iter().map(|&id| (nodes[id as usize].prefix(), id)));
            *self = LevelIndex::Hashed(m);
        }
    }

    /// Makes room for `n` more nodes.
    pub(super) fn reserve(&mut self, n: usize) {
        match self {
            LevelIndex::Sorted(ids) => ids.reserve(n),
            LevelIndex::Hashed(m) => m.reserve(n),
        }
    }

    /// Approximate heap bytes.
    pub(super) fn approx_bytes(&self) -> usize {
        match self {
            LevelIndex::Sorted(ids) => ids.capacity() * std::mem::size_of::<u32>(),
            // A slot per capacity plus one control byte.
            LevelIndex::Hashed(m) => m.capacity() * (std::mem::size_of::<(u128, u32)>() + 1),
        }
    }
}
