//! Source packages in fixture repositories: a `.dsc`, an orig tarball and a
//! debian tarball per source, listed in `<component>/source/Sources`
//! (plain, gzip and xz, with by-hash copies) and in the signed Release.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use debvault::debian::release::ReleaseFile;
use debvault::digest::Sha256;

use super::fixture::{gzip, xz};

/// One source package of a fixture repository.
#[derive(Clone, Debug)]
pub struct SrcPkg {
    pub name: String,
    pub version: String,
    pub component: String,
    /// The binaries it builds (`Binary:`).
    pub binaries: Vec<String>,
    /// The orig tarball's content (same content + upstream version = one
    /// file shared between revisions).
    pub orig: Vec<u8>,
    /// Serve other bytes than the index promises for the orig tarball.
    pub tampered_orig: bool,
}

impl SrcPkg {
    pub fn new(name: &str, version: &str, binaries: &[&str]) -> SrcPkg {
        SrcPkg {
            name: name.into(),
            version: version.into(),
            component: "main".into(),
            binaries: binaries.iter().map(|b| (*b).to_owned()).collect(),
            orig: format!("orig tarball of {name}\n").into_bytes(),
            tampered_orig: false,
        }
    }

    fn upstream_version(&self) -> &str {
        let v = self.version.split_once(':').map_or(&*self.version, |x| x.1);
        v.rsplit_once('-').map_or(v, |x| x.0)
    }

    fn plain_version(&self) -> &str {
        self.version.split_once(':').map_or(&*self.version, |x| x.1)
    }

    pub fn directory(&self) -> String {
        let n = &self.name;
        let prefix = if n.starts_with("lib") {
            &n[..4]
        } else {
            &n[..1]
        };
        format!("pool/{}/{prefix}/{n}", self.component)
    }

    pub fn orig_name(&self) -> String {
        format!("{}_{}.orig.tar.gz", self.name, self.upstream_version())
    }

    pub fn dsc_name(&self) -> String {
        format!("{}_{}.dsc", self.name, self.plain_version())
    }

    /// The files other than the `.dsc`: (name, bytes).
    pub fn tarballs(&self) -> Vec<(String, Vec<u8>)> {
        let debian = xz(format!("debian dir of {} {}\n", self.name, self.version).as_bytes());
        vec![
            (self.orig_name(), gzip(&self.orig)),
            (
                format!("{}_{}.debian.tar.xz", self.name, self.plain_version()),
                debian,
            ),
        ]
    }

    /// Every file, the `.dsc` first: (name, bytes).
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let tarballs = self.tarballs();
        let mut dsc = format!(
            "Format: 3.0 (quilt)\nSource: {}\nBinary: {}\nArchitecture: any\nVersion: {}\nMaintainer: Test <test@example.invalid>\nChecksums-Sha256:\n",
            self.name,
            self.binaries.join(", "),
            self.version
        );
        for (name, data) in &tarballs {
            dsc += &format!(" {} {} {name}\n", Sha256::of(data), data.len());
        }
        dsc += "Files:\n";
        for (name, data) in &tarballs {
            dsc += &format!(" {} {} {name}\n", md5_hex(data), data.len());
        }
        let mut out = vec![(self.dsc_name(), dsc.into_bytes())];
        out.extend(tarballs);
        out
    }

    /// The SHA256 of file `name`.
    pub fn sha256_of(&self, name: &str) -> Sha256 {
        let files = self.files();
        let (_, data) = files.iter().find(|(n, _)| n == name).expect("file");
        Sha256::of(data)
    }

    fn stanza(&self) -> String {
        let files = self.files();
        let mut s = format!(
            "Package: {}\nBinary: {}\nVersion: {}\nMaintainer: Test <test@example.invalid>\nArchitecture: any\nFormat: 3.0 (quilt)\nDirectory: {}\nFiles:\n",
            self.name,
            self.binaries.join(", "),
            self.version,
            self.directory()
        );
        for (name, data) in &files {
            s += &format!(" {} {} {name}\n", md5_hex(data), data.len());
        }
        s += "Checksums-Sha256:\n";
        for (name, data) in &files {
            s += &format!(" {} {} {name}\n", Sha256::of(data), data.len());
        }
        s += "Section: misc\nPriority: optional\n";
        s
    }
}

fn md5_hex(data: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(data))
}

/// Writes the `Sources` indices of `sources` below `dists` and their files
/// below `root`, listing the indices in `files` (the Release's list).
pub fn write_sources(
    sources: &[SrcPkg],
    components: &[String],
    root: &Path,
    dists: &Path,
    files: &mut BTreeMap<String, ReleaseFile>,
) {
    if sources.is_empty() {
        return;
    }
    for component in components {
        let text: Vec<String> = sources
            .iter()
            .filter(|s| &s.component == component)
            .map(SrcPkg::stanza)
            .collect();
        let text = text.join("\n");
        let dir_rel = format!("{component}/source");
        let dir = dists.join(&dir_rel);
        std::fs::create_dir_all(dir.join("by-hash/SHA256")).expect("mkdir");
        for ext in ["", ".gz", ".xz"] {
            let data = match ext {
                ".gz" => gzip(text.as_bytes()),
                ".xz" => xz(text.as_bytes()),
                _ => text.as_bytes().to_vec(),
            };
            let sha = Sha256::of(&data);
            std::fs::write(dir.join(format!("Sources{ext}")), &data).expect("write");
            std::fs::write(dir.join("by-hash/SHA256").join(sha.to_string()), &data).expect("write");
            files.insert(
                format!("{dir_rel}/Sources{ext}"),
                ReleaseFile {
                    size: data.len() as u64,
                    sha256: Some(sha),
                    md5: Some(md5_hex(&data)),
                },
            );
        }
    }
    for s in sources {
        let dir = root.join(s.directory());
        std::fs::create_dir_all(&dir).expect("mkdir");
        for (name, mut data) in s.files() {
            if s.tampered_orig && name == s.orig_name() {
                data[0] ^= 0xff;
            }
            std::fs::write(dir.join(name), data).expect("write source file");
        }
    }
}
