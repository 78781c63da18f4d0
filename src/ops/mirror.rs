//! Creating, editing and importing mirrors: validation before anything is
//! stored; and the reads `mirror list` and `mirror show` print.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Context;
use crate::atomic_file::{self, WriteOptions};
use crate::db::{AuditEvent, Db, DbError};
use crate::debian::apt_sources::{AptSource, SignedBy};
use crate::debian::translation::is_valid_language;
use crate::exit::{ExitCode, FAILURE, USAGE};
use crate::lock::LockError;
use crate::model::{
    Freeze, Mirror, MirrorId, MirrorSpec, MirrorUrl, native_architecture, valid_name,
};
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
    #[error("mirror `{name}`: invalid URL `{url}`: {reason}")]
    InvalidUrl {
        /// Mirror.
        name: String,
        /// URL.
        url: String,
        /// What is wrong with it (the URL parser's words, e.g. "invalid port number").
        reason: String,
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
    /// An imported inline key cannot be written.
    #[error("cannot write keyring `{path}`", path = path.display())]
    WriteKeyring {
        /// The keyring file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Another command holds the mirror.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// Storage.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ExitCode for MirrorError {
    fn exit_code(&self) -> u8 {
        match self {
            MirrorError::InvalidName(_)
            | MirrorError::InvalidUrl { .. }
            | MirrorError::Invalid { .. }
            | MirrorError::Filter { .. }
            | MirrorError::NoKeyring(_)
            | MirrorError::Keyring { .. } => USAGE,
            MirrorError::Db(e) => e.exit_code(),
            MirrorError::NotFound(_)
            | MirrorError::WriteKeyring { .. }
            | MirrorError::Locked(_) => FAILURE,
        }
    }
}

/// Checks a mirror definition; keyrings must load unless the mirror is insecure.
pub fn validate(name: &str, spec: &MirrorSpec) -> Result<(), MirrorError> {
    if !valid_name(name) {
        return Err(MirrorError::InvalidName(name.to_owned()));
    }
    let url_problem = match url::Url::parse(spec.url.expose()) {
        Err(e) => Some(e.to_string()),
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            Some("expected http:// or https://".to_owned())
        }
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("no host".to_owned()),
        Ok(_) => None,
    };
    if let Some(reason) = url_problem {
        return Err(MirrorError::InvalidUrl {
            name: name.to_owned(),
            url: spec.url.to_string(),
            reason,
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
    if spec.is_flat() && spec.components.len() > 1 {
        return Err(invalid(format!(
            "a flat repository (suite `{}`) is published under one component, not {}",
            spec.suite,
            spec.components.join(", ")
        )));
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
    if let Some(bad) = spec.languages.iter().find(|l| !is_valid_language(l)) {
        return Err(invalid(format!(
            "invalid language `{bad}` (e.g. `en`, `pt_BR`, `ca@valencia`; `none` alone for none)"
        )));
    }
    if let Some(group) = &spec.group
        && !valid_name(group)
    {
        return Err(invalid(format!(
            "invalid group name `{group}`: use letters, digits and `.-_`"
        )));
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

/// `spec` with each component and architecture listed once, in the order
/// first given (`main main` or `--arch amd64,amd64` would mirror and
/// publish an index twice); a flat repository gets its default component.
fn deduplicated(mut spec: MirrorSpec) -> MirrorSpec {
    let once = |list: &mut Vec<String>| {
        let mut seen = std::collections::HashSet::new();
        list.retain(|x| seen.insert(x.clone()));
    };
    once(&mut spec.components);
    once(&mut spec.architectures);
    once(&mut spec.languages);
    if spec.is_flat() && spec.components.is_empty() {
        spec.components.push(super::sync::FLAT_COMPONENT.to_owned());
    }
    spec
}

/// Validates and stores a new mirror, with its audit event; `reason` says
/// what asked for it (`apply FILE`, an import), if not the operator.
pub fn create(
    ctx: &mut Context,
    name: &str,
    spec: &MirrorSpec,
    reason: Option<&str>,
) -> Result<MirrorId, MirrorError> {
    let spec = &deduplicated(spec.clone());
    validate(name, spec)?;
    let _lock = ctx.lock_mirror(name)?;
    let mut event = AuditEvent::new("mirror-create", format!("mirror `{name}`"))
        .detail(serde_json::json!({ "url": spec.url, "suite": spec.suite }));
    if let Some(r) = reason {
        event = event.reason(r);
    }
    Ok(ctx.db.create_mirror(name, spec, &event)?)
}

/// Replaces mirror `name`'s definition with what `change` makes of it,
/// validated, with an audit event naming the fields changed (none changed:
/// nothing is written). Returns those changes, `field: old → new`.
pub fn edit(
    ctx: &mut Context,
    name: &str,
    reason: Option<&str>,
    change: impl FnOnce(&mut MirrorSpec),
) -> Result<Vec<String>, MirrorError> {
    let _lock = ctx.lock_mirror(name)?;
    let m = ctx
        .db
        .mirror(name)?
        .ok_or_else(|| MirrorError::NotFound(name.to_owned()))?;
    let mut spec = m.spec.clone();
    change(&mut spec);
    let spec = deduplicated(spec);
    validate(name, &spec)?;
    let changes = spec_changes(&m.spec, &spec);
    if changes.is_empty() {
        return Ok(changes);
    }
    let mut event = AuditEvent::new("mirror-edit", format!("mirror `{name}`"))
        .detail(serde_json::json!({ "changes": changes }));
    if let Some(r) = reason {
        event = event.reason(r);
    }
    ctx.db.update_mirror_spec(m.id, &spec, &event)?;
    Ok(changes)
}

/// Renames mirror `old` to `new` under both names' locks, with its audit
/// event (`mirror-rename`).
pub fn rename(ctx: &mut Context, old: &str, new: &str) -> Result<(), MirrorError> {
    if !valid_name(new) {
        return Err(MirrorError::InvalidName(new.to_owned()));
    }
    let _old = ctx.lock_mirror(old)?;
    let _new = ctx.lock_mirror(new)?;
    let m = ctx
        .db
        .mirror(old)?
        .ok_or_else(|| MirrorError::NotFound(old.to_owned()))?;
    let event = AuditEvent::new("mirror-rename", format!("mirror `{old}`"))
        .detail(serde_json::json!({ "new_name": new }));
    Ok(ctx.db.rename_mirror(m.id, new, &event)?)
}

/// Drops mirror `name` (its revisions, freezes and staged changes; packages
/// and blobs stay for `gc`), with its audit event. Returns the snapshots
/// made from it, directly or through merges and filters: they keep its
/// packages, so `gc` frees none of those while they exist.
pub fn drop(ctx: &mut Context, name: &str) -> Result<Vec<String>, MirrorError> {
    let _lock = ctx.lock_mirror(name)?;
    let m = ctx
        .db
        .mirror(name)?
        .ok_or_else(|| MirrorError::NotFound(name.to_owned()))?;
    let event = AuditEvent::new("mirror-drop", format!("mirror `{name}`"));
    ctx.db.drop_mirror(m.id, &event)?;
    Ok(derived_snapshots(&ctx.db.snapshots()?, name))
}

/// The snapshots whose packages come from mirror `name`: taken from it, or
/// merged or filtered from such a snapshot (to a fixed point), by name.
fn derived_snapshots(snapshots: &[crate::model::Snapshot], name: &str) -> Vec<String> {
    use crate::model::SnapshotOrigin;
    let mut derived = std::collections::BTreeSet::new();
    loop {
        let before = derived.len();
        for s in snapshots {
            let from_it = match &s.origin {
                SnapshotOrigin::Mirrors { mirrors, .. } => mirrors.iter().any(|m| m.name == name),
                SnapshotOrigin::Merge { sources, .. } => {
                    sources.iter().any(|x| derived.contains(x))
                }
                SnapshotOrigin::Filter { source, .. } => derived.contains(source),
            };
            if from_it {
                derived.insert(s.name.clone());
            }
        }
        if derived.len() == before {
            return derived.into_iter().collect();
        }
    }
}

/// What differs between two definitions of a mirror, a line per field:
/// `field: old → new` (JSON values).
pub fn spec_changes(old: &MirrorSpec, new: &MirrorSpec) -> Vec<String> {
    let (a, b) = (
        serde_json::to_value(old).unwrap_or_default(),
        serde_json::to_value(new).unwrap_or_default(),
    );
    let empty = serde_json::Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut changes: Vec<String> = keys
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            let show =
                |v: Option<&serde_json::Value>| v.map_or("(none)".to_owned(), |v| v.to_string());
            format!("{k}: {} → {}", show(a.get(k)), show(b.get(k)))
        })
        .collect();
    // The JSON masks passwords, so a new password alone shows only here.
    if old.url != new.url && a.get("url") == b.get("url") {
        changes.push(format!("url: {} (credentials changed)", new.url));
    }
    changes
}

/// Carries out an import plan: creates each item's mirror (see [`import`])
/// and returns how many were created. The plan is executed whole before
/// anything is printed; a failure names its item and leaves the mirrors
/// created before it (each audited).
pub fn import_all(ctx: &mut Context, plan: &[ImportItem]) -> Result<usize, MirrorError> {
    let mut created = 0;
    for item in plan {
        if import(ctx, item)?.is_some() {
            created += 1;
        }
    }
    Ok(created)
}

/// Creates the mirror of one planned import item (skipped ones are left
/// alone): its inline key written to its keyring path first, atomically.
pub fn import(ctx: &mut Context, item: &ImportItem) -> Result<Option<MirrorId>, MirrorError> {
    if item.skipped.is_some() {
        return Ok(None);
    }
    if let (Some(key), Some(path)) = (&item.inline_key, item.spec.keyrings.first()) {
        let write = || {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            atomic_file::write(path, key.as_bytes(), WriteOptions::PUBLIC)
        };
        write().map_err(|source| MirrorError::WriteKeyring {
            path: path.clone(),
            source,
        })?;
    }
    let reason = format!("import-apt-sources {}", item.origin);
    create(ctx, &item.name, &item.spec, Some(&reason)).map(Some)
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
    /// The group every imported mirror joins.
    pub group: Option<String>,
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
    // A flat repository's `./` adds nothing to the name.
    let raw = match suite.trim_matches(|c| c == '/' || c == '.') {
        "" => base,
        suite => format!("{base}-{suite}"),
    };
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
                url: MirrorUrl::new(src.uri.clone()),
                suite: src.suite.clone(),
                components: src.components.clone(),
                architectures,
                keyrings,
                filter: opts.filter.clone(),
                with_deps: opts.with_deps,
                follow_recommends: false,
                follow_all_alternatives: false,
                allow_insecure: false,
                allow_sha1_keys: false,
                review: false,
                with_sources: src.with_sources,
                with_udebs: false,
                with_installer: false,
                group: opts.group.clone(),
                pins: Vec::new(),
                languages: crate::model::default_languages(),
                with_appstream: false,
                on_demand: false,
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

/// A mirror as `mirror list` shows it: definition and state, with counts.
#[derive(Clone, Debug, Serialize)]
pub struct MirrorSummary {
    /// The mirror.
    #[serde(flatten)]
    pub mirror: Mirror,
    /// Packages of its current revision.
    pub packages: u64,
    /// Active freezes.
    pub frozen: usize,
}

/// One mirror as `mirror show` shows it.
#[derive(Clone, Debug)]
pub struct MirrorDetail {
    /// The mirror.
    pub mirror: Mirror,
    /// Packages of its current revision.
    pub packages: u64,
    /// Its active freezes.
    pub freezes: Vec<Freeze>,
    /// How many revisions it keeps.
    pub revisions: usize,
    /// Dependencies of its current packages that nothing inside the mirror
    /// satisfies (as its last sync that changed anything found them).
    pub unmet_dependencies: u64,
    /// The first of them, `package (arch): dependency`.
    pub unmet_examples: Vec<String>,
    /// `(package key, component)` of the current revision, sorted, when asked for.
    pub package_list: Option<Vec<(String, String)>>,
}

/// Loads mirror `name`.
pub fn load(db: &Db, name: &str) -> Result<Mirror, MirrorError> {
    db.mirror(name)?
        .ok_or_else(|| MirrorError::NotFound(name.to_owned()))
}

/// The names of all mirrors, sorted.
pub fn names(db: &Db) -> Result<Vec<String>, MirrorError> {
    Ok(db.mirrors()?.into_iter().map(|m| m.name).collect())
}

/// Every mirror with its package and freeze counts, by name.
pub fn list(db: &Db) -> Result<Vec<MirrorSummary>, MirrorError> {
    db.mirrors()?
        .into_iter()
        .map(|mirror| {
            Ok(MirrorSummary {
                packages: package_count(db, &mirror)?,
                frozen: db.active_freezes(mirror.id)?.len(),
                mirror,
            })
        })
        .collect()
}

/// Mirror `name` in detail; with `with_packages`, the packages of its current revision too.
pub fn show(db: &Db, name: &str, with_packages: bool) -> Result<MirrorDetail, MirrorError> {
    let mirror = load(db, name)?;
    let package_list = match (with_packages, mirror.state.revision) {
        (false, _) => None,
        (true, None) => Some(Vec::new()),
        (true, Some(rev)) => {
            let mut v: Vec<(String, String)> = db
                .revision_entries(rev)?
                .into_iter()
                .map(|e| (e.key.to_string(), e.component))
                .collect();
            v.sort();
            Some(v)
        }
    };
    let (unmet_dependencies, unmet_examples) = match mirror.state.revision {
        Some(rev) => db
            .revision(rev)?
            .map(|r| r.unmet_dependencies())
            .unwrap_or_default(),
        None => (0, Vec::new()),
    };
    Ok(MirrorDetail {
        packages: package_count(db, &mirror)?,
        freezes: db.active_freezes(mirror.id)?,
        unmet_dependencies,
        unmet_examples,
        revisions: db.revisions(mirror.id)?.len(),
        package_list,
        mirror,
    })
}

fn package_count(db: &Db, mirror: &Mirror) -> Result<u64, MirrorError> {
    Ok(match mirror.state.revision {
        Some(r) => db.revision_set(r)?.len() as u64,
        None => 0,
    })
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
        assert_eq!(import_name("http://h/repo", "./"), "repo");
        assert_eq!(import_name("http://h/repo", "amd64/"), "repo-amd64");
    }
}
