//! Planning a sync: the pure step between the verified indices and the
//! downloads.
//!
//! [`plan`] compares the packages the filter and dependency closure selected
//! from the upstream indices with the database's view of the mirror
//! ([`MirrorView`]: the live revision, the operator's [`Curation`], pins and
//! the mass-removal limit) and returns an owned [`SyncPlan`]:
//!
//! - [`PlanSummary`], what changes — what `--dry-run` prints and the report
//!   carries as is, including the mass-removal guard's [`Verdict`];
//! - the pool files to download ([`PlannedDownload`]);
//! - the new revision's contents ([`PlannedRevision`]).
//!
//! Packages are named by their index in the upstream package list. Planning
//! reads nothing but its inputs and [`Stored`], the blob store's answer to
//! "do you hold this digest", so it is tested without HTTP.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use serde::Serialize;

use super::SyncError;
use crate::db::{Db, NewStaged, RevisionEntry, StageAction};
use crate::digest::Sha256;
use crate::model::{Freeze, FreezeKind, Mirror, PackageId, PackageKey, Pin};
use crate::ops::upstream::UpstreamPackage;
use crate::query::{ClosureOptions, Filter, Glob, Selection};
use crate::store::{BlobStore, StoreError};

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

/// What a sync would change: the part of the plan a report and `--dry-run`
/// show.
#[derive(Debug, Default, Serialize)]
pub struct PlanSummary {
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
    /// Of the packages added, source packages (`--with-sources`).
    #[serde(skip_serializing_if = "is_zero")]
    pub sources_added: u64,
    /// Dependencies the closure could not satisfy, as `package: dependency`.
    pub unresolved: Vec<String>,
    /// Alternatives the closure did not follow because an earlier one of
    /// the same dependency was taken, as `package: alternative (of dependency)`
    /// (empty with `--follow-all-alternatives`).
    pub alternatives_left_out: Vec<String>,
    /// Review mode: changes staged for promotion instead of made live.
    pub staged: Vec<PlannedStage>,
    /// Content freezes lifted because upstream serves the known-good bytes again.
    pub restored: Vec<PackageKey>,
    /// Pinned versions upstream no longer lists (kept while they are live), as `name version`.
    pub pins_missing: Vec<String>,
    /// Whether the sync may go ahead (shown only when it may not).
    #[serde(skip_serializing_if = "Verdict::proceeds")]
    pub verdict: Verdict,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The mass-removal guard's decision on a plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing stops the sync.
    #[default]
    Proceed,
    /// The sync would remove more than the configured share of the mirror.
    MassRemoval {
        /// Packages (name and architecture) that would go with no version left.
        removed: u64,
        /// Packages live now.
        total: u64,
        /// Their share, in percent.
        percent: f64,
        /// The configured limit, in percent.
        limit: u32,
    },
}

impl Verdict {
    /// Whether nothing stops the sync.
    pub fn proceeds(&self) -> bool {
        *self == Verdict::Proceed
    }

    /// The error that stops the sync of `mirror`, if any.
    pub fn check(&self, mirror: &str) -> Result<(), SyncError> {
        match *self {
            Verdict::Proceed => Ok(()),
            Verdict::MassRemoval {
                removed,
                total,
                percent,
                limit,
            } => Err(SyncError::MassRemoval {
                mirror: mirror.to_owned(),
                removed,
                total,
                percent,
                limit,
            }),
        }
    }
}

/// A pool file to download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PlannedDownload {
    /// Its digest.
    pub sha256: Sha256,
    /// Its size.
    pub size: u64,
    /// The upstream package whose `Filename` it is.
    pub package: usize,
    /// For a source package, which of its files (`Checksums-Sha256` position).
    pub file: Option<u32>,
}

/// The contents of the revision the commit records.
#[derive(Debug, Default)]
pub(super) struct PlannedRevision {
    /// Packages already in the database, as (component, row).
    pub kept: Vec<(String, PackageId)>,
    /// Upstream packages to store, as (component, package).
    pub added: Vec<(String, usize)>,
    /// Review mode: changes to stage; an addition names its upstream package.
    pub staged: Vec<(NewStaged, Option<usize>)>,
}

impl PlannedRevision {
    /// Packages live after the commit.
    pub fn packages(&self) -> u64 {
        (self.kept.len() + self.added.len()) as u64
    }
}

/// A sync's plan; see the module docs.
#[derive(Debug, Default)]
pub(super) struct SyncPlan {
    /// What changes, as reported.
    pub summary: PlanSummary,
    /// The pool files to fetch, each once.
    pub downloads: Vec<PlannedDownload>,
    /// The new revision.
    pub revision: PlannedRevision,
}

/// The database's view of a mirror that planning needs.
#[derive(Debug, Default)]
pub(super) struct MirrorView {
    /// The live revision's packages.
    pub current: Vec<RevisionEntry>,
    /// The operator's decisions.
    pub curation: Curation,
    /// The mirror's pinned versions.
    pub pins: Vec<Pin>,
    /// The mass-removal limit in percent; `None` when removals are allowed.
    pub removal_limit: Option<u32>,
}

/// What the blob store holds, as planning asks it.
pub(super) enum Stored<'a> {
    /// A listing of the whole store, taken once.
    Listed(HashSet<Sha256>),
    /// Ask the store per blob.
    Ask(&'a BlobStore),
}

impl Stored<'_> {
    /// Lists the store or asks it blob by blob, whichever costs fewer
    /// requests for a sync that may add `new` packages to a mirror of
    /// `current`. Many new packages (a first sync): one listing beats a
    /// lookup per blob. A bucket lists 1,000 keys per request, so there a
    /// listing wins as soon as it costs fewer requests than the lookups.
    pub fn choose(store: &BlobStore, new: usize, current: usize) -> Result<Stored<'_>, StoreError> {
        let list = match store {
            BlobStore::S3(_) => new > current / 1000 + 1,
            BlobStore::Fs(_) => new > 2000,
        };
        Ok(if list {
            Stored::Listed(store.list()?.into_iter().collect())
        } else {
            Stored::Ask(store)
        })
    }

    fn has(&self, digest: &Sha256) -> Result<bool, StoreError> {
        match self {
            Stored::Listed(set) => Ok(set.contains(digest)),
            Stored::Ask(store) => store.contains(digest),
        }
    }
}

/// Selected packages whose content the live revision does not have: the
/// most a sync may download.
pub(super) fn new_packages(
    packages: &[UpstreamPackage],
    selected: &[usize],
    current: &[RevisionEntry],
) -> usize {
    let have: HashSet<Sha256> = current.iter().map(|e| e.sha256).collect();
    selected
        .iter()
        .filter(|&&i| !have.contains(&packages[i].sha256))
        .count()
}

/// Plans a sync: the `selection` of the upstream `packages` (listed in
/// `components`, by their `component` index) against the mirror's `view`.
pub(super) fn plan(
    packages: &[UpstreamPackage],
    components: &[&str],
    selection: &Selection,
    view: &MirrorView,
    stored: &Stored<'_>,
) -> Result<SyncPlan, StoreError> {
    let mut planner = Planner {
        plan: SyncPlan::default(),
        curation: &view.curation,
        stored,
        download_seen: HashSet::new(),
    };
    let selected = planner.upstream(packages, components, &selection.selected, &view.current)?;
    planner.current(&view.current, &selected);
    let mut plan = planner.plan;
    plan.summary.removed.sort();
    plan.summary.removed.dedup();
    plan.summary.unresolved = selection
        .unresolved
        .iter()
        .filter_map(|u| {
            packages
                .get(u.package)
                .map(|p| format!("{} ({}): {}", p.name, u.architecture, u.dependency))
        })
        .collect();
    plan.summary.alternatives_left_out = selection
        .left_out
        .iter()
        .filter_map(|l| {
            packages
                .get(l.package)
                .map(|p| format!("{}: {} (of `{}`)", p.name, l.alternative, l.dependency))
        })
        .collect();
    plan.summary.pins_missing = pins_missing(&view.pins, packages);
    plan.summary.verdict = verdict(&plan, packages, &view.current, view.removal_limit);
    Ok(plan)
}

/// The operator's decisions a sync must respect.
#[derive(Clone, Debug, Default)]
pub(super) struct Curation {
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
    /// Reads the decisions on `mirror` from the database.
    pub(super) fn load(db: &Db, mirror: &Mirror) -> Result<Curation, SyncError> {
        let mut c = Curation {
            review: mirror.spec.review,
            accepted: db.accepted_content(mirror.id)?,
            ..Curation::default()
        };
        for f in db.active_freezes(mirror.id)? {
            match f.kind {
                FreezeKind::Content => {
                    c.frozen.insert(f.key.clone(), f);
                }
                FreezeKind::Manual => {
                    c.held.insert((f.key.name, f.key.architecture));
                }
            }
        }
        for r in db.staged(Some(mirror.id), true)? {
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
    pub(super) fn fingerprint(&self) -> String {
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
pub(super) fn pins_missing(pins: &[Pin], packages: &[UpstreamPackage]) -> Vec<String> {
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

/// The mass-removal guard: counts the removals that leave no version of a
/// package (name, architecture) behind — an upgrade replaces, it does not
/// remove; staged removals wait for review anyway — and stops the sync when
/// they pass `limit` percent of the live packages.
fn verdict(
    plan: &SyncPlan,
    packages: &[UpstreamPackage],
    current: &[RevisionEntry],
    limit: Option<u32>,
) -> Verdict {
    let Some(limit) = limit else {
        return Verdict::Proceed;
    };
    if current.is_empty() {
        return Verdict::Proceed;
    }
    let kept_ids: HashSet<PackageId> = plan.revision.kept.iter().map(|(_, id)| *id).collect();
    let remaining: HashSet<(&str, &str)> = current
        .iter()
        .filter(|e| kept_ids.contains(&e.id))
        .map(|e| (e.key.name.as_str(), e.key.architecture.as_str()))
        .chain(
            plan.revision
                .added
                .iter()
                .map(|(_, i)| (&*packages[*i].name, &*packages[*i].architecture)),
        )
        .collect();
    let removing = plan
        .summary
        .removed
        .iter()
        .filter(|k| !remaining.contains(&(k.name.as_str(), k.architecture.as_str())))
        .map(|k| (k.name.as_str(), k.architecture.as_str()))
        .collect::<HashSet<_>>()
        .len();
    let percent = removing as f64 * 100.0 / current.len() as f64;
    if percent > f64::from(limit) {
        Verdict::MassRemoval {
            removed: removing as u64,
            total: current.len() as u64,
            percent,
            limit,
        }
    } else {
        Verdict::Proceed
    }
}

/// A plan in the making.
struct Planner<'a> {
    plan: SyncPlan,
    curation: &'a Curation,
    stored: &'a Stored<'a>,
    /// Digests already planned for download.
    download_seen: HashSet<Sha256>,
}

/// A package's identity as borrowed strings: (name, version, architecture).
type KeyRef<'a> = (&'a str, &'a str, &'a str);

fn entry_key(e: &RevisionEntry) -> KeyRef<'_> {
    (
        e.key.name.as_str(),
        e.key.version.as_str(),
        e.key.architecture.as_str(),
    )
}

impl Planner<'_> {
    /// Plans each selected upstream package against the live revision:
    /// kept, added (or staged), frozen or held. Returns the selected keys.
    fn upstream<'p>(
        &mut self,
        packages: &'p [UpstreamPackage],
        components: &[&str],
        selected: &[usize],
        current: &[RevisionEntry],
    ) -> Result<HashSet<KeyRef<'p>>, StoreError> {
        let current_by_key: HashMap<KeyRef<'_>, &RevisionEntry> =
            current.iter().map(|e| (entry_key(e), e)).collect();
        let curation = self.curation;
        let mut selected_keys: HashSet<KeyRef<'p>> = HashSet::with_capacity(selected.len());
        for &i in selected {
            let p = &packages[i];
            let component = components
                .get(p.component as usize)
                .copied()
                .unwrap_or("main");
            if !selected_keys.insert(p.key_ref()) {
                continue;
            }
            let held = curation.is_held(&p.key());
            match current_by_key.get(&p.key_ref()) {
                Some(entry) if entry.sha256 == p.sha256 => {
                    self.plan.summary.kept += 1;
                    self.plan
                        .revision
                        .kept
                        .push((component.to_owned(), entry.id));
                    let key = p.key();
                    if curation.frozen.contains_key(&key) {
                        self.plan.summary.restored.push(key);
                    }
                }
                Some(entry) => {
                    let key = p.key();
                    if !held
                        && !curation.frozen.contains_key(&key)
                        && curation.accepted.get(&key) == Some(&p.sha256)
                    {
                        // The operator accepted exactly this content: it replaces the old copy.
                        self.add(p, i, component, false)?;
                        continue;
                    }
                    self.plan
                        .revision
                        .kept
                        .push((component.to_owned(), entry.id));
                    if held || curation.frozen.contains_key(&key) {
                        self.plan.summary.held += 1;
                    } else {
                        self.plan.summary.freezes.push(Freeze {
                            key,
                            kind: FreezeKind::Content,
                            kept_sha256: entry.sha256,
                            upstream_sha256: p.sha256,
                            reason: "upstream content changed under the same version".into(),
                            created_at: Utc::now(),
                        });
                    }
                }
                None if held => self.plan.summary.held += 1,
                None if curation.review => {
                    if !curation
                        .rejected
                        .contains(&(StageAction::Add, p.key(), p.sha256))
                    {
                        self.add(p, i, component, true)?;
                    }
                }
                None => self.add(p, i, component, false)?,
            }
        }
        Ok(selected_keys)
    }

    /// Adds upstream package `i` (`p`), live or `staged` for review, and
    /// plans the download of its file unless the store has it.
    fn add(
        &mut self,
        p: &UpstreamPackage,
        i: usize,
        component: &str,
        staged: bool,
    ) -> Result<(), StoreError> {
        let plan = &mut self.plan;
        let mut download = false;
        // A source package brings all its files; each is fetched once.
        for (sha256, size, file) in p.files() {
            if self.stored.has(&sha256)? {
                continue;
            }
            download = true;
            if self.download_seen.insert(sha256) {
                plan.summary.download_files += 1;
                plan.summary.download_bytes += size;
                plan.downloads.push(PlannedDownload {
                    sha256,
                    size,
                    package: i,
                    file,
                });
            }
        }
        if p.is_source() && !staged {
            plan.summary.sources_added += 1;
        }
        if staged {
            plan.summary.staged.push(PlannedStage {
                action: StageAction::Add,
                component: component.to_owned(),
                key: p.key(),
                size: p.size,
            });
            plan.revision.staged.push((
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
            plan.summary.added.push(PlannedPackage {
                component: component.to_owned(),
                key: p.key(),
                size: p.size,
                download,
            });
            plan.revision.added.push((component.to_owned(), i));
        }
        Ok(())
    }

    /// Plans each live package upstream no longer selects: held, pinned or
    /// staged for removal (kept), or removed.
    fn current(&mut self, current: &[RevisionEntry], selected: &HashSet<KeyRef<'_>>) {
        let curation = self.curation;
        let plan = &mut self.plan;
        let mut kept_keys = HashSet::new();
        for e in current {
            let k = entry_key(e);
            if selected.contains(&k) {
                continue;
            }
            let keep = if curation.is_held(&e.key) {
                plan.summary.held += 1;
                true
            } else if curation.is_pinned(&e.key) {
                true
            } else if curation.review {
                if !curation
                    .rejected
                    .contains(&(StageAction::Remove, e.key.clone(), e.sha256))
                {
                    plan.summary.staged.push(PlannedStage {
                        action: StageAction::Remove,
                        component: e.component.clone(),
                        key: e.key.clone(),
                        size: e.size,
                    });
                    plan.revision.staged.push((
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
                    plan.summary.kept += 1;
                }
                plan.revision.kept.push((e.component.clone(), e.id));
            } else {
                plan.summary.removed.push(e.key.clone());
            }
        }
    }
}

/// The control fields the filter and the closure read, kept in memory.
pub(super) fn kept_fields(filter: &Filter, closure: &ClosureOptions) -> Vec<String> {
    let mut fields = filter.field_names();
    for field in closure.fields() {
        if !fields.iter().any(|f| f.eq_ignore_ascii_case(field)) {
            fields.push((*field).to_owned());
        }
    }
    fields
}

/// The mirror's filter and dependency-closure options.
pub(super) fn selection_rules(mirror: &Mirror) -> Result<(Filter, ClosureOptions), SyncError> {
    let filter = match &mirror.spec.filter {
        Some(f) => Filter::parse(f).map_err(|e| SyncError::BadFilter {
            mirror: mirror.name.clone(),
            detail: e.to_string(),
        })?,
        None => Filter::match_all(),
    };
    let closure = ClosureOptions {
        with_deps: mirror.spec.with_deps,
        follow_recommends: mirror.spec.follow_recommends,
        follow_all_alternatives: mirror.spec.follow_all_alternatives,
        architectures: mirror.spec.architectures.clone(),
    };
    Ok((filter, closure))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitCode as _;
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

    fn view(current: &[RevisionEntry], curation: &Curation) -> MirrorView {
        MirrorView {
            current: current.to_vec(),
            curation: curation.clone(),
            ..MirrorView::default()
        }
    }

    fn plan_view(packages: &[UpstreamPackage], view: &MirrorView, in_store: &[&str]) -> SyncPlan {
        let selection = Selection {
            selected: (0..packages.len()).collect(),
            unresolved: Vec::new(),
            left_out: Vec::new(),
        };
        let stored = Stored::Listed(in_store.iter().map(|c| Sha256::of(c.as_bytes())).collect());
        super::plan(packages, &["main"], &selection, view, &stored).expect("plan")
    }

    fn curated_plan(
        packages: &[UpstreamPackage],
        current: &[RevisionEntry],
        curation: &Curation,
        in_store: &[&str],
    ) -> SyncPlan {
        plan_view(packages, &view(current, curation), in_store)
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
        assert!(p.summary.added.is_empty() && p.summary.removed.is_empty());
        assert_eq!(p.revision.kept.len(), 2, "aa and bb 1 stay live");
        let staged: Vec<String> = p
            .summary
            .staged
            .iter()
            .map(|s| format!("{:?} {}", s.action, s.key))
            .collect();
        assert_eq!(
            staged,
            ["Add bb_2_amd64", "Add cc_1_amd64", "Remove bb_1_amd64"]
        );
        assert_eq!(
            p.summary.download_files, 2,
            "staged packages are fetched for review"
        );
        // A rejected change is not staged again.
        c.rejected
            .insert((StageAction::Add, up("cc", "1", "C").key(), Sha256::of(b"C")));
        let p = curated_plan(&packages, &current, &c, &[]);
        assert_eq!(p.summary.staged.len(), 2);
    }

    #[test]
    fn operator_freeze_holds_version_and_blocks_removal() {
        let packages = [up("aa", "2", "A2")];
        let current = [entry(1, "aa", "1", "A1"), entry(2, "bb", "1", "B")];
        let mut c = Curation::default();
        c.held.insert(("aa".into(), "amd64".into()));
        c.held.insert(("bb".into(), "amd64".into()));
        let p = curated_plan(&packages, &current, &c, &[]);
        assert!(
            p.summary.added.is_empty() && p.summary.removed.is_empty(),
            "{p:?}"
        );
        assert_eq!(p.revision.kept.len(), 2);
        assert_eq!(p.summary.held, 3);
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
        assert_eq!(p.summary.added.len(), 1);
        assert_eq!(p.revision.kept, vec![("main".to_owned(), PackageId(2))]);
        assert!(p.summary.freezes.is_empty());
        assert_eq!(p.summary.restored, vec![bb]);
        // Content other than the accepted one freezes again.
        let other = [up("aa", "1", "A-third")];
        let p = curated_plan(&other, &current[..1], &c, &[]);
        assert_eq!(p.summary.freezes.len(), 1);
    }

    #[test]
    fn pinned_versions_stay_when_upstream_drops_them() {
        let packages = [up("aa", "2", "A2")];
        let current = [entry(1, "aa", "1", "A1")];
        let mut c = Curation::default();
        c.pins
            .push((Glob::new("a*").expect("glob"), vec!["1".into()]));
        let p = curated_plan(&packages, &current, &c, &[]);
        assert!(p.summary.removed.is_empty());
        assert_eq!(p.revision.kept.len(), 1);
        assert_eq!(p.summary.added.len(), 1);
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
        assert_eq!(p.summary.added.len(), 3);
        assert_eq!(
            (p.summary.download_files, p.summary.download_bytes),
            (1, 1),
            "A once; B is stored"
        );
        assert_eq!(p.revision.added.len(), 3);
        assert_eq!(p.revision.packages(), 3);
        assert!(p.summary.removed.is_empty() && p.summary.freezes.is_empty());
    }

    #[test]
    fn kept_removed_and_new_versions() {
        let packages = [up("aa", "1", "A"), up("bb", "2", "B2")];
        let current = [entry(1, "aa", "1", "A"), entry(2, "bb", "1", "B1")];
        let p = plan(&packages, &current, &HashMap::new(), &[]);
        assert_eq!(p.summary.kept, 1);
        assert_eq!(p.revision.kept, vec![("main".to_owned(), PackageId(1))]);
        assert_eq!(p.summary.added.len(), 1);
        assert_eq!(p.summary.added[0].key.version, "2");
        assert_eq!(p.summary.removed, vec![entry(2, "bb", "1", "B1").key]);
    }

    #[test]
    fn changed_content_freezes_once_then_holds() {
        let packages = [up("aa", "1", "A-rebuilt")];
        let current = [entry(7, "aa", "1", "A")];
        let p = plan(&packages, &current, &HashMap::new(), &[]);
        assert_eq!(p.summary.freezes.len(), 1);
        assert_eq!(p.summary.freezes[0].kept_sha256, Sha256::of(b"A"));
        assert_eq!(
            p.summary.freezes[0].upstream_sha256,
            Sha256::of(b"A-rebuilt")
        );
        assert_eq!(
            p.revision.kept,
            vec![("main".to_owned(), PackageId(7))],
            "the known-good copy stays"
        );
        assert_eq!(p.summary.download_files, 0);
        let frozen: HashMap<PackageKey, Freeze> = p
            .summary
            .freezes
            .iter()
            .map(|f| (f.key.clone(), f.clone()))
            .collect();
        let again = plan(&packages, &current, &frozen, &[]);
        assert!(again.summary.freezes.is_empty());
        assert_eq!(again.summary.held, 1);
    }

    #[test]
    fn the_guard_counts_removals_that_leave_no_version_behind() {
        let current: Vec<RevisionEntry> = (0..10)
            .map(|i| entry(i, &format!("p{i}"), "1", &format!("P{i}")))
            .collect();
        let mut packages: Vec<UpstreamPackage> = (0..7)
            .map(|i| up(&format!("p{i}"), "1", &format!("P{i}")))
            .collect();
        // An upgrade replaces p0 1; it does not count as a removal.
        packages[0] = up("p0", "2", "P0-2");
        let mut v = view(&current, &Curation::default());
        v.removal_limit = Some(20);
        let p = plan_view(&packages, &v, &[]);
        assert_eq!(p.summary.removed.len(), 4);
        assert_eq!(
            p.summary.verdict,
            Verdict::MassRemoval {
                removed: 3,
                total: 10,
                percent: 30.0,
                limit: 20
            }
        );
        let err = p.summary.verdict.check("m").expect_err("stops");
        assert!(
            matches!(err, SyncError::MassRemoval { removed: 3, .. }),
            "{err}"
        );
        assert_eq!(err.exit_code(), 1);
        v.removal_limit = Some(30);
        assert!(
            plan_view(&packages, &v, &[]).summary.verdict.proceeds(),
            "30% is within 30%"
        );
        v.removal_limit = None;
        assert!(
            plan_view(&packages, &v, &[]).summary.verdict.proceeds(),
            "allowed"
        );
        v.removal_limit = Some(0);
        v.current.clear();
        assert!(
            plan_view(&packages, &v, &[]).summary.verdict.proceeds(),
            "a first sync"
        );
    }

    #[test]
    fn the_report_shows_the_verdict_only_when_it_stops() {
        let mut summary = PlanSummary::default();
        let json = serde_json::to_value(&summary).expect("json");
        assert!(json.get("verdict").is_none(), "{json}");
        summary.verdict = Verdict::MassRemoval {
            removed: 3,
            total: 10,
            percent: 30.0,
            limit: 20,
        };
        let json = serde_json::to_value(&summary).expect("json");
        assert_eq!(json["verdict"]["mass_removal"]["removed"], 3, "{json}");
    }

    #[test]
    fn unresolved_dependencies_and_missing_pins_are_reported() {
        let packages = [up("aa", "1", "A")];
        let selection = Selection {
            selected: vec![0],
            unresolved: vec![crate::query::Unresolved {
                package: 0,
                dependency: "libc6 (>= 2.36)".into(),
                architecture: "amd64".into(),
            }],
            left_out: vec![crate::query::LeftOut {
                package: 0,
                dependency: "usrmerge | usr-is-merged".into(),
                alternative: "usr-is-merged".into(),
            }],
        };
        let v = MirrorView {
            pins: vec![Pin {
                name: "aa".into(),
                versions: vec!["0.9".into()],
            }],
            ..MirrorView::default()
        };
        let p = super::plan(
            &packages,
            &["main"],
            &selection,
            &v,
            &Stored::Listed(HashSet::new()),
        )
        .expect("plan");
        assert_eq!(p.summary.unresolved, ["aa (amd64): libc6 (>= 2.36)"]);
        assert_eq!(
            p.summary.alternatives_left_out,
            ["aa: usr-is-merged (of `usrmerge | usr-is-merged`)"]
        );
        assert_eq!(p.summary.pins_missing, ["aa 0.9"]);
        assert_eq!(
            p.downloads,
            [PlannedDownload {
                sha256: Sha256::of(b"A"),
                size: 1,
                package: 0,
                file: None,
            }]
        );
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
