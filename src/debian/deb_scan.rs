//! One streaming pass over a `.deb`: its file list (as `Contents` lists
//! it) and its Debian changelog.
//!
//! The `data.tar` member is decompressed on the fly (gzip, xz, zstd, bzip2
//! or none) and walked with [`TarReader`]; file bodies are read through,
//! never kept, except the changelog's, which is small and bounded. Every
//! output is bounded: the decompressed tar by a ratio to the member's size
//! (a decompression bomb stops early), the file list by entries and bytes,
//! the changelog by size.

use std::io::{self, BufRead, Read};

use flate2::bufread::MultiGzDecoder;
use liblzma::bufread::XzDecoder;
use liblzma::stream::{CONCATENATED, Stream};

use super::deb::{ArReader, DebError, EntryKind, TarEntry, TarReader};

/// Bounds of a [`scan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanLimits {
    /// Most paths in a file list.
    pub max_files: usize,
    /// Most bytes of paths in a file list.
    pub max_list_bytes: u64,
    /// Largest changelog, compressed or not.
    pub max_changelog: u64,
    /// The decompressed `data.tar` may be this many times its member's
    /// size (at least `min_data`).
    pub max_ratio: u64,
    /// Decompressed `data.tar` always allowed.
    pub min_data: u64,
}

impl Default for ScanLimits {
    /// Far above any package in Debian (the largest file lists have about
    /// 100,000 paths and 10 MB); xz of an all-zero file reaches a ratio of
    /// about 7,000, real packages stay below 20.
    fn default() -> Self {
        ScanLimits {
            max_files: 2_000_000,
            max_list_bytes: 256 << 20,
            max_changelog: 16 << 20,
            max_ratio: 200,
            min_data: 1 << 30,
        }
    }
}

/// What a `.deb` holds, as far as publishing cares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DebScan {
    /// Paths of everything but directories, sorted, without `./`.
    pub files: Vec<String>,
    /// `usr/share/doc/<package>/changelog.Debian.gz` decompressed (or
    /// `changelog.gz` of a native package), if the package has one.
    pub changelog: Option<Vec<u8>>,
}

/// What a scan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// The file list and the changelog.
    Everything,
    /// The changelog alone (the file list is known, seeded from upstream's
    /// Contents): the walk stops at `changelog.Debian.gz`, which in a
    /// Debian-built `data.tar` (entries sorted by path) comes before
    /// everything under `usr/share/` after `doc/`, so less of the archive is
    /// decompressed. `files` stays empty.
    Changelog,
}

/// Reads the `.deb` of `package` (`len` bytes from `reader`).
pub fn scan(
    reader: impl BufRead,
    len: u64,
    package: &str,
    limits: &ScanLimits,
) -> Result<DebScan, DebError> {
    scan_for(reader, len, package, limits, Want::Everything)
}

/// Reads what `want` names from the `.deb` of `package`.
pub fn scan_for(
    reader: impl BufRead,
    len: u64,
    package: &str,
    limits: &ScanLimits,
    want: Want,
) -> Result<DebScan, DebError> {
    let mut ar = ArReader::new(reader, len)?;
    while let Some(m) = ar.next_member()? {
        if !m.name.starts_with("data.tar") {
            continue;
        }
        let name = m.name.clone();
        let body = ar.body(m.size);
        let max = m.size.saturating_mul(limits.max_ratio).max(limits.min_data);
        let decoded = decompress(&name, "data.tar".len(), m.offset, body)?;
        let bounded = Bounded {
            inner: decoded,
            left: max,
        };
        return walk(
            // Tar headers are 512 bytes; bodies are read through. A small
            // buffer: each .deb allocates (and zeroes) its own.
            io::BufReader::with_capacity(16 * 1024, bounded),
            package,
            limits,
            (max, want),
        );
    }
    Err(DebError::Missing("data.tar"))
}

/// The body of the ar member `name` at `offset` (`<stem><suffix>`, the
/// stem `stem_len` bytes long) decompressed as its suffix says: none,
/// `.gz`, `.xz`, `.zst` or `.bz2`.
pub(crate) fn decompress<'a>(
    name: &str,
    stem_len: usize,
    offset: u64,
    body: impl BufRead + 'a,
) -> Result<Box<dyn Read + 'a>, DebError> {
    let read_err = |source| DebError::Read {
        member: name.to_owned(),
        offset,
        source,
    };
    Ok(match name.get(stem_len..).unwrap_or_default() {
        "" => Box::new(body),
        ".gz" => Box::new(MultiGzDecoder::new(body)),
        ".xz" => {
            let stream = Stream::new_stream_decoder(XZ_MEMLIMIT, CONCATENATED)
                .map_err(|e| read_err(io::Error::other(e)))?;
            Box::new(XzDecoder::new_stream(body, stream))
        }
        ".zst" => Box::new(
            ruzstd::decoding::StreamingDecoder::new(body)
                .map_err(|e| read_err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())))?,
        ),
        ".bz2" => Box::new(bzip2::bufread::MultiBzDecoder::new(body)),
        _ => return Err(DebError::Compression(name.to_owned())),
    })
}

/// Memory the xz decoder may use (as for indices).
const XZ_MEMLIMIT: u64 = 256 * 1024 * 1024;

fn walk(
    tar: impl BufRead,
    package: &str,
    limits: &ScanLimits,
    (max_data, want): (u64, Want),
) -> Result<DebScan, DebError> {
    let debian = format!("usr/share/doc/{package}/changelog.Debian.gz");
    let native = format!("usr/share/doc/{package}/changelog.gz");
    let mut tar = TarReader::new(tar);
    let mut out = DebScan::default();
    let mut list_bytes = 0u64;
    let mut native_log = None;
    let next = |tar: &mut TarReader<_>| {
        tar.next_entry().map_err(|e| match e {
            DebError::Read { source, .. } if is_bound(&source) => DebError::TooLarge {
                what: "decompressed `data.tar`".into(),
                limit: max_data,
            },
            e => e,
        })
    };
    while let Some(e) = next(&mut tar)? {
        if e.kind == EntryKind::Directory || e.path.is_empty() {
            continue;
        }
        if want == Want::Changelog {
            if e.kind == EntryKind::File && (e.path == debian || e.path == native) {
                let text = changelog_text(&mut tar, &e, limits)?;
                if e.path == debian {
                    out.changelog = Some(text);
                    return Ok(out);
                }
                native_log = Some(text);
            }
            continue;
        }
        list_bytes += e.path.len() as u64 + 1;
        if out.files.len() >= limits.max_files {
            return Err(DebError::TooLarge {
                what: "the number of files".into(),
                limit: limits.max_files as u64,
            });
        }
        if list_bytes > limits.max_list_bytes {
            return Err(DebError::TooLarge {
                what: "the file list's size in bytes".into(),
                limit: limits.max_list_bytes,
            });
        }
        if e.kind == EntryKind::File && (e.path == debian || e.path == native) {
            let text = changelog_text(&mut tar, &e, limits)?;
            if e.path == debian {
                out.changelog = Some(text);
            } else {
                native_log = Some(text);
            }
        }
        out.files.push(e.path);
    }
    if out.changelog.is_none() {
        out.changelog = native_log;
    }
    out.files.sort_unstable();
    out.files.dedup();
    Ok(out)
}

/// The changelog at entry `e` of `tar`, gunzipped, within the limits.
fn changelog_text<R: BufRead>(
    tar: &mut TarReader<R>,
    e: &TarEntry,
    limits: &ScanLimits,
) -> Result<Vec<u8>, DebError> {
    if e.size > limits.max_changelog {
        return Err(DebError::TooLarge {
            what: format!("`{}`", e.path),
            limit: limits.max_changelog,
        });
    }
    gunzip(tar.body(e.size), limits.max_changelog).map_err(|source| DebError::Read {
        member: e.path.clone(),
        offset: e.offset,
        source,
    })
}

/// `r` gunzipped, at most `max` bytes.
fn gunzip(r: impl BufRead, max: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    MultiGzDecoder::new(r).take(max + 1).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("decompresses to more than {max} bytes"),
        ));
    }
    Ok(out)
}

/// The marker of [`Bounded`]'s error.
#[derive(Debug, thiserror::Error)]
#[error("decompressed data exceeds its bound")]
struct Bound;

fn is_bound(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|e| e.is::<Bound>())
}

/// A reader that fails once its inner reader yields more than `left` bytes.
struct Bounded<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want =
            usize::try_from(self.left.saturating_add(1)).map_or(buf.len(), |l| l.min(buf.len()));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(io::Error::new(io::ErrorKind::InvalidData, Bound));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::debian::deb::tests::{ar, tar};

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn deb(data_name: &str, data: &[u8]) -> Vec<u8> {
        ar(&[
            ("debian-binary", b"2.0\n"),
            ("control.tar.gz", &gz(&tar(&[]))),
            (data_name, data),
        ])
    }

    fn sample() -> Vec<u8> {
        tar(&[
            ("./", b'5', b""),
            ("./usr/bin/hello", b'0', b"#!/bin/sh\n"),
            ("./usr/share/doc/hello/", b'5', b""),
            (
                "./usr/share/doc/hello/changelog.Debian.gz",
                b'0',
                &gz(b"hello (1.0-1) unstable; urgency=low\n"),
            ),
            ("./usr/bin/hi", b'2', b""),
        ])
    }

    #[test]
    fn every_compression_gives_the_same_list() {
        let plain = sample();
        let xz = {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 0);
            e.write_all(&plain).unwrap();
            e.finish().unwrap()
        };
        let bz = {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(&plain).unwrap();
            e.finish().unwrap()
        };
        let want = DebScan {
            files: vec![
                "usr/bin/hello".into(),
                "usr/bin/hi".into(),
                "usr/share/doc/hello/changelog.Debian.gz".into(),
            ],
            changelog: Some(b"hello (1.0-1) unstable; urgency=low\n".to_vec()),
        };
        for (name, data) in [
            ("data.tar", plain.clone()),
            ("data.tar.gz", gz(&plain)),
            ("data.tar.xz", xz),
            ("data.tar.bz2", bz),
        ] {
            let d = deb(name, &data);
            let got = scan(&d[..], d.len() as u64, "hello", &ScanLimits::default()).unwrap();
            assert_eq!(got, want, "{name}");
        }
        let d = deb("data.tar.lz4", b"x");
        let err = scan(&d[..], d.len() as u64, "hello", &ScanLimits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "member `data.tar.lz4` uses an unsupported compression"
        );
    }

    #[test]
    fn a_changelog_alone_stops_the_walk_at_it() {
        // What follows the changelog is cut short: only a full walk sees it.
        let mut data = sample();
        data.truncate(data.len() - 1024 - 600);
        let d = deb("data.tar", &data);
        let limits = ScanLimits::default();
        let got = scan_for(&d[..], d.len() as u64, "hello", &limits, Want::Changelog).unwrap();
        assert_eq!(
            got,
            DebScan {
                files: Vec::new(),
                changelog: Some(b"hello (1.0-1) unstable; urgency=low\n".to_vec()),
            }
        );
        assert!(scan(&d[..], d.len() as u64, "hello", &limits).is_err());
        // A package without one is walked to its end, as before.
        let d = deb("data.tar", &sample());
        let got = scan_for(&d[..], d.len() as u64, "other", &limits, Want::Changelog).unwrap();
        assert_eq!(got, DebScan::default());
    }

    #[test]
    fn bombs_and_long_lists_are_bounded() {
        let big = tar(&[("./zeros", b'0', &vec![0u8; 1 << 20])]);
        let d = deb("data.tar.gz", &gz(&big));
        let limits = ScanLimits {
            min_data: 64 * 1024,
            max_ratio: 10,
            ..ScanLimits::default()
        };
        let err = scan(&d[..], d.len() as u64, "z", &limits).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("decompressed `data.tar` exceeds"),
            "{err}"
        );
        let d = deb("data.tar", &sample());
        let limits = ScanLimits {
            max_files: 2,
            ..ScanLimits::default()
        };
        let err = scan(&d[..], d.len() as u64, "hello", &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the number of files exceeds the limit of 2"
        );
    }
}
