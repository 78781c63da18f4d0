//! `debvault serve`: published apt trees over HTTP, read-only.
//!
//! A publication is a plain directory of `dists/…` and `pool/…`; any static
//! web server could serve it, but shipping one means a mirror works with no
//! other moving parts, and lets us get the details apt depends on right:
//!
//! - **Safety.** Request paths are percent-decoded and rejected (400) if they
//!   hold NUL, a backslash or a `..` segment; the resolved path is then
//!   canonicalized and must still lie under the canonicalized root, so a
//!   symlink that leads outside answers 404. Symlinks *inside* the root are
//!   followed: publications are switched by repointing `dists/<name>`.
//!   Names starting with a dot (debvault's trees, caches and staging) are
//!   never served or listed by name.
//! - **Snapshots.** `<prefix>/snapshots/<id>/dists/<dist>/…` answers from the
//!   tree of `<dist>` that was current at `<id>` (`%Y%m%dT%H%M%SZ`), and
//!   `<prefix>/snapshots/<id>/pool/…` from the prefix's pool: the URL
//!   template a publication's `Snapshots` field names, for `apt --snapshot`.
//! - **Caching.** `pool/` and `by-hash/` files never change under their name
//!   and are marked immutable; everything else (`InRelease`, indices,
//!   listings) is `no-cache`, so clients revalidate and notice a switched
//!   publication at once. Validators are cheap (a strong `ETag` from inode,
//!   size and mtime, or a bucket object's own; `Last-Modified`), with
//!   `If-Match`, `If-Unmodified-Since` (412), `If-None-Match`,
//!   `If-Modified-Since` (304) and `If-Range` honoured.
//! - **Resumption.** Single byte ranges (`N-`, `N-M`, `-N`) answer 206, an
//!   unsatisfiable one 416, for `HEAD` as for `GET` (as nginx does);
//!   multi-range requests get the whole file (200).
//! - **Scale.** HTTP/1.1 keep-alive via hyper, files sent with `sendfile`
//!   from the page cache (else streamed in chunks) and never held in memory, at most `max_connections` open connections (the
//!   rest wait in the listen backlog), and a graceful shutdown that stops
//!   accepting, lets in-flight requests finish for a bounded time, then closes.
//! - **Abuse.** A client that stops reading is closed once it has accepted
//!   no bytes for `idle_timeout` (`idle.rs`); one that sends no complete
//!   request head within that time (at most 30 s) is closed too. Both, and
//!   reaching the connection limit, are logged and counted ([`ServeStats`]).
//!   An HTTP/1.1 request without exactly one `Host` is a 400.
//!
//! With `--api`, paths under `/api/` go to the HTTP API for CI (`api/`).
//! Only `GET` and `HEAD` are served. Directories answer a minimal HTML index
//! for humans. One access-log event per request goes to the
//! `debvault::access` tracing target; the module never prints.
//!
//! # How the parts fit
//!
//! A request flows: the accept loop and connection (here) → `response.rs`,
//! which checks the method and the path (`paths.rs`) → the origin's `stat`
//! (`origin/`: a file's size and validators, a listing, or a status) →
//! `response::plan` (304, 416, the whole file or one range, by the rules in
//! `http.rs`) → the origin's `open` for those bytes → `body.rs`, which
//! applies `HEAD`, sets `Content-Length`, streams (file spans through the
//! connection's `sendfile.rs`), and writes the access line once the body is
//! done. The origins are the local directory and a
//! bucket ([`ServeOptions::bucket`]); `listing.rs` renders directory indexes.

pub mod api;
mod blocking;
mod body;
mod chunk;
mod flight;
mod http;
mod idle;
mod listing;
mod ondemand;
mod origin;
mod paths;
mod proxy;
mod response;
mod sendfile;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode, Version};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::exit::{ExitCode, FAILURE, USAGE};
use crate::store::Bucket;
use body::{Access, finish};
use idle::{IdleStream, IdleTimeout};
use origin::AnyOrigin;
use origin::bucket::BucketOrigin;
use origin::dir::DirOrigin;
use sendfile::FileSends;

pub use ondemand::OnDemandOptions;
pub use proxy::{ProxyOptions, ProxyUpstream};

/// Default for [`ServeOptions::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default for [`ServeOptions::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a graceful shutdown waits for open connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Time allowed for a request head to arrive, including the idle time of a
/// kept-alive connection between requests (hyper starts it at read time).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed `accept` (typically out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Cap of hyper's buffers per connection (its default is ~400 KiB): the
/// longest request head accepted, and the point past which hyper stops
/// asking the body for more, so one body chunk is queued at a time.
const MAX_BUF: usize = 32 * 1024;
/// Listen backlog: connections beyond `max_connections` wait here.
const LISTEN_BACKLOG: u32 = 4096;

/// What to serve, where.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on; port 0 picks a free port (see [`Server::local_addr`]).
    pub listen: SocketAddr,
    /// The published tree: the directory holding `dists/` and `pool/`.
    pub root: PathBuf,
    /// Serve this bucket location instead of `root` (a publish endpoint in
    /// object storage): objects are streamed from it.
    pub bucket: Option<Bucket>,
    /// Connections served at once; further ones wait to be accepted.
    pub max_connections: usize,
    /// A connection that accepts no bytes of a response for this long is
    /// closed; so is one whose request head has not arrived in this long
    /// (or 30 s, whichever is shorter).
    pub idle_timeout: Duration,
    /// Fetch the pool files on-demand publications left unplaced when a
    /// client first asks for one (a local root only; `ondemand.rs`).
    pub on_demand: Option<OnDemandOptions>,
    /// Also answer the HTTP API under `/api/` (`api/`).
    pub api: Option<api::ApiOptions>,
    /// `[proxy.NAME]` upstreams answered through the verifying cache
    /// (`proxy/`).
    pub proxy: Option<ProxyOptions>,
}

impl ServeOptions {
    /// Options with the default connection limit.
    pub fn new(listen: SocketAddr, root: impl Into<PathBuf>) -> ServeOptions {
        ServeOptions {
            listen,
            root: root.into(),
            bucket: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            on_demand: None,
            api: None,
            proxy: None,
        }
    }
}

/// What a server did, counted while it ran: [`Server::run_until`] returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeStats {
    /// Connections accepted.
    pub connections: u64,
    /// Connections closed because they accepted no bytes of a response for
    /// the idle timeout.
    pub idle_closed: u64,
    /// Connections closed because no complete request head arrived in time.
    pub head_timeouts: u64,
    /// Times all `max_connections` were in use, so new ones had to wait.
    pub limit_reached: u64,
    /// Pool files fetched from upstream on demand, verified and kept.
    pub fetched_on_demand: u64,
    /// Their bytes.
    pub fetched_on_demand_bytes: u64,
    /// Files refused: upstream sent other content than the index promised.
    pub verification_failures: u64,
    /// On-demand fetches upstream failed (refused, timed out, 4xx/5xx, cut off).
    pub upstream_errors: u64,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The root directory does not exist or cannot be read.
    #[error("`{}`: cannot open the root directory", path.display())]
    Root {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The root exists but is not a directory.
    #[error("`{}`: root is not a directory", path.display())]
    RootNotDirectory { path: PathBuf },

    /// The listening socket could not be set up.
    #[error("`{addr}`: cannot listen")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },

    /// `max_connections` was 0.
    #[error("`{addr}`: max_connections must be at least 1")]
    NoConnections { addr: SocketAddr },
}

impl ExitCode for ServeError {
    fn exit_code(&self) -> u8 {
        match self {
            // The root or the options the operator gave.
            ServeError::Root { .. }
            | ServeError::RootNotDirectory { .. }
            | ServeError::NoConnections { .. } => USAGE,
            ServeError::Bind { .. } => FAILURE,
        }
    }
}

/// A bound server; [`Server::run_until`] serves.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    origin: Arc<AnyOrigin>,
    max_connections: usize,
    idle_timeout: Duration,
    api: Option<Arc<api::Api>>,
    proxies: Option<Arc<proxy::Proxies>>,
}

/// [`ServeStats`] as it is counted, shared by the connections.
#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    idle_closed: AtomicU64,
    head_timeouts: AtomicU64,
    limit_reached: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn stats(&self) -> ServeStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ServeStats {
            connections: get(&self.connections),
            idle_closed: get(&self.idle_closed),
            head_timeouts: get(&self.head_timeouts),
            limit_reached: get(&self.limit_reached),
            ..ServeStats::default()
        }
    }
}

/// What every connection is served with.
struct Shared {
    origin: Arc<AnyOrigin>,
    api: Option<Arc<api::Api>>,
    proxies: Option<Arc<proxy::Proxies>>,
    counters: Counters,
    idle_timeout: Duration,
}

impl Server {
    /// Checks the root and binds the listening socket now, so a port-0
    /// address is known (and connections queue) before serving starts.
    pub async fn bind(opts: ServeOptions) -> Result<Server, ServeError> {
        if opts.max_connections == 0 {
            return Err(ServeError::NoConnections { addr: opts.listen });
        }
        let origin = match opts.bucket {
            Some(bucket) => AnyOrigin::Bucket(BucketOrigin::new(bucket)),
            None => {
                let meta =
                    tokio::fs::metadata(&opts.root)
                        .await
                        .map_err(|source| ServeError::Root {
                            path: opts.root.clone(),
                            source,
                        })?;
                if !meta.is_dir() {
                    return Err(ServeError::RootNotDirectory { path: opts.root });
                }
                let on_demand = match opts.on_demand {
                    Some(od) => Some(Arc::new(ondemand::OnDemand::new(&opts.root, od).map_err(
                        |source| ServeError::Root {
                            path: opts.root.clone(),
                            source,
                        },
                    )?)),
                    None => None,
                };
                AnyOrigin::Dir(DirOrigin::new(opts.root, on_demand))
            }
        };
        let bind_error = |source| ServeError::Bind {
            addr: opts.listen,
            source,
        };
        let listener = listen(opts.listen).map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        Ok(Server {
            listener,
            local_addr,
            origin: Arc::new(origin),
            max_connections: opts.max_connections.min(Semaphore::MAX_PERMITS),
            idle_timeout: opts.idle_timeout,
            api: opts.api.map(|a| Arc::new(api::Api::new(a))),
            proxies: opts.proxy.map(|p| Arc::new(proxy::Proxies::new(p))),
        })
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then stops accepting (new connects
    /// are refused), lets in-flight requests finish for up to 10 s, and
    /// closes whatever is still open; returns what was counted meanwhile.
    /// Failed accepts (out of file descriptors, aborted handshakes) are
    /// logged and retried, not fatal, so this returns `Ok` today; the
    /// `Result` leaves room for fatal errors.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<ServeStats, ServeError> {
        let Server {
            listener,
            local_addr,
            origin,
            max_connections,
            idle_timeout,
            api,
            proxies,
        } = self;
        tracing::info!(addr = %local_addr, root = %origin, "serving");
        let (stop_tx, stop_rx) = watch::channel(false);
        if let Some(p) = &proxies {
            p.spawn_flusher(stop_rx.clone());
        }
        let shared = Arc::new(Shared {
            origin,
            api,
            proxies: proxies.clone(),
            counters: Counters::default(),
            idle_timeout,
        });
        let limit = Arc::new(Semaphore::new(max_connections));
        let mut connections = JoinSet::new();
        let mut shutdown = pin!(shutdown);

        loop {
            while connections.try_join_next().is_some() {}
            let permit = match Arc::clone(&limit).try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    // Logged once each time the limit is reached, not per
                    // waiting connection: those are not even accepted yet.
                    Counters::add(&shared.counters.limit_reached);
                    tracing::warn!(
                        addr = %local_addr,
                        max_connections,
                        "all connections in use: new ones wait until one closes"
                    );
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break,
                        permit = Arc::clone(&limit).acquire_owned() => match permit {
                            Ok(permit) => permit,
                            Err(_closed) => break,
                        },
                    }
                }
            };
            let (stream, remote) = tokio::select! {
                biased;
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        tracing::warn!(addr = %local_addr, error = %err, "cannot accept a connection");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                },
            };
            Counters::add(&shared.counters.connections);
            let shared = Arc::clone(&shared);
            let stop = stop_rx.clone();
            connections.spawn(async move {
                serve_connection(stream, remote, &shared, stop).await;
                drop(permit);
            });
        }

        drop(listener);
        tracing::info!(
            addr = %local_addr,
            open = connections.len(),
            "shutting down: no longer accepting connections"
        );
        // Receivers only fail once the sender is gone; it is alive here.
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                addr = %local_addr,
                open = connections.len(),
                "grace period over, closing connections still open"
            );
            connections.shutdown().await;
        }
        if let Some(p) = proxies {
            // What the last second counted.
            let _ = blocking::run(move || p.flush()).await;
        }
        let mut stats = shared.counters.stats();
        shared.origin.add_stats(&mut stats);
        tracing::info!(
            addr = %local_addr,
            connections = stats.connections,
            idle_closed = stats.idle_closed,
            head_timeouts = stats.head_timeouts,
            limit_reached = stats.limit_reached,
            "stopped"
        );
        Ok(stats)
    }
}

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// One connection: HTTP/1.1 with keep-alive until the client leaves, stops
/// reading (the idle timeout), sends no request head in time, or shutdown
/// asks it to finish its current request.
async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    shared: &Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%remote, error = %err, "cannot set TCP_NODELAY");
    }
    let origin = Arc::clone(&shared.origin);
    let api = shared.api.clone();
    let proxies = shared.proxies.clone();
    let sends = Arc::new(FileSends::default());
    let body_sends = Arc::clone(&sends);
    let service = hyper::service::service_fn(move |req| {
        let origin = Arc::clone(&origin);
        let (api, proxies) = (api.clone(), proxies.clone());
        let sends = Arc::clone(&body_sends);
        async move {
            let reply = handle(&origin, api.as_ref(), proxies.as_deref(), remote, req).await;
            let (reply, head, access) = reply;
            Ok::<_, Infallible>(finish(reply, head, access, &sends))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        .max_buf_size(MAX_BUF)
        // Body frames are queued as they are, never copied into one
        // buffer: `sendfile.rs` relies on it.
        .writev(true)
        .header_read_timeout(HEADER_READ_TIMEOUT.min(shared.idle_timeout));
    let io = TokioIo::new(IdleStream::new(stream, sends, shared.idle_timeout));
    let mut conn = pin!(builder.serve_connection(io, service));
    let stopping = async {
        // An error means the server is gone: stop too.
        let _ = stop.wait_for(|stop| *stop).await;
    };
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stopping => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    match result {
        Ok(()) => {}
        Err(err) if IdleTimeout::caused(&err) => {
            Counters::add(&shared.counters.idle_closed);
            tracing::info!(
                %remote,
                idle_timeout = shared.idle_timeout.as_secs(),
                "closed a connection that accepted no bytes for the idle timeout"
            );
        }
        Err(err) if err.is_timeout() => {
            Counters::add(&shared.counters.head_timeouts);
            tracing::info!(%remote, "closed a connection that sent no request head in time");
        }
        Err(err) => tracing::debug!(%remote, error = %err, "connection ended with an error"),
    }
}

/// One request: the origin's reply, whether it answers a `HEAD`, and its
/// access-log line (see `body::finish`).
async fn handle(
    origin: &AnyOrigin,
    api: Option<&Arc<api::Api>>,
    proxies: Option<&proxy::Proxies>,
    remote: SocketAddr,
    req: Request<Incoming>,
) -> (response::Reply, bool, Access) {
    let access = Access {
        remote,
        method: req.method().clone(),
        path: req.uri().path().to_owned(),
        status: 0,
        bytes: 0,
        start: Instant::now(),
    };
    let head = req.method() == Method::HEAD;
    // RFC 9112 §3.2: an HTTP/1.1 request with no `Host`, or more than one, is a 400.
    let reply = if req.version() == Version::HTTP_11
        && req.headers().get_all(hyper::header::HOST).iter().count() != 1
    {
        response::Reply::error(StatusCode::BAD_REQUEST)
    } else if let Some(api) = api.filter(|_| api::is_api_path(req.uri().path())) {
        api::handle(api, req).await
    } else if let Some(reply) =
        proxy::intercept(proxies, req.method(), req.uri(), req.headers()).await
    {
        reply
    } else {
        origin
            .respond(req.method(), req.uri().path(), req.headers())
            .await
    };
    (reply, head, access)
}
