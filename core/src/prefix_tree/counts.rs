//! What a prefix tree counts: per prefix ([`Counts`]), as a node keeps it,
//! and per source while it is fed.

use std::ops::{Add, AddAssign, Sub};

use serde::{Deserialize, Serialize};

/// Additive counts of one prefix (its own entries plus its children's).
///
/// # Examples
///
/// ```
/// use halfopen::prefix_tree::Counts;
/// let a = Counts { half_open: 3, sources: 2, ..Counts::default() };
/// let b = Counts { half_open: 1, sources: 1, ..Counts::default() };
/// assert_eq!((a + b).half_open, 4);
/// assert_eq!((a - b).sources, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Half-open entries from the prefix.
    pub half_open: u64,
    /// Distinct source addresses among them. A report's tree counts every
    /// one (it is fed each source once, in order); entries inserted one by
    /// one ([`TreeBuilder::insert`](super::TreeBuilder::insert)) count as sources only where they got a
    /// full-address node (see [`Counts::overflow`]).
    pub sources: u64,
    /// Entries whose remote port is below 1024.
    pub well_known_port: u64,
    /// Entries whose SYN-ACK was retransmitted at least once.
    pub retransmitted: u64,
    /// Sources whose successor address (`a + 1`) is a source too (counted
    /// where the lower one is; the same proviso as `sources`).
    pub adjacent_sources: u64,
    /// ESTABLISHED connections from the prefix (counted only where a
    /// half-open node exists: other prefixes are never reported).
    pub established: u64,
    /// Entries the node cap kept from their full-address node: counted in
    /// `half_open`; in `sources` too in a report's tree, not when inserted
    /// one by one.
    pub overflow: u64,
}

impl Add for Counts {
    type Output = Counts;
    fn add(self, o: Counts) -> Counts {
        Counts {
            half_open: self.half_open + o.half_open,
            sources: self.sources + o.sources,
            well_known_port: self.well_known_port + o.well_known_port,
            retransmitted: self.retransmitted + o.retransmitted,
            adjacent_sources: self.adjacent_sources + o.adjacent_sources,
            established: self.established + o.established,
            overflow: self.overflow + o.overflow,
        }
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        *self = *self + o;
    }
}

impl Sub for Counts {
    type Output = Counts;
    /// Saturating difference, field by field.
    fn sub(self, o: Counts) -> Counts {
        Counts {
            half_open: self.half_open.saturating_sub(o.half_open),
            sources: self.sources.saturating_sub(o.sources),
            well_known_port: self.well_known_port.saturating_sub(o.well_known_port),
            retransmitted: self.retransmitted.saturating_sub(o.retransmitted),
            adjacent_sources: self.adjacent_sources.saturating_sub(o.adjacent_sources),
            established: self.established.saturating_sub(o.established),
            overflow: self.overflow.saturating_sub(o.overflow),
        }
    }
}

/// The most entries a tree counts (see [`TreeBuilder`]): every count of a
/// node then fits in 32 bits.
pub(super) const MAX_ENTRIES: u64 = u32::MAX as u64;

/// [`Counts`] as a node keeps them, in 32 bits each: no count of a node can
/// exceed the entries of its tree ([`MAX_ENTRIES`]); ESTABLISHED
/// connections saturate.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct NodeCounts {
    pub(super) half_open: u32,
    pub(super) sources: u32,
    pub(super) well_known_port: u32,
    pub(super) retransmitted: u32,
    pub(super) adjacent_sources: u32,
    pub(super) established: u32,
    pub(super) overflow: u32,
}

impl AddAssign for NodeCounts {
    #[inline]
    fn add_assign(&mut self, o: NodeCounts) {
        self.half_open = self.half_open.saturating_add(o.half_open);
        self.sources = self.sources.saturating_add(o.sources);
        self.well_known_port = self.well_known_port.saturating_add(o.well_known_port);
        self.retransmitted = self.retransmitted.saturating_add(o.retransmitted);
        self.adjacent_sources = self.adjacent_sources.saturating_add(o.adjacent_sources);
        self.established = self.established.saturating_add(o.established);
        self.overflow = self.overflow.saturating_add(o.overflow);
    }
}

impl From<NodeCounts> for Counts {
    fn from(c: NodeCounts) -> Counts {
        Counts {
            half_open: c.half_open.into(),
            sources: c.sources.into(),
            well_known_port: c.well_known_port.into(),
            retransmitted: c.retransmitted.into(),
            adjacent_sources: c.adjacent_sources.into(),
            established: c.established.into(),
            overflow: c.overflow.into(),
        }
    }
}

/// The half-open entries of one source, aggregated (its local ports are
/// given to [`TreeBuilder::count_source_port`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SourceCounts {
    pub(crate) half_open: u64,
    pub(crate) well_known_port: u64,
    pub(crate) retransmitted: u64,
}

impl SourceCounts {
    /// Counts one entry.
    #[inline]
    pub(crate) fn add(&mut self, well_known_port: bool, retransmitted: bool) {
        self.half_open += 1;
        self.well_known_port += u64::from(well_known_port);
        self.retransmitted += u64::from(retransmitted);
    }
}
