//! Source packages in a selection (a sync with `--with-sources`, or
//! `snapshot filter`).
//!
//! A source package is a candidate of architecture `source`. The closure
//! never selects one (it resolves binary architectures only);
//! [`follow_sources`] adds them after it: the source of each selected
//! binary (`Source: name (version)`, `Source: name` = the binary's version,
//! none = the binary's own name) and every source the filter matches by
//! itself.

use std::collections::HashMap;

use super::{Candidate, Filter, Selection};
use crate::debian::sources::{SOURCE_ARCH, split_source_field};

/// Adds the source packages to `selection`; returns the selected binaries
/// whose source the upstream does not list, as ``source `name version` of `binary` ``.
pub fn follow_sources<C: Candidate>(
    packages: &[C],
    filter: &Filter,
    selection: &mut Selection,
) -> Vec<String> {
    let by_key: HashMap<(&str, &str), usize> = packages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.architecture() == SOURCE_ARCH)
        .map(|(i, p)| ((p.name(), p.version().as_str()), i))
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
        if p.architecture() == SOURCE_ARCH {
            continue;
        }
        let (name, version) = source_of(p);
        match by_key.get(&(name, version)) {
            Some(&s) => added.push(s),
            None => missing.push(format!("source `{name} {version}` of `{}`", p.name())),
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
fn source_of<C: Candidate>(p: &C) -> (&str, &str) {
    let Some(field) = p.field("Source") else {
        return (p.name(), p.version().as_str());
    };
    let (name, version) = split_source_field(field);
    (name, version.unwrap_or(p.version().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debian::version::Version;

    struct Pkg(&'static str, Version, &'static str, &'static str);

    impl Candidate for Pkg {
        fn name(&self) -> &str {
            self.0
        }
        fn version(&self) -> &Version {
            &self.1
        }
        fn architecture(&self) -> &str {
            self.2
        }
        fn field(&self, name: &str) -> Option<&str> {
            crate::debian::deb822::find_field(self.3, name)
        }
    }

    fn pkg(name: &'static str, version: &str, arch: &'static str, fields: &'static str) -> Pkg {
        Pkg(
            name,
            Version::parse(version).expect("version"),
            arch,
            fields,
        )
    }

    #[test]
    fn sources_follow_binaries_and_the_filter() {
        let packages = vec![
            pkg("foo-utils", "1.0-1+b1", "amd64", "Source: foo (1.0-1)\n"),
            pkg("bar", "2.0", "amd64", ""),
            pkg("baz", "3.0", "amd64", "Source: qux\n"),
            pkg("foo", "1.0-1", "source", ""),
            pkg("foo", "0.9-1", "source", ""),
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
    }
}
