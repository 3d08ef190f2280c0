//! Decoding one row: a fast path for the kernel's fixed-width layout and a
//! general path that accepts any spacing and names what is wrong.
//!
//! The kernel prints every column up to `tm->when` at a fixed width, right
//! after the slot's colon (`"%4d: %08X:%04X %08X:%04X %02X %08X:%08X
//! %02X:%08lX %08X %5u %8d %lu ..."`). The fast path checks every byte of that
//! fixed part against the layout (with SSE2 on x86_64, in `sse2.rs`; a
//! portable SWAR version elsewhere) and decodes the columns without checking
//! again. Any row that breaks the pattern is decoded by the general path,
//! which splits on whitespace; only the general path reports errors, and the
//! fast path takes only rows the general path decodes the same way.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::digits::{dec_i32, dec_u64, hex_u64, NumberError};
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
        Some((entry, _)) => Ok(entry),
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

/// The IPv4 address of a table word (host byte order, as printed).
#[inline(always)]
pub(crate) fn ipv4(word: u32) -> Ipv4Addr {
    Ipv4Addr::from(word.to_ne_bytes())
}

/// The IPv6 address of four table words.
#[inline(always)]
pub(crate) fn ipv6(words: [u32; 4]) -> Ipv6Addr {
    let mut octets = [0u8; 16];
    for (chunk, word) in octets.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    Ipv6Addr::from(octets)
}

/// The fast path: decodes the row at the start of `buf` if it has the
/// kernel's fixed-width layout, and returns it with the length of its line
/// (up to the first newline, or all of `buf`). `None` defers to [`general`],
/// which gives the same entry for every row this accepts.
#[inline(always)]
pub(crate) fn fast(buf: &[u8], family: Family) -> Option<(TcpEntry<'_>, usize)> {
    #[cfg(target_arch = "x86_64")]
    {
        super::sse2::row(buf, family)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let end = memchr::memchr(b'\n', buf).unwrap_or(buf.len());
        super::swar::row(&buf[..end], family).map(|entry| (entry, end))
    }
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
    use proptest::prelude::*;

    use super::super::{strategies, swar};
    use super::*;

    const V4_LISTEN: &[u8] = b"   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000080 00:00000000 00000000   116        0 12345 1 0000000000000000 100 0 0 10 0";
    const V6_REQ: &[u8] = b"  12: 000080FE00000000FF000000525412FE:01BB B80D0120000000000000000005001200:0050 03 00000000:00000000 01:0000012C 00000003  1000        0 0 0 0000000000000000";

    #[test]
    fn fast_and_general_agree_on_kernel_rows() {
        for (line, family) in [(V4_LISTEN, Family::V4), (V6_REQ, Family::V6)] {
            let g = general(line, 1, family).unwrap();
            let (f, end) = fast(line, family).expect("fast path takes kernel rows");
            assert_eq!((f, end), (g, line.len()));
            assert_eq!(swar::row(line, family), Some(g));
        }
    }

    /// What the fast paths may answer for `buf`, whose first line is
    /// `line`: nothing, or what the general path gives, with the line's end.
    fn check_fast(buf: &[u8], family: Family) -> Result<(), TestCaseError> {
        let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
        let line = &buf[..end];
        let general = general(line, 1, family);
        if let Some((entry, found)) = fast(buf, family) {
            prop_assert_eq!(Ok(entry), general.clone(), "{}", line.escape_ascii());
            prop_assert_eq!(found, end);
        }
        if let Some(entry) = swar::row(line, family) {
            prop_assert_eq!(Ok(entry), general, "{}", line.escape_ascii());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn fast_paths_take_kernel_rows_as_the_general_path(
            family in prop::sample::select(Family::BOTH.to_vec()),
            entries in prop::collection::vec(strategies::entry(Family::V4), 2),
            v6 in prop::collection::vec(strategies::entry(Family::V6), 2),
        ) {
            let entries = if family == Family::V4 { entries } else { v6 };
            let line = strategies::line(&entries[0]);
            prop_assert_eq!(general(&line, 1, family), Ok(entries[0]));
            // The line alone, then followed by its newline and another row.
            let mut buf = line.clone();
            buf.push(b'\n');
            buf.extend(strategies::line(&entries[1]));
            for buf in [&line[..], &buf[..]] {
                check_fast(buf, family)?;
                if strategies::fixed_width(&entries[0]) {
                    prop_assert_eq!(fast(buf, family), Some((entries[0], line.len())));
                    prop_assert_eq!(swar::row(&line, family), Some(entries[0]));
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn fast_paths_defer_or_agree_on_damaged_rows(
            v4 in strategies::entry(Family::V4),
            v6 in strategies::entry(Family::V6),
            extra in any::<u8>(),
        ) {
            for (entry, family) in [(v4, Family::V4), (v6, Family::V6)] {
                let line = strategies::line(&entry);
                for damaged in strategies::damaged(&line, extra) {
                    check_fast(&damaged, family)?;
                    let mut buf = damaged.clone();
                    buf.extend_from_slice(b"\n   1: ");
                    check_fast(&buf, family)?;
                }
            }
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
