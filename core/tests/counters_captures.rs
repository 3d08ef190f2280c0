//! The counter parsers against real captures of this machine and of a
//! namespace, with two independent decoders as oracles: the procfs crate
//! (`snmp`, `snmp6`, `dev`) and iproute2's `nstat -asz`, captured at the
//! same moment as the namespace's files (every sampled counter).

use std::collections::HashMap;
use std::path::PathBuf;

use halfopen::counters::{Counter, Sample, SampleReader, Section};
use halfopen::procnet::NetNs;
use procfs::FromRead;

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/counters")
        .join(name)
}

fn read(name: &str, file: &str) -> String {
    std::fs::read_to_string(dir(name).join(file)).unwrap()
}

fn sample(name: &str) -> Sample {
    SampleReader::new(NetNs::Dir(dir(name))).read().unwrap()
}

/// Checks every counter procfs decodes against ours.
fn against_procfs(name: &str, s: &Sample) {
    let snmp = procfs::net::Snmp::from_read(read(name, "snmp").as_bytes()).unwrap();
    let snmp6 = procfs::net::Snmp6::from_read(read(name, "snmp6").as_bytes()).unwrap();
    let pairs = [
        (Counter::TcpPassiveOpens, snmp.tcp_passive_opens),
        (Counter::TcpActiveOpens, snmp.tcp_active_opens),
        (Counter::TcpAttemptFails, snmp.tcp_attempt_fails),
        (Counter::TcpEstabResets, snmp.tcp_estab_resets),
        (Counter::TcpInSegs, snmp.tcp_in_segs),
        (Counter::TcpOutSegs, snmp.tcp_out_segs),
        (Counter::TcpRetransSegs, snmp.tcp_retrans_segs),
        (Counter::TcpOutRsts, snmp.tcp_out_rsts),
        (Counter::TcpInErrs, snmp.tcp_in_errs),
        (Counter::IcmpInMsgs, snmp.icmp_in_msgs),
        (Counter::IcmpInEchos, snmp.icmp_in_echos),
        (Counter::IcmpOutEchoReps, snmp.icmp_out_echo_reps),
        (Counter::IcmpInDestUnreachs, snmp.icmp_in_dest_unreachs),
        (Counter::IcmpOutDestUnreachs, snmp.icmp_out_dest_unreachs),
        (Counter::UdpInDatagrams, snmp.udp_in_datagrams),
        (Counter::UdpNoPorts, snmp.udp_no_ports),
        (Counter::Icmp6InMsgs, snmp6.icmp_in_msgs),
        (Counter::Icmp6InEchos, snmp6.icmp_in_echos),
        (Counter::Icmp6OutEchoReplies, snmp6.icmp_out_echo_replies),
        (Counter::Icmp6InDestUnreachs, snmp6.icmp_in_dest_unreachs),
        (Counter::Icmp6OutDestUnreachs, snmp6.icmp_out_dest_unreachs),
    ];
    for (c, want) in pairs {
        assert_eq!(s.counters.get(c), Some(want), "{name}: {c}");
    }
    let dev = procfs::net::InterfaceDeviceStatus::from_read(read(name, "dev").as_bytes()).unwrap();
    assert_eq!(s.interfaces.len(), dev.0.len(), "{name}: interfaces");
    for i in &s.interfaces {
        let d = &dev.0[&i.name];
        assert_eq!(
            (i.rx_bytes, i.rx_packets, i.tx_bytes, i.tx_packets),
            (d.recv_bytes, d.recv_packets, d.sent_bytes, d.sent_packets),
            "{name}: {}",
            i.name
        );
    }
}

#[test]
fn host_capture_matches_procfs() {
    let s = sample("host");
    against_procfs("host", &s);
    // Every sampled counter is printed by this kernel.
    assert_eq!(s.counters.iter().count(), Counter::COUNT);
}

#[test]
fn namespace_capture_matches_procfs_and_nstat() {
    let s = sample("netns");
    against_procfs("netns", &s);
    let nstat: HashMap<String, u64> = read("netns", "nstat.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_owned(), w.next()?.parse().ok()?))
        })
        .collect();
    for c in Counter::ALL {
        let key = format!("{}{}", c.section(), c.name());
        assert_eq!(s.counters.get(c), nstat.get(&key).copied(), "{key}");
    }
    // The capture saw resets, unreachables, echoes and overflows.
    for c in [
        Counter::TcpOutRsts,
        Counter::UdpNoPorts,
        Counter::Udp6NoPorts,
        Counter::IcmpInEchos,
        Counter::Icmp6OutEchoReplies,
        Counter::ListenOverflows,
    ] {
        assert!(s.counters.get(c).unwrap() > 0, "{c}");
    }
    assert!(Section::ALL
        .iter()
        .all(|sec| Counter::ALL.iter().any(|c| c.section() == *sec)));
}

#[test]
fn parse_from_texts_equals_reading_the_directory() {
    let read_s = sample("netns");
    let parsed = Sample::parse(
        &read("netns", "netstat"),
        &read("netns", "snmp"),
        Some(&read("netns", "snmp6")),
        &read("netns", "dev"),
        read_s.at,
    )
    .unwrap();
    assert_eq!(parsed.counters, read_s.counters);
    assert_eq!(parsed.interfaces, read_s.interfaces);
}

#[test]
fn cut_or_damaged_captures_give_typed_errors() {
    let netstat = read("netns", "netstat");
    // Drop the TcpExt values line.
    let cut: String = netstat.lines().take(1).map(|l| format!("{l}\n")).collect();
    let e = Sample::parse(&cut, "", None, "", Default::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "netstat: line 1: section TcpExt: names line without its values line"
    );
    // Damage one value the sampler keeps.
    let snmp = read("netns", "snmp").replacen("Tcp: 1 200 120000 -1 ", "Tcp: 1 200 120000 -1 x", 1);
    let e = Sample::parse(&netstat, &snmp, None, "", Default::default()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("snmp: line 8: field Tcp.ActiveOpens: not a counter value: \"x"),
        "{e}"
    );
}
