//! Entries of a `Sources` index: source packages.
//!
//! A mirror needs, for each source package, who it is (name, version),
//! where its files live (`Directory`, a safe path), which files it has and
//! how to verify each (`Checksums-Sha256`: SHA256 and size; the `Files`
//! MD5 list is not trusted), and which binaries it builds (`Binary`).
//! [`SourcePackage`] checks those fields once and keeps the whole
//! [`Stanza`] so the index can be re-written with only `Directory` changed.

use crate::debian::deb822::Stanza;
use crate::debian::packages::is_valid_package_name;
use crate::debian::safe_path::{SafePath, UnsafePathError};
use crate::debian::version::{Version, VersionError};
use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE};

/// The architecture a source package carries where binaries carry theirs
/// (a `packages` row, a filter candidate).
pub const SOURCE_ARCH: &str = "source";

/// Why a stanza is not a usable source package entry. Each names the
/// source package when the stanza has a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// A mandatory field is absent.
    #[error("source package `{package}`: field `{field}` is missing")]
    Missing {
        /// The missing field.
        field: &'static str,
        /// The source name (`?` when `Package` itself is missing).
        package: String,
    },
    /// A source name that breaks Debian Policy 5.6.1.
    #[error("source package `{0}`: not a valid package name")]
    BadName(String),
    /// A malformed `Version`.
    #[error("source package `{package}`: field `Version`: {source}")]
    BadVersion {
        /// The source name.
        package: String,
        /// What is wrong with it.
        source: VersionError,
    },
    /// An unsafe `Directory`.
    #[error("source package `{package}`: field `Directory`: {source}")]
    BadDirectory {
        /// The source name.
        package: String,
        /// Which path rule it breaks.
        source: UnsafePathError,
    },
    /// A malformed line of `Checksums-Sha256`, or a file name that is not
    /// a plain, safe file name (no `/`, no `..`).
    #[error("source package `{package}`: field `Checksums-Sha256`: `{line}` is not {expected}")]
    BadFile {
        /// The source name.
        package: String,
        /// The offending line.
        line: String,
        /// What it should be.
        expected: &'static str,
    },
    /// `Checksums-Sha256` lists no `.dsc`.
    #[error("source package `{0}`: `Checksums-Sha256` lists no `.dsc` file")]
    NoDsc(String),
}

impl ExitCode for SourceError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// One file of a source package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Plain file name (no directory part).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA256.
    pub sha256: Sha256,
}

/// One source package entry of a `Sources` index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePackage {
    /// `Package` (the source name).
    pub name: String,
    /// `Version`.
    pub version: Version,
    /// `Directory`, relative to the archive root; `None`: the root itself
    /// (`.`, a flat repository's).
    pub directory: Option<SafePath>,
    /// Every file, from `Checksums-Sha256`, in listed order.
    pub files: Vec<SourceFile>,
    /// Index in [`files`](Self::files) of the `.dsc`.
    pub dsc: usize,
    /// Binary package names (`Binary`), in listed order.
    pub binaries: Vec<String>,
    /// The whole stanza, fields in their original order.
    pub stanza: Stanza,
}

impl SourcePackage {
    /// Validates the mandatory fields of `stanza` and keeps it.
    ///
    /// Mandatory: `Package`, `Version`, `Checksums-Sha256` with a `.dsc`;
    /// no `Directory` is the archive root.
    pub fn from_stanza(stanza: Stanza) -> Result<SourcePackage, SourceError> {
        let name = stanza.get("Package").ok_or(SourceError::Missing {
            field: "Package",
            package: "?".into(),
        })?;
        if !is_valid_package_name(name) {
            return Err(SourceError::BadName(name.to_owned()));
        }
        let package = || name.to_owned();
        let get = |field: &'static str| {
            stanza.get(field).ok_or_else(|| SourceError::Missing {
                field,
                package: package(),
            })
        };
        let version =
            Version::parse(get("Version")?).map_err(|source| SourceError::BadVersion {
                package: package(),
                source,
            })?;
        // A flat repository's sources sit beside its index: `Directory: .`,
        // or none (what `apt-ftparchive sources .` writes), is the archive
        // root, as apt reads it.
        let mut directory = stanza.get("Directory").unwrap_or(".");
        while let Some(rest) = directory.strip_prefix("./") {
            directory = rest;
        }
        let directory = match directory {
            "." => None,
            dir => Some(
                SafePath::new(dir).map_err(|source| SourceError::BadDirectory {
                    package: package(),
                    source,
                })?,
            ),
        };
        let files = parse_files(name, get("Checksums-Sha256")?)?;
        let dsc = files
            .iter()
            .position(|f| f.name.ends_with(".dsc"))
            .ok_or_else(|| SourceError::NoDsc(package()))?;
        let binaries = stanza
            .get("Binary")
            .map(|b| {
                b.split(',')
                    .map(str::trim_ascii)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(SourcePackage {
            name: name.to_owned(),
            version,
            directory,
            files,
            dsc,
            binaries,
            stanza,
        })
    }

    /// The `.dsc` file.
    pub fn dsc_file(&self) -> &SourceFile {
        &self.files[self.dsc]
    }

    /// `Directory/<file>`: a file's path relative to the archive root.
    pub fn file_path(&self, file: &SourceFile) -> String {
        match &self.directory {
            Some(dir) => format!("{}/{}", dir.as_str(), file.name),
            None => file.name.clone(),
        }
    }
}

/// Parses a `Checksums-Sha256` value: lines of `sha256 size name`.
pub fn parse_files(package: &str, value: &str) -> Result<Vec<SourceFile>, SourceError> {
    let mut files = Vec::new();
    for line in value.lines().map(str::trim_ascii).filter(|l| !l.is_empty()) {
        let bad = |expected| SourceError::BadFile {
            package: package.to_owned(),
            line: line.to_owned(),
            expected,
        };
        let mut parts = line.split_ascii_whitespace();
        let (Some(sha), Some(size), Some(name), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("`sha256 size name`"));
        };
        let sha256 = sha
            .parse::<Sha256>()
            .map_err(|_| bad("a SHA256 digest, a size and a file name"))?;
        let size = if size.bytes().all(|c| c.is_ascii_digit()) {
            size.parse::<u64>().ok()
        } else {
            None
        }
        .ok_or_else(|| bad("a SHA256 digest, a size in bytes and a file name"))?;
        if !is_plain_file_name(name) {
            return Err(bad("a plain file name (no `/`, no `..`)"));
        }
        files.push(SourceFile {
            name: name.to_owned(),
            size,
            sha256,
        });
    }
    Ok(files)
}

/// A file name that stays in its directory: one safe path segment, not
/// hidden, no `..`.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.contains('/')
        && !name.starts_with('.')
        && !name.contains("..")
        && SafePath::new(name).is_ok()
}

/// The files (`Directory/<file>`, size) every stanza of a `Sources` index
/// lists in `Checksums-Sha256`; stanzas that do not parse list none.
pub fn listed_files(index: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for stanza in crate::debian::deb822::StanzaReader::new(index.as_bytes()) {
        let Ok(stanza) = stanza else { break };
        if let Ok(p) = SourcePackage::from_stanza(stanza) {
            out.extend(p.files.iter().map(|f| (p.file_path(f), f.size)));
        }
    }
    out
}

/// A binary's `Source` field value split into the source's name and, when
/// given in parentheses, its version: `libfoo (1.2-1)` → (`libfoo`,
/// `Some("1.2-1")`); a bare name means the binary's own version.
pub fn split_source_field(value: &str) -> (&str, Option<&str>) {
    match value.split_once('(') {
        None => (value.trim_ascii(), None),
        Some((name, rest)) => (
            name.trim_ascii(),
            Some(rest.trim_ascii_end().trim_end_matches(')').trim_ascii()),
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::debian::deb822::parse_str;

    fn stanza(extra: &str, files: &str) -> Stanza {
        let text = format!(
            "Package: foo\nBinary: foo, foo-doc\nVersion: 1.0-1\nDirectory: pool/main/f/foo\n{extra}Checksums-Sha256:\n{files}\n"
        );
        parse_str(&text).unwrap().pop().unwrap()
    }

    fn line(name: &str, size: u64) -> String {
        format!(" {} {size} {name}\n", Sha256::of(name.as_bytes()))
    }

    #[test]
    fn a_flat_repositorys_directory_is_the_root() {
        let files = line("foo_1.0-1.dsc", 10);
        for (dir, want) in [
            ("Directory: .\n", "foo_1.0-1.dsc"),
            ("", "foo_1.0-1.dsc"),
            ("Directory: ./sub\n", "sub/foo_1.0-1.dsc"),
        ] {
            let text = format!("Package: foo\nVersion: 1.0-1\n{dir}Checksums-Sha256:\n{files}\n");
            let p = SourcePackage::from_stanza(parse_str(&text).unwrap().pop().unwrap()).unwrap();
            assert_eq!(p.file_path(p.dsc_file()), want);
        }
    }

    #[test]
    fn parses_files_binaries_and_directory() {
        let files = line("foo_1.0-1.dsc", 10) + &line("foo_1.0.orig.tar.gz", 2000);
        let p = SourcePackage::from_stanza(stanza("Format: 3.0 (quilt)\n", &files)).unwrap();
        assert_eq!(p.name, "foo");
        assert_eq!(p.version.as_str(), "1.0-1");
        assert_eq!(
            p.directory.as_ref().map(SafePath::as_str),
            Some("pool/main/f/foo")
        );
        assert_eq!(p.binaries, ["foo", "foo-doc"]);
        assert_eq!(p.files.len(), 2);
        assert_eq!(p.dsc_file().name, "foo_1.0-1.dsc");
        assert_eq!(p.dsc_file().size, 10);
        assert_eq!(p.files[1].sha256, Sha256::of(b"foo_1.0.orig.tar.gz"));
        assert_eq!(
            p.file_path(&p.files[1]),
            "pool/main/f/foo/foo_1.0.orig.tar.gz"
        );
        assert_eq!(p.stanza.get("Format"), Some("3.0 (quilt)"));
    }

    #[test]
    fn refuses_a_missing_checksums_field_naming_the_package() {
        let text = "Package: foo\nVersion: 1\nDirectory: pool/f\n";
        let s = parse_str(text).unwrap().pop().unwrap();
        let e = SourcePackage::from_stanza(s).unwrap_err();
        assert_eq!(
            e.to_string(),
            "source package `foo`: field `Checksums-Sha256` is missing"
        );
    }

    #[test]
    fn refuses_file_names_that_leave_the_directory() {
        for name in ["../evil.dsc", "a/b.dsc", "..dsc", ".hidden.dsc"] {
            let files = line("foo_1.0-1.dsc", 1) + &line(name, 1);
            let e = SourcePackage::from_stanza(stanza("", &files)).unwrap_err();
            assert!(matches!(e, SourceError::BadFile { .. }), "{name}: {e}");
            assert!(e.to_string().contains("`foo`"), "{e}");
        }
    }

    #[test]
    fn refuses_bad_lines_a_missing_dsc_and_an_unsafe_directory() {
        let e = SourcePackage::from_stanza(stanza("", " abc 1 foo.dsc\n")).unwrap_err();
        assert!(matches!(e, SourceError::BadFile { .. }), "{e}");
        let e = SourcePackage::from_stanza(stanza("", &line("foo.tar.gz", 1))).unwrap_err();
        assert_eq!(e, SourceError::NoDsc("foo".into()));
        let text = format!(
            "Package: foo\nVersion: 1\nDirectory: ../x\nChecksums-Sha256:\n{}",
            line("foo.dsc", 1)
        );
        let s = parse_str(&text).unwrap().pop().unwrap();
        let e = SourcePackage::from_stanza(s).unwrap_err();
        assert!(matches!(e, SourceError::BadDirectory { .. }), "{e}");
    }
}
