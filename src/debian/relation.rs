//! Dependency fields: `Depends`, `Pre-Depends`, `Recommends`, `Provides`, …
//!
//! A field is a comma-separated list of [`Dependency`] items, each a
//! `|`-separated list of alternative [`Relation`]s such as
//! `libc6:amd64 (>= 2.36) [amd64 !i386] <!nocheck>`. Resolving what a mirror
//! must fetch starts here, so the parser follows dpkg's grammar closely:
//! whitespace and continuation lines may appear between any two tokens,
//! empty items between commas are tolerated, build profiles are parsed and
//! dropped, a missing operator means `=` (dpkg warns and does the same),
//! and any malformed item is an error quoting the field text and the byte
//! position.

use std::fmt;

use crate::debian::version::{Version, VersionError, compare};
use crate::exit::{ExitCode, FAILURE};

/// Why a relation field could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelationError {
    /// Something other than the expected token.
    #[error("byte {pos} of relation field `{field}`: expected {expected}")]
    Syntax {
        /// The whole field text.
        field: String,
        /// Byte offset of the problem.
        pos: usize,
        /// What the parser was looking for.
        expected: &'static str,
    },
    /// A package name that dpkg would refuse.
    #[error("byte {pos} of relation field `{field}`: invalid package name `{name}`")]
    BadName {
        /// The whole field text.
        field: String,
        /// Byte offset of the name.
        pos: usize,
        /// The name as written.
        name: String,
    },
    /// An architecture name (qualifier or restriction) that dpkg would refuse.
    #[error("byte {pos} of relation field `{field}`: invalid architecture `{arch}`")]
    BadArch {
        /// The whole field text.
        field: String,
        /// Byte offset of the architecture.
        pos: usize,
        /// The architecture as written.
        arch: String,
    },
    /// A malformed version inside parentheses.
    #[error("byte {pos} of relation field `{field}`: {source}")]
    BadVersion {
        /// The whole field text.
        field: String,
        /// Byte offset of the version.
        pos: usize,
        /// What is wrong with it.
        source: VersionError,
    },
}

impl ExitCode for RelationError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// A version comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionOp {
    /// `<<`: strictly earlier.
    Lt,
    /// `<=` (or the deprecated `<`): earlier or equal.
    Le,
    /// `=`: exactly equal.
    Eq,
    /// `>=` (or the deprecated `>`): later or equal.
    Ge,
    /// `>>`: strictly later.
    Gt,
}

impl VersionOp {
    /// The canonical token: `<<`, `<=`, `=`, `>=` or `>>`.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionOp::Lt => "<<",
            VersionOp::Le => "<=",
            VersionOp::Eq => "=",
            VersionOp::Ge => ">=",
            VersionOp::Gt => ">>",
        }
    }
}

impl fmt::Display for VersionOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parenthesized constraint such as `(>= 2.36)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionConstraint {
    /// The operator.
    pub op: VersionOp,
    /// The version on the right-hand side.
    pub version: Version,
}

impl VersionConstraint {
    /// Whether `v` satisfies the constraint, in dpkg order.
    pub fn matches(&self, v: &Version) -> bool {
        let ord = v.cmp(&self.version);
        match self.op {
            VersionOp::Lt => ord.is_lt(),
            VersionOp::Le => ord.is_le(),
            VersionOp::Eq => ord.is_eq(),
            VersionOp::Ge => ord.is_ge(),
            VersionOp::Gt => ord.is_gt(),
        }
    }

    /// Like [`matches`](Self::matches) on an unparsed version string.
    pub fn matches_str(&self, v: &str) -> bool {
        let ord = compare(v, self.version.as_str());
        match self.op {
            VersionOp::Lt => ord.is_lt(),
            VersionOp::Le => ord.is_le(),
            VersionOp::Eq => ord.is_eq(),
            VersionOp::Ge => ord.is_ge(),
            VersionOp::Gt => ord.is_gt(),
        }
    }
}

impl fmt::Display for VersionConstraint {
    /// `op version`, without the parentheses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op, self.version)
    }
}

/// One package reference, e.g. `libc6:any (>= 2.36) [amd64 !i386]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Relation {
    /// The package name.
    pub name: String,
    /// The architecture qualifier after `:` (`any`, `native`, `amd64`, …).
    pub arch_qualifier: Option<String>,
    /// The version constraint in parentheses, if any.
    pub constraint: Option<VersionConstraint>,
    /// Raw tokens of the `[…]` architecture restriction list (`amd64`,
    /// `!i386`); empty when there is none.
    pub arch_restrictions: Vec<String>,
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(q) = &self.arch_qualifier {
            write!(f, ":{q}")?;
        }
        if let Some(c) = &self.constraint {
            write!(f, " ({c})")?;
        }
        if !self.arch_restrictions.is_empty() {
            write!(f, " [{}]", self.arch_restrictions.join(" "))?;
        }
        Ok(())
    }
}

/// One comma-separated item: alternatives separated by `|`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dependency {
    /// The alternatives, in order of preference; never empty.
    pub alternatives: Vec<Relation>,
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Whether `name` is a package name dpkg accepts in a relation: starts with
/// an alphanumeric, then alphanumerics and `+-._`.
fn name_ok(name: &[u8]) -> bool {
    match name.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphanumeric()
                && rest
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b'_'))
        }
        None => false,
    }
}

/// Whether `arch` is a plausible architecture or wildcard name: alphanumerics
/// and `-`, starting with an alphanumeric.
fn arch_ok(arch: &[u8]) -> bool {
    match arch.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphanumeric()
                && rest.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        }
        None => false,
    }
}

/// Characters that end a package or architecture name.
fn is_delim(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(
            c,
            b':' | b'(' | b')' | b',' | b'|' | b'[' | b']' | b'<' | b'>'
        )
}

struct Parser<'a> {
    text: &'a str,
    s: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn syntax(&self, expected: &'static str) -> RelationError {
        RelationError::Syntax {
            field: self.text.to_owned(),
            pos: self.pos,
            expected,
        }
    }

    /// Takes bytes up to the next delimiter.
    fn word(&mut self) -> (usize, &'a str) {
        let start = self.pos;
        while self.peek().is_some_and(|c| !is_delim(c)) {
            self.pos += 1;
        }
        (start, &self.text[start..self.pos])
    }

    fn relation(&mut self) -> Result<Relation, RelationError> {
        self.skip_ws();
        let (start, name) = self.word();
        if name.is_empty() {
            return Err(self.syntax("a package name"));
        }
        if !name_ok(name.as_bytes()) {
            return Err(RelationError::BadName {
                field: self.text.to_owned(),
                pos: start,
                name: name.to_owned(),
            });
        }
        let mut rel = Relation {
            name: name.to_owned(),
            arch_qualifier: None,
            constraint: None,
            arch_restrictions: Vec::new(),
        };
        if self.peek() == Some(b':') {
            self.pos += 1;
            let (start, arch) = self.word();
            if !arch_ok(arch.as_bytes()) {
                return Err(RelationError::BadArch {
                    field: self.text.to_owned(),
                    pos: start,
                    arch: arch.to_owned(),
                });
            }
            rel.arch_qualifier = Some(arch.to_owned());
        }
        self.skip_ws();
        if self.peek() == Some(b'(') {
            rel.constraint = Some(self.constraint()?);
        }
        if self.peek() == Some(b'[') {
            rel.arch_restrictions = self.arch_list()?;
        }
        // Build profiles: `<!nocheck> <stage1 !cross>`, parsed and dropped.
        while self.peek() == Some(b'<') {
            self.profile_list()?;
        }
        Ok(rel)
    }

    /// `(OP VERSION)`, at the `(`.
    fn constraint(&mut self) -> Result<VersionConstraint, RelationError> {
        self.pos += 1;
        self.skip_ws();
        let op = match (self.peek(), self.s.get(self.pos + 1).copied()) {
            (Some(b'<'), Some(b'<')) => (VersionOp::Lt, 2),
            (Some(b'<'), Some(b'=')) => (VersionOp::Le, 2),
            (Some(b'<'), _) => (VersionOp::Le, 1),
            (Some(b'>'), Some(b'>')) => (VersionOp::Gt, 2),
            (Some(b'>'), Some(b'=')) => (VersionOp::Ge, 2),
            (Some(b'>'), _) => (VersionOp::Ge, 1),
            (Some(b'='), _) => (VersionOp::Eq, 1),
            // dpkg warns and assumes `=` when the operator is missing.
            _ => (VersionOp::Eq, 0),
        };
        self.pos += op.1;
        self.skip_ws();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !c.is_ascii_whitespace() && c != b')')
        {
            self.pos += 1;
        }
        let text = &self.text[start..self.pos];
        let version = Version::parse(text).map_err(|source| RelationError::BadVersion {
            field: self.text.to_owned(),
            pos: start,
            source,
        })?;
        self.skip_ws();
        if self.peek() != Some(b')') {
            return Err(self.syntax("`)` after the version"));
        }
        self.pos += 1;
        self.skip_ws();
        Ok(VersionConstraint { op: op.0, version })
    }

    /// `[ARCH !ARCH …]`, at the `[`.
    fn arch_list(&mut self) -> Result<Vec<String>, RelationError> {
        let mut list = Vec::new();
        self.pos += 1;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.syntax("`]` closing the architecture list")),
                Some(_) => {}
            }
            let start = self.pos;
            if self.peek() == Some(b'!') {
                self.pos += 1;
            }
            let (arch_start, arch) = self.word();
            if !arch_ok(arch.as_bytes()) {
                if arch.is_empty() && self.peek().is_some_and(|c| c != b']') {
                    return Err(self.syntax("an architecture name or `]`"));
                }
                return Err(RelationError::BadArch {
                    field: self.text.to_owned(),
                    pos: arch_start,
                    arch: arch.to_owned(),
                });
            }
            list.push(self.text[start..self.pos].to_owned());
        }
        if list.is_empty() {
            return Err(self.syntax("a non-empty architecture list"));
        }
        self.skip_ws();
        Ok(list)
    }

    /// `<PROFILE !PROFILE …>`, at the `<`: checked, not kept.
    fn profile_list(&mut self) -> Result<(), RelationError> {
        self.pos += 1;
        let mut terms = 0;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'>') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.syntax("`>` closing the build profile list")),
                Some(_) => {}
            }
            if self.peek() == Some(b'!') {
                self.pos += 1;
            }
            let start = self.pos;
            while self.peek().is_some_and(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'+' | b'_')
            }) {
                self.pos += 1;
            }
            if self.pos == start {
                return Err(self.syntax("a build profile name or `>`"));
            }
            terms += 1;
        }
        if terms == 0 {
            return Err(self.syntax("a non-empty build profile list"));
        }
        self.skip_ws();
        Ok(())
    }
}

/// Parses a whole relation field into its comma-separated items.
///
/// An empty or whitespace-only field gives an empty list; empty items
/// (`a, , b` or a trailing comma) are skipped.
pub fn parse_relations(s: &str) -> Result<Vec<Dependency>, RelationError> {
    let mut p = Parser {
        text: s,
        s: s.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        p.skip_ws();
        match p.peek() {
            None => break,
            Some(b',') => {
                p.pos += 1;
                continue;
            }
            Some(_) => {}
        }
        let mut alternatives = vec![p.relation()?];
        loop {
            match p.peek() {
                Some(b'|') => {
                    p.pos += 1;
                    alternatives.push(p.relation()?);
                }
                Some(b',') => {
                    p.pos += 1;
                    break;
                }
                None => break,
                Some(_) => {
                    return Err(p.syntax("`,`, `|`, `(`, `[`, `<` or the end of the field"));
                }
            }
        }
        out.push(Dependency { alternatives });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn one(s: &str) -> Relation {
        let mut deps = parse_relations(s).unwrap();
        assert_eq!(deps.len(), 1, "{s}");
        let mut d = deps.remove(0);
        assert_eq!(d.alternatives.len(), 1, "{s}");
        d.alternatives.remove(0)
    }

    #[test]
    fn simple_and_full() {
        let r = one("libc6");
        assert_eq!(r.name, "libc6");
        assert!(r.arch_qualifier.is_none() && r.constraint.is_none());
        assert!(r.arch_restrictions.is_empty());

        let r = one("python3:any (>= 3.11~) [amd64 !i386] <!nocheck> <stage1 cross>");
        assert_eq!(r.name, "python3");
        assert_eq!(r.arch_qualifier.as_deref(), Some("any"));
        let c = r.constraint.as_ref().unwrap();
        assert_eq!(c.op, VersionOp::Ge);
        assert_eq!(c.version.as_str(), "3.11~");
        assert_eq!(r.arch_restrictions, ["amd64", "!i386"]);
        assert_eq!(r.to_string(), "python3:any (>= 3.11~) [amd64 !i386]");
    }

    #[test]
    fn operators() {
        for (txt, op) in [
            ("<<", VersionOp::Lt),
            ("<=", VersionOp::Le),
            ("<", VersionOp::Le),
            ("=", VersionOp::Eq),
            (">=", VersionOp::Ge),
            (">", VersionOp::Ge),
            (">>", VersionOp::Gt),
        ] {
            let r = one(&format!("foo ({txt} 1.0)"));
            assert_eq!(r.constraint.unwrap().op, op, "{txt}");
            let r = one(&format!("foo({txt}1.0)"));
            assert_eq!(r.constraint.unwrap().op, op, "{txt}");
        }
        // Like dpkg, a missing operator means `=`.
        assert_eq!(one("foo (1.0)").to_string(), "foo (= 1.0)");
    }

    #[test]
    fn real_depends_with_continuations() {
        let f = "libc6 (>= 2.34), libcurl4 (= 7.88.1-10+deb12u8),\n zlib1g (>= 1:1.1.4) | \n zlib1g-ng,\n debconf (>= 0.5) | debconf-2.0,";
        let deps = parse_relations(f).unwrap();
        assert_eq!(deps.len(), 4);
        assert_eq!(deps[2].alternatives.len(), 2);
        assert_eq!(deps[2].to_string(), "zlib1g (>= 1:1.1.4) | zlib1g-ng");
        assert_eq!(deps[1].to_string(), "libcurl4 (= 7.88.1-10+deb12u8)");
        let c = deps[0].alternatives[0].constraint.as_ref().unwrap();
        assert!(c.matches(&"2.36-9".parse().unwrap()));
        assert!(!c.matches(&"2.33".parse().unwrap()));
        assert!(c.matches_str("2.34"));
    }

    #[test]
    fn empty_items_tolerated() {
        assert!(parse_relations("").unwrap().is_empty());
        assert!(parse_relations("  \n ").unwrap().is_empty());
        assert_eq!(parse_relations("a, , b,").unwrap().len(), 2);
        assert_eq!(parse_relations(",a").unwrap().len(), 1);
    }

    #[test]
    fn malformed() {
        let bad = [
            "a (>= 1.0",
            "a ()",
            "a (>= )",
            "a (>= 1 0)",
            "a | ",
            "a || b",
            "a b",
            "a [amd64",
            "a []",
            "a <!nocheck",
            "a <>",
            "A_ok, -bad",
            "a:",
            "a:Amd64/x",
            "a)",
            "a (>= 1.0) (<< 2)",
        ];
        for s in bad {
            assert!(parse_relations(s).is_err(), "{s:?} accepted");
        }
        let e = parse_relations("foo (>= 1.0, bar").unwrap_err().to_string();
        assert!(e.contains("`foo (>= 1.0, bar`"), "{e}");
        assert!(e.starts_with("byte "), "{e}");
        assert_eq!(
            parse_relations("a b").unwrap_err().to_string(),
            "byte 2 of relation field `a b`: expected `,`, `|`, `(`, `[`, `<` or the end of the field"
        );
    }

    #[test]
    fn display_round_trip() {
        let f = "a:native (<< 2~) [!armel !armhf], b | c (>= 1:2.0-1)";
        let deps = parse_relations(f).unwrap();
        let shown: Vec<String> = deps.iter().map(|d| d.to_string()).collect();
        assert_eq!(shown.join(", "), f);
        assert_eq!(parse_relations(&shown.join(", ")).unwrap(), deps);
    }
}
