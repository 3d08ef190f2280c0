//! Reading the live TCP tables: `ho_live_options` (which source, whose
//! namespace, which states) and the `ho_table_read_*` functions.

use std::ffi::c_char;
use std::path::PathBuf;

use halfopen::live::{self, Namespace, Options, Source};
use halfopen::sockdiag::StateSet;

use crate::error::{ho_result, Error};
use crate::handle;
use crate::table::{ho_origin, ho_table};

/// Which source a live read uses.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ho_source {
    /// Netlink sock_diag, or `/proc` when sock_diag is unavailable (the
    /// default).
    Auto = 0,
    /// Netlink only; fail when it is unavailable.
    Netlink = 1,
    /// `/proc/net/tcp{,6}` text only.
    Proc = 2,
}

/// Every TCP state, as a mask for `ho_live_options_set_states`: bit
/// `1 << code` stands for the state of that kernel code.
pub const HO_STATES_ALL: u32 = 0x3ffe;

/// The half-open states (SYN_RECV and NEW_SYN_RECV), as a mask.
pub const HO_STATES_HALF_OPEN: u32 = 0x1008;

/// What a live read reads: a source, a namespace and the states to keep.
///
/// Created by `ho_live_options_new` (netlink with `/proc` fallback, the
/// caller's namespace, every state), changed by the `ho_live_options_set_*`
/// functions, used by `ho_table_read`, freed by `ho_live_options_free`.
/// Not to be changed by one thread while another uses it; reads from
/// several threads at once are fine.
pub struct ho_live_options {
    opts: Options,
}

impl ho_live_options {
    /// The core options, for the other modules of the ABI.
    pub(crate) fn options(&self) -> &Options {
        &self.opts
    }
}

/// Stores new options in `*out`: the default source (`HO_SOURCE_AUTO`), the
/// caller's namespace, every state.
///
/// Ownership: on success the caller owns `*out` and frees it with
/// `ho_live_options_free`. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_live_options_new(out: *mut *mut ho_live_options) -> ho_result {
    ffi_fn! {
        check_out!(out);
        handle::hand_out(ho_live_options { opts: Options::new() }, out);
        Ok(())
    }
}

/// Frees options. NULL does nothing.
///
/// Ownership: `opts` is invalid after this call. Threads: no other thread
/// may use it during or after this call.
#[no_mangle]
pub extern "C" fn ho_live_options_free(opts: *mut ho_live_options) {
    ffi_fn! {
        handle::free(opts)
    }
}

/// Sets the source: one of `ho_source` (`HO_SOURCE_AUTO`,
/// `HO_SOURCE_NETLINK`, `HO_SOURCE_PROC`); another number is
/// `HO_INVALID_ARGUMENT`.
///
/// Ownership: `opts` is borrowed for the call. Threads: not while another
/// thread uses `opts`.
#[no_mangle]
pub extern "C" fn ho_live_options_set_source(opts: *mut ho_live_options, source: u32) -> ho_result {
    ffi_fn! {
        let opts = try_mut!(opts);
        opts.opts.source = match source {
            0 => Source::Auto,
            1 => Source::Netlink,
            2 => Source::Proc,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "source {other} is none of HO_SOURCE_AUTO (0), HO_SOURCE_NETLINK (1), HO_SOURCE_PROC (2)"
                )))
            }
        };
        Ok(())
    }
}

/// Keeps only the states in `mask` (bit `1 << code` per kernel state code,
/// as `HO_STATES_ALL` and `HO_STATES_HALF_OPEN`); netlink filters them in
/// the kernel. Bits of no state are ignored.
///
/// Ownership: `opts` is borrowed for the call. Threads: not while another
/// thread uses `opts`.
#[no_mangle]
pub extern "C" fn ho_live_options_set_states(opts: *mut ho_live_options, mask: u32) -> ho_result {
    ffi_fn! {
        let opts = try_mut!(opts);
        opts.opts.states = StateSet::from_bits(mask);
        Ok(())
    }
}

/// Reads the caller's own network namespace (the default).
///
/// Ownership: `opts` is borrowed for the call. Threads: not while another
/// thread uses `opts`.
#[no_mangle]
pub extern "C" fn ho_live_options_set_current(opts: *mut ho_live_options) -> ho_result {
    ffi_fn! {
        try_mut!(opts).opts.namespace = Namespace::Current;
        Ok(())
    }
}

/// Reads the network namespace of process `pid`: through netlink from a
/// helper thread that enters it (needs the privilege to), or from
/// `/proc/<pid>/net` (when the source is `HO_SOURCE_PROC`, or `HO_SOURCE_AUTO`
/// is refused entry).
///
/// Ownership: `opts` is borrowed for the call. Threads: not while another
/// thread uses `opts`.
#[no_mangle]
pub extern "C" fn ho_live_options_set_pid(opts: *mut ho_live_options, pid: u32) -> ho_result {
    ffi_fn! {
        try_mut!(opts).opts.namespace = Namespace::Pid(pid);
        Ok(())
    }
}

/// Reads the network namespace of the namespace file `path`
/// (`/var/run/netns/NAME`, `/proc/<pid>/ns/net`), entered from a helper
/// thread; the calling thread never changes namespace.
///
/// Ownership: `path` (NUL-terminated UTF-8) is copied; `opts` is borrowed
/// for the call. Threads: not while another thread uses `opts`.
#[no_mangle]
pub extern "C" fn ho_live_options_set_netns_path(
    opts: *mut ho_live_options,
    path: *const c_char,
) -> ho_result {
    ffi_fn! {
        let opts = try_mut!(opts);
        let path = try_str!(path);
        opts.opts.namespace = Namespace::Path(PathBuf::from(path));
        Ok(())
    }
}

/// Reads the network namespace `ip netns add NAME` made
/// (`/var/run/netns/NAME`).
///
/// Ownership: `name` (NUL-terminated UTF-8) is copied; `opts` is borrowed
/// for the call. Threads: not while another thread uses `opts`.
#[no_mangle]
pub extern "C" fn ho_live_options_set_netns_name(
    opts: *mut ho_live_options,
    name: *const c_char,
) -> ho_result {
    ffi_fn! {
        let opts = try_mut!(opts);
        let name = try_str!(name);
        opts.opts.namespace = Namespace::named(name);
        Ok(())
    }
}

/// Reads the files `tcp` and `tcp6` of the directory `dir`, laid out like
/// `/proc/net` (a capture); never through netlink.
///
/// Ownership: `dir` (NUL-terminated UTF-8) is copied; `opts` is borrowed
/// for the call. Threads: not while another thread uses `opts`.
#[no_mangle]
pub extern "C" fn ho_live_options_set_dir(
    opts: *mut ho_live_options,
    dir: *const c_char,
) -> ho_result {
    ffi_fn! {
        let opts = try_mut!(opts);
        let dir = try_str!(dir);
        opts.opts.namespace = Namespace::Dir(PathBuf::from(dir));
        Ok(())
    }
}

fn read(opts: &Options, out: *mut *mut ho_table) -> Result<(), Error> {
    let (entries, summary) = live::snapshot(opts)?;
    let fallback = summary.fallback.map(|e| e.to_string());
    ho_table::new(entries, ho_origin::from(summary.origin), fallback).hand_out(out);
    Ok(())
}

/// Reads the TCP tables `opts` names (IPv4 rows, then IPv6 rows, of the
/// states asked for) and stores a new table in `*out`. `ho_table_origin`
/// says which source answered, `ho_table_fallback` why netlink was not used.
///
/// Errors: `HO_NETLINK_*` (sock_diag failed), `HO_NETNS_*` (the namespace
/// could not be entered), `HO_READ_IO` and `HO_PARSE_*` (`/proc` or files),
/// `HO_LIVE_NOT_LIVE` (a directory with `HO_SOURCE_NETLINK`); errno in
/// `ho_last_error_os_code()`.
///
/// Ownership: `opts` is borrowed for the call. On success the caller owns
/// `*out` (`ho_table_free`); on failure `*out` is left unchanged. Threads:
/// any thread; one `opts` may serve several threads at once.
#[no_mangle]
pub extern "C" fn ho_table_read(
    opts: *const ho_live_options,
    out: *mut *mut ho_table,
) -> ho_result {
    ffi_fn! {
        let opts = try_ref!(opts);
        check_out!(out);
        read(&opts.opts, out)
    }
}

/// Reads both live TCP tables (IPv4 rows, then IPv6 rows) of the calling
/// thread's network namespace, every state, through netlink or else
/// `/proc`, and stores a new table in `*out`. A kernel without IPv6 gives
/// the IPv4 rows alone. As `ho_table_read` with default options.
///
/// Ownership: on success the caller owns `*out` (`ho_table_free`); on
/// failure `*out` is left unchanged. Threads: any thread; each reads its own
/// namespace.
#[no_mangle]
pub extern "C" fn ho_table_read_live(out: *mut *mut ho_table) -> ho_result {
    ffi_fn! {
        check_out!(out);
        read(&Options::new(), out)
    }
}

/// Reads the live TCP tables of the network namespace of process `pid`
/// from `/proc/<pid>/net/tcp{,6}`, every state, and stores a new table in
/// `*out`.
///
/// Errors: `HO_READ_IO` (no such process, no permission: errno in
/// `ho_last_error_os_code()`), `HO_PARSE_*`.
///
/// Ownership: on success the caller owns `*out` (`ho_table_free`); on
/// failure `*out` is left unchanged. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_table_read_pid(pid: u32, out: *mut *mut ho_table) -> ho_result {
    ffi_fn! {
        check_out!(out);
        read(&Options::new().source(Source::Proc).namespace(Namespace::Pid(pid)), out)
    }
}

/// Reads the files `tcp` and `tcp6` (a missing `tcp6` counts as empty) of
/// the directory `dir`, laid out like `/proc/net` (a capture, another
/// mount), and stores a new table in `*out`.
///
/// Errors: `HO_READ_IO`, `HO_PARSE_*`.
///
/// Ownership: `dir` (NUL-terminated UTF-8) is borrowed for the call. On
/// success the caller owns `*out` (`ho_table_free`); on failure `*out` is
/// left unchanged. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_table_read_dir(dir: *const c_char, out: *mut *mut ho_table) -> ho_result {
    ffi_fn! {
        let dir = try_str!(dir);
        check_out!(out);
        read(&Options::new().namespace(Namespace::Dir(PathBuf::from(dir))), out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{ho_table_free, ho_table_len, ho_table_origin};

    #[test]
    fn live_reads_match_core() {
        if !std::path::Path::new("/proc/net/tcp").exists() {
            eprintln!("skipped: no /proc/net/tcp");
            return;
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut opts = std::ptr::null_mut();
        assert_eq!(ho_live_options_new(&mut opts), ho_result::HO_OK);
        assert_eq!(ho_live_options_set_source(opts, 2), ho_result::HO_OK);
        assert_eq!(ho_live_options_set_states(opts, 1 << 10), ho_result::HO_OK);
        let mut t = std::ptr::null_mut();
        assert_eq!(ho_table_read(opts, &mut t), ho_result::HO_OK);
        assert_eq!(ho_table_origin(t), ho_origin::Proc);
        let table = unsafe { &*t };
        assert!(table.entries().iter().all(|e| e.state.code() == 10));
        assert!(table
            .entries()
            .iter()
            .any(|e| e.local == listener.local_addr().unwrap()));
        ho_table_free(t);
        assert_eq!(
            ho_live_options_set_source(opts, 3),
            ho_result::HO_INVALID_ARGUMENT
        );
        let dir = std::ffi::CString::new("/nonexistent").unwrap();
        assert_eq!(
            ho_live_options_set_dir(opts, dir.as_ptr()),
            ho_result::HO_OK
        );
        assert_eq!(ho_live_options_set_source(opts, 1), ho_result::HO_OK);
        assert_eq!(ho_table_read(opts, &mut t), ho_result::HO_LIVE_NOT_LIVE);
        ho_live_options_free(opts);

        let mut t = std::ptr::null_mut();
        assert_eq!(ho_table_read_live(&mut t), ho_result::HO_OK);
        assert!(ho_table_len(t) > 0);
        ho_table_free(t);
        let mut t = std::ptr::null_mut();
        assert_eq!(
            ho_table_read_pid(std::process::id(), &mut t),
            ho_result::HO_OK
        );
        assert_eq!(ho_table_origin(t), ho_origin::Proc);
        ho_table_free(t);
        assert_eq!(ho_table_read_pid(u32::MAX, &mut t), ho_result::HO_READ_IO);
        assert_eq!(crate::error::ho_last_error_os_code(), 2);
    }

    #[test]
    fn state_masks_are_core_s() {
        assert_eq!(HO_STATES_ALL, StateSet::ALL.bits());
        assert_eq!(HO_STATES_HALF_OPEN, StateSet::HALF_OPEN.bits());
    }

    #[test]
    fn nulls_are_errors() {
        let mut t = std::ptr::null_mut();
        assert_eq!(
            ho_table_read_live(std::ptr::null_mut()),
            ho_result::HO_NULL_PARAMETER
        );
        assert_eq!(
            ho_table_read_dir(std::ptr::null(), &mut t),
            ho_result::HO_NULL_PARAMETER
        );
        assert_eq!(
            ho_table_read(std::ptr::null(), &mut t),
            ho_result::HO_NULL_PARAMETER
        );
        assert_eq!(
            ho_live_options_set_pid(std::ptr::null_mut(), 1),
            ho_result::HO_NULL_PARAMETER
        );
        ho_live_options_free(std::ptr::null_mut());
    }
}
