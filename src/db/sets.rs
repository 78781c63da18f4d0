//! Compact, shareable package sets.
//!
//! A mirror revision (and later a snapshot) references a package set: per
//! component, the sorted ids of its packages. Sets are encoded as delta
//! varints (about one byte per package when ids are dense) and stored once per
//! distinct content, keyed by the SHA256 of the encoding, so 10,000 snapshots of
//! an unchanged mirror cost one row.

use std::collections::BTreeMap;

use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE};
use crate::model::PackageId;

const MAGIC: &[u8; 4] = b"DVS1";

/// Package ids per component.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageSet {
    components: BTreeMap<String, Vec<PackageId>>,
}

/// A set encoding that cannot be decoded (database corruption).
#[derive(Debug, thiserror::Error)]
#[error("package set encoding is corrupt at byte {0}")]
pub struct SetDecodeError(pub usize);

impl ExitCode for SetDecodeError {
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

impl PackageSet {
    /// Adds a package to a component (duplicates are removed by [`PackageSet::normalize`]).
    pub fn insert(&mut self, component: &str, id: PackageId) {
        self.components
            .entry(component.to_owned())
            .or_default()
            .push(id);
    }

    /// Sorts and deduplicates every component's ids.
    pub fn normalize(&mut self) {
        for ids in self.components.values_mut() {
            ids.sort_unstable();
            ids.dedup();
        }
        self.components.retain(|_, ids| !ids.is_empty());
    }

    /// Components and their ids.
    pub fn components(&self) -> impl Iterator<Item = (&str, &[PackageId])> {
        self.components
            .iter()
            .map(|(c, ids)| (c.as_str(), ids.as_slice()))
    }

    /// Total number of entries.
    pub fn len(&self) -> usize {
        self.components.values().map(Vec::len).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The canonical encoding (call [`PackageSet::normalize`] first) and its digest.
    pub fn encode(&self) -> (Vec<u8>, Sha256) {
        let mut out = Vec::with_capacity(8 + self.len() * 2);
        out.extend_from_slice(MAGIC);
        put_varint(&mut out, self.components.len() as u64);
        for (name, ids) in &self.components {
            put_varint(&mut out, name.len() as u64);
            out.extend_from_slice(name.as_bytes());
            put_varint(&mut out, ids.len() as u64);
            let mut prev = 0i64;
            for id in ids {
                put_varint(&mut out, (id.0 - prev) as u64);
                prev = id.0;
            }
        }
        let digest = Sha256::of(&out);
        (out, digest)
    }

    /// Decodes an encoding made by [`PackageSet::encode`].
    pub fn decode(data: &[u8]) -> Result<PackageSet, SetDecodeError> {
        let mut pos = 0usize;
        if data.get(0..4) != Some(MAGIC.as_slice()) {
            return Err(SetDecodeError(0));
        }
        pos += 4;
        let n = get_varint(data, &mut pos)?;
        let mut components = BTreeMap::new();
        for _ in 0..n {
            let len =
                usize::try_from(get_varint(data, &mut pos)?).map_err(|_| SetDecodeError(pos))?;
            let name = data
                .get(pos..pos + len)
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or(SetDecodeError(pos))?
                .to_owned();
            pos += len;
            let count = get_varint(data, &mut pos)?;
            let mut ids = Vec::with_capacity(usize::try_from(count.min(1 << 24)).unwrap_or(0));
            let mut prev = 0i64;
            for _ in 0..count {
                let delta = get_varint(data, &mut pos)?;
                prev = prev
                    .checked_add_unsigned(delta)
                    .ok_or(SetDecodeError(pos))?;
                ids.push(PackageId(prev));
            }
            components.insert(name, ids);
        }
        if pos != data.len() {
            return Err(SetDecodeError(pos));
        }
        Ok(PackageSet { components })
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(data: &[u8], pos: &mut usize) -> Result<u64, SetDecodeError> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *data.get(*pos).ok_or(SetDecodeError(*pos))?;
        *pos += 1;
        if shift > 63 {
            return Err(SetDecodeError(*pos));
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_compact() {
        let mut s = PackageSet::default();
        for i in (1..=60_000).rev() {
            s.insert(if i % 3 == 0 { "contrib" } else { "main" }, PackageId(i));
        }
        s.insert("main", PackageId(5));
        s.normalize();
        assert_eq!(s.len(), 60_000);
        let (enc, d) = s.encode();
        assert!(enc.len() < 70_000, "{} bytes", enc.len());
        let back = PackageSet::decode(&enc).expect("decode");
        assert_eq!(back, s);
        assert_eq!(back.encode().1, d);
        assert!(PackageSet::decode(&enc[..enc.len() - 1]).is_err());
        assert!(PackageSet::decode(b"nope").is_err());
    }
}
