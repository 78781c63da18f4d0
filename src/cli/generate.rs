//! `debvault generate`: man pages and shell completions from the clap definitions.
//!
//! The committed `man/` and `completions/` are produced by this command; a test
//! regenerates them and fails when the committed copies are stale. The static
//! scripts complete commands and flags; `COMPLETE=<shell> debvault` (see
//! `complete.rs`) completes names from the database too.

use std::path::{Path, PathBuf};

use super::failure::{Context as _, Result};
use clap::{Args, CommandFactory, ValueEnum};

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// What to write
    #[arg(value_enum)]
    what: What,
    /// Output directory
    dir: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum What {
    Man,
    Completions,
}

pub(crate) fn run(args: GenerateArgs) -> Result<u8> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create `{}`", args.dir.display()))?;
    match args.what {
        What::Man => write_man(&args.dir)?,
        What::Completions => {
            for shell in [
                clap_complete::Shell::Bash,
                clap_complete::Shell::Zsh,
                clap_complete::Shell::Fish,
            ] {
                let mut cmd = super::Cli::command();
                clap_complete::generate_to(shell, &mut cmd, "debvault", &args.dir)
                    .with_context(|| format!("cannot write {shell} completions"))?;
            }
        }
    }
    Ok(0)
}

fn write_man(dir: &Path) -> Result<()> {
    let cmd = super::Cli::command();
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("cannot write man pages to `{}`", dir.display()))
}
