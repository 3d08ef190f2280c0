//! The builder of a prefix tree: places each source at its nodes, making
//! them while the cap allows, and adds its counts up the tree.

use std::net::IpAddr;

use super::counts::{NodeCounts, SourceCounts, MAX_ENTRIES};
use super::level_index::LevelIndex;
use super::ports::{PortSlots, PortTally, SlotCounts};
use super::{key_of, width_of, LevelError, Node, NodeId, PrefixTree, Sample, NONE};
use crate::procnet::Family;

/// Collects entries of one family into a capped tree; [`TreeBuilder::build`]
/// finishes it.
///
/// A tree counts at most `u32::MAX` entries (so that every count of a node
/// fits in 32 bits); any beyond are counted in [`PrefixTree::dropped`].
///
/// # Examples
///
/// ```
/// use halfopen::prefix_tree::{Sample, TreeBuilder};
/// use halfopen::procnet::Family;
///
/// let mut b = TreeBuilder::new(Family::V4, &[32, 24, 16], 1000)?;
/// let s = Sample { remote_port: 40000, local_port: 80, retransmitted: false };
/// for last in 1..=10u8 {
///     b.insert([198, 18, 5, last].into(), s);
/// }
/// let tree = b.build();
/// let net = tree.get("198.18.5.0/24".parse()?).unwrap();
/// assert_eq!(tree.counts(net).half_open, 10);
/// assert_eq!(tree.counts(net).sources, 10);
/// assert_eq!(tree.counts(net).adjacent_sources, 9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TreeBuilder {
    family: Family,
    width: u8,
    /// Ascending (coarsest first); the last is the full address.
    levels: Vec<u8>,
    /// Per level, the mask that keeps its prefix of a key.
    masks: Vec<u128>,
    reported: Vec<bool>,
    /// Per level, prefix to node.
    index: Vec<LevelIndex>,
    nodes: Vec<Node>,
    cap: usize,
    dropped: u64,
    /// Entries counted in nodes.
    counted: u64,
    /// The address placed last and its node (`NONE` when none covers it).
    last: Option<(u128, u32)>,
    /// Per level, the node last found or made there (prefix, id): sorted
    /// input finds its parents here without hashing.
    cache: Vec<(u128, u32)>,
    /// Per level, the most nodes to make there for prefixes the plan does
    /// not keep ([`TreeBuilder::plan_sorted`]) and the nodes made for them;
    /// the prefixes it keeps, ascending, and the next one to look at.
    limits: Vec<usize>,
    made: Vec<usize>,
    kept: Vec<Vec<u128>>,
    kept_next: Vec<usize>,
    /// The nodes without a parent, in the order made.
    roots: Vec<NodeId>,
    /// Local ports of sources fed in address order: the dictionary, the
    /// current source's counts, and per level the counts not yet added to
    /// the node last fed there (a sorted feed adds each node's ports once,
    /// not once per source).
    slots: PortSlots,
    source_ports: SlotCounts,
    pending_ports: Vec<(u32, SlotCounts)>,
    /// Sources counted above their address in one node, not yet added up
    /// the tree, and their ports.
    batch: Option<(u32, NodeCounts)>,
    batch_ports: SlotCounts,
    /// The source counted last and the node it was counted at.
    last_source: Option<(u128, u32)>,
    /// Set by `place` when it made a full-address node.
    new_host: bool,
    /// True while every address was fed in ascending order: then each
    /// level's nodes are made in prefix order, a prefix's node can only be
    /// the last one made at its level (`cache`), and the indexes stay
    /// sorted vectors. The first address out of order turns them into hash
    /// maps.
    ascending: bool,
}

/// The mask that keeps the first `len` bits of a `width`-bit key.
fn prefix_mask(len: u8, width: u8) -> u128 {
    let host_bits = u32::from(width - len);
    if host_bits >= 128 {
        0
    } else {
        !((1u128 << host_bits) - 1)
    }
}

/// Adds `delta` to node `n` and its ancestors, and `ports` to their port
/// tallies: a full address's directly, the others' through the counts
/// pending per level for the node fed last there (a node's ports are then
/// added once per run of sources, not once per source).
fn add_chain(
    nodes: &mut [Node],
    pending_ports: &mut [(u32, SlotCounts)],
    slots: &PortSlots,
    n: u32,
    delta: NodeCounts,
    ports: &SlotCounts,
) {
    let host = pending_ports.len() - 1;
    let mut at = n;
    while at != NONE {
        let node = &mut nodes[at as usize];
        node.counts += delta;
        let (level, parent) = (usize::from(node.level), node.parent);
        if level == host {
            ports.add_to(slots, &mut node.ports);
        } else {
            let (fed, pending) = &mut pending_ports[level];
            if *fed != at {
                if *fed != NONE {
                    pending.add_to(slots, &mut nodes[*fed as usize].ports);
                    pending.clear();
                }
                *fed = at;
            }
            pending.add_counts(ports);
        }
        at = parent;
    }
}

impl TreeBuilder {
    /// A builder for `family` counting at `levels` (prefix lengths, any
    /// order, duplicates ignored) with at most `node_cap` nodes.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::prefix_tree::TreeBuilder;
    /// use halfopen::procnet::Family;
    /// let b = TreeBuilder::new(Family::V6, &[64, 128, 48], 10)?;
    /// assert_eq!(b.levels(), [48, 64, 128]);
    /// assert!(TreeBuilder::new(Family::V6, &[], 10).is_err());
    /// # Ok::<(), halfopen::prefix_tree::LevelError>(())
    /// ```
    pub fn new(family: Family, levels: &[u8], node_cap: usize) -> Result<TreeBuilder, LevelError> {
        let width = width_of(family);
        if levels.is_empty() {
            return Err(LevelError::Empty { family });
        }
        if let Some(&len) = levels.iter().find(|&&l| l > width) {
            return Err(LevelError::TooLong {
                family,
                len,
                max: width,
            });
        }
        let mut sorted = levels.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut reported = vec![true; sorted.len()];
        if sorted.last() != Some(&width) {
            sorted.push(width);
            reported.push(false);
        }
        let levels_len = sorted.len();
        Ok(TreeBuilder {
            family,
            width,
            index: vec![LevelIndex::default(); sorted.len()],
            masks: sorted.iter().map(|&l| prefix_mask(l, width)).collect(),
            levels: sorted,
            reported,
            nodes: Vec::new(),
            cap: node_cap.min(NONE as usize),
            dropped: 0,
            counted: 0,
            last: None,
            cache: vec![(0, NONE); levels_len],
            limits: vec![usize::MAX; levels_len],
            made: vec![0; levels_len],
            kept: vec![Vec::new(); levels_len],
            kept_next: vec![0; levels_len],
            roots: Vec::new(),
            slots: PortSlots::new(),
            source_ports: SlotCounts::default(),
            pending_ports: vec![(NONE, SlotCounts::default()); levels_len],
            batch: None,
            batch_ports: SlotCounts::default(),
            last_source: None,
            new_host: false,
            ascending: true,
        })
    }

    /// The levels, coarsest first; the last is the full address length.
    pub fn levels(&self) -> &[u8] {
        &self.levels
    }

    /// The builder's family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Nodes held so far.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no node exists yet.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node for `addr`: its full-address node, created with its
    /// missing ancestors while the cap allows, else the deepest existing
    /// covering node. `None` when no node covers it. Sets `new_host` when
    /// it made the full-address node.
    #[inline]
    fn place(&mut self, addr: u128) -> Option<u32> {
        self.new_host = false;
        if let Some((a, n)) = self.last {
            if a == addr {
                return (n != NONE).then_some(n);
            }
            if self.ascending && addr < a {
                self.ascending = false;
                for index in &mut self.index {
                    index.make_hashed(&self.nodes);
                }
            } else if self.ascending {
                // Fed in order, when no node can be made below the one that
                // held the last address: that node is the deepest covering
                // this one too, if it covers it at all (a deeper one would
                // have covered the last address as well).
                let below = if n == NONE {
                    0
                } else {
                    usize::from(self.nodes[n as usize].level) + 1
                };
                if below < self.levels.len() && !self.can_make(below, addr & self.masks[below]) {
                    if n == NONE {
                        self.last = Some((addr, NONE));
                        return None;
                    }
                    let node = &self.nodes[n as usize];
                    if addr & self.masks[below - 1] == node.prefix() {
                        self.last = Some((addr, n));
                        return Some(n);
                    }
                }
            }
        }
        let host = self.levels.len() - 1;
        let mut parent = NONE;
        let mut start = 0;
        for l in (0..=host).rev() {
            let prefix = addr & self.masks[l];
            let (cached, id) = self.cache[l];
            let found = if id != NONE && cached == prefix {
                Some(id)
            } else if self.ascending {
                // Fed in order: a node of `prefix` would be the cached one.
                None
            } else {
                self.index[l].get(prefix, &self.nodes)
            };
            if let Some(n) = found {
                self.cache[l] = (prefix, n);
                parent = n;
                start = l + 1;
                break;
            }
        }
        for l in start..=host {
            let prefix = addr & self.masks[l];
            if !self.can_make(l, prefix) {
                break;
            }
            if !self.is_kept(l, prefix) {
                self.made[l] += 1;
            }
            let id = self.nodes.len() as u32;
            let next_sibling = if parent == NONE {
                self.roots.push(NodeId(id));
                NONE
            } else {
                std::mem::replace(&mut self.nodes[parent as usize].first_child, id)
            };
            self.nodes.push(Node {
                prefix_hi: (prefix >> 64) as u64,
                prefix_lo: prefix as u64,
                parent,
                first_child: NONE,
                next_sibling,
                counts: NodeCounts::default(),
                ports: PortTally::default(),
                level: l as u8,
            });
            self.cache[l] = (prefix, id);
            self.index[l].push(prefix, id);
            parent = id;
            self.new_host = l == host;
        }
        self.last = Some((addr, parent));
        (parent != NONE).then_some(parent)
    }

    /// Counts the full-address node `id` just made for `addr` as a source,
    /// and its adjacency to the sources at `addr - 1` and `addr + 1`, in it
    /// and its ancestors.
    fn new_source(&mut self, addr: u128, id: u32) {
        let host = self.levels.len() - 1;
        let (below, above) = if self.ascending {
            // Every source counted so far is smaller: only `addr - 1` can
            // be a neighbour, and it would be the last one.
            let below = self
                .last_source
                .and_then(|(k, n)| (k + 1 == addr).then_some(n));
            (below, None)
        } else {
            let index = &self.index[host];
            let nodes = &self.nodes;
            let below = addr.checked_sub(1).and_then(|a| index.get(a, nodes));
            let above = addr.checked_add(1).and_then(|a| index.get(a, nodes));
            (below, above)
        };
        self.last_source = Some((addr, id));
        let source = NodeCounts {
            sources: 1,
            adjacent_sources: u32::from(above.is_some()),
            ..NodeCounts::default()
        };
        self.add_up(id, source);
        if let Some(n) = below {
            let adjacent = NodeCounts {
                adjacent_sources: 1,
                ..NodeCounts::default()
            };
            self.add_up(n, adjacent);
        }
    }

    /// True when `entries` more keep the tree within [`MAX_ENTRIES`].
    #[inline]
    fn admit(&self, entries: u64) -> bool {
        self.counted
            .checked_add(entries)
            .is_some_and(|total| total <= MAX_ENTRIES)
    }

    /// Adds `delta` to `node` and all its ancestors.
    #[inline]
    fn add_up(&mut self, mut node: u32, delta: NodeCounts) {
        while node != NONE {
            let n = &mut self.nodes[node as usize];
            n.counts += delta;
            node = n.parent;
        }
    }

    /// True when a node can be made at level `l` for `prefix`.
    #[inline]
    fn can_make(&mut self, l: usize, prefix: u128) -> bool {
        self.nodes.len() < self.cap && (self.made[l] < self.limits[l] || self.is_kept(l, prefix))
    }

    /// True when the plan keeps room at level `l` for `prefix` (its entries
    /// reach the threshold it was given). Asked with ascending prefixes per
    /// level, as a sorted feed does.
    #[inline]
    fn is_kept(&mut self, l: usize, prefix: u128) -> bool {
        let kept = &self.kept[l];
        let next = &mut self.kept_next[l];
        while *next < kept.len() && kept[*next] < prefix {
            *next += 1;
        }
        *next < kept.len() && kept[*next] == prefix
    }

    /// Shares the node cap out before a feed of `keys` (one per entry) in
    /// ascending order into a fresh builder. First, room for every prefix
    /// at every level with at least `heavy` entries (what a report needs to
    /// report it), coarsest level first; then, coarsest level first, for
    /// the other prefixes. When the cap cannot hold them all, the finest
    /// detail goes first: every entry still finds its coarse prefixes and
    /// every prefix heavy enough to be reported has its node, and only the
    /// light prefixes of the finest levels the cap has no room for are not
    /// made, for the highest addresses (their entries count in the covering
    /// node's overflow). Without a plan, nodes are made in the order their
    /// keys come.
    pub(crate) fn plan_sorted(&mut self, keys: impl Iterator<Item = u128>, heavy: u64) {
        let levels = self.levels.len();
        let unused = 128 - u32::from(self.width);
        let mut distinct = vec![0usize; levels];
        let mut kept: Vec<Vec<u128>> = vec![Vec::new(); levels];
        // Per level, where the run of keys with its current prefix began.
        let mut start = vec![0u64; levels];
        let mut prev: Option<u128> = None;
        let mut at = 0u64;
        for k in keys {
            // The coarsest level whose prefix changes here: the first one
            // longer than the bits `k` shares with the key before.
            let first = match prev {
                Some(p) if p == k => levels,
                Some(p) => {
                    let common = (p ^ k).leading_zeros() - unused;
                    self.levels
                        .iter()
                        .take_while(|&&len| u32::from(len) <= common)
                        .count()
                }
                None => 0,
            };
            for l in first..levels {
                if let Some(p) = prev {
                    if at - start[l] >= heavy {
                        kept[l].push(p & self.masks[l]);
                    }
                }
                distinct[l] += 1;
                start[l] = at;
            }
            prev = Some(k);
            at += 1;
        }
        if let Some(p) = prev {
            for l in 0..levels {
                if at - start[l] >= heavy {
                    kept[l].push(p & self.masks[l]);
                }
            }
        }
        let mut room = self.cap.saturating_sub(self.nodes.len());
        for k in &mut kept {
            k.truncate(room);
            room -= k.len();
        }
        for l in 0..levels {
            self.limits[l] = (distinct[l] - kept[l].len()).min(room);
            room -= self.limits[l];
        }
        self.kept = kept;
        self.kept_next = vec![0; levels];
    }

    /// True when a feed in ascending order from `first` to `last` with
    /// `sources` distinct addresses surely fits under the cap, so that it
    /// needs no [`TreeBuilder::plan_sorted`]: at each level, the prefixes
    /// are at most the sources and at most the prefixes between `first`
    /// and `last`.
    pub(crate) fn fits_sorted(&self, sources: usize, first: u128, last: u128) -> bool {
        let common = (first ^ last).leading_zeros() - (128 - u32::from(self.width));
        let most: usize = self
            .levels
            .iter()
            .map(|&len| {
                let free = u32::from(len).saturating_sub(common);
                1usize.checked_shl(free).unwrap_or(usize::MAX).min(sources)
            })
            .fold(0, usize::saturating_add);
        most <= self.cap.saturating_sub(self.nodes.len())
    }

    /// Makes room for `sources` more full-address nodes (within the cap).
    pub(crate) fn reserve(&mut self, sources: usize) {
        let host = self.levels.len() - 1;
        let room = self.cap.saturating_sub(self.nodes.len());
        self.index[host].reserve(sources.min(room));
        self.nodes.reserve((sources + sources / 8).min(room));
    }

    /// Counts one entry of the source being fed towards `local_port` (see
    /// [`TreeBuilder::add_source`]).
    #[inline]
    pub(crate) fn count_source_port(&mut self, local_port: u16) {
        self.source_ports.add(&mut self.slots, local_port);
    }

    /// Counts the aggregated half-open entries of one source, whose local
    /// ports were given to [`TreeBuilder::count_source_port`] since the last
    /// call. Fed in ascending address order, one call per source, every
    /// source counts in `sources` (and its adjacency) wherever it lands,
    /// with a node of its own or above its address; out of order, only
    /// where it got a full-address node, as with `insert`.
    pub(crate) fn add_source(&mut self, key: u128, source: SourceCounts) {
        let admitted = self.admit(source.half_open);
        let Some(n) = admitted.then(|| self.place(key)).flatten() else {
            self.dropped += source.half_open;
            self.source_ports.clear();
            return;
        };
        self.counted += source.half_open;
        let host = self.levels.len() - 1;
        let overflow = usize::from(self.nodes[n as usize].level) != host;
        // Admitted: every count of the source fits in 32 bits.
        let half_open = source.half_open as u32;
        let mut delta = NodeCounts {
            half_open,
            well_known_port: source.well_known_port as u32,
            retransmitted: source.retransmitted as u32,
            overflow: if overflow { half_open } else { 0 },
            ..NodeCounts::default()
        };
        if self.last_source.map_or(true, |(k, _)| key > k) {
            // Above every source counted so far, it cannot be one of them,
            // and its only possible counted neighbour below is the last
            // one: a source and its adjacency count wherever it lands,
            // with a node of its own or not.
            delta.sources = 1;
            if let Some((k, below)) = self.last_source {
                if k + 1 == key {
                    let adjacent = NodeCounts {
                        adjacent_sources: 1,
                        ..NodeCounts::default()
                    };
                    if below == n {
                        delta += adjacent;
                    } else {
                        self.add_up(below, adjacent);
                    }
                }
            }
            self.last_source = Some((key, n));
        } else if self.new_host {
            self.new_source(key, n);
        }
        if usize::from(self.nodes[n as usize].level) == host {
            self.flush_batch();
            add_chain(
                &mut self.nodes,
                &mut self.pending_ports,
                &self.slots,
                n,
                delta,
                &self.source_ports,
            );
        } else {
            // Counted above its address (the cap): consecutive sources in
            // the same node are added up the tree together.
            match &mut self.batch {
                Some((b, sum)) if *b == n => *sum += delta,
                _ => {
                    self.flush_batch();
                    self.batch = Some((n, delta));
                }
            }
            self.batch_ports.add_counts(&self.source_ports);
        }
        self.source_ports.clear();
    }

    /// Adds the batched sources to their node and its ancestors.
    fn flush_batch(&mut self) {
        if let Some((n, sum)) = self.batch.take() {
            add_chain(
                &mut self.nodes,
                &mut self.pending_ports,
                &self.slots,
                n,
                sum,
                &self.batch_ports,
            );
            self.batch_ports.clear();
        }
    }

    /// Adds the batched sources and the ports still pending per level to
    /// their nodes.
    fn add_pending_ports(&mut self) {
        self.flush_batch();
        for (fed, pending) in &mut self.pending_ports {
            if *fed != NONE {
                pending.add_to(&self.slots, &mut self.nodes[*fed as usize].ports);
                pending.clear();
                *fed = NONE;
            }
        }
    }

    /// Counts one half-open entry from `addr`. An address of the other
    /// family is counted in [`PrefixTree::dropped`].
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::prefix_tree::{Sample, TreeBuilder};
    /// use halfopen::procnet::Family;
    /// let mut b = TreeBuilder::new(Family::V4, &[24], 10)?;
    /// b.insert("198.18.0.1".parse()?, Sample { remote_port: 80, local_port: 22, retransmitted: true });
    /// let t = b.build();
    /// let n = t.get("198.18.0.0/24".parse()?).unwrap();
    /// assert_eq!(t.counts(n).well_known_port, 1);
    /// assert_eq!(t.counts(n).retransmitted, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn insert(&mut self, addr: IpAddr, sample: Sample) {
        let (family, key) = key_of(addr);
        if family != self.family {
            self.dropped += 1;
            return;
        }
        self.insert_key(key, sample);
    }

    /// [`TreeBuilder::insert`] for an address already as the tree's key
    /// (IPv4 in the low 32 bits).
    #[inline]
    pub(crate) fn insert_key(&mut self, key: u128, sample: Sample) {
        let admitted = self.admit(1);
        let Some(n) = admitted.then(|| self.place(key)).flatten() else {
            self.dropped += 1;
            return;
        };
        self.counted += 1;
        if self.new_host {
            self.new_source(key, n);
        }
        let host = self.levels.len() - 1;
        let delta = NodeCounts {
            half_open: 1,
            well_known_port: u32::from(sample.remote_port < 1024),
            retransmitted: u32::from(sample.retransmitted),
            overflow: u32::from(usize::from(self.nodes[n as usize].level) != host),
            ..NodeCounts::default()
        };
        let mut at = n;
        while at != NONE {
            let node = &mut self.nodes[at as usize];
            node.counts += delta;
            node.ports.add(sample.local_port, 1);
            at = node.parent;
        }
    }

    /// Counts one ESTABLISHED connection from `addr`, at the deepest
    /// existing node covering it. Creates no node: a prefix without
    /// half-open entries is never reported. Insert the half-open entries
    /// first.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::prefix_tree::{Sample, TreeBuilder};
    /// use halfopen::procnet::Family;
    /// let mut b = TreeBuilder::new(Family::V4, &[32, 24], 10)?;
    /// b.insert("198.18.0.1".parse()?, Sample { remote_port: 5000, local_port: 22, retransmitted: false });
    /// b.add_established("198.18.0.77".parse()?);
    /// b.add_established("198.19.0.1".parse()?);
    /// let t = b.build();
    /// assert_eq!(t.counts(t.get("198.18.0.0/24".parse()?).unwrap()).established, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_established(&mut self, addr: IpAddr) {
        let (family, key) = key_of(addr);
        if family != self.family {
            return;
        }
        for l in (0..self.levels.len()).rev() {
            let prefix = key & self.masks[l];
            if let Some(n) = self.index[l].get(prefix, &self.nodes) {
                let established = NodeCounts {
                    established: 1,
                    ..NodeCounts::default()
                };
                self.add_up(n, established);
                return;
            }
        }
    }

    /// The finished tree.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::prefix_tree::{Sample, TreeBuilder};
    /// use halfopen::procnet::Family;
    /// let mut b = TreeBuilder::new(Family::V6, &[128, 64, 48], 100)?;
    /// let s = Sample { remote_port: 40000, local_port: 443, retransmitted: true };
    /// b.insert("2001:db8:1:2::9".parse::<std::net::IpAddr>()?, s);
    /// b.insert("2001:db8:1:3::9".parse::<std::net::IpAddr>()?, s);
    /// let tree = b.build();
    /// let wide = tree.get("2001:db8:1::/48".parse()?).unwrap();
    /// assert_eq!(tree.counts(wide).half_open, 2);
    /// assert_eq!(tree.counts(wide).retransmitted, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(mut self) -> PrefixTree {
        self.add_pending_ports();
        PrefixTree {
            family: self.family,
            width: self.width,
            levels: self.levels,
            reported: self.reported,
            index: self.index,
            nodes: self.nodes,
            roots: self.roots,
            cap: self.cap,
            dropped: self.dropped,
        }
    }
}
