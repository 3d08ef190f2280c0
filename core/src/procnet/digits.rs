//! Branch-light decoding of the fixed-width hex and the decimal columns.
//!
//! The kernel prints addresses, ports and queues as fixed-width upper-case
//! hex. Eight digits are validated and decoded at once in a `u64` (SWAR:
//! SIMD within a register), which is most of the parser's speed.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Bytes of `x` (each below 0x80) that are `>= n`, as their high bit.
#[inline(always)]
fn at_least(x: u64, n: u8) -> u64 {
    ((x | HIGH) - ONES * n as u64) & HIGH
}

/// Decodes eight ASCII hex digits (either case), first digit most
/// significant; `None` if any byte is not a hex digit.
#[inline(always)]
pub(crate) fn hex8(bytes: [u8; 8]) -> Option<u32> {
    let x = u64::from_le_bytes(bytes);
    if x & HIGH != 0 {
        return None;
    }
    let digit = at_least(x, b'0') & !at_least(x, b'9' + 1);
    let upper = at_least(x, b'A') & !at_least(x, b'F' + 1);
    let lower = at_least(x, b'a') & !at_least(x, b'f' + 1);
    let letter = upper | lower;
    if digit | letter != HIGH {
        return None;
    }
    let nibbles = (x & (ONES * 0x0F)) + (letter >> 7) * 9;
    // Byte i holds the nibble of digit i; fold pairs, then quads, then halves.
    let v = ((nibbles & 0x000F_000F_000F_000F) << 4) | ((nibbles >> 8) & 0x000F_000F_000F_000F);
    let v = ((v & 0x0000_00FF_0000_00FF) << 8) | ((v >> 16) & 0x0000_00FF_0000_00FF);
    Some((((v & 0xFFFF) << 16) | ((v >> 32) & 0xFFFF)) as u32)
}

/// Decodes four ASCII hex digits.
#[inline(always)]
pub(crate) fn hex4(bytes: [u8; 4]) -> Option<u16> {
    let [a, b, c, d] = bytes;
    hex8([b'0', b'0', b'0', b'0', a, b, c, d]).map(|v| v as u16)
}

/// The value of one ASCII hex digit (either case).
#[inline(always)]
pub(crate) fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Why a number column did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberError {
    /// Empty, or a byte that is not a digit.
    Invalid,
    /// Too large for the column.
    Overflow,
}

/// Decodes hex text of any length up to `max`.
#[inline]
pub(crate) fn hex_u64(text: &[u8], max: u64) -> Result<u64, NumberError> {
    if text.is_empty() {
        return Err(NumberError::Invalid);
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for &b in text {
        let d = hex_digit(b).ok_or(NumberError::Invalid)?;
        match value.checked_mul(16).and_then(|v| v.checked_add(d as u64)) {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if overflow || value > max {
        Err(NumberError::Overflow)
    } else {
        Ok(value)
    }
}

/// Decodes unsigned decimal text up to `max`.
#[inline]
pub(crate) fn dec_u64(text: &[u8], max: u64) -> Result<u64, NumberError> {
    if text.is_empty() {
        return Err(NumberError::Invalid);
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for &b in text {
        if !b.is_ascii_digit() {
            return Err(NumberError::Invalid);
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add((b - b'0') as u64))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if overflow || value > max {
        Err(NumberError::Overflow)
    } else {
        Ok(value)
    }
}

/// Decodes signed decimal text into an `i32`.
#[inline]
pub(crate) fn dec_i32(text: &[u8]) -> Result<i32, NumberError> {
    match text.split_first() {
        Some((b'-', digits)) => {
            let magnitude = dec_u64(digits, i32::MAX as u64 + 1)?;
            Ok((-(magnitude as i64)) as i32)
        }
        _ => dec_u64(text, i32::MAX as u64).map(|v| v as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex8_matches_from_str_radix_on_every_nibble_pattern() {
        for v in [
            0u32,
            1,
            0x0100_007F,
            0xFFFF_FFFF,
            0xDEAD_BEEF,
            0x1234_5678,
            0x8000_0000,
        ] {
            let upper = format!("{v:08X}");
            let lower = format!("{v:08x}");
            assert_eq!(hex8(upper.as_bytes().try_into().unwrap()), Some(v));
            assert_eq!(hex8(lower.as_bytes().try_into().unwrap()), Some(v));
        }
    }

    #[test]
    fn hex8_rejects_every_non_hex_byte_in_every_position() {
        for pos in 0..8 {
            for b in 0..=255u8 {
                let mut text = *b"01234567";
                text[pos] = b;
                let expect = hex_digit(b).is_some();
                assert_eq!(hex8(text).is_some(), expect, "byte {b:#x} at {pos}");
            }
        }
    }

    #[test]
    fn hex4_and_numbers() {
        assert_eq!(hex4(*b"01BB"), Some(443));
        assert_eq!(hex4(*b"01BG"), None);
        assert_eq!(hex_u64(b"FFFFFFFFFFFFFFFF", u64::MAX), Ok(u64::MAX));
        assert_eq!(
            hex_u64(b"1FFFFFFFFFFFFFFFF", u64::MAX),
            Err(NumberError::Overflow)
        );
        assert_eq!(hex_u64(b"", 1), Err(NumberError::Invalid));
        assert_eq!(dec_u64(b"4294967295", u32::MAX as u64), Ok(u32::MAX as u64));
        assert_eq!(
            dec_u64(b"4294967296", u32::MAX as u64),
            Err(NumberError::Overflow)
        );
        assert_eq!(dec_i32(b"-2147483648"), Ok(i32::MIN));
        assert_eq!(dec_i32(b"-2147483649"), Err(NumberError::Overflow));
        assert_eq!(dec_i32(b"-"), Err(NumberError::Invalid));
        assert_eq!(dec_i32(b"12a"), Err(NumberError::Invalid));
    }
}
