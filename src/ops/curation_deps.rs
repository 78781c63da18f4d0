//! Dependencies across staged changes: a promotion brings the staged
//! packages its promoted versions need, a rejection refuses to leave a
//! package uninstallable, and `staged list` says which staged entries are
//! there only because a requested package pulled them in.
//!
//! All three work on one [`Pending`] view of a review-mode mirror: its live
//! packages followed by its staged additions, indexed once
//! ([`Universe`]); a state is a `present` mask over it (live now, live
//! after promoting these rows, after rejecting those).
//!
//! "Pulled in by" is computed when shown, from the dependency graph and the
//! mirror's filter, rather than stored at sync: the filter may have been
//! edited since, and a stored answer would go stale with every promotion.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use serde::Serialize;

use super::curation::StagedItem;
use super::installable::{InstallableError, StoredPackage, UnmetDependency, describe};
use crate::db::{Db, RevisionEntry, StageAction, StagedRow};
use crate::model::{Mirror, PackageId};
use crate::query::Filter;
use crate::query::installable::{INSTALL_FIELDS, Universe, Unmet};

/// How `promote` and `reject` treat dependencies.
#[derive(Clone, Copy, Debug, Default)]
pub struct DecideOptions {
    /// Follow dependencies: promote what the promoted need; refuse a
    /// rejection that leaves something uninstallable.
    pub follow_deps: bool,
    /// Decide nothing; report what would be done.
    pub dry_run: bool,
}

/// A staged addition a promotion took because a promoted package needs it.
#[derive(Clone, Debug, Serialize)]
pub struct PulledIn {
    /// The package taken, `name_version_arch`.
    pub package: String,
    /// The name of the promoted package that depends on it.
    pub needed_by: String,
}

/// A review-mode mirror's live packages and staged additions.
pub(crate) struct Pending {
    /// Live packages (the first `live` entries), then staged additions.
    packages: Vec<StoredPackage>,
    live: usize,
    /// The row of each staged addition, by its index in `packages`.
    add_row: HashMap<usize, i64>,
    /// The index of each staged row's package: the addition itself, or the
    /// live package a removal takes out.
    index_of: HashMap<i64, usize>,
    /// Staged rows by (name, architecture), to pair an addition with the
    /// removal of the version it replaces.
    by_name: HashMap<(String, String), Vec<i64>>,
    architectures: Vec<String>,
}

impl Pending {
    /// Loads the packages of `live` and of the additions among `rows`.
    pub(crate) fn load(
        db: &Db,
        live: &[RevisionEntry],
        rows: &[StagedRow],
        architectures: &[String],
    ) -> Result<Pending, InstallableError> {
        let mut ids: Vec<(String, PackageId)> =
            live.iter().map(|e| (e.component.clone(), e.id)).collect();
        let mut add_row = HashMap::new();
        let mut index_of = HashMap::new();
        let mut by_name: HashMap<(String, String), Vec<i64>> = HashMap::new();
        let live_at: HashMap<(&str, &crate::model::PackageKey), usize> = live
            .iter()
            .enumerate()
            .map(|(k, e)| ((e.component.as_str(), &e.key), k))
            .collect();
        for r in rows {
            by_name
                .entry((r.key.name.clone(), r.key.architecture.clone()))
                .or_default()
                .push(r.id);
            match (r.action, r.package_id) {
                (StageAction::Add, Some(id)) => {
                    add_row.insert(ids.len(), r.id);
                    index_of.insert(r.id, ids.len());
                    ids.push((r.component.clone(), id));
                }
                (StageAction::Remove, _) => {
                    if let Some(&k) = live_at.get(&(r.component.as_str(), &r.key)) {
                        index_of.insert(r.id, k);
                    }
                }
                (StageAction::Add, None) => {}
            }
        }
        Ok(Pending {
            packages: StoredPackage::load(db, &ids)?,
            live: live.len(),
            add_row,
            index_of,
            by_name,
            architectures: architectures.to_vec(),
        })
    }

    /// What is live once the rows `applied` are promoted.
    fn present(&self, applied: &HashSet<i64>, rows: &[StagedRow]) -> Vec<bool> {
        let mut present: Vec<bool> = (0..self.packages.len()).map(|i| i < self.live).collect();
        for r in rows.iter().filter(|r| applied.contains(&r.id)) {
            if let Some(&k) = self.index_of.get(&r.id) {
                present[k] = r.action == StageAction::Add;
            }
        }
        present
    }

    fn name(&self, i: usize) -> &str {
        &self.packages[i].record.name
    }
}

/// The dependencies of package `i` unmet in `after` that `before` met (all
/// of them when `i` was not live before).
fn newly_unmet(
    u: &Universe<'_, StoredPackage>,
    i: usize,
    before: &[bool],
    after: &[bool],
) -> Vec<Unmet> {
    let now = u.unmet_of(i, &INSTALL_FIELDS, &|k| after[k]);
    if now.is_empty() || !before[i] {
        return now;
    }
    let was: HashSet<Unmet> = u
        .unmet_of(i, &INSTALL_FIELDS, &|k| before[k])
        .into_iter()
        .collect();
    now.into_iter().filter(|x| !was.contains(x)).collect()
}

fn named(p: &Pending, unmet: Vec<Unmet>) -> Vec<UnmetDependency> {
    let mut out: Vec<UnmetDependency> = unmet
        .into_iter()
        .map(|x| describe(&p.packages[x.package], x.field, x.dependency))
        .collect();
    out.sort_by(|a, b| (&a.package, &a.architecture).cmp(&(&b.package, &b.architecture)));
    out.dedup();
    out
}

/// What a promotion takes beyond the picked rows, and what it leaves unmet.
pub(crate) struct Expansion {
    /// The staged additions pulled in, in the order they were.
    pub pulled: Vec<PulledIn>,
    /// Dependencies unmet after the promotion that were met before.
    pub unmet: Vec<UnmetDependency>,
}

/// Extends `picked` (row ids) with the staged additions the promoted
/// packages need, transitively, choosing among alternatives as apt would
/// (with the removal of the version each replaces); `follow` false only
/// reports what stays unmet.
pub(crate) fn expand_promotion(
    p: &Pending,
    rows: &[StagedRow],
    picked: &mut HashSet<i64>,
    follow: bool,
) -> Expansion {
    let u = Universe::new(&p.packages, &p.architectures);
    let before = p.present(&HashSet::new(), rows);
    let mut present = p.present(picked, rows);
    let mut queue: VecDeque<usize> = rows
        .iter()
        .filter(|r| picked.contains(&r.id) && r.action == StageAction::Add)
        .filter_map(|r| p.index_of.get(&r.id).copied())
        .collect();
    let mut pulled = Vec::new();
    while follow && let Some(i) = queue.pop_front() {
        for (_, parsed) in u.dependencies(i, &INSTALL_FIELDS) {
            for dep in parsed.unwrap_or_default() {
                for arch in u.install_architectures(i) {
                    if u.satisfied(&dep, arch, &|k| present[k]) {
                        continue;
                    }
                    let pool = |k: usize| k >= p.live && !present[k];
                    let Some(j) = u.best(&dep, arch, &pool) else {
                        continue;
                    };
                    let Some(&row) = p.add_row.get(&j) else {
                        continue;
                    };
                    let pk = &p.packages[j].record;
                    let same = (pk.name.clone(), pk.architecture.clone());
                    for &other in p.by_name.get(&same).into_iter().flatten() {
                        let is_removal = rows
                            .iter()
                            .any(|r| r.id == other && r.action == StageAction::Remove);
                        if other == row || is_removal {
                            picked.insert(other);
                            if let Some(&k) = p.index_of.get(&other) {
                                present[k] = other == row;
                            }
                        }
                    }
                    pulled.push(PulledIn {
                        package: format!("{}_{}_{}", pk.name, pk.version, pk.architecture),
                        needed_by: p.name(i).to_owned(),
                    });
                    queue.push_back(j);
                }
            }
        }
    }
    // Removals can break live dependents; additions can bring needs of their own.
    let removes = rows
        .iter()
        .any(|r| picked.contains(&r.id) && r.action == StageAction::Remove);
    let unmet = (0..p.packages.len())
        .filter(|&k| present[k] && (!before[k] || removes))
        .flat_map(|k| newly_unmet(&u, k, &before, &present))
        .collect();
    Expansion {
        pulled,
        unmet: named(p, unmet),
    }
}

/// The dependencies that rejecting `rejecting` (row ids) would leave unmet
/// once everything else staged is promoted (and that promoting everything
/// would meet).
pub(crate) fn rejection_breaks(
    p: &Pending,
    rows: &[StagedRow],
    rejecting: &HashSet<i64>,
) -> Vec<UnmetDependency> {
    let u = Universe::new(&p.packages, &p.architectures);
    let all: HashSet<i64> = rows.iter().map(|r| r.id).collect();
    let rest: HashSet<i64> = all.difference(rejecting).copied().collect();
    let before = p.present(&all, rows);
    let after = p.present(&rest, rows);
    let unmet = (0..p.packages.len())
        .filter(|&k| after[k])
        .flat_map(|k| newly_unmet(&u, k, &before, &after))
        .collect();
    named(p, unmet)
}

/// For each staged addition the mirror's filter does not match, the
/// packages the filter matches (live or staged) whose dependencies reach
/// it, nearest first: a search back along the dependency graph that stops
/// at each requested package.
pub(crate) fn pulled_in_by(
    p: &Pending,
    filter: &Filter,
    follow_recommends: bool,
) -> HashMap<i64, Vec<String>> {
    let requested: Vec<bool> = p.packages.iter().map(|c| filter.matches(c)).collect();
    if p.add_row.keys().all(|&i| requested[i]) {
        return HashMap::new();
    }
    let fields: &[&'static str] = if follow_recommends {
        &["Pre-Depends", "Depends", "Recommends"]
    } else {
        &INSTALL_FIELDS
    };
    let u = Universe::new(&p.packages, &p.architectures);
    let mut reverse: Vec<Vec<usize>> = vec![Vec::new(); p.packages.len()];
    for i in 0..p.packages.len() {
        for (_, parsed) in u.dependencies(i, fields) {
            for dep in parsed.unwrap_or_default() {
                for arch in u.install_architectures(i) {
                    for j in u.all_satisfiers(&dep, arch, &|_| true) {
                        if j != i && !reverse[j].contains(&i) {
                            reverse[j].push(i);
                        }
                    }
                }
            }
        }
    }
    let mut out = HashMap::new();
    for (&start, &row) in &p.add_row {
        if requested[start] {
            continue;
        }
        let mut seen = vec![false; p.packages.len()];
        seen[start] = true;
        let mut queue = VecDeque::from([start]);
        let mut by = BTreeSet::new();
        while let Some(j) = queue.pop_front() {
            for &i in &reverse[j] {
                if std::mem::replace(&mut seen[i], true) {
                    continue;
                }
                if requested[i] {
                    by.insert(p.name(i).to_owned());
                } else {
                    queue.push_back(i);
                }
            }
        }
        out.insert(row, by.into_iter().collect());
    }
    out
}

/// Fills in `pulled_in_by` of the staged additions among `items` (of
/// mirror `m`, staged as `rows`) when the mirror closes a filter over
/// dependencies; otherwise every entry is requested.
pub(crate) fn mark_pulled_in(
    db: &Db,
    m: &Mirror,
    rows: &[StagedRow],
    live: &[RevisionEntry],
    items: &mut [StagedItem],
) -> Result<(), InstallableError> {
    let Some(expr) = m.spec.filter.as_deref().filter(|_| m.spec.with_deps) else {
        return Ok(());
    };
    // A stored filter parsed when it was set; one that no longer does marks nothing.
    let Ok(filter) = Filter::parse(expr) else {
        return Ok(());
    };
    let pending = Pending::load(db, live, rows, &m.spec.architectures)?;
    let by = pulled_in_by(&pending, &filter, m.spec.follow_recommends);
    for (r, list) in rows.iter().filter_map(|r| Some((r, by.get(&r.id)?))) {
        for i in items.iter_mut().filter(|i| {
            i.action == StageAction::Add
                && (&i.name, &i.architecture, i.new_version.as_ref())
                    == (&r.key.name, &r.key.architecture, Some(&r.key.version))
        }) {
            i.pulled_in_by = list.clone();
        }
    }
    Ok(())
}
