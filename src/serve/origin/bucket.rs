//! Objects of a bucket.

use chrono::DateTime;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};

use crate::serve::http::{
    ByteRange, Validators, if_range_holds, not_modified, parse_range, settled,
};
use crate::serve::response::{Payload, Reply, common_headers, content_type, unsatisfiable};
use crate::store::s3::ObjectInfo;
use crate::store::{Bucket, StoreError};

/// Answers from a bucket: the key is the path (names starting with a dot
/// are never served); no directory listings. A GET is one request to the
/// bucket; a HEAD, a conditional or a ranged GET first asks for the
/// object's size and validators.
pub(crate) async fn respond_bucket(
    bucket: &Bucket,
    req: &Request<Incoming>,
    segments: &[String],
) -> Reply {
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
