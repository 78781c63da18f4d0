//! What a verified Release and a verified index promise, as
//! [`ProxyEntry`]s: the proxy caches a file only with the content one of
//! them names.

use std::io::BufRead;
use std::path::Path;

use crate::db::ProxyEntry;
use crate::debian::deb822::StanzaReader;
use crate::debian::release::Release;
use crate::digest::Sha256;
use crate::fetch::{Compression, open_decompressed};

/// Largest decompressed index parsed (Debian's biggest is well below).
const MAX_INDEX_BYTES: u64 = 4 << 30;

/// Every file `release` (of the suite below `suite_dir`) lists with a
/// SHA256, by its name and by its `by-hash` name.
pub(super) fn release_entries(suite_dir: &str, release: &Release) -> Vec<ProxyEntry> {
    let mut out = Vec::with_capacity(release.files.len() * 2);
    for (name, file) in &release.files {
        let Some(sha256) = file.sha256 else { continue };
        let path = format!("{suite_dir}/{name}");
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        out.push(ProxyEntry {
            path: format!("{dir}/by-hash/SHA256/{}", sha256.to_hex()),
            sha256,
            size: file.size,
        });
        out.push(ProxyEntry {
            path,
            sha256,
            size: file.size,
        });
    }
    out
}

/// What kind of index a path below the upstream names, by its file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IndexKind {
    Packages,
    Sources,
}

/// The index kind and compression of `path`, if it is a `Packages` or
/// `Sources` file whose compression can be read.
pub(super) fn index_kind(path: &str) -> Option<(IndexKind, Compression)> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    let kind = match stem {
        "Packages" => IndexKind::Packages,
        "Sources" => IndexKind::Sources,
        _ => return None,
    };
    Some((kind, Compression::from_extension(Path::new(name))?))
}

/// Why an index could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum IndexError {
    #[error("cannot open the index")]
    Open(#[source] crate::fetch::FetchError),
    #[error("cannot parse the index")]
    Parse(#[source] crate::debian::deb822::Deb822Error),
}

/// The pool files a verified index (the file `file`, of `kind`) names:
/// paths below the upstream with their size and SHA256. Entries without
/// one are skipped (they are passed through uncached).
pub(super) fn index_entries(
    file: &Path,
    kind: IndexKind,
    compression: Compression,
) -> Result<Vec<ProxyEntry>, IndexError> {
    let reader = open_decompressed(file, compression, MAX_INDEX_BYTES).map_err(IndexError::Open)?;
    parse_index(reader, kind)
}

fn parse_index(reader: impl BufRead, kind: IndexKind) -> Result<Vec<ProxyEntry>, IndexError> {
    let mut out = Vec::new();
    for stanza in StanzaReader::new(reader) {
        let stanza = stanza.map_err(IndexError::Parse)?;
        match kind {
            IndexKind::Packages => {
                let (Some(path), Some(size), Some(sha)) = (
                    stanza.get("Filename"),
                    stanza.get("Size").and_then(|s| s.trim().parse().ok()),
                    stanza
                        .get("SHA256")
                        .and_then(|s| s.trim().parse::<Sha256>().ok()),
                ) else {
                    continue;
                };
                if safe(path) {
                    out.push(ProxyEntry {
                        path: path.to_owned(),
                        sha256: sha,
                        size,
                    });
                }
            }
            IndexKind::Sources => {
                let (Some(dir), Some(list)) =
                    (stanza.get("Directory"), stanza.get("Checksums-Sha256"))
                else {
                    continue;
                };
                for line in list.lines() {
                    let mut words = line.split_ascii_whitespace();
                    let (Some(sha), Some(size), Some(name), None) =
                        (words.next(), words.next(), words.next(), words.next())
                    else {
                        continue;
                    };
                    let (Ok(sha256), Ok(size)) = (sha.parse::<Sha256>(), size.parse()) else {
                        continue;
                    };
                    let path = format!("{}/{name}", dir.trim_end_matches('/'));
                    if safe(&path) {
                        out.push(ProxyEntry { path, sha256, size });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A relative path without `.`/`..`/empty segments: one a client could
/// ask for, and one that cannot name something else below the upstream.
fn safe(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains(['\\', '\0']))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn packages_and_sources_name_pool_files() {
        let packages = format!(
            "Package: a\nFilename: pool/main/a/a_1_all.deb\nSize: 5\nSHA256: {SHA}\n\n\
             Package: b\nFilename: ../etc/passwd\nSize: 5\nSHA256: {SHA}\n\n\
             Package: c\nFilename: pool/main/c/c_1_all.deb\nSize: 5\n"
        );
        let got = parse_index(packages.as_bytes(), IndexKind::Packages).expect("parse");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].path, "pool/main/a/a_1_all.deb");
        assert_eq!(got[0].size, 5);
        let sources = format!(
            "Package: a\nDirectory: pool/main/a\nChecksums-Sha256:\n {SHA} 5 a_1.dsc\n {SHA} 7 a_1.tar.xz\n"
        );
        let got = parse_index(sources.as_bytes(), IndexKind::Sources).expect("parse");
        let paths: Vec<_> = got.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["pool/main/a/a_1.dsc", "pool/main/a/a_1.tar.xz"]);
    }

    #[test]
    fn index_kinds() {
        assert_eq!(
            index_kind("dists/s/main/binary-amd64/Packages.xz"),
            Some((IndexKind::Packages, Compression::Xz))
        );
        assert_eq!(
            index_kind("dists/s/main/source/Sources.gz"),
            Some((IndexKind::Sources, Compression::Gzip))
        );
        assert_eq!(index_kind("dists/s/main/binary-amd64/Packages.bz2"), None);
        assert_eq!(index_kind("dists/s/main/i18n/Translation-en"), None);
    }

    #[test]
    fn release_lists_names_and_by_hash() {
        let text = format!("Suite: s\nSHA256:\n {SHA} 5 main/binary-amd64/Packages\n");
        let release = Release::parse(&text).expect("release");
        let got = release_entries("dists/s", &release);
        let paths: Vec<_> = got.iter().map(|e| e.path.as_str()).collect();
        assert!(
            paths.contains(&"dists/s/main/binary-amd64/Packages"),
            "{paths:?}"
        );
        assert!(
            paths.contains(&format!("dists/s/main/binary-amd64/by-hash/SHA256/{SHA}").as_str()),
            "{paths:?}"
        );
    }
}
