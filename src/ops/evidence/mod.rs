//! Evidence for review (issue 22): what changed between two versions of a
//! package according to its changelog ([`changelog`]), software bills of
//! materials of snapshots ([`sbom`]) and offline security advisories
//! ([`advisories`]).
//!
//! All three read what debvault already holds — the changelog cache by
//! .deb SHA256 (filled by publish, or here on a miss), snapshot package
//! sets, mirror records, the index cache of verified upstream indices —
//! and never talk to upstream.

pub mod advisories;
pub mod changelog;
pub mod origins;
pub mod sbom;
pub mod upstream;

use thiserror::Error;

use crate::db::DbError;
use crate::exit::{ExitCode, FAILURE};

/// Why gathering evidence failed.
#[derive(Debug, Error)]
pub enum EvidenceError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A .deb could not be read for its changelog.
    #[error(transparent)]
    Read(#[from] crate::ops::deb_scans::ScanError),
    /// A snapshot could not be loaded.
    #[error(transparent)]
    Snapshot(#[from] Box<crate::ops::snapshot::SnapshotError>),
    /// Writing output.
    #[error("cannot write `{what}`")]
    Write {
        /// The file or stream.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl ExitCode for EvidenceError {
    fn exit_code(&self) -> u8 {
        match self {
            EvidenceError::Db(e) => e.exit_code(),
            EvidenceError::Read(e) => e.exit_code(),
            EvidenceError::Snapshot(e) => e.exit_code(),
            EvidenceError::Write { .. } => FAILURE,
        }
    }
}
