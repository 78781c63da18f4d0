//! The cache of verified upstream indices, `<root>/cache/indices/<sha256>`.
//!
//! Mirrors of one upstream suite (filtered differently, or amd64 and arm64
//! sharing `binary-all`) list the same index files in their Releases. A sync
//! stores each index it downloaded and verified under the SHA256 the signed
//! Release lists for it (the compressed file as fetched), and the next sync
//! wanting that digest copies it from here instead of the network. The
//! cache is never trusted: a copy is re-checked for size and SHA256, and an
//! entry that fails is removed so the index is fetched again. `gc` removes
//! the entries no mirror's current revision lists.

use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use crate::atomic_file::{self, PUBLIC_DIR, WriteOptions};
use crate::digest::{HashingReader, Sha256};

/// The index cache of a data root.
pub struct IndexCache {
    dir: PathBuf,
}

/// What a look-up in the cache found.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// `dest` now holds the index.
    Hit,
    /// No entry.
    Miss,
    /// An entry whose size or SHA256 was wrong; it is removed.
    Corrupt,
}

impl IndexCache {
    /// The cache below data root `root`.
    pub fn new(root: &Path) -> IndexCache {
        IndexCache {
            dir: root.join("cache").join("indices"),
        }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, sha256: &Sha256) -> PathBuf {
        self.dir.join(sha256.to_hex())
    }

    /// Copies the entry for `sha256` to `dest` when it holds exactly `size`
    /// bytes with that digest; what is copied is what was checked.
    pub fn get(&self, sha256: &Sha256, size: u64, dest: &Path) -> io::Result<Lookup> {
        let path = self.entry(sha256);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(e),
        };
        let mut reader = HashingReader::new(file.take(size + 1));
        let mut out = io::BufWriter::new(File::create(dest)?);
        io::copy(&mut reader, &mut out)?;
        out.flush()?;
        let (digest, len) = reader.finish();
        if digest == *sha256 && len == size {
            return Ok(Lookup::Hit);
        }
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(Lookup::Corrupt),
        }
    }

    /// The entry of `sha256` when it holds exactly that content (hashed
    /// whole: an entry is only as durable as the tree it was written in),
    /// for reading in place; `None` when absent or corrupt.
    pub fn verified(&self, sha256: &Sha256) -> io::Result<Option<PathBuf>> {
        let path = self.entry(sha256);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut reader = HashingReader::new(file);
        io::copy(&mut reader, &mut io::sink())?;
        let (digest, _) = reader.finish();
        Ok((digest == *sha256).then_some(path))
    }

    /// Stores `src`, verified against the signed Release, as the entry for `sha256`.
    pub fn put(&self, sha256: &Sha256, src: &Path) -> io::Result<()> {
        atomic_file::create_dir_all(&self.dir, PUBLIC_DIR)?;
        atomic_file::copy(src, &self.entry(sha256), WriteOptions::PUBLIC)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_returned_only_with_its_size_and_digest() {
        let root = tempfile::tempdir().unwrap();
        let cache = IndexCache::new(root.path());
        let (src, dest) = (root.path().join("src"), root.path().join("dest"));
        std::fs::write(&src, b"Package: a\n").unwrap();
        let sha = Sha256::of(b"Package: a\n");
        assert_eq!(cache.get(&sha, 11, &dest).unwrap(), Lookup::Miss);
        cache.put(&sha, &src).unwrap();
        assert_eq!(cache.get(&sha, 11, &dest).unwrap(), Lookup::Hit);
        assert_eq!(std::fs::read(&dest).unwrap(), b"Package: a\n");
        // A size the Release does not promise: corrupt, and gone.
        assert_eq!(cache.get(&sha, 10, &dest).unwrap(), Lookup::Corrupt);
        assert_eq!(cache.get(&sha, 11, &dest).unwrap(), Lookup::Miss);
    }
}
