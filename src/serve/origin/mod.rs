//! Where the served files come from.

pub(super) mod bucket;
pub(super) mod dir;

use std::path::PathBuf;

use crate::store::Bucket;

/// Where the served files come from.
#[derive(Debug)]
pub(super) enum Origin {
    Dir(PathBuf),
    Bucket(Bucket),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Dir(p) => write!(f, "{}", p.display()),
            Origin::Bucket(b) => write!(f, "{}", b.url()),
        }
    }
}
