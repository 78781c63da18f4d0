//! The publish endpoint: a local directory or a bucket (`[storage] publish`).

use std::io;
use std::path::{Path, PathBuf};

use super::{PublishError, io_err};
use crate::ops::Context;
use crate::store::{Bucket, S3Url};
use crate::tree::layout;

/// Where publications are written: the `[storage] publish` setting.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// A local directory.
    Local(PathBuf),
    /// A bucket and prefix; `work` is a local directory for rendering trees
    /// and for the index cache.
    S3 {
        /// The bucket.
        bucket: Bucket,
        /// Local scratch directory.
        work: PathBuf,
    },
}

impl Endpoint {
    /// The endpoint at `location` (a directory or `s3://bucket/prefix`);
    /// `work` is where an S3 endpoint renders its trees.
    pub fn open(location: &str, work: &Path) -> Result<Endpoint, PublishError> {
        match S3Url::parse(location) {
            Some(url) => Ok(Endpoint::S3 {
                bucket: Bucket::open(&url?)?,
                work: work.to_owned(),
            }),
            None => Ok(Endpoint::Local(PathBuf::from(location))),
        }
    }

    /// The local directory, if the endpoint is one.
    pub fn local(&self) -> Option<&Path> {
        match self {
            Endpoint::Local(p) => Some(p),
            Endpoint::S3 { .. } => None,
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Local(p) => write!(f, "{}", p.display()),
            Endpoint::S3 { bucket, .. } => write!(f, "{}", bucket.url()),
        }
    }
}

impl Context {
    /// The publish endpoint (`[storage] publish`); a bucket endpoint renders
    /// its trees in the data root's `tmp/`.
    pub fn endpoint(&self) -> Result<Endpoint, PublishError> {
        Endpoint::open(&self.settings.publish, &self.settings.root.join("tmp"))
    }
}

/// The directory of `prefix` below `endpoint`, after validating it; no
/// part of the prefix may be a symbolic link (one could lead out of the
/// endpoint, or into another prefix's pool).
pub fn prefix_dir(endpoint: &Path, prefix: &str) -> Result<PathBuf, PublishError> {
    let norm = normalize_prefix(prefix)?;
    if norm == "." {
        return Ok(endpoint.to_owned());
    }
    let mut dir = endpoint.to_owned();
    for part in norm.split('/') {
        dir.push(part);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(PublishError::SymlinkPrefix {
                    prefix: prefix.to_owned(),
                    link: dir,
                });
            }
            Ok(_) => {}
            // Not there yet: nothing below it can be a link either.
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(e) => return Err(io_err("inspect", &dir)(e)),
        }
    }
    Ok(endpoint.join(norm))
}

/// `.` for the root, else the `/`-joined parts; rejects unsafe prefixes
/// and absolute ones (a prefix is always below the endpoint).
pub fn normalize_prefix(prefix: &str) -> Result<String, PublishError> {
    if prefix.starts_with('/') {
        return Err(PublishError::AbsolutePrefix(prefix.to_owned()));
    }
    let parts: Vec<&str> = prefix
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        return Ok(".".to_owned());
    }
    for p in &parts {
        if !layout::valid_segment(p) || matches!(*p, "dists" | "pool" | "snapshots") {
            return Err(PublishError::BadPrefix(prefix.to_owned()));
        }
    }
    Ok(parts.join("/"))
}
