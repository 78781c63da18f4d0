//! Snapshots and publications: named package sets and where they are published.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::curation::{AuditEvent, append_audit};
use super::{Db, DbError, PackageSet, corrupt, parse_sha, parse_ts, sql, store_set, ts};
use crate::digest::Sha256;
use crate::model::{
    PackageId, PackageKey, PackageSetId, Publication, PublicationId, PublishedComponent,
    ReleaseOptions, Snapshot, SnapshotId, SnapshotOrigin, components_text,
};

/// A package's identity, digest and size, without its stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageSummary {
    /// Row id.
    pub id: PackageId,
    /// Name, version, architecture.
    pub key: PackageKey,
    /// Content digest.
    pub sha256: Sha256,
    /// Size in bytes.
    pub size: u64,
}

/// What a new snapshot row holds.
#[derive(Debug)]
pub struct NewSnapshot<'a> {
    /// Unique name.
    pub name: &'a str,
    /// What it was made from, in words.
    pub description: &'a str,
    /// What it was made from.
    pub origin: &'a SnapshotOrigin,
    /// Architectures of its indices.
    pub architectures: &'a [String],
    /// Its packages (normalized).
    pub set: &'a PackageSet,
}

/// What switching a publication records.
#[derive(Debug)]
pub struct NewPublication<'a> {
    /// Prefix (`.` for the root).
    pub prefix: &'a str,
    /// Distribution.
    pub distribution: &'a str,
    /// The snapshot (with `components`, the first component's).
    pub snapshot: &'a Snapshot,
    /// The snapshot serving each component, in order, when several are
    /// published together; empty for one snapshot with its own components.
    pub components: &'a [(String, Snapshot)],
    /// Release options.
    pub options: &'a ReleaseOptions,
    /// The settings this publish changed, for the audit trail (JSON
    /// list; empty or null when none).
    pub changed: serde_json::Value,
    /// The tree switched in.
    pub tree: &'a str,
    /// SHA256 of the Release.
    pub release_sha256: Sha256,
    /// `Valid-Until`.
    pub valid_until: Option<DateTime<Utc>>,
    /// Statistics.
    pub stats: serde_json::Value,
}

/// One tree that was switched in for a distribution.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HistoryEntry {
    /// The tree id.
    pub tree: String,
    /// The snapshot it published.
    pub snapshot: String,
    /// When it was switched in.
    pub switched_at: DateTime<Utc>,
}

/// The audit subject of a publication: where it is served.
fn publication_subject(prefix: &str, distribution: &str) -> String {
    if prefix == "." {
        format!("publication `dists/{distribution}`")
    } else {
        format!("publication `{prefix}/dists/{distribution}`")
    }
}

const SNAPSHOT_COLUMNS: &str = "s.id, s.name, s.created_at, s.description, s.origin, s.architectures, \
     s.package_set_id, p.count";

const PUBLICATION_COLUMNS: &str = "p.id, p.prefix, p.distribution, p.snapshot_id, s.name, p.options, \
     p.tree, p.release_sha256, p.valid_until, p.published_at, p.stats";

type SnapshotRow = (i64, String, String, String, String, String, i64, i64);

fn snapshot_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SnapshotRow> {
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

fn snapshot_from(row: SnapshotRow) -> Result<Snapshot, DbError> {
    let (id, name, created, description, origin, archs, set, count) = row;
    let what = format!("snapshot `{name}`");
    Ok(Snapshot {
        id: SnapshotId(id),
        created_at: parse_ts(Some(created), &what)?.unwrap_or_default(),
        description,
        origin: serde_json::from_str(&origin).map_err(|e| corrupt(&what, e))?,
        architectures: serde_json::from_str(&archs).map_err(|e| corrupt(&what, e))?,
        package_set: PackageSetId(set),
        packages: count as u64,
        name,
    })
}

type PublicationRow = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);

fn publication_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PublicationRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

fn publication_from(row: PublicationRow) -> Result<Publication, DbError> {
    let (id, prefix, distribution, snapshot_id, snapshot, options, tree, sha, valid, at, stats) =
        row;
    let what = format!("publication `{prefix}/{distribution}`");
    Ok(Publication {
        id: PublicationId(id),
        snapshot_id: SnapshotId(snapshot_id),
        snapshot,
        options: ReleaseOptions::from_stored(&options).map_err(|e| corrupt(&what, e))?,
        tree,
        release_sha256: parse_sha(Some(sha), &what)?.unwrap_or_else(|| Sha256::of(b"")),
        valid_until: parse_ts(valid, &what)?,
        published_at: parse_ts(Some(at), &what)?.unwrap_or_default(),
        stats: serde_json::from_str(&stats).map_err(|e| corrupt(&what, e))?,
        prefix,
        distribution,
        components: Vec::new(),
    })
}

impl NewPublication<'_> {
    /// What it publishes, in words (the history and the audit trail keep it).
    fn snapshots_text(&self) -> String {
        if self.components.is_empty() {
            self.snapshot.name.clone()
        } else {
            components_text(self.components.iter().map(|(c, s)| (c, &s.name)))
        }
    }
}

impl Db {
    /// Stores a new snapshot; fails with [`DbError::SnapshotExists`] if the name is taken.
    pub fn create_snapshot(&mut self, new: &NewSnapshot<'_>) -> Result<SnapshotId, DbError> {
        let ids = self.create_snapshots(std::slice::from_ref(new))?;
        Ok(ids[0])
    }

    /// Stores new snapshots in one transaction with one creation time (a
    /// group's members taken at once): all or none.
    pub fn create_snapshots(
        &mut self,
        new: &[NewSnapshot<'_>],
    ) -> Result<Vec<SnapshotId>, DbError> {
        let names: Vec<&str> = new.iter().map(|n| n.name).collect();
        let what = format!("create snapshot `{}`", names.join("`, `"));
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(&what))?;
        let now = ts(&Utc::now());
        let mut ids = Vec::with_capacity(new.len());
        for new in new {
            let what = format!("create snapshot `{}`", new.name);
            let origin = serde_json::to_string(new.origin).map_err(|e| corrupt(&what, e))?;
            let archs = serde_json::to_string(new.architectures).map_err(|e| corrupt(&what, e))?;
            let set_id = store_set(&tx, new.set)?;
            let res = tx.execute(
                "INSERT INTO snapshots (name, created_at, description, origin, architectures, package_set_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![new.name, now, new.description, origin, archs, set_id.0],
            );
            match res {
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    return Err(DbError::SnapshotExists(new.name.to_owned()));
                }
                Err(e) => return Err(sql(what)(e)),
            }
            let id = SnapshotId(tx.last_insert_rowid());
            super::installer::copy_from_origin(&tx, id, new.origin)?;
            ids.push(id);
        }
        tx.commit().map_err(sql(what))?;
        Ok(ids)
    }

    /// Renames a snapshot and records it in the audit trail, at once.
    /// Publications follow (they reference the row); their history and the
    /// origins of snapshots made from it keep the name of the time.
    pub fn rename_snapshot(&mut self, id: SnapshotId, old: &str, new: &str) -> Result<(), DbError> {
        let what = format!("rename snapshot `{old}` to `{new}`");
        let tx = self.conn.transaction().map_err(sql(&what))?;
        match tx.execute(
            "UPDATE snapshots SET name = ?1 WHERE id = ?2",
            params![new, id.0],
        ) {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(DbError::SnapshotExists(new.to_owned()));
            }
            Err(e) => return Err(sql(&what)(e)),
        }
        append_audit(
            &tx,
            &self.actor,
            &AuditEvent::new("snapshot-rename", format!("snapshot `{old}`"))
                .detail(serde_json::json!({ "new_name": new })),
        )?;
        tx.commit().map_err(sql(&what))
    }

    /// A snapshot by name.
    pub fn snapshot(&self, name: &str) -> Result<Option<Snapshot>, DbError> {
        let q = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots s JOIN package_sets p ON p.id = s.package_set_id \
             WHERE s.name = ?1"
        );
        self.conn
            .query_row(&q, [name], snapshot_row)
            .optional()
            .map_err(sql(format!("load snapshot `{name}`")))?
            .map(snapshot_from)
            .transpose()
    }

    /// Every snapshot, oldest first.
    pub fn snapshots(&self) -> Result<Vec<Snapshot>, DbError> {
        let q = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots s JOIN package_sets p ON p.id = s.package_set_id \
             ORDER BY s.created_at, s.id"
        );
        let mut stmt = self.conn.prepare(&q).map_err(sql("list snapshots"))?;
        let rows = stmt
            .query_map([], snapshot_row)
            .map_err(sql("list snapshots"))?;
        rows.map(|r| snapshot_from(r.map_err(sql("list snapshots"))?))
            .collect()
    }

    /// The package set a snapshot (or revision) references.
    pub fn package_set(&self, id: PackageSetId) -> Result<PackageSet, DbError> {
        let data: Vec<u8> = self
            .conn
            .query_row("SELECT data FROM package_sets WHERE id = ?1", [id.0], |r| {
                r.get(0)
            })
            .map_err(sql(format!("load package set {}", id.0)))?;
        PackageSet::decode(&data).map_err(|e| corrupt(format!("package set {}", id.0), e))
    }

    /// Deletes a snapshot (its package set stays for `gc`) and records it in the audit trail.
    pub fn drop_snapshot(&mut self, id: SnapshotId, name: &str) -> Result<(), DbError> {
        let tx = self.conn.transaction().map_err(sql("drop snapshot"))?;
        tx.execute("DELETE FROM snapshots WHERE id = ?1", [id.0])
            .map_err(sql("drop snapshot"))?;
        append_audit(
            &tx,
            &self.actor,
            &AuditEvent::new("snapshot-drop", format!("snapshot `{name}`")),
        )?;
        tx.commit().map_err(sql("drop snapshot"))
    }

    /// Identity, digest and size of packages, in the order of `ids`.
    pub fn package_summaries(&self, ids: &[PackageId]) -> Result<Vec<PackageSummary>, DbError> {
        self.load_packages("name, version, arch, sha256, size", ids, |id, row| {
            let name: String = row.get(1)?;
            let sha: String = row.get(4)?;
            let sha256 = match sha.parse() {
                Ok(d) => d,
                Err(e) => return Ok(Err(corrupt(format!("package `{name}`"), e))),
            };
            Ok(Ok(PackageSummary {
                id,
                sha256,
                size: row.get::<_, i64>(5)? as u64,
                key: PackageKey {
                    name,
                    version: row.get(2)?,
                    architecture: row.get(3)?,
                },
            }))
        })
    }

    /// Records a switched-in publication (replacing the previous one of
    /// its prefix and distribution) and appends it to the history.
    pub fn record_publication(&mut self, new: &NewPublication<'_>) -> Result<(), DbError> {
        let what = format!("record publication `{}/{}`", new.prefix, new.distribution);
        let options = serde_json::to_string(new.options).map_err(|e| corrupt(&what, e))?;
        let now = ts(&Utc::now());
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql(&what))?;
        tx.execute(
            "INSERT INTO publications (prefix, distribution, snapshot_id, options, tree, release_sha256, \
             valid_until, published_at, stats) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (prefix, distribution) DO UPDATE SET snapshot_id = excluded.snapshot_id, \
             options = excluded.options, tree = excluded.tree, release_sha256 = excluded.release_sha256, \
             valid_until = excluded.valid_until, published_at = excluded.published_at, stats = excluded.stats",
            params![
                new.prefix,
                new.distribution,
                new.snapshot.id.0,
                options,
                new.tree,
                new.release_sha256.to_string(),
                new.valid_until.as_ref().map(ts),
                now,
                new.stats.to_string()
            ],
        )
        .map_err(sql(&what))?;
        let id: i64 = tx
            .query_row(
                "SELECT id FROM publications WHERE prefix = ?1 AND distribution = ?2",
                params![new.prefix, new.distribution],
                |r| r.get(0),
            )
            .map_err(sql(&what))?;
        tx.execute(
            "DELETE FROM publication_components WHERE publication_id = ?1",
            [id],
        )
        .map_err(sql(&what))?;
        for (position, (component, snap)) in new.components.iter().enumerate() {
            tx.execute(
                "INSERT INTO publication_components (publication_id, position, component, snapshot_id) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, position as i64, component, snap.id.0],
            )
            .map_err(sql(&what))?;
        }
        let snapshots = new.snapshots_text();
        tx.execute(
            "INSERT INTO publication_history (prefix, distribution, tree, snapshot_name, switched_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                new.prefix,
                new.distribution,
                new.tree,
                snapshots,
                now
            ],
        )
        .map_err(sql(&what))?;
        append_audit(
            &tx,
            &self.actor,
            &AuditEvent::new("publish", publication_subject(new.prefix, new.distribution)).detail(
                if new.changed.as_array().is_none_or(Vec::is_empty) {
                    serde_json::json!({"snapshot": snapshots, "tree": new.tree})
                } else {
                    serde_json::json!({
                        "snapshot": snapshots,
                        "tree": new.tree,
                        "settings_changed": new.changed,
                    })
                },
            ),
        )?;
        tx.commit().map_err(sql(what))
    }

    /// The publication of `distribution` under `prefix`.
    pub fn publication(
        &self,
        prefix: &str,
        distribution: &str,
    ) -> Result<Option<Publication>, DbError> {
        let q = format!(
            "SELECT {PUBLICATION_COLUMNS} FROM publications p JOIN snapshots s ON s.id = p.snapshot_id \
             WHERE p.prefix = ?1 AND p.distribution = ?2"
        );
        self.conn
            .query_row(&q, [prefix, distribution], publication_row)
            .optional()
            .map_err(sql(format!("load publication `{prefix}/{distribution}`")))?
            .map(|row| self.with_components(publication_from(row)?))
            .transpose()
    }

    /// `p` with the snapshots serving its components, if several are.
    fn with_components(&self, mut p: Publication) -> Result<Publication, DbError> {
        let what = format!("load components of `{}/{}`", p.prefix, p.distribution);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT c.component, c.snapshot_id, s.name FROM publication_components c \
                 JOIN snapshots s ON s.id = c.snapshot_id WHERE c.publication_id = ?1 \
                 ORDER BY c.position",
            )
            .map_err(sql(&what))?;
        let rows = stmt
            .query_map([p.id.0], |r| {
                Ok(PublishedComponent {
                    component: r.get(0)?,
                    snapshot_id: SnapshotId(r.get(1)?),
                    snapshot: r.get(2)?,
                })
            })
            .map_err(sql(&what))?;
        p.components = rows.collect::<Result<_, _>>().map_err(sql(&what))?;
        Ok(p)
    }

    /// Every publication, by prefix and distribution.
    pub fn publications(&self) -> Result<Vec<Publication>, DbError> {
        let q = format!(
            "SELECT {PUBLICATION_COLUMNS} FROM publications p JOIN snapshots s ON s.id = p.snapshot_id \
             ORDER BY p.prefix, p.distribution"
        );
        let mut stmt = self.conn.prepare(&q).map_err(sql("list publications"))?;
        let rows = stmt
            .query_map([], publication_row)
            .map_err(sql("list publications"))?;
        rows.map(|r| self.with_components(publication_from(r.map_err(sql("list publications"))?)?))
            .collect()
    }

    /// Publications of a snapshot, as a whole or as one of their components.
    pub fn publications_of(&self, snapshot: SnapshotId) -> Result<Vec<Publication>, DbError> {
        Ok(self
            .publications()?
            .into_iter()
            .filter(|p| p.snapshot_ids().contains(&snapshot))
            .collect())
    }

    /// The trees switched in for a distribution, oldest first.
    pub fn publication_history(
        &self,
        prefix: &str,
        distribution: &str,
    ) -> Result<Vec<HistoryEntry>, DbError> {
        let what = format!("load history of `{prefix}/{distribution}`");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT tree, snapshot_name, switched_at FROM publication_history \
                 WHERE prefix = ?1 AND distribution = ?2 ORDER BY id",
            )
            .map_err(sql(&what))?;
        let rows = stmt
            .query_map([prefix, distribution], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(sql(&what))?;
        let mut out = Vec::new();
        for row in rows {
            let (tree, snapshot, at) = row.map_err(sql(&what))?;
            out.push(HistoryEntry {
                switched_at: parse_ts(Some(at), &what)?.unwrap_or_default(),
                tree,
                snapshot,
            });
        }
        Ok(out)
    }

    /// Forgets a publication and its history, and records it in the audit trail.
    pub fn drop_publication(&mut self, p: &Publication) -> Result<(), DbError> {
        let id = p.id;
        let tx = self.conn.transaction().map_err(sql("drop publication"))?;
        append_audit(
            &tx,
            &self.actor,
            &AuditEvent::new(
                "publish-drop",
                publication_subject(&p.prefix, &p.distribution),
            )
            .detail(serde_json::json!({"snapshot": p.snapshots_text(), "tree": p.tree})),
        )?;
        tx.execute(
            "DELETE FROM publication_components WHERE publication_id = ?1",
            [id.0],
        )
        .map_err(sql("drop publication"))?;
        tx.execute(
            "DELETE FROM publication_history WHERE (prefix, distribution) = \
             (SELECT prefix, distribution FROM publications WHERE id = ?1)",
            [id.0],
        )
        .map_err(sql("drop publication"))?;
        tx.execute("DELETE FROM publications WHERE id = ?1", [id.0])
            .map_err(sql("drop publication"))?;
        tx.commit().map_err(sql("drop publication"))
    }
}
