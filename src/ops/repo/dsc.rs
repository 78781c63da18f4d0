//! Source packages for `repo add`: a `.dsc` and the files it lists.
//!
//! The `.dsc` (clearsigned or not; its signature is checked by `repo
//! include` against the uploaders, not here) is read with a bound, every
//! file its `Checksums-Sha256` lists must lie beside it with exactly the
//! listed size and SHA256, and the `Sources` stanza is built as an archive
//! writes one: `Source` becomes `Package`, the `.dsc` joins `Files` and
//! `Checksums-Sha256` (`Checksums-Sha1` is dropped rather than left
//! without it), and `Directory` is the pool directory of the repo's
//! component. The row is an ordinary source package (`arch` `source`, the
//! `.dsc`'s digest), its other files recorded as mirrored ones are.

use std::path::Path;

use super::RepoError;
use super::add::{Incoming, Staging, stage_copy};
use crate::debian::Stanza;
use crate::debian::packages::pool_dir;
use crate::debian::sources::{SOURCE_ARCH, SourcePackage, parse_files};
use crate::model::PackageRecord;
use crate::store::BlobStore;

/// Largest `.dsc` read.
const MAX_DSC: u64 = 1 << 20;

/// Stages the `.dsc` at `path` and its files, checks them, and describes
/// the source package for `component`.
pub(super) fn ingest(
    store: &BlobStore,
    staging: &mut Staging,
    path: &Path,
    component: &str,
) -> Result<Incoming, RepoError> {
    let file = path.display().to_string();
    let bad = |problem: &'static str| RepoError::BadDsc {
        path: file.clone(),
        problem,
    };
    let dsc = stage_copy(store, staging, path)?;
    if dsc.size > MAX_DSC {
        return Err(bad("it is larger than 1 MiB"));
    }
    let bytes = std::fs::read(&dsc.path).map_err(|source| RepoError::Read {
        path: file.clone(),
        source,
    })?;
    let text = if bytes.starts_with(b"-----BEGIN PGP SIGNED MESSAGE-----") {
        crate::pgp::clearsigned_text(&bytes)
            .ok_or_else(|| bad("its clearsigned text does not parse"))?
    } else {
        bytes
    };
    let mut stanzas = crate::debian::parse_str(&String::from_utf8_lossy(&text))
        .map_err(|_| bad("it is not one control stanza"))?;
    if stanzas.len() != 1 {
        return Err(bad("it is not one control stanza"));
    }
    let fields = stanzas.remove(0);
    let name = fields.get("Source").unwrap_or_default().to_owned();
    let listed = parse_files(&name, fields.get("Checksums-Sha256").unwrap_or_default()).map_err(
        |source| RepoError::BadSource {
            path: file.clone(),
            source,
        },
    )?;
    let dsc_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut staged = vec![(dsc.path.clone(), dsc.sha256)];
    for f in &listed {
        let p = dir.join(&f.name);
        let copy = stage_copy(store, staging, &p)?;
        if copy.size != f.size || copy.sha256 != f.sha256 {
            return Err(RepoError::SourceFileMismatch {
                path: p.display().to_string(),
                dsc: file.clone(),
                detail: format!(
                    "it has {} bytes and SHA256 {}, the .dsc lists {} bytes and {}",
                    copy.size, copy.sha256, f.size, f.sha256
                ),
            });
        }
        staged.push((copy.path, copy.sha256));
    }
    let mut stanza = Stanza::new();
    for (k, v) in fields.fields() {
        match k.to_ascii_lowercase().as_str() {
            "source" => stanza.push("Package", v.clone()),
            "checksums-sha1" => {}
            "checksums-sha256" => stanza.push(
                k.clone(),
                format!("{v}\n {} {} {dsc_name}", dsc.sha256, dsc.size),
            ),
            "files" => stanza.push(
                k.clone(),
                format!("{v}\n {} {} {dsc_name}", dsc.md5, dsc.size),
            ),
            _ => stanza.push(k.clone(), v.clone()),
        }
    }
    let directory = pool_dir(&name, component);
    stanza.push("Directory", directory.clone());
    let text = stanza.to_text();
    let parsed = SourcePackage::from_stanza(stanza).map_err(|source| RepoError::BadSource {
        path: file.clone(),
        source,
    })?;
    if !dsc_name.ends_with(".dsc") || parsed.dsc_file().name != dsc_name {
        return Err(bad("its file list names another .dsc"));
    }
    Ok(Incoming {
        file,
        staged,
        record: PackageRecord {
            version: fields.get("Version").unwrap_or_default().to_owned(),
            name: parsed.name,
            architecture: SOURCE_ARCH.to_owned(),
            sha256: dsc.sha256,
            size: dsc.size,
            filename: format!("{directory}/{dsc_name}"),
            source: name,
            stanza: text,
        },
    })
}
