//! Entries per local (listening) port: the bounded tally every node keeps,
//! and the per-source tally that sorted feeding fills entry by entry.

/// Entries per local (listening) port, exact for up to four ports per
/// node, the rest summed in `others` (28 bytes: a tree counts at most
/// `u32::MAX` entries, so `others` saturates only beyond).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PortTally {
    ports: [u16; 4],
    counts: [u32; 4],
    pub(super) others: u32,
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
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.others = self.others.saturating_add(n);
    }

    /// Adds another tally's counts.
    pub(crate) fn merge(&mut self, o: &PortTally) {
        for i in 0..4 {
            if o.counts[i] > 0 {
                self.add(o.ports[i], u64::from(o.counts[i]));
            }
        }
        self.others = self.others.saturating_add(o.others);
    }

    /// True when any entry was counted.
    #[inline]
    fn is_some(&self) -> bool {
        self.counts[0] > 0 || self.others > 0
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

/// Distinct local ports that get a slot of their own in [`PortSlots`].
const SLOTS: usize = 63;

/// A dictionary from local port to a small slot number, filled as ports
/// are seen: a server listens on few ports, so counting an entry through it
/// costs one table load and one add, with no search and no branch that
/// depends on the port. The first [`SLOTS`] distinct ports get a slot;
/// later ones get none and are tallied in a [`PortTally`] instead.
#[derive(Clone)]
pub(crate) struct PortSlots {
    /// Slot of each local port, 0 for none yet.
    slot_of: Box<[u8; 1 << 16]>,
    /// Port of each slot (slot 0 unused).
    port_of: [u16; SLOTS + 1],
    assigned: usize,
}

impl std::fmt::Debug for PortSlots {
    /// The ports with a slot, in slot order (not the 65,536-entry table).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortSlots")
            .field("ports", &&self.port_of[1..=self.assigned])
            .finish()
    }
}

impl PortSlots {
    /// An empty dictionary.
    pub(crate) fn new() -> PortSlots {
        let slot_of: Box<[u8]> = vec![0u8; 1 << 16].into_boxed_slice();
        PortSlots {
            slot_of: slot_of.try_into().expect("65536 slots were allocated"),
            port_of: [0; SLOTS + 1],
            assigned: 0,
        }
    }

    /// The slot of `port`, given one when it has none and one is free;
    /// 0 when all are taken.
    #[inline]
    fn slot(&mut self, port: u16) -> usize {
        match usize::from(self.slot_of[usize::from(port)]) {
            0 => self.assign(port),
            slot => slot,
        }
    }

    #[cold]
    fn assign(&mut self, port: u16) -> usize {
        if self.assigned == SLOTS {
            return 0;
        }
        self.assigned += 1;
        self.slot_of[usize::from(port)] = self.assigned as u8;
        self.port_of[self.assigned] = port;
        self.assigned
    }
}

/// Entries per local port counted by [`PortSlots`] slot, with the ports
/// that found no slot in a [`PortTally`].
#[derive(Debug, Clone)]
pub(crate) struct SlotCounts {
    counts: [u64; SLOTS + 1],
    /// Slots with entries, as bits.
    touched: u64,
    /// Ports without a slot.
    spill: PortTally,
}

impl Default for SlotCounts {
    fn default() -> SlotCounts {
        SlotCounts {
            counts: [0; SLOTS + 1],
            touched: 0,
            spill: PortTally::default(),
        }
    }
}

impl SlotCounts {
    /// Counts one entry towards `port`.
    #[inline]
    pub(crate) fn add(&mut self, slots: &mut PortSlots, port: u16) {
        match slots.slot(port) {
            0 => self.spill.add(port, 1),
            slot => {
                self.counts[slot] += 1;
                self.touched |= 1 << slot;
            }
        }
    }

    /// Adds `other`'s counts.
    #[inline]
    pub(crate) fn add_counts(&mut self, other: &SlotCounts) {
        let mut bits = other.touched;
        while bits != 0 {
            let slot = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            self.counts[slot] += other.counts[slot];
        }
        self.touched |= other.touched;
        if other.spill.is_some() {
            self.spill.merge(&other.spill);
        }
    }

    /// Adds the counts to `into`, as ports.
    pub(crate) fn add_to(&self, slots: &PortSlots, into: &mut PortTally) {
        let mut bits = self.touched;
        while bits != 0 {
            let slot = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            into.add(slots.port_of[slot], self.counts[slot]);
        }
        if self.spill.is_some() {
            into.merge(&self.spill);
        }
    }

    /// Clears the counts.
    #[inline]
    pub(crate) fn clear(&mut self) {
        let mut bits = self.touched;
        while bits != 0 {
            self.counts[bits.trailing_zeros() as usize] = 0;
            bits &= bits - 1;
        }
        self.touched = 0;
        if self.spill.is_some() {
            self.spill = PortTally::default();
        }
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
        /// Through slots and spill, ports add up to what plain adds give,
        /// over many tallies sharing one dictionary.
        #[test]
        fn slot_counts_count_like_plain_adds(
            sources in proptest::collection::vec(
                proptest::collection::vec(0u16..200, 1..60),
                1..40,
            ),
        ) {
            let mut slots = PortSlots::new();
            let mut counts = SlotCounts::default();
            let mut sum = SlotCounts::default();
            let mut all: std::collections::BTreeMap<u16, u64> = Default::default();
            let total = |t: &PortTally| t.counts.iter().map(|&c| u64::from(c)).sum::<u64>() + u64::from(t.others);
            for ports in &sources {
                let mut plain: std::collections::BTreeMap<u16, u64> = Default::default();
                for &port in ports {
                    counts.add(&mut slots, port);
                    *plain.entry(port).or_default() += 1;
                    *all.entry(port).or_default() += 1;
                }
                let mut got = PortTally::default();
                counts.add_to(&slots, &mut got);
                let mut want = PortTally::default();
                for (&p, &n) in &plain {
                    want.add(p, n);
                }
                proptest::prop_assert_eq!(total(&got), ports.len() as u64);
                // The exact ports are the same when there are at most four.
                if plain.len() <= 4 {
                    proptest::prop_assert_eq!(got.top(), want.top());
                    proptest::prop_assert_eq!(got.others, 0);
                }
                sum.add_counts(&counts);
                counts.clear();
                let mut empty = PortTally::default();
                counts.add_to(&slots, &mut empty);
                proptest::prop_assert!(!empty.is_some());
            }
            let mut got = PortTally::default();
            sum.add_to(&slots, &mut got);
            proptest::prop_assert_eq!(total(&got), all.values().sum::<u64>());
        }
    }
}
