//! `/api/repos`: local repositories, through the same `ops::repo` use
//! cases as `debvault repo …`.
//!
//! aptly's JSON: a repo is `{Name, Comment, DefaultDistribution,
//! DefaultComponent}` (the default distribution is what a publish of a
//! snapshot of the repo uses when it names none); packages are
//! aptly's keys, `P<arch> <name> <version> <hash>` (the hash is the first
//! 16 hex digits of the SHA256); adding answers `{FailedFiles, Report:
//! {Warnings, Added, Removed}}`. A package that fails verification makes
//! the whole add store nothing (as `repo add` does): it is reported in
//! `FailedFiles` with the reason in `Warnings`, status 200, as aptly does.

use std::path::{Path, PathBuf};

use hyper::StatusCode;
use serde_json::{Value, json};

use super::Job;
use super::files::check_name;
use super::reply::{ApiError, JsonBody, chain};
use super::routes::{query_flag, query_param};
use crate::db::{Repo, RepoSpec};
use crate::exit::{ExitCode, VERIFICATION};
use crate::ops::repo::{self, AddOptions, AddReport, CreateOptions, IncludeOptions, RepoError};
use crate::ops::tokens::Token;
use crate::query::Filter;

fn repo_json(r: &Repo) -> Value {
    json!({
        "Name": r.name,
        "Comment": r.spec.comment.clone().unwrap_or_default(),
        "DefaultDistribution": r.spec.default_distribution.clone().unwrap_or_default(),
        "DefaultComponent": r.spec.component,
    })
}

fn repo_error(e: &RepoError) -> ApiError {
    if matches!(e, RepoError::Exists(_)) {
        // aptly's status for a name in use.
        return ApiError::bad_request(chain(e));
    }
    let missing = matches!(e, RepoError::NoRepo(_));
    let busy = matches!(e, RepoError::Lock(_) | RepoError::GcRunning(_));
    ApiError::from_op(e, missing, busy)
}

/// aptly's package key.
pub(super) fn package_ref(
    key: &crate::model::PackageKey,
    sha256: &crate::digest::Sha256,
) -> String {
    let hex = sha256.to_hex();
    format!(
        "P{} {} {} {}",
        key.architecture,
        key.name,
        key.version,
        &hex[..16]
    )
}

/// `GET /api/repos`: the repos the token may use.
pub(super) fn list(token: Token) -> Job {
    Box::new(move |ctx| {
        let repos = repo::list(ctx).map_err(|e| repo_error(&e))?;
        let list: Vec<Value> = repos
            .iter()
            .filter(|r| token.may_use_repo(&r.name))
            .map(repo_json)
            .collect();
        Ok((StatusCode::OK, Value::Array(list)))
    })
}

/// `GET /api/repos/{name}`.
pub(super) fn show(name: String) -> Job {
    Box::new(move |ctx| {
        let r = repo::load(ctx, &name).map_err(|e| repo_error(&e))?;
        Ok((StatusCode::OK, repo_json(&r)))
    })
}

/// `POST /api/repos`: `Name` (required), `Comment`, `DefaultComponent`
/// (default `main`), `DefaultDistribution`; `FromSnapshot` is refused.
pub(super) fn create(body: JsonBody) -> Result<Job, ApiError> {
    let name = body.required("Name")?;
    let comment = body.string("Comment")?.filter(|c| !c.is_empty());
    let component = body
        .string("DefaultComponent")?
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "main".to_owned());
    let default_distribution = body
        .string("DefaultDistribution")?
        .filter(|d| !d.is_empty());
    if body.string("FromSnapshot")?.is_some() {
        return Err(ApiError::bad_request(
            "field `FromSnapshot` is not supported: create the repo, then add packages",
        ));
    }
    Ok(Box::new(move |ctx| {
        let opts = CreateOptions {
            uploaders: None,
            spec: RepoSpec {
                component,
                comment,
                architectures: Vec::new(),
                default_distribution,
                review: false,
            },
            dry_run: false,
        };
        match repo::create(ctx, &name, &opts) {
            Ok(r) => Ok((StatusCode::CREATED, repo_json(&r))),
            Err(e) => Err(repo_error(&e)),
        }
    }))
}

/// `PUT /api/repos/{name}`: `Comment`, `DefaultDistribution`,
/// `DefaultComponent`; a field left out stays as it is.
pub(super) fn edit(name: String, body: JsonBody) -> Result<Job, ApiError> {
    let change = repo::settings::SettingsChange {
        comment: body.string("Comment")?,
        default_distribution: body.string("DefaultDistribution")?,
        component: body.string("DefaultComponent")?.filter(|c| !c.is_empty()),
        review: None,
        dry_run: false,
    };
    Ok(Box::new(move |ctx| {
        let r = repo::settings::edit(ctx, &name, &change).map_err(|e| repo_error(&e))?;
        Ok((StatusCode::OK, repo_json(&r)))
    }))
}

/// `DELETE /api/repos/{name}`: its snapshots keep their packages (see
/// `ops::repo::drop`), so `force` is not needed.
pub(super) fn delete(name: String) -> Job {
    Box::new(move |ctx| {
        repo::drop(ctx, &name, false).map_err(|e| repo_error(&e))?;
        Ok((StatusCode::OK, json!({})))
    })
}

/// `GET /api/repos/{name}/packages[?q=FILTER][&format=details]`: `q` is
/// debvault's filter language (as `repo remove` takes it).
pub(super) fn packages(name: String, query: Option<&str>) -> Result<Job, ApiError> {
    let filter = match query_param(query, "q").filter(|q| !q.is_empty()) {
        Some(q) => Some(
            Filter::parse(&q)
                .map_err(|e| ApiError::bad_request(format!("invalid query `q` `{q}`: {e}")))?,
        ),
        None => None,
    };
    let details = query_param(query, "format").as_deref() == Some("details");
    Ok(Box::new(move |ctx| {
        let r = repo::load(ctx, &name).map_err(|e| repo_error(&e))?;
        let set = ctx.db.package_set(r.package_set).map_err(|e| {
            let e = RepoError::Db(e);
            repo_error(&e)
        })?;
        let all = crate::ops::snapshot::candidates(&ctx.db, &set)
            .map_err(|e| ApiError::from_op(&e, false, false))?;
        let mut out = Vec::new();
        for s in all
            .iter()
            .filter(|s| filter.as_ref().is_none_or(|f| f.matches(*s)))
        {
            let p = &s.entry.package;
            let key = package_ref(&p.key, &p.sha256);
            out.push(if details {
                json!({
                    "Key": key,
                    "Package": p.key.name,
                    "Version": p.key.version,
                    "Architecture": p.key.architecture,
                    "SHA256": p.sha256.to_hex(),
                    "Size": p.size.to_string(),
                })
            } else {
                Value::String(key)
            });
        }
        Ok((StatusCode::OK, Value::Array(out)))
    }))
}

/// `POST /api/repos/{name}/include/{dir}[/{file}]` with `forceReplace` and
/// `noRemoveFiles`: each `.changes` of the upload directory (or the one
/// named) through `repo include`, checked as the CLI checks it; one whose
/// files or signature fail is a failed file, and what it lists stays. The
/// files of an included upload are removed afterwards unless
/// `noRemoveFiles=1`.
pub(super) fn include(
    name: String,
    root: PathBuf,
    dir: String,
    file: Option<String>,
    query: Option<&str>,
) -> Result<Job, ApiError> {
    check_name("directory", &dir)?;
    if let Some(f) = &file {
        check_name("file", f)?;
    }
    let opts = IncludeOptions {
        force_replace: query_flag(query, "forceReplace"),
        dry_run: false,
    };
    let keep = query_flag(query, "noRemoveFiles");
    Ok(Box::new(move |ctx| {
        let dir_path = root.join(&dir);
        let uploads = changes_files(&dir_path, file.as_deref());
        if uploads.is_empty() {
            let shown = file.as_ref().map_or(dir.clone(), |f| format!("{dir}/{f}"));
            return Err(ApiError::not_found(format!(
                "no `.changes` upload at `{shown}`"
            )));
        }
        repo::load(ctx, &name).map_err(|e| repo_error(&e))?;
        let (mut warnings, mut added, mut removed, mut failed) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for changes in &uploads {
            match repo::include(ctx, &name, changes, &opts) {
                Ok(report) => {
                    let v = report.aptly();
                    for (key, out) in [
                        ("Warnings", &mut warnings),
                        ("Added", &mut added),
                        ("Removed", &mut removed),
                    ] {
                        if let Some(items) = v["Report"][key].as_array() {
                            out.extend(items.iter().cloned());
                        }
                    }
                    if !keep {
                        remove_upload(changes);
                    }
                }
                Err(e) if e.exit_code() == VERIFICATION => {
                    failed.push(json!(hide(&changes.display().to_string(), &root)));
                    warnings.push(json!(hide(&chain(&e), &root)));
                }
                Err(e) => {
                    let mut err = ApiError::from_op(&e, false, false);
                    err.message = hide(&err.message, &root);
                    return Err(err);
                }
            }
        }
        let report = json!({"Warnings": warnings, "Added": added, "Removed": removed});
        Ok((
            StatusCode::OK,
            json!({"Report": report, "FailedFiles": failed}),
        ))
    }))
}

/// The `.changes` to include: the one named, or each in `dir`, by name.
fn changes_files(dir: &Path, file: Option<&str>) -> Vec<PathBuf> {
    if let Some(f) = file {
        let path = dir.join(f);
        return if path.is_file() {
            vec![path]
        } else {
            Vec::new()
        };
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "changes") && p.is_file())
        .collect();
    out.sort();
    out
}

/// Removes an included upload: the `.changes` and the files it lists.
fn remove_upload(changes: &Path) {
    let dir = changes.parent().unwrap_or(Path::new("."));
    if let Ok(text) = std::fs::read_to_string(changes)
        && let Ok(parsed) = crate::debian::changes::parse(&text)
    {
        for f in parsed.files {
            if crate::debian::changes::is_plain_name(&f.name) {
                let _ = std::fs::remove_file(dir.join(&f.name));
            }
        }
    }
    let _ = std::fs::remove_file(changes);
    let _ = std::fs::remove_dir(dir);
}

/// `POST /api/repos/{name}/file/{dir}[/{file}]` with `forceReplace` and
/// `noRemove`: the files added are removed afterwards (and the directory,
/// once empty) unless `noRemove=1`.
pub(super) fn add(
    name: String,
    root: PathBuf,
    dir: String,
    file: Option<String>,
    query: Option<&str>,
) -> Result<Job, ApiError> {
    check_name("directory", &dir)?;
    if let Some(f) = &file {
        check_name("file", f)?;
    }
    let opts = AddOptions {
        force_replace: query_flag(query, "forceReplace"),
        dry_run: false,
    };
    let keep = query_flag(query, "noRemove");
    Ok(Box::new(move |ctx| {
        let dir_path = root.join(&dir);
        let path = match &file {
            Some(f) => dir_path.join(f),
            None => dir_path.clone(),
        };
        if !path.exists() {
            let shown = file.as_ref().map_or(dir.clone(), |f| format!("{dir}/{f}"));
            return Err(ApiError::not_found(format!(
                "upload `{shown}` does not exist"
            )));
        }
        // Load first: a missing repo is a 404, not a failed file.
        repo::load(ctx, &name).map_err(|e| repo_error(&e))?;
        match repo::add(ctx, &name, &[path], &opts) {
            Ok(report) => {
                if !keep {
                    remove_added(&report, &dir_path);
                }
                Ok((StatusCode::OK, add_json(&report, &root)))
            }
            Err(e) if e.exit_code() == VERIFICATION => Ok((StatusCode::OK, failed_json(&e, &root))),
            Err(e) => {
                let mut err = repo_error(&e);
                err.message = hide(&err.message, &root);
                Err(err)
            }
        }
    }))
}

/// Paths below the token's upload root shown relative to it: the
/// server's layout is not the client's business.
fn hide(text: &str, root: &Path) -> String {
    let prefix = format!("{}/", root.display());
    text.replace(&prefix, "")
}

fn added_line(p: &repo::RepoPackage, what: &str) -> String {
    format!(
        "{}_{}_{} {what}",
        p.key.name, p.key.version, p.key.architecture
    )
}

fn add_json(r: &AddReport, root: &Path) -> Value {
    let mut added: Vec<String> = r
        .added
        .iter()
        .map(|a| added_line(&a.package, "added"))
        .collect();
    let mut removed = Vec::new();
    for x in &r.replaced {
        added.push(added_line(&x.package, "added"));
        removed.push(format!(
            "{}_{}_{} removed (SHA256 {})",
            x.package.key.name,
            x.package.key.version,
            x.package.key.architecture,
            x.replaced_sha256
        ));
    }
    let warnings: Vec<String> = r
        .unchanged
        .iter()
        .map(|u| {
            hide(
                &format!(
                    "{} already in repo `{}` with these bytes (`{}`)",
                    added_line(&u.package, "").trim_end(),
                    r.repo,
                    u.file
                ),
                root,
            )
        })
        .collect();
    json!({
        "FailedFiles": [],
        "Report": {"Warnings": warnings, "Added": added, "Removed": removed},
    })
}

fn failed_json(e: &RepoError, root: &Path) -> Value {
    let file = match e {
        RepoError::BadDeb { path, .. }
        | RepoError::BadControl { path, .. }
        | RepoError::BadDsc { path, .. }
        | RepoError::BadSource { path, .. }
        | RepoError::SourceFileMismatch { path, .. } => Some(path.clone()),
        RepoError::Conflict(c) | RepoError::Ambiguous(c) => {
            Some(c.offered_by.trim_matches('`').to_owned())
        }
        _ => None,
    };
    json!({
        "FailedFiles": file.map(|f| hide(&f, root)).into_iter().collect::<Vec<_>>(),
        "Report": {"Warnings": [hide(&chain(e), root)], "Added": [], "Removed": []},
    })
}

/// Deletes the files an add took in, then their directory if empty.
fn remove_added(r: &AddReport, dir: &Path) {
    let files = r
        .added
        .iter()
        .map(|a| &a.file)
        .chain(r.replaced.iter().map(|x| &x.file))
        .chain(r.unchanged.iter().map(|u| &u.file));
    for f in files {
        let _ = std::fs::remove_file(f);
    }
    let _ = std::fs::remove_dir(dir);
}
