//! command-not-found data (migration 17): per package (its .deb's SHA256)
//! the stanza upstream's `cnf/Commands-<arch>` had for it.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension as _, params};

use super::{Db, DbError, sql};
use crate::digest::Sha256;

impl Db {
    /// Stores each package's Commands stanza; a package already stored
    /// keeps its first. Returns how many were new.
    pub fn put_commands(&mut self, stanzas: &[(Sha256, String)]) -> Result<u64, DbError> {
        let what = "store command-not-found data";
        let tx = self.conn.transaction().map_err(sql(what))?;
        let mut new = 0;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT OR IGNORE INTO cnf_commands (package_sha256, stanza) VALUES (?1, ?2)",
                )
                .map_err(sql(what))?;
            for (sha, stanza) in stanzas {
                new += stmt
                    .execute(params![sha.to_hex(), stanza])
                    .map_err(sql(what))? as u64;
            }
        }
        tx.commit().map_err(sql(what))?;
        Ok(new)
    }

    /// The stored stanzas of the packages `shas` that have one.
    pub fn commands(&self, shas: &[Sha256]) -> Result<BTreeMap<Sha256, String>, DbError> {
        let what = "read command-not-found data";
        let mut out = BTreeMap::new();
        // Most archives have none (only Ubuntu's): one question, not one a package.
        if !self.has_rows("cnf_commands")? {
            return Ok(out);
        }
        // One read transaction: a lock per row would be most of the time.
        let tx = self.conn.unchecked_transaction().map_err(sql(what))?;
        let mut stmt = tx
            .prepare_cached("SELECT stanza FROM cnf_commands WHERE package_sha256 = ?1")
            .map_err(sql(what))?;
        for sha in shas {
            let found: Option<String> = stmt
                .query_row([sha.to_hex()], |r| r.get(0))
                .optional()
                .map_err(sql(what))?;
            if let Some(stanza) = found {
                out.insert(*sha, stanza);
            }
        }
        Ok(out)
    }
}

/// Deletes the stanzas of packages no row names any more; returns how many.
pub(super) fn delete_unreferenced(tx: &rusqlite::Transaction<'_>) -> Result<u64, DbError> {
    let what = "delete unreferenced command-not-found data";
    let n = tx
        .execute(
            "DELETE FROM cnf_commands WHERE package_sha256 NOT IN (SELECT sha256 FROM packages)",
            [],
        )
        .map_err(sql(what))?;
    Ok(n as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stored_once_and_read_by_package() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("db")).unwrap();
        let (a, b) = (Sha256::of(b"a.deb"), Sha256::of(b"b.deb"));
        let first = "name: a\ncommands: a\n".to_owned();
        assert_eq!(db.put_commands(&[(a, first.clone())]).unwrap(), 1);
        let again = "name: a\ncommands: other\n".to_owned();
        assert_eq!(db.put_commands(&[(a, again)]).unwrap(), 0, "first stays");
        let got = db.commands(&[a, b]).unwrap();
        assert_eq!(got, BTreeMap::from([(a, first)]));
        let tx = db.conn.transaction().unwrap();
        assert_eq!(
            delete_unreferenced(&tx).unwrap(),
            1,
            "no package row names it"
        );
    }
}
