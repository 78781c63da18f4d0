//! `gc`: remove what nothing kept references any more.
//!
//! Order matters for safety: the database rows go first (one transaction),
//! then the blobs they were the last to reference, so no row ever points at
//! a missing blob. `gc` holds the data root's gc lock exclusively while
//! syncs hold it shared: a blob a running sync stored but has not committed
//! yet is never collected. Each publish prefix is collected under that
//! prefix's publish lock.
//!
//! In the publish endpoint: trees retired longer ago than the grace period
//! go (longer for distributions that ever published a `Snapshots:` URL,
//! whose dated trees clients may ask for: the retention period), then pool files no kept
//! tree lists, then index-cache entries no kept tree uses.
//!
//! In the data root: cached upstream indices no mirror's current revision
//! lists (no sync runs meanwhile, so without a grace period).
//!
//! Leftovers of killed runs go once older than the grace period (a run may
//! still be going): the scratch directories of backups and restores in
//! `<root>/tmp`, and the `.tmp-*` staging trees and links of publishes.

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Context;
use super::index_cache::IndexCache;
use futures::{StreamExt as _, TryStreamExt as _};

use super::publish::{self, Endpoint, PublishError, lock_prefix, tree_ids};
use crate::db::{DbError, GcCounts};
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE};
use crate::lock::{Lock, LockError};
use crate::model::Publication;
use crate::store::s3::block_on;
use crate::store::{Bucket, StoreError};
use crate::tree::layout::{self, PRIVATE_DIR, TREES_DIR};

/// How to collect.
#[derive(Clone, Debug)]
pub struct GcOptions {
    /// Report, remove nothing.
    pub dry_run: bool,
    /// How long a retired tree (and the pool files only it lists) stays.
    pub grace: Duration,
}

/// gc failures.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    /// A sync or another gc runs.
    #[error("cannot collect while a sync or another gc runs")]
    Busy(#[source] LockError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Blob store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Publish endpoint failure (a prefix lock, a tree).
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// A file in the publish endpoint.
    #[error("gc: cannot {action} `{path}`")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
}

impl ExitCode for GcError {
    fn exit_code(&self) -> u8 {
        match self {
            GcError::Db(e) => e.exit_code(),
            GcError::Store(e) => e.exit_code(),
            GcError::Publish(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> GcError + use<> {
    let path = path.to_owned();
    move |source| GcError::Io {
        action,
        path,
        source,
    }
}

/// What a collection removed (or, dry, would remove).
#[derive(Clone, Debug, Default, Serialize)]
pub struct GcReport {
    /// Nothing was removed.
    pub dry_run: bool,
    /// Database rows.
    #[serde(flatten)]
    pub db: GcCounts,
    /// Blobs removed.
    pub blobs: u64,
    /// Their bytes, each blob once.
    pub blob_bytes: u64,
    /// Abandoned partial downloads removed.
    pub staging_files: u64,
    /// Retired publication trees removed.
    pub trees: u64,
    /// By-hash files of replaced indices removed from a bucket endpoint.
    pub by_hash_files: u64,
    /// Published pool files no kept tree lists.
    pub pool_files: u64,
    /// Bytes those pool files held on their own (not shared with a kept blob).
    pub pool_bytes: u64,
    /// On-demand pool paths no kept tree lists any more, forgotten (so
    /// `serve` fetches them no more).
    pub ondemand_paths: u64,
    /// Index-cache entries no kept tree uses, and cached upstream indices no
    /// mirror's current revision lists.
    pub index_cache_files: u64,
    /// What killed backups, restores and publishes left behind.
    pub leftovers: Vec<PathBuf>,
    /// Bytes freed in all: blobs, then pool files and cache entries that held their own bytes.
    pub freed_bytes: u64,
    /// Files (device, inode) whose bytes are counted already: a pool file
    /// that was a hard link to a removed blob frees nothing more.
    #[serde(skip)]
    counted: HashSet<(u64, u64)>,
    /// Wall time.
    pub seconds: f64,
}

impl GcReport {
    /// Adds a removed file's bytes to `pool_bytes` when it held them on its
    /// own: its last link, and not a blob counted already.
    fn count_own_bytes(&mut self, meta: &std::fs::Metadata) {
        if meta.nlink() == 1 && self.counted.insert((meta.dev(), meta.ino())) {
            self.pool_bytes += meta.len();
        }
    }
}

/// Collects garbage in the database, the blob store and the publish endpoint.
pub fn gc(ctx: &mut Context, opts: &GcOptions) -> Result<GcReport, GcError> {
    let started = Instant::now();
    let _gc = Lock::try_acquire(
        &ctx.settings.lock_dir().join("gc.lock"),
        "the data root (gc)",
    )
    .map_err(GcError::Busy)?;
    let now = Utc::now();
    let retention = chrono::Duration::days(ctx.settings.retention_days.min(1 << 20) as i64);
    let plan = ctx.db.gc_plan(now - retention)?;
    let mut report = GcReport {
        dry_run: opts.dry_run,
        ..GcReport::default()
    };
    let doomed: Vec<(Sha256, Option<u64>)> = ctx
        .store
        .inventory()?
        .into_iter()
        .filter(|(d, _)| !plan.keep_blobs.contains(d))
        .collect();
    for (d, size) in &doomed {
        report.blob_bytes += match size {
            Some(n) => *n,
            None => ctx.store.size(d)?.unwrap_or(0),
        };
    }
    report.blobs = doomed.len() as u64;
    report.db = GcCounts {
        revisions: plan.revisions.len() as u64,
        package_sets: plan.sets.len() as u64,
        packages: plan.packages.len() as u64,
        descriptions: 0,
        appstream: 0,
    };
    if !opts.dry_run {
        report.db = ctx.db.gc_apply(&plan)?;
        for (d, _) in &doomed {
            if let Some(meta) = ctx.store.local_path(d).and_then(|p| p.metadata().ok()) {
                report.counted.insert((meta.dev(), meta.ino()));
            }
            ctx.store.delete(d)?;
        }
        report.staging_files = ctx.store.clean_staging()?;
    }
    drop(plan);
    // Syncs hold the gc lock shared: none runs now, so no grace is needed.
    let listed = listed_indices(ctx)?;
    let cache = IndexCache::new(&ctx.settings.root);
    let (dry, no_grace) = (opts.dry_run, chrono::Duration::zero());
    sweep_cache(cache.dir(), &listed, now, no_grace, dry, &mut report)?;

    let grace = chrono::Duration::from_std(opts.grace).unwrap_or(chrono::Duration::MAX);
    match Endpoint::open(&ctx.settings.publish, &ctx.settings.root.join("tmp"))? {
        Endpoint::Local(endpoint) => {
            sweep_local(ctx, &endpoint, opts, now, grace, retention, &mut report)?;
        }
        Endpoint::S3 { bucket, work } => {
            let mut releases = HashMap::new();
            sweep_bucket(ctx, &bucket, opts, now, grace, &mut releases, &mut report)?;
            // The index cache of bucket endpoints lives in the data root.
            let kept = current_release_digests(ctx, &bucket, &mut releases)?;
            sweep_cache(
                &work.join("index-cache"),
                &kept,
                now,
                grace,
                opts.dry_run,
                &mut report,
            )?;
        }
    }
    sweep_leftovers(
        &ctx.settings.root.join("tmp"),
        &["backup-", "restore-"],
        now,
        grace,
        opts.dry_run,
        &mut report,
    )?;
    report.freed_bytes = report.blob_bytes + report.pool_bytes;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Collects a local endpoint: retired trees, pool files no kept tree
/// lists, index-cache entries no kept tree uses.
fn sweep_local(
    ctx: &mut Context,
    endpoint: &Path,
    opts: &GcOptions,
    now: DateTime<Utc>,
    grace: chrono::Duration,
    retention: chrono::Duration,
    report: &mut GcReport,
) -> Result<(), GcError> {
    let mut kept_indices: HashSet<Sha256> = HashSet::new();
    for (prefix, base) in publish::local_prefixes(endpoint)? {
        let _lock = lock_prefix(&ctx.settings.lock_dir(), &prefix)?;
        let mut kept_trees = Vec::new();
        let trees_root = base.join(TREES_DIR);
        let (dry_run, staging) = (opts.dry_run, [".tmp-"]);
        sweep_leftovers(&base.join("dists"), &staging, now, grace, dry_run, report)?;
        for dist in subdirs(&trees_root)? {
            let dir = trees_root.join(&dist);
            sweep_leftovers(&dir, &staging, now, grace, dry_run, report)?;
            let ids = tree_ids(&dir)?;
            let keep_for = if announces_snapshots(&dir, &ids) {
                retention.max(grace)
            } else {
                grace
            };
            let current = current_tree(&base, &dist);
            for (i, id) in ids.iter().enumerate() {
                let retired = ids
                    .get(i + 1)
                    .and_then(|next| layout::parse_tree_id(next))
                    .unwrap_or(now);
                if current.as_deref() == Some(id.as_str()) || now - retired <= keep_for {
                    kept_trees.push(dir.join(id));
                    continue;
                }
                report.trees += 1;
                if !opts.dry_run {
                    let path = dir.join(id);
                    std::fs::remove_dir_all(&path).map_err(io_err("remove", &path))?;
                }
            }
        }
        let referenced = referenced_pool(&kept_trees, &mut kept_indices)?;
        report.ondemand_paths +=
            publish::forget_unlisted(&mut ctx.db, endpoint, &base, &referenced, opts.dry_run)?;
        let pool = base.join("pool");
        sweep_pool(&base, &pool, &referenced, opts.dry_run, report)?;
    }
    report.ondemand_paths += publish::forget_orphaned(&mut ctx.db, endpoint, opts.dry_run)?;
    sweep_cache(
        &endpoint.join(PRIVATE_DIR).join("index-cache"),
        &kept_indices,
        now,
        grace,
        opts.dry_run,
        report,
    )?;
    Ok(())
}

/// Collects an endpoint in a bucket, prefix by prefix (under each prefix's
/// lock). A bucket keeps no retired trees, only the by-hash files of the
/// indices they named; so once every distribution of a prefix was switched
/// more than the grace period ago, the by-hash files and pool objects its
/// current publications do not use go. Pool objects debvault did not
/// record writing are left alone.
fn sweep_bucket(
    ctx: &mut Context,
    bucket: &Bucket,
    opts: &GcOptions,
    now: DateTime<Utc>,
    grace: chrono::Duration,
    releases: &mut ReleaseDigests,
    report: &mut GcReport,
) -> Result<(), GcError> {
    let publications = ctx.db.publications()?;
    let mut prefixes: Vec<&str> = publications.iter().map(|p| p.prefix.as_str()).collect();
    prefixes.sort_unstable();
    prefixes.dedup();
    for prefix in prefixes {
        let _lock = lock_prefix(&ctx.settings.lock_dir(), prefix)?;
        let base = if prefix == "." {
            bucket.clone()
        } else {
            bucket.sub(prefix)
        };
        let dists: Vec<&Publication> = publications.iter().filter(|p| p.prefix == prefix).collect();
        let mut settled = true;
        for p in &dists {
            let switched = ctx
                .db
                .publication_history(&p.prefix, &p.distribution)?
                .last()
                .map_or(p.published_at, |h| h.switched_at);
            settled &= now - switched > grace;
        }
        if !settled {
            continue;
        }
        // By-hash files the current Release does not name.
        let mut doomed: Vec<(String, u64)> = Vec::new();
        let mut referenced: HashSet<(String, Sha256)> = HashSet::new();
        let mut changelogs: HashSet<String> = HashSet::new();
        let mut complete = true;
        for p in &dists {
            // What the publication uses in the pool: both candidate paths
            // of each package, with its content.
            let Some(records) = publish::publication_records(&ctx.db, p)? else {
                complete = false;
                break;
            };
            for (component, record) in &records {
                for path in publish::pool_paths(component, record)? {
                    referenced.insert((path, record.sha256));
                }
            }
            // Changelogs: whatever text a later publish may have written.
            changelogs.extend(publish::changelog_paths(
                records.iter().map(|(c, r)| (c.as_str(), r)),
            ));
            let dir = format!("dists/{}", p.distribution);
            let (b, d) = (base.clone(), dir.clone());
            let (release, listed) = block_on(async move {
                let release = b.get(&format!("{d}/Release")).await?;
                let listed = b.list(&d).await?;
                Ok::<_, StoreError>((release, listed))
            })??;
            let hashes = release_digests(release.as_deref());
            releases.insert((p.prefix.clone(), p.distribution.clone()), hashes.clone());
            if hashes.is_empty() {
                // No readable Release: nothing tells which by-hash files are live.
                continue;
            }
            for l in listed {
                let hex = l.key.rsplit('/').next().unwrap_or_default();
                let named = hex.parse::<Sha256>().is_ok_and(|h| hashes.contains(&h));
                if l.key.contains("/by-hash/") && !named {
                    doomed.push((format!("{dir}/{}", l.key), l.size));
                }
            }
        }
        if !complete {
            continue;
        }
        report.by_hash_files += doomed.len() as u64;
        // Pool objects recorded as written whose (path, content) no current
        // publication of the prefix uses.
        let location = base.url().to_string();
        let known = ctx.db.remote_pool(&location)?;
        let mut gone = Vec::new();
        for (path, o) in &known {
            if !referenced.contains(&(path.clone(), o.sha256)) && !changelogs.contains(path) {
                report.pool_files += 1;
                report.pool_bytes += o.size;
                gone.push(path.clone());
                doomed.push((path.clone(), o.size));
            }
        }
        if opts.dry_run {
            continue;
        }
        let b = base.clone();
        block_on(async move {
            futures::stream::iter(doomed.into_iter().map(|(key, _)| {
                let b = b.clone();
                async move { b.delete(&key).await }
            }))
            .buffer_unordered(16)
            .try_collect::<Vec<()>>()
            .await
        })??;
        ctx.db.record_remote_pool(&location, &[], &gone, None)?;
    }
    Ok(())
}

/// The digests each publication's current Release lists, by prefix and
/// distribution: read once per gc.
type ReleaseDigests = HashMap<(String, String), HashSet<Sha256>>;

/// The SHA256 digests a Release names; none for a missing or unreadable one.
fn release_digests(release: Option<&[u8]>) -> HashSet<Sha256> {
    release
        .and_then(|r| std::str::from_utf8(r).ok())
        .and_then(|t| Release::parse(t).ok())
        .map(|r| r.files.values().filter_map(|f| f.sha256).collect())
        .unwrap_or_default()
}

/// Every digest the current Release of each publication in `bucket` lists
/// (the index cache is keyed by them), reading only the Releases the
/// bucket sweep did not.
fn current_release_digests(
    ctx: &Context,
    bucket: &Bucket,
    releases: &mut ReleaseDigests,
) -> Result<HashSet<Sha256>, GcError> {
    let mut kept = HashSet::new();
    for p in ctx.db.publications()? {
        let id = (p.prefix.clone(), p.distribution.clone());
        if !releases.contains_key(&id) {
            let base = if p.prefix == "." {
                bucket.clone()
            } else {
                bucket.sub(&p.prefix)
            };
            let key = format!("dists/{}/Release", p.distribution);
            let release = block_on(async move { base.get(&key).await })??;
            releases.insert(id.clone(), release_digests(release.as_deref()));
        }
        kept.extend(releases[&id].iter().copied());
    }
    Ok(kept)
}

fn subdirs(dir: &Path) -> Result<Vec<String>, GcError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("list", dir)(e)),
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(io_err("list", dir))?;
        if e.file_type().is_ok_and(|t| t.is_dir())
            && let Ok(name) = e.file_name().into_string()
        {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Whether any of a distribution's trees was published with a
/// `Snapshots:` field: clients may then ask for any of its dated trees, so
/// all stay for the retention period. What was published decides, not the
/// current settings (an earlier release dropped the field on a re-publish
/// without `--snapshots-url`, and gc then removed trees clients used).
fn announces_snapshots(dir: &Path, ids: &[String]) -> bool {
    ids.iter().any(|id| {
        std::fs::read_to_string(dir.join(id).join("Release"))
            .is_ok_and(|text| text.lines().any(|l| l.starts_with("Snapshots:")))
    })
}

/// The tree `dists/<dist>` points at, if it is one of ours.
fn current_tree(base: &Path, dist: &str) -> Option<String> {
    let target = std::fs::read_link(base.join("dists").join(dist)).ok()?;
    let name = target.file_name()?.to_str()?.to_owned();
    target
        .to_str()?
        .contains(&format!("{TREES_DIR}/{dist}/"))
        .then_some(name)
}

/// The pool paths the kept trees list, reading each distinct `Packages` once;
/// records the plain indices' digests (the index cache keeps those).
fn referenced_pool(
    trees: &[PathBuf],
    kept_indices: &mut HashSet<Sha256>,
) -> Result<HashSet<String>, GcError> {
    let mut seen_inodes = HashSet::new();
    let mut out = HashSet::new();
    for tree in trees {
        let release_path = tree.join("Release");
        let text = match std::fs::read_to_string(&release_path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err("read", &release_path)(e)),
        };
        let Ok(release) = Release::parse(&text) else {
            continue;
        };
        for (path, file) in &release.files {
            let sources = path.ends_with("/source/Sources");
            if !(sources || path.ends_with("/Packages") && path.contains("/binary-")) {
                continue;
            }
            if let Some(sha) = file.sha256 {
                kept_indices.insert(sha);
            }
            let index = tree.join(path);
            let Ok(meta) = std::fs::metadata(&index) else {
                continue;
            };
            if !seen_inodes.insert((meta.dev(), meta.ino())) {
                continue;
            }
            let body = std::fs::read_to_string(&index).map_err(io_err("read", &index))?;
            if sources {
                out.extend(
                    crate::debian::sources::listed_files(&body)
                        .into_iter()
                        .map(|f| f.0),
                );
                continue;
            }
            for line in body.lines() {
                if let Some(f) = line.strip_prefix("Filename:") {
                    out.insert(f.trim().to_owned());
                }
            }
            // Each source version's changelog, beside its pool files.
            if let Some(component) = publish::component_of_index(path) {
                publish::changelog_paths_in_packages(component, &body, &mut out);
            }
        }
    }
    Ok(out)
}

/// Removes pool files no kept tree lists, then the directories left empty.
fn sweep_pool(
    base: &Path,
    dir: &Path,
    referenced: &HashSet<String>,
    dry_run: bool,
    report: &mut GcReport,
) -> Result<bool, GcError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(io_err("list", dir)(e)),
    };
    let mut empty = true;
    for e in entries {
        let e = e.map_err(io_err("list", dir))?;
        let path = e.path();
        let meta = std::fs::symlink_metadata(&path).map_err(io_err("stat", &path))?;
        if meta.is_dir() {
            if sweep_pool(base, &path, referenced, dry_run, report)? && !dry_run {
                // A concurrent writer cannot exist (the prefix lock); a failure here is harmless.
                let _ = std::fs::remove_dir(&path);
            } else {
                empty = false;
            }
            continue;
        }
        let rel = path
            .strip_prefix(base)
            .ok()
            .and_then(|p| p.to_str())
            .unwrap_or_default();
        if referenced.contains(rel) {
            empty = false;
            continue;
        }
        report.pool_files += 1;
        report.count_own_bytes(&meta);
        if dry_run {
            empty = false;
        } else {
            std::fs::remove_file(&path).map_err(io_err("remove", &path))?;
        }
    }
    Ok(empty)
}

/// The index digests the current revision of each mirror lists (its stats'
/// `indices`): the cached upstream indices the next syncs may reuse.
fn listed_indices(ctx: &Context) -> Result<HashSet<Sha256>, GcError> {
    let mut listed = HashSet::new();
    for mirror in ctx.db.mirrors()? {
        let Some(rev) = mirror.state.revision else {
            continue;
        };
        let stats = ctx.db.revision(rev)?.map(|r| r.stats);
        if let Some(indices) = stats.as_ref().and_then(|s| s.get("indices")?.as_object()) {
            listed.extend(
                indices
                    .values()
                    .filter_map(|v| v.as_str()?.parse::<Sha256>().ok()),
            );
        }
    }
    Ok(listed)
}

/// Removes index-cache entries that no kept tree uses and that are older
/// than the grace period (a publish running in another prefix may have
/// just written them).
fn sweep_cache(
    cache: &Path,
    kept: &HashSet<Sha256>,
    now: DateTime<Utc>,
    grace: chrono::Duration,
    dry_run: bool,
    report: &mut GcReport,
) -> Result<(), GcError> {
    let entries = match std::fs::read_dir(cache) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("list", cache)(e)),
    };
    for e in entries {
        let e = e.map_err(io_err("list", cache))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let stem = name.split('.').next().unwrap_or_default();
        if stem.parse::<Sha256>().is_ok_and(|d| kept.contains(&d)) {
            continue;
        }
        let path = e.path();
        let meta = std::fs::symlink_metadata(&path).map_err(io_err("stat", &path))?;
        let modified: DateTime<Utc> = meta.modified().map(Into::into).unwrap_or(now);
        if now - modified <= grace {
            continue;
        }
        report.index_cache_files += 1;
        report.count_own_bytes(&meta);
        if !dry_run {
            std::fs::remove_file(&path).map_err(io_err("remove", &path))?;
        }
    }
    Ok(())
}

/// Removes the entries of `dir` whose names start with one of `prefixes`
/// (what killed runs leave) and that were last modified longer than the
/// grace period ago, recording each in the report.
fn sweep_leftovers(
    dir: &Path,
    prefixes: &[&str],
    now: DateTime<Utc>,
    grace: chrono::Duration,
    dry_run: bool,
    report: &mut GcReport,
) -> Result<(), GcError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("list", dir)(e)),
    };
    let mut found = Vec::new();
    for e in entries {
        let e = e.map_err(io_err("list", dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !prefixes.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let path = e.path();
        let meta = std::fs::symlink_metadata(&path).map_err(io_err("stat", &path))?;
        let modified: DateTime<Utc> = meta.modified().map(Into::into).unwrap_or(now);
        if now - modified > grace {
            found.push((path, meta.is_dir()));
        }
    }
    found.sort();
    for (path, is_dir) in found {
        if !dry_run {
            let removed = if is_dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(io_err("remove", &path))?;
        }
        report.leftovers.push(path);
    }
    Ok(())
}
