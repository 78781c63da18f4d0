//! Security advisories imported offline (migration 13): one transaction
//! per imported file, so a bad file leaves earlier imports as they were.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::{Db, DbError, parse_ts, sql, ts};

/// One advisory about one source package in one release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdvisoryRow {
    /// `CVE-…`, `DSA-…`, an OSV id.
    pub id: String,
    /// Source package name.
    pub package: String,
    /// Codename, or empty: any release.
    pub release: String,
    /// First fixed version; `None`: not fixed yet.
    pub fixed: Option<String>,
    /// Urgency or severity as the record gives it.
    pub urgency: Option<String>,
    /// When the record was last modified, if it says.
    pub modified: Option<DateTime<Utc>>,
}

/// One import.
#[derive(Clone, Debug, Serialize)]
pub struct AdvisoryImport {
    /// The file as given.
    pub source: String,
    /// `debian-tracker` or `osv`.
    pub format: String,
    /// When.
    pub imported_at: DateTime<Utc>,
    /// Rows it carried.
    pub records: u64,
}

impl Db {
    /// Records an import and its rows in one transaction; rows already
    /// known (same advisory, package, release) are replaced.
    pub fn import_advisories(
        &mut self,
        source: &str,
        format: &str,
        rows: &[AdvisoryRow],
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let what = format!("import advisories from `{source}`");
        let tx = self.conn.transaction().map_err(sql(&what))?;
        tx.execute(
            "INSERT INTO advisory_imports (source, format, imported_at, records) VALUES (?1, ?2, ?3, ?4)",
            params![source, format, ts(&now), rows.len() as i64],
        )
        .map_err(sql(&what))?;
        let import = tx.last_insert_rowid();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO advisories (id, package, release, fixed, urgency, modified, import_id) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(sql(&what))?;
            for r in rows {
                stmt.execute(params![
                    r.id,
                    r.package,
                    r.release,
                    r.fixed,
                    r.urgency,
                    r.modified.as_ref().map(ts),
                    import
                ])
                .map_err(sql(&what))?;
            }
        }
        tx.commit().map_err(sql(&what))
    }

    /// The advisories about each of `packages` (source names).
    pub fn advisories_for(&self, packages: &[&str]) -> Result<Vec<AdvisoryRow>, DbError> {
        let what = "advisories of packages";
        let tx = self.conn.unchecked_transaction().map_err(sql(what))?;
        let mut stmt = tx
            .prepare_cached(
                "SELECT id, package, release, fixed, urgency, modified FROM advisories WHERE package = ?1",
            )
            .map_err(sql(what))?;
        let mut out = Vec::new();
        for p in packages {
            let rows = stmt
                .query_map([p], |r| {
                    Ok((
                        AdvisoryRow {
                            id: r.get(0)?,
                            package: r.get(1)?,
                            release: r.get(2)?,
                            fixed: r.get(3)?,
                            urgency: r.get(4)?,
                            modified: None,
                        },
                        r.get::<_, Option<String>>(5)?,
                    ))
                })
                .map_err(sql(what))?;
            for row in rows {
                let (mut a, modified) = row.map_err(sql(what))?;
                a.modified = parse_ts(modified, &format!("advisory `{}`", a.id))?;
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Every import, oldest first.
    pub fn advisory_imports(&self) -> Result<Vec<AdvisoryImport>, DbError> {
        let what = "advisory imports";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT source, format, imported_at, records FROM advisory_imports ORDER BY id",
            )
            .map_err(sql(what))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(sql(what))?;
        let mut out = Vec::new();
        for row in rows {
            let (source, format, at, records) = row.map_err(sql(what))?;
            out.push(AdvisoryImport {
                imported_at: parse_ts(Some(at), what)?.unwrap_or_default(),
                source,
                format,
                records: records as u64,
            });
        }
        Ok(out)
    }
}
