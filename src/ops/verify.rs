//! `verify`: what is stored, checked against what was recorded.
//!
//! - **Blobs.** Every blob a package row references must be in the store
//!   with its recorded size (one listing of a bucket, a `stat` per file of a
//!   directory); a sample of them (all by default) is re-hashed.
//! - **Publications.** Each recorded publication's tree must verify as apt
//!   would (InRelease and Release.gpg with the signing keys' public
//!   certificates; every file the Release lists, by-hash copies included,
//!   of its size and SHA256), its Release must be the one recorded, and
//!   every pool file its `Packages` name must be there with its size.
//! - **Unknown publications.** A publication on the endpoint that the
//!   database does not record (after a restore from a backup older than
//!   it) is named, with the `publish drop` that removes it.
//!
//! Nothing is changed: every difference is reported, naming what and where.

use std::collections::{HashMap, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use futures::StreamExt as _;
use serde::Serialize;
use sha2::Digest as _;

use super::publish::{Endpoint, PublishError, prefix_dir, published};
use crate::db::{Db, DbError};
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE};
use crate::model::Publication;
use crate::pgp::Keyring;
use crate::store::s3::block_on;
use crate::store::{BlobStore, Bucket, StoreError};
use crate::tree::verify_tree;

/// Blobs hashed at once.
const HASHERS: usize = 4;

/// Why verification could not run (differences are not errors: they are
/// the report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The store could not be listed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The publish endpoint could not be listed.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// A local scratch file.
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
}

impl ExitCode for VerifyError {
    fn exit_code(&self) -> u8 {
        match self {
            VerifyError::Db(e) => e.exit_code(),
            VerifyError::Store(e) => e.exit_code(),
            VerifyError::Publish(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

/// How much to check.
#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions {
    /// Percentage of blobs to re-hash (their presence and size are always
    /// checked), 0 to 100.
    pub sample_percent: f64,
}

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `blob`, `publication` or `pool`.
    pub kind: &'static str,
    /// The blob digest, publication or pool path.
    pub subject: String,
    /// What is wrong.
    pub detail: String,
}

/// What was checked and what differed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    /// Blobs the database references.
    pub blobs: u64,
    /// Of those, re-hashed.
    pub blobs_hashed: u64,
    /// Bytes re-hashed.
    pub bytes_hashed: u64,
    /// Publications checked.
    pub publications: u64,
    /// Pool files checked for presence and size.
    pub pool_files: u64,
    /// Publications on the endpoint that the database does not record.
    pub unknown_publications: u64,
    /// Every difference found.
    pub problems: Vec<Problem>,
    /// Seconds taken.
    pub seconds: f64,
}

impl VerifyReport {
    /// Whether everything matched.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies the store and the publications; see the module docs.
/// `keyring` holds the signing keys' public certificates (`None`: there
/// are no keys, so any publication is a problem).
pub fn verify(
    db: &Db,
    store: &BlobStore,
    endpoint: &Endpoint,
    keyring: Option<&Keyring>,
    scratch: &Path,
    opts: VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let started = Instant::now();
    let mut report = VerifyReport::default();
    verify_blobs(db, store, opts, &mut report)?;
    let mut known = HashSet::new();
    for p in db.publications()? {
        known.insert((p.prefix.clone(), p.distribution.clone()));
        report.publications += 1;
        match keyring {
            Some(k) => verify_publication(db, endpoint, k, scratch, &p, &mut report)?,
            None => report.problems.push(publication_problem(
                &p,
                "no signing key is left to check its signatures with".into(),
            )),
        }
    }
    for (prefix, distribution) in published(endpoint)? {
        if known.contains(&(prefix.clone(), distribution.clone())) {
            continue;
        }
        report.unknown_publications += 1;
        let flag = if prefix == "." {
            String::new()
        } else {
            format!(" --prefix {prefix}")
        };
        report.problems.push(Problem {
            kind: "publication",
            subject: crate::tree::layout::dists_path(&prefix, &distribution),
            detail: format!(
                "on the publish endpoint but not in the database (restored from a backup older than it?): `debvault publish drop {distribution}{flag}` removes it"
            ),
        });
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn blob_problem(sha256: &Sha256, detail: String) -> Problem {
    Problem {
        kind: "blob",
        subject: sha256.to_string(),
        detail,
    }
}

fn verify_blobs(
    db: &Db,
    store: &BlobStore,
    opts: VerifyOptions,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    let refs = db.blob_refs()?;
    report.blobs = refs.len() as u64;
    // Presence and size of all.
    let mut present: Vec<(Sha256, u64)> = Vec::with_capacity(refs.len());
    if let BlobStore::S3(_) = store {
        let listed: HashMap<Sha256, Option<u64>> = store.inventory()?.into_iter().collect();
        for (sha, size) in refs {
            match listed.get(&sha) {
                None if db.has_ondemand_source(&sha)? => {}
                None => report
                    .problems
                    .push(blob_problem(&sha, "missing from the blob store".into())),
                Some(Some(n)) if *n != size => report.problems.push(blob_problem(
                    &sha,
                    format!("{n} bytes in the store, {size} recorded"),
                )),
                Some(_) => present.push((sha, size)),
            }
        }
    } else {
        for (sha, size) in refs {
            match store.size(&sha)? {
                // An on-demand mirror's package file, still upstream.
                None if db.has_ondemand_source(&sha)? => {}
                None => report
                    .problems
                    .push(blob_problem(&sha, "missing from the blob store".into())),
                Some(n) if n != size => report.problems.push(blob_problem(
                    &sha,
                    format!("{n} bytes in the store, {size} recorded"),
                )),
                Some(_) => present.push((sha, size)),
            }
        }
    }
    // Content of a sample: every blob whose digest falls in the first
    // `sample_percent` of the digest space (digests are uniform).
    let cut = (opts.sample_percent.clamp(0.0, 100.0) / 100.0 * 65536.0) as u32;
    let sample: Vec<(Sha256, u64)> = present
        .into_iter()
        .filter(|(d, _)| u32::from(u16::from_be_bytes([d.as_bytes()[0], d.as_bytes()[1]])) < cut)
        .collect();
    report.blobs_hashed = sample.len() as u64;
    report.bytes_hashed = sample.iter().map(|(_, n)| n).sum();
    let results: Vec<(Sha256, Result<Sha256, StoreError>)> = match store {
        BlobStore::S3(s) => {
            let bucket = s.bucket().clone();
            block_on(async move {
                futures::stream::iter(sample.into_iter().map(|(sha, _)| {
                    let b = bucket.clone();
                    async move {
                        (
                            sha,
                            hash_object(&b, &crate::store::S3Store::key(&sha)).await,
                        )
                    }
                }))
                .buffer_unordered(HASHERS * 2)
                .collect()
                .await
            })?
        }
        BlobStore::Fs(_) => {
            let chunk = sample.len().div_ceil(HASHERS).max(1);
            std::thread::scope(|s| {
                let handles: Vec<_> = sample
                    .chunks(chunk)
                    .map(|part| {
                        s.spawn(move || {
                            part.iter()
                                .map(|(sha, _)| (*sha, hash_blob(store, sha)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        }
    };
    for (sha, got) in results {
        match got {
            Ok(actual) if actual == sha => {}
            Ok(actual) => report
                .problems
                .push(blob_problem(&sha, format!("content has SHA256 {actual}"))),
            Err(e) => report
                .problems
                .push(blob_problem(&sha, format!("cannot be read: {e}"))),
        }
    }
    Ok(())
}

fn hash_blob(store: &BlobStore, sha: &Sha256) -> Result<Sha256, StoreError> {
    let path = store.local_path(sha).ok_or(StoreError::Missing(*sha))?;
    let io = |source| StoreError::Io {
        action: "read",
        path: path.clone(),
        source,
    };
    let mut f = std::fs::File::open(&path).map_err(io)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(Sha256::from_bytes(h.finalize().into()))
}

async fn hash_object(bucket: &Bucket, key: &str) -> Result<Sha256, StoreError> {
    let Some((_, mut stream)) = bucket.read(key, None).await? else {
        return Err(StoreError::BadUrl {
            url: bucket.url().join(key).to_string(),
            reason: "listed but gone",
        });
    };
    let mut h = sha2::Sha256::new();
    while let Some(chunk) = stream.next().await {
        h.update(&chunk?);
    }
    Ok(Sha256::from_bytes(h.finalize().into()))
}

fn publication_problem(p: &Publication, detail: String) -> Problem {
    Problem {
        kind: "publication",
        subject: crate::tree::layout::dists_path(&p.prefix, &p.distribution),
        detail,
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> VerifyError + use<> {
    let path = path.to_owned();
    move |source| VerifyError::Io {
        action,
        path,
        source,
    }
}

/// A bucket publication's `dists/<distribution>/` downloaded to a scratch
/// directory (removed when the first value drops), and its pool's listing.
fn download_tree(
    bucket: &Bucket,
    scratch: &Path,
    p: &Publication,
) -> Result<(tempfile::TempDir, PathBuf, PoolCheck), VerifyError> {
    let base = if p.prefix == "." {
        bucket.clone()
    } else {
        bucket.sub(&p.prefix)
    };
    std::fs::create_dir_all(scratch).map_err(io("create", scratch))?;
    let download = tempfile::Builder::new()
        .prefix("verify-")
        .tempdir_in(scratch)
        .map_err(io("create a directory in", scratch))?;
    let dir = download.path().to_owned();
    let dists = format!("dists/{}", p.distribution);
    let (b, d, target) = (base.clone(), dists.clone(), dir.clone());
    block_on(async move {
        for l in b.list(&d).await? {
            let dest = target.join(&l.key);
            if let Some(parent) = dest.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|source| StoreError::Io {
                        action: "create",
                        path: parent.to_owned(),
                        source,
                    })?;
            }
            b.get_to_file(&format!("{d}/{}", l.key), &dest).await?;
        }
        Ok::<_, StoreError>(())
    })??;
    let b = base.clone();
    let listed = block_on(async move { b.list("pool").await })??;
    let sizes = listed
        .into_iter()
        .map(|l| (format!("pool/{}", l.key), l.size))
        .collect();
    Ok((download, dir, PoolCheck::Listed(sizes)))
}

fn verify_publication(
    db: &Db,
    endpoint: &Endpoint,
    keyring: &Keyring,
    scratch: &Path,
    p: &Publication,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    // The tree as a local directory: the published one, or a bucket's
    // `dists/<distribution>/` downloaded to scratch.
    // A bucket's tree is downloaded to a directory removed at the end.
    let _download;
    let (tree, pool): (PathBuf, PoolCheck) = match endpoint {
        Endpoint::Local(dir) => {
            let base = match prefix_dir(dir, &p.prefix) {
                Ok(b) => b,
                Err(e) => {
                    report.problems.push(publication_problem(p, e.to_string()));
                    return Ok(());
                }
            };
            (
                base.join("dists").join(&p.distribution),
                PoolCheck::Dir(base),
            )
        }
        Endpoint::S3 { bucket, .. } => {
            let (dir, tree, pool) = download_tree(bucket, scratch, p)?;
            _download = dir;
            (tree, pool)
        }
    };
    if let Err(e) = verify_tree(&tree, keyring) {
        report.problems.push(publication_problem(p, e.to_string()));
        return Ok(());
    }
    let release_path = tree.join("Release");
    let release_bytes = std::fs::read(&release_path).map_err(io("read", &release_path))?;
    if Sha256::of(&release_bytes) != p.release_sha256 {
        report.problems.push(publication_problem(
            p,
            format!(
                "its Release is not the one recorded when `{}` was published",
                p.snapshots_text()
            ),
        ));
    }
    let Ok(release) = Release::parse(&String::from_utf8_lossy(&release_bytes)) else {
        return Ok(());
    };
    for path in release.files.keys() {
        let sources = path.ends_with("/source/Sources");
        if !(sources || path.ends_with("/Packages")) {
            continue;
        }
        let file = tree.join(path);
        let text = std::fs::read_to_string(&file).map_err(io("read", &file))?;
        let Ok(stanzas) = crate::debian::parse_str(&text) else {
            report.problems.push(publication_problem(
                p,
                format!("`{path}` is not a valid index"),
            ));
            continue;
        };
        let listed: Vec<(String, u64)> = if sources {
            crate::debian::sources::listed_files(&text)
        } else {
            stanzas
                .iter()
                .filter_map(|s| {
                    let size = s.get("Size").and_then(|v| v.trim().parse::<u64>().ok());
                    Some((s.get("Filename")?.to_owned(), size?))
                })
                .collect()
        };
        for (filename, size) in listed {
            let filename = filename.as_str();
            report.pool_files += 1;
            let found = pool.size(filename);
            // An on-demand file `serve` fetches when first asked for.
            let left = found.is_none()
                && matches!((endpoint, &pool), (Endpoint::Local(dir), PoolCheck::Dir(base))
                    if super::publish::left_to_fetch(db, dir, base, filename)?);
            if found != Some(size) && !left {
                report.problems.push(Problem {
                    kind: "pool",
                    subject: format!(
                        "{}: {filename}",
                        crate::tree::layout::dists_path(&p.prefix, &p.distribution)
                    ),
                    detail: match found {
                        None => "missing".into(),
                        Some(n) => format!("{n} bytes, the index lists {size}"),
                    },
                });
            }
        }
    }
    Ok(())
}

/// Where a publication's pool files are looked up.
enum PoolCheck {
    Dir(PathBuf),
    Listed(HashMap<String, u64>),
}

impl PoolCheck {
    fn size(&self, filename: &str) -> Option<u64> {
        match self {
            PoolCheck::Dir(base) => std::fs::metadata(base.join(filename))
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len()),
            PoolCheck::Listed(sizes) => sizes.get(filename).copied(),
        }
    }
}
