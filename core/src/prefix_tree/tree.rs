//! The finished prefix tree: counts per prefix, children walks and the
//! hierarchical heavy hitters.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::level_index::LevelIndex;
use super::{key_of, Counts, FastMap, Node, NONE};
use crate::procnet::Family;

/// A node of a [`PrefixTree`], valid for the tree it came from.
///
/// # Examples
///
/// ```
/// use halfopen::prefix_tree::TreeBuilder;
/// use halfopen::procnet::Family;
/// let t = TreeBuilder::new(Family::V4, &[24], 10)?.build();
/// assert!(t.get("198.18.0.0/24".parse()?).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(super) u32);

/// The finished tree of one family: counts per prefix, children walks, and
/// what the node cap cost.
///
/// # Examples
///
/// ```
/// use halfopen::prefix_tree::{Sample, TreeBuilder};
/// use halfopen::procnet::Family;
///
/// // Room for two nodes: one /24 and one full address.
/// let mut b = TreeBuilder::new(Family::V4, &[32, 24], 2)?;
/// let s = Sample { remote_port: 40000, local_port: 80, retransmitted: false };
/// b.insert([198, 18, 5, 1].into(), s);
/// b.insert([198, 18, 5, 2].into(), s); // no room for its /32: kept at the /24
/// b.insert([198, 18, 6, 1].into(), s); // no room for its /24: dropped
/// let tree = b.build();
/// assert_eq!(tree.len(), 2);
/// let net = tree.get("198.18.5.0/24".parse()?).unwrap();
/// assert_eq!(tree.counts(net).half_open, 2);
/// assert_eq!(tree.counts(net).overflow, 1);
/// assert_eq!(tree.dropped(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PrefixTree {
    pub(super) family: Family,
    pub(super) width: u8,
    pub(super) levels: Vec<u8>,
    pub(super) reported: Vec<bool>,
    pub(super) index: Vec<LevelIndex>,
    pub(super) nodes: Vec<Node>,
    pub(super) roots: Vec<NodeId>,
    pub(super) cap: usize,
    pub(super) dropped: u64,
}

/// A prefix chosen by [`PrefixTree::heavy_hitters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeavyHitter {
    /// The node.
    pub node: NodeId,
    /// Its counts minus those of the reported prefixes below it: what it is
    /// reported for.
    pub residual: Counts,
}

impl PrefixTree {
    /// The tree's family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The levels, coarsest first; the last is the full address length
    /// (kept even when not configured, see [`PrefixTree::is_reported_level`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::prefix_tree::TreeBuilder;
    /// use halfopen::procnet::Family;
    /// let t = TreeBuilder::new(Family::V4, &[16, 24], 10)?.build();
    /// assert_eq!(t.levels(), [16, 24, 32]);
    /// assert!(!t.is_reported_level(32));
    /// # Ok::<(), halfopen::prefix_tree::LevelError>(())
    /// ```
    pub fn levels(&self) -> &[u8] {
        &self.levels
    }

    /// True when `len` is one of the configured levels.
    pub fn is_reported_level(&self, len: u8) -> bool {
        self.levels
            .iter()
            .zip(&self.reported)
            .any(|(&l, &r)| l == len && r)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the tree has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node cap the tree was built with.
    pub fn node_cap(&self) -> usize {
        self.cap
    }

    /// Entries counted nowhere in the tree: no node could be made for them
    /// under the cap (or they were of the other family).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Entries counted at a coarser node than their full address because of
    /// the cap (see [`Counts::overflow`]).
    pub fn overflow(&self) -> u64 {
        self.roots.iter().map(|&r| self.counts(r).overflow).sum()
    }

    /// Half-open entries counted in the tree (dropped ones excluded).
    pub fn half_open(&self) -> u64 {
        self.roots.iter().map(|&r| self.counts(r).half_open).sum()
    }

    /// Approximate heap bytes of the nodes and their indexes.
    pub fn approx_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self
                .index
                .iter()
                .map(LevelIndex::approx_bytes)
                .sum::<usize>()
    }

    /// The node of `prefix`, when it is at one of the levels and holds
    /// entries.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::prefix_tree::{Sample, TreeBuilder};
    /// use halfopen::procnet::Family;
    /// let mut b = TreeBuilder::new(Family::V6, &[64], 10)?;
    /// b.insert("2001:db8::1".parse()?, Sample { remote_port: 1, local_port: 2, retransmitted: false });
    /// let t = b.build();
    /// assert!(t.get("2001:db8::/64".parse()?).is_some());
    /// assert!(t.get("2001:db8::/63".parse()?).is_none());
    /// assert!(t.get("198.18.0.0/24".parse()?).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, prefix: IpNet) -> Option<NodeId> {
        let (family, key) = key_of(prefix.network());
        if family != self.family {
            return None;
        }
        let l = self.levels.iter().position(|&l| l == prefix.prefix_len())?;
        self.index[l].get(key, &self.nodes).map(NodeId)
    }

    /// The nodes at the coarsest level.
    pub fn roots(&self) -> &[NodeId] {
        &self.roots
    }

    /// Every node, parents before their children.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// The children of `node` (at the next finer level).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::prefix_tree::{Sample, TreeBuilder};
    /// use halfopen::procnet::Family;
    /// let mut b = TreeBuilder::new(Family::V4, &[32, 24, 16], 100)?;
    /// let s = Sample { remote_port: 5000, local_port: 80, retransmitted: false };
    /// for a in ["198.18.1.1", "198.18.2.1", "198.18.2.2"] {
    ///     b.insert(a.parse()?, s);
    /// }
    /// let t = b.build();
    /// let root = t.roots()[0];
    /// let mut kids: Vec<String> = t.children(root).map(|c| t.prefix(c).to_string()).collect();
    /// kids.sort();
    /// assert_eq!(kids, ["198.18.1.0/24", "198.18.2.0/24"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn children(&self, node: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let mut next = self.nodes[node.0 as usize].first_child;
        std::iter::from_fn(move || {
            (next != NONE).then(|| {
                let id = NodeId(next);
                next = self.nodes[next as usize].next_sibling;
                id
            })
        })
    }

    /// The parent of `node`, if any.
    pub fn parent(&self, node: NodeId) -> Option<NodeId> {
        let p = self.nodes[node.0 as usize].parent;
        (p != NONE).then_some(NodeId(p))
    }

    /// The prefix of `node`.
    pub fn prefix(&self, node: NodeId) -> IpNet {
        let n = &self.nodes[node.0 as usize];
        let len = self.levels[usize::from(n.level)];
        match self.family {
            Family::V4 => IpNet::V4(
                Ipv4Net::new(Ipv4Addr::from(n.prefix() as u32), len).expect("level checked"),
            ),
            Family::V6 => {
                IpNet::V6(Ipv6Net::new(Ipv6Addr::from(n.prefix()), len).expect("level checked"))
            }
        }
    }

    /// The prefix length of `node`.
    pub fn prefix_len(&self, node: NodeId) -> u8 {
        self.levels[usize::from(self.nodes[node.0 as usize].level)]
    }

    /// The counts of `node`, its whole subtree included.
    pub fn counts(&self, node: NodeId) -> Counts {
        self.nodes[node.0 as usize].counts.into()
    }

    /// The busiest local port of `node`'s entries and its entry count
    /// (exact for up to four ports per node, a lower bound beyond).
    pub fn top_port(&self, node: NodeId) -> Option<(u16, u64)> {
        self.nodes[node.0 as usize].ports.top()
    }

    /// The next finer level below `len`, if any.
    pub fn finer_level(&self, len: u8) -> Option<u8> {
        self.levels.iter().copied().find(|&l| l > len)
    }

    /// The address length of the family (32 or 128).
    pub fn width(&self) -> u8 {
        self.width
    }

    /// Hierarchical heavy hitters: the most specific prefixes at reported
    /// levels whose entries, minus those of reported prefixes below them,
    /// reach `threshold`. Finest first.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::prefix_tree::{Sample, TreeBuilder};
    /// use halfopen::procnet::Family;
    /// let mut b = TreeBuilder::new(Family::V4, &[32, 24, 16], 10_000)?;
    /// let s = Sample { remote_port: 5000, local_port: 80, retransmitted: false };
    /// for i in 0..300u32 {
    ///     b.insert([198, 18, 7, (i % 250) as u8].into(), s); // one heavy /24
    /// }
    /// for i in 0..120u32 {
    ///     b.insert([198, 18, (i % 60) as u8 + 100, 1].into(), s); // thin spray
    /// }
    /// let t = b.build();
    /// let hh: Vec<_> = t.heavy_hitters(100).iter()
    ///     .map(|h| (t.prefix(h.node).to_string(), h.residual.half_open)).collect();
    /// assert_eq!(hh, [("198.18.7.0/24".to_string(), 300), ("198.18.0.0/16".to_string(), 120)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn heavy_hitters(&self, threshold: u64) -> Vec<HeavyHitter> {
        let threshold = threshold.max(1);
        // What reported prefixes below explain, kept only for nodes that
        // have reported prefixes below them (few).
        let mut explained: FastMap<u32, Counts> = FastMap::default();
        let mut out = Vec::new();
        for i in (0..self.nodes.len()).rev() {
            let node = &self.nodes[i];
            // A node without children has nothing explained below it.
            let below = if explained.is_empty() || node.first_child == NONE {
                None
            } else {
                explained.remove(&(i as u32))
            };
            let counts = Counts::from(node.counts);
            let residual = counts - below.unwrap_or_default();
            let reported =
                self.reported[usize::from(node.level)] && residual.half_open >= threshold;
            if reported {
                out.push(HeavyHitter {
                    node: NodeId(i as u32),
                    residual,
                });
            }
            if node.parent != NONE {
                let up = if reported { Some(counts) } else { below };
                if let Some(up) = up {
                    *explained.entry(node.parent).or_default() += up;
                }
            }
        }
        out.sort_by_key(|h| std::cmp::Reverse(self.prefix_len(h.node)));
        out
    }
}
