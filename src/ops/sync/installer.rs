//! The Debian installer's images (`--with-installer`).
//!
//! Each component and architecture may carry
//! `<component>/installer-<arch>/current/images/`, whose `SHA256SUMS` names
//! the SHA256 of every image file. The chain of trust is InRelease →
//! `SHA256SUMS` → each file: [`choose`] takes the size and SHA256 of
//! `SHA256SUMS` from the verified Release (Debian lists it); where the
//! Release does not list it (Ubuntu), [`fetch`] checks its detached
//! `SHA256SUMS.gpg` against the mirror's keyring instead. Every file it
//! names is then downloaded into the blob store (those it lacks, with the
//! bounded parallelism of pool files), its SHA256 checked while streaming
//! (its size is whatever arrives), and recorded with the new
//! revision in the sync's one commit. A file that does not match fails the
//! sync with a verification error naming it; the previous revision stays.

use std::collections::{HashMap, HashSet};

use futures::{StreamExt as _, TryStreamExt as _};
use url::Url;

use super::release::IndexRef;
use super::{SyncError, step, warn};
use crate::db::InstallerFile;
use crate::debian::checksums::parse_sha256sums;
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::fetch::{Expected, Small};
use crate::model::Mirror;
use crate::ops::Context;
use crate::pgp::{self, Keyring, VerifyOptions};
use crate::redact;

/// The largest `SHA256SUMS` (or its signature) read; Debian's is a few KiB.
const MAX_SUMS_BYTES: u64 = 4 << 20;

/// One images directory to read.
struct ImagesDir {
    /// Below `dists/SUITE/`, ending in `/`: `main/installer-amd64/current/images/`.
    dir: String,
    /// Size and SHA256 of its `SHA256SUMS` in the verified Release, if listed.
    listed: Option<(u64, Sha256)>,
}

/// The images directories a sync reads; none without `--with-installer`.
pub(super) struct Pending {
    /// The mirror's `dists/SUITE/` URL.
    dists: Url,
    dirs: Vec<ImagesDir>,
}

impl Pending {
    /// The `SHA256SUMS` the Release lists, as (path, SHA256): a change
    /// among them makes an otherwise unchanged upstream sync again.
    pub(super) fn digests(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.dirs.iter().filter_map(|d| {
            let (_, sha) = d.listed?;
            Some((format!("{}SHA256SUMS", d.dir), sha.to_string()))
        })
    }
}

/// The images directories of the components of `indices` for the mirror's
/// architectures.
pub(super) fn choose(
    mirror: &Mirror,
    release: &Release,
    dists: &Url,
    indices: &[IndexRef],
) -> Pending {
    let mut pending = Pending {
        dists: dists.clone(),
        dirs: Vec::new(),
    };
    if !mirror.spec.with_installer {
        return pending;
    }
    let mut components: Vec<&str> = Vec::new();
    for i in indices.iter().filter(|i| !i.is_sources()) {
        if !components.contains(&i.component.as_str()) {
            components.push(&i.component);
        }
    }
    for component in components {
        for arch in &mirror.spec.architectures {
            let dir = format!("{component}/installer-{arch}/current/images/");
            let listed = release
                .files
                .get(&format!("{dir}SHA256SUMS"))
                .and_then(|f| Some((f.size, f.sha256?)));
            pending.dirs.push(ImagesDir { dir, listed });
        }
    }
    pending
}

/// What the installer images cost a sync: the files the store lacked and
/// their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImageCost {
    /// Files fetched (or, for a dry run, to fetch).
    pub files: u64,
    /// Their bytes (for a dry run, as the upstream announces them).
    pub bytes: u64,
}

/// Reads every `SHA256SUMS`, verified, and downloads the files they name
/// into the blob store (those it lacks), `concurrency` at a time as pool
/// files are. Returns the files for the commit and what was fetched;
/// `bytes` grows by the `SHA256SUMS` read.
pub(super) async fn fetch(
    ctx: &Context,
    mirror: &Mirror,
    pending: &Pending,
    bytes: &mut u64,
    concurrency: usize,
) -> Result<(Vec<InstallerFile>, ImageCost), SyncError> {
    let listed = read_all(ctx, mirror, pending, bytes).await?;
    let missing = missing(ctx, &listed)?;
    let dists = &pending.dists;
    let fetched: Vec<(Sha256, u64)> =
        futures::stream::iter(missing.iter().map(|(path, sha256)| async move {
            let size = download(ctx, mirror, dists, path, *sha256).await?;
            Ok::<_, SyncError>((*sha256, size))
        }))
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let cost = ImageCost {
        files: fetched.len() as u64,
        bytes: fetched.iter().map(|(_, n)| n).sum(),
    };
    let sizes: HashMap<Sha256, u64> = fetched.into_iter().collect();
    let mut out = Vec::with_capacity(listed.len());
    for (path, sha256) in listed {
        let size = match sizes.get(&sha256) {
            Some(&size) => size,
            None => ctx.store.size(&sha256)?.unwrap_or(0),
        };
        out.push(InstallerFile { path, sha256, size });
    }
    Ok((out, cost))
}

/// For a dry run: reads every `SHA256SUMS`, verified, and counts the files
/// the store lacks, sized by what the upstream announces (a `HEAD` each,
/// `concurrency` at a time; a file it announces no size for counts 0).
/// `bytes` grows by the `SHA256SUMS` read.
pub(super) async fn estimate(
    ctx: &Context,
    mirror: &Mirror,
    pending: &Pending,
    bytes: &mut u64,
    concurrency: usize,
) -> Result<ImageCost, SyncError> {
    let listed = read_all(ctx, mirror, pending, bytes).await?;
    let missing = missing(ctx, &listed)?;
    let sizes: Vec<u64> = futures::stream::iter(missing.iter().map(|(path, _)| async move {
        let url = join(mirror, &pending.dists, path)?;
        ctx.fetcher
            .content_length(&url)
            .await
            .map(Option::unwrap_or_default)
            .map_err(|source| SyncError::Fetch {
                mirror: mirror.name.clone(),
                what: path.clone(),
                source: Box::new(source),
            })
    }))
    .buffer_unordered(concurrency.max(1))
    .try_collect()
    .await?;
    Ok(ImageCost {
        files: sizes.len() as u64,
        bytes: sizes.iter().sum(),
    })
}

/// Every image the verified `SHA256SUMS` files name: (path below
/// `dists/SUITE/`, SHA256).
async fn read_all(
    ctx: &Context,
    mirror: &Mirror,
    pending: &Pending,
    bytes: &mut u64,
) -> Result<Vec<(String, Sha256)>, SyncError> {
    let mut out = Vec::new();
    for images in &pending.dirs {
        let Some(text) = read_sums(ctx, mirror, &pending.dists, images, bytes).await? else {
            continue;
        };
        let sums_path = format!("{}SHA256SUMS", images.dir);
        let entries = parse_sha256sums(&text).map_err(|e| SyncError::BadIndex {
            mirror: mirror.name.clone(),
            index: sums_path.clone(),
            detail: e.to_string(),
        })?;
        step(
            ctx,
            &mirror.name,
            format!("{} installer files in {}", entries.len(), images.dir),
        );
        for e in entries {
            out.push((format!("{}{}", images.dir, e.path.as_str()), e.sha256));
        }
    }
    Ok(out)
}

/// The images of `listed` the store lacks, each content once.
fn missing(ctx: &Context, listed: &[(String, Sha256)]) -> Result<Vec<(String, Sha256)>, SyncError> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (path, sha256) in listed {
        if seen.insert(*sha256) && ctx.store.size(sha256)?.is_none() {
            out.push((path.clone(), *sha256));
        }
    }
    Ok(out)
}

/// The verified text of one `SHA256SUMS`; `None` when an unlisted one does
/// not exist (a component without installer, a warning).
async fn read_sums(
    ctx: &Context,
    mirror: &Mirror,
    dists: &Url,
    images: &ImagesDir,
    bytes: &mut u64,
) -> Result<Option<String>, SyncError> {
    let name = mirror.name.as_str();
    let path = format!("{}SHA256SUMS", images.dir);
    let url = join(mirror, dists, &path)?;
    let fail = |what: &str| {
        let what = what.to_owned();
        move |source| SyncError::Fetch {
            mirror: name.to_owned(),
            what,
            source: Box::new(source),
        }
    };
    let body = match images.listed {
        Some((size, sha256)) => {
            if size > MAX_SUMS_BYTES {
                return Err(SyncError::BadIndex {
                    mirror: name.to_owned(),
                    index: path,
                    detail: format!("{size} bytes, more than the {MAX_SUMS_BYTES} accepted"),
                });
            }
            let expected = Expected {
                size: Some(size),
                sha256: Some(sha256),
                max_size: None,
            };
            step(ctx, name, format!("fetching {path}"));
            let (data, _) = ctx
                .fetcher
                .download_bytes(&url, &expected)
                .await
                .map_err(fail(&path))?;
            *bytes += data.len() as u64;
            data
        }
        None => {
            let Some(body) = get(ctx, &url, &path, mirror).await? else {
                warn(
                    ctx,
                    name,
                    format!("the upstream has no `{path}`; no installer images from it"),
                );
                return Ok(None);
            };
            *bytes += body.len() as u64;
            if !(mirror.spec.allow_insecure && mirror.spec.keyrings.is_empty()) {
                check_signature(ctx, mirror, dists, &path, &body, bytes).await?;
            }
            body.to_vec()
        }
    };
    String::from_utf8(body)
        .map(Some)
        .map_err(|_| SyncError::BadIndex {
            mirror: name.to_owned(),
            index: path,
            detail: "not UTF-8".into(),
        })
}

/// Checks an unlisted `SHA256SUMS` against its `SHA256SUMS.gpg` and the
/// mirror's keyring.
async fn check_signature(
    ctx: &Context,
    mirror: &Mirror,
    dists: &Url,
    path: &str,
    body: &[u8],
    bytes: &mut u64,
) -> Result<(), SyncError> {
    let sig_path = format!("{path}.gpg");
    let sig_url = join(mirror, dists, &sig_path)?;
    let Some(sig) = get(ctx, &sig_url, &sig_path, mirror).await? else {
        return Err(SyncError::Unsigned {
            mirror: mirror.name.clone(),
            url: redact::url(&join(mirror, dists, path)?),
        });
    };
    *bytes += sig.len() as u64;
    let signature = |source| SyncError::Signature {
        mirror: mirror.name.clone(),
        url: redact::url(&sig_url),
        source,
    };
    let keyring = Keyring::load(&mirror.spec.keyrings).map_err(signature)?;
    let opts = VerifyOptions {
        allow_sha1_bindings: mirror.spec.allow_sha1_keys,
        at: None,
    };
    pgp::verify_detached(&keyring, body, &sig, &opts).map_err(signature)?;
    Ok(())
}

/// A small file, `None` when the upstream does not have it.
async fn get(
    ctx: &Context,
    url: &Url,
    what: &str,
    mirror: &Mirror,
) -> Result<Option<bytes::Bytes>, SyncError> {
    let got = ctx
        .fetcher
        .get_small(url, None, MAX_SUMS_BYTES)
        .await
        .map_err(|source| SyncError::Fetch {
            mirror: mirror.name.clone(),
            what: what.to_owned(),
            source: Box::new(source),
        })?;
    Ok(match got {
        Small::Fetched { body, .. } => Some(body),
        Small::NotFound | Small::NotModified => None,
    })
}

/// The largest installer image accepted: `SHA256SUMS` gives no sizes, and
/// Debian's largest image (a netboot `mini.iso`) is under 100 MB.
const MAX_IMAGE_BYTES: u64 = 4 << 30;

/// Puts one image file the store lacks into it: streamed to a staging
/// file, its SHA256 checked, committed only once it matches. Returns its
/// size.
async fn download(
    ctx: &Context,
    mirror: &Mirror,
    dists: &Url,
    path: &str,
    sha256: Sha256,
) -> Result<u64, SyncError> {
    let url = join(mirror, dists, path)?;
    let expected = Expected {
        size: None,
        sha256: Some(sha256),
        max_size: Some(MAX_IMAGE_BYTES),
    };
    let staged = ctx.store.staging_path(Some(&sha256))?;
    match ctx.fetcher.download(&url, &expected, &staged).await {
        Ok(d) => {
            ctx.store.commit(&staged, &sha256)?;
            Ok(d.size)
        }
        Err(source) => {
            let _ = std::fs::remove_file(&staged);
            Err(SyncError::Fetch {
                mirror: mirror.name.clone(),
                what: path.to_owned(),
                source: Box::new(source),
            })
        }
    }
}

/// `dists` joined with a path below it (a path, not a URL: `%`, `?` and `#`
/// are literal).
fn join(mirror: &Mirror, dists: &Url, path: &str) -> Result<Url, SyncError> {
    let escaped = path
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    dists.join(&escaped).map_err(|_| SyncError::BadUrl {
        mirror: mirror.name.clone(),
        url: format!("{}{path}", redact::url(dists)),
    })
}
