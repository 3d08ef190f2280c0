//! nftables: `nft -f` batches for a table of halfopen's own.
//!
//! The table (`inet` family, so one table serves IPv4 and IPv6) holds two
//! sets with `flags interval, timeout` and a chain that drops their
//! sources:
//!
//! ```text
//! table inet halfopen {
//!     set blocked4 { type ipv4_addr; flags interval, timeout; elements = { 198.18.0.0/16 timeout 10m, ... } }
//!     set blocked6 { type ipv6_addr; flags interval, timeout; }
//!     chain prerouting {
//!         type filter hook prerouting priority -300; policy accept;
//!         ip saddr @blocked4 counter drop
//!         ip6 saddr @blocked6 counter drop
//!     }
//! }
//! ```
//!
//! Why `prerouting` at priority -300 (`raw`): it is the first hook an
//! incoming packet of the `inet` family meets, and connection tracking
//! runs in the same hook at priority -200. Dropping at -300 costs a flooded
//! host no conntrack entry and no route lookup, where the `input` hook runs
//! only after both. The hook ([`NftHook`]) and priority are configurable:
//! `ingress` on one device runs earlier still (before IP reassembly and the
//! prerouting hook), `input` only sees traffic for this host (after
//! conntrack), for routers that must not drop forwarded traffic.
//!
//! Each element carries its remaining TTL as its own timeout, so the kernel
//! drops expired blocks by itself even if the caller stops. Sets never use
//! `auto-merge`: with timeouts, merged elements would fuse blocks that
//! expire at different times.
//!
//! Incremental batches ([`Nft::render_sync`]) follow the kernel's rules:
//!
//! - removals come first, then timeout refreshes, then additions, so an
//!   absorbing prefix never overlaps the blocks it replaces;
//! - an extended block is deleted and re-added in the same transaction
//!   (kernels before 6.12 ignore a re-add of an existing element);
//! - deleting an element the kernel already timed out fails the whole
//!   batch, so an element whose firewall timeout is within
//!   [`Nft::margin`] of running out (or past it) is first added with a
//!   short timeout, then deleted: both succeed whether or not the kernel
//!   still had it. nft (1.0.6 at least) refuses a later overlapping add in
//!   the same batch after that pair, so when a new prefix covers such an
//!   element, that family's set is flushed and refilled in the same batch
//!   instead. The batch stays one atomic transaction either way.

use std::fmt::Write as _;
use std::time::Duration;

use ipnet::IpNet;

use super::{disjoint, overlaps, FirewallError, Name};
use crate::blockset::{BlockSet, Element, SyncDiff};

/// The nftables renderer and its settings.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
/// use halfopen::firewall::nft::Nft;
///
/// let mut set = BlockSet::new(BlockConfig::default());
/// set.add("198.18.0.0/16".parse().unwrap(), "flood", Duration::from_secs(90), Millis(0)).unwrap();
/// let nft = Nft::default();
/// let batch = nft.render_full(&set.elements(Millis(0)));
/// assert!(batch.contains("198.18.0.0/16 timeout 1m30s"));
/// set.mark_synced(Millis(0));
///
/// set.add("2001:db8::/48".parse().unwrap(), "flood", Duration::from_secs(60), Millis(1_000)).unwrap();
/// let diff = set.sync_diff(Millis(1_000));
/// assert_eq!(
///     nft.render_sync(&diff, &set),
///     "add element inet halfopen blocked6 { 2001:db8::/48 timeout 1m }\n"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nft {
    /// The table (`inet` family); default `halfopen`.
    pub table: Name,
    /// The IPv4 set; default `blocked4`.
    pub set4: Name,
    /// The IPv6 set; default `blocked6`.
    pub set6: Name,
    /// The chain; default `prerouting`.
    pub chain: Name,
    /// The hook the chain is attached to; default [`NftHook::Prerouting`].
    pub hook: NftHook,
    /// The chain's priority in its hook; default -300 (`raw`), before
    /// connection tracking (-200).
    pub priority: i32,
    /// Also drop incoming TCP SYNs (without ACK) whose source port is below
    /// 1024: no client connects from a well-known port, while spoofed
    /// floods often use one (port 80, to aim the SYN-ACKs at a third
    /// party). Off by default.
    pub drop_privileged_source_syn: bool,
    /// Elements whose firewall timeout has less than this left are treated
    /// as possibly gone from the kernel (see the module docs). Default 2 s;
    /// apply each batch well within this time after rendering it.
    pub margin: Duration,
}

impl Default for Nft {
    fn default() -> Self {
        Nft {
            table: Name::fixed("halfopen"),
            set4: Name::fixed("blocked4"),
            set6: Name::fixed("blocked6"),
            chain: Name::fixed("prerouting"),
            hook: NftHook::Prerouting,
            priority: -300,
            drop_privileged_source_syn: false,
            margin: Duration::from_secs(2),
        }
    }
}

/// The hook halfopen's chain is attached to.
///
/// # Examples
///
/// ```
/// use halfopen::firewall::nft::{Nft, NftHook};
/// let nft = Nft { hook: NftHook::ingress("eth0.100").unwrap(), priority: -500, ..Nft::default() };
/// assert!(nft.render_full(&[]).contains("type filter hook ingress device \"eth0.100\" priority -500;"));
/// assert_eq!(NftHook::Input.to_string(), "input");
/// assert!(NftHook::ingress("bad\"name").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NftHook {
    /// `prerouting`: every incoming packet, before conntrack at priority
    /// -200 (the default).
    Prerouting,
    /// `input`: packets for this host only, after routing and conntrack.
    Input,
    /// `ingress` on one device (kernel 5.10+): the earliest hook, before
    /// prerouting. Build it with [`NftHook::ingress`].
    Ingress(Device),
}

impl NftHook {
    /// The ingress hook of `device`.
    ///
    /// # Errors
    ///
    /// [`FirewallError::BadName`] for a name that is no interface name
    /// (empty, longer than 15 bytes, or holding `/`, `"`, whitespace or
    /// control characters).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::nft::NftHook;
    /// assert!(NftHook::ingress("att0").is_ok());
    /// assert!(NftHook::ingress("").is_err());
    /// ```
    pub fn ingress(device: &str) -> Result<NftHook, FirewallError> {
        let ok = !device.is_empty()
            && device.len() <= 15
            && device
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'"' && b != b'\\');
        if ok {
            Ok(NftHook::Ingress(Device(device.to_owned())))
        } else {
            Err(FirewallError::BadName {
                name: device.chars().take(40).collect(),
            })
        }
    }
}

impl std::fmt::Display for NftHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NftHook::Prerouting => f.write_str("prerouting"),
            NftHook::Input => f.write_str("input"),
            NftHook::Ingress(Device(d)) => write!(f, "ingress device \"{d}\""),
        }
    }
}

/// A network interface name checked by [`NftHook::ingress`].
///
/// # Examples
///
/// ```
/// use halfopen::firewall::nft::NftHook;
/// let NftHook::Ingress(dev) = NftHook::ingress("eth0").unwrap() else { unreachable!() };
/// assert_eq!(dev.as_str(), "eth0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Device(String);

impl Device {
    /// The interface name.
    ///
    /// # Examples
    ///
    /// See [`Device`].
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest timeout rendered: 10 000 days (nft accepts more, nothing
/// needs it).
const MAX_TIMEOUT: Duration = Duration::from_secs(10_000 * 86_400);

impl Nft {
    /// A renderer with other object names (the defaults are `halfopen`,
    /// `blocked4`, `blocked6`, `prerouting`).
    ///
    /// # Errors
    ///
    /// [`FirewallError::BadName`] for a name nft would not take unquoted.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::nft::Nft;
    /// let nft = Nft::with_names("ho_test", "b4", "b6", "pre").unwrap();
    /// assert_eq!(nft.table(), "ho_test");
    /// assert!(Nft::with_names("bad name", "b4", "b6", "pre").is_err());
    /// ```
    pub fn with_names(
        table: &str,
        set4: &str,
        set6: &str,
        chain: &str,
    ) -> Result<Nft, FirewallError> {
        Ok(Nft {
            table: Name::new(table)?,
            set4: Name::new(set4)?,
            set6: Name::new(set6)?,
            chain: Name::new(chain)?,
            ..Nft::default()
        })
    }

    /// The table's name.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::nft::Nft;
    /// assert_eq!(Nft::default().table(), "halfopen");
    /// ```
    pub fn table(&self) -> &str {
        self.table.as_str()
    }

    /// The set's name for IPv4 (`false`) or IPv6 (`true`).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::nft::Nft;
    /// assert_eq!(Nft::default().set_name(true), "blocked6");
    /// ```
    pub fn set_name(&self, v6: bool) -> &str {
        if v6 {
            self.set6.as_str()
        } else {
            self.set4.as_str()
        }
    }

    /// The chain's name.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::nft::Nft;
    /// assert_eq!(Nft::default().chain(), "prerouting");
    /// ```
    pub fn chain(&self) -> &str {
        self.chain.as_str()
    }

    /// A complete batch that replaces halfopen's table (creating it if
    /// missing) with one holding `elements`, in one transaction. Overlapping
    /// elements are resolved first ([`disjoint`]). Rule counters start at
    /// zero again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::Element;
    /// use halfopen::firewall::nft::Nft;
    ///
    /// let e = Element { prefix: "198.18.7.0/24".parse().unwrap(), timeout: Duration::from_millis(2_500) };
    /// let batch = Nft::default().render_full(&[e]);
    /// assert!(batch.starts_with("add table inet halfopen\ndelete table inet halfopen\n"));
    /// assert!(batch.contains("elements = { 198.18.7.0/24 timeout 2s500ms }"));
    /// assert!(batch.contains("type filter hook prerouting priority -300; policy accept;"));
    /// ```
    pub fn render_full(&self, elements: &[Element]) -> String {
        let elements = disjoint(elements.to_vec());
        let mut out = String::new();
        let t = &self.table;
        let _ = writeln!(
            out,
            "add table inet {t}\ndelete table inet {t}\ntable inet {t} {{"
        );
        for v6 in [false, true] {
            let (name, ty) = if v6 {
                (&self.set6, "ipv6_addr")
            } else {
                (&self.set4, "ipv4_addr")
            };
            let _ = writeln!(
                out,
                "\tset {name} {{\n\t\ttype {ty}\n\t\tflags interval, timeout"
            );
            let mine: Vec<&Element> = elements
                .iter()
                .filter(|e| e.prefix.network().is_ipv6() == v6)
                .collect();
            if !mine.is_empty() {
                out.push_str("\t\telements = { ");
                for (i, e) in mine.iter().enumerate() {
                    if i > 0 {
                        out.push_str(",\n\t\t\t");
                    }
                    push_element(&mut out, e.prefix, e.timeout);
                }
                out.push_str(" }\n");
            }
            out.push_str("\t}\n");
        }
        let _ = writeln!(
            out,
            "\tchain {} {{\n\t\ttype filter hook {} priority {}; policy accept;",
            self.chain, self.hook, self.priority
        );
        let _ = writeln!(out, "\t\tip saddr @{} counter drop", self.set4);
        let _ = writeln!(out, "\t\tip6 saddr @{} counter drop", self.set6);
        if self.drop_privileged_source_syn {
            out.push_str("\t\ttcp flags & (syn | ack) == syn tcp sport < 1024 counter drop\n");
        }
        out.push_str("\t}\n}\n");
        out
    }

    /// The batch that brings the kernel from the last sync to `diff`: one
    /// transaction, empty if nothing changed. `set` is the block set the
    /// diff came from; its elements are read only when a set has to be
    /// refilled (see the module docs).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    /// use halfopen::firewall::nft::Nft;
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// let ttl = Duration::from_secs(60);
    /// set.add("198.18.1.0/24".parse().unwrap(), "x", ttl, Millis(0)).unwrap();
    /// set.sync_diff(Millis(0));
    /// set.add("198.18.1.0/24".parse().unwrap(), "x", ttl, Millis(10_000)).unwrap();
    /// let batch = Nft::default().render_sync(&set.sync_diff(Millis(10_000)), &set);
    /// assert_eq!(batch, "delete element inet halfopen blocked4 { 198.18.1.0/24 }\n\
    ///                    add element inet halfopen blocked4 { 198.18.1.0/24 timeout 1m }\n");
    /// ```
    pub fn render_sync(&self, diff: &SyncDiff, set: &BlockSet) -> String {
        let mut out = String::new();
        for v6 in [false, true] {
            self.render_family(&mut out, diff, set, v6);
        }
        out
    }

    fn render_family(&self, out: &mut String, diff: &SyncDiff, set: &BlockSet, v6: bool) {
        let fam = |p: &IpNet| p.network().is_ipv6() == v6;
        let name = self.set_name(v6);
        let t = &self.table;
        let unsure = |remaining: Duration| remaining < self.margin;
        let refill = diff.add.iter().filter(|a| fam(&a.prefix)).any(|a| {
            diff.remove.iter().any(|r| {
                fam(&r.prefix) && unsure(r.firewall_remaining) && overlaps(&r.prefix, &a.prefix)
            })
        });
        if refill {
            let _ = writeln!(out, "flush set inet {t} {name}");
            for e in set.elements(diff.now).iter().filter(|e| fam(&e.prefix)) {
                self.add_line(out, name, e.prefix, e.timeout);
            }
            return;
        }
        let delete = |out: &mut String, prefix: IpNet, remaining: Duration| {
            if unsure(remaining) {
                self.add_line(out, name, prefix, Duration::from_secs(1));
            }
            let _ = writeln!(out, "delete element inet {t} {name} {{ {prefix} }}");
        };
        for r in diff.remove.iter().filter(|r| fam(&r.prefix)) {
            delete(out, r.prefix, r.firewall_remaining);
        }
        for r in diff.refresh.iter().filter(|r| fam(&r.prefix)) {
            delete(out, r.prefix, r.firewall_remaining);
            self.add_line(out, name, r.prefix, r.timeout);
        }
        for a in diff.add.iter().filter(|a| fam(&a.prefix)) {
            self.add_line(out, name, a.prefix, a.timeout);
        }
    }

    fn add_line(&self, out: &mut String, set: &str, prefix: IpNet, timeout: Duration) {
        let _ = write!(out, "add element inet {} {set} {{ ", self.table);
        push_element(out, prefix, timeout);
        out.push_str(" }\n");
    }
}

/// `prefix timeout <time>` with the time in nft's units.
fn push_element(out: &mut String, prefix: IpNet, timeout: Duration) {
    let _ = write!(out, "{prefix} timeout ");
    push_time(out, timeout);
}

/// `d` as nft writes times (`1d2h3m4s5ms`), at least 1 ms and at most
/// [`MAX_TIMEOUT`]. nft rejects large plain millisecond counts, so the
/// time is always split into units.
fn push_time(out: &mut String, d: Duration) {
    let ms = d.clamp(Duration::from_millis(1), MAX_TIMEOUT).as_millis();
    let units = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ];
    let mut rest = ms;
    for (size, unit) in units {
        if rest >= size {
            let _ = write!(out, "{}{unit}", rest / size);
            rest %= size;
        }
    }
}

#[cfg(test)]
mod tests;
