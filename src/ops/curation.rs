//! Curation: operator freezes, staged changes (review mode) and their
//! promotion or rejection. Every decision lands in the audit trail in the
//! same transaction as the change it records.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Context;
pub use super::curation_deps::{DecideOptions, PulledIn};
use super::curation_deps::{Pending, expand_promotion, mark_pulled_in, rejection_breaks};
use super::installable::{InstallableError, UnmetDependency};
use crate::db::{
    AuditEvent, AuditRecord, DbError, PackageSet, RevisionEntry, StageAction, StagedRow,
};
use crate::debian::version::Version;
use crate::exit::{ExitCode, FAILURE, USAGE};
use crate::lock::{Lock, LockError};
use crate::model::{Freeze, FreezeKind, Mirror, PackageKey};
use crate::query::Glob;

/// Curation failures, naming the mirror and the package selector.
#[derive(Debug, thiserror::Error)]
pub enum CurationError {
    /// No such mirror.
    #[error("mirror `{0}` does not exist")]
    NoMirror(String),
    /// A selector does not parse.
    #[error(
        "invalid package `{0}`: expected NAME, NAME:ARCH, NAME=VERSION or NAME:ARCH=VERSION (NAME may be a glob)"
    )]
    BadSelector(String),
    /// Nothing live matches a freeze selector.
    #[error("mirror `{mirror}` has no live package matching `{selector}`")]
    NotLive {
        /// Mirror.
        mirror: String,
        /// Selector.
        selector: String,
    },
    /// Nothing frozen matches an unfreeze selector.
    #[error("mirror `{mirror}` has no frozen package matching `{selector}`")]
    NotFrozen {
        /// Mirror.
        mirror: String,
        /// Selector.
        selector: String,
    },
    /// A content freeze can only be lifted by accepting the new content.
    #[error(
        "mirror `{mirror}`: `{key}` is frozen because upstream changed its content (kept {kept}, upstream {upstream}); lifting it means taking the new content: pass --accept-new, or leave it frozen"
    )]
    NeedsAccept {
        /// Mirror.
        mirror: String,
        /// Package.
        key: String,
        /// Kept digest.
        kept: String,
        /// Upstream digest.
        upstream: String,
    },
    /// Nothing staged matches.
    #[error("mirror `{mirror}` has no staged change matching `{selector}`")]
    NotStaged {
        /// Mirror.
        mirror: String,
        /// Selector (or `--all`).
        selector: String,
    },
    /// A reason is required and was empty.
    #[error("a non-empty --reason is required: the audit trail records why")]
    NoReason,
    /// A rejection would leave packages uninstallable.
    #[error(
        "mirror `{mirror}`: rejecting this leaves {count} {} unmet: {}",
        if *.count == 1 { "dependency" } else { "dependencies" },
        .first.join("; ")
    )]
    WouldBreak {
        /// Mirror.
        mirror: String,
        /// How many dependencies.
        count: usize,
        /// The first few, as `PKG VERSION ARCH: FIELD: EXPR`.
        first: Vec<String>,
        /// The packages left uninstallable (reject them too).
        dependents: Vec<String>,
    },
    /// The dependency check could not load the packages.
    #[error(transparent)]
    Deps(#[from] InstallableError),
    /// The mirror is being synced.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ExitCode for CurationError {
    fn exit_code(&self) -> u8 {
        match self {
            CurationError::BadSelector(_)
            | CurationError::NeedsAccept { .. }
            | CurationError::NoReason
            | CurationError::WouldBreak { .. } => USAGE,
            CurationError::Db(e) => e.exit_code(),
            CurationError::Deps(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

/// `NAME[:ARCH][=VERSION]`, NAME a glob: which packages a command acts on.
#[derive(Clone, Debug)]
pub struct Selector {
    text: String,
    name: Glob,
    arch: Option<String>,
    version: Option<String>,
}

impl Selector {
    /// Parses a selector.
    pub fn parse(s: &str) -> Result<Selector, CurationError> {
        let bad = || CurationError::BadSelector(s.to_owned());
        let (rest, version) = match s.split_once('=') {
            Some((r, v)) if !v.is_empty() => (r, Some(v.to_owned())),
            Some(_) => return Err(bad()),
            None => (s, None),
        };
        let (name, arch) = match rest.split_once(':') {
            Some((n, a)) if !a.is_empty() => (n, Some(a.to_owned())),
            Some(_) => return Err(bad()),
            None => (rest, None),
        };
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        Ok(Selector {
            text: s.to_owned(),
            name: Glob::new(name).map_err(|_| bad())?,
            arch,
            version,
        })
    }

    /// Whether the selector names `key`.
    pub fn matches(&self, key: &PackageKey) -> bool {
        self.name.matches(&key.name)
            && self.arch.as_ref().is_none_or(|a| *a == key.architecture)
            && self.version.as_ref().is_none_or(|v| *v == key.version)
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn load_mirror(ctx: &Context, name: &str) -> Result<Mirror, CurationError> {
    ctx.db
        .mirror(name)?
        .ok_or_else(|| CurationError::NoMirror(name.to_owned()))
}

fn lock_mirror(ctx: &Context, name: &str) -> Result<Lock, CurationError> {
    Ok(ctx.lock_mirror(name)?)
}

fn live(ctx: &Context, m: &Mirror) -> Result<Vec<RevisionEntry>, CurationError> {
    Ok(match m.state.revision {
        Some(rev) => ctx.db.revision_entries(rev)?,
        None => Vec::new(),
    })
}

fn check_reason(reason: &str) -> Result<(), CurationError> {
    if reason.trim().is_empty() {
        Err(CurationError::NoReason)
    } else {
        Ok(())
    }
}

/// Freezes the live packages matching `selectors`: syncs then take no new
/// version of them and remove none. Returns the new freezes (packages
/// already held are skipped).
pub fn freeze(
    ctx: &mut Context,
    mirror: &str,
    selectors: &[Selector],
    reason: &str,
) -> Result<Vec<Freeze>, CurationError> {
    check_reason(reason)?;
    let m = load_mirror(ctx, mirror)?;
    let _lock = lock_mirror(ctx, mirror)?;
    let entries = live(ctx, &m)?;
    let held: HashSet<(String, String)> = ctx
        .db
        .active_freezes(m.id)?
        .into_iter()
        .filter(|f| f.kind == FreezeKind::Manual)
        .map(|f| (f.key.name, f.key.architecture))
        .collect();
    let now = Utc::now();
    let mut out: BTreeMap<PackageKey, Freeze> = BTreeMap::new();
    for sel in selectors {
        let matching: Vec<&RevisionEntry> =
            entries.iter().filter(|e| sel.matches(&e.key)).collect();
        if matching.is_empty() {
            return Err(CurationError::NotLive {
                mirror: mirror.to_owned(),
                selector: sel.to_string(),
            });
        }
        for e in matching {
            if held.contains(&(e.key.name.clone(), e.key.architecture.clone())) {
                continue;
            }
            out.insert(
                e.key.clone(),
                Freeze {
                    key: e.key.clone(),
                    kind: FreezeKind::Manual,
                    kept_sha256: e.sha256,
                    upstream_sha256: e.sha256,
                    reason: reason.to_owned(),
                    created_at: now,
                },
            );
        }
    }
    let freezes: Vec<Freeze> = out.into_values().collect();
    ctx.db.add_freezes(m.id, mirror, &freezes)?;
    Ok(freezes)
}

/// Lifts the freezes matching `selectors`. A content freeze is lifted only
/// with `accept_new`, which lets the next sync take exactly the upstream
/// content recorded at freeze time. Returns the lifted freezes.
pub fn unfreeze(
    ctx: &mut Context,
    mirror: &str,
    selectors: &[Selector],
    reason: &str,
    accept_new: bool,
) -> Result<Vec<Freeze>, CurationError> {
    check_reason(reason)?;
    let m = load_mirror(ctx, mirror)?;
    let _lock = lock_mirror(ctx, mirror)?;
    let active = ctx.db.active_freezes(m.id)?;
    let mut lifts: BTreeMap<PackageKey, (Freeze, bool)> = BTreeMap::new();
    for sel in selectors {
        let matching: Vec<&Freeze> = active.iter().filter(|f| sel.matches(&f.key)).collect();
        if matching.is_empty() {
            return Err(CurationError::NotFrozen {
                mirror: mirror.to_owned(),
                selector: sel.to_string(),
            });
        }
        for f in matching {
            if f.kind == FreezeKind::Content && !accept_new {
                return Err(CurationError::NeedsAccept {
                    mirror: mirror.to_owned(),
                    key: f.key.to_string(),
                    kept: f.kept_sha256.to_string(),
                    upstream: f.upstream_sha256.to_string(),
                });
            }
            lifts.insert(
                f.key.clone(),
                (f.clone(), f.kind == FreezeKind::Content && accept_new),
            );
        }
    }
    let lifts: Vec<(Freeze, bool)> = lifts.into_values().collect();
    ctx.db.lift_freezes(m.id, mirror, &lifts, reason)?;
    Ok(lifts.into_iter().map(|(f, _)| f).collect())
}

/// A staged change as `staged list` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct StagedItem {
    /// Mirror (or local repository, when `repo`).
    pub mirror: String,
    /// `mirror` names a local repository (`repo create --review`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repo: bool,
    /// `add` (a new version or package) or `remove` (upstream dropped it).
    pub action: StageAction,
    /// Component.
    pub component: String,
    /// Package name.
    pub name: String,
    /// Architecture.
    pub architecture: String,
    /// The live version it replaces or removes, if any.
    pub old_version: Option<String>,
    /// The staged version (`None` for a removal).
    pub new_version: Option<String>,
    /// Bytes the change adds (negative: frees) in the published pool.
    pub size_change: i64,
    /// Upstream Release `Date` of the sync that staged it.
    pub upstream_date: Option<DateTime<Utc>>,
    /// When it was staged.
    pub staged_at: DateTime<Utc>,
    /// SHA256 of the staged (or removed) package.
    pub sha256: String,
    /// An addition the mirror's filter does not match: the matched
    /// packages whose dependencies pulled it in (empty otherwise).
    pub pulled_in_by: Vec<String>,
}

/// The pending staged changes of one mirror or of all, one item per
/// (name, architecture, version): an upgrade is one `add` whose
/// `old_version` is the version its paired `remove` takes away.
pub fn staged_items(ctx: &Context, mirror: Option<&str>) -> Result<Vec<StagedItem>, CurationError> {
    let mirrors: Vec<Mirror> = match mirror {
        Some(name) => vec![load_mirror(ctx, name)?],
        None => ctx.db.mirrors()?,
    };
    let mut out = Vec::new();
    for m in mirrors {
        let rows = ctx.db.staged(Some(m.id), false)?;
        if rows.is_empty() {
            continue;
        }
        let entries = live(ctx, &m)?;
        let mut items = describe(&m.name, &rows, &entries);
        mark_pulled_in(&ctx.db, &m, &rows, &entries, &mut items)?;
        out.extend(items);
    }
    Ok(out)
}

fn newest<'a>(entries: impl Iterator<Item = &'a RevisionEntry>) -> Option<&'a RevisionEntry> {
    entries.max_by(|a, b| {
        match (
            Version::parse(&a.key.version),
            Version::parse(&b.key.version),
        ) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.key.version.cmp(&b.key.version),
        }
    })
}

pub(crate) fn describe(
    mirror: &str,
    rows: &[StagedRow],
    live: &[RevisionEntry],
) -> Vec<StagedItem> {
    let mut by_name: HashMap<(&str, &str), Vec<&RevisionEntry>> = HashMap::new();
    for e in live {
        by_name
            .entry((e.key.name.as_str(), e.key.architecture.as_str()))
            .or_default()
            .push(e);
    }
    let adds: HashSet<(&str, &str)> = rows
        .iter()
        .filter(|r| r.action == StageAction::Add)
        .map(|r| (r.key.name.as_str(), r.key.architecture.as_str()))
        .collect();
    let removed: HashSet<(&str, &str, &str)> = rows
        .iter()
        .filter(|r| r.action == StageAction::Remove)
        .map(|r| {
            (
                r.key.name.as_str(),
                r.key.version.as_str(),
                r.key.architecture.as_str(),
            )
        })
        .collect();
    let mut out = Vec::new();
    for r in rows {
        let na = (r.key.name.as_str(), r.key.architecture.as_str());
        let item = |old: Option<&RevisionEntry>, new: Option<String>, change: i64| StagedItem {
            mirror: mirror.to_owned(),
            repo: false,
            action: r.action,
            component: r.component.clone(),
            name: r.key.name.clone(),
            architecture: r.key.architecture.clone(),
            old_version: old.map(|e| e.key.version.clone()),
            new_version: new,
            size_change: change,
            upstream_date: r.release_date,
            staged_at: r.staged_at,
            sha256: r.sha256.to_string(),
            pulled_in_by: Vec::new(),
        };
        match r.action {
            StageAction::Add => {
                // The version it replaces: the newest live one upstream dropped, else the newest live one.
                let candidates = by_name.get(&na).map(Vec::as_slice).unwrap_or_default();
                let old = newest(candidates.iter().copied().filter(|e| {
                    removed.contains(&(
                        e.key.name.as_str(),
                        e.key.version.as_str(),
                        e.key.architecture.as_str(),
                    ))
                }))
                .or_else(|| newest(candidates.iter().copied()));
                let change = r.size as i64 - old.map_or(0, |e| e.size as i64);
                out.push(item(old, Some(r.key.version.clone()), change));
            }
            StageAction::Remove => {
                if adds.contains(&na) {
                    continue; // shown as the old side of the upgrade
                }
                let old = live.iter().find(|e| e.key == r.key);
                out.push(item(old, None, -(r.size as i64)));
            }
        }
    }
    out
}

/// The rows `selectors` (or all) pick, plus the rows paired with them: the
/// other side of each picked (name, architecture).
pub(crate) fn pick(
    rows: Vec<StagedRow>,
    selectors: &[Selector],
    all: bool,
    mirror: &str,
) -> Result<Vec<StagedRow>, CurationError> {
    if all {
        if rows.is_empty() {
            return Err(CurationError::NotStaged {
                mirror: mirror.to_owned(),
                selector: "--all".into(),
            });
        }
        return Ok(rows);
    }
    let mut names: HashSet<(&str, &str)> = HashSet::new();
    for sel in selectors {
        let mut any = false;
        for r in rows.iter().filter(|r| sel.matches(&r.key)) {
            any = true;
            names.insert((r.key.name.as_str(), r.key.architecture.as_str()));
        }
        if !any {
            return Err(CurationError::NotStaged {
                mirror: mirror.to_owned(),
                selector: sel.to_string(),
            });
        }
    }
    // A version selector picks that addition and the removals of its (name, arch).
    let keep: Vec<bool> = rows
        .iter()
        .map(|r| {
            names.contains(&(r.key.name.as_str(), r.key.architecture.as_str()))
                && (r.action == StageAction::Remove || selectors.iter().any(|s| s.matches(&r.key)))
        })
        .collect();
    Ok(rows
        .into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect())
}

/// What a promotion or rejection did.
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    /// Mirror (or local repository).
    pub mirror: String,
    /// `promote` or `reject`.
    pub action: &'static str,
    /// The changes decided.
    pub changes: Vec<StagedItem>,
    /// Staged additions promoted because a promoted package needs them.
    pub pulled_in: Vec<PulledIn>,
    /// Dependencies unmet after the decision that were met before
    /// (`--no-deps`, or what no staged change satisfies).
    pub unmet: Vec<UnmetDependency>,
    /// Nothing was changed: this is what the decision would do.
    pub dry_run: bool,
    /// Live packages after it.
    pub packages: u64,
}

/// What `promote` and `reject` share: the mirror (locked), the picked
/// rows, the live packages, and the picked changes as `staged list` shows them.
struct Picked {
    mirror: Mirror,
    _lock: Lock,
    rows: Vec<StagedRow>,
    pending: Vec<StagedRow>,
    live: Vec<RevisionEntry>,
    changes: Vec<StagedItem>,
}

impl Picked {
    fn load(
        ctx: &Context,
        mirror: &str,
        selectors: &[Selector],
        all: bool,
        reason: &str,
    ) -> Result<Picked, CurationError> {
        check_reason(reason)?;
        let m = load_mirror(ctx, mirror)?;
        let lock = lock_mirror(ctx, mirror)?;
        let pending = ctx.db.staged(Some(m.id), false)?;
        let rows = pick(pending.clone(), selectors, all, mirror)?;
        let live = live(ctx, &m)?;
        let changes = describe(mirror, &rows, &live);
        Ok(Picked {
            mirror: m,
            _lock: lock,
            rows,
            pending,
            live,
            changes,
        })
    }

    fn dependencies(&self, ctx: &Context) -> Result<Pending, CurationError> {
        let archs = &self.mirror.spec.architectures;
        Ok(Pending::load(&ctx.db, &self.live, &self.pending, archs)?)
    }

    /// Adds the staged additions the promoted packages need (unless
    /// `follow` is false); returns them and what stays unmet.
    fn expand(
        &mut self,
        ctx: &Context,
        follow: bool,
    ) -> Result<(Vec<PulledIn>, Vec<UnmetDependency>), CurationError> {
        let deps = self.dependencies(ctx)?;
        let mut ids: HashSet<i64> = self.rows.iter().map(|r| r.id).collect();
        let exp = expand_promotion(&deps, &self.pending, &mut ids, follow);
        self.rows = self
            .pending
            .iter()
            .filter(|r| ids.contains(&r.id))
            .cloned()
            .collect();
        self.changes = describe(&self.mirror.name, &self.rows, &self.live);
        Ok((exp.pulled, exp.unmet))
    }

    /// One audit event per row, and the row ids.
    fn decided(&self, action: &'static str, reason: &str) -> (Vec<AuditEvent>, Vec<i64>) {
        self.rows
            .iter()
            .map(|r| (event(action, &self.mirror.name, r, reason), r.id))
            .unzip()
    }
}

/// Promotes staged changes: additions become live, removals take their
/// package out of the live set; with `follow_deps`, the staged additions
/// the promoted packages need come along. One new mirror revision, one
/// transaction.
pub fn promote(
    ctx: &mut Context,
    mirror: &str,
    selectors: &[Selector],
    all: bool,
    reason: &str,
    opts: DecideOptions,
) -> Result<Decision, CurationError> {
    let mut p = Picked::load(ctx, mirror, selectors, all, reason)?;
    let (pulled_in, unmet) = p.expand(ctx, opts.follow_deps)?;
    let removing: HashSet<(&str, crate::model::PackageId)> = p
        .rows
        .iter()
        .filter(|r| r.action == StageAction::Remove)
        .filter_map(|r| r.package_id.map(|id| (r.component.as_str(), id)))
        .collect();
    let mut set = PackageSet::default();
    for e in &p.live {
        if !removing.contains(&(e.component.as_str(), e.id)) {
            set.insert(&e.component, e.id);
        }
    }
    for r in p.rows.iter().filter(|r| r.action == StageAction::Add) {
        if let Some(id) = r.package_id {
            set.insert(&r.component, id);
        }
    }
    set.normalize();
    let mut stats = match p.mirror.state.revision {
        Some(rev) => ctx
            .db
            .revision(rev)?
            .map(|r| r.stats)
            .unwrap_or_else(|| serde_json::json!({})),
        None => serde_json::json!({}),
    };
    stats["promoted"] = serde_json::json!(p.rows.len());
    let (events, ids) = p.decided("promote", reason);
    if !opts.dry_run {
        ctx.db.promote(p.mirror.id, &set, &stats, &ids, &events)?;
    }
    Ok(Decision {
        mirror: mirror.to_owned(),
        action: "promote",
        changes: p.changes,
        pulled_in,
        unmet,
        dry_run: opts.dry_run,
        packages: set.len() as u64,
    })
}

/// Rejects staged changes: they stay out of the live set, and later syncs
/// do not stage the same change again. With `follow_deps`, refuses when
/// promoting the rest would leave a dependency unmet that the rejected
/// changes meet, naming the dependents to reject too.
pub fn reject(
    ctx: &mut Context,
    mirror: &str,
    selectors: &[Selector],
    all: bool,
    reason: &str,
    opts: DecideOptions,
) -> Result<Decision, CurationError> {
    let p = Picked::load(ctx, mirror, selectors, all, reason)?;
    let rejecting: HashSet<i64> = p.rows.iter().map(|r| r.id).collect();
    let unmet = rejection_breaks(&p.dependencies(ctx)?, &p.pending, &rejecting);
    if opts.follow_deps && !opts.dry_run && !unmet.is_empty() {
        let mut dependents: Vec<String> = unmet.iter().map(|u| u.package.clone()).collect();
        dependents.dedup();
        return Err(CurationError::WouldBreak {
            mirror: mirror.to_owned(),
            count: unmet.len(),
            first: unmet.iter().take(5).map(ToString::to_string).collect(),
            dependents,
        });
    }
    let (events, ids) = p.decided("reject", reason);
    if !opts.dry_run {
        ctx.db.reject(&ids, &events)?;
    }
    Ok(Decision {
        mirror: mirror.to_owned(),
        action: "reject",
        changes: p.changes,
        pulled_in: Vec::new(),
        unmet,
        dry_run: opts.dry_run,
        packages: p.live.len() as u64,
    })
}

fn event(action: &'static str, mirror: &str, r: &StagedRow, reason: &str) -> AuditEvent {
    AuditEvent::new(action, crate::db::package_subject(mirror, &r.key))
        .reason(reason)
        .detail(serde_json::json!({
            "change": r.action,
            "component": r.component,
            "sha256": r.sha256,
            "size": r.size,
        }))
}

/// The audit trail, oldest first; only records since `since` when given.
pub fn audit_records(
    ctx: &Context,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<AuditRecord>, CurationError> {
    Ok(ctx.db.audit_records(since)?)
}

/// The review decisions (promote, reject, freeze, unfreeze) since `since`,
/// of one mirror or of all, for the review report.
pub fn decisions(
    ctx: &Context,
    mirror: Option<&str>,
    since: DateTime<Utc>,
) -> Result<Vec<AuditRecord>, CurationError> {
    let prefix = mirror.map(|m| format!("mirror `{m}` "));
    Ok(ctx
        .db
        .audit_records(Some(since))?
        .into_iter()
        .filter(|r| {
            matches!(
                r.action.as_str(),
                "promote" | "reject" | "freeze" | "unfreeze"
            )
        })
        .filter(|r| prefix.as_ref().is_none_or(|p| r.subject.starts_with(p)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: &str, v: &str, a: &str) -> PackageKey {
        PackageKey {
            name: n.into(),
            version: v.into(),
            architecture: a.into(),
        }
    }

    #[test]
    fn selectors() {
        let s = Selector::parse("lib*:amd64=1.0").expect("parses");
        assert!(s.matches(&key("libfoo", "1.0", "amd64")));
        assert!(!s.matches(&key("libfoo", "1.1", "amd64")));
        assert!(!s.matches(&key("libfoo", "1.0", "arm64")));
        assert!(!s.matches(&key("foo", "1.0", "amd64")));
        let s = Selector::parse("curl").expect("parses");
        assert!(s.matches(&key("curl", "8", "arm64")));
        for bad in ["", "=1", "a:", "a=", "a b", "lib[x"] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
    }
}
