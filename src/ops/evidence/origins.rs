//! Where a snapshot's packages came from: the mirror revisions and local
//! repositories of its `--from-mirror`/`--from-repo` origin, followed back
//! through merges and filters (each snapshot once, a dropped one skipped).
//! The SBOM names them as its sources; `advisories status --snapshot`
//! reads those mirrors' upstream indices and releases.

use std::collections::HashSet;

use crate::db::{Db, DbError};
use crate::model::{MirrorSource, RepoSource, Snapshot, SnapshotOrigin};

/// Most snapshots followed back through merges and filters.
const MAX_ORIGINS: usize = 1_000;

/// The mirrors and repositories a snapshot was made from, in order.
#[derive(Debug, Default)]
pub struct Origins {
    /// Mirror revisions taken.
    pub mirrors: Vec<MirrorSource>,
    /// Local repositories taken.
    pub repos: Vec<RepoSource>,
}

/// The origins of `snap`.
pub fn of(db: &Db, snap: &Snapshot) -> Result<Origins, DbError> {
    let mut out = Origins::default();
    let mut seen = HashSet::new();
    let mut todo = vec![snap.origin.clone()];
    while let Some(origin) = todo.pop() {
        match origin {
            SnapshotOrigin::Mirrors { mirrors, repos } => {
                out.mirrors.extend(mirrors);
                out.repos.extend(repos);
            }
            SnapshotOrigin::Merge { sources: names, .. } => {
                for n in names.into_iter().rev() {
                    follow(db, n, &mut seen, &mut todo)?;
                }
            }
            SnapshotOrigin::Filter { source, .. } => follow(db, source, &mut seen, &mut todo)?,
        }
    }
    Ok(out)
}

/// Queues the origin of snapshot `name`, once; a dropped one is skipped.
fn follow(
    db: &Db,
    name: String,
    seen: &mut HashSet<String>,
    todo: &mut Vec<SnapshotOrigin>,
) -> Result<(), DbError> {
    if seen.len() >= MAX_ORIGINS || !seen.insert(name.clone()) {
        return Ok(());
    }
    if let Some(s) = db.snapshot(&name)? {
        todo.push(s.origin);
    }
    Ok(())
}
