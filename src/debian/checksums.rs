//! `SHA256SUMS` files, as the Debian installer's image directories carry
//! them (`<component>/installer-<arch>/current/images/SHA256SUMS`).
//!
//! Each line is `<64 hex digits>  ./<path>` (`sha256sum`'s output; a `*`
//! instead of the second space marks binary mode). The file is the middle
//! link of the installer's chain of trust: the signed Release lists it (or,
//! on Ubuntu, a detached `SHA256SUMS.gpg` signs it), and it names the hash
//! of every image file. [`parse_sha256sums`] reads it into safe relative
//! paths; [`render_sha256sums`] writes one that `sha256sum -c` accepts.

use std::collections::BTreeSet;

use super::safe_path::{SafePath, UnsafePathError};
use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE};

/// One file a `SHA256SUMS` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksumEntry {
    /// Relative to the directory holding the `SHA256SUMS`, without `./`.
    pub path: SafePath,
    /// Its SHA256.
    pub sha256: Sha256,
}

/// Why a `SHA256SUMS` file is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ChecksumsError {
    /// A line is not `<hex>  <path>`.
    #[error("line {line}: not `<SHA256>  <path>`")]
    Syntax {
        /// 1-based line number.
        line: usize,
    },
    /// A path would leave the directory or is otherwise unsafe.
    #[error("line {line}: unsafe path")]
    Path {
        /// 1-based line number.
        line: usize,
        /// Which rule it breaks.
        #[source]
        source: UnsafePathError,
    },
    /// The same path is listed twice.
    #[error("line {line}: `{path}` is listed twice")]
    Duplicate {
        /// 1-based line number of the second listing.
        line: usize,
        /// The path.
        path: String,
    },
}

impl ExitCode for ChecksumsError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// The entries of a `SHA256SUMS` text, in file order. Blank lines are
/// skipped; anything else malformed is an error naming its line.
pub fn parse_sha256sums(text: &str) -> Result<Vec<ChecksumEntry>, ChecksumsError> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let (hex, rest) = raw
            .split_at_checked(64)
            .ok_or(ChecksumsError::Syntax { line })?;
        let sha256: Sha256 = hex.parse().map_err(|_| ChecksumsError::Syntax { line })?;
        let name = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .ok_or(ChecksumsError::Syntax { line })?;
        let name = name.strip_prefix("./").unwrap_or(name);
        let path = SafePath::new(name).map_err(|source| ChecksumsError::Path { line, source })?;
        if !seen.insert(path.as_str().to_owned()) {
            return Err(ChecksumsError::Duplicate {
                line,
                path: path.into_string(),
            });
        }
        out.push(ChecksumEntry { path, sha256 });
    }
    Ok(out)
}

/// A `SHA256SUMS` listing `entries` sorted by path, each as
/// `<hex>  ./<path>`, as Debian writes it.
pub fn render_sha256sums(entries: &[ChecksumEntry]) -> String {
    let mut sorted: Vec<&ChecksumEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    sorted
        .iter()
        .map(|e| format!("{}  ./{}\n", e.sha256, e.path.as_str()))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        Sha256::of(b).to_string()
    }

    #[test]
    fn reads_debians_form_and_writes_it_back_sorted() {
        let text = format!(
            "{}  ./netboot/netboot.tar.gz\n{} *./cdrom/vmlinuz\n\n{}  mini.iso\n",
            hex(b"n"),
            hex(b"v"),
            hex(b"m")
        );
        let got = parse_sha256sums(&text).unwrap();
        let paths: Vec<&str> = got.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["netboot/netboot.tar.gz", "cdrom/vmlinuz", "mini.iso"]
        );
        assert_eq!(got[0].sha256, Sha256::of(b"n"));
        assert_eq!(
            render_sha256sums(&got),
            format!(
                "{}  ./cdrom/vmlinuz\n{}  ./mini.iso\n{}  ./netboot/netboot.tar.gz\n",
                hex(b"v"),
                hex(b"m"),
                hex(b"n")
            )
        );
    }

    #[test]
    fn refuses_unsafe_paths_duplicates_and_garbage() {
        let h = hex(b"x");
        let err = |t: String| parse_sha256sums(&t).unwrap_err().to_string();
        assert_eq!(
            err(format!("{h}  ./../etc/passwd\n")),
            "line 1: unsafe path"
        );
        assert_eq!(err(format!("{h}  /etc/passwd\n")), "line 1: unsafe path");
        assert_eq!(
            err(format!("{h}  ./a\n{h}  a\n")),
            "line 2: `a` is listed twice"
        );
        assert_eq!(err(format!("{h} a\n")), "line 1: not `<SHA256>  <path>`");
        assert_eq!(err("zz  a\n".into()), "line 1: not `<SHA256>  <path>`");
        assert_eq!(err("é".repeat(40)), "line 1: not `<SHA256>  <path>`");
    }
}
