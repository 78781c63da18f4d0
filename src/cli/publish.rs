//! `debvault publish …`: list, show and drop publications.

use std::io::Write;

use clap::Subcommand;
use serde::Serialize;

use super::Globals;
use super::failure::Result;
use super::output::UsageError;
use crate::db::HistoryEntry;
use crate::model::Publication;
use crate::ops::publish::{
    DEFAULT_ORIGIN, Dropped, Setting, default_label, drop_publication, normalize_prefix,
};
use crate::tree::layout::dists_path;

#[derive(Debug, Subcommand)]
pub(crate) enum PublishCommand {
    /// List publications
    List,
    /// Show one publication with its history of switches
    Show {
        /// Distribution, or the publication as `publish list` prints it (`PREFIX/dists/DIST`)
        #[arg(add = super::complete::publications())]
        distribution: String,
        /// Prefix below the publish endpoint
        #[arg(long, value_name = "PATH", default_value = ".")]
        prefix: String,
    },
    /// Remove a publication (its pool files stay until `gc`)
    Drop {
        /// Distribution, or the publication as `publish list` prints it (`PREFIX/dists/DIST`)
        #[arg(add = super::complete::publications())]
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
        } => {
            let (prefix, distribution) = publication_arg(&distribution, &prefix)?;
            show(&prefix, &distribution, g)
        }
        PublishCommand::Drop {
            distribution,
            prefix,
        } => {
            let (prefix, distribution) = publication_arg(&distribution, &prefix)?;
            let mut ctx = g.context()?;
            let dropped = drop_publication(&mut ctx, &prefix, &distribution)?;
            g.out.done(&dropped, |out| {
                match &dropped {
                    Dropped::Known(p) => writeln!(
                        out,
                        "dropped `{}` (snapshot `{}`); `debvault gc` frees pool files no publication uses",
                        place(p),
                        p.snapshots_text()
                    )?,
                    Dropped::Unknown {
                        prefix,
                        distribution,
                    } => writeln!(
                        out,
                        "dropped `{}`, which was on the publish endpoint but not in the database; `debvault gc` frees pool files no publication uses",
                        dists_path(prefix, distribution)
                    )?,
                }
                Ok(())
            })?;
            Ok(0)
        }
    }
}

/// The prefix and distribution of a publication given as a distribution
/// (with `--prefix`) or as `publish list` prints it: `dists/DIST`,
/// `PREFIX/dists/DIST`.
fn publication_arg(arg: &str, prefix: &str) -> Result<(String, String)> {
    let arg = arg.trim_end_matches('/');
    let split = if let Some(dist) = arg.strip_prefix("dists/") {
        Some((".", dist))
    } else {
        arg.rsplit_once("/dists/")
    };
    let Some((given, dist)) = split else {
        return Ok((prefix.to_owned(), arg.to_owned()));
    };
    let same = normalize_prefix(given).ok() == normalize_prefix(prefix).ok();
    if prefix != "." && !same {
        return Err(UsageError(format!(
            "`{arg}` is under prefix `{given}`, but `--prefix` says `{prefix}`; give one of them"
        ))
        .into());
    }
    Ok((given.to_owned(), dist.to_owned()))
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
                p.snapshots_text(),
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
    if p.components.is_empty() {
        writeln!(out, "snapshot:     {}", p.snapshot)?;
    } else {
        let list: Vec<String> = p
            .components
            .iter()
            .map(|c| format!("{}={}", c.component, c.snapshot))
            .collect();
        writeln!(out, "components:   {}", list.join(", "))?;
    }
    writeln!(
        out,
        "published:    {}",
        p.published_at.format("%Y-%m-%d %H:%M:%S UTC")
    )?;
    writeln!(out, "tree:         {}", p.tree)?;
    writeln!(out, "release:      SHA256 {}", p.release_sha256)?;
    if let Some(until) = p.valid_until {
        writeln!(
            out,
            "valid until:  {}",
            until.format("%Y-%m-%d %H:%M:%S UTC")
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "settings (`snapshot publish --set`, `--unset SETTING` change them):"
    )?;
    for s in Setting::ALL {
        let value = match (s.value(o), s) {
            (Some(v), _) => v,
            (None, Setting::Origin) => format!("{DEFAULT_ORIGIN} (default)"),
            (None, Setting::Label) => {
                format!("{} (default)", default_label(&p.prefix, &p.distribution))
            }
            (None, Setting::Suite | Setting::Codename) => {
                format!("{} (default)", p.distribution)
            }
            (None, Setting::NotAutomatic | Setting::ButAutomaticUpgrades) => "no".to_owned(),
            (None, _) => "-".to_owned(),
        };
        writeln!(out, "  {:<24}{value}", format!("{s}:"))?;
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
