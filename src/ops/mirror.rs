//! Creating, editing and importing mirrors: validation before anything is stored.

use std::path::{Path, PathBuf};

use crate::db::{Db, DbError};
use crate::debian::apt_sources::{AptSource, SignedBy};
use crate::model::{MirrorId, MirrorSpec, native_architecture, valid_name};
use crate::pgp::{Keyring, PgpError};
use crate::query::Filter;

/// Why a mirror definition is refused.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// Bad name.
    #[error(
        "invalid mirror name `{0}`: use letters, digits, `.`, `_`, `-`, starting with a letter or digit"
    )]
    InvalidName(String),
    /// Bad URL.
    #[error("mirror `{name}`: invalid URL `{url}`: expected http:// or https://")]
    InvalidUrl {
        /// Mirror.
        name: String,
        /// URL.
        url: String,
    },
    /// Empty suite or architecture list, or a bad component.
    #[error("mirror `{name}`: {detail}")]
    Invalid {
        /// Mirror.
        name: String,
        /// What.
        detail: String,
    },
    /// Bad filter.
    #[error("mirror `{name}`: invalid filter")]
    Filter {
        /// Mirror.
        name: String,
        /// Cause.
        #[source]
        source: crate::query::FilterError,
    },
    /// No keyring and not insecure.
    #[error(
        "mirror `{0}` has no keyring: pass `--keyring FILE` (or `--allow-insecure` to skip signature checks)"
    )]
    NoKeyring(String),
    /// Keyring does not load.
    #[error("mirror `{name}`: keyring does not load")]
    Keyring {
        /// Mirror.
        name: String,
        /// Cause.
        #[source]
        source: PgpError,
    },
    /// No such mirror.
    #[error("mirror `{0}` does not exist")]
    NotFound(String),
    /// Storage.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Checks a mirror definition; keyrings must load unless the mirror is insecure.
pub fn validate(name: &str, spec: &MirrorSpec) -> Result<(), MirrorError> {
    if !valid_name(name) {
        return Err(MirrorError::InvalidName(name.to_owned()));
    }
    let url_ok = url::Url::parse(&spec.url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if !url_ok {
        return Err(MirrorError::InvalidUrl {
            name: name.to_owned(),
            url: spec.url.clone(),
        });
    }
    let invalid = |detail: String| MirrorError::Invalid {
        name: name.to_owned(),
        detail,
    };
    if spec.suite.trim().is_empty() || spec.suite.contains("..") {
        return Err(invalid(format!("invalid suite `{}`", spec.suite)));
    }
    if spec.architectures.is_empty() {
        return Err(invalid("no architecture given".into()));
    }
    for part in spec.components.iter().chain(&spec.architectures) {
        if part.is_empty()
            || !part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
            || part.contains("..")
        {
            return Err(invalid(format!(
                "invalid component or architecture `{part}`"
            )));
        }
    }
    if let Some(f) = &spec.filter {
        Filter::parse(f).map_err(|source| MirrorError::Filter {
            name: name.to_owned(),
            source,
        })?;
    }
    if spec.keyrings.is_empty() {
        if !spec.allow_insecure {
            return Err(MirrorError::NoKeyring(name.to_owned()));
        }
    } else {
        Keyring::load(&spec.keyrings).map_err(|source| MirrorError::Keyring {
            name: name.to_owned(),
            source,
        })?;
    }
    Ok(())
}

/// Validates and stores a new mirror.
pub fn create(db: &mut Db, name: &str, spec: &MirrorSpec) -> Result<MirrorId, MirrorError> {
    validate(name, spec)?;
    Ok(db.create_mirror(name, spec)?)
}

/// What `import-apt-sources` will create.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportItem {
    /// Proposed mirror name.
    pub name: String,
    /// The definition.
    pub spec: MirrorSpec,
    /// Where the source line was read.
    pub origin: String,
    /// An inline key to write to the keyring path in `spec.keyrings[0]`.
    #[serde(skip)]
    pub inline_key: Option<String>,
    /// Why it is skipped, if it is.
    pub skipped: Option<String>,
}

/// Settings applied to every imported mirror.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Filter for every mirror.
    pub filter: Option<String>,
    /// Close over dependencies.
    pub with_deps: bool,
    /// Override architectures.
    pub architectures: Vec<String>,
    /// Where inline keys are written.
    pub keyring_dir: PathBuf,
}

/// A mirror name from a source: last URI path segment (or host) + suite, e.g. `debian-bookworm-updates`.
pub fn import_name(uri: &str, suite: &str) -> String {
    let parsed = url::Url::parse(uri).ok();
    let base = parsed
        .as_ref()
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.rfind(|x| !x.is_empty()).map(str::to_owned))
        })
        .or_else(|| {
            parsed
                .as_ref()
                .and_then(|u| u.host_str().map(str::to_owned))
        })
        .unwrap_or_else(|| "mirror".into());
    let raw = format!("{base}-{}", suite.trim_matches('/'));
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    cleaned
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .take(64)
        .collect()
}

/// Turns apt sources into mirror definitions (one per URI and suite).
pub fn import_plan(
    sources: &[AptSource],
    opts: &ImportOptions,
    existing: &[String],
) -> Vec<ImportItem> {
    let mut out: Vec<ImportItem> = Vec::new();
    for src in sources {
        let name = import_name(&src.uri, &src.suite);
        if out.iter().any(|i| i.name == name) {
            continue;
        }
        let mut skipped = None;
        let mut inline_key = None;
        let keyrings = match &src.signed_by {
            Some(SignedBy::Files(files)) => files.clone(),
            Some(SignedBy::Inline(key)) => {
                inline_key = Some(key.clone());
                vec![opts.keyring_dir.join(format!("{name}.asc"))]
            }
            Some(SignedBy::Fingerprints(_)) | None => {
                let trusted = system_trusted_keyrings();
                if trusted.is_empty() {
                    skipped = Some("no Signed-By and no keyrings in /etc/apt/trusted.gpg.d".into());
                }
                trusted
            }
        };
        if src.suite.ends_with('/') {
            skipped = Some("flat repositories (suite ending in `/`) are not supported".into());
        }
        if existing.contains(&name) {
            skipped = Some("a mirror of this name exists".into());
        }
        let architectures = if !opts.architectures.is_empty() {
            opts.architectures.clone()
        } else if !src.architectures.is_empty() {
            src.architectures.clone()
        } else {
            vec![native_architecture().to_owned()]
        };
        out.push(ImportItem {
            name,
            spec: MirrorSpec {
                url: src.uri.clone(),
                suite: src.suite.clone(),
                components: src.components.clone(),
                architectures,
                keyrings,
                filter: opts.filter.clone(),
                with_deps: opts.with_deps,
                follow_recommends: false,
                allow_insecure: false,
                allow_sha1_keys: false,
                review: false,
                pins: Vec::new(),
            },
            origin: src.origin.clone(),
            inline_key,
            skipped,
        });
    }
    out
}

/// Keyring files apt trusts globally (`/etc/apt/trusted.gpg.d/*.{gpg,asc}`, `/etc/apt/trusted.gpg`).
pub fn system_trusted_keyrings() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/etc/apt/trusted.gpg.d") {
        out.extend(
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("gpg" | "asc"))),
        );
    }
    let legacy = Path::new("/etc/apt/trusted.gpg");
    if legacy.is_file() {
        out.push(legacy.to_owned());
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_sources() {
        assert_eq!(
            import_name("http://h/debian", "bookworm-updates"),
            "debian-bookworm-updates"
        );
        assert_eq!(
            import_name("http://h/debian-security/", "bookworm-security"),
            "debian-security-bookworm-security"
        );
        assert_eq!(
            import_name("https://h.example", "stable"),
            "h.example-stable"
        );
        assert_eq!(
            import_name("http://h/ubuntu", "noble/updates"),
            "ubuntu-noble-updates"
        );
    }
}
