//! Request paths: percent-decoding and traversal checks, the cache policy a
//! path implies, and encoding names back into links.

use std::fmt::Write as _;

/// Percent-decodes an origin-form path and splits it into segments, dropping
/// empty and `.` ones. `None` (400) for a malformed escape, NUL, backslash,
/// non-UTF-8, or any `..` segment.
pub(super) fn parse_path(raw: &str) -> Option<Vec<String>> {
    if !raw.starts_with('/') {
        return None;
    }
    let decoded = String::from_utf8(percent_decode(raw.as_bytes())?).ok()?;
    if decoded.contains(['\0', '\\']) {
        return None;
    }
    let mut segments = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            segment => segments.push(segment.to_owned()),
        }
    }
    Some(segments)
}

fn percent_decode(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        if b == b'%' {
            let hi = hex_value(*bytes.next()?)?;
            let lo = hex_value(*bytes.next()?)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether a path names a file that never changes under its name: one
/// below a `pool/` or `by-hash/` directory.
pub(super) fn is_immutable(segments: &[String]) -> bool {
    segments
        .iter()
        .rev()
        .skip(1)
        .any(|s| s == "pool" || s == "by-hash")
}

/// Escapes all but RFC 3986 unreserved characters.
pub(super) fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decoded_and_traversal_rejected() {
        assert_eq!(
            parse_path("/dists//stable/./InRelease"),
            Some(vec!["dists".into(), "stable".into(), "InRelease".into()])
        );
        assert_eq!(
            parse_path("/pool/a%2Bb%20c"),
            Some(vec!["pool".into(), "a+b c".into()])
        );
        assert_eq!(parse_path("/"), Some(vec![]));
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/dists/%2E%2E/%2E%2E/etc/passwd",
            "/pool/..%2f..%2fetc/passwd",
            "/pool/%2e./x",
            "/a%00b",
            "/a%5cb",
            "/a\\b",
            "/bad%zz",
            "/trunc%2",
            "/%ff%fe",
            "relative",
        ] {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
        assert_eq!(
            parse_path("/pool/...deb"),
            Some(vec!["pool".into(), "...deb".into()])
        );
    }

    #[test]
    fn pool_and_by_hash_files_are_immutable() {
        let segs = |p: &str| p.split('/').map(String::from).collect::<Vec<_>>();
        assert!(is_immutable(&segs("pool/main/c/curl/curl.deb")));
        assert!(is_immutable(&segs(
            "dists/stable/main/binary-amd64/by-hash/SHA256/ab"
        )));
        assert!(!is_immutable(&segs("dists/stable/InRelease")));
        assert!(!is_immutable(&segs(
            "dists/stable/main/binary-amd64/Packages.xz"
        )));
        assert!(!is_immutable(&segs("pool")));
    }
}
