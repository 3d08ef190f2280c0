//! The sampler: samples a namespace every few seconds, keeps the last ones
//! and reports counters, rates and alerts.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::alerts::{Alert, AlertRules, UndercountReason};
use super::error::CounterError;
use super::rates::{History, Rates};
use super::sample::{Sample, SampleReader};
use super::settings::{read_listener_queues, ListenerQueue, SettingNote, Settings};
use crate::procnet::NetNs;

/// What the counters say now: the latest sample, the rates since the one
/// before, the alerts, the settings and the listeners' queues, and why the
/// half-open table undercounts, if it does.
///
/// # Examples
///
/// ```
/// use halfopen::counters::CounterReport;
/// let r = CounterReport::default();
/// assert_eq!(serde_json::to_string(&r.alerts).unwrap(), "[]");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CounterReport {
    /// The latest sample.
    pub counters: Option<Sample>,
    /// The rates between the last two samples.
    pub rates: Option<Rates>,
    /// The alerts of the latest rates, queues and settings.
    pub alerts: Vec<Alert>,
    /// The settings of the namespace, when they could be read.
    pub settings: Option<Settings>,
    /// Why the settings could not be read (entering another namespace
    /// needs `CAP_SYS_ADMIN`); the counters are reported all the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_error: Option<String>,
    /// What the settings mean for the half-open table.
    pub notes: Vec<SettingNote>,
    /// Each listener's queues.
    pub listeners: Vec<ListenerQueue>,
    /// Why the half-open table undercounts; empty when it does not.
    pub undercount: Vec<UndercountReason>,
}

impl std::fmt::Display for CounterReport {
    /// The report for people: the counters that moved with their rates,
    /// each interface's traffic, the alerts, why the table undercounts, and
    /// the settings with what they mean.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::{Counter, Sample, Sampler};
    /// use halfopen::procnet::NetNs;
    /// use std::time::Duration;
    /// let mut s = Sampler::new(NetNs::Current, 10);
    /// for (t, v) in [(1, 0), (3, 400)] {
    ///     let mut x = Sample::empty(Duration::from_secs(t));
    ///     x.counters.set(Counter::TcpOutRsts, v);
    ///     s.push(x)?;
    /// }
    /// let text = s.report_with(None, Vec::new()).to_string();
    /// assert!(text.contains("Tcp.OutRsts"));
    /// assert!(text.contains("200.0/s"));
    /// assert!(text.contains("port_scan"));
    /// # Ok::<(), halfopen::counters::CounterError>(())
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.rates {
            None => writeln!(f, "rates: need a second sample")?,
            Some(r) => {
                writeln!(f, "rates over {:.1} s:", r.interval_secs)?;
                let moving: Vec<_> = r.counters.iter().filter(|(_, v)| *v > 0.0).collect();
                if moving.is_empty() {
                    writeln!(f, "  no counter moved")?;
                }
                for (c, v) in moving {
                    writeln!(f, "  {:<28} {v:>12.1}/s", c.key())?;
                }
                for i in &r.interfaces {
                    writeln!(
                        f,
                        "  {:<12} in {:>10.1} pkt/s {:>12.1} B/s, out {:>10.1} pkt/s {:>12.1} B/s",
                        i.name, i.rx_packets, i.rx_bytes, i.tx_packets, i.tx_bytes
                    )?;
                }
            }
        }
        if self.alerts.is_empty() {
            writeln!(f, "alerts: none")?;
        } else {
            writeln!(f, "alerts:")?;
            for a in &self.alerts {
                writeln!(f, "  {}: {}", a.kind, a.message)?;
            }
        }
        for u in &self.undercount {
            writeln!(f, "undercount: {u}")?;
        }
        for l in &self.listeners {
            let backlog = l.backlog.map_or("?".to_owned(), |b| b.to_string());
            writeln!(
                f,
                "listener {}: {} half-open, {} to accept, backlog {backlog}",
                l.local, l.half_open, l.accept_queue
            )?;
        }
        for n in &self.notes {
            writeln!(f, "{} = {}: {}", n.setting, n.value, n.text)?;
        }
        if let Some(e) = &self.settings_error {
            writeln!(f, "settings: {e}")?;
        }
        Ok(())
    }
}

/// Samples one namespace's counters and keeps the last samples.
///
/// Call [`Sampler::sample`] every few seconds (an hourly average hides a
/// one-minute barrage), then [`Sampler::report`].
///
/// # Examples
///
/// ```
/// use halfopen::counters::Sampler;
/// use halfopen::procnet::NetNs;
/// # if std::path::Path::new("/proc/net/snmp").exists() {
/// let mut sampler = Sampler::new(NetNs::Current, 60);
/// sampler.sample()?;
/// std::thread::sleep(std::time::Duration::from_millis(20));
/// let rates = sampler.sample()?.expect("two samples give a rate");
/// assert!(rates.interval_secs > 0.0);
/// let report = sampler.report()?;
/// assert!(report.counters.is_some());
/// # }
/// # Ok::<(), halfopen::counters::CounterError>(())
/// ```
#[derive(Debug)]
pub struct Sampler {
    ns: NetNs,
    /// A namespace file whose namespace every read enters first.
    enter: Option<PathBuf>,
    reader: SampleReader,
    history: History,
    rules: AlertRules,
}

/// `f`'s result, run inside the namespace of namespace file `enter` (on a
/// helper thread) when there is one, else on this thread.
fn inside<T: Send>(
    enter: Option<&Path>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, crate::netns::NetnsError> {
    match enter {
        None => Ok(f()),
        Some(file) => crate::netns::run_in(file, f),
    }
}

/// What a report reads of a namespace besides the counters.
struct NamespaceState {
    settings: Option<Settings>,
    settings_error: Option<String>,
    listeners: Vec<ListenerQueue>,
}

impl Sampler {
    /// A sampler of `ns` keeping the last `capacity` samples (at least 2),
    /// with the default alert rules.
    pub fn new(ns: NetNs, capacity: usize) -> Sampler {
        Sampler {
            reader: SampleReader::new(ns.clone()),
            ns,
            enter: None,
            history: History::new(capacity),
            rules: AlertRules::default(),
        }
    }

    /// A sampler of the network namespace behind a namespace file
    /// (`/run/netns/NAME` as `ip netns add` makes it, see
    /// [`netns::named`](crate::netns::named), or `/proc/<pid>/ns/net`),
    /// keeping the last `capacity` samples (at least 2). Every read enters
    /// the namespace on a helper thread (`setns(2)`, which needs
    /// `CAP_SYS_ADMIN`); the caller's thread stays where it is. A namespace
    /// that cannot be entered is a [`CounterError::Namespace`].
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::{CounterError, Sampler};
    /// let mut s = Sampler::in_namespace("/run/netns/no-such-namespace", 10);
    /// assert!(matches!(s.sample(), Err(CounterError::Namespace(_))));
    /// assert_eq!(s.namespace_file().unwrap().to_str(), Some("/run/netns/no-such-namespace"));
    /// // A report still comes, saying why it has no settings.
    /// let report = s.report()?;
    /// assert!(report.settings_error.unwrap().contains("no-such-namespace"));
    /// # Ok::<(), CounterError>(())
    /// ```
    pub fn in_namespace(file: impl Into<PathBuf>, capacity: usize) -> Sampler {
        Sampler {
            // Read on the thread that entered the namespace.
            reader: SampleReader::new(NetNs::Current),
            ns: NetNs::Current,
            enter: Some(file.into()),
            history: History::new(capacity),
            rules: AlertRules::default(),
        }
    }

    /// The namespace file the sampler enters, if it was made by
    /// [`Sampler::in_namespace`].
    pub fn namespace_file(&self) -> Option<&Path> {
        self.enter.as_deref()
    }

    /// Replaces the alert rules.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::{AlertRules, Sampler};
    /// use halfopen::procnet::NetNs;
    /// let mut rules = AlertRules::default();
    /// rules.spikes.iter_mut().for_each(|r| r.floor = 5.0);
    /// let s = Sampler::new(NetNs::Current, 10).with_rules(rules.clone());
    /// assert_eq!(s.rules(), &rules);
    /// ```
    pub fn with_rules(mut self, rules: AlertRules) -> Sampler {
        self.rules = rules;
        self
    }

    /// The alert rules.
    pub fn rules(&self) -> &AlertRules {
        &self.rules
    }

    /// The namespace sampled (`Current` inside the namespace file's
    /// namespace for a sampler made by [`Sampler::in_namespace`]).
    pub fn ns(&self) -> &NetNs {
        &self.ns
    }

    /// The samples and rates kept.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Takes a sample now and returns the rates since the one before.
    pub fn sample(&mut self) -> Result<Option<&Rates>, CounterError> {
        let reader = &mut self.reader;
        let s =
            inside(self.enter.as_deref(), || reader.read()).map_err(CounterError::Namespace)??;
        self.push(s)
    }

    /// Adds a sample taken elsewhere (it must be later than the latest).
    pub fn push(&mut self, sample: Sample) -> Result<Option<&Rates>, CounterError> {
        Ok(self.history.push(sample)?)
    }

    /// Reads the namespace's settings and listener queues now and reports.
    /// When another namespace cannot be entered to read them, the report
    /// says why in `settings_error` and carries everything else (the
    /// samples taken so far, without settings and listener queues).
    pub fn report(&self) -> Result<CounterReport, CounterError> {
        let state = match inside(self.enter.as_deref(), || self.read_state()) {
            Ok(state) => state?,
            Err(e) => NamespaceState {
                settings: None,
                settings_error: Some(CounterError::Namespace(e).to_string()),
                listeners: Vec::new(),
            },
        };
        let mut report = self.report_with(state.settings, state.listeners);
        report.settings_error = state.settings_error;
        Ok(report)
    }

    /// The settings (or why they could not be read) and the listener
    /// queues of the namespace, read from this thread.
    fn read_state(&self) -> Result<NamespaceState, CounterError> {
        let (settings, settings_error) = match Settings::read(&self.ns) {
            Ok(s) => (s, None),
            Err(e @ CounterError::Netns { .. }) => (None, Some(e.to_string())),
            Err(e) => return Err(e),
        };
        let listeners = match &self.ns {
            NetNs::Dir(_) if !self.ns.table_path(crate::procnet::Family::V4).exists() => Vec::new(),
            ns => read_listener_queues(ns)?,
        };
        Ok(NamespaceState {
            settings,
            settings_error,
            listeners,
        })
    }

    /// Reports with settings and listener queues the caller already has
    /// (from its own pass over the tables, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::{Counter, Sample, Sampler};
    /// use halfopen::procnet::NetNs;
    /// use std::time::Duration;
    /// let mut s = Sampler::new(NetNs::Current, 10);
    /// for (t, v) in [(1, 0), (2, 1000)] {
    ///     let mut x = Sample::empty(Duration::from_secs(t));
    ///     x.counters.set(Counter::SyncookiesSent, v);
    ///     s.push(x)?;
    /// }
    /// let r = s.report_with(None, Vec::new());
    /// assert_eq!(r.alerts[0].counter, Some(Counter::SyncookiesSent));
    /// assert_eq!(r.undercount.len(), 1);
    /// # Ok::<(), halfopen::counters::CounterError>(())
    /// ```
    pub fn report_with(
        &self,
        settings: Option<Settings>,
        listeners: Vec<ListenerQueue>,
    ) -> CounterReport {
        let (alerts, undercount) =
            self.rules
                .evaluate(&self.history, settings.as_ref(), &listeners);
        CounterReport {
            counters: self.history.latest().cloned(),
            rates: self.history.latest_rates().cloned(),
            alerts,
            notes: settings.as_ref().map(Settings::notes).unwrap_or_default(),
            settings,
            settings_error: None,
            listeners,
            undercount,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::{Counter, InterfaceCounters};
    use std::time::Duration;

    #[test]
    fn report_json_round_trips() {
        let mut s = Sampler::new(NetNs::Dir("/nonexistent".into()), 4);
        for (t, v) in [(1, 0u64), (3, 1000)] {
            let mut x = Sample::empty(Duration::from_secs(t));
            x.unix_ms = 1_764_000_000_000 + t * 1000;
            x.counters.set(Counter::IcmpInEchos, v);
            x.counters.set(Counter::SyncookiesSent, 2 * v);
            x.interfaces.push(InterfaceCounters {
                name: "att0".into(),
                rx_bytes: 64 * v,
                rx_packets: v,
                tx_bytes: 0,
                tx_packets: 0,
            });
            s.push(x).unwrap();
        }
        let settings = Settings {
            tcp_syncookies: Some(1),
            tcp_max_syn_backlog: Some(512),
            somaxconn: Some(4096),
            tcp_synack_retries: Some(5),
        };
        let q = ListenerQueue {
            local: "198.19.1.1:80".parse().unwrap(),
            backlog: Some(16),
            accept_queue: 0,
            half_open: 16,
        };
        let r = s.report_with(Some(settings), vec![q]);
        let kinds: Vec<_> = r.alerts.iter().map(|a| (a.kind, a.counter)).collect();
        use crate::counters::AlertKind::*;
        assert_eq!(
            kinds,
            [
                (SynFlood, Some(Counter::SyncookiesSent)),
                (PingFlood, Some(Counter::IcmpInEchos)),
                (QueueFull, None),
                (TableUndercounts, None),
            ]
        );
        assert_eq!(r.undercount.len(), 2);
        assert_eq!(r.notes.len(), 4);
        let json = serde_json::to_string(&r).unwrap();
        let back: CounterReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        // A directory without TCP tables reports no listeners, not an error.
        assert!(s.report().unwrap().listeners.is_empty());
    }
}
