//! Use cases: each mutating operation computes a plan, then executes it.
//!
//! [`Context`] bundles what every operation needs (settings, database, blob
//! store, HTTP client, progress sink). The CLI builds one per invocation.

pub mod apply;
pub mod backup;
pub mod curation;
mod curation_deps;
pub(crate) mod deb_scans;
pub mod evidence;
pub mod gc;
pub mod index_cache;
pub mod installable;
pub mod keys;
pub mod metrics;
pub mod mirror;
pub mod ondemand_status;
pub mod package;
pub mod proxy_status;
pub mod publish;
pub mod repo;
pub mod snapshot;
pub mod status;
pub mod sync;
pub mod tokens;
mod upstream;
pub mod verify;

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Db;
use crate::fetch::Fetcher;
use crate::lock::{Lock, LockError};
use crate::progress::Progress;
use crate::store::BlobStore;

impl Context {
    /// Takes the lock of mirror `name` (sync, curation, edit and drop of one
    /// mirror exclude each other); it lasts as long as the value.
    pub fn lock_mirror(&self, name: &str) -> Result<Lock, LockError> {
        Lock::try_acquire(
            &self.settings.lock_dir().join(format!("mirror-{name}.lock")),
            &format!("mirror `{name}`"),
        )
    }
}

/// What operations work with.
pub struct Context {
    /// Resolved settings.
    pub settings: Settings,
    /// Metadata.
    pub db: Db,
    /// Blobs.
    pub store: BlobStore,
    /// Upstream HTTP.
    pub fetcher: Fetcher,
    /// Progress sink.
    pub progress: Arc<dyn Progress>,
}
