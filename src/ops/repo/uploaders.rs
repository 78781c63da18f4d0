//! Uploaders rules: which keys may `repo include` which packages.
//!
//! The file has the shape of aptly's `uploaders.json` (keys matched
//! case-insensitively, `//` comments and trailing commas allowed):
//!
//! ```text
//! {
//!   "Groups": { "team": ["<fingerprint>", "<16-hex key id>"], "all": ["team", "<fpr>"] },
//!   "Rules": [
//!     { "Condition": "linux-*", "Deny": ["*"] },
//!     { "Condition": "hello | Source (hello)", "Allow": ["team"] }
//!   ]
//! }
//! ```
//!
//! A `Condition` is a package filter (the language of `snapshot filter`),
//! evaluated against each package of the upload (its own control fields,
//! then the `.changes` fields such as `Distribution`). Rules are tried
//! first to last; the first whose condition matches decides: a signer in
//! `Deny` refuses, else a signer in `Allow` accepts, else it refuses. A
//! package no rule matches is refused. Keys are OpenPGP fingerprints or
//! 16-hex key ids (short 8-hex ids are refused: they collide), `*` (any
//! key of the repo's uploaders keyring) or a group name; every key named
//! must be in the keyring given with the rules, which is stored with them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::db::StoredUploaders;
use crate::exit::{ExitCode, USAGE};
use crate::pgp::{Keyring, PgpError};
use crate::query::{Candidate, Filter, FilterError};

/// Largest uploaders file read.
pub const MAX_RULES: u64 = 1 << 20;

/// Why uploaders rules were refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadersError {
    /// The file is not JSON of the expected shape.
    #[error("`{origin}` is not an uploaders file (aptly's `uploaders.json` shape)")]
    Json {
        /// The file.
        origin: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A key that is neither a fingerprint, a 16-hex key id, `*` nor a group.
    #[error(
        "`{origin}`: `{key}` is not a group, `*`, an OpenPGP fingerprint or a 16-hex key id (short 8-hex ids are refused)"
    )]
    BadKey {
        /// The file.
        origin: String,
        /// The key as written.
        key: String,
    },
    /// A group that contains itself.
    #[error("`{origin}`: group `{group}` contains itself")]
    GroupCycle {
        /// The file.
        origin: String,
        /// The group.
        group: String,
    },
    /// A rule's condition does not parse.
    #[error("`{origin}`: rule {rule} has an invalid Condition")]
    Condition {
        /// The file.
        origin: String,
        /// 1-based rule number.
        rule: usize,
        /// Why.
        #[source]
        source: Box<FilterError>,
    },
    /// A rule with neither Allow nor Deny.
    #[error("`{origin}`: rule {rule} has neither Allow nor Deny")]
    EmptyRule {
        /// The file.
        origin: String,
        /// 1-based rule number.
        rule: usize,
    },
    /// A key the rules name that the keyring does not hold.
    #[error("`{origin}` names key `{key}`, which the uploaders keyring does not hold")]
    NotInKeyring {
        /// The file.
        origin: String,
        /// The key.
        key: String,
    },
    /// A file could not be read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The keyring could not be read.
    #[error("cannot use the uploaders keyring")]
    Keyring(#[source] PgpError),
}

impl ExitCode for UploadersError {
    fn exit_code(&self) -> u8 {
        match self {
            UploadersError::Keyring(e) => e.exit_code(),
            UploadersError::Read { source, .. } if !crate::capped::is_too_large(source) => {
                crate::exit::FAILURE
            }
            _ => USAGE,
        }
    }
}

/// The file as written.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadersFile {
    #[serde(rename = "Groups", alias = "groups", default)]
    groups: BTreeMap<String, Vec<String>>,
    #[serde(rename = "Rules", alias = "rules", default)]
    rules: Vec<RuleFile>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(rename = "Condition", alias = "condition")]
    condition: String,
    #[serde(rename = "Allow", alias = "allow", default)]
    allow: Vec<String>,
    #[serde(rename = "Deny", alias = "deny", default)]
    deny: Vec<String>,
}

/// A key a rule names, groups expanded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum KeyPattern {
    /// `*`.
    Any,
    /// Uppercase hex: a fingerprint or a 16-hex key id (its last 16 digits).
    Key(String),
}

impl KeyPattern {
    fn matches(&self, signer: &Signer) -> bool {
        match self {
            KeyPattern::Any => true,
            KeyPattern::Key(k) => [&signer.key, &signer.cert].iter().any(|fp| fp.ends_with(k)),
        }
    }

    fn in_keyring(&self, fingerprints: &[String]) -> bool {
        match self {
            KeyPattern::Any => true,
            KeyPattern::Key(k) => fingerprints.iter().any(|fp| fp.ends_with(k.as_str())),
        }
    }
}

#[derive(Clone)]
struct Rule {
    condition: Filter,
    allow: Vec<KeyPattern>,
    deny: Vec<KeyPattern>,
}

/// A key that made a good signature: the signing key's fingerprint and
/// its certificate's (primary key) fingerprint, uppercase hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signer {
    /// The key that signed (a subkey, usually).
    pub key: String,
    /// The certificate it belongs to.
    pub cert: String,
}

/// Checked uploaders rules with the keyring they name keys of.
#[derive(Clone)]
pub struct Uploaders {
    rules: Vec<Rule>,
    keyring: Keyring,
    /// The rules as normalized JSON (what is stored).
    json: String,
}

impl std::fmt::Debug for Uploaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploaders")
            .field("rules", &self.rules.len())
            .field("keyring", &self.keyring)
            .finish()
    }
}

/// A repo's uploaders as `repo show` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UploadersSummary {
    /// Number of rules.
    pub rules: usize,
    /// Primary fingerprints of the keys of the uploaders keyring.
    pub keys: Vec<String>,
}

/// How the rules decided on one package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Rule `n` (1-based) allows a signer.
    Allowed(usize),
    /// Rule `n` denies a signer.
    Denied(usize),
    /// Rule `n` matched, but neither list names a signer.
    NotAllowed(usize),
    /// No rule's condition matches the package.
    NoRule,
}

impl Decision {
    /// Why a refused package was refused, for the error message.
    pub fn explain(&self) -> String {
        match self {
            Decision::Allowed(n) => format!("rule {n} allows it"),
            Decision::Denied(n) => format!("rule {n} denies its signer"),
            Decision::NotAllowed(n) => format!("rule {n} does not allow its signer"),
            Decision::NoRule => "no rule's condition matches it".to_owned(),
        }
    }
}

impl Uploaders {
    /// Parses and checks the rules `text` (from `origin`) against the
    /// public keys of `keyring` (binary or armored certificates).
    pub fn parse(
        text: &str,
        origin: &str,
        keyring: &[u8],
        keyring_origin: &str,
    ) -> Result<Uploaders, UploadersError> {
        let keyring =
            Keyring::from_bytes(keyring, keyring_origin).map_err(UploadersError::Keyring)?;
        let file: UploadersFile =
            serde_json::from_str(&relax(text)).map_err(|source| UploadersError::Json {
                origin: origin.to_owned(),
                source,
            })?;
        let fingerprints = keyring.key_fingerprints();
        let mut rules = Vec::with_capacity(file.rules.len());
        for (i, r) in file.rules.iter().enumerate() {
            let condition =
                Filter::parse(&r.condition).map_err(|source| UploadersError::Condition {
                    origin: origin.to_owned(),
                    rule: i + 1,
                    source: Box::new(source),
                })?;
            if r.allow.is_empty() && r.deny.is_empty() {
                return Err(UploadersError::EmptyRule {
                    origin: origin.to_owned(),
                    rule: i + 1,
                });
            }
            let allow = expand(&file.groups, &r.allow, origin)?;
            let deny = expand(&file.groups, &r.deny, origin)?;
            for k in allow.iter().chain(&deny) {
                if !k.in_keyring(&fingerprints) {
                    let KeyPattern::Key(key) = k else { continue };
                    return Err(UploadersError::NotInKeyring {
                        origin: origin.to_owned(),
                        key: key.clone(),
                    });
                }
            }
            rules.push(Rule {
                condition,
                allow,
                deny,
            });
        }
        let json = serde_json::to_string(&file).map_err(|source| UploadersError::Json {
            origin: origin.to_owned(),
            source,
        })?;
        Ok(Uploaders {
            rules,
            keyring,
            json,
        })
    }

    /// Reads (bounded) and checks the rules file `rules` and the keyring
    /// file `keyring` whose public keys they may name.
    pub fn load(rules: &Path, keyring: &Path) -> Result<Uploaders, UploadersError> {
        let read = |path: &Path, limit| {
            crate::capped::read(path, limit).map_err(|source| UploadersError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        let text = read(rules, MAX_RULES)?;
        let text = String::from_utf8(text).map_err(|e| UploadersError::Read {
            path: rules.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        let keys = read(keyring, crate::capped::KEYRING)?;
        Uploaders::parse(
            &text,
            &rules.display().to_string(),
            &keys,
            &keyring.display().to_string(),
        )
    }

    /// Loads stored uploaders of repo `repo`.
    pub fn from_stored(repo: &str, stored: &StoredUploaders) -> Result<Uploaders, UploadersError> {
        Uploaders::parse(
            &stored.rules,
            &format!("uploaders of repo `{repo}`"),
            &stored.keyring,
            &format!("uploaders keyring of repo `{repo}`"),
        )
    }

    /// What the database stores: the normalized rules and the public keys.
    pub fn to_stored(&self) -> Result<StoredUploaders, UploadersError> {
        Ok(StoredUploaders {
            rules: self.json.clone(),
            keyring: self
                .keyring
                .export_binary()
                .map_err(UploadersError::Keyring)?,
        })
    }

    /// What `repo show` says about them.
    pub fn summary(&self) -> UploadersSummary {
        UploadersSummary {
            rules: self.rules.len(),
            keys: self.keyring.fingerprints(),
        }
    }

    /// The keyring signatures are checked against.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there is no rule (nothing can be uploaded).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// What the rules say about package `pkg` signed by `signers`.
    pub fn decide<C: Candidate>(&self, pkg: &C, signers: &[Signer]) -> Decision {
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.condition.matches(pkg) {
                continue;
            }
            let named =
                |list: &[KeyPattern]| list.iter().any(|k| signers.iter().any(|s| k.matches(s)));
            return if named(&rule.deny) {
                Decision::Denied(i + 1)
            } else if named(&rule.allow) {
                Decision::Allowed(i + 1)
            } else {
                Decision::NotAllowed(i + 1)
            };
        }
        Decision::NoRule
    }
}

/// The keys `names` stand for: groups expanded (recursively), keys
/// normalized to uppercase hex.
fn expand(
    groups: &BTreeMap<String, Vec<String>>,
    names: &[String],
    origin: &str,
) -> Result<Vec<KeyPattern>, UploadersError> {
    fn walk(
        groups: &BTreeMap<String, Vec<String>>,
        names: &[String],
        origin: &str,
        path: &mut Vec<String>,
        out: &mut BTreeSet<KeyPattern>,
    ) -> Result<(), UploadersError> {
        for name in names {
            if name == "*" {
                out.insert(KeyPattern::Any);
            } else if let Some(members) = groups.get(name) {
                if path.contains(name) {
                    return Err(UploadersError::GroupCycle {
                        origin: origin.to_owned(),
                        group: name.clone(),
                    });
                }
                path.push(name.clone());
                walk(groups, members, origin, path, out)?;
                path.pop();
            } else {
                out.insert(KeyPattern::Key(normalize_key(name).ok_or_else(|| {
                    UploadersError::BadKey {
                        origin: origin.to_owned(),
                        key: name.clone(),
                    }
                })?));
            }
        }
        Ok(())
    }
    let mut out = BTreeSet::new();
    walk(groups, names, origin, &mut Vec::new(), &mut out)?;
    Ok(out.into_iter().collect())
}

/// A fingerprint (40 or 64 hex digits) or long key id (16), spaces and a
/// `0x` prefix dropped, uppercased; `None` for anything else.
fn normalize_key(s: &str) -> Option<String> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(&s);
    let ok = matches!(s.len(), 16 | 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| s.to_ascii_uppercase())
}

/// `text` with `//` and `/* */` comments outside strings and commas
/// before a closing `}` or `]` removed: aptly's relaxed JSON, made strict.
fn relax(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_string = false;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(&n) = chars.get(i + 1) {
                    out.push(n);
                    i += 1;
                }
            } else if c == '"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match (c, chars.get(i + 1)) {
            ('"', _) => {
                in_string = true;
                out.push(c);
                i += 1;
            }
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 2;
                out.push(' ');
            }
            (',', _) => {
                // Dropped when only whitespace and comments precede a closer.
                let mut j = i + 1;
                loop {
                    while j < chars.len() && chars[j].is_whitespace() {
                        j += 1;
                    }
                    if chars.get(j) == Some(&'/') && chars.get(j + 1) == Some(&'/') {
                        while j < chars.len() && chars[j] != '\n' {
                            j += 1;
                        }
                        continue;
                    }
                    break;
                }
                if !matches!(chars.get(j), Some('}' | ']')) {
                    out.push(c);
                }
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_json_loses_comments_and_trailing_commas_only() {
        let t = "{ // c\n \"a\": [\"x//y\", \"z,]\",], /* b */ \"b\": 1,\n // end\n}";
        let v: serde_json::Value = serde_json::from_str(&relax(t)).unwrap();
        assert_eq!(v["a"][0], "x//y");
        assert_eq!(v["a"][1], "z,]");
        assert_eq!(v["b"], 1);
    }

    #[test]
    fn keys_are_fingerprints_or_long_ids() {
        assert_eq!(
            normalize_key("0x21dbb89c16db3e6d").as_deref(),
            Some("21DBB89C16DB3E6D")
        );
        assert!(normalize_key("ABCD 1234 ABCD 1234 ABCD  1234 ABCD 1234 ABCD 1234").is_some());
        assert_eq!(normalize_key("16DB3E6D"), None);
        assert_eq!(normalize_key("admins"), None);
    }

    #[test]
    fn groups_expand_and_cycles_are_refused() {
        let mut g = BTreeMap::new();
        g.insert("a".to_owned(), vec!["b".to_owned(), "*".to_owned()]);
        g.insert("b".to_owned(), vec!["21DBB89C16DB3E6D".to_owned()]);
        let keys = expand(&g, &["a".to_owned()], "u").unwrap();
        assert_eq!(
            keys,
            [KeyPattern::Any, KeyPattern::Key("21DBB89C16DB3E6D".into())]
        );
        g.insert("b".to_owned(), vec!["a".to_owned()]);
        assert!(matches!(
            expand(&g, &["a".to_owned()], "u"),
            Err(UploadersError::GroupCycle { .. })
        ));
        assert!(matches!(
            expand(&g, &["nobody".to_owned()], "u"),
            Err(UploadersError::BadKey { .. })
        ));
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let signer = Signer {
            key: "1111111111111111111111111111111111111111".into(),
            cert: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        };
        let key = |k: &str| KeyPattern::Key(k.into());
        let rule = |c: &str, allow: Vec<KeyPattern>, deny: Vec<KeyPattern>| Rule {
            condition: Filter::parse(c).unwrap(),
            allow,
            deny,
        };
        let u = Uploaders {
            rules: vec![
                rule("evil*", vec![KeyPattern::Any], vec![KeyPattern::Any]),
                rule("hello", vec![key("AAAAAAAAAAAAAAAA")], vec![]),
                rule("other", vec![key("BBBBBBBBBBBBBBBB")], vec![]),
            ],
            keyring: Keyring::default(),
            json: String::new(),
        };
        let pkg = |n: &str| {
            crate::query::testing::TestPackage::from_stanza(&format!("Package: {n}\nVersion: 1\n"))
        };
        let s = std::slice::from_ref(&signer);
        assert_eq!(u.decide(&pkg("hello"), s), Decision::Allowed(2));
        assert_eq!(u.decide(&pkg("evil-x"), s), Decision::Denied(1));
        assert_eq!(u.decide(&pkg("other"), s), Decision::NotAllowed(3));
        assert_eq!(u.decide(&pkg("nope"), s), Decision::NoRule);
        assert_eq!(u.decide(&pkg("hello"), &[]), Decision::NotAllowed(2));
    }
}
