//! Long package descriptions (migration 8): rows keyed by (language,
//! package, Description-md5), stored once and shared by every package set
//! whose packages carry that md5.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension as _, params};

use super::{Db, DbError, sql};
use crate::debian::TranslationEntry;

impl Db {
    /// Stores `language`'s `entries`; an entry already stored stays as it
    /// is (the key is content-addressed). Returns how many were new.
    pub fn put_translations(
        &mut self,
        language: &str,
        entries: &[TranslationEntry],
    ) -> Result<u64, DbError> {
        let what = format!("store `{language}` descriptions");
        let tx = self.conn.transaction().map_err(sql(&what))?;
        let mut new = 0;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT OR IGNORE INTO translations (language, package, md5, description)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sql(&what))?;
            for e in entries {
                new += stmt
                    .execute(params![language, e.package, e.md5, e.description])
                    .map_err(sql(&what))? as u64;
            }
        }
        tx.commit().map_err(sql(&what))?;
        Ok(new)
    }

    /// The languages that have any stored description.
    pub fn translation_languages(&self) -> Result<Vec<String>, DbError> {
        let what = "list description languages";
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT language FROM translations ORDER BY language")
            .map_err(sql(what))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(sql(what))?;
        rows.collect::<Result<_, _>>().map_err(sql(what))
    }

    /// `language`'s entries for the (package, md5) `keys` that have one, in
    /// the keys' order (by package, then md5).
    pub fn translations(
        &self,
        language: &str,
        keys: &BTreeSet<(String, String)>,
    ) -> Result<Vec<TranslationEntry>, DbError> {
        let what = format!("read `{language}` descriptions");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT description FROM translations
                 WHERE language = ?1 AND package = ?2 AND md5 = ?3",
            )
            .map_err(sql(&what))?;
        let mut out = Vec::new();
        for (package, md5) in keys {
            let found: Option<String> = stmt
                .query_row(params![language, package, md5], |r| r.get(0))
                .optional()
                .map_err(sql(&what))?;
            if let Some(description) = found {
                out.push(TranslationEntry {
                    package: package.clone(),
                    md5: md5.clone(),
                    description,
                });
            }
        }
        Ok(out)
    }
}

/// Deletes the descriptions no package row carries (its name and, in its
/// stanza, `Description-md5: <md5>`), inside `gc`'s transaction, after the
/// package rows it deletes. Returns how many went. Syncs, which insert rows
/// before their commit, hold the gc lock shared, so none is half done.
pub(super) fn delete_unreferenced(tx: &rusqlite::Transaction<'_>) -> Result<u64, DbError> {
    let deleted = tx
        .execute(
            "DELETE FROM translations WHERE NOT EXISTS (
                 SELECT 1 FROM packages p
                 WHERE p.name = translations.package
                   AND instr(p.stanza, 'Description-md5: ' || translations.md5) > 0)",
            [],
        )
        .map_err(sql("delete unreferenced descriptions"))?;
    Ok(deleted as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(package: &str, md5: char, text: &str) -> TranslationEntry {
        TranslationEntry {
            package: package.into(),
            md5: md5.to_string().repeat(32),
            description: text.into(),
        }
    }

    #[test]
    fn stored_once_and_found_by_package_and_md5() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut db = Db::open(&dir.path().join("db")).expect("open");
        let a = entry("curl", 'a', "curl\n long");
        let b = entry("curl", 'b', "curl\n other text");
        assert_eq!(
            db.put_translations("en", &[a.clone(), b.clone()])
                .expect("put"),
            2
        );
        assert_eq!(
            db.put_translations("en", std::slice::from_ref(&a))
                .expect("put"),
            0
        );
        db.put_translations("de", &[entry("curl", 'a', "curl\n lang")])
            .expect("put");
        assert_eq!(db.translation_languages().expect("languages"), ["de", "en"]);
        let keys = BTreeSet::from([
            ("curl".to_owned(), "b".repeat(32)),
            ("curl".to_owned(), "a".repeat(32)),
            ("zsh".to_owned(), "a".repeat(32)),
        ]);
        assert_eq!(db.translations("en", &keys).expect("read"), [a, b]);
    }
}
