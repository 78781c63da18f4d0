//! Freezes and staged changes of local repositories (migration 19): the
//! rows `freeze REPO`, review-mode repos and their `promote` / `reject`
//! keep, each change with its audit events in one transaction.

use chrono::Utc;
use rusqlite::params;

use super::curation::{AuditEvent, StagedRow, append_audit, read_staged};
use super::repos::{Repo, RepoChange, RepoSpec, apply_change, insert_package};
use super::{Db, DbError, PackageSet, corrupt, parse_ts, sql, store_set, ts};
use crate::digest::Sha256;
use crate::model::{Freeze, FreezeKind, PackageId, PackageKey, PackageRecord, RepoId};

/// A change a review-mode repo stages instead of making it live.
#[derive(Clone, Debug)]
pub enum NewRepoStaged<'a> {
    /// A package to add: inserted (or found) now, live once promoted.
    Add(&'a PackageRecord),
    /// A package already stored (copied from another repo) to add.
    AddStored {
        /// Its row.
        id: PackageId,
        /// Identity.
        key: PackageKey,
        /// Content digest.
        sha256: Sha256,
        /// Size.
        size: u64,
    },
    /// A live package to take out once promoted.
    Remove {
        /// Its row.
        id: PackageId,
        /// Identity.
        key: PackageKey,
        /// Content digest.
        sha256: Sha256,
        /// Size.
        size: u64,
    },
}

impl Db {
    /// The active freezes of a repo, by name, version and architecture.
    pub fn repo_freezes(&self, repo: RepoId) -> Result<Vec<Freeze>, DbError> {
        let what = "list repo freezes";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, version, arch, sha256, reason, created_at FROM repo_freezes \
                 WHERE repo_id = ?1 AND lifted_at IS NULL ORDER BY name, version, arch, id",
            )
            .map_err(sql(what))?;
        let rows = stmt
            .query_map([repo.0], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(sql(what))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, version, architecture, sha, reason, created) = row.map_err(sql(what))?;
            let w = format!("repo freeze of `{name}`");
            let sha256: Sha256 = sha.parse().map_err(|e| corrupt(&w, e))?;
            out.push(Freeze {
                kind: FreezeKind::Manual,
                kept_sha256: sha256,
                upstream_sha256: sha256,
                reason,
                created_at: parse_ts(Some(created), &w)?.unwrap_or_default(),
                key: PackageKey {
                    name,
                    version,
                    architecture,
                },
            });
        }
        Ok(out)
    }

    /// Records freezes of a repo's packages with their audit events.
    pub fn add_repo_freezes(&mut self, repo: &Repo, freezes: &[Freeze]) -> Result<(), DbError> {
        let what = format!("freeze in repo `{}`", repo.name);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(&what))?;
        for f in freezes {
            tx.execute(
                "INSERT INTO repo_freezes (repo_id, name, version, arch, sha256, reason, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    repo.id.0,
                    f.key.name,
                    f.key.version,
                    f.key.architecture,
                    f.kept_sha256.to_string(),
                    f.reason,
                    ts(&f.created_at)
                ],
            )
            .map_err(sql(&what))?;
            append_audit(
                &tx,
                &self.actor,
                &AuditEvent::new("freeze", repo_package_subject(&repo.name, &f.key))
                    .reason(f.reason.clone())
                    .detail(serde_json::json!({"kind": f.kind, "sha256": f.kept_sha256})),
            )?;
        }
        tx.commit().map_err(sql(what))
    }

    /// Lifts freezes of a repo's packages with their audit events.
    pub fn lift_repo_freezes(
        &mut self,
        repo: &Repo,
        lifts: &[Freeze],
        reason: &str,
    ) -> Result<(), DbError> {
        let what = format!("unfreeze in repo `{}`", repo.name);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(&what))?;
        let now = ts(&Utc::now());
        for f in lifts {
            tx.execute(
                "UPDATE repo_freezes SET lifted_at = ?1, lifted_reason = ?2 WHERE repo_id = ?3 \
                 AND name = ?4 AND version = ?5 AND arch = ?6 AND lifted_at IS NULL",
                params![
                    now,
                    reason,
                    repo.id.0,
                    f.key.name,
                    f.key.version,
                    f.key.architecture
                ],
            )
            .map_err(sql(&what))?;
            append_audit(
                &tx,
                &self.actor,
                &AuditEvent::new("unfreeze", repo_package_subject(&repo.name, &f.key))
                    .reason(reason)
                    .detail(serde_json::json!({"kind": f.kind, "sha256": f.kept_sha256})),
            )?;
        }
        tx.commit().map_err(sql(what))
    }

    /// The pending staged changes of a repo.
    pub fn repo_staged(&self, repo: RepoId) -> Result<Vec<StagedRow>, DbError> {
        read_staged(
            &self.conn,
            "SELECT id, 0, action, component, package_id, name, version, arch, sha256, size, \
             NULL, staged_at, status FROM repo_staged WHERE repo_id = ?1 AND status = 'staged' \
             ORDER BY name, arch, action, version",
            Some(repo.0),
        )
    }

    /// Stages changes of a review-mode repo (`origin`: the verb) with
    /// their audit events, in one transaction; the live set is untouched.
    pub fn stage_repo_changes(
        &mut self,
        repo: &Repo,
        origin: &str,
        changes: &[NewRepoStaged<'_>],
        events: &[AuditEvent],
    ) -> Result<(), DbError> {
        let what = format!("stage changes of repo `{}`", repo.name);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(&what))?;
        let now = ts(&Utc::now());
        for c in changes {
            let (action, id, key, sha, size) = match c {
                NewRepoStaged::Add(p) => (
                    "add",
                    insert_package(&tx, p)?,
                    PackageKey {
                        name: p.name.clone(),
                        version: p.version.clone(),
                        architecture: p.architecture.clone(),
                    },
                    p.sha256,
                    p.size,
                ),
                NewRepoStaged::AddStored {
                    id,
                    key,
                    sha256,
                    size,
                } => ("add", *id, key.clone(), *sha256, *size),
                NewRepoStaged::Remove {
                    id,
                    key,
                    sha256,
                    size,
                } => ("remove", *id, key.clone(), *sha256, *size),
            };
            // The same change pending already is not staged twice.
            tx.execute(
                "INSERT INTO repo_staged (repo_id, action, component, package_id, name, version, \
                 arch, sha256, size, staged_at, origin) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 WHERE NOT EXISTS \
                 (SELECT 1 FROM repo_staged WHERE repo_id = ?1 AND action = ?2 AND name = ?5 \
                 AND version = ?6 AND arch = ?7 AND sha256 = ?8 AND status = 'staged')",
                params![
                    repo.id.0,
                    action,
                    repo.spec.component,
                    id.0,
                    key.name,
                    key.version,
                    key.architecture,
                    sha.to_string(),
                    size as i64,
                    now,
                    origin
                ],
            )
            .map_err(sql(&what))?;
        }
        for e in events {
            append_audit(&tx, &self.actor, e)?;
        }
        tx.commit().map_err(sql(what))
    }

    /// Promotes staged rows of a repo: `change` (the new live set, planned
    /// against the repo as loaded) is stored, the rows leave staging.
    pub fn promote_repo(&mut self, change: &RepoChange<'_>, rows: &[i64]) -> Result<(), DbError> {
        let what = format!("promote in repo `{}`", change.repo.name);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(&what))?;
        apply_change(&tx, &self.actor, &ts(&Utc::now()), change)?;
        for id in rows {
            tx.execute("DELETE FROM repo_staged WHERE id = ?1", [id])
                .map_err(sql(&what))?;
        }
        tx.commit().map_err(sql(what))
    }

    /// Rejects staged rows of a repo (kept as decisions, without their package).
    pub fn reject_repo(&mut self, rows: &[i64], events: &[AuditEvent]) -> Result<(), DbError> {
        let what = "reject in a repo";
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(what))?;
        let now = ts(&Utc::now());
        for id in rows {
            tx.execute(
                "UPDATE repo_staged SET status = 'rejected', package_id = NULL, decided_at = ?1 \
                 WHERE id = ?2",
                params![now, id],
            )
            .map_err(sql(what))?;
        }
        for e in events {
            append_audit(&tx, &self.actor, e)?;
        }
        tx.commit().map_err(sql(what))
    }
}

/// The audit subject of a package of a repo.
pub fn repo_package_subject(repo: &str, key: &PackageKey) -> String {
    format!("repo `{repo}` package `{key}`")
}

impl Db {
    /// Stores a repo's new configuration with its audit event. A new
    /// component moves its packages (and staged changes) to it, so the set
    /// lists them under one component as [`Db::commit_repo_changes`] does.
    pub fn set_repo_spec(&mut self, repo: &Repo, spec: &RepoSpec) -> Result<(), DbError> {
        let what = format!("edit repo `{}`", repo.name);
        let spec_json = serde_json::to_string(spec).map_err(|e| corrupt(&what, e))?;
        // Read before the transaction; the revision check refuses a stale one.
        let moved = if spec.component == repo.spec.component {
            None
        } else {
            let mut set = PackageSet::default();
            for (_, ids) in self.package_set(repo.package_set)?.components() {
                for id in ids {
                    set.insert(&spec.component, *id);
                }
            }
            set.normalize();
            Some(set)
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(&what))?;
        let mut set_id = repo.package_set;
        if let Some(set) = &moved {
            set_id = store_set(&tx, set)?;
            tx.execute(
                "UPDATE repo_staged SET component = ?1 WHERE repo_id = ?2",
                params![spec.component, repo.id.0],
            )
            .map_err(sql(&what))?;
        }
        let n = tx
            .execute(
                "UPDATE repos SET spec = ?1, package_set_id = ?2, revision = revision + 1, \
                 updated_at = ?3 WHERE id = ?4 AND revision = ?5",
                params![
                    spec_json,
                    set_id.0,
                    ts(&Utc::now()),
                    repo.id.0,
                    repo.revision as i64
                ],
            )
            .map_err(sql(&what))?;
        if n == 0 {
            return Err(DbError::RepoChanged(repo.name.clone()));
        }
        append_audit(
            &tx,
            &self.actor,
            &AuditEvent::new("repo-edit", super::repos::repo_subject(&repo.name)).detail(
                serde_json::json!({
                    "before": repo.spec,
                    "after": spec,
                }),
            ),
        )?;
        tx.commit().map_err(sql(what))
    }
}
