//! The indices of a tree: what each is ([`IndexKind`]: its path, forms and
//! per-index `Release`) and how one is written with its `by-hash` links.

use std::path::Path;

use super::write::{self, Format, Sums};
use super::{ReleaseMeta, RenderOptions, TreeError, TreeFile};

/// One index to write: a component's `Packages` for one architecture, its
/// `Sources`, a `Translation-<lang>`, a `Contents-<arch>` or AppStream's
/// `dep11/` files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexInput {
    /// Component, e.g. `main`.
    pub component: String,
    /// What the index is; decides its path and forms.
    pub kind: IndexKind,
    /// The records, in the order they are to be written (the caller
    /// sorts). For `Packages`, `Sources` and `Translation`: complete
    /// stanzas, each ending in a line break and without blank lines (a
    /// `Packages` stanza already carries the published `Filename`), written
    /// with a blank line after each. For `Contents`: lines, each ending in a
    /// line break, written as given. For `Components`: YAML documents, each
    /// starting with `---`, written as given. For `Icons`: none (the kind
    /// carries the tarball). Empty is fine: apt expects an empty index for
    /// every listed component and architecture.
    pub stanzas: Vec<String>,
}

impl IndexInput {
    /// The `Packages` index of `component` for `architecture`.
    pub fn packages(component: &str, architecture: &str, stanzas: Vec<String>) -> IndexInput {
        IndexInput {
            component: component.to_owned(),
            kind: IndexKind::Packages {
                architecture: architecture.to_owned(),
            },
            stanzas,
        }
    }

    /// Its path below `dists/<distribution>/` without a compression
    /// suffix, e.g. `main/binary-amd64/Packages`.
    pub fn path(&self) -> String {
        let c = &self.component;
        match &self.kind {
            IndexKind::Packages { architecture } => format!("{c}/binary-{architecture}/Packages"),
            IndexKind::Installer { architecture } => {
                format!("{c}/debian-installer/binary-{architecture}/Packages")
            }
            IndexKind::Sources => format!("{c}/source/Sources"),
            IndexKind::Translation { language } => format!("{c}/i18n/Translation-{language}"),
            IndexKind::Contents {
                architecture,
                udeb: false,
            } => format!("{c}/Contents-{architecture}"),
            IndexKind::Contents {
                architecture,
                udeb: true,
            } => format!("{c}/Contents-udeb-{architecture}"),
            IndexKind::Components { architecture } => {
                format!("{c}/dep11/Components-{architecture}.yml")
            }
            IndexKind::Icons { size, .. } => format!("{c}/dep11/icons-{size}.tar"),
            IndexKind::ImageSums { architecture, .. } => {
                format!("{c}/installer-{architecture}/current/images/SHA256SUMS")
            }
            IndexKind::Commands { architecture } => format!("{c}/cnf/Commands-{architecture}"),
        }
    }
}

/// What an index is. Paths below the component, as Debian's archive has
/// them: `binary-<arch>/Packages` and `source/Sources` (plain, `.gz`,
/// `.xz`, each with the small per-index `Release`), `i18n/Translation-<lang>`
/// (plain, `.gz`, `.xz`) and `Contents-<arch>.gz` / `Contents-udeb-<arch>.gz`
/// (only gzip, as `apt-file` reads them; the plain file of a whole archive
/// is hundreds of megabytes). Each has its `by-hash/SHA256/` beside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndexKind {
    /// `binary-<architecture>/Packages`.
    Packages {
        /// e.g. `amd64`.
        architecture: String,
    },
    /// `debian-installer/binary-<architecture>/Packages`: the installer's
    /// packages (udebs), without a per-index `Release`, as Debian has it.
    Installer {
        /// e.g. `amd64`.
        architecture: String,
    },
    /// `source/Sources`.
    Sources,
    /// `i18n/Translation-<language>`.
    Translation {
        /// e.g. `en`, `pt_BR`.
        language: String,
    },
    /// `Contents-<architecture>.gz`, or `Contents-udeb-<architecture>.gz`.
    Contents {
        /// e.g. `amd64`.
        architecture: String,
        /// The installer's packages.
        udeb: bool,
    },
    /// `dep11/Components-<architecture>.yml` (AppStream): the records are
    /// YAML documents, each starting with a `---` line, written as given
    /// (the header document first).
    Components {
        /// e.g. `amd64`.
        architecture: String,
    },
    /// `dep11/icons-<size>.tar` (plain and `.gz`): the tarball, made by
    /// the caller; no records.
    Icons {
        /// e.g. `64x64`, `128x128@2`.
        size: String,
        /// The whole tar archive.
        tar: Vec<u8>,
    },
    /// `installer-<architecture>/current/images/SHA256SUMS`: the installer
    /// images' checksums, made by the caller; only the plain file (and its
    /// `by-hash` link). The images beside it are placed by the caller.
    ImageSums {
        /// e.g. `amd64`.
        architecture: String,
        /// The whole file.
        text: Vec<u8>,
    },
    /// `cnf/Commands-<architecture>` (command-not-found, plain and `.xz`
    /// as Ubuntu serves it): a header stanza, then one per package.
    Commands {
        /// e.g. `amd64`.
        architecture: String,
    },
}

impl IndexKind {
    /// Whether the uncompressed file is written and listed. Contents too:
    /// apt queues an index target only when the top `Release` lists its
    /// uncompressed name (Debian lists it without shipping the file), so
    /// `apt-file` finds nothing otherwise.
    pub(super) fn writes_plain(&self) -> bool {
        true
    }

    /// Whether an `.xz` form is written.
    pub(super) fn writes_xz(&self) -> bool {
        !matches!(
            self,
            IndexKind::Contents { .. } | IndexKind::Icons { .. } | IndexKind::ImageSums { .. }
        )
    }

    /// Whether a `.gz` form is written: not for a `SHA256SUMS`, which
    /// `sha256sum -c` and the installer read by its plain name.
    pub(super) fn writes_gz(&self) -> bool {
        !matches!(
            self,
            IndexKind::ImageSums { .. } | IndexKind::Commands { .. }
        )
    }

    /// The `Architecture` of the per-index `Release`, for the kinds that
    /// have one.
    pub(super) fn release_architecture(&self) -> Option<&str> {
        match self {
            IndexKind::Packages { architecture } => Some(architecture),
            IndexKind::Sources => Some("source"),
            IndexKind::Translation { .. }
            | IndexKind::Contents { .. }
            | IndexKind::Components { .. }
            | IndexKind::Icons { .. }
            | IndexKind::ImageSums { .. }
            | IndexKind::Commands { .. }
            | IndexKind::Installer { .. } => None,
        }
    }

    /// Whether records are stanzas (joined with blank lines) or lines.
    pub(super) fn is_stanzas(&self) -> bool {
        !matches!(
            self,
            IndexKind::Contents { .. }
                | IndexKind::Components { .. }
                | IndexKind::Icons { .. }
                | IndexKind::ImageSums { .. }
        )
    }
}

/// What [`write_index`] wrote.
pub(super) struct WrittenIndex {
    /// Files for the top-level Release, by path.
    pub listed: Vec<(String, Sums)>,
    /// Their `by-hash` links.
    pub by_hash: Vec<TreeFile>,
    /// Every compressed form came from the cache.
    pub reused: bool,
}

/// Writes one index in its forms (compressed in parallel, from the cache
/// when it has them), its `by-hash` links and, for `Packages` and
/// `Sources`, the small per-index `Release`.
/// The bytes of `index` as published uncompressed.
pub(super) fn plain_of(index: &IndexInput) -> Vec<u8> {
    match &index.kind {
        IndexKind::Icons { tar, .. } => tar.clone(),
        IndexKind::ImageSums { text, .. } => text.clone(),
        _ => join_records(&index.stanzas, index.kind.is_stanzas()),
    }
}

/// Writes `index`, whose bytes are `plain` ([`plain_of`]).
pub(super) fn write_index(
    dir: &Path,
    index: &IndexInput,
    plain: Vec<u8>,
    meta: &ReleaseMeta,
    cache: Option<&Path>,
    opts: &RenderOptions,
    warnings: &write::Warnings,
) -> Result<WrittenIndex, TreeError> {
    let path = index.path();
    let (rel, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
    let index_dir = dir.join(rel);
    let hash_dir = index_dir.join("by-hash/SHA256");
    crate::atomic_file::create_dir_all(&hash_dir, crate::atomic_file::PUBLIC_DIR).map_err(
        |source| TreeError::Write {
            path: hash_dir.clone(),
            source,
        },
    )?;

    let plain_sums = Sums::of(&plain);
    let base = index_dir.join(name);
    let mut forms: Vec<(String, Sums)> = Vec::with_capacity(3);
    if index.kind.writes_plain() {
        write::produce_plain(&plain, &plain_sums, &base, cache, warnings)?;
        forms.push((name.to_owned(), plain_sums.clone()));
    }
    let produce =
        |format| write::produce(format, &plain, &plain_sums, &base, cache, opts, warnings);
    let (gz, xz) = std::thread::scope(|s| {
        let gz = index
            .kind
            .writes_gz()
            .then(|| s.spawn(|| produce(Format::Gz)));
        let xz = index.kind.writes_xz().then(|| produce(Format::Xz));
        let gz = gz.map(|gz| {
            gz.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (gz, xz)
    });
    let mut reused = true;
    if let Some(gz) = gz {
        let (gz, gz_reused) = gz?;
        reused = gz_reused;
        forms.push((format!("{name}.gz"), gz));
    }
    if let Some(xz) = xz {
        let (xz, xz_reused) = xz?;
        reused &= xz_reused;
        forms.push((format!("{name}.xz"), xz));
    }

    let mut written = WrittenIndex {
        listed: Vec::with_capacity(forms.len() + 1),
        by_hash: Vec::with_capacity(forms.len()),
        reused,
    };
    let prefix = |file: &str| match rel {
        "" => file.to_owned(),
        rel => format!("{rel}/{file}"),
    };
    for (file, sums) in forms {
        let hex = sums.sha256.to_hex();
        written.listed.push((prefix(&file), sums.clone()));
        // Two indices of one directory with the same bytes (the Contents of
        // two architectures that share every package) share one by-hash
        // file: its name is its content, and this tree is new.
        if hash_dir.join(&hex).exists() {
            continue;
        }
        write::link_or_copy(&index_dir.join(&file), &hash_dir.join(&hex))?;
        written.by_hash.push(TreeFile {
            path: prefix(&format!("by-hash/SHA256/{hex}")),
            size: sums.size,
            sha256: sums.sha256,
        });
    }
    if let Some(architecture) = index.kind.release_architecture() {
        let small = index_release(meta, &index.component, architecture);
        write::write_new(&index_dir.join("Release"), small.as_bytes())?;
        written
            .listed
            .push((prefix("Release"), Sums::of(small.as_bytes())));
    }
    Ok(written)
}

/// An index's text: stanzas each followed by a blank line, as Debian
/// writes them, or lines as given.
pub(super) fn join_records(records: &[String], stanzas: bool) -> Vec<u8> {
    let len = records.iter().map(|s| s.len() + 1).sum();
    let mut out = Vec::with_capacity(len);
    for s in records {
        out.extend_from_slice(s.as_bytes());
        if stanzas {
            out.push(b'\n');
        }
    }
    out
}

/// The per-index `Release` file dak writes next to each `Packages` and
/// `Sources`.
fn index_release(meta: &ReleaseMeta, component: &str, architecture: &str) -> String {
    let mut out = format!("Archive: {}\n", meta.suite);
    for (name, value) in [
        ("Origin", &meta.origin),
        ("Label", &meta.label),
        ("Version", &meta.version),
    ] {
        if let Some(v) = value {
            out.push_str(&format!("{name}: {v}\n"));
        }
    }
    out.push_str(&format!(
        "Acquire-By-Hash: yes\nComponent: {component}\nArchitecture: {architecture}\n"
    ));
    out
}
