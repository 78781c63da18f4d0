//! Executing a sync: the pool downloads.

use std::path::PathBuf;

use url::Url;

use super::SyncError;
use crate::digest::Sha256;
use crate::fetch::Expected;
use crate::ops::Context;
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

/// What a download worker needs; cheap to clone into each task.
#[derive(Clone)]
struct Downloader {
    fetcher: crate::fetch::Fetcher,
    store: crate::store::BlobStore,
    progress: std::sync::Arc<dyn crate::progress::Progress>,
    mirror: String,
    base: Url,
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
) -> Result<(u64, u64), SyncError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

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
type Download = (Sha256, u64, String);

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
        worker.progress.event(Event::FileDone { bytes: *size });
        bytes += size;
    }
    Ok(bytes)
}

/// A Filename is a path, not a URL: `%`, `?` and `#` are literal characters
/// (and `%2e%2e` must not turn into `..`).
fn escape_filename(filename: &str) -> String {
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
        url: format!("{base}{filename}"),
    })?;
    let expected = Expected {
        size: Some(size),
        sha256: Some(sha256),
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
