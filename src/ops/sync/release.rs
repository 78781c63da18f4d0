//! Fetching and verifying the Release and the package indices.

use url::Url;

use super::SyncError;
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::fetch::{Compression, Expected, FetchError, Small, Validators};
use crate::model::Mirror;
use crate::ops::Context;
use crate::pgp::{self, Keyring, VerifyOptions};

/// Largest InRelease / Release accepted (a hostile upstream cannot exhaust memory).
const MAX_RELEASE_BYTES: u64 = 64 << 20;
/// Largest decompressed index accepted.
pub(super) const MAX_INDEX_BYTES: u64 = 4 << 30;

pub(super) struct ReleaseDoc {
    pub url: String,
    pub sha256: Sha256,
    pub validators: Validators,
    pub release: Release,
}

pub(super) struct IndexRef {
    pub component: String,
    pub path: String,
    pub compression: Compression,
    pub size: u64,
    pub sha256: Sha256,
}

/// Fetches InRelease (or Release + Release.gpg), verifies and parses it. `None`: not modified.
pub(super) async fn fetch_release(
    ctx: &Context,
    mirror: &Mirror,
    dists: &Url,
    validators: Option<&Validators>,
    downloaded: &mut u64,
) -> Result<Option<ReleaseDoc>, SyncError> {
    let name = mirror.name.as_str();
    let fetch_err = |what: &str| {
        let what = what.to_owned();
        move |source| SyncError::Fetch {
            mirror: name.to_owned(),
            what,
            source: Box::new(source),
        }
    };
    let join = |leaf: &str| {
        dists.join(leaf).map_err(|_| SyncError::BadUrl {
            mirror: name.to_owned(),
            url: mirror.spec.url.clone(),
        })
    };
    let keyring = || -> Result<Keyring, SyncError> {
        Keyring::load(&mirror.spec.keyrings).map_err(|source| SyncError::Signature {
            mirror: name.to_owned(),
            url: dists.to_string(),
            source,
        })
    };
    let verify_opts = VerifyOptions {
        allow_sha1_bindings: mirror.spec.allow_sha1_keys,
        at: None,
    };

    let inrelease_url = join("InRelease")?;
    let (url, raw, text, validators) = match ctx
        .fetcher
        .get_small(&inrelease_url, validators, MAX_RELEASE_BYTES)
        .await
        .map_err(fetch_err("InRelease"))?
    {
        Small::NotModified => return Ok(None),
        Small::Fetched { body, validators } => {
            *downloaded += body.len() as u64;
            let text = if mirror.spec.allow_insecure && mirror.spec.keyrings.is_empty() {
                pgp::clearsigned_text(&body).ok_or_else(|| SyncError::BadRelease {
                    mirror: name.to_owned(),
                    url: inrelease_url.to_string(),
                    detail: "not a clearsigned message".into(),
                })?
            } else {
                pgp::verify_clearsigned(&keyring()?, &body, &verify_opts)
                    .map_err(|source| SyncError::Signature {
                        mirror: name.to_owned(),
                        url: inrelease_url.to_string(),
                        source,
                    })?
                    .text
            };
            (inrelease_url, body, text, validators)
        }
        Small::NotFound => {
            let release_url = join("Release")?;
            let (body, validators) = match ctx
                .fetcher
                .get_small(&release_url, validators, MAX_RELEASE_BYTES)
                .await
                .map_err(fetch_err("Release"))?
            {
                Small::NotModified => return Ok(None),
                Small::NotFound => {
                    return Err(SyncError::NoRelease {
                        mirror: name.to_owned(),
                        url: dists.to_string(),
                    });
                }
                Small::Fetched { body, validators } => (body, validators),
            };
            *downloaded += body.len() as u64;
            if !(mirror.spec.allow_insecure && mirror.spec.keyrings.is_empty()) {
                let sig_url = join("Release.gpg")?;
                let sig = match ctx
                    .fetcher
                    .get_small(&sig_url, None, 1 << 20)
                    .await
                    .map_err(fetch_err("Release.gpg"))?
                {
                    Small::Fetched { body, .. } => body,
                    _ => {
                        return Err(SyncError::Unsigned {
                            mirror: name.to_owned(),
                            url: release_url.to_string(),
                        });
                    }
                };
                *downloaded += sig.len() as u64;
                pgp::verify_detached(&keyring()?, &body, &sig, &verify_opts).map_err(|source| {
                    SyncError::Signature {
                        mirror: name.to_owned(),
                        url: sig_url.to_string(),
                        source,
                    }
                })?;
            }
            let text = body.to_vec();
            (release_url, body, text, validators)
        }
    };
    let text = String::from_utf8(text).map_err(|_| SyncError::BadRelease {
        mirror: name.to_owned(),
        url: url.to_string(),
        detail: "not UTF-8".into(),
    })?;
    let release = Release::parse(&text).map_err(|e| SyncError::BadRelease {
        mirror: name.to_owned(),
        url: url.to_string(),
        detail: e.to_string(),
    })?;
    Ok(Some(ReleaseDoc {
        url: url.to_string(),
        sha256: Sha256::of(&raw),
        validators,
        release,
    }))
}

/// Downloads one index into `dest`, by hash when offered (falling back to the plain name).
pub(super) async fn fetch_index(
    ctx: &Context,
    dists: &Url,
    by_hash: bool,
    index: &IndexRef,
    dest: &std::path::Path,
) -> Result<u64, FetchError> {
    let expected = Expected {
        size: Some(index.size),
        sha256: Some(index.sha256),
    };
    let plain = dists
        .join(&index.path)
        .map_err(|_| FetchError::InvalidUrl(format!("{dists}{}", index.path)))?;
    if by_hash {
        let dir = index.path.rsplit_once('/').map_or("", |(d, _)| d);
        let url = dists
            .join(&format!("{dir}/by-hash/SHA256/{}", index.sha256))
            .map_err(|_| FetchError::InvalidUrl(format!("{dists}{dir}/by-hash")))?;
        match ctx.fetcher.download(&url, &expected, dest).await {
            Ok(d) => return Ok(d.size),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ctx.fetcher.download(&plain, &expected, dest).await?.size)
}
