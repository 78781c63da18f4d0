//! Curation verbs on local repositories: `freeze`, `unfreeze`, `staged`,
//! `promote` and `reject` given a repo's name (`src/cli/curation.rs`
//! dispatches here).

use super::Globals;
use super::failure::Result;
use super::output::UsageError;
use crate::ops::Context;
use crate::ops::curation::Selector;
use crate::ops::repo::freeze as ops;

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
