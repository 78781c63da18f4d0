//! Names for shell completion: a read-only open and cheap name queries.
//!
//! Completion runs on every TAB, possibly as another user or before the
//! data root exists, so it must neither create nor migrate anything: the
//! database is opened read-only, and a missing or newer file is an error
//! the caller turns into "no candidates".

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{Db, DbError, sql};

/// Which names a completion lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// Mirror names.
    Mirror,
    /// Snapshot names.
    Snapshot,
    /// Local repository names.
    Repo,
    /// Publications as `publish list` prints them (`dists/DIST`, `PREFIX/dists/DIST`).
    Publication,
}

impl Db {
    /// Opens the existing database at `path` read-only: nothing is created,
    /// migrated or made private, and a busy writer is waited for briefly.
    /// A newer schema is an error; an older one answers what its tables hold.
    pub fn open_read_only(path: &Path) -> Result<Db, DbError> {
        let open_err = |source| DbError::Open {
            path: path.to_owned(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match immutable_uri(path) {
            // No WAL: every committed row is in the file, and a read-only
            // WAL connection would leave `-wal` and `-shm` behind.
            Some(uri) => Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI),
            None => Connection::open_with_flags(path, flags),
        }
        .map_err(open_err)?;
        conn.busy_timeout(Duration::from_millis(500))
            .map_err(open_err)?;
        super::schema_version(&conn, path)?;
        Ok(Db {
            conn,
            path: path.to_owned(),
            actor: "unknown".to_owned(),
            tightened: Vec::new(),
        })
    }

    /// The names of `kind`, sorted.
    pub fn names(&self, kind: NameKind) -> Result<Vec<String>, DbError> {
        let query = match kind {
            NameKind::Mirror => "SELECT name FROM mirrors ORDER BY name",
            NameKind::Snapshot => "SELECT name FROM snapshots ORDER BY name",
            NameKind::Repo => "SELECT name FROM repos ORDER BY name",
            NameKind::Publication => {
                "SELECT CASE prefix WHEN '.' THEN 'dists/' || distribution \
                 ELSE prefix || '/dists/' || distribution END AS place \
                 FROM publications ORDER BY place"
            }
        };
        let what = format!("list {kind:?} names");
        let mut stmt = self.conn.prepare(query).map_err(sql(what.clone()))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sql(what.clone()))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql(what))
    }
}

/// `file:///…?mode=ro&immutable=1` for the database at `path` when no
/// writer has a WAL open (the file alone is the whole database then), so
/// reading creates no `-wal`/`-shm` files; `None` when a WAL exists or the
/// path cannot be spelled as a URI.
fn immutable_uri(path: &Path) -> Option<String> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if Path::new(&wal).exists() {
        return None;
    }
    let url = url::Url::from_file_path(std::path::absolute(path).ok()?).ok()?;
    Some(format!("{url}?mode=ro&immutable=1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_open_creates_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("debvault.db");
        assert!(Db::open_read_only(&path).is_err());
        assert!(!path.exists());
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn names_of_a_fresh_database_are_empty_and_reading_leaves_no_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        // Characters a URI must escape.
        let dir = tmp.path().join("a b?#%20");
        let path = dir.join("debvault.db");
        drop(Db::open(&path).expect("create"));
        assert_eq!(files(&dir), ["debvault.db"]);
        let db = Db::open_read_only(&path).expect("open read-only");
        for kind in [
            NameKind::Mirror,
            NameKind::Snapshot,
            NameKind::Repo,
            NameKind::Publication,
        ] {
            assert_eq!(db.names(kind).expect("names"), Vec::<String>::new());
        }
        drop(db);
        assert_eq!(files(&dir), ["debvault.db"]);
    }

    #[test]
    fn a_writer_s_uncheckpointed_names_are_seen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("debvault.db");
        let writer = Db::open(&path).expect("create");
        writer
            .conn
            .execute_batch(
                "PRAGMA wal_autocheckpoint = 0; \
                 INSERT INTO mirrors (name, spec, created_at) VALUES ('m-1', '{}', 'now')",
            )
            .expect("insert");
        let db = Db::open_read_only(&path).expect("open read-only");
        assert_eq!(db.names(NameKind::Mirror).expect("names"), ["m-1"]);
    }
}
