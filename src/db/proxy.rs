//! The caching proxy (migration 18): what each proxy verified (expected
//! content by path), what it holds (blobs by path) and its counters.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{OptionalExtension as _, params};

use super::curation::append_audit;
use super::{AuditEvent, Db, DbError, corrupt, sql};
use crate::digest::Sha256;

/// A path with the content it must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyEntry {
    /// Below the proxy's upstream.
    pub path: String,
    pub sha256: Sha256,
    pub size: u64,
}

/// A file the proxy holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyCached {
    pub sha256: Sha256,
    pub size: u64,
    /// Upstream's validators, for a conditional request (Release files).
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What one proxy served, counted in the database (summed over runs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProxyCounts {
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests answered from upstream.
    pub misses: u64,
    pub bytes_from_cache: u64,
    pub bytes_from_upstream: u64,
    /// Files refused: signature, size or SHA256 wrong.
    pub verification_failures: u64,
    /// Upstream failed (refused, timed out, 5xx, cut off).
    pub upstream_errors: u64,
}

impl ProxyCounts {
    /// Whether every counter is 0.
    pub fn is_zero(&self) -> bool {
        *self == ProxyCounts::default()
    }
}

fn i64_of(v: u64, what: &str) -> Result<i64, DbError> {
    i64::try_from(v).map_err(|e| corrupt(what, e))
}

fn u64_of(v: i64, what: &str) -> Result<u64, DbError> {
    u64::try_from(v).map_err(|e| corrupt(what, e))
}

fn sha_of(s: &str, what: &str) -> Result<Sha256, DbError> {
    s.parse().map_err(|e| corrupt(what, e))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Db {
    /// The content `path` must have, if a verified Release or index of
    /// `proxy` named it.
    pub fn proxy_expected(&self, proxy: &str, path: &str) -> Result<Option<ProxyEntry>, DbError> {
        let what = "look up a proxied file";
        let row = self
            .conn
            .query_row(
                "SELECT sha256, size FROM proxy_expected WHERE proxy = ?1 AND path = ?2",
                params![proxy, path],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()
            .map_err(sql(what))?;
        row.map(|(sha, size)| {
            Ok(ProxyEntry {
                path: path.to_owned(),
                sha256: sha_of(&sha, what)?,
                size: u64_of(size, what)?,
            })
        })
        .transpose()
    }

    /// Every path `proxy` expects `sha256` at (a file and its by-hash name).
    pub fn proxy_names_of(&self, proxy: &str, sha256: &Sha256) -> Result<Vec<String>, DbError> {
        let what = "look up a proxied file by digest";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT path FROM proxy_expected WHERE proxy = ?1 AND sha256 = ?2 ORDER BY path",
            )
            .map_err(sql(what))?;
        let rows = stmt
            .query_map(params![proxy, sha256.to_string()], |r| {
                r.get::<_, String>(0)
            })
            .map_err(sql(what))?;
        rows.collect::<Result<_, _>>().map_err(sql(what))
    }

    /// Records a newly verified Release of the suite below `suite_dir`
    /// (`dists/stable`): its index files replace what the last one listed,
    /// and the Release documents in `docs` are cached.
    pub fn proxy_record_release(
        &mut self,
        proxy: &str,
        suite_dir: &str,
        files: &[ProxyEntry],
        docs: &[(String, ProxyCached)],
    ) -> Result<(), DbError> {
        let what = "record a verified Release";
        let prefix = format!("{suite_dir}/");
        let tx = self.conn.transaction().map_err(sql(what))?;
        tx.execute(
            "DELETE FROM proxy_expected WHERE proxy = ?1 AND substr(path, 1, ?2) = ?3",
            params![proxy, i64_of(prefix.len() as u64, what)?, prefix],
        )
        .map_err(sql(what))?;
        insert_expected(&tx, proxy, files, what)?;
        for (path, doc) in docs {
            upsert_cached(&tx, proxy, path, doc, false, what)?;
        }
        tx.commit().map_err(sql(what))
    }

    /// Records the pool files a verified index names, and caches the
    /// index itself at `path`.
    pub fn proxy_record_index(
        &mut self,
        proxy: &str,
        path: &str,
        index: &ProxyCached,
        pool: &[ProxyEntry],
    ) -> Result<(), DbError> {
        let what = "record a verified index";
        let tx = self.conn.transaction().map_err(sql(what))?;
        insert_expected(&tx, proxy, pool, what)?;
        upsert_cached(&tx, proxy, path, index, false, what)?;
        tx.commit().map_err(sql(what))
    }

    /// Records a verified pool file as cached.
    pub fn proxy_record_pool(
        &mut self,
        proxy: &str,
        path: &str,
        file: &ProxyCached,
    ) -> Result<(), DbError> {
        let what = "record a cached pool file";
        let tx = self.conn.transaction().map_err(sql(what))?;
        upsert_cached(&tx, proxy, path, file, true, what)?;
        tx.commit().map_err(sql(what))
    }

    /// What `proxy` holds at `path`.
    pub fn proxy_cached(&self, proxy: &str, path: &str) -> Result<Option<ProxyCached>, DbError> {
        let what = "look up a cached file";
        let row = self
            .conn
            .query_row(
                "SELECT sha256, size, etag, last_modified FROM proxy_cached \
                 WHERE proxy = ?1 AND path = ?2",
                params![proxy, path],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(sql(what))?;
        row.map(|(sha, size, etag, last_modified)| {
            Ok(ProxyCached {
                sha256: sha_of(&sha, what)?,
                size: u64_of(size, what)?,
                etag,
                last_modified,
            })
        })
        .transpose()
    }

    /// Adds `counts` to `proxy`'s counters, marks `used` paths as used now
    /// (for eviction) and appends `audit`, in one transaction.
    pub fn proxy_count(
        &mut self,
        proxy: &str,
        counts: &ProxyCounts,
        used: &[String],
        audit: &[AuditEvent],
    ) -> Result<(), DbError> {
        let what = "count proxied requests";
        let tx = self.conn.transaction().map_err(sql(what))?;
        tx.execute(
            "INSERT INTO proxy_counts (proxy, hits, misses, bytes_from_cache, bytes_from_upstream, \
             verification_failures, upstream_errors) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (proxy) DO UPDATE SET hits = hits + excluded.hits, \
             misses = misses + excluded.misses, \
             bytes_from_cache = bytes_from_cache + excluded.bytes_from_cache, \
             bytes_from_upstream = bytes_from_upstream + excluded.bytes_from_upstream, \
             verification_failures = verification_failures + excluded.verification_failures, \
             upstream_errors = upstream_errors + excluded.upstream_errors",
            params![
                proxy,
                i64_of(counts.hits, what)?,
                i64_of(counts.misses, what)?,
                i64_of(counts.bytes_from_cache, what)?,
                i64_of(counts.bytes_from_upstream, what)?,
                i64_of(counts.verification_failures, what)?,
                i64_of(counts.upstream_errors, what)?,
            ],
        )
        .map_err(sql(what))?;
        {
            let mut stmt = tx
                .prepare("UPDATE proxy_cached SET used_at = ?3 WHERE proxy = ?1 AND path = ?2")
                .map_err(sql(what))?;
            let t = now();
            for path in used {
                stmt.execute(params![proxy, path, t]).map_err(sql(what))?;
            }
        }
        for event in audit {
            append_audit(&tx, &self.actor, event)?;
        }
        tx.commit().map_err(sql(what))
    }

    /// The counters of every proxy that served anything, by name.
    pub fn proxy_counts(&self) -> Result<BTreeMap<String, ProxyCounts>, DbError> {
        let what = "read the proxy counters";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT proxy, hits, misses, bytes_from_cache, bytes_from_upstream, \
                 verification_failures, upstream_errors FROM proxy_counts",
            )
            .map_err(sql(what))?;
        let rows = stmt
            .query_map([], |r| {
                let mut n = [0i64; 6];
                for (i, v) in n.iter_mut().enumerate() {
                    *v = r.get(i + 1)?;
                }
                Ok((r.get::<_, String>(0)?, n))
            })
            .map_err(sql(what))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (name, n) = row.map_err(sql(what))?;
            out.insert(
                name,
                ProxyCounts {
                    hits: u64_of(n[0], what)?,
                    misses: u64_of(n[1], what)?,
                    bytes_from_cache: u64_of(n[2], what)?,
                    bytes_from_upstream: u64_of(n[3], what)?,
                    verification_failures: u64_of(n[4], what)?,
                    upstream_errors: u64_of(n[5], what)?,
                },
            );
        }
        Ok(out)
    }

    /// Every blob a proxy holds: live for `gc` while cached.
    pub fn proxy_digests(&self) -> Result<HashSet<Sha256>, DbError> {
        let what = "list proxy blobs";
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT sha256 FROM proxy_cached")
            .map_err(sql(what))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sql(what))?;
        let mut out = HashSet::new();
        for row in rows {
            out.insert(sha_of(&row.map_err(sql(what))?, what)?);
        }
        Ok(out)
    }

    /// Bytes of pool files `proxy` holds.
    pub fn proxy_pool_bytes(&self, proxy: &str) -> Result<u64, DbError> {
        let what = "sum cached pool files";
        let n: i64 = self
            .conn
            .query_row(
                "SELECT COALESCE(SUM(size), 0) FROM proxy_cached WHERE proxy = ?1 AND pool = 1",
                [proxy],
                |r| r.get(0),
            )
            .map_err(sql(what))?;
        u64_of(n, what)
    }

    /// Forgets the least recently used pool files of `proxy` until at most
    /// `limit` bytes are left; returns the blobs nothing else holds now
    /// (no other cached path, package, source or installer file), which
    /// the caller may delete from the store.
    pub fn proxy_evict(&mut self, proxy: &str, limit: u64) -> Result<Vec<Sha256>, DbError> {
        let what = "evict cached pool files";
        let tx = self.conn.transaction().map_err(sql(what))?;
        let mut total: i64 = tx
            .query_row(
                "SELECT COALESCE(SUM(size), 0) FROM proxy_cached WHERE proxy = ?1 AND pool = 1",
                [proxy],
                |r| r.get(0),
            )
            .map_err(sql(what))?;
        let limit = i64_of(limit, what)?;
        let mut victims = Vec::new();
        if total > limit {
            let mut stmt = tx
                .prepare(
                    "SELECT path, sha256, size FROM proxy_cached WHERE proxy = ?1 AND pool = 1 \
                     ORDER BY used_at, path",
                )
                .map_err(sql(what))?;
            let mut rows = stmt.query([proxy]).map_err(sql(what))?;
            while total > limit
                && let Some(row) = rows.next().map_err(sql(what))?
            {
                let size: i64 = row.get(2).map_err(sql(what))?;
                total -= size;
                victims.push((
                    row.get::<_, String>(0).map_err(sql(what))?,
                    row.get::<_, String>(1).map_err(sql(what))?,
                ));
            }
        }
        let mut free = Vec::new();
        for (path, sha) in &victims {
            tx.execute(
                "DELETE FROM proxy_cached WHERE proxy = ?1 AND path = ?2",
                params![proxy, path],
            )
            .map_err(sql(what))?;
            let held: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM proxy_cached WHERE sha256 = ?1) \
                     OR EXISTS (SELECT 1 FROM packages WHERE sha256 = ?1) \
                     OR EXISTS (SELECT 1 FROM source_files WHERE sha256 = ?1) \
                     OR EXISTS (SELECT 1 FROM installer_files WHERE sha256 = ?1)",
                    [sha],
                    |r| r.get(0),
                )
                .map_err(sql(what))?;
            if !held {
                free.push(sha_of(sha, what)?);
            }
        }
        tx.commit().map_err(sql(what))?;
        Ok(free)
    }
}

fn insert_expected(
    tx: &rusqlite::Transaction<'_>,
    proxy: &str,
    files: &[ProxyEntry],
    what: &str,
) -> Result<(), DbError> {
    let mut stmt = tx
        .prepare(
            "INSERT INTO proxy_expected (proxy, path, sha256, size) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (proxy, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size",
        )
        .map_err(sql(what))?;
    for f in files {
        stmt.execute(params![
            proxy,
            f.path,
            f.sha256.to_string(),
            i64_of(f.size, what)?
        ])
        .map_err(sql(what))?;
    }
    Ok(())
}

fn upsert_cached(
    tx: &rusqlite::Transaction<'_>,
    proxy: &str,
    path: &str,
    file: &ProxyCached,
    pool: bool,
    what: &str,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO proxy_cached (proxy, path, sha256, size, pool, etag, last_modified, used_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (proxy, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, \
         pool = excluded.pool, etag = excluded.etag, last_modified = excluded.last_modified, \
         used_at = excluded.used_at",
        params![
            proxy,
            path,
            file.sha256.to_string(),
            i64_of(file.size, what)?,
            pool,
            file.etag,
            file.last_modified,
            now()
        ],
    )
    .map_err(sql(what))?;
    Ok(())
}
