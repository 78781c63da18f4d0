//! deb822 stanzas from arbitrary bytes: errors, never panics; a parsed
//! stanza renders to text that parses back to the same fields.
#![no_main]

use debvault::debian::{StanzaReader, parse_str};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reader = StanzaReader::new(data).max_stanza_bytes(1 << 16);
    for stanza in reader {
        let Ok(stanza) = stanza else { break };
        let text = stanza.to_text();
        let again = parse_str(&text).expect("rendered stanza parses");
        assert_eq!(again.len(), 1, "{text:?}");
        assert_eq!(again[0].fields(), stanza.fields(), "{text:?}");
    }
});
