//! Entries of a `Translation-<lang>` index (`<component>/i18n/`).
//!
//! Debian's Packages entries carry only the one-line `Description` and a
//! `Description-md5`; the long text lives in the Translation files, one
//! stanza per (package, description): `Package`, `Description-md5` and
//! `Description-<lang>` with its continuation lines. apt joins the two on
//! the package name and that md5, which is the MD5 of the package's full
//! `Description` value followed by a newline ([`description_md5`]).
//!
//! [`TranslationReader`] streams a file's entries, each validated, through
//! the bounded [`StanzaReader`]; a mirror keeps only the entries of the
//! packages it selected, so a whole file is never held in memory.

use std::io::BufRead;

use md5::Digest as _;

use crate::debian::deb822::{Deb822Error, Stanza, StanzaReader};
use crate::debian::packages::is_valid_package_name;
use crate::exit::{ExitCode, FAILURE};

/// The largest Translation stanza accepted: Debian's longest descriptions
/// are a few KiB.
pub const MAX_TRANSLATION_STANZA_BYTES: usize = 1 << 20;

/// One entry of a Translation file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TranslationEntry {
    /// The package name.
    pub package: String,
    /// `Description-md5`: 32 lowercase hex digits.
    pub md5: String,
    /// The `Description-<lang>` value: the short line, then the long text's
    /// lines, each with its leading space, joined by `\n`.
    pub description: String,
}

/// Why a Translation file or one of its entries is not usable.
#[derive(Debug, thiserror::Error)]
pub enum TranslationError {
    /// The text is not deb822.
    #[error(transparent)]
    Syntax(#[from] Deb822Error),
    /// A field the entry needs is absent.
    #[error("line {line}: field `{field}` is missing in stanza{}", of(.package))]
    Missing {
        /// The missing field.
        field: String,
        /// The package name, if the stanza has one.
        package: Option<String>,
        /// Where the stanza starts.
        line: usize,
    },
    /// A field's value is malformed.
    #[error("line {line}: field `{field}`{}: `{value}` is not {expected}", of(.package))]
    BadValue {
        /// The field.
        field: &'static str,
        /// The value as written (cut to 80 characters).
        value: String,
        /// What it should be.
        expected: &'static str,
        /// The package name, if valid.
        package: Option<String>,
        /// Where the stanza starts.
        line: usize,
    },
}

impl ExitCode for TranslationError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// ` of package `name`` when the name is known.
fn of(package: &Option<String>) -> String {
    package
        .as_ref()
        .map(|p| format!(" of package `{p}`"))
        .unwrap_or_default()
}

/// The `Description-md5` apt computes for a `Description` value (short
/// line and continuation lines as [`Stanza`] keeps them): MD5 of the value
/// and a final newline, in lowercase hex.
pub fn description_md5(description: &str) -> String {
    let mut h = md5::Md5::new();
    h.update(description.as_bytes());
    h.update(b"\n");
    hex::encode(h.finalize())
}

/// Whether `code` names a Translation language as Debian and apt spell
/// them: `en`, `pt_BR`, `zh_CN`, `ca@valencia`, `sr@latin` — two or three
/// lowercase letters, an optional `_` and two uppercase letters, an
/// optional `@` and lowercase letters. Nothing else can reach a path.
pub fn is_valid_language(code: &str) -> bool {
    let (base, modifier) = match code.split_once('@') {
        Some((b, m)) => (b, Some(m)),
        None => (code, None),
    };
    let (lang, region) = match base.split_once('_') {
        Some((l, r)) => (l, Some(r)),
        None => (base, None),
    };
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
        && modifier.is_none_or(|m| {
            (1..=16).contains(&m.len()) && m.bytes().all(|b| b.is_ascii_lowercase())
        })
}

/// Whether `s` is an MD5 digest in lowercase hex.
fn is_md5(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl TranslationEntry {
    /// Validates a stanza of a `Translation-<language>` file.
    pub fn from_stanza(stanza: &Stanza, language: &str) -> Result<Self, TranslationError> {
        let line = stanza.line().unwrap_or(0);
        let missing = |field: &str, package: Option<&str>| TranslationError::Missing {
            field: field.to_owned(),
            package: package.map(str::to_owned),
            line,
        };
        let cut = |v: &str| v.chars().take(80).collect::<String>();
        let package = stanza
            .get("Package")
            .ok_or_else(|| missing("Package", None))?;
        if !is_valid_package_name(package) {
            return Err(TranslationError::BadValue {
                field: "Package",
                value: cut(package),
                expected: "a valid package name",
                package: None,
                line,
            });
        }
        let md5 = stanza
            .get("Description-md5")
            .ok_or_else(|| missing("Description-md5", Some(package)))?;
        if !is_md5(md5) {
            return Err(TranslationError::BadValue {
                field: "Description-md5",
                value: cut(md5),
                expected: "an MD5 digest (32 lowercase hex digits)",
                package: Some(package.to_owned()),
                line,
            });
        }
        let field = format!("Description-{language}");
        let description = stanza
            .get(&field)
            .ok_or_else(|| missing(&field, Some(package)))?;
        Ok(TranslationEntry {
            package: package.to_owned(),
            md5: md5.to_owned(),
            description: description.to_owned(),
        })
    }

    /// The entry as a Translation stanza for `language`, without the blank
    /// line that ends it.
    pub fn to_stanza_text(&self, language: &str) -> String {
        let mut s = Stanza::new();
        s.push("Package", self.package.as_str());
        s.push("Description-md5", self.md5.as_str());
        s.push(format!("Description-{language}"), self.description.as_str());
        s.to_text()
    }
}

/// Streams the entries of a decompressed `Translation-<language>` file;
/// ends after the first error.
pub struct TranslationReader<R> {
    stanzas: StanzaReader<R>,
    language: String,
    failed: bool,
}

impl<R: BufRead> TranslationReader<R> {
    /// A reader of `reader`'s entries for `language`, bounded to
    /// [`MAX_TRANSLATION_STANZA_BYTES`] a stanza.
    pub fn new(reader: R, language: &str) -> Self {
        TranslationReader {
            stanzas: StanzaReader::new(reader).max_stanza_bytes(MAX_TRANSLATION_STANZA_BYTES),
            language: language.to_owned(),
            failed: false,
        }
    }
}

impl<R: BufRead> Iterator for TranslationReader<R> {
    type Item = Result<TranslationEntry, TranslationError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = match self.stanzas.next()? {
            Ok(stanza) => TranslationEntry::from_stanza(&stanza, &self.language),
            Err(e) => Err(e.into()),
        };
        self.failed = item.is_err();
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debian::parse_str;

    const FILE: &str = "Package: curl\nDescription-md5: 0123456789abcdef0123456789abcdef\nDescription-en: command line tool for transferring data with URL syntax\n curl is a command line tool.\n .\n It supports many protocols.\n\nPackage: zsh\nDescription-md5: fedcba9876543210fedcba9876543210\nDescription-en: shell with lots of features\n Zsh is a UNIX command interpreter.\n";

    #[test]
    fn reads_entries_with_their_long_text() {
        let entries: Vec<_> = TranslationReader::new(FILE.as_bytes(), "en")
            .collect::<Result<_, _>>()
            .expect("parses");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].package, "curl");
        assert_eq!(entries[0].md5, "0123456789abcdef0123456789abcdef");
        assert_eq!(
            entries[0].description,
            "command line tool for transferring data with URL syntax\n curl is a command line tool.\n .\n It supports many protocols."
        );
        assert_eq!(entries[1].package, "zsh");
    }

    #[test]
    fn writes_back_what_it_read() {
        let entries: Vec<_> = TranslationReader::new(FILE.as_bytes(), "en")
            .collect::<Result<_, _>>()
            .expect("parses");
        let text: Vec<String> = entries.iter().map(|e| e.to_stanza_text("en")).collect();
        assert_eq!(text.join("\n"), FILE);
    }

    #[test]
    fn md5_follows_apt() {
        // The Description value as a Packages stanza keeps it, plus "\n".
        let stanza =
            &parse_str("Package: a\nDescription: short\n long one\n .\n two\n").expect("parses")[0];
        let value = stanza.get("Description").expect("description");
        let mut h = md5::Md5::new();
        h.update(b"short\n long one\n .\n two\n");
        assert_eq!(description_md5(value), hex::encode(h.finalize()));
    }

    #[test]
    fn bad_entries_are_named() {
        let cases = [
            (
                "Description-md5: 0123456789abcdef0123456789abcdef\nDescription-en: x\n",
                "`Package` is missing",
            ),
            (
                "Package: curl\nDescription-en: x\n",
                "`Description-md5` is missing in stanza of package `curl`",
            ),
            (
                "Package: curl\nDescription-md5: 0123\nDescription-en: x\n",
                "`0123` is not an MD5",
            ),
            (
                "Package: curl\nDescription-md5: 0123456789abcdef0123456789abcdef\nDescription-de: x\n",
                "`Description-en` is missing",
            ),
            (
                "Package: Curl\nDescription-md5: 0123456789abcdef0123456789abcdef\nDescription-en: x\n",
                "`Curl` is not a valid package name",
            ),
        ];
        for (text, want) in cases {
            let err = TranslationReader::new(text.as_bytes(), "en")
                .find_map(Result::err)
                .expect("fails");
            assert!(err.to_string().contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn an_oversized_stanza_is_refused() {
        let long = format!(
            "Package: a1\nDescription-md5: 0123456789abcdef0123456789abcdef\nDescription-en: x\n {}\n",
            "y".repeat(MAX_TRANSLATION_STANZA_BYTES)
        );
        let mut r = TranslationReader::new(long.as_bytes(), "en");
        assert!(matches!(r.next(), Some(Err(TranslationError::Syntax(_)))));
        assert!(r.next().is_none(), "ends after the first error");
    }

    #[test]
    fn languages_debian_uses_are_valid() {
        for ok in [
            "en",
            "de",
            "pt_BR",
            "zh_CN",
            "zh_TW",
            "ca@valencia",
            "sr@latin",
            "ast",
        ] {
            assert!(is_valid_language(ok), "{ok}");
        }
        for bad in [
            "", "e", "EN", "english", "pt_br", "pt-BR", "../x", "en/", "en@", "none@x_Y", "de_DE_X",
        ] {
            assert!(!is_valid_language(bad), "{bad}");
        }
    }
}
