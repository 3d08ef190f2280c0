//! The TTL block set: `BlockSet`, `Block` and `SyncDiff`, with the
//! nftables, ipset and firewalld renderers.
//!
//! Time is a monotonic clock in milliseconds (`now=None` reads it); tests
//! pass their own instants.

use halfopen::blockset::state_file::Resume;
use halfopen::blockset::{Block, BlockConfig, BlockSet, Element, Millis, RemovalCause, SyncDiff};
use halfopen::firewall::firewalld::Firewalld;
use halfopen::firewall::ipset::Ipset;
use halfopen::firewall::nft::Nft;
use ipnet::IpNet;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::error::PyHoError;
use crate::net::{duration_arg, network, now_arg, prefix_arg, prefixes_arg};

/// One blocked prefix, as of when it was read from the set.
///
/// Instants (``expires``, ``first_seen``, ``last_seen``) are milliseconds
/// of the monotonic clock the set runs on.
#[pyclass(name = "Block", module = "halfopen", frozen, eq)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyBlock(pub Block);

#[pymethods]
impl PyBlock {
    /// The blocked prefix (``IPv4Network`` or ``IPv6Network``).
    #[getter]
    fn prefix<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        network(py, self.0.prefix)
    }

    /// When the block ends (monotonic milliseconds).
    #[getter]
    fn expires(&self) -> u64 {
        self.0.expires.0
    }

    /// Why the prefix is blocked.
    #[getter]
    fn reason(&self) -> &str {
        &self.0.reason
    }

    /// When the prefix was first seen in this block (monotonic milliseconds).
    #[getter]
    fn first_seen(&self) -> u64 {
        self.0.first_seen.0
    }

    /// When the prefix was last seen (monotonic milliseconds).
    #[getter]
    fn last_seen(&self) -> u64 {
        self.0.last_seen.0
    }

    /// Which offence this is (1 for the first; repeat offences last longer).
    #[getter]
    fn strikes(&self) -> u32 {
        self.0.strikes
    }

    /// Seconds left at ``now`` (default: the monotonic clock), never negative.
    #[pyo3(signature = (now = None))]
    fn remaining(&self, py: Python<'_>, now: Option<u64>) -> PyResult<f64> {
        Ok(self.0.remaining(now_arg(py, now)?).as_secs_f64())
    }

    /// The block as a dict of plain values (the prefix as a string).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("prefix", self.0.prefix.to_string())?;
        d.set_item("expires", self.0.expires.0)?;
        d.set_item("reason", &self.0.reason)?;
        d.set_item("first_seen", self.0.first_seen.0)?;
        d.set_item("last_seen", self.0.last_seen.0)?;
        d.set_item("strikes", self.0.strikes)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Block(prefix='{}', expires={}, strikes={}, reason={:?})",
            self.0.prefix, self.0.expires.0, self.0.strikes, self.0.reason
        )
    }
}

/// What changed in a block set since the firewall was last told: prefixes
/// to add, timeouts to refresh and prefixes to remove. Render it with
/// :meth:`BlockSet.render`.
#[pyclass(name = "SyncDiff", module = "halfopen", frozen)]
#[derive(Debug, Clone)]
pub struct PySyncDiff(pub SyncDiff);

fn element_tuple<'py>(
    py: Python<'py>,
    prefix: IpNet,
    seconds: f64,
) -> PyResult<(Bound<'py, PyAny>, f64)> {
    Ok((network(py, prefix)?, seconds))
}

#[pymethods]
impl PySyncDiff {
    /// The instant the diff was taken (monotonic milliseconds).
    #[getter]
    fn now(&self) -> u64 {
        self.0.now.0
    }

    /// New prefixes, each with its timeout in seconds.
    #[getter]
    fn add<'py>(&self, py: Python<'py>) -> PyResult<Vec<(Bound<'py, PyAny>, f64)>> {
        self.0
            .add
            .iter()
            .map(|e| element_tuple(py, e.prefix, e.timeout.as_secs_f64()))
            .collect()
    }

    /// Prefixes whose block was extended, each with its new timeout in seconds.
    #[getter]
    fn refresh<'py>(&self, py: Python<'py>) -> PyResult<Vec<(Bound<'py, PyAny>, f64)>> {
        self.0
            .refresh
            .iter()
            .map(|r| element_tuple(py, r.prefix, r.timeout.as_secs_f64()))
            .collect()
    }

    /// Prefixes to remove, each with why: ``"expired"``, ``"released"`` or
    /// ``"absorbed"`` (a wider block now covers it).
    #[getter]
    fn remove<'py>(&self, py: Python<'py>) -> PyResult<Vec<(Bound<'py, PyAny>, &'static str)>> {
        self.0
            .remove
            .iter()
            .map(|r| Ok((network(py, r.prefix)?, cause_name(r.cause))))
            .collect()
    }

    /// True when nothing changed.
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn __len__(&self) -> usize {
        self.0.add.len() + self.0.refresh.len() + self.0.remove.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "SyncDiff(add={}, refresh={}, remove={})",
            self.0.add.len(),
            self.0.refresh.len(),
            self.0.remove.len()
        )
    }
}

fn cause_name(cause: RemovalCause) -> &'static str {
    cause.name()
}

/// The firewall a batch is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `nft -f -` batches.
    Nft,
    /// `ipset restore` batches.
    Ipset,
    /// `firewall-cmd` argument lists.
    Firewalld,
}

impl Format {
    /// The format named `name`.
    pub fn parse(name: &str) -> PyResult<Format> {
        match name {
            "nft" | "nftables" => Ok(Format::Nft),
            "ipset" => Ok(Format::Ipset),
            "firewalld" => Ok(Format::Firewalld),
            other => Err(PyValueError::new_err(format!(
                "format must be 'nft', 'ipset' or 'firewalld', not {other:?}"
            ))),
        }
    }
}

/// The prefixes currently blocked, each until its TTL runs out.
///
/// Blocks are disjoint: adding a prefix inside a blocked one extends the
/// covering block; adding one that covers blocks absorbs them. A prefix
/// blocked again soon after its block ended gets a longer TTL (``ttl``
/// times ``escalation`` per repeat, at most ``max_ttl``). Prefixes that
/// overlap the ``allowlist`` are never blocked (``halfopen.AllowlistError``).
///
/// Durations are seconds or ``datetime.timedelta``; instants (``now``) are
/// monotonic milliseconds, the monotonic clock when omitted. ``len(set)`` is
/// the number of blocks, iterating yields :class:`Block` objects (IPv4
/// first, in address order), and ``x in set`` is true for a prefix or
/// address inside a block.
#[pyclass(name = "BlockSet", module = "halfopen")]
pub struct PyBlockSet {
    pub inner: BlockSet,
    /// Saved blocks a restore refused, with why.
    pub refused: Vec<String>,
}

/// The block set's settings from Python's keyword arguments.
fn block_config(
    ttl: Option<Bound<'_, PyAny>>,
    escalation: u32,
    max_ttl: Option<Bound<'_, PyAny>>,
    strike_memory: Option<Bound<'_, PyAny>>,
    capacity: usize,
    allowlist: Option<Bound<'_, PyAny>>,
) -> PyResult<BlockConfig> {
    let mut config = BlockConfig {
        escalation_factor: escalation,
        capacity,
        ..BlockConfig::default()
    };
    if let Some(ttl) = ttl {
        config.default_ttl = duration_arg(&ttl, "ttl")?;
    }
    if let Some(max_ttl) = max_ttl {
        config.max_ttl = duration_arg(&max_ttl, "max_ttl")?;
    }
    if let Some(memory) = strike_memory {
        config.strike_memory = duration_arg(&memory, "strike_memory")?;
    }
    if let Some(allowlist) = allowlist {
        config.allowlist = prefixes_arg(&allowlist)?;
    }
    if config.default_ttl.is_zero() {
        return Err(PyValueError::new_err("ttl must be more than 0 seconds"));
    }
    Ok(config)
}

impl PyBlockSet {
    /// The renderer outputs for `format`: full when `diff` is `None`.
    pub fn render_with<'py>(
        &self,
        py: Python<'py>,
        format: Format,
        diff: Option<&SyncDiff>,
        now: Millis,
    ) -> PyResult<Bound<'py, PyAny>> {
        let elements = || self.inner.elements(now);
        Ok(match format {
            Format::Nft => {
                let nft = Nft::default();
                let text = match diff {
                    Some(diff) => nft.render_sync(diff, &self.inner),
                    None => nft.render_full(&elements()),
                };
                text.into_pyobject(py)?.into_any()
            }
            Format::Ipset => {
                let ipset = Ipset::default();
                let text = match diff {
                    Some(diff) => ipset.render_sync(diff),
                    None => ipset.render_full(&elements()),
                };
                text.into_pyobject(py)?.into_any()
            }
            Format::Firewalld => {
                let fw = Firewalld::default();
                let commands = match diff {
                    Some(diff) => fw.render_sync(diff),
                    None => fw.render_full(&elements()),
                };
                PyList::new(py, commands)?.into_any()
            }
        })
    }
}

#[pymethods]
impl PyBlockSet {
    #[new]
    #[pyo3(signature = (
        *,
        ttl = None,
        escalation = 2,
        max_ttl = None,
        strike_memory = None,
        capacity = 65_536,
        allowlist = None,
    ))]
    fn new(
        ttl: Option<Bound<'_, PyAny>>,
        escalation: u32,
        max_ttl: Option<Bound<'_, PyAny>>,
        strike_memory: Option<Bound<'_, PyAny>>,
        capacity: usize,
        allowlist: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let config = block_config(ttl, escalation, max_ttl, strike_memory, capacity, allowlist)?;
        Ok(PyBlockSet {
            inner: BlockSet::new(config),
            refused: Vec::new(),
        })
    }

    /// Restores a block set saved by :meth:`save`: every block with the time
    /// it had left, strike counts included. The settings are the
    /// constructor's (they are not saved). Raises ``halfopen.StateError``
    /// for a damaged file (truncated, altered, another format) and
    /// ``FileNotFoundError`` for a missing one; saved blocks the settings
    /// refuse (now allowlisted) are dropped and listed in :attr:`refused`.
    ///
    /// ``resume`` places the saved times: ``"same_clock"`` (default) when
    /// ``now`` runs on the clock the save used (the monotonic clock, as
    /// ``now=None`` reads it): the time since the save counts, blocks keep
    /// their expiry, and what the firewall was told is restored; after a
    /// reboot (the clock started again) it acts as ``"keep_remaining"``:
    /// every block keeps the time it had left at the save.
    #[classmethod]
    #[pyo3(signature = (
        path,
        *,
        ttl = None,
        escalation = 2,
        max_ttl = None,
        strike_memory = None,
        capacity = 65_536,
        allowlist = None,
        now = None,
        resume = "same_clock",
    ))]
    #[allow(clippy::too_many_arguments)]
    fn load(
        _cls: &Bound<'_, pyo3::types::PyType>,
        py: Python<'_>,
        path: std::path::PathBuf,
        ttl: Option<Bound<'_, PyAny>>,
        escalation: u32,
        max_ttl: Option<Bound<'_, PyAny>>,
        strike_memory: Option<Bound<'_, PyAny>>,
        capacity: usize,
        allowlist: Option<Bound<'_, PyAny>>,
        now: Option<u64>,
        resume: &str,
    ) -> PyResult<Self> {
        let config = block_config(ttl, escalation, max_ttl, strike_memory, capacity, allowlist)?;
        let now = now_arg(py, now)?;
        let resume = match resume {
            "same_clock" => Resume::SameClock,
            "keep_remaining" => Resume::KeepRemaining,
            other => {
                return Err(PyValueError::new_err(format!(
                    "resume must be 'same_clock' or 'keep_remaining', not {other:?}"
                )))
            }
        };
        let restored =
            py.detach(|| BlockSet::load_with(&path, config, now, resume).map_err(PyHoError::from))?;
        Ok(PyBlockSet {
            inner: restored.set,
            refused: restored.refused.iter().map(|e| e.to_string()).collect(),
        })
    }

    /// Saves the set to ``path`` atomically (a temporary file renamed over
    /// it, synced to disk), with each block's time left as of ``now``.
    #[pyo3(signature = (path, *, now = None))]
    fn save(&self, py: Python<'_>, path: std::path::PathBuf, now: Option<u64>) -> PyResult<()> {
        let now = now_arg(py, now)?;
        let set = &self.inner;
        py.detach(|| set.save(&path, now).map_err(PyHoError::from))?;
        Ok(())
    }

    /// Why :meth:`load` dropped saved blocks (empty for a set made fresh).
    #[getter]
    fn refused(&self) -> Vec<String> {
        self.refused.clone()
    }

    /// The TTL of a first offence, in seconds.
    #[getter]
    fn ttl(&self) -> f64 {
        self.inner.config().default_ttl.as_secs_f64()
    }

    /// The allowlisted prefixes.
    #[getter]
    fn allowlist<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.inner
            .config()
            .allowlist
            .iter()
            .map(|n| network(py, *n))
            .collect()
    }

    /// Blocks ``prefix`` (a network, an address or a string) for ``ttl``
    /// (default: the set's; escalated for repeat offences) and returns the
    /// block now holding it (the covering block if one already did). Raises
    /// ``halfopen.AllowlistError`` for a prefix that overlaps the allowlist
    /// and ``halfopen.BlockError`` when the set is full.
    #[pyo3(signature = (prefix, reason = "", ttl = None, *, now = None))]
    fn add(
        &mut self,
        py: Python<'_>,
        prefix: &Bound<'_, PyAny>,
        reason: &str,
        ttl: Option<Bound<'_, PyAny>>,
        now: Option<u64>,
    ) -> PyResult<PyBlock> {
        let prefix = prefix_arg(prefix)?;
        let ttl = match ttl {
            Some(ttl) => duration_arg(&ttl, "ttl")?,
            None => self.inner.config().default_ttl,
        };
        let now = now_arg(py, now)?;
        self.inner
            .add(prefix, reason, ttl, now)
            .map_err(PyHoError::from)?;
        let block = self
            .inner
            .covering(&prefix)
            .cloned()
            .ok_or_else(|| PyValueError::new_err(format!("{prefix} was not blocked")))?;
        Ok(PyBlock(block))
    }

    /// Blocks every prefix ``report`` gives the verdict ``"block"``, for
    /// ``ttl`` (default: the set's, escalated for repeat offences), with the
    /// report's reason. Returns the blocks now holding them; prefixes the
    /// set refuses (allowlisted, or the set is full) are skipped and counted
    /// in :attr:`stats`.
    #[pyo3(signature = (report, ttl = None, *, now = None))]
    fn add_report(
        &mut self,
        py: Python<'_>,
        report: PyRef<'_, crate::report::PyReport>,
        ttl: Option<Bound<'_, PyAny>>,
        now: Option<u64>,
    ) -> PyResult<Vec<PyBlock>> {
        let ttl = match ttl {
            Some(ttl) => duration_arg(&ttl, "ttl")?,
            None => self.inner.config().default_ttl,
        };
        let now = now_arg(py, now)?;
        let outcome = self.inner.apply_report(&report.inner, Some(ttl), now);
        let mut held: Vec<PyBlock> = Vec::new();
        for (prefix, _) in &outcome.added {
            if let Some(block) = self.inner.covering(prefix) {
                if !held.iter().any(|b| b.0.prefix == block.prefix) {
                    held.push(PyBlock(block.clone()));
                }
            }
        }
        // As they are now: a later, wider block may have absorbed or
        // extended an earlier one.
        Ok(held
            .into_iter()
            .filter_map(|b| self.inner.get(&b.0.prefix).cloned().map(PyBlock))
            .collect())
    }

    /// What the set refused or forgot: ``{"refused_full": n,
    /// "refused_allowlisted": n, "memories_evicted": n}``.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("refused_full", s.refused_full)?;
        d.set_item("refused_allowlisted", s.refused_allowlisted)?;
        d.set_item("memories_evicted", s.memories_evicted)?;
        Ok(d)
    }

    /// Ends the blocks whose time is up at ``now`` and returns them.
    #[pyo3(signature = (now = None))]
    fn expire(&mut self, py: Python<'_>, now: Option<u64>) -> PyResult<Vec<PyBlock>> {
        let now = now_arg(py, now)?;
        Ok(self.inner.expire(now).into_iter().map(PyBlock).collect())
    }

    /// Ends the block of exactly ``prefix`` now; returns it, or ``None`` if
    /// that prefix was not blocked.
    #[pyo3(signature = (prefix, *, now = None))]
    fn release(
        &mut self,
        py: Python<'_>,
        prefix: &Bound<'_, PyAny>,
        now: Option<u64>,
    ) -> PyResult<Option<PyBlock>> {
        let prefix = prefix_arg(prefix)?;
        let now = now_arg(py, now)?;
        Ok(self.inner.release(&prefix, now).map(PyBlock))
    }

    /// Ends every block now and returns them.
    #[pyo3(signature = (*, now = None))]
    fn release_all(&mut self, py: Python<'_>, now: Option<u64>) -> PyResult<Vec<PyBlock>> {
        let now = now_arg(py, now)?;
        Ok(self
            .inner
            .release_all(now)
            .into_iter()
            .map(PyBlock)
            .collect())
    }

    /// Adds ``prefix`` to the allowlist and releases the blocks that overlap
    /// it, returning them.
    #[pyo3(signature = (prefix, *, now = None))]
    fn allow(
        &mut self,
        py: Python<'_>,
        prefix: &Bound<'_, PyAny>,
        now: Option<u64>,
    ) -> PyResult<Vec<PyBlock>> {
        let prefix = prefix_arg(prefix)?;
        let now = now_arg(py, now)?;
        Ok(self
            .inner
            .allow(prefix, now)
            .into_iter()
            .map(PyBlock)
            .collect())
    }

    /// The block of exactly ``prefix``, or ``None``.
    fn get(&self, prefix: &Bound<'_, PyAny>) -> PyResult<Option<PyBlock>> {
        let prefix = prefix_arg(prefix)?;
        Ok(self.inner.get(&prefix).cloned().map(PyBlock))
    }

    /// The block covering ``prefix`` (or address), or ``None``.
    fn covering(&self, prefix: &Bound<'_, PyAny>) -> PyResult<Option<PyBlock>> {
        let prefix = prefix_arg(prefix)?;
        Ok(self.inner.covering(&prefix).cloned().map(PyBlock))
    }

    /// The blocks, IPv4 first, in address order.
    fn blocks(&self) -> Vec<PyBlock> {
        self.inner.iter().cloned().map(PyBlock).collect()
    }

    /// The prefixes a firewall should hold at ``now``, each with its
    /// remaining timeout in seconds.
    #[pyo3(signature = (now = None))]
    fn elements<'py>(
        &self,
        py: Python<'py>,
        now: Option<u64>,
    ) -> PyResult<Vec<(Bound<'py, PyAny>, f64)>> {
        let now = now_arg(py, now)?;
        self.inner
            .elements(now)
            .iter()
            .map(|e: &Element| element_tuple(py, e.prefix, e.timeout.as_secs_f64()))
            .collect()
    }

    /// The changes since the firewall was last told, as of ``now``;
    /// afterwards the set counts the firewall as up to date. If applying
    /// the diff fails, apply a full render and call :meth:`mark_synced`.
    #[pyo3(signature = (now = None))]
    fn diff(&mut self, py: Python<'_>, now: Option<u64>) -> PyResult<PySyncDiff> {
        let now = now_arg(py, now)?;
        Ok(PySyncDiff(self.inner.sync_diff(now)))
    }

    /// Counts the firewall as holding exactly the set's elements at ``now``,
    /// as after applying a full render.
    #[pyo3(signature = (now = None))]
    fn mark_synced(&mut self, py: Python<'_>, now: Option<u64>) -> PyResult<()> {
        let now = now_arg(py, now)?;
        self.inner.mark_synced(now);
        Ok(())
    }

    /// Renders for a firewall: ``format`` is ``"nft"`` (an ``nft -f -``
    /// batch), ``"ipset"`` (an ``ipset restore`` batch) or ``"firewalld"``
    /// (``firewall-cmd`` argument lists). Without ``diff``, the full state
    /// at ``now`` (nft: the whole table, recreated atomically); with one,
    /// the incremental batch for it.
    #[pyo3(signature = (format = "nft", diff = None, *, now = None))]
    fn render<'py>(
        &self,
        py: Python<'py>,
        format: &str,
        diff: Option<PyRef<'_, PySyncDiff>>,
        now: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let format = Format::parse(format)?;
        let now = match (&diff, now) {
            (Some(d), None) => d.0.now,
            (_, now) => now_arg(py, now)?,
        };
        self.render_with(py, format, diff.as_ref().map(|d| &d.0), now)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let list = PyList::new(py, self.blocks())?;
        Ok(list.try_iter()?.into_any().unbind())
    }

    fn __contains__(&self, prefix: &Bound<'_, PyAny>) -> PyResult<bool> {
        let prefix = prefix_arg(prefix)?;
        Ok(self.inner.covering(&prefix).is_some())
    }

    fn __repr__(&self) -> String {
        format!("BlockSet(blocks={})", self.inner.len())
    }
}

/// The one-time permanent firewalld setup, as ``firewall-cmd`` argument
/// lists: the two ipsets, their binding to the ``drop`` zone, and a reload.
/// Run it once before the first firewalld render is applied.
#[pyfunction]
fn firewalld_setup() -> Vec<Vec<String>> {
    Firewalld::default().render_setup()
}

/// Adds the block set's classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(firewalld_setup, m)?)?;
    m.add_class::<PyBlock>()?;
    m.add_class::<PySyncDiff>()?;
    m.add_class::<PyBlockSet>()?;
    Ok(())
}
