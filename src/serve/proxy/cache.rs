//! The proxy's cache: a known file's handle (a cached blob or the flight
//! fetching it), the flights that fill it, and what it keeps or refuses
//! (see the module doc of `super`).

use std::path::Path;
use std::sync::Arc;

use hyper::StatusCode;

use super::origin::{Body, Handle, Kind, internal};
use super::verify;
use super::{Counters, Proxy};
use crate::db::{AuditEvent, ProxyCached, ProxyEntry};
use crate::digest::Sha256;
use crate::serve::flight::{self, Failure, Launch, error_chain, lock};

impl Proxy {
    /// The blob cached for `path`, open, if the store still holds it.
    pub(super) fn cached_blob(
        &self,
        path: &str,
    ) -> Result<Option<(std::fs::File, ProxyCached)>, StatusCode> {
        let cached = lock(&self.db)
            .proxy_cached(&self.name, path)
            .map_err(|e| internal(self, path, &e))?;
        let Some(c) = cached else { return Ok(None) };
        Ok(self.open_blob(&c.sha256).map(|f| (f, c)))
    }

    pub(super) fn open_blob(&self, sha256: &Sha256) -> Option<std::fs::File> {
        std::fs::File::open(self.store.local_path(sha256)?).ok()
    }

    /// A pool file being fetched or already cached here, looked up on
    /// this (async) thread when the database is free at once: two indexed
    /// reads of hot pages and an `open` take microseconds, less than the
    /// hop to the blocking pool they would otherwise take (with 20 apt
    /// clients, those hops' thread wake-ups were serve's largest cost
    /// after sending). `None` when the blocking path must answer: the
    /// database is busy, or the file is not named, not recorded here, or
    /// not held.
    pub(super) fn pool_at_once(&self, path: &str) -> Option<Result<Handle, StatusCode>> {
        let db = self.db.try_lock().ok()?;
        let looked = db.proxy_expected(&self.name, path).and_then(|expected| {
            let Some(expected) = expected else {
                return Ok(None);
            };
            let cached = db.proxy_cached(&self.name, path)?;
            let recorded = cached.is_some_and(|c| c.sha256 == expected.sha256);
            Ok(Some((expected, recorded)))
        });
        drop(db);
        let (expected, recorded) = match looked {
            Ok(looked) => looked?,
            Err(e) => return Some(Err(internal(self, path, &e))),
        };
        let meta = flight::meta(&expected.sha256, expected.size, true);
        let flights = lock(&self.flights);
        if let Some(flight) = flights.get(path) {
            self.add(|c: &Counters| &c.misses, 1);
            let body = Body::Flight(Arc::clone(flight));
            return Some(Ok(Handle { meta, body }));
        }
        drop(flights);
        if !recorded {
            return None;
        }
        let file = self.open_blob(&expected.sha256)?;
        lock(&self.pending).used.push(path.to_owned());
        self.add(|c: &Counters| &c.hits, 1);
        self.add(|c: &Counters| &c.bytes_from_cache, expected.size);
        Some(Ok(Handle {
            meta,
            body: Body::Blob(file),
        }))
    }

    /// The handle of a file whose content is known ([`Proxy::held`]), with
    /// its metadata.
    pub(super) fn handle(
        self: Arc<Self>,
        path: &str,
        expected: ProxyEntry,
        kind: Kind,
        immutable: bool,
    ) -> Result<Handle, StatusCode> {
        let meta = flight::meta(&expected.sha256, expected.size, immutable);
        let body = self.held(path, expected, kind)?;
        Ok(Handle { meta, body })
    }

    /// A file of known content: the store's blob (recorded and parsed if
    /// need be), the flight fetching it, or a new flight.
    pub(super) fn held(
        self: Arc<Self>,
        path: &str,
        expected: ProxyEntry,
        kind: Kind,
    ) -> Result<Body, StatusCode> {
        let mut flights = lock(&self.flights);
        if let Some(flight) = flights.get(path) {
            self.add(|c: &Counters| &c.misses, 1);
            return Ok(Body::Flight(Arc::clone(flight)));
        }
        if let Some(file) = self.open_blob(&expected.sha256) {
            drop(flights);
            let cached = lock(&self.db)
                .proxy_cached(&self.name, path)
                .map_err(|e| internal(&self, path, &e))?;
            if cached.is_none_or(|c| c.sha256 != expected.sha256) {
                // Held for a mirror, or by another name: record it here.
                self.keep(
                    path,
                    &expected,
                    &kind,
                    self.store.local_path(&expected.sha256).as_deref(),
                )
                .map_err(|e| internal(&self, path, &e))?;
            } else if matches!(kind, Kind::Pool) {
                lock(&self.pending).used.push(path.to_owned());
            }
            self.add(|c: &Counters| &c.hits, 1);
            self.add(|c: &Counters| &c.bytes_from_cache, expected.size);
            return Ok(Body::Blob(file));
        }
        let launch = Launch::stage(&self.store, &expected.sha256, expected.size)
            .map_err(|e| internal(&self, path, &e))?;
        let flight = Arc::clone(&launch.flight);
        flights.insert(path.to_owned(), Arc::clone(&flight));
        drop(flights);
        self.add(|c: &Counters| &c.misses, 1);
        tracing::info!(proxy = %self.name, path, "proxy: fetching");
        let url = self.url(path)?;
        let this = Arc::clone(&self);
        tokio::runtime::Handle::current().spawn(this.fly(
            path.to_owned(),
            url,
            expected,
            kind,
            launch,
        ));
        Ok(Body::Flight(flight))
    }

    /// The flight's task: fetch, keep or refuse, let the readers finish.
    pub(super) async fn fly(
        self: Arc<Self>,
        path: String,
        url: url::Url,
        expected: ProxyEntry,
        kind: Kind,
        launch: Launch,
    ) {
        let this = Arc::clone(&self);
        let (key, from, sha256) = (path.clone(), url.clone(), expected.sha256);
        let settle = move |staged: &Path, fetched| {
            this.settle(&key, &from, &expected, &kind, staged, fetched)
        };
        launch
            .run(&self.fetcher, &url, &sha256, (&self.flights, &path), settle)
            .await;
    }

    /// Keeps a verified file or refuses it; whether it was kept.
    pub(super) fn settle(
        &self,
        path: &str,
        url: &url::Url,
        expected: &ProxyEntry,
        kind: &Kind,
        staged: &Path,
        fetched: Result<(), Failure>,
    ) -> bool {
        let kept = fetched.and_then(|()| {
            self.store
                .commit(staged, &expected.sha256)
                .map_err(|e| Failure::Local(format!("cannot store it: {e}")))?;
            let blob = self.store.local_path(&expected.sha256);
            self.keep(path, expected, kind, blob.as_deref())
                .map_err(|e| Failure::Local(format!("cannot record it: {e}")))
        });
        match &kept {
            Ok(()) => {
                tracing::info!(proxy = %self.name, path, size = expected.size, "proxy: fetched, verified and kept");
                self.add(|c: &Counters| &c.bytes_from_upstream, expected.size);
            }
            Err(Failure::Mismatch(detail)) => {
                self.refuse(path, detail.clone(), Some((url, expected)));
            }
            Err(Failure::Upstream(e)) => {
                tracing::warn!(proxy = %self.name, path, error = %error_chain(e), "proxy: upstream failed");
                self.add(|c: &Counters| &c.upstream_errors, 1);
            }
            Err(Failure::Local(e)) => {
                tracing::error!(proxy = %self.name, path, error = %e, "proxy: cannot keep a fetched file");
            }
        }
        if kept.is_err() {
            let _ = std::fs::remove_file(staged);
        }
        kept.is_ok()
    }

    /// Records a verified file held as a blob (at `blob`): an index with
    /// the pool files it names, or a pool file.
    pub(super) fn keep(
        &self,
        path: &str,
        expected: &ProxyEntry,
        kind: &Kind,
        blob: Option<&Path>,
    ) -> Result<(), crate::db::DbError> {
        let cached = ProxyCached {
            sha256: expected.sha256,
            size: expected.size,
            etag: None,
            last_modified: None,
        };
        match kind {
            Kind::Pool => {
                lock(&self.pending).evict = true;
                lock(&self.db).proxy_record_pool(&self.name, path, &cached)
            }
            Kind::Index(how) => {
                let pool = match (how, blob) {
                    (Some((index, compression)), Some(blob)) => {
                        verify::index_entries(blob, *index, *compression).unwrap_or_else(|e| {
                            tracing::warn!(proxy = %self.name, path, error = %error_chain(&e), "proxy: cannot read the pool files a verified index names; they pass through uncached");
                            Vec::new()
                        })
                    }
                    _ => Vec::new(),
                };
                lock(&self.db).proxy_record_index(&self.name, path, &cached, &pool)
            }
        }
    }

    /// Logs, counts and audits content that failed verification.
    pub(super) fn refuse(
        &self,
        path: &str,
        detail: String,
        file: Option<(&url::Url, &ProxyEntry)>,
    ) {
        tracing::warn!(proxy = %self.name, path, detail = %detail, "proxy: upstream sent content that does not verify; refused, not cached");
        self.add(|c: &Counters| &c.verification_failures, 1);
        let mut facts = serde_json::json!({ "path": path });
        if let Some((url, e)) = file {
            facts["url"] = crate::fetch::redact(url).into();
            facts["sha256"] = e.sha256.to_string().into();
            facts["size"] = e.size.into();
        }
        let event = AuditEvent::new(
            "proxy-refuse",
            format!("proxy `{}` file `{path}`", self.name),
        )
        .reason(detail)
        .detail(facts);
        lock(&self.pending).audit.push(event);
    }
}
