//! Seeding file lists from upstream's `Contents-<arch>` after a sync.
//!
//! A `Contents` index listed in the same verified Release as the `Packages`
//! index names, for each path, the packages of that very Release that
//! install it: a package's entry is exact for the version mirrored. When
//! fetching it costs less than reading the .debs whose lists are missing
//! (an unfiltered mirror), it is fetched through the same verified-index
//! path as `Packages` (size and SHA256 from the Release, by-hash, the index
//! cache), and the list of every mirrored .deb not yet known is recorded.
//! A filtered mirror of a few packages skips it. Seeding only saves work,
//! so trouble is a warning: publishing reads the .debs instead.

use std::collections::HashMap;
use std::io::BufRead as _;

use url::Url;

use super::release::{IndexBytes, IndexRef, best_index, obtain};
use super::{SyncError, warn};
use crate::db::ListOrigin;
use crate::debian::contents::parse_line;
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::fetch::{self, Compression};
use crate::model::Mirror;
use crate::ops::Context;

/// Largest decompressed `Contents` read (Debian's largest is ~1 GB).
const MAX_CONTENTS_BYTES: u64 = 4 << 30;

/// The `Contents` of `component`/`arch` the Release lists, at its best
/// compression with a SHA256.
fn contents_ref(release: &Release, component: &str, arch: &str) -> Option<IndexRef> {
    let stem = format!("{component}/Contents-{arch}");
    // Debian ships Contents gzipped only; gzip also reads fastest.
    let order = [
        (".gz", Compression::Gzip),
        (".xz", Compression::Xz),
        ("", Compression::None),
    ];
    best_index(release, component, &stem, &order)
}

/// Seeds the file lists of the mirror's current revision from upstream's
/// Contents where that is worth it; warnings for what fails.
pub(super) async fn seed(ctx: &mut Context, mirror: &Mirror, dists: &Url, release: &Release) {
    if let Err(e) = seed_inner(ctx, mirror, dists, release).await {
        warn(
            ctx,
            &mirror.name,
            format!(
                "file lists not seeded from upstream Contents ({e}); publishing reads the .debs"
            ),
        );
    }
}

async fn seed_inner(
    ctx: &mut Context,
    mirror: &Mirror,
    dists: &Url,
    release: &Release,
) -> Result<(), SyncError> {
    let Some(current) = ctx.db.mirror(&mirror.name)? else {
        return Ok(());
    };
    let Some(rev) = current.state.revision else {
        return Ok(());
    };
    let entries = ctx.db.revision_entries(rev)?;
    let shas: Vec<Sha256> = entries.iter().map(|e| e.sha256).collect();
    let known: std::collections::HashSet<Sha256> =
        ctx.db.deb_file_lists_known(&shas)?.into_iter().collect();
    let mut components: Vec<&str> = entries.iter().map(|e| e.component.as_str()).collect();
    components.sort_unstable();
    components.dedup();
    let mut seeded = 0usize;
    for component in components {
        for arch in &mirror.spec.architectures {
            // Missing lists this file could give: name → SHA256.
            let mut wanted: HashMap<&str, Sha256> = HashMap::new();
            let mut missing_bytes = 0u64;
            for e in &entries {
                let arch_ok = e.key.architecture == *arch || e.key.architecture == "all";
                if e.component == component && arch_ok && !known.contains(&e.sha256) {
                    wanted.insert(&e.key.name, e.sha256);
                    missing_bytes += e.size;
                }
            }
            let Some(index) = contents_ref(release, component, arch) else {
                continue;
            };
            if wanted.is_empty() || index.size >= missing_bytes {
                continue;
            }
            let staged = ctx.store.staging_path(None)?;
            let mut bytes = IndexBytes::default();
            let by_hash = release.acquire_by_hash;
            let got = obtain(ctx, mirror, dists, by_hash, &index, &staged, &mut bytes).await;
            let lists = got.and_then(|()| {
                read_lists(&staged, index.compression, &wanted).map_err(|detail| {
                    SyncError::BadIndex {
                        mirror: mirror.name.clone(),
                        index: index.path.clone(),
                        detail,
                    }
                })
            });
            let _ = std::fs::remove_file(&staged);
            let lists = lists?;
            seeded += lists.len();
            ctx.db.record_deb_file_lists(&lists, ListOrigin::Contents)?;
        }
    }
    if seeded > 0 {
        super::step(
            ctx,
            &mirror.name,
            format!("file lists of {seeded} packages seeded from upstream Contents"),
        );
    }
    Ok(())
}

/// The sorted file list of each wanted package named in the Contents file.
fn read_lists(
    path: &std::path::Path,
    compression: Compression,
    wanted: &HashMap<&str, Sha256>,
) -> Result<Vec<(Sha256, Vec<String>)>, String> {
    let reader = fetch::open_decompressed(path, compression, MAX_CONTENTS_BYTES)
        .map_err(|e| e.to_string())?;
    let mut lists: HashMap<Sha256, Vec<String>> = HashMap::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        let Some(parsed) = parse_line(&line, i + 1).map_err(|e| e.to_string())? else {
            continue;
        };
        for name in parsed.packages() {
            if let Some(sha) = wanted.get(name) {
                lists.entry(*sha).or_default().push(parsed.path.to_owned());
            }
        }
    }
    Ok(lists
        .into_iter()
        .map(|(sha, mut files)| {
            files.sort_unstable();
            files.dedup();
            (sha, files)
        })
        .collect())
}
