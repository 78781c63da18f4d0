//! Source packages in a publication.
//!
//! A source package is one row (its `.dsc`) but several pool files, and
//! its `Sources` stanza names them by one `Directory`. [`place_sources`]
//! turns each source row into one record per file, all in
//! `pool/<component>/<x>/<source>/`; when any of them would clash with other
//! content there (pool files are write-once), the whole source goes to
//! `…/<source>/sha256-<16 hex of the .dsc>/` instead, so its files stay in
//! one directory. [`sources_index`] renders the `Sources` stanzas with
//! `Directory` pointing at where the files went, every other field as
//! upstream had it.

use std::collections::HashSet;

use super::PublishError;
use super::pool::Item;
use crate::db::SOURCE_ARCH;
use crate::debian::deb822::parse_str;
use crate::debian::sources::SourcePackage;
use crate::model::PackageRecord;
use crate::tree::{IndexInput, IndexKind};

/// A source package in a publication: (component, name, version).
type SourceKey = (String, String, String);

/// The records to publish with every source package spread into one
/// record per file (see the module docs). `plan` plans the pool for the
/// records it is given and returns the items it had to hash-qualify; it is
/// asked about the source files only, and only when there are some.
pub(super) fn place_sources<F>(
    records: Vec<(String, PackageRecord)>,
    plan: F,
) -> Result<Vec<(String, PackageRecord)>, PublishError>
where
    F: FnOnce(&[(String, PackageRecord)]) -> Result<Vec<SourceKey>, PublishError>,
{
    if !records.iter().any(|(_, r)| r.architecture == SOURCE_ARCH) {
        return Ok(records);
    }
    let (sources, binaries): (Vec<_>, Vec<_>) = records
        .into_iter()
        .partition(|(_, r)| r.architecture == SOURCE_ARCH);
    let plain = spread(&sources, &HashSet::new())?;
    let clashing: HashSet<SourceKey> = plan(&plain)?.into_iter().collect();
    let mut out = binaries;
    if clashing.is_empty() {
        out.extend(plain);
    } else {
        out.extend(spread(&sources, &clashing)?);
    }
    Ok(out)
}

/// The source packages some of whose files a pool plan hash-qualified.
pub(super) fn qualified_sources(items: &[Item<'_>]) -> Vec<SourceKey> {
    items
        .iter()
        .filter(|it| it.qualified && it.record.architecture == SOURCE_ARCH)
        .map(|it| key(it.component, it.record))
        .collect()
}

fn key(component: &str, r: &PackageRecord) -> SourceKey {
    (component.to_owned(), r.name.clone(), r.version.clone())
}

/// One record per file of each source package; those in `qualified` go to
/// the `.dsc`'s hash-qualified directory. The `.dsc`'s record keeps the
/// stanza (the index is rendered from it), the others have none.
fn spread(
    sources: &[(String, PackageRecord)],
    qualified: &HashSet<SourceKey>,
) -> Result<Vec<(String, PackageRecord)>, PublishError> {
    let mut out = Vec::new();
    for (component, r) in sources {
        let parsed = parse(r)?;
        let source = if qualified.contains(&key(component, r)) {
            format!("{}/sha256-{}", parsed.name, &r.sha256.to_hex()[..16])
        } else {
            parsed.name.clone()
        };
        for (k, f) in parsed.files.iter().enumerate() {
            out.push((
                component.clone(),
                PackageRecord {
                    name: r.name.clone(),
                    version: r.version.clone(),
                    architecture: SOURCE_ARCH.to_owned(),
                    sha256: f.sha256,
                    size: f.size,
                    filename: parsed.file_path(f),
                    source: source.clone(),
                    stanza: if k == parsed.dsc {
                        r.stanza.clone()
                    } else {
                        String::new()
                    },
                },
            ));
        }
    }
    Ok(out)
}

fn parse(r: &PackageRecord) -> Result<SourcePackage, PublishError> {
    let bad = |detail: String| PublishError::BadSource {
        package: format!("{}_{}", r.name, r.version),
        detail,
    };
    let stanza = parse_str(&r.stanza)
        .map_err(|e| bad(e.to_string()))?
        .pop()
        .ok_or_else(|| bad("no stanza".into()))?;
    SourcePackage::from_stanza(stanza).map_err(|e| bad(e.to_string()))
}

/// The `Sources` index of `component` from its entries, (record, pool
/// path) sorted by name and version: one stanza per source package (its
/// `.dsc` record), `Directory` set to the directory its files went to.
pub(super) fn sources_index<'a>(
    component: &str,
    entries: impl Iterator<Item = (&'a PackageRecord, &'a str)>,
) -> IndexInput {
    let stanzas = entries
        .filter(|(r, _)| r.architecture == SOURCE_ARCH && !r.stanza.is_empty())
        .map(|(r, path)| {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            with_directory(&r.stanza, dir)
        })
        .collect();
    IndexInput {
        component: component.to_owned(),
        kind: IndexKind::Sources,
        stanzas,
    }
}

/// `stanza` with its `Directory` set to `dir` (added when a flat
/// repository's had none), ending in one line break and free of blank lines.
fn with_directory(stanza: &str, dir: &str) -> String {
    let mut out = String::with_capacity(stanza.len() + dir.len() + 12);
    let mut seen = false;
    for line in stanza.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let is_directory = !line.starts_with([' ', '\t'])
            && line
                .split_once(':')
                .is_some_and(|(k, _)| k.eq_ignore_ascii_case("Directory"));
        if is_directory {
            out.push_str("Directory: ");
            out.push_str(dir);
            seen = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !seen {
        out.push_str("Directory: ");
        out.push_str(dir);
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::digest::Sha256;

    fn source_record() -> PackageRecord {
        let stanza = format!(
            "Package: foo\nVersion: 1.0-1\nDirectory: pool/main/f/foo\nChecksums-Sha256:\n {} 3 foo_1.0-1.dsc\n {} 4 foo_1.0.orig.tar.gz\nFormat: 3.0 (quilt)\n",
            Sha256::of(b"dsc"),
            Sha256::of(b"orig")
        );
        PackageRecord {
            name: "foo".into(),
            version: "1.0-1".into(),
            architecture: "source".into(),
            sha256: Sha256::of(b"dsc"),
            size: 3,
            filename: "pool/main/f/foo/foo_1.0-1.dsc".into(),
            source: "foo".into(),
            stanza,
        }
    }

    #[test]
    fn a_clash_moves_every_file_of_the_source() {
        let records = vec![("main".to_owned(), source_record())];
        let placed = place_sources(records.clone(), |_| Ok(Vec::new())).unwrap();
        let dirs: Vec<&str> = placed.iter().map(|(_, r)| r.source.as_str()).collect();
        assert_eq!(dirs, ["foo", "foo"]);
        assert_eq!(placed[1].1.sha256, Sha256::of(b"orig"));
        assert!(placed[1].1.stanza.is_empty());
        let key = ("main".to_owned(), "foo".to_owned(), "1.0-1".to_owned());
        let placed = place_sources(records, |_| Ok(vec![key])).unwrap();
        let want = format!("foo/sha256-{}", &Sha256::of(b"dsc").to_hex()[..16]);
        assert!(placed.iter().all(|(_, r)| r.source == want), "{placed:?}");
    }

    #[test]
    fn the_index_points_directory_at_the_pool() {
        let r = source_record();
        let index = sources_index(
            "main",
            [(&r, "pool/main/f/foo/sha256-0011/foo_1.0-1.dsc")].into_iter(),
        );
        assert_eq!(index.stanzas.len(), 1);
        assert!(
            index.stanzas[0].contains("\nDirectory: pool/main/f/foo/sha256-0011\n"),
            "{}",
            index.stanzas[0]
        );
        assert!(index.stanzas[0].ends_with("Format: 3.0 (quilt)\n"));
        // A flat repository's stanza without a `Directory` gets one.
        let flat = with_directory("Package: foo\nVersion: 1\n", "pool/main/f/foo");
        assert_eq!(
            flat,
            "Package: foo\nVersion: 1\nDirectory: pool/main/f/foo\n"
        );
    }
}
