//! Review mode for local repositories (`repo create --review`): `repo
//! add`, `include`, `copy` and `move` into such a repo stage what they
//! would add instead of making it live; `staged list|report`, `promote`
//! and `reject` decide, as for a mirror's staged changes, with the same
//! selectors, listing and pairing (`ops::curation`). A staged package is
//! stored (its blob durable, its row kept by `gc`) but in no repo set, so
//! a snapshot of the repo takes only the live ones. Removals stay
//! immediate: review guards what comes in.

use std::collections::HashSet;

use super::{Conflict, RepoError, load, lock_repo};
use crate::db::{AuditEvent, NewRepoStaged, PackageSet, Repo, RepoChange, RevisionEntry};
use crate::db::{StageAction, StagedRow, repo_package_subject};
use crate::model::PackageKey;
use crate::ops::Context;
use crate::ops::curation::{self, CurationError, Decision, Selector, StagedItem};

/// Stages `changes` of review-mode `repo` with one audit event each
/// (`repo-stage`) and the command's own `events`. Refuses an addition
/// whose name, version and architecture is staged already with other bytes.
pub(crate) fn stage(
    ctx: &mut Context,
    repo: &Repo,
    origin: &'static str,
    changes: &[NewRepoStaged<'_>],
    mut events: Vec<AuditEvent>,
) -> Result<(), RepoError> {
    let pending = ctx.db.repo_staged(repo.id)?;
    for c in changes {
        let (key, sha256) = match c {
            NewRepoStaged::Add(p) => (
                PackageKey {
                    name: p.name.clone(),
                    version: p.version.clone(),
                    architecture: p.architecture.clone(),
                },
                p.sha256,
            ),
            NewRepoStaged::AddStored { key, sha256, .. } => (key.clone(), *sha256),
            NewRepoStaged::Remove { key, sha256, .. } => {
                events.push(stage_event(repo, origin, "remove", key, sha256));
                continue;
            }
        };
        if let Some(other) = pending
            .iter()
            .find(|r| r.action == StageAction::Add && r.key == key && r.sha256 != sha256)
        {
            return Err(RepoError::Conflict(Box::new(Conflict {
                repo: repo.name.clone(),
                package: format!("{key} (staged)"),
                existing: other.sha256,
                offered: sha256,
                offered_by: origin.to_owned(),
            })));
        }
        events.push(stage_event(repo, origin, "add", &key, &sha256));
    }
    ctx.db.stage_repo_changes(repo, origin, changes, &events)?;
    Ok(())
}

fn stage_event(
    repo: &Repo,
    origin: &str,
    change: &str,
    key: &PackageKey,
    sha256: &crate::digest::Sha256,
) -> AuditEvent {
    AuditEvent::new("repo-stage", repo_package_subject(&repo.name, key))
        .detail(serde_json::json!({"change": change, "by": origin, "sha256": sha256}))
}

/// The live packages of `repo` as revision entries (what
/// [`curation::describe`] compares staged changes with).
fn live(ctx: &Context, repo: &Repo) -> Result<Vec<RevisionEntry>, RepoError> {
    let set = ctx.db.package_set(repo.package_set)?;
    let mut out = Vec::with_capacity(set.len());
    for (component, ids) in set.components() {
        for p in ctx.db.package_summaries(ids)? {
            out.push(RevisionEntry {
                component: component.to_owned(),
                id: p.id,
                key: p.key,
                sha256: p.sha256,
                size: p.size,
            });
        }
    }
    Ok(out)
}

fn items(repo: &Repo, rows: &[StagedRow], live: &[RevisionEntry]) -> Vec<StagedItem> {
    let mut items = curation::describe(&repo.name, rows, live);
    for i in &mut items {
        i.repo = true;
    }
    items
}

/// The pending staged changes of repo `name`, or of every repo.
pub fn staged_items(ctx: &Context, name: Option<&str>) -> Result<Vec<StagedItem>, RepoError> {
    let repos = match name {
        Some(n) => vec![load(ctx, n)?],
        None => ctx.db.repos()?,
    };
    let mut out = Vec::new();
    for r in repos {
        let rows = ctx.db.repo_staged(r.id)?;
        if !rows.is_empty() {
            out.extend(items(&r, &rows, &live(ctx, &r)?));
        }
    }
    Ok(out)
}

fn picked(
    ctx: &Context,
    repo: &Repo,
    selectors: &[Selector],
    all: bool,
    reason: &str,
) -> Result<Vec<StagedRow>, RepoError> {
    if reason.trim().is_empty() {
        return Err(RepoError::NoReason);
    }
    let rows = ctx.db.repo_staged(repo.id)?;
    curation::pick(rows, selectors, all, &repo.name).map_err(|e| match e {
        CurationError::NotStaged { selector, .. } => RepoError::NoMatch {
            repo: repo.name.clone(),
            what: "staged change",
            selector,
        },
        CurationError::Db(e) => RepoError::Db(e),
        e => RepoError::Db(crate::db::DbError::Corrupt {
            what: format!("staged changes of repo `{}`", repo.name),
            detail: e.to_string(),
        }),
    })
}

fn decided(repo: &Repo, action: &'static str, rows: &[StagedRow], reason: &str) -> Vec<AuditEvent> {
    rows.iter()
        .map(|r| {
            AuditEvent::new(action, repo_package_subject(&repo.name, &r.key))
                .reason(reason)
                .detail(serde_json::json!({
                    "change": r.action,
                    "sha256": r.sha256,
                    "size": r.size,
                }))
        })
        .collect()
}

/// Promotes the staged changes of repo `name` that `selectors` (or `all`)
/// pick: one new repo revision, the rows out of staging, audited. Only
/// what is named is promoted (repos have no dependency following).
pub fn promote(
    ctx: &mut Context,
    name: &str,
    selectors: &[Selector],
    all: bool,
    reason: &str,
    dry_run: bool,
) -> Result<Decision, RepoError> {
    let _lock = lock_repo(ctx, name)?;
    let repo = load(ctx, name)?;
    let rows = picked(ctx, &repo, selectors, all, reason)?;
    let live = live(ctx, &repo)?;
    super::freeze::check(
        ctx,
        &repo,
        &rows
            .iter()
            .filter(|r| r.action == StageAction::Add)
            .map(|r| (&r.key, "add"))
            .collect::<Vec<_>>(),
        &rows
            .iter()
            .filter(|r| r.action == StageAction::Remove)
            .map(|r| &r.key)
            .collect::<Vec<_>>(),
    )?;
    let removing: HashSet<_> = rows
        .iter()
        .filter(|r| r.action == StageAction::Remove)
        .filter_map(|r| r.package_id)
        .collect();
    let mut set = PackageSet::default();
    let mut kept = Vec::new();
    for e in live.iter().filter(|e| !removing.contains(&e.id)) {
        set.insert(&e.component, e.id);
        kept.push(e.id);
    }
    for r in rows.iter().filter(|r| r.action == StageAction::Add) {
        if let Some(id) = r.package_id {
            set.insert(&r.component, id);
            kept.push(id);
        }
    }
    set.normalize();
    let changes = items(&repo, &rows, &live);
    if !dry_run {
        let change = RepoChange {
            repo: &repo,
            kept,
            added: Vec::new(),
            events: decided(&repo, "promote", &rows, reason),
        };
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        ctx.db.promote_repo(&change, &ids)?;
    }
    Ok(decision(
        &repo,
        "promote",
        changes,
        dry_run,
        set.len() as u64,
    ))
}

/// Rejects the staged changes of repo `name` that `selectors` (or `all`)
/// pick: kept as decisions without their packages, audited.
pub fn reject(
    ctx: &mut Context,
    name: &str,
    selectors: &[Selector],
    all: bool,
    reason: &str,
    dry_run: bool,
) -> Result<Decision, RepoError> {
    let _lock = lock_repo(ctx, name)?;
    let repo = load(ctx, name)?;
    let rows = picked(ctx, &repo, selectors, all, reason)?;
    let live = live(ctx, &repo)?;
    let changes = items(&repo, &rows, &live);
    if !dry_run {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        ctx.db
            .reject_repo(&ids, &decided(&repo, "reject", &rows, reason))?;
    }
    Ok(decision(
        &repo,
        "reject",
        changes,
        dry_run,
        live.len() as u64,
    ))
}

fn decision(
    repo: &Repo,
    action: &'static str,
    changes: Vec<StagedItem>,
    dry_run: bool,
    packages: u64,
) -> Decision {
    Decision {
        mirror: repo.name.clone(),
        action,
        changes,
        pulled_in: Vec::new(),
        unmet: Vec::new(),
        dry_run,
        packages,
    }
}
