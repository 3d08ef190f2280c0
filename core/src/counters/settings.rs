//! The kernel settings that decide what the half-open table can show, and
//! each listener's queues.
//!
//! The settings are sysctls under `/proc/sys/net`. That directory shows the
//! network namespace of the thread reading it, not of a path: for another
//! process's namespace ([`NetNs::Pid`]) they are read on a short-lived
//! thread that first enters that namespace ([`crate::netns::run_in`], which
//! needs `CAP_SYS_ADMIN`), unless the process already shares the caller's.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::CounterError;
use crate::procnet::{read_live, NetNs, ReadError, Snippet, TcpEntry, TcpState};

/// The sysctls that decide what the half-open table can show. Each is
/// absent when the kernel does not have it.
///
/// # Examples
///
/// ```
/// use halfopen::counters::Settings;
/// let s = Settings { tcp_syncookies: Some(0), ..Settings::default() };
/// assert!(s.notes().iter().any(|n| n.text.contains("SYN cookies are off")));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// `net.ipv4.tcp_syncookies`: 0 off, 1 when a SYN queue overflows, 2 always.
    pub tcp_syncookies: Option<u32>,
    /// `net.ipv4.tcp_max_syn_backlog`.
    pub tcp_max_syn_backlog: Option<u32>,
    /// `net.core.somaxconn`: the cap on every listen() backlog.
    pub somaxconn: Option<u32>,
    /// `net.ipv4.tcp_synack_retries`.
    pub tcp_synack_retries: Option<u32>,
}

/// A setting and what its value means for the half-open table.
///
/// # Examples
///
/// ```
/// use halfopen::counters::Settings;
/// let s = Settings { tcp_synack_retries: Some(5), ..Settings::default() };
/// let n = &s.notes()[0];
/// assert_eq!(n.setting, "net.ipv4.tcp_synack_retries");
/// assert!(n.text.contains("63 s"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingNote {
    /// The sysctl's dotted name.
    pub setting: String,
    /// Its value.
    pub value: u32,
    /// What the value means.
    pub text: String,
}

const SYSCTLS: [(&str, &str); 4] = [
    ("net.ipv4.tcp_syncookies", "ipv4/tcp_syncookies"),
    ("net.ipv4.tcp_max_syn_backlog", "ipv4/tcp_max_syn_backlog"),
    ("net.core.somaxconn", "core/somaxconn"),
    ("net.ipv4.tcp_synack_retries", "ipv4/tcp_synack_retries"),
];

impl Settings {
    /// Reads the settings of namespace `ns`: the caller's own from
    /// `/proc/sys/net`; another process's by entering its namespace on a
    /// thread (see the module docs). A [`NetNs::Dir`] capture has no
    /// settings: use [`Settings::read_dir`] with its `sys/net` copy.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::Settings;
    /// use halfopen::procnet::NetNs;
    /// # if std::path::Path::new("/proc/sys/net/core/somaxconn").exists() {
    /// let s = Settings::read(&NetNs::Current)?.unwrap();
    /// assert!(s.somaxconn.is_some());
    /// # }
    /// # Ok::<(), halfopen::counters::CounterError>(())
    /// ```
    pub fn read(ns: &NetNs) -> Result<Option<Settings>, CounterError> {
        match ns {
            NetNs::Current => Settings::read_dir("/proc/sys/net").map(Some),
            NetNs::Pid(pid) => read_in_netns(*pid).map(Some),
            NetNs::Dir(_) => Ok(None),
        }
    }

    /// Reads the settings from a directory laid out like `/proc/sys/net`
    /// (the reading thread's namespace when it is `/proc/sys/net`).
    /// A missing sysctl stays absent.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::Settings;
    /// let s = Settings::read_dir("/nonexistent")?;
    /// assert_eq!(s, Settings::default());
    /// # Ok::<(), halfopen::counters::CounterError>(())
    /// ```
    pub fn read_dir(dir: impl AsRef<Path>) -> Result<Settings, CounterError> {
        let dir = dir.as_ref();
        let mut values = [None; 4];
        for (slot, (_, file)) in values.iter_mut().zip(SYSCTLS) {
            *slot = read_sysctl(&dir.join(file))?;
        }
        let [tcp_syncookies, tcp_max_syn_backlog, somaxconn, tcp_synack_retries] = values;
        Ok(Settings {
            tcp_syncookies,
            tcp_max_syn_backlog,
            somaxconn,
            tcp_synack_retries,
        })
    }

    /// True when SYN cookies are off (`tcp_syncookies` = 0).
    pub fn cookies_off(&self) -> bool {
        self.tcp_syncookies == Some(0)
    }

    /// What each present setting means for the half-open table.
    pub fn notes(&self) -> Vec<SettingNote> {
        let mut notes = Vec::new();
        if let Some(v) = self.tcp_syncookies {
            let text = match v {
                0 => "SYN cookies are off: once a listener's SYN queue is full new SYNs are \
                      dropped (TcpExt.TCPReqQFullDrop, ListenDrops) and the table stops growing \
                      at the backlog, so it undercounts a flood larger than that"
                    .to_owned(),
                1 => "SYN cookies are on when a SYN queue overflows: past a full queue the \
                      kernel answers with a cookie and keeps no half-open entry, so the table \
                      undercounts; TcpExt.SyncookiesSent counts what it misses"
                    .to_owned(),
                2 => "SYN cookies are always on: every SYN is answered with a cookie and none \
                      leaves a half-open entry, so the table shows no SYN flood at all; watch \
                      TcpExt.SyncookiesSent"
                    .to_owned(),
                other => format!("unknown value {other}"),
            };
            notes.push(SettingNote {
                setting: SYSCTLS[0].0.to_owned(),
                value: v,
                text,
            });
        }
        if let Some(v) = self.tcp_max_syn_backlog {
            notes.push(SettingNote {
                setting: SYSCTLS[1].0.to_owned(),
                value: v,
                text: format!(
                    "with SYN cookies off a listener drops SYNs from unproven peers once its SYN \
                     queue holds more than {} entries (three quarters of {v})",
                    v - v / 4
                ),
            });
        }
        if let Some(v) = self.somaxconn {
            notes.push(SettingNote {
                setting: SYSCTLS[2].0.to_owned(),
                value: v,
                text: format!(
                    "listen() backlogs are capped at {v}; a listener's SYN queue and accept \
                     queue each hold at most its backlog"
                ),
            });
        }
        if let Some(v) = self.tcp_synack_retries {
            let life = (1u64 << (v.min(32) + 1)) - 1;
            notes.push(SettingNote {
                setting: SYSCTLS[3].0.to_owned(),
                value: v,
                text: format!(
                    "a half-open entry lives about {life} s ({v} SYN-ACK retries, backing off \
                     from 1 s), so one table sample holds the SYNs of the last {life} s"
                ),
            });
        }
        notes
    }
}

fn read_sysctl(path: &Path) -> Result<Option<u32>, CounterError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CounterError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| CounterError::BadSetting {
            path: path.to_owned(),
            text: Snippet::new(text.trim().as_bytes()),
        })
}

/// Reads `/proc/sys/net` as seen from the network namespace of `pid`.
fn read_in_netns(pid: u32) -> Result<Settings, CounterError> {
    use std::os::unix::fs::MetadataExt;
    let ns_path = PathBuf::from(format!("/proc/{pid}/ns/net"));
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| CounterError::Io { path, source }
    };
    let theirs = fs::metadata(&ns_path).map_err(|source| CounterError::Netns {
        pid,
        source: crate::netns::NetnsError::Open {
            path: ns_path.clone(),
            source,
        },
    })?;
    let own_path = Path::new("/proc/thread-self/ns/net");
    let ours = fs::metadata(own_path).map_err(io_err(own_path))?;
    if (theirs.dev(), theirs.ino()) == (ours.dev(), ours.ino()) {
        return Settings::read_dir("/proc/sys/net");
    }
    crate::netns::run_in(&ns_path, || Settings::read_dir("/proc/sys/net"))
        .map_err(|source| CounterError::Netns { pid, source })?
}

/// A listener and its queues. The TCP tables show the accept queue's
/// length (a listener's `rx_queue`) and the SYN queue (the half-open
/// entries for the listener's port); the backlog that bounds both
/// (`min(listen() backlog, somaxconn)`) is not in `/proc` and comes from
/// netlink sock_diag ([`listener_backlogs`](super::listener_backlogs)),
/// absent where that is unavailable.
///
/// # Examples
///
/// ```
/// use halfopen::counters::ListenerQueue;
/// let q = ListenerQueue { local: "0.0.0.0:80".parse().unwrap(), backlog: Some(8), accept_queue: 0, half_open: 8 };
/// assert!(q.syn_queue_full());
/// assert!(!q.accept_queue_full());
/// let unknown = ListenerQueue { backlog: None, ..q };
/// assert!(!unknown.syn_queue_full());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerQueue {
    /// The listener's local address.
    pub local: SocketAddr,
    /// Its backlog, the bound of both its queues, when known.
    pub backlog: Option<u32>,
    /// Connections waiting to be accepted.
    pub accept_queue: u32,
    /// Half-open entries in the table for this listener.
    pub half_open: u32,
}

impl ListenerQueue {
    /// True when the half-open entries reach the backlog: new SYNs get a
    /// cookie (and no entry) or are dropped.
    /// False when the backlog is unknown.
    pub fn syn_queue_full(&self) -> bool {
        self.backlog.is_some_and(|b| self.half_open >= b.max(1))
    }

    /// True when the accept queue reaches the backlog: completed handshakes
    /// are dropped (TcpExt.ListenOverflows).
    /// False when the backlog is unknown.
    pub fn accept_queue_full(&self) -> bool {
        self.backlog.is_some_and(|b| self.accept_queue >= b.max(1))
    }
}

/// Collects listeners and their queues from table rows.
///
/// Each half-open entry counts for the listener on its local port whose
/// address matches: the same address first, else a wildcard listener of
/// the same family, else one of the other family (a dual-stack listener).
///
/// # Examples
///
/// ```
/// use halfopen::counters::ListenerQueues;
/// use halfopen::procnet::{parse_table, Family};
/// let table = b"\
///    0: 00000000:0050 00000000:0000 0A 00000000:00000001 00:00000000 00000000 0 0 9 1\n\
///    1: 0100000A:0050 020012C6:1234 03 00000000:00000000 01:00000064 00000000 0 0 0\n";
/// let mut q = ListenerQueues::default();
/// for e in parse_table(table, Some(Family::V4)) {
///     q.add(&e.unwrap());
/// }
/// let v = q.finish();
/// assert_eq!((v[0].backlog, v[0].accept_queue, v[0].half_open), (None, 1, 1));
/// ```
#[derive(Debug, Default, Clone)]
pub struct ListenerQueues {
    listeners: Vec<ListenerQueue>,
    half_open: HashMap<SocketAddr, u32>,
}

impl ListenerQueues {
    /// Adds one table row.
    pub fn add(&mut self, e: &TcpEntry<'_>) {
        if e.state == TcpState::Listen {
            self.listeners.push(ListenerQueue {
                local: e.local,
                backlog: None,
                accept_queue: e.rx_queue,
                half_open: 0,
            });
        } else if e.state.is_half_open() {
            *self.half_open.entry(e.local).or_default() += 1;
        }
    }

    /// The listeners with their half-open counts and the backlogs found in
    /// `backlogs` (by local address), sorted by address.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::counters::ListenerQueues;
    /// use halfopen::procnet::{parse_line, Family};
    /// let l = parse_line(b"0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 9 1\n", Family::V4).unwrap();
    /// let mut q = ListenerQueues::default();
    /// q.add(&l);
    /// let backlogs = [("0.0.0.0:80".parse().unwrap(), 511)].into_iter().collect();
    /// assert_eq!(q.finish_with_backlogs(&backlogs)[0].backlog, Some(511));
    /// ```
    pub fn finish_with_backlogs(self, backlogs: &HashMap<SocketAddr, u32>) -> Vec<ListenerQueue> {
        let mut v = self.finish();
        for l in &mut v {
            l.backlog = backlogs.get(&l.local).copied();
        }
        v
    }

    /// The listeners with their half-open counts, sorted by address; their
    /// backlogs unknown.
    pub fn finish(mut self) -> Vec<ListenerQueue> {
        self.listeners.sort_by_key(|l| l.local);
        for (local, n) in self.half_open {
            let rank = |l: &ListenerQueue| {
                if l.local.port() != local.port() {
                    None
                } else if l.local.ip() == local.ip() {
                    Some(0)
                } else if l.local.ip().is_unspecified() && same_family(l.local.ip(), local.ip()) {
                    Some(1)
                } else if l.local.ip().is_unspecified() {
                    Some(2)
                } else {
                    None
                }
            };
            let best = self
                .listeners
                .iter_mut()
                .filter_map(|l| rank(l).map(|r| (r, l)))
                .min_by_key(|(r, _)| *r);
            if let Some((_, l)) = best {
                l.half_open = l.half_open.saturating_add(n);
            }
        }
        self.listeners
    }
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// Reads both TCP tables of `ns` and returns its listeners' queues, with
/// their backlogs from netlink sock_diag (unknown where that is
/// unavailable, say without the rights to enter the namespace).
///
/// # Examples
///
/// ```
/// use halfopen::counters::read_listener_queues;
/// use halfopen::procnet::NetNs;
/// # if std::path::Path::new("/proc/net/tcp").exists() {
/// for q in read_listener_queues(&NetNs::Current)? {
///     assert!(q.local.port() != 0);
/// }
/// # }
/// # Ok::<(), halfopen::procnet::ReadError>(())
/// ```
pub fn read_listener_queues(ns: &NetNs) -> Result<Vec<ListenerQueue>, ReadError> {
    let mut q = ListenerQueues::default();
    read_live(ns, |e| q.add(&e))?;
    let backlogs = super::backlog::listener_backlogs(ns).unwrap_or_default();
    Ok(q.finish_with_backlogs(&backlogs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procnet::{parse_table, Family};

    #[test]
    fn half_open_entries_go_to_the_most_specific_listener() {
        let v4 = b"\
   0: 00000000:0050 00000000:0000 0A 00000000:00000004 00:00000000 00000000 0 0 9 1\n\
   1: 0100000A:0050 00000000:0000 0A 00000000:00000002 00:00000000 00000000 0 0 9 1\n\
   2: 0100000A:0050 020012C6:1234 03 00000000:00000000 01:00000064 00000000 0 0 0\n\
   3: 0200000A:0050 020012C6:1235 03 00000000:00000000 01:00000064 00000000 0 0 0\n\
   4: 0200000A:0051 020012C6:1235 03 00000000:00000000 01:00000064 00000000 0 0 0\n";
        let v6 = b"\
   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000003 00:00000000 00000000 0 0 9 1\n\
   1: 0000000000000000FFFF00000300000A:01BB 0000000000000000FFFF0000030012C6:1234 03 00000000:00000000 01:00000064 00000000 0 0 0\n\
   2: 0000000000000000FFFF00000300000A:01BB 0000000000000000FFFF0000040012C6:1234 03 00000000:00000000 01:00000064 00000000 0 0 0\n";
        let mut q = ListenerQueues::default();
        for e in parse_table(v4, Some(Family::V4)).chain(parse_table(v6, Some(Family::V6))) {
            q.add(&e.unwrap());
        }
        let v = q.finish();
        let got: Vec<_> = v
            .iter()
            .map(|l| (l.local.to_string(), l.accept_queue, l.half_open))
            .collect();
        assert_eq!(
            got,
            [
                ("0.0.0.0:80".to_string(), 4, 1),
                ("10.0.0.1:80".to_string(), 2, 1),
                ("[::]:443".to_string(), 3, 2),
            ]
        );
        assert!(!v[0].syn_queue_full());
        assert!(ListenerQueue {
            half_open: 1,
            backlog: Some(0),
            ..v[0].clone()
        }
        .syn_queue_full());
    }

    #[test]
    fn notes_explain_each_value() {
        for (cookies, phrase) in [(0, "off"), (1, "overflows"), (2, "always"), (7, "unknown")] {
            let s = Settings {
                tcp_syncookies: Some(cookies),
                tcp_max_syn_backlog: Some(128),
                somaxconn: Some(4096),
                tcp_synack_retries: Some(2),
            };
            let notes = s.notes();
            assert_eq!(notes.len(), 4);
            assert!(notes[0].text.contains(phrase), "{}", notes[0].text);
            assert!(notes[1].text.contains("more than 96 entries"));
            assert!(notes[2].text.contains("capped at 4096"));
            assert!(notes[3].text.contains("about 7 s"));
        }
        assert!(Settings::default().notes().is_empty());
    }

    #[test]
    fn bad_sysctl_is_a_typed_error() {
        let dir = std::env::temp_dir().join(format!("ho-sysctl-{}", std::process::id()));
        fs::create_dir_all(dir.join("core")).unwrap();
        fs::write(dir.join("core/somaxconn"), "lots\n").unwrap();
        let e = Settings::read_dir(&dir).unwrap_err();
        assert!(matches!(e, CounterError::BadSetting { .. }), "{e}");
        fs::write(dir.join("core/somaxconn"), "4096\n").unwrap();
        let s = Settings::read_dir(&dir).unwrap();
        assert_eq!(s.somaxconn, Some(4096));
        assert_eq!(s.tcp_syncookies, None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_namespace_that_cannot_be_entered_is_a_netns_error() {
        let e = Settings::read(&NetNs::Pid(u32::MAX)).unwrap_err();
        match &e {
            CounterError::Netns { pid, source } => {
                assert_eq!(*pid, u32::MAX);
                assert_eq!(source.io_error().kind(), io::ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            e.to_string().starts_with("settings of pid 4294967295: "),
            "{e}"
        );
    }

    #[test]
    fn own_pid_reads_own_settings_without_setns() {
        if !Path::new("/proc/sys/net/core/somaxconn").exists() {
            return;
        }
        let own = Settings::read(&NetNs::Current).unwrap().unwrap();
        let by_pid = Settings::read(&NetNs::Pid(std::process::id()))
            .unwrap()
            .unwrap();
        assert_eq!(own, by_pid);
        assert_eq!(
            own.somaxconn,
            Some(
                fs::read_to_string("/proc/sys/net/core/somaxconn")
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap()
            )
        );
    }
}
