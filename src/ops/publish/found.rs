//! Publications as the endpoint shows them, whether or not the database
//! records them. After `db restore` from a backup older than a publish, the
//! endpoint holds a publication the database does not know: `verify` names
//! it (from [`published`]) and `publish drop` removes it ([`is_published`]).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Endpoint, PublishError, io_err, prefix_dir};
use crate::model::Publication;
use crate::store::s3::block_on;
use crate::tree::layout::TREES_DIR;

/// What `publish drop` removed.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Dropped {
    /// A recorded publication.
    Known(Box<Publication>),
    /// A publication on the endpoint that the database did not know.
    Unknown {
        /// Its prefix.
        prefix: String,
        /// Its distribution.
        distribution: String,
    },
}

/// Every `(prefix, distribution)` published on `endpoint`, sorted: a local
/// `dists/<distribution>` link into debvault's trees, or a bucket's
/// `dists/<distribution>/Release`.
pub(crate) fn published(endpoint: &Endpoint) -> Result<Vec<(String, String)>, PublishError> {
    let mut out = Vec::new();
    match endpoint {
        Endpoint::Local(dir) => {
            for (prefix, base) in local_prefixes(dir)? {
                let dists = base.join("dists");
                let entries = match std::fs::read_dir(&dists) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_err("list", &dists)(e)),
                };
                for e in entries {
                    let e = e.map_err(io_err("list", &dists))?;
                    let Ok(name) = e.file_name().into_string() else {
                        continue;
                    };
                    if !name.starts_with('.') && is_our_link(&e.path()) {
                        out.push((prefix.clone(), name));
                    }
                }
            }
        }
        Endpoint::S3 { bucket, .. } => {
            let b = bucket.clone();
            for l in block_on(async move { b.list("").await })?? {
                let Some(dir) = l.key.strip_suffix("/Release") else {
                    continue;
                };
                let Some((dists, distribution)) = dir.rsplit_once('/') else {
                    continue;
                };
                let prefix = match dists.strip_suffix("/dists") {
                    Some(p) => p,
                    None if dists == "dists" => ".",
                    None => continue,
                };
                out.push((prefix.to_owned(), distribution.to_owned()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Whether `distribution` is published under the (normalised) `prefix`.
pub(crate) fn is_published(
    endpoint: &Endpoint,
    prefix: &str,
    distribution: &str,
) -> Result<bool, PublishError> {
    match endpoint {
        Endpoint::Local(dir) => {
            let link = prefix_dir(dir, prefix)?.join("dists").join(distribution);
            Ok(is_our_link(&link))
        }
        Endpoint::S3 { bucket, .. } => {
            let base = if prefix == "." {
                bucket.clone()
            } else {
                bucket.sub(prefix)
            };
            let key = format!("dists/{distribution}/Release");
            Ok(block_on(async move { base.head(&key).await })??.is_some())
        }
    }
}

/// Whether `link` is a symlink into debvault's trees.
fn is_our_link(link: &Path) -> bool {
    std::fs::read_link(link).is_ok_and(|t| {
        t.to_str()
            .is_some_and(|t| t.starts_with(&format!("../{TREES_DIR}/")))
    })
}

/// Every prefix of a local endpoint that holds published trees, with its
/// directory, sorted.
pub(crate) fn local_prefixes(endpoint: &Path) -> Result<Vec<(String, PathBuf)>, PublishError> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), endpoint.to_owned(), 0)];
    while let Some((rel, dir, depth)) = stack.pop() {
        if dir.join(TREES_DIR).is_dir() {
            let prefix = if rel.is_empty() { "." } else { rel.as_str() };
            out.push((prefix.to_owned(), dir.clone()));
        }
        if depth >= 8 {
            continue;
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err("list", &dir)(e)),
        };
        let mut names = Vec::new();
        for e in entries {
            let e = e.map_err(io_err("list", &dir))?;
            if e.file_type().is_ok_and(|t| t.is_dir())
                && let Ok(name) = e.file_name().into_string()
            {
                names.push(name);
            }
        }
        names.sort();
        for name in names {
            if name.starts_with('.') || matches!(name.as_str(), "pool" | "dists" | "snapshots") {
                continue;
            }
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            stack.push((child, dir.join(&name), depth + 1));
        }
    }
    out.sort();
    Ok(out)
}
