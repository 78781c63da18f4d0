//! The local repositories' lines of `status`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{Db, DbError};

/// One local repository, as `status` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct RepoStatus {
    /// Name.
    pub name: String,
    /// Packages.
    pub packages: u64,
    /// Changes so far.
    pub revision: u64,
    /// Its last change (its creation when never changed).
    pub last_change: DateTime<Utc>,
    /// Whether `repo include` requires a signature from its uploaders.
    pub uploaders: bool,
    /// Packages an operator froze (`debvault freeze REPO PKG`).
    pub held: u64,
    /// Whether changes stage for review.
    pub review: bool,
    /// Pending staged changes.
    pub staged: u64,
}

/// Every repo, by name.
pub fn gather(db: &Db) -> Result<Vec<RepoStatus>, DbError> {
    db.repos()?
        .into_iter()
        .map(|r| {
            Ok(RepoStatus {
                uploaders: db.repo_uploaders(&r)?.is_some(),
                held: db.repo_freezes(r.id)?.len() as u64,
                review: r.spec.review,
                staged: db.repo_staged(r.id)?.len() as u64,
                packages: r.packages,
                revision: r.revision,
                last_change: r.updated_at,
                name: r.name,
            })
        })
        .collect()
}
