//! Generating repository signing keys (`debvault key generate`, and the
//! test fixtures).
//!
//! Layout follows Debian's archive keys: a primary key that can only
//! certify, plus one signing subkey that signs the Release files. The
//! primary key can later certify a new signing subkey without clients
//! having to fetch a new certificate fingerprint. Keys never expire
//! (expiry of repository keys is a policy decision made by rotating
//! keys, not by a timer that silently breaks `apt update`).
//!
//! Keys are OpenPGP v4 (RFC 4880 profile) so that every `gpgv`/apt in
//! use accepts them; Ed25519 keys use the widely supported legacy EdDSA
//! encoding.

use sequoia_openpgp as openpgp;

use openpgp::Profile;
use openpgp::cert::{CertBuilder, CipherSuite};
use openpgp::crypto::Password;
use openpgp::serialize::{Serialize, SerializeInto};
use openpgp::types::KeyFlags;

use super::{PgpError, cause};

/// Public key algorithm of a generated key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAlgo {
    /// Ed25519 (fast, small; supported since apt 1.x / GnuPG 2.1).
    #[default]
    Ed25519,
    /// RSA 4096 (for consumers stuck on very old tooling).
    Rsa4096,
}

/// A freshly generated key, serialized.
///
/// `Debug` is deliberately not derived: it would print the secret key.
pub struct GeneratedKey {
    /// The transferable secret key, ASCII-armored (encrypted with the
    /// passphrase if one was given).
    pub secret_armored: Vec<u8>,
    /// The public certificate, ASCII-armored.
    pub public_armored: Vec<u8>,
    /// The public certificate, binary (apt `Signed-By` / `gpgv --keyring`).
    pub public_binary: Vec<u8>,
    /// Primary key fingerprint (uppercase hex, no spaces).
    pub fingerprint: String,
}

/// Generates a certification-only primary key with a signing subkey, no
/// expiry. The user ID is `name <email>` (or just `name`).
pub fn generate(
    name: &str,
    email: Option<&str>,
    algo: KeyAlgo,
    passphrase: Option<&str>,
) -> Result<GeneratedKey, PgpError> {
    let user_id = match email {
        Some(email) => format!("{name} <{email}>"),
        None => name.to_owned(),
    };
    let gen_err = |source| PgpError::Generate {
        user_id: user_id.clone(),
        source,
    };
    if name.trim().is_empty() {
        return Err(gen_err("the name is empty".into()));
    }

    let suite = match algo {
        KeyAlgo::Ed25519 => CipherSuite::Cv25519,
        KeyAlgo::Rsa4096 => CipherSuite::RSA4k,
    };
    let (cert, _revocation) = CertBuilder::new()
        .set_profile(Profile::RFC4880)
        .map_err(|e| gen_err(cause(e)))?
        .set_cipher_suite(suite)
        .add_userid(user_id.as_str())
        .set_primary_key_flags(KeyFlags::empty().set_certification())
        .add_signing_subkey()
        .set_validity_period(None)
        .set_password(passphrase.map(Password::from))
        .generate()
        .map_err(|e| gen_err(cause(e)))?;

    let secret_armored = cert
        .as_tsk()
        .armored()
        .to_vec()
        .map_err(|e| gen_err(cause(e)))?;
    let public_armored = cert.armored().to_vec().map_err(|e| gen_err(cause(e)))?;
    let mut public_binary = Vec::new();
    cert.serialize(&mut public_binary)
        .map_err(|e| gen_err(cause(e)))?;

    Ok(GeneratedKey {
        secret_armored,
        public_armored,
        public_binary,
        fingerprint: cert.fingerprint().to_hex(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::Path;

    use openpgp::Cert;
    use openpgp::parse::Parse;
    use openpgp::policy::StandardPolicy;

    use super::*;
    use crate::pgp::{Keyring, SigningKey, TESTDATA};

    fn check_layout(generated: &GeneratedKey) {
        let cert = Cert::from_bytes(&generated.public_binary).unwrap();
        assert!(!cert.is_tsk(), "public_binary must not carry secrets");
        assert_eq!(cert.fingerprint().to_hex(), generated.fingerprint);
        assert_eq!(cert.primary_key().key().version(), 4);
        let p = StandardPolicy::new();
        let valid = cert.with_policy(&p, None).unwrap();
        let primary_flags = valid.primary_key().key_flags().unwrap();
        assert!(primary_flags.for_certification());
        assert!(!primary_flags.for_signing());
        let signing: Vec<_> = valid.keys().subkeys().for_signing().collect();
        assert_eq!(signing.len(), 1, "exactly one signing subkey");
        assert!(valid.primary_key().key_expiration_time().is_none());
        assert!(signing[0].key_expiration_time().is_none());

        let armored = Cert::from_bytes(&generated.public_armored).unwrap();
        assert_eq!(armored, cert);
        assert!(
            generated
                .secret_armored
                .starts_with(b"-----BEGIN PGP PRIVATE KEY BLOCK-----")
        );
    }

    #[test]
    fn generate_ed25519_layout_and_use() {
        let g = generate(
            "Test Repo",
            Some("repo@example.org"),
            KeyAlgo::Ed25519,
            None,
        )
        .unwrap();
        check_layout(&g);
        let key = SigningKey::from_bytes(&g.secret_armored, None, "generated").unwrap();
        assert_eq!(key.fingerprint(), g.fingerprint);
        assert_eq!(
            key.user_ids(),
            vec!["Test Repo <repo@example.org>".to_owned()]
        );
        assert_ne!(
            key.signing_key_fingerprint(),
            key.fingerprint(),
            "the subkey signs"
        );
        let keyring = Keyring::from_bytes(&g.public_armored, "generated").unwrap();
        assert_eq!(keyring.fingerprints(), vec![g.fingerprint.clone()]);
    }

    #[test]
    fn generate_rsa4096_with_passphrase() {
        let g = generate("RSA Repo", None, KeyAlgo::Rsa4096, Some("pw")).unwrap();
        check_layout(&g);
        let key = SigningKey::from_bytes(&g.secret_armored, Some("pw"), "generated").unwrap();
        assert_eq!(key.user_ids(), vec!["RSA Repo".to_owned()]);
        assert!(matches!(
            SigningKey::from_bytes(&g.secret_armored, None, "generated"),
            Err(PgpError::PassphraseRequired { .. })
        ));
    }

    #[test]
    fn generate_rejects_empty_name() {
        let err = generate("  ", None, KeyAlgo::Ed25519, None).err().unwrap();
        assert!(matches!(err, PgpError::Generate { .. }));
    }

    /// Regenerates the committed fixture keys in `testdata/keys/`.
    /// Run explicitly: `cargo test regenerate_fixture_keys -- --ignored`.
    /// Regenerating changes every fingerprint; only do it on purpose.
    #[test]
    #[ignore = "writes testdata/keys; run on purpose only"]
    fn regenerate_fixture_keys() {
        let dir = Path::new(TESTDATA).join("keys");
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, data: &[u8]| std::fs::write(dir.join(name), data).unwrap();

        let upstream = generate(
            "debvault test upstream (TEST ONLY)",
            Some("upstream@test.invalid"),
            KeyAlgo::Ed25519,
            None,
        )
        .unwrap();
        write("upstream.sec.asc", &upstream.secret_armored);
        write("upstream.pub.asc", &upstream.public_armored);
        write("upstream.pub.gpg", &upstream.public_binary);

        let rotated = generate(
            "debvault test rotated (TEST ONLY)",
            Some("rotated@test.invalid"),
            KeyAlgo::Rsa4096,
            None,
        )
        .unwrap();
        write("rotated.sec.asc", &rotated.secret_armored);
        write("rotated.pub.asc", &rotated.public_armored);

        let wrong = generate(
            "debvault test wrong (TEST ONLY)",
            Some("wrong@test.invalid"),
            KeyAlgo::Ed25519,
            None,
        )
        .unwrap();
        write("wrong.sec.asc", &wrong.secret_armored);
        write("wrong.pub.asc", &wrong.public_armored);

        let encrypted = generate(
            "debvault test encrypted (TEST ONLY)",
            Some("encrypted@test.invalid"),
            KeyAlgo::Ed25519,
            Some("test-passphrase"),
        )
        .unwrap();
        write("encrypted.sec.asc", &encrypted.secret_armored);
        write("encrypted.pub.asc", &encrypted.public_armored);
    }
}
