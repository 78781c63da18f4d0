//! `repo include`: an upload described by a `.changes` file.
//!
//! The `.changes` (clearsigned or not) names its files beside it with
//! sizes and checksums. Each is checked first (size, SHA256, and SHA1 and
//! MD5 as listed); then the `.deb`, `.udeb` and `.dsc` files go through
//! `repo add`'s path, under the repo's lock, where the upload is vetted
//! before anything is stored:
//!
//! - a repo with uploaders ([`super::uploaders`]) requires a good
//!   signature by a key of its uploaders keyring, over the same file list
//!   that was checked, and the rules must allow a signer for every package
//!   (named by its own control data, not the `.changes`);
//! - a repo without uploaders takes an unsigned upload (a signature is
//!   not checked then, and the report says so);
//! - each staged package has the SHA256 the `.changes` lists (what is
//!   stored is what was checked), and its name is one the `.changes`
//!   declares (`Binary`, or `Source` for a `.dsc`).
//!
//! Any refusal stores nothing. The report is what the HTTP API answers
//! with ([`IncludeReport::aptly`] gives aptly's shape).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use md5::Digest as _;
use serde::Serialize;

use super::RepoError;
use super::add::{AddOptions, AddedPackage, Incoming, Replaced, add_files};
use super::uploaders::{Decision, Signer, Uploaders};
use crate::db::{AuditEvent, Repo};
use crate::debian::changes::{Changes, ChangesError, ChangesFile, parse};
use crate::digest::Hasher;
use crate::exit::{ExitCode, FAILURE, VERIFICATION};
use crate::ops::Context;
use crate::pgp::{PgpError, VerifyOptions, clearsigned_text, verify_clearsigned};

/// Largest `.changes` read.
const MAX_CHANGES: u64 = 1 << 20;

/// The line that starts a clearsigned `.changes`.
const SIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----";

/// How to include.
#[derive(Clone, Debug, Default)]
pub struct IncludeOptions {
    /// Replace a package of the same name, version and architecture whose
    /// bytes differ (audited), instead of refusing.
    pub force_replace: bool,
    /// Check everything, store nothing.
    pub dry_run: bool,
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IncludeError {
    /// The `.changes` or a file it lists could not be read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The `.changes` does not parse.
    #[error("`{changes}` is not a usable .changes")]
    BadChanges {
        /// The `.changes`.
        changes: String,
        /// Which field and why.
        #[source]
        source: ChangesError,
    },
    /// A listed file is not a regular file.
    #[error("`{path}`, listed in `{changes}`, is not a regular file")]
    NotAFile {
        /// The file.
        path: String,
        /// The `.changes`.
        changes: String,
    },
    /// A listed file whose size or a checksum is not the listed one.
    #[error("`{path}` does not match field `{field}` of `{changes}`: {detail}")]
    Mismatch {
        /// The file.
        path: String,
        /// The field it was checked against.
        field: &'static str,
        /// The `.changes`.
        changes: String,
        /// Found and listed values.
        detail: String,
    },
    /// The upload has no package to add.
    #[error("`{0}` lists no .deb, .udeb or .dsc")]
    NoPackages(String),
    /// A package the `.changes` does not declare.
    #[error("`{path}` is package `{package}`, which field `{field}` of `{changes}` does not name")]
    Undeclared {
        /// The file.
        path: String,
        /// Its package name.
        package: String,
        /// `Binary` or `Source`.
        field: &'static str,
        /// The `.changes`.
        changes: String,
    },
    /// An unsigned `.changes` for a repo with uploaders.
    #[error(
        "`{changes}` is not signed, and repo `{repo}` accepts only signed uploads (it has uploaders)"
    )]
    Unsigned {
        /// The `.changes`.
        changes: String,
        /// The repo.
        repo: String,
    },
    /// The signature is not good, or not by an uploaders key.
    #[error("the signature of `{changes}` is not accepted by repo `{repo}`")]
    Signature {
        /// The `.changes`.
        changes: String,
        /// The repo.
        repo: String,
        /// Why.
        #[source]
        source: PgpError,
    },
    /// The signed text lists other files than the text that was checked.
    #[error("`{0}` changed while it was being included")]
    Changed(String),
    /// The uploaders rules do not allow a signer for a package.
    #[error("repo `{repo}` does not accept `{package}` from {signers} ({why}; `{changes}`)")]
    Denied {
        /// The repo.
        repo: String,
        /// The package, `name_version_arch`.
        package: String,
        /// The signers' fingerprints.
        signers: String,
        /// The rule that decided.
        why: String,
        /// The `.changes`.
        changes: String,
    },
    /// The stored uploaders do not load.
    #[error("repo `{repo}` has unusable uploaders")]
    Uploaders {
        /// The repo.
        repo: String,
        /// Why.
        #[source]
        source: Box<super::uploaders::UploadersError>,
    },
    /// Adding the packages failed.
    #[error(transparent)]
    Repo(Box<RepoError>),
}

impl From<RepoError> for IncludeError {
    fn from(e: RepoError) -> IncludeError {
        match e {
            RepoError::Include(e) => *e,
            e => IncludeError::Repo(Box::new(e)),
        }
    }
}

impl ExitCode for IncludeError {
    fn exit_code(&self) -> u8 {
        match self {
            IncludeError::Read { .. } | IncludeError::Uploaders { .. } => FAILURE,
            IncludeError::Repo(e) => e.exit_code(),
            _ => VERIFICATION,
        }
    }
}

/// What `repo include` did (or would do).
#[derive(Clone, Debug, Default, Serialize)]
pub struct IncludeReport {
    /// The repo.
    pub repo: String,
    /// The `.changes`, as given.
    pub changes: String,
    /// Nothing was stored.
    pub dry_run: bool,
    /// The keys whose good signatures were accepted (empty: not checked).
    pub signers: Vec<Signer>,
    /// New packages.
    pub added: Vec<AddedPackage>,
    /// Packages replaced by other bytes (`force_replace`).
    pub replaced: Vec<Replaced>,
    /// Packages the repo already had with these bytes.
    pub unchanged: Vec<AddedPackage>,
    /// Packages the repo lost (those replaced), `name_version_arch`.
    pub removed: Vec<String>,
    /// What the operator should know.
    pub warnings: Vec<String>,
    /// Files not included (an upload is all or nothing: empty on success).
    pub failed_files: Vec<String>,
}

impl IncludeReport {
    /// The report in aptly's API shape: `{"Report": {"Warnings", "Added",
    /// "Removed"}, "FailedFiles"}`, entries as aptly words them.
    pub fn aptly(&self) -> serde_json::Value {
        let added: Vec<String> = self
            .added
            .iter()
            .chain(&self.unchanged)
            .map(|a| format!("{} added", a.package.key))
            .chain(
                self.replaced
                    .iter()
                    .map(|r| format!("{} added", r.package.key)),
            )
            .collect();
        let removed: Vec<String> = self
            .removed
            .iter()
            .map(|r| format!("{r} removed"))
            .collect();
        serde_json::json!({
            "Report": {"Warnings": self.warnings, "Added": added, "Removed": removed},
            "FailedFiles": self.failed_files,
        })
    }
}

/// The `.changes` file list checked against the files beside it.
struct Checked {
    /// Its name as given.
    name: String,
    /// Its parsed (unverified) text.
    changes: Changes,
    /// The whole file, for the signature check.
    bytes: Vec<u8>,
    /// Whether it is clearsigned.
    signed: bool,
}

/// Includes the upload `changes` into repo `name`.
pub fn include(
    ctx: &mut Context,
    name: &str,
    changes: &Path,
    opts: &IncludeOptions,
) -> Result<IncludeReport, IncludeError> {
    let checked = read_changes(changes)?;
    let dir = changes.parent().unwrap_or(Path::new("."));
    for f in &checked.changes.files {
        check_file(&checked.name, &dir.join(&f.name), f)?;
    }
    let packages: Vec<&ChangesFile> = checked
        .changes
        .files
        .iter()
        .filter(|f| {
            [".deb", ".udeb", ".dsc"]
                .iter()
                .any(|e| f.name.ends_with(e))
        })
        .collect();
    if packages.is_empty() {
        return Err(IncludeError::NoPackages(checked.name));
    }
    let paths: Vec<PathBuf> = packages.iter().map(|f| dir.join(&f.name)).collect();
    let mut signers = Vec::new();
    let mut warnings = Vec::new();
    let add = AddOptions {
        force_replace: opts.force_replace,
        dry_run: opts.dry_run,
    };
    let report = add_files(ctx, name, &paths, &add, &mut |ctx, repo, incoming| {
        vet(
            ctx,
            repo,
            &checked,
            &packages,
            incoming,
            &mut signers,
            &mut warnings,
        )
        .map_err(|e| RepoError::Include(Box::new(e)))
    })?;
    if report.staged {
        warnings.push(format!(
            "repo `{name}` is in review mode: the upload was staged; `debvault promote {name} PKG` makes it live"
        ));
    }
    Ok(IncludeReport {
        repo: report.repo,
        changes: checked.name,
        dry_run: report.dry_run,
        signers,
        removed: report
            .replaced
            .iter()
            .map(|r| r.package.key.to_string())
            .collect(),
        added: report.added,
        replaced: report.replaced,
        unchanged: report.unchanged,
        warnings,
        failed_files: Vec::new(),
    })
}

fn read_changes(path: &Path) -> Result<Checked, IncludeError> {
    let name = path.display().to_string();
    let bytes = crate::capped::read(path, MAX_CHANGES).map_err(|source| IncludeError::Read {
        path: name.clone(),
        source,
    })?;
    let bad = |problem: &str| IncludeError::BadChanges {
        changes: name.clone(),
        source: ChangesError {
            field: "-",
            problem: problem.to_owned(),
        },
    };
    let text = String::from_utf8(bytes.clone()).map_err(|_| bad("it is not UTF-8"))?;
    let signed = text.trim_start().starts_with(SIGNED);
    let body = if signed {
        let t =
            clearsigned_text(&bytes).ok_or_else(|| bad("its clearsigned text does not parse"))?;
        String::from_utf8(t).map_err(|_| bad("it is not UTF-8"))?
    } else if text.contains(SIGNED) {
        return Err(bad("text precedes its signed message"));
    } else {
        text
    };
    let changes = parse(&body).map_err(|source| IncludeError::BadChanges {
        changes: name.clone(),
        source,
    })?;
    Ok(Checked {
        name,
        changes,
        bytes,
        signed,
    })
}

/// Reads `path` (at most one byte more than listed) and compares its size
/// and checksums with the listing `f` of `changes`.
fn check_file(changes: &str, path: &Path, f: &ChangesFile) -> Result<(), IncludeError> {
    let shown = path.display().to_string();
    let read = |source| IncludeError::Read {
        path: shown.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read)?;
    if !meta.is_file() {
        return Err(IncludeError::NotAFile {
            path: shown,
            changes: changes.to_owned(),
        });
    }
    let mismatch = |field, detail| IncludeError::Mismatch {
        path: shown.clone(),
        field,
        changes: changes.to_owned(),
        detail,
    };
    let mut src = File::open(path)
        .map_err(read)?
        .take(f.size.saturating_add(1));
    let mut sha256 = Hasher::new();
    let mut sha1 = crate::pgp::sha1::Sha1::new();
    let mut md5 = md5::Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = src.read(&mut buf).map_err(read)?;
        if n == 0 {
            break;
        }
        sha256.update(&buf[..n]);
        sha1.update(&buf[..n]);
        md5.update(&buf[..n]);
    }
    let (sha256, size) = sha256.finish();
    if size != f.size {
        let found = if size > f.size {
            "more".to_owned()
        } else {
            size.to_string()
        };
        return Err(mismatch(
            "Files",
            format!("it has {found} bytes, {} are listed", f.size),
        ));
    }
    if sha256 != f.sha256 {
        return Err(mismatch(
            "Checksums-Sha256",
            format!("its SHA256 is {sha256}, {} is listed", f.sha256),
        ));
    }
    if let Some(listed) = &f.sha1 {
        let found = sha1.finish().unwrap_or_else(|| "not computable".to_owned());
        if &found != listed {
            return Err(mismatch(
                "Checksums-Sha1",
                format!("its SHA1 is {found}, {listed} is listed"),
            ));
        }
    }
    let found = hex::encode(md5.finalize());
    if found != f.md5 {
        return Err(mismatch(
            "Files",
            format!("its MD5 is {found}, {} is listed", f.md5),
        ));
    }
    Ok(())
}

/// Under the repo's lock, with the packages described: the signature and
/// the uploaders rules, and that what was staged is what was checked.
fn vet(
    ctx: &Context,
    repo: &Repo,
    checked: &Checked,
    listed: &[&ChangesFile],
    incoming: &[Incoming],
    signers: &mut Vec<Signer>,
    warnings: &mut Vec<String>,
) -> Result<Vec<AuditEvent>, IncludeError> {
    let changes = &checked.name;
    if incoming.len() != listed.len() {
        return Err(IncludeError::Changed(changes.clone()));
    }
    for (inc, f) in incoming.iter().zip(listed) {
        if inc.record.sha256 != f.sha256 {
            return Err(IncludeError::Changed(changes.clone()));
        }
        let (field, declared) = if inc.record.architecture == crate::db::SOURCE_ARCH {
            (
                "Source",
                checked.changes.fields.get("Source").unwrap_or_default(),
            )
        } else {
            (
                "Binary",
                checked.changes.fields.get("Binary").unwrap_or_default(),
            )
        };
        if !declared.split_whitespace().any(|n| n == inc.record.name) {
            return Err(IncludeError::Undeclared {
                path: inc.file.clone(),
                package: inc.record.name.clone(),
                field,
                changes: changes.clone(),
            });
        }
    }
    let stored = ctx.db.repo_uploaders(repo).map_err(RepoError::from)?;
    let Some(stored) = stored else {
        if checked.signed {
            warnings.push(format!(
                "the signature of `{changes}` was not checked: repo `{}` has no uploaders",
                repo.name
            ));
        }
        return Ok(vec![event(repo, checked, signers)]);
    };
    let uploaders =
        Uploaders::from_stored(&repo.name, &stored).map_err(|source| IncludeError::Uploaders {
            repo: repo.name.clone(),
            source: Box::new(source),
        })?;
    if !checked.signed {
        return Err(IncludeError::Unsigned {
            changes: changes.clone(),
            repo: repo.name.clone(),
        });
    }
    let verified = verify_clearsigned(
        uploaders.keyring(),
        &checked.bytes,
        &VerifyOptions::default(),
    )
    .map_err(|source| IncludeError::Signature {
        changes: changes.clone(),
        repo: repo.name.clone(),
        source,
    })?;
    let signed = parse(&String::from_utf8_lossy(&verified.text)).map_err(|source| {
        IncludeError::BadChanges {
            changes: changes.clone(),
            source,
        }
    })?;
    // What was checked (file list, `Binary`, `Source`) is what was signed.
    if signed.fields != checked.changes.fields || signed.files != checked.changes.files {
        return Err(IncludeError::Changed(changes.clone()));
    }
    *signers = verified
        .signers
        .iter()
        .zip(&verified.signer_certs)
        .map(|(key, cert)| Signer {
            key: key.clone(),
            cert: cert.clone(),
        })
        .collect();
    for inc in incoming {
        let decision = match Upload::new(inc, &signed.fields) {
            Some(candidate) => uploaders.decide(&candidate, signers),
            None => Decision::NoRule,
        };
        if !matches!(decision, Decision::Allowed(_)) {
            return Err(IncludeError::Denied {
                repo: repo.name.clone(),
                package: format!(
                    "{}_{}_{}",
                    inc.record.name, inc.record.version, inc.record.architecture
                ),
                signers: signers
                    .iter()
                    .map(|s| format!("`{}`", s.cert))
                    .collect::<Vec<_>>()
                    .join(", "),
                why: decision.explain(),
                changes: changes.clone(),
            });
        }
    }
    Ok(vec![event(repo, checked, signers)])
}

fn event(repo: &Repo, checked: &Checked, signers: &[Signer]) -> AuditEvent {
    let file = Path::new(&checked.name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    AuditEvent::new("repo-include", format!("repo `{}`", repo.name)).detail(serde_json::json!({
        "changes": file,
        "signers": signers,
        "files": checked.changes.files.len(),
    }))
}

/// A package of an upload as the uploaders rules see it: its own control
/// fields, then the `.changes` fields.
struct Upload<'a> {
    name: &'a str,
    version: crate::debian::Version,
    architecture: &'a str,
    fields: Vec<(String, String)>,
    changes: &'a crate::debian::Stanza,
}

impl<'a> Upload<'a> {
    /// `None` when the version does not parse (it was checked when the
    /// package was described, so this is not expected).
    fn new(inc: &'a Incoming, changes: &'a crate::debian::Stanza) -> Option<Upload<'a>> {
        let fields = crate::debian::parse_str(&inc.record.stanza)
            .ok()
            .and_then(|mut s| (!s.is_empty()).then(|| s.remove(0).into_fields()))
            .unwrap_or_default();
        Some(Upload {
            name: &inc.record.name,
            version: crate::debian::Version::parse(&inc.record.version).ok()?,
            architecture: &inc.record.architecture,
            fields,
            changes,
        })
    }
}

impl crate::query::Candidate for Upload<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn version(&self) -> &crate::debian::Version {
        &self.version
    }

    fn architecture(&self) -> &str {
        self.architecture
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .or_else(|| self.changes.get(name))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::digest::Sha256;
    use crate::model::PackageKey;

    #[test]
    fn the_aptly_report_words_entries_as_aptly_does() {
        let package = super::super::RepoPackage {
            key: PackageKey {
                name: "hello".into(),
                version: "1.0".into(),
                architecture: "amd64".into(),
            },
            sha256: Sha256::of(b"x"),
            size: 1,
        };
        let report = IncludeReport {
            repo: "team".into(),
            added: vec![AddedPackage {
                package: package.clone(),
                file: "hello.deb".into(),
            }],
            removed: vec!["hello_0.9_amd64".into()],
            warnings: vec!["w".into()],
            ..IncludeReport::default()
        };
        let v = report.aptly();
        assert_eq!(v["Report"]["Added"][0], format!("{} added", package.key));
        assert_eq!(v["Report"]["Removed"][0], "hello_0.9_amd64 removed");
        assert_eq!(v["Report"]["Warnings"][0], "w");
        assert_eq!(v["FailedFiles"], serde_json::json!([]));
    }
}
