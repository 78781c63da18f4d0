//! `Release` files: the signed table of contents of an apt suite.
//!
//! After the signature of an `InRelease` (or `Release` + `Release.gpg`) is
//! checked, this is what a mirror trusts: which architectures and components
//! exist, until when the metadata is valid, and the size and hash of every
//! index file. [`Release::parse`] validates all of that (conflicting entries,
//! unsafe paths, malformed hashes and dates are errors) and
//! [`Release::render`] writes a Release file the way Debian's archive
//! software does, for the snapshots a mirror publishes.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::debian::deb822::{Deb822Error, StanzaReader};
use crate::debian::safe_path::{SafePath, UnsafePathError};
use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE};

/// Why a Release file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The text is not deb822.
    #[error(transparent)]
    Deb822(#[from] Deb822Error),
    /// No stanza at all.
    #[error("release file has no fields")]
    Empty,
    /// A date field that is not an RFC 2822 date.
    #[error("field `{field}`: `{value}` is not a date like `Sat, 09 Nov 2024 10:12:44 UTC`")]
    BadDate {
        /// `Date` or `Valid-Until`.
        field: &'static str,
        /// The value as written.
        value: String,
    },
    /// A flag field with an unknown value.
    #[error("field `{field}`: `{value}` is not {expected}")]
    BadFlag {
        /// The field.
        field: &'static str,
        /// The value as written.
        value: String,
        /// The accepted values.
        expected: &'static str,
    },
    /// A hash list line that is not `hash size path`.
    #[error("field `{list}`: line `{line}` is not `hash size path`")]
    BadListLine {
        /// `MD5Sum` or `SHA256`.
        list: &'static str,
        /// The line.
        line: String,
    },
    /// A malformed digest.
    #[error("field `{list}`: `{hash}` for `{path}` is not {expected}")]
    BadHash {
        /// `MD5Sum` or `SHA256`.
        list: &'static str,
        /// The file.
        path: String,
        /// The digest as written.
        hash: String,
        /// What a digest of that list looks like.
        expected: &'static str,
    },
    /// A malformed size.
    #[error("field `{list}`: size `{size}` for `{path}` is not a number")]
    BadSize {
        /// `MD5Sum` or `SHA256`.
        list: &'static str,
        /// The file.
        path: String,
        /// The size as written.
        size: String,
    },
    /// A path that could escape the mirror root.
    #[error("field `{list}`: {source}")]
    UnsafePath {
        /// `MD5Sum` or `SHA256`.
        list: &'static str,
        /// Which path rule it breaks.
        source: UnsafePathError,
    },
    /// The same file listed with two sizes.
    #[error("file `{path}` is listed with two sizes, {first} and {second}")]
    ConflictingSize {
        /// The file.
        path: String,
        /// The size seen first.
        first: u64,
        /// The other size.
        second: u64,
    },
    /// The same file listed with two digests of one kind.
    #[error("file `{path}` is listed with two different {list} digests")]
    ConflictingHash {
        /// `MD5Sum` or `SHA256`.
        list: &'static str,
        /// The file.
        path: String,
    },
}

impl ExitCode for ReleaseError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// Size and digests of one file listed in a Release.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReleaseFile {
    /// Size in bytes.
    pub size: u64,
    /// From the `SHA256` list.
    pub sha256: Option<Sha256>,
    /// From the `MD5Sum` list, lowercase hex.
    pub md5: Option<String>,
}

/// The fields of a Release file that a mirror uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Release {
    /// `Origin`.
    pub origin: Option<String>,
    /// `Label`.
    pub label: Option<String>,
    /// `Suite` (`stable`, `bookworm-updates`, …).
    pub suite: Option<String>,
    /// `Codename`.
    pub codename: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `Date`.
    pub date: Option<DateTime<Utc>>,
    /// `Valid-Until`.
    pub valid_until: Option<DateTime<Utc>>,
    /// `Architectures`, space-separated.
    pub architectures: Vec<String>,
    /// `Components`, space-separated.
    pub components: Vec<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Acquire-By-Hash: yes`.
    pub acquire_by_hash: bool,
    /// `No-Support-for-Architecture-all: Packages`.
    pub no_support_for_architecture_all: bool,
    /// `Signed-By`.
    pub signed_by: Option<String>,
    /// Files from the `MD5Sum` and `SHA256` lists, by path.
    pub files: BTreeMap<String, ReleaseFile>,
    /// Every other field in order, except the `SHA1` and `SHA512` lists,
    /// which are dropped.
    pub extra: Vec<(String, String)>,
}

/// Which hash list a line came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    Md5,
    Sha256,
}

impl List {
    fn name(self) -> &'static str {
        match self {
            List::Md5 => "MD5Sum",
            List::Sha256 => "SHA256",
        }
    }
}

/// Parses a date as Debian writes it (`Sat, 09 Nov 2024 10:12:44 UTC`),
/// also with numeric offsets, `GMT`, single-digit days or no weekday.
fn parse_date(field: &'static str, value: &str) -> Result<DateTime<Utc>, ReleaseError> {
    let bad = || ReleaseError::BadDate {
        field,
        value: value.to_owned(),
    };
    let v = value.trim_ascii();
    // chrono's RFC 2822 parser knows `UT` and `GMT` but not `UTC`.
    let owned;
    let v = match v.strip_suffix("UTC") {
        Some(head) if head.ends_with(' ') => {
            owned = format!("{head}+0000");
            owned.as_str()
        }
        _ => v,
    };
    // Four-digit years only: what `Date:` fields hold, and what renders back.
    DateTime::parse_from_rfc2822(v)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .filter(|d| (1000..=9999).contains(&chrono::Datelike::year(d)))
        .ok_or_else(bad)
}

fn format_date(d: &DateTime<Utc>) -> String {
    d.format("%a, %d %b %Y %H:%M:%S UTC").to_string()
}

fn flag(
    field: &'static str,
    value: &str,
    yes: &'static str,
    no: Option<&'static str>,
    expected: &'static str,
) -> Result<bool, ReleaseError> {
    if value.eq_ignore_ascii_case(yes) {
        Ok(true)
    } else if no.is_some_and(|n| value.eq_ignore_ascii_case(n)) {
        Ok(false)
    } else {
        Err(ReleaseError::BadFlag {
            field,
            value: value.to_owned(),
            expected,
        })
    }
}

fn words(v: &str) -> Vec<String> {
    v.split_ascii_whitespace().map(str::to_owned).collect()
}

impl Release {
    /// Parses the first stanza of `text` (the signed content of an
    /// `InRelease`, or a plain `Release`).
    pub fn parse(text: &str) -> Result<Release, ReleaseError> {
        let stanza = StanzaReader::new(text.as_bytes())
            .next()
            .ok_or(ReleaseError::Empty)??;
        let mut r = Release::default();
        for (name, value) in stanza.into_fields() {
            let known = [
                "Origin",
                "Label",
                "Suite",
                "Codename",
                "Version",
                "Date",
                "Valid-Until",
                "Architectures",
                "Components",
                "Description",
                "Acquire-By-Hash",
                "No-Support-for-Architecture-all",
                "Signed-By",
                "MD5Sum",
                "SHA256",
                "SHA1",
                "SHA512",
            ]
            .into_iter()
            .find(|k| k.eq_ignore_ascii_case(&name));
            match known {
                Some("Origin") => r.origin = Some(value),
                Some("Label") => r.label = Some(value),
                Some("Suite") => r.suite = Some(value),
                Some("Codename") => r.codename = Some(value),
                Some("Version") => r.version = Some(value),
                Some("Description") => r.description = Some(value),
                Some("Signed-By") => r.signed_by = Some(value),
                Some("Date") => r.date = Some(parse_date("Date", &value)?),
                Some("Valid-Until") => r.valid_until = Some(parse_date("Valid-Until", &value)?),
                Some("Architectures") => r.architectures = words(&value),
                Some("Components") => r.components = words(&value),
                Some("Acquire-By-Hash") => {
                    r.acquire_by_hash = flag(
                        "Acquire-By-Hash",
                        &value,
                        "yes",
                        Some("no"),
                        "`yes` or `no`",
                    )?;
                }
                Some("No-Support-for-Architecture-all") => {
                    r.no_support_for_architecture_all = flag(
                        "No-Support-for-Architecture-all",
                        &value,
                        "Packages",
                        None,
                        "`Packages`",
                    )?;
                }
                Some("MD5Sum") => r.add_list(List::Md5, &value)?,
                Some("SHA256") => r.add_list(List::Sha256, &value)?,
                Some(_) => {} // SHA1, SHA512: not trusted, not kept.
                None => r.extra.push((name, value)),
            }
        }
        Ok(r)
    }

    fn add_list(&mut self, list: List, value: &str) -> Result<(), ReleaseError> {
        for line in value.lines() {
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_ascii_whitespace();
            let (Some(hash), Some(size), Some(path), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(ReleaseError::BadListLine {
                    list: list.name(),
                    line: line.to_owned(),
                });
            };
            let path = SafePath::new(path)
                .map_err(|source| ReleaseError::UnsafePath {
                    list: list.name(),
                    source,
                })?
                .into_string();
            let size = size
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| size.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| ReleaseError::BadSize {
                    list: list.name(),
                    path: path.clone(),
                    size: size.to_owned(),
                })?;
            let bad_hash = |expected| ReleaseError::BadHash {
                list: list.name(),
                path: path.clone(),
                hash: hash.to_owned(),
                expected,
            };
            let (sha, md5) = match list {
                List::Sha256 => (
                    Some(
                        hash.parse::<Sha256>()
                            .map_err(|_| bad_hash("64 hexadecimal digits"))?,
                    ),
                    None,
                ),
                List::Md5 => {
                    if hash.len() != 32 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(bad_hash("32 hexadecimal digits"));
                    }
                    (None, Some(hash.to_ascii_lowercase()))
                }
            };
            match self.files.entry(path) {
                Entry::Vacant(e) => {
                    e.insert(ReleaseFile {
                        size,
                        sha256: sha,
                        md5,
                    });
                }
                Entry::Occupied(mut e) => {
                    let f = e.get_mut();
                    if f.size != size {
                        let first = f.size;
                        return Err(ReleaseError::ConflictingSize {
                            path: e.key().clone(),
                            first,
                            second: size,
                        });
                    }
                    let conflict = match (sha, md5) {
                        (Some(new), _) => *f.sha256.get_or_insert(new) != new,
                        (_, Some(new)) => {
                            let old = f.md5.get_or_insert_with(|| new.clone());
                            *old != new
                        }
                        (None, None) => false,
                    };
                    if conflict {
                        return Err(ReleaseError::ConflictingHash {
                            list: list.name(),
                            path: e.key().clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The entry for `path` (e.g. `main/binary-amd64/Packages.xz`).
    pub fn file(&self, path: &str) -> Option<&ReleaseFile> {
        self.files.get(path)
    }

    /// Writes a Release file in the field order Debian's archive uses, with
    /// `MD5Sum` (files that have one) and `SHA256` lists whose sizes are
    /// right-aligned.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(256 + self.files.len() * 128);
        let mut field = |name: &str, value: &str| {
            out.push_str(name);
            if value.is_empty() || value.starts_with('\n') {
                out.push(':');
            } else {
                out.push_str(": ");
            }
            out.push_str(value);
            out.push('\n');
        };
        let opt = |v: &Option<String>| v.clone();
        let fields: [(&str, Option<String>); 13] = [
            ("Origin", opt(&self.origin)),
            ("Label", opt(&self.label)),
            ("Suite", opt(&self.suite)),
            ("Version", opt(&self.version)),
            ("Codename", opt(&self.codename)),
            ("Date", self.date.as_ref().map(format_date)),
            ("Valid-Until", self.valid_until.as_ref().map(format_date)),
            (
                "Acquire-By-Hash",
                self.acquire_by_hash.then(|| "yes".to_owned()),
            ),
            (
                "No-Support-for-Architecture-all",
                self.no_support_for_architecture_all
                    .then(|| "Packages".to_owned()),
            ),
            (
                "Architectures",
                (!self.architectures.is_empty()).then(|| self.architectures.join(" ")),
            ),
            (
                "Components",
                (!self.components.is_empty()).then(|| self.components.join(" ")),
            ),
            ("Description", opt(&self.description)),
            ("Signed-By", opt(&self.signed_by)),
        ];
        for (name, value) in &fields {
            if let Some(v) = value {
                field(name, v);
            }
        }
        for (name, value) in &self.extra {
            field(name, value);
        }
        let md5: Vec<(&str, &str, u64)> = self
            .files
            .iter()
            .filter_map(|(p, f)| f.md5.as_deref().map(|h| (p.as_str(), h, f.size)))
            .collect();
        let sha: Vec<(&str, String, u64)> = self
            .files
            .iter()
            .filter_map(|(p, f)| f.sha256.map(|h| (p.as_str(), h.to_string(), f.size)))
            .collect();
        let mut list = |name: &str, rows: &mut dyn Iterator<Item = (&str, &str, u64)>, width| {
            out.push_str(name);
            out.push_str(":\n");
            for (path, hash, size) in rows {
                // Writing to a String cannot fail.
                let _ = writeln!(out, " {hash} {size:>width$} {path}");
            }
        };
        let width = |sizes: &mut dyn Iterator<Item = u64>| {
            sizes.map(|s| s.to_string().len()).max().unwrap_or(1)
        };
        if !md5.is_empty() {
            let w = width(&mut md5.iter().map(|r| r.2));
            list("MD5Sum", &mut md5.iter().copied(), w);
        }
        if !sha.is_empty() {
            let w = width(&mut sha.iter().map(|r| r.2));
            list(
                "SHA256",
                &mut sha.iter().map(|(p, h, s)| (*p, h.as_str(), *s)),
                w,
            );
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const DEBIAN: &str = "\
Origin: Debian
Label: Debian
Suite: oldstable-updates
Version: 12-updates
Codename: bookworm-updates
Date: Sat, 09 Nov 2024 10:12:44 UTC
Valid-Until: Sat, 16 Nov 2024 10:12:44 UTC
Acquire-By-Hash: yes
No-Support-for-Architecture-all: Packages
Architectures: all amd64 arm64
Components: main contrib non-free-firmware non-free
Description: Debian 12 - Updates
Changelogs: https://changelogs.example.invalid/changelogs/@CHANGEPATH@_changelog
MD5Sum:
 d41d8cd98f00b204e9800998ecf8427e        0 contrib/Contents-all
 7FC56270E7A70FA81A5935B72EACBE29       20 contrib/Contents-all.gz
SHA256:
 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855        0 contrib/Contents-all
 f61f27bd17de546264aa58f40f3aafaac7021e0ef69c17f6b1b4cd7664a037ec       20 contrib/Contents-all.gz
 2bf8b69fe8e957e2a3aa8f8aaf8525803e35de2c7cd77f4addef838e95c18903 12345678 main/binary-amd64/Packages.xz
SHA512:
 00 1 whatever
";

    #[test]
    fn parses_debian_release() {
        let r = Release::parse(DEBIAN).unwrap();
        assert_eq!(r.origin.as_deref(), Some("Debian"));
        assert_eq!(r.suite.as_deref(), Some("oldstable-updates"));
        assert_eq!(r.codename.as_deref(), Some("bookworm-updates"));
        assert_eq!(r.version.as_deref(), Some("12-updates"));
        assert_eq!(
            r.date,
            Some(Utc.with_ymd_and_hms(2024, 11, 9, 10, 12, 44).unwrap())
        );
        assert!(r.valid_until.is_some());
        assert!(r.acquire_by_hash && r.no_support_for_architecture_all);
        assert_eq!(r.architectures, ["all", "amd64", "arm64"]);
        assert_eq!(r.components.len(), 4);
        assert_eq!(r.extra.len(), 1);
        assert_eq!(r.extra[0].0, "Changelogs");
        assert_eq!(r.files.len(), 3);
        let gz = r.file("contrib/Contents-all.gz").unwrap();
        assert_eq!(gz.size, 20);
        assert_eq!(gz.md5.as_deref(), Some("7fc56270e7a70fa81a5935b72eacbe29"));
        assert!(gz.sha256.is_some());
        let xz = r.file("main/binary-amd64/Packages.xz").unwrap();
        assert_eq!((xz.size, xz.md5.is_none()), (12345678, true));
        assert!(r.file("whatever").is_none());
    }

    #[test]
    fn render_round_trips() {
        let r = Release::parse(DEBIAN).unwrap();
        let text = r.render();
        assert_eq!(Release::parse(&text).unwrap(), r);
        assert!(text.starts_with("Origin: Debian\nLabel: Debian\nSuite: oldstable-updates\nVersion: 12-updates\nCodename: bookworm-updates\nDate: Sat, 09 Nov 2024 10:12:44 UTC\nValid-Until: Sat, 16 Nov 2024 10:12:44 UTC\nAcquire-By-Hash: yes\nNo-Support-for-Architecture-all: Packages\nArchitectures: all amd64 arm64\n"), "{text}");
        assert!(text.contains(
            "MD5Sum:\n d41d8cd98f00b204e9800998ecf8427e  0 contrib/Contents-all\n 7fc56270e7a70fa81a5935b72eacbe29 20 contrib/Contents-all.gz\nSHA256:\n"
        ), "{text}");
        assert!(text.contains(
            " f61f27bd17de546264aa58f40f3aafaac7021e0ef69c17f6b1b4cd7664a037ec       20 contrib/Contents-all.gz\n"
        ), "{text}");
        assert!(text.ends_with(" 12345678 main/binary-amd64/Packages.xz\n"));

        let mut hand = Release {
            suite: Some("stable".into()),
            date: Some(Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap()),
            signed_by: Some("\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc".into()),
            ..Release::default()
        };
        hand.files.insert(
            "main/i18n/Index".into(),
            ReleaseFile {
                size: 7,
                sha256: Some(Sha256::of(b"x")),
                md5: None,
            },
        );
        let text = hand.render();
        assert!(
            text.contains("Date: Thu, 02 Jan 2025 03:04:05 UTC\n"),
            "{text}"
        );
        assert!(text.contains("Signed-By:\n -----BEGIN"), "{text}");
        assert!(!text.contains("MD5Sum"));
        assert_eq!(Release::parse(&text).unwrap(), hand);
        assert_eq!(Release::default().render(), "");
    }

    #[test]
    fn date_variants() {
        let want = Utc.with_ymd_and_hms(2024, 11, 9, 10, 12, 44).unwrap();
        for d in [
            "Sat, 09 Nov 2024 10:12:44 UTC",
            "Sat, 9 Nov 2024 10:12:44 UTC",
            "Sat, 09 Nov 2024 10:12:44 +0000",
            "Sat, 09 Nov 2024 11:12:44 +0100",
            "Sat, 09 Nov 2024 10:12:44 GMT",
            "09 Nov 2024 10:12:44 UTC",
        ] {
            assert_eq!(parse_date("Date", d).unwrap(), want, "{d}");
        }
        for d in [
            "",
            "yesterday",
            "Sat, 32 Nov 2024 10:12:44 UTC",
            "2024-11-09T10:12:44Z",
            // Found by fuzzing: parsed, but rendered as `+22026`.
            "Sun, 22 Nov 22026 02:09:05 UTC",
        ] {
            assert!(parse_date("Date", d).is_err(), "{d}");
        }
        let e = Release::parse("Date: soon\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "field `Date`: `soon` is not a date like `Sat, 09 Nov 2024 10:12:44 UTC`"
        );
    }

    #[test]
    fn rejects_bad_lists() {
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let sha2 = "f61f27bd17de546264aa58f40f3aafaac7021e0ef69c17f6b1b4cd7664a037ec";
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let cases = [
            (
                format!("SHA256:\n {sha} 1 a\n {sha} 2 a\n"),
                "two sizes, 1 and 2",
            ),
            (
                format!("MD5Sum:\n {md5} 1 a\nSHA256:\n {sha} 2 a\n"),
                "two sizes",
            ),
            (
                format!("SHA256:\n {sha} 1 a\n {sha2} 1 a\n"),
                "two different SHA256",
            ),
            (format!("SHA256:\n {sha} 1 ../a\n"), "`.` or `..` segment"),
            (format!("SHA256:\n {sha} 1 /a\n"), "is absolute"),
            (format!("SHA256:\n {sha} x a\n"), "size `x`"),
            (format!("SHA256:\n {sha} -1 a\n"), "size `-1`"),
            (format!("SHA256:\n {sha} 1\n"), "not `hash size path`"),
            (format!("SHA256:\n {sha} 1 a b\n"), "not `hash size path`"),
            ("SHA256:\n abc 1 a\n".to_owned(), "`abc` for `a` is not 64"),
            (format!("MD5Sum:\n {sha} 1 a\n"), "not 32 hexadecimal"),
            ("Acquire-By-Hash: maybe\n".to_owned(), "`yes` or `no`"),
            (
                "No-Support-for-Architecture-all: Sources\n".to_owned(),
                "`Packages`",
            ),
            ("Valid-Until: x\n".to_owned(), "field `Valid-Until`"),
            ("".to_owned(), "no fields"),
            ("A: 1\nA: 2\n".to_owned(), "repeated"),
        ];
        for (text, want) in cases {
            let e = Release::parse(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        // The same entry twice is fine.
        let ok = format!("SHA256:\n {sha} 1 a\n {sha} 1 a\n");
        assert_eq!(Release::parse(&ok).unwrap().files.len(), 1);
    }

    /// Strips the OpenPGP cleartext-signature armor (test helper only).
    fn dearmor(text: &str) -> String {
        let body = text.split_once("\n\n").map_or(text, |(_, b)| b);
        let body = body
            .split("-----BEGIN PGP SIGNATURE-----")
            .next()
            .unwrap_or(body);
        body.lines()
            .map(|l| l.strip_prefix("- ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Parses the InRelease files apt downloaded on this machine, if any.
    #[test]
    fn parses_local_inrelease_if_present() {
        let Ok(dir) = std::fs::read_dir("/var/lib/apt/lists") else {
            return;
        };
        for entry in dir.flatten() {
            let path = entry.path();
            if !path.to_string_lossy().ends_with("_InRelease") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let r = Release::parse(&dearmor(&text)).unwrap();
            assert!(!r.files.is_empty(), "{}", path.display());
            assert!(r.date.is_some());
            assert_eq!(Release::parse(&r.render()).unwrap(), r);
        }
    }
}
