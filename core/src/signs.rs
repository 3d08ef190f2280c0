//! Spoof and reflection signs: named rules that say why a prefix's half-open
//! entries look forged, each with the evidence behind it.
//!
//! Every sign has a stable bit (for the C ABI's bit set) and a stable name
//! (for JSON and Python). The rules and their thresholds:
//!
//! | bit | name | holds when (defaults in [`SignRules`]) |
//! |-----|------|-----------------------------------------|
//! | 0 | `well_known_source_port` | at least half the prefix's entries come from a remote port below 1024: with a spoofed source port 80 or 443 our SYN-ACKs land on a third party's server (backscatter); the "sources" are victims |
//! | 1 | `sequential_walk` | at least 8 sources and at least 75% of them have their successor address (`a + 1`) among the sources too: addresses walked in order |
//! | 2 | `unanswered` | at least half the entries had their SYN-ACK retransmitted: nobody at those addresses answers |
//! | 3 | `no_completed_handshake` | no ESTABLISHED connection from the prefix while the host does have established peers elsewhere |
//! | 4 | `single_port` | at least 90% of the entries target one listening port while the host listens on more than one |

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// One spoof or reflection sign.
///
/// # Examples
///
/// ```
/// use halfopen::signs::Sign;
/// assert_eq!(Sign::WellKnownSourcePort.name(), "well_known_source_port");
/// assert_eq!(Sign::WellKnownSourcePort.bit(), 1);
/// assert_eq!(Sign::from_name("unanswered"), Some(Sign::Unanswered));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Sign {
    /// `well_known_source_port` (bit 0): remote ports below 1024.
    WellKnownSourcePort = 0,
    /// `sequential_walk` (bit 1): source addresses walked in order.
    SequentialWalk = 1,
    /// `unanswered` (bit 2): SYN-ACKs retransmitted.
    Unanswered = 2,
    /// `no_completed_handshake` (bit 3): no ESTABLISHED peer in the prefix.
    NoCompletedHandshake = 3,
    /// `single_port` (bit 4): concentrated on one listening port.
    SinglePort = 4,
}

impl Sign {
    /// Every sign, in bit order.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::Sign;
    /// assert!(Sign::ALL.iter().enumerate().all(|(i, s)| s.index() as usize == i));
    /// ```
    pub const ALL: [Sign; 5] = [
        Sign::WellKnownSourcePort,
        Sign::SequentialWalk,
        Sign::Unanswered,
        Sign::NoCompletedHandshake,
        Sign::SinglePort,
    ];

    /// The sign's bit position (0 to 4), stable across versions.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::Sign;
    /// assert_eq!(Sign::SinglePort.index(), 4);
    /// ```
    pub const fn index(self) -> u32 {
        self as u32
    }

    /// The sign's bit mask (`1 << index`).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::Sign;
    /// assert_eq!(Sign::Unanswered.bit(), 4);
    /// ```
    pub const fn bit(self) -> u32 {
        1 << self.index()
    }

    /// The sign's stable name, as JSON spells it.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::Sign;
    /// assert_eq!(Sign::NoCompletedHandshake.name(), "no_completed_handshake");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Sign::WellKnownSourcePort => "well_known_source_port",
            Sign::SequentialWalk => "sequential_walk",
            Sign::Unanswered => "unanswered",
            Sign::NoCompletedHandshake => "no_completed_handshake",
            Sign::SinglePort => "single_port",
        }
    }

    /// The sign named `name`, or `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::Sign;
    /// assert_eq!(Sign::from_name("single_port"), Some(Sign::SinglePort));
    /// assert_eq!(Sign::from_name("nope"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Sign> {
        Sign::ALL.into_iter().find(|s| s.name() == name)
    }

    /// One sentence on what the sign means, for people.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::Sign;
    /// assert!(Sign::Unanswered.description().contains("retransmitted"));
    /// ```
    pub const fn description(self) -> &'static str {
        match self {
            Sign::WellKnownSourcePort => {
                "source ports below 1024: our SYN-ACKs hit a third party's servers, the sources are victims"
            }
            Sign::SequentialWalk => "source addresses walked in order",
            Sign::Unanswered => "SYN-ACKs retransmitted: nobody at those addresses answers",
            Sign::NoCompletedHandshake => {
                "no established connection from the prefix, while real clients exist elsewhere"
            }
            Sign::SinglePort => "concentrated on one listening port",
        }
    }
}

impl fmt::Display for Sign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`Sign`]s, as a bit set (`Sign::bit`). JSON writes it as a list
/// of names in bit order.
///
/// # Examples
///
/// ```
/// use halfopen::signs::{Sign, Signs};
/// let mut signs = Signs::EMPTY;
/// signs.insert(Sign::Unanswered);
/// signs.insert(Sign::WellKnownSourcePort);
/// assert!(signs.contains(Sign::Unanswered));
/// assert_eq!(signs.bits(), 0b101);
/// assert_eq!(signs.names().collect::<Vec<_>>(), ["well_known_source_port", "unanswered"]);
/// assert_eq!(serde_json::to_string(&signs).unwrap(), r#"["well_known_source_port","unanswered"]"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Signs(u32);

impl Signs {
    /// No sign.
    pub const EMPTY: Signs = Signs(0);

    /// The set for `bits`, keeping only bits of known signs.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::{Sign, Signs};
    /// assert_eq!(Signs::from_bits_truncate(0xff).len(), Sign::ALL.len());
    /// ```
    pub const fn from_bits_truncate(bits: u32) -> Signs {
        Signs(bits & ((1 << Sign::ALL.len()) - 1))
    }

    /// The bit set (bit `i` is the sign with [`Sign::index`] `i`).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::{Sign, Signs};
    /// assert_eq!(Signs::from(Sign::SinglePort).bits(), 16);
    /// ```
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// True when `sign` is in the set.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::{Sign, Signs};
    /// assert!(!Signs::EMPTY.contains(Sign::SinglePort));
    /// ```
    pub const fn contains(self, sign: Sign) -> bool {
        self.0 & sign.bit() != 0
    }

    /// Adds `sign`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::{Sign, Signs};
    /// let mut s = Signs::EMPTY;
    /// s.insert(Sign::SequentialWalk);
    /// assert_eq!(s.bits(), 2);
    /// ```
    pub fn insert(&mut self, sign: Sign) {
        self.0 |= sign.bit();
    }

    /// True when no sign is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::Signs;
    /// assert!(Signs::EMPTY.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many signs are set.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::{Sign, Signs};
    /// assert_eq!(Signs::from(Sign::Unanswered).len(), 1);
    /// ```
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The signs set, in bit order.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::{Sign, Signs};
    /// let s = Signs::from_bits_truncate(0b11000);
    /// assert_eq!(s.iter().collect::<Vec<_>>(), [Sign::NoCompletedHandshake, Sign::SinglePort]);
    /// ```
    pub fn iter(self) -> impl Iterator<Item = Sign> {
        Sign::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The names of the signs set, in bit order.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::{Sign, Signs};
    /// assert_eq!(Signs::from(Sign::Unanswered).names().next(), Some("unanswered"));
    /// ```
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        self.iter().map(Sign::name)
    }
}

impl From<Sign> for Signs {
    fn from(sign: Sign) -> Signs {
        Signs(sign.bit())
    }
}

impl FromIterator<Sign> for Signs {
    fn from_iter<I: IntoIterator<Item = Sign>>(iter: I) -> Signs {
        let mut signs = Signs::EMPTY;
        for s in iter {
            signs.insert(s);
        }
        signs
    }
}

impl fmt::Display for Signs {
    /// Names joined with `", "`, or `"none"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl Serialize for Signs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for name in self.names() {
            seq.serialize_element(name)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Signs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Signs, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = Signs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of sign names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Signs, A::Error> {
                let mut signs = Signs::EMPTY;
                while let Some(name) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                    let sign = Sign::from_name(&name)
                        .ok_or_else(|| de::Error::unknown_variant(&name, &SIGN_NAMES))?;
                    signs.insert(sign);
                }
                Ok(signs)
            }
        }
        deserializer.deserialize_seq(Names)
    }
}

const SIGN_NAMES: [&str; 5] = [
    "well_known_source_port",
    "sequential_walk",
    "unanswered",
    "no_completed_handshake",
    "single_port",
];

/// Thresholds of the sign rules. Shares are fractions in `0.0..=1.0` of the
/// entries (or sources) the prefix is reported for.
///
/// # Examples
///
/// ```
/// use halfopen::signs::SignRules;
/// let rules = SignRules::default();
/// assert_eq!(rules.well_known_port_share, 0.5);
/// assert_eq!(rules.walk_min_sources, 8);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignRules {
    /// `well_known_source_port`: least share of entries whose remote port
    /// is below 1024. Default 0.5.
    pub well_known_port_share: f64,
    /// `sequential_walk`: least number of distinct sources. Default 8.
    pub walk_min_sources: u64,
    /// `sequential_walk`: least share of sources whose successor address is
    /// a source too. A random spray of density `d` scores about `d`, so the
    /// default 0.75 only fires on walks or near-complete coverage.
    pub walk_adjacent_share: f64,
    /// `unanswered`: least share of entries with a retransmitted SYN-ACK.
    /// Default 0.5.
    pub unanswered_share: f64,
    /// `single_port`: least share of entries on the busiest listening
    /// port. Default 0.9.
    pub single_port_share: f64,
}

impl Default for SignRules {
    fn default() -> SignRules {
        SignRules {
            well_known_port_share: 0.5,
            walk_min_sources: 8,
            walk_adjacent_share: 0.75,
            unanswered_share: 0.5,
            single_port_share: 0.9,
        }
    }
}

/// The counts a prefix's signs are judged on, kept in the report so every
/// sign can be checked by hand.
///
/// # Examples
///
/// ```
/// use halfopen::signs::{Evidence, HostContext, Sign, SignRules};
/// let ev = Evidence { entries: 10, well_known_port: 9, ..Evidence::default() };
/// let signs = ev.signs(&SignRules::default(), &HostContext::default());
/// assert!(signs.contains(Sign::WellKnownSourcePort));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// Half-open entries the signs are judged on (the prefix's unexplained
    /// entries: not explained by reported more-specific prefixes).
    pub entries: u64,
    /// Distinct source addresses among them.
    pub sources: u64,
    /// Entries whose remote (source) port is below 1024.
    pub well_known_port: u64,
    /// Entries whose SYN-ACK was retransmitted at least once.
    pub retransmitted: u64,
    /// Sources whose successor address (`a + 1`) is also a source.
    pub adjacent_sources: u64,
    /// ESTABLISHED connections from anywhere in the prefix.
    pub established: u64,
    /// The busiest listening port of the prefix's entries, if known.
    pub top_port: Option<u16>,
    /// Entries on [`Evidence::top_port`] (a lower bound when the prefix hit
    /// more ports than the tree tracks per node).
    pub top_port_entries: u64,
    /// All half-open entries of the prefix (not only the unexplained ones),
    /// the base of the `single_port` share.
    pub prefix_entries: u64,
}

/// Facts about the whole host the signs are judged against.
///
/// # Examples
///
/// ```
/// use halfopen::signs::HostContext;
/// let host = HostContext { established: 12, listening_ports: 3 };
/// assert_eq!(host.established, 12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostContext {
    /// ESTABLISHED connections on the host (real clients exist when > 0).
    pub established: u64,
    /// Distinct local ports that listen or hold half-open entries.
    pub listening_ports: u64,
}

fn share_at_least(part: u64, whole: u64, share: f64) -> bool {
    whole > 0 && part as f64 >= share * whole as f64
}

impl Evidence {
    /// The signs this evidence shows under `rules`, on a host described by
    /// `host`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::signs::{Evidence, HostContext, Sign, SignRules};
    /// let ev = Evidence { entries: 100, sources: 100, adjacent_sources: 99, ..Evidence::default() };
    /// let host = HostContext { established: 5, listening_ports: 1 };
    /// let signs = ev.signs(&SignRules::default(), &host);
    /// assert!(signs.contains(Sign::SequentialWalk));
    /// assert!(signs.contains(Sign::NoCompletedHandshake));
    /// assert!(!signs.contains(Sign::SinglePort));
    /// ```
    pub fn signs(&self, rules: &SignRules, host: &HostContext) -> Signs {
        let mut signs = Signs::EMPTY;
        if share_at_least(
            self.well_known_port,
            self.entries,
            rules.well_known_port_share,
        ) {
            signs.insert(Sign::WellKnownSourcePort);
        }
        if self.sources >= rules.walk_min_sources.max(2)
            && share_at_least(
                self.adjacent_sources,
                self.sources - 1,
                rules.walk_adjacent_share,
            )
        {
            signs.insert(Sign::SequentialWalk);
        }
        if share_at_least(self.retransmitted, self.entries, rules.unanswered_share) {
            signs.insert(Sign::Unanswered);
        }
        if self.entries > 0 && self.established == 0 && host.established > 0 {
            signs.insert(Sign::NoCompletedHandshake);
        }
        if host.listening_ports > 1
            && self.top_port.is_some()
            && share_at_least(
                self.top_port_entries,
                self.prefix_entries,
                rules.single_port_share,
            )
        {
            signs.insert(Sign::SinglePort);
        }
        signs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_names_are_stable_and_unique() {
        let names: Vec<_> = Sign::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names, SIGN_NAMES);
        for (i, s) in Sign::ALL.iter().enumerate() {
            assert_eq!(s.bit(), 1 << i);
            assert_eq!(Sign::from_name(s.name()), Some(*s));
        }
    }

    #[test]
    fn json_round_trip_of_every_subset() {
        for bits in 0..32 {
            let signs = Signs::from_bits_truncate(bits);
            let json = serde_json::to_string(&signs).unwrap();
            let back: Signs = serde_json::from_str(&json).unwrap();
            assert_eq!(back, signs);
            assert_eq!(signs.iter().map(Sign::bit).sum::<u32>(), bits);
        }
        assert!(serde_json::from_str::<Signs>(r#"["bogus"]"#).is_err());
    }

    #[test]
    fn rules_follow_their_thresholds() {
        let rules = SignRules::default();
        let host = HostContext {
            established: 0,
            listening_ports: 3,
        };
        let mut ev = Evidence {
            entries: 100,
            sources: 50,
            prefix_entries: 100,
            ..Evidence::default()
        };
        assert!(ev.signs(&rules, &host).is_empty());
        ev.well_known_port = 49;
        assert!(!ev.signs(&rules, &host).contains(Sign::WellKnownSourcePort));
        ev.well_known_port = 50;
        assert!(ev.signs(&rules, &host).contains(Sign::WellKnownSourcePort));
        ev.retransmitted = 50;
        assert!(ev.signs(&rules, &host).contains(Sign::Unanswered));
        // 50 sources - 1 = 49 pairs at most; 0.75 * 49 = 36.75.
        ev.adjacent_sources = 36;
        assert!(!ev.signs(&rules, &host).contains(Sign::SequentialWalk));
        ev.adjacent_sources = 37;
        assert!(ev.signs(&rules, &host).contains(Sign::SequentialWalk));
        ev.top_port = Some(80);
        ev.top_port_entries = 90;
        assert!(ev.signs(&rules, &host).contains(Sign::SinglePort));
        let one_port = HostContext {
            listening_ports: 1,
            ..host
        };
        assert!(!ev.signs(&rules, &one_port).contains(Sign::SinglePort));
        // No established peer anywhere: no evidence either way.
        assert!(!ev.signs(&rules, &host).contains(Sign::NoCompletedHandshake));
        let clients = HostContext {
            established: 3,
            ..host
        };
        assert!(ev
            .signs(&rules, &clients)
            .contains(Sign::NoCompletedHandshake));
        ev.established = 1;
        assert!(!ev
            .signs(&rules, &clients)
            .contains(Sign::NoCompletedHandshake));
    }

    #[test]
    fn few_sources_never_walk() {
        let ev = Evidence {
            entries: 7,
            sources: 7,
            adjacent_sources: 6,
            ..Evidence::default()
        };
        let signs = ev.signs(&SignRules::default(), &HostContext::default());
        assert!(!signs.contains(Sign::SequentialWalk));
    }
}
