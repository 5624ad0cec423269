//! The routes of each env, as its reference server (`agentenv_<env>/server.py`) defines them,
//! plus `/close` everywhere and `GET /crossgym/stats`.

pub mod alfworld;
pub mod babyai;
pub mod searchqa;
pub mod textcraft;
pub mod webshop;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::ServerConfig;
use crate::app::{App, Shared, Stats, UnknownText, ok, reply};
use crate::body::{Fields, Invalid};

/// `GET /crossgym/stats`: live sessions and eviction counters (not in the reference).
pub fn stats_route(stats: Arc<dyn Stats>) -> Router {
    async fn handler(State(stats): State<Arc<dyn Stats>>) -> Response {
        let s = stats.stats();
        ok(json!({
            "live": s.live,
            "created": s.created,
            "closed": s.closed,
            "evicted_cap": s.evicted_cap,
            "evicted_idle": s.evicted_idle,
        }))
    }
    Router::new()
        .route("/crossgym/stats", get(handler))
        .with_state(stats)
}

/// How an env names its sessions in requests, and words "no such session".
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ids {
    /// Sessions named by `id`: "The id {id} is not valid."
    Id,
    /// Sessions named by `env_idx`: "Env {id} not found".
    EnvIdx,
}

impl Ids {
    /// The request field naming the session.
    pub(crate) fn field(self) -> &'static str {
        match self {
            Ids::Id => "id",
            Ids::EnvIdx => "env_idx",
        }
    }

    /// The "no such session" text for `id`.
    pub(crate) fn unknown(self) -> UnknownText {
        match self {
            Ids::Id => invalid_id,
            Ids::EnvIdx => env_not_found,
        }
    }
}

/// The "no such session" text of the envs whose sessions are named by `id`.
pub(crate) fn invalid_id(id: i64) -> String {
    format!("The id {id} is not valid.")
}

/// The "no such session" text of the envs whose sessions are named by `env_idx`.
pub(crate) fn env_not_found(id: i64) -> String {
    format!("Env {id} not found")
}

/// One env's router and its session counters: `GET /` answers `greeting`, `POST /close` closes
/// the session `ids` names, and `routes` adds the env's own routes.
pub(crate) fn env_router<D, S>(
    data: Arc<D>,
    config: &ServerConfig,
    ids: Ids,
    greeting: &'static str,
    routes: impl FnOnce(Router<Shared<D, S>>) -> Router<Shared<D, S>>,
) -> (Router, Arc<dyn Stats>)
where
    D: Send + Sync + 'static,
    S: Default + Send + 'static,
{
    let app: Shared<D, S> = App::new(
        data,
        config.max_sessions,
        config.idle_timeout,
        ids.unknown(),
    );
    let close = move |State(app): State<Shared<D, S>>, body: Bytes| async move {
        match read_body(&body, |fields| fields.int(ids.field())) {
            Ok(id) => app.close(id),
            Err(invalid) => invalid.into_response(),
        }
    };
    let router = routes(Router::new().route("/", get(move || async move { ok(json!(greeting)) })))
        .route("/close", post(close))
        .with_state(Arc::clone(&app));
    (router, app)
}

/// Reads fields with `read`, or the 422 answer ([`Invalid`]) when the fields or any value read are invalid.
fn read_fields<T>(
    fields: Result<Fields, Invalid>,
    read: impl FnOnce(&mut Fields) -> T,
) -> Result<T, Invalid> {
    let mut fields = fields?;
    let value = read(&mut fields);
    fields.finish()?;
    Ok(value)
}

/// Reads a request body's fields with `read`, or the 422 answer ([`Invalid`]).
pub(crate) fn read_body<T>(
    bytes: &[u8],
    read: impl FnOnce(&mut Fields) -> T,
) -> Result<T, Invalid> {
    read_fields(Fields::body(bytes), read)
}

/// Reads a query string's fields with `read`, or the 422 answer ([`Invalid`]).
pub(crate) fn read_query<T>(
    raw: Option<&str>,
    read: impl FnOnce(&mut Fields) -> T,
) -> Result<T, Invalid> {
    read_fields(Fields::query(raw), read)
}

/// Reads a step request's body: the session id and `action`, or the 422 answer ([`Invalid`]).
pub(crate) fn read_action(body: &[u8], ids: Ids) -> Result<(i64, String), Invalid> {
    read_body(body, |f| (f.int(ids.field()), f.string("action")))
}

/// Reads a query string naming only the session, or the 422 answer ([`Invalid`]).
pub(crate) fn read_id(raw: Option<String>, ids: Ids) -> Result<(i64, ()), Invalid> {
    read_query(raw.as_deref(), |f| (f.int(ids.field()), ()))
}

/// Runs `f` on the session a request names (`(id, rest)`, as [`read_body`] or [`read_query`]
/// read it) and answers its value or error text; a 422 passes through.
pub(crate) async fn on_session<D, S, T, F>(
    app: &Shared<D, S>,
    request: Result<(i64, T), Invalid>,
    f: F,
) -> Response
where
    D: Send + Sync + 'static,
    S: Default + Send + 'static,
    T: Send + 'static,
    F: FnOnce(&D, &mut S, i64, T) -> Result<Value, String> + Send + 'static,
{
    match request {
        Ok((id, rest)) => reply(
            app.with(id, move |data, session| f(data, session, id, rest))
                .await,
        ),
        Err(invalid) => invalid.into_response(),
    }
}

/// `POST /create` that takes no body and starts an empty session: `{"id": id}`.
pub(crate) async fn create_empty<D, S>(State(app): State<Shared<D, S>>) -> Response
where
    D: Send + Sync + 'static,
    S: Default + Send + 'static,
{
    reply(
        app.create(|_, _, _| Ok(()))
            .await
            .map(|(id, ())| json!({ "id": id })),
    )
}
