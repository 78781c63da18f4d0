//! The record of pool objects written to object storage (migrations 4
//! and 5).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::{Db, DbError, corrupt, parse_ts, sql, ts};
use crate::digest::Sha256;

/// A pool object's recorded content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolObject {
    /// Its SHA256.
    pub sha256: Sha256,
    /// Its size.
    pub size: u64,
}

impl Db {
    /// Every pool object recorded under `location`, by path.
    pub fn remote_pool(&self, location: &str) -> Result<HashMap<String, PoolObject>, DbError> {
        let what = format!("pool objects of `{location}`");
        let mut stmt = self
            .conn
            .prepare("SELECT path, sha256, size FROM remote_pool WHERE location = ?1")
            .map_err(sql(&what))?;
        let rows = stmt
            .query_map([location], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(sql(&what))?;
        let mut out = HashMap::new();
        for row in rows {
            let (path, sha, size) = row.map_err(sql(&what))?;
            let sha256 = sha.parse().map_err(|e| corrupt(&what, e))?;
            let size = u64::try_from(size).map_err(|e| corrupt(&what, e))?;
            out.insert(path, PoolObject { sha256, size });
        }
        Ok(out)
    }

    /// When the pool under `location` was last listed whole, if ever.
    pub fn remote_pool_listed_at(&self, location: &str) -> Result<Option<DateTime<Utc>>, DbError> {
        let what = format!("last listing of `{location}`");
        let at: Option<String> = self
            .conn
            .query_row(
                "SELECT listed_at FROM remote_pool_listed WHERE location = ?1",
                [location],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql(&what))?;
        parse_ts(at, &what)
    }

    /// Records pool objects written (or found and hashed) under `location`,
    /// and forgets `gone` ones (recorded, but no longer listed). `listed_at`
    /// is when the listing that found them gone began, for a publish that
    /// listed the pool whole.
    pub fn record_remote_pool(
        &mut self,
        location: &str,
        written: &[(String, PoolObject)],
        gone: &[String],
        listed_at: Option<DateTime<Utc>>,
    ) -> Result<(), DbError> {
        let what = format!("record pool objects of `{location}`");
        let tx = self.conn.transaction().map_err(sql(&what))?;
        {
            if let Some(at) = listed_at {
                tx.execute(
                    "INSERT OR REPLACE INTO remote_pool_listed (location, listed_at) VALUES (?1, ?2)",
                    params![location, ts(&at)],
                )
                .map_err(sql(&what))?;
            }
            let mut del = tx
                .prepare_cached("DELETE FROM remote_pool WHERE location = ?1 AND path = ?2")
                .map_err(sql(&what))?;
            for path in gone {
                del.execute(params![location, path]).map_err(sql(&what))?;
            }
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO remote_pool (location, path, sha256, size) \
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sql(&what))?;
            for (path, o) in written {
                let size = i64::try_from(o.size).map_err(|e| corrupt(&what, e))?;
                ins.execute(params![location, path, o.sha256.to_string(), size])
                    .map_err(sql(&what))?;
            }
        }
        tx.commit().map_err(sql(what))
    }
}
