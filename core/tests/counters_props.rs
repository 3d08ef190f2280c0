//! Properties of the counter parsers and the rate math over generated
//! inputs: any text gives a value or a typed error (never a panic), files
//! written in the kernel's format read back exactly, and rates over any
//! sequence of samples add up to what the counters counted.

use std::time::Duration;

use halfopen::counters::{
    parse_dev, parse_netstat, parse_snmp, parse_snmp6, Counter, Delta, History, PerCounter, Sample,
    Section,
};
use proptest::prelude::*;

/// The kernel's line-pair text of `section` with extra unsampled names.
fn pair_text(section: Section, values: &[(Counter, u64)], extra: &[u64]) -> String {
    let mut names = String::new();
    let mut nums = String::new();
    for (i, x) in extra.iter().enumerate() {
        names.push_str(&format!(" Other{i}"));
        nums.push_str(&format!(" {x}"));
    }
    for (c, v) in values {
        names.push_str(&format!(" {}", c.name()));
        nums.push_str(&format!(" {v}"));
    }
    format!("{section}:{names}\n{section}:{nums}\n")
}

proptest! {
    #[test]
    fn any_text_is_a_value_or_an_error(text in "\\PC{0,300}") {
        let mut out = PerCounter::default();
        let _ = parse_netstat(&text, &mut out);
        let _ = parse_snmp(&text, &mut out);
        let _ = parse_snmp6(&text, &mut out);
        let mut devs = Vec::new();
        let _ = parse_dev(&text, &mut devs);
    }

    #[test]
    fn kernel_format_reads_back(
        values in proptest::collection::vec(any::<u64>(), Counter::COUNT),
        extra in proptest::collection::vec(any::<u64>(), 0..5),
    ) {
        let of = |s: Section| -> Vec<(Counter, u64)> {
            Counter::ALL.iter().filter(|c| c.section() == s).map(|&c| (c, values[c.index()])).collect()
        };
        let netstat = pair_text(Section::TcpExt, &of(Section::TcpExt), &extra);
        let snmp: String = [Section::Icmp, Section::Tcp, Section::Udp]
            .iter()
            .map(|&s| pair_text(s, &of(s), &extra))
            .collect();
        let snmp6: String = [Section::Icmp6, Section::Udp6]
            .iter()
            .flat_map(|&s| of(s).into_iter().map(move |(c, v)| format!("{}{:<24} {v}\n", s, c.name())))
            .collect();
        let s = Sample::parse(&netstat, &snmp, Some(&snmp6), "h\nh\n", Duration::ZERO).unwrap();
        for c in Counter::ALL {
            prop_assert_eq!(s.counters.get(c), Some(values[c.index()]), "{}", c);
        }
    }

    #[test]
    fn rates_add_up_to_the_counted_amount(
        steps in proptest::collection::vec((1u64..5_000, 0u64..1_000_000), 1..40),
        start in any::<u32>(),
    ) {
        // A 32-bit counter that wraps, sampled at irregular intervals.
        let mut h = History::new(64);
        let mut t = 1_000u64;
        let mut v = u64::from(start);
        let mut counted = 0u64;
        let mut s = Sample::empty(Duration::from_millis(t));
        s.counters.set(Counter::TcpOutRsts, v);
        h.push(s).unwrap();
        let mut from_rates = 0.0f64;
        for (dt, add) in steps {
            t += dt;
            counted += add;
            v = (v + add) % (1u64 << 32);
            let mut s = Sample::empty(Duration::from_millis(t));
            s.counters.set(Counter::TcpOutRsts, v);
            let r = h.push(s).unwrap().unwrap();
            from_rates += r.get(Counter::TcpOutRsts).unwrap() * r.interval_secs;
        }
        prop_assert!((from_rates - counted as f64).abs() <= 1e-6 * (counted as f64).max(1.0));
    }

    #[test]
    fn deltas_never_exceed_the_ranges(a in any::<u64>(), b in any::<u64>()) {
        let d = Delta::between(a, b);
        match d {
            Delta::Step(n) => prop_assert_eq!(n, b - a),
            Delta::Wrapped(n) => prop_assert!(n > 0),
            Delta::Reset(n) => prop_assert_eq!(n, b),
        }
    }
}
