//! `repo remove`, `repo copy` and `repo move`: packages chosen by a filter
//! expression (the language of `snapshot filter`), optionally with their
//! dependency closure within the source repo.
//!
//! A copy never changes a package's bytes: a destination that holds the
//! same name, version and architecture with other content refuses the copy,
//! as `repo add` does. A move is a copy and a removal committed in one
//! transaction.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Conflict, RepoError, RepoPackage, load, lock_repo};
use crate::db::{AuditEvent, Repo, RepoChange};
use crate::model::{PackageId, PackageKey};
use crate::ops::Context;
use crate::ops::snapshot::{Stored, candidates};
use crate::query::{ClosureOptions, Filter, select};

/// What `repo remove`, `copy` or `move` did (or would do).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EditReport {
    /// The repo packages were taken from.
    pub source: String,
    /// The repo they went to (copy and move).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Nothing was changed.
    pub dry_run: bool,
    /// Packages the destination gained (copy and move).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copied: Vec<RepoPackage>,
    /// Packages the destination already had (copy and move).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchanged: Vec<RepoPackage>,
    /// Packages taken out of the source (remove and move).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<RepoPackage>,
    /// The destination is in review mode: `copied` were staged, not made live.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
}

fn parse(expr: &str) -> Result<Filter, RepoError> {
    Filter::parse(expr).map_err(|source| RepoError::Filter {
        expr: expr.to_owned(),
        source,
    })
}

fn package(s: &Stored) -> RepoPackage {
    RepoPackage {
        key: s.entry.package.key.clone(),
        sha256: s.entry.package.sha256,
        size: s.entry.package.size,
    }
}

/// The packages of `repo` and the indices of those `filter` picks (with
/// their dependency closure within the repo when `with_deps`).
fn pick(
    ctx: &Context,
    repo: &Repo,
    filter: &Filter,
    with_deps: bool,
) -> Result<(Vec<Stored>, Vec<usize>), RepoError> {
    let set = ctx.db.package_set(repo.package_set)?;
    let all = candidates(&ctx.db, &set).map_err(|e| match e {
        crate::ops::snapshot::SnapshotError::Db(e) => RepoError::Db(e),
        e => RepoError::Db(crate::db::DbError::Corrupt {
            what: format!("repo `{}`", repo.name),
            detail: e.to_string(),
        }),
    })?;
    let picked = if with_deps {
        select(
            &all,
            filter,
            &ClosureOptions {
                with_deps: true,
                follow_recommends: false,
                follow_all_alternatives: false,
                architectures: repo.spec.architectures.clone(),
            },
        )
        .selected
    } else {
        (0..all.len())
            .filter(|&i| filter.matches(&all[i]))
            .collect()
    };
    Ok((all, picked))
}

/// Removes the packages of repo `name` that match `expr`.
pub fn remove(
    ctx: &mut Context,
    name: &str,
    expr: &str,
    dry_run: bool,
) -> Result<EditReport, RepoError> {
    let filter = parse(expr)?;
    let _lock = lock_repo(ctx, name)?;
    let repo = load(ctx, name)?;
    let (all, picked) = pick(ctx, &repo, &filter, false)?;
    let gone: Vec<&PackageKey> = picked.iter().map(|&i| &all[i].entry.package.key).collect();
    super::freeze::check(ctx, &repo, &[], &gone)?;
    let report = EditReport {
        source: repo.name.clone(),
        dry_run,
        removed: picked.iter().map(|&i| package(&all[i])).collect(),
        ..EditReport::default()
    };
    if dry_run || picked.is_empty() {
        return Ok(report);
    }
    let change = removal(&repo, &all, &picked);
    ctx.db.commit_repo_changes(&[change])?;
    Ok(report)
}

/// Stages the packages `copied` (of `all`, picked) into review-mode `to`.
fn stage_copies(
    ctx: &mut Context,
    to: &Repo,
    all: &[Stored],
    picked: &[usize],
    copied: &[RepoPackage],
    move_: bool,
) -> Result<(), RepoError> {
    let staged: Vec<crate::db::NewRepoStaged<'_>> = picked
        .iter()
        .map(|&i| &all[i].entry.package)
        .filter(|p| copied.iter().any(|c| c.key == p.key))
        .map(|p| crate::db::NewRepoStaged::AddStored {
            id: p.id,
            key: p.key.clone(),
            sha256: p.sha256,
            size: p.size,
        })
        .collect();
    let origin = if move_ { "repo-move" } else { "repo-copy" };
    super::review::stage(ctx, to, origin, &staged, Vec::new())
}

/// `repo`'s content without the packages `picked`, audited.
fn removal<'a>(repo: &'a Repo, all: &[Stored], picked: &[usize]) -> RepoChange<'a> {
    let gone: Vec<PackageId> = picked.iter().map(|&i| all[i].entry.package.id).collect();
    RepoChange {
        repo,
        kept: all
            .iter()
            .map(|s| s.entry.package.id)
            .filter(|id| !gone.contains(id))
            .collect(),
        added: Vec::new(),
        events: picked
            .iter()
            .map(|&i| {
                let p = &all[i].entry.package;
                AuditEvent::new(
                    "repo-remove",
                    format!("repo `{}` package `{}`", repo.name, p.key),
                )
                .detail(serde_json::json!({"sha256": p.sha256}))
            })
            .collect(),
    }
}

/// Copies (or, with `move_`, moves) the packages of repo `src` matching
/// `expr` to repo `dst`.
pub fn copy(
    ctx: &mut Context,
    src: &str,
    dst: &str,
    expr: &str,
    with_deps: bool,
    move_: bool,
    dry_run: bool,
) -> Result<EditReport, RepoError> {
    let filter = parse(expr)?;
    if src == dst {
        return Err(RepoError::SameRepo(src.to_owned()));
    }
    let _src_lock = lock_repo(ctx, src)?;
    let _dst_lock = lock_repo(ctx, dst)?;
    let from = load(ctx, src)?;
    let to = load(ctx, dst)?;
    let (all, picked) = pick(ctx, &from, &filter, with_deps)?;
    let dst_set = ctx.db.package_set(to.package_set)?;
    let mut existing: BTreeMap<_, (PackageId, _)> = BTreeMap::new();
    for (_, ids) in dst_set.components() {
        for p in ctx.db.package_summaries(ids)? {
            existing.insert(p.key, (p.id, p.sha256));
        }
    }
    let mut report = EditReport {
        source: from.name.clone(),
        destination: Some(to.name.clone()),
        dry_run,
        ..EditReport::default()
    };
    let mut kept: Vec<PackageId> = existing.values().map(|(id, _)| *id).collect();
    let mut events = Vec::new();
    for &i in &picked {
        let p = &all[i].entry.package;
        match existing.get(&p.key) {
            Some((_, sha)) if *sha == p.sha256 => report.unchanged.push(package(&all[i])),
            Some((_, sha)) => {
                return Err(RepoError::Conflict(Box::new(Conflict {
                    repo: to.name.clone(),
                    package: p.key.to_string(),
                    existing: *sha,
                    offered: p.sha256,
                    offered_by: format!("repo `{}`", from.name),
                })));
            }
            None => {
                kept.push(p.id);
                report.copied.push(package(&all[i]));
                events.push(
                    AuditEvent::new(
                        if move_ { "repo-move" } else { "repo-copy" },
                        format!("repo `{}` package `{}`", to.name, p.key),
                    )
                    .detail(serde_json::json!({"sha256": p.sha256, "from": from.name})),
                );
            }
        }
    }
    let gained: Vec<(&PackageKey, &'static str)> =
        report.copied.iter().map(|p| (&p.key, "add")).collect();
    super::freeze::check(ctx, &to, &gained, &[])?;
    if move_ {
        let gone: Vec<&PackageKey> = picked.iter().map(|&i| &all[i].entry.package.key).collect();
        super::freeze::check(ctx, &from, &[], &gone)?;
        report.removed = picked.iter().map(|&i| package(&all[i])).collect();
    }
    report.staged = to.spec.review && !report.copied.is_empty();
    if dry_run || picked.is_empty() {
        return Ok(report);
    }
    let mut changes = Vec::with_capacity(2);
    if report.staged {
        stage_copies(ctx, &to, &all, &picked, &report.copied, move_)?;
    } else if !report.copied.is_empty() {
        changes.push(RepoChange {
            repo: &to,
            kept,
            added: Vec::new(),
            events,
        });
    }
    if move_ {
        changes.push(removal(&from, &all, &picked));
    }
    if !changes.is_empty() {
        ctx.db.commit_repo_changes(&changes)?;
    }
    Ok(report)
}
