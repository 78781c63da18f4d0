//! `serve --api`: the HTTP API for CI, under `/api/` on the serving
//! listener, with aptly's routes, JSON field names and status codes so an
//! aptly CI script changes only its URL and adds a header.
//!
//! Unlike aptly's, it is never open. A request flows:
//!
//! 1. `routes.rs` matches the method and path against one table (unknown
//!    path 404, other method 405 with `Allow`), the table `docs/openapi.json`
//!    is checked against;
//! 2. the bearer token is looked up by its digest (`ops::tokens`): none or
//!    unknown answers 401 with `WWW-Authenticate: Bearer`; then the
//!    token's rate ([`ApiOptions::rate_limit`], 429); then its scope and
//!    repo list (403). Only `/api/healthy` and `/api/ready` need no token;
//! 3. the handler: uploads stream to the token's private directory
//!    (`files.rs`); everything else reads a capped JSON body (`reply.rs`),
//!    then runs the SAME `ops` use case the CLI runs, on the blocking pool,
//!    with the token's name as the audit actor (`repos.rs`, `snapshots.rs`,
//!    `publish.rs`). With `?_async=true` a change runs as a task
//!    (`tasks.rs`) and answers 202 at once.
//!
//! Operations share one [`Context`] behind a mutex: they run one at a
//! time, as the CLI's locks would make them anyway.

mod files;
mod multipart;
mod publish;
mod reply;
mod repos;
pub mod routes;
mod snapshots;
mod tasks;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::header::{self, HeaderMap};
use hyper::{Request, StatusCode};
use serde_json::json;

use super::response::Reply;
use crate::ops::Context;
use crate::ops::tokens::{self, Scope, Token};
use reply::{Answer, ApiError, answer_reply, error_reply};
use routes::{Matched, Op};

pub use routes::ROUTES;

/// Default for [`ApiOptions::upload_limit`]: 2 GiB per request.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 2 * 1024 * 1024 * 1024;
/// Default for [`ApiOptions::rate_limit`]: requests per minute per token.
pub const DEFAULT_RATE_LIMIT: u64 = 600;

/// The rate limit's window.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// What the API needs: the operations' context and its limits.
#[derive(Clone)]
pub struct ApiOptions {
    /// Database, blob store and settings the operations use (one
    /// operation at a time).
    pub ctx: Arc<Mutex<Context>>,
    /// Largest upload, in bytes, of one request (413 past it).
    pub upload_limit: u64,
    /// Requests one token may make per minute (429 past it); 0: no limit.
    pub rate_limit: u64,
}

impl std::fmt::Debug for ApiOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiOptions")
            .field("upload_limit", &self.upload_limit)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

/// A blocking piece of work on the context: an operation with its input.
type Job = Box<dyn FnOnce(&mut Context) -> Answer + Send>;

/// The API's state, shared by every connection.
pub(super) struct Api {
    ctx: Arc<Mutex<Context>>,
    /// `<root>/uploads`: one private directory per token below it.
    uploads: PathBuf,
    upload_limit: u64,
    rate_limit: u64,
    /// Per token id: the current window's start and its requests.
    rates: Mutex<HashMap<i64, (Instant, u64)>>,
    tasks: Arc<tasks::Tasks>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("uploads", &self.uploads)
            .field("upload_limit", &self.upload_limit)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl Api {
    pub(super) fn new(opts: ApiOptions) -> Api {
        let uploads = opts
            .ctx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .settings
            .root
            .join("uploads");
        Api {
            uploads,
            ctx: opts.ctx,
            upload_limit: opts.upload_limit,
            rate_limit: opts.rate_limit,
            rates: Mutex::new(HashMap::new()),
            tasks: Arc::new(tasks::Tasks::default()),
        }
    }

    /// The token's private upload directory.
    fn upload_dir(&self, token: &Token) -> PathBuf {
        self.uploads.join(token.id.to_string())
    }

    /// Runs `job` on the blocking pool with the token as the audit actor.
    async fn run(&self, token: &Token, job: Job) -> Answer {
        let ctx = Arc::clone(&self.ctx);
        let actor = token.name.clone();
        tokio::task::spawn_blocking(move || {
            let mut ctx = ctx.lock().unwrap_or_else(PoisonError::into_inner);
            ctx.db.set_actor(actor);
            job(&mut ctx)
        })
        .await
        .unwrap_or_else(|e| {
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the operation failed: {e}"),
            ))
        })
    }

    /// The token of the request's `Authorization: Bearer …`.
    async fn authenticate(&self, headers: &HeaderMap) -> Result<Token, ApiError> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, m);
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized(
                "a bearer token is required: `Authorization: Bearer TOKEN` (see `debvault token create`)",
            ));
        };
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            })
            .map(|(_, secret)| secret.trim().to_owned())
            .ok_or_else(|| unauthorized("the `Authorization` header is not `Bearer TOKEN`"))?;
        let ctx = Arc::clone(&self.ctx);
        let found = tokio::task::spawn_blocking(move || {
            let ctx = ctx.lock().unwrap_or_else(PoisonError::into_inner);
            tokens::authenticate(&ctx.db, &secret)
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        match found {
            Ok(Some(token)) => Ok(token),
            Ok(None) => Err(unauthorized("the token is unknown or revoked")),
            Err(e) => Err(ApiError::from_op(&e, false, false)),
        }
    }

    /// Counts a request of `token`; 429 past the limit.
    fn count(&self, token: &Token) -> Result<(), ApiError> {
        if self.rate_limit == 0 {
            return Ok(());
        }
        let mut rates = self.rates.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let (start, n) = rates.entry(token.id).or_insert((now, 0));
        if now.duration_since(*start) >= RATE_WINDOW {
            (*start, *n) = (now, 0);
        }
        *n += 1;
        if *n > self.rate_limit {
            let wait = RATE_WINDOW.saturating_sub(now.duration_since(*start));
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "token `{}` made more than {} requests this minute; retry in {} s",
                    token.name,
                    self.rate_limit,
                    wait.as_secs() + 1
                ),
            ));
        }
        Ok(())
    }
}

/// The scope an operation needs beyond a valid token, and whether its
/// first parameter is a repo the token must be allowed.
fn needs(op: Op) -> (Option<Scope>, bool) {
    use Op::*;
    match op {
        Version | Healthy | Ready | ReposList | SnapshotsList | SnapshotsShow | SnapshotsDiff
        | PublishList | PublishListPrefix | PublishShow | TasksList | TasksShow | TasksWait => {
            (None, false)
        }
        ReposShow | ReposPackages => (None, true),
        FilesList | FilesListDir | FilesUpload | FilesPut | FilesDeleteDir | FilesDeleteFile => {
            (Some(Scope::Upload), false)
        }
        ReposAddDir | ReposAddFile | ReposIncludeDir | ReposIncludeFile => {
            (Some(Scope::Upload), true)
        }
        ReposCreate => (Some(Scope::Admin), false),
        ReposDelete | ReposEdit => (Some(Scope::Admin), true),
        RepoSnapshot => (Some(Scope::Publish), true),
        MirrorSnapshot | SnapshotsMerge | PublishCreate | PublishCreatePrefix | PublishSwitch
        | PublishDrop => (Some(Scope::Publish), false),
    }
}

/// Whether `?_async=true` may run the operation as a task.
fn may_run_async(op: Op) -> bool {
    use Op::*;
    matches!(
        op,
        ReposCreate
            | ReposDelete
            | ReposEdit
            | SnapshotsMerge
            | ReposAddDir
            | ReposAddFile
            | ReposIncludeDir
            | ReposIncludeFile
            | RepoSnapshot
            | MirrorSnapshot
            | PublishCreate
            | PublishCreatePrefix
            | PublishSwitch
            | PublishDrop
    )
}

/// Answers one request under `/api/`.
pub(super) async fn handle(api: &Arc<Api>, req: Request<Incoming>) -> Reply {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let (op, params) = match routes::route(parts.method.as_str(), path) {
        Matched::Route(op, params) => (op, params),
        Matched::NotFound => {
            return error_reply(&ApiError::not_found(format!(
                "no API route `{} {path}`",
                parts.method
            )));
        }
        Matched::WrongMethod(allowed) => {
            let allow = allowed.join(", ");
            let e = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("`{path}` answers {allow}, not {}", parts.method),
            );
            return error_reply(&e).header(header::ALLOW, &allow);
        }
    };
    match op {
        Op::Healthy => return answer_reply(Ok((StatusCode::OK, json!({"Status": "healthy"})))),
        Op::Ready => return answer_reply(Ok((StatusCode::OK, json!({"Status": "ready"})))),
        _ => {}
    }
    let token = match authorize(api, &parts.headers, op, &params).await {
        Ok(token) => token,
        Err(e) => return error_reply(&e),
    };
    let query = parts.uri.query().map(str::to_owned);
    answer_reply(
        dispatch(
            api,
            token,
            op,
            params,
            query.as_deref(),
            &parts.headers,
            body,
        )
        .await,
    )
}

/// Authentication, rate and scope: the token, or why not.
async fn authorize(
    api: &Api,
    headers: &HeaderMap,
    op: Op,
    params: &[String],
) -> Result<Token, ApiError> {
    let token = api.authenticate(headers).await?;
    api.count(&token)?;
    let (scope, repo) = needs(op);
    if let Some(scope) = scope
        && !token.has(scope)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "token `{}` does not have the `{}` scope",
                token.name,
                scope.as_str()
            ),
        ));
    }
    if repo
        && let Some(name) = params.first()
        && !token.may_use_repo(name)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("token `{}` may not use repo `{name}`", token.name),
        ));
    }
    Ok(token)
}

async fn dispatch(
    api: &Arc<Api>,
    token: Token,
    op: Op,
    params: Vec<String>,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Incoming,
) -> Answer {
    let p = |i: usize| params.get(i).cloned().unwrap_or_default();
    let dir = api.upload_dir(&token);
    let job: Job = match op {
        Op::Healthy | Op::Ready => unreachable_op(),
        Op::Version => {
            return Ok((
                StatusCode::OK,
                json!({"Version": env!("CARGO_PKG_VERSION")}),
            ));
        }
        Op::FilesList => return files::list_dirs(&dir).await,
        Op::FilesListDir => return files::list_dir(&dir, &p(0)).await,
        Op::FilesUpload => {
            return files::upload(&dir, &p(0), headers, body, api.upload_limit).await;
        }
        Op::FilesPut => {
            return files::put(&dir, &p(0), &p(1), headers, body, api.upload_limit).await;
        }
        Op::FilesDeleteDir => return files::delete(&dir, &p(0), None).await,
        Op::FilesDeleteFile => return files::delete(&dir, &p(0), Some(&p(1))).await,
        Op::TasksList => return api.tasks.list(&token),
        Op::TasksShow => return api.tasks.show(&token, &p(0)),
        Op::TasksWait => return api.tasks.wait(&token, &p(0)).await,
        Op::ReposIncludeDir | Op::ReposIncludeFile => {
            repos::include(p(0), dir, p(1), params.get(2).cloned(), query)?
        }
        Op::ReposList => repos::list(token.clone()),
        Op::ReposShow => repos::show(p(0)),
        Op::ReposPackages => repos::packages(p(0), query)?,
        Op::ReposCreate => repos::create(reply::JsonBody::read(body).await?)?,
        Op::ReposDelete => repos::delete(p(0)),
        Op::ReposEdit => repos::edit(p(0), reply::JsonBody::read(body).await?)?,
        Op::SnapshotsMerge => snapshots::merge(query, reply::JsonBody::read(body).await?)?,
        Op::ReposAddDir | Op::ReposAddFile => {
            repos::add(p(0), dir, p(1), params.get(2).cloned(), query)?
        }
        Op::RepoSnapshot => snapshots::create(p(0), true, reply::JsonBody::read(body).await?)?,
        Op::MirrorSnapshot => snapshots::create(p(0), false, reply::JsonBody::read(body).await?)?,
        Op::SnapshotsList => snapshots::list(query),
        Op::SnapshotsShow => snapshots::show(p(0)),
        Op::SnapshotsDiff => snapshots::diff(p(0), p(1)),
        Op::PublishList => publish::list(None)?,
        Op::PublishListPrefix => publish::list(Some(&p(0)))?,
        Op::PublishShow => publish::show(&p(0), p(1))?,
        Op::PublishCreate => publish::create("", reply::JsonBody::read(body).await?)?,
        Op::PublishCreatePrefix => publish::create(&p(0), reply::JsonBody::read(body).await?)?,
        Op::PublishSwitch => publish::switch(&p(0), p(1), reply::JsonBody::read(body).await?)?,
        Op::PublishDrop => publish::drop(&p(0), p(1))?,
    };
    if may_run_async(op) && routes::query_flag(query, "_async") {
        let name = format!("{op:?} {}", params.join(" "));
        let api2 = Arc::clone(api);
        let owner = token.clone();
        return api
            .tasks
            .start(&token, name, async move { api2.run(&owner, job).await });
    }
    api.run(&token, job).await
}

/// Health probes are answered before dispatch.
fn unreachable_op() -> Job {
    Box::new(|_| Ok((StatusCode::OK, json!({}))))
}

/// Whether a request path belongs to the API (with `--api`; without it,
/// `/api/…` is just a path of the published tree).
pub(super) fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}
