//! Property tests of the table parser: round trips through a writer of the
//! kernel's format, the procfs crate's parser as an independent oracle, and
//! streaming reads split at every possible boundary.

use std::io::{BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use halfopen::procnet::{
    header, parse_table, write_entry, Family, ParseError, TableReader, TcpEntry, TcpState,
    TimerKind,
};
use procfs::FromBufReadSI;
use proptest::prelude::*;

/// Trailing columns as the three kinds of kernel rows print them.
const TRAILING: [&str; 4] = [
    "",
    "0 0000000000000000",
    "1 0000000000000000 100 0 0 10 0",
    "2 ffff8881032c4d00 20 4 31 10 -1",
];

fn ip(family: Family) -> impl Strategy<Value = IpAddr> {
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

fn entry(family: Family) -> impl Strategy<Value = TcpEntry<'static>> {
    (
        (
            0u32..200_000,
            ip(family),
            any::<u16>(),
            ip(family),
            any::<u16>(),
        ),
        (
            prop::sample::select(TcpState::ALL.to_vec()),
            any::<u32>(),
            any::<u32>(),
            0u8..6,
        ),
        (
            any::<u64>(),
            any::<u8>(),
            any::<u32>(),
            any::<i32>(),
            any::<u64>(),
        ),
        prop::sample::select(TRAILING.to_vec()),
    )
        .prop_map(
            |(
                (slot, lip, lport, rip, rport),
                (state, tx, rx, timer),
                (when, retr, uid, timeout, inode),
                trailing,
            )| {
                TcpEntry {
                    slot,
                    local: SocketAddr::new(lip, lport),
                    remote: SocketAddr::new(rip, rport),
                    state,
                    tx_queue: tx,
                    rx_queue: rx,
                    timer: TimerKind::from_code(timer),
                    timer_expires: when >> (when % 64),
                    retransmits: retr as u32,
                    uid,
                    timeout,
                    inode,
                    trailing,
                }
            },
        )
}

fn table(family: Family) -> impl Strategy<Value = Vec<TcpEntry<'static>>> {
    prop::collection::vec(entry(family), 0..40)
}

fn render(family: Family, entries: &[TcpEntry<'_>]) -> String {
    let mut text = header(family);
    for e in entries {
        write_entry(&mut text, e);
    }
    text
}

/// Reads in chunks of the given sizes, cycling, as a kernel serves pages.
struct Chunked<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    next: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.next % self.sizes.len()]
            .min(buf.len())
            .min(self.data.len());
        self.next += 1;
        buf[..size].copy_from_slice(&self.data[..size]);
        self.data = &self.data[size..];
        Ok(size)
    }
}

fn stream(
    data: &[u8],
    sizes: Vec<usize>,
    capacity: usize,
) -> Vec<Result<TcpEntry<'static>, ParseError>> {
    let mut reader = TableReader::with_capacity(
        Chunked {
            data,
            sizes,
            next: 0,
        },
        capacity,
    )
    .family(Family::V4);
    let mut out = Vec::new();
    while let Some(item) = reader.next_entry() {
        out.push(
            item.map(|e| e.detach())
                .map_err(|e| e.as_parse().cloned().expect("no I/O errors here")),
        );
    }
    out
}

fn detached(
    rows: Vec<Result<TcpEntry<'_>, ParseError>>,
) -> Vec<Result<TcpEntry<'static>, ParseError>> {
    rows.into_iter().map(|r| r.map(|e| e.detach())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn writer_then_parser_gives_back_every_field(v4 in table(Family::V4), v6 in table(Family::V6)) {
        for (family, entries) in [(Family::V4, &v4), (Family::V6, &v6)] {
            let text = render(family, entries);
            let parsed: Vec<_> = parse_table(text.as_bytes(), None).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(&parsed, entries);
            let forced: Vec<_> = parse_table(text.as_bytes(), Some(family)).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(&forced, entries);
        }
    }

    #[test]
    fn procfs_agrees_on_every_field_it_decodes(v4 in table(Family::V4), v6 in table(Family::V6)) {
        let info = procfs::ExplicitSystemInfo {
            boot_time_secs: 0,
            ticks_per_second: 100,
            page_size: 4096,
            is_little_endian: cfg!(target_endian = "little"),
        };
        for (family, entries) in [(Family::V4, &v4), (Family::V6, &v6)] {
            // procfs knows no TCP_BOUND_INACTIVE.
            let entries: Vec<_> = entries.iter().filter(|e| e.state != TcpState::BoundInactive).copied().collect();
            let text = render(family, &entries);
            let ours: Vec<_> = parse_table(text.as_bytes(), Some(family)).collect::<Result<_, _>>().unwrap();
            let theirs = procfs::net::TcpNetEntries::from_buf_read(BufReader::new(text.as_bytes()), &info).unwrap().0;
            prop_assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                prop_assert_eq!(a.local, b.local_address);
                prop_assert_eq!(a.remote, b.remote_address);
                prop_assert_eq!(a.state.code(), b.state.clone() as u8);
                prop_assert_eq!((a.tx_queue, a.rx_queue), (b.tx_queue, b.rx_queue));
                prop_assert_eq!((a.uid, a.inode), (b.uid, b.inode));
            }
        }
    }

    #[test]
    fn streaming_equals_in_memory_at_any_read_boundary(
        v4 in table(Family::V4),
        sizes in prop::collection::vec(1usize..700, 1..8),
        capacity in 512usize..2048,
        garbage in prop::collection::vec((0usize..40, "[ -~]{0,60}"), 0..4),
        cut in 0usize..200,
    ) {
        let mut text = render(Family::V4, &v4);
        // Garbage lines in the middle, then a cut at the end.
        for (at, line) in garbage {
            let starts: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).collect();
            let pos = starts[at % starts.len()];
            text.insert_str(pos, &format!("{line}\n"));
        }
        text.truncate(text.len().saturating_sub(cut));
        let expect = detached(parse_table(text.as_bytes(), Some(Family::V4)).collect());
        let got = stream(text.as_bytes(), sizes, capacity);
        prop_assert_eq!(got, expect);
    }
}

/// A request-socket row (a half-open connection) at `slot`.
fn half_open_row(slot: u32) -> TcpEntry<'static> {
    TcpEntry {
        slot,
        local: "127.0.0.1:80".parse().unwrap(),
        remote: "198.18.0.1:443".parse().unwrap(),
        state: TcpState::SynRecv,
        tx_queue: 0,
        rx_queue: 0,
        timer: TimerKind::Retransmit,
        timer_expires: 100,
        retransmits: 1,
        uid: 0,
        timeout: 0,
        inode: 0,
        trailing: "0 0000000000000000",
    }
}

#[test]
fn line_longer_than_the_buffer_is_reported_once_and_skipped() {
    let mut text = header(Family::V4);
    let row = half_open_row;
    write_entry(&mut text, &row(0));
    text.push_str(&"x".repeat(5000));
    text.push('\n');
    write_entry(&mut text, &row(1));
    let got = stream(text.as_bytes(), vec![4096], 1024);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].as_ref().unwrap().slot, 0);
    assert!(matches!(
        got[1],
        Err(ParseError::LineTooLong { line: 3, max: 1024 })
    ));
    assert_eq!(got[2].as_ref().unwrap().slot, 1);
}

#[test]
fn mixed_families_in_one_table_name_the_line() {
    let mut text = header(Family::V4);
    let mut e = half_open_row(0);
    write_entry(&mut text, &e);
    e.local = "[::1]:80".parse().unwrap();
    e.remote = "[2001:db8::1]:443".parse().unwrap();
    write_entry(&mut text, &e);
    let rows: Vec<_> = parse_table(text.as_bytes(), None).collect();
    assert!(rows[0].is_ok());
    let err = rows[1].as_ref().unwrap_err();
    assert_eq!(err.line(), 3);
    assert_eq!(
        err.to_string(),
        "line 3: field local_address: address has 32 hex digits, an IPv4 table needs 8"
    );
}
