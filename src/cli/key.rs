//! `debvault key …`: the operator's signing keys.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use super::Globals;
use super::failure::{Context as _, Result};
use crate::ops::keys::{self, KeyInfo, KeyStore, passphrase_from_env};
use crate::pgp::KeyAlgo;

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Generate a signing key (encrypted when DEBVAULT_KEY_PASSPHRASE is set)
    Generate {
        /// Name in the key's user ID
        #[arg(long, default_value = "debvault repository signing key")]
        name: String,
        /// Email in the key's user ID
        #[arg(long)]
        email: Option<String>,
        /// Key algorithm
        #[arg(long, value_enum, default_value_t = Algo::Ed25519)]
        algo: Algo,
    },
    /// Import an armored or binary secret key
    Import {
        /// The key file
        file: PathBuf,
    },
    /// Print the public keys, for /etc/apt/keyrings/ and `signed-by=`
    Export {
        /// ASCII armor instead of a binary keyring
        #[arg(long)]
        armor: bool,
        /// Write to this file instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List the signing keys
    List,
    /// Stop signing with a key (its file is kept aside under keys/removed/)
    Remove {
        /// Fingerprint or long key ID (16+ hex digits), as `key list` prints it
        id: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Algo {
    Ed25519,
    Rsa4096,
}

pub(crate) fn run(cmd: KeyCommand, g: &Globals) -> Result<u8> {
    let settings = g.settings()?;
    g.tighten_keys(&settings)?;
    let store = KeyStore::new(
        settings.root.join("keys"),
        passphrase_from_env(&|k| std::env::var(k).ok())?,
    );
    match cmd {
        KeyCommand::Generate { name, email, algo } => {
            let algo = match algo {
                Algo::Ed25519 => KeyAlgo::Ed25519,
                Algo::Rsa4096 => KeyAlgo::Rsa4096,
            };
            let mut ctx = g.context()?;
            let info = keys::generate_key(&mut ctx.db, &store, &name, email.as_deref(), algo)?;
            confirm(g, "generated", &info)?;
        }
        KeyCommand::Import { file } => {
            let mut ctx = g.context()?;
            let info = keys::import_key(&mut ctx.db, &store, &file)?;
            confirm(g, "imported", &info)?;
        }
        KeyCommand::Export { armor, output } => {
            let data = store.export(armor)?;
            match output {
                Some(path) => std::fs::write(&path, data)
                    .with_context(|| format!("cannot write `{}`", path.display()))?,
                None => g.out.raw(&data)?,
            }
        }
        KeyCommand::Remove { id } => {
            let mut ctx = g.context()?;
            let (info, dest, left) = keys::remove_key(&mut ctx.db, &store, &id)?;
            if left == 0 {
                g.out.warn(
                    "no signing key left: publishing needs `debvault key generate` or `debvault key import` first",
                );
            }
            let v = serde_json::json!({"removed": info, "kept_at": dest, "keys_left": left});
            g.out.done(&v, |out| {
                writeln!(
                    out,
                    "removed key {} from signing; its file is kept at `{}` (delete it to destroy the key)",
                    info.fingerprint,
                    dest.display()
                )?;
                Ok(())
            })?;
        }
        KeyCommand::List => {
            let keys = store.list()?;
            if keys.is_empty() {
                g.out
                    .note("no signing keys; create one with `debvault key generate`");
            }
            g.out.data(&keys, |out| {
                for k in &keys {
                    let who = if k.locked {
                        "(encrypted; set DEBVAULT_KEY_PASSPHRASE)".to_owned()
                    } else {
                        k.user_ids.join(", ")
                    };
                    writeln!(out, "{}  {who}", k.fingerprint)?;
                }
                Ok(())
            })?;
        }
    }
    Ok(0)
}

/// "generated key …" / "imported key …".
fn confirm(g: &Globals, verb: &str, info: &KeyInfo) -> Result<()> {
    g.out.done(info, |out| {
        writeln!(
            out,
            "{verb} key {} ({})",
            info.fingerprint,
            info.user_ids.join(", ")
        )?;
        Ok(())
    })
}
