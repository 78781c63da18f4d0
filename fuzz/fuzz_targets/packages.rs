//! Packages stanzas: a package is built or refused with an error, and its
//! relation fields parse or fail, never panic.
#![no_main]

use debvault::debian::{BinaryPackage, StanzaReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for stanza in StanzaReader::new(data).max_stanza_bytes(1 << 16) {
        let Ok(stanza) = stanza else { break };
        if let Ok(p) = BinaryPackage::from_stanza(stanza) {
            let _ = p.depends();
            let _ = p.pre_depends();
            let _ = p.recommends();
            let _ = p.provides();
        }
    }
});
