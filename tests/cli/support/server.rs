//! A misbehaving static-file HTTP/1.1 server on loopback for tests.
//!
//! It serves a directory like a plain archive mirror would (GET/HEAD, ranges,
//! ETag/Last-Modified and conditional requests) and can be told to fail in the
//! ways real mirrors do, per path suffix, via [`Fault`]. It runs on its own
//! thread with its own tokio runtime so tests can drive it from synchronous
//! code or from a subprocess, and it stops when dropped. Every request is
//! recorded for assertions.
#![allow(dead_code)]

use std::convert::Infallible;
use std::hash::{DefaultHasher, Hasher as _};
use std::io;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::stream::{self, StreamExt as _};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

type Body = BoxBody<Bytes, io::Error>;

/// A request as the server saw it, with the status it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub range: Option<String>,
    /// Whether it carried an `Authorization` header.
    pub authorized: bool,
    /// Which connection it came on (numbered from 0 in accept order).
    pub connection: u64,
}

/// A way to misbehave, for request paths ending with a suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This status for every request.
    Status(u16),
    /// This status for the first N requests, then normal.
    StatusTimes(u16, u32),
    /// Delay before the response headers.
    Slow(Duration),
    /// Send headers and half the body, then sleep this long before the rest.
    Stall(Duration),
    /// Announce the full Content-Length, then close the connection when file
    /// offset N is reached (a range starting at or past N gets no bytes), so
    /// resuming makes no progress: the truncation is persistent.
    Truncate(u64),
    /// Truncate at file offset N the first K times only.
    TruncateTimes(u64, u32),
    /// Answer 200 with the full body even when a Range is asked for.
    IgnoreRange,
    /// Flip one byte in the body (same length).
    Corrupt,
    /// Serve these bytes instead of the file (even if it does not exist).
    Replace(Vec<u8>),
    /// 429 with `Retry-After: secs`, the first N times.
    RetryAfter(u64, u32),
    /// 302 to this location (absolute, or a path on this server).
    Redirect(String),
}

struct Shared {
    root: PathBuf,
    /// (suffix, fault, times it fired)
    faults: Vec<(String, Fault, u32)>,
    requests: Vec<Request>,
    /// Connections still to reset.
    resets: u32,
    /// Answers per connection before it is closed (`Connection: close`).
    keep_alive_limit: Option<u32>,
    /// Leave Nagle's algorithm on (no `TCP_NODELAY`), as stock nginx does
    /// between pipelined answers.
    nagle: bool,
}

/// The server; stops on drop.
pub struct FixtureServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FixtureServer {
    /// Serves `root` on 127.0.0.1 at a free port.
    pub fn start(root: impl Into<PathBuf>) -> FixtureServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Mutex::new(Shared {
            root: root.into(),
            faults: Vec::new(),
            requests: Vec::new(),
            resets: 0,
            keep_alive_limit: None,
            nagle: false,
        }));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let mut connections = 0u64;
                loop {
                    let stream = tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => match accepted {
                            Ok((stream, _)) => stream,
                            Err(_) => continue,
                        },
                    };
                    let (reset, nagle) = {
                        let mut shared = lock(&state);
                        let reset = shared.resets > 0;
                        shared.resets = shared.resets.saturating_sub(1);
                        (reset, shared.nagle)
                    };
                    if reset {
                        // Read the request, then drop the connection with
                        // SO_LINGER 0: the client sees a TCP RST.
                        tokio::spawn(async move {
                            use tokio::io::AsyncReadExt;
                            let mut stream = stream;
                            let mut buf = [0u8; 4096];
                            let _ = stream.read(&mut buf).await;
                            // Deprecated because a non-zero linger blocks
                            // on drop; a zero one closes at once with RST.
                            #[allow(deprecated)]
                            let _ = stream.set_linger(Some(Duration::ZERO));
                        });
                        continue;
                    }
                    // As Apache does, and nginx once a connection is idle:
                    // without it, the second of two pipelined answers waits
                    // for the client's ACK of the first.
                    let _ = stream.set_nodelay(!nagle);
                    let state = Arc::clone(&state);
                    let connection = connections;
                    connections += 1;
                    let answered = Arc::new(std::sync::atomic::AtomicU32::new(0));
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let state = Arc::clone(&state);
                            let answered = Arc::clone(&answered);
                            async move {
                                let mut response = handle(&state, req, connection).await;
                                let n =
                                    1 + answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                if lock(&state)
                                    .keep_alive_limit
                                    .is_some_and(|limit| n >= limit)
                                {
                                    response.headers_mut().insert(
                                        header::CONNECTION,
                                        HeaderValue::from_static("close"),
                                    );
                                }
                                Ok::<_, Infallible>(response)
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .timer(TokioTimer::new())
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
            // Dropping the runtime cancels connections still open or stalled.
        });
        FixtureServer {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves another tree from now on.
    pub fn set_root(&self, root: PathBuf) {
        lock(&self.shared).root = root;
    }

    /// Adds a fault for request paths ending with `path_suffix` ("" = all).
    pub fn fault(&self, path_suffix: &str, fault: Fault) {
        lock(&self.shared)
            .faults
            .push((path_suffix.to_owned(), fault, 0));
    }

    /// Resets (TCP RST after reading the request) the next `n` connections.
    pub fn reset_connections(&self, n: u32) {
        lock(&self.shared).resets = n;
    }

    /// Closes every connection after `n` answers, the last one saying
    /// `Connection: close`, as servers with a keep-alive request limit do.
    pub fn keep_alive_limit(&self, n: u32) {
        lock(&self.shared).keep_alive_limit = Some(n);
    }

    /// Leaves Nagle's algorithm on for new connections, so that each
    /// pipelined answer after the first waits for the client's ACK of the
    /// one before (stock nginx: `tcp_nopush on`, `TCP_NODELAY` only when a
    /// connection goes idle). The server writes each answer on its own.
    pub fn hold_small_answers(&self) {
        lock(&self.shared).nagle = true;
    }

    pub fn clear_faults(&self) {
        lock(&self.shared).faults.clear();
    }

    /// Requests so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared).requests.clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared).requests.clear();
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the matching faults add up to for one request.
#[derive(Default)]
struct Plan {
    status: Option<(u16, Option<u64>)>,
    redirect: Option<String>,
    slow: Option<Duration>,
    stall: Option<Duration>,
    truncate: Option<u64>,
    ignore_range: bool,
    corrupt: bool,
    replace: Option<Vec<u8>>,
}

fn plan(shared: &mut Shared, path: &str) -> Plan {
    let mut plan = Plan::default();
    for (suffix, fault, fired) in &mut shared.faults {
        if !path.ends_with(suffix.as_str()) {
            continue;
        }
        let mut fire = |times: u32| {
            let fires = *fired < times;
            if fires {
                *fired += 1;
            }
            fires
        };
        match fault {
            Fault::Status(code) if plan.status.is_none() => plan.status = Some((*code, None)),
            Fault::StatusTimes(code, n) if plan.status.is_none() && fire(*n) => {
                plan.status = Some((*code, None));
            }
            Fault::RetryAfter(secs, n) if plan.status.is_none() && fire(*n) => {
                plan.status = Some((429, Some(*secs)));
            }
            Fault::Slow(d) => plan.slow = Some(*d),
            Fault::Stall(d) => plan.stall = Some(*d),
            Fault::Truncate(n) => plan.truncate = Some(*n),
            Fault::TruncateTimes(n, k) if fire(*k) => plan.truncate = Some(*n),
            Fault::IgnoreRange => plan.ignore_range = true,
            Fault::Corrupt => plan.corrupt = true,
            Fault::Replace(bytes) => plan.replace = Some(bytes.clone()),
            Fault::Redirect(to) => plan.redirect = Some(to.clone()),
            _ => {}
        }
    }
    plan
}

async fn handle(
    shared: &Mutex<Shared>,
    req: hyper::Request<Incoming>,
    connection: u64,
) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let range = header_str(&req, header::RANGE).map(str::to_owned);
    let authorized = req.headers().contains_key(header::AUTHORIZATION);
    let (root, plan) = {
        let mut shared = lock(shared);
        let root = shared.root.clone();
        (root, plan(&mut shared, &path))
    };
    let slow = plan.slow;
    let response = respond(&root, &req, plan, range.as_deref()).await;
    lock(shared).requests.push(Request {
        method: req.method().to_string(),
        path,
        status: response.status().as_u16(),
        range,
        authorized,
        connection,
    });
    // Recorded first: a client that times out drops this future.
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    response
}

async fn respond(
    root: &Path,
    req: &hyper::Request<Incoming>,
    plan: Plan,
    range: Option<&str>,
) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return simple(StatusCode::METHOD_NOT_ALLOWED);
    }
    if let Some((code, retry_after)) = plan.status {
        let mut response = simple(StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT));
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.into());
        }
        return response;
    }
    if let Some(to) = plan.redirect.and_then(|to| HeaderValue::from_str(&to).ok()) {
        let mut response = simple(StatusCode::FOUND);
        response.headers_mut().insert(header::LOCATION, to);
        return response;
    }
    let Some(relative) = decode_path(req.uri().path()) else {
        return simple(StatusCode::BAD_REQUEST);
    };
    let file = root.join(relative);
    let (mut content, modified) = match plan.replace {
        Some(bytes) => (bytes, SystemTime::now()),
        // Read in place, not through tokio::fs: the files are small and
        // local, and a blocking-pool round trip per request made this
        // server use most of a core in the 60,000-file benchmark, CPU
        // taken from the client being measured.
        None => match read_file(&file) {
            Ok(read) => read,
            Err(_) => return simple(StatusCode::NOT_FOUND),
        },
    };
    let mut hasher = DefaultHasher::new();
    hasher.write(&content);
    let etag = format!("\"{:x}-{:x}\"", content.len(), hasher.finish());
    let last_modified = chrono::DateTime::<chrono::Utc>::from(modified)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();

    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::LAST_MODIFIED, &last_modified)
        .header(header::ACCEPT_RANGES, "bytes");
    if not_modified(req, &etag, modified) {
        return build(builder.status(StatusCode::NOT_MODIFIED), empty());
    }
    if plan.corrupt && !content.is_empty() {
        let middle = content.len() / 2;
        content[middle] ^= 0xff;
    }
    let len = content.len() as u64;
    let if_range_ok =
        header_str(req, header::IF_RANGE).is_none_or(|v| v == etag || v == last_modified);
    let mut status = StatusCode::OK;
    let mut offset = 0; // of the body within the file
    let mut body = Bytes::from(content);
    let range = range
        .filter(|_| !plan.ignore_range && if_range_ok)
        .and_then(|r| parse_range(r, len));
    if let Some((start, _)) = range
        && start >= len
    {
        let builder = builder.header(header::CONTENT_RANGE, format!("bytes */{len}"));
        return build(builder.status(StatusCode::RANGE_NOT_SATISFIABLE), empty());
    }
    if let Some((start, end)) = range {
        let end = end.min(len - 1);
        builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
        status = StatusCode::PARTIAL_CONTENT;
        // Both bounds are below `len`, which came from a usize.
        body = body.slice(start as usize..=end as usize);
        offset = start;
    }
    builder = builder
        .status(status)
        .header(header::CONTENT_LENGTH, body.len());
    let body = if req.method() == Method::HEAD {
        empty()
    } else if let Some(keep) = plan
        .truncate
        .map(|n| n.saturating_sub(offset))
        .filter(|&n| n < body.len() as u64)
    {
        let sent = body.slice(..keep as usize);
        let chunks = stream::iter([Ok(Frame::data(sent))]).chain(stream::once(async {
            // Let the sent part reach the client before the connection dies.
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err(io::Error::other("truncated on purpose"))
        }));
        BodyExt::boxed(StreamBody::new(chunks))
    } else if let Some(pause) = plan.stall {
        let rest = body.split_off(body.len() / 2);
        let chunks = stream::iter([Ok(Frame::data(body))]).chain(stream::once(async move {
            tokio::time::sleep(pause).await;
            Ok(Frame::data(rest))
        }));
        BodyExt::boxed(StreamBody::new(chunks))
    } else {
        full(body)
    };
    build(builder, body)
}

/// `If-None-Match` wins over `If-Modified-Since`, as in RFC 9110.
/// A file's content and modification time.
fn read_file(path: &Path) -> std::io::Result<(Vec<u8>, SystemTime)> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let mut content = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut content)?;
    Ok((content, meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
}

fn not_modified(req: &hyper::Request<Incoming>, etag: &str, modified: SystemTime) -> bool {
    if let Some(tags) = header_str(req, header::IF_NONE_MATCH) {
        return tags.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        });
    }
    let Some(since) = header_str(req, header::IF_MODIFIED_SINCE)
        .and_then(|s| chrono::DateTime::parse_from_rfc2822(s).ok())
    else {
        return false;
    };
    let modified = chrono::DateTime::<chrono::Utc>::from(modified).timestamp();
    modified <= since.timestamp()
}

/// `bytes=N-` or `bytes=N-M` (a single range) → (N, M or u64::MAX).
fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let (start, end) = value.trim().strip_prefix("bytes=")?.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => u64::MAX,
        end => end.parse().ok()?,
    };
    (end >= start || start >= len).then_some((start, end))
}

/// Percent-decodes the URL path into a relative path; `None` for `..`,
/// bad escapes or non-UTF-8.
fn decode_path(path: &str) -> Option<PathBuf> {
    let (raw, mut out, mut i) = (path.as_bytes(), Vec::new(), 0);
    while let Some(&byte) = raw.get(i) {
        if byte == b'%' {
            let hex = std::str::from_utf8(raw.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    let decoded = PathBuf::from(String::from_utf8(out).ok()?.trim_start_matches('/'));
    let safe = decoded
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    safe.then_some(decoded)
}

fn header_str<B>(req: &hyper::Request<B>, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn empty() -> Body {
    full(Bytes::new())
}

fn full(data: Bytes) -> Body {
    Full::new(data).map_err(|never| match never {}).boxed()
}

fn build(builder: hyper::http::response::Builder, body: Body) -> Response<Body> {
    builder
        .body(body)
        .unwrap_or_else(|_| simple(StatusCode::INTERNAL_SERVER_ERROR))
}

/// A status with a short text body.
fn simple(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(full(Bytes::from(format!("{status}\n"))));
    *response.status_mut() = status;
    response
}
