//! Fixture upstreams of other archive shapes (issue 19).
//!
//! A flat repository is built the way its owners build one: the real
//! `apt-ftparchive` (package `apt-utils`) writes `Packages`, `Sources` and
//! the `Release` of a directory, which the test then signs with a test key.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use debvault::pgp::{SigningKey, sign_clearsigned, sign_detached};

use super::fixture::{gzip, key};
use super::{Pkg, TestEnv};

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
}

impl Flat {
    pub fn new(dir: &str, packages: Vec<Pkg>) -> Flat {
        Flat {
            dir: dir.to_owned(),
            packages,
            inrelease: true,
            fields: Vec::new(),
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
