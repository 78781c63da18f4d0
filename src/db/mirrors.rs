//! Mirror definitions: created, edited and dropped, each with its audit
//! event in the same transaction.

use chrono::Utc;
use rusqlite::{OptionalExtension as _, params};

use super::{AuditEvent, Db, DbError, corrupt, curation, parse_sha, parse_ts, sql, ts};
use crate::model::{Mirror, MirrorId, MirrorSpec, MirrorState, RevisionId};

impl Db {
    /// Creates a mirror and records `event` in the audit trail, at once.
    pub fn create_mirror(
        &mut self,
        name: &str,
        spec: &MirrorSpec,
        event: &AuditEvent,
    ) -> Result<MirrorId, DbError> {
        let what = format!("create mirror `{name}`");
        let json = spec.stored_json().map_err(|e| corrupt("mirror spec", e))?;
        let tx = self.conn.transaction().map_err(sql(&what))?;
        let res = tx.execute(
            "INSERT INTO mirrors (name, spec, created_at) VALUES (?1, ?2, ?3)",
            params![name, json, ts(&Utc::now())],
        );
        let id = match res {
            Ok(_) => MirrorId(tx.last_insert_rowid()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(DbError::MirrorExists(name.to_owned()));
            }
            Err(e) => return Err(sql(&what)(e)),
        };
        curation::append_audit(&tx, &self.actor, event)?;
        tx.commit().map_err(sql(&what))?;
        Ok(id)
    }

    /// Renames a mirror and records `event` in the audit trail, at once.
    /// Snapshots keep the name their origin recorded (the name at the time).
    pub fn rename_mirror(
        &mut self,
        id: MirrorId,
        new: &str,
        event: &AuditEvent,
    ) -> Result<(), DbError> {
        let what = format!("rename mirror to `{new}`");
        let tx = self.conn.transaction().map_err(sql(&what))?;
        match tx.execute(
            "UPDATE mirrors SET name = ?1 WHERE id = ?2",
            params![new, id.0],
        ) {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(DbError::MirrorExists(new.to_owned()));
            }
            Err(e) => return Err(sql(&what)(e)),
        }
        curation::append_audit(&tx, &self.actor, event)?;
        tx.commit().map_err(sql(&what))
    }

    /// Replaces a mirror's configuration and records `event` in the audit
    /// trail, at once.
    pub fn update_mirror_spec(
        &mut self,
        id: MirrorId,
        spec: &MirrorSpec,
        event: &AuditEvent,
    ) -> Result<(), DbError> {
        let json = spec.stored_json().map_err(|e| corrupt("mirror spec", e))?;
        let tx = self.conn.transaction().map_err(sql("update mirror"))?;
        tx.execute(
            "UPDATE mirrors SET spec = ?1 WHERE id = ?2",
            params![json, id.0],
        )
        .map_err(sql("update mirror"))?;
        curation::append_audit(&tx, &self.actor, event)?;
        tx.commit().map_err(sql("update mirror"))
    }

    /// Deletes a mirror with its revisions, freezes and staged changes
    /// (packages and blobs stay for `gc`), and records it in the audit trail.
    pub fn drop_mirror(&mut self, id: MirrorId, event: &AuditEvent) -> Result<(), DbError> {
        let tx = self.conn.transaction().map_err(sql("drop mirror"))?;
        curation::append_audit(&tx, &self.actor, event)?;
        tx.execute(
            "UPDATE mirrors SET revision_id = NULL WHERE id = ?1",
            [id.0],
        )
        .map_err(sql("drop mirror"))?;
        tx.execute("DELETE FROM mirrors WHERE id = ?1", [id.0])
            .map_err(sql("drop mirror"))?;
        tx.commit().map_err(sql("drop mirror"))
    }

    const MIRROR_COLUMNS: &'static str = "id, name, spec, created_at, release_date, release_sha256, etag, \
         last_modified, last_sync_at, last_error, revision_id";

    fn mirror_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Mirror, DbError>> {
        let name: String = row.get(1)?;
        let spec: String = row.get(2)?;
        let created: String = row.get(3)?;
        let build = || -> Result<Mirror, DbError> {
            let what = format!("mirror `{name}`");
            Ok(Mirror {
                id: MirrorId(row.get(0).map_err(sql(&what))?),
                spec: serde_json::from_str(&spec).map_err(|e| corrupt(&what, e))?,
                created_at: parse_ts(Some(created), &what)?.unwrap_or_default(),
                state: MirrorState {
                    release_date: parse_ts(row.get(4).map_err(sql(&what))?, &what)?,
                    release_sha256: parse_sha(row.get(5).map_err(sql(&what))?, &what)?,
                    etag: row.get(6).map_err(sql(&what))?,
                    last_modified: row.get(7).map_err(sql(&what))?,
                    last_sync_at: parse_ts(row.get(8).map_err(sql(&what))?, &what)?,
                    last_error: row.get(9).map_err(sql(&what))?,
                    revision: row
                        .get::<_, Option<i64>>(10)
                        .map_err(sql(&what))?
                        .map(RevisionId),
                },
                name: name.clone(),
            })
        };
        Ok(build())
    }

    /// A mirror by name.
    pub fn mirror(&self, name: &str) -> Result<Option<Mirror>, DbError> {
        let q = format!(
            "SELECT {} FROM mirrors WHERE name = ?1",
            Self::MIRROR_COLUMNS
        );
        self.conn
            .query_row(&q, [name], Self::mirror_from_row)
            .optional()
            .map_err(sql(format!("load mirror `{name}`")))?
            .transpose()
    }

    /// Every mirror, by name.
    pub fn mirrors(&self) -> Result<Vec<Mirror>, DbError> {
        let q = format!("SELECT {} FROM mirrors ORDER BY name", Self::MIRROR_COLUMNS);
        let mut stmt = self.conn.prepare(&q).map_err(sql("list mirrors"))?;
        let rows = stmt
            .query_map([], Self::mirror_from_row)
            .map_err(sql("list mirrors"))?;
        rows.map(|r| r.map_err(sql("list mirrors"))?).collect()
    }
}
