//! On-demand mirrors (migration 12): where package files left upstream can
//! be fetched, the pool paths publications could not fill, and what
//! `serve` fetched through.

use std::collections::HashMap;

use chrono::Utc;
use rusqlite::{OptionalExtension as _, params};

use super::curation::append_audit;
use super::{AuditEvent, Db, DbError, corrupt, sql, ts};
use crate::digest::Sha256;
use crate::model::MirrorId;

/// Where a package file can be fetched: a mirror and its `Filename`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnDemandSource {
    /// The on-demand mirror whose index listed it.
    pub mirror: MirrorId,
    /// The upstream path, relative to the mirror's URL.
    pub filename: String,
    /// Its size.
    pub size: u64,
}

/// A pool path a publication lists but did not fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnDemandFile {
    /// The content it must have.
    pub sha256: Sha256,
    /// Its size.
    pub size: u64,
}

/// What happened to one fetch through `serve`, for the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDemandEvent {
    /// Fetched, verified and stored: `bytes` long.
    Fetched { bytes: u64 },
    /// Upstream sent other content than the index promised.
    Mismatch,
    /// Upstream could not be reached or failed.
    UpstreamError,
}

/// What `serve` fetched through for one mirror, counted in the database.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OnDemandCounts {
    /// Files fetched, verified and stored.
    pub fetched: u64,
    /// Their bytes.
    pub fetched_bytes: u64,
    /// Files refused: upstream's content did not match the index.
    #[serde(rename = "verification_failures")]
    pub mismatches: u64,
    /// Fetches that failed upstream (refused, timed out, 4xx/5xx, cut off).
    pub upstream_errors: u64,
}

fn u64_of(v: i64, what: &str) -> Result<u64, DbError> {
    u64::try_from(v).map_err(|e| corrupt(what, e))
}

impl Db {
    /// Records where the package files a sync of `mirror` left upstream
    /// can be fetched: (SHA256, size, Filename) each.
    pub fn record_ondemand_sources(
        &mut self,
        mirror: MirrorId,
        files: &[(Sha256, u64, String)],
    ) -> Result<(), DbError> {
        let what = "record on-demand package files";
        let tx = self.conn.transaction().map_err(sql(what))?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO ondemand_sources (sha256, mirror_id, filename, size) \
                     VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (sha256, mirror_id) DO UPDATE SET \
                     filename = excluded.filename, size = excluded.size",
                )
                .map_err(sql(what))?;
            for (sha256, size, filename) in files {
                let size = i64::try_from(*size).map_err(|e| corrupt(what, e))?;
                stmt.execute(params![sha256.to_string(), mirror.0, filename, size])
                    .map_err(sql(what))?;
            }
        }
        tx.commit().map_err(sql(what))
    }

    /// Where the package file with `sha256` can be fetched, by mirror id.
    pub fn ondemand_sources(&self, sha256: &Sha256) -> Result<Vec<OnDemandSource>, DbError> {
        let what = format!("on-demand sources of `{sha256}`");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT mirror_id, filename, size FROM ondemand_sources \
                 WHERE sha256 = ?1 ORDER BY mirror_id",
            )
            .map_err(sql(&what))?;
        let rows = stmt
            .query_map([sha256.to_string()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(sql(&what))?;
        let mut out = Vec::new();
        for row in rows {
            let (mirror, filename, size) = row.map_err(sql(&what))?;
            out.push(OnDemandSource {
                mirror: MirrorId(mirror),
                filename,
                size: u64_of(size, &what)?,
            });
        }
        Ok(out)
    }

    /// Whether any on-demand source is recorded for `sha256`.
    pub fn has_ondemand_source(&self, sha256: &Sha256) -> Result<bool, DbError> {
        let what = || format!("on-demand sources of `{sha256}`");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM ondemand_sources WHERE sha256 = ?1 LIMIT 1")
            .map_err(|e| sql(what())(e))?;
        stmt.query_row([sha256.to_string()], |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
            .map_err(|e| sql(what())(e))
    }

    /// Whether any on-demand source is recorded at all (most databases have
    /// none, and a publish then asks nothing per package).
    pub fn any_ondemand_source(&self) -> Result<bool, DbError> {
        self.has_rows("ondemand_sources")
    }

    /// Records the pool paths below `endpoint` that a publication lists
    /// but could not fill; a path recorded before takes the new content.
    pub fn record_ondemand_pool(
        &mut self,
        endpoint: &str,
        files: &[(String, OnDemandFile)],
    ) -> Result<(), DbError> {
        let what = format!("record the on-demand pool of `{endpoint}`");
        let now = ts(&Utc::now());
        let tx = self.conn.transaction().map_err(sql(&what))?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO ondemand_pool (endpoint, path, sha256, size, recorded_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (endpoint, path) DO UPDATE SET sha256 = excluded.sha256, \
                     size = excluded.size, recorded_at = excluded.recorded_at, filled_at = NULL \
                     WHERE sha256 <> excluded.sha256",
                )
                .map_err(sql(&what))?;
            for (path, file) in files {
                let size = i64::try_from(file.size).map_err(|e| corrupt(&what, e))?;
                stmt.execute(params![endpoint, path, file.sha256.to_string(), size, now])
                    .map_err(sql(&what))?;
            }
        }
        tx.commit().map_err(sql(&what))
    }

    /// What the pool path `path` below `endpoint` must hold, if a
    /// publication left it to be fetched on demand.
    pub fn ondemand_file(
        &self,
        endpoint: &str,
        path: &str,
    ) -> Result<Option<OnDemandFile>, DbError> {
        let what = format!("on-demand pool file `{path}`");
        let row: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT sha256, size FROM ondemand_pool WHERE endpoint = ?1 AND path = ?2",
                params![endpoint, path],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql(&what))?;
        row.map(|(sha, size)| {
            Ok(OnDemandFile {
                sha256: sha.parse().map_err(|e| corrupt(&what, e))?,
                size: u64_of(size, &what)?,
            })
        })
        .transpose()
    }

    /// Every on-demand pool path recorded below `endpoint` (filled or not)
    /// with the content it must hold.
    pub fn ondemand_pool_files(&self, endpoint: &str) -> Result<Vec<(String, Sha256)>, DbError> {
        let what = format!("the on-demand pool of `{endpoint}`");
        let mut stmt = self
            .conn
            .prepare("SELECT path, sha256 FROM ondemand_pool WHERE endpoint = ?1")
            .map_err(sql(&what))?;
        let rows = stmt
            .query_map([endpoint], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(sql(&what))?;
        let mut out = Vec::new();
        for row in rows {
            let (path, sha) = row.map_err(sql(&what))?;
            out.push((path, sha.parse().map_err(|e| corrupt(&what, e))?));
        }
        Ok(out)
    }

    /// The on-demand pool paths recorded below `endpoint`.
    pub fn ondemand_pool_paths(&self, endpoint: &str) -> Result<Vec<String>, DbError> {
        let what = format!("the on-demand pool of `{endpoint}`");
        let mut stmt = self
            .conn
            .prepare("SELECT path FROM ondemand_pool WHERE endpoint = ?1 ORDER BY path")
            .map_err(sql(&what))?;
        let rows = stmt
            .query_map([endpoint], |r| r.get(0))
            .map_err(sql(&what))?;
        rows.collect::<Result<_, _>>().map_err(sql(&what))
    }

    /// Forgets the on-demand pool `paths` below `endpoint` (a path a
    /// publish placed a file at, or that no kept tree lists any more), in
    /// one transaction; how many rows went.
    pub fn forget_ondemand_pool(
        &mut self,
        endpoint: &str,
        paths: &[String],
    ) -> Result<u64, DbError> {
        let what = format!("forget on-demand pool paths of `{endpoint}`");
        let any: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 FROM ondemand_pool WHERE endpoint = ?1 LIMIT 1",
                [endpoint],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql(&what))?;
        if any.is_none() || paths.is_empty() {
            return Ok(0);
        }
        let tx = self.conn.transaction().map_err(sql(&what))?;
        let mut gone = 0;
        {
            let mut stmt = tx
                .prepare_cached("DELETE FROM ondemand_pool WHERE endpoint = ?1 AND path = ?2")
                .map_err(sql(&what))?;
            for path in paths {
                gone += stmt.execute(params![endpoint, path]).map_err(sql(&what))? as u64;
            }
        }
        tx.commit().map_err(sql(&what))?;
        Ok(gone)
    }

    /// The contents unfilled on-demand pool paths must get: `gc` keeps
    /// their blobs (one `mirror fill` stored, say), whatever else goes.
    pub fn ondemand_unfilled_digests(&self) -> Result<Vec<Sha256>, DbError> {
        let what = "read the unfilled on-demand pool";
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT sha256 FROM ondemand_pool WHERE filled_at IS NULL")
            .map_err(sql(what))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sql(what))?;
        let mut out = Vec::new();
        for row in rows {
            let sha = row.map_err(sql(what))?;
            out.push(sha.parse().map_err(|e| corrupt(what, e))?);
        }
        Ok(out)
    }

    /// Marks an on-demand pool path filled.
    pub fn mark_ondemand_filled(&mut self, endpoint: &str, path: &str) -> Result<(), DbError> {
        let what = format!("mark `{path}` filled");
        self.conn
            .execute(
                "UPDATE ondemand_pool SET filled_at = ?3 WHERE endpoint = ?1 AND path = ?2",
                params![endpoint, path, ts(&Utc::now())],
            )
            .map(drop)
            .map_err(sql(what))
    }

    /// Counts what a fetch through `serve` for `mirror` did, with its
    /// audit `event` (a refused file) in the same transaction.
    pub fn count_ondemand(
        &mut self,
        mirror: MirrorId,
        event: OnDemandEvent,
        audit: Option<&AuditEvent>,
    ) -> Result<(), DbError> {
        let what = "count an on-demand fetch";
        let (fetched, bytes, mismatches, errors) = match event {
            OnDemandEvent::Fetched { bytes } => {
                (1, i64::try_from(bytes).map_err(|e| corrupt(what, e))?, 0, 0)
            }
            OnDemandEvent::Mismatch => (0, 0, 1, 0),
            OnDemandEvent::UpstreamError => (0, 0, 0, 1),
        };
        let tx = self.conn.transaction().map_err(sql(what))?;
        tx.execute(
            "INSERT INTO ondemand_counts (mirror_id, fetched, fetched_bytes, mismatches, upstream_errors) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (mirror_id) DO UPDATE SET fetched = fetched + excluded.fetched, \
             fetched_bytes = fetched_bytes + excluded.fetched_bytes, \
             mismatches = mismatches + excluded.mismatches, \
             upstream_errors = upstream_errors + excluded.upstream_errors",
            params![mirror.0, fetched, bytes, mismatches, errors],
        )
        .map_err(sql(what))?;
        if let Some(event) = audit {
            append_audit(&tx, &self.actor, event)?;
        }
        tx.commit().map_err(sql(what))
    }

    /// The counters of every mirror `serve` fetched through for.
    pub fn ondemand_counts(&self) -> Result<HashMap<MirrorId, OnDemandCounts>, DbError> {
        let what = "read the on-demand counters";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT mirror_id, fetched, fetched_bytes, mismatches, upstream_errors \
                 FROM ondemand_counts",
            )
            .map_err(sql(what))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    [
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ],
                ))
            })
            .map_err(sql(what))?;
        let mut out = HashMap::new();
        for row in rows {
            let (mirror, [fetched, bytes, mismatches, errors]) = row.map_err(sql(what))?;
            out.insert(
                MirrorId(mirror),
                OnDemandCounts {
                    fetched: u64_of(fetched, what)?,
                    fetched_bytes: u64_of(bytes, what)?,
                    mismatches: u64_of(mismatches, what)?,
                    upstream_errors: u64_of(errors, what)?,
                },
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_rows_keep_their_fill_until_the_content_changes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut db = Db::open(&dir.path().join("db")).expect("open");
        let a = OnDemandFile {
            sha256: Sha256::of(b"a"),
            size: 1,
        };
        let path = "pool/main/a/a/a_1_all.deb".to_owned();
        db.record_ondemand_pool("/srv", &[(path.clone(), a)])
            .expect("record");
        assert_eq!(db.ondemand_file("/srv", &path).expect("read"), Some(a));
        assert_eq!(db.ondemand_file("/other", &path).expect("read"), None);
        db.mark_ondemand_filled("/srv", &path).expect("mark");
        db.record_ondemand_pool("/srv", &[(path.clone(), a)])
            .expect("again");
        let b = OnDemandFile {
            sha256: Sha256::of(b"b"),
            size: 1,
        };
        db.record_ondemand_pool("/srv", &[(path.clone(), b)])
            .expect("changed");
        assert_eq!(db.ondemand_file("/srv", &path).expect("read"), Some(b));
    }

    #[test]
    fn gc_keeps_the_blobs_of_unfilled_pool_paths_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut db = Db::open(&dir.path().join("db")).expect("open");
        let (a, b) = (Sha256::of(b"a"), Sha256::of(b"b"));
        let rows = [
            ("pool/a.deb".to_owned(), OnDemandFile { sha256: a, size: 1 }),
            ("pool/b.deb".to_owned(), OnDemandFile { sha256: b, size: 1 }),
        ];
        db.record_ondemand_pool("/srv", &rows).expect("record");
        db.mark_ondemand_filled("/srv", "pool/b.deb").expect("mark");
        let plan = db.gc_plan(Utc::now()).expect("plan");
        assert!(
            plan.keep_blobs.contains(&a),
            "an unfilled path's blob would go"
        );
        assert!(
            !plan.keep_blobs.contains(&b),
            "a filled path holds its own link"
        );
        let gone = db
            .forget_ondemand_pool("/srv", &["pool/a.deb".to_owned(), "pool/c.deb".to_owned()])
            .expect("forget");
        assert_eq!(gone, 1);
        assert_eq!(
            db.ondemand_pool_paths("/srv").expect("paths"),
            ["pool/b.deb"]
        );
        assert!(db.gc_plan(Utc::now()).expect("plan").keep_blobs.is_empty());
    }
}
