//! Fixture upstreams of other archive shapes (issue 19).
//!
//! A flat repository is built the way its owners build one: the real
//! `apt-ftparchive` (package `apt-utils`) writes `Packages`, `Sources` and
//! the `Release` of a directory, which the test then signs with a test key.
//! Ubuntu-shaped archives come from the usual [`Repo`] writer, re-signed
//! without `MD5Sum` and with an architecture variant's index.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use debvault::digest::Sha256;
use debvault::pgp::{SigningKey, sign_clearsigned, sign_detached};

use super::fixture::{RawPkg, gzip, key};
use super::sources::SrcPkg;
use super::{Pkg, Repo, TestEnv};

/// How to build a flat repository.
pub struct Flat {
    /// The directory below the served root (`.` for the root itself).
    pub dir: String,
    /// The packages, each `.deb` written into `dir`.
    pub packages: Vec<Pkg>,
    /// Write `InRelease` (else only `Release` + `Release.gpg`).
    pub inrelease: bool,
    /// Fields `apt-ftparchive release` adds (`Origin`, `Signed-By`, …).
    pub fields: Vec<(String, String)>,
    /// Source packages, their files written into `dir` and listed in `Sources`.
    pub sources: Vec<SrcPkg>,
}

impl Flat {
    pub fn new(dir: &str, packages: Vec<Pkg>) -> Flat {
        Flat {
            dir: dir.to_owned(),
            packages,
            inrelease: true,
            fields: Vec::new(),
            sources: Vec::new(),
        }
    }

    /// Writes the repository below the served root of `env` (cleared
    /// first); returns the Release text.
    pub fn write(&self, env: &TestEnv) -> String {
        let root = env.upstream();
        let _ = std::fs::remove_dir_all(&root);
        let dir = match self.dir.as_str() {
            "." => root.clone(),
            sub => root.join(sub),
        };
        std::fs::create_dir_all(&dir).expect("mkdir flat dir");
        for p in &self.packages {
            let file = format!("{}_{}_{}.deb", p.name, p.version, p.arch);
            std::fs::write(dir.join(file), p.deb()).expect("write deb");
        }
        // Run from the served root: `Filename`s are relative to the URL.
        let packages = ftparchive(&root, &["packages", &self.dir]);
        std::fs::write(dir.join("Packages"), &packages).expect("write Packages");
        std::fs::write(dir.join("Packages.gz"), gzip(&packages)).expect("write Packages.gz");
        if !self.sources.is_empty() {
            for (name, data) in self.sources.iter().flat_map(SrcPkg::files) {
                std::fs::write(dir.join(name), data).expect("write source file");
            }
            let sources = ftparchive(&root, &["sources", &self.dir]);
            std::fs::write(dir.join("Sources"), &sources).expect("write Sources");
            std::fs::write(dir.join("Sources.gz"), gzip(&sources)).expect("write Sources.gz");
        }
        let mut args = vec!["release".to_owned()];
        for (k, v) in &self.fields {
            args.insert(0, format!("-oAPT::FTPArchive::Release::{k}={v}"));
        }
        args.push(".".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let release = ftparchive(&dir, &args);
        let text = String::from_utf8(release).expect("Release is UTF-8");
        sign(&dir, &text, self.inrelease);
        text
    }
}

/// Writes `Release`, `Release.gpg` and (with `inrelease`) `InRelease` in
/// `dir`, signed with the `upstream` test key.
pub fn sign(dir: &Path, text: &str, inrelease: bool) {
    let keys: Vec<SigningKey> = vec![key("upstream")];
    std::fs::write(dir.join("Release"), text).expect("write Release");
    let sig = sign_detached(&keys, text.as_bytes()).expect("sign Release.gpg");
    std::fs::write(dir.join("Release.gpg"), sig).expect("write Release.gpg");
    if inrelease {
        let signed = sign_clearsigned(&keys, text.as_bytes()).expect("sign InRelease");
        std::fs::write(dir.join("InRelease"), signed).expect("write InRelease");
    }
}

/// Runs `apt-ftparchive ARGS` in `cwd`; its stdout.
fn ftparchive(cwd: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("apt-ftparchive")
        .args(args)
        .current_dir(cwd)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("run `apt-ftparchive` (is apt-utils installed?): {e}"));
    assert!(
        out.status.success(),
        "apt-ftparchive {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A package of an architecture variant's index (`binary-amd64v3`), as
/// Ubuntu lists it: the stanza names the base architecture, the file is
/// the variant's build (other bytes, `_amd64v3.deb`).
pub fn variant(pkg: &Pkg, variant: &str) -> RawPkg {
    let deb = pkg.clone().salt(variant).deb();
    let filename = pkg
        .pool_path()
        .replace(&format!("_{}.deb", pkg.arch), &format!("_{variant}.deb"));
    let depends = pkg
        .depends
        .as_ref()
        .map(|d| format!("Depends: {d}\n"))
        .unwrap_or_default();
    let stanza = format!(
        "Package: {}\nArchitecture: {}\nVersion: {}\nPriority: optional\nSection: misc\nMaintainer: Test <test@example.invalid>\nInstalled-Size: 1\n{depends}Filename: {filename}\nSize: {}\nSHA256: {}\nDescription: test package {}\n",
        pkg.name,
        pkg.arch,
        pkg.version,
        deb.len(),
        Sha256::of(&deb),
        pkg.name
    );
    RawPkg {
        component: pkg.component.clone(),
        arch: variant.to_owned(),
        stanza,
        filename,
        data: deb,
    }
}

/// The components of Ubuntu's archive.
pub const UBUNTU_COMPONENTS: [&str; 4] = ["main", "restricted", "universe", "multiverse"];

/// A repository shaped like Ubuntu's archive: its four components, an
/// `i18n/Index` and `cnf/Commands-<arch>` in each, a Release without
/// `MD5Sum` (see [`write_ubuntu`]).
pub fn ubuntu(suite: &str, architectures: &[&str], packages: Vec<Pkg>, raw: Vec<RawPkg>) -> Repo {
    ubuntu_with_commands(suite, architectures, packages, raw, &[])
}

/// [`ubuntu`], with the `commands` value of some packages' Commands
/// entries as given (`(package, value)`; others list their own name).
pub fn ubuntu_with_commands(
    suite: &str,
    architectures: &[&str],
    packages: Vec<Pkg>,
    raw: Vec<RawPkg>,
    commands: &[(&str, &str)],
) -> Repo {
    let mut repo = Repo::new(packages);
    repo.suite = suite.to_owned();
    repo.codename = suite.to_owned();
    repo.architectures = architectures.iter().map(|a| (*a).to_owned()).collect();
    repo.components = UBUNTU_COMPONENTS.iter().map(|c| (*c).to_owned()).collect();
    repo.raw = raw;
    for component in UBUNTU_COMPONENTS {
        let index = "SHA1:\n 0000000000000000000000000000000000000000 0 Translation-en.bz2\n";
        repo.dists_files
            .push((format!("{component}/i18n/Index"), index.as_bytes().to_vec()));
        for arch in architectures {
            let commands: String = repo
                .packages
                .iter()
                .filter(|p| p.component == component && (p.arch == *arch || p.arch == "all"))
                .map(|p| {
                    let listed = commands
                        .iter()
                        .find(|(name, _)| *name == p.name)
                        .map_or(p.name.as_str(), |(_, value)| *value);
                    format!(
                        "\nname: {}\nversion: {}\ncommands: {listed}\n",
                        p.name, p.version
                    )
                })
                .collect();
            let text = format!("suite: {suite}\ncomponent: {component}\narch: {arch}\n{commands}");
            repo.dists_files.push((
                format!("{component}/cnf/Commands-{arch}.xz"),
                super::fixture::xz(text.as_bytes()),
            ));
        }
    }
    repo
}

/// Writes `repo` under `root` as Ubuntu signs it: the Release has no
/// `MD5Sum` list (only `SHA256`). Returns the Release text.
pub fn write_ubuntu(repo: &Repo, root: &Path) -> String {
    let text = repo.write(root);
    let out = without_md5(&text);
    sign(&root.join("dists").join(&repo.suite), &out, true);
    out
}

/// Writes `repo` as the served upstream the way Debian's Release says it
/// serves `all` packages: `all` in `Architectures` (the repository has a
/// `binary-all` index) and `No-Support-for-Architecture-all: Packages`
/// (they are listed in every architecture's index too).
pub fn write_debian_all(repo: &Repo, env: &TestEnv) -> String {
    let root = env.upstream();
    let text = repo.write(&root).replacen(
        "\nAcquire-By-Hash:",
        "\nNo-Support-for-Architecture-all: Packages\nAcquire-By-Hash:",
        1,
    );
    assert!(text.contains("No-Support-for-Architecture-all"), "{text}");
    sign(&root.join("dists").join(&repo.suite), &text, true);
    text
}

/// A Release text without its `MD5Sum` list.
fn without_md5(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            skipping = line == "MD5Sum:";
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(!out.contains("MD5Sum") && out.contains("SHA256:"), "{out}");
    out
}

/// Ubuntu's archive keyring, from Debian's `ubuntu-keyring` package:
/// `DEBVAULT_TEST_UBUNTU_KEYRING` (`.ci/run` exports the one in its trixie
/// root, as bookworm has no such package), else the installed package's
/// file. Neither on a developer machine: the test says why it skips; in CI
/// a missing keyring fails.
pub fn ubuntu_keyring() -> Option<PathBuf> {
    const INSTALLED: &str = "/usr/share/keyrings/ubuntu-archive-keyring.gpg";
    if let Some(path) = std::env::var_os("DEBVAULT_TEST_UBUNTU_KEYRING") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "DEBVAULT_TEST_UBUNTU_KEYRING `{}` is not a file",
            path.display()
        );
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CI=true but DEBVAULT_TEST_UBUNTU_KEYRING is unset: `.ci/run` exports the keyring of its trixie root"
        );
    }
    if Path::new(INSTALLED).is_file() {
        return Some(PathBuf::from(INSTALLED));
    }
    eprintln!(
        "skipped: DEBVAULT_TEST_UBUNTU_KEYRING is unset and `{INSTALLED}` is missing (Debian's ubuntu-keyring, which `.ci/trixie-apt.sh` installs)"
    );
    None
}
