//! The control stanza of a `.deb`, read from the package itself.
//!
//! A package added to a local repository is described by what its
//! `control.tar.{gz,xz,zst}` says, never by its file name. The whole ar
//! container is walked, so a member that claims more bytes than the file
//! has (or a truncated one) is an error even after the control member;
//! `debian-binary` must come first and say `2.x`, and a `data.tar` member
//! must be there. The control tarball is decompressed with a bound and the
//! `control` file is read with one: a hostile package cannot exhaust memory.

use std::io::{self, BufRead, Read};

use super::deb::{ArReader, DebError, EntryKind, TarReader};
use super::deb_scan::decompress;
use super::deb822::{Deb822Error, Stanza, StanzaReader};

/// Largest decompressed `control.tar` read (maintainer scripts included).
pub const MAX_CONTROL_TAR: u64 = 64 << 20;
/// Largest `control` file.
pub const MAX_CONTROL: u64 = 1 << 20;

/// Why a `.deb`'s control stanza could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The container is broken or hostile.
    #[error(transparent)]
    Deb(#[from] DebError),
    /// `debian-binary` is missing, misplaced or not format 2.
    #[error("not a .deb of format 2.x: {0}")]
    Format(&'static str),
    /// The control file does not parse as one stanza.
    #[error("the `control` file is not one control stanza")]
    Stanza(#[source] Option<Deb822Error>),
}

/// Reads the control stanza of the `.deb` of `len` bytes in `reader`,
/// checking the whole container on the way.
pub fn read_control(reader: impl BufRead, len: u64) -> Result<Stanza, ControlError> {
    let mut ar = ArReader::new(reader, len)?;
    let mut index = 0;
    let mut control = None;
    let mut data = false;
    while let Some(m) = ar.next_member()? {
        index += 1;
        if index == 1 {
            if m.name != "debian-binary" || m.size > 16 {
                return Err(ControlError::Format(
                    "`debian-binary` is not the first member",
                ));
            }
            let mut text = Vec::new();
            ar.body(m.size)
                .read_to_end(&mut text)
                .map_err(|source| read_err(&m.name, m.offset, source))?;
            if !text.starts_with(b"2.") {
                return Err(ControlError::Format("`debian-binary` does not say 2.x"));
            }
        } else if m.name.starts_with("control.tar") && control.is_none() {
            let body = decompress(&m.name, "control.tar".len(), m.offset, ar.body(m.size))?;
            control = Some(control_file(body)?);
        } else if m.name.starts_with("data.tar") {
            data = true;
        }
    }
    let text = control.ok_or(DebError::Missing("control.tar"))?;
    if !data {
        return Err(DebError::Missing("data.tar").into());
    }
    let text = text.ok_or(DebError::Missing("control"))?;
    let mut stanzas = StanzaReader::new(text.as_slice()).max_stanza_bytes(MAX_CONTROL as usize);
    let stanza = match stanzas.next() {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(ControlError::Stanza(Some(e))),
        None => return Err(ControlError::Stanza(None)),
    };
    if stanzas.next().is_some() {
        return Err(ControlError::Stanza(None));
    }
    Ok(stanza)
}

/// The `control` file of a decompressed control tarball, if it has one.
fn control_file(body: Box<dyn Read + '_>) -> Result<Option<Vec<u8>>, DebError> {
    let bounded = io::BufReader::new(body.take(MAX_CONTROL_TAR + 1));
    let mut tar = TarReader::new(bounded);
    let mut found = None;
    while let Some(e) = tar.next_entry()? {
        if e.kind != EntryKind::File || e.path != "control" {
            continue;
        }
        if e.size > MAX_CONTROL {
            return Err(DebError::TooLarge {
                what: "the `control` file".into(),
                limit: MAX_CONTROL,
            });
        }
        let mut text = Vec::new();
        tar.body(e.size)
            .read_to_end(&mut text)
            .map_err(|source| read_err("control", e.offset, source))?;
        found = Some(text);
    }
    Ok(found)
}

fn read_err(member: &str, offset: u64, source: io::Error) -> DebError {
    DebError::Read {
        member: member.to_owned(),
        offset,
        source,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::debian::deb::tests::{ar, tar};

    fn gz(data: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn deb(control: &[u8]) -> Vec<u8> {
        let control_tar = gz(&tar(&[("./control", b'0', control)]));
        let data_tar = gz(&tar(&[("./usr/share/doc/a/README", b'0', b"hi\n")]));
        ar(&[
            ("debian-binary", b"2.0\n"),
            ("control.tar.gz", &control_tar),
            ("data.tar.gz", &data_tar),
        ])
    }

    #[test]
    fn reads_the_control_stanza() {
        let d = deb(b"Package: a1\nVersion: 1.0\nArchitecture: all\nDescription: x\n y\n");
        let s = read_control(d.as_slice(), d.len() as u64).unwrap();
        assert_eq!(s.get("Package"), Some("a1"));
        assert_eq!(s.get("Description"), Some("x\n y"));
    }

    #[test]
    fn refuses_broken_containers() {
        let good = deb(b"Package: a1\nVersion: 1.0\nArchitecture: all\n");
        // A member that claims more bytes than the file has.
        let mut lying = good.clone();
        lying.truncate(good.len() - 10);
        assert!(read_control(lying.as_slice(), lying.len() as u64).is_err());
        // No control member.
        let no_control = ar(&[("debian-binary", b"2.0\n"), ("data.tar", &tar(&[]))]);
        let e = read_control(no_control.as_slice(), no_control.len() as u64).unwrap_err();
        assert!(e.to_string().contains("control.tar"), "{e}");
        // Two stanzas.
        let two = deb(b"Package: a1\n\nPackage: b1\n");
        assert!(read_control(two.as_slice(), two.len() as u64).is_err());
        // Not format 2.
        let old = ar(&[("debian-binary", b"0.93\n")]);
        assert!(read_control(old.as_slice(), old.len() as u64).is_err());
    }
}
