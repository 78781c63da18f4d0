//! SHA-1 for checking the `Checksums-Sha1` of an upload (never for trust:
//! the SHA256 is what identifies content). The hash comes from sequoia's
//! backend, so no other crate is needed.

use sequoia_openpgp as openpgp;

use openpgp::crypto::hash::Context;
use openpgp::types::HashAlgorithm;

/// An incremental SHA-1.
pub struct Sha1(Option<Context>);

impl Sha1 {
    /// A new hasher; one that computes nothing when the backend lacks SHA-1.
    pub fn new() -> Sha1 {
        Sha1(HashAlgorithm::SHA1.context().ok().map(|b| b.for_digest()))
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        if let Some(c) = &mut self.0 {
            c.update(data);
        }
    }

    /// The digest in lowercase hex, `None` when it could not be computed.
    pub fn finish(self) -> Option<String> {
        self.0?.into_digest().ok().map(hex::encode)
    }
}

impl Default for Sha1 {
    fn default() -> Sha1 {
        Sha1::new()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sha1_of_abc() {
        let mut h = Sha1::new();
        h.update(b"abc");
        assert_eq!(
            h.finish().unwrap(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
