//! Backup copies of the database and the blob references `verify` checks.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{Db, DbError, MIGRATIONS, corrupt, sql};
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

    /// Every distinct blob the package rows reference, with its size.
    pub fn blob_refs(&self) -> Result<Vec<(Sha256, u64)>, DbError> {
        let what = "blob references";
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT sha256, size FROM packages")
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
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(open_err)?;
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(DbError::TooNew {
            path: path.to_owned(),
            found: version,
            supported,
        });
    }
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
