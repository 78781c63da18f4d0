//! What a publication adds from inside the .debs: `Contents-<arch>.gz`
//! per component and architecture, and one `changelog` per source version
//! under `<prefix>/changelogs/` for `apt changelog`.
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
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::PublishError;
use crate::db::{Db, ListOrigin};
use crate::debian::contents::write_line;
use crate::debian::deb_scan::{DebScan, ScanLimits, scan};
use crate::debian::deb822::find_field;
use crate::debian::packages::is_udeb;
use crate::debian::sources::{SOURCE_ARCH, split_source_field};
use crate::digest::Sha256;
use crate::model::PackageRecord;
use crate::store::BlobStore;
use crate::tree::{IndexInput, IndexKind, layout};

/// The directory of changelogs below a prefix.
pub(crate) const CHANGELOGS_DIR: &str = "changelogs";

/// .debs read at once.
const READERS: usize = 4;

/// Scans recorded in one transaction.
const BATCH: usize = 512;

/// What [`prepare`] gives a backend.
#[derive(Debug, Default)]
pub(super) struct Extras {
    /// The Contents indices.
    pub(super) contents: Vec<IndexInput>,
    /// Changelog files: path below the prefix and text.
    pub(super) changelogs: Vec<(String, Vec<u8>)>,
    /// .debs read now.
    pub(super) debs_read: u64,
}

/// [`prepare`] when the publication has Contents (its `no-contents`
/// setting is off), else nothing.
pub(super) fn for_job(
    db: &mut Db,
    store: &BlobStore,
    records: &[(String, PackageRecord)],
    job: &super::Job<'_>,
) -> Result<Extras, PublishError> {
    if job.settings.no_contents {
        return Ok(Extras::default());
    }
    let extras = prepare(db, store, records, &job.architectures())?;
    tracing::debug!(elapsed = ?job.started.elapsed(), debs_read = extras.debs_read, "contents prepared");
    Ok(extras)
}

/// Writes the changelog files below the prefix directory `base`. A file
/// already there with the same size is kept (as pool files are); one of
/// another size (cut short by a crash) is replaced. Each file appears
/// whole (written under a temporary name, then renamed) but is not fsynced
/// here: the publish makes the whole file system durable with one `syncfs`
/// before the switch, which for tens of thousands of small files is
/// seconds instead of minutes.
pub(super) fn write_changelogs_local(
    base: &Path,
    changelogs: &[(String, Vec<u8>)],
) -> Result<(), PublishError> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;

    use crate::atomic_file::{PUBLIC_DIR, WriteOptions, create_dir_all};
    let mut made: HashSet<&Path> = HashSet::new();
    let paths: Vec<_> = changelogs.iter().map(|(rel, _)| base.join(rel)).collect();
    for (path, (_, text)) in paths.iter().zip(changelogs) {
        match std::fs::metadata(path) {
            Ok(m) if m.len() == text.len() as u64 => continue,
            _ => {}
        }
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            continue;
        };
        if made.insert(dir) {
            create_dir_all(dir, PUBLIC_DIR).map_err(super::io_err("create", dir))?;
        }
        let mut tmp_name = std::ffi::OsString::from(".debvault-tmp-");
        tmp_name.push(name);
        let tmp = dir.join(tmp_name);
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.set_permissions(std::fs::Permissions::from_mode(WriteOptions::PUBLIC.mode))?;
            f.write_all(text)
        });
        written.map_err(super::io_err("write", &tmp))?;
        std::fs::rename(&tmp, path).map_err(super::io_err("rename", &tmp))?;
    }
    Ok(())
}

/// Uploads the changelog files below the prefix bucket `base`, each once.
pub(super) fn upload_changelogs(
    base: &crate::store::Bucket,
    changelogs: &[(String, Vec<u8>)],
) -> Result<(), PublishError> {
    use crate::store::s3::block_on;
    for (rel, text) in changelogs {
        let (b, rel, data) = (base.clone(), rel.clone(), bytes::Bytes::from(text.clone()));
        block_on(async move {
            if b.head(&rel).await?.is_none() {
                b.put(&rel, data).await?;
            }
            Ok::<(), crate::store::StoreError>(())
        })??;
    }
    Ok(())
}

/// File lists and changelogs of `records`, reading the .debs the database
/// lacks, and the Contents lines of each component × architecture of
/// `archs` (`all` left out: its packages are in every file).
pub(super) fn prepare(
    db: &mut Db,
    store: &BlobStore,
    records: &[(String, PackageRecord)],
    archs: &[String],
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
    let known: HashSet<Sha256> = db.deb_file_lists_known(&shas)?.into_iter().collect();
    let logs = db.deb_changelogs_known(&shas)?;
    let groups = source_groups(records);
    let mut wanted: Vec<&PackageRecord> = Vec::new();
    let mut seen = HashSet::new();
    for (_, r) in debs() {
        if !known.contains(&r.sha256) && seen.insert(r.sha256) {
            wanted.push(r);
        }
    }
    for members in groups.values() {
        let has_log = members.iter().any(|r| logs.get(&r.sha256) == Some(&true));
        if has_log {
            continue;
        }
        for r in members {
            if !logs.contains_key(&r.sha256) && seen.insert(r.sha256) {
                wanted.push(r);
            }
        }
    }
    // On-demand files not fetched yet cannot be read (seeded lists serve).
    wanted.retain(|r| super::ondemand::held(store, r));
    let debs_read = read_debs(db, store, &wanted, &known)?;

    let lists = db.deb_file_lists(&shas)?;
    let contents = contents_lines(records, &lists, archs);
    // One text per source version: the first member that has one.
    let logs = db.deb_changelogs_known(&shas)?;
    let chosen: Vec<Option<Sha256>> = groups
        .values()
        .map(|members| {
            members
                .iter()
                .map(|r| r.sha256)
                .find(|sha| logs.get(sha) == Some(&true))
        })
        .collect();
    let wanted: Vec<Sha256> = chosen.iter().flatten().copied().collect();
    let texts = db.deb_changelogs(&wanted)?;
    let mut changelogs = Vec::new();
    for (((component, source, version), _), sha) in groups.iter().zip(&chosen) {
        let Some(text) = sha.and_then(|sha| texts.get(&sha)).and_then(Option::as_ref) else {
            continue;
        };
        if let Some(path) = changelog_path(component, source, version) {
            changelogs.push((path, text.clone()));
        }
    }
    Ok(Extras {
        contents,
        changelogs,
        debs_read,
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
        let version = source_version(r);
        out.entry((c.clone(), r.source.clone(), version))
            .or_default()
            .push(r);
    }
    out
}

/// The source version of a binary: `Source: name (version)`, else its own.
fn source_version(r: &PackageRecord) -> String {
    find_field(&r.stanza, "Source")
        .and_then(|v| split_source_field(v).1)
        .unwrap_or(&r.version)
        .to_owned()
}

/// apt's `@CHANGEPATH@` file below the prefix:
/// `changelogs/<component>/<x>/<source>/<source>_<version>_changelog`,
/// `x` the first letter (four for `lib*`), the epoch dropped; `None` when a
/// part would not be a safe path segment.
pub(crate) fn changelog_path(component: &str, source: &str, version: &str) -> Option<String> {
    let version = version.split_once(':').map_or(version, |(_, v)| v);
    let x = if source.starts_with("lib") {
        source.get(..4).unwrap_or(source)
    } else {
        source.get(..1)?
    };
    let file = format!("{source}_{version}_changelog");
    let ok = component.split('/').all(layout::valid_segment)
        && [x, source, file.as_str()]
            .iter()
            .all(|s| layout::valid_segment(s));
    ok.then(|| format!("{CHANGELOGS_DIR}/{component}/{x}/{source}/{file}"))
}

/// The `Changelogs` field for a prefix reached at `base_url`.
pub(crate) fn changelogs_field(base_url: &str) -> String {
    format!(
        "{}/{CHANGELOGS_DIR}/@CHANGEPATH@_changelog",
        base_url.trim_end_matches('/')
    )
}

/// Reads `debs` from the store, [`READERS`] at a time, and records their
/// file lists (those not in `known`) and changelogs as they come, a batch
/// at a time. Returns how many were read.
///
/// Recording as they come keeps memory flat: a scan's decoders churn tens
/// of kilobytes each while its few small results stay, and holding all
/// results to the end fragmented the heap to about 48 KB per .deb (2.9 GB
/// of RSS for 60,000 .debs).
fn read_debs(
    db: &mut Db,
    store: &BlobStore,
    debs: &[&PackageRecord],
    known: &HashSet<Sha256>,
) -> Result<u64, PublishError> {
    if debs.is_empty() {
        return Ok(0);
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let limits = ScanLimits::default();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(Sha256, DebScan), PublishError>>(BATCH);
    std::thread::scope(|s| {
        for _ in 0..READERS.min(debs.len()) {
            let tx = tx.clone();
            let (next, failed, limits) = (&next, &failed, &limits);
            s.spawn(move || {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(r) = debs.get(i) else { break };
                    let scanned = read_one(store, r, limits).map(|scan| (r.sha256, scan));
                    if scanned.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if tx.send(scanned).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // `rx` goes with the call: a reader blocked on a full channel is
        // released when recording stops early.
        let result = record_as_read(db, rx.into_iter(), known);
        if result.is_err() {
            // The readers stop at their next .deb.
            failed.store(true, Ordering::Relaxed);
        }
        result
    })
}

/// Records scans as they arrive, [`BATCH`] at a time; the first error ends it.
fn record_as_read(
    db: &mut Db,
    scans: impl Iterator<Item = Result<(Sha256, DebScan), PublishError>>,
    known: &HashSet<Sha256>,
) -> Result<u64, PublishError> {
    let (mut lists, mut logs) = (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH));
    let mut read = 0;
    let mut flush = |lists: &mut Vec<_>, logs: &mut Vec<_>| -> Result<(), PublishError> {
        db.record_deb_file_lists(lists, ListOrigin::Deb)?;
        db.record_deb_changelogs(logs)?;
        lists.clear();
        logs.clear();
        Ok(())
    };
    for scanned in scans {
        let (sha, scan) = scanned?;
        read += 1;
        if !known.contains(&sha) {
            lists.push((sha, scan.files));
        }
        logs.push((sha, scan.changelog));
        if logs.len() >= BATCH {
            flush(&mut lists, &mut logs)?;
        }
    }
    flush(&mut lists, &mut logs)?;
    Ok(read)
}

/// One .deb's scan, from its local blob or a temporary copy of a remote one.
pub(crate) fn read_one(
    store: &BlobStore,
    r: &PackageRecord,
    limits: &ScanLimits,
) -> Result<DebScan, PublishError> {
    let package = format!("{}_{}_{}", r.name, r.version, r.architecture);
    let (path, temp) = match store.local_path(&r.sha256) {
        Some(p) => (p, None),
        None => {
            let p = store.staging_path(None)?;
            store.fetch_to(&r.sha256, &p)?;
            (p.clone(), Some(p))
        }
    };
    let result = scan_file(&path, &r.name, limits).map_err(|source| PublishError::BadDeb {
        package,
        source: Box::new(source),
    });
    if let Some(t) = temp {
        let _ = std::fs::remove_file(t);
    }
    result
}

fn scan_file(
    path: &Path,
    name: &str,
    limits: &ScanLimits,
) -> Result<DebScan, crate::debian::deb::DebError> {
    let read_err = |source| crate::debian::deb::DebError::Read {
        member: path.display().to_string(),
        offset: 0,
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let len = file.metadata().map_err(read_err)?.len();
    scan(
        std::io::BufReader::with_capacity(64 * 1024, file),
        len,
        name,
        limits,
    )
}

/// The Contents lines of each component × architecture; the installer's
/// packages (udebs) in `Contents-udeb-<arch>` beside them, when the
/// publication holds any.
fn contents_lines(
    records: &[(String, PackageRecord)],
    lists: &HashMap<Sha256, Vec<String>>,
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
                let members: Vec<(String, &[String])> = recs
                    .iter()
                    .filter(|r| r.architecture == *arch || r.architecture == "all")
                    .filter(|r| is_udeb(&r.filename) == udeb)
                    .filter_map(|r| {
                        let files = lists.get(&r.sha256)?;
                        Some((location(r), files.as_slice()))
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
fn merge(members: &[(String, &[String])]) -> Vec<String> {
    let mut heap: BinaryHeap<Reverse<(&str, usize, usize)>> = members
        .iter()
        .enumerate()
        .filter_map(|(m, (_, files))| files.first().map(|f| Reverse((f.as_str(), m, 0))))
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
    members: &'a [(String, &'a [String])],
    m: usize,
    i: usize,
) {
    if let Some(next) = members[m].1.get(i + 1) {
        heap.push(Reverse((next.as_str(), m, i + 1)));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn changepaths_follow_apt() {
        assert_eq!(
            changelog_path("main", "libfoo", "1:2.0-1").as_deref(),
            Some("changelogs/main/libf/libfoo/libfoo_2.0-1_changelog")
        );
        assert_eq!(
            changelog_path("main", "hello", "1.0").as_deref(),
            Some("changelogs/main/h/hello/hello_1.0_changelog")
        );
        assert_eq!(changelog_path("main", "../x", "1"), None);
        assert_eq!(
            changelogs_field("http://h:1/deb/"),
            "http://h:1/deb/changelogs/@CHANGEPATH@_changelog"
        );
    }

    #[test]
    fn merge_joins_packages_sharing_a_path() {
        let a = vec!["bin/a".to_owned(), "usr/share/x".to_owned()];
        let b = vec!["bin/b".to_owned(), "usr/share/x".to_owned()];
        let members = vec![
            ("utils/zed".to_owned(), a.as_slice()),
            ("libs/alpha".to_owned(), b.as_slice()),
        ];
        let got = merge(&members);
        assert_eq!(got.len(), 3);
        assert!(got[0].starts_with("bin/a ") && got[0].ends_with(" utils/zed\n"));
        assert!(got[2].ends_with(" libs/alpha,utils/zed\n"), "{}", got[2]);
    }
}
