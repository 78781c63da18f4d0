//! Flat repositories (`deb URL ./`, `deb URL dir/`): no `dists/` tree.
//!
//! The Release (InRelease, or Release + Release.gpg) and one `Packages`
//! (and `Sources`) for every architecture sit in the directory the suite
//! names, and `Filename`s are relative to the URL, as apt reads them. The
//! Release often has neither `Components` nor `Architectures`: the mirror
//! takes the architectures it was given and publishes everything under one
//! component, `main` unless the operator named another. The sync reads the
//! indices like a component's, then drops the architectures it was not
//! asked for, which a per-architecture index would not have listed.

use super::SyncError;
use super::release::{IndexRef, SMALLEST_FIRST, best_index};
use crate::debian::release::Release;
use crate::model::Mirror;
use crate::ops::upstream::Upstream;

/// The component a flat repository's packages are published under when the
/// operator names none.
pub const DEFAULT_COMPONENT: &str = "main";

/// The component a flat mirror publishes its packages under.
pub(super) fn component(mirror: &Mirror) -> &str {
    mirror
        .spec
        .components
        .first()
        .map_or(DEFAULT_COMPONENT, String::as_str)
}

/// The indices of a flat repository: its `Packages`, and its `Sources` when
/// source packages are mirrored, each at the best compression the Release
/// lists with a SHA256.
pub(super) fn indices(mirror: &Mirror, release: &Release) -> Result<Vec<IndexRef>, SyncError> {
    let component = component(mirror);
    let mut stems = vec![("Packages", "binary packages")];
    if mirror.spec.with_sources {
        stems.push(("Sources", "source packages (`--with-sources`)"));
    }
    stems
        .into_iter()
        .map(|(stem, what)| {
            best_index(release, component, stem, &SMALLEST_FIRST).ok_or_else(|| {
                SyncError::MissingIndex {
                    mirror: mirror.name.clone(),
                    what: format!("index `{stem}` (with a SHA256) of the flat repository, {what}"),
                }
            })
        })
        .collect()
}

/// Keeps the packages of the mirror's architectures, `all` and source
/// packages: a flat `Packages` lists every architecture at once.
pub(super) fn keep_architectures(mirror: &Mirror, upstream: &mut Upstream) {
    let wanted = |arch: &str| {
        arch == "all" || arch == "source" || mirror.spec.architectures.iter().any(|a| a == arch)
    };
    let keep: Vec<usize> = (upstream.packages.iter().enumerate())
        .filter(|(_, p)| wanted(&p.architecture))
        .map(|(i, _)| i)
        .collect();
    if keep.len() < upstream.packages.len() {
        upstream.keep_only(&keep);
    }
}
