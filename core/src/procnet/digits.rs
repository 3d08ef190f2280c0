//! Branch-light decoding of the fixed-width hex and the decimal columns.
//!
//! The kernel prints addresses, ports and queues as fixed-width upper-case
//! hex. The portable fast path validates and decodes eight digits at once in
//! a `u64` (SWAR: SIMD within a register); the general path decodes text of
//! any width and names what is wrong.

#[cfg(any(test, not(target_arch = "x86_64")))]
const ONES: u64 = 0x0101_0101_0101_0101;
#[cfg(any(test, not(target_arch = "x86_64")))]
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Bytes of `x` (each below 0x80) that are `>= n`, as their high bit.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline(always)]
fn at_least(x: u64, n: u8) -> u64 {
    ((x | HIGH) - ONES * n as u64) & HIGH
}

/// Bytes of `x` equal to `c`, as their high bit (bytes below 0x80).
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline(always)]
fn equal(x: u64, c: u8) -> u64 {
    at_least(x, c) & !at_least(x, c + 1)
}

/// Decodes eight upper-case ASCII hex digits, as the kernel prints them,
/// first digit most significant; `None` for anything else (lower case
/// included: the general path takes it).
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline(always)]
pub(crate) fn upper_hex8(bytes: [u8; 8]) -> Option<u32> {
    let x = u64::from_le_bytes(bytes);
    let digit = at_least(x, b'0') & !at_least(x, b'9' + 1);
    let letter = at_least(x, b'A') & !at_least(x, b'F' + 1);
    if (digit | letter) != HIGH || x & HIGH != 0 {
        return None;
    }
    let nibbles = (x & (ONES * 0x0F)) + (letter >> 7) * 9;
    // Byte i holds the nibble of digit i; fold pairs, then quads, then halves.
    let v = ((nibbles & 0x000F_000F_000F_000F) << 4) | ((nibbles >> 8) & 0x000F_000F_000F_000F);
    let v = ((v & 0x0000_00FF_0000_00FF) << 8) | ((v >> 16) & 0x0000_00FF_0000_00FF);
    Some((((v & 0xFFFF) << 16) | ((v >> 32) & 0xFFFF)) as u32)
}

/// Decodes four upper-case hex digits.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline(always)]
pub(crate) fn upper_hex4(bytes: [u8; 4]) -> Option<u16> {
    let [a, b, c, d] = bytes;
    upper_hex8([b'0', b'0', b'0', b'0', a, b, c, d]).map(|v| v as u16)
}

/// Decodes two upper-case hex digits.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline(always)]
pub(crate) fn upper_hex2(a: u8, b: u8) -> Option<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    Some((digit(a)? << 4) | digit(b)?)
}

/// Decodes a right-aligned unsigned decimal field of eight columns: spaces,
/// then at least one digit, nothing else.
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline(always)]
pub(crate) fn padded_decimal8(bytes: [u8; 8]) -> Option<u32> {
    let x = u64::from_le_bytes(bytes);
    // Root's uid and a zero timeout: the most common values by far.
    if x == u64::from_le_bytes(*b"       0") {
        return Some(0);
    }
    if x & HIGH != 0 {
        return None;
    }
    let spaces = equal(x, b' ');
    // The spaces must be a prefix (the low bytes), and not the whole field.
    let run = (spaces >> 7) * 0xFF;
    if run & run.wrapping_add(1) != 0 || spaces == HIGH {
        return None;
    }
    let x = x | (spaces >> 3); // ' ' (0x20) becomes '0' (0x30)
    let digit = at_least(x, b'0') & !at_least(x, b'9' + 1);
    if digit != HIGH {
        return None;
    }
    let v = x - ONES * b'0' as u64;
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    let v = v.wrapping_mul(10_000) + (v >> 32);
    Some(v as u32)
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
    number(text, max, 16, hex_digit)
}

/// Decodes unsigned decimal text up to `max`.
#[inline]
pub(crate) fn dec_u64(text: &[u8], max: u64) -> Result<u64, NumberError> {
    number(text, max, 10, |b| b.is_ascii_digit().then(|| b - b'0'))
}

/// Decodes text of at least one digit in `radix` up to `max`: a byte that
/// is not a digit is `Invalid` (even after an overflow), a value past `max`
/// or `u64` is `Overflow`.
#[inline]
fn number(
    text: &[u8],
    max: u64,
    radix: u64,
    digit: impl Fn(u8) -> Option<u8>,
) -> Result<u64, NumberError> {
    if text.is_empty() {
        return Err(NumberError::Invalid);
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for &b in text {
        let d = digit(b).ok_or(NumberError::Invalid)?;
        match value
            .checked_mul(radix)
            .and_then(|v| v.checked_add(d as u64))
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
    fn upper_hex8_matches_from_str_radix() {
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
            assert_eq!(upper_hex8(upper.as_bytes().try_into().unwrap()), Some(v));
        }
        assert_eq!(upper_hex8(*b"deadbeef"), None);
    }

    #[test]
    fn upper_hex8_rejects_every_other_byte_in_every_position() {
        for pos in 0..8 {
            for b in 0..=255u8 {
                let mut text = *b"01234567";
                text[pos] = b;
                let expect = b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
                assert_eq!(upper_hex8(text).is_some(), expect, "byte {b:#x} at {pos}");
            }
        }
    }

    #[test]
    fn padded_decimal8_takes_only_right_aligned_digits() {
        for v in [0u32, 7, 42, 116, 65534, 1_000_000, 99_999_999] {
            let text = format!("{v:8}");
            assert_eq!(
                padded_decimal8(text.as_bytes().try_into().unwrap()),
                Some(v),
                "{text:?}"
            );
        }
        for bad in [
            *b"        ",
            *b"   1 2 3",
            *b"  -1    ",
            *b"      -1",
            *b"1       ",
            *b"   12a34",
            *b"\t      1",
        ] {
            assert_eq!(
                padded_decimal8(bad),
                None,
                "{:?}",
                bad.escape_ascii().to_string()
            );
        }
        for pos in 0..8 {
            for b in 0..=255u8 {
                let mut text = *b"00000000";
                text[pos] = b;
                let expect = b.is_ascii_digit() || (b == b' ' && pos == 0);
                assert_eq!(
                    padded_decimal8(text).is_some(),
                    expect,
                    "byte {b:#x} at {pos}"
                );
            }
        }
    }

    #[test]
    fn hex4_and_numbers() {
        assert_eq!(upper_hex4(*b"01BB"), Some(443));
        assert_eq!(upper_hex4(*b"01BG"), None);
        assert_eq!(upper_hex2(b'0', b'A'), Some(10));
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
