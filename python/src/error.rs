//! The exception hierarchy, mapped one to one from core's error enums.
//!
//! Every exception derives from `halfopen.Error`. Errors caused by bad input
//! (a malformed table, a bad prefix or setting) also derive from
//! `ValueError`, so code that catches `ValueError` keeps working. Errors of
//! the operating system become the matching built-in `OSError` subclass
//! (`FileNotFoundError`, `PermissionError`, ...) with `errno` and `filename`
//! set, exactly as Python's own `open()` raises them.

use std::ffi::CStr;

use halfopen::blockset::state_file::StateError as CoreStateError;
use halfopen::blockset::BlockError as CoreBlockError;
use halfopen::counters::{CounterError as CoreCounterError, CounterParseError};
use halfopen::live::LiveError;
use halfopen::netns::NetnsError;
use halfopen::procnet::{ParseError, ReadError};
use halfopen::sockdiag;
use halfopen::verdict::ConfigError as CoreConfigError;
use pyo3::exceptions::{PyException, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

pyo3::create_exception!(
    halfopen,
    Error,
    PyException,
    "The base of every error halfopen raises (operating-system errors aside, which are OSError)."
);

/// An exception type made at first use, with more than one base.
///
/// `create_exception!` takes one base; the bad-input errors need two
/// (`halfopen.Error` and `ValueError`), so they are made by calling `type`.
struct DualException {
    name: &'static str,
    doc: &'static CStr,
    attrs: &'static [&'static str],
    cell: PyOnceLock<Py<PyType>>,
}

impl DualException {
    const fn new(name: &'static str, doc: &'static CStr, attrs: &'static [&'static str]) -> Self {
        DualException {
            name,
            doc,
            attrs,
            cell: PyOnceLock::new(),
        }
    }

    /// The type object, made on first use.
    fn get<'py>(&'static self, py: Python<'py>) -> PyResult<&'py Bound<'py, PyType>> {
        self.cell
            .get_or_try_init(py, || {
                let dict = PyDict::new(py);
                dict.set_item("__module__", "halfopen")?;
                dict.set_item("__doc__", self.doc.to_str().unwrap_or_default())?;
                dict.set_item("__qualname__", self.name)?;
                for attr in self.attrs {
                    dict.set_item(*attr, py.None())?;
                }
                let bases =
                    PyTuple::new(py, [py.get_type::<Error>(), py.get_type::<PyValueError>()])?;
                let made = py
                    .get_type::<PyType>()
                    .call1((self.name, bases, dict))?
                    .cast_into::<PyType>()?;
                Ok(made.unbind())
            })
            .map(|ty| ty.bind(py))
    }
}

pyo3::create_exception!(
    halfopen,
    NetlinkError,
    Error,
    "The kernel's sock_diag answer could not be decoded (a kernel this version does not understand)."
);

pyo3::create_exception!(
    halfopen,
    CounterError,
    Error,
    "The kernel's counters could not be sampled: a setting that is not a number, or a sample older than the previous one."
);

pyo3::create_exception!(
    halfopen,
    BlockError,
    Error,
    "The block set refused a block: it is full, or the TTL is zero."
);

pyo3::create_exception!(
    halfopen,
    AllowlistError,
    BlockError,
    "A prefix that overlaps the allowlist cannot be blocked; ``.prefix`` and ``.allowed`` name both."
);

static PREFIX_ERROR: DualException = DualException::new(
    "PrefixError",
    c"Text that is neither an IP prefix (``198.18.0.0/15``) nor an address; ``.text`` holds it.",
    &["text"],
);

static CONFIG_ERROR: DualException = DualException::new(
    "ConfigError",
    c"Report settings that do not fit together: a prefix level longer than an\n\
      address, a share outside 0..1, a minimum block length too long.",
    &[],
);

pyo3::create_exception!(
    halfopen,
    StateError,
    Error,
    "A saved block set that cannot be restored: truncated, altered, of another format or version, or with overlapping blocks."
);

static PARSE_ERROR: DualException = DualException::new(
    "ParseError",
    c"A TCP table row that does not follow the kernel's format.\n\n\
      ``line`` is the 1-based line number (the header counts), ``field`` the\n\
      column's name as the table's header spells it (``None`` when the error\n\
      is about the whole row) and ``path`` the file, when there was one.",
    &["line", "field", "path"],
);

static SOURCE_ERROR: DualException = DualException::new(
    "SourceError",
    c"A live source asked of something it cannot read, for example netlink\n\
      asked to read a directory of captured tables.",
    &[],
);

/// Adds the exception types to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("AllowlistError", py.get_type::<AllowlistError>())?;
    m.add("BlockError", py.get_type::<BlockError>())?;
    m.add("ConfigError", CONFIG_ERROR.get(py)?)?;
    m.add("CounterError", py.get_type::<CounterError>())?;
    m.add("PrefixError", PREFIX_ERROR.get(py)?)?;
    m.add("StateError", py.get_type::<StateError>())?;
    m.add("NetlinkError", py.get_type::<NetlinkError>())?;
    m.add("ParseError", PARSE_ERROR.get(py)?)?;
    m.add("SourceError", SOURCE_ERROR.get(py)?)?;
    Ok(())
}

/// Every error core can return, as one type.
///
/// Adding a core error type means adding a variant here, and the compiler
/// then points at the one `match` that maps it to its exception.
#[derive(Debug)]
pub enum CoreError {
    /// A malformed table row.
    Parse(ParseError),
    /// A table that could not be read, or a malformed row in it.
    Read(ReadError),
    /// A live snapshot that failed (netlink, /proc or the namespace).
    Live(LiveError),
    /// The kernel's counters could not be sampled.
    Counter(CoreCounterError),
    /// The block set refused a block.
    Block(CoreBlockError),
    /// Report settings that do not fit together.
    Config(CoreConfigError),
    /// A saved block set that cannot be saved or restored.
    State(CoreStateError),
    /// A file core read (the host's addresses) could not be read.
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// The newtype through which core's errors become Python exceptions.
#[derive(Debug)]
pub struct PyHoError(pub CoreError);

impl From<ParseError> for PyHoError {
    fn from(e: ParseError) -> Self {
        PyHoError(CoreError::Parse(e))
    }
}

impl From<ReadError> for PyHoError {
    fn from(e: ReadError) -> Self {
        PyHoError(CoreError::Read(e))
    }
}

impl From<LiveError> for PyHoError {
    fn from(e: LiveError) -> Self {
        PyHoError(CoreError::Live(e))
    }
}

impl From<CoreCounterError> for PyHoError {
    fn from(e: CoreCounterError) -> Self {
        PyHoError(CoreError::Counter(e))
    }
}

impl From<CoreBlockError> for PyHoError {
    fn from(e: CoreBlockError) -> Self {
        PyHoError(CoreError::Block(e))
    }
}

impl PyHoError {
    /// An error reading `path`.
    pub fn io(path: std::path::PathBuf, source: std::io::Error) -> Self {
        PyHoError(CoreError::Io { path, source })
    }
}

impl From<CoreStateError> for PyHoError {
    fn from(e: CoreStateError) -> Self {
        PyHoError(CoreError::State(e))
    }
}

impl From<CoreConfigError> for PyHoError {
    fn from(e: CoreConfigError) -> Self {
        PyHoError(CoreError::Config(e))
    }
}

impl From<PyHoError> for PyErr {
    fn from(e: PyHoError) -> PyErr {
        Python::attach(|py| match e.0 {
            CoreError::Parse(e) => parse_error(py, &e, None),
            CoreError::Read(e) => read_error(py, e),
            CoreError::Live(LiveError::Proc(e)) => read_error(py, e),
            CoreError::Live(LiveError::Netlink(e)) => netlink_error(py, e),
            CoreError::Live(LiveError::Namespace(e)) => netns_error(py, &e),
            CoreError::Live(e @ LiveError::NotLive { .. }) => {
                dual_error(py, &SOURCE_ERROR, e.to_string())
            }
            CoreError::Counter(CoreCounterError::Io { path, source }) => {
                os_error(py, &path, &source)
            }
            CoreError::Counter(CoreCounterError::Parse { path, source }) => {
                counter_parse_error(py, &source, &path)
            }
            CoreError::Counter(CoreCounterError::Table(e)) => read_error(py, e),
            CoreError::Counter(CoreCounterError::Netns { source, .. })
            | CoreError::Counter(CoreCounterError::Namespace(source)) => netns_error(py, &source),
            CoreError::Counter(e @ CoreCounterError::BadSetting { .. })
            | CoreError::Counter(e @ CoreCounterError::Rate(_)) => {
                CounterError::new_err(e.to_string())
            }
            CoreError::Block(CoreBlockError::Allowlisted { prefix, allowed }) => {
                let message = format!("{prefix} overlaps the allowlisted {allowed}");
                let made = (|| -> PyResult<PyErr> {
                    let value = py.get_type::<AllowlistError>().call1((message,))?;
                    value.setattr("prefix", crate::net::network(py, prefix)?)?;
                    value.setattr("allowed", crate::net::network(py, allowed)?)?;
                    Ok(PyErr::from_value(value))
                })();
                made.unwrap_or_else(|failed| failed)
            }
            CoreError::Config(e) => dual_error(py, &CONFIG_ERROR, e.to_string()),
            CoreError::State(CoreStateError::Io { path, source, .. }) => {
                os_error(py, &path, &source)
            }
            CoreError::State(e) => StateError::new_err(e.to_string()),
            CoreError::Io { path, source } => os_error(py, &path, &source),
            // The enums are non-exhaustive: a variant core adds later is
            // still an Error, with core's message.
            CoreError::Block(e) => BlockError::new_err(e.to_string()),
            CoreError::Live(e) => Error::new_err(e.to_string()),
            CoreError::Counter(e) => CounterError::new_err(e.to_string()),
        })
    }
}

fn read_error(py: Python<'_>, e: ReadError) -> PyErr {
    match e {
        ReadError::Parse { path, source } => {
            parse_error(py, &source, Some(path.display().to_string()))
        }
        ReadError::Io { path, source } => os_error(py, &path, &source),
        other => Error::new_err(other.to_string()),
    }
}

/// Socket and kernel errors of netlink are OS errors; an answer that cannot
/// be decoded is a `NetlinkError`.
fn netlink_error(py: Python<'_>, e: sockdiag::Error) -> PyErr {
    let errno = match &e {
        sockdiag::Error::Open { source } | sockdiag::Error::Io { source, .. } => {
            source.raw_os_error()
        }
        sockdiag::Error::Kernel { errno, .. } => Some(*errno),
        _ => None,
    };
    match errno {
        Some(errno) => os_error_message(py, errno, without_os_error(e.to_string()), None),
        None => NetlinkError::new_err(e.to_string()),
    }
}

fn netns_error(py: Python<'_>, e: &NetnsError) -> PyErr {
    let path = match e {
        NetnsError::Open { path, .. }
        | NetnsError::Enter { path, .. }
        | NetnsError::Thread { path, .. } => Some(path.as_path()),
        _ => None,
    };
    match e.io_error().raw_os_error() {
        Some(errno) => os_error_message(py, errno, strerror(errno), path),
        None => PyOSError::new_err(e.to_string()),
    }
}

/// An exception of a two-base type with `message`.
fn dual_error(py: Python<'_>, ty: &'static DualException, message: String) -> PyErr {
    match ty.get(py) {
        Ok(ty) => PyErr::from_type(ty.clone(), message),
        Err(failed) => failed,
    }
}

/// A `halfopen.ParseError` with `line`, `field` and `path` set.
fn parse_error(py: Python<'_>, e: &ParseError, path: Option<String>) -> PyErr {
    located_parse_error(
        py,
        e.to_string(),
        e.line(),
        e.field().map(|f| f.name()),
        path,
    )
}

/// A malformed counter file is a `halfopen.ParseError` too.
fn counter_parse_error(py: Python<'_>, e: &CounterParseError, path: &std::path::Path) -> PyErr {
    let path = path.display().to_string();
    located_parse_error(py, e.to_string(), e.line(), e.field(), Some(path))
}

fn located_parse_error(
    py: Python<'_>,
    message: String,
    line: u64,
    field: Option<&str>,
    path: Option<String>,
) -> PyErr {
    let message = match &path {
        Some(path) => format!("{path}: {message}"),
        None => message,
    };
    let made = (|| -> PyResult<PyErr> {
        let ty = PARSE_ERROR.get(py)?;
        let value = ty.call1((message,))?;
        value.setattr("line", line)?;
        value.setattr("field", field)?;
        value.setattr("path", path)?;
        Ok(PyErr::from_value(value))
    })();
    made.unwrap_or_else(|failed| failed)
}

/// The built-in `OSError` subclass for `source` (Python picks it from the
/// errno: `FileNotFoundError`, `PermissionError`, ...).
pub fn os_error(py: Python<'_>, path: &std::path::Path, source: &std::io::Error) -> PyErr {
    match source.raw_os_error() {
        Some(errno) => os_error_message(py, errno, strerror(errno), Some(path)),
        None => PyOSError::new_err(format!("{}: {source}", path.display())),
    }
}

/// The system's text for `errno`.
fn strerror(errno: i32) -> String {
    without_os_error(std::io::Error::from_raw_os_error(errno).to_string())
}

/// `text` without the " (os error N)" Rust adds; Python shows the errno itself.
fn without_os_error(text: String) -> String {
    match text.find(" (os error ") {
        Some(cut) => {
            let rest = &text[cut + 1..];
            let close = rest.find(')').map_or(text.len(), |i| cut + 1 + i + 1);
            format!("{}{}", &text[..cut], &text[close..])
        }
        None => text,
    }
}

/// `OSError(errno, message, filename)`, which Python turns into the subclass
/// for `errno`.
fn os_error_message(
    py: Python<'_>,
    errno: i32,
    message: String,
    path: Option<&std::path::Path>,
) -> PyErr {
    let ty = py.get_type::<PyOSError>();
    let made = match path {
        Some(path) => ty.call1((errno, message, path.display().to_string())),
        None => ty.call1((errno, message)),
    };
    made.map(PyErr::from_value).unwrap_or_else(|failed| failed)
}

/// A `halfopen.PrefixError` for `text` that is no prefix.
pub fn prefix_error(py: Python<'_>, text: &str) -> PyErr {
    let shown = halfopen::procnet::Snippet::new(text.as_bytes());
    let made = (|| -> PyResult<PyErr> {
        let ty = PREFIX_ERROR.get(py)?;
        let value = ty.call1((format!("not an IP prefix or address: {:?}", shown.as_str()),))?;
        value.setattr("text", text)?;
        Ok(PyErr::from_value(value))
    })();
    made.unwrap_or_else(|failed| failed)
}
