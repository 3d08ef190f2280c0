//! Firewall renderers: `ho_firewall` turns a block set or a sync diff into
//! an `nft -f` batch, an `ipset restore` script or `firewall-cmd` commands.

use std::ffi::c_char;

use halfopen::blockset::Millis;
use halfopen::firewall::firewalld::Firewalld;
use halfopen::firewall::ipset::Ipset;
use halfopen::firewall::nft::Nft;

use crate::blockset::{ho_blockset, ho_sync_diff};
use crate::error::{ho_result, Error};
use crate::handle;
use crate::text;

/// Which firewall a renderer writes for.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ho_firewall_kind {
    /// nftables: one `nft -f` batch, an atomic transaction.
    Nft = 0,
    /// ipset: an `ipset restore` script.
    Ipset = 1,
    /// firewalld: `firewall-cmd` commands, one per line.
    Firewalld = 2,
}

enum Renderer {
    Nft(Nft),
    Ipset(Ipset),
    Firewalld(Firewalld),
}

/// A firewall renderer and its settings (table, set and chain names).
///
/// Created by `ho_firewall_new` (default names: table `halfopen`, sets
/// `blocked4`/`blocked6` for nftables, `halfopen4`/`halfopen6` for ipset and
/// firewalld) or the `ho_firewall_new_*_named` functions; freed by
/// `ho_firewall_free`. Rendering only reads it: several threads may render
/// with one renderer at once.
pub struct ho_firewall {
    renderer: Renderer,
}

fn boxed(renderer: Renderer, out: *mut *mut ho_firewall) {
    handle::hand_out(ho_firewall { renderer }, out);
}

/// Stores a renderer for `kind` (a `ho_firewall_kind`) with the default
/// names in `*out`.
///
/// Errors: `HO_INVALID_ARGUMENT` for a number that is no kind.
///
/// Ownership: on success the caller owns `*out` (`ho_firewall_free`).
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_firewall_new(kind: u32, out: *mut *mut ho_firewall) -> ho_result {
    ffi_fn! {
        check_out!(out);
        let renderer = match kind {
            0 => Renderer::Nft(Nft::default()),
            1 => Renderer::Ipset(Ipset::default()),
            2 => Renderer::Firewalld(Firewalld::default()),
            other => {
                return Err(Error::InvalidArgument(format!(
                    "firewall kind {other} is none of HO_FIREWALL_KIND_NFT (0), HO_FIREWALL_KIND_IPSET (1), HO_FIREWALL_KIND_FIREWALLD (2)"
                )))
            }
        };
        boxed(renderer, out);
        Ok(())
    }
}

/// Stores an nftables renderer with these names in `*out`: the `inet`
/// table, its IPv4 and IPv6 sets, and its chain.
///
/// Errors: `HO_FIREWALL_BAD_NAME` for a name nft would not take unquoted
/// (a letter, then letters, digits, `_` or `-`, at most 31).
///
/// Ownership: the names (NUL-terminated) are copied. On success the caller
/// owns `*out` (`ho_firewall_free`). Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_firewall_new_nft_named(
    table: *const c_char,
    set4: *const c_char,
    set6: *const c_char,
    chain: *const c_char,
    out: *mut *mut ho_firewall,
) -> ho_result {
    ffi_fn! {
        let (table, set4, set6, chain) = (try_str!(table), try_str!(set4), try_str!(set6), try_str!(chain));
        check_out!(out);
        boxed(Renderer::Nft(Nft::with_names(table, set4, set6, chain)?), out);
        Ok(())
    }
}

/// Stores an ipset renderer with these set names in `*out`.
///
/// Errors: `HO_FIREWALL_BAD_NAME`.
///
/// Ownership: the names (NUL-terminated) are copied. On success the caller
/// owns `*out` (`ho_firewall_free`). Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_firewall_new_ipset_named(
    set4: *const c_char,
    set6: *const c_char,
    out: *mut *mut ho_firewall,
) -> ho_result {
    ffi_fn! {
        let (set4, set6) = (try_str!(set4), try_str!(set6));
        check_out!(out);
        boxed(Renderer::Ipset(Ipset::with_names(set4, set6)?), out);
        Ok(())
    }
}

/// Stores a firewalld renderer with these ipset names and zone in `*out`.
///
/// Errors: `HO_FIREWALL_BAD_NAME`.
///
/// Ownership: the names (NUL-terminated) are copied. On success the caller
/// owns `*out` (`ho_firewall_free`). Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_firewall_new_firewalld_named(
    set4: *const c_char,
    set6: *const c_char,
    zone: *const c_char,
    out: *mut *mut ho_firewall,
) -> ho_result {
    ffi_fn! {
        let (set4, set6, zone) = (try_str!(set4), try_str!(set6), try_str!(zone));
        check_out!(out);
        boxed(Renderer::Firewalld(Firewalld::with_names(set4, set6, zone)?), out);
        Ok(())
    }
}

/// Makes the rendered rules also drop SYNs from source ports below 1024
/// (reflection backscatter) when `on`; nftables and firewalld only
/// (`HO_INVALID_ARGUMENT` for ipset).
///
/// Threads: not while another thread renders with `fw`.
#[no_mangle]
pub extern "C" fn ho_firewall_set_drop_privileged_source_syn(
    fw: *mut ho_firewall,
    on: bool,
) -> ho_result {
    ffi_fn! {
        match &mut try_mut!(fw).renderer {
            Renderer::Nft(n) => n.drop_privileged_source_syn = on,
            Renderer::Firewalld(f) => f.drop_privileged_source_syn = on,
            Renderer::Ipset(_) => {
                return Err(Error::InvalidArgument(String::from(
                    "ipset renders sets only, no rules",
                )))
            }
        }
        Ok(())
    }
}

/// Frees a renderer. NULL does nothing.
///
/// Ownership: `fw` is invalid after this call. Threads: no other thread may
/// use it during or after this call.
#[no_mangle]
pub extern "C" fn ho_firewall_free(fw: *mut ho_firewall) {
    ffi_fn! {
        handle::free(fw)
    }
}

/// firewall-cmd argument lists as text: one command per line, arguments
/// separated by spaces (names and prefixes never hold spaces).
fn commands(cmds: Vec<Vec<String>>) -> String {
    let mut out = String::new();
    for cmd in cmds {
        out.push_str(&cmd.join(" "));
        out.push('\n');
    }
    out
}

fn full(fw: *const ho_firewall, set: *const ho_blockset, now_ms: u64) -> Result<String, Error> {
    let fw = try_ref!(fw);
    let set = try_ref!(set);
    let elements = set.set().elements(Millis(now_ms));
    Ok(match &fw.renderer {
        Renderer::Nft(n) => n.render_full(&elements),
        Renderer::Ipset(i) => i.render_full(&elements),
        Renderer::Firewalld(f) => commands(f.render_full(&elements)),
    })
}

fn sync(
    fw: *const ho_firewall,
    diff: *const ho_sync_diff,
    set: *const ho_blockset,
) -> Result<String, Error> {
    let fw = try_ref!(fw);
    let diff = try_ref!(diff);
    let set = try_ref!(set);
    Ok(match &fw.renderer {
        Renderer::Nft(n) => n.render_sync(diff.diff(), set.set()),
        Renderer::Ipset(i) => i.render_sync(diff.diff()),
        Renderer::Firewalld(f) => commands(f.render_sync(diff.diff())),
    })
}

/// Renders the whole state: every live block of `set` at `now_ms` with its
/// remaining time as its timeout, plus (nftables, ipset) the table, sets and
/// rules, replacing what the firewall held. Stores the text in `*out`.
/// After applying it, call `ho_blockset_mark_synced`.
///
/// Ownership: `fw` and `set` are borrowed for the call. On success the
/// caller owns `*out` (`ho_string_free`). Threads: while no thread changes
/// `set`.
#[no_mangle]
pub extern "C" fn ho_firewall_render_full(
    fw: *const ho_firewall,
    set: *const ho_blockset,
    now_ms: u64,
    out: *mut *mut c_char,
) -> ho_result {
    ffi_fn! {
        check_out!(out);
        let text = full(fw, set, now_ms)?;
        write_out!(out, text::into_owned(text)?);
        Ok(())
    }
}

/// As `ho_firewall_render_full`, into the caller's buffer `buf` of
/// `capacity` bytes, NUL-terminated; `*out_len` receives the length without
/// the NUL, also when the result is `HO_BUFFER_TOO_SMALL` (then nothing is
/// copied; a NULL `buf` with `capacity` 0 asks for the length).
///
/// Ownership: `buf` is the caller's. Threads: while no thread changes `set`.
#[no_mangle]
pub extern "C" fn ho_firewall_render_full_into(
    fw: *const ho_firewall,
    set: *const ho_blockset,
    now_ms: u64,
    buf: *mut c_char,
    capacity: usize,
    out_len: *mut usize,
) -> ho_result {
    ffi_fn! {
        check_out!(out_len);
        let text = full(fw, set, now_ms)?;
        text::copy_out(&text, buf, capacity, out_len)
    }
}

/// Renders the changes of `diff` (taken from `set` by
/// `ho_blockset_sync_diff`): removals, timeout refreshes, additions, as one
/// batch. Stores the text in `*out`; empty when the diff is.
///
/// Ownership: `fw`, `diff` and `set` are borrowed for the call. On success
/// the caller owns `*out` (`ho_string_free`). Threads: while no thread
/// changes `set`.
#[no_mangle]
pub extern "C" fn ho_firewall_render_sync(
    fw: *const ho_firewall,
    diff: *const ho_sync_diff,
    set: *const ho_blockset,
    out: *mut *mut c_char,
) -> ho_result {
    ffi_fn! {
        check_out!(out);
        let text = sync(fw, diff, set)?;
        write_out!(out, text::into_owned(text)?);
        Ok(())
    }
}

/// As `ho_firewall_render_sync`, into the caller's buffer `buf` of
/// `capacity` bytes; see `ho_firewall_render_full_into`.
///
/// Ownership: `buf` is the caller's. Threads: while no thread changes `set`.
#[no_mangle]
pub extern "C" fn ho_firewall_render_sync_into(
    fw: *const ho_firewall,
    diff: *const ho_sync_diff,
    set: *const ho_blockset,
    buf: *mut c_char,
    capacity: usize,
    out_len: *mut usize,
) -> ho_result {
    ffi_fn! {
        check_out!(out_len);
        let text = sync(fw, diff, set)?;
        text::copy_out(&text, buf, capacity, out_len)
    }
}

/// Renders the one-time setup a firewall needs before any block: for
/// firewalld, the ipsets and the rules that drop their sources; for
/// nftables and ipset, the full render already creates what it needs, so
/// the text is empty. Stores the text in `*out`.
///
/// Ownership: on success the caller owns `*out` (`ho_string_free`).
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_firewall_render_setup(
    fw: *const ho_firewall,
    out: *mut *mut c_char,
) -> ho_result {
    ffi_fn! {
        let fw = try_ref!(fw);
        check_out!(out);
        let text = match &fw.renderer {
            Renderer::Firewalld(f) => commands(f.render_setup()),
            Renderer::Nft(_) | Renderer::Ipset(_) => String::new(),
        };
        write_out!(out, text::into_owned(text)?);
        Ok(())
    }
}
