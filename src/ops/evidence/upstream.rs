//! What a mirror's upstream offers, as its last sync verified it: the
//! source versions its `Packages` and `Sources` indices list, read from the
//! index cache by the SHA256 the mirror's current revision recorded (and
//! hashed again), as a group member's sync reads the others'.
//!
//! `advisories status` says a fixed version is "available upstream" only
//! when the scope mirror's own upstream lists it, its filter
//! notwithstanding: a version another mirror stored, from another archive
//! or suite, is not one this mirror can take. An index gone from the cache
//! (or unreadable) is a warning, and the fixes only it lists count as
//! absent until the next sync.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::debian::deb822::StanzaReader;
use crate::debian::sources::split_source_field;
use crate::debian::version;
use crate::digest::Sha256;
use crate::fetch::{self, Compression};
use crate::model::Mirror;
use crate::ops::Context;
use crate::ops::index_cache::IndexCache;
use crate::progress::Event;

use super::advisories::{AdvisoryError, Finding, FixState};

/// Largest decompressed index read (as a sync accepts).
const MAX_INDEX_BYTES: u64 = 4 << 30;

/// Source versions offered upstream, by source name.
#[derive(Debug, Default)]
pub struct Offered {
    versions: HashMap<String, Vec<String>>,
}

impl Offered {
    /// Whether source `name` is offered at version `fixed` or later.
    pub fn fixes(&self, name: &str, fixed: &str) -> bool {
        self.versions.get(name).is_some_and(|vs| {
            vs.iter()
                .any(|v| version::compare(v, fixed) != Ordering::Less)
        })
    }

    /// Adds the versions of the sources in `wanted` that the current
    /// revision of `mirror` read upstream.
    pub fn read_mirror(
        &mut self,
        ctx: &Context,
        mirror: &Mirror,
        wanted: &HashSet<&str>,
    ) -> Result<(), AdvisoryError> {
        let Some(rev) = mirror.state.revision else {
            return Ok(());
        };
        let Some(revision) = ctx.db.revision(rev)? else {
            return Ok(());
        };
        let cache = IndexCache::new(&ctx.settings.root);
        for (path, sha256) in version_indices(revision.stats.get("indices")) {
            if let Err(why) = self.read_index(&cache, &path, &sha256, wanted) {
                ctx.progress.event(Event::Warning {
                    scope: mirror.name.clone(),
                    message: format!(
                        "its upstream index `{path}` is {why}; the fixed versions only it lists count as absent until the next sync"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Reads one cached index; the error says what is wrong with it.
    fn read_index(
        &mut self,
        cache: &IndexCache,
        path: &str,
        sha256: &Sha256,
        wanted: &HashSet<&str>,
    ) -> Result<(), String> {
        let entry = match cache.verified(sha256) {
            Ok(Some(entry)) => entry,
            Ok(None) => return Err("not in the index cache".into()),
            Err(e) => return Err(format!("unreadable in the index cache ({e})")),
        };
        let compression = Compression::from_extension(Path::new(path))
            .ok_or_else(|| "compressed in a format debvault does not read".to_owned())?;
        let reader = fetch::open_decompressed(&entry, compression, MAX_INDEX_BYTES)
            .map_err(|e| format!("unreadable ({e})"))?;
        let sources = is_sources(path);
        for stanza in StanzaReader::new(reader) {
            let stanza = stanza.map_err(|e| format!("unreadable ({e})"))?;
            let (Some(package), Some(ver)) = (stanza.get("Package"), stanza.get("Version")) else {
                continue;
            };
            let (name, ver) = match stanza.get("Source").filter(|_| !sources) {
                Some(field) => {
                    let (n, v) = split_source_field(field);
                    (if n.is_empty() { package } else { n }, v.unwrap_or(ver))
                }
                None => (package, ver),
            };
            if wanted.contains(name) {
                let vs = self.versions.entry(name.to_owned()).or_default();
                if !vs.iter().any(|v| v == ver) {
                    vs.push(ver.to_owned());
                }
            }
        }
        Ok(())
    }
}

/// Marks [`FixState::Upstream`] the absent fixes of `found` that the
/// last verified upstream indices of `mirrors` list.
pub(super) fn mark(
    ctx: &Context,
    mirrors: &[Mirror],
    found: &mut [Finding],
) -> Result<(), AdvisoryError> {
    let wanted: HashSet<&str> = found
        .iter()
        .filter(|f| f.fix == FixState::Absent && f.fixed.is_some())
        .map(|f| f.package.as_str())
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut offered = Offered::default();
    for m in mirrors {
        offered.read_mirror(ctx, m, &wanted)?;
    }
    for f in found.iter_mut().filter(|f| f.fix == FixState::Absent) {
        if let Some(fixed) = &f.fixed
            && offered.fixes(&f.package, fixed)
        {
            f.fix = FixState::Upstream;
        }
    }
    Ok(())
}

/// Whether an index path names a `Sources` index (else `Packages`).
fn is_sources(path: &str) -> bool {
    file_name(path).starts_with("Sources")
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The `Packages` and `Sources` indices among a revision's recorded
/// indices (path → SHA256); Translation, DEP-11 and installer files are
/// left out.
fn version_indices(recorded: Option<&serde_json::Value>) -> Vec<(String, Sha256)> {
    let Some(map) = recorded.and_then(serde_json::Value::as_object) else {
        return Vec::new();
    };
    map.iter()
        .filter(|(path, _)| {
            let f = file_name(path);
            f.starts_with("Packages") || f.starts_with("Sources")
        })
        .filter_map(|(path, sha)| Some((path.clone(), sha.as_str()?.parse::<Sha256>().ok()?)))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn packages_and_sources_indices_are_read_for_versions() {
        let sha = Sha256::of(b"x").to_string();
        let recorded = serde_json::json!({
            "main/binary-amd64/Packages.xz": sha,
            "main/source/Sources.gz": sha,
            "main/i18n/Translation-en.xz": sha,
            "main/dep11/Components-amd64.yml.gz": sha,
            "Packages": sha,
            "main/binary-arm64/Packages": "not a digest",
        });
        let got: Vec<String> = version_indices(Some(&recorded))
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            got,
            [
                "Packages",
                "main/binary-amd64/Packages.xz",
                "main/source/Sources.gz"
            ]
        );
        assert!(is_sources("main/source/Sources.gz"));
        assert!(!is_sources("main/binary-amd64/Packages.xz"));
    }

    #[test]
    fn binaries_count_for_their_source_and_its_version() {
        let dir = tempfile::tempdir().unwrap();
        let cache = IndexCache::new(dir.path());
        let text = "Package: libhello1\nVersion: 2.10-3+b1\nSource: hello (2.10-3)\n\n\
                    Package: hello-doc\nVersion: 2.10-2\nSource: hello\n\n\
                    Package: other\nVersion: 9\n";
        let src = dir.path().join("Packages");
        std::fs::write(&src, text).unwrap();
        let sha = Sha256::of(text.as_bytes());
        cache.put(&sha, &src).unwrap();
        let mut offered = Offered::default();
        let wanted = HashSet::from(["hello"]);
        offered
            .read_index(&cache, "main/binary-amd64/Packages", &sha, &wanted)
            .unwrap();
        assert!(offered.fixes("hello", "2.10-3"));
        assert!(!offered.fixes("hello", "2.10-4"));
        assert!(!offered.fixes("other", "1"), "not wanted, not read");
        let missing = Sha256::of(b"gone");
        let e = offered
            .read_index(&cache, "main/binary-amd64/Packages", &missing, &wanted)
            .unwrap_err();
        assert_eq!(e, "not in the index cache");
    }
}
