//! ipset: batches in `ipset restore` format, `hash:net` sets with timeouts.
//!
//! Two sets, one per family, created with `timeout 0` so each element
//! carries its own timeout (whole seconds, rounded up, at most ipset's
//! 2 147 483). A full render fills fresh sets and swaps them in, so the
//! live sets are never empty half-way. The drop rule is the caller's, for
//! example `iptables -t raw -I PREROUTING -m set --match-set halfopen4 src -j DROP`
//! (and `ip6tables` with `halfopen6`).

use std::fmt::Write as _;

use super::{ceil_secs, FirewallError, Name};
use crate::blockset::{Element, SyncDiff};

/// ipset's largest timeout, in seconds.
const MAX_TIMEOUT_SECS: u64 = 2_147_483;

/// The ipset renderer and its settings.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
/// use halfopen::firewall::ipset::Ipset;
///
/// let mut set = BlockSet::new(BlockConfig::default());
/// set.add("198.18.0.0/16".parse().unwrap(), "flood", Duration::from_millis(1_500), Millis(0)).unwrap();
/// let batch = Ipset::default().render_full(&set.elements(Millis(0)));
/// assert!(batch.contains("add halfopen4-new 198.18.0.0/16 timeout 2 -exist\n"));
/// assert!(batch.contains("swap halfopen4-new halfopen4\n"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipset {
    /// The IPv4 set; default `halfopen4` (its swap copy adds `-new`: keep names at most 27 bytes).
    pub set4: Name,
    /// The IPv6 set; default `halfopen6`.
    pub set6: Name,
    /// The sets' `maxelem`; default 65 536.
    pub maxelem: usize,
}

impl Default for Ipset {
    fn default() -> Self {
        Ipset {
            set4: Name::fixed("halfopen4"),
            set6: Name::fixed("halfopen6"),
            maxelem: 65_536,
        }
    }
}

impl Ipset {
    /// A renderer with other set names; each must leave room for the
    /// `-new` suffix of the swap set (at most 27 bytes).
    ///
    /// # Errors
    ///
    /// [`FirewallError::BadName`] for a name ipset would not take.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::ipset::Ipset;
    /// assert!(Ipset::with_names("ho4", "ho6").is_ok());
    /// assert!(Ipset::with_names("ho 4", "ho6").is_err());
    /// ```
    pub fn with_names(set4: &str, set6: &str) -> Result<Ipset, FirewallError> {
        let check = |n: &str| {
            Name::new(&format!("{n}-new"))?;
            Name::new(n)
        };
        Ok(Ipset {
            set4: check(set4)?,
            set6: check(set6)?,
            ..Ipset::default()
        })
    }

    /// The set's name for IPv4 (`false`) or IPv6 (`true`).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::ipset::Ipset;
    /// assert_eq!(Ipset::default().set_name(false), "halfopen4");
    /// ```
    pub fn set_name(&self, v6: bool) -> &str {
        if v6 {
            self.set6.as_str()
        } else {
            self.set4.as_str()
        }
    }

    /// A complete `ipset restore` batch: creates the sets if missing, fills
    /// fresh copies with `elements` and swaps them in.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::ipset::Ipset;
    /// let batch = Ipset::default().render_full(&[]);
    /// assert!(batch.starts_with("create halfopen4 hash:net family inet timeout 0 maxelem 65536 -exist\n"));
    /// assert!(batch.ends_with("destroy halfopen6-new\n"));
    /// ```
    pub fn render_full(&self, elements: &[Element]) -> String {
        let mut out = String::new();
        for v6 in [false, true] {
            let name = self.set_name(v6);
            let family = if v6 { "inet6" } else { "inet" };
            for n in [name.to_owned(), format!("{name}-new")] {
                let _ = writeln!(
                    out,
                    "create {n} hash:net family {family} timeout 0 maxelem {} -exist",
                    self.maxelem
                );
            }
            let _ = writeln!(out, "flush {name}-new");
            for e in elements
                .iter()
                .filter(|e| e.prefix.network().is_ipv6() == v6)
            {
                let _ = writeln!(
                    out,
                    "add {name}-new {} timeout {} -exist",
                    e.prefix.trunc(),
                    ceil_secs(e.timeout, MAX_TIMEOUT_SECS)
                );
            }
            let _ = writeln!(out, "swap {name}-new {name}\ndestroy {name}-new");
        }
        out
    }

    /// The `ipset restore` batch for `diff`: `del` for removals, `del` then
    /// `add` for refreshed timeouts, `add` for new prefixes, each with
    /// `-exist` so an element the kernel already timed out is no error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    /// use halfopen::firewall::ipset::Ipset;
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("2001:db8::/48".parse().unwrap(), "x", Duration::from_secs(60), Millis(0)).unwrap();
    /// let batch = Ipset::default().render_sync(&set.sync_diff(Millis(0)));
    /// assert_eq!(batch, "add halfopen6 2001:db8::/48 timeout 60 -exist\n");
    /// ```
    pub fn render_sync(&self, diff: &SyncDiff) -> String {
        let mut out = String::new();
        let name = |p: &ipnet::IpNet| self.set_name(p.network().is_ipv6());
        for r in &diff.remove {
            let _ = writeln!(out, "del {} {} -exist", name(&r.prefix), r.prefix);
        }
        for r in &diff.refresh {
            let n = name(&r.prefix);
            let secs = ceil_secs(r.timeout, MAX_TIMEOUT_SECS);
            let _ = writeln!(out, "del {n} {} -exist", r.prefix);
            let _ = writeln!(out, "add {n} {} timeout {secs} -exist", r.prefix);
        }
        for a in &diff.add {
            let secs = ceil_secs(a.timeout, MAX_TIMEOUT_SECS);
            let _ = writeln!(
                out,
                "add {} {} timeout {secs} -exist",
                name(&a.prefix),
                a.prefix
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timeouts_round_up_and_clamp() {
        let e = |p: &str, ms| Element {
            prefix: p.parse().unwrap(),
            timeout: Duration::from_millis(ms),
        };
        let batch = Ipset::default().render_full(&[
            e("198.18.0.0/24", 1),
            e("198.18.1.0/24", 86_400_000 * 100),
            e("2001:db8::/64", 2_000),
        ]);
        assert!(batch.contains("add halfopen4-new 198.18.0.0/24 timeout 1 -exist\n"));
        assert!(batch.contains("add halfopen4-new 198.18.1.0/24 timeout 2147483 -exist\n"));
        assert!(batch.contains("add halfopen6-new 2001:db8::/64 timeout 2 -exist\n"));
        assert!(batch.contains("create halfopen6 hash:net family inet6 timeout 0"));
    }

    #[test]
    fn sync_orders_removals_refreshes_additions() {
        use crate::blockset::{BlockConfig, BlockSet, Millis};
        let mut set = BlockSet::new(BlockConfig::default());
        let ttl = Duration::from_secs(10);
        let p1 = "198.18.1.0/24".parse().unwrap();
        let p2 = "198.18.2.0/24".parse().unwrap();
        set.add(p1, "x", ttl, Millis(0)).unwrap();
        set.add(p2, "x", ttl, Millis(0)).unwrap();
        set.sync_diff(Millis(0));
        set.release(&p1, Millis(5_000));
        set.add(p2, "x", ttl, Millis(5_000)).unwrap();
        set.add("198.19.0.0/16".parse().unwrap(), "x", ttl, Millis(5_000))
            .unwrap();
        let batch = Ipset::default().render_sync(&set.sync_diff(Millis(5_000)));
        assert_eq!(
            batch,
            "del halfopen4 198.18.1.0/24 -exist\n\
             del halfopen4 198.18.2.0/24 -exist\n\
             add halfopen4 198.18.2.0/24 timeout 10 -exist\n\
             add halfopen4 198.19.0.0/16 timeout 10 -exist\n"
        );
    }
}
