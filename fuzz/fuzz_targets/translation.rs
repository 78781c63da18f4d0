//! Translation files: an entry is read or refused with an error, never a
//! panic, and an entry read writes back to a stanza that reads the same.
#![no_main]

use debvault::debian::{TranslationEntry, TranslationReader, parse_str};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for entry in TranslationReader::new(data, "en") {
        let Ok(entry) = entry else { break };
        let text = entry.to_stanza_text("en");
        let again = parse_str(&text)
            .ok()
            .and_then(|s| s.into_iter().next())
            .map(|s| TranslationEntry::from_stanza(&s, "en"));
        assert!(matches!(again, Some(Ok(e)) if e == entry), "{text:?}");
    }
});
