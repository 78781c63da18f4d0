//! AppStream metadata (migration 10): per package (its .deb's SHA256) the
//! DEP-11 documents upstream had for it, the header of the file they came
//! from, and the icons they name; headers and icon images stored once.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension as _, params};

use super::{Db, DbError, corrupt, sql};
use crate::digest::Sha256;

/// What a sync keeps of one package's AppStream metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppstreamDocs {
    /// The package's .deb.
    pub package: Sha256,
    /// The header document of the file the documents came from.
    pub header: String,
    /// The documents, each starting with `---`.
    pub yaml: String,
    /// The icons the documents name: (size, file name, image).
    pub icons: Vec<(String, String, Sha256)>,
}

/// The stored metadata of one package, as publishing reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocs {
    /// SHA256 of the header document.
    pub header: Sha256,
    /// The documents, each starting with `---`.
    pub yaml: String,
}

impl Db {
    /// Stores `docs` and the icon images they name (`images`: SHA256 →
    /// PNG). A package already stored keeps its first metadata. Returns how
    /// many packages were new.
    pub fn put_appstream(
        &mut self,
        docs: &[AppstreamDocs],
        images: &BTreeMap<Sha256, Vec<u8>>,
    ) -> Result<u64, DbError> {
        let what = "store AppStream metadata";
        let tx = self.conn.transaction().map_err(sql(what))?;
        let mut new = 0;
        {
            let mut header = tx
                .prepare("INSERT OR IGNORE INTO appstream_headers (sha256, yaml) VALUES (?1, ?2)")
                .map_err(sql(what))?;
            let mut doc = tx
                .prepare(
                    "INSERT OR IGNORE INTO appstream_docs (package_sha256, header_sha256, yaml)
                     VALUES (?1, ?2, ?3)",
                )
                .map_err(sql(what))?;
            let mut icon = tx
                .prepare(
                    "INSERT OR IGNORE INTO appstream_icons (package_sha256, size, name, icon_sha256)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sql(what))?;
            let mut image = tx
                .prepare("INSERT OR IGNORE INTO appstream_icon_data (sha256, data) VALUES (?1, ?2)")
                .map_err(sql(what))?;
            for d in docs {
                let header_sha = Sha256::of(d.header.as_bytes()).to_hex();
                header
                    .execute(params![header_sha, d.header])
                    .map_err(sql(what))?;
                let package = d.package.to_hex();
                let added = doc
                    .execute(params![package, header_sha, d.yaml])
                    .map_err(sql(what))?;
                new += added as u64;
                if added == 0 {
                    continue;
                }
                for (size, name, sha) in &d.icons {
                    if let Some(data) = images.get(sha) {
                        image
                            .execute(params![sha.to_hex(), data])
                            .map_err(sql(what))?;
                        icon.execute(params![package, size, name, sha.to_hex()])
                            .map_err(sql(what))?;
                    }
                }
            }
        }
        tx.commit().map_err(sql(what))?;
        Ok(new)
    }

    /// The stored documents of the packages `shas` that have any.
    pub fn appstream_docs(&self, shas: &[Sha256]) -> Result<BTreeMap<Sha256, StoredDocs>, DbError> {
        let what = "read AppStream documents";
        let mut out = BTreeMap::new();
        // Mirrors without `--with-appstream` have none: one question, not one a package.
        if !self.has_rows("appstream_docs")? {
            return Ok(out);
        }
        // One read transaction: a lock per row would be most of the time.
        let tx = self.conn.unchecked_transaction().map_err(sql(what))?;
        let mut stmt = tx
            .prepare_cached(
                "SELECT header_sha256, yaml FROM appstream_docs WHERE package_sha256 = ?1",
            )
            .map_err(sql(what))?;
        for sha in shas {
            let found: Option<(String, String)> = stmt
                .query_row([sha.to_hex()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(sql(what))?;
            if let Some((header, yaml)) = found {
                let header = header.parse().map_err(|e| corrupt(what, e))?;
                out.insert(*sha, StoredDocs { header, yaml });
            }
        }
        Ok(out)
    }

    /// The header document whose SHA256 is `sha`.
    pub fn appstream_header(&self, sha: &Sha256) -> Result<Option<String>, DbError> {
        let what = "read an AppStream header";
        self.conn
            .query_row(
                "SELECT yaml FROM appstream_headers WHERE sha256 = ?1",
                [sha.to_hex()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql(what))
    }

    /// The icons of the packages `shas`: (size, name) → image, the first
    /// package's where two name the same file.
    pub fn appstream_icons(
        &self,
        shas: &[Sha256],
    ) -> Result<BTreeMap<(String, String), Vec<u8>>, DbError> {
        let what = "read AppStream icons";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT i.size, i.name, d.data FROM appstream_icons i
                 JOIN appstream_icon_data d ON d.sha256 = i.icon_sha256
                 WHERE i.package_sha256 = ?1",
            )
            .map_err(sql(what))?;
        let mut out = BTreeMap::new();
        for sha in shas {
            let rows = stmt
                .query_map([sha.to_hex()], |r| {
                    Ok(((r.get::<_, String>(0)?, r.get::<_, String>(1)?), r.get(2)?))
                })
                .map_err(sql(what))?;
            for row in rows {
                let (key, data) = row.map_err(sql(what))?;
                out.entry(key).or_insert(data);
            }
        }
        Ok(out)
    }
}

/// Deletes the AppStream rows no package row names, inside `gc`'s
/// transaction, after the package rows it deletes. Returns how many
/// packages' documents went.
pub(super) fn delete_unreferenced(tx: &rusqlite::Transaction<'_>) -> Result<u64, DbError> {
    let what = "delete unreferenced AppStream metadata";
    let docs = tx
        .execute(
            "DELETE FROM appstream_docs
             WHERE package_sha256 NOT IN (SELECT sha256 FROM packages)",
            [],
        )
        .map_err(sql(what))?;
    for q in [
        "DELETE FROM appstream_icons WHERE package_sha256 NOT IN (SELECT sha256 FROM packages)",
        "DELETE FROM appstream_headers
         WHERE sha256 NOT IN (SELECT header_sha256 FROM appstream_docs)",
        "DELETE FROM appstream_icon_data
         WHERE sha256 NOT IN (SELECT icon_sha256 FROM appstream_icons)",
    ] {
        tx.execute(q, []).map_err(sql(what))?;
    }
    Ok(docs as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stored_once_read_by_package_and_collected() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("db")).unwrap();
        let (a, b) = (Sha256::of(b"a.deb"), Sha256::of(b"b.deb"));
        let png = Sha256::of(b"png");
        let images = BTreeMap::from([(png, b"png".to_vec())]);
        let docs = |yaml: &str| AppstreamDocs {
            package: a,
            header: "---\nFile: DEP-11\n".into(),
            yaml: yaml.into(),
            icons: vec![("64x64".into(), "a_x.png".into(), png)],
        };
        assert_eq!(
            db.put_appstream(&[docs("---\nPackage: a\n")], &images)
                .unwrap(),
            1
        );
        assert_eq!(
            db.put_appstream(&[docs("---\nchanged\n")], &images)
                .unwrap(),
            0
        );
        let got = db.appstream_docs(&[a, b]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[&a].yaml, "---\nPackage: a\n", "the first copy stays");
        let header = db.appstream_header(&got[&a].header).unwrap();
        assert_eq!(header.as_deref(), Some("---\nFile: DEP-11\n"));
        let icons = db.appstream_icons(&[a]).unwrap();
        assert_eq!(icons[&("64x64".into(), "a_x.png".into())], b"png");

        // No package row names `a`: gc's step removes everything.
        let tx = db.conn.transaction().unwrap();
        assert_eq!(delete_unreferenced(&tx).unwrap(), 1);
        tx.commit().unwrap();
        assert!(db.appstream_docs(&[a]).unwrap().is_empty());
        assert!(db.appstream_icons(&[a]).unwrap().is_empty());
        let left: i64 = db
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM appstream_headers) + (SELECT count(*) FROM appstream_icon_data)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }
}
