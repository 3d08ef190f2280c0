//! The hasher of the tree's hash indexes: integer keys, random seeds.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};

/// Folded-multiply hasher for the tree's integer keys (the mixing step of
/// foldhash and ahash): the 128-bit product of the key's two halves, each
/// mixed with a secret seed, high and low halves xored, so every key bit
/// reaches the bucket index and the control byte. Prefixes are
/// attacker-chosen: the seeds are random per map (from std's `RandomState`),
/// so colliding keys cannot be prepared in advance.
#[derive(Clone, Copy)]
pub(crate) struct PrefixHasher {
    state: u64,
    seed: u64,
}

/// Builds [`PrefixHasher`]s with random seeds, fresh per map.
#[derive(Clone, Copy)]
pub(crate) struct SeededState {
    s0: u64,
    s1: u64,
}

impl Default for SeededState {
    fn default() -> SeededState {
        let random = RandomState::new();
        SeededState {
            s0: random.hash_one(0x5EED_u64),
            s1: random.hash_one(0x0005_EED1_u64) | 1,
        }
    }
}

impl BuildHasher for SeededState {
    type Hasher = PrefixHasher;
    #[inline]
    fn build_hasher(&self) -> PrefixHasher {
        PrefixHasher {
            state: self.s0,
            seed: self.s1,
        }
    }
}

#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

impl Hasher for PrefixHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.state
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.state = fold_mul(self.state ^ i, self.seed);
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    #[inline]
    fn write_u128(&mut self, i: u128) {
        let lo = i as u64;
        let hi = (i >> 64) as u64;
        self.state = fold_mul(self.state ^ lo, self.seed ^ hi);
    }
}

/// A hash map keyed by integers, hashed by [`PrefixHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, SeededState>;
