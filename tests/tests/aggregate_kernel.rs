//! Aggregation on a real kernel: a server namespace flooded with spoofed
//! SYNs (several heavy /24s, a /24 with source ports 80/443, a thin spray
//! over the whole spoofed /16, a heavy IPv6 /64) while real clients hold
//! established connections. The report built from the server's real tables
//! blocks the heavy prefixes, marks the reflection /24, only watches the thin
//! spray and never blocks the clients.

use std::collections::{BTreeSet, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use halfopen::host::host_addresses;
use halfopen::live::{Namespace, Options, Source};
use halfopen::procnet::{Family, TcpState};
use halfopen::report::Report;
use halfopen::signs::Sign;
use halfopen::snapshot::Snapshot;
use halfopen::verdict::{Config, Verdict};
use halfopen_tests::{
    connect_clients, listen, listen_v6only, require_root, wait_until, Lab, LabConfig, SynSender,
};
use ipnet::IpNet;

const PORTS: [u16; 3] = [22, 80, 443];
const HEAVY: [u8; 3] = [10, 11, 12];
const HEAVY_PER_24: usize = 400;
const REFLECT: u8 = 20;
const REFLECT_N: usize = 300;
const SPRAY_N: usize = 2000;
const V6_N: usize = 500;

/// A small deterministic generator (the scenario must not depend on a
/// seed crate; any seed gives the same shape).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 29
    }
}

/// SYNs per destination: `(source, destination)`, each 4-tuple distinct so
/// every SYN makes its own half-open entry.
fn scenario() -> Vec<(SocketAddr, SocketAddr)> {
    let mut rng = Lcg(0x5EED);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut push = |src: SocketAddr, dst: SocketAddr, out: &mut Vec<_>| {
        if seen.insert((src, dst)) {
            out.push((src, dst));
            true
        } else {
            false
        }
    };
    for net in HEAVY {
        let mut n = 0;
        while n < HEAVY_PER_24 {
            let src = SocketAddr::from((
                Ipv4Addr::new(198, 18, net, (rng.next() % 254 + 1) as u8),
                1024 + (rng.next() % 60_000) as u16,
            ));
            let dst = Lab::server_addr_v4(PORTS[(rng.next() % 3) as usize]);
            n += usize::from(push(src, dst, &mut out));
        }
    }
    for i in 0..REFLECT_N {
        let src = SocketAddr::from((
            Ipv4Addr::new(198, 18, REFLECT, (i % 200 + 1) as u8),
            if i < 200 { 80 } else { 443 },
        ));
        push(src, Lab::server_addr_v4(80), &mut out);
    }
    let mut n = 0;
    while n < SPRAY_N {
        let src = SocketAddr::from((
            Ipv4Addr::new(198, 18, (rng.next() % 256) as u8, (rng.next() % 256) as u8),
            1024 + (rng.next() % 60_000) as u16,
        ));
        let dst = Lab::server_addr_v4(PORTS[(rng.next() % 3) as usize]);
        n += usize::from(push(src, dst, &mut out));
    }
    let mut n = 0;
    while n < V6_N {
        let host = (u128::from(rng.next()) << 32) ^ u128::from(rng.next());
        let addr =
            Ipv6Addr::from((0x2001_0db8_0000_0005u128 << 64) | (host & u128::from(u64::MAX)));
        let src = SocketAddr::from((addr, 1024 + (rng.next() % 60_000) as u16));
        n += usize::from(push(src, Lab::server_addr_v6(443), &mut out));
    }
    out
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[test]
fn real_flood_gets_blocks_watches_and_signs() {
    if !require_root("real_flood_gets_blocks_watches_and_signs") {
        return;
    }
    let lab = Lab::new(
        "agg",
        &LabConfig {
            syncookies: Some(false),
            ..LabConfig::default()
        },
    )
    .unwrap();
    let mut listeners = Vec::new();
    for port in PORTS {
        listeners.push(
            listen(
                &lab.server,
                SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
                65_535,
            )
            .unwrap(),
        );
        listeners.push(
            listen_v6only(
                &lab.server,
                SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)),
                65_535,
            )
            .unwrap(),
        );
    }
    let clients_v4 = connect_clients(&lab.client, Lab::server_addr_v4(22), 24).unwrap();
    let clients_v6 = connect_clients(&lab.client, Lab::server_addr_v6(443), 12).unwrap();

    let syns = scenario();
    let want_v4 = syns.iter().filter(|(s, _)| s.is_ipv4()).count();
    let want_v6 = syns.len() - want_v4;
    // One paced call per destination: pacing holds within a call.
    let mut sender = SynSender::new(&lab.attacker).unwrap().rate(5_000);
    let dsts: BTreeSet<SocketAddr> = syns.iter().map(|&(_, d)| d).collect();
    for dst in dsts {
        let sources: Vec<(IpAddr, u16)> = syns
            .iter()
            .filter(|&&(_, d)| d == dst)
            .map(|(s, _)| (s.ip(), s.port()))
            .collect();
        assert_eq!(
            sender.send(sources.iter().copied(), dst).unwrap(),
            sources.len() as u64
        );
    }
    let held = wait_until(Duration::from_secs(15), || {
        lab.server.count(Family::V4, TcpState::SynRecv).unwrap() >= want_v4
            && lab.server.count(Family::V6, TcpState::SynRecv).unwrap() >= want_v6
    });
    assert!(
        held,
        "the server holds {} of {want_v4} IPv4 and {} of {want_v6} IPv6 half-open entries",
        lab.server.count(Family::V4, TcpState::SynRecv).unwrap(),
        lab.server.count(Family::V6, TcpState::SynRecv).unwrap()
    );
    // Wait for the first SYN-ACK retransmission (after about a second), so
    // the entries show that nobody answers.
    let retransmitted = wait_until(Duration::from_secs(10), || {
        let entries = lab.server.entries(Family::V4).unwrap();
        let half: Vec<_> = entries
            .iter()
            .filter(|e| e.state == TcpState::SynRecv)
            .collect();
        half.iter().filter(|e| e.retransmits > 0).count() * 10 >= half.len() * 9
    });
    assert!(retransmitted, "SYN-ACKs were not retransmitted");

    let mut entries = lab.server.entries(Family::V4).unwrap();
    entries.extend(lab.server.entries(Family::V6).unwrap());
    let snapshot = Snapshot::from_entries(&entries);
    assert!(snapshot.half_open() >= syns.len() as u64);
    assert_eq!(snapshot.count(TcpState::Established), 36);

    let server_net = format!("/proc/{}/net", lab.server.holder_pid());
    let own = host_addresses(&server_net).unwrap();
    assert!(own.contains(&IpAddr::V4(Lab::SERVER_V4)), "{own:?}");
    assert!(own.contains(&IpAddr::V6(Lab::SERVER_V6)), "{own:?}");
    let config = Config::default().with_allowed(own.into_iter().map(IpNet::from));
    let report = Report::build(&snapshot, &config).unwrap();
    let json = report.to_json_pretty();
    let find = |p: &str| {
        report
            .prefixes
            .iter()
            .find(|x| x.prefix == net(p))
            .unwrap_or_else(|| panic!("{p} not reported:\n{json}"))
    };

    for h in HEAVY {
        let p = find(&format!("198.18.{h}.0/24"));
        assert_eq!(p.verdict, Verdict::Block, "{}: {}", p.prefix, p.reason);
        assert!(
            p.signs.contains(Sign::Unanswered),
            "{}: {}",
            p.prefix,
            p.signs
        );
        assert!(p.signs.contains(Sign::NoCompletedHandshake), "{}", p.prefix);
    }
    let v6 = find("2001:db8:0:5::/64");
    assert_eq!(v6.verdict, Verdict::Block, "{}", v6.reason);
    assert_eq!(v6.half_open, V6_N as u64);
    assert!(v6.signs.contains(Sign::SinglePort));

    let reflect = find(&format!("198.18.{REFLECT}.0/24"));
    assert!(
        reflect.signs.contains(Sign::WellKnownSourcePort),
        "{}",
        reflect.signs
    );
    assert!(reflect.evidence.well_known_port as usize >= REFLECT_N);
    assert!(
        reflect.signs.contains(Sign::SequentialWalk),
        "{}",
        reflect.signs
    );
    assert!(
        reflect.signs.contains(Sign::SinglePort),
        "{}",
        reflect.signs
    );
    assert!(!find("198.18.10.0/24")
        .signs
        .contains(Sign::WellKnownSourcePort));

    let spray = find("198.18.0.0/16");
    assert_eq!(spray.verdict, Verdict::Watch, "{}", spray.reason);
    assert!(spray.reason.contains("thinly"), "{}", spray.reason);
    let blocked_v4: BTreeSet<IpNet> = report
        .blocks()
        .map(|p| p.prefix)
        .filter(|p| net("198.18.0.0/16").contains(p))
        .collect();
    let expected: BTreeSet<IpNet> = HEAVY
        .iter()
        .chain([REFLECT].iter())
        .map(|h| net(&format!("198.18.{h}.0/24")))
        .collect();
    assert_eq!(
        blocked_v4, expected,
        "no /24 of the thin spray is blocked:\n{json}"
    );

    for client in clients_v4.iter().chain(&clients_v6) {
        let ip = client.local_addr().unwrap().ip();
        assert!(
            report.blocks().all(|p| !p.prefix.contains(&ip)),
            "client {ip} blocked:\n{json}"
        );
    }
    assert_eq!(report.host.established, 36);
    assert_eq!(report.tree.dropped + report.tree.overflow, 0);

    // The same verdicts from the same namespace read through netlink: the
    // snapshot does not care where its entries came from.
    let opts = Options::new()
        .source(Source::Netlink)
        .namespace(Namespace::Path(lab.server.path()));
    let (via_netlink, _) = Snapshot::read(&opts).unwrap();
    let again = Report::build(&via_netlink, &config).unwrap();
    let blocks = |r: &Report| r.blocks().map(|p| p.prefix).collect::<BTreeSet<_>>();
    assert_eq!(blocks(&again), blocks(&report));
    drop(listeners);
}
