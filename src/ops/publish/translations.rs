//! The `Translation-<lang>` indices of a publication: the long descriptions
//! of its packages.
//!
//! A package's Packages stanza stays as upstream wrote it (the one-line
//! `Description` and its `Description-md5`); apt finds the long text in
//! `<component>/i18n/Translation-<lang>` under the same (package, md5).
//! The text comes from the rows syncs stored, keyed by that pair, so a
//! snapshot merged from several mirrors gets each package's own. One index
//! per component and language that has at least one entry; one stanza per
//! (package, md5), sorted by package name as Debian writes them.

use std::collections::{BTreeMap, BTreeSet};

use super::PublishError;
use crate::db::Db;
use crate::debian::deb822::find_field;
use crate::model::PackageRecord;
use crate::tree::{IndexInput, IndexKind};

/// The Translation indices for `records` (component, package).
pub(super) fn translation_indices(
    db: &Db,
    records: &[(String, PackageRecord)],
) -> Result<Vec<IndexInput>, PublishError> {
    let mut keys: BTreeMap<&str, BTreeSet<(String, String)>> = BTreeMap::new();
    for (component, r) in records {
        if let Some(md5) = find_field(&r.stanza, "Description-md5") {
            keys.entry(component)
                .or_default()
                .insert((r.name.clone(), md5.to_owned()));
        }
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for language in db.translation_languages()? {
        for (component, wanted) in &keys {
            let entries = db.translations(&language, wanted)?;
            if entries.is_empty() {
                continue;
            }
            out.push(IndexInput {
                component: (*component).to_owned(),
                kind: IndexKind::Translation {
                    language: language.clone(),
                },
                stanzas: entries
                    .iter()
                    .map(|e| e.to_stanza_text(&language))
                    .collect(),
            });
        }
    }
    Ok(out)
}
