//! Filter selection plus dependency closure.
//!
//! A filtered mirror is only useful if what it keeps is installable: a
//! mirror of `curl` must also carry `libcurl4`, `libc6` and so on. This
//! module computes what aptly's `-filter-with-deps` computes, per
//! architecture: seed with the packages the [`Filter`] matches, then walk
//! `Pre-Depends`, `Depends` (and optionally `Recommends`), satisfying each
//! dependency the way apt would pick a default (first satisfiable
//! alternative, highest satisfying version, real packages before virtual
//! ones), and report what could not be satisfied instead of failing.
//!
//! Each architecture is resolved independently over its own packages plus
//! `Architecture: all` ones; the result is the union. Lookups go through
//! name and provided-name maps built once per architecture, and each
//! package's relation fields are parsed at most once per architecture, so
//! closures over full Debian indices (60k packages) are cheap.

use std::collections::{BTreeSet, HashSet, VecDeque};

use super::{Candidate, Filter};
use crate::debian::relation::{Dependency, Relation, parse_relations};
use crate::debian::version::Version;

/// How [`select`] extends the filter's matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClosureOptions {
    /// Pull in the dependency closure of the filter's matches.
    pub with_deps: bool,
    /// Treat `Recommends` like `Depends` while pulling in dependencies.
    pub follow_recommends: bool,
    /// Pull in a candidate for every alternative of `a | b`, not only the
    /// first satisfiable one (aptly's `-dep-follow-all-variants`): a
    /// debootstrap may take another branch than apt's default.
    pub follow_all_alternatives: bool,
    /// The mirror's architectures (e.g. `["amd64"]`). Packages of any other
    /// architecture except `all` are never selected. Empty means every
    /// distinct non-`all` architecture present in the input.
    pub architectures: Vec<String>,
}

impl ClosureOptions {
    /// The dependency fields the closure follows.
    fn followed(&self) -> &'static [&'static str] {
        if self.follow_recommends {
            &["Pre-Depends", "Depends", "Recommends"]
        } else {
            &["Pre-Depends", "Depends"]
        }
    }

    /// Every control field the closure reads through
    /// [`Candidate::field`]: the followed ones and `Provides` (none
    /// without `with_deps`). A caller that keeps only some fields of each
    /// package must keep these.
    pub fn fields(&self) -> Vec<&'static str> {
        if !self.with_deps {
            return Vec::new();
        }
        let mut out = self.followed().to_vec();
        out.push("Provides");
        out
    }
}

/// The outcome of [`select`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Indices into the input slice, sorted and unique.
    pub selected: Vec<usize>,
    /// Dependencies of selected packages that nothing could satisfy, in
    /// resolution order (architectures in option order).
    pub unresolved: Vec<Unresolved>,
    /// Alternatives the closure could have pulled in but did not, because
    /// an earlier alternative of the same dependency was taken (empty with
    /// `follow_all_alternatives`). One entry per (package, alternative).
    pub left_out: Vec<LeftOut>,
}

/// An alternative of a followed dependency that the closure left out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeftOut {
    /// Index of the depending package in the input slice.
    pub package: usize,
    /// The whole dependency (canonical form), e.g. `usrmerge | usr-is-merged`.
    pub dependency: String,
    /// The alternative left out, e.g. `usr-is-merged`.
    pub alternative: String,
}

/// A dependency of a selected package that no candidate satisfies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unresolved {
    /// Index of the depending package in the input slice.
    pub package: usize,
    /// The dependency as written (canonical form), or the raw field text if
    /// the field failed to parse.
    pub dependency: String,
    /// The architecture being resolved when it failed.
    pub architecture: String,
}

/// Select the packages matching `filter`, plus their dependency closure if
/// `opts.with_deps`. Deterministic for a given input order.
pub fn select<C: Candidate>(packages: &[C], filter: &Filter, opts: &ClosureOptions) -> Selection {
    select_roots(packages, |_, p| filter.matches(p), opts)
}

/// [`select`] with the roots given by `is_root` (package index, package)
/// instead of one filter: a mirror group's members each match their own
/// filter against their own packages, and one closure runs over all.
pub fn select_roots<C: Candidate>(
    packages: &[C],
    is_root: impl Fn(usize, &C) -> bool,
    opts: &ClosureOptions,
) -> Selection {
    let mut in_result = vec![false; packages.len()];
    let mut unresolved = Vec::new();
    let mut left_out: Vec<LeftOut> = Vec::new();
    let mut seen: HashSet<LeftOut> = HashSet::new();
    for arch in effective_architectures(packages, &opts.architectures) {
        let mut pass = ArchPass::new(packages, &arch, opts.with_deps);
        pass.run(&is_root, opts, &mut unresolved);
        for (slot, picked) in in_result.iter_mut().zip(&pass.selected) {
            *slot |= *picked;
        }
        for l in pass.left_out() {
            if seen.insert(l.clone()) {
                left_out.push(l);
            }
        }
    }
    Selection {
        selected: in_result
            .iter()
            .enumerate()
            .filter_map(|(i, picked)| picked.then_some(i))
            .collect(),
        unresolved,
        left_out,
    }
}

/// The requested architectures, deduplicated in order; or, if none were
/// requested, the sorted non-`all` architectures present (`all` alone if
/// the input has nothing else).
fn effective_architectures<C: Candidate>(packages: &[C], requested: &[String]) -> Vec<String> {
    if !requested.is_empty() {
        let mut out: Vec<String> = Vec::with_capacity(requested.len());
        for arch in requested {
            if !out.contains(arch) {
                out.push(arch.clone());
            }
        }
        return out;
    }
    let mut present = BTreeSet::new();
    let mut has_all = false;
    for p in packages {
        match p.architecture() {
            "all" => has_all = true,
            arch => {
                present.insert(arch);
            }
        }
    }
    if present.is_empty() && has_all {
        return vec!["all".to_string()];
    }
    present.into_iter().map(str::to_string).collect()
}

/// A package providing a virtual name, with the provided version if the
/// `Provides` entry was versioned (`foo (= 1.2)`).
struct Provider {
    index: usize,
    version: Option<Version>,
}

/// Resolution state for one architecture. The lookups by name are sorted
/// vectors searched by bisection rather than hash maps of vectors: a sync
/// resolves against every package an upstream lists (63,000 in bookworm
/// main), and maps of one-element vectors cost about 30 MB there.
struct ArchPass<'p, C> {
    packages: &'p [C],
    arch: &'p str,
    /// The candidates for this architecture, sorted by name (then index).
    by_name: Vec<u32>,
    /// Every `Provides` entry of the candidates, sorted by the virtual name
    /// (then index).
    provides: Vec<(Box<str>, Provider)>,
    selected: Vec<bool>,
    queue: VecDeque<usize>,
    /// Alternatives passed over while resolving: (depending package, the
    /// dependency, index of the alternative). Filtered by [`Self::left_out`].
    passed_over: Vec<(usize, Dependency, usize)>,
}

impl<'p, C: Candidate> ArchPass<'p, C> {
    fn new(packages: &'p [C], arch: &'p str, with_deps: bool) -> Self {
        let mut by_name: Vec<u32> = Vec::new();
        let mut provides: Vec<(Box<str>, Provider)> = Vec::new();
        if with_deps {
            for (i, p) in packages.iter().enumerate() {
                if !is_candidate(p, arch) {
                    continue;
                }
                // Package slices beyond 4 billion entries do not occur:
                // an index that large is not resolvable by name.
                let Ok(index) = u32::try_from(i) else {
                    break;
                };
                by_name.push(index);
                for (name, version) in super::provided_names(p) {
                    provides.push((name.into_boxed_str(), Provider { index: i, version }));
                }
            }
            // Stable sorts: equal names keep input order.
            by_name.sort_by(|&a, &b| packages[a as usize].name().cmp(packages[b as usize].name()));
            provides.sort_by(|a, b| a.0.cmp(&b.0));
        }
        ArchPass {
            packages,
            arch,
            by_name,
            provides,
            selected: vec![false; packages.len()],
            queue: VecDeque::new(),
            passed_over: Vec::new(),
        }
    }

    fn run(
        &mut self,
        is_root: &impl Fn(usize, &C) -> bool,
        opts: &ClosureOptions,
        unresolved: &mut Vec<Unresolved>,
    ) {
        for (i, p) in self.packages.iter().enumerate() {
            if is_candidate(p, self.arch) && is_root(i, p) {
                self.mark(i);
            }
        }
        if !opts.with_deps {
            return;
        }
        let fields = opts.followed();
        // Each package enters the queue once, so its fields parse once.
        while let Some(i) = self.queue.pop_front() {
            for field in fields {
                let Some(text) = self.packages[i].field(field) else {
                    continue;
                };
                if text.trim().is_empty() {
                    continue;
                }
                match parse_relations(text) {
                    Ok(deps) => {
                        for dep in &deps {
                            if opts.follow_all_alternatives {
                                self.resolve_all(i, dep, unresolved);
                            } else {
                                self.resolve(i, dep, unresolved);
                            }
                        }
                    }
                    Err(_) => unresolved.push(Unresolved {
                        package: i,
                        dependency: text.trim().to_string(),
                        architecture: self.arch.to_string(),
                    }),
                }
            }
        }
    }

    fn mark(&mut self, i: usize) {
        if !self.selected[i] {
            self.selected[i] = true;
            self.queue.push_back(i);
        }
    }

    fn resolve(&mut self, from: usize, dep: &Dependency, unresolved: &mut Vec<Unresolved>) {
        if dep.alternatives.is_empty() {
            return;
        }
        let taken = match dep
            .alternatives
            .iter()
            .position(|r| self.satisfied_by_selected(r))
        {
            Some(k) => Some(k),
            None => dep.alternatives.iter().enumerate().find_map(|(k, rel)| {
                let j = self.best_candidate(rel)?;
                self.mark(j);
                Some(k)
            }),
        };
        let Some(taken) = taken else {
            unresolved.push(Unresolved {
                package: from,
                dependency: dep.to_string(),
                architecture: self.arch.to_string(),
            });
            return;
        };
        for k in (0..dep.alternatives.len()).filter(|&k| k != taken) {
            self.passed_over.push((from, dep.clone(), k));
        }
    }

    /// Like [`Self::resolve`], but pulls in the best candidate of every
    /// alternative that has one.
    fn resolve_all(&mut self, from: usize, dep: &Dependency, unresolved: &mut Vec<Unresolved>) {
        let mut any = false;
        for rel in &dep.alternatives {
            if self.satisfied_by_selected(rel) {
                any = true;
            } else if let Some(j) = self.best_candidate(rel) {
                self.mark(j);
                any = true;
            }
        }
        if !any && !dep.alternatives.is_empty() {
            unresolved.push(Unresolved {
                package: from,
                dependency: dep.to_string(),
                architecture: self.arch.to_string(),
            });
        }
    }

    /// The passed-over alternatives that a candidate could satisfy and that
    /// nothing selected satisfies after all, in resolution order.
    fn left_out(&self) -> Vec<LeftOut> {
        let mut out: Vec<LeftOut> = Vec::new();
        let mut seen: HashSet<(usize, &Dependency, usize)> = HashSet::new();
        for (from, dep, k) in &self.passed_over {
            if !seen.insert((*from, dep, *k)) {
                continue;
            }
            let rel = &dep.alternatives[*k];
            if self.satisfied_by_selected(rel) || self.best_candidate(rel).is_none() {
                continue;
            }
            out.push(LeftOut {
                package: *from,
                dependency: dep.to_string(),
                alternative: rel.to_string(),
            });
        }
        out
    }

    fn real_satisfies(&self, i: usize, rel: &Relation) -> bool {
        rel.constraint
            .as_ref()
            .is_none_or(|c| c.matches(self.packages[i].version()))
    }

    /// The candidates named `rel.name`, in input order.
    fn real_packages(&self, rel: &Relation) -> &[u32] {
        let name = rel.name.as_str();
        let name_of = |k: &u32| self.packages[*k as usize].name();
        let start = self.by_name.partition_point(|k| name_of(k) < name);
        let end = self.by_name.partition_point(|k| name_of(k) <= name);
        &self.by_name[start..end]
    }

    /// The candidates providing `rel.name`, in input order.
    fn providers(&self, rel: &Relation) -> &[(Box<str>, Provider)] {
        let name = rel.name.as_str();
        let start = self.provides.partition_point(|(n, _)| &**n < name);
        let end = self.provides.partition_point(|(n, _)| &**n <= name);
        &self.provides[start..end]
    }

    fn satisfied_by_selected(&self, rel: &Relation) -> bool {
        self.real_packages(rel)
            .iter()
            .any(|&i| self.selected[i as usize] && self.real_satisfies(i as usize, rel))
            || self
                .providers(rel)
                .iter()
                .any(|(_, p)| self.selected[p.index] && provided_satisfies(p, rel))
    }

    /// The package apt would pick for `rel`: the highest satisfying version
    /// of a real package so named; failing that, the satisfying provider
    /// with the highest provided version, then package version, then the
    /// lowest name. Remaining ties go to the earliest input index.
    fn best_candidate(&self, rel: &Relation) -> Option<usize> {
        let pk = self.packages;
        let real = self
            .real_packages(rel)
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| self.real_satisfies(i, rel))
            .max_by(|&a, &b| pk[a].version().cmp(pk[b].version()).then(b.cmp(&a)));
        if real.is_some() {
            return real;
        }
        self.providers(rel)
            .iter()
            .map(|(_, p)| p)
            .filter(|p| provided_satisfies(p, rel))
            .max_by(|a, b| {
                a.version
                    .cmp(&b.version)
                    .then_with(|| pk[a.index].version().cmp(pk[b.index].version()))
                    .then_with(|| pk[b.index].name().cmp(pk[a.index].name()))
                    .then(b.index.cmp(&a.index))
            })
            .map(|p| p.index)
    }
}

fn is_candidate<C: Candidate>(p: &C, arch: &str) -> bool {
    let a = p.architecture();
    a == arch || a == "all"
}

/// dpkg semantics: an unversioned `Provides` satisfies only unversioned
/// relations; a versioned one (`= v`) satisfies a constraint `v` meets.
fn provided_satisfies(p: &Provider, rel: &Relation) -> bool {
    match &rel.constraint {
        None => true,
        Some(c) => p.version.as_ref().is_some_and(|v| c.matches(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::testing::{TestPackage, parse_stanzas};

    fn opts(with_deps: bool, archs: &[&str]) -> ClosureOptions {
        ClosureOptions {
            with_deps,
            follow_recommends: false,
            follow_all_alternatives: false,
            architectures: archs.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn run(pkgs: &[TestPackage], filter: &str, opts: &ClosureOptions) -> Selection {
        let filter = Filter::parse(filter).expect("filter parses");
        let first = select(pkgs, &filter, opts);
        assert_eq!(first, select(pkgs, &filter, opts), "deterministic");
        first
    }

    /// `name_version_arch` of each selected package.
    fn ids(pkgs: &[TestPackage], sel: &Selection) -> Vec<String> {
        sel.selected
            .iter()
            .map(|&i| format!("{}_{}_{}", pkgs[i].name, pkgs[i].version, pkgs[i].arch))
            .collect()
    }

    fn unresolved(pkgs: &[TestPackage], sel: &Selection) -> Vec<String> {
        sel.unresolved
            .iter()
            .map(|u| {
                format!(
                    "{}/{}: {}",
                    pkgs[u.package].name, u.architecture, u.dependency
                )
            })
            .collect()
    }

    #[test]
    fn without_deps_only_filter_matches_of_mirror_archs() {
        let pkgs = parse_stanzas(
            "Package: a\nArchitecture: amd64\nDepends: b\n\n\
             Package: a\nArchitecture: arm64\n\n\
             Package: a\nArchitecture: i386\n\n\
             Package: a-doc\nArchitecture: all\n\n\
             Package: b\nArchitecture: amd64\n",
        );
        let sel = run(&pkgs, "a*", &opts(false, &["amd64", "arm64"]));
        assert_eq!(
            ids(&pkgs, &sel),
            ["a_1.0_amd64", "a_1.0_arm64", "a-doc_1.0_all"]
        );
        assert!(sel.unresolved.is_empty());
        // Empty list: every non-`all` arch present.
        let sel = run(&pkgs, "a", &opts(false, &[]));
        assert_eq!(sel.selected, [0, 1, 2]);
        // Only `all` packages and no list: they are still reachable.
        let only_all = parse_stanzas("Package: x\nArchitecture: all\n");
        assert_eq!(run(&only_all, "x", &opts(false, &[])).selected, [0]);
    }

    #[test]
    fn alternatives_take_first_satisfiable_unless_one_is_selected() {
        let pkgs = parse_stanzas(
            "Package: app\nDepends: missing | mta-b | mta-a, exim | postfix\n\n\
             Package: mta-a\n\n\
             Package: mta-b\n\n\
             Package: exim\n\n\
             Package: postfix\n",
        );
        let sel = run(&pkgs, "app", &opts(true, &["amd64"]));
        assert_eq!(
            ids(&pkgs, &sel),
            ["app_1.0_amd64", "mta-b_1.0_amd64", "exim_1.0_amd64"]
        );
        // postfix already selected satisfies `exim | postfix`: exim not added.
        let sel = run(&pkgs, "app | postfix", &opts(true, &["amd64"]));
        assert_eq!(
            ids(&pkgs, &sel),
            ["app_1.0_amd64", "mta-b_1.0_amd64", "postfix_1.0_amd64"]
        );
    }

    #[test]
    fn left_out_alternatives_and_following_all() {
        let pkgs = parse_stanzas(
            "Package: app\nDepends: missing | mta-b | mta-a, exim | postfix, one | two\n\n\
             Package: mta-a\n\n\
             Package: mta-b\n\n\
             Package: exim\n\n\
             Package: postfix\n\n\
             Package: one\nDepends: two\n\n\
             Package: two\n",
        );
        let sel = run(&pkgs, "app", &opts(true, &["amd64"]));
        // `missing` has no candidate, `two` came in through `one`.
        let left: Vec<(&str, &str)> = sel
            .left_out
            .iter()
            .map(|l| (l.alternative.as_str(), l.dependency.as_str()))
            .collect();
        assert_eq!(
            left,
            [
                ("mta-a", "missing | mta-b | mta-a"),
                ("postfix", "exim | postfix")
            ]
        );
        let mut o = opts(true, &["amd64"]);
        o.follow_all_alternatives = true;
        let sel = run(&pkgs, "app", &o);
        assert_eq!(sel.selected, [0, 1, 2, 3, 4, 5, 6]);
        assert!(sel.left_out.is_empty());
        assert!(sel.unresolved.is_empty());
    }

    #[test]
    fn provides_versioned_and_unversioned() {
        let pkgs = parse_stanzas(
            "Package: app\nDepends: foo (>= 1), bar\n\n\
             Package: plain-foo\nVersion: 9.0\nProvides: foo\n\n\
             Package: versioned-foo\nVersion: 0.1\nProvides: foo (= 1.2)\n\n\
             Package: bar-z\nVersion: 2.0\nProvides: bar\n\n\
             Package: bar-a\nVersion: 2.0\nProvides: bar\n\n\
             Package: bar-old\nVersion: 1.0\nProvides: bar\n",
        );
        let sel = run(&pkgs, "app", &opts(true, &["amd64"]));
        // Unversioned Provides cannot satisfy `foo (>= 1)`; versioned one can.
        // `bar`: highest version wins, tie broken by name.
        assert_eq!(
            ids(&pkgs, &sel),
            [
                "app_1.0_amd64",
                "versioned-foo_0.1_amd64",
                "bar-a_2.0_amd64"
            ]
        );

        let pkgs = parse_stanzas(
            "Package: app\nDepends: foo (>= 2)\n\n\
             Package: plain-foo\nProvides: foo\n\n\
             Package: old-foo\nProvides: foo (= 1.2)\n",
        );
        let sel = run(&pkgs, "app", &opts(true, &["amd64"]));
        assert_eq!(sel.selected, [0]);
        assert_eq!(unresolved(&pkgs, &sel), ["app/amd64: foo (>= 2)"]);
        // An already-selected provider satisfies an unversioned relation.
        let pkgs = parse_stanzas(
            "Package: app\nDepends: foo\n\n\
             Package: foo\n\n\
             Package: foo-alt\nProvides: foo\n",
        );
        let sel = run(&pkgs, "app | foo-alt", &opts(true, &["amd64"]));
        assert_eq!(sel.selected, [0, 2]);
        // Real package preferred over providers when choosing.
        let sel = run(&pkgs, "app", &opts(true, &["amd64"]));
        assert_eq!(sel.selected, [0, 1]);
    }

    #[test]
    fn arch_all_and_qualifiers() {
        let pkgs = parse_stanzas(
            "Package: app\nArchitecture: amd64\nDepends: data, python3:any, libc6:amd64, tool:native\n\n\
             Package: data\nArchitecture: all\nDepends: libc6\n\n\
             Package: python3\nArchitecture: amd64\n\n\
             Package: python3\nArchitecture: arm64\n\n\
             Package: libc6\nArchitecture: amd64\n\n\
             Package: libc6\nArchitecture: arm64\n\n\
             Package: tool\nArchitecture: amd64\n",
        );
        let sel = run(&pkgs, "app", &opts(true, &["amd64", "arm64"]));
        assert_eq!(
            ids(&pkgs, &sel),
            [
                "app_1.0_amd64",
                "data_1.0_all",
                "python3_1.0_amd64",
                "libc6_1.0_amd64",
                "tool_1.0_amd64"
            ]
        );
        assert!(sel.unresolved.is_empty());
        // Seeding an `all` package resolves its deps once per architecture.
        let sel = run(&pkgs, "data", &opts(true, &["amd64", "arm64"]));
        assert_eq!(
            ids(&pkgs, &sel),
            ["data_1.0_all", "libc6_1.0_amd64", "libc6_1.0_arm64"]
        );
    }

    #[test]
    fn highest_satisfying_version_is_chosen() {
        let pkgs = parse_stanzas(
            "Package: app\nDepends: lib (<< 3), tool\n\n\
             Package: lib\nVersion: 1.0\n\n\
             Package: lib\nVersion: 3.0\n\n\
             Package: lib\nVersion: 2.5\n\n\
             Package: tool\nVersion: 1:0.1\n\n\
             Package: tool\nVersion: 5.0\n\n\
             Package: newer\nDepends: lib (>= 2.9)\n",
        );
        let sel = run(&pkgs, "app", &opts(true, &["amd64"]));
        assert_eq!(
            ids(&pkgs, &sel),
            ["app_1.0_amd64", "lib_2.5_amd64", "tool_1:0.1_amd64"]
        );
        // A selected version that does not satisfy doesn't count.
        let sel = run(&pkgs, "app | newer", &opts(true, &["amd64"]));
        assert_eq!(
            ids(&pkgs, &sel),
            [
                "app_1.0_amd64",
                "lib_3.0_amd64",
                "lib_2.5_amd64",
                "tool_1:0.1_amd64",
                "newer_1.0_amd64"
            ]
        );
    }

    #[test]
    fn cycles_terminate() {
        let pkgs = parse_stanzas(
            "Package: a\nDepends: b\n\n\
             Package: b\nPre-Depends: c\n\n\
             Package: c\nDepends: a (>= 1), c\n",
        );
        let sel = run(&pkgs, "b", &opts(true, &["amd64"]));
        assert_eq!(sel.selected, [0, 1, 2]);
        assert!(sel.unresolved.is_empty());
    }

    #[test]
    fn unresolved_and_unparsable_are_reported() {
        let pkgs = parse_stanzas(
            "Package: app\nDepends: gone (>= 1) | also-gone, ok\nRecommends: rec\n\n\
             Package: ok\nPre-Depends: broken (>= \n\n\
             Package: rec\nDepends: nowhere\n",
        );
        let sel = run(&pkgs, "app", &opts(true, &["amd64"]));
        assert_eq!(sel.selected, [0, 1]);
        assert_eq!(
            unresolved(&pkgs, &sel),
            ["app/amd64: gone (>= 1) | also-gone", "ok/amd64: broken (>="]
        );
        let mut o = opts(true, &["amd64"]);
        o.follow_recommends = true;
        let sel = run(&pkgs, "app", &o);
        assert_eq!(sel.selected, [0, 1, 2]);
        assert_eq!(
            unresolved(&pkgs, &sel),
            [
                "app/amd64: gone (>= 1) | also-gone",
                "ok/amd64: broken (>=",
                "rec/amd64: nowhere"
            ]
        );
    }

    #[test]
    fn architectures_are_resolved_independently() {
        let pkgs = parse_stanzas(
            "Package: app\nArchitecture: amd64\nDepends: libfoo\n\n\
             Package: app\nArchitecture: arm64\nDepends: libfoo\n\n\
             Package: libfoo\nArchitecture: amd64\nVersion: 2.0\n\n\
             Package: libfoo\nArchitecture: arm64\nVersion: 1.0\nDepends: arm-only\n\n\
             Package: libfoo\nArchitecture: riscv64\nVersion: 9.0\n\n\
             Package: arm-only\nArchitecture: i386\n",
        );
        let sel = run(&pkgs, "app", &opts(true, &["amd64", "arm64"]));
        assert_eq!(
            ids(&pkgs, &sel),
            [
                "app_1.0_amd64",
                "app_1.0_arm64",
                "libfoo_2.0_amd64",
                "libfoo_1.0_arm64"
            ]
        );
        assert_eq!(unresolved(&pkgs, &sel), ["libfoo/arm64: arm-only"]);
        // An amd64-only mirror doesn't see arm64 packages at all.
        let sel = run(&pkgs, "app", &opts(true, &["amd64"]));
        assert_eq!(sel.selected, [0, 2]);
        assert!(sel.unresolved.is_empty());
    }

    /// 60,000 packages, a 2,000-package closure. Run with
    /// `cargo test --release query::closure -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing benchmark"]
    fn closure_timing_60k() {
        const TOTAL: usize = 60_000;
        const CLOSURE: usize = 2_000;
        let mut pkgs = Vec::with_capacity(TOTAL);
        for i in 0..TOTAL - 1 {
            let mut fields = Vec::new();
            let mut depends = Vec::new();
            if i < CLOSURE {
                for child in [2 * i + 1, 2 * i + 2] {
                    if child < CLOSURE {
                        depends.push(format!("missing{child} | pkg{child} (>= 1.0)"));
                    }
                }
                depends.push(format!("virt{} | pkg{}", i % 50, (i * 7) % CLOSURE));
                depends.push("libc6 (>= 2.36)".to_string());
                if i < 50 {
                    fields.push(("Provides".to_string(), format!("virt{i} (= 1.0)")));
                }
            } else {
                depends.push(format!("pkg{}, pkg{} | virt{}", i - 1, i / 2, i % 50));
                if i % 10 == 0 {
                    fields.push(("Provides".to_string(), format!("other{}", i % 300)));
                }
            }
            fields.push(("Depends".to_string(), depends.join(", ")));
            pkgs.push(TestPackage {
                name: format!("pkg{i}"),
                version: Version::parse(&format!("1.{}-{}", i % 7, i % 3)).expect("version"),
                arch: if i % 5 == 0 { "all" } else { "amd64" }.to_string(),
                fields,
            });
        }
        pkgs.push(TestPackage::from_stanza(
            "Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\n",
        ));
        let filter = Filter::parse("pkg0").expect("filter");
        let o = opts(true, &["amd64"]);
        let start = std::time::Instant::now();
        let sel = select(&pkgs, &filter, &o);
        let elapsed = start.elapsed();
        println!(
            "select: {} packages, closure {} ({} unresolved) in {:?}",
            pkgs.len(),
            sel.selected.len(),
            sel.unresolved.len(),
            elapsed
        );
        assert_eq!(sel.selected.len(), CLOSURE + 1);
        assert!(sel.unresolved.is_empty());
    }
}
