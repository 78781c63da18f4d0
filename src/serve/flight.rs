//! One verified upstream fetch shared by every request for its file: the
//! machinery on-demand pool files (`ondemand.rs`) and the caching proxy
//! (`proxy/`) both use.
//!
//! A [`Flight`] streams a file whose size and SHA256 are known in advance
//! into a staging file of the blob store, hashing as it goes
//! ([`fetch_into`]). Every request for the file while it flies reads that
//! staging file through its own handle as it grows ([`Relay`]), so N
//! concurrent requests make one upstream request. The last byte (for a
//! range: any byte) is relayed only once the whole file verified; a file
//! that does not ends every reader's body with an error, so the client sees
//! a short read. The owner of the flight decides what to keep and reports
//! the end with [`Launch::finish`].

use std::collections::HashMap;
use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use futures::StreamExt as _;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::watch;
use url::Url;

use super::chunk::{self, CHUNK};
use super::http::Validators;
use super::origin::Meta;
use super::sendfile::{FileSends, SPAN};
use crate::digest::{Hasher, Sha256};
use crate::fetch::{FetchError, Fetcher};
use crate::store::{BlobStore, StoreError};

/// One upstream fetch, shared by every request for its file.
pub(in crate::serve) struct Flight {
    /// A read handle of the staging file (still valid once it is renamed
    /// into the store or removed).
    file: Arc<std::fs::File>,
    size: u64,
    progress: watch::Receiver<Progress>,
}

/// How far a flight got.
#[derive(Clone, Copy, Debug, Default)]
struct Progress {
    /// Bytes in the staging file.
    written: u64,
    /// Set at the end: whether the file was verified.
    end: Option<bool>,
}

/// A flight about to start: the shared [`Flight`] for readers, and what
/// its fetching task writes to.
pub(in crate::serve) struct Launch {
    pub(in crate::serve) flight: Arc<Flight>,
    /// The staging file in the blob store, committed once verified.
    pub(in crate::serve) staged: PathBuf,
    out: std::fs::File,
    tx: watch::Sender<Progress>,
}

/// Why a flight failed.
pub(in crate::serve) enum Failure {
    /// Upstream sent other bytes than the index promised.
    Mismatch(String),
    /// Upstream failed to deliver.
    Upstream(FetchError),
    /// This machine failed (staging file, store, pool).
    Local(String),
}

impl Launch {
    /// Stages a file of `size` bytes with digest `sha256` in `store`.
    pub(in crate::serve) fn stage(
        store: &BlobStore,
        sha256: &Sha256,
        size: u64,
    ) -> Result<Launch, StoreError> {
        let staged = store.staging_path(Some(sha256))?;
        let io_err = |source| StoreError::Io {
            action: "stage",
            path: staged.clone(),
            source,
        };
        let out = std::fs::File::create(&staged).map_err(io_err)?;
        let file = std::fs::File::open(&staged).map_err(io_err)?;
        let (tx, rx) = watch::channel(Progress::default());
        let flight = Arc::new(Flight {
            file: Arc::new(file),
            size,
            progress: rx,
        });
        Ok(Launch {
            flight,
            staged,
            out,
            tx,
        })
    }

    /// Streams `url` into the staging file, checking size and SHA256.
    async fn fetch(
        &mut self,
        fetcher: &Fetcher,
        url: &Url,
        sha256: &Sha256,
    ) -> Result<(), Failure> {
        let out = self
            .out
            .try_clone()
            .map_err(|e| Failure::Local(format!("cannot write the staging file: {e}")))?;
        fetch_into(fetcher, url, sha256, self.flight.size, out, &self.tx).await
    }

    /// Lets the readers finish: with the last byte if `ok`, else an error.
    fn finish(self, ok: bool) {
        self.tx.send_modify(|p| p.end = Some(ok));
    }

    /// A flight's task: fetches `url`, lets `settle` keep or refuse the
    /// staging file (on the blocking pool; whether it was kept), lets the
    /// readers finish, and forgets the flight of `path` in `flights`.
    pub(in crate::serve) async fn run(
        mut self,
        fetcher: &Fetcher,
        url: &Url,
        sha256: &Sha256,
        (flights, path): (&Mutex<HashMap<String, Arc<Flight>>>, &str),
        settle: impl FnOnce(&std::path::Path, Result<(), Failure>) -> bool + Send + 'static,
    ) {
        let fetched = self.fetch(fetcher, url, sha256).await;
        let staged = self.staged.clone();
        let ok = super::blocking::run(move || settle(&staged, fetched))
            .await
            .unwrap_or(false);
        self.finish(ok);
        lock(flights).remove(path);
    }
}

pub(in crate::serve) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(in crate::serve) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// An error with its causes, for a log line.
pub(in crate::serve) use crate::exit::chain as error_chain;

/// What is known of a file before any byte: its size and a strong `ETag`
/// from its SHA256 (stable per content, whether relayed or cached).
pub(in crate::serve) fn meta(sha256: &Sha256, size: u64, immutable: bool) -> Meta {
    Meta {
        size,
        validators: Validators {
            etag: format!("\"sha256-{}\"", &sha256.to_hex()[..32]),
            last_modified: None,
        },
        immutable,
    }
}

/// Streams `url` into `out`, checking the size as bytes arrive and the
/// SHA256 at the end, and telling the readers how far it got.
async fn fetch_into(
    fetcher: &Fetcher,
    url: &Url,
    sha256: &Sha256,
    size: u64,
    out: std::fs::File,
    tx: &watch::Sender<Progress>,
) -> Result<(), Failure> {
    let mut body = fetcher.open_stream(url, size).await.map_err(|e| {
        if e.is_integrity() {
            Failure::Mismatch(error_chain(&e))
        } else {
            Failure::Upstream(e)
        }
    })?;
    let mut out = tokio::fs::File::from_std(out);
    let mut hasher = Hasher::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(Failure::Upstream)?;
        if hasher.len().saturating_add(chunk.len() as u64) > size {
            return Err(Failure::Mismatch(format!(
                "longer than the {size} bytes its index gives"
            )));
        }
        // Flushed at once: readers read the file, not this buffer.
        let written = async {
            out.write_all(&chunk).await?;
            out.flush().await
        };
        written
            .await
            .map_err(|e| Failure::Local(format!("cannot write the staging file: {e}")))?;
        hasher.update(&chunk);
        let n = hasher.len();
        tx.send_modify(|p| p.written = n);
    }
    out.sync_all()
        .await
        .map_err(|e| Failure::Local(format!("cannot write the staging file: {e}")))?;
    let (got, got_size) = hasher.finish();
    if got_size != size {
        return Err(Failure::Mismatch(format!(
            "{got_size} bytes where its index gives {size}"
        )));
    }
    if got != *sha256 {
        return Err(Failure::Mismatch(format!(
            "SHA256 `{got}` where its index gives `{sha256}`"
        )));
    }
    Ok(())
}

/// The bytes of `range` (or all) of a flying file for one request,
/// relayed as the flight writes them; the file's last byte (a range: any
/// byte) only once the file is verified. Ends with an error if it is
/// refused.
pub(in crate::serve) struct Relay {
    flight: Arc<Flight>,
    pos: u64,
    end: u64,
    hold_all: bool,
    rx: watch::Receiver<Progress>,
}

impl Relay {
    pub(in crate::serve) fn new(flight: Arc<Flight>, range: Option<Range<u64>>) -> Relay {
        let (pos, end) = range
            .as_ref()
            .map_or((0, flight.size), |r| (r.start, r.end));
        let rx = flight.progress.clone();
        Relay {
            flight,
            pos,
            end,
            hold_all: range.is_some(),
            rx,
        }
    }

    /// The next frame: a span the page cache holds as a placeholder frame
    /// that the connection sends with `sendfile` ([`FileSends`]), else a
    /// chunk read into a buffer; `None` at the end.
    pub(in crate::serve) async fn next(
        &mut self,
        sends: &FileSends,
    ) -> Option<Result<Bytes, StoreError>> {
        let limit = match self.ready().await? {
            Ok(limit) => limit,
            Err(e) => return Some(Err(e)),
        };
        let file = &self.flight.file;
        let span = usize::try_from(limit - self.pos).map_or(SPAN, |n| n.min(SPAN));
        if FileSends::enabled() && chunk::cached(file, self.pos, span) {
            let frame = sends.frame(file, self.pos, span);
            self.pos += span as u64;
            return Some(Ok(frame));
        }
        let want = usize::try_from(limit - self.pos).map_or(CHUNK, |n| n.min(CHUNK));
        match chunk::read(file, Some(self.pos), want).await {
            Ok(buf) if !buf.is_empty() => {
                self.pos += buf.len() as u64;
                Some(Ok(buf))
            }
            _ => Some(Err(self.refused())),
        }
    }

    /// Waits until bytes past the position may be relayed: the end of
    /// what may (`Ok`), `None` once all was relayed, `Err` if the file was
    /// refused (every later call is `None`).
    async fn ready(&mut self) -> Option<Result<u64, StoreError>> {
        if self.pos >= self.end {
            return None;
        }
        loop {
            let p = *self.rx.borrow_and_update();
            let limit = match p.end {
                Some(true) => self.end,
                Some(false) => return Some(Err(self.refused())),
                None if self.hold_all => self.pos,
                None => p
                    .written
                    .min(self.flight.size.saturating_sub(1))
                    .min(self.end),
            };
            if limit > self.pos {
                return Some(Ok(limit));
            }
            if self.rx.changed().await.is_err() {
                // The flight is gone without an end: treat as refused.
                return Some(Err(self.refused()));
            }
        }
    }

    /// The error a refused file ends with; ends the relay.
    fn refused(&mut self) -> StoreError {
        self.pos = self.end;
        StoreError::Io {
            action: "fetch from upstream",
            path: PathBuf::from("(upstream)"),
            source: io::Error::other(
                "the upstream file failed verification or could not be fetched",
            ),
        }
    }
}
