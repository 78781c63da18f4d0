//! Rendering a signed apt `dists/<distribution>/` tree from a package set.
//!
//! Publishing writes the pool, then calls [`render`] on an empty staging
//! directory that becomes `dists/<distribution>/`, checks it with
//! [`verify_tree`] and switches it in atomically. This module only writes
//! plain files into the directory it is given; it never renames, deletes or
//! fsyncs the tree (the caller makes it durable, e.g. with one `syncfs`,
//! before switching).
//!
//! Data flow for each [`IndexInput`] (a component's `Packages` for one
//! architecture, its `Sources`, a `Translation-<lang>` or a `Contents-<arch>`;
//! [`IndexKind`] gives the paths and forms):
//!
//! 1. the caller's records are joined into, e.g.,
//!    `<component>/binary-<arch>/Packages` and its SHA256 is taken;
//! 2. `Packages.gz` and `Packages.xz` are produced in parallel (gzip on a
//!    thread of its own, xz with liblzma's multi-threaded encoder), hashing
//!    the bytes as they are written; with a cache directory, a compressed
//!    file made earlier from the same plain `Packages` (same SHA256) is
//!    linked instead, so an incremental publish only recompresses the
//!    indices that changed; the plain `Packages` is linked from the cache
//!    too (after checking its digest), so trees that keep an index cost no
//!    space for it;
//! 3. `by-hash/SHA256/<hex>` links to the three files and the small
//!    per-index `Release` that dak writes are added.
//!
//! Then the top-level `Release` lists every index file with its size, MD5
//! and SHA256 (apt uses the strongest hash), is signed into `InRelease`
//! (clearsigned) and `Release.gpg` (detached), and [`RenderedTree`] reports
//! what was written.
//!
//! Compression defaults were measured on 2 cores with Debian bookworm's
//! `main/binary-amd64/Packages` (63,440 stanzas, 50 MB): gzip level 6 takes
//! 0.5 s and is smaller than level 9 (zlib-rs); multi-threaded xz takes
//! 0.85 s at preset 0 and 1.4 s at preset 1, while preset 6 (Debian's
//! ratio) takes about 30 s. A whole render takes 1.4 s with the defaults
//! (2.0 s at preset 1), keeping a first publish well under 3 seconds.

mod index;
pub mod layout;
mod verify;
mod write;

#[cfg(test)]
mod synth;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::debian::release::{Release, ReleaseError, ReleaseFile};
use crate::digest::Sha256;
use crate::pgp::{PgpError, SigningKey, sign_clearsigned, sign_detached};

pub use index::{IndexInput, IndexKind};
pub use verify::verify_tree;

use crate::exit::{ExitCode, FAILURE, USAGE, VERIFICATION};
use index::write_index;
use write::Sums;

/// gzip level of `Packages.gz`: with zlib-rs, level 6 is about 40% faster
/// than level 9 and its output is even a little smaller on Packages text.
pub const GZIP_LEVEL: u32 = 6;

/// Default xz preset of `Packages.xz`: the fastest, because every changed
/// index is recompressed on each publish. Its output is about 7% larger
/// than preset 1's (4% larger than `Packages.gz`); preset 1 makes a render
/// about 40% slower.
pub const DEFAULT_XZ_PRESET: u32 = 0;

/// The descriptive fields of the top-level `Release`.
///
/// Every text must be one line without leading or trailing whitespace
/// (a cleartext signature would silently strip trailing blanks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseMeta {
    /// `Origin`.
    pub origin: Option<String>,
    /// `Label`.
    pub label: Option<String>,
    /// `Suite` (also `Archive` of the per-index Release files).
    pub suite: String,
    /// `Codename`.
    pub codename: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Date`.
    pub date: DateTime<Utc>,
    /// `Valid-Until`; must be later than `date`.
    pub valid_until: Option<DateTime<Utc>>,
    /// `NotAutomatic: yes` (apt pins the suite to priority 1).
    pub not_automatic: bool,
    /// `ButAutomaticUpgrades: yes` (with `not_automatic`: priority 100).
    pub but_automatic_upgrades: bool,
    /// URL template of the `Snapshots` field (`apt --snapshot`, apt ≥ 2.7),
    /// written verbatim.
    pub snapshots: Option<String>,
    /// URL template of the `Changelogs` field (`apt changelog`; apt
    /// replaces `@CHANGEPATH@`), written verbatim.
    pub changelogs: Option<String>,
}

/// How [`render`] compresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Threads of the xz encoder; 0 means one per available CPU.
    pub xz_threads: u32,
    /// xz preset, 0 to 9.
    pub xz_preset: u32,
    /// Directory of compressed indices from earlier renders, named
    /// `<SHA256 of the plain Packages>.gz` / `.xz`; created if missing.
    /// Trouble with the cache is logged and never fails a render.
    pub cache_dir: Option<PathBuf>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            xz_threads: 0,
            xz_preset: DEFAULT_XZ_PRESET,
            cache_dir: None,
        }
    }
}

/// One file written by [`render`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Path relative to the rendered directory (`dists/<distribution>/`),
    /// e.g. `main/binary-amd64/Packages.xz`.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA256 of the content.
    pub sha256: Sha256,
}

/// What [`render`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedTree {
    /// The top-level Release as written (and signed).
    pub release: Release,
    /// Every file written, by-hash links and signatures included, sorted
    /// by path.
    pub files: Vec<TreeFile>,
    /// Indices whose `.gz` and `.xz` both came from the cache.
    pub reused_indices: u32,
    /// Trouble with the index cache (the tree is whole regardless).
    pub warnings: Vec<String>,
}

/// Why a tree could not be rendered or did not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// A component name that is not a plain archive path.
    #[error(
        "component `{0}` is not valid: use letters, digits and `.+_-`, with `/` only between parts"
    )]
    BadComponent(String),
    /// An architecture name apt would not accept.
    #[error("architecture `{0}` is not valid: use lowercase letters, digits and `-`")]
    BadArchitecture(String),
    /// The same index twice.
    #[error("index `{index}` is given more than once")]
    DuplicateIndex {
        /// The index's path, e.g. `main/binary-amd64/Packages`.
        index: String,
    },
    /// A language code that cannot name a `Translation-<lang>` file.
    #[error("language `{0}` is not valid: use letters, digits and `_@.-`")]
    BadLanguage(String),
    /// A record that would corrupt the index.
    #[error("record {number} of `{index}` {problem}")]
    BadStanza {
        /// The index's path, e.g. `main/binary-amd64/Packages`.
        index: String,
        /// 1-based position in the input.
        number: usize,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A Release field value that cannot be written as given.
    #[error("Release field `{field}`: `{value}` {problem}")]
    BadField {
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// [`render`] was called without a signing key.
    #[error("no signing key given; the tree must be signed")]
    NoSigningKeys,
    /// The xz encoder could not be set up.
    #[error("cannot set up the xz encoder (preset {preset}, {threads} threads)")]
    Xz {
        /// The preset.
        preset: u32,
        /// The thread count.
        threads: u32,
        /// liblzma's reason.
        #[source]
        source: liblzma::stream::Error,
    },
    /// Writing a file or directory failed.
    #[error("cannot write `{}`", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading a file failed.
    #[error("cannot read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Signing the Release failed.
    #[error("cannot sign `{}`", path.display())]
    Sign {
        /// `InRelease` or `Release.gpg`.
        path: PathBuf,
        /// The cause.
        #[source]
        source: PgpError,
    },
    /// A signature of the tree does not verify with the keyring.
    #[error("`{}` is not validly signed by a trusted key", path.display())]
    Signature {
        /// `InRelease` or `Release.gpg`.
        path: PathBuf,
        /// The cause.
        #[source]
        source: PgpError,
    },
    /// `Release` is not the text signed in `InRelease`.
    #[error("`{}` differs from the text signed in `InRelease`", path.display())]
    ReleaseMismatch {
        /// The `Release` file.
        path: PathBuf,
    },
    /// The signed Release does not parse.
    #[error("`{}` is not a valid Release file", path.display())]
    ParseRelease {
        /// The `InRelease` file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ReleaseError,
    },
    /// A file listed in the Release (or its by-hash copy) is missing.
    #[error("`{}` is listed in the Release but missing", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A file has another size than the Release lists.
    #[error("`{}` has {actual} bytes, the Release lists {expected}", path.display())]
    Size {
        /// The file.
        path: PathBuf,
        /// Size in the Release.
        expected: u64,
        /// Size on disk.
        actual: u64,
    },
    /// A file has another SHA256 than the Release lists.
    #[error("`{}` has SHA256 {actual}, the Release lists {expected}", path.display())]
    Hash {
        /// The file.
        path: PathBuf,
        /// Digest in the Release.
        expected: Sha256,
        /// Digest on disk.
        actual: Sha256,
    },
    /// A file is listed without a SHA256 digest.
    #[error("`{}` is listed in the Release without a SHA256 digest", path.display())]
    NoSha256 {
        /// The file.
        path: PathBuf,
    },
}

impl ExitCode for TreeError {
    fn exit_code(&self) -> u8 {
        match self {
            TreeError::Signature { .. }
            | TreeError::Hash { .. }
            | TreeError::Size { .. }
            | TreeError::Missing { .. }
            | TreeError::ReleaseMismatch { .. } => VERIFICATION,
            TreeError::NoSigningKeys => USAGE,
            _ => FAILURE,
        }
    }
}

/// Writes the complete, signed `dists/<distribution>/` tree for `indices`
/// into `dir` (created if missing, expected empty: no file is overwritten).
///
/// `Architectures` and `Components` list the inputs' values in first-seen
/// order; `Signed-By` lists the primary fingerprints of `keys`
/// comma-separated without spaces (the repository-format spelling), and
/// all of them sign `InRelease` and `Release.gpg`.
pub fn render(
    dir: &Path,
    indices: &[IndexInput],
    meta: &ReleaseMeta,
    keys: &[SigningKey],
    opts: &RenderOptions,
) -> Result<RenderedTree, TreeError> {
    if keys.is_empty() {
        return Err(TreeError::NoSigningKeys);
    }
    let written = write_indices_kept(dir, indices, meta, opts)?;
    finish(dir, vec![written], meta, keys)
}

/// Indices written into a tree that no Release lists yet: [`render`] in
/// parts, so that a caller can compress some indices while it computes the
/// others, then [`finish`] the tree with all of them.
#[derive(Debug, Default)]
pub struct WrittenIndices {
    listed: BTreeMap<String, Sums>,
    by_hash: Vec<TreeFile>,
    reused: u32,
    warnings: Vec<String>,
    /// Architectures of `Packages` and components, in first-seen order.
    architectures: Vec<String>,
    components: Vec<String>,
}

/// Writes `indices` (their forms, by-hash links and per-index Release)
/// into `dir`, created if missing; no file is overwritten, so two parts
/// of one tree cannot write the same index. Each index's records are
/// dropped once joined: a large index is not held twice while compressed.
pub fn write_indices(
    dir: &Path,
    indices: Vec<IndexInput>,
    meta: &ReleaseMeta,
    opts: &RenderOptions,
) -> Result<WrittenIndices, TreeError> {
    check_indices(&indices)?;
    write_each(dir, indices.into_iter().map(Cow::Owned), meta, opts)
}

/// [`write_indices`] of indices the caller keeps.
pub fn write_indices_kept(
    dir: &Path,
    indices: &[IndexInput],
    meta: &ReleaseMeta,
    opts: &RenderOptions,
) -> Result<WrittenIndices, TreeError> {
    check_indices(indices)?;
    write_each(dir, indices.iter().map(Cow::Borrowed), meta, opts)
}

/// [`write_indices`] of indices checked already, borrowed or owned.
fn write_each<'a>(
    dir: &Path,
    indices: impl Iterator<Item = Cow<'a, IndexInput>>,
    meta: &ReleaseMeta,
    opts: &RenderOptions,
) -> Result<WrittenIndices, TreeError> {
    check_meta(meta)?;
    crate::atomic_file::create_dir_all(dir, crate::atomic_file::PUBLIC_DIR).map_err(|source| {
        TreeError::Write {
            path: dir.to_owned(),
            source,
        }
    })?;
    let warnings = write::Warnings::default();
    let cache = opts
        .cache_dir
        .as_deref()
        .and_then(|d| write::open_cache(d, &warnings));
    let mut out = WrittenIndices::default();
    for mut index in indices {
        let plain = index::plain_of(&index);
        if let Cow::Owned(owned) = &mut index {
            owned.stanzas = Vec::new();
        }
        let written = write_index(dir, &index, plain, meta, cache, opts, &warnings)?;
        if written.reused {
            out.reused += 1;
        }
        out.by_hash.extend(written.by_hash);
        out.listed.extend(written.listed);
        if let IndexKind::Packages { architecture } = &index.kind
            && !out.architectures.contains(architecture)
        {
            out.architectures.push(architecture.clone());
        }
        if !out.components.contains(&index.component) {
            out.components.push(index.component.clone());
        }
    }
    out.warnings = warnings.into_vec();
    Ok(out)
}

/// Lists the `parts` written into `dir` in a Release, signs it into
/// `InRelease` and `Release.gpg`, and reports the whole tree.
pub fn finish(
    dir: &Path,
    parts: Vec<WrittenIndices>,
    meta: &ReleaseMeta,
    keys: &[SigningKey],
) -> Result<RenderedTree, TreeError> {
    if keys.is_empty() {
        return Err(TreeError::NoSigningKeys);
    }
    check_meta(meta)?;
    let mut all = WrittenIndices::default();
    for part in parts {
        all.listed.extend(part.listed);
        all.by_hash.extend(part.by_hash);
        all.reused += part.reused;
        all.warnings.extend(part.warnings);
        for a in part.architectures {
            if !all.architectures.contains(&a) {
                all.architectures.push(a);
            }
        }
        for c in part.components {
            if !all.components.contains(&c) {
                all.components.push(c);
            }
        }
    }
    let release = top_release(meta, &all, keys);
    let text = release.render();
    let inrelease_path = dir.join("InRelease");
    let gpg_path = dir.join("Release.gpg");
    let inrelease = sign_clearsigned(keys, text.as_bytes()).map_err(|source| TreeError::Sign {
        path: inrelease_path.clone(),
        source,
    })?;
    let detached = sign_detached(keys, text.as_bytes()).map_err(|source| TreeError::Sign {
        path: gpg_path.clone(),
        source,
    })?;
    write::write_new(&dir.join("Release"), text.as_bytes())?;
    write::write_new(&inrelease_path, &inrelease)?;
    write::write_new(&gpg_path, &detached)?;

    let mut files: Vec<TreeFile> = all
        .listed
        .into_iter()
        .map(|(path, s)| TreeFile {
            path,
            size: s.size,
            sha256: s.sha256,
        })
        .chain(all.by_hash)
        .chain(
            [
                ("Release", text.as_bytes()),
                ("InRelease", &inrelease),
                ("Release.gpg", &detached),
            ]
            .map(|(path, data)| TreeFile {
                path: path.to_owned(),
                size: data.len() as u64,
                sha256: Sha256::of(data),
            }),
        )
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(RenderedTree {
        release,
        files,
        reused_indices: all.reused,
        warnings: all.warnings,
    })
}

/// The top-level Release, listing `listed`.
fn top_release(meta: &ReleaseMeta, written: &WrittenIndices, keys: &[SigningKey]) -> Release {
    let mut extra = Vec::new();
    if meta.not_automatic {
        extra.push(("NotAutomatic".to_owned(), "yes".to_owned()));
    }
    if meta.but_automatic_upgrades {
        extra.push(("ButAutomaticUpgrades".to_owned(), "yes".to_owned()));
    }
    if let Some(url) = &meta.snapshots {
        extra.push(("Snapshots".to_owned(), url.clone()));
    }
    if let Some(url) = &meta.changelogs {
        extra.push(("Changelogs".to_owned(), url.clone()));
    }
    let signed_by = keys
        .iter()
        .map(SigningKey::fingerprint)
        .collect::<Vec<_>>()
        .join(",");
    Release {
        origin: meta.origin.clone(),
        label: meta.label.clone(),
        suite: Some(meta.suite.clone()),
        codename: meta.codename.clone(),
        version: meta.version.clone(),
        date: Some(meta.date),
        valid_until: meta.valid_until,
        architectures: written.architectures.clone(),
        components: written.components.clone(),
        description: meta.description.clone(),
        acquire_by_hash: true,
        no_support_for_architecture_all: false,
        signed_by: Some(signed_by),
        files: written
            .listed
            .iter()
            .map(|(path, s)| {
                let file = ReleaseFile {
                    size: s.size,
                    sha256: Some(s.sha256),
                    md5: Some(s.md5.clone()),
                };
                (path.clone(), file)
            })
            .collect(),
        extra,
    }
}

/// Checks that every text of `meta` can be written as one Release line.
fn check_meta(meta: &ReleaseMeta) -> Result<(), TreeError> {
    let fields = [
        ("Origin", meta.origin.as_deref()),
        ("Label", meta.label.as_deref()),
        ("Suite", Some(meta.suite.as_str())),
        ("Codename", meta.codename.as_deref()),
        ("Version", meta.version.as_deref()),
        ("Description", meta.description.as_deref()),
        ("Snapshots", meta.snapshots.as_deref()),
        ("Changelogs", meta.changelogs.as_deref()),
    ];
    for (field, value) in fields {
        let Some(value) = value else { continue };
        let bad = |problem| TreeError::BadField {
            field,
            value: value.to_owned(),
            problem,
        };
        if value.is_empty() {
            return Err(bad("is empty"));
        }
        if value.chars().any(char::is_control) {
            return Err(bad("contains a line break or control character"));
        }
        if value.trim() != value {
            return Err(bad("has leading or trailing whitespace"));
        }
    }
    if meta.suite.contains(char::is_whitespace) {
        return Err(TreeError::BadField {
            field: "Suite",
            value: meta.suite.clone(),
            problem: "contains whitespace",
        });
    }
    if let Some(until) = meta.valid_until
        && until <= meta.date
    {
        return Err(TreeError::BadField {
            field: "Valid-Until",
            value: until.to_rfc2822(),
            problem: "is not later than `Date`",
        });
    }
    Ok(())
}

/// Checks names, uniqueness and record shape of the inputs.
fn check_indices(indices: &[IndexInput]) -> Result<(), TreeError> {
    let mut seen = HashSet::new();
    for index in indices {
        let component = &index.component;
        let part_ok = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".+_-".contains(&b))
        };
        if !component.split('/').all(part_ok) {
            return Err(TreeError::BadComponent(component.clone()));
        }
        match &index.kind {
            IndexKind::Packages { architecture }
            | IndexKind::Installer { architecture }
            | IndexKind::ImageSums { architecture, .. }
            | IndexKind::Contents { architecture, .. }
            | IndexKind::Commands { architecture }
            | IndexKind::Components { architecture } => {
                let arch_ok = !architecture.is_empty()
                    && !architecture.starts_with('-')
                    && architecture
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !arch_ok {
                    return Err(TreeError::BadArchitecture(architecture.clone()));
                }
            }
            IndexKind::Translation { language } => {
                let lang_ok = !language.is_empty()
                    && language
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_@.-".contains(&b));
                if !lang_ok {
                    return Err(TreeError::BadLanguage(language.clone()));
                }
            }
            IndexKind::Sources => {}
            IndexKind::Icons { size, .. } => {
                let size_ok = !size.is_empty()
                    && size
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b"x@".contains(&b));
                if !size_ok {
                    return Err(TreeError::BadField {
                        field: "icon size",
                        value: size.clone(),
                        problem: "is not like `64x64` or `64x64@2`",
                    });
                }
            }
        }
        let path = index.path();
        if !seen.insert(path.clone()) {
            return Err(TreeError::DuplicateIndex { index: path });
        }
        for (i, record) in index.stanzas.iter().enumerate() {
            if let Some(problem) = record_problem(record, &index.kind) {
                return Err(TreeError::BadStanza {
                    index: path,
                    number: i + 1,
                    problem,
                });
            }
        }
    }
    Ok(())
}

/// What would make `record` corrupt its index, if anything.
fn record_problem(record: &str, kind: &IndexKind) -> Option<&'static str> {
    match kind {
        IndexKind::Icons { .. } => return Some("is given, but an icons tarball has no records"),
        IndexKind::ImageSums { .. } => return Some("is given, but a `SHA256SUMS` has no records"),
        IndexKind::Components { .. } => {
            let ok = record.starts_with("---\n") && record.len() > 4 && record.ends_with('\n');
            return (!ok).then_some("is not a YAML document (`---` line first, a line break last)");
        }
        _ => {}
    }
    if !kind.is_stanzas() {
        let one_line = record.len() > 1 && record.find('\n') == Some(record.len() - 1);
        (!one_line).then_some("is not one non-empty line ending in a line break")
    } else if record.is_empty() || record.starts_with('\n') {
        Some("is empty or starts with a blank line")
    } else if !record.ends_with('\n') {
        Some("does not end with a line break")
    } else if record.contains("\n\n") {
        Some("contains a blank line")
    } else {
        None
    }
}
