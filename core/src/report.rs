//! The report: what a snapshot shows, the prefixes that explain its half-open
//! entries, their signs and verdicts, with a stable JSON form.
//!
//! # JSON form
//!
//! ```text
//! {
//!   "half_open": 4812,                       // all half-open entries
//!   "half_open_by_family": {"ipv4": 4312, "ipv6": 500},
//!   "by_state": {"ESTABLISHED": 36, "LISTEN": 6, "SYN_RECV": 4812},
//!   "listeners": [{"addr": "198.18.0.1:80", "half_open": 2400}, ...],
//!   "sources": {"distinct": 4100, "top": [{"addr": "198.18.5.7", "half_open": 3}, ...]},
//!   "threshold": 50,                         // entries a prefix needed
//!   "host": {"established": 36, "listening_ports": 3},
//!   "prefixes": [{
//!     "prefix": "198.18.5.0/24", "half_open": 300, "sources": 250,
//!     "total_half_open": 300, "established": 0,
//!     "signs": ["unanswered", "no_completed_handshake"],
//!     "evidence": {...}, "verdict": "block", "reason": "..."
//!   }, ...],
//!   "tree": {"nodes": 4700, "node_cap": 262144, "overflow": 0, "dropped": 0},
//!   // With the kernel's counters (Report::with_counters), also:
//!   "counters": {"monotonic_secs": 12.5, "unix_ms": 1764097200000,
//!                "counters": {"TcpExt.SyncookiesSent": 90210, ...},
//!                "interfaces": [{"name": "eth0", "rx_bytes": 1, ...}]},
//!   "rates": {"interval_secs": 5.0, "until_secs": 12.5,
//!             "counters": {"TcpExt.SyncookiesSent": 1804.2, ...}, "interfaces": [...]},
//!   "alerts": [{"kind": "syn_flood", "counter": "TcpExt.SyncookiesSent",
//!               "rate": 1804.2, "message": "..."}, ...],
//!   "settings": {"tcp_syncookies": 1, "tcp_max_syn_backlog": 2048, ...},
//!   "notes": [{"setting": "net.ipv4.tcp_syncookies", "value": 1, "text": "..."}, ...],
//!   "undercount": [{"reason": "cookies_sent", "rate": 1804.2}, ...]
//! }
//! ```
//!
//! The counter fields are left out when the report has no counters; see
//! [`crate::counters`] for their meaning.
//!
//! Fields are only ever added, never renamed or removed. Prefixes are listed
//! by `half_open`, largest first, then by prefix.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::counters::{Alert, CounterReport, Rates, SettingNote, Settings, UndercountReason};
use crate::live::Origin;
use crate::prefix_tree::{PrefixTree, SourceCounts, TreeBuilder};
use crate::procnet::{Family, TcpEntry};
use crate::radix;
use crate::signs::{Evidence, HostContext, Signs};
use crate::snapshot::{unpack_tail, Snapshot, V6Record};
use crate::verdict::{judge, Config, ConfigError, Facts, Verdict};

/// Half-open entries towards one local address:port.
///
/// # Examples
///
/// ```
/// use halfopen::report::ListenerCount;
/// let l = ListenerCount { addr: "198.18.0.1:443".parse().unwrap(), half_open: 9 };
/// assert_eq!(serde_json::to_string(&l).unwrap(), r#"{"addr":"198.18.0.1:443","half_open":9}"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerCount {
    /// Local address and port.
    pub addr: SocketAddr,
    /// Half-open entries towards it.
    pub half_open: u64,
}

/// Half-open entries from one source address.
///
/// # Examples
///
/// ```
/// use halfopen::report::SourceCount;
/// let s = SourceCount { addr: "2001:db8::1".parse().unwrap(), half_open: 2 };
/// assert_eq!(s.addr.to_string(), "2001:db8::1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCount {
    /// The source address.
    pub addr: IpAddr,
    /// Half-open entries from it.
    pub half_open: u64,
}

/// Half-open entries per source address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sources {
    /// Distinct source addresses counted (both families).
    pub distinct: u64,
    /// The busiest sources, most entries first ([`Config::top_sources`]),
    /// among those the node cap gave a node of their own (a spray of more
    /// sources than the cap holds may leave none).
    pub top: Vec<SourceCount>,
}

/// Half-open entries per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FamilyCounts {
    /// IPv4 sources (IPv4-mapped IPv6 included).
    pub ipv4: u64,
    /// IPv6 sources.
    pub ipv6: u64,
}

/// What the prefix trees cost and what their node cap left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TreeStats {
    /// Nodes in both trees.
    pub nodes: u64,
    /// The node cap per family.
    pub node_cap: u64,
    /// Entries counted at a coarser prefix than their address because of
    /// the cap (their sources still count in `sources`).
    pub overflow: u64,
    /// Entries counted in no prefix because of the cap.
    pub dropped: u64,
}

/// One reported prefix: what it explains, its signs and its verdict.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{parse_table, write_entry, header, Family, TcpEntry, TcpState, TimerKind};
/// use halfopen::report::Report;
/// use halfopen::verdict::{Config, Verdict};
///
/// let mut table = header(Family::V4);
/// for i in 0..200u32 {
///     let e = TcpEntry { slot: i, local: "198.18.0.1:80".parse().unwrap(),
///         remote: ([198, 18, 5, (i % 200) as u8], 40000).into(), state: TcpState::SynRecv,
///         tx_queue: 0, rx_queue: 0, timer: TimerKind::Retransmit, timer_expires: 100,
///         retransmits: 1, uid: 0, timeout: 0, inode: 0, trailing: "" };
///     write_entry(&mut table, &e);
/// }
/// let entries: Vec<_> = parse_table(table.as_bytes(), None).collect::<Result<_, _>>()?;
/// let report = Report::from_entries(&entries, &Config::default())?;
/// let p = &report.prefixes[0];
/// assert_eq!(p.prefix.to_string(), "198.18.5.0/24");
/// assert_eq!((p.half_open, p.sources, p.verdict), (200, 200, Verdict::Block));
/// assert_eq!(p.signs.names().collect::<Vec<_>>(), ["sequential_walk", "unanswered"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefixReport {
    /// The prefix, e.g. `198.18.5.0/24`.
    pub prefix: IpNet,
    /// Half-open entries the prefix is reported for: its own minus those of
    /// reported prefixes inside it.
    pub half_open: u64,
    /// Distinct source addresses among them.
    pub sources: u64,
    /// All half-open entries inside the prefix.
    pub total_half_open: u64,
    /// ESTABLISHED connections from anywhere inside the prefix.
    pub established: u64,
    /// Spoof and reflection signs.
    pub signs: Signs,
    /// The counts the signs were judged on.
    pub evidence: Evidence,
    /// What to do.
    pub verdict: Verdict,
    /// Why, for people.
    pub reason: String,
}

/// The whole report. Build it with [`Report::build`] or
/// [`Report::from_entries`]; print it with [`Report::to_json`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// All half-open entries (`SYN_RECV`), both families.
    pub half_open: u64,
    /// Half-open entries per family of the source.
    pub half_open_by_family: FamilyCounts,
    /// Entries per state name (`"SYN_RECV"`, ...), states with none left
    /// out.
    pub by_state: BTreeMap<String, u64>,
    /// Half-open entries per local address:port, most first.
    pub listeners: Vec<ListenerCount>,
    /// Half-open entries per source address.
    pub sources: Sources,
    /// The entries a prefix needed to be reported (see
    /// [`Config::threshold`]).
    pub threshold: u64,
    /// Facts about the host the signs were judged against.
    pub host: HostContext,
    /// The prefixes that explain the half-open entries, most entries first.
    pub prefixes: Vec<PrefixReport>,
    /// Prefix tree size and what the node cap left out.
    pub tree: TreeStats,
    /// The kernel's counters at the latest sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counters: Option<crate::counters::Sample>,
    /// The counters' rates per second between the last two samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<Rates>,
    /// The counters' alerts: spikes that name the counter, full queues,
    /// the table undercounting, SYN cookies off during a flood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Vec<Alert>>,
    /// The sysctls that decide what the half-open table can show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
    /// What the settings mean for the half-open table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<SettingNote>>,
    /// Why the half-open table shows fewer SYNs than arrive (empty when
    /// it shows them all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undercount: Option<Vec<UndercountReason>>,
    /// Where the entries came from (`"netlink"`, `"proc"` or `"file"`),
    /// when the report was made from a read (see [`Report::with_source`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Origin>,
}

/// Sorts one family's packed records (address by `addr`, packed tail by
/// `tail`) and feeds them to `tree`: a plan of the node cap first when its
/// sources might not fit (see [`TreeBuilder::plan_sorted`]), then one call
/// per source.
fn feed_family<T, K>(
    tree: &mut TreeBuilder,
    records: &[T],
    addr: impl Fn(&T) -> K + Copy,
    tail: impl Fn(&T) -> u32,
    heavy: u64,
) where
    T: Copy + Default,
    K: radix::Key + Into<u128>,
{
    let (sorted, sources) = radix::sorted(records, addr);
    let key = |r: &T| addr(r).into();
    if let (Some(first), Some(last)) = (sorted.first(), sorted.last()) {
        if !tree.fits_sorted(sources, key(first), key(last)) {
            tree.plan_sorted(sorted.iter().map(key), heavy);
        }
    }
    tree.reserve(sources);
    feed_sorted(tree, sorted.iter().map(|r| (addr(r), tail(r))), Into::into);
}

/// Feeds records sorted by address to `tree`, one call per distinct source.
fn feed_sorted<K: Copy + PartialEq>(
    tree: &mut TreeBuilder,
    records: impl Iterator<Item = (K, u32)>,
    key: impl Fn(K) -> u128,
) {
    let mut current: Option<K> = None;
    let mut source = SourceCounts::default();
    for (addr, tail) in records {
        if current != Some(addr) {
            if let Some(a) = current {
                tree.add_source(key(a), std::mem::take(&mut source));
            }
            current = Some(addr);
        }
        let (local_port, well_known, retransmits) = unpack_tail(tail);
        source.add(well_known, retransmits > 0);
        tree.count_source_port(local_port);
    }
    if let Some(a) = current {
        tree.add_source(key(a), source);
    }
}

/// The prefix trees of both families; a tree whose sources might not fit
/// under the node cap keeps room for every prefix with at least `heavy`
/// entries (see [`TreeBuilder::plan_sorted`]).
fn family_trees(
    snap: &Snapshot,
    config: &Config,
    heavy: u64,
) -> Result<[PrefixTree; 2], ConfigError> {
    let mut v4 = TreeBuilder::new(Family::V4, &config.levels_v4, config.node_cap)?;
    let mut v6 = TreeBuilder::new(Family::V6, &config.levels_v6, config.node_cap)?;

    feed_family(
        &mut v4,
        snap.v4_records(),
        |&r| (r >> 32) as u32,
        |&r| r as u32,
        heavy,
    );
    feed_family(
        &mut v6,
        snap.v6_records(),
        V6Record::addr,
        |r| r.tail,
        heavy,
    );

    for &peer in snap.established_peers() {
        match peer {
            IpAddr::V4(_) => v4.add_established(peer),
            IpAddr::V6(_) => v6.add_established(peer),
        }
    }
    Ok([v4.build(), v6.build()])
}

fn top_sources(trees: &[PrefixTree; 2], n: usize) -> Vec<SourceCount> {
    // A min-heap of the best `n` so far: memory bounded by `n`.
    if n == 0 {
        return Vec::new();
    }
    // `n` is the caller's: never more room than there are nodes.
    let room = n.min(trees[0].len() + trees[1].len()) + 1;
    let mut heap: BinaryHeap<Reverse<(u64, Reverse<IpAddr>)>> = BinaryHeap::with_capacity(room);
    for t in trees {
        let width = t.width();
        for id in t.nodes() {
            if t.prefix_len(id) != width {
                continue;
            }
            let c = t.counts(id);
            let half_open = c.half_open - c.overflow;
            if half_open == 0 {
                continue;
            }
            let candidate = (half_open, Reverse(t.prefix(id).network()));
            if let Some(Reverse(least)) = heap.peek() {
                // Full: only a source that ranks above the least gets in.
                if heap.len() == n && candidate <= *least {
                    continue;
                }
            }
            heap.push(Reverse(candidate));
            if heap.len() > n {
                heap.pop();
            }
        }
    }
    let mut top: Vec<SourceCount> = heap
        .into_iter()
        .map(|Reverse((half_open, Reverse(addr)))| SourceCount { addr, half_open })
        .collect();
    top.sort_unstable_by_key(|s| (Reverse(s.half_open), s.addr));
    top
}

impl Report {
    /// Aggregates `snapshot` under `config`: prefix trees, heavy hitters,
    /// signs and verdicts.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::report::Report;
    /// use halfopen::snapshot::Snapshot;
    /// use halfopen::verdict::Config;
    /// let report = Report::build(&Snapshot::new(), &Config::default())?;
    /// assert_eq!(report.half_open, 0);
    /// assert!(report.prefixes.is_empty());
    /// # Ok::<(), halfopen::verdict::ConfigError>(())
    /// ```
    pub fn build(snapshot: &Snapshot, config: &Config) -> Result<Report, ConfigError> {
        config.validate()?;
        let total = snapshot.half_open();
        let threshold = config.threshold(total);
        let trees = family_trees(snapshot, config, threshold)?;
        let host = HostContext {
            established: snapshot.established_peers().len() as u64,
            listening_ports: snapshot.listening_ports(),
        };
        let mut prefixes = Vec::new();
        for tree in &trees {
            for hh in tree.heavy_hitters(threshold) {
                prefixes.push(judge_prefix(tree, &hh, total, &host, config));
            }
        }
        prefixes.sort_by(|a, b| {
            b.half_open
                .cmp(&a.half_open)
                .then_with(|| a.prefix.cmp(&b.prefix))
        });

        let mut listeners: Vec<ListenerCount> = snapshot
            .listeners()
            .iter()
            .map(|l| ListenerCount {
                addr: l.addr,
                half_open: l.half_open,
            })
            .collect();
        listeners.sort_by(|a, b| b.half_open.cmp(&a.half_open).then(a.addr.cmp(&b.addr)));

        let fam = |t: &PrefixTree| t.half_open() + t.dropped();
        let distinct = trees
            .iter()
            .flat_map(|t| t.roots().iter().map(move |&r| t.counts(r).sources))
            .sum();
        Ok(Report {
            half_open: total,
            half_open_by_family: FamilyCounts {
                ipv4: fam(&trees[0]),
                ipv6: fam(&trees[1]),
            },
            by_state: snapshot
                .by_state()
                .map(|(s, n)| (s.name().to_string(), n))
                .collect(),
            listeners,
            sources: Sources {
                distinct,
                top: top_sources(&trees, config.top_sources),
            },
            threshold,
            host,
            prefixes,
            tree: TreeStats {
                nodes: trees.iter().map(|t| t.len() as u64).sum(),
                node_cap: config.node_cap as u64,
                overflow: trees.iter().map(|t| t.overflow()).sum(),
                dropped: trees.iter().map(|t| t.dropped()).sum(),
            },
            counters: None,
            rates: None,
            alerts: None,
            settings: None,
            notes: None,
            undercount: None,
            source: None,
        })
    }

    /// The report with the kernel's counters added: the latest sample,
    /// the rates, the alerts, the settings with their notes and why the
    /// table undercounts.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::{Counter, Sample, Sampler};
    /// use halfopen::procnet::NetNs;
    /// use halfopen::report::Report;
    /// use halfopen::snapshot::Snapshot;
    /// use halfopen::verdict::Config;
    /// use std::time::Duration;
    /// let mut sampler = Sampler::new(NetNs::Current, 10);
    /// for (t, v) in [(1, 0), (2, 900)] {
    ///     let mut s = Sample::empty(Duration::from_secs(t));
    ///     s.counters.set(Counter::SyncookiesSent, v);
    ///     sampler.push(s)?;
    /// }
    /// let report = Report::build(&Snapshot::new(), &Config::default())?
    ///     .with_counters(sampler.report_with(None, Vec::new()));
    /// let json = report.to_json();
    /// assert!(json.contains(r#""rates":{"interval_secs":1.0"#));
    /// assert!(json.contains(r#""kind":"syn_flood","counter":"TcpExt.SyncookiesSent""#));
    /// assert_eq!(Report::from_json(&json)?, report);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_counters(mut self, c: CounterReport) -> Report {
        self.counters = c.counters;
        self.rates = c.rates;
        self.alerts = Some(c.alerts);
        self.settings = c.settings;
        self.notes = Some(c.notes);
        self.undercount = Some(c.undercount);
        self
    }

    /// This report, saying which source its entries came from (as
    /// [`live::Summary::origin`](crate::live::Summary::origin) tells).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::live::Options;
    /// use halfopen::report::Report;
    /// use halfopen::snapshot::Snapshot;
    /// use halfopen::verdict::Config;
    /// let (snapshot, summary) = Snapshot::read(&Options::new())?;
    /// let report = Report::build(&snapshot, &Config::default())?.with_source(summary.origin);
    /// let json = report.to_json();
    /// assert!(json.contains(r#""source":"netlink""#) || json.contains(r#""source":"proc""#));
    /// assert_eq!(Report::from_json(&json)?, report);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_source(mut self, origin: Origin) -> Report {
        self.source = Some(origin);
        self
    }

    /// [`Report::build`] on a snapshot of `entries`.
    ///
    /// # Errors
    ///
    /// As [`Report::build`]: a config the trees cannot use.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{header, parse_table, Family};
    /// use halfopen::report::Report;
    /// use halfopen::verdict::Config;
    /// let text = header(Family::V4);
    /// let entries = parse_table(text.as_bytes(), None).collect::<Result<Vec<_>, _>>()?;
    /// let report = Report::from_entries(&entries, &Config::default())?;
    /// assert_eq!(report.half_open, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_entries<'t, I>(entries: I, config: &Config) -> Result<Report, ConfigError>
    where
        I: IntoIterator,
        I::Item: std::borrow::Borrow<TcpEntry<'t>>,
    {
        Report::build(&Snapshot::from_entries(entries), config)
    }

    /// The reported prefixes with verdict [`Verdict::Block`].
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{TcpEntry, TcpState, TimerKind};
    /// use halfopen::report::Report;
    /// use halfopen::verdict::Config;
    /// // 200 half-open entries, one per source in 198.18.5.0/24.
    /// let entries: Vec<TcpEntry> = (0..200u32)
    ///     .map(|i| TcpEntry {
    ///         slot: i,
    ///         local: "198.19.0.1:80".parse().unwrap(),
    ///         remote: std::net::SocketAddr::from(([198, 18, 5, i as u8], 40_000)),
    ///         state: TcpState::SynRecv,
    ///         tx_queue: 0,
    ///         rx_queue: 0,
    ///         timer: TimerKind::Retransmit,
    ///         timer_expires: 100,
    ///         retransmits: 2,
    ///         uid: 0,
    ///         timeout: 0,
    ///         inode: 0,
    ///         trailing: "",
    ///     })
    ///     .collect();
    /// let report = Report::from_entries(&entries, &Config::default())?;
    /// let blocked: Vec<String> = report.blocks().map(|p| p.prefix.to_string()).collect();
    /// assert_eq!(blocked, ["198.18.5.0/24"]);
    /// # Ok::<(), halfopen::verdict::ConfigError>(())
    /// ```
    pub fn blocks(&self) -> impl Iterator<Item = &PrefixReport> {
        self.prefixes.iter().filter(|p| p.verdict == Verdict::Block)
    }

    /// The report as compact JSON (one line).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::report::Report;
    /// use halfopen::snapshot::Snapshot;
    /// use halfopen::verdict::Config;
    /// let json = Report::build(&Snapshot::new(), &Config::default())?.to_json();
    /// assert!(json.starts_with(r#"{"half_open":0,"#));
    /// # Ok::<(), halfopen::verdict::ConfigError>(())
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report always serializes")
    }

    /// The report as indented JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// A report read back from its JSON form.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::report::Report;
    /// use halfopen::snapshot::Snapshot;
    /// use halfopen::verdict::Config;
    /// let r = Report::build(&Snapshot::new(), &Config::default())?;
    /// assert_eq!(Report::from_json(&r.to_json())?, r);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Report, serde_json::Error> {
        serde_json::from_str(json)
    }
}

fn judge_prefix(
    tree: &PrefixTree,
    hh: &crate::prefix_tree::HeavyHitter,
    total: u64,
    host: &HostContext,
    config: &Config,
) -> PrefixReport {
    let whole = tree.counts(hh.node);
    let r = hh.residual;
    let (top_port, top_port_entries) = match tree.top_port(hh.node) {
        Some((p, n)) => (Some(p), n),
        None => (None, 0),
    };
    let evidence = Evidence {
        entries: r.half_open,
        sources: r.sources,
        well_known_port: r.well_known_port,
        retransmitted: r.retransmitted,
        adjacent_sources: r.adjacent_sources,
        established: whole.established,
        top_port,
        top_port_entries,
        prefix_entries: whole.half_open,
    };
    let signs = evidence.signs(&config.signs, host);
    let len = tree.prefix_len(hh.node);
    // Thin: spread over the next finer level, each sub-prefix would stay
    // under the absolute threshold. The level above single addresses is
    // never thin.
    let (dense, per_finer) = match tree.finer_level(len) {
        Some(finer) if finer < tree.width() => {
            let slots = 2f64.powi(i32::from(finer - len));
            let avg = r.half_open as f64 / slots;
            (avg >= config.min_entries as f64, Some((finer, avg)))
        }
        _ => (true, None),
    };
    let facts = Facts {
        prefix: tree.prefix(hh.node),
        entries: r.half_open,
        sources: r.sources,
        established: whole.established,
        share: if total > 0 {
            r.half_open as f64 / total as f64
        } else {
            0.0
        },
        dense,
        per_finer,
    };
    let (verdict, reason) = judge(config, &facts, &signs.to_string());
    PrefixReport {
        prefix: facts.prefix,
        half_open: r.half_open,
        sources: r.sources,
        total_half_open: whole.half_open,
        established: whole.established,
        signs,
        evidence,
        verdict,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procnet::{header, parse_table, write_entry, TcpState, TimerKind};
    use crate::signs::Sign;
    use crate::snapshot::tests::entry;
    use std::net::{Ipv4Addr, Ipv6Addr};

    struct Table {
        v4: String,
        v6: String,
        slot: u32,
    }

    impl Table {
        fn new() -> Table {
            Table {
                v4: header(Family::V4),
                v6: header(Family::V6),
                slot: 0,
            }
        }

        fn add(&mut self, local: SocketAddr, remote: SocketAddr, state: TcpState, rt: u32) {
            let e = TcpEntry {
                slot: self.slot,
                timer: TimerKind::Retransmit,
                timer_expires: 100,
                ..entry(local, remote, state, rt)
            };
            self.slot += 1;
            let out = if remote.is_ipv4() {
                &mut self.v4
            } else {
                &mut self.v6
            };
            write_entry(out, &e);
        }

        fn report(&self, config: &Config) -> Report {
            let mut snap = Snapshot::new();
            for text in [&self.v4, &self.v6] {
                for e in parse_table(text.as_bytes(), None) {
                    snap.push(&e.unwrap());
                }
            }
            Report::build(&snap, config).unwrap()
        }
    }

    /// A deterministic generator, so the scenario does not depend on a seed
    /// crate.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    fn find<'r>(r: &'r Report, p: &str) -> Option<&'r PrefixReport> {
        let p: IpNet = p.parse().unwrap();
        r.prefixes.iter().find(|x| x.prefix == p)
    }

    /// The scenario of the kernel test, on a synthetic table: heavy /24s,
    /// a /24 with source ports 80/443, a thin spray over a /16, a heavy
    /// IPv6 /64, clients with established connections.
    #[test]
    fn mixed_flood_gets_the_expected_verdicts() {
        let server4 = SocketAddr::from((Ipv4Addr::new(198, 18, 0, 1), 80));
        let server6 = SocketAddr::from(("2001:db8::1".parse::<Ipv6Addr>().unwrap(), 443));
        let mut t = Table::new();
        let mut rng = Lcg(7);
        let ports = [22u16, 80, 443];
        for net in [10u8, 11, 12] {
            for _ in 0..400 {
                let host = (rng.next() % 254 + 1) as u8;
                let local = SocketAddr::new(server4.ip(), ports[(rng.next() % 3) as usize]);
                let remote = SocketAddr::from((
                    Ipv4Addr::new(198, 18, net, host),
                    20000 + (rng.next() % 40000) as u16,
                ));
                t.add(local, remote, TcpState::SynRecv, (rng.next() % 3) as u32);
            }
        }
        for i in 0..300u32 {
            let remote = SocketAddr::from((
                Ipv4Addr::new(198, 18, 20, (i % 250) as u8 + 1),
                if i % 2 == 0 { 80 } else { 443 },
            ));
            t.add(server4, remote, TcpState::SynRecv, 1);
        }
        for _ in 0..2000 {
            let remote = SocketAddr::from((
                Ipv4Addr::new(198, 19, (rng.next() % 256) as u8, (rng.next() % 256) as u8),
                33000,
            ));
            t.add(server4, remote, TcpState::SynRecv, 0);
        }
        for _ in 0..500 {
            let a = (0x2001_0db8_0005_0007u128 << 64) | u128::from(rng.next() << 20 ^ rng.next());
            t.add(
                server6,
                SocketAddr::from((Ipv6Addr::from(a), 40000)),
                TcpState::SynRecv,
                1,
            );
        }
        for i in 0..30u8 {
            let remote = SocketAddr::from((Ipv4Addr::new(198, 18, 200, 10 + i), 50000));
            t.add(
                SocketAddr::new(server4.ip(), 22),
                remote,
                TcpState::Established,
                0,
            );
        }
        // A few half-open entries from the clients' own prefix.
        for i in 0..5u8 {
            let remote = SocketAddr::from((Ipv4Addr::new(198, 18, 200, 100 + i), 50000));
            t.add(server4, remote, TcpState::SynRecv, 0);
        }
        let r = t.report(&Config::default());
        assert_eq!(r.half_open, 1200 + 300 + 2000 + 500 + 5);
        assert_eq!(r.by_state["SYN_RECV"], r.half_open);
        assert_eq!(r.by_state["ESTABLISHED"], 30);
        assert_eq!(r.half_open_by_family.ipv6, 500);
        for net in [
            "198.18.10.0/24",
            "198.18.11.0/24",
            "198.18.12.0/24",
            "198.18.20.0/24",
            "2001:db8:5:7::/64",
        ] {
            let p = find(&r, net)
                .unwrap_or_else(|| panic!("{net} not reported: {}", r.to_json_pretty()));
            assert_eq!(p.verdict, Verdict::Block, "{net}: {}", p.reason);
            assert!(p.signs.contains(Sign::NoCompletedHandshake));
        }
        let spoofed = find(&r, "198.18.20.0/24").unwrap();
        assert!(spoofed.signs.contains(Sign::WellKnownSourcePort));
        assert!(spoofed.signs.contains(Sign::SequentialWalk));
        assert!(spoofed.signs.contains(Sign::SinglePort));
        assert!(!find(&r, "198.18.10.0/24")
            .unwrap()
            .signs
            .contains(Sign::WellKnownSourcePort));
        let thin = find(&r, "198.19.0.0/16").expect("thin /16 reported");
        assert_eq!(thin.verdict, Verdict::Watch, "{}", thin.reason);
        assert_eq!(thin.half_open, 2000);
        assert!(
            r.prefixes
                .iter()
                .all(|p| !(p.prefix.to_string().starts_with("198.19.")
                    && p.prefix.prefix_len() == 24))
        );
        assert!(r.blocks().all(|p| !p
            .prefix
            .contains(&"198.18.200.0/24".parse::<IpNet>().unwrap())));
        assert_eq!(r.tree.dropped + r.tree.overflow, 0);
        // Half-open entries are explained at most once.
        let explained: u64 = r.prefixes.iter().map(|p| p.half_open).sum();
        assert!(explained <= r.half_open);
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(
            json["prefixes"][0]["prefix"].as_str(),
            Some(r.prefixes[0].prefix.to_string().as_str())
        );
        assert!(json["prefixes"][0]["signs"].is_array());
        assert!(json["listeners"][0]["addr"].is_string());
        assert_eq!(Report::from_json(&r.to_json()).unwrap(), r);
    }

    #[test]
    fn established_clients_protect_their_prefix() {
        let server = SocketAddr::from((Ipv4Addr::new(198, 18, 0, 1), 80));
        let mut t = Table::new();
        for i in 0..200u32 {
            t.add(
                server,
                SocketAddr::from((Ipv4Addr::new(198, 18, 9, (i % 200) as u8), 4000)),
                TcpState::SynRecv,
                0,
            );
        }
        t.add(
            server,
            SocketAddr::from((Ipv4Addr::new(198, 18, 9, 250), 4000)),
            TcpState::Established,
            0,
        );
        let r = t.report(&Config::default());
        let p = find(&r, "198.18.9.0/24").unwrap();
        assert_eq!(p.verdict, Verdict::Watch);
        assert_eq!(p.established, 1);
        let r = t.report(&Config::default().with_protect_established(false));
        assert_eq!(find(&r, "198.18.9.0/24").unwrap().verdict, Verdict::Block);
    }

    #[test]
    fn top_sources_are_the_busiest() {
        let server = SocketAddr::from((Ipv4Addr::new(198, 18, 0, 1), 80));
        let mut t = Table::new();
        for i in 1..=30u8 {
            for _ in 0..i {
                t.add(
                    server,
                    SocketAddr::from((Ipv4Addr::new(198, 18, 1, i), 4000)),
                    TcpState::SynRecv,
                    0,
                );
            }
        }
        let config = Config {
            top_sources: 3,
            ..Config::default()
        };
        let r = t.report(&config);
        assert_eq!(r.sources.distinct, 30);
        let top: Vec<_> = r
            .sources
            .top
            .iter()
            .map(|s| (s.addr.to_string(), s.half_open))
            .collect();
        assert_eq!(
            top,
            [
                ("198.18.1.30".into(), 30),
                ("198.18.1.29".into(), 29),
                ("198.18.1.28".to_string(), 28)
            ]
        );
    }

    #[test]
    fn top_sources_break_ties_by_address() {
        let server = SocketAddr::from((Ipv4Addr::new(198, 18, 0, 1), 80));
        let mut t = Table::new();
        for i in (1..=40u8).rev() {
            let remote = SocketAddr::from((Ipv4Addr::new(198, 18, 1, i), 4000));
            t.add(server, remote, TcpState::SynRecv, 0);
        }
        let remote = SocketAddr::from((Ipv4Addr::new(198, 18, 1, 30), 4001));
        t.add(server, remote, TcpState::SynRecv, 0);
        let config = Config {
            top_sources: 3,
            ..Config::default()
        };
        let top: Vec<_> = t
            .report(&config)
            .sources
            .top
            .iter()
            .map(|s| (s.addr.to_string(), s.half_open))
            .collect();
        let want = [("198.18.1.30", 2), ("198.18.1.1", 1), ("198.18.1.2", 1)];
        assert_eq!(top, want.map(|(a, n)| (a.to_string(), n)));
    }

    #[test]
    fn any_top_sources_count_is_taken() {
        let server = SocketAddr::from((Ipv4Addr::new(198, 18, 0, 1), 80));
        let mut t = Table::new();
        for i in 1..=5u8 {
            let remote = SocketAddr::from((Ipv4Addr::new(198, 18, 1, i), 4000));
            t.add(server, remote, TcpState::SynRecv, 0);
        }
        for n in [usize::MAX, usize::MAX / 2, 1 << 40] {
            let config = Config {
                top_sources: n,
                ..Config::default()
            };
            let r = t.report(&config);
            assert_eq!(r.sources.top.len(), 5, "top_sources {n}");
        }
    }

    proptest::proptest! {
        /// Sorted, aggregated feeding gives the same tree as entry-by-entry
        /// insertion in input order.
        #[test]
        fn sorted_feeding_matches_insertion(
            entries in proptest::collection::vec((0u32..3, 0u32..300, 0u16..3, proptest::prelude::any::<bool>()), 0..500)
        ) {
            let mut by_entry = TreeBuilder::new(Family::V4, &[32, 24, 16], usize::MAX).unwrap();
            let mut records = Vec::new();
            for &(x, y, port, rt) in &entries {
                let a = (198u32 << 24) | (18 << 16) | (x << 8) | y;
                by_entry.insert(
                    IpAddr::V4(Ipv4Addr::from(a)),
                    crate::prefix_tree::Sample { remote_port: port * 500, local_port: 22 + port, retransmitted: rt },
                );
                let tail = crate::snapshot::tests_pack(22 + port, port * 500, u32::from(rt));
                records.push((u64::from(a) << 32) | u64::from(tail));
            }
            let (records, _) = radix::sorted(&records, |&r| (r >> 32) as u32);
            let mut sorted = TreeBuilder::new(Family::V4, &[32, 24, 16], usize::MAX).unwrap();
            feed_sorted(&mut sorted, records.iter().map(|&r| ((r >> 32) as u32, r as u32)), u128::from);
            let (a, b) = (by_entry.build(), sorted.build());
            proptest::prop_assert_eq!(a.len(), b.len());
            for id in a.nodes() {
                let other = b.get(a.prefix(id)).unwrap();
                proptest::prop_assert_eq!(a.counts(id), b.counts(other));
                proptest::prop_assert_eq!(a.top_port(id), b.top_port(other));
            }
        }
    }

    /// A node cap too small for the sources still leaves every /16 in the
    /// tree: the thin spray over the higher /16 is reported, nothing is
    /// dropped, the missing detail is counted as overflow.
    #[test]
    fn a_full_tree_keeps_the_coarse_prefixes() {
        let server = SocketAddr::from((Ipv4Addr::new(198, 18, 0, 1), 80));
        let mut t = Table::new();
        let mut rng = Lcg(11);
        let mut distinct = std::collections::HashSet::new();
        for net in [18u8, 19] {
            for _ in 0..2000 {
                let remote = SocketAddr::from((
                    Ipv4Addr::new(198, net, (rng.next() % 256) as u8, (rng.next() % 256) as u8),
                    33000,
                ));
                distinct.insert(remote.ip());
                t.add(server, remote, TcpState::SynRecv, 0);
            }
        }
        let config = Config::default().with_node_cap(100);
        let r = t.report(&config);
        assert_eq!(r.tree.dropped, 0);
        assert!(r.tree.nodes <= 100);
        assert!(r.tree.overflow > 0);
        // Sources without a node of their own still count.
        assert_eq!(r.sources.distinct, distinct.len() as u64);
        for net in ["198.18.0.0/16", "198.19.0.0/16"] {
            let p = find(&r, net).unwrap_or_else(|| panic!("{net}: {}", r.to_json_pretty()));
            assert_eq!(p.verdict, Verdict::Watch, "{}", p.reason);
            assert_eq!(p.total_half_open, 2000);
            let inside = distinct.iter().filter(|a| p.prefix.contains(*a)).count();
            assert_eq!(p.sources, inside as u64);
        }
    }

    /// Under a full tree, a heavy source is blocked wherever its address
    /// falls among many light ones: the plan keeps room for every prefix
    /// with enough entries to be reported.
    #[test]
    fn a_full_tree_still_blocks_a_heavy_source_at_any_address() {
        let server = SocketAddr::from((Ipv4Addr::new(198, 19, 0, 1), 80));
        let mut verdicts = Vec::new();
        for heavy in [Ipv4Addr::new(198, 18, 0, 7), Ipv4Addr::new(198, 18, 255, 7)] {
            let mut t = Table::new();
            for c in 0..120u8 {
                let remote = SocketAddr::from((Ipv4Addr::new(198, 18, c, 1), 40000));
                t.add(server, remote, TcpState::SynRecv, 1);
            }
            for i in 0..500u16 {
                t.add(
                    server,
                    SocketAddr::from((heavy, 1024 + i)),
                    TcpState::SynRecv,
                    1,
                );
            }
            let r = t.report(&Config::default().with_node_cap(100));
            assert!(r.tree.nodes <= 100);
            assert_eq!(r.tree.dropped, 0);
            let blocked: Vec<(u8, u64)> = r
                .blocks()
                .filter(|p| p.prefix.contains(&IpAddr::V4(heavy)))
                .map(|p| (p.prefix.prefix_len(), p.half_open))
                .collect();
            assert!(
                !blocked.is_empty(),
                "{heavy} not blocked: {}",
                r.to_json_pretty()
            );
            verdicts.push(blocked);
        }
        assert_eq!(verdicts[0], verdicts[1]);
    }

    /// An IPv6 flood of more distinct /128s than the node cap holds, over
    /// 16 /64s in 16 /48s: every /64 is blocked, none dropped.
    #[test]
    fn a_full_tree_still_blocks_every_heavy_ipv6_prefix() {
        let server = SocketAddr::from(("2001:db8:ffff::1".parse::<Ipv6Addr>().unwrap(), 443));
        let mut t = Table::new();
        let mut rng = Lcg(5);
        for _ in 0..4000 {
            let net = rng.next() % 16;
            let a =
                (0x2001_0db8_0000_0007u128 | u128::from(net) << 16) << 64 | u128::from(rng.next());
            t.add(
                server,
                SocketAddr::from((Ipv6Addr::from(a), 40000)),
                TcpState::SynRecv,
                1,
            );
        }
        let r = t.report(&Config::default().with_node_cap(200));
        assert_eq!(r.tree.dropped, 0);
        assert!(r.tree.nodes <= 200);
        let blocked: Vec<String> = r.blocks().map(|p| p.prefix.to_string()).collect();
        assert_eq!(blocked.len(), 16, "{blocked:?}");
        for net in 0..16u128 {
            let p: IpNet = format!("2001:db8:{net:x}:7::/64").parse().unwrap();
            assert!(
                r.blocks().any(|b| b.prefix == p),
                "{p} not blocked: {blocked:?}"
            );
        }
    }

    #[test]
    fn a_bad_config_is_an_error() {
        let bad = Config::default().with_levels_v4(&[40]);
        assert!(Report::build(&Snapshot::new(), &bad).is_err());
    }
}
