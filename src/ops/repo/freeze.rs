//! Freezes of a repo's packages (`freeze REPO PKG`): while one is active,
//! no verb changes that name and architecture in the repo — no other
//! version added (`add`, `include`, `copy`, `move` in), no bytes replaced
//! (`--force-replace`), no removal (`remove`, `move` out). A dry run is
//! refused the same way, so it shows what the real run would do.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;

use super::{RepoError, RepoPackage, load, lock_repo, packages};
use crate::db::Repo;
use crate::model::{Freeze, FreezeKind, PackageKey};
use crate::ops::Context;
use crate::ops::curation::Selector;

/// A change a freeze holds back.
#[derive(Debug)]
pub struct FrozenChange {
    /// The repo.
    pub repo: String,
    /// The package the command would change (`name_version_arch`).
    pub package: String,
    /// What it would do: `add`, `replace`, `remove`.
    pub action: &'static str,
    /// The frozen version.
    pub frozen: String,
    /// Why it was frozen.
    pub reason: String,
}

/// Refuses when a change to `repo` touches a frozen name and architecture:
/// `added` are packages it would gain (or whose bytes it would replace),
/// `removed` those it would take out. Packages it already has with the
/// same bytes are not changes and are not passed.
pub(crate) fn check(
    ctx: &Context,
    repo: &Repo,
    added: &[(&PackageKey, &'static str)],
    removed: &[&PackageKey],
) -> Result<(), RepoError> {
    let freezes = ctx.db.repo_freezes(repo.id)?;
    if freezes.is_empty() {
        return Ok(());
    }
    let held: HashMap<(&str, &str), &Freeze> = freezes
        .iter()
        .map(|f| ((f.key.name.as_str(), f.key.architecture.as_str()), f))
        .collect();
    let changes = added
        .iter()
        .copied()
        .chain(removed.iter().map(|k| (*k, "remove")));
    for (key, action) in changes {
        if let Some(f) = held.get(&(key.name.as_str(), key.architecture.as_str())) {
            return Err(RepoError::Frozen(Box::new(FrozenChange {
                repo: repo.name.clone(),
                package: key.to_string(),
                action,
                frozen: f.key.to_string(),
                reason: f.reason.clone(),
            })));
        }
    }
    Ok(())
}

fn check_reason(reason: &str) -> Result<(), RepoError> {
    if reason.trim().is_empty() {
        Err(RepoError::NoReason)
    } else {
        Ok(())
    }
}

/// Freezes the packages of repo `name` matching `selectors`, audited.
/// Returns the new freezes (packages already frozen are skipped).
pub fn freeze(
    ctx: &mut Context,
    name: &str,
    selectors: &[Selector],
    reason: &str,
) -> Result<Vec<Freeze>, RepoError> {
    check_reason(reason)?;
    let _lock = lock_repo(ctx, name)?;
    let repo = load(ctx, name)?;
    let live: Vec<RepoPackage> = packages(ctx, &repo)?;
    let held: Vec<(String, String)> = ctx
        .db
        .repo_freezes(repo.id)?
        .into_iter()
        .map(|f| (f.key.name, f.key.architecture))
        .collect();
    let now = Utc::now();
    let mut out: BTreeMap<PackageKey, Freeze> = BTreeMap::new();
    for sel in selectors {
        let matching: Vec<&RepoPackage> = live.iter().filter(|p| sel.matches(&p.key)).collect();
        if matching.is_empty() {
            return Err(RepoError::NoMatch {
                repo: repo.name.clone(),
                what: "package",
                selector: sel.to_string(),
            });
        }
        for p in matching {
            if held.contains(&(p.key.name.clone(), p.key.architecture.clone())) {
                continue;
            }
            out.insert(
                p.key.clone(),
                Freeze {
                    key: p.key.clone(),
                    kind: FreezeKind::Manual,
                    kept_sha256: p.sha256,
                    upstream_sha256: p.sha256,
                    reason: reason.to_owned(),
                    created_at: now,
                },
            );
        }
    }
    let freezes: Vec<Freeze> = out.into_values().collect();
    if !freezes.is_empty() {
        ctx.db.add_repo_freezes(&repo, &freezes)?;
    }
    Ok(freezes)
}

/// Lifts the freezes of repo `name` matching `selectors`, audited.
pub fn unfreeze(
    ctx: &mut Context,
    name: &str,
    selectors: &[Selector],
    reason: &str,
) -> Result<Vec<Freeze>, RepoError> {
    check_reason(reason)?;
    let _lock = lock_repo(ctx, name)?;
    let repo = load(ctx, name)?;
    let active = ctx.db.repo_freezes(repo.id)?;
    let mut lifts: BTreeMap<PackageKey, Freeze> = BTreeMap::new();
    for sel in selectors {
        let matching: Vec<&Freeze> = active.iter().filter(|f| sel.matches(&f.key)).collect();
        if matching.is_empty() {
            return Err(RepoError::NoMatch {
                repo: repo.name.clone(),
                what: "frozen package",
                selector: sel.to_string(),
            });
        }
        for f in matching {
            lifts.insert(f.key.clone(), f.clone());
        }
    }
    let lifts: Vec<Freeze> = lifts.into_values().collect();
    ctx.db.lift_repo_freezes(&repo, &lifts, reason)?;
    Ok(lifts)
}

/// The active freezes of every repo, by repo name (for `status`).
pub fn all(ctx: &Context) -> Result<Vec<(String, Vec<Freeze>)>, RepoError> {
    let mut out = Vec::new();
    for r in ctx.db.repos()? {
        let f = ctx.db.repo_freezes(r.id)?;
        if !f.is_empty() {
            out.push((r.name, f));
        }
    }
    Ok(out)
}

/// What a curation verb's NAME names: a mirror or a repo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A mirror.
    Mirror,
    /// A local repository.
    Repo,
}

/// Whether `name` is a mirror or a repo. Mirrors and repos have separate
/// names, so one name may be both: then `forced` (`--mirror`/`--repo`)
/// must say which. A name that is neither is taken as a mirror's, so the
/// mirror verbs' own error names it.
pub fn target(ctx: &Context, name: &str, forced: Option<Target>) -> Result<Target, RepoError> {
    if let Some(t) = forced {
        return Ok(t);
    }
    let mirror = ctx.db.mirror(name)?.is_some();
    let repo = ctx.db.repo(name)?.is_some();
    match (mirror, repo) {
        (true, true) => Err(RepoError::AmbiguousName(name.to_owned())),
        (false, true) => Ok(Target::Repo),
        _ => Ok(Target::Mirror),
    }
}
