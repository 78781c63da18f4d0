//! SQLite metadata: the only module that writes SQL.
//!
//! One database file (`<root>/debvault.db`) in WAL mode with a busy timeout, so
//! readers never block the single writer and concurrent commands wait instead
//! of failing. Every state change is one short transaction; a sync's whole
//! result (packages, package set, revision, freezes, state) commits at once,
//! after the blobs it references are durable. Migrations are embedded and
//! numbered by `PRAGMA user_version`.

mod advisories;
mod appstream;
mod backup;
mod cnf;
mod contents;
mod curation;
mod gc;
mod installer;
mod mirrors;
mod names;
mod ondemand;
mod proxy;
mod remote_pool;
mod repo_curation;
mod repos;
mod revisions;
mod sets;
mod snapshots;
mod sources;
mod tokens;
mod translations;
mod uploaders;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

pub use advisories::{AdvisoryImport, AdvisoryRow};
pub use appstream::{AppstreamDocs, StoredDocs};
pub use backup::{check_file, embed_files, take_files};
pub use contents::{Deflater, FileList, ListOrigin, PackedScan};
pub use curation::{AuditEvent, AuditRecord, NewStaged, StageAction, StagedRow, package_subject};
pub use gc::{GcCounts, GcPlan};
pub use installer::InstallerFile;
pub use names::NameKind;
pub use ondemand::{OnDemandCounts, OnDemandEvent, OnDemandFile, OnDemandSource};
pub use proxy::{ProxyCached, ProxyCounts, ProxyEntry};
pub use remote_pool::PoolObject;
pub use repo_curation::{NewRepoStaged, repo_package_subject};
pub use repos::{Repo, RepoChange, RepoSpec};
pub use revisions::{Revision, RevisionEntry, SyncCommit, UNMET_RECORDED};
pub use sets::{PackageSet, SetDecodeError};
pub use snapshots::{HistoryEntry, NewPublication, NewSnapshot, PackageSummary};
pub use sources::{SOURCE_ARCH, SourceFileRow};
pub use tokens::TokenRow;
pub use uploaders::StoredUploaders;

use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE, USAGE};
use crate::model::{PackageId, PackageRecord, PackageSetId};

const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("schema2.sql"),
    include_str!("schema3.sql"),
    include_str!("schema4.sql"),
    include_str!("schema5.sql"),
    include_str!("schema6.sql"),
    include_str!("schema7.sql"),
    include_str!("schema8.sql"),
    include_str!("schema9.sql"),
    include_str!("schema10.sql"),
    include_str!("schema11.sql"),
    include_str!("schema12.sql"),
    include_str!("schema13.sql"),
    include_str!("schema14.sql"),
    include_str!("schema15.sql"),
    include_str!("schema16.sql"),
    include_str!("schema17.sql"),
    include_str!("schema18.sql"),
    include_str!("schema19.sql"),
];

/// Database errors, naming the object concerned.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Opening or migrating the file failed.
    #[error("cannot open database `{path}`")]
    Open {
        /// Database file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The file or its WAL could not be made private (0600).
    #[error("cannot restrict the mode of `{path}` to 0600", path = path.display())]
    Protect {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file was written by a newer debvault.
    #[error(
        "database `{path}` has schema version {found}, newer than this debvault supports ({supported})"
    )]
    TooNew {
        /// Database file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        supported: i64,
    },
    /// A statement failed.
    #[error("database: {what}")]
    Sql {
        /// What was being done.
        what: String,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// A mirror name is taken.
    #[error("mirror `{0}` already exists")]
    MirrorExists(String),
    /// A snapshot name is taken.
    #[error("snapshot `{0}` already exists")]
    SnapshotExists(String),
    /// A repo name is taken.
    #[error("repo `{0}` already exists")]
    RepoExists(String),
    /// A repo changed since its change was planned (or was dropped).
    #[error("repo `{0}` changed while this command ran; run it again")]
    RepoChanged(String),
    /// A stored value does not decode.
    #[error("database: corrupt {what}: {detail}")]
    Corrupt {
        /// Which value.
        what: String,
        /// Why.
        detail: String,
    },
    /// A record to store could not be read from where its caller keeps it.
    #[error("cannot read {what}")]
    Input {
        /// Which record.
        what: String,
        /// Cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl ExitCode for DbError {
    fn exit_code(&self) -> u8 {
        match self {
            // A name already taken: the operator picks another.
            DbError::MirrorExists(_) | DbError::SnapshotExists(_) | DbError::RepoExists(_) => USAGE,
            // The database's own troubles: failures.
            _ => FAILURE,
        }
    }
}

/// The schema version of the database at `path` (SQLite's `user_version`),
/// refused when a newer debvault wrote it.
fn schema_version(conn: &Connection, path: &Path) -> Result<i64, DbError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|source| DbError::Open {
            path: path.to_owned(),
            source,
        })?;
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(DbError::TooNew {
            path: path.to_owned(),
            found: version,
            supported,
        });
    }
    Ok(version)
}

fn sql(what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> DbError {
    let what = what.into();
    move |source| DbError::Sql { what, source }
}

fn corrupt(what: impl Into<String>, detail: impl ToString) -> DbError {
    DbError::Corrupt {
        what: what.into(),
        detail: detail.to_string(),
    }
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_ts(s: Option<String>, what: &str) -> Result<Option<DateTime<Utc>>, DbError> {
    s.map(|s| {
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| corrupt(what, e))
    })
    .transpose()
}

fn parse_sha(s: Option<String>, what: &str) -> Result<Option<Sha256>, DbError> {
    s.map(|s| s.parse().map_err(|e| corrupt(what, e)))
        .transpose()
}

/// The metadata database.
pub struct Db {
    conn: Connection,
    path: PathBuf,
    actor: String,
    tightened: Vec<(PathBuf, u32)>,
}

/// Creates the database file 0600 if it is missing, and brings it and its
/// `-wal` and `-shm` to 0600 if they are looser (whatever the umask: SQLite
/// gives the WAL and SHM the main file's mode). Returns what was
/// tightened, with the mode it had.
fn make_private(path: &Path) -> Result<Vec<(PathBuf, u32)>, DbError> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let protect = |p: &Path| {
        let p = p.to_owned();
        move |source| DbError::Protect { path: p, source }
    };
    let private = || std::fs::Permissions::from_mode(0o600);
    if !path.exists() {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(protect(path))?;
        f.set_permissions(private()).map_err(protect(path))?;
    }
    let mut tightened = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        if let Some(mode) =
            crate::atomic_file::take_back(&file, &meta, 0o600).map_err(protect(&file))?
        {
            tightened.push((file, mode));
        }
    }
    Ok(tightened)
}

impl Db {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let open_err = |source| DbError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent() {
            let _ = crate::atomic_file::create_dir_all(parent, crate::atomic_file::PUBLIC_DIR);
        }
        let tightened = make_private(path)?;
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(60))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        let mut db = Db {
            conn,
            path: path.to_owned(),
            actor: "unknown".to_owned(),
            tightened,
        };
        db.migrate()?;
        Ok(db)
    }

    /// Files of the database that others could read, made 0600 by this
    /// open, each with the mode it had (for a note; the next open finds
    /// none).
    pub fn tightened(&self) -> &[(PathBuf, u32)] {
        &self.tightened
    }

    /// Whether `table` has any row: one question where a lookup per package
    /// would find nothing (most databases hold no AppStream, command-not-found
    /// or on-demand data).
    pub(crate) fn has_rows(&self, table: &'static str) -> Result<bool, DbError> {
        self.conn
            .query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), [], |r| {
                r.get(0)
            })
            .map_err(sql(table))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets who the audit trail names for this connection's changes (`user@host`).
    pub fn set_actor(&mut self, actor: impl Into<String>) {
        self.actor = actor.into();
    }

    fn migrate(&mut self) -> Result<(), DbError> {
        let open_err = |source| DbError::Open {
            path: self.path.clone(),
            source,
        };
        let version = schema_version(&self.conn, &self.path)?;
        let supported = MIGRATIONS.len() as i64;
        if version == supported {
            return Ok(());
        }
        // IMMEDIATE: two processes opening a fresh database must not both migrate.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(open_err)?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(open_err)?;
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(migration).map_err(open_err)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(open_err)?;
        }
        tx.commit().map_err(|source| DbError::Open {
            path: self.path.clone(),
            source,
        })
    }

    /// Full package records by id, in the order of `ids`.
    pub fn packages(&self, ids: &[PackageId]) -> Result<Vec<PackageRecord>, DbError> {
        self.load_packages(
            "name, version, arch, sha256, size, filename, source, stanza",
            ids,
            |_, row| {
                let name: String = row.get(1)?;
                let sha: String = row.get(4)?;
                let sha256 = match sha.parse() {
                    Ok(d) => d,
                    Err(e) => return Ok(Err(corrupt(format!("package `{name}`"), e))),
                };
                Ok(Ok(PackageRecord {
                    sha256,
                    name,
                    version: row.get(2)?,
                    architecture: row.get(3)?,
                    size: row.get::<_, i64>(5)? as u64,
                    filename: row.get(6)?,
                    source: row.get(7)?,
                    stanza: row.get(8)?,
                }))
            },
        )
    }

    /// Rows of `packages` by id, in the order of `ids`: `build` gets the id
    /// and a row of `id, <columns>` (column errors outside, decoding errors
    /// inside, like the other row builders here).
    ///
    /// Sorted, dense ids (a package set's component usually is: a sync
    /// inserts its packages in one run) are read with one range scan, about
    /// four times faster than a lookup per id.
    fn load_packages<T>(
        &self,
        columns: &str,
        ids: &[PackageId],
        build: impl Fn(PackageId, &rusqlite::Row<'_>) -> rusqlite::Result<Result<T, DbError>>,
    ) -> Result<Vec<T>, DbError> {
        let what = "load packages";
        let sorted = ids.windows(2).all(|w| w[0] < w[1]);
        let mut out = Vec::with_capacity(ids.len());
        if let (true, Some(first), Some(last)) = (sorted, ids.first(), ids.last())
            && ids.len() >= 64
            && (last.0 - first.0) as u64 <= 4 * ids.len() as u64
        {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT id, {columns} FROM packages WHERE id BETWEEN ?1 AND ?2 ORDER BY id"
                ))
                .map_err(sql(what))?;
            let mut rows = stmt.query(params![first.0, last.0]).map_err(sql(what))?;
            let mut wanted = ids.iter().peekable();
            while let Some(row) = rows.next().map_err(sql(what))? {
                let id = PackageId(row.get(0).map_err(sql(what))?);
                if wanted.next_if_eq(&&id).is_some() {
                    out.push(build(id, row).map_err(sql(what))??);
                }
            }
            if let Some(missing) = wanted.next() {
                return Err(corrupt(
                    format!("package {}", missing.0),
                    "referenced by a package set but not stored",
                ));
            }
            return Ok(out);
        }
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT id, {columns} FROM packages WHERE id = ?1"))
            .map_err(sql(what))?;
        for id in ids {
            let mut rows = stmt.query([id.0]).map_err(sql(what))?;
            let row = rows.next().map_err(sql(what))?.ok_or_else(|| {
                sql(format!("load package {}", id.0))(rusqlite::Error::QueryReturnedNoRows)
            })?;
            out.push(build(*id, row).map_err(sql(what))??);
        }
        Ok(out)
    }
}

fn store_set(tx: &rusqlite::Transaction<'_>, set: &PackageSet) -> Result<PackageSetId, DbError> {
    let (data, digest) = set.encode();
    let digest = digest.to_string();
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM package_sets WHERE digest = ?1",
            [&digest],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql("find package set"))?;
    if let Some(id) = existing {
        return Ok(PackageSetId(id));
    }
    tx.execute(
        "INSERT INTO package_sets (digest, count, data) VALUES (?1, ?2, ?3)",
        params![digest, set.len() as i64, data],
    )
    .map_err(sql("store package set"))?;
    Ok(PackageSetId(tx.last_insert_rowid()))
}
