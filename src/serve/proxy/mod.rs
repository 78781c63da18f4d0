//! The verifying caching proxy: `[proxy.NAME]` upstreams answered at
//! `/NAME/…` and for absolute-URI requests under them (`route.rs`).
//!
//! What it caches it verifies first, in the order apt fetches (`origin.rs`):
//!
//! 1. **Release documents** (`InRelease`, `Release` + `Release.gpg`) are
//!    revalidated with upstream on every request (conditional GET) and
//!    checked against the proxy's keyring. A verified one replaces what the
//!    suite's last one listed (`verify.rs`): the size and SHA256 of every
//!    index, by name and by-hash name. When upstream fails (refused, timed
//!    out, 5xx) the cached copy is served with `Warning: 110` and logged;
//!    apt's own `Valid-Until` check still applies.
//! 2. **Indices** are fetched only when listed, verified against that size
//!    and SHA256 while relayed (the shared single-flight machinery,
//!    `super::flight`), and kept as blobs; a verified `Packages`/`Sources`
//!    is stream-parsed for the pool files it names.
//! 3. **Pool files** an index named are fetched once, verified, kept as
//!    blobs of the store mirrors use (one copy on disk) and served from it
//!    later; one no verified index names is passed through, uncached.
//!
//! A mismatch is never kept: the client's transfer fails (a short read),
//! and the refusal is logged, audited and counted. Counters, the use times
//! that order eviction and audit records are gathered in memory and written
//! to the database about once a second ([`Proxies::flush`]); pool files
//! beyond a proxy's cache limit are then evicted, least recently used
//! first, never a blob a mirror, snapshot or publication holds. The limit
//! is checked after a pool file was cached, and once when serving starts:
//! a cache left past a limit lowered since is trimmed then.

mod cache;
mod origin;
mod route;
mod verify;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::header::HeaderMap;
use hyper::{Method, StatusCode, Uri};
use tokio::sync::watch;
use url::Url;

use super::flight::{Flight, lock};
use super::response::Reply;
use crate::db::{AuditEvent, Db, ProxyCounts};
use crate::fetch::Fetcher;
use crate::pgp::Keyring;
use crate::store::BlobStore;
use route::{Route, route};

/// How often counters and use times are written to the database.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// What the proxies need: the database, the blob store they share with
/// mirrors, and each upstream.
#[derive(Clone)]
pub struct ProxyOptions {
    /// The metadata database, shared by the requests.
    pub db: Arc<Mutex<Db>>,
    /// Where verified files are kept.
    pub store: BlobStore,
    /// One per `[proxy.NAME]`.
    pub upstreams: Vec<ProxyUpstream>,
}

impl std::fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("upstreams", &self.upstreams)
            .finish_non_exhaustive()
    }
}

/// One configured proxy, ready to serve.
#[derive(Clone)]
pub struct ProxyUpstream {
    /// `NAME`: its path segment and the name in counters and logs.
    pub name: String,
    /// The archive root, ending with `/`.
    pub upstream: Url,
    /// Keys its Release documents must be signed with.
    pub keyring: Keyring,
    /// Its client (the proxy's own timeouts).
    pub fetcher: Fetcher,
    /// Most bytes of pool files kept, if limited.
    pub cache_limit: Option<u64>,
}

impl std::fmt::Debug for ProxyUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyUpstream")
            .field("name", &self.name)
            .field("upstream", &crate::fetch::redact(&self.upstream))
            .finish_non_exhaustive()
    }
}

/// Every proxy of a server.
pub(super) struct Proxies {
    list: Vec<Arc<Proxy>>,
}

impl std::fmt::Debug for Proxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.list.iter().map(|p| p.name.as_str()).collect();
        f.debug_struct("Proxies").field("names", &names).finish()
    }
}

/// One proxy while it serves.
pub(super) struct Proxy {
    name: String,
    upstream: Url,
    keyring: Keyring,
    fetcher: Fetcher,
    cache_limit: Option<u64>,
    db: Arc<Mutex<Db>>,
    store: BlobStore,
    /// Files being fetched, by path below the upstream.
    flights: Mutex<HashMap<String, Arc<Flight>>>,
    counters: Counters,
    pending: Mutex<Pending>,
}

/// Counted since the last flush.
#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    bytes_from_cache: AtomicU64,
    bytes_from_upstream: AtomicU64,
    verification_failures: AtomicU64,
    upstream_errors: AtomicU64,
}

impl Counters {
    /// The counts so far, reset to 0.
    fn take(&self) -> ProxyCounts {
        let take = |c: &AtomicU64| c.swap(0, Ordering::Relaxed);
        ProxyCounts {
            hits: take(&self.hits),
            misses: take(&self.misses),
            bytes_from_cache: take(&self.bytes_from_cache),
            bytes_from_upstream: take(&self.bytes_from_upstream),
            verification_failures: take(&self.verification_failures),
            upstream_errors: take(&self.upstream_errors),
        }
    }
}

/// Written at the next flush besides the counters.
#[derive(Debug, Default)]
struct Pending {
    /// Cached pool paths served (their use time moves).
    used: Vec<String>,
    audit: Vec<AuditEvent>,
    /// Whether the cache may be past its limit: a pool file was cached
    /// since the last eviction, or none ran yet (the limit may have been
    /// lowered since the last run), or the last one failed.
    evict: bool,
}

/// The reply to a request the proxies answer or refuse (`CONNECT`, an
/// absolute URI under no configured upstream); `None` for one the served
/// tree answers. Without proxies, nothing is intercepted: an absolute URI
/// names a file of the tree, as before (it never leaves this machine).
pub(super) async fn intercept(
    proxies: Option<&Proxies>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Reply> {
    let list = &proxies?.list;
    let names: Vec<(&str, &Url)> = list
        .iter()
        .map(|p| (p.name.as_str(), &p.upstream))
        .collect();
    match route(&names, method, uri) {
        Route::Local => None,
        Route::Refuse(reason) => {
            tracing::warn!(method = %method, uri = %uri, reason, "proxy: refused a request");
            Some(Reply::error(StatusCode::FORBIDDEN))
        }
        Route::Proxy(i, rest) => {
            let proxy = list.get(i)?;
            Some(origin::respond(proxy, method, &rest, headers).await)
        }
    }
}

impl Proxies {
    pub(super) fn new(opts: ProxyOptions) -> Proxies {
        let list = opts
            .upstreams
            .into_iter()
            .map(|u| {
                Arc::new(Proxy {
                    name: u.name,
                    upstream: u.upstream,
                    keyring: u.keyring,
                    fetcher: u.fetcher,
                    cache_limit: u.cache_limit,
                    db: Arc::clone(&opts.db),
                    store: opts.store.clone(),
                    flights: Mutex::new(HashMap::new()),
                    counters: Counters::default(),
                    pending: Mutex::new(Pending {
                        evict: true,
                        ..Pending::default()
                    }),
                })
            })
            .collect();
        Proxies { list }
    }

    /// Writes what was counted since the last flush, then evicts beyond
    /// cache limits. Blocking.
    pub(super) fn flush(&self) {
        for p in &self.list {
            p.flush();
        }
    }

    /// Flushes every [`FLUSH_EVERY`] until `stop`.
    pub(super) fn spawn_flusher(self: &Arc<Self>, mut stop: watch::Receiver<bool>) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                let flushing = Arc::clone(&this);
                let _ = crate::serve::blocking::run(move || flushing.flush()).await;
            }
        });
    }
}

impl Proxy {
    fn flush(&self) {
        let counts = self.counters.take();
        let pending = std::mem::take(&mut *lock(&self.pending));
        let record = !(counts.is_zero() && pending.used.is_empty() && pending.audit.is_empty());
        let limit = self.cache_limit.filter(|_| pending.evict);
        if !record && limit.is_none() {
            return;
        }
        let mut db = lock(&self.db);
        if record && let Err(e) = db.proxy_count(&self.name, &counts, &pending.used, &pending.audit)
        {
            tracing::warn!(proxy = %self.name, error = %e, "proxy: cannot record the counters");
        }
        let Some(limit) = limit else { return };
        let free = match db.proxy_evict(&self.name, limit) {
            Ok(free) => free,
            Err(e) => {
                drop(db);
                tracing::warn!(proxy = %self.name, error = %e, "proxy: cannot evict");
                // Tried again at the next flush.
                lock(&self.pending).evict = true;
                return;
            }
        };
        drop(db);
        for sha in &free {
            match self.store.delete(sha) {
                Ok(()) => {
                    tracing::info!(proxy = %self.name, sha256 = %sha, "proxy: evicted a cached pool file")
                }
                Err(e) => {
                    tracing::warn!(proxy = %self.name, sha256 = %sha, error = %e, "proxy: cannot evict")
                }
            }
        }
    }

    /// `path` below the upstream as a URL.
    fn url(&self, path: &str) -> Result<Url, StatusCode> {
        let escaped = crate::ops::sync::escape_filename(path);
        self.upstream.join(&escaped).map_err(|e| {
            tracing::warn!(proxy = %self.name, path, error = %e, "proxy: cannot build the upstream URL");
            StatusCode::BAD_REQUEST
        })
    }

    fn add(&self, counter: fn(&Counters) -> &AtomicU64, n: u64) {
        counter(&self.counters).fetch_add(n, Ordering::Relaxed);
    }
}
