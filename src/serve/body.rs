//! Replies on the wire: `HEAD` applied, `Content-Length` set, bodies
//! streamed, and the access-log line written once the body is done (or
//! abandoned).
//!
//! A file's bytes that the page cache holds go out with `sendfile`
//! (`sendfile.rs`): the body yields placeholder frames the connection
//! sends from the file, copying nothing through this process. The rest is
//! read in chunks (`chunk.rs`: on the blocking pool, into reused buffers)
//! when hyper asks for more, with no second buffer (as `tokio::fs::File`
//! keeps). Memory per connection is bounded by what is buffered for it: a
//! frame is made only when hyper asks for more (its write buffer is
//! capped, see `MAX_BUF` in `mod.rs`). A client that stops reading thus
//! holds at most a chunk or two (128 KiB each) until the idle timeout
//! closes it, rather than the 0.6 MB it did forever.

use std::io::{self, Seek as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Empty, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response};

use super::chunk::{self, CHUNK};
use super::flight::Relay;
use super::origin::Content;
use super::response::{Payload, Reply};
use super::sendfile::{FileSends, SPAN};
use crate::store::s3::ByteStream;

pub(super) type Body = UnsyncBoxBody<Bytes, io::Error>;

/// The access-log line, emitted when dropped: after the last body byte was
/// sent, or when the client went away mid-body (then `bytes` is what was sent).
pub(super) struct Access {
    pub(super) remote: SocketAddr,
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) status: u16,
    pub(super) bytes: u64,
    pub(super) start: Instant,
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

/// Applies HEAD, sets `Content-Length`, and hands the access log to the
/// body; a file body is sent through the connection's `sends`.
pub(super) fn finish(
    reply: Reply,
    head: bool,
    mut access: Access,
    sends: &Arc<FileSends>,
) -> Response<Body> {
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
        Payload::Head { len } => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            empty()
        }
        Payload::Content { content, len } => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            match content {
                _ if head => empty(),
                Content::File(file) => file_body(file, len, access, sends),
                Content::Stream(body) => stream_body(body, access),
                Content::Flight(relay) => flight_body(relay, access, sends),
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

/// Streams `len` bytes of `file` from its position: spans the page cache
/// holds as placeholder frames that the connection sends with `sendfile`
/// ([`FileSends`]), the rest in chunks read when hyper asks for them
/// ([`chunk::read`]); the access line is logged when the stream ends or is
/// dropped.
fn file_body(file: std::fs::File, len: u64, access: Access, sends: &Arc<FileSends>) -> Body {
    let at = match (&file).stream_position() {
        Ok(at) => at,
        Err(err) => {
            let stream = futures::stream::once(async move {
                drop(access);
                Err::<Frame<Bytes>, _>(err)
            });
            return StreamBody::new(stream).boxed_unsync();
        }
    };
    let sends = Arc::clone(sends);
    let stream = futures::stream::unfold(
        (Some(Arc::new(file)), at, at + len, access),
        move |(file, at, end, mut access)| {
            let sends = Arc::clone(&sends);
            async move {
                let file = file?;
                if at >= end {
                    return None;
                }
                let remaining = end - at;
                let span = usize::try_from(remaining).map_or(SPAN, |r| r.min(SPAN));
                if FileSends::enabled() && chunk::cached(&file, at, span) {
                    access.bytes += span as u64;
                    let frame = Frame::data(sends.frame(&file, at, span));
                    return Some((Ok(frame), (Some(file), at + span as u64, end, access)));
                }
                let want = usize::try_from(remaining).map_or(CHUNK, |r| r.min(CHUNK));
                match chunk::read(&file, Some(at), want).await {
                    Ok(buf) if buf.is_empty() => {
                        let err = io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "file shrank while being served",
                        );
                        Some((Err(err), (None, end, end, access)))
                    }
                    Ok(buf) => {
                        let n = buf.len() as u64;
                        access.bytes += n;
                        let frame = Frame::data(buf);
                        Some((Ok(frame), (Some(file), at + n, end, access)))
                    }
                    Err(err) => Some((Err(err), (None, end, end, access))),
                }
            }
        },
    );
    StreamBody::new(stream).boxed_unsync()
}

/// Relays a file being fetched ([`Relay::next`]); the access line is
/// logged when it ends or is dropped.
fn flight_body(relay: Relay, access: Access, sends: &Arc<FileSends>) -> Body {
    let sends = Arc::clone(sends);
    let stream = futures::stream::unfold(
        (relay, access, sends),
        |(mut relay, mut access, sends)| async move {
            match relay.next(&sends).await? {
                Ok(bytes) => {
                    access.bytes += bytes.len() as u64;
                    Some((Ok(Frame::data(bytes)), (relay, access, sends)))
                }
                Err(e) => Some((Err(io::Error::other(e)), (relay, access, sends))),
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
