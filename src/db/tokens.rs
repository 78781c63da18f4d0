//! Bearer tokens of the HTTP API: one row per token, holding the SHA256 of
//! the secret (never the secret), its scopes and the repos it is limited
//! to. Creating and revoking commit with their audit event.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::curation::{AuditEvent, append_audit};
use super::{Db, DbError, corrupt, parse_ts, sql, ts};
use crate::digest::Sha256;

/// A stored token (no secret: only its digest).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TokenRow {
    /// Row id: names the token's private upload directory, so a token
    /// created again under the same name does not see the old one's files.
    pub id: i64,
    /// Unique name; the audit actor of what it does.
    pub name: String,
    /// SHA256 of the secret.
    #[serde(skip)]
    pub sha256: Sha256,
    /// Scopes, as given (`upload`, `publish`, `admin`).
    pub scopes: Vec<String>,
    /// Repos it may touch; empty: every repo.
    pub repos: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, sha256, scopes, repos, created_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String, String, String, String)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn decode(
    (id, name, sha, scopes, repos, created): (i64, String, String, String, String, String),
) -> Result<TokenRow, DbError> {
    let what = format!("token `{name}`");
    Ok(TokenRow {
        id,
        sha256: sha.parse().map_err(|e| corrupt(&what, e))?,
        scopes: scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        repos: serde_json::from_str(&repos).map_err(|e| corrupt(&what, e))?,
        created_at: parse_ts(Some(created), &what)?.unwrap_or_default(),
        name,
    })
}

impl Db {
    /// Stores a new token with its audit event; `Ok(false)` when the name
    /// is taken.
    pub fn create_token(
        &mut self,
        name: &str,
        sha256: &Sha256,
        scopes: &[String],
        repos: &[String],
        event: &AuditEvent,
    ) -> Result<bool, DbError> {
        let what = format!("create token `{name}`");
        let tx = self.conn.transaction().map_err(sql(&what))?;
        let taken: Option<i64> = tx
            .query_row(
                "SELECT id FROM api_tokens WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql(&what))?;
        if taken.is_some() {
            return Ok(false);
        }
        let repos = serde_json::to_string(repos).map_err(|e| corrupt(&what, e))?;
        tx.execute(
            "INSERT INTO api_tokens (name, sha256, scopes, repos, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                name,
                sha256.to_hex(),
                scopes.join(","),
                repos,
                ts(&Utc::now())
            ],
        )
        .map_err(sql(&what))?;
        append_audit(&tx, &self.actor, event)?;
        tx.commit().map_err(sql(&what))?;
        Ok(true)
    }

    /// Every token, by name.
    pub fn tokens(&self) -> Result<Vec<TokenRow>, DbError> {
        let what = "list tokens";
        let mut st = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM api_tokens ORDER BY name"))
            .map_err(sql(what))?;
        let rows = st.query_map([], row).map_err(sql(what))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(decode(r.map_err(sql(what))?)?);
        }
        Ok(out)
    }

    /// The token whose secret has this digest.
    pub fn token_by_digest(&self, sha256: &Sha256) -> Result<Option<TokenRow>, DbError> {
        let what = "look up a token";
        let found = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM api_tokens WHERE sha256 = ?1"
            ))
            .and_then(|mut st| st.query_row(params![sha256.to_hex()], row).optional())
            .map_err(sql(what))?;
        found.map(decode).transpose()
    }

    /// Deletes token `name` with its audit event; `Ok(false)` when there is
    /// no such token.
    pub fn revoke_token(&mut self, name: &str, event: &AuditEvent) -> Result<bool, DbError> {
        let what = format!("revoke token `{name}`");
        let tx = self.conn.transaction().map_err(sql(&what))?;
        let n = tx
            .execute("DELETE FROM api_tokens WHERE name = ?1", params![name])
            .map_err(sql(&what))?;
        if n == 0 {
            return Ok(false);
        }
        append_audit(&tx, &self.actor, event)?;
        tx.commit().map_err(sql(&what))?;
        Ok(true)
    }
}
