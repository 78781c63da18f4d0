//! The files of source packages (migration 7): written when a source
//! package row is inserted, read by `gc` (keep their blobs) and `verify`.

use rusqlite::{Transaction, params};

use super::{Db, DbError, corrupt, parse_sha, sql};
use crate::debian::deb822::parse_str;
use crate::debian::sources::SourcePackage;
use crate::digest::Sha256;
use crate::model::{PackageId, PackageRecord};

pub use crate::debian::sources::SOURCE_ARCH;

/// Records the files of a newly inserted source package row `id`, from
/// its stanza's `Checksums-Sha256`. Other rows need nothing.
pub(super) fn insert_source_files(
    tx: &Transaction<'_>,
    id: PackageId,
    record: &PackageRecord,
) -> Result<(), DbError> {
    if record.architecture != SOURCE_ARCH {
        return Ok(());
    }
    let what = format!("source package `{}` {}", record.name, record.version);
    let source = parse_str(&record.stanza)
        .ok()
        .and_then(|mut s| s.pop())
        .ok_or_else(|| DbError::Input {
            what: what.clone(),
            source: "not one deb822 stanza".into(),
        })
        .and_then(|s| {
            SourcePackage::from_stanza(s).map_err(|e| DbError::Input {
                what: what.clone(),
                source: Box::new(e),
            })
        })?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO source_files (package_id, name, sha256, size) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
        )
        .map_err(sql(format!("record the files of {what}")))?;
    for f in &source.files {
        insert
            .execute(params![id.0, f.name, f.sha256.to_string(), f.size as i64])
            .map_err(sql(format!("record `{}` of {what}", f.name)))?;
    }
    Ok(())
}

impl Db {
    /// Every (package row, file digest) of a source package's files.
    pub fn source_file_digests(&self) -> Result<Vec<(PackageId, Sha256)>, DbError> {
        let what = "list source files";
        let mut stmt = self
            .conn
            .prepare("SELECT package_id, sha256 FROM source_files")
            .map_err(sql(what))?;
        let mut rows = stmt.query([]).map_err(sql(what))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(what))? {
            let id = PackageId(row.get(0).map_err(sql(what))?);
            let sha = parse_sha(Some(row.get(1).map_err(sql(what))?), "source file digest")?
                .ok_or_else(|| corrupt("source file digest", "empty"))?;
            out.push((id, sha));
        }
        Ok(out)
    }

    /// The files of every source package, by package then file name.
    pub fn source_files(&self) -> Result<Vec<SourceFileRow>, DbError> {
        let what = "list source files";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT p.name, p.version, f.name, f.sha256, f.size FROM source_files f \
                 JOIN packages p ON p.id = f.package_id ORDER BY p.name, p.version, f.name",
            )
            .map_err(sql(what))?;
        let mut rows = stmt.query([]).map_err(sql(what))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql(what))? {
            let sha = parse_sha(Some(row.get(3).map_err(sql(what))?), "source file digest")?
                .ok_or_else(|| corrupt("source file digest", "empty"))?;
            let size: i64 = row.get(4).map_err(sql(what))?;
            let (name, version): (String, String) = (
                row.get(0).map_err(sql(what))?,
                row.get(1).map_err(sql(what))?,
            );
            out.push(SourceFileRow {
                package: format!("{name}_{version}_{SOURCE_ARCH}"),
                file: row.get(2).map_err(sql(what))?,
                sha256: sha,
                size: size as u64,
            });
        }
        Ok(out)
    }
}

/// One file of a stored source package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFileRow {
    /// The source package, `name_version_source`.
    pub package: String,
    /// The file name.
    pub file: String,
    /// Its digest.
    pub sha256: Sha256,
    /// Its size.
    pub size: u64,
}
