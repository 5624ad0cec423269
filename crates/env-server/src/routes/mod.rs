//! The routes of each env, as its reference server (`agentenv_<env>/server.py`) defines them,
//! plus `/close` everywhere and `GET /crossgym/stats`: here the routes all envs share and the
//! session contract ([`EnvSession`]); each env's module holds its session and handlers, and
//! [`table`] lists every env's routes.

pub mod alfworld;
pub mod babyai;
pub mod searchqa;
pub mod table;
pub mod textcraft;
pub mod webshop;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use serde_json::{Value, json};

use crate::ServerConfig;
use crate::app::{App, Shared, Stats, ok, reply};
pub(crate) use crate::app::{Ids, env_not_found, invalid_id};
pub(crate) use crate::body::Fields;
use crate::body::Invalid;

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

/// A router over one env's shared data `D` and sessions `S`.
pub(crate) type EnvRouter<D, S> = Router<Shared<D, S>>;

/// The state a handler of one env's routes extracts.
pub(crate) type EnvState<D, S> = State<Shared<D, S>>;

/// What a route answers: a JSON value, or the text of the reference's error shape.
pub(crate) type Answer = Result<Value, String>;

/// One client's session of an env, and what the env's routes do with it: `/step` and `/reset`
/// (which every env has, each with its own fields and answers) here, and the env's other
/// routes in [`env_routes`]' table.
pub(crate) trait EnvSession<D>: Default + Send + Sized + 'static {
    /// What `/reset` reads besides the session id.
    type ResetArgs: Send + 'static;

    /// Reads `/reset`'s fields besides the session id.
    fn reset_args(fields: &mut Fields) -> Self::ResetArgs;

    /// Refuses `/reset` arguments before the session is looked up (the error text), as some
    /// references check a field before the id.
    fn check_reset(_args: &Self::ResetArgs) -> Result<(), String> {
        Ok(())
    }

    /// `/reset`: starts an episode, answering the env's JSON or an error text.
    fn reset(&mut self, data: &D, id: i64, args: Self::ResetArgs) -> Answer;

    /// `/step`: plays `action`, answering the env's JSON or an error text.
    fn step(&mut self, data: &D, id: i64, action: String) -> Answer;
}

/// One env's router and its session counters: requests name sessions as `ids` says, `GET /`
/// answers `greeting`, `POST /close` closes the session named, `/step` and `/reset` go to the
/// session, and `routes` adds the env's other routes.
pub(crate) fn env_router<D: Send + Sync + 'static, S: EnvSession<D>>(
    data: D,
    config: &ServerConfig,
    (ids, greeting): (Ids, &'static str),
    routes: impl FnOnce(EnvRouter<D, S>) -> EnvRouter<D, S>,
) -> (Router, Arc<dyn Stats>) {
    let app: Shared<D, S> = App::new(
        Arc::new(data),
        config.max_sessions,
        config.idle_timeout,
        ids,
    );
    let close = move |State(app): EnvState<D, S>, body: Bytes| async move {
        match read_body(&body, |fields| fields.int(ids.field())) {
            Ok(id) => app.close(id),
            Err(invalid) => invalid.into_response(),
        }
    };
    let router = Router::new()
        .route("/", get(move || async move { ok(json!(greeting)) }))
        .route("/step", post(step::<D, S>))
        .route("/reset", post(reset::<D, S>));
    let router = routes(router)
        .route("/close", post(close))
        .with_state(Arc::clone(&app));
    (router, app)
}

/// What a `GET ?<id>=` route answers from the session the query names: a JSON value or an
/// error text.
pub(crate) type SessionView<D, S> = fn(&D, &S, i64) -> Answer;

/// A `GET ?<id>=` route answering `view` of the session the query names.
pub(crate) fn get_view<D: Send + Sync + 'static, S: EnvSession<D>>(
    view: SessionView<D, S>,
) -> MethodRouter<Shared<D, S>> {
    get(
        move |State(app): EnvState<D, S>, RawQuery(query): RawQuery| async move {
            let request = read_id(query, app.ids);
            on_session(&app, request, move |data, session, id, ()| {
                view(data, session, id)
            })
            .await
        },
    )
}

/// `POST /step`: the session id and `action`.
async fn step<D: Send + Sync + 'static, S: EnvSession<D>>(
    State(app): EnvState<D, S>,
    body: Bytes,
) -> Response {
    let request = read_action(&body, app.ids);
    on_session(&app, request, |data, session: &mut S, id, action| {
        session.step(data, id, action)
    })
    .await
}

/// `POST /reset`: the session id and the env's [`EnvSession::ResetArgs`].
async fn reset<D: Send + Sync + 'static, S: EnvSession<D>>(
    State(app): EnvState<D, S>,
    body: Bytes,
) -> Response {
    let request = read_body(&body, |f| (f.int(app.ids.field()), S::reset_args(f)));
    if let Ok((_, args)) = &request
        && let Err(message) = S::check_reset(args)
    {
        return crate::app::app_error(message);
    }
    on_session(&app, request, |data, session: &mut S, id, args| {
        session.reset(data, id, args)
    })
    .await
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
