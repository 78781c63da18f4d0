//! How the library reports progress without printing.
//!
//! Operations send [`Event`]s to a [`Progress`] sink; the CLI draws bars on a
//! terminal, writes plain log lines for cron, or stays silent. Library code
//! never writes to stdout or stderr itself.

/// One thing worth telling the operator.
#[derive(Clone, Debug)]
pub enum Event {
    /// A step began, e.g. "fetching InRelease".
    Step {
        /// The object the step works on (mirror name).
        scope: String,
        /// What happens.
        message: String,
    },
    /// Something is wrong but the operation goes on.
    Warning {
        /// The object concerned.
        scope: String,
        /// What is wrong.
        message: String,
    },
    /// Downloads are about to start.
    DownloadsStarted {
        /// The mirror.
        scope: String,
        /// Number of files.
        files: u64,
        /// Total bytes.
        bytes: u64,
    },
    /// One file finished downloading.
    FileDone {
        /// Its size.
        bytes: u64,
    },
    /// All downloads of the current batch finished (or failed).
    DownloadsFinished,
}

/// A sink for progress events. Must be cheap: it is called once per file.
pub trait Progress: Send + Sync {
    /// Receives one event.
    fn event(&self, event: Event);
}

/// Discards everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn event(&self, _event: Event) {}
}
