//! Draws library progress events: indicatif bars on a terminal, plain lines otherwise.
//!
//! It owns stderr while a bar is drawn: the printer's warnings and notes go
//! through [`CliProgress::line`] too.

use std::io::Write;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::progress::{Event, Progress};

/// The CLI's progress sink.
pub(crate) struct CliProgress {
    bars: bool,
    quiet: bool,
    verbose: u8,
    bar: Mutex<Option<ProgressBar>>,
    /// Files done and total of the current download batch.
    files: Mutex<(u64, u64)>,
}

impl CliProgress {
    pub(crate) fn new(bars: bool, quiet: bool, verbose: u8) -> Self {
        Self {
            bars,
            quiet,
            verbose,
            bar: Mutex::new(None),
            files: Mutex::new((0, 0)),
        }
    }

    /// Writes one line on stderr, above the progress bar when one is drawn
    /// (so the bar is not torn).
    pub(crate) fn line(&self, text: &str) {
        let guard = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }

    /// `warning: {message}`: the one format of a warning, the library's
    /// ([`Event::Warning`]) and the CLI's alike; shown even under `-q`.
    pub(crate) fn warn(&self, message: &str) {
        self.line(&format!("warning: {message}"));
    }
}

impl Progress for CliProgress {
    fn event(&self, event: Event) {
        match event {
            Event::Step { scope, message } => {
                if !self.quiet && (self.bars || self.verbose > 0) {
                    self.line(&format!("{scope}: {message}"));
                }
            }
            Event::Warning { scope, message } => self.warn(&format!("{scope}: {message}")),
            Event::DownloadsStarted {
                scope,
                files,
                bytes,
            } => {
                if self.bars {
                    let bar = ProgressBar::new(bytes);
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    bar.set_prefix(scope);
                    bar.set_message(format!("0/{files} files"));
                    *self.files.lock().unwrap_or_else(|p| p.into_inner()) = (0, files);
                    bar.set_length(bytes);
                    *self.bar.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar);
                } else if !self.quiet {
                    self.line(&format!(
                        "{scope}: downloading {files} files ({})",
                        super::output::human_bytes(bytes)
                    ));
                }
            }
            Event::FileDone { bytes } => {
                if let Some(bar) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                    bar.inc(bytes);
                    let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
                    files.0 += 1;
                    bar.set_message(format!("{}/{} files", files.0, files.1));
                }
            }
            Event::DownloadsFinished => {
                if let Some(bar) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}
