//! The fast path on x86_64.
//!
//! SSE2, which every x86_64 CPU has, checks each byte of a row's fixed-width
//! part against the kernel's layout sixteen bytes at a time: a hex digit, a
//! separator, or a digit or padding space where the kernel prints `%5u` and
//! `%8d`. The columns are then decoded without checking again (hex and
//! decimal eight digits at a time in a `u64`, IPv6 addresses in SSE2
//! registers). The row's end is found in the same pass that checks its
//! trailing text, so no separate search for the newline runs: an IPv4 row
//! costs one pass over its 150 bytes.
//!
//! Rows that break the pattern get `None` and go to the general path:
//! lower-case hex, tabs, slots of more than eight digits, uids of more than
//! five, negative timeouts, inodes of more than 15 digits, and trailing text
//! with control characters or non-ASCII bytes.

use std::arch::x86_64::{
    __m128i, _mm_add_epi8, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8,
    _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_packus_epi16, _mm_set1_epi16,
    _mm_set1_epi8, _mm_shufflehi_epi16, _mm_shufflelo_epi16, _mm_slli_epi16, _mm_srli_epi16,
    _mm_storeu_si128,
};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use super::entry::{Family, TcpEntry, TcpState, TimerKind};
use super::row::ipv4;

/// Decodes the row at the start of `buf`; see [`super::row::fast`].
#[inline(always)]
pub(crate) fn row(buf: &[u8], family: Family) -> Option<(TcpEntry<'_>, usize)> {
    match family {
        Family::V4 => fixed::<8, 85, 6>(buf, &V4),
        Family::V6 => fixed::<32, 133, 9>(buf, &V6),
    }
}

/// Sixteen bytes in an SSE2 register.
#[derive(Clone, Copy)]
struct Lanes(__m128i);

// Every intrinsic here needs only SSE2, which x86_64 always enables. Those
// without pointers are safe to call since Rust 1.87 and `unsafe` before it;
// the blocks keep the crate building on both.
#[allow(unsafe_code, unused_unsafe)]
impl Lanes {
    /// `bytes[at..at + 16]`.
    #[inline(always)]
    fn load(bytes: &[u8], at: usize) -> Lanes {
        let chunk = &bytes[at..at + 16];
        // SAFETY: `chunk` is 16 readable bytes, and the load has no
        // alignment requirement.
        Lanes(unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) })
    }

    /// The sixteen bytes of `bytes` into the 16-byte `out`.
    #[inline(always)]
    fn store(self, out: &mut [u8; 16]) {
        // SAFETY: `out` is 16 writable bytes, and the store has no alignment
        // requirement.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), self.0) }
    }

    #[inline(always)]
    fn splat(byte: u8) -> Lanes {
        // SAFETY: SSE2 only (see above).
        Lanes(unsafe { _mm_set1_epi8(byte as i8) })
    }

    /// 0xFF where the bytes are equal.
    #[inline(always)]
    fn eq(self, other: Lanes) -> Lanes {
        // SAFETY: SSE2 only (see above).
        Lanes(unsafe { _mm_cmpeq_epi8(self.0, other.0) })
    }

    /// 0xFF where `self`'s byte is smaller, both taken as signed.
    #[inline(always)]
    fn lt(self, other: Lanes) -> Lanes {
        // SAFETY: SSE2 only (see above).
        Lanes(unsafe { _mm_cmplt_epi8(self.0, other.0) })
    }

    /// 0xFF where `self`'s byte is greater, both taken as signed.
    #[inline(always)]
    fn gt(self, other: Lanes) -> Lanes {
        // SAFETY: SSE2 only (see above).
        Lanes(unsafe { _mm_cmpgt_epi8(self.0, other.0) })
    }

    /// Bytewise wrapping sum.
    #[inline(always)]
    fn add(self, other: Lanes) -> Lanes {
        // SAFETY: SSE2 only (see above).
        Lanes(unsafe { _mm_add_epi8(self.0, other.0) })
    }

    #[inline(always)]
    fn and(self, other: Lanes) -> Lanes {
        // SAFETY: SSE2 only (see above).
        Lanes(unsafe { _mm_and_si128(self.0, other.0) })
    }

    #[inline(always)]
    fn or(self, other: Lanes) -> Lanes {
        // SAFETY: SSE2 only (see above).
        Lanes(unsafe { _mm_or_si128(self.0, other.0) })
    }

    /// The high bit of every byte, byte 0 in bit 0.
    #[inline(always)]
    fn mask(self) -> u32 {
        // SAFETY: SSE2 only (see above).
        unsafe { _mm_movemask_epi8(self.0) as u32 }
    }

    /// The hex pairs of sixteen digit values (one per byte, first digit
    /// most significant), one per 16-bit lane, each group of four lanes
    /// reversed: ready to pack into the bytes of four host-order words.
    #[inline(always)]
    fn hex_pairs_reversed(self) -> Lanes {
        // SAFETY: SSE2 only (see above).
        unsafe {
            let high = _mm_slli_epi16::<4>(self.0);
            let low = _mm_srli_epi16::<8>(self.0);
            let pairs = _mm_and_si128(_mm_or_si128(high, low), _mm_set1_epi16(0xFF));
            // Lanes 3, 2, 1, 0 of each half.
            Lanes(_mm_shufflehi_epi16::<0x1B>(_mm_shufflelo_epi16::<0x1B>(
                pairs,
            )))
        }
    }

    /// The low bytes of the 16-bit lanes of `self` then `other`.
    #[inline(always)]
    fn pack(self, other: Lanes) -> Lanes {
        // SAFETY: SSE2 only (see above).
        Lanes(unsafe { _mm_packus_epi16(self.0, other.0) })
    }

    /// 0xFF for the ASCII digits.
    #[inline(always)]
    fn digits(self) -> Lanes {
        // '0'..='9' moves to -128..=-119, everything else above.
        self.add(Lanes::splat(0x80 - b'0')).lt(Lanes::splat(0x8A))
    }

    /// 0xFF for the upper-case hex digits.
    #[inline(always)]
    fn upper_hex(self) -> Lanes {
        // 'A'..='F' moves to -128..=-123, everything else above.
        let letters = self.add(Lanes::splat(0x80 - b'A')).lt(Lanes::splat(0x86));
        self.digits().or(letters)
    }

    /// The value of each byte, an upper-case hex digit.
    #[inline(always)]
    fn hex_values(self) -> Lanes {
        let letter = self.gt(Lanes::splat(b'9')).and(Lanes::splat(9));
        self.and(Lanes::splat(0x0F)).add(letter)
    }
}

/// The fixed part of a row, from the first digit of the local address to
/// the space before `inode`: `H` an upper-case hex digit, `d` a digit or the
/// padding space of a right-aligned decimal column (`uid`, `timeout`), any
/// other byte itself.
const V4_PATTERN: &[u8; 85] =
    b"HHHHHHHH:HHHH HHHHHHHH:HHHH HH HHHHHHHH:HHHHHHHH HH:HHHHHHHH HHHHHHHH ddddd dddddddd ";
const V6_PATTERN: &[u8; 133] = b"HHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHH:HHHH HHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHH:HHHH HH HHHHHHHH:HHHHHHHH HH:HHHHHHHH HHHHHHHH ddddd dddddddd ";

const V4: Layout<6> = Layout::new(V4_PATTERN);
const V6: Layout<9> = Layout::new(V6_PATTERN);

/// A pattern cut into `C` blocks of 16 bytes (the last one overlapping its
/// predecessor), as the masks the checks use.
struct Layout<const C: usize> {
    /// Where each block starts.
    at: [usize; C],
    /// The byte each position must equal: separators, and a space in the
    /// decimal columns.
    byte: [[u8; 16]; C],
    /// 0xFF where a byte equal to `byte` is right.
    literal: [[u8; 16]; C],
    /// 0xFF where an upper-case hex digit is right.
    hex: [[u8; 16]; C],
    /// The decimal columns, as bits of the last block.
    decimal: u32,
    /// The first position of each decimal column, as bits of the last block.
    decimal_first: u32,
}

impl<const C: usize> Layout<C> {
    const fn new(pattern: &[u8]) -> Layout<C> {
        assert!(C * 16 >= pattern.len() && (C - 1) * 16 < pattern.len());
        let mut layout = Layout {
            at: [0; C],
            byte: [[0; 16]; C],
            literal: [[0; 16]; C],
            hex: [[0; 16]; C],
            decimal: 0,
            decimal_first: 0,
        };
        let mut c = 0;
        while c < C {
            let at = if c + 1 < C {
                c * 16
            } else {
                pattern.len() - 16
            };
            layout.at[c] = at;
            let mut i = 0;
            while i < 16 {
                let class = pattern[at + i];
                if class == b'H' {
                    layout.hex[c][i] = 0xFF;
                } else {
                    layout.literal[c][i] = 0xFF;
                    if class == b'd' {
                        layout.byte[c][i] = b' ';
                        // Digits pass as hex here; the check of the columns in
                        // the last block takes the rest.
                        layout.hex[c][i] = 0xFF;
                        if c + 1 == C {
                            layout.decimal |= 1 << i;
                            if pattern[at + i - 1] != b'd' {
                                layout.decimal_first |= 1 << i;
                            }
                        }
                    } else {
                        layout.byte[c][i] = class;
                    }
                }
                i += 1;
            }
            c += 1;
        }
        // Every decimal column lies whole in the last block.
        let mut i = 0;
        while i < pattern.len() {
            assert!(pattern[i] != b'd' || i > pattern.len() - 16);
            i += 1;
        }
        layout
    }
}

/// The row at the start of `buf` whose addresses have `W` hex digits and
/// whose fixed part (`L` bytes) `layout` describes.
#[inline(always)]
fn fixed<'a, const W: usize, const L: usize, const C: usize>(
    buf: &'a [u8],
    layout: &Layout<C>,
) -> Option<(TcpEntry<'a>, usize)> {
    let (slot, a) = slot(buf.get(..16)?)?;
    let f: &[u8; L] = buf.get(a..a + L)?.try_into().ok()?;

    // Every byte of the fixed part in its class.
    let mut ok = Lanes::splat(0xFF);
    let mut last = (ok, ok);
    for c in 0..C {
        let v = Lanes::load(f, layout.at[c]);
        let literal = v.eq(Lanes::load(&layout.byte[c], 0));
        let good = literal
            .and(Lanes::load(&layout.literal[c], 0))
            .or(v.upper_hex().and(Lanes::load(&layout.hex[c], 0)));
        ok = ok.and(good);
        last = (v, literal);
    }
    if ok.mask() != 0xFFFF {
        return None;
    }
    // The decimal columns: spaces, then at least one digit. Adding each
    // column's first bit to its spaces carries through them onto the first
    // digit; any other space, or a carry out of the column, is left over.
    let (v, literal) = last;
    let spaces = literal.mask() & layout.decimal;
    let digits = v.digits().mask() & layout.decimal;
    if spaces | digits != layout.decimal || (spaces + layout.decimal_first) & !digits != 0 {
        return None;
    }

    let d = 2 * (W - 8);
    let r = W + 6;
    let (local_ip, remote_ip): (IpAddr, IpAddr) = if W == 8 {
        (ipv4(hex8(word(f, 0))).into(), ipv4(hex8(word(f, r))).into())
    } else {
        (ipv6(f, 0).into(), ipv6(f, r).into())
    };
    let local_port = hex4(f, W + 1);
    let remote_port = hex4(f, r + W + 1);
    let state = TcpState::from_code(hex2(f, 28 + d))?;
    let tx_queue = hex8(word(f, 31 + d));
    let rx_queue = hex8(word(f, 40 + d));
    let timer = TimerKind::from_code(hex2(f, 49 + d));
    let timer_expires = hex8(word(f, 52 + d)) as u64;
    let retransmits = hex8(word(f, 61 + d));
    // uid: the five bytes that end at 75 + d.
    let uid = decimal8(word(f, 67 + d) & !0xFF_FFFF) as u32;
    let timeout = decimal8(word(f, 76 + d)) as i32;
    let (inode, trailing, end) = tail(buf, a + L)?;
    let entry = TcpEntry {
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
    };
    Some((entry, end))
}

/// The slot (`"%4d: "`, right-aligned, at most eight digits) from the first
/// 16 bytes of a row, and where the local address starts.
#[inline(always)]
fn slot(head: &[u8]) -> Option<(u32, usize)> {
    let v = Lanes::load(head, 0);
    let colon = v.eq(Lanes::splat(b':')).mask();
    let spaces = v.eq(Lanes::splat(b' ')).mask();
    let digits = v.digits().mask();
    let at = colon.trailing_zeros() as usize;
    if !(1..=8).contains(&at) {
        return None;
    }
    let before = (1u32 << at) - 1;
    let lead = spaces & before;
    // Spaces then digits up to the colon, at least one digit, then a space.
    if (lead | digits) & before != before || lead & (lead + 1) != 0 || lead == before {
        return None;
    }
    if spaces >> (at + 1) & 1 == 0 {
        return None;
    }
    let x = u64::from_le_bytes(head[..8].try_into().ok()?) << (8 * (8 - at));
    Some((decimal8(x) as u32, at + 2))
}

/// The eight bytes at `at` as a little-endian word: the first in the low byte.
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u64 {
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(out)
}

/// The value of eight upper-case hex digits (checked before), the first in
/// the low byte of `x`.
#[inline(always)]
fn hex8(x: u64) -> u32 {
    // Digits have bit 6 clear, 'A'..='F' set: those get 9 more than their
    // low nibble.
    let n = (x & 0x0F0F_0F0F_0F0F_0F0F) + ((x >> 6) & 0x0101_0101_0101_0101) * 9;
    // Pairs into the even bytes, then bytes into the low 32 bits.
    let v = ((n << 4) | (n >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((v | (v >> 16)) as u32).swap_bytes()
}

/// The value of the four upper-case hex digits at `at` (checked before).
#[inline(always)]
fn hex4(bytes: &[u8], at: usize) -> u16 {
    let mut out = [0u8; 4];
    out.copy_from_slice(&bytes[at..at + 4]);
    let x = u32::from_le_bytes(out);
    let n = (x & 0x0F0F_0F0F) + ((x >> 6) & 0x0101_0101) * 9;
    let v = ((n << 4) | (n >> 8)) & 0x00FF_00FF;
    (((v & 0xFF) << 8) | (v >> 16)) as u16
}

/// The value of the two upper-case hex digits at `at` (checked before).
#[inline(always)]
fn hex2(bytes: &[u8], at: usize) -> u8 {
    let nibble = |b: u8| (b & 0x0F) + (b >> 6) * 9;
    (nibble(bytes[at]) << 4) | nibble(bytes[at + 1])
}

/// The value of up to eight decimal digits, the first in the low byte of
/// `x`; every other byte is a space or zero (their low nibble is 0).
#[inline(always)]
fn decimal8(x: u64) -> u64 {
    let v = x & 0x0F0F_0F0F_0F0F_0F0F;
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    (v.wrapping_mul(10_000) + (v >> 32)) & 0xFFFF_FFFF
}

/// The value of the `n` (1 to 15) decimal digits that end at `end`, which
/// is at least 16.
#[inline(always)]
fn decimal(bytes: &[u8], end: usize, n: usize) -> u64 {
    let low = word(bytes, end - 8);
    if n <= 8 {
        decimal8(low & (!0 << (8 * (8 - n))))
    } else {
        let high = word(bytes, end - 16) & (!0 << (8 * (16 - n)));
        decimal8(high) * 100_000_000 + decimal8(low)
    }
}

/// The IPv6 address of the 32 upper-case hex digits (checked before) at `at`.
#[inline(always)]
fn ipv6(bytes: &[u8], at: usize) -> Ipv6Addr {
    let first = Lanes::load(bytes, at).hex_values().hex_pairs_reversed();
    let second = Lanes::load(bytes, at + 16)
        .hex_values()
        .hex_pairs_reversed();
    let mut octets = [0u8; 16];
    first.pack(second).store(&mut octets);
    Ipv6Addr::from(octets)
}

/// Classes of 16 bytes of the tail of a row, one bit per byte.
#[derive(Clone, Copy)]
struct Block {
    digits: u32,
    spaces: u32,
    /// Bytes up to 0x20 and from 0x80: spaces, control bytes, non-ASCII.
    low: u32,
    /// Newlines, and the end of the buffer.
    ends: u32,
}

impl Block {
    #[inline(always)]
    fn of(v: Lanes) -> Block {
        Block {
            digits: v.digits().mask(),
            spaces: v.eq(Lanes::splat(b' ')).mask(),
            low: v.lt(Lanes::splat(0x21)).mask(),
            ends: v.eq(Lanes::splat(b'\n')).mask(),
        }
    }

    /// `buf[at..at + 16]`, where `16 <= buf.len()` and `at <= buf.len()`;
    /// the bytes past the end read as one end and nothing else.
    #[inline(always)]
    fn scan(buf: &[u8], at: usize) -> Block {
        if at + 16 <= buf.len() {
            return Block::of(Lanes::load(buf, at));
        }
        let valid = buf.len() - at;
        let b = Block::of(Lanes::load(buf, buf.len() - 16));
        let shift = 16 - valid as u32;
        Block {
            digits: b.digits >> shift,
            spaces: b.spaces >> shift,
            low: b.low >> shift,
            ends: (b.ends >> shift) | 1 << valid,
        }
    }
}

/// From `inode` (which starts at `at`) to the end of the line: the inode,
/// the trailing text without its padding, and where the line ends.
#[inline(always)]
#[allow(unsafe_code)]
fn tail(buf: &[u8], at: usize) -> Option<(u64, &str, usize)> {
    let mut block = Block::scan(buf, at);
    // The inode: 1 to 15 digits, then a space or the end of the line.
    let n = (!block.digits).trailing_zeros() as usize;
    if n == 0 || n > 15 || (block.spaces | block.ends) >> n & 1 == 0 {
        return None;
    }
    let inode_end = at + n;
    let inode = decimal(buf, inode_end, n);
    // Then, up to the line's end, only spaces and printable ASCII.
    let mut c = at;
    let mut text_end = inode_end;
    let end = loop {
        let odd = block.low & !block.spaces;
        let (before, end) = if block.ends == 0 {
            (0xFFFF, None)
        } else {
            let first = block.ends.trailing_zeros() as usize;
            ((1u32 << first) - 1, Some(c + first))
        };
        if odd & before != 0 {
            return None;
        }
        let text = !block.spaces & before;
        if text != 0 {
            text_end = c + 32 - text.leading_zeros() as usize;
        }
        if let Some(end) = end {
            break end;
        }
        c += 16;
        block = Block::scan(buf, c);
    };
    let mut start = inode_end;
    while start < text_end && buf[start] == b' ' {
        start += 1;
    }
    let text = &buf[start..text_end];
    // SAFETY: every byte from `inode_end` to `end` is a space or in
    // 0x21..=0x7F (`odd` was empty there), so `text` is ASCII, which is
    // valid UTF-8.
    let trailing = unsafe { std::str::from_utf8_unchecked(text) };
    Some((inode, trailing, end))
}
