//! Use cases: each mutating operation computes a plan, then executes it.
//!
//! [`Context`] bundles what every operation needs (settings, database, blob
//! store, HTTP client, progress sink). The CLI builds one per invocation.

pub mod apply;
pub mod backup;
pub mod curation;
pub mod gc;
pub mod keys;
pub mod mirror;
pub mod publish;
pub mod snapshot;
pub mod status;
pub mod sync;
mod upstream;
pub mod verify;

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Db;
use crate::fetch::Fetcher;
use crate::progress::Progress;
use crate::store::BlobStore;

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
