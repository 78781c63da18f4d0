//! Ubuntu's command-not-found data: `<component>/cnf/Commands-<arch>`.
//!
//! A deb822 file: a header stanza (`suite`, `component`, `arch`), then one
//! stanza per package: `name`, `version` and `commands` (comma-separated),
//! sometimes `visible-pkgname`, `ignore-commands` or `priority-bonus`.
//! Ubuntu's `command-not-found` reads the header to decide whether the
//! file applies and each stanza's `commands` to suggest `name`.
//!
//! [`CommandsReader`] streams a file's entries, each validated, through the
//! bounded [`StanzaReader`]; a mirror keeps only the entries of the
//! packages it selected, each as upstream wrote it (its fields in order),
//! so fields we do not interpret survive.

use std::io::BufRead;

use crate::debian::deb822::{Deb822Error, Stanza, StanzaReader};
use crate::debian::packages::is_valid_package_name;
use crate::exit::{ExitCode, FAILURE};

/// The largest stanza accepted: a package's command list is at most a few
/// KiB (coreutils lists about a hundred commands).
pub const MAX_COMMANDS_STANZA_BYTES: usize = 256 << 10;

/// One package's entry of a Commands file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandsEntry {
    /// The package name (`name`).
    pub name: String,
    /// Every field, in upstream's order (`name` and `commands` among them).
    pub fields: Vec<(String, String)>,
}

/// Why a Commands file or one of its entries is not usable.
#[derive(Debug, thiserror::Error)]
pub enum CnfError {
    /// The text is not deb822.
    #[error(transparent)]
    Syntax(#[from] Deb822Error),
    /// The file does not start with its header.
    #[error(
        "line {line}: the first stanza is not a Commands header (`suite`, `component`, `arch`)"
    )]
    NoHeader {
        /// Where the stanza starts.
        line: usize,
    },
    /// A field the entry needs is absent.
    #[error("line {line}: field `{field}` is missing in stanza{}", of(.package))]
    Missing {
        /// The missing field.
        field: &'static str,
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

impl ExitCode for CnfError {
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

impl CommandsEntry {
    /// Validates a package stanza of a Commands file.
    pub fn from_stanza(stanza: Stanza) -> Result<Self, CnfError> {
        let line = stanza.line().unwrap_or(0);
        let cut = |v: &str| v.chars().take(80).collect::<String>();
        let name = stanza.get("name").ok_or(CnfError::Missing {
            field: "name",
            package: None,
            line,
        })?;
        if !is_valid_package_name(name) {
            return Err(CnfError::BadValue {
                field: "name",
                value: cut(name),
                expected: "a valid package name",
                package: None,
                line,
            });
        }
        let name = name.to_owned();
        let commands = stanza.get("commands").ok_or_else(|| CnfError::Missing {
            field: "commands",
            package: Some(name.clone()),
            line,
        })?;
        // Empty items are allowed: Ubuntu's own files have them (resolute's
        // universe lists `mailutils-mh` as `commands: ,ali,anno,…`), and
        // command-not-found skips them.
        let one_list = !commands.contains('\n')
            && commands.split(',').any(|c| !c.trim().is_empty())
            && commands
                .split(',')
                .all(|c| !c.trim().contains(char::is_whitespace));
        if !one_list {
            return Err(CnfError::BadValue {
                field: "commands",
                value: cut(commands),
                expected: "a comma-separated list of command names",
                package: Some(name),
                line,
            });
        }
        Ok(CommandsEntry {
            name,
            fields: stanza.into_fields(),
        })
    }

    /// The `commands` of the entry (empty items left out).
    pub fn commands(&self) -> impl Iterator<Item = &str> {
        self.field("commands")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }

    /// The value of field `name` (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The entry as a stanza, without the blank line that ends it.
    pub fn to_stanza_text(&self) -> String {
        let mut s = Stanza::new();
        for (n, v) in &self.fields {
            s.push(n.as_str(), v.as_str());
        }
        s.to_text()
    }
}

/// The header stanza of a Commands file we write: `suite`, `component`
/// and `arch`, as upstream's, without the blank line that ends it.
pub fn header_text(suite: &str, component: &str, arch: &str) -> String {
    let mut s = Stanza::new();
    s.push("suite", suite);
    s.push("component", component);
    s.push("arch", arch);
    s.to_text()
}

/// Streams the entries of a decompressed Commands file, after its header
/// ([`CommandsReader::header`]); ends after the first error.
pub struct CommandsReader<R> {
    stanzas: StanzaReader<R>,
    header: Option<Stanza>,
    failed: bool,
}

impl<R: BufRead> CommandsReader<R> {
    /// A reader of `reader`'s entries, bounded to
    /// [`MAX_COMMANDS_STANZA_BYTES`] a stanza.
    pub fn new(reader: R) -> Self {
        CommandsReader {
            stanzas: StanzaReader::new(reader).max_stanza_bytes(MAX_COMMANDS_STANZA_BYTES),
            header: None,
            failed: false,
        }
    }

    /// The header, once the first entry (or the end) was read.
    pub fn header(&self) -> Option<&Stanza> {
        self.header.as_ref()
    }

    fn read(&mut self) -> Option<Result<CommandsEntry, CnfError>> {
        let mut stanza = match self.stanzas.next()? {
            Ok(s) => s,
            Err(e) => return Some(Err(e.into())),
        };
        if self.header.is_none() {
            let line = stanza.line().unwrap_or(0);
            if stanza.get("name").is_some() || stanza.get("arch").is_none() {
                return Some(Err(CnfError::NoHeader { line }));
            }
            self.header = Some(stanza);
            stanza = match self.stanzas.next()? {
                Ok(s) => s,
                Err(e) => return Some(Err(e.into())),
            };
        }
        Some(CommandsEntry::from_stanza(stanza))
    }
}

impl<R: BufRead> Iterator for CommandsReader<R> {
    type Item = Result<CommandsEntry, CnfError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.read()?;
        self.failed = item.is_err();
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "suite: noble\ncomponent: main\narch: amd64\n\nname: acl\nversion: 2.3.2-1build1\ncommands: chacl,getfacl,setfacl\n\nname: python3.12-minimal\nversion: 3.12.3-1\ncommands: python3.12\nvisible-pkgname: python3.12\n";

    #[test]
    fn reads_the_header_and_entries_as_written() {
        let mut r = CommandsReader::new(FILE.as_bytes());
        let entries: Vec<_> = r.by_ref().collect::<Result<_, _>>().expect("parses");
        assert_eq!(r.header().and_then(|h| h.get("arch")), Some("amd64"));
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name, "acl");
        let commands: Vec<&str> = entries[0].commands().collect();
        assert_eq!(commands, ["chacl", "getfacl", "setfacl"]);
        assert_eq!(entries[1].field("visible-pkgname"), Some("python3.12"));
        let text: Vec<String> = entries.iter().map(|e| e.to_stanza_text()).collect();
        let header = header_text("noble", "main", "amd64");
        assert_eq!(format!("{header}\n{}", text.join("\n")), FILE);
    }

    #[test]
    fn an_empty_item_in_commands_is_kept_as_written_and_skipped() {
        // As Ubuntu's resolute universe lists mailutils-mh.
        let text =
            "arch: amd64\n\nname: mailutils-mh\nversion: 1:3.20-3build1\ncommands: ,ali,anno\n";
        let entries: Vec<_> = CommandsReader::new(text.as_bytes())
            .collect::<Result<_, _>>()
            .expect("parses");
        let commands: Vec<&str> = entries[0].commands().collect();
        assert_eq!(commands, ["ali", "anno"]);
        assert_eq!(entries[0].field("commands"), Some(",ali,anno"));
    }

    #[test]
    fn an_empty_file_has_no_entries() {
        let mut r = CommandsReader::new(&b""[..]);
        assert!(r.next().is_none());
        let mut r = CommandsReader::new(&b"suite: noble\narch: amd64\n"[..]);
        assert!(r.next().is_none());
        assert!(r.header().is_some());
    }

    #[test]
    fn bad_files_are_named() {
        let cases = [
            ("name: acl\ncommands: x\n", "not a Commands header"),
            (
                "arch: amd64\n\nversion: 1\ncommands: x\n",
                "`name` is missing",
            ),
            (
                "arch: amd64\n\nname: acl\nversion: 1\n",
                "`commands` is missing in stanza of package `acl`",
            ),
            (
                "arch: amd64\n\nname: Acl\ncommands: x\n",
                "`Acl` is not a valid",
            ),
            ("arch: amd64\n\nname: acl\ncommands: ,\n", "comma-separated"),
            (
                "arch: amd64\n\nname: acl\ncommands: a b\n",
                "comma-separated",
            ),
        ];
        for (text, want) in cases {
            let mut r = CommandsReader::new(text.as_bytes());
            let err = r.find_map(Result::err).expect("fails");
            assert!(err.to_string().contains(want), "{text}: {err}");
            assert!(r.next().is_none(), "ends after the first error");
        }
    }

    #[test]
    fn an_oversized_stanza_is_refused() {
        let long = format!(
            "arch: amd64\n\nname: a\ncommands: {}\n",
            "y".repeat(MAX_COMMANDS_STANZA_BYTES)
        );
        let mut r = CommandsReader::new(long.as_bytes());
        assert!(matches!(r.next(), Some(Err(CnfError::Syntax(_)))));
    }
}
