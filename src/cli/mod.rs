//! The command-line edge: clap definitions, dispatch, printing and exit codes.
//!
//! `main` parses the flags once into `Globals` — the settings flags and the
//! `Printer` (`printer.rs`) that decides what stdout and stderr carry — and
//! hands them to one function per verb (a file per verb group). A verb
//! parses its arguments, calls a use case in `ops`, and prints the outcome
//! through the printer; errors come back as a `Failure` (`failure.rs`) that
//! carries its exit code to `report_error`.
//!
//! Exit codes (also in the man page): 0 success; 1 failure; 2 usage or
//! configuration error; 3 verification failure (signature, hash, rollback,
//! expiry); 4 a package was frozen during sync (the sync itself committed).

mod complete;
mod config_cmd;
mod curation;
mod evidence;
mod failure;
mod generate;
mod key;
mod maintenance;
mod mirror;
mod mirror_show;
mod ondemand;
mod output;
mod package;
mod printer;
mod progress;
mod publish;
mod repo;
mod repo_curation;
mod serve;
mod serve_proxy;
mod snapshot;
mod sync;
mod token;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory as _, Parser, Subcommand};
use failure::{Context as _, Failure, Result};

use crate::config::{FlagValues, Settings};
use crate::db::Db;
use crate::fetch::{AuthFile, FetchOptions, Fetcher};
use crate::ops::Context;
use crate::store::BlobStore;

const AFTER_HELP: &str = "\
Exit status:
  0  success
  1  failure
  2  usage or configuration error
  3  verification failure (signature, hash, rollback, expired Release)
  4  a package was frozen during sync (the sync itself committed)

Environment:
  DEBVAULT_ROOT       data root (default: $XDG_DATA_HOME/debvault)
  DEBVAULT_CONFIG     config file (default: <root>/config.toml when present)
  DEBVAULT_DOWNLOADS  parallel downloads per sync
  DEBVAULT_ACTOR      who the audit trail names (default: user@host)
  DEBVAULT_KEY_PASSPHRASE, DEBVAULT_KEY_PASSPHRASE_FILE
                      passphrase of encrypted signing keys (never prompted for)
  NO_COLOR            disable colours

Shell completion (with mirror, snapshot and publication names):
  bash: source <(COMPLETE=bash debvault)   zsh: source <(COMPLETE=zsh debvault)
  fish: COMPLETE=fish debvault | source";

/// A curated apt repository mirror and snapshot tool.
#[derive(Debug, Parser)]
#[command(name = "debvault", version, disable_help_subcommand = true, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Data root holding the database, blobs and publications [env: DEBVAULT_ROOT]
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Config file [env: DEBVAULT_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Machine-readable JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// No confirmations on stdout, no notes or progress on stderr (data, warnings and errors stay)
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More detail on stderr (repeat for debug logs)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars (plain log lines)
    #[arg(long, global = true)]
    pub no_progress: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create, inspect and sync mirrors of upstream suites
    #[command(subcommand)]
    Mirror(mirror::MirrorCommand),
    /// Local repositories of your own packages: create, add, remove, copy, move
    #[command(subcommand)]
    Repo(repo::RepoCommand),
    /// Create, compare, combine and publish immutable snapshots
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// List, show and drop publications
    #[command(subcommand)]
    Publish(publish::PublishCommand),
    /// Find packages across mirrors and snapshots
    #[command(subcommand)]
    Package(package::PackageCommand),
    /// Generate, import, export and list signing keys
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Create or update mirrors to match a declarative scope file
    Apply(curation::ApplyArgs),
    /// Hold packages at their current version (no new versions, no removal)
    Freeze(curation::FreezeArgs),
    /// Lift freezes (--accept-new to take content upstream changed under the same version)
    Unfreeze(curation::UnfreezeArgs),
    /// List or report changes that review-mode syncs staged
    #[command(subcommand)]
    Staged(curation::StagedCommand),
    /// Make staged changes live
    Promote(curation::DecideArgs),
    /// Import security advisories (offline) and list the packages they affect
    #[command(subcommand)]
    Advisories(evidence::AdvisoriesCommand),
    /// Refuse staged changes (later syncs do not stage them again)
    Reject(curation::DecideArgs),
    /// Show the append-only trail of freezes, promotions, publishes, drops and key changes
    Audit(curation::AuditArgs),
    /// Health of mirrors, publications and storage (for people, cron and Prometheus)
    Status(maintenance::StatusArgs),
    /// Remove revisions, packages, blobs, trees and pool files nothing kept references
    Gc(maintenance::GcArgs),
    /// Check blobs and publications against the database; exit 3 on any difference
    Verify(maintenance::VerifyArgs),
    /// Back the database up, or restore it
    #[command(subcommand)]
    Db(maintenance::DbCommand),
    /// Serve published apt trees over HTTP (read-only), with `--api` the HTTP API for CI
    Serve(serve::ServeArgs),
    /// Create, list and revoke bearer tokens of the HTTP API
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Inspect the resolved configuration
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Write man pages or shell completions (for packagers)
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

/// Global options every command sees.
pub(crate) struct Globals {
    /// Where and how results and diagnostics are printed.
    pub out: printer::Printer,
    /// The settings flags (`--root`, `--config`).
    pub flags: FlagValues,
}

impl Globals {
    pub(crate) fn settings(&self) -> Result<Settings> {
        Self::resolve(&self.flags)
    }

    /// The settings with `flags` (a verb's own flags added to the global ones).
    pub(crate) fn settings_with(&self, flags: &FlagValues) -> Result<Settings> {
        Self::resolve(flags)
    }

    fn resolve(flags: &FlagValues) -> Result<Settings> {
        Ok(Settings::resolve(flags, &|k| std::env::var(k).ok())?)
    }

    /// The configured auth file, read (a warning when others may read it,
    /// as apt gives), or an empty one.
    fn auth_file(&self, settings: &Settings) -> Result<AuthFile> {
        let Some(path) = &settings.auth_file else {
            return Ok(AuthFile::default());
        };
        if let Some(mode) = AuthFile::loose_mode(path) {
            self.out.warn(&format!(
                "auth file `{}` is readable by others (mode {mode:o}); `chmod 600` it",
                path.display()
            ));
        }
        Ok(AuthFile::load(path)?)
    }

    /// Takes the signing keys back from anyone but the owner, saying so.
    pub(crate) fn tighten_keys(&self, settings: &Settings) -> Result<()> {
        let keys = crate::ops::keys::KeyStore::new(settings.root.join("keys"), None);
        for (path, mode) in keys.tighten()? {
            let (what, private) = if path.is_dir() {
                ("key directory", "0700")
            } else {
                ("signing key", "0600")
            };
            self.out.warn(&format!(
                "{what} `{}` was open to others (mode {mode:o}); made it {private}",
                path.display()
            ));
        }
        Ok(())
    }

    /// Opens everything an operation needs.
    pub(crate) fn context(&self) -> Result<Context> {
        self.context_with(&self.flags)
    }

    /// Opens everything an operation needs, with settings from `flags`
    /// (a verb's own flags added to the global ones).
    pub(crate) fn context_with(&self, flags: &FlagValues) -> Result<Context> {
        let settings = Self::resolve(flags)?;
        crate::atomic_file::create_dir_all(&settings.root, crate::atomic_file::PUBLIC_DIR)
            .with_context(|| format!("cannot create data root `{}`", settings.root.display()))?;
        let mut db = Db::open(&settings.db_path())?;
        for (path, mode) in db.tightened() {
            self.out.warn(&format!(
                "`{}` was readable by others (mode {mode:o}); made it 0600",
                path.display()
            ));
        }
        self.tighten_keys(&settings)?;
        db.set_actor(actor());
        let store = BlobStore::open(&settings.blobs, &settings.root.join("tmp"))?;
        let fetcher = Fetcher::new(FetchOptions {
            retries: settings.retries,
            connect_timeout: std::time::Duration::from_secs(settings.connect_timeout),
            read_timeout: std::time::Duration::from_secs(settings.read_timeout),
            pipeline_depth: settings.pipeline_depth,
            auth: self.auth_file(&settings)?,
            ..FetchOptions::default()
        })?;
        Ok(Context {
            settings,
            db,
            store,
            fetcher,
            progress: self.out.progress(),
        })
    }
}

/// Who the audit trail names: `DEBVAULT_ACTOR` when set (a CI job, a
/// ticket), else `user@host`.
pub(crate) fn actor() -> String {
    if let Ok(a) = std::env::var("DEBVAULT_ACTOR")
        && !a.trim().is_empty()
    {
        return a.trim().to_owned();
    }
    let user = ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| format!("uid{}", rustix::process::getuid().as_raw()));
    let uname = rustix::system::uname();
    let host = uname.nodename().to_string_lossy();
    format!("{user}@{host}")
}

/// Runs the CLI and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    // `COMPLETE=<shell> debvault …`: print the completion script, or the
    // candidates for the line being completed, and exit.
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(
        cli.quiet,
        cli.verbose,
        matches!(cli.command, Command::Serve(_)),
    );
    let stderr_tty = std::io::stderr().is_terminal();
    let progress_bars = stderr_tty && !cli.quiet && !cli.no_progress && !cli.json;
    let progress = Arc::new(progress::CliProgress::new(
        progress_bars,
        cli.quiet,
        cli.verbose,
    ));
    let globals = Globals {
        out: printer::Printer::new(cli.json, cli.quiet, progress),
        flags: FlagValues {
            root: cli.root.clone(),
            config: cli.config.clone(),
            ..FlagValues::default()
        },
    };
    let result = match cli.command {
        Command::Mirror(cmd) => mirror::run(cmd, &globals),
        Command::Repo(cmd) => repo::run(cmd, &globals),
        Command::Snapshot(cmd) => snapshot::run(cmd, &globals),
        Command::Publish(cmd) => publish::run(cmd, &globals),
        Command::Key(cmd) => key::run(cmd, &globals),
        Command::Token(cmd) => token::run(cmd, &globals),
        Command::Apply(a) => curation::apply(a, &globals),
        Command::Freeze(a) => curation::freeze(a, &globals),
        Command::Unfreeze(a) => curation::unfreeze(a, &globals),
        Command::Staged(c) => curation::staged(c, &globals),
        Command::Promote(a) => curation::promote(a, &globals),
        Command::Advisories(c) => evidence::advisories(c, &globals),
        Command::Reject(a) => curation::reject(a, &globals),
        Command::Audit(a) => curation::audit(a, &globals),
        Command::Package(c) => package::run(c, &globals),
        Command::Status(a) => maintenance::status(a, &globals),
        Command::Gc(a) => maintenance::run_gc(a, &globals),
        Command::Verify(a) => maintenance::verify(a, &globals),
        Command::Db(c) => maintenance::db(c, &globals),
        Command::Serve(args) => serve::run(args, &globals),
        Command::Config(cmd) => config_cmd::run(cmd, &globals),
        Command::Generate(args) => generate::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => report_error(&err),
    }
}

fn report_error(err: &Failure) -> ExitCode {
    if err.is_silent() {
        return ExitCode::from(err.code());
    }
    if err.error().chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {}", err.error());
    for cause in err.error().chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {cause}");
    }
    for hint in output::hints(err.error()) {
        let _ = writeln!(stderr, "hint: {hint}");
    }
    ExitCode::from(err.code())
}

fn init_logging(quiet: bool, verbose: u8, access_log: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    // `serve` writes one access-log line per request (unless quiet).
    let access = if access_log && !quiet {
        ",debvault::access=info"
    } else {
        ""
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DEBVAULT_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("debvault={level}{access}"))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(false);
    // A long-running server's log lines carry their time; a command's do not.
    let _ = if access_log {
        builder.try_init()
    } else {
        builder.without_time().try_init()
    };
}
