//! Verifying upstream `InRelease` and `Release` + `Release.gpg` files the
//! way apt (through `gpgv`) does.
//!
//! A [`Keyring`] holds the trusted certificates (for example
//! `/usr/share/keyrings/debian-archive-keyring.gpg`), parsed once and
//! indexed by key ID so that each verification only clones the
//! certificates it actually needs.
//!
//! Acceptance rules, mirroring apt/gpgv:
//!
//! - at least one signature must be good and made by a key (primary or
//!   subkey) of a certificate in the keyring — Debian signs with signing
//!   subkeys, and its `InRelease` files carry signatures from two keys;
//! - signatures by keys that are not in the keyring are ignored;
//! - a signature by a key in the keyring that does *not* verify (tampered
//!   data or signature, rejected digest, creation time in the future) is
//!   an error even if another signature is good;
//! - key validity (expiry, revocation, binding signatures) is judged at
//!   the signature's creation time, so a key that has expired since
//!   still verifies old files; the signature itself must not be dated in
//!   the future (sequoia tolerates 30 minutes of clock skew when
//!   verifying "now"; none when [`VerifyOptions::at`] is set);
//! - algorithms are judged by sequoia's [`StandardPolicy`] as of now
//!   (an earlier `at` does not resurrect broken algorithms). With
//!   [`VerifyOptions::allow_sha1_bindings`], SHA-1 is additionally
//!   accepted where only second pre-image resistance is needed: key
//!   binding and self signatures. Data signatures always require a
//!   collision-resistant digest.
//!
//! For clearsigned input, only the signed part is returned: anything
//! before the `-----BEGIN PGP SIGNED MESSAGE-----` line or after the
//! signature block is dropped. The cleartext framework does not sign
//! the final line break, and sequoia returns the text without it; it is
//! restored so [`Verified::text`] is byte-for-byte what apt hashes and
//! parses.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::cert::CertParser;
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationError, VerificationHelper,
    VerifierBuilder,
};
use openpgp::policy::{HashAlgoSecurity, StandardPolicy};
use openpgp::types::HashAlgorithm;
use openpgp::{Cert, KeyHandle, KeyID};

use super::{Cause, PgpError, cause};

/// The line that starts a cleartext-signed message.
const CLEARSIGN_BEGIN: &[u8] = b"-----BEGIN PGP SIGNED MESSAGE-----";

/// A set of trusted OpenPGP certificates (public keys only).
#[derive(Clone, Default)]
pub struct Keyring {
    certs: Vec<Cert>,
    /// Key ID of every primary key and subkey → indices into `certs`.
    by_key_id: HashMap<KeyID, Vec<usize>>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("fingerprints", &self.fingerprints())
            .finish()
    }
}

impl Keyring {
    /// The public certificates, binary and concatenated (an apt keyring
    /// file); secret key material is never written.
    pub fn export_binary(&self) -> Result<Vec<u8>, PgpError> {
        use openpgp::serialize::Serialize as _;
        let mut out = Vec::new();
        for cert in &self.certs {
            cert.serialize(&mut out).map_err(|e| PgpError::Serialize {
                fingerprint: cert.fingerprint().to_hex(),
                source: cause(e),
            })?;
        }
        Ok(out)
    }

    /// The public certificates, one ASCII-armored block each.
    pub fn export_armored(&self) -> Result<Vec<u8>, PgpError> {
        use openpgp::serialize::SerializeInto as _;
        let mut out = Vec::new();
        for cert in &self.certs {
            out.extend(cert.armored().to_vec().map_err(|e| PgpError::Serialize {
                fingerprint: cert.fingerprint().to_hex(),
                source: cause(e),
            })?);
        }
        Ok(out)
    }

    /// Loads and merges keyring files.
    ///
    /// Each file may be a binary keyring (concatenated certificates, as
    /// in `/usr/share/keyrings/*.gpg`) or ASCII-armored (one or more
    /// `PUBLIC KEY BLOCK`s). A file without any certificate is an error.
    /// GnuPG's `keybox` format (`pubring.kbx`) is not supported, just as
    /// apt does not support it. Secret key material, if any, is dropped.
    pub fn load(paths: &[PathBuf]) -> Result<Keyring, PgpError> {
        let mut keyring = Keyring::default();
        for path in paths {
            let data = crate::capped::read(path, crate::capped::KEYRING).map_err(|source| {
                PgpError::Read {
                    path: path.clone(),
                    source,
                }
            })?;
            let certs = parse_certs(&data, &path.display().to_string())?;
            keyring.extend(certs);
        }
        Ok(keyring)
    }

    /// Parses a keyring from memory; `origin` names it in errors.
    pub fn from_bytes(data: &[u8], origin: &str) -> Result<Keyring, PgpError> {
        let mut keyring = Keyring::default();
        keyring.extend(parse_certs(data, origin)?);
        Ok(keyring)
    }

    /// Primary key fingerprints (uppercase hex, no spaces), in load order.
    pub fn fingerprints(&self) -> Vec<String> {
        self.certs
            .iter()
            .map(|c| c.fingerprint().to_hex())
            .collect()
    }

    /// Fingerprints (uppercase hex) of every key, primary keys and
    /// subkeys: what a rule naming a signing key is checked against.
    pub fn key_fingerprints(&self) -> Vec<String> {
        self.certs
            .iter()
            .flat_map(|c| c.keys().map(|k| k.key().fingerprint().to_hex()))
            .collect()
    }

    /// Whether the keyring holds no certificate.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Adds certificates, merging duplicates (same primary fingerprint).
    fn extend(&mut self, certs: Vec<Cert>) {
        for cert in certs {
            let cert = cert.strip_secret_key_material();
            let existing = self
                .certs
                .iter()
                .position(|c| c.fingerprint() == cert.fingerprint());
            match existing {
                Some(i) => {
                    let merged = match self.certs[i].clone().merge_public(cert.clone()) {
                        Ok(m) => m,
                        // Cannot happen for equal fingerprints; keep the
                        // first copy rather than failing the whole load.
                        Err(_) => continue,
                    };
                    self.certs[i] = merged;
                }
                None => self.certs.push(cert),
            }
        }
        self.reindex();
    }

    fn reindex(&mut self) {
        self.by_key_id.clear();
        for (i, cert) in self.certs.iter().enumerate() {
            for key in cert.keys() {
                let ids = self.by_key_id.entry(key.key().keyid()).or_default();
                if !ids.contains(&i) {
                    ids.push(i);
                }
            }
        }
    }

    /// Certificates that contain a key matching one of `handles`.
    fn lookup(&self, handles: &[KeyHandle]) -> Vec<&Cert> {
        let mut indices: Vec<usize> = Vec::new();
        for handle in handles {
            let id = KeyID::from(handle);
            if let Some(found) = self.by_key_id.get(&id) {
                for &i in found {
                    if !indices.contains(&i) {
                        indices.push(i);
                    }
                }
            }
        }
        indices.iter().filter_map(|&i| self.certs.get(i)).collect()
    }
}

/// Parses all certificates in `data` (binary or one or more armored blocks).
fn parse_certs(data: &[u8], origin: &str) -> Result<Vec<Cert>, PgpError> {
    let parse_err = |e| PgpError::ParseKeys {
        origin: origin.to_owned(),
        source: cause(e),
    };
    let mut certs = Vec::new();
    for cert in CertParser::from_bytes(data).map_err(parse_err)? {
        certs.push(cert.map_err(parse_err)?);
    }
    if certs.is_empty() {
        return Err(PgpError::NoCertificates {
            origin: origin.to_owned(),
        });
    }
    Ok(certs)
}

/// Options for [`verify_clearsigned`] and [`verify_detached`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Accept SHA-1 in key binding and self signatures of the trusted
    /// certificates (needed for some third-party repositories with old
    /// keys). Never relaxes data signatures.
    pub allow_sha1_bindings: bool,
    /// Reference time for "is the signature from the future / expired";
    /// `None` means now (with 30 minutes of clock-skew tolerance).
    pub at: Option<SystemTime>,
}

/// The result of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Exactly the signed content (for clearsigned input: the cleartext,
    /// dash-unescaped, with its final line break).
    pub text: Vec<u8>,
    /// Fingerprints (uppercase hex) of the *keys* that made good
    /// signatures: the signing subkey's fingerprint when a subkey signed
    /// (Debian's case), the primary key's when the primary signed. See
    /// [`Verified::signer_certs`] for the owning certificates.
    pub signers: Vec<String>,
    /// Primary key fingerprints of the certificates owning
    /// [`Verified::signers`], index-aligned with it.
    pub signer_certs: Vec<String>,
}

/// Verifies a clearsigned message (`InRelease`) against `keyring`.
pub fn verify_clearsigned(
    keyring: &Keyring,
    data: &[u8],
    opts: &VerifyOptions,
) -> Result<Verified, PgpError> {
    let start = find_clearsign_start(data).ok_or(PgpError::NotClearsigned)?;
    let data = data.get(start..).ok_or(PgpError::NotClearsigned)?;

    let policy = policy(opts);
    let helper = Helper::new(keyring);
    let malformed = |e| PgpError::Malformed {
        what: "cannot parse clearsigned message",
        source: Some(cause(e)),
    };
    let mut verifier = VerifierBuilder::from_bytes(data)
        .map_err(malformed)?
        .with_policy(&policy, opts.at, helper)
        .map_err(malformed)?;
    let mut text = Vec::with_capacity(data.len());
    verifier
        .read_to_end(&mut text)
        .map_err(|e| PgpError::Malformed {
            what: "cannot read clearsigned message",
            source: Some(Box::new(e)),
        })?;
    if !verifier.message_processed() {
        return Err(PgpError::Malformed {
            what: "clearsigned message is incomplete",
            source: None,
        });
    }
    let outcome = verifier.into_helper().outcome.ok_or(PgpError::Malformed {
        what: "clearsigned message carries no signature",
        source: None,
    })?;
    if !outcome.cleartext {
        return Err(PgpError::NotClearsigned);
    }
    let (signers, signer_certs) = outcome.decide()?;
    // The line break before the signature armor belongs to the framework,
    // not to the signed text; sequoia drops it, apt keeps a final `\n`.
    text.push(b'\n');
    Ok(Verified {
        text,
        signers,
        signer_certs,
    })
}

/// Verifies `data` (`Release`) against a detached `signature`
/// (`Release.gpg`, armored or binary).
pub fn verify_detached(
    keyring: &Keyring,
    data: &[u8],
    signature: &[u8],
    opts: &VerifyOptions,
) -> Result<Verified, PgpError> {
    let policy = policy(opts);
    let helper = Helper::new(keyring);
    let malformed = |e| PgpError::Malformed {
        what: "cannot parse detached signature",
        source: Some(cause(e)),
    };
    let mut verifier = DetachedVerifierBuilder::from_bytes(signature)
        .map_err(malformed)?
        .with_policy(&policy, opts.at, helper)
        .map_err(malformed)?;
    verifier.verify_bytes(data).map_err(malformed)?;
    let outcome = verifier.into_helper().outcome.ok_or(PgpError::Malformed {
        what: "detached signature carries no signature",
        source: None,
    })?;
    let (signers, signer_certs) = outcome.decide()?;
    Ok(Verified {
        text: data.to_vec(),
        signers,
        signer_certs,
    })
}

/// Offset of the `-----BEGIN PGP SIGNED MESSAGE-----` line, which must
/// start a line (trailing whitespace / `\r` tolerated, as gpg does).
/// The text of a clearsigned message WITHOUT verifying it: only for mirrors
/// created with an explicit insecure flag. Dash-escaping is undone and the
/// final newline kept, as in [`verify_clearsigned`]'s output.
pub fn clearsigned_text(data: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(data).ok()?;
    let mut lines = text
        .lines()
        .skip_while(|l| l.trim_end() != "-----BEGIN PGP SIGNED MESSAGE-----")
        .skip(1);
    // Armor headers (`Hash: …`) end at the first empty line.
    for line in lines.by_ref() {
        if line.trim_end().is_empty() {
            break;
        }
    }
    let mut out = String::new();
    for line in lines {
        if line.trim_end() == "-----BEGIN PGP SIGNATURE-----" {
            return Some(out.into_bytes());
        }
        out.push_str(line.strip_prefix("- ").unwrap_or(line));
        out.push('\n');
    }
    None
}

fn find_clearsign_start(data: &[u8]) -> Option<usize> {
    let mut offset = 0;
    for line in data.split_inclusive(|&b| b == b'\n') {
        let trimmed = line.trim_ascii_end();
        if trimmed == CLEARSIGN_BEGIN {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

fn policy(opts: &VerifyOptions) -> StandardPolicy<'static> {
    let mut policy = StandardPolicy::new();
    if opts.allow_sha1_bindings {
        // Only the "second pre-image resistance" property: binding and
        // self signatures. Data signatures are checked for collision
        // resistance, which stays rejected for SHA-1.
        policy.accept_hash_property(
            HashAlgorithm::SHA1,
            HashAlgoSecurity::SecondPreImageResistance,
        );
    }
    policy
}

/// What the verifier found, in owned form (no borrows of sequoia state).
#[derive(Default)]
struct Outcome {
    cleartext: bool,
    /// Good signatures: (key fingerprint, primary fingerprint).
    good: Vec<(String, String)>,
    /// Signatures by trusted keys that do not verify.
    bad: Vec<(String, Cause)>,
    /// Signatures by trusted certificates whose key was not valid.
    invalid_key: Vec<(String, Cause)>,
    /// Issuers of signatures by keys not in the keyring.
    untrusted: Vec<String>,
    /// Non-signature layers (compression, encryption) seen.
    unexpected_layers: bool,
}

impl Outcome {
    /// Applies the acceptance rules; returns (signers, signer certs).
    fn decide(self) -> Result<(Vec<String>, Vec<String>), PgpError> {
        if self.unexpected_layers {
            return Err(PgpError::Malformed {
                what: "unexpected compression or encryption layer",
                source: None,
            });
        }
        if let Some((fingerprint, source)) = self.bad.into_iter().next() {
            return Err(PgpError::BadSignature {
                fingerprint,
                source,
            });
        }
        if !self.good.is_empty() {
            return Ok(self.good.into_iter().unzip());
        }
        if let Some((fingerprint, source)) = self.invalid_key.into_iter().next() {
            return Err(PgpError::InvalidSigningKey {
                fingerprint,
                source,
            });
        }
        let signers = if self.untrusted.is_empty() {
            "none".to_owned()
        } else {
            self.untrusted.join(", ")
        };
        Err(PgpError::NoTrustedSignature { signers })
    }
}

struct Helper<'k> {
    keyring: &'k Keyring,
    outcome: Option<Outcome>,
}

impl<'k> Helper<'k> {
    fn new(keyring: &'k Keyring) -> Self {
        Helper {
            keyring,
            outcome: None,
        }
    }
}

/// A readable name for a signature's issuer: fingerprints preferred
/// over key IDs.
fn describe_issuers(handles: &[KeyHandle]) -> String {
    let fprs: Vec<String> = handles
        .iter()
        .filter(|h| matches!(h, KeyHandle::Fingerprint(_)))
        .map(|h| format!("`{}`", h.to_hex()))
        .collect();
    if !fprs.is_empty() {
        return fprs.join("/");
    }
    match handles.first() {
        Some(h) => format!("`{}`", h.to_hex()),
        None => "an unknown key".to_owned(),
    }
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.keyring.lookup(ids).into_iter().cloned().collect())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let mut out = Outcome {
            cleartext: structure.processed_csf_message(),
            ..Outcome::default()
        };
        for layer in structure {
            let results = match layer {
                MessageLayer::SignatureGroup { results } => results,
                _ => {
                    out.unexpected_layers = true;
                    continue;
                }
            };
            for result in results {
                match result {
                    Ok(good) => out.good.push((
                        good.ka.key().fingerprint().to_hex(),
                        good.ka.cert().fingerprint().to_hex(),
                    )),
                    Err(VerificationError::MissingKey { sig }) => {
                        out.untrusted.push(describe_issuers(&sig.get_issuers()));
                    }
                    Err(VerificationError::UnboundKey { cert, error, .. }) => {
                        out.invalid_key
                            .push((cert.fingerprint().to_hex(), cause(error)));
                    }
                    Err(VerificationError::BadKey { ka, error, .. }) => {
                        out.invalid_key
                            .push((ka.key().fingerprint().to_hex(), cause(error)));
                    }
                    Err(VerificationError::BadSignature { ka, error, .. }) => {
                        out.bad
                            .push((ka.key().fingerprint().to_hex(), cause(error)));
                    }
                    Err(VerificationError::MalformedSignature { sig, error }) => {
                        let issuers = sig.get_issuers();
                        if self.keyring.lookup(&issuers).is_empty() {
                            out.untrusted.push(describe_issuers(&issuers));
                        } else {
                            let who = issuers.first().map(KeyHandle::to_hex).unwrap_or_default();
                            out.bad.push((who, cause(error)));
                        }
                    }
                    Err(VerificationError::UnknownSignature { .. }) => {
                        // Unparsable (e.g. unknown version): nobody can
                        // vouch for it; treated like an unknown key.
                        out.untrusted.push("an unparsable signature".to_owned());
                    }
                    Err(other) => {
                        // Future sequoia variants: fail closed.
                        out.bad
                            .push(("unknown".to_owned(), Box::new(openpgp::Error::from(other))));
                    }
                }
            }
        }
        self.outcome = Some(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use openpgp::armor;
    use openpgp::cert::{CertBuilder, CipherSuite};
    use openpgp::crypto::KeyPair;
    use openpgp::packet::key::{Key4, PrimaryRole, SecretParts, SubordinateRole};
    use openpgp::packet::signature::SignatureBuilder;
    use openpgp::packet::{Key, UserID};
    use openpgp::serialize::SerializeInto;
    use openpgp::types::{Curve, KeyFlags, SignatureType};
    use openpgp::{PacketPile, Profile};

    use super::*;
    use crate::pgp::testutil::{TempDir, gpgv, keyring, read, signing_key};
    use crate::pgp::{SigningKey, TESTDATA, sign_clearsigned, sign_detached};

    const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
    const RELEASE: &[u8] = b"Origin: debvault-test\nLabel: debvault-test\nSuite: stable\n\
        Codename: test\nDate: Sat, 01 Jun 2024 00:00:00 UTC\nArchitectures: amd64\n\
        Components: main\nSHA256:\n 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 123 main/binary-amd64/Packages\n\
        -- dash-escaped line\n";

    fn debian_inrelease() -> Vec<u8> {
        read("debian/bookworm-updates.InRelease")
    }

    fn debian_keyring() -> Keyring {
        Keyring::load(&[PathBuf::from(DEBIAN_KEYRING)]).unwrap()
    }

    fn opts() -> VerifyOptions {
        VerifyOptions::default()
    }

    /// The signed text of a clearsigned message as apt extracts it: the
    /// lines after the armor headers up to the signature, each with `\n`
    /// (no dash-escaping present in Release files).
    fn apt_signed_text(data: &[u8]) -> Vec<u8> {
        let s = std::str::from_utf8(data).unwrap();
        let start = s.find("\n\n").unwrap() + 2;
        let end = s.find("\n-----BEGIN PGP SIGNATURE-----").unwrap() + 1;
        s.as_bytes()[start..end].to_vec()
    }

    fn replace_once(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let pos = data.windows(from.len()).position(|w| w == from).unwrap();
        [&data[..pos], to, &data[pos + from.len()..]].concat()
    }

    // ---- real Debian InRelease -------------------------------------------

    #[test]
    fn debian_inrelease_verifies_with_archive_keyring() {
        let keyring = debian_keyring();
        assert!(keyring.len() > 1);
        let data = debian_inrelease();
        let v = verify_clearsigned(&keyring, &data, &opts()).unwrap();
        eprintln!(
            "bookworm-updates InRelease signers (subkeys): {:?}",
            v.signers
        );
        eprintln!("  owning certificates: {:?}", v.signer_certs);
        assert_eq!(v.signers.len(), 2, "Debian signs with two keys");
        for (key, cert) in v.signers.iter().zip(&v.signer_certs) {
            assert_eq!(key.len(), 40);
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
            );
            assert_ne!(key, cert, "Debian signs with subkeys");
            assert!(keyring.fingerprints().contains(cert));
        }
        assert!(v.text.starts_with(b"Origin: Debian\n"));
        assert!(v.text.ends_with(b"\n") && !v.text.ends_with(b"\n\n"));
        assert_eq!(v.text, apt_signed_text(&data));
    }

    #[test]
    fn debian_inrelease_one_byte_change_is_bad_signature() {
        let data = replace_once(&debian_inrelease(), b"Origin: Debian", b"Origin: Debiam");
        let err = verify_clearsigned(&debian_keyring(), &data, &opts()).unwrap_err();
        assert!(matches!(err, PgpError::BadSignature { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("bad signature by trusted key `")
        );
    }

    #[test]
    fn debian_inrelease_with_wrong_keyring_is_untrusted() {
        let err = verify_clearsigned(&keyring("wrong"), &debian_inrelease(), &opts()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, PgpError::NoTrustedSignature { .. }), "{msg}");
        assert!(
            msg.starts_with("no signature from a trusted key (signed by `"),
            "{msg}"
        );
        // Both Debian issuer fingerprints are named.
        assert_eq!(msg.matches('`').count(), 4, "{msg}");
    }

    #[test]
    fn debian_inrelease_verify_timing() {
        let keyring = debian_keyring();
        let data = debian_inrelease();
        verify_clearsigned(&keyring, &data, &opts()).unwrap();
        let n = 50u32;
        let start = Instant::now();
        for _ in 0..n {
            verify_clearsigned(&keyring, &data, &opts()).unwrap();
        }
        let per = start.elapsed() / n;
        eprintln!(
            "verify_clearsigned(bookworm-updates InRelease, {} bytes): {per:?} per call",
            data.len()
        );
        assert!(per < Duration::from_millis(100), "{per:?}");
    }

    // ---- our own signatures -----------------------------------------------

    #[test]
    fn clearsigned_roundtrip_two_keys() {
        let keys = [signing_key("upstream"), signing_key("rotated")];
        let signed = sign_clearsigned(&keys, RELEASE).unwrap();
        assert!(signed.starts_with(b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"));
        for (name, key) in [("upstream", &keys[0]), ("rotated", &keys[1])] {
            let v = verify_clearsigned(&keyring(name), &signed, &opts()).unwrap();
            assert_eq!(v.text, RELEASE, "{name}");
            assert_eq!(v.signers, vec![key.signing_key_fingerprint()]);
            assert_eq!(v.signer_certs, vec![key.fingerprint()]);
        }
        let both = Keyring::load(&[
            Path::new(TESTDATA).join("keys/upstream.pub.asc"),
            Path::new(TESTDATA).join("keys/rotated.pub.asc"),
        ])
        .unwrap();
        let v = verify_clearsigned(&both, &signed, &opts()).unwrap();
        assert_eq!(v.signers.len(), 2);
        let err = verify_clearsigned(&keyring("wrong"), &signed, &opts()).unwrap_err();
        assert!(matches!(err, PgpError::NoTrustedSignature { .. }), "{err}");
        assert!(err.to_string().contains(&keys[0].signing_key_fingerprint()));
    }

    #[test]
    fn detached_roundtrip_and_tamper() {
        let key = signing_key("upstream");
        let sig = sign_detached(std::slice::from_ref(&key), RELEASE).unwrap();
        assert!(sig.starts_with(b"-----BEGIN PGP SIGNATURE-----"));
        let v = verify_detached(&keyring("upstream"), RELEASE, &sig, &opts()).unwrap();
        assert_eq!(v.text, RELEASE);
        assert_eq!(v.signers, vec![key.signing_key_fingerprint()]);

        // Binary (dearmored) signatures are accepted too.
        let binary = dearmor(&sig);
        verify_detached(&keyring("upstream"), RELEASE, &binary, &opts()).unwrap();

        let tampered = replace_once(RELEASE, b"amd64", b"arm64");
        let err = verify_detached(&keyring("upstream"), &tampered, &sig, &opts()).unwrap_err();
        assert!(matches!(err, PgpError::BadSignature { .. }), "{err}");
        let err = verify_detached(&keyring("wrong"), RELEASE, &sig, &opts()).unwrap_err();
        assert!(matches!(err, PgpError::NoTrustedSignature { .. }), "{err}");
        let err = verify_detached(&keyring("upstream"), RELEASE, b"garbage", &opts()).unwrap_err();
        assert!(matches!(err, PgpError::Malformed { .. }), "{err}");
    }

    #[test]
    fn gpgv_accepts_our_signatures() {
        let upstream = signing_key("upstream");
        let rotated = signing_key("rotated");
        let committed = read("keys/upstream.pub.gpg");
        assert_eq!(committed, upstream.public_cert_binary().unwrap());

        let inrelease = sign_clearsigned(std::slice::from_ref(&upstream), RELEASE).unwrap();
        let (ok, stderr) = gpgv(&committed, &[("InRelease", &inrelease)]);
        assert!(ok, "gpgv rejected InRelease: {stderr}");

        let sig = sign_detached(std::slice::from_ref(&upstream), RELEASE).unwrap();
        let (ok, stderr) = gpgv(&committed, &[("Release.gpg", &sig), ("Release", RELEASE)]);
        assert!(ok, "gpgv rejected Release.gpg: {stderr}");

        // Two signatures (Ed25519 + RSA subkeys), keyring with both certs.
        let both = [committed.clone(), rotated.public_cert_binary().unwrap()].concat();
        let inrelease = sign_clearsigned(&[upstream.clone(), rotated.clone()], RELEASE).unwrap();
        let (ok, stderr) = gpgv(&both, &[("InRelease", &inrelease)]);
        assert!(ok, "gpgv rejected two-signature InRelease: {stderr}");
        let sig = sign_detached(&[upstream, rotated], RELEASE).unwrap();
        let (ok, stderr) = gpgv(&both, &[("Release.gpg", &sig), ("Release", RELEASE)]);
        assert!(ok, "gpgv rejected two-signature Release.gpg: {stderr}");

        // Sanity: gpgv does reject a tampered file.
        let tampered = replace_once(&inrelease, b"amd64", b"arm64");
        let (ok, _) = gpgv(&both, &[("InRelease", &tampered)]);
        assert!(!ok);
    }

    #[test]
    fn unverified_text_matches_verified_text() {
        let data = debian_inrelease();
        let verified = verify_clearsigned(&debian_keyring(), &data, &opts()).expect("verify");
        assert_eq!(clearsigned_text(&data), Some(verified.text));
        assert_eq!(clearsigned_text(b"Origin: x\n"), None);
    }

    #[test]
    fn text_outside_signed_part_is_dropped() {
        let signed = sign_clearsigned(&[signing_key("upstream")], RELEASE).unwrap();
        let wrapped = [
            b"Origin: evil\nInjected: before\n\n".as_slice(),
            &signed,
            b"Origin: evil\nInjected: after\n",
        ]
        .concat();
        let v = verify_clearsigned(&keyring("upstream"), &wrapped, &opts()).unwrap();
        assert_eq!(v.text, RELEASE);
    }

    #[test]
    fn non_clearsigned_input_is_rejected() {
        let kr = keyring("upstream");
        let err = verify_clearsigned(&kr, RELEASE, &opts()).unwrap_err();
        assert!(matches!(err, PgpError::NotClearsigned), "{err}");
        let err = verify_clearsigned(&kr, b"", &opts()).unwrap_err();
        assert!(matches!(err, PgpError::NotClearsigned), "{err}");
        // A detached signature alone is not a clearsigned message either.
        let sig = sign_detached(&[signing_key("upstream")], RELEASE).unwrap();
        assert!(verify_clearsigned(&kr, &sig, &opts()).is_err());
        // The BEGIN marker must start a line.
        let signed = sign_clearsigned(&[signing_key("upstream")], RELEASE).unwrap();
        let indented = [b"  ".as_slice(), &signed].concat();
        let err = verify_clearsigned(&kr, &indented, &opts()).unwrap_err();
        assert!(matches!(err, PgpError::NotClearsigned), "{err}");
    }

    #[test]
    fn truncated_clearsigned_input_is_rejected() {
        let kr = keyring("upstream");
        let signed = sign_clearsigned(&[signing_key("upstream")], RELEASE).unwrap();
        let sig_start = signed
            .windows(29)
            .position(|w| w == b"-----BEGIN PGP SIGNATURE-----")
            .unwrap();
        let cuts = [
            40,                // inside the armor headers / text
            sig_start - 1,     // text only, no signature block
            sig_start + 30,    // right after the signature BEGIN line
            sig_start + 60,    // inside the base64
            signed.len() - 32, // inside the END line / checksum
        ];
        for cut in cuts {
            let res = verify_clearsigned(&kr, &signed[..cut], &opts());
            assert!(
                res.is_err(),
                "truncated at {cut} of {} verified",
                signed.len()
            );
        }
        // The whole message still verifies.
        verify_clearsigned(&kr, &signed, &opts()).unwrap();
    }

    #[test]
    fn one_bad_signature_among_good_ones_is_an_error() {
        let upstream = signing_key("upstream");
        let rotated = signing_key("rotated");
        let signed = sign_clearsigned(&[upstream.clone(), rotated.clone()], RELEASE).unwrap();
        let both = Keyring::from_bytes(
            &[
                upstream.public_cert_armored().unwrap(),
                rotated.public_cert_armored().unwrap(),
            ]
            .concat(),
            "both",
        )
        .unwrap();
        assert_eq!(both.len(), 2);
        verify_clearsigned(&both, &signed, &opts()).unwrap();

        let tampered = tamper_clearsigned(&signed, &upstream.signing_key_fingerprint());
        let err = verify_clearsigned(&both, &tampered, &opts()).unwrap_err();
        match &err {
            PgpError::BadSignature { fingerprint, .. } => {
                assert_eq!(fingerprint, &upstream.signing_key_fingerprint());
            }
            other => panic!("expected a bad signature, got {other}"),
        }
        // If the tampered signature's key is not trusted, it is ignored
        // like any unknown signature.
        let v = verify_clearsigned(&keyring("rotated"), &tampered, &opts()).unwrap();
        assert_eq!(v.signers, vec![rotated.signing_key_fingerprint()]);

        // Same for detached signatures.
        let sig = sign_detached(&[upstream.clone(), rotated], RELEASE).unwrap();
        let tampered = tamper_armored_signature(&sig, &upstream.signing_key_fingerprint());
        let err = verify_detached(&both, RELEASE, &tampered, &opts()).unwrap_err();
        assert!(matches!(err, PgpError::BadSignature { .. }), "{err}");
    }

    // ---- keyring loading --------------------------------------------------

    #[test]
    fn keyring_formats_and_errors() {
        let dir = TempDir::new("keyring");
        let bin = Keyring::load(&[Path::new(TESTDATA).join("keys/upstream.pub.gpg")]).unwrap();
        let asc = keyring("upstream");
        assert_eq!(bin.fingerprints(), asc.fingerprints());
        assert_eq!(
            bin.fingerprints(),
            vec![signing_key("upstream").fingerprint()]
        );

        // Several armored blocks in one file, plus a duplicate.
        let multi = [
            read("keys/upstream.pub.asc"),
            b"\n".to_vec(),
            read("keys/rotated.pub.asc"),
            read("keys/upstream.pub.asc"),
        ]
        .concat();
        let multi_path = dir.write("multi.asc", &multi);
        let kr = Keyring::load(std::slice::from_ref(&multi_path)).unwrap();
        assert_eq!(kr.len(), 2);
        // Several files; a secret key file contributes its public part.
        let kr =
            Keyring::load(&[multi_path, Path::new(TESTDATA).join("keys/wrong.sec.asc")]).unwrap();
        assert_eq!(kr.len(), 3);
        assert!(!kr.is_empty());

        let empty = dir.write("empty.gpg", b"");
        let err = Keyring::load(std::slice::from_ref(&empty)).unwrap_err();
        assert!(
            err.to_string().contains(&format!("`{}`", empty.display())),
            "{err}"
        );

        let text = dir.write("text.asc", b"this is not a key\n");
        let err = Keyring::load(std::slice::from_ref(&text)).unwrap_err();
        assert!(
            err.to_string().contains(&format!("`{}`", text.display())),
            "{err}"
        );

        let missing = dir.path().join("missing.gpg");
        let err = Keyring::load(std::slice::from_ref(&missing)).unwrap_err();
        assert!(matches!(err, PgpError::Read { .. }));
        assert!(
            err.to_string()
                .contains(&format!("`{}`", missing.display())),
            "{err}"
        );

        let err = Keyring::from_bytes(b"", "inline").unwrap_err();
        assert_eq!(err.to_string(), "no OpenPGP certificate found in `inline`");

        // An empty keyring trusts nobody.
        let signed = sign_clearsigned(&[signing_key("upstream")], RELEASE).unwrap();
        let err = verify_clearsigned(&Keyring::default(), &signed, &opts()).unwrap_err();
        assert!(matches!(err, PgpError::NoTrustedSignature { .. }));
    }

    // ---- time and policy ----------------------------------------------------

    fn keypair_for_signing(cert: &openpgp::Cert, at: SystemTime) -> KeyPair {
        let p = StandardPolicy::new();
        cert.keys()
            .with_policy(&p, at)
            .secret()
            .for_signing()
            .next()
            .unwrap()
            .key()
            .clone()
            .into_keypair()
            .unwrap()
    }

    /// A binary detached signature made at `time` with `hash`.
    fn detached_at(
        kp: &mut KeyPair,
        data: &[u8],
        time: SystemTime,
        hash: HashAlgorithm,
    ) -> Vec<u8> {
        let sig = SignatureBuilder::new(SignatureType::Binary)
            .set_signature_creation_time(time)
            .unwrap()
            .set_hash_algo(hash)
            .sign_message(kp, data)
            .unwrap();
        openpgp::Packet::from(sig).to_vec().unwrap()
    }

    #[test]
    fn key_expired_now_but_valid_at_signing_time() {
        let day = Duration::from_secs(86400);
        let created = SystemTime::now() - 30 * day;
        let (cert, _) = CertBuilder::new()
            .set_profile(Profile::RFC4880)
            .unwrap()
            .set_cipher_suite(CipherSuite::Cv25519)
            .add_userid("expiring")
            .add_signing_subkey()
            .set_creation_time(created)
            .set_validity_period(10 * day)
            .generate()
            .unwrap();
        let kr = Keyring::from_bytes(&cert.to_vec().unwrap(), "expiring").unwrap();
        let signed_at = created + 5 * day;
        let mut kp = keypair_for_signing(&cert, signed_at);
        let sig = detached_at(&mut kp, RELEASE, signed_at, HashAlgorithm::SHA512);
        let v = verify_detached(&kr, RELEASE, &sig, &opts()).unwrap();
        assert_eq!(v.signer_certs, vec![cert.fingerprint().to_hex()]);

        // Signed after the key expired: not acceptable.
        let late = detached_at(&mut kp, RELEASE, created + 20 * day, HashAlgorithm::SHA512);
        let err = verify_detached(&kr, RELEASE, &late, &opts()).unwrap_err();
        assert!(matches!(err, PgpError::InvalidSigningKey { .. }), "{err}");
    }

    #[test]
    fn signature_from_the_future_is_rejected() {
        let key = signing_key("upstream");
        let cert = openpgp::Cert::from_bytes(&read("keys/upstream.sec.asc")).unwrap();
        let kr = keyring("upstream");
        let now = SystemTime::now();
        let mut kp = keypair_for_signing(&cert, now);

        // Within sequoia's clock-skew tolerance: fine.
        let soon = detached_at(
            &mut kp,
            RELEASE,
            now + Duration::from_secs(60),
            HashAlgorithm::SHA512,
        );
        verify_detached(&kr, RELEASE, &soon, &opts()).unwrap();

        let future = now + Duration::from_secs(6 * 3600);
        let sig = detached_at(&mut kp, RELEASE, future, HashAlgorithm::SHA512);
        let err = verify_detached(&kr, RELEASE, &sig, &opts()).unwrap_err();
        match &err {
            PgpError::BadSignature { fingerprint, .. } => {
                assert_eq!(fingerprint, &key.signing_key_fingerprint());
            }
            other => panic!("expected a bad signature, got {other}"),
        }
        // With an explicit reference time after the signature, it verifies.
        let later = VerifyOptions {
            at: Some(future + Duration::from_secs(1)),
            ..VerifyOptions::default()
        };
        verify_detached(&kr, RELEASE, &sig, &later).unwrap();
    }

    /// A cert whose self signatures (user ID, subkey binding, back
    /// signature) all use SHA-1, as old third-party repository keys do.
    fn sha1_bound_cert() -> (openpgp::Cert, KeyPair) {
        let created = SystemTime::now() - Duration::from_secs(3600);
        let mut primary: Key<SecretParts, PrimaryRole> =
            Key4::generate_ecc(true, Curve::Ed25519).unwrap().into();
        primary.set_creation_time(created).unwrap();
        let mut subkey: Key<SecretParts, SubordinateRole> =
            Key4::generate_ecc(true, Curve::Ed25519).unwrap().into();
        subkey.set_creation_time(created).unwrap();
        let mut primary_signer = primary.clone().into_keypair().unwrap();
        let mut subkey_signer = subkey.clone().into_keypair().unwrap();

        let uid = UserID::from("sha1 bound <sha1@test.invalid>");
        let uid_sig = SignatureBuilder::new(SignatureType::PositiveCertification)
            .set_hash_algo(HashAlgorithm::SHA1)
            .set_key_flags(KeyFlags::empty().set_certification())
            .unwrap()
            .sign_userid_binding(&mut primary_signer, primary.parts_as_public(), &uid)
            .unwrap();
        let backsig = SignatureBuilder::new(SignatureType::PrimaryKeyBinding)
            .set_hash_algo(HashAlgorithm::SHA1)
            .sign_primary_key_binding(&mut subkey_signer, &primary, &subkey)
            .unwrap();
        let sub_sig = SignatureBuilder::new(SignatureType::SubkeyBinding)
            .set_hash_algo(HashAlgorithm::SHA1)
            .set_key_flags(KeyFlags::empty().set_signing())
            .unwrap()
            .set_embedded_signature(backsig)
            .unwrap()
            .sign_subkey_binding(&mut primary_signer, None, &subkey)
            .unwrap();
        let cert = openpgp::Cert::try_from(vec![
            openpgp::Packet::from(primary.parts_into_public()),
            uid.into(),
            uid_sig.into(),
            openpgp::Packet::from(subkey.parts_into_public()),
            sub_sig.into(),
        ])
        .unwrap();
        (cert, subkey_signer)
    }

    #[test]
    fn sha1_bindings_only_with_opt_in_and_never_for_data() {
        let (cert, mut kp) = sha1_bound_cert();
        let kr = Keyring::from_bytes(&cert.to_vec().unwrap(), "sha1").unwrap();
        let now = SystemTime::now();
        let sig = detached_at(&mut kp, RELEASE, now, HashAlgorithm::SHA512);

        let err = verify_detached(&kr, RELEASE, &sig, &opts()).unwrap_err();
        assert!(matches!(err, PgpError::InvalidSigningKey { .. }), "{err}");

        let relaxed = VerifyOptions {
            allow_sha1_bindings: true,
            ..VerifyOptions::default()
        };
        let v = verify_detached(&kr, RELEASE, &sig, &relaxed).unwrap();
        assert_eq!(v.signers, vec![kp.public().fingerprint().to_hex()]);

        // A SHA-1 *data* signature stays rejected, even when relaxed.
        let sha1_sig = detached_at(&mut kp, RELEASE, now, HashAlgorithm::SHA1);
        let err = verify_detached(&kr, RELEASE, &sha1_sig, &relaxed).unwrap_err();
        assert!(matches!(err, PgpError::BadSignature { .. }), "{err}");
    }

    #[test]
    fn errors_are_send_sync_and_chain() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<PgpError>();
        assert_send_sync::<Keyring>();
        assert_send_sync::<SigningKey>();
        let data = replace_once(&debian_inrelease(), b"Origin: Debian", b"Origin: Debiam");
        let err = verify_clearsigned(&debian_keyring(), &data, &opts()).unwrap_err();
        assert!(std::error::Error::source(&err).is_some());
    }

    // ---- signature tampering helpers ---------------------------------------

    fn dearmor(armored: &[u8]) -> Vec<u8> {
        let mut reader = armor::Reader::from_bytes(armored, armor::ReaderMode::Tolerant(None));
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut out).unwrap();
        out
    }

    /// Flips the last byte (inside the signature MPI) of the signature
    /// packet issued by `key_fpr`, leaving the other packets intact.
    fn tamper_armored_signature(armored: &[u8], key_fpr: &str) -> Vec<u8> {
        let pile = PacketPile::from_bytes(&dearmor(armored)).unwrap();
        let mut binary = Vec::new();
        let mut tampered = 0;
        for packet in pile.into_children() {
            let mut bytes = packet.to_vec().unwrap();
            if let openpgp::Packet::Signature(sig) = &packet
                && sig.get_issuers().iter().any(|h| h.to_hex() == key_fpr)
            {
                *bytes.last_mut().unwrap() ^= 0x01;
                tampered += 1;
            }
            binary.extend(bytes);
        }
        assert_eq!(tampered, 1);
        let mut out = Vec::new();
        let mut w = armor::Writer::new(&mut out, armor::Kind::Signature).unwrap();
        w.write_all(&binary).unwrap();
        w.finalize().unwrap();
        out
    }

    fn tamper_clearsigned(signed: &[u8], key_fpr: &str) -> Vec<u8> {
        let marker = b"-----BEGIN PGP SIGNATURE-----";
        let pos = signed
            .windows(marker.len())
            .position(|w| w == marker)
            .unwrap();
        [
            &signed[..pos],
            &tamper_armored_signature(&signed[pos..], key_fpr)[..],
        ]
        .concat()
    }
}
