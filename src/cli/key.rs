//! `debvault key …`: the operator's signing keys.

use std::io::Write;
use std::path::PathBuf;

use super::failure::{Context as _, Result};
use clap::{Subcommand, ValueEnum};

use super::Globals;
use super::output::print_json;
use crate::ops::keys::{KeyStore, passphrase_from_env};
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
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Algo {
    Ed25519,
    Rsa4096,
}

pub(crate) fn run(cmd: KeyCommand, g: &Globals) -> Result<u8> {
    let settings = g.settings()?;
    let store = KeyStore::new(
        settings.root.join("keys"),
        passphrase_from_env(&|k| std::env::var(k).ok())?,
    );
    let mut out = std::io::stdout().lock();
    match cmd {
        KeyCommand::Generate { name, email, algo } => {
            let algo = match algo {
                Algo::Ed25519 => KeyAlgo::Ed25519,
                Algo::Rsa4096 => KeyAlgo::Rsa4096,
            };
            let info = store.generate(&name, email.as_deref(), algo)?;
            audit_key(&settings, "key-generate", &info.fingerprint.to_string())?;
            if g.json {
                print_json(&info)?;
            } else {
                writeln!(
                    out,
                    "generated key {} ({})",
                    info.fingerprint,
                    info.user_ids.join(", ")
                )?;
            }
        }
        KeyCommand::Import { file } => {
            let info = store.import(&file)?;
            audit_key(&settings, "key-import", &info.fingerprint.to_string())?;
            if g.json {
                print_json(&info)?;
            } else {
                writeln!(
                    out,
                    "imported key {} ({})",
                    info.fingerprint,
                    info.user_ids.join(", ")
                )?;
            }
        }
        KeyCommand::Export { armor, output } => {
            let data = store.export(armor)?;
            match output {
                Some(path) => std::fs::write(&path, data)
                    .with_context(|| format!("cannot write `{}`", path.display()))?,
                None => out.write_all(&data)?,
            }
        }
        KeyCommand::List => {
            let keys = store.list()?;
            if g.json {
                print_json(&keys)?;
            } else if keys.is_empty() {
                writeln!(
                    out,
                    "no signing keys; create one with `debvault key generate`"
                )?;
            } else {
                for k in keys {
                    let who = if k.locked {
                        "(encrypted; set DEBVAULT_KEY_PASSPHRASE)".to_owned()
                    } else {
                        k.user_ids.join(", ")
                    };
                    writeln!(out, "{}  {who}", k.fingerprint)?;
                }
            }
        }
    }
    Ok(0)
}

/// Records a change of the signing keys in the audit trail.
fn audit_key(settings: &crate::config::Settings, action: &'static str, fpr: &str) -> Result<()> {
    let mut db = crate::db::Db::open(&settings.db_path())?;
    db.set_actor(super::actor());
    db.audit(&crate::db::AuditEvent::new(
        action,
        format!("signing key `{fpr}`"),
    ))?;
    Ok(())
}
