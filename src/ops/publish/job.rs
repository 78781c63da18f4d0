//! The `Job` a backend is handed once a publish's arguments are checked,
//! with what every backend does through it (the no-op check, the packages
//! and their components, the `Release` fields, the keyring, the record),
//! and the component map of a publication of several snapshots.
//!
//! Several snapshots as components (aptly's `-component=main,internal`):
//! each snapshot becomes one component, whatever components its packages
//! had in it; one `Release` lists them all and one switch serves them
//! together. Which components a publication has is a setting that sticks,
//! like the `Release` flags: a re-publish names every component, and one
//! that changes the set needs `--set`.

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::{
    PublishError, PublishOptions, PublishOutcome, PublishReport, SettingChange, public_keyring,
    release,
};
use crate::db::{Db, NewPublication};
use crate::digest::Sha256;
use crate::model::{PackageRecord, Publication, ReleaseOptions, Snapshot};
use crate::ops::snapshot;
use crate::pgp::{Keyring, SigningKey};
use crate::progress::{Event, Progress};
use crate::tree::layout;
use crate::tree::{ReleaseMeta, RenderedTree};

/// What every publish works from, once the arguments are checked.
pub(super) struct Job<'a> {
    /// The snapshot; with `components`, the first component's.
    pub(super) snap: Snapshot,
    /// The snapshot serving each component, in the order given, when
    /// several are published together; empty for one snapshot with its
    /// own components.
    pub(super) components: Vec<(String, Snapshot)>,
    pub(super) prefix: String,
    pub(super) distribution: String,
    pub(super) current: Option<Publication>,
    /// The settings resolved from the stored ones and the flags.
    pub(super) settings: ReleaseOptions,
    pub(super) report: PublishReport,
    pub(super) started: Instant,
    pub(super) keys: &'a [SigningKey],
    pub(super) opts: &'a PublishOptions,
    /// Where warnings go.
    pub(super) progress: &'a dyn Progress,
}

/// What the parent does for every backend: each backend plans, writes and
/// switches in its own way, and leaves the report and the record to these.
impl Job<'_> {
    /// Something is wrong with the publication but it goes on.
    pub(super) fn warn(&self, message: String) {
        self.progress.event(Event::Warning {
            scope: layout::dists_path(&self.prefix, &self.distribution),
            message,
        });
    }

    /// Whether `cur` already publishes these snapshots as these components
    /// with these options and its `Valid-Until` (if any) has more than half
    /// its time left. The backend adds its own check that the tree in place
    /// is `cur`'s.
    pub(super) fn republishes(&self, cur: &Publication) -> bool {
        let same_components = cur.components.len() == self.components.len()
            && cur
                .components
                .iter()
                .zip(&self.components)
                .all(|(c, (name, snap))| c.component == *name && c.snapshot_id == snap.id);
        cur.snapshot_id == self.snap.id
            && same_components
            && cur.options == self.settings
            && release::fresh_enough(cur, &self.settings)
    }

    /// The architectures of the indices: the snapshots' together.
    pub(super) fn architectures(&self) -> Vec<String> {
        let mut out = self.snap.architectures.clone();
        for (_, snap) in &self.components {
            for a in &snap.architectures {
                if !out.contains(a) {
                    out.push(a.clone());
                }
            }
        }
        out
    }

    /// The packages to publish with the component each is listed in: the
    /// snapshot's own, or each snapshot's packages under the component it
    /// serves.
    pub(super) fn records(&self, db: &Db) -> Result<Vec<(String, PackageRecord)>, PublishError> {
        if self.components.is_empty() {
            load_records(db, &self.snap)
        } else {
            component_records(db, &self.components)
        }
    }

    /// Ends a publish that writes nothing (`Unchanged`, `DryRun`).
    pub(super) fn end(mut self, outcome: PublishOutcome) -> PublishReport {
        self.report.outcome = outcome;
        self.report.seconds = self.started.elapsed().as_secs_f64();
        self.report
    }

    /// The `Release` fields of a tree made at `now`.
    pub(super) fn release_meta(&self, now: DateTime<Utc>) -> ReleaseMeta {
        release::release_meta(&self.settings, &self.prefix, &self.distribution, now)
    }

    /// The public half of the signing keys, to verify the rendered tree with.
    pub(super) fn keyring(&self) -> Result<Keyring, PublishError> {
        public_keyring(self.keys)
    }

    /// Records the switched-in `tree`, rendered as `rendered` with `meta`,
    /// with the report as its stats; returns the report with the final
    /// figures.
    pub(super) fn record(
        self,
        db: &mut Db,
        tree: &str,
        rendered: &RenderedTree,
        meta: &ReleaseMeta,
    ) -> Result<PublishReport, PublishError> {
        let Job {
            snap,
            components,
            prefix,
            distribution,
            mut report,
            started,
            settings,
            ..
        } = self;
        let release_sha256 = Sha256::of(rendered.release.render().as_bytes());
        report.tree = Some(tree.to_owned());
        report.valid_until = meta.valid_until;
        report.seconds = started.elapsed().as_secs_f64();
        let new = NewPublication {
            prefix: &prefix,
            distribution: &distribution,
            snapshot: &snap,
            components: &components,
            options: &settings,
            changed: serde_json::to_value(&report.changed).unwrap_or_default(),
            tree,
            release_sha256,
            valid_until: meta.valid_until,
            stats: serde_json::to_value(&report).unwrap_or_default(),
        };
        db.record_publication(&new)?;
        Ok(report)
    }
}

/// Checks the `--component` names against the snapshots given: none for
/// one snapshot (its own components), else one valid, distinct name per
/// snapshot, in order.
pub fn check_components(snapshots: usize, names: &[String]) -> Result<(), PublishError> {
    let bad = |why: String| Err(PublishError::BadComponents(why));
    if names.is_empty() {
        return if snapshots > 1 {
            bad(format!(
                "{snapshots} snapshots are published as components: give `--component` with {snapshots} names, one per snapshot in order"
            ))
        } else {
            Ok(())
        };
    }
    if names.len() != snapshots {
        return bad(format!(
            "{} {} given for {snapshots} {}; give one per snapshot, in order",
            names.len(),
            if names.len() == 1 {
                "component"
            } else {
                "components"
            },
            if snapshots == 1 {
                "snapshot"
            } else {
                "snapshots"
            },
        ));
    }
    for (i, name) in names.iter().enumerate() {
        if !layout::valid_segment(name) {
            return bad(format!(
                "component `{name}` is not valid: use letters, digits, `.`, `_`, `+` and `-`, not starting with a dot"
            ));
        }
        if names[..i].contains(name) {
            return bad(format!("component `{name}` is given twice"));
        }
    }
    Ok(())
}

/// The change a publish makes to the publication's components (`None`:
/// none), refused unless `set` (a re-publish names every component; a
/// first publish sets them).
pub(super) fn resolve_components(
    place: &str,
    current: Option<&Publication>,
    given: &[String],
    set: bool,
) -> Result<Option<SettingChange>, PublishError> {
    let Some(cur) = current else {
        return Ok(None);
    };
    let stored: Vec<&String> = cur.components.iter().map(|c| &c.component).collect();
    if stored.iter().copied().eq(given.iter()) {
        return Ok(None);
    }
    let text = |names: Vec<&String>| {
        (!names.is_empty()).then(|| {
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    let (from, to) = (text(stored), text(given.iter().collect()));
    if !set {
        return Err(PublishError::ComponentsChanged {
            place: place.to_owned(),
            stored: from,
            given: to,
        });
    }
    Ok(Some(SettingChange {
        setting: "components",
        from,
        to,
    }))
}

/// The snapshots `names` (at least one), after checking the `components`
/// given for them: the first snapshot and, when several are published as
/// components, each component with its snapshot.
pub(super) fn load_snapshots(
    db: &Db,
    names: &[String],
    components: &[String],
) -> Result<(Snapshot, Vec<(String, Snapshot)>), PublishError> {
    check_components(names.len(), components)?;
    let mut snaps = Vec::with_capacity(names.len());
    for name in names {
        snaps.push(snapshot::load(db, name)?);
    }
    let first = snaps
        .first()
        .cloned()
        .ok_or_else(|| PublishError::BadComponents("no snapshot given".into()))?;
    Ok((first, components.iter().cloned().zip(snaps).collect()))
}

/// The packages a publication serves, with the components it lists them
/// in (what `gc` keeps for it in a bucket's pool).
pub(crate) fn publication_records(
    db: &Db,
    p: &Publication,
) -> Result<Option<Vec<(String, PackageRecord)>>, PublishError> {
    if p.components.is_empty() {
        return match db.snapshot(&p.snapshot)? {
            Some(snap) => load_records(db, &snap).map(Some),
            None => Ok(None),
        };
    }
    let mut pairs = Vec::with_capacity(p.components.len());
    for c in &p.components {
        let Some(snap) = db.snapshot(&c.snapshot)? else {
            return Ok(None);
        };
        pairs.push((c.component.clone(), snap));
    }
    component_records(db, &pairs).map(Some)
}

/// Each snapshot's packages, listed under the component it serves.
pub(super) fn component_records(
    db: &Db,
    components: &[(String, Snapshot)],
) -> Result<Vec<(String, PackageRecord)>, PublishError> {
    let mut out = Vec::new();
    for (component, snap) in components {
        out.extend(
            load_records(db, snap)?
                .into_iter()
                .map(|(_, r)| (component.clone(), r)),
        );
    }
    Ok(out)
}

/// The snapshot's packages with their components (one package-set read).
fn load_records(db: &Db, snap: &Snapshot) -> Result<Vec<(String, PackageRecord)>, PublishError> {
    let set = db.package_set(snap.package_set)?;
    let mut records = Vec::with_capacity(set.len());
    for (component, ids) in set.components() {
        for r in db.packages(ids)? {
            records.push((component.to_owned(), r));
        }
    }
    Ok(records)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::exit::ExitCode as _;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn components_match_the_snapshots() {
        assert!(check_components(1, &[]).is_ok());
        assert!(check_components(1, &names(&["main"])).is_ok());
        assert!(check_components(2, &names(&["main", "internal"])).is_ok());
        for (count, given) in [
            (2, &[][..]),
            (2, &["main"][..]),
            (1, &["main", "internal"][..]),
            (2, &["main", "main"][..]),
            (2, &["main", "a/b"][..]),
            (2, &["main", ".hidden"][..]),
            (2, &["main", ""][..]),
        ] {
            let err = check_components(count, &names(given)).unwrap_err();
            assert!(
                matches!(err, PublishError::BadComponents(_)),
                "{count} {given:?}: {err}"
            );
            assert_eq!(err.exit_code(), crate::exit::USAGE);
        }
    }
}
