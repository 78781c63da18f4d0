//! The uploaders of a local repository: who may `repo include` what.
//!
//! The rules (JSON text, checked by `ops::repo::uploaders` before they get
//! here) and the public keys they name are stored with the repo, so a
//! later change of the files they came from changes nothing.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::curation::{AuditEvent, append_audit};
use super::repos::repo_subject;
use super::{Db, DbError, Repo, sql, ts};
use crate::model::RepoId;

/// A repo's uploaders, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredUploaders {
    /// The rules, JSON in aptly's `uploaders.json` shape.
    pub rules: String,
    /// The public keys the rules may name, binary OpenPGP certificates.
    pub keyring: Vec<u8>,
}

impl Db {
    /// The uploaders of `repo`, if it has any.
    pub fn repo_uploaders(&self, repo: &Repo) -> Result<Option<StoredUploaders>, DbError> {
        self.conn
            .query_row(
                "SELECT rules, keyring FROM repo_uploaders WHERE repo_id = ?1",
                [repo.id.0],
                |r| {
                    Ok(StoredUploaders {
                        rules: r.get(0)?,
                        keyring: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(sql(format!("load uploaders of repo `{}`", repo.name)))
    }

    /// Sets (or with `None`, removes) the uploaders of `repo`, audited in
    /// the same transaction; `detail` describes the change for the trail.
    pub fn set_repo_uploaders(
        &mut self,
        repo: &Repo,
        uploaders: Option<&StoredUploaders>,
        detail: serde_json::Value,
    ) -> Result<(), DbError> {
        let what = format!("set uploaders of repo `{}`", repo.name);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(&what))?;
        match uploaders {
            Some(u) => insert(&tx, repo.id, u)?,
            None => {
                tx.execute("DELETE FROM repo_uploaders WHERE repo_id = ?1", [repo.id.0])
                    .map_err(sql(&what))?;
            }
        }
        let action = if uploaders.is_some() {
            "repo-uploaders-set"
        } else {
            "repo-uploaders-remove"
        };
        append_audit(
            &tx,
            &self.actor,
            &AuditEvent::new(action, repo_subject(&repo.name)).detail(detail),
        )?;
        tx.commit().map_err(sql(what))
    }
}

/// Stores (or replaces) the uploaders of repo `id`.
pub(super) fn insert(
    tx: &rusqlite::Transaction<'_>,
    id: RepoId,
    u: &StoredUploaders,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO repo_uploaders (repo_id, rules, keyring, updated_at) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (repo_id) DO UPDATE SET \
         rules = excluded.rules, keyring = excluded.keyring, updated_at = excluded.updated_at",
        params![id.0, u.rules, u.keyring, ts(&Utc::now())],
    )
    .map_err(sql("store repo uploaders"))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::db::RepoSpec;

    #[test]
    fn uploaders_are_set_replaced_removed_and_go_with_their_repo() {
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
        let repo = db.repo("r").unwrap().unwrap();
        assert_eq!(db.repo_uploaders(&repo).unwrap(), None);
        let a = StoredUploaders {
            rules: "{}".into(),
            keyring: vec![1, 2],
        };
        db.set_repo_uploaders(&repo, Some(&a), serde_json::json!({}))
            .unwrap();
        let b = StoredUploaders {
            rules: "{\"Rules\":[]}".into(),
            keyring: vec![3],
        };
        db.set_repo_uploaders(&repo, Some(&b), serde_json::json!({}))
            .unwrap();
        assert_eq!(db.repo_uploaders(&repo).unwrap(), Some(b.clone()));
        db.set_repo_uploaders(&repo, None, serde_json::json!({}))
            .unwrap();
        assert_eq!(db.repo_uploaders(&repo).unwrap(), None);
        db.set_repo_uploaders(&repo, Some(&b), serde_json::json!({}))
            .unwrap();
        db.drop_repo(&repo).unwrap();
        assert_eq!(db.repo_uploaders(&repo).unwrap(), None);
    }
}
