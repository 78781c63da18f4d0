//! Garbage collection of metadata: what no kept revision, snapshot or staged
//! change references any more.
//!
//! Marking decodes one package set at a time into a bitmap over package ids,
//! so memory grows with the number of package rows (one bit each) and the
//! number of kept blob digests, never with the number of snapshots.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Db, DbError, PackageSet, corrupt, parse_sha, parse_ts, sql};
use crate::digest::Sha256;
use crate::model::{PackageId, PackageSetId, RevisionId};

/// What a collection would remove from the database, and the blobs to keep.
#[derive(Debug, Default)]
pub struct GcPlan {
    /// Mirror revisions past the retention period, not current, not snapshotted.
    pub revisions: Vec<RevisionId>,
    /// Package sets nothing references.
    pub sets: Vec<PackageSetId>,
    /// Package rows nothing references: id, digest, size.
    pub packages: Vec<(PackageId, Sha256, u64)>,
    /// Digests of every package (and source package file) still referenced.
    pub keep_blobs: HashSet<Sha256>,
}

/// What a collection removed from the database.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct GcCounts {
    /// Mirror revisions pruned.
    pub revisions: u64,
    /// Package sets deleted.
    pub package_sets: u64,
    /// Package rows deleted.
    pub packages: u64,
    /// Long descriptions no package row carries any more, deleted (not
    /// estimated by a dry run).
    pub descriptions: u64,
    /// Packages' AppStream metadata no package row names any more, deleted
    /// (not estimated by a dry run).
    pub appstream: u64,
}

/// A set of package ids as a bitmap.
struct Marks(Vec<u64>);

impl Marks {
    fn mark(&mut self, id: PackageId) {
        let i = id.0.max(0) as usize;
        if i / 64 >= self.0.len() {
            self.0.resize(i / 64 + 1, 0);
        }
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn get(&self, id: PackageId) -> bool {
        let i = id.0.max(0) as usize;
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

impl Db {
    /// Computes what to collect: revisions created before `cutoff` that are
    /// neither a mirror's current one nor share a snapshot's package set,
    /// then every set and package row that nothing kept references.
    pub fn gc_plan(&self, cutoff: DateTime<Utc>) -> Result<GcPlan, DbError> {
        let what = "plan garbage collection";
        let current: HashSet<i64> = self
            .query_ids(
                "SELECT revision_id FROM mirrors WHERE revision_id IS NOT NULL",
                what,
            )?
            .into_iter()
            .collect();
        let snapshot_sets: HashSet<i64> = self
            .query_ids(
                "SELECT package_set_id FROM snapshots UNION SELECT package_set_id FROM repos",
                what,
            )?
            .into_iter()
            .collect();
        let mut plan = GcPlan::default();
        let mut kept_sets: HashSet<i64> = snapshot_sets.clone();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT id, package_set_id, created_at FROM mirror_revisions ORDER BY id")
                .map_err(sql(what))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(sql(what))?;
            for row in rows {
                let (id, set, created) = row.map_err(sql(what))?;
                let created =
                    parse_ts(Some(created), &format!("revision {id}"))?.unwrap_or_default();
                if created < cutoff && !current.contains(&id) && !snapshot_sets.contains(&set) {
                    plan.revisions.push(RevisionId(id));
                } else {
                    kept_sets.insert(set);
                }
            }
        }
        let mut marks = Marks(Vec::new());
        for set in self.query_ids("SELECT id FROM package_sets ORDER BY id", what)? {
            if !kept_sets.contains(&set) {
                plan.sets.push(PackageSetId(set));
                continue;
            }
            let data: Vec<u8> = self
                .conn
                .query_row("SELECT data FROM package_sets WHERE id = ?1", [set], |r| {
                    r.get(0)
                })
                .map_err(sql(what))?;
            let decoded =
                PackageSet::decode(&data).map_err(|e| corrupt(format!("package set {set}"), e))?;
            for (_, ids) in decoded.components() {
                for id in ids {
                    marks.mark(*id);
                }
            }
        }
        for id in self.query_ids(
            "SELECT package_id FROM staged WHERE status = 'staged' AND package_id IS NOT NULL \
             UNION SELECT package_id FROM repo_staged WHERE status = 'staged' \
             AND package_id IS NOT NULL",
            what,
        )? {
            marks.mark(PackageId(id));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, sha256, size FROM packages ORDER BY id")
            .map_err(sql(what))?;
        let mut rows = stmt.query([]).map_err(sql(what))?;
        while let Some(row) = rows.next().map_err(sql(what))? {
            let id = PackageId(row.get(0).map_err(sql(what))?);
            let sha = parse_sha(Some(row.get(1).map_err(sql(what))?), "package digest")?
                .ok_or_else(|| corrupt("package digest", "empty"))?;
            if marks.get(id) {
                plan.keep_blobs.insert(sha);
            } else {
                let size: i64 = row.get(2).map_err(sql(what))?;
                plan.packages.push((id, sha, size as u64));
            }
        }
        drop(rows);
        // A live source package keeps every file it lists.
        for (id, sha) in self.source_file_digests()? {
            if marks.get(id) {
                plan.keep_blobs.insert(sha);
            }
        }
        // Installer images of kept revisions and snapshots.
        plan.keep_blobs
            .extend(self.installer_digests(&plan.revisions)?);
        // What unfilled on-demand pool paths will be filled with.
        plan.keep_blobs.extend(self.ondemand_unfilled_digests()?);
        // What `serve`'s caching proxies hold is live while cached.
        plan.keep_blobs.extend(self.proxy_digests()?);
        // A digest kept by one row stays even when another row with it goes.
        Ok(plan)
    }

    /// Deletes what `plan` names, in one transaction.
    pub fn gc_apply(&mut self, plan: &GcPlan) -> Result<GcCounts, DbError> {
        let what = "collect garbage";
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(what))?;
        {
            let mut del_rev = tx
                .prepare_cached(
                    "DELETE FROM mirror_revisions WHERE id = ?1 \
                     AND id NOT IN (SELECT revision_id FROM mirrors WHERE revision_id IS NOT NULL)",
                )
                .map_err(sql(what))?;
            for r in &plan.revisions {
                del_rev.execute([r.0]).map_err(sql(what))?;
            }
            let mut del_set = tx
                .prepare_cached(
                    "DELETE FROM package_sets WHERE id = ?1 \
                     AND id NOT IN (SELECT package_set_id FROM mirror_revisions) \
                     AND id NOT IN (SELECT package_set_id FROM snapshots) \
                     AND id NOT IN (SELECT package_set_id FROM repos)",
                )
                .map_err(sql(what))?;
            for s in &plan.sets {
                del_set.execute([s.0]).map_err(sql(what))?;
            }
            let mut del_pkg = tx
                .prepare_cached("DELETE FROM packages WHERE id = ?1")
                .map_err(sql(what))?;
            for (id, _, _) in &plan.packages {
                del_pkg.execute(params![id.0]).map_err(sql(what))?;
            }
            if !plan.packages.is_empty() {
                super::contents::forget_unreferenced(&tx)?;
            }
        }
        let descriptions = super::translations::delete_unreferenced(&tx)?;
        let appstream = super::appstream::delete_unreferenced(&tx)?;
        super::cnf::delete_unreferenced(&tx)?;
        tx.commit().map_err(sql(what))?;
        Ok(GcCounts {
            revisions: plan.revisions.len() as u64,
            package_sets: plan.sets.len() as u64,
            packages: plan.packages.len() as u64,
            descriptions,
            appstream,
        })
    }

    fn query_ids(&self, q: &str, what: &str) -> Result<Vec<i64>, DbError> {
        let mut stmt = self.conn.prepare(q).map_err(sql(what))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(sql(what))?;
        rows.collect::<Result<_, _>>().map_err(sql(what))
    }

    /// Unique bytes and count of the blobs the package rows (and source
    /// packages' files, installer images) reference.
    pub fn unique_blob_bytes(&self) -> Result<(u64, u64), DbError> {
        self.conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM \
                 (SELECT sha256, MAX(size) AS size FROM \
                  (SELECT sha256, size FROM packages UNION ALL SELECT sha256, size FROM source_files \
                   UNION ALL SELECT sha256, size FROM installer_files) \
                  GROUP BY sha256)",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(sql("sum blob sizes"))
    }
}
