//! The `Packages` indices of a publication, built from a pool plan (or from
//! the guess that every package is at its plain pool path): the stanzas as
//! stored, with `Filename` pointing at the planned pool path. Rendering them
//! into a tree is [`crate::tree`]'s work.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::pool::{Item, plain_pool_path};
use crate::db::SOURCE_ARCH;
use crate::debian::packages::is_udeb;
use crate::debian::version;
use crate::model::PackageRecord;
use crate::tree::{IndexInput, IndexKind};

/// The `Packages` indices: one per component and architecture
/// (`architectures`; `all` packages in each), stanzas sorted by name, version and
/// architecture, `Filename` pointing at the pool path.
pub(super) fn build_indices<'a>(
    architectures: &[String],
    entries: impl Iterator<Item = Entry<'a>>,
) -> Vec<IndexInput> {
    let archs: Vec<&String> = architectures
        .iter()
        .filter(|a| a.as_str() != "all" && a.as_str() != SOURCE_ARCH)
        .collect();
    let mut by_component: BTreeMap<&str, Vec<Entry<'a>>> = BTreeMap::new();
    for e in entries {
        by_component.entry(e.0).or_default().push(e);
    }
    // Sources in any component: a `Sources` index in each (apt wants every
    // index a `deb-src` line asks for).
    let sources = by_component
        .values()
        .flatten()
        .any(|e| e.1.architecture == SOURCE_ARCH);
    // Likewise the installer's `debian-installer/binary-<arch>/Packages`.
    let udebs = by_component
        .values()
        .flatten()
        .any(|e| is_udeb(&e.1.filename));
    let mut out = Vec::new();
    for (component, mut list) in by_component {
        list.sort_by(|(_, a, _), (_, b, _)| {
            a.name
                .cmp(&b.name)
                .then_with(|| version::compare(&a.version, &b.version))
                .then_with(|| a.architecture.cmp(&b.architecture))
        });
        for arch in &archs {
            let stanzas = |udeb: bool| {
                list.iter()
                    .filter(|(_, r, _)| r.architecture == **arch || r.architecture == "all")
                    .filter(|(_, r, _)| is_udeb(&r.filename) == udeb)
                    .map(|(_, r, path)| with_filename(&r.stanza, path))
                    .collect()
            };
            out.push(IndexInput::packages(component, arch, stanzas(false)));
            if udebs {
                out.push(IndexInput {
                    component: component.to_owned(),
                    kind: IndexKind::Installer {
                        architecture: (*arch).clone(),
                    },
                    stanzas: stanzas(true),
                });
            }
        }
        if sources {
            let entries = list.iter().map(|(_, r, path)| (*r, path.as_ref()));
            out.push(super::sources::sources_index(component, entries));
        }
    }
    out
}

/// A package in an index: its component, its record and its pool path.
type Entry<'a> = (&'a str, &'a PackageRecord, Cow<'a, str>);

/// The index entries of planned packages.
pub(super) fn entries<'a>(items: &'a [Item<'_>]) -> impl Iterator<Item = Entry<'a>> {
    items
        .iter()
        .map(|it| (it.component, it.record, Cow::Borrowed(it.action.path())))
}

/// The index entries of packages all at their plain pool paths.
pub(super) fn plain_entries(
    records: &[(String, PackageRecord)],
) -> impl Iterator<Item = Entry<'_>> {
    records
        .iter()
        .map(|(c, r)| (c.as_str(), r, Cow::Owned(plain_pool_path(c, r))))
}

/// `stanza` with its `Filename` set to `path`, ending in one line break and
/// free of blank lines.
fn with_filename(stanza: &str, path: &str) -> String {
    let mut out = String::with_capacity(stanza.len() + path.len());
    let mut seen = false;
    for line in stanza.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let is_filename = line.split_once(':').is_some_and(|(k, _)| {
            !line.starts_with([' ', '\t']) && k.eq_ignore_ascii_case("Filename")
        });
        if is_filename {
            out.push_str("Filename: ");
            out.push_str(path);
            seen = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !seen {
        out.push_str("Filename: ");
        out.push_str(path);
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn filename_is_replaced() {
        let s = "Package: a\nVersion: 1\nFilename: pool/x/a.deb\nDescription: d\n more\n";
        assert_eq!(
            with_filename(s, "pool/main/a/a/a.deb"),
            "Package: a\nVersion: 1\nFilename: pool/main/a/a/a.deb\nDescription: d\n more\n"
        );
        assert_eq!(
            with_filename("Package: a\n\n", "p/a.deb"),
            "Package: a\nFilename: p/a.deb\n"
        );
    }
}
