//! Fixtures for local repositories: `.deb` files written to disk, and
//! hostile ones built by hand (a control file of our choosing, an ar
//! member that lies about its size, no control member).

use std::path::{Path, PathBuf};

use super::fixture::{Pkg, gzip, tar};

/// Writes `pkg`'s `.deb` to `dir/file` and returns the path.
pub fn write_deb(dir: &Path, file: &str, pkg: &Pkg) -> PathBuf {
    write(dir, file, &pkg.deb())
}

/// Writes `data` to `dir/file` (creating `dir`) and returns the path.
pub fn write(dir: &Path, file: &str, data: &[u8]) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir");
    let path = dir.join(file);
    std::fs::write(&path, data).expect("write deb");
    path
}

/// An ar archive of `members`; `lie` adds that many bytes to the size the
/// last member's header claims.
pub fn ar(members: &[(&str, &[u8])], lie: usize) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (i, (name, data)) in members.iter().enumerate() {
        let claimed = data.len() + if i + 1 == members.len() { lie } else { 0 };
        out.extend_from_slice(
            format!(
                "{name:<16}{:<12}{:<6}{:<6}{:<8}{claimed:<10}`\n",
                0, 0, 0, "100644"
            )
            .as_bytes(),
        );
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

/// A `.deb` whose control file is `control`.
pub fn deb_with_control(control: &str) -> Vec<u8> {
    let control_tar = gzip(&tar(&[("./control", control.as_bytes())]));
    let data_tar = gzip(&tar(&[("./usr/share/doc/x/README", b"x\n")]));
    ar(
        &[
            ("debian-binary", b"2.0\n"),
            ("control.tar.gz", &control_tar),
            ("data.tar.gz", &data_tar),
        ],
        0,
    )
}

/// Regular files below `dir`, recursively (none if it does not exist).
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_below(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A gzipped ustar archive of `files`.
pub fn gzip_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    gzip(&tar(files))
}

/// Writes a source package `foo_1.0-1` to `dir`: the `.dsc` and the two
/// files it lists. Returns the `.dsc`'s path and the files (name, bytes).
pub fn write_source(dir: &Path) -> (PathBuf, Vec<(String, Vec<u8>)>) {
    use debvault::digest::Sha256;
    let files = vec![
        ("foo_1.0.orig.tar.gz".to_owned(), gzip(b"upstream source\n")),
        (
            "foo_1.0-1.debian.tar.xz".to_owned(),
            b"debian dir\n".to_vec(),
        ),
    ];
    let mut sha = String::new();
    for (name, data) in &files {
        sha += &format!("\n {} {} {name}", Sha256::of(data), data.len());
        write(dir, name, data);
    }
    let dsc = format!(
        "Format: 3.0 (quilt)\nSource: foo\nBinary: foo-utils\nArchitecture: any\nVersion: 1.0-1\n\
         Maintainer: Test <test@example.invalid>\nChecksums-Sha256:{sha}\n"
    );
    (write(dir, "foo_1.0-1.dsc", dsc.as_bytes()), files)
}
