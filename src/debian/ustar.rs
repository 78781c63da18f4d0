//! Writing a flat ustar archive of small regular files, as DEP-11's
//! `icons-<size>.tar` are: 512-byte headers, bodies padded to 512 bytes,
//! two zero blocks at the end. Names are limited to the 100 bytes of the
//! ustar name field (no `prefix` split and no PAX records: icon names are
//! `<package>_<id>.png`; a longer one is refused when mirrored). Every
//! entry has mode 0644, owner 0/0 and time 0, so the same files always give
//! the same bytes, and so the same by-hash name.

const BLOCK: usize = 512;

/// Why an entry cannot be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum UstarError {
    /// A name that is empty, has a `/` or NUL, or is longer than 100 bytes.
    #[error("`{0}` cannot be a flat ustar entry name")]
    BadName(String),
}

/// The archive of `entries` (name, content), in the order given.
pub fn write_flat<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<Vec<u8>, UstarError> {
    let mut out = Vec::new();
    for (name, data) in entries {
        if name.is_empty() || name.len() > 100 || name.contains(['/', '\0']) {
            return Err(UstarError::BadName(name.to_owned()));
        }
        out.extend_from_slice(&header(name, data.len() as u64));
        out.extend_from_slice(data);
        let pad = (BLOCK - data.len() % BLOCK) % BLOCK;
        out.resize(out.len() + pad, 0);
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    Ok(out)
}

/// The header block of a regular file.
fn header(name: &str, size: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    let put = |h: &mut [u8; BLOCK], at: usize, bytes: &[u8]| {
        h[at..at + bytes.len()].copy_from_slice(bytes);
    };
    put(&mut h, 0, name.as_bytes());
    put(&mut h, 100, b"0000644\0");
    put(&mut h, 108, b"0000000\0");
    put(&mut h, 116, b"0000000\0");
    put(&mut h, 124, format!("{size:011o}\0").as_bytes());
    put(&mut h, 136, b"00000000000\0");
    put(&mut h, 148, b"        ");
    h[156] = b'0';
    put(&mut h, 257, b"ustar\0");
    put(&mut h, 263, b"00");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    put(&mut h, 148, format!("{sum:06o}\0 ").as_bytes());
    h
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Read as _;

    use super::*;
    use crate::debian::deb::{EntryKind, TarReader};

    #[test]
    fn the_tar_reader_reads_back_what_is_written() {
        let tar =
            write_flat([("a_b.png", &b"\x89PNG one"[..]), ("c.png", &[7u8; 513][..])]).unwrap();
        assert_eq!(tar.len(), 512 + 512 + 512 + 1024 + 1024);
        let mut r = TarReader::new(&tar[..]);
        let mut got = Vec::new();
        while let Some(e) = r.next_entry().unwrap() {
            assert_eq!(e.kind, EntryKind::File);
            let mut data = Vec::new();
            r.body(e.size).read_to_end(&mut data).unwrap();
            got.push((e.path, data));
        }
        assert_eq!(
            got,
            [
                ("a_b.png".to_owned(), b"\x89PNG one".to_vec()),
                ("c.png".to_owned(), vec![7u8; 513])
            ]
        );
        assert_eq!(write_flat([]).unwrap(), vec![0; 1024]);
    }

    #[test]
    fn names_that_do_not_fit_are_refused() {
        let long = "x".repeat(101);
        for bad in ["", "a/b", long.as_str()] {
            assert_eq!(
                write_flat([(bad, &b""[..])]),
                Err(UstarError::BadName(bad.to_owned()))
            );
        }
    }
}
