//! Radix sort of aggregation records by address.
//!
//! The prefix trees are fed each source once, in address order: sources
//! then come as runs, and every prefix's node is the last one made at its
//! level, so feeding needs no hashing (see [`crate::prefix_tree`]). This
//! module puts a snapshot's packed records in that order, for any number of
//! records and any spread of addresses, IPv4 or IPv6.
//!
//! Only the key bits that differ between the records are sorted on. The
//! first pass distributes the records by their top (at most) 8 varying bits
//! into their final ranges: a scatter into few enough streams to run at
//! memory speed (when at most 11 bits vary, one pass sorts them all). Each
//! range, small enough for the cache for big tables, is then sorted in
//! place through a scratch buffer: it finds its own varying bits, takes a
//! digit that leaves about two records per bucket (at most 11 bits), sorts
//! the buckets still big the same way, and one insertion pass over the
//! range finishes the small ones (no record moves past its bucket).
//!
//! The sort is stable, and it counts the distinct keys on the way.

/// An integer key records are sorted by.
pub(crate) trait Key: Copy + Ord {
    /// Width of the key in bits.
    const BITS: u32;
    /// Bits set in both.
    fn and(self, o: Self) -> Self;
    /// Bits set in either.
    fn or(self, o: Self) -> Self;
    /// Bits set in exactly one.
    fn xor(self, o: Self) -> Self;
    /// True when no bit is set.
    fn is_zero(self) -> bool;
    /// Zero bits above the highest set one.
    fn leading_zeros(self) -> u32;
    /// Zero bits below the lowest set one.
    fn trailing_zeros(self) -> u32;
    /// The `width` (at most 16) bits from bit `shift` up.
    fn digit(self, shift: u32, width: u32) -> usize;
}

macro_rules! key {
    ($t:ty) => {
        impl Key for $t {
            const BITS: u32 = <$t>::BITS;
            #[inline]
            fn and(self, o: Self) -> Self {
                self & o
            }
            #[inline]
            fn or(self, o: Self) -> Self {
                self | o
            }
            #[inline]
            fn xor(self, o: Self) -> Self {
                self ^ o
            }
            #[inline]
            fn is_zero(self) -> bool {
                self == 0
            }
            #[inline]
            fn leading_zeros(self) -> u32 {
                <$t>::leading_zeros(self)
            }
            #[inline]
            fn trailing_zeros(self) -> u32 {
                <$t>::trailing_zeros(self)
            }
            #[inline]
            fn digit(self, shift: u32, width: u32) -> usize {
                (self >> shift) as usize & ((1 << width) - 1)
            }
        }
    };
}

key!(u32);
key!(u128);

/// Widest digit that finishes a range in one pass (2048 buckets).
const FINISH_BITS: u32 = 11;
/// Digit of a pass that leaves bits to sort (256 buckets).
const SPLIT_BITS: u32 = 8;
/// Ranges up to this long are sorted by comparison.
const SMALL: usize = 16;

/// `records` sorted by `key` (stable), and the number of distinct keys.
pub(crate) fn sorted<T, K>(records: &[T], key: impl Fn(&T) -> K + Copy) -> (Vec<T>, usize)
where
    T: Copy + Default,
    K: Key,
{
    let Some(first) = records.first() else {
        return (Vec::new(), 0);
    };
    let varying = varying(first, records, key);
    if varying.is_zero() {
        return (records.to_vec(), 1);
    }
    let low = varying.trailing_zeros();
    let hi = K::BITS - varying.leading_zeros();
    let width = digit_width(hi - low);
    let shift = hi - width;
    let mut starts = vec![0usize; (1 << width) + 1];
    for r in records {
        starts[key(r).digit(shift, width) + 1] += 1;
    }
    let distinct_here = starts.iter().filter(|&&c| c > 0).count();
    prefix_sums(&mut starts);
    let mut out = vec![T::default(); records.len()];
    let ends = &mut starts[..1 << width];
    scatter(records, &mut out, ends, |r| key(r).digit(shift, width));
    if width == hi - low {
        return (out, distinct_here);
    }
    let mut scratch = Vec::new();
    let mut counts = Vec::new();
    let mut distinct = 0;
    let mut start = 0;
    for &end in ends.iter() {
        if end > start {
            let range = &mut out[start..end];
            distinct += sort_range(range, &mut scratch, &mut counts, key);
        }
        start = end;
    }
    (out, distinct)
}

/// The key bits that differ between `records` (`first` among them).
fn varying<T, K: Key>(first: &T, records: &[T], key: impl Fn(&T) -> K) -> K {
    let k0 = key(first);
    let (all, any) = records.iter().fold((k0, k0), |(a, o), r| {
        let k = key(r);
        (a.and(k), o.or(k))
    });
    all.xor(any)
}

/// The digit of the first pass for `bits` left to sort: all of them when
/// one pass can take them, else a split into at most 256 streams.
fn digit_width(bits: u32) -> u32 {
    if bits <= FINISH_BITS {
        bits
    } else {
        SPLIT_BITS
    }
}

/// Turns bucket sizes, shifted up by one slot, into bucket starts.
fn prefix_sums(starts: &mut [usize]) {
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
}

/// Moves `from` into `to` by bucket, keeping the order within a bucket:
/// `next` holds each bucket's start, and then its end.
#[inline]
fn scatter<T: Copy>(from: &[T], to: &mut [T], next: &mut [usize], digit: impl Fn(&T) -> usize) {
    for r in from {
        let d = digit(r);
        to[next[d]] = *r;
        next[d] += 1;
    }
}

/// Sorts `records` by key (stable) and returns the number of distinct
/// keys. `scratch` and `counts` are buffers reused between calls.
///
/// The range is in cache: it first finds which of its key bits differ, then
/// sorts on the top ones by a digit wide enough to leave about two records
/// per bucket (at most 11 bits), and the buckets the same way.
fn sort_range<T, K>(
    records: &mut [T],
    scratch: &mut Vec<T>,
    counts: &mut Vec<usize>,
    key: impl Fn(&T) -> K + Copy,
) -> usize
where
    T: Copy + Default,
    K: Key,
{
    if records.len() <= SMALL {
        insertion_sort(records, key);
        return distinct(records, key);
    }
    let varying = varying(&records[0], records, key);
    if varying.is_zero() {
        return 1;
    }
    let low = varying.trailing_zeros();
    let hi = K::BITS - varying.leading_zeros();
    let fit = usize::BITS - (records.len() / 2).leading_zeros();
    let width = (hi - low).min(fit).min(FINISH_BITS);
    let shift = hi - width;
    let buckets = 1 << width;
    let digit = |r: &T| key(r).digit(shift, width);
    let at = counts.len();
    counts.resize(at + buckets + 1, 0);
    for r in records.iter() {
        counts[at + digit(r) + 1] += 1;
    }
    prefix_sums(&mut counts[at..]);
    if scratch.len() < records.len() {
        scratch.resize(records.len(), T::default());
    }
    let moved = &mut scratch[..records.len()];
    scatter(records, moved, &mut counts[at..at + buckets], digit);
    records.copy_from_slice(moved);
    // Big buckets are sorted on; the small ones (about two records each
    // for random keys) are left for one insertion pass over the range,
    // which moves no record past its bucket.
    let mut start = 0;
    for b in 0..buckets {
        let end = counts[at + b];
        if end - start > SMALL && width < hi - low {
            sort_range(&mut records[start..end], scratch, counts, key);
        }
        start = end;
    }
    counts.truncate(at);
    if width < hi - low {
        insertion_sort(records, key);
    }
    distinct(records, key)
}

/// Stable insertion sort: linear on records that are nearly in order.
fn insertion_sort<T: Copy, K: Key>(records: &mut [T], key: impl Fn(&T) -> K) {
    for i in 1..records.len() {
        let r = records[i];
        let k = key(&r);
        let mut j = i;
        while j > 0 && key(&records[j - 1]) > k {
            records[j] = records[j - 1];
            j -= 1;
        }
        records[j] = r;
    }
}

/// Distinct keys of sorted records.
fn distinct<T, K: Key>(sorted: &[T], key: impl Fn(&T) -> K) -> usize {
    let mut n = 0;
    let mut prev = None;
    for r in sorted {
        let k = Some(key(r));
        if k != prev {
            n += 1;
            prev = k;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn oracle<T: Copy, K: Key>(records: &[T], key: impl Fn(&T) -> K + Copy) -> (Vec<T>, usize) {
        let mut want = records.to_vec();
        want.sort_by_key(key);
        let n = distinct(&want, key);
        (want, n)
    }

    proptest! {
        /// IPv4 records (address in the high 32 bits) come out as the
        /// standard stable sort puts them, with the distinct count, for
        /// addresses anywhere, sharing a prefix, or in few values.
        #[test]
        fn ipv4_records_sort_like_the_standard_sort(
            mut records in proptest::collection::vec(any::<u64>(), 0..5000),
            shape in 0u8..4,
        ) {
            for r in &mut records {
                *r = match shape {
                    0 => *r,
                    1 => (*r & 0x0001_FFFF_FFFF_FFFF) | 0xC612_0000_0000_0000,
                    2 => (*r & 0x0000_0007_0000_FFFF) | 0xC612_0500_0000_0000,
                    _ => *r & 0xFF00_00FF_0000_00FF,
                };
            }
            let key = |r: &u64| (r >> 32) as u32;
            prop_assert_eq!(sorted(&records, key), oracle(&records, key));
        }

        /// IPv6 records likewise, for spread and for clustered keys whose
        /// varying bits are far apart.
        #[test]
        fn ipv6_records_sort_like_the_standard_sort(
            records in proptest::collection::vec((any::<u128>(), any::<u32>()), 0..3000),
            mask in any::<u128>(),
            base in any::<u128>(),
            sparse in any::<bool>(),
        ) {
            // Sparse: about 8 varying bits, far apart.
            let mask = if sparse { mask & (mask >> 7) & (mask >> 13) & (mask >> 29) } else { mask };
            let records: Vec<(u128, u32)> = records
                .into_iter()
                .map(|(a, t)| ((a & mask) | (base & !mask), t))
                .collect();
            let key = |r: &(u128, u32)| r.0;
            prop_assert_eq!(sorted(&records, key), oracle(&records, key));
        }
    }

    #[test]
    fn empty_and_uniform_inputs() {
        let key = |r: &u64| (r >> 32) as u32;
        assert_eq!(sorted::<u64, u32>(&[], key), (Vec::new(), 0));
        let same = vec![0xC612_0001_0000_0003u64; 100];
        assert_eq!(sorted(&same, key), (same.clone(), 1));
    }
}
