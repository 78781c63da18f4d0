//! `status` of `serve`'s caching proxies: what each served from its cache
//! and from upstream, what it refused, and how much it holds.

use std::fmt::Write as _;

use serde::Serialize;

use crate::db::{Db, DbError, ProxyCounts};

/// One proxy, by the name of its `[proxy.NAME]` section.
#[derive(Clone, Debug, Serialize)]
pub struct ProxyStatus {
    /// `NAME`.
    pub proxy: String,
    /// Bytes of the pool files it holds.
    pub cached_pool_bytes: u64,
    /// What it served and refused, summed over `serve` runs.
    #[serde(flatten)]
    pub counts: ProxyCounts,
}

/// Every proxy that served anything.
pub fn gather(db: &Db) -> Result<Vec<ProxyStatus>, DbError> {
    db.proxy_counts()?
        .into_iter()
        .map(|(proxy, counts)| {
            Ok(ProxyStatus {
                cached_pool_bytes: db.proxy_pool_bytes(&proxy)?,
                proxy,
                counts,
            })
        })
        .collect()
}

/// A metric family: name, help, type and the value of each proxy.
type Family = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ProxyStatus) -> u64,
);

/// The Prometheus families of the proxies.
pub fn prometheus(proxies: &[ProxyStatus]) -> String {
    let mut s = String::new();
    if proxies.is_empty() {
        return s;
    }
    let families: [Family; 7] = [
        (
            "debvault_proxy_hits_total",
            "Requests the caching proxy answered from its cache.",
            "counter",
            |p| p.counts.hits,
        ),
        (
            "debvault_proxy_misses_total",
            "Requests the caching proxy answered from upstream.",
            "counter",
            |p| p.counts.misses,
        ),
        (
            "debvault_proxy_bytes_from_cache_total",
            "Bytes the caching proxy served from its cache.",
            "counter",
            |p| p.counts.bytes_from_cache,
        ),
        (
            "debvault_proxy_bytes_from_upstream_total",
            "Bytes the caching proxy fetched from upstream.",
            "counter",
            |p| p.counts.bytes_from_upstream,
        ),
        (
            "debvault_proxy_verification_failures_total",
            "Files the caching proxy refused: signature, size or SHA256 wrong.",
            "counter",
            |p| p.counts.verification_failures,
        ),
        (
            "debvault_proxy_upstream_errors_total",
            "Upstream requests of the caching proxy that failed.",
            "counter",
            |p| p.counts.upstream_errors,
        ),
        (
            "debvault_proxy_cached_pool_bytes",
            "Bytes of the pool files the caching proxy holds.",
            "gauge",
            |p| p.cached_pool_bytes,
        ),
    ];
    for (name, help, kind, value) in families {
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} {kind}");
        for p in proxies {
            let proxy = p.proxy.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(s, "{name}{{proxy=\"{proxy}\"}} {}", value(p));
        }
    }
    s
}
