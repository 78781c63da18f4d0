//! `debvault config …`.

use clap::Subcommand;

use super::Globals;
use super::failure::Result;

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the resolved settings and where each came from
    Show,
}

pub(crate) fn run(cmd: ConfigCommand, g: &Globals) -> Result<u8> {
    match cmd {
        ConfigCommand::Show => {
            let settings = g.settings()?;
            let rows = settings.rows();
            let v: Vec<_> = rows
                .iter()
                .map(|(k, v, o)| serde_json::json!({"key": k, "value": v, "origin": o.to_string()}))
                .collect();
            g.out.data(&v, |out| {
                for (k, v, o) in &rows {
                    writeln!(out, "{k:<22} {v}  ({o})")?;
                }
                Ok(())
            })?;
            Ok(0)
        }
    }
}
