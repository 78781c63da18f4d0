//! debvault: a curated apt repository mirror and snapshot tool.
//!
//! Layers, top to bottom (a module never imports one above it): `cli` (the
//! edge: parsing, printing) → `config` → `ops` (use cases: plan, then execute)
//! → `query` (filters, dependency closure) → `fetch` (upstream HTTP), `store`
//! (content-addressed blobs), `db` (SQLite), `pgp` (signatures), `tree`
//! (renders signed apt trees), `serve` (read-only HTTP) → `debian` (pure
//! formats), with `digest`, `model`, `progress` and `lock` shared.

pub mod cli;
pub mod config;
pub mod db;
pub mod debian;
pub mod digest;
pub mod fetch;
pub mod lock;
pub mod model;
pub mod ops;
pub mod pgp;
pub mod progress;
pub mod query;
pub mod serve;
pub mod store;
pub mod tree;
