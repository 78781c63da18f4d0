//! Long descriptions: the `i18n/Translation-<lang>` files of the mirror's
//! languages.
//!
//! Debian's Packages entries carry the one-line `Description` and a
//! `Description-md5`; apt shows the long text only when the archive also
//! serves the Translation file holding an entry for that (package, md5).
//! [`choose`] picks, for each component and language the verified Release
//! lists, the best compression we can read; [`fetch`] gets each file like a
//! package index (index cache, by hash, size and SHA256 checked while
//! streaming), streams its entries and keeps those of the packages the sync
//! selected. The caller stores them before the commit: rows are keyed by
//! (language, package, md5), so an early insert is harmless.

use std::collections::HashSet;

use url::Url;

use super::execute::Record;
use super::release::{IndexBytes, IndexRef, SMALLEST_FIRST, best_index, obtain};
use super::{SyncError, step};
use crate::db::Db;
use crate::debian::release::Release;
use crate::debian::{TranslationEntry, TranslationReader};
use crate::fetch;
use crate::model::Mirror;
use crate::ops::Context;
use crate::ops::upstream::UpstreamPackage;
use crate::query::Candidate as _;

/// The Packages field a Translation entry is matched on.
pub(super) const MD5_FIELD: &str = "Description-md5";
/// Largest decompressed Translation file accepted (Debian's
/// `Translation-en` for main is about 40 MB).
const MAX_TRANSLATION_BYTES: u64 = 1 << 30;

/// One Translation file to fetch.
pub(super) struct TranslationRef {
    /// Its language.
    pub language: String,
    /// Where it is and what the Release promises.
    pub index: IndexRef,
}

/// The Translation files a sync reads, and how.
pub(super) struct Pending {
    /// The mirror's `dists/SUITE/` URL.
    pub dists: Url,
    /// Whether the Release offers by-hash.
    pub by_hash: bool,
    /// The files, by component then language.
    pub files: Vec<TranslationRef>,
    /// The `component/language` pairs the Release lists no file for.
    pub missing: Vec<String>,
}

/// The Translation files of the mirror's languages for the components of
/// `indices`, under `dists` (see [`choose`]).
pub(super) fn pending(
    mirror: &Mirror,
    release: &Release,
    dists: &Url,
    indices: &[IndexRef],
) -> Pending {
    let components: Vec<String> = indices.iter().map(|i| i.component.clone()).collect();
    let (files, missing) = choose(mirror, release, &components);
    Pending {
        dists: dists.clone(),
        by_hash: release.acquire_by_hash,
        files,
        missing,
    }
}

/// The entries a sync keeps, by language.
#[derive(Default)]
pub(super) struct Kept {
    /// Language → its entries, sorted, each (package, md5) once.
    pub by_language: Vec<(String, Vec<TranslationEntry>)>,
}

impl Kept {
    /// Entries kept, all languages.
    pub fn count(&self) -> u64 {
        self.by_language.iter().map(|(_, e)| e.len() as u64).sum()
    }

    /// Stores the entries (before the sync's commit: rows are keyed by
    /// their content, so an early insert is harmless).
    pub fn store(&self, db: &mut Db) -> Result<(), SyncError> {
        for (language, entries) in &self.by_language {
            db.put_translations(language, entries)?;
        }
        Ok(())
    }
}

/// Adds `Description-md5` to the fields each upstream package keeps in
/// memory, when the mirror has languages: the selection is matched on it.
pub(super) fn keep_md5(mirror: &Mirror, fields: &mut Vec<String>) {
    if !mirror.spec.languages.is_empty()
        && !fields.iter().any(|f| f.eq_ignore_ascii_case(MD5_FIELD))
    {
        fields.push(MD5_FIELD.to_owned());
    }
}

/// For each of `components` and each of the mirror's languages, the
/// Translation file the Release lists with a SHA256, at the best
/// compression we read. Second: the `component/language` pairs the Release
/// lists no file for (a note, not an error: not every component is
/// translated into every language).
pub(super) fn choose(
    mirror: &Mirror,
    release: &Release,
    components: &[String],
) -> (Vec<TranslationRef>, Vec<String>) {
    let (mut files, mut missing) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for component in components.iter().filter(|c| seen.insert(c.as_str())) {
        for language in &mirror.spec.languages {
            let stem = format!("{component}/i18n/Translation-{language}");
            let best = best_index(release, component, &stem, &SMALLEST_FIRST);
            match best {
                Some(index) => files.push(TranslationRef {
                    language: language.clone(),
                    index,
                }),
                None => missing.push(format!("{component}/{language}")),
            }
        }
    }
    (files, missing)
}

/// Fetches the `pending` files and keeps the entries whose (Package,
/// Description-md5) is that of a selected package (`selected`: the
/// packages and the selection's indices into them); their bytes count into
/// `record`'s. Nothing is fetched when no selected package carries a
/// `Description-md5`.
pub(super) async fn fetch(
    ctx: &Context,
    mirror: &Mirror,
    pending: &Pending,
    (packages, selected): (&[UpstreamPackage], &[usize]),
    record: &mut Record,
) -> Result<Kept, SyncError> {
    if !pending.missing.is_empty() {
        let missing = pending.missing.join(", ");
        let note = format!("the Release lists no Translation file for {missing}");
        step(ctx, &mirror.name, note);
    }
    let mut bytes = IndexBytes {
        network: record.index_bytes,
        cached: record.index_cached_bytes,
    };
    let kept = fetch_files(ctx, mirror, pending, packages, selected, &mut bytes).await;
    (record.index_bytes, record.index_cached_bytes) = (bytes.network, bytes.cached);
    kept
}

async fn fetch_files(
    ctx: &Context,
    mirror: &Mirror,
    pending: &Pending,
    packages: &[UpstreamPackage],
    selected: &[usize],
    bytes: &mut IndexBytes,
) -> Result<Kept, SyncError> {
    let wanted: HashSet<(&str, &str)> = selected
        .iter()
        .filter_map(|&i| packages.get(i))
        .filter_map(|p| Some((&*p.name, p.field(MD5_FIELD)?)))
        .collect();
    let mut kept = Kept::default();
    if wanted.is_empty() {
        return Ok(kept);
    }
    for file in &pending.files {
        let staged = ctx.store.staging_path(None)?;
        let got = obtain(
            ctx,
            mirror,
            &pending.dists,
            pending.by_hash,
            &file.index,
            &staged,
            bytes,
        )
        .await
        .and_then(|()| read_file(mirror, file, &staged, &wanted));
        let _ = std::fs::remove_file(&staged);
        let mut entries = got?;
        match kept
            .by_language
            .iter_mut()
            .find(|(l, _)| *l == file.language)
        {
            Some((_, all)) => all.append(&mut entries),
            None => kept.by_language.push((file.language.clone(), entries)),
        }
    }
    for (_, entries) in &mut kept.by_language {
        entries.sort_unstable();
        entries.dedup_by(|a, b| a.package == b.package && a.md5 == b.md5);
    }
    step(
        ctx,
        &mirror.name,
        format!("keeping {} long descriptions", kept.count()),
    );
    Ok(kept)
}

/// The entries of the fetched file at `staged` that `wanted` names.
fn read_file(
    mirror: &Mirror,
    file: &TranslationRef,
    staged: &std::path::Path,
    wanted: &HashSet<(&str, &str)>,
) -> Result<Vec<TranslationEntry>, SyncError> {
    let bad = |detail: String| SyncError::BadIndex {
        mirror: mirror.name.clone(),
        index: file.index.path.clone(),
        detail,
    };
    let reader = fetch::open_decompressed(staged, file.index.compression, MAX_TRANSLATION_BYTES)
        .map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for entry in TranslationReader::new(reader, &file.language) {
        let entry = entry.map_err(|e| bad(e.to_string()))?;
        if wanted.contains(&(entry.package.as_str(), entry.md5.as_str())) {
            out.push(entry);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Sha256;

    fn mirror(languages: &[&str]) -> Mirror {
        let spec = serde_json::json!({
            "url": "http://h/debian", "suite": "trixie",
            "architectures": ["amd64"], "languages": languages,
        });
        Mirror {
            id: crate::model::MirrorId(1),
            name: "m".into(),
            spec: serde_json::from_value(spec).expect("spec"),
            created_at: chrono::Utc::now(),
            state: crate::model::MirrorState::default(),
        }
    }

    #[test]
    fn picks_the_best_listed_compression_and_notes_missing_languages() {
        let sha = Sha256::of(b"x");
        let release = Release::parse(&format!(
            "Suite: trixie\nComponents: main contrib\nSHA256:\n {sha} 10 main/i18n/Translation-en\n {sha} 5 main/i18n/Translation-en.bz2\n {sha} 4 main/i18n/Translation-en.xz\n {sha} 6 contrib/i18n/Translation-en.gz\n {sha} 3 main/i18n/Translation-de.bz2\n"
        ))
        .expect("release");
        let components = ["main".to_owned(), "main".to_owned(), "contrib".to_owned()];
        let (files, missing) = choose(&mirror(&["en", "de"]), &release, &components);
        let got: Vec<(&str, &str, u64)> = files
            .iter()
            .map(|f| (f.language.as_str(), f.index.path.as_str(), f.index.size))
            .collect();
        assert_eq!(
            got,
            [
                ("en", "main/i18n/Translation-en.xz", 4),
                ("en", "contrib/i18n/Translation-en.gz", 6)
            ]
        );
        assert_eq!(missing, ["main/de", "contrib/de"], "bz2 alone is not read");
        let (files, _) = choose(&mirror(&[]), &release, &components);
        assert!(files.is_empty(), "no languages, no files");
    }

    #[test]
    fn the_md5_is_kept_in_memory_only_with_languages() {
        let mut fields = vec!["Depends".to_owned()];
        keep_md5(&mirror(&[]), &mut fields);
        assert_eq!(fields, ["Depends"]);
        keep_md5(&mirror(&["en"]), &mut fields);
        keep_md5(&mirror(&["en"]), &mut fields);
        assert_eq!(fields, ["Depends", MD5_FIELD]);
    }
}
