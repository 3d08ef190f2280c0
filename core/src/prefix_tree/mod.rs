//! A prefix tree per address family that counts half-open entries and
//! distinct source addresses per prefix at a few configured levels
//! (e.g. IPv4 /32, /24, /16), with a hard cap on its node count.
//!
//! The tree is a multibit trie compressed to the configured levels: a node
//! exists only for a prefix at one of the levels that holds at least one
//! half-open entry, and its parent is the covering prefix at the next coarser
//! level. Every count is added to its node and the node's ancestors as it
//! comes (two or three nodes, found through parent links; the ports of a
//! run of sources in one node, once per run), so [`TreeBuilder::build`] has
//! no pass over the nodes to make.
//!
//! Fed in address order (as [`crate::report::Report::build`] does, after a
//! radix sort, one call per source), the tree does no hashing at all: a
//! prefix's node can only be the last one made at its level, kept in a
//! per-level cache, and each level's index is a vector of nodes in prefix
//! order, searched by bisection afterwards. Entries fed out of order (by
//! [`TreeBuilder::insert`]) turn the indexes into hash maps, so an entry
//! whose source was seen before costs one lookup.
//!
//! The finest level is always the full address (`/32`, `/128`), the nodes
//! of single sources. When it is not among the configured levels it is kept
//! but never reported. Distinct sources are counted where a source lands:
//! every one in a report's sorted feed, only those with a full-address node
//! when entries are inserted one by one.
//!
//! # Node cap
//!
//! A builder never holds more than its node cap. An entry whose node cannot
//! be created is counted at its deepest existing covering node instead (and
//! in that node's [`Counts::overflow`]); when not even a node at the coarsest
//! level exists for it, it is counted in [`PrefixTree::dropped`]. So memory
//! stays bounded however many distinct addresses a spray uses, totals stay
//! right, and what the cap cost is visible.
//!
//! Which nodes the cap keeps depends on the feed. Entries inserted one by
//! one get nodes in the order they come. A report's sorted feed shares the
//! cap out first, when the addresses might not fit: coarsest level first,
//! so the prefixes that decide verdicts are all there whenever the cap can
//! hold them, and the finest detail (full addresses, for the highest ones)
//! is what goes.

use std::net::IpAddr;

use crate::procnet::Family;

mod builder;
mod counts;
mod hash;
mod level_index;
mod ports;
mod tree;

pub use builder::TreeBuilder;
pub use counts::Counts;
use counts::NodeCounts;
pub(crate) use counts::SourceCounts;
pub(crate) use hash::FastMap;
use ports::PortTally;
pub use tree::{HeavyHitter, NodeId, PrefixTree};

const NONE: u32 = u32::MAX;

/// A level list that a tree cannot use.
///
/// # Examples
///
/// ```
/// use halfopen::prefix_tree::{LevelError, TreeBuilder};
/// use halfopen::procnet::Family;
/// let err = TreeBuilder::new(Family::V4, &[33], 100).unwrap_err();
/// assert_eq!(err, LevelError::TooLong { family: Family::V4, len: 33, max: 32 });
/// assert_eq!(err.to_string(), "prefix level /33 is longer than an IPv4 address (/32)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelError {
    /// No level was given.
    #[error("no prefix level given for {family}")]
    Empty {
        /// The family the list was for.
        family: Family,
    },
    /// A level is longer than the family's addresses.
    #[error("prefix level /{len} is longer than an {family} address (/{max})")]
    TooLong {
        /// The family the list was for.
        family: Family,
        /// The offending level.
        len: u8,
        /// The family's address length.
        max: u8,
    },
}

/// A node: 88 bytes (the prefix kept as two halves, so that nothing in it
/// needs 16-byte alignment).
#[derive(Debug, Clone)]
struct Node {
    prefix_hi: u64,
    prefix_lo: u64,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    counts: NodeCounts,
    ports: PortTally,
    level: u8,
}

impl Node {
    fn prefix(&self) -> u128 {
        (u128::from(self.prefix_hi) << 64) | u128::from(self.prefix_lo)
    }
}

/// One half-open entry as the tree needs it.
///
/// # Examples
///
/// ```
/// use halfopen::prefix_tree::Sample;
/// let s = Sample { remote_port: 80, local_port: 443, retransmitted: true };
/// assert!(s.remote_port < 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sample {
    /// The remote (source) port.
    pub remote_port: u16,
    /// The local (listening) port.
    pub local_port: u16,
    /// True when the SYN-ACK was sent again at least once.
    pub retransmitted: bool,
}

/// The tree's key of an address: IPv4 in the low 32 bits.
fn key_of(addr: IpAddr) -> (Family, u128) {
    match addr {
        IpAddr::V4(a) => (Family::V4, u128::from(u32::from(a))),
        IpAddr::V6(a) => (Family::V6, u128::from(a)),
    }
}

fn width_of(family: Family) -> u8 {
    match family {
        Family::V4 => 32,
        Family::V6 => 128,
    }
}

#[cfg(test)]
mod tests;
