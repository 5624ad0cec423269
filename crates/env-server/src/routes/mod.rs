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
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use crate::app::{Shared, Stats, ok, reply};

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

/// Reads a body, or answers 422.
macro_rules! body_fields {
    ($bytes:expr) => {
        match $crate::body::Fields::body(&$bytes) {
            Ok(fields) => fields,
            Err(invalid) => return axum::response::IntoResponse::into_response(invalid),
        }
    };
}

/// Reads a query string, or answers 422.
macro_rules! query_fields {
    ($raw:expr) => {
        match $crate::body::Fields::query($raw.as_deref()) {
            Ok(fields) => fields,
            Err(invalid) => return axum::response::IntoResponse::into_response(invalid),
        }
    };
}

/// Ends field reading: answers 422 when any field was invalid.
macro_rules! finish {
    ($fields:expr) => {
        if let Err(invalid) = $fields.finish() {
            return axum::response::IntoResponse::into_response(invalid);
        }
    };
}

pub(crate) use {body_fields, finish, query_fields};

/// The "no such session" text of the envs whose sessions are named by `id`.
pub(crate) fn invalid_id(id: i64) -> String {
    format!("The id {id} is not valid.")
}

/// The "no such session" text of the envs whose sessions are named by `env_idx`.
pub(crate) fn env_not_found(id: i64) -> String {
    format!("Env {id} not found")
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

/// `POST /close` of the envs whose sessions are named by `id`.
pub(crate) async fn close_id<D, S>(State(app): State<Shared<D, S>>, body: Bytes) -> Response
where
    D: Send + Sync + 'static,
    S: Default + Send + 'static,
{
    close_named(&app, &body, "id")
}

/// `POST /close` of the envs whose sessions are named by `env_idx`.
pub(crate) async fn close_env_idx<D, S>(State(app): State<Shared<D, S>>, body: Bytes) -> Response
where
    D: Send + Sync + 'static,
    S: Default + Send + 'static,
{
    close_named(&app, &body, "env_idx")
}

/// Closes the session the body's field `name` names.
fn close_named<D, S>(app: &Shared<D, S>, body: &Bytes, name: &str) -> Response
where
    D: Send + Sync + 'static,
    S: Default + Send + 'static,
{
    let mut fields = body_fields!(body);
    let id = fields.int(name);
    finish!(fields);
    app.close(id)
}
