//! The operator's signing keys: generated or imported into `<root>/keys/`.
//!
//! Each secret key is one file `<FINGERPRINT>.sec.asc`, created 0600 in a
//! 0700 directory and written atomically. Every key in the directory signs
//! every Release, so a new key can be rolled out beside the old one before the
//! old one is removed (rotation without a flag day). An encrypted key's
//! passphrase comes from `DEBVAULT_KEY_PASSPHRASE` or the file named by
//! `DEBVAULT_KEY_PASSPHRASE_FILE`, never from a prompt. [`generate_key`] and
//! [`import_key`] are the use cases: the key change and its audit record.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::atomic_file::{self, WriteOptions};
use crate::capped;
use crate::db::{AuditEvent, Db, DbError};
use crate::exit::{ExitCode, FAILURE, USAGE, VERIFICATION};
use crate::pgp::{KeyAlgo, Keyring, PgpError, SigningKey, generate};

/// Key store failures, naming the file or fingerprint.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Filesystem.
    #[error("cannot {action} `{path}`")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// OpenPGP.
    #[error(transparent)]
    Pgp(#[from] PgpError),
    /// The key is there already.
    #[error("key `{0}` is already in the key store")]
    Exists(String),
    /// No keys.
    #[error("no signing key in `{0}`: run `debvault key generate` or `debvault key import FILE`")]
    Empty(PathBuf),
    /// `key remove` names no stored key, or several.
    #[error("{0}")]
    NoSuchKey(String),
    /// A key file in a backup has a name that is not `<FINGERPRINT>.sec.asc`.
    #[error("`{0}` is not a signing key file name (`<FINGERPRINT>.sec.asc`)")]
    BadFileName(String),
    /// The audit trail could not record a key change.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ExitCode for KeyError {
    fn exit_code(&self) -> u8 {
        match self {
            KeyError::Pgp(e) => e.exit_code(),
            KeyError::Db(e) => e.exit_code(),
            // No key to sign with: set one up first.
            KeyError::Empty(_) | KeyError::NoSuchKey(_) => USAGE,
            // Like a mirror or snapshot name already taken.
            KeyError::Exists(_) => USAGE,
            // A key or passphrase file past its cap was named by the operator.
            KeyError::Io { source, .. } if capped::is_too_large(source) => USAGE,
            KeyError::Io { .. } => FAILURE,
            // A backup that carries a malformed key file.
            KeyError::BadFileName(_) => VERIFICATION,
        }
    }
}

/// One stored key, as listed.
#[derive(Clone, Debug, Serialize)]
pub struct KeyInfo {
    /// Primary key fingerprint.
    pub fingerprint: String,
    /// User IDs (empty when the key is encrypted and no passphrase is set).
    pub user_ids: Vec<String>,
    /// Whether the secret key is passphrase-protected and could not be unlocked.
    pub locked: bool,
    /// The key file.
    pub path: PathBuf,
}

/// The key directory.
pub struct KeyStore {
    dir: PathBuf,
    passphrase: Option<String>,
}

impl KeyStore {
    /// The store at `dir`; `passphrase` unlocks encrypted keys.
    pub fn new(dir: PathBuf, passphrase: Option<String>) -> KeyStore {
        KeyStore { dir, passphrase }
    }

    fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> KeyError {
        let path = path.to_owned();
        move |source| KeyError::Io {
            action,
            path,
            source,
        }
    }

    /// Generates a key and stores it (encrypted with the passphrase when one is set).
    pub fn generate(
        &self,
        name: &str,
        email: Option<&str>,
        algo: KeyAlgo,
    ) -> Result<KeyInfo, KeyError> {
        let key = generate(name, email, algo, self.passphrase.as_deref())?;
        self.store(&key.fingerprint, &key.secret_armored)
    }

    /// Imports an armored or binary secret key after checking that it can sign.
    pub fn import(&self, file: &Path) -> Result<KeyInfo, KeyError> {
        let data = capped::read(file, capped::KEYRING).map_err(Self::io("read", file))?;
        let key = SigningKey::from_bytes(
            &data,
            self.passphrase.as_deref(),
            &file.display().to_string(),
        )?;
        self.store(&key.fingerprint(), &data)
    }

    fn store(&self, fingerprint: &str, data: &[u8]) -> Result<KeyInfo, KeyError> {
        atomic_file::create_dir_all(&self.dir, atomic_file::PRIVATE_DIR)
            .map_err(Self::io("create", &self.dir))?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
            .map_err(Self::io("protect", &self.dir))?;
        let path = self.dir.join(format!("{fingerprint}.sec.asc"));
        if path.exists() {
            return Err(KeyError::Exists(fingerprint.to_owned()));
        }
        atomic_file::write(&path, data, WriteOptions::PRIVATE.no_clobber()).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists(fingerprint.to_owned())
            } else {
                Self::io("store", &path)(e)
            }
        })?;
        self.info(&path)
    }

    fn info(&self, path: &Path) -> Result<KeyInfo, KeyError> {
        let data = capped::read(path, capped::KEYRING).map_err(Self::io("read", path))?;
        let origin = path.display().to_string();
        match SigningKey::from_bytes(&data, self.passphrase.as_deref(), &origin) {
            Ok(key) => Ok(KeyInfo {
                fingerprint: key.fingerprint(),
                user_ids: key.user_ids(),
                locked: false,
                path: path.to_owned(),
            }),
            Err(
                PgpError::PassphraseRequired { fingerprint, .. }
                | PgpError::Unlock { fingerprint, .. },
            ) => Ok(KeyInfo {
                fingerprint,
                user_ids: Vec::new(),
                locked: true,
                path: path.to_owned(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    fn files(&self) -> Result<Vec<PathBuf>, KeyError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Self::io("list", &self.dir)(e)),
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".sec.asc") && !n.starts_with('.'))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// Every secret key file, by name, with its content (for `db backup`).
    pub fn secret_files(&self) -> Result<Vec<(String, Vec<u8>)>, KeyError> {
        let mut out = Vec::new();
        for p in self.files()? {
            let data = fs::read(&p).map_err(Self::io("read", &p))?;
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            out.push((name, data));
        }
        Ok(out)
    }

    /// Puts the secret key files `files` (from `db backup`) into the store:
    /// those it lacks are written (0600, never over a file), those it has
    /// are left as they are. Returns each name with whether it was written.
    pub fn restore_files(
        &self,
        files: &[(String, Vec<u8>)],
    ) -> Result<Vec<(String, bool)>, KeyError> {
        let mut out = Vec::new();
        for (name, data) in files {
            let stem = name.strip_suffix(".sec.asc").unwrap_or_default();
            if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(KeyError::BadFileName(name.clone()));
            }
            fs::create_dir_all(&self.dir).map_err(Self::io("create", &self.dir))?;
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
                .map_err(Self::io("protect", &self.dir))?;
            let path = self.dir.join(name);
            match atomic_file::write(&path, data, WriteOptions::PRIVATE.no_clobber()) {
                Ok(()) => out.push((name.clone(), true)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    out.push((name.clone(), false));
                }
                Err(e) => return Err(Self::io("store", &path)(e)),
            }
        }
        Ok(out)
    }

    /// Makes the key directory 0700 and every secret key file in it (and
    /// in `removed/`) 0600 where someone else could read them, whatever
    /// put them there (a copy by hand, a restore, a loose umask). Returns
    /// what was tightened, with the mode it had, for a warning.
    pub fn tighten(&self) -> Result<Vec<(PathBuf, u32)>, KeyError> {
        let mut out = Vec::new();
        let mut fix = |path: &Path, private: u32| -> Result<(), KeyError> {
            let meta = match fs::symlink_metadata(path) {
                Ok(m) if m.is_file() || m.is_dir() => m,
                _ => return Ok(()),
            };
            if let Some(mode) =
                atomic_file::take_back(path, &meta, private).map_err(Self::io("protect", path))?
            {
                out.push((path.to_owned(), mode));
            }
            Ok(())
        };
        fix(&self.dir, 0o700)?;
        let removed = self.dir.join("removed");
        fix(&removed, 0o700)?;
        for dir in [&self.dir, &removed] {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                let secret = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains(".sec.asc"));
                if secret {
                    fix(&path, 0o600)?;
                }
            }
        }
        Ok(out)
    }

    /// Every stored key.
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeyError> {
        self.files()?.iter().map(|p| self.info(p)).collect()
    }

    /// Every stored key, unlocked for signing.
    pub fn signing_keys(&self) -> Result<Vec<SigningKey>, KeyError> {
        let files = self.files()?;
        if files.is_empty() {
            return Err(KeyError::Empty(self.dir.clone()));
        }
        files
            .iter()
            .map(|p| Ok(SigningKey::load(p, self.passphrase.as_deref())?))
            .collect()
    }

    /// Takes the key whose fingerprint is, or ends with, `id` (at least 16
    /// hex digits: a long key ID) out of signing: its file moves to
    /// `removed/` beside the keys, so a mistake can be undone by moving it
    /// back. Returns the key and where its file went.
    pub fn remove(&self, id: &str) -> Result<(KeyInfo, PathBuf), KeyError> {
        let id = id.trim().to_ascii_uppercase().replace(' ', "");
        if id.len() < 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyError::NoSuchKey(format!(
                "`{id}` is not a key fingerprint or long key ID (16 or more hex digits; see `debvault key list`)"
            )));
        }
        let mut matching = Vec::new();
        for p in self.files()? {
            let info = self.info(&p)?;
            if info.fingerprint.to_ascii_uppercase().ends_with(&id) {
                matching.push(info);
            }
        }
        let info = match matching.len() {
            1 => matching.remove(0),
            0 => {
                return Err(KeyError::NoSuchKey(format!(
                    "no signing key `{id}` in the key store (see `debvault key list`)"
                )));
            }
            n => {
                return Err(KeyError::NoSuchKey(format!(
                    "`{id}` matches {n} keys: give the whole fingerprint"
                )));
            }
        };
        let removed = self.dir.join("removed");
        fs::create_dir_all(&removed).map_err(Self::io("create", &removed))?;
        fs::set_permissions(&removed, fs::Permissions::from_mode(0o700))
            .map_err(Self::io("protect", &removed))?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let dest = removed.join(format!("{}.sec.asc.{stamp}", info.fingerprint));
        fs::rename(&info.path, &dest).map_err(Self::io("move aside", &info.path))?;
        Ok((info, dest))
    }

    /// The public certificates of every key, for `/etc/apt/keyrings/` and
    /// `signed-by=`: binary (concatenated) or ASCII-armored.
    pub fn export(&self, armor: bool) -> Result<Vec<u8>, KeyError> {
        let files = self.files()?;
        if files.is_empty() {
            return Err(KeyError::Empty(self.dir.clone()));
        }
        let mut out = Vec::new();
        for p in &files {
            let data = capped::read(p, capped::KEYRING).map_err(Self::io("read", p))?;
            // The public half needs no passphrase: strip secrets by parsing as a keyring.
            let public = Keyring::from_bytes(&data, &p.display().to_string())?;
            out.extend(if armor {
                public.export_armored()?
            } else {
                public.export_binary()?
            });
        }
        Ok(out)
    }
}

/// Generates a key into `store` and records it (`key-generate`) in the audit trail.
pub fn generate_key(
    db: &mut Db,
    store: &KeyStore,
    name: &str,
    email: Option<&str>,
    algo: KeyAlgo,
) -> Result<KeyInfo, KeyError> {
    let info = store.generate(name, email, algo)?;
    audit_key(db, "key-generate", &info)?;
    Ok(info)
}

/// Imports the secret key in `file` into `store` and records it
/// (`key-import`) in the audit trail.
pub fn import_key(db: &mut Db, store: &KeyStore, file: &Path) -> Result<KeyInfo, KeyError> {
    let info = store.import(file)?;
    audit_key(db, "key-import", &info)?;
    Ok(info)
}

/// Takes the key `id` out of signing (see [`KeyStore::remove`]) and
/// records it (`key-remove`) in the audit trail. Returns the key, where its
/// file went, and how many keys are left to sign with.
pub fn remove_key(
    db: &mut Db,
    store: &KeyStore,
    id: &str,
) -> Result<(KeyInfo, PathBuf, usize), KeyError> {
    let (info, dest) = store.remove(id)?;
    audit_key(db, "key-remove", &info)?;
    Ok((info, dest, store.files()?.len()))
}

fn audit_key(db: &mut Db, action: &'static str, info: &KeyInfo) -> Result<(), KeyError> {
    let subject = format!("signing key `{}`", info.fingerprint);
    Ok(db.audit(&AuditEvent::new(action, subject))?)
}

/// The key passphrase from `DEBVAULT_KEY_PASSPHRASE` or `DEBVAULT_KEY_PASSPHRASE_FILE`.
pub fn passphrase_from_env(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, KeyError> {
    if let Some(p) = env("DEBVAULT_KEY_PASSPHRASE").filter(|p| !p.is_empty()) {
        return Ok(Some(p));
    }
    match env("DEBVAULT_KEY_PASSPHRASE_FILE").filter(|p| !p.is_empty()) {
        Some(file) => {
            let path = PathBuf::from(file);
            let text = capped::read_to_string(&path, capped::SECRET)
                .map_err(KeyStore::io("read passphrase file", &path))?;
            Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
        }
        None => Ok(None),
    }
}
