//! `.changes` files: an upload's description (what `dpkg-genchanges`
//! writes and `dput` sends).
//!
//! One deb822 stanza (the caller removes an inline signature first). Its
//! `Files` field lists `MD5 SIZE SECTION PRIORITY NAME`, `Checksums-Sha256`
//! `SHA256 SIZE NAME` and `Checksums-Sha1` `SHA1 SIZE NAME`. A file name is
//! a plain name beside the `.changes`, never a path: anything with a `/`,
//! a leading `.`, a control character or whitespace is refused, so joining
//! it onto the upload directory cannot leave it. Every file must be listed
//! in both `Files` and `Checksums-Sha256`, with one size.

use std::collections::BTreeMap;

use super::{Stanza, parse_str};
use crate::digest::Sha256;
use crate::exit::{ExitCode, VERIFICATION};

/// Longest file name accepted.
const MAX_NAME: usize = 255;

/// What is wrong with a `.changes`, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {problem}")]
pub struct ChangesError {
    /// The field (or `-` for the file as a whole).
    pub field: &'static str,
    /// What is wrong.
    pub problem: String,
}

impl ExitCode for ChangesError {
    fn exit_code(&self) -> u8 {
        VERIFICATION
    }
}

/// A file an upload lists, with the checksums it is listed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesFile {
    /// Plain file name, beside the `.changes`.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// From `Checksums-Sha256`.
    pub sha256: Sha256,
    /// From `Checksums-Sha1`, lowercase hex, when listed.
    pub sha1: Option<String>,
    /// From `Files`, lowercase hex.
    pub md5: String,
}

/// A parsed `.changes`.
#[derive(Debug, Clone)]
pub struct Changes {
    /// Every field, as written.
    pub fields: Stanza,
    /// The files it lists, in `Files` order.
    pub files: Vec<ChangesFile>,
}

fn err(field: &'static str, problem: impl Into<String>) -> ChangesError {
    ChangesError {
        field,
        problem: problem.into(),
    }
}

/// Whether `name` is a plain file name that stays in its directory.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control() || c.is_whitespace())
}

/// `(checksum, size, name)` rows of a checksum field; `cols` is the number
/// of columns, the checksum first, the size second and the name last.
fn rows(
    field: &'static str,
    value: &str,
    cols: usize,
    hex_len: usize,
) -> Result<Vec<(String, u64, String)>, ChangesError> {
    let mut out = Vec::new();
    for line in value.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() != cols {
            return Err(err(
                field,
                format!("line `{line}` does not have {cols} columns"),
            ));
        }
        let sum = parts[0].to_ascii_lowercase();
        if sum.len() != hex_len || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err(field, format!("`{}` is not a checksum", parts[0])));
        }
        let size = parts[1]
            .parse::<u64>()
            .map_err(|_| err(field, format!("`{}` is not a size", parts[1])))?;
        let name = parts[cols - 1];
        if !is_plain_name(name) {
            return Err(err(
                field,
                format!("`{name}` is not a plain file name beside the .changes"),
            ));
        }
        if out.iter().any(|(_, _, n)| n == name) {
            return Err(err(field, format!("`{name}` is listed twice")));
        }
        out.push((sum, size, name.to_owned()));
    }
    Ok(out)
}

/// Parses the text of a `.changes` (without its signature).
pub fn parse(text: &str) -> Result<Changes, ChangesError> {
    let mut stanzas = parse_str(text).map_err(|e| err("-", e.to_string()))?;
    if stanzas.len() != 1 {
        return Err(err(
            "-",
            format!("{} stanzas, expected exactly one", stanzas.len()),
        ));
    }
    let fields = stanzas.remove(0);
    let get = |f: &'static str| fields.get(f).ok_or_else(|| err(f, "missing"));
    let files = rows("Files", get("Files")?, 5, 32)?;
    let sha256 = rows("Checksums-Sha256", get("Checksums-Sha256")?, 3, 64)?;
    let sha1 = match fields.get("Checksums-Sha1") {
        Some(v) => rows("Checksums-Sha1", v, 3, 40)?,
        None => Vec::new(),
    };
    if files.is_empty() {
        return Err(err("Files", "lists no file"));
    }
    let by_name = |list: &[(String, u64, String)]| -> BTreeMap<String, (String, u64)> {
        list.iter()
            .map(|(s, z, n)| (n.clone(), (s.clone(), *z)))
            .collect()
    };
    let sha256 = by_name(&sha256);
    let sha1 = by_name(&sha1);
    for name in sha256.keys().chain(sha1.keys()) {
        if !files.iter().any(|(_, _, n)| n == name) {
            return Err(err("Files", format!("`{name}` is not listed")));
        }
    }
    let mut out = Vec::with_capacity(files.len());
    for (md5, size, name) in files {
        let (sum, sha_size) = sha256
            .get(&name)
            .ok_or_else(|| err("Checksums-Sha256", format!("`{name}` is not listed")))?;
        let sha1 = match sha1.get(&name) {
            Some((s, z)) if *z == size => Some(s.clone()),
            Some(_) => {
                return Err(err(
                    "Checksums-Sha1",
                    format!("`{name}` has another size than in `Files`"),
                ));
            }
            None if !sha1.is_empty() => {
                return Err(err("Checksums-Sha1", format!("`{name}` is not listed")));
            }
            None => None,
        };
        if *sha_size != size {
            return Err(err(
                "Checksums-Sha256",
                format!("`{name}` has another size than in `Files`"),
            ));
        }
        let sha256 = sum
            .parse::<Sha256>()
            .map_err(|_| err("Checksums-Sha256", format!("`{sum}` is not a SHA256")))?;
        out.push(ChangesFile {
            name,
            size,
            sha256,
            sha1,
            md5,
        });
    }
    Ok(Changes { fields, files: out })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SHA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const MD5: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn changes(name: &str, size: u64) -> String {
        format!(
            "Format: 1.8\nSource: hello\nVersion: 1.0\nDistribution: unstable\n\
             Checksums-Sha256:\n {SHA} {size} {name}\nFiles:\n {MD5} {size} misc optional {name}\n"
        )
    }

    #[test]
    fn files_are_listed_with_their_checksums() {
        let c = parse(&changes("hello_1.0_amd64.deb", 3)).unwrap();
        assert_eq!(c.files.len(), 1);
        assert_eq!(c.files[0].name, "hello_1.0_amd64.deb");
        assert_eq!(c.files[0].size, 3);
        assert_eq!(c.files[0].md5, MD5);
        assert_eq!(c.fields.get("Distribution"), Some("unstable"));
    }

    #[test]
    fn paths_and_disagreements_are_refused_naming_the_field() {
        for name in ["../x.deb", "a/b.deb", ".hidden.deb", "..", "x\\y.deb"] {
            let e = parse(&changes(name, 3)).unwrap_err();
            assert_eq!(e.field, "Files", "{name}: {e}");
        }
        let other_size = changes("a.deb", 3).replace(" 3 misc", " 4 misc");
        let e = parse(&other_size).unwrap_err();
        assert_eq!(e.field, "Checksums-Sha256", "{e}");
        let no_sha = changes("a.deb", 3).replace("Checksums-Sha256:", "X-Other:");
        assert_eq!(parse(&no_sha).unwrap_err().field, "Checksums-Sha256");
        let extra = format!(
            "{}Checksums-Sha1:\n {} 3 b.deb\n",
            changes("a.deb", 3),
            "c".repeat(40)
        );
        assert_eq!(parse(&extra).unwrap_err().field, "Files");
    }
}
