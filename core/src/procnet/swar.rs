//! The portable fast path: separators checked at their fixed offsets, hex
//! and decimal columns validated and decoded eight digits at a time in a
//! `u64` (SWAR). x86_64 uses [`super::sse2`] instead; this path serves every
//! other target and is tested on all of them against the general path.

use std::net::{IpAddr, SocketAddr};

use super::digits::{padded_decimal8, upper_hex2, upper_hex4, upper_hex8};
use super::entry::{Family, TcpEntry, TcpState, TimerKind};
use super::row::{ipv4, ipv6};

/// The `N` bytes of `block` at `at` (a constant offset into a block whose
/// length is known, so the check folds away).
#[inline(always)]
fn bytes<const N: usize>(block: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&block[at..at + N]);
    out
}

/// The fast path for one line (without its newline), or `None` to defer to
/// the general path.
#[inline(always)]
pub(crate) fn row(line: &[u8], family: Family) -> Option<TcpEntry<'_>> {
    match family {
        Family::V4 => fast_fixed::<8>(line),
        Family::V6 => fast_fixed::<32>(line),
    }
}

/// The fixed-width layout for addresses of `W` hex digits, or `None` to
/// defer to the general path.
///
/// After `"%4d: "` the kernel prints, at fixed offsets: local address and
/// port, remote address and port, state, queues, timer and expiry (eight
/// digits for any expiry under 2^32 ticks), retransmits, `uid` right-aligned
/// in five columns and `timeout` in eight (for the values every real row
/// has), then `inode` and the trailing columns at variable width.
#[inline(always)]
fn fast_fixed<const W: usize>(line: &[u8]) -> Option<TcpEntry<'_>> {
    // Slot: right-aligned in four columns, wider past 9999.
    let mut at = 0;
    while *line.get(at)? == b' ' {
        at += 1;
    }
    let mut slot = 0u32;
    let digits_start = at;
    while let Some(&b) = line.get(at) {
        if !b.is_ascii_digit() || at - digits_start > 8 {
            break;
        }
        slot = slot * 10 + (b - b'0') as u32;
        at += 1;
    }
    if at == digits_start || line.get(at..at + 2)? != b": " {
        return None;
    }
    let a = at + 2;
    // Offsets after the local address shift by W - 8, after the remote by
    // twice that.
    let d = 2 * (W - 8);
    let len = 85 + d;
    let f = line.get(a..a + len)?;
    let r = W + 6;
    let separators = [
        (W, b':'),
        (W + 5, b' '),
        (r + W, b':'),
        (r + W + 5, b' '),
        (30 + d, b' '),
        (39 + d, b':'),
        (48 + d, b' '),
        (51 + d, b':'),
        (60 + d, b' '),
        (69 + d, b' '),
        (75 + d, b' '),
        (84 + d, b' '),
    ];
    let mut ok = true;
    for (at, byte) in separators {
        ok &= f[at] == byte;
    }
    if !ok {
        return None;
    }
    let (local_ip, remote_ip): (IpAddr, IpAddr) = if W == 8 {
        (
            ipv4(upper_hex8(bytes(f, 0))?).into(),
            ipv4(upper_hex8(bytes(f, r))?).into(),
        )
    } else {
        let words = |at: usize| -> Option<[u32; 4]> {
            Some([
                upper_hex8(bytes(f, at))?,
                upper_hex8(bytes(f, at + 8))?,
                upper_hex8(bytes(f, at + 16))?,
                upper_hex8(bytes(f, at + 24))?,
            ])
        };
        (ipv6(words(0)?).into(), ipv6(words(r)?).into())
    };
    let local_port = upper_hex4(bytes(f, W + 1))?;
    let remote_port = upper_hex4(bytes(f, r + W + 1))?;
    let [s0, s1] = bytes(f, 28 + d);
    let state = TcpState::from_code(upper_hex2(s0, s1)?)?;
    let tx_queue = upper_hex8(bytes(f, 31 + d))?;
    let rx_queue = upper_hex8(bytes(f, 40 + d))?;
    let [t0, t1] = bytes(f, 49 + d);
    let timer = TimerKind::from_code(upper_hex2(t0, t1)?);
    let timer_expires = upper_hex8(bytes(f, 52 + d))? as u64;
    let retransmits = upper_hex8(bytes(f, 61 + d))?;
    // uid: five columns; widen to a word with spaces in front.
    let [u0, u1, u2, u3, u4] = bytes(f, 70 + d);
    let uid = padded_decimal8([b' ', b' ', b' ', u0, u1, u2, u3, u4])?;
    let timeout = padded_decimal8(bytes(f, 76 + d))? as i32;
    // inode: variable width.
    let mut at = a + len;
    let inode_start = at;
    let mut inode = 0u64;
    while let Some(&b) = line.get(at) {
        if !b.is_ascii_digit() || at - inode_start >= 19 {
            break;
        }
        inode = inode * 10 + (b - b'0') as u64;
        at += 1;
    }
    if at == inode_start {
        return None;
    }
    let trailing = trailing(line, at)?;
    Some(TcpEntry {
        slot,
        local: SocketAddr::new(local_ip, local_port),
        remote: SocketAddr::new(remote_ip, remote_port),
        state,
        tx_queue,
        rx_queue,
        timer,
        timer_expires,
        retransmits,
        uid,
        timeout,
        inode,
        trailing,
    })
}

/// The text after `inode` (which ends at `at`), without padding; `None` if
/// the inode column runs on into something that is not a separator, or the
/// text is not ASCII.
#[inline(always)]
#[allow(unsafe_code)]
fn trailing(line: &[u8], at: usize) -> Option<&str> {
    let rest = &line[at..];
    match rest.first() {
        None => return Some(""),
        Some(b) if b.is_ascii_whitespace() => {}
        Some(_) => return None,
    }
    // IPv4 rows carry up to ~60 bytes of padding: drop it a word at a time.
    let mut end = rest.len();
    while end >= 8 && rest[end - 8..end] == *b"        " {
        end -= 8;
    }
    let text = rest[..end].trim_ascii();
    if !text.is_ascii() {
        return None;
    }
    // SAFETY: every byte of `text` is ASCII (checked just above), and ASCII
    // is valid UTF-8. This spares a second validation pass per row.
    Some(unsafe { std::str::from_utf8_unchecked(text) })
}
