//! `snapshot publish`: a snapshot as a signed apt tree, switched in atomically.
//!
//! The flow (DESIGN.md §4), under the prefix's lock:
//!
//! 1. load the snapshot's packages (one package-set read, one row per
//!    package);
//! 2. plan the pool: each package's path is
//!    `pool/<component>/<x>/<source>/<file>`; a path that already holds
//!    other content keeps it (write-once) and the package goes to
//!    `…/<source>/sha256-<16 hex>/<file>` instead — this is decided by
//!    looking at the files, so a killed publish or an edited database can
//!    never make a pool file change under its name;
//! 3. hardlink the missing pool files from the blob store (a copy through a
//!    temporary name when the store is on another file system);
//! 4. render `Packages`, `.gz`, `.xz`, by-hash, `Release`, `InRelease` and
//!    `Release.gpg` into a new tree directory (compressed indices whose
//!    `Packages` did not change come from the index cache) while 2 and 3
//!    run, from a guess that every package is at its plain path (rendered
//!    again in the rare case a hash-qualified path proves it wrong); then
//!    link in the by-hash files of the trees replaced within the grace
//!    period;
//! 5. verify the tree as apt would (hashes, sizes, signatures with the
//!    public keys), make everything durable with one `syncfs`;
//! 6. switch: `dists/<distribution>` is a symlink, replaced by `rename(2)`
//!    of a new one — readers see the old tree or the new one, never a mix;
//! 7. record the publication in the database.
//!
//! A publish of the snapshot and options already published is a no-op.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{Db, DbError, NewPublication};
use crate::debian::packages::pool_dir;
use crate::debian::release::Release;
use crate::debian::safe_path::SafePath;
use crate::debian::version;
use crate::digest::{HashingReader, Sha256};
use crate::exit::ExitCode as _;
use crate::lock::{Lock, LockError};
use crate::model::{PackageRecord, Publication, ReleaseOptions, Snapshot};
use crate::ops::snapshot::{self, SnapshotError};
use crate::pgp::{Keyring, PgpError, SigningKey};
use crate::store::{BlobStore, Bucket, FlushBehind, S3Url, StoreError, s3};
use crate::tree::layout::{self, PRIVATE_DIR, TREES_DIR};
use crate::tree::{IndexInput, ReleaseMeta, RenderOptions, TreeError, render, verify_tree};

mod ledger;
mod s3_publish;

use ledger::{Ledger, Seen};

/// How long by-hash files of a replaced tree stay reachable from the
/// current one, for clients that fetched the old `InRelease` (and caches
/// that still serve it).
pub const BY_HASH_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Threads linking pool files (the work is file-system metadata).
const POOL_THREADS: usize = 4;

/// Why a publish (or publication command) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// A snapshot problem (unknown name, …).
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// An invalid prefix.
    #[error(
        "prefix `{0}` is not valid: use `/`-separated parts of letters, digits, `.`, `_`, `+`, `-` (not `dists`, `pool` or `snapshots`)"
    )]
    BadPrefix(String),
    /// An invalid distribution.
    #[error(
        "distribution `{0}` is not valid: use letters, digits, `.`, `_`, `+` and `-`, not starting with a dot"
    )]
    BadDistribution(String),
    /// No distribution given and none can be derived.
    #[error("snapshot `{0}` does not come from exactly one upstream suite; give `--distribution`")]
    NoDistribution(String),
    /// A dated distribution is immutable.
    #[error(
        "distribution `{distribution}` carries the name of snapshot `{published}` and is immutable; publish `{requested}` under another distribution"
    )]
    Immutable {
        /// The distribution.
        distribution: String,
        /// The snapshot it publishes.
        published: String,
        /// The snapshot asked for.
        requested: String,
    },
    /// No publication there.
    #[error("nothing is published as `{distribution}` under prefix `{prefix}`")]
    NoPublication {
        /// The prefix.
        prefix: String,
        /// The distribution.
        distribution: String,
    },
    /// A Release option is unusable.
    #[error("{0}")]
    BadOption(String),
    /// `dists/<distribution>` exists and is not ours.
    #[error("`{}` exists and is not a debvault publication; move it away first", .0.display())]
    Foreign(PathBuf),
    /// A package's blob is not in the store.
    #[error(
        "the file of `{package}` (SHA256 {sha256}) is missing from the blob store; run `debvault verify`"
    )]
    MissingBlob {
        /// `name_version_arch`.
        package: String,
        /// Its digest.
        sha256: Sha256,
    },
    /// A package whose pool path would be unsafe.
    #[error("package `{package}` would be published at an unsafe path `{path}`")]
    UnsafePoolPath {
        /// `name_version_arch`.
        package: String,
        /// The path.
        path: String,
    },
    /// Another publish holds the prefix.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// File system trouble.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Rendering or verifying the tree failed.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The signing keys could not be used.
    #[error("cannot use the signing keys")]
    Keys(#[source] PgpError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The blob store or the object-storage endpoint failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PublishError {
    /// The process exit code: 2 for unusable arguments, 3 when the rendered
    /// tree fails its own verification, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            PublishError::Snapshot(e) => e.exit_code(),
            PublishError::BadPrefix(_)
            | PublishError::BadDistribution(_)
            | PublishError::NoDistribution(_)
            | PublishError::BadOption(_) => 2,
            PublishError::Tree(
                TreeError::Signature { .. }
                | TreeError::Hash { .. }
                | TreeError::Size { .. }
                | TreeError::Missing { .. }
                | TreeError::ReleaseMismatch { .. },
            ) => 3,
            _ => 1,
        }
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> PublishError + use<> {
    let path = path.to_owned();
    move |source| PublishError::Io {
        action,
        path,
        source,
    }
}

/// What to publish where.
#[derive(Clone, Debug, Default)]
pub struct PublishOptions {
    /// Prefix below the endpoint; `.` (or empty) for its root.
    pub prefix: String,
    /// Distribution; default: the suite of the snapshot's mirror.
    pub distribution: Option<String>,
    /// Release fields.
    pub release: ReleaseOptions,
    /// Plan only.
    pub dry_run: bool,
    /// Compression settings.
    pub render: RenderOptions,
}

/// How a publish ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PublishOutcome {
    /// A new tree was switched in.
    Published,
    /// The snapshot was already published with these options.
    Unchanged,
    /// `--dry-run`: nothing written.
    DryRun,
}

/// What a publish did (or, for a dry run, would do).
#[derive(Clone, Debug, Serialize)]
pub struct PublishReport {
    /// The snapshot.
    pub snapshot: String,
    /// The prefix.
    pub prefix: String,
    /// The distribution.
    pub distribution: String,
    /// The outcome.
    pub outcome: PublishOutcome,
    /// The snapshot published before, if another.
    pub replaced: Option<String>,
    /// The tree now current.
    pub tree: Option<String>,
    /// Packages published.
    pub packages: u64,
    /// Pool files linked or copied now.
    pub pool_added: u64,
    /// Pool files that were already in place.
    pub pool_present: u64,
    /// Packages published at a hash-qualified path because their plain
    /// pool path holds other content.
    pub pool_qualified: u64,
    /// Pool files read to compare their content: same-sized files that are
    /// not links of a local blob, and not in the pool ledger unchanged.
    pub pool_hashed: u64,
    /// `Packages` indices written.
    pub indices: u64,
    /// Of those, how many reused compressed files from the cache.
    pub reused_indices: u64,
    /// By-hash files kept from replaced trees.
    pub by_hash_kept: u64,
    /// `Valid-Until`, if any.
    pub valid_until: Option<DateTime<Utc>>,
    /// Seconds taken.
    pub seconds: f64,
    /// Object-storage requests made, when the endpoint or the blob store is
    /// a bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_requests: Option<u64>,
}

/// The directory of `prefix` below `endpoint`, after validating it.
pub fn prefix_dir(endpoint: &Path, prefix: &str) -> Result<PathBuf, PublishError> {
    let norm = normalize_prefix(prefix)?;
    Ok(if norm == "." {
        endpoint.to_owned()
    } else {
        endpoint.join(norm)
    })
}

/// `.` for the root, else the `/`-joined parts; rejects unsafe prefixes.
pub fn normalize_prefix(prefix: &str) -> Result<String, PublishError> {
    let parts: Vec<&str> = prefix
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        return Ok(".".to_owned());
    }
    for p in &parts {
        if !layout::valid_segment(p) || matches!(*p, "dists" | "pool" | "snapshots") {
            return Err(PublishError::BadPrefix(prefix.to_owned()));
        }
    }
    Ok(parts.join("/"))
}

/// The distribution a snapshot publishes to by default: its mirrors' suite.
fn default_distribution(snap: &Snapshot) -> Option<String> {
    use crate::model::SnapshotOrigin;
    match &snap.origin {
        SnapshotOrigin::Mirrors { mirrors } => {
            let first = mirrors.first()?;
            mirrors
                .iter()
                .all(|m| m.suite == first.suite)
                .then(|| first.suite.replace('/', "-"))
        }
        _ => None,
    }
}

/// One package's place in the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PoolAction {
    /// Link (or copy) the blob to this new path.
    Add(String),
    /// The path already holds this content.
    Present(String),
}

impl PoolAction {
    fn path(&self) -> &str {
        match self {
            PoolAction::Add(p) | PoolAction::Present(p) => p,
        }
    }
}

/// A package to publish with its planned pool path.
struct Item<'a> {
    component: &'a str,
    record: &'a PackageRecord,
    action: PoolAction,
    qualified: bool,
    /// Pool files looked at and what they hold, for the pool ledger
    /// (only files that are not links of their blob).
    seen: Vec<(String, Seen)>,
    /// Whether planning read the file to compare its content.
    hashed: bool,
}

/// Where publications are written: the `[storage] publish` setting.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// A local directory.
    Local(PathBuf),
    /// A bucket and prefix; `work` is a local directory for rendering trees
    /// and for the index cache.
    S3 {
        /// The bucket.
        bucket: Bucket,
        /// Local scratch directory.
        work: PathBuf,
    },
}

impl Endpoint {
    /// The endpoint at `location` (a directory or `s3://bucket/prefix`);
    /// `work` is where an S3 endpoint renders its trees.
    pub fn open(location: &str, work: &Path) -> Result<Endpoint, PublishError> {
        match S3Url::parse(location) {
            Some(url) => Ok(Endpoint::S3 {
                bucket: Bucket::open(&url?)?,
                work: work.to_owned(),
            }),
            None => Ok(Endpoint::Local(PathBuf::from(location))),
        }
    }

    /// The local directory, if the endpoint is one.
    pub fn local(&self) -> Option<&Path> {
        match self {
            Endpoint::Local(p) => Some(p),
            Endpoint::S3 { .. } => None,
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Local(p) => write!(f, "{}", p.display()),
            Endpoint::S3 { bucket, .. } => write!(f, "{}", bucket.url()),
        }
    }
}

/// What every publish works from, once the arguments are checked.
struct Job<'a> {
    snap: Snapshot,
    prefix: String,
    distribution: String,
    current: Option<Publication>,
    report: PublishReport,
    started: Instant,
    keys: &'a [SigningKey],
    opts: &'a PublishOptions,
}

/// Publishes `snapshot_name`; see the module docs.
pub fn publish(
    db: &mut Db,
    store: &BlobStore,
    endpoint: &Endpoint,
    lock_dir: &Path,
    keys: &[SigningKey],
    snapshot_name: &str,
    opts: &PublishOptions,
) -> Result<PublishReport, PublishError> {
    let started = Instant::now();
    let requests_before = s3::request_count();
    let snap = snapshot::load(db, snapshot_name)?;
    let prefix = normalize_prefix(&opts.prefix)?;
    let distribution = match &opts.distribution {
        Some(d) => d.clone(),
        None => default_distribution(&snap)
            .ok_or_else(|| PublishError::NoDistribution(snap.name.clone()))?,
    };
    if !layout::valid_segment(&distribution) {
        return Err(PublishError::BadDistribution(distribution));
    }
    check_options(&opts.release)?;
    if matches!(endpoint, Endpoint::S3 { .. }) && opts.release.snapshots_url.is_some() {
        return Err(PublishError::BadOption(
            "`--snapshots-url` needs a local publish endpoint (trees by date are kept there)"
                .into(),
        ));
    }
    let _lock = if opts.dry_run {
        None
    } else {
        Some(lock_prefix(lock_dir, &prefix)?)
    };

    let current = db.publication(&prefix, &distribution)?;
    if let Some(cur) = &current
        && cur.snapshot_id != snap.id
        && cur.distribution == cur.snapshot
    {
        return Err(PublishError::Immutable {
            distribution: distribution.clone(),
            published: cur.snapshot.clone(),
            requested: snap.name.clone(),
        });
    }
    let report = PublishReport {
        snapshot: snap.name.clone(),
        prefix: prefix.clone(),
        distribution: distribution.clone(),
        outcome: PublishOutcome::Published,
        replaced: current
            .as_ref()
            .filter(|c| c.snapshot_id != snap.id)
            .map(|c| c.snapshot.clone()),
        tree: current.as_ref().map(|c| c.tree.clone()),
        packages: snap.packages,
        pool_added: 0,
        pool_present: 0,
        pool_qualified: 0,
        pool_hashed: 0,
        indices: 0,
        reused_indices: 0,
        by_hash_kept: 0,
        valid_until: current.as_ref().and_then(|c| c.valid_until),
        seconds: 0.0,
        s3_requests: None,
    };
    let job = Job {
        snap,
        prefix,
        distribution,
        current,
        report,
        started,
        keys,
        opts,
    };
    let mut report = match endpoint {
        Endpoint::Local(dir) => publish_local(db, store, dir, job)?,
        Endpoint::S3 { bucket, work } => s3_publish::publish(db, store, bucket, work, job)?,
    };
    if matches!(endpoint, Endpoint::S3 { .. }) || matches!(store, BlobStore::S3(_)) {
        report.s3_requests = Some(s3::request_count() - requests_before);
    }
    Ok(report)
}

/// The snapshot's packages with their components (one package-set read).
pub(crate) fn load_records(
    db: &Db,
    snap: &Snapshot,
) -> Result<Vec<(String, PackageRecord)>, PublishError> {
    let set = db.package_set(snap.package_set)?;
    let mut records = Vec::with_capacity(set.len());
    for (component, ids) in set.components() {
        for r in db.packages(ids)? {
            records.push((component.to_owned(), r));
        }
    }
    Ok(records)
}

/// Counts the pool plan into the report.
fn count_pool(report: &mut PublishReport, items: &[Item<'_>]) {
    for it in items {
        match it.action {
            PoolAction::Add(_) => report.pool_added += 1,
            PoolAction::Present(_) => report.pool_present += 1,
        }
        report.pool_qualified += u64::from(it.qualified);
        report.pool_hashed += u64::from(it.hashed);
    }
}

/// Publishes to a local directory: trees beside each other, a symlink switch.
fn publish_local(
    db: &mut Db,
    store: &BlobStore,
    endpoint: &Path,
    job: Job<'_>,
) -> Result<PublishReport, PublishError> {
    let Job {
        snap,
        prefix,
        distribution,
        current,
        mut report,
        started,
        keys,
        opts,
    } = job;
    let base = prefix_dir(endpoint, &prefix)?;
    let dist_link = base.join("dists").join(&distribution);
    if let Some(cur) = &current
        && is_current(cur, &snap, &opts.release, &base, &dist_link)
    {
        report.outcome = PublishOutcome::Unchanged;
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    check_link(&dist_link)?;

    // Load and plan the pool.
    let records = load_records(db, &snap)?;
    tracing::debug!(packages = records.len(), elapsed = ?started.elapsed(), "packages loaded");
    // Pool files that are copies (blobs in a bucket, or on another file
    // system) have no blob inode to compare with: the ledger remembers
    // which are known (see `ledger`). Hard links never consult it.
    let ledger_file = Ledger::file(endpoint, &prefix);
    let ledger = Ledger::load(&ledger_file);
    if opts.dry_run {
        let items = plan_pool(&base, store, &ledger, &records)?;
        count_pool(&mut report, &items);
        report.indices = build_indices(&snap, entries(&items)).len() as u64;
        report.outcome = PublishOutcome::DryRun;
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    if keys.is_empty() {
        return Err(PublishError::Tree(TreeError::NoSigningKeys));
    }

    // Render the new tree next to the old ones.
    let trees = base.join(TREES_DIR).join(&distribution);
    std::fs::create_dir_all(&trees).map_err(io_err("create", &trees))?;
    clean_staging(&trees);
    clean_staging(&base.join("dists"));
    let now = Utc::now();
    let tree = next_tree_id(&trees, now)?;
    let staging = trees.join(format!(".tmp-{tree}-{}", std::process::id()));
    let meta = release_meta(&opts.release, &distribution, now);
    let mut render_opts = opts.render.clone();
    if render_opts.cache_dir.is_none() {
        render_opts.cache_dir = Some(endpoint.join(PRIVATE_DIR).join("index-cache"));
    }
    // Planning and filling the pool is file-system work (`stat`, `mkdir`,
    // `link`); rendering is compression. They overlap: the indices are
    // rendered from a guess, every package at its plain pool path, which
    // only a hash-qualified path (content that changed under a name already
    // in the pool) proves wrong, and then they are rendered again.
    let (pool, guessed) = std::thread::scope(|s| {
        let pool = s.spawn(|| {
            let items = plan_pool(&base, store, &ledger, &records)?;
            tracing::debug!(elapsed = ?started.elapsed(), "pool planned");
            let placed = execute_pool(&base, store, &items)?;
            let seen: Vec<_> = items
                .iter()
                .flat_map(|it| it.seen.iter().cloned())
                .chain(placed)
                .collect();
            // Nothing to record and nothing recorded: only hard links here.
            if !(seen.is_empty() && ledger.is_empty())
                && let Err(e) = ledger.save(&ledger_file, &base, seen)
            {
                let file = ledger_file.display();
                tracing::warn!(%file, error = %e, "cannot write the pool ledger");
            }
            Ok::<_, PublishError>(items)
        });
        let guess = build_indices(&snap, plain_entries(&records));
        let rendered = render(&staging, &guess, &meta, keys, &render_opts);
        let pool = pool.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (pool, rendered.map(|r| (r, guess.len())))
    });
    let items = match pool {
        Ok(items) => items,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    count_pool(&mut report, &items);
    let (rendered, indices) = if report.pool_qualified == 0 {
        guessed?
    } else {
        tracing::debug!(
            qualified = report.pool_qualified,
            "rendering again with hash-qualified paths"
        );
        let _ = std::fs::remove_dir_all(&staging);
        let indices = build_indices(&snap, entries(&items));
        (
            render(&staging, &indices, &meta, keys, &render_opts)?,
            indices.len(),
        )
    };
    drop(items);
    report.indices = indices as u64;
    report.reused_indices = u64::from(rendered.reused_indices);
    report.by_hash_kept = keep_by_hash(&trees, &staging, now)?;
    let keyring = public_keyring(keys)?;
    tracing::debug!(elapsed = ?started.elapsed(), "tree rendered and pool linked");
    verify_tree(&staging, &keyring)?;
    tracing::debug!(elapsed = ?started.elapsed(), "tree verified");
    let final_dir = trees.join(&tree);
    sync_fs(&base)?;
    std::fs::rename(&staging, &final_dir).map_err(io_err("rename", &staging))?;
    tracing::debug!(elapsed = ?started.elapsed(), "synced");
    let replaced = std::fs::metadata(dist_link.join("InRelease"))
        .and_then(|m| m.modified())
        .ok();
    switch_link(&dist_link, &distribution, &tree)?;
    date_to_switch(&final_dir, replaced);

    let new = NewPublication {
        prefix: &prefix,
        distribution: &distribution,
        snapshot: &snap,
        options: &opts.release,
        tree: &tree,
        release_sha256: Sha256::of(rendered.release.render().as_bytes()),
        valid_until: meta.valid_until,
        stats: serde_json::Value::Null,
    };
    record(db, report, started, new)
}

/// Records a switched publication (its report as the stats) and returns
/// the report with the final figures.
fn record(
    db: &mut Db,
    mut report: PublishReport,
    started: Instant,
    mut new: NewPublication<'_>,
) -> Result<PublishReport, PublishError> {
    report.tree = Some(new.tree.to_owned());
    report.valid_until = new.valid_until;
    report.seconds = started.elapsed().as_secs_f64();
    new.stats = serde_json::to_value(&report).unwrap_or_default();
    db.record_publication(&new)?;
    Ok(report)
}

/// Takes the lock of a prefix: its pool is shared by all its distributions.
pub(crate) fn lock_prefix(lock_dir: &Path, prefix: &str) -> Result<Lock, PublishError> {
    let name = format!(
        "publish-{}.lock",
        &Sha256::of(prefix.as_bytes()).to_hex()[..16]
    );
    Ok(Lock::try_acquire(
        &lock_dir.join(name),
        &format!("publish prefix `{prefix}`"),
    )?)
}

/// Whether `cur` already publishes `snap` with `options`, its tree is in
/// place, and its `Valid-Until` (if any) has more than half its time left.
fn is_current(
    cur: &Publication,
    snap: &Snapshot,
    options: &ReleaseOptions,
    base: &Path,
    dist_link: &Path,
) -> bool {
    if cur.snapshot_id != snap.id || &cur.options != options {
        return false;
    }
    let expected = base.join(TREES_DIR).join(&cur.distribution).join(&cur.tree);
    let linked = std::fs::canonicalize(dist_link).ok();
    if linked.is_none() || linked != std::fs::canonicalize(&expected).ok() {
        return false;
    }
    fresh_enough(cur, options)
}

/// Whether `cur`'s `Valid-Until` (if any) has more than half its time left.
fn fresh_enough(cur: &Publication, options: &ReleaseOptions) -> bool {
    match (cur.valid_until, options.valid_for_secs) {
        (Some(until), Some(secs)) => {
            let half = chrono::Duration::seconds(i64::try_from(secs / 2).unwrap_or(i64::MAX));
            until - Utc::now() > half
        }
        _ => true,
    }
}

fn check_options(o: &ReleaseOptions) -> Result<(), PublishError> {
    if o.but_automatic_upgrades && !o.not_automatic {
        return Err(PublishError::BadOption(
            "`--but-automatic-upgrades` needs `--not-automatic`".into(),
        ));
    }
    if let Some(url) = &o.snapshots_url {
        let ok = url::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.query().is_none());
        if !ok {
            return Err(PublishError::BadOption(format!(
                "`--snapshots-url` `{url}` is not an http(s) URL"
            )));
        }
    }
    if o.valid_for_secs == Some(0) {
        return Err(PublishError::BadOption(
            "`--valid-for` must be positive".into(),
        ));
    }
    Ok(())
}

fn release_meta(o: &ReleaseOptions, distribution: &str, now: DateTime<Utc>) -> ReleaseMeta {
    ReleaseMeta {
        origin: o.origin.clone(),
        label: o.label.clone(),
        suite: o.suite.clone().unwrap_or_else(|| distribution.to_owned()),
        codename: Some(
            o.codename
                .clone()
                .unwrap_or_else(|| distribution.to_owned()),
        ),
        version: None,
        description: None,
        date: now,
        valid_until: o
            .valid_for_secs
            .map(|s| now + chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 2))),
        not_automatic: o.not_automatic,
        but_automatic_upgrades: o.but_automatic_upgrades,
        snapshots: o.snapshots_url.as_ref().map(|u| {
            format!(
                "{}/{}/@SNAPSHOTID@",
                u.trim_end_matches('/'),
                layout::SNAPSHOTS_SEGMENT
            )
        }),
    }
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

/// Plans each package's pool path (pure but for `stat` and, rarely,
/// hashing a same-sized file that is not a link of the blob).
fn plan_pool<'a>(
    base: &Path,
    store: &BlobStore,
    ledger: &Ledger,
    records: &'a [(String, PackageRecord)],
) -> Result<Vec<Item<'a>>, PublishError> {
    // A component without a pool directory (the first publish under this
    // prefix) has no file to look at: every path is new.
    let components: std::collections::HashSet<&str> =
        records.iter().map(|(c, _)| c.as_str()).collect();
    let fresh: std::collections::HashSet<&str> = components
        .into_iter()
        .filter(|c| !base.join("pool").join(c).exists())
        .collect();
    let fresh = &fresh;
    let chunk = records.len().div_ceil(POOL_THREADS).max(1);
    let results: Vec<Result<Vec<Item>, PublishError>> = std::thread::scope(|s| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(component, record)| {
                            let fresh = fresh.contains(component.as_str());
                            plan_one(base, store, ledger, component, record, fresh)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out = Vec::with_capacity(records.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// `name_version_arch` of a record, for messages.
fn label(record: &PackageRecord) -> String {
    format!("{}_{}_{}", record.name, record.version, record.architecture)
}

/// A package's plain pool path and its hash-qualified alternative, both
/// checked safe.
pub(crate) fn pool_paths(
    component: &str,
    record: &PackageRecord,
) -> Result<[String; 2], PublishError> {
    let plain = checked_pool_path(record, plain_pool_path(component, record))?;
    let qualified = checked_pool_path(record, qualified_pool_path(&plain, record))?;
    Ok([plain, qualified])
}

/// `path` if it is a safe pool path for `record`.
fn checked_pool_path(record: &PackageRecord, path: String) -> Result<String, PublishError> {
    if SafePath::new(&path).is_err() || path.split('/').any(|s| s.starts_with('.')) {
        return Err(PublishError::UnsafePoolPath {
            package: label(record),
            path,
        });
    }
    Ok(path)
}

/// The hash-qualified alternative of a package's plain pool path:
/// `…/<source>/sha256-<16 hex>/<file>`.
fn qualified_pool_path(plain: &str, record: &PackageRecord) -> String {
    let (dir, file) = plain.rsplit_once('/').unwrap_or(("", plain));
    format!("{dir}/sha256-{}/{file}", &record.sha256.to_hex()[..16])
}

/// A package's plain pool path, `pool/<component>/<x>/<source>/<file>`
/// (not checked: see [`checked_pool_path`]).
fn plain_pool_path(component: &str, record: &PackageRecord) -> String {
    let file = record
        .filename
        .rsplit('/')
        .next()
        .unwrap_or(&record.filename);
    format!("{}/{file}", pool_dir(&record.source, component))
}

fn plan_one<'a>(
    base: &Path,
    store: &BlobStore,
    ledger: &Ledger,
    component: &'a str,
    record: &'a PackageRecord,
    fresh: bool,
) -> Result<Item<'a>, PublishError> {
    let plain = checked_pool_path(record, plain_pool_path(component, record))?;
    if fresh {
        return Ok(Item {
            component,
            record,
            action: PoolAction::Add(plain),
            qualified: false,
            seen: Vec::new(),
            hashed: false,
        });
    }
    // The blob's identity (a local store's inode) is only needed when a
    // pool path is taken; a file that is not a link of it is compared
    // through the ledger, or by hashing it.
    let blob = store.local_path(&record.sha256);
    let blob_id = || -> Result<Option<(u64, u64)>, PublishError> {
        let Some(blob) = &blob else {
            return Ok(None);
        };
        let m = std::fs::metadata(blob).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                PublishError::MissingBlob {
                    package: label(record),
                    sha256: record.sha256,
                }
            } else {
                io_err("inspect", blob)(e)
            }
        })?;
        Ok(Some((m.dev(), m.ino())))
    };
    // The plain path, then (only when that holds other content) the
    // hash-qualified one.
    let mut path = plain;
    let mut was_qualified = false;
    let (mut seen, mut hashed) = (Vec::new(), false);
    let action = loop {
        let full = base.join(&path);
        match std::fs::metadata(&full) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => break PoolAction::Add(path),
            Err(e) => return Err(io_err("inspect", &full)(e)),
            Ok(m) => {
                let same = blob_id()? == Some((m.dev(), m.ino()))
                    || (m.len() == record.size && {
                        let content = match ledger.known(&path, &m) {
                            Some(known) => known,
                            None => {
                                hashed = true;
                                file_sha256(&full)?
                            }
                        };
                        seen.push((path.clone(), Seen::of(&m, content)));
                        content == record.sha256
                    });
                if same {
                    break PoolAction::Present(path);
                }
            }
        }
        if was_qualified {
            return Err(PublishError::UnsafePoolPath {
                package: label(record),
                path,
            });
        }
        path = checked_pool_path(record, qualified_pool_path(&path, record))?;
        was_qualified = true;
    };
    Ok(Item {
        component,
        record,
        action,
        qualified: was_qualified,
        seen,
        hashed,
    })
}

fn file_sha256(path: &Path) -> Result<Sha256, PublishError> {
    let f = std::fs::File::open(path).map_err(io_err("read", path))?;
    let mut r = HashingReader::new(f);
    io::copy(&mut r, &mut io::sink()).map_err(io_err("read", path))?;
    Ok(r.finish().0)
}

/// Links (or copies) the planned new pool files. One thread creates the
/// missing directories in path order (directory creation serializes on the
/// parent's lock, so more threads would only wait on it) while
/// [`POOL_THREADS`] threads follow behind, each placing files into the
/// directories already made: the two kinds of kernel work overlap.
///
/// Returns the files copied (not linked) into place, by pool path, for the
/// pool ledger.
fn execute_pool(
    base: &Path,
    store: &BlobStore,
    items: &[Item<'_>],
) -> Result<Vec<(String, Seen)>, PublishError> {
    let mut adds: Vec<(&PackageRecord, PathBuf, &str)> = items
        .iter()
        .filter_map(|it| match &it.action {
            PoolAction::Add(p) => Some((it.record, base.join(p), p.as_str())),
            PoolAction::Present(_) => None,
        })
        .collect();
    if adds.is_empty() {
        return Ok(Vec::new());
    }
    adds.sort_unstable_by(|a, b| a.1.cmp(&b.1));
    // The directories in order, and for each file the number of
    // directories that must exist before it can be placed.
    let mut dirs: Vec<&Path> = Vec::new();
    let mut needs: Vec<usize> = Vec::with_capacity(adds.len());
    for (_, dst, _) in &adds {
        if let Some(dir) = dst.parent()
            && dirs.last() != Some(&dir)
        {
            dirs.push(dir);
        }
        needs.push(dirs.len());
    }
    let progress = DirProgress::default();
    let chunk = 256;
    std::thread::scope(|s| {
        let (dirs, progress) = (&dirs, &progress);
        let maker = s.spawn(move || {
            // Finishes on every way out, a panic included, so that no
            // placer waits for directories that will never come.
            let mut finish = Finish {
                progress,
                failed: true,
            };
            let made = make_dirs(dirs, progress);
            finish.failed = made.is_err();
            made
        });
        let flushing = FlushBehind::start(base);
        let (adds, needs) = (&adds, &needs);
        let placers: Vec<_> = (0..POOL_THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut copied = Vec::new();
                    let mut start = t * chunk;
                    while start < adds.len() {
                        let end = (start + chunk).min(adds.len());
                        if !progress.wait_for(needs[end - 1]) {
                            return Ok(copied);
                        }
                        for (record, dst, path) in &adds[start..end] {
                            if let Some(seen) = place(store, record, dst)? {
                                copied.push(((*path).to_owned(), seen));
                            }
                        }
                        start += POOL_THREADS * chunk;
                    }
                    Ok::<_, PublishError>(copied)
                })
            })
            .collect();
        let made = maker
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        drop(flushing);
        let mut placed = Ok(Vec::new());
        for h in placers {
            let r = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            match (&mut placed, r) {
                (Ok(all), Ok(copied)) => all.extend(copied),
                (Ok(_), Err(e)) => placed = Err(e),
                (Err(_), _) => {}
            }
        }
        made.and(placed)
    })
}

/// Creates `dirs` in order (and any missing parents), reporting progress.
fn make_dirs(dirs: &[&Path], progress: &DirProgress) -> Result<(), PublishError> {
    for (i, dir) in dirs.iter().enumerate() {
        match std::fs::create_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir).map_err(io_err("create", dir))?;
            }
            Err(e) => return Err(io_err("create", dir)(e)),
        }
        if i % 64 == 63 {
            progress.advance(i + 1);
        }
    }
    Ok(())
}

/// Calls [`DirProgress::finish`] when dropped.
struct Finish<'a> {
    progress: &'a DirProgress,
    failed: bool,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        self.progress.finish(self.failed);
    }
}

/// How many pool directories exist so far, shared between the thread that
/// makes them and the threads that fill them.
#[derive(Default)]
struct DirProgress {
    /// Directories made, and whether making them stopped early.
    state: std::sync::Mutex<(usize, bool)>,
    changed: std::sync::Condvar,
}

impl DirProgress {
    fn advance(&self, made: usize) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 = made;
        self.changed.notify_all();
    }

    /// Marks every directory made, or the making failed.
    fn finish(&self, failed: bool) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *s = (usize::MAX, failed);
        self.changed.notify_all();
    }

    /// Waits until `n` directories exist; false if making them failed.
    fn wait_for(&self, n: usize) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while s.0 < n {
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        !s.1
    }
}

/// Puts the blob of `record` at the new name `dst`: a hardlink from a local
/// store, else a copy (or download) to a temporary name linked into place,
/// so `dst` never exists half-written. A `dst` that appeared meanwhile is
/// left alone (the next publish checks its content). A copy placed here is
/// returned with its identity, for the pool ledger.
fn place(
    store: &BlobStore,
    record: &PackageRecord,
    dst: &Path,
) -> Result<Option<Seen>, PublishError> {
    if let Some(src) = store.local_path(&record.sha256) {
        match std::fs::hard_link(&src, dst) {
            Ok(()) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(PublishError::MissingBlob {
                    package: label(record),
                    sha256: record.sha256,
                });
            }
            Err(_) => {}
        }
    }
    let tmp = dst.with_file_name(format!(".tmp-{}-pool", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let copy = || -> Result<Option<u64>, PublishError> {
        store.fetch_to(&record.sha256, &tmp).map_err(|e| match e {
            StoreError::Missing(sha256) => PublishError::MissingBlob {
                package: label(record),
                sha256,
            },
            e => e.into(),
        })?;
        let file = std::fs::File::open(&tmp).map_err(io_err("copy into", dst))?;
        file.sync_all().map_err(io_err("copy into", dst))?;
        let ino = file.metadata().map_err(io_err("copy into", dst))?.ino();
        match std::fs::hard_link(&tmp, dst) {
            Ok(()) => Ok(Some(ino)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(io_err("copy into", dst)(e)),
        }
    };
    let res = copy();
    let _ = std::fs::remove_file(&tmp);
    // Its identity once the temporary name is gone (unlinking it moves the
    // change time), if `dst` is still the copy made here.
    Ok(res?.and_then(|ino| {
        let m = std::fs::metadata(dst).ok()?;
        (m.ino() == ino).then(|| Seen::of(&m, record.sha256))
    }))
}

/// The `Packages` indices: one per component and architecture of the
/// snapshot (`all` packages in each), stanzas sorted by name, version and
/// architecture, `Filename` pointing at the pool path.
fn build_indices<'a>(snap: &Snapshot, entries: impl Iterator<Item = Entry<'a>>) -> Vec<IndexInput> {
    let archs: Vec<&String> = snap
        .architectures
        .iter()
        .filter(|a| a.as_str() != "all")
        .collect();
    let mut by_component: BTreeMap<&str, Vec<Entry<'a>>> = BTreeMap::new();
    for e in entries {
        by_component.entry(e.0).or_default().push(e);
    }
    let mut out = Vec::new();
    for (component, mut list) in by_component {
        list.sort_by(|(_, a, _), (_, b, _)| {
            a.name
                .cmp(&b.name)
                .then_with(|| version::compare(&a.version, &b.version))
                .then_with(|| a.architecture.cmp(&b.architecture))
        });
        for arch in &archs {
            let stanzas = list
                .iter()
                .filter(|(_, r, _)| r.architecture == **arch || r.architecture == "all")
                .map(|(_, r, path)| with_filename(&r.stanza, path))
                .collect();
            out.push(IndexInput {
                component: component.to_owned(),
                architecture: (*arch).clone(),
                stanzas,
            });
        }
    }
    out
}

/// A package in an index: its component, its record and its pool path.
type Entry<'a> = (&'a str, &'a PackageRecord, Cow<'a, str>);

/// The index entries of planned packages.
fn entries<'a>(items: &'a [Item<'_>]) -> impl Iterator<Item = Entry<'a>> {
    items
        .iter()
        .map(|it| (it.component, it.record, Cow::Borrowed(it.action.path())))
}

/// The index entries of packages all at their plain pool paths.
fn plain_entries(records: &[(String, PackageRecord)]) -> impl Iterator<Item = Entry<'_>> {
    records
        .iter()
        .map(|(c, r)| (c.as_str(), r, Cow::Owned(plain_pool_path(c, r))))
}

/// `stanza` with its `Filename` set to `path`, ending in one line break and
/// free of blank lines.
fn with_filename(stanza: &str, path: &str) -> String {
    let mut out = String::with_capacity(stanza.len() + path.len());
    let mut seen = false;
    for line in stanza.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let is_filename = line.split_once(':').is_some_and(|(k, _)| {
            !line.starts_with([' ', '\t']) && k.eq_ignore_ascii_case("Filename")
        });
        if is_filename {
            out.push_str("Filename: ");
            out.push_str(path);
            seen = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !seen {
        out.push_str("Filename: ");
        out.push_str(path);
        out.push('\n');
    }
    out
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
            if !name.starts_with("Packages") {
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
            std::fs::create_dir_all(&target_dir).map_err(io_err("create", &target_dir))?;
            match std::fs::hard_link(&src, &target) {
                Ok(()) => kept += 1,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("link", &target)(e)),
            }
        }
    }
    Ok(kept)
}

fn public_keyring(keys: &[SigningKey]) -> Result<Keyring, PublishError> {
    let mut data = Vec::new();
    for k in keys {
        data.extend(k.public_cert_binary().map_err(PublishError::Keys)?);
    }
    Keyring::from_bytes(&data, "the signing keys").map_err(PublishError::Keys)
}

fn sync_fs(dir: &Path) -> Result<(), PublishError> {
    let f = std::fs::File::open(dir).map_err(io_err("open", dir))?;
    rustix::fs::syncfs(&f).map_err(|e| io_err("sync", dir)(e.into()))
}

/// Points `dists/<distribution>` at the tree `tree`: a new symlink renamed
/// over the old one (atomic), then the directory synced.
fn switch_link(link: &Path, distribution: &str, tree: &str) -> Result<(), PublishError> {
    let dists = link.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dists).map_err(io_err("create", dists))?;
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
/// happened, so trouble is logged.
fn date_to_switch(tree_dir: &Path, replaced: Option<std::time::SystemTime>) {
    use std::time::{SystemTime, UNIX_EPOCH};
    let now = SystemTime::now();
    let after_replaced = replaced
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| UNIX_EPOCH + Duration::from_secs(d.as_secs() + 1));
    let at = after_replaced.map_or(now, |t| t.max(now));
    for name in ["InRelease", "Release", "Release.gpg"] {
        let path = tree_dir.join(name);
        if let Err(error) = std::fs::File::open(&path).and_then(|f| f.set_modified(at)) {
            tracing::warn!(path = %path.display(), %error, "cannot date the file to the switch");
        }
    }
}

/// Removes a publication: its `dists/<distribution>` link, then its trees.
/// Pool files stay (other distributions of the prefix may use them; `gc`
/// removes unreferenced ones).
pub fn drop_publication(
    db: &mut Db,
    endpoint: &Endpoint,
    lock_dir: &Path,
    prefix: &str,
    distribution: &str,
) -> Result<Publication, PublishError> {
    let prefix = normalize_prefix(prefix)?;
    let publication =
        db.publication(&prefix, distribution)?
            .ok_or_else(|| PublishError::NoPublication {
                prefix: prefix.clone(),
                distribution: distribution.to_owned(),
            })?;
    let _lock = lock_prefix(lock_dir, &prefix)?;
    match endpoint {
        Endpoint::Local(dir) => drop_local(dir, &prefix, distribution)?,
        Endpoint::S3 { bucket, .. } => s3_publish::drop_tree(bucket, &prefix, distribution)?,
    }
    db.drop_publication(&publication)?;
    Ok(publication)
}

fn drop_local(endpoint: &Path, prefix: &str, distribution: &str) -> Result<(), PublishError> {
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

/// Parses `7d`, `12h`, `30m`, `90s` or a plain number of seconds; units
/// combine (`1d12h`).
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            'w' => 7 * 86400,
            'd' => 86400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: u64 = num.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        num.clear();
    }
    if !num.is_empty() {
        return None;
    }
    Some(total)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(normalize_prefix("").unwrap(), ".");
        assert_eq!(normalize_prefix(".").unwrap(), ".");
        assert_eq!(normalize_prefix("/debian/").unwrap(), "debian");
        assert_eq!(normalize_prefix("ci/debian").unwrap(), "ci/debian");
        assert!(normalize_prefix("../x").is_err());
        assert!(normalize_prefix("a/.hidden").is_err());
        assert!(normalize_prefix("dists").is_err());
        assert!(normalize_prefix("a b").is_err());
    }

    #[test]
    fn filename_is_replaced() {
        let s = "Package: a\nVersion: 1\nFilename: pool/x/a.deb\nDescription: d\n more\n";
        assert_eq!(
            with_filename(s, "pool/main/a/a/a.deb"),
            "Package: a\nVersion: 1\nFilename: pool/main/a/a/a.deb\nDescription: d\n more\n"
        );
        assert_eq!(
            with_filename("Package: a\n\n", "p/a.deb"),
            "Package: a\nFilename: p/a.deb\n"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("7d"), Some(7 * 86400));
        assert_eq!(parse_duration("1d12h"), Some(36 * 3600));
        assert_eq!(parse_duration("2w"), Some(14 * 86400));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("3d4"), None);
    }
}
