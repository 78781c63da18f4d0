//! Snapshots: immutable, named package sets made from mirrors, merges and
//! filters, and the comparisons between them.
//!
//! A snapshot only references packages (a shared, delta-encoded package set,
//! see `db::sets`), so creating one from a 60,000-package mirror writes one
//! small row, and identical snapshots share their set. The set algebra —
//! [`merge::merge_entries`] and [`diff_entries`] — is pure and unit-tested; the
//! functions around it load, check names and store.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::db::{Db, DbError, NewSnapshot, PackageSet, PackageSummary};
use crate::debian::deb822::find_field;
use crate::debian::version::{self, Version};
use crate::exit::{ExitCode, FAILURE, USAGE};
use crate::model::{PackageId, PackageKey, PackageRecord, Snapshot, SnapshotOrigin, valid_name};
use crate::query::{Candidate, ClosureOptions, Filter, FilterError, select};
use crate::tree::layout::dists_path;

mod merge;
pub use merge::{
    Downgrade, MergeStrategy, Merged, create_from_group, create_from_mirrors, create_from_sources,
    merge, merge_entries,
};

/// Why a snapshot operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// No snapshot by that name.
    #[error("snapshot `{0}` does not exist")]
    NoSnapshot(String),
    /// No mirror by that name.
    #[error("mirror `{0}` does not exist")]
    NoMirror(String),
    /// No local repository by that name.
    #[error("repo `{0}` does not exist")]
    NoRepo(String),
    /// The mirror was never synced.
    #[error("mirror `{0}` has not been synced yet; run `debvault mirror sync {0}` first")]
    NeverSynced(String),
    /// An invalid name.
    #[error(
        "snapshot name `{0}` is not valid: use letters, digits, `.`, `_` and `-`, starting with a letter or digit (at most 64)"
    )]
    BadName(String),
    /// The name is taken.
    #[error("snapshot `{0}` already exists; snapshots are immutable, choose another name")]
    Exists(String),
    /// Dropping a published snapshot.
    #[error("snapshot `{name}` is published as {}; drop those publications first", .publications.join(", "))]
    Published {
        /// The snapshot.
        name: String,
        /// `prefix/distribution` of each publication.
        publications: Vec<String>,
    },
    /// Nothing to take a snapshot of.
    #[error("no source given")]
    NoSources,
    /// A group no mirror is in.
    #[error("no mirror is in group `{0}`; add one with `debvault mirror edit MIRROR --group {0}`")]
    EmptyGroup(String),
    /// A filter expression that does not parse.
    #[error("invalid filter `{expr}`")]
    Filter {
        /// The expression.
        expr: String,
        /// Why.
        #[source]
        source: FilterError,
    },
    /// A stored package that does not parse (database corruption).
    #[error("stored package `{0}` has an invalid version")]
    BadVersion(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ExitCode for SnapshotError {
    fn exit_code(&self) -> u8 {
        match self {
            SnapshotError::BadName(_)
            | SnapshotError::Exists(_)
            | SnapshotError::Filter { .. }
            | SnapshotError::EmptyGroup(_) => USAGE,
            SnapshotError::Db(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

/// One package of a snapshot with the component it is listed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Component.
    pub component: String,
    /// The package.
    pub package: PackageSummary,
}

/// Loads the packages of a snapshot with their components.
pub fn entries(db: &Db, snapshot: &Snapshot) -> Result<Vec<Entry>, SnapshotError> {
    let set = db.package_set(snapshot.package_set)?;
    set_entries(db, &set)
}

fn set_entries(db: &Db, set: &PackageSet) -> Result<Vec<Entry>, SnapshotError> {
    let mut out = Vec::with_capacity(set.len());
    for (component, ids) in set.components() {
        for package in db.package_summaries(ids)? {
            out.push(Entry {
                component: component.to_owned(),
                package,
            });
        }
    }
    Ok(out)
}

/// Loads a snapshot by name.
pub fn load(db: &Db, name: &str) -> Result<Snapshot, SnapshotError> {
    db.snapshot(name)?
        .ok_or_else(|| SnapshotError::NoSnapshot(name.to_owned()))
}

/// `<base>-YYYYMMDD`, or with `-2`, `-3`, … appended when taken.
pub fn default_name(db: &Db, base: &str, today: NaiveDate) -> Result<String, SnapshotError> {
    let stem = format!("{base}-{}", today.format("%Y%m%d"));
    let mut name = stem.clone();
    let mut n = 1;
    while db.snapshot(&name)?.is_some() {
        n += 1;
        name = format!("{stem}-{n}");
    }
    Ok(name)
}

fn check_new_name(db: &Db, name: &str) -> Result<(), SnapshotError> {
    if !valid_name(name) {
        return Err(SnapshotError::BadName(name.to_owned()));
    }
    if db.snapshot(name)?.is_some() {
        return Err(SnapshotError::Exists(name.to_owned()));
    }
    Ok(())
}

fn set_of(entries: &[Entry]) -> PackageSet {
    let mut set = PackageSet::default();
    for e in entries {
        set.insert(&e.component, e.package.id);
    }
    set.normalize();
    set
}

fn store(
    db: &mut Db,
    name: &str,
    description: &str,
    origin: &SnapshotOrigin,
    architectures: &[String],
    set: &PackageSet,
) -> Result<Snapshot, SnapshotError> {
    let res = db.create_snapshot(&NewSnapshot {
        name,
        description,
        origin,
        architectures,
        set,
    });
    match res {
        Ok(_) => {}
        Err(DbError::SnapshotExists(n)) => return Err(SnapshotError::Exists(n)),
        Err(e) => return Err(e.into()),
    }
    load(db, name)
}

fn union_in_order<'a>(lists: impl IntoIterator<Item = &'a [String]>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for list in lists {
        for a in list {
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
    }
    out
}

/// Creates a snapshot of the packages of `source` matching `expr`, plus
/// their dependency closure with `with_deps`. Returns the snapshot and the
/// dependencies nothing satisfied (as `package: dependency` lines).
pub fn filter(
    db: &mut Db,
    name: &str,
    source: &str,
    expr: &str,
    with_deps: bool,
    follow_recommends: bool,
) -> Result<(Snapshot, Vec<String>), SnapshotError> {
    let parsed = Filter::parse(expr).map_err(|source| SnapshotError::Filter {
        expr: expr.to_owned(),
        source,
    })?;
    check_new_name(db, name)?;
    let src = load(db, source)?;
    let set = db.package_set(src.package_set)?;
    // The installer's packages last: they close among themselves.
    let (mut candidates, udebs): (Vec<Stored>, Vec<Stored>) = candidates(db, &set)?
        .into_iter()
        .partition(|c| !c.is_udeb());
    let debs = candidates.len();
    candidates.extend(udebs);
    let closure = ClosureOptions {
        with_deps,
        follow_recommends,
        follow_all_alternatives: false,
        architectures: src.architectures.clone(),
    };
    let mut selection = select(&candidates[..debs], &parsed, &closure);
    crate::query::udebs::select_apart(&candidates, debs, &parsed, &closure, &mut selection);
    // Source packages: those the filter names, and those of the binaries.
    let _ = crate::query::follow_sources(&candidates, &parsed, &mut selection);
    let picked: Vec<Entry> = selection
        .selected
        .iter()
        .map(|&i| candidates[i].entry.clone())
        .collect();
    let unresolved = selection
        .unresolved
        .iter()
        .map(|u| {
            format!(
                "{} ({}): {}",
                candidates[u.package].entry.package.key.name, u.architecture, u.dependency
            )
        })
        .collect();
    let description = format!(
        "`{source}` filtered by `{expr}`{}",
        if with_deps { " with dependencies" } else { "" }
    );
    let snap = store(
        db,
        name,
        &description,
        &SnapshotOrigin::Filter {
            source: source.to_owned(),
            filter: expr.to_owned(),
            with_deps,
        },
        &src.architectures,
        &set_of(&picked),
    )?;
    Ok((snap, unresolved))
}

/// The packages of `set` with their records, as filter candidates.
pub(crate) fn candidates(db: &Db, set: &PackageSet) -> Result<Vec<Stored>, SnapshotError> {
    let mut out = Vec::with_capacity(set.len());
    for (component, ids) in set.components() {
        // `packages` returns the records in the order of `ids`.
        for (id, record) in ids.iter().zip(db.packages(ids)?) {
            out.push(Stored::new(component, *id, record)?);
        }
    }
    Ok(out)
}

/// A stored package as a filter [`Candidate`].
pub(crate) struct Stored {
    pub(crate) entry: Entry,
    version: Version,
    stanza: String,
}

impl Stored {
    fn new(component: &str, id: PackageId, r: PackageRecord) -> Result<Stored, SnapshotError> {
        let version = Version::parse(&r.version)
            .map_err(|_| SnapshotError::BadVersion(format!("{}_{}", r.name, r.version)))?;
        Ok(Stored {
            entry: Entry {
                component: component.to_owned(),
                package: PackageSummary {
                    id,
                    key: PackageKey {
                        name: r.name,
                        version: r.version,
                        architecture: r.architecture,
                    },
                    sha256: r.sha256,
                    size: r.size,
                },
            },
            version,
            stanza: r.stanza,
        })
    }
}

impl Stored {
    /// Whether it is one of the installer's packages (a udeb).
    fn is_udeb(&self) -> bool {
        find_field(&self.stanza, "Filename").is_some_and(crate::debian::packages::is_udeb)
    }
}

impl Candidate for Stored {
    fn name(&self) -> &str {
        &self.entry.package.key.name
    }

    fn version(&self) -> &Version {
        &self.version
    }

    fn architecture(&self) -> &str {
        &self.entry.package.key.architecture
    }

    fn field(&self, name: &str) -> Option<&str> {
        find_field(&self.stanza, name)
    }
}

/// Deletes a snapshot that is not published.
pub fn drop(db: &mut Db, name: &str) -> Result<(), SnapshotError> {
    let snap = load(db, name)?;
    let pubs = db.publications_of(snap.id)?;
    if !pubs.is_empty() {
        return Err(SnapshotError::Published {
            name: name.to_owned(),
            publications: pubs
                .iter()
                .map(|p| format!("`{}`", dists_path(&p.prefix, &p.distribution)))
                .collect(),
        });
    }
    db.drop_snapshot(snap.id, &snap.name)?;
    Ok(())
}

/// Renames snapshot `old` to `new` (audited). Its publications follow.
pub fn rename(db: &mut Db, old: &str, new: &str) -> Result<(), SnapshotError> {
    let snap = load(db, old)?;
    check_new_name(db, new)?;
    db.rename_snapshot(snap.id, &snap.name, new)?;
    Ok(())
}

/// Counts of one component and architecture.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IndexCount {
    /// Component.
    pub component: String,
    /// Architecture.
    pub architecture: String,
    /// Packages.
    pub packages: u64,
    /// Bytes of their files.
    pub bytes: u64,
}

/// Per component and architecture counts, sorted, and the total size.
pub fn counts(entries: &[Entry]) -> (Vec<IndexCount>, u64) {
    let mut by: BTreeMap<(&str, &str), IndexCount> = BTreeMap::new();
    let mut total = 0;
    for e in entries {
        let c = by
            .entry((&e.component, &e.package.key.architecture))
            .or_insert_with(|| IndexCount {
                component: e.component.clone(),
                architecture: e.package.key.architecture.clone(),
                ..IndexCount::default()
            });
        c.packages += 1;
        c.bytes += e.package.size;
        total += e.package.size;
    }
    (by.into_values().collect(), total)
}

/// How a package differs between two snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Only in the second.
    Added,
    /// Only in the first.
    Removed,
    /// A newer version in the second.
    Upgraded,
    /// An older version in the second.
    Downgraded,
    /// The same version with other content.
    Changed,
}

/// One line of a snapshot diff: a package name and architecture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiffEntry {
    /// Package name.
    pub name: String,
    /// Architecture.
    pub architecture: String,
    /// What happened.
    pub change: Change,
    /// Newest version in the first snapshot.
    pub old_version: Option<String>,
    /// Newest version in the second snapshot.
    pub new_version: Option<String>,
    /// SHA256 of that package in the second snapshot (for its changelog).
    #[serde(skip)]
    pub new_sha256: Option<crate::digest::Sha256>,
}

/// Compares two package lists by (name, architecture), looking at the
/// newest version on each side (pure). Sorted by name, then architecture.
pub fn diff_entries(a: &[Entry], b: &[Entry]) -> Vec<DiffEntry> {
    fn newest(list: &[Entry]) -> HashMap<(&str, &str), &PackageSummary> {
        let mut out: HashMap<(&str, &str), &PackageSummary> = HashMap::new();
        for e in list {
            let k = (
                e.package.key.name.as_str(),
                e.package.key.architecture.as_str(),
            );
            out.entry(k)
                .and_modify(|cur| {
                    if version::compare(&e.package.key.version, &cur.key.version).is_gt() {
                        *cur = &e.package;
                    }
                })
                .or_insert(&e.package);
        }
        out
    }
    let (old, new) = (newest(a), newest(b));
    let mut out = Vec::new();
    for (k, o) in &old {
        let change = match new.get(k) {
            None => Some(Change::Removed),
            Some(n) => match version::compare(&n.key.version, &o.key.version) {
                std::cmp::Ordering::Greater => Some(Change::Upgraded),
                std::cmp::Ordering::Less => Some(Change::Downgraded),
                std::cmp::Ordering::Equal => (n.sha256 != o.sha256).then_some(Change::Changed),
            },
        };
        if let Some(change) = change {
            out.push(DiffEntry {
                name: k.0.to_owned(),
                architecture: k.1.to_owned(),
                change,
                old_version: Some(o.key.version.clone()),
                new_version: new.get(k).map(|n| n.key.version.clone()),
                new_sha256: new.get(k).map(|n| n.sha256),
            });
        }
    }
    for (k, n) in &new {
        if !old.contains_key(k) {
            out.push(DiffEntry {
                name: k.0.to_owned(),
                architecture: k.1.to_owned(),
                change: Change::Added,
                old_version: None,
                new_version: Some(n.key.version.clone()),
                new_sha256: Some(n.sha256),
            });
        }
    }
    out.sort_by(|x, y| (&x.name, &x.architecture).cmp(&(&y.name, &y.architecture)));
    out
}

/// Every snapshot, oldest first.
pub fn list(db: &Db) -> Result<Vec<Snapshot>, SnapshotError> {
    Ok(db.snapshots()?)
}

/// A snapshot as `snapshot show` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct SnapshotDetail {
    /// The snapshot.
    #[serde(flatten)]
    pub snapshot: Snapshot,
    /// Counts per component and architecture.
    pub indices: Vec<IndexCount>,
    /// Total size of its packages' files.
    pub bytes: u64,
    /// `prefix/distribution` of each publication of it.
    pub published_as: Vec<String>,
    /// `component name version architecture` of each package, sorted, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_list: Option<Vec<String>>,
}

/// Snapshot `name` in detail; with `with_packages`, its packages too.
pub fn show(db: &Db, name: &str, with_packages: bool) -> Result<SnapshotDetail, SnapshotError> {
    let snapshot = load(db, name)?;
    let entries = entries(db, &snapshot)?;
    let (indices, bytes) = counts(&entries);
    let published_as = db
        .publications_of(snapshot.id)?
        .iter()
        .map(|p| format!("{}/{}", p.prefix, p.distribution))
        .collect();
    let package_list = with_packages.then(|| {
        let mut v: Vec<String> = entries
            .iter()
            .map(|e| {
                let k = &e.package.key;
                format!(
                    "{} {} {} {}",
                    e.component, k.name, k.version, k.architecture
                )
            })
            .collect();
        v.sort();
        v
    });
    Ok(SnapshotDetail {
        snapshot,
        indices,
        bytes,
        published_as,
        package_list,
    })
}

/// What changed from snapshot `a` to snapshot `b`.
pub fn diff(db: &Db, a: &str, b: &str) -> Result<Vec<DiffEntry>, SnapshotError> {
    let (sa, sb) = (load(db, a)?, load(db, b)?);
    Ok(diff_entries(&entries(db, &sa)?, &entries(db, &sb)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::digest::Sha256;

    pub(super) fn e(
        id: i64,
        component: &str,
        name: &str,
        version: &str,
        arch: &str,
        content: &str,
    ) -> Entry {
        Entry {
            component: component.into(),
            package: PackageSummary {
                id: PackageId(id),
                key: PackageKey {
                    name: name.into(),
                    version: version.into(),
                    architecture: arch.into(),
                },
                sha256: Sha256::of(content.as_bytes()),
                size: 10,
            },
        }
    }

    pub(super) fn ids(list: &[Entry]) -> Vec<i64> {
        let mut v: Vec<i64> = list.iter().map(|e| e.package.id.0).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn diff_classifies_changes() {
        let a = vec![
            e(1, "main", "curl", "8.0", "amd64", "a"),
            e(2, "main", "gone", "1", "all", "b"),
            e(3, "main", "libc6", "2.36-9", "amd64", "c"),
            e(4, "main", "same", "1", "amd64", "d"),
            e(5, "main", "rebuilt", "1", "amd64", "e"),
        ];
        let b = vec![
            e(6, "main", "curl", "8.0", "amd64", "a"),
            e(7, "main", "curl", "1:7.0", "amd64", "x"),
            e(8, "main", "libc6", "2.36-10", "amd64", "y"),
            e(9, "main", "new", "1", "amd64", "z"),
            e(4, "main", "same", "1", "amd64", "d"),
            e(10, "main", "rebuilt", "1", "amd64", "other"),
        ];
        let d = diff_entries(&a, &b);
        let got: Vec<(&str, Change)> = d.iter().map(|x| (x.name.as_str(), x.change)).collect();
        assert_eq!(
            got,
            [
                ("curl", Change::Upgraded),
                ("gone", Change::Removed),
                ("libc6", Change::Upgraded),
                ("new", Change::Added),
                ("rebuilt", Change::Changed),
            ]
        );
        assert_eq!(d[0].new_version.as_deref(), Some("1:7.0"));
        let back = diff_entries(&b, &a);
        assert_eq!(back[0].change, Change::Downgraded);
    }

    #[test]
    fn counts_per_component_and_arch() {
        let list = vec![
            e(1, "main", "a", "1", "amd64", "a"),
            e(2, "main", "b", "1", "all", "b"),
            e(3, "main", "c", "1", "amd64", "c"),
        ];
        let (c, total) = counts(&list);
        assert_eq!(total, 30);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].architecture.as_str(), c[0].packages), ("all", 1));
        assert_eq!((c[1].architecture.as_str(), c[1].packages), ("amd64", 2));
    }
}
