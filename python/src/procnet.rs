//! The TCP table parser: `parse`, `parse_file`, `read_live` and `TcpEntry`.
//!
//! Parsing runs with the GIL released, so two Python threads parse at once.

use std::path::{Path, PathBuf};

use halfopen::live::{self, Namespace, Options, Source};
use halfopen::procnet::{self, Family, TcpEntry, TcpState};
use halfopen::sockdiag::StateSet;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::error::PyHoError;

/// A family argument: `4`, `6` or `None` (detect from the first row).
pub fn family_arg(family: Option<u8>) -> PyResult<Option<Family>> {
    match family {
        None => Ok(None),
        Some(4) => Ok(Some(Family::V4)),
        Some(6) => Ok(Some(Family::V6)),
        Some(other) => Err(PyValueError::new_err(format!(
            "family must be 4, 6 or None, not {other}"
        ))),
    }
}

/// The family as Python speaks of it: the IP version, 4 or 6.
pub fn family_number(family: Family) -> u8 {
    match family {
        Family::V4 => 4,
        Family::V6 => 6,
    }
}

/// Decodes a whole table held in memory; the first bad row is an error.
pub fn decode_all(
    data: &[u8],
    family: Option<Family>,
) -> Result<Vec<TcpEntry<'static>>, PyHoError> {
    let mut out = Vec::new();
    for row in procnet::parse_table(data, family) {
        out.push(row?.detach());
    }
    Ok(out)
}

/// Reads a table file; the first bad row is an error.
pub fn decode_file(
    path: &std::path::Path,
    family: Option<Family>,
) -> Result<Vec<TcpEntry<'static>>, PyHoError> {
    let mut reader = procnet::open_table(path)?;
    if let Some(family) = family {
        reader = reader.family(family);
    }
    let mut out = Vec::new();
    reader.for_each(|e| out.push(e.detach()))?;
    Ok(out)
}

/// Reads both live tables of a namespace.
pub fn decode_live(opts: &Options) -> Result<Vec<TcpEntry<'static>>, PyHoError> {
    Ok(live::snapshot(opts)?.0)
}

/// The namespace named by `pid` or `netns` (a name made by `ip netns add`,
/// the path of a namespace file, or a directory of captured `tcp` and `tcp6`
/// tables); this process's without either.
pub fn namespace_arg(pid: Option<u32>, netns: Option<PathBuf>) -> PyResult<Namespace> {
    match (pid, netns) {
        (None, None) => Ok(Namespace::Current),
        (Some(pid), None) => Ok(Namespace::Pid(pid)),
        (None, Some(path)) if !is_name(&path) && path.is_dir() => Ok(Namespace::Dir(path)),
        (None, Some(path)) => Ok(Namespace::Path(namespace_file(path))),
        (Some(_), Some(_)) => Err(PyValueError::new_err("give pid or netns, not both")),
    }
}

/// True for a namespace name as `ip netns add` takes it (no `/`).
fn is_name(netns: &Path) -> bool {
    netns.to_str().is_some_and(|name| !name.contains('/'))
}

/// The namespace file of `netns`: `/run/netns/NAME` for a name, else the
/// path as given.
pub fn namespace_file(netns: PathBuf) -> PathBuf {
    match netns.to_str() {
        Some(name) if is_name(&netns) => halfopen::netns::named(name),
        _ => netns,
    }
}

/// A source argument: `"auto"`, `"netlink"` or `"proc"`.
pub fn source_arg(source: &str) -> PyResult<Source> {
    Source::from_name(source).ok_or_else(|| {
        PyValueError::new_err(format!(
            "source must be 'auto', 'netlink' or 'proc', not {source:?}"
        ))
    })
}

/// A states argument: state names, or `None` for every state.
pub fn states_arg(states: Option<Vec<String>>) -> PyResult<StateSet> {
    let Some(names) = states else {
        return Ok(StateSet::ALL);
    };
    let mut set = StateSet::EMPTY;
    for name in &names {
        let state = TcpState::from_name(&name.to_ascii_uppercase())
            .ok_or_else(|| PyValueError::new_err(format!("unknown TCP state {name:?}")))?;
        set = set.with(state);
    }
    Ok(set)
}

/// The reading options from Python's keyword arguments.
pub fn live_options(
    pid: Option<u32>,
    netns: Option<PathBuf>,
    source: &str,
    states: Option<Vec<String>>,
) -> PyResult<Options> {
    Ok(Options::new()
        .namespace(namespace_arg(pid, netns)?)
        .source(source_arg(source)?)
        .states(states_arg(states)?))
}

/// One row of a kernel TCP table (``/proc/net/tcp`` or ``/proc/net/tcp6``).
///
/// Entries are immutable, compare equal field by field and can be hashed.
/// Addresses are ``ipaddress.IPv4Address`` or ``ipaddress.IPv6Address``.
#[pyclass(name = "TcpEntry", module = "halfopen", frozen, eq, hash)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyTcpEntry(pub TcpEntry<'static>);

#[pymethods]
impl PyTcpEntry {
    /// The row's slot number (``sl``).
    #[getter]
    fn slot(&self) -> u32 {
        self.0.slot
    }

    /// The local address.
    #[getter]
    fn local_address(&self) -> std::net::IpAddr {
        self.0.local.ip()
    }

    /// The local port.
    #[getter]
    fn local_port(&self) -> u16 {
        self.0.local.port()
    }

    /// The remote address.
    #[getter]
    fn remote_address(&self) -> std::net::IpAddr {
        self.0.remote.ip()
    }

    /// The remote port.
    #[getter]
    fn remote_port(&self) -> u16 {
        self.0.remote.port()
    }

    /// The state's name as the kernel spells it, e.g. ``"SYN_RECV"``.
    #[getter]
    fn state(&self) -> &'static str {
        self.0.state.name()
    }

    /// The state's numeric code (``st``), e.g. ``3`` for ``SYN_RECV``.
    #[getter]
    fn state_code(&self) -> u8 {
        self.0.state.code()
    }

    /// Bytes in the send queue.
    #[getter]
    fn tx_queue(&self) -> u32 {
        self.0.tx_queue
    }

    /// Bytes in the receive queue (for a listener: the accept queue's length).
    #[getter]
    fn rx_queue(&self) -> u32 {
        self.0.rx_queue
    }

    /// The pending timer's code (``tr``): 0 none, 1 retransmit, 2 keepalive,
    /// 3 TIME_WAIT, 4 zero-window probe.
    #[getter]
    fn timer(&self) -> u8 {
        self.0.timer.code()
    }

    /// Clock ticks until the timer fires (``tm->when``).
    #[getter]
    fn timer_expires(&self) -> u64 {
        self.0.timer_expires
    }

    /// Retransmissions so far (for a half-open entry: SYN-ACKs resent).
    #[getter]
    fn retransmits(&self) -> u32 {
        self.0.retransmits
    }

    /// The owning user id.
    #[getter]
    fn uid(&self) -> u32 {
        self.0.uid
    }

    /// Unanswered probes (``timeout``).
    #[getter]
    fn timeout(&self) -> i32 {
        self.0.timeout
    }

    /// The socket's inode; 0 for a connection request that has no socket yet.
    #[getter]
    fn inode(&self) -> u64 {
        self.0.inode
    }

    /// The IP version of the table the row came from: 4 or 6.
    #[getter]
    fn family(&self) -> u8 {
        family_number(self.0.family())
    }

    /// True for a half-open connection (``SYN_RECV`` or ``NEW_SYN_RECV``).
    #[getter]
    fn is_half_open(&self) -> bool {
        self.0.state.is_half_open()
    }

    /// True for a connection request: half-open and without a socket yet.
    #[getter]
    fn is_request(&self) -> bool {
        self.0.is_request()
    }

    /// The row in the kernel's own format, without the newline.
    fn to_line(&self) -> String {
        let mut out = String::new();
        procnet::write_entry(&mut out, &self.0);
        out.truncate(out.trim_end().len());
        out
    }

    fn __repr__(&self) -> String {
        format!(
            "TcpEntry(local='{}', remote='{}', state='{}', inode={})",
            self.0.local,
            self.0.remote,
            self.0.state.name(),
            self.0.inode
        )
    }
}

/// Parses a TCP table held in memory.
///
/// ``data`` is the content of ``/proc/net/tcp`` or ``/proc/net/tcp6`` (the
/// header line is optional). ``family`` is ``4``, ``6`` or ``None`` to detect
/// it from the first row. Raises ``halfopen.ParseError`` (with ``.line`` and
/// ``.field``) at the first malformed row. The GIL is released while parsing.
#[pyfunction]
#[pyo3(signature = (data, family = None))]
fn parse(py: Python<'_>, data: &[u8], family: Option<u8>) -> PyResult<Vec<PyTcpEntry>> {
    let family = family_arg(family)?;
    let rows = py.detach(|| decode_all(data, family))?;
    Ok(rows.into_iter().map(PyTcpEntry).collect())
}

/// Reads and parses a TCP table file.
///
/// ``path`` is a ``str`` or ``os.PathLike``. ``family`` is ``4``, ``6`` or
/// ``None`` to detect it from the first row. Raises ``FileNotFoundError``,
/// ``PermissionError`` (``OSError`` in general) when the file cannot be read
/// and ``halfopen.ParseError`` at the first malformed row. The GIL is released
/// while reading and parsing.
#[pyfunction]
#[pyo3(signature = (path, family = None))]
fn parse_file(py: Python<'_>, path: PathBuf, family: Option<u8>) -> PyResult<Vec<PyTcpEntry>> {
    let family = family_arg(family)?;
    let rows = py.detach(|| decode_file(&path, family))?;
    Ok(rows.into_iter().map(PyTcpEntry).collect())
}

/// Reads the live TCP sockets (IPv4 and IPv6) of a network namespace.
///
/// Without ``pid`` or ``netns`` it reads this process's namespace; with
/// ``pid``, that process's; with ``netns``, the namespace of that name (as
/// ``ip netns add`` made it) or namespace file (entering another namespace
/// needs root), or a directory holding captured ``tcp`` and ``tcp6`` tables
/// (read as ``/proc/net`` would be). ``source`` is ``"netlink"`` (sock_diag), ``"proc"``
/// (``/proc/net/tcp{,6}``) or ``"auto"``: netlink, falling back to
/// ``/proc`` where netlink is unavailable. ``states`` keeps only the named
/// states (e.g. ``["SYN_RECV"]``; the kernel filters them for netlink). A
/// kernel without IPv6 simply has no IPv6 rows. The GIL is released while
/// reading.
#[pyfunction]
#[pyo3(signature = (pid = None, *, netns = None, source = "auto", states = None))]
fn read_live(
    py: Python<'_>,
    pid: Option<u32>,
    netns: Option<PathBuf>,
    source: &str,
    states: Option<Vec<String>>,
) -> PyResult<Vec<PyTcpEntry>> {
    let opts = live_options(pid, netns, source, states)?;
    let rows = py.detach(|| decode_live(&opts))?;
    Ok(rows.into_iter().map(PyTcpEntry).collect())
}

/// The names of every TCP state, in code order (``TCP_STATES[code - 1]``).
pub fn state_names() -> Vec<&'static str> {
    TcpState::ALL.iter().map(|s| s.name()).collect()
}

/// Adds the parser's functions and classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTcpEntry>()?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(parse_file, m)?)?;
    m.add_function(wrap_pyfunction!(read_live, m)?)?;
    m.add("TCP_STATES", state_names())?;
    Ok(())
}
