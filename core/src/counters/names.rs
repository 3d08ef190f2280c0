//! The kernel counters halfopen samples, named as the kernel names them.

use std::fmt;

/// A group of counters, as the kernel prints it: the prefix of a line pair
/// in `/proc/net/netstat` or `/proc/net/snmp`, or of the names in
/// `/proc/net/snmp6`.
///
/// # Examples
///
/// ```
/// use halfopen::counters::Section;
/// assert_eq!(Section::TcpExt.file(), "netstat");
/// assert_eq!(Section::Icmp6.file(), "snmp6");
/// assert_eq!(Section::Udp.to_string(), "Udp");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    /// `TcpExt` of `/proc/net/netstat`: SYN cookies, listen queue drops.
    TcpExt,
    /// `Tcp` of `/proc/net/snmp`: opens, resets, segments.
    Tcp,
    /// `Icmp` of `/proc/net/snmp`.
    Icmp,
    /// `Icmp6…` of `/proc/net/snmp6`.
    Icmp6,
    /// `Udp` of `/proc/net/snmp`.
    Udp,
    /// `Udp6…` of `/proc/net/snmp6`.
    Udp6,
}

impl Section {
    /// Every section, in the order the counters list them.
    pub const ALL: [Section; 6] = [
        Section::TcpExt,
        Section::Tcp,
        Section::Icmp,
        Section::Icmp6,
        Section::Udp,
        Section::Udp6,
    ];

    /// The section's prefix as the kernel prints it.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::Section;
    /// assert_eq!(Section::TcpExt.name(), "TcpExt");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Section::TcpExt => "TcpExt",
            Section::Tcp => "Tcp",
            Section::Icmp => "Icmp",
            Section::Icmp6 => "Icmp6",
            Section::Udp => "Udp",
            Section::Udp6 => "Udp6",
        }
    }

    /// The file under a namespace's `net` directory that holds the section.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::Section;
    /// assert_eq!(Section::Tcp.file(), "snmp");
    /// ```
    pub const fn file(self) -> &'static str {
        match self {
            Section::TcpExt => "netstat",
            Section::Tcp | Section::Icmp | Section::Udp => "snmp",
            Section::Icmp6 | Section::Udp6 => "snmp6",
        }
    }

    /// The section a line prefix (without its colon) names, if halfopen
    /// samples it.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::Section;
    /// assert_eq!(Section::from_name("TcpExt"), Some(Section::TcpExt));
    /// assert_eq!(Section::from_name("IpExt"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! counters {
    ($( $(#[$doc:meta])* $variant:ident = ($section:ident, $name:literal, $key:literal), )*) => {
        /// A kernel counter halfopen samples.
        ///
        /// Each is named by its section and its kernel name; [`Counter::key`]
        /// joins them (`TcpExt.SyncookiesSent`) and is the name the report
        /// and the alerts use.
        ///
        /// # Examples
        ///
        /// ```
        /// use halfopen::counters::{Counter, Section};
        /// let c = Counter::SyncookiesSent;
        /// assert_eq!(c.section(), Section::TcpExt);
        /// assert_eq!(c.name(), "SyncookiesSent");
        /// assert_eq!(c.key(), "TcpExt.SyncookiesSent");
        /// assert_eq!(Counter::from_key("Icmp.InEchos"), Some(Counter::IcmpInEchos));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Counter {
            $( $(#[$doc])* $variant, )*
        }

        impl Counter {
            /// Every counter, in index order.
            pub const ALL: [Counter; Counter::COUNT] = [ $( Counter::$variant, )* ];

            /// How many counters there are.
            pub const COUNT: usize = [ $( $key, )* ].len();

            /// The section the counter belongs to.
            ///
            /// # Examples
            ///
            /// ```
            /// use halfopen::counters::{Counter, Section};
            /// assert_eq!(Counter::Udp6NoPorts.section(), Section::Udp6);
            /// ```
            pub const fn section(self) -> Section {
                match self { $( Counter::$variant => Section::$section, )* }
            }

            /// The counter's name within its section, as the kernel prints it.
            ///
            /// # Examples
            ///
            /// ```
            /// use halfopen::counters::Counter;
            /// assert_eq!(Counter::Icmp6OutEchoReplies.name(), "OutEchoReplies");
            /// ```
            pub const fn name(self) -> &'static str {
                match self { $( Counter::$variant => $name, )* }
            }

            /// `Section.Name`, the counter's name in reports and alerts.
            ///
            /// # Examples
            ///
            /// ```
            /// use halfopen::counters::Counter;
            /// assert_eq!(Counter::TcpOutRsts.key(), "Tcp.OutRsts");
            /// ```
            pub const fn key(self) -> &'static str {
                match self { $( Counter::$variant => $key, )* }
            }
        }
    };
}

counters! {
    /// SYN cookies sent: SYNs answered with a cookie instead of a half-open entry.
    SyncookiesSent = (TcpExt, "SyncookiesSent", "TcpExt.SyncookiesSent"),
    /// Valid cookies received back (handshakes completed from a cookie).
    SyncookiesRecv = (TcpExt, "SyncookiesRecv", "TcpExt.SyncookiesRecv"),
    /// Cookies received back that did not check out.
    SyncookiesFailed = (TcpExt, "SyncookiesFailed", "TcpExt.SyncookiesFailed"),
    /// Connections dropped because a listener's accept queue was full.
    ListenOverflows = (TcpExt, "ListenOverflows", "TcpExt.ListenOverflows"),
    /// SYNs and handshakes a listener dropped, for any reason.
    ListenDrops = (TcpExt, "ListenDrops", "TcpExt.ListenDrops"),
    /// SYNs dropped because the SYN queue was full and cookies are off.
    TcpReqQFullDrop = (TcpExt, "TCPReqQFullDrop", "TcpExt.TCPReqQFullDrop"),
    /// SYNs answered with a cookie because the SYN queue was full.
    TcpReqQFullDoCookies = (TcpExt, "TCPReqQFullDoCookies", "TcpExt.TCPReqQFullDoCookies"),
    /// Segments dropped because a socket's backlog was full.
    TcpBacklogDrop = (TcpExt, "TCPBacklogDrop", "TcpExt.TCPBacklogDrop"),
    /// Connections accepted (SYN_RECV reached from LISTEN).
    TcpPassiveOpens = (Tcp, "PassiveOpens", "Tcp.PassiveOpens"),
    /// Connections opened (SYN_SENT reached from CLOSED).
    TcpActiveOpens = (Tcp, "ActiveOpens", "Tcp.ActiveOpens"),
    /// Handshakes that failed (SYN_SENT or SYN_RECV back to CLOSED or LISTEN).
    TcpAttemptFails = (Tcp, "AttemptFails", "Tcp.AttemptFails"),
    /// Established connections reset.
    TcpEstabResets = (Tcp, "EstabResets", "Tcp.EstabResets"),
    /// Segments received.
    TcpInSegs = (Tcp, "InSegs", "Tcp.InSegs"),
    /// Segments sent.
    TcpOutSegs = (Tcp, "OutSegs", "Tcp.OutSegs"),
    /// Segments retransmitted.
    TcpRetransSegs = (Tcp, "RetransSegs", "Tcp.RetransSegs"),
    /// Resets sent, among them the answers to SYNs for closed ports.
    TcpOutRsts = (Tcp, "OutRsts", "Tcp.OutRsts"),
    /// Segments received in error.
    TcpInErrs = (Tcp, "InErrs", "Tcp.InErrs"),
    /// ICMP messages received.
    IcmpInMsgs = (Icmp, "InMsgs", "Icmp.InMsgs"),
    /// ICMP echo requests received.
    IcmpInEchos = (Icmp, "InEchos", "Icmp.InEchos"),
    /// ICMP echo replies sent.
    IcmpOutEchoReps = (Icmp, "OutEchoReps", "Icmp.OutEchoReps"),
    /// ICMP destination unreachables received.
    IcmpInDestUnreachs = (Icmp, "InDestUnreachs", "Icmp.InDestUnreachs"),
    /// ICMP destination unreachables sent (port unreachable for closed UDP ports).
    IcmpOutDestUnreachs = (Icmp, "OutDestUnreachs", "Icmp.OutDestUnreachs"),
    /// ICMP messages not sent because of the global rate limit (newer kernels).
    IcmpOutRateLimitGlobal = (Icmp, "OutRateLimitGlobal", "Icmp.OutRateLimitGlobal"),
    /// ICMP messages not sent because of the per-host rate limit (newer kernels).
    IcmpOutRateLimitHost = (Icmp, "OutRateLimitHost", "Icmp.OutRateLimitHost"),
    /// ICMPv6 messages received.
    Icmp6InMsgs = (Icmp6, "InMsgs", "Icmp6.InMsgs"),
    /// ICMPv6 echo requests received.
    Icmp6InEchos = (Icmp6, "InEchos", "Icmp6.InEchos"),
    /// ICMPv6 echo replies sent.
    Icmp6OutEchoReplies = (Icmp6, "OutEchoReplies", "Icmp6.OutEchoReplies"),
    /// ICMPv6 destination unreachables received.
    Icmp6InDestUnreachs = (Icmp6, "InDestUnreachs", "Icmp6.InDestUnreachs"),
    /// ICMPv6 destination unreachables sent.
    Icmp6OutDestUnreachs = (Icmp6, "OutDestUnreachs", "Icmp6.OutDestUnreachs"),
    /// ICMPv6 messages not sent because of the per-host rate limit.
    Icmp6OutRateLimitHost = (Icmp6, "OutRateLimitHost", "Icmp6.OutRateLimitHost"),
    /// UDP datagrams delivered.
    UdpInDatagrams = (Udp, "InDatagrams", "Udp.InDatagrams"),
    /// UDP datagrams for ports nothing listens on.
    UdpNoPorts = (Udp, "NoPorts", "Udp.NoPorts"),
    /// UDP over IPv6 datagrams delivered.
    Udp6InDatagrams = (Udp6, "InDatagrams", "Udp6.InDatagrams"),
    /// UDP over IPv6 datagrams for ports nothing listens on.
    Udp6NoPorts = (Udp6, "NoPorts", "Udp6.NoPorts"),
}

impl Counter {
    /// The counter's position in [`Counter::ALL`].
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::Counter;
    /// assert_eq!(Counter::ALL[Counter::TcpOutRsts.index()], Counter::TcpOutRsts);
    /// ```
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The counter a key (`Section.Name`) names.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::Counter;
    /// assert_eq!(Counter::from_key("Udp.NoPorts"), Some(Counter::UdpNoPorts));
    /// assert_eq!(Counter::from_key("Udp.Nothing"), None);
    /// ```
    pub fn from_key(key: &str) -> Option<Counter> {
        Counter::ALL.into_iter().find(|c| c.key() == key)
    }

    /// The counter of `section` the kernel calls `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::{Counter, Section};
    /// assert_eq!(Counter::find(Section::Tcp, "OutRsts"), Some(Counter::TcpOutRsts));
    /// assert_eq!(Counter::find(Section::Tcp, "MaxConn"), None);
    /// ```
    pub fn find(section: Section, name: &str) -> Option<Counter> {
        Counter::ALL
            .into_iter()
            .find(|c| c.section() == section && c.name() == name)
    }
}

impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl serde::Serialize for Counter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key())
    }
}

impl<'de> serde::Deserialize<'de> for Counter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Counter::from_key(&key)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown counter {key:?}")))
    }
}

/// One value per [`Counter`], each absent when the kernel does not print
/// the counter (an older kernel, a kernel without IPv6).
///
/// Serializes as a map from [`Counter::key`] to the value, absent counters
/// left out.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{Counter, PerCounter};
/// let mut v: PerCounter<u64> = PerCounter::default();
/// v.set(Counter::TcpOutRsts, 7);
/// assert_eq!(v.get(Counter::TcpOutRsts), Some(7));
/// assert_eq!(v.get(Counter::TcpInSegs), None);
/// assert_eq!(v.iter().count(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerCounter<T>([Option<T>; Counter::COUNT]);

impl<T: Copy> Default for PerCounter<T> {
    fn default() -> Self {
        PerCounter([None; Counter::COUNT])
    }
}

impl<T: Copy> PerCounter<T> {
    /// The value of `counter`, if present.
    pub fn get(&self, counter: Counter) -> Option<T> {
        self.0[counter.index()]
    }

    /// Sets the value of `counter`.
    pub fn set(&mut self, counter: Counter, value: T) {
        self.0[counter.index()] = Some(value);
    }

    /// The present counters and their values, in [`Counter::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Counter, T)> + '_ {
        Counter::ALL
            .into_iter()
            .filter_map(|c| self.get(c).map(|v| (c, v)))
    }
}

impl<'de, T: Copy + serde::Deserialize<'de>> serde::Deserialize<'de> for PerCounter<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<Counter, T>::deserialize(deserializer)?;
        let mut out = PerCounter([None; Counter::COUNT]);
        for (c, v) in map {
            out.set(c, v);
        }
        Ok(out)
    }
}

impl<T: Copy + serde::Serialize> serde::Serialize for PerCounter<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (c, v) in self.iter() {
            map.serialize_entry(c.key(), &v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_section_dot_name_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Counter::ALL {
            assert_eq!(c.key(), format!("{}.{}", c.section(), c.name()));
            assert!(seen.insert(c.key()));
            assert_eq!(Counter::from_key(c.key()), Some(c));
            assert_eq!(Counter::find(c.section(), c.name()), Some(c));
            assert_eq!(Counter::ALL[c.index()], c);
        }
    }

    #[test]
    fn per_counter_json_round_trips_and_refuses_unknown_keys() {
        let mut v: PerCounter<u64> = PerCounter::default();
        v.set(Counter::Icmp6InEchos, 3);
        v.set(Counter::SyncookiesSent, u64::MAX);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(
            json,
            r#"{"TcpExt.SyncookiesSent":18446744073709551615,"Icmp6.InEchos":3}"#
        );
        assert_eq!(serde_json::from_str::<PerCounter<u64>>(&json).unwrap(), v);
        let e = serde_json::from_str::<PerCounter<u64>>(r#"{"Tcp.Nope":1}"#).unwrap_err();
        assert!(
            e.to_string().contains("unknown counter \"Tcp.Nope\""),
            "{e}"
        );
    }

    #[test]
    fn sections_round_trip() {
        for s in Section::ALL {
            assert_eq!(Section::from_name(s.name()), Some(s));
        }
    }
}
