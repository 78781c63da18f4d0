//! Mirror revisions: what each sync committed (its package set, the
//! Release it came from, its statistics) and the mirror state it moved.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    AuditEvent, Db, DbError, NewStaged, PackageSet, corrupt, curation, package_subject, parse_ts,
    sql, store_set, ts,
};
use crate::digest::Sha256;
use crate::model::{
    Freeze, MirrorId, MirrorState, PackageId, PackageKey, PackageRecord, RevisionId,
};

/// A package of a revision, as the sync plan needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionEntry {
    /// Component the revision lists it in.
    pub component: String,
    /// Row id.
    pub id: PackageId,
    /// Identity.
    pub key: PackageKey,
    /// Content digest.
    pub sha256: Sha256,
    /// Size in bytes.
    pub size: u64,
}

/// A stored mirror revision.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Revision {
    /// Row id.
    pub id: RevisionId,
    /// When it was committed.
    pub created_at: DateTime<Utc>,
    /// Release `Date` it was made from.
    pub release_date: Option<DateTime<Utc>>,
    /// Package count.
    pub packages: u64,
    /// Sync statistics as recorded (JSON object).
    pub stats: serde_json::Value,
}

/// How many unsatisfiable dependencies a revision's sync recorded, and the
/// first of them (`package (arch): dependency`).
pub const UNMET_RECORDED: usize = 20;

impl Revision {
    /// The dependencies of its packages that nothing inside the mirror
    /// satisfied when it was made: their count and the first
    /// [`UNMET_RECORDED`] (zero for revisions recorded before this was kept).
    pub fn unmet_dependencies(&self) -> (u64, Vec<String>) {
        let count = self.stats["unresolved_count"].as_u64().unwrap_or(0);
        let first = self.stats["unresolved"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        (count, first)
    }
}

/// Reads the record of a sync's package `i`, when the commit stores it: a
/// sync keeps stanzas in a spool, so that no more than one is in memory.
pub type RecordSource<'a> = &'a dyn Fn(usize) -> Result<PackageRecord, DbError>;

/// Everything one successful sync commits, in one transaction.
pub struct SyncCommit<'a> {
    /// Packages of the new revision that were already stored: (component, id).
    pub kept: Vec<(String, PackageId)>,
    /// Packages to insert (or find, when another mirror stored them):
    /// (component, package for `records`).
    pub added: Vec<(String, usize)>,
    /// Where the records of `added` and `staged` come from.
    pub records: RecordSource<'a>,
    /// New freezes.
    pub freezes: Vec<Freeze>,
    /// Content freezes to lift because upstream serves the known-good content again.
    pub restored: Vec<PackageKey>,
    /// Review mode: the changes waiting for promotion (an addition carries
    /// its package, stored like `added`). `None` outside review mode.
    pub staged: Option<Vec<(NewStaged, Option<usize>)>>,
    /// The mirror state after the sync.
    pub state: MirrorState,
    /// Statistics recorded with the revision.
    pub stats: serde_json::Value,
    /// The installer images of the new revision (`--with-installer`).
    pub installer: Vec<super::InstallerFile>,
}

impl Db {
    /// Records that a sync found the upstream unchanged.
    pub fn record_unchanged(&mut self, id: MirrorId, state: &MirrorState) -> Result<(), DbError> {
        write_state(&self.conn, id, state, state.revision)
    }

    /// Records a failed sync's error (the revision stays as it was).
    pub fn record_error(&mut self, id: MirrorId, error: &str) -> Result<(), DbError> {
        self.conn
            .execute(
                "UPDATE mirrors SET last_error = ?1 WHERE id = ?2",
                params![error, id.0],
            )
            .map_err(sql("record sync error"))?;
        Ok(())
    }

    /// The packages of a revision with their components.
    pub fn revision_entries(&self, rev: RevisionId) -> Result<Vec<RevisionEntry>, DbError> {
        let set = self.revision_set(rev)?;
        let mut out = Vec::with_capacity(set.len());
        for (component, ids) in set.components() {
            for p in self.package_summaries(ids)? {
                out.push(RevisionEntry {
                    component: component.to_owned(),
                    id: p.id,
                    key: p.key,
                    sha256: p.sha256,
                    size: p.size,
                });
            }
        }
        Ok(out)
    }

    /// The package set of a revision.
    pub fn revision_set(&self, rev: RevisionId) -> Result<PackageSet, DbError> {
        let data: Vec<u8> = self
            .conn
            .query_row(
                "SELECT s.data FROM mirror_revisions r JOIN package_sets s ON s.id = r.package_set_id \
                 WHERE r.id = ?1",
                [rev.0],
                |r| r.get(0),
            )
            .map_err(sql(format!("load revision {}", rev.0)))?;
        PackageSet::decode(&data)
            .map_err(|e| corrupt(format!("package set of revision {}", rev.0), e))
    }

    /// Revisions of a mirror, newest first.
    pub fn revisions(&self, mirror: MirrorId) -> Result<Vec<Revision>, DbError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id, r.created_at, r.release_date, s.count, r.stats FROM mirror_revisions r \
                 JOIN package_sets s ON s.id = r.package_set_id WHERE r.mirror_id = ?1 ORDER BY r.id DESC",
            )
            .map_err(sql("list revisions"))?;
        let rows = stmt
            .query_map([mirror.0], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(sql("list revisions"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, created, release, count, stats) = row.map_err(sql("list revisions"))?;
            let what = format!("revision {id}");
            out.push(Revision {
                id: RevisionId(id),
                created_at: parse_ts(Some(created), &what)?.unwrap_or_default(),
                release_date: parse_ts(release, &what)?,
                packages: count as u64,
                stats: serde_json::from_str(&stats).map_err(|e| corrupt(&what, e))?,
            });
        }
        Ok(out)
    }

    /// One revision.
    pub fn revision(&self, id: RevisionId) -> Result<Option<Revision>, DbError> {
        let row = self
            .conn
            .query_row(
                "SELECT r.created_at, r.release_date, s.count, r.stats FROM mirror_revisions r \
                 JOIN package_sets s ON s.id = r.package_set_id WHERE r.id = ?1",
                [id.0],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(sql(format!("load revision {}", id.0)))?;
        let Some((created, release, count, stats)) = row else {
            return Ok(None);
        };
        let what = format!("revision {}", id.0);
        Ok(Some(Revision {
            id,
            created_at: parse_ts(Some(created), &what)?.unwrap_or_default(),
            release_date: parse_ts(release, &what)?,
            packages: count as u64,
            stats: serde_json::from_str(&stats).map_err(|e| corrupt(&what, e))?,
        }))
    }

    /// Commits a sync: packages, package set, revision, freezes and state, in one transaction.
    pub fn commit_sync(
        &mut self,
        mirror: MirrorId,
        mirror_name: &str,
        commit: SyncCommit<'_>,
    ) -> Result<RevisionId, DbError> {
        let what = "commit sync";
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(what))?;
        let mut set = PackageSet::default();
        for (component, id) in &commit.kept {
            set.insert(component, *id);
        }
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO packages (name, version, arch, sha256, size, filename, source, stanza) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                )
                .map_err(sql(what))?;
            let mut find = tx
                .prepare_cached("SELECT id FROM packages WHERE name = ?1 AND version = ?2 AND arch = ?3 AND sha256 = ?4")
                .map_err(sql(what))?;
            let mut store = |p: &PackageRecord| -> Result<PackageId, DbError> {
                let sha = p.sha256.to_string();
                let n = insert
                    .execute(params![
                        p.name,
                        p.version,
                        p.architecture,
                        sha,
                        p.size as i64,
                        p.filename,
                        p.source,
                        p.stanza
                    ])
                    .map_err(sql(format!("insert package `{}`", p.name)))?;
                Ok(PackageId(if n == 1 {
                    let id = tx.last_insert_rowid();
                    super::sources::insert_source_files(&tx, PackageId(id), p)?;
                    id
                } else {
                    find.query_row(params![p.name, p.version, p.architecture, sha], |r| {
                        r.get(0)
                    })
                    .map_err(sql(format!("find package `{}`", p.name)))?
                }))
            };
            for (component, i) in &commit.added {
                set.insert(component, store(&(commit.records)(*i)?)?);
            }
            if let Some(staged) = &commit.staged {
                let mut rows = Vec::with_capacity(staged.len());
                for (s, record) in staged {
                    let mut s = s.clone();
                    if let Some(i) = record {
                        s.id = Some(store(&(commit.records)(*i)?)?);
                    }
                    rows.push(s);
                }
                curation::replace_staged(&tx, mirror, &rows, commit.state.release_date.as_ref())?;
            }
        }
        set.normalize();
        let set_id = store_set(&tx, &set)?;
        let state = &commit.state;
        tx.execute(
            "INSERT INTO mirror_revisions (mirror_id, created_at, release_date, release_sha256, package_set_id, stats) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                mirror.0,
                ts(&Utc::now()),
                state.release_date.as_ref().map(ts),
                state.release_sha256.map(|d| d.to_string()),
                set_id.0,
                commit.stats.to_string()
            ],
        )
        .map_err(sql(what))?;
        let rev = RevisionId(tx.last_insert_rowid());
        super::installer::insert_for_revision(&tx, rev, &commit.installer)?;
        curation::insert_freezes(&tx, &self.actor, mirror, mirror_name, &commit.freezes)?;
        let now = ts(&Utc::now());
        for key in &commit.restored {
            let reason = "upstream serves the known-good content again";
            tx.execute(
                "UPDATE freezes SET lifted_at = ?1, lifted_reason = ?2 WHERE mirror_id = ?3 AND name = ?4 \
                 AND version = ?5 AND arch = ?6 AND kind = 'content' AND lifted_at IS NULL",
                params![now, reason, mirror.0, key.name, key.version, key.architecture],
            )
            .map_err(sql(what))?;
            curation::append_audit(
                &tx,
                &self.actor,
                &AuditEvent::new("unfreeze", package_subject(mirror_name, key)).reason(reason),
            )?;
        }
        write_state(&tx, mirror, state, Some(rev))?;
        tx.commit().map_err(sql(what))?;
        Ok(rev)
    }
}

fn write_state(
    conn: &Connection,
    id: MirrorId,
    s: &MirrorState,
    rev: Option<RevisionId>,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "UPDATE mirrors SET release_date = ?1, release_sha256 = ?2, etag = ?3, last_modified = ?4, \
         last_sync_at = ?5, last_error = ?6, revision_id = ?7 WHERE id = ?8",
    )
    .and_then(|mut st| {
        st.execute(params![
            s.release_date.as_ref().map(ts),
            s.release_sha256.map(|d| d.to_string()),
            s.etag,
            s.last_modified,
            s.last_sync_at.as_ref().map(ts),
            s.last_error,
            rev.map(|r| r.0),
            id.0
        ])
    })
    .map_err(sql("update mirror state"))?;
    Ok(())
}
