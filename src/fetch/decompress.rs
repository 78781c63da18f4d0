//! Reading compressed index files (`Packages.gz`, `Sources.xz`, …) with a
//! bound on the output.
//!
//! A verified digest only proves the archive signed these bytes, not that they
//! decompress to something sane, and indices are fetched before anything else
//! is known about them. [`open_decompressed`] therefore refuses to produce
//! more than a caller-chosen number of bytes, so a gzip or xz bomb ends in an
//! error instead of filling memory or disk. The xz decoder additionally has a
//! memory limit, since an xz header can ask for a huge dictionary.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;
use liblzma::bufread::XzDecoder;
use liblzma::stream::{CONCATENATED, Stream};

use super::FetchError;

/// Buffer size for both the compressed input and the decompressed output.
const BUFFER: usize = 256 * 1024;

/// Memory the xz decoder may use. `xz -9` needs 65 MiB to decompress; this
/// leaves room for unusual but legitimate settings and no more.
const XZ_MEMLIMIT: u64 = 256 * 1024 * 1024;

/// A compression format used for archive indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Xz,
}

impl Compression {
    /// The format implied by the file name: `.gz` → Gzip, `.xz` → Xz, and
    /// [`Compression::None`] for any other name. Returns `None` (the
    /// `Option`) for compressed formats that are recognised but not
    /// supported (`.bz2`, `.lzma`, `.zst`, `.lz4`), so such a file is never
    /// mistaken for plain text.
    pub fn from_extension(path: &Path) -> Option<Compression> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("gz") => Some(Self::Gzip),
            Some("xz") => Some(Self::Xz),
            Some("bz2" | "lzma" | "zst" | "lz4") => None,
            _ => Some(Self::None),
        }
    }

    /// The file-name suffix, dot included (`".gz"`), empty for
    /// [`Compression::None`]: `format!("Packages{}", c.extension())`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::None => "",
            Self::Gzip => ".gz",
            Self::Xz => ".xz",
        }
    }
}

/// Opens `path` and decompresses it as `c` on the fly. Reading more than
/// `max_output` decompressed bytes fails with
/// [`io::ErrorKind::InvalidData`]; corrupt input fails likewise while
/// reading. Concatenated gzip members and xz streams are read in full.
pub fn open_decompressed(
    path: &Path,
    c: Compression,
    max_output: u64,
) -> Result<Box<dyn BufRead + Send>, FetchError> {
    let file = File::open(path).map_err(|source| FetchError::Open {
        path: path.to_owned(),
        source,
    })?;
    let input = BufReader::with_capacity(BUFFER, file);
    let decoded: Box<dyn Read + Send> = match c {
        Compression::None => Box::new(input),
        Compression::Gzip => Box::new(MultiGzDecoder::new(input)),
        Compression::Xz => {
            let stream =
                Stream::new_stream_decoder(XZ_MEMLIMIT, CONCATENATED).map_err(|source| {
                    FetchError::XzInit {
                        path: path.to_owned(),
                        source,
                    }
                })?;
            Box::new(XzDecoder::new_stream(input, stream))
        }
    };
    let bounded = Bounded {
        inner: decoded,
        produced: 0,
        max: max_output,
        path: path.to_owned(),
    };
    Ok(Box::new(BufReader::with_capacity(BUFFER, bounded)))
}

/// A reader that fails once its inner reader yields more than `max` bytes.
struct Bounded {
    inner: Box<dyn Read + Send>,
    produced: u64,
    max: u64,
    path: PathBuf,
}

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for at most one byte beyond the limit: enough to notice it is
        // exceeded without decompressing further.
        let room = self.max.saturating_sub(self.produced).saturating_add(1);
        let want = usize::try_from(room).map_or(buf.len(), |room| room.min(buf.len()));
        let n = self.inner.read(&mut buf[..want])?;
        self.produced += n as u64;
        if self.produced > self.max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "`{}`: decompressed size exceeds {} bytes",
                    self.path.display(),
                    self.max
                ),
            ));
        }
        Ok(n)
    }
}
