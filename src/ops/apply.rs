//! `apply FILE`: make the mirrors match a reviewed, declarative scope file.
//!
//! The file names mirrors and, per mirror, the allowed packages (names or
//! globs, optionally pinned to versions), whether dependencies are followed
//! and whether syncs stage changes for review. The whole file is parsed and
//! validated before anything changes, so a half-written file changes
//! nothing. Mirrors the file does not name are reported and left alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Context;
use crate::db::{Db, DbError};
use crate::exit::{ExitCode, USAGE};
use crate::model::{MirrorSpec, MirrorUrl, Pin, native_architecture};
use crate::ops::mirror::{self, MirrorError, spec_changes, validate};

/// Why a scope file cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The file cannot be read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("`{path}` is invalid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// A declared mirror is invalid.
    #[error("`{path}`: mirror `{name}` is invalid")]
    Mirror {
        /// The file.
        path: PathBuf,
        /// Mirror.
        name: String,
        /// Cause.
        #[source]
        source: Box<MirrorError>,
    },
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ExitCode for ApplyError {
    fn exit_code(&self) -> u8 {
        match self {
            ApplyError::Db(e) => e.exit_code(),
            _ => USAGE,
        }
    }
}

/// The scope file.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ScopeFile {
    /// Mirrors by name.
    #[serde(default)]
    pub mirrors: BTreeMap<String, DeclaredMirror>,
}

/// One mirror as declared.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DeclaredMirror {
    /// Archive base URL.
    pub url: String,
    /// Suite.
    pub suite: String,
    /// Components (default: all the Release lists).
    #[serde(default)]
    pub components: Vec<String>,
    /// Architectures (default: the machine's).
    #[serde(default)]
    pub architectures: Vec<String>,
    /// Keyrings, relative to the file's directory.
    #[serde(default)]
    pub keyrings: Vec<PathBuf>,
    /// Allowed packages; absent means every package (or `filter`).
    #[serde(default)]
    pub packages: Option<Vec<Allowed>>,
    /// An extra filter expression every package must also match.
    #[serde(default)]
    pub filter: Option<String>,
    /// Follow Depends and Pre-Depends.
    #[serde(default)]
    pub with_deps: bool,
    /// Follow Recommends too.
    #[serde(default)]
    pub follow_recommends: bool,
    /// Pull in every alternative of `a | b`, not only the first.
    #[serde(default)]
    pub follow_all_alternatives: bool,
    /// Stage changes for review.
    #[serde(default)]
    pub review: bool,
    /// Mirror the source packages of the selected binaries too.
    #[serde(default)]
    pub with_sources: bool,
    /// Languages of the long descriptions to mirror (default `["en"]`; `[]`: none).
    #[serde(default = "crate::model::default_languages")]
    pub languages: Vec<String>,
    /// Mirror the AppStream metadata of the selected packages too.
    #[serde(default)]
    pub with_appstream: bool,
    /// The group of mirrors clients use together.
    #[serde(default)]
    pub group: Option<String>,
    /// Download package files on demand (when `serve` is first asked).
    #[serde(default)]
    pub on_demand: bool,
}

/// An allowlist entry: a name or glob, optionally pinned to versions.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Allowed {
    /// `"curl"`, `"lib*-dev"`.
    Name(String),
    /// `{ name = "openssl", versions = ["3.0.15-1"] }`.
    Pinned {
        /// Name or glob.
        name: String,
        /// Allowed versions (empty: any).
        #[serde(default)]
        versions: Vec<String>,
    },
}

/// What applying does to one mirror.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum MirrorChange {
    /// Created as declared.
    Create {
        /// Mirror.
        name: String,
    },
    /// Settings changed: `field: old → new` lines.
    Update {
        /// Mirror.
        name: String,
        /// What changes.
        changes: Vec<String>,
    },
    /// Already as declared.
    Unchanged {
        /// Mirror.
        name: String,
    },
    /// In the database but not in the file: left alone.
    Unmanaged {
        /// Mirror.
        name: String,
    },
}

/// The plan: one change per mirror, plus the declared specs.
#[derive(Clone, Debug, Serialize)]
pub struct ApplyPlan {
    /// The file.
    pub file: PathBuf,
    /// Changes by mirror name.
    pub changes: Vec<MirrorChange>,
    /// Pinned versions the last sync found missing upstream (kept while live), as `mirror: name version`.
    pub pins_missing: Vec<String>,
    #[serde(skip)]
    specs: BTreeMap<String, MirrorSpec>,
}

/// Reads and validates a scope file into mirror specs.
pub fn load(path: &Path) -> Result<BTreeMap<String, MirrorSpec>, ApplyError> {
    let text = crate::capped::read_to_string(path, crate::capped::SCOPE).map_err(|source| {
        ApplyError::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    let file: ScopeFile = toml::from_str(&text).map_err(|e| ApplyError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut out = BTreeMap::new();
    for (name, m) in file.mirrors {
        let spec = to_spec(&m, dir);
        validate(&name, &spec).map_err(|source| ApplyError::Mirror {
            path: path.to_owned(),
            name: name.clone(),
            source: Box::new(source),
        })?;
        out.insert(name, spec);
    }
    Ok(out)
}

fn to_spec(m: &DeclaredMirror, dir: &Path) -> MirrorSpec {
    let mut terms = Vec::new();
    let mut pins = Vec::new();
    for a in m.packages.iter().flatten() {
        match a {
            Allowed::Name(name) => terms.push(name.clone()),
            Allowed::Pinned { name, versions } if versions.is_empty() => terms.push(name.clone()),
            Allowed::Pinned { name, versions } => {
                for v in versions {
                    terms.push(format!("{name} (= {v})"));
                }
                pins.push(Pin {
                    name: name.clone(),
                    versions: versions.clone(),
                });
            }
        }
    }
    let allow = match (&m.packages, terms.is_empty()) {
        (Some(_), true) => Some("!*".to_owned()), // an empty allowlist allows nothing
        (Some(_), false) => Some(terms.join(" | ")),
        (None, _) => None,
    };
    let filter = match (allow, &m.filter) {
        (Some(a), Some(f)) => Some(format!("({a}), ({f})")),
        (Some(a), None) => Some(a),
        (None, f) => f.clone(),
    };
    MirrorSpec {
        url: MirrorUrl::new(m.url.clone()),
        suite: m.suite.clone(),
        components: m.components.clone(),
        architectures: if m.architectures.is_empty() {
            vec![native_architecture().to_owned()]
        } else {
            m.architectures.clone()
        },
        keyrings: m
            .keyrings
            .iter()
            .map(|k| {
                let p = dir.join(k);
                std::path::absolute(&p).unwrap_or(p)
            })
            .collect(),
        filter,
        with_deps: m.with_deps,
        follow_recommends: m.follow_recommends,
        follow_all_alternatives: m.follow_all_alternatives,
        allow_insecure: false,
        allow_sha1_keys: false,
        review: m.review,
        with_sources: m.with_sources,
        with_udebs: false,
        with_installer: false,
        group: m.group.clone(),
        pins,
        languages: m.languages.clone(),
        with_appstream: m.with_appstream,
        on_demand: m.on_demand,
    }
}

/// Compares the declared mirrors with the database.
pub fn plan(db: &Db, path: &Path) -> Result<ApplyPlan, ApplyError> {
    let specs = load(path)?;
    let existing = db.mirrors()?;
    let mut changes = Vec::new();
    let mut pins_missing = Vec::new();
    for (name, spec) in &specs {
        match existing.iter().find(|m| &m.name == name) {
            None => changes.push(MirrorChange::Create { name: name.clone() }),
            Some(m) if m.spec == *spec => {
                changes.push(MirrorChange::Unchanged { name: name.clone() })
            }
            Some(m) => changes.push(MirrorChange::Update {
                name: name.clone(),
                changes: spec_changes(&m.spec, spec),
            }),
        }
        if let Some(m) = existing.iter().find(|m| &m.name == name)
            && let Some(rev) = m.state.revision
            && let Some(r) = db.revision(rev)?
            && let Some(list) = r.stats.get("pins_missing").and_then(|v| v.as_array())
        {
            pins_missing.extend(
                list.iter()
                    .filter_map(|v| v.as_str())
                    .map(|s| format!("{name}: {s}")),
            );
        }
    }
    for m in &existing {
        if !specs.contains_key(&m.name) {
            changes.push(MirrorChange::Unmanaged {
                name: m.name.clone(),
            });
        }
    }
    Ok(ApplyPlan {
        file: path.to_owned(),
        changes,
        pins_missing,
        specs,
    })
}

/// Creates and updates the mirrors as planned, each through
/// [`mirror::create`] / [`mirror::edit`] (its lock, its audit event, the
/// file named as the reason).
pub fn execute(ctx: &mut Context, plan: &ApplyPlan) -> Result<(), ApplyError> {
    let reason = format!("apply {}", plan.file.display());
    let failed = |name: &str| {
        let (path, name) = (plan.file.clone(), name.to_owned());
        move |e: MirrorError| match e {
            MirrorError::Db(e) => ApplyError::Db(e),
            e => ApplyError::Mirror {
                path,
                name,
                source: Box::new(e),
            },
        }
    };
    for change in &plan.changes {
        match change {
            MirrorChange::Create { name } => {
                mirror::create(ctx, name, &plan.specs[name], Some(&reason))
                    .map_err(failed(name))?;
            }
            MirrorChange::Update { name, .. } => {
                let spec = plan.specs[name].clone();
                mirror::edit(ctx, name, Some(&reason), |s| *s = spec).map_err(failed(name))?;
            }
            MirrorChange::Unchanged { .. } | MirrorChange::Unmanaged { .. } => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_with_pins_becomes_a_filter() {
        let file: ScopeFile = toml::from_str(
            r#"
            [mirrors.m]
            url = "http://archive.example/debian"
            suite = "stable"
            architectures = ["amd64"]
            packages = ["curl", "lib*-dev", { name = "openssl", versions = ["3.0.1-1", "3.0.2-1"] }, { name = "git" }]
            "#,
        )
        .expect("parses");
        let spec = to_spec(&file.mirrors["m"], Path::new("/"));
        assert_eq!(
            spec.filter.as_deref(),
            Some("curl | lib*-dev | openssl (= 3.0.1-1) | openssl (= 3.0.2-1) | git")
        );
        assert_eq!(spec.pins.len(), 1);
        assert_eq!(spec.pins[0].versions, ["3.0.1-1", "3.0.2-1"]);
        crate::query::Filter::parse(spec.filter.as_deref().unwrap_or_default()).expect("valid");
        let empty: ScopeFile = toml::from_str(
            "[mirrors.m]\nurl = \"http://archive.example/debian\"\nsuite = \"stable\"\npackages = []\n",
        )
        .expect("parses");
        let spec = to_spec(&empty.mirrors["m"], Path::new("/"));
        crate::query::Filter::parse(spec.filter.as_deref().unwrap_or_default())
            .expect("an empty allowlist is a valid filter");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<ScopeFile>(
            "[mirrors.m]\nurl = \"x\"\nsuite = \"s\"\nrevieww = true\n",
        )
        .expect_err("unknown key");
        assert!(err.to_string().contains("revieww"), "{err}");
    }
}
