//! On-demand package files in a local publish: listed, not placed.
//!
//! A package of an on-demand mirror whose file the store does not hold yet
//! is published like any other — its index entry, its pool path planned
//! (plain or hash-qualified) — so the tree is complete and signed from the
//! start. Only its pool file is not placed: the path is recorded instead,
//! below the canonical endpoint directory, with the SHA256 and size it must
//! hold (`Db::record_ondemand_pool`), before the switch. `serve` fetches such
//! a path from upstream when a client first asks for it (`serve::ondemand`).
//!
//! The record is by path, not by publication: a pool path holds one content
//! forever, whichever publications list it, and a path never filled stays
//! free on disk, so a later publish of other content at that path re-records
//! it (see `record_ondemand_pool`).
//!
//! Bucket endpoints are not filled on demand: `serve` of a bucket streams
//! objects and has no pool to link into, so a publish to a bucket needs
//! the files (`debvault mirror fill`) and fails naming a missing one.

use std::collections::HashSet;
use std::path::Path;

use super::pool::{Item, PoolAction};
use super::{PublishError, io_err};
use crate::db::{Db, OnDemandFile};
use crate::digest::Sha256;
use crate::model::PackageRecord;
use crate::store::BlobStore;

/// The package files of `records` the store lacks but an on-demand mirror
/// can provide.
pub(super) fn remote(
    db: &Db,
    store: &BlobStore,
    records: &[(String, PackageRecord)],
) -> Result<HashSet<Sha256>, PublishError> {
    let mut out = HashSet::new();
    let mut seen = HashSet::new();
    for (_, r) in records {
        if !seen.insert(r.sha256) {
            continue;
        }
        // The database first: one indexed lookup, where a bucket store
        // would cost a request.
        if db.has_ondemand_source(&r.sha256)? && !store.contains(&r.sha256)? {
            out.insert(r.sha256);
        }
    }
    Ok(out)
}

/// Whether the store holds the file of `record`, as far as a local store
/// tells without a request (a bucket store answers yes: reading fails
/// later if not). Contents and changelogs are read only from held files.
pub(super) fn held(store: &BlobStore, record: &PackageRecord) -> bool {
    store.local_path(&record.sha256).is_none_or(|p| p.exists())
}

/// Takes the remote packages' new pool paths out of the items to place
/// (marks them present) and returns their positions, for [`restore`].
pub(super) fn set_aside(items: &mut [Item<'_>], remote: &HashSet<Sha256>) -> Vec<usize> {
    if remote.is_empty() {
        return Vec::new();
    }
    let mut aside = Vec::new();
    for (i, it) in items.iter_mut().enumerate() {
        if let PoolAction::Add(path) = &it.action
            && remote.contains(&it.record.sha256)
        {
            it.action = PoolAction::Present(path.clone());
            aside.push(i);
        }
    }
    aside
}

/// Puts the items [`set_aside`] took back as new, and returns the pool
/// paths (below the prefix) left to fill on demand.
pub(super) fn restore(items: &mut [Item<'_>], aside: &[usize]) -> Vec<(String, OnDemandFile)> {
    let mut out = Vec::with_capacity(aside.len());
    for &i in aside {
        let Some(it) = items.get_mut(i) else { continue };
        let path = it.action.path().to_owned();
        out.push((
            path.clone(),
            OnDemandFile {
                sha256: it.record.sha256,
                size: it.record.size,
            },
        ));
        it.action = PoolAction::Add(path);
    }
    out
}

/// Whether the pool file `filename` below the prefix directory `base` of
/// the local `endpoint` is one a publication left to fetch on demand.
pub fn left_to_fetch(
    db: &Db,
    endpoint: &Path,
    base: &Path,
    filename: &str,
) -> Result<bool, crate::db::DbError> {
    let Ok(key) = endpoint_key(endpoint) else {
        return Ok(false);
    };
    let prefix = base.strip_prefix(endpoint).unwrap_or(Path::new(""));
    let path = prefix.join(filename);
    db.ondemand_file(&key, &path.to_string_lossy())
        .map(|f| f.is_some())
}

/// The key `serve` finds an endpoint by: its canonical path.
pub(crate) fn endpoint_key(endpoint: &Path) -> Result<String, PublishError> {
    let canonical = std::fs::canonicalize(endpoint).map_err(io_err("resolve", endpoint))?;
    Ok(canonical.to_string_lossy().into_owned())
}

/// Records the paths (below the prefix directory `base`) left to fill on
/// demand, as paths below `endpoint`.
pub(super) fn record(
    db: &mut Db,
    endpoint: &Path,
    base: &Path,
    files: Vec<(String, OnDemandFile)>,
) -> Result<(), PublishError> {
    if files.is_empty() {
        return Ok(());
    }
    let key = endpoint_key(endpoint)?;
    let prefix = base.strip_prefix(endpoint).unwrap_or(Path::new(""));
    let prefix = prefix.to_string_lossy();
    let rows: Vec<(String, OnDemandFile)> = files
        .into_iter()
        .map(|(path, file)| {
            let full = if prefix.is_empty() {
                path
            } else {
                format!("{prefix}/{path}")
            };
            (full, file)
        })
        .collect();
    db.record_ondemand_pool(&key, &rows)?;
    Ok(())
}
