//! `repo add`: packages from files into a repo.
//!
//! Each file is copied into the blob store's staging area while it is
//! hashed, and its control stanza is read from that copy (so what is
//! described is exactly what is stored, whatever happens to the file
//! meanwhile). `Filename`, `Size`, `MD5sum` and `SHA256` are computed, as a
//! mirrored `Packages` stanza carries them; every other field is the
//! package's own. Then the plan: new packages, identical ones (no-ops),
//! and conflicts — the same name, version and architecture with other
//! bytes — refused unless `force_replace`. Nothing is visible until the
//! plan is executed: staged copies of a refused or dry run are deleted,
//! blobs are committed and made durable before the one transaction that
//! references them.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use md5::Digest as _;
use serde::Serialize;

use super::{Conflict, RepoError, RepoPackage, load, lock_repo};
use crate::db::{AuditEvent, RepoChange};
use crate::debian::deb_control::read_control;
use crate::debian::packages::{BinaryPackage, pool_dir};
use crate::digest::{Hasher, Sha256};
use crate::lock::Lock;
use crate::model::{PackageId, PackageKey, PackageRecord};
use crate::ops::Context;
use crate::store::BlobStore;

/// How to add.
#[derive(Clone, Debug, Default)]
pub struct AddOptions {
    /// Replace a package of the same name, version and architecture whose
    /// bytes differ (audited), instead of refusing.
    pub force_replace: bool,
    /// Plan only: store nothing.
    pub dry_run: bool,
}

/// A package the repo gained, or one it already had.
#[derive(Clone, Debug, Serialize)]
pub struct AddedPackage {
    /// The package.
    #[serde(flatten)]
    pub package: RepoPackage,
    /// The file it was read from.
    pub file: String,
}

/// A package replaced by other bytes (`force_replace`).
#[derive(Clone, Debug, Serialize)]
pub struct Replaced {
    /// The new package.
    #[serde(flatten)]
    pub package: RepoPackage,
    /// The SHA256 it replaced.
    pub replaced_sha256: Sha256,
    /// The file it was read from.
    pub file: String,
}

/// What `repo add` did (or would do).
#[derive(Clone, Debug, Default, Serialize)]
pub struct AddReport {
    /// The repo.
    pub repo: String,
    /// Nothing was stored.
    pub dry_run: bool,
    /// New packages.
    pub added: Vec<AddedPackage>,
    /// Packages replaced by other bytes.
    pub replaced: Vec<Replaced>,
    /// Packages the repo already had with these bytes.
    pub unchanged: Vec<AddedPackage>,
    /// The repo is in review mode: what it gains was staged, not made live.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
}

/// A package file copied to staging, hashed and described.
pub(super) struct Incoming {
    /// The file offered.
    pub(super) file: String,
    /// The blobs it brings: staged copy and digest (a source package has
    /// several).
    pub(super) staged: Vec<(PathBuf, Sha256)>,
    /// Its package row.
    pub(super) record: PackageRecord,
}

/// Staged copies not (yet) committed; deleted when dropped.
pub(super) struct Staging(Vec<PathBuf>);

impl Drop for Staging {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Adds the packages of `paths` (files, or directories searched for
/// `.deb`, `.udeb` and `.dsc` files) to repo `name`.
pub fn add(
    ctx: &mut Context,
    name: &str,
    paths: &[PathBuf],
    opts: &AddOptions,
) -> Result<AddReport, RepoError> {
    let files = collect(paths)?;
    add_files(ctx, name, &files, opts, &mut |_, _, _| Ok(Vec::new()))
}

/// Checks the packages of an upload before anything is stored (`repo
/// include`'s uploaders rules): gets the context, the repo (as locked)
/// and the described packages,
/// returns the audit events to commit with them, or refuses.
pub(super) type Vet<'a> =
    dyn FnMut(&Context, &crate::db::Repo, &[Incoming]) -> Result<Vec<AuditEvent>, RepoError> + 'a;

/// Adds the package files `files` to repo `name` once `vet` accepts them,
/// under the repo's lock: all of them, or (on any error) none.
pub(super) fn add_files(
    ctx: &mut Context,
    name: &str,
    files: &[PathBuf],
    opts: &AddOptions,
    vet: &mut Vet<'_>,
) -> Result<AddReport, RepoError> {
    let _lock = lock_repo(ctx, name)?;
    // `gc` takes this exclusively: it never collects a blob stored here
    // before the transaction that references it.
    let _gc = Lock::try_acquire_shared(
        &ctx.settings.lock_dir().join("gc.lock"),
        "the data root (gc)",
    )
    .map_err(RepoError::GcRunning)?;
    let repo = load(ctx, name)?;
    let mut staging = Staging(Vec::new());
    let mut incoming = Vec::with_capacity(files.len());
    for file in files {
        incoming.push(ingest(
            &ctx.store,
            &mut staging,
            file,
            &repo.spec.component,
        )?);
    }
    let vetted = vet(ctx, &repo, &incoming)?;
    let set = ctx.db.package_set(repo.package_set)?;
    let mut current: BTreeMap<PackageKey, (PackageId, Sha256, u64)> = BTreeMap::new();
    for (_, ids) in set.components() {
        for p in ctx.db.package_summaries(ids)? {
            current.insert(p.key, (p.id, p.sha256, p.size));
        }
    }
    let plan = plan(&repo.name, &current, &incoming, opts.force_replace)?;
    plan.check_frozen(ctx, &repo, &incoming)?;
    let mut report = plan.report(&repo.name, &incoming, opts.dry_run);
    if opts.dry_run || (plan.new.is_empty() && plan.replaced.is_empty()) {
        report.dry_run = opts.dry_run;
        return Ok(report);
    }
    // Blobs first, durable, then the one transaction that references them.
    for &i in plan.new.iter().chain(plan.replaced.iter().map(|(i, _)| i)) {
        for (staged, sha256) in &incoming[i].staged {
            if !ctx.store.contains(sha256)? {
                ctx.store.commit(staged, sha256)?;
            }
        }
    }
    ctx.store.sync()?;
    if repo.spec.review {
        plan.stage(ctx, &repo, &incoming, &current, vetted)?;
        report.staged = true;
        drop(staging);
        return Ok(report);
    }
    let replaced_ids: Vec<PackageId> = plan.replaced.iter().map(|(_, old)| old.0).collect();
    let kept = current
        .values()
        .map(|(id, ..)| *id)
        .filter(|id| !replaced_ids.contains(id))
        .collect();
    let mut events = plan.events(&repo.name, &incoming);
    events.extend(vetted);
    let change = RepoChange {
        repo: &repo,
        kept,
        added: plan
            .new
            .iter()
            .chain(plan.replaced.iter().map(|(i, _)| i))
            .map(|&i| &incoming[i].record)
            .collect(),
        events,
    };
    ctx.db.commit_repo_changes(&[change])?;
    drop(staging);
    Ok(report)
}

/// The files `paths` name: files as given, directories searched (sorted,
/// recursively, not following links to directories) for `.deb`, `.udeb`
/// and `.dsc`.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, RepoError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| RepoError::Read {
            path: p.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            let before = out.len();
            walk(p, &mut out)?;
            if out.len() == before {
                return Err(RepoError::NoFiles(p.display().to_string()));
            }
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RepoError> {
    let read = |source| RepoError::Read {
        path: dir.display().to_string(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(read)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(read)?;
    entries.sort();
    for path in entries {
        let link_meta = std::fs::symlink_metadata(&path).map_err(|source| RepoError::Read {
            path: path.display().to_string(),
            source,
        })?;
        if link_meta.is_dir() {
            walk(&path, out)?;
        } else if is_package_file(&path) && path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn is_package_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("deb" | "udeb" | "dsc")
    )
}

/// A file copied into the blob store's staging area, hashed on the way.
pub(super) struct StagedCopy {
    /// The staged copy.
    pub(super) path: PathBuf,
    /// Its SHA256.
    pub(super) sha256: Sha256,
    /// Its MD5, in hex (the `MD5sum` and `Files` fields want it).
    pub(super) md5: String,
    /// Its size.
    pub(super) size: u64,
}

/// Copies `path` into staging while hashing it (the copy is deleted with
/// `staging` unless committed).
pub(super) fn stage_copy(
    store: &BlobStore,
    staging: &mut Staging,
    path: &Path,
) -> Result<StagedCopy, RepoError> {
    let read = |source| RepoError::Read {
        path: path.display().to_string(),
        source,
    };
    let staged = store.staging_path(None)?;
    if let Some(dir) = staged.parent() {
        std::fs::create_dir_all(dir).map_err(read)?;
    }
    let mut src = File::open(path).map_err(read)?;
    let mut dst = File::create_new(&staged).map_err(read)?;
    staging.0.push(staged.clone());
    let mut sha = Hasher::new();
    let mut md5 = md5::Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = src.read(&mut buf).map_err(read)?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        md5.update(&buf[..n]);
        dst.write_all(&buf[..n]).map_err(read)?;
    }
    dst.sync_all().map_err(read)?;
    let (sha256, size) = sha.finish();
    Ok(StagedCopy {
        path: staged,
        sha256,
        md5: hex::encode(md5.finalize()),
        size,
    })
}

/// Stages the package file `path` and describes it: a `.dsc` with the
/// files it lists, or a `.deb`/`.udeb` whose control stanza is read from
/// the staged copy.
fn ingest(
    store: &BlobStore,
    staging: &mut Staging,
    path: &Path,
    component: &str,
) -> Result<Incoming, RepoError> {
    if path.extension().is_some_and(|e| e == "dsc") {
        return super::dsc::ingest(store, staging, path, component);
    }
    let file = path.display().to_string();
    let copy = stage_copy(store, staging, path)?;
    let read = File::open(&copy.path).map_err(|source| RepoError::Read {
        path: file.clone(),
        source,
    })?;
    let stanza =
        read_control(BufReader::new(read), copy.size).map_err(|source| RepoError::BadDeb {
            path: file.clone(),
            source,
        })?;
    let udeb = path.extension().is_some_and(|e| e == "udeb");
    let record =
        describe(stanza, copy.sha256, copy.md5, copy.size, component, udeb).map_err(|source| {
            RepoError::BadControl {
                path: file.clone(),
                source,
            }
        })?;
    Ok(Incoming {
        file,
        staged: vec![(copy.path, copy.sha256)],
        record,
    })
}

/// Fields an index computes; a control file that carries them is not
/// believed.
const INDEX_FIELDS: &[&str] = &[
    "Filename", "Size", "MD5sum", "MD5Sum", "SHA1", "SHA256", "SHA512",
];

/// The package record of a `.deb` whose control stanza is `stanza`: the
/// stanza with `Filename` (`pool/<component>/<x>/<source>/<name>_<version
/// without epoch>_<arch>.deb`), `Size`, `MD5sum` and `SHA256` set, checked
/// as a mirrored stanza is (names, version, architecture, a safe path).
fn describe(
    mut stanza: crate::debian::Stanza,
    sha256: Sha256,
    md5: String,
    size: u64,
    component: &str,
    udeb: bool,
) -> Result<PackageRecord, crate::debian::packages::PackageError> {
    for f in INDEX_FIELDS {
        stanza.remove(f);
    }
    let name = stanza.get("Package").unwrap_or_default().to_owned();
    let version = stanza.get("Version").unwrap_or_default().to_owned();
    let arch = stanza.get("Architecture").unwrap_or_default().to_owned();
    let source = stanza
        .get("Source")
        .map(|s| s.split('(').next().unwrap_or(s).trim().to_owned())
        .unwrap_or_else(|| name.clone());
    let file_version = version.split_once(':').map_or(version.as_str(), |(_, v)| v);
    let ext = if udeb { "udeb" } else { "deb" };
    stanza.push(
        "Filename",
        format!(
            "{}/{name}_{file_version}_{arch}.{ext}",
            pool_dir(&source, component)
        ),
    );
    stanza.push("Size", size.to_string());
    stanza.push("MD5sum", md5);
    stanza.push("SHA256", sha256.to_string());
    let text = stanza.to_text();
    let pkg = BinaryPackage::from_stanza(stanza)?;
    if pkg.architecture == "source" {
        return Err(crate::debian::packages::PackageError::BadValue {
            field: "Architecture",
            value: pkg.architecture,
            expected: "a binary architecture",
            package: Some(pkg.name),
            line: None,
        });
    }
    Ok(PackageRecord {
        name: pkg.name,
        version: version.clone(),
        architecture: pkg.architecture,
        sha256,
        size,
        filename: pkg.filename.into_string(),
        source: pkg.source,
        stanza: text,
    })
}

/// What adding the incoming packages changes.
struct Plan {
    /// Indices into the incoming packages that are new.
    new: Vec<usize>,
    /// Indices that replace a package: (index, (old id, old sha)).
    replaced: Vec<(usize, (PackageId, Sha256))>,
    /// Indices the repo already has.
    unchanged: Vec<usize>,
}

fn plan(
    repo: &str,
    current: &BTreeMap<PackageKey, (PackageId, Sha256, u64)>,
    incoming: &[Incoming],
    force_replace: bool,
) -> Result<Plan, RepoError> {
    let mut plan = Plan {
        new: Vec::new(),
        replaced: Vec::new(),
        unchanged: Vec::new(),
    };
    let mut seen: BTreeMap<PackageKey, usize> = BTreeMap::new();
    for (i, inc) in incoming.iter().enumerate() {
        let key = key_of(&inc.record);
        if let Some(&j) = seen.get(&key) {
            let first = &incoming[j];
            if first.record.sha256 != inc.record.sha256 {
                return Err(RepoError::Ambiguous(Box::new(Conflict {
                    repo: first.file.clone(),
                    package: key.to_string(),
                    existing: first.record.sha256,
                    offered: inc.record.sha256,
                    offered_by: format!("`{}`", inc.file),
                })));
            }
            continue;
        }
        seen.insert(key.clone(), i);
        match current.get(&key) {
            None => plan.new.push(i),
            Some((_, sha, _)) if *sha == inc.record.sha256 => plan.unchanged.push(i),
            Some((id, sha, _)) if force_replace => plan.replaced.push((i, (*id, *sha))),
            Some((_, sha, _)) => {
                return Err(RepoError::Conflict(Box::new(Conflict {
                    repo: repo.to_owned(),
                    package: key.to_string(),
                    existing: *sha,
                    offered: inc.record.sha256,
                    offered_by: format!("`{}`", inc.file),
                })));
            }
        }
    }
    Ok(plan)
}

impl Plan {
    /// Stages the new and replacing packages of review-mode `repo` (a
    /// replacement also stages the removal of the package it replaces).
    fn stage(
        &self,
        ctx: &mut Context,
        repo: &crate::db::Repo,
        incoming: &[Incoming],
        current: &BTreeMap<PackageKey, (PackageId, Sha256, u64)>,
        vetted: Vec<AuditEvent>,
    ) -> Result<(), RepoError> {
        use crate::db::NewRepoStaged;
        let mut changes: Vec<NewRepoStaged<'_>> = self
            .new
            .iter()
            .chain(self.replaced.iter().map(|(i, _)| i))
            .map(|&i| NewRepoStaged::Add(&incoming[i].record))
            .collect();
        for (i, _) in &self.replaced {
            let key = key_of(&incoming[*i].record);
            if let Some((id, sha256, size)) = current.get(&key) {
                changes.push(NewRepoStaged::Remove {
                    id: *id,
                    key,
                    sha256: *sha256,
                    size: *size,
                });
            }
        }
        // An upload's vetting leaves its event; a plain add has none.
        let origin = if vetted.is_empty() {
            "repo-add"
        } else {
            "repo-include"
        };
        super::review::stage(ctx, repo, origin, &changes, vetted)
    }

    /// Refuses when a new or replacing package is of a frozen name.
    fn check_frozen(
        &self,
        ctx: &Context,
        repo: &crate::db::Repo,
        incoming: &[Incoming],
    ) -> Result<(), RepoError> {
        let keys: Vec<(PackageKey, &'static str)> = self
            .new
            .iter()
            .map(|&i| (key_of(&incoming[i].record), "add"))
            .chain(
                self.replaced
                    .iter()
                    .map(|(i, _)| (key_of(&incoming[*i].record), "replace")),
            )
            .collect();
        let refs: Vec<(&PackageKey, &'static str)> = keys.iter().map(|(k, a)| (k, *a)).collect();
        super::freeze::check(ctx, repo, &refs, &[])
    }
}

fn key_of(r: &PackageRecord) -> PackageKey {
    PackageKey {
        name: r.name.clone(),
        version: r.version.clone(),
        architecture: r.architecture.clone(),
    }
}

fn package_of(r: &PackageRecord) -> RepoPackage {
    RepoPackage {
        key: key_of(r),
        sha256: r.sha256,
        size: r.size,
    }
}

impl Plan {
    fn report(&self, repo: &str, incoming: &[Incoming], dry_run: bool) -> AddReport {
        let added = |&i: &usize| AddedPackage {
            package: package_of(&incoming[i].record),
            file: incoming[i].file.clone(),
        };
        AddReport {
            repo: repo.to_owned(),
            dry_run,
            added: self.new.iter().map(added).collect(),
            replaced: self
                .replaced
                .iter()
                .map(|(i, (_, old))| Replaced {
                    package: package_of(&incoming[*i].record),
                    replaced_sha256: *old,
                    file: incoming[*i].file.clone(),
                })
                .collect(),
            unchanged: self.unchanged.iter().map(added).collect(),
            staged: false,
        }
    }

    /// One audit event per package added, one per package replaced.
    fn events(&self, repo: &str, incoming: &[Incoming]) -> Vec<AuditEvent> {
        let subject = |i: usize| format!("repo `{repo}` package `{}`", key_of(&incoming[i].record));
        let mut out: Vec<AuditEvent> = self
            .new
            .iter()
            .map(|&i| {
                AuditEvent::new("repo-add", subject(i)).detail(serde_json::json!({
                    "sha256": incoming[i].record.sha256,
                    "size": incoming[i].record.size,
                }))
            })
            .collect();
        out.extend(self.replaced.iter().map(|(i, (_, old))| {
            AuditEvent::new("repo-replace", subject(*i))
                .reason("--force-replace")
                .detail(serde_json::json!({
                    "sha256": incoming[*i].record.sha256,
                    "replaced_sha256": old,
                }))
        }));
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::debian::parse_str;

    fn stanza(text: &str) -> crate::debian::Stanza {
        parse_str(text).unwrap().remove(0)
    }

    #[test]
    fn describe_computes_the_index_fields_and_ignores_the_package_s_own() {
        let sha = Sha256::of(b"deb");
        let r = describe(
            stanza(
                "Package: libfoo1\nSource: foo (2.0-1)\nVersion: 1:2.0-1+b1\nArchitecture: amd64\n\
                 Filename: ../../evil.deb\nSHA256: 00\nDescription: d\n long\n",
            ),
            sha,
            "ab".into(),
            3,
            "main",
            false,
        )
        .unwrap();
        assert_eq!(r.filename, "pool/main/f/foo/libfoo1_2.0-1+b1_amd64.deb");
        assert_eq!(r.source, "foo");
        assert_eq!(r.version, "1:2.0-1+b1");
        assert!(
            r.stanza.contains(&format!("SHA256: {sha}\n")),
            "{}",
            r.stanza
        );
        assert!(r.stanza.contains("Size: 3\nMD5sum: ab\n"), "{}", r.stanza);
        assert!(!r.stanza.contains("evil"), "{}", r.stanza);
        assert!(r.stanza.contains("Description: d\n long\n"), "{}", r.stanza);

        let udeb = describe(
            stanza("Package: di1\nVersion: 1\nArchitecture: all\n"),
            sha,
            "ab".into(),
            3,
            "main",
            true,
        )
        .unwrap();
        assert_eq!(udeb.filename, "pool/main/d/di1/di1_1_all.udeb");
    }

    #[test]
    fn describe_refuses_what_cannot_be_a_package() {
        for text in [
            "Version: 1\nArchitecture: all\n",
            "Package: a1\nVersion: 1/../2\nArchitecture: all\n",
            "Package: a1\nVersion: 1\nArchitecture: a/b\n",
            "Package: a1\nSource: ../x\nVersion: 1\nArchitecture: all\n",
            "Package: a1\nVersion: 1\nArchitecture: source\n",
        ] {
            let r = describe(
                stanza(text),
                Sha256::of(b""),
                String::new(),
                0,
                "main",
                false,
            );
            assert!(r.is_err(), "{text}");
        }
    }
}
