//! One sample of a namespace's counters, read from its `net` directory.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::{CounterError, CounterParseError};
use super::names::PerCounter;
use super::parse::{parse_dev, parse_netstat, parse_snmp, parse_snmp6, InterfaceCounters};
use crate::procnet::NetNs;

/// The time since the first use of halfopen's monotonic clock in this
/// process; samples are stamped with it, so the time between two of them
/// never goes backwards nor jumps with the wall clock.
///
/// # Examples
///
/// ```
/// let a = halfopen::counters::monotonic();
/// let b = halfopen::counters::monotonic();
/// assert!(b >= a);
/// ```
pub fn monotonic() -> Duration {
    static ANCHOR: OnceLock<Instant> = OnceLock::new();
    ANCHOR.get_or_init(Instant::now).elapsed()
}

/// The `net` directory of a namespace: `/proc/thread-self/net` (the calling
/// thread's, which unlike `/proc/net` is right for a thread that entered
/// another namespace), `/proc/<pid>/net`, or a capture's directory.
///
/// # Examples
///
/// ```
/// use halfopen::counters::net_dir;
/// use halfopen::procnet::NetNs;
/// assert_eq!(net_dir(&NetNs::Pid(7)).to_str(), Some("/proc/7/net"));
/// ```
pub fn net_dir(ns: &NetNs) -> PathBuf {
    match ns {
        NetNs::Current => PathBuf::from("/proc/thread-self/net"),
        NetNs::Pid(pid) => PathBuf::from(format!("/proc/{pid}/net")),
        NetNs::Dir(dir) => dir.clone(),
    }
}

fn secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn from_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let secs = f64::deserialize(d)?;
    Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
}

/// The counters of one namespace at one moment.
///
/// Serializes as `{"monotonic_secs", "unix_ms", "counters": {key: value},
/// "interfaces": [...]}`.
///
/// # Examples
///
/// ```
/// use halfopen::counters::{Counter, Sample};
/// use std::time::Duration;
/// let mut s = Sample::empty(Duration::from_secs(1));
/// s.counters.set(Counter::SyncookiesSent, 40);
/// let json = serde_json::to_string(&s).unwrap();
/// assert!(json.contains("\"TcpExt.SyncookiesSent\":40"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When the sample was taken, on [`monotonic`]'s clock.
    #[serde(
        rename = "monotonic_secs",
        serialize_with = "secs",
        deserialize_with = "from_secs"
    )]
    pub at: Duration,
    /// When the sample was taken, in milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// The counters the kernel printed.
    pub counters: PerCounter<u64>,
    /// Each interface's traffic totals, in the kernel's order.
    pub interfaces: Vec<InterfaceCounters>,
}

impl Sample {
    /// A sample with no counters, stamped `at` (for tests and for building
    /// samples from elsewhere).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::Sample;
    /// let s = Sample::empty(std::time::Duration::ZERO);
    /// assert_eq!(s.counters.iter().count(), 0);
    /// ```
    pub fn empty(at: Duration) -> Sample {
        Sample {
            at,
            unix_ms: 0,
            counters: PerCounter::default(),
            interfaces: Vec::new(),
        }
    }

    /// The counters of the interface called `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::Sample;
    /// assert!(Sample::empty(Default::default()).interface("lo").is_none());
    /// ```
    pub fn interface(&self, name: &str) -> Option<&InterfaceCounters> {
        self.interfaces.iter().find(|i| i.name == name)
    }

    /// Parses a sample from the texts of the four files (`snmp6` may be
    /// absent, on a kernel without IPv6), stamped `at`. Errors name the
    /// file by its bare name (`snmp`).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::{Counter, Sample};
    /// let s = Sample::parse(
    ///     "TcpExt: ListenDrops\nTcpExt: 3\n",
    ///     "Tcp: OutRsts\nTcp: 2\n",
    ///     None,
    ///     "h\nh\n lo: 1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n",
    ///     Default::default(),
    /// ).unwrap();
    /// assert_eq!(s.counters.get(Counter::ListenDrops), Some(3));
    /// assert_eq!(s.interface("lo").unwrap().tx_packets, 4);
    /// ```
    pub fn parse(
        netstat: &str,
        snmp: &str,
        snmp6: Option<&str>,
        dev: &str,
        at: Duration,
    ) -> Result<Sample, CounterError> {
        fn named(name: &str, r: Result<(), CounterParseError>) -> Result<(), CounterError> {
            r.map_err(|source| CounterError::Parse {
                path: PathBuf::from(name),
                source,
            })
        }
        let mut s = Sample::empty(at);
        named("netstat", parse_netstat(netstat, &mut s.counters))?;
        named("snmp", parse_snmp(snmp, &mut s.counters))?;
        if let Some(text) = snmp6 {
            named("snmp6", parse_snmp6(text, &mut s.counters))?;
        }
        named("dev", parse_dev(dev, &mut s.interfaces))?;
        Ok(s)
    }
}

/// Reads samples of one namespace, reusing its buffers from one sample to
/// the next.
///
/// A sample reads four files of the namespace's `net` directory:
/// `netstat` (TcpExt), `snmp` (Tcp, Icmp, Udp), `snmp6` (Icmp6, Udp6;
/// absent without IPv6) and `dev` (per interface traffic).
///
/// # Examples
///
/// ```
/// use halfopen::counters::{Counter, SampleReader};
/// use halfopen::procnet::NetNs;
/// # if std::path::Path::new("/proc/net/snmp").exists() {
/// let mut reader = SampleReader::new(NetNs::Current);
/// let sample = reader.read()?;
/// assert!(sample.counters.get(Counter::TcpInSegs).is_some());
/// # }
/// # Ok::<(), halfopen::counters::CounterError>(())
/// ```
#[derive(Debug)]
pub struct SampleReader {
    dir: PathBuf,
    buf: String,
}

impl SampleReader {
    /// A reader of namespace `ns`.
    pub fn new(ns: NetNs) -> SampleReader {
        SampleReader {
            dir: net_dir(&ns),
            buf: String::with_capacity(16 * 1024),
        }
    }

    /// The `net` directory the reader reads.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads one sample now.
    pub fn read(&mut self) -> Result<Sample, CounterError> {
        let mut s = Sample::empty(Duration::ZERO);
        self.file("netstat", false, |t| parse_netstat(t, &mut s.counters))?;
        self.file("snmp", false, |t| parse_snmp(t, &mut s.counters))?;
        self.file("snmp6", true, |t| parse_snmp6(t, &mut s.counters))?;
        self.file("dev", false, |t| parse_dev(t, &mut s.interfaces))?;
        s.at = monotonic();
        s.unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Ok(s)
    }

    fn file(
        &mut self,
        name: &str,
        optional: bool,
        parse: impl FnOnce(&str) -> Result<(), CounterParseError>,
    ) -> Result<(), CounterError> {
        let path = self.dir.join(name);
        self.buf.clear();
        let read = File::open(&path).and_then(|mut f| f.read_to_string(&mut self.buf));
        match read {
            Ok(_) => {}
            Err(e) if optional && e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(CounterError::Io { path, source }),
        }
        parse(&self.buf).map_err(|source| CounterError::Parse { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::Counter;

    #[test]
    fn parse_errors_name_the_file() {
        let e = Sample::parse("", "Tcp: OutRsts\nTcp: x\n", None, "", Duration::ZERO).unwrap_err();
        assert_eq!(
            e.to_string(),
            "snmp: line 2: field Tcp.OutRsts: not a counter value: \"x\""
        );
    }

    #[test]
    fn reader_reads_a_directory_and_names_bad_files() {
        let dir = std::env::temp_dir().join(format!("ho-counters-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("netstat"), "TcpExt: ListenDrops\nTcpExt: 5\n").unwrap();
        std::fs::write(dir.join("snmp"), "Tcp: OutRsts\nTcp: 6\n").unwrap();
        std::fs::write(dir.join("dev"), "h\nh\n").unwrap();
        let mut r = SampleReader::new(NetNs::Dir(dir.clone()));
        let s = r.read().unwrap();
        assert_eq!(s.counters.get(Counter::ListenDrops), Some(5));
        assert_eq!(s.counters.get(Counter::TcpOutRsts), Some(6));
        assert_eq!(s.counters.get(Counter::Icmp6InEchos), None);
        std::fs::write(dir.join("snmp6"), "Icmp6InEchos\n").unwrap();
        let e = r.read().unwrap_err();
        let text = e.to_string();
        assert!(text.contains("snmp6: line 1: expected"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
