//! Settings: the config file schema and the one resolver of precedence.
//!
//! Every value comes from, in order: a command-line flag, an environment
//! variable, the config file, a default. [`Settings::resolve`] is the only
//! place that applies this order, and it remembers where each value came from
//! so `debvault config show` can say so. All `DEBVAULT_*` variables are listed
//! in [`ENV_VARS`]. [`parse_duration`] reads the durations that flags take
//! (`7d`, `1d12h`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::exit::{ExitCode, USAGE};

mod api;
mod duration;
mod file;
mod proxy;

pub use api::{ApiSection, ApiSettings};
pub use duration::{MAX_DURATION_SECS, parse_duration};
use file::load_file;
pub use file::{ConfigFile, GcSection, PublishSection, ServeSection, StorageSection, SyncSection};
pub use proxy::{ProxyConfig, ProxySection, parse_size};

/// Every environment variable debvault reads, with what it sets.
pub const ENV_VARS: &[(&str, &str)] = &[
    (
        "DEBVAULT_ROOT",
        "data root (database, blobs, publications); default `$XDG_DATA_HOME/debvault`",
    ),
    (
        "DEBVAULT_CONFIG",
        "config file; default `<root>/config.toml` when it exists",
    ),
    (
        "DEBVAULT_DOWNLOADS",
        "parallel downloads per sync (`[sync] downloads`)",
    ),
    (
        "DEBVAULT_KEY_PASSPHRASE",
        "passphrase of encrypted signing keys (never prompted for)",
    ),
    (
        "DEBVAULT_KEY_PASSPHRASE_FILE",
        "file holding that passphrase",
    ),
    (
        "DEBVAULT_AUTH_FILE",
        "apt-style auth file with upstream credentials (`[sync] auth-file`)",
    ),
    (
        "DEBVAULT_ACTOR",
        "who the audit trail names (default `user@host`)",
    ),
    ("NO_COLOR", "disables colours in diagnostics"),
];

/// Errors of the configuration, naming the file or variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or not our schema.
    #[error("config file `{path}` is invalid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's description, with line and column.
        message: String,
    },
    /// An environment variable has a bad value.
    #[error("environment variable `{name}` has an invalid value `{value}`: {expected}")]
    Env {
        /// Variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// No data root could be determined.
    #[error("no data root: set `--root`, `DEBVAULT_ROOT`, `XDG_DATA_HOME` or `HOME`")]
    NoRoot,
    /// A storage location is neither an absolute directory nor a valid
    /// `s3://` URL.
    #[error("`{key}` = `{value}` is not a storage location: {reason} (from {source_desc})")]
    Location {
        /// Setting.
        key: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
        /// Where it came from.
        source_desc: String,
    },
    /// A `[proxy.NAME]` section is incomplete or wrong.
    #[error("config file `{}`: `{key}` {detail}", path.display())]
    Proxy {
        /// The file.
        path: PathBuf,
        /// The key (`proxy.NAME.upstream`).
        key: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A value is out of range.
    #[error("`{key}` must be {expected} (from {source_desc})")]
    Range {
        /// Setting.
        key: &'static str,
        /// Expected range.
        expected: &'static str,
        /// Where it came from.
        source_desc: String,
    },
}

impl ExitCode for ConfigError {
    fn exit_code(&self) -> u8 {
        USAGE
    }
}

/// Where a resolved value came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum Origin {
    /// A command-line flag.
    Flag(String),
    /// An environment variable.
    Env(String),
    /// The config file.
    File(PathBuf),
    /// Built in.
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag(n) => write!(f, "flag `{n}`"),
            Origin::Env(n) => write!(f, "env `{n}`"),
            Origin::File(p) => write!(f, "file `{}`", p.display()),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// What the command line contributed.
#[derive(Clone, Debug, Default)]
pub struct FlagValues {
    /// `--root`.
    pub root: Option<PathBuf>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--downloads`.
    pub downloads: Option<usize>,
    /// `serve --idle-timeout`, seconds.
    pub idle_timeout: Option<u64>,
    /// `serve --max-connections`.
    pub max_connections: Option<u64>,
    /// `serve --api`.
    pub api: bool,
}

/// The resolved settings.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    /// Data root.
    pub root: PathBuf,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Blob store location.
    pub blobs: String,
    /// Publish endpoint.
    pub publish: String,
    /// Parallel downloads.
    pub downloads: usize,
    /// Retries.
    pub retries: u32,
    /// Connect timeout, seconds.
    pub connect_timeout: u64,
    /// Read (stall) timeout, seconds.
    pub read_timeout: u64,
    /// Pipelined requests per connection (1: no pipelining).
    pub pipeline_depth: usize,
    /// xz preset of published `Packages.xz`.
    pub xz_preset: u32,
    /// Largest share (percent) of a mirror one sync may remove without `--allow-mass-removal`.
    pub mass_removal_percent: u32,
    /// Days mirror revisions are kept.
    pub retention_days: u64,
    /// Upstream credentials file, if any.
    pub auth_file: Option<PathBuf>,
    /// `serve`: seconds a connection may make no progress before it is closed.
    pub serve_idle_timeout: u64,
    /// `serve`: connections served at once.
    pub serve_max_connections: u64,
    /// The HTTP API (`serve --api`, `[api]`).
    pub api: ApiSettings,
    /// `[proxy.NAME]` sections, checked.
    pub proxies: Vec<ProxyConfig>,
    /// Where each value came from, by setting name.
    #[serde(skip)]
    pub origins: BTreeMap<&'static str, Origin>,
}

/// Where each setting's value came from, by key.
type Origins = BTreeMap<&'static str, Origin>;

/// The data root: `--root`, `DEBVAULT_ROOT`, else under the XDG data home.
fn resolve_root(
    flags: &FlagValues,
    nonempty: &dyn Fn(&str) -> Option<String>,
    origins: &mut Origins,
) -> Result<PathBuf, ConfigError> {
    let (root, o) = if let Some(r) = &flags.root {
        (r.clone(), Origin::Flag("--root".into()))
    } else if let Some(r) = nonempty("DEBVAULT_ROOT") {
        (PathBuf::from(r), Origin::Env("DEBVAULT_ROOT".into()))
    } else if let Some(x) = nonempty("XDG_DATA_HOME") {
        (Path::new(&x).join("debvault"), Origin::Default)
    } else if let Some(h) = nonempty("HOME") {
        (Path::new(&h).join(".local/share/debvault"), Origin::Default)
    } else {
        return Err(ConfigError::NoRoot);
    };
    origins.insert("root", o);
    // A relative `--root` means the directory it names now; later commands
    // (and `config show`) must not depend on where they run.
    std::path::absolute(&root).map_err(|_| ConfigError::NoRoot)
}

/// The blob store and publish endpoint: the file's, else under the root;
/// each checked.
fn resolve_storage(
    storage: &StorageSection,
    root: &Path,
    file_origin: &dyn Fn() -> Origin,
    origins: &mut Origins,
) -> Result<(String, String), ConfigError> {
    let mut pick = |key: &'static str, from_file: &Option<String>, default: &str| {
        let origin = if from_file.is_some() {
            file_origin()
        } else {
            Origin::Default
        };
        origins.insert(key, origin);
        from_file
            .clone()
            .unwrap_or_else(|| root.join(default).display().to_string())
    };
    let blobs = pick("storage.blobs", &storage.blobs, "blobs");
    let publish = pick("storage.publish", &storage.publish, "public");
    check_location(origins, "storage.blobs", &blobs)?;
    check_location(origins, "storage.publish", &publish)?;
    Ok((blobs, publish))
}

/// The upstream credentials file: `DEBVAULT_AUTH_FILE`, else the file's
/// `[sync] auth-file`, else none.
fn resolve_auth_file(
    nonempty: &dyn Fn(&str) -> Option<String>,
    sync: &SyncSection,
    file_origin: &dyn Fn() -> Origin,
    origins: &mut Origins,
) -> Option<PathBuf> {
    if let Some(p) = nonempty("DEBVAULT_AUTH_FILE") {
        origins.insert("sync.auth-file", Origin::Env("DEBVAULT_AUTH_FILE".into()));
        return Some(PathBuf::from(p));
    }
    let o = sync
        .auth_file
        .as_ref()
        .map_or(Origin::Default, |_| file_origin());
    origins.insert("sync.auth-file", o);
    sync.auth_file.clone()
}

/// Checks a storage location at load: an absolute directory or a valid
/// `s3://BUCKET[/PREFIX]`. Anything else — empty, relative, `s3:/b`,
/// another scheme — would later be resolved against the current directory.
fn check_location(origins: &Origins, key: &'static str, value: &str) -> Result<(), ConfigError> {
    let fail = |reason: String| ConfigError::Location {
        key,
        value: value.to_owned(),
        reason,
        source_desc: origins
            .get(key)
            .map(ToString::to_string)
            .unwrap_or_default(),
    };
    if let Some(parsed) = crate::store::s3::S3Url::parse(value) {
        return parsed.map(|_| ()).map_err(|e| fail(e.to_string()));
    }
    if value.is_empty() {
        return Err(fail("it is empty".into()));
    }
    let scheme = value.split_once(':').map(|(s, _)| s);
    if scheme.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())) {
        return Err(fail(
            "only a directory or `s3://BUCKET[/PREFIX]` is supported".into(),
        ));
    }
    if !Path::new(value).is_absolute() {
        return Err(fail(
            "a directory must be an absolute path, not one relative to where debvault runs".into(),
        ));
    }
    Ok(())
}

/// The config file: `--config`, `DEBVAULT_CONFIG`, else the data root's
/// `config.toml` if there is one.
fn resolve_config_file(
    flags: &FlagValues,
    nonempty: &dyn Fn(&str) -> Option<String>,
    root: &Path,
    origins: &mut Origins,
) -> Option<PathBuf> {
    let (config_file, o) = if let Some(c) = &flags.config {
        (Some(c.clone()), Origin::Flag("--config".into()))
    } else if let Some(c) = nonempty("DEBVAULT_CONFIG") {
        (
            Some(PathBuf::from(c)),
            Origin::Env("DEBVAULT_CONFIG".into()),
        )
    } else {
        let p = root.join("config.toml");
        (p.exists().then_some(p), Origin::Default)
    };
    origins.insert("config", o);
    config_file
}

/// Parallel downloads: `--downloads`, `DEBVAULT_DOWNLOADS`, the file, else 8.
fn resolve_downloads(
    flags: &FlagValues,
    nonempty: &dyn Fn(&str) -> Option<String>,
    from_file: Option<usize>,
    file_origin: Origin,
    origins: &mut Origins,
) -> Result<usize, ConfigError> {
    let key = "sync.downloads";
    Ok(if let Some(d) = flags.downloads {
        origins.insert(key, Origin::Flag("--downloads".into()));
        d
    } else if let Some(v) = nonempty("DEBVAULT_DOWNLOADS") {
        origins.insert(key, Origin::Env("DEBVAULT_DOWNLOADS".into()));
        v.parse().map_err(|_| ConfigError::Env {
            name: "DEBVAULT_DOWNLOADS",
            value: v.clone(),
            expected: "a positive integer",
        })?
    } else if let Some(d) = from_file {
        origins.insert(key, file_origin);
        d
    } else {
        origins.insert(key, Origin::Default);
        8
    })
}

/// `serve`'s limits: `--idle-timeout`/`--max-connections`, the file, else
/// the server's defaults; each within its range.
fn resolve_serve(
    flags: &FlagValues,
    file: &ServeSection,
    file_origin: &dyn Fn() -> Origin,
    origins: &mut Origins,
) -> Result<(u64, u64), ConfigError> {
    let mut pick = |key: &'static str,
                    flag: (&str, Option<u64>),
                    from_file: Option<u64>,
                    default: u64,
                    (range, expected): (std::ops::RangeInclusive<u64>, &'static str)|
     -> Result<u64, ConfigError> {
        let (v, origin) = match (flag.1, from_file) {
            (Some(v), _) => (v, Origin::Flag(flag.0.to_owned())),
            (None, Some(v)) => (v, file_origin()),
            (None, None) => (default, Origin::Default),
        };
        origins.insert(key, origin);
        in_range(origins, key, v, range, expected)?;
        Ok(v)
    };
    let idle_timeout = pick(
        "serve.idle-timeout",
        ("--idle-timeout", flags.idle_timeout),
        file.idle_timeout,
        crate::serve::DEFAULT_IDLE_TIMEOUT.as_secs(),
        (1..=86_400, "between 1 second and 1 day"),
    )?;
    let max_connections = pick(
        "serve.max-connections",
        ("--max-connections", flags.max_connections),
        file.max_connections,
        crate::serve::DEFAULT_MAX_CONNECTIONS as u64,
        (1..=1_000_000, "between 1 and 1000000"),
    )?;
    Ok((idle_timeout, max_connections))
}

/// `v` if `range` holds it, else the error naming `key` and where its value
/// came from.
fn in_range(
    origins: &Origins,
    key: &'static str,
    v: u64,
    range: std::ops::RangeInclusive<u64>,
    expected: &'static str,
) -> Result<(), ConfigError> {
    if range.contains(&v) {
        return Ok(());
    }
    Err(ConfigError::Range {
        key,
        expected,
        source_desc: origins
            .get(key)
            .map(ToString::to_string)
            .unwrap_or_default(),
    })
}

impl Settings {
    /// Resolves flags > env > file > defaults. `env` is injectable for tests.
    pub fn resolve(
        flags: &FlagValues,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let mut origins = BTreeMap::new();
        let nonempty = |name: &str| env(name).filter(|v| !v.is_empty());
        let root = resolve_root(flags, &nonempty, &mut origins)?;
        let config_file = resolve_config_file(flags, &nonempty, &root, &mut origins);
        let file = match &config_file {
            Some(p) => load_file(p)?,
            None => ConfigFile::default(),
        };
        let file_origin = || Origin::File(config_file.clone().unwrap_or_default());

        let (blobs, publish) = resolve_storage(&file.storage, &root, &file_origin, &mut origins)?;

        let downloads = resolve_downloads(
            flags,
            &nonempty,
            file.sync.downloads,
            file_origin(),
            &mut origins,
        )?;
        in_range(
            &origins,
            "sync.downloads",
            downloads as u64,
            1..=256,
            "between 1 and 256",
        )?;
        // A number from the file, else its default, within its range.
        let mut num = |key: &'static str,
                       v: Option<u64>,
                       default: u64,
                       (range, expected): (std::ops::RangeInclusive<u64>, &'static str)|
         -> Result<u64, ConfigError> {
            let origin = if v.is_some() {
                file_origin()
            } else {
                Origin::Default
            };
            origins.insert(key, origin);
            let v = v.unwrap_or(default);
            in_range(&origins, key, v, range, expected)?;
            Ok(v)
        };
        // Bounds that keep every later computation (backoff, deadlines,
        // date arithmetic) far from overflow, yet wide beyond any real use.
        let seconds = || (1..=86_400, "between 1 second and 1 day (86400)");
        let sync = &file.sync;
        let retries = num(
            "sync.retries",
            sync.retries.map(u64::from),
            4,
            (0..=100, "between 0 and 100"),
        )? as u32;
        let connect_timeout = num("sync.connect-timeout", sync.connect_timeout, 10, seconds())?;
        let read_timeout = num("sync.read-timeout", sync.read_timeout, 30, seconds())?;
        let xz_preset = num(
            "publish.xz-preset",
            file.publish.xz_preset.map(u64::from),
            u64::from(crate::tree::DEFAULT_XZ_PRESET),
            (0..=9, "between 0 and 9"),
        )?;
        let pipeline_depth = num(
            "sync.pipeline-depth",
            sync.pipeline_depth,
            crate::fetch::DEFAULT_PIPELINE_DEPTH as u64,
            (1..=100, "between 1 and 100"),
        )?;
        let mass_removal_percent = num(
            "sync.mass-removal-percent",
            sync.mass_removal_percent.map(u64::from),
            20,
            (0..=100, "between 0 and 100"),
        )?;
        let retention_days = num(
            "gc.retention-days",
            file.gc.retention_days,
            730,
            (0..=36_500, "between 0 and 36500 (100 years)"),
        )?;
        let auth_file = resolve_auth_file(&nonempty, &file.sync, &file_origin, &mut origins);
        let (serve_idle_timeout, serve_max_connections) =
            resolve_serve(flags, &file.serve, &file_origin, &mut origins)?;
        let api = api::resolve_api(flags, file.serve.api, &file.api, &file_origin, &mut origins)?;
        let proxies = proxy::resolve(&file.proxy, config_file.as_deref())?;
        Ok(Settings {
            proxies,
            auth_file,
            xz_preset: xz_preset as u32,
            mass_removal_percent: mass_removal_percent as u32,
            retention_days,
            root,
            config_file,
            blobs,
            publish,
            downloads,
            retries,
            connect_timeout,
            read_timeout,
            pipeline_depth: pipeline_depth as usize,
            serve_idle_timeout,
            serve_max_connections,
            api,
            origins,
        })
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.root.join("debvault.db")
    }

    /// The lock directory.
    pub fn lock_dir(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// `(key, value, origin)` rows for `config show`.
    pub fn rows(&self) -> Vec<(&'static str, String, Origin)> {
        let origin = |k: &str| self.origins.get(k).cloned().unwrap_or(Origin::Default);
        let api = api::api_rows(&self.api, &origin);
        let mut rows = vec![
            ("root", self.root.display().to_string(), origin("root")),
            (
                "config",
                self.config_file
                    .as_ref()
                    .map_or_else(|| "(none)".to_owned(), |p| p.display().to_string()),
                origin("config"),
            ),
            ("storage.blobs", self.blobs.clone(), origin("storage.blobs")),
            (
                "storage.publish",
                self.publish.clone(),
                origin("storage.publish"),
            ),
            (
                "sync.downloads",
                self.downloads.to_string(),
                origin("sync.downloads"),
            ),
            (
                "sync.retries",
                self.retries.to_string(),
                origin("sync.retries"),
            ),
            (
                "sync.connect-timeout",
                self.connect_timeout.to_string(),
                origin("sync.connect-timeout"),
            ),
            (
                "sync.read-timeout",
                self.read_timeout.to_string(),
                origin("sync.read-timeout"),
            ),
            (
                "sync.pipeline-depth",
                self.pipeline_depth.to_string(),
                origin("sync.pipeline-depth"),
            ),
            (
                "sync.mass-removal-percent",
                self.mass_removal_percent.to_string(),
                origin("sync.mass-removal-percent"),
            ),
            (
                "sync.auth-file",
                self.auth_file
                    .as_ref()
                    .map_or_else(|| "(none)".to_owned(), |p| p.display().to_string()),
                origin("sync.auth-file"),
            ),
            (
                "publish.xz-preset",
                self.xz_preset.to_string(),
                origin("publish.xz-preset"),
            ),
            (
                "gc.retention-days",
                self.retention_days.to_string(),
                origin("gc.retention-days"),
            ),
            (
                "serve.idle-timeout",
                self.serve_idle_timeout.to_string(),
                origin("serve.idle-timeout"),
            ),
            (
                "serve.max-connections",
                self.serve_max_connections.to_string(),
                origin("serve.max-connections"),
            ),
        ];
        rows.extend(api);
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn precedence() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, "[sync]\ndownloads = 3\nretries = 1\n").expect("write");
        let flags = FlagValues {
            config: Some(cfg.clone()),
            root: Some(dir.path().into()),
            ..Default::default()
        };
        let s = Settings::resolve(&flags, &env_of(&[])).expect("resolve");
        assert_eq!(s.downloads, 3);
        assert_eq!(s.origins["sync.downloads"], Origin::File(cfg.clone()));
        let s =
            Settings::resolve(&flags, &env_of(&[("DEBVAULT_DOWNLOADS", "5")])).expect("resolve");
        assert_eq!(s.downloads, 5);
        let flags2 = FlagValues {
            downloads: Some(7),
            ..flags.clone()
        };
        let s =
            Settings::resolve(&flags2, &env_of(&[("DEBVAULT_DOWNLOADS", "5")])).expect("resolve");
        assert_eq!(s.downloads, 7);
        assert_eq!(s.retries, 1);
        assert_eq!(s.blobs, dir.path().join("blobs").display().to_string());
    }

    #[test]
    fn half_written_file_names_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, "[sync]\ndownloads = \n").expect("write");
        let flags = FlagValues {
            config: Some(cfg),
            root: Some(dir.path().into()),
            ..Default::default()
        };
        let err = Settings::resolve(&flags, &env_of(&[]))
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("c.toml") && err.contains("line 2"), "{err}");
        let cfg2 = dir.path().join("d.toml");
        std::fs::write(&cfg2, "[sync]\nbogus = 1\n").expect("write");
        let flags = FlagValues {
            config: Some(cfg2),
            root: Some(dir.path().into()),
            ..Default::default()
        };
        let err = Settings::resolve(&flags, &env_of(&[]))
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("7d"), Some(7 * 86400));
        assert_eq!(parse_duration("1d12h"), Some(36 * 3600));
        assert_eq!(parse_duration("2w"), Some(14 * 86400));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("3d4"), None);
        assert_eq!(parse_duration("36600d"), Some(MAX_DURATION_SECS));
        assert_eq!(parse_duration("36601d"), None, "over 100 years");
        assert_eq!(parse_duration("100000000d"), None);
    }
}
