//! Bearer tokens of the HTTP API (`token create|list|revoke`).
//!
//! The API is never open: every request but the health probes carries a
//! token. A token is 32 random bytes from the operating system, shown once
//! as `dvt_<hex>`; only its SHA256 is stored, so a leaked database grants
//! nothing (the secret has 256 bits: a plain digest cannot be searched
//! back). A token holds scopes and may be limited to some repos; its name
//! is the audit actor of everything it does.

use std::io::Read as _;

use serde::Serialize;

use super::Context;
use crate::db::{AuditEvent, DbError, TokenRow};
use crate::digest::Sha256;
use crate::exit::{ExitCode, FAILURE, USAGE};
use crate::model::valid_name;

/// What the text form of every token starts with (greppable in leaks).
pub const TOKEN_PREFIX: &str = "dvt_";

/// What a token may do beyond reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Upload files and add them to repos.
    Upload,
    /// Take snapshots and publish or switch them.
    Publish,
    /// Everything: create and delete repos, see every task.
    Admin,
}

impl Scope {
    /// The scope's name, as `--scope` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Upload => "upload",
            Scope::Publish => "publish",
            Scope::Admin => "admin",
        }
    }

    fn parse(s: &str) -> Option<Scope> {
        [Scope::Upload, Scope::Publish, Scope::Admin]
            .into_iter()
            .find(|scope| scope.as_str() == s)
    }
}

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// An invalid token name.
    #[error(
        "token name `{0}` is not valid: use letters, digits, `.`, `_` and `-`, starting with a letter or digit (at most 64)"
    )]
    BadName(String),
    /// An unknown scope.
    #[error("scope `{0}` is not one of `upload`, `publish`, `admin`")]
    BadScope(String),
    /// No scope given.
    #[error("token `{0}` needs at least one scope")]
    NoScope(String),
    /// An invalid repo name in `--repo`.
    #[error("repo name `{0}` is not valid")]
    BadRepo(String),
    /// The name is taken.
    #[error("token `{0}` already exists")]
    Exists(String),
    /// No token by that name.
    #[error("token `{0}` does not exist")]
    NoToken(String),
    /// The operating system gave no random bytes.
    #[error("cannot read random bytes from the operating system")]
    Random(#[source] std::io::Error),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ExitCode for TokenError {
    fn exit_code(&self) -> u8 {
        match self {
            TokenError::BadName(_)
            | TokenError::BadScope(_)
            | TokenError::NoScope(_)
            | TokenError::BadRepo(_)
            | TokenError::Exists(_)
            | TokenError::NoToken(_) => USAGE,
            TokenError::Random(_) => FAILURE,
            TokenError::Db(e) => e.exit_code(),
        }
    }
}

/// A token as the API checks it.
#[derive(Clone, Debug)]
pub struct Token {
    /// Row id (names its upload directory).
    pub id: i64,
    /// Name: the audit actor.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<Scope>,
    /// Repos it may touch; empty: all.
    pub repos: Vec<String>,
}

impl Token {
    /// Whether it holds `scope` (`admin` holds every scope).
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    /// Whether it may touch repo `name`.
    pub fn may_use_repo(&self, name: &str) -> bool {
        self.repos.is_empty() || self.repos.iter().any(|r| r == name)
    }
}

/// A token just created: the secret is in here and nowhere else.
#[derive(Debug, Serialize)]
pub struct Created {
    /// Name.
    pub name: String,
    /// The bearer token, to hand to CI.
    pub token: String,
    /// Scopes.
    pub scopes: Vec<Scope>,
    /// Repos it is limited to; empty: all.
    pub repos: Vec<String>,
}

/// Parses `upload,publish` (commas or repeated flags), sorted, deduplicated.
pub fn parse_scopes(name: &str, given: &[String]) -> Result<Vec<Scope>, TokenError> {
    let mut scopes = Vec::new();
    for s in given.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if s.is_empty() {
            continue;
        }
        scopes.push(Scope::parse(s).ok_or_else(|| TokenError::BadScope(s.to_owned()))?);
    }
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(TokenError::NoScope(name.to_owned()));
    }
    Ok(scopes)
}

/// The digest a secret is stored and looked up under.
pub fn digest(secret: &str) -> Sha256 {
    Sha256::of(secret.as_bytes())
}

/// 32 bytes from the operating system's generator, as `dvt_<hex>`.
fn new_secret() -> Result<String, TokenError> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(TokenError::Random)?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// Creates token `name` with `scopes`, limited to `repos` when not empty;
/// audited (without the secret).
pub fn create(
    ctx: &mut Context,
    name: &str,
    scopes: &[Scope],
    repos: &[String],
) -> Result<Created, TokenError> {
    if !valid_name(name) {
        return Err(TokenError::BadName(name.to_owned()));
    }
    if scopes.is_empty() {
        return Err(TokenError::NoScope(name.to_owned()));
    }
    if let Some(bad) = repos.iter().find(|r| !valid_name(r)) {
        return Err(TokenError::BadRepo(bad.clone()));
    }
    let secret = new_secret()?;
    let scope_names: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    let event = AuditEvent::new("token-create", format!("token `{name}`"))
        .detail(serde_json::json!({"scopes": scope_names, "repos": repos}));
    if !ctx
        .db
        .create_token(name, &digest(&secret), &scope_names, repos, &event)?
    {
        return Err(TokenError::Exists(name.to_owned()));
    }
    Ok(Created {
        name: name.to_owned(),
        token: secret,
        scopes: scopes.to_vec(),
        repos: repos.to_vec(),
    })
}

/// Every token, by name (digests only).
pub fn list(ctx: &Context) -> Result<Vec<TokenRow>, TokenError> {
    Ok(ctx.db.tokens()?)
}

/// Revokes token `name`; audited.
pub fn revoke(ctx: &mut Context, name: &str) -> Result<(), TokenError> {
    let event = AuditEvent::new("token-revoke", format!("token `{name}`"));
    if ctx.db.revoke_token(name, &event)? {
        Ok(())
    } else {
        Err(TokenError::NoToken(name.to_owned()))
    }
}

/// The token a bearer secret names, if any. Scopes this version does not
/// know are ignored (a token made by a newer debvault gets no more here).
pub fn authenticate(db: &crate::db::Db, secret: &str) -> Result<Option<Token>, TokenError> {
    let Some(row) = db.token_by_digest(&digest(secret.trim()))? else {
        return Ok(None);
    };
    Ok(Some(Token {
        id: row.id,
        name: row.name,
        scopes: row.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        repos: row.repos,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_from_commas_and_repeats() {
        let given = ["publish,upload".to_owned(), "upload".to_owned()];
        assert_eq!(
            parse_scopes("ci", &given).unwrap(),
            [Scope::Upload, Scope::Publish]
        );
        assert!(matches!(
            parse_scopes("ci", &["root".to_owned()]),
            Err(TokenError::BadScope(_))
        ));
        assert!(matches!(
            parse_scopes("ci", &[",".to_owned()]),
            Err(TokenError::NoScope(_))
        ));
    }

    #[test]
    fn admin_holds_every_scope_and_repos_limit() {
        let t = Token {
            id: 1,
            name: "ci".into(),
            scopes: vec![Scope::Admin],
            repos: vec!["team".into()],
        };
        assert!(t.has(Scope::Upload) && t.has(Scope::Publish));
        assert!(t.may_use_repo("team") && !t.may_use_repo("other"));
        let secret = new_secret().unwrap();
        assert!(secret.starts_with(TOKEN_PREFIX) && secret.len() == 4 + 64);
        assert_ne!(secret, new_secret().unwrap());
    }
}
