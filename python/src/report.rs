//! The report: `Config`, `Report` and `PrefixReport`.
//!
//! Reading, parsing and aggregating run in core with the GIL released; only
//! the report's few objects are made in Python.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use halfopen::host::host_addresses;
use halfopen::live::{Namespace, Options, Origin};
use halfopen::netns;
use halfopen::procnet::{self, Family};
use halfopen::report::{PrefixReport, Report};
use halfopen::snapshot::Snapshot;
use halfopen::verdict::Config;
use ipnet::IpNet;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use crate::counters::from_json;
use crate::error::PyHoError;
use crate::net::{network, prefixes_arg};
use crate::procnet::{family_arg, live_options, PyTcpEntry};

/// How prefixes are counted and judged. Every argument is keyword-only and
/// optional; the defaults are core's.
///
/// ``levels_v4`` / ``levels_v6`` are the prefix lengths counted (default
/// ``[32, 24, 16]`` and ``[128, 64, 48, 32]``); a prefix is reported when
/// its entries reach ``min_entries`` and ``min_share`` of all half-open
/// entries; no prefix shorter than ``min_block_len_v4`` / ``_v6`` is
/// blocked; ``allowlist`` (strings or ``ipaddress`` objects) is never
/// blocked, in addition to loopback and link-local; prefixes with
/// established connections are only watched when ``protect_established``;
/// ``block_thin`` blocks thin prefixes too; ``top_sources`` is how many
/// busiest sources the report lists; ``node_cap`` bounds each prefix tree.
#[pyclass(name = "Config", module = "halfopen", frozen)]
#[derive(Debug, Clone)]
pub struct PyConfig(pub Config);

#[pymethods]
impl PyConfig {
    #[new]
    #[pyo3(signature = (
        *,
        levels_v4 = None,
        levels_v6 = None,
        min_entries = None,
        min_share = None,
        min_block_len_v4 = None,
        min_block_len_v6 = None,
        allowlist = None,
        protect_established = None,
        block_thin = None,
        top_sources = None,
        node_cap = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        levels_v4: Option<Vec<u8>>,
        levels_v6: Option<Vec<u8>>,
        min_entries: Option<u64>,
        min_share: Option<f64>,
        min_block_len_v4: Option<u8>,
        min_block_len_v6: Option<u8>,
        allowlist: Option<Bound<'_, PyAny>>,
        protect_established: Option<bool>,
        block_thin: Option<bool>,
        top_sources: Option<usize>,
        node_cap: Option<usize>,
    ) -> PyResult<Self> {
        let mut c = Config::default();
        if let Some(levels) = levels_v4 {
            c.levels_v4 = levels;
        }
        if let Some(levels) = levels_v6 {
            c.levels_v6 = levels;
        }
        if let Some(n) = min_entries {
            c.min_entries = n;
        }
        if let Some(share) = min_share {
            c.min_share = share;
        }
        if let Some(len) = min_block_len_v4 {
            c.min_block_len_v4 = len;
        }
        if let Some(len) = min_block_len_v6 {
            c.min_block_len_v6 = len;
        }
        if let Some(allowlist) = allowlist {
            c = c.with_allowed(prefixes_arg(&allowlist)?);
        }
        if let Some(on) = protect_established {
            c.protect_established = on;
        }
        if let Some(on) = block_thin {
            c.block_thin = on;
        }
        if let Some(n) = top_sources {
            c.top_sources = n;
        }
        if let Some(n) = node_cap {
            c.node_cap = n;
        }
        c.validate().map_err(PyHoError::from)?;
        Ok(PyConfig(c))
    }

    /// IPv4 prefix lengths counted and reported.
    #[getter]
    fn levels_v4(&self) -> Vec<u32> {
        self.0.levels_v4.iter().map(|&l| u32::from(l)).collect()
    }

    /// IPv6 prefix lengths counted and reported.
    #[getter]
    fn levels_v6(&self) -> Vec<u32> {
        self.0.levels_v6.iter().map(|&l| u32::from(l)).collect()
    }

    /// Least entries a reported prefix explains.
    #[getter]
    fn min_entries(&self) -> u64 {
        self.0.min_entries
    }

    /// Least share of all half-open entries a reported prefix explains.
    #[getter]
    fn min_share(&self) -> f64 {
        self.0.min_share
    }

    /// No IPv4 prefix shorter than this is blocked.
    #[getter]
    fn min_block_len_v4(&self) -> u8 {
        self.0.min_block_len_v4
    }

    /// No IPv6 prefix shorter than this is blocked.
    #[getter]
    fn min_block_len_v6(&self) -> u8 {
        self.0.min_block_len_v6
    }

    /// Prefixes never blocked (loopback and link-local included).
    #[getter]
    fn allowlist<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.0.allowlist.iter().map(|n| network(py, *n)).collect()
    }

    /// Whether prefixes with established connections are only watched.
    #[getter]
    fn protect_established(&self) -> bool {
        self.0.protect_established
    }

    /// Whether thin prefixes are blocked too.
    #[getter]
    fn block_thin(&self) -> bool {
        self.0.block_thin
    }

    /// How many of the busiest sources a report lists.
    #[getter]
    fn top_sources(&self) -> usize {
        self.0.top_sources
    }

    /// Most nodes per family's prefix tree.
    #[getter]
    fn node_cap(&self) -> usize {
        self.0.node_cap
    }

    /// The entries a prefix needs to be reported when ``total`` entries are
    /// half-open.
    fn threshold(&self, total: u64) -> u64 {
        self.0.threshold(total)
    }

    fn __repr__(&self) -> String {
        format!(
            "Config(levels_v4={:?}, levels_v6={:?}, min_entries={}, min_share={})",
            self.0.levels_v4, self.0.levels_v6, self.0.min_entries, self.0.min_share
        )
    }
}

/// The config from `config` or keyword arguments (not both).
fn config_arg(
    py: Python<'_>,
    config: Option<PyRef<'_, PyConfig>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Config> {
    let kwargs = kwargs.filter(|k| !k.is_empty());
    match (config, kwargs) {
        (Some(c), None) => Ok(c.0.clone()),
        (None, None) => Ok(Config::default()),
        (None, Some(kwargs)) => {
            let made = py.get_type::<PyConfig>().call((), Some(kwargs))?;
            Ok(made.cast::<PyConfig>()?.get().0.clone())
        }
        (Some(_), Some(_)) => Err(PyValueError::new_err(
            "give a Config or keyword settings, not both",
        )),
    }
}

/// One reported prefix: what it explains, its spoof signs and its verdict.
#[pyclass(name = "PrefixReport", module = "halfopen", frozen)]
#[derive(Debug, Clone)]
pub struct PyPrefixReport(pub PrefixReport);

#[pymethods]
impl PyPrefixReport {
    /// The prefix (``IPv4Network`` or ``IPv6Network``).
    #[getter]
    fn prefix<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        network(py, self.0.prefix)
    }

    /// Half-open entries the prefix is reported for (its own minus those of
    /// reported prefixes inside it).
    #[getter]
    fn half_open(&self) -> u64 {
        self.0.half_open
    }

    /// Distinct source addresses among them.
    #[getter]
    fn sources(&self) -> u64 {
        self.0.sources
    }

    /// All half-open entries inside the prefix.
    #[getter]
    fn total_half_open(&self) -> u64 {
        self.0.total_half_open
    }

    /// ESTABLISHED connections from inside the prefix.
    #[getter]
    fn established(&self) -> u64 {
        self.0.established
    }

    /// The spoof and reflection signs, e.g. ``["sequential_walk", "unanswered"]``.
    #[getter]
    fn signs(&self) -> Vec<&'static str> {
        self.0.signs.names().collect()
    }

    /// The counts the signs were judged on.
    #[getter]
    fn evidence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json(py, &crate::counters::to_json(&self.0.evidence)?)
    }

    /// What to do: ``"block"``, ``"watch"`` or ``"allow"``.
    #[getter]
    fn verdict(&self) -> &'static str {
        self.0.verdict.name()
    }

    /// Why, for people.
    #[getter]
    fn reason(&self) -> &str {
        &self.0.reason
    }

    /// The prefix as core's JSON object.
    fn to_json(&self) -> PyResult<String> {
        crate::counters::to_json(&self.0)
    }

    /// The prefix as a dict (``json.loads(self.to_json())``).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json(py, &self.to_json()?)
    }

    fn __repr__(&self) -> String {
        format!(
            "PrefixReport(prefix='{}', half_open={}, verdict='{}')",
            self.0.prefix,
            self.0.half_open,
            self.0.verdict.name()
        )
    }
}

/// What a snapshot of the TCP tables shows: half-open entries by family,
/// state, listener and source, and the prefixes that explain them with
/// their signs and verdicts.
///
/// Build one with :meth:`live`, :meth:`from_bytes`, :meth:`from_files` or
/// :meth:`from_entries`; settings are a :class:`Config` or its keyword
/// arguments. :meth:`to_json` is core's JSON, byte for byte.
#[pyclass(name = "Report", module = "halfopen", frozen)]
#[derive(Debug, Clone)]
pub struct PyReport {
    pub inner: Report,
}

/// Reads the namespace's own addresses (to never block the host itself).
fn host_allowlist(ns: &Namespace) -> Result<Vec<IpNet>, PyHoError> {
    let read = |dir: &Path| host_addresses(dir).map_err(|e| (dir.to_path_buf(), e));
    let found = match ns {
        Namespace::Current => read(Path::new("/proc/net")),
        Namespace::Pid(pid) => read(&PathBuf::from(format!("/proc/{pid}/net"))),
        Namespace::Dir(dir) => read(dir),
        Namespace::Path(path) => {
            netns::run_in(path, || read(Path::new("/proc/thread-self/net")))
                .map_err(|e| PyHoError::from(halfopen::live::LiveError::from(e)))?
        }
    };
    let addrs: Vec<IpAddr> = found.map_err(|(path, e)| PyHoError::io(path, e))?;
    Ok(addrs.into_iter().map(IpNet::from).collect())
}

#[pymethods]
impl PyReport {
    /// Reads the live tables of a namespace (as :func:`read_live` does) and
    /// reports on them. With ``allow_host`` (default) the namespace's own
    /// addresses join the allowlist. The GIL is released throughout.
    #[classmethod]
    #[pyo3(signature = (
        pid = None, *, netns = None, source = "auto", allow_host = true, config = None, **settings
    ))]
    #[allow(clippy::too_many_arguments)]
    fn live(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        pid: Option<u32>,
        netns: Option<PathBuf>,
        source: &str,
        allow_host: bool,
        config: Option<PyRef<'_, PyConfig>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyReport> {
        let mut config = config_arg(py, config, settings)?;
        let opts: Options = live_options(pid, netns, source, None)?;
        let report = py.detach(|| -> Result<_, PyHoError> {
            if allow_host {
                config = std::mem::take(&mut config).with_allowed(host_allowlist(&opts.namespace)?);
            }
            let (snapshot, summary) = Snapshot::read(&opts)?;
            Ok(Report::build(&snapshot, &config)?.with_source(summary.origin))
        })?;
        Ok(PyReport { inner: report })
    }

    /// Parses a table held in memory (``/proc/net/tcp`` or ``tcp6``
    /// content; ``family`` 4, 6 or ``None`` to detect) and reports on it.
    /// The GIL is released throughout.
    #[classmethod]
    #[pyo3(signature = (data, family = None, *, config = None, **settings))]
    fn from_bytes(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        data: &[u8],
        family: Option<u8>,
        config: Option<PyRef<'_, PyConfig>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyReport> {
        let config = config_arg(py, config, settings)?;
        let family = family_arg(family)?;
        let report = py.detach(|| -> Result<_, PyHoError> {
            let mut snapshot = Snapshot::new();
            for row in procnet::parse_table(data, family) {
                snapshot.push(&row?);
            }
            Ok(Report::build(&snapshot, &config)?)
        })?;
        Ok(PyReport { inner: report })
    }

    /// Reads captured tables (``tcp`` for IPv4, ``tcp6`` for IPv6, either or
    /// both) and reports on them together. The GIL is released throughout.
    #[classmethod]
    #[pyo3(signature = (tcp = None, tcp6 = None, *, config = None, **settings))]
    fn from_files(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        tcp: Option<PathBuf>,
        tcp6: Option<PathBuf>,
        config: Option<PyRef<'_, PyConfig>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyReport> {
        let config = config_arg(py, config, settings)?;
        let report = py.detach(|| -> Result<_, PyHoError> {
            let mut snapshot = Snapshot::new();
            for (path, family) in [(tcp, Family::V4), (tcp6, Family::V6)] {
                if let Some(path) = path {
                    let mut reader = procnet::open_table(&path)?.family(family);
                    reader.for_each(|e| snapshot.push(&e))?;
                }
            }
            Ok(Report::build(&snapshot, &config)?.with_source(Origin::File))
        })?;
        Ok(PyReport { inner: report })
    }

    /// Reports on entries already read (a list of :class:`TcpEntry`).
    #[classmethod]
    #[pyo3(signature = (entries, *, config = None, **settings))]
    fn from_entries(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        entries: &Bound<'_, PyAny>,
        config: Option<PyRef<'_, PyConfig>>,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyReport> {
        let config = config_arg(py, config, settings)?;
        let mut snapshot = Snapshot::new();
        for entry in entries.try_iter()? {
            let entry = entry?;
            let entry = entry.cast::<PyTcpEntry>()?;
            snapshot.push(&entry.get().0);
        }
        let report = py.detach(|| Report::build(&snapshot, &config).map_err(PyHoError::from))?;
        Ok(PyReport { inner: report })
    }

    /// A report from its JSON (as :meth:`to_json` wrote it).
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<PyReport> {
        let report = Report::from_json(json)
            .map_err(|e| PyValueError::new_err(format!("not a report: {e}")))?;
        Ok(PyReport { inner: report })
    }

    /// This report with the kernel's counters from ``sampler`` added (its
    /// latest sample and rates, alerts, settings with notes, and why the
    /// table may undercount). Reading the settings releases the GIL.
    fn with_counters(
        &self,
        py: Python<'_>,
        sampler: PyRef<'_, crate::counters::PyCounterSampler>,
    ) -> PyResult<PyReport> {
        let inner = &sampler.inner;
        let counters = py.detach(|| inner.report().map_err(PyHoError::from))?;
        Ok(PyReport {
            inner: self.inner.clone().with_counters(counters),
        })
    }

    /// Rates per second of the kernel's counters (``{"TcpExt.SyncookiesSent":
    /// 12.5, ...}``), or ``None`` without counters or before a second sample.
    #[getter]
    fn rates<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(rates) = &self.inner.rates else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        for (counter, rate) in rates.counters.iter() {
            d.set_item(counter.key(), rate)?;
        }
        Ok(Some(d))
    }

    /// The counter alerts (spikes, full queues) as dicts, or ``None``
    /// without counters.
    #[getter]
    fn alerts<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.inner.alerts {
            Some(alerts) => Ok(Some(from_json(py, &crate::counters::to_json(alerts)?)?)),
            None => Ok(None),
        }
    }

    /// Why the half-open table may undercount a flood (SYN cookies, full
    /// queues), as dicts, or ``None`` without counters.
    #[getter]
    fn undercount<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.inner.undercount {
            Some(reasons) => Ok(Some(from_json(py, &crate::counters::to_json(reasons)?)?)),
            None => Ok(None),
        }
    }

    /// All half-open entries (both families).
    #[getter]
    fn half_open(&self) -> u64 {
        self.inner.half_open
    }

    /// Half-open entries per family of the source: ``{"ipv4": n, "ipv6": m}``.
    #[getter]
    fn half_open_by_family<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("ipv4", self.inner.half_open_by_family.ipv4)?;
        d.set_item("ipv6", self.inner.half_open_by_family.ipv6)?;
        Ok(d)
    }

    /// Entries per state name (``{"SYN_RECV": 4812, ...}``), states with none left out.
    #[getter]
    fn by_state(&self) -> std::collections::BTreeMap<String, u64> {
        self.inner.by_state.clone()
    }

    /// Half-open entries per listener, most first: ``(address, port, half_open)``.
    #[getter]
    fn listeners(&self) -> Vec<(IpAddr, u16, u64)> {
        self.inner
            .listeners
            .iter()
            .map(|l| (l.addr.ip(), l.addr.port(), l.half_open))
            .collect()
    }

    /// Distinct source addresses among the half-open entries.
    #[getter]
    fn distinct_sources(&self) -> u64 {
        self.inner.sources.distinct
    }

    /// The busiest sources, most first: ``(address, half_open)``.
    #[getter]
    fn top_sources(&self) -> Vec<(IpAddr, u64)> {
        self.inner
            .sources
            .top
            .iter()
            .map(|s| (s.addr, s.half_open))
            .collect()
    }

    /// The entries a prefix needed to be reported.
    #[getter]
    fn threshold(&self) -> u64 {
        self.inner.threshold
    }

    /// The reported prefixes, most half-open entries first.
    #[getter]
    fn prefixes(&self) -> Vec<PyPrefixReport> {
        self.inner
            .prefixes
            .iter()
            .cloned()
            .map(PyPrefixReport)
            .collect()
    }

    /// Which source a live report was read through (``"netlink"``,
    /// ``"proc"``, ``"file"``), ``None`` when built from memory.
    #[getter]
    fn origin(&self) -> Option<&'static str> {
        self.inner.source.map(|o| o.name())
    }

    /// The reported prefixes with verdict ``"block"``.
    fn blocks(&self) -> Vec<PyPrefixReport> {
        self.inner.blocks().cloned().map(PyPrefixReport).collect()
    }

    /// The report as core's JSON, byte for byte.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The report as indented JSON.
    fn to_json_pretty(&self) -> String {
        self.inner.to_json_pretty()
    }

    /// The report as a dict (``json.loads(self.to_json())``).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json(py, &self.inner.to_json())
    }

    fn __repr__(&self) -> String {
        format!(
            "Report(half_open={}, prefixes={}, blocks={})",
            self.inner.half_open,
            self.inner.prefixes.len(),
            self.inner.blocks().count()
        )
    }
}

/// This thread's CPU time in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// For `benches/python_vs_rust.py`: the work of `Report.from_bytes(data)`
/// done in Rust alone (parse, snapshot, report with the default settings),
/// returning the thread CPU time it took in nanoseconds and the number of
/// prefixes reported. Not part of the API.
#[pyfunction]
fn _bench_report_from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<(u64, usize)> {
    let config = Config::default();
    py.detach(|| -> Result<(u64, usize), PyHoError> {
        let start = thread_cpu_ns();
        let mut snapshot = Snapshot::new();
        for row in procnet::parse_table(data, None) {
            snapshot.push(&row?);
        }
        let report = Report::build(&snapshot, &config)?;
        let took = thread_cpu_ns().saturating_sub(start);
        Ok((took, std::hint::black_box(report).prefixes.len()))
    })
    .map_err(PyErr::from)
}

/// Adds the report's classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyConfig>()?;
    m.add_class::<PyPrefixReport>()?;
    m.add_class::<PyReport>()?;
    m.add_function(wrap_pyfunction!(_bench_report_from_bytes, m)?)?;
    Ok(())
}
