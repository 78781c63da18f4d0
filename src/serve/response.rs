//! Replies: headers about a file, bodies streamed with the access log.

use std::fs::Metadata;
use std::io::{self, Seek as _, SeekFrom};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Empty, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Response, StatusCode};
use tokio::io::AsyncReadExt as _;

use super::http::{
    ByteRange, Validators, format_http_date, if_range_holds, not_modified, parse_range,
};
use super::origin::dir::validators;
use crate::store::s3::ByteStream;

/// Size of one body chunk read from a file.
const CHUNK: usize = 128 * 1024;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub(super) const REVALIDATE: &str = "no-cache";
const TEXT: &str = "text/plain; charset=utf-8";

pub(super) type Body = UnsyncBoxBody<Bytes, io::Error>;

/// The access-log line, emitted when dropped: after the last body byte was
/// sent, or when the client went away mid-body (then `bytes` is what was sent).
pub(super) struct Access {
    pub(crate) remote: SocketAddr,
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) bytes: u64,
    pub(crate) start: Instant,
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
pub(super) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) payload: Payload,
}

pub(super) enum Payload {
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
    pub(crate) fn new(status: StatusCode, payload: Payload) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            payload,
        }
    }

    pub(crate) fn header(mut self, name: HeaderName, value: &str) -> Reply {
        // Every value set here is ASCII built by this module.
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(name, value);
        }
        self
    }

    pub(crate) fn error(status: StatusCode) -> Reply {
        let text = format!(
            "{} {}\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
        Reply::new(status, Payload::Bytes(Bytes::from(text))).header(header::CONTENT_TYPE, TEXT)
    }
}
/// Applies HEAD, sets `Content-Length`, and hands the access log to the body.
pub(super) fn finish(reply: Reply, head: bool, mut access: Access) -> Response<Body> {
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

/// 416 for a range past the end of a `len`-byte file.
pub(super) fn unsatisfiable(common: HeaderMap, len: u64) -> Reply {
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
pub(super) fn common_headers(segments: &[String], validators: &Validators) -> HeaderMap {
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

pub(super) fn serve_file(
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

fn cache_control(segments: &[String]) -> &'static str {
    let pool = segments.iter().rev().skip(1).any(|s| s == "pool");
    let by_hash = segments.iter().rev().skip(1).any(|s| s == "by-hash");
    if pool || by_hash {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

pub(super) fn content_type(name: &str) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
