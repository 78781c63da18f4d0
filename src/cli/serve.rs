//! `debvault serve`: the publish root over HTTP, read-only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::failure::{Context as _, Failure, Result};
use clap::Args;

use super::Globals;
use crate::serve::{OnDemandOptions, ServeOptions, ServeStats, Server};
use crate::store::{Bucket, S3Url};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address and port to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory (or `s3://bucket/prefix`) to serve [default: the publish
    /// endpoint, `[storage] publish`]
    #[arg(long, value_name = "DIR")]
    dir: Option<String>,
    /// Close a connection that accepts no bytes of a response (or sends no
    /// complete request head) for this long: `90s`, `2m` [default: 60s,
    /// `[serve] idle-timeout`]
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    idle_timeout: Option<u64>,
    /// Connections served at once; further ones wait to be accepted
    /// [default: 1024, `[serve] max-connections`]
    #[arg(long, value_name = "N")]
    max_connections: Option<u64>,
    /// Also answer the HTTP API for CI under `/api/` (bearer tokens from
    /// `debvault token create`; see docs/API.md) [default: `[serve] api`]
    #[arg(long)]
    api: bool,
}

/// A duration flag in seconds (`90`, `90s`, `2m`).
fn parse_timeout(s: &str) -> Result<u64, String> {
    crate::config::parse_duration(s)
        .ok_or_else(|| format!("`{s}` is not a duration such as `90s` or `2m`"))
}

pub(crate) fn run(args: ServeArgs, g: &Globals) -> Result<u8> {
    // The configured endpoint may not exist yet on a fresh data root (it
    // serves empty until the first publish); a directory named with --dir
    // must exist: a typo is not a new empty tree.
    let mut flags = g.flags.clone();
    flags.idle_timeout = args.idle_timeout;
    flags.max_connections = args.max_connections;
    flags.api = args.api;
    let settings = g.settings_with(&flags)?;
    let (location, named) = match args.dir {
        Some(dir) => (dir, true),
        None => (settings.publish.clone(), false),
    };
    let mut opts = ServeOptions::new(args.listen, PathBuf::from(&location));
    opts.idle_timeout = Duration::from_secs(settings.serve_idle_timeout);
    // Range-checked by the settings: at most a million.
    opts.max_connections = usize::try_from(settings.serve_max_connections).unwrap_or(usize::MAX);
    match S3Url::parse(&location) {
        Some(url) => opts.bucket = Some(Bucket::open(&url?)?),
        None if named => {}
        None => std::fs::create_dir_all(&location)
            .with_context(|| format!("cannot create `{location}`"))?,
    }
    // A local tree of a data root that exists may hold on-demand pool
    // files; proxies need the database in any case.
    let on_demand = opts.bucket.is_none() && settings.db_path().exists();
    if on_demand || !settings.proxies.is_empty() {
        let ctx = g.context_with(&flags)?;
        let db = std::sync::Arc::new(std::sync::Mutex::new(ctx.db));
        if !settings.proxies.is_empty() {
            let base = ctx.fetcher.options();
            opts.proxy = Some(super::serve_proxy::options(
                &settings, &db, &ctx.store, base, &opts.root,
            )?);
        }
        if on_demand {
            opts.on_demand = Some(OnDemandOptions {
                db,
                store: ctx.store,
                fetcher: ctx.fetcher,
            });
        }
    }
    if settings.api.enabled {
        opts.api = Some(super::token::api_options(g, &flags, &settings)?);
    }
    let mode = if settings.api.enabled {
        "read-only, with the HTTP API under /api/"
    } else {
        "read-only"
    };
    crate::runtime::run(async {
        let server = Server::bind(opts).await?;
        g.out.note(&format!(
            "serving `{location}` on http://{}/ ({mode}; Ctrl-C or SIGTERM stops)",
            server.local_addr()
        ));
        let stats = server.run_until(shutdown_signal()).await?;
        g.out.note(&summary(&stats));
        Ok::<_, Failure>(())
    })??;
    Ok(0)
}

/// The closing line: what was served and what had to be closed.
fn summary(stats: &ServeStats) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut text = format!(
        "stopped after {}: {} closed idle, {} closed waiting for a request head, \
         connection limit reached {}",
        plural(stats.connections, "connection", "connections"),
        stats.idle_closed,
        stats.head_timeouts,
        plural(stats.limit_reached, "time", "times"),
    );
    if stats.fetched_on_demand + stats.verification_failures + stats.upstream_errors > 0 {
        text.push_str(&format!(
            "; on demand: {} fetched ({}), {} refused by verification, {} upstream errors",
            plural(stats.fetched_on_demand, "file", "files"),
            super::output::human_bytes(stats.fetched_on_demand_bytes),
            stats.verification_failures,
            stats.upstream_errors,
        ));
    }
    text
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}
