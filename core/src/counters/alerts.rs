//! Alerts: a spike rule per counter, full queues, and when the half-open
//! table undercounts.

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::names::Counter;
use super::rates::{History, Rates};
use super::settings::{ListenerQueue, Settings};

/// What an alert is about.
///
/// # Examples
///
/// ```
/// use halfopen::counters::AlertKind;
/// assert_eq!(AlertKind::PingFlood.to_string(), "ping_flood");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// SYN cookies sent or SYNs dropped at a rate far over the baseline.
    SynFlood,
    /// Resets or port unreachables sent for closed ports, far over the
    /// baseline.
    PortScan,
    /// Echo requests received or replies sent far over the baseline.
    PingFlood,
    /// A listener's SYN queue or accept queue is full.
    QueueFull,
    /// The half-open table misses part of what arrives (see
    /// [`UndercountReason`]).
    TableUndercounts,
    /// SYN cookies are off while a SYN flood fills a queue: SYNs are dropped.
    CookiesOff,
}

impl AlertKind {
    /// The kind's name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            AlertKind::SynFlood => "syn_flood",
            AlertKind::PortScan => "port_scan",
            AlertKind::PingFlood => "ping_flood",
            AlertKind::QueueFull => "queue_full",
            AlertKind::TableUndercounts => "table_undercounts",
            AlertKind::CookiesOff => "cookies_off",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A spike rule for one counter: alert when its rate is above `k` times
/// its baseline (the median of its recent rates) and above `floor`.
///
/// With no history yet the baseline counts as zero, so the first interval
/// of a barrage already alerts once it passes the floor.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{AlertKind, Counter, SpikeRule};
/// let rule = SpikeRule { counter: Counter::IcmpInEchos, kind: AlertKind::PingFlood, k: 4.0, floor: 50.0 };
/// assert!(rule.fires(500.0, Some(10.0)));
/// assert!(!rule.fires(500.0, Some(200.0))); // only 2.5 times the baseline
/// assert!(!rule.fires(40.0, None));         // under the floor
/// assert!(rule.fires(60.0, None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpikeRule {
    /// The counter watched.
    pub counter: Counter,
    /// The alert it raises.
    pub kind: AlertKind,
    /// How many times its baseline the rate must be.
    pub k: f64,
    /// The rate per second it must exceed in any case.
    pub floor: f64,
}

impl SpikeRule {
    /// True when `rate` spikes over `baseline` by this rule.
    pub fn fires(&self, rate: f64, baseline: Option<f64>) -> bool {
        rate > self.floor && rate > self.k * baseline.unwrap_or(0.0)
    }
}

/// The spike rules and the baseline window.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{AlertKind, AlertRules, Counter};
/// let rules = AlertRules::default();
/// let kinds: Vec<_> = rules.spikes.iter().filter(|r| r.counter == Counter::TcpOutRsts).map(|r| r.kind).collect();
/// assert_eq!(kinds, [AlertKind::PortScan]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRules {
    /// One rule per watched counter.
    pub spikes: Vec<SpikeRule>,
    /// How many past rates make a baseline.
    pub window: usize,
}

/// The default multiple of the baseline.
pub const DEFAULT_K: f64 = 4.0;

impl Default for AlertRules {
    /// Every SYN-side, scan and echo counter with k = [`DEFAULT_K`]; floors
    /// of 20 per second for SYN cookies and drops (a quiet server sends
    /// none), 50 per second for resets, unreachables and echoes (which
    /// ordinary traffic produces now and then), and a baseline of the last
    /// 30 rates. ICMP messages held back by the rate limits count as a
    /// port scan: the limits apply to errors such as port unreachables,
    /// not to echo replies.
    fn default() -> Self {
        use AlertKind::*;
        use Counter::*;
        let spec: [(Counter, AlertKind, f64); 18] = [
            (SyncookiesSent, SynFlood, 20.0),
            (TcpReqQFullDoCookies, SynFlood, 20.0),
            (TcpReqQFullDrop, SynFlood, 20.0),
            (ListenDrops, SynFlood, 20.0),
            (ListenOverflows, SynFlood, 20.0),
            (TcpOutRsts, PortScan, 50.0),
            (TcpAttemptFails, PortScan, 50.0),
            (UdpNoPorts, PortScan, 50.0),
            (Udp6NoPorts, PortScan, 50.0),
            (IcmpOutDestUnreachs, PortScan, 50.0),
            (Icmp6OutDestUnreachs, PortScan, 50.0),
            (IcmpInEchos, PingFlood, 50.0),
            (IcmpOutEchoReps, PingFlood, 50.0),
            (Icmp6InEchos, PingFlood, 50.0),
            (Icmp6OutEchoReplies, PingFlood, 50.0),
            (IcmpOutRateLimitGlobal, PortScan, 50.0),
            (IcmpOutRateLimitHost, PortScan, 50.0),
            (Icmp6OutRateLimitHost, PortScan, 50.0),
        ];
        AlertRules {
            spikes: spec
                .into_iter()
                .map(|(counter, kind, floor)| SpikeRule {
                    counter,
                    kind,
                    k: DEFAULT_K,
                    floor,
                })
                .collect(),
            window: 30,
        }
    }
}

/// One alert of the report.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{Alert, AlertKind, Counter};
/// let a = Alert::spike(AlertKind::SynFlood, Counter::SyncookiesSent, 900.0, Some(0.0), 20.0);
/// assert_eq!(a.counter, Some(Counter::SyncookiesSent));
/// assert!(a.message.contains("TcpExt.SyncookiesSent"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// The counter that spiked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<Counter>,
    /// The counter's rate per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// The counter's baseline rate per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// The listener it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<SocketAddr>,
    /// A sentence for people.
    pub message: String,
}

impl Alert {
    /// A spike alert for `counter`.
    pub fn spike(
        kind: AlertKind,
        counter: Counter,
        rate: f64,
        baseline: Option<f64>,
        floor: f64,
    ) -> Alert {
        let what = match kind {
            AlertKind::SynFlood => "SYN flood",
            AlertKind::PortScan => "port scan",
            AlertKind::PingFlood => "ping flood",
            AlertKind::QueueFull => "queue full",
            AlertKind::TableUndercounts => "table undercounts",
            AlertKind::CookiesOff => "SYN cookies off",
        };
        let base = baseline.map_or("no baseline yet".to_owned(), |b| {
            format!("baseline {b:.1}/s")
        });
        Alert {
            kind,
            counter: Some(counter),
            rate: Some(rate),
            baseline,
            listener: None,
            message: format!("{what}: {counter} at {rate:.1}/s ({base}, floor {floor}/s)"),
        }
    }
}

/// Why the half-open table shows fewer SYNs than arrive.
///
/// # Examples
///
/// ```
/// use halfopen::counters::UndercountReason;
/// let r = UndercountReason::CookiesSent { rate: 120.0 };
/// assert!(r.to_string().contains("no half-open entry"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum UndercountReason {
    /// `tcp_syncookies` = 2: no SYN leaves an entry.
    CookiesAlways,
    /// SYN cookies are being sent: those SYNs leave no entry.
    CookiesSent {
        /// TcpExt.SyncookiesSent per second.
        rate: f64,
    },
    /// A listener's SYN queue is full: further SYNs get a cookie or are
    /// dropped, and leave no entry.
    SynQueueFull {
        /// The listener.
        listener: SocketAddr,
        /// Its half-open entries.
        half_open: u32,
        /// Its backlog.
        backlog: u32,
    },
    /// SYNs are being dropped before they make an entry.
    SynsDropped {
        /// The counter that shows it.
        counter: Counter,
        /// Its rate per second (for ListenDrops, beyond ListenOverflows).
        rate: f64,
    },
}

impl fmt::Display for UndercountReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UndercountReason::CookiesAlways => {
                f.write_str("tcp_syncookies is 2: every SYN gets a cookie and no half-open entry")
            }
            UndercountReason::CookiesSent { rate } => write!(
                f,
                "SYN cookies sent at {rate:.1}/s: those SYNs leave no half-open entry"
            ),
            UndercountReason::SynQueueFull {
                listener,
                half_open,
                backlog,
            } => write!(
                f,
                "SYN queue of {listener} is full ({half_open} half-open, backlog {backlog}): \
                 further SYNs leave no entry"
            ),
            UndercountReason::SynsDropped { counter, rate } => {
                write!(
                    f,
                    "SYNs dropped ({counter} at {rate:.1}/s): they leave no entry"
                )
            }
        }
    }
}

/// Why the half-open table undercounts now, from the settings, the latest
/// rates and the listeners' queues; empty when it shows every SYN.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{undercount, ListenerQueue, Settings};
/// let q = ListenerQueue { local: "10.0.0.1:80".parse().unwrap(), backlog: Some(16), accept_queue: 0, half_open: 16 };
/// let reasons = undercount(Some(&Settings::default()), None, &[q]);
/// assert_eq!(reasons.len(), 1);
/// assert!(undercount(None, None, &[]).is_empty());
/// ```
pub fn undercount(
    settings: Option<&Settings>,
    rates: Option<&Rates>,
    listeners: &[ListenerQueue],
) -> Vec<UndercountReason> {
    let mut reasons = Vec::new();
    if settings.and_then(|s| s.tcp_syncookies) == Some(2) {
        reasons.push(UndercountReason::CookiesAlways);
    }
    if let Some(r) = rates {
        if let Some(rate) = r.get(Counter::SyncookiesSent).filter(|&v| v > 0.0) {
            reasons.push(UndercountReason::CookiesSent { rate });
        }
        if let Some(rate) = r.get(Counter::TcpReqQFullDrop).filter(|&v| v > 0.0) {
            reasons.push(UndercountReason::SynsDropped {
                counter: Counter::TcpReqQFullDrop,
                rate,
            });
        }
        let drops = r.get(Counter::ListenDrops).unwrap_or(0.0)
            - r.get(Counter::ListenOverflows).unwrap_or(0.0);
        if drops > 0.0 {
            reasons.push(UndercountReason::SynsDropped {
                counter: Counter::ListenDrops,
                rate: drops,
            });
        }
    }
    for l in listeners.iter().filter(|l| l.syn_queue_full()) {
        reasons.push(UndercountReason::SynQueueFull {
            listener: l.local,
            half_open: l.half_open,
            backlog: l.backlog.unwrap_or_default(),
        });
    }
    reasons
}

impl AlertRules {
    /// The spike alerts of the latest rates in `history`, one per counter
    /// whose rule fires.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::{AlertKind, AlertRules, Counter, History, Sample};
    /// use std::time::Duration;
    /// let mut h = History::new(10);
    /// for (t, v) in [(0, 0), (2, 2), (4, 4), (6, 2004)] {
    ///     let mut s = Sample::empty(Duration::from_secs(t));
    ///     s.counters.set(Counter::IcmpInEchos, v);
    ///     h.push(s)?;
    /// }
    /// let alerts = AlertRules::default().spikes(&h);
    /// assert_eq!(alerts.len(), 1);
    /// assert_eq!((alerts[0].kind, alerts[0].counter), (AlertKind::PingFlood, Some(Counter::IcmpInEchos)));
    /// # Ok::<(), halfopen::counters::RateError>(())
    /// ```
    pub fn spikes(&self, history: &History) -> Vec<Alert> {
        let Some(latest) = history.latest_rates() else {
            return Vec::new();
        };
        let mut alerts = Vec::new();
        for rule in &self.spikes {
            let Some(rate) = latest.get(rule.counter) else {
                continue;
            };
            let baseline = history.baseline(rule.counter, self.window);
            if rule.fires(rate, baseline) {
                alerts.push(Alert::spike(
                    rule.kind,
                    rule.counter,
                    rate,
                    baseline,
                    rule.floor,
                ));
            }
        }
        alerts
    }

    /// Every alert: the spikes, each full listener queue, the table
    /// undercounting (with its reasons), and SYN cookies off during a flood.
    /// Returns the alerts and the undercount reasons.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::{AlertKind, AlertRules, History, ListenerQueue, Settings};
    /// let q = ListenerQueue { local: "10.0.0.1:80".parse().unwrap(), backlog: Some(8), accept_queue: 0, half_open: 9 };
    /// let off = Settings { tcp_syncookies: Some(0), ..Settings::default() };
    /// let (alerts, reasons) = AlertRules::default().evaluate(&History::new(4), Some(&off), &[q]);
    /// let kinds: Vec<_> = alerts.iter().map(|a| a.kind).collect();
    /// assert_eq!(kinds, [AlertKind::QueueFull, AlertKind::TableUndercounts, AlertKind::CookiesOff]);
    /// assert_eq!(reasons.len(), 1);
    /// ```
    pub fn evaluate(
        &self,
        history: &History,
        settings: Option<&Settings>,
        listeners: &[ListenerQueue],
    ) -> (Vec<Alert>, Vec<UndercountReason>) {
        let mut alerts = self.spikes(history);
        for l in listeners {
            let which = match (l.syn_queue_full(), l.accept_queue_full()) {
                (true, true) => "SYN and accept queues",
                (true, false) => "SYN queue",
                (false, true) => "accept queue",
                (false, false) => continue,
            };
            alerts.push(Alert {
                kind: AlertKind::QueueFull,
                counter: None,
                rate: None,
                baseline: None,
                listener: Some(l.local),
                message: format!(
                    "queue full: {which} of {} ({} half-open, {} to accept, backlog {})",
                    l.local,
                    l.half_open,
                    l.accept_queue,
                    l.backlog.unwrap_or_default()
                ),
            });
        }
        let reasons = undercount(settings, history.latest_rates(), listeners);
        if !reasons.is_empty() {
            let list: Vec<String> = reasons.iter().map(|r| r.to_string()).collect();
            alerts.push(Alert {
                kind: AlertKind::TableUndercounts,
                counter: None,
                rate: None,
                baseline: None,
                listener: None,
                message: format!("the half-open table undercounts: {}", list.join("; ")),
            });
        }
        let flooding = alerts
            .iter()
            .any(|a| matches!(a.kind, AlertKind::SynFlood | AlertKind::QueueFull))
            || reasons
                .iter()
                .any(|r| !matches!(r, UndercountReason::CookiesAlways));
        if settings.is_some_and(Settings::cookies_off) && flooding {
            alerts.push(Alert {
                kind: AlertKind::CookiesOff,
                counter: None,
                rate: None,
                baseline: None,
                listener: None,
                message: "SYN cookies are off (net.ipv4.tcp_syncookies = 0) during a SYN flood: \
                          SYNs past a full queue are dropped, real clients among them"
                    .to_owned(),
            });
        }
        (alerts, reasons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::Sample;
    use std::time::Duration;

    fn history(counter: Counter, points: &[(u64, u64)]) -> History {
        let mut h = History::new(64);
        for &(ms, v) in points {
            let mut s = Sample::empty(Duration::from_millis(ms));
            s.counters.set(counter, v);
            h.push(s).unwrap();
        }
        h
    }

    fn kinds(alerts: &[Alert]) -> Vec<(AlertKind, Option<Counter>)> {
        alerts.iter().map(|a| (a.kind, a.counter)).collect()
    }

    #[test]
    fn spike_rule_edges() {
        let r = SpikeRule {
            counter: Counter::TcpOutRsts,
            kind: AlertKind::PortScan,
            k: 4.0,
            floor: 50.0,
        };
        // Exactly at the floor or at k times the baseline: no alert.
        assert!(!r.fires(50.0, None));
        assert!(!r.fires(400.0, Some(100.0)));
        assert!(r.fires(400.1, Some(100.0)));
        // A zero baseline: the floor alone decides.
        assert!(r.fires(50.1, Some(0.0)));
        // NaN never fires.
        assert!(!r.fires(f64::NAN, None));
    }

    #[test]
    fn first_interval_of_a_barrage_alerts() {
        let h = history(Counter::SyncookiesSent, &[(0, 0), (1_000, 500)]);
        let a = AlertRules::default().spikes(&h);
        assert_eq!(
            kinds(&a),
            [(AlertKind::SynFlood, Some(Counter::SyncookiesSent))]
        );
        assert_eq!(a[0].rate, Some(500.0));
        assert_eq!(a[0].baseline, None);
    }

    #[test]
    fn a_steady_high_rate_is_the_baseline_not_a_spike() {
        let points: Vec<_> = (0..10).map(|i| (i * 1000, i * 1000)).collect();
        let h = history(Counter::TcpOutRsts, &points);
        assert!(AlertRules::default().spikes(&h).is_empty());
        // Then five times that: a spike.
        let mut points = points;
        points.push((10_000, 9_000 + 5_000));
        let h = history(Counter::TcpOutRsts, &points);
        assert_eq!(
            kinds(&AlertRules::default().spikes(&h)),
            [(AlertKind::PortScan, Some(Counter::TcpOutRsts))]
        );
    }

    #[test]
    fn quiet_counters_raise_nothing() {
        let h = history(Counter::IcmpInEchos, &[(0, 5), (3_000, 9), (6_000, 12)]);
        let (alerts, reasons) = AlertRules::default().evaluate(&h, None, &[]);
        assert!(alerts.is_empty());
        assert!(reasons.is_empty());
    }

    #[test]
    fn undercount_reasons() {
        let mut a = Sample::empty(Duration::from_secs(1));
        let mut b = Sample::empty(Duration::from_secs(2));
        for (c, x, y) in [
            (Counter::SyncookiesSent, 0, 10),
            (Counter::TcpReqQFullDrop, 0, 3),
            (Counter::ListenDrops, 0, 5),
            (Counter::ListenOverflows, 0, 5),
        ] {
            a.counters.set(c, x);
            b.counters.set(c, y);
        }
        let r = Rates::between(&a, &b).unwrap();
        let always = Settings {
            tcp_syncookies: Some(2),
            ..Settings::default()
        };
        let reasons = undercount(Some(&always), Some(&r), &[]);
        assert_eq!(
            reasons,
            [
                UndercountReason::CookiesAlways,
                UndercountReason::CookiesSent { rate: 10.0 },
                UndercountReason::SynsDropped {
                    counter: Counter::TcpReqQFullDrop,
                    rate: 3.0
                },
            ]
        );
    }

    #[test]
    fn cookies_off_alert_only_during_a_flood() {
        let off = Settings {
            tcp_syncookies: Some(0),
            ..Settings::default()
        };
        let quiet = history(Counter::ListenDrops, &[(0, 0), (1_000, 0)]);
        let (alerts, _) = AlertRules::default().evaluate(&quiet, Some(&off), &[]);
        assert!(alerts.is_empty());
        let flood = history(Counter::TcpReqQFullDrop, &[(0, 0), (1_000, 300)]);
        let (alerts, _) = AlertRules::default().evaluate(&flood, Some(&off), &[]);
        assert_eq!(
            kinds(&alerts),
            [
                (AlertKind::SynFlood, Some(Counter::TcpReqQFullDrop)),
                (AlertKind::TableUndercounts, None),
                (AlertKind::CookiesOff, None)
            ]
        );
    }

    #[test]
    fn alerts_serialize_with_counter_keys() {
        let a = Alert::spike(AlertKind::PortScan, Counter::UdpNoPorts, 80.0, None, 50.0);
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.starts_with(r#"{"kind":"port_scan","counter":"Udp.NoPorts","rate":80.0"#));
        let r = UndercountReason::SynsDropped {
            counter: Counter::ListenDrops,
            rate: 2.0,
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"reason":"syns_dropped","counter":"TcpExt.ListenDrops","rate":2.0}"#
        );
    }
}
