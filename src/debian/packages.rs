//! Entries of a binary `Packages` index.
//!
//! A mirror needs, for each `.deb`, who it is (name, version,
//! architecture), where it lives (`Filename`, validated so it cannot escape
//! the mirror root), how to verify it (`Size`, `SHA256`) and which source
//! package it came from. [`BinaryPackage`] checks those fields once and keeps
//! the whole [`Stanza`] so the index can be re-written unchanged.

use crate::debian::deb822::Stanza;
use crate::debian::relation::{Dependency, RelationError, parse_relations};
use crate::debian::safe_path::{SafePath, UnsafePathError};
use crate::debian::version::{Version, VersionError};
use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE};

/// `line N: ` when the line is known.
fn at(line: &Option<usize>) -> String {
    line.map(|l| format!("line {l}: ")).unwrap_or_default()
}

/// ` of package `name`` when the name is known.
fn of(package: &Option<String>) -> String {
    package
        .as_ref()
        .map(|p| format!(" of package `{p}`"))
        .unwrap_or_default()
}

/// Why a stanza is not a usable binary package entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    /// A mandatory field is absent.
    #[error("{}field `{field}` is missing in stanza{}", at(.line), of(.package))]
    Missing {
        /// The missing field.
        field: &'static str,
        /// The package name, if the stanza has one.
        package: Option<String>,
        /// Where the stanza starts, if it was parsed from text.
        line: Option<usize>,
    },
    /// A package or source name that breaks Debian Policy 5.6.1.
    #[error(
        "{}field `{field}`{}: `{name}` is not a valid package name (lowercase letters, digits, `+`, `-`, `.`; at least 2 characters, starting with a letter or digit)",
        at(.line), of(.package)
    )]
    BadName {
        /// `Package` or `Source`.
        field: &'static str,
        /// The offending name.
        name: String,
        /// The package name, if valid so far.
        package: Option<String>,
        /// Where the stanza starts.
        line: Option<usize>,
    },
    /// A malformed `Version` or `Source` version.
    #[error("{}field `{field}`{}: {source}", at(.line), of(.package))]
    BadVersion {
        /// `Version` or `Source`.
        field: &'static str,
        /// The package name.
        package: Option<String>,
        /// Where the stanza starts.
        line: Option<usize>,
        /// What is wrong with the version.
        source: VersionError,
    },
    /// An unsafe `Filename`.
    #[error("{}field `Filename`{}: {source}", at(.line), of(.package))]
    BadFilename {
        /// The package name.
        package: Option<String>,
        /// Where the stanza starts.
        line: Option<usize>,
        /// Which path rule it breaks.
        source: UnsafePathError,
    },
    /// Any other malformed field value (`Size`, `SHA256`, `Architecture`,
    /// `Source`).
    #[error("{}field `{field}`{}: `{value}` is not {expected}", at(.line), of(.package))]
    BadValue {
        /// The field.
        field: &'static str,
        /// The value as written.
        value: String,
        /// What it should be.
        expected: &'static str,
        /// The package name.
        package: Option<String>,
        /// Where the stanza starts.
        line: Option<usize>,
    },
}

impl ExitCode for PackageError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// One binary package entry of a `Packages` index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryPackage {
    /// `Package`.
    pub name: String,
    /// `Version`.
    pub version: Version,
    /// `Architecture` (`amd64`, `all`, …).
    pub architecture: String,
    /// `Filename`, relative to the archive root.
    pub filename: SafePath,
    /// `Size` in bytes.
    pub size: u64,
    /// `SHA256` of the `.deb`.
    pub sha256: Sha256,
    /// Source package name: the `Source` field without its version, or
    /// `Package` when absent.
    pub source: String,
    /// Source version: from `Source: foo (1.2-3)`, else [`version`](Self::version).
    pub source_version: Version,
    /// The whole stanza, fields in their original order.
    pub stanza: Stanza,
}

/// Whether `name` is a valid package or source name per Debian Policy
/// 5.6.1: `[a-z0-9][a-z0-9+.-]+`.
pub fn is_valid_package_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b[1..].iter().all(|&c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.')
        })
}

impl BinaryPackage {
    /// Validates the mandatory fields of `stanza` and keeps it.
    ///
    /// Mandatory: `Package`, `Version`, `Architecture`, `Filename`, `Size`,
    /// `SHA256`.
    pub fn from_stanza(stanza: Stanza) -> Result<BinaryPackage, PackageError> {
        let line = stanza.line();
        let missing = |field: &'static str, package: Option<&str>| PackageError::Missing {
            field,
            package: package.map(str::to_owned),
            line,
        };
        let name = stanza
            .get("Package")
            .ok_or_else(|| missing("Package", None))?;
        if !is_valid_package_name(name) {
            return Err(PackageError::BadName {
                field: "Package",
                name: name.to_owned(),
                package: None,
                line,
            });
        }
        let pkg = || Some(name.to_owned());
        let bad =
            |field: &'static str, value: &str, expected: &'static str| PackageError::BadValue {
                field,
                value: value.to_owned(),
                expected,
                package: pkg(),
                line,
            };
        let get = |field: &'static str| stanza.get(field).ok_or_else(|| missing(field, Some(name)));

        let version =
            Version::parse(get("Version")?).map_err(|source| PackageError::BadVersion {
                field: "Version",
                package: pkg(),
                line,
                source,
            })?;
        let architecture = get("Architecture")?;
        if architecture.is_empty()
            || !architecture
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-')
        {
            return Err(bad("Architecture", architecture, "an architecture name"));
        }
        // A flat repository's `./pkg.deb` (what `apt-ftparchive packages .`
        // writes) is `pkg.deb`: apt joins it onto the URL the same way.
        let mut filename = get("Filename")?;
        while let Some(rest) = filename.strip_prefix("./") {
            filename = rest;
        }
        let filename = SafePath::new(filename).map_err(|source| PackageError::BadFilename {
            package: pkg(),
            line,
            source,
        })?;
        let size_text = get("Size")?;
        let size = if size_text.bytes().all(|c| c.is_ascii_digit()) {
            size_text.parse::<u64>().ok()
        } else {
            None
        }
        .ok_or_else(|| bad("Size", size_text, "a size in bytes"))?;
        let sha_text = get("SHA256")?;
        let sha256 = sha_text.parse::<Sha256>().map_err(|_| {
            bad(
                "SHA256",
                sha_text,
                "a SHA256 digest (64 hexadecimal digits)",
            )
        })?;

        let (source, source_version) = match stanza.get("Source") {
            None => (name.to_owned(), version.clone()),
            Some(src) => {
                let (sname, sver) = match src.split_once('(') {
                    None => (src.trim_ascii(), None),
                    Some((n, rest)) => {
                        let Some(v) = rest.trim_ascii_end().strip_suffix(')') else {
                            return Err(bad("Source", src, "`name` or `name (version)`"));
                        };
                        (n.trim_ascii(), Some(v.trim_ascii()))
                    }
                };
                if !is_valid_package_name(sname) {
                    return Err(PackageError::BadName {
                        field: "Source",
                        name: sname.to_owned(),
                        package: pkg(),
                        line,
                    });
                }
                let sv = match sver {
                    None => version.clone(),
                    Some(v) => Version::parse(v).map_err(|source| PackageError::BadVersion {
                        field: "Source",
                        package: pkg(),
                        line,
                        source,
                    })?,
                };
                (sname.to_owned(), sv)
            }
        };
        Ok(BinaryPackage {
            name: name.to_owned(),
            version,
            architecture: architecture.to_owned(),
            filename,
            size,
            sha256,
            source,
            source_version,
            stanza,
        })
    }

    /// Any field of the stanza (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.stanza.get(name)
    }

    /// The relation field `name` parsed; an absent field is an empty list.
    pub fn relations(&self, name: &str) -> Result<Vec<Dependency>, RelationError> {
        parse_relations(self.stanza.get(name).unwrap_or(""))
    }

    /// `Depends`.
    pub fn depends(&self) -> Result<Vec<Dependency>, RelationError> {
        self.relations("Depends")
    }

    /// `Pre-Depends`.
    pub fn pre_depends(&self) -> Result<Vec<Dependency>, RelationError> {
        self.relations("Pre-Depends")
    }

    /// `Recommends`.
    pub fn recommends(&self) -> Result<Vec<Dependency>, RelationError> {
        self.relations("Recommends")
    }

    /// `Provides`.
    pub fn provides(&self) -> Result<Vec<Dependency>, RelationError> {
        self.relations("Provides")
    }
}

/// The pool directory of a source package: `pool/<component>/<prefix>/<source>`,
/// where the prefix is `libX` for sources starting with `lib` (longer than
/// 3 characters) and the first character otherwise.
pub fn pool_dir(source: &str, component: &str) -> String {
    let take = if source.starts_with("lib") && source.len() > 3 {
        4
    } else {
        1
    };
    let end = source
        .char_indices()
        .nth(take)
        .map_or(source.len(), |(i, _)| i);
    format!("pool/{component}/{}/{source}", &source[..end])
}

/// Whether a pool file is a Debian installer package (a udeb): d-i's
/// packages are the archive's only files ending in `.udeb`, listed apart in
/// `<component>/debian-installer/binary-<arch>/Packages`.
pub fn is_udeb(filename: &str) -> bool {
    filename.ends_with(".udeb")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::debian::deb822::parse_str;

    const CURL: &str = "\
Package: curl
Source: curl (7.88.1-10)
Version: 7.88.1-10+b1
Architecture: amd64
Depends: libc6 (>= 2.34), libcurl4 (= 7.88.1-10+b1), zlib1g (>= 1:1.1.4)
Pre-Depends: dpkg (>= 1.15)
Filename: pool/main/c/curl/curl_7.88.1-10+b1_amd64.deb
Size: 315708
SHA256: 8ff8a5c4c1f5a6c3b0e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6
";

    fn stanza(txt: &str) -> Stanza {
        parse_str(txt).unwrap().remove(0)
    }

    #[test]
    fn parses_mandatory_fields() {
        let p = BinaryPackage::from_stanza(stanza(CURL)).unwrap();
        assert_eq!(p.name, "curl");
        assert_eq!(p.version.as_str(), "7.88.1-10+b1");
        assert_eq!(p.architecture, "amd64");
        assert_eq!(
            p.filename.as_str(),
            "pool/main/c/curl/curl_7.88.1-10+b1_amd64.deb"
        );
        assert_eq!(p.size, 315708);
        assert_eq!(
            p.sha256.to_string(),
            "8ff8a5c4c1f5a6c3b0e0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6"
        );
        assert_eq!(p.source, "curl");
        assert_eq!(p.source_version.as_str(), "7.88.1-10");
        assert_eq!(p.depends().unwrap().len(), 3);
        assert_eq!(p.pre_depends().unwrap()[0].to_string(), "dpkg (>= 1.15)");
        assert!(p.recommends().unwrap().is_empty());
        assert!(p.provides().unwrap().is_empty());
        assert_eq!(p.field("size"), Some("315708"));
        assert_eq!(p.stanza.to_text(), CURL);
    }

    #[test]
    fn flat_repository_filenames_lose_their_dot_prefix() {
        let flat = CURL.replace("Filename: pool/main/c/curl/", "Filename: ./");
        let p = BinaryPackage::from_stanza(stanza(&flat)).unwrap();
        assert_eq!(p.filename.as_str(), "curl_7.88.1-10+b1_amd64.deb");
        let dir = CURL.replace("Filename: pool/main/c/curl/", "Filename: ././dir/");
        let p = BinaryPackage::from_stanza(stanza(&dir)).unwrap();
        assert_eq!(p.filename.as_str(), "dir/curl_7.88.1-10+b1_amd64.deb");
        let up = CURL.replace("Filename: pool/main/c/curl/", "Filename: ./../");
        assert!(BinaryPackage::from_stanza(stanza(&up)).is_err());
    }

    #[test]
    fn source_defaults() {
        let p = BinaryPackage::from_stanza(stanza(&CURL.replace("Source: curl (7.88.1-10)\n", "")))
            .unwrap();
        assert_eq!(
            (p.source.as_str(), p.source_version.as_str()),
            ("curl", "7.88.1-10+b1")
        );
        let p = BinaryPackage::from_stanza(stanza(&CURL.replace(" (7.88.1-10)", ""))).unwrap();
        assert_eq!(
            (p.source.as_str(), p.source_version.as_str()),
            ("curl", "7.88.1-10+b1")
        );
    }

    #[test]
    fn errors_name_field_and_package() {
        let s = parse_str(&format!(
            "A: b\n\n{}",
            CURL.replace("Version: 7.88.1-10+b1\n", "")
        ))
        .unwrap()
        .remove(1);
        assert_eq!(
            BinaryPackage::from_stanza(s).unwrap_err().to_string(),
            "line 3: field `Version` is missing in stanza of package `curl`"
        );
        assert_eq!(
            BinaryPackage::from_stanza(stanza("A: b\n"))
                .unwrap_err()
                .to_string(),
            "line 1: field `Package` is missing in stanza"
        );
        let mut hand = Stanza::new();
        hand.push("Package", "x1");
        assert_eq!(
            BinaryPackage::from_stanza(hand).unwrap_err().to_string(),
            "field `Version` is missing in stanza of package `x1`"
        );

        let cases = [
            ("Package: curl", "Package: Curl", "not a valid package name"),
            ("Package: curl", "Package: c", "not a valid package name"),
            ("Source: curl (7.88.1-10)", "Source: Curl", "field `Source`"),
            (
                "Source: curl (7.88.1-10)",
                "Source: curl (7.88",
                "`name` or `name (version)`",
            ),
            (
                "Source: curl (7.88.1-10)",
                "Source: curl (7 88)",
                "contains whitespace",
            ),
            (
                "Version: 7.88.1-10+b1",
                "Version: 1.0-",
                "revision of version",
            ),
            ("Filename: pool", "Filename: ../pool", "`.` or `..` segment"),
            (
                "Size: 315708",
                "Size: -1",
                "field `Size` of package `curl`: `-1` is not a size",
            ),
            ("Size: 315708", "Size: +1", "not a size"),
            ("SHA256: 8ff8", "SHA256: zz", "not a SHA256"),
            (
                "Architecture: amd64",
                "Architecture: amd64 i386",
                "not an architecture",
            ),
        ];
        for (from, to, want) in cases {
            let txt = CURL.replace(from, to);
            assert_ne!(txt, CURL);
            let e = BinaryPackage::from_stanza(stanza(&txt))
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{to}: {e}");
        }
    }

    #[test]
    fn names() {
        for ok in ["ab", "libc6", "g++", "0ad", "lib32z1-dev", "a.b+c-d"] {
            assert!(is_valid_package_name(ok), "{ok}");
        }
        for bad in ["", "a", "Ab", "-ab", "a_b", "ab ", ".ab", "aé"] {
            assert!(!is_valid_package_name(bad), "{bad}");
        }
    }

    /// Every stanza of a real, uncompressed Packages file named by
    /// `DEBVAULT_PACKAGES` must validate, with all its relation fields.
    #[test]
    #[ignore]
    fn accepts_real_packages() {
        let Ok(path) = std::env::var("DEBVAULT_PACKAGES") else {
            return;
        };
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        let t = std::time::Instant::now();
        let (mut n, mut rels) = (0, 0);
        for s in crate::debian::deb822::StanzaReader::new(file) {
            let p = BinaryPackage::from_stanza(s.unwrap()).unwrap();
            for f in [
                "Depends",
                "Pre-Depends",
                "Recommends",
                "Suggests",
                "Enhances",
                "Breaks",
                "Conflicts",
                "Replaces",
                "Provides",
                "Built-Using",
                "Static-Built-Using",
            ] {
                rels += p.relations(f).unwrap().len();
            }
            // `pool/main/c/curl/…`, or `pool/updates/main/c/curl/…` on security.
            let dir = pool_dir(&p.source, "main");
            let tail = format!("{}/", dir.trim_start_matches("pool/main"));
            assert!(p.filename.as_str().contains(&tail), "{}", p.filename);
            n += 1;
        }
        println!(
            "{n} packages, {rels} relation items in {:.2} s",
            t.elapsed().as_secs_f64()
        );
    }

    #[test]
    fn pool_dirs() {
        assert_eq!(pool_dir("curl", "main"), "pool/main/c/curl");
        assert_eq!(pool_dir("libxml2", "main"), "pool/main/libx/libxml2");
        assert_eq!(pool_dir("lib", "main"), "pool/main/l/lib");
        assert_eq!(pool_dir("libc", "contrib"), "pool/contrib/libc/libc");
        assert_eq!(pool_dir("0ad", "non-free"), "pool/non-free/0/0ad");
    }
}
