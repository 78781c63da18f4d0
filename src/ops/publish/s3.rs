//! Publishing to a bucket (`[storage] publish = "s3://bucket/prefix"`).
//!
//! An object store has no symlink to switch and no rename, so the order of
//! writes is the atomicity (DESIGN.md §4): pool objects first, then the
//! `by-hash` files, then the plain index names, and `Release`,
//! `Release.gpg` and `InRelease` last. A client that fetches the new
//! `InRelease` finds every file it names already in place; a client in the
//! middle of an update with the old one still finds the old indices under
//! their `by-hash` names, which are never overwritten.
//!
//! Requests are few: a no-op publish reads one object (the current
//! `Release`, to check it is the one recorded). What is in the pool is known
//! from the database's record of what was written there
//! ([`Db::remote_pool`]) and a listing of the pool at most a day old
//! ([`RELIST_AFTER_S`]): in between, a publish asks only about the paths
//! the record does not know (a `HEAD` each), so an incremental publish costs
//! requests in proportion to the change, not to the pool. An object the
//! record does not know and whose size matches is hashed once. The
//! distribution is listed once, and only what is missing is written, with
//! bounded concurrency.
//! Blobs in the same bucket are copied server-side.
//!
//! From the parent it takes the pool paths and `Item`s (`pool`), the index
//! building (`indices`) and the `Job`, which does the no-op check of
//! options and freshness, the `Release` fields and the record.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use futures::{StreamExt, TryStreamExt};

use super::indices::{build_indices, entries};
use super::pool::{Item, PoolAction, count_pool, label, pool_paths};
use super::translations::translation_indices;
use super::{Job, PublishError, PublishOutcome, PublishReport, io_err};
use crate::db::{Db, PoolObject};
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::model::PackageRecord;
use crate::store::s3::block_on;
use crate::store::{BlobStore, Bucket, StoreError};
use crate::tree::layout;
use crate::tree::{TreeError, TreeFile, render, verify_tree};

/// Uploads in flight at once.
const UPLOADS: usize = 16;

/// Server-side copies in flight at once.
const COPIES: usize = 32;

/// Ranges the pool is listed in, all at once.
const LIST_RANGES: usize = 16;

/// A pool listed whole less than this long ago (seconds) is known from the
/// database's record of it, plus a `HEAD` of each path the record does not
/// know; older, or never listed, it is listed again.
const RELIST_AFTER_S: i64 = 24 * 3600;

/// Probing each unknown path beats a listing up to this many paths, or a
/// [`PROBE_SHARE`]th of the recorded pool if that is more (a listing costs
/// a request per thousand objects, made 16 at a time).
const PROBE_MAX: usize = 1000;
const PROBE_SHARE: usize = 20;

/// The signature files, written last and in this order: apt reads
/// `InRelease` first, so it goes last of all.
const RELEASE_FILES: [&str; 3] = ["Release", "Release.gpg", "InRelease"];

/// Publishes `job` to the bucket `endpoint`, in the order of writes the
/// module docs give; `work` is the local directory trees are rendered in.
pub(super) fn publish(
    db: &mut Db,
    store: &BlobStore,
    endpoint: &Bucket,
    work: &Path,
    mut job: Job<'_>,
) -> Result<PublishReport, PublishError> {
    let base = prefix_bucket(endpoint, &job.prefix);
    let location = base.url().to_string();
    let dists = format!("dists/{}", job.distribution);
    let previous = match in_place(&base, &dists, &job)? {
        InPlace::Unchanged => return Ok(job.end(PublishOutcome::Unchanged)),
        InPlace::Other(previous) => previous,
    };

    let records = job.records(db)?;
    super::ondemand::refuse_in_bucket(db, store, &records, &location)?;
    let records = super::sources::place_sources(records, |r| {
        let items = plan_pool(db, &base, &location, r)?.items;
        Ok(super::sources::qualified_sources(&items))
    })?;
    tracing::debug!(elapsed = ?job.started.elapsed(), records = records.len(), "records loaded");
    let pool = plan_pool(db, &base, &location, &records)?;
    tracing::debug!(elapsed = ?job.started.elapsed(), "pool planned");
    count_pool(&mut job.report, &pool.items);
    let mut indices = build_indices(&job.architectures(), entries(&pool.items));
    indices.extend(translation_indices(db, &records)?);
    indices.extend(super::appstream::appstream_indices(
        db,
        &records,
        &job.architectures(),
    )?);
    indices.extend(super::cnf::commands_indices(db, &records, &job)?);
    let images = super::installer::for_job(db, &job)?;
    indices.extend(super::installer::sums_indices(&images)?);
    job.report.indices = indices.len() as u64;
    if job.opts.dry_run {
        return Ok(job.end(PublishOutcome::DryRun));
    }
    // A bucket refuses what is left on demand (`refuse_in_bucket`).
    let extras = super::contents::for_job(db, store, &records, &job, &Default::default(), None)?;
    job.report.indices += extras.contents.len() as u64;
    indices.extend(extras.contents);
    let uploaded = super::changelogs::upload(db, &base, &location, &extras.changelogs)?;
    tracing::debug!(uploaded, elapsed = ?job.started.elapsed(), "changelogs uploaded");
    if job.keys.is_empty() {
        return Err(PublishError::Tree(TreeError::NoSigningKeys));
    }

    // Render locally (in a directory of this prefix's own: the prefix lock
    // is held, so leftovers of killed runs can go) while the pool uploads.
    let scratch = work.join(format!(
        "publish-{}",
        &Sha256::of(location.as_bytes()).to_hex()[..16]
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(io_err("create", &scratch))?;
    let now = chrono::Utc::now();
    let tree = next_tree_id(job.current.as_ref().map(|c| c.tree.as_str()), now);
    let staging = scratch.join(&tree);
    let meta = job.release_meta(now);
    let mut render_opts = job.opts.render.clone();
    if render_opts.cache_dir.is_none() {
        render_opts.cache_dir = Some(work.join("index-cache"));
    }
    let adds: Vec<&Item> = pool
        .items
        .iter()
        .filter(|it| matches!(it.action, PoolAction::Add(_)))
        .collect();
    let (uploaded, rendered) = std::thread::scope(|s| {
        let up = s.spawn(|| upload_pool(store, &base, &adds));
        let rendered = render(&staging, &indices, &meta, job.keys, &render_opts);
        let up = up.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (up, rendered)
    });
    // Record what reached the bucket even if other uploads failed: the
    // next publish then trusts those objects without hashing them.
    let mut written: Vec<(String, PoolObject)> = pool.learned;
    written.extend(uploaded.done.iter().map(|(path, o)| (path.clone(), *o)));
    db.record_remote_pool(&location, &written, &pool.gone, pool.listed_at)?;
    if let Some(e) = uploaded.error {
        return Err(e);
    }
    let rendered = rendered?;
    job.report.reused_indices = u64::from(rendered.reused_indices);
    for w in &rendered.warnings {
        job.warn(w.clone());
    }
    verify_tree(&staging, &job.keyring()?)?;
    // The images go up with the tree, copied from the store through the
    // staging directory one at a time.
    let mut tree_files = rendered.files.clone();
    let present = super::installer::in_bucket(db, &base, &location, &dists, &images)?;
    job.report.installer_present = present.len() as u64;
    let images: Vec<_> = images
        .into_iter()
        .filter(|f| !present.contains(&f.path))
        .collect();
    tree_files.extend(super::installer::place_local(store, &staging, &images)?);
    tracing::debug!(elapsed = ?job.started.elapsed(), "tree rendered and verified, pool uploaded");

    // A bucket dates each object by its upload second, and a client that
    // fetched the current `InRelease` within its first second got no date
    // from `serve` and revalidates with the fetch's second. Uploading the new
    // one in a later second than the previous switch keeps that revalidation
    // from being answered "not modified" (the local endpoint redates instead).
    if let Some(cur) = &job.current {
        wait_past_second(cur.published_at.timestamp());
    }
    job.report.by_hash_kept =
        upload_tree(&base, &dists, &staging, &tree_files, previous.as_deref())?;
    super::installer::record_in_bucket(db, &location, &dists, &images)?;
    tracing::debug!(elapsed = ?job.started.elapsed(), "tree uploaded");
    let _ = std::fs::remove_dir_all(&scratch);
    job.record(db, &tree, &rendered, &meta)
}

/// The bucket (a view of `endpoint`) that holds the prefix `prefix`.
fn prefix_bucket(endpoint: &Bucket, prefix: &str) -> Bucket {
    if prefix == "." {
        endpoint.clone()
    } else {
        endpoint.sub(prefix)
    }
}

/// What a publish finds at `dists/<distribution>`.
enum InPlace {
    /// The recorded publication of this very snapshot and options.
    Unchanged,
    /// Another tree (with its `Release`, when it can be read: files it
    /// lists unchanged are not uploaded again), or none.
    Other(Option<Box<Release>>),
}

/// Reads the `Release` in place (one request, and only when a publication
/// is recorded): unchanged when it is the recorded one and the publication
/// is what `job` asks for.
fn in_place(base: &Bucket, dists: &str, job: &Job<'_>) -> Result<InPlace, PublishError> {
    let Some(cur) = &job.current else {
        return Ok(InPlace::Other(None));
    };
    let b = base.clone();
    let key = format!("{dists}/Release");
    let Some(text) = block_on(async move { b.get(&key).await })?? else {
        return Ok(InPlace::Other(None));
    };
    if job.republishes(cur) && Sha256::of(&text) == cur.release_sha256 {
        return Ok(InPlace::Unchanged);
    }
    Ok(InPlace::Other(
        std::str::from_utf8(&text)
            .ok()
            .and_then(|t| Release::parse(t).ok())
            .map(Box::new),
    ))
}

/// Sleeps until the clock has left the second `secs` (at most a second;
/// nothing when it already has).
fn wait_past_second(secs: i64) {
    let now = chrono::Utc::now();
    if now.timestamp() <= secs {
        let next = chrono::DateTime::from_timestamp(secs + 1, 0).unwrap_or(now);
        if let Ok(wait) = (next - now).to_std() {
            std::thread::sleep(wait.min(std::time::Duration::from_secs(1)));
        }
    }
}

/// A tree id for `now`, later than the current tree's.
fn next_tree_id(current: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> String {
    match current.and_then(layout::parse_tree_id) {
        Some(last) if layout::tree_id(now) <= layout::tree_id(last) => {
            layout::tree_id(last + chrono::Duration::seconds(1))
        }
        _ => layout::tree_id(now),
    }
}

/// The pool plan of a bucket.
struct PoolPlan<'a> {
    items: Vec<Item<'a>>,
    /// Objects found unrecorded and hashed now.
    learned: Vec<(String, PoolObject)>,
    /// Recorded objects the listing no longer has.
    gone: Vec<String>,
    /// When the whole-pool listing began, if the plan listed the pool.
    listed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a bucket's pool holds at the paths a plan looks at: sizes by path.
type PoolSizes = HashMap<String, u64>;

/// Plans each package's pool path in the bucket from what the pool holds
/// (the record of it, probed or listed again; see the module docs).
fn plan_pool<'a>(
    db: &Db,
    base: &Bucket,
    location: &str,
    records: &'a [(String, PackageRecord)],
) -> Result<PoolPlan<'a>, PublishError> {
    let paths = records
        .iter()
        .map(|(component, record)| pool_paths(component, record))
        .collect::<Result<Vec<_>, _>>()?;
    let mut known = db.remote_pool(location)?;
    tracing::debug!(objects = known.len(), "pool record read");
    let now = chrono::Utc::now();
    let trusted = db
        .remote_pool_listed_at(location)?
        .is_some_and(|at| now - at < chrono::Duration::seconds(RELIST_AFTER_S))
        && unknown_plain(&paths, &known) <= PROBE_MAX.max(known.len() / PROBE_SHARE);
    let (listed, gone, listed_at) = if trusted {
        let sizes = probe_pool(base, records, &paths, &known)?;
        (sizes, Vec::new(), None)
    } else {
        let sizes = list_pool(base, &paths)?;
        let gone: Vec<String> = known
            .keys()
            .filter(|k| !sizes.contains_key(*k))
            .cloned()
            .collect();
        for g in &gone {
            known.remove(g);
        }
        (sizes, gone, Some(now))
    };
    let mut learned = Vec::new();
    let mut items = Vec::with_capacity(records.len());
    for ((component, record), paths) in records.iter().zip(paths) {
        let mut action = None;
        let mut qualified = false;
        for (i, path) in paths.iter().enumerate() {
            match listed.get(path) {
                None => action = Some(PoolAction::Add(path.clone())),
                Some(&size) => {
                    let content = match known.get(path) {
                        Some(o) => Some(o.sha256),
                        None if size == record.size => {
                            // Not written by this database (or its record
                            // was lost): hash it once and remember.
                            let sha256 = hash_object(base, path)?;
                            let o = PoolObject { sha256, size };
                            known.insert(path.clone(), o);
                            learned.push((path.clone(), o));
                            Some(sha256)
                        }
                        None => None,
                    };
                    if content == Some(record.sha256) {
                        action = Some(PoolAction::Present(path.clone()));
                    }
                }
            }
            if action.is_some() {
                qualified = i == 1;
                break;
            }
        }
        let [_, qualified_path] = paths;
        let action = action.ok_or_else(|| PublishError::UnsafePoolPath {
            package: label(record),
            path: qualified_path,
        })?;
        items.push(Item {
            component,
            record,
            action,
            qualified,
            seen: Vec::new(),
            hashed: false,
        });
    }
    Ok(PoolPlan {
        items,
        learned,
        gone,
        listed_at,
    })
}

/// How many records' plain pool paths the record of the pool does not know.
fn unknown_plain(paths: &[[String; 2]], known: &HashMap<String, PoolObject>) -> usize {
    paths
        .iter()
        .filter(|[plain, _]| !known.contains_key(plain))
        .count()
}

/// The whole pool, listed in ranges split by the records' own pool paths:
/// listed in parallel, it takes a fraction of one long paged listing.
fn list_pool(base: &Bucket, paths: &[[String; 2]]) -> Result<PoolSizes, PublishError> {
    let mut splits: Vec<String> = paths
        .iter()
        .filter_map(|[plain, _]| plain.strip_prefix("pool/").map(str::to_owned))
        .collect();
    splits.sort_unstable();
    let step = splits.len().div_ceil(LIST_RANGES).max(1);
    let mut splits: Vec<String> = splits.into_iter().step_by(step).skip(1).collect();
    splits.dedup();
    let b = base.clone();
    let listed: PoolSizes =
        block_on(async move { b.list_split("pool", &splits, LIST_RANGES).await })??
            .into_iter()
            .map(|l| (format!("pool/{}", l.key), l.size))
            .collect();
    tracing::debug!(objects = listed.len(), "pool listed");
    Ok(listed)
}

/// The pool as the record knows it, plus what a `HEAD` finds at each path
/// the plan would look at that the record does not know: the plain path
/// first, the hash-qualified one only where the plain one turns out taken
/// by other content. Sizes alone decide here; the plan hashes an unrecorded
/// object whose size matches, as after a listing.
fn probe_pool(
    base: &Bucket,
    records: &[(String, PackageRecord)],
    paths: &[[String; 2]],
    known: &HashMap<String, PoolObject>,
) -> Result<PoolSizes, PublishError> {
    let mut sizes: PoolSizes = known.iter().map(|(p, o)| (p.clone(), o.size)).collect();
    let mut absent: HashSet<String> = HashSet::new();
    let mut probes = 0usize;
    loop {
        // The first path of each record that no answer settles yet.
        let mut want: Vec<String> = Vec::new();
        for ((_, record), paths) in records.iter().zip(paths) {
            for path in paths {
                if absent.contains(path) {
                    break; // free: the plan adds it here
                }
                match (sizes.get(path), known.get(path)) {
                    (Some(_), Some(o)) if o.sha256 == record.sha256 => break,
                    (Some(&size), None) if size == record.size => break, // hashed by the plan
                    (Some(_), _) => continue,                            // taken by other content
                    (None, _) => {
                        want.push(path.clone());
                        break;
                    }
                }
            }
        }
        want.sort_unstable();
        want.dedup();
        if want.is_empty() {
            break;
        }
        probes += want.len();
        let b = base.clone();
        let answers: Vec<(String, Option<u64>)> = block_on(async move {
            futures::stream::iter(want.into_iter().map(|path| {
                let b = b.clone();
                async move { b.head(&path).await.map(|size| (path, size)) }
            }))
            .buffer_unordered(UPLOADS)
            .try_collect()
            .await
        })??;
        for (path, size) in answers {
            if let Some(size) = size {
                sizes.insert(path, size);
            } else {
                absent.insert(path);
            }
        }
    }
    tracing::debug!(probes, "pool probed");
    sizes.retain(|p, _| !absent.contains(p));
    Ok(sizes)
}

/// The SHA256 of the object at `path`, read whole.
fn hash_object(base: &Bucket, path: &str) -> Result<Sha256, PublishError> {
    let (b, key) = (base.clone(), path.to_owned());
    let sha = block_on(async move {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        let Some((_, mut stream)) = b.read(&key, None).await? else {
            return Ok(None);
        };
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk?);
        }
        Ok::<_, StoreError>(Some(Sha256::from_bytes(hasher.finalize().into())))
    })??;
    // Deleted between the listing and now: treat as other content.
    Ok(sha.unwrap_or(Sha256::from_bytes([0; 32])))
}

/// What [`upload_pool`] achieved.
struct Uploaded {
    done: Vec<(String, PoolObject)>,
    error: Option<PublishError>,
}

/// Writes the new pool objects, [`UPLOADS`] at a time: a server-side copy
/// from a blob in the same bucket, else an upload (from the local blob
/// file, or from another bucket through this process).
fn upload_pool(store: &BlobStore, base: &Bucket, adds: &[&Item<'_>]) -> Uploaded {
    let mut jobs = Vec::with_capacity(adds.len());
    for it in adds {
        let PoolAction::Add(path) = &it.action else {
            continue;
        };
        let r = &it.record;
        let src = match (store.object(&r.sha256), store.local_path(&r.sha256)) {
            (Some((bucket, key)), _) => Source::Object(bucket.clone(), key),
            (None, Some(file)) => Source::File(file),
            (None, None) => continue,
        };
        let object = PoolObject {
            sha256: r.sha256,
            size: r.size,
        };
        jobs.push((path.clone(), label(r), object, src));
    }
    // Server-side copies move no bytes through this process: more of them
    // in flight keep the server busy without costing memory here.
    let (copies, transfers): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .partition(|(_, _, _, src)| matches!(src, Source::Object(b, _) if b.same_bucket(base)));
    let base = base.clone();
    let run = block_on(async move {
        let mut done = Vec::new();
        let mut error = None;
        let write = |(path, label, object, src): Write| {
            let base = base.clone();
            async move {
                let res = match &src {
                    Source::Object(b, key) if b.same_bucket(&base) => {
                        base.copy_from(b, key, &path).await
                    }
                    Source::Object(b, key) => match b.get(key).await {
                        Ok(Some(data)) => base.put(&path, data).await,
                        Ok(None) => Err(StoreError::Missing(object.sha256)),
                        Err(e) => Err(e),
                    },
                    Source::File(file) => base.put_file(&path, file).await,
                };
                (path, label, object, res)
            }
        };
        let mut results = futures::stream::select(
            futures::stream::iter(copies.into_iter().map(write)).buffer_unordered(COPIES),
            futures::stream::iter(transfers.into_iter().map(write)).buffer_unordered(UPLOADS),
        );
        while let Some((path, label, object, res)) = results.next().await {
            match res {
                Ok(()) => done.push((path, object)),
                Err(StoreError::Missing(sha256)) => {
                    error.get_or_insert(PublishError::MissingBlob {
                        package: label,
                        sha256,
                    });
                }
                Err(e) => {
                    error.get_or_insert(PublishError::Store(e));
                }
            }
        }
        Uploaded { done, error }
    });
    match run {
        Ok(u) => u,
        Err(e) => Uploaded {
            done: Vec::new(),
            error: Some(e.into()),
        },
    }
}

/// A pool object to write: its path, package, content and source.
type Write = (String, String, PoolObject, Source);

/// Where a pool object's content comes from.
enum Source {
    Object(Bucket, String),
    File(std::path::PathBuf),
}

/// Uploads the rendered tree below `dists` in the safe order; returns how
/// many by-hash files of earlier trees stay reachable.
fn upload_tree(
    base: &Bucket,
    dists: &str,
    staging: &Path,
    files: &[TreeFile],
    previous: Option<&Release>,
) -> Result<u64, PublishError> {
    let b = base.clone();
    let d = dists.to_owned();
    let existing: HashSet<String> = block_on(async move { b.list(&d).await })??
        .into_iter()
        .map(|l| l.key)
        .collect();
    let is_by_hash = |p: &str| p.contains("/by-hash/");
    let new_paths: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let kept = existing
        .iter()
        .filter(|k| is_by_hash(k) && !new_paths.contains(k.as_str()))
        .count() as u64;
    let unchanged = |f: &TreeFile| {
        existing.contains(&f.path)
            && previous
                .and_then(|r| r.files.get(&f.path))
                .and_then(|rf| rf.sha256)
                == Some(f.sha256)
    };
    let by_hash: Vec<&TreeFile> = files
        .iter()
        .filter(|f| is_by_hash(&f.path) && !existing.contains(&f.path))
        .collect();
    let plain: Vec<&TreeFile> = files
        .iter()
        .filter(|f| {
            !is_by_hash(&f.path) && !RELEASE_FILES.contains(&f.path.as_str()) && !unchanged(f)
        })
        .collect();
    upload_files(base, dists, staging, &by_hash)?;
    upload_files(base, dists, staging, &plain)?;
    for name in RELEASE_FILES {
        if let Some(f) = files.iter().find(|f| f.path == name) {
            upload_files(base, dists, staging, &[f])?;
        }
    }
    Ok(kept)
}

/// Uploads `files` of the rendered tree below `dists`, [`UPLOADS`] at a time.
fn upload_files(
    base: &Bucket,
    dists: &str,
    staging: &Path,
    files: &[&TreeFile],
) -> Result<(), PublishError> {
    if files.is_empty() {
        return Ok(());
    }
    let jobs: Vec<(String, std::path::PathBuf)> = files
        .iter()
        .map(|f| (format!("{dists}/{}", f.path), staging.join(&f.path)))
        .collect();
    let base = base.clone();
    block_on(async move {
        futures::stream::iter(jobs.into_iter().map(|(key, src)| {
            let base = base.clone();
            async move { base.put_file(&key, &src).await }
        }))
        .buffer_unordered(UPLOADS)
        .try_collect::<Vec<()>>()
        .await
    })??;
    Ok(())
}

/// Removes `dists/<distribution>/` of `prefix` from the bucket: the
/// signature files first (clients stop seeing the distribution at once),
/// then everything else. Pool objects stay (`gc` removes unreferenced ones).
pub(super) fn drop_tree(
    endpoint: &Bucket,
    prefix: &str,
    distribution: &str,
) -> Result<(), PublishError> {
    let base = prefix_bucket(endpoint, prefix);
    let dists = format!("dists/{distribution}");
    block_on(async move {
        for name in RELEASE_FILES.iter().rev() {
            base.delete(&format!("{dists}/{name}")).await?;
        }
        let rest = base.list(&dists).await?;
        futures::stream::iter(rest.into_iter().map(|l| {
            let (base, key) = (base.clone(), format!("{dists}/{}", l.key));
            async move { base.delete(&key).await }
        }))
        .buffer_unordered(UPLOADS)
        .try_collect::<Vec<()>>()
        .await
    })??;
    Ok(())
}
