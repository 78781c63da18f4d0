//! S3-compatible object storage (AWS S3, Ceph RGW, MinIO, SeaweedFS) through
//! `object_store`: the blob store's second backend, and the client of
//! publish endpoints and `serve` when they live in a bucket.
//!
//! A location is `s3://bucket/prefix`. Connection settings come from the
//! standard `AWS_*` variables (`AWS_ENDPOINT_URL`, `AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_ALLOW_HTTP` for a local server); requests are path-style unless
//! `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`.
//!
//! The library's callers are synchronous (worker threads) or run on their
//! own runtime; every request here runs on one process-wide I/O runtime, so
//! either kind can wait for it. Every HTTP request is counted
//! ([`request_count`]): the benchmark reports requests per step.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::client::{
    ClientOptions, HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse,
    HttpService,
};
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::AsyncReadExt;

use super::StoreError;

/// Files up to this size are uploaded with one PUT; larger ones in parts.
const SINGLE_PUT_MAX: u64 = 16 << 20;
/// Part size of multipart uploads.
const PART_SIZE: usize = 8 << 20;
/// Parts of one upload in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// HTTP requests made to object storage by this process so far.
pub fn request_count() -> u64 {
    REQUESTS.load(Ordering::Relaxed)
}

/// `s3://bucket/prefix`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// Key prefix inside it, without leading or trailing `/` (may be empty).
    pub prefix: String,
}

impl S3Url {
    /// Parses `s3://bucket[/prefix]`; `None` when `s` is not an `s3://` URL.
    pub fn parse(s: &str) -> Option<Result<S3Url, StoreError>> {
        let rest = s.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bad = || StoreError::BadUrl {
            url: s.to_owned(),
            reason: "expected `s3://BUCKET[/PREFIX]` with a bucket name of lowercase letters, digits, `.` and `-`, and a prefix without `.`, `..` or empty parts",
        };
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        let parts: Vec<&str> = prefix.trim_end_matches('/').split('/').collect();
        let prefix_ok = prefix.is_empty()
            || parts.iter().all(|p| {
                !p.is_empty()
                    && *p != "."
                    && *p != ".."
                    && !p.bytes().any(|b| b.is_ascii_control() || b == b'\\')
            });
        if !bucket_ok || !prefix_ok {
            return Some(Err(bad()));
        }
        Some(Ok(S3Url {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_end_matches('/').to_owned(),
        }))
    }

    /// This location with `rel` appended to its prefix.
    pub fn join(&self, rel: &str) -> S3Url {
        let rel = rel.trim_matches('/');
        S3Url {
            bucket: self.bucket.clone(),
            prefix: match (self.prefix.is_empty(), rel.is_empty()) {
                (_, true) => self.prefix.clone(),
                (true, false) => rel.to_owned(),
                (false, false) => format!("{}/{rel}", self.prefix),
            },
        }
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// Runs `fut` on the process's runtime and waits ([`crate::runtime::block_on`]).
pub(crate) fn block_on<T: Send + 'static>(
    fut: impl Future<Output = T> + Send + 'static,
) -> Result<T, StoreError> {
    crate::runtime::block_on(fut).map_err(|e| StoreError::Runtime(e.0))
}

/// An HTTP client that counts its requests.
#[derive(Debug)]
struct Counting(reqwest::Client);

#[async_trait::async_trait]
impl HttpService for Counting {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        self.0.call(req).await
    }
}

#[derive(Debug)]
struct CountingConnector;

impl HttpConnector for CountingConnector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .read_timeout(std::time::Duration::from_secs(60))
            .pool_idle_timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(HttpError::new(HttpErrorKind::Unknown, e)),
            })?;
        Ok(HttpClient::new(Counting(client)))
    }
}

/// A stream of an object's bytes.
pub type ByteStream = futures::stream::BoxStream<'static, Result<Bytes, StoreError>>;

/// What object storage tells of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Size of the whole object.
    pub size: u64,
    /// Its entity tag, if the server gave one.
    pub e_tag: Option<String>,
    /// When it was written.
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

impl ObjectInfo {
    fn of(m: &object_store::ObjectMeta) -> ObjectInfo {
        ObjectInfo {
            size: m.size,
            e_tag: m.e_tag.clone(),
            last_modified: m.last_modified,
        }
    }
}

/// A bucket and a key prefix: what every object-storage user here holds.
#[derive(Clone, Debug)]
pub struct Bucket {
    store: Arc<AmazonS3>,
    url: S3Url,
}

/// An object found by a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Key relative to the listed location.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was written.
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

fn s3_err(
    action: &'static str,
    url: &S3Url,
    key: &str,
) -> impl FnOnce(object_store::Error) -> StoreError {
    let at = url.join(key).to_string();
    move |source| StoreError::S3 {
        action,
        url: at,
        source: Box::new(source),
    }
}

impl Bucket {
    /// A client for `url`, configured from the `AWS_*` environment.
    pub fn open(url: &S3Url) -> Result<Bucket, StoreError> {
        Bucket::open_with(url, &[])
    }

    /// A client for `url` configured from the `AWS_*` environment, then
    /// from `vars` (`AWS_*` names and values; tests and tools that must not
    /// touch the process environment).
    pub fn open_with(url: &S3Url, vars: &[(&str, String)]) -> Result<Bucket, StoreError> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&url.bucket)
            .with_http_connector(CountingConnector);
        if std::env::var_os("AWS_VIRTUAL_HOSTED_STYLE_REQUEST").is_none() {
            builder = builder.with_config(AmazonS3ConfigKey::VirtualHostedStyleRequest, "false");
        }
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            builder = builder.with_config(AmazonS3ConfigKey::Region, "us-east-1");
        }
        for (k, v) in vars {
            if let Ok(key) = k.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(key, v);
            }
        }
        let store = builder.build().map_err(|source| StoreError::S3 {
            action: "configure a client for",
            url: url.to_string(),
            source: Box::new(source),
        })?;
        Ok(Bucket {
            store: Arc::new(store),
            url: url.clone(),
        })
    }

    /// The location this bucket handle points at.
    pub fn url(&self) -> &S3Url {
        &self.url
    }

    /// A handle on `rel` below this one (same client and connections).
    pub fn sub(&self, rel: &str) -> Bucket {
        Bucket {
            store: Arc::clone(&self.store),
            url: self.url.join(rel),
        }
    }

    /// Whether `other` is in the same bucket as `self`: a server-side copy
    /// between them is possible.
    pub fn same_bucket(&self, other: &Bucket) -> bool {
        self.url.bucket == other.url.bucket
    }

    /// The full key of `rel`.
    fn path(&self, rel: &str) -> Result<ObjPath, StoreError> {
        let full = self.url.join(rel).prefix;
        ObjPath::parse(&full).map_err(|_| StoreError::BadUrl {
            url: self.url.join(rel).to_string(),
            reason: "not a valid object key",
        })
    }

    /// The size of `rel`, `None` when it does not exist.
    pub async fn head(&self, rel: &str) -> Result<Option<u64>, StoreError> {
        let path = self.path(rel)?;
        match self.store.head(&path).await {
            Ok(m) => Ok(Some(m.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(s3_err("inspect", &self.url, rel)(e)),
        }
    }

    /// The content of `rel`, `None` when it does not exist.
    pub async fn get(&self, rel: &str) -> Result<Option<Bytes>, StoreError> {
        let path = self.path(rel)?;
        let got = match self.store.get(&path).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(s3_err("read", &self.url, rel)(e)),
        };
        got.bytes()
            .await
            .map(Some)
            .map_err(s3_err("read", &self.url, rel))
    }

    /// What a HEAD of `rel` tells; `None` when it does not exist.
    pub async fn stat(&self, rel: &str) -> Result<Option<ObjectInfo>, StoreError> {
        let path = self.path(rel)?;
        match self.store.head(&path).await {
            Ok(m) => Ok(Some(ObjectInfo::of(&m))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(s3_err("inspect", &self.url, rel)(e)),
        }
    }

    /// `rel` (or the byte `range` of it) as a stream of chunks, with what
    /// the response told of the whole object; `None` when it does not exist.
    pub async fn read(
        &self,
        rel: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<Option<(ObjectInfo, ByteStream)>, StoreError> {
        let path = self.path(rel)?;
        let opts = object_store::GetOptions {
            range: range.map(object_store::GetRange::Bounded),
            ..Default::default()
        };
        let got = match self.store.get_opts(&path, opts).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(s3_err("read", &self.url, rel)(e)),
        };
        let info = ObjectInfo::of(&got.meta);
        let url = self.url.clone();
        let rel = rel.to_owned();
        let stream = got
            .into_stream()
            .map_err(move |e| s3_err("read", &url, &rel)(e))
            .boxed();
        Ok(Some((info, stream)))
    }

    /// Downloads `rel` into the new file `dest`; `false` when it does not exist.
    pub async fn get_to_file(&self, rel: &str, dest: &Path) -> Result<bool, StoreError> {
        use tokio::io::AsyncWriteExt;
        let Some((_, mut stream)) = self.read(rel, None).await? else {
            return Ok(false);
        };
        let io = |action| {
            let path = dest.to_owned();
            move |source| StoreError::Io {
                action,
                path,
                source,
            }
        };
        let mut out = tokio::fs::File::create_new(dest)
            .await
            .map_err(io("create"))?;
        while let Some(chunk) = stream.next().await {
            out.write_all(&chunk?).await.map_err(io("write"))?;
        }
        out.flush().await.map_err(io("write"))?;
        Ok(true)
    }

    /// Writes `data` as `rel` (replacing what was there).
    pub async fn put(&self, rel: &str, data: Bytes) -> Result<(), StoreError> {
        let path = self.path(rel)?;
        self.store
            .put(&path, PutPayload::from_bytes(data))
            .await
            .map(drop)
            .map_err(s3_err("write", &self.url, rel))
    }

    /// Uploads the local file `src` as `rel`: one PUT when small, else a
    /// multipart upload with a few parts in flight (memory stays bounded).
    pub async fn put_file(&self, rel: &str, src: &Path) -> Result<(), StoreError> {
        let io = |action| {
            let path = src.to_owned();
            move |source| StoreError::Io {
                action,
                path,
                source,
            }
        };
        let size = tokio::fs::metadata(src).await.map_err(io("inspect"))?.len();
        if size <= SINGLE_PUT_MAX {
            let data = tokio::fs::read(src).await.map_err(io("read"))?;
            return self.put(rel, Bytes::from(data)).await;
        }
        let path = self.path(rel)?;
        let fail = s3_err("upload", &self.url, rel);
        let upload = match self.store.put_multipart(&path).await {
            Ok(u) => u,
            Err(e) => return Err(fail(e)),
        };
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut file = tokio::fs::File::open(src).await.map_err(io("open"))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(io("read")(e));
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(fail(e));
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await.map(drop).map_err(fail)
    }

    /// Copies `from` (below `src`, which must be in the same bucket) to
    /// `rel`, server-side.
    pub async fn copy_from(&self, src: &Bucket, from: &str, rel: &str) -> Result<(), StoreError> {
        let (from_path, to_path) = (src.path(from)?, self.path(rel)?);
        self.store
            .copy(&from_path, &to_path)
            .await
            .map_err(s3_err("copy into", &self.url, rel))
    }

    /// Every object below `rel` (one listing, paged by the server), with
    /// keys relative to `rel`.
    pub async fn list(&self, rel: &str) -> Result<Vec<Listed>, StoreError> {
        self.list_split(rel, &[], 1).await
    }

    /// Every object below `rel`, as [`Bucket::list`], listed as ranges of
    /// keys split at `splits` (keys relative to `rel`, sorted), `concurrency`
    /// ranges at a time. A listing is paged a thousand keys a request, so
    /// one of 60,000 objects is 60 requests in a row; split in 16 ranges it
    /// is 4 in a row. Range `k` runs from just after split `k - 1` (with
    /// the server's `start-after`) to split `k` inclusive, the last to the
    /// end, so every key falls in exactly one.
    pub async fn list_split(
        &self,
        rel: &str,
        splits: &[String],
        concurrency: usize,
    ) -> Result<Vec<Listed>, StoreError> {
        let base = self.path(rel)?;
        let base_str = base.as_ref().to_owned();
        let mut bounds: Vec<Option<ObjPath>> = vec![None];
        for split in splits {
            bounds.push(Some(self.path(&format!("{rel}/{split}"))?));
        }
        bounds.push(None);
        let ranges: Vec<(Option<ObjPath>, Option<ObjPath>)> = bounds
            .windows(2)
            .map(|w| (w[0].clone(), w[1].clone()))
            .collect();
        let (base, base_str) = (&base, base_str.as_str());
        let parts: Vec<Vec<Listed>> =
            futures::stream::iter(ranges.into_iter().map(|(after, upto)| async move {
                let mut stream = match &after {
                    None => self.store.list(Some(base)),
                    Some(after) => self.store.list_with_offset(Some(base), after),
                };
                let mut out = Vec::new();
                while let Some(meta) = stream.next().await {
                    let meta = meta.map_err(s3_err("list", &self.url, rel))?;
                    if upto
                        .as_ref()
                        .is_some_and(|upto| meta.location.as_ref() > upto.as_ref())
                    {
                        break;
                    }
                    let key = meta.location.as_ref();
                    let key = if base_str.is_empty() {
                        key
                    } else {
                        key.strip_prefix(base_str)
                            .and_then(|k| k.strip_prefix('/'))
                            .unwrap_or(key)
                    };
                    out.push(Listed {
                        key: key.to_owned(),
                        size: meta.size,
                        last_modified: meta.last_modified,
                    });
                }
                Ok::<_, StoreError>(out)
            }))
            .buffered(concurrency.max(1))
            .try_collect()
            .await?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Removes `rel`; a missing object is not an error.
    pub async fn delete(&self, rel: &str) -> Result<(), StoreError> {
        let path = self.path(rel)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(s3_err("delete", &self.url, rel)(e)),
        }
    }
}

/// Blobs in a bucket: `<prefix>/sha256/ab/<hex>`, downloads staged in a
/// local directory (hashed there, then uploaded).
#[derive(Clone, Debug)]
pub struct S3Store {
    bucket: Bucket,
    staging: PathBuf,
}

static STAGING_COUNTER: AtomicU64 = AtomicU64::new(0);

fn blob_key(digest: &crate::digest::Sha256) -> String {
    let hex = digest.to_hex();
    format!("sha256/{}/{hex}", &hex[..2])
}

impl S3Store {
    /// Opens the store at `url`, staging downloads in `staging`.
    pub fn open(url: &S3Url, staging: &Path) -> Result<S3Store, StoreError> {
        std::fs::create_dir_all(staging).map_err(|source| StoreError::Io {
            action: "create directory",
            path: staging.to_owned(),
            source,
        })?;
        Ok(S3Store {
            bucket: Bucket::open(url)?,
            staging: staging.to_owned(),
        })
    }

    /// The bucket holding the blobs.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// The key of a blob relative to the store's location.
    pub fn key(digest: &crate::digest::Sha256) -> String {
        blob_key(digest)
    }

    pub(super) fn size(&self, digest: &crate::digest::Sha256) -> Result<Option<u64>, StoreError> {
        let b = self.bucket.clone();
        let key = blob_key(digest);
        block_on(async move { b.head(&key).await })?
    }

    pub(super) fn staging_path(&self) -> PathBuf {
        let n = STAGING_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.staging
            .join(format!("{}-{n}.part", std::process::id()))
    }

    pub(super) fn commit(
        &self,
        staged: &Path,
        digest: &crate::digest::Sha256,
    ) -> Result<(), StoreError> {
        let b = self.bucket.clone();
        let key = blob_key(digest);
        let src = staged.to_owned();
        block_on(async move { b.put_file(&key, &src).await })??;
        let _ = std::fs::remove_file(staged);
        Ok(())
    }

    pub(super) fn put_bytes(
        &self,
        digest: &crate::digest::Sha256,
        data: &[u8],
    ) -> Result<(), StoreError> {
        let b = self.bucket.clone();
        let key = blob_key(digest);
        let data = Bytes::copy_from_slice(data);
        block_on(async move { b.put(&key, data).await })?
    }

    pub(super) fn fetch_to(
        &self,
        digest: &crate::digest::Sha256,
        dest: &Path,
    ) -> Result<(), StoreError> {
        let b = self.bucket.clone();
        let key = blob_key(digest);
        let dest = dest.to_owned();
        if block_on(async move { b.get_to_file(&key, &dest).await })?? {
            Ok(())
        } else {
            Err(StoreError::Missing(*digest))
        }
    }

    pub(super) fn list(&self) -> Result<Vec<crate::digest::Sha256>, StoreError> {
        Ok(self.list_sized()?.into_iter().map(|(d, _)| d).collect())
    }

    pub(super) fn list_sized(&self) -> Result<Vec<(crate::digest::Sha256, u64)>, StoreError> {
        let b = self.bucket.clone();
        let listed = block_on(async move { b.list("sha256").await })??;
        Ok(listed
            .iter()
            .filter_map(|l| Some((l.key.rsplit('/').next()?.parse().ok()?, l.size)))
            .collect())
    }

    pub(super) fn delete(&self, digest: &crate::digest::Sha256) -> Result<(), StoreError> {
        let b = self.bucket.clone();
        let key = blob_key(digest);
        block_on(async move { b.delete(&key).await })?
    }

    pub(super) fn clean_staging(&self) -> Result<u64, StoreError> {
        let mut n = 0;
        let Ok(entries) = std::fs::read_dir(&self.staging) else {
            return Ok(0);
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().ends_with(".part")
                && std::fs::remove_file(e.path()).is_ok()
            {
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_s3_urls() {
        let u = S3Url::parse("s3://bucket/a/b/")
            .expect("s3")
            .expect("valid");
        assert_eq!(u.bucket, "bucket");
        assert_eq!(u.prefix, "a/b");
        assert_eq!(u.to_string(), "s3://bucket/a/b");
        assert_eq!(u.join("pool/x").to_string(), "s3://bucket/a/b/pool/x");
        let root = S3Url::parse("s3://my-bucket").expect("s3").expect("valid");
        assert_eq!(root.prefix, "");
        assert_eq!(root.join("x").prefix, "x");
        assert!(S3Url::parse("/var/lib/x").is_none());
        for bad in [
            "s3://",
            "s3://Bucket/x",
            "s3://b/../x",
            "s3://bucket/a//b",
            "s3://bucket/./a",
        ] {
            assert!(
                matches!(S3Url::parse(bad), Some(Err(StoreError::BadUrl { .. }))),
                "{bad}"
            );
        }
    }
}
