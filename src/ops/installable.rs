//! `snapshot verify` and the publish gate: is every dependency of a
//! snapshot's packages satisfied inside it?
//!
//! A filtered mirror without `--with-deps`, a rejected staged dependency or
//! a careless merge can leave a snapshot that apt cannot install from; this
//! finds that before a publication does. The check itself is
//! [`crate::query::installable`]; this module loads stored packages into it
//! ([`StoredPackage`], shared with the dependency-following promotion) and
//! names the result.

use serde::Serialize;

use crate::db::{Db, DbError};
use crate::debian::deb822::find_field;
use crate::debian::version::Version;
use crate::exit::{ExitCode, FAILURE, VERIFICATION};
use crate::model::{PackageId, PackageRecord};
use crate::query::Candidate;
use crate::query::installable::unmet;

/// Why a verification could not run, or what it found.
#[derive(Debug, thiserror::Error)]
pub enum InstallableError {
    /// No snapshot by that name.
    #[error("snapshot `{0}` does not exist")]
    NoSnapshot(String),
    /// A stored package whose version does not parse (database corruption).
    #[error("stored package `{0}` has an invalid version")]
    BadVersion(String),
    /// The snapshot (or the snapshots published together) has dependencies
    /// nothing in it satisfies.
    #[error(
        "{} not installable: {count} unmet {}: {}{}",
        snapshots_text(.snapshots),
        if *.count == 1 { "dependency" } else { "dependencies" },
        .first.join("; "),
        if *.count > .first.len() { format!("; and {} more", .count - .first.len()) } else { String::new() }
    )]
    Unmet {
        /// The snapshot, or the snapshots published together.
        snapshots: Vec<String>,
        /// How many dependencies are unmet.
        count: usize,
        /// The first few, as `PKG VERSION ARCH: FIELD: EXPR`.
        first: Vec<String>,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// `snapshot `a` is`, or `snapshots `a`, `b` together are`.
fn snapshots_text(names: &[String]) -> String {
    match names {
        [one] => format!("snapshot `{one}` is"),
        _ => format!("snapshots `{}` together are", names.join("`, `")),
    }
}

impl ExitCode for InstallableError {
    fn exit_code(&self) -> u8 {
        match self {
            InstallableError::Unmet { .. } => VERIFICATION,
            InstallableError::Db(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

/// A stored package as a dependency-check candidate.
pub struct StoredPackage {
    /// Component it is listed in.
    pub component: String,
    /// Row id.
    pub id: PackageId,
    /// The record, stanza included.
    pub record: PackageRecord,
    version: Version,
}

impl StoredPackage {
    /// Wraps a record; its version must parse.
    pub fn new(
        component: &str,
        id: PackageId,
        record: PackageRecord,
    ) -> Result<StoredPackage, InstallableError> {
        let version = Version::parse(&record.version).map_err(|_| {
            InstallableError::BadVersion(format!("{}_{}", record.name, record.version))
        })?;
        Ok(StoredPackage {
            component: component.to_owned(),
            id,
            record,
            version,
        })
    }

    /// Loads packages by (component, id).
    pub fn load(
        db: &Db,
        ids: &[(String, PackageId)],
    ) -> Result<Vec<StoredPackage>, InstallableError> {
        let just_ids: Vec<PackageId> = ids.iter().map(|(_, id)| *id).collect();
        ids.iter()
            .zip(db.packages(&just_ids)?)
            .map(|((c, id), r)| StoredPackage::new(c, *id, r))
            .collect()
    }
}

impl Candidate for StoredPackage {
    fn name(&self) -> &str {
        &self.record.name
    }

    fn version(&self) -> &Version {
        &self.version
    }

    fn architecture(&self) -> &str {
        &self.record.architecture
    }

    fn field(&self, name: &str) -> Option<&str> {
        find_field(&self.record.stanza, name)
    }
}

/// One unmet dependency, as `snapshot verify` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnmetDependency {
    /// The depending package.
    pub package: String,
    /// Its version.
    pub version: String,
    /// Its architecture.
    pub architecture: String,
    /// `Pre-Depends` or `Depends`.
    pub field: String,
    /// The dependency as written.
    pub dependency: String,
}

impl std::fmt::Display for UnmetDependency {
    /// `PKG VERSION ARCH: FIELD: EXPR`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}: {}: {}",
            self.package, self.version, self.architecture, self.field, self.dependency
        )
    }
}

/// What `snapshot verify` found.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// The snapshot.
    pub snapshot: String,
    /// Packages checked.
    pub packages: u64,
    /// Dependencies nothing in the snapshot satisfies, sorted by package.
    pub unmet: Vec<UnmetDependency>,
}

/// The unmet dependencies of `packages` (nothing else present), sorted.
pub fn unmet_dependencies(
    packages: &[StoredPackage],
    architectures: &[String],
) -> Vec<UnmetDependency> {
    let mut out: Vec<UnmetDependency> = unmet(packages, architectures)
        .into_iter()
        .map(|u| describe(&packages[u.package], u.field, u.dependency))
        .collect();
    out.sort_by(|a, b| {
        (&a.package, &a.architecture, &a.version).cmp(&(&b.package, &b.architecture, &b.version))
    });
    out
}

/// Names an unmet dependency of `p`.
pub fn describe(p: &StoredPackage, field: &str, dependency: String) -> UnmetDependency {
    UnmetDependency {
        package: p.record.name.clone(),
        version: p.record.version.clone(),
        architecture: p.record.architecture.clone(),
        field: field.to_owned(),
        dependency,
    }
}

/// Checks that every Pre-Depends and Depends of snapshot `name`'s packages
/// is satisfied inside the snapshot.
pub fn verify(db: &Db, name: &str) -> Result<VerifyReport, InstallableError> {
    let (packages, architectures) = load_together(db, &[name])?;
    Ok(VerifyReport {
        snapshot: name.to_owned(),
        packages: packages.len() as u64,
        unmet: unmet_dependencies(&packages, &architectures),
    })
}

/// The packages of the snapshots `names`, all of them (a publication of
/// several snapshots as components serves their union), and the union of
/// their architectures.
fn load_together(
    db: &Db,
    names: &[&str],
) -> Result<(Vec<StoredPackage>, Vec<String>), InstallableError> {
    let mut ids: Vec<(String, PackageId)> = Vec::new();
    let mut architectures: Vec<String> = Vec::new();
    for name in names {
        let snap = db
            .snapshot(name)?
            .ok_or_else(|| InstallableError::NoSnapshot((*name).to_owned()))?;
        let set = db.package_set(snap.package_set)?;
        ids.extend(
            set.components()
                .flat_map(|(c, ids)| ids.iter().map(move |id| (c.to_owned(), *id))),
        );
        for a in snap.architectures {
            if !architectures.contains(&a) {
                architectures.push(a);
            }
        }
    }
    Ok((StoredPackage::load(db, &ids)?, architectures))
}

/// How many unmet dependencies a refusal names.
const NAMED: usize = 5;

/// The publish gate: `Ok` when the snapshots `names` (one, or several
/// published together as components) are installable, their packages
/// together; else [`InstallableError::Unmet`] naming the first few.
pub fn check_installable(db: &Db, names: &[&str]) -> Result<(), InstallableError> {
    let (packages, architectures) = load_together(db, names)?;
    let unmet = unmet_dependencies(&packages, &architectures);
    if unmet.is_empty() {
        return Ok(());
    }
    Err(InstallableError::Unmet {
        snapshots: names.iter().map(|n| (*n).to_owned()).collect(),
        count: unmet.len(),
        first: unmet.iter().take(NAMED).map(ToString::to_string).collect(),
    })
}
