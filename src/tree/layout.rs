//! Where a publication lives on a local endpoint, shared by publishing and
//! `serve`.
//!
//! ```text
//! <prefix>/pool/<component>/<x>/<source>/<file>      shared, write-once
//! <prefix>/dists/<distribution>  ->  ../.debvault/trees/<distribution>/<tree id>
//! <prefix>/.debvault/trees/<distribution>/<tree id>/ one immutable tree per switch
//! ```
//!
//! A tree id is the UTC time the tree was made, `%Y%m%dT%H%M%SZ` (the form
//! of apt's snapshot ids), with `-N` appended when one second saw several.
//! Trees are kept after they are replaced: their by-hash files serve clients
//! in the middle of an update, and `snapshots/<id>/` URLs (the Release's
//! `Snapshots` field, `apt --snapshot`) resolve to the tree that was current
//! at that time.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Directory of debvault's own files below a prefix (hidden from `serve`).
pub const PRIVATE_DIR: &str = ".debvault";

/// Tree directories below a prefix: `<TREES_DIR>/<distribution>/<tree id>`.
pub const TREES_DIR: &str = ".debvault/trees";

/// URL segment that introduces a snapshot id below a prefix.
pub const SNAPSHOTS_SEGMENT: &str = "snapshots";

const ID_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The tree id (and apt snapshot id) of a time.
pub fn tree_id(at: DateTime<Utc>) -> String {
    at.format(ID_FORMAT).to_string()
}

/// The time of a tree id or snapshot id (`-N` suffixes ignored).
pub fn parse_tree_id(id: &str) -> Option<DateTime<Utc>> {
    let stamp = id.get(..16)?;
    let rest = &id[16..];
    if !(rest.is_empty() || rest.strip_prefix('-').is_some_and(is_digits)) {
        return None;
    }
    NaiveDateTime::parse_from_str(stamp, ID_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Orders tree ids by time, then by their `-N` suffix.
pub fn tree_order(id: &str) -> Option<(DateTime<Utc>, u32)> {
    let at = parse_tree_id(id)?;
    let n = id.get(17..).and_then(|s| s.parse().ok()).unwrap_or(1);
    Some((at, n))
}

/// The tree that was current at snapshot id `snapshot`: the newest of
/// `trees` made at or before that second.
pub fn tree_at<'a>(trees: impl IntoIterator<Item = &'a str>, snapshot: &str) -> Option<&'a str> {
    let at = parse_tree_id(snapshot)?;
    if snapshot.len() != 16 {
        return None;
    }
    trees
        .into_iter()
        .filter_map(|t| tree_order(t).map(|o| (o, t)))
        .filter(|((t, _), _)| *t <= at)
        .max_by_key(|(o, _)| *o)
        .map(|(_, t)| t)
}

/// Where a publication is served below the endpoint: `dists/<dist>`, or
/// `<prefix>/dists/<dist>` for a prefix other than the root (`.`).
pub fn dists_path(prefix: &str, distribution: &str) -> String {
    if prefix == "." {
        format!("dists/{distribution}")
    } else {
        format!("{prefix}/dists/{distribution}")
    }
}

/// Whether `s` is a valid prefix segment or distribution name: letters,
/// digits, `.`, `_`, `+`, `-`, not starting with a dot.
pub fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_order() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T10:11:12Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(tree_id(t), "20261123T101112Z");
        assert_eq!(parse_tree_id("20261123T101112Z"), Some(t));
        assert_eq!(parse_tree_id("20261123T101112Z-3"), Some(t));
        assert_eq!(parse_tree_id("20261123T101112Z-"), None);
        assert_eq!(parse_tree_id("20261123T101112"), None);
        assert_eq!(parse_tree_id("../../etc"), None);
        assert!(tree_order("20261123T101112Z-2") > tree_order("20261123T101112Z"));
        assert!(tree_order("20261123T101112Z-10") > tree_order("20261123T101112Z-9"));
    }

    #[test]
    fn snapshot_ids_pick_the_tree_current_then() {
        let trees = [
            "20261101T000000Z",
            "20261110T120000Z",
            "20261110T120000Z-2",
            "20261120T000000Z",
        ];
        assert_eq!(tree_at(trees, "20261031T235959Z"), None);
        assert_eq!(tree_at(trees, "20261101T000000Z"), Some("20261101T000000Z"));
        assert_eq!(
            tree_at(trees, "20261115T000000Z"),
            Some("20261110T120000Z-2")
        );
        assert_eq!(tree_at(trees, "20261231T000000Z"), Some("20261120T000000Z"));
        assert_eq!(tree_at(trees, "20261231T000000Z-2"), None);
        assert_eq!(tree_at(trees, "latest"), None);
    }

    #[test]
    fn segments() {
        assert!(valid_segment("bookworm"));
        assert!(valid_segment("release-1.4"));
        assert!(!valid_segment(".debvault"));
        assert!(!valid_segment("a/b"));
        assert!(!valid_segment(""));
        assert!(!valid_segment(".."));
    }
}
