//! `db backup` and `db restore`: the database copied out consistently, with a
//! checksum manifest, to a file or an `s3://` object, and put back.
//!
//! A backup is `VACUUM INTO` a scratch file (one read snapshot, so syncs and
//! publishes in other processes go on), checked with SQLite's integrity
//! check, then written to the destination under a temporary name and
//! renamed (a file) or uploaded (an object), with `<dest>.manifest.json`
//! beside it giving size, SHA256 and schema version.
//!
//! A restore fetches both, refuses a copy whose size or SHA256 differ from
//! its manifest or that fails the integrity check, keeps the current
//! database as `debvault.db.pre-restore-<time>`, and only then swaps the
//! copy in (under the gc lock, so no sync or gc runs meanwhile). Blobs and
//! publications are not part of a backup: `debvault verify` after a restore
//! tells whether the store still has everything the database references.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::atomic_file::{self, WriteOptions};
use crate::db::{Db, DbError, check_file};
use crate::digest::{HashingReader, Sha256};
use crate::exit::{ExitCode, FAILURE, VERIFICATION};
use crate::lock::{Lock, LockError};
use crate::store::s3::block_on;
use crate::store::{Bucket, S3Url, StoreError};

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// The database (or the copy) failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Object storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A local file.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// What was attempted.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The backup or its manifest is not there.
    #[error("`{0}` does not exist")]
    Missing(String),
    /// The manifest cannot be read.
    #[error("`{location}` is not a debvault backup manifest: {detail}")]
    BadManifest {
        /// Where.
        location: String,
        /// Why.
        detail: String,
    },
    /// The copy does not match its manifest.
    #[error("backup `{location}` does not match its manifest: {detail}")]
    Mismatch {
        /// Where.
        location: String,
        /// What differs.
        detail: String,
    },
    /// A sync or gc runs.
    #[error("cannot restore while a sync or gc runs")]
    Busy(#[source] LockError),
}

impl ExitCode for BackupError {
    /// A backup that fails its checks is a verification failure.
    fn exit_code(&self) -> u8 {
        match self {
            BackupError::Mismatch { .. } | BackupError::BadManifest { .. } => VERIFICATION,
            BackupError::Db(DbError::Corrupt { .. }) => VERIFICATION,
            BackupError::Db(e) => e.exit_code(),
            BackupError::Store(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + use<> {
    let path = path.to_owned();
    move |source| BackupError::Io {
        action,
        path,
        source,
    }
}

/// What `<backup>.manifest.json` holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format, 1.
    pub format: u32,
    /// When the copy was taken.
    pub created_at: DateTime<Utc>,
    /// The debvault that took it.
    pub debvault_version: String,
    /// The database's schema version.
    pub schema_version: i64,
    /// Size of the copy.
    pub size: u64,
    /// SHA256 of the copy.
    pub sha256: Sha256,
}

/// A backup's place: a local file or an object.
enum Place {
    File(PathBuf),
    Object(Bucket),
}

impl Place {
    fn parse(location: &str) -> Result<(Place, Place), BackupError> {
        match S3Url::parse(location) {
            Some(url) => {
                let url = url?;
                if url.prefix.is_empty() {
                    return Err(StoreError::BadUrl {
                        url: location.to_owned(),
                        reason: "a backup needs an object key: `s3://BUCKET/KEY`",
                    }
                    .into());
                }
                let manifest = S3Url {
                    bucket: url.bucket.clone(),
                    prefix: format!("{}.manifest.json", url.prefix),
                };
                let bucket = Bucket::open(&url)?;
                let manifest = Bucket::open(&manifest)?;
                Ok((Place::Object(bucket), Place::Object(manifest)))
            }
            None => {
                let path = PathBuf::from(location);
                let mut manifest = path.clone().into_os_string();
                manifest.push(".manifest.json");
                Ok((Place::File(path), Place::File(PathBuf::from(manifest))))
            }
        }
    }

    fn name(&self) -> String {
        match self {
            Place::File(p) => p.display().to_string(),
            Place::Object(b) => b.url().to_string(),
        }
    }

    /// Writes the local file `src` here, atomically.
    fn put_file(&self, src: &Path) -> Result<(), BackupError> {
        match self {
            Place::File(dest) => {
                atomic_file::copy(src, dest, WriteOptions::PRIVATE).map_err(io_err("write", dest))
            }
            Place::Object(b) => {
                let (b, src) = (b.clone(), src.to_owned());
                Ok(block_on(async move { b.put_file("", &src).await })??)
            }
        }
    }

    /// Copies this to the new local file `dest`.
    fn fetch(&self, dest: &Path) -> Result<(), BackupError> {
        let found = match self {
            Place::File(src) => match std::fs::copy(src, dest) {
                Ok(_) => true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => return Err(io_err("read", src)(e)),
            },
            Place::Object(b) => {
                let (b, dest) = (b.clone(), dest.to_owned());
                block_on(async move { b.get_to_file("", &dest).await })??
            }
        };
        if found {
            Ok(())
        } else {
            Err(BackupError::Missing(self.name()))
        }
    }
}

/// What a backup wrote.
#[derive(Clone, Debug, Serialize)]
pub struct BackupReport {
    /// Where the copy went.
    pub location: String,
    /// Where its manifest went.
    pub manifest_location: String,
    /// The manifest.
    pub manifest: Manifest,
    /// Seconds taken.
    pub seconds: f64,
}

/// Backs the database up to `location` (a file path or `s3://bucket/key`);
/// `scratch` is a local directory for the copy.
pub fn backup(db: &Db, location: &str, scratch: &Path) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    let (dest, manifest_dest) = Place::parse(location)?;
    std::fs::create_dir_all(scratch).map_err(io_err("create", scratch))?;
    let tmp = tempfile::Builder::new()
        .prefix("backup-")
        .tempdir_in(scratch)
        .map_err(io_err("create a directory in", scratch))?;
    let copy = tmp.path().join("debvault.db");
    db.backup_to(&copy)?;
    let schema_version = check_file(&copy)?;
    let (sha256, size) = hash_file(&copy)?;
    let manifest = Manifest {
        format: 1,
        created_at: Utc::now(),
        debvault_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version,
        size,
        sha256,
    };
    let manifest_file = tmp.path().join("manifest.json");
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::BadManifest {
        location: manifest_dest.name(),
        detail: e.to_string(),
    })?;
    let mut f = std::fs::File::create(&manifest_file).map_err(io_err("write", &manifest_file))?;
    f.write_all(&text)
        .and_then(|()| f.write_all(b"\n"))
        .map_err(io_err("write", &manifest_file))?;
    // The copy first, the manifest last: a manifest always names a whole copy.
    dest.put_file(&copy)?;
    manifest_dest.put_file(&manifest_file)?;
    Ok(BackupReport {
        location: dest.name(),
        manifest_location: manifest_dest.name(),
        manifest,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What a restore did.
#[derive(Clone, Debug, Serialize)]
pub struct RestoreReport {
    /// Where the copy came from.
    pub location: String,
    /// Its manifest.
    pub manifest: Manifest,
    /// Where the replaced database was kept, if there was one.
    pub previous: Option<PathBuf>,
    /// Seconds taken.
    pub seconds: f64,
}

/// Restores the database at `db_path` from `location`; see the module docs.
pub fn restore(
    db_path: &Path,
    location: &str,
    scratch: &Path,
    lock_dir: &Path,
) -> Result<RestoreReport, BackupError> {
    let started = Instant::now();
    let (src, manifest_src) = Place::parse(location)?;
    std::fs::create_dir_all(scratch).map_err(io_err("create", scratch))?;
    let tmp = tempfile::Builder::new()
        .prefix("restore-")
        .tempdir_in(scratch)
        .map_err(io_err("create a directory in", scratch))?;
    let manifest_file = tmp.path().join("manifest.json");
    manifest_src.fetch(&manifest_file)?;
    let text = std::fs::read(&manifest_file).map_err(io_err("read", &manifest_file))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| BackupError::BadManifest {
            location: manifest_src.name(),
            detail: e.to_string(),
        })?;
    if manifest.format != 1 {
        return Err(BackupError::BadManifest {
            location: manifest_src.name(),
            detail: format!("format {} (this debvault reads format 1)", manifest.format),
        });
    }
    let copy = tmp.path().join("debvault.db");
    src.fetch(&copy)?;
    let (sha256, size) = hash_file(&copy)?;
    if (sha256, size) != (manifest.sha256, manifest.size) {
        return Err(BackupError::Mismatch {
            location: src.name(),
            detail: format!(
                "{size} bytes with SHA256 {sha256}, the manifest says {} bytes with SHA256 {}",
                manifest.size, manifest.sha256
            ),
        });
    }
    check_file(&copy)?;

    let _gc = Lock::try_acquire(&lock_dir.join("gc.lock"), "the data root (gc)")
        .map_err(BackupError::Busy)?;
    let previous = if db_path.exists() {
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let mut aside = db_path.to_owned().into_os_string();
        aside.push(format!(".pre-restore-{stamp}"));
        let aside = PathBuf::from(aside);
        // A copy through SQLite, not a rename: it holds what is still in the WAL.
        Db::open(db_path)?.backup_to(&aside)?;
        Some(aside)
    } else {
        None
    };
    let staged = db_path.with_extension("db.restoring");
    std::fs::copy(&copy, &staged).map_err(io_err("write", &staged))?;
    std::fs::File::open(&staged)
        .and_then(|f| f.sync_all())
        .map_err(io_err("write", &staged))?;
    for ext in ["db-wal", "db-shm"] {
        let side = db_path.with_extension(ext);
        match std::fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io_err("remove", &side)(e));
            }
            _ => {}
        }
    }
    std::fs::rename(&staged, db_path).map_err(io_err("replace", db_path))?;
    // Opening migrates a copy from an older debvault.
    Db::open(db_path)?;
    Ok(RestoreReport {
        location: src.name(),
        manifest,
        previous,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn hash_file(path: &Path) -> Result<(Sha256, u64), BackupError> {
    let f = std::fs::File::open(path).map_err(io_err("read", path))?;
    let mut r = HashingReader::new(f);
    let n = std::io::copy(&mut r, &mut std::io::sink()).map_err(io_err("read", path))?;
    Ok((r.finish().0, n))
}
