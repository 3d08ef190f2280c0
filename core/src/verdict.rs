//! Verdicts on reported prefixes (block, watch, allow) and the [`Config`]
//! that steers selection and verdicts.
//!
//! # How a reported prefix is judged
//!
//! In this order, the first rule that applies decides:
//!
//! 1. **allow** when the prefix lies inside an allowlisted CIDR; **watch**
//!    when it covers one (blocking it would block the allowlisted addresses).
//! 2. **watch** when real clients have ESTABLISHED connections from the
//!    prefix and [`Config::protect_established`] is on (default).
//! 3. **watch** when the prefix is shorter than the minimum block length
//!    ([`Config::min_block_len_v4`] /16, [`Config::min_block_len_v6`] /48).
//! 4. **watch** when the prefix is *thin*: its unexplained entries, spread
//!    over its sub-prefixes at the next finer level, would leave each under
//!    [`Config::min_entries`]. A flood of 2,000 entries across a /16 (about 8
//!    per /24) is thin; the level just above single addresses is never thin,
//!    since a spoofed flood rarely repeats an address. [`Config::block_thin`]
//!    turns this rule off.
//! 5. otherwise **block**.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::prefix_tree::LevelError;
use crate::procnet::Family;
use crate::signs::SignRules;

/// What to do about a reported prefix.
///
/// # Examples
///
/// ```
/// use halfopen::verdict::Verdict;
/// assert_eq!(Verdict::Block.name(), "block");
/// assert_eq!(Verdict::from_name("watch"), Some(Verdict::Watch));
/// assert_eq!(serde_json::to_string(&Verdict::Allow).unwrap(), r#""allow""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum Verdict {
    /// Block the prefix at the firewall (for a while).
    Block = 0,
    /// Keep an eye on it; do not block.
    Watch = 1,
    /// Never block (allowlisted).
    Allow = 2,
}

impl Verdict {
    /// Every verdict.
    pub const ALL: [Verdict; 3] = [Verdict::Block, Verdict::Watch, Verdict::Allow];

    /// The verdict's stable name: `"block"`, `"watch"` or `"allow"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::verdict::Verdict;
    /// assert_eq!(Verdict::Watch.name(), "watch");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Verdict::Block => "block",
            Verdict::Watch => "watch",
            Verdict::Allow => "allow",
        }
    }

    /// The verdict named `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::verdict::Verdict;
    /// assert_eq!(Verdict::from_name("block"), Some(Verdict::Block));
    /// assert_eq!(Verdict::from_name("Block"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.name() == name)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A configuration that cannot be used.
///
/// # Examples
///
/// ```
/// use halfopen::verdict::{Config, ConfigError};
/// let c = Config { min_share: 1.5, ..Config::default() };
/// assert_eq!(c.validate(), Err(ConfigError::Share { name: "min_share", value: 1.5 }));
/// assert_eq!(c.validate().unwrap_err().to_string(), "min_share must be a share between 0 and 1, got 1.5");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A level list is empty or has a level too long for its family.
    #[error(transparent)]
    Levels(#[from] LevelError),
    /// A share is not a number in `0.0..=1.0`.
    #[error("{name} must be a share between 0 and 1, got {value}")]
    Share {
        /// The setting's name.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A minimum block length is longer than its family's addresses.
    #[error("minimum block length /{len} is longer than an {family} address")]
    MinBlockLen {
        /// The family.
        family: Family,
        /// The value given.
        len: u8,
    },
}

/// Everything that steers aggregation, signs and verdicts, with documented
/// defaults (`Config::default()`).
///
/// # Examples
///
/// ```
/// use halfopen::verdict::Config;
/// let c = Config::default()
///     .with_levels_v4(&[32, 24, 20, 16])
///     .with_min_entries(200)
///     .with_allowed(["203.0.113.0/24".parse().unwrap()]);
/// assert!(c.validate().is_ok());
/// assert!(c.is_allowlisted("203.0.113.9/32".parse().unwrap()));
/// assert!(c.is_allowlisted("127.0.0.0/24".parse().unwrap()));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// IPv4 prefix lengths counted and reported. Default `[32, 24, 16]`.
    pub levels_v4: Vec<u8>,
    /// IPv6 prefix lengths counted and reported. Default `[128, 64, 48, 32]`.
    pub levels_v6: Vec<u8>,
    /// A prefix is reported when its unexplained entries reach this many
    /// (and [`Config::min_share`]). Default 50: a normal server holds a
    /// handful of half-open entries at any moment.
    pub min_entries: u64,
    /// ... and this share of all half-open entries of both families.
    /// Default 0.01 (1%).
    pub min_share: f64,
    /// No IPv4 prefix shorter than this is blocked. Default 16.
    pub min_block_len_v4: u8,
    /// No IPv6 prefix shorter than this is blocked. Default 48.
    pub min_block_len_v6: u8,
    /// Never blocked. Default: loopback (`127.0.0.0/8`, `::1/128`),
    /// link-local (`169.254.0.0/16`, `fe80::/10`). Add the host's own
    /// addresses with [`Config::with_allowed`] and
    /// [`crate::host::host_addresses`].
    pub allowlist: Vec<IpNet>,
    /// Prefixes with ESTABLISHED connections are watched, not blocked.
    /// Default true.
    pub protect_established: bool,
    /// Block thin prefixes too (see the module docs). Default false.
    pub block_thin: bool,
    /// Most nodes per family's prefix tree. Default 262,144: about 23 MiB
    /// per family at most for a report's tree (88 bytes a node, 4 for its
    /// index entry), 31 MiB for a tree built by inserting entries out of
    /// order (a hash index). See [`crate::prefix_tree`] for what the cap
    /// keeps.
    pub node_cap: usize,
    /// Thresholds of the sign rules.
    pub signs: SignRules,
    /// How many of the busiest source addresses the report lists.
    /// Default 20.
    pub top_sources: usize,
}

/// Loopback and link-local networks, the built-in allowlist.
///
/// # Examples
///
/// ```
/// use halfopen::verdict::default_allowlist;
/// assert_eq!(default_allowlist().len(), 4);
/// ```
pub fn default_allowlist() -> Vec<IpNet> {
    ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10"]
        .iter()
        .map(|s| s.parse().expect("valid literal"))
        .collect()
}

impl Default for Config {
    fn default() -> Config {
        Config {
            levels_v4: vec![32, 24, 16],
            levels_v6: vec![128, 64, 48, 32],
            min_entries: 50,
            min_share: 0.01,
            min_block_len_v4: 16,
            min_block_len_v6: 48,
            allowlist: default_allowlist(),
            protect_established: true,
            block_thin: false,
            node_cap: 1 << 18,
            signs: SignRules::default(),
            top_sources: 20,
        }
    }
}

impl Config {
    /// Checks every setting; [`crate::report::Report::build`] does too.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::verdict::Config;
    /// assert!(Config::default().validate().is_ok());
    /// assert!(Config::default().with_levels_v6(&[129]).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (family, levels, width) in [
            (Family::V4, &self.levels_v4, 32u8),
            (Family::V6, &self.levels_v6, 128u8),
        ] {
            if levels.is_empty() {
                return Err(LevelError::Empty { family }.into());
            }
            if let Some(&len) = levels.iter().find(|&&l| l > width) {
                return Err(LevelError::TooLong {
                    family,
                    len,
                    max: width,
                }
                .into());
            }
        }
        if self.min_block_len_v4 > 32 {
            return Err(ConfigError::MinBlockLen {
                family: Family::V4,
                len: self.min_block_len_v4,
            });
        }
        if self.min_block_len_v6 > 128 {
            return Err(ConfigError::MinBlockLen {
                family: Family::V6,
                len: self.min_block_len_v6,
            });
        }
        let r = &self.signs;
        for (name, value) in [
            ("min_share", self.min_share),
            ("well_known_port_share", r.well_known_port_share),
            ("walk_adjacent_share", r.walk_adjacent_share),
            ("unanswered_share", r.unanswered_share),
            ("single_port_share", r.single_port_share),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::Share { name, value });
            }
        }
        Ok(())
    }

    /// With these IPv4 levels.
    pub fn with_levels_v4(mut self, levels: &[u8]) -> Config {
        self.levels_v4 = levels.to_vec();
        self
    }

    /// With these IPv6 levels.
    pub fn with_levels_v6(mut self, levels: &[u8]) -> Config {
        self.levels_v6 = levels.to_vec();
        self
    }

    /// With this absolute reporting threshold.
    pub fn with_min_entries(mut self, n: u64) -> Config {
        self.min_entries = n;
        self
    }

    /// With this relative reporting threshold.
    pub fn with_min_share(mut self, share: f64) -> Config {
        self.min_share = share;
        self
    }

    /// With these minimum block lengths (IPv4, IPv6).
    pub fn with_min_block_len(mut self, v4: u8, v6: u8) -> Config {
        self.min_block_len_v4 = v4;
        self.min_block_len_v6 = v6;
        self
    }

    /// With these networks added to the allowlist. Single addresses
    /// convert with `IpNet::from(addr)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::verdict::Config;
    /// use ipnet::IpNet;
    /// let me: std::net::IpAddr = "198.18.0.1".parse().unwrap();
    /// let c = Config::default().with_allowed([IpNet::from(me)]);
    /// assert!(c.is_allowlisted("198.18.0.1/32".parse().unwrap()));
    /// ```
    pub fn with_allowed(mut self, nets: impl IntoIterator<Item = IpNet>) -> Config {
        self.allowlist.extend(nets);
        self
    }

    /// With or without protection of prefixes that have established
    /// clients.
    pub fn with_protect_established(mut self, on: bool) -> Config {
        self.protect_established = on;
        self
    }

    /// With or without blocking of thin prefixes.
    pub fn with_block_thin(mut self, on: bool) -> Config {
        self.block_thin = on;
        self
    }

    /// With this node cap per family.
    pub fn with_node_cap(mut self, cap: usize) -> Config {
        self.node_cap = cap;
        self
    }

    /// True when `net` lies inside an allowlisted network.
    pub fn is_allowlisted(&self, net: IpNet) -> bool {
        self.allowlist.iter().any(|a| a.contains(&net))
    }

    /// The first allowlisted network `net` contains or lies in.
    pub fn allowlist_overlap(&self, net: IpNet) -> Option<IpNet> {
        self.allowlist
            .iter()
            .find(|a| a.contains(&net) || net.contains(*a))
            .copied()
    }

    /// The minimum block length of `family`.
    pub fn min_block_len(&self, family: Family) -> u8 {
        match family {
            Family::V4 => self.min_block_len_v4,
            Family::V6 => self.min_block_len_v6,
        }
    }

    /// The entries a prefix needs to be reported when `total` half-open
    /// entries exist: the larger of both thresholds (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::verdict::Config;
    /// let c = Config::default();
    /// assert_eq!(c.threshold(1_000), 50);
    /// assert_eq!(c.threshold(1_000_000), 10_000);
    /// ```
    pub fn threshold(&self, total: u64) -> u64 {
        let share = (self.min_share * total as f64).ceil();
        let share = if share.is_finite() && share > 0.0 {
            share as u64
        } else {
            0
        };
        self.min_entries.max(share).max(1)
    }
}

/// What a verdict is decided on, for one reported prefix.
///
/// # Examples
///
/// ```
/// use halfopen::verdict::{judge, Config, Facts, Verdict};
/// let facts = Facts { prefix: "198.18.5.0/24".parse().unwrap(), entries: 300, sources: 250,
///     established: 0, share: 0.3, dense: true, per_finer: None };
/// let (v, reason) = judge(&Config::default(), &facts, "unanswered");
/// assert_eq!(v, Verdict::Block);
/// assert!(reason.starts_with("300 half-open entries from 250 sources"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts {
    /// The prefix.
    pub prefix: IpNet,
    /// Its unexplained half-open entries.
    pub entries: u64,
    /// Distinct sources among them.
    pub sources: u64,
    /// ESTABLISHED connections from anywhere in the prefix.
    pub established: u64,
    /// `entries` as a share of all half-open entries.
    pub share: f64,
    /// False when the prefix is thin (see the module docs).
    pub dense: bool,
    /// The next finer level and the average entries per sub-prefix there,
    /// when the density rule applied.
    pub per_finer: Option<(u8, f64)>,
}

/// The verdict on a reported prefix and a reason a person can read;
/// `signs` is the prefix's sign list for the reason text.
///
/// # Examples
///
/// ```
/// use halfopen::verdict::{judge, Config, Facts, Verdict};
/// let facts = Facts { prefix: "198.18.5.0/24".parse().unwrap(), entries: 300, sources: 250,
///     established: 2, share: 0.3, dense: true, per_finer: None };
/// // Established connections from the prefix: real clients, watched only.
/// let (v, reason) = judge(&Config::default(), &facts, "unanswered");
/// assert_eq!(v, Verdict::Watch);
/// assert!(reason.contains("2 established connections"));
/// let thin = Facts { established: 0, dense: false, per_finer: Some((24, 1.2)), ..facts };
/// assert_eq!(judge(&Config::default(), &thin, "").0, Verdict::Watch);
/// ```
pub fn judge(config: &Config, f: &Facts, signs: &str) -> (Verdict, String) {
    let what = format!(
        "{} half-open entries from {} sources ({:.1}% of all)",
        f.entries,
        f.sources,
        f.share * 100.0
    );
    if let Some(a) = config.allowlist_overlap(f.prefix) {
        return if a.contains(&f.prefix) {
            (
                Verdict::Allow,
                format!("{what}; inside allowlisted {a}: never blocked"),
            )
        } else {
            (
                Verdict::Watch,
                format!("{what}; covers allowlisted {a}: not blocked"),
            )
        };
    }
    if config.protect_established && f.established > 0 {
        return (
            Verdict::Watch,
            format!(
                "{what}; {} established connections from the prefix: real clients, not blocked",
                f.established
            ),
        );
    }
    let family = match f.prefix.network() {
        IpAddr::V4(_) => Family::V4,
        IpAddr::V6(_) => Family::V6,
    };
    let min = config.min_block_len(family);
    if f.prefix.prefix_len() < min {
        return (
            Verdict::Watch,
            format!("{what}; wider than /{min}, the widest prefix ever blocked"),
        );
    }
    if !f.dense && !config.block_thin {
        let spread = match f.per_finer {
            Some((len, avg)) => {
                format!(" (about {avg:.1} per /{len}, under {})", config.min_entries)
            }
            None => String::new(),
        };
        return (
            Verdict::Watch,
            format!(
                "{what}; spread thinly over the /{}{spread}: watched, not blocked",
                f.prefix.prefix_len()
            ),
        );
    }
    (Verdict::Block, format!("{what}; signs: {signs}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(prefix: &str) -> Facts {
        Facts {
            prefix: prefix.parse().unwrap(),
            entries: 500,
            sources: 400,
            established: 0,
            share: 0.5,
            dense: true,
            per_finer: None,
        }
    }

    #[test]
    fn rules_apply_in_order() {
        let c = Config::default();
        assert_eq!(judge(&c, &facts("198.18.1.0/24"), "none").0, Verdict::Block);
        assert_eq!(judge(&c, &facts("127.0.0.0/24"), "none").0, Verdict::Allow);
        let (v, r) = judge(&c, &facts("127.0.0.0/7"), "none");
        assert_eq!(v, Verdict::Watch);
        assert!(r.contains("covers allowlisted 127.0.0.0/8"), "{r}");
        let clients = Facts {
            established: 3,
            ..facts("198.18.1.0/24")
        };
        let (v, r) = judge(&c, &clients, "none");
        assert_eq!(v, Verdict::Watch);
        assert!(r.contains("3 established"), "{r}");
        assert_eq!(
            judge(&c.clone().with_protect_established(false), &clients, "none").0,
            Verdict::Block
        );
        assert_eq!(judge(&c, &facts("198.0.0.0/15"), "none").0, Verdict::Watch);
        assert_eq!(judge(&c, &facts("198.18.0.0/16"), "none").0, Verdict::Block);
        assert_eq!(judge(&c, &facts("2001:db8::/47"), "none").0, Verdict::Watch);
        assert_eq!(judge(&c, &facts("2001:db8::/48"), "none").0, Verdict::Block);
        let thin = Facts {
            dense: false,
            per_finer: Some((24, 7.8)),
            ..facts("198.18.0.0/16")
        };
        let (v, r) = judge(&c, &thin, "none");
        assert_eq!(v, Verdict::Watch);
        assert!(r.contains("about 7.8 per /24"), "{r}");
        assert_eq!(
            judge(&c.with_block_thin(true), &thin, "none").0,
            Verdict::Block
        );
    }

    #[test]
    fn validation_names_the_bad_setting() {
        let c = Config::default().with_levels_v4(&[]);
        assert_eq!(
            c.validate(),
            Err(ConfigError::Levels(LevelError::Empty {
                family: Family::V4
            }))
        );
        let c = Config::default().with_min_block_len(33, 48);
        assert!(matches!(
            c.validate(),
            Err(ConfigError::MinBlockLen { len: 33, .. })
        ));
        let c = Config {
            min_share: f64::NAN,
            ..Config::default()
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::Share {
                name: "min_share",
                ..
            })
        ));
    }

    #[test]
    fn threshold_takes_the_larger_and_never_zero() {
        let c = Config::default().with_min_entries(0).with_min_share(0.0);
        assert_eq!(c.threshold(0), 1);
        let c = Config::default().with_min_share(0.1);
        assert_eq!(c.threshold(10_001), 1001);
    }

    #[test]
    fn config_json_round_trips_and_fills_defaults() {
        let c = Config::default().with_min_entries(7);
        let back: Config = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        let partial: Config = serde_json::from_str(r#"{"min_entries": 9}"#).unwrap();
        assert_eq!(partial.min_entries, 9);
        assert_eq!(partial.levels_v4, [32, 24, 16]);
    }
}
