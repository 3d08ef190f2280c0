//! Per-second rates between samples, and a ring buffer of the last samples.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::error::RateError;
use super::names::{Counter, PerCounter};
use super::sample::Sample;

/// How a counter moved between two samples.
///
/// The kernel's counters only grow, but they can wrap (at 2^32 where the
/// kernel or a driver keeps 32 bits, at 2^64 otherwise) or start again
/// from zero (an interface re-created, a namespace replaced). A value that
/// went down is read as a wrap when the earlier value was near the top of
/// a 32- or 64-bit range, and as a reset otherwise; after a reset the new
/// value itself is what was counted since.
///
/// # Examples
///
/// ```
/// use halfopen::counters::Delta;
/// assert_eq!(Delta::between(10, 25), Delta::Step(15));
/// assert_eq!(Delta::between(u32::MAX as u64 - 4, 5), Delta::Wrapped(10));
/// assert_eq!(Delta::between(u64::MAX - 1, 3), Delta::Wrapped(5));
/// assert_eq!(Delta::between(1000, 7), Delta::Reset(7));
/// assert_eq!(Delta::between(1000, 7).count(), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delta {
    /// The counter grew by this much.
    Step(u64),
    /// The counter wrapped and grew by this much in all.
    Wrapped(u64),
    /// The counter started again from zero and counted this much since.
    Reset(u64),
}

impl Delta {
    /// How the counter moved from `earlier` to `later`.
    pub fn between(earlier: u64, later: u64) -> Delta {
        const HALF32: u64 = 1 << 31;
        const TOP32: u64 = u32::MAX as u64;
        const HALF64: u64 = 1 << 63;
        if later >= earlier {
            Delta::Step(later - earlier)
        } else if earlier > HALF32 && earlier <= TOP32 && later <= TOP32 {
            Delta::Wrapped(TOP32 - earlier + later + 1)
        } else if earlier > HALF64 {
            Delta::Wrapped(u64::MAX - earlier + later + 1)
        } else {
            Delta::Reset(later)
        }
    }

    /// The amount counted.
    pub fn count(self) -> u64 {
        match self {
            Delta::Step(n) | Delta::Wrapped(n) | Delta::Reset(n) => n,
        }
    }
}

/// The per-second rates of one interface between two samples.
///
/// # Examples
///
/// ```
/// use halfopen::counters::InterfaceRates;
/// let r = InterfaceRates { name: "eth0".into(), rx_bytes: 1e6, rx_packets: 1e3, tx_bytes: 0.0, tx_packets: 0.0 };
/// assert!(r.rx_bytes > r.rx_packets);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterfaceRates {
    /// The interface's name.
    pub name: String,
    /// Bytes received per second.
    pub rx_bytes: f64,
    /// Packets received per second.
    pub rx_packets: f64,
    /// Bytes sent per second.
    pub tx_bytes: f64,
    /// Packets sent per second.
    pub tx_packets: f64,
}

/// Per-second rates of every counter between two samples.
///
/// A counter present in only one of the samples has no rate. Counters that
/// went backwards are listed in `resets` (or `wraps`); their rate counts
/// from zero (or across the wrap). An interface present in only one sample
/// has no rates.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{Counter, Rates, Sample};
/// use std::time::Duration;
/// let mut a = Sample::empty(Duration::from_secs(10));
/// let mut b = Sample::empty(Duration::from_secs(12));
/// a.counters.set(Counter::SyncookiesSent, 100);
/// b.counters.set(Counter::SyncookiesSent, 1100);
/// let r = Rates::between(&a, &b)?;
/// assert_eq!(r.interval_secs, 2.0);
/// assert_eq!(r.get(Counter::SyncookiesSent), Some(500.0));
/// # Ok::<(), halfopen::counters::RateError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// The seconds between the two samples.
    pub interval_secs: f64,
    /// When the later sample was taken, on the monotonic clock, in seconds.
    pub until_secs: f64,
    /// Each counter's rate per second.
    pub counters: PerCounter<f64>,
    /// Each interface's rates, in the later sample's order.
    pub interfaces: Vec<InterfaceRates>,
    /// Counters that started again from zero between the samples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resets: Vec<Counter>,
    /// Counters that wrapped between the samples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wraps: Vec<Counter>,
}

impl Rates {
    /// The rates from `earlier` to `later`; an error unless `later` was
    /// taken after `earlier`.
    pub fn between(earlier: &Sample, later: &Sample) -> Result<Rates, RateError> {
        if later.at <= earlier.at {
            return Err(RateError {
                earlier: earlier.at.as_secs_f64(),
                later: later.at.as_secs_f64(),
            });
        }
        let secs = (later.at - earlier.at).as_secs_f64();
        let mut rates = Rates {
            interval_secs: secs,
            until_secs: later.at.as_secs_f64(),
            counters: PerCounter::default(),
            interfaces: Vec::new(),
            resets: Vec::new(),
            wraps: Vec::new(),
        };
        for (c, now) in later.counters.iter() {
            let Some(before) = earlier.counters.get(c) else {
                continue;
            };
            let d = Delta::between(before, now);
            match d {
                Delta::Step(_) => {}
                Delta::Wrapped(_) => rates.wraps.push(c),
                Delta::Reset(_) => rates.resets.push(c),
            }
            rates.counters.set(c, d.count() as f64 / secs);
        }
        for now in &later.interfaces {
            let Some(before) = earlier.interface(&now.name) else {
                continue;
            };
            let per = |a: u64, b: u64| Delta::between(a, b).count() as f64 / secs;
            rates.interfaces.push(InterfaceRates {
                name: now.name.clone(),
                rx_bytes: per(before.rx_bytes, now.rx_bytes),
                rx_packets: per(before.rx_packets, now.rx_packets),
                tx_bytes: per(before.tx_bytes, now.tx_bytes),
                tx_packets: per(before.tx_packets, now.tx_packets),
            });
        }
        Ok(rates)
    }

    /// The rate of `counter`, if both samples had it.
    pub fn get(&self, counter: Counter) -> Option<f64> {
        self.counters.get(counter)
    }
}

/// The last samples of one namespace and the rates between them: a ring
/// buffer that forgets the oldest sample once it holds `capacity`.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{Counter, History, Sample};
/// use std::time::Duration;
/// let mut h = History::new(3);
/// for (t, v) in [(0, 0), (2, 10), (4, 30), (6, 60)] {
///     let mut s = Sample::empty(Duration::from_secs(t));
///     s.counters.set(Counter::TcpOutRsts, v);
///     h.push(s)?;
/// }
/// assert_eq!(h.samples().count(), 3);
/// assert_eq!(h.rates().count(), 2);
/// assert_eq!(h.latest_rates().unwrap().get(Counter::TcpOutRsts), Some(15.0));
/// # Ok::<(), halfopen::counters::RateError>(())
/// ```
#[derive(Debug, Clone)]
pub struct History {
    capacity: usize,
    samples: VecDeque<Sample>,
    rates: VecDeque<Rates>,
}

impl History {
    /// A history of at most `capacity` samples (at least 2, to give a rate).
    pub fn new(capacity: usize) -> History {
        let capacity = capacity.max(2);
        History {
            capacity,
            samples: VecDeque::with_capacity(capacity),
            rates: VecDeque::with_capacity(capacity),
        }
    }

    /// How many samples the history keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Adds a sample and returns the rates since the one before, if any.
    /// A sample not taken after the latest one is refused and nothing
    /// changes.
    pub fn push(&mut self, sample: Sample) -> Result<Option<&Rates>, RateError> {
        let rates = match self.samples.back() {
            Some(prev) => Some(Rates::between(prev, &sample)?),
            None => None,
        };
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
        if let Some(r) = rates {
            if self.rates.len() == self.capacity - 1 {
                self.rates.pop_front();
            }
            self.rates.push_back(r);
            return Ok(self.rates.back());
        }
        Ok(None)
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> impl DoubleEndedIterator<Item = &Sample> + ExactSizeIterator {
        self.samples.iter()
    }

    /// The rates between consecutive samples, oldest first.
    pub fn rates(&self) -> impl DoubleEndedIterator<Item = &Rates> + ExactSizeIterator {
        self.rates.iter()
    }

    /// The latest sample.
    pub fn latest(&self) -> Option<&Sample> {
        self.samples.back()
    }

    /// The rates between the last two samples.
    pub fn latest_rates(&self) -> Option<&Rates> {
        self.rates.back()
    }

    /// The baseline of `counter`: the median of its rates before the latest
    /// one, over at most `window` of them; `None` when there are none.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::{Counter, History, Sample};
    /// use std::time::Duration;
    /// let mut h = History::new(10);
    /// for (t, v) in [(0, 0), (1, 1), (2, 3), (3, 4), (4, 1004)] {
    ///     let mut s = Sample::empty(Duration::from_secs(t));
    ///     s.counters.set(Counter::IcmpInEchos, v);
    ///     h.push(s)?;
    /// }
    /// // Rates 1, 2, 1, then 1000: the baseline is the median of 1, 2, 1.
    /// assert_eq!(h.baseline(Counter::IcmpInEchos, 8), Some(1.0));
    /// # Ok::<(), halfopen::counters::RateError>(())
    /// ```
    pub fn baseline(&self, counter: Counter, window: usize) -> Option<f64> {
        let mut past: Vec<f64> = self
            .rates
            .iter()
            .rev()
            .skip(1)
            .take(window)
            .filter_map(|r| r.get(counter))
            .collect();
        median(&mut past)
    }
}

/// The median of `values` (the mean of the middle two for an even count);
/// `None` when empty. Reorders `values`.
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::InterfaceCounters;
    use std::time::Duration;

    fn sample(t_ms: u64, values: &[(Counter, u64)]) -> Sample {
        let mut s = Sample::empty(Duration::from_millis(t_ms));
        for &(c, v) in values {
            s.counters.set(c, v);
        }
        s
    }

    #[test]
    fn deltas_at_the_edges() {
        assert_eq!(Delta::between(0, 0), Delta::Step(0));
        assert_eq!(Delta::between(u64::MAX, u64::MAX), Delta::Step(0));
        assert_eq!(Delta::between(u32::MAX as u64, 0), Delta::Wrapped(1));
        assert_eq!(Delta::between(u64::MAX, 0), Delta::Wrapped(1));
        // Just under half of 32 bits: not plausibly a wrap.
        assert_eq!(Delta::between(1 << 31, 5), Delta::Reset(5));
        // A 64-bit value in the low half that went down: reset.
        assert_eq!(Delta::between(1 << 40, 5), Delta::Reset(5));
        // A 32-bit-looking earlier value, later beyond 32 bits: reset-free step.
        assert_eq!(
            Delta::between(1 << 31, 1 << 33),
            Delta::Step((1 << 33) - (1 << 31))
        );
    }

    #[test]
    fn rates_with_wraps_resets_and_missing_counters() {
        let top = u32::MAX as u64;
        let a = sample(
            1_000,
            &[
                (Counter::TcpOutRsts, top - 9),
                (Counter::TcpInSegs, 5000),
                (Counter::ListenDrops, 7),
            ],
        );
        let b = sample(
            1_500,
            &[
                (Counter::TcpOutRsts, 10),
                (Counter::TcpInSegs, 100),
                (Counter::SyncookiesSent, 3),
                (Counter::ListenDrops, 7),
            ],
        );
        let r = Rates::between(&a, &b).unwrap();
        assert_eq!(r.interval_secs, 0.5);
        assert_eq!(r.get(Counter::TcpOutRsts), Some(40.0));
        assert_eq!(r.get(Counter::TcpInSegs), Some(200.0));
        assert_eq!(r.get(Counter::ListenDrops), Some(0.0));
        assert_eq!(r.get(Counter::SyncookiesSent), None);
        assert_eq!(r.wraps, [Counter::TcpOutRsts]);
        assert_eq!(r.resets, [Counter::TcpInSegs]);
        assert!(Rates::between(&b, &a).is_err());
    }

    #[test]
    fn interface_rates_match_by_name() {
        let mut a = Sample::empty(Duration::from_secs(1));
        let mut b = Sample::empty(Duration::from_secs(3));
        let dev = |name: &str, n: u64| InterfaceCounters {
            name: name.into(),
            rx_bytes: n * 100,
            rx_packets: n,
            tx_bytes: n * 10,
            tx_packets: n * 2,
        };
        a.interfaces = vec![dev("lo", 1), dev("gone", 5)];
        b.interfaces = vec![dev("new", 9), dev("lo", 5)];
        let r = Rates::between(&a, &b).unwrap();
        assert_eq!(r.interfaces.len(), 1);
        let lo = &r.interfaces[0];
        assert_eq!(lo.name, "lo");
        assert_eq!(
            (lo.rx_bytes, lo.rx_packets, lo.tx_bytes, lo.tx_packets),
            (200.0, 2.0, 20.0, 4.0)
        );
    }

    #[test]
    fn history_refuses_a_sample_from_the_past_and_keeps_state() {
        let mut h = History::new(4);
        h.push(sample(2_000, &[(Counter::TcpOutRsts, 1)])).unwrap();
        assert!(h.push(sample(1_000, &[(Counter::TcpOutRsts, 2)])).is_err());
        assert_eq!(h.samples().count(), 1);
        assert_eq!(
            h.latest().unwrap().counters.get(Counter::TcpOutRsts),
            Some(1)
        );
        assert!(h.latest_rates().is_none());
    }

    #[test]
    fn ring_keeps_the_last_capacity_samples() {
        let mut h = History::new(3);
        for i in 0..10u64 {
            h.push(sample(i * 1000, &[(Counter::TcpOutRsts, i * i)]))
                .unwrap();
        }
        let kept: Vec<_> = h
            .samples()
            .map(|s| s.counters.get(Counter::TcpOutRsts).unwrap())
            .collect();
        assert_eq!(kept, [49, 64, 81]);
        let rates: Vec<_> = h
            .rates()
            .map(|r| r.get(Counter::TcpOutRsts).unwrap())
            .collect();
        assert_eq!(rates, [15.0, 17.0]);
        assert_eq!(History::new(0).capacity(), 2);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0]), Some(3.0));
        assert_eq!(median(&mut [4.0, 1.0]), Some(2.5));
        assert_eq!(median(&mut [9.0, 1.0, 5.0]), Some(5.0));
    }
}
