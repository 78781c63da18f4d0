//! Objects of a bucket: a publish endpoint in object storage.
//!
//! The key is the request path; names starting with a dot are never
//! served, and there are no directory listings. A plain `GET` is one
//! request to the bucket; a `HEAD`, a conditional or a ranged `GET` first
//! asks for the object's size and validators ([`Origin::stat`]).

use std::ops::Range;

use chrono::DateTime;
use hyper::StatusCode;

use super::{Content, Got, Meta, Opened, Origin, Stat};
use crate::serve::http::{Validators, settled};
use crate::serve::paths::is_immutable;
use crate::store::s3::ObjectInfo;
use crate::store::{Bucket, StoreError};

/// Serves the objects under a bucket location.
#[derive(Debug)]
pub(in crate::serve) struct BucketOrigin {
    bucket: Bucket,
}

impl BucketOrigin {
    pub(in crate::serve) fn new(bucket: Bucket) -> BucketOrigin {
        BucketOrigin { bucket }
    }

    pub(in crate::serve) fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// Opens `range` (or all) of the object `segments` name, in one request.
    async fn read(
        &self,
        segments: &[String],
        range: Option<Range<u64>>,
    ) -> Result<Opened, StatusCode> {
        let key = key(segments)?;
        match self.bucket.read(&key, range).await {
            Ok(Some((info, body))) => Ok(Opened {
                meta: meta(segments, &info),
                content: Content::Stream(body),
            }),
            Ok(None) => Err(StatusCode::NOT_FOUND),
            Err(err) => Err(failed(&key, &err)),
        }
    }
}

#[async_trait::async_trait]
impl Origin for BucketOrigin {
    /// Nothing: [`Origin::open`] asks for the object by its path again.
    type Handle = ();

    async fn stat(&self, segments: &[String]) -> Result<Stat<()>, StatusCode> {
        let key = key(segments)?;
        match self.bucket.stat(&key).await {
            Ok(Some(info)) => Ok(Stat::File(meta(segments, &info), ())),
            Ok(None) => Err(StatusCode::NOT_FOUND),
            Err(err) => Err(failed(&key, &err)),
        }
    }

    async fn open(
        &self,
        segments: &[String],
        (): (),
        range: Option<Range<u64>>,
    ) -> Result<Opened, StatusCode> {
        self.read(segments, range).await
    }

    /// One request: the object's size and validators come with its body.
    async fn get(&self, segments: &[String]) -> Result<Got, StatusCode> {
        self.read(segments, None).await.map(Got::File)
    }
}

/// The object key of a request path; 404 for the root and dot names.
fn key(segments: &[String]) -> Result<String, StatusCode> {
    if segments.is_empty() || segments.iter().any(|s| s.starts_with('.')) {
        return Err(StatusCode::NOT_FOUND);
    }
    Ok(segments.join("/"))
}

/// Logs a storage failure; the client gets a 502.
fn failed(key: &str, err: &StoreError) -> StatusCode {
    tracing::warn!(key = %key, error = %err, "object storage failed");
    StatusCode::BAD_GATEWAY
}

fn meta(segments: &[String], info: &ObjectInfo) -> Meta {
    Meta {
        size: info.size,
        validators: object_validators(info),
        immutable: is_immutable(segments),
    }
}

/// The object's `ETag` (quoted if the store did not), or one from size and
/// date; `Last-Modified` once the date has settled.
pub(in crate::serve) fn object_validators(info: &ObjectInfo) -> Validators {
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
