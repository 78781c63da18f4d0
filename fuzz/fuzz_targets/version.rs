//! dpkg version comparison is a total order on whatever parses: reflexive,
//! antisymmetric, and consistent with equality of the parsed values.
#![no_main]

use std::cmp::Ordering;

use debvault::debian::{Version, compare};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|pair: (&str, &str)| {
    let (a, b) = pair;
    let (Ok(va), Ok(vb)) = (Version::parse(a), Version::parse(b)) else {
        return;
    };
    assert_eq!(compare(a, a), Ordering::Equal);
    assert_eq!(compare(a, b), compare(b, a).reverse(), "{a:?} {b:?}");
    assert_eq!(va.cmp(&vb), compare(a, b), "{a:?} {b:?}");
});
