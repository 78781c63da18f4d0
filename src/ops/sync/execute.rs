//! Executing a sync plan: the pool downloads, then the one commit.
//!
//! [`execute`] narrows the [`Upstream`] to the packages the commit stores,
//! downloads the plan's pool files straight into the blob store
//! ([`download_all`]: worker tasks, each pipelining small files over its
//! connection or fetching one file at a time), makes the store durable and
//! only then records the new revision in one database transaction. Until
//! that commit nothing visible changes; a killed sync leaves only
//! unreferenced blobs.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use super::plan::{PlanSummary, SyncPlan};
use super::{SyncError, step};
use crate::db::{DbError, SyncCommit};
use crate::debian::deb_scan::Want;
use crate::digest::Sha256;
use crate::fetch::Expected;
use crate::model::{Mirror, MirrorState};
use crate::ops::Context;
use crate::ops::deb_scans::Background;
use crate::ops::upstream::{Upstream, UpstreamError};
use crate::progress::Event;

/// Pool files up to this size are downloaded into memory and stored in one
/// step; larger ones stream to a staging file. With 8 downloads at once,
/// that holds at most 2 MiB of bodies outside the pipelines.
const SMALL_FILE: u64 = 256 << 10;
/// Pool files up to this size are pipelined. A batch's bodies are held in
/// memory until it is read, so this bounds the memory of downloads at
/// `downloads` × `pipeline-depth` × this (10 MiB with the defaults); larger
/// files gain little from pipelining anyway, their transfer outweighs a
/// request's round trip.
const PIPELINED_FILE: u64 = 128 << 10;

/// What the commit records besides the plan.
pub(super) struct Record {
    /// The mirror state after the sync.
    pub state: MirrorState,
    /// Index path → SHA256: the next sync stops early when they are unchanged.
    pub indices: BTreeMap<String, String>,
    /// Digest of the mirror's configuration and the operator's decisions.
    pub spec: String,
    /// Bytes already downloaded for the Release and the indices.
    pub index_bytes: u64,
    /// Index bytes copied from the index cache instead.
    pub index_cached_bytes: u64,
    /// The Release's `Origin` and `Codename`, for SBOM purls.
    pub release_names: (Option<String>, Option<String>),
    /// The installer images of the new revision.
    pub installer: Vec<crate::db::InstallerFile>,
    /// The Release lists `Contents` files: the .debs read while downloading
    /// are read for their changelogs alone, the file lists being seeded.
    pub upstream_contents: bool,
}

/// What executing a plan did.
pub(super) struct Executed {
    /// The plan's summary, as committed.
    pub summary: PlanSummary,
    /// Packages live in the new revision.
    pub packages: u64,
    /// Pool files downloaded.
    pub files: u64,
    /// Bytes downloaded, the Release and indices included.
    pub bytes: u64,
    /// Package files an on-demand mirror left upstream.
    pub left_upstream: u64,
}

/// Executes `plan`: downloads its pool files with `concurrency` workers,
/// flushes the store, then commits the new revision with `record`.
pub(super) async fn execute(
    ctx: &mut Context,
    mirror: &Mirror,
    base: &Url,
    mut upstream: Upstream,
    plan: SyncPlan,
    record: Record,
    concurrency: usize,
) -> Result<Executed, SyncError> {
    let name = mirror.name.as_str();
    let SyncPlan {
        summary,
        downloads,
        mut revision,
    } = plan;
    // From here on only the packages the commit stores are needed.
    let mut needed: Vec<usize> = revision.added.iter().map(|(_, i)| *i).collect();
    needed.extend(revision.staged.iter().filter_map(|(_, i)| *i));
    needed.extend(downloads.iter().map(|d| d.package));
    needed.sort_unstable();
    needed.dedup();
    upstream.keep_only(&needed);
    let moved = |i: usize| needed.binary_search(&i).unwrap_or(usize::MAX);
    for (_, i) in &mut revision.added {
        *i = moved(*i);
    }
    for i in revision.staged.iter_mut().filter_map(|(_, i)| i.as_mut()) {
        *i = moved(*i);
    }

    // Downloads, straight into the store; an on-demand mirror's package
    // files stay upstream.
    let (downloads, left) = super::ondemand::leave_upstream(mirror, downloads);
    let want = match record.upstream_contents {
        true => Want::Changelog,
        false => Want::Everything,
    };
    let reading = start_reading(ctx, &upstream, &downloads, &moved, want);
    let named = |list: Vec<super::plan::PlannedDownload>| {
        list.into_iter()
            .map(|d| {
                Ok((
                    d.sha256,
                    d.size,
                    upstream.file_path(moved(d.package), d.file)?,
                ))
            })
            .collect::<Result<Vec<_>, UpstreamError>>()
            .map_err(|e| SyncError::spool(name, e))
    };
    let (downloads, left) = (named(downloads)?, named(left)?);
    drop(needed);
    let flushing = ctx.store.flush_behind();
    let (files, bytes) = download_all(
        ctx,
        name,
        base,
        downloads,
        concurrency.max(1),
        reading.clone(),
    )
    .await?;
    drop(flushing);
    let downloaded_bytes = record.index_bytes + bytes;
    step(ctx, name, "flushing the blob store");
    ctx.store.sync()?;
    ctx.db.record_ondemand_sources(mirror.id, &left)?;

    let stats = serde_json::json!({
        "staged": summary.staged.len(),
        "pins_missing": summary.pins_missing,
        "unresolved_count": summary.unresolved.len(),
        "unresolved": summary.unresolved.iter().take(crate::db::UNMET_RECORDED).collect::<Vec<_>>(),
        "added": summary.added.len(),
        "removed": summary.removed.len(),
        "kept": summary.kept,
        "frozen": summary.freezes.len(),
        "downloaded_files": files,
        "downloaded_bytes": downloaded_bytes,
        "left_upstream": left.len(),
        "indices": record.indices,
        "spec": record.spec,
        "release_origin": record.release_names.0,
        "release_codename": record.release_names.1,
    });
    let records = |i: usize| {
        upstream.record(i).map_err(|e| DbError::Input {
            what: "a package's index stanza".into(),
            source: Box::new(e),
        })
    };
    let packages = revision.packages();
    let commit = SyncCommit {
        kept: revision.kept,
        added: revision.added,
        records: &records,
        freezes: summary.freezes.clone(),
        restored: summary.restored.clone(),
        staged: mirror.spec.review.then_some(revision.staged),
        state: record.state,
        stats,
        installer: record.installer,
    };
    step(ctx, name, "committing the new revision");
    ctx.db.commit_sync(mirror.id, name, commit)?;
    // The readers catch up while the store is flushed and the revision
    // committed (idle cores, mostly): what they record is keyed by the
    // .debs' hashes, not by the revision.
    finish_reading(ctx, name, reading);
    Ok(Executed {
        summary,
        packages,
        files,
        bytes: downloaded_bytes,
        left_upstream: left.len() as u64,
    })
}

/// Starts reading the new .debs small enough to arrive in memory as they
/// are downloaded, so a sync's idle cores do what a publish would do (the
/// publish reads whatever this did not). `None` where blobs are not local
/// files, or on trouble.
fn start_reading(
    ctx: &Context,
    upstream: &Upstream,
    downloads: &[super::plan::PlannedDownload],
    moved: &dyn Fn(usize) -> usize,
    want: Want,
) -> Option<Arc<Background>> {
    if !ctx.store.is_local() {
        return None;
    }
    let wanted: HashMap<Sha256, String> = downloads
        .iter()
        .filter(|d| d.file.is_none() && d.size <= SMALL_FILE)
        .filter_map(|d| Some((d.sha256, upstream.name(moved(d.package)).ok()?.to_owned())))
        .collect();
    if wanted.is_empty() {
        return None;
    }
    match Background::start(ctx.db.path(), wanted, want) {
        Ok(b) => Some(Arc::new(b)),
        Err(e) => {
            tracing::debug!(error = %crate::exit::chain(&e), "not reading .debs while downloading");
            None
        }
    }
}

/// Waits for the reading [`start_reading`] started to record what it read.
fn finish_reading(ctx: &Context, mirror: &str, reading: Option<Arc<Background>>) {
    let Some(Ok(reading)) = reading.map(Arc::try_unwrap) else {
        return;
    };
    match reading.finish() {
        Ok(n) => step(ctx, mirror, format!("{n} .debs read while downloading")),
        Err(e) => {
            tracing::debug!(error = %crate::exit::chain(&e), "reading .debs while downloading failed")
        }
    }
}

/// What a download worker needs; cheap to clone into each task.
#[derive(Clone)]
struct Downloader {
    fetcher: crate::fetch::Fetcher,
    store: crate::store::BlobStore,
    progress: std::sync::Arc<dyn crate::progress::Progress>,
    mirror: String,
    base: Url,
    /// Where the .debs downloaded into memory are offered to be read.
    reading: Option<Arc<Background>>,
}

/// Downloads pool files with `concurrency` worker tasks, so file writes run
/// on every runtime thread, not one; stops taking new work at the first
/// failure and returns it.
pub(super) async fn download_all(
    ctx: &Context,
    mirror: &str,
    base: &Url,
    downloads: Vec<Download>,
    concurrency: usize,
    reading: Option<Arc<Background>>,
) -> Result<(u64, u64), SyncError> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    if downloads.is_empty() {
        return Ok((0, 0));
    }
    let total_bytes = downloads.iter().map(|d| d.1).sum();
    ctx.progress.event(Event::DownloadsStarted {
        scope: format!("mirror `{mirror}`"),
        files: downloads.len() as u64,
        bytes: total_bytes,
    });
    let worker = Downloader {
        fetcher: ctx.fetcher.clone(),
        store: ctx.store.clone(),
        progress: ctx.progress.clone(),
        mirror: mirror.to_owned(),
        base: base.clone(),
        reading,
    };
    let queue = Arc::new(Mutex::new(downloads.into_iter().peekable()));
    let failed = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (worker, queue, failed) = (worker.clone(), queue.clone(), failed.clone());
        tasks.spawn(async move {
            let (mut files, mut bytes) = (0u64, 0u64);
            let mut pipeline = worker.fetcher.pipeline(&worker.base);
            let depth = match pipeline {
                Some(_) => worker.fetcher.options().pipeline_depth,
                None => 1,
            };
            loop {
                if failed.load(Ordering::Relaxed) {
                    return Ok((files, bytes));
                }
                let batch = take_batch(&queue, depth);
                if batch.is_empty() {
                    return Ok((files, bytes));
                }
                let done = match &mut pipeline {
                    Some(pipeline) if batch[0].1 <= PIPELINED_FILE => {
                        download_pipelined(&worker, pipeline, &batch).await
                    }
                    _ => {
                        let mut done = Ok(0);
                        for (sha256, size, filename) in &batch {
                            done = download_one(&worker, *sha256, *size, filename).await;
                            match &done {
                                Ok(_) => worker.progress.event(Event::FileDone { bytes: *size }),
                                Err(_) => break,
                            }
                        }
                        done.map(|_| batch.iter().map(|d| d.1).sum())
                    }
                };
                match done {
                    Ok(n) => {
                        files += batch.len() as u64;
                        bytes += n;
                    }
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
        });
    }
    let (mut files, mut bytes) = (0, 0);
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok((f, b))) => {
                files += f;
                bytes += b;
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
    ctx.progress.event(Event::DownloadsFinished);
    match first_error {
        Some(e) => Err(e),
        None => Ok((files, bytes)),
    }
}

/// A pool file to fetch: digest, size, Filename.
pub(super) type Download = (Sha256, u64, String);

/// The downloads not yet taken by a worker.
type Queue = std::sync::Mutex<std::iter::Peekable<std::vec::IntoIter<Download>>>;

/// Up to `depth` downloads from the queue: files to pipeline together, a
/// larger one alone.
fn take_batch(queue: &Queue, depth: usize) -> Vec<Download> {
    let mut queue = queue.lock().unwrap_or_else(|p| p.into_inner());
    let mut batch = Vec::with_capacity(depth);
    while batch.len() < depth {
        let small = match queue.peek() {
            None => break,
            Some(next) => next.1 <= PIPELINED_FILE,
        };
        if !small && !batch.is_empty() {
            break;
        }
        batch.extend(queue.next());
        if !small {
            break;
        }
    }
    batch
}

/// Fetches a batch of small files over the worker's pipeline and stores
/// them; a file that failed (after its retries) is reported as
/// [`download_one`] reports it.
async fn download_pipelined(
    worker: &Downloader,
    pipeline: &mut crate::fetch::Pipeline,
    batch: &[Download],
) -> Result<u64, SyncError> {
    let escaped: Vec<String> = batch.iter().map(|d| escape_filename(&d.2)).collect();
    let items: Vec<crate::fetch::Item<'_>> = batch
        .iter()
        .zip(&escaped)
        .map(|((sha256, size, _), rel)| crate::fetch::Item {
            rel,
            expected: Expected {
                size: Some(*size),
                sha256: Some(*sha256),
                max_size: None,
            },
        })
        .collect();
    let mut bytes = 0;
    // The results end at the first failure, if any.
    for ((sha256, size, filename), fetched) in batch.iter().zip(pipeline.fetch(&items).await) {
        let (data, _) = fetched.map_err(|source| SyncError::Fetch {
            mirror: worker.mirror.clone(),
            what: filename.clone(),
            source: Box::new(source),
        })?;
        worker.store.put_bytes(sha256, &data)?;
        if let Some(r) = &worker.reading {
            r.offer(sha256, data);
        }
        worker.progress.event(Event::FileDone { bytes: *size });
        bytes += size;
    }
    Ok(bytes)
}

/// A Filename is a path, not a URL: `%`, `?` and `#` are literal characters
/// (and `%2e%2e` must not turn into `..`).
pub(crate) fn escape_filename(filename: &str) -> String {
    if !filename.contains(['%', '?', '#']) {
        return filename.to_owned();
    }
    filename
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23")
}

async fn download_one(
    worker: &Downloader,
    sha256: Sha256,
    size: u64,
    filename: &str,
) -> Result<u64, SyncError> {
    let (mirror, base) = (worker.mirror.as_str(), &worker.base);
    let escaped = escape_filename(filename);
    let url = base.join(&escaped).map_err(|_| SyncError::BadUrl {
        mirror: mirror.to_owned(),
        url: format!("{}{filename}", crate::redact::url(base)),
    })?;
    let expected = Expected {
        size: Some(size),
        sha256: Some(sha256),
        max_size: None,
    };
    let fail = |source| SyncError::Fetch {
        mirror: mirror.to_owned(),
        what: filename.to_owned(),
        source: Box::new(source),
    };
    if size <= SMALL_FILE {
        let (data, _) = worker
            .fetcher
            .download_bytes(&url, &expected)
            .await
            .map_err(fail)?;
        worker.store.put_bytes(&sha256, &data)?;
        if let Some(r) = &worker.reading {
            r.offer(&sha256, data);
        }
        return Ok(size);
    }
    let staged: PathBuf = worker.store.staging_path(Some(&sha256))?;
    match worker.fetcher.download(&url, &expected, &staged).await {
        Ok(d) => {
            worker.store.commit(&staged, &sha256)?;
            Ok(d.size)
        }
        Err(source) => {
            let _ = std::fs::remove_file(&staged);
            Err(fail(source))
        }
    }
}
