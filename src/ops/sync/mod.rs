//! `mirror sync`: bring a mirror up to date with its upstream suite.
//!
//! The flow (DESIGN.md §4): lock → conditional fetch of InRelease (falling back
//! to Release + Release.gpg) → signature, rollback and expiry checks → indices
//! (best compression, by-hash, size + SHA256 while streaming) → parse, safe
//! paths → filter and dependency closure → a [`SyncPlan`] → (`--dry-run` stops
//! here) → bounded parallel downloads straight into the blob store → one
//! durable flush of the store → one SQLite transaction. Until that commit
//! nothing visible changes; a killed sync leaves only unreferenced blobs.

mod execute;
mod plan;
mod release;

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

use self::execute::download_all;
use self::plan::{Curation, compute_plan, pins_missing};
pub use self::plan::{PlannedPackage, PlannedStage, SyncPlan};
use self::release::{IndexRef, MAX_INDEX_BYTES, fetch_index, fetch_release};
use super::Context;
use super::upstream::{Upstream, UpstreamError};
use crate::db::{DbError, RevisionEntry, SyncCommit};
use crate::digest::Sha256;
use crate::fetch::FetchError;
use crate::fetch::{self, Compression, Validators};
use crate::lock::Lock as GcLock;
use crate::lock::{Lock, LockError};
use crate::model::{Mirror, MirrorState, PackageId};
use crate::pgp::PgpError;
use crate::progress::Event;
use crate::query::{ClosureOptions, Filter, select};
use crate::store::StoreError;

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
