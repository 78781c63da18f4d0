//! Planning a sync: what it adds, keeps, removes, stages and freezes.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use serde::Serialize;

use super::SyncError;
use crate::db::{NewStaged, RevisionEntry, StageAction};
use crate::digest::Sha256;
use crate::model::{Freeze, FreezeKind, Mirror, PackageId, PackageKey, Pin};
use crate::ops::Context;
use crate::ops::upstream::UpstreamPackage;
use crate::query::Glob;
use crate::store::StoreError;

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
    pub(super) commit_staged: Vec<(NewStaged, Option<usize>)>,
    #[serde(skip)]
    pub(super) commit_kept: Vec<(String, PackageId)>,
    #[serde(skip)]
    pub(super) commit_added: Vec<(String, usize)>,
    #[serde(skip)]
    pub(super) total: u64,
    /// (digest, size, package): the file of each package to download.
    #[serde(skip)]
    pub(super) downloads: Vec<(Sha256, u64, usize)>,
}

/// The operator's decisions a sync must respect.
#[derive(Debug, Default)]
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
    pub(super) fn load(ctx: &Context, mirror: &Mirror) -> Result<Curation, SyncError> {
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

/// Compares the selected upstream packages with the current revision: what is
/// kept, added (and must be downloaded), removed, staged, newly frozen or
/// still held. Pure but for `in_store`, which asks the blob store whether it
/// has a digest.
pub(super) fn compute_plan(
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
