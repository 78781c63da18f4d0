//! Why a sync failed, with the exit code each failure means.

use chrono::{DateTime, Utc};

use super::UpstreamError;
use crate::db::DbError;
use crate::exit::{ExitCode, FAILURE, USAGE, VERIFICATION};
use crate::fetch::FetchError;
use crate::lock::LockError;
use crate::pgp::PgpError;
use crate::store::StoreError;

/// Sync failures. Each names the mirror and the object (URL, index, package).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No such mirror.
    #[error("mirror `{0}` does not exist")]
    NoMirror(String),
    /// Another sync runs.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Blob store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Network or integrity failure of a download.
    #[error("mirror `{mirror}`: cannot fetch `{what}`")]
    Fetch {
        /// Mirror.
        mirror: String,
        /// What was fetched: `InRelease`, an index path, a pool path.
        what: String,
        /// Cause.
        #[source]
        source: Box<FetchError>,
    },
    /// Neither InRelease nor Release exists.
    #[error("mirror `{mirror}`: neither `{url}InRelease` nor `{url}Release` exists")]
    NoRelease {
        /// Mirror.
        mirror: String,
        /// The dists URL.
        url: String,
    },
    /// The Release is unsigned, or Release.gpg is missing.
    #[error(
        "mirror `{mirror}`: `{url}` is not signed (no InRelease and no Release.gpg); refusing an unverified Release"
    )]
    Unsigned {
        /// Mirror.
        mirror: String,
        /// The Release URL.
        url: String,
    },
    /// Keyring could not be loaded or the signature does not verify.
    #[error("mirror `{mirror}`: signature of `{url}` does not verify")]
    Signature {
        /// Mirror.
        mirror: String,
        /// Document URL.
        url: String,
        /// Cause.
        #[source]
        source: PgpError,
    },
    /// The Release text does not parse.
    #[error("mirror `{mirror}`: `{url}` is not a valid Release file: {detail}")]
    BadRelease {
        /// Mirror.
        mirror: String,
        /// Document URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// The Release is older than the last accepted one.
    #[error(
        "mirror `{mirror}`: `{url}` has Date {date}, older than the last accepted {last}: refusing a rollback"
    )]
    Rollback {
        /// Mirror.
        mirror: String,
        /// Document URL.
        url: String,
        /// Its Date.
        date: DateTime<Utc>,
        /// The last accepted Date.
        last: DateTime<Utc>,
    },
    /// Valid-Until has passed.
    #[error(
        "mirror `{mirror}`: `{url}` expired at {valid_until} (Valid-Until); the upstream is stale or replayed"
    )]
    Expired {
        /// Mirror.
        mirror: String,
        /// Document URL.
        url: String,
        /// Its Valid-Until.
        valid_until: DateTime<Utc>,
    },
    /// A requested component or architecture is not in the Release.
    #[error("mirror `{mirror}`: the Release lists no {what}")]
    MissingIndex {
        /// Mirror.
        mirror: String,
        /// What is missing, e.g. "index `main/binary-arm64/Packages`".
        what: String,
    },
    /// An index does not parse or holds a bad stanza.
    #[error("mirror `{mirror}`: index `{index}`: {detail}")]
    BadIndex {
        /// Mirror.
        mirror: String,
        /// Index path in the Release.
        index: String,
        /// Why.
        detail: String,
    },
    /// The spool of index stanzas could not be written or read.
    #[error("mirror `{mirror}`: cannot set the index stanzas aside: {detail}")]
    Spool {
        /// Mirror.
        mirror: String,
        /// Why, naming the file.
        detail: String,
    },
    /// The stored filter is invalid.
    #[error("mirror `{mirror}`: invalid filter: {detail}")]
    BadFilter {
        /// Mirror.
        mirror: String,
        /// Why.
        detail: String,
    },
    /// The sync would remove more than the configured share of the mirror.
    #[error(
        "mirror `{mirror}`: the sync would remove {removed} of {total} packages ({percent:.0}%, more than the {limit}% allowed by `sync.mass-removal-percent`); nothing was changed — check the upstream, then re-run with --allow-mass-removal if this is intended"
    )]
    MassRemoval {
        /// Mirror.
        mirror: String,
        /// Packages that would go.
        removed: u64,
        /// Packages live now.
        total: u64,
        /// Their share.
        percent: f64,
        /// The configured limit.
        limit: u32,
    },
    /// `gc` runs.
    #[error(transparent)]
    GcRunning(LockError),
    /// The mirror URL is invalid.
    #[error("mirror `{mirror}`: invalid URL `{url}`")]
    BadUrl {
        /// Mirror.
        mirror: String,
        /// The URL.
        url: String,
    },
}

impl ExitCode for SyncError {
    fn exit_code(&self) -> u8 {
        match self {
            SyncError::Signature { .. }
            | SyncError::Unsigned { .. }
            | SyncError::Rollback { .. }
            | SyncError::Expired { .. } => VERIFICATION,
            SyncError::Fetch { source, .. } => source.exit_code(),
            // The mirror's stored definition is unusable: edit it.
            SyncError::BadFilter { .. } | SyncError::BadUrl { .. } => USAGE,
            SyncError::Db(e) => e.exit_code(),
            SyncError::Store(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

impl SyncError {
    /// The spool of index stanzas failed.
    pub(super) fn spool(mirror: &str, e: UpstreamError) -> SyncError {
        SyncError::Spool {
            mirror: mirror.to_owned(),
            detail: e.to_string(),
        }
    }
}
