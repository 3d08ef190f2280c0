//! Inputs shared by the benchmarks: tables in the kernel's exact format.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use halfopen::procnet::{header, write_entry, Family, TcpEntry, TcpState, TimerKind};

/// A `/proc/net/tcp{,6}` table of `rows` half-open entries as a SYN flood
/// leaves it: spoofed sources walked through 198.18.0.0/15 (or
/// 2001:db8::/32), spoofed source ports, three listening ports, request
/// socket rows with the kernel's fixed widths (IPv4 rows padded to 149
/// characters).
pub fn syn_recv_table(family: Family, rows: usize) -> Vec<u8> {
    let mut text = header(family);
    text.reserve(rows * 160);
    let ports = [22u16, 80, 443];
    for i in 0..rows {
        let n = i as u32;
        let (local, remote): (IpAddr, IpAddr) = match family {
            Family::V4 => (
                Ipv4Addr::new(198, 19, 0, 1).into(),
                Ipv4Addr::from(
                    u32::from(Ipv4Addr::new(198, 18, 0, 0)) + (n.wrapping_mul(7919) & 0x1_FFFF),
                )
                .into(),
            ),
            Family::V6 => (
                Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1).into(),
                Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    (n >> 16) as u16,
                    0,
                    0,
                    0,
                    (n >> 8) as u16,
                    n as u16,
                )
                .into(),
            ),
        };
        let entry = TcpEntry {
            slot: n,
            local: SocketAddr::new(local, ports[i % 3]),
            remote: SocketAddr::new(remote, 1024 + (n.wrapping_mul(31) % 60000) as u16),
            state: TcpState::SynRecv,
            tx_queue: 0,
            rx_queue: 0,
            timer: TimerKind::Retransmit,
            timer_expires: 100 + (n % 300) as u64,
            retransmits: n % 6,
            uid: 0,
            timeout: 0,
            inode: 0,
            trailing: "0 0000000000000000",
        };
        write_entry(&mut text, &entry);
    }
    text.into_bytes()
}

/// A xorshift64 generator: fast, seeded, the same sequence on every run, so
/// every benchmark sees the same input.
///
/// # Examples
///
/// ```
/// let mut a = halfopen_benches::XorShift(7);
/// let mut b = halfopen_benches::XorShift(7);
/// assert_eq!(a.next(), b.next());
/// ```
pub struct XorShift(pub u64);

impl XorShift {
    /// The next value of the sequence (never 0 from a non-zero seed).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One table row from its addresses, state and retransmit count, the other
/// fields as a request socket shows them (retransmit timer, slot, uid and
/// inode 0).
///
/// # Examples
///
/// ```
/// use halfopen::procnet::TcpState;
/// let e = halfopen_benches::flood_entry(
///     "198.19.0.1:80".parse().unwrap(),
///     "198.18.0.9:40000".parse().unwrap(),
///     TcpState::SynRecv,
///     2,
/// );
/// assert_eq!(e.retransmits, 2);
/// ```
pub fn flood_entry(
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
        timer: TimerKind::Retransmit,
        timer_expires: 100,
        retransmits: rt,
        uid: 0,
        timeout: 0,
        inode: 0,
        trailing: "",
    }
}

/// A flood as a real table shows it: 1 M IPv4 half-open entries, 70% in 64
/// heavy /24s, 30% sprayed over 198.18.0.0/15; three listening ports, a few
/// hundred established clients, in the kernel's format.
pub fn flood_table(rows: usize) -> String {
    let mut text = header(Family::V4);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let base = u32::from(Ipv4Addr::new(198, 18, 0, 0));
    let ports = [22u16, 80, 443];
    for i in 0..rows {
        let r = rng.next();
        let addr = if i % 10 < 7 {
            base + ((((r >> 8) % 64) as u32 * 7) << 8) + (r % 256) as u32
        } else {
            base + (r as u32 & 0x1_FFFF)
        };
        let local = SocketAddr::from((Ipv4Addr::new(198, 18, 255, 1), ports[i % 3]));
        let remote = SocketAddr::from((Ipv4Addr::from(addr), 1024 + (r >> 20) as u16 % 60000));
        write_entry(
            &mut text,
            &flood_entry(local, remote, TcpState::SynRecv, (r >> 40) as u32 % 3),
        );
    }
    for i in 0..300u32 {
        let local = SocketAddr::from((Ipv4Addr::new(198, 18, 255, 1), 443));
        let remote = SocketAddr::from((Ipv4Addr::from(base + 0x1_F000 + i), 50000));
        write_entry(
            &mut text,
            &flood_entry(local, remote, TcpState::Established, 0),
        );
    }
    text
}

/// `rows` half-open entries from `source(i, random)` (address and source
/// port) towards 198.18.255.1 or 2001:db8:ffff::1, ports 22, 80 and 443 in
/// turn, retransmitted 0 to 2 times.
fn entries_from(
    rows: usize,
    seed: u64,
    source: impl Fn(u64, &mut XorShift) -> (IpAddr, u16),
) -> Vec<TcpEntry<'static>> {
    let mut rng = XorShift(seed);
    let ports = [22u16, 80, 443];
    (0..rows)
        .map(|i| {
            let r = rng.next();
            let (remote, port) = source(r, &mut rng);
            let local: IpAddr = match remote {
                IpAddr::V4(_) => Ipv4Addr::new(198, 18, 255, 1).into(),
                IpAddr::V6(_) => Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1).into(),
            };
            flood_entry(
                SocketAddr::new(local, ports[i % 3]),
                SocketAddr::new(remote, port),
                TcpState::SynRecv,
                (r >> 40) as u32 % 3,
            )
        })
        .collect()
}

/// `rows` half-open entries from random IPv6 /128s in 2001:db8::/32 (an
/// adversarial spray: every source new, no prefix below the /32 shared).
pub fn ipv6_spray_entries(rows: usize) -> Vec<TcpEntry<'static>> {
    entries_from(rows, 0x2545_F491_4F6C_DD1D, |r, rng| {
        let a = (0x2001_0db8u128 << 96) | (u128::from(r) << 32) | u128::from(rng.next() as u32);
        (Ipv6Addr::from(a).into(), 40000)
    })
}

/// `rows` half-open entries as an IPv6 flood leaves them: random /128s (every
/// entry its own source) in 16 heavy /64s of 2001:db8::/32.
pub fn ipv6_flood_entries(rows: usize) -> Vec<TcpEntry<'static>> {
    entries_from(rows, 0x5851_F42D_4C95_7F2D, |r, rng| {
        let net = (0x2001_0db8_0000_0000u128 | u128::from(r % 16) << 16 | 0x7) << 64;
        let a = net | u128::from(rng.next());
        (Ipv6Addr::from(a).into(), 1024 + (r >> 20) as u16 % 60000)
    })
}

/// `rows` half-open entries from random IPv4 sources anywhere in the
/// address space (nearly every entry its own source, no prefix standing
/// out).
pub fn ipv4_spray_entries(rows: usize) -> Vec<TcpEntry<'static>> {
    entries_from(rows, 0x1405_7B7E_F767_814F, |r, _| {
        (Ipv4Addr::from((r >> 16) as u32).into(), 40000)
    })
}
