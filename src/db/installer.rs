//! The installer images of revisions and snapshots (migration 14).
//!
//! Rows name a file below `dists/SUITE/` and its blob; the owner is a mirror
//! revision (written in the sync's commit transaction) or a snapshot (copied
//! from the revision it was taken from).

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Db, DbError, corrupt, parse_sha, sql};
use crate::digest::Sha256;
use crate::model::{RevisionId, SnapshotId, SnapshotOrigin};

/// One installer file: where it is published and its blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallerFile {
    /// Below `dists/SUITE/`, e.g. `main/installer-amd64/current/images/netboot/netboot.tar.gz`.
    pub path: String,
    /// The blob.
    pub sha256: Sha256,
    /// Its size.
    pub size: u64,
}

/// Stores the installer files of a new revision (inside its commit).
pub(super) fn insert_for_revision(
    tx: &Transaction<'_>,
    rev: RevisionId,
    files: &[InstallerFile],
) -> Result<(), DbError> {
    let mut st = tx
        .prepare_cached(
            "INSERT INTO installer_files (owner, owner_id, path, sha256, size) \
             VALUES ('revision', ?1, ?2, ?3, ?4)",
        )
        .map_err(sql("store installer files"))?;
    for f in files {
        st.execute(params![rev.0, f.path, f.sha256.to_string(), f.size as i64])
            .map_err(sql(format!("store installer file `{}`", f.path)))?;
    }
    Ok(())
}

/// Gives the new snapshot `snap` the installer files of what it was made
/// from: of the first source (mirror revision, or snapshot merged or
/// filtered) that has any. Images are whole directories named by
/// `SHA256SUMS`, so they are not merged file by file.
pub(super) fn copy_from_origin(
    tx: &Transaction<'_>,
    snap: SnapshotId,
    origin: &SnapshotOrigin,
) -> Result<(), DbError> {
    let what = "copy installer files to a snapshot";
    let copy = |owner: &str, id: i64| {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO installer_files (owner, owner_id, path, sha256, size) \
             SELECT 'snapshot', ?3, path, sha256, size FROM installer_files \
             WHERE owner = ?1 AND owner_id = ?2",
        )
        .and_then(|mut st| st.execute(params![owner, id, snap.0]))
        .map_err(sql(what))
    };
    let by_name = |name: &str| {
        tx.query_row("SELECT id FROM snapshots WHERE name = ?1", [name], |r| {
            r.get::<_, i64>(0)
        })
        .optional()
        .map_err(sql(what))
    };
    match origin {
        SnapshotOrigin::Mirrors { mirrors, .. } => {
            for m in mirrors {
                if copy("revision", m.revision.0)? > 0 {
                    break;
                }
            }
        }
        SnapshotOrigin::Merge { sources, .. } => {
            for name in sources {
                if let Some(id) = by_name(name)?
                    && copy("snapshot", id)? > 0
                {
                    break;
                }
            }
        }
        SnapshotOrigin::Filter { source, .. } => {
            if let Some(id) = by_name(source)? {
                copy("snapshot", id)?;
            }
        }
    }
    Ok(())
}

impl Db {
    /// The installer files of a mirror revision, by path.
    pub fn revision_installer(&self, rev: RevisionId) -> Result<Vec<InstallerFile>, DbError> {
        self.installer_of("revision", rev.0)
    }

    /// The installer files of a snapshot, by path.
    pub fn snapshot_installer(&self, snap: SnapshotId) -> Result<Vec<InstallerFile>, DbError> {
        self.installer_of("snapshot", snap.0)
    }

    /// Digests of the installer files of every snapshot and of every
    /// revision not in `dropped` (what `gc` keeps).
    pub(super) fn installer_digests(&self, dropped: &[RevisionId]) -> Result<Vec<Sha256>, DbError> {
        let what = "list installer files";
        let dropped: std::collections::HashSet<i64> = dropped.iter().map(|r| r.0).collect();
        let mut st = self
            .conn
            .prepare("SELECT owner, owner_id, sha256 FROM installer_files")
            .map_err(sql(what))?;
        let mut rows = st.query([]).map_err(sql(what))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(what))? {
            let owner: String = row.get(0).map_err(sql(what))?;
            let id: i64 = row.get(1).map_err(sql(what))?;
            if owner == "revision" && dropped.contains(&id) {
                continue;
            }
            let sha = parse_sha(
                Some(row.get(2).map_err(sql(what))?),
                "installer file digest",
            )?
            .ok_or_else(|| corrupt("installer file digest", "empty"))?;
            out.push(sha);
        }
        Ok(out)
    }

    fn installer_of(&self, owner: &str, id: i64) -> Result<Vec<InstallerFile>, DbError> {
        let what = "load installer files";
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT path, sha256, size FROM installer_files \
                 WHERE owner = ?1 AND owner_id = ?2 ORDER BY path",
            )
            .map_err(sql(what))?;
        let rows = st
            .query_map(params![owner, id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(sql(what))?;
        let mut out = Vec::new();
        for row in rows {
            let (path, sha, size) = row.map_err(sql(what))?;
            let sha256 = parse_sha(Some(sha), &format!("installer file `{path}`"))?
                .ok_or_else(|| corrupt(format!("installer file `{path}`"), "empty digest"))?;
            out.push(InstallerFile {
                path,
                sha256,
                size: size.max(0) as u64,
            });
        }
        Ok(out)
    }
}
