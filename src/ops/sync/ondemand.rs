//! On-demand mirrors in sync: package files left upstream, and `mirror
//! fill` (`mirror sync --fetch-all`) to fetch them after all.
//!
//! A sync of an on-demand mirror verifies the Release and the indices and
//! records the new revision exactly as any sync does, but downloads no
//! `.deb`: it records where each one it left upstream can be fetched
//! (`Db::record_ondemand_sources`, by SHA256), which publish and `serve`
//! use. Source package files are still downloaded: `serve` fetches only
//! pool files of binary packages, and they are few.
//!
//! [`fill_mirror`] downloads what the current revision lacks the same way
//! a sync downloads (verified, into the store, one flush), under the same
//! locks.

use std::time::Instant;

use serde::Serialize;
use url::Url;

use super::execute::{Download, download_all};
use super::plan::PlannedDownload;
use super::{SyncError, step};
use crate::model::Mirror;
use crate::ops::Context;

/// Splits a plan's downloads into those to make now and, for an on-demand
/// mirror, the package files left upstream.
pub(super) fn leave_upstream(
    mirror: &Mirror,
    downloads: Vec<PlannedDownload>,
) -> (Vec<PlannedDownload>, Vec<PlannedDownload>) {
    if !mirror.spec.on_demand {
        return (downloads, Vec::new());
    }
    downloads.into_iter().partition(|d| d.file.is_some())
}

/// For `skip_serializing_if`.
pub(super) fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a fill did.
#[derive(Debug, Serialize)]
pub struct FillReport {
    /// Mirror name.
    pub mirror: String,
    /// Packages of the current revision.
    pub packages: u64,
    /// Of those, already in the store before the fill.
    pub already_local: u64,
    /// Files downloaded.
    pub downloaded_files: u64,
    /// Bytes downloaded.
    pub downloaded_bytes: u64,
    /// Wall time.
    pub seconds: f64,
}

/// Downloads every package file of `name`'s current revision that the
/// store lacks, verified against the recorded size and SHA256, with
/// `downloads` at once.
pub async fn fill_mirror(
    ctx: &mut Context,
    name: &str,
    downloads: usize,
) -> Result<FillReport, SyncError> {
    let started = Instant::now();
    // As a sync: `gc` must not collect blobs stored but not yet referenced.
    let (_locks, mirror) = super::lock_and_load(ctx, name)?;
    let ids: Vec<_> = match mirror.state.revision {
        Some(rev) => ctx
            .db
            .revision_set(rev)?
            .components()
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect(),
        None => Vec::new(),
    };
    // Source packages' files were downloaded by the sync.
    let records: Vec<_> = ctx
        .db
        .packages(&ids)?
        .into_iter()
        .filter(|r| r.architecture != crate::db::SOURCE_ARCH)
        .collect();
    let mut missing: Vec<Download> = Vec::new();
    let mut already_local = 0;
    let mut seen = std::collections::HashSet::new();
    for r in &records {
        if ctx.store.contains(&r.sha256)? {
            already_local += 1;
        } else if seen.insert(r.sha256) {
            missing.push((r.sha256, r.size, r.filename.clone()));
        }
    }
    let packages = records.len() as u64;
    step(
        ctx,
        name,
        format!("fetching {} package files not held yet", missing.len()),
    );
    let base = Url::parse(&mirror.spec.base_url())
        .map(|u| ctx.fetcher.authorize(u))
        .map_err(|_| SyncError::BadUrl {
            mirror: name.to_owned(),
            url: mirror.spec.url.to_string(),
        })?;
    let flushing = ctx.store.flush_behind();
    let (files, bytes) = download_all(ctx, name, &base, missing, downloads.max(1), None).await?;
    drop(flushing);
    ctx.store.sync()?;
    Ok(FillReport {
        mirror: name.to_owned(),
        packages,
        already_local,
        downloaded_files: files,
        downloaded_bytes: bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}
