//! `ho_table`: the decoded rows of a TCP table, from a buffer, a file, or
//! the live tables of a network namespace.

use std::ffi::{c_char, CString};
use std::net::{IpAddr, SocketAddr};

use halfopen::live::Origin;
use halfopen::procnet::{self, Family, TcpEntry, TcpState};

use crate::error::{ho_result, Error};
use crate::handle;
use crate::text;

/// The decoded rows of one or more TCP tables.
///
/// Created by `ho_table_parse`, `ho_table_read_file`, `ho_table_read_live`,
/// `ho_table_read_pid` or `ho_table_read_dir`; freed by `ho_table_free`.
/// Immutable once made: one table may be read from several threads at once.
pub struct ho_table {
    entries: Vec<TcpEntry<'static>>,
    origin: ho_origin,
    /// Why netlink was not used, when a live read fell back to `/proc`.
    fallback: Option<CString>,
}

impl ho_table {
    /// A table of `entries` read from `origin`.
    pub(crate) fn new(
        entries: Vec<TcpEntry<'static>>,
        origin: ho_origin,
        fallback: Option<String>,
    ) -> ho_table {
        ho_table {
            entries,
            origin,
            fallback: fallback.and_then(|f| CString::new(f).ok()),
        }
    }

    /// The rows, for the other modules of the ABI.
    pub(crate) fn entries(&self) -> &[TcpEntry<'static>] {
        &self.entries
    }

    /// The core's name for where the rows came from; `None` for a buffer.
    pub(crate) fn core_origin(&self) -> Option<Origin> {
        match self.origin {
            ho_origin::Buffer => None,
            ho_origin::Netlink => Some(Origin::Netlink),
            ho_origin::Proc => Some(Origin::Proc),
            ho_origin::File => Some(Origin::File),
        }
    }

    /// Hands the table to C through `out` (checked non-NULL).
    pub(crate) fn hand_out(self, out: *mut *mut ho_table) {
        handle::hand_out(self, out);
    }
}

/// Where a table's rows came from.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ho_origin {
    /// A buffer given to `ho_table_parse`.
    Buffer = 0,
    /// A netlink sock_diag dump.
    Netlink = 1,
    /// The live `/proc/net/tcp{,6}` text of a namespace.
    Proc = 2,
    /// Table files (`ho_table_read_file`, a directory laid out like
    /// `/proc/net`).
    File = 3,
}

impl From<Origin> for ho_origin {
    fn from(origin: Origin) -> ho_origin {
        match origin {
            Origin::Netlink => ho_origin::Netlink,
            Origin::Proc => ho_origin::Proc,
            Origin::File => ho_origin::File,
        }
    }
}

/// An address family.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ho_family {
    /// Either: taken from the first row's address width.
    Any = 0,
    /// IPv4 (`/proc/net/tcp`).
    V4 = 4,
    /// IPv6 (`/proc/net/tcp6`).
    V6 = 6,
}

impl ho_family {
    fn of(family: Family) -> ho_family {
        match family {
            Family::V4 => ho_family::V4,
            Family::V6 => ho_family::V6,
        }
    }

    /// Decodes a family passed by C as a number.
    pub(crate) fn from_c(value: u32) -> Result<Option<Family>, Error> {
        match value {
            0 => Ok(None),
            4 => Ok(Some(Family::V4)),
            6 => Ok(Some(Family::V6)),
            other => Err(Error::InvalidArgument(format!(
                "family {other} is none of HO_FAMILY_ANY (0), HO_FAMILY_V4 (4), HO_FAMILY_V6 (6)"
            ))),
        }
    }
}

/// One row of a TCP table, every fixed column decoded (the kernel's trailing
/// columns are left out). Filled in by `ho_table_entry`; a plain value the
/// caller owns.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ho_entry {
    /// `HO_FAMILY_V4` or `HO_FAMILY_V6`.
    pub family: ho_family,
    /// Our address in network byte order: 4 bytes for IPv4 (the other 12
    /// are 0), 16 for IPv6.
    pub local_addr: [u8; 16],
    /// Our port.
    pub local_port: u16,
    /// The peer's address (the claimed source of a SYN), as `local_addr`.
    pub remote_addr: [u8; 16],
    /// The peer's port.
    pub remote_port: u16,
    /// `st`: the kernel's TCP state code (3 = SYN_RECV); `ho_tcp_state_name`
    /// names it.
    pub state: u8,
    /// `tr`: the pending timer (0 none, 1 retransmit, 2 keepalive,
    /// 3 TIME_WAIT, 4 zero-window probe).
    pub timer: u8,
    /// `sl`: the row's position in the kernel's walk.
    pub slot: u32,
    /// `tx_queue`.
    pub tx_queue: u32,
    /// `rx_queue`.
    pub rx_queue: u32,
    /// `tm->when`: clock ticks until the timer fires.
    pub timer_expires: u64,
    /// `retrnsmt`: retransmits (SYN-ACKs sent again, for a request socket).
    pub retransmits: u32,
    /// `uid`: the owner's user id.
    pub uid: u32,
    /// `timeout`: unanswered probes.
    pub timeout: i32,
    /// `inode`: the socket inode; 0 for request and TIME_WAIT sockets.
    pub inode: u64,
}

fn octets(addr: &SocketAddr) -> [u8; 16] {
    let mut out = [0; 16];
    match addr.ip() {
        IpAddr::V4(v4) => out[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out = v6.octets(),
    }
    out
}

impl From<&TcpEntry<'_>> for ho_entry {
    fn from(e: &TcpEntry<'_>) -> Self {
        ho_entry {
            family: ho_family::of(e.family()),
            local_addr: octets(&e.local),
            local_port: e.local.port(),
            remote_addr: octets(&e.remote),
            remote_port: e.remote.port(),
            state: e.state.code(),
            timer: e.timer.code(),
            slot: e.slot,
            tx_queue: e.tx_queue,
            rx_queue: e.rx_queue,
            timer_expires: e.timer_expires,
            retransmits: e.retransmits,
            uid: e.uid,
            timeout: e.timeout,
            inode: e.inode,
        }
    }
}

/// Decodes the TCP table held in `buf` (`len` bytes: the text of
/// `/proc/net/tcp` or `/proc/net/tcp6`, header optional) and stores a new
/// table in `*out`.
///
/// `family` is `HO_FAMILY_V4`, `HO_FAMILY_V6`, or `HO_FAMILY_ANY` to take it
/// from the first row. The first malformed row fails the call with its code
/// (`HO_PARSE_*`); `ho_last_error_message()` names its line and column, and
/// `ho_last_error_line()` / `ho_last_error_field()` give them apart. A last
/// line without its newline is `HO_PARSE_TRUNCATED`.
///
/// Ownership: `buf` is borrowed for the call only. On success the caller
/// owns `*out` and frees it with `ho_table_free`; on failure `*out` is left
/// unchanged. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_table_parse(
    buf: *const u8,
    len: usize,
    family: u32,
    out: *mut *mut ho_table,
) -> ho_result {
    ffi_fn! {
        let bytes = try_slice!(buf, len);
        check_out!(out);
        let family = ho_family::from_c(family)?;
        let entries = procnet::parse_table(bytes, family)
            .map(|row| row.map(|e| e.detach()))
            .collect::<Result<Vec<_>, _>>()?;
        ho_table::new(entries, ho_origin::Buffer, None).hand_out(out);
        Ok(())
    }
}

/// Reads the TCP table in the file at `path` (a capture of
/// `/proc/net/tcp{,6}`) and stores a new table in `*out`.
///
/// `family` as for `ho_table_parse`. Errors: `HO_READ_IO` when the file
/// cannot be read (`ho_last_error_os_code()` gives errno), `HO_PARSE_*` for
/// its first malformed row.
///
/// Ownership: `path` (NUL-terminated UTF-8) is borrowed for the call. On
/// success the caller owns `*out` (`ho_table_free`); on failure `*out` is
/// left unchanged. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_table_read_file(
    path: *const c_char,
    family: u32,
    out: *mut *mut ho_table,
) -> ho_result {
    ffi_fn! {
        let path = try_str!(path);
        check_out!(out);
        let family = ho_family::from_c(family)?;
        let mut reader = procnet::open_table(path)?;
        if let Some(family) = family {
            reader = reader.family(family);
        }
        let mut entries = Vec::new();
        reader.for_each(|e| entries.push(e.detach()))?;
        ho_table::new(entries, ho_origin::File, None).hand_out(out);
        Ok(())
    }
}

/// The number of rows in `table`; 0 for NULL.
///
/// Ownership: `table` is borrowed for the call. Threads: a table may be
/// read from several threads at once.
#[no_mangle]
pub extern "C" fn ho_table_len(table: *const ho_table) -> usize {
    ffi_fn! {
        // SAFETY: NULL or a table from this library, per the documentation.
        unsafe { table.as_ref() }.map_or(0, |t| t.entries.len())
    }
}

/// Copies row `index` (from 0) of `table` into `*out`.
///
/// Errors: `HO_INDEX_OUT_OF_RANGE` when `index >= ho_table_len(table)`.
///
/// Ownership: `table` is borrowed for the call; `*out` is the caller's
/// memory, written only on success. Threads: a table may be read from
/// several threads at once.
#[no_mangle]
pub extern "C" fn ho_table_entry(
    table: *const ho_table,
    index: usize,
    out: *mut ho_entry,
) -> ho_result {
    ffi_fn! {
        let table = try_ref!(table);
        check_out!(out);
        let entry = table.entries.get(index).ok_or(Error::IndexOutOfRange {
            index,
            len: table.entries.len(),
        })?;
        write_out!(out, ho_entry::from(entry));
        Ok(())
    }
}

/// Where the rows of `table` came from; `HO_ORIGIN_BUFFER` for NULL.
///
/// Ownership: `table` is borrowed for the call. Threads: a table may be
/// read from several threads at once.
#[no_mangle]
pub extern "C" fn ho_table_origin(table: *const ho_table) -> ho_origin {
    ffi_fn! {
        // SAFETY: NULL or a table from this library, per the documentation.
        unsafe { table.as_ref() }.map_or(ho_origin::Buffer, |t| t.origin)
    }
}

/// Why a live read did not use netlink, when it fell back to `/proc`
/// (sock_diag missing or forbidden here); NULL when it did not fall back or
/// `table` is NULL.
///
/// Ownership: the text belongs to `table` and lives as long as it; do not
/// free it. Threads: a table may be read from several threads at once.
#[no_mangle]
pub extern "C" fn ho_table_fallback(table: *const ho_table) -> *const c_char {
    ffi_fn! {
        // SAFETY: NULL or a table from this library, per the documentation.
        unsafe { table.as_ref() }
            .and_then(|t| t.fallback.as_ref())
            .map_or(std::ptr::null(), |f| f.as_ptr())
    }
}

fn format(table: *const ho_table, family: u32) -> Result<String, Error> {
    let table = try_ref!(table);
    let family = ho_family::from_c(family)?.ok_or_else(|| {
        Error::InvalidArgument(String::from(
            "family must be HO_FAMILY_V4 or HO_FAMILY_V6 to format a table",
        ))
    })?;
    let mut text = procnet::header(family);
    for entry in table.entries.iter().filter(|e| e.family() == family) {
        procnet::write_entry(&mut text, entry);
    }
    Ok(text)
}

/// Prints the rows of `family` (`HO_FAMILY_V4` or `HO_FAMILY_V6`) of
/// `table` as the kernel prints `/proc/net/tcp` or `/proc/net/tcp6`, header
/// included, and stores the text in `*out`: a capture `ho_table_parse` and
/// `ho_table_read_file` read back. The kernel's trailing columns are not
/// kept by a table, so rows end after `inode`.
///
/// Ownership: `table` is borrowed for the call. On success the caller owns
/// `*out` and frees it with `ho_string_free`; on failure `*out` is left
/// unchanged. Threads: a table may be read from several threads at once.
#[no_mangle]
pub extern "C" fn ho_table_format(
    table: *const ho_table,
    family: u32,
    out: *mut *mut c_char,
) -> ho_result {
    ffi_fn! {
        check_out!(out);
        let text = format(table, family)?;
        write_out!(out, text::into_owned(text)?);
        Ok(())
    }
}

/// As `ho_table_format`, into the caller's buffer `buf` of `capacity`
/// bytes, NUL-terminated; `*out_len` receives the text's length without the
/// NUL.
///
/// When the text and its NUL do not fit, nothing is copied, `*out_len` still
/// receives the length, and the result is `HO_BUFFER_TOO_SMALL`; a NULL
/// `buf` with `capacity` 0 asks for the length.
///
/// Ownership: `table` is borrowed for the call; `buf` is the caller's.
/// Threads: a table may be read from several threads at once.
#[no_mangle]
pub extern "C" fn ho_table_format_into(
    table: *const ho_table,
    family: u32,
    buf: *mut c_char,
    capacity: usize,
    out_len: *mut usize,
) -> ho_result {
    ffi_fn! {
        check_out!(out_len);
        let text = format(table, family)?;
        text::copy_out(&text, buf, capacity, out_len)
    }
}

/// Frees `table`. NULL does nothing.
///
/// Ownership: `table` must come from this library and not have been freed;
/// it and every pointer into it are invalid after this call. Threads: no
/// other thread may use the table during or after this call.
#[no_mangle]
pub extern "C" fn ho_table_free(table: *mut ho_table) {
    ffi_fn! {
        handle::free(table)
    }
}

/// The name of TCP state `code` as `ss` and `netstat` print it
/// (`"SYN_RECV"` for 3), or NULL for a code the kernel does not define.
///
/// Ownership: a static string; never free it. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_tcp_state_name(code: u32) -> *const c_char {
    ffi_fn! {
        u8::try_from(code)
            .ok()
            .and_then(TcpState::from_code)
            .map_or(std::ptr::null(), |s| state_cstr(s).as_ptr())
    }
}

fn state_cstr(state: TcpState) -> &'static std::ffi::CStr {
    // The names of `TcpState::name`, NUL-terminated; the tests check that
    // they agree.
    match state {
        TcpState::Established => c"ESTABLISHED",
        TcpState::SynSent => c"SYN_SENT",
        TcpState::SynRecv => c"SYN_RECV",
        TcpState::FinWait1 => c"FIN_WAIT1",
        TcpState::FinWait2 => c"FIN_WAIT2",
        TcpState::TimeWait => c"TIME_WAIT",
        TcpState::Close => c"CLOSE",
        TcpState::CloseWait => c"CLOSE_WAIT",
        TcpState::LastAck => c"LAST_ACK",
        TcpState::Listen => c"LISTEN",
        TcpState::Closing => c"CLOSING",
        TcpState::NewSynRecv => c"NEW_SYN_RECV",
        TcpState::BoundInactive => c"BOUND_INACTIVE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    const TABLE: &[u8] = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0050 0512C6C6:D431 03 00000000:00000000 01:00000064 00000001     0        0 0 0 0000000000000000
";

    fn parse(bytes: &[u8], family: u32) -> Result<*mut ho_table, ho_result> {
        let mut out = std::ptr::null_mut();
        match ho_table_parse(bytes.as_ptr(), bytes.len(), family, &mut out) {
            ho_result::HO_OK => Ok(out),
            e => Err(e),
        }
    }

    #[test]
    fn rows_come_out_as_core_decodes_them() {
        let t = parse(TABLE, 0).unwrap();
        assert_eq!(ho_table_len(t), 2);
        let mut e = std::mem::MaybeUninit::<ho_entry>::uninit();
        assert_eq!(ho_table_entry(t, 1, e.as_mut_ptr()), ho_result::HO_OK);
        let e = unsafe { e.assume_init() };
        let core = procnet::parse_table(TABLE, None).nth(1).unwrap().unwrap();
        assert_eq!(e, ho_entry::from(&core));
        assert_eq!(e.family, ho_family::V4);
        assert_eq!(&e.remote_addr[..4], &[198, 198, 18, 5]);
        assert_eq!(e.remote_port, 0xD431);
        assert_eq!(e.state, 3);
        let mut spare = e;
        assert_eq!(
            ho_table_entry(t, 2, &mut spare),
            ho_result::HO_INDEX_OUT_OF_RANGE
        );
        assert_eq!(spare, e);
        ho_table_free(t);
    }

    #[test]
    fn a_bad_family_number_is_an_invalid_argument() {
        assert_eq!(parse(TABLE, 5), Err(ho_result::HO_INVALID_ARGUMENT));
        assert_eq!(parse(TABLE, 6), Err(ho_result::HO_PARSE_ADDRESS_WIDTH));
    }

    #[test]
    fn a_cut_table_fails_and_leaves_out_alone() {
        let cut = &TABLE[..TABLE.len() - 10];
        let mut out = std::ptr::dangling_mut::<ho_table>();
        let r = ho_table_parse(cut.as_ptr(), cut.len(), 0, &mut out);
        assert_eq!(r, ho_result::HO_PARSE_TRUNCATED);
        assert_eq!(out, std::ptr::dangling_mut::<ho_table>());
        assert_eq!(crate::error::ho_last_error_line(), 3);
    }

    #[test]
    fn nulls_are_errors() {
        let mut out = std::ptr::null_mut();
        assert_eq!(
            ho_table_parse(std::ptr::null(), 3, 0, &mut out),
            ho_result::HO_NULL_PARAMETER
        );
        assert_eq!(
            ho_table_parse(TABLE.as_ptr(), TABLE.len(), 0, std::ptr::null_mut()),
            ho_result::HO_NULL_PARAMETER
        );
        assert_eq!(ho_table_len(std::ptr::null()), 0);
        ho_table_free(std::ptr::null_mut());
    }

    #[test]
    fn formatted_tables_read_back_the_same() {
        let t = parse(TABLE, 0).unwrap();
        let mut text = std::ptr::null_mut();
        assert_eq!(ho_table_format(t, 4, &mut text), ho_result::HO_OK);
        let bytes = unsafe { CStr::from_ptr(text) }.to_bytes().to_vec();
        let back = parse(&bytes, 4).unwrap();
        assert_eq!(ho_table_len(back), 2);
        let mut a = std::mem::MaybeUninit::<ho_entry>::uninit();
        let mut b = std::mem::MaybeUninit::<ho_entry>::uninit();
        for i in 0..2 {
            assert_eq!(ho_table_entry(t, i, a.as_mut_ptr()), ho_result::HO_OK);
            assert_eq!(ho_table_entry(back, i, b.as_mut_ptr()), ho_result::HO_OK);
            assert_eq!(unsafe { a.assume_init() }, unsafe { b.assume_init() });
        }
        let mut len = 0;
        assert_eq!(
            ho_table_format_into(t, 4, std::ptr::null_mut(), 0, &mut len),
            ho_result::HO_BUFFER_TOO_SMALL
        );
        assert_eq!(len, bytes.len());
        let mut unchanged = text;
        assert_eq!(
            ho_table_format(t, 0, &mut unchanged),
            ho_result::HO_INVALID_ARGUMENT
        );
        assert_eq!(unchanged, text);
        assert_eq!(ho_table_origin(t), ho_origin::Buffer);
        assert!(ho_table_fallback(t).is_null());
        crate::text::ho_string_free(text);
        ho_table_free(back);
        ho_table_free(t);
    }

    #[test]
    fn state_names_agree_with_core() {
        for s in TcpState::ALL {
            let name = unsafe { CStr::from_ptr(ho_tcp_state_name(s.code().into())) };
            assert_eq!(name.to_str().unwrap(), s.name());
        }
        assert!(ho_tcp_state_name(0).is_null());
        assert!(ho_tcp_state_name(0x103).is_null());
    }
}
