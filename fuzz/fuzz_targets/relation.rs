//! Relation fields (`Depends:` and friends): parse or fail, never panic;
//! a parsed constraint can be matched against any version, and what parses
//! displays as text that parses to the same display.
#![no_main]

use debvault::debian::parse_relations;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(deps) = parse_relations(text) {
        for dep in &deps {
            for alt in &dep.alternatives {
                if let Some(c) = &alt.constraint {
                    let _ = c.matches_str("1.0-1");
                    let _ = c.matches_str(text);
                }
            }
        }
        let shown: Vec<String> = deps.iter().map(ToString::to_string).collect();
        let shown = shown.join(", ");
        let again = parse_relations(&shown).expect("a displayed relation parses");
        let again: Vec<String> = again.iter().map(ToString::to_string).collect();
        assert_eq!(again.join(", "), shown, "{text:?}");
    }
});
