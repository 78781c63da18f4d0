//! A small, bounded reader of zip archives held in memory: enough for
//! OSV's per-ecosystem `all.zip` (one JSON record per entry), without a
//! zip dependency.
//!
//! The end-of-central-directory record is searched in the last 64 KiB +
//! 22 bytes, the central directory lists the entries, and each entry's
//! body is found through its local header. Methods 0 (stored) and 8
//! (deflate) are read; zip64, multi-disk archives, encrypted entries and
//! other methods are refused. The archive is input from outside: at most
//! [`MAX_ENTRIES`] entries, a body is inflated at most up to its declared
//! size (itself at most the caller's limit), a body whose size or CRC-32
//! differs from the central directory's is an error naming the entry.
//! Entry names are only reported, never used as paths.

use std::io::Read as _;

/// Most entries an archive may list.
pub const MAX_ENTRIES: usize = 1_000_000;

const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD_LEN: usize = 22;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const CENTRAL_LEN: usize = 46;
const LOCAL_SIG: u32 = 0x0403_4b50;
const LOCAL_LEN: usize = 30;
const MAX_COMMENT: usize = 0xffff;

/// Why an archive or an entry cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// No end-of-central-directory record.
    #[error("not a zip archive (no end of central directory)")]
    NotZip,
    /// A zip64 archive or entry.
    #[error("zip64 archives are not supported")]
    Zip64,
    /// Split over several disks.
    #[error("multi-disk zip archives are not supported")]
    MultiDisk,
    /// More entries than [`MAX_ENTRIES`].
    #[error("more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    /// The central directory is cut short or malformed.
    #[error("central directory is truncated or malformed at entry {index}")]
    BadDirectory {
        /// The entry's position in the directory.
        index: usize,
    },
    /// An entry's local header or body lies outside the archive.
    #[error("entry `{name}`: local header or data is truncated or malformed")]
    BadLocal {
        /// The entry.
        name: String,
    },
    /// An encrypted entry.
    #[error("entry `{name}` is encrypted")]
    Encrypted {
        /// The entry.
        name: String,
    },
    /// A method other than stored or deflate.
    #[error("entry `{name}` uses compression method {method} (only 0 and 8 are supported)")]
    Method {
        /// The entry.
        name: String,
        /// The method number.
        method: u16,
    },
    /// Larger than the caller's limit.
    #[error("entry `{name}` is larger than {limit} bytes")]
    TooBig {
        /// The entry.
        name: String,
        /// The limit.
        limit: u64,
    },
    /// The body inflates to another size than declared.
    #[error("entry `{name}` is not the {declared} bytes its header declares")]
    SizeLies {
        /// The entry.
        name: String,
        /// The declared uncompressed size.
        declared: u64,
    },
    /// The CRC-32 differs.
    #[error("entry `{name}` fails its CRC-32 check")]
    Crc {
        /// The entry.
        name: String,
    },
    /// The deflate stream is corrupt.
    #[error("entry `{name}` is not a valid deflate stream")]
    Inflate {
        /// The entry.
        name: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl ZipError {
    /// Whether the archive uses a feature this reader refuses (zip64,
    /// encryption, a method), rather than being damaged or hostile.
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self,
            ZipError::Zip64
                | ZipError::MultiDisk
                | ZipError::Encrypted { .. }
                | ZipError::Method { .. }
        )
    }
}

/// One entry of the central directory.
#[derive(Clone, Debug)]
pub struct ZipEntry {
    /// The name as stored (lossy UTF-8); never a path on this machine.
    pub name: String,
    /// General-purpose flags.
    flags: u16,
    /// Compression method.
    pub method: u16,
    /// CRC-32 of the uncompressed body.
    crc: u32,
    /// Compressed size.
    compressed: u64,
    /// Uncompressed size, as declared.
    pub size: u64,
    /// Offset of the local header.
    local: u64,
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// The entries of the archive `data`, in directory order.
pub fn entries(data: &[u8]) -> Result<Vec<ZipEntry>, ZipError> {
    let eocd = find_eocd(data).ok_or(ZipError::NotZip)?;
    if eocd >= 20 && u32_at(data, eocd - 20) == Some(ZIP64_LOCATOR_SIG) {
        return Err(ZipError::Zip64);
    }
    let field16 = |o| u16_at(data, eocd + o).ok_or(ZipError::NotZip);
    let field32 = |o| u32_at(data, eocd + o).ok_or(ZipError::NotZip);
    let (disk, cd_disk) = (field16(4)?, field16(6)?);
    let (on_disk, total) = (field16(8)?, field16(10)?);
    let (cd_size, cd_offset) = (field32(12)?, field32(16)?);
    if total == 0xffff || cd_size == u32::MAX || cd_offset == u32::MAX {
        return Err(ZipError::Zip64);
    }
    if disk != 0 || cd_disk != 0 || on_disk != total {
        return Err(ZipError::MultiDisk);
    }
    let total = usize::from(total);
    if total > MAX_ENTRIES {
        return Err(ZipError::TooManyEntries);
    }
    let start = cd_offset as usize;
    let end = start
        .checked_add(cd_size as usize)
        .filter(|&e| e <= eocd)
        .ok_or(ZipError::BadDirectory { index: 0 })?;
    let dir = &data[start..end];
    let mut out = Vec::with_capacity(total.min(dir.len() / CENTRAL_LEN));
    let mut at = 0usize;
    for index in 0..total {
        let (entry, next) = central_entry(dir, at).ok_or(ZipError::BadDirectory { index })?;
        if entry.compressed == u64::from(u32::MAX)
            || entry.size == u64::from(u32::MAX)
            || entry.local == u64::from(u32::MAX)
        {
            return Err(ZipError::Zip64);
        }
        out.push(entry);
        at = next;
    }
    Ok(out)
}

/// Offset of the end-of-central-directory record: the last signature in
/// the tail whose comment length reaches the end exactly, else the last.
fn find_eocd(data: &[u8]) -> Option<usize> {
    let last = data.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(MAX_COMMENT);
    let mut fallback = None;
    for at in (first..=last).rev() {
        if u32_at(data, at) == Some(EOCD_SIG) {
            let comment = usize::from(u16_at(data, at + 20)?);
            if at + EOCD_LEN + comment == data.len() {
                return Some(at);
            }
            fallback.get_or_insert(at);
        }
    }
    fallback
}

/// The central directory entry at `at` of `dir`, and where the next starts.
fn central_entry(dir: &[u8], at: usize) -> Option<(ZipEntry, usize)> {
    if u32_at(dir, at)? != CENTRAL_SIG {
        return None;
    }
    let name_len = usize::from(u16_at(dir, at + 28)?);
    let extra_len = usize::from(u16_at(dir, at + 30)?);
    let comment_len = usize::from(u16_at(dir, at + 32)?);
    let name_start = at + CENTRAL_LEN;
    let name = dir.get(name_start..name_start + name_len)?;
    let entry = ZipEntry {
        name: String::from_utf8_lossy(name).into_owned(),
        flags: u16_at(dir, at + 8)?,
        method: u16_at(dir, at + 10)?,
        crc: u32_at(dir, at + 16)?,
        compressed: u64::from(u32_at(dir, at + 20)?),
        size: u64::from(u32_at(dir, at + 24)?),
        local: u64::from(u32_at(dir, at + 42)?),
    };
    let next = name_start + name_len + extra_len + comment_len;
    (next <= dir.len()).then_some((entry, next))
}

impl ZipEntry {
    /// The uncompressed body, at most `limit` bytes, checked against the
    /// declared size and CRC-32.
    pub fn read(&self, data: &[u8], limit: u64) -> Result<Vec<u8>, ZipError> {
        let name = || self.name.clone();
        if self.flags & 1 != 0 {
            return Err(ZipError::Encrypted { name: name() });
        }
        if self.size > limit {
            return Err(ZipError::TooBig {
                name: name(),
                limit,
            });
        }
        if !matches!(self.method, 0 | 8) {
            return Err(ZipError::Method {
                name: name(),
                method: self.method,
            });
        }
        let body = self
            .body(data)
            .ok_or_else(|| ZipError::BadLocal { name: name() })?;
        let out = if self.method == 0 {
            if self.compressed != self.size {
                return Err(ZipError::SizeLies {
                    name: name(),
                    declared: self.size,
                });
            }
            body.to_vec()
        } else {
            {
                let mut out = Vec::with_capacity(self.size.min(1 << 20) as usize);
                flate2::read::DeflateDecoder::new(body)
                    .take(self.size + 1)
                    .read_to_end(&mut out)
                    .map_err(|source| ZipError::Inflate {
                        name: name(),
                        source,
                    })?;
                out
            }
        };
        if out.len() as u64 != self.size {
            return Err(ZipError::SizeLies {
                name: name(),
                declared: self.size,
            });
        }
        let mut crc = flate2::Crc::new();
        crc.update(&out);
        if crc.sum() != self.crc {
            return Err(ZipError::Crc { name: name() });
        }
        Ok(out)
    }

    /// The compressed body, found through the local header.
    fn body<'d>(&self, data: &'d [u8]) -> Option<&'d [u8]> {
        let at = usize::try_from(self.local).ok()?;
        if u32_at(data, at)? != LOCAL_SIG || u16_at(data, at + 8)? != self.method {
            return None;
        }
        let name_len = usize::from(u16_at(data, at + 26)?);
        let extra_len = usize::from(u16_at(data, at + 28)?);
        let start = at + LOCAL_LEN + name_len + extra_len;
        let end = start.checked_add(usize::try_from(self.compressed).ok()?)?;
        data.get(start..end)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write as _;

    /// A zip of `(name, body, deflate?)`, written by hand.
    pub(crate) fn build(files: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, body, deflate) in files {
            let mut crc = flate2::Crc::new();
            crc.update(body);
            let (method, stored): (u16, Vec<u8>) = if *deflate {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(body).unwrap();
                (8, e.finish().unwrap())
            } else {
                (0, body.to_vec())
            };
            let local = out.len() as u32;
            let common = |v: &mut Vec<u8>| {
                v.extend(20u16.to_le_bytes());
                v.extend(0u16.to_le_bytes());
                v.extend(method.to_le_bytes());
                v.extend([0u8; 4]);
                v.extend(crc.sum().to_le_bytes());
                v.extend((stored.len() as u32).to_le_bytes());
                v.extend((body.len() as u32).to_le_bytes());
                v.extend((name.len() as u16).to_le_bytes());
                v.extend(0u16.to_le_bytes());
            };
            out.extend(LOCAL_SIG.to_le_bytes());
            common(&mut out);
            out.extend(name.as_bytes());
            out.extend(&stored);
            central.extend(CENTRAL_SIG.to_le_bytes());
            central.extend(20u16.to_le_bytes());
            common(&mut central);
            central.extend([0u8; 10]);
            central.extend(local.to_le_bytes());
            central.extend(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend(&central);
        out.extend(EOCD_SIG.to_le_bytes());
        out.extend([0u8; 4]);
        out.extend((files.len() as u16).to_le_bytes());
        out.extend((files.len() as u16).to_le_bytes());
        out.extend((central.len() as u32).to_le_bytes());
        out.extend(cd_offset.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    #[test]
    fn stored_and_deflated_entries_read_back() {
        let big = b"{\"id\": 1}".repeat(1000);
        let z = build(&[("a.json", b"{}", false), ("dir/b.json", &big, true)]);
        let es = entries(&z).unwrap();
        assert_eq!(es.len(), 2);
        assert_eq!(es[1].name, "dir/b.json");
        assert_eq!(es[0].read(&z, 1 << 20).unwrap(), b"{}");
        assert_eq!(es[1].read(&z, 1 << 20).unwrap(), big);
    }

    #[test]
    fn the_fuzz_seed_made_by_python_reads() {
        let z = include_bytes!("../../fuzz/corpus/zip/seed");
        let es = entries(z).unwrap();
        let names: Vec<_> = es.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["DSA-1-1.json", "README"]);
        assert_eq!(es[0].method, 8);
        assert!(es[0].read(z, 1 << 20).unwrap().starts_with(b"{\"id\""));
    }

    #[test]
    fn hostile_archives_are_errors_naming_the_entry() {
        let big = vec![b'a'; 100_000];
        let z = build(&[("bomb.json", &big, true)]);
        let es = entries(&z).unwrap();
        let e = es[0].read(&z, 1000).unwrap_err();
        assert!(matches!(e, ZipError::TooBig { .. }) && e.to_string().contains("`bomb.json`"));

        // The declared size lies (smaller than the body inflates to).
        let mut lie = es[0].clone();
        lie.size = 10;
        let e = lie.read(&z, 1000).unwrap_err();
        assert!(matches!(e, ZipError::SizeLies { .. }), "{e}");
        let mut bad_crc = es[0].clone();
        bad_crc.crc ^= 1;
        assert!(matches!(
            bad_crc.read(&z, 1 << 20),
            Err(ZipError::Crc { .. })
        ));
        let mut off = es[0].clone();
        off.local = z.len() as u64;
        assert!(matches!(
            off.read(&z, 1 << 20),
            Err(ZipError::BadLocal { .. })
        ));

        // A central directory cut short; no archive at all.
        let z = build(&[("a.json", b"{}", false), ("b.json", b"[]", false)]);
        let eocd = find_eocd(&z).unwrap();
        let mut cut = z.clone();
        cut[eocd + 12..eocd + 16].copy_from_slice(&50u32.to_le_bytes());
        assert!(
            matches!(entries(&cut), Err(ZipError::BadDirectory { index: 0 })),
            "{:?}",
            entries(&cut)
        );
        assert!(matches!(entries(b"PK\x03\x04"), Err(ZipError::NotZip)));
        assert!(matches!(
            entries(&z[..z.len() - 1]),
            Err(ZipError::NotZip) | Err(ZipError::BadDirectory { .. })
        ));

        // zip64 and encryption are refused.
        let mut z64 = z.clone();
        z64[eocd + 10..eocd + 12].copy_from_slice(&0xffffu16.to_le_bytes());
        assert!(matches!(entries(&z64), Err(ZipError::Zip64)));
        let mut stored_lie = entries(&z).unwrap()[0].clone();
        stored_lie.size = 1;
        assert!(matches!(
            stored_lie.read(&z, 100),
            Err(ZipError::SizeLies { .. })
        ));
        let mut enc = entries(&z).unwrap()[0].clone();
        enc.flags |= 1;
        assert!(matches!(enc.read(&z, 100), Err(ZipError::Encrypted { .. })));
        let mut m = entries(&z).unwrap()[0].clone();
        m.method = 12;
        assert!(m.read(&z, 100).unwrap_err().is_unsupported());
    }
}
