//! `serve`'s `[proxy.NAME]` sections made ready: keyrings read, clients
//! built, names checked against the publications they would hide.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::{ConfigError, ProxyConfig, Settings};
use crate::db::Db;
use crate::fetch::{FetchOptions, Fetcher};
use crate::pgp::Keyring;
use crate::serve::{ProxyOptions, ProxyUpstream};
use crate::store::BlobStore;

/// Retries of a proxied request: one, a client is waiting and a cached
/// copy may answer instead.
const PROXY_RETRIES: u32 = 1;

/// The proxies of `settings`, for a server of the tree `root`.
pub(super) fn options(
    settings: &Settings,
    db: &Arc<Mutex<Db>>,
    store: &BlobStore,
    base: &FetchOptions,
    root: &Path,
) -> super::failure::Result<ProxyOptions> {
    let file = settings.config_file.clone().unwrap_or_default();
    let err = |p: &ProxyConfig, key: &str, detail: String| ConfigError::Proxy {
        path: file.clone(),
        key: format!("proxy.{}{key}", p.name),
        detail,
    };
    let prefixes: Vec<String> = db
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .publications()?
        .into_iter()
        .filter_map(|p| p.prefix.split('/').next().map(str::to_owned))
        .collect();
    let mut upstreams = Vec::new();
    for p in &settings.proxies {
        if prefixes.contains(&p.name) || root.join(&p.name).exists() {
            return Err(err(
                p,
                "",
                format!(
                    "clashes with the publication prefix `{}`: rename the proxy",
                    p.name
                ),
            )
            .into());
        }
        if store.local_path(&crate::digest::Sha256::of(b"")).is_none() {
            return Err(err(
                p,
                "",
                "needs a local blob store (`[storage] blobs` is a bucket)".into(),
            )
            .into());
        }
        let keyring = Keyring::load(std::slice::from_ref(&p.keyring)).map_err(|e| {
            err(
                p,
                ".keyring",
                format!("cannot be read from `{}`: {e}", p.keyring.display()),
            )
        })?;
        let fetcher = Fetcher::new(FetchOptions {
            connect_timeout: Duration::from_secs(p.connect_timeout),
            read_timeout: Duration::from_secs(p.read_timeout),
            retries: PROXY_RETRIES,
            ..base.clone()
        })?;
        upstreams.push(ProxyUpstream {
            name: p.name.clone(),
            upstream: p.upstream.clone(),
            keyring,
            fetcher,
            cache_limit: p.cache_limit,
        });
    }
    Ok(ProxyOptions {
        db: Arc::clone(db),
        store: store.clone(),
        upstreams,
    })
}

/// The proxies' part of `status`.
pub(super) fn status_table(
    out: &mut dyn std::io::Write,
    proxies: &[crate::ops::proxy_status::ProxyStatus],
) -> std::io::Result<()> {
    let human = super::output::human_bytes;
    writeln!(out)?;
    writeln!(
        out,
        "{:<20} {:>8} {:>8} {:>11} {:>14} {:>11} {:>8} {:>9}",
        "PROXY", "HITS", "MISSES", "FROM CACHE", "FROM UPSTREAM", "CACHED", "REFUSED", "UPSTREAM!"
    )?;
    for p in proxies {
        let c = &p.counts;
        writeln!(
            out,
            "{:<20} {:>8} {:>8} {:>11} {:>14} {:>11} {:>8} {:>9}",
            p.proxy,
            c.hits,
            c.misses,
            human(c.bytes_from_cache),
            human(c.bytes_from_upstream),
            human(p.cached_pool_bytes),
            c.verification_failures,
            c.upstream_errors
        )?;
    }
    Ok(())
}
