//! The content-addressed blob store: every pool file, once, by SHA256.
//!
//! Blobs live under `sha256/ab/<64 hex>` and are never rewritten. A blob
//! becomes visible only after its bytes were verified: downloads go to a
//! staging file first and are committed by a rename. [`BlobStore::sync`] makes
//! every commit since the last call durable in one step, before the database
//! transaction that references the blobs. Only this module knows object keys.

mod fs;

use std::path::{Path, PathBuf};

pub use fs::FsStore;

use crate::digest::Sha256;

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
    /// The configured location is not supported.
    #[error("blob store: unsupported location `{0}` (expected a local directory)")]
    Unsupported(String),
}

/// The configured blob store.
#[derive(Clone, Debug)]
pub enum BlobStore {
    /// A local directory.
    Fs(FsStore),
}

impl BlobStore {
    /// Opens the store at `location` (a directory path), creating it if needed.
    pub fn open(location: &str) -> Result<BlobStore, StoreError> {
        if location.contains("://") {
            return Err(StoreError::Unsupported(location.to_owned()));
        }
        Ok(BlobStore::Fs(FsStore::open(Path::new(location))?))
    }

    /// The size of a blob, `None` when it is absent.
    pub fn size(&self, digest: &Sha256) -> Result<Option<u64>, StoreError> {
        match self {
            BlobStore::Fs(s) => s.size(digest),
        }
    }

    /// Whether the blob is present.
    pub fn contains(&self, digest: &Sha256) -> Result<bool, StoreError> {
        match self {
            BlobStore::Fs(s) => s.contains(digest),
        }
    }

    /// A fresh path, on the store's filesystem, to download a blob (of the expected digest, if known) into.
    pub fn staging_path(&self, digest: Option<&Sha256>) -> Result<PathBuf, StoreError> {
        match self {
            BlobStore::Fs(s) => s.staging_path(digest),
        }
    }

    /// Makes a verified staged file the blob `digest`; the staged file is consumed.
    pub fn commit(&self, staged: &Path, digest: &Sha256) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(s) => s.commit(staged, digest),
        }
    }

    /// Stores verified bytes as blob `digest` (for small files held in memory).
    pub fn put_bytes(&self, digest: &Sha256, data: &[u8]) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(s) => s.put_bytes(digest, data),
        }
    }

    /// Makes every commit so far durable.
    pub fn sync(&self) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(s) => s.sync(),
        }
    }

    /// The local path of a blob, where the store is local (publishing hardlinks from it).
    pub fn local_path(&self, digest: &Sha256) -> Option<PathBuf> {
        match self {
            BlobStore::Fs(s) => Some(s.blob_path(digest)),
        }
    }

    /// Opens a blob for reading.
    pub fn open_blob(&self, digest: &Sha256) -> Result<std::fs::File, StoreError> {
        match self {
            BlobStore::Fs(s) => s.open_blob(digest),
        }
    }

    /// Every blob present.
    pub fn list(&self) -> Result<Vec<Sha256>, StoreError> {
        match self {
            BlobStore::Fs(s) => s.list(),
        }
    }

    /// Removes a blob; a missing blob is not an error.
    pub fn delete(&self, digest: &Sha256) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(s) => s.delete(digest),
        }
    }

    /// Removes staging files left behind by killed processes.
    pub fn clean_staging(&self) -> Result<u64, StoreError> {
        match self {
            BlobStore::Fs(s) => s.clean_staging(),
        }
    }
}
