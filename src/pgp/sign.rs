//! Signing our own published `Release` files: `InRelease`
//! (cleartext-signed) and `Release.gpg` (detached, ASCII-armored).
//!
//! A [`SigningKey`] is a certificate whose signing key has been unlocked
//! once at load time; the secret key material stays in sequoia's
//! protected memory and is never printed (`Debug` shows only the
//! fingerprint). Several keys can sign the same file, one signature per
//! key, which is how key rotation works: publish with the old and the
//! new key until every client trusts the new one.
//!
//! Signatures use SHA-512 and are OpenPGP v4 (accepted by every apt /
//! `gpgv` in use).
//!
//! Cleartext signing caveat: the cleartext signature framework ignores
//! trailing whitespace (spaces, tabs) at the end of lines, and sequoia
//! strips it from the emitted text as well; it also adds a final line
//! break if the text lacks one. Release files produced by debvault have
//! neither trailing whitespace nor a missing final newline, so the
//! signed text is byte-identical to the input.

use std::fmt;
use std::io::Write;
use std::path::Path;

use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::armor;
use openpgp::cert::CertParser;
use openpgp::crypto::{KeyPair, Password};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use openpgp::serialize::{Serialize, SerializeInto};
use openpgp::types::HashAlgorithm;

use super::{PgpError, cause};

/// A certificate with an unlocked signing key.
#[derive(Clone)]
pub struct SigningKey {
    /// Public certificate (secret key material stripped).
    cert: Cert,
    /// The unlocked signing (sub)key.
    keypair: KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.fingerprint())
            .field("signing_key", &self.keypair.public().fingerprint().to_hex())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a transferable secret key (armored or binary) from `path`.
    ///
    /// `passphrase` is required if the secret signing key is encrypted.
    pub fn load(path: &Path, passphrase: Option<&str>) -> Result<SigningKey, PgpError> {
        let data =
            crate::capped::read(path, crate::capped::KEYRING).map_err(|source| PgpError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        SigningKey::from_bytes(&data, passphrase, &path.display().to_string())
    }

    /// Parses a transferable secret key from memory; `origin` names it in
    /// errors.
    ///
    /// The newest valid, signing-capable key (primary or subkey) that has
    /// secret key material is selected and unlocked.
    pub fn from_bytes(
        data: &[u8],
        passphrase: Option<&str>,
        origin: &str,
    ) -> Result<SigningKey, PgpError> {
        let parse_err = |e| PgpError::ParseKeys {
            origin: origin.to_owned(),
            source: cause(e),
        };
        let mut certs = Vec::new();
        for cert in CertParser::from_bytes(data).map_err(parse_err)? {
            certs.push(cert.map_err(parse_err)?);
        }
        let cert = match certs.len() {
            0 => {
                return Err(PgpError::NoCertificates {
                    origin: origin.to_owned(),
                });
            }
            1 => certs.remove(0),
            count => {
                return Err(PgpError::MultipleCertificates {
                    origin: origin.to_owned(),
                    count,
                });
            }
        };
        let fingerprint = cert.fingerprint().to_hex();
        if !cert.is_tsk() {
            return Err(PgpError::NoSecretKey {
                origin: origin.to_owned(),
                fingerprint,
            });
        }

        let policy = StandardPolicy::new();
        let no_signing_key = |source| PgpError::NoSigningKey {
            origin: origin.to_owned(),
            fingerprint: fingerprint.clone(),
            source,
        };
        let valid = cert
            .with_policy(&policy, None)
            .map_err(|e| no_signing_key(Some(cause(e))))?;
        let key = valid
            .keys()
            .secret()
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .max_by_key(|ka| ka.key().creation_time())
            .map(|ka| ka.key().clone())
            .ok_or_else(|| no_signing_key(None))?;

        let key = if key.has_unencrypted_secret() {
            key
        } else {
            let key_fpr = key.fingerprint().to_hex();
            let passphrase = passphrase.ok_or_else(|| PgpError::PassphraseRequired {
                origin: origin.to_owned(),
                fingerprint: key_fpr.clone(),
            })?;
            key.decrypt_secret(&Password::from(passphrase))
                .map_err(|e| PgpError::Unlock {
                    origin: origin.to_owned(),
                    fingerprint: key_fpr,
                    source: cause(e),
                })?
        };
        let keypair = key
            .into_keypair()
            .map_err(|e| no_signing_key(Some(cause(e))))?;

        Ok(SigningKey {
            cert: cert.strip_secret_key_material(),
            keypair,
        })
    }

    /// Primary key fingerprint (uppercase hex, no spaces).
    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    /// Fingerprint of the (sub)key that actually makes the signatures.
    pub fn signing_key_fingerprint(&self) -> String {
        self.keypair.public().fingerprint().to_hex()
    }

    /// User IDs of the certificate (lossy UTF-8).
    pub fn user_ids(&self) -> Vec<String> {
        self.cert
            .userids()
            .map(|ua| String::from_utf8_lossy(ua.userid().value()).into_owned())
            .collect()
    }

    /// The public certificate, ASCII-armored (for `key export`).
    pub fn public_cert_armored(&self) -> Result<Vec<u8>, PgpError> {
        self.cert
            .armored()
            .to_vec()
            .map_err(|e| PgpError::Serialize {
                fingerprint: self.fingerprint(),
                source: cause(e),
            })
    }

    /// The public certificate, binary (for apt's `Signed-By` keyrings
    /// and `gpgv --keyring`).
    pub fn public_cert_binary(&self) -> Result<Vec<u8>, PgpError> {
        let mut out = Vec::new();
        self.cert
            .serialize(&mut out)
            .map_err(|e| PgpError::Serialize {
                fingerprint: self.fingerprint(),
                source: cause(e),
            })?;
        Ok(out)
    }
}

/// Produces a cleartext-signed message (`InRelease`) with one SHA-512
/// signature per key. See the module docs about trailing whitespace.
///
/// `text` should end with a line break (a Release file does). Like
/// `gpg --clearsign`, the final line break is emitted but not signed: it
/// is the line ending before `-----BEGIN PGP SIGNATURE-----`, and
/// [`crate::pgp::verify_clearsigned`] restores it, so verifying the
/// output yields `text` again.
pub fn sign_clearsigned(keys: &[SigningKey], text: &[u8]) -> Result<Vec<u8>, PgpError> {
    // sequoia signs its input verbatim: "a\n" would be signed as "a\n"
    // and emitted as "a\n\n-----BEGIN PGP SIGNATURE-----" (an extra
    // blank line in what apt extracts). Hand it the text without its
    // final newline; sequoia then writes exactly one line break before
    // the signature, as gpg and the Debian archive do.
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    sign(keys, text, Mode::Cleartext)
}

/// Produces an ASCII-armored detached signature (`Release.gpg`) over
/// `data`, one SHA-512 signature per key.
pub fn sign_detached(keys: &[SigningKey], data: &[u8]) -> Result<Vec<u8>, PgpError> {
    sign(keys, data, Mode::Detached)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Cleartext,
    Detached,
}

fn sign(keys: &[SigningKey], data: &[u8], mode: Mode) -> Result<Vec<u8>, PgpError> {
    let (first, rest) = keys.split_first().ok_or(PgpError::NoSigningKeys)?;
    let sign_err = |e| PgpError::Sign {
        fingerprint: keys
            .iter()
            .map(SigningKey::signing_key_fingerprint)
            .collect::<Vec<_>>()
            .join(", "),
        source: cause(e),
    };

    let mut sink = Vec::with_capacity(data.len() + 1024 * keys.len());
    {
        let message = Message::new(&mut sink);
        let message = match mode {
            Mode::Cleartext => message,
            Mode::Detached => Armorer::new(message)
                .kind(armor::Kind::Signature)
                .build()
                .map_err(sign_err)?,
        };
        let mut signer = Signer::new(message, first.keypair.clone()).map_err(sign_err)?;
        for key in rest {
            signer = signer.add_signer(key.keypair.clone()).map_err(sign_err)?;
        }
        signer = signer.hash_algo(HashAlgorithm::SHA512).map_err(sign_err)?;
        signer = match mode {
            Mode::Cleartext => signer.cleartext(),
            Mode::Detached => signer.detached(),
        };
        let mut writer = signer.build().map_err(sign_err)?;
        writer
            .write_all(data)
            .map_err(|e| sign_err(openpgp::anyhow::Error::from(e)))?;
        writer.finalize().map_err(sign_err)?;
    }
    Ok(sink)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::Path;

    use super::*;
    use crate::pgp::testutil::{TempDir, gpgv, keyring, read, signing_key};
    use crate::pgp::{Keyring, TESTDATA, VerifyOptions, verify_clearsigned, verify_detached};

    const TEXT: &[u8] = b"Origin: test\nSuite: stable\n-leading dash\n";

    fn encrypted_path() -> std::path::PathBuf {
        Path::new(TESTDATA).join("keys/encrypted.sec.asc")
    }

    #[test]
    fn encrypted_key_needs_the_right_passphrase() {
        let path = encrypted_path();
        let err = SigningKey::load(&path, None).unwrap_err();
        assert!(matches!(err, PgpError::PassphraseRequired { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&format!("`{}`", path.display())), "{msg}");
        assert!(msg.contains("passphrase"), "{msg}");

        let err = SigningKey::load(&path, Some("not-the-passphrase")).unwrap_err();
        assert!(matches!(err, PgpError::Unlock { .. }), "{err}");
        assert!(!err.to_string().contains("not-the-passphrase"));

        let key = SigningKey::load(&path, Some("test-passphrase")).unwrap();
        let signed = sign_clearsigned(std::slice::from_ref(&key), TEXT).unwrap();
        let kr = keyring("encrypted");
        let v = verify_clearsigned(&kr, &signed, &VerifyOptions::default()).unwrap();
        assert_eq!(v.text, TEXT);
        assert_eq!(v.signer_certs, vec![key.fingerprint()]);
    }

    #[test]
    fn unencrypted_key_ignores_passphrase() {
        let path = Path::new(TESTDATA).join("keys/upstream.sec.asc");
        let key = SigningKey::load(&path, Some("whatever")).unwrap();
        assert_eq!(key.fingerprint(), signing_key("upstream").fingerprint());
    }

    #[test]
    fn public_key_is_not_a_signing_key() {
        let err = SigningKey::from_bytes(&read("keys/upstream.pub.asc"), None, "pub").unwrap_err();
        assert!(matches!(err, PgpError::NoSecretKey { .. }), "{err}");
        let err = SigningKey::from_bytes(b"garbage", None, "garbage").unwrap_err();
        assert!(
            matches!(
                err,
                PgpError::ParseKeys { .. } | PgpError::NoCertificates { .. }
            ),
            "{err}"
        );
        let two = [read("keys/upstream.sec.asc"), read("keys/wrong.sec.asc")].concat();
        let err = SigningKey::from_bytes(&two, None, "two").unwrap_err();
        assert!(
            matches!(err, PgpError::MultipleCertificates { count: 2, .. }),
            "{err}"
        );
        let err = SigningKey::load(Path::new("/nonexistent/key.asc"), None).unwrap_err();
        assert!(matches!(err, PgpError::Read { .. }), "{err}");
    }

    #[test]
    fn binary_secret_key_loads() {
        use openpgp::serialize::SerializeInto;
        let cert = Cert::from_bytes(&read("keys/upstream.sec.asc")).unwrap();
        let binary = cert.as_tsk().to_vec().unwrap();
        let dir = TempDir::new("binkey");
        let path = dir.write("upstream.sec.gpg", &binary);
        let key = SigningKey::load(&path, None).unwrap();
        assert_eq!(key.fingerprint(), cert.fingerprint().to_hex());
    }

    #[test]
    fn no_keys_is_an_error() {
        assert!(matches!(
            sign_clearsigned(&[], TEXT),
            Err(PgpError::NoSigningKeys)
        ));
        assert!(matches!(
            sign_detached(&[], TEXT),
            Err(PgpError::NoSigningKeys)
        ));
    }

    #[test]
    fn exports_and_metadata() {
        let key = signing_key("upstream");
        assert_eq!(
            key.public_cert_binary().unwrap(),
            read("keys/upstream.pub.gpg")
        );
        let armored = key.public_cert_armored().unwrap();
        assert!(armored.starts_with(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        let kr = Keyring::from_bytes(&armored, "export").unwrap();
        assert_eq!(kr.fingerprints(), vec![key.fingerprint()]);
        assert_eq!(
            key.user_ids(),
            vec!["debvault test upstream (TEST ONLY) <upstream@test.invalid>".to_owned()]
        );
        let debug = format!("{key:?}");
        assert!(debug.contains(&key.fingerprint()), "{debug}");
        assert!(!debug.to_lowercase().contains("secret:"), "{debug}");
    }

    #[test]
    fn clearsigned_output_matches_gpg_layout() {
        let key = signing_key("upstream");
        let signed = sign_clearsigned(std::slice::from_ref(&key), TEXT).unwrap();
        let s = String::from_utf8(signed.clone()).unwrap();
        // Exactly one line break between the text and the signature, as in
        // gpg's (and the Debian archive's) InRelease files.
        assert!(
            s.contains("-leading dash\n-----BEGIN PGP SIGNATURE-----"),
            "{s}"
        );
        assert!(s.contains("\n- -leading dash\n"), "dash-escaped: {s}");
        assert!(s.ends_with("-----END PGP SIGNATURE-----\n"), "{s}");

        // gpgv writes out the signed text: it must equal the input.
        let dir = TempDir::new("gpgv-out");
        let keyring = dir.write("k.gpg", &key.public_cert_binary().unwrap());
        let input = dir.write("InRelease", &signed);
        let out = dir.path().join("Release");
        let status = std::process::Command::new("gpgv")
            .arg("--homedir")
            .arg(dir.path())
            .arg("--keyring")
            .arg(&keyring)
            .arg("--output")
            .arg(&out)
            .arg(&input)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        assert_eq!(std::fs::read(&out).unwrap(), TEXT);
    }

    #[test]
    fn detached_signature_accepted_by_gpgv_with_binary_keyring() {
        let key = signing_key("rotated");
        let sig = sign_detached(std::slice::from_ref(&key), TEXT).unwrap();
        let (ok, stderr) = gpgv(
            &key.public_cert_binary().unwrap(),
            &[("Release.gpg", &sig), ("Release", TEXT)],
        );
        assert!(ok, "{stderr}");
        verify_detached(&keyring("rotated"), TEXT, &sig, &VerifyOptions::default()).unwrap();
    }
}
