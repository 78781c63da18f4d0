//! `status` of on-demand mirrors: how much of each is local, and what
//! `serve` fetched through for it (fetched, refused, upstream errors).
//!
//! Unlike the rest of `status` this looks at the blob store (one `stat`
//! per package of a local store, one listing of a bucket), and only for
//! on-demand mirrors.

use std::collections::HashSet;

use serde::Serialize;

use crate::db::{Db, OnDemandCounts};
use crate::digest::Sha256;
use crate::ops::metrics::Family;
use crate::store::BlobStore;

/// One on-demand mirror.
#[derive(Clone, Debug, Serialize)]
pub struct OnDemandStatus {
    /// Mirror name.
    pub mirror: String,
    /// Packages of its current revision.
    pub packages: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Of those, the packages whose file the store holds.
    pub local_packages: u64,
    /// And their bytes.
    pub local_bytes: u64,
    /// What `serve` fetched through for it.
    #[serde(flatten)]
    pub counts: OnDemandCounts,
}

/// Any error gathering it.
#[derive(Debug, thiserror::Error)]
pub enum OnDemandStatusError {
    /// The database.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// The blob store.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl crate::exit::ExitCode for OnDemandStatusError {
    fn exit_code(&self) -> u8 {
        match self {
            OnDemandStatusError::Db(e) => e.exit_code(),
            OnDemandStatusError::Store(e) => e.exit_code(),
        }
    }
}

/// The status of every on-demand mirror, by name.
pub fn gather(db: &Db, store: &BlobStore) -> Result<Vec<OnDemandStatus>, OnDemandStatusError> {
    let counts = db.ondemand_counts()?;
    let mut listed: Option<HashSet<Sha256>> = None;
    let mut out = Vec::new();
    for m in db.mirrors()?.into_iter().filter(|m| m.spec.on_demand) {
        let ids: Vec<_> = match m.state.revision {
            Some(rev) => db
                .revision_set(rev)?
                .components()
                .flat_map(|(_, ids)| ids.iter().copied())
                .collect(),
            None => Vec::new(),
        };
        let mut st = OnDemandStatus {
            mirror: m.name.clone(),
            packages: 0,
            bytes: 0,
            local_packages: 0,
            local_bytes: 0,
            counts: counts.get(&m.id).copied().unwrap_or_default(),
        };
        for r in db.packages(&ids)? {
            if r.architecture == crate::db::SOURCE_ARCH {
                continue;
            }
            st.packages += 1;
            st.bytes += r.size;
            let held = match store {
                BlobStore::Fs(_) => store.contains(&r.sha256)?,
                BlobStore::S3(_) => {
                    if listed.is_none() {
                        listed = Some(store.list()?.into_iter().collect());
                    }
                    listed.as_ref().is_some_and(|l| l.contains(&r.sha256))
                }
            };
            if held {
                st.local_packages += 1;
                st.local_bytes += r.size;
            }
        }
        out.push(st);
    }
    Ok(out)
}

/// The Prometheus families of on-demand mirrors, in the order of [`values`].
const FAMILIES: [Family; 6] = [
    (
        "debvault_ondemand_local_packages",
        "gauge",
        "Packages of the on-demand mirror whose file is held locally.",
    ),
    (
        "debvault_ondemand_local_bytes",
        "gauge",
        "Bytes of the on-demand mirror's package files held locally.",
    ),
    (
        "debvault_ondemand_fetched_total",
        "counter",
        "Package files serve fetched from upstream, verified and kept.",
    ),
    (
        "debvault_ondemand_fetched_bytes_total",
        "counter",
        "Bytes of the package files serve fetched from upstream.",
    ),
    (
        "debvault_ondemand_verification_failures_total",
        "counter",
        "Package files refused: upstream sent other content than its index promised.",
    ),
    (
        "debvault_ondemand_upstream_errors_total",
        "counter",
        "Fetches of package files that failed upstream.",
    ),
];

fn values(m: &OnDemandStatus) -> [u64; 6] {
    let c = &m.counts;
    [
        m.local_packages,
        m.local_bytes,
        c.fetched,
        c.fetched_bytes,
        c.mismatches,
        c.upstream_errors,
    ]
}

/// The on-demand mirrors' metrics.
pub fn prometheus(mirrors: &[OnDemandStatus]) -> String {
    if mirrors.is_empty() {
        return String::new();
    }
    crate::ops::metrics::families(
        "mirror",
        mirrors,
        |m| &m.mirror,
        &FAMILIES,
        |m, i| values(m)[i],
    )
}
