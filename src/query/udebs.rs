//! The Debian installer's packages (udebs) close among themselves.
//!
//! d-i resolves a udeb's dependencies against udebs only, and apt resolves
//! a .deb's against .debs: neither universe may satisfy the other's
//! dependencies, even where names meet. The callers order their candidates
//! so the udebs come last and run the filter and closure over each part
//! ([`select_apart`]).

use super::{Candidate, ClosureOptions, Filter, Selection, select};

/// Adds to `selection` — made over `packages[..start]`, the .debs — the
/// udebs `packages[start..]` that `filter` and its closure select among
/// udebs alone, with their indices into `packages`.
pub fn select_apart<C: Candidate>(
    packages: &[C],
    start: usize,
    filter: &Filter,
    closure: &ClosureOptions,
    selection: &mut Selection,
) {
    let Some(udebs) = packages.get(start..).filter(|u| !u.is_empty()) else {
        return;
    };
    let picked = select(udebs, filter, closure);
    selection
        .selected
        .extend(picked.selected.into_iter().map(|i| i + start));
    selection
        .unresolved
        .extend(picked.unresolved.into_iter().map(|mut u| {
            u.package += start;
            u
        }));
    selection
        .left_out
        .extend(picked.left_out.into_iter().map(|mut l| {
            l.package += start;
            l
        }));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::query::testing::parse_stanzas;

    /// A udeb depending on `libc6` is not satisfied by the .deb `libc6`,
    /// and a .deb's dependency never pulls in a udeb of the same name.
    #[test]
    fn udebs_and_debs_do_not_satisfy_each_other() {
        let packages = parse_stanzas(
            "Package: curl\nVersion: 1\nArchitecture: amd64\nDepends: libc6, di-utils\n\n\
             Package: libc6\nVersion: 2\nArchitecture: amd64\n\n\
             Package: anna\nVersion: 1\nArchitecture: amd64\nDepends: di-utils, libc6\n\n\
             Package: di-utils\nVersion: 1\nArchitecture: amd64\n\n",
        );
        let filter = Filter::parse("curl | anna").unwrap();
        let closure = ClosureOptions {
            with_deps: true,
            architectures: vec!["amd64".into()],
            ..ClosureOptions::default()
        };
        let mut selection = select(&packages[..2], &filter, &closure);
        select_apart(&packages, 2, &filter, &closure, &mut selection);
        assert_eq!(selection.selected, [0, 1, 2, 3]);
        let unresolved: Vec<(usize, &str)> = selection
            .unresolved
            .iter()
            .map(|u| (u.package, u.dependency.as_str()))
            .collect();
        assert_eq!(unresolved, [(0, "di-utils"), (2, "libc6")]);
    }
}
