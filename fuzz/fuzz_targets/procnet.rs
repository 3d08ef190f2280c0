//! Any bytes through every entry point of the table parser: no panic, the
//! streaming reader agrees with the in-memory parser row for row, and the
//! fast path with the general path line for line.

#![no_main]

use halfopen::procnet::{parse_line, parse_table, Family, TableReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for family in [None, Some(Family::V4), Some(Family::V6)] {
        let rows: Vec<_> = parse_table(data, family).map(|r| r.map(|e| e.detach())).collect();
        let mut reader = TableReader::with_capacity(data, 512);
        if let Some(family) = family {
            reader = reader.family(family);
        }
        let mut streamed = Vec::new();
        while let Some(item) = reader.next_entry() {
            streamed.push(item.map(|e| e.detach()).map_err(|e| e.as_parse().cloned().unwrap()));
        }
        // Lines longer than the reader's buffer are the one allowed difference.
        if !data.split(|&b| b == b'\n').any(|l| l.len() >= 511) {
            assert_eq!(rows, streamed);
        }
        for row in rows.iter().flatten() {
            let mut text = String::new();
            halfopen::procnet::write_entry(&mut text, row);
            let again = parse_line(text.as_bytes(), row.family()).unwrap();
            assert_eq!(again, *row);
        }
    }
    // Line by line, the fast path gives what the general path gives.
    for line in data.split(|&b| b == b'\n') {
        for family in [Family::V4, Family::V6] {
            assert_eq!(
                parse_line(line, family),
                halfopen::procnet::parse_line_general(line, family)
            );
        }
    }
});
