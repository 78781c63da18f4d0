//! `mirror sync`: bring a mirror up to date with its upstream suite.
//!
//! The flow (DESIGN.md §4), under the mirror's lock and a shared `gc` lock:
//!
//! 1. **Release** (`release.rs`): a conditional fetch of InRelease (falling
//!    back to Release + Release.gpg), signature, rollback and expiry checks.
//!    An unchanged Release, or unchanged indices, under an unchanged
//!    configuration ends the sync here.
//! 2. **Indices** (`release.rs`): each wanted index at its best compression,
//!    from the index cache another mirror of the same upstream filled, else
//!    by hash when offered, size + SHA256 checked while streaming, parsed
//!    into a compact `Upstream` with safe paths; then the filter and the
//!    dependency closure select the packages.
//! 3. **Plan** (`plan.rs`, pure): the selection against the database's view
//!    of the mirror (live revision, freezes, pins, review) gives an owned
//!    plan — the summary a report and `--dry-run` show, the downloads, the
//!    new revision and the mass-removal guard's verdict. `--dry-run` stops
//!    here and returns the plan; a plan the guard stops comes back as a
//!    report whose [`SyncReport::refusal`] is the error a real run fails
//!    with.
//! 4. **Execute** (`execute.rs`): bounded parallel downloads straight into
//!    the blob store → one durable flush of the store → one SQLite
//!    transaction. Until that commit nothing visible changes; a killed sync
//!    leaves only unreferenced blobs.

mod appstream;
mod cnf;
mod contents;
mod error;
mod execute;
mod flat;
mod group;
mod installer;
mod ondemand;
mod plan;
mod release;
mod translations;
mod udebs;

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

pub use self::error::SyncError;
pub(crate) use self::execute::escape_filename;
use self::execute::{Record, execute};
pub use self::flat::DEFAULT_COMPONENT as FLAT_COMPONENT;
pub use self::group::{group_resyncs, later_group_members};
pub use self::installer::ImageCost;
pub use self::ondemand::{FillReport, fill_mirror};
use self::plan::{Curation, MirrorView, Stored, kept_fields, selection_rules};
pub use self::plan::{PlanSummary, PlannedPackage, PlannedStage, Verdict};
use self::release::{IndexBytes, check_fresh, choose_indices, fetch_indices, fetch_release};
use super::Context;
use super::upstream::{Upstream, UpstreamError, UpstreamPackage};
use crate::digest::Sha256;
use crate::exit::{FROZEN, SUCCESS};
use crate::fetch::Validators;
use crate::lock::Lock as GcLock;
use crate::model::{Mirror, MirrorState};
use crate::progress::Event;
use crate::query::{ClosureOptions, Filter, Selection, follow_sources};
use crate::redact;

/// How to sync.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Stop after computing the plan.
    pub dry_run: bool,
    /// Parallel downloads.
    pub downloads: usize,
    /// Proceed even when more than the configured share of packages would go.
    pub allow_mass_removal: bool,
    /// Hold back the "not satisfiable" warning (the report says so): a
    /// group member synced before the others re-evaluates after them.
    pub defer_unresolved: bool,
    /// Evaluate the selection even when the upstream and the configuration
    /// are unchanged.
    pub reevaluate: bool,
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
    /// The plan has unsatisfiable dependencies whose warning was held back
    /// ([`SyncOptions::defer_unresolved`]).
    #[serde(skip)]
    pub unresolved_deferred: bool,
    /// Upstream Release Date.
    pub release_date: Option<DateTime<Utc>>,
    /// Packages in the mirror after the sync.
    pub packages: u64,
    /// The plan (empty when unchanged).
    #[serde(flatten)]
    pub plan: PlanSummary,
    /// Files actually downloaded.
    pub downloaded_files: u64,
    /// Bytes actually downloaded (indices and pool files).
    pub downloaded_bytes: u64,
    /// Of those, the Release and index files'.
    pub index_bytes: u64,
    /// Index bytes copied from the index cache instead (not downloaded).
    pub index_cached_bytes: u64,
    /// Long descriptions (Translation entries, all languages) of the
    /// selected packages, kept for publishing.
    pub descriptions: u64,
    /// Wall time.
    pub seconds: f64,
    /// Object-storage requests made, when the blob store is a bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_requests: Option<u64>,
    /// Package files an on-demand mirror left upstream this sync.
    #[serde(skip_serializing_if = "ondemand::is_zero")]
    pub left_upstream: u64,
    /// Installer images fetched (for a dry run: to fetch), when the mirror
    /// has `--with-installer` and the store lacked some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installer_images: Option<installer::ImageCost>,
}

impl SyncReport {
    /// Exit code: [`FROZEN`] when packages were frozen by this sync.
    pub fn exit_code(&self) -> u8 {
        if self.plan.freezes.is_empty() {
            SUCCESS
        } else {
            FROZEN
        }
    }

    /// The error a sync fails with when its plan may not proceed. A dry run
    /// returns the plan the mass-removal guard stops as a report, so that
    /// the caller shows it, then fails with this.
    pub fn refusal(&self) -> Option<SyncError> {
        self.plan.verdict.check(&self.mirror).err()
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

/// Takes the locks a sync holds and reads the mirror under them: the
/// mirror's own (one sync of a mirror at a time) and the gc lock, shared
/// with other syncs; `gc` takes it exclusively, so it never collects blobs
/// a running sync has stored but not yet committed.
pub(super) fn lock_and_load(
    ctx: &Context,
    name: &str,
) -> Result<((crate::lock::Lock, GcLock), Mirror), SyncError> {
    let lock = ctx.lock_mirror(name)?;
    let gc = GcLock::try_acquire_shared(
        &ctx.settings.lock_dir().join("gc.lock"),
        "the data root (gc)",
    )
    .map_err(SyncError::GcRunning)?;
    let mirror = ctx
        .db
        .mirror(name)?
        .ok_or_else(|| SyncError::NoMirror(name.to_owned()))?;
    Ok(((lock, gc), mirror))
}

async fn sync_one(
    ctx: &mut Context,
    name: &str,
    opts: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let (_locks, mirror) = lock_and_load(ctx, name)?;
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

/// Syncs a locked mirror: Release, indices, then [`plan_and_execute`].
async fn sync_locked(
    ctx: &mut Context,
    mirror: &Mirror,
    opts: &SyncOptions,
    started: Instant,
) -> Result<SyncReport, SyncError> {
    let name = mirror.name.as_str();
    let bad_url = || SyncError::BadUrl {
        mirror: name.to_owned(),
        url: mirror.spec.url.to_string(),
    };
    let parse = |u: String| Url::parse(&u).map(|u| ctx.fetcher.authorize(u));
    let dists = parse(mirror.spec.dists_url()).map_err(|_| bad_url())?;
    let base = parse(mirror.spec.base_url()).map_err(|_| bad_url())?;
    let state = &mirror.state;
    let Prior {
        curation,
        others,
        spec_digest,
        prev,
        same_spec,
    } = Prior::load(ctx, mirror, opts)?;
    let validators = same_spec.then(|| Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    });
    let mut bytes = IndexBytes::default();

    step(
        ctx,
        name,
        format!("fetching {}InRelease", redact::url(&dists)),
    );
    let fetched =
        fetch_release(ctx, mirror, &dists, validators.as_ref(), &mut bytes.network).await?;
    let Some(doc) = fetched else {
        return unchanged(ctx, mirror, state.clone(), None, started, bytes.network);
    };
    if same_spec && Some(doc.sha256) == state.release_sha256 {
        let mut st = state.clone();
        st.etag = doc.validators.etag.clone();
        st.last_modified = doc.validators.last_modified.clone();
        return unchanged(ctx, mirror, st, None, started, bytes.network);
    }
    let release = &doc.release;
    let now = Utc::now();
    check_fresh(mirror, &doc, now)?;
    let indices = choose_indices(mirror, release)?;
    let i18n = translations::pending(mirror, release, &dists, &indices);
    let dep11 = appstream::pending(mirror, release, &dists, &indices);
    let cnf = cnf::pending(mirror, release, &dists, &indices);
    let udebs = udebs::choose(ctx, mirror, release, &dists, &indices)?;
    let images = installer::choose(mirror, release, &dists, &indices);

    // Same indices and same configuration as the current revision: nothing to do but remember the Release.
    let index_digests = index_digests(&indices, (&i18n, &dep11, &cnf), &udebs, &images);
    let new_state = doc.accepted(now, state.revision);
    if let Some(prev) = &prev
        && same_spec
        && serde_json::to_value(&index_digests).ok() == prev.stats.get("indices").cloned()
    {
        step(ctx, name, "indices unchanged");
        return unchanged(ctx, mirror, new_state, release.date, started, bytes.network);
    }

    // The filter first: the fields it reads are kept in memory.
    let (filter, closure) = selection_rules(mirror)?;
    let mut fields = kept_fields(&filter, &closure);
    if mirror.spec.with_sources {
        fields.push("Source".into());
    }
    translations::keep_md5(mirror, &mut fields);
    others.add_fields(&mut fields, &closure);
    let mut upstream =
        fetch_indices(ctx, mirror, &dists, release, &indices, fields, &mut bytes).await?;
    if mirror.spec.is_flat() {
        flat::keep_architectures(mirror, &mut upstream);
    }
    let mut components: Vec<String> = indices.into_iter().map(|i| i.component).collect();
    let roots = others.read_into(ctx, name, &mut upstream, &mut components)?;
    let udebs_from = match udebs.indices.is_empty() {
        true => None,
        false => {
            let (up, comps) = (&mut upstream, &mut components);
            Some(udebs::read_into(ctx, mirror, &udebs, up, comps, &mut bytes).await?)
        }
    };
    let fetched = Fetched {
        i18n,
        dep11,
        cnf,
        base,
        release_date: release.date,
        components,
        upstream,
        filter,
        closure,
        roots,
        udebs_from,
        images,
        curation,
        record: Record {
            state: new_state,
            indices: index_digests,
            spec: spec_digest,
            index_bytes: bytes.network,
            index_cached_bytes: bytes.cached,
            release_names: (release.origin.clone(), release.codename.clone()),
            installer: Vec::new(),
            upstream_contents: release.files.keys().any(|p| p.contains("/Contents-")),
        },
    };
    let report = plan_and_execute(ctx, mirror, opts, fetched, started).await?;
    if matches!(report.outcome, Outcome::Synced) {
        contents::seed(ctx, mirror, &dists, release).await;
    }
    Ok(report)
}

/// The SHA256 of every file the sync reads, by path: the revision records
/// them, and the next sync of an unchanged configuration stops early when
/// they are all the same.
fn index_digests(
    indices: &[release::IndexRef],
    (i18n, dep11, cnf): (&translations::Pending, &appstream::Pending, &cnf::Pending),
    udebs: &udebs::Pending,
    images: &installer::Pending,
) -> BTreeMap<String, String> {
    indices
        .iter()
        .chain(i18n.files.iter().map(|t| &t.index))
        .chain(dep11.files())
        .chain(cnf.files())
        .chain(&udebs.indices)
        .map(|i| (i.path.clone(), i.sha256.to_string()))
        .chain(images.digests())
        .collect()
}

/// The mirror's current revision and whether this sync's configuration is
/// the one it was made with: a changed configuration (filter,
/// architectures…) or a new operator decision (freeze, unfreeze, rejection)
/// must re-evaluate even an unchanged upstream.
struct Prior {
    curation: Curation,
    others: group::Others,
    spec_digest: String,
    prev: Option<crate::db::Revision>,
    same_spec: bool,
}

impl Prior {
    fn load(ctx: &Context, mirror: &Mirror, opts: &SyncOptions) -> Result<Self, SyncError> {
        let curation = Curation::load(&ctx.db, mirror)?;
        let others = group::Others::load(ctx, mirror)?;
        let spec_digest = spec_digest(mirror, &curation, &others);
        let prev = match mirror.state.revision {
            Some(rev) => ctx.db.revision(rev)?,
            None => None,
        };
        let same_spec = !opts.reevaluate
            && prev.as_ref().is_some_and(|p| {
                p.stats.get("spec").and_then(|v| v.as_str()) == Some(spec_digest.as_str())
            });
        Ok(Prior {
            curation,
            others,
            spec_digest,
            prev,
            same_spec,
        })
    }
}

/// Digest of the mirror's configuration and the operator's decisions: a
/// change re-evaluates even an unchanged upstream.
fn spec_digest(mirror: &Mirror, curation: &Curation, others: &group::Others) -> String {
    let mut text =
        serde_json::to_string(&mirror.spec).unwrap_or_default() + &curation.fingerprint();
    if !others.is_empty() {
        text.push_str("\n\ngroup\n");
        text.push_str(&others.digest_part());
    }
    Sha256::of(text.as_bytes()).to_string()
}

/// A sync whose upstream or configuration changed, with its indices in.
struct Fetched<'g> {
    /// The archive base URL pool files are relative to.
    base: Url,
    /// The Release's Date.
    release_date: Option<DateTime<Utc>>,
    /// The component of each index, by position.
    components: Vec<String>,
    /// The packages of the indices.
    upstream: Upstream,
    /// The Translation files to read once the packages are selected.
    i18n: translations::Pending,
    /// The AppStream files to read once the packages are selected.
    dep11: appstream::Pending,
    /// The command-not-found files to read once the packages are selected.
    cnf: cnf::Pending,
    /// The mirror's filter.
    filter: Filter,
    /// The mirror's dependency-closure options.
    closure: ClosureOptions,
    /// The roots of its group's other members, whose packages follow its own.
    roots: group::Roots<'g>,
    /// The component number the installer's packages start at, if any.
    udebs_from: Option<usize>,
    /// The installer images directories to read once the plan stands.
    images: installer::Pending,
    /// The operator's decisions.
    curation: Curation,
    /// What the commit records besides the plan.
    record: Record,
}

/// Selects, plans, and — unless a dry run — executes the plan.
async fn plan_and_execute(
    ctx: &mut Context,
    mirror: &Mirror,
    opts: &SyncOptions,
    fetched: Fetched<'_>,
    started: Instant,
) -> Result<SyncReport, SyncError> {
    let name = mirror.name.as_str();
    let Fetched {
        base,
        release_date,
        components,
        mut upstream,
        filter,
        closure,
        roots,
        udebs_from,
        images,
        curation,
        mut record,
        i18n,
        dep11,
        cnf,
    } = fetched;
    for dup in upstream.dedupe() {
        warn(
            ctx,
            name,
            format!("`{dup}` is listed twice with different content; keeping the first"),
        );
    }
    let packages = &upstream.packages;
    let debs = udebs::start(packages, udebs_from);
    let selection = select(ctx, name, packages, debs, (&filter, &closure), &roots);
    let selected = (packages.as_slice(), selection.selected.as_slice());
    let descriptions = translations::fetch(ctx, mirror, &i18n, selected, &mut record).await?;
    let selected = (selected.0, selected.1, components.as_slice());
    let appstream = appstream::fetch(ctx, mirror, &dep11, selected, &mut record).await?;
    let commands = cnf::fetch(ctx, mirror, &cnf, selected, &mut record).await?;
    let view = mirror_view(ctx, mirror, curation, opts)?;
    let new = plan::new_packages(packages, &selection.selected, &view.current);
    let stored = Stored::choose(&ctx.store, new, view.current.len())?;
    let components: Vec<&str> = components.iter().map(String::as_str).collect();
    let plan = plan::plan(packages, &components, &selection, &view, &stored)?;
    drop((stored, view));
    let deferred = opts.defer_unresolved && !plan.summary.unresolved.is_empty();
    // Names the filter gives that neither this upstream nor another
    // member of the group has.
    let missing: Vec<String> = filter
        .named_packages()
        .into_iter()
        .filter(|wanted| {
            let here = selection
                .selected
                .iter()
                .any(|&i| *packages[i].name == **wanted);
            !here && !roots.others_have(&packages[..debs], |p| p.component as usize, wanted)
        })
        .collect();
    warn_selection(ctx, name, &plan.summary, &missing, deferred);
    drop(selection);
    if !opts.dry_run {
        plan.summary.verdict.check(name)?;
    }
    warn_freezes(ctx, name, &plan.summary.freezes);

    if opts.dry_run {
        let bytes = &mut record.index_bytes;
        let images = installer::estimate(ctx, mirror, &images, bytes, opts.downloads).await?;
        return Ok(SyncReport {
            mirror: name.to_owned(),
            outcome: Outcome::Planned,
            unresolved_deferred: deferred,
            release_date,
            packages: plan.revision.packages(),
            plan: plan.summary,
            downloaded_files: 0,
            downloaded_bytes: record.index_bytes,
            index_bytes: record.index_bytes,
            index_cached_bytes: record.index_cached_bytes,
            descriptions: descriptions.count(),
            seconds: started.elapsed().as_secs_f64(),
            s3_requests: None,
            left_upstream: 0,
            installer_images: (images.files > 0).then_some(images),
        });
    }
    descriptions.store(&mut ctx.db)?;
    appstream.store(&mut ctx.db)?;
    commands.store(&mut ctx.db)?;
    let bytes = &mut record.index_bytes;
    let fetched = installer::fetch(ctx, mirror, &images, bytes, opts.downloads);
    let (installer_files, images) = fetched.await?;
    record.installer = installer_files;
    let (index_bytes, index_cached_bytes) = (record.index_bytes, record.index_cached_bytes);
    let done = execute(ctx, mirror, &base, upstream, plan, record, opts.downloads).await?;
    Ok(SyncReport {
        mirror: name.to_owned(),
        outcome: Outcome::Synced,
        unresolved_deferred: deferred,
        release_date,
        packages: done.packages,
        plan: done.summary,
        downloaded_files: done.files + images.files,
        left_upstream: done.left_upstream,
        downloaded_bytes: done.bytes + images.bytes,
        index_bytes,
        index_cached_bytes,
        descriptions: descriptions.count(),
        seconds: started.elapsed().as_secs_f64(),
        s3_requests: None,
        installer_images: (images.files > 0).then_some(images),
    })
}

/// What the plan compares upstream with: the mirror's current revision,
/// curation, pins and the mass-removal limit.
fn mirror_view(
    ctx: &Context,
    mirror: &Mirror,
    curation: Curation,
    opts: &SyncOptions,
) -> Result<MirrorView, SyncError> {
    Ok(MirrorView {
        current: match mirror.state.revision {
            Some(rev) => ctx.db.revision_entries(rev)?,
            None => Vec::new(),
        },
        curation,
        pins: mirror.spec.pins.clone(),
        removal_limit: (!opts.allow_mass_removal).then_some(ctx.settings.mass_removal_percent),
    })
}

/// The packages the mirror keeps: its filter and closure over its own
/// packages (with its group's roots), the udebs (which come last, from
/// `debs`) closed among themselves, then the sources of what was selected.
fn select(
    ctx: &Context,
    name: &str,
    packages: &[UpstreamPackage],
    debs: usize,
    (filter, closure): (&Filter, &ClosureOptions),
    roots: &group::Roots<'_>,
) -> Selection {
    step(
        ctx,
        name,
        format!("selecting from {} packages", packages.len()),
    );
    let mut selection = roots.select(&packages[..debs], |p| p.component as usize, filter, closure);
    crate::query::udebs::select_apart(packages, debs, filter, closure, &mut selection);
    let lost = follow_sources(packages, filter, &mut selection);
    if let Some(first) = lost.first() {
        let more = match lost.len() - 1 {
            0 => String::new(),
            n => format!(", nor those of {n} more selected packages"),
        };
        warn(ctx, name, format!("the upstream lists no {first}{more}"));
    }
    selection
}

/// Warns of each package frozen because upstream changed it.
fn warn_freezes(ctx: &Context, name: &str, freezes: &[crate::model::Freeze]) {
    for f in freezes {
        warn(
            ctx,
            name,
            format!(
                "`{}` changed upstream under the same version (SHA256 `{}` → `{}`): frozen, the known-good copy stays",
                f.key, f.kept_sha256, f.upstream_sha256
            ),
        );
    }
}

/// Warns about what the selection and the plan leave out: unsatisfiable
/// dependencies, packages the filter names that upstream lacks, pinned
/// versions upstream dropped.
fn warn_selection(
    ctx: &Context,
    name: &str,
    summary: &PlanSummary,
    missing: &[String],
    defer_unresolved: bool,
) {
    if let Some(first) = summary.unresolved.first().filter(|_| !defer_unresolved) {
        warn(
            ctx,
            name,
            format!(
                "{} dependencies are not satisfiable inside the mirror, e.g. {first}",
                summary.unresolved.len()
            ),
        );
    }
    for wanted in missing {
        warn(
            ctx,
            name,
            format!("the filter names `{wanted}` but the upstream has no such package"),
        );
    }
    for missing in &summary.pins_missing {
        warn(
            ctx,
            name,
            format!("pinned `{missing}` is no longer listed upstream; the live copy is kept"),
        );
    }
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
        unresolved_deferred: false,
        release_date: release_date.or(state.release_date),
        packages,
        plan: PlanSummary::default(),
        downloaded_files: 0,
        downloaded_bytes,
        index_bytes: downloaded_bytes,
        index_cached_bytes: 0,
        descriptions: 0,
        seconds: started.elapsed().as_secs_f64(),
        s3_requests: None,
        left_upstream: 0,
        installer_images: None,
    })
}
