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
//!   size and mtime; `Last-Modified`), with `If-None-Match`,
//!   `If-Modified-Since` and `If-Range` honoured.
//! - **Resumption.** Single byte ranges (`N-`, `N-M`, `-N`) answer 206, an
//!   unsatisfiable one 416; multi-range requests get the whole file (200).
//! - **Scale.** HTTP/1.1 keep-alive via hyper, files streamed in chunks and
//!   never held in memory, at most `max_connections` open connections (the
//!   rest wait in the listen backlog), and a graceful shutdown that stops
//!   accepting, lets in-flight requests finish for a bounded time, then closes.
//!
//! Only `GET` and `HEAD` are served. Directories answer a minimal HTML index
//! for humans. One access-log event per request goes to the
//! `debvault::access` tracing target; the module never prints.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::fs::Metadata;
use std::future::Future;
use std::io::{self, Seek as _, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, NaiveDateTime, Utc};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncReadExt as _;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::store::s3::{ByteStream, ObjectInfo};
use crate::store::{Bucket, StoreError};
use crate::tree::layout;

/// Default for [`ServeOptions::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// How long a graceful shutdown waits for open connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Time allowed for a request head to arrive, including the idle time of a
/// kept-alive connection between requests (hyper starts it at read time).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed `accept` (typically out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Listen backlog: connections beyond `max_connections` wait here.
const LISTEN_BACKLOG: u32 = 4096;
/// Size of one body chunk read from a file.
const CHUNK: usize = 128 * 1024;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
const HTTP_DATE: &str = "%a, %d %b %Y %H:%M:%S GMT";
const TEXT: &str = "text/plain; charset=utf-8";

type Body = UnsyncBoxBody<Bytes, io::Error>;

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
}

impl ServeOptions {
    /// Options with the default connection limit.
    pub fn new(listen: SocketAddr, root: impl Into<PathBuf>) -> ServeOptions {
        ServeOptions {
            listen,
            root: root.into(),
            bucket: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
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

/// A bound server; [`Server::run_until`] serves.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    root: Arc<Origin>,
    max_connections: usize,
}

/// Where the served files come from.
#[derive(Debug)]
enum Origin {
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

impl Server {
    /// Checks the root and binds the listening socket now, so a port-0
    /// address is known (and connections queue) before serving starts.
    pub async fn bind(opts: ServeOptions) -> Result<Server, ServeError> {
        if opts.max_connections == 0 {
            return Err(ServeError::NoConnections { addr: opts.listen });
        }
        let origin = match opts.bucket {
            Some(bucket) => Origin::Bucket(bucket),
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
                Origin::Dir(opts.root)
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
            root: Arc::new(origin),
            max_connections: opts.max_connections.min(Semaphore::MAX_PERMITS),
        })
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then stops accepting (new connects
    /// are refused), lets in-flight requests finish for up to 10 s, and
    /// closes whatever is still open. Failed accepts (out of file
    /// descriptors, aborted handshakes) are logged and retried, not fatal,
    /// so this returns `Ok` today; the `Result` leaves room for fatal errors.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let Server {
            listener,
            local_addr,
            root,
            max_connections,
        } = self;
        tracing::info!(addr = %local_addr, root = %root, "serving");
        let limit = Arc::new(Semaphore::new(max_connections));
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut connections = JoinSet::new();
        let mut shutdown = pin!(shutdown);

        loop {
            while connections.try_join_next().is_some() {}
            let permit = tokio::select! {
                biased;
                () = &mut shutdown => break,
                permit = Arc::clone(&limit).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_closed) => break,
                },
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
            let root = Arc::clone(&root);
            let stop = stop_rx.clone();
            connections.spawn(async move {
                serve_connection(stream, remote, root, stop).await;
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
        Ok(())
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

/// One connection: HTTP/1.1 with keep-alive until the client leaves, the
/// head timeout fires, or shutdown asks it to finish its current request.
async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    root: Arc<Origin>,
    mut stop: watch::Receiver<bool>,
) {
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%remote, error = %err, "cannot set TCP_NODELAY");
    }
    let service = hyper::service::service_fn(move |req| {
        let root = Arc::clone(&root);
        async move { Ok::<_, Infallible>(handle(&root, remote, req).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
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
    if let Err(err) = result {
        tracing::debug!(%remote, error = %err, "connection ended with an error");
    }
}

/// The access-log line, emitted when dropped: after the last body byte was
/// sent, or when the client went away mid-body (then `bytes` is what was sent).
struct Access {
    remote: SocketAddr,
    method: Method,
    path: String,
    status: u16,
    bytes: u64,
    start: Instant,
}

impl Drop for Access {
    fn drop(&mut self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            target: "debvault::access",
            remote = %self.remote,
            method = %self.method,
            path = %self.path,
            status = self.status,
            bytes = self.bytes,
            ms,
        );
    }
}

/// What to send, before the method (HEAD) and logging are applied.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    payload: Payload,
}

enum Payload {
    /// No body and no `Content-Length` (304).
    None,
    Bytes(Bytes),
    /// `len` bytes from the file's current position.
    File {
        file: tokio::fs::File,
        len: u64,
    },
    /// `len` bytes streamed from object storage.
    Stream {
        body: ByteStream,
        len: u64,
    },
}

impl Reply {
    fn new(status: StatusCode, payload: Payload) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            payload,
        }
    }

    fn header(mut self, name: HeaderName, value: &str) -> Reply {
        // Every value set here is ASCII built by this module.
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(name, value);
        }
        self
    }

    fn error(status: StatusCode) -> Reply {
        let text = format!(
            "{} {}\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
        Reply::new(status, Payload::Bytes(Bytes::from(text))).header(header::CONTENT_TYPE, TEXT)
    }
}

async fn handle(root: &Origin, remote: SocketAddr, req: Request<Incoming>) -> Response<Body> {
    let access = Access {
        remote,
        method: req.method().clone(),
        path: req.uri().path().to_owned(),
        status: 0,
        bytes: 0,
        start: Instant::now(),
    };
    let head = req.method() == Method::HEAD;
    let reply = respond(root, &req).await;
    finish(reply, head, access)
}

async fn respond(root: &Origin, req: &Request<Incoming>) -> Reply {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Reply::error(StatusCode::METHOD_NOT_ALLOWED).header(header::ALLOW, "GET, HEAD");
    }
    let Some(segments) = parse_path(req.uri().path()) else {
        return Reply::error(StatusCode::BAD_REQUEST);
    };
    let root = match root {
        Origin::Dir(dir) => dir.clone(),
        Origin::Bucket(bucket) => return respond_bucket(bucket, req, &segments).await,
    };
    let lookup = {
        let segments = segments.clone();
        tokio::task::spawn_blocking(move || lookup(&root, &segments)).await
    };
    match lookup {
        Ok(Ok(Target::File(file, meta))) => serve_file(req.headers(), &segments, file, &meta),
        Ok(Ok(Target::Dir(entries))) => listing(&segments, &entries),
        Ok(Err(status)) => Reply::error(status),
        Err(err) => {
            tracing::warn!(path = %req.uri().path(), error = %err, "lookup task failed");
            Reply::error(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// Applies HEAD, sets `Content-Length`, and hands the access log to the body.
fn finish(reply: Reply, head: bool, mut access: Access) -> Response<Body> {
    access.status = reply.status.as_u16();
    let mut headers = reply.headers;
    let body = match reply.payload {
        Payload::None => empty(),
        Payload::Bytes(bytes) => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            if head {
                empty()
            } else {
                access.bytes = bytes.len() as u64;
                Full::new(bytes)
                    .map_err(|never| match never {})
                    .boxed_unsync()
            }
        }
        Payload::File { file, len } => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            if head {
                empty()
            } else {
                file_body(file, len, access)
            }
        }
        Payload::Stream { body, len } => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            if head {
                empty()
            } else {
                stream_body(body, access)
            }
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = reply.status;
    *response.headers_mut() = headers;
    response
}

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// Streams `len` bytes of `file` in chunks; the access line is logged when
/// the stream ends or is dropped.
fn file_body(file: tokio::fs::File, len: u64, access: Access) -> Body {
    let stream = futures::stream::unfold(
        (file, len, access),
        |(mut file, remaining, mut access)| async move {
            if remaining == 0 {
                return None;
            }
            let want = usize::try_from(remaining).map_or(CHUNK, |r| r.min(CHUNK));
            let mut buf = BytesMut::zeroed(want);
            match file.read(&mut buf).await {
                Ok(0) => {
                    let err = io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file shrank while being served",
                    );
                    Some((Err(err), (file, 0, access)))
                }
                Ok(n) => {
                    buf.truncate(n);
                    access.bytes += n as u64;
                    let frame = Frame::data(buf.freeze());
                    Some((Ok(frame), (file, remaining - n as u64, access)))
                }
                Err(err) => Some((Err(err), (file, 0, access))),
            }
        },
    );
    StreamBody::new(stream).boxed_unsync()
}

/// Relays an object-storage stream; the access line is logged when it ends
/// or is dropped.
fn stream_body(body: ByteStream, access: Access) -> Body {
    let stream = futures::stream::unfold((body, access), |(mut body, mut access)| async move {
        match futures::StreamExt::next(&mut body).await? {
            Ok(bytes) => {
                access.bytes += bytes.len() as u64;
                Some((Ok(Frame::data(bytes)), (body, access)))
            }
            Err(e) => Some((Err(io::Error::other(e)), (body, access))),
        }
    });
    StreamBody::new(stream).boxed_unsync()
}

/// Answers from a bucket: the key is the path (names starting with a dot
/// are never served); no directory listings. A GET is one request to the
/// bucket; a HEAD, a conditional or a ranged GET first asks for the
/// object's size and validators.
async fn respond_bucket(bucket: &Bucket, req: &Request<Incoming>, segments: &[String]) -> Reply {
    if segments.is_empty() || segments.iter().any(|s| s.starts_with('.')) {
        return Reply::error(StatusCode::NOT_FOUND);
    }
    let key = segments.join("/");
    let headers = req.headers();
    let fail = |err: StoreError| {
        tracing::warn!(key = %key, error = %err, "object storage failed");
        Reply::error(StatusCode::BAD_GATEWAY)
    };
    let needs_stat = req.method() == Method::HEAD
        || [
            header::RANGE,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
        ]
        .iter()
        .any(|h| headers.contains_key(h));
    let mut range = None;
    let mut partial = None;
    if needs_stat {
        let info = match bucket.stat(&key).await {
            Ok(Some(info)) => info,
            Ok(None) => return Reply::error(StatusCode::NOT_FOUND),
            Err(e) => return fail(e),
        };
        let validators = object_validators(&info);
        let common = common_headers(segments, &validators);
        if not_modified(headers, &validators) {
            return Reply {
                headers: common,
                ..Reply::new(StatusCode::NOT_MODIFIED, Payload::None)
            };
        }
        if req.method() == Method::HEAD {
            let name = segments.last().map_or("", String::as_str);
            return Reply {
                headers: common,
                ..Reply::new(
                    StatusCode::OK,
                    Payload::Stream {
                        body: Box::pin(futures::stream::empty()),
                        len: info.size,
                    },
                )
            }
            .header(header::CONTENT_TYPE, content_type(name));
        }
        let len = info.size;
        match headers.get(header::RANGE).map(HeaderValue::to_str) {
            Some(Ok(value)) if if_range_holds(headers, &validators) => {
                match parse_range(value, len) {
                    ByteRange::Full => {}
                    ByteRange::Part(first, last) => {
                        range = Some(first..last + 1);
                        partial = Some((first, last, len));
                    }
                    ByteRange::Unsatisfiable => return unsatisfiable(common, len),
                }
            }
            _ => {}
        }
    }
    let (info, body) = match bucket.read(&key, range.clone()).await {
        Ok(Some(got)) => got,
        Ok(None) => return Reply::error(StatusCode::NOT_FOUND),
        Err(e) => return fail(e),
    };
    let validators = object_validators(&info);
    let name = segments.last().map_or("", String::as_str);
    let (status, len) = match &range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start),
        None => (StatusCode::OK, info.size),
    };
    let mut reply = Reply {
        headers: common_headers(segments, &validators),
        ..Reply::new(status, Payload::Stream { body, len })
    }
    .header(header::CONTENT_TYPE, content_type(name));
    if let Some((first, last, total)) = partial {
        reply = reply.header(
            header::CONTENT_RANGE,
            &format!("bytes {first}-{last}/{total}"),
        );
    }
    reply
}

fn object_validators(info: &ObjectInfo) -> Validators {
    let etag = match &info.e_tag {
        Some(t) if t.starts_with('"') => t.clone(),
        Some(t) => format!("\"{t}\""),
        None => format!("\"{:x}-{:x}\"", info.size, info.last_modified.timestamp()),
    };
    // See [`settled`]: an object written in the current second gets no date.
    let secs = info.last_modified.timestamp();
    Validators {
        etag,
        last_modified: settled(secs)
            .then(|| DateTime::from_timestamp(secs, 0))
            .flatten(),
    }
}

/// 416 for a range past the end of a `len`-byte file.
fn unsatisfiable(common: HeaderMap, len: u64) -> Reply {
    let reply = Reply {
        headers: common,
        ..Reply::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            Payload::Bytes(Bytes::new()),
        )
    };
    reply.header(header::CONTENT_RANGE, &format!("bytes */{len}"))
}

/// The headers every answer about a file carries: validators, caching
/// policy, ranges accepted.
fn common_headers(segments: &[String], validators: &Validators) -> HeaderMap {
    let mut common = HeaderMap::new();
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            common.insert(name, value);
        }
    };
    set(header::ETAG, &validators.etag);
    if let Some(modified) = validators.last_modified {
        set(header::LAST_MODIFIED, &format_http_date(modified));
    }
    set(header::CACHE_CONTROL, cache_control(segments));
    set(header::ACCEPT_RANGES, "bytes");
    common
}

/// Percent-decodes an origin-form path and splits it into segments, dropping
/// empty and `.` ones. `None` (400) for a malformed escape, NUL, backslash,
/// non-UTF-8, or any `..` segment.
fn parse_path(raw: &str) -> Option<Vec<String>> {
    if !raw.starts_with('/') {
        return None;
    }
    let decoded = String::from_utf8(percent_decode(raw.as_bytes())?).ok()?;
    if decoded.contains(['\0', '\\']) {
        return None;
    }
    let mut segments = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            segment => segments.push(segment.to_owned()),
        }
    }
    Some(segments)
}

fn percent_decode(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        if b == b'%' {
            let hi = hex_value(*bytes.next()?)?;
            let lo = hex_value(*bytes.next()?)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
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

/// Cheap validators of a file.
struct Validators {
    /// Strong, quoted: `"inode-size-mtime"` in hex.
    etag: String,
    /// Whole seconds; `None` before 1970 or if the platform has no mtime.
    last_modified: Option<DateTime<Utc>>,
}

fn validators(meta: &Metadata) -> Validators {
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

/// Whether a modification time (whole seconds) lies in a past second.
///
/// `Last-Modified` has whole seconds: a file written in the current second
/// may be replaced within it (a publication switched twice, or switched
/// right after a client's fetch), and a client revalidating with that date
/// would be told "not modified" and keep the old `InRelease` until the next
/// switch. Such a file gets no date, so clients fetch it whole next time;
/// the strong `ETag` still validates it.
fn settled(secs: i64) -> bool {
    Utc::now().timestamp() > secs
}

fn serve_file(
    headers: &HeaderMap,
    segments: &[String],
    file: std::fs::File,
    meta: &Metadata,
) -> Reply {
    let len = meta.len();
    let validators = validators(meta);
    let common = common_headers(segments, &validators);

    if not_modified(headers, &validators) {
        return Reply {
            headers: common,
            ..Reply::new(StatusCode::NOT_MODIFIED, Payload::None)
        };
    }

    let range = match headers.get(header::RANGE).map(HeaderValue::to_str) {
        Some(Ok(value)) if if_range_holds(headers, &validators) => parse_range(value, len),
        _ => ByteRange::Full,
    };
    let name = segments.last().map_or("", String::as_str);
    let (status, start, count) = match range {
        ByteRange::Full => (StatusCode::OK, 0, len),
        ByteRange::Part(first, last) => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        ByteRange::Unsatisfiable => return unsatisfiable(common, len),
    };
    let mut file = file;
    if start > 0
        && let Err(err) = file.seek(SeekFrom::Start(start))
    {
        tracing::warn!(path = %segments.join("/"), error = %err, "cannot seek");
        return Reply::error(StatusCode::INTERNAL_SERVER_ERROR);
    }
    let mut reply = Reply {
        headers: common,
        ..Reply::new(
            status,
            Payload::File {
                file: tokio::fs::File::from_std(file),
                len: count,
            },
        )
    }
    .header(header::CONTENT_TYPE, content_type(name));
    if status == StatusCode::PARTIAL_CONTENT {
        let last = start + count - 1;
        reply = reply.header(
            header::CONTENT_RANGE,
            &format!("bytes {start}-{last}/{len}"),
        );
    }
    reply
}

/// `If-None-Match` (weak comparison, `*`, lists, repeated headers) wins over
/// `If-Modified-Since`, as RFC 9110 §13.2.2 orders them.
fn not_modified(headers: &HeaderMap, validators: &Validators) -> bool {
    if headers.contains_key(header::IF_NONE_MATCH) {
        let ours = validators.etag.as_str();
        return headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours);
    }
    match (
        headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_http_date),
        validators.last_modified,
    ) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

/// Whether a `Range` may be honoured: no `If-Range`, or one that matches
/// exactly (strong `ETag` comparison, or the same `Last-Modified`).
fn if_range_holds(headers: &HeaderMap, validators: &Validators) -> bool {
    let Some(value) = headers.get(header::IF_RANGE) else {
        return true;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let value = value.trim();
    if value.starts_with('"') {
        return value == validators.etag;
    }
    if value.starts_with("W/") {
        return false;
    }
    match (parse_http_date(value), validators.last_modified) {
        (Some(date), Some(modified)) => date == modified,
        _ => false,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum ByteRange {
    /// No usable range: the whole file, 200.
    Full,
    /// First and last byte, inclusive.
    Part(u64, u64),
    Unsatisfiable,
}

/// One `bytes=` range against a file of `len` bytes. Malformed, non-byte
/// and multi-range values are ignored (whole file), as RFC 9110 allows.
fn parse_range(value: &str, len: u64) -> ByteRange {
    let Some((unit, set)) = value.split_once('=') else {
        return ByteRange::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return ByteRange::Full;
    }
    let mut specs = set
        .split(',')
        .map(str::trim)
        .filter(|spec| !spec.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        return ByteRange::Full;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return ByteRange::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let Some(suffix) = parse_digits(last) else {
            return ByteRange::Full;
        };
        if suffix == 0 || len == 0 {
            return ByteRange::Unsatisfiable;
        }
        return ByteRange::Part(len - suffix.min(len), len - 1);
    }
    let Some(first) = parse_digits(first) else {
        return ByteRange::Full;
    };
    let last = if last.is_empty() {
        None
    } else {
        match parse_digits(last) {
            Some(last) if last >= first => Some(last),
            _ => return ByteRange::Full,
        }
    };
    if first >= len {
        return ByteRange::Unsatisfiable;
    }
    ByteRange::Part(first, last.map_or(len - 1, |last| last.min(len - 1)))
}

fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn cache_control(segments: &[String]) -> &'static str {
    let pool = segments.iter().rev().skip(1).any(|s| s == "pool");
    let by_hash = segments.iter().rev().skip(1).any(|s| s == "by-hash");
    if pool || by_hash {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

fn content_type(name: &str) -> &'static str {
    const TEXT_NAMES: [&str; 6] = [
        "InRelease",
        "Release",
        "Packages",
        "Sources",
        "Index",
        "Contents",
    ];
    const TEXT_EXTENSIONS: [&str; 7] = ["txt", "dsc", "changes", "buildinfo", "diff", "asc", "md"];
    if TEXT_NAMES.contains(&name) {
        return TEXT;
    }
    let extension = name.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension {
        "deb" | "udeb" | "ddeb" => "application/vnd.debian.binary-package",
        "gz" => "application/gzip",
        "xz" => "application/x-xz",
        "bz2" => "application/x-bzip2",
        "zst" => "application/zstd",
        "lz4" => "application/x-lz4",
        "gpg" => "application/pgp-signature",
        "html" | "htm" => "text/html; charset=utf-8",
        ext if TEXT_EXTENSIONS.contains(&ext) => TEXT,
        _ => "application/octet-stream",
    }
}

fn format_http_date(date: DateTime<Utc>) -> String {
    date.format(HTTP_DATE).to_string()
}

/// IMF-fixdate, plus the obsolete RFC 850 and asctime forms recipients must
/// accept (RFC 9110 §5.6.7).
fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    const FORMATS: [&str; 3] = [
        HTTP_DATE,
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
    ];
    let value = value.trim();
    FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

/// A minimal HTML index of a directory, with absolute, percent-encoded links
/// and escaped names.
fn listing(segments: &[String], entries: &[String]) -> Reply {
    let mut base = String::from("/");
    for segment in segments {
        base.push_str(&percent_encode(segment));
        base.push('/');
    }
    let shown = format!(
        "/{}",
        segments.iter().map(|s| format!("{s}/")).collect::<String>()
    );
    let title = html_escape(&shown);
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n\
         <body><h1>Index of {title}</h1>\n<ul>\n"
    );
    if let Some((_, parents)) = segments.split_last() {
        let mut parent = String::from("/");
        for segment in parents {
            parent.push_str(&percent_encode(segment));
            parent.push('/');
        }
        let _ = writeln!(html, "<li><a href=\"{parent}\">../</a></li>");
    }
    for entry in entries {
        let (name, slash) = entry
            .strip_suffix('/')
            .map_or((entry.as_str(), ""), |n| (n, "/"));
        let _ = writeln!(
            html,
            "<li><a href=\"{base}{}{slash}\">{}{slash}</a></li>",
            percent_encode(name),
            html_escape(name)
        );
    }
    html.push_str("</ul>\n</body></html>\n");
    Reply::new(StatusCode::OK, Payload::Bytes(Bytes::from(html)))
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, REVALIDATE)
}

/// Escapes all but RFC 3986 unreserved characters.
fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decoded_and_traversal_rejected() {
        assert_eq!(
            parse_path("/dists//stable/./InRelease"),
            Some(vec!["dists".into(), "stable".into(), "InRelease".into()])
        );
        assert_eq!(
            parse_path("/pool/a%2Bb%20c"),
            Some(vec!["pool".into(), "a+b c".into()])
        );
        assert_eq!(parse_path("/"), Some(vec![]));
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/dists/%2E%2E/%2E%2E/etc/passwd",
            "/pool/..%2f..%2fetc/passwd",
            "/pool/%2e./x",
            "/a%00b",
            "/a%5cb",
            "/a\\b",
            "/bad%zz",
            "/trunc%2",
            "/%ff%fe",
            "relative",
        ] {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
        assert_eq!(
            parse_path("/pool/...deb"),
            Some(vec!["pool".into(), "...deb".into()])
        );
    }

    #[test]
    fn ranges() {
        use ByteRange::*;
        assert_eq!(parse_range("bytes=0-", 10), Part(0, 9));
        assert_eq!(parse_range("bytes=2-4", 10), Part(2, 4));
        assert_eq!(parse_range("bytes=2-400", 10), Part(2, 9));
        assert_eq!(parse_range("bytes=-3", 10), Part(7, 9));
        assert_eq!(parse_range("bytes=-30", 10), Part(0, 9));
        assert_eq!(parse_range("Bytes = 1 - 1", 10), Part(1, 1));
        assert_eq!(parse_range("bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), Full);
        assert_eq!(parse_range("bytes=4-2", 10), Full);
        assert_eq!(parse_range("bytes=+1-2", 10), Full);
        assert_eq!(parse_range("items=0-1", 10), Full);
        assert_eq!(parse_range("bytes=x", 10), Full);
    }

    #[test]
    fn http_dates_round_trip_in_all_three_forms() {
        let date = DateTime::from_timestamp(784_111_777, 0).expect("valid timestamp");
        assert_eq!(format_http_date(date), "Sun, 06 Nov 1994 08:49:37 GMT");
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(form), Some(date), "{form}");
        }
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn content_types_and_cache_policy() {
        assert_eq!(
            content_type("curl_7.88_amd64.deb"),
            "application/vnd.debian.binary-package"
        );
        assert_eq!(content_type("Packages.xz"), "application/x-xz");
        assert_eq!(content_type("Release.gpg"), "application/pgp-signature");
        assert_eq!(content_type("InRelease"), TEXT);
        assert_eq!(content_type("0123abcd"), "application/octet-stream");
        let segs = |p: &str| p.split('/').map(String::from).collect::<Vec<_>>();
        assert_eq!(cache_control(&segs("pool/main/c/curl/curl.deb")), IMMUTABLE);
        assert_eq!(
            cache_control(&segs("dists/stable/main/binary-amd64/by-hash/SHA256/ab")),
            IMMUTABLE
        );
        assert_eq!(cache_control(&segs("dists/stable/InRelease")), REVALIDATE);
        assert_eq!(
            cache_control(&segs("dists/stable/main/binary-amd64/Packages.xz")),
            REVALIDATE
        );
    }

    #[test]
    fn names_are_escaped_in_listings() {
        assert_eq!(html_escape("<a&'\">"), "&lt;a&amp;&#39;&quot;&gt;");
        assert_eq!(percent_encode("a b+c%/ü"), "a%20b%2Bc%25%2F%C3%BC");
    }
}
