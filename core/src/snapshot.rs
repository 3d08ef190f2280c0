//! A snapshot of both TCP tables, reduced to what aggregation needs: counts
//! by state, half-open entries per local address:port, the half-open entries
//! themselves (compact), and the peers of established connections.
//!
//! A snapshot is built from any sequence of [`TcpEntry`]s: it does not care
//! whether they came from `/proc/net/tcp{,6}`, netlink or a capture.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:198.18.0.1`, what a dual-stack
//! listener shows in `tcp6`) are counted as the IPv4 addresses they are.
//!
//! Repeated sockets are not removed: the kernel's walk of its hash tables can
//! print a socket twice when it moves between buckets during the read, which
//! is rare and off by a few entries, while removing repeats would cost a hash
//! set keyed by (local, remote) per row, more than the rest of the
//! aggregation together.

use std::borrow::Borrow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::live;
use crate::prefix_tree::FastMap;
use crate::procnet::{Family, TcpEntry, TcpState};

/// One half-open entry, as aggregation keeps it: what the prefix tree and
/// the signs need, packed into 8 bytes (IPv4) or 24 bytes (IPv6).
///
/// # Examples
///
/// ```
/// use halfopen::snapshot::HalfOpen;
/// let h = HalfOpen { remote: "198.18.0.1".parse().unwrap(), local_port: 443, well_known_source_port: true, retransmits: 2 };
/// assert!(h.remote.is_ipv4());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HalfOpen {
    /// The claimed source address (IPv4-mapped IPv6 turned to IPv4).
    pub remote: IpAddr,
    /// The local (listening) port the SYN was for.
    pub local_port: u16,
    /// True when the claimed source port is below 1024.
    pub well_known_source_port: bool,
    /// How many times our SYN-ACK was sent again (saturating at 32767).
    pub retransmits: u16,
}

/// The low 32 bits of a packed record: local port, well-known flag,
/// retransmits.
#[inline]
fn pack_tail(local_port: u16, remote_port: u16, retransmits: u32) -> u32 {
    (u32::from(local_port) << 16) | (u32::from(remote_port < 1024) << 15) | retransmits.min(0x7FFF)
}

/// [`pack_tail`] for other modules' tests.
#[cfg(test)]
pub(crate) fn tests_pack(local_port: u16, remote_port: u16, retransmits: u32) -> u32 {
    pack_tail(local_port, remote_port, retransmits)
}

#[inline]
pub(crate) fn unpack_tail(tail: u32) -> (u16, bool, u16) {
    (
        (tail >> 16) as u16,
        tail & 0x8000 != 0,
        (tail & 0x7FFF) as u16,
    )
}

/// A packed IPv6 half-open entry: the address as two halves (so that the
/// record needs no 16-byte alignment: 24 bytes, not 32) and the packed tail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct V6Record {
    hi: u64,
    lo: u64,
    /// The packed tail.
    pub(crate) tail: u32,
}

impl V6Record {
    /// A record of `addr` and `tail`.
    pub(crate) fn new(addr: u128, tail: u32) -> V6Record {
        V6Record {
            hi: (addr >> 64) as u64,
            lo: addr as u64,
            tail,
        }
    }

    /// The address.
    #[inline]
    pub(crate) fn addr(&self) -> u128 {
        (u128::from(self.hi) << 64) | u128::from(self.lo)
    }
}

/// Half-open entries towards one local address and port.
///
/// # Examples
///
/// ```
/// use halfopen::snapshot::Listener;
/// let l = Listener { addr: "198.18.0.1:80".parse().unwrap(), half_open: 3 };
/// assert_eq!(l.addr.port(), 80);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Listener {
    /// The local address and port the half-open entries are for.
    pub addr: SocketAddr,
    /// How many half-open entries it holds.
    pub half_open: u64,
}

const STATES: usize = 14;

/// Counts and half-open entries of both tables at one moment.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{parse_table, TcpState};
/// use halfopen::snapshot::Snapshot;
///
/// let table = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
///    0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
///    1: 0100007F:0050 0512C6C6:D431 03 00000000:00000000 01:00000064 00000001     0        0 0 0 0000000000000000
/// ";
/// let entries: Vec<_> = parse_table(table, None).collect::<Result<_, _>>()?;
/// let snap = Snapshot::from_entries(&entries);
/// assert_eq!(snap.half_open(), 1);
/// assert_eq!(snap.count(TcpState::Listen), 1);
/// assert_eq!(snap.listeners()[0].addr.to_string(), "127.0.0.1:80");
/// assert_eq!(snap.half_open_entries().next().unwrap().remote.to_string(), "198.198.18.5");
/// # Ok::<(), halfopen::procnet::ParseError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    by_state: [[u64; STATES]; 2],
    /// IPv4 half-open entries: address << 32 | packed tail.
    v4: Vec<u64>,
    /// IPv6 half-open entries: address and packed tail.
    v6: Vec<V6Record>,
    listeners: Vec<Listener>,
    listener_index: FastMap<(u128, u16, bool), u32>,
    established: Vec<IpAddr>,
    listening_ports: Vec<u16>,
    last_listener: Option<(SocketAddr, u32)>,
}

fn fam_index(f: Family) -> usize {
    match f {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

/// The address with IPv4-mapped IPv6 turned to IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn listener_key(addr: SocketAddr) -> (u128, u16, bool) {
    match addr.ip() {
        IpAddr::V4(a) => (u128::from(u32::from(a)), addr.port(), false),
        IpAddr::V6(a) => (u128::from(a), addr.port(), true),
    }
}

impl Snapshot {
    /// An empty snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::snapshot::Snapshot;
    /// assert_eq!(Snapshot::new().half_open(), 0);
    /// ```
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// A snapshot of `entries` (borrowed or owned [`TcpEntry`]s, in any
    /// order).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{parse_line, Family};
    /// use halfopen::snapshot::Snapshot;
    /// let e = parse_line(b"0: 0100007F:0050 0512C6C6:D431 03 00000000:00000000 01:00000064 00000001 0 0 0 0\n", Family::V4)?;
    /// assert_eq!(Snapshot::from_entries([e, e]).half_open(), 2);
    /// # Ok::<(), halfopen::procnet::ParseError>(())
    /// ```
    pub fn from_entries<'t, I>(entries: I) -> Snapshot
    where
        I: IntoIterator,
        I::Item: Borrow<TcpEntry<'t>>,
    {
        let entries = entries.into_iter();
        let mut snap = Snapshot::new();
        // Room for every entry as an IPv4 half-open one, the common case:
        // no regrowing (and copying) of the largest vector on the way.
        snap.v4.reserve(entries.size_hint().0);
        for e in entries {
            snap.push(e.borrow());
        }
        // Give back what other states and families did not use.
        snap.v4.shrink_to_fit();
        snap
    }

    /// Reads both live tables (netlink or `/proc`, any namespace, as
    /// `opts` says) into a snapshot; the summary says which source answered.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::live::Options;
    /// use halfopen::snapshot::Snapshot;
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let (snap, summary) = Snapshot::read(&Options::new())?;
    /// assert!(snap.count(halfopen::procnet::TcpState::Listen) >= 1);
    /// println!("{} half-open, read through {}", snap.half_open(), summary.origin);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(opts: &live::Options) -> Result<(Snapshot, live::Summary), live::LiveError> {
        let mut snap = Snapshot::new();
        let summary = live::read(opts, |e| snap.push(&e))?;
        Ok((snap, summary))
    }

    /// Adds one entry.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{parse_line, Family, TcpState};
    /// use halfopen::snapshot::Snapshot;
    /// let mut snap = Snapshot::new();
    /// snap.push(&parse_line(b"0: 0100007F:0016 0512C6C6:D431 01 00000000:00000000 00:00000000 00000000 0 0 77 1\n", Family::V4)?);
    /// assert_eq!(snap.count(TcpState::Established), 1);
    /// assert_eq!(snap.established_peers()[0].to_string(), "198.198.18.5");
    /// # Ok::<(), halfopen::procnet::ParseError>(())
    /// ```
    #[inline]
    pub fn push(&mut self, e: &TcpEntry<'_>) {
        let state = e.state;
        self.by_state[fam_index(e.family())][usize::from(state.code())] += 1;
        match state {
            TcpState::SynRecv | TcpState::NewSynRecv => {
                let tail = pack_tail(e.local.port(), e.remote.port(), e.retransmits);
                match canonical(e.remote.ip()) {
                    IpAddr::V4(a) => self
                        .v4
                        .push((u64::from(u32::from(a)) << 32) | u64::from(tail)),
                    IpAddr::V6(a) => self.v6.push(V6Record::new(u128::from(a), tail)),
                }
                self.count_listener(e.local);
            }
            TcpState::Established => self.established.push(canonical(e.remote.ip())),
            TcpState::Listen if !self.listening_ports.contains(&e.local.port()) => {
                self.listening_ports.push(e.local.port());
            }
            _ => {}
        }
    }

    #[inline]
    fn count_listener(&mut self, local: SocketAddr) {
        if let Some((addr, i)) = self.last_listener {
            if addr == local {
                self.listeners[i as usize].half_open += 1;
                return;
            }
        }
        // Most hosts have a handful of local addresses and ports: a short
        // scan beats hashing.
        if let Some(l) = self.listeners.iter_mut().take(8).find(|l| l.addr == local) {
            l.half_open += 1;
            return;
        }
        let next = self.listeners.len() as u32;
        let i = *self
            .listener_index
            .entry(listener_key(local))
            .or_insert(next);
        if i == next {
            self.listeners.push(Listener {
                addr: local,
                half_open: 0,
            });
        }
        self.listeners[i as usize].half_open += 1;
        self.last_listener = Some((local, i));
    }

    /// All half-open entries (`SYN_RECV` and `NEW_SYN_RECV`), both families.
    pub fn half_open(&self) -> u64 {
        (self.v4.len() + self.v6.len()) as u64
    }

    /// Entries in `state`, both families.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TcpState;
    /// use halfopen::snapshot::Snapshot;
    /// assert_eq!(Snapshot::new().count(TcpState::TimeWait), 0);
    /// ```
    pub fn count(&self, state: TcpState) -> u64 {
        let c = usize::from(state.code());
        self.by_state[0][c] + self.by_state[1][c]
    }

    /// Entries in `state` in the table of `family` (mapped IPv4 peers of a
    /// `tcp6` socket count as `tcp6`, where the kernel lists them).
    pub fn count_in(&self, family: Family, state: TcpState) -> u64 {
        self.by_state[fam_index(family)][usize::from(state.code())]
    }

    /// Every state with at least one entry and its count, in code order.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::snapshot::Snapshot;
    /// assert_eq!(Snapshot::new().by_state().count(), 0);
    /// ```
    pub fn by_state(&self) -> impl Iterator<Item = (TcpState, u64)> + '_ {
        TcpState::ALL
            .into_iter()
            .map(|s| (s, self.count(s)))
            .filter(|&(_, n)| n > 0)
    }

    /// The half-open entries: IPv4 sources in input order, then IPv6 ones.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{parse_line, Family};
    /// use halfopen::snapshot::Snapshot;
    /// let e = parse_line(b"0: 0100007F:0050 0512C6C6:0050 03 00000000:00000000 01:00000064 00000003 0 0 0 0\n", Family::V4)?;
    /// let h = Snapshot::from_entries([e]).half_open_entries().next().unwrap();
    /// assert_eq!((h.local_port, h.well_known_source_port, h.retransmits), (80, true, 3));
    /// # Ok::<(), halfopen::procnet::ParseError>(())
    /// ```
    pub fn half_open_entries(&self) -> impl Iterator<Item = HalfOpen> + '_ {
        let v4 = self
            .v4
            .iter()
            .map(|&r| (IpAddr::V4(Ipv4Addr::from((r >> 32) as u32)), r as u32));
        let v6 = self
            .v6
            .iter()
            .map(|r| (IpAddr::V6(Ipv6Addr::from(r.addr())), r.tail));
        v4.chain(v6).map(|(remote, tail)| {
            let (local_port, well_known_source_port, retransmits) = unpack_tail(tail);
            HalfOpen {
                remote,
                local_port,
                well_known_source_port,
                retransmits,
            }
        })
    }

    /// The packed IPv4 records, for aggregation.
    pub(crate) fn v4_records(&self) -> &[u64] {
        &self.v4
    }

    /// The packed IPv6 records, for aggregation.
    pub(crate) fn v6_records(&self) -> &[V6Record] {
        &self.v6
    }

    /// Half-open entries per local address:port, in order of first sight.
    pub fn listeners(&self) -> &[Listener] {
        &self.listeners
    }

    /// The peer address of every ESTABLISHED connection.
    pub fn established_peers(&self) -> &[IpAddr] {
        &self.established
    }

    /// Distinct local ports that listen or hold half-open entries.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::snapshot::Snapshot;
    /// assert_eq!(Snapshot::new().listening_ports(), 0);
    /// ```
    pub fn listening_ports(&self) -> u64 {
        let mut ports = self.listening_ports.clone();
        ports.extend(self.listeners.iter().map(|l| l.addr.port()));
        ports.sort_unstable();
        ports.dedup();
        ports.len() as u64
    }
}

impl<'t, E: Borrow<TcpEntry<'t>>> Extend<E> for Snapshot {
    fn extend<I: IntoIterator<Item = E>>(&mut self, iter: I) {
        for e in iter {
            self.push(e.borrow());
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::procnet::{header, parse_table, write_entry, TimerKind};
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// One table row from its addresses, state and retransmit count (no
    /// timer, slot, uid and inode 0); other test modules use it too.
    pub(crate) fn entry(
        local: SocketAddr,
        remote: SocketAddr,
        state: TcpState,
        rt: u32,
    ) -> TcpEntry<'static> {
        TcpEntry {
            slot: 0,
            local,
            remote,
            state,
            tx_queue: 0,
            rx_queue: 0,
            timer: TimerKind::None,
            timer_expires: 0,
            retransmits: rt,
            uid: 0,
            timeout: 0,
            inode: 0,
            trailing: "",
        }
    }

    proptest! {
        /// Counts of a table written in the kernel's format and parsed
        /// back equal counts taken from the entries directly.
        #[test]
        fn counts_match_the_written_table(
            rows in proptest::collection::vec((0u8..13, any::<u32>(), any::<u16>(), 0u16..4), 0..300)
        ) {
            let mut text = header(Family::V4);
            let mut by_state: HashMap<TcpState, u64> = HashMap::new();
            let mut per_listener: HashMap<SocketAddr, u64> = HashMap::new();
            for (st, ip, port, lp) in &rows {
                let state = TcpState::ALL[usize::from(*st)];
                let local = SocketAddr::from((Ipv4Addr::new(198, 18, 0, 1), 80 + lp));
                let e = entry(local, SocketAddr::from((Ipv4Addr::from(*ip), *port)), state, 0);
                write_entry(&mut text, &e);
                *by_state.entry(state).or_default() += 1;
                if state.is_half_open() {
                    *per_listener.entry(local).or_default() += 1;
                }
            }
            let parsed: Vec<_> = parse_table(text.as_bytes(), None).collect::<Result<_, _>>().unwrap();
            let snap = Snapshot::from_entries(&parsed);
            for s in TcpState::ALL {
                prop_assert_eq!(snap.count(s), by_state.get(&s).copied().unwrap_or(0));
            }
            let half: u64 = per_listener.values().sum();
            prop_assert_eq!(snap.half_open(), half);
            prop_assert_eq!(snap.listeners().len(), per_listener.len());
            for l in snap.listeners() {
                prop_assert_eq!(l.half_open, per_listener[&l.addr]);
            }
        }
    }

    #[test]
    fn mapped_ipv4_peers_count_as_ipv4() {
        let local = SocketAddr::from((Ipv6Addr::UNSPECIFIED, 80));
        let mapped: Ipv6Addr = "::ffff:198.18.3.4".parse().unwrap();
        let e = entry(local, SocketAddr::from((mapped, 80)), TcpState::SynRecv, 1);
        let snap = Snapshot::from_entries([e]);
        assert_eq!(snap.count_in(Family::V6, TcpState::SynRecv), 1);
        let h = snap.half_open_entries().next().unwrap();
        assert_eq!(h.remote, IpAddr::V4(Ipv4Addr::new(198, 18, 3, 4)));
        assert_eq!(h.retransmits, 1);
        assert!(h.well_known_source_port);
    }

    #[test]
    fn listening_ports_union_listen_rows_and_half_open() {
        let any4 = |p| SocketAddr::from((Ipv4Addr::UNSPECIFIED, p));
        let peer = SocketAddr::from((Ipv4Addr::new(198, 18, 0, 9), 1234));
        let snap = Snapshot::from_entries([
            entry(any4(22), any4(0), TcpState::Listen, 0),
            entry(any4(80), any4(0), TcpState::Listen, 0),
            entry(any4(80), peer, TcpState::SynRecv, 0),
            entry(any4(8080), peer, TcpState::SynRecv, 0),
        ]);
        assert_eq!(snap.listening_ports(), 3);
    }
}
