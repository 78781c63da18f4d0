//! The upstream's package indices as a sync holds them: compact.
//!
//! A sync reads every stanza of every wanted index, but a filtered mirror
//! keeps a few hundred of tens of thousands. In memory each package keeps
//! only what the plan needs: its identity, its pool file, and the control
//! fields the filter and the dependency closure read ([`Upstream::parse`]'s
//! `fields`). The whole stanza goes to a spool file and is read back only
//! for the packages the sync commits. The spool is unlinked as soon as it is
//! open, so a killed sync leaves nothing behind.
//!
//! Measured on bookworm main amd64 (63,000 packages), filtered to 117: the
//! stanzas held in memory were 80 of the sync's 94 MB of heap.

use std::fs::File;
use std::io::{self, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::Arc;

use crate::db::SOURCE_ARCH;
use crate::debian::deb822::{StanzaReader, find_field, parse_str};
use crate::debian::packages::BinaryPackage;
use crate::debian::sources::{SourcePackage, parse_files};
use crate::debian::version::Version;
use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE};
use crate::model::{PackageKey, PackageRecord};
use crate::query::Candidate;

/// Spool writes are gathered up to this size.
const SPOOL_BUFFER: usize = 1 << 20;

/// The packages of a sync's indices and the spool holding their stanzas.
pub(super) struct Upstream {
    /// In index order (after [`Upstream::dedupe`], first listing wins).
    pub packages: Vec<UpstreamPackage>,
    spool: Spool,
    /// Control fields kept in memory for each package.
    fields: Vec<String>,
    /// Architecture names, each allocated once.
    architectures: Vec<Arc<str>>,
}

/// One package of the upstream indices; see the module docs. Strings are
/// boxed (no spare capacity); the pool file's name and the source name are
/// read back with the stanza, for the few packages that need them.
pub(super) struct UpstreamPackage {
    /// Index (into the sync's index list) of the component it was listed in.
    pub component: u32,
    /// Length of the whole stanza in the spool.
    len: u32,
    /// Where the whole stanza is in the spool.
    at: u64,
    pub name: Box<str>,
    pub version: Version,
    /// Shared with every package of the same architecture.
    pub architecture: Arc<str>,
    pub size: u64,
    pub sha256: Sha256,
    /// The kept control fields, as stanza lines.
    pub fields: Box<str>,
}

/// Whether architecture `variant` (`amd64v3`) is a variant of `base`
/// (`amd64`): the base, `v` and a level.
pub(super) fn is_variant_of(variant: &str, base: &str) -> bool {
    variant
        .strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('v'))
        .is_some_and(|level| !level.is_empty() && level.bytes().all(|b| b.is_ascii_digit()))
}

/// The architecture of a `<component>/binary-<arch>/Packages` index path.
pub(super) fn index_architecture(path: &str) -> Option<&str> {
    path.split('/').find_map(|dir| dir.strip_prefix("binary-"))
}

/// Why an index could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum UpstreamError {
    /// The index or a stanza of it does not parse.
    #[error("{0}")]
    Parse(String),
    /// The spool could not be written or read.
    #[error("spool file `{path}`: {source}")]
    Spool {
        /// Where it was made.
        path: String,
        /// Cause.
        #[source]
        source: io::Error,
    },
}

impl ExitCode for UpstreamError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

impl Upstream {
    /// An empty set whose packages keep `fields` in memory, spooling
    /// stanzas to a file made (and at once unlinked) at `spool`.
    pub fn new(spool: &Path, fields: Vec<String>) -> Result<Upstream, UpstreamError> {
        Ok(Upstream {
            packages: Vec::new(),
            spool: Spool::create(spool)?,
            fields,
            architectures: Vec::new(),
        })
    }

    /// Adds every stanza of a decompressed index listed under `component`.
    /// `variant`: the index is an architecture variant's (`binary-amd64v3`),
    /// whose packages say `Architecture: amd64`; they are kept as the
    /// variant's, apart from the baseline's same versions.
    pub fn parse(
        &mut self,
        reader: impl io::BufRead,
        component: u32,
        variant: Option<&str>,
    ) -> Result<(), UpstreamError> {
        for stanza in StanzaReader::new(reader) {
            let stanza = stanza.map_err(|e| UpstreamError::Parse(e.to_string()))?;
            let p = BinaryPackage::from_stanza(stanza)
                .map_err(|e| UpstreamError::Parse(e.to_string()))?;
            let text = p.stanza.to_text();
            let arch = match variant {
                Some(v) if p.architecture != "all" && is_variant_of(v, &p.architecture) => v,
                _ => p.architecture.as_str(),
            };
            self.push(
                &text,
                component,
                &[],
                (p.name, p.version, arch, p.size, p.sha256),
            )?;
        }
        Ok(())
    }

    /// Adds every stanza of a decompressed `Sources` index listed under
    /// `component`: source packages, architecture `source`, named by their
    /// `.dsc`; their `Directory` and `Checksums-Sha256` stay in memory for
    /// planning their downloads.
    pub fn parse_sources(
        &mut self,
        reader: impl io::BufRead,
        component: u32,
    ) -> Result<(), UpstreamError> {
        for stanza in StanzaReader::new(reader) {
            let stanza = stanza.map_err(|e| UpstreamError::Parse(e.to_string()))?;
            let p = SourcePackage::from_stanza(stanza)
                .map_err(|e| UpstreamError::Parse(e.to_string()))?;
            let text = p.stanza.to_text();
            let dsc = p.dsc_file();
            let (size, sha256) = (dsc.size, dsc.sha256);
            let also = ["Directory", "Checksums-Sha256"];
            self.push(
                &text,
                component,
                &also,
                (p.name, p.version, SOURCE_ARCH, size, sha256),
            )?;
        }
        Ok(())
    }

    /// Spools a stanza and keeps its package, with the filter's fields and
    /// the fields `also` in memory.
    fn push(
        &mut self,
        text: &str,
        component: u32,
        also: &[&str],
        (name, version, arch, size, sha256): (String, Version, &str, u64, Sha256),
    ) -> Result<(), UpstreamError> {
        let mut fields = String::new();
        let wanted = self.fields.iter().map(String::as_str);
        for name in wanted.chain(also.iter().copied()) {
            if let Some(value) = find_field(text, name) {
                fields.push_str(name);
                fields.push_str(": ");
                fields.push_str(value);
                fields.push('\n');
            }
        }
        let (at, len) = self.spool.append(text.as_bytes())?;
        let architecture = match self.architectures.iter().find(|a| ***a == *arch) {
            Some(a) => Arc::clone(a),
            None => {
                let a: Arc<str> = arch.into();
                // An index of many odd names is not searched ever longer.
                if self.architectures.len() < 64 {
                    self.architectures.push(Arc::clone(&a));
                }
                a
            }
        };
        self.packages.push(UpstreamPackage {
            component,
            len,
            at,
            name: name.into_boxed_str(),
            version,
            architecture,
            size,
            sha256,
            fields: fields.into_boxed_str(),
        });
        Ok(())
    }

    /// The database record of package `i`, its stanza read from the spool.
    pub fn record(&self, i: usize) -> Result<PackageRecord, UpstreamError> {
        if self.package(i)?.is_source() {
            let (p, stanza, parsed) = self.reread_source(i)?;
            return Ok(PackageRecord {
                name: p.name.to_string(),
                version: p.version.as_str().to_owned(),
                architecture: p.architecture.to_string(),
                sha256: p.sha256,
                size: p.size,
                filename: parsed.file_path(parsed.dsc_file()),
                source: parsed.name,
                stanza,
            });
        }
        let (p, stanza, parsed) = self.reread(i)?;
        Ok(PackageRecord {
            name: p.name.to_string(),
            version: p.version.as_str().to_owned(),
            architecture: p.architecture.to_string(),
            sha256: p.sha256,
            size: p.size,
            filename: parsed.filename.into_string(),
            source: parsed.source,
            stanza,
        })
    }

    /// The pool file (`Filename`) of package `i`, from the spool (checked
    /// as a safe path when the index was parsed).
    pub fn filename(&self, i: usize) -> Result<String, UpstreamError> {
        if self.package(i)?.is_source() {
            let (_, _, parsed) = self.reread_source(i)?;
            return Ok(parsed.file_path(parsed.dsc_file()));
        }
        let p = self.package(i)?;
        let stanza = self.spool.read(p.at, p.len)?;
        find_field(&stanza, "Filename")
            .map(str::to_owned)
            .ok_or_else(|| UpstreamError::Parse(format!("spooled stanza of `{}`", p.name)))
    }

    fn package(&self, i: usize) -> Result<&UpstreamPackage, UpstreamError> {
        self.packages
            .get(i)
            .ok_or_else(|| UpstreamError::Parse(format!("no package {i} in the indices")))
    }

    /// The name of package `i`.
    pub fn name(&self, i: usize) -> Result<&str, UpstreamError> {
        Ok(&self.package(i)?.name)
    }

    /// The path of file `file` of source package `i` (its `Checksums-Sha256`
    /// position), or of package `i`'s own file when `None`.
    pub fn file_path(&self, i: usize, file: Option<u32>) -> Result<String, UpstreamError> {
        let Some(file) = file else {
            return self.filename(i);
        };
        let (p, _, parsed) = self.reread_source(i)?;
        parsed
            .files
            .get(file as usize)
            .map(|f| parsed.file_path(f))
            .ok_or_else(|| UpstreamError::Parse(format!("no file {file} in source `{}`", p.name)))
    }

    /// Source package `i`, its stanza from the spool and that stanza parsed again.
    fn reread_source(
        &self,
        i: usize,
    ) -> Result<(&UpstreamPackage, String, SourcePackage), UpstreamError> {
        let p = self.package(i)?;
        let stanza = self.spool.read(p.at, p.len)?;
        let parsed = parse_str(&stanza)
            .ok()
            .and_then(|mut s| s.pop())
            .and_then(|s| SourcePackage::from_stanza(s).ok())
            .ok_or_else(|| {
                UpstreamError::Parse(format!("spooled stanza of source `{}`", p.name))
            })?;
        Ok((p, stanza, parsed))
    }

    /// Package `i`, its stanza from the spool and that stanza parsed again.
    fn reread(&self, i: usize) -> Result<(&UpstreamPackage, String, BinaryPackage), UpstreamError> {
        let p = self.package(i)?;
        let stanza = self.spool.read(p.at, p.len)?;
        let parsed = parse_str(&stanza)
            .ok()
            .and_then(|mut s| s.pop())
            .and_then(|s| BinaryPackage::from_stanza(s).ok())
            .ok_or_else(|| UpstreamError::Parse(format!("spooled stanza of `{}`", p.name)))?;
        Ok((p, stanza, parsed))
    }

    /// Keeps only the packages at `keep` (sorted, unique indices): the
    /// ones a commit stores. Package `keep[k]` becomes package `k`.
    pub fn keep_only(&mut self, keep: &[usize]) {
        let mut wanted = keep.iter().peekable();
        let mut i = 0;
        self.packages.retain(|_| {
            let hit = wanted.next_if_eq(&&i).is_some();
            i += 1;
            hit
        });
        self.packages.shrink_to_fit();
    }

    /// Drops repeated (name, version, architecture) entries — `all` packages
    /// are listed in every architecture's index — keeping the first. Returns
    /// the packages listed twice with different content.
    pub fn dedupe(&mut self) -> Vec<String> {
        dedupe(&mut self.packages)
    }
}

impl UpstreamPackage {
    pub fn key(&self) -> PackageKey {
        PackageKey {
            name: self.name.to_string(),
            version: self.version.as_str().to_owned(),
            architecture: self.architecture.to_string(),
        }
    }

    /// The files to fetch for this package: (digest, size, file position) —
    /// a source package's every `Checksums-Sha256` entry, else the
    /// package's own file (`None`).
    pub fn files(&self) -> Vec<(Sha256, u64, Option<u32>)> {
        if !self.is_source() {
            return vec![(self.sha256, self.size, None)];
        }
        // Checked when the index was parsed; a failure here lists no files.
        let files = self
            .field("Checksums-Sha256")
            .and_then(|v| parse_files(&self.name, v).ok())
            .unwrap_or_default();
        files
            .into_iter()
            .enumerate()
            .map(|(k, f)| (f.sha256, f.size, Some(k as u32)))
            .collect()
    }

    /// Whether this is a source package (from a `Sources` index).
    pub fn is_source(&self) -> bool {
        *self.architecture == *SOURCE_ARCH
    }

    pub fn key_ref(&self) -> (&str, &str, &str) {
        (&self.name, self.version.as_str(), &self.architecture)
    }

    /// A package with these kept fields and no spooled stanza (for tests).
    #[cfg(test)]
    pub fn for_test(
        name: &str,
        version: &str,
        architecture: &str,
        sha256: Sha256,
        size: u64,
        fields: &str,
    ) -> UpstreamPackage {
        UpstreamPackage {
            component: 0,
            len: 0,
            at: 0,
            name: name.into(),
            version: Version::parse(version).expect("version"),
            architecture: architecture.into(),
            size,
            sha256,
            fields: fields.into(),
        }
    }
}

impl Candidate for UpstreamPackage {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> &Version {
        &self.version
    }

    fn architecture(&self) -> &str {
        &self.architecture
    }

    fn field(&self, name: &str) -> Option<&str> {
        find_field(&self.fields, name)
    }
}

/// See [`Upstream::dedupe`].
pub(super) fn dedupe(packages: &mut Vec<UpstreamPackage>) -> Vec<String> {
    let mut order: Vec<usize> = (0..packages.len()).collect();
    order.sort_by(|&a, &b| {
        packages[a]
            .key_ref()
            .cmp(&packages[b].key_ref())
            .then(a.cmp(&b))
    });
    let mut keep = vec![true; packages.len()];
    let mut conflicts = Vec::new();
    for w in order.windows(2) {
        let (first, next) = (&packages[w[0]], &packages[w[1]]);
        if first.key_ref() == next.key_ref() {
            keep[w[1]] = false;
            if first.sha256 != next.sha256 {
                conflicts.push(next.key().to_string());
            }
        }
    }
    let mut i = 0;
    packages.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    conflicts.dedup();
    conflicts
}

/// An unlinked file of stanzas, appended through a buffer and read back by
/// offset.
struct Spool {
    file: File,
    path: String,
    /// Bytes written to the file; `buf` follows them.
    flushed: u64,
    buf: Vec<u8>,
}

impl Spool {
    fn create(path: &Path) -> Result<Spool, UpstreamError> {
        let shown = path.display().to_string();
        let err = |source| UpstreamError::Spool {
            path: shown.clone(),
            source,
        };
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(err)?;
        std::fs::remove_file(path).map_err(err)?;
        Ok(Spool {
            file,
            path: shown,
            flushed: 0,
            buf: Vec::with_capacity(SPOOL_BUFFER),
        })
    }

    fn err(&self, source: io::Error) -> UpstreamError {
        UpstreamError::Spool {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends `data`; where it went.
    fn append(&mut self, data: &[u8]) -> Result<(u64, u32), UpstreamError> {
        let len = u32::try_from(data.len())
            .map_err(|_| self.err(io::Error::other("stanza over 4 GiB")))?;
        let at = self.flushed + self.buf.len() as u64;
        self.buf.extend_from_slice(data);
        if self.buf.len() >= SPOOL_BUFFER {
            self.file.write_all(&self.buf).map_err(|e| self.err(e))?;
            self.flushed += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok((at, len))
    }

    /// The text appended at `at`.
    fn read(&self, at: u64, len: u32) -> Result<String, UpstreamError> {
        let mut out = vec![0u8; len as usize];
        let mut from_file = out.len();
        if at + u64::from(len) > self.flushed {
            // Partly or wholly still in the buffer.
            let in_file = self.flushed.saturating_sub(at) as usize;
            let start = (at + in_file as u64 - self.flushed) as usize;
            let rest = out.len() - in_file;
            let Some(buffered) = self.buf.get(start..start + rest) else {
                return Err(self.err(io::Error::other("offset past the spool's end")));
            };
            out[in_file..].copy_from_slice(buffered);
            from_file = in_file;
        }
        self.file
            .read_exact_at(&mut out[..from_file], at)
            .map_err(|e| self.err(e))?;
        String::from_utf8(out).map_err(|e| self.err(io::Error::other(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stanza(name: &str, version: &str, extra: &str) -> String {
        format!(
            "Package: {name}\nVersion: {version}\nArchitecture: amd64\nFilename: pool/main/{name}.deb\nSize: 3\nSHA256: {}\n{extra}Description: the {name} package\n a long text\n\n",
            Sha256::of(name.as_bytes())
        )
    }

    #[test]
    fn a_variant_index_keeps_its_packages_as_the_variants() {
        assert!(is_variant_of("amd64v3", "amd64"));
        for (v, base) in [("amd64", "amd64"), ("amd64v", "amd64"), ("arm64", "amd64")] {
            assert!(!is_variant_of(v, base), "{v} {base}");
        }
        assert_eq!(
            index_architecture("main/binary-amd64v3/Packages.xz"),
            Some("amd64v3")
        );
        assert_eq!(index_architecture("main/source/Sources"), None);
        let dir = tempfile::tempdir().expect("tempdir");
        let mut up = Upstream::new(&dir.path().join("spool"), vec![]).expect("spool");
        let all = stanza("xx", "1.0", "").replace("amd64", "all");
        let index = stanza("pp", "1.0", "") + &all;
        up.parse(index.as_bytes(), 0, Some("amd64v3"))
            .expect("parses");
        let archs: Vec<&str> = up.packages.iter().map(|p| &*p.architecture).collect();
        assert_eq!(archs, ["amd64v3", "all"]);
    }

    #[test]
    fn keeps_named_fields_and_reads_stanzas_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = dir.path().join("spool");
        let mut up =
            Upstream::new(&spool, vec!["Depends".into(), "Priority".into()]).expect("spool");
        assert!(!spool.exists(), "the spool is unlinked at once");
        // Enough stanzas that some are flushed to the file and some are not.
        let count = 6000;
        let mut index = String::new();
        for i in 0..count {
            index.push_str(&stanza(
                &format!("p{i}"),
                "1.0",
                &format!(
                    "Depends: libc6 (>= 2.36),\n p{}\nPriority: optional\n",
                    i + 1
                ),
            ));
        }
        up.parse(index.as_bytes(), 0, None).expect("parses");
        assert_eq!(up.packages.len(), count);
        let p = &up.packages[7];
        assert_eq!(p.field("Depends"), Some("libc6 (>= 2.36),\n p8"));
        assert_eq!(p.field("Priority"), Some("optional"));
        assert_eq!(p.field("Description"), None, "not kept in memory");
        for i in [0, 7, count / 2, count - 1] {
            let record = up.record(i).expect("record");
            let text = &record.stanza;
            assert!(text.starts_with(&format!("Package: p{i}\n")), "{text}");
            assert!(text.contains("Description: the"), "{text}");
            assert_eq!(record.name, format!("p{i}"));
            assert_eq!(record.source, format!("p{i}"));
        }
        assert!(up.spool.flushed > 0 && !up.spool.buf.is_empty());
        assert_eq!(up.filename(9).expect("filename"), "pool/main/p9.deb");
        up.keep_only(&[3, 9, count - 1]);
        let names: Vec<&str> = up.packages.iter().map(|p| &*p.name).collect();
        assert_eq!(names, ["p3", "p9", &format!("p{}", count - 1)]);
        assert_eq!(up.record(1).expect("record").name, "p9");
        assert!(up.record(3).is_err(), "dropped");
    }

    #[test]
    fn a_source_package_lists_all_its_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut up = Upstream::new(&dir.path().join("spool"), Vec::new()).expect("spool");
        let index = format!(
            "Package: foo\nVersion: 1.0-1\nDirectory: pool/main/f/foo\nChecksums-Sha256:\n {} 10 foo_1.0-1.dsc\n {} 20 foo_1.0.orig.tar.gz\n\n",
            Sha256::of(b"dsc"),
            Sha256::of(b"orig")
        );
        up.parse_sources(index.as_bytes(), 0).expect("parses");
        let p = &up.packages[0];
        assert!(p.is_source());
        assert_eq!((p.sha256, p.size), (Sha256::of(b"dsc"), 10));
        let files = p.files();
        assert_eq!(files[1], (Sha256::of(b"orig"), 20, Some(1)));
        let path = up.file_path(0, Some(1)).expect("path");
        assert_eq!(path, "pool/main/f/foo/foo_1.0.orig.tar.gz");
        let record = up.record(0).expect("record");
        assert_eq!(record.filename, "pool/main/f/foo/foo_1.0-1.dsc");
        assert_eq!(record.architecture, "source");
    }

    #[test]
    fn a_bad_stanza_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut up = Upstream::new(&dir.path().join("spool"), Vec::new()).expect("spool");
        let err = up
            .parse("Package: x\nVersion: 1\n\n".as_bytes(), 0, None)
            .expect_err("no Filename");
        assert!(matches!(err, UpstreamError::Parse(_)), "{err}");
    }
}
