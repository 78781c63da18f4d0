//! ar archives (the container of a .deb): members are listed or refused
//! with an error, bodies read within their sizes, never a panic.
#![no_main]

use std::io::Read;

use debvault::debian::deb::ArReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut ar) = ArReader::new(data, data.len() as u64) else {
        return;
    };
    while let Ok(Some(m)) = ar.next_member() {
        let mut sink = Vec::new();
        if ar.body(m.size).read_to_end(&mut sink).is_err() {
            break;
        }
    }
});
