//! Files of a local directory: the published tree on this machine.
//!
//! Lookups are blocking (`canonicalize`, `read_dir`) and run on tokio's
//! blocking pool; the file found is opened there and handed to the
//! response builder still open, so what is sent is what was looked at.

use std::fs::Metadata;
use std::io::{self, Seek as _, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use chrono::DateTime;
use hyper::StatusCode;

use super::{Content, Meta, Opened, Origin, Stat};
use crate::serve::flight::{Flight, Relay};
use crate::serve::http::{Validators, settled};
use crate::serve::ondemand::{Found, OnDemand};
use crate::serve::paths::is_immutable;
use crate::tree::layout;

/// Serves the tree under `root` (checked to be a directory at startup).
#[derive(Debug)]
pub(in crate::serve) struct DirOrigin {
    root: PathBuf,
    /// Pool files of on-demand mirrors, fetched when first asked for.
    on_demand: Option<std::sync::Arc<OnDemand>>,
}

/// A file [`DirOrigin::stat`] found, open, with what was known of it.
pub(in crate::serve) struct OpenFile {
    file: std::fs::File,
    meta: Meta,
}

/// What [`DirOrigin::open`] opens: a file, or one being fetched on demand.
pub(in crate::serve) enum DirHandle {
    File(OpenFile),
    Fetching(std::sync::Arc<Flight>, Meta),
}

impl DirOrigin {
    pub(in crate::serve) fn new(
        root: PathBuf,
        on_demand: Option<std::sync::Arc<OnDemand>>,
    ) -> DirOrigin {
        DirOrigin { root, on_demand }
    }

    pub(in crate::serve) fn on_demand(&self) -> Option<&OnDemand> {
        self.on_demand.as_deref()
    }

    pub(in crate::serve) fn root(&self) -> &Path {
        &self.root
    }
}

#[async_trait::async_trait]
impl Origin for DirOrigin {
    type Handle = DirHandle;

    /// The file or listing at `segments`; a pool file an on-demand
    /// publication left to fetch is looked for when the directory lacks it.
    async fn stat(&self, segments: &[String]) -> Result<Stat<DirHandle>, StatusCode> {
        let found = self.stat_file(segments).await;
        let Some(on_demand) = &self.on_demand else {
            return found;
        };
        if !matches!(found, Err(StatusCode::NOT_FOUND)) {
            return found;
        }
        match on_demand.find(segments).await? {
            Found::No => found,
            Found::Placed => self.stat_file(segments).await,
            Found::Fetching(meta, flight) => {
                Ok(Stat::File(meta.clone(), DirHandle::Fetching(flight, meta)))
            }
        }
    }

    async fn open(
        &self,
        segments: &[String],
        handle: DirHandle,
        range: Option<Range<u64>>,
    ) -> Result<Opened, StatusCode> {
        let OpenFile { mut file, meta } = match handle {
            DirHandle::File(open) => open,
            DirHandle::Fetching(flight, meta) => {
                return Ok(Opened {
                    meta,
                    content: Content::Flight(Relay::new(flight, range)),
                });
            }
        };
        let start = range.map_or(0, |r| r.start);
        if start > 0
            && let Err(err) = file.seek(SeekFrom::Start(start))
        {
            tracing::warn!(path = %segments.join("/"), error = %err, "cannot seek");
            return Err(StatusCode::INTERNAL_SERVER_ERROR);
        }
        Ok(Opened {
            meta,
            content: Content::File(file),
        })
    }
}

impl DirOrigin {
    /// What the directory holds at `segments`.
    async fn stat_file(&self, segments: &[String]) -> Result<Stat<DirHandle>, StatusCode> {
        let root = self.root.clone();
        let owned = segments.to_vec();
        match crate::serve::blocking::run(move || lookup(&root, &owned)).await {
            Ok(Ok(Target::File(file, meta))) => {
                let meta = Meta {
                    size: meta.len(),
                    validators: validators(&meta),
                    immutable: is_immutable(segments),
                };
                Ok(Stat::File(
                    meta.clone(),
                    DirHandle::File(OpenFile { file, meta }),
                ))
            }
            Ok(Ok(Target::Dir(entries))) => Ok(Stat::Listing(entries)),
            Ok(Err(status)) => Err(status),
            Err(err) => {
                let path = format!("/{}", segments.join("/"));
                tracing::warn!(path = %path, error = %err, "lookup task failed");
                Err(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

enum Target {
    File(std::fs::File, Metadata),
    /// Entry names (directories with a trailing `/`), sorted.
    Dir(Vec<String>),
}

/// Resolves `segments` under `root` (blocking: run off the async threads).
/// Anything that canonicalizes outside the root is "not found".
fn lookup(root: &Path, segments: &[String]) -> Result<Target, StatusCode> {
    let root = std::fs::canonicalize(root).map_err(|err| {
        tracing::warn!(root = %root.display(), error = %err, "cannot resolve the root");
        StatusCode::INTERNAL_SERVER_ERROR
    })?;
    // debvault's own files (old trees, caches, staging) are reachable only
    // through `dists/<name>` and `snapshots/<id>/`, never by name.
    if segments.iter().any(|s| s.starts_with('.')) {
        return Err(StatusCode::NOT_FOUND);
    }
    let mut path = root.clone();
    match snapshot_path(&root, segments) {
        Some(mapped) => path = mapped?,
        None => path.extend(segments),
    }
    let path = std::fs::canonicalize(&path).map_err(|err| io_status(&path, &err))?;
    if !path.starts_with(&root) {
        return Err(StatusCode::NOT_FOUND);
    }
    let meta = std::fs::metadata(&path).map_err(|err| io_status(&path, &err))?;
    if meta.is_dir() {
        return read_listing(&root, &path).map(Target::Dir);
    }
    // Checked before opening: opening a FIFO would block.
    if !meta.is_file() {
        return Err(StatusCode::NOT_FOUND);
    }
    let file = std::fs::File::open(&path).map_err(|err| io_status(&path, &err))?;
    let meta = file.metadata().map_err(|err| io_status(&path, &err))?;
    if !meta.is_file() {
        return Err(StatusCode::NOT_FOUND);
    }
    Ok(Target::File(file, meta))
}

/// Maps `<prefix>/snapshots/<id>/dists/<dist>/…` to the tree of `<dist>`
/// that was current at `<id>` (apt's `--snapshot`), and
/// `<prefix>/snapshots/<id>/pool/…` to the prefix's pool. `None` when the
/// path is not a snapshot path.
fn snapshot_path(root: &Path, segments: &[String]) -> Option<Result<PathBuf, StatusCode>> {
    let at = segments
        .iter()
        .position(|s| s == layout::SNAPSHOTS_SEGMENT)?;
    let id = segments.get(at + 1)?;
    layout::parse_tree_id(id)?;
    let mut base = root.to_path_buf();
    base.extend(&segments[..at]);
    let rest = &segments[at + 2..];
    Some(match rest.first().map(String::as_str) {
        Some("pool") => {
            let mut p = base;
            p.extend(rest);
            Ok(p)
        }
        Some("dists") if rest.len() >= 2 => {
            let trees = base.join(layout::TREES_DIR).join(&rest[1]);
            let names: Vec<String> = std::fs::read_dir(&trees)
                .map(|entries| {
                    entries
                        .flatten()
                        .filter_map(|e| e.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default();
            match layout::tree_at(names.iter().map(String::as_str), id) {
                Some(tree) => {
                    let mut p = trees.join(tree);
                    p.extend(&rest[2..]);
                    Ok(p)
                }
                None => Err(StatusCode::NOT_FOUND),
            }
        }
        _ => Err(StatusCode::NOT_FOUND),
    })
}

fn read_listing(root: &Path, dir: &Path) -> Result<Vec<String>, StatusCode> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|err| io_status(dir, &err))? {
        let Ok(entry) = entry else { continue };
        let Ok(name) = entry.file_name().into_string() else {
            continue; // not servable anyway: paths must be UTF-8
        };
        if name.starts_with('.') {
            continue; // not servable either: debvault's own files
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let is_dir = if kind.is_symlink() {
            // Hide links that lead outside the root (or nowhere).
            match std::fs::canonicalize(entry.path()) {
                Ok(target) if target.starts_with(root) => target.is_dir(),
                _ => continue,
            }
        } else {
            kind.is_dir()
        };
        names.push(if is_dir { name + "/" } else { name });
    }
    names.sort_unstable();
    Ok(names)
}

fn io_status(path: &Path, err: &io::Error) -> StatusCode {
    // A symlink loop (ELOOP; its `ErrorKind` is not stable) leads nowhere,
    // like a dangling link.
    if rustix::io::Errno::from_io_error(err) == Some(rustix::io::Errno::LOOP) {
        return StatusCode::NOT_FOUND;
    }
    match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::InvalidFilename => {
            StatusCode::NOT_FOUND
        }
        io::ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        _ => {
            tracing::warn!(path = %path.display(), error = %err, "cannot read");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// A strong `ETag` from inode, size and mtime, and `Last-Modified` once
/// the mtime has settled.
pub(in crate::serve) fn validators(meta: &Metadata) -> Validators {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok());
    let (secs, nanos) = mtime.map_or((0, 0), |d| (d.as_secs(), d.subsec_nanos()));
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let inode = 0_u64;
    Validators {
        etag: format!("\"{inode:x}-{:x}-{secs:x}.{nanos:x}\"", meta.len()),
        last_modified: mtime
            .and_then(|_| i64::try_from(secs).ok())
            .filter(|&secs| settled(secs))
            .and_then(|secs| DateTime::from_timestamp(secs, 0)),
    }
}
