//! Contents-<arch> files: lines parse or fail with an error, never panic,
//! and a parsed line written back parses to the same line.
#![no_main]

use debvault::debian::contents::{parse, parse_line, write_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(lines) = parse(text) else { return };
    for l in lines {
        let again = write_line(l.path, &l.locations);
        if let Ok(Some(back)) = parse_line(&again, 1) {
            assert_eq!(back.locations, l.locations);
        }
    }
});
