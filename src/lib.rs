//! debvault: a curated apt repository mirror and snapshot tool.
//!
//! Layers, top to bottom (a module never imports one above it): `cli` (the
//! edge: parsing, printing) → `config` → `ops` (use cases: plan, then execute)
//! → `query` (filters, dependency closure) → `fetch` (upstream HTTP), `store`
//! (content-addressed blobs), `db` (SQLite), `pgp` (signatures), `tree`
//! (renders signed apt trees), `serve` (read-only HTTP) → `debian` (pure
//! formats), with `digest`, `model`, `progress` and `lock` shared.
//!
//! Without the default `full` feature only `debian`, `query` and `digest`
//! are built (and their few dependencies): what the fuzz targets need.

// The parsers: always built.
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
pub mod runtime;
#[cfg(feature = "full")]
pub mod serve;
#[cfg(feature = "full")]
pub mod store;
#[cfg(feature = "full")]
pub mod tree;
