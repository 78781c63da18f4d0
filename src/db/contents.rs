//! File lists and changelogs of .debs, by the .deb's SHA256 (migration 9).
//!
//! Both are stored deflate-compressed: a file list compresses about tenfold
//! (paths share long prefixes) and is read whole when a Contents index is
//! built.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};

use rusqlite::{OptionalExtension as _, params};

use super::{Db, DbError, corrupt, sql};
use crate::digest::Sha256;

/// Largest text read back (a file list or a changelog), decompressed.
const MAX_TEXT: u64 = 512 << 20;

/// Where a file list came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOrigin {
    /// Read from the .deb itself.
    Deb,
    /// Seeded from the upstream `Contents` index of the verified Release
    /// the package came from.
    Contents,
}

impl ListOrigin {
    fn as_str(self) -> &'static str {
        match self {
            ListOrigin::Deb => "deb",
            ListOrigin::Contents => "contents",
        }
    }
}

/// A zlib compressor reused across many rows: setting one up zeroes a few
/// hundred KiB of tables, which for 60,000 small lists was most of a first
/// publish's recording time.
pub struct Deflater(flate2::Compress);

impl Default for Deflater {
    fn default() -> Self {
        Self::new()
    }
}

impl Deflater {
    /// A fast-level zlib compressor.
    pub fn new() -> Self {
        Deflater(flate2::Compress::new(flate2::Compression::fast(), true))
    }

    /// `data` as a zlib stream: stored as is below [`STORE_BELOW`] bytes.
    pub fn deflate(&mut self, data: &[u8]) -> Vec<u8> {
        if data.len() < STORE_BELOW
            && let Ok(len) = u16::try_from(data.len())
        {
            return stored(data, len);
        }
        self.0.reset();
        let mut out = Vec::with_capacity(data.len() / 4 + 64);
        loop {
            let done = usize::try_from(self.0.total_in()).unwrap_or(data.len());
            let rest = data.get(done..).unwrap_or_default();
            match self
                .0
                .compress_vec(rest, &mut out, flate2::FlushCompress::Finish)
            {
                Ok(flate2::Status::StreamEnd) => return out,
                Ok(_) => out.reserve(out.capacity().max(64)),
                // Compressing into a growing Vec does not fail; if it ever
                // did, a fresh encoder still gives a valid stream.
                Err(_) => return deflate_fresh(data),
            }
        }
    }
}

fn deflate_fresh(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Texts shorter than this are kept uncompressed (in a zlib stream all the
/// same): resetting a compressor clears its hash tables, which costs more
/// than a short text's compression saves (most file lists of a generated
/// archive, and small changelogs).
const STORE_BELOW: usize = 1024;

/// `data`, `len` bytes, as a zlib stream of one stored block.
fn stored(data: &[u8], len: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 11);
    // Header (deflate, 32 KiB window, fastest; a multiple of 31), then a
    // final stored block: its length, the length's complement, the bytes.
    out.extend_from_slice(&[0x78, 0x01, 0x01]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// zlib's checksum of `data`.
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// The bytes of a stream [`stored`] made, if `data` is one (checked by its
/// Adler-32 like any zlib stream).
fn unstore(data: &[u8], what: &str) -> Option<Result<Vec<u8>, DbError>> {
    let [0x78, 0x01, 0x01, l0, l1, n0, n1, rest @ ..] = data else {
        return None;
    };
    let len = u16::from_le_bytes([*l0, *l1]);
    if !len != u16::from_le_bytes([*n0, *n1]) || rest.len() != usize::from(len) + 4 {
        return None;
    }
    let (body, sum) = rest.split_at(usize::from(len));
    Some(if adler32(body).to_be_bytes() == sum {
        Ok(body.to_vec())
    } else {
        Err(corrupt(what, "checksum mismatch"))
    })
}

fn inflate(data: &[u8], what: &str) -> Result<Vec<u8>, DbError> {
    if let Some(plain) = unstore(data, what) {
        return plain;
    }
    let mut out = Vec::new();
    // The bufread decoder reads `data` in place; the read one would zero a
    // 32 KiB buffer for each of tens of thousands of rows.
    flate2::bufread::ZlibDecoder::new(data)
        .take(MAX_TEXT + 1)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(what, e))?;
    if out.len() as u64 > MAX_TEXT {
        return Err(corrupt(what, "decompresses beyond the limit"));
    }
    Ok(out)
}

/// Deletes the file lists and changelogs of .debs no package row has any
/// more (within `gc`'s transaction).
pub(super) fn forget_unreferenced(tx: &rusqlite::Transaction<'_>) -> Result<(), DbError> {
    let what = "forget file lists and changelogs of collected packages";
    for table in ["deb_contents", "deb_changelogs"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE sha256 NOT IN (SELECT sha256 FROM packages)"),
            [],
        )
        .map_err(sql(what))?;
    }
    Ok(())
}

/// A package's file list as recorded: one text, its paths a line each
/// (one allocation per package, where a `String` per path made tens of
/// megabytes of small ones for an archive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileList(String);

impl FileList {
    /// The paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.0.split('\n').filter(|l| !l.is_empty())
    }
}

/// What reading one .deb found, compressed as stored (by a reader thread
/// with its own [`Deflater`], so that recording is only inserting).
#[derive(Debug)]
pub struct PackedScan {
    /// The .deb.
    pub sha256: Sha256,
    /// Its file list ([`Deflater::deflate`] of the paths joined by `\n`),
    /// `None` when one is recorded already.
    pub files: Option<Vec<u8>>,
    /// Its changelog, deflated; `None`: it has none.
    pub changelog: Option<Vec<u8>>,
}

impl PackedScan {
    /// Bytes it holds.
    pub fn size(&self) -> usize {
        self.files.as_ref().map_or(0, Vec::len) + self.changelog.as_ref().map_or(0, Vec::len)
    }
}

impl Db {
    /// Stops (`false`) or restarts (`true`) SQLite's automatic checkpoints.
    /// A run of many transactions, such as recording what reading tens of
    /// thousands of .debs found, checkpoints once afterwards instead of
    /// copying (and syncing) the pages of each few transactions while it
    /// runs; the next commit after the restart checkpoints what piled up.
    pub fn auto_checkpoints(&self, on: bool) -> Result<(), DbError> {
        let pages = if on { 1000 } else { 0 };
        self.conn
            .pragma_update(None, "wal_autocheckpoint", pages)
            .map_err(sql("set automatic checkpoints"))
    }

    /// Records what reading .debs found (file lists read from the .debs,
    /// changelogs), in one transaction, in key order: rows of random keys
    /// inserted in order dirty each page once per transaction.
    pub fn record_deb_scans(&mut self, scans: &mut [PackedScan]) -> Result<(), DbError> {
        let what = "record file lists and changelogs of packages";
        scans.sort_unstable_by_key(|s| s.sha256);
        let tx = self.conn.transaction().map_err(sql(what))?;
        {
            let mut lists = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO deb_contents (sha256, files, origin) VALUES (?1, ?2, ?3)",
                )
                .map_err(sql(what))?;
            for s in scans.iter() {
                if let Some(files) = &s.files {
                    lists
                        .execute(params![s.sha256.to_hex(), files, ListOrigin::Deb.as_str()])
                        .map_err(sql(what))?;
                }
            }
            let mut logs = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO deb_changelogs (sha256, text) VALUES (?1, ?2)",
                )
                .map_err(sql(what))?;
            for s in scans.iter() {
                logs.execute(params![s.sha256.to_hex(), s.changelog])
                    .map_err(sql(what))?;
            }
        }
        tx.commit().map_err(sql(what))
    }

    /// The file list of each of `debs` that has one recorded.
    pub fn deb_file_lists(&self, debs: &[Sha256]) -> Result<HashMap<Sha256, FileList>, DbError> {
        let what = "file lists of packages";
        // One read transaction: a lock per row was most of the time.
        let tx = self.conn.unchecked_transaction().map_err(sql(what))?;
        let mut stmt = tx
            .prepare_cached("SELECT files FROM deb_contents WHERE sha256 = ?1")
            .map_err(sql(what))?;
        let mut out = HashMap::new();
        for sha in debs {
            if out.contains_key(sha) {
                continue;
            }
            let blob: Option<Vec<u8>> = stmt
                .query_row([sha.to_hex()], |r| r.get(0))
                .optional()
                .map_err(sql(what))?;
            if let Some(blob) = blob {
                let what = format!("file list of `{sha}`");
                let text =
                    String::from_utf8(inflate(&blob, &what)?).map_err(|e| corrupt(&what, e))?;
                out.insert(*sha, FileList(text));
            }
        }
        Ok(out)
    }

    /// Which of `debs` have a file list recorded.
    pub fn deb_file_lists_known(&self, debs: &[Sha256]) -> Result<Vec<Sha256>, DbError> {
        let what = "file lists of packages";
        let tx = self.conn.unchecked_transaction().map_err(sql(what))?;
        let mut stmt = tx
            .prepare_cached("SELECT 1 FROM deb_contents WHERE sha256 = ?1")
            .map_err(sql(what))?;
        let mut out = Vec::new();
        for sha in debs {
            if stmt.exists([sha.to_hex()]).map_err(sql(what))? {
                out.push(*sha);
            }
        }
        Ok(out)
    }

    /// Records file lists (each sorted), in one transaction; a list already
    /// recorded is kept.
    pub fn record_deb_file_lists(
        &mut self,
        lists: &[(Sha256, Vec<String>)],
        origin: ListOrigin,
    ) -> Result<(), DbError> {
        let what = "record file lists of packages";
        let tx = self.conn.transaction().map_err(sql(what))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO deb_contents (sha256, files, origin) VALUES (?1, ?2, ?3)",
                )
                .map_err(sql(what))?;
            let mut deflater = Deflater::new();
            for (sha, files) in lists {
                let blob = deflater.deflate(files.join("\n").as_bytes());
                stmt.execute(params![sha.to_hex(), blob, origin.as_str()])
                    .map_err(sql(what))?;
            }
        }
        tx.commit().map_err(sql(what))
    }

    /// The recorded changelog of each of `debs` that was read: `Some(None)`
    /// when the .deb has none.
    pub fn deb_changelogs(
        &self,
        debs: &[Sha256],
    ) -> Result<HashMap<Sha256, Option<Vec<u8>>>, DbError> {
        let what = "changelogs of packages";
        let tx = self.conn.unchecked_transaction().map_err(sql(what))?;
        let mut stmt = tx
            .prepare_cached("SELECT text FROM deb_changelogs WHERE sha256 = ?1")
            .map_err(sql(what))?;
        let mut out = HashMap::new();
        for sha in debs {
            let row: Option<Option<Vec<u8>>> = stmt
                .query_row([sha.to_hex()], |r| r.get(0))
                .optional()
                .map_err(sql(what))?;
            if let Some(text) = row {
                let text = match text {
                    Some(blob) => Some(inflate(&blob, &format!("changelog of `{sha}`"))?),
                    None => None,
                };
                out.insert(*sha, text);
            }
        }
        Ok(out)
    }

    /// Which of `debs` have a changelog row, and whether it holds text
    /// (`false`: the .deb has none), without reading the texts.
    pub fn deb_changelogs_known(&self, debs: &[Sha256]) -> Result<HashMap<Sha256, bool>, DbError> {
        let what = "changelogs of packages";
        let tx = self.conn.unchecked_transaction().map_err(sql(what))?;
        let mut stmt = tx
            .prepare_cached("SELECT text IS NOT NULL FROM deb_changelogs WHERE sha256 = ?1")
            .map_err(sql(what))?;
        let mut out = HashMap::new();
        for sha in debs {
            let row: Option<bool> = stmt
                .query_row([sha.to_hex()], |r| r.get(0))
                .optional()
                .map_err(sql(what))?;
            if let Some(has_text) = row {
                out.insert(*sha, has_text);
            }
        }
        Ok(out)
    }

    /// Records changelogs (`None`: the .deb has none), in one transaction.
    pub fn record_deb_changelogs(
        &mut self,
        logs: &[(Sha256, Option<Vec<u8>>)],
    ) -> Result<(), DbError> {
        let what = "record changelogs of packages";
        let tx = self.conn.transaction().map_err(sql(what))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO deb_changelogs (sha256, text) VALUES (?1, ?2)",
                )
                .map_err(sql(what))?;
            let mut deflater = Deflater::new();
            for (sha, text) in logs {
                let blob = text.as_deref().map(|t| deflater.deflate(t));
                stmt.execute(params![sha.to_hex(), blob])
                    .map_err(sql(what))?;
            }
        }
        tx.commit().map_err(sql(what))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_stored_streams_any_zlib_reader_reads() {
        let mut d = Deflater::new();
        for n in [0usize, 1, 700, STORE_BELOW - 1, STORE_BELOW, 5000] {
            let text: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            let packed = d.deflate(&text);
            let mut back = Vec::new();
            flate2::read::ZlibDecoder::new(&packed[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, text, "{n} bytes");
            assert_eq!(inflate(&packed, "t").unwrap(), text);
        }
        // A corrupted stored stream is refused by its checksum.
        let mut packed = d.deflate(b"hello");
        packed[7] ^= 1;
        assert!(inflate(&packed, "t").is_err());
    }

    #[test]
    fn a_reused_deflater_gives_streams_inflate_reads() {
        let mut d = Deflater::new();
        let big: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for data in [&b""[..], b"usr/bin/a\nusr/bin/b", &big, b"again"] {
            assert_eq!(inflate(&d.deflate(data), "test").unwrap(), data);
        }
    }

    #[test]
    fn lists_and_changelogs_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("db")).unwrap();
        let (a, b) = (Sha256::of(b"a"), Sha256::of(b"b"));
        let files = vec!["usr/bin/a".to_owned(), "usr/share/a b".to_owned()];
        db.record_deb_file_lists(&[(a, files.clone())], ListOrigin::Contents)
            .unwrap();
        assert_eq!(db.deb_file_lists_known(&[a, b]).unwrap(), vec![a]);
        let got = db.deb_file_lists(&[a, b]).unwrap();
        assert_eq!(got[&a].paths().collect::<Vec<_>>(), files);
        db.record_deb_changelogs(&[(a, Some(b"log".to_vec())), (b, None)])
            .unwrap();
        let logs = db.deb_changelogs(&[a, b, Sha256::of(b"c")]).unwrap();
        assert_eq!(logs.len(), 2);
        assert_eq!(logs[&a].as_deref(), Some(&b"log"[..]));
        assert_eq!(logs[&b], None);
    }

    #[test]
    fn gc_forgets_lists_of_packages_gone() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("db")).unwrap();
        let (kept, gone) = (Sha256::of(b"kept"), Sha256::of(b"gone"));
        db.conn
            .execute(
                "INSERT INTO packages (name, version, arch, sha256, size, filename, source, stanza) \
                 VALUES ('a', '1', 'all', ?1, 1, 'a.deb', 'a', '')",
                [kept.to_hex()],
            )
            .unwrap();
        let lists = [(kept, vec!["x".to_owned()]), (gone, vec!["y".to_owned()])];
        db.record_deb_file_lists(&lists, ListOrigin::Deb).unwrap();
        db.record_deb_changelogs(&[(gone, None)]).unwrap();
        let tx = db.conn.transaction().unwrap();
        forget_unreferenced(&tx).unwrap();
        tx.commit().unwrap();
        assert_eq!(db.deb_file_lists_known(&[kept, gone]).unwrap(), vec![kept]);
        assert!(db.deb_changelogs(&[gone]).unwrap().is_empty());
    }
}
