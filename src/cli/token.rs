//! `debvault token …`: bearer tokens of the HTTP API (`serve --api`).

use clap::Subcommand;

use super::Globals;
use super::failure::Result;
use crate::ops::tokens;

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token for the HTTP API and print it (once: only its hash is kept)
    Create {
        /// Token name: the audit trail names it as the actor of what it does
        name: String,
        /// What it may do: `upload` (files, repo add), `publish` (snapshots,
        /// publish, switch), `admin` (everything); comma-separated or repeated
        #[arg(long, value_name = "SCOPES", required = true)]
        scope: Vec<String>,
        /// Limit it to this repo (repeatable) [default: every repo]
        #[arg(long, value_name = "REPO", add = super::complete::repos())]
        repo: Vec<String>,
    },
    /// List tokens (names, scopes, repos; never a secret)
    List,
    /// Revoke a token: requests carrying it answer 401 from now on
    Revoke {
        /// Token name, as `token list` prints it
        name: String,
    },
}

pub(crate) fn run(cmd: TokenCommand, g: &Globals) -> Result<u8> {
    let mut ctx = g.context()?;
    match cmd {
        TokenCommand::Create { name, scope, repo } => {
            let scopes = tokens::parse_scopes(&name, &scope)?;
            let created = tokens::create(&mut ctx, &name, &scopes, &repo)?;
            g.out.data(&created, |out| {
                writeln!(out, "{}", created.token)?;
                Ok(())
            })?;
            g.out.note(&format!(
                "token `{name}` created; it is shown only now: send it as `Authorization: Bearer TOKEN`"
            ));
        }
        TokenCommand::List => {
            let rows = tokens::list(&ctx)?;
            if rows.is_empty() {
                g.out
                    .note("no tokens; create one with `debvault token create NAME --scope upload`");
            }
            g.out.data(&rows, |out| {
                if rows.is_empty() {
                    return Ok(());
                }
                writeln!(
                    out,
                    "{:<24} {:<24} {:<24} CREATED",
                    "NAME", "SCOPES", "REPOS"
                )?;
                for r in &rows {
                    let repos = if r.repos.is_empty() {
                        "(all)".to_owned()
                    } else {
                        r.repos.join(",")
                    };
                    writeln!(
                        out,
                        "{:<24} {:<24} {:<24} {}",
                        r.name,
                        r.scopes.join(","),
                        repos,
                        r.created_at.format("%Y-%m-%d %H:%M:%S")
                    )?;
                }
                Ok(())
            })?;
        }
        TokenCommand::Revoke { name } => {
            tokens::revoke(&mut ctx, &name)?;
            g.out.done(&serde_json::json!({"revoked": name}), |out| {
                writeln!(out, "revoked token `{name}`")?;
                Ok(())
            })?;
        }
    }
    Ok(0)
}

/// The API's options for `serve --api`: a context of its own (the
/// on-demand fetcher keeps another database connection) and the limits.
pub(crate) fn api_options(
    g: &Globals,
    flags: &crate::config::FlagValues,
    settings: &crate::config::Settings,
) -> Result<crate::serve::api::ApiOptions> {
    let ctx = g.context_with(flags)?;
    Ok(crate::serve::api::ApiOptions {
        ctx: std::sync::Arc::new(std::sync::Mutex::new(ctx)),
        upload_limit: settings.api.upload_limit,
        rate_limit: settings.api.rate_limit,
    })
}
