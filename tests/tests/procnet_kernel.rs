//! `halfopen::procnet` against real kernel tables: every field of every row
//! compared with the `procfs` crate, on live namespaces (root) and on
//! captures checked in under `tests/captures/` (no root needed), and on a
//! table of tens of thousands of half-open entries.
//!
//! Set `HALFOPEN_WRITE_CAPTURES=<dir>` to have the mixed-table test write
//! its server namespace's tables there (how the captures were made).

mod oracle;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use halfopen::procnet::{open_live, Family, TableReader, TcpEntry, TcpState, MIN_BUFFER};
use halfopen_tests::{
    as_user, connect_clients, listen, listen_v6only, require_root, spoofed_sources, wait_until,
    Acceptor, Lab, LabConfig, Netns, SynSender,
};
use std::io::Write as _;

fn captures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures")
}

fn states(rows: &[TcpEntry<'_>]) -> BTreeSet<TcpState> {
    rows.iter().map(|e| e.state).collect()
}

fn count(rows: &[TcpEntry<'_>], state: TcpState) -> usize {
    rows.iter().filter(|e| e.state == state).count()
}

/// A server namespace holding every kind of row, with the sockets that keep
/// them alive.
struct Mix {
    lab: Lab,
    _keep: Vec<Box<dyn std::any::Any>>,
}

const SSH: u16 = 22;
const HTTP: u16 = 80;
const HTTPS: u16 = 443;
const CLOSER: u16 = 8080;
const HOLDER: u16 = 8081;
const BACKLOG: u32 = 511;
const PAYLOAD: &[u8] = &[0x5a; 100];
const UNPRIVILEGED: u16 = 8443;
const NOBODY: u32 = 65534;

fn build_mix() -> Mix {
    let lab = Lab::new("pkm", &LabConfig::default()).unwrap();
    let s = &lab.server;
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    // Listeners: IPv4 only, dual-stack IPv6 (takes IPv4 clients too, seen as
    // ::ffff:a.b.c.d in tcp6), IPv6 only.
    let ssh = listen(s, SocketAddr::new(IpAddr::from([0, 0, 0, 0]), SSH), BACKLOG).unwrap();
    let http = listen(s, "[::]:80".parse().unwrap(), BACKLOG).unwrap();
    let https = listen_v6only(s, "[::]:443".parse().unwrap(), BACKLOG).unwrap();
    keep.extend([
        Box::new(ssh) as Box<dyn std::any::Any>,
        Box::new(http),
        Box::new(https),
    ]);

    // ESTABLISHED, waiting in the accept queues; the IPv4 ones to port 22
    // carry unread data (rx_queue).
    let mut ssh_clients = connect_clients(&lab.client, Lab::server_addr_v4(SSH), 3).unwrap();
    for c in &mut ssh_clients {
        c.write_all(PAYLOAD).unwrap();
    }
    let mapped = connect_clients(&lab.client, Lab::server_addr_v4(HTTP), 2).unwrap();
    let v6 = connect_clients(&lab.client, Lab::server_addr_v6(HTTPS), 2).unwrap();
    keep.extend([
        Box::new(ssh_clients) as Box<dyn std::any::Any>,
        Box::new(mapped),
        Box::new(v6),
    ]);

    // TIME_WAIT: the server closes first, then the clients.
    let closer = Acceptor::spawn(listen(s, Lab::server_addr_v4(CLOSER), BACKLOG).unwrap()).unwrap();
    let closer_v6 =
        Acceptor::spawn(listen(s, Lab::server_addr_v6(CLOSER), BACKLOG).unwrap()).unwrap();
    let c4 = connect_clients(&lab.client, Lab::server_addr_v4(CLOSER), 2).unwrap();
    let c6 = connect_clients(&lab.client, Lab::server_addr_v6(CLOSER), 2).unwrap();
    assert!(wait_until(Duration::from_secs(5), || closer.count() == 2
        && closer_v6.count() == 2));
    closer.close_accepted();
    closer_v6.close_accepted();
    std::thread::sleep(Duration::from_millis(100));
    drop((c4, c6));

    // CLOSE_WAIT: the clients close, the server keeps its ends open.
    let holder = Acceptor::spawn(listen(s, Lab::server_addr_v4(HOLDER), BACKLOG).unwrap()).unwrap();
    let h4 = connect_clients(&lab.client, Lab::server_addr_v4(HOLDER), 2).unwrap();
    assert!(wait_until(Duration::from_secs(5), || holder.count() == 2));
    drop(h4);
    keep.extend([
        Box::new(closer) as Box<dyn std::any::Any>,
        Box::new(closer_v6),
        Box::new(holder),
    ]);

    // A listener owned by another user: its rows (listener, request
    // sockets, children) carry that uid.
    let nobody = s
        .run(|| {
            as_user(NOBODY, || {
                TcpListener::bind(Lab::server_addr_v4(UNPRIVILEGED))
            })
        })
        .unwrap()
        .unwrap();
    let nobody_client = connect_clients(&lab.client, Lab::server_addr_v4(UNPRIVILEGED), 1).unwrap();
    keep.extend([
        Box::new(nobody) as Box<dyn std::any::Any>,
        Box::new(nobody_client),
    ]);

    // SYN_RECV from spoofed sources: IPv4, IPv6, and IPv4 to the dual-stack
    // listener (IPv4-mapped rows in tcp6).
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(10_000);
    syn.send(spoofed_sources(Family::V4, 0, 6), Lab::server_addr_v4(SSH))
        .unwrap();
    syn.send(
        spoofed_sources(Family::V4, 100, 4),
        Lab::server_addr_v4(HTTP),
    )
    .unwrap();
    syn.send(
        spoofed_sources(Family::V4, 200, 2),
        Lab::server_addr_v4(UNPRIVILEGED),
    )
    .unwrap();
    syn.send(spoofed_sources(Family::V6, 0, 6), Lab::server_addr_v6(HTTP))
        .unwrap();

    let ready = wait_until(Duration::from_secs(10), || {
        let v4 = s.entries(Family::V4).unwrap();
        let v6 = s.entries(Family::V6).unwrap();
        count(&v4, TcpState::SynRecv) == 8
            && count(&v6, TcpState::SynRecv) == 10
            && count(&v4, TcpState::TimeWait) == 2
            && count(&v6, TcpState::TimeWait) == 2
            && count(&v4, TcpState::CloseWait) == 2
            && count(&v4, TcpState::Established) == 4
            && count(&v6, TcpState::Established) == 4
            && v4
                .iter()
                .filter(|e| e.local.port() == SSH && e.state == TcpState::Established)
                .all(|e| e.rx_queue == PAYLOAD.len() as u32)
    });
    assert!(ready, "the mixed table never settled");
    Mix { lab, _keep: keep }
}

#[test]
fn live_tables_match_procfs_field_by_field() {
    if !require_root("live_tables_match_procfs_field_by_field") {
        return;
    }
    let mix = build_mix();
    let server = &mix.lab.server;
    let v4_bytes = server.read_table(Family::V4).unwrap();
    let v6_bytes = server.read_table(Family::V6).unwrap();
    let v4 = oracle::check_table(&v4_bytes, Family::V4);
    let v6 = oracle::check_table(&v6_bytes, Family::V6);

    use TcpState::*;
    let want: BTreeSet<TcpState> = [Listen, Established, SynRecv, TimeWait, CloseWait].into();
    assert!(states(&v4).is_superset(&want), "{:?}", states(&v4));
    assert!(states(&v6).is_superset(&[Listen, Established, SynRecv, TimeWait].into()));

    // The values themselves, not only agreement.
    let listeners: Vec<_> = v4.iter().filter(|e| e.state == Listen).collect();
    assert_eq!(listeners.len(), 4);
    for l in &listeners {
        // /proc prints write_seq - snd_una for every socket, 0 for a
        // listener (sock_diag reports the backlog there instead).
        assert_eq!(l.tx_queue, 0);
        assert!(l.inode != 0);
    }
    let owned: Vec<_> = v4
        .iter()
        .filter(|e| e.local.port() == UNPRIVILEGED)
        .collect();
    assert_eq!(
        owned.len(),
        4,
        "listener, two request sockets, one connection"
    );
    assert!(owned.iter().all(|e| e.uid == NOBODY), "{owned:?}");
    assert!(v4
        .iter()
        .filter(|e| e.local.port() != UNPRIVILEGED)
        .all(|e| e.uid == 0));
    let ssh_listener = listeners.iter().find(|e| e.local.port() == SSH).unwrap();
    assert_eq!(
        ssh_listener.rx_queue, 3,
        "three connections wait to be accepted"
    );
    for e in v4.iter().filter(|e| e.state == SynRecv) {
        assert!(oracle::is_spoofed(&e.remote));
        assert!(e.is_request());
        assert!([SSH, UNPRIVILEGED].contains(&e.local.port()));
        assert_eq!(e.local.ip(), IpAddr::from(Lab::SERVER_V4));
    }
    let mapped_half_open: Vec<_> = v6
        .iter()
        .filter(|e| {
            e.state == SynRecv
                && matches!(e.remote, SocketAddr::V6(a) if a.ip().to_ipv4_mapped().is_some())
        })
        .collect();
    assert_eq!(mapped_half_open.len(), 4);
    for e in &mapped_half_open {
        assert!(oracle::is_spoofed(&e.remote));
        assert_eq!(e.local.to_string(), "[::ffff:198.19.1.1]:80");
    }
    let mapped_clients = v6
        .iter()
        .filter(|e| {
            e.state == Established && e.remote.to_string().starts_with("[::ffff:198.19.2.2]")
        })
        .count();
    assert_eq!(mapped_clients, 2);
    for e in v4.iter().filter(|e| e.state == TimeWait) {
        assert_eq!(
            (e.inode, e.local.port(), e.remote.ip()),
            (0, CLOSER, IpAddr::from(Lab::CLIENT_V4))
        );
    }

    // The client side has the other halves, FIN_WAIT2 included.
    let client_v4 =
        oracle::check_table(&mix.lab.client.read_table(Family::V4).unwrap(), Family::V4);
    oracle::check_table(&mix.lab.client.read_table(Family::V6).unwrap(), Family::V6);
    assert!(states(&client_v4).contains(&FinWait2));

    if let Some(dir) = std::env::var_os("HALFOPEN_WRITE_CAPTURES") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("mixed.tcp"), &v4_bytes).unwrap();
        std::fs::write(dir.join("mixed.tcp6"), &v6_bytes).unwrap();
    }
}

#[test]
fn captured_tables_match_procfs_field_by_field() {
    let mut seen = std::collections::HashSet::new();
    let mut files = 0;
    let mut owners = BTreeSet::new();
    for entry in std::fs::read_dir(captures_dir()).unwrap() {
        let path = entry.unwrap().path();
        let family = match path.extension().and_then(|e| e.to_str()) {
            Some("tcp") => Family::V4,
            Some("tcp6") => Family::V6,
            _ => continue,
        };
        let bytes = std::fs::read(&path).unwrap();
        let rows = oracle::check_table(&bytes, family);
        assert!(!rows.is_empty(), "{} is empty", path.display());
        // Streaming with the smallest buffer gives the same rows.
        let mut reader = TableReader::with_capacity(&bytes[..], MIN_BUFFER).family(family);
        let mut streamed = Vec::new();
        reader.for_each(|e| streamed.push(e.detach())).unwrap();
        assert_eq!(streamed, rows);
        seen.extend(rows.iter().map(|e| (family, e.state)));
        owners.extend(rows.iter().map(|e| e.uid));
        files += 1;
    }
    assert!(
        owners.len() >= 2,
        "one owner only in the captures: {owners:?}"
    );
    assert!(
        files >= 2,
        "captures missing in {}",
        captures_dir().display()
    );
    for family in Family::BOTH {
        for state in [
            TcpState::Listen,
            TcpState::Established,
            TcpState::SynRecv,
            TcpState::TimeWait,
        ] {
            assert!(
                seen.contains(&(family, state)),
                "no {state} row in the {family:?} captures"
            );
        }
    }
}

/// Sends `n` spoofed SYNs of `family` to `dst` and waits until the server
/// holds them all; returns the sources.
fn flood(lab: &Lab, family: Family, start: u64, n: u64, dst: SocketAddr) -> BTreeSet<SocketAddr> {
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(15_000);
    let sources: BTreeSet<SocketAddr> = spoofed_sources(family, start, n)
        .map(|(ip, port)| SocketAddr::new(ip, port))
        .collect();
    assert_eq!(
        syn.send(sources.iter().map(|a| (a.ip(), a.port())), dst)
            .unwrap(),
        n
    );
    sources
}

fn half_open(ns: &Netns, family: Family, capacity: usize) -> BTreeSet<(SocketAddr, SocketAddr)> {
    let file = std::fs::File::open(ns.net_ns().table_path(family)).unwrap();
    let mut reader = TableReader::with_capacity(file, capacity).family(family);
    let mut out = BTreeSet::new();
    reader
        .for_each(|e| {
            if e.state == TcpState::SynRecv {
                out.insert((e.local, e.remote));
            }
        })
        .unwrap();
    out
}

#[test]
fn tens_of_thousands_of_half_open_entries() {
    if !require_root("tens_of_thousands_of_half_open_entries") {
        return;
    }
    let lab = Lab::new("pkl", &LabConfig::default()).unwrap();
    let (n4, n6) = (24_000u64, 16_000u64);
    let _l4 = listen(&lab.server, Lab::server_addr_v4(HTTP), 65_535).unwrap();
    let _l6 = listen(&lab.server, Lab::server_addr_v6(HTTPS), 65_535).unwrap();
    let sent4 = flood(&lab, Family::V4, 7, n4, Lab::server_addr_v4(HTTP));
    let sent6 = flood(&lab, Family::V6, 7, n6, Lab::server_addr_v6(HTTPS));

    for (family, sent, dst) in [
        (Family::V4, &sent4, Lab::server_addr_v4(HTTP)),
        (Family::V6, &sent6, Lab::server_addr_v6(HTTPS)),
    ] {
        let mut got = BTreeSet::new();
        let complete = wait_until(Duration::from_secs(20), || {
            got = half_open(&lab.server, family, halfopen::procnet::DEFAULT_BUFFER);
            got.len() == sent.len()
        });
        let want: BTreeSet<_> = sent.iter().map(|&r| (dst, r)).collect();
        assert!(
            complete,
            "{family:?}: {} of {} half-open entries; missing {:?}",
            got.len(),
            sent.len(),
            want.difference(&got).take(5).collect::<Vec<_>>()
        );
        assert_eq!(got, want);

        // Whole-table agreement with procfs, field by field.
        let bytes = lab.server.read_table(family).unwrap();
        let rows = oracle::check_table(&bytes, family);
        assert_eq!(
            rows.iter().filter(|e| e.state == TcpState::SynRecv).count(),
            sent.len()
        );

        // The smallest buffer, the live reader and a one-shot read agree on
        // the set (timers change between reads; the set does not).
        assert_eq!(half_open(&lab.server, family, MIN_BUFFER), want);
        assert_eq!(half_open(&lab.server, family, 4096), want);
        let mut live = BTreeSet::new();
        open_live(&lab.server.net_ns(), family)
            .unwrap()
            .for_each(|e| {
                if e.state == TcpState::SynRecv {
                    live.insert((e.local, e.remote));
                }
            })
            .unwrap();
        assert_eq!(live, want);
    }
}
