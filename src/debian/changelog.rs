//! Debian changelogs (`debian/changelog`, shipped as
//! `usr/share/doc/<package>/changelog.Debian.gz`): the entries, newest
//! first, and what a reviewer wants from the span between two versions —
//! the entries, the CVE IDs they name and the highest urgency.
//!
//! Parsing is lenient the way `dpkg-parsechangelog` is: lines that belong
//! to no entry (Emacs trailers, old-format history at the bottom) are
//! skipped, an entry without a trailer still counts. It is bounded: at most
//! [`MAX_ENTRIES`] entries and [`MAX_BODY_LINES`] body lines each are kept,
//! and the input itself is bounded by the .deb scan that read it.

use std::cmp::Ordering;

use serde::Serialize;

use super::version;

/// Most entries read from one changelog (Debian's longest have a few
/// thousand).
pub const MAX_ENTRIES: usize = 20_000;

/// Most body lines kept per entry.
pub const MAX_BODY_LINES: usize = 2_000;

/// Urgency of an upload, lowest first (`debian-policy` §5.6.17).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// `low`, and any value not known.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `emergency`.
    Emergency,
    /// `critical`.
    Critical,
}

impl Urgency {
    /// The urgency a field value names (case-insensitive; anything after
    /// a space, like ` (HIGH for hurd-i386)`, ignored); unknown is `Low`.
    pub fn parse(s: &str) -> Urgency {
        let word = s.split_whitespace().next().unwrap_or_default();
        match word.to_ascii_lowercase().as_str() {
            "medium" => Urgency::Medium,
            "high" => Urgency::High,
            "emergency" => Urgency::Emergency,
            "critical" => Urgency::Critical,
            _ => Urgency::Low,
        }
    }

    /// The word as a changelog writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Medium => "medium",
            Urgency::High => "high",
            Urgency::Emergency => "emergency",
            Urgency::Critical => "critical",
        }
    }
}

/// One entry of a changelog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Source package name.
    pub package: String,
    /// Version, as written.
    pub version: String,
    /// Distributions (`unstable`, `bookworm-security`, …).
    pub distributions: Vec<String>,
    /// Urgency.
    pub urgency: Urgency,
    /// The lines between header and trailer, leading and trailing blank
    /// lines dropped.
    pub body: Vec<String>,
    /// Maintainer of the trailer (`Name <email>`), if the entry has one.
    pub maintainer: Option<String>,
    /// Date of the trailer, as written (RFC 2822), if any.
    pub date: Option<String>,
}

/// Reads the entries of `text`, newest first (as written).
pub fn parse(text: &[u8]) -> Vec<Entry> {
    let text = String::from_utf8_lossy(text);
    let mut out: Vec<Entry> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        if let Some(entry) = header(line) {
            if out.len() >= MAX_ENTRIES {
                break;
            }
            finish(out.last_mut());
            out.push(entry);
            open = true;
            continue;
        }
        let Some(cur) = out.last_mut().filter(|_| open) else {
            continue;
        };
        if let Some(rest) = line.strip_prefix(" -- ") {
            let (who, when) = match rest.split_once("  ") {
                Some((w, d)) => (w.trim(), Some(d.trim().to_owned())),
                None => (rest.trim(), None),
            };
            cur.maintainer = Some(who.to_owned());
            cur.date = when;
            finish(Some(cur));
            open = false;
        } else if line.starts_with([' ', '\t']) || line.is_empty() {
            if cur.body.len() < MAX_BODY_LINES {
                cur.body.push(line.trim_end().to_owned());
            }
        } else {
            // Not an entry line (an Emacs trailer, old history): the entry ends.
            finish(Some(cur));
            open = false;
        }
    }
    finish(out.last_mut());
    out
}

/// Drops the blank lines at either end of an entry's body.
fn finish(entry: Option<&mut Entry>) {
    let Some(e) = entry else { return };
    while e.body.last().is_some_and(|l| l.is_empty()) {
        e.body.pop();
    }
    let lead = e.body.iter().take_while(|l| l.is_empty()).count();
    e.body.drain(..lead);
}

/// `package (version) dist…; key=value, …` as an entry without body.
fn header(line: &str) -> Option<Entry> {
    let first = line.chars().next()?;
    if !first.is_ascii_alphanumeric() {
        return None;
    }
    let (package, rest) = line.split_once(" (")?;
    if package.is_empty()
        || !package
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let (ver, rest) = rest.split_once(')')?;
    let (dists, fields) = rest.split_once(';')?;
    if ver.is_empty() || ver.contains(char::is_whitespace) {
        return None;
    }
    let mut urgency = Urgency::Low;
    for kv in fields.split(',') {
        if let Some((k, v)) = kv.split_once('=')
            && k.trim().eq_ignore_ascii_case("urgency")
        {
            urgency = Urgency::parse(v.trim());
        }
    }
    Some(Entry {
        package: package.to_owned(),
        version: ver.to_owned(),
        distributions: dists.split_whitespace().map(str::to_owned).collect(),
        urgency,
        body: Vec::new(),
        maintainer: None,
        date: None,
    })
}

/// The CVE IDs (`CVE-YYYY-NNNN…`) in `text`, in order of first mention.
pub fn cve_ids(text: &str, out: &mut Vec<String>) {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text.get(i..).and_then(|t| t.find("CVE-")) {
        let start = i + at;
        let year = start + 4;
        let digits = |from: usize| {
            b.get(from..)
                .map_or(0, |s| s.iter().take_while(|c| c.is_ascii_digit()).count())
        };
        let ok_year = digits(year) == 4 && b.get(year + 4) == Some(&b'-');
        let n = if ok_year { digits(year + 5) } else { 0 };
        // A word boundary before: `XCVE-` is not a CVE ID.
        let bounded = start == 0 || !b[start - 1].is_ascii_alphanumeric();
        if ok_year && n >= 4 && bounded {
            let end = year + 5 + n;
            let id = &text[start..end];
            if !out.iter().any(|c| c == id) {
                out.push(id.to_owned());
            }
            i = end;
        } else {
            i = start + 4;
        }
    }
}

/// What changed between two versions of a package, from the newer one's
/// changelog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The entries newer than the old version, up to and including the
    /// new one, newest first. Empty for a downgrade.
    pub entries: Vec<Entry>,
    /// The CVE IDs these entries name.
    pub cves: Vec<String>,
    /// The highest urgency among them.
    pub urgency: Option<Urgency>,
}

/// The entries of `entries` (one changelog, newest first) after `old`
/// (`None`: a new package, whose span is its newest entry only) up to and
/// including `new`, in dpkg order; a downgrade has none.
pub fn span(entries: &[Entry], old: Option<&str>, new: &str) -> Span {
    let chosen: Vec<Entry> = match old {
        Some(o) if version::compare(new, o) != Ordering::Greater => Vec::new(),
        Some(o) => entries
            .iter()
            .filter(|e| {
                version::compare(&e.version, o) == Ordering::Greater
                    && version::compare(&e.version, new) != Ordering::Greater
            })
            .cloned()
            .collect(),
        None => entries
            .iter()
            .find(|e| version::compare(&e.version, new) != Ordering::Greater)
            .cloned()
            .into_iter()
            .collect(),
    };
    let mut cves = Vec::new();
    for e in &chosen {
        for l in &e.body {
            cve_ids(l, &mut cves);
        }
    }
    Span {
        urgency: chosen.iter().map(|e| e.urgency).max(),
        entries: chosen,
        cves,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LOG: &str = "\
openssl (3.0.15-1~deb12u1) bookworm-security; urgency=high

  * Fix CVE-2024-5535 and CVE-2024-9143.
  * Also mentions CVE-2024-5535 again, and XCVE-2024-1111 and CVE-24-1.

 -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Sun, 27 Oct 2024 20:01:22 +0100

openssl (3.0.14-1~deb12u2) bookworm; urgency=medium

  * Rebuild.

 -- Someone <s@example.invalid>  Mon, 01 Jul 2024 00:00:00 +0000

openssl (3.0.11-1~deb12u2) bookworm-security; urgency=MEDIUM, binary-only=yes
  * Older CVE-2023-5678.
 -- Someone <s@example.invalid>  Mon, 01 Jan 2024 00:00:00 +0000

Local variables:
mode: debian-changelog
End:
";

    #[test]
    fn reads_entries_newest_first() {
        let e = parse(LOG.as_bytes());
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].package, "openssl");
        assert_eq!(e[0].version, "3.0.15-1~deb12u1");
        assert_eq!(e[0].distributions, ["bookworm-security"]);
        assert_eq!(e[0].urgency, Urgency::High);
        assert_eq!(e[0].body.len(), 2);
        assert_eq!(
            e[0].maintainer.as_deref(),
            Some("Sebastian Andrzej Siewior <sebastian@breakpoint.cc>")
        );
        assert_eq!(
            e[0].date.as_deref(),
            Some("Sun, 27 Oct 2024 20:01:22 +0100")
        );
        assert_eq!(e[2].urgency, Urgency::Medium);
        assert_eq!(e[2].body, ["  * Older CVE-2023-5678."]);
    }

    #[test]
    fn span_between_versions() {
        let e = parse(LOG.as_bytes());
        let s = span(&e, Some("3.0.11-1~deb12u2"), "3.0.15-1~deb12u1");
        assert_eq!(s.entries.len(), 2);
        assert_eq!(s.cves, ["CVE-2024-5535", "CVE-2024-9143"]);
        assert_eq!(s.urgency, Some(Urgency::High));
        let s = span(&e, Some("3.0.14-1~deb12u2"), "3.0.14-1~deb12u2");
        assert!(s.entries.is_empty() && s.urgency.is_none());
        let down = span(&e, Some("3.0.15-1~deb12u1"), "3.0.11-1~deb12u2");
        assert!(down.entries.is_empty());
        let new = span(&e, None, "3.0.14-1~deb12u2");
        assert_eq!(new.entries.len(), 1);
        assert_eq!(new.cves, Vec::<String>::new());
    }

    #[test]
    fn garbage_is_no_entry() {
        for bad in [
            "",
            "(1) x; urgency=low",
            "a (1 x; u",
            " -- x",
            "a () x;",
            "\u{0}\u{ff}",
        ] {
            assert!(parse(bad.as_bytes()).is_empty(), "{bad:?}");
        }
        let mut out = Vec::new();
        cve_ids("CVE-2024-123 CVE-2024-", &mut out);
        assert!(out.is_empty());
    }
}
