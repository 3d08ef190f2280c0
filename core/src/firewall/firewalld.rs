//! firewalld: `firewall-cmd` commands, as argument lists.
//!
//! Two `hash:net` ipsets (one per family) are bound as sources of the
//! `drop` zone. firewalld takes no per-entry timeout, so its entries carry
//! none: halfopen removes them through the sync diff (expired blocks are
//! removals too). Entries are added at runtime only; after a firewalld
//! reload, apply [`Firewalld::render_full`] again.
//!
//! Each command is an argument list (program first) for the caller to run
//! without a shell.

use super::{FirewallError, Name};
use crate::blockset::{Element, SyncDiff};

/// The firewalld renderer and its settings.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
/// use halfopen::firewall::firewalld::Firewalld;
///
/// let mut set = BlockSet::new(BlockConfig::default());
/// set.add("198.18.0.0/16".parse().unwrap(), "flood", Duration::from_secs(60), Millis(0)).unwrap();
/// let fw = Firewalld::default();
/// let cmds = fw.render_sync(&set.sync_diff(Millis(0)));
/// assert_eq!(cmds, vec![vec!["firewall-cmd", "--ipset=halfopen4", "--add-entry=198.18.0.0/16"]]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firewalld {
    /// The IPv4 ipset; default `halfopen4`.
    pub set4: Name,
    /// The IPv6 ipset; default `halfopen6`.
    pub set6: Name,
    /// The zone the ipsets are sources of; default `drop`.
    pub zone: Name,
    /// Also drop incoming TCP SYNs whose source port is below 1024 (a
    /// direct rule in the raw table's PREROUTING chain). Off by default.
    pub drop_privileged_source_syn: bool,
    /// The ipsets' `maxelem`; default 65 536.
    pub maxelem: usize,
}

impl Default for Firewalld {
    fn default() -> Self {
        Firewalld {
            set4: Name::fixed("halfopen4"),
            set6: Name::fixed("halfopen6"),
            zone: Name::fixed("drop"),
            drop_privileged_source_syn: false,
            maxelem: 65_536,
        }
    }
}

impl Firewalld {
    /// A renderer with other ipset names and zone.
    ///
    /// # Errors
    ///
    /// [`FirewallError::BadName`] for a name firewalld would not take.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::firewalld::Firewalld;
    /// assert!(Firewalld::with_names("ho4", "ho6", "block").is_ok());
    /// assert!(Firewalld::with_names("ho4", "ho6", "--x").is_err());
    /// ```
    pub fn with_names(set4: &str, set6: &str, zone: &str) -> Result<Firewalld, FirewallError> {
        Ok(Firewalld {
            set4: Name::new(set4)?,
            set6: Name::new(set6)?,
            zone: Name::new(zone)?,
            ..Firewalld::default()
        })
    }

    fn set_name(&self, v6: bool) -> &Name {
        if v6 {
            &self.set6
        } else {
            &self.set4
        }
    }

    /// The one-time permanent setup: the two ipsets, their binding to the
    /// zone, the optional SYN rule, and a reload. Run it once; the ipsets
    /// then exist and a second run fails with `NAME_CONFLICT`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::firewall::firewalld::Firewalld;
    /// let setup = Firewalld::default().render_setup();
    /// assert_eq!(setup[0].join(" "),
    ///     "firewall-cmd --permanent --new-ipset=halfopen4 --type=hash:net --option=family=inet --option=maxelem=65536");
    /// assert_eq!(setup.last().unwrap().join(" "), "firewall-cmd --reload");
    /// ```
    pub fn render_setup(&self) -> Vec<Vec<String>> {
        let mut cmds = Vec::new();
        for v6 in [false, true] {
            let family = if v6 { "inet6" } else { "inet" };
            cmds.push(cmd(&[
                "--permanent".into(),
                format!("--new-ipset={}", self.set_name(v6)),
                "--type=hash:net".into(),
                format!("--option=family={family}"),
                format!("--option=maxelem={}", self.maxelem),
            ]));
        }
        for v6 in [false, true] {
            cmds.push(cmd(&[
                "--permanent".into(),
                format!("--zone={}", self.zone),
                format!("--add-source=ipset:{}", self.set_name(v6)),
            ]));
        }
        if self.drop_privileged_source_syn {
            for ip in ["ipv4", "ipv6"] {
                cmds.push(cmd(&[
                    "--permanent".into(),
                    "--direct".into(),
                    "--add-rule".into(),
                    ip.into(),
                    "raw".into(),
                    "PREROUTING".into(),
                    "0".into(),
                    "-p".into(),
                    "tcp".into(),
                    "--syn".into(),
                    "--sport".into(),
                    "0:1023".into(),
                    "-j".into(),
                    "DROP".into(),
                ]));
            }
        }
        cmds.push(cmd(&["--reload".into()]));
        cmds
    }

    /// Commands that add every element (after setup or a reload, when the
    /// runtime ipsets are empty).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::Element;
    /// use halfopen::firewall::firewalld::Firewalld;
    /// let e = Element { prefix: "2001:db8::/32".parse().unwrap(), timeout: Duration::from_secs(1) };
    /// assert_eq!(Firewalld::default().render_full(&[e])[0][2], "--add-entry=2001:db8::/32");
    /// ```
    pub fn render_full(&self, elements: &[Element]) -> Vec<Vec<String>> {
        elements
            .iter()
            .map(|e| self.entry("add", &e.prefix))
            .collect()
    }

    /// Commands for `diff`: `--remove-entry` for removals (expired blocks
    /// included, since the ipsets have no timeouts), `--add-entry` for new
    /// prefixes; refreshed timeouts need no command.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use halfopen::blockset::{BlockConfig, BlockSet, Millis};
    /// use halfopen::firewall::firewalld::Firewalld;
    ///
    /// let mut set = BlockSet::new(BlockConfig::default());
    /// set.add("198.18.5.0/24".parse().unwrap(), "x", Duration::from_secs(1), Millis(0)).unwrap();
    /// set.sync_diff(Millis(0));
    /// set.expire(Millis(1_000));
    /// let cmds = Firewalld::default().render_sync(&set.sync_diff(Millis(1_000)));
    /// assert_eq!(cmds[0].join(" "), "firewall-cmd --ipset=halfopen4 --remove-entry=198.18.5.0/24");
    /// ```
    pub fn render_sync(&self, diff: &SyncDiff) -> Vec<Vec<String>> {
        let removes = diff.remove.iter().map(|r| self.entry("remove", &r.prefix));
        let adds = diff.add.iter().map(|a| self.entry("add", &a.prefix));
        removes.chain(adds).collect()
    }

    fn entry(&self, verb: &str, prefix: &ipnet::IpNet) -> Vec<String> {
        let set = self.set_name(prefix.network().is_ipv6());
        cmd(&[
            format!("--ipset={set}"),
            format!("--{verb}-entry={}", prefix.trunc()),
        ])
    }
}

/// `firewall-cmd` followed by `args`.
fn cmd(args: &[String]) -> Vec<String> {
    std::iter::once("firewall-cmd".to_owned())
        .chain(args.iter().cloned())
        .collect()
}
