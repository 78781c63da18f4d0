//! File writing for [`super::render`]: new files only, digests taken while
//! the bytes stream out, gzip/xz compression, hardlinks with a copy
//! fallback, and the compressed-index cache.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use md5::Digest as _;

use super::{GZIP_LEVEL, RenderOptions, TreeError};
use crate::atomic_file::WriteOptions;
use crate::digest::{HashingWriter, Sha256};

/// Size and digests of a written file, as the Release lists them.
#[derive(Debug, Clone)]
pub(super) struct Sums {
    pub size: u64,
    pub sha256: Sha256,
    /// Lowercase hex.
    pub md5: String,
}

impl Sums {
    /// The sums of `data`.
    pub fn of(data: &[u8]) -> Sums {
        Sums {
            size: data.len() as u64,
            sha256: Sha256::of(data),
            md5: hex::encode(md5::Md5::digest(data)),
        }
    }
}

/// A writer that takes SHA256 (via [`HashingWriter`]) and MD5 of what
/// passes through.
struct SumWriter<W> {
    inner: HashingWriter<W>,
    md5: md5::Md5,
}

impl<W: Write> SumWriter<W> {
    fn new(inner: W) -> Self {
        SumWriter {
            inner: HashingWriter::new(inner),
            md5: md5::Md5::new(),
        }
    }

    fn finish(self) -> (W, Sums) {
        let (inner, sha256, size) = self.inner.finish();
        let md5 = hex::encode(self.md5.finalize());
        (inner, Sums { size, sha256, md5 })
    }
}

impl<W: Write> Write for SumWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.md5.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A compressed form of an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Gz,
    Xz,
}

impl Format {
    pub(super) fn ext(self) -> &'static str {
        match self {
            Format::Gz => "gz",
            Format::Xz => "xz",
        }
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> TreeError + '_ {
    move |source| TreeError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Creates `path`, failing if it exists.
fn create_new(path: &Path) -> Result<BufWriter<File>, TreeError> {
    crate::atomic_file::create_new(path, WriteOptions::PUBLIC.mode)
        .map(|f| BufWriter::with_capacity(1 << 16, f))
        .map_err(write_err(path))
}

/// Writes `data` to the new file `path`.
pub(super) fn write_new(path: &Path, data: &[u8]) -> Result<(), TreeError> {
    let mut f = create_new(path)?;
    f.write_all(data).map_err(write_err(path))?;
    f.flush().map_err(write_err(path))
}

/// Hardlinks `src` to the new name `dst`, copying if linking is not
/// possible (another file system, no hardlink support).
pub(super) fn link_or_copy(src: &Path, dst: &Path) -> Result<(), TreeError> {
    try_link_or_copy(src, dst).map_err(write_err(dst))
}

fn try_link_or_copy(src: &Path, dst: &Path) -> io::Result<()> {
    match std::fs::hard_link(src, dst) {
        Ok(()) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::AlreadyExists
            ) =>
        {
            Err(e)
        }
        Err(_) => {
            // `fs::copy` would truncate an existing `dst`; create it first.
            let mut out = crate::atomic_file::create_new(dst, WriteOptions::PUBLIC.mode)?;
            io::copy(&mut File::open(src)?, &mut out)?;
            Ok(())
        }
    }
}

/// The sums of the file at `path`.
fn sums_of_file(path: &Path) -> Result<Sums, TreeError> {
    let read_err = |source| TreeError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let mut sink = SumWriter::new(io::sink());
    io::copy(&mut file, &mut sink).map_err(read_err)?;
    Ok(sink.finish().1)
}

/// Trouble with the index cache: never fatal, reported with the tree.
#[derive(Default)]
pub(super) struct Warnings(std::sync::Mutex<Vec<String>>);

impl Warnings {
    fn push(&self, message: String) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(message);
    }

    pub(super) fn into_vec(self) -> Vec<String> {
        self.0
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Creates the cache directory; `None` (with a warning) if that fails.
pub(super) fn open_cache<'a>(dir: &'a Path, warnings: &Warnings) -> Option<&'a Path> {
    match crate::atomic_file::create_dir_all(dir, crate::atomic_file::PUBLIC_DIR) {
        Ok(()) => Some(dir),
        Err(error) => {
            warnings.push(format!(
                "compressed-index cache `{}` disabled: {error}",
                dir.display()
            ));
            None
        }
    }
}

/// Writes the plain `Packages` to `target`: a link to the cache entry
/// `<SHA256>` when that holds exactly these bytes (checked: an entry is
/// only as durable as the tree it was first written in), else a new file
/// that then becomes the entry. Cache trouble is a warning, never fatal.
pub(super) fn produce_plain(
    plain: &[u8],
    sums: &Sums,
    target: &Path,
    cache: Option<&Path>,
    warnings: &Warnings,
) -> Result<(), TreeError> {
    let Some(cache) = cache else {
        return write_new(target, plain);
    };
    let entry = cache.join(sums.sha256.to_hex());
    let intact = std::fs::metadata(&entry).is_ok_and(|m| m.len() == sums.size)
        && sums_of_file(&entry).is_ok_and(|s| s.sha256 == sums.sha256);
    if intact && std::fs::hard_link(&entry, target).is_ok() {
        return Ok(());
    }
    write_new(target, plain)?;
    // Link under a temporary name, then rename over any stale entry.
    let tmp = cache.join(format!(".tmp-{}-{}", std::process::id(), sums.sha256));
    let _ = std::fs::remove_file(&tmp);
    let stored = std::fs::hard_link(target, &tmp).and_then(|()| std::fs::rename(&tmp, &entry));
    if let Err(error) = stored {
        let _ = std::fs::remove_file(&tmp);
        warnings.push(cache_trouble("store the index in", &entry, &error));
    }
    Ok(())
}

fn cache_trouble(what: &str, entry: &Path, error: &io::Error) -> String {
    format!(
        "cannot {what} the index cache (`{}`): {error}",
        entry.display()
    )
}

/// Writes `<base>.<ext>` of `plain` (e.g. `Packages.xz`): linked from the
/// cache when it holds this content, else compressed (and then stored in
/// the cache). Returns the file's sums and whether the cache supplied it.
pub(super) fn produce(
    format: Format,
    plain: &[u8],
    plain_sums: &Sums,
    base: &Path,
    cache: Option<&Path>,
    opts: &RenderOptions,
    warnings: &Warnings,
) -> Result<(Sums, bool), TreeError> {
    let mut target = base.as_os_str().to_owned();
    target.push(format!(".{}", format.ext()));
    let target = std::path::PathBuf::from(target);
    let entry = cache.map(|c| c.join(format!("{}.{}", plain_sums.sha256, format.ext())));
    if let Some(entry) = &entry {
        match try_link_or_copy(entry, &target) {
            Ok(()) => return Ok((sums_of_file(&target)?, true)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                warnings.push(cache_trouble("reuse an index from", entry, &error));
                // A failed copy may have left a partial file behind.
                let _ = std::fs::remove_file(&target);
            }
        }
    }
    let sums = match format {
        Format::Gz => compress_gz(plain, &target)?,
        Format::Xz => compress_xz(plain, &target, opts)?,
    };
    if let Some(entry) = &entry
        && let Err(error) = store_in_cache(&target, entry)
    {
        warnings.push(cache_trouble("store the index in", entry, &error));
    }
    Ok((sums, false))
}

/// Copies `file` to the cache as `entry`, atomically and durably: a
/// synced temporary file renamed into place, so a crash never leaves a
/// truncated entry that later renders would publish.
///
/// The entry is world-readable, not tempfile's private 0600: renders
/// hardlink it into the published tree, where the web server reads it.
fn store_in_cache(file: &Path, entry: &Path) -> io::Result<()> {
    crate::atomic_file::copy(file, entry, WriteOptions::PUBLIC)
}

fn compress_gz(plain: &[u8], target: &Path) -> Result<Sums, TreeError> {
    let out = SumWriter::new(create_new(target)?);
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::new(GZIP_LEVEL));
    gz.write_all(plain).map_err(write_err(target))?;
    let (mut file, sums) = gz.finish().map_err(write_err(target))?.finish();
    file.flush().map_err(write_err(target))?;
    Ok(sums)
}

fn compress_xz(plain: &[u8], target: &Path, opts: &RenderOptions) -> Result<Sums, TreeError> {
    let threads = match opts.xz_threads {
        0 => {
            std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(1))
        }
        n => n,
    };
    let stream = liblzma::stream::MtStreamBuilder::new()
        .threads(threads)
        .preset(opts.xz_preset)
        .check(liblzma::stream::Check::Crc64)
        .encoder()
        .map_err(|source| TreeError::Xz {
            preset: opts.xz_preset,
            threads,
            source,
        })?;
    let out = SumWriter::new(create_new(target)?);
    let mut xz = liblzma::write::XzEncoder::new_stream(out, stream);
    xz.write_all(plain).map_err(write_err(target))?;
    let (mut file, sums) = xz.finish().map_err(write_err(target))?.finish();
    file.flush().map_err(write_err(target))?;
    Ok(sums)
}
