//! A generator of signed apt repositories for tests and the benchmark.
//!
//! Builds real (tiny) `.deb` files, `Packages` in plain, gzip and xz form with
//! by-hash copies, a `Release` with MD5Sum and SHA256 lists, and signs it as
//! `InRelease` and `Release.gpg` with test-only keys. Knobs let a test produce
//! the hostile variants: unsigned, expired, dated in the past, hostile
//! `Filename`s, changed content under the same version.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use debvault::debian::release::{Release, ReleaseFile};
use debvault::digest::Sha256;
use debvault::pgp::{SigningKey, sign_clearsigned, sign_detached};

/// The repository's test-data directory.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// A test-only signing key from `testdata/keys/NAME.sec.asc`.
pub fn key(name: &str) -> SigningKey {
    let path = testdata().join("keys").join(format!("{name}.sec.asc"));
    SigningKey::load(&path, None).unwrap_or_else(|e| panic!("load {}: {e}", path.display()))
}

/// Path of a test key's public half (armored).
pub fn public_key(name: &str) -> PathBuf {
    testdata().join("keys").join(format!("{name}.pub.asc"))
}

/// One package of a fixture repository.
#[derive(Clone, Debug)]
pub struct Pkg {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub component: String,
    pub depends: Option<String>,
    pub pre_depends: Option<String>,
    pub provides: Option<String>,
    pub source: Option<String>,
    pub priority: String,
    pub section: String,
    /// Extra bytes inside the .deb's data, to change content under the same version.
    pub salt: String,
    /// Override the Filename written to Packages (hostile tests).
    pub filename: Option<String>,
    /// Extra raw stanza lines.
    pub extra: Vec<(String, String)>,
    /// Extra members of the .deb's data.tar (`./path`, content); see `support::contents`.
    pub data: Vec<(String, Vec<u8>)>,
}

impl Pkg {
    pub fn new(name: &str, version: &str) -> Pkg {
        Pkg {
            name: name.into(),
            version: version.into(),
            arch: "amd64".into(),
            component: "main".into(),
            depends: None,
            pre_depends: None,
            provides: None,
            source: None,
            priority: "optional".into(),
            section: "misc".into(),
            salt: String::new(),
            filename: None,
            extra: Vec::new(),
            data: Vec::new(),
        }
    }

    pub fn arch(mut self, a: &str) -> Pkg {
        self.arch = a.into();
        self
    }

    pub fn component(mut self, c: &str) -> Pkg {
        self.component = c.into();
        self
    }

    pub fn depends(mut self, d: &str) -> Pkg {
        self.depends = Some(d.into());
        self
    }

    pub fn pre_depends(mut self, d: &str) -> Pkg {
        self.pre_depends = Some(d.into());
        self
    }

    pub fn provides(mut self, p: &str) -> Pkg {
        self.provides = Some(p.into());
        self
    }

    pub fn salt(mut self, s: &str) -> Pkg {
        self.salt = s.into();
        self
    }

    pub fn filename(mut self, f: &str) -> Pkg {
        self.filename = Some(f.into());
        self
    }

    fn source_name(&self) -> &str {
        let source = self.source.as_deref().unwrap_or(&self.name);
        source.split(" (").next().unwrap_or(source)
    }

    /// `Source: NAME` or `Source: NAME (VERSION)`.
    pub fn source(mut self, s: &str) -> Pkg {
        self.source = Some(s.into());
        self
    }

    /// `pool/<component>/<prefix>/<source>/<name>_<version>_<arch>.deb` (epoch dropped, as dak does).
    pub fn pool_path(&self) -> String {
        let src = self.source_name();
        let prefix = if src.starts_with("lib") && src.len() > 3 {
            &src[..4]
        } else {
            &src[..1]
        };
        let ver = self
            .version
            .split_once(':')
            .map_or(self.version.as_str(), |(_, v)| v);
        format!(
            "pool/{}/{prefix}/{src}/{}_{ver}_{}.deb",
            self.component, self.name, self.arch
        )
    }

    fn control(&self) -> String {
        let mut c = format!(
            "Package: {}\nVersion: {}\nArchitecture: {}\nMaintainer: Test <test@example.invalid>\nInstalled-Size: 1\n",
            self.name, self.version, self.arch
        );
        if let Some(d) = &self.pre_depends {
            c += &format!("Pre-Depends: {d}\n");
        }
        if let Some(d) = &self.depends {
            c += &format!("Depends: {d}\n");
        }
        if let Some(p) = &self.provides {
            c += &format!("Provides: {p}\n");
        }
        c += &format!(
            "Section: {}\nPriority: {}\nDescription: test package {}\n fixture\n",
            self.section, self.priority, self.name
        );
        c
    }

    /// The .deb bytes: a real ar archive with debian-binary, control.tar.gz and data.tar.gz.
    /// The SHA256 of [`Pkg::deb`].
    pub fn sha256(&self) -> debvault::digest::Sha256 {
        debvault::digest::Sha256::of(&self.deb())
    }

    pub fn deb(&self) -> Vec<u8> {
        let control = self.control();
        let control_tar = gzip(&tar(&[("./control", control.as_bytes())]));
        let doc = format!("{} {} {}\n", self.name, self.version, self.salt);
        let readme = format!("./usr/share/doc/{}/README", self.name);
        let mut members = vec![(readme.as_str(), doc.as_bytes())];
        members.extend(self.data.iter().map(|(p, d)| (p.as_str(), d.as_slice())));
        let data_tar = gzip(&tar(&members));
        let mut out = b"!<arch>\n".to_vec();
        for (name, data) in [
            ("debian-binary", &b"2.0\n"[..]),
            ("control.tar.gz", &control_tar),
            ("data.tar.gz", &data_tar),
        ] {
            out.extend_from_slice(
                format!(
                    "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                    0,
                    0,
                    0,
                    "100644",
                    data.len()
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

    pub fn stanza(&self, deb: &[u8]) -> String {
        let mut s = self.control().replace("Description:", "\u{0}");
        // Put index-only fields before the Description, as dak does.
        let filename = self.filename.clone().unwrap_or_else(|| self.pool_path());
        let mut index = String::new();
        if let Some(src) = &self.source {
            index += &format!("Source: {src}\n");
        }
        for (k, v) in &self.extra {
            index += &format!("{k}: {v}\n");
        }
        index += &format!(
            "Filename: {filename}\nSize: {}\nMD5sum: {}\nSHA256: {}\nDescription:",
            deb.len(),
            md5_hex(deb),
            Sha256::of(deb)
        );
        s = s.replace('\u{0}', &index);
        s
    }
}

fn md5_hex(data: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(data))
}

/// A ustar archive of `files`.
pub fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[148..156].copy_from_slice(b"        ");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).expect("xz");
    e.finish().expect("xz")
}

/// How to build a repository.
#[derive(Clone)]
pub struct Repo {
    pub suite: String,
    pub codename: String,
    pub architectures: Vec<String>,
    pub components: Vec<String>,
    pub packages: Vec<Pkg>,
    pub date: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub by_hash: bool,
    pub inrelease: bool,
    pub release_gpg: bool,
    pub keys: Vec<String>,
    /// Write only these compressions of Packages (any of "", ".gz", ".xz").
    pub compressions: Vec<&'static str>,
    /// Packages given as finished stanzas (real index excerpts), with their pool files.
    pub raw: Vec<RawPkg>,
    /// Source packages (`<component>/source/Sources`).
    pub sources: Vec<super::sources::SrcPkg>,
    /// More files under `dists/SUITE/` (path, bytes), listed in the Release
    /// with a by-hash copy: `main/i18n/Translation-en.xz`, say.
    pub dists_files: Vec<(String, Vec<u8>)>,
}

/// A package given as a complete stanza (with Filename, Size, SHA256) and its file.
#[derive(Clone, Debug)]
pub struct RawPkg {
    pub component: String,
    pub arch: String,
    pub stanza: String,
    pub filename: String,
    pub data: Vec<u8>,
}

impl Repo {
    pub fn new(packages: Vec<Pkg>) -> Repo {
        Repo {
            suite: "stable".into(),
            codename: "testing-fixture".into(),
            architectures: vec!["amd64".into()],
            components: vec!["main".into()],
            packages,
            date: Utc::now() - Duration::hours(1),
            valid_until: Some(Utc::now() + Duration::days(7)),
            by_hash: true,
            inrelease: true,
            release_gpg: true,
            keys: vec!["upstream".into()],
            compressions: vec!["", ".gz", ".xz"],
            raw: Vec::new(),
            sources: Vec::new(),
            dists_files: Vec::new(),
        }
    }

    /// Writes the repository under `root` (which is cleared first) and returns the Release text.
    pub fn write(&self, root: &Path) -> String {
        let _ = std::fs::remove_dir_all(root);
        let dists = root.join("dists").join(&self.suite);
        std::fs::create_dir_all(&dists).expect("mkdir");
        let mut files: BTreeMap<String, ReleaseFile> = BTreeMap::new();
        let mut debs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for component in &self.components {
            for arch in &self.architectures {
                let mut text = String::new();
                for p in self
                    .packages
                    .iter()
                    .filter(|p| &p.component == component && (&p.arch == arch || p.arch == "all"))
                {
                    let deb = p.deb();
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text += &p.stanza(&deb);
                    debs.insert(p.pool_path(), deb);
                }
                for r in self
                    .raw
                    .iter()
                    .filter(|r| &r.component == component && (&r.arch == arch || r.arch == "all"))
                {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text += r.stanza.trim_end_matches('\n');
                    text.push('\n');
                    debs.insert(r.filename.clone(), r.data.clone());
                }
                let dir_rel = format!("{component}/binary-{arch}");
                let dir = dists.join(&dir_rel);
                std::fs::create_dir_all(dir.join("by-hash/SHA256")).expect("mkdir");
                for ext in &self.compressions {
                    let data = match *ext {
                        ".gz" => gzip(text.as_bytes()),
                        ".xz" => xz(text.as_bytes()),
                        _ => text.as_bytes().to_vec(),
                    };
                    let sha = Sha256::of(&data);
                    std::fs::write(dir.join(format!("Packages{ext}")), &data).expect("write");
                    if self.by_hash {
                        std::fs::write(dir.join("by-hash/SHA256").join(sha.to_string()), &data)
                            .expect("write");
                    }
                    files.insert(
                        format!("{dir_rel}/Packages{ext}"),
                        ReleaseFile {
                            size: data.len() as u64,
                            sha256: Some(sha),
                            md5: Some(md5_hex(&data)),
                        },
                    );
                }
            }
        }
        super::sources::write_sources(&self.sources, &self.components, root, &dists, &mut files);
        for (rel, data) in &self.dists_files {
            let path = dists.join(rel);
            let dir = path.parent().expect("parent");
            std::fs::create_dir_all(dir.join("by-hash/SHA256")).expect("mkdir");
            std::fs::write(&path, data).expect("write");
            let sha = Sha256::of(data);
            if self.by_hash {
                std::fs::write(dir.join("by-hash/SHA256").join(sha.to_string()), data)
                    .expect("write");
            }
            let file = ReleaseFile {
                size: data.len() as u64,
                sha256: Some(sha),
                md5: Some(md5_hex(data)),
            };
            files.insert(rel.clone(), file);
        }
        for (path, deb) in &debs {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(full, deb).expect("write deb");
        }
        let release = Release {
            origin: Some("Fixture".into()),
            label: Some("Fixture".into()),
            suite: Some(self.suite.clone()),
            codename: Some(self.codename.clone()),
            date: Some(self.date),
            valid_until: self.valid_until,
            architectures: self.architectures.clone(),
            components: self.components.clone(),
            description: Some("debvault test fixture".into()),
            acquire_by_hash: self.by_hash,
            files,
            ..Release::default()
        };
        let text = release.render();
        std::fs::write(dists.join("Release"), &text).expect("write Release");
        let keys: Vec<SigningKey> = self.keys.iter().map(|k| key(k)).collect();
        if self.inrelease {
            let signed = sign_clearsigned(&keys, text.as_bytes()).expect("sign InRelease");
            std::fs::write(dists.join("InRelease"), signed).expect("write InRelease");
        }
        if self.release_gpg {
            let sig = sign_detached(&keys, text.as_bytes()).expect("sign Release.gpg");
            std::fs::write(dists.join("Release.gpg"), sig).expect("write Release.gpg");
        }
        text
    }
}

/// Deterministic, incompressible-looking bytes (xorshift from `seed`).
pub fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}
