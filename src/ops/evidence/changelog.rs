//! The changelog between two versions of each changed package: the entries
//! after the old version up to the new one, their CVE IDs and the highest
//! urgency, from the new .deb's `changelog.Debian`.
//!
//! Changelogs come from the database's cache by .deb SHA256 (publish fills
//! it); a .deb not read yet is read from the blob store now and its
//! changelog recorded, so the next review is a pure cache read.

use std::collections::HashMap;

use serde::Serialize;

use super::EvidenceError;
use crate::debian::changelog::{self, Entry, Urgency};
use crate::debian::deb_scan::{ScanLimits, Want};
use crate::digest::Sha256;
use crate::ops::Context;
use crate::ops::deb_scans::{DebRef, read_deb};

/// One change to explain.
#[derive(Clone, Debug)]
pub struct ChangeQuery {
    /// Binary package name.
    pub name: String,
    /// Architecture.
    pub architecture: String,
    /// The version it replaces (`None`: a new package).
    pub old_version: Option<String>,
    /// The version it becomes (`None`: a removal).
    pub new_version: Option<String>,
    /// SHA256 of the new .deb (`None`: a removal or a source package).
    pub new_sha256: Option<Sha256>,
}

/// What kind of change a [`ChangeEvidence`] explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A package the old side does not have.
    New,
    /// A higher version.
    Upgrade,
    /// A lower version: the changelog has nothing newer to show.
    Downgrade,
    /// The same version (other content, or a rebuild).
    SameVersion,
    /// Gone on the new side.
    Removed,
}

/// The changelog evidence of one change.
#[derive(Clone, Debug, Serialize)]
pub struct ChangeEvidence {
    /// What kind of change.
    pub kind: ChangeKind,
    /// Whether the new .deb has a changelog at all.
    pub has_changelog: bool,
    /// Entries after the old version up to the new one, newest first.
    pub entries: Vec<Entry>,
    /// CVE IDs the entries name.
    pub cves: Vec<String>,
    /// Highest urgency of the entries.
    pub urgency: Option<Urgency>,
}

impl ChangeEvidence {
    /// A one-line summary: `new package`, `downgrade`, urgency and CVEs.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        match self.kind {
            ChangeKind::New => parts.push("new package".to_owned()),
            ChangeKind::Downgrade => parts.push("downgrade".to_owned()),
            ChangeKind::Removed => parts.push("removed".to_owned()),
            ChangeKind::SameVersion => parts.push("same version".to_owned()),
            ChangeKind::Upgrade => {}
        }
        if !self.has_changelog && self.kind != ChangeKind::Removed {
            parts.push("no changelog".to_owned());
        }
        if let Some(u) = self.urgency {
            parts.push(format!("urgency {}", u.as_str()));
        }
        if !self.cves.is_empty() {
            parts.push(self.cves.join(", "));
        }
        parts.join("; ")
    }
}

/// The entry as a changelog writes it.
pub fn entry_text(e: &Entry) -> String {
    let mut s = format!(
        "{} ({}) {}; urgency={}\n",
        e.package,
        e.version,
        e.distributions.join(" "),
        e.urgency.as_str()
    );
    if !e.body.is_empty() {
        s.push('\n');
        for l in &e.body {
            s.push_str(l);
            s.push('\n');
        }
        s.push('\n');
    }
    if let Some(m) = &e.maintainer {
        s.push_str(" -- ");
        s.push_str(m);
        if let Some(d) = &e.date {
            s.push_str("  ");
            s.push_str(d);
        }
        s.push('\n');
    }
    s
}

/// The evidence of each of `changes`, in order.
pub fn explain(
    ctx: &mut Context,
    changes: &[ChangeQuery],
) -> Result<Vec<ChangeEvidence>, EvidenceError> {
    let logs = changelogs(ctx, changes)?;
    // One parse per changelog: the packages of a source share one.
    let mut parsed: HashMap<Sha256, Vec<Entry>> = HashMap::new();
    let mut out = Vec::with_capacity(changes.len());
    for c in changes {
        let text = c
            .new_sha256
            .and_then(|s| logs.get(&s))
            .and_then(Option::as_ref);
        let entries: &[Entry] = match (c.new_sha256, text) {
            (Some(sha), Some(text)) => parsed.entry(sha).or_insert_with(|| changelog::parse(text)),
            _ => &[],
        };
        out.push(evidence(c, text.is_some(), entries));
    }
    Ok(out)
}

/// The evidence of one change from its changelog's `entries` (pure).
pub fn evidence(c: &ChangeQuery, has_changelog: bool, entries: &[Entry]) -> ChangeEvidence {
    use std::cmp::Ordering;
    let kind = match (&c.old_version, &c.new_version) {
        (_, None) => ChangeKind::Removed,
        (None, Some(_)) => ChangeKind::New,
        (Some(o), Some(n)) => match crate::debian::version::compare(n, o) {
            Ordering::Greater => ChangeKind::Upgrade,
            Ordering::Less => ChangeKind::Downgrade,
            Ordering::Equal => ChangeKind::SameVersion,
        },
    };
    let span = match &c.new_version {
        Some(n) => changelog::span(entries, c.old_version.as_deref(), n),
        None => changelog::span(&[], None, ""),
    };
    ChangeEvidence {
        kind,
        has_changelog,
        entries: span.entries,
        cves: span.cves,
        urgency: span.urgency,
    }
}

/// The changelog of each new .deb of `changes`, reading the ones the cache
/// lacks from the blob store and recording them.
fn changelogs(
    ctx: &mut Context,
    changes: &[ChangeQuery],
) -> Result<HashMap<Sha256, Option<Vec<u8>>>, EvidenceError> {
    let mut shas: Vec<Sha256> = changes.iter().filter_map(|c| c.new_sha256).collect();
    shas.sort_unstable();
    shas.dedup();
    let mut logs = ctx.db.deb_changelogs(&shas)?;
    let limits = ScanLimits::default();
    let mut read = Vec::new();
    for c in changes {
        let Some(sha) = c.new_sha256 else { continue };
        if logs.contains_key(&sha) {
            continue;
        }
        let deb = DebRef {
            sha256: sha,
            name: &c.name,
            version: c.new_version.as_deref().unwrap_or_default(),
            architecture: &c.architecture,
        };
        let scan = read_deb(&ctx.store, &deb, &limits, Want::Changelog)?;
        logs.insert(sha, scan.changelog.clone());
        read.push((sha, scan.changelog));
    }
    if !read.is_empty() {
        ctx.db.record_deb_changelogs(&read)?;
    }
    Ok(logs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn q(old: Option<&str>, new: Option<&str>) -> ChangeQuery {
        ChangeQuery {
            name: "hello".into(),
            architecture: "amd64".into(),
            old_version: old.map(Into::into),
            new_version: new.map(Into::into),
            new_sha256: None,
        }
    }

    #[test]
    fn kinds_and_summaries() {
        let log = "hello (2) unstable; urgency=high\n\n  * CVE-2024-0001\n\n -- A <a@b>  Mon, 01 Jan 2024 00:00:00 +0000\n\nhello (1) unstable; urgency=low\n\n  * old\n\n -- A <a@b>  Mon, 01 Jan 2023 00:00:00 +0000\n";
        let entries = changelog::parse(log.as_bytes());
        let up = evidence(&q(Some("1"), Some("2")), true, &entries);
        assert_eq!(up.kind, ChangeKind::Upgrade);
        assert_eq!(up.summary(), "urgency high; CVE-2024-0001");
        assert_eq!(
            entry_text(&up.entries[0]),
            log.split("\nhello (1)").next().unwrap()
        );
        let down = evidence(&q(Some("2"), Some("1")), true, &entries);
        assert_eq!(down.summary(), "downgrade");
        let new = evidence(&q(None, Some("1")), true, &entries);
        assert_eq!(new.summary(), "new package; urgency low");
        assert_eq!(
            evidence(&q(Some("1"), None), false, &[]).summary(),
            "removed"
        );
        assert_eq!(
            evidence(&q(Some("1"), Some("2")), false, &[]).summary(),
            "no changelog"
        );
    }
}
