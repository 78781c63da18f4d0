//! Origins: where served files come from, behind one trait.
//!
//! An [`Origin`] answers in two steps, so that the response builder
//! ([`super::response`]) can apply conditional requests, `HEAD` and byte
//! ranges the same way whatever the files live in: [`Origin::stat`] says
//! what a path is (a file with its size and validators, or a directory
//! listing, or an HTTP status such as 404), and [`Origin::open`] then opens
//! the bytes the builder chose to send. [`Origin::get`] does both at once
//! for a plain `GET`, which lets the bucket answer it with one request.
//!
//! - [`dir::DirOrigin`]: a local directory, with snapshot paths, symlink
//!   rules and listings.
//! - [`bucket::BucketOrigin`]: objects of a bucket, no listings.
//!
//! [`AnyOrigin`] is the one a server was started with.

pub(super) mod bucket;
pub(super) mod dir;

use std::ops::Range;

use hyper::StatusCode;
use hyper::header::HeaderMap;

use super::http::Validators;
use super::response::{self, Reply};
use crate::store::s3::ByteStream;
use bucket::BucketOrigin;
use dir::DirOrigin;

/// What an origin knows of a file before sending it.
#[derive(Debug, Clone)]
pub(super) struct Meta {
    /// Size of the whole file.
    pub(super) size: u64,
    pub(super) validators: Validators,
    /// Whether the file never changes under its name (`Cache-Control`).
    pub(super) immutable: bool,
}

/// What a path is, with the origin's `handle` to open a file by.
pub(super) enum Stat<H> {
    File(Meta, H),
    /// Entry names (directories with a trailing `/`), sorted.
    Listing(Vec<String>),
}

/// Bytes an origin opened, to stream from their first one.
pub(super) enum Content {
    /// Read in chunks, from the page cache or on the blocking pool (see `body.rs`).
    File(std::fs::File),
    Stream(ByteStream),
    /// A file being fetched, relayed as it is written and verified.
    Flight(super::flight::Relay),
}

/// An opened file: `content` starts at the range asked for; `meta` is what
/// the origin knew when opening it (a bucket tells it again with the body).
pub(super) struct Opened {
    pub(super) meta: Meta,
    pub(super) content: Content,
}

/// What a plain `GET` found.
pub(super) enum Got {
    File(Opened),
    Listing(Vec<String>),
}

/// A place files are served from. Errors are the HTTP status to answer
/// (404, 403, 500, 502); the origin logs what lies behind a 5xx.
#[async_trait::async_trait]
pub(super) trait Origin: Send + Sync {
    /// How [`Origin::open`] finds a file [`Origin::stat`] found: an open
    /// file, an object key.
    type Handle: Send;

    /// What `segments` (a decoded request path) names.
    async fn stat(&self, segments: &[String]) -> Result<Stat<Self::Handle>, StatusCode>;

    /// Opens `range` (or all) of a file [`Origin::stat`] found.
    async fn open(
        &self,
        segments: &[String],
        handle: Self::Handle,
        range: Option<Range<u64>>,
    ) -> Result<Opened, StatusCode>;

    /// A plain `GET`: stat, then open the whole file.
    async fn get(&self, segments: &[String]) -> Result<Got, StatusCode> {
        match self.stat(segments).await? {
            Stat::File(_, handle) => self.open(segments, handle, None).await.map(Got::File),
            Stat::Listing(entries) => Ok(Got::Listing(entries)),
        }
    }
}

/// The origin a server answers from, picked once at startup.
///
/// An enum rather than `Box<dyn Origin>`: each origin keeps its own
/// [`Origin::Handle`] type, which a trait object could not name, and the
/// builder is compiled for each. A new origin is a new variant.
#[derive(Debug)]
pub(super) enum AnyOrigin {
    Dir(DirOrigin),
    Bucket(BucketOrigin),
}

impl AnyOrigin {
    /// The reply to a `method` request for the raw `path`.
    pub(super) async fn respond(
        &self,
        method: &hyper::Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Reply {
        match self {
            AnyOrigin::Dir(origin) => response::respond(origin, method, path, headers).await,
            AnyOrigin::Bucket(origin) => response::respond(origin, method, path, headers).await,
        }
    }
}

impl AnyOrigin {
    /// Adds what the origin counted (on-demand fetches) to `stats`.
    pub(super) fn add_stats(&self, stats: &mut super::ServeStats) {
        let AnyOrigin::Dir(dir) = self else { return };
        let Some(od) = dir.on_demand() else { return };
        let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        stats.fetched_on_demand = get(&od.counters.fetched);
        stats.fetched_on_demand_bytes = get(&od.counters.fetched_bytes);
        stats.verification_failures = get(&od.counters.mismatches);
        stats.upstream_errors = get(&od.counters.upstream_errors);
    }
}

impl std::fmt::Display for AnyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnyOrigin::Dir(dir) => write!(f, "{}", dir.root().display()),
            AnyOrigin::Bucket(bucket) => write!(f, "{}", bucket.bucket().url()),
        }
    }
}
