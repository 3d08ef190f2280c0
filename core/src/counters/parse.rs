//! Parsers of `/proc/net/netstat`, `/proc/net/snmp`, `/proc/net/snmp6` and
//! `/proc/net/dev`, keeping only the counters halfopen samples.

use serde::{Deserialize, Serialize};

use super::error::CounterParseError;
use super::names::{Counter, PerCounter, Section};
use crate::procnet::Snippet;

/// Parses a decimal counter value; `None` unless it is all digits and fits.
fn value(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn bad_value(line: u64, field: String, text: &str) -> CounterParseError {
    CounterParseError::BadValue {
        line,
        field,
        text: Snippet::new(text.as_bytes()),
    }
}

/// Splits `Prefix: rest` into the prefix (without its colon) and the rest.
fn prefixed(line: &str) -> Option<(&str, &str)> {
    let (prefix, rest) = line.split_once(':')?;
    if prefix.is_empty() || prefix.contains(char::is_whitespace) {
        return None;
    }
    Some((prefix, rest))
}

/// Parses a file of line pairs (`Prefix: Name1 Name2…` then
/// `Prefix: value1 value2…`), as `/proc/net/netstat` and `/proc/net/snmp`
/// are, and stores the values of the sampled counters into `out`.
/// Sections halfopen does not sample are checked for shape only; counters
/// the kernel does not print stay absent.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{parse_netstat, Counter, PerCounter};
/// let text = "TcpExt: SyncookiesSent SyncookiesRecv EmbryonicRsts\nTcpExt: 12 3 1\n\
///             IpExt: InNoRoutes\nIpExt: 0\n";
/// let mut out = PerCounter::default();
/// parse_netstat(text, &mut out)?;
/// assert_eq!(out.get(Counter::SyncookiesSent), Some(12));
/// assert_eq!(out.get(Counter::SyncookiesRecv), Some(3));
/// assert_eq!(out.get(Counter::ListenDrops), None);
/// # Ok::<(), halfopen::counters::CounterParseError>(())
/// ```
pub fn parse_netstat(text: &str, out: &mut PerCounter<u64>) -> Result<(), CounterParseError> {
    parse_pairs(text, out)
}

/// Parses `/proc/net/snmp`; the same line-pair format as
/// [`parse_netstat`].
///
/// # Examples
///
/// ```
/// use halfopen::counters::{parse_snmp, Counter, PerCounter};
/// let text = "Tcp: RtoAlgorithm MaxConn OutRsts\nTcp: 1 -1 31\nUdp: InDatagrams NoPorts\nUdp: 81 4\n";
/// let mut out = PerCounter::default();
/// parse_snmp(text, &mut out)?;
/// assert_eq!(out.get(Counter::TcpOutRsts), Some(31));
/// assert_eq!(out.get(Counter::UdpNoPorts), Some(4));
/// # Ok::<(), halfopen::counters::CounterParseError>(())
/// ```
pub fn parse_snmp(text: &str, out: &mut PerCounter<u64>) -> Result<(), CounterParseError> {
    parse_pairs(text, out)
}

fn parse_pairs(text: &str, out: &mut PerCounter<u64>) -> Result<(), CounterParseError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i as u64 + 1, l));
    while let Some((line, names)) = lines.next() {
        if names.trim().is_empty() {
            continue;
        }
        let Some((prefix, names)) = prefixed(names) else {
            return Err(CounterParseError::Malformed {
                line,
                expected: "`Section: Name…`",
                text: Snippet::new(names.as_bytes()),
            });
        };
        let missing = || CounterParseError::MissingValues {
            line,
            section: prefix.to_owned(),
        };
        let (vline, values) = lines.next().ok_or_else(missing)?;
        let values = match prefixed(values) {
            Some((p, v)) if p == prefix => v,
            _ => return Err(missing()),
        };
        let n_names = names.split_ascii_whitespace().count();
        let n_values = values.split_ascii_whitespace().count();
        if n_names != n_values {
            return Err(CounterParseError::ColumnMismatch {
                line: vline,
                section: prefix.to_owned(),
                names: n_names,
                values: n_values,
            });
        }
        let Some(section) = Section::from_name(prefix) else {
            continue;
        };
        for (name, text) in names
            .split_ascii_whitespace()
            .zip(values.split_ascii_whitespace())
        {
            if let Some(counter) = Counter::find(section, name) {
                let v =
                    value(text).ok_or_else(|| bad_value(vline, counter.key().to_owned(), text))?;
                out.set(counter, v);
            }
        }
    }
    Ok(())
}

/// Parses `/proc/net/snmp6` (one `Name value` per line) and stores the
/// sampled `Icmp6…` and `Udp6…` counters into `out`.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{parse_snmp6, Counter, PerCounter};
/// let text = "Ip6InReceives   \t9\nIcmp6InEchos    \t4\nUdp6NoPorts \t2\nUdpLite6NoPorts 0\n";
/// let mut out = PerCounter::default();
/// parse_snmp6(text, &mut out)?;
/// assert_eq!(out.get(Counter::Icmp6InEchos), Some(4));
/// assert_eq!(out.get(Counter::Udp6NoPorts), Some(2));
/// # Ok::<(), halfopen::counters::CounterParseError>(())
/// ```
pub fn parse_snmp6(text: &str, out: &mut PerCounter<u64>) -> Result<(), CounterParseError> {
    for (i, l) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let mut words = l.split_ascii_whitespace();
        let (name, text) = match (words.next(), words.next(), words.next()) {
            (None, _, _) => continue,
            (Some(n), Some(v), None) => (n, v),
            _ => {
                return Err(CounterParseError::Malformed {
                    line,
                    expected: "`Name value`",
                    text: Snippet::new(l.as_bytes()),
                })
            }
        };
        let found = if let Some(rest) = name.strip_prefix("Icmp6") {
            Counter::find(Section::Icmp6, rest)
        } else if let Some(rest) = name.strip_prefix("Udp6") {
            Counter::find(Section::Udp6, rest)
        } else {
            None
        };
        if let Some(counter) = found {
            let v = value(text).ok_or_else(|| bad_value(line, counter.key().to_owned(), text))?;
            out.set(counter, v);
        }
    }
    Ok(())
}

/// The traffic totals of one network interface, from `/proc/net/dev`.
///
/// # Examples
///
/// ```
/// use halfopen::counters::InterfaceCounters;
/// let lo = InterfaceCounters { name: "lo".into(), rx_bytes: 10, rx_packets: 1, tx_bytes: 10, tx_packets: 1 };
/// assert_eq!(lo.rx_bytes, lo.tx_bytes);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceCounters {
    /// The interface's name.
    pub name: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
}

/// The number of counter columns of a `/proc/net/dev` row.
const DEV_COLUMNS: usize = 16;
/// The names of the columns, receive side then transmit side.
const DEV_NAMES: [&str; DEV_COLUMNS] = [
    "rx_bytes",
    "rx_packets",
    "rx_errs",
    "rx_drop",
    "rx_fifo",
    "rx_frame",
    "rx_compressed",
    "rx_multicast",
    "tx_bytes",
    "tx_packets",
    "tx_errs",
    "tx_drop",
    "tx_fifo",
    "tx_colls",
    "tx_carrier",
    "tx_compressed",
];

/// Parses `/proc/net/dev` (two header lines, then `name: 16 counters` per
/// interface) and appends each interface's totals to `out`, in file order.
///
/// # Examples
///
/// ```
/// use halfopen::counters::parse_dev;
/// let text = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n\
///     lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0\n";
/// let mut out = Vec::new();
/// parse_dev(text, &mut out)?;
/// assert_eq!(out[0].name, "lo");
/// assert_eq!((out[0].rx_bytes, out[0].tx_packets), (3193, 29));
/// # Ok::<(), halfopen::counters::CounterParseError>(())
/// ```
pub fn parse_dev(text: &str, out: &mut Vec<InterfaceCounters>) -> Result<(), CounterParseError> {
    for (i, l) in text.lines().enumerate().skip(2) {
        let line = i as u64 + 1;
        if l.trim().is_empty() {
            continue;
        }
        let malformed = || CounterParseError::Malformed {
            line,
            expected: "`interface: 16 counters`",
            text: Snippet::new(l.as_bytes()),
        };
        let (name, rest) = l.split_once(':').ok_or_else(malformed)?;
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(malformed());
        }
        let mut values = [0u64; DEV_COLUMNS];
        let mut found = 0;
        for text in rest.split_ascii_whitespace() {
            if found == DEV_COLUMNS {
                return Err(malformed());
            }
            values[found] = value(text)
                .ok_or_else(|| bad_value(line, format!("{name} {}", DEV_NAMES[found]), text))?;
            found += 1;
        }
        if found != DEV_COLUMNS {
            return Err(malformed());
        }
        out.push(InterfaceCounters {
            name: name.to_owned(),
            rx_bytes: values[0],
            rx_packets: values[1],
            tx_bytes: values[8],
            tx_packets: values[9],
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_strict_decimals() {
        assert_eq!(value("0"), Some(0));
        assert_eq!(value("18446744073709551615"), Some(u64::MAX));
        assert_eq!(value("18446744073709551616"), None);
        assert_eq!(value("-1"), None);
        assert_eq!(value("+1"), None);
        assert_eq!(value(""), None);
    }

    #[test]
    fn pair_errors_name_line_and_section() {
        let mut out = PerCounter::default();
        let e = parse_snmp("Tcp: A B\nTcp: 1\n", &mut out).unwrap_err();
        assert_eq!(
            e,
            CounterParseError::ColumnMismatch {
                line: 2,
                section: "Tcp".into(),
                names: 2,
                values: 1
            }
        );
        let e = parse_snmp("Ip: A\nIp: 1\nTcp: OutRsts\n", &mut out).unwrap_err();
        assert_eq!(e.line(), 3);
        assert!(matches!(e, CounterParseError::MissingValues { .. }));
        let e = parse_snmp("Tcp: OutRsts\nUdp: 1\n", &mut out).unwrap_err();
        assert!(matches!(
            e,
            CounterParseError::MissingValues { line: 1, .. }
        ));
        let e = parse_snmp("garbage line\n", &mut out).unwrap_err();
        assert!(matches!(e, CounterParseError::Malformed { line: 1, .. }));
        let e = parse_netstat(
            "TcpExt: ListenDrops\nTcpExt: 99999999999999999999\n",
            &mut out,
        )
        .unwrap_err();
        assert_eq!(e.field(), Some("TcpExt.ListenDrops"));
    }

    #[test]
    fn unsampled_sections_may_hold_anything_numeric_or_not() {
        let mut out = PerCounter::default();
        parse_snmp("Tcp: MaxConn OutRsts\nTcp: -1 5\nX: a\nX: b\n", &mut out).unwrap();
        assert_eq!(out.iter().collect::<Vec<_>>(), [(Counter::TcpOutRsts, 5)]);
    }

    #[test]
    fn snmp6_and_dev_errors() {
        let mut out = PerCounter::default();
        let e = parse_snmp6("Icmp6InEchos 1 2\n", &mut out).unwrap_err();
        assert!(matches!(e, CounterParseError::Malformed { line: 1, .. }));
        let e = parse_snmp6("Ip6X 1\nIcmp6InEchos z\n", &mut out).unwrap_err();
        assert_eq!((e.line(), e.field()), (2, Some("Icmp6.InEchos")));

        let mut devs = Vec::new();
        let head = "h1\nh2\n";
        let e = parse_dev(&format!("{head}eth0: 1 2 3\n"), &mut devs).unwrap_err();
        assert!(matches!(e, CounterParseError::Malformed { line: 3, .. }));
        let row = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";
        let e = parse_dev(&format!("{head}eth0: {row} 17\n"), &mut devs).unwrap_err();
        assert!(matches!(e, CounterParseError::Malformed { line: 3, .. }));
        let e = parse_dev(&format!("{head}eth0 {row}\n"), &mut devs).unwrap_err();
        assert!(matches!(e, CounterParseError::Malformed { line: 3, .. }));
        let bad = row.replace(" 10 ", " x ");
        let e = parse_dev(&format!("{head}eth0: {bad}\n"), &mut devs).unwrap_err();
        assert_eq!(e.field(), Some("eth0 tx_packets"));
        parse_dev(&format!("{head}eth0: {row}\n"), &mut devs).unwrap();
        assert_eq!(
            devs,
            [InterfaceCounters {
                name: "eth0".into(),
                rx_bytes: 1,
                rx_packets: 2,
                tx_bytes: 9,
                tx_packets: 10
            }]
        );
    }
}
