//! The filter language: parse or fail with a column, never panic; what
//! parses displays canonically, and the display parses to the same display.
#![no_main]

use debvault::query::Filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(filter) = Filter::parse(text) {
        let shown = filter.to_string();
        let again = Filter::parse(&shown).expect("a displayed filter parses");
        assert_eq!(again.to_string(), shown, "{text:?}");
    }
});
