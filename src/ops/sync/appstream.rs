//! AppStream metadata (`--with-appstream`): the DEP-11
//! `<component>/dep11/Components-<arch>.yml` files and the
//! `icons-<size>.tar` they refer to.
//!
//! Unlike aptly, which copies the files whole, a sync keeps only what the
//! packages it selected need: [`pending`] picks, for each component and
//! architecture, the Components file the verified Release lists (best
//! compression with a SHA256) and every icons tarball of the component;
//! [`fetch`] gets them like any index (index cache, by hash, size and
//! SHA256 checked while streaming), splits the YAML into documents
//! ([`Dep11Reader`]), keeps each selected package's documents (an `all`
//! package from the first architecture's file), then reads from the
//! tarballs only the icons those documents name. The caller stores them
//! before the commit: rows are keyed by the package's .deb, so an early
//! insert is harmless.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read as _;

use url::Url;

use super::execute::Record;
use super::release::{IndexBytes, IndexRef, SMALLEST_FIRST, best_index, obtain};
use super::{SyncError, step, warn};
use crate::db::{AppstreamDocs, Db, SOURCE_ARCH};
use crate::debian::deb::{EntryKind, TarReader};
use crate::debian::dep11::{Dep11Reader, is_icon_name};
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::fetch;
use crate::model::Mirror;
use crate::ops::Context;
use crate::ops::upstream::UpstreamPackage;

/// Largest decompressed Components file accepted (Debian's main is ~20 MB).
const MAX_COMPONENTS_BYTES: u64 = 1 << 30;
/// Largest document (sgt-puzzles' are a few KB; translations make some
/// tens of KB).
const MAX_DOCUMENT_BYTES: usize = 4 << 20;
/// Largest decompressed icons tarball accepted (Debian's 128x128 is ~30 MB).
const MAX_ICONS_BYTES: u64 = 1 << 30;
/// Largest icon kept; larger ones are skipped with a warning.
const MAX_ICON_BYTES: u64 = 1 << 20;

/// A file of the `dep11/` directory to fetch.
pub(super) struct Dep11Ref {
    /// The architecture of a Components file, the size (`64x64`,
    /// `64x64@2`) of an icons tarball.
    pub what: String,
    /// Where it is and what the Release promises.
    pub index: IndexRef,
}

/// The DEP-11 files a sync reads.
#[derive(Default)]
pub(super) struct Pending {
    /// The mirror's `dists/SUITE/` URL.
    pub dists: Option<Url>,
    /// Whether the Release offers by-hash.
    pub by_hash: bool,
    /// The Components files, by component then architecture.
    pub components: Vec<Dep11Ref>,
    /// The icons tarballs, by component then size.
    pub icons: Vec<Dep11Ref>,
    /// The `component/arch` pairs the Release lists no Components file for.
    pub missing: Vec<String>,
}

impl Pending {
    /// Every file, for the record of index digests.
    pub fn files(&self) -> impl Iterator<Item = &IndexRef> {
        self.components.iter().chain(&self.icons).map(|f| &f.index)
    }
}

/// The DEP-11 files of the components of `indices`, when the mirror wants
/// them.
pub(super) fn pending(
    mirror: &Mirror,
    release: &Release,
    dists: &Url,
    indices: &[IndexRef],
) -> Pending {
    if !mirror.spec.with_appstream {
        return Pending::default();
    }
    let components: BTreeSet<&str> = indices.iter().map(|i| i.component.as_str()).collect();
    let mut out = Pending {
        dists: Some(dists.clone()),
        by_hash: release.acquire_by_hash,
        ..Pending::default()
    };
    for component in components {
        for arch in &mirror.spec.architectures {
            let stem = format!("{component}/dep11/Components-{arch}.yml");
            match best_index(release, component, &stem, &SMALLEST_FIRST) {
                Some(index) => out.components.push(Dep11Ref {
                    what: arch.clone(),
                    index,
                }),
                None => out.missing.push(format!("{component}/{arch}")),
            }
        }
        let prefix = format!("{component}/dep11/icons-");
        let sizes: BTreeSet<&str> = release
            .files
            .keys()
            .filter_map(|path| path.strip_prefix(&prefix))
            .filter_map(|rest| {
                [".tar", ".tar.gz", ".tar.xz"]
                    .iter()
                    .find_map(|ext| rest.strip_suffix(ext))
            })
            .filter(|size| {
                !size.is_empty()
                    && size
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b"x@".contains(&b))
            })
            .collect();
        for size in sizes {
            let stem = format!("{prefix}{size}.tar");
            if let Some(index) = best_index(release, component, &stem, &SMALLEST_FIRST) {
                out.icons.push(Dep11Ref {
                    what: size.to_owned(),
                    index,
                });
            }
        }
    }
    out
}

/// What a sync keeps.
#[derive(Default)]
pub(super) struct Kept {
    /// Per selected package that has any, its documents and icons.
    pub docs: Vec<AppstreamDocs>,
    /// The icon images, by SHA256.
    pub images: BTreeMap<Sha256, Vec<u8>>,
}

impl Kept {
    /// Stores the metadata (before the sync's commit: rows are keyed by
    /// the packages' .debs, so an early insert is harmless).
    pub fn store(&self, db: &mut Db) -> Result<(), SyncError> {
        if !self.docs.is_empty() {
            db.put_appstream(&self.docs, &self.images)?;
        }
        Ok(())
    }
}

/// A selected binary package, by (component, name): its architecture and
/// .deb.
pub(super) type Wanted<'a> = HashMap<(&'a str, &'a str), Vec<(&'a str, Sha256)>>;

/// The selected binary packages (`selected` indexes `packages`, whose
/// `component` indexes `components`), by (component, name).
pub(super) fn wanted<'a>(
    packages: &'a [UpstreamPackage],
    selected: &[usize],
    components: &'a [String],
) -> Wanted<'a> {
    let mut wanted: Wanted<'_> = HashMap::new();
    for p in selected.iter().filter_map(|&i| packages.get(i)) {
        let Some(component) = components.get(p.component as usize) else {
            continue;
        };
        if &*p.architecture != SOURCE_ARCH {
            let key = (component.as_str(), &*p.name);
            let entry = wanted.entry(key).or_default();
            entry.push((&p.architecture, p.sha256));
        }
    }
    wanted
}

/// Fetches the `pending` files and keeps the documents and icons of the
/// selected packages (`selected`: the packages, the selection's indices
/// into them and the component names their `component` indexes); their
/// bytes count into `record`'s.
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
    if !pending.missing.is_empty() {
        let missing = pending.missing.join(", ");
        let note = format!("the Release lists no AppStream Components file for {missing}");
        step(ctx, &mirror.name, note);
    }
    let wanted = wanted(packages, selected, components);
    let mut bytes = IndexBytes {
        network: record.index_bytes,
        cached: record.index_cached_bytes,
    };
    let got = fetch_files(ctx, mirror, (dists, pending), &wanted, &mut bytes).await;
    (record.index_bytes, record.index_cached_bytes) = (bytes.network, bytes.cached);
    let kept = got?;
    let icons: usize = kept.docs.iter().map(|d| d.icons.len()).sum();
    let note = format!(
        "keeping the AppStream metadata of {} packages ({icons} icons)",
        kept.docs.len()
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
    // Package → position in `kept.docs`, and the file that gave it.
    let mut claimed: HashMap<Sha256, (usize, usize)> = HashMap::new();
    for (n, file) in pending.components.iter().enumerate() {
        let (found, unnamed) = with_file(ctx, mirror, (dists, pending.by_hash), file, bytes, |r| {
            read_components(file, r, wanted)
        })
        .await?;
        if unnamed > 0 {
            let note = format!(
                "{unnamed} documents of `{}` name no `Package` and are skipped",
                file.index.path
            );
            warn(ctx, &mirror.name, note);
        }
        // An `all` package is in every architecture's file: the first's.
        for (sha, header, yaml) in found {
            if claimed.contains_key(&sha) {
                continue;
            }
            claimed.insert(sha, (kept.docs.len(), n));
            kept.docs.push(AppstreamDocs {
                package: sha,
                header,
                yaml,
                icons: Vec::new(),
            });
        }
    }
    // Icon file name → the packages (positions in `kept.docs`) naming it,
    // per component.
    let mut names: HashMap<(&str, String), Vec<usize>> = HashMap::new();
    let mut bad_names = BTreeSet::new();
    for (at, d) in kept.docs.iter().enumerate() {
        let (_, from) = claimed[&d.package];
        let component = pending.components[from].index.component.as_str();
        for doc in Dep11Reader::new(d.yaml.as_bytes(), MAX_DOCUMENT_BYTES).flatten() {
            for name in doc.cached_icons() {
                if !is_icon_name(name) {
                    bad_names.insert(name.to_owned());
                    continue;
                }
                let users = names.entry((component, name.to_owned())).or_default();
                if !users.contains(&at) {
                    users.push(at);
                }
            }
        }
    }
    if let Some(first) = bad_names.first() {
        let note = format!(
            "{} AppStream icon names are not short plain file names and are skipped, e.g. `{first}`",
            bad_names.len()
        );
        warn(ctx, &mirror.name, note);
    }
    if names.is_empty() {
        return Ok(kept);
    }
    for file in &pending.icons {
        let found = with_file(ctx, mirror, (dists, pending.by_hash), file, bytes, |r| {
            read_icons(file, r, &names)
        })
        .await?;
        for (name, data, skipped) in found {
            if skipped {
                let note = format!(
                    "AppStream icon `{name}` in `{}` is larger than {MAX_ICON_BYTES} bytes and is skipped",
                    file.index.path
                );
                warn(ctx, &mirror.name, note);
                continue;
            }
            let sha = Sha256::of(&data);
            let key = (file.index.component.as_str(), name);
            for &at in names.get(&key).into_iter().flatten() {
                kept.docs[at]
                    .icons
                    .push((file.what.clone(), key.1.clone(), sha));
            }
            kept.images.insert(sha, data);
        }
    }
    Ok(kept)
}

/// Fetches `file` into a staging file and runs `read` over it,
/// decompressed and bounded.
async fn with_file<T>(
    ctx: &Context,
    mirror: &Mirror,
    (dists, by_hash): (&Url, bool),
    file: &Dep11Ref,
    bytes: &mut IndexBytes,
    read: impl FnOnce(Box<dyn std::io::BufRead + Send>) -> Result<T, String>,
) -> Result<T, SyncError> {
    let staged = ctx.store.staging_path(None)?;
    let got = obtain(ctx, mirror, dists, by_hash, &file.index, &staged, bytes)
        .await
        .and_then(|()| {
            let max = if file.index.path.contains("/dep11/icons-") {
                MAX_ICONS_BYTES
            } else {
                MAX_COMPONENTS_BYTES
            };
            fetch::open_decompressed(&staged, file.index.compression, max)
                .map_err(|e| e.to_string())
                .and_then(read)
                .map_err(|detail| SyncError::BadIndex {
                    mirror: mirror.name.clone(),
                    index: file.index.path.clone(),
                    detail,
                })
        });
    let _ = std::fs::remove_file(&staged);
    got
}

/// A package's documents in one Components file: its .deb, the file's
/// header, the documents.
type FoundDocs = (Sha256, String, String);

/// The documents of `wanted` packages in one Components file: (package,
/// the file's header, its documents) for each package of the file's
/// architecture or `all`, in file order; second, how many documents after
/// the header name no package.
fn read_components(
    file: &Dep11Ref,
    reader: Box<dyn std::io::BufRead + Send>,
    wanted: &Wanted<'_>,
) -> Result<(Vec<FoundDocs>, usize), String> {
    let component = file.index.component.as_str();
    let mut header: Option<String> = None;
    let mut by_package: Vec<(Sha256, String)> = Vec::new();
    let mut at: HashMap<Sha256, usize> = HashMap::new();
    let mut unnamed = 0usize;
    for doc in Dep11Reader::new(reader, MAX_DOCUMENT_BYTES) {
        let doc = doc.map_err(|e| e.to_string())?;
        if header.is_none() {
            if !doc.is_header() {
                return Err(format!(
                    "the first document (line {}) is not a DEP-11 header (`File: DEP-11`)",
                    doc.line
                ));
            }
            header = Some(doc.text);
            continue;
        }
        let Some(name) = doc.package() else {
            unnamed += 1;
            continue;
        };
        for &(arch, sha) in wanted.get(&(component, name)).into_iter().flatten() {
            if arch != file.what && arch != "all" {
                continue;
            }
            match at.get(&sha) {
                Some(&i) => by_package[i].1.push_str(&doc.text),
                None => {
                    at.insert(sha, by_package.len());
                    by_package.push((sha, doc.text.clone()));
                }
            }
        }
    }
    let Some(header) = header else {
        return Ok((Vec::new(), unnamed));
    };
    let found = by_package
        .into_iter()
        .map(|(sha, yaml)| (sha, header.clone(), yaml))
        .collect();
    Ok((found, unnamed))
}

/// The icons of one tarball that `names` wants: (name, image, whether it
/// was skipped as too large).
fn read_icons(
    file: &Dep11Ref,
    reader: Box<dyn std::io::BufRead + Send>,
    names: &HashMap<(&str, String), Vec<usize>>,
) -> Result<Vec<(String, Vec<u8>, bool)>, String> {
    let component = file.index.component.as_str();
    let mut tar = TarReader::new(reader);
    let mut out = Vec::new();
    while let Some(e) = tar.next_entry().map_err(|e| e.to_string())? {
        if e.kind != EntryKind::File || !names.contains_key(&(component, e.path.clone())) {
            continue;
        }
        if e.size > MAX_ICON_BYTES {
            out.push((e.path, Vec::new(), true));
            continue;
        }
        let mut data = Vec::with_capacity(e.size as usize);
        tar.body(e.size)
            .read_to_end(&mut data)
            .map_err(|err| format!("icon `{}`: {err}", e.path))?;
        out.push((e.path, data, false));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fetch::Compression;

    fn mirror(with_appstream: bool) -> Mirror {
        let spec = serde_json::json!({
            "url": "http://h/debian", "suite": "trixie",
            "architectures": ["amd64", "arm64"], "with_appstream": with_appstream,
        });
        Mirror {
            id: crate::model::MirrorId(1),
            name: "m".into(),
            spec: serde_json::from_value(spec).unwrap(),
            created_at: chrono::Utc::now(),
            state: crate::model::MirrorState::default(),
        }
    }

    fn index(component: &str, path: &str) -> IndexRef {
        IndexRef {
            component: component.into(),
            path: path.into(),
            compression: Compression::None,
            size: 1,
            sha256: Sha256::of(b"x"),
        }
    }

    #[test]
    fn picks_components_per_architecture_and_every_icon_size() {
        let sha = Sha256::of(b"x");
        let release = Release::parse(&format!(
            "Suite: trixie\nComponents: main\nSHA256:\n {sha} 9 main/dep11/Components-amd64.yml\n {sha} 3 main/dep11/Components-amd64.yml.xz\n {sha} 5 main/dep11/icons-64x64.tar\n {sha} 2 main/dep11/icons-64x64.tar.gz\n {sha} 2 main/dep11/icons-64x64@2.tar.gz\n {sha} 2 main/dep11/icons-../x.tar\n"
        ))
        .unwrap();
        let dists = Url::parse("http://h/debian/dists/trixie/").unwrap();
        let indices = [index("main", "main/binary-amd64/Packages.xz")];
        let got = pending(&mirror(true), &release, &dists, &indices);
        let paths: Vec<(&str, &str)> = got
            .components
            .iter()
            .chain(&got.icons)
            .map(|f| (f.what.as_str(), f.index.path.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                ("amd64", "main/dep11/Components-amd64.yml.xz"),
                ("64x64", "main/dep11/icons-64x64.tar.gz"),
                ("64x64@2", "main/dep11/icons-64x64@2.tar.gz"),
            ]
        );
        assert_eq!(got.missing, ["main/arm64"]);
        let off = pending(&mirror(false), &release, &dists, &indices);
        assert!(off.dists.is_none() && off.files().next().is_none());
    }

    #[test]
    fn keeps_the_documents_of_wanted_packages_of_the_files_architecture() {
        let text = "---\nFile: DEP-11\nOrigin: o\n---\nPackage: a\nID: 1\n---\nPackage: b\nID: 2\n---\nID: orphan\n---\nPackage: a\nID: 3\n---\nPackage: c\nID: 4\n";
        let (a, b, c) = (Sha256::of(b"a"), Sha256::of(b"b"), Sha256::of(b"c"));
        let wanted: Wanted<'_> = HashMap::from([
            (("main", "a"), vec![("amd64", a)]),
            (("main", "b"), vec![("all", b)]),
            (("main", "c"), vec![("arm64", c)]),
        ]);
        let file = Dep11Ref {
            what: "amd64".into(),
            index: index("main", "main/dep11/Components-amd64.yml"),
        };
        let reader = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let (found, unnamed) = read_components(&file, reader, &wanted).unwrap();
        let header = "---\nFile: DEP-11\nOrigin: o\n".to_owned();
        assert_eq!(
            found,
            [
                (
                    a,
                    header.clone(),
                    "---\nPackage: a\nID: 1\n---\nPackage: a\nID: 3\n".into()
                ),
                (b, header, "---\nPackage: b\nID: 2\n".into()),
            ],
            "c is another architecture's"
        );
        assert_eq!(unnamed, 1);
        let reader = Box::new(std::io::Cursor::new(b"---\nPackage: a\n".to_vec()));
        let err = read_components(&file, reader, &wanted).unwrap_err();
        assert!(err.contains("not a DEP-11 header"), "{err}");
    }
}
