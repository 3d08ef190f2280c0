//! Independent decoders of kernel TCP tables to check `halfopen::procnet`
//! against: the `procfs` crate for the columns it exposes, and a plain
//! whitespace split for the rest.

#![allow(dead_code)]

use std::io::BufReader;
use std::net::SocketAddr;

use halfopen::procnet::{parse_line, parse_table, write_entry, Family, TcpEntry};
use procfs::FromBufReadSI;

/// The columns `procfs` does not decode, split by hand: `sl`, `tr`,
/// `tm->when`, `retrnsmt`, `timeout` and the trailing columns.
#[derive(Debug)]
pub struct SplitRow {
    pub slot: u32,
    pub timer: u8,
    pub when: u64,
    pub retransmits: u32,
    pub uid: u32,
    pub timeout: i32,
    pub inode: u64,
    pub trailing: Vec<String>,
}

fn split_row(line: &str) -> SplitRow {
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert!(cols.len() >= 10, "short row {line:?}");
    let (tr, when) = cols[5].split_once(':').expect("tr:tm->when");
    SplitRow {
        slot: cols[0].trim_end_matches(':').parse().expect("sl"),
        timer: u8::from_str_radix(tr, 16).expect("tr"),
        when: u64::from_str_radix(when, 16).expect("tm->when"),
        retransmits: u32::from_str_radix(cols[6], 16).expect("retrnsmt"),
        uid: cols[7].parse().expect("uid"),
        timeout: cols[8].parse().expect("timeout"),
        inode: cols[9].parse().expect("inode"),
        trailing: cols[10..].iter().map(|s| s.to_string()).collect(),
    }
}

/// The data lines of a table (header dropped), without newlines.
pub fn data_lines(bytes: &[u8]) -> Vec<&str> {
    let text = std::str::from_utf8(bytes).expect("tables are ASCII");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// The table as `procfs` decodes it.
pub fn procfs_rows(bytes: &[u8]) -> Vec<procfs::net::TcpNetEntry> {
    let info = procfs::ExplicitSystemInfo {
        boot_time_secs: 0,
        ticks_per_second: 100,
        page_size: 4096,
        is_little_endian: cfg!(target_endian = "little"),
    };
    procfs::net::TcpNetEntries::from_buf_read(BufReader::new(bytes), &info)
        .expect("procfs decodes the table")
        .0
}

/// Decodes `bytes` with halfopen and checks every field of every row
/// against `procfs` and the hand split, and that [`write_entry`] prints
/// each row back byte for byte. Returns halfopen's rows.
pub fn check_table(bytes: &[u8], family: Family) -> Vec<TcpEntry<'static>> {
    let ours: Vec<TcpEntry<'_>> = parse_table(bytes, Some(family))
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("row {i}: {e}")))
        .collect();
    let theirs = procfs_rows(bytes);
    let lines = data_lines(bytes);
    assert_eq!(ours.len(), theirs.len(), "row counts differ from procfs");
    assert_eq!(ours.len(), lines.len(), "row counts differ from the lines");
    for ((o, t), line) in ours.iter().zip(&theirs).zip(&lines) {
        let split = split_row(line);
        assert_eq!(o.local, t.local_address, "local address of {line}");
        assert_eq!(o.remote, t.remote_address, "remote address of {line}");
        assert_eq!(o.state.code(), t.state.to_u8(), "state of {line}");
        assert_eq!(o.tx_queue, t.tx_queue, "tx_queue of {line}");
        assert_eq!(o.rx_queue, t.rx_queue, "rx_queue of {line}");
        assert_eq!(o.uid, t.uid, "uid of {line}");
        assert_eq!(o.inode, t.inode, "inode of {line}");
        assert_eq!(o.slot, split.slot, "sl of {line}");
        assert_eq!(o.timer.code(), split.timer, "tr of {line}");
        assert_eq!(o.timer_expires, split.when, "tm->when of {line}");
        assert_eq!(o.retransmits, split.retransmits, "retrnsmt of {line}");
        assert_eq!(o.uid, split.uid, "uid of {line}");
        assert_eq!(o.timeout, split.timeout, "timeout of {line}");
        assert_eq!(o.inode, split.inode, "inode of {line}");
        assert_eq!(
            o.trailing_fields().collect::<Vec<_>>(),
            split.trailing,
            "trailing of {line}"
        );
        assert_eq!(o.family(), family);
        assert_eq!(
            rendered(o),
            format!("{line}\n"),
            "write_entry differs from the kernel"
        );
    }
    ours.iter().map(|e| e.detach()).collect()
}

/// `entry` printed by [`write_entry`].
pub fn rendered(entry: &TcpEntry<'_>) -> String {
    let mut out = String::new();
    write_entry(&mut out, entry);
    out
}

/// Checks one raw kernel line on its own: it decodes, prints back
/// identically, and (IPv4) has the kernel's fixed width.
pub fn check_line(line: &str, family: Family) -> TcpEntry<'_> {
    let entry = parse_line(line.as_bytes(), family).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    assert_eq!(
        rendered(&entry).trim_end_matches('\n'),
        line,
        "line is not a kernel row"
    );
    if family == Family::V4 {
        assert_eq!(
            line.len(),
            halfopen::procnet::TCP4_LINE_WIDTH,
            "width of {line:?}"
        );
    }
    entry
}

/// True when `addr` is in the lab's spoofed IPv4 or IPv6 source space, or
/// the IPv4-mapped form of a spoofed IPv4 address.
pub fn is_spoofed(addr: &SocketAddr) -> bool {
    match addr {
        SocketAddr::V4(a) => a.ip().octets()[..2] == [198, 18],
        SocketAddr::V6(a) => {
            if let Some(v4) = a.ip().to_ipv4_mapped() {
                return v4.octets()[..2] == [198, 18];
            }
            let s = a.ip().segments();
            s[0] == 0x2001 && s[1] == 0xdb8 && s[2] < 0x8000
        }
    }
}
