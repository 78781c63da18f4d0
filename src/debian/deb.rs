//! The containers of a `.deb`, read as a stream: the `ar` archive around
//! its members and the `tar` headers of `data.tar`.
//!
//! Both readers work over any [`Read`] and never hold a member in memory:
//! [`ArReader`] yields each member's header and a reader limited to its
//! body (unread bytes are skipped on the next call), [`TarReader`] yields
//! each entry's header with long names resolved and skips bodies the caller
//! does not read. Every size is checked before it is trusted: an ar member
//! may not claim more than the archive has left, a tar entry's name is
//! bounded, and a path with a `..` part is an error. Errors name the
//! member and the byte offset where the problem was found.
//!
//! Decompressing `data.tar.{gz,xz,zst,bz2}` and picking out the file list
//! and the changelog is [`crate::debian::deb_scan`]'s work (it needs the
//! compression libraries, which the fuzz targets do without).

use std::io::{self, Read};

/// `ar`'s global header.
const AR_MAGIC: &[u8; 8] = b"!<arch>\n";
/// Size of an `ar` member header.
const AR_HEADER: usize = 60;
/// Size of a tar block.
const BLOCK: usize = 512;
/// Longest name a GNU long-name entry or a pax `path` may give.
pub const MAX_NAME: u64 = 64 * 1024;
/// Largest pax extended header read.
pub const MAX_PAX: u64 = 1024 * 1024;

/// Why a `.deb` container could not be read. `offset` is the byte offset
/// in the ar archive (for ar errors) or in the decompressed tar stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DebError {
    /// Not an ar archive.
    #[error("not a .deb: no ar header at offset 0")]
    NotAr,
    /// A member header that does not parse.
    #[error("ar member header at offset {offset} is malformed: {problem}")]
    BadArHeader {
        /// Where.
        offset: u64,
        /// What is wrong.
        problem: &'static str,
    },
    /// A member claiming more bytes than the archive holds.
    #[error("ar member `{member}` at offset {offset} claims {size} bytes but only {left} remain")]
    ArSizeLies {
        /// The member.
        member: String,
        /// Where its header is.
        offset: u64,
        /// The size it claims.
        size: u64,
        /// What is left.
        left: u64,
    },
    /// The archive ends inside a member (or a header).
    #[error("ar member `{member}` at offset {offset} is truncated")]
    Truncated {
        /// The member (or `header`).
        member: String,
        /// Where.
        offset: u64,
    },
    /// A tar header that does not parse.
    #[error("tar header of `{member}` at offset {offset} is malformed: {problem}")]
    BadTarHeader {
        /// The entry's name as far as known.
        member: String,
        /// Where.
        offset: u64,
        /// What is wrong.
        problem: &'static str,
    },
    /// A tar path that leaves the package's root.
    #[error("tar entry `{member}` at offset {offset} has an unsafe path")]
    UnsafePath {
        /// The path.
        member: String,
        /// Where.
        offset: u64,
    },
    /// A bound was exceeded (list too long, changelog too big, ratio).
    #[error("{what} exceeds the limit of {limit}")]
    TooLarge {
        /// What grew too large.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// A required member is missing.
    #[error("no `{0}` member")]
    Missing(&'static str),
    /// A member uses a compression that is not supported.
    #[error("member `{0}` uses an unsupported compression")]
    Compression(String),
    /// Reading (or decompressing) failed.
    #[error("cannot read `{member}` at offset {offset}")]
    Read {
        /// The member being read.
        member: String,
        /// Where.
        offset: u64,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// One member of an ar archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArMember {
    /// Its name, without GNU's trailing `/`.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Offset of its header in the archive.
    pub offset: u64,
}

/// Reads the members of an ar archive of `len` bytes one after another.
pub struct ArReader<R> {
    at: Position<R>,
    len: u64,
}

impl<R: Read> ArReader<R> {
    /// Checks the global header of an archive of `len` bytes.
    pub fn new(mut inner: R, len: u64) -> Result<Self, DebError> {
        let mut magic = [0u8; 8];
        if len < 8 || read_full(&mut inner, &mut magic).ok() != Some(8) || &magic != AR_MAGIC {
            return Err(DebError::NotAr);
        }
        Ok(ArReader {
            at: Position::new(inner, 8, "ar member"),
            len,
        })
    }

    /// The next member's header, or `None` at the end; the body is read
    /// with [`ArReader::body`] before the next call (or skipped by it).
    pub fn next_member(&mut self) -> Result<Option<ArMember>, DebError> {
        self.at.skip_pending()?;
        if self.at.pos >= self.len {
            return Ok(None);
        }
        let offset = self.at.pos;
        let mut h = [0u8; AR_HEADER];
        let n = read_full(&mut self.at.inner, &mut h).map_err(|source| DebError::Read {
            member: "header".into(),
            offset,
            source,
        })?;
        self.at.pos += n as u64;
        if n < AR_HEADER {
            return Err(DebError::Truncated {
                member: "header".into(),
                offset,
            });
        }
        let member = parse_ar_header(&h, offset)?;
        let left = self.len - self.at.pos;
        if member.size > left {
            return Err(DebError::ArSizeLies {
                member: member.name,
                offset,
                size: member.size,
                left,
            });
        }
        self.at.pending = member.size + (member.size & 1);
        self.at.pending = self.at.pending.min(left);
        self.at.current = member.name.clone();
        Ok(Some(ArMember { offset, ..member }))
    }

    /// The body of the member last returned: at most its size, and an
    /// error if the archive ends early.
    pub fn body(&mut self, size: u64) -> Body<'_, R> {
        Body {
            at: &mut self.at,
            left: size,
        }
    }
}

/// Where a reader of ar members or tar entries is in its stream: the
/// part both share, which [`Body`] advances.
struct Position<R> {
    inner: R,
    /// Bytes consumed from `inner`.
    pos: u64,
    /// Body bytes (with padding) of the current member not yet consumed.
    pending: u64,
    /// The current member's name, for errors.
    current: String,
    /// `ar member` or `tar entry`, for errors.
    what: &'static str,
}

impl<R: Read> Position<R> {
    /// Reads past what is left of the current member's body and padding.
    fn skip_pending(&mut self) -> Result<(), DebError> {
        if self.pending == 0 {
            return Ok(());
        }
        let want = self.pending;
        let n = io::copy(&mut (&mut self.inner).take(want), &mut io::sink()).map_err(|source| {
            DebError::Read {
                member: self.current.clone(),
                offset: self.pos,
                source,
            }
        })?;
        self.pos += n;
        self.pending = 0;
        if n < want {
            return Err(DebError::Truncated {
                member: self.current.clone(),
                offset: self.pos,
            });
        }
        Ok(())
    }
}

impl<R> Position<R> {
    fn new(inner: R, pos: u64, what: &'static str) -> Self {
        Position {
            inner,
            pos,
            pending: 0,
            current: String::new(),
            what,
        }
    }
}

/// A reader over one ar member's or tar entry's body: at most its size,
/// and an error if the stream ends early.
pub struct Body<'a, R> {
    at: &'a mut Position<R>,
    left: u64,
}

impl<R: Read> Read for Body<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(self.left).map_or(buf.len(), |l| l.min(buf.len()));
        let n = self.at.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} `{}` is truncated", self.at.what, self.at.current),
            ));
        }
        self.left -= n as u64;
        self.at.pos += n as u64;
        self.at.pending -= n as u64;
        Ok(n)
    }
}

/// Read in place from a buffered stream: a decoder over a body needs no
/// buffer of its own (tens of thousands of .debs would each allocate and
/// zero one).
impl<R: io::BufRead> io::BufRead for Body<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.left == 0 {
            return Ok(&[]);
        }
        if self.at.inner.fill_buf()?.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} `{}` is truncated", self.at.what, self.at.current),
            ));
        }
        let left = self.left;
        let buf = self.at.inner.fill_buf()?;
        let n = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        Ok(&buf[..n])
    }

    fn consume(&mut self, amount: usize) {
        let n = (amount as u64).min(self.left);
        // `n` came from `fill_buf`, so it fits in a usize.
        self.at.inner.consume(usize::try_from(n).unwrap_or(amount));
        self.left -= n;
        self.at.pos += n;
        self.at.pending -= n;
    }
}

fn parse_ar_header(h: &[u8; AR_HEADER], offset: u64) -> Result<ArMember, DebError> {
    let bad = |problem| DebError::BadArHeader { offset, problem };
    if &h[58..60] != b"`\n" {
        return Err(bad("no terminator"));
    }
    let name = std::str::from_utf8(&h[..16])
        .map_err(|_| bad("name is not UTF-8"))?
        .trim_end_matches(' ');
    let name = name.strip_suffix('/').unwrap_or(name);
    if name.is_empty() {
        return Err(bad("empty name"));
    }
    let size = std::str::from_utf8(&h[48..58])
        .ok()
        .map(|s| s.trim_end_matches(' '))
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| bad("size is not a decimal number"))?;
    Ok(ArMember {
        name: name.to_owned(),
        size,
        offset,
    })
}

/// Reads into `buf` until it is full or the input ends; the count read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// What a tar entry is, as far as a file list cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (also old-style `\0` and contiguous `7`).
    File,
    /// A hard link.
    HardLink,
    /// A symbolic link.
    Symlink,
    /// A directory.
    Directory,
    /// A device, FIFO or anything else that is installed as a path.
    Other,
}

/// One tar entry's header, long names resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry {
    /// The path, without a leading `./` or `/` (and without the trailing
    /// `/` of a directory); empty for the root directory.
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Body size.
    pub size: u64,
    /// Offset of its header in the tar stream.
    pub offset: u64,
}

/// Reads a tar stream's entries: ustar, GNU (`././@LongLink`, base-256
/// sizes) and pax (`path=`, `size=`).
pub struct TarReader<R> {
    at: Position<R>,
}

impl<R: Read> TarReader<R> {
    /// A reader over the tar stream `inner`.
    pub fn new(inner: R) -> Self {
        TarReader {
            at: Position::new(inner, 0, "tar entry"),
        }
    }

    /// The next entry, or `None` at the end-of-archive block (or a clean
    /// end of input at a block boundary).
    pub fn next_entry(&mut self) -> Result<Option<TarEntry>, DebError> {
        let mut long_name: Option<String> = None;
        let mut pax_path: Option<String> = None;
        let mut pax_size: Option<u64> = None;
        loop {
            self.at.skip_pending()?;
            let offset = self.at.pos;
            let mut h = [0u8; BLOCK];
            let n =
                read_full(&mut self.at.inner, &mut h).map_err(|source| self.read_err(source))?;
            self.at.pos += n as u64;
            if n == 0 && long_name.is_none() && pax_path.is_none() {
                return Ok(None);
            }
            if n < BLOCK {
                return Err(DebError::Truncated {
                    member: "data.tar".into(),
                    offset,
                });
            }
            if h.iter().all(|b| *b == 0) {
                return Ok(None);
            }
            let raw_name = header_name(&h);
            let bad = |problem| DebError::BadTarHeader {
                member: raw_name.clone(),
                offset,
                problem,
            };
            check_checksum(&h).map_err(bad)?;
            let size = parse_size(&h[124..136]).map_err(bad)?;
            let typeflag = h[156];
            self.at.current = raw_name.clone();
            match typeflag {
                b'L' | b'x' => {
                    let limit = if typeflag == b'L' { MAX_NAME } else { MAX_PAX };
                    if size > limit {
                        return Err(DebError::TooLarge {
                            what: format!("tar entry `{raw_name}` at offset {offset}"),
                            limit,
                        });
                    }
                    let body = self.read_body(size)?;
                    if typeflag == b'L' {
                        let end = body.iter().position(|b| *b == 0).unwrap_or(body.len());
                        long_name = Some(String::from_utf8_lossy(&body[..end]).into_owned());
                    } else {
                        let (p, s) = parse_pax(&body).map_err(bad)?;
                        pax_path = p.or(pax_path);
                        pax_size = s.or(pax_size);
                    }
                }
                b'K' | b'g' => {
                    // A long link target or global pax header: not needed.
                    self.at.pending = padded(size);
                }
                _ => {
                    let size = pax_size.unwrap_or(size);
                    let name = pax_path.or(long_name).unwrap_or(raw_name);
                    let kind = match typeflag {
                        b'0' | 0 | b'7' => EntryKind::File,
                        b'1' => EntryKind::HardLink,
                        b'2' => EntryKind::Symlink,
                        b'5' => EntryKind::Directory,
                        _ => EntryKind::Other,
                    };
                    let kind = if kind == EntryKind::File && name.ends_with('/') {
                        EntryKind::Directory
                    } else {
                        kind
                    };
                    let path = clean_path(&name).ok_or_else(|| DebError::UnsafePath {
                        member: name.clone(),
                        offset,
                    })?;
                    // Links, directories and devices have no body whatever
                    // their size field says (except hard links in pax).
                    self.at.pending = match kind {
                        EntryKind::File => padded(size),
                        _ if typeflag == b'1' || typeflag == b'2' || typeflag == b'5' => 0,
                        _ => padded(size),
                    };
                    self.at.current = path.clone();
                    return Ok(Some(TarEntry {
                        path,
                        kind,
                        size: if self.at.pending == 0 { 0 } else { size },
                        offset,
                    }));
                }
            }
        }
    }

    /// The body of the entry last returned, at most `size` bytes (its
    /// size); the padding is skipped by the next [`TarReader::next_entry`].
    pub fn body(&mut self, size: u64) -> Body<'_, R> {
        let size = size.min(self.at.pending);
        Body {
            at: &mut self.at,
            left: size,
        }
    }

    fn read_body(&mut self, size: u64) -> Result<Vec<u8>, DebError> {
        let mut body = Vec::new();
        let want = padded(size);
        let n = (&mut self.at.inner)
            .take(want)
            .read_to_end(&mut body)
            .map_err(|source| self.read_err(source))?;
        self.at.pos += n as u64;
        if (n as u64) < want {
            return Err(DebError::Truncated {
                member: self.at.current.clone(),
                offset: self.at.pos,
            });
        }
        body.truncate(usize::try_from(size).unwrap_or(body.len()));
        Ok(body)
    }

    fn read_err(&self, source: io::Error) -> DebError {
        DebError::Read {
            member: self.at.current.clone(),
            offset: self.at.pos,
            source,
        }
    }
}

/// `size` rounded up to whole blocks.
fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64).saturating_mul(BLOCK as u64)
}

/// The name of a header: ustar's `prefix/name`, or the name alone.
fn header_name(h: &[u8; BLOCK]) -> String {
    let field = |b: &[u8]| {
        let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    let name = field(&h[..100]);
    // POSIX ustar ("ustar\0"): a prefix field; GNU ("ustar  ") uses that
    // area for other things.
    if &h[257..263] == b"ustar\0" {
        let prefix = field(&h[345..500]);
        if !prefix.is_empty() {
            return format!("{prefix}/{name}");
        }
    }
    name
}

fn check_checksum(h: &[u8; BLOCK]) -> Result<(), &'static str> {
    let stored = parse_octal(&h[148..156]).ok_or("checksum is not octal")?;
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(*b)
            }
        })
        .sum();
    if sum == stored {
        Ok(())
    } else {
        Err("checksum does not match")
    }
}

/// A size field: octal, or base-256 when the top bit of the first byte is
/// set (GNU, for sizes of 8 GiB and more).
fn parse_size(f: &[u8]) -> Result<u64, &'static str> {
    if f[0] & 0x80 != 0 {
        if f[0] & 0x40 != 0 {
            return Err("negative size");
        }
        let mut v: u64 = u64::from(f[0] & 0x3f);
        for b in &f[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(*b)))
                .ok_or("size overflows")?;
        }
        return Ok(v);
    }
    parse_octal(f).ok_or("size is not octal")
}

fn parse_octal(f: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(f).ok()?;
    let s = s.trim_matches(|c| c == ' ' || c == '\0');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

/// The `path` and `size` records of a pax extended header
/// (`<len> <key>=<value>\n` each).
fn parse_pax(mut body: &[u8]) -> Result<(Option<String>, Option<u64>), &'static str> {
    let (mut path, mut size) = (None, None);
    while !body.is_empty() && body[0] != 0 {
        let sp = body
            .iter()
            .position(|b| *b == b' ')
            .ok_or("pax record has no length")?;
        let len: usize = std::str::from_utf8(&body[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("pax record length is not a number")?;
        if len <= sp + 1 || len > body.len() || body[len - 1] != b'\n' {
            return Err("pax record length is wrong");
        }
        let record = &body[sp + 1..len - 1];
        if let Some(eq) = record.iter().position(|b| *b == b'=') {
            let (key, value) = (&record[..eq], &record[eq + 1..]);
            match key {
                b"path" => path = Some(String::from_utf8_lossy(value).into_owned()),
                b"size" => {
                    size = Some(
                        std::str::from_utf8(value)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .ok_or("pax size is not a number")?,
                    );
                }
                _ => {}
            }
        }
        body = &body[len..];
    }
    Ok((path, size))
}

/// `name` without leading `./` and `/` and without a trailing `/`; `None`
/// when a part is `..` or the name holds a NUL, newline or backslash-free
/// problem characters that would corrupt a Contents line.
fn clean_path(name: &str) -> Option<String> {
    if name.contains(['\0', '\n', '\r']) {
        return None;
    }
    let parts: Vec<&str> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return None;
    }
    Some(parts.join("/"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    /// An ar archive of `members`.
    pub(crate) fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = AR_MAGIC.to_vec();
        for (name, body) in members {
            out.extend(
                format!(
                    "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                    name,
                    0,
                    0,
                    0,
                    100644,
                    body.len()
                )
                .as_bytes(),
            );
            out.extend(*body);
            if body.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    /// A tar header block.
    pub(crate) fn tar_header(name: &str, typeflag: u8, size: u64) -> [u8; BLOCK] {
        let mut h = [0u8; BLOCK];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = typeflag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    /// A tar stream of `(name, typeflag, body)` entries.
    pub(crate) fn tar(entries: &[(&str, u8, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, t, body) in entries {
            out.extend(tar_header(name, *t, body.len() as u64));
            out.extend(*body);
            out.resize(padded(out.len() as u64) as usize, 0);
        }
        out.extend([0u8; 1024]);
        out
    }

    fn entries(data: &[u8]) -> Result<Vec<(String, EntryKind)>, DebError> {
        let mut t = TarReader::new(data);
        let mut out = Vec::new();
        while let Some(e) = t.next_entry()? {
            out.push((e.path, e.kind));
        }
        Ok(out)
    }

    #[test]
    fn ar_members_and_padding() {
        let a = ar(&[
            ("debian-binary", b"2.0\n"),
            ("odd", b"abc"),
            ("data.tar", b"xy"),
        ]);
        let mut r = ArReader::new(&a[..], a.len() as u64).unwrap();
        let m = r.next_member().unwrap().unwrap();
        assert_eq!((m.name.as_str(), m.size), ("debian-binary", 4));
        let m = r.next_member().unwrap().unwrap();
        assert_eq!(m.name, "odd");
        let mut s = String::new();
        r.body(m.size).read_to_string(&mut s).unwrap();
        assert_eq!(s, "abc");
        let m = r.next_member().unwrap().unwrap();
        assert_eq!((m.name.as_str(), m.offset), ("data.tar", 8 + 64 + 64));
        assert!(r.next_member().unwrap().is_none());
    }

    #[test]
    fn ar_size_that_lies_is_an_error() {
        let mut a = ar(&[("debian-binary", b"2.0\n"), ("data.tar.gz", b"abcd")]);
        let at = 8 + 64 + 48;
        a[at..at + 10].copy_from_slice(b"999999    ");
        let mut r = ArReader::new(&a[..], a.len() as u64).unwrap();
        r.next_member().unwrap();
        let err = r.next_member().unwrap_err();
        assert!(
            err.to_string()
                .contains("`data.tar.gz` at offset 72 claims 999999 bytes but only 4 remain"),
            "{err}"
        );
        assert!(matches!(
            ArReader::new(&b"hello"[..], 5),
            Err(DebError::NotAr)
        ));
    }

    #[test]
    fn tar_names_kinds_and_long_names() {
        let long = format!("./usr/share/{}/file", "d".repeat(150));
        let record = " path=./usr/pax name\n";
        let pax = format!("{}{record}", record.len() + 2);
        let data = tar(&[
            ("./", b'5', b""),
            ("./usr/bin/", b'5', b""),
            ("./usr/bin/hello", b'0', b"#!/bin/sh\n"),
            ("./usr/bin/hi", b'2', b""),
            ("././@LongLink", b'L', long.as_bytes()),
            ("./usr/share/ddd", b'0', b"x"),
            ("PaxHeaders/x", b'x', pax.as_bytes()),
            ("./usr/short", b'0', b""),
        ]);
        let got = entries(&data).unwrap();
        assert_eq!(
            got,
            vec![
                (String::new(), EntryKind::Directory),
                ("usr/bin".into(), EntryKind::Directory),
                ("usr/bin/hello".into(), EntryKind::File),
                ("usr/bin/hi".into(), EntryKind::Symlink),
                (long[2..].to_owned(), EntryKind::File),
                ("usr/pax name".into(), EntryKind::File),
            ]
        );
    }

    #[test]
    fn dotdot_and_bad_headers_are_errors() {
        let data = tar(&[("./usr/../../etc/passwd", b'0', b"x")]);
        let err = entries(&data).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tar entry `./usr/../../etc/passwd` at offset 0 has an unsafe path"
        );
        let mut data = tar(&[("./a", b'0', b"x")]);
        data[0] = b'b';
        let err = entries(&data).unwrap_err();
        assert!(err.to_string().contains("checksum does not match"), "{err}");
        let data = tar(&[("./a", b'0', &[7u8; 600])]);
        let err = entries(&data[..700]).unwrap_err();
        assert!(matches!(err, DebError::Truncated { .. }), "{err}");
    }

    #[test]
    fn base256_sizes() {
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[11] = 1;
        f[10] = 2;
        assert_eq!(parse_size(&f).unwrap(), 513);
        assert_eq!(parse_size(b"00000001000\0").unwrap(), 512);
    }
}
