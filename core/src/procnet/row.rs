//! Decoding one row: a fast path for the kernel's fixed-width layout and a
//! general path that accepts any spacing and names what is wrong.
//!
//! The kernel prints every column up to `tm->when` at a fixed width, right
//! after the slot's colon (`"%4d: %08X:%04X %08X:%04X %02X %08X:%08X
//! %02X:%08lX %08X %5u %8d %lu ..."`). The fast path checks the separators at
//! their fixed offsets and decodes the hex columns eight digits at a time. Any
//! row that breaks the pattern is decoded again by the general path, which
//! splits on whitespace; only the general path reports errors, so both paths
//! give the same answer for every input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::digits::{
    dec_i32, dec_u64, hex_u64, padded_decimal8, upper_hex2, upper_hex4, upper_hex8, NumberError,
};
use super::entry::{Family, TcpEntry, TcpState, TimerKind};
use super::error::{Field, ParseError, Snippet};

/// Columns every kernel row has: `sl` to `inode`.
pub(crate) const REQUIRED_COLUMNS: usize = 10;

/// Decodes one row of a table whose family is known. `line` must not
/// contain the newline.
#[inline]
pub(crate) fn decode(
    line: &[u8],
    line_no: u64,
    family: Family,
) -> Result<TcpEntry<'_>, ParseError> {
    match fast(line, family) {
        Some(entry) => Ok(entry),
        None => general(line, line_no, family),
    }
}

/// The family a row's local address width implies.
pub(crate) fn detect_family(line: &[u8], line_no: u64) -> Result<Family, ParseError> {
    let mut columns = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|c| !c.is_empty());
    let _slot = columns.next();
    let Some(local) = columns.next() else {
        return Err(ParseError::ColumnCount {
            line: line_no,
            expected: REQUIRED_COLUMNS,
            found: 1,
        });
    };
    let width = local.iter().position(|&b| b == b':').unwrap_or(local.len());
    match width {
        8 => Ok(Family::V4),
        32 => Ok(Family::V6),
        found => Err(ParseError::UnknownFamily {
            line: line_no,
            field: Field::LocalAddress,
            found,
        }),
    }
}

/// True for a header line (`  sl  local_address ...`).
#[inline]
pub(crate) fn is_header(line: &[u8]) -> bool {
    let start = line.iter().position(|&b| b != b' ').unwrap_or(line.len());
    line[start..].starts_with(b"sl ")
}

/// True for a line holding nothing but whitespace.
#[inline]
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| b.is_ascii_whitespace())
}

#[inline(always)]
fn ipv4(word: u32) -> Ipv4Addr {
    Ipv4Addr::from(word.to_ne_bytes())
}

#[inline(always)]
fn ipv6(words: [u32; 4]) -> Ipv6Addr {
    let mut octets = [0u8; 16];
    for (chunk, word) in octets.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    Ipv6Addr::from(octets)
}

/// The `N` bytes of `block` at `at` (a constant offset into a block whose
/// length is known, so the check folds away).
#[inline(always)]
fn bytes<const N: usize>(block: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&block[at..at + N]);
    out
}

/// The fast path's view of the fixed-width part of a row.
#[inline(always)]
fn fast(line: &[u8], family: Family) -> Option<TcpEntry<'_>> {
    match family {
        Family::V4 => fast_fixed::<8>(line),
        Family::V6 => fast_fixed::<32>(line),
    }
}

/// The fixed-width layout for addresses of `W` hex digits, or `None` to
/// defer to [`general`].
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

/// Splits a row on whitespace and decodes each column, naming the first one
/// that is wrong.
#[cold]
pub(crate) fn general(
    line: &[u8],
    line_no: u64,
    family: Family,
) -> Result<TcpEntry<'_>, ParseError> {
    let columns = Columns::new(line);
    let found = columns.clone().take(REQUIRED_COLUMNS).count();
    if found < REQUIRED_COLUMNS {
        return Err(ParseError::ColumnCount {
            line: line_no,
            expected: REQUIRED_COLUMNS,
            found,
        });
    }
    let mut columns = columns;
    let mut next = || columns.next().expect("counted above");
    let d = Decoder {
        line: line_no,
        family,
    };

    let slot_text = next();
    let slot = match slot_text.strip_suffix(b":") {
        Some(digits) => d.dec(digits, Field::Slot, u32::MAX as u64)? as u32,
        None => return Err(d.malformed(Field::Slot, "a slot number and a colon", slot_text)),
    };
    let local = d.socket(next(), Field::LocalAddress, Field::LocalPort)?;
    let remote = d.socket(next(), Field::RemoteAddress, Field::RemotePort)?;
    let state_text = next();
    let code = d.hex(state_text, Field::State, u8::MAX as u64)? as u8;
    let state = TcpState::from_code(code).ok_or(ParseError::UnknownState {
        line: line_no,
        code,
    })?;
    let (tx, rx) = d.pair(next(), Field::TxQueue, "tx_queue:rx_queue")?;
    let tx_queue = d.hex(tx, Field::TxQueue, u32::MAX as u64)? as u32;
    let rx_queue = d.hex(rx, Field::RxQueue, u32::MAX as u64)? as u32;
    let (tr, when) = d.pair(next(), Field::Timer, "tr:tm->when")?;
    let timer = TimerKind::from_code(d.hex(tr, Field::Timer, u8::MAX as u64)? as u8);
    let timer_expires = d.hex(when, Field::TimerExpires, u64::MAX)?;
    let retransmits = d.hex(next(), Field::Retransmits, u32::MAX as u64)? as u32;
    let uid = d.dec(next(), Field::Uid, u32::MAX as u64)? as u32;
    let timeout_text = next();
    let timeout = dec_i32(timeout_text)
        .map_err(|e| d.number(e, Field::Timeout, timeout_text, i32::MAX as u64, false))?;
    let inode = d.dec(next(), Field::Inode, u64::MAX)?;
    let rest = columns.rest().trim_ascii();
    let trailing = std::str::from_utf8(rest).map_err(|_| ParseError::NotText {
        line: line_no,
        text: Snippet::new(rest),
    })?;
    Ok(TcpEntry {
        slot,
        local,
        remote,
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

/// Whitespace-separated columns, remembering where the rest begins.
#[derive(Clone)]
struct Columns<'a> {
    line: &'a [u8],
    at: usize,
}

impl<'a> Columns<'a> {
    fn new(line: &'a [u8]) -> Self {
        Columns { line, at: 0 }
    }

    fn rest(&self) -> &'a [u8] {
        &self.line[self.at..]
    }
}

impl<'a> Iterator for Columns<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = &self.line[self.at..];
        let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        let len = rest[start..]
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(rest.len() - start);
        self.at += start + len;
        Some(&rest[start..start + len])
    }
}

/// Decodes columns of one line, building errors that name it.
struct Decoder {
    line: u64,
    family: Family,
}

impl Decoder {
    fn number(&self, e: NumberError, field: Field, text: &[u8], max: u64, hex: bool) -> ParseError {
        let (line, text) = (self.line, Snippet::new(text));
        match (e, hex) {
            (NumberError::Overflow, _) => ParseError::OutOfRange {
                line,
                field,
                text,
                max,
            },
            (NumberError::Invalid, true) => ParseError::BadHex { line, field, text },
            (NumberError::Invalid, false) => ParseError::BadDecimal { line, field, text },
        }
    }

    fn hex(&self, text: &[u8], field: Field, max: u64) -> Result<u64, ParseError> {
        hex_u64(text, max).map_err(|e| self.number(e, field, text, max, true))
    }

    fn dec(&self, text: &[u8], field: Field, max: u64) -> Result<u64, ParseError> {
        dec_u64(text, max).map_err(|e| self.number(e, field, text, max, false))
    }

    fn malformed(&self, field: Field, expected: &'static str, text: &[u8]) -> ParseError {
        ParseError::Malformed {
            line: self.line,
            field,
            expected,
            text: Snippet::new(text),
        }
    }

    fn pair<'t>(
        &self,
        text: &'t [u8],
        field: Field,
        expected: &'static str,
    ) -> Result<(&'t [u8], &'t [u8]), ParseError> {
        let colon = text
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| self.malformed(field, expected, text))?;
        Ok((&text[..colon], &text[colon + 1..]))
    }

    fn socket(&self, text: &[u8], address: Field, port: Field) -> Result<SocketAddr, ParseError> {
        let (addr, port_text) = self.pair(text, address, "address:port in hex")?;
        let expected = self.family.address_hex_digits();
        if addr.len() != expected {
            return Err(ParseError::AddressWidth {
                line: self.line,
                field: address,
                family: self.family,
                expected,
                found: addr.len(),
            });
        }
        let mut words = [0u32; 4];
        for (word, digits) in words.iter_mut().zip(addr.chunks_exact(8)) {
            *word = self
                .hex(digits, address, u32::MAX as u64)
                .map_err(|_| ParseError::BadHex {
                    line: self.line,
                    field: address,
                    text: Snippet::new(addr),
                })? as u32;
        }
        let ip: IpAddr = match self.family {
            Family::V4 => ipv4(words[0]).into(),
            Family::V6 => ipv6(words).into(),
        };
        let port = self.hex(port_text, port, u16::MAX as u64)? as u16;
        Ok(SocketAddr::new(ip, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4_LISTEN: &[u8] = b"   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000080 00:00000000 00000000   116        0 12345 1 0000000000000000 100 0 0 10 0";
    const V6_REQ: &[u8] = b"  12: 000080FE00000000FF000000525412FE:01BB B80D0120000000000000000005001200:0050 03 00000000:00000000 01:0000012C 00000003  1000        0 0 0 0000000000000000";

    #[test]
    fn fast_and_general_agree_on_kernel_rows() {
        for (line, family) in [(V4_LISTEN, Family::V4), (V6_REQ, Family::V6)] {
            let f = fast(line, family).expect("fast path takes kernel rows");
            let g = general(line, 1, family).unwrap();
            assert_eq!(f, g);
        }
    }

    #[test]
    fn listener_row_decodes_every_field() {
        let e = decode(V4_LISTEN, 1, Family::V4).unwrap();
        assert_eq!(e.slot, 0);
        assert_eq!(e.local, "127.0.0.1:3306".parse().unwrap());
        assert_eq!(e.remote, "0.0.0.0:0".parse().unwrap());
        assert_eq!(e.state, TcpState::Listen);
        assert_eq!((e.tx_queue, e.rx_queue), (0, 0x80));
        assert_eq!(
            (e.timer, e.timer_expires, e.retransmits),
            (TimerKind::None, 0, 0)
        );
        assert_eq!((e.uid, e.timeout, e.inode), (116, 0, 12345));
        assert_eq!(e.trailing, "1 0000000000000000 100 0 0 10 0");
    }

    #[test]
    fn ipv6_words_are_host_order() {
        let e = decode(V6_REQ, 1, Family::V6).unwrap();
        assert_eq!(e.local.ip().to_string(), "fe80::ff:fe12:5452");
        assert_eq!(e.remote, "[2001:db8::12:5]:80".parse().unwrap());
        assert_eq!(e.retransmits, 3);
        assert_eq!(e.timer_expires, 300);
    }

    #[test]
    fn odd_spacing_goes_through_the_general_path() {
        let line = b"0:\t0100007F:0CEA   00000000:0000 0a 0:80 0:0 0 116 -1 12345";
        assert!(fast(line, Family::V4).is_none());
        let e = decode(line, 1, Family::V4).unwrap();
        assert_eq!(e.rx_queue, 0x80);
        assert_eq!(e.timeout, -1);
        assert_eq!(e.trailing, "");
    }

    #[test]
    fn errors_name_line_and_field() {
        let cases: &[(&[u8], Family, Option<Field>, &str)] = &[
            (
                b"0: 0100007F:0CEA 00000000:0000 0A",
                Family::V4,
                None,
                "expected at least 10 columns, found 4",
            ),
            (
                b"0: 0100007G:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 0",
                Family::V4,
                Some(Field::LocalAddress),
                "not hexadecimal",
            ),
            (
                b"0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 0",
                Family::V6,
                Some(Field::LocalAddress),
                "address has 8 hex digits, an IPv6 table needs 32",
            ),
            (
                b"0: 0100007F:0CEA 00000000:0000 0F 0:0 0:0 0 0 0 0",
                Family::V4,
                Some(Field::State),
                "unknown TCP state code 0x0f",
            ),
            (
                b"0: 0100007F:0CEA 00000000:10000 0A 0:0 0:0 0 0 0 0",
                Family::V4,
                Some(Field::RemotePort),
                "out of range",
            ),
            (
                b"0: 0100007F:0CEA 00000000:0000 0A 00 0:0 0 0 0 0",
                Family::V4,
                Some(Field::TxQueue),
                "expected tx_queue:rx_queue",
            ),
            (
                b"0 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 0",
                Family::V4,
                Some(Field::Slot),
                "expected a slot number",
            ),
            (
                b"0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 x 0 0",
                Family::V4,
                Some(Field::Uid),
                "not a decimal number",
            ),
            (
                b"0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 99999999999999999999",
                Family::V4,
                Some(Field::Inode),
                "out of range",
            ),
        ];
        for (line, family, field, message) in cases {
            let err = decode(line, 7, *family).unwrap_err();
            assert_eq!(err.line(), 7);
            assert_eq!(err.field(), *field, "{err}");
            assert!(err.to_string().starts_with("line 7: "), "{err}");
            assert!(err.to_string().contains(message), "{err} lacks {message}");
        }
    }

    #[test]
    fn non_utf8_trailing_is_an_error() {
        let line = b"0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 0 \xe9";
        assert_eq!(
            decode(line, 3, Family::V4).unwrap_err().field(),
            Some(Field::Trailing)
        );
    }

    #[test]
    fn family_detection_and_headers() {
        assert_eq!(detect_family(V4_LISTEN, 1), Ok(Family::V4));
        assert_eq!(detect_family(V6_REQ, 1), Ok(Family::V6));
        assert!(matches!(
            detect_family(b"0: 0100:0 0", 4),
            Err(ParseError::UnknownFamily {
                line: 4,
                found: 4,
                ..
            })
        ));
        assert!(is_header(b"  sl  local_address rem_address   st tx_queue"));
        assert!(!is_header(V4_LISTEN));
        assert!(is_blank(b"  \t "));
    }
}
