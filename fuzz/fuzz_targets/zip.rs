//! zip archives (OSV's `all.zip`): entries are listed or refused with an
//! error, bodies read within the limit or refused, never a panic.
#![no_main]

use debvault::debian::zip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(entries) = zip::entries(data) else {
        return;
    };
    for e in entries {
        if let Ok(body) = e.read(data, 1 << 20) {
            assert_eq!(body.len() as u64, e.size);
        }
    }
});
