//! Local repositories: named package sets an operator changes by hand.
//!
//! A repo row points at a package set (shared by content, like a mirror
//! revision's). A change inserts the packages it adds, stores the new set
//! and moves the row to it in one transaction, with its audit events; the
//! row's `revision` must still be the one the change was planned against.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::curation::{AuditEvent, append_audit};
use super::{Db, DbError, PackageSet, corrupt, parse_ts, sql, store_set, ts};
use crate::model::{PackageId, PackageRecord, PackageSetId, RepoId};

/// What the operator configured for a repo.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct RepoSpec {
    /// The component its packages are published in (`main`).
    pub component: String,
    /// Free text for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Architectures a snapshot of it publishes indices for; empty: those
    /// of its packages (the machine's own when it has only `all`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    /// The distribution a snapshot of it publishes to when none is named
    /// (aptly's `DefaultDistribution`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_distribution: Option<String>,
    /// Changes stage for review (`promote`/`reject`) instead of going live.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub review: bool,
}

/// A stored repo.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Repo {
    /// Row id.
    #[serde(skip)]
    pub id: RepoId,
    /// Unique name.
    pub name: String,
    /// Configuration.
    #[serde(flatten)]
    pub spec: RepoSpec,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
    /// Changes so far.
    pub revision: u64,
    /// Number of packages.
    pub packages: u64,
    /// The package set.
    #[serde(skip)]
    pub package_set: PackageSetId,
}

/// One repo's new content, as a change computed it.
#[derive(Debug)]
pub struct RepoChange<'a> {
    /// The repo, as the change was planned against it.
    pub repo: &'a Repo,
    /// Packages already stored that it keeps or gains.
    pub kept: Vec<PackageId>,
    /// Packages to insert (or find, when a mirror or repo stored them).
    pub added: Vec<&'a PackageRecord>,
    /// What the audit trail records.
    pub events: Vec<AuditEvent>,
}

const REPO_COLUMNS: &str = "r.id, r.name, r.spec, r.created_at, r.updated_at, r.revision, \
     r.package_set_id, p.count";

type RepoRow = (i64, String, String, String, String, i64, i64, i64);

fn repo_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RepoRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn repo_from(row: RepoRow) -> Result<Repo, DbError> {
    let (id, name, spec, created, updated, revision, set, count) = row;
    let what = format!("repo `{name}`");
    Ok(Repo {
        id: RepoId(id),
        spec: serde_json::from_str(&spec).map_err(|e| corrupt(&what, e))?,
        created_at: parse_ts(Some(created), &what)?.unwrap_or_default(),
        updated_at: parse_ts(Some(updated), &what)?.unwrap_or_default(),
        revision: revision as u64,
        package_set: PackageSetId(set),
        packages: count as u64,
        name,
    })
}

/// The audit subject of a repo.
pub(crate) fn repo_subject(name: &str) -> String {
    format!("repo `{name}`")
}

impl Db {
    /// Stores a new, empty repo and records it in the audit trail; fails
    /// with [`DbError::RepoExists`] if the name is taken.
    pub fn create_repo(&mut self, name: &str, spec: &RepoSpec) -> Result<RepoId, DbError> {
        self.create_repo_with(name, spec, None)
    }

    /// [`Db::create_repo`], with its uploaders stored in the same transaction.
    pub fn create_repo_with(
        &mut self,
        name: &str,
        spec: &RepoSpec,
        uploaders: Option<&super::StoredUploaders>,
    ) -> Result<RepoId, DbError> {
        let what = format!("create repo `{name}`");
        let spec_json = serde_json::to_string(spec).map_err(|e| corrupt(&what, e))?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(&what))?;
        let set_id = store_set(&tx, &PackageSet::default())?;
        let now = ts(&Utc::now());
        match tx.execute(
            "INSERT INTO repos (name, spec, created_at, updated_at, package_set_id) \
             VALUES (?1, ?2, ?3, ?3, ?4)",
            params![name, spec_json, now, set_id.0],
        ) {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(DbError::RepoExists(name.to_owned()));
            }
            Err(e) => return Err(sql(what)(e)),
        }
        let id = RepoId(tx.last_insert_rowid());
        if let Some(u) = uploaders {
            super::uploaders::insert(&tx, id, u)?;
        }
        append_audit(
            &tx,
            &self.actor,
            &AuditEvent::new("repo-create", repo_subject(name))
                .detail(serde_json::to_value(spec).map_err(|e| corrupt(&what, e))?),
        )?;
        tx.commit().map_err(sql(what))?;
        Ok(id)
    }

    /// A repo by name.
    pub fn repo(&self, name: &str) -> Result<Option<Repo>, DbError> {
        let q = format!(
            "SELECT {REPO_COLUMNS} FROM repos r JOIN package_sets p ON p.id = r.package_set_id \
             WHERE r.name = ?1"
        );
        self.conn
            .query_row(&q, [name], repo_row)
            .optional()
            .map_err(sql(format!("load repo `{name}`")))?
            .map(repo_from)
            .transpose()
    }

    /// Every repo, by name.
    pub fn repos(&self) -> Result<Vec<Repo>, DbError> {
        let q = format!(
            "SELECT {REPO_COLUMNS} FROM repos r JOIN package_sets p ON p.id = r.package_set_id \
             ORDER BY r.name"
        );
        let mut stmt = self.conn.prepare(&q).map_err(sql("list repos"))?;
        let rows = stmt.query_map([], repo_row).map_err(sql("list repos"))?;
        rows.map(|r| repo_from(r.map_err(sql("list repos"))?))
            .collect()
    }

    /// Deletes a repo (its package set and packages stay for snapshots
    /// and `gc`) and records it in the audit trail.
    pub fn drop_repo(&mut self, repo: &Repo) -> Result<(), DbError> {
        let what = format!("drop repo `{}`", repo.name);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(&what))?;
        let n = tx
            .execute(
                "DELETE FROM repos WHERE id = ?1 AND revision = ?2",
                params![repo.id.0, repo.revision as i64],
            )
            .map_err(sql(&what))?;
        if n == 0 {
            return Err(DbError::RepoChanged(repo.name.clone()));
        }
        append_audit(
            &tx,
            &self.actor,
            &AuditEvent::new("repo-drop", repo_subject(&repo.name))
                .detail(serde_json::json!({"packages": repo.packages, "revision": repo.revision})),
        )?;
        tx.commit().map_err(sql(what))
    }

    /// Commits the new content of one or more repos (a move changes two)
    /// in one transaction: added packages, each repo's new set and
    /// revision, the audit events. A repo that changed since its change was
    /// planned fails the whole commit with [`DbError::RepoChanged`].
    pub fn commit_repo_changes(&mut self, changes: &[RepoChange<'_>]) -> Result<(), DbError> {
        let what = "commit repo change";
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(what))?;
        let now = ts(&Utc::now());
        for change in changes {
            apply_change(&tx, &self.actor, &now, change)?;
        }
        tx.commit().map_err(sql(what))
    }

    /// The row id of a stored package with this identity and content.
    pub fn find_package(&self, record: &PackageRecord) -> Result<Option<PackageId>, DbError> {
        self.conn
            .query_row(
                "SELECT id FROM packages WHERE name = ?1 AND version = ?2 AND arch = ?3 AND sha256 = ?4",
                params![
                    record.name,
                    record.version,
                    record.architecture,
                    record.sha256.to_string()
                ],
                |r| r.get(0),
            )
            .optional()
            .map(|id| id.map(PackageId))
            .map_err(sql(format!("find package `{}`", record.name)))
    }
}

/// Stores `change`: its added packages, the repo's new set and revision
/// (refused with [`DbError::RepoChanged`] when the repo moved on since the
/// change was planned), its audit events.
pub(super) fn apply_change(
    tx: &Transaction<'_>,
    actor: &str,
    now: &str,
    change: &RepoChange<'_>,
) -> Result<(), DbError> {
    let what = "commit repo change";
    let repo = change.repo;
    let mut set = PackageSet::default();
    for id in &change.kept {
        set.insert(&repo.spec.component, *id);
    }
    for record in &change.added {
        set.insert(&repo.spec.component, insert_package(tx, record)?);
    }
    set.normalize();
    let set_id = store_set(tx, &set)?;
    let n = tx
        .execute(
            "UPDATE repos SET package_set_id = ?1, revision = revision + 1, updated_at = ?2 \
             WHERE id = ?3 AND revision = ?4",
            params![set_id.0, now, repo.id.0, repo.revision as i64],
        )
        .map_err(sql(what))?;
    if n == 0 {
        return Err(DbError::RepoChanged(repo.name.clone()));
    }
    for event in &change.events {
        append_audit(tx, actor, event)?;
    }
    Ok(())
}

/// Inserts `p` (or finds the row another mirror or repo stored).
pub(super) fn insert_package(
    tx: &Transaction<'_>,
    p: &PackageRecord,
) -> Result<PackageId, DbError> {
    let sha = p.sha256.to_string();
    let n = tx
        .prepare_cached(
            "INSERT INTO packages (name, version, arch, sha256, size, filename, source, stanza) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
        )
        .and_then(|mut st| {
            st.execute(params![
                p.name,
                p.version,
                p.architecture,
                sha,
                p.size as i64,
                p.filename,
                p.source,
                p.stanza
            ])
        })
        .map_err(sql(format!("insert package `{}`", p.name)))?;
    if n == 1 {
        let id = PackageId(tx.last_insert_rowid());
        super::sources::insert_source_files(tx, id, p)?;
        return Ok(id);
    }
    tx.query_row(
        "SELECT id FROM packages WHERE name = ?1 AND version = ?2 AND arch = ?3 AND sha256 = ?4",
        params![p.name, p.version, p.architecture, sha],
        |r| r.get(0),
    )
    .map(PackageId)
    .map_err(sql(format!("find package `{}`", p.name)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::digest::Sha256;
    use crate::model::SnapshotOrigin;

    fn record(name: &str) -> PackageRecord {
        PackageRecord {
            name: name.into(),
            version: "1".into(),
            architecture: "all".into(),
            sha256: Sha256::of(name.as_bytes()),
            size: 1,
            filename: format!("pool/main/{name}.deb"),
            source: name.into(),
            stanza: format!("Package: {name}\n"),
        }
    }

    #[test]
    fn snapshot_origins_without_repos_still_load() {
        let old = r#"{"kind":"mirrors","mirrors":[{"name":"m","suite":"s","revision":1}]}"#;
        let o: SnapshotOrigin = serde_json::from_str(old).unwrap();
        assert!(matches!(&o, SnapshotOrigin::Mirrors { repos, .. } if repos.is_empty()));
        // Written back as it was: no empty `repos` key.
        assert_eq!(serde_json::to_string(&o).unwrap(), old);
    }

    #[test]
    fn a_change_planned_on_a_stale_repo_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("d.db")).unwrap();
        let spec = RepoSpec {
            component: "main".into(),
            comment: None,
            architectures: vec![],
            default_distribution: None,
            review: false,
        };
        db.create_repo("r", &spec).unwrap();
        assert!(matches!(
            db.create_repo("r", &spec),
            Err(DbError::RepoExists(_))
        ));
        let stale = db.repo("r").unwrap().unwrap();
        let a = record("aa");
        db.commit_repo_changes(&[RepoChange {
            repo: &stale,
            kept: vec![],
            added: vec![&a],
            events: vec![],
        }])
        .unwrap();
        let now = db.repo("r").unwrap().unwrap();
        assert_eq!((now.revision, now.packages), (1, 1));
        let b = record("bb");
        let again = db.commit_repo_changes(&[RepoChange {
            repo: &stale,
            kept: vec![],
            added: vec![&b],
            events: vec![],
        }]);
        assert!(matches!(again, Err(DbError::RepoChanged(_))), "{again:?}");
        assert_eq!(db.repo("r").unwrap().unwrap().packages, 1);
        assert!(matches!(db.drop_repo(&stale), Err(DbError::RepoChanged(_))));
        db.drop_repo(&now).unwrap();
        assert!(db.repos().unwrap().is_empty());
    }
}
