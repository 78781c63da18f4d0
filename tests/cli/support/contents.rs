//! Upstream `Contents-<arch>` files for fixture repositories, written the
//! way Debian's archive writes them, from what each fixture .deb installs.

use super::fixture::{Pkg, gzip};

/// The paths `p`'s .deb installs (its README and its extra data), sorted.
pub fn files(p: &Pkg) -> Vec<String> {
    let mut out = vec![format!("usr/share/doc/{}/README", p.name)];
    out.extend(
        p.data
            .iter()
            .map(|(path, _)| path.trim_start_matches("./").to_owned()),
    );
    out.sort();
    out
}

/// `Contents-<arch>` of `pkgs` (that arch and `all`), plain text.
pub fn contents(pkgs: &[Pkg], arch: &str) -> String {
    let mut by_path: std::collections::BTreeMap<String, Vec<(String, String)>> =
        std::collections::BTreeMap::new();
    for p in pkgs.iter().filter(|p| p.arch == arch || p.arch == "all") {
        for f in files(p) {
            by_path
                .entry(f)
                .or_default()
                .push((p.name.clone(), format!("{}/{}", p.section, p.name)));
        }
    }
    by_path
        .into_iter()
        .map(|(path, mut locs)| {
            locs.sort();
            let locs: Vec<String> = locs.into_iter().map(|(_, l)| l).collect();
            format!("{path:<55} {}\n", locs.join(","))
        })
        .collect()
}

/// `(main/Contents-<arch>.gz, bytes)` for a repository's `dists_files`.
pub fn contents_gz(pkgs: &[Pkg], arch: &str) -> (String, Vec<u8>) {
    (
        format!("main/Contents-{arch}.gz"),
        gzip(contents(pkgs, arch).as_bytes()),
    )
}
