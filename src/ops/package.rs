//! `package search`: which packages of the mirrors, snapshots and repos match a
//! filter, and where each one is (aptly's `package search`, reprepro's
//! `ls`). Read-only; the filter language is the one of `--filter`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::snapshot::{SnapshotError, candidates, load};
use crate::db::Db;
use crate::digest::Sha256;
use crate::query::Filter;

/// Where to search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every mirror's current revision, every snapshot and every repo.
    Everywhere,
    /// One mirror's current revision.
    Mirror(String),
    /// One snapshot.
    Snapshot(String),
    /// One local repository.
    Repo(String),
}

/// A package that matched, with every place that holds it.
#[derive(Clone, Debug, Serialize)]
pub struct Hit {
    /// `Package`.
    pub name: String,
    /// `Version`.
    pub version: String,
    /// `Architecture`.
    pub architecture: String,
    /// Component it is listed in (the first, if several).
    pub component: String,
    /// SHA256 of its file.
    pub sha256: Sha256,
    /// Size of its file.
    pub size: u64,
    /// `mirror NAME` / `snapshot NAME` / `repo NAME`, in the order searched.
    pub found_in: Vec<String>,
}

/// The packages in `scope` that `expr` matches, sorted by name, version
/// (dpkg order) and architecture.
pub fn search(db: &Db, expr: &str, scope: &Scope) -> Result<Vec<Hit>, SnapshotError> {
    let filter = Filter::parse(expr).map_err(|source| SnapshotError::Filter {
        expr: expr.to_owned(),
        source,
    })?;
    let mut places = Vec::new();
    if matches!(scope, Scope::Everywhere | Scope::Mirror(_)) {
        for m in db.mirrors()? {
            if let Scope::Mirror(only) = scope
                && *only != m.name
            {
                continue;
            }
            if let Some(rev) = m.state.revision {
                places.push((format!("mirror {}", m.name), db.revision_set(rev)?));
            } else if matches!(scope, Scope::Mirror(_)) {
                return Err(SnapshotError::NeverSynced(m.name));
            }
        }
        if let Scope::Mirror(only) = scope
            && places.is_empty()
        {
            return Err(SnapshotError::NoMirror(only.clone()));
        }
    }
    match scope {
        Scope::Snapshot(name) => {
            let snap = load(db, name)?;
            places.push((
                format!("snapshot {name}"),
                db.package_set(snap.package_set)?,
            ));
        }
        Scope::Everywhere => {
            for snap in db.snapshots()? {
                let set = db.package_set(snap.package_set)?;
                places.push((format!("snapshot {}", snap.name), set));
            }
        }
        Scope::Mirror(_) => {}
        Scope::Repo(name) => {
            let repo = db
                .repo(name)?
                .ok_or_else(|| SnapshotError::NoRepo(name.clone()))?;
            places.push((format!("repo {name}"), db.package_set(repo.package_set)?));
        }
    }
    if *scope == Scope::Everywhere {
        for repo in db.repos()? {
            let set = db.package_set(repo.package_set)?;
            places.push((format!("repo {}", repo.name), set));
        }
    }
    let mut hits: BTreeMap<crate::model::PackageId, Hit> = BTreeMap::new();
    for (place, set) in &places {
        for c in candidates(db, set)? {
            if !filter.matches(&c) {
                continue;
            }
            let p = &c.entry.package;
            let found_in = &mut hits
                .entry(p.id)
                .or_insert_with(|| Hit {
                    name: p.key.name.clone(),
                    version: p.key.version.clone(),
                    architecture: p.key.architecture.clone(),
                    component: c.entry.component.clone(),
                    sha256: p.sha256,
                    size: p.size,
                    found_in: Vec::new(),
                })
                .found_in;
            // A package listed in two components of one place is one place.
            if found_in.last() != Some(place) {
                found_in.push(place.clone());
            }
        }
    }
    let mut out: Vec<Hit> = hits.into_values().collect();
    out.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| crate::debian::version::compare(&a.version, &b.version))
            .then_with(|| a.architecture.cmp(&b.architecture))
    });
    Ok(out)
}
