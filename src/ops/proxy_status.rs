//! `status` of `serve`'s caching proxies: what each served from its cache
//! and from upstream, what it refused, and how much it holds.

use serde::Serialize;

use crate::db::{Db, DbError, ProxyCounts};
use crate::ops::metrics::Family;

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

/// The Prometheus families of the proxies, in the order of [`values`].
const FAMILIES: [Family; 7] = [
    (
        "debvault_proxy_hits_total",
        "counter",
        "Requests answered from the cache.",
    ),
    (
        "debvault_proxy_misses_total",
        "counter",
        "Requests answered from upstream.",
    ),
    (
        "debvault_proxy_bytes_from_cache_total",
        "counter",
        "Bytes served from the cache.",
    ),
    (
        "debvault_proxy_bytes_from_upstream_total",
        "counter",
        "Bytes fetched from upstream.",
    ),
    (
        "debvault_proxy_verification_failures_total",
        "counter",
        "Files refused: bad signature, size or SHA256.",
    ),
    (
        "debvault_proxy_upstream_errors_total",
        "counter",
        "Upstream requests that failed.",
    ),
    (
        "debvault_proxy_cached_pool_bytes",
        "gauge",
        "Bytes of the pool files held.",
    ),
];

fn values(p: &ProxyStatus) -> [u64; 7] {
    let c = &p.counts;
    [
        c.hits,
        c.misses,
        c.bytes_from_cache,
        c.bytes_from_upstream,
        c.verification_failures,
        c.upstream_errors,
        p.cached_pool_bytes,
    ]
}

/// The proxies' metrics.
pub fn prometheus(proxies: &[ProxyStatus]) -> String {
    if proxies.is_empty() {
        return String::new();
    }
    crate::ops::metrics::families(
        "proxy",
        proxies,
        |p| &p.proxy,
        &FAMILIES,
        |p, i| values(p)[i],
    )
}
