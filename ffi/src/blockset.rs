//! The TTL block set: `ho_blockset` (add, expire, release, allow, walk) and
//! `ho_sync_diff`, what changed since the firewall was last told.
//!
//! Time is the caller's: every call takes `now_ms`, milliseconds of a
//! monotonic clock the caller owns (`CLOCK_MONOTONIC`, `CLOCK_BOOTTIME`);
//! only differences between instants matter.

use std::ffi::c_char;
use std::time::Duration;

use halfopen::blockset::{Added, Block, BlockConfig, BlockSet, Millis, SyncDiff};
use std::path::Path;

use crate::error::{ho_result, Error};
use crate::handle;
use crate::report::{ho_report, parse_net};
use crate::table::ho_family;

/// The longest prefix text with its NUL (`"ffff:...:ffff/128"`).
pub const HO_PREFIX_TEXT_MAX: usize = 48;

/// The longest block reason with its NUL: core keeps at most 200 bytes.
pub const HO_REASON_MAX: usize = 256;

// Every reason core keeps fits, with its NUL.
const _: () = assert!(halfopen::blockset::MAX_REASON < HO_REASON_MAX);

/// The block set's settings, a plain value the caller owns: fill it with
/// `ho_block_config_default`, change fields, pass it to `ho_blockset_new`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ho_block_config {
    /// The TTL of a first block when the caller gives none (milliseconds).
    pub default_ttl_ms: u64,
    /// Each repeat offence within `strike_memory_ms` multiplies the TTL by
    /// this (0 and 1: no escalation).
    pub escalation_factor: u32,
    /// No block lasts longer (milliseconds).
    pub max_ttl_ms: u64,
    /// How long an ended block is remembered for escalation (milliseconds).
    pub strike_memory_ms: u64,
    /// The most blocks held; adding more is `HO_BLOCK_FULL`.
    pub capacity: usize,
    /// The most strike memories held; the oldest are forgotten first.
    pub memory_capacity: usize,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl From<&BlockConfig> for ho_block_config {
    fn from(c: &BlockConfig) -> Self {
        ho_block_config {
            default_ttl_ms: ms(c.default_ttl),
            escalation_factor: c.escalation_factor,
            max_ttl_ms: ms(c.max_ttl),
            strike_memory_ms: ms(c.strike_memory),
            capacity: c.capacity,
            memory_capacity: c.memory_capacity,
        }
    }
}

impl ho_block_config {
    /// The core settings (with an empty allowlist).
    pub(crate) fn to_core(self) -> BlockConfig {
        BlockConfig {
            default_ttl: Duration::from_millis(self.default_ttl_ms),
            escalation_factor: self.escalation_factor,
            max_ttl: Duration::from_millis(self.max_ttl_ms),
            strike_memory: Duration::from_millis(self.strike_memory_ms),
            capacity: self.capacity,
            memory_capacity: self.memory_capacity,
            allowlist: Vec::new(),
        }
    }
}

/// A set of blocked IPv4 and IPv6 prefixes, each until it expires, with
/// strikes and TTL escalation for repeat offenders. The prefixes are always
/// disjoint: a covering block absorbs those inside it.
///
/// Created by `ho_blockset_new` (or `ho_blockset_load`), freed by
/// `ho_blockset_free`. Every function that takes a non-const pointer
/// changes it: one thread at a time; const functions may run on several
/// threads at once while none changes it.
pub struct ho_blockset {
    set: BlockSet,
}

impl ho_blockset {
    /// The core set, for the other modules of the ABI.
    pub(crate) fn set(&self) -> &BlockSet {
        &self.set
    }
}

/// What adding a prefix did.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ho_added_kind {
    /// A new block (possibly absorbing blocks inside it).
    New = 0,
    /// The prefix was blocked already; its block now lasts longer.
    Extended = 1,
    /// A blocked prefix covers it; that block now lasts longer.
    Covered = 2,
}

/// The outcome of `ho_blockset_add`, filled in on success.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ho_added {
    /// What happened.
    pub kind: ho_added_kind,
    /// When the (new, extended or covering) block ends, on the caller's
    /// clock, in milliseconds.
    pub expires_ms: u64,
    /// For a new block, which offence it is (1 for the first); 0 otherwise.
    pub strikes: u32,
    /// For a new block, how many blocks it absorbed; 0 otherwise.
    pub absorbed: usize,
}

impl From<Added> for ho_added {
    fn from(a: Added) -> Self {
        match a {
            Added::New {
                expires,
                strikes,
                absorbed,
            } => ho_added {
                kind: ho_added_kind::New,
                expires_ms: expires.0,
                strikes,
                absorbed: absorbed.len(),
            },
            Added::Extended { expires } => ho_added {
                kind: ho_added_kind::Extended,
                expires_ms: expires.0,
                strikes: 0,
                absorbed: 0,
            },
            Added::Covered { expires, .. } => ho_added {
                kind: ho_added_kind::Covered,
                expires_ms: expires.0,
                strikes: 0,
                absorbed: 0,
            },
        }
    }
}

/// One block, copied out by `ho_blockset_block`: a plain value the caller
/// owns, with its strings inline.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ho_block {
    /// `HO_FAMILY_V4` or `HO_FAMILY_V6`.
    pub family: ho_family,
    /// The network address in network byte order (4 bytes for IPv4, the
    /// other 12 zero; 16 for IPv6).
    pub addr: [u8; 16],
    /// The prefix length in bits.
    pub prefix_len: u8,
    /// The prefix as NUL-terminated text (`"198.18.5.0/24"`).
    pub text: [c_char; HO_PREFIX_TEXT_MAX],
    /// Why it was blocked, NUL-terminated (at most 200 bytes of text).
    pub reason: [c_char; HO_REASON_MAX],
    /// When the block ends (caller's clock, milliseconds).
    pub expires_ms: u64,
    /// When the prefix was first seen in this block.
    pub first_seen_ms: u64,
    /// When the prefix (or one inside it) was last seen.
    pub last_seen_ms: u64,
    /// Which offence this block is: 1 for the first.
    pub strikes: u32,
}

fn fill<const N: usize>(text: &str) -> [c_char; N] {
    let mut out = [0 as c_char; N];
    let mut end = text.len().min(N - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    for (o, b) in out.iter_mut().zip(text.as_bytes()[..end].iter()) {
        *o = *b as c_char;
    }
    out
}

impl From<&Block> for ho_block {
    fn from(b: &Block) -> Self {
        let (family, addr) = match b.prefix.network() {
            std::net::IpAddr::V4(a) => {
                let mut out = [0; 16];
                out[..4].copy_from_slice(&a.octets());
                (ho_family::V4, out)
            }
            std::net::IpAddr::V6(a) => (ho_family::V6, a.octets()),
        };
        ho_block {
            family,
            addr,
            prefix_len: b.prefix.prefix_len(),
            text: fill(&b.prefix.to_string()),
            reason: fill(&b.reason.replace('\0', " ")),
            expires_ms: b.expires.0,
            first_seen_ms: b.first_seen.0,
            last_seen_ms: b.last_seen.0,
            strikes: b.strikes,
        }
    }
}

/// Fills `*out` with the default settings: 10 minutes TTL, doubling per
/// repeat offence up to 7 days, strikes remembered for a day, 65536 blocks.
///
/// Ownership: `*out` is the caller's. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_block_config_default(out: *mut ho_block_config) -> ho_result {
    ffi_fn! {
        check_out!(out);
        write_out!(out, ho_block_config::from(&BlockConfig::default()));
        Ok(())
    }
}

/// Stores a new, empty block set with the settings `*config` in `*out`.
///
/// Ownership: `config` is read during the call only. On success the caller
/// owns `*out` (`ho_blockset_free`). Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_blockset_new(
    config: *const ho_block_config,
    out: *mut *mut ho_blockset,
) -> ho_result {
    ffi_fn! {
        let config = try_ref!(config);
        check_out!(out);
        handle::hand_out(ho_blockset { set: BlockSet::new(config.to_core()) }, out);
        Ok(())
    }
}

/// Frees a block set. NULL does nothing.
///
/// Ownership: `set` is invalid after this call. Threads: no other thread
/// may use it during or after this call.
#[no_mangle]
pub extern "C" fn ho_blockset_free(set: *mut ho_blockset) {
    ffi_fn! {
        handle::free(set)
    }
}

fn ttl(ttl_ms: u64, set: &BlockSet) -> Duration {
    if ttl_ms == 0 {
        set.config().default_ttl
    } else {
        Duration::from_millis(ttl_ms)
    }
}

/// Blocks `prefix` (`"198.18.5.0/24"`, or one address) for `ttl_ms`
/// milliseconds from `now_ms` (0: the set's default TTL), escalated for a
/// repeat offence; fills `*out` with what happened.
///
/// Errors: `HO_INVALID_ARGUMENT` (no address or prefix),
/// `HO_BLOCK_ALLOWLISTED`, `HO_BLOCK_FULL`.
///
/// Ownership: `prefix` and `reason` (NUL-terminated UTF-8; the reason is
/// copied, at most 200 bytes of it) are borrowed for the call. Threads: one
/// thread at a time per set.
#[no_mangle]
pub extern "C" fn ho_blockset_add(
    set: *mut ho_blockset,
    prefix: *const c_char,
    reason: *const c_char,
    ttl_ms: u64,
    now_ms: u64,
    out: *mut ho_added,
) -> ho_result {
    ffi_fn! {
        let set = try_mut!(set);
        let prefix = try_str!(prefix);
        let reason = try_str!(reason);
        check_out!(out);
        let net = parse_net("prefix", prefix)?;
        let ttl = ttl(ttl_ms, &set.set);
        let added = set.set.add(net, reason, ttl, Millis(now_ms))?;
        write_out!(out, ho_added::from(added));
        Ok(())
    }
}

/// Blocks every prefix of `report` whose verdict is block, each with its
/// reason, for `ttl_ms` from `now_ms` (0: the set's default TTL), escalated
/// for repeat offences. Stores in `*out_added` how many prefixes it blocked
/// (new, extended or covered) and in `*out_refused` how many the set
/// refused (allowlisted, or the set full); refusals are skipped and counted
/// in `ho_blockset_stats`.
///
/// Ownership: `report` is borrowed for the call. Threads: one thread at a
/// time per set; the report may be shared.
#[no_mangle]
pub extern "C" fn ho_blockset_add_report(
    set: *mut ho_blockset,
    report: *const ho_report,
    ttl_ms: u64,
    now_ms: u64,
    out_added: *mut usize,
    out_refused: *mut usize,
) -> ho_result {
    ffi_fn! {
        let set = try_mut!(set);
        let report = try_ref!(report);
        check_out!(out_added, out_refused);
        let ttl = ttl(ttl_ms, &set.set);
        let (mut added, mut refused) = (0, 0);
        for p in report.report().blocks() {
            match set.set.add(p.prefix, &p.reason, ttl, Millis(now_ms)) {
                Ok(_) => added += 1,
                Err(_) => refused += 1,
            }
        }
        write_out!(out_added, added);
        write_out!(out_refused, refused);
        Ok(())
    }
}

/// What a block set refused or forgot since it was made.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ho_block_stats {
    /// Blocks refused because the set was full.
    pub refused_full: u64,
    /// Blocks refused because they overlap the allowlist.
    pub refused_allowlisted: u64,
    /// Strike memories forgotten to stay within `memory_capacity`.
    pub memories_evicted: u64,
}

/// Fills `*out` with what `set` refused or forgot.
///
/// Threads: while no thread changes the set.
#[no_mangle]
pub extern "C" fn ho_blockset_stats(
    set: *const ho_blockset,
    out: *mut ho_block_stats,
) -> ho_result {
    ffi_fn! {
        let set = try_ref!(set);
        check_out!(out);
        let stats = set.set.stats();
        write_out!(out, ho_block_stats {
            refused_full: stats.refused_full,
            refused_allowlisted: stats.refused_allowlisted,
            memories_evicted: stats.memories_evicted,
        });
        Ok(())
    }
}

/// Ends every block whose time is up at `now_ms` and stores how many ended
/// in `*out_expired`.
///
/// Threads: one thread at a time per set.
#[no_mangle]
pub extern "C" fn ho_blockset_expire(
    set: *mut ho_blockset,
    now_ms: u64,
    out_expired: *mut usize,
) -> ho_result {
    ffi_fn! {
        let set = try_mut!(set);
        check_out!(out_expired);
        write_out!(out_expired, set.set.expire(Millis(now_ms)).len());
        Ok(())
    }
}

/// Ends the block of exactly `prefix` now (its strikes are remembered);
/// `*out_released` tells whether there was one.
///
/// Errors: `HO_INVALID_ARGUMENT` (no address or prefix).
///
/// Threads: one thread at a time per set.
#[no_mangle]
pub extern "C" fn ho_blockset_release(
    set: *mut ho_blockset,
    prefix: *const c_char,
    now_ms: u64,
    out_released: *mut bool,
) -> ho_result {
    ffi_fn! {
        let set = try_mut!(set);
        let prefix = try_str!(prefix);
        check_out!(out_released);
        let net = parse_net("prefix", prefix)?;
        write_out!(out_released, set.set.release(&net, Millis(now_ms)).is_some());
        Ok(())
    }
}

/// Ends every block now and stores how many ended in `*out_released`.
///
/// Threads: one thread at a time per set.
#[no_mangle]
pub extern "C" fn ho_blockset_release_all(
    set: *mut ho_blockset,
    now_ms: u64,
    out_released: *mut usize,
) -> ho_result {
    ffi_fn! {
        let set = try_mut!(set);
        check_out!(out_released);
        write_out!(out_released, set.set.release_all(Millis(now_ms)).len());
        Ok(())
    }
}

/// Allowlists `prefix` from now on: the blocks overlapping it end now
/// (their number in `*out_released`) and no block will overlap it again.
///
/// Errors: `HO_INVALID_ARGUMENT` (no address or prefix).
///
/// Threads: one thread at a time per set.
#[no_mangle]
pub extern "C" fn ho_blockset_allow(
    set: *mut ho_blockset,
    prefix: *const c_char,
    now_ms: u64,
    out_released: *mut usize,
) -> ho_result {
    ffi_fn! {
        let set = try_mut!(set);
        let prefix = try_str!(prefix);
        check_out!(out_released);
        let net = parse_net("prefix", prefix)?;
        write_out!(out_released, set.set.allow(net, Millis(now_ms)).len());
        Ok(())
    }
}

/// The number of blocks in `set`; 0 for NULL.
///
/// Threads: while no thread changes the set.
#[no_mangle]
pub extern "C" fn ho_blockset_len(set: *const ho_blockset) -> usize {
    ffi_fn! {
        // SAFETY: NULL or a set from this library, per the documentation.
        unsafe { set.as_ref() }.map_or(0, |s| s.set.len())
    }
}

/// Copies block `index` (from 0; IPv4 blocks first, in address order) into
/// `*out`. Walking all blocks by index costs O(n) per call.
///
/// Errors: `HO_INDEX_OUT_OF_RANGE`.
///
/// Ownership: `*out` is the caller's, strings inline. Threads: while no
/// thread changes the set.
#[no_mangle]
pub extern "C" fn ho_blockset_block(
    set: *const ho_blockset,
    index: usize,
    out: *mut ho_block,
) -> ho_result {
    ffi_fn! {
        let set = try_ref!(set);
        check_out!(out);
        let block = set.set.iter().nth(index).ok_or(Error::IndexOutOfRange {
            index,
            len: set.set.len(),
        })?;
        write_out!(out, ho_block::from(block));
        Ok(())
    }
}

/// Copies the block that covers address or prefix `prefix` into `*out` and
/// sets `*out_found`; `*out` is left alone when none does.
///
/// Errors: `HO_INVALID_ARGUMENT` (no address or prefix).
///
/// Threads: while no thread changes the set.
#[no_mangle]
pub extern "C" fn ho_blockset_lookup(
    set: *const ho_blockset,
    prefix: *const c_char,
    out: *mut ho_block,
    out_found: *mut bool,
) -> ho_result {
    ffi_fn! {
        let set = try_ref!(set);
        let prefix = try_str!(prefix);
        check_out!(out, out_found);
        let net = parse_net("prefix", prefix)?;
        let found = set.set.covering(&net);
        if let Some(block) = found {
            write_out!(out, ho_block::from(block));
        }
        write_out!(out_found, found.is_some());
        Ok(())
    }
}

/// Saves `set` as of `now_ms` to the state file `path`: a versioned,
/// checksummed text file with each block's remaining time, strikes and
/// reason, written to a temporary file, synced and renamed over `path`, so
/// a process killed at any point leaves the previous file or the new one.
///
/// Errors: `HO_STATE_IO` (errno in `ho_last_error_os_code()`).
///
/// Ownership: `path` (NUL-terminated UTF-8) is borrowed for the call.
/// Threads: while no thread changes the set.
#[no_mangle]
pub extern "C" fn ho_blockset_save(
    set: *const ho_blockset,
    path: *const c_char,
    now_ms: u64,
) -> ho_result {
    ffi_fn! {
        let set = try_ref!(set);
        let path = try_str!(path);
        set.set.save(Path::new(path), Millis(now_ms))?;
        Ok(())
    }
}

/// Restores a block set from the state file `path` with the settings
/// `*config`, its times moved to `now_ms` on the caller's clock (remaining
/// TTLs are kept, across a reboot too), and stores it in `*out`.
/// `*out_refused` receives how many saved blocks the settings refused (a
/// smaller capacity).
///
/// Errors: a missing, empty, truncated, altered or foreign file is an error,
/// never a silently empty set: `HO_STATE_IO`, `HO_STATE_EMPTY`,
/// `HO_STATE_NOT_A_STATE_FILE`, `HO_STATE_VERSION`, `HO_STATE_BAD` (line and
/// field in the last error), `HO_STATE_TRUNCATED`, `HO_STATE_CHECKSUM`,
/// `HO_STATE_OVERLAP`.
///
/// Ownership: `path` is borrowed and `config` read during the call. On
/// success the caller owns `*out` (`ho_blockset_free`). Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_blockset_load(
    path: *const c_char,
    config: *const ho_block_config,
    now_ms: u64,
    out: *mut *mut ho_blockset,
    out_refused: *mut usize,
) -> ho_result {
    ffi_fn! {
        let path = try_str!(path);
        let config = try_ref!(config);
        check_out!(out, out_refused);
        let restored = BlockSet::load(Path::new(path), config.to_core(), Millis(now_ms))?;
        write_out!(out_refused, restored.refused.len());
        handle::hand_out(ho_blockset { set: restored.set }, out);
        Ok(())
    }
}

/// What changed in a block set since the firewall was last told: elements
/// to add, timeouts to refresh, elements to remove. Made by
/// `ho_blockset_sync_diff`, rendered by `ho_firewall_render_sync`, freed by
/// `ho_sync_diff_free`. Immutable: may be shared between threads.
pub struct ho_sync_diff {
    diff: SyncDiff,
}

impl ho_sync_diff {
    /// The core diff, for the renderers.
    pub(crate) fn diff(&self) -> &SyncDiff {
        &self.diff
    }
}

/// Stores in `*out` what changed since the last diff (or
/// `ho_blockset_mark_synced`) at `now_ms`, and counts the firewall as told:
/// render the diff and apply it.
///
/// Ownership: on success the caller owns `*out` (`ho_sync_diff_free`),
/// which does not borrow from the set. Threads: one thread at a time per
/// set.
#[no_mangle]
pub extern "C" fn ho_blockset_sync_diff(
    set: *mut ho_blockset,
    now_ms: u64,
    out: *mut *mut ho_sync_diff,
) -> ho_result {
    ffi_fn! {
        let set = try_mut!(set);
        check_out!(out);
        let diff = set.set.sync_diff(Millis(now_ms));
        handle::hand_out(ho_sync_diff { diff }, out);
        Ok(())
    }
}

/// Counts the firewall as holding exactly the set's live blocks at
/// `now_ms`, as after applying a full render (`ho_firewall_render_full`).
///
/// Threads: one thread at a time per set.
#[no_mangle]
pub extern "C" fn ho_blockset_mark_synced(set: *mut ho_blockset, now_ms: u64) -> ho_result {
    ffi_fn! {
        try_mut!(set).set.mark_synced(Millis(now_ms));
        Ok(())
    }
}

/// Forgets what the firewall was told, so the next diff adds every block
/// again (after the firewall lost its state).
///
/// Threads: one thread at a time per set.
#[no_mangle]
pub extern "C" fn ho_blockset_forget_synced(set: *mut ho_blockset) -> ho_result {
    ffi_fn! {
        try_mut!(set).set.forget_synced();
        Ok(())
    }
}

/// Counts of a diff: elements to add, to refresh and to remove. Any out
/// pointer must be non-NULL.
///
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_sync_diff_counts(
    diff: *const ho_sync_diff,
    out_add: *mut usize,
    out_refresh: *mut usize,
    out_remove: *mut usize,
) -> ho_result {
    ffi_fn! {
        let diff = try_ref!(diff);
        check_out!(out_add, out_refresh, out_remove);
        write_out!(out_add, diff.diff.add.len());
        write_out!(out_refresh, diff.diff.refresh.len());
        write_out!(out_remove, diff.diff.remove.len());
        Ok(())
    }
}

/// True when the diff changes nothing (or `diff` is NULL).
///
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_sync_diff_is_empty(diff: *const ho_sync_diff) -> bool {
    ffi_fn! {
        // SAFETY: NULL or a diff from this library, per the documentation.
        !matches!(unsafe { diff.as_ref() }, Some(d) if !d.diff.is_empty())
    }
}

/// Frees a diff. NULL does nothing.
///
/// Ownership: `diff` is invalid after this call. Threads: no other thread
/// may use it during or after this call.
#[no_mangle]
pub extern "C" fn ho_sync_diff_free(diff: *mut ho_sync_diff) {
    ffi_fn! {
        handle::free(diff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firewall::{ho_firewall_free, ho_firewall_new, ho_firewall_render_sync};
    use halfopen::firewall::nft::Nft;
    use std::ffi::{CStr, CString};

    fn new_set() -> *mut ho_blockset {
        let mut config = std::mem::MaybeUninit::<ho_block_config>::uninit();
        assert_eq!(
            ho_block_config_default(config.as_mut_ptr()),
            ho_result::HO_OK
        );
        let config = unsafe { config.assume_init() };
        assert_eq!(config.to_core(), BlockConfig::default());
        let mut set = std::ptr::null_mut();
        assert_eq!(ho_blockset_new(&config, &mut set), ho_result::HO_OK);
        set
    }

    #[test]
    fn blocks_escalate_and_render_like_core() {
        let set = new_set();
        let mut core = BlockSet::new(BlockConfig::default());
        let p = CString::new("198.18.5.0/24").unwrap();
        let reason = CString::new("syn flood").unwrap();
        let mut added = std::mem::MaybeUninit::<ho_added>::uninit();
        assert_eq!(
            ho_blockset_add(
                set,
                p.as_ptr(),
                reason.as_ptr(),
                60_000,
                1_000,
                added.as_mut_ptr()
            ),
            ho_result::HO_OK
        );
        let added = unsafe { added.assume_init() };
        let net = "198.18.5.0/24".parse().unwrap();
        let want = core
            .add(net, "syn flood", Duration::from_secs(60), Millis(1_000))
            .unwrap();
        assert_eq!(added, ho_added::from(want));
        assert_eq!(added.expires_ms, 61_000);

        // The sync batch is core's.
        let mut diff = std::ptr::null_mut();
        assert_eq!(
            ho_blockset_sync_diff(set, 1_000, &mut diff),
            ho_result::HO_OK
        );
        let core_diff = core.sync_diff(Millis(1_000));
        let mut fw = std::ptr::null_mut();
        assert_eq!(ho_firewall_new(0, &mut fw), ho_result::HO_OK);
        let mut text = std::ptr::null_mut();
        assert_eq!(
            ho_firewall_render_sync(fw, diff, set, &mut text),
            ho_result::HO_OK
        );
        assert_eq!(
            unsafe { CStr::from_ptr(text) }.to_str().unwrap(),
            Nft::default().render_sync(&core_diff, &core)
        );
        crate::text::ho_string_free(text);
        ho_sync_diff_free(diff);
        ho_firewall_free(fw);

        // The block, walked.
        let mut b = std::mem::MaybeUninit::<ho_block>::uninit();
        assert_eq!(ho_blockset_block(set, 0, b.as_mut_ptr()), ho_result::HO_OK);
        let b = unsafe { b.assume_init() };
        assert_eq!(
            unsafe { CStr::from_ptr(b.text.as_ptr()) }.to_str().unwrap(),
            "198.18.5.0/24"
        );
        assert_eq!(
            unsafe { CStr::from_ptr(b.reason.as_ptr()) }
                .to_str()
                .unwrap(),
            "syn flood"
        );
        assert_eq!(b.strikes, 1);

        // Expired, then seen again: the second strike doubles the TTL.
        let mut n = 0;
        assert_eq!(ho_blockset_expire(set, 61_000, &mut n), ho_result::HO_OK);
        assert_eq!(n, 1);
        let mut added = std::mem::MaybeUninit::<ho_added>::uninit();
        assert_eq!(
            ho_blockset_add(
                set,
                p.as_ptr(),
                reason.as_ptr(),
                60_000,
                70_000,
                added.as_mut_ptr()
            ),
            ho_result::HO_OK
        );
        let added = unsafe { added.assume_init() };
        assert_eq!((added.strikes, added.expires_ms), (2, 190_000));
        ho_blockset_free(set);
    }

    #[test]
    fn refusals_are_errors() {
        let set = new_set();
        let p = CString::new("198.18.0.0/16").unwrap();
        let inner = CString::new("198.18.3.0/24").unwrap();
        let mut n = 0;
        assert_eq!(
            ho_blockset_allow(set, inner.as_ptr(), 0, &mut n),
            ho_result::HO_OK
        );
        let mut added = std::mem::MaybeUninit::<ho_added>::uninit();
        let r = ho_blockset_add(set, p.as_ptr(), p.as_ptr(), 1, 0, added.as_mut_ptr());
        assert_eq!(r, ho_result::HO_BLOCK_ALLOWLISTED);
        let bad = CString::new("198.18.0.0/40").unwrap();
        let r = ho_blockset_add(set, bad.as_ptr(), p.as_ptr(), 1, 0, added.as_mut_ptr());
        assert_eq!(r, ho_result::HO_INVALID_ARGUMENT);
        ho_blockset_free(set);
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let text = "é".repeat(200);
        let out: [c_char; 8] = fill(&text);
        let s = unsafe { CStr::from_ptr(out.as_ptr()) }.to_str().unwrap();
        assert_eq!(s, "ééé");
    }
}
