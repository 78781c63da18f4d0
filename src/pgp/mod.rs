//! OpenPGP support for debvault: verifying upstream `InRelease` /
//! `Release.gpg` files the way apt does, signing our own published
//! `Release` files, and generating signing keys.
//!
//! The module wraps [`sequoia_openpgp`] behind a small, typed API so the
//! rest of the crate never touches sequoia types or `anyhow` errors:
//!
//! - [`verify`]: a [`Keyring`] of trusted certificates and
//!   [`verify_clearsigned`] / [`verify_detached`] with apt/gpgv
//!   acceptance rules;
//! - [`sign`]: a [`SigningKey`] (unlocked secret key) and
//!   [`sign_clearsigned`] / [`sign_detached`];
//! - [`keys`]: [`generate`] a certification primary key with a signing
//!   subkey.
//!
//! All failures are reported as [`PgpError`]. Error messages never
//! contain key material, only file names, origins and fingerprints; the
//! underlying sequoia error is kept as the `source()`.

pub mod keys;
pub mod sha1;
pub mod sign;
pub mod verify;

use std::path::PathBuf;

use crate::exit::{ExitCode, FAILURE, USAGE, VERIFICATION};

pub use keys::{GeneratedKey, KeyAlgo, generate};
pub use sign::{SigningKey, sign_clearsigned, sign_detached};
pub use verify::{
    Keyring, Verified, VerifyOptions, clearsigned_text, verify_clearsigned, verify_detached,
};

/// The underlying cause of a [`PgpError`].
///
/// sequoia reports errors as `anyhow::Error`; they are converted into a
/// boxed standard error at this module's boundary so the error chain
/// (context and root cause) is preserved without exposing `anyhow`.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in [`crate::pgp`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgpError {
    /// A key or keyring file could not be read.
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A key or keyring could not be parsed as OpenPGP certificates.
    #[error("cannot parse OpenPGP key material in `{origin}`")]
    ParseKeys {
        origin: String,
        #[source]
        source: Cause,
    },

    /// A keyring source held no certificate at all.
    #[error("no OpenPGP certificate found in `{origin}`")]
    NoCertificates { origin: String },

    /// A key file held more than one certificate where exactly one is
    /// expected (a signing key).
    #[error("`{origin}` holds {count} certificates, expected exactly one")]
    MultipleCertificates { origin: String, count: usize },

    /// Input to [`verify_clearsigned`] is not a cleartext-signed message.
    #[error(
        "data is not a clearsigned OpenPGP message (no `-----BEGIN PGP SIGNED MESSAGE-----` line)"
    )]
    NotClearsigned,

    /// The signed message or signature could not be parsed (truncated
    /// armor, corrupt packets, unexpected message structure, …).
    #[error("malformed signed data ({what})")]
    Malformed {
        what: &'static str,
        #[source]
        source: Option<Cause>,
    },

    /// No signature was made by a key in the keyring.
    #[error("no signature from a trusted key (signed by {signers})")]
    NoTrustedSignature {
        /// Issuer fingerprints / key IDs of the signatures found, or `none`.
        signers: String,
    },

    /// A signature issued by a trusted key does not verify (tampered
    /// data or signature, weak digest, signature from the future, …).
    #[error("bad signature by trusted key `{fingerprint}`")]
    BadSignature {
        fingerprint: String,
        #[source]
        source: Cause,
    },

    /// Signatures from trusted certificates exist, but the signing key
    /// was not valid (expired, revoked, unbound, not signing-capable)
    /// when the signature was made, and no other signature is good.
    #[error("signature by `{fingerprint}` was made with a key that was not valid at signing time")]
    InvalidSigningKey {
        fingerprint: String,
        #[source]
        source: Cause,
    },

    /// The key file holds no secret key material.
    #[error("`{origin}` holds no secret key material (certificate `{fingerprint}`)")]
    NoSecretKey { origin: String, fingerprint: String },

    /// The certificate has no valid, signing-capable key with secret
    /// key material.
    #[error(
        "certificate `{fingerprint}` in `{origin}` has no usable signing key with secret key material"
    )]
    NoSigningKey {
        origin: String,
        fingerprint: String,
        #[source]
        source: Option<Cause>,
    },

    /// The signing key is passphrase-protected and no passphrase was given.
    #[error(
        "secret key `{fingerprint}` in `{origin}` is passphrase-protected, but no passphrase was given"
    )]
    PassphraseRequired { origin: String, fingerprint: String },

    /// The passphrase did not unlock the signing key.
    #[error("cannot unlock secret key `{fingerprint}` in `{origin}` (wrong passphrase?)")]
    Unlock {
        origin: String,
        fingerprint: String,
        #[source]
        source: Cause,
    },

    /// [`sign_clearsigned`] / [`sign_detached`] were called without keys.
    #[error("no signing key given")]
    NoSigningKeys,

    /// Creating a signature failed.
    #[error("cannot sign with key `{fingerprint}`")]
    Sign {
        /// The signing key(s), comma separated.
        fingerprint: String,
        #[source]
        source: Cause,
    },

    /// Serializing a certificate failed.
    #[error("cannot serialize certificate `{fingerprint}`")]
    Serialize {
        fingerprint: String,
        #[source]
        source: Cause,
    },

    /// Generating a key failed.
    #[error("cannot generate key for `{user_id}`")]
    Generate {
        user_id: String,
        #[source]
        source: Cause,
    },
}

impl ExitCode for PgpError {
    fn exit_code(&self) -> u8 {
        match self {
            PgpError::NotClearsigned
            | PgpError::Malformed { .. }
            | PgpError::NoTrustedSignature { .. }
            | PgpError::BadSignature { .. } => VERIFICATION,
            // Keyrings and keys the operator named or set up.
            PgpError::Read { .. }
            | PgpError::ParseKeys { .. }
            | PgpError::NoCertificates { .. }
            | PgpError::MultipleCertificates { .. }
            | PgpError::InvalidSigningKey { .. }
            | PgpError::NoSecretKey { .. }
            | PgpError::NoSigningKey { .. }
            | PgpError::PassphraseRequired { .. }
            | PgpError::Unlock { .. }
            | PgpError::NoSigningKeys => USAGE,
            PgpError::Sign { .. } | PgpError::Serialize { .. } | PgpError::Generate { .. } => {
                FAILURE
            }
        }
    }
}

/// Converts a sequoia (`anyhow`) error into a [`Cause`].
pub(crate) fn cause(e: sequoia_openpgp::anyhow::Error) -> Cause {
    e.into()
}

/// Path of the shared test material (`testdata/keys`, `testdata/debian`).
#[cfg(test)]
pub(crate) const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");

/// Helpers shared by the tests of the submodules.
#[cfg(test)]
pub(crate) mod testutil {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{Keyring, SigningKey, TESTDATA};

    /// Reads a file below `testdata/`.
    pub fn read(rel: &str) -> Vec<u8> {
        let path = Path::new(TESTDATA).join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Loads `testdata/keys/{name}.sec.asc` (unencrypted).
    pub fn signing_key(name: &str) -> SigningKey {
        let path = Path::new(TESTDATA).join(format!("keys/{name}.sec.asc"));
        SigningKey::load(&path, None).unwrap()
    }

    /// Loads `testdata/keys/{name}.pub.asc`.
    pub fn keyring(name: &str) -> Keyring {
        let path = Path::new(TESTDATA).join(format!("keys/{name}.pub.asc"));
        Keyring::load(&[path]).unwrap()
    }

    /// A scratch directory removed on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> TempDir {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "debvault-pgp-{tag}-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        pub fn write(&self, name: &str, data: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, data).unwrap();
            path
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Runs the real `gpgv` with a binary keyring; `files` are the
    /// arguments after the options (`InRelease`, or `Release.gpg Release`).
    /// Returns (success, stderr).
    pub fn gpgv(keyring_binary: &[u8], files: &[(&str, &[u8])]) -> (bool, String) {
        let dir = TempDir::new("gpgv");
        let keyring = dir.write("trusted.gpg", keyring_binary);
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = Command::new("gpgv");
        cmd.arg("--homedir")
            .arg(&home)
            .arg("--keyring")
            .arg(&keyring);
        for (name, data) in files {
            cmd.arg(dir.write(name, data));
        }
        let out = cmd.output().expect("gpgv is installed");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}
