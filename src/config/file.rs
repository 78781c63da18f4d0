//! The config file as the operator writes it: one section per concern,
//! unknown keys refused, read with a size cap.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The config file as written by the operator.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfigFile {
    /// Storage locations.
    #[serde(default)]
    pub storage: StorageSection,
    /// Sync tuning.
    #[serde(default)]
    pub sync: SyncSection,
    /// Publish tuning.
    #[serde(default)]
    pub publish: PublishSection,
    /// Retention and garbage collection.
    #[serde(default)]
    pub gc: GcSection,
    /// `debvault serve` limits.
    #[serde(default)]
    pub serve: ServeSection,
    /// The HTTP API's limits (`serve --api`).
    #[serde(default)]
    pub api: super::ApiSection,
    /// `[proxy.NAME]`: upstreams `serve` answers through its cache.
    #[serde(default)]
    pub proxy: std::collections::BTreeMap<String, super::ProxySection>,
}

/// `[serve]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ServeSection {
    /// Seconds a connection may accept no bytes of a response (or send
    /// none of a request head) before it is closed.
    pub idle_timeout: Option<u64>,
    /// Connections served at once; further ones wait to be accepted.
    pub max_connections: Option<u64>,
    /// Answer the HTTP API under `/api/` (as `serve --api`).
    pub api: Option<bool>,
}

/// `[gc]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GcSection {
    /// Days a mirror revision is kept (unless current or snapshotted).
    pub retention_days: Option<u64>,
}

/// `[publish]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PublishSection {
    /// xz preset of `Packages.xz`, 0 (fastest) to 9.
    pub xz_preset: Option<u32>,
}

/// `[storage]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StorageSection {
    /// Blob store location (a directory).
    pub blobs: Option<String>,
    /// Publish endpoint (a directory).
    pub publish: Option<String>,
}

/// `[sync]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SyncSection {
    /// Parallel downloads per sync.
    pub downloads: Option<usize>,
    /// Retries per request after the first attempt.
    pub retries: Option<u32>,
    /// Seconds to wait for a connection.
    pub connect_timeout: Option<u64>,
    /// Seconds without a byte before a transfer counts as stalled.
    pub read_timeout: Option<u64>,
    /// Requests in flight per connection for small pool files over plain
    /// `http` (as apt's `Acquire::http::Pipeline-Depth`); 1 turns it off.
    pub pipeline_depth: Option<u64>,
    /// Largest share (percent) of a mirror's packages one sync may remove.
    pub mass_removal_percent: Option<u32>,
    /// apt_auth.conf(5)-style file with upstream credentials, kept out of
    /// mirror URLs.
    pub auth_file: Option<PathBuf>,
}

/// Reads and parses the config file at `path`.
pub(super) fn load_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = crate::capped::read_to_string(path, crate::capped::CONFIG).map_err(|source| {
        ConfigError::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim().replace('\n', " "),
    })
}
