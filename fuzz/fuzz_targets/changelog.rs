//! Changelogs: any input parses to entries or none, never a panic; every
//! CVE ID found has the `CVE-YYYY-NNNN…` shape, and a span between two of
//! its own versions stays within the entries read.
#![no_main]

use debvault::debian::changelog::{parse, span};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let entries = parse(data);
    let first = entries.first().map(|e| e.version.clone());
    let last = entries.last().map(|e| e.version.clone());
    if let (Some(new), old) = (first, last) {
        let s = span(&entries, old.as_deref(), &new);
        assert!(s.entries.len() <= entries.len());
        for id in &s.cves {
            let rest = id.strip_prefix("CVE-").expect("prefix");
            let (year, n) = rest.split_once('-').expect("dash");
            assert!(year.len() == 4 && n.len() >= 4, "{id}");
            assert!(rest.bytes().all(|b| b.is_ascii_digit() || b == b'-'), "{id}");
        }
    }
});
