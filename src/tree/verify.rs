//! [`verify_tree`]: checks a rendered `dists/<distribution>/` tree the way
//! apt will read it, before the caller switches it in.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::TreeError;
use crate::debian::release::Release;
use crate::digest::{HashingReader, Sha256};
use crate::pgp::{Keyring, VerifyOptions, verify_clearsigned, verify_detached};

/// Checks the tree in `dir` (`dists/<distribution>/`):
///
/// - `InRelease` carries a good signature by a key in `keyring`, and
///   `Release.gpg` is a good detached signature of `Release`;
/// - `Release` is exactly the text signed in `InRelease`;
/// - every file the Release lists exists with the listed size and SHA256;
/// - with `Acquire-By-Hash: yes`, every listed index file except the small
///   per-index `Release` files (apt never fetches those) also exists as
///   `by-hash/SHA256/<hex>` next to it, with the same content.
pub fn verify_tree(dir: &Path, keyring: &Keyring) -> Result<(), TreeError> {
    let opts = VerifyOptions::default();
    let inrelease_path = dir.join("InRelease");
    let release_path = dir.join("Release");
    let gpg_path = dir.join("Release.gpg");
    let inrelease = read(&inrelease_path)?;
    let signed =
        verify_clearsigned(keyring, &inrelease, &opts).map_err(|source| TreeError::Signature {
            path: inrelease_path.clone(),
            source,
        })?;
    let release_bytes = read(&release_path)?;
    if release_bytes != signed.text {
        return Err(TreeError::ReleaseMismatch { path: release_path });
    }
    let detached = read(&gpg_path)?;
    verify_detached(keyring, &release_bytes, &detached, &opts).map_err(|source| {
        TreeError::Signature {
            path: gpg_path,
            source,
        }
    })?;
    let text = String::from_utf8_lossy(&signed.text);
    let release = Release::parse(&text).map_err(|source| TreeError::ParseRelease {
        path: inrelease_path,
        source,
    })?;

    for (rel, listed) in &release.files {
        let path = dir.join(rel);
        let expected = listed
            .sha256
            .ok_or_else(|| TreeError::NoSha256 { path: path.clone() })?;
        let meta = check_file(&path, listed.size, expected, None)?;
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel.as_str()));
        if release.acquire_by_hash && name != "Release" {
            let by_hash = dir
                .join(parent)
                .join("by-hash/SHA256")
                .join(expected.to_hex());
            check_file(&by_hash, listed.size, expected, Some(&meta))?;
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, TreeError> {
    std::fs::read(path).map_err(|source| read_error(path, source))
}

fn read_error(path: &Path, source: io::Error) -> TreeError {
    if source.kind() == io::ErrorKind::NotFound {
        TreeError::Missing {
            path: path.to_owned(),
        }
    } else {
        TreeError::Read {
            path: path.to_owned(),
            source,
        }
    }
}

/// Checks size and SHA256 of `path`; the hash is skipped when `path` is a
/// hardlink of the already checked file `same_as`.
fn check_file(
    path: &Path,
    size: u64,
    sha256: Sha256,
    same_as: Option<&std::fs::Metadata>,
) -> Result<std::fs::Metadata, TreeError> {
    let mut file = File::open(path).map_err(|e| read_error(path, e))?;
    let meta = file.metadata().map_err(|e| read_error(path, e))?;
    if meta.len() != size {
        return Err(TreeError::Size {
            path: path.to_owned(),
            expected: size,
            actual: meta.len(),
        });
    }
    if same_as.is_some_and(|m| (m.dev(), m.ino()) == (meta.dev(), meta.ino())) {
        return Ok(meta);
    }
    let mut reader = HashingReader::new(&mut file);
    io::copy(&mut reader, &mut io::sink()).map_err(|e| read_error(path, e))?;
    let (actual, len) = reader.finish();
    if len != size {
        return Err(TreeError::Size {
            path: path.to_owned(),
            expected: size,
            actual: len,
        });
    }
    if actual != sha256 {
        return Err(TreeError::Hash {
            path: path.to_owned(),
            expected: sha256,
            actual,
        });
    }
    Ok(meta)
}
