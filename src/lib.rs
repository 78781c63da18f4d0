//! debvault: a curated apt repository mirror and snapshot tool.
//!
//! Layers, top to bottom (a module never imports one above it):
//!
//! - `cli`: the edge. Parses (clap), calls one `ops` function per verb,
//!   prints through one printer; its `Failure` carries the exit code the
//!   error declared ([`exit`]).
//! - `config`: the settings, flags > env > file > defaults, in one resolver.
//! - `ops`: the use cases, one entry per verb over a [`ops::Context`]; each
//!   takes its own lock and writes its own audit event, whichever way it is
//!   called. Mutating ones plan, then execute: `ops/sync/` (`release` →
//!   `plan`, pure → `execute`: downloads and the one commit), `ops/publish/`
//!   (`pool` → `indices` → render → `local` or `s3` backend → record),
//!   `mirror`, `snapshot`, `curation`, `apply`, `gc`, `verify`, `backup`.
//! - `query`: filters, globs and the dependency closure.
//! - `fetch` (upstream HTTP, pipelined where it can be), `store`
//!   (content-addressed blobs on disk or in a bucket), `db` (SQLite, the
//!   only module that writes SQL), `pgp` (signatures), `tree` (renders and
//!   verifies signed apt trees), `serve` (read-only HTTP: one origin trait,
//!   a directory or a bucket, feeding one response builder).
//! - `debian`: the archive's formats, pure.
//!
//! Shared by all: `digest`, `model`, `progress` (how the library reports;
//! it never prints), `lock`, `exit` (exit codes), `atomic_file` (every
//! file written whole: temp, fsync, rename, fsync the directory) and
//! `runtime`. The async model ([`runtime`]): entry points are synchronous;
//! the I/O below them runs on one tokio runtime per process, entered with
//! `runtime::run` at the top of a call and `runtime::block_on` below it;
//! CPU-bound parallel work uses `std::thread::scope`.
//!
//! Without the default `full` feature only `debian`, `query`, `digest` and
//! `exit` are built (and their few dependencies): what the fuzz targets
//! need.

// The parsers: always built.
pub mod capped;
pub mod debian;
pub mod digest;
pub mod exit;
pub mod query;

// Everything else: the `full` feature.
#[cfg(feature = "full")]
pub mod atomic_file;
#[cfg(feature = "full")]
pub mod cli;
#[cfg(feature = "full")]
pub mod config;
#[cfg(feature = "full")]
pub mod db;
#[cfg(feature = "full")]
pub mod fetch;
#[cfg(feature = "full")]
pub mod lock;
#[cfg(feature = "full")]
pub mod model;
#[cfg(feature = "full")]
pub mod ops;
#[cfg(feature = "full")]
pub mod pgp;
#[cfg(feature = "full")]
pub mod progress;
#[cfg(feature = "full")]
pub mod redact;
#[cfg(feature = "full")]
pub mod runtime;
#[cfg(feature = "full")]
pub mod serve;
#[cfg(feature = "full")]
pub mod store;
#[cfg(feature = "full")]
pub mod tree;
