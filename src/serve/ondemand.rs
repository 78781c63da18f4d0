//! Pool files of on-demand mirrors: fetched from upstream when first asked
//! for, verified while they are relayed, then kept.
//!
//! A local publication of an on-demand mirror lists every package but
//! leaves the pool files the store lacks unplaced, recording each path with
//! the SHA256 and size it must hold (`ops::publish::ondemand`). A request
//! for such a path that the directory cannot answer comes here:
//!
//! 1. **One fetch per file.** The first request starts a [`Flight`]: a task,
//!    independent of any client, that streams the file from the mirror's
//!    upstream (through [`crate::fetch`]) into a staging file of the blob
//!    store, hashing as it goes. Every request for the file while it flies —
//!    the first included — reads that staging file through its own handle
//!    as it grows, so N concurrent requests make one upstream request.
//! 2. **Nothing unverified completes.** Readers relay the bytes as they
//!    arrive but the last one: it is sent only once the whole file has the
//!    recorded size and SHA256. A file that does not (or an upstream that
//!    fails mid-way) ends every reader's body with an error, so the client
//!    sees the connection close before the declared `Content-Length` — a
//!    short read apt rejects. A range request waits for the verified file.
//! 3. **Kept once verified.** A verified file is committed as a blob
//!    (visible in the store only then), hard-linked into the publication's
//!    pool, and the path marked filled; later requests are answered from
//!    the pool as any file. A refused file is removed, logged, counted
//!    ([`OnDemandCounters`], `ondemand_counts` for `status`) and written to
//!    the audit trail.
//!
//! The database is consulted only for requests the directory answered 404
//! under a `pool` segment, on the blocking pool.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use hyper::StatusCode;
use url::Url;

use super::flight::{self, Failure, Flight, Launch, add, error_chain, lock};
use super::origin::Meta;
use crate::db::{AuditEvent, Db, OnDemandEvent, OnDemandFile};
use crate::fetch::Fetcher;
use crate::model::MirrorId;
use crate::store::{BlobStore, StoreError};
use crate::tree::layout;

/// What serving pool files on demand needs: the database (the paths left
/// to fetch, where from, the counters and audit trail), the blob store and
/// a fetcher.
#[derive(Clone)]
pub struct OnDemandOptions {
    /// The metadata database, shared by the requests.
    pub db: Arc<Mutex<Db>>,
    /// Where fetched files are kept.
    pub store: BlobStore,
    /// The HTTP client for upstreams.
    pub fetcher: Fetcher,
}

impl std::fmt::Debug for OnDemandOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnDemandOptions")
            .field("store", &self.store.location())
            .finish_non_exhaustive()
    }
}

/// What was fetched on demand while the server ran.
#[derive(Debug, Default)]
pub(super) struct OnDemandCounters {
    pub(super) fetched: AtomicU64,
    pub(super) fetched_bytes: AtomicU64,
    pub(super) mismatches: AtomicU64,
    pub(super) upstream_errors: AtomicU64,
}

/// The on-demand side of a directory origin.
pub(super) struct OnDemand {
    /// The served directory, canonical: the key publications recorded.
    root: PathBuf,
    endpoint: String,
    opts: OnDemandOptions,
    /// Files being fetched, by path below the root.
    flights: Mutex<HashMap<String, Arc<Flight>>>,
    pub(super) counters: OnDemandCounters,
}

impl std::fmt::Debug for OnDemand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnDemand")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// What a request for a file the directory lacks finds here.
pub(super) enum Found {
    /// Nothing to fetch: the 404 stands.
    No,
    /// The file is in place now: look again.
    Placed,
    /// Being fetched: relay it.
    Fetching(Meta, Arc<Flight>),
}

/// Where a file comes from.
struct Source {
    mirror: MirrorId,
    /// The mirror's name and the upstream Filename, for messages.
    mirror_name: String,
    filename: String,
    url: Url,
}

fn internal(what: &str, path: &str, err: &dyn std::fmt::Display) -> StatusCode {
    tracing::warn!(path = %path, error = %err, "on demand: cannot {what}");
    StatusCode::INTERNAL_SERVER_ERROR
}

impl OnDemand {
    /// On-demand serving below the directory `root`.
    pub(super) fn new(root: &Path, opts: OnDemandOptions) -> io::Result<OnDemand> {
        let root = std::fs::canonicalize(root)?;
        Ok(OnDemand {
            endpoint: root.to_string_lossy().into_owned(),
            root,
            opts,
            flights: Mutex::new(HashMap::new()),
            counters: OnDemandCounters::default(),
        })
    }

    /// Looks for a publication's on-demand file at `segments`, which the
    /// directory does not hold: places it if the store has it, else joins
    /// or starts its fetch.
    pub(super) async fn find(self: &Arc<Self>, segments: &[String]) -> Result<Found, StatusCode> {
        let Some(path) = pool_key(segments) else {
            return Ok(Found::No);
        };
        let this = Arc::clone(self);
        super::blocking::run(move || this.find_blocking(path))
            .await
            .map_err(|e| internal("look up", "", &e))?
    }

    fn find_blocking(self: Arc<Self>, path: String) -> Result<Found, StatusCode> {
        let file = lock(&self.opts.db)
            .ondemand_file(&self.endpoint, &path)
            .map_err(|e| internal("look up", &path, &e))?;
        let Some(file) = file else {
            return Ok(Found::No);
        };
        let meta = flight::meta(&file.sha256, file.size, true);
        let mut flights = lock(&self.flights);
        if let Some(flight) = flights.get(&path) {
            return Ok(Found::Fetching(meta, Arc::clone(flight)));
        }
        // Fetched by a flight that ended since the directory was looked
        // at, or by `mirror fill`: only the pool link is missing.
        let held = self
            .opts
            .store
            .contains(&file.sha256)
            .map_err(|e| internal("look up", &path, &e))?;
        if held {
            self.place(&path, &file)
                .map_err(|e| internal("place", &path, &e))?;
            return Ok(Found::Placed);
        }
        let Some(source) = self.source(&path, &file)? else {
            return Ok(Found::No);
        };
        let launch = Launch::stage(&self.opts.store, &file.sha256, file.size)
            .map_err(|e| internal("stage", &path, &e))?;
        let flight = Arc::clone(&launch.flight);
        flights.insert(path.clone(), Arc::clone(&flight));
        drop(flights);
        tracing::info!(path = %path, mirror = %source.mirror_name, "fetching on demand");
        let this = Arc::clone(&self);
        tokio::runtime::Handle::current().spawn(this.fly(path, file, source, launch));
        Ok(Found::Fetching(meta, flight))
    }

    /// The upstream URL of `file` from the first mirror that recorded it.
    fn source(&self, path: &str, file: &OnDemandFile) -> Result<Option<Source>, StatusCode> {
        let db = lock(&self.opts.db);
        let sources = db
            .ondemand_sources(&file.sha256)
            .map_err(|e| internal("look up", path, &e))?;
        let mirrors = db.mirrors().map_err(|e| internal("look up", path, &e))?;
        drop(db);
        for s in sources {
            let Some(m) = mirrors.iter().find(|m| m.id == s.mirror) else {
                continue;
            };
            let escaped = crate::ops::sync::escape_filename(&s.filename);
            let Ok(url) = Url::parse(&m.spec.base_url()).and_then(|base| base.join(&escaped))
            else {
                continue;
            };
            return Ok(Some(Source {
                mirror: m.id,
                mirror_name: m.name.clone(),
                filename: s.filename,
                url: self.opts.fetcher.authorize(url),
            }));
        }
        tracing::warn!(path = %path, "on demand: no mirror records where this file comes from");
        Ok(None)
    }

    /// The flight's task: fetch, then keep or refuse, then let the readers
    /// finish and forget the flight.
    async fn fly(
        self: Arc<Self>,
        path: String,
        file: OnDemandFile,
        source: Source,
        launch: Launch,
    ) {
        let this = Arc::clone(&self);
        let (key, url, sha256) = (path.clone(), source.url.clone(), file.sha256);
        let settle =
            move |staged: &Path, fetched| this.settle(&key, &file, &source, staged, fetched);
        launch
            .run(
                &self.opts.fetcher,
                &url,
                &sha256,
                (&self.flights, &path),
                settle,
            )
            .await;
    }

    /// Keeps a verified file (blob, pool link, record) or refuses it (log,
    /// counters, audit); whether it was kept.
    fn settle(
        &self,
        path: &str,
        file: &OnDemandFile,
        source: &Source,
        staged: &Path,
        fetched: Result<(), Failure>,
    ) -> bool {
        let shown = crate::fetch::redact(&source.url);
        let kept = fetched.and_then(|()| {
            self.opts
                .store
                .commit(staged, &file.sha256)
                .map_err(|e| Failure::Local(format!("cannot store it: {e}")))?;
            self.place(path, file)
                .map_err(|e| Failure::Local(format!("cannot link it into the pool: {e}")))
        });
        let (event, audit) = match &kept {
            Ok(()) => {
                tracing::info!(path = %path, url = %shown, size = file.size, "fetched on demand and kept");
                add(&self.counters.fetched, 1);
                add(&self.counters.fetched_bytes, file.size);
                (Some(OnDemandEvent::Fetched { bytes: file.size }), None)
            }
            Err(Failure::Mismatch(detail)) => {
                tracing::warn!(path = %path, url = %shown, detail = %detail, "on demand: upstream sent other content than its index promised; refused, not stored");
                add(&self.counters.mismatches, 1);
                let audit = AuditEvent::new(
                    "ondemand-refuse",
                    format!("mirror `{}` file `{}`", source.mirror_name, source.filename),
                )
                .reason(detail.clone())
                .detail(serde_json::json!({
                    "path": path,
                    "url": shown,
                    "sha256": file.sha256.to_string(),
                    "size": file.size,
                }));
                (Some(OnDemandEvent::Mismatch), Some(audit))
            }
            Err(Failure::Upstream(e)) => {
                tracing::warn!(path = %path, url = %shown, error = %error_chain(e), "on demand: cannot fetch from upstream");
                add(&self.counters.upstream_errors, 1);
                (Some(OnDemandEvent::UpstreamError), None)
            }
            Err(Failure::Local(e)) => {
                tracing::error!(path = %path, error = %e, "on demand: cannot keep a fetched file");
                (None, None)
            }
        };
        if kept.is_err() {
            let _ = std::fs::remove_file(staged);
        }
        let mut db = lock(&self.opts.db);
        if kept.is_ok()
            && let Err(e) = db.mark_ondemand_filled(&self.endpoint, path)
        {
            tracing::warn!(path = %path, error = %e, "on demand: cannot record the file filled");
        }
        if let Some(event) = event
            && let Err(e) = db.count_ondemand(source.mirror, event, audit.as_ref())
        {
            tracing::warn!(path = %path, error = %e, "on demand: cannot record the fetch");
        }
        kept.is_ok()
    }

    /// Links (or copies) the blob of `file` to the pool path `path`; a
    /// file already there is left alone (pool files are write-once).
    fn place(&self, path: &str, file: &OnDemandFile) -> Result<(), StoreError> {
        let dst = self.root.join(path);
        let io_err = |action| {
            let dst = dst.clone();
            move |source| StoreError::Io {
                action,
                path: dst,
                source,
            }
        };
        if dst.exists() {
            return Ok(());
        }
        if let Some(dir) = dst.parent() {
            crate::atomic_file::create_dir_all(dir, crate::atomic_file::PUBLIC_DIR)
                .map_err(io_err("create the directory of"))?;
        }
        if let Some(src) = self.opts.store.local_path(&file.sha256) {
            match std::fs::hard_link(&src, &dst) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
                // Another file system: copy below.
                Err(_) => {}
            }
        }
        let tmp = dst.with_file_name(format!(
            ".tmp-ondemand-{}-{}",
            std::process::id(),
            &file.sha256.to_hex()[..16]
        ));
        let _ = std::fs::remove_file(&tmp);
        let copied = self.opts.store.fetch_to(&file.sha256, &tmp).and_then(|()| {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))
                .map_err(io_err("copy into"))?;
            match std::fs::hard_link(&tmp, &dst) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(io_err("copy into")(e)),
            }
        });
        let _ = std::fs::remove_file(&tmp);
        copied
    }
}

/// The path below the root a publication recorded for `segments`: itself,
/// or for `<prefix>/snapshots/<id>/pool/…` the prefix's pool path; `None`
/// outside a pool.
fn pool_key(segments: &[String]) -> Option<String> {
    let mut parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let Some(at) = parts.iter().position(|s| *s == layout::SNAPSHOTS_SEGMENT)
        && parts
            .get(at + 1)
            .is_some_and(|id| layout::parse_tree_id(id).is_some())
        && parts.get(at + 2) == Some(&"pool")
    {
        parts.drain(at..at + 2);
    }
    parts.contains(&"pool").then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::pool_key;

    fn segs(path: &str) -> Vec<String> {
        path.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn pool_keys() {
        assert_eq!(
            pool_key(&segs("pool/main/h/hello/hello_1_all.deb")).as_deref(),
            Some("pool/main/h/hello/hello_1_all.deb")
        );
        assert_eq!(
            pool_key(&segs("x/snapshots/20250101T000000Z/pool/main/a.deb")).as_deref(),
            Some("x/pool/main/a.deb")
        );
        assert_eq!(pool_key(&segs("dists/stable/InRelease")), None);
    }
}
