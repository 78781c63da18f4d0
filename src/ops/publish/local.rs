//! Publishing to a local directory: trees side by side under
//! `<prefix>/.debvault/trees/<distribution>/<tree id>`, `dists/<distribution>` a
//! symlink to the current one, replaced by one `rename(2)`.
//!
//! [`publish_local`] runs the steps of the parent's module docs; the helpers
//! here name the trees, keep the by-hash files of recently replaced trees,
//! make the switch durable and date it, and clean up after killed runs.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::indices::{build_indices, entries, plain_entries};
use super::ledger::Ledger;
use super::pool::{DirsMade, Item, count_pool, execute_pool, plan_pool};
use super::sources::{place_sources, qualified_sources};
use super::translations::translation_indices;
use super::{BY_HASH_GRACE, Job, PublishError, PublishOutcome, PublishReport, io_err, prefix_dir};
use crate::db::Db;
use crate::debian::release::Release;
use crate::model::{PackageRecord, Publication};
use crate::store::BlobStore;
use crate::tree::layout::{self, PRIVATE_DIR, TREES_DIR};
use crate::tree::{
    IndexInput, ReleaseMeta, RenderOptions, RenderedTree, TreeError, finish, render, verify_tree,
    write_indices, write_indices_kept,
};

/// Publishes to a local directory: trees beside each other, a symlink switch.
pub(super) fn publish_local(
    db: &mut Db,
    store: &BlobStore,
    endpoint: &Path,
    mut job: Job<'_>,
) -> Result<PublishReport, PublishError> {
    let base = prefix_dir(endpoint, &job.prefix)?;
    let dist_link = base.join("dists").join(&job.distribution);
    if let Some(cur) = &job.current
        && is_current(&job, cur, &base, &dist_link)
    {
        return Ok(job.end(PublishOutcome::Unchanged));
    }
    check_link(&dist_link)?;

    // Load and plan the pool.
    let records = job.records(db)?;
    // Indices besides Packages, the same whatever the pool holds.
    let mut more = translation_indices(db, &records)?;
    more.extend(super::appstream::appstream_indices(
        db,
        &records,
        &job.architectures(),
    )?);
    more.extend(super::cnf::commands_indices(db, &records, &job)?);
    let images = super::installer::for_job(db, &job)?;
    more.extend(super::installer::sums_indices(&images)?);
    tracing::debug!(packages = records.len(), elapsed = ?job.started.elapsed(), "packages loaded");
    // Pool files that are copies (blobs in a bucket, or on another file
    // system) have no blob inode to compare with: the ledger remembers
    // which are known (see `ledger`). Hard links never consult it.
    let ledger_file = Ledger::file(endpoint, &job.prefix);
    let ledger = Ledger::load(&ledger_file);
    let recorded = super::ondemand::Recorded::load(db, endpoint, &base)?;
    let records = place_sources(records, |r| {
        Ok(qualified_sources(&plan_pool(
            &base, store, &ledger, &recorded, r,
        )?))
    })?;
    let remote = super::ondemand::remote(db, store, &records)?;
    let on_demand = std::sync::Mutex::new(super::ondemand::PoolPaths::default());
    let pool = LocalPool {
        base: &base,
        store,
        ledger,
        ledger_file,
        recorded: &recorded,
        records: &records,
        remote: &remote,
        on_demand: &on_demand,
    };
    if job.opts.dry_run {
        let items = plan_pool(&base, store, &pool.ledger, &recorded, &records)?;
        count_pool(&mut job.report, &items);
        job.report.indices =
            (build_indices(&job.architectures(), entries(&items)).len() + more.len()) as u64;
        return Ok(job.end(PublishOutcome::DryRun));
    }
    if job.keys.is_empty() {
        return Err(PublishError::Tree(TreeError::NoSigningKeys));
    }

    // Render the new tree next to the old ones.
    let trees = base.join(TREES_DIR).join(&job.distribution);
    crate::atomic_file::create_dir_all(&trees, crate::atomic_file::PUBLIC_DIR)
        .map_err(io_err("create", &trees))?;
    clean_staging(&trees);
    clean_staging(&base.join("dists"));
    let now = Utc::now();
    let tree = next_tree_id(&trees, now)?;
    let staging = trees.join(format!(".tmp-{tree}-{}", std::process::id()));
    let meta = job.release_meta(now);
    let mut render_opts = job.opts.render.clone();
    if render_opts.cache_dir.is_none() {
        render_opts.cache_dir = Some(endpoint.join(PRIVATE_DIR).join("index-cache"));
    }
    let logs = super::changelogs::LocalLogs::begin(&base)?;
    let rendered = fill_and_render(
        &mut job,
        pool,
        db,
        more,
        &logs,
        (&staging, &meta, &render_opts),
    )?;
    super::installer::place_local(store, &staging, &images)?;
    job.report.by_hash_kept = keep_by_hash(&trees, &staging, now)?;
    let keyring = job.keyring()?;
    tracing::debug!(elapsed = ?job.started.elapsed(), "tree rendered and pool linked");
    verify_tree(&staging, &keyring)?;
    tracing::debug!(elapsed = ?job.started.elapsed(), "tree verified");

    // Pool paths left to fetch on demand, recorded before clients see them.
    let on_demand = on_demand.into_inner().unwrap_or_else(|p| p.into_inner());
    job.report.pool_on_demand = on_demand.left.len() as u64;
    super::ondemand::record(db, endpoint, &base, on_demand)?;

    // Switch: everything durable first, then one rename of the link.
    let final_dir = trees.join(&tree);
    sync_fs(&base)?;
    logs.done();
    std::fs::rename(&staging, &final_dir).map_err(io_err("rename", &staging))?;
    tracing::debug!(elapsed = ?job.started.elapsed(), "synced");
    let replaced = std::fs::metadata(dist_link.join("InRelease"))
        .and_then(|m| m.modified())
        .ok();
    switch_link(&dist_link, &job.distribution, &tree)?;
    if let Err(e) = date_to_switch(&final_dir, replaced) {
        job.warn(e);
    }
    job.record(db, &tree, &rendered, &meta)
}

/// The pool of a local publish and what planning it needs.
struct LocalPool<'a> {
    /// The prefix's directory.
    base: &'a Path,
    store: &'a BlobStore,
    /// What the pool's copies hold, and the file it is kept in.
    ledger: Ledger,
    ledger_file: PathBuf,
    /// Pool paths left unfilled on demand: taken (see `ondemand`).
    recorded: &'a super::ondemand::Recorded,
    /// The snapshot's packages with their components.
    records: &'a [(String, PackageRecord)],
    /// Package files the store lacks that are fetched on demand.
    remote: &'a std::collections::HashSet<crate::digest::Sha256>,
    /// Their pool paths, once planned (see `ondemand`).
    on_demand: &'a std::sync::Mutex<super::ondemand::PoolPaths>,
}

/// Fills the pool and renders the tree into `staging` with the Packages
/// indices and the `more` ones, counting both into the report.
///
/// Planning and filling the pool is file-system work (`stat`, `mkdir`,
/// `link`); rendering is compression. They overlap: the indices are
/// rendered from a guess, every package at its plain pool path, which only
/// a hash-qualified path (content that changed under a name already in the
/// pool) proves wrong, and then they are rendered again.
/// Places the pool while this thread reads the .debs the database lacks
/// (Contents and changelogs, each changelog written as soon as it is read)
/// and renders the tree; meanwhile a thread writes the changelogs whose
/// texts were read before, fed from the database a batch at a time, each
/// once the pool placement has made its directory. The kernel's work of
/// making files overlaps the reading and the compression.
fn fill_and_render(
    job: &mut Job<'_>,
    pool: LocalPool<'_>,
    db: &mut Db,
    mut more: Vec<IndexInput>,
    logs: &super::changelogs::LocalLogs<'_>,
    (staging, meta, render_opts): (&Path, &ReleaseMeta, &RenderOptions),
) -> Result<RenderedTree, PublishError> {
    let archs = &job.architectures();
    let (keys, started, records, remote, store) =
        (job.keys, job.started, pool.records, pool.remote, pool.store);
    let shared: &Job<'_> = job;
    // Packages and the indices that need no .deb are compressed while the
    // .debs are read; the Contents follow, then the Release lists both.
    let mut guess = build_indices(archs, plain_entries(records));
    guess.extend_from_slice(&more);
    let guessed_count = guess.len();
    let (filled, guessed, contents) = std::thread::scope(|s| {
        let (tx, rx) = super::changelogs::feed();
        let filled = s.spawn(move || {
            let (filled, written) = fill_pool(pool, started, |made| {
                super::changelogs::write_local(logs, rx, made)
            })?;
            tracing::debug!(written, elapsed = ?started.elapsed(), "changelogs written");
            Ok(filled)
        });
        let early = s.spawn(move || {
            super::pool::yield_to_maker();
            write_indices(staging, guess, meta, render_opts)
        });
        let contents = super::contents::for_job(db, store, records, shared, remote, Some(logs));
        let (guessed, fed, contents) = match contents {
            Ok(extras) => {
                let (list, done) = (extras.changelogs, extras.done);
                let fed = s.spawn(move || {
                    super::pool::yield_to_maker();
                    super::changelogs::feed_local(db, logs, &list, &done, tx)
                });
                // Kept: a hash-qualified pool path renders them again.
                let late = write_indices_kept(staging, &extras.contents, meta, render_opts);
                let early = early
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                let rendered = early
                    .and_then(|early| finish(staging, vec![early, late?], meta, keys))
                    .map_err(PublishError::Tree);
                let fed = fed.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                (rendered, fed, extras.contents)
            }
            // The pool thread finishes what it started (its files are
            // harmless, and `gc` takes those no tree lists), then finds no
            // changelogs coming.
            Err(e) => {
                drop(tx);
                let _ = early.join();
                (Err(e), Ok(()), Vec::new())
            }
        };
        let filled = filled
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (fed.and(filled), guessed, contents)
    });
    let guessed = guessed.map(|r| (r, guessed_count + contents.len()));
    more.extend(contents);
    let items = match filled {
        Ok((items, warning)) => {
            if let Some(w) = warning {
                job.warn(w);
            }
            items
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(staging);
            return Err(e);
        }
    };
    count_pool(&mut job.report, &items);
    let (rendered, indices) = if job.report.pool_qualified == 0 {
        guessed?
    } else {
        tracing::debug!(
            qualified = job.report.pool_qualified,
            "rendering again with hash-qualified paths"
        );
        let _ = std::fs::remove_dir_all(staging);
        let mut indices = build_indices(archs, entries(&items));
        indices.extend_from_slice(&more);
        (
            render(staging, &indices, meta, keys, render_opts)?,
            indices.len(),
        )
    };
    job.report.indices = indices as u64;
    job.report.reused_indices = u64::from(rendered.reused_indices);
    for w in &rendered.warnings {
        job.warn(w.clone());
    }
    Ok(rendered)
}

/// Plans the pool, links or copies the missing files and saves the ledger
/// (trouble saving it is only a warning, returned with the items: the next
/// publish hashes instead). `follow` runs meanwhile (see [`execute_pool`]).
fn fill_pool<'a, F>(
    pool: LocalPool<'a>,
    started: Instant,
    follow: F,
) -> Result<(Filled<'a>, u64), PublishError>
where
    F: FnOnce(&DirsMade<'_>) -> Result<u64, PublishError> + Send,
{
    let mut items = plan_pool(
        pool.base,
        pool.store,
        &pool.ledger,
        pool.recorded,
        pool.records,
    )?;
    tracing::debug!(elapsed = ?started.elapsed(), "pool planned");
    let aside = super::ondemand::set_aside(&mut items, pool.remote);
    let (placed, followed) = execute_pool(pool.base, pool.store, &items, follow)?;
    tracing::debug!(elapsed = ?started.elapsed(), "pool placed");
    *pool.on_demand.lock().unwrap_or_else(|p| p.into_inner()) =
        super::ondemand::restore(&mut items, &aside);
    let seen: Vec<_> = items
        .iter()
        .flat_map(|it| it.seen.iter().cloned())
        .chain(placed)
        .collect();
    // Nothing to record and nothing recorded: only hard links here.
    let mut warning = None;
    if !(seen.is_empty() && pool.ledger.is_empty())
        && let Err(e) = pool.ledger.save(&pool.ledger_file, pool.base, seen)
    {
        let file = pool.ledger_file.display();
        warning = Some(format!(
            "cannot write the pool ledger `{file}` ({e}): the next publish reads the pool files again"
        ));
    }
    Ok(((items, warning), followed))
}

/// The pool's items, and a warning if its ledger could not be saved.
type Filled<'a> = (Vec<Item<'a>>, Option<String>);

/// Whether `cur` already publishes what `job` asks for and its tree is the
/// one `dist_link` points at.
fn is_current(job: &Job<'_>, cur: &Publication, base: &Path, dist_link: &Path) -> bool {
    if !job.republishes(cur) {
        return false;
    }
    let expected = base.join(TREES_DIR).join(&cur.distribution).join(&cur.tree);
    let linked = std::fs::canonicalize(dist_link).ok();
    linked.is_some() && linked == std::fs::canonicalize(&expected).ok()
}

/// Refuses to replace a `dists/<distribution>` that is not our symlink.
fn check_link(link: &Path) -> Result<(), PublishError> {
    match std::fs::symlink_metadata(link) {
        Ok(m) if !m.file_type().is_symlink() => Err(PublishError::Foreign(link.to_owned())),
        Ok(_) => {
            let target = std::fs::read_link(link).map_err(io_err("read", link))?;
            let ours = target
                .to_str()
                .is_some_and(|t| t.starts_with(&format!("../{TREES_DIR}/")));
            if ours {
                Ok(())
            } else {
                Err(PublishError::Foreign(link.to_owned()))
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("inspect", link)(e)),
    }
}

/// Removes what killed publishes left in `dir` (under the lock): staging
/// trees and half-made `dists/` symlinks, all named `.tmp-*`.
fn clean_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(".tmp-") {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => {
                let _ = std::fs::remove_dir_all(e.path());
            }
            Ok(_) => {
                let _ = std::fs::remove_file(e.path());
            }
            Err(_) => {}
        }
    }
}

/// Tree ids present under `trees`.
pub(crate) fn tree_ids(trees: &Path) -> Result<Vec<String>, PublishError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(trees) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_err("list", trees)(e)),
    };
    for e in entries {
        let e = e.map_err(io_err("list", trees))?;
        if let Ok(name) = e.file_name().into_string()
            && layout::tree_order(&name).is_some()
        {
            out.push(name);
        }
    }
    out.sort_by_key(|n| layout::tree_order(n));
    Ok(out)
}

/// A tree id for `now` that sorts after every existing tree: a later
/// second than the last tree's, so every tree has its own second and
/// `snapshots/<id>/` names exactly one of them.
fn next_tree_id(trees: &Path, now: DateTime<Utc>) -> Result<String, PublishError> {
    let last = tree_ids(trees)?
        .last()
        .and_then(|t| layout::parse_tree_id(t));
    let at = match last {
        Some(last) if layout::tree_id(now) <= layout::tree_id(last) => {
            last + chrono::Duration::seconds(1)
        }
        _ => now,
    };
    Ok(layout::tree_id(at))
}

/// Links the current indices of the trees replaced less than
/// [`BY_HASH_GRACE`] ago (always the one being replaced now) into the new
/// tree's by-hash directories. Returns how many files were linked.
fn keep_by_hash(trees: &Path, new_tree: &Path, now: DateTime<Utc>) -> Result<u64, PublishError> {
    let ids = tree_ids(trees)?;
    let grace = chrono::Duration::from_std(BY_HASH_GRACE).unwrap_or_default();
    let mut kept = 0;
    for (i, id) in ids.iter().enumerate() {
        // A tree was retired when its successor was made; the newest one now.
        let retired = ids
            .get(i + 1)
            .and_then(|next| layout::parse_tree_id(next))
            .unwrap_or(now);
        if now - retired > grace {
            continue;
        }
        let old = trees.join(id);
        let Ok(text) = std::fs::read_to_string(old.join("Release")) else {
            continue;
        };
        let Ok(release) = Release::parse(&text) else {
            continue;
        };
        for (path, file) in &release.files {
            let Some(sha) = file.sha256 else { continue };
            let Some((dir, name)) = path.rsplit_once('/') else {
                continue;
            };
            // Every listed index form has a by-hash copy; the small
            // per-index `Release` files have none.
            if name == "Release" {
                continue;
            }
            let hex = sha.to_hex();
            let target_dir = new_tree.join(dir).join("by-hash/SHA256");
            let target = target_dir.join(&hex);
            if target.exists() {
                continue;
            }
            let src = old.join(dir).join("by-hash/SHA256").join(&hex);
            if !src.exists() {
                continue;
            }
            crate::atomic_file::create_dir_all(&target_dir, crate::atomic_file::PUBLIC_DIR)
                .map_err(io_err("create", &target_dir))?;
            match std::fs::hard_link(&src, &target) {
                Ok(()) => kept += 1,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("link", &target)(e)),
            }
        }
    }
    Ok(kept)
}

/// Makes everything written on `dir`'s file system durable (one `syncfs`).
fn sync_fs(dir: &Path) -> Result<(), PublishError> {
    let f = std::fs::File::open(dir).map_err(io_err("open", dir))?;
    rustix::fs::syncfs(&f).map_err(|e| io_err("sync", dir)(e.into()))
}

/// Points `dists/<distribution>` at the tree `tree`: a new symlink renamed
/// over the old one (atomic), then the directory synced.
fn switch_link(link: &Path, distribution: &str, tree: &str) -> Result<(), PublishError> {
    let dists = link.parent().unwrap_or(Path::new("."));
    crate::atomic_file::create_dir_all(dists, crate::atomic_file::PUBLIC_DIR)
        .map_err(io_err("create", dists))?;
    let target = format!("../{TREES_DIR}/{distribution}/{tree}");
    let tmp = dists.join(format!(".tmp-{distribution}-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&target, &tmp).map_err(io_err("create", &tmp))?;
    std::fs::rename(&tmp, link).map_err(io_err("switch", link))?;
    std::fs::File::open(dists)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync", dists))
}

/// Dates the switched-in tree's `InRelease`, `Release` and `Release.gpg`
/// to now, and to a later second than the `InRelease` they replaced.
///
/// They were written before the switch, and `Last-Modified` has whole
/// seconds. A client that fetched the old `InRelease` after the new one
/// was written, or in the same second, would revalidate with a date no
/// older than the new file's, and a server comparing dates (`debvault
/// serve`, nginx) would answer "not modified": the client would stay on
/// the old publication until the next switch. Best effort: the switch has
/// happened, so trouble is only a warning (returned).
fn date_to_switch(tree_dir: &Path, replaced: Option<std::time::SystemTime>) -> Result<(), String> {
    use std::time::{SystemTime, UNIX_EPOCH};
    let now = SystemTime::now();
    let after_replaced = replaced
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| UNIX_EPOCH + Duration::from_secs(d.as_secs() + 1));
    let at = after_replaced.map_or(now, |t| t.max(now));
    for name in ["InRelease", "Release", "Release.gpg"] {
        let path = tree_dir.join(name);
        if let Err(error) = std::fs::File::open(&path).and_then(|f| f.set_modified(at)) {
            return Err(format!(
                "cannot date `{}` to the switch ({error}): a client may stay on the replaced publication until the next switch",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Removes the `dists/<distribution>` link (if it is ours), then the
/// distribution's trees.
pub(super) fn drop_local(
    endpoint: &Path,
    prefix: &str,
    distribution: &str,
) -> Result<(), PublishError> {
    let base = prefix_dir(endpoint, prefix)?;
    let link = base.join("dists").join(distribution);
    check_link(&link)?;
    match std::fs::remove_file(&link) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err("remove", &link)(e)),
        _ => {}
    }
    let trees = base.join(TREES_DIR).join(distribution);
    match std::fs::remove_dir_all(&trees) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err("remove", &trees)(e)),
        _ => Ok(()),
    }
}
