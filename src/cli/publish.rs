//! `debvault publish …`: list, show and drop publications.

use std::io::Write;

use clap::Subcommand;
use serde::Serialize;

use super::Globals;
use super::failure::Result;
use crate::db::HistoryEntry;
use crate::model::Publication;
use crate::ops::publish::drop_publication;
use crate::tree::layout::dists_path;

#[derive(Debug, Subcommand)]
pub(crate) enum PublishCommand {
    /// List publications
    List,
    /// Show one publication with its history of switches
    Show {
        /// Distribution
        distribution: String,
        /// Prefix below the publish endpoint
        #[arg(long, value_name = "PATH", default_value = ".")]
        prefix: String,
    },
    /// Remove a publication (its pool files stay until `gc`)
    Drop {
        /// Distribution
        distribution: String,
        /// Prefix below the publish endpoint
        #[arg(long, value_name = "PATH", default_value = ".")]
        prefix: String,
    },
}

pub(crate) fn run(cmd: PublishCommand, g: &Globals) -> Result<u8> {
    match cmd {
        PublishCommand::List => list(g),
        PublishCommand::Show {
            distribution,
            prefix,
        } => show(&prefix, &distribution, g),
        PublishCommand::Drop {
            distribution,
            prefix,
        } => {
            let mut ctx = g.context()?;
            let p = drop_publication(&mut ctx, &prefix, &distribution)?;
            g.out.done(&p, |out| {
                writeln!(
                    out,
                    "dropped `{}` (snapshot `{}`); `debvault gc` frees pool files no publication uses",
                    place(&p),
                    p.snapshot
                )?;
                Ok(())
            })?;
            Ok(0)
        }
    }
}

fn place(p: &Publication) -> String {
    dists_path(&p.prefix, &p.distribution)
}

fn list(g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let pubs = crate::ops::publish::list(&ctx)?;
    if pubs.is_empty() {
        g.out
            .note("nothing published; publish a snapshot with `debvault snapshot publish NAME`");
    }
    g.out.data(&pubs, |out| {
        if pubs.is_empty() {
            return Ok(());
        }
        writeln!(
            out,
            "{:<32} {:<32} {:<20}  VALID UNTIL",
            "PUBLICATION", "SNAPSHOT", "PUBLISHED"
        )?;
        for p in &pubs {
            writeln!(
                out,
                "{:<32} {:<32} {:<20}  {}",
                place(p),
                p.snapshot,
                p.published_at.format("%Y-%m-%d %H:%M:%S"),
                p.valid_until.map_or_else(
                    || "-".to_owned(),
                    |t| t.format("%Y-%m-%d %H:%M:%S").to_string()
                )
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}

#[derive(Serialize)]
struct ShowJson<'a> {
    #[serde(flatten)]
    publication: &'a Publication,
    history: &'a [HistoryEntry],
}

fn show(prefix: &str, distribution: &str, g: &Globals) -> Result<u8> {
    let ctx = g.context()?;
    let (p, history) = crate::ops::publish::show(&ctx, prefix, distribution)?;
    let doc = ShowJson {
        publication: &p,
        history: &history,
    };
    g.out.data(&doc, |out| print_show(out, &p, &history))?;
    Ok(0)
}

fn print_show(out: &mut dyn Write, p: &Publication, history: &[HistoryEntry]) -> Result<()> {
    let o = &p.options;
    writeln!(out, "publication:  {}", place(p))?;
    writeln!(out, "snapshot:     {}", p.snapshot)?;
    writeln!(
        out,
        "published:    {}",
        p.published_at.format("%Y-%m-%d %H:%M:%S UTC")
    )?;
    writeln!(out, "tree:         {}", p.tree)?;
    writeln!(out, "release:      SHA256 {}", p.release_sha256)?;
    writeln!(
        out,
        "suite:        {}",
        o.suite.as_deref().unwrap_or(&p.distribution)
    )?;
    writeln!(
        out,
        "codename:     {}",
        o.codename.as_deref().unwrap_or(&p.distribution)
    )?;
    for (label, v) in [("origin:      ", &o.origin), ("label:       ", &o.label)] {
        if let Some(v) = v {
            writeln!(out, "{label} {v}")?;
        }
    }
    if let Some(until) = p.valid_until {
        writeln!(
            out,
            "valid until:  {}",
            until.format("%Y-%m-%d %H:%M:%S UTC")
        )?;
    }
    if let Some(url) = &o.snapshots_url {
        writeln!(out, "snapshots:    {url}/snapshots/@SNAPSHOTID@")?;
    }
    writeln!(out)?;
    writeln!(out, "{:<20} {:<22} SNAPSHOT", "SWITCHED", "TREE")?;
    for h in history.iter().rev() {
        writeln!(
            out,
            "{:<20} {:<22} {}",
            h.switched_at.format("%Y-%m-%d %H:%M:%S"),
            h.tree,
            h.snapshot
        )?;
    }
    Ok(())
}
