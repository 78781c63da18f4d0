//! Source packages in a sync (`--with-sources`).
//!
//! The `Sources` indices are parsed into the same [`UpstreamPackage`] list as
//! the binaries, with architecture `source`, so planning, freezes, staging
//! and the commit treat them like any package. The closure never selects
//! them (it resolves the mirror's architectures only); [`follow_sources`]
//! adds them after it: the source of each selected binary (`Source: name
//! (version)`, `Source: name` = the binary's version, none = the binary's
//! own name) and every source the filter matches by itself.

use std::collections::HashMap;

use crate::debian::sources::parse_files;
use crate::digest::Sha256;
use crate::ops::upstream::UpstreamPackage;
use crate::query::{Candidate as _, Filter, Selection};

/// Adds the source packages to `selection`; returns the selected binaries
/// whose source the upstream does not list, as ``source `name version` of `binary` ``.
pub(super) fn follow_sources(
    packages: &[UpstreamPackage],
    filter: &Filter,
    selection: &mut Selection,
) -> Vec<String> {
    let by_key: HashMap<(&str, &str), usize> = packages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_source())
        .map(|(i, p)| ((&*p.name, p.version.as_str()), i))
        .collect();
    if by_key.is_empty() {
        return Vec::new();
    }
    let mut added: Vec<usize> = by_key
        .values()
        .copied()
        .filter(|&i| filter.matches(&packages[i]))
        .collect();
    let mut missing = Vec::new();
    for &i in &selection.selected {
        let p = &packages[i];
        if p.is_source() {
            continue;
        }
        let (name, version) = source_of(p);
        match by_key.get(&(name, version)) {
            Some(&s) => added.push(s),
            None => missing.push(format!("source `{name} {version}` of `{}`", p.name)),
        }
    }
    selection.selected.extend(added);
    selection.selected.sort_unstable();
    selection.selected.dedup();
    missing.sort();
    missing.dedup();
    missing
}

/// The (name, version) of a binary's source package.
fn source_of(p: &UpstreamPackage) -> (&str, &str) {
    let Some(field) = p.field("Source") else {
        return (&p.name, p.version.as_str());
    };
    match field.split_once('(') {
        None => (field.trim_ascii(), p.version.as_str()),
        Some((name, rest)) => (
            name.trim_ascii(),
            rest.trim_ascii_end().trim_end_matches(')').trim_ascii(),
        ),
    }
}

/// The files to fetch for a package: (digest, size, file position) — a
/// source package's every `Checksums-Sha256` entry, else the package's own
/// file (`None`).
pub(super) fn files_of(p: &UpstreamPackage) -> Vec<(Sha256, u64, Option<u32>)> {
    if !p.is_source() {
        return vec![(p.sha256, p.size, None)];
    }
    // Checked when the index was parsed; a failure here lists no files.
    let files = p
        .field("Checksums-Sha256")
        .and_then(|v| parse_files(&p.name, v).ok())
        .unwrap_or_default();
    files
        .into_iter()
        .enumerate()
        .map(|(k, f)| (f.sha256, f.size, Some(k as u32)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str, arch: &str, fields: &str) -> UpstreamPackage {
        UpstreamPackage::for_test(name, version, arch, Sha256::of(name.as_bytes()), 1, fields)
    }

    fn sources_fields() -> String {
        format!(
            "Checksums-Sha256: \n {} 10 foo_1.0-1.dsc\n {} 20 foo_1.0.orig.tar.gz\n",
            Sha256::of(b"dsc"),
            Sha256::of(b"orig")
        )
    }

    #[test]
    fn sources_follow_binaries_and_the_filter() {
        let packages = vec![
            pkg("foo-utils", "1.0-1+b1", "amd64", "Source: foo (1.0-1)\n"),
            pkg("bar", "2.0", "amd64", ""),
            pkg("baz", "3.0", "amd64", "Source: qux\n"),
            pkg("foo", "1.0-1", "source", &sources_fields()),
            pkg("foo", "0.9-1", "source", &sources_fields()),
            pkg("bar", "2.0", "source", ""),
            pkg("lone", "5", "source", ""),
        ];
        let filter = Filter::parse("foo-utils | baz | lone").expect("filter");
        let mut selection = Selection {
            selected: vec![0, 2],
            unresolved: Vec::new(),
            left_out: Vec::new(),
        };
        let missing = follow_sources(&packages, &filter, &mut selection);
        assert_eq!(selection.selected, [0, 2, 3, 6]);
        assert_eq!(missing, ["source `qux 3.0` of `baz`"]);
        let files = files_of(&packages[3]);
        assert_eq!(files.len(), 2);
        assert_eq!(files[1], (Sha256::of(b"orig"), 20, Some(1)));
        assert_eq!(files_of(&packages[1]), [(Sha256::of(b"bar"), 1, None)]);
    }
}
