//! The content-addressed blob store: every pool file, once, by SHA256.
//!
//! Blobs live under `sha256/ab/<64 hex>` and are never rewritten. A blob
//! becomes visible only after its bytes were verified: downloads go to a
//! staging file first and are committed by a rename. [`BlobStore::sync`] makes
//! every commit since the last call durable in one step, before the database
//! transaction that references the blobs. Only this module knows object keys.
//!
//! Two backends: a local directory ([`FsStore`], the default) and an
//! S3-compatible bucket ([`S3Store`], `s3://bucket/prefix`). Downloads are
//! staged in a local file either way; committing one to S3 uploads it.

mod fs;
pub mod s3;

use std::path::{Path, PathBuf};

pub use fs::{FlushBehind, FsStore};
pub use s3::{Bucket, S3Store, S3Url};

use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE, USAGE};

/// Errors of the blob store, naming the blob or path.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error("blob store: cannot {action} `{path}`")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A blob the database references is not there.
    #[error("blob store: blob `{0}` is missing")]
    Missing(Sha256),
    /// An `s3://` location that cannot be used.
    #[error("`{url}` is not a usable object-storage location: {reason}")]
    BadUrl {
        /// The location.
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An object-storage request failed.
    #[error("object storage: cannot {action} `{url}`")]
    S3 {
        /// What was attempted.
        action: &'static str,
        /// On what.
        url: String,
        /// Cause.
        #[source]
        source: Box<object_store::Error>,
    },
    /// The object-storage I/O runtime could not run.
    #[error("object storage: cannot run requests: {0}")]
    Runtime(String),
}

impl ExitCode for StoreError {
    fn exit_code(&self) -> u8 {
        match self {
            StoreError::BadUrl { .. } => USAGE,
            _ => FAILURE,
        }
    }
}

/// The configured blob store.
#[derive(Clone, Debug)]
pub enum BlobStore {
    /// A local directory.
    Fs(FsStore),
    /// A bucket.
    S3(S3Store),
}

impl BlobStore {
    /// Opens the store at `location`: a directory path (created if needed)
    /// or `s3://bucket/prefix`, whose downloads are staged in `staging`.
    pub fn open(location: &str, staging: &Path) -> Result<BlobStore, StoreError> {
        match S3Url::parse(location) {
            Some(url) => Ok(BlobStore::S3(S3Store::open(&url?, staging)?)),
            None if location.contains("://") => Err(StoreError::BadUrl {
                url: location.to_owned(),
                reason: "expected a local directory or `s3://BUCKET[/PREFIX]`",
            }),
            None => Ok(BlobStore::Fs(FsStore::open(Path::new(location))?)),
        }
    }

    /// Where the store is, for messages.
    pub fn location(&self) -> String {
        match self {
            BlobStore::Fs(s) => s.root().display().to_string(),
            BlobStore::S3(s) => s.bucket().url().to_string(),
        }
    }

    /// The size of a blob, `None` when it is absent.
    pub fn size(&self, digest: &Sha256) -> Result<Option<u64>, StoreError> {
        match self {
            BlobStore::Fs(s) => s.size(digest),
            BlobStore::S3(s) => s.size(digest),
        }
    }

    /// Whether the blob is present.
    pub fn contains(&self, digest: &Sha256) -> Result<bool, StoreError> {
        match self {
            BlobStore::Fs(s) => s.contains(digest),
            BlobStore::S3(s) => Ok(s.size(digest)?.is_some()),
        }
    }

    /// A fresh path, on the store's filesystem, to download a blob (of the expected digest, if known) into.
    pub fn staging_path(&self, digest: Option<&Sha256>) -> Result<PathBuf, StoreError> {
        match self {
            BlobStore::Fs(s) => s.staging_path(digest),
            BlobStore::S3(s) => Ok(s.staging_path()),
        }
    }

    /// Makes a verified staged file the blob `digest`; the staged file is consumed.
    pub fn commit(&self, staged: &Path, digest: &Sha256) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(s) => s.commit(staged, digest),
            BlobStore::S3(s) => s.commit(staged, digest),
        }
    }

    /// Stores verified bytes as blob `digest` (for small files held in memory).
    pub fn put_bytes(&self, digest: &Sha256, data: &[u8]) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(s) => s.put_bytes(digest, data),
            BlobStore::S3(s) => s.put_bytes(digest, data),
        }
    }

    /// Makes every commit so far durable (an object is durable once its
    /// upload returned).
    pub fn sync(&self) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(s) => s.sync(),
            BlobStore::S3(_) => Ok(()),
        }
    }

    /// Flushes a local store in the background until dropped (see
    /// [`FlushBehind`]); nothing for a bucket.
    pub fn flush_behind(&self) -> Option<FlushBehind> {
        match self {
            BlobStore::Fs(s) => Some(s.flush_behind()),
            BlobStore::S3(_) => None,
        }
    }

    /// Whether blobs are files on this machine (reading one costs no
    /// download).
    pub fn is_local(&self) -> bool {
        matches!(self, BlobStore::Fs(_))
    }

    /// The local path of a blob, where the store is local (publishing hardlinks from it).
    pub fn local_path(&self, digest: &Sha256) -> Option<PathBuf> {
        match self {
            BlobStore::Fs(s) => Some(s.blob_path(digest)),
            BlobStore::S3(_) => None,
        }
    }

    /// The bucket and key of a blob, where the store is a bucket
    /// (publishing to the same bucket copies server-side).
    pub fn object(&self, digest: &Sha256) -> Option<(&Bucket, String)> {
        match self {
            BlobStore::Fs(_) => None,
            BlobStore::S3(s) => Some((s.bucket(), S3Store::key(digest))),
        }
    }

    /// Copies a blob into the new local file `dest`.
    pub fn fetch_to(&self, digest: &Sha256, dest: &Path) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(s) => {
                let mut src = s.open_blob(digest)?;
                let io = |source| StoreError::Io {
                    action: "copy a blob to",
                    path: dest.to_owned(),
                    source,
                };
                let mut out = std::fs::File::create_new(dest).map_err(io)?;
                std::io::copy(&mut src, &mut out).map_err(io)?;
                Ok(())
            }
            BlobStore::S3(s) => s.fetch_to(digest, dest),
        }
    }

    /// Every blob present.
    pub fn list(&self) -> Result<Vec<Sha256>, StoreError> {
        match self {
            BlobStore::Fs(s) => s.list(),
            BlobStore::S3(s) => s.list(),
        }
    }

    /// Every blob present with its size where the listing gives it (a
    /// bucket's does; a directory's would cost a `stat` per blob).
    pub fn inventory(&self) -> Result<Vec<(Sha256, Option<u64>)>, StoreError> {
        match self {
            BlobStore::Fs(s) => Ok(s.list()?.into_iter().map(|d| (d, None)).collect()),
            BlobStore::S3(s) => Ok(s
                .list_sized()?
                .into_iter()
                .map(|(d, n)| (d, Some(n)))
                .collect()),
        }
    }

    /// Removes a blob; a missing blob is not an error.
    pub fn delete(&self, digest: &Sha256) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(s) => s.delete(digest),
            BlobStore::S3(s) => s.delete(digest),
        }
    }

    /// Removes staging files left behind by killed processes.
    pub fn clean_staging(&self) -> Result<u64, StoreError> {
        match self {
            BlobStore::Fs(s) => s.clean_staging(),
            BlobStore::S3(s) => s.clean_staging(),
        }
    }
}
