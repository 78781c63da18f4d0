//! The installer images of a publication (`--with-installer` mirrors).
//!
//! A snapshot's images are files below `dists/SUITE/`
//! (`<component>/installer-<arch>/current/images/<path>`, a real
//! `current` directory) with their blobs. [`sums_indices`] makes one
//! `SHA256SUMS` per images directory (`checksums.rs`), rendered and listed
//! in the signed Release like any index; [`place_local`] hard-links (or
//! copies) each image from the blob store into the new tree, never reading
//! it into memory; to a bucket they go up from there with the tree, except
//! those the bucket holds already ([`in_bucket`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{Job, PublishError, io_err};
use crate::db::{Db, InstallerFile, PoolObject};
use crate::debian::checksums::{ChecksumEntry, render_sha256sums};
use crate::debian::safe_path::SafePath;
use crate::store::s3::block_on;
use crate::store::{BlobStore, Bucket, StoreError};
use crate::tree::{IndexInput, IndexKind, TreeFile};

/// Where images directories start below a component.
const IMAGES: &str = "/current/images/";

/// The images the publication serves, by path below `dists/<distribution>/`.
/// Published as components of several snapshots, each snapshot's images
/// move under the component it serves (the first one of a path wins).
pub(super) fn for_job(db: &Db, job: &Job<'_>) -> Result<Vec<InstallerFile>, PublishError> {
    if job.components.is_empty() {
        return Ok(db.snapshot_installer(job.snap.id)?);
    }
    let mut out: BTreeMap<String, InstallerFile> = BTreeMap::new();
    for (component, snap) in &job.components {
        for mut f in db.snapshot_installer(snap.id)? {
            let Some((_, rest)) = f.path.split_once("/installer-") else {
                continue;
            };
            f.path = format!("{component}/installer-{rest}");
            out.entry(f.path.clone()).or_insert(f);
        }
    }
    Ok(out.into_values().collect())
}

/// Splits `<component>/installer-<arch>/current/images/<rel>`.
fn split(path: &str) -> Option<(&str, &str, &str)> {
    let (component, rest) = path.split_once("/installer-")?;
    let (arch, rel) = rest.split_once(IMAGES)?;
    Some((component, arch, rel))
}

/// One `SHA256SUMS` index per images directory of `files`.
pub(super) fn sums_indices(files: &[InstallerFile]) -> Result<Vec<IndexInput>, PublishError> {
    let mut dirs: BTreeMap<(&str, &str), Vec<ChecksumEntry>> = BTreeMap::new();
    for f in files {
        let bad =
            || PublishError::BadOption(format!("installer file `{}`: unexpected path", f.path));
        let (component, arch, rel) = split(&f.path).ok_or_else(bad)?;
        let path = SafePath::new(rel).map_err(|_| bad())?;
        dirs.entry((component, arch))
            .or_default()
            .push(ChecksumEntry {
                path,
                sha256: f.sha256,
            });
    }
    Ok(dirs
        .into_iter()
        .map(|((component, arch), entries)| IndexInput {
            component: component.to_owned(),
            kind: IndexKind::ImageSums {
                architecture: arch.to_owned(),
                text: render_sha256sums(&entries).into_bytes(),
            },
            stanzas: Vec::new(),
        })
        .collect())
}

/// Puts every image into the tree at `dir` (`dists/<distribution>/`'s
/// content): a hard link to its blob, else a copy from the store. Returns
/// them as files of the tree (what a bucket's upload takes).
pub(super) fn place_local(
    store: &BlobStore,
    dir: &Path,
    files: &[InstallerFile],
) -> Result<Vec<TreeFile>, PublishError> {
    let mut placed = Vec::with_capacity(files.len());
    for f in files {
        placed.push(TreeFile {
            path: f.path.clone(),
            size: f.size,
            sha256: f.sha256,
        });
        let dst = dir.join(&f.path);
        if let Some(parent) = dst.parent() {
            crate::atomic_file::create_dir_all(parent, crate::atomic_file::PUBLIC_DIR)
                .map_err(io_err("create", parent))?;
        }
        let missing = |sha256| PublishError::MissingBlob {
            package: f.path.clone(),
            sha256,
        };
        if let Some(src) = store.local_path(&f.sha256) {
            match std::fs::hard_link(&src, &dst) {
                Ok(()) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(missing(f.sha256));
                }
                Err(_) => {}
            }
        }
        store.fetch_to(&f.sha256, &dst).map_err(|e| match e {
            StoreError::Missing(sha256) => missing(sha256),
            e => e.into(),
        })?;
        std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o644))
            .map_err(io_err("copy into", &dst))?;
    }
    Ok(placed)
}

/// The images a bucket already holds at their place below `dists`: those
/// an earlier publish recorded writing there (under `{location}{dists}/`,
/// as pool objects are recorded) with the same content, and that a
/// listing finds with the same size. They are not copied or uploaded
/// again: an images directory of tens of megabytes costs one listing.
pub(super) fn in_bucket(
    db: &Db,
    base: &Bucket,
    location: &str,
    dists: &str,
    images: &[InstallerFile],
) -> Result<HashSet<String>, PublishError> {
    if images.is_empty() {
        return Ok(HashSet::new());
    }
    let known = db.remote_pool(&format!("{location}{dists}/"))?;
    if !images.iter().any(|f| known.contains_key(&f.path)) {
        return Ok(HashSet::new());
    }
    let (b, d) = (base.clone(), dists.to_owned());
    let listed: HashMap<String, u64> = block_on(async move { b.list(&d).await })??
        .into_iter()
        .map(|l| (l.key, l.size))
        .collect();
    Ok(images
        .iter()
        .filter(|f| {
            let same = |o: &PoolObject| o.sha256 == f.sha256 && o.size == f.size;
            known.get(&f.path).is_some_and(same) && listed.get(&f.path) == Some(&f.size)
        })
        .map(|f| f.path.clone())
        .collect())
}

/// Records the images a publish wrote below `dists` (see [`in_bucket`]).
pub(super) fn record_in_bucket(
    db: &mut Db,
    location: &str,
    dists: &str,
    written: &[InstallerFile],
) -> Result<(), PublishError> {
    let objects: Vec<(String, PoolObject)> = written
        .iter()
        .map(|f| {
            let o = PoolObject {
                sha256: f.sha256,
                size: f.size,
            };
            (f.path.clone(), o)
        })
        .collect();
    db.record_remote_pool(&format!("{location}{dists}/"), &objects, &[], None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debian::checksums::parse_sha256sums;
    use crate::digest::Sha256;

    fn file(path: &str) -> InstallerFile {
        InstallerFile {
            path: path.into(),
            sha256: Sha256::of(path.as_bytes()),
            size: 1,
        }
    }

    #[test]
    fn one_sha256sums_per_images_directory_naming_each_file() {
        let files = [
            file("main/installer-amd64/current/images/netboot/netboot.tar.gz"),
            file("main/installer-amd64/current/images/MANIFEST"),
            file("main/installer-arm64/current/images/netboot/netboot.tar.gz"),
        ];
        let got = sums_indices(&files).expect("sums");
        let paths: Vec<String> = got.iter().map(IndexInput::path).collect();
        assert_eq!(
            paths,
            [
                "main/installer-amd64/current/images/SHA256SUMS",
                "main/installer-arm64/current/images/SHA256SUMS"
            ]
        );
        let IndexKind::ImageSums { text, .. } = &got[0].kind else {
            panic!("{:?}", got[0].kind);
        };
        let entries = parse_sha256sums(std::str::from_utf8(text).expect("utf-8")).expect("parse");
        let named: Vec<(&str, Sha256)> = entries
            .iter()
            .map(|e| (e.path.as_str(), e.sha256))
            .collect();
        assert_eq!(
            named,
            [
                ("MANIFEST", files[1].sha256),
                ("netboot/netboot.tar.gz", files[0].sha256)
            ]
        );
    }

    #[test]
    fn a_path_outside_an_images_directory_is_refused() {
        for bad in [
            "main/installer-amd64/current/../../../Release",
            "main/binary-amd64/Packages",
        ] {
            assert!(sums_indices(&[file(bad)]).is_err(), "{bad}");
        }
    }
}
