//! The machine's apt sources: one-line `sources.list` and deb822 `.sources`.
//!
//! `mirror import-apt-sources` turns each (URI, suite) found here into a mirror,
//! so the operator never types an archive URL by hand. `deb` entries make the
//! mirrors; a `deb-src` entry for the URI and suite of a `deb` entry in the
//! same file turns on source mirroring for it (`with_sources`); a `deb-src`
//! entry alone is skipped. `Enabled: no` entries are skipped.

use std::path::{Path, PathBuf};

use super::deb822::StanzaReader;
use crate::exit::{ExitCode, USAGE};

/// One binary source entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AptSource {
    /// Archive base URI.
    pub uri: String,
    /// Suite (or codename), as written.
    pub suite: String,
    /// Components.
    pub components: Vec<String>,
    /// `arch=` / `Architectures:` restriction; empty means the native one.
    pub architectures: Vec<String>,
    /// `signed-by=` / `Signed-By:`.
    pub signed_by: Option<SignedBy>,
    /// Where it was read, `file:line`.
    pub origin: String,
    /// The same file has a `deb-src` entry for this URI and suite.
    pub with_sources: bool,
}

/// How a source names its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignedBy {
    /// Keyring files.
    Files(Vec<PathBuf>),
    /// An ASCII-armored key embedded in the `.sources` stanza.
    Inline(String),
    /// Fingerprints (apt allows them; they need the system's trusted keyrings).
    Fingerprints(Vec<String>),
}

/// A sources file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum AptSourcesError {
    /// I/O.
    #[error("cannot read apt sources `{path}`")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A deb822 `.sources` file that does not parse.
    #[error("apt sources `{path}` is not valid deb822")]
    Deb822 {
        /// File.
        path: PathBuf,
        /// Cause, with the line.
        #[source]
        source: super::deb822::Deb822Error,
    },
    /// Syntax of a one-line `.list` file.
    #[error("apt sources `{path}` line {line}: {detail}")]
    Syntax {
        /// File.
        path: PathBuf,
        /// 1-based line (stanza start for deb822).
        line: usize,
        /// What is wrong.
        detail: String,
    },
}

impl ExitCode for AptSourcesError {
    fn exit_code(&self) -> u8 {
        // The machine's apt sources, or files the operator named.
        USAGE
    }
}

/// The default files: `/etc/apt/sources.list` and `/etc/apt/sources.list.d/*.{list,sources}`, sorted.
pub fn default_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let main = Path::new("/etc/apt/sources.list");
    if main.is_file() {
        files.push(main.to_owned());
    }
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("list" | "sources")
                )
            })
            .collect();
        more.sort();
        files.extend(more);
    }
    files
}

/// Reads one file, by its extension: `.sources` is deb822, anything else one-line.
pub fn read_file(path: &Path) -> Result<Vec<AptSource>, AptSourcesError> {
    let text = crate::capped::read_to_string(path, crate::capped::SCOPE).map_err(|source| {
        AptSourcesError::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    if path.extension().and_then(|e| e.to_str()) == Some("sources") {
        parse_deb822(&text, path)
    } else {
        parse_one_line(&text, path)
    }
}

fn signed_by(value: &str) -> Option<SignedBy> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.contains("BEGIN PGP PUBLIC KEY BLOCK") {
        // Continuation lines carry a leading space and ` .` for empty lines.
        let key = value
            .lines()
            .map(|l| {
                let l = l.strip_prefix(' ').unwrap_or(l);
                if l.trim() == "." { "" } else { l }
            })
            .collect::<Vec<_>>()
            .join("\n");
        return Some(SignedBy::Inline(key + "\n"));
    }
    let items: Vec<&str> = value
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.iter().all(|i| i.starts_with('/')) {
        Some(SignedBy::Files(items.iter().map(PathBuf::from).collect()))
    } else {
        Some(SignedBy::Fingerprints(
            items.iter().map(|s| (*s).to_owned()).collect(),
        ))
    }
}

/// Parses the one-line format: `deb [opt=val ...] URI SUITE [COMPONENT...]`.
pub fn parse_one_line(text: &str, path: &Path) -> Result<Vec<AptSource>, AptSourcesError> {
    let mut out = Vec::new();
    let mut src = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let syntax = |detail: &str| AptSourcesError::Syntax {
            path: path.to_owned(),
            line: i + 1,
            detail: detail.to_owned(),
        };
        let (kind, rest) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| syntax("expected `deb URI SUITE`"))?;
        if kind != "deb" && kind != "deb-src" {
            return Err(syntax(&format!("unknown type `{kind}`")));
        }
        let mut rest = rest.trim_start();
        let mut architectures = Vec::new();
        let mut signed = None;
        if let Some(after) = rest.strip_prefix('[') {
            let (opts, tail) = after
                .split_once(']')
                .ok_or_else(|| syntax("unterminated `[` options"))?;
            for opt in opts.split_whitespace() {
                let (k, v) = opt
                    .split_once('=')
                    .ok_or_else(|| syntax(&format!("option `{opt}` lacks `=`")))?;
                match k {
                    "arch" => architectures = v.split(',').map(str::to_owned).collect(),
                    "signed-by" => signed = signed_by(v),
                    _ => {}
                }
            }
            rest = tail.trim_start();
        }
        let mut words = rest.split_whitespace();
        let uri = words.next().ok_or_else(|| syntax("missing URI"))?;
        let suite = words.next().ok_or_else(|| syntax("missing suite"))?;
        if kind == "deb-src" {
            src.push((uri.to_owned(), suite.to_owned()));
            continue;
        }
        out.push(AptSource {
            uri: uri.to_owned(),
            suite: suite.to_owned(),
            components: words.map(str::to_owned).collect(),
            architectures,
            signed_by: signed,
            origin: format!("{}:{}", path.display(), i + 1),
            with_sources: false,
        });
    }
    Ok(mark_sources(out, &src))
}

/// Sets `with_sources` on the entries whose (URI, suite) is in `src`.
fn mark_sources(mut out: Vec<AptSource>, src: &[(String, String)]) -> Vec<AptSource> {
    for s in &mut out {
        s.with_sources = src.iter().any(|(u, x)| *u == s.uri && *x == s.suite);
    }
    out
}

/// Parses the deb822 format (`Types:`, `URIs:`, `Suites:`, `Components:`, …).
pub fn parse_deb822(text: &str, path: &Path) -> Result<Vec<AptSource>, AptSourcesError> {
    let mut out = Vec::new();
    let mut src = Vec::new();
    let reader = StanzaReader::new(text.as_bytes()).allow_comments(true);
    for (n, stanza) in reader.enumerate() {
        let stanza = stanza.map_err(|source| AptSourcesError::Deb822 {
            path: path.to_owned(),
            source,
        })?;
        let words = |f: &str| -> Vec<String> {
            stanza
                .get(f)
                .map(|v| v.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default()
        };
        if stanza
            .get("Enabled")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("no"))
        {
            continue;
        }
        let types = words("Types");
        if types.iter().any(|t| t == "deb-src") {
            for uri in words("URIs") {
                src.extend(words("Suites").into_iter().map(|s| (uri.clone(), s)));
            }
        }
        if !types.iter().any(|t| t == "deb") {
            continue;
        }
        let signed = stanza.get("Signed-By").and_then(signed_by);
        for uri in words("URIs") {
            for suite in words("Suites") {
                out.push(AptSource {
                    uri: uri.clone(),
                    suite,
                    components: words("Components"),
                    architectures: words("Architectures"),
                    signed_by: signed.clone(),
                    origin: format!("{} stanza {}", path.display(), n + 1),
                    with_sources: false,
                });
            }
        }
    }
    Ok(mark_sources(out, &src))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line() {
        let text = "# c\ndeb [arch=amd64,arm64 signed-by=/usr/share/keyrings/k.gpg] http://h/debian bookworm main contrib\n\
                    deb-src http://h/debian bookworm main\ndeb http://h/x stable/ \n";
        let got = parse_one_line(text, Path::new("s.list")).expect("parse");
        assert_eq!(got.len(), 2);
        assert!(got[0].with_sources, "a deb-src line for bookworm");
        assert!(!got[1].with_sources);
        assert_eq!(got[0].architectures, ["amd64", "arm64"]);
        assert_eq!(got[0].components, ["main", "contrib"]);
        assert_eq!(
            got[0].signed_by,
            Some(SignedBy::Files(vec!["/usr/share/keyrings/k.gpg".into()]))
        );
        assert_eq!(got[1].suite, "stable/");
        assert!(parse_one_line("deb [arch=amd64 http://h x", Path::new("b.list")).is_err());
        assert!(parse_one_line("rpm http://h x", Path::new("b.list")).is_err());
    }

    #[test]
    fn deb822() {
        let text = "Types: deb deb-src\nURIs: http://h/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\
                    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
                    Types: deb\nURIs: http://h/other\nSuites: x\nComponents: main\nEnabled: no\n\n\
                    Types: deb\nURIs: http://h/inline\nSuites: y\nComponents: main\nArchitectures: arm64\n\
                    Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----\n";
        let got = parse_deb822(text, Path::new("d.sources")).expect("parse");
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].suite, "bookworm-updates");
        assert!(got[0].with_sources && got[1].with_sources && !got[2].with_sources);
        assert_eq!(got[2].architectures, ["arm64"]);
        match &got[2].signed_by {
            Some(SignedBy::Inline(k)) => {
                assert!(k.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nabc\n"))
            }
            other => panic!("{other:?}"),
        }
    }
}
