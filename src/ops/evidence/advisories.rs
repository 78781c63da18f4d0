//! Security advisories, offline: `advisories import` reads the Debian
//! security tracker's JSON (`{package: {CVE: {releases: {codename:
//! {status, fixed_version, urgency}}}}}`) and OSV records (a file of one
//! record or an array of them, a directory of such files, or a zip of
//! them as OSV publishes per ecosystem, `all.zip`), and
//! `advisories status` lists the packages whose version an advisory
//! affects and whether a fixed version is staged, listed by the mirror's
//! last verified upstream indices ([`super::upstream`]) or absent.
//!
//! The files are input from outside: each is read bounded
//! ([`MAX_FILE`]), nesting is bounded by the JSON parser, and a wrong
//! type or a version that does not parse is an error naming the record.
//! A file is parsed whole before anything is written, and each import is
//! one transaction: a bad file leaves earlier imports as they were. A zip
//! is read by [`crate::debian::zip`] (bounded, entries never written to
//! disk); its entries not ending in `.json` are skipped.
//!
//! An OSV record's `Debian:12` ecosystem is the release `bookworm`: its
//! ranges match only mirrors and snapshots of that codename (or suite);
//! `Debian` alone matches any release. Other ecosystems are skipped.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::db::{AdvisoryRow, Db};
use crate::debian::deb822::find_field;
use crate::debian::sources::{SOURCE_ARCH, split_source_field};
use crate::debian::version::{self, Version};
use crate::exit::{ExitCode, FAILURE, USAGE};
use crate::model::{Mirror, PackageRecord};
use crate::ops::Context;

use super::origins::Origins;

/// Largest advisory file read (the whole tracker JSON is about 70 MB).
pub const MAX_FILE: u64 = 512 << 20;

/// Largest entry of a zip, uncompressed.
pub const MAX_ZIP_ENTRY: u64 = 64 << 20;

/// Most bytes inflated from one zip, all entries together (entries that
/// overlap in the archive are each inflated).
pub const MAX_ZIP_TOTAL: u64 = 4 << 30;

/// Most files read from one directory.
pub const MAX_DIR_FILES: usize = 1_000_000;

/// Why an import or a status failed.
#[derive(Debug, Error)]
pub enum AdvisoryError {
    /// The file cannot be read.
    #[error("cannot read advisory file `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE`].
    #[error("advisory file `{path}` is larger than {MAX_FILE} bytes")]
    TooBig {
        /// The file.
        path: PathBuf,
    },
    /// Not JSON (or nested beyond the parser's limit).
    #[error("advisory file `{path}` is not JSON")]
    NotJson {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A record is malformed.
    #[error("advisory file `{path}`: record `{record}`: {problem}")]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// The record (`package/CVE/release`, or an OSV id).
        record: String,
        /// What is wrong.
        problem: String,
    },
    /// A zip archive that cannot be read (damaged, hostile, or zip64,
    /// encrypted, an unknown method).
    #[error("advisory zip `{path}` cannot be read")]
    Zip {
        /// The zip.
        path: PathBuf,
        /// Why (names the entry when one is at fault).
        #[source]
        source: crate::debian::zip::ZipError,
    },
    /// A zip's entries inflate to more than [`MAX_ZIP_TOTAL`].
    #[error("advisory zip `{path}` inflates to more than {MAX_ZIP_TOTAL} bytes")]
    ZipTooBig {
        /// The zip.
        path: PathBuf,
    },
    /// An entry of a zip is not a valid OSV record.
    #[error("advisory zip `{path}`, entry `{entry}`")]
    InZip {
        /// The zip.
        path: PathBuf,
        /// The entry's name in the zip.
        entry: String,
        /// What is wrong with it.
        #[source]
        source: Box<AdvisoryError>,
    },
    /// No such mirror or snapshot.
    #[error("{0} does not exist")]
    NoScope(String),
    /// The database.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl ExitCode for AdvisoryError {
    fn exit_code(&self) -> u8 {
        match self {
            AdvisoryError::Zip { source, .. } if source.is_unsupported() => USAGE,
            AdvisoryError::InZip { source, .. } => source.exit_code(),
            AdvisoryError::Db(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

/// What one import recorded.
#[derive(Clone, Debug, Serialize)]
pub struct Imported {
    /// The file or directory.
    pub source: String,
    /// `debian-tracker` or `osv`.
    pub format: &'static str,
    /// Rows recorded (advisory × package × release).
    pub records: usize,
}

/// Imports each of `paths`, one transaction each, in order; the first bad
/// one stops the run (those before it stay imported).
pub fn import(
    db: &mut Db,
    paths: &[PathBuf],
    now: DateTime<Utc>,
) -> Result<Vec<Imported>, AdvisoryError> {
    let mut out = Vec::new();
    for path in paths {
        let (format, rows) = read_path(path)?;
        let source = path.display().to_string();
        db.import_advisories(&source, format, &rows, now)?;
        out.push(Imported {
            source,
            format,
            records: rows.len(),
        });
    }
    Ok(out)
}

/// The rows of a file or a directory of OSV files.
fn read_path(path: &Path) -> Result<(&'static str, Vec<AdvisoryRow>), AdvisoryError> {
    let read_err = |source| AdvisoryError::Read {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_dir() {
        let data = read_bytes(path)?;
        if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
            return read_zip(path, &data);
        }
        let value = json_of(path, &data)?;
        return parse_value(path, &value);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_err)?
        .take(MAX_DIR_FILES)
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for f in &files {
        let value = read_json(f)?;
        let (format, more) = parse_value(f, &value)?;
        if format != "osv" {
            return Err(bad(f, "(file)", "a directory holds OSV records only"));
        }
        rows.extend(more);
    }
    Ok(("osv", rows))
}

/// The OSV rows of every `.json` entry of the zip `data` read from `path`.
fn read_zip(path: &Path, data: &[u8]) -> Result<(&'static str, Vec<AdvisoryRow>), AdvisoryError> {
    use crate::debian::zip;
    let zip_err = |source| AdvisoryError::Zip {
        path: path.to_owned(),
        source,
    };
    let mut rows = Vec::new();
    let mut total = 0u64;
    for e in zip::entries(data).map_err(zip_err)? {
        if !e.name.ends_with(".json") {
            continue;
        }
        total = total.saturating_add(e.size);
        if total > MAX_ZIP_TOTAL {
            return Err(AdvisoryError::ZipTooBig {
                path: path.to_owned(),
            });
        }
        let body = e.read(data, MAX_ZIP_ENTRY).map_err(zip_err)?;
        // The entry's name only labels errors; it is never opened.
        let entry = Path::new(&e.name);
        let parsed = json_of(entry, &body).and_then(|v| parse_value(entry, &v));
        let in_zip = |source| AdvisoryError::InZip {
            path: path.to_owned(),
            entry: e.name.clone(),
            source: Box::new(source),
        };
        let (format, more) = parsed.map_err(in_zip)?;
        if format != "osv" {
            return Err(in_zip(bad(entry, "(file)", "a zip holds OSV records only")));
        }
        rows.extend(more);
    }
    Ok(("osv", rows))
}

fn read_json(path: &Path) -> Result<Value, AdvisoryError> {
    let data = read_bytes(path)?;
    json_of(path, &data)
}

fn json_of(path: &Path, data: &[u8]) -> Result<Value, AdvisoryError> {
    serde_json::from_slice(data).map_err(|source| AdvisoryError::NotJson {
        path: path.to_owned(),
        source,
    })
}

/// The bytes of `path`, at most [`MAX_FILE`].
fn read_bytes(path: &Path) -> Result<Vec<u8>, AdvisoryError> {
    let read_err = |source| AdvisoryError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut data = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut data)
        .map_err(read_err)?;
    if data.len() as u64 > MAX_FILE {
        return Err(AdvisoryError::TooBig {
            path: path.to_owned(),
        });
    }
    Ok(data)
}

fn bad(path: &Path, record: &str, problem: impl Into<String>) -> AdvisoryError {
    AdvisoryError::BadRecord {
        path: path.to_owned(),
        record: record.to_owned(),
        problem: problem.into(),
    }
}

/// The rows of one parsed file (pure): OSV (an object with `id`, or an
/// array of them) or the tracker's shape.
pub fn parse_value(
    path: &Path,
    v: &Value,
) -> Result<(&'static str, Vec<AdvisoryRow>), AdvisoryError> {
    match v {
        Value::Array(records) => {
            let mut rows = Vec::new();
            for r in records {
                rows.extend(osv(path, r)?);
            }
            Ok(("osv", rows))
        }
        Value::Object(o) if o.contains_key("id") && o.contains_key("affected") => {
            Ok(("osv", osv(path, v)?))
        }
        Value::Object(o) => Ok(("debian-tracker", tracker(path, o)?)),
        _ => Err(bad(path, "(top level)", "expected an object or an array")),
    }
}

/// A version that must parse, for the record `record`.
fn checked(path: &Path, record: &str, v: &str) -> Result<String, AdvisoryError> {
    Version::parse(v)
        .map(|_| v.to_owned())
        .map_err(|e| bad(path, record, format!("version `{v}` does not parse: {e}")))
}

fn tracker(
    path: &Path,
    top: &serde_json::Map<String, Value>,
) -> Result<Vec<AdvisoryRow>, AdvisoryError> {
    let mut rows = Vec::new();
    for (package, cves) in top {
        let cves = cves
            .as_object()
            .ok_or_else(|| bad(path, package, "expected an object of advisories"))?;
        for (id, rec) in cves {
            let record = format!("{package}/{id}");
            let rec = rec
                .as_object()
                .ok_or_else(|| bad(path, &record, "expected an object"))?;
            let Some(releases) = rec.get("releases") else {
                continue;
            };
            let releases = releases
                .as_object()
                .ok_or_else(|| bad(path, &record, "`releases` is not an object"))?;
            for (release, r) in releases {
                let record = format!("{package}/{id}/{release}");
                let r = r
                    .as_object()
                    .ok_or_else(|| bad(path, &record, "expected an object"))?;
                let field = |k: &str| -> Result<Option<&str>, AdvisoryError> {
                    match r.get(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s)),
                        Some(_) => Err(bad(path, &record, format!("`{k}` is not a string"))),
                    }
                };
                let urgency = field("urgency")?.map(str::to_owned);
                let fixed = match field("status")? {
                    Some("resolved") => {
                        let f = field("fixed_version")?.ok_or_else(|| {
                            bad(path, &record, "resolved without `fixed_version`")
                        })?;
                        // `0`: the release never had the vulnerable code.
                        if f == "0" {
                            continue;
                        }
                        Some(checked(path, &record, f)?)
                    }
                    Some("open") => None,
                    // `undetermined`, `not-affected`, unknown: nothing to report.
                    _ => continue,
                };
                rows.push(AdvisoryRow {
                    id: id.clone(),
                    package: package.clone(),
                    release: release.clone(),
                    fixed,
                    urgency,
                    modified: None,
                });
            }
        }
    }
    Ok(rows)
}

/// The rows of one OSV record: each Debian package it affects, with the
/// lowest `fixed` event of its ECOSYSTEM ranges.
fn osv(path: &Path, r: &Value) -> Result<Vec<AdvisoryRow>, AdvisoryError> {
    let id = r
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(path, "(OSV record without a string `id`)", "no `id`"))?;
    let modified = match r.get("modified") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            DateTime::parse_from_rfc3339(s)
                .map_err(|e| bad(path, id, format!("`modified` `{s}` is not RFC 3339: {e}")))?
                .with_timezone(&Utc),
        ),
        Some(_) => return Err(bad(path, id, "`modified` is not a string")),
    };
    let affected = r
        .get("affected")
        .and_then(Value::as_array)
        .ok_or_else(|| bad(path, id, "`affected` is not an array"))?;
    let mut rows = Vec::new();
    for a in affected {
        let pkg = a
            .get("package")
            .ok_or_else(|| bad(path, id, "an `affected` entry has no `package`"))?;
        let (Some(eco), Some(name)) = (
            pkg.get("ecosystem").and_then(Value::as_str),
            pkg.get("name").and_then(Value::as_str),
        ) else {
            return Err(bad(
                path,
                id,
                "`package` needs string `ecosystem` and `name`",
            ));
        };
        let Some(release) = debian_release(eco) else {
            continue;
        };
        let mut fixed: Option<String> = None;
        let ranges = match a.get("ranges") {
            None | Some(Value::Null) => &Vec::new(),
            Some(Value::Array(r)) => r,
            Some(_) => return Err(bad(path, id, "`ranges` is not an array")),
        };
        for range in ranges {
            if range.get("type").and_then(Value::as_str) != Some("ECOSYSTEM") {
                continue;
            }
            let events = range
                .get("events")
                .and_then(Value::as_array)
                .ok_or_else(|| bad(path, id, "a range has no `events` array"))?;
            for e in events {
                if let Some(f) = e.get("fixed") {
                    let f = f
                        .as_str()
                        .ok_or_else(|| bad(path, id, "`fixed` is not a string"))?;
                    let f = checked(path, id, f)?;
                    if fixed
                        .as_deref()
                        .is_none_or(|cur| version::compare(&f, cur).is_lt())
                    {
                        fixed = Some(f);
                    }
                }
            }
        }
        let urgency = ["ecosystem_specific", "database_specific"]
            .iter()
            .find_map(|k| a.get(k).or_else(|| r.get(k))?.get("urgency")?.as_str())
            .map(str::to_owned);
        rows.push(AdvisoryRow {
            id: id.to_owned(),
            package: name.to_owned(),
            release,
            fixed,
            urgency,
            modified,
        });
    }
    Ok(rows)
}

/// The release an OSV Debian ecosystem names: `Debian:12` → `bookworm`,
/// `Debian` → empty (any release); `None` for other ecosystems (Ubuntu's
/// included). An unknown number keeps the ecosystem name, which matches
/// no codename, rather than matching every release.
fn debian_release(ecosystem: &str) -> Option<String> {
    const CODENAMES: [(&str, &str); 8] = [
        ("7", "wheezy"),
        ("8", "jessie"),
        ("9", "stretch"),
        ("10", "buster"),
        ("11", "bullseye"),
        ("12", "bookworm"),
        ("13", "trixie"),
        ("14", "forky"),
    ];
    if ecosystem == "Debian" {
        return Some(String::new());
    }
    let number = ecosystem.strip_prefix("Debian:")?;
    let codename = CODENAMES.iter().find(|(n, _)| *n == number);
    Some(codename.map_or_else(|| ecosystem.to_owned(), |(_, c)| (*c).to_owned()))
}

/// Where a fixed version is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FixState {
    /// Staged for review in the mirror.
    Staged,
    /// Listed by the last verified upstream indices of the mirror (for a
    /// snapshot: of the mirrors it came from), not in the set and not
    /// staged: outside the filter, rejected, or not synced yet.
    Upstream,
    /// Neither staged nor offered by the mirror's upstream (or no fix
    /// exists yet).
    Absent,
}

/// A package whose version an advisory affects.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The mirror or snapshot.
    pub scope: String,
    /// Source package.
    pub package: String,
    /// Its version in the set.
    pub version: String,
    /// The advisory.
    pub advisory: String,
    /// The first fixed version, if one exists.
    pub fixed: Option<String>,
    /// Urgency as the record gives it.
    pub urgency: Option<String>,
    /// Where the fix is.
    pub fix: FixState,
}

/// The set to look at.
pub enum Scope<'a> {
    /// Every mirror's live packages.
    AllMirrors,
    /// One mirror's live packages (and its staged changes).
    Mirror(&'a str),
    /// One snapshot.
    Snapshot(&'a str),
}

/// The open advisories of `scope`, sorted by scope, package, advisory.
/// Whether a fix is available upstream is read from the scope mirrors'
/// last verified indices ([`super::upstream`]), only when some fix is
/// neither in the set nor staged.
pub fn status(ctx: &Context, scope: Scope<'_>) -> Result<Vec<Finding>, AdvisoryError> {
    let db = &ctx.db;
    let mut out = Vec::new();
    match scope {
        Scope::Snapshot(name) => {
            let snap = db
                .snapshot(name)?
                .ok_or_else(|| AdvisoryError::NoScope(format!("snapshot `{name}`")))?;
            let set = db.package_set(snap.package_set)?;
            let origins = super::origins::of(db, &snap)?;
            let releases = snapshot_releases(db, &origins)?;
            let records = records_of(db, &set)?;
            let mut found = findings(db, name, &records, &releases, &[])?;
            let mut mirrors = Vec::new();
            for m in &origins.mirrors {
                if let Some(m) = db.mirror(&m.name)?
                    && !mirrors.iter().any(|have: &Mirror| have.id == m.id)
                {
                    mirrors.push(m);
                }
            }
            super::upstream::mark(ctx, &mirrors, &mut found)?;
            out.extend(found);
        }
        Scope::Mirror(name) => {
            let m = db
                .mirror(name)?
                .ok_or_else(|| AdvisoryError::NoScope(format!("mirror `{name}`")))?;
            out.extend(mirror_findings(ctx, &m)?);
        }
        Scope::AllMirrors => {
            for m in db.mirrors()? {
                out.extend(mirror_findings(ctx, &m)?);
            }
        }
    }
    Ok(out)
}

fn mirror_findings(ctx: &Context, m: &Mirror) -> Result<Vec<Finding>, AdvisoryError> {
    let db = &ctx.db;
    let Some(rev) = m.state.revision else {
        return Ok(Vec::new());
    };
    let set = db.revision_set(rev)?;
    let records = records_of(db, &set)?;
    let mut releases = vec![m.spec.suite.clone()];
    if let Some(r) = db.revision(rev)?
        && let Some(c) = r.stats["release_codename"].as_str()
    {
        releases.push(c.to_owned());
    }
    let staged: Vec<(String, String)> = db
        .staged(Some(m.id), false)?
        .into_iter()
        .filter(|s| s.action == crate::db::StageAction::Add)
        .map(|s| (s.key.name, s.key.version))
        .collect();
    let mut found = findings(db, &m.name, &records, &releases, &staged)?;
    super::upstream::mark(ctx, std::slice::from_ref(m), &mut found)?;
    Ok(found)
}

fn snapshot_releases(db: &Db, origins: &Origins) -> Result<Vec<String>, AdvisoryError> {
    let mut out = Vec::new();
    for m in &origins.mirrors {
        out.push(m.suite.clone());
        if let Some(r) = db.revision(m.revision)?
            && let Some(c) = r.stats["release_codename"].as_str()
        {
            out.push(c.to_owned());
        }
    }
    Ok(out)
}

fn records_of(db: &Db, set: &crate::db::PackageSet) -> Result<Vec<PackageRecord>, AdvisoryError> {
    let mut out = Vec::new();
    for (_, ids) in set.components() {
        out.extend(db.packages(ids)?);
    }
    Ok(out)
}

/// The findings of one package set (`staged`: (binary, version) pairs
/// waiting for review).
fn findings(
    db: &Db,
    scope: &str,
    records: &[PackageRecord],
    releases: &[String],
    staged: &[(String, String)],
) -> Result<Vec<Finding>, AdvisoryError> {
    // Source name → (source version, its binary names).
    let mut sources: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for r in records {
        let (name, ver) = if r.architecture == SOURCE_ARCH {
            (r.name.clone(), r.version.clone())
        } else {
            let (n, v) = find_field(&r.stanza, "Source")
                .map(split_source_field)
                .unwrap_or((r.source.as_str(), None));
            let n = if n.is_empty() { r.name.as_str() } else { n };
            (n.to_owned(), v.unwrap_or(&r.version).to_owned())
        };
        let e = sources
            .entry(name)
            .or_insert_with(|| (ver.clone(), Vec::new()));
        if version::compare(&ver, &e.0) == Ordering::Greater {
            e.0 = ver;
        }
        e.1.push(r.name.clone());
    }
    let names: Vec<&str> = sources.keys().map(String::as_str).collect();
    let mut by_package: HashMap<String, Vec<AdvisoryRow>> = HashMap::new();
    for a in db.advisories_for(&names)? {
        if a.release.is_empty() || releases.contains(&a.release) {
            by_package.entry(a.package.clone()).or_default().push(a);
        }
    }
    let mut out = Vec::new();
    for (name, (ver, binaries)) in &sources {
        let Some(advs) = by_package.get(name) else {
            continue;
        };
        let mut seen = std::collections::HashSet::new();
        for a in advs {
            let affected = match &a.fixed {
                None => true,
                Some(f) => version::compare(ver, f) == Ordering::Less,
            };
            if !affected || !seen.insert(&a.id) {
                continue;
            }
            let fixed_by = |v: &str| {
                a.fixed
                    .as_deref()
                    .is_some_and(|f| version::compare(v, f) != Ordering::Less)
            };
            let fix = if staged
                .iter()
                .any(|(n, v)| binaries.contains(n) && fixed_by(v))
            {
                FixState::Staged
            } else {
                // Upstream or not: [`super::upstream::mark`] decides.
                FixState::Absent
            };
            out.push(Finding {
                scope: scope.to_owned(),
                package: name.clone(),
                version: ver.clone(),
                advisory: a.id.clone(),
                fixed: a.fixed.clone(),
                urgency: a.urgency.clone(),
                fix,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tracker_and_osv_shapes() {
        let p = Path::new("t.json");
        let tracker: Value = serde_json::from_str(
            r#"{"openssl": {"CVE-2024-1": {"releases": {
                "bookworm": {"status": "resolved", "fixed_version": "3.0.15-1", "urgency": "high"},
                "trixie": {"status": "resolved", "fixed_version": "0"},
                "sid": {"status": "open", "urgency": "unimportant"},
                "forky": {"status": "undetermined"}}}}}"#,
        )
        .unwrap();
        let (f, rows) = parse_value(p, &tracker).unwrap();
        assert_eq!(f, "debian-tracker");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].fixed.as_deref(), Some("3.0.15-1"));
        assert_eq!(rows[1].fixed, None);
        let osv: Value = serde_json::from_str(
            r#"{"id": "DSA-1-1", "modified": "2024-01-01T00:00:00Z", "affected": [
                {"package": {"ecosystem": "Debian:12", "name": "hello"},
                 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10-3"}]}]},
                {"package": {"ecosystem": "PyPI", "name": "x"}}]}"#,
        )
        .unwrap();
        let (f, rows) = parse_value(p, &osv).unwrap();
        assert_eq!((f, rows.len()), ("osv", 1));
        assert_eq!(rows[0].fixed.as_deref(), Some("2.10-3"));
    }

    #[test]
    fn hostile_records_are_named() {
        let p = Path::new("t.json");
        for (text, needle) in [
            (r#"{"a": []}"#, "record `a`"),
            (
                r#"{"a": {"CVE-1": {"releases": {"x": {"status": "resolved", "fixed_version": "_bad"}}}}}"#,
                "record `a/CVE-1/x`",
            ),
            (
                r#"{"a": {"CVE-1": {"releases": {"x": {"status": 7}}}}}"#,
                "`status` is not a string",
            ),
            (
                r#"{"id": "OSV-1", "affected": [{"package": {"ecosystem": "Debian", "name": "a"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": ""}]}]}]}"#,
                "record `OSV-1`",
            ),
            ("7", "top level"),
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            let e = parse_value(p, &v).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
        let deep = "[".repeat(10_000);
        assert!(serde_json::from_str::<Value>(&deep).is_err());
    }

    #[test]
    fn osv_ecosystems_name_releases() {
        assert_eq!(debian_release("Debian:12").as_deref(), Some("bookworm"));
        assert_eq!(debian_release("Debian:10").as_deref(), Some("buster"));
        assert_eq!(debian_release("Debian:14").as_deref(), Some("forky"));
        assert_eq!(debian_release("Debian").as_deref(), Some(""));
        assert_eq!(debian_release("Debian:99").as_deref(), Some("Debian:99"));
        assert_eq!(debian_release("Ubuntu:24.04:LTS"), None);
        assert_eq!(debian_release("Debianish"), None);
    }

    #[test]
    fn zip_of_osv_records() {
        use crate::debian::zip::tests::build;
        let rec = |id: &str, eco: &str| {
            format!(
                r#"{{"id": "{id}", "affected": [{{"package": {{"ecosystem": "{eco}", "name": "hello"}},
                "ranges": [{{"type": "ECOSYSTEM", "events": [{{"fixed": "2.10-3"}}]}}]}}]}}"#
            )
        };
        let (a, b) = (rec("DSA-1", "Debian:12"), rec("DSA-2", "Debian"));
        let z = build(&[
            ("DSA-1.json", a.as_bytes(), true),
            ("README", b"not json", false),
            ("DSA-2.json", b.as_bytes(), false),
        ]);
        let (f, rows) = read_zip(Path::new("all.zip"), &z).unwrap();
        assert_eq!(f, "osv");
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.id.as_str(), r.release.as_str()))
            .collect();
        assert_eq!(got, [("DSA-1", "bookworm"), ("DSA-2", "")]);

        let z = build(&[
            ("DSA-1.json", a.as_bytes(), false),
            ("x.json", b"{\"id\": 7, \"affected\": []}", true),
        ]);
        let e = read_zip(Path::new("all.zip"), &z).unwrap_err();
        let chain = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(chain.contains("`all.zip`, entry `x.json`"), "{chain}");
        assert_eq!(e.exit_code(), FAILURE);
    }
}
