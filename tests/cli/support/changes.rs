//! Uploads for `repo include`: a `.changes` listing files beside it, with
//! their sizes and checksums, clearsigned with a test key or not.

use std::path::{Path, PathBuf};

use debvault::digest::Sha256;
use debvault::pgp::sign_clearsigned;
use md5::Digest as _;

use super::fixture::key;

/// A `.changes` being written: its fields and the files it lists.
pub struct Changes {
    source: String,
    binaries: Vec<String>,
    /// `(name as listed, bytes the listing is computed from)`.
    files: Vec<(String, Vec<u8>)>,
}

impl Changes {
    /// An upload of source `source` declaring `binaries`.
    pub fn new(source: &str, binaries: &[&str]) -> Changes {
        Changes {
            source: source.to_owned(),
            binaries: binaries.iter().map(|b| (*b).to_owned()).collect(),
            files: Vec::new(),
        }
    }

    /// Lists `name` with the size and checksums of `data`.
    pub fn file(mut self, name: &str, data: &[u8]) -> Changes {
        self.files.push((name.to_owned(), data.to_vec()));
        self
    }

    /// The text, unsigned.
    pub fn text(&self) -> String {
        let mut sha256 = String::new();
        let mut md5 = String::new();
        for (name, data) in &self.files {
            sha256 += &format!("\n {} {} {name}", Sha256::of(data), data.len());
            md5 += &format!(
                "\n {} {} misc optional {name}",
                hex::encode(md5::Md5::digest(data)),
                data.len()
            );
        }
        format!(
            "Format: 1.8\nDate: Sun, 06 Dec 2026 10:00:00 +0000\nSource: {}\nBinary: {}\n\
             Architecture: amd64\nVersion: 1.0\nDistribution: unstable\n\
             Maintainer: Test <test@example.invalid>\nChanges:\n {} (1.0) unstable; urgency=low\n\
             Checksums-Sha256:{sha256}\nFiles:{md5}\n",
            self.source,
            self.binaries.join(" "),
            self.source
        )
    }

    /// Writes the `.changes` to `dir/name`, clearsigned with the test key
    /// `signer` when given; returns its path.
    pub fn write(&self, dir: &Path, name: &str, signer: Option<&str>) -> PathBuf {
        let text = self.text();
        let data = match signer {
            Some(k) => sign_clearsigned(&[key(k)], text.as_bytes()).expect("sign .changes"),
            None => text.into_bytes(),
        };
        std::fs::create_dir_all(dir).expect("mkdir");
        let path = dir.join(name);
        std::fs::write(&path, data).expect("write .changes");
        path
    }
}

/// The primary fingerprint of test key `name`.
pub fn fingerprint(name: &str) -> String {
    key(name).fingerprint()
}
