//! Renderers of a [`BlockSet`](crate::blockset::BlockSet) into firewall
//! batches: nftables ([`nft`]), ipset ([`ipset`]) and firewalld
//! ([`firewalld`]).
//!
//! halfopen never runs a firewall tool itself: it renders text or argument
//! lists, and the caller applies them (`nft -f -`, `ipset restore`,
//! `firewall-cmd`).

pub mod firewalld;
pub mod ipset;
pub mod nft;

use std::fmt;
use std::time::Duration;

use ipnet::IpNet;

use crate::blockset::Element;

/// A name a firewall object is given (table, set, chain): an ASCII letter,
/// then up to 30 ASCII letters, digits, `_` or `-`. Every tool accepts
/// such names unquoted, so rendered batches need no escaping.
///
/// # Examples
///
/// ```
/// use halfopen::firewall::Name;
/// assert_eq!(Name::new("halfopen4").unwrap().as_str(), "halfopen4");
/// assert!(Name::new("4x").is_err());
/// assert!(Name::new("a b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    /// The longest name, in bytes (ipset's limit, 31).
    pub const MAX: usize = 31;

    /// Checks `name`.
    ///
    /// # Errors
    ///
    /// [`FirewallError::BadName`] naming the offending text.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::{FirewallError, Name};
    /// assert!(matches!(Name::new(""), Err(FirewallError::BadName { .. })));
    /// ```
    pub fn new(name: &str) -> Result<Name, FirewallError> {
        let mut chars = name.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && name.len() <= Self::MAX;
        if ok {
            Ok(Name(name.to_owned()))
        } else {
            Err(FirewallError::BadName {
                name: name.chars().take(40).collect(),
            })
        }
    }

    /// The name.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::Name;
    /// assert_eq!(Name::new("t").unwrap().as_str(), "t");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A built-in name known to be valid.
    pub(crate) fn fixed(name: &str) -> Name {
        Name(name.to_owned())
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Errors of the firewall renderers.
///
/// # Examples
///
/// ```
/// use halfopen::firewall::Name;
/// let err = Name::new("no spaces").unwrap_err();
/// assert_eq!(err.to_string(), "bad firewall object name \"no spaces\": want a letter, then letters, digits, _ or -, at most 31");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FirewallError {
    /// A table, set or chain name the tools would not accept unquoted.
    #[error("bad firewall object name {name:?}: want a letter, then letters, digits, _ or -, at most 31")]
    BadName {
        /// The offending name (at most 40 characters of it).
        name: String,
    },
}

/// `elements` made disjoint: an element inside another is dropped and the
/// covering one keeps the longer timeout. Interval sets (nftables `flags
/// interval`) reject overlapping elements, so full renders pass through
/// this; a [`BlockSet`](crate::blockset::BlockSet)'s elements are already
/// disjoint. The result is sorted, IPv4 first.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::Element;
/// use halfopen::firewall::disjoint;
///
/// let e = |p: &str, s| Element { prefix: p.parse().unwrap(), timeout: Duration::from_secs(s) };
/// let out = disjoint(vec![e("198.18.1.0/24", 90), e("198.18.0.0/16", 30), e("198.19.0.0/16", 5)]);
/// assert_eq!(out, vec![e("198.18.0.0/16", 90), e("198.19.0.0/16", 5)]);
/// ```
pub fn disjoint(mut elements: Vec<Element>) -> Vec<Element> {
    elements.sort_by_key(|e| (e.prefix.trunc(), std::cmp::Reverse(e.timeout)));
    let mut out: Vec<Element> = Vec::with_capacity(elements.len());
    for mut e in elements {
        e.prefix = e.prefix.trunc();
        match out.last_mut() {
            Some(cover) if cover.prefix.contains(&e.prefix) => {
                cover.timeout = cover.timeout.max(e.timeout);
            }
            _ => out.push(e),
        }
    }
    out
}

/// Whether `a` and `b` overlap (one contains the other).
pub(crate) fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b) || b.contains(a)
}

/// Whole seconds of `d`, rounded up, at least 1 and at most `max`.
pub(crate) fn ceil_secs(d: Duration, max: u64) -> u64 {
    let s = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
    s.clamp(1, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_matches_brute_force() {
        use proptest::prelude::*;
        let strategy = proptest::collection::vec((0u32..64, 20u8..=32, 1u64..100), 0..40);
        proptest!(|(raw in strategy)| {
            let elements: Vec<Element> = raw
                .iter()
                .map(|&(x, len, t)| Element {
                    prefix: IpNet::V4(ipnet::Ipv4Net::new_assert(
                        std::net::Ipv4Addr::from(0xC612_0000 | (x << 8)), len)).trunc(),
                    timeout: Duration::from_secs(t),
                })
                .collect();
            let out = disjoint(elements.clone());
            for (i, a) in out.iter().enumerate() {
                for b in &out[i + 1..] {
                    prop_assert!(!overlaps(&a.prefix, &b.prefix));
                }
            }
            // Every input is covered by an output with at least its timeout,
            // and every output is an input prefix.
            for e in &elements {
                let cover = out.iter().find(|o| o.prefix.contains(&e.prefix));
                prop_assert!(cover.is_some_and(|c| c.timeout >= e.timeout));
            }
            for o in &out {
                prop_assert!(elements.iter().any(|e| e.prefix == o.prefix));
                let want = elements.iter().filter(|e| o.prefix.contains(&e.prefix)).map(|e| e.timeout).max();
                prop_assert_eq!(Some(o.timeout), want);
            }
        });
    }

    #[test]
    fn ceil_secs_rounds_up_and_clamps() {
        assert_eq!(ceil_secs(Duration::from_millis(1), 10), 1);
        assert_eq!(ceil_secs(Duration::from_millis(1001), 10), 2);
        assert_eq!(ceil_secs(Duration::from_secs(2), 10), 2);
        assert_eq!(ceil_secs(Duration::from_secs(99), 10), 10);
        // The longest duration is the longest timeout, not a wrapped 1.
        assert_eq!(ceil_secs(Duration::MAX, 10), 10);
        assert_eq!(ceil_secs(Duration::ZERO, 10), 1);
    }
}
