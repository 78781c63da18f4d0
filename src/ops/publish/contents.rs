//! What a publication adds from inside the .debs: `Contents-<arch>.gz`
//! per component and architecture, and the choice of one `changelog` per
//! source version (written beside the pool by `changelogs`); each has a
//! setting of its own (`no-contents`, `no-changelogs`).
//!
//! File lists and changelogs come from the database (by the .deb's SHA256,
//! seeded at sync or read by an earlier publish); the .debs it lacks are
//! read from the blob store now, a few at a time in parallel, and recorded
//! (see [`crate::debian::deb_scan`]). A .deb that cannot be read fails the
//! publish naming the package, before anything is switched.
//!
//! A Contents index is a sorted merge of the per-package lists (each kept
//! sorted): every package of the component for that architecture plus the
//! `all` ones, lines `path  section/name[,section/name…]` as Debian writes
//! them. The tree caches its compressed form by content, like any index.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use super::PublishError;
use super::changelogs::{Changelog, LocalLogs, changelog_path};
use crate::db::{Db, FileList};
use crate::debian::contents::write_line;
use crate::debian::deb_scan::DebScan;
use crate::debian::packages::is_udeb;
use crate::debian::sources::SOURCE_ARCH;
use crate::digest::Sha256;
use crate::model::PackageRecord;
use crate::ops::deb_scans::{DebRef, read_and_record};
use crate::store::BlobStore;
use crate::tree::{IndexInput, IndexKind};

/// What [`prepare`] gives a backend.
#[derive(Debug, Default)]
pub(super) struct Extras {
    /// The Contents indices.
    pub(super) contents: Vec<IndexInput>,
    /// Changelog files, one per source version that has a text.
    pub(super) changelogs: Vec<Changelog>,
    /// .debs read now.
    pub(super) debs_read: u64,
    /// .debs whose changelogs were written (or found) as they were read.
    pub(super) done: HashSet<Sha256>,
}

/// Where a local publish writes a changelog as soon as its .deb is read:
/// the writer, and the paths of each .deb whose text is its source
/// version's changelog if it has one.
type Direct<'a> = (&'a LocalLogs<'a>, HashMap<Sha256, Vec<String>>);

/// What a publication takes from inside its .debs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Wanted {
    /// `Contents-<arch>` indices (the file lists).
    pub(super) contents: bool,
    /// Changelogs.
    pub(super) changelogs: bool,
}

/// [`prepare`] for what the publication's settings ask for (`no-contents`,
/// `no-changelogs`); nothing when they ask for neither.
pub(super) fn for_job(
    db: &mut Db,
    store: &BlobStore,
    records: &[(String, PackageRecord)],
    job: &super::Job<'_>,
    remote: &HashSet<Sha256>,
    out: Option<&LocalLogs<'_>>,
) -> Result<Extras, PublishError> {
    let wanted = Wanted {
        contents: !job.settings.no_contents,
        changelogs: !job.settings.no_changelogs,
    };
    if !wanted.contents && !wanted.changelogs {
        return Ok(Extras::default());
    }
    let extras = prepare(
        db,
        store,
        records,
        &job.architectures(),
        remote,
        out,
        wanted,
    )?;
    tracing::debug!(elapsed = ?job.started.elapsed(), debs_read = extras.debs_read, "contents prepared");
    Ok(extras)
}

/// File lists and changelogs of `records`, as far as `wanted` asks for
/// them, reading the .debs the database lacks, and the Contents lines of
/// each component × architecture of `archs` (`all` left out: its packages
/// are in every file). The .debs of `remote` (on demand, not fetched yet)
/// are not read. With `out`, a changelog read now is written at once (see
/// [`Direct`]).
pub(super) fn prepare(
    db: &mut Db,
    store: &BlobStore,
    records: &[(String, PackageRecord)],
    archs: &[String],
    remote: &HashSet<Sha256>,
    out: Option<&LocalLogs<'_>>,
    wanted: Wanted,
) -> Result<Extras, PublishError> {
    // Source packages have no .deb: their files are not in Contents.
    let debs = || {
        records
            .iter()
            .filter(|(_, r)| r.architecture != SOURCE_ARCH)
    };
    let mut shas: Vec<Sha256> = debs().map(|(_, r)| r.sha256).collect();
    shas.sort_unstable();
    shas.dedup();
    // Without Contents no list is wanted: a .deb is read for its changelog
    // alone.
    let known: Option<HashSet<Sha256>> = match wanted.contents {
        true => Some(db.deb_file_lists_known(&shas)?.into_iter().collect()),
        false => None,
    };
    let logs = match wanted.changelogs {
        true => db.deb_changelogs_known(&shas)?,
        false => HashMap::new(),
    };
    let groups = match wanted.changelogs {
        true => source_groups(records),
        false => BTreeMap::new(),
    };
    let mut to_read: Vec<&PackageRecord> = Vec::new();
    let mut seen = HashSet::new();
    for (_, r) in debs() {
        if known.as_ref().is_some_and(|k| !k.contains(&r.sha256)) && seen.insert(r.sha256) {
            to_read.push(r);
        }
    }
    let mut direct: HashMap<Sha256, Vec<String>> = HashMap::new();
    for ((component, source, version), members) in &groups {
        let has_log = members.iter().any(|r| logs.get(&r.sha256) == Some(&true));
        if has_log {
            continue;
        }
        for r in members {
            if !logs.contains_key(&r.sha256) && seen.insert(r.sha256) {
                to_read.push(r);
            }
        }
        // The first member not known to lack one is the one whose text
        // the group takes, if it has one (as chosen below).
        if let Some(first) = members.iter().find(|r| logs.get(&r.sha256) != Some(&false))
            && let Some(path) = changelog_path(component, source, version)
        {
            direct.entry(first.sha256).or_default().push(path);
        }
    }
    // On-demand files not fetched yet cannot be read (seeded lists serve).
    to_read.retain(|r| !remote.contains(&r.sha256));
    let direct = out.map(|o| (o, direct));
    let started = std::time::Instant::now();
    tracing::debug!(debs = to_read.len(), "reading .debs");
    let to_read: Vec<DebRef<'_>> = to_read.into_iter().map(DebRef::of).collect();
    let on_read = |deb: &DebRef<'_>, scan: &DebScan| write_direct(direct.as_ref(), deb, scan);
    let (read, done) = read_and_record(db, store, &to_read, known.as_ref(), &on_read)?;
    let debs_read = read.len() as u64;
    tracing::debug!(debs_read, elapsed = ?started.elapsed(), "debs read and recorded");
    // What was read now joins what was known: whether each has a text.
    let mut logs = logs;
    logs.extend(read);

    let contents = match wanted.contents {
        true => contents_lines(records, &db.deb_file_lists(&shas)?, archs),
        false => Vec::new(),
    };
    tracing::debug!(elapsed = ?started.elapsed(), "contents lines merged");
    // One text per source version: the first member that has one.
    let changelogs = groups
        .iter()
        .filter_map(|((component, source, version), members)| {
            let deb = members
                .iter()
                .map(|r| r.sha256)
                .find(|sha| logs.get(sha) == Some(&true))?;
            let path = changelog_path(component, source, version)?;
            Some(Changelog { path, deb })
        })
        .collect();
    Ok(Extras {
        contents,
        changelogs,
        debs_read,
        done,
    })
}

/// The packages of each (component, source, source version).
fn source_groups(
    records: &[(String, PackageRecord)],
) -> BTreeMap<(String, String, String), Vec<&PackageRecord>> {
    let mut out: BTreeMap<_, Vec<&PackageRecord>> = BTreeMap::new();
    for (c, r) in records
        .iter()
        .filter(|(_, r)| r.architecture != SOURCE_ARCH)
    {
        let version = super::changelogs::source_version(r);
        out.entry((c.clone(), r.source.clone(), version))
            .or_default()
            .push(r);
    }
    out
}

/// Writes the changelog of `deb` where `direct` names it, into directories
/// that exist; whether every one is there now (else the writer that follows
/// the pool's maker writes what is missing, the text read from the
/// database).
fn write_direct(
    direct: Option<&Direct<'_>>,
    deb: &DebRef<'_>,
    scan: &DebScan,
) -> Result<bool, PublishError> {
    let (Some((out, paths)), Some(text)) = (direct, &scan.changelog) else {
        return Ok(false);
    };
    let Some(paths) = paths.get(&deb.sha256) else {
        return Ok(false);
    };
    let mut all = true;
    for path in paths {
        all &= out.write_if_dir(path, text)?.is_some();
    }
    Ok(all)
}

/// The Contents lines of each component × architecture; the installer's
/// packages (udebs) in `Contents-udeb-<arch>` beside them, when the
/// publication holds any.
fn contents_lines(
    records: &[(String, PackageRecord)],
    lists: &HashMap<Sha256, FileList>,
    archs: &[String],
) -> Vec<IndexInput> {
    let mut by_component: BTreeMap<&str, Vec<&PackageRecord>> = BTreeMap::new();
    for (c, r) in records {
        by_component.entry(c).or_default().push(r);
    }
    let any_udebs = records.iter().any(|(_, r)| is_udeb(&r.filename));
    let kinds: &[bool] = if any_udebs { &[false, true] } else { &[false] };
    let mut out = Vec::new();
    for (component, recs) in by_component {
        for arch in archs.iter().filter(|a| a.as_str() != "all") {
            for &udeb in kinds {
                let members: Vec<(String, Vec<&str>)> = recs
                    .iter()
                    .filter(|r| r.architecture == *arch || r.architecture == "all")
                    .filter(|r| is_udeb(&r.filename) == udeb)
                    .filter_map(|r| {
                        let files = lists.get(&r.sha256)?;
                        Some((location(r), files.paths().collect()))
                    })
                    .collect();
                out.push(IndexInput {
                    component: component.to_owned(),
                    kind: IndexKind::Contents {
                        architecture: arch.clone(),
                        udeb,
                    },
                    stanzas: merge(&members),
                });
            }
        }
    }
    out
}

/// `section/name` as Debian's Contents writes it.
fn location(r: &PackageRecord) -> String {
    let section = r
        .stanza
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("Section")
                .then(|| v.trim().to_owned())
        })
        .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
        .unwrap_or_else(|| "misc".to_owned());
    format!("{section}/{}", r.name)
}

/// The sorted merge of sorted file lists: one line per path, its packages
/// sorted by name and comma-joined.
fn merge(members: &[(String, Vec<&str>)]) -> Vec<String> {
    let mut heap: BinaryHeap<Reverse<(&str, usize, usize)>> = members
        .iter()
        .enumerate()
        .filter_map(|(m, (_, files))| files.first().map(|f| Reverse((*f, m, 0))))
        .collect();
    let mut out = Vec::new();
    let mut locs: Vec<&str> = Vec::new();
    while let Some(Reverse((path, m, i))) = heap.pop() {
        locs.clear();
        locs.push(&members[m].0);
        advance(&mut heap, members, m, i);
        while let Some(Reverse((p, m2, i2))) = heap.peek().copied() {
            if p != path {
                break;
            }
            heap.pop();
            locs.push(&members[m2].0);
            advance(&mut heap, members, m2, i2);
        }
        let name = |l: &&str| l.rsplit_once('/').map_or(*l, |(_, n)| n).to_owned();
        locs.sort_by_key(|l| (name(l), l.to_string()));
        locs.dedup();
        out.push(write_line(path, &locs));
    }
    out
}

fn advance<'a>(
    heap: &mut BinaryHeap<Reverse<(&'a str, usize, usize)>>,
    members: &'a [(String, Vec<&'a str>)],
    m: usize,
    i: usize,
) {
    if let Some(next) = members[m].1.get(i + 1) {
        heap.push(Reverse((*next, m, i + 1)));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn merge_joins_packages_sharing_a_path() {
        let members = vec![
            ("utils/zed".to_owned(), vec!["bin/a", "usr/share/x"]),
            ("libs/alpha".to_owned(), vec!["bin/b", "usr/share/x"]),
        ];
        let got = merge(&members);
        assert_eq!(got.len(), 3);
        assert!(got[0].starts_with("bin/a ") && got[0].ends_with(" utils/zed\n"));
        assert!(got[2].ends_with(" libs/alpha,utils/zed\n"), "{}", got[2]);
    }
}
