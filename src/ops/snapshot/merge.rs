//! Several sources into one snapshot: `snapshot merge` and
//! `snapshot create --from-mirror A --from-mirror B [--from-repo R]`.
//!
//! By default the result is apt's view of the sources: for each
//! (component, name, architecture) the highest version wins, wherever it
//! comes from, so merging a release with its `-updates` and `-security`
//! suites never downgrades anything. "The later source wins" is an explicit
//! strategy, and every downgrade it makes is returned so the command can
//! say so.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::{
    Entry, SnapshotError, check_new_name, default_name, entries, load, set_entries, set_of, store,
    union_in_order,
};
use crate::db::{Db, DbError, NewSnapshot};
use crate::debian::version;
use crate::model::{MirrorSource, RepoSource, Snapshot, SnapshotOrigin};

/// How sources that hold the same (component, name, architecture) combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeStrategy {
    /// The highest version across all sources wins (apt's view; a later
    /// source wins a tie).
    #[default]
    Newest,
    /// The last source that has the package wins, with all of its versions,
    /// even when an earlier source has a higher one.
    LaterWins,
    /// Every version of every source is kept (aptly's `-no-remove`).
    KeepAll,
}

/// A package a [`MergeStrategy::LaterWins`] merge took at a lower version
/// than an earlier source had.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Downgrade {
    /// Component.
    pub component: String,
    /// Package name.
    pub name: String,
    /// Architecture.
    pub architecture: String,
    /// The highest version the earlier source had.
    pub from_version: String,
    /// The source that had it.
    pub from_source: String,
    /// The highest version the result keeps.
    pub to_version: String,
    /// The source it comes from.
    pub to_source: String,
}

/// A snapshot made from several sources, with the downgrades that made it.
#[derive(Clone, Debug, Serialize)]
pub struct Merged {
    /// The new snapshot.
    #[serde(flatten)]
    pub snapshot: Snapshot,
    /// How the sources were combined.
    pub strategy: MergeStrategy,
    /// Packages taken at a lower version than an earlier source had (only
    /// ever non-empty with [`MergeStrategy::LaterWins`]).
    pub downgrades: Vec<Downgrade>,
}

/// Creates a snapshot of the current revisions of `mirrors`, combined by
/// `strategy`. The default name is `<first mirror>-YYYYMMDD`, made unique.
pub fn create_from_mirrors(
    db: &mut Db,
    name: Option<&str>,
    mirrors: &[String],
    strategy: MergeStrategy,
    today: NaiveDate,
) -> Result<Merged, SnapshotError> {
    create_from_sources(db, name, mirrors, &[], strategy, today)
}

/// Creates a snapshot of the current revisions of `mirrors` and the
/// current content of the local repositories `repos` (after the mirrors,
/// so a repo wins a tie), combined by `strategy`. The default name is
/// `<first source>-YYYYMMDD`, made unique.
pub fn create_from_sources(
    db: &mut Db,
    name: Option<&str>,
    mirrors: &[String],
    repos: &[String],
    strategy: MergeStrategy,
    today: NaiveDate,
) -> Result<Merged, SnapshotError> {
    let first = mirrors
        .first()
        .or(repos.first())
        .ok_or(SnapshotError::NoSources)?;
    let name = match name {
        Some(n) => n.to_owned(),
        None => default_name(db, first, today)?,
    };
    check_new_name(db, &name)?;
    let mut sources = Vec::new();
    let mut sets = Vec::new();
    let mut archs = Vec::new();
    for m in mirrors {
        let mirror = db
            .mirror(m)?
            .ok_or_else(|| SnapshotError::NoMirror(m.clone()))?;
        let rev = mirror
            .state
            .revision
            .ok_or_else(|| SnapshotError::NeverSynced(m.clone()))?;
        sets.push(db.revision_set(rev)?);
        archs.push(mirror.spec.architectures.clone());
        sources.push(MirrorSource {
            name: mirror.name.clone(),
            suite: mirror.spec.suite.clone(),
            revision: rev,
        });
    }
    let mut repo_sources = Vec::new();
    for r in repos {
        let repo = db
            .repo(r)?
            .ok_or_else(|| SnapshotError::NoRepo(r.clone()))?;
        let set = db.package_set(repo.package_set)?;
        archs.push(repo_architectures(db, &repo.spec.architectures, &set)?);
        sets.push(set);
        repo_sources.push(RepoSource {
            name: repo.name.clone(),
            revision: repo.revision,
            distribution: repo.spec.default_distribution.clone(),
        });
    }
    let labels: Vec<&String> = mirrors.iter().chain(repos).collect();
    // One source: its set as it is (no package is even read).
    let (set, downgrades) = match sets.len() {
        1 => (sets.pop().unwrap_or_default(), Vec::new()),
        _ => {
            let lists = sets
                .iter()
                .zip(&labels)
                .map(|(set, m)| Ok((m.as_str(), set_entries(db, set)?)))
                .collect::<Result<Vec<_>, SnapshotError>>()?;
            let (merged, downgrades) = merge_entries(&lists, strategy);
            (set_of(&merged), downgrades)
        }
    };
    let mut parts: Vec<String> = Vec::new();
    if !sources.is_empty() {
        parts.push(format!(
            "mirror{} {}",
            if sources.len() > 1 { "s" } else { "" },
            sources
                .iter()
                .map(|s| format!("`{}` (revision {})", s.name, s.revision.0))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !repo_sources.is_empty() {
        parts.push(format!(
            "repo{} {}",
            if repo_sources.len() > 1 { "s" } else { "" },
            repo_sources
                .iter()
                .map(|s| format!("`{}` (revision {})", s.name, s.revision))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let description = format!(
        "from {}{}",
        parts.join(" and "),
        match (labels.len(), strategy) {
            (2.., MergeStrategy::LaterWins) => " (later sources win)",
            _ => "",
        }
    );
    let architectures = union_in_order(archs.iter().map(Vec::as_slice));
    let snapshot = store(
        db,
        &name,
        &description,
        &SnapshotOrigin::Mirrors {
            mirrors: sources,
            repos: repo_sources,
        },
        &architectures,
        &set,
    )?;
    Ok(Merged {
        snapshot,
        strategy,
        downgrades,
    })
}

/// The architectures a snapshot of a repo publishes: those configured, or
/// those of its packages (neither `all` nor `source`), or the machine's
/// own when it has only `all` packages.
fn repo_architectures(
    db: &Db,
    configured: &[String],
    set: &crate::db::PackageSet,
) -> Result<Vec<String>, SnapshotError> {
    if !configured.is_empty() {
        return Ok(configured.to_vec());
    }
    let mut out: Vec<String> = Vec::new();
    for (_, ids) in set.components() {
        for p in db.package_summaries(ids)? {
            let a = p.key.architecture;
            if a != "all" && a != crate::db::SOURCE_ARCH && !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out.sort();
    if out.is_empty() {
        out.push(crate::model::native_architecture().to_owned());
    }
    Ok(out)
}

/// One snapshot of each mirror of `group` (`<mirror>-YYYYMMDD`, made
/// unique), taken at once: one transaction, one creation time. Every member
/// must have synced; otherwise none is taken.
pub fn create_from_group(
    db: &mut Db,
    group: &str,
    today: NaiveDate,
) -> Result<Vec<Snapshot>, SnapshotError> {
    let mut members: Vec<_> = db
        .mirrors()?
        .into_iter()
        .filter(|m| m.spec.group.as_deref() == Some(group))
        .collect();
    if members.is_empty() {
        return Err(SnapshotError::EmptyGroup(group.to_owned()));
    }
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let mut parts = Vec::with_capacity(members.len());
    for mirror in &members {
        let rev = mirror
            .state
            .revision
            .ok_or_else(|| SnapshotError::NeverSynced(mirror.name.clone()))?;
        let name = default_name(db, &mirror.name, today)?;
        check_new_name(db, &name)?;
        let description = format!(
            "from mirror `{}` (revision {}), group `{group}`",
            mirror.name, rev.0
        );
        let origin = SnapshotOrigin::Mirrors {
            mirrors: vec![MirrorSource {
                name: mirror.name.clone(),
                suite: mirror.spec.suite.clone(),
                revision: rev,
            }],
            repos: Vec::new(),
        };
        parts.push((name, description, origin, db.revision_set(rev)?));
    }
    let new: Vec<NewSnapshot<'_>> = parts
        .iter()
        .zip(&members)
        .map(|((name, description, origin, set), mirror)| NewSnapshot {
            name,
            description,
            origin,
            architectures: &mirror.spec.architectures,
            set,
        })
        .collect();
    match db.create_snapshots(&new) {
        Ok(_) => {}
        Err(DbError::SnapshotExists(n)) => return Err(SnapshotError::Exists(n)),
        Err(e) => return Err(e.into()),
    }
    parts.iter().map(|(name, ..)| load(db, name)).collect()
}

/// Merges snapshots into a new one, combined by `strategy`.
pub fn merge(
    db: &mut Db,
    name: &str,
    sources: &[String],
    strategy: MergeStrategy,
) -> Result<Merged, SnapshotError> {
    if sources.is_empty() {
        return Err(SnapshotError::NoSources);
    }
    check_new_name(db, name)?;
    let mut lists = Vec::new();
    let mut archs = Vec::new();
    for s in sources {
        let snap = load(db, s)?;
        lists.push((s.as_str(), entries(db, &snap)?));
        archs.push(snap.architectures);
    }
    let (merged, downgrades) = merge_entries(&lists, strategy);
    let description = format!(
        "merge of {}{}",
        sources
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", "),
        match strategy {
            MergeStrategy::Newest => " (newest versions)",
            MergeStrategy::LaterWins => " (later sources win)",
            MergeStrategy::KeepAll => " (all versions)",
        }
    );
    let architectures = union_in_order(archs.iter().map(Vec::as_slice));
    let snapshot = store(
        db,
        name,
        &description,
        &SnapshotOrigin::Merge {
            sources: sources.to_vec(),
            latest: strategy == MergeStrategy::Newest,
        },
        &architectures,
        &set_of(&merged),
    )?;
    Ok(Merged {
        snapshot,
        strategy,
        downgrades,
    })
}

type Key = (String, String, String);

/// The set algebra of [`merge`] (pure): `lists` are (source name, entries)
/// in order. Returns the merged entries and, for
/// [`MergeStrategy::LaterWins`], the downgrades it made.
pub fn merge_entries(
    lists: &[(&str, Vec<Entry>)],
    strategy: MergeStrategy,
) -> (Vec<Entry>, Vec<Downgrade>) {
    let key = |e: &Entry| {
        (
            e.component.clone(),
            e.package.key.name.clone(),
            e.package.key.architecture.clone(),
        )
    };
    // Per key: the source that holds the slot and its entries.
    let mut out: BTreeMap<Key, (&str, Vec<Entry>)> = BTreeMap::new();
    let mut downgrades = Vec::new();
    for (source, list) in lists {
        let mut this: BTreeMap<Key, Vec<Entry>> = BTreeMap::new();
        for e in list {
            this.entry(key(e)).or_default().push(e.clone());
        }
        for (k, group) in this {
            match strategy {
                MergeStrategy::Newest => {
                    let slot = out.entry(k).or_insert((source, Vec::new()));
                    let best = newest(slot.1.iter().chain(&group)).cloned();
                    if let Some(best) = best {
                        // Ties go to the later source: `newest` keeps the last maximum.
                        if group.contains(&best) {
                            slot.0 = source;
                        }
                        slot.1 = vec![best];
                    }
                }
                MergeStrategy::LaterWins => {
                    if let Some((old_source, old)) = out.get(&k)
                        && let (Some(was), Some(now)) = (newest(old), newest(&group))
                        && version::compare(&was.package.key.version, &now.package.key.version)
                            .is_gt()
                    {
                        downgrades.push(Downgrade {
                            component: k.0.clone(),
                            name: k.1.clone(),
                            architecture: k.2.clone(),
                            from_version: was.package.key.version.clone(),
                            from_source: (*old_source).to_owned(),
                            to_version: now.package.key.version.clone(),
                            to_source: (*source).to_owned(),
                        });
                    }
                    out.insert(k, (source, group));
                }
                MergeStrategy::KeepAll => {
                    let slot = out.entry(k).or_insert((source, Vec::new()));
                    for e in group {
                        if !slot.1.contains(&e) {
                            slot.1.push(e);
                        }
                    }
                }
            }
        }
    }
    let merged = out.into_values().flat_map(|(_, list)| list).collect();
    (merged, downgrades)
}

/// The entry with the highest version; the last one among equals.
fn newest<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Option<&'a Entry> {
    entries.into_iter().fold(None, |best, e| match best {
        Some(b) if version::compare(&e.package.key.version, &b.package.key.version).is_lt() => {
            Some(b)
        }
        _ => Some(e),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{e, ids};
    use super::*;

    fn sources() -> (Vec<Entry>, Vec<Entry>) {
        let a = vec![
            e(1, "main", "curl", "8.0", "amd64", "a"),
            e(2, "main", "curl", "8.1", "amd64", "b"),
            e(3, "main", "zsh", "5.9", "amd64", "c"),
            e(4, "contrib", "curl", "9.0", "amd64", "d"),
        ];
        let b = vec![
            e(5, "main", "curl", "7.0", "amd64", "e"),
            e(6, "main", "curl", "7.0", "arm64", "f"),
        ];
        (a, b)
    }

    #[test]
    fn newest_version_wins_across_sources() {
        let (a, b) = sources();
        let (merged, downgrades) = merge_entries(&[("a", a), ("b", b)], MergeStrategy::Newest);
        // a's curl 8.1/amd64 beats b's 7.0; contrib is another component.
        assert_eq!(ids(&merged), [2, 3, 4, 6]);
        assert!(downgrades.is_empty());
    }

    #[test]
    fn a_tie_goes_to_the_later_source() {
        let a = vec![e(1, "main", "curl", "8.0", "amd64", "a")];
        let b = vec![e(2, "main", "curl", "8.0", "amd64", "rebuilt")];
        let (merged, _) = merge_entries(&[("a", a), ("b", b)], MergeStrategy::Newest);
        assert_eq!(ids(&merged), [2]);
    }

    #[test]
    fn later_wins_replaces_per_name_and_arch_and_names_each_downgrade() {
        let (a, b) = sources();
        let (merged, downgrades) = merge_entries(&[("a", a), ("b", b)], MergeStrategy::LaterWins);
        // b's curl/amd64 replaces both of a's.
        assert_eq!(ids(&merged), [3, 4, 5, 6]);
        assert_eq!(
            downgrades,
            [Downgrade {
                component: "main".into(),
                name: "curl".into(),
                architecture: "amd64".into(),
                from_version: "8.1".into(),
                from_source: "a".into(),
                to_version: "7.0".into(),
                to_source: "b".into(),
            }]
        );
    }
}
