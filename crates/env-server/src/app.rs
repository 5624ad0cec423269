//! What every env's routes share: the read-only data, the session table, running env code off
//! the async workers with panics caught, and the reference's response shapes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::log;
use crate::sessions::{Gone, Lookup, SessionStats, Sessions};

/// How an env names its sessions in requests, and words "no such session".
#[derive(Clone, Copy, Debug)]
pub enum Ids {
    /// Sessions named by `id`: "The id {id} is not valid."
    Id,
    /// Sessions named by `env_idx`: "Env {id} not found".
    EnvIdx,
}

impl Ids {
    /// The request field naming the session.
    pub fn field(self) -> &'static str {
        match self {
            Ids::Id => "id",
            Ids::EnvIdx => "env_idx",
        }
    }

    /// The "no such session" text for `id`.
    pub fn unknown(self, id: i64) -> String {
        match self {
            Ids::Id => invalid_id(id),
            Ids::EnvIdx => env_not_found(id),
        }
    }
}

/// The "no such session" text of the envs whose sessions are named by `id`.
pub fn invalid_id(id: i64) -> String {
    format!("The id {id} is not valid.")
}

/// The "no such session" text of the envs whose sessions are named by `env_idx`.
pub fn env_not_found(id: i64) -> String {
    format!("Env {id} not found")
}

/// One server's state: read-only data shared by all sessions, and the sessions.
pub struct App<D, S> {
    /// Catalogues, indexes, recipe books: loaded once, shared by every session.
    pub data: Arc<D>,
    /// The live sessions.
    pub sessions: Sessions<S>,
    /// The idle timeout (for error texts).
    pub idle_timeout: Duration,
    /// How requests name sessions (and how the env words "no such session").
    pub ids: Ids,
}

/// A shared handle to an [`App`].
pub type Shared<D, S> = Arc<App<D, S>>;

/// The sessions' counters, for [`crate::Server::stats`] and `GET /crossgym/stats`.
pub trait Stats: Send + Sync {
    /// The counters now.
    fn stats(&self) -> SessionStats;
    /// Evicts sessions idle longer than the timeout; returns how many.
    fn sweep(&self) -> usize;
}

impl<D: Send + Sync, S: Send> Stats for App<D, S> {
    fn stats(&self) -> SessionStats {
        self.sessions.stats()
    }
    fn sweep(&self) -> usize {
        self.sessions.sweep(self.idle_timeout)
    }
}

/// 200 with a JSON value.
pub fn ok(value: Value) -> Response {
    Json(value).into_response()
}

/// 200 with `{"error": message}`, the reference's application-error shape.
pub fn app_error(message: impl Into<String>) -> Response {
    Json(json!({ "error": message.into() })).into_response()
}

/// 200 with the value, or the error shape.
pub fn reply(result: Result<Value, String>) -> Response {
    match result {
        Ok(value) => ok(value),
        Err(message) => app_error(message),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Runs `f` on the blocking pool with panics caught (a panic becomes an error text and a log
/// line, never a 500).
pub async fn blocking<T, F>(f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::task::spawn_blocking(move || catch_unwind(AssertUnwindSafe(f))).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(payload)) => {
            let text = panic_text(payload.as_ref());
            log::event("env_panic", &text);
            Err(format!("internal error in the environment: {text}"))
        }
        Err(join) => {
            log::event("task_failed", &join.to_string());
            Err(format!("internal error: {join}"))
        }
    }
}

impl<D, S> App<D, S>
where
    D: Send + Sync + 'static,
    S: Default + Send + 'static,
{
    /// A new app over `data`.
    pub fn new(
        data: Arc<D>,
        max_sessions: usize,
        idle_timeout: Duration,
        ids: Ids,
    ) -> Shared<D, S> {
        Arc::new(App {
            data,
            sessions: Sessions::new(max_sessions),
            idle_timeout,
            ids,
        })
    }

    /// The error text for an id that does not answer.
    pub fn missing_text(&self, id: i64, why: Option<Gone>) -> String {
        let base = self.ids.unknown(id);
        match why {
            None => base,
            Some(Gone::Closed) => format!("{base} (its session was closed)"),
            Some(Gone::EvictedCap) => format!(
                "{base} (its session was evicted: the server keeps at most {} sessions)",
                self.sessions.max_sessions()
            ),
            Some(Gone::EvictedIdle) => format!(
                "{base} (its session was evicted after {} s idle)",
                self.idle_timeout.as_secs_f64()
            ),
        }
    }

    /// Runs `f` on session `id` off the async workers; a panic closes the session.
    pub async fn with<T, F>(self: &Arc<Self>, id: i64, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&D, &mut S) -> Result<T, String> + Send + 'static,
    {
        let slot = match self.sessions.get(id) {
            Lookup::Live(slot) => slot,
            Lookup::Gone(why) => return Err(self.missing_text(id, Some(why))),
            Lookup::Unknown => return Err(self.missing_text(id, None)),
        };
        let data = Arc::clone(&self.data);
        let result = blocking(move || {
            let mut state = slot.lock().unwrap_or_else(|p| p.into_inner());
            f(&data, &mut state)
        })
        .await;
        match result {
            Ok(inner) => inner,
            Err(internal) => {
                self.sessions.close(id);
                Err(format!("{internal} (session {id} was closed)"))
            }
        }
    }

    /// Creates a session and runs `f` on it with its new id; a failure frees it again.
    pub async fn create<T, F>(self: &Arc<Self>, f: F) -> Result<(u64, T), String>
    where
        T: Send + 'static,
        F: FnOnce(&D, u64, &mut S) -> Result<T, String> + Send + 'static,
    {
        let id = self.sessions.insert(S::default());
        let signed = i64::try_from(id).unwrap_or(i64::MAX);
        let result = self
            .with(signed, move |data, state| f(data, id, state))
            .await;
        if result.is_err() {
            self.sessions.close(signed);
        }
        result.map(|value| (id, value))
    }

    /// Frees session `id`: `true`, or `false` when it was not live (the reference's answers).
    pub fn close(&self, id: i64) -> Response {
        ok(Value::Bool(self.sessions.close(id)))
    }
}
