//! The record of pool objects written to object storage (migration 4).

use std::collections::HashMap;

use rusqlite::params;

use super::{Db, DbError, corrupt, sql};
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

    /// Records pool objects written (or found and hashed) under `location`,
    /// and forgets `gone` ones (recorded, but no longer listed).
    pub fn record_remote_pool(
        &mut self,
        location: &str,
        written: &[(String, PoolObject)],
        gone: &[String],
    ) -> Result<(), DbError> {
        let what = format!("record pool objects of `{location}`");
        let tx = self.conn.transaction().map_err(sql(&what))?;
        {
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
