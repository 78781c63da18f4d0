//! Backup copies of the database and the blob references `verify` checks.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{Db, DbError, corrupt, sql};
use crate::digest::Sha256;

impl Db {
    /// Writes a consistent copy of the database to the new file `dest`
    /// (`VACUUM INTO`: one read snapshot, so writers in other processes go
    /// on; the copy is compact and has no WAL of its own).
    pub fn backup_to(&self, dest: &Path) -> Result<(), DbError> {
        let what = format!("back up to `{}`", dest.display());
        let dest_str = dest
            .to_str()
            .ok_or_else(|| corrupt(&what, "the path is not UTF-8"))?;
        self.conn
            .execute("VACUUM INTO ?1", [dest_str])
            .map_err(sql(what))?;
        Ok(())
    }

    /// Every distinct blob the package rows (and source packages' files,
    /// installer images) reference, with its size.
    pub fn blob_refs(&self) -> Result<Vec<(Sha256, u64)>, DbError> {
        let what = "blob references";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT sha256, size FROM packages UNION SELECT sha256, size FROM source_files \
                 UNION SELECT sha256, size FROM installer_files",
            )
            .map_err(sql(what))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(sql(what))?;
        let mut out = Vec::new();
        for row in rows {
            let (sha, size) = row.map_err(sql(what))?;
            out.push((
                sha.parse().map_err(|e| corrupt(what, e))?,
                u64::try_from(size).map_err(|e| corrupt(what, e))?,
            ));
        }
        Ok(out)
    }
}

/// Checks that `path` is a whole debvault database this version can use:
/// SQLite's integrity check passes and its schema is not newer than ours.
/// Returns its schema version.
pub fn check_file(path: &Path) -> Result<i64, DbError> {
    let open_err = |source| DbError::Open {
        path: path.to_owned(),
        source,
    };
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(open_err)?;
    let what = format!("check `{}`", path.display());
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(sql(&what))?;
    if verdict != "ok" {
        return Err(corrupt(what, verdict));
    }
    let version = super::schema_version(&conn, path)?;
    let has_mirrors: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'mirrors'",
            [],
            |r| r.get(0),
        )
        .map_err(sql(&what))?;
    if version == 0 || has_mirrors == 0 {
        return Err(corrupt(what, "not a debvault database"));
    }
    Ok(version)
}

/// The table that carries files (the signing keys) inside a backup copy.
/// Only copies have it: [`take_files`] removes it before a copy is used.
const FILES_TABLE: &str = "debvault_backup_files";

/// Adds `files` (name, content) to the backup copy at `copy`, in a table of
/// their own, so that the copy's one hash covers them; nothing when empty.
pub fn embed_files(copy: &Path, files: &[(String, Vec<u8>)]) -> Result<(), DbError> {
    if files.is_empty() {
        return Ok(());
    }
    let mut conn = Connection::open(copy).map_err(|source| DbError::Open {
        path: copy.to_owned(),
        source,
    })?;
    let what = format!("add the signing keys to `{}`", copy.display());
    let tx = conn.transaction().map_err(sql(&what))?;
    tx.execute_batch(&format!(
        "CREATE TABLE {FILES_TABLE} (name TEXT PRIMARY KEY, data BLOB NOT NULL)"
    ))
    .map_err(sql(&what))?;
    for (name, data) in files {
        tx.execute(
            &format!("INSERT INTO {FILES_TABLE} (name, data) VALUES (?1, ?2)"),
            rusqlite::params![name, data],
        )
        .map_err(sql(&what))?;
    }
    tx.commit().map_err(sql(&what))
}

/// Takes the files [`embed_files`] added out of the backup copy at `copy`
/// (none for a copy without them), leaving it a plain database.
pub fn take_files(copy: &Path) -> Result<Vec<(String, Vec<u8>)>, DbError> {
    let mut conn = Connection::open(copy).map_err(|source| DbError::Open {
        path: copy.to_owned(),
        source,
    })?;
    let what = format!("read the signing keys in `{}`", copy.display());
    let tx = conn.transaction().map_err(sql(&what))?;
    let present: i64 = tx
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [FILES_TABLE],
            |r| r.get(0),
        )
        .map_err(sql(&what))?;
    if present == 0 {
        return Ok(Vec::new());
    }
    let files = {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT name, data FROM {FILES_TABLE} ORDER BY name"
            ))
            .map_err(sql(&what))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(sql(&what))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql(&what))?
    };
    tx.execute_batch(&format!("DROP TABLE {FILES_TABLE}"))
        .map_err(sql(&what))?;
    tx.commit().map_err(sql(&what))?;
    Ok(files)
}
