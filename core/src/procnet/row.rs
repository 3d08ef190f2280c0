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

use super::digits::{dec_i32, dec_u64, hex4, hex8, hex_digit, hex_u64, NumberError};
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
fn get<const N: usize>(line: &[u8], at: usize) -> Option<[u8; N]> {
    line.get(at..at + N)?.try_into().ok()
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

/// Reads a run of decimal digits at `*at`, skipping leading spaces.
#[inline(always)]
fn fast_decimal(line: &[u8], at: &mut usize, max_digits: usize) -> Option<u64> {
    while *line.get(*at)? == b' ' {
        *at += 1;
    }
    let start = *at;
    let mut value = 0u64;
    while let Some(&b) = line.get(*at) {
        if !b.is_ascii_digit() {
            break;
        }
        value = value * 10 + (b - b'0') as u64;
        *at += 1;
        if *at - start > max_digits {
            return None;
        }
    }
    (*at > start).then_some(value)
}

/// The fixed-width layout, or `None` to defer to [`general`].
#[inline(always)]
fn fast(line: &[u8], family: Family) -> Option<TcpEntry<'_>> {
    // Slot: "%4d:" then a space.
    let mut at = 0;
    while *line.get(at)? == b' ' {
        at += 1;
    }
    let slot = fast_decimal(line, &mut at, 9)? as u32;
    if get::<2>(line, at)? != *b": " {
        return None;
    }
    let a = at + 2;
    let w = family.address_hex_digits();
    let (local_ip, remote_ip): (IpAddr, IpAddr) = match family {
        Family::V4 => (
            ipv4(hex8(get(line, a)?)?).into(),
            ipv4(hex8(get(line, a + w + 6)?)?).into(),
        ),
        Family::V6 => {
            let word = |at: usize| hex8(get(line, at)?);
            let l = [word(a)?, word(a + 8)?, word(a + 16)?, word(a + 24)?];
            let r = a + w + 6;
            let r = [word(r)?, word(r + 8)?, word(r + 16)?, word(r + 24)?];
            (ipv6(l).into(), ipv6(r).into())
        }
    };
    // Separators of the fixed part, relative to the end of the local address.
    let b = a + w;
    let separators = [
        (b, b':'),
        (b + 5, b' '),
        (b + w + 6, b':'),
        (b + w + 11, b' '),
        (b + w + 14, b' '),
        (b + w + 23, b':'),
        (b + w + 32, b' '),
        (b + w + 35, b':'),
    ];
    for (at, byte) in separators {
        if *line.get(at)? != byte {
            return None;
        }
    }
    let local_port = hex4(get(line, b + 1)?)?;
    let remote_port = hex4(get(line, b + w + 7)?)?;
    let c = b + w + 12;
    let state = TcpState::from_code((hex_digit(line[c])? << 4) | hex_digit(line[c + 1])?)?;
    let tx_queue = hex8(get(line, c + 3)?)?;
    let rx_queue = hex8(get(line, c + 12)?)?;
    let timer = TimerKind::from_code((hex_digit(line[c + 21])? << 4) | hex_digit(line[c + 22])?);
    // tm->when: at least eight digits, more for large values.
    let mut at = c + 24;
    let mut timer_expires = hex8(get(line, at)?)? as u64;
    at += 8;
    while let Some(d) = line.get(at).and_then(|&b| hex_digit(b)) {
        if at - (c + 24) >= 16 {
            return None;
        }
        timer_expires = (timer_expires << 4) | d as u64;
        at += 1;
    }
    if get::<1>(line, at)? != [b' '] {
        return None;
    }
    let retransmits = hex8(get(line, at + 1)?)?;
    at += 9;
    if *line.get(at)? != b' ' {
        return None;
    }
    let uid = fast_decimal(line, &mut at, 9)? as u32;
    if *line.get(at)? != b' ' {
        return None;
    }
    while *line.get(at)? == b' ' {
        at += 1;
    }
    let negative = line[at] == b'-';
    at += negative as usize;
    let magnitude = fast_decimal(line, &mut at, 9)? as i32;
    let timeout = if negative { -magnitude } else { magnitude };
    if *line.get(at)? != b' ' {
        return None;
    }
    let inode = fast_decimal(line, &mut at, 19)?;
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
fn trailing(line: &[u8], at: usize) -> Option<&str> {
    let rest = &line[at..];
    match rest.first() {
        None => return Some(""),
        Some(b) if b.is_ascii_whitespace() => {}
        Some(_) => return None,
    }
    let rest = rest.trim_ascii();
    if !rest.is_ascii() {
        return None;
    }
    std::str::from_utf8(rest).ok()
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
    if !rest.is_ascii() {
        return Err(ParseError::NotText {
            line: line_no,
            text: Snippet::new(rest),
        });
    }
    let trailing = std::str::from_utf8(rest).unwrap_or_default();
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
    fn non_ascii_trailing_is_an_error() {
        let line = "0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 0 \u{e9}".as_bytes();
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
