//! The package filter language.
//!
//! Mirrors are rarely wanted whole: an operator says "curl and everything
//! it needs", "all `required` packages", or "every `lib*-dev` but not the
//! debug ones". This module parses such expressions (modeled on aptly's
//! package queries) into a [`Filter`] and evaluates them against any
//! [`Candidate`].
//!
//! Grammar (whitespace, newlines included, is insignificant between tokens):
//!
//! ```text
//! expr       := and ('|' and)*                  OR, lowest precedence
//! and        := unary (',' unary)*              AND
//! unary      := '!' unary | '(' expr ')' | atom
//! atom       := NAMEGLOB [constraint] [archs]   curl, lib*-dev (>= 1.0) {amd64}
//!             | FIELD '(' field-cond ')'        Priority (required), Section (% *libs)
//! constraint := '(' OP VERSION ')'              OP: << <= = >= >> (< and > mean <= and >=)
//! archs      := '{' ARCH (',' ARCH)* '}'
//! field-cond := '=' VALUE | '%' GLOB | OP VERSION | VALUE
//! ```
//!
//! A field name starts with an uppercase letter or `$`; `$` is stripped and
//! `Name` means `Package`. Field values are compared against the trimmed
//! field value, case-sensitively, either exactly or as a glob over the whole
//! value. Comparison operators compare in dpkg order; on the `Version` field
//! `=` is dpkg equality too, elsewhere it is exact string equality. A value
//! may be double-quoted (`\"` and `\\` escape) when it contains parentheses.
//!
//! Globs support `*`, `?`, `[abc]`, `[a-z]` and `[!x]`; they are matched by
//! the small matcher in [`super::glob`] (no regex or glob crate). The
//! recursive-descent parser is in `parse.rs`; this file holds the tree, its
//! evaluation and its display (which parses back to the same tree).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

mod parse;

use super::Candidate;
pub use super::glob::Glob;
use crate::debian::version::{Version, VersionError};
use crate::exit::{ExitCode, USAGE};

/// Why a filter expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The expression was empty or only whitespace.
    #[error("filter is empty")]
    Empty,
    /// The expression is malformed at the given (1-based) position.
    #[error("filter `{filter}` at {}: {message}", location(.line, .column))]
    Syntax {
        /// The whole expression as given.
        filter: String,
        /// 1-based line of the offending token.
        line: usize,
        /// 1-based column (in characters) of the offending token.
        column: usize,
        /// What was expected or found.
        message: String,
    },
    /// A version literal in a constraint or field condition is not a valid
    /// Debian version.
    #[error("filter `{filter}` at {}: invalid version `{version}`", location(.line, .column))]
    Version {
        /// The whole expression as given.
        filter: String,
        /// 1-based line of the version.
        line: usize,
        /// 1-based column (in characters) of the version.
        column: usize,
        /// The rejected version text.
        version: String,
        /// Why it was rejected.
        #[source]
        source: VersionError,
    },
}

impl ExitCode for FilterError {
    fn exit_code(&self) -> u8 {
        USAGE
    }
}

fn location(line: &usize, column: &usize) -> String {
    if *line > 1 {
        format!("line {line}, column {column}")
    } else {
        format!("column {column}")
    }
}

/// A parsed package filter.
///
/// `Display` prints a canonical form that parses back to an equal filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    root: Node,
}

impl Filter {
    /// Parse a filter expression. Empty input is an error; use
    /// [`Filter::match_all`] for "no filter".
    pub fn parse(s: &str) -> Result<Filter, FilterError> {
        if s.trim().is_empty() {
            return Err(FilterError::Empty);
        }
        Ok(Filter {
            root: parse::whole(s)?,
        })
    }

    /// A filter that selects every package (`*`).
    pub fn match_all() -> Filter {
        Filter { root: Node::All }
    }

    /// Whether this filter selects every package unconditionally.
    pub fn is_match_all(&self) -> bool {
        matches!(self.root, Node::All)
    }

    /// Whether the package satisfies the filter.
    pub fn matches<C: Candidate>(&self, c: &C) -> bool {
        self.root.matches(c)
    }

    /// Plain package names (no globs) the filter can select, in order of
    /// first appearance, deduplicated. Names under `!` are not included.
    /// Used to report allowlisted names that matched nothing.
    pub fn named_packages(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.root.collect_names(&mut out);
        out
    }

    /// The control fields the filter reads through [`Candidate::field`]
    /// (not `Package`, `Architecture` or `Version`, which come from the
    /// candidate's identity), deduplicated. A caller that keeps only some
    /// fields of each package must keep these.
    pub fn field_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.root.collect_fields(&mut out);
        out
    }
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Filter, FilterError> {
        Filter::parse(s)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt_prec(f, Prec::Or)
    }
}

// ---------------------------------------------------------------------------
// Syntax tree

#[derive(Debug, Clone, PartialEq)]
enum Node {
    All,
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Package(PackageAtom),
    Field(FieldAtom),
}

#[derive(Debug, Clone, PartialEq)]
struct PackageAtom {
    name: Glob,
    constraint: Option<(Op, VersionArg)>,
    archs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct FieldAtom {
    /// Canonical field name (`$` stripped, `Name` → `Package`).
    field: String,
    cond: FieldCond,
}

#[derive(Debug, Clone, PartialEq)]
enum FieldCond {
    Exact(String),
    Glob(Glob),
    Version(Op, VersionArg),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<<",
            Op::Le => "<=",
            Op::Eq => "=",
            Op::Ge => ">=",
            Op::Gt => ">>",
        }
    }

    fn accepts(self, ord: Ordering) -> bool {
        match self {
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Eq => ord == Ordering::Equal,
            Op::Ge => ord != Ordering::Less,
            Op::Gt => ord == Ordering::Greater,
        }
    }
}

/// A version literal from the filter: compared in dpkg order when matching,
/// compared by its text for filter equality.
#[derive(Clone)]
struct VersionArg {
    text: String,
    version: Version,
}

impl fmt::Debug for VersionArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VersionArg").field(&self.text).finish()
    }
}

impl PartialEq for VersionArg {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

fn is_version_field(field: &str) -> bool {
    field.eq_ignore_ascii_case("Version")
}

/// Field value as the filter sees it; `Package`, `Architecture` and
/// `Version` come from the candidate's parsed identity.
fn field_value<'c, C: Candidate>(c: &'c C, field: &str) -> Option<&'c str> {
    if field.eq_ignore_ascii_case("Package") {
        Some(c.name())
    } else if field.eq_ignore_ascii_case("Architecture") {
        Some(c.architecture())
    } else if is_version_field(field) {
        Some(c.version().as_str())
    } else {
        c.field(field).map(str::trim)
    }
}

impl Node {
    fn or(mut items: Vec<Node>) -> Node {
        if items.len() == 1 {
            return items.remove(0);
        }
        let mut flat = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Node::Or(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        Node::Or(flat)
    }

    fn and(mut items: Vec<Node>) -> Node {
        if items.len() == 1 {
            return items.remove(0);
        }
        let mut flat = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Node::And(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        Node::And(flat)
    }

    fn matches<C: Candidate>(&self, c: &C) -> bool {
        match self {
            Node::All => true,
            Node::Or(items) => items.iter().any(|n| n.matches(c)),
            Node::And(items) => items.iter().all(|n| n.matches(c)),
            Node::Not(inner) => !inner.matches(c),
            Node::Package(atom) => {
                atom.name.matches(c.name())
                    && atom
                        .constraint
                        .as_ref()
                        .is_none_or(|(op, v)| op.accepts(c.version().cmp(&v.version)))
                    && (atom.archs.is_empty() || atom.archs.iter().any(|a| a == c.architecture()))
            }
            Node::Field(atom) => match &atom.cond {
                FieldCond::Exact(want) => field_value(c, &atom.field) == Some(want.as_str()),
                FieldCond::Glob(glob) => {
                    field_value(c, &atom.field).is_some_and(|v| glob.matches(v))
                }
                FieldCond::Version(op, want) => {
                    if is_version_field(&atom.field) {
                        op.accepts(c.version().cmp(&want.version))
                    } else {
                        field_value(c, &atom.field)
                            .and_then(|v| Version::parse(v).ok())
                            .is_some_and(|v| op.accepts(v.cmp(&want.version)))
                    }
                }
            },
        }
    }

    fn collect_fields(&self, out: &mut Vec<String>) {
        match self {
            Node::All | Node::Package(_) => {}
            Node::Not(item) => item.collect_fields(out),
            Node::Or(items) | Node::And(items) => {
                for item in items {
                    item.collect_fields(out);
                }
            }
            Node::Field(atom) => {
                let own = ["Package", "Architecture"]
                    .iter()
                    .any(|f| atom.field.eq_ignore_ascii_case(f))
                    || is_version_field(&atom.field);
                if !own && !out.iter().any(|n| n.eq_ignore_ascii_case(&atom.field)) {
                    out.push(atom.field.clone());
                }
            }
        }
    }

    fn collect_names(&self, out: &mut Vec<String>) {
        let mut push = |name: &str| {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        };
        match self {
            Node::All | Node::Not(_) => {}
            Node::Or(items) | Node::And(items) => {
                for item in items {
                    item.collect_names(out);
                }
            }
            Node::Package(atom) => {
                if let Some(name) = atom.name.literal() {
                    push(name);
                }
            }
            Node::Field(atom) => {
                if atom.field.eq_ignore_ascii_case("Package") {
                    match &atom.cond {
                        FieldCond::Exact(name) => push(name),
                        FieldCond::Glob(glob) => {
                            if let Some(name) = glob.literal() {
                                push(name);
                            }
                        }
                        FieldCond::Version(..) => {}
                    }
                }
            }
        }
    }

    fn fmt_prec(&self, f: &mut fmt::Formatter<'_>, ctx: Prec) -> fmt::Result {
        let own = match self {
            Node::Or(_) => Prec::Or,
            Node::And(_) => Prec::And,
            _ => Prec::Unary,
        };
        let paren = own < ctx;
        if paren {
            f.write_str("(")?;
        }
        match self {
            Node::All => f.write_str("*")?,
            Node::Or(items) => fmt_list(f, items, " | ", Prec::And)?,
            Node::And(items) => fmt_list(f, items, ", ", Prec::Unary)?,
            Node::Not(inner) => {
                f.write_str("!")?;
                inner.fmt_prec(f, Prec::Unary)?;
            }
            Node::Package(atom) => {
                f.write_str(&atom.name.text)?;
                if let Some((op, v)) = &atom.constraint {
                    write!(f, " ({} {})", op.as_str(), v.text)?;
                }
                if !atom.archs.is_empty() {
                    write!(f, " {{{}}}", atom.archs.join(", "))?;
                }
            }
            Node::Field(atom) => {
                // A field name not starting with an uppercase letter was
                // written with `$`, and must be again to parse as a field.
                if !atom.field.starts_with(|c: char| c.is_ascii_uppercase()) {
                    f.write_str("$")?;
                }
                write!(f, "{} (", atom.field)?;
                match &atom.cond {
                    // An empty value is only accepted after `=`.
                    FieldCond::Exact(v) if v.is_empty() => f.write_str("= \"\"")?,
                    FieldCond::Exact(v) => write_value(f, v)?,
                    FieldCond::Glob(g) => {
                        f.write_str("% ")?;
                        write_value(f, &g.text)?;
                    }
                    FieldCond::Version(op, v) => write!(f, "{} {}", op.as_str(), v.text)?,
                }
                f.write_str(")")?;
            }
        }
        if paren {
            f.write_str(")")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Or,
    And,
    Unary,
}

fn fmt_list(f: &mut fmt::Formatter<'_>, items: &[Node], sep: &str, ctx: Prec) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        item.fmt_prec(f, ctx)?;
    }
    Ok(())
}

/// Write a field value, quoting it when the bare form would not parse back.
fn write_value(f: &mut fmt::Formatter<'_>, v: &str) -> fmt::Result {
    let needs_quotes = v.is_empty()
        || v.trim() != v
        || v.starts_with(['%', '=', '<', '>', '"'])
        || v.contains(['(', ')', '"', '\\']);
    if !needs_quotes {
        return f.write_str(v);
    }
    f.write_str("\"")?;
    for c in v.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::testing::{TestPackage, parse_stanzas};

    fn pkgs() -> Vec<TestPackage> {
        parse_stanzas(
            "Package: curl\nVersion: 7.88.1-10\nArchitecture: amd64\nPriority: optional\nSection: web\n\n\
             Package: libcurl4-dev\nVersion: 7.88.1-10\nArchitecture: amd64\nPriority: optional\nSection: libdevel\n\n\
             Package: libssl-dev\nVersion: 3.0.11-1\nArchitecture: arm64\nPriority: optional\nSection: libdevel\n\n\
             Package: python3.11\nVersion: 3.11.2-6\nArchitecture: amd64\nPriority: optional\nSection: python\n\n\
             Package: python3.9\nVersion: 3.9.2-1\nArchitecture: amd64\nPriority: optional\nSection: python\n\n\
             Package: base-files\nVersion: 12.4\nArchitecture: amd64\nPriority: required\nSection: admin\n\
             Description: Debian base system (misc)\n files\n\n\
             Package: git\nVersion: 1:2.39.2-1\nArchitecture: amd64\nPriority: optional\nSection: vcs\n\n\
             Package: tzdata\nVersion: 2024a-0\nArchitecture: all\nPriority: required\nSection: localization\n",
        )
    }

    fn select(filter: &str) -> Vec<String> {
        let f = Filter::parse(filter).expect("filter parses");
        pkgs()
            .iter()
            .filter(|p| f.matches(*p))
            .map(|p| p.name.clone())
            .collect()
    }

    fn err(filter: &str) -> String {
        Filter::parse(filter)
            .expect_err("filter must fail")
            .to_string()
    }

    #[test]
    fn plain_names_and_globs() {
        assert_eq!(select("curl"), ["curl"]);
        assert_eq!(select("lib*-dev"), ["libcurl4-dev", "libssl-dev"]);
        assert_eq!(select("python3.1?"), ["python3.11"]);
        assert_eq!(select("python3.[0-9]"), ["python3.9"]);
        assert_eq!(select("python3.[!9]*"), ["python3.11"]);
        assert_eq!(select("[gt]*"), ["git", "tzdata"]);
        assert_eq!(select("*"), select("Package (% *)"));
        assert_eq!(select("c*l"), ["curl"]);
        assert!(select("cur").is_empty());
    }

    #[test]
    fn glob_matcher_edges() {
        let g = |p: &str| Glob::new(p).expect("glob compiles");
        assert!(g("*").matches(""));
        assert!(g("a*b*c").matches("aXbYbZc"));
        assert!(!g("a*b*c").matches("aXbYbZ"));
        assert!(g("**x").matches("yyx"));
        assert!(g("[]]").matches("]"));
        assert!(g("[!]]").matches("a"));
        assert!(g("[a-]").matches("-"));
        assert!(g("é?").matches("éü"));
        assert!(!g("?").matches(""));
        assert!(Glob::new("[z-a]").is_err());
        assert!(Glob::new("[ab").is_err());
    }

    #[test]
    fn version_constraints() {
        assert_eq!(select("curl (>= 7.88)"), ["curl"]);
        assert!(select("curl (>> 7.88.1-10)").is_empty());
        assert_eq!(select("curl (= 7.88.1-10)"), ["curl"]);
        assert_eq!(select("curl (<< 8)"), ["curl"]);
        assert_eq!(select("git (>= 2.50)"), ["git"], "epoch 1 sorts above");
        assert_eq!(
            select("python* (< 3.9.2-1)"),
            ["python3.9"],
            "`<` means `<=`"
        );
        assert_eq!(select("python* (> 3.9.2-1)"), ["python3.11", "python3.9"]);
        assert_eq!(select("lib*-dev {arm64}"), ["libssl-dev"]);
        assert_eq!(
            select("lib*-dev (>= 1) {amd64, arm64}"),
            ["libcurl4-dev", "libssl-dev"]
        );
    }

    #[test]
    fn negation_and_precedence() {
        assert_eq!(select("lib*, !libssl*"), ["libcurl4-dev"]);
        assert_eq!(select("!!curl"), ["curl"]);
        // `a | b, c` = `a | (b, c)`
        let f = Filter::parse("curl | lib*, !libssl-dev").expect("parses");
        assert_eq!(
            f,
            Filter::parse("curl | (lib*, !libssl-dev)").expect("parses")
        );
        assert_ne!(
            f,
            Filter::parse("(curl | lib*), !libssl-dev").expect("parses")
        );
        assert_eq!(select("curl | lib*, !libssl-dev"), ["curl", "libcurl4-dev"]);
        assert_eq!(select("(curl | git), Priority (optional)"), ["curl", "git"]);
        assert_eq!(
            select("!(curl | git | lib* | python*)"),
            ["base-files", "tzdata"]
        );
        assert_eq!(select("(\n  curl\n  |\n  git\n)"), ["curl", "git"]);
    }

    #[test]
    fn field_matches() {
        assert_eq!(select("Priority (required)"), ["base-files", "tzdata"]);
        assert_eq!(select("Priority (= required)"), ["base-files", "tzdata"]);
        assert!(select("Priority (Required)").is_empty(), "case-sensitive");
        assert_eq!(select("Section (% lib*)"), ["libcurl4-dev", "libssl-dev"]);
        assert_eq!(select("$Architecture (all)"), ["tzdata"]);
        assert_eq!(select("Architecture (arm64)"), ["libssl-dev"]);
        assert_eq!(
            select("Name (% python*), Version (>= 3.10)"),
            ["python3.11"]
        );
        assert_eq!(select("$Name (git)"), ["git"]);
        assert_eq!(
            select("$Version (= 2024a)"),
            ["tzdata"],
            "dpkg `=`: -0 revision"
        );
        assert_eq!(
            select("Version (2024a-0)"),
            ["tzdata"],
            "bare value is exact"
        );
        assert!(select("Version (2024a)").is_empty());
        assert_eq!(select("Version (% 7.*)"), ["curl", "libcurl4-dev"]);
        assert_eq!(select("Description (% *(misc)*)"), ["base-files"]);
        assert_eq!(
            select("Description (\"Debian base system (misc)\n files\")"),
            ["base-files"]
        );
        assert!(select("Missing-Field (% *)").is_empty());
    }

    #[test]
    fn parse_errors_name_the_column() {
        assert_eq!(
            err("curl (>=)"),
            "filter `curl (>=)` at column 7: expected a version after `>=`"
        );
        assert_eq!(
            err("curl (7.0)"),
            "filter `curl (7.0)` at column 7: expected a version operator \
             (`<<`, `<=`, `=`, `>=`, `>>`) in the constraint on `curl`"
        );
        assert_eq!(
            err("curl git"),
            "filter `curl git` at column 6: unexpected `g`, expected `,`, `|` or the end of the filter"
        );
        assert_eq!(
            err("(curl | git"),
            "filter `(curl | git` at column 12: expected `)` to close the `(` at column 1"
        );
        assert_eq!(
            err("curl,\n  lib[a"),
            "filter `curl,\n  lib[a` at line 2, column 6: unclosed `[` in glob"
        );
        assert_eq!(
            err("curl |"),
            "filter `curl |` at column 7: expected a package name, a field or `(` at the end of the filter"
        );
        assert_eq!(
            err("Priority required"),
            "filter `Priority required` at column 10: expected `(` after field `Priority` \
             (package names are lowercase)"
        );
        assert_eq!(
            err("Priority (required"),
            "filter `Priority (required` at column 10: expected `)` to close field `Priority`"
        );
        assert!(err("curl {amd64").contains("column 12: expected `,` or `}`"));
        assert!(err("curl (>= 1.0").contains("expected `)` after version `1.0`"));
        assert!(err("Version (>= )").contains("column 10: expected a version after `>=`"));
        assert_eq!(
            err("curl (>= !x)"),
            "filter `curl (>= !x)` at column 10: invalid version `!x`"
        );
        let e = Filter::parse("Version (<< 1:)").expect_err("bad version");
        assert!(
            matches!(e, FilterError::Version { column: 13, .. }),
            "{e:?}"
        );
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(err("  \n "), "filter is empty");
        assert_eq!(Filter::parse(""), Err(FilterError::Empty));
        assert!(err("curl, ").contains("column 7: expected a package name"));
        assert!(err("curl & git").contains("unexpected `&`"));
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!(
            "{}a{}",
            "(".repeat(parse::MAX_DEPTH),
            ")".repeat(parse::MAX_DEPTH)
        );
        assert!(Filter::parse(&ok).is_ok());
        let deep = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
        let err = Filter::parse(&deep).expect_err("too deep").to_string();
        assert!(err.contains("more than 64 nested"), "{err}");
        let nots = format!("{}a", "!".repeat(100_000));
        assert!(Filter::parse(&nots).is_err());
    }

    #[test]
    fn display_is_canonical_and_reparses() {
        for (input, canonical) in [
            ("curl", "curl"),
            ("curl(>=7.88){amd64,arm64}", "curl (>= 7.88) {amd64, arm64}"),
            ("a | b, c", "a | b, c"),
            ("(a | b), c", "(a | b), c"),
            ("a | (b | c)", "a | b | c"),
            ("!(a, b)", "!(a, b)"),
            ("!a", "!a"),
            ("curl (< 1)", "curl (<= 1)"),
            ("$Architecture(amd64)", "Architecture (amd64)"),
            ("Name (% lib*)", "Package (% lib*)"),
            ("Priority (= required)", "Priority (required)"),
            ("Description (% *(misc)*)", "Description (% \"*(misc)*\")"),
            ("Version (= 1.0)", "Version (= 1.0)"),
            ("Version ( 1.0 )", "Version (1.0)"),
            ("Section (\"=odd\")", "Section (\"=odd\")"),
            ("*", "*"),
            ("(((git)))", "git"),
            // Found by fuzzing: a lowercase field name keeps its `$`, an
            // empty value its `=`.
            ("citeS,$hitecturu (amd64)", "citeS, $hitecturu (amd64)"),
            ("Mr(=)", "Mr (= \"\")"),
        ] {
            let f = Filter::parse(input).expect("parses");
            assert_eq!(f.to_string(), canonical, "display of {input:?}");
            assert_eq!(Filter::parse(&f.to_string()), Ok(f), "reparse of {input:?}");
        }
        assert_eq!(Filter::match_all().to_string(), "*");
        assert_eq!(Filter::parse("*"), Ok(Filter::match_all()));
        assert!(Filter::parse("*").expect("parses").is_match_all());
        assert!(!Filter::parse("* {amd64}").expect("parses").is_match_all());
        assert!(Filter::parse("curl").expect("parses") == "curl".parse().expect("parses"));
    }

    #[test]
    fn field_names_lists_what_the_filter_reads() {
        let f: Filter = "curl | !Priority (required), (Section (net) | $Version (>= 1)), Name (x*)"
            .parse()
            .expect("parses");
        assert_eq!(f.field_names(), ["Priority", "Section"]);
        assert!(Filter::match_all().field_names().is_empty());
    }

    #[test]
    fn named_packages_lists_plain_names() {
        let f =
            Filter::parse("curl | lib*-dev | git (>= 2), !vim | Name (jq) | curl").expect("parses");
        assert_eq!(f.named_packages(), ["curl", "git", "jq"]);
        assert!(Filter::match_all().named_packages().is_empty());
    }
}
