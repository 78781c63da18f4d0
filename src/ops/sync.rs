//! `mirror sync`: bring a mirror up to date with its upstream suite.
//!
//! The flow (DESIGN.md §4): lock → conditional fetch of InRelease (falling back
//! to Release + Release.gpg) → signature, rollback and expiry checks → indices
//! (best compression, by-hash, size + SHA256 while streaming) → parse, safe
//! paths → filter and dependency closure → a [`SyncPlan`] → (`--dry-run` stops
//! here) → bounded parallel downloads straight into the blob store → one
//! durable flush of the store → one SQLite transaction. Until that commit
//! nothing visible changes; a killed sync leaves only unreferenced blobs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

use super::Context;
use super::upstream::{Upstream, UpstreamError, UpstreamPackage};
use crate::db::{DbError, NewStaged, RevisionEntry, StageAction, SyncCommit};
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::fetch::{self, Compression, Expected, FetchError, Small, Validators};
use crate::lock::Lock as GcLock;
use crate::lock::{Lock, LockError};
use crate::model::{Freeze, FreezeKind, Mirror, MirrorState, PackageId, PackageKey, Pin};
use crate::pgp::{self, Keyring, PgpError, VerifyOptions};
use crate::progress::Event;
use crate::query::{ClosureOptions, Filter, Glob, select};
use crate::store::StoreError;

/// Largest InRelease / Release accepted (a hostile upstream cannot exhaust memory).
const MAX_RELEASE_BYTES: u64 = 64 << 20;
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
/// Largest decompressed index accepted.
const MAX_INDEX_BYTES: u64 = 4 << 30;

/// How to sync.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Stop after computing the plan.
    pub dry_run: bool,
    /// Parallel downloads.
    pub downloads: usize,
    /// Proceed even when more than the configured share of packages would go.
    pub allow_mass_removal: bool,
}

/// Sync failures. Each names the mirror and the object (URL, index, package).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No such mirror.
    #[error("mirror `{0}` does not exist")]
    NoMirror(String),
    /// Another sync runs.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Blob store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Network or integrity failure of a download.
    #[error("mirror `{mirror}`: cannot fetch `{what}`")]
    Fetch {
        /// Mirror.
        mirror: String,
        /// What was fetched: `InRelease`, an index path, a pool path.
        what: String,
        /// Cause.
        #[source]
        source: Box<FetchError>,
    },
    /// Neither InRelease nor Release exists.
    #[error("mirror `{mirror}`: neither `{url}InRelease` nor `{url}Release` exists")]
    NoRelease {
        /// Mirror.
        mirror: String,
        /// The dists URL.
        url: String,
    },
    /// The Release is unsigned, or Release.gpg is missing.
    #[error(
        "mirror `{mirror}`: `{url}` is not signed (no InRelease and no Release.gpg); refusing an unverified Release"
    )]
    Unsigned {
        /// Mirror.
        mirror: String,
        /// The Release URL.
        url: String,
    },
    /// Keyring could not be loaded or the signature does not verify.
    #[error("mirror `{mirror}`: signature of `{url}` does not verify")]
    Signature {
        /// Mirror.
        mirror: String,
        /// Document URL.
        url: String,
        /// Cause.
        #[source]
        source: PgpError,
    },
    /// The Release text does not parse.
    #[error("mirror `{mirror}`: `{url}` is not a valid Release file: {detail}")]
    BadRelease {
        /// Mirror.
        mirror: String,
        /// Document URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// The Release is older than the last accepted one.
    #[error(
        "mirror `{mirror}`: `{url}` has Date {date}, older than the last accepted {last}: refusing a rollback"
    )]
    Rollback {
        /// Mirror.
        mirror: String,
        /// Document URL.
        url: String,
        /// Its Date.
        date: DateTime<Utc>,
        /// The last accepted Date.
        last: DateTime<Utc>,
    },
    /// Valid-Until has passed.
    #[error(
        "mirror `{mirror}`: `{url}` expired at {valid_until} (Valid-Until); the upstream is stale or replayed"
    )]
    Expired {
        /// Mirror.
        mirror: String,
        /// Document URL.
        url: String,
        /// Its Valid-Until.
        valid_until: DateTime<Utc>,
    },
    /// A requested component or architecture is not in the Release.
    #[error("mirror `{mirror}`: the Release lists no {what}")]
    MissingIndex {
        /// Mirror.
        mirror: String,
        /// What is missing, e.g. "index `main/binary-arm64/Packages`".
        what: String,
    },
    /// An index does not parse or holds a bad stanza.
    #[error("mirror `{mirror}`: index `{index}`: {detail}")]
    BadIndex {
        /// Mirror.
        mirror: String,
        /// Index path in the Release.
        index: String,
        /// Why.
        detail: String,
    },
    /// The spool of index stanzas could not be written or read.
    #[error("mirror `{mirror}`: cannot set the index stanzas aside: {detail}")]
    Spool {
        /// Mirror.
        mirror: String,
        /// Why, naming the file.
        detail: String,
    },
    /// The stored filter is invalid.
    #[error("mirror `{mirror}`: invalid filter: {detail}")]
    BadFilter {
        /// Mirror.
        mirror: String,
        /// Why.
        detail: String,
    },
    /// The sync would remove more than the configured share of the mirror.
    #[error(
        "mirror `{mirror}`: the sync would remove {removed} of {total} packages ({percent:.0}%, more than the {limit}% allowed by `sync.mass-removal-percent`); nothing was changed — check the upstream, then re-run with --allow-mass-removal if this is intended"
    )]
    MassRemoval {
        /// Mirror.
        mirror: String,
        /// Packages that would go.
        removed: u64,
        /// Packages live now.
        total: u64,
        /// Their share.
        percent: f64,
        /// The configured limit.
        limit: u32,
    },
    /// `gc` runs.
    #[error(transparent)]
    GcRunning(LockError),
    /// The mirror URL is invalid.
    #[error("mirror `{mirror}`: invalid URL `{url}`")]
    BadUrl {
        /// Mirror.
        mirror: String,
        /// The URL.
        url: String,
    },
}

impl SyncError {
    /// The process exit code this error maps to (DESIGN.md §2).
    pub fn exit_code(&self) -> u8 {
        match self {
            SyncError::Signature { .. }
            | SyncError::Unsigned { .. }
            | SyncError::Rollback { .. }
            | SyncError::Expired { .. } => 3,
            SyncError::Fetch { source, .. } if source.is_integrity() => 3,
            _ => 1,
        }
    }
}

/// One package the plan adds.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedPackage {
    /// Component.
    pub component: String,
    /// Identity.
    pub key: PackageKey,
    /// Size in bytes.
    pub size: u64,
    /// Whether its blob must be downloaded (the store may have it already).
    pub download: bool,
}

/// One change a review-mode sync stages.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedStage {
    /// Add or remove.
    pub action: StageAction,
    /// Component.
    pub component: String,
    /// Identity.
    pub key: PackageKey,
    /// Size in bytes.
    pub size: u64,
}

/// What a sync would change.
#[derive(Debug, Default, Serialize)]
pub struct SyncPlan {
    /// Packages new in this revision.
    pub added: Vec<PlannedPackage>,
    /// Packages dropped from the mirror.
    pub removed: Vec<PackageKey>,
    /// Packages unchanged.
    pub kept: u64,
    /// New freezes: upstream changed content under the same version.
    pub freezes: Vec<Freeze>,
    /// Packages held by earlier freezes.
    pub held: u64,
    /// Files to download.
    pub download_files: u64,
    /// Bytes to download.
    pub download_bytes: u64,
    /// Dependencies the closure could not satisfy, as `package: dependency`.
    pub unresolved: Vec<String>,
    /// Review mode: changes staged for promotion instead of made live.
    pub staged: Vec<PlannedStage>,
    /// Content freezes lifted because upstream serves the known-good bytes again.
    pub restored: Vec<PackageKey>,
    /// Pinned versions upstream no longer lists (kept while they are live), as `name version`.
    pub pins_missing: Vec<String>,
    #[serde(skip)]
    commit_staged: Vec<(NewStaged, Option<usize>)>,
    #[serde(skip)]
    commit_kept: Vec<(String, PackageId)>,
    #[serde(skip)]
    commit_added: Vec<(String, usize)>,
    #[serde(skip)]
    total: u64,
    /// (digest, size, package): the file of each package to download.
    #[serde(skip)]
    downloads: Vec<(Sha256, u64, usize)>,
}

/// How a sync ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The upstream had not changed; nothing was fetched beyond one request.
    Unchanged,
    /// A new revision was committed.
    Synced,
    /// Dry run: the plan was computed, nothing written.
    Planned,
}

/// The summary of one mirror's sync.
#[derive(Debug, Serialize)]
pub struct SyncReport {
    /// Mirror name.
    pub mirror: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Upstream Release Date.
    pub release_date: Option<DateTime<Utc>>,
    /// Packages in the mirror after the sync.
    pub packages: u64,
    /// The plan (empty when unchanged).
    #[serde(flatten)]
    pub plan: SyncPlan,
    /// Files actually downloaded.
    pub downloaded_files: u64,
    /// Bytes actually downloaded (indices and pool files).
    pub downloaded_bytes: u64,
    /// Wall time.
    pub seconds: f64,
    /// Object-storage requests made, when the blob store is a bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_requests: Option<u64>,
}

impl SyncReport {
    /// Exit code: 4 when packages were frozen by this sync.
    pub fn exit_code(&self) -> u8 {
        if self.plan.freezes.is_empty() { 0 } else { 4 }
    }
}

struct ReleaseDoc {
    url: String,
    sha256: Sha256,
    validators: Validators,
    release: Release,
}

/// Syncs one mirror.
pub async fn sync_mirror(
    ctx: &mut Context,
    name: &str,
    opts: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let before = crate::store::s3::request_count();
    let mut report = sync_one(ctx, name, opts).await?;
    if matches!(ctx.store, crate::store::BlobStore::S3(_)) {
        report.s3_requests = Some(crate::store::s3::request_count() - before);
    }
    Ok(report)
}

async fn sync_one(
    ctx: &mut Context,
    name: &str,
    opts: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let lock_path = ctx.settings.lock_dir().join(format!("mirror-{name}.lock"));
    let _lock = Lock::try_acquire(&lock_path, &format!("mirror `{name}`"))?;
    // Shared with other syncs; `gc` takes it exclusively, so it never
    // collects blobs a running sync has stored but not yet committed.
    let _gc = GcLock::try_acquire_shared(
        &ctx.settings.lock_dir().join("gc.lock"),
        "the data root (gc)",
    )
    .map_err(SyncError::GcRunning)?;
    let mirror = ctx
        .db
        .mirror(name)?
        .ok_or_else(|| SyncError::NoMirror(name.to_owned()))?;
    let result = sync_locked(ctx, &mirror, opts, started).await;
    if let Err(e) = &result
        && !opts.dry_run
    {
        // Best effort: the error itself is what the caller reports.
        let _ = ctx
            .db
            .record_error(mirror.id, &format!("{}: {e}", Utc::now().to_rfc3339()));
    }
    result
}

fn step(ctx: &Context, mirror: &str, message: impl Into<String>) {
    ctx.progress.event(Event::Step {
        scope: format!("mirror `{mirror}`"),
        message: message.into(),
    });
}

fn warn(ctx: &Context, mirror: &str, message: impl Into<String>) {
    ctx.progress.event(Event::Warning {
        scope: format!("mirror `{mirror}`"),
        message: message.into(),
    });
}

async fn sync_locked(
    ctx: &mut Context,
    mirror: &Mirror,
    opts: &SyncOptions,
    started: Instant,
) -> Result<SyncReport, SyncError> {
    let name = mirror.name.as_str();
    let fetch_err = |what: &str| {
        let what = what.to_owned();
        move |source| SyncError::Fetch {
            mirror: name.to_owned(),
            what,
            source: Box::new(source),
        }
    };
    let dists = Url::parse(&mirror.spec.dists_url()).map_err(|_| SyncError::BadUrl {
        mirror: name.to_owned(),
        url: mirror.spec.url.clone(),
    })?;
    let base = Url::parse(&mirror.spec.base_url()).map_err(|_| SyncError::BadUrl {
        mirror: name.to_owned(),
        url: mirror.spec.url.clone(),
    })?;
    let state = &mirror.state;
    // A changed configuration (filter, architectures…) or a new operator
    // decision (freeze, unfreeze, rejection) must re-evaluate even an
    // unchanged upstream.
    let curation = Curation::load(ctx, mirror)?;
    let spec_digest = Sha256::of(
        (serde_json::to_string(&mirror.spec).unwrap_or_default() + &curation.fingerprint())
            .as_bytes(),
    )
    .to_string();
    let prev = match state.revision {
        Some(rev) => ctx.db.revision(rev)?,
        None => None,
    };
    let same_spec = prev.as_ref().is_some_and(|p| {
        p.stats.get("spec").and_then(|v| v.as_str()) == Some(spec_digest.as_str())
    });
    let validators = same_spec.then(|| Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    });
    let mut downloaded_bytes = 0u64;

    step(ctx, name, format!("fetching {}InRelease", dists));
    let doc = match fetch_release(
        ctx,
        mirror,
        &dists,
        validators.as_ref(),
        &mut downloaded_bytes,
    )
    .await?
    {
        Some(doc) => doc,
        None => return unchanged(ctx, mirror, state.clone(), None, started, downloaded_bytes),
    };
    if same_spec && Some(doc.sha256) == state.release_sha256 {
        let mut st = state.clone();
        st.etag = doc.validators.etag.clone();
        st.last_modified = doc.validators.last_modified.clone();
        return unchanged(ctx, mirror, st, None, started, downloaded_bytes);
    }
    let release = &doc.release;
    let now = Utc::now();
    if let (Some(date), Some(last)) = (release.date, state.release_date)
        && date < last
    {
        return Err(SyncError::Rollback {
            mirror: name.to_owned(),
            url: doc.url.clone(),
            date,
            last,
        });
    }
    if let Some(valid_until) = release.valid_until
        && valid_until < now
    {
        return Err(SyncError::Expired {
            mirror: name.to_owned(),
            url: doc.url.clone(),
            valid_until,
        });
    }

    // Which indices: every requested component × architecture, best compression first.
    let components = if mirror.spec.components.is_empty() {
        release
            .components
            .iter()
            .map(|c| c.rsplit('/').next().unwrap_or(c).to_owned())
            .collect()
    } else {
        mirror.spec.components.clone()
    };
    if components.is_empty() {
        return Err(SyncError::MissingIndex {
            mirror: name.to_owned(),
            what: "components".into(),
        });
    }
    let mut indices = Vec::new();
    for component in &components {
        for arch in &mirror.spec.architectures {
            let stem = format!("{component}/binary-{arch}/Packages");
            let best = [
                (".xz", Compression::Xz),
                (".gz", Compression::Gzip),
                ("", Compression::None),
            ]
            .into_iter()
            .find_map(|(ext, c)| {
                let path = format!("{stem}{ext}");
                release
                    .files
                    .get(&path)
                    .and_then(|f| f.sha256.map(|sha| (path, c, f.size, sha)))
            });
            match best {
                Some((path, compression, size, sha256)) => indices.push(IndexRef {
                    component: component.clone(),
                    path,
                    compression,
                    size,
                    sha256,
                }),
                None => {
                    return Err(SyncError::MissingIndex {
                        mirror: name.to_owned(),
                        what: format!(
                            "index `{stem}` (with a SHA256) for component `{component}`, architecture `{arch}`"
                        ),
                    });
                }
            }
        }
    }

    // Same indices and same configuration as the current revision: nothing to do but remember the Release.
    let index_digests: BTreeMap<String, String> = indices
        .iter()
        .map(|i| (i.path.clone(), i.sha256.to_string()))
        .collect();
    let new_state = MirrorState {
        release_date: release.date,
        release_sha256: Some(doc.sha256),
        etag: doc.validators.etag.clone(),
        last_modified: doc.validators.last_modified.clone(),
        last_sync_at: Some(now),
        last_error: None,
        revision: state.revision,
    };
    if let Some(prev) = &prev
        && same_spec
        && serde_json::to_value(&index_digests).ok() == prev.stats.get("indices").cloned()
    {
        step(ctx, name, "indices unchanged");
        return unchanged(
            ctx,
            mirror,
            new_state,
            release.date,
            started,
            downloaded_bytes,
        );
    }

    // The filter first: the fields it reads are kept in memory.
    let filter = match &mirror.spec.filter {
        Some(f) => Filter::parse(f).map_err(|e| SyncError::BadFilter {
            mirror: name.to_owned(),
            detail: e.to_string(),
        })?,
        None => Filter::match_all(),
    };
    let closure = ClosureOptions {
        with_deps: mirror.spec.with_deps,
        follow_recommends: mirror.spec.follow_recommends,
        architectures: mirror.spec.architectures.clone(),
    };
    let mut fields = filter.field_names();
    for field in closure.fields() {
        if !fields.iter().any(|f| f.eq_ignore_ascii_case(field)) {
            fields.push((*field).to_owned());
        }
    }

    // Fetch and parse the indices.
    let spool = ctx.store.staging_path(None)?;
    let spool_err = |e: UpstreamError| SyncError::Spool {
        mirror: name.to_owned(),
        detail: e.to_string(),
    };
    let mut upstream = Upstream::new(&spool, fields).map_err(spool_err)?;
    for (component, index) in indices.iter().enumerate() {
        step(ctx, name, format!("fetching {}", index.path));
        let staged = ctx.store.staging_path(None)?;
        let got = fetch_index(ctx, &dists, release.acquire_by_hash, index, &staged)
            .await
            .map_err(fetch_err(&index.path));
        let got = match got {
            Ok(d) => d,
            Err(e) => {
                let _ = std::fs::remove_file(&staged);
                return Err(e);
            }
        };
        downloaded_bytes += got;
        let parsed = fetch::open_decompressed(&staged, index.compression, MAX_INDEX_BYTES)
            .map_err(|e| UpstreamError::Parse(e.to_string()))
            .and_then(|reader| upstream.parse(reader, component as u32));
        let _ = std::fs::remove_file(&staged);
        parsed.map_err(|e| match e {
            UpstreamError::Parse(detail) => SyncError::BadIndex {
                mirror: name.to_owned(),
                index: index.path.clone(),
                detail,
            },
            spool => spool_err(spool),
        })?;
    }
    let index_components: Vec<&str> = indices.iter().map(|i| i.component.as_str()).collect();
    for dup in upstream.dedupe() {
        warn(
            ctx,
            name,
            format!("`{dup}` is listed twice with different content; keeping the first"),
        );
    }

    // Filter and dependency closure.
    let packages = &upstream.packages;
    step(
        ctx,
        name,
        format!("selecting from {} packages", packages.len()),
    );
    let selection = select(packages, &filter, &closure);
    let unresolved: Vec<String> = selection
        .unresolved
        .iter()
        .filter_map(|u| {
            packages
                .get(u.package)
                .map(|p| format!("{} ({}): {}", p.name, u.architecture, u.dependency))
        })
        .collect();
    if let Some(first) = unresolved.first() {
        warn(
            ctx,
            name,
            format!(
                "{} dependencies are not satisfiable inside the mirror, e.g. {first}",
                unresolved.len()
            ),
        );
    }
    for wanted in filter.named_packages() {
        if !selection
            .selected
            .iter()
            .any(|&i| *packages[i].name == *wanted)
        {
            warn(
                ctx,
                name,
                format!("the filter names `{wanted}` but the upstream has no such package"),
            );
        }
    }

    // The plan.
    let current: Vec<RevisionEntry> = match state.revision {
        Some(rev) => ctx.db.revision_entries(rev)?,
        None => Vec::new(),
    };
    // Many new packages (a first sync): one listing of the store beats a
    // lookup per blob; few: look up each. A bucket lists 1,000 keys per
    // request, so there a listing wins as soon as it costs fewer requests
    // than the lookups would.
    let store = &ctx.store;
    let have: HashSet<Sha256> = current.iter().map(|e| e.sha256).collect();
    let new = selection
        .selected
        .iter()
        .filter(|&&i| !have.contains(&packages[i].sha256))
        .count();
    drop(have);
    let list = match store {
        crate::store::BlobStore::S3(_) => new > current.len() / 1000 + 1,
        crate::store::BlobStore::Fs(_) => new > 2000,
    };
    let listed: Option<HashSet<Sha256>> = if list {
        Some(store.list()?.into_iter().collect())
    } else {
        None
    };
    let mut plan = compute_plan(
        packages,
        &selection.selected,
        &index_components,
        &current,
        &curation,
        |d| match &listed {
            Some(set) => Ok(set.contains(d)),
            None => store.contains(d),
        },
    )?;
    plan.pins_missing = pins_missing(&mirror.spec.pins, packages);
    for missing in &plan.pins_missing {
        warn(
            ctx,
            name,
            format!("pinned `{missing}` is no longer listed upstream; the live copy is kept"),
        );
    }
    // Removals that leave no version of the package behind: an upgrade
    // replaces, it does not remove. Staged removals wait for review anyway.
    let kept_ids: HashSet<PackageId> = plan.commit_kept.iter().map(|(_, id)| *id).collect();
    let remaining: HashSet<(&str, &str)> = current
        .iter()
        .filter(|e| kept_ids.contains(&e.id))
        .map(|e| (e.key.name.as_str(), e.key.architecture.as_str()))
        .chain(
            plan.commit_added
                .iter()
                .map(|(_, i)| (&*packages[*i].name, &*packages[*i].architecture)),
        )
        .collect();
    let removing = plan
        .removed
        .iter()
        .filter(|k| !remaining.contains(&(k.name.as_str(), k.architecture.as_str())))
        .map(|k| (k.name.as_str(), k.architecture.as_str()))
        .collect::<HashSet<_>>()
        .len();
    let limit = ctx.settings.mass_removal_percent;
    if !current.is_empty() && !opts.allow_mass_removal {
        let percent = removing as f64 * 100.0 / current.len() as f64;
        if percent > f64::from(limit) {
            let err = SyncError::MassRemoval {
                mirror: name.to_owned(),
                removed: removing as u64,
                total: current.len() as u64,
                percent,
                limit,
            };
            if !opts.dry_run {
                return Err(err);
            }
            warn(
                ctx,
                name,
                format!(
                    "the sync would remove {removing} of {} packages ({percent:.0}%, more than the {limit}% allowed by `sync.mass-removal-percent`): without --allow-mass-removal it stops and changes nothing",
                    current.len()
                ),
            );
        }
    }
    plan.unresolved = unresolved;
    for f in &plan.freezes {
        warn(
            ctx,
            name,
            format!(
                "`{}` changed upstream under the same version (SHA256 `{}` → `{}`): frozen, the known-good copy stays",
                f.key, f.kept_sha256, f.upstream_sha256
            ),
        );
    }
    let total = plan.total;

    if opts.dry_run {
        return Ok(SyncReport {
            mirror: name.to_owned(),
            outcome: Outcome::Planned,
            release_date: release.date,
            packages: total,
            plan,
            downloaded_files: 0,
            downloaded_bytes,
            seconds: started.elapsed().as_secs_f64(),
            s3_requests: None,
        });
    }

    // From here on only the packages the commit stores are needed.
    let mut needed: Vec<usize> = plan.commit_added.iter().map(|(_, i)| *i).collect();
    needed.extend(plan.commit_staged.iter().filter_map(|(_, i)| *i));
    needed.extend(plan.downloads.iter().map(|d| d.2));
    needed.sort_unstable();
    needed.dedup();
    drop(selection);
    upstream.keep_only(&needed);
    let moved = |i: usize| needed.binary_search(&i).unwrap_or(usize::MAX);
    for (_, i) in &mut plan.commit_added {
        *i = moved(*i);
    }
    for (_, i) in &mut plan.commit_staged {
        if let Some(i) = i {
            *i = moved(*i);
        }
    }

    // Downloads, straight into the store.
    let downloads = std::mem::take(&mut plan.downloads)
        .into_iter()
        .map(|(sha256, size, i)| Ok((sha256, size, upstream.filename(moved(i))?)))
        .collect::<Result<Vec<_>, UpstreamError>>()
        .map_err(spool_err)?;
    drop(needed);
    let flushing = ctx.store.flush_behind();
    let (files, bytes) = download_all(ctx, name, &base, downloads, opts.downloads.max(1)).await?;
    drop(flushing);
    downloaded_bytes += bytes;
    step(ctx, name, "flushing the blob store");
    ctx.store.sync()?;

    let stats = serde_json::json!({
        "staged": plan.staged.len(),
        "pins_missing": plan.pins_missing,
        "added": plan.added.len(),
        "removed": plan.removed.len(),
        "kept": plan.kept,
        "frozen": plan.freezes.len(),
        "downloaded_files": files,
        "downloaded_bytes": downloaded_bytes,
        "indices": index_digests,
        "spec": spec_digest,
    });
    let records = |i: usize| {
        upstream.record(i).map_err(|e| DbError::Input {
            what: "a package's index stanza".into(),
            source: Box::new(e),
        })
    };
    let commit = SyncCommit {
        kept: std::mem::take(&mut plan.commit_kept),
        added: std::mem::take(&mut plan.commit_added),
        records: &records,
        freezes: plan.freezes.clone(),
        restored: plan.restored.clone(),
        staged: mirror
            .spec
            .review
            .then(|| std::mem::take(&mut plan.commit_staged)),
        state: new_state,
        stats,
    };
    step(ctx, name, "committing the new revision");
    ctx.db.commit_sync(mirror.id, name, commit)?;
    Ok(SyncReport {
        mirror: name.to_owned(),
        outcome: Outcome::Synced,
        release_date: release.date,
        packages: total,
        plan,
        downloaded_files: files,
        downloaded_bytes,
        seconds: started.elapsed().as_secs_f64(),
        s3_requests: None,
    })
}

fn unchanged(
    ctx: &mut Context,
    mirror: &Mirror,
    mut state: MirrorState,
    release_date: Option<DateTime<Utc>>,
    started: Instant,
    downloaded_bytes: u64,
) -> Result<SyncReport, SyncError> {
    state.last_sync_at = Some(Utc::now());
    state.last_error = None;
    ctx.db.record_unchanged(mirror.id, &state)?;
    let packages = match state.revision {
        Some(rev) => ctx.db.revision_set(rev)?.len() as u64,
        None => 0,
    };
    Ok(SyncReport {
        mirror: mirror.name.clone(),
        outcome: Outcome::Unchanged,
        release_date: release_date.or(state.release_date),
        packages,
        plan: SyncPlan::default(),
        downloaded_files: 0,
        downloaded_bytes,
        seconds: started.elapsed().as_secs_f64(),
        s3_requests: None,
    })
}

struct IndexRef {
    component: String,
    path: String,
    compression: Compression,
    size: u64,
    sha256: Sha256,
}

/// Fetches InRelease (or Release + Release.gpg), verifies and parses it. `None`: not modified.
async fn fetch_release(
    ctx: &Context,
    mirror: &Mirror,
    dists: &Url,
    validators: Option<&Validators>,
    downloaded: &mut u64,
) -> Result<Option<ReleaseDoc>, SyncError> {
    let name = mirror.name.as_str();
    let fetch_err = |what: &str| {
        let what = what.to_owned();
        move |source| SyncError::Fetch {
            mirror: name.to_owned(),
            what,
            source: Box::new(source),
        }
    };
    let join = |leaf: &str| {
        dists.join(leaf).map_err(|_| SyncError::BadUrl {
            mirror: name.to_owned(),
            url: mirror.spec.url.clone(),
        })
    };
    let keyring = || -> Result<Keyring, SyncError> {
        Keyring::load(&mirror.spec.keyrings).map_err(|source| SyncError::Signature {
            mirror: name.to_owned(),
            url: dists.to_string(),
            source,
        })
    };
    let verify_opts = VerifyOptions {
        allow_sha1_bindings: mirror.spec.allow_sha1_keys,
        at: None,
    };

    let inrelease_url = join("InRelease")?;
    let (url, raw, text, validators) = match ctx
        .fetcher
        .get_small(&inrelease_url, validators, MAX_RELEASE_BYTES)
        .await
        .map_err(fetch_err("InRelease"))?
    {
        Small::NotModified => return Ok(None),
        Small::Fetched { body, validators } => {
            *downloaded += body.len() as u64;
            let text = if mirror.spec.allow_insecure && mirror.spec.keyrings.is_empty() {
                pgp::clearsigned_text(&body).ok_or_else(|| SyncError::BadRelease {
                    mirror: name.to_owned(),
                    url: inrelease_url.to_string(),
                    detail: "not a clearsigned message".into(),
                })?
            } else {
                pgp::verify_clearsigned(&keyring()?, &body, &verify_opts)
                    .map_err(|source| SyncError::Signature {
                        mirror: name.to_owned(),
                        url: inrelease_url.to_string(),
                        source,
                    })?
                    .text
            };
            (inrelease_url, body, text, validators)
        }
        Small::NotFound => {
            let release_url = join("Release")?;
            let (body, validators) = match ctx
                .fetcher
                .get_small(&release_url, validators, MAX_RELEASE_BYTES)
                .await
                .map_err(fetch_err("Release"))?
            {
                Small::NotModified => return Ok(None),
                Small::NotFound => {
                    return Err(SyncError::NoRelease {
                        mirror: name.to_owned(),
                        url: dists.to_string(),
                    });
                }
                Small::Fetched { body, validators } => (body, validators),
            };
            *downloaded += body.len() as u64;
            if !(mirror.spec.allow_insecure && mirror.spec.keyrings.is_empty()) {
                let sig_url = join("Release.gpg")?;
                let sig = match ctx
                    .fetcher
                    .get_small(&sig_url, None, 1 << 20)
                    .await
                    .map_err(fetch_err("Release.gpg"))?
                {
                    Small::Fetched { body, .. } => body,
                    _ => {
                        return Err(SyncError::Unsigned {
                            mirror: name.to_owned(),
                            url: release_url.to_string(),
                        });
                    }
                };
                *downloaded += sig.len() as u64;
                pgp::verify_detached(&keyring()?, &body, &sig, &verify_opts).map_err(|source| {
                    SyncError::Signature {
                        mirror: name.to_owned(),
                        url: sig_url.to_string(),
                        source,
                    }
                })?;
            }
            let text = body.to_vec();
            (release_url, body, text, validators)
        }
    };
    let text = String::from_utf8(text).map_err(|_| SyncError::BadRelease {
        mirror: name.to_owned(),
        url: url.to_string(),
        detail: "not UTF-8".into(),
    })?;
    let release = Release::parse(&text).map_err(|e| SyncError::BadRelease {
        mirror: name.to_owned(),
        url: url.to_string(),
        detail: e.to_string(),
    })?;
    Ok(Some(ReleaseDoc {
        url: url.to_string(),
        sha256: Sha256::of(&raw),
        validators,
        release,
    }))
}

/// Downloads one index into `dest`, by hash when offered (falling back to the plain name).
async fn fetch_index(
    ctx: &Context,
    dists: &Url,
    by_hash: bool,
    index: &IndexRef,
    dest: &std::path::Path,
) -> Result<u64, FetchError> {
    let expected = Expected {
        size: Some(index.size),
        sha256: Some(index.sha256),
    };
    let plain = dists
        .join(&index.path)
        .map_err(|_| FetchError::InvalidUrl(format!("{dists}{}", index.path)))?;
    if by_hash {
        let dir = index.path.rsplit_once('/').map_or("", |(d, _)| d);
        let url = dists
            .join(&format!("{dir}/by-hash/SHA256/{}", index.sha256))
            .map_err(|_| FetchError::InvalidUrl(format!("{dists}{dir}/by-hash")))?;
        match ctx.fetcher.download(&url, &expected, dest).await {
            Ok(d) => return Ok(d.size),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ctx.fetcher.download(&plain, &expected, dest).await?.size)
}

/// The operator's decisions a sync must respect.
#[derive(Debug, Default)]
struct Curation {
    /// Review mode: additions and removals are staged.
    review: bool,
    /// Content freezes by package.
    frozen: HashMap<PackageKey, Freeze>,
    /// Operator freezes by (name, architecture): no new version, no removal.
    held: HashSet<(String, String)>,
    /// Upstream content accepted by `unfreeze --accept-new`.
    accepted: HashMap<PackageKey, Sha256>,
    /// Rejected staged changes.
    rejected: HashSet<(StageAction, PackageKey, Sha256)>,
    /// Pins: (name glob, versions).
    pins: Vec<(Glob, Vec<String>)>,
}

impl Curation {
    fn load(ctx: &Context, mirror: &Mirror) -> Result<Curation, SyncError> {
        let mut c = Curation {
            review: mirror.spec.review,
            accepted: ctx.db.accepted_content(mirror.id)?,
            ..Curation::default()
        };
        for f in ctx.db.active_freezes(mirror.id)? {
            match f.kind {
                FreezeKind::Content => {
                    c.frozen.insert(f.key.clone(), f);
                }
                FreezeKind::Manual => {
                    c.held.insert((f.key.name, f.key.architecture));
                }
            }
        }
        for r in ctx.db.staged(Some(mirror.id), true)? {
            if r.rejected {
                c.rejected.insert((r.action, r.key, r.sha256));
            }
        }
        for pin in &mirror.spec.pins {
            let glob = Glob::new(&pin.name).map_err(|(_, detail)| SyncError::BadFilter {
                mirror: mirror.name.clone(),
                detail,
            })?;
            c.pins.push((glob, pin.versions.clone()));
        }
        Ok(c)
    }

    /// A stable digest input of the decisions (empty when there are none).
    fn fingerprint(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.frozen.keys().map(|k| format!("frozen {k}")));
        parts.extend(self.held.iter().map(|(n, a)| format!("held {n} {a}")));
        parts.extend(
            self.accepted
                .iter()
                .map(|(k, d)| format!("accepted {k} {d}")),
        );
        parts.extend(
            self.rejected
                .iter()
                .map(|(a, k, d)| format!("rejected {a:?} {k} {d}")),
        );
        parts.sort();
        parts.join("\n")
    }

    fn is_held(&self, key: &PackageKey) -> bool {
        !self.held.is_empty()
            && self
                .held
                .contains(&(key.name.clone(), key.architecture.clone()))
    }

    fn is_pinned(&self, key: &PackageKey) -> bool {
        self.pins
            .iter()
            .any(|(g, versions)| g.matches(&key.name) && versions.contains(&key.version))
    }
}

/// Pinned versions no upstream package carries, as `name version`.
fn pins_missing(pins: &[Pin], packages: &[UpstreamPackage]) -> Vec<String> {
    let mut out = Vec::new();
    for pin in pins {
        let Ok(glob) = Glob::new(&pin.name) else {
            continue;
        };
        for v in &pin.versions {
            if !packages
                .iter()
                .any(|p| p.version.as_str() == v && glob.matches(&p.name))
            {
                out.push(format!("{} {v}", pin.name));
            }
        }
    }
    out
}

/// Compares the selected upstream packages with the current revision: what is
/// kept, added (and must be downloaded), removed, staged, newly frozen or
/// still held. Pure but for `in_store`, which asks the blob store whether it
/// has a digest.
fn compute_plan(
    packages: &[UpstreamPackage],
    selected: &[usize],
    components: &[&str],
    current: &[RevisionEntry],
    curation: &Curation,
    mut in_store: impl FnMut(&Sha256) -> Result<bool, StoreError>,
) -> Result<SyncPlan, StoreError> {
    let current_by_key: HashMap<(&str, &str, &str), &RevisionEntry> = current
        .iter()
        .map(|e| {
            (
                (
                    e.key.name.as_str(),
                    e.key.version.as_str(),
                    e.key.architecture.as_str(),
                ),
                e,
            )
        })
        .collect();
    let mut plan = SyncPlan::default();
    let mut selected_keys: HashSet<(&str, &str, &str)> = HashSet::with_capacity(selected.len());
    let mut download_seen: HashSet<Sha256> = HashSet::new();
    for &i in selected {
        let p = &packages[i];
        let component = components
            .get(p.component as usize)
            .copied()
            .unwrap_or("main");
        if !selected_keys.insert(p.key_ref()) {
            continue;
        }
        let entry = current_by_key.get(&p.key_ref());
        let held = curation.is_held(&p.key());
        let mut add = |plan: &mut SyncPlan, staged: bool| -> Result<(), StoreError> {
            let download = !in_store(&p.sha256)?;
            if download && download_seen.insert(p.sha256) {
                plan.download_files += 1;
                plan.download_bytes += p.size;
                plan.downloads.push((p.sha256, p.size, i));
            }
            if staged {
                plan.staged.push(PlannedStage {
                    action: StageAction::Add,
                    component: component.to_owned(),
                    key: p.key(),
                    size: p.size,
                });
                plan.commit_staged.push((
                    NewStaged {
                        action: StageAction::Add,
                        component: component.to_owned(),
                        id: None,
                        key: p.key(),
                        sha256: p.sha256,
                        size: p.size,
                    },
                    Some(i),
                ));
            } else {
                plan.added.push(PlannedPackage {
                    component: component.to_owned(),
                    key: p.key(),
                    size: p.size,
                    download,
                });
                plan.commit_added.push((component.to_owned(), i));
            }
            Ok(())
        };
        match entry {
            Some(entry) if entry.sha256 == p.sha256 => {
                plan.kept += 1;
                plan.commit_kept.push((component.to_owned(), entry.id));
                let key = p.key();
                if curation.frozen.contains_key(&key) {
                    plan.restored.push(key);
                }
            }
            Some(entry) => {
                let key = p.key();
                if !held
                    && !curation.frozen.contains_key(&key)
                    && curation.accepted.get(&key) == Some(&p.sha256)
                {
                    // The operator accepted exactly this content: it replaces the old copy.
                    add(&mut plan, false)?;
                    continue;
                }
                plan.commit_kept.push((component.to_owned(), entry.id));
                if held || curation.frozen.contains_key(&key) {
                    plan.held += 1;
                } else {
                    plan.freezes.push(Freeze {
                        key,
                        kind: FreezeKind::Content,
                        kept_sha256: entry.sha256,
                        upstream_sha256: p.sha256,
                        reason: "upstream content changed under the same version".into(),
                        created_at: Utc::now(),
                    });
                }
            }
            None if held => plan.held += 1,
            None if curation.review => {
                if !curation
                    .rejected
                    .contains(&(StageAction::Add, p.key(), p.sha256))
                {
                    add(&mut plan, true)?;
                }
            }
            None => add(&mut plan, false)?,
        }
    }
    let mut kept_keys = HashSet::new();
    for e in current {
        let k = (
            e.key.name.as_str(),
            e.key.version.as_str(),
            e.key.architecture.as_str(),
        );
        if selected_keys.contains(&k) {
            continue;
        }
        let keep = if curation.is_held(&e.key) {
            plan.held += 1;
            true
        } else if curation.is_pinned(&e.key) {
            true
        } else if curation.review {
            if !curation
                .rejected
                .contains(&(StageAction::Remove, e.key.clone(), e.sha256))
            {
                plan.staged.push(PlannedStage {
                    action: StageAction::Remove,
                    component: e.component.clone(),
                    key: e.key.clone(),
                    size: e.size,
                });
                plan.commit_staged.push((
                    NewStaged {
                        action: StageAction::Remove,
                        component: e.component.clone(),
                        id: Some(e.id),
                        key: e.key.clone(),
                        sha256: e.sha256,
                        size: e.size,
                    },
                    None,
                ));
            }
            true
        } else {
            false
        };
        if keep {
            if kept_keys.insert(k) {
                plan.kept += 1;
            }
            plan.commit_kept.push((e.component.clone(), e.id));
        } else {
            plan.removed.push(e.key.clone());
        }
    }
    plan.removed.sort();
    plan.removed.dedup();
    plan.total = (plan.commit_kept.len() + plan.commit_added.len()) as u64;
    Ok(plan)
}

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
async fn download_all(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::upstream::dedupe;

    fn up(name: &str, version: &str, content: &str) -> UpstreamPackage {
        UpstreamPackage::for_test(
            name,
            version,
            "amd64",
            Sha256::of(content.as_bytes()),
            content.len() as u64,
            "",
        )
    }

    fn entry(id: i64, name: &str, version: &str, content: &str) -> RevisionEntry {
        RevisionEntry {
            component: "main".into(),
            id: PackageId(id),
            key: PackageKey {
                name: name.into(),
                version: version.into(),
                architecture: "amd64".into(),
            },
            sha256: Sha256::of(content.as_bytes()),
            size: content.len() as u64,
        }
    }

    fn plan(
        packages: &[UpstreamPackage],
        current: &[RevisionEntry],
        frozen: &HashMap<PackageKey, Freeze>,
        in_store: &[&str],
    ) -> SyncPlan {
        let curation = Curation {
            frozen: frozen.clone(),
            ..Curation::default()
        };
        curated_plan(packages, current, &curation, in_store)
    }

    fn curated_plan(
        packages: &[UpstreamPackage],
        current: &[RevisionEntry],
        curation: &Curation,
        in_store: &[&str],
    ) -> SyncPlan {
        let selected: Vec<usize> = (0..packages.len()).collect();
        let stored: HashSet<Sha256> = in_store.iter().map(|c| Sha256::of(c.as_bytes())).collect();
        compute_plan(packages, &selected, &["main"], current, curation, |d| {
            Ok(stored.contains(d))
        })
        .expect("plan")
    }

    #[test]
    fn review_mode_stages_additions_and_removals_and_keeps_live() {
        let packages = [up("aa", "1", "A"), up("bb", "2", "B2"), up("cc", "1", "C")];
        let current = [entry(1, "aa", "1", "A"), entry(2, "bb", "1", "B1")];
        let mut c = Curation {
            review: true,
            ..Curation::default()
        };
        let p = curated_plan(&packages, &current, &c, &[]);
        assert!(p.added.is_empty() && p.removed.is_empty());
        assert_eq!(p.commit_kept.len(), 2, "aa and bb 1 stay live");
        let staged: Vec<String> = p
            .staged
            .iter()
            .map(|s| format!("{:?} {}", s.action, s.key))
            .collect();
        assert_eq!(
            staged,
            ["Add bb_2_amd64", "Add cc_1_amd64", "Remove bb_1_amd64"]
        );
        assert_eq!(
            p.download_files, 2,
            "staged packages are fetched for review"
        );
        // A rejected change is not staged again.
        c.rejected
            .insert((StageAction::Add, up("cc", "1", "C").key(), Sha256::of(b"C")));
        let p = curated_plan(&packages, &current, &c, &[]);
        assert_eq!(p.staged.len(), 2);
    }

    #[test]
    fn operator_freeze_holds_version_and_blocks_removal() {
        let packages = [up("aa", "2", "A2")];
        let current = [entry(1, "aa", "1", "A1"), entry(2, "bb", "1", "B")];
        let mut c = Curation::default();
        c.held.insert(("aa".into(), "amd64".into()));
        c.held.insert(("bb".into(), "amd64".into()));
        let p = curated_plan(&packages, &current, &c, &[]);
        assert!(p.added.is_empty() && p.removed.is_empty(), "{p:?}");
        assert_eq!(p.commit_kept.len(), 2);
        assert_eq!(p.held, 3);
    }

    #[test]
    fn accepted_content_replaces_the_frozen_copy_and_restored_content_unfreezes() {
        let packages = [up("aa", "1", "A-new"), up("bb", "1", "B")];
        let current = [entry(1, "aa", "1", "A"), entry(2, "bb", "1", "B")];
        let mut c = Curation::default();
        c.accepted
            .insert(up("aa", "1", "").key(), Sha256::of(b"A-new"));
        let bb = up("bb", "1", "B").key();
        c.frozen.insert(
            bb.clone(),
            Freeze {
                key: bb.clone(),
                kind: FreezeKind::Content,
                kept_sha256: Sha256::of(b"B"),
                upstream_sha256: Sha256::of(b"B-evil"),
                reason: "test".into(),
                created_at: Utc::now(),
            },
        );
        let p = curated_plan(&packages, &current, &c, &[]);
        assert_eq!(p.added.len(), 1);
        assert_eq!(p.commit_kept, vec![("main".to_owned(), PackageId(2))]);
        assert!(p.freezes.is_empty());
        assert_eq!(p.restored, vec![bb]);
        // Content other than the accepted one freezes again.
        let other = [up("aa", "1", "A-third")];
        let p = curated_plan(&other, &current[..1], &c, &[]);
        assert_eq!(p.freezes.len(), 1);
    }

    #[test]
    fn pinned_versions_stay_when_upstream_drops_them() {
        let packages = [up("aa", "2", "A2")];
        let current = [entry(1, "aa", "1", "A1")];
        let mut c = Curation::default();
        c.pins
            .push((Glob::new("a*").expect("glob"), vec!["1".into()]));
        let p = curated_plan(&packages, &current, &c, &[]);
        assert!(p.removed.is_empty());
        assert_eq!(p.commit_kept.len(), 1);
        assert_eq!(p.added.len(), 1);
        let pins = [Pin {
            name: "aa".into(),
            versions: vec!["1".into(), "2".into()],
        }];
        assert_eq!(pins_missing(&pins, &packages), ["aa 1"]);
    }

    #[test]
    fn first_sync_adds_and_downloads_only_what_the_store_lacks() {
        let packages = [up("aa", "1", "A"), up("bb", "1", "B"), up("cc", "1", "A")];
        let p = plan(&packages, &[], &HashMap::new(), &["B"]);
        assert_eq!(p.added.len(), 3);
        assert_eq!(
            (p.download_files, p.download_bytes),
            (1, 1),
            "A once; B is stored"
        );
        assert_eq!(p.commit_added.len(), 3);
        assert_eq!(p.total, 3);
        assert!(p.removed.is_empty() && p.freezes.is_empty());
    }

    #[test]
    fn kept_removed_and_new_versions() {
        let packages = [up("aa", "1", "A"), up("bb", "2", "B2")];
        let current = [entry(1, "aa", "1", "A"), entry(2, "bb", "1", "B1")];
        let p = plan(&packages, &current, &HashMap::new(), &[]);
        assert_eq!(p.kept, 1);
        assert_eq!(p.commit_kept, vec![("main".to_owned(), PackageId(1))]);
        assert_eq!(p.added.len(), 1);
        assert_eq!(p.added[0].key.version, "2");
        assert_eq!(p.removed, vec![entry(2, "bb", "1", "B1").key]);
    }

    #[test]
    fn changed_content_freezes_once_then_holds() {
        let packages = [up("aa", "1", "A-rebuilt")];
        let current = [entry(7, "aa", "1", "A")];
        let p = plan(&packages, &current, &HashMap::new(), &[]);
        assert_eq!(p.freezes.len(), 1);
        assert_eq!(p.freezes[0].kept_sha256, Sha256::of(b"A"));
        assert_eq!(p.freezes[0].upstream_sha256, Sha256::of(b"A-rebuilt"));
        assert_eq!(
            p.commit_kept,
            vec![("main".to_owned(), PackageId(7))],
            "the known-good copy stays"
        );
        assert_eq!(p.download_files, 0);
        let frozen: HashMap<PackageKey, Freeze> = p
            .freezes
            .iter()
            .map(|f| (f.key.clone(), f.clone()))
            .collect();
        let again = plan(&packages, &current, &frozen, &[]);
        assert!(again.freezes.is_empty());
        assert_eq!(again.held, 1);
    }

    #[test]
    fn dedupe_keeps_first_and_reports_conflicts() {
        let mut packages = vec![
            up("aa", "1", "A"),
            up("bb", "1", "B"),
            up("aa", "1", "A"),
            up("bb", "1", "X"),
        ];
        let conflicts = dedupe(&mut packages);
        assert_eq!(packages.len(), 2);
        assert_eq!(conflicts, vec!["bb_1_amd64".to_owned()]);
        assert_eq!(packages[1].sha256, Sha256::of(b"B"));
    }
}
