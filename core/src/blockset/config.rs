//! The caller's clock and the block set's settings.

use std::fmt;
use std::time::Duration;

use ipnet::IpNet;

/// An instant of the caller's monotonic clock, in milliseconds.
///
/// The block set never reads a clock: every call that needs the time takes
/// the caller's `Millis`, so tests are exact and callers choose their clock
/// (`CLOCK_MONOTONIC`, `CLOCK_BOOTTIME`, a simulated one). Only differences
/// between instants matter; arithmetic saturates instead of wrapping.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::Millis;
///
/// let t = Millis(1_000);
/// assert_eq!(t + Duration::from_secs(2), Millis(3_000));
/// assert_eq!(Millis(3_000).since(t), Duration::from_secs(2));
/// assert_eq!(t.since(Millis(3_000)), Duration::ZERO);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// The time from `earlier` to `self`, zero if `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::Millis;
    /// assert_eq!(Millis(1_500).since(Millis(500)), Duration::from_secs(1));
    /// ```
    pub fn since(self, earlier: Millis) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// `self` moved back by `d`, clamped at zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::Millis;
    /// assert_eq!(Millis(1_500).back(Duration::from_secs(1)), Millis(500));
    /// assert_eq!(Millis(1).back(Duration::from_secs(1)), Millis(0));
    /// ```
    pub fn back(self, d: Duration) -> Millis {
        Millis(self.0.saturating_sub(millis_of(d)))
    }
}

impl std::ops::Add<Duration> for Millis {
    type Output = Millis;

    fn add(self, d: Duration) -> Millis {
        Millis(self.0.saturating_add(millis_of(d)))
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// Whole milliseconds of `d`, saturating at `u64::MAX`.
pub(crate) fn millis_of(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The settings of a [`BlockSet`](super::BlockSet).
///
/// The defaults follow fail2ban's `bantime.increment`: a first offence is
/// blocked for the TTL the caller gives, each repeat offence within
/// [`strike_memory`](Self::strike_memory) of the previous block's end is
/// blocked `escalation_factor` times longer than the one before, up to
/// [`max_ttl`](Self::max_ttl).
///
/// | field | default |
/// |---|---|
/// | `default_ttl` | 10 minutes |
/// | `escalation_factor` | 2 |
/// | `max_ttl` | 7 days |
/// | `strike_memory` | 1 day |
/// | `capacity` | 65 536 blocks |
/// | `memory_capacity` | 65 536 remembered prefixes |
/// | `allowlist` | empty |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::BlockConfig;
///
/// let config = BlockConfig {
///     escalation_factor: 3,
///     allowlist: vec!["198.18.0.0/24".parse().unwrap()],
///     ..BlockConfig::default()
/// };
/// assert_eq!(config.ttl_for_strike(Duration::from_secs(60), 3), Duration::from_secs(540));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockConfig {
    /// The TTL of a first offence when the caller names none (for example
    /// when blocking from a report).
    pub default_ttl: Duration,
    /// Each repeat offence multiplies the TTL by this factor; `1` turns
    /// escalation off, `0` is read as `1`.
    pub escalation_factor: u32,
    /// No block lasts longer than this, however often it is escalated.
    pub max_ttl: Duration,
    /// How long after a block ends its strike count is remembered. A prefix
    /// blocked again within this window counts one more strike; after it,
    /// the count starts again at one.
    pub strike_memory: Duration,
    /// The most blocks held at once. Policy when full: a block that would
    /// raise the count above the capacity is refused with
    /// [`BlockError::Full`](super::BlockError::Full) and counted in
    /// [`Stats::refused_full`](super::Stats::refused_full); extending a block
    /// and blocks that absorb at least one other are always accepted, since
    /// they do not raise the count.
    pub capacity: usize,
    /// The most prefixes whose strikes are remembered after their block
    /// ended. When full, the memory that would be forgotten soonest goes
    /// first (counted in [`Stats::memories_evicted`](super::Stats::memories_evicted)).
    pub memory_capacity: usize,
    /// Prefixes that are never blocked: adding a prefix that overlaps one of
    /// them (inside it, or covering it) is refused with
    /// [`BlockError::Allowlisted`](super::BlockError::Allowlisted).
    pub allowlist: Vec<IpNet>,
}

impl Default for BlockConfig {
    fn default() -> Self {
        BlockConfig {
            default_ttl: Duration::from_secs(10 * 60),
            escalation_factor: 2,
            max_ttl: Duration::from_secs(7 * 24 * 3600),
            strike_memory: Duration::from_secs(24 * 3600),
            capacity: 65_536,
            memory_capacity: 65_536,
            allowlist: Vec::new(),
        }
    }
}

impl BlockConfig {
    /// The TTL of offence number `strike` (1 for the first) given the base
    /// `ttl`: `ttl * factor^(strike - 1)`, at most [`max_ttl`](Self::max_ttl).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::BlockConfig;
    ///
    /// let c = BlockConfig { max_ttl: Duration::from_secs(300), ..BlockConfig::default() };
    /// let ttl = Duration::from_secs(60);
    /// assert_eq!(c.ttl_for_strike(ttl, 1), Duration::from_secs(60));
    /// assert_eq!(c.ttl_for_strike(ttl, 2), Duration::from_secs(120));
    /// assert_eq!(c.ttl_for_strike(ttl, 3), Duration::from_secs(240));
    /// assert_eq!(c.ttl_for_strike(ttl, 4), Duration::from_secs(300));
    /// assert_eq!(c.ttl_for_strike(ttl, 400), Duration::from_secs(300));
    /// ```
    pub fn ttl_for_strike(&self, ttl: Duration, strike: u32) -> Duration {
        let factor = u64::from(self.escalation_factor.max(1));
        let mult = factor
            .checked_pow(strike.saturating_sub(1))
            .unwrap_or(u64::MAX);
        let ms = millis_of(ttl).saturating_mul(mult);
        Duration::from_millis(ms.min(millis_of(self.max_ttl)))
    }
}
