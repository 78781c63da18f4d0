//! The AppStream indices of a publication: `<component>/dep11/
//! Components-<arch>.yml` holding the documents of the packages it
//! publishes, and `icons-<size>.tar` holding only the icons those
//! documents name.
//!
//! The documents come from the rows syncs stored per package (.deb), so a
//! snapshot gets exactly its packages' metadata, and a snapshot merged
//! from several mirrors each package's own. Each Components file starts
//! with the header most of its packages came with (upstream's `Origin`,
//! `MediaBaseUrl`…), then the documents of its architecture's packages
//! and of the `all` ones, by package name. Components and architectures
//! without metadata get no file: apt only fetches what the Release lists.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use super::PublishError;
use crate::db::{Db, DbError, SOURCE_ARCH};
use crate::debian::dep11::Dep11Reader;
use crate::debian::ustar;
use crate::digest::Sha256;
use crate::model::PackageRecord;
use crate::tree::{IndexInput, IndexKind};

/// The AppStream indices for `records` (component, package) published for
/// `architectures`.
pub(super) fn appstream_indices(
    db: &Db,
    records: &[(String, PackageRecord)],
    architectures: &[String],
) -> Result<Vec<IndexInput>, PublishError> {
    let shas: Vec<Sha256> = records
        .iter()
        .filter(|(_, r)| r.architecture != SOURCE_ARCH)
        .map(|(_, r)| r.sha256)
        .collect();
    let docs = db.appstream_docs(&shas)?;
    if docs.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_component: BTreeMap<&str, Vec<&PackageRecord>> = BTreeMap::new();
    for (component, r) in records {
        if docs.contains_key(&r.sha256) {
            by_component.entry(component).or_default().push(r);
        }
    }
    let mut headers: HashMap<Sha256, String> = HashMap::new();
    let mut out = Vec::new();
    for (component, mut list) in by_component {
        list.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then(a.architecture.cmp(&b.architecture))
        });
        list.dedup_by_key(|r| r.sha256);
        for arch in architectures
            .iter()
            .filter(|a| *a != "all" && *a != SOURCE_ARCH)
        {
            let members: Vec<&PackageRecord> = list
                .iter()
                .copied()
                .filter(|r| r.architecture == *arch || r.architecture == "all")
                .collect();
            let Some(header) = most_common(members.iter().map(|r| docs[&r.sha256].header)) else {
                continue;
            };
            let text = match headers.entry(header) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(db.appstream_header(&header)?.unwrap_or_default()),
            };
            let mut stanzas = vec![text.clone()];
            stanzas.extend(members.iter().flat_map(|r| split(&docs[&r.sha256].yaml)));
            out.push(IndexInput {
                component: component.to_owned(),
                kind: IndexKind::Components {
                    architecture: arch.clone(),
                },
                stanzas,
            });
        }
        let shas: Vec<Sha256> = list.iter().map(|r| r.sha256).collect();
        out.extend(icon_indices(db, component, &shas)?);
    }
    Ok(out)
}

/// The icons tarballs of `component`: per size, the icons its packages
/// (`shas`) name, by file name.
fn icon_indices(
    db: &Db,
    component: &str,
    shas: &[Sha256],
) -> Result<Vec<IndexInput>, PublishError> {
    let icons = db.appstream_icons(shas)?;
    let mut by_size: BTreeMap<&str, Vec<(&str, &[u8])>> = BTreeMap::new();
    for ((size, name), data) in &icons {
        by_size.entry(size).or_default().push((name, data));
    }
    let mut out = Vec::new();
    for (size, entries) in by_size {
        // Names were checked when stored: a bad one is a damaged row.
        let tar = ustar::write_flat(entries).map_err(|e| DbError::Corrupt {
            what: format!("AppStream `{size}` icons of component `{component}`"),
            detail: e.to_string(),
        })?;
        out.push(IndexInput {
            component: component.to_owned(),
            kind: IndexKind::Icons {
                size: size.to_owned(),
                tar,
            },
            stanzas: Vec::new(),
        });
    }
    Ok(out)
}

/// The documents of stored `yaml`, one record each.
fn split(yaml: &str) -> Vec<String> {
    Dep11Reader::new(yaml.as_bytes(), usize::MAX >> 1)
        .filter_map(Result::ok)
        .map(|d| d.text)
        .collect()
}

/// The value seen most often (the smallest of those tied), if any.
fn most_common<T: Ord + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let top = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == top).map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_common_header_wins_ties_by_order() {
        assert_eq!(most_common([3, 1, 3, 2].into_iter()), Some(3));
        assert_eq!(most_common([2, 1].into_iter()), Some(1));
        assert_eq!(most_common(std::iter::empty::<u8>()), None);
    }

    #[test]
    fn stored_documents_split_back_into_records() {
        let yaml = "---\nPackage: a\nID: one\n---\nPackage: a\nID: two\n";
        assert_eq!(
            split(yaml),
            ["---\nPackage: a\nID: one\n", "---\nPackage: a\nID: two\n"]
        );
    }
}
