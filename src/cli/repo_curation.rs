//! Curation verbs on local repositories: `freeze`, `unfreeze`, `staged`,
//! `promote` and `reject` given a repo's name (`src/cli/curation.rs`
//! dispatches here).

use chrono::{DateTime, Utc};

use super::Globals;
use super::failure::Result;
use super::output::UsageError;
use crate::db::AuditRecord;
use crate::ops::Context;
use crate::ops::curation::{self, Selector, StagedItem};
use crate::ops::repo::{freeze as ops, review};

pub(crate) fn freeze(
    ctx: &mut Context,
    g: &Globals,
    repo: &str,
    selectors: &[Selector],
    reason: &str,
) -> Result<u8> {
    let frozen = ops::freeze(ctx, repo, selectors, reason)?;
    let v = serde_json::json!({"repo": repo, "frozen": frozen});
    g.out.done(&v, |out| {
        if frozen.is_empty() {
            writeln!(out, "repo `{repo}`: already frozen")?;
        }
        for f in &frozen {
            writeln!(
                out,
                "froze {} in repo `{repo}`: no other version, no replacement, no removal",
                f.key
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}

pub(crate) fn unfreeze(
    ctx: &mut Context,
    g: &Globals,
    repo: &str,
    selectors: &[Selector],
    reason: &str,
    accept_new: bool,
) -> Result<u8> {
    if accept_new {
        return Err(UsageError(format!(
            "`--accept-new` is for mirrors: repo `{repo}` has no upstream content to accept"
        ))
        .into());
    }
    let lifted = ops::unfreeze(ctx, repo, selectors, reason)?;
    let v = serde_json::json!({"repo": repo, "unfrozen": lifted});
    g.out.done(&v, |out| {
        for f in &lifted {
            writeln!(out, "unfroze {} in repo `{repo}`", f.key)?;
        }
        Ok(())
    })?;
    Ok(0)
}

/// `promote` (or, without `promote`, `reject`) of a repo's staged changes.
pub(crate) fn decide(
    ctx: &mut Context,
    a: &super::curation::DecideArgs,
    promote: bool,
) -> Result<crate::ops::curation::Decision> {
    let sel = super::curation::selectors(&a.packages)?;
    let decide = if promote {
        review::promote
    } else {
        review::reject
    };
    Ok(decide(ctx, &a.name, &sel, a.all, &a.reason, a.dry_run)?)
}

/// The staged changes of mirror or repo `name` (both, when both have that
/// name), or of every mirror and repo.
pub(crate) fn staged_items(ctx: &Context, name: Option<&str>) -> Result<Vec<StagedItem>> {
    let Some(name) = name else {
        let mut items = curation::staged_items(ctx, None)?;
        items.extend(review::staged_items(ctx, None)?);
        return Ok(items);
    };
    let repo = ctx.db.repo(name)?.is_some();
    let mut items = Vec::new();
    if ctx.db.mirror(name)?.is_some() || !repo {
        items = curation::staged_items(ctx, Some(name))?;
    }
    if repo {
        items.extend(review::staged_items(ctx, Some(name))?);
    }
    Ok(items)
}

/// The review decisions since `since` about mirror or repo `name`, or all.
pub(crate) fn decisions(
    ctx: &Context,
    name: Option<&str>,
    since: DateTime<Utc>,
) -> Result<Vec<AuditRecord>> {
    let Some(name) = name else {
        return Ok(curation::decisions(ctx, None, since)?);
    };
    let mirror = format!("mirror `{name}` ");
    let repo = format!("repo `{name}` ");
    Ok(curation::decisions(ctx, None, since)?
        .into_iter()
        .filter(|r| r.subject.starts_with(&mirror) || r.subject.starts_with(&repo))
        .collect())
}
