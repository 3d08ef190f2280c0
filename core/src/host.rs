//! The host's own addresses, for the allowlist: IPv4 from
//! `/proc/net/fib_trie` (the kernel's local routes), IPv6 from
//! `/proc/net/if_inet6`. Core never reads them on its own; callers (the
//! command line, the C ABI) decide whether to add them with
//! [`crate::verdict::Config::with_allowed`].

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// The IPv4 addresses the kernel delivers locally, from the text of
/// `/proc/net/fib_trie`: every address followed by a `/32 host LOCAL` line.
/// Sorted, without repeats.
///
/// # Examples
///
/// ```
/// use halfopen::host::parse_fib_trie;
/// let text = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 198.18.0.1\n        /32 host LOCAL\n     |-- 198.18.0.255\n        /32 link BROADCAST\n";
/// assert_eq!(parse_fib_trie(text), ["198.18.0.1".parse::<std::net::Ipv4Addr>().unwrap()]);
/// ```
pub fn parse_fib_trie(text: &str) -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("|-- ") {
            last = rest.trim().parse().ok();
        } else if t.starts_with("/32 host LOCAL") {
            if let Some(a) = last {
                out.push(a);
            }
        } else if !t.starts_with('/') {
            last = None;
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The IPv6 addresses of the text of `/proc/net/if_inet6` (one address per
/// line, 32 hex digits first). Lines that do not start with 32 hex digits are
/// skipped. Sorted, without repeats.
///
/// # Examples
///
/// ```
/// use halfopen::host::parse_if_inet6;
/// let text = "20010db8000000000000000000000001 02 40 00 80     eth0\n00000000000000000000000000000001 01 80 10 80       lo\n";
/// let got: Vec<String> = parse_if_inet6(text).iter().map(|a| a.to_string()).collect();
/// assert_eq!(got, ["::1", "2001:db8::1"]);
/// ```
pub fn parse_if_inet6(text: &str) -> Vec<Ipv6Addr> {
    let mut out: Vec<Ipv6Addr> = text
        .lines()
        .filter_map(|l| l.split_ascii_whitespace().next())
        .filter(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .filter_map(|h| u128::from_str_radix(h, 16).ok())
        .map(Ipv6Addr::from)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The addresses of this host's current network namespace, both families,
/// read from `dir` (normally `/proc/net`). A missing file (a kernel without
/// IPv6) counts as no address.
///
/// # Examples
///
/// ```
/// use halfopen::host::host_addresses;
/// # if std::path::Path::new("/proc/net/fib_trie").exists() {
/// let mine = host_addresses("/proc/net")?;
/// assert!(mine.contains(&"127.0.0.1".parse().unwrap()));
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn host_addresses(dir: impl AsRef<Path>) -> io::Result<Vec<IpAddr>> {
    let dir = dir.as_ref();
    let read = |name: &str| match std::fs::read_to_string(dir.join(name)) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    };
    let mut out: Vec<IpAddr> = parse_fib_trie(&read("fib_trie")?)
        .into_iter()
        .map(IpAddr::V4)
        .collect();
    out.extend(
        parse_if_inet6(&read("if_inet6")?)
            .into_iter()
            .map(IpAddr::V6),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fib_trie_of_two_tables_and_broadcasts() {
        let text = "\
Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     |-- 198.18.0.2
        /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 127.0.0.1
        /32 host LOCAL
";
        let got: Vec<String> = parse_fib_trie(text).iter().map(|a| a.to_string()).collect();
        assert_eq!(got, ["127.0.0.1", "198.18.0.2"]);
    }

    #[test]
    fn garbage_yields_nothing() {
        assert!(parse_fib_trie("|-- not-an-address\n/32 host LOCAL\n").is_empty());
        assert!(parse_if_inet6("zz\n0123\n").is_empty());
    }

    #[test]
    fn a_signed_word_is_not_an_address() {
        // 32 characters, but a sign and 31 hex digits: no address.
        let text = "+0000000000000000000000000000001 01 80 10 80 lo\n";
        assert!(parse_if_inet6(text).is_empty());
    }

    #[test]
    fn live_host_has_loopback() {
        if !Path::new("/proc/net/fib_trie").exists() {
            eprintln!("skipped: no /proc/net/fib_trie");
            return;
        }
        let mine = host_addresses("/proc/net").unwrap();
        assert!(mine.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }
}
