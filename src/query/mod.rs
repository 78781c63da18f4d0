//! Package selection: which packages of an index a mirror keeps.
//!
//! A mirror is configured with a [`filter::Filter`] expression and,
//! optionally, asked to pull in the dependency closure of what the filter
//! selects ([`closure::select`]). Both work on the small [`Candidate`]
//! trait rather than on [`BinaryPackage`] directly, so they can be tested
//! with lightweight fixtures and reused for other package kinds.

pub mod closure;
pub mod filter;
pub mod glob;
pub mod installable;
pub mod sources;
pub mod udebs;

pub use closure::{ClosureOptions, LeftOut, Selection, Unresolved, select, select_roots};
pub use filter::{Filter, FilterError, Glob};
pub use sources::follow_sources;

use crate::debian::packages::BinaryPackage;
use crate::debian::version::Version;

/// What the filter and the closure need to know about a package.
pub trait Candidate {
    /// The `Package` name.
    fn name(&self) -> &str;
    /// The parsed `Version`.
    fn version(&self) -> &Version;
    /// The `Architecture` (`amd64`, `all`, …).
    fn architecture(&self) -> &str;
    /// Any other control field by name (`Depends`, `Provides`, `Priority`, …).
    fn field(&self, name: &str) -> Option<&str>;
}

impl Candidate for BinaryPackage {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> &Version {
        &self.version
    }

    fn architecture(&self) -> &str {
        &self.architecture
    }

    fn field(&self, name: &str) -> Option<&str> {
        BinaryPackage::field(self, name)
    }
}

/// The virtual names `p` provides, each with the version of its `(= V)`
/// constraint (the only one Provides allows). A malformed `Provides` only
/// loses the virtual names; the package stays resolvable by its own name.
pub(crate) fn provided_names<C: Candidate>(p: &C) -> Vec<(String, Option<Version>)> {
    let Some(Ok(deps)) = p
        .field("Provides")
        .map(crate::debian::relation::parse_relations)
    else {
        return Vec::new();
    };
    deps.into_iter()
        .flat_map(|d| d.alternatives)
        .map(|rel| {
            let version = rel
                .constraint
                .filter(|c| c.op == crate::debian::relation::VersionOp::Eq)
                .map(|c| c.version);
            (rel.name, version)
        })
        .collect()
}

/// Lightweight [`Candidate`] fixtures built from stanza-like text.
#[cfg(test)]
pub(crate) mod testing {
    use super::Candidate;
    use crate::debian::version::Version;

    /// A package built from `Field: value` lines.
    #[derive(Debug, Clone)]
    pub(crate) struct TestPackage {
        pub(crate) name: String,
        pub(crate) version: Version,
        pub(crate) arch: String,
        pub(crate) fields: Vec<(String, String)>,
    }

    impl TestPackage {
        /// Parse one stanza; continuation lines (leading space) are joined
        /// with `\n`. Panics on malformed fixtures.
        pub(crate) fn from_stanza(text: &str) -> TestPackage {
            let mut fields: Vec<(String, String)> = Vec::new();
            for line in text.lines() {
                if line.starts_with([' ', '\t']) {
                    let last = fields.last_mut().expect("continuation after a field");
                    last.1.push('\n');
                    last.1.push_str(line);
                } else if !line.trim().is_empty() {
                    let (k, v) = line.split_once(':').expect("`Field: value` line");
                    fields.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let get = |k: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.clone())
            };
            let name = get("Package").expect("Package field");
            let version = Version::parse(&get("Version").unwrap_or_else(|| "1.0".into()))
                .expect("valid version");
            let arch = get("Architecture").unwrap_or_else(|| "amd64".into());
            TestPackage {
                name,
                version,
                arch,
                fields,
            }
        }
    }

    /// Parse blank-line-separated stanzas.
    pub(crate) fn parse_stanzas(text: &str) -> Vec<TestPackage> {
        let mut out = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            if line.trim().is_empty() {
                if !current.trim().is_empty() {
                    out.push(TestPackage::from_stanza(&current));
                }
                current.clear();
            } else {
                current.push_str(line);
                current.push('\n');
            }
        }
        if !current.trim().is_empty() {
            out.push(TestPackage::from_stanza(&current));
        }
        out
    }

    impl Candidate for TestPackage {
        fn name(&self) -> &str {
            &self.name
        }

        fn version(&self) -> &Version {
            &self.version
        }

        fn architecture(&self) -> &str {
            &self.arch
        }

        fn field(&self, name: &str) -> Option<&str> {
            self.fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }
}
