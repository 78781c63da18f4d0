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
//! forever, whichever publications list it. A path never filled has no file
//! on disk, but a kept tree lists it, so it is taken all the same
//! ([`Recorded`]): a later publish of other content there plans the
//! hash-qualified path, as it does for a file on disk with other content.
//!
//! Bucket endpoints are not filled on demand: a publish to a bucket that
//! would list a file the store lacks is refused before anything is
//! written, naming the endpoint and the mirror to `mirror fill`
//! ([`refuse_in_bucket`]). A bucket is usually served by something else
//! than `serve` (the object store's own web endpoint, a CDN), which cannot
//! fetch on demand: a publication with holes would fail those clients with
//! 404s, and filling the bucket from `serve` would make a read-only server
//! write to the publish endpoint with its credentials.

use std::collections::{HashMap, HashSet};
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
    if !db.any_ondemand_source()? {
        return Ok(out);
    }
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

/// The content each on-demand pool path below a prefix directory was
/// recorded with. Such a path is taken even while it has no file: a kept
/// tree lists it, and `serve` fetches that content for it.
#[derive(Debug, Default)]
pub(super) struct Recorded(HashMap<String, Sha256>);

impl Recorded {
    /// The rows of the local `endpoint` below the prefix directory `base`,
    /// by path below `base`.
    pub(super) fn load(db: &Db, endpoint: &Path, base: &Path) -> Result<Recorded, PublishError> {
        // No endpoint yet (nothing published): no row either.
        if !endpoint.exists() {
            return Ok(Recorded::default());
        }
        let key = endpoint_key(endpoint)?;
        let prefix = prefix_of(endpoint, base);
        let rows = db.ondemand_pool_files(&key)?;
        // Below the prefix, and in its pool (not another prefix's).
        let below = |path: String| -> Option<String> {
            let rel = if prefix.is_empty() {
                path
            } else {
                path.strip_prefix(prefix.as_str())?
                    .strip_prefix('/')?
                    .to_owned()
            };
            rel.starts_with("pool/").then_some(rel)
        };
        Ok(Recorded(
            rows.into_iter()
                .filter_map(|(path, sha)| Some((below(path)?, sha)))
                .collect(),
        ))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `path` (below the prefix) is recorded with content other
    /// than `sha256`.
    pub(super) fn holds_other(&self, path: &str, sha256: &Sha256) -> bool {
        self.0.get(path).is_some_and(|s| s != sha256)
    }
}

/// Refuses a publish to the bucket `endpoint` of packages whose files an
/// on-demand mirror left upstream (see the module docs).
pub(super) fn refuse_in_bucket(
    db: &Db,
    store: &BlobStore,
    records: &[(String, PackageRecord)],
    endpoint: &str,
) -> Result<(), PublishError> {
    let missing = remote(db, store, records)?;
    let Some((_, first)) = records.iter().find(|(_, r)| missing.contains(&r.sha256)) else {
        return Ok(());
    };
    let sources = db.ondemand_sources(&first.sha256)?;
    let mirrors = db.mirrors()?;
    let mirror = sources
        .iter()
        .find_map(|s| mirrors.iter().find(|m| m.id == s.mirror))
        .map_or_else(|| "?".to_owned(), |m| m.name.clone());
    Err(PublishError::OnDemandInBucket {
        endpoint: endpoint.to_owned(),
        mirror,
        package: super::pool::label(first),
        count: missing.len(),
    })
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

/// The new pool paths of a local publish (below the prefix), as
/// [`record`] needs them.
#[derive(Debug, Default)]
pub(super) struct PoolPaths {
    /// Left to fill on demand, with what they must hold.
    pub(super) left: Vec<(String, OnDemandFile)>,
    /// Given a file: a row an earlier publish recorded there (a path it
    /// left unfilled, which stays free on disk) no longer applies.
    pub(super) placed: Vec<String>,
}

/// Puts the items [`set_aside`] took back as new, and returns the new pool
/// paths: those left to fill on demand and those placed.
pub(super) fn restore(items: &mut [Item<'_>], aside: &[usize]) -> PoolPaths {
    let mut out = PoolPaths {
        left: Vec::with_capacity(aside.len()),
        placed: Vec::new(),
    };
    let set_aside: HashSet<usize> = aside.iter().copied().collect();
    for (i, it) in items.iter().enumerate() {
        if let PoolAction::Add(path) = &it.action
            && !set_aside.contains(&i)
        {
            out.placed.push(path.clone());
        }
    }
    for &i in aside {
        let Some(it) = items.get_mut(i) else { continue };
        let path = it.action.path().to_owned();
        out.left.push((
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
/// demand, as paths below `endpoint`, and forgets the rows of paths this
/// publish placed a file at (a later publish of other content at a path
/// left unfilled: the file is there now, its row would only mislead
/// `verify` and, once gc removed the file, `serve`).
pub(super) fn record(
    db: &mut Db,
    endpoint: &Path,
    base: &Path,
    paths: PoolPaths,
) -> Result<(), PublishError> {
    if paths.left.is_empty() && paths.placed.is_empty() {
        return Ok(());
    }
    let key = endpoint_key(endpoint)?;
    let prefix = prefix_of(endpoint, base);
    let full = |path: String| {
        if prefix.is_empty() {
            path
        } else {
            format!("{prefix}/{path}")
        }
    };
    let placed: Vec<String> = paths.placed.into_iter().map(full).collect();
    db.forget_ondemand_pool(&key, &placed)?;
    let rows: Vec<(String, OnDemandFile)> = paths
        .left
        .into_iter()
        .map(|(path, file)| (full(path), file))
        .collect();
    if !rows.is_empty() {
        db.record_ondemand_pool(&key, &rows)?;
    }
    Ok(())
}

/// The prefix directory `base` relative to `endpoint`, `""` for the root.
fn prefix_of(endpoint: &Path, base: &Path) -> String {
    base.strip_prefix(endpoint)
        .unwrap_or(Path::new(""))
        .to_string_lossy()
        .into_owned()
}

/// For `gc`, under the prefix's lock: forgets the on-demand rows below the
/// prefix directory `base` of the local `endpoint` whose path no kept tree
/// lists (`referenced`: pool paths below `base`); how many (would) go.
/// Such a path's file is swept too, and `serve` must not fetch it back.
pub fn forget_unlisted(
    db: &mut Db,
    endpoint: &Path,
    base: &Path,
    referenced: &HashSet<String>,
    dry_run: bool,
) -> Result<u64, PublishError> {
    let key = endpoint_key(endpoint)?;
    let prefix = prefix_of(endpoint, base);
    let gone: Vec<String> = db
        .ondemand_pool_paths(&key)?
        .into_iter()
        .filter(|path| {
            let rel = if prefix.is_empty() {
                Some(path.as_str())
            } else {
                path.strip_prefix(prefix.as_str())
                    .and_then(|p| p.strip_prefix('/'))
            };
            rel.is_some_and(|rel| rel.starts_with("pool/") && !referenced.contains(rel))
        })
        .collect();
    forget(db, &key, gone, dry_run)
}

/// For `gc`: forgets the on-demand rows of the local `endpoint` below
/// prefixes that no longer exist (no trees directory: every publication
/// dropped and collected); how many (would) go. A publish records its rows
/// only after making its prefix's trees directory, so a row whose prefix
/// has none is left over.
pub fn forget_orphaned(db: &mut Db, endpoint: &Path, dry_run: bool) -> Result<u64, PublishError> {
    // No endpoint yet (nothing published): no row either.
    if !endpoint.exists() {
        return Ok(0);
    }
    let key = endpoint_key(endpoint)?;
    let gone: Vec<String> = db
        .ondemand_pool_paths(&key)?
        .into_iter()
        .filter(|path| {
            let prefix = match path.find("/pool/") {
                _ if path.starts_with("pool/") => "",
                Some(at) => &path[..at],
                None => return false,
            };
            !endpoint
                .join(prefix)
                .join(crate::tree::layout::TREES_DIR)
                .is_dir()
        })
        .collect();
    forget(db, &key, gone, dry_run)
}

fn forget(db: &mut Db, key: &str, gone: Vec<String>, dry_run: bool) -> Result<u64, PublishError> {
    if dry_run {
        return Ok(gone.len() as u64);
    }
    Ok(db.forget_ondemand_pool(key, &gone)?)
}
