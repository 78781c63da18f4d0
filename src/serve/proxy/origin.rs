//! A proxy as an [`Origin`]: what a path below the upstream is (a cached
//! blob, a flight being verified, or a pass-through), decided by the kind
//! of file (see the module doc of `super`), then answered by the shared
//! response builder (conditional requests, ranges, `HEAD`).

use std::io::{Seek as _, SeekFrom};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt as _;
use hyper::header::{self, HeaderMap};
use hyper::{Method, StatusCode};

use super::verify::{self, IndexKind};
use super::{Counters, Proxy};
use crate::db::{ProxyCached, ProxyEntry};
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::fetch::{Compression, FetchError, Small, Validators};
use crate::pgp::{VerifyOptions, verify_clearsigned, verify_detached};
use crate::serve::flight::{self, Relay, error_chain, lock};
use crate::serve::origin::{Content, Meta, Opened, Origin, Stat};
use crate::serve::paths::is_immutable;
use crate::serve::response::{self, Reply};
use crate::store::s3::ByteStream;

/// Largest Release document fetched (they are not authenticated yet).
const MAX_RELEASE_BYTES: u64 = 64 << 20;
/// Largest detached signature fetched.
const MAX_SIGNATURE_BYTES: u64 = 1 << 20;
/// Largest file passed through uncached.
const MAX_PASSTHROUGH_BYTES: u64 = 16 << 30;

/// The reply to a `method` request for `rest` (a raw path below the
/// upstream) through `proxy`.
pub(super) async fn respond(
    proxy: &Arc<Proxy>,
    method: &Method,
    rest: &str,
    headers: &HeaderMap,
) -> Reply {
    let origin = ProxyOrigin {
        proxy,
        stale: AtomicBool::new(false),
    };
    let reply = response::respond(&origin, method, rest, headers).await;
    if origin.stale.load(Ordering::Relaxed) {
        reply.header(header::WARNING, "110 - \"Response is Stale\"")
    } else {
        reply
    }
}

struct ProxyOrigin<'a> {
    proxy: &'a Arc<Proxy>,
    /// Set when a cached copy answers because upstream failed.
    stale: AtomicBool,
}

/// What [`ProxyOrigin::open`] opens.
pub(super) struct Handle {
    pub(super) meta: Meta,
    pub(super) body: Body,
}

pub(super) enum Body {
    /// A blob of the store, open.
    Blob(std::fs::File),
    /// A file being fetched and verified.
    Flight(Arc<flight::Flight>),
    /// A file no verified index names, relayed as it arrives.
    Through(ByteStream),
}

/// What a file is to the proxy.
pub(super) enum Kind {
    /// A verified index, and how to read the pool files it names.
    Index(Option<(IndexKind, Compression)>),
    Pool,
}

#[async_trait::async_trait]
impl Origin for ProxyOrigin<'_> {
    type Handle = Handle;

    async fn stat(&self, segments: &[String]) -> Result<Stat<Handle>, StatusCode> {
        let Some(last) = segments.last() else {
            return Err(StatusCode::NOT_FOUND);
        };
        let path = segments.join("/");
        let immutable = is_immutable(segments);
        let in_dists = segments.first().is_some_and(|s| s == "dists");
        let handle = if in_dists
            && segments.len() >= 3
            && matches!(last.as_str(), "InRelease" | "Release" | "Release.gpg")
        {
            self.release(&path, last).await?
        } else if in_dists {
            self.index(path, immutable).await?
        } else {
            self.pool(path).await?
        };
        Ok(Stat::File(handle.meta.clone(), handle))
    }

    async fn open(
        &self,
        segments: &[String],
        handle: Handle,
        range: Option<Range<u64>>,
    ) -> Result<Opened, StatusCode> {
        let content = match handle.body {
            Body::Blob(mut file) => {
                let start = range.map_or(0, |r| r.start);
                if start > 0
                    && let Err(err) = file.seek(SeekFrom::Start(start))
                {
                    tracing::warn!(path = %segments.join("/"), error = %err, "proxy: cannot seek");
                    return Err(StatusCode::INTERNAL_SERVER_ERROR);
                }
                Content::File(file)
            }
            Body::Flight(flight) => Content::Flight(Relay::new(flight, range)),
            Body::Through(stream) => Content::Stream(match range {
                Some(r) => slice(stream, r),
                None => stream,
            }),
        };
        Ok(Opened {
            meta: handle.meta,
            content,
        })
    }
}

impl ProxyOrigin<'_> {
    /// `InRelease`, `Release` or `Release.gpg`: revalidated with upstream,
    /// verified when new, the cached copy when upstream fails.
    async fn release(&self, path: &str, name: &str) -> Result<Handle, StatusCode> {
        let p = self.proxy;
        let suite = path.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
        // `Release.gpg` is revalidated and verified with its `Release`.
        let main = if name == "InRelease" {
            path.to_owned()
        } else {
            format!("{suite}/Release")
        };
        let cached = blocking(p, {
            let main = main.clone();
            move |p| p.cached_blob(&main).map(|c| c.map(|(_, c)| c))
        })
        .await?;
        let validators = cached.as_ref().map(|c| Validators {
            etag: c.etag.clone(),
            last_modified: c.last_modified.clone(),
        });
        let url = p.url(&main)?;
        let fetched = p
            .fetcher
            .get_small(&url, validators.as_ref(), MAX_RELEASE_BYTES)
            .await;
        let fresh = match fetched {
            Ok(Small::NotModified) => return self.cached(path, false).await,
            Ok(Small::NotFound) => return Err(StatusCode::NOT_FOUND),
            Ok(Small::Fetched { body, validators }) => (body, validators),
            Err(e) => {
                p.add(|c: &Counters| &c.upstream_errors, 1);
                let status = upstream_status(&e);
                tracing::warn!(proxy = %p.name, path, error = %error_chain(&e), "proxy: upstream failed");
                if cached.is_none() {
                    return Err(self.no_in_release(name, &suite).await?.unwrap_or(status));
                }
                tracing::warn!(proxy = %p.name, path, "proxy: serving the cached copy, upstream failed (stale)");
                self.stale.store(true, Ordering::Relaxed);
                return self.cached(path, false).await;
            }
        };
        self.verify_release(path, &suite, &main, fresh).await?;
        self.cached(path, true).await
    }

    /// 404 (stale) for an `InRelease` upstream could not be asked for, when
    /// the suite's last verified state had none: its `Release` is cached, so
    /// the suite was verified through `Release` + `Release.gpg` (upstream
    /// answered 404 for `InRelease`). apt falls back to that pair on a 404
    /// only; a 5xx would fail its update.
    async fn no_in_release(
        &self,
        name: &str,
        suite: &str,
    ) -> Result<Option<StatusCode>, StatusCode> {
        if name != "InRelease" {
            return Ok(None);
        }
        let release = format!("{suite}/Release");
        let held = blocking(self.proxy, move |p| {
            p.cached_blob(&release).map(|c| c.is_some())
        })
        .await?;
        if !held {
            return Ok(None);
        }
        tracing::warn!(proxy = %self.proxy.name, suite, "proxy: upstream failed; the suite had no `InRelease`, so 404 sends apt to the cached `Release`");
        self.stale.store(true, Ordering::Relaxed);
        Ok(Some(StatusCode::NOT_FOUND))
    }

    /// Verifies a fresh `main` document (`InRelease`, or `Release` with
    /// its signature fetched now), then records and caches it.
    async fn verify_release(
        &self,
        path: &str,
        suite: &str,
        main: &str,
        (body, validators): (bytes::Bytes, Validators),
    ) -> Result<(), StatusCode> {
        let p = self.proxy;
        let opts = VerifyOptions::default();
        let mut docs = vec![(main.to_owned(), body.clone(), validators)];
        let mut fetched_bytes = body.len() as u64;
        let text = if main.ends_with("/InRelease") {
            verify_clearsigned(&p.keyring, &body, &opts).map(|v| v.text)
        } else {
            let sig_path = format!("{suite}/Release.gpg");
            let sig = match p
                .fetcher
                .get_small(&p.url(&sig_path)?, None, MAX_SIGNATURE_BYTES)
                .await
            {
                Ok(Small::Fetched { body, validators }) => {
                    fetched_bytes += body.len() as u64;
                    docs.push((sig_path, body.clone(), validators));
                    body
                }
                Ok(_) => {
                    self.refuse(path, "`Release` has no `Release.gpg`".into());
                    return Err(StatusCode::BAD_GATEWAY);
                }
                Err(e) => {
                    p.add(|c: &Counters| &c.upstream_errors, 1);
                    tracing::warn!(proxy = %p.name, path = %sig_path, error = %error_chain(&e), "proxy: upstream failed");
                    return Err(upstream_status(&e));
                }
            };
            verify_detached(&p.keyring, &body, &sig, &opts).map(|v| v.text)
        };
        let release = text
            .map_err(|e| error_chain(&e))
            .and_then(|t| String::from_utf8(t).map_err(|_| "not UTF-8".to_owned()))
            .and_then(|t| Release::parse(&t).map_err(|e| e.to_string()));
        let release = match release {
            Ok(r) => r,
            Err(detail) => {
                self.refuse(path, format!("its signature does not verify: {detail}"));
                return Err(StatusCode::BAD_GATEWAY);
            }
        };
        p.add(|c: &Counters| &c.misses, 1);
        p.add(|c: &Counters| &c.bytes_from_upstream, fetched_bytes);
        let entries = verify::release_entries(suite, &release);
        let suite = suite.to_owned();
        blocking(p, move |p| {
            let mut cached = Vec::new();
            for (doc, bytes, v) in docs {
                let sha256 = Sha256::of(&bytes);
                p.store
                    .put_bytes(&sha256, &bytes)
                    .map_err(|e| internal(p, &doc, &e))?;
                cached.push((
                    doc,
                    ProxyCached {
                        sha256,
                        size: bytes.len() as u64,
                        etag: v.etag,
                        last_modified: v.last_modified,
                    },
                ));
            }
            lock(&p.db)
                .proxy_record_release(&p.name, &suite, &entries, &cached)
                .map_err(|e| internal(p, &suite, &e))
        })
        .await?;
        tracing::info!(proxy = %p.name, path, files = release.files.len(), "proxy: verified a new Release");
        Ok(())
    }

    /// The cached copy of `path`, counted as a hit unless `fetched` now.
    async fn cached(&self, path: &str, fetched: bool) -> Result<Handle, StatusCode> {
        let p = self.proxy;
        let key = path.to_owned();
        let found = blocking(p, move |p| p.cached_blob(&key)).await?;
        let Some((file, c)) = found else {
            tracing::warn!(proxy = %p.name, path, "proxy: no cached copy");
            return Err(StatusCode::BAD_GATEWAY);
        };
        if !fetched {
            p.add(|c: &Counters| &c.hits, 1);
            p.add(|c: &Counters| &c.bytes_from_cache, c.size);
        }
        Ok(Handle {
            meta: flight::meta(&c.sha256, c.size, false),
            body: Body::Blob(file),
        })
    }

    /// An index below `dists/`: only one the last verified Release lists.
    async fn index(&self, path: String, immutable: bool) -> Result<Handle, StatusCode> {
        let p = self.proxy;
        let key = path.clone();
        let found = blocking(p, move |p| {
            let db = lock(&p.db);
            let Some(expected) = db
                .proxy_expected(&p.name, &key)
                .map_err(|e| internal(p, &key, &e))?
            else {
                return Ok(None);
            };
            // A by-hash name is read as the file it is another name of.
            let named = if key.contains("/by-hash/") {
                db.proxy_names_of(&p.name, &expected.sha256)
                    .map_err(|e| internal(p, &key, &e))?
                    .into_iter()
                    .find(|n| !n.contains("/by-hash/"))
                    .unwrap_or_else(|| key.clone())
            } else {
                key.clone()
            };
            drop(db);
            Ok(Some((expected, verify::index_kind(&named))))
        })
        .await?;
        let Some((expected, kind)) = found else {
            tracing::info!(proxy = %p.name, path = %path, "proxy: not listed in the last verified Release");
            return Err(StatusCode::NOT_FOUND);
        };
        self.verified(path, expected, Kind::Index(kind), immutable)
            .await
    }

    /// A file outside `dists/`: verified when an index named it, else
    /// passed through.
    async fn pool(&self, path: String) -> Result<Handle, StatusCode> {
        if let Some(held) = self.proxy.pool_at_once(&path) {
            return held;
        }
        let p = Arc::clone(self.proxy);
        let key = path.clone();
        // One hop to the blocking pool for both the lookup and the blob or
        // flight: a hop (a pool thread woken, then put to sleep) per step
        // was a tenth of serve's CPU time with 100 clients.
        let held = crate::serve::blocking::run(move || -> Result<_, StatusCode> {
            let expected = lock(&p.db)
                .proxy_expected(&p.name, &key)
                .map_err(|e| internal(&p, &key, &e))?;
            let Some(expected) = expected else {
                return Ok(None);
            };
            Arc::clone(&p)
                .handle(&key, expected, Kind::Pool, true)
                .map(Some)
        })
        .await
        .map_err(|e| internal(self.proxy, "", &e))??;
        match held {
            Some(handle) => Ok(handle),
            None => self.through(&path).await,
        }
    }

    /// A file whose content is known: from the store, or fetched once.
    async fn verified(
        &self,
        path: String,
        expected: ProxyEntry,
        kind: Kind,
        immutable: bool,
    ) -> Result<Handle, StatusCode> {
        let p = Arc::clone(self.proxy);
        crate::serve::blocking::run(move || p.handle(&path, expected, kind, immutable))
            .await
            .map_err(|e| internal(self.proxy, "", &e))?
    }

    /// Relays a file no verified index names, uncached.
    async fn through(&self, path: &str) -> Result<Handle, StatusCode> {
        let p = self.proxy;
        let url = p.url(path)?;
        let (len, stream) = match p
            .fetcher
            .open_passthrough(&url, MAX_PASSTHROUGH_BYTES)
            .await
        {
            Ok(got) => got,
            Err(e) if e.is_not_found() => return Err(StatusCode::NOT_FOUND),
            Err(e) => {
                p.add(|c: &Counters| &c.upstream_errors, 1);
                tracing::warn!(proxy = %p.name, path, error = %error_chain(&e), "proxy: upstream failed");
                return Err(upstream_status(&e));
            }
        };
        tracing::info!(proxy = %p.name, path, "proxy: passed through uncached (no verified index names it)");
        p.add(|c: &Counters| &c.misses, 1);
        p.add(|c: &Counters| &c.bytes_from_upstream, len);
        let meta = Meta {
            size: len,
            // Weak: a range of it is never resumed against another copy.
            validators: crate::serve::http::Validators {
                etag: format!("W/\"through-{len}\""),
                last_modified: None,
            },
            immutable: false,
        };
        Ok(Handle {
            meta,
            body: Body::Through(
                stream
                    .map(|chunk| {
                        chunk.map_err(|e| crate::store::StoreError::Io {
                            action: "pass through",
                            path: "(upstream)".into(),
                            source: std::io::Error::other(error_chain(&e)),
                        })
                    })
                    .boxed(),
            ),
        })
    }

    /// Logs, counts and audits content upstream sent that does not verify.
    fn refuse(&self, path: &str, detail: String) {
        self.proxy.refuse(path, detail, None);
    }
}

/// Runs `f` on the blocking pool (at most `blocking::AT_ONCE` at a time).
pub(super) async fn blocking<T: Send + 'static>(
    p: &Arc<Proxy>,
    f: impl FnOnce(&Proxy) -> Result<T, StatusCode> + Send + 'static,
) -> Result<T, StatusCode> {
    let this = Arc::clone(p);
    crate::serve::blocking::run(move || f(&this))
        .await
        .map_err(|e| internal(p, "", &e))?
}

pub(super) fn internal(p: &Proxy, path: &str, err: &dyn std::fmt::Display) -> StatusCode {
    tracing::warn!(proxy = %p.name, path, error = %err, "proxy: internal error");
    StatusCode::INTERNAL_SERVER_ERROR
}

/// 504 for a timeout, else 502.
pub(super) fn upstream_status(e: &FetchError) -> StatusCode {
    if matches!(e, FetchError::Timeout { .. } | FetchError::Stalled { .. }) {
        StatusCode::GATEWAY_TIMEOUT
    } else {
        StatusCode::BAD_GATEWAY
    }
}

/// The bytes `range` of a stream.
fn slice(stream: ByteStream, range: Range<u64>) -> ByteStream {
    let mut pos = 0u64;
    stream
        .filter_map(move |chunk| {
            let out = chunk.map(|c| {
                let (start, end) = (pos, pos + c.len() as u64);
                pos = end;
                let from = range.start.clamp(start, end) - start;
                let to = range.end.clamp(start, end) - start;
                // Both within the chunk: `from <= to <= c.len()`.
                c.slice(usize::try_from(from).unwrap_or(0)..usize::try_from(to).unwrap_or(0))
            });
            std::future::ready(match out {
                Ok(c) if c.is_empty() => None,
                other => Some(other),
            })
        })
        .boxed()
}
