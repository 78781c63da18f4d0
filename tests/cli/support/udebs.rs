//! The Debian installer's packages in fixture repositories: udebs listed in
//! `<component>/debian-installer/binary-<arch>/Packages` (plain, gzip and
//! xz, with by-hash copies, in the signed Release), their `.udeb` pool files
//! beside the .debs.

#![allow(dead_code)]

use super::TestEnv;
use super::fixture::{Pkg, Repo, gzip, xz};

/// A udeb: section `debian-installer`, its pool file named `….udeb`.
pub fn udeb(name: &str, version: &str) -> Pkg {
    let mut p = Pkg::new(name, version);
    p.section = "debian-installer".into();
    let path = p.pool_path();
    let path = path.strip_suffix(".deb").unwrap_or(&path).to_owned() + ".udeb";
    p.filename(&path)
}

/// The pool path a udeb is served at.
pub fn udeb_path(p: &Pkg) -> String {
    p.filename.clone().expect("a udeb has a filename")
}

/// The text of `component`'s installer index for `arch`.
pub fn installer_index(udebs: &[Pkg], component: &str, arch: &str) -> String {
    udebs
        .iter()
        .filter(|p| p.component == component && (p.arch == arch || p.arch == "all"))
        .map(|p| p.stanza(&p.deb()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Serves `repo` with `udebs` in its installer indices and pool.
pub fn publish_with_udebs(env: &TestEnv, repo: &Repo, udebs: &[Pkg]) -> String {
    let mut repo = repo.clone();
    for component in &repo.components {
        for arch in &repo.architectures {
            let text = installer_index(udebs, component, arch);
            let rel = format!("{component}/debian-installer/binary-{arch}/Packages");
            repo.dists_files
                .push((format!("{rel}.gz"), gzip(text.as_bytes())));
            repo.dists_files
                .push((format!("{rel}.xz"), xz(text.as_bytes())));
            repo.dists_files.push((rel, text.into_bytes()));
        }
    }
    let release = env.publish_upstream(&repo);
    for p in udebs {
        let full = env.upstream().join(udeb_path(p));
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, p.deb()).expect("write udeb");
    }
    release
}
