//! Blocking what a [`Report`] says to block.

use std::time::Duration;

use ipnet::IpNet;

use super::{Added, BlockError, BlockSet, Millis};
use crate::report::Report;

/// What [`BlockSet::apply_report`] did with each prefix of verdict block.
///
/// # Examples
///
/// ```
/// use halfopen::blockset::ReportOutcome;
/// let o = ReportOutcome::default();
/// assert!(o.added.is_empty() && o.refused.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportOutcome {
    /// The prefixes blocked, extended or covered, with what happened.
    pub added: Vec<(IpNet, Added)>,
    /// The prefixes the set refused, with why.
    pub refused: Vec<BlockError>,
}

impl BlockSet {
    /// Blocks every prefix of `report` whose verdict is
    /// [`Verdict::Block`](crate::verdict::Verdict::Block), with the report's
    /// reason and `ttl` (or [`BlockConfig::default_ttl`](super::BlockConfig::default_ttl)
    /// when `None`), as [`add`](Self::add) does. Refusals are collected, not
    /// dropped: one refused prefix does not stop the others.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    /// use halfopen::procnet::{parse_table, write_entry, header, Family, TcpEntry, TcpState, TimerKind};
    /// use halfopen::report::Report;
    /// use halfopen::verdict::Config;
    ///
    /// let mut table = header(Family::V4);
    /// for i in 0..200u32 {
    ///     let e = TcpEntry { slot: i, local: "198.18.0.1:80".parse().unwrap(),
    ///         remote: ([198, 18, 5, i as u8], 40000).into(), state: TcpState::SynRecv,
    ///         tx_queue: 0, rx_queue: 0, timer: TimerKind::Retransmit, timer_expires: 100,
    ///         retransmits: 1, uid: 0, timeout: 0, inode: 0, trailing: "" };
    ///     write_entry(&mut table, &e);
    /// }
    /// let entries: Vec<_> = parse_table(table.as_bytes(), None).collect::<Result<_, _>>()?;
    /// let report = Report::from_entries(&entries, &Config::default())?;
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// let outcome = set.apply_report(&report, None, Millis(0));
    /// assert_eq!(outcome.added.len(), 1);
    /// let block = set.get(&"198.18.5.0/24".parse().unwrap()).unwrap();
    /// assert_eq!(block.expires, Millis(600_000));
    /// assert!(!block.reason.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply_report(
        &mut self,
        report: &Report,
        ttl: Option<Duration>,
        now: Millis,
    ) -> ReportOutcome {
        let ttl = ttl.unwrap_or(self.config.default_ttl);
        let mut outcome = ReportOutcome::default();
        for p in report.blocks() {
            match self.add(p.prefix, &p.reason, ttl, now) {
                Ok(added) => outcome.added.push((p.prefix.trunc(), added)),
                Err(e) => outcome.refused.push(e),
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blockset::BlockConfig;
    use crate::procnet::{header, parse_table, write_entry, Family, TcpEntry, TcpState, TimerKind};
    use crate::verdict::{Config, Verdict};

    /// A report of 200 half-open entries from each of two /24s.
    fn report() -> Report {
        let mut table = header(Family::V4);
        for (n, third) in [5u8, 77].iter().enumerate() {
            for i in 0..200u32 {
                let e = TcpEntry {
                    slot: i + 200 * n as u32,
                    local: "198.19.0.1:80".parse().unwrap(),
                    remote: ([198, 18, *third, i as u8], 40000).into(),
                    state: TcpState::SynRecv,
                    tx_queue: 0,
                    rx_queue: 0,
                    timer: TimerKind::Retransmit,
                    timer_expires: 100,
                    retransmits: 1,
                    uid: 0,
                    timeout: 0,
                    inode: 0,
                    trailing: "",
                };
                write_entry(&mut table, &e);
            }
        }
        let entries: Vec<_> = parse_table(table.as_bytes(), None)
            .collect::<Result<_, _>>()
            .unwrap();
        Report::from_entries(&entries, &Config::default()).unwrap()
    }

    #[test]
    fn blocks_every_block_verdict_and_collects_refusals() {
        let report = report();
        let wanted: Vec<IpNet> = report.blocks().map(|p| p.prefix).collect();
        assert!(wanted.len() >= 2, "{:?}", report.prefixes);
        let allowed: IpNet = "198.18.77.0/25".parse().unwrap();
        let mut set = BlockSet::new(BlockConfig {
            allowlist: vec![allowed],
            ..BlockConfig::default()
        });
        let ttl = Duration::from_secs(30);
        let out = set.apply_report(&report, Some(ttl), Millis(1_000));
        let refused: Vec<IpNet> = wanted
            .iter()
            .copied()
            .filter(|p| p.contains(&allowed) || allowed.contains(p))
            .collect();
        assert!(!refused.is_empty(), "{wanted:?}");
        assert_eq!(out.refused.len(), refused.len());
        assert_eq!(out.added.len() + out.refused.len(), wanted.len());
        for p in report
            .prefixes
            .iter()
            .filter(|p| p.verdict == Verdict::Block)
        {
            if refused.contains(&p.prefix) {
                assert!(set.covering(&p.prefix).is_none());
                continue;
            }
            let b = set.covering(&p.prefix).unwrap();
            assert_eq!(b.expires, Millis(31_000));
        }
        assert_eq!(set.stats().refused_allowlisted, refused.len() as u64);
    }
}
