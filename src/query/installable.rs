//! Installability: which dependencies of a package set nothing in the set
//! satisfies (aptly's `snapshot verify`).
//!
//! A publication is only useful if apt can install from it, so this module
//! answers, the way dpkg and apt would, whether each `Pre-Depends` and
//! `Depends` item of each package has a satisfier in the same set:
//! alternatives (`a | b`), versioned relations, `Provides` (a versioned
//! `Provides: foo (= 1.2)` satisfies `foo (>= 1)`, an unversioned one only
//! unversioned relations), `Architecture: all` packages (checked for every
//! architecture of the set) and Multi-Arch: a `Multi-Arch: foreign` package
//! satisfies dependents of any architecture, `foo:any` needs a
//! `Multi-Arch: allowed` (or foreign) `foo`, and `foo:amd64` an amd64 one.
//!
//! [`Universe`] indexes packages once (names and provided names, sorted and
//! searched by bisection, like the closure); every query takes a `present`
//! predicate, so one index answers for several candidate sets — the live
//! set before and after a promotion, say — without being rebuilt.

use std::collections::BTreeSet;

use super::Candidate;
use crate::debian::relation::{Dependency, Relation, parse_relations};
use crate::debian::version::Version;

/// The fields a package needs satisfied to be installed.
pub const INSTALL_FIELDS: [&str; 2] = ["Pre-Depends", "Depends"];

/// A package's `Multi-Arch` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MultiArch {
    /// `no`, `same` or absent: satisfies dependents of its own architecture.
    Own,
    /// `foreign`: satisfies dependents of every architecture.
    Foreign,
    /// `allowed`: also satisfies `foo:any` from every architecture.
    Allowed,
}

impl MultiArch {
    fn of<C: Candidate>(p: &C) -> MultiArch {
        match p.field("Multi-Arch").map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("foreign") => MultiArch::Foreign,
            Some(v) if v.eq_ignore_ascii_case("allowed") => MultiArch::Allowed,
            _ => MultiArch::Own,
        }
    }
}

/// A dependency of a package that nothing present satisfies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Unmet {
    /// Index of the depending package in the universe's slice.
    pub package: usize,
    /// `Pre-Depends` or `Depends` (or whichever field was checked).
    pub field: &'static str,
    /// The dependency as written (canonical form), or the raw field text
    /// when the field does not parse.
    pub dependency: String,
}

/// Packages indexed for dependency queries.
pub struct Universe<'p, C> {
    packages: &'p [C],
    multi_arch: Vec<MultiArch>,
    /// Every package, sorted by name (then index).
    by_name: Vec<u32>,
    /// Every `Provides` entry: (virtual name, provider, provided version),
    /// sorted by the virtual name.
    provides: Vec<(Box<str>, usize, Option<Version>)>,
    /// The architectures an `all` package is checked for.
    architectures: Vec<String>,
}

impl<'p, C: Candidate> Universe<'p, C> {
    /// Indexes `packages`. `architectures` are those an `Architecture: all`
    /// package is installed on; empty means every non-`all` architecture
    /// present (`all` alone if there is none).
    pub fn new(packages: &'p [C], architectures: &[String]) -> Self {
        let mut by_name: Vec<u32> = Vec::with_capacity(packages.len());
        let mut provides = Vec::new();
        for (i, p) in packages.iter().enumerate() {
            // Slices beyond 4 billion packages do not occur.
            let Ok(index) = u32::try_from(i) else {
                break;
            };
            by_name.push(index);
            for (name, version) in super::provided_names(p) {
                provides.push((name.into_boxed_str(), i, version));
            }
        }
        by_name.sort_by(|&a, &b| packages[a as usize].name().cmp(packages[b as usize].name()));
        provides.sort_by(|a, b| a.0.cmp(&b.0));
        let architectures = if architectures.is_empty() {
            let present: BTreeSet<&str> = packages
                .iter()
                .map(Candidate::architecture)
                .filter(|a| *a != "all")
                .collect();
            if present.is_empty() {
                vec!["all".to_owned()]
            } else {
                present.into_iter().map(str::to_owned).collect()
            }
        } else {
            architectures.to_vec()
        };
        Universe {
            packages,
            multi_arch: packages.iter().map(MultiArch::of).collect(),
            by_name,
            provides,
            architectures,
        }
    }

    /// The indexed packages.
    pub fn packages(&self) -> &'p [C] {
        self.packages
    }

    /// The architectures package `i` is installed as: its own, or every
    /// architecture of the universe for an `all` package.
    pub fn install_architectures(&self, i: usize) -> Vec<&str> {
        match self.packages[i].architecture() {
            "all" => self.architectures.iter().map(String::as_str).collect(),
            own => vec![own],
        }
    }

    /// Whether package `j` can satisfy a relation qualified by `qualifier`
    /// for a dependent installed as `arch`.
    fn arch_ok(&self, j: usize, qualifier: Option<&str>, arch: &str) -> bool {
        let own = self.packages[j].architecture();
        let ma = self.multi_arch[j];
        match qualifier {
            None | Some("native") => own == arch || own == "all" || ma == MultiArch::Foreign,
            Some("any") => matches!(ma, MultiArch::Allowed | MultiArch::Foreign),
            Some(q) => own == q || own == "all",
        }
    }

    fn named(&self, name: &str) -> &[u32] {
        let name_of = |k: &u32| self.packages[*k as usize].name();
        let start = self.by_name.partition_point(|k| name_of(k) < name);
        let end = self.by_name.partition_point(|k| name_of(k) <= name);
        &self.by_name[start..end]
    }

    fn providing(&self, name: &str) -> &[(Box<str>, usize, Option<Version>)] {
        let start = self.provides.partition_point(|(n, _, _)| &**n < name);
        let end = self.provides.partition_point(|(n, _, _)| &**n <= name);
        &self.provides[start..end]
    }

    /// The packages `present` accepts that satisfy `rel` for a dependent
    /// installed as `arch`: real packages (in input order), then providers
    /// with their provided version.
    fn satisfiers(
        &self,
        rel: &Relation,
        arch: &str,
        present: &dyn Fn(usize) -> bool,
    ) -> (Vec<usize>, Vec<(usize, Option<&Version>)>) {
        let q = rel.arch_qualifier.as_deref();
        let real = self
            .named(&rel.name)
            .iter()
            .map(|&k| k as usize)
            .filter(|&j| present(j) && self.arch_ok(j, q, arch))
            .filter(|&j| {
                rel.constraint
                    .as_ref()
                    .is_none_or(|c| c.matches(self.packages[j].version()))
            })
            .collect();
        let provided = self
            .providing(&rel.name)
            .iter()
            .filter(|(_, j, _)| present(*j) && self.arch_ok(*j, q, arch))
            .filter(|(_, _, v)| match (&rel.constraint, v) {
                (None, _) => true,
                (Some(c), Some(v)) => c.matches(v),
                (Some(_), None) => false,
            })
            .map(|(_, j, v)| (*j, v.as_ref()))
            .collect();
        (real, provided)
    }

    /// Whether something `present` satisfies `dep` for a dependent
    /// installed as `arch`.
    pub fn satisfied(&self, dep: &Dependency, arch: &str, present: &dyn Fn(usize) -> bool) -> bool {
        dep.alternatives.is_empty()
            || dep.alternatives.iter().any(|rel| {
                let (real, provided) = self.satisfiers(rel, arch, present);
                !real.is_empty() || !provided.is_empty()
            })
    }

    /// Every package `present` accepts that satisfies some alternative of
    /// `dep` for a dependent installed as `arch`.
    pub fn all_satisfiers(
        &self,
        dep: &Dependency,
        arch: &str,
        present: &dyn Fn(usize) -> bool,
    ) -> Vec<usize> {
        let mut out = Vec::new();
        for rel in &dep.alternatives {
            let (real, provided) = self.satisfiers(rel, arch, present);
            out.extend(real);
            out.extend(provided.into_iter().map(|(j, _)| j));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The package apt would pick for `dep` among those `pool` accepts:
    /// the first alternative that has a satisfier; of it the highest
    /// version of a real package, else the provider with the highest
    /// provided version, then package version, then the lowest index.
    pub fn best(
        &self,
        dep: &Dependency,
        arch: &str,
        pool: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let pk = self.packages;
        dep.alternatives.iter().find_map(|rel| {
            let (real, provided) = self.satisfiers(rel, arch, pool);
            let best_real = real
                .into_iter()
                .max_by(|&a, &b| pk[a].version().cmp(pk[b].version()).then(b.cmp(&a)));
            best_real.or_else(|| {
                provided
                    .into_iter()
                    .max_by(|a, b| {
                        a.1.cmp(&b.1)
                            .then_with(|| pk[a.0].version().cmp(pk[b.0].version()))
                            .then(b.0.cmp(&a.0))
                    })
                    .map(|(j, _)| j)
            })
        })
    }

    /// The dependencies in `fields` of package `i`, parsed; a field that
    /// does not parse comes back as its raw text.
    pub fn dependencies(
        &self,
        i: usize,
        fields: &[&'static str],
    ) -> Vec<(&'static str, Result<Vec<Dependency>, String>)> {
        let mut out = Vec::new();
        for field in fields {
            let Some(text) = self.packages[i].field(field) else {
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            out.push((
                *field,
                parse_relations(text).map_err(|_| text.trim().to_owned()),
            ));
        }
        out
    }

    /// The dependencies in `fields` of package `i` that nothing `present`
    /// satisfies on some architecture `i` is installed as; each once.
    pub fn unmet_of(
        &self,
        i: usize,
        fields: &[&'static str],
        present: &dyn Fn(usize) -> bool,
    ) -> Vec<Unmet> {
        let archs = self.install_architectures(i);
        let mut out = Vec::new();
        for (field, parsed) in self.dependencies(i, fields) {
            match parsed {
                Ok(deps) => {
                    for dep in deps {
                        if archs.iter().any(|a| !self.satisfied(&dep, a, present)) {
                            out.push(Unmet {
                                package: i,
                                field,
                                dependency: dep.to_string(),
                            });
                        }
                    }
                }
                Err(raw) => out.push(Unmet {
                    package: i,
                    field,
                    dependency: raw,
                }),
            }
        }
        out
    }
}

/// Every `Pre-Depends` and `Depends` of `packages` that nothing among
/// them satisfies, in input order. `architectures` as for [`Universe::new`].
pub fn unmet<C: Candidate>(packages: &[C], architectures: &[String]) -> Vec<Unmet> {
    let universe = Universe::new(packages, architectures);
    (0..packages.len())
        .flat_map(|i| universe.unmet_of(i, &INSTALL_FIELDS, &|_| true))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::testing::{TestPackage, parse_stanzas};

    /// `name: field: dependency` of each unmet dependency.
    fn check(stanzas: &str, archs: &[&str]) -> Vec<String> {
        let pkgs: Vec<TestPackage> = parse_stanzas(stanzas);
        let archs: Vec<String> = archs.iter().map(|a| a.to_string()).collect();
        unmet(&pkgs, &archs)
            .iter()
            .map(|u| format!("{}: {}: {}", pkgs[u.package].name, u.field, u.dependency))
            .collect()
    }

    #[test]
    fn alternatives_versions_and_provides() {
        let got = check(
            "Package: app\nDepends: gone | lib (>= 2), mta, foo (>= 1), bar (>= 1)\nPre-Depends: lib (<< 1)\n\n\
             Package: lib\nVersion: 2.1\n\n\
             Package: postfix\nProvides: mta\n\n\
             Package: vfoo\nProvides: foo (= 1.2)\n\n\
             Package: plainbar\nProvides: bar\n",
            &["amd64"],
        );
        assert_eq!(
            got,
            ["app: Pre-Depends: lib (<< 1)", "app: Depends: bar (>= 1)"]
        );
    }

    #[test]
    fn arch_all_is_checked_for_every_architecture() {
        let stanzas = "Package: data\nArchitecture: all\nDepends: libc6\n\n\
             Package: libc6\nArchitecture: amd64\n";
        assert!(check(stanzas, &["amd64"]).is_empty());
        assert_eq!(
            check(stanzas, &["amd64", "arm64"]),
            ["data: Depends: libc6"]
        );
        // An `all` package satisfies dependents of any architecture.
        assert!(
            check(
                "Package: app\nArchitecture: arm64\nDepends: data\n\n\
                 Package: data\nArchitecture: all\n",
                &["arm64"]
            )
            .is_empty()
        );
    }

    #[test]
    fn multi_arch_rules() {
        let stanzas = "Package: app\nArchitecture: arm64\nDepends: tool, perl:any, py:any, lib:amd64, host:native\n\n\
             Package: tool\nArchitecture: amd64\nMulti-Arch: foreign\n\n\
             Package: perl\nArchitecture: amd64\nMulti-Arch: allowed\n\n\
             Package: py\nArchitecture: amd64\n\n\
             Package: lib\nArchitecture: amd64\n\n\
             Package: host\nArchitecture: amd64\n";
        assert_eq!(
            check(stanzas, &["amd64", "arm64"]),
            ["app: Depends: py:any", "app: Depends: host:native"]
        );
        // A plain foreign-arch package does not satisfy an unqualified dependency.
        assert_eq!(
            check(
                "Package: app\nArchitecture: arm64\nDepends: py\n\n\
                 Package: py\nArchitecture: amd64\nMulti-Arch: allowed\n",
                &["amd64", "arm64"]
            ),
            ["app: Depends: py"]
        );
        // A foreign provider provides for every architecture.
        assert!(
            check(
                "Package: app\nArchitecture: arm64\nDepends: awk\n\n\
                 Package: mawk\nArchitecture: amd64\nMulti-Arch: foreign\nProvides: awk\n",
                &["amd64", "arm64"]
            )
            .is_empty()
        );
    }

    #[test]
    fn unparsable_field_is_unmet() {
        assert_eq!(
            check("Package: app\nDepends: broken (>= \n", &["amd64"]),
            ["app: Depends: broken (>="]
        );
    }

    #[test]
    fn best_prefers_first_alternative_then_highest_version() {
        let pkgs = parse_stanzas(
            "Package: lib\nVersion: 1.0\n\n\
             Package: lib\nVersion: 3.0\n\n\
             Package: other\nVersion: 9\n\n\
             Package: prov\nProvides: virt (= 2)\n\n\
             Package: prov2\nProvides: virt (= 3)\n",
        );
        let u = Universe::new(&pkgs, &["amd64".to_owned()]);
        let dep = |s: &str| parse_relations(s).expect("parses").remove(0);
        assert_eq!(u.best(&dep("lib | other"), "amd64", &|_| true), Some(1));
        assert_eq!(
            u.best(&dep("lib (<< 2) | other"), "amd64", &|_| true),
            Some(0)
        );
        assert_eq!(u.best(&dep("lib | other"), "amd64", &|j| j > 1), Some(2));
        assert_eq!(u.best(&dep("virt"), "amd64", &|_| true), Some(4));
        assert_eq!(u.best(&dep("virt (<< 3)"), "amd64", &|_| true), Some(3));
        assert_eq!(u.best(&dep("nothing"), "amd64", &|_| true), None);
    }
}
