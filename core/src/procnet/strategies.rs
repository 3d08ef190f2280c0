//! Test inputs: random rows as the kernel prints them, and the ways a row
//! can be damaged, for the checks that the fast paths agree with the
//! general one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;

use super::entry::{Family, TcpEntry, TcpState, TimerKind};
use super::write::write_entry;

/// Bytes worth trying at every position of a row: separators, every kind
/// of whitespace, the edges of the digit classes, control and non-ASCII.
pub(crate) const PROBES: &[u8] = &[
    b' ', b'\n', b'\t', b'\r', 0x0B, 0x0C, b':', b'0', b'1', b'9', b'/', b'@', b'A', b'F', b'G',
    b'`', b'a', b'f', b'-', b'+', b'x', 0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xFF,
];

fn ip(family: Family) -> BoxedStrategy<IpAddr> {
    match family {
        Family::V4 => any::<u32>()
            .prop_map(|v| IpAddr::V4(Ipv4Addr::from(v)))
            .boxed(),
        Family::V6 => prop_oneof![
            any::<u128>().prop_map(|v| IpAddr::V6(Ipv6Addr::from(v))),
            any::<u32>().prop_map(|v| IpAddr::V6(Ipv4Addr::from(v).to_ipv6_mapped())),
            any::<u16>().prop_map(|v| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, v))),
        ]
        .boxed(),
    }
}

/// Trailing columns: as the three kinds of kernel rows print them, or any
/// printable words.
fn trailing() -> BoxedStrategy<&'static str> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "0 0000000000000000",
            "1 0000000000000000 100 0 0 10 0",
            "2 ffff8881032c4d00 20 4 31 10 -1",
        ]),
        "[!-~]{1,12}( {1,3}[!-~]{1,12}){0,6}"
            .prop_map(|text: String| &*Box::leak(text.into_boxed_str())),
    ]
    .boxed()
}

/// An entry of `family` with values the kernel prints at fixed width most
/// of the time, and at any width now and then.
pub(crate) fn entry(family: Family) -> impl Strategy<Value = TcpEntry<'static>> {
    (
        (
            prop_oneof![4 => 0u32..10_000, 1 => any::<u32>()],
            ip(family),
            any::<u16>(),
            ip(family),
            any::<u16>(),
        ),
        (
            prop::sample::select(TcpState::ALL.to_vec()),
            any::<u32>(),
            any::<u32>(),
            prop_oneof![4 => 0u8..5, 1 => any::<u8>()],
        ),
        (
            prop_oneof![4 => 0u64..1 << 32, 1 => any::<u64>()],
            any::<u32>(),
            prop_oneof![4 => 0u32..100_000, 1 => any::<u32>()],
            prop_oneof![4 => 0i32..100, 1 => any::<i32>()],
            prop_oneof![2 => 0u64..10, 2 => 0u64..100_000_000, 1 => any::<u64>()],
        ),
        trailing(),
    )
        .prop_map(
            |(
                (slot, lip, lport, rip, rport),
                (state, tx_queue, rx_queue, timer),
                (timer_expires, retransmits, uid, timeout, inode),
                trailing,
            )| TcpEntry {
                slot,
                local: SocketAddr::new(lip, lport),
                remote: SocketAddr::new(rip, rport),
                state,
                tx_queue,
                rx_queue,
                timer: TimerKind::from_code(timer),
                timer_expires,
                retransmits,
                uid,
                timeout,
                inode,
                trailing,
            },
        )
}

/// True when every column of `e` has the width the fast paths expect, so
/// they must take its row.
pub(crate) fn fixed_width(e: &TcpEntry<'_>) -> bool {
    e.slot < 100_000_000
        && e.timer_expires < 1 << 32
        && e.uid < 100_000
        && (0..100_000_000).contains(&e.timeout)
        && e.inode < 1_000_000_000_000_000
}

/// `e` as the kernel prints it, without the newline.
pub(crate) fn line(e: &TcpEntry<'_>) -> Vec<u8> {
    let mut text = String::new();
    write_entry(&mut text, e);
    text.pop();
    text.into_bytes()
}

/// Every single-byte change of `line`: each position set to each of
/// `PROBES` and `extra`, each byte deleted, and each probe inserted.
pub(crate) fn damaged(line: &[u8], extra: u8) -> impl Iterator<Item = Vec<u8>> + '_ {
    let probes = PROBES.iter().copied().chain([extra]);
    let replaced = (0..line.len()).flat_map(move |at| {
        probes.clone().map(move |b| {
            let mut l = line.to_vec();
            l[at] = b;
            l
        })
    });
    let deleted = (0..line.len()).map(move |at| {
        let mut l = line.to_vec();
        l.remove(at);
        l
    });
    let inserted = (0..=line.len()).flat_map(move |at| {
        [b' ', b'0', b'A', b'\n', extra].into_iter().map(move |b| {
            let mut l = line.to_vec();
            l.insert(at, b);
            l
        })
    });
    replaced.chain(deleted).chain(inserted)
}
