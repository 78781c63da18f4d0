//! The one writer of a command's output, decided once from `--json` and `-q`.
//!
//! Every verb gets the same [`Printer`] (`g.out`) and says *what* it prints;
//! the printer alone decides *whether* and *how*. The contract:
//!
//! - **stdout carries the command's result only.** Under `--json` that is
//!   exactly one JSON document and nothing else; otherwise human text.
//! - **Two kinds of result** ([`Kind`]): *data the user asked for* (list,
//!   show, diff, status, audit, config show, export, a `--dry-run` plan) is
//!   printed even under `-q`; a *confirmation* of what a mutating verb did
//!   ("created mirror …", "dropped …", tallies, "next: …" suggestions) is
//!   silenced by `-q`. Under `--json` both are the JSON document.
//! - **stderr carries diagnostics.** `warning: …` always, also under `-q`
//!   ([`Printer::warn`]); `problem: …` lines of a failed check always
//!   ([`Printer::problem`]); notes such as an empty result's hint
//!   ([`Printer::note`]) unless `-q` or `--json`; progress (drawn by
//!   [`CliProgress`]); errors (written by the reporter in `cli/mod.rs`).
//!
//! Warnings, problems and notes go through [`CliProgress::line`], the same
//! path as the library's `Event::Warning`, so a progress bar on screen is
//! not torn and both kinds of warning look alike.

use std::io::Write;
use std::sync::Arc;

use serde::Serialize;

use super::failure::Result;
use super::progress::CliProgress;

/// What a piece of human output is, for `-q`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Data the user asked for: printed even under `-q`.
    Data,
    /// A confirmation of what a mutating verb did: silenced by `-q`.
    Done,
}

/// How stdout is used, from the global flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Human text, confirmations included.
    Human,
    /// Human text, data only (`-q`).
    Quiet,
    /// One JSON document (`--json`, with or without `-q`).
    Json,
}

/// The command's output channel; see the module docs for the contract.
pub(crate) struct Printer {
    mode: Mode,
    progress: Arc<CliProgress>,
}

impl Printer {
    /// The printer for `--json` and `-q`, drawing diagnostics through `progress`.
    pub(crate) fn new(json: bool, quiet: bool, progress: Arc<CliProgress>) -> Printer {
        let mode = match (json, quiet) {
            (true, _) => Mode::Json,
            (false, true) => Mode::Quiet,
            (false, false) => Mode::Human,
        };
        Printer { mode, progress }
    }

    /// The progress sink operations report to (shared with the printer).
    pub(crate) fn progress(&self) -> Arc<CliProgress> {
        Arc::clone(&self.progress)
    }

    /// Whether stdout is one JSON document.
    pub(crate) fn is_json(&self) -> bool {
        self.mode == Mode::Json
    }

    /// Data the user asked for: `value` as JSON, else `human`'s text (also under `-q`).
    pub(crate) fn data<T: Serialize + ?Sized>(
        &self,
        value: &T,
        human: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        self.result(Kind::Data, value, human)
    }

    /// A confirmation: `value` as JSON, else `human`'s text unless `-q`.
    pub(crate) fn done<T: Serialize + ?Sized>(
        &self,
        value: &T,
        human: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        self.result(Kind::Done, value, human)
    }

    /// A result of `kind`: `value` as JSON, else `human`'s text when `kind` shows.
    pub(crate) fn result<T: Serialize + ?Sized>(
        &self,
        kind: Kind,
        value: &T,
        human: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        if self.is_json() {
            self.json(value)
        } else {
            self.text(kind, human)
        }
    }

    /// Human text only, for a result printed piece by piece (one line per
    /// mirror synced) whose JSON document [`Printer::json`] writes at the
    /// end; nothing under `--json`.
    pub(crate) fn text(
        &self,
        kind: Kind,
        human: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        let shown = match self.mode {
            Mode::Human => true,
            Mode::Quiet => kind == Kind::Data,
            Mode::Json => false,
        };
        if !shown {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        human(&mut out)?;
        out.flush()?;
        Ok(())
    }

    /// The JSON document (pretty, one line feed after it); nothing unless `--json`.
    pub(crate) fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        if !self.is_json() {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        // As an io::Error, so a reader that went away (`| head -1`) is
        // recognised as a broken pipe and ends the command quietly.
        serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
        writeln!(out)?;
        out.flush()?;
        Ok(())
    }

    /// Bytes that are their own format (an exported keyring), written as
    /// they are in every mode: data, so not silenced by `-q`.
    pub(crate) fn raw(&self, bytes: &[u8]) -> Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()?;
        Ok(())
    }

    /// A note on stderr (an empty result's hint, a summary beside data);
    /// silenced by `-q` and `--json`.
    pub(crate) fn note(&self, message: &str) {
        if self.mode == Mode::Human {
            self.progress.line(message);
        }
    }

    /// `warning: {message}` on stderr, in every mode.
    pub(crate) fn warn(&self, message: &str) {
        self.progress.warn(message);
    }

    /// `problem: {message}` on stderr, in every mode: what a check found
    /// wrong, explaining its exit code.
    pub(crate) fn problem(&self, message: &str) {
        self.progress.line(&format!("problem: {message}"));
    }
}
