//! Any bytes as a sock_diag datagram: no panic, errors point inside the
//! input and end the iteration, and every decoded socket prints as a
//! `/proc` row that parses back to the same entry.

#![no_main]

use halfopen::procnet::{parse_line, write_entry};
use halfopen::sockdiag::{Messages, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut items = 0;
    let mut failed = false;
    for item in Messages::new(data) {
        assert!(!failed, "an item after an error");
        items += 1;
        match item {
            Ok(Record::Socket(entry)) => {
                let mut text = String::new();
                write_entry(&mut text, &entry);
                let again = parse_line(text.as_bytes(), entry.family()).unwrap();
                assert_eq!(again, entry, "{text}");
            }
            Ok(Record::Done(_) | Record::Error(_)) => {}
            Err(e) => {
                assert!(e.offset() <= data.len(), "{e}");
                assert!(!e.to_string().is_empty());
                failed = true;
            }
        }
    }
    // Each message takes at least its 16-byte header.
    assert!(items <= data.len() / 16 + 1);
});
