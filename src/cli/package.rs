//! `debvault package …`: find packages across mirrors and snapshots.

use clap::Subcommand;

use super::Globals;
use super::failure::Result;
use crate::ops::package::{self, Scope};

#[derive(Debug, Subcommand)]
pub(crate) enum PackageCommand {
    /// List the packages of mirrors, snapshots and repos that match a filter, and where each is
    Search {
        /// Filter, e.g. 'curl | libcurl* (>= 7.88)' (the language of `--filter`)
        expr: String,
        /// Search only this mirror's current packages
        #[arg(long, value_name = "MIRROR", conflicts_with = "snapshot", add = super::complete::mirrors())]
        mirror: Option<String>,
        /// Search only this snapshot
        #[arg(long, value_name = "SNAPSHOT", conflicts_with = "repo", add = super::complete::snapshots())]
        snapshot: Option<String>,
        /// Search only this local repository
        #[arg(long, value_name = "REPO", conflicts_with = "mirror", add = super::complete::repos())]
        repo: Option<String>,
    },
}

pub(crate) fn run(cmd: PackageCommand, g: &Globals) -> Result<u8> {
    match cmd {
        PackageCommand::Search {
            expr,
            mirror,
            snapshot,
            repo,
        } => {
            let scope = match (mirror, snapshot, repo) {
                (Some(m), ..) => Scope::Mirror(m),
                (None, Some(s), _) => Scope::Snapshot(s),
                (None, None, Some(r)) => Scope::Repo(r),
                (None, None, None) => Scope::Everywhere,
            };
            let ctx = g.context()?;
            let hits = package::search(&ctx.db, &expr, &scope)?;
            if hits.is_empty() {
                g.out.note(&format!("no package matches `{expr}`"));
            }
            g.out.data(&hits, |out| {
                for h in &hits {
                    writeln!(
                        out,
                        "{} {} {} ({})  in {}",
                        h.name,
                        h.version,
                        h.architecture,
                        h.component,
                        h.found_in.join(", ")
                    )?;
                }
                Ok(())
            })?;
            Ok(0)
        }
    }
}
