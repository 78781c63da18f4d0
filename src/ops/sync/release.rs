//! Fetching and verifying the Release and the package indices.
//!
//! [`fetch_release`] gets InRelease (or Release + Release.gpg) conditionally
//! and verifies its signature; [`check_fresh`] refuses a rollback or an
//! expired Release; [`choose_indices`] picks each wanted index at its best
//! compression; [`fetch_indices`] downloads them (by hash when offered),
//! checks size and SHA256 against the Release and parses them into an
//! [`Upstream`]. An index another mirror of the same upstream fetched
//! already comes from the [`IndexCache`] instead, checked again.

use chrono::{DateTime, Utc};
use url::Url;

use super::{SyncError, step, warn};
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::fetch::{self, Compression, Expected, FetchError, Small, Validators};
use crate::model::Mirror;
use crate::ops::Context;
use crate::ops::index_cache::{IndexCache, Lookup};
use crate::ops::upstream::{Upstream, UpstreamError, index_architecture};
use crate::pgp::{self, Keyring, VerifyOptions};
use crate::redact;

/// Largest InRelease / Release accepted (a hostile upstream cannot exhaust memory).
const MAX_RELEASE_BYTES: u64 = 64 << 20;
/// Largest Release.gpg accepted.
const MAX_SIGNATURE_BYTES: u64 = 1 << 20;
/// Largest decompressed index accepted.
pub(super) const MAX_INDEX_BYTES: u64 = 4 << 30;

/// A verified, parsed Release.
pub(super) struct ReleaseDoc {
    /// Where it came from (InRelease or Release).
    pub url: String,
    /// Digest of the document as served.
    pub sha256: Sha256,
    /// Validators for the next conditional request.
    pub validators: Validators,
    /// Its fields.
    pub release: Release,
}

impl ReleaseDoc {
    /// The mirror's state once this Release is accepted at `now`, the
    /// current `revision` kept until a new one is committed.
    pub(super) fn accepted(
        &self,
        now: DateTime<Utc>,
        revision: Option<crate::model::RevisionId>,
    ) -> crate::model::MirrorState {
        crate::model::MirrorState {
            release_date: self.release.date,
            release_sha256: Some(self.sha256),
            etag: self.validators.etag.clone(),
            last_modified: self.validators.last_modified.clone(),
            last_sync_at: Some(now),
            last_error: None,
            revision,
        }
    }
}

/// One package index the Release lists, as the sync fetches it.
pub(super) struct IndexRef {
    /// Component.
    pub component: String,
    /// Path under `dists/SUITE/`, with the compression's extension.
    pub path: String,
    /// Compression of the file.
    pub compression: Compression,
    /// Size the Release promises.
    pub size: u64,
    /// SHA256 the Release promises.
    pub sha256: Sha256,
}

impl IndexRef {
    /// Whether this is a `Sources` index (source packages), not `Packages`.
    pub fn is_sources(&self) -> bool {
        let file = self.path.rsplit('/').next().unwrap_or(&self.path);
        file.split('.').next() == Some("Sources")
    }
}

/// Bytes of the Release and the indices, by where they came from.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct IndexBytes {
    /// Downloaded from the upstream.
    pub network: u64,
    /// Copied from the index cache.
    pub cached: u64,
}

/// A mirror's `dists/SUITE/` directory and what reading it needs.
struct Dists<'a> {
    ctx: &'a Context,
    mirror: &'a Mirror,
    url: &'a Url,
}

impl Dists<'_> {
    fn name(&self) -> String {
        self.mirror.name.clone()
    }

    fn join(&self, leaf: &str) -> Result<Url, SyncError> {
        self.url.join(leaf).map_err(|_| SyncError::BadUrl {
            mirror: self.name(),
            url: self.mirror.spec.url.to_string(),
        })
    }

    /// Fetches a small document under `dists/`, named `what` in errors.
    async fn get(
        &self,
        url: &Url,
        what: &str,
        validators: Option<&Validators>,
        limit: u64,
    ) -> Result<Small, SyncError> {
        self.ctx
            .fetcher
            .get_small(url, validators, limit)
            .await
            .map_err(|source| SyncError::Fetch {
                mirror: self.name(),
                what: what.to_owned(),
                source: Box::new(source),
            })
    }

    /// Whether the mirror accepts an unsigned Release (insecure, no keyring).
    fn unverified(&self) -> bool {
        self.mirror.spec.allow_insecure && self.mirror.spec.keyrings.is_empty()
    }

    fn keyring(&self) -> Result<Keyring, SyncError> {
        Keyring::load(&self.mirror.spec.keyrings).map_err(|source| SyncError::Signature {
            mirror: self.name(),
            url: redact::url(self.url),
            source,
        })
    }

    fn verify_opts(&self) -> VerifyOptions {
        VerifyOptions {
            allow_sha1_bindings: self.mirror.spec.allow_sha1_keys,
            at: None,
        }
    }

    fn signature_err(&self, url: &Url) -> impl FnOnce(pgp::PgpError) -> SyncError {
        let (mirror, url) = (self.name(), redact::url(url));
        move |source| SyncError::Signature {
            mirror,
            url,
            source,
        }
    }
}

/// A fetched, verified Release document: (URL, bytes as served, signed text, validators).
type Fetched = (Url, bytes::Bytes, Vec<u8>, Validators);

/// Fetches InRelease (or Release + Release.gpg), verifies and parses it. `None`: not modified.
pub(super) async fn fetch_release(
    ctx: &Context,
    mirror: &Mirror,
    dists: &Url,
    validators: Option<&Validators>,
    downloaded: &mut u64,
) -> Result<Option<ReleaseDoc>, SyncError> {
    let dists = Dists {
        ctx,
        mirror,
        url: dists,
    };
    let inrelease_url = dists.join("InRelease")?;
    let fetched = match dists
        .get(&inrelease_url, "InRelease", validators, MAX_RELEASE_BYTES)
        .await?
    {
        Small::NotModified => None,
        Small::Fetched { body, validators } => {
            *downloaded += body.len() as u64;
            let text = if dists.unverified() {
                pgp::clearsigned_text(&body).ok_or_else(|| SyncError::BadRelease {
                    mirror: dists.name(),
                    url: redact::url(&inrelease_url),
                    detail: "not a clearsigned message".into(),
                })?
            } else {
                pgp::verify_clearsigned(&dists.keyring()?, &body, &dists.verify_opts())
                    .map_err(dists.signature_err(&inrelease_url))?
                    .text
            };
            Some((inrelease_url, body, text, validators))
        }
        Small::NotFound => fetch_detached(&dists, validators, downloaded).await?,
    };
    let Some((url, raw, text, validators)) = fetched else {
        return Ok(None);
    };
    let bad = |detail: String| SyncError::BadRelease {
        mirror: mirror.name.clone(),
        url: redact::url(&url),
        detail,
    };
    let text = String::from_utf8(text).map_err(|_| bad("not UTF-8".into()))?;
    let release = Release::parse(&text).map_err(|e| bad(e.to_string()))?;
    Ok(Some(ReleaseDoc {
        url: redact::url(&url),
        sha256: Sha256::of(&raw),
        validators,
        release,
    }))
}

/// The fallback when there is no InRelease: Release, verified against
/// Release.gpg. `None`: not modified.
async fn fetch_detached(
    dists: &Dists<'_>,
    validators: Option<&Validators>,
    downloaded: &mut u64,
) -> Result<Option<Fetched>, SyncError> {
    let release_url = dists.join("Release")?;
    let (body, validators) = match dists
        .get(&release_url, "Release", validators, MAX_RELEASE_BYTES)
        .await?
    {
        Small::NotModified => return Ok(None),
        Small::NotFound => {
            return Err(SyncError::NoRelease {
                mirror: dists.name(),
                url: redact::url(dists.url),
            });
        }
        Small::Fetched { body, validators } => (body, validators),
    };
    *downloaded += body.len() as u64;
    if !dists.unverified() {
        let sig_url = dists.join("Release.gpg")?;
        let sig = match dists
            .get(&sig_url, "Release.gpg", None, MAX_SIGNATURE_BYTES)
            .await?
        {
            Small::Fetched { body, .. } => body,
            _ => {
                return Err(SyncError::Unsigned {
                    mirror: dists.name(),
                    url: redact::url(&release_url),
                });
            }
        };
        *downloaded += sig.len() as u64;
        pgp::verify_detached(&dists.keyring()?, &body, &sig, &dists.verify_opts())
            .map_err(dists.signature_err(&sig_url))?;
    }
    let text = body.to_vec();
    Ok(Some((release_url, body, text, validators)))
}

/// Refuses a Release older than the last accepted one (a rollback) or past
/// its Valid-Until (stale or replayed) at `now`.
pub(super) fn check_fresh(
    mirror: &Mirror,
    doc: &ReleaseDoc,
    now: DateTime<Utc>,
) -> Result<(), SyncError> {
    if let (Some(date), Some(last)) = (doc.release.date, mirror.state.release_date)
        && date < last
    {
        return Err(SyncError::Rollback {
            mirror: mirror.name.clone(),
            url: doc.url.clone(),
            date,
            last,
        });
    }
    if let Some(valid_until) = doc.release.valid_until
        && valid_until < now
    {
        return Err(SyncError::Expired {
            mirror: mirror.name.clone(),
            url: doc.url.clone(),
            valid_until,
        });
    }
    Ok(())
}

/// The indices to fetch: every requested component (default: all the
/// Release lists) × architecture, at the best compression the Release
/// offers with a SHA256.
pub(super) fn choose_indices(
    mirror: &Mirror,
    release: &Release,
) -> Result<Vec<IndexRef>, SyncError> {
    if mirror.spec.is_flat() {
        return super::flat::indices(mirror, release);
    }
    let components = if mirror.spec.components.is_empty() {
        release
            .components
            .iter()
            .map(|c| c.rsplit('/').next().unwrap_or(c).to_owned())
            .collect()
    } else {
        mirror.spec.components.clone()
    };
    if components.is_empty() {
        return Err(SyncError::MissingIndex {
            mirror: mirror.name.clone(),
            what: "components".into(),
        });
    }
    let mut indices = Vec::new();
    for component in &components {
        let sources = mirror
            .spec
            .with_sources
            .then(|| (None, format!("{component}/source/Sources")));
        let binaries = mirror
            .spec
            .architectures
            .iter()
            .map(|arch| (Some(arch), format!("{component}/binary-{arch}/Packages")));
        for (arch, stem) in binaries.chain(sources) {
            let Some(index) = best_index(release, component, &stem, &SMALLEST_FIRST) else {
                let what = match arch {
                    Some(arch) => format!("architecture `{arch}`"),
                    None => "source packages (`--with-sources`)".to_owned(),
                };
                return Err(SyncError::MissingIndex {
                    mirror: mirror.name.clone(),
                    what: format!(
                        "index `{stem}` (with a SHA256) for component `{component}`, {what}"
                    ),
                });
            };
            indices.push(index);
        }
    }
    Ok(indices)
}

/// Compressions in the order a sync prefers them: the smallest download.
pub(super) const SMALLEST_FIRST: [(&str, Compression); 3] = [
    (".xz", Compression::Xz),
    (".gz", Compression::Gzip),
    ("", Compression::None),
];

/// The index `stem` (its path without a compression suffix) of `component`
/// in the first of `order`'s compressions the Release lists with a SHA256.
pub(super) fn best_index(
    release: &Release,
    component: &str,
    stem: &str,
    order: &[(&str, Compression)],
) -> Option<IndexRef> {
    order.iter().find_map(|(ext, compression)| {
        let path = format!("{stem}{ext}");
        let f = release.files.get(&path)?;
        Some(IndexRef {
            component: component.to_owned(),
            compression: *compression,
            size: f.size,
            sha256: f.sha256?,
            path,
        })
    })
}

/// Fetches and parses every index; each package keeps `fields` in memory
/// (see [`Upstream`]) and is listed under its index's position in `indices`.
pub(super) async fn fetch_indices(
    ctx: &Context,
    mirror: &Mirror,
    dists: &Url,
    release: &Release,
    indices: &[IndexRef],
    fields: Vec<String>,
    bytes: &mut IndexBytes,
) -> Result<Upstream, SyncError> {
    let name = mirror.name.as_str();
    let spool = ctx.store.staging_path(None)?;
    let mut upstream = Upstream::new(&spool, fields).map_err(|e| SyncError::spool(name, e))?;
    let cache = IndexCache::new(&ctx.settings.root);
    let dists = Dists {
        ctx,
        mirror,
        url: dists,
    };
    for (component, index) in indices.iter().enumerate() {
        let staged = ctx.store.staging_path(None)?;
        let by_hash = release.acquire_by_hash;
        let got = obtain_index(&dists, &cache, by_hash, index, &staged, bytes).await;
        if let Err(e) = got {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
        parse_staged(name, index, &staged, |reader| match index.is_sources() {
            true => upstream.parse_sources(reader, component as u32),
            false => {
                let variant = index_architecture(&index.path);
                upstream.parse(reader, component as u32, variant)
            }
        })?;
    }
    Ok(upstream)
}

/// Decompresses the fetched index `staged` into `parse`, then removes it;
/// a parse error names the mirror and the index.
pub(super) fn parse_staged(
    name: &str,
    index: &IndexRef,
    staged: &std::path::Path,
    parse: impl FnOnce(Box<dyn std::io::BufRead + Send>) -> Result<(), UpstreamError>,
) -> Result<(), SyncError> {
    let parsed = fetch::open_decompressed(staged, index.compression, MAX_INDEX_BYTES)
        .map_err(|e| UpstreamError::Parse(e.to_string()))
        .and_then(parse);
    let _ = std::fs::remove_file(staged);
    parsed.map_err(|e| match e {
        UpstreamError::Parse(detail) => SyncError::BadIndex {
            mirror: name.to_owned(),
            index: index.path.clone(),
            detail,
        },
        spool => SyncError::spool(name, spool),
    })
}

/// Puts one index file into `staged` as [`fetch_indices`] does (index
/// cache, by hash, size and SHA256 checked), for files other than
/// Packages (Translation files).
pub(super) async fn obtain(
    ctx: &Context,
    mirror: &Mirror,
    dists: &Url,
    by_hash: bool,
    index: &IndexRef,
    staged: &std::path::Path,
    bytes: &mut IndexBytes,
) -> Result<(), SyncError> {
    let dists = Dists {
        ctx,
        mirror,
        url: dists,
    };
    let cache = IndexCache::new(&ctx.settings.root);
    obtain_index(&dists, &cache, by_hash, index, staged, bytes).await
}

/// Puts one index into `staged`: from the cache when it holds a sound copy,
/// else from the upstream, then into the cache for the next mirror. The
/// cache only saves downloads: trouble with it is a warning.
async fn obtain_index(
    dists: &Dists<'_>,
    cache: &IndexCache,
    by_hash: bool,
    index: &IndexRef,
    staged: &std::path::Path,
    bytes: &mut IndexBytes,
) -> Result<(), SyncError> {
    let (ctx, name) = (dists.ctx, dists.mirror.name.as_str());
    let entry = format!("`{}` (SHA256 `{}`)", index.path, index.sha256);
    match cache.get(&index.sha256, index.size, staged) {
        Ok(Lookup::Hit) => {
            step(
                ctx,
                name,
                format!("reading {} from the index cache", index.path),
            );
            bytes.cached += index.size;
            return Ok(());
        }
        Ok(Lookup::Miss) => {}
        Ok(Lookup::Corrupt) => warn(
            ctx,
            name,
            format!("the cached copy of {entry} is corrupt; fetching it again"),
        ),
        Err(e) => warn(
            ctx,
            name,
            format!("cannot read {entry} from the index cache: {e}; fetching it"),
        ),
    }
    step(ctx, name, format!("fetching {}", index.path));
    bytes.network += fetch_index(ctx, dists.url, by_hash, index, staged)
        .await
        .map_err(|source| SyncError::Fetch {
            mirror: name.to_owned(),
            what: index.path.clone(),
            source: Box::new(source),
        })?;
    if let Err(e) = cache.put(&index.sha256, staged) {
        warn(
            ctx,
            name,
            format!(
                "cannot keep {entry} in the index cache `{}`: {e}",
                cache.dir().display()
            ),
        );
    }
    Ok(())
}

/// Downloads one index into `dest`, by hash when offered (falling back to the plain name).
async fn fetch_index(
    ctx: &Context,
    dists: &Url,
    by_hash: bool,
    index: &IndexRef,
    dest: &std::path::Path,
) -> Result<u64, FetchError> {
    let expected = Expected {
        size: Some(index.size),
        sha256: Some(index.sha256),
        max_size: None,
    };
    let plain = dists
        .join(&index.path)
        .map_err(|_| FetchError::InvalidUrl(format!("{}{}", redact::url(dists), index.path)))?;
    if by_hash {
        let dir = index.path.rsplit_once('/').map_or("", |(d, _)| d);
        let url = dists
            .join(&format!("{dir}/by-hash/SHA256/{}", index.sha256))
            .map_err(|_| FetchError::InvalidUrl(format!("{}{dir}/by-hash", redact::url(dists))))?;
        match ctx.fetcher.download(&url, &expected, dest).await {
            Ok(d) => return Ok(d.size),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ctx.fetcher.download(&plain, &expected, dest).await?.size)
}
