//! `db backup` and `db restore`: the database (and the signing keys) copied
//! out consistently, with a checksum manifest, to a file or an `s3://`
//! object, and put back.
//!
//! A backup is `VACUUM INTO` a scratch file (one read snapshot, so syncs and
//! publishes in other processes go on), checked with SQLite's integrity
//! check. The secret keys of `<root>/keys` go into that copy, in a table of
//! their own that only backups have (unless `--no-keys`): one file, one
//! hash, one switch for both, created 0600. The manifest gives the copy's
//! size, SHA256 and schema version, and each key file's name and SHA256.
//!
//! **The switch.** A destination `<dest>` holds up to two pairs, each a
//! copy and its manifest: `<dest>` + `<dest>.manifest.json`, and
//! `<dest>.next` + `<dest>.next.manifest.json`. A backup writes the next
//! pair whole (copy first, manifest last; each write atomic), then moves the
//! copy over `<dest>` and the manifest over `<dest>.manifest.json`. A manifest
//! names its copy by SHA256, so at every instant some manifest matches some
//! copy: a kill between the moves leaves `<dest>` (new) with
//! `<dest>.next.manifest.json` (new). The next backup finishes such an
//! interrupted switch before writing its own next pair, so that pair never
//! overwrites the only whole one.
//!
//! A restore reads every manifest there is, newest first, takes the first
//! whose copy (of either name) has its size and SHA256 and passes the
//! integrity check, and says which pair it took. It keeps the current
//! database as `debvault.db.pre-restore-<time>`, puts the keys the data root
//! lacks into `<root>/keys`, and only then swaps the copy in (under the gc
//! lock, so no sync or gc runs meanwhile), and records the restore in the
//! audit trail. Blobs and publications are not part of a backup: `debvault
//! verify` after a restore tells whether the store still has everything the
//! database references, and which publications it does not know.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::atomic_file::{self, WriteOptions};
use crate::db::{AuditEvent, Db, DbError, check_file, embed_files, take_files};
use crate::digest::{HashingReader, Sha256};
use crate::exit::{ExitCode, FAILURE, VERIFICATION};
use crate::lock::{Lock, LockError};
use crate::ops::keys::{KeyError, KeyStore};
use crate::store::s3::block_on;
use crate::store::{Bucket, S3Url, StoreError};

/// The manifest format this debvault writes; it reads this and 1 (no keys).
const FORMAT: u32 = 2;

/// Suffix of a manifest beside its copy.
const MANIFEST: &str = ".manifest.json";

/// Suffix of the pair a backup writes before switching to it.
const NEXT: &str = ".next";

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
    /// The key store failed.
    #[error(transparent)]
    Keys(#[from] KeyError),
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
            BackupError::Keys(e) => e.exit_code(),
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
    /// Manifest format: 2 (1 had no `keys`).
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
    /// The signing keys inside the copy (none with `--no-keys`).
    #[serde(default)]
    pub keys: Vec<KeyFile>,
}

/// One signing key file a backup carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    /// Its name in `<root>/keys`: `<FINGERPRINT>.sec.asc`.
    pub file: String,
    /// Its size.
    pub size: u64,
    /// Its SHA256.
    pub sha256: Sha256,
}

/// Where a backup goes: a local path or an object key, to which the names
/// of its pairs are suffixes.
enum Dest {
    File(PathBuf),
    Object(S3Url),
}

impl Dest {
    fn parse(location: &str) -> Result<Dest, BackupError> {
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
                Ok(Dest::Object(url))
            }
            None => Ok(Dest::File(PathBuf::from(location))),
        }
    }

    /// The file or object `<dest><suffix>`.
    fn place(&self, suffix: &str) -> Result<Place, BackupError> {
        Ok(match self {
            Dest::File(path) => {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                Place::File(PathBuf::from(p))
            }
            Dest::Object(url) => Place::Object(Bucket::open(&S3Url {
                bucket: url.bucket.clone(),
                prefix: format!("{}{suffix}", url.prefix),
            })?),
        })
    }

    /// The pair named by `suffix` (`""` or [`NEXT`]): the copy, the manifest.
    fn pair(&self, suffix: &str) -> Result<(Place, Place), BackupError> {
        Ok((
            self.place(suffix)?,
            self.place(&format!("{suffix}{MANIFEST}"))?,
        ))
    }
}

/// A backup's file or object.
enum Place {
    File(PathBuf),
    Object(Bucket),
}

impl Place {
    fn name(&self) -> String {
        match self {
            Place::File(p) => p.display().to_string(),
            Place::Object(b) => b.url().to_string(),
        }
    }

    /// Writes the local file `src` here, atomically, 0600.
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

    /// Copies this to the new local file `dest`; `false` when it does not exist.
    fn fetch(&self, dest: &Path) -> Result<bool, BackupError> {
        match self {
            Place::File(src) => match std::fs::copy(src, dest) {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(io_err("read", src)(e)),
            },
            Place::Object(b) => {
                let (b, dest) = (b.clone(), dest.to_owned());
                Ok(block_on(async move { b.get_to_file("", &dest).await })??)
            }
        }
    }

    fn exists(&self) -> Result<bool, BackupError> {
        match self {
            Place::File(p) => Ok(p.exists()),
            Place::Object(b) => {
                let b = b.clone();
                Ok(block_on(async move { b.head("").await })??.is_some())
            }
        }
    }

    /// Moves `from` here, replacing what was here: a rename, or a
    /// server-side copy then a delete. Either way, until `from` is gone
    /// both names hold its content.
    fn replace_with(&self, from: &Place) -> Result<(), BackupError> {
        match (self, from) {
            (Place::File(to), Place::File(src)) => {
                std::fs::rename(src, to).map_err(io_err("replace", to))?;
                let dir = to.parent().filter(|d| !d.as_os_str().is_empty());
                std::fs::File::open(dir.unwrap_or(Path::new(".")))
                    .and_then(|d| d.sync_all())
                    .map_err(io_err("sync the directory of", to))
            }
            (Place::Object(to), Place::Object(src)) => {
                let (to, src) = (to.clone(), src.clone());
                Ok(block_on(async move {
                    to.copy_from(&src, "", "").await?;
                    src.delete("").await
                })??)
            }
            _ => unreachable!("the places of one destination are of one kind"),
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
    /// Whether the keys were left out on purpose (`--no-keys`).
    pub keys_left_out: bool,
    /// Seconds taken.
    pub seconds: f64,
}

/// Backs the database up to `location` (a file path or `s3://bucket/key`)
/// with the secret keys of `keys` (`None`: without them); `scratch` is a
/// local directory for the copy.
pub fn backup(
    db: &Db,
    keys: Option<&KeyStore>,
    location: &str,
    scratch: &Path,
) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    let dest = Dest::parse(location)?;
    std::fs::create_dir_all(scratch).map_err(io_err("create", scratch))?;
    let tmp = tempfile::Builder::new()
        .prefix("backup-")
        .tempdir_in(scratch)
        .map_err(io_err("create a directory in", scratch))?;
    let copy = tmp.path().join("debvault.db");
    db.backup_to(&copy)?;
    let schema_version = check_file(&copy)?;
    let files = match keys {
        Some(k) => k.secret_files()?,
        None => Vec::new(),
    };
    embed_files(&copy, &files)?;
    let (sha256, size) = hash_file(&copy)?;
    let manifest = Manifest {
        format: FORMAT,
        created_at: Utc::now(),
        debvault_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version,
        size,
        sha256,
        keys: files
            .iter()
            .map(|(file, data)| KeyFile {
                file: file.clone(),
                size: data.len() as u64,
                sha256: Sha256::of(data),
            })
            .collect(),
    };
    let (cur, cur_manifest) = dest.pair("")?;
    let (next, next_manifest) = dest.pair(NEXT)?;
    let manifest_file = tmp.path().join("manifest.json");
    let mut text = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::BadManifest {
        location: cur_manifest.name(),
        detail: e.to_string(),
    })?;
    text.push(b'\n');
    atomic_file::write(&manifest_file, &text, WriteOptions::PRIVATE)
        .map_err(io_err("write", &manifest_file))?;

    // A whole next pair left by a killed backup is switched to first.
    if next_manifest.exists()? {
        if next.exists()? {
            cur.replace_with(&next)?;
        }
        cur_manifest.replace_with(&next_manifest)?;
    }
    // The next pair whole (copy first: a manifest names a whole copy),
    // then the switch; see the module docs.
    next.put_file(&copy)?;
    next_manifest.put_file(&manifest_file)?;
    cur.replace_with(&next)?;
    cur_manifest.replace_with(&next_manifest)?;
    Ok(BackupReport {
        location: cur.name(),
        manifest_location: cur_manifest.name(),
        manifest,
        keys_left_out: keys.is_none(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What a restore did.
#[derive(Clone, Debug, Serialize)]
pub struct RestoreReport {
    /// Where the copy came from.
    pub location: String,
    /// Where the manifest it matched came from.
    pub manifest_location: String,
    /// That manifest.
    pub manifest: Manifest,
    /// The signing keys written into the data root (those it lacked).
    pub keys_restored: Vec<String>,
    /// The signing keys the data root had already.
    pub keys_present: Vec<String>,
    /// Where the replaced database was kept, if there was one.
    pub previous: Option<PathBuf>,
    /// Seconds taken.
    pub seconds: f64,
}

/// A copy that matched its manifest, ready to be swapped in.
struct Chosen {
    copy: PathBuf,
    location: String,
    manifest_location: String,
    manifest: Manifest,
}

/// Restores the database at `db_path` and the keys of `keys` from
/// `location`; see the module docs.
pub fn restore(
    db_path: &Path,
    keys: &KeyStore,
    location: &str,
    scratch: &Path,
    lock_dir: &Path,
) -> Result<RestoreReport, BackupError> {
    let started = Instant::now();
    let dest = Dest::parse(location)?;
    std::fs::create_dir_all(scratch).map_err(io_err("create", scratch))?;
    let tmp = tempfile::Builder::new()
        .prefix("restore-")
        .tempdir_in(scratch)
        .map_err(io_err("create a directory in", scratch))?;
    let chosen = choose(&dest, tmp.path())?;
    let files = take_files(&chosen.copy)?;
    check_keys(&chosen, &files)?;

    let _gc = Lock::try_acquire(&lock_dir.join("gc.lock"), "the data root (gc)")
        .map_err(BackupError::Busy)?;
    let previous = if db_path.exists() {
        let aside = aside_name(db_path);
        // A copy through SQLite, not a rename: it holds what is still in the WAL.
        Db::open(db_path)?.backup_to(&aside)?;
        Some(aside)
    } else {
        None
    };
    let written = keys.restore_files(&files)?;
    swap_in(&chosen.copy, db_path)?;
    // Opening migrates a copy from an older debvault.
    let mut db = Db::open(db_path)?;
    let (keys_restored, keys_present): (Vec<_>, Vec<_>) =
        written.into_iter().partition(|(_, new)| *new);
    let names = |v: Vec<(String, bool)>| v.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    let report = RestoreReport {
        location: chosen.location,
        manifest_location: chosen.manifest_location,
        manifest: chosen.manifest,
        keys_restored: names(keys_restored),
        keys_present: names(keys_present),
        previous,
        seconds: started.elapsed().as_secs_f64(),
    };
    db.audit(
        &AuditEvent::new("db-restore", format!("database from `{}`", report.location)).detail(
            serde_json::json!({
                "manifest": report.manifest_location,
                "taken_at": report.manifest.created_at,
                "sha256": report.manifest.sha256,
                "keys_restored": report.keys_restored,
                "previous": report.previous,
            }),
        ),
    )?;
    Ok(report)
}

/// The newest manifest that a copy matches (either pair's copy), fetched
/// into `tmp` and checked; else the first manifest's failure.
fn choose(dest: &Dest, tmp: &Path) -> Result<Chosen, BackupError> {
    let mut manifests = Vec::new();
    let mut first_error = None;
    for (i, suffix) in ["", NEXT].into_iter().enumerate() {
        let (_, place) = dest.pair(suffix)?;
        let file = tmp.join(format!("manifest-{i}.json"));
        if !place.fetch(&file)? {
            continue;
        }
        match read_manifest(&file, &place.name()) {
            Ok(m) => manifests.push((suffix, place.name(), m)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if manifests.is_empty() {
        let (_, primary) = dest.pair("")?;
        return Err(first_error.unwrap_or(BackupError::Missing(primary.name())));
    }
    // Newest first; a manifest's own copy before the other pair's.
    manifests.sort_by_key(|m| std::cmp::Reverse(m.2.created_at));
    let mut copies: HashMap<&str, Option<(PathBuf, Sha256, u64)>> = HashMap::new();
    for (own, manifest_location, manifest) in manifests {
        let order = if own.is_empty() {
            ["", NEXT]
        } else {
            [NEXT, ""]
        };
        for suffix in order {
            let place = dest.place(suffix)?;
            if !copies.contains_key(suffix) {
                let file = tmp.join(format!("copy{suffix}.db"));
                let got = if place.fetch(&file)? {
                    let (sha, size) = hash_file(&file)?;
                    Some((file, sha, size))
                } else {
                    None
                };
                copies.insert(suffix, got);
            }
            let found = copies.get(suffix).and_then(Option::as_ref);
            let error = match found {
                None => BackupError::Missing(place.name()),
                Some((_, sha, size)) if (*sha, *size) != (manifest.sha256, manifest.size) => {
                    BackupError::Mismatch {
                        location: place.name(),
                        detail: format!(
                            "{size} bytes with SHA256 {sha}, the manifest says {} bytes with SHA256 {}",
                            manifest.size, manifest.sha256
                        ),
                    }
                }
                Some((file, _, _)) => match check_file(file) {
                    Ok(_) => {
                        return Ok(Chosen {
                            copy: file.clone(),
                            location: place.name(),
                            manifest_location,
                            manifest,
                        });
                    }
                    Err(e) => e.into(),
                },
            };
            // Only a manifest's own copy explains its failure.
            if suffix == own {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| BackupError::Missing(location_of(dest))))
}

fn location_of(dest: &Dest) -> String {
    match dest {
        Dest::File(p) => p.display().to_string(),
        Dest::Object(u) => u.to_string(),
    }
}

fn read_manifest(file: &Path, location: &str) -> Result<Manifest, BackupError> {
    let text = std::fs::read(file).map_err(io_err("read", file))?;
    let bad = |detail: String| BackupError::BadManifest {
        location: location.to_owned(),
        detail,
    };
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    if !(1..=FORMAT).contains(&manifest.format) {
        return Err(bad(format!(
            "format {} (this debvault reads formats 1 to {FORMAT})",
            manifest.format
        )));
    }
    Ok(manifest)
}

/// The key files inside the copy must be the ones its manifest lists.
fn check_keys(chosen: &Chosen, files: &[(String, Vec<u8>)]) -> Result<(), BackupError> {
    let mut inside: Vec<KeyFile> = files
        .iter()
        .map(|(file, data)| KeyFile {
            file: file.clone(),
            size: data.len() as u64,
            sha256: Sha256::of(data),
        })
        .collect();
    let mut listed = chosen.manifest.keys.clone();
    inside.sort_by(|a, b| a.file.cmp(&b.file));
    listed.sort_by(|a, b| a.file.cmp(&b.file));
    if inside == listed {
        return Ok(());
    }
    Err(BackupError::Mismatch {
        location: chosen.location.clone(),
        detail: format!(
            "it holds {} signing key files, not the {} its manifest lists",
            inside.len(),
            listed.len()
        ),
    })
}

/// `<db>.pre-restore-<time>`, with `-N` after a restore in the same second.
fn aside_name(db_path: &Path) -> PathBuf {
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut n = 1;
    loop {
        let mut aside = db_path.to_owned().into_os_string();
        aside.push(format!(".pre-restore-{stamp}"));
        if n > 1 {
            aside.push(format!("-{n}"));
        }
        let aside = PathBuf::from(aside);
        if !aside.exists() {
            return aside;
        }
        n += 1;
    }
}

/// Replaces the database at `db_path` by `copy`: staged beside it, synced,
/// the old WAL removed, renamed over it.
fn swap_in(copy: &Path, db_path: &Path) -> Result<(), BackupError> {
    let staged = db_path.with_extension("db.restoring");
    std::fs::copy(copy, &staged).map_err(io_err("write", &staged))?;
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
    std::fs::rename(&staged, db_path).map_err(io_err("replace", db_path))
}

fn hash_file(path: &Path) -> Result<(Sha256, u64), BackupError> {
    let f = std::fs::File::open(path).map_err(io_err("read", path))?;
    let mut r = HashingReader::new(f);
    let n = std::io::copy(&mut r, &mut std::io::sink()).map_err(io_err("read", path))?;
    Ok((r.finish().0, n))
}
