//! The Debian installer's packages (`--with-udebs`).
//!
//! d-i's packages are listed apart from the others, in
//! `<component>/debian-installer/binary-<arch>/Packages`; their pool files
//! end in `.udeb`. A sync with `--with-udebs` fetches those indices like any
//! other ([`choose`] picks the best compression the verified Release lists;
//! [`read_into`] checks size and SHA256 while streaming) and parses them
//! into the same [`Upstream`] *after* every other index, the group's
//! included: the udebs are then a suffix of the package list ([`start`]),
//! over which the mirror's filter and dependency closure run alone
//! ([`crate::query::udebs`]).
//!
//! From there a udeb is a package like any other (plan, downloads, one
//! commit, snapshots, gc, verify). It is told apart by its `Filename`
//! ending in `.udeb`, which the archive guarantees and the database keeps
//! ([`crate::debian::packages::is_udeb`]): no schema change, and a snapshot merged or filtered from
//! mirrors with udebs keeps them apart without knowing where they came from.

use url::Url;

use super::release::{IndexBytes, IndexRef, SMALLEST_FIRST, best_index, obtain, parse_staged};
use super::{SyncError, warn};
use crate::debian::release::Release;
use crate::model::Mirror;
use crate::ops::Context;
use crate::ops::upstream::{Upstream, UpstreamPackage};

/// The installer index of `component` for `architecture`, without a
/// compression suffix.
fn stem(component: &str, architecture: &str) -> String {
    format!("{component}/debian-installer/binary-{architecture}/Packages")
}

/// The installer indices a sync reads, and where.
pub(super) struct Pending {
    /// The mirror's `dists/SUITE/` URL.
    pub dists: Url,
    /// Whether the Release offers by-hash.
    pub by_hash: bool,
    /// The indices, by component then architecture; empty without
    /// `--with-udebs`.
    pub indices: Vec<IndexRef>,
}

/// The installer indices of the components of `indices` (each once) for the
/// mirror's architectures, at their best compression; none without
/// `--with-udebs`. A component without them (Debian's `non-free-firmware`
/// has none) is a warning; a mirror whose Release lists none at all is an
/// error, as a missing `Packages` is.
pub(super) fn choose(
    ctx: &Context,
    mirror: &Mirror,
    release: &Release,
    dists: &Url,
    indices: &[IndexRef],
) -> Result<Pending, SyncError> {
    let mut pending = Pending {
        dists: dists.clone(),
        by_hash: release.acquire_by_hash,
        indices: Vec::new(),
    };
    if !mirror.spec.with_udebs {
        return Ok(pending);
    }
    let mut components: Vec<&str> = Vec::new();
    for i in indices.iter().filter(|i| !i.is_sources()) {
        if !components.contains(&i.component.as_str()) {
            components.push(&i.component);
        }
    }
    let out = &mut pending.indices;
    let mut missing = Vec::new();
    for component in components {
        for arch in &mirror.spec.architectures {
            let stem = stem(component, arch);
            match best_index(release, component, &stem, &SMALLEST_FIRST) {
                Some(index) => out.push(index),
                None => missing.push(stem),
            }
        }
    }
    if out.is_empty() && !missing.is_empty() {
        return Err(SyncError::MissingIndex {
            mirror: mirror.name.clone(),
            what: format!(
                "installer index `{}` (with a SHA256) for `--with-udebs`",
                missing.join("`, `")
            ),
        });
    }
    for stem in missing {
        warn(
            ctx,
            &mirror.name,
            format!("the Release lists no `{stem}`; that component has no udebs here"),
        );
    }
    Ok(pending)
}

/// Fetches the `pending` installer indices (checked against the Release) and parses
/// them into `upstream` after everything already there, appending their
/// components to `components`. Returns the component number the udebs
/// start at (`components.len()` before the call).
pub(super) async fn read_into(
    ctx: &Context,
    mirror: &Mirror,
    pending: &Pending,
    upstream: &mut Upstream,
    components: &mut Vec<String>,
    bytes: &mut IndexBytes,
) -> Result<usize, SyncError> {
    let first = components.len();
    let name = mirror.name.as_str();
    for index in &pending.indices {
        let staged = ctx.store.staging_path(None)?;
        let (dists, by_hash) = (&pending.dists, pending.by_hash);
        let got = obtain(ctx, mirror, dists, by_hash, index, &staged, bytes).await;
        if let Err(e) = got {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
        let number = u32::try_from(components.len()).unwrap_or(u32::MAX);
        parse_staged(name, index, &staged, |reader| {
            upstream.parse(reader, number, None)
        })?;
        components.push(index.component.clone());
    }
    Ok(first)
}

/// Where the udebs start in `packages`: the first package listed under a
/// component number from `first` on (all of them are, being parsed last),
/// or the end when the mirror has none.
pub(super) fn start(packages: &[UpstreamPackage], first: Option<usize>) -> usize {
    match first {
        Some(first) => packages
            .iter()
            .position(|p| p.component as usize >= first)
            .unwrap_or(packages.len()),
        None => packages.len(),
    }
}
