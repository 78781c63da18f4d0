//! Commands files (command-not-found): an entry is read or refused with an
//! error, never a panic, and an entry read writes back to a stanza that
//! reads the same.
#![no_main]

use debvault::debian::{CommandsEntry, CommandsReader, parse_str};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for entry in CommandsReader::new(data) {
        let Ok(entry) = entry else { break };
        let _ = entry.commands().count();
        let text = entry.to_stanza_text();
        let again = parse_str(&text)
            .ok()
            .and_then(|s| s.into_iter().next())
            .map(CommandsEntry::from_stanza);
        assert!(matches!(again, Some(Ok(e)) if e == entry), "{text:?}");
    }
});
