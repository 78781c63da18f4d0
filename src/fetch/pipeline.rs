//! [`Pipeline`]: many small GETs on one keep-alive HTTP/1.1 connection,
//! written several at a time and answered in order.
//!
//! A first sync fetches tens of thousands of pool files of a few kilobytes
//! each. Sent one by one through `reqwest`, every file costs a request of its
//! own on the socket, a wake-up of the server for it, and the client's
//! per-request layers (URL parsing, header maps, pool checkout), which on a
//! fast link is most of the CPU a sync spends outside the file system. Like
//! apt's own `http` method (`Acquire::http::Pipeline-Depth`), a pipeline
//! writes a batch of GETs in one go and reads the answers back to back.
//!
//! Only the plain case takes this path: an `http` URL without credentials,
//! no proxy in the environment, a `200` with a `Content-Length` equal to the
//! size the index promised, a complete body with the promised SHA-256.
//! Anything else for a file (another status, a short or stalled body, a
//! digest mismatch, a redirect) sends it on to [`Fetcher`]'s ordinary path
//! once the batch is read, with this try counted as its first attempt, so
//! retries, `Range` resumes, redirects and the final error are the same as
//! without pipelining. The connection carries on past a complete answer
//! (an unwanted body is skipped) and is dropped otherwise. Requests the server never
//! answered (it closed the connection after a keep-alive limit) are sent again
//! on a new connection. A server that answers nothing on two fresh
//! connections in a row, or whose answers the fast path cannot frame (no
//! `Content-Length`, an encoded body, not HTTP/1.x), gets no more pipelined
//! requests.
//!
//! Pipelining must never be slower than single requests, whatever the
//! server. The client acknowledges every answer at once ([`quick_ack`]):
//! stock nginx holds each small pipelined answer until the previous one is
//! acknowledged (60,000 files: 33 s pipelined against 3.9 s without, 3.2 s
//! with the fix). [`Pace`] turns a pipeline off whose batches stall anyway.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tracing::debug;
use url::{Host, Url};

use super::download::{Partial, if_range_validator};
use super::head::{Head, parse_head};
use super::pace::Pace;
use super::{Downloaded, Expected, FetchError, Fetcher, status_error};
use crate::digest::Hasher;

/// Requests in flight per connection unless configured otherwise: apt's
/// default pipeline depth.
pub const DEFAULT_PIPELINE_DEPTH: usize = 10;

/// Response heads larger than this are not for the fast path.
const MAX_HEAD: usize = 16 * 1024;

/// Bodies of unwanted answers up to this size are read past to keep the
/// connection; a larger one ends it.
const MAX_SKIP: u64 = 256 * 1024;

/// Fresh connections in a row that may answer nothing before pipelining is
/// given up for the rest of the run.
const MAX_BARREN: u32 = 2;

/// One file for [`Pipeline::fetch`].
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// The file's URL relative to the pipeline's base, already escaped
    /// (`%`, `?` and `#` as `%25`, `%3F`, `%23`).
    pub rel: &'a str,
    /// Its size and digest; the size must be known.
    pub expected: Expected,
}

/// A verified body and how it was obtained.
pub type Fetched = Result<(Vec<u8>, Downloaded), FetchError>;

/// A pipelined connection to one `http` origin; see the module docs.
pub struct Pipeline {
    fetcher: Fetcher,
    base: Url,
    /// Where to connect.
    addr: Addr,
    /// The `Host` header value.
    host: String,
    /// Path of `base` up to its last `/`: a plain `rel` appended to it is
    /// the request target `base.join(rel)` would give.
    prefix: String,
    conn: Option<Conn>,
    /// For the closing debug line: connections opened, answers used, files
    /// left to the ordinary path.
    connections: u64,
    answered: u64,
    handed_over: u64,
    /// Fresh connections in a row that answered nothing; at [`MAX_BARREN`]
    /// (also set when the answers are not for pipelining) every file goes
    /// the ordinary way.
    barren: u32,
    /// The stall guard; see [`Pace`].
    pace: Pace,
}

enum Addr {
    Ip(SocketAddr),
    Name(String, u16),
}

/// A connection and the bytes read from it but not yet consumed.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Responses fully read on this connection.
    answered: u64,
    /// For the current batch: how long each answer's first bytes were
    /// waited for, when none of it had arrived with the answer before.
    waits: Vec<Duration>,
}

/// How one pipelined response went.
enum Answer {
    /// Verified.
    Done(Vec<u8>, Downloaded),
    /// Not verified: the file goes on in the ordinary path once the batch
    /// is through, continuing from this first attempt, or untried if `None`
    /// (a redirect or another status the ordinary path must judge afresh).
    Later(Option<Resume>),
    /// The connection ended before any of this response arrived: send the
    /// request again on a new one.
    Lost,
    /// An answer the fast path cannot read (not HTTP/1.x, no length, an
    /// encoded body): this file and all later ones go the ordinary way.
    Unsuited,
}

/// A first attempt for the ordinary path to continue: what arrived and how
/// it ended.
type Resume = (Partial, Result<(), FetchError>);

/// A file left for the ordinary path (its index in the batch), and where it
/// stands.
type Deferred = (usize, Option<Resume>);

impl Fetcher {
    /// A pipeline for files under `base`, if it can take the fast path: plain
    /// `http`, no credentials in the URL and no proxy in the environment
    /// (those go through `reqwest`, which knows how to handle them), and
    /// [`FetchOptions::pipeline_depth`](super::FetchOptions::pipeline_depth)
    /// above 1. Callers send it batches of up to that many files.
    pub fn pipeline(&self, base: &Url) -> Option<Pipeline> {
        if self.opts.pipeline_depth <= 1 {
            return None;
        }
        if base.scheme() != "http" || !base.username().is_empty() || base.password().is_some() {
            return None;
        }
        let proxied = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
        if proxied {
            return None;
        }
        let port = base.port_or_known_default()?;
        let addr = match base.host()? {
            Host::Ipv4(ip) => Addr::Ip(SocketAddr::from((ip, port))),
            Host::Ipv6(ip) => Addr::Ip(SocketAddr::from((ip, port))),
            Host::Domain(name) => Addr::Name(name.to_owned(), port),
        };
        let host = match base.port() {
            Some(port) => format!("{}:{port}", base.host_str()?),
            None => base.host_str()?.to_owned(),
        };
        let probe = base.join("x").ok()?;
        let prefix = probe.path().strip_suffix('x')?.to_owned();
        Some(Pipeline {
            fetcher: self.clone(),
            base: base.clone(),
            addr,
            host,
            prefix,
            conn: None,
            connections: 0,
            answered: 0,
            handed_over: 0,
            barren: 0,
            pace: Pace::default(),
        })
    }
}

impl Pipeline {
    /// Fetches `items`, returning results in order, each with the meaning
    /// of [`Fetcher::download_bytes`] (verified body or the error that ended
    /// its retries). Like a sync, it stops at the first file that fails:
    /// the results end with that file's error, and later files are not
    /// retried.
    pub async fn fetch(&mut self, items: &[Item<'_>]) -> Vec<Fetched> {
        let mut results: Vec<Option<Fetched>> = items.iter().map(|_| None).collect();
        let mut deferred: Vec<Deferred> = Vec::new();
        let mut next = 0;
        while next < items.len() {
            if self.barren >= MAX_BARREN {
                deferred.extend((next..items.len()).map(|i| (i, None)));
                break;
            }
            next = self.round(items, &mut results, &mut deferred, next).await;
        }
        // Failures are retried after the batch's other answers are read, so
        // a backoff does not hold up what is already on its way.
        self.handed_over += deferred.len() as u64;
        let mut deferred = deferred.into_iter().peekable();
        let mut out = Vec::with_capacity(items.len());
        for (i, (item, result)) in items.iter().zip(results).enumerate() {
            let result = match deferred.next_if(|d| d.0 == i) {
                Some((_, state)) => match (state, self.url(item.rel)) {
                    (_, Err(e)) => Err(e),
                    (Some((partial, first)), Ok(url)) => {
                        self.fetcher
                            .continue_bytes(&url, &item.expected, partial, first)
                            .await
                    }
                    (None, Ok(url)) => self.fetcher.download_bytes(&url, &item.expected).await,
                },
                // Every item is either answered or deferred.
                None => result.unwrap_or_else(|| Err(FetchError::InvalidUrl(item.rel.into()))),
            };
            let failed = result.is_err();
            out.push(result);
            if failed {
                break;
            }
        }
        out
    }

    /// Sends `items[next..]` on the current (or a new) connection and reads
    /// answers until the batch is done or the connection is; returns the
    /// index of the first item still to send.
    async fn round(
        &mut self,
        items: &[Item<'_>],
        results: &mut [Option<Fetched>],
        deferred: &mut Vec<Deferred>,
        mut next: usize,
    ) -> usize {
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => match self.connect().await {
                Ok(conn) => {
                    self.connections += 1;
                    conn
                }
                Err(err) => {
                    debug!(error = %err, "pipelined connection failed; using single requests");
                    self.barren = MAX_BARREN;
                    return next;
                }
            },
        };
        let fresh = conn.answered == 0;
        let first = next;
        conn.waits.clear();
        let mut requests = String::with_capacity(128 * (items.len() - next));
        for item in &items[next..] {
            self.request(&mut requests, item.rel);
        }
        if self.write(&mut conn, requests.as_bytes()).await.is_err() {
            // Nothing of this batch was answered: try again on a new connection.
            self.note_lost(fresh);
            return next;
        }
        while next < items.len() {
            let (answer, usable) = self.answer(&mut conn, &items[next]).await;
            match answer {
                Answer::Done(body, downloaded) => results[next] = Some(Ok((body, downloaded))),
                Answer::Later(state) => {
                    // A server that goes silent is the ordinary path's to
                    // time out, once per file, not once per pipelined round.
                    let stalled = matches!(&state, Some((_, Err(FetchError::Pipelined { source, .. })))
                        if source.kind() == std::io::ErrorKind::TimedOut);
                    deferred.push((next, state));
                    if stalled {
                        debug!("upstream stalled; using single requests");
                        self.barren = MAX_BARREN;
                        return next + 1;
                    }
                }
                Answer::Lost => {
                    self.note_lost(fresh && conn.answered == 0);
                    return next;
                }
                Answer::Unsuited => {
                    debug!("upstream answers are not for pipelining; using single requests");
                    deferred.push((next, None));
                    self.barren = MAX_BARREN;
                    return next + 1;
                }
            }
            next += 1;
            conn.answered += 1;
            self.answered += 1;
            self.barren = 0;
            if !usable {
                // Requests after this one are never answered on it.
                return next;
            }
        }
        self.judge(&conn.waits, next - first);
        self.conn = Some(conn);
        next
    }

    /// Hands a batch of `files` read whole to the stall guard, and turns
    /// pipelining off when it says so.
    fn judge(&mut self, waits: &[Duration], files: usize) {
        if self.pace.record(waits, files) {
            debug!(
                host = %self.host,
                stalled = self.pace.stalled,
                batches = self.pace.batches,
                "upstream holds pipelined answers back; using single requests"
            );
            self.barren = MAX_BARREN;
        }
    }

    /// What the stall guard has seen so far.
    pub fn pace(&self) -> Pace {
        self.pace
    }

    fn note_lost(&mut self, barren: bool) {
        if barren {
            self.barren += 1;
        }
    }

    fn url(&self, rel: &str) -> Result<Url, FetchError> {
        self.base
            .join(rel)
            .map_err(|_| FetchError::InvalidUrl(format!("{}{rel}", self.base)))
    }

    /// Appends a GET for `rel` to `out`.
    fn request(&self, out: &mut String, rel: &str) {
        out.push_str("GET ");
        if is_plain(rel) {
            out.push_str(&self.prefix);
            out.push_str(rel);
        } else {
            match self.base.join(rel) {
                Ok(url) => {
                    out.push_str(url.path());
                    if let Some(query) = url.query() {
                        out.push('?');
                        out.push_str(query);
                    }
                }
                // Answered 400 (or not at all); the ordinary path then
                // reports the URL as invalid.
                Err(_) => out.push('*'),
            }
        }
        out.push_str(" HTTP/1.1\r\nHost: ");
        out.push_str(&self.host);
        out.push_str("\r\nUser-Agent: ");
        out.push_str(&self.fetcher.opts.user_agent);
        out.push_str("\r\nAccept: */*\r\n\r\n");
    }

    async fn connect(&self) -> std::io::Result<Conn> {
        let timeout = self.fetcher.opts.connect_timeout;
        let connecting = async {
            match &self.addr {
                Addr::Ip(addr) => TcpStream::connect(addr).await,
                Addr::Name(name, port) => TcpStream::connect((name.as_str(), *port)).await,
            }
        };
        let stream = within(timeout, connecting).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            answered: 0,
            waits: Vec::new(),
        })
    }

    async fn write(&self, conn: &mut Conn, data: &[u8]) -> std::io::Result<()> {
        within(self.fetcher.opts.read_timeout, conn.stream.write_all(data)).await
    }

    /// Reads more into the connection's buffer; `Ok(0)` at end of stream.
    async fn fill(&self, conn: &mut Conn) -> std::io::Result<usize> {
        if conn.start == conn.end {
            conn.start = 0;
            conn.end = 0;
        } else if conn.end == conn.buf.len() {
            if conn.start > 0 {
                conn.buf.copy_within(conn.start..conn.end, 0);
                conn.end -= conn.start;
                conn.start = 0;
            } else {
                let len = conn.buf.len();
                conn.buf.resize(len * 2, 0);
            }
        }
        quick_ack(&conn.stream);
        let end = conn.end;
        let read = conn.stream.read(&mut conn.buf[end..]);
        within(self.fetcher.opts.read_timeout, read)
            .await
            .inspect(|n| conn.end += n)
    }

    /// Reads the answer to `item`'s request; the flag says whether the
    /// connection can carry on (at an answer's end, no `Connection: close`).
    async fn answer(&self, conn: &mut Conn, item: &Item<'_>) -> (Answer, bool) {
        let Some(size) = item.expected.size else {
            return (Answer::Later(None), false);
        };
        let shown = || {
            self.url(item.rel)
                .map(|u| u.to_string())
                .unwrap_or_else(|_| item.rel.to_owned())
        };
        let head = match self.read_head(conn, &shown).await {
            Ok(head) => head,
            Err(answer) => return (answer, false),
        };
        let framed = if head.encoded {
            None
        } else {
            head.content_length
        };
        if head.status != 200 {
            // Any answer but 200 is the ordinary path's to judge; its body
            // is skipped so that the answers behind it are not lost.
            let state = StatusCode::from_u16(head.status)
                .ok()
                .filter(|_| (400..600).contains(&head.status))
                .map(|status| {
                    (
                        empty_partial(),
                        Err(status_error(&shown(), status, &head.kept)),
                    )
                });
            let usable = match framed {
                Some(len) if !head.close => self.skip(conn, len).await,
                _ => false,
            };
            return (Answer::Later(state), usable);
        }
        let Some(announced) = framed else {
            return (Answer::Unsuited, false);
        };
        if announced != size {
            let first = Err(FetchError::SizeMismatch {
                url: shown(),
                expected: size,
                announced,
            });
            let usable = !head.close && self.skip(conn, announced).await;
            return (Answer::Later(Some((empty_partial(), first))), usable);
        }
        let len = usize::try_from(size).unwrap_or(usize::MAX);
        let (body, failed) = self.read_body(conn, len).await;
        let mut hasher = Hasher::new();
        hasher.update(&body);
        let if_range = || if_range_validator(&head.kept);
        if body.len() < len {
            let got = body.len() as u64;
            let first = Err(match failed {
                Some(source) => FetchError::Pipelined {
                    url: shown(),
                    got,
                    source,
                },
                None => FetchError::Truncated {
                    url: shown(),
                    got,
                    expected: Some(size),
                    source: None,
                },
            });
            let partial = Partial {
                body,
                hasher,
                if_range: if_range(),
            };
            return (Answer::Later(Some((partial, first))), false);
        }
        let (sha256, got) = hasher.clone().finish();
        if item.expected.sha256.is_some_and(|want| want != sha256) {
            // The ordinary path checks the digest and refetches once.
            let partial = Partial {
                body,
                hasher,
                if_range: if_range(),
            };
            return (Answer::Later(Some((partial, Ok(())))), !head.close);
        }
        let downloaded = Downloaded {
            sha256,
            size: got,
            attempts: 1,
        };
        (Answer::Done(body, downloaded), !head.close)
    }

    /// Reads an answer's head; the answer for the file instead when there
    /// is none to read (the connection is then done).
    async fn read_head(
        &self,
        conn: &mut Conn,
        shown: &(dyn Fn() -> String + Sync),
    ) -> Result<Head, Answer> {
        loop {
            match parse_head(&conn.buf[conn.start..conn.end]) {
                Ok(Some((head, used))) => {
                    conn.start += used;
                    return Ok(head);
                }
                Ok(None) if conn.end - conn.start < MAX_HEAD => {}
                Ok(None) | Err(()) => return Err(Answer::Unsuited),
            }
            let nothing_yet = conn.start == conn.end;
            let waiting = Instant::now();
            match self.fill(conn).await {
                Ok(n) if n > 0 => {
                    if nothing_yet {
                        conn.waits.push(waiting.elapsed());
                    }
                }
                // Closed or reset before this answer began: not this file's fault.
                Ok(_) if nothing_yet => return Err(Answer::Lost),
                Err(e) if nothing_yet && e.kind() != std::io::ErrorKind::TimedOut => {
                    return Err(Answer::Lost);
                }
                Ok(_) => return Err(Answer::Later(None)),
                Err(source) => {
                    let first = Err(FetchError::Pipelined {
                        url: shown(),
                        got: 0,
                        source,
                    });
                    return Err(Answer::Later(Some((empty_partial(), first))));
                }
            }
        }
    }

    /// Reads a body of `len` bytes, or what arrives of it before the
    /// connection ends or fails (with the failure).
    async fn read_body(&self, conn: &mut Conn, len: usize) -> (Vec<u8>, Option<std::io::Error>) {
        let mut body = Vec::with_capacity(len);
        loop {
            let take = (len - body.len()).min(conn.end - conn.start);
            body.extend_from_slice(&conn.buf[conn.start..conn.start + take]);
            conn.start += take;
            if body.len() == len {
                return (body, None);
            }
            match self.fill(conn).await {
                Ok(n) if n > 0 => {}
                Ok(_) => return (body, None),
                Err(e) => return (body, Some(e)),
            }
        }
    }

    /// Reads past a body of `len` bytes not wanted; whether that worked
    /// (a large one is not worth reading: the connection is given up).
    async fn skip(&self, conn: &mut Conn, len: u64) -> bool {
        if len > MAX_SKIP {
            return false;
        }
        let mut left = len;
        loop {
            let take = left.min((conn.end - conn.start) as u64);
            conn.start += take as usize;
            left -= take;
            if left == 0 {
                return true;
            }
            if !matches!(self.fill(conn).await, Ok(n) if n > 0) {
                return false;
            }
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if self.connections > 0 {
            debug!(
                host = %self.host,
                connections = self.connections,
                answered = self.answered,
                handed_over = self.handed_over,
                batches = self.pace.batches,
                stalled = self.pace.stalled,
                "pipelined"
            );
        }
    }
}

/// Asks the kernel to acknowledge what arrives next at once instead of
/// delaying the ACK (Linux `TCP_QUICKACK`; the kernel clears it again on its
/// own, so it is set before every read).
///
/// A server that writes pipelined answers one by one with Nagle's algorithm
/// on (stock nginx: `tcp_nopush on`, and `TCP_NODELAY` only once the
/// connection goes idle) holds each small answer until the previous one is
/// acknowledged; with the client's ACK delayed by up to 40 ms, a batch of
/// ten 600-byte files took 40 ms instead of 0.2 ms on loopback, and a first
/// sync of 60,000 such files 33 s instead of 3.
fn quick_ack(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) = rustix::net::sockopt::set_tcp_quickack(stream, true) {
        debug!(error = %e, "TCP_QUICKACK not set");
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

/// `io` unless it takes longer than `timeout`, which is an error of kind
/// `TimedOut`.
async fn within<T>(
    timeout: Duration,
    io: impl std::future::Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    tokio::time::timeout(timeout, io)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// Parses a response head at the start of `data`: `Ok(None)` if incomplete,
/// `Err` if it is not HTTP/1.x.
/// A resumption with nothing received yet.
fn empty_partial() -> Partial {
    Partial {
        body: Vec::new(),
        hasher: Hasher::new(),
        if_range: None,
    }
}

/// Whether `rel` appended to the base's directory is already the request
/// target `Url::join` would make: only characters a path keeps as they are,
/// no empty, `.` or `..` segment, not absolute.
fn is_plain(rel: &str) -> bool {
    !rel.is_empty()
        && rel
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/:@!$&'()*,;=".contains(&b))
        && rel
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !rel.starts_with("//")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_join_like_url() {
        let base = Url::parse("http://127.0.0.1:8080/debian/").expect("url");
        for rel in [
            "pool/main/a/app/app_1.0-1_amd64.deb",
            "pool/main/libc/libc6_2.36-9+deb12u1_amd64.deb",
            "pool/main/x/x/x_1:2~rc1_all.deb",
        ] {
            assert!(is_plain(rel), "{rel}");
            let joined = base.join(rel).expect("join");
            assert_eq!(joined.path(), format!("/debian/{rel}"));
        }
        for rel in [
            "",
            "pool/./x",
            "pool/../x",
            "pool//x",
            "/abs",
            "a b",
            "a%25b",
            "a%3Fb",
            "é",
        ] {
            assert!(!is_plain(rel), "{rel:?}");
        }
    }

    #[test]
    fn prefix_follows_the_base_directory() {
        let fetcher = Fetcher::new(super::super::FetchOptions::default()).expect("client");
        let with_slash = Url::parse("http://h/debian/").expect("url");
        let without = Url::parse("http://h:81/debian").expect("url");
        let p = fetcher.pipeline(&with_slash).expect("pipeline");
        assert_eq!((p.prefix.as_str(), p.host.as_str()), ("/debian/", "h"));
        let p = fetcher.pipeline(&without).expect("pipeline");
        assert_eq!((p.prefix.as_str(), p.host.as_str()), ("/", "h:81"));
        let tls = Url::parse("https://h/debian/").expect("url");
        assert!(fetcher.pipeline(&tls).is_none());
        let creds = Url::parse("http://u:p@h/debian/").expect("url");
        assert!(fetcher.pipeline(&creds).is_none());
    }
}
