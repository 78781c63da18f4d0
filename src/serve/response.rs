//! The one response builder: every origin's files are answered here.
//!
//! [`respond`] checks the method and path, asks the origin what the path is
//! ([`Origin::stat`]), decides what to send from the request headers and
//! that answer alone ([`plan`]: 304, 416, the whole file or one range),
//! and only then opens the bytes ([`Origin::open`]). A plain `GET` skips the
//! separate stat ([`Origin::get`]). `HEAD` is answered from the stat, never
//! opening a body. Directory listings come from [`super::listing`].

use std::ops::Range;

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, StatusCode};

use super::http::{
    ByteRange, format_http_date, if_range_holds, not_modified, parse_range, precondition_fails,
};
use super::listing::listing;
use super::origin::{Content, Got, Meta, Opened, Origin, Stat};
use super::paths::parse_path;

/// `Cache-Control` of files that never change under their name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else: clients revalidate every time.
pub(super) const REVALIDATE: &str = "no-cache";
const TEXT: &str = "text/plain; charset=utf-8";

/// What to send, before the method (HEAD) and logging are applied.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) payload: Payload,
}

pub(super) enum Payload {
    /// No body and no `Content-Length` (304).
    None,
    Bytes(Bytes),
    /// `len` bytes of opened content.
    Content {
        content: Content,
        len: u64,
    },
    /// The answer to a `HEAD`: the `Content-Length` a `GET` would send.
    Head {
        len: u64,
    },
}

impl Reply {
    pub(super) fn new(status: StatusCode, payload: Payload) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            payload,
        }
    }

    pub(super) fn header(mut self, name: HeaderName, value: &str) -> Reply {
        // Every value set here is ASCII built by this module.
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(name, value);
        }
        self
    }

    pub(super) fn error(status: StatusCode) -> Reply {
        let text = format!(
            "{} {}\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
        Reply::new(status, Payload::Bytes(Bytes::from(text))).header(header::CONTENT_TYPE, TEXT)
    }
}

/// The reply to a `method` request for the raw `path` from `origin`.
pub(super) async fn respond<O: Origin>(
    origin: &O,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Reply {
    if method != Method::GET && method != Method::HEAD {
        return Reply::error(StatusCode::METHOD_NOT_ALLOWED).header(header::ALLOW, "GET, HEAD");
    }
    let Some(segments) = parse_path(path) else {
        return Reply::error(StatusCode::BAD_REQUEST);
    };
    let head = method == Method::HEAD;
    let conditional = [
        header::RANGE,
        header::IF_MATCH,
        header::IF_UNMODIFIED_SINCE,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
    ]
    .iter()
    .any(|h| headers.contains_key(h));
    if !head && !conditional {
        // Nothing to decide before the body: the origin may stat and open
        // at once (one request to a bucket).
        return match origin.get(&segments).await {
            Ok(Got::File(opened)) => sending(&segments, opened, None),
            Ok(Got::Listing(entries)) => listing(&segments, &entries),
            Err(status) => Reply::error(status),
        };
    }
    let (meta, handle) = match origin.stat(&segments).await {
        Ok(Stat::File(meta, handle)) => (meta, handle),
        Ok(Stat::Listing(entries)) => return listing(&segments, &entries),
        Err(status) => return Reply::error(status),
    };
    let range = match plan(headers, &meta) {
        Plan::PreconditionFailed => return Reply::error(StatusCode::PRECONDITION_FAILED),
        Plan::NotModified => {
            return Reply {
                headers: common_headers(&meta),
                ..Reply::new(StatusCode::NOT_MODIFIED, Payload::None)
            };
        }
        Plan::Unsatisfiable => return unsatisfiable(common_headers(&meta), meta.size),
        Plan::Send(range) => range,
    };
    if head {
        let len = range.as_ref().map_or(meta.size, |r| r.end - r.start);
        let partial = range.map(|r| (r, meta.size));
        return file_reply(&segments, &meta, partial, Payload::Head { len });
    }
    match origin.open(&segments, handle, range.clone()).await {
        Ok(opened) => sending(&segments, opened, range.map(|r| (r, meta.size))),
        Err(status) => Reply::error(status),
    }
}

/// What to answer about a file, decided before any byte of it is read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// 412: `If-Match` or `If-Unmodified-Since` failed.
    PreconditionFailed,
    /// 304: the client's copy is current.
    NotModified,
    /// 416: the range starts past the end.
    Unsatisfiable,
    /// 200 with the whole file (`None`), or 206 with one range.
    Send(Option<Range<u64>>),
}

/// Applies `If-Match`/`If-Unmodified-Since`, `If-None-Match`/
/// `If-Modified-Since`, then `Range` and `If-Range` (RFC 9110 §13.2.2's
/// order), to a file the origin described as `meta`. `HEAD` is planned as
/// `GET` is, ranges included.
pub(super) fn plan(headers: &HeaderMap, meta: &Meta) -> Plan {
    if precondition_fails(headers, &meta.validators) {
        return Plan::PreconditionFailed;
    }
    if not_modified(headers, &meta.validators) {
        return Plan::NotModified;
    }
    match headers.get(header::RANGE).map(HeaderValue::to_str) {
        Some(Ok(value)) if if_range_holds(headers, &meta.validators) => {
            match parse_range(value, meta.size) {
                ByteRange::Full => Plan::Send(None),
                ByteRange::Part(first, last) => Plan::Send(Some(first..last + 1)),
                ByteRange::Unsatisfiable => Plan::Unsatisfiable,
            }
        }
        _ => Plan::Send(None),
    }
}

/// 200 or 206 with the opened content; `partial` is the range sent and
/// the size of the whole file.
fn sending(segments: &[String], opened: Opened, partial: Option<(Range<u64>, u64)>) -> Reply {
    let len = partial
        .as_ref()
        .map_or(opened.meta.size, |(r, _)| r.end - r.start);
    let payload = Payload::Content {
        content: opened.content,
        len,
    };
    file_reply(segments, &opened.meta, partial, payload)
}

/// A 200 or 206 about a file: validators, caching, type, range.
fn file_reply(
    segments: &[String],
    meta: &Meta,
    partial: Option<(Range<u64>, u64)>,
    payload: Payload,
) -> Reply {
    let status = match partial {
        Some(_) => StatusCode::PARTIAL_CONTENT,
        None => StatusCode::OK,
    };
    let name = segments.last().map_or("", String::as_str);
    let mut reply = Reply {
        headers: common_headers(meta),
        ..Reply::new(status, payload)
    }
    .header(header::CONTENT_TYPE, content_type(name));
    if let Some((range, total)) = partial {
        let (first, last) = (range.start, range.end - 1);
        reply = reply.header(
            header::CONTENT_RANGE,
            &format!("bytes {first}-{last}/{total}"),
        );
    }
    reply
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
fn common_headers(meta: &Meta) -> HeaderMap {
    let mut common = HeaderMap::new();
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            common.insert(name, value);
        }
    };
    set(header::ETAG, &meta.validators.etag);
    if let Some(modified) = meta.validators.last_modified {
        set(header::LAST_MODIFIED, &format_http_date(modified));
    }
    let cache = if meta.immutable {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    set(header::CACHE_CONTROL, cache);
    set(header::ACCEPT_RANGES, "bytes");
    common
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

#[cfg(test)]
mod tests;
