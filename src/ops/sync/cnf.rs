//! command-not-found data: Ubuntu's `<component>/cnf/Commands-<arch>`.
//!
//! Mirrored whenever the verified Release lists it (Debian's does not):
//! [`pending`] picks, for each component and architecture, the file at the
//! best compression we read with a SHA256; [`fetch`] gets it like any index
//! (index cache, by hash, size and SHA256 checked while streaming), streams
//! its entries ([`CommandsReader`]) and keeps the stanza of each selected
//! package of that architecture or `all` (an `all` package from the first
//! architecture's file). The caller stores them before the commit: rows
//! are keyed by the package's .deb, so an early insert is harmless.

use std::collections::{BTreeSet, HashSet};

use url::Url;

use super::appstream::Wanted;
use super::execute::Record;
use super::release::{IndexBytes, IndexRef, SMALLEST_FIRST, best_index, obtain};
use super::{SyncError, step};
use crate::db::Db;
use crate::debian::CommandsReader;
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::fetch;
use crate::model::Mirror;
use crate::ops::Context;
use crate::ops::upstream::UpstreamPackage;

/// Largest decompressed Commands file accepted (Ubuntu's universe for
/// amd64 is about 5 MB).
const MAX_COMMANDS_BYTES: u64 = 256 << 20;

/// One Commands file to fetch.
pub(super) struct CommandsRef {
    /// Its architecture.
    pub architecture: String,
    /// Where it is and what the Release promises.
    pub index: IndexRef,
}

/// The Commands files a sync reads.
#[derive(Default)]
pub(super) struct Pending {
    /// The mirror's `dists/SUITE/` URL.
    pub dists: Option<Url>,
    /// Whether the Release offers by-hash.
    pub by_hash: bool,
    /// The files, by component then architecture.
    pub files: Vec<CommandsRef>,
}

impl Pending {
    /// Every file, for the record of index digests.
    pub fn files(&self) -> impl Iterator<Item = &IndexRef> {
        self.files.iter().map(|f| &f.index)
    }
}

/// The Commands files the Release lists for the components of `indices`
/// and the mirror's architectures.
pub(super) fn pending(
    mirror: &Mirror,
    release: &Release,
    dists: &Url,
    indices: &[IndexRef],
) -> Pending {
    let components: BTreeSet<&str> = indices.iter().map(|i| i.component.as_str()).collect();
    let mut files = Vec::new();
    for component in components {
        for arch in mirror.spec.architectures.iter().filter(|a| *a != "source") {
            let stem = format!("{component}/cnf/Commands-{arch}");
            if let Some(index) = best_index(release, component, &stem, &SMALLEST_FIRST) {
                files.push(CommandsRef {
                    architecture: arch.clone(),
                    index,
                });
            }
        }
    }
    Pending {
        dists: (!files.is_empty()).then(|| dists.clone()),
        by_hash: release.acquire_by_hash,
        files,
    }
}

/// The stanzas a sync keeps.
#[derive(Default)]
pub(super) struct Kept {
    /// Per selected package that has one, its stanza (ending in a line
    /// break).
    pub stanzas: Vec<(Sha256, String)>,
}

impl Kept {
    /// Stores the stanzas (before the sync's commit: rows are keyed by the
    /// packages' .debs, so an early insert is harmless).
    pub fn store(&self, db: &mut Db) -> Result<(), SyncError> {
        if !self.stanzas.is_empty() {
            db.put_commands(&self.stanzas)?;
        }
        Ok(())
    }
}

/// Fetches the `pending` files and keeps the stanzas of the selected
/// packages (`selected`: the packages, the selection's indices into them
/// and the component names their `component` indexes); their bytes count
/// into `record`'s.
pub(super) async fn fetch(
    ctx: &Context,
    mirror: &Mirror,
    pending: &Pending,
    (packages, selected, components): (&[UpstreamPackage], &[usize], &[String]),
    record: &mut Record,
) -> Result<Kept, SyncError> {
    let Some(dists) = &pending.dists else {
        return Ok(Kept::default());
    };
    let wanted = super::appstream::wanted(packages, selected, components);
    let mut bytes = IndexBytes {
        network: record.index_bytes,
        cached: record.index_cached_bytes,
    };
    let got = fetch_files(ctx, mirror, (dists, pending), &wanted, &mut bytes).await;
    (record.index_bytes, record.index_cached_bytes) = (bytes.network, bytes.cached);
    let kept = got?;
    let note = format!(
        "keeping the command-not-found data of {} packages",
        kept.stanzas.len()
    );
    step(ctx, &mirror.name, note);
    Ok(kept)
}

async fn fetch_files(
    ctx: &Context,
    mirror: &Mirror,
    (dists, pending): (&Url, &Pending),
    wanted: &Wanted<'_>,
    bytes: &mut IndexBytes,
) -> Result<Kept, SyncError> {
    let mut kept = Kept::default();
    if wanted.is_empty() {
        return Ok(kept);
    }
    let mut claimed: HashSet<Sha256> = HashSet::new();
    for file in &pending.files {
        let staged = ctx.store.staging_path(None)?;
        let got = obtain(
            ctx,
            mirror,
            dists,
            pending.by_hash,
            &file.index,
            &staged,
            bytes,
        )
        .await
        .and_then(|()| read_file(mirror, file, &staged, wanted));
        let _ = std::fs::remove_file(&staged);
        for (sha, stanza) in got? {
            if claimed.insert(sha) {
                kept.stanzas.push((sha, stanza));
            }
        }
    }
    Ok(kept)
}

/// The stanzas of the fetched file at `staged` for `wanted` packages of
/// the file's architecture or `all`, in file order.
fn read_file(
    mirror: &Mirror,
    file: &CommandsRef,
    staged: &std::path::Path,
    wanted: &Wanted<'_>,
) -> Result<Vec<(Sha256, String)>, SyncError> {
    let bad = |detail: String| SyncError::BadIndex {
        mirror: mirror.name.clone(),
        index: file.index.path.clone(),
        detail,
    };
    let reader = fetch::open_decompressed(staged, file.index.compression, MAX_COMMANDS_BYTES)
        .map_err(|e| bad(e.to_string()))?;
    let component = file.index.component.as_str();
    let mut out = Vec::new();
    for entry in CommandsReader::new(reader) {
        let entry = entry.map_err(|e| bad(e.to_string()))?;
        let Some(found) = wanted.get(&(component, entry.name.as_str())) else {
            continue;
        };
        let text = entry.to_stanza_text();
        for &(arch, sha) in found {
            if arch == file.architecture || arch == "all" {
                out.push((sha, text.clone()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirror(architectures: &[&str]) -> Mirror {
        let spec = serde_json::json!({
            "url": "http://h/ubuntu", "suite": "noble",
            "architectures": architectures,
        });
        Mirror {
            id: crate::model::MirrorId(1),
            name: "m".into(),
            spec: serde_json::from_value(spec).expect("spec"),
            created_at: chrono::Utc::now(),
            state: crate::model::MirrorState::default(),
        }
    }

    fn index(component: &str) -> IndexRef {
        IndexRef {
            component: component.into(),
            path: format!("{component}/binary-amd64/Packages"),
            compression: fetch::Compression::None,
            size: 0,
            sha256: Sha256::of(b""),
        }
    }

    #[test]
    fn picks_the_listed_files_of_the_mirrors_components_and_architectures() {
        let sha = Sha256::of(b"x");
        let release = Release::parse(&format!(
            "Suite: noble\nComponents: main universe\nSHA256:\n {sha} 10 main/cnf/Commands-amd64\n {sha} 4 main/cnf/Commands-amd64.xz\n {sha} 4 main/cnf/Commands-i386.xz\n {sha} 4 universe/cnf/Commands-arm64.xz\n"
        ))
        .expect("release");
        let dists = Url::parse("http://h/ubuntu/dists/noble/").expect("url");
        let got = pending(
            &mirror(&["amd64", "arm64", "source"]),
            &release,
            &dists,
            &[index("main"), index("universe"), index("main")],
        );
        let paths: Vec<(&str, &str)> = got
            .files
            .iter()
            .map(|f| (f.architecture.as_str(), f.index.path.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                ("amd64", "main/cnf/Commands-amd64.xz"),
                ("arm64", "universe/cnf/Commands-arm64.xz")
            ]
        );
        assert!(got.dists.is_some());
        let none = pending(&mirror(&["riscv64"]), &release, &dists, &[index("main")]);
        assert!(none.files.is_empty() && none.dists.is_none());
    }
}
