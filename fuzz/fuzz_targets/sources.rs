//! Sources stanzas: a source package is built or refused with an error,
//! never a panic, and every file it keeps has a plain name.
#![no_main]

use debvault::debian::{SourcePackage, StanzaReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for stanza in StanzaReader::new(data).max_stanza_bytes(1 << 16) {
        let Ok(stanza) = stanza else { break };
        if let Ok(p) = SourcePackage::from_stanza(stanza) {
            assert!(p.files.iter().all(|f| !f.name.contains('/')));
            let _ = p.file_path(p.dsc_file());
        }
    }
});
