//! DEP-11 `Components` files: documents are read or refused with an error,
//! never a panic; each starts with `---` and ends in a line break, and
//! their concatenation (what publishing writes) splits into the same
//! documents again.
#![no_main]

use debvault::debian::dep11::Dep11Reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut docs = Vec::new();
    for doc in Dep11Reader::new(data, 64 * 1024) {
        let Ok(doc) = doc else { return };
        assert!(doc.text.starts_with("---\n") && doc.text.ends_with('\n'));
        let _ = (doc.package(), doc.is_header(), doc.cached_icons());
        docs.push(doc.text);
    }
    let joined = docs.concat();
    let again: Vec<String> = Dep11Reader::new(joined.as_bytes(), 64 * 1024)
        .map(|d| d.map(|d| d.text))
        .collect::<Result<_, _>>()
        .expect("written documents read back");
    assert_eq!(again, docs);
});
