//! The publish endpoint: a local directory or a bucket (`[storage] publish`).

use std::path::{Path, PathBuf};

use super::PublishError;
use crate::ops::Context;
use crate::store::{Bucket, S3Url};

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
