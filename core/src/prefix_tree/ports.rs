//! Entries per local (listening) port: the bounded tally every node keeps,
//! and the per-source tally that sorted feeding fills entry by entry.

/// Entries per local (listening) port, exact for up to four ports per
/// node, the rest summed in `others`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PortTally {
    ports: [u16; 4],
    counts: [u32; 4],
    pub(super) others: u64,
}

impl PortTally {
    /// Counts `n` entries towards `port`.
    #[inline]
    pub(crate) fn add(&mut self, port: u16, n: u64) {
        for i in 0..4 {
            if self.counts[i] == 0 || self.ports[i] == port {
                if let Some(c) = u32::try_from(n)
                    .ok()
                    .and_then(|n| self.counts[i].checked_add(n))
                {
                    self.ports[i] = port;
                    self.counts[i] = c;
                    return;
                }
                break;
            }
        }
        self.others += n;
    }

    /// Adds another tally's counts.
    pub(crate) fn merge(&mut self, o: &PortTally) {
        for i in 0..4 {
            if o.counts[i] > 0 {
                self.add(o.ports[i], u64::from(o.counts[i]));
            }
        }
        self.others += o.others;
    }

    /// The port with the most entries among the exact ones (the lowest
    /// port on a tie).
    pub(crate) fn top(&self) -> Option<(u16, u64)> {
        (0..4)
            .filter(|&i| self.counts[i] > 0)
            .max_by_key(|&i| (self.counts[i], std::cmp::Reverse(self.ports[i])))
            .map(|i| (self.ports[i], u64::from(self.counts[i])))
    }
}

/// Distinct local ports a [`SourceTally`] gives a slot of their own; the
/// ones seen after them are tallied through a [`PortTally`].
const SLOTS: usize = 63;

/// The half-open entries of one source, aggregated while they are fed in
/// address order.
///
/// Local ports are counted through a dictionary of the ports seen so far
/// (a server listens on few ports): an entry costs one table load and one
/// add, with no search and no branch that depends on the port. The first
/// [`SLOTS`] distinct ports get a slot; later ones take the slower
/// [`PortTally::add`]. The dictionary outlives each source: only the counts
/// are cleared between sources.
pub(crate) struct SourceTally {
    /// Entries of the current source.
    pub(crate) half_open: u64,
    /// Those whose remote port is below 1024.
    pub(crate) well_known_port: u64,
    /// Those whose SYN-ACK was retransmitted.
    pub(crate) retransmitted: u64,
    /// Slot of each local port, 0 for none yet.
    slot_of: Box<[u8; 1 << 16]>,
    /// Port of each slot (slot 0 unused).
    port_of: [u16; SLOTS + 1],
    assigned: usize,
    /// Entries per slot for the current source.
    counts: [u64; SLOTS + 1],
    /// Slots with entries for the current source, as bits.
    touched: u64,
    /// Ports that found no free slot.
    spill: PortTally,
}

impl SourceTally {
    /// An empty tally with an empty port dictionary.
    pub(crate) fn new() -> SourceTally {
        let slot_of: Box<[u8]> = vec![0u8; 1 << 16].into_boxed_slice();
        SourceTally {
            half_open: 0,
            well_known_port: 0,
            retransmitted: 0,
            slot_of: slot_of.try_into().expect("65536 slots were allocated"),
            port_of: [0; SLOTS + 1],
            assigned: 0,
            counts: [0; SLOTS + 1],
            touched: 0,
            spill: PortTally::default(),
        }
    }

    /// Counts one half-open entry of the current source.
    #[inline]
    pub(crate) fn add(&mut self, local_port: u16, well_known: bool, retransmitted: bool) {
        self.half_open += 1;
        self.well_known_port += u64::from(well_known);
        self.retransmitted += u64::from(retransmitted);
        let slot = usize::from(self.slot_of[usize::from(local_port)]);
        if slot != 0 {
            self.counts[slot] += 1;
            self.touched |= 1 << slot;
        } else {
            self.add_unslotted(local_port);
        }
    }

    /// A port without a slot: gives it the next free one, or tallies it in
    /// the spill when none is left.
    #[cold]
    fn add_unslotted(&mut self, port: u16) {
        if self.assigned == SLOTS {
            self.spill.add(port, 1);
            return;
        }
        self.assigned += 1;
        let slot = self.assigned;
        self.slot_of[usize::from(port)] = slot as u8;
        self.port_of[slot] = port;
        self.counts[slot] = 1;
        self.touched |= 1 << slot;
    }

    /// Adds the current source's port counts to `into`.
    pub(crate) fn add_ports_to(&self, into: &mut PortTally) {
        let mut bits = self.touched;
        while bits != 0 {
            let slot = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            into.add(self.port_of[slot], self.counts[slot]);
        }
        into.merge(&self.spill);
    }

    /// Clears the counts for the next source; the dictionary stays.
    pub(crate) fn clear(&mut self) {
        self.half_open = 0;
        self.well_known_port = 0;
        self.retransmitted = 0;
        let mut bits = self.touched;
        while bits != 0 {
            self.counts[bits.trailing_zeros() as usize] = 0;
            bits &= bits - 1;
        }
        self.touched = 0;
        self.spill = PortTally::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_tally_is_exact_for_few_ports_and_a_bound_beyond() {
        let mut t = PortTally::default();
        for (p, n) in [(80, 5), (443, 9), (22, 1), (80, 1)] {
            t.add(p, n);
        }
        assert_eq!(t.top(), Some((443, 9)));
        for p in 1000..1010 {
            t.add(p, 2);
        }
        assert_eq!(t.others, 18);
        let mut u = PortTally::default();
        u.add(443, 3);
        u.merge(&t);
        assert_eq!(u.top(), Some((443, 12)));
    }

    proptest::proptest! {
        /// Through slots and spill, a source's ports add up to what plain
        /// adds give, over many sources sharing one dictionary.
        #[test]
        fn source_tally_counts_like_plain_adds(
            sources in proptest::collection::vec(
                proptest::collection::vec((0u16..200, proptest::prelude::any::<bool>()), 1..60),
                1..40,
            ),
        ) {
            let mut tally = SourceTally::new();
            for entries in &sources {
                let mut plain: std::collections::BTreeMap<u16, u64> = Default::default();
                for &(port, wk) in entries {
                    tally.add(port, wk, !wk);
                    *plain.entry(port).or_default() += 1;
                }
                proptest::prop_assert_eq!(tally.half_open, entries.len() as u64);
                let wk = entries.iter().filter(|e| e.1).count() as u64;
                proptest::prop_assert_eq!(tally.well_known_port, wk);
                proptest::prop_assert_eq!(tally.retransmitted, entries.len() as u64 - wk);
                let mut got = PortTally::default();
                tally.add_ports_to(&mut got);
                let mut want = PortTally::default();
                for (&p, &n) in &plain {
                    want.add(p, n);
                }
                let total = |t: &PortTally| t.counts.iter().map(|&c| u64::from(c)).sum::<u64>() + t.others;
                proptest::prop_assert_eq!(total(&got), entries.len() as u64);
                // The exact ports are the same set when there are at most four.
                if plain.len() <= 4 {
                    proptest::prop_assert_eq!(got.top(), want.top());
                    proptest::prop_assert_eq!(got.others, 0);
                }
                tally.clear();
                proptest::prop_assert_eq!(tally.half_open, 0);
            }
        }
    }
}
