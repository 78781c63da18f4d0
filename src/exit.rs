//! Exit codes (DESIGN.md §2), declared by every error type.
//!
//! Each error type says which code it maps to ([`ExitCode`]); a wrapper
//! variant asks what it wraps. The CLI edge captures the code when an error
//! first reaches it, so it keeps no list of types to try: an error type
//! without a declared code does not compile there.

/// Success.
pub const SUCCESS: u8 = 0;
/// A failure: I/O, the network, the database, a bug.
pub const FAILURE: u8 = 1;
/// A usage or configuration error: fix the command line or the config.
pub const USAGE: u8 = 2;
/// A verification failure: a signature, a hash, a size, a rollback.
pub const VERIFICATION: u8 = 3;
/// A package was frozen during sync (the sync itself committed).
pub const FROZEN: u8 = 4;

/// An error and its causes, `: `-joined (a cause whose text the message
/// already holds is left out), for a log line or a warning.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// The exit code an error maps to.
pub trait ExitCode {
    /// One of [`FAILURE`], [`USAGE`], [`VERIFICATION`] (errors never map
    /// to [`SUCCESS`] or [`FROZEN`]).
    fn exit_code(&self) -> u8;
}

/// Errors of the standard library and of formats the edge reads and
/// writes itself: plain failures.
macro_rules! failures {
    ($($t:ty),* $(,)?) => {
        $(impl ExitCode for $t {
            fn exit_code(&self) -> u8 {
                FAILURE
            }
        })*
    };
}

failures!(std::io::Error, std::fmt::Error);
#[cfg(feature = "full")]
failures!(serde_json::Error);
