//! Local repositories: package sets the operator changes by hand, for the
//! team's own packages beside the curated mirrors (aptly's `repo`,
//! reprepro's `includedeb`).
//!
//! A repo is a named, mutable package set. Its packages are ordinary
//! `packages` rows with blobs, so a snapshot of a repo
//! (`snapshot create --from-repo`) is published, merged, filtered, diffed,
//! collected and verified as a mirror's is. Every verb here is one use case
//! the CLI (and later the HTTP API) calls: it takes the repo's lock,
//! computes a plan, stops there with `dry_run`, and otherwise commits the
//! plan in one transaction with its audit events.
//!
//! - [`add`]: `.deb`/`.udeb` files in, control data read from the package;
//!   `.dsc` files with the files they list, each checked;
//! - [`edit`]: `remove`, `copy` and `move` by filter expression;
//! - [`include`]: an upload's `.changes`, its files checked, its signature
//!   checked against the repo's [`uploaders`] rules.

use serde::Serialize;

use super::Context;
use crate::db::{DbError, Repo, RepoSpec};
use crate::debian::deb_control::ControlError;
use crate::debian::packages::PackageError;
use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE, FROZEN, USAGE, VERIFICATION};
use crate::lock::{Lock, LockError};
use crate::model::{PackageKey, valid_name};
use crate::query::FilterError;
use crate::store::StoreError;

pub mod add;
mod dsc;
pub mod edit;
pub mod freeze;
pub mod include;
pub mod review;
pub mod settings;
pub mod status;
pub mod uploaders;

pub use add::{AddOptions, AddReport, AddedPackage, Replaced, add};
pub use edit::{EditReport, copy, remove};
pub use include::{IncludeError, IncludeOptions, IncludeReport, include};
pub use uploaders::{Uploaders, UploadersError};

/// Why a repo operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// No repo by that name.
    #[error("repo `{0}` does not exist")]
    NoRepo(String),
    /// An invalid name.
    #[error(
        "repo name `{0}` is not valid: use letters, digits, `.`, `_` and `-`, starting with a letter or digit (at most 64)"
    )]
    BadName(String),
    /// The name is taken.
    #[error("repo `{0}` already exists")]
    Exists(String),
    /// A component or architecture name that cannot be a path segment.
    #[error("{what} `{value}` is not valid: use lowercase letters, digits and `-`")]
    BadSetting {
        /// Which setting.
        what: &'static str,
        /// Its value.
        value: String,
    },
    /// Nothing to add.
    #[error("no .deb, .udeb or .dsc files in `{0}`")]
    NoFiles(String),
    /// A file to add could not be read (or staged).
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A file that is not a well-formed package.
    #[error("`{path}` is not a usable .deb")]
    BadDeb {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: ControlError,
    },
    /// A `.dsc` that cannot be read as one.
    #[error("`{path}` is not a usable .dsc: {problem}")]
    BadDsc {
        /// The `.dsc`.
        path: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A source package whose `.dsc` is not acceptable.
    #[error("`{path}` is not a usable source package")]
    BadSource {
        /// The `.dsc`.
        path: String,
        /// Why.
        #[source]
        source: crate::debian::sources::SourceError,
    },
    /// A file a `.dsc` lists whose size or SHA256 is not the listed one.
    #[error("`{path}` does not match what `{dsc}` lists: {detail}")]
    SourceFileMismatch {
        /// The file.
        path: String,
        /// The `.dsc`.
        dsc: String,
        /// Found and listed size and SHA256.
        detail: String,
    },
    /// A package whose control data is not acceptable.
    #[error("`{path}` has unusable control data")]
    BadControl {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: PackageError,
    },
    /// The same name, version and architecture with other bytes.
    #[error(
        "repo `{}` already has `{}` with SHA256 {}, {} has {}; a version's content never \
         changes silently (use --force-replace to replace it)",
        .0.repo, .0.package, .0.existing, .0.offered_by, .0.offered
    )]
    Conflict(Box<Conflict>),
    /// Two files of one command are the same package with different bytes.
    #[error(
        "`{}` and {} are both `{}` with different content ({} and {})",
        .0.repo, .0.offered_by, .0.package, .0.existing, .0.offered
    )]
    Ambiguous(Box<Conflict>),
    /// A filter expression that does not parse.
    #[error("invalid filter `{expr}`")]
    Filter {
        /// The expression.
        expr: String,
        /// Why.
        #[source]
        source: FilterError,
    },
    /// Copying or moving a repo onto itself.
    #[error("source and destination are both repo `{0}`")]
    SameRepo(String),
    /// `gc` runs (it could collect blobs this command stores).
    #[error("cannot add packages while gc runs")]
    GcRunning(#[source] LockError),
    /// The repo's lock.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The blob store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The database failed.
    #[error(transparent)]
    Db(DbError),
    /// Uploaders rules that cannot be used.
    #[error(transparent)]
    Uploaders(Box<UploadersError>),
    /// An upload refused while it was vetted under the repo's lock.
    #[error(transparent)]
    Include(Box<IncludeError>),
    /// A change to a package an operator froze.
    #[error(
        "repo `{}` refuses to {} `{}`: `{}` is frozen ({}); unfreeze it first",
        .0.repo, .0.action, .0.package, .0.frozen, .0.reason
    )]
    Frozen(Box<freeze::FrozenChange>),
    /// Nothing matches a freeze, unfreeze, promote or reject selector.
    #[error("repo `{repo}` has no {what} matching `{selector}`")]
    NoMatch {
        /// The repo.
        repo: String,
        /// `package`, `frozen package`, `staged change`.
        what: &'static str,
        /// The selector.
        selector: String,
    },
    /// A reason is required and was empty.
    #[error("a non-empty --reason is required: the audit trail records why")]
    NoReason,
    /// A curation verb's name is both a mirror's and a repo's.
    #[error("both a mirror and a repo are named `{0}`: pass --mirror or --repo to say which")]
    AmbiguousName(String),
}

impl From<DbError> for RepoError {
    fn from(e: DbError) -> RepoError {
        match e {
            DbError::RepoExists(name) => RepoError::Exists(name),
            e => RepoError::Db(e),
        }
    }
}

impl From<UploadersError> for RepoError {
    fn from(e: UploadersError) -> RepoError {
        RepoError::Uploaders(Box::new(e))
    }
}

impl ExitCode for RepoError {
    fn exit_code(&self) -> u8 {
        match self {
            RepoError::BadName(_)
            | RepoError::Exists(_)
            | RepoError::BadSetting { .. }
            | RepoError::NoFiles(_)
            | RepoError::Filter { .. }
            | RepoError::SameRepo(_)
            | RepoError::NoReason
            | RepoError::AmbiguousName(_) => USAGE,
            RepoError::Frozen(_) => FROZEN,
            // A package that is not what it claims, or a version whose
            // bytes differ from the stored ones: a content check failed.
            RepoError::BadDeb { .. }
            | RepoError::BadControl { .. }
            | RepoError::BadDsc { .. }
            | RepoError::BadSource { .. }
            | RepoError::SourceFileMismatch { .. }
            | RepoError::Conflict(_)
            | RepoError::Ambiguous(_) => VERIFICATION,
            RepoError::Store(e) => e.exit_code(),
            RepoError::Db(e) => e.exit_code(),
            RepoError::Uploaders(e) => e.exit_code(),
            RepoError::Include(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

/// A package offered under a name, version and architecture whose
/// content differs from what is already there.
#[derive(Debug)]
pub struct Conflict {
    /// The repo (for [`RepoError::Ambiguous`], the first file).
    pub repo: String,
    /// `name_version_arch`.
    pub package: String,
    /// The SHA256 already there.
    pub existing: Sha256,
    /// The SHA256 offered.
    pub offered: Sha256,
    /// Where the offer came from: `` `FILE` `` or ``repo `NAME` ``.
    pub offered_by: String,
}

/// One package of a repo, as `show --with-packages` and reports list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RepoPackage {
    /// Name, version, architecture.
    #[serde(flatten)]
    pub key: PackageKey,
    /// Content digest.
    pub sha256: Sha256,
    /// Size in bytes.
    pub size: u64,
}

/// A repo and, when asked for, its packages.
#[derive(Clone, Debug, Serialize)]
pub struct RepoDetail {
    /// The repo.
    #[serde(flatten)]
    pub repo: Repo,
    /// Its packages by name, version and architecture (empty unless asked for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub package_list: Vec<RepoPackage>,
    /// Who may `repo include` into it (none: anyone, unsigned too).
    pub uploaders: Option<uploaders::UploadersSummary>,
}

/// What `repo create` was given.
#[derive(Clone, Debug)]
pub struct CreateOptions {
    /// The repo's configuration.
    pub spec: RepoSpec,
    /// Who may `repo include` into it.
    pub uploaders: Option<Uploaders>,
    /// Check, store nothing.
    pub dry_run: bool,
}

/// Takes the lock of repo `name`: changes of one repo exclude each other.
pub(crate) fn lock_repo(ctx: &Context, name: &str) -> Result<Lock, RepoError> {
    Ok(Lock::try_acquire(
        &ctx.settings.lock_dir().join(format!("repo-{name}.lock")),
        &format!("repo `{name}`"),
    )?)
}

/// Loads a repo by name.
pub fn load(ctx: &Context, name: &str) -> Result<Repo, RepoError> {
    ctx.db
        .repo(name)?
        .ok_or_else(|| RepoError::NoRepo(name.to_owned()))
}

fn check_segment(what: &'static str, value: &str) -> Result<(), RepoError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && value.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(RepoError::BadSetting {
            what,
            value: value.to_owned(),
        })
    }
}

/// Creates an empty repo (with `dry_run`, only checks the request).
pub fn create(ctx: &mut Context, name: &str, opts: &CreateOptions) -> Result<Repo, RepoError> {
    if !valid_name(name) {
        return Err(RepoError::BadName(name.to_owned()));
    }
    check_segment("component", &opts.spec.component)?;
    settings::check_distribution(&opts.spec.default_distribution)?;
    for a in &opts.spec.architectures {
        check_segment("architecture", a)?;
    }
    let _lock = lock_repo(ctx, name)?;
    if ctx.db.repo(name)?.is_some() {
        return Err(RepoError::Exists(name.to_owned()));
    }
    if opts.dry_run {
        let now = chrono::Utc::now();
        return Ok(Repo {
            id: crate::model::RepoId(0),
            name: name.to_owned(),
            spec: opts.spec.clone(),
            created_at: now,
            updated_at: now,
            revision: 0,
            packages: 0,
            package_set: crate::model::PackageSetId(0),
        });
    }
    let stored = opts
        .uploaders
        .as_ref()
        .map(Uploaders::to_stored)
        .transpose()?;
    ctx.db.create_repo_with(name, &opts.spec, stored.as_ref())?;
    load(ctx, name)
}

/// Every repo, by name.
pub fn list(ctx: &Context) -> Result<Vec<Repo>, RepoError> {
    Ok(ctx.db.repos()?)
}

/// A repo, with its packages when `with_packages`.
pub fn show(ctx: &Context, name: &str, with_packages: bool) -> Result<RepoDetail, RepoError> {
    let repo = load(ctx, name)?;
    let package_list = if with_packages {
        packages(ctx, &repo)?
    } else {
        Vec::new()
    };
    let uploaders = ctx
        .db
        .repo_uploaders(&repo)?
        .map(|u| Uploaders::from_stored(&repo.name, &u).map(|u| u.summary()))
        .transpose()?;
    Ok(RepoDetail {
        repo,
        package_list,
        uploaders,
    })
}

/// Sets (or with `None`, removes) the uploaders of repo `name`, audited;
/// with `dry_run` only checks. Returns what `repo show` will list.
pub fn set_uploaders(
    ctx: &mut Context,
    name: &str,
    uploaders: Option<&Uploaders>,
    dry_run: bool,
) -> Result<Option<uploaders::UploadersSummary>, RepoError> {
    let _lock = lock_repo(ctx, name)?;
    let repo = load(ctx, name)?;
    let summary = uploaders.map(Uploaders::summary);
    if !dry_run {
        let stored = uploaders.map(Uploaders::to_stored).transpose()?;
        ctx.db.set_repo_uploaders(
            &repo,
            stored.as_ref(),
            serde_json::to_value(&summary).unwrap_or_default(),
        )?;
    }
    Ok(summary)
}

/// The packages of `repo`, sorted by name, version and architecture.
pub(crate) fn packages(ctx: &Context, repo: &Repo) -> Result<Vec<RepoPackage>, RepoError> {
    let set = ctx.db.package_set(repo.package_set)?;
    let mut out = Vec::with_capacity(set.len());
    for (_, ids) in set.components() {
        for p in ctx.db.package_summaries(ids)? {
            out.push(RepoPackage {
                key: p.key,
                sha256: p.sha256,
                size: p.size,
            });
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// Deletes a repo. aptly refuses to drop a repo that snapshots were
/// taken from (unless `-force`) because its snapshots point at the repo's
/// package list; a debvault snapshot holds its own package set, so it
/// keeps its packages and dropping is safe. The packages nothing else
/// references go at the next `gc`.
pub fn drop(ctx: &mut Context, name: &str, dry_run: bool) -> Result<Repo, RepoError> {
    let _lock = lock_repo(ctx, name)?;
    let repo = load(ctx, name)?;
    if !dry_run {
        ctx.db.drop_repo(&repo)?;
    }
    Ok(repo)
}
