//! A repo's settings after creation (`repo edit`, `PUT /api/repos/{name}`):
//! comment, component, default distribution and review mode, audited.

use super::{RepoError, check_segment, load, lock_repo};
use crate::db::{Repo, RepoSpec};
use crate::ops::Context;

/// What to change; `None` leaves a setting as it is.
#[derive(Clone, Debug, Default)]
pub struct SettingsChange {
    /// Free text (`Some("")` clears it).
    pub comment: Option<String>,
    /// The component its packages are published in.
    pub component: Option<String>,
    /// The default distribution (`Some("")` clears it).
    pub default_distribution: Option<String>,
    /// Whether changes stage for review.
    pub review: Option<bool>,
    /// Check, change nothing.
    pub dry_run: bool,
}

/// Checks a default distribution: one path segment, as publish wants it.
pub(crate) fn check_distribution(d: &Option<String>) -> Result<(), RepoError> {
    match d {
        Some(d) if !crate::tree::layout::valid_segment(d) => Err(RepoError::BadSetting {
            what: "distribution",
            value: d.clone(),
        }),
        _ => Ok(()),
    }
}

/// Applies `change` to repo `name`; returns the repo as it is (or, with
/// `dry_run`, would be) afterwards.
pub fn edit(ctx: &mut Context, name: &str, change: &SettingsChange) -> Result<Repo, RepoError> {
    let _lock = lock_repo(ctx, name)?;
    let mut repo = load(ctx, name)?;
    let mut spec: RepoSpec = repo.spec.clone();
    if let Some(c) = &change.comment {
        spec.comment = Some(c.clone()).filter(|c| !c.is_empty());
    }
    if let Some(c) = &change.component {
        check_segment("component", c)?;
        spec.component = c.clone();
    }
    if let Some(d) = &change.default_distribution {
        spec.default_distribution = Some(d.clone()).filter(|d| !d.is_empty());
        check_distribution(&spec.default_distribution)?;
    }
    if let Some(r) = change.review {
        spec.review = r;
    }
    if spec != repo.spec && !change.dry_run {
        ctx.db.set_repo_spec(&repo, &spec)?;
        return load(ctx, name);
    }
    repo.spec = spec;
    Ok(repo)
}
