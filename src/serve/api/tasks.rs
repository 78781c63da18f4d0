//! `?_async=true`: long work (adding, snapshotting, publishing) run in the
//! background as a task, answered `202` with the task at once; the client
//! follows it with `GET /api/tasks/{id}` or blocks on `…/wait`. Tasks live
//! in memory (a restart forgets them, as aptly's do); a token sees its own
//! (`admin` sees all). The newest [`KEPT`] are kept.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use hyper::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::reply::{Answer, ApiError};
use crate::ops::tokens::{Scope, Token};

/// Tasks remembered.
const KEPT: usize = 1000;

/// aptly's task states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running = 1,
    Succeeded = 2,
    Failed = 3,
}

struct Task {
    id: u64,
    name: String,
    owner: i64,
    state: watch::Sender<State>,
    /// The answer the request would have had without `_async`.
    output: Mutex<Option<(StatusCode, Value)>>,
}

impl Task {
    fn json(&self) -> Value {
        let state = *self.state.borrow();
        let mut v = json!({"ID": self.id, "Name": self.name, "State": state as u8});
        let output = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((status, body)) = output.as_ref() {
            v["Status"] = json!(status.as_u16());
            v["Output"] = body.clone();
        }
        v
    }
}

#[derive(Default)]
pub(super) struct Tasks {
    next: AtomicU64,
    tasks: Mutex<BTreeMap<u64, Arc<Task>>>,
}

impl Tasks {
    /// Starts `work` as task `name` of `token`; returns the 202 answer.
    pub(super) fn start(
        self: &Arc<Tasks>,
        token: &Token,
        name: String,
        work: impl Future<Output = Answer> + Send + 'static,
    ) -> Answer {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let (state, _) = watch::channel(State::Running);
        let task = Arc::new(Task {
            id,
            name,
            owner: token.id,
            state,
            output: Mutex::new(None),
        });
        {
            let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
            tasks.insert(id, Arc::clone(&task));
            while tasks.len() > KEPT {
                tasks.pop_first();
            }
        }
        let answer = task.json();
        tokio::spawn(async move {
            let (state, output) = match work.await {
                Ok((status, body)) => (State::Succeeded, (status, body)),
                Err(e) => (State::Failed, (e.status, json!({"error": e.message}))),
            };
            *task.output.lock().unwrap_or_else(PoisonError::into_inner) = Some(output);
            task.state.send_replace(state);
        });
        Ok((StatusCode::ACCEPTED, answer))
    }

    fn get(&self, token: &Token, id: &str) -> Result<Arc<Task>, ApiError> {
        let missing = || ApiError::not_found(format!("task `{id}` does not exist"));
        let id: u64 = id.parse().map_err(|_| missing())?;
        let tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        match tasks.get(&id) {
            Some(t) if t.owner == token.id || token.has(Scope::Admin) => Ok(Arc::clone(t)),
            _ => Err(missing()),
        }
    }

    /// `GET /api/tasks`.
    pub(super) fn list(&self, token: &Token) -> Answer {
        let tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        let list: Vec<Value> = tasks
            .values()
            .filter(|t| t.owner == token.id || token.has(Scope::Admin))
            .map(|t| t.json())
            .collect();
        Ok((StatusCode::OK, Value::Array(list)))
    }

    /// `GET /api/tasks/{id}`.
    pub(super) fn show(&self, token: &Token, id: &str) -> Answer {
        Ok((StatusCode::OK, self.get(token, id)?.json()))
    }

    /// `GET /api/tasks/{id}/wait`: the task once it has finished.
    pub(super) async fn wait(&self, token: &Token, id: &str) -> Answer {
        let task = self.get(token, id)?;
        let mut rx = task.state.subscribe();
        // The sender lives in the task itself: it cannot go away meanwhile.
        let _ = rx.wait_for(|s| *s != State::Running).await;
        Ok((StatusCode::OK, task.json()))
    }
}
