//! Printing entries exactly as the kernel prints them: for captures made by
//! hand, test oracles and benchmarks.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::entry::{Family, TcpEntry};

/// The kernel pads every `/proc/net/tcp` line (header included) with spaces
/// to this many characters before the newline (`TMPSZ - 1`); `tcp6` lines
/// are not padded.
pub const TCP4_LINE_WIDTH: usize = 149;

/// The header line of a table of `family`, with its newline, as the kernel
/// prints it.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{header, Family};
/// assert!(header(Family::V4).starts_with("  sl  local_address rem_address"));
/// assert_eq!(header(Family::V4).len(), 150);
/// ```
pub fn header(family: Family) -> String {
    match family {
        Family::V4 => {
            let mut h = String::from(
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            );
            pad(&mut h, 0);
            h
        }
        Family::V6 => String::from(
            "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
        ),
    }
}

fn pad(out: &mut String, line_start: usize) {
    while out.len() - line_start < TCP4_LINE_WIDTH {
        out.push(' ');
    }
    out.push('\n');
}

fn push_addr(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let _ = write!(out, "{:08X}", u32::from_ne_bytes(v4.octets()));
        }
        IpAddr::V6(v6) => {
            for word in v6.octets().chunks_exact(4) {
                let word: [u8; 4] = word.try_into().expect("chunks of four");
                let _ = write!(out, "{:08X}", u32::from_ne_bytes(word));
            }
        }
    }
}

/// Appends `entry` as the kernel prints it, newline included: the same
/// widths, upper-case hex, host-order address words, and for IPv4 the
/// padding to [`TCP4_LINE_WIDTH`].
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{parse_line, write_entry, Family};
///
/// let line = "   3: 0100007F:0050 0512C6C6:D431 03 00000000:00000000 01:00000064 00000001     0        0 0 0 0000000000000000";
/// let entry = parse_line(line.as_bytes(), Family::V4).unwrap();
/// let mut out = String::new();
/// write_entry(&mut out, &entry);
/// assert_eq!(out.trim_end(), line);
/// assert_eq!(out.len(), 150);
/// ```
pub fn write_entry(out: &mut String, entry: &TcpEntry<'_>) {
    let start = out.len();
    let _ = write!(out, "{:4}: ", entry.slot);
    push_addr(out, entry.local.ip());
    let _ = write!(out, ":{:04X} ", entry.local.port());
    push_addr(out, entry.remote.ip());
    let _ = write!(
        out,
        ":{:04X} {:02X} {:08X}:{:08X} {:02X}:{:08X} {:08X} {:5} {:8} {}",
        entry.remote.port(),
        entry.state.code(),
        entry.tx_queue,
        entry.rx_queue,
        entry.timer.code(),
        entry.timer_expires,
        entry.retransmits,
        entry.uid,
        entry.timeout,
        entry.inode,
    );
    if !entry.trailing.is_empty() {
        out.push(' ');
        out.push_str(entry.trailing);
    }
    match entry.family() {
        Family::V4 => pad(out, start),
        Family::V6 => out.push('\n'),
    }
}
