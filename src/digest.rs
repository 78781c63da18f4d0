//! SHA-256 digests: the identity of every blob, index and package file.
//!
//! [`Sha256`] is a 32-byte newtype that prints and parses as lowercase hex;
//! [`HashingWriter`] and [`HashingReader`] hash bytes as they stream past, so
//! no file is ever read twice just to learn its digest.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use sha2::Digest as _;

use crate::exit::{ExitCode, USAGE};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256([u8; 32]);

/// A string that is not 64 hexadecimal digits.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a SHA256 digest (64 hexadecimal digits)")]
pub struct ParseSha256Error(pub String);

impl ExitCode for ParseSha256Error {
    fn exit_code(&self) -> u8 {
        USAGE
    }
}

impl Sha256 {
    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self(sha2::Sha256::digest(data).into())
    }

    /// Lowercase hexadecimal form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the input length.
        hex::encode_to_slice(self.0, &mut buf).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({self})")
    }
}

impl FromStr for Sha256 {
    type Err = ParseSha256Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        if s.len() != 64 {
            return Err(ParseSha256Error(s.to_owned()));
        }
        hex::decode_to_slice(s, &mut out).map_err(|_| ParseSha256Error(s.to_owned()))?;
        Ok(Self(out))
    }
}

impl serde::Serialize for Sha256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Sha256 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental SHA-256 computation that also counts bytes.
#[derive(Clone, Default)]
pub struct Hasher {
    inner: sha2::Sha256,
    len: u64,
}

impl Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
        self.len += data.len() as u64;
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest and the number of bytes hashed.
    pub fn finish(self) -> (Sha256, u64) {
        (Sha256(self.inner.finalize().into()), self.len)
    }
}

/// A writer that hashes everything written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// The wrapped writer, the digest and the byte count.
    pub fn finish(self) -> (W, Sha256, u64) {
        let (digest, len) = self.hasher.finish();
        (self.inner, digest, len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// The digest and byte count of what was read so far.
    pub fn finish(self) -> (Sha256, u64) {
        self.hasher.finish()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let d = Sha256::of(b"abc");
        assert_eq!(
            d.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.to_string().parse::<Sha256>().ok(), Some(d));
        assert!("xyz".parse::<Sha256>().is_err());
    }

    #[test]
    fn writer_and_reader_agree() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"hello world").ok();
        let (buf, d1, n) = w.finish();
        let mut r = HashingReader::new(&buf[..]);
        io::copy(&mut r, &mut io::sink()).ok();
        let (d2, m) = r.finish();
        assert_eq!((d1, n), (d2, m));
        assert_eq!(n, 11);
    }
}
