//! Result codes, the one mapping of core's errors to them, and the
//! thread-local last error.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use halfopen::blockset::state_file::StateError;
use halfopen::blockset::BlockError;
use halfopen::counters::{CounterError, CounterParseError};
use halfopen::firewall::FirewallError;
use halfopen::live::LiveError;
use halfopen::netns::NetnsError;
use halfopen::prefix_tree::LevelError;
use halfopen::procnet::{ParseError, ReadError};
use halfopen::sockdiag::{self, DecodeError};
use halfopen::verdict::ConfigError;

/// The result of every fallible function: `HO_OK` (0) or the error's code.
///
/// Numbers are fixed and never reused, one per kind of error of the core
/// library: 1-99 the ABI's own errors, 100-199 a malformed TCP table row,
/// 200-299 reading a table, 300-349 netlink sock_diag, 350-399 network
/// namespaces and live reads, 400-499 the counters, 500-599 report
/// configs, 600-699 the block set, 700-799 firewall renderers, 800-899
/// the block set's state file. When a call fails,
/// `ho_last_error_message()` gives the error's text on the same thread.
///
/// cbindgen:prefix-with-name=false
/// cbindgen:rename-all=None
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ho_result {
    /// Success.
    HO_OK = 0,
    /// A pointer argument was NULL.
    HO_NULL_PARAMETER = 1,
    /// The library panicked; the call did nothing the caller can rely on,
    /// but handles stay safe to free.
    HO_PANIC = 2,
    /// An argument is out of its domain (an unknown enum value, text that is
    /// not UTF-8).
    HO_INVALID_ARGUMENT = 3,
    /// An index past the end of a collection.
    HO_INDEX_OUT_OF_RANGE = 4,
    /// A caller's buffer is too small; the needed length was written.
    HO_BUFFER_TOO_SMALL = 5,
    /// An error of a kind this version of the ABI does not know yet.
    HO_UNKNOWN_ERROR = 6,
    /// Text that is not the JSON expected, or a value that cannot be
    /// written as JSON.
    HO_JSON = 7,

    /// A table row has fewer columns than the kernel always prints.
    HO_PARSE_COLUMN_COUNT = 100,
    /// A hexadecimal column holds something else.
    HO_PARSE_BAD_HEX = 101,
    /// A decimal column holds something else.
    HO_PARSE_BAD_DECIMAL = 102,
    /// A number too large for its column.
    HO_PARSE_OUT_OF_RANGE = 103,
    /// An address whose width does not match the table's family.
    HO_PARSE_ADDRESS_WIDTH = 104,
    /// An address whose width fits no family.
    HO_PARSE_UNKNOWN_FAMILY = 105,
    /// A column made of parts lacks its separator.
    HO_PARSE_MALFORMED = 106,
    /// A state code the kernel does not define.
    HO_PARSE_UNKNOWN_STATE = 107,
    /// The trailing columns are not ASCII text.
    HO_PARSE_NOT_TEXT = 108,
    /// The input ended in the middle of a line (a table cut short).
    HO_PARSE_TRUNCATED = 109,
    /// A line longer than the reader's buffer.
    HO_PARSE_LINE_TOO_LONG = 110,

    /// Reading a table failed in the operating system (missing file, no
    /// permission); `ho_last_error_os_code()` gives the errno.
    HO_READ_IO = 200,

    /// The sock_diag netlink socket could not be opened.
    HO_NETLINK_OPEN = 300,
    /// Sending the netlink request or receiving the answer failed.
    HO_NETLINK_IO = 301,
    /// The kernel refused the sock_diag request (errno in
    /// `ho_last_error_os_code()`).
    HO_NETLINK_KERNEL = 302,
    /// A netlink datagram longer than the receive buffer.
    HO_NETLINK_DATAGRAM_TOO_LONG = 303,
    /// A socket record of the other family than the one asked for.
    HO_NETLINK_WRONG_FAMILY = 304,
    /// A netlink message ends inside a field.
    HO_NETLINK_DECODE_TRUNCATED = 310,
    /// A netlink message length that does not fit.
    HO_NETLINK_DECODE_BAD_LENGTH = 311,
    /// A netlink message type a sock_diag dump never sends.
    HO_NETLINK_DECODE_UNEXPECTED_TYPE = 312,
    /// The kernel reports a netlink overrun (data lost).
    HO_NETLINK_DECODE_OVERRUN = 313,
    /// A socket record of an address family other than IPv4 or IPv6.
    HO_NETLINK_DECODE_UNKNOWN_FAMILY = 314,
    /// A socket record with a state code the kernel does not define.
    HO_NETLINK_DECODE_UNKNOWN_STATE = 315,

    /// A network namespace file could not be opened.
    HO_NETNS_OPEN = 350,
    /// Entering a network namespace was refused.
    HO_NETNS_ENTER = 351,
    /// The thread that enters a network namespace could not be started.
    HO_NETNS_THREAD = 352,
    /// A directory of tables was asked to be read through netlink.
    HO_LIVE_NOT_LIVE = 360,

    /// Reading a counter file failed.
    HO_COUNTER_IO = 400,
    /// A sysctl holds something other than a number.
    HO_COUNTER_BAD_SETTING = 401,
    /// A sample was not taken after the one before it.
    HO_COUNTER_RATE = 402,
    /// A counter value is not an unsigned decimal number.
    HO_COUNTER_PARSE_BAD_VALUE = 410,
    /// A counter names line and its values line differ in length.
    HO_COUNTER_PARSE_COLUMN_MISMATCH = 411,
    /// A counter names line without its values line.
    HO_COUNTER_PARSE_MISSING_VALUES = 412,
    /// A counter file line of the wrong shape.
    HO_COUNTER_PARSE_MALFORMED = 413,

    /// A config gives no prefix level for a family.
    HO_CONFIG_LEVELS_EMPTY = 500,
    /// A config's prefix level is longer than its family's addresses.
    HO_CONFIG_LEVEL_TOO_LONG = 501,
    /// A config's share is not between 0 and 1.
    HO_CONFIG_SHARE = 502,
    /// A config's minimum block length is longer than its family's
    /// addresses.
    HO_CONFIG_MIN_BLOCK_LEN = 503,

    /// The prefix overlaps the block set's allowlist.
    HO_BLOCK_ALLOWLISTED = 600,
    /// The block set holds as many blocks as it may.
    HO_BLOCK_FULL = 601,
    /// A block with a zero TTL.
    HO_BLOCK_ZERO_TTL = 602,

    /// A table, set, chain or zone name the firewall tools would not take.
    HO_FIREWALL_BAD_NAME = 700,

    /// Reading, writing, syncing or renaming a state file failed (errno in
    /// `ho_last_error_os_code()`).
    HO_STATE_IO = 800,
    /// The state file is empty.
    HO_STATE_EMPTY = 801,
    /// The file is no block set state file.
    HO_STATE_NOT_A_STATE_FILE = 802,
    /// The state file is of a version this library does not read.
    HO_STATE_VERSION = 803,
    /// A field of the state file could not be read (line and field in the
    /// last error).
    HO_STATE_BAD = 804,
    /// The state file ends before its end line.
    HO_STATE_TRUNCATED = 805,
    /// The state file's contents do not match its checksum.
    HO_STATE_CHECKSUM = 806,
    /// Two blocks in the state file overlap.
    HO_STATE_OVERLAP = 807,
}

/// Every error an entry point can meet, before it becomes a code.
#[derive(Debug)]
pub(crate) enum Error {
    /// A NULL pointer argument, named.
    NullParameter(&'static str),
    /// A caught panic, with its message.
    Panic(String),
    /// An argument out of its domain.
    InvalidArgument(String),
    /// An index past the end.
    IndexOutOfRange { index: usize, len: usize },
    /// A caller's buffer too small for the text.
    BufferTooSmall { needed: usize, capacity: usize },
    /// A malformed row of a table in memory.
    Parse(ParseError),
    /// An error reading a table from a file.
    Read(ReadError),
    /// An error reading the live tables.
    Live(LiveError),
    /// An error of the counter sampler.
    Counter(CounterError),
    /// A value could not be written or read as JSON.
    Json(String),
    /// A report config that does not hold.
    Config(ConfigError),
    /// The block set refused a block.
    Block(BlockError),
    /// A renderer setting the firewall would not take.
    Firewall(FirewallError),
    /// A block set state file could not be read or written.
    State(StateError),
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse(e)
    }
}

impl From<ReadError> for Error {
    fn from(e: ReadError) -> Self {
        Error::Read(e)
    }
}

impl From<LiveError> for Error {
    fn from(e: LiveError) -> Self {
        Error::Live(e)
    }
}

impl From<CounterError> for Error {
    fn from(e: CounterError) -> Self {
        Error::Counter(e)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<BlockError> for Error {
    fn from(e: BlockError) -> Self {
        Error::Block(e)
    }
}

impl From<FirewallError> for Error {
    fn from(e: FirewallError) -> Self {
        Error::Firewall(e)
    }
}

impl From<StateError> for Error {
    fn from(e: StateError) -> Self {
        Error::State(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NullParameter(name) => write!(f, "null parameter: {name}"),
            Error::Panic(msg) => write!(f, "panic: {msg}"),
            Error::InvalidArgument(msg) => write!(f, "invalid argument: {msg}"),
            Error::IndexOutOfRange { index, len } => {
                write!(f, "index {index} out of range (length {len})")
            }
            Error::BufferTooSmall { needed, capacity } => {
                write!(f, "buffer too small: needs {needed} bytes, has {capacity}")
            }
            Error::Parse(e) => e.fmt(f),
            Error::Read(e) => e.fmt(f),
            Error::Live(e) => e.fmt(f),
            Error::Counter(e) => e.fmt(f),
            Error::Json(e) => write!(f, "json: {e}"),
            Error::Config(e) => e.fmt(f),
            Error::Block(e) => e.fmt(f),
            Error::Firewall(e) => e.fmt(f),
            Error::State(e) => e.fmt(f),
        }
    }
}

/// The code of an error: the one place core's errors meet the ABI's numbers.
///
/// Core's error enums are `#[non_exhaustive]`, so each match ends with an
/// arm for kinds added to core after this version: `HO_UNKNOWN_ERROR`.
pub(crate) fn map_error(e: &Error) -> ho_result {
    use ho_result::*;
    match e {
        Error::NullParameter(_) => HO_NULL_PARAMETER,
        Error::Panic(_) => HO_PANIC,
        Error::InvalidArgument(_) => HO_INVALID_ARGUMENT,
        Error::IndexOutOfRange { .. } => HO_INDEX_OUT_OF_RANGE,
        Error::BufferTooSmall { .. } => HO_BUFFER_TOO_SMALL,
        Error::Parse(e) => map_parse(e),
        Error::Read(e) => map_read(e),
        Error::Live(e) => map_live(e),
        Error::Counter(e) => map_counter(e),
        Error::Json(_) => HO_JSON,
        Error::Config(e) => map_config(e),
        Error::Block(e) => match e {
            BlockError::Allowlisted { .. } => HO_BLOCK_ALLOWLISTED,
            BlockError::Full { .. } => HO_BLOCK_FULL,
            BlockError::ZeroTtl { .. } => HO_BLOCK_ZERO_TTL,
            _ => HO_UNKNOWN_ERROR,
        },
        Error::Firewall(e) => match e {
            FirewallError::BadName { .. } => HO_FIREWALL_BAD_NAME,
            _ => HO_UNKNOWN_ERROR,
        },
        Error::State(e) => match e {
            StateError::Io { .. } => HO_STATE_IO,
            StateError::Empty => HO_STATE_EMPTY,
            StateError::NotAStateFile { .. } => HO_STATE_NOT_A_STATE_FILE,
            StateError::Version { .. } => HO_STATE_VERSION,
            StateError::Bad { .. } => HO_STATE_BAD,
            StateError::Truncated { .. } => HO_STATE_TRUNCATED,
            StateError::Checksum { .. } => HO_STATE_CHECKSUM,
            StateError::Overlap { .. } => HO_STATE_OVERLAP,
            _ => HO_UNKNOWN_ERROR,
        },
    }
}

fn map_config(e: &ConfigError) -> ho_result {
    use ho_result::*;
    match e {
        ConfigError::Levels(LevelError::Empty { .. }) => HO_CONFIG_LEVELS_EMPTY,
        ConfigError::Levels(LevelError::TooLong { .. }) => HO_CONFIG_LEVEL_TOO_LONG,
        ConfigError::Share { .. } => HO_CONFIG_SHARE,
        ConfigError::MinBlockLen { .. } => HO_CONFIG_MIN_BLOCK_LEN,
    }
}

fn map_parse(e: &ParseError) -> ho_result {
    use ho_result::*;
    match e {
        ParseError::ColumnCount { .. } => HO_PARSE_COLUMN_COUNT,
        ParseError::BadHex { .. } => HO_PARSE_BAD_HEX,
        ParseError::BadDecimal { .. } => HO_PARSE_BAD_DECIMAL,
        ParseError::OutOfRange { .. } => HO_PARSE_OUT_OF_RANGE,
        ParseError::AddressWidth { .. } => HO_PARSE_ADDRESS_WIDTH,
        ParseError::UnknownFamily { .. } => HO_PARSE_UNKNOWN_FAMILY,
        ParseError::Malformed { .. } => HO_PARSE_MALFORMED,
        ParseError::UnknownState { .. } => HO_PARSE_UNKNOWN_STATE,
        ParseError::NotText { .. } => HO_PARSE_NOT_TEXT,
        ParseError::Truncated { .. } => HO_PARSE_TRUNCATED,
        ParseError::LineTooLong { .. } => HO_PARSE_LINE_TOO_LONG,
        _ => HO_UNKNOWN_ERROR,
    }
}

fn map_read(e: &ReadError) -> ho_result {
    match e {
        ReadError::Io { .. } => ho_result::HO_READ_IO,
        ReadError::Parse { source, .. } => map_parse(source),
        _ => ho_result::HO_UNKNOWN_ERROR,
    }
}

fn map_netlink(e: &sockdiag::Error) -> ho_result {
    use ho_result::*;
    match e {
        sockdiag::Error::Open { .. } => HO_NETLINK_OPEN,
        sockdiag::Error::Io { .. } => HO_NETLINK_IO,
        sockdiag::Error::Kernel { .. } => HO_NETLINK_KERNEL,
        sockdiag::Error::Decode { source, .. } => match source {
            DecodeError::Truncated { .. } => HO_NETLINK_DECODE_TRUNCATED,
            DecodeError::BadLength { .. } => HO_NETLINK_DECODE_BAD_LENGTH,
            DecodeError::UnexpectedType { .. } => HO_NETLINK_DECODE_UNEXPECTED_TYPE,
            DecodeError::Overrun { .. } => HO_NETLINK_DECODE_OVERRUN,
            DecodeError::UnknownFamily { .. } => HO_NETLINK_DECODE_UNKNOWN_FAMILY,
            DecodeError::UnknownState { .. } => HO_NETLINK_DECODE_UNKNOWN_STATE,
            _ => HO_UNKNOWN_ERROR,
        },
        sockdiag::Error::DatagramTooLong { .. } => HO_NETLINK_DATAGRAM_TOO_LONG,
        sockdiag::Error::WrongFamily { .. } => HO_NETLINK_WRONG_FAMILY,
        _ => HO_UNKNOWN_ERROR,
    }
}

fn map_netns(e: &NetnsError) -> ho_result {
    match e {
        NetnsError::Open { .. } => ho_result::HO_NETNS_OPEN,
        NetnsError::Enter { .. } => ho_result::HO_NETNS_ENTER,
        NetnsError::Thread { .. } => ho_result::HO_NETNS_THREAD,
        _ => ho_result::HO_UNKNOWN_ERROR,
    }
}

fn map_live(e: &LiveError) -> ho_result {
    match e {
        LiveError::Netlink(e) => map_netlink(e),
        LiveError::Proc(e) => map_read(e),
        LiveError::Namespace(e) => map_netns(e),
        LiveError::NotLive { .. } => ho_result::HO_LIVE_NOT_LIVE,
        _ => ho_result::HO_UNKNOWN_ERROR,
    }
}

fn map_counter(e: &CounterError) -> ho_result {
    use ho_result::*;
    match e {
        CounterError::Io { .. } => HO_COUNTER_IO,
        CounterError::Parse { source, .. } => match source {
            CounterParseError::BadValue { .. } => HO_COUNTER_PARSE_BAD_VALUE,
            CounterParseError::ColumnMismatch { .. } => HO_COUNTER_PARSE_COLUMN_MISMATCH,
            CounterParseError::MissingValues { .. } => HO_COUNTER_PARSE_MISSING_VALUES,
            CounterParseError::Malformed { .. } => HO_COUNTER_PARSE_MALFORMED,
            _ => HO_UNKNOWN_ERROR,
        },
        CounterError::BadSetting { .. } => HO_COUNTER_BAD_SETTING,
        CounterError::Table(e) => map_read(e),
        CounterError::Rate(_) => HO_COUNTER_RATE,
        CounterError::Netns { source, .. } | CounterError::Namespace(source) => map_netns(source),
        _ => HO_UNKNOWN_ERROR,
    }
}

/// Where an error points: its line and field, and the operating system's
/// error number behind it.
#[derive(Default)]
struct Details {
    line: u64,
    field: Option<String>,
    os_code: i32,
}

fn parse_details(e: &ParseError) -> Details {
    Details {
        line: e.line(),
        field: e.field().map(|f| f.name().to_owned()),
        os_code: 0,
    }
}

fn read_details(e: &ReadError) -> Details {
    match e {
        ReadError::Io { source, .. } => os(source),
        ReadError::Parse { source, .. } => parse_details(source),
        _ => Details::default(),
    }
}

fn os(e: &std::io::Error) -> Details {
    Details {
        os_code: e.raw_os_error().unwrap_or(0),
        ..Details::default()
    }
}

fn details(e: &Error) -> Details {
    match e {
        Error::Parse(e) => parse_details(e),
        Error::Read(e) => read_details(e),
        Error::Live(LiveError::Proc(e)) => read_details(e),
        Error::Live(LiveError::Namespace(e)) => os(e.io_error()),
        Error::Live(LiveError::Netlink(e)) => match e {
            sockdiag::Error::Open { source } | sockdiag::Error::Io { source, .. } => os(source),
            sockdiag::Error::Kernel { errno, .. } => Details {
                os_code: *errno,
                ..Details::default()
            },
            sockdiag::Error::Decode { source, .. } => Details {
                field: Some(source.field().name().to_owned()),
                ..Details::default()
            },
            _ => Details::default(),
        },
        Error::Config(ConfigError::Share { name, .. }) => Details {
            field: Some((*name).to_owned()),
            ..Details::default()
        },
        Error::State(StateError::Io { source, .. }) => os(source),
        Error::State(StateError::Bad { line, field, .. }) => Details {
            line: *line as u64,
            field: Some((*field).to_owned()),
            os_code: 0,
        },
        Error::State(StateError::NotAStateFile { .. } | StateError::Version { .. }) => Details {
            line: 1,
            ..Details::default()
        },
        Error::State(StateError::Overlap { line, .. }) => Details {
            line: *line as u64,
            ..Details::default()
        },
        Error::Counter(e) => match e {
            CounterError::Io { source, .. } => os(source),
            CounterError::Parse { source, .. } => Details {
                line: source.line(),
                field: source.field().map(str::to_owned),
                os_code: 0,
            },
            CounterError::Table(e) => read_details(e),
            CounterError::Netns { source, .. } | CounterError::Namespace(source) => {
                os(source.io_error())
            }
            _ => Details::default(),
        },
        _ => Details::default(),
    }
}

/// The last error of a thread, kept for the `ho_last_error_*` functions.
struct LastError {
    code: ho_result,
    message: CString,
    line: u64,
    field: Option<CString>,
    os_code: i32,
}

thread_local! {
    static LAST: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// Records `e` as this thread's last error and returns its code.
pub(crate) fn record(e: Error) -> ho_result {
    let code = map_error(&e);
    let Details {
        line,
        field,
        os_code,
    } = details(&e);
    let field = field.and_then(|f| CString::new(f).ok());
    let text = e.to_string().replace('\0', "\\0");
    let message = CString::new(text).unwrap_or_default();
    LAST.with(|last| {
        *last.borrow_mut() = Some(LastError {
            code,
            message,
            line,
            field,
            os_code,
        })
    });
    code
}

/// Forgets this thread's last error (after a call that succeeded).
pub(crate) fn clear() {
    LAST.with(|last| *last.borrow_mut() = None);
}

/// The text of the last error on the calling thread: what failed, and for a
/// malformed table the line and the column (`"line 3: field st: unknown TCP
/// state code 0x42"`). An empty string when the last call that returns
/// `ho_result` succeeded, or none was made.
///
/// Ownership: the library owns the text; do not free it. It stays valid
/// until the calling thread's next call of a function that returns
/// `ho_result` (copy it to keep it). Never NULL.
///
/// Threads: each thread has its own last error.
#[no_mangle]
pub extern "C" fn ho_last_error_message() -> *const c_char {
    ffi_fn! {
        LAST.with(|last| match &*last.borrow() {
            Some(e) => e.message.as_ptr(),
            None => c"".as_ptr(),
        })
    }
}

/// Copies the text of the calling thread's last error (see
/// `ho_last_error_message`) into `buf`, NUL-terminated.
///
/// `*out_len` receives the text's length without the NUL. When `capacity`
/// is smaller than that length plus one, nothing is copied, `*out_len`
/// still receives the length and the result is `HO_BUFFER_TOO_SMALL`; a
/// NULL `buf` with `capacity` 0 asks for the length. `out_len` must not be
/// NULL.
///
/// Ownership: `buf` is the caller's. This call leaves the last error as it
/// was. Threads: reads the calling thread's last error only.
#[no_mangle]
pub extern "C" fn ho_last_error_message_into(
    buf: *mut c_char,
    capacity: usize,
    out_len: *mut usize,
) -> ho_result {
    ffi_fn! {
        if out_len.is_null() {
            return ho_result::HO_NULL_PARAMETER;
        }
        LAST.with(|last| {
            let last = last.borrow();
            let text = last.as_ref().map_or(&b""[..], |e| e.message.as_bytes());
            // SAFETY: checked non-NULL above; the caller passes a writable size_t.
            unsafe { out_len.write(text.len()) };
            if buf.is_null() || capacity <= text.len() {
                return ho_result::HO_BUFFER_TOO_SMALL;
            }
            // SAFETY: `buf` holds `capacity` > text.len() writable bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
                buf.add(text.len()).write(0);
            }
            ho_result::HO_OK
        })
    }
}

/// The code of the calling thread's last error, `HO_OK` when the last call
/// that returns `ho_result` succeeded.
///
/// Threads: each thread has its own last error.
#[no_mangle]
pub extern "C" fn ho_last_error_code() -> ho_result {
    ffi_fn! {
        LAST.with(|last| last.borrow().as_ref().map_or(ho_result::HO_OK, |e| e.code))
    }
}

/// The line (counting from 1, header included) of the calling thread's last
/// error when it is about a malformed line of a table, counter file or
/// state file; 0 otherwise.
///
/// Threads: each thread has its own last error.
#[no_mangle]
pub extern "C" fn ho_last_error_line() -> u64 {
    ffi_fn! {
        LAST.with(|last| last.borrow().as_ref().map_or(0, |e| e.line))
    }
}

/// The field of the calling thread's last error when it is about one: a
/// table column as the header names it (`"rem_address"`, `"st"`), a counter
/// (`"TcpExt.SyncookiesSent"`) or a netlink message field
/// (`"idiag_state"`); NULL otherwise.
///
/// Ownership: the library owns the text; do not free it. It lives as long
/// as `ho_last_error_message()`'s. Threads: each thread has its own last
/// error.
#[no_mangle]
pub extern "C" fn ho_last_error_field() -> *const c_char {
    ffi_fn! {
        LAST.with(|last| {
            last.borrow()
                .as_ref()
                .and_then(|e| e.field.as_ref())
                .map_or(std::ptr::null(), |f| f.as_ptr())
        })
    }
}

/// The operating system's error number (errno) behind the calling thread's
/// last error (`HO_READ_IO`, `HO_NETLINK_KERNEL`, `HO_NETNS_ENTER`, ...); 0
/// when there is none.
///
/// Threads: each thread has its own last error.
#[no_mangle]
pub extern "C" fn ho_last_error_os_code() -> i32 {
    ffi_fn! {
        LAST.with(|last| last.borrow().as_ref().map_or(0, |e| e.os_code))
    }
}

/// The name of a result code (`"HO_PARSE_BAD_HEX"`), or NULL for a number
/// that is no `ho_result`.
///
/// Ownership: a static string; never free it. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_result_name(code: u32) -> *const c_char {
    ffi_fn! {
        result_name(code).map_or(std::ptr::null(), |n| n.as_ptr())
    }
}

macro_rules! result_names {
    ($($name:ident),* $(,)?) => {
        /// Every result code with its name.
        pub(crate) const ALL_RESULTS: &[(ho_result, &std::ffi::CStr)] = &[
            $((ho_result::$name, {
                const NAME: &str = concat!(stringify!($name), "\0");
                match std::ffi::CStr::from_bytes_with_nul(NAME.as_bytes()) {
                    Ok(c) => c,
                    Err(_) => panic!("name with a NUL"),
                }
            })),*
        ];

        /// Checks at compile time that `ALL_RESULTS` lists every code.
        #[allow(dead_code)]
        fn every_result_is_named(code: ho_result) {
            match code {
                $(ho_result::$name => {})*
            }
        }
    };
}

result_names! {
    HO_OK,
    HO_NULL_PARAMETER,
    HO_PANIC,
    HO_INVALID_ARGUMENT,
    HO_INDEX_OUT_OF_RANGE,
    HO_BUFFER_TOO_SMALL,
    HO_UNKNOWN_ERROR,
    HO_JSON,
    HO_PARSE_COLUMN_COUNT,
    HO_PARSE_BAD_HEX,
    HO_PARSE_BAD_DECIMAL,
    HO_PARSE_OUT_OF_RANGE,
    HO_PARSE_ADDRESS_WIDTH,
    HO_PARSE_UNKNOWN_FAMILY,
    HO_PARSE_MALFORMED,
    HO_PARSE_UNKNOWN_STATE,
    HO_PARSE_NOT_TEXT,
    HO_PARSE_TRUNCATED,
    HO_PARSE_LINE_TOO_LONG,
    HO_READ_IO,
    HO_NETLINK_OPEN,
    HO_NETLINK_IO,
    HO_NETLINK_KERNEL,
    HO_NETLINK_DATAGRAM_TOO_LONG,
    HO_NETLINK_WRONG_FAMILY,
    HO_NETLINK_DECODE_TRUNCATED,
    HO_NETLINK_DECODE_BAD_LENGTH,
    HO_NETLINK_DECODE_UNEXPECTED_TYPE,
    HO_NETLINK_DECODE_OVERRUN,
    HO_NETLINK_DECODE_UNKNOWN_FAMILY,
    HO_NETLINK_DECODE_UNKNOWN_STATE,
    HO_NETNS_OPEN,
    HO_NETNS_ENTER,
    HO_NETNS_THREAD,
    HO_LIVE_NOT_LIVE,
    HO_COUNTER_IO,
    HO_COUNTER_BAD_SETTING,
    HO_COUNTER_RATE,
    HO_COUNTER_PARSE_BAD_VALUE,
    HO_COUNTER_PARSE_COLUMN_MISMATCH,
    HO_COUNTER_PARSE_MISSING_VALUES,
    HO_COUNTER_PARSE_MALFORMED,
    HO_CONFIG_LEVELS_EMPTY,
    HO_CONFIG_LEVEL_TOO_LONG,
    HO_CONFIG_SHARE,
    HO_CONFIG_MIN_BLOCK_LEN,
    HO_BLOCK_ALLOWLISTED,
    HO_BLOCK_FULL,
    HO_BLOCK_ZERO_TTL,
    HO_FIREWALL_BAD_NAME,
    HO_STATE_IO,
    HO_STATE_EMPTY,
    HO_STATE_NOT_A_STATE_FILE,
    HO_STATE_VERSION,
    HO_STATE_BAD,
    HO_STATE_TRUNCATED,
    HO_STATE_CHECKSUM,
    HO_STATE_OVERLAP,
}

fn result_name(code: u32) -> Option<&'static std::ffi::CStr> {
    ALL_RESULTS
        .iter()
        .find(|(r, _)| *r as u32 == code)
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halfopen::procnet::{parse_table, Family};
    use std::ffi::CStr;

    #[test]
    fn codes_are_unique_and_named() {
        let mut seen = std::collections::HashSet::new();
        for (code, name) in ALL_RESULTS {
            assert!(seen.insert(*code as u32), "{name:?} reuses a number");
            assert_eq!(result_name(*code as u32), Some(*name));
            assert_eq!(format!("{code:?}"), name.to_str().unwrap());
        }
        assert_eq!(result_name(99), None);
    }

    #[test]
    fn a_parse_error_keeps_line_and_field() {
        let table = b"  sl  local_address rem_address   st\n   0: 0100007F:0050 0100007F:ZZZZ 03 00000000:00000000 00:00000000 00000000 0 0 0\n";
        let e = parse_table(table, Some(Family::V4))
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(record(Error::Parse(e)), ho_result::HO_PARSE_BAD_HEX);
        assert_eq!(ho_last_error_line(), 2);
        let field = unsafe { CStr::from_ptr(ho_last_error_field()) };
        assert_eq!(field.to_str().unwrap(), "rem_port");
        let msg = unsafe { CStr::from_ptr(ho_last_error_message()) };
        assert_eq!(
            msg.to_str().unwrap(),
            "line 2: field rem_port: not hexadecimal: \"ZZZZ\""
        );
        assert_eq!(ho_last_error_code(), ho_result::HO_PARSE_BAD_HEX);
    }

    #[test]
    fn copy_reports_the_needed_length() {
        record(Error::NullParameter("table"));
        let mut len = 0usize;
        let r = ho_last_error_message_into(std::ptr::null_mut(), 0, &mut len);
        assert_eq!(r, ho_result::HO_BUFFER_TOO_SMALL);
        assert_eq!(len, "null parameter: table".len());
        let mut buf = vec![0 as c_char; len + 1];
        assert_eq!(
            ho_last_error_message_into(buf.as_mut_ptr(), buf.len(), &mut len),
            ho_result::HO_OK
        );
        let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(text.to_str().unwrap(), "null parameter: table");
        // Copying leaves the last error in place.
        assert_eq!(ho_last_error_code(), ho_result::HO_NULL_PARAMETER);
    }

    #[test]
    fn an_io_error_keeps_errno() {
        let e = halfopen::procnet::open_table("/nonexistent/halfopen/tcp").unwrap_err();
        assert_eq!(record(Error::Read(e)), ho_result::HO_READ_IO);
        assert_eq!(ho_last_error_os_code(), 2);
        assert!(ho_last_error_field().is_null());
    }
}
