//! debvault's integration tests: the real binary against loopback fixture upstreams.

mod support;

mod appstream;
mod backup;
mod closure;
mod completion;
mod contents;
mod curation;
mod docs;
mod faults;
mod fetch;
mod gc;
mod groups;
mod hardening;
mod index_share;
mod installer;
mod key;
mod mirror;
mod output;
mod pipeline;
mod publish;
mod publish_apt;
mod repos;
mod s3;
mod serve;
mod serve_cli;
mod serve_soak;
mod snapshot;
mod sources;
mod sync;
mod sync_faults;
mod translations;
mod udebs;
mod verify;
