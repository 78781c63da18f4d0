//! Release files from arbitrary text: errors, never panics; a parsed
//! Release renders to text that parses back to the same file list.
#![no_main]

use debvault::debian::Release;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(release) = Release::parse(text) {
        let rendered = release.render();
        // Only empty fields (`Architectures:`) render to nothing, which is
        // not a Release; anything else must come back the same.
        if rendered.trim().is_empty() {
            return;
        }
        let again = Release::parse(&rendered).expect("rendered Release parses");
        assert_eq!(again.files, release.files);
        assert_eq!(again.render(), rendered);
    }
});
