//! `debvault serve`: the publish root over HTTP, read-only.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::failure::{Context as _, Failure, Result};
use clap::Args;

use super::Globals;
use crate::serve::{ServeOptions, Server};
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
}

pub(crate) fn run(args: ServeArgs, g: &Globals) -> Result<u8> {
    // The configured endpoint may not exist yet on a fresh data root (it
    // serves empty until the first publish); a directory named with --dir
    // must exist: a typo is not a new empty tree.
    let (location, named) = match args.dir {
        Some(dir) => (dir, true),
        None => (g.settings()?.publish, false),
    };
    let mut opts = ServeOptions::new(args.listen, PathBuf::from(&location));
    match S3Url::parse(&location) {
        Some(url) => opts.bucket = Some(Bucket::open(&url?)?),
        None if named => {}
        None => std::fs::create_dir_all(&location)
            .with_context(|| format!("cannot create `{location}`"))?,
    }
    crate::runtime::run(async {
        let server = Server::bind(opts).await?;
        g.out.note(&format!(
            "serving `{location}` on http://{}/ (read-only; Ctrl-C or SIGTERM stops)",
            server.local_addr()
        ));
        server.run_until(shutdown_signal()).await?;
        Ok::<_, Failure>(())
    })??;
    Ok(0)
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
