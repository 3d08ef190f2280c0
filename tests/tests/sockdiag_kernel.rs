//! The netlink sock_diag source against the `/proc` text of the same
//! namespace, under a real flood of spoofed SYNs: both must describe the
//! same sockets with the same fields.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use halfopen::live::{self, LiveError, Namespace, Options, Origin, Source};
use halfopen::netns::NetnsError;
use halfopen::procnet::{Family, TcpEntry, TcpState};
use halfopen::report::Report;
use halfopen::snapshot::Snapshot;
use halfopen::sockdiag::{self, StateSet};
use halfopen::verdict::{Config, Verdict};
use halfopen_tests::{
    as_user, connect_clients, listen, require_root, spoofed_sources, wait_until, without_netlink,
    Lab, LabConfig, SynSender,
};

type Key = (SocketAddr, SocketAddr);
type Table = BTreeMap<Key, TcpEntry<'static>>;

/// A snapshot keyed by (remote, local); fails on a duplicate socket.
fn table(opts: &Options, want: Origin) -> Table {
    let (entries, summary) = live::snapshot(opts).unwrap();
    assert_eq!(summary.origin, want, "fallback: {:?}", summary.fallback);
    assert_eq!(summary.entries as usize, entries.len());
    let mut out = Table::new();
    for e in entries {
        assert!(
            out.insert((e.remote, e.local), e).is_none(),
            "duplicate {e:?}"
        );
    }
    out
}

/// Asserts that `proc` (read between `before` and `after`, both netlink)
/// agrees with netlink on every socket that did not change between the two
/// netlink reads. Returns how many sockets were compared.
fn agree(before: &Table, proc: &Table, after: &Table) -> usize {
    let stable = |k: &Key| match (before.get(k), after.get(k)) {
        (Some(a), Some(b)) => {
            a.state == b.state && a.retransmits == b.retransmits && a.timer == b.timer
        }
        _ => false,
    };
    for k in before.keys().chain(proc.keys()).chain(after.keys()) {
        if stable(k) {
            assert!(proc.contains_key(k), "netlink has {k:?}, /proc does not");
        }
    }
    let mut compared = 0;
    for (k, p) in proc {
        if !stable(k) {
            continue;
        }
        let (a, b) = (&before[k], &after[k]);
        compared += 1;
        // Every field but the row number and the ticking timer is equal.
        let same = |e: &TcpEntry<'static>| TcpEntry {
            slot: 0,
            timer_expires: 0,
            ..*e
        };
        assert_eq!(same(p), same(a), "{k:?}");
        assert_eq!(same(p), same(b), "{k:?}");
        // The timer counts down: /proc's reading lies between the two
        // netlink readings (one tick of rounding either way).
        assert!(
            p.timer_expires <= a.timer_expires + 1 && p.timer_expires + 1 >= b.timer_expires,
            "{k:?}: timer {} (proc) outside [{}, {}] (netlink)",
            p.timer_expires,
            b.timer_expires,
            a.timer_expires
        );
    }
    compared
}

/// Sends `n` spoofed SYNs to `server`, paced so that a busy machine's
/// receive backlog does not drop any; returns their sources.
fn flood(lab: &Lab, family: Family, server: SocketAddr, start: u64, n: u64) -> Vec<SocketAddr> {
    let sources: Vec<(IpAddr, u16)> = spoofed_sources(family, start, n).collect();
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(5_000);
    assert_eq!(syn.send(sources.iter().copied(), server).unwrap(), n);
    sources
        .into_iter()
        .map(|(ip, port)| SocketAddr::new(ip, port))
        .collect()
}

#[test]
fn netlink_and_proc_agree_during_a_flood() {
    if !require_root("netlink_and_proc_agree_during_a_flood") {
        return;
    }
    let lab = Lab::new("sd", &LabConfig::default()).unwrap();
    let (s4, s6) = (Lab::server_addr_v4(80), Lab::server_addr_v6(443));
    let _l4 = listen(&lab.server, s4, 8192).unwrap();
    let _l6 = listen(&lab.server, s6, 8192).unwrap();
    let (n4, n6) = (3000u64, 2000u64);
    let mut spoofed = flood(&lab, Family::V4, s4, 7, n4);
    spoofed.extend(flood(&lab, Family::V6, s6, 11, n6));
    let _clients4 = connect_clients(&lab.client, s4, 4).unwrap();
    let _clients6 = connect_clients(&lab.client, s6, 3).unwrap();

    let ns = Namespace::Path(lab.server.path());
    let half_open = Options::new()
        .namespace(ns.clone())
        .states(StateSet::HALF_OPEN);
    let netlink = half_open.clone().source(Source::Netlink);
    let proc = half_open.clone().source(Source::Proc);
    assert!(
        wait_until(Duration::from_secs(10), || {
            table(&proc, Origin::Proc).len() as u64 == n4 + n6
        }),
        "the flood did not fill the table"
    );

    // SYN-ACK retransmits (after 1, 3, 7, 15 s) change the entries; read
    // again until most of them stayed put across the three reads.
    let mut before = Table::new();
    let mut compared = 0;
    let mostly_stable = wait_until(Duration::from_secs(30), || {
        before = table(&netlink, Origin::Netlink);
        let from_proc = table(&proc, Origin::Proc);
        let after = table(&netlink, Origin::Netlink);
        compared = agree(&before, &from_proc, &after);
        compared as u64 >= (n4 + n6) * 9 / 10
    });
    assert!(mostly_stable, "only {compared} stable sockets");

    // Every spoofed source is there, half-open, towards its listener.
    let mut remotes: Vec<SocketAddr> = before.keys().map(|(r, _)| *r).collect();
    remotes.sort();
    spoofed.sort();
    assert_eq!(remotes, spoofed);
    for ((remote, local), e) in &before {
        assert_eq!(e.state, TcpState::SynRecv);
        assert!(e.is_request());
        assert_eq!(*local, if remote.is_ipv4() { s4 } else { s6 });
        // The SYN-ACK timer: at most a minute away (0 when it is due).
        assert_eq!(e.timer, halfopen::procnet::TimerKind::Retransmit, "{e:?}");
        assert!(e.timer_expires <= 6000, "{e:?}");
    }

    // The per-family requests (inet_diag_req_v2) find the same sockets as
    // the one-walk request live reads use.
    let mut diag = lab.server.run(sockdiag::SockDiag::open).unwrap();
    let mut per_family = Vec::new();
    for family in Family::BOTH {
        diag.dump(family, StateSet::HALF_OPEN, |e| {
            assert_eq!(e.family(), family);
            per_family.push((e.remote, e.local));
        })
        .unwrap();
    }
    per_family.sort();
    assert_eq!(per_family, before.keys().copied().collect::<Vec<_>>());

    // Auto picks netlink; the holder pid names the same namespace.
    let auto = half_open
        .clone()
        .namespace(Namespace::Pid(lab.server.holder_pid()));
    let by_pid = table(&auto, Origin::Netlink);
    assert_eq!(
        by_pid.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );

    // Every state: the listeners and the real clients' connections too.
    let all = Options::new().namespace(ns);
    let before = table(&all.clone().source(Source::Netlink), Origin::Netlink);
    let from_proc = table(&all.clone().source(Source::Proc), Origin::Proc);
    let after = table(&all.clone().source(Source::Netlink), Origin::Netlink);
    agree(&before, &from_proc, &after);
    let count = |t: &Table, s: TcpState| t.values().filter(|e| e.state == s).count();
    assert_eq!(count(&before, TcpState::Listen), 2);
    assert_eq!(count(&before, TcpState::Established), 4 + 3);
    // Listeners have files; connections not yet accepted do not.
    for e in before.values() {
        match e.state {
            TcpState::Listen => assert_ne!(e.inode, 0, "{e:?}"),
            TcpState::Established => assert_eq!(e.inode, 0, "{e:?}"),
            _ => {}
        }
    }

    // The reports of both sources give the same verdicts.
    let report = |opts: &Options| {
        let (snapshot, summary) = Snapshot::read(opts).unwrap();
        Report::build(&snapshot, &Config::default())
            .unwrap()
            .with_source(summary.origin)
    };
    let verdicts = |r: &Report| {
        r.prefixes
            .iter()
            .map(|p| (p.prefix, p.verdict, p.half_open))
            .collect::<Vec<_>>()
    };
    let first = report(&all.clone().source(Source::Netlink));
    let middle = report(&all.clone().source(Source::Proc));
    let last = report(&all.clone().source(Source::Netlink));
    assert!(
        verdicts(&middle) == verdicts(&first) || verdicts(&middle) == verdicts(&last),
        "/proc: {:?}\nnetlink: {:?}",
        verdicts(&middle),
        verdicts(&first)
    );
    assert_eq!(middle.half_open, n4 + n6);
    for family in [4, 6] {
        assert!(
            first.prefixes.iter().any(
                |p| p.verdict == Verdict::Block && (p.prefix.addr().is_ipv4() == (family == 4))
            ),
            "no IPv{family} block: {:?}",
            verdicts(&first)
        );
    }
    assert_eq!(first.source, Some(Origin::Netlink));
    assert_eq!(middle.source, Some(Origin::Proc));
    assert!(middle.to_json().contains(r#""source":"proc""#));
}

#[test]
fn the_kernel_filters_by_state() {
    if !require_root("the_kernel_filters_by_state") {
        return;
    }
    let lab = Lab::new("sf", &LabConfig::default()).unwrap();
    let s4 = Lab::server_addr_v4(25);
    let _l = listen(&lab.server, s4, 1024).unwrap();
    flood(&lab, Family::V4, s4, 0, 200);
    let _clients = connect_clients(&lab.client, s4, 5).unwrap();
    let ns = Namespace::named(lab.server.name());
    assert!(wait_until(Duration::from_secs(10), || {
        lab.server.count(Family::V4, TcpState::SynRecv).unwrap() == 200
    }));
    for (states, want) in [
        (StateSet::HALF_OPEN, 200),
        (StateSet::of(&[TcpState::Listen]), 1),
        (StateSet::of(&[TcpState::Established]), 5),
        (StateSet::of(&[TcpState::Established, TcpState::Listen]), 6),
        (StateSet::EMPTY, 0),
        (StateSet::ALL, 206),
    ] {
        for source in [Source::Netlink, Source::Proc] {
            let opts = Options::new()
                .namespace(ns.clone())
                .states(states)
                .source(source);
            let mut n = 0;
            live::read(&opts, |e| {
                assert!(states.admits(e.state), "{source:?} {states:?}: {e:?}");
                n += 1;
            })
            .unwrap();
            assert_eq!(n, want, "{source:?} {states:?}");
        }
    }
}

#[test]
fn the_callers_thread_stays_in_its_namespace() {
    if !require_root("the_callers_thread_stays_in_its_namespace") {
        return;
    }
    let lab = Lab::new("st", &LabConfig::default()).unwrap();
    let mine = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
    let _l = listen(&lab.server, Lab::server_addr_v6(22), 16).unwrap();
    for source in [Source::Netlink, Source::Proc] {
        let opts = Options::new()
            .namespace(Namespace::Path(lab.server.path()))
            .source(source);
        let (entries, _) = live::snapshot(&opts).unwrap();
        assert_eq!(entries.len(), 1, "{source:?}");
        assert_eq!(entries[0].local, Lab::server_addr_v6(22));
        assert_eq!(
            std::fs::read_link("/proc/thread-self/ns/net").unwrap(),
            mine
        );
    }
}

#[test]
fn auto_falls_back_to_proc_where_netlink_is_forbidden() {
    if !require_root("auto_falls_back_to_proc_where_netlink_is_forbidden") {
        return;
    }
    let lab = Lab::new("sb", &LabConfig::default()).unwrap();
    let s4 = Lab::server_addr_v4(443);
    let _l = listen(&lab.server, s4, 1024).unwrap();
    flood(&lab, Family::V4, s4, 0, 300);
    assert!(wait_until(Duration::from_secs(10), || {
        lab.server.count(Family::V4, TcpState::SynRecv).unwrap() == 300
    }));
    let half_open = Options::new()
        .namespace(Namespace::Path(lab.server.path()))
        .states(StateSet::HALF_OPEN);
    for errno in [libc::EAFNOSUPPORT, libc::EPROTONOSUPPORT, libc::EACCES] {
        let (auto, strict) = without_netlink(errno, || {
            (
                live::snapshot(&half_open),
                live::read(&half_open.clone().source(Source::Netlink), |_| {}),
            )
        })
        .unwrap();
        let (entries, summary) = auto.unwrap();
        assert_eq!(summary.origin, Origin::Proc);
        assert_eq!(entries.len(), 300);
        match summary.fallback {
            Some(LiveError::Netlink(sockdiag::Error::Open { source })) => {
                assert_eq!(source.raw_os_error(), Some(errno))
            }
            other => panic!("fallback {other:?}"),
        }
        let err = strict.unwrap_err();
        assert!(
            matches!(&err, LiveError::Netlink(e) if e.is_unavailable()),
            "{err}"
        );
        assert_eq!(err.is_permission_denied(), errno == libc::EACCES);
    }
}

#[test]
fn entering_a_namespace_without_privilege_is_a_typed_error() {
    if !require_root("entering_a_namespace_without_privilege_is_a_typed_error") {
        return;
    }
    let lab = Lab::new("sp", &LabConfig::default()).unwrap();
    let s6 = Lab::server_addr_v6(80);
    let _l = listen(&lab.server, s6, 1024).unwrap();
    let path = Options::new().namespace(Namespace::Path(lab.server.path()));
    let pid = Options::new().namespace(Namespace::Pid(lab.server.holder_pid()));
    let (by_path, by_pid, strict_pid) = as_user(65534, || {
        (
            live::read(&path, |_| {}),
            live::snapshot(&pid),
            live::read(&pid.clone().source(Source::Netlink), |_| {}),
        )
    })
    .unwrap();
    // A namespace file needs setns, for either source.
    let err = by_path.unwrap_err();
    assert!(
        matches!(err, LiveError::Namespace(NetnsError::Enter { .. })),
        "{err}"
    );
    assert!(err.is_permission_denied());
    // A process's namespace can still be read from /proc/<pid>/net.
    let (entries, summary) = by_pid.unwrap();
    assert_eq!(summary.origin, Origin::Proc);
    assert!(summary
        .fallback
        .as_ref()
        .is_some_and(LiveError::is_permission_denied));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].local, s6);
    assert!(strict_pid.unwrap_err().is_permission_denied());
}
