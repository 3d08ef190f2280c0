//! The lab itself: spoofed SYNs become exactly the half-open entries the
//! kernel shows, and real clients become ESTABLISHED connections.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use halfopen::procnet::{open_live, Family, TcpState};
use halfopen_tests::{
    connect_clients, listen, require_root, spoofed_sources, wait_until, Lab, LabConfig, Netns,
    SynSender,
};

/// Remote addresses of the rows of `family` in `state`, read through
/// halfopen's own streaming reader on the namespace's live table.
fn remotes(ns: &Netns, family: Family, state: TcpState) -> BTreeSet<SocketAddr> {
    let mut reader = open_live(&ns.net_ns(), family).unwrap();
    let mut out = BTreeSet::new();
    reader
        .for_each(|e| {
            if e.state == state {
                assert!(out.insert(e.remote), "duplicate row for {}", e.remote);
            }
        })
        .unwrap();
    out
}

fn flood_and_check(family: Family, server: SocketAddr, n: u64) {
    let tag = match family {
        Family::V4 => "hs4",
        Family::V6 => "hs6",
    };
    let lab = Lab::new(tag, &LabConfig::default()).unwrap();
    let _listener = listen(&lab.server, server, 4096).unwrap();

    let sources: Vec<(IpAddr, u16)> = spoofed_sources(family, 1000, n).collect();
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(20_000);
    assert_eq!(syn.send(sources.iter().copied(), server).unwrap(), n);

    let want: BTreeSet<SocketAddr> = sources
        .iter()
        .map(|&(ip, port)| SocketAddr::new(ip, port))
        .collect();
    assert_eq!(want.len() as u64, n);
    let mut got = BTreeSet::new();
    let complete = wait_until(Duration::from_secs(10), || {
        got = remotes(&lab.server, family, TcpState::SynRecv);
        got.len() as u64 >= n
    });
    assert!(
        complete,
        "only {} of {n} half-open entries appeared",
        got.len()
    );
    assert_eq!(got, want);
    // Every half-open entry is towards the listener's address and port.
    for e in lab.server.entries(family).unwrap() {
        if e.state == TcpState::SynRecv {
            assert_eq!(e.local, server);
        }
    }

    let clients = connect_clients(&lab.client, server, 5).unwrap();
    let client_addrs: BTreeSet<SocketAddr> =
        clients.iter().map(|c| c.local_addr().unwrap()).collect();
    // The server's ends turn ESTABLISHED as the clients' final ACKs arrive.
    let mut established = BTreeSet::new();
    wait_until(Duration::from_secs(5), || {
        established = remotes(&lab.server, family, TcpState::Established);
        established == client_addrs
    });
    assert_eq!(established, client_addrs);
    for addr in &client_addrs {
        let expected: IpAddr = match family {
            Family::V4 => Lab::CLIENT_V4.into(),
            Family::V6 => Lab::CLIENT_V6.into(),
        };
        assert_eq!(addr.ip(), expected);
    }
    // The half-open entries are unaffected by the real clients.
    assert_eq!(remotes(&lab.server, family, TcpState::SynRecv), want);
    // Nothing of the flood reached the attacker's or the client's tables.
    assert_eq!(lab.attacker.entries(family).unwrap().len(), 0);
    assert_eq!(lab.client.count(family, TcpState::SynRecv).unwrap(), 0);
}

#[test]
fn spoofed_syns_become_exact_half_open_entries_v4() {
    if !require_root("spoofed_syns_become_exact_half_open_entries_v4") {
        return;
    }
    flood_and_check(Family::V4, Lab::server_addr_v4(80), 500);
}

#[test]
fn spoofed_syns_become_exact_half_open_entries_v6() {
    if !require_root("spoofed_syns_become_exact_half_open_entries_v6") {
        return;
    }
    flood_and_check(Family::V6, Lab::server_addr_v6(80), 500);
}

#[test]
fn syn_cookies_off_caps_the_queue_at_the_backlog() {
    if !require_root("syn_cookies_off_caps_the_queue_at_the_backlog") {
        return;
    }
    let config = LabConfig {
        syncookies: Some(false),
        ..LabConfig::default()
    };
    let lab = Lab::new("hsc", &config).unwrap();
    assert_eq!(
        lab.server.read_sysctl("net.ipv4.tcp_syncookies").unwrap(),
        "0"
    );
    let server = Lab::server_addr_v4(443);
    let backlog = 64;
    let _listener = listen(&lab.server, server, backlog).unwrap();
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(20_000);
    syn.send(spoofed_sources(Family::V4, 0, 300), server)
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let half_open = lab.server.count(Family::V4, TcpState::SynRecv).unwrap();
    // The kernel admits a request while the queue holds at most `backlog`.
    assert!(
        (backlog as usize..=backlog as usize + 1).contains(&half_open),
        "{half_open} half-open entries with a backlog of {backlog}"
    );
}

#[test]
fn namespaces_are_deleted_on_drop_and_on_panic() {
    if !require_root("namespaces_are_deleted_on_drop_and_on_panic") {
        return;
    }
    let lab = Lab::new("hsd", &LabConfig::default()).unwrap();
    let names: Vec<String> = [&lab.server, &lab.attacker, &lab.client]
        .iter()
        .map(|ns| ns.name().to_owned())
        .collect();
    let pid = lab.server.holder_pid();
    drop(lab);
    let listed = halfopen_tests::run_cmd("ip", &["netns", "list"]).unwrap();
    for name in &names {
        assert!(!listed.contains(name.as_str()), "{name} still exists");
    }
    assert!(!std::path::Path::new(&format!("/proc/{pid}/net")).exists());

    let mut name = String::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let ns = Netns::new("hsp").unwrap();
        name = ns.name().to_owned();
        panic!("test failure inside a namespace");
    }));
    assert!(result.is_err());
    let listed = halfopen_tests::run_cmd("ip", &["netns", "list"]).unwrap();
    assert!(!name.is_empty() && !listed.contains(name.as_str()));
}

/// Counter `name` of group `group` (`Tcp`, `Icmp`) in the namespace's
/// `/proc/<pid>/net/snmp`, or of `/proc/<pid>/net/snmp6` when `group` is
/// empty (`Icmp6InEchos`).
fn snmp(ns: &Netns, group: &str, name: &str) -> u64 {
    let pid = ns.holder_pid();
    if group.is_empty() {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/snmp6")).unwrap();
        return text
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().parse().unwrap()))
            .unwrap();
    }
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/snmp")).unwrap();
    let prefix = format!("{group}:");
    let mut rows = text.lines().filter(|l| l.starts_with(&prefix));
    let (names, values) = (rows.next().unwrap(), rows.next().unwrap());
    let at = names.split_whitespace().position(|n| n == name).unwrap();
    values.split_whitespace().nth(at).unwrap().parse().unwrap()
}

#[test]
fn echo_requests_and_syns_to_closed_ports_reach_the_server() {
    if !require_root("echo_requests_and_syns_to_closed_ports_reach_the_server") {
        return;
    }
    let lab = Lab::new("hse", &LabConfig::default()).unwrap();
    let mut sender = SynSender::new(&lab.attacker).unwrap().rate(5_000);
    let (echos, echos6) = (
        snmp(&lab.server, "Icmp", "InEchos"),
        snmp(&lab.server, "", "Icmp6InEchos"),
    );
    let src4: IpAddr = "198.18.200.1".parse().unwrap();
    let src6: IpAddr = "2001:db8:1234::1".parse().unwrap();
    assert_eq!(sender.ping(src4, Lab::SERVER_V4.into(), 40).unwrap(), 40);
    assert_eq!(sender.ping(src6, Lab::SERVER_V6.into(), 30).unwrap(), 30);
    assert!(wait_until(Duration::from_secs(5), || {
        snmp(&lab.server, "Icmp", "InEchos") == echos + 40
            && snmp(&lab.server, "", "Icmp6InEchos") == echos6 + 30
    }));

    // Nobody listens on port 9: each SYN is answered with a RST, no entry.
    let rsts = snmp(&lab.server, "Tcp", "OutRsts");
    let n = sender
        .send(spoofed_sources(Family::V4, 0, 25), Lab::server_addr_v4(9))
        .unwrap()
        + sender
            .send(spoofed_sources(Family::V6, 0, 25), Lab::server_addr_v6(9))
            .unwrap();
    assert_eq!(n, 50);
    assert!(wait_until(Duration::from_secs(5), || snmp(
        &lab.server,
        "Tcp",
        "OutRsts"
    ) == rsts + 50));
    for family in Family::BOTH {
        assert!(lab.server.entries(family).unwrap().is_empty());
    }
}

#[test]
fn max_time_bounds_a_paced_send() {
    if !require_root("max_time_bounds_a_paced_send") {
        return;
    }
    let ns = Netns::new("hsm").unwrap();
    let mut sender = SynSender::new(&ns)
        .unwrap()
        .rate(1_000)
        .max_time(Duration::from_millis(300));
    let started = std::time::Instant::now();
    // To this namespace's own loopback: nothing listens, nothing leaves.
    let sent = sender
        .send(
            spoofed_sources(Family::V4, 0, 100_000),
            "127.0.0.1:9".parse().unwrap(),
        )
        .unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // About 300 packets at 1000/s; pacing allows a millisecond of slack.
    assert!((200..=400).contains(&sent), "sent {sent}");
}
