//! `snapshot publish`: a snapshot as a signed apt tree, switched in atomically.
//!
//! Every publish runs the same steps, under the prefix's lock: plan the
//! pool → build the indices → render the tree ([`crate::tree`]) → place or
//! upload the pool files → switch → record. The parts:
//!
//! - this module: the entry points ([`publish`], [`drop_publication`]), the
//!   options, report and error;
//! - `endpoint`: the [`Endpoint`], a directory or a bucket;
//! - `job`: the `Job` handed to a backend once the arguments are checked,
//!   with what every backend does through it (the no-op check, the packages
//!   by component, the `Release` fields, the keyring to verify with, the
//!   record), and the components of a publication of several snapshots;
//! - `pool`: pool paths (plain and hash-qualified, checked safe), the pool
//!   plan (`Item`, `PoolAction`) and its execution in a local directory;
//!   `ledger` remembers what copied local pool files hold;
//! - `indices`: the `Packages` indices of a pool plan;
//! - `release`: the `Release` options, checked and turned into a tree's
//!   `Release` fields;
//! - `local`: a directory endpoint, trees side by side and a symlink switch;
//! - `s3`: a bucket endpoint, its pool known from the database's record of
//!   the bucket, written in an order that makes the last write the switch;
//! - `found`: the publications an endpoint holds, recorded or not.
//!
//! The flow in a local directory (DESIGN.md §4):
//!
//! 1. load the snapshot's packages (one package-set read, one row per
//!    package) — or, for several snapshots as components, each snapshot's
//!    packages under the component it serves;
//! 2. plan the pool: each package's path is
//!    `pool/<component>/<x>/<source>/<file>`; a path that already holds
//!    other content keeps it (write-once) and the package goes to
//!    `…/<source>/sha256-<16 hex>/<file>` instead — this is decided by
//!    looking at the files, so a killed publish or an edited database can
//!    never make a pool file change under its name;
//! 3. hardlink the missing pool files from the blob store (a copy through a
//!    temporary name when the store is on another file system);
//! 4. render `Packages`, `.gz`, `.xz`, by-hash, `Release`, `InRelease` and
//!    `Release.gpg` into a new tree directory (compressed indices whose
//!    `Packages` did not change come from the index cache) while 2 and 3
//!    run, from a guess that every package is at its plain path (rendered
//!    again in the rare case a hash-qualified path proves it wrong); then
//!    link in the by-hash files of the trees replaced within the grace
//!    period;
//! 5. verify the tree as apt would (hashes, sizes, signatures with the
//!    public keys), make everything durable with one `syncfs`;
//! 6. switch: `dists/<distribution>` is a symlink, replaced by `rename(2)`
//!    of a new one — readers see the old tree or the new one, never a mix;
//! 7. record the publication in the database.
//!
//! A publish of the snapshot and options already published is a no-op.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{DbError, HistoryEntry};
use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE, USAGE};
use crate::lock::{Lock, LockError};
use crate::model::{Publication, ReleaseOptions, Snapshot, components_text};
use crate::ops::Context;
use crate::ops::snapshot::SnapshotError;
use crate::pgp::{Keyring, PgpError, SigningKey};
use crate::store::{BlobStore, StoreError};
use crate::tree::layout;
use crate::tree::{RenderOptions, TreeError};
use job::Job;

mod appstream;
mod changelogs;
mod cnf;
mod contents;
mod endpoint;
mod found;
mod indices;
mod installer;
mod job;
mod ledger;
mod local;
mod ondemand;
pub use ondemand::{forget_orphaned, forget_unlisted, left_to_fetch};
mod pool;
mod release;
mod s3;
mod sources;
mod translations;

pub(crate) use changelogs::{
    changelog_paths_in_packages, component_of_index, paths_of as changelog_paths,
};
pub use endpoint::{Endpoint, normalize_prefix, prefix_dir};
pub use found::Dropped;
pub(crate) use found::{local_prefixes, published};
pub use job::check_components;
pub(crate) use job::publication_records;
pub use release::{DEFAULT_ORIGIN, Setting, SettingChange, default_label, duration_text};

pub(crate) use local::tree_ids;
pub(crate) use pool::pool_paths;

/// How long by-hash files of a replaced tree stay reachable from the
/// current one, for clients that fetched the old `InRelease` (and caches
/// that still serve it).
pub const BY_HASH_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Why a publish (or publication command) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// A snapshot problem (unknown name, …).
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// An invalid prefix.
    #[error(
        "prefix `{0}` is not valid: use `/`-separated parts of letters, digits, `.`, `_`, `+`, `-` (not `dists`, `pool` or `snapshots`)"
    )]
    BadPrefix(String),
    /// An absolute prefix: it would silently land below the endpoint.
    #[error(
        "prefix `{0}` is absolute; give it relative to the publish endpoint, e.g. `{rel}`",
        rel = .0.trim_start_matches('/')
    )]
    AbsolutePrefix(String),
    /// A prefix that passes through a symbolic link, which could lead out of
    /// the endpoint.
    #[error("prefix `{prefix}` passes through the symbolic link `{}`; publish under a real directory", link.display())]
    SymlinkPrefix {
        /// The prefix.
        prefix: String,
        /// The link.
        link: PathBuf,
    },
    /// An invalid distribution.
    #[error(
        "distribution `{0}` is not valid: use letters, digits, `.`, `_`, `+` and `-`, not starting with a dot"
    )]
    BadDistribution(String),
    /// No distribution given and none can be derived.
    #[error("snapshot `{0}` does not come from exactly one upstream suite; give `--distribution`")]
    NoDistribution(String),
    /// A dated distribution is immutable.
    #[error(
        "distribution `{distribution}` carries the name of snapshot `{published}` and is immutable; publish `{requested}` under another distribution"
    )]
    Immutable {
        /// The distribution.
        distribution: String,
        /// The snapshot it publishes.
        published: String,
        /// The snapshot asked for.
        requested: String,
    },
    /// No publication there.
    #[error("nothing is published as `{distribution}` under prefix `{prefix}`")]
    NoPublication {
        /// The prefix.
        prefix: String,
        /// The distribution.
        distribution: String,
    },
    /// A Release option is unusable.
    #[error("{0}")]
    BadOption(String),
    /// A flag would change a stored setting, and `--set` was not given.
    #[error(
        "publication `{place}` has {setting} {}; `--{setting} {given}` would change it",
        stored.as_ref().map_or_else(|| "unset".to_owned(), |v| format!("`{v}`"))
    )]
    SettingChanged {
        /// Where the publication is served (`prefix/dists/distribution`).
        place: String,
        /// The setting's name.
        setting: &'static str,
        /// Its stored value (`None`: unset).
        stored: Option<String>,
        /// The value given.
        given: String,
    },
    /// Unusable `--component` names for the snapshots given.
    #[error("{0}")]
    BadComponents(String),
    /// A publish would change which components the publication has, and
    /// `--set` was not given.
    #[error(
        "publication `{place}` has components {}; {} would change them",
        stored.as_ref().map_or_else(|| "from its snapshot".to_owned(), |v| format!("`{v}`")),
        given.as_ref().map_or_else(|| "one snapshot without `--component`".to_owned(), |v| format!("`--component {v}`"))
    )]
    ComponentsChanged {
        /// Where the publication is served (`prefix/dists/distribution`).
        place: String,
        /// The stored components (`None`: one snapshot's own).
        stored: Option<String>,
        /// The components given (`None`: one snapshot's own).
        given: Option<String>,
    },
    /// `dists/<distribution>` exists and is not ours.
    #[error("`{}` exists and is not a debvault publication; move it away first", .0.display())]
    Foreign(PathBuf),
    /// A bucket endpoint asked to publish package files an on-demand
    /// mirror left upstream (`ondemand`).
    #[error(
        "cannot publish to `{endpoint}`: {count} package files (`{package}` first) are left upstream by on-demand mirror `{mirror}`, and a bucket is not filled on demand; run `debvault mirror fill {mirror}` first"
    )]
    OnDemandInBucket {
        /// The bucket endpoint (prefix included).
        endpoint: String,
        /// The first mirror that left one upstream.
        mirror: String,
        /// The first such package, `name_version_arch`.
        package: String,
        /// How many package files the store lacks.
        count: usize,
    },
    /// A package's blob is not in the store.
    #[error(
        "the file of `{package}` (SHA256 {sha256}) is missing from the blob store; run `debvault verify`"
    )]
    MissingBlob {
        /// `name_version_arch`.
        package: String,
        /// Its digest.
        sha256: Sha256,
    },
    /// A stored source package whose stanza no longer parses.
    #[error("source package `{package}`: stored stanza is invalid: {detail}")]
    BadSource {
        /// `name_version`.
        package: String,
        /// Why.
        detail: String,
    },
    /// A package whose pool path would be unsafe.
    #[error("package `{package}` would be published at an unsafe path `{path}`")]
    UnsafePoolPath {
        /// `name_version_arch`.
        package: String,
        /// The path.
        path: String,
    },
    /// Another publish holds the prefix.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// File system trouble.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A package's .deb could not be read for its file list or changelog.
    #[error("cannot read the .deb of `{package}`")]
    BadDeb {
        /// `name_version_arch`.
        package: String,
        /// Why.
        #[source]
        source: Box<crate::debian::deb::DebError>,
    },
    /// Rendering or verifying the tree failed.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The signing keys could not be used.
    #[error("cannot use the signing keys")]
    Keys(#[source] PgpError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The blob store or the object-storage endpoint failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::ops::deb_scans::ScanError> for PublishError {
    fn from(e: crate::ops::deb_scans::ScanError) -> Self {
        use crate::ops::deb_scans::ScanError;
        match e {
            ScanError::BadDeb { package, source } => PublishError::BadDeb { package, source },
            ScanError::Db(e) => PublishError::Db(e),
            ScanError::Store(e) => PublishError::Store(e),
        }
    }
}

impl ExitCode for PublishError {
    /// Unusable arguments are usage errors; a rendered tree that fails its
    /// own verification, a verification failure; wrappers ask their cause.
    fn exit_code(&self) -> u8 {
        match self {
            PublishError::BadPrefix(_)
            | PublishError::AbsolutePrefix(_)
            | PublishError::SymlinkPrefix { .. }
            | PublishError::BadDistribution(_)
            | PublishError::NoDistribution(_)
            | PublishError::BadOption(_)
            | PublishError::BadComponents(_)
            | PublishError::ComponentsChanged { .. }
            | PublishError::SettingChanged { .. }
            | PublishError::OnDemandInBucket { .. } => USAGE,
            PublishError::BadDeb { .. } => crate::exit::VERIFICATION,
            PublishError::Snapshot(e) => e.exit_code(),
            PublishError::Tree(e) => e.exit_code(),
            PublishError::Keys(e) => e.exit_code(),
            PublishError::Db(e) => e.exit_code(),
            PublishError::Store(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

/// Maps an I/O error on `path` to [`PublishError::Io`] saying what was
/// being done.
pub(super) fn io_err(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(io::Error) -> PublishError + use<> {
    let path = path.to_owned();
    move |source| PublishError::Io {
        action,
        path,
        source,
    }
}

/// What to publish where.
#[derive(Clone, Debug, Default)]
pub struct PublishOptions {
    /// Prefix below the endpoint; `.` (or empty) for its root.
    pub prefix: String,
    /// Distribution; default: the suite of the snapshot's mirror.
    pub distribution: Option<String>,
    /// The settings given as flags: a field left unset (`None`, `false`)
    /// keeps the stored value; see [`release`](self) and `resolve`.
    pub release: ReleaseOptions,
    /// The component each snapshot is published as, in order, when several
    /// are published together; empty: one snapshot with its own components.
    pub components: Vec<String>,
    /// Whether given settings may change stored ones.
    pub set: bool,
    /// Settings to put back to their defaults.
    pub unset: Vec<Setting>,
    /// Plan only.
    pub dry_run: bool,
    /// Compression settings.
    pub render: RenderOptions,
}

/// How a publish ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PublishOutcome {
    /// A new tree was switched in.
    Published,
    /// The snapshot was already published with these options.
    Unchanged,
    /// `--dry-run`: nothing written.
    DryRun,
}

/// What a publish did (or, for a dry run, would do).
#[derive(Clone, Debug, Serialize)]
pub struct PublishReport {
    /// The snapshot, or `main=a,internal=b` for several as components.
    pub snapshot: String,
    /// The component each snapshot is published as, when several are.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentReport>,
    /// The prefix.
    pub prefix: String,
    /// The distribution.
    pub distribution: String,
    /// The outcome.
    pub outcome: PublishOutcome,
    /// The snapshot published before, if another.
    pub replaced: Option<String>,
    /// The tree now current.
    pub tree: Option<String>,
    /// Packages published.
    pub packages: u64,
    /// Pool files linked or copied now.
    pub pool_added: u64,
    /// Pool files that were already in place.
    pub pool_present: u64,
    /// Packages published at a hash-qualified path because their plain
    /// pool path holds other content.
    pub pool_qualified: u64,
    /// Pool files read to compare their content: same-sized files that are
    /// not links of a local blob, and not in the pool ledger unchanged.
    pub pool_hashed: u64,
    /// Pool files left to fetch on demand (on-demand mirrors' packages the
    /// store lacks): listed in the indices, fetched by `serve`.
    #[serde(skip_serializing_if = "is_zero")]
    pub pool_on_demand: u64,
    /// `Packages` indices written.
    pub indices: u64,
    /// Of those, how many reused compressed files from the cache.
    pub reused_indices: u64,
    /// By-hash files kept from replaced trees.
    pub by_hash_kept: u64,
    /// `Valid-Until`, if any.
    pub valid_until: Option<DateTime<Utc>>,
    /// Settings this publish changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<SettingChange>,
    /// Seconds taken.
    pub seconds: f64,
    /// Object-storage requests made, when the endpoint or the blob store is
    /// a bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_requests: Option<u64>,
    /// Installer images a bucket already held: not uploaded again.
    #[serde(skip_serializing_if = "is_zero")]
    pub installer_present: u64,
}

/// A component of a publication of several snapshots, in a report.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentReport {
    /// The component.
    pub component: String,
    /// The snapshot whose packages it lists.
    pub snapshot: String,
}

/// The distribution a snapshot publishes to by default: its mirrors'
/// suite and its repos' default distribution, when they agree.
fn default_distribution(snap: &Snapshot) -> Option<String> {
    use crate::model::SnapshotOrigin;
    match &snap.origin {
        SnapshotOrigin::Mirrors { mirrors, repos } => {
            let mut named = mirrors
                .iter()
                .map(|m| m.suite.replace('/', "-"))
                .chain(repos.iter().filter_map(|r| r.distribution.clone()));
            let first = named.next()?;
            named.all(|d| d == first).then_some(first)
        }
        _ => None,
    }
}

/// Publishes `snapshot_names` to the context's endpoint, signed with
/// `keys`: one snapshot with its own components, or several, each as the
/// component `opts.components` names for it; see the module docs. Warnings
/// go to the context's progress.
pub fn publish(
    ctx: &mut Context,
    keys: &[SigningKey],
    snapshot_names: &[String],
    opts: &PublishOptions,
) -> Result<PublishReport, PublishError> {
    let endpoint = &ctx.endpoint()?;
    let lock_dir = &ctx.settings.lock_dir();
    let (db, store) = (&mut ctx.db, &ctx.store);
    let started = Instant::now();
    let requests_before = crate::store::s3::request_count();
    let (snap, components) = job::load_snapshots(db, snapshot_names, &opts.components)?;
    let prefix = normalize_prefix(&opts.prefix)?;
    let distribution = match &opts.distribution {
        Some(d) => d.clone(),
        None => default_distribution(&snap)
            .ok_or_else(|| PublishError::NoDistribution(snap.name.clone()))?,
    };
    if !layout::valid_segment(&distribution) {
        return Err(PublishError::BadDistribution(distribution));
    }
    let _lock = if opts.dry_run {
        None
    } else {
        Some(lock_prefix(lock_dir, &prefix)?)
    };

    let current = db.publication(&prefix, &distribution)?;
    let place = layout::dists_path(&prefix, &distribution);
    let components_changed =
        job::resolve_components(&place, current.as_ref(), &opts.components, opts.set)?;
    let (settings, mut changed) = release::resolve(
        &place,
        current.as_ref().map(|c| &c.options),
        &opts.release,
        opts.set,
        &opts.unset,
    )?;
    changed.extend(components_changed);
    release::check_options(&settings)?;
    if matches!(endpoint, Endpoint::S3 { .. }) && settings.snapshots_url.is_some() {
        return Err(PublishError::BadOption(
            "`--snapshots-url` needs a local publish endpoint (trees by date are kept there)"
                .into(),
        ));
    }
    let text = match &components[..] {
        [] => snap.name.clone(),
        several => components_text(several.iter().map(|(c, s)| (c, &s.name))),
    };
    if let Some(cur) = &current
        && cur.snapshots_text() != text
        && cur.distribution == cur.snapshot
    {
        return Err(PublishError::Immutable {
            distribution: distribution.clone(),
            published: cur.snapshot.clone(),
            requested: text,
        });
    }
    let report = PublishReport {
        components: components
            .iter()
            .map(|(c, s)| ComponentReport {
                component: c.clone(),
                snapshot: s.name.clone(),
            })
            .collect(),
        prefix: prefix.clone(),
        distribution: distribution.clone(),
        outcome: PublishOutcome::Published,
        replaced: current
            .as_ref()
            .map(Publication::snapshots_text)
            .filter(|t| *t != text),
        snapshot: text,
        tree: current.as_ref().map(|c| c.tree.clone()),
        packages: snap.packages
            + components
                .iter()
                .skip(1)
                .map(|(_, s)| s.packages)
                .sum::<u64>(),
        pool_added: 0,
        pool_on_demand: 0,
        pool_present: 0,
        pool_qualified: 0,
        pool_hashed: 0,
        indices: 0,
        reused_indices: 0,
        by_hash_kept: 0,
        valid_until: current.as_ref().and_then(|c| c.valid_until),
        changed,
        seconds: 0.0,
        s3_requests: None,
        installer_present: 0,
    };
    let job = Job {
        snap,
        components,
        prefix,
        distribution,
        current,
        settings,
        report,
        started,
        keys,
        opts,
        progress: ctx.progress.as_ref(),
    };
    let mut report = match endpoint {
        Endpoint::Local(dir) => local::publish_local(db, store, dir, job)?,
        Endpoint::S3 { bucket, work } => s3::publish(db, store, bucket, work, job)?,
    };
    if matches!(endpoint, Endpoint::S3 { .. }) || matches!(store, BlobStore::S3(_)) {
        report.s3_requests = Some(crate::store::s3::request_count() - requests_before);
    }
    Ok(report)
}

/// Takes the lock of a prefix: its pool is shared by all its distributions.
pub(crate) fn lock_prefix(lock_dir: &Path, prefix: &str) -> Result<Lock, PublishError> {
    let name = format!(
        "publish-{}.lock",
        &Sha256::of(prefix.as_bytes()).to_hex()[..16]
    );
    Ok(Lock::try_acquire(
        &lock_dir.join(name),
        &format!("publish prefix `{prefix}`"),
    )?)
}

/// The public half of the signing keys, to verify a rendered tree with.
fn public_keyring(keys: &[SigningKey]) -> Result<Keyring, PublishError> {
    let mut data = Vec::new();
    for k in keys {
        data.extend(k.public_cert_binary().map_err(PublishError::Keys)?);
    }
    Keyring::from_bytes(&data, "the signing keys").map_err(PublishError::Keys)
}

/// Removes a publication: its `dists/<distribution>` link, then its trees.
/// Pool files stay (other distributions of the prefix may use them; `gc`
/// removes unreferenced ones). A publication on the endpoint that the
/// database does not know (it was restored from before the publish) is
/// removed too, and the drop audited.
pub fn drop_publication(
    ctx: &mut Context,
    prefix: &str,
    distribution: &str,
) -> Result<Dropped, PublishError> {
    let endpoint = &ctx.endpoint()?;
    let lock_dir = &ctx.settings.lock_dir();
    let db = &mut ctx.db;
    let prefix = normalize_prefix(prefix)?;
    let publication = db.publication(&prefix, distribution)?;
    let _lock = lock_prefix(lock_dir, &prefix)?;
    if publication.is_none() && !found::is_published(endpoint, &prefix, distribution)? {
        return Err(PublishError::NoPublication {
            prefix,
            distribution: distribution.to_owned(),
        });
    }
    match endpoint {
        Endpoint::Local(dir) => local::drop_local(dir, &prefix, distribution)?,
        Endpoint::S3 { bucket, .. } => s3::drop_tree(bucket, &prefix, distribution)?,
    }
    match publication {
        Some(p) => {
            db.drop_publication(&p)?;
            Ok(Dropped::Known(Box::new(p)))
        }
        None => {
            let subject = format!(
                "publication `{}`",
                layout::dists_path(&prefix, distribution)
            );
            let event = crate::db::AuditEvent::new("publish-drop", subject)
                .detail(serde_json::json!({"in_database": false}));
            db.audit(&event)?;
            Ok(Dropped::Unknown {
                prefix,
                distribution: distribution.to_owned(),
            })
        }
    }
}

/// Every publication, by prefix and distribution.
pub fn list(ctx: &Context) -> Result<Vec<Publication>, PublishError> {
    Ok(ctx.db.publications()?)
}

/// The publication of `distribution` under `prefix`, with the snapshots it
/// published before, newest first.
pub fn show(
    ctx: &Context,
    prefix: &str,
    distribution: &str,
) -> Result<(Publication, Vec<HistoryEntry>), PublishError> {
    let prefix = normalize_prefix(prefix)?;
    let publication =
        ctx.db
            .publication(&prefix, distribution)?
            .ok_or_else(|| PublishError::NoPublication {
                prefix: prefix.clone(),
                distribution: distribution.to_owned(),
            })?;
    let history = ctx.db.publication_history(&prefix, distribution)?;
    Ok((publication, history))
}

/// For `skip_serializing_if`.
fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(normalize_prefix("").unwrap(), ".");
        assert_eq!(normalize_prefix(".").unwrap(), ".");
        assert_eq!(normalize_prefix("debian/").unwrap(), "debian");
        assert!(matches!(
            normalize_prefix("/debian"),
            Err(PublishError::AbsolutePrefix(_))
        ));
        assert!(normalize_prefix("/").is_err());
        assert_eq!(normalize_prefix("ci/debian").unwrap(), "ci/debian");
        assert!(normalize_prefix("../x").is_err());
        assert!(normalize_prefix("a/.hidden").is_err());
        assert!(normalize_prefix("dists").is_err());
        assert!(normalize_prefix("a b").is_err());
    }
}
