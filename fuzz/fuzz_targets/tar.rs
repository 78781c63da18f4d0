//! tar headers (ustar, GNU long names, pax, base-256 sizes) of a .deb's
//! data.tar: entries are listed or refused with an error, never a panic,
//! and no listed path has a `..` part.
#![no_main]

use std::io::Read;

use debvault::debian::deb::TarReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut tar = TarReader::new(data);
    while let Ok(Some(e)) = tar.next_entry() {
        assert!(!e.path.split('/').any(|p| p == ".."));
        let mut sink = Vec::new();
        if tar.body(e.size.min(4096)).read_to_end(&mut sink).is_err() {
            break;
        }
    }
});
