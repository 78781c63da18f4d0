//! Installer images in fixture repositories:
//! `<component>/installer-<arch>/current/images/` with a few files and the
//! `SHA256SUMS` naming them, listed in the signed Release (as Debian) or
//! signed by a detached `SHA256SUMS.gpg` instead (as Ubuntu).

#![allow(dead_code)]

use debvault::digest::Sha256;
use debvault::pgp::sign_detached;

use super::TestEnv;
use super::fixture::{Repo, key, noise};

/// The images directory of `component` for `arch`, below `dists/SUITE/`.
pub fn images_dir(component: &str, arch: &str) -> String {
    format!("{component}/installer-{arch}/current/images/")
}

/// A small installer tree: netboot tarball, kernel and initrd, a text file.
pub fn images(seed: u32) -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "MANIFEST".into(),
            b"netboot/netboot.tar.gz  the tarball\n".to_vec(),
        ),
        ("netboot/netboot.tar.gz".into(), noise(3000, seed)),
        (
            "netboot/debian-installer/amd64/linux".into(),
            noise(5000, seed + 7),
        ),
        (
            "netboot/debian-installer/amd64/initrd.gz".into(),
            noise(400 << 10, seed + 13),
        ),
    ]
}

/// `sha256sum`'s output for `files`, as Debian writes it (`./` paths).
pub fn sha256sums(files: &[(String, Vec<u8>)]) -> String {
    files
        .iter()
        .map(|(path, data)| format!("{}  ./{path}\n", Sha256::of(data)))
        .collect()
}

/// How the upstream vouches for its `SHA256SUMS`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Vouch {
    /// Listed in the signed Release.
    Release,
    /// Not listed; a detached `SHA256SUMS.gpg` beside it.
    Detached,
}

/// Serves `repo` with `main`'s amd64 images: `listed` names the files the
/// `SHA256SUMS` lists (their hashes), `served` the bytes actually served.
pub fn publish_with_installer(
    env: &TestEnv,
    repo: &Repo,
    listed: &[(String, Vec<u8>)],
    served: &[(String, Vec<u8>)],
    vouch: Vouch,
) -> String {
    let mut repo = repo.clone();
    let dir = images_dir("main", "amd64");
    let sums = sha256sums(listed);
    if vouch == Vouch::Release {
        repo.dists_files
            .push((format!("{dir}SHA256SUMS"), sums.clone().into_bytes()));
    }
    let release = env.publish_upstream(&repo);
    let images = env.upstream().join("dists").join(&repo.suite).join(&dir);
    for (path, data) in served {
        let full = images.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, data).expect("write image");
    }
    if vouch == Vouch::Detached {
        std::fs::create_dir_all(&images).expect("mkdir");
        std::fs::write(images.join("SHA256SUMS"), &sums).expect("write SHA256SUMS");
        let sig = sign_detached(&[key("upstream")], sums.as_bytes()).expect("sign SHA256SUMS");
        std::fs::write(images.join("SHA256SUMS.gpg"), sig).expect("write SHA256SUMS.gpg");
    }
    release
}
